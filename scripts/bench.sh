#!/usr/bin/env bash
# usage: scripts/bench.sh [size] [--no-write]
#        scripts/bench.sh azure [size] [--no-write]
#
# Measures sysvault against restic, borg and casync on the same
# system-state-shaped images (../shared/bench/mkimage.py --size <size>
# --versions 2 --seed 7), in one run: first backup, next-day backup,
# restore. Prints one table (wall, CPU, peak RSS, repository size and
# growth) with the ratios to restic, and writes it with the machine's
# description to docs/performance.md (unless --no-write).
# size defaults to 2G. Installs restic, borgbackup and casync from Debian
# when missing. Work files live in build/bench/ (kept for reruns).
#
# With "azure": sysvault's upload (backup) and download (restore) rate
# against Azurite on 127.0.0.1 beside curl moving the same bytes as 16 MiB
# blobs with as many parallel transfers, then a backup throttled to 40 Mbps
# (achieved / configured rate). size (default 256M) of random data; writes
# the "Azure" section of docs/performance.md (scripts/bench-azure.sh).
set -euo pipefail

size=2G write=1 azure=0
for a in "$@"; do
  case "$a" in
    -h|--help) sed -n '2,19s/^# \{0,1\}//p' "$0"; exit 0 ;;
    --no-write) write=0 ;;
    azure) azure=1 ;;
    [0-9]*) size=$a ;;
    *) echo "bench.sh: unknown argument '$a'" >&2; exit 3 ;;
  esac
done

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
if [ $azure -eq 1 ]; then
  [ "$size" = 2G ] && size=256M
  exec bash scripts/bench-azure.sh "$size" "$write"
fi
mkimage=${SYSVAULT_SHARED:-$root/../shared}/bench/mkimage.py
[ -f "$mkimage" ] || { echo "bench.sh: $mkimage not found (shared/ beside the clone)" >&2; exit 2; }

scripts/install-deps.sh >/dev/null
need=()
for t in restic:restic borg:borgbackup casync:casync /usr/bin/time:time; do
  command -v "${t%%:*}" >/dev/null 2>&1 || need+=("${t##*:}")
