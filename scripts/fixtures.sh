#!/usr/bin/env bash
# Builds every image the tests use, idempotently. Nothing can be pulled on
# the machines the suite runs on, so the images are made here and tagged
# like the official ones they stand in for:
#
#   berth-fixtures/bookworm-base:1  debootstrap rootfs (fixtures/base.recipe)
#   postgres:15-bookworm            fixtures/postgres
#   redis:7-bookworm                fixtures/redis
#   registry:2.8                    fixtures/registry
#   busybox:1.36                    fixtures/busybox + Debian's busybox and its libc
#   berth-fixtures/bookworm-extra:1 debootstrap rootfs (fixtures/extra.recipe)
#   mariadb:10.11                   fixtures/mariadb
#   rabbitmq:3.10                   fixtures/rabbitmq
#   rabbitmq:3.10-management        fixtures/rabbitmq-management
#   nats:2.9                        fixtures/nats
#   memcached:1.6                   fixtures/memcached
#   nicolaka/netshoot:v0.13         debootstrap rootfs (fixtures/nettools.recipe)
#
# The modules' servers have a base of their own, so the first base (which
# most tests use) stays as it is when they change.
#
# Each image carries the label berth.fixture.recipe=<sha256 of its inputs>:
# the recipe files (names, modes, contents), the base image's ID for images
# built FROM it, the package versions for busybox. An image whose label
# matches is skipped, so a second run takes seconds.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
export DOCKER_BUILDKIT=0

# Bump when this script changes how an image is made from the same files.
RECIPE_FORMAT=2
LABEL=berth.fixture.recipe
BASE=berth-fixtures/bookworm-base:1
EXTRA=berth-fixtures/bookworm-extra:1
t0=$(date +%s.%N)

# One build at a time per machine: a second run waits, then finds the
# images up to date.
lockfile=/var/lock/berth-fixtures.lock
[ -w "$(dirname "$lockfile")" ] || lockfile=${TMPDIR:-/tmp}/berth-fixtures.lock
exec 9>>"$lockfile"
if ! flock -n 9; then
  echo "another fixtures build holds $lockfile; waiting for it..."
  flock 9
fi

cleanup=()
on_exit() {
  local p
  for p in "${cleanup[@]}"; do rm -rf "$p"; done
}
trap on_exit EXIT

image_id() { "$DOCKER" image inspect -f '{{.Id}}' "$1" 2>/dev/null || true; }
label_of() { "$DOCKER" image inspect -f "{{index .Config.Labels \"$LABEL\"}}" "$1" 2>/dev/null || true; }

# recipe_hash [EXTRA=VALUE...] -- FILE...: sha256 of the recipe format, the
# extra inputs and every file's name, mode and content.
recipe_hash() {
  {
    echo "format $RECIPE_FORMAT"
    while [ "$1" != -- ]; do echo "input $1"; shift; done
    shift
    local f
    for f in "$@"; do
      printf 'file %s %s %s\n' "$f" "$(stat -c %a "$f")" "$(sha256sum < "$f" | cut -d' ' -f1)"
    done
  } | sha256sum | cut -d' ' -f1
}

# The first mirror of this machine's own apt sources, read at run time.
mirror() {
  local m=""
  if [ -f /etc/apt/sources.list.d/debian.sources ]; then
    m=$(awk '$1 == "URIs:" { print $2; exit }' /etc/apt/sources.list.d/debian.sources)
  fi
  if [ -z "$m" ] && [ -f /etc/apt/sources.list ]; then
    # deb [options] URI suite components
    m=$(awk '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) { print $i; exit } }' /etc/apt/sources.list)
  fi
  if [ -z "$m" ]; then
    echo "no apt mirror in /etc/apt/sources.list.d/debian.sources (URIs:) or /etc/apt/sources.list (deb)" >&2
    return 1
  fi
  echo "$m"
}

replaced=() # IDs of images a rebuild replaced, removed at the end when unused

