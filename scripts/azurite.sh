#!/usr/bin/env bash
# usage: scripts/azurite.sh install
#        scripts/azurite.sh start <dir> [<cert.pem> <key.pem>]
#        scripts/azurite.sh stop <pid>
#
# The Azure Blob emulator for the cloud tests, pinned in tests/package.json.
#   install     installs it into tests/node_modules when missing (npm ci,
#               or npm install when there is no lock file); idempotent.
#   start <dir> installs if needed, starts azurite-blob on 127.0.0.1 on a
#               free port with its data in <dir> (telemetry off), waits
#               until it answers, prints "port=<n> pid=<pid>". With a
#               certificate and its key it serves HTTPS instead.
#   stop <pid>  ends that process (the one start printed) and nothing else.
# Exit codes: 0 done, 2 npm/node missing, 1 any other failure.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
tests=$root/tests
bin=$tests/node_modules/.bin/azurite-blob

die() { echo "azurite.sh: $*" >&2; exit 1; }

install() {
  command -v npm >/dev/null 2>&1 && command -v node >/dev/null 2>&1 || {
    echo "azurite.sh: npm or node not found: cannot run azurite" >&2
    exit 2
  }
  [ -x "$bin" ] && return 0
  if [ -f "$tests/package-lock.json" ]; then
    npm ci --prefix "$tests" --no-audit --no-fund >&2 || die "npm ci failed"
  else
    npm install --prefix "$tests" --no-audit --no-fund >&2 || die "npm install failed"
  fi
  [ -x "$bin" ] || die "npm did not install $bin"
}

# A port the kernel just handed out and released on 127.0.0.1.
free_port() {
  node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close();});'
}

# 0 once something answers HTTP (or HTTPS: $2 = https) on the port (any
# status will do; the test certificate is not checked here).
answers() {
  node -e 'require(process.argv[2]).get({host:"127.0.0.1",port:+process.argv[1],path:"/",rejectUnauthorized:false},r=>{process.exit(0)}).on("error",()=>process.exit(1));' "$1" "${2:-http}"
}

start() {
  local dir=$1 port pid try i proto=http tls=()
  if [ $# -eq 3 ]; then proto=https; tls=(--cert "$2" --key "$3"); fi
  install
  mkdir -p "$dir"
  for try in 1 2 3; do
    port=$(free_port)
    "$bin" --blobHost 127.0.0.1 --blobPort "$port" --location "$dir" \
      --silent --disableTelemetry "${tls[@]}" >"$dir/azurite.log" 2>&1 </dev/null &
    pid=$!
    for i in $(seq 1 150); do
      if ! kill -0 "$pid" 2>/dev/null; then break; fi
      if answers "$port" "$proto"; then echo "port=$port pid=$pid"; return 0; fi
      sleep 0.1
    done
    # lost the port to someone else, or too slow: end only our process
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  cat "$dir/azurite.log" >&2 || true
  die "azurite did not start (log above)"
}

stop() {
  local pid=$1 i
  [[ "$pid" =~ ^[0-9]+$ ]] || die "stop: '$pid' is not a pid"
  kill "$pid" 2>/dev/null || return 0
  for i in $(seq 1 50); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.1
  done
  kill -9 "$pid" 2>/dev/null || true
}

case "${1:-}" in
  install) install ;;
  start) [ $# -eq 2 ] || [ $# -eq 4 ] || die "usage: start <dir> [<cert.pem> <key.pem>]"
    shift; start "$@" ;;
  stop) [ $# -eq 2 ] || die "usage: stop <pid>"; stop "$2" ;;
  -h|--help) sed -n '2,14s/^# \{0,1\}//p' "$0" ;;
  *) sed -n '2,14s/^# \{0,1\}//p' "$0" >&2; exit 3 ;;
esac
