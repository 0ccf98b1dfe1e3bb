#!/usr/bin/env bash
# usage: tests/cloud/s3-run.sh <data-dir> <test-program> [args...]
#        tests/cloud/s3-run.sh --install
#
# Starts the S3 test server (s3-server.js: s3rver, pinned in
# tests/package.json) on 127.0.0.1 with its data in <data-dir>, runs the
# test program with SYSVAULT_S3_ENDPOINT, SYSVAULT_S3_REGION,
# AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY pointing at it, stops the
# server it started (by PID) and returns the program's exit code.
# --install only installs the test servers (npm ci into tests/node_modules,
# once, under a lock) when they are missing.
# When npm is missing: exit 77 (ctest shows the test as skipped, with the
# reason), or 1 when CI=true.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
tests=$(cd "$here/.." && pwd)
server_js=$here/s3-server.js

installed() {
  [ -f "$tests/node_modules/@20minutes/s3rver/package.json" ] &&
    [ -x "$tests/node_modules/.bin/azurite-blob" ]
}

# 0 installed, 2 npm or node missing, 1 npm failed.
install() {
  command -v npm >/dev/null 2>&1 && command -v node >/dev/null 2>&1 || return 2
  installed && return 0
  (
    if command -v flock >/dev/null 2>&1; then flock 9; fi
    installed && exit 0
    echo "s3-run.sh: installing the test servers (npm ci in $tests)" >&2
    npm ci --prefix "$tests" --no-audit --no-fund >&2
  ) 9>"$tests/.npm-install.lock" || return 1
  installed
}

skip_or_fail() {
  if [ "${CI:-}" = true ]; then
    echo "FAILED: npm or node is not available, and CI=true: the S3 tests must run" >&2
    exit 1
  fi
  echo "SKIPPED: npm or node is not available: the S3 backend was NOT tested" >&2
  exit 77
}

install
rc=$?
[ $rc -eq 2 ] && skip_or_fail
[ $rc -eq 0 ] || { echo "s3-run.sh: npm could not install the test servers" >&2; exit 1; }
[ "${1:-}" = --install ] && exit 0
[ $# -ge 2 ] || { sed -n '2,15s/^# \{0,1\}//p' "$0" >&2; exit 3; }

data=$1
shift
rm -rf "$data"
mkdir -p "$data/store"
# s3rver's continuation tokens use DES, which OpenSSL 3 keeps in its
# legacy provider.
NODE_OPTIONS=--openssl-legacy-provider node "$server_js" "$data/store" \
  >"$data/s3-server.log" 2>&1 </dev/null &
pid=$!

stop() {
  local i
  kill "$pid" 2>/dev/null || return 0
  for i in $(seq 1 50); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.1
  done
  kill -9 "$pid" 2>/dev/null || true
}
trap stop EXIT

port=
for i in $(seq 1 150); do
  port=$(sed -n 's/^port=\([0-9]*\)$/\1/p' "$data/s3-server.log")
  [ -n "$port" ] && break
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.1
done
if [ -z "$port" ]; then
  cat "$data/s3-server.log" >&2
  echo "s3-run.sh: the S3 test server did not start (log above)" >&2
  exit 1
fi
echo "S3 test server on 127.0.0.1:$port (pid $pid)"

export SYSVAULT_S3_ENDPOINT=http://127.0.0.1:$port
export SYSVAULT_S3_REGION=us-east-1
export AWS_ACCESS_KEY_ID=S3RVER
export AWS_SECRET_ACCESS_KEY=S3RVER
unset AWS_SESSION_TOKEN SYSVAULT_S3_PATH_STYLE
"$@"
