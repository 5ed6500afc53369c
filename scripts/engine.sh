#!/usr/bin/env bash
# Makes sure a Docker engine answers at DOCKER_HOST (default
# unix:///var/run/docker.sock). When none does and we are root with apt, it
# installs Debian's docker.io and starts dockerd in the background.
# Idempotent: with an engine up it only prints its version.
set -euo pipefail
HOST=${DOCKER_HOST:-unix:///var/run/docker.sock}

ping() {
  case "$HOST" in
    unix://*) curl -sf --max-time 2 --unix-socket "${HOST#unix://}" http://docker/_ping >/dev/null 2>&1 ;;
    tcp://*)  curl -sf --max-time 2 "http://${HOST#tcp://}/_ping" >/dev/null 2>&1 ;;
    *) return 1 ;;
  esac
}

version() {
  case "$HOST" in
    unix://*) curl -s --unix-socket "${HOST#unix://}" http://docker/version ;;
    tcp://*)  curl -s "http://${HOST#tcp://}/version" ;;
  esac | sed -n 's/.*"Version":"\([^"]*\)".*"ApiVersion":"\([^"]*\)".*/engine \1, API \2/p'
}

# Tools the suite's remote-engine tests use (sshd, ip); cheap when present.
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  missing=()
  command -v sshd >/dev/null || [ -x /usr/sbin/sshd ] || missing+=(openssh-server)
  command -v ip >/dev/null || missing+=(iproute2)
  command -v ssh-keygen >/dev/null || missing+=(openssh-client)
  if [ ${#missing[@]} -gt 0 ]; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null 2>&1 ||
      { apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null; }
  fi
fi

if ping; then
  echo "engine up at $HOST: $(version)"
  exit 0
fi

if [ "$HOST" != unix:///var/run/docker.sock ]; then
  echo "no engine answers at $HOST (DOCKER_HOST): start it, or unset DOCKER_HOST to use a local one" >&2
  exit 1
fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
  echo "no engine answers at $HOST. Install and start Docker Engine (https://docs.docker.com/engine/install/)," >&2
  echo "or run this as root on Debian/Ubuntu so it can install docker.io itself." >&2
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive
if ! command -v dockerd >/dev/null; then
  echo "installing docker.io (Debian's Docker Engine)..."
  apt-get update -qq >/dev/null || apt-get update
  apt-get install -y -qq docker.io >/dev/null
fi

echo "starting dockerd..."
setsid dockerd --host unix:///var/run/docker.sock > /var/log/berth-dockerd.log 2>&1 < /dev/null &
for _ in $(seq 1 60); do
  if ping; then
    echo "engine up at $HOST: $(version)"
    exit 0
  fi
  sleep 1
done
echo "dockerd did not answer /_ping within 60 s; its log:" >&2
tail -20 /var/log/berth-dockerd.log >&2
exit 1
