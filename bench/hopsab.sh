#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# A paired comparison of the hop at two commits: the framework program
# (cubebus.bpf.o) and the simpleforwarder cubes of each commit, measured
# by today's `hops --case chain`, the two alternated K times, each run a
# fresh load. On a shared VM a difference of a few ns between two separate
# runs of hops is noise (and code placement changes with every load); the
# median of the paired differences is not.
#
# Usage: sudo bench/hopsab.sh REV_A REV_B [K]   (default K 10; about 20 s per K)
# Prints, per hook and chain length, the median added ns per hop of A and
# of B and the median of B - A. The two commits must share the maps'
# layout (cubebus_shared.h) with the tree hops was built from.
set -euo pipefail
[ $# -ge 2 ] || {
	echo "usage: bench/hopsab.sh REV_A REV_B [K]" >&2
	exit 2
}
a=$1 b=$2 k=${3:-10}
cd "$(dirname "$0")/.."
[ -x build/bench/hops ] || {
	echo "hopsab: build first (make)" >&2
	exit 1
}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
BPFCC=(clang -g -O2 -target bpf -D__TARGET_ARCH_x86 -I/usr/include/x86_64-linux-gnu -Wall -Wno-unused-function)

objs() { # REV DIR: the objects of REV (the framework's and simpleforwarder's), the rest as built
	local src=$tmp/src-$3
	mkdir -p "$src" "$2"
	git archive "$1" bpf cube-services/simpleforwarder | tar -x -C "$src"
	cp build/obj/bpf/*.o "$2"/
	"${BPFCC[@]}" -I"$src"/bpf/include -c "$src"/bpf/cubebus.bpf.c -o "$2"/cubebus.bpf.o
	for h in tc xdp; do
		"${BPFCC[@]}" -I"$src"/bpf/include -DCUBE_${h^^} -c "$src"/cube-services/simpleforwarder/simpleforwarder.bpf.c \
			-o "$2"/simpleforwarder_$h.bpf.o
	done
}
objs "$a" "$tmp/a" a
objs "$b" "$tmp/b" b
echo "hops chain, $a (A) against $b (B), $k paired loads; added ns per hop, medians"
echo
echo "| hook | case | A | B | B - A |"
echo "|------|------|--:|--:|------:|"
for h in tc xdp; do
	for i in $(seq "$k"); do
		for d in a b; do
			echo "@@ $d"
			CUBEBUS_BPF_OBJ_DIR=$tmp/$d taskset -c 1 build/bench/hops --case chain --hook $h --runs 3 --repeat 200000 --json
		done
	done | python3 -c '
import json, statistics as st, sys
res = {"a": {}, "b": {}}
for part in sys.stdin.read().split("@@ ")[1:]:
    d, js = part.split("\n", 1)
    for r in json.loads(js)["results"]:
        res[d].setdefault(r["case"], []).append(r["added_ns_per_hop"])
for c, A in res["a"].items():
    B = res["b"].get(c, [])
    if not B:
        continue
    d = [y - x for x, y in zip(A, B)]
    print("| %s | %s | %.1f | %.1f | %+.1f |" % (sys.argv[1], c, st.median(A), st.median(B), st.median(d)))
' $h
done
