#!/usr/bin/env bash
# Fails, listing them, when containers, networks or volumes labelled
# berth.session are on the engine and the test process that made them
# (label berth.pid) has ended. A resource whose berth.pid process still runs
# belongs to a suite running right now and is not counted.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
. scripts/lib.sh
left=""
for kind in container network volume; do
  case $kind in
    container) ids=$("$DOCKER" ps -aq --filter label=berth.session) ;;
    network)   ids=$("$DOCKER" network ls -q --filter label=berth.session) ;;
    volume)    ids=$("$DOCKER" volume ls -q --filter label=berth.session) ;;
  esac
  for id in $ids; do
    if [ $kind = container ]; then l=.Config.Labels; else l=.Labels; fi
    fmt="{{with index $l \"berth.pid\"}}{{.}}{{else}}-{{end}} {{.Name}} {{with index $l \"berth.test\"}}{{.}}{{else}}-{{end}}"
    read -r pid name test < <("$DOCKER" $kind inspect -f "$fmt" "$id" 2>/dev/null || echo "- - -")
    if [ "$pid" != - ] && kill -0 "$pid" 2>/dev/null; then
      continue
    fi
    left+="  $kind $name ${id:0:12} (test: $test)"$'\n'
  done
done
if [ -n "$left" ]; then
  echo "resources labelled berth.session were left on the engine by ended tests:"
  printf '%s' "$left"
  exit 1
else
  echo "none"
fi
