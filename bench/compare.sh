#!/usr/bin/env bash
# bench/compare.sh: credvault beside the seed's Python helper, in one run.
#
#   (a) whole process, with hyperfine: `credvault get` against the seed's
#       CredentialManager (bench/seed_helper.py, run by /usr/bin/python3),
#       and `credvault env -format json` against its inject_env, per size;
#   (b) in process: Open, Flatten and Seal (bench/inprocess) against
#       Fernet.decrypt+json.loads, the seed's _flatten and
#       json.dumps+Fernet.encrypt (bench/python_inprocess.py);
#   (c) issue 16's rows: exec beside env at 1k, 10k and 50k secrets with
#       peak RSS (/usr/bin/time), Open of the compact 100k vault, and the
#       redactor's throughput at 1,000 secrets (go test -bench).
#
# It prints a table of medians and ratios and writes it, with the machine
# and its load average at the start and the end of the run, to
# bench/RESULTS.md. It installs hyperfine and python3-cryptography with
# apt when they are missing, and needs nothing else: it runs unattended.
# Usage: bench/compare.sh [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-20}

need=()
command -v hyperfine >/dev/null || need+=(hyperfine)
[ -x /usr/bin/time ] || need+=(time)
/usr/bin/python3 -c 'import cryptography' 2>/dev/null || need+=(python3-cryptography)
if [ ${#need[@]} -gt 0 ]; then
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need[@]}" >/dev/null
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cut -d' ' -f1-3 /proc/loadavg >"$work/load-start.txt"
scratch=$work
[ -d /dev/shm ] && [ -w /dev/shm ] && scratch=/dev/shm

echo "building credvault and the fixtures in $work" >&2
go build -o "$work/credvault" ./example/credvault
go run ./bench/fixtures -dir "$work" >"$work/fixtures.txt"
export MASTER_KEY=$(go run ./bench/keyprint)
py=/usr/bin/python3

for size in seed 1k 100k; do
  path=$(go run ./bench/keyprint -path "$size")
  echo "whole process, $size" >&2
  hyperfine -N --warmup 3 --runs "$runs" --export-json "$work/get-$size.json" \
    -n credvault "$work/credvault get -audit /dev/null -vault $work/$size.enc $path" \
    -n python "$py bench/seed_helper.py get $work/$size.enc $path" >/dev/null
  # The seed's inject_env puts every variable into os.environ, one putenv
  # each: at 100k it takes tens of seconds, so that size gets two runs.
  envruns=$runs; [ "$size" = 100k ] && envruns=2
  hyperfine -N --warmup 1 --runs "$envruns" --export-json "$work/env-$size.json" \
    -n credvault "$work/credvault env -audit /dev/null -format json -prefix APP_ -vault $work/$size.enc" \
    -n python "$py bench/seed_helper.py env $work/$size.enc" >/dev/null
done

# exec beside env on the same vault (issue 16): `exec -- true` builds no
# masker (the child prints nothing); `exec -- echo x` builds it. Peak RSS
# from /usr/bin/time, the median of 3 runs. At 50,000 secrets the default
# stack limit makes exec refuse the environment; with a 64 MiB stack it
# starts.
rss() { # rss NAME CMD... : the median of 3 peak RSS figures, in KB
  local name=$1; shift
  for i in 1 2 3; do /usr/bin/time -f %M -o "$work/rss.tmp" "$@" >/dev/null 2>&1 || true; tail -n 1 "$work/rss.tmp"; done |
    sort -n | sed -n 2p >"$work/rss-$name.txt"
}
# The three commands take turns, five runs each for 8 rounds, so that a slow
# spell of a shared machine falls on all of them rather than on one (hyperfine
# runs each command's runs in a row); each median is of the 40 runs.
for size in exec1k exec10k; do
  echo "exec, $size" >&2
  v="-audit /dev/null -vault $work/$size.enc"
  for round in 1 2 3 4 5 6 7 8; do
    hyperfine -N --warmup 1 --runs 5 --export-json "$work/exec-$size-$round.json" \
      -n env "$work/credvault env -format json $v" \
      -n exec-true "$work/credvault exec $v -- true" \
      -n exec-echo "$work/credvault exec $v -- echo x" >/dev/null
  done
  rss "env-$size" "$work/credvault" env -format json $v
  rss "exec-true-$size" "$work/credvault" exec $v -- true
  rss "exec-echo-$size" "$work/credvault" exec $v -- echo x
done
echo "exec, exec50k" >&2
v50="-audit /dev/null -vault $work/exec50k.enc"
hyperfine -N -i --warmup 1 --runs 5 --export-json "$work/exec-exec50k.json" \
  -n exec-refused "$work/credvault exec $v50 -- true" >/dev/null
(ulimit -s 65536
 hyperfine -N --warmup 1 --runs 5 --export-json "$work/exec-exec50k-big.json" \
   -n exec-echo "$work/credvault exec $v50 -- echo x" >/dev/null
 rss exec-echo-exec50k "$work/credvault" exec $v50 -- echo x)
rss exec-refused-exec50k "$work/credvault" exec $v50 -- true
# What the process costs with no vault at all: the constant under the
# per-secret figures.
rss version "$work/credvault" version

echo "redactor" >&2
# Each level anchored: unanchored, secrets=1000 also ran secrets=10000,
# whose slower figures went into the median of the 1,000-secret row.
go test -run=NONE -bench='^BenchmarkRedact$/^secrets=1000$/^none$/^redactor$' -benchtime=5x -count=5 . >"$work/redact.txt"

echo "in process" >&2
go run ./bench/inprocess -dir "$work" -scratch "$scratch" >"$work/go.jsonl"
$py bench/python_inprocess.py "$work" >"$work/py.jsonl"

cut -d' ' -f1-3 /proc/loadavg >"$work/load-end.txt"

$py - "$work" <<'PY' | tee bench/RESULTS.md
import json, os, platform, statistics, subprocess, sys
work = sys.argv[1]

def hf(name):
    r = json.load(open(os.path.join(work, name)))["results"]
    return {x["command"]: x["median"] * 1000 for x in r}

def hfr(prefix):
    """The median of each command's runs over the rounds prefix-1.json, prefix-2.json, ..."""
    times = {}
    for name in sorted(n for n in os.listdir(work) if n.startswith(prefix + "-")):
        for x in json.load(open(os.path.join(work, name)))["results"]:
            times.setdefault(x["command"], []).extend(x["times"])
    return {c: statistics.median(t) * 1000 for c, t in times.items()}

def lines(name):
    return {(d["op"], d["size"]): d for d in map(json.loads, open(os.path.join(work, name)))}

go, py = lines("go.jsonl"), lines("py.jsonl")
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), platform.processor())
goversion = subprocess.run(["go", "version"], capture_output=True, text=True).stdout.strip()
import cryptography
print("# credvault beside the seed's Python helper\n")
print(f"Machine: {cpu}, {os.cpu_count()} cores, {platform.system()} {platform.release()}; "
      f"{goversion}; Python {platform.python_version()} with cryptography {cryptography.__version__}.\n")
