#!/usr/bin/env bash
# usage: scripts/demo.sh
#
# Installs what is missing, builds sysvault, and runs its main job as far
# as it exists today: the command list and the version.
set -euo pipefail

case "${1:-}" in
  -h|--help) sed -n '2,5s/^# \{0,1\}//p' "$0"; exit 0 ;;
  "") ;;
  *) echo "demo.sh: unknown option '$1'" >&2; exit 3 ;;
esac

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
scripts/install-deps.sh
cmake -S . -B build/demo -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSV_BUILD_TESTS=OFF >/dev/null
cmake --build build/demo >/dev/null
sv=build/demo/agent/sysvault

echo "\$ sysvault --help"
"$sv" --help
echo
echo "\$ sysvault version"
"$sv" version
