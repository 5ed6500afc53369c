#!/usr/bin/env bash
# A slice of the core suite against rootless Podman, for .ci/run (make
# test-podman-slice): it keeps "works on Podman" checked on every CI run
# within about a minute and a half. As root, on a fresh machine too:
# scripts/podman-rootless.sh installs Debian's podman and starts a non-root
# user's `podman system service`; then
#   - TestRootlessPodmanFoundBySearch: with nothing naming an engine, the
#     socket search finds that service as "rootless Podman" and a container
#     runs on it;
#   - containers (exec, copy, logs, attach, top, changes, rename, waits),
#     the wait strategies, networks with aliases and internal networks, with DOCKER_HOST at the
#     rootless socket, busybox only (Podman's vfs store copies each image per
#     container when rootless);
#   - no resource labelled berth.session left on Podman.
# Left out, as rootless Podman on cgroup v1 cannot do them: pause, stats,
# live updates, memory limits (no cgroup of its own). make test-podman runs
# the whole core suite against a rootful Podman.
# BERTH_PODMAN_SLICE=0 turns the slice off, saying so; anything else that
# stops it (podman cannot be installed or started) is a failure that says why.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
if [ "${BERTH_PODMAN_SLICE:-1}" = 0 ]; then
  echo "podman slice: NOT RUN (BERTH_PODMAN_SLICE=0): Podman is unchecked on this run"
  exit 0
fi
user=${BERTH_PODMAN_USER:-berthpod}
run=$(BERTH_PODMAN_USER=$user bash scripts/podman-rootless.sh) || {
  echo "podman slice: FAILED before any test: rootless Podman could not be installed or started (above)."
  echo "  Set BERTH_PODMAN_SLICE=0 to run CI without the Podman check on a machine that cannot have it."
  exit 1
}
sock=unix://$run/podman/podman.sock
echo "rootless Podman of $user at $sock"
fail=0

BERTH_ROOTLESS_PODMAN=$user go test -race -count=1 -timeout 3m -run '^TestRootlessPodmanFoundBySearch$' -v . 2>&1 |
  grep -E '^(=== RUN|--- |ok|FAIL|panic)|Error|expected|actual' || true
[ "${PIPESTATUS[0]}" = 0 ] || fail=1

core='^(TestContainerExecCopyLogs|TestFollowLogsEndsOnStop|TestBadInputIsTypedAndLeavesNothing|TestFailedStartRemovesContainer|TestSessionForTestMainUse|TestFailureDiagnostics'
core+='|TestAttachStdinKeepsStreamsApart|TestCopyToKeepsNamesAndModes|TestExecOfACommandTheImageLacks|TestTop|TestChanges|TestStatPath|TestRename|TestWaitNotRunning|TestWaitNextExit|TestMissingCommandSaysWhatToDo|TestFollowAndAttachEndCleanlyWhenTheContainerExits'
core+='|TestForLogLineAfterTwoSeconds|TestExitBeforeLogLineFailsFast|TestForListeningPortWaitsForTheProcess|TestStrategiesWaitForTheirCondition|TestForExit|TestForExecExitCode|TestForFile|TestForHealthyRunsTheCheckItself'
core+='|TestAliasDisconnectConnect|TestInternalNetwork)$'
logdir=${BERTH_LOG_DIR:-/tmp/berth-test-logs}
mkdir -p "$logdir"
DOCKER_HOST=$sock go test -race -count=1 -timeout 4m -run "$core" -v . ./container/ ./wait/ ./network/ > "$logdir/podman-slice.log" 2>&1
rc=$?
grep -E '^(ok|FAIL|panic)' "$logdir/podman-slice.log"
echo "$(grep -c '^--- PASS' "$logdir/podman-slice.log") tests passed on rootless Podman, $(grep -c '^--- FAIL' "$logdir/podman-slice.log") failed (log: $logdir/podman-slice.log)"
if [ $rc -ne 0 ]; then
  awk -f scripts/failures.awk "$logdir/podman-slice.log" | head -120
  fail=1
fi

DOCKER_HOST=$sock bash scripts/leftovers.sh || fail=1
if [ $fail = 0 ]; then echo "podman slice: PASS"; else echo "podman slice: FAIL"; fi
exit $fail
