#!/usr/bin/env bash
# Tests scripts/engine.sh's cold paths without touching the engine other
# people use: each case runs in private mount, network and PID namespaces,
# with tmpfs over /run, /var/lib/docker and /var/log, so the real socket,
# pid file, data root and log are out of sight and a dockerd started here
# is a second, throw-away engine. Everything started inside dies with the
# namespace. Needs root and unshare(1).
#
# Cases: a cold start with dockerd installed; an engine already up (fast,
# no second dockerd); dockerd exiting at once; a dockerd that runs but does
# not answer yet (waited for, not doubled); a stale pid file; not root; a
# missing dockerd installed through apt-get (a stand-in that records its
# calls) with `apt-get update` only when the lists are missing or stale;
# an unreachable DOCKER_HOST.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

if [ -z "${BERTH_SELFTEST_INSIDE:-}" ]; then
  if [ "$(id -u)" != 0 ] || ! command -v unshare >/dev/null; then
    echo "engine-selftest: skipped (needs root and unshare)"
    exit 0
  fi
  t0=$(date +%s.%N)
  rc=0
  BERTH_SELFTEST_INSIDE=1 unshare --mount --net --pid --fork --mount-proc --propagation private \
    bash "$0" "$@" || rc=$?
  echo "engine-selftest: $([ $rc = 0 ] && echo ok || echo FAILED) ($(elapsed "$t0") s)"
  exit $rc
fi

# ---- inside the namespaces ----
unset DOCKER_HOST DOCKER_CONTEXT DOCKER_TLS_VERIFY DOCKER_CERT_PATH
for d in /run /var/lib/docker /var/log; do
  mkdir -p "$d"
  mount -t tmpfs berth-selftest "$d"
done
ip link set lo up
shim=$(mktemp -d /tmp/berth-engine-selftest.XXXXXX)
# The real dockerd under another name, for the case where it is "missing".
touch "$shim/real-dockerd"
mount --bind "$(command -v dockerd || echo /usr/sbin/dockerd)" "$shim/real-dockerd"
failures=0
out=""

finish() {
  stop_daemons
  umount "$shim/real-dockerd" 2>/dev/null || true
  rm -rf "$shim"
}
trap finish EXIT

ok() { echo "  ok: $1"; }
bad() {
  echo "  FAIL: $1"
  printf '%s\n' "$out" | tail -15 | sed 's/^/    | /'
  failures=$((failures + 1))
}
has() { [[ "$out" == *"$1"* ]]; }

# run_engine [ENV=VALUE...]: runs engine.sh, keeping its output and status.
run_engine() {
  local s
  s=$(date +%s.%N)
  rc=0
  out=$(env "$@" bash scripts/engine.sh 2>&1) || rc=$?
  took=$(elapsed "$s")
}

# Daemons of this PID namespace only: nothing outside is visible here.
stop_daemons() {
  local p comm left
  for sig in TERM KILL; do
    left=""
    for p in /proc/[0-9]*; do
      p=${p#/proc/}
      comm=$(cat "/proc/$p/comm" 2>/dev/null) || continue
      case "$comm" in
        dockerd|containerd|containerd-shim*) kill -s "$sig" "$p" 2>/dev/null && left+=" $p" ;;
      esac
    done
    [ -z "$left" ] && break
    for _ in $(seq 1 60); do
      local alive=""
      for p in $left; do [ -d "/proc/$p" ] && alive=1; done
      [ -z "$alive" ] && break
      sleep 0.25
    done
  done
  rm -f /run/docker.pid /run/docker.sock
}

