#!/usr/bin/env bash
# No exported signature may name an internal type: users cannot name,
# wrap or fake what they cannot import. Checks exported functions and
# methods, exported struct fields and interface methods outside internal/,
# cmd/, examples/ and bench/.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
internal='\b(wire|link|testenv|buildtest|regauth|modstart)\.[A-Z]'
bad=$(git ls-files --cached --others --exclude-standard '*.go' | grep -v -E '_test\.go$|^(internal|examples|cmd|bench)/|/internal/' |
  xargs grep -n -E "^func (\([^)]*\) )?[A-Z][A-Za-z0-9]*(\[[^]]*\])?\(.*$internal|^[[:blank:]][A-Z][A-Za-z0-9]*(,\s*[A-Z][A-Za-z0-9]*)*\s+(\*|\[\]|map\[[^]]*\])*$internal|^[[:blank:]][A-Z][A-Za-z0-9]*\(.*$internal")
if [ -n "$bad" ]; then
  echo "exported API names internal types (users cannot name them):"
  echo "$bad"
  exit 1
fi
echo "no exported signature names an internal type"
