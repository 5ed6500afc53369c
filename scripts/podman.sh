#!/usr/bin/env bash
# Starts Podman's Docker-compatible API at unix:///run/podman/podman.sock
# (installing Debian's podman when missing) and loads the fixture images
# from the Docker engine into it. Idempotent.
set -euo pipefail
SOCK=/run/podman/podman.sock

if ! command -v podman >/dev/null; then
  [ "$(id -u)" = 0 ] || { echo "podman is missing: apt-get install -y podman (as root)"; exit 1; }
  apt-get install -y podman >/dev/null
fi

if ! curl -sf --unix-socket "$SOCK" http://podman/_ping >/dev/null 2>&1; then
  mkdir -p /etc/containers /run/podman
  # The sandbox lacks CAP_SYS_RESOURCE: Podman's default rlimits must not
  # exceed the hard limits or every start fails.
  NOFILE=$(ulimit -Hn); [ "$NOFILE" = unlimited ] && NOFILE=1048576
  NPROC=$(ulimit -Hu); PIDMAX=$(cat /proc/sys/kernel/pid_max)
  { [ "$NPROC" = unlimited ] || [ "$NPROC" -gt "$PIDMAX" ]; } && NPROC=$PIDMAX
  printf '[containers]\ndefault_ulimits = ["nofile=%s:%s", "nproc=%s:%s"]\n[engine]\ncgroup_manager = "cgroupfs"\nevents_logger = "file"\n' \
    "$NOFILE" "$NOFILE" "$NPROC" "$NPROC" > /etc/containers/containers.conf
  setsid podman system service --time=0 "unix://$SOCK" > /var/log/berth-podman.log 2>&1 < /dev/null &
  for _ in $(seq 1 30); do
    curl -sf --unix-socket "$SOCK" http://podman/_ping >/dev/null 2>&1 && break
    sleep 1
  done
  curl -sf --unix-socket "$SOCK" http://podman/_ping >/dev/null || { echo "podman API did not answer; see /var/log/berth-podman.log"; exit 1; }
fi

# dockerd sets the FORWARD policy to DROP (and bridged traffic passes
# iptables); netavark adds no ACCEPT rule for an --internal network, so its
# containers could not reach each other. Accept traffic that stays inside one
# podman bridge; routed traffic still meets the isolation rules.
if command -v iptables >/dev/null && iptables -S FORWARD 2>/dev/null | grep -qx -- '-P FORWARD DROP'; then
  rule=(FORWARD -i 'podman+' -o 'podman+' -m physdev --physdev-is-bridged -j ACCEPT)
  iptables -C "${rule[@]}" 2>/dev/null || iptables -I "${rule[@]}"
fi

# A bridge takes the lowest MAC of its ports, so its MAC changes when a
# container leaves or joins the network. dockerd pins it; netavark 1.4 does
# not, and the other containers keep sending to their gateway's old MAC
# (where aardvark-dns answers) until their ARP entry expires: names stop
# resolving for up to a minute. arp_notify makes the host announce the new
# MAC at once.
sysctl -qw net.ipv4.conf.default.arp_notify=1
for f in /proc/sys/net/ipv4/conf/podman*/arp_notify; do
  if [ -e "$f" ]; then echo 1 > "$f"; fi
done

# Fixture images: copy from the Docker engine when Podman lacks them or has
# another ID. `docker save` names load as localhost/NAME:TAG; tag the
# docker.io names too so references resolve like on dockerd.
for img in busybox:1.36 postgres:15-bookworm redis:7-bookworm registry:2.8 \
  mariadb:10.11 rabbitmq:3.10 nats:2.9 memcached:1.6; do
  want=$(docker image inspect -f '{{.Id}}' "$img" 2>/dev/null | sed 's/^sha256://') || continue
  have=$(podman image inspect -f '{{.Id}}' "docker.io/library/$img" 2>/dev/null || true)
  if [ "$want" != "$have" ]; then
    docker save "$img" | podman load -q >/dev/null
    podman tag "localhost/$img" "docker.io/library/$img"
  fi
done
echo "podman API at unix://$SOCK"
