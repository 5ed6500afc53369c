#!/usr/bin/env bash
# Mutation testing (make mutation): gremlins changes the code of the
# packages whose tests need no engine (or a fake one), one mutant at a
# time, and runs their tests; a mutant the tests do not notice "lives".
# Efficacy is killed / (killed + lived); each package must reach
# BERTH_MUTATION_EFFICACY (default 90) percent.
#
# The tests that need an engine carry the build tag !mutation and are left
# out: a mutant costs one `go test` of its package.
#
#   scripts/mutation.sh                 every package below
#   scripts/mutation.sh wait registry   some of them
#   scripts/mutation.sh --slice         the slice make test runs (1-2 min)
#
# Each package lists the files gremlins may change; the others (engine API
# wrappers, the BuildKit backend, the engine-bound postgres module) are
# proven against the real engine by the ordinary tests instead.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
export PATH="$PATH:$(go env GOPATH)/bin"

gremlins_version=v0.6.0
if ! go version -m "$(command -v gremlins 2>/dev/null || echo /nonexistent)" 2>/dev/null |
  grep -qE "mod[[:space:]]+github.com/go-gremlins/gremlins[[:space:]]+$gremlins_version[[:space:]]"; then
  echo "installing gremlins $gremlins_version"
  go install "github.com/go-gremlins/gremlins/cmd/gremlins@$gremlins_version" || exit 1
fi

# package -> extended regexp of the files it may mutate, relative to the
# package directory (as gremlins matches its -E patterns)
declare -A files=(
  [registry]='^(reference|keychain|config|authconfig|helper)\.go$'
  [build]='^(context|dockerignore)\.go$'
  [internal/wire]='^(client|endpoint|errors|hijack|stdcopy|stream|discover)\.go$'
  [wait]='^[a-z_]+\.go$'
  [modules/postgres]='^wire\.go$'
)
order=(registry build internal/wire wait modules/postgres)
# The slice for make test: the log-line reader and the stream decoders,
# the code whose bounds keep memory in check.
declare -A slice=(
  [wait]='^lines\.go$'
  [internal/wire]='^stdcopy\.go$'
)
slice_order=(wait internal/wire)

threshold=${BERTH_MUTATION_EFFICACY:-90}
# gremlins bounds each mutant's `go test` (build and run) by the time of
# its first, coverage run times the coefficient: a cached first run would
# make that bound shorter than one build.
export GOFLAGS="$(go env GOFLAGS) -count=1"
logdir=${BERTH_LOG_DIR:-/tmp/berth-test-logs}
mkdir -p "$logdir"

if [ "${1:-}" = --slice ]; then
  shift
  pkgs=("${slice_order[@]}")
  for p in "${pkgs[@]}"; do files[$p]=${slice[$p]}; done
elif [ $# -gt 0 ]; then
  pkgs=("$@")
else
  pkgs=("${order[@]}")
fi

fail=0
report=()
for pkg in "${pkgs[@]}"; do
  keep=${files[$pkg]:-}
  if [ -z "$keep" ]; then
    echo "unknown package $pkg (known: ${order[*]})"
    exit 2
  fi
  # gremlins takes files to leave out: every non-test file of the package
  # tree that the pattern does not keep.
  excludes=()
  while IFS= read -r f; do
    f=${f#"$pkg"/}
    [[ $f =~ $keep ]] || excludes+=(-E "^$(printf '%s' "$f" | sed 's/[.]/\\./g')\$")
  done < <(find "$pkg" -name '*.go' ! -name '*_test.go' ! -path '*/testdata/*' | sort)
  out="$logdir/mutation-$(echo "$pkg" | tr / -).log"
  echo "== $pkg (${keep})"
  start=$(date +%s)
  gremlins unleash ${BERTH_MUTATION_FLAGS:-} --tags mutation --threshold-efficacy "$threshold" \
    --timeout-coefficient 4 "${excludes[@]}" "./$pkg" > "$out" 2>&1
  rc=$?
  grep -E '^ +LIVED|^ +TIMED OUT|Killed:|Mutator coverage|Test efficacy|ERROR' "$out"
  efficacy=$(grep -oE 'Test efficacy: [0-9.]+%' "$out" | grep -oE '[0-9.]+%')
  report+=("$(printf '%-18s %8s  %4ss' "$pkg" "${efficacy:-?}" "$(($(date +%s) - start))")")
  [ $rc -eq 0 ] || fail=1
  # gremlins v0.6.0 may exit 0 below --threshold-efficacy: check it here.
  if [ -z "$efficacy" ] || awk -v e="${efficacy%\%}" -v t="$threshold" 'BEGIN { exit !(e < t) }'; then
    echo "$pkg: efficacy ${efficacy:-unknown} is below ${threshold}%"
    fail=1
  fi
done
printf '\n== efficacy (killed / killed+lived; threshold %s%%)\n' "$threshold"
printf '%s\n' "${report[@]}"
exit $fail
