#!/usr/bin/env bash
# Builds every image the tests use, idempotently: each image carries the
# label berth.fixture.recipe=<sha256 of its recipe>, and an image whose
# label matches is skipped. Nothing can be pulled on the CI machines, so
# the base rootfs comes from debootstrap and the mirror of this machine's
# own apt sources.
set -euo pipefail
cd "$(dirname "$0")/.."
# The Debian CLI (20.10) builds classically without the buildx plugin the
# newer docker client on PATH would want.
DOCKER=/usr/bin/docker
[ -x "$DOCKER" ] || DOCKER=docker
export DOCKER_BUILDKIT=0

need() { command -v "$1" >/dev/null || missing+=("$2"); }
missing=()
need debootstrap debootstrap
[ -x /bin/busybox ] && /bin/busybox --list 2>/dev/null | grep -qx httpd || missing+=(busybox-static)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null 2>&1 ||
      { apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null; }
  else
    echo "missing: ${missing[*]} (install them with apt-get)" >&2
    exit 1
  fi
fi

label() { $DOCKER image inspect -f '{{index .Config.Labels "berth.fixture.recipe"}}' "$1" 2>/dev/null || true; }
hashof() { cat "$@" | sha256sum | cut -c1-16; }

mirror() {
  local m=""
  if [ -f /etc/apt/sources.list.d/debian.sources ]; then
    m=$(awk '/^URIs:/{print $2; exit}' /etc/apt/sources.list.d/debian.sources)
  fi
  if [ -z "$m" ] && [ -f /etc/apt/sources.list ]; then
    m=$(awk '$1=="deb"{print $2; exit}' /etc/apt/sources.list)
  fi
  [ -n "$m" ] || { echo "no apt mirror found in /etc/apt/sources.list.d/debian.sources or /etc/apt/sources.list" >&2; exit 1; }
  echo "$m"
}

t0=$(date +%s)
BASE=berth-fixtures/bookworm-base:1
base_hash=$(hashof fixtures/base.recipe)
if [ "$(label $BASE)" = "$base_hash" ]; then
  echo "fixture $BASE: up to date"
else
  echo "fixture $BASE: debootstrap (about a minute)..."
  . fixtures/base.recipe
  dir=$(mktemp -d /var/tmp/berth-rootfs.XXXXXX)
  trap 'rm -rf "$dir"' EXIT
  debootstrap --variant="$variant" --include="$include" "$suite" "$dir" "$(mirror)" > /var/tmp/berth-debootstrap.log 2>&1 ||
    { tail -20 /var/tmp/berth-debootstrap.log >&2; exit 1; }
  rm -f "$dir"/var/cache/apt/archives/*.deb
  tar -C "$dir" -c . | $DOCKER import --change "LABEL berth.fixture.recipe=$base_hash" - "$BASE" >/dev/null
  rm -rf "$dir"
  trap - EXIT
fi

build() { # image dir [extra files...]
  local img=$1 dir=$2
  local h
  h=$(hashof fixtures/base.recipe $(find "fixtures/$dir" -type f | sort))
  if [ "$(label "$img")" = "$h" ]; then
    echo "fixture $img: up to date"
    return
  fi
  echo "fixture $img: building"
  local ctx
  ctx=$(mktemp -d)
  cp -a "fixtures/$dir/." "$ctx/"
  [ "$dir" = busybox ] && cp /bin/busybox "$ctx/busybox"
  $DOCKER build -q --label "berth.fixture.recipe=$h" -t "$img" "$ctx" >/dev/null
  rm -rf "$ctx"
}
build postgres:15-bookworm postgres
build redis:7-bookworm redis
build registry:2.8 registry
build busybox:1.36 busybox
echo "fixtures ready in $(( $(date +%s) - t0 )) s"
