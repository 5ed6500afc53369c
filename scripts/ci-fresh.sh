#!/usr/bin/env bash
# Runs .ci/run the way CI does on a fresh machine, on a machine where an
# engine is already up and in use: a clean clone of the committed HEAD, in
# private mount, network and PID namespaces where no engine, no image, no
# Go build or module cache exist (tmpfs over /run and /var/log, an empty
# /var/lib/docker), with outbound network through a veth pair and NAT (for
# debootstrap and the Go module proxy). The engine .ci/run starts there is
# a second, throw-away dockerd; the engine-restart test restarts that one.
# Everything started inside dies with the namespace. Needs root.
#   scripts/ci-fresh.sh        logs end up in /tmp/berth-ci-fresh-logs
set -euo pipefail

if [ "${1:-}" = inside ]; then
  work=$2 subnet=$3 vn=$4
  for _ in $(seq 1 100); do [ -e "$work/net-ready" ] && break; sleep 0.1; done
  ip link set lo up
  ip addr add "$subnet.2/30" dev "$vn"
  ip link set "$vn" up
  ip route add default via "$subnet.1"
  mount -t tmpfs berth-ci-fresh /run
  mkdir -p /run/lock
  mount -t tmpfs berth-ci-fresh /var/log
  mkdir -p /var/lib/docker
  mount --bind "$work/docker" /var/lib/docker
  unset DOCKER_HOST DOCKER_CONTEXT DOCKER_TLS_VERIFY DOCKER_CERT_PATH
  export GOCACHE=$work/gocache GOMODCACHE=$work/gomodcache BERTH_LOG_DIR=$work/logs
  cd "$work/repo"
  exec .ci/run
fi

[ "$(id -u)" = 0 ] || { echo "ci-fresh: needs root (namespaces, veth, iptables)" >&2; exit 1; }
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d /var/tmp/berth-ci-fresh.XXXXXX)
mkdir -p "$work/docker" "$work/gocache" "$work/gomodcache" "$work/logs"
git clone -q "$root" "$work/repo"
echo "ci-fresh: clean clone of $(git -C "$work/repo" log --oneline -1) in $work/repo"

# A /30 no interface here uses yet.
subnet=""
for i in $(seq 200 250); do
  if ! ip -4 addr | grep -q "inet 10\.213\.$i\."; then subnet=10.213.$i; break; fi
done
[ -n "$subnet" ] || { echo "ci-fresh: no free 10.213.x.0/30" >&2; exit 1; }
vh=bci$$h vn=bci$$n

rules_added=""
# shellcheck disable=SC2317 # run by the EXIT trap
cleanup() {
  if [ -n "$rules_added" ]; then
    iptables -t nat -D POSTROUTING -s "$subnet.0/30" ! -o "$vh" -j MASQUERADE 2>/dev/null || true
    iptables -D FORWARD -i "$vh" -j ACCEPT 2>/dev/null || true
    iptables -D FORWARD -o "$vh" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT 2>/dev/null || true
  fi
  ip link del "$vh" 2>/dev/null || true
  rm -rf /tmp/berth-ci-fresh-logs
  cp -a "$work/logs" /tmp/berth-ci-fresh-logs 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

unshare --mount --net --pid --fork --mount-proc --propagation private \
  bash "$0" inside "$work" "$subnet" "$vn" &
upid=$!
child=""
for _ in $(seq 1 50); do
  child=$(awk '{ print $1 }' "/proc/$upid/task/$upid/children" 2>/dev/null)
  [ -n "$child" ] && break
  sleep 0.1
done
[ -n "$child" ] || { echo "ci-fresh: namespace did not start" >&2; kill "$upid" 2>/dev/null; exit 1; }
ip link add "$vh" type veth peer name "$vn" netns "$child"
ip addr add "$subnet.1/30" dev "$vh"
ip link set "$vh" up
rules_added=1
iptables -t nat -A POSTROUTING -s "$subnet.0/30" ! -o "$vh" -j MASQUERADE
iptables -I FORWARD 1 -i "$vh" -j ACCEPT
iptables -I FORWARD 1 -o "$vh" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
touch "$work/net-ready"
rc=0
wait "$upid" || rc=$?
echo "ci-fresh: .ci/run exited $rc; logs in /tmp/berth-ci-fresh-logs"
exit $rc
