#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# A 3-cube chain in TC and XDP_SKB mode:
#   h1,h2 - br1:p3 <-> sf-p1 [sf] sf-p2 <-> br2:p3 - h3,h4   (one subnet)
# pings across it both ways, ARP flooding across all three cubes,
# disconnect / reconnect, and a TC<->XDP connect that must fail and
# change nothing.
. "$(dirname "$0")/lib.sh"

fdb_port() { # BRIDGE MAC
	cubectl "$1" fdb show -json | jq -r --arg m "$2" '.entry // [] | .[] | select(.address == $m) | .port'
}

topo_peer() { # CUBE:PORT -> its peer in `cubectl topology`
	cubectl topology -json | jq -r --arg p "$1" '.[] | select(.port == $p) | .peer'
}

port_count() { # CUBE PORT FIELD: a counter of cubectl CUBE ports show
	cubectl "$1" ports show -json | jq -r --arg p "$2" --arg f "$3" '.[] | select(.name == $p) | .[$f] // empty'
}

link_counted() { # A PA B PB: what one end of a cube link sent, the other received
	local atx brx btx arx
	atx=$(port_count "$1" "$2" tx-packets) brx=$(port_count "$3" "$4" rx-packets)
	btx=$(port_count "$3" "$4" tx-packets) arx=$(port_count "$1" "$2" rx-packets)
	echo "$1:$2 tx $atx rx $arx, $3:$4 rx $brx tx $btx"
	[ -n "$atx" ] && [ "$atx" -gt 0 ] && [ "$atx" = "$brx" ] && [ -n "$btx" ] && [ "$btx" -gt 0 ] && [ "$btx" = "$arx" ]
}

rx_packets() { # HOST
	ns "$1" cat /sys/class/net/eth0/statistics/rx_packets
}

across() { # pings in both directions across the chain
	local bad="" p
	for p in "h1 10.0.0.3" "h1 10.0.0.4" "h2 10.0.0.3" "h3 10.0.0.1" "h4 10.0.0.2" "h4 10.0.0.1"; do
		ping_ok $p || bad="$bad ${p/ /->}"
	done
	[ -z "$bad" ] || {
		echo "no answer:$bad"
		return 1
	}
}

# state: what a failed request must leave unchanged
state() {
	{
		cubectl cubes -json
		for c in "$@"; do
			cubectl "$c" show -json | jq 'del(.fdb.entry)' # learned: traffic's business
		done
	} | json_stable
}

start_broker || {
	not_ok "broker starts" "see the log below"
	exit 1
}
for i in 1 2 3 4; do
	add_host h$i 10.0.0.$i/24 02:cb:00:00:01:0$i || {
		not_ok "host h$i"
		exit 1
	}
done