done
if [ ${#need[@]} -gt 0 ]; then
  SUDO=; [ "$(id -u)" -eq 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi

cmake -S . -B build/bench-build -G Ninja -DCMAKE_BUILD_TYPE=Release -DSV_BUILD_TESTS=OFF >/dev/null
cmake --build build/bench-build >/dev/null
sv=$root/build/bench-build/agent/sysvault

work=$root/build/bench
img=$work/images-$size
mkdir -p "$work"
if [ ! -f "$img/image-v2.vhdx" ]; then
  echo "bench: generating two $size images..." >&2
  python3 "$mkimage" --size "$size" --versions 2 --seed 7 "$img" >/dev/null
fi

pass="bench passphrase, not a secret"
export RESTIC_PASSWORD=$pass BORG_PASSPHRASE=$pass SYSVAULT_PASSPHRASE=$pass
export BORG_UNKNOWN_UNENCRYPTED_REPO_ACCESS_IS_OK=yes BORG_RELOCATED_REPO_ACCESS_IS_OK=yes
export SYSVAULT_HOME=$work/sysvault-state

results=$work/results.tsv
: >"$results"

# measure <tool> <step> <repo> <command...>: wall, CPU (user+sys), peak RSS
measure() {
  local tool=$1 step=$2 repo=$3; shift 3
  sync
  /usr/bin/time -f "%e %U %S %M" -o "$work/time.out" "$@" >"$work/$tool-$step.log" 2>&1 || {
    echo "bench: $tool $step failed:" >&2; tail -5 "$work/$tool-$step.log" >&2; exit 2; }
  read -r wall user sys rss <"$work/time.out"
  local bytes=0
  [ -n "$repo" ] && bytes=$(du -sb "$repo" | cut -f1)
  printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$tool" "$step" "$wall" \
    "$(echo "$user + $sys" | bc)" "$rss" "$bytes" >>"$results"
  printf 'bench: %-8s %-8s %7ss wall\n' "$tool" "$step" "$wall" >&2
}

src=$work/src out=$work/out
stage() { rm -rf "$src"; mkdir -p "$src"; cp "$img/image-v$1.vhdx" "$src/image.vhdx"; }

run_tool() {   # tool init backup restore
  local tool=$1 repo=$work/repo-$1
  rm -rf "$repo" "$out" "$SYSVAULT_HOME"; mkdir -p "$out"
  eval "$2" >/dev/null 2>&1
  stage 1; measure "$tool" first "$repo" bash -c "$3"
  stage 2; measure "$tool" next "$repo" bash -c "$3"
  measure "$tool" restore "" bash -c "$4"
  cmp -s "$src/image.vhdx" "$(find "$out" -name image.vhdx -o -name v2.vhdx | head -1)" || {
    echo "bench: $tool restored a different file" >&2; exit 2; }
  rm -rf "$repo" "$out"
}

run_tool sysvault "$sv vault init --vault $work/repo-sysvault" \
  "$sv backup --source-dir $src --vault $work/repo-sysvault" \
  "$sv restore --point latest --to $out --vault $work/repo-sysvault"
run_tool restic "restic init -r $work/repo-restic" \
  "restic -r $work/repo-restic backup $src" \
  "restic -r $work/repo-restic restore latest --target $out"
n=0
run_tool borg "borg init --encryption=repokey-blake2 $work/repo-borg" \
  "borg create $work/repo-borg::day\$(date +%s%N) $src" \
  "cd $out && borg extract $work/repo-borg::\$(borg list --short --last 1 $work/repo-borg)"
run_tool casync "mkdir -p $work/repo-casync" \
  "casync make --store=$work/repo-casync/store $work/repo-casync/\$(date +%s%N).caibx $src/image.vhdx" \
  "casync extract --store=$work/repo-casync/store \$(ls $work/repo-casync/*.caibx | tail -1) $out/v2.vhdx"

python3 - "$results" "$size" "$write" "$root/docs/performance.md" <<'PY'
import sys, os, platform, subprocess
res, size, write, doc = sys.argv[1], sys.argv[2], sys.argv[3] == "1", sys.argv[4]
rows = {}
for line in open(res):
    tool, step, wall, cpu, rss, repo = line.split("\t")
    rows[(tool, step)] = (float(wall), float(cpu), int(rss), int(repo))
tools = ["sysvault", "restic", "borg", "casync"]
def g(t, s, i): return rows[(t, s)][i]
lines = ["| tool | first backup wall / CPU | next-day wall / CPU | restore wall / CPU | peak RSS | vault after day 1 | growth day 2 |",
         "|---|---|---|---|---|---|---|"]
for t in tools:
    rss = max(g(t, s, 2) for s in ("first", "next", "restore")) / 1024
    lines.append("| %s | %.2f s / %.2f s | %.2f s / %.2f s | %.2f s / %.2f s | %.0f MiB | %.1f MiB | %.1f MiB |" % (
        t, g(t, "first", 0), g(t, "first", 1), g(t, "next", 0), g(t, "next", 1),
        g(t, "restore", 0), g(t, "restore", 1), rss, g(t, "first", 3) / 2**20,
        (g(t, "next", 3) - g(t, "first", 3)) / 2**20))
sv = lambda s, i: g("sysvault", s, i)
rs = lambda s, i: g("restic", s, i)
growth = lambda t: g(t, "next", 3) - g(t, "first", 3)
svrss = max(sv(s, 2) for s in ("first", "next", "restore")) / 1024
targets = [
    ("first backup wall <= 1/3 of restic", sv("first", 0) / rs("first", 0), 1 / 3),
    ("next-day backup wall <= 1/4 of restic", sv("next", 0) / rs("next", 0), 1 / 4),
    ("vault growth day 2 <= casync's", growth("sysvault") / max(growth("casync"), 1), 1.0),
    ("restore wall <= 1/2 of restic", sv("restore", 0) / rs("restore", 0), 1 / 2),
    ("peak RSS <= 64 MiB", svrss / 64, 1.0),
]
tl = ["| target | measured | met |", "|---|---|---|"]
for name, val, lim in targets:
    shown = "%.0f MiB" % svrss if "RSS" in name else "%.3f" % val
    tl.append("| %s | %s | %s |" % (name, shown, "yes" if val <= lim + 1e-9 else "**no**"))
cpu = "unknown"
for l in open("/proc/cpuinfo"):
    if l.startswith("model name"):
        cpu = l.split(":", 1)[1].strip(); break
mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
def ver(cmd):
    try: return subprocess.run(cmd, capture_output=True, text=True).stdout.strip().splitlines()[0]
    except Exception: return "?"
machine = "%d cores (%s), %.0f GiB RAM, %s %s" % (os.cpu_count(), cpu, mem, platform.system(), platform.release())
out = ["## Run: %s image, two days" % size, "",
       "Command: `scripts/bench.sh %s` on %s." % (size, machine),
       "Tools: %s; %s; %s; casync %s." % (ver(["restic", "version"]), ver(["borg", "--version"]),
                                      ver(["build/bench-build/agent/sysvault", "version"]),
                                      ver(["dpkg-query", "-W", "-f=${Version}", "casync"])),
       "Page cache warm for every tool (images generated, then copied into place before each backup).", "",
       *lines, "", *tl, ""]
print("\n".join(out))
if write:
    head = "# Performance\n\nMeasured by `scripts/bench.sh` (never by a timed test). Each run below replaces the\nprevious run of the same size; sections for other sizes stay.\n\n"
    body = open(doc).read() if os.path.exists(doc) else head
    if not body.startswith("# Performance"):
        body = head + body
    marker = "## Run: %s image" % size
    parts = body.split("\n## ")
    keep = [parts[0]] + ["## " + p for p in parts[1:] if not ("## " + p).startswith(marker)]
    text = keep[0].rstrip("\n") + "\n\n" + "\n".join(k.rstrip("\n") + "\n" for k in keep[1:]) + ("\n" if len(keep) > 1 else "") + "\n".join(out)
    open(doc, "w").write(text.rstrip("\n") + "\n")
PY
