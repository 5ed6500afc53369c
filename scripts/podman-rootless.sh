#!/usr/bin/env bash
# Starts a rootless Podman: a non-root user's `podman system service` on
# unix:///run/user/UID/podman/podman.sock, where the socket search of
# berth (internal/wire/discover.go) finds it as "rootless Podman" for that
# user. Run as root: installs Debian's podman, uidmap and slirp4netns when
# missing, creates the user (BERTH_PODMAN_USER, default berthpod) with
# subordinate ids, and copies busybox:1.36 from the Docker engine into the
# user's image store. Idempotent. Prints the user's XDG_RUNTIME_DIR last.
set -euo pipefail
user=${BERTH_PODMAN_USER:-berthpod}
[ "$(id -u)" = 0 ] || { echo "podman-rootless.sh: run as root (it creates a user and starts its service)" >&2; exit 1; }

need=()
command -v podman >/dev/null || need+=(podman)
command -v newuidmap >/dev/null || need+=(uidmap)
command -v slirp4netns >/dev/null || need+=(slirp4netns)
if [ ${#need[@]} -gt 0 ]; then
  echo "installing ${need[*]}" >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${need[@]}" >/dev/null ||
    { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${need[@]}" >/dev/null; }
fi

id "$user" >/dev/null 2>&1 || useradd -m -s /bin/bash "$user"
uid=$(id -u "$user")
home=$(getent passwd "$user" | cut -d: -f6)
# Subordinate ids for the user's namespace: 65536 after every range given.
for f in /etc/subuid /etc/subgid; do
  touch "$f"
  if ! grep -q "^$user:" "$f"; then
    start=$(awk -F: 'BEGIN { m = 100000 } $2 + $3 > m { m = $2 + $3 } END { print m }' "$f")
    echo "$user:$start:65536" >> "$f"
  fi
done

run=/run/user/$uid
sock=$run/podman/podman.sock
install -d -m 0700 -o "$user" -g "$user" "$run" "$run/podman"
as_user() { (cd / && runuser -u "$user" -- env HOME="$home" XDG_RUNTIME_DIR="$run" "$@"); }

ping() { curl -sf --max-time 2 --unix-socket "$sock" http://podman/_ping >/dev/null 2>&1; }
if ! ping; then
  # Like scripts/podman.sh: the sandbox lacks CAP_SYS_RESOURCE, so the
  # default ulimits must not exceed the hard limits; no systemd here.
  NOFILE=$(ulimit -Hn); [ "$NOFILE" = unlimited ] && NOFILE=1048576
  NPROC=$(ulimit -Hu); PIDMAX=$(cat /proc/sys/kernel/pid_max)
  { [ "$NPROC" = unlimited ] || [ "$NPROC" -gt "$PIDMAX" ]; } && NPROC=$PIDMAX
  as_user mkdir -p "$home/.config/containers"
  printf '[containers]\ndefault_ulimits = ["nofile=%s:%s", "nproc=%s:%s"]\n[engine]\ncgroup_manager = "cgroupfs"\nevents_logger = "file"\n' \
    "$NOFILE" "$NOFILE" "$NPROC" "$NPROC" | as_user tee "$home/.config/containers/containers.conf" >/dev/null
  log=/var/log/berth-podman-rootless.log
  : > "$log"
  chown "$user" "$log"
  # The redirections are on the whole background list: the subshell that
  # waits for runuser must not hold this script's stdout either, or a
  # caller's $(...) waits for the service to end (it never does).
  (cd / && exec setsid runuser -u "$user" -- env HOME="$home" XDG_RUNTIME_DIR="$run" \
    podman system service --time=0 "unix://$sock") >> "$log" 2>&1 < /dev/null &
  for _ in $(seq 1 60); do ping && break; sleep 0.5; done
  ping || { echo "rootless podman API did not answer at $sock; see $log:" >&2; tail -20 "$log" >&2; exit 1; }
fi

# As in scripts/podman.sh: netavark 1.4 does not pin a bridge's MAC, so it
# changes when a container leaves or joins, and names stop resolving until
# ARP entries expire; arp_notify announces the new MAC at once. The
# user's bridges live in Podman's rootless network namespace: a new one
# inherits IPv4 defaults from the host's (devconf_inherit_init_net=0), one
# that exists already is set through `podman unshare --rootless-netns`.
sysctl -qw net.ipv4.conf.default.arp_notify=1
as_user podman unshare --rootless-netns sh -c \
  'echo 1 > /proc/sys/net/ipv4/conf/default/arp_notify; for f in /proc/sys/net/ipv4/conf/podman*/arp_notify; do [ -e "$f" ] && echo 1 > "$f"; done; true' \
  2>/dev/null || true

# busybox from the Docker engine (the fixture), under its docker.io name
# too so references resolve as on dockerd.
img=busybox:1.36
want=$(docker image inspect -f '{{.Id}}' "$img" | sed 's/^sha256://')
have=$(as_user podman image inspect -f '{{.Id}}' "docker.io/library/$img" 2>/dev/null || true)
if [ "$want" != "$have" ]; then
  docker save "$img" | as_user podman load -q >/dev/null
  as_user podman tag "localhost/$img" "docker.io/library/$img"
fi
echo "$run"
