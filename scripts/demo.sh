#!/usr/bin/env bash
# usage: scripts/demo.sh [--size <bytes>]
#
# Installs what is missing, builds sysvault, and runs its main job end to
# end in a temporary state directory with a local vault: vault init, a
# system-state backup, a second backup a "day" later (showing dedup),
# points, restore, and the wbadmin recovery of the restored tree. On a
# machine without Windows Server Backup, wbadmin is the simulator from
# tests/wbadmin-sim (it says so); --size sets its image size (default 256M).
set -euo pipefail

size=256M
while [ $# -gt 0 ]; do
  case "$1" in
    -h|--help) sed -n '2,10s/^# \{0,1\}//p' "$0"; exit 0 ;;
    --size) size=${2:?--size needs a value}; shift 2 ;;
    *) echo "demo.sh: unknown option '$1'" >&2; exit 3 ;;
  esac
done

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
scripts/install-deps.sh
cmake -S . -B build/demo -G Ninja -DCMAKE_BUILD_TYPE=Release -DSV_BUILD_TESTS=ON >/dev/null
cmake --build build/demo --target sysvault wbadmin >/dev/null
sv=$root/build/demo/agent/sysvault

work=$(mktemp -d "${TMPDIR:-/tmp}/sysvault-demo.XXXXXX")
trap 'rm -rf "$work"' EXIT
export SYSVAULT_HOME=$work/state
export SYSVAULT_PASSPHRASE="demo passphrase: correct horse battery staple"
vault=$work/vault
skips=()

if [ -z "${SYSVAULT_WBADMIN:-}" ]; then
  export SYSVAULT_WBADMIN=$root/build/demo/tests/bin/wbadmin
  export WBADMIN_SIM_SIZE=$size WBADMIN_SIM_MACHINE=DEMO-DC01 WBADMIN_SIM_DC=1
  export WBADMIN_SIM_STATE=$work/wbadmin-sim
  echo "*** wbadmin is SIMULATED on this machine (tests/wbadmin-sim): it writes a"
  echo "*** system-state-shaped $size image, not a real backup of this machine."
  # Preflight PF005 wants 30 GiB free for a real system-state image and
  # PF009 refuses while any process named wbadmin runs; neither describes
  # the simulated server: its image is $size, and other wbadmins here are
  # other runs of the simulator. The demo asks for the room it really
  # needs (staging, vault and restore: three images) and skips those two.
  need_kib=$(( $(numfmt --from=iec "$size") * 3 / 1024 ))
  free_kib=$(df -Pk "$work" | awk 'NR == 2 { print $4 }')
  if [ "$free_kib" -lt "$need_kib" ]; then
    echo "demo.sh: $work has $((free_kib / 1024)) MiB free; the demo needs $((need_kib / 1024)) MiB" \
      "(three $size images): free space there, set TMPDIR elsewhere, or pass a smaller --size" >&2
    exit 1
  fi
  skips=(--skip-check PF005 --skip-check PF009)
  echo "*** preflight PF005 (30 GiB free) and PF009 (no other wbadmin) are skipped"
  echo "*** for the simulated image; $((free_kib / 1024)) MiB free is enough for it."
fi

step() { printf '\n$ sysvault %s\n' "$*"; "$sv" "$@"; }

step --help | head -12
step version
step vault init --vault "$vault"
export WBADMIN_SIM_NOW=$(date -d '2026-11-20 02:00:00Z' +%s 2>/dev/null || date +%s)
step backup "${skips[@]}" --vault "$vault"
export WBADMIN_SIM_NOW=$((WBADMIN_SIM_NOW + 86400))
step backup "${skips[@]}" --vault "$vault"
step points --vault "$vault"
step wsb versions
step restore --point latest --to "$work/restored" --vault "$vault" --apply
step vault check --read-data --vault "$vault"
echo
echo "demo finished: state, vault and restore were in $work (removed on exit)"
