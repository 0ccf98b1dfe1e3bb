#!/usr/bin/env bash
# usage: scripts/bench-azure.sh <size> <write: 1|0>   (run by scripts/bench.sh azure)
#
# Transfer rates against Azurite on 127.0.0.1 (scripts/azurite.sh):
#   1. sysvault backup of <size> random bytes into an azure:// vault, and
#      its restore (wall clock of the whole command: chunking, encryption
#      and verification included), peak RSS of each; the same into a local
#      directory, for what sysvault's own work allows on this machine;
#   2. curl moving the same bytes as 16 MiB blobs (the size of sysvault's
#      packs) with as many transfers at once as sysvault uses, PUT then GET,
#      authorised by an account SAS computed here from the emulator's
#      published development key;
#   3. the transfer path alone: `sysvault vault copy` of the local vault
#      from (1) into Azurite (upload) and from there into a new directory
#      (download) -- the same objects, read, hash-checked and written
#      once, with none of the backup's chunking, compression or
#      encryption -- next to curl moving the same set of objects (PUT,
#      then GET into files) with the same number of transfers at once;
#      each copy is run twice, the second finding nothing to do, which
#      gives the command's fixed cost;
#   4. a backup of 160 MiB throttled to 40 Mbps (over 30 s): stored bytes
#      x 8 / wall, against the configured rate.
# Random data: nothing to deduplicate or compress, so sysvault moves the
# same bytes as curl. Work files in build/bench/azure (removed at the end).
set -euo pipefail

size=${1:-256M} write=${2:-1}
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
work=$root/build/bench/azure
rm -rf "$work"
mkdir -p "$work"

cmake -S . -B build/bench-build -G Ninja -DCMAKE_BUILD_TYPE=Release -DSV_BUILD_TESTS=OFF >/dev/null
cmake --build build/bench-build >/dev/null
sv=$root/build/bench-build/agent/sysvault
command -v /usr/bin/time >/dev/null || { echo "bench-azure: /usr/bin/time is needed (apt-get install time)" >&2; exit 2; }

out=$(bash scripts/azurite.sh start "$work/azurite") || { echo "bench-azure: Azurite did not start" >&2; exit 2; }
port=$(sed -n 's/^port=\([0-9]*\) .*/\1/p' <<<"$out")
pid=$(sed -n 's/.* pid=\([0-9]*\)$/\1/p' <<<"$out")
cleanup() { bash scripts/azurite.sh stop "$pid" || true; rm -rf "$work"; }
trap cleanup EXIT

account=devstoreaccount1
key='Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=='
base=http://127.0.0.1:$port/$account
export SYSVAULT_AZURE_ENDPOINT=$base SYSVAULT_AZURE_KEY=$key
export SYSVAULT_PASSPHRASE="bench passphrase, not a secret"
transfers=$(( $(nproc) * 2 )); [ $transfers -lt 4 ] && transfers=4; [ $transfers -gt 16 ] && transfers=16

# time_cmd <name> <command...>: wall seconds and peak RSS (KiB) into $work/<name>.time
time_cmd() {
  local name=$1; shift
  /usr/bin/time -f "%e %M" -o "$work/$name.time" "$@" >"$work/$name.log" 2>&1 || {
    echo "bench-azure: $name failed:" >&2; tail -5 "$work/$name.log" >&2; exit 2; }
  echo "bench-azure: $name $(cut -d' ' -f1 "$work/$name.time") s" >&2
}

mkdir -p "$work/src" "$work/out"
head -c "$size" /dev/urandom >"$work/src/data.bin"
bytes=$(stat -c %s "$work/src/data.bin")

# 1. sysvault
export SYSVAULT_HOME=$work/state
vault=azure://$account/bench/sv
"$sv" vault init --vault "$vault" >/dev/null
time_cmd sv-up "$sv" backup --source-dir "$work/src" --vault "$vault"
time_cmd sv-down "$sv" restore --point latest --to "$work/out" --vault "$vault"
cmp -s "$work/src/data.bin" "$work/out/data.bin" || { echo "bench-azure: restore differs" >&2; exit 2; }
rm -rf "$work/out"
export SYSVAULT_HOME=$work/state-local
"$sv" vault init --vault "$work/local" >/dev/null
time_cmd local-up "$sv" backup --source-dir "$work/src" --vault "$work/local"
time_cmd local-down "$sv" restore --point latest --to "$work/out" --vault "$work/local"
rm -rf "$work/out"
time_cmd copy-up "$sv" vault copy --vault "$work/local" --to "azure://$account/bench/copy"
# the same again, with nothing left to copy: what the command costs
# besides moving bytes (opening the vault -- its key derivation -- and
# listing both sides)
time_cmd copy-up-noop "$sv" vault copy --vault "$work/local" --to "azure://$account/bench/copy"
export SYSVAULT_HOME=$work/state-copy
time_cmd copy-down "$sv" vault copy --vault "azure://$account/bench/copy" --to "$work/copyback"
time_cmd copy-down-noop "$sv" vault copy --vault "azure://$account/bench/copy" --to "$work/copyback"
rm -rf "$work/copyback"

