#!/usr/bin/env bash
# usage: scripts/msi.sh [--exe <sysvault.exe>] [--version <x.y.z>] [--out <file.msi>]
#
# Builds the Windows installer sysvault.msi from a cross-built sysvault.exe
# with wixl (Debian packages wixl and msitools; scripts/install-deps.sh
# installs them) and packaging/windows/sysvault.wxs.
#   --exe      default: ${SYSVAULT_WIN_BUILD_DIR:-build-win}/agent/sysvault.exe
#   --version  default: the build's version (SV_VERSION in the sv_version.h
#              generated beside the exe, i.e. CMake's project version)
#   --out      default: <dir of the exe>/sysvault-<version>-x64.msi
# Prints the path of the MSI on stdout. docs/install.md describes it.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
exe="${SYSVAULT_WIN_BUILD_DIR:-$root/build-win}/agent/sysvault.exe"
version=
out=

die() { echo "msi.sh: $*" >&2; exit 2; }

while [ $# -gt 0 ]; do
  case "$1" in
    --exe) [ $# -ge 2 ] || die "--exe needs a value"; exe=$2; shift ;;
    --version) [ $# -ge 2 ] || die "--version needs a value"; version=$2; shift ;;
    --out) [ $# -ge 2 ] || die "--out needs a value"; out=$2; shift ;;
    -h|--help) sed -n '2,12s/^# \{0,1\}//p' "$0"; exit 0 ;;
    *) echo "msi.sh: unknown option '$1'" >&2; exit 3 ;;
  esac
  shift
done

command -v wixl >/dev/null ||
  die "wixl not found: run scripts/install-deps.sh (Debian packages wixl, msitools)"
[ -f "$exe" ] || die "'$exe' does not exist: build it first (scripts/windows.sh --no-test) or pass --exe"

if [ -z "$version" ]; then
  header="$(dirname "$exe")/sv_version.h"
  [ -f "$header" ] || die "no $header beside the exe to take the version from: pass --version"
  version=$(sed -n 's/^#define SV_VERSION "\(.*\)"$/\1/p' "$header")
fi
# Windows Installer versions: major.minor.build, at most 255.255.65535.
if ! [[ $version =~ ^([0-9]+)\.([0-9]+)\.([0-9]+)$ ]] || [ "${BASH_REMATCH[1]}" -gt 255 ] ||
   [ "${BASH_REMATCH[2]}" -gt 255 ] || [ "${BASH_REMATCH[3]}" -gt 65535 ]; then
  die "version '$version' is not major.minor.build (at most 255.255.65535)"
fi
[ -n "$out" ] || out="$(cd "$(dirname "$exe")" && pwd)/sysvault-$version-x64.msi"

# wixl resolves File/@Source against the current directory: build in a
# private folder holding exactly the files the package installs.
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp "$exe" "$work/sysvault.exe"
cp "$root/packaging/windows/sysvault.wxs" "$work/"
(cd "$work" && wixl -a x64 -D "Version=$version" -o sysvault.msi sysvault.wxs) >&2 ||
  die "wixl failed on packaging/windows/sysvault.wxs"
mv -f "$work/sysvault.msi" "$out.tmp"
mv -f "$out.tmp" "$out"
echo "$out"
