#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Firewall rule changes through the bus (bench/buslat, a connection per
# request like cubectl), on a chain that holds 10, then 10 000 rules: one
# append, one insert at the front (id 0: every later rule's id moves, and the
# broker stores each), one delete at the end; median and p99 of K each, in
# ms (after one append that loads the code for UDP ports, not timed). Also
# the batch that fills the chain, in rules per second (the first batch into
# an empty chain also loads the code for its rules' fields). Private
# broker; cleans up after itself.
# Usage: bench/fwinsert.sh [K] [SIZES]   (default 50, "10 10000"). Prints a
# Markdown table.
set -uo pipefail
cd "$(dirname "$0")/.."
top=$PWD
export PATH="$top/build/bin:$PATH"
K=${1:-50}
SIZES=${2:-10 10000}
B=$top/build/bench/buslat
[ -x "$B" ] && [ -x build/bin/cubebusd ] || { echo "run make first" >&2; exit 1; }
id=cbf$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')
tmp=$(mktemp -d "/tmp/$id.XXXXXX")
export CUBEBUS_RUN_DIR=$tmp/run CUBEBUS_STATE_DIR=$tmp/state CUBEBUS_BPFFS=/sys/fs/bpf/$id
bpid=

cleanup() {
	[ -n "$bpid" ] && kill "$bpid" 2>/dev/null && wait "$bpid" 2>/dev/null
	cubebusd --cleanup >/dev/null 2>&1
	rm -rf "$tmp"
}
trap cleanup EXIT

cubebusd --rest off 2>"$tmp/broker.log" &
bpid=$!
for _ in $(seq 100); do cubectl version >/dev/null 2>&1 && break; sleep 0.05; done

# batch N: N APPENDs of distinct rules (a /32 source each)
batch() {
	python3 -c "
import json,sys
n=int(sys.argv[1])
print(json.dumps({'rules':[{'id':i,'operation':'APPEND','src':'10.%d.%d.%d/32'%(i>>16,(i>>8)&255,i&255),'action':'DROP'} for i in range(n)]}))" "$1"
}

ms() { awk '{printf "%.2f %.2f\n", $1 / 1000, $2 / 1000}'; }

echo "| rules in the chain | append: median / p99 (ms) | insert at id 0: median / p99 (ms) | delete at the end: median / p99 (ms) | batch fill (rules/s) |"
echo "|---:|---:|---:|---:|---:|"
i=0
for n in $SIZES; do
	i=$((i + 1))
	cubectl firewall add "fw$i" >/dev/null || { echo "firewall add failed" >&2; exit 1; }
	batch "$n" >"$tmp/body"
	t0=$(date +%s%N)
	"$B" --n 1 "/fw$i/chain/INGRESS/batch" create "@$tmp/body" >/dev/null ||
		{ echo "filling fw$i with $n rules failed" >&2; exit 1; }
	t1=$(date +%s%N)
	rate=$(awk -v n="$n" -v d=$((t1 - t0)) 'BEGIN { printf "%.0f", n / (d / 1e9) }')
	[ "$(cubectl "fw$i" chain INGRESS rule show -json | jq length)" = "$n" ] ||
		{ echo "fw$i does not hold $n rules" >&2; exit 1; }
	# the first rule with UDP and a port loads code for them (specialise-and-swap): not timed here
	"$B" --n 1 "/fw$i/chain/INGRESS/append" create '{"l4proto":"UDP","dport":8,"action":"DROP"}' >/dev/null
	read -r am ap <<<"$("$B" --n "$K" "/fw$i/chain/INGRESS/append" create '{"l4proto":"UDP","dport":9,"action":"DROP"}' | ms)"
	read -r im ip <<<"$("$B" --n "$K" "/fw$i/chain/INGRESS/insert" create '{"id":0,"l4proto":"UDP","dport":7,"action":"DROP"}' | ms)"
	read -r dm dp <<<"$("$B" --n "$K" "/fw$i/chain/INGRESS/delete" create '{"l4proto":"UDP","dport":9,"action":"DROP"}' | ms)"
	echo "| $n | $am / $ap | $im / $ip | $dm / $dp | $rate |"
	cubectl firewall del "fw$i" >/dev/null
done