# 2. curl, same bytes, same parallelism
sas=$(python3 - "$account" "$key" <<'PY'
import base64, hashlib, hmac, sys, urllib.parse
account, key = sys.argv[1], sys.argv[2]
f = dict(sp="rwdlac", ss="b", srt="sco", st="", se="2030-01-01T00:00:00Z", sip="",
         spr="https,http", sv="2021-08-06", ses="")
sts = "\n".join([account, f["sp"], f["ss"], f["srt"], f["st"], f["se"], f["sip"],
                 f["spr"], f["sv"], f["ses"]]) + "\n"
sig = base64.b64encode(hmac.new(base64.b64decode(key), sts.encode(), hashlib.sha256).digest()).decode()
q = dict(sv=f["sv"], ss=f["ss"], srt=f["srt"], sp=f["sp"], se=f["se"], spr=f["spr"], sig=sig)
print(urllib.parse.urlencode(q))
PY
)
mkdir -p "$work/parts"
split -b 16M -d -a 4 "$work/src/data.bin" "$work/parts/p"
curl -sS -f -X PUT -H 'Content-Length: 0' -o /dev/null "$base/curlbench?restype=container&$sas"
export base sas
t0=$(date +%s.%N)
ls "$work/parts" | xargs -P "$transfers" -I{} curl -sS -f -T "$work/parts/{}" \
  -H 'x-ms-blob-type: BlockBlob' -H 'Expect:' -o /dev/null "$base/curlbench/{}?$sas"
t1=$(date +%s.%N)
ls "$work/parts" | xargs -P "$transfers" -I{} curl -sS -f -o /dev/null "$base/curlbench/{}?$sas"
t2=$(date +%s.%N)
echo "$(echo "$t1 - $t0" | bc) $(echo "$t2 - $t1" | bc)" >"$work/curl.time"
rm -rf "$work/parts"

# 3. curl moving the objects vault copy moved, as many at once
(cd "$work/local" && find . -type f ! -path './locks/*' | sed 's|^\./||' | sort) >"$work/objects"
copy_bytes=$(cd "$work/local" && xargs -a "$work/objects" stat -c %s | awk '{s += $1} END {print s}')
copy_count=$(wc -l <"$work/objects")
export work
curl -sS -f -X PUT -H 'Content-Length: 0' -o /dev/null "$base/curlcopy?restype=container&$sas"
t0=$(date +%s.%N)
xargs -a "$work/objects" -P "$transfers" -I{} curl -sS -f -T "$work/local/{}" \
  -H 'x-ms-blob-type: BlockBlob' -H 'Expect:' -o /dev/null "$base/curlcopy/{}?$sas"
t1=$(date +%s.%N)
xargs -a "$work/objects" -P "$transfers" -I{} curl -sS -f --create-dirs \
  -o "$work/curlback/{}" "$base/curlcopy/{}?$sas"
t2=$(date +%s.%N)
echo "$(echo "$t1 - $t0" | bc) $(echo "$t2 - $t1" | bc)" >"$work/curl-copy.time"
echo "$copy_bytes $copy_count" >"$work/copy.bytes"
rm -rf "$work/curlback" "$work/local"

# 4. throttled backup: 160 MiB at 40 Mbps is about 34 s
export SYSVAULT_HOME=$work/state-throttled
"$sv" throttle set --work-days Sun-Sat --work-hours 00:00-24:00 --work-rate 40Mbps >/dev/null
rm -rf "$work/src"; mkdir -p "$work/src"
head -c 160M /dev/urandom >"$work/src/data.bin"
"$sv" vault init --vault azure://$account/bench/throttled >/dev/null
time_cmd sv-throttled "$sv" --json backup --source-dir "$work/src" --vault azure://$account/bench/throttled

python3 - "$work" "$bytes" "$size" "$transfers" "$write" "$root/docs/performance.md" "$sv" <<'PY'
import os, platform, subprocess, sys
work, nbytes, size, transfers, write, doc, sv = sys.argv[1:8]
nbytes, transfers, write = int(nbytes), int(transfers), write == "1"
def t(name): return [float(x) for x in open(os.path.join(work, name + ".time")).read().split()]
up, up_rss = t("sv-up"); down, down_rss = t("sv-down")
l_up, _ = t("local-up"); l_down, _ = t("local-down")
c_up, c_down = t("curl")
th_wall, _ = t("sv-throttled")
import re
# the summary is the last object that names bytes_stored (progress lines come first)
found = re.findall(r'"bytes_stored":\s*(\d+)', open(os.path.join(work, "sv-throttled.log")).read())
if not found:
    sys.exit("bench-azure: no bytes_stored in the throttled backup's output")