load = lambda name: open(os.path.join(work, name)).read().strip()
print(f"Load average (1, 5, 15 minutes) at the start of the run: {load('load-start.txt')}; at the end: {load('load-end.txt')}. "
      "The machine is shared: wall-clock figures taken under load are slower, and ratios noisier, than on a quiet machine.\n")
print("Produced by `bench/compare.sh` (hyperfine for whole processes, median of the runs; "
      "in process, median of at least 5 runs and 1 s). Ratio = credvault / Python: lower is better.\n")

rows = []
def row(what, ours, theirs, target=None):
    ratio = ours / theirs
    if target is None:
        verdict = ""
    elif target.startswith("<="):
        verdict = "met" if ratio <= float(target[2:]) else "MISSED"
    else:  # ">=N x faster"
        verdict = "met" if theirs / ours >= float(target[2:]) else "MISSED"
    speed = f"{theirs/ours:.1f}x faster" if ours <= theirs else f"{ours/theirs:.1f}x slower"
    rows.append((what, f"{ours:.3f}", f"{theirs:.3f}", f"{ratio:.3f} ({speed})", target or "", verdict))

for size in ("seed", "1k", "100k"):
    g = hf(f"get-{size}.json")
    row(f"whole process, `get`, {size}", g["credvault"], g["python"], ">=25" if size == "seed" else None)
