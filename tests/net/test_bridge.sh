#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# simplebridge, in TC and XDP_SKB mode: 4 hosts pinging each other, the
# filtering database (learn, flush, relearn), port delete, peer clear and
# restore, a peer change under traffic, port status, `cubectl netdevs`, and
# delete + re-create of the bridge under the same name.
. "$(dirname "$0")/lib.sh"

# attached DEV TYPE: our ingress stub is on DEV (TC filter or generic XDP)
attached() {
	if [ "$2" = TC ]; then
		tc filter show dev "$1" ingress 2>/dev/null | matches -q bpf
	else
		ip -d link show dev "$1" 2>/dev/null | matches -q 'prog/xdp'
	fi
}

# fdb_port BRIDGE MAC: the port the bridge learned MAC on ("" if none)
fdb_port() {
	cubectl "$1" fdb show -json | jq -r --arg m "$2" '.entry // [] | .[] | select(.address == $m) | .port'
}

fdb_count() {
	cubectl "$1" fdb show -json | jq '.entry // [] | length'
}

fdb_has_all() { # BRIDGE: every host's MAC on its own port
	local i
	for i in 1 2 3 4; do
		[ "$(fdb_port "$1" "$(mac_of h$i)")" = "p$i" ] || return 1
	done
}

port_status() { # BRIDGE PORT
	cubectl "$1" ports show -json | jq -r --arg p "$2" '.[] | select(.name == $p) | .status'
}

netdev_peer() { # DEV
	cubectl netdevs -json | jq -r --arg d "$1" '.[] | select(.name == $d) | .peer'
}

all_pairs() {
	local a b bad=""
	for a in 1 2 3 4; do
		for b in 1 2 3 4; do
			[ $a = $b ] && continue
			ping_ok h$a 10.0.0.$b || bad="$bad h$a->h$b"
		done
	done
	[ -z "$bad" ] || {
		echo "no answer:$bad"
		return 1
	}
}

tx_packets() { # HOST
	ns "$1" cat /sys/class/net/eth0/statistics/tx_packets
}

start_broker || {
	not_ok "broker starts" "see the log below"
	exit 1
}
for i in 1 2 3 4; do
	add_host h$i 10.0.0.$i/24 02:cb:00:00:00:0$i || {
		not_ok "host h$i"
		exit 1
	}
done
# h5 stands in for h2 (same MAC and address) when p2 moves to it
add_host h5 10.0.0.2/24 02:cb:00:00:00:02

