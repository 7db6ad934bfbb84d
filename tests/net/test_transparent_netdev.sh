#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Transparent cubes on a netdev no cube uses, in TC and XDP_SKB:
#   h1 eth0 - veth(h1) [t..] -+- Linux bridge (root ns, no address) -+- veth(h2) - h2 eth0
# Packets from h1 are ingress on veth(h1) (the chain, then the stack: the
# bridge); packets the bridge sends to h1 are egress (TC egress hook, then
# out of the device). XDP sees ingress only, and the attach says so. Also:
# positions, detach back to plain Linux, a broker kill -9, a probe while
# attaching / reordering / detaching (0 lost), the refusals, stale stubs
# removed by reconciliation at start, and cubebusd --cleanup.
. "$(dirname "$0")/lib.sh"

PROBE=$TOP/build/tests/tools/probe
RATE=${PROBE_RATE:-10000}
[ -x "$PROBE" ] || {
	not_ok "probe built" "no $PROBE: run make"
	exit 1
}

topo_tcubes() { # NETDEV: its chain as topology says
	cubectl topology -json | jq -r --arg p "$1" '.[] | select(.port == $p) | (.tcubes // []) | join(",")'
}

all_running() {
	[ "$(cubectl cubes -json | jq -r '[.[].status] | unique | join(",")')" = running ]
}

state() {
	{
		cubectl cubes -json | jq -c '[.[] | {name, service}] | sort'
		cubectl topology -json | jq -cS 'sort_by(.port)'
		for d in "$V1" "$V2" "$V3"; do
			tc filter show dev "$d" ingress
			tc filter show dev "$d" egress
		done
	}
}

refused() { # NAME PATTERN CMD...: fails with one line matching PATTERN, changes nothing
	local name=$1 pat=$2 before out
	shift 2
	before=$(state)
	if out=$("$@" 2>&1); then
		not_ok "$name: refused" "accepted: $out"
		return
	fi
	log "$name: $out"
	if [ "$(printf '%s\n' "$out" | wc -l)" = 1 ] && printf '%s\n' "$out" | matches -qE "$pat"; then
		ok "$name: refused in one line"
	else
		not_ok "$name: refused in one line" "$out"
	fi
	check "$name: nothing changed" test "$(state)" = "$before"
}

rx() { # HOST: packets its eth0 received
	ns "$1" cat /sys/class/net/eth0/statistics/rx_packets
}

# arrives FROM TO TO_IP: pings FROM -> TO_IP reach TO's eth0 (answered or
# not: the neighbours are static, so one direction is seen alone)
arrives() {
	local before
	before=$(rx "$2")
	ns "$1" ping -c 3 -W 1 -i 0.2 -q "$3" >/dev/null 2>&1
	[ $(($(rx "$2") - before)) -ge 3 ]
}
# not_arrives FROM TO TO_IP: none of 3 pings reaches TO; tried 3 times, as
# a `set` reaches the cube's maps a moment after cubectl returns
not_arrives() {
	local before try
	for try in 1 2 3; do
		before=$(rx "$2")
		ns "$1" ping -c 3 -W 1 -i 0.2 -q "$3" >/dev/null 2>&1
		[ $(($(rx "$2") - before)) -eq 0 ] && return 0
		log "not_arrives $*: try $try: $(($(rx "$2") - before)) arrived"
	done
	return 1
}

no_stub() { # NETDEV: no filter left on either TC hook, no XDP program
	[ -z "$(tc filter show dev "$1" ingress)$(tc filter show dev "$1" egress)" ] &&
		! ip link show dev "$1" | matches -q 'xdp'
}


start_broker || {
	not_ok "broker starts" "see the log below"
	exit 1
}
for i in 1 2 3; do
	add_host h$i 10.0.0.$i/24 02:cb:00:00:03:0$i || {
		not_ok "host h$i"
		exit 1
	}