for size in ("seed", "1k", "100k"):
    e = hf(f"env-{size}.json")
    row(f"whole process, `env -format json` vs inject_env, {size}", e["credvault"], e["python"], ">=20" if size == "1k" else None)
targets = {"open": "<=0.5", "flatten": "<=0.5", "seal": "<=0.7"}
names = {"open": "Open vs decrypt+json.loads", "flatten": "Flatten vs _flatten", "seal": "Seal (atomic write to tmpfs) vs json.dumps+encrypt"}
for op in ("open", "flatten", "seal"):
    for size in ("seed", "1k", "100k"):
        row(f"in process, {names[op]}, {size}", go[(op, size)]["median_ms"], py[(op, size)]["median_ms"], targets[op] if size == "100k" else None)

print("| measurement | credvault ms | Python ms | ratio | target | |")
print("|---|---:|---:|---|---|---|")
for r in rows:
    tgt = r[4].replace(">=", "≥ ").replace("<=", "≤ ")
    if r[4].startswith(">="):
        tgt += "x faster"
    elif r[4]:
        tgt += "x Python"
    print(f"| {r[0]} | {r[1]} | {r[2]} | {r[3]} | {tgt} | {r[5]} |")

def rssk(name):
    return int(open(os.path.join(work, f"rss-{name}.txt")).read().strip() or 0)

def secret_bytes(size):
    n = {"exec1k": 1000, "exec10k": 10000, "exec50k": 50000}[size]
    return 32 * n

oc = go[("open", "compact100k")]
print("\n## Issue 16: exec, the compact vault, the redactor\n")
print("Each row of issue 16's table beside its target, measured in this run. `exec -- true` builds no masker "
      "(a Masker compiles on the first output its Redactors see); `exec -- echo x` builds it, and is the figure "
      "for a command that prints anything. Issue 16 (this project's performance issue) set its targets for "
      "`exec -- true`; the rows marked \"ours\" apply the same targets to `exec -- echo x`, a stricter bar the "
      "issue does not require. "
      "Times are medians of 40 runs, `env`, `exec -- true` and `exec -- echo x` "
      "taking turns five runs at a time. Memory is peak RSS (`/usr/bin/time -f %M`, median of 3).\n")
print("| what | figure | target | |")
print("|---|---|---|---|")
def ours(cmd):
    return " (ours)" if cmd == "exec-echo" else ""
for size in ("exec1k", "exec10k"):
    e = hfr(f"exec-{size}")
    for cmd in ("exec-true", "exec-echo"):
        ratio = e[cmd] / e["env"]
        print(f"| `{cmd.replace('exec-', 'exec -- ').replace('echo', 'echo x')}`, {size} ({size[4:]} secrets of 32 bytes) | "
              f"{e[cmd]:.1f} ms, {rssk(cmd + '-' + size)/1024:.1f} MB RSS; `env -format json` {e['env']:.1f} ms, "
              f"{rssk('env-' + size)/1024:.1f} MB: {ratio:.2f}x env | ≤ 2x env{ours(cmd)} | {'met' if ratio <= 2 else 'MISSED'} |")
def slope(cmd):
    return (rssk(f"{cmd}-exec10k") - rssk(f"{cmd}-exec1k")) * 1024 / (secret_bytes("exec10k") - secret_bytes("exec1k"))
