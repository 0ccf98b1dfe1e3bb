#!/usr/bin/env bash
# usage: scripts/test.sh
#
# Runs every test of sysvault: installs what is missing, then
#   1. a native build with warnings as errors, ctest;
#   2. a build with AddressSanitizer + UndefinedBehaviorSanitizer, ctest;
#   3. the Windows build (mingw-w64) with its tests under Wine
#      (scripts/windows.sh); skip with SYSVAULT_SKIP_WINDOWS=1 for a quick
#      local loop (never skipped when CI=true).
# Build directories: build/test-native, build/test-asan, build-win.
# Exits non-zero on any failure.
set -euo pipefail

case "${1:-}" in
  -h|--help) sed -n '2,12s/^# \{0,1\}//p' "$0"; exit 0 ;;
  "") ;;
  *) echo "test.sh: unknown option '$1'" >&2; exit 3 ;;
esac

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
jobs=$(nproc 2>/dev/null || echo 2)
start=$(date +%s)

phase() { printf '\n=== %s (%ss elapsed)\n' "$1" "$(( $(date +%s) - start ))"; }

phase "dependencies"
scripts/install-deps.sh

run_build() {   # name, extra cmake args...
  local dir="build/test-$1"; shift
  rm -rf "$dir"
  cmake -S . -B "$dir" -G Ninja -DSV_WERROR=ON "$@" >"$dir.configure.log" 2>&1 || {
    cat "$dir.configure.log"; return 1; }
  cmake --build "$dir" -j "$jobs"
  (cd "$dir" && ctest --output-on-failure -j "$jobs")
}

mkdir -p build
phase "native build and tests"
run_build native -DCMAKE_BUILD_TYPE=RelWithDebInfo

phase "sanitizer build and tests (ASan + UBSan)"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  run_build asan -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_COMPILER=clang -DSV_SANITIZE=ON

if [ "${SYSVAULT_SKIP_WINDOWS:-0}" = 1 ] && [ "${CI:-}" != true ]; then
  phase "Windows build skipped (SYSVAULT_SKIP_WINDOWS=1)"
else
  phase "Windows build and tests under Wine"
  scripts/windows.sh
fi

phase "all tests passed"
