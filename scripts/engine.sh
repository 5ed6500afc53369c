#!/usr/bin/env bash
# Makes sure a Docker engine answers GET /_ping at DOCKER_HOST (default
# unix:///var/run/docker.sock), and that the host tools the fixtures and the
# suite use are there (debootstrap, busybox-static, apache2-utils, sshd, ip).
#
# When no engine answers at the default socket and we are root with apt, it
# installs Debian's docker.io (Engine 20.10) if dockerd is missing, starts
# dockerd detached (log: /var/log/berth-dockerd.log) and waits up to 60 s for
# /_ping. Not root or no apt: it prints what to run and fails. Idempotent: with
# an engine up and the tools there it only prints the engine's version.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

SOCK=/var/run/docker.sock
PIDFILE=/var/run/docker.pid
LOG=/var/log/berth-dockerd.log
WAIT=60
HOST=${DOCKER_HOST:-unix://$SOCK}
t0=$(date +%s.%N)

# Without DOCKER_HOST, a DOCKER_CONTEXT names the engine: only the CLI can
# follow it.
by_cli="" where=$HOST from=DOCKER_HOST
if [ -z "${DOCKER_HOST:-}" ] && [ -n "${DOCKER_CONTEXT:-}" ] && [ "$DOCKER_CONTEXT" != default ]; then
  by_cli=1 where="context $DOCKER_CONTEXT" from=DOCKER_CONTEXT
fi

api() { # PATH: GET it from the engine, fail when it does not answer 2xx.
  case "$HOST" in
    unix://*)
      curl -sf --max-time 3 --unix-socket "${HOST#unix://}" "http://localhost$1" ;;
    tcp://*)
      if [ -n "${DOCKER_TLS_VERIFY:-}" ]; then
        local certs=${DOCKER_CERT_PATH:-$HOME/.docker}
        curl -sf --max-time 3 --cacert "$certs/ca.pem" --cert "$certs/cert.pem" --key "$certs/key.pem" \
          "https://${HOST#tcp://}$1"
      else
        curl -sf --max-time 3 "http://${HOST#tcp://}$1"
      fi ;;
    *) return 1 ;;
  esac
}

ping() {
  if [ -n "$by_cli" ] || ! [[ "$HOST" =~ ^(unix|tcp):// ]]; then
    "$DOCKER" version >/dev/null 2>&1
  else
    api /_ping >/dev/null 2>&1
  fi
}

say_up() {
  local v=""
  if [ -z "$by_cli" ] && [[ "$HOST" =~ ^(unix|tcp):// ]]; then
    v=$(api /version 2>/dev/null |
      sed -n 's/.*"Version":"\([^"]*\)","ApiVersion":"\([^"]*\)".*/: engine \1, API \2/p' || true)
  else
    v=$("$DOCKER" version --format ': engine {{.Server.Version}}, API {{.Server.APIVersion}}' 2>/dev/null || true)
  fi
  echo "engine up at $where$v ($(elapsed "$t0") s)"
}

# The pid of a dockerd that owns the pid file, if one runs (a zombie does
# not).
running_dockerd() {
  local pid
  pid=$(cat "$PIDFILE" 2>/dev/null) || return 1
  [ -n "$pid" ] && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = dockerd ] &&
    ! grep -q '^State:[[:space:]]*Z' "/proc/$pid/status" 2>/dev/null && echo "$pid"
}

# Host tools: debootstrap builds the fixtures, a static busybox serves
# FROM-scratch test images, htpasswd makes registry passwords,
# sshd/ssh-keygen/ip serve the remote-engine tests. curl is how this
# script talks to the engine. One apt run installs all that
# is missing; docker.io joins it when the engine is down and dockerd missing.
tools=(curl debootstrap busybox-static apache2-utils openssh-server openssh-client iproute2)
have curl || apt_ensure curl || exit 1

if ping; then
  apt_ensure "${tools[@]}" || echo "warning: some host tools are missing (above); the fixtures or some tests need them" >&2
  say_up
  exit 0
fi

if [ "$HOST" != "unix://$SOCK" ] || [ -n "$by_cli" ]; then
  echo "no engine answers at $where (from $from)." >&2
  echo "Start that engine, or unset $from to use the local one at unix://$SOCK, which this script can start." >&2
  exit 1
fi

if [ -S "$SOCK" ] && [ ! -w "$SOCK" ] && [ "$(id -u)" != 0 ]; then
  echo "$SOCK exists but user $(id -un) may not use it. Either:" >&2
  echo "  sudo usermod -aG docker $(id -un)   # then log in again" >&2
  echo "  or run this as root: sudo make engine" >&2
  exit 1
fi

if ! is_root_with_apt; then
  echo "no Docker engine answers at unix://$SOCK, and this script can only start one as root with apt-get." >&2
  echo "Do it yourself, as root:" >&2
  have docker.io || echo "  apt-get update && apt-get install -y docker.io    # or Docker's own docker-ce packages" >&2
  echo "  dockerd --host unix://$SOCK > $LOG 2>&1 &      # or: systemctl start docker" >&2
  echo "then run this again (make engine)." >&2
  exit 1
fi

if have docker.io; then
  apt_ensure "${tools[@]}" || echo "warning: some host tools are missing (above); the fixtures or some tests need them" >&2
else
  apt_ensure docker.io "${tools[@]}"
fi
PATH=$PATH:/usr/sbin:/sbin

# A machine booted with systemd runs dockerd as a service (the docker.io
# package may have started it already).
if [ -d /run/systemd/system ] && command -v systemctl >/dev/null; then
  systemctl start docker >/dev/null 2>&1 || true
fi

started=""
waiting_for=""
while :; do
  if ping; then
    say_up
    exit 0
  fi
  if [ -n "$started" ]; then
    if ! kill -0 "$started" 2>/dev/null; then
      echo "dockerd exited before answering /_ping; the end of $LOG:" >&2
      tail -30 "$LOG" >&2
      exit 1
    fi
  elif pid=$(running_dockerd); then
    # Starting or stopping: a second dockerd would fail on the pid file.
    [ "$waiting_for" = "$pid" ] || echo "a dockerd (pid $pid) runs but does not answer yet; waiting for it"
    waiting_for=$pid
  else
    # A pid file naming some other process stops dockerd from starting.
    [ -f "$PIDFILE" ] && rm -f "$PIDFILE"
    echo "starting dockerd (log: $LOG)..."
    echo "== $(date -u +%FT%TZ) started by scripts/engine.sh" >> "$LOG"
    setsid dockerd --host "unix://$SOCK" >> "$LOG" 2>&1 < /dev/null &
    started=$!
  fi
  if awk -v s="$t0" -v e="$(date +%s.%N)" -v w="$WAIT" 'BEGIN { exit !(e - s >= w) }'; then
    echo "no answer to /_ping at unix://$SOCK within $WAIT s; the end of $LOG:" >&2
    tail -30 "$LOG" >&2
    exit 1
  fi
  sleep 0.25
done