done
V1=$(veth h1) V2=$(veth h2) V3=$(veth h3) LB=${ID}lb
# a Linux bridge joins h1 and h2 in the root namespace, without an address
ip link add "$LB" type bridge forward_delay 0 stp_state 0 && LINKS+=("$LB") &&
	echo 1 >/proc/sys/net/ipv6/conf/"$LB"/disable_ipv6 &&
	ip link set "$V1" master "$LB" && ip link set "$V2" master "$LB" && ip link set "$LB" up || {
	not_ok "bridge $LB"
	exit 1
}
ns h1 ip neigh replace 10.0.0.2 lladdr 02:cb:00:00:03:02 dev eth0 nud permanent
ns h2 ip neigh replace 10.0.0.1 lladdr 02:cb:00:00:03:01 dev eth0 nud permanent
check "plain Linux: h1 <-> h2 over the bridge" ping_ok h1 10.0.0.2

for T in TC XDP_SKB; do
	for t in t1 t2; do
		cubectl transparenthelloworld add $t type=$T >/dev/null || not_ok "$T: $t created"
	done
	check "$T: t1, t2 running" wait_for 5 all_running

	out=$(cubectl attach t1 "$V1" 2>&1)
	check "$T: attach t1 $V1" test $? = 0
	log "$T: attach said: $out"
	if [ $T = XDP_SKB ]; then
		check "$T: the attach says ingress only" matches -q 'ingress only' <<<"$out"
	fi
	check "$T: topology lists t1 on $V1" test "$(topo_tcubes "$V1")" = t1
	check "$T: netdevs lists t1 on $V1" test \
		"$(cubectl netdevs -json | jq -r --arg d "$V1" '.[] | select(.name == $d) | (.tcubes // []) | join(",")')" = t1
	check "$T: h1 <-> h2 through t1 (PASS both ways)" ping_ok h1 10.0.0.2
	cubectl t1 set ingress-action=DROP >/dev/null
	check "$T: ingress DROP: h1 -> h2 stops at the wire" not_arrives h1 h2 10.0.0.2
	check "$T: ingress DROP: h2 -> h1 still arrives" arrives h2 h1 10.0.0.1
	cubectl t1 set ingress-action=PASS egress-action=DROP >/dev/null
	if [ $T = TC ]; then
		check "$T: egress DROP: h2 -> h1 stops (the host sends, t1 drops)" not_arrives h2 h1 10.0.0.1
		check "$T: egress DROP: h1 -> h2 still arrives" arrives h1 h2 10.0.0.2
	else
		check "$T: egress not filtered (XDP has no egress hook): pings work" ping_ok h1 10.0.0.2
	fi
	cubectl t1 set egress-action=PASS >/dev/null
	check "$T: both PASS again" ping_ok h1 10.0.0.2

	# ---- two cubes, positions (first = nearest the wire)
	check "$T: attach t2 $V1 position=first" cubectl attach t2 "$V1" position=first
	check "$T: chain t2,t1" test "$(topo_tcubes "$V1")" = t2,t1
	check "$T: pings through two" ping_ok h1 10.0.0.2
	cubectl t1 set ingress-action=DROP >/dev/null
	check "$T: the inner one (t1) drops ingress" not_arrives h1 h2 10.0.0.2
	cubectl t1 set ingress-action=PASS >/dev/null
	if [ $T = TC ]; then
		cubectl t2 set egress-action=DROP >/dev/null
		check "$T: the outer one (t2) drops egress" not_arrives h2 h1 10.0.0.1
		cubectl t2 set egress-action=PASS >/dev/null
	fi
	check "$T: detach t2" cubectl detach t2 "$V1"
	check "$T: attach t2 $V1 position=after t1" cubectl attach t2 "$V1" position=after t1
	check "$T: chain t1,t2" test "$(topo_tcubes "$V1")" = t1,t2
	check "$T: pings, t2 innermost" ping_ok h1 10.0.0.2

	# ---- refusals
	cubectl simplebridge add br1 type=$T >/dev/null && cubectl br1 ports add p1 peer="$V3" >/dev/null
	cubectl transparenthelloworld add tx type=$T >/dev/null
	refused "$T: a netdev that is a cube port's peer" "$V3 is the peer of br1:p1: attach to br1:p1" \
		cubectl attach tx "$V3"
	refused "$T: a netdev that does not exist" 'no network device' cubectl attach tx "${ID}nosuch"
	refused "$T: a port's peer set to a netdev with a chain" \
		"$V1 has transparent cubes attached \(t1, t2\): detach them first" cubectl br1 ports add p2 peer="$V1"
	refused "$T: t1 attached twice" "t1 is already attached to $V1" cubectl attach t1 "$V1"
	refused "$T: detach from the wrong netdev" "t1 is not attached to $V2" cubectl detach t1 "$V2"
	if [ $T = TC ]; then
		tc qdisc add dev "$V2" clsact && tc filter add dev "$V2" egress prio 1 u32 match u32 0 0
		refused "$T: a foreign TC egress filter at the stub's priority" 'already has TC egress filter' \
			cubectl attach tx "$V2"
		check "$T: the foreign egress filter is still there" \
			matches -q "u32" <<<"$(tc filter show dev "$V2" egress)"
		tc qdisc del dev "$V2" clsact
	fi
	cubectl del tx >/dev/null
	cubectl del br1 >/dev/null

	# ---- under traffic: attach, reorder, detach; nothing lost
	check "$T: detach t1, t2" eval "cubectl detach t1 $V1 && cubectl detach t2 $V1"
	under_load "$T: attach t1 to $V1" 4 cubectl attach t1 "$V1"
	under_load "$T: attach t2 innermost (the egress stub moves)" 4 cubectl attach t2 "$V1" position=last
	under_load "$T: reorder t2 first" 4 \
		eval "cubectl detach t2 $V1 >/dev/null && cubectl attach t2 $V1 position=first >/dev/null"
	check "$T: chain t2,t1" test "$(topo_tcubes "$V1")" = t2,t1

	# ---- a broker kill -9 keeps the chain and its stubs
	stop_broker -9
	start_broker
	check "$T: a new broker, cubes running" wait_for 5 all_running
	check "$T: chain kept across the broker" test "$(topo_tcubes "$V1")" = t2,t1
	cubectl t2 set ingress-action=DROP >/dev/null
	check "$T: and it still acts (t2 ingress DROP)" not_arrives h1 h2 10.0.0.2
	cubectl t2 set ingress-action=PASS >/dev/null
	check "$T: pings again" ping_ok h1 10.0.0.2
	if [ $T = TC ]; then
		check "$T: one stub at ingress, one at egress" test \
			"$(tc filter show dev "$V1" ingress | grep -c 'cb_ingress_tc')/$(tc filter show dev "$V1" egress | grep -c 'cb_ingress_tc')" = 1/1
	fi

	under_load "$T: detach t1 (the egress stub moves to t2)" 4 cubectl detach t1 "$V1"
	under_load "$T: delete t2 while attached" 4 cubectl del t2
	check "$T: detached: plain Linux, no stub left on $V1" no_stub "$V1"
	check "$T: topology has no entry for $V1" test -z "$(topo_tcubes "$V1")"
	check "$T: h1 <-> h2 plain" ping_ok h1 10.0.0.2
	check "$T: delete t1" cubectl del t1
done

# ---- cubebusd --cleanup takes both stubs off a netdev with a chain
cubectl transparenthelloworld add t1 type=TC >/dev/null && cubectl attach t1 "$V1" >/dev/null
check "TC: t1 on $V1: stubs at ingress and egress" test \
	"$(tc filter show dev "$V1" ingress | grep -c 'cb_ingress_tc')/$(tc filter show dev "$V1" egress | grep -c 'cb_ingress_tc')" = 1/1
# a chain the database forgot while no broker ran: its stubs are stale
stop_broker -9
sqlite3 "$CUBEBUS_STATE_DIR/cubebus.db" "DELETE FROM attachments WHERE tcube = 't1'"
start_broker
check "reconcile at start: the stale stubs are gone from $V1" no_stub "$V1"
check "the log says the egress one went" matches -q "stale TC egress stub from $V1" <"$TMP/broker.log"
check "attach t1 $V1 again" cubectl attach t1 "$V1"
stop_broker -9
"$BIN/cubebusd" --cleanup >>"$TMP/broker.log" 2>&1
check "cubebusd --cleanup: no stub left on $V1" no_stub "$V1"
check "and h1 <-> h2 plain" ping_ok h1 10.0.0.2
