#!/usr/bin/env bash
# usage: scripts/install-deps.sh [--check]
#
# Installs what sysvault's native build and tests need. Idempotent: does
# nothing when everything is present. On Debian/Ubuntu uses apt-get (and runs
# 'apt-get update' once, only when something is missing); elsewhere prints
# the package names and exits 1. --check only reports what is missing.
set -euo pipefail

PACKAGES=(
  build-essential cmake ninja-build pkg-config clang
  libssl-dev libcurl4-openssl-dev libsqlite3-dev libpcre2-dev libzstd-dev
  libjansson-dev libcmocka-dev
  python3
  msitools wixl   # scripts/msi.sh: the Windows installer (wixl, msiinfo)
)

case "${1:-}" in
  -h|--help) sed -n '2,8s/^# \{0,1\}//p' "$0"; exit 0 ;;
  --check|"") ;;
  *) echo "install-deps.sh: unknown option '$1'" >&2; exit 3 ;;
esac

if ! command -v dpkg-query >/dev/null 2>&1 || ! command -v apt-get >/dev/null 2>&1; then
  echo "install-deps.sh: not a Debian-like system; install these (or your distribution's equivalents):" >&2
  printf '  %s\n' "${PACKAGES[@]}" >&2
  exit 1
fi

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps.sh: all build and test dependencies are present"
  exit 0
fi
if [ "${1:-}" = "--check" ]; then
  echo "install-deps.sh: missing: ${missing[*]}"
  exit 1
fi

SUDO=
[ "$(id -u)" -eq 0 ] || SUDO=sudo
echo "install-deps.sh: installing: ${missing[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "install-deps.sh: installed: ${missing[*]}"
