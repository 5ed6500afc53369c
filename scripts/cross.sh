#!/usr/bin/env bash
# berth builds for every platform its users test on: linux, darwin and
# windows, on amd64 and arm64 (the engine may be remote or in a VM there).
# build/buildkit is left out: it is moby/buildkit's code, which builds
# everywhere, and compiling it six times costs minutes. `cross.sh --quick`
# (make test) builds one platform per OS and per architecture not native
# here: berth has no architecture-specific code, so the other pairings add
# compile time, not coverage. `make cross` builds all six.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
mapfile -t pkgs < <(go list ./... | grep -v '/build/buildkit')
fail=0
platforms="linux/amd64 linux/arm64 darwin/amd64 darwin/arm64 windows/amd64 windows/arm64"
[ "${1:-}" = --quick ] && platforms="linux/arm64 darwin/arm64 windows/amd64"
for p in $platforms; do
  os=${p%/*} arch=${p#*/}
  if out=$(GOOS=$os GOARCH=$arch go build "${pkgs[@]}" 2>&1); then
    echo "ok   $os/$arch"
  else
    echo "FAIL $os/$arch"; echo "$out" | head -20; fail=1
  fi
done
exit $fail