for cmd in ("exec-true", "exec-echo"):
    print(f"| memory of `{cmd.replace('exec-', 'exec -- ').replace('echo', 'echo x')}` per byte of secret, 1k to 10k secrets | "
          f"{slope(cmd):.1f} bytes of RSS per secret byte (+{(rssk(cmd + '-exec10k') - rssk(cmd + '-exec1k'))/1024:.1f} MB "
          f"for 288 KB of values; `env -format json` {slope('env'):.1f}); the constant: {rssk(cmd + '-exec1k')/1024:.1f} MB at 1k, "
          f"{rssk('version')/1024:.1f} MB for `credvault version` | ≤ 20x{ours(cmd)} | {'met' if slope(cmd) <= 20 else 'MISSED'} |")
r50 = hf("exec-exec50k.json")["exec-refused"]
b50 = hf("exec-exec50k-big.json")["exec-echo"]
print(f"| `exec` on 50,000 secrets, default stack limit | refused in {r50:.1f} ms, {rssk('exec-refused-exec50k')/1024:.1f} MB RSS "
      f"| refuse or start well under a second, bounded memory | {'met' if r50 < 500 else 'MISSED'} |")
print(f"| `exec -- echo x` on 50,000 secrets, `ulimit -s 65536` | starts and masks in {b50:.1f} ms, {rssk('exec-echo-exec50k')/1024:.1f} MB RSS "
      f"| well under a second, bounded memory | {'met' if b50 < 500 else 'MISSED'} |")
oc_ratio = oc["median_ms"] / py[("open", "compact100k")]["median_ms"]
print(f"| in-process `Open`, compact100k ({oc['file_bytes']/1e6:.1f} MB file, 100k values of 32-47 bytes in objects of 4) | "
      f"{oc_ratio:.2f}x Python; allocates {oc['alloc_bytes']/oc['file_bytes']:.2f}x the file | ≤ 0.45x Python, ≤ 2x the file | "
      f"{'met' if oc_ratio <= 0.45 else 'MISSED'}, {'met' if oc['alloc_bytes'] <= 2*oc['file_bytes'] else 'MISSED'} |")
import re
speeds = sorted(float(m) for m in re.findall(r"([0-9.]+) MB/s", open(os.path.join(work, "redact.txt")).read()))
med = speeds[len(speeds)//2] / 1000
print(f"| redactor, 1,000 secrets with every encoded form, 64 MiB without matches in 32 KiB writes | "
      f"{med:.2f} GB/s (median of {len(speeds)}; range {speeds[0]/1000:.2f}-{speeds[-1]/1000:.2f}) | ≥ 1.5 GB/s | {'met' if med >= 1.5 else 'MISSED'} |")

print("\nIn process, Seal does more than the Python it is set beside: it writes the vault atomically "
      "(temporary file, fsync, rename, fsync of the directory, under a lock), here to a tmpfs, where Python only "
      "serializes and encrypts; at the small sizes those system calls are most of its time. "
      "Python's flatten is inject_env's _flatten without the os.environ.update.")
o1, o100 = go[("open", "1k")], go[("open", "100k")]
alloc = o100["alloc_bytes"]
print(f"\nOpen of the 100k vault allocates {alloc/1e6:.1f} MB for a {o100['file_bytes']/1e6:.1f} MB file: "
      f"{alloc/o100['file_bytes']:.2f}x its size (target ≤ 2x: {'met' if alloc <= 2*o100['file_bytes'] else 'MISSED'}).")
per_mb_1k = o1["median_ms"] / (o1["file_bytes"] / 1e6)
per_mb_100k = o100["median_ms"] / (o100["file_bytes"] / 1e6)
print(f"Cost per MB of vault: Open {per_mb_1k:.1f} ms/MB at 1k, {per_mb_100k:.1f} ms/MB at 100k; "
      f"Flatten {go[('flatten','100k')]['median_ms']/(o100['file_bytes']/1e6):.1f} ms/MB at 100k.")
PY