for T in TC XDP_SKB; do
	ok=1
	for c in br1 br2; do
		cubectl simplebridge add $c type=$T || ok=0
	done
	cubectl simpleforwarder add sf type=$T || ok=0
	cubectl br1 ports add p1 peer="$(veth h1)" || ok=0
	cubectl br1 ports add p2 peer="$(veth h2)" || ok=0
	cubectl br2 ports add p1 peer="$(veth h3)" || ok=0
	cubectl br2 ports add p2 peer="$(veth h4)" || ok=0
	[ $ok = 1 ] && ok "$T: br1, br2, sf created with host ports" || not_ok "$T: br1, br2, sf created with host ports"
	check "$T: connect br1:p3 sf:sf-p1" cubectl connect br1:p3 sf:sf-p1
	check "$T: connect sf:sf-p2 br2:p3" cubectl connect sf:sf-p2 br2:p3
	check "$T: sf actions sf-p1 -> sf-p2" cubectl sf actions add sf-p1 action=FORWARD outport=sf-p2
	check "$T: sf actions sf-p2 -> sf-p1" cubectl sf actions add sf-p2 action=FORWARD outport=sf-p1
	check "$T: topology: br1:p3 <-> sf:sf-p1" test "$(topo_peer br1:p3)/$(topo_peer sf:sf-p1)" = sf:sf-p1/br1:p3
	check "$T: topology: sf:sf-p2 <-> br2:p3" test "$(topo_peer sf:sf-p2)/$(topo_peer br2:p3)" = br2:p3/sf:sf-p2
	check "$T: br1:p3 UP" test "$(cubectl br1 ports show -json | jq -r '.[] | select(.name == "p3") | .status')" = UP

	check "$T: h1->h2 on br1" ping_ok h1 10.0.0.2
	check "$T: pings across the chain, both ways" across

	# ARP: nobody knows anybody; h4's broadcast must cross br2, sf and br1
	for i in 1 2 3 4; do ns h$i ip neigh flush dev eth0; done
	cubectl br1 fdb flush >/dev/null
	cubectl br2 fdb flush >/dev/null
	rx2=$(rx_packets h2)
	check "$T: h4->h1 with cold ARP caches and empty fdbs" ping_ok h4 10.0.0.1
	check "$T: the ARP broadcast reached h2 (flooded by br1)" test "$(rx_packets h2)" -gt "$rx2"
	check "$T: br1 learned h4 behind p3" test "$(fdb_port br1 02:cb:00:00:01:04)" = p3
	check "$T: br2 learned h1 behind p3" test "$(fdb_port br2 02:cb:00:00:01:01)" = p3
	check "$T: h1 resolved h4" eval "ns h1 ip neigh show 10.0.0.4 | matches -qi 02:cb:00:00:01:04"

	check "$T: disconnect br1:p3 sf:sf-p1" cubectl disconnect br1:p3 sf:sf-p1
	check "$T: topology: br1:p3 has no peer" test -z "$(topo_peer br1:p3)"
	check "$T: no ping h1->h3 once disconnected" ping_fails h1 10.0.0.3
	check "$T: no ping h4->h2 once disconnected" ping_fails h4 10.0.0.2
	check "$T: h1->h2 still works on br1" ping_ok h1 10.0.0.2
	check "$T: h3->h4 still works on br2" ping_ok h3 10.0.0.4
	check "$T: reconnect br1:p3 sf:sf-p1" cubectl connect br1:p3 sf:sf-p1
	check "$T: pings across the chain after reconnect" across
	check "$T: br1:p3 tx is sf:sf-p1 rx and back" wait_for 3 link_counted br1 p3 sf sf-p1
	check "$T: sf:sf-p2 tx is br2:p3 rx and back" wait_for 3 link_counted sf sf-p2 br2 p3

	# a port of the other hook: refused, nothing changes
	[ $T = TC ] && O=XDP_SKB || O=TC
	check "$T: a $O bridge brx" cubectl simplebridge add brx type=$O
	before=$(state br1 brx)
	if cubectl connect br1:p9 brx:p1 >"$TMP/out" 2>"$TMP/err"; then
		not_ok "$T: connect br1:p9 ($T) brx:p1 ($O) is refused" "it succeeded"
	else
		ok "$T: connect br1:p9 ($T) brx:p1 ($O) is refused"
	fi
	log "$T: error: $(cat "$TMP/err")"
	check "$T: one error line naming TC and XDP" \
		eval "[ \$(wc -l <'$TMP/err') = 1 ] && grep -q 'TC' '$TMP/err' && grep -q 'XDP' '$TMP/err' && grep -q '^cubectl: ' '$TMP/err'"
	check "$T: nothing changed (cubes, br1, brx)" test "$(state br1 brx)" = "$before"
	check "$T: no port p9 on br1" test -z "$(cubectl br1 ports show -json | jq -r '.[] | select(.name == "p9") | .name')"
	check "$T: chain still works" ping_ok h1 10.0.0.3

	ok=1
	for c in brx br1 sf br2; do
		cubectl del $c || ok=0
	done
	[ $ok = 1 ] && ok "$T: all cubes deleted" || not_ok "$T: all cubes deleted"
	check "$T: cubes is empty" test "$(cubectl cubes -json | jq length)" = 0
done