stored = int(found[-1])
mib = lambda b, s: b / s / 2**20
rate = stored * 8 / th_wall
cp_up, cp_up_rss = t("copy-up"); cp_down, cp_down_rss = t("copy-down")
cp_up0, _ = t("copy-up-noop"); cp_down0, _ = t("copy-down-noop")
cc_up, cc_down = t("curl-copy")
cbytes, ccount = [int(x) for x in open(os.path.join(work, "copy.bytes")).read().split()]
def verdict(r): return "%.2f: %s" % (r, "met" if r >= 0.8 else "**not met**")
rows = ["| transfer | sysvault, Azurite | curl, Azurite | sysvault / curl (target >= 0.80) | sysvault, local directory |",
        "|---|---|---|---|---|",
        "| upload, transfer path (`vault copy` local -> Azurite) | %.1f MiB/s (%.1f s, peak RSS %.0f MiB); %.1f MiB/s without the %.2f s of a copy with nothing to do | %.1f MiB/s (%.1f s) | %s (%.2f without) | - |" % (
            mib(cbytes, cp_up), cp_up, cp_up_rss / 1024, mib(cbytes, cp_up - cp_up0), cp_up0,
            mib(cbytes, cc_up), cc_up, verdict(cc_up / cp_up), cc_up / (cp_up - cp_up0)),
        "| download, transfer path (`vault copy` Azurite -> local) | %.1f MiB/s (%.1f s, peak RSS %.0f MiB); %.1f MiB/s without the %.2f s of a copy with nothing to do | %.1f MiB/s (%.1f s) | %s (%.2f without) | - |" % (
            mib(cbytes, cp_down), cp_down, cp_down_rss / 1024, mib(cbytes, cp_down - cp_down0), cp_down0,
            mib(cbytes, cc_down), cc_down, verdict(cc_down / cp_down), cc_down / (cp_down - cp_down0)),
        "| upload, end to end (backup) | %.1f MiB/s (%.1f s, peak RSS %.0f MiB) | %.1f MiB/s (%.1f s) | %s | %.1f MiB/s (%.1f s) |" % (
            mib(nbytes, up), up, up_rss / 1024, mib(nbytes, c_up), c_up, verdict(c_up / up), mib(nbytes, l_up), l_up),
        "| download, end to end (restore) | %.1f MiB/s (%.1f s, peak RSS %.0f MiB) | %.1f MiB/s (%.1f s) | %s | %.1f MiB/s (%.1f s) |" % (
            mib(nbytes, down), down, down_rss / 1024, mib(nbytes, c_down), c_down, verdict(c_down / down), mib(nbytes, l_down), l_down),
        "",
        "Throttle at 40 Mbps: %.1f MiB stored in %.1f s = %.2f Mbps, %.3f of the configured rate "
        "(the wall clock includes opening the vault and writing the index)." % (
            stored / 2**20, th_wall, rate / 1e6, rate / 40e6)]
cpu = "unknown"
for l in open("/proc/cpuinfo"):
    if l.startswith("model name"):
        cpu = l.split(":", 1)[1].strip(); break
mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
def ver(cmd):
    try: return subprocess.run(cmd, capture_output=True, text=True).stdout.strip().splitlines()[0]
    except Exception: return "?"
azv = ver([os.path.join(os.getcwd(), "tests/node_modules/.bin/azurite-blob"), "--version"])
machine = "%d cores (%s), %.0f GiB RAM, %s %s" % (os.cpu_count(), cpu, mem, platform.system(), platform.release())
out = ["## Azure: %s through Azurite" % size, "",
       "Command: `scripts/bench.sh azure %s` on %s; Azurite %s on 127.0.0.1 (its data on the same disk),"
       " %s, %s. %d transfers at once (the default for this CPU count) for both sysvault and curl."
       " Transfer path: `vault copy` moves the %d objects (%.1f MiB) of a local vault holding the backup,"
       " checking each one's SHA-256 (and the MD5 of each uploaded block, on both sides), and writing each once (fsync'd);"
       " curl PUTs and GETs the same files (into files, not synced) with no checksum."
       " The verdict is on the whole command; the ratio without the fixed cost"
       " (a second copy that finds everything there: opening the vault, listing both sides) is given beside it."
       " End to end: the whole backup or restore command (chunking, compression, encryption, verification);"
       " curl moves the same bytes as 16 MiB blobs." % (size, machine, azv, ver([sv, "version"]),
           " ".join(ver(["curl", "--version"]).split()[:2]), transfers, ccount, cbytes / 2**20),
       "", *rows, ""]
print("\n".join(out))
if write:
    body = open(doc).read()
    parts = body.split("\n## ")
    keep = [parts[0]] + ["## " + p for p in parts[1:] if not ("## " + p).startswith("## Azure:")]
    text = keep[0].rstrip("\n") + "\n\n" + "\n".join(k.rstrip("\n") + "\n" for k in keep[1:]) + ("\n" if len(keep) > 1 else "") + "\n".join(out)
    open(doc, "w").write(text.rstrip("\n") + "\n")
PY
