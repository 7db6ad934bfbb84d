#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The demo: a private broker and the classic topology — hosts h1 h2 h3 in
# namespaces on a bridge, the bridge connected to a router, the router's
# other port on a veth to an "uplink" namespace with its own subnet — with
# the cubectl commands printed as they run, pings and counters.
#   scripts/demo.sh        build the topology and leave it running
#   scripts/demo.sh clean  tear it down
set -uo pipefail
cd "$(dirname "$0")/.."
top=$PWD
export PATH="$top/build/bin:$PATH"
export CUBEBUS_RUN_DIR=/tmp/cubebus-demo/run
export CUBEBUS_STATE_DIR=/tmp/cubebus-demo/state
export CUBEBUS_BPFFS=/sys/fs/bpf/cubebus-demo
HOSTS=(h1 h2 h3 uplink)

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

echo "== hosts h1 h2 h3 (10.0.1.11-13/24, gateway 10.0.1.1) and an uplink (10.0.2.2/24)"
host() { # NAME ADDR GATEWAY-OR-ROUTE...
	local h=$1 addr=$2
	shift 2
	ip netns add "$h"
	ip link add "demo-$h" type veth peer name eth0 netns "$h"
	ip -n "$h" addr add "$addr" dev eth0
	ip -n "$h" link set eth0 up
	ip -n "$h" link set lo up
	ip link set "demo-$h" up
	ip -n "$h" route add "$@"
}
host h1 10.0.1.11/24 default via 10.0.1.1
host h2 10.0.1.12/24 default via 10.0.1.1
host h3 10.0.1.13/24 default via 10.0.1.1
host uplink 10.0.2.2/24 10.0.1.0/24 via 10.0.2.1

echo "== the classic topology: three hosts on a bridge, the bridge to a router, the router to the uplink"
run cubectl simplebridge add br1
run cubectl br1 ports add p1 peer=demo-h1
run cubectl br1 ports add p2 peer=demo-h2
run cubectl br1 ports add p3 peer=demo-h3
run cubectl router add r1
run cubectl r1 ports add down ip=10.0.1.1/24
run cubectl r1 ports add up ip=10.0.2.1/24 peer=demo-uplink
run cubectl connect br1:to-r1 r1:down
run cubectl cubes
run cubectl topology

echo "== pings from every host to the uplink, through the bridge and the router"
for h in h1 h2 h3; do
	printf '\033[1m$ ip netns exec %s ping -c 3 10.0.2.2\033[0m\n' "$h"
	ip netns exec "$h" ping -c 3 -i 0.2 -W 1 10.0.2.2 | grep -E 'packets transmitted|bytes from' || true
done
printf '\033[1m$ ip netns exec uplink ping -c 2 10.0.1.12\033[0m\n'
ip netns exec uplink ping -c 2 -i 0.2 -W 1 10.0.1.12 | grep -E 'packets transmitted' || true

echo "== what the cubes learned, and counters"
run cubectl br1 fdb show
run cubectl r1 arp-table show
run cubectl r1 route show
run cubectl r1 ports show -hide=uuid
echo
echo "demo: running. Try: CUBEBUS_RUN_DIR=$CUBEBUS_RUN_DIR build/bin/cubectl r1 show"
echo "demo: tear it down with: make demo-clean"
