#!/usr/bin/env bash
# The whole suite (make test), against the real engine, with the fixture
# images built:
#   go vet, staticcheck, a slice of the mutation tests (scripts/mutation.sh),
#   gofmt, the set-up scripts' own tests (engine.sh cold paths,
#   fixture images vs the official behaviour), go test -race of every
#   package, the engine-restart test (alone: it restarts the engine), a short
#   slice of every fuzz target, a scan of all output for the suite's test
#   secrets, and a check that no resource labelled berth.session is left.
# Every step runs even when one fails; the exit status says whether all
# passed. Full logs: $BERTH_LOG_DIR (default /tmp/berth-test-logs).
# BERTH_TEST_FLAGS adds go test flags, BERTH_FUZZTIME sets the fuzz slice.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
. scripts/lib.sh
logdir=${BERTH_LOG_DIR:-/tmp/berth-test-logs}
mkdir -p "$logdir"
rm -f "$logdir"/*.log "$logdir/failures.txt"
fail=0
summary=()
t_all=$(date +%s.%N)
step_start=""
step_name=""
step() {
  step_end
  step_name=$1
  step_start=$(date +%s.%N)
  printf '\n== %s (%s)\n' "$1" "$(date +%T)"
}
step_end() {
  [ -n "$step_name" ] && summary+=("$(printf '%6s s  %s' "$(elapsed "$step_start")" "$step_name")")
  step_name=""
}

step "go vet"
go vet ./... || fail=1

step "staticcheck"
staticcheck_version=v0.8.2
staticcheck=$(go env GOPATH)/bin/staticcheck
if ! go version -m "$staticcheck" 2>/dev/null |
  grep -qE "mod[[:space:]]+honnef.co/go/tools[[:space:]]+$staticcheck_version[[:space:]]"; then
  echo "installing staticcheck $staticcheck_version"
  go install "honnef.co/go/tools/cmd/staticcheck@$staticcheck_version" || fail=1
fi
"$staticcheck" ./... && echo clean || fail=1

step "mutation slice (the log-line reader and stdcopy; make mutation runs all)"
bash scripts/mutation.sh --slice || fail=1

step "gofmt"
if git rev-parse --git-dir > /dev/null 2>&1; then
  unformatted=$(git ls-files -z -- '*.go' | xargs -0 -r gofmt -l)
else
  unformatted=$(find . -name '*.go' -not -path '*/testdata/*' -print0 | xargs -0 -r gofmt -l)
fi
if [ -n "$unformatted" ]; then
  echo "gofmt would change:"
  echo "$unformatted"
  fail=1
else
  echo "clean"
fi

step "exported API names no internal type"
bash scripts/check-api.sh || fail=1

step "builds for linux, darwin and windows (arm64, arm64, amd64; make cross: all six)"
bash scripts/cross.sh --quick || fail=1

step "engine.sh cold paths (private namespaces, a throw-away dockerd)"
bash scripts/engine-selftest.sh > "$logdir/engine-selftest.log" 2>&1 ||
  { grep -E 'FAIL|^    \|' "$logdir/engine-selftest.log" | head -60; fail=1; }
tail -1 "$logdir/engine-selftest.log"

step "fixture images behave like the official ones"
bash scripts/check-fixtures.sh > "$logdir/check-fixtures.log" 2>&1 ||
  { grep -E 'FAIL|^    ' "$logdir/check-fixtures.log" | head -60; fail=1; }
tail -1 "$logdir/check-fixtures.log"

step "go test -race ./..."
# shellcheck disable=SC2086 # BERTH_TEST_FLAGS is a list of flags
go test -race -count=1 -timeout 14m -v ${BERTH_TEST_FLAGS:-} ./... > "$logdir/test.log" 2>&1
rc=$?
grep -E '^(ok|FAIL|panic:)' "$logdir/test.log" || true
if [ $rc -ne 0 ]; then
  echo "go test failed (rc $rc); what each failing test printed:"
  awk -f scripts/failures.awk "$logdir/test.log" > "$logdir/failures.txt"
  head -300 "$logdir/failures.txt"
  fail=1
fi

step "engine restart under a running test (alone: it disrupts every user of the engine)"
BERTH_DAEMON_RESTART=1 go test -count=1 -run '^TestDaemonRestart$' -v . > "$logdir/restart.log" 2>&1 ||
  { echo "restart test failed:"; grep -vE '^\s+/' "$logdir/restart.log" | tail -30; fail=1; }
grep -E '^(--- |ok|FAIL)' "$logdir/restart.log" || true

step "fuzz slice (${BERTH_FUZZTIME:-3s} each)"
bash scripts/fuzz.sh "${BERTH_FUZZTIME:-3s}" || fail=1

step "secrets in test output"
if [ -s scripts/test-secrets.txt ] &&
  grep -F -f <(grep -v '^#' scripts/test-secrets.txt | sed '/^$/d') "$logdir"/*.log > "$logdir/secrets.found"; then
  echo "test secrets appear in test output:"
  cut -c1-200 "$logdir/secrets.found" | head -20
  fail=1
else
  echo "none found in $(cat "$logdir"/*.log | wc -l) lines"
fi

step "leftovers"
bash scripts/leftovers.sh || fail=1
step_end

printf '\n== timings\n'
printf '%s\n' "${summary[@]}"
printf '%6s s  total\n' "$(elapsed "$t_all")"
if [ -s "$logdir/failures.txt" ]; then
  # Again at the end, where a reader of only the last lines looks.
  printf '\n== failing tests (full: %s)\n' "$logdir/failures.txt"
  grep -vE '^\s+(stdout|stderr) \| ' "$logdir/failures.txt" | head -60
fi
if [ $fail = 0 ]; then echo "make test: PASS"; else echo "make test: FAIL"; fi
exit $fail
