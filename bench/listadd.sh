#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# One entry added to a list that holds 10 and then 10 000 entries: the bus
# round trip of the request (bench/buslat --paths, one connection per
# request like cubectl), median and p99 of K adds, for router static routes and
# simplebridge static fdb entries. Private broker; cleans up after itself.
# Usage: bench/listadd.sh [K] [SIZES]   (default 50, "10 10000"). Prints a
# Markdown table.
set -uo pipefail
cd "$(dirname "$0")/.."
top=$PWD
export PATH="$top/build/bin:$PATH"
K=${1:-50}
SIZES=${2:-10 10000}
B=$top/build/bench/buslat
[ -x "$B" ] && [ -x build/bin/cubebusd ] || { echo "run make first" >&2; exit 1; }
id=cbl$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')
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

# body N: a list of N entries for the service's list
routes() {
	python3 -c "
import json,sys
n=int(sys.argv[1])
print(json.dumps({'route':[{'network':'10.%d.%d.0/24'%(i//250,i%250),'nexthop':'10.255.0.1'} for i in range(n)]}))" "$1"
}
fdb() {
	python3 -c "
import json,sys
n=int(sys.argv[1])
print(json.dumps({'fdb':{'entry':[{'address':'0a:00:00:%02x:%02x:%02x'%(i>>16,(i>>8)&255,i&255),'port':'p1'} for i in range(n)]}}))" "$1"
}

# adds CUBE N KIND: K adds to CUBE holding N entries, each its own request
# (a connection each, like cubectl; one process, so the ZeroMQ context is
# made once); prints "median p99" in ms
adds() {
	local cube=$1 n=$2 kind=$3 k body
	: >"$tmp/paths"
	for ((k = 0; k <= K; k++)); do
		if [ "$kind" = route ]; then
			echo "/$cube/route/172.$((16 + k / 250)).$((k % 250)).0%2F24/10.255.0.1"
		else
			echo "/$cube/fdb/entry/0e:00:00:00:$(printf '%02x:%02x' $((k / 256)) $((k % 256)))"
		fi
	done >"$tmp/paths"
	[ "$kind" = route ] && body='{}' || body='{"port":"p1"}'
	"$B" --paths "$tmp/paths" create "$body" | awk '{printf "%.2f %.2f\n", $1 / 1000, $2 / 1000}'
}

echo "| list | entries | add one: median (ms) | p99 (ms) |"
echo "|---|---:|---:|---:|"
i=0
for n in $SIZES; do
	i=$((i + 1))
	cubectl router add "r$i" >/dev/null
	cubectl "r$i" ports add p1 ip=10.255.0.254/24 >/dev/null
	routes "$n" >"$tmp/body"
	"$B" --n 1 "/r$i" update "@$tmp/body" >/dev/null || { echo "filling r$i with $n routes failed" >&2; exit 1; }
	read -r med p99 <<<"$(adds "r$i" "$n" route)"
	echo "| router static routes | $n | $med | $p99 |"
	cubectl simplebridge add "b$i" >/dev/null
	cubectl "b$i" ports add p1 >/dev/null
	fdb "$n" >"$tmp/body"
	"$B" --n 1 "/b$i" update "@$tmp/body" >/dev/null || { echo "filling b$i with $n fdb entries failed" >&2; exit 1; }
	read -r med p99 <<<"$(adds "b$i" "$n" fdb)"
	echo "| simplebridge static fdb entries | $n | $med | $p99 |"
	cubectl router del "r$i" >/dev/null
	cubectl simplebridge del "b$i" >/dev/null
done
