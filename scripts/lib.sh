# shellcheck shell=bash disable=SC2034
# Helpers shared by the set-up scripts. Sourced, not run.

# DOCKER is the CLI the scripts use. Debian's docker.io CLI (20.10) comes
# first: a newer client found earlier on PATH may want a buildx plugin that
# is not installed, and the scripts build classically with it.
if [ -x /usr/bin/docker ]; then
  DOCKER=/usr/bin/docker
else
  DOCKER=docker
fi

is_root_with_apt() {
  [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1
}

# found COMMAND: COMMAND is on PATH and executable (bash's command -v also
# names a file it could not execute).
found() {
  local p
  p=$(command -v "$1" 2>/dev/null) && [ -x "$p" ]
}

# have REQUIREMENT tells whether one host requirement is met. Requirements
# are checked by what the scripts and tests run, not by package name, so a
# machine that got the tools elsewhere is left alone.
have() {
  case "$1" in
    busybox-static)
      # Tests copy it into FROM scratch images: only a static binary runs there.
      [ -x /bin/busybox ] && [[ "$(LC_ALL=C ldd /bin/busybox 2>&1 || true)" == *"not a dynamic executable"* ]] ;;
    debootstrap)     found debootstrap || [ -x /usr/sbin/debootstrap ] ;;
    apache2-utils)   found htpasswd ;;
    openssh-server)  found sshd || [ -x /usr/sbin/sshd ] ;;
    openssh-client)  found ssh-keygen ;;
    iproute2)        found ip || [ -x /usr/sbin/ip ] || [ -x /sbin/ip ] ;;
    docker.io)       found dockerd || [ -x /usr/sbin/dockerd ] || [ -x /usr/bin/dockerd ] ;;
    curl)            found curl ;;
    *)               dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed' ;;
  esac
}

# apt_ensure PACKAGE... installs the Debian packages whose requirement is
# not met. It runs `apt-get update` only when the package lists are missing
# or an install failed with the lists there (stale lists). Not root or no
# apt: it prints the command the user must run and fails.
apt_ensure() {
  local missing=() p
  for p in "$@"; do
    have "$p" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if ! is_root_with_apt; then
    echo "missing: ${missing[*]}. Install them as root, then run this again:" >&2
    echo "  apt-get update && apt-get install -y ${missing[*]}" >&2
    return 1
  fi
  echo "installing ${missing[*]} (apt-get)..."
  local log
  log=$(mktemp /tmp/berth-apt.XXXXXX)
  if ! ls /var/lib/apt/lists/*_Packages* >/dev/null 2>&1; then
    apt_get update >"$log" 2>&1 || { cat "$log" >&2; rm -f "$log"; return 1; }
  fi
  if ! apt_get install -y "${missing[@]}" >>"$log" 2>&1; then
    if ! { apt_get update && apt_get install -y "${missing[@]}"; } >>"$log" 2>&1; then
      echo "apt-get install ${missing[*]} failed:" >&2
      tail -20 "$log" >&2
      rm -f "$log"
      return 1
    fi
  fi
  rm -f "$log"
}

# apt_get waits for a concurrent apt run instead of failing on its lock.
apt_get() {
  DEBIAN_FRONTEND=noninteractive apt-get -q -o DPkg::Lock::Timeout=300 "$@"
}

# elapsed START prints the seconds since START (from `date +%s.%N`) with one
# decimal.
elapsed() {
  awk -v s="$1" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }'
}
