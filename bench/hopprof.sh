#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Where a hop spends its time: runs `hops --case chain` on one hook, samples
# CPU 1 with perf meanwhile, and prints the share of time per program and
# the hottest x86 instructions of the cube's program (cube_entry of
# simpleforwarder, as the JIT made it), each with its samples.
#
# Usage: sudo bench/hopprof.sh [tc|xdp] [N]   (N hottest lines, default 40)
# Needs perf and objdump (binutils). Samples are cpu-clock (a VM has no
# PMU): they land on or just after the instruction that waited.
set -euo pipefail
hook=${1:-tc}
top=${2:-40}
cd "$(dirname "$0")/.."
B=build/bench
for t in perf objdump; do
	command -v $t >/dev/null || {
		echo "hopprof: $t is not installed" >&2
		exit 1
	}
done
[ -x $B/hops ] && [ -x $B/jitdump ] || {
	echo "hopprof: build first (make)" >&2
	exit 1
}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

taskset -c 1 $B/hops --case chain --hook "$hook" --runs 3 --repeat 6000000 >/dev/null 2>&1 &
hp=$!
sleep 2
grep '_cube_entry' /proc/kallsyms >"$tmp/ksyms" || true
perf record -q -o "$tmp/perf.data" -C 1 -e cpu-clock -F 20000 -- sleep 5 >/dev/null 2>&1
perf script -i "$tmp/perf.data" -F ip,sym >"$tmp/samples" 2>/dev/null
# the cube program the samples fell in most (other cubes may be loaded)
tag=$(awk '$2 ~ /_cube_entry$/ {print $2}' "$tmp/samples" | sort | uniq -c | sort -rn |
	awk 'NR == 1 {split($2, a, "_"); print a[3]}')
id=$(bpftool prog show | awk -F: -v t="$tag" '$0 ~ "name cube_entry" && $0 ~ "tag " t && !n++ {print $1}')
[ -n "$id" ] && $B/jitdump "$id" "$tmp/prog.jit"
wait $hp || true
[ -s "$tmp/prog.jit" ] || {
	echo "hopprof: no cube_entry program was found while hops ran" >&2
	exit 1
}
objdump -D -b binary -m i386:x86-64 "$tmp/prog.jit" >"$tmp/prog.dis"
python3 - "$tmp" "$top" "$hook" "$tag" <<'PY'
import collections, sys
tmp, top, hook, tag = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
starts = sorted(int(l.split()[0], 16) for l in open(tmp + "/ksyms"))
by_sym, at = collections.Counter(), collections.Counter()
total = 0
for line in open(tmp + "/samples"):
    f = line.split()
    if len(f) < 2:
        continue
    total += 1
    by_sym[f[1]] += 1
    if f[1] == "bpf_prog_%s_cube_entry" % tag:
        ip = int(f[0], 16)
        base = max((s for s in starts if s <= ip), default=None)
        if base is not None:
            at[ip - base] += 1
print("hops chain, %s: %d samples on CPU 1" % (hook, total))
for sym, n in by_sym.most_common(8):
    print("  %5.1f %%  %s" % (100.0 * n / max(total, 1), sym))
insns = {}
for line in open(tmp + "/prog.dis"):
    s = line.strip()
    if ":" not in s:
        continue
    try:
        insns[int(s.split(":")[0], 16)] = s.split(":", 1)[1].strip()
    except ValueError:
        pass
inside = sum(at.values())
print("\nhottest instructions of cube_entry (%d samples; offset, share, x86):" % inside)
for off, n in sorted(at.items(), key=lambda x: -x[1])[:top]:
    print("  %5x %5.1f %%  %s" % (off, 100.0 * n / max(inside, 1), " ".join(insns.get(off, "?").split())))
PY
