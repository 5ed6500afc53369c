#!/usr/bin/env bash
# The whole suite: vet, gofmt, go test -race on every package against the
# real engine, a short slice of every fuzz target, a scan of all test output
# for the suite's test secrets, and a leftover check by label.
set -uo pipefail
cd "$(dirname "$0")/.."
logdir=${BERTH_LOG_DIR:-/tmp/berth-test-logs}
mkdir -p "$logdir"
fail=0
step() { printf '\n== %s (%s)\n' "$1" "$(date +%T)"; }

step "go vet"
go vet ./... || fail=1

step "gofmt"
unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))
if [ -n "$unformatted" ]; then echo "gofmt would change: $unformatted"; fail=1; fi

step "go test -race"
go test -race -count=1 -timeout 14m -v ${BERTH_TEST_FLAGS:-} ./... > "$logdir/test.log" 2>&1
rc=$?
grep -E '^(ok|FAIL|---|panic:|\?)' "$logdir/test.log" | grep -vE '^--- (PASS|SKIP)' | grep -v '^?' || true
if [ $rc -ne 0 ]; then
  echo "go test failed (rc $rc); failures:"
  grep -B2 -A25 -E '^\s*--- FAIL' "$logdir/test.log" | head -300
  fail=1
fi

step "engine restart under a running test (alone: it disrupts every user of the engine)"
BERTH_DAEMON_RESTART=1 go test -count=1 -run '^TestDaemonRestart$' -v . > "$logdir/restart.log" 2>&1 ||
  { echo "restart test failed:"; grep -vE '^\s+/' "$logdir/restart.log" | tail -30; fail=1; }
grep -E '^(--- |ok|FAIL)' "$logdir/restart.log" || true

step "fuzz slice (${BERTH_FUZZTIME:-3s} each)"
while read -r file name; do
  pkg=./$(dirname "$file")
  go test -run '^$' -fuzz "^${name}\$" -fuzztime "${BERTH_FUZZTIME:-3s}" "$pkg" > "$logdir/fuzz-$name.log" 2>&1 ||
    { echo "fuzz $name in $pkg failed:"; tail -30 "$logdir/fuzz-$name.log"; fail=1; }
  echo "fuzz $name ($pkg): ok"
done < <(grep -rhoE --include='*_test.go' '^func Fuzz[A-Za-z0-9_]+' . -H 2>/dev/null | grep -v '^./bench/' | sed -E 's/^(.*):func (Fuzz[A-Za-z0-9_]+)$/\1 \2/' | sort -u)

step "secrets in test output"
if [ -s scripts/test-secrets.txt ] && grep -F -f <(grep -v '^#' scripts/test-secrets.txt | sed '/^$/d') "$logdir"/*.log > "$logdir/secrets.found"; then
  echo "test secrets appear in test output:"; cut -c1-200 "$logdir/secrets.found" | head -20
  fail=1
else
  echo "none found in $(cat "$logdir"/*.log | wc -l) lines"
fi

step "leftovers"
# Resources of test processes that have ended. A resource whose berth.pid
# process still runs belongs to another suite running right now.
left=""
for kind in container network volume; do
  case $kind in
    container) ids=$(docker ps -aq --filter label=berth.session) ;;
    network)   ids=$(docker network ls -q --filter label=berth.session) ;;
    volume)    ids=$(docker volume ls -q --filter label=berth.session) ;;
  esac
  for id in $ids; do
    pid=$(docker $kind inspect -f '{{index .Labels "berth.pid"}}' "$id" 2>/dev/null || docker $kind inspect -f '{{index .Config.Labels "berth.pid"}}' "$id" 2>/dev/null || true)
    if [ -n "$pid" ] && [ "$pid" != "<no value>" ] && kill -0 "$pid" 2>/dev/null; then
      continue
    fi
    test=$(docker $kind inspect -f '{{index .Config.Labels "berth.test"}}' "$id" 2>/dev/null || docker $kind inspect -f '{{index .Labels "berth.test"}}' "$id" 2>/dev/null || true)
    left+="$kind $id ($test)"$'\n'
  done
done
if [ -n "$left" ]; then
  echo "resources labelled berth.session were left on the engine by ended tests:"
  printf '%s' "$left"
  fail=1
else
  echo "none"
fi
exit $fail
