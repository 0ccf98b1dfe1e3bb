#!/usr/bin/env bash
# usage: tests/cloud/azurite-run.sh [--tls] <data-dir> <test-program> [args...]
#
# Starts Azurite (scripts/azurite.sh) with its data in <data-dir>, runs the
# test program with SYSVAULT_AZURE_ENDPOINT / SYSVAULT_AZURE_KEY pointing at
# it (the emulator's published development account), stops the emulator it
# started and returns the program's exit code. --tls serves HTTPS with a
# throwaway self-signed certificate made by openssl in <data-dir>/tls. When npm is missing: exit 77
# (ctest shows the test as skipped, with the reason), or 1 when CI=true.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
azurite=$here/../../scripts/azurite.sh
tls=()
proto=http
if [ "${1:-}" = --tls ]; then
  proto=https
  shift
fi
data=$1
shift

rm -rf "$data"
if [ $proto = https ]; then
  mkdir -p "$data/tls"
  openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.1 \
    -addext subjectAltName=IP:127.0.0.1 -keyout "$data/tls/key.pem" \
    -out "$data/tls/cert.pem" 2>/dev/null ||
    { echo "azurite-run.sh: openssl could not make a test certificate" >&2; exit 1; }
  tls=("$data/tls/cert.pem" "$data/tls/key.pem")
fi
out=$(bash "$azurite" start "$data/blob" "${tls[@]}")
rc=$?
if [ $rc -eq 2 ]; then
  if [ "${CI:-}" = true ]; then
    echo "FAILED: npm is not available, and CI=true: the Azure tests must run" >&2
    exit 1
  fi
  echo "SKIPPED: npm is not available: the Azure backend was NOT tested" >&2
  exit 77
fi
[ $rc -eq 0 ] || { echo "azurite-run.sh: could not start Azurite" >&2; exit 1; }

port=$(sed -n 's/^port=\([0-9]*\) .*/\1/p' <<<"$out")
pid=$(sed -n 's/.* pid=\([0-9]*\)$/\1/p' <<<"$out")
trap 'bash "$azurite" stop "$pid"' EXIT
echo "azurite on 127.0.0.1:$port (pid $pid)"

export SYSVAULT_AZURE_ENDPOINT=$proto://127.0.0.1:$port/devstoreaccount1
export SYSVAULT_AZURE_KEY='Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=='
"$@"