for T in TC XDP_SKB; do
	if ! check "$T: simplebridge add br1" cubectl simplebridge add br1 type=$T; then
		continue
	fi
	ok=1
	for i in 1 2 3 4; do
		cubectl br1 ports add p$i peer="$(veth h$i)" || ok=0
	done
	[ $ok = 1 ] && ok "$T: 4 ports added with netdev peers" || not_ok "$T: 4 ports added with netdev peers"
	check "$T: all 12 pairs ping" all_pairs
	check "$T: fdb lists the 4 MACs on their ports" fdb_has_all br1
	check "$T: ports show: all UP" test "$(cubectl br1 ports show -json | jq -r '[.[].status] | unique | join(",")')" = UP
	check "$T: netdevs shows the peer br1:p1 of $(veth h1)" test "$(netdev_peer "$(veth h1)")" = br1:p1

	# flush, then relearn; the hosts forget their neighbours first, or a
	# late ARP probe could be learned between the flush and the check
	for i in 1 2 3 4 5; do ns h$i ip neigh flush dev eth0; done
	check "$T: fdb flush" cubectl br1 fdb flush
	check "$T: fdb empty after flush" test "$(fdb_count br1)" = 0
	check "$T: pings work after flush" all_pairs
	check "$T: fdb relearned the 4 MACs" fdb_has_all br1

	# delete a port: its host is cut off, the others are not
	check "$T: ports del p4" cubectl br1 ports del p4
	check "$T: no ping to h4 once p4 is deleted" ping_fails h1 10.0.0.4
	check "$T: h1->h2 still works" ping_ok h1 10.0.0.2
	check "$T: stub detached from $(veth h4)" eval "! attached $(veth h4) $T"
	check "$T: p4 re-added" cubectl br1 ports add p4 peer="$(veth h4)"
	check "$T: h1->h4 works again" ping_ok h1 10.0.0.4

	# clear a peer, then set it back
	check "$T: ports p3 set peer= (clear)" cubectl br1 ports p3 set peer=
	check "$T: p3 status DOWN without a peer" test "$(port_status br1 p3)" = DOWN
	check "$T: no ping to h3 without its peer" ping_fails h1 10.0.0.3
	check "$T: netdevs: $(veth h3) has no peer" test -z "$(netdev_peer "$(veth h3)")"
	check "$T: stub detached from $(veth h3)" eval "! attached $(veth h3) $T"
	check "$T: ports p3 set peer back" cubectl br1 ports p3 set peer="$(veth h3)"
	check "$T: p3 status UP again" test "$(port_status br1 p3)" = UP
	check "$T: h1->h3 works again" ping_ok h1 10.0.0.3
	check "$T: h3->h4 works again" ping_ok h3 10.0.0.4

	# move p2 to h5 (h2's twin) and back while h1 pings 10.0.0.2 every 50 ms
	ping_ok h1 10.0.0.2 >/dev/null
	ns h1 ping -i 0.05 -w 5 -q 10.0.0.2 >"$TMP/bgping.$T" 2>&1 &
	bg=$!
	sleep 0.5
	tx2=$(tx_packets h2) tx5=$(tx_packets h5)
	check "$T: p2 moved to $(veth h5) under traffic" cubectl br1 ports p2 set peer="$(veth h5)"
	check "$T: h5 answers the pings for 10.0.0.2 after the move" \
		wait_for 2 eval "[ \$(tx_packets h5) -ge $((tx5 + 5)) ]"
	sleep 0.5
	tx2=$(tx_packets h2)
	check "$T: p2 moved back to $(veth h2) under traffic" cubectl br1 ports p2 set peer="$(veth h2)"
	check "$T: h2 answers again after moving back" wait_for 2 eval "[ \$(tx_packets h2) -ge $((tx2 + 5)) ]"
	wait $bg
	loss=$(grep -oE '[0-9.]+% packet loss' "$TMP/bgping.$T" | cut -d% -f1)
	log "$T: background ping during both moves: $(grep 'packets transmitted' "$TMP/bgping.$T")"
	check "$T: background ping lost at most 20% across the moves" test "${loss%.*}" -le 20 2>/dev/null
	check "$T: h1->h2 works after the moves" ping_ok h1 10.0.0.2
	check "$T: fdb: h2's MAC on p2" test "$(fdb_port br1 02:cb:00:00:00:02)" = p2

	# delete the bridge, then create it again under the same name
	check "$T: del br1" cubectl del br1
	check "$T: no ping once br1 is deleted" ping_fails h1 10.0.0.2
	check "$T: stubs detached after del" eval "! attached $(veth h1) $T && ! attached $(veth h2) $T"
	check "$T: no pins of br1 left" test ! -e "$CUBEBUS_BPFFS/cubes/br1"
	check "$T: cubes empty after del" test "$(cubectl cubes -json | jq length)" = 0
	check "$T: br1 re-created" cubectl simplebridge add br1 type=$T
	ok=1
	for i in 1 2 3 4; do
		cubectl br1 ports add p$i peer="$(veth h$i)" || ok=0
	done
	[ $ok = 1 ] && ok "$T: ports of the new br1 added" || not_ok "$T: ports of the new br1 added"
	check "$T: all 12 pairs ping through the new br1" all_pairs
	check "$T: fdb of the new br1 has the 4 MACs" fdb_has_all br1

	# a peer netdev that disappears: the port is no longer UP
	s=s${T:0:1}
	add_veth $s
	check "$T: p5 on a spare veth $(veth $s)" cubectl br1 ports add p5 peer="$(veth $s)"
	check "$T: p5 UP" test "$(port_status br1 p5)" = UP
	ip link del "$(veth $s)"
	check "$T: p5 DOWN once $(veth $s) is deleted" wait_for 2 eval "[ \"\$(port_status br1 p5)\" = DOWN ]"
	check "$T: ports del p5" cubectl br1 ports del p5
	check "$T: del br1 (end)" cubectl del br1
done