# build_base IMAGE RECIPE BINARY...: a debootstrap rootfs as IMAGE, from
# the suite, variant and packages RECIPE sets; each BINARY (a path in the
# rootfs) must be there afterwards.
build_base() {
  local img=$1 recipe=$2
  shift 2
  local h
  h=$(recipe_hash -- "$recipe")
  if [ "$(label_of "$img")" = "$h" ]; then
    echo "fixture $img: up to date"
    return
  fi
  apt_ensure debootstrap
  local suite variant include
  # shellcheck source=/dev/null
  . "$recipe"
  local start dir log m
  start=$(date +%s.%N)
  m=$(mirror)
  dir=$(mktemp -d /var/tmp/berth-rootfs.XXXXXX)
  cleanup+=("$dir")
  log=/var/tmp/berth-debootstrap-$(basename "$recipe" .recipe).log
  echo "fixture $img: debootstrap $suite ($variant + $include), a minute or more..."
  if ! PATH=$PATH:/usr/sbin:/sbin debootstrap --variant="$variant" --include="$include" "$suite" "$dir" "$m" > "$log" 2>&1; then
    echo "debootstrap failed; the end of $log:" >&2
    tail -20 "$log" >&2
    exit 1
  fi
  rm -f "$dir"/var/cache/apt/archives/*.deb
  local bin
  for bin in "$@"; do
    [ -x "$dir/$bin" ] || { echo "debootstrap left no /$bin in the rootfs; see $log" >&2; exit 1; }
  done
  local old
  old=$(image_id "$img")
  tar -C "$dir" -c . | "$DOCKER" import \
    --change "LABEL $LABEL=$h" \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'CMD ["bash"]' \
    - "$img" > /dev/null
  [ -n "$old" ] && replaced+=("$old")
  rm -rf "$dir"
  echo "fixture $img: built in $(elapsed "$start") s"
}

# build_base_bg IMAGE RECIPE BINARY...: build_base in the background, so
# a second debootstrap (mostly downloads, one package at a time) overlaps
# the first base and its images; wait_base_bg waits for it and prints its
# output.
build_base_bg() {
  bg_log=$(mktemp /tmp/berth-fixture-base.XXXXXX)
  bg_replaced=$(mktemp /tmp/berth-fixture-replaced.XXXXXX)
  cleanup+=("$bg_log" "$bg_replaced")
  (
    cleanup=()
    replaced=()
    trap on_exit EXIT
    build_base "$@"
    [ ${#replaced[@]} -eq 0 ] || printf '%s\n' "${replaced[@]}" > "$bg_replaced"
  ) > "$bg_log" 2>&1 &
  bg_pid=$!
}
wait_base_bg() {
  local rc=0 id
  wait "$bg_pid" || rc=$?
  cat "$bg_log"
  [ $rc -eq 0 ] || exit $rc
  while read -r id; do replaced+=("$id"); done < "$bg_replaced"
}

# busybox_version: the version of Debian's busybox package apt would
# fetch, read from the package lists (no download while up to date).
busybox_version() {
  local v
  v=$(apt-cache show --no-all-versions busybox 2>/dev/null | awk '$1 == "Version:" { print $2; exit }')
  if [ -z "$v" ] && is_root_with_apt; then
    apt_get update > /dev/null 2>&1 || true
    v=$(apt-cache show --no-all-versions busybox 2>/dev/null | awk '$1 == "Version:" { print $2; exit }')
  fi
  if [ -z "$v" ]; then
    echo "no busybox package in the apt lists: run apt-get update" >&2
    return 1
  fi
  echo "$v"
}

# prepare_busybox CTX: Debian's busybox (the dynamic build: its shell
# looks commands up on PATH, so the fixture's wrappers in /bin are what
# it runs; busybox-static's shell runs its own applets first) into CTX,
# with the libraries it links under CTX/sysroot at their paths. The
# package is fetched and unpacked, not installed: it would replace the
# host's busybox-static.
prepare_busybox() {
  local ctx=$1 dl lib
  dl=$(mktemp -d /tmp/berth-busybox-deb.XXXXXX)
  cleanup+=("$dl")
  if ! (cd "$dl" && apt_get -o APT::Sandbox::User=root download "busybox=$bb_version") > "$dl/log" 2>&1; then
    echo "apt-get download busybox failed:" >&2
    tail -20 "$dl/log" >&2
    exit 1
  fi
  dpkg-deb -x "$dl"/busybox_*.deb "$dl/root"
  cp "$dl/root/bin/busybox" "$ctx/busybox"
  for lib in $(LC_ALL=C ldd "$ctx/busybox" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }'); do
    mkdir -p "$ctx/sysroot$(dirname "$lib")"
    cp -L "$lib" "$ctx/sysroot$lib"
  done
  [ -d "$ctx/sysroot" ] || { echo "ldd named no library of busybox" >&2; exit 1; }
}

# build IMAGE DIR [EXTRA=VALUE...]: a classic build of fixtures/DIR;
# prepare_DIR CTX, when defined, adds what is not in fixtures/DIR.
build() {
  local img=$1 dir=$2
  shift 2
  local files
  mapfile -t files < <(find "fixtures/$dir" -type f | LC_ALL=C sort)
  local h
  h=$(recipe_hash "$@" -- "${files[@]}")
  if [ "$(label_of "$img")" = "$h" ]; then
    echo "fixture $img: up to date"
    return
  fi
  local start ctx log old
  start=$(date +%s.%N)
  ctx=$(mktemp -d /tmp/berth-fixture-ctx.XXXXXX)
  cleanup+=("$ctx")
  cp -a "fixtures/$dir/." "$ctx/"
  if declare -F "prepare_$dir" > /dev/null; then "prepare_$dir" "$ctx"; fi
  log=$(mktemp /tmp/berth-fixture-build.XXXXXX)
  cleanup+=("$log")
  old=$(image_id "$img")
  if ! "$DOCKER" build --pull=false --force-rm --label "$LABEL=$h" -t "$img" "$ctx" > "$log" 2>&1; then
    echo "building $img from fixtures/$dir failed:" >&2
    tail -40 "$log" >&2
    exit 1
  fi
  [ -n "$old" ] && [ "$old" != "$(image_id "$img")" ] && replaced+=("$old")
  echo "fixture $img: built in $(elapsed "$start") s"
}

if [ "$(label_of "$BASE")" != "$(recipe_hash -- fixtures/base.recipe)" ] ||
  [ "$(label_of "$EXTRA")" != "$(recipe_hash -- fixtures/extra.recipe)" ]; then
  apt_ensure debootstrap # once, before two builds may need it
fi
build_base_bg "$EXTRA" fixtures/extra.recipe \
  usr/sbin/mariadbd usr/bin/mariadb-install-db usr/lib/rabbitmq/bin/rabbitmq-server \
  usr/sbin/nats-server usr/bin/memcached usr/bin/setpriv
build_base "$BASE" fixtures/base.recipe \
  usr/lib/postgresql/15/bin/postgres usr/lib/postgresql/15/bin/initdb usr/bin/redis-server usr/bin/docker-registry usr/bin/setpriv
base_id=$(image_id "$BASE")
build postgres:15-bookworm postgres "base=$base_id"
build redis:7-bookworm redis "base=$base_id"
build registry:2.8 registry "base=$base_id"
bb_version=$(busybox_version)
build busybox:1.36 busybox "busybox=$bb_version" "libc6=$(dpkg-query -W -f='${Version}' libc6)" \
  "arch=$(dpkg --print-architecture)"

# The fault helper's base (small) overlaps the extra base still building.
build_base nicolaka/netshoot:v0.13 fixtures/nettools.recipe usr/sbin/tc usr/sbin/iptables

wait_base_bg
extra_id=$(image_id "$EXTRA")
build mariadb:10.11 mariadb "base=$extra_id"
build rabbitmq:3.10 rabbitmq "base=$extra_id"
build rabbitmq:3.10-management rabbitmq-management "base=$(image_id rabbitmq:3.10)"
build nats:2.9 nats "base=$extra_id"
build memcached:1.6 memcached "base=$extra_id"

# The images a rebuild replaced, newest first so children go before their
# parents. An image still used by a container or by another tag or image
# stays; nothing is forced.
for ((i = ${#replaced[@]} - 1; i >= 0; i--)); do
  "$DOCKER" rmi "${replaced[i]}" > /dev/null 2>&1 || true
done
echo "fixtures ready in $(elapsed "$t0") s"