pong() { curl -sf --max-time 2 --unix-socket /run/docker.sock http://localhost/_ping 2>/dev/null; }

echo "== cold start, dockerd installed"
run_engine
if [ $rc = 0 ] && has "starting dockerd" && has "engine up at unix:///var/run/docker.sock: engine " && [ "$(pong)" = OK ]; then
  ok "started and answered /_ping in $took s"
else
  bad "cold start (rc $rc)"
fi
if [ -s /var/log/berth-dockerd.log ]; then ok "dockerd log in /var/log/berth-dockerd.log"; else bad "no dockerd log"; fi

echo "== engine already up"
pid=$(cat /run/docker.pid 2>/dev/null || true)
run_engine
if [ $rc = 0 ] && ! has "starting" && [ "$(cat /run/docker.pid 2>/dev/null)" = "$pid" ] &&
  awk -v t="$took" 'BEGIN { exit !(t < 3) }'; then
  ok "idempotent: version only, same dockerd, $took s"
else
  bad "second run (rc $rc, $took s)"
fi
stop_daemons

echo "== dockerd exits at once"
mkdir -p "$shim/broken"
printf '#!/bin/sh\necho "failed to start daemon: selftest says no" >&2\nexit 1\n' > "$shim/broken/dockerd"
chmod +x "$shim/broken/dockerd"
run_engine PATH="$shim/broken:$PATH"
if [ $rc != 0 ] && has "dockerd exited before answering /_ping" && has "selftest says no" &&
  awk -v t="$took" 'BEGIN { exit !(t < 10) }'; then
  ok "fails fast ($took s) with the log's end"
else
  bad "broken dockerd (rc $rc, $took s)"
fi

echo "== a dockerd runs but does not answer yet"
# A process named dockerd owning the pid file, gone after 3 s, like an
# engine on its way down or up.
mkdir -p "$shim/slow"
cp "$(command -v sleep)" "$shim/slow/dockerd"
"$shim/slow/dockerd" 3 &
echo $! > /run/docker.pid
starts=$(grep -c 'started by scripts/engine.sh' /var/log/berth-dockerd.log)
run_engine
if [ $rc = 0 ] && has "does not answer yet; waiting" && has "starting dockerd" && [ "$(pong)" = OK ] &&
  [ "$(grep -c 'started by scripts/engine.sh' /var/log/berth-dockerd.log)" = $((starts + 1)) ]; then
  ok "waited for it to go, then started one ($took s)"
else
  bad "busy dockerd (rc $rc)"
fi
stop_daemons

echo "== stale pid file naming another process"
echo $$ > /run/docker.pid
run_engine
if [ $rc = 0 ] && has "starting dockerd" && [ "$(pong)" = OK ]; then
  ok "stale pid file removed, engine started ($took s)"
else
  bad "stale pid file (rc $rc)"
fi
stop_daemons

echo "== not root"
chmod 755 "$shim"
out=$(setpriv --reuid=65534 --regid=65534 --clear-groups bash scripts/engine.sh 2>&1) && rc=0 || rc=$?
if [ $rc != 0 ] && has "as root" && has "dockerd --host unix:///var/run/docker.sock" && ! [ -e /run/docker.pid ]; then
  ok "fails and says what to run"
else
  bad "not root (rc $rc)"
fi

echo "== dockerd missing: installed with apt-get"
mount --bind /dev/null /usr/sbin/dockerd
htpasswd_bin=$(command -v htpasswd || true)
[ -n "$htpasswd_bin" ] && mount --bind /dev/null "$htpasswd_bin"
mkdir -p "$shim/apt"
# A stand-in apt-get: records its calls; "installing" docker.io puts the
# real dockerd on PATH. FAIL_FIRST_INSTALL=1 fails the first install, like
# stale package lists.
cat > "$shim/apt/apt-get" <<EOF
#!/bin/bash
args=" \$* "
echo "\$*" | sed -E 's/-q |-o [^ ]+ //g' >> "$shim/apt.log"
if [[ \$args == *" install "* ]]; then
  if [ "\${FAIL_FIRST_INSTALL:-}" = 1 ] && ! [ -e "$shim/failed-once" ]; then
    touch "$shim/failed-once"
    echo "E: Unable to locate package docker.io" >&2
    exit 100
  fi
  [[ \$args == *" docker.io "* ]] && ln -sf "$shim/real-dockerd" "$shim/apt/dockerd"
fi
exit 0
EOF
chmod +x "$shim/apt/apt-get"

apt_case() { # NAME WANT-LOG [ENV...]
  local name=$1 want=$2
  shift 2
  rm -f "$shim/apt.log" "$shim/failed-once" "$shim/apt/dockerd"
  run_engine PATH="$shim/apt:$PATH" "$@"
  local got
  got=""
  [ -f "$shim/apt.log" ] && got=$(tr '\n' ';' < "$shim/apt.log")
  if [ $rc = 0 ] && [ "$got" = "$want" ] && has "installing docker.io apache2-utils" && [ "$(pong)" = OK ]; then
    ok "$name: apt-get calls '$got', engine up ($took s)"
  else
    bad "$name: rc $rc, apt-get calls '$got', want '$want'"
  fi
  stop_daemons
}
apt_case "lists present" "install -y docker.io apache2-utils;"
apt_case "lists stale" "install -y docker.io apache2-utils;update;install -y docker.io apache2-utils;" FAIL_FIRST_INSTALL=1
mount -t tmpfs berth-selftest /var/lib/apt/lists
apt_case "lists missing" "update;install -y docker.io apache2-utils;"
umount /var/lib/apt/lists
umount /usr/sbin/dockerd
[ -n "$htpasswd_bin" ] && umount "$htpasswd_bin"

echo "== unreachable DOCKER_HOST"
run_engine DOCKER_HOST=tcp://127.0.0.1:1
if [ $rc != 0 ] && has "no engine answers at tcp://127.0.0.1:1 (from DOCKER_HOST)" && has "unset DOCKER_HOST" && ! [ -e /run/docker.pid ]; then
  ok "fails, names DOCKER_HOST, starts nothing"
else
  bad "unreachable DOCKER_HOST (rc $rc)"
fi

echo "engine-selftest: $failures failed"
[ "$failures" = 0 ]
