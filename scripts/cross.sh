#!/usr/bin/env bash
# berth builds for every platform its users test on: linux, darwin and
# windows, on amd64 and arm64 (the engine may be remote or in a VM there).
# build/buildkit is left out: it is moby/buildkit's code, which builds
# everywhere, and compiling it six times costs minutes.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
mapfile -t pkgs < <(go list ./... | grep -v '/build/buildkit')
fail=0
for os in linux darwin windows; do
  for arch in amd64 arm64; do
    if out=$(GOOS=$os GOARCH=$arch go build "${pkgs[@]}" 2>&1); then
      echo "ok   $os/$arch"
    else
      echo "FAIL $os/$arch"; echo "$out" | head -20; fail=1
    fi
  done
done
exit $fail
