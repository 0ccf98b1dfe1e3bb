#!/usr/bin/env bash
# usage: tests/packaging/msi-test.sh <sysvault.exe> <work dir>
#
# The Windows installer under Wine, in a private Wine prefix (<work dir>/
# wineprefix, made afresh): builds sysvault.msi from <sysvault.exe> with
# scripts/msi.sh at the build's version and at a higher one, then
#   1. installs the first silently (msiexec /i ... /qn) and checks the
#      files, sysvault.exe running from the machine PATH, the event log
#      source, the PATH entry, the product's registration and the state
#      directory;
#   2. upgrades to the second in place: one product registered, the new
#      version, one PATH entry, the state kept;
#   3. uninstalls: files, event source, PATH entry and product gone, the
#      state directory kept;
#   4. installs and uninstalls with REMOVESTATE=1: the state directory gone.
# Run by ctest in the Windows build (tests/packaging/CMakeLists.txt).
set -euo pipefail

[ $# -eq 2 ] || { sed -n '2,2s/^# //p' "$0" >&2; exit 3; }
exe=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
work=$2
root=$(cd "$(dirname "$0")/../.." && pwd)

export WINEPREFIX="$work/wineprefix" WINEDEBUG=-all WINEARCH=win64
export WINEDLLOVERRIDES="mscoree,mshtml="
unset DISPLAY WAYLAND_DISPLAY
wine=$(command -v wine || command -v wine64) || { echo "msi-test: wine not found" >&2; exit 2; }

passed=0
failed=0
ok() { passed=$((passed + 1)); echo "ok: $*"; }
bad() { failed=$((failed + 1)); echo "FAILED: $*"; }
check() {   # description, command...
  local what=$1; shift
  if "$@" >/dev/null 2>&1; then ok "$what"; else bad "$what"; fi
}
wreg() { "$wine" reg query "$@" 2>/dev/null | tr -d '\r'; }
msiexec() { "$wine" msiexec "$@"; wineserver -w; }

KEY_EVENT='HKLM\SYSTEM\CurrentControlSet\Services\EventLog\Application\sysvault'
KEY_ENV='HKLM\SYSTEM\CurrentControlSet\Control\Session Manager\Environment'
KEY_UNINSTALL='HKLM\Software\Microsoft\Windows\CurrentVersion\Uninstall'
install_dir="$WINEPREFIX/drive_c/Program Files/sysvault"
state_dir="$WINEPREFIX/drive_c/ProgramData/sysvault"

product_code() { msiinfo export "$1" Property | tr -d '\r' | awk -F'\t' '$1 == "ProductCode" { print $2 }'; }
display_version() { wreg "$KEY_UNINSTALL\\$1" /v DisplayVersion | awk '/DisplayVersion/ { print $3 }'; }
path_entries() { wreg "$KEY_ENV" /v PATH | sed -n 's/^ *PATH *REG_[A-Z_]* *//p' | tr ';' '\n' |
                 grep -ci '^C:\\Program Files\\sysvault\\\{0,1\}$' || true; }

# ---- the two packages ----
mkdir -p "$work"
rm -rf "$WINEPREFIX" "$work"/*.msi
v1_msi=$("$root/scripts/msi.sh" --exe "$exe" --out "$work/old.msi")
v1=$(sed -n 's/^#define SV_VERSION "\(.*\)"$/\1/p' "$(dirname "$exe")/sv_version.h")
v2="${v1%.*}.$(( ${v1##*.} + 1 ))"
v2_msi=$("$root/scripts/msi.sh" --exe "$exe" --version "$v2" --out "$work/new.msi")
pc1=$(product_code "$v1_msi")
pc2=$(product_code "$v2_msi")
check "two MSIs with different product codes ($v1 $pc1, $v2 $pc2)" \
  test -n "$pc1" -a -n "$pc2" -a "$pc1" != "$pc2"

wineboot -i >"$work/wineboot.log" 2>&1 || "$wine" wineboot -i >>"$work/wineboot.log" 2>&1
wineserver -w

# ---- 1. install ----
msiexec /i "$v1_msi" /qn /l*v "$work/install.log" >"$work/install.out" 2>&1 || bad "msiexec /i $v1 exited $?"
check "sysvault.exe installed" test -f "$install_dir/sysvault.exe"
check "the installed sysvault.exe runs from the machine PATH and says $v1" \
  bash -c "'$wine' sysvault version 2>&1 | tr -d '\r' | grep -q '^sysvault $v1 (windows-x86_64)'"
check "event source: EventMessageFile is the installed exe" \
  bash -c "'$wine' reg query '$KEY_EVENT' /v EventMessageFile | grep -qi 'C:.Program Files.sysvault.sysvault.exe'"
check "event source: TypesSupported is 7" \
  bash -c "'$wine' reg query '$KEY_EVENT' /v TypesSupported | grep -q '0x7'"
if command -v x86_64-w64-mingw32-windres >/dev/null; then
  check "the installed exe holds the message table (IDs 1000-1004)" \
    bash -c "x86_64-w64-mingw32-windres -i '$install_dir/sysvault.exe' -O rc |
             grep -q 'RT_MESSAGETABLE' && x86_64-w64-mingw32-windres -i '$install_dir/sysvault.exe' \
             -O rc | grep -q '0x3e8L *, 0x3ecL'"
fi
check "machine PATH holds the install folder once" test "$(path_entries)" = 1
check "product registered as $v1" test "$(display_version "$pc1")" = "$v1"
check "state directory created" test -d "$state_dir"

# ---- 2. upgrade in place ----
echo kept >"$state_dir/marker"
msiexec /i "$v2_msi" /qn /l*v "$work/upgrade.log" >"$work/upgrade.out" 2>&1 || bad "msiexec /i $v2 exited $?"
check "old product $v1 no longer registered" test -z "$(display_version "$pc1")"
check "product registered as $v2" test "$(display_version "$pc2")" = "$v2"
check "sysvault.exe still installed" test -f "$install_dir/sysvault.exe"
check "machine PATH still holds the install folder once" test "$(path_entries)" = 1
check "event source still registered" "$wine" reg query "$KEY_EVENT" /v TypesSupported
check "state directory kept across the upgrade" grep -qx kept "$state_dir/marker"

# ---- 3. uninstall ----
msiexec /x "$v2_msi" /qn /l*v "$work/uninstall.log" >"$work/uninstall.out" 2>&1 || bad "msiexec /x exited $?"
check "sysvault.exe removed" test ! -e "$install_dir/sysvault.exe"
check "event source removed" bash -c "! '$wine' reg query '$KEY_EVENT'"
check "install folder removed from the machine PATH" test "$(path_entries)" = 0
check "product no longer registered" test -z "$(display_version "$pc2")"
check "state directory kept without REMOVESTATE" grep -qx kept "$state_dir/marker"

# ---- 4. uninstall with REMOVESTATE=1 ----
msiexec /i "$v2_msi" /qn >"$work/install2.out" 2>&1 || bad "msiexec /i $v2 (again) exited $?"
check "installed again" test -f "$install_dir/sysvault.exe"
msiexec /x "$v2_msi" /qn REMOVESTATE=1 >"$work/uninstall2.out" 2>&1 || bad "msiexec /x REMOVESTATE=1 exited $?"
check "state directory removed with REMOVESTATE=1" test ! -e "$state_dir"
check "sysvault.exe removed again" test ! -e "$install_dir/sysvault.exe"

echo "msi-test: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
