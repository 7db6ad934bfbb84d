#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The demo: a private broker, hosts h1 h2 h3 in namespaces, a bridge, and a
# chain of cubes, with the cubectl commands printed as they run and pings.
#   scripts/demo.sh        build the topology and leave it running
#   scripts/demo.sh clean  tear it down
set -uo pipefail
cd "$(dirname "$0")/.."
top=$PWD
export PATH="$top/build/bin:$PATH"
export CUBEBUS_RUN_DIR=/tmp/cubebus-demo/run
export CUBEBUS_STATE_DIR=/tmp/cubebus-demo/state
export CUBEBUS_BPFFS=/sys/fs/bpf/cubebus-demo
HOSTS=(h1 h2 h3)

clean() {
	if [ -S "$CUBEBUS_RUN_DIR/ctl.sock" ] && cubectl version >/dev/null 2>&1; then
		pkill -F "$CUBEBUS_RUN_DIR/cubebusd.pid" 2>/dev/null || true
	fi
	cubebusd --cleanup >/dev/null 2>&1 || true
	for h in "${HOSTS[@]}"; do
		ip netns del "$h" 2>/dev/null || true
		ip link del "demo-$h" 2>/dev/null || true
	done
	rm -rf /tmp/cubebus-demo
}

if [ "${1:-}" = clean ]; then
	clean
	echo "demo: removed"
	exit 0
fi

run() {
	printf '\033[1m$ %s\033[0m\n' "$*"
	"$@"
}

clean
mkdir -p /tmp/cubebus-demo
echo "== a private broker (logs in /tmp/cubebus-demo/cubebusd.log)"
cubebusd --daemon 2>/tmp/cubebus-demo/cubebusd.log
for _ in $(seq 50); do cubectl version >/dev/null 2>&1 && break; sleep 0.1; done
run cubectl version

echo "== hosts: h1 10.0.0.1, h2 10.0.0.2, h3 10.0.0.3 (each a netns with a veth)"
i=0
for h in "${HOSTS[@]}"; do
	i=$((i + 1))
	ip netns add "$h"
	ip link add "demo-$h" type veth peer name eth0 netns "$h"
	ip -n "$h" addr add "10.0.0.$i/24" dev eth0
	ip -n "$h" link set eth0 up
	ip -n "$h" link set lo up
	ip link set "demo-$h" up
done

echo "== h1 and h2 on bridge br1; h3 on bridge br2; br1 and br2 joined through a forwarder"
run cubectl simplebridge add br1
run cubectl br1 ports add p1 peer=demo-h1
run cubectl br1 ports add p2 peer=demo-h2
run cubectl simplebridge add br2
run cubectl br2 ports add p1 peer=demo-h3
run cubectl simpleforwarder add sf
run cubectl sf actions add west action=FORWARD outport=east
run cubectl sf actions add east action=FORWARD outport=west
run cubectl connect br1:up sf:west
run cubectl connect br2:up sf:east
run cubectl cubes
run cubectl topology

echo "== pings"
for pair in "h1 10.0.0.2" "h1 10.0.0.3" "h2 10.0.0.3" "h3 10.0.0.1"; do
	set -- $pair
	printf '\033[1m$ ip netns exec %s ping -c 2 %s\033[0m\n' "$1" "$2"
	ip netns exec "$1" ping -c 2 -i 0.2 -W 1 "$2" | grep -E 'packets transmitted|bytes from' || true
done

echo "== what the bridge learned, and per-port counters"
run cubectl br1 fdb show
run cubectl br1 ports show
echo
echo "demo: running. Try: CUBEBUS_RUN_DIR=$CUBEBUS_RUN_DIR build/bin/cubectl br1 show"
echo "demo: tear it down with: make demo-clean"
