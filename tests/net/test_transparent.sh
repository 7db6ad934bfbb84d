#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Transparent cubes on the ports of standard cubes, in TC and XDP_SKB:
#   h1 - [t..] br1:p1   br1:p2 - h2     br1:p3 <-> [t..] br2:p3 - h3
# each position (first, last, before, after, auto), a chain of three with
# a DROP in the middle, both directions (ingress-action / egress-action),
# SLOWPATH, a chain on a cube-to-cube link, attach / detach / reorder /
# delete under a probe (0 lost), a broker kill and a cube kill -9 with the
# chains in place, and the refusals (one line each, nothing changed).
. "$(dirname "$0")/lib.sh"

PROBE=$TOP/build/tests/tools/probe
RATE=${PROBE_RATE:-10000}
[ -x "$PROBE" ] || {
	not_ok "probe built" "no $PROBE: run make"
	exit 1
}

tcubes() { # CUBE PORT: its chain, comma-separated, as ports show says
	cubectl "$1" ports show -json | jq -r --arg p "$2" '.[] | select(.name == $p) | (.tcubes // []) | join(",")'
}

topo_tcubes() { # CUBE:PORT: its chain as topology says
	cubectl topology -json | jq -r --arg p "$1" '.[] | select(.port == $p) | (.tcubes // []) | join(",")'
}

all_running() {
	[ "$(cubectl cubes -json | jq -r '[.[].status] | unique | join(",")')" = running ]
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

state() {
	{
		cubectl cubes -json | jq -c '[.[] | {name, service}] | sort'
		cubectl topology -json | jq -cS 'sort_by(.port)'
		for c in t1 t2 t3; do cubectl $c show -json 2>/dev/null | jq -cS 'del(.uuid)'; done
	}
}


reorder_10() { # t1 to the front of br1:p1 and back, 10 times
	for _ in $(seq 10); do
		cubectl detach t1 br1:p1 >/dev/null && cubectl attach t1 br1:p1 position=first >/dev/null &&
			cubectl detach t1 br1:p1 >/dev/null && cubectl attach t1 br1:p1 position=last >/dev/null ||
			return 1
	done
}

start_broker || {
	not_ok "broker starts" "see the log below"
	exit 1
}
for i in 1 2 3; do
	add_host h$i 10.0.0.$i/24 02:cb:00:00:02:0$i || {
		not_ok "host h$i"
		exit 1
	}
done

for T in TC XDP_SKB; do
	[ $T = TC ] && O=XDP_SKB || O=TC
	cubectl simplebridge add br1 type=$T >/dev/null &&
		cubectl br1 ports add p1 peer="$(veth h1)" >/dev/null &&
		cubectl br1 ports add p2 peer="$(veth h2)" >/dev/null &&
		cubectl simplebridge add br2 type=$T >/dev/null &&
		cubectl br2 ports add p1 peer="$(veth h3)" >/dev/null &&
		cubectl connect br1:p3 br2:p3 >/dev/null
	check "$T: br1 and br2, connected" ping_ok h1 10.0.0.3
	for t in t1 t2 t3; do
		cubectl transparenthelloworld add $t type=$T >/dev/null || not_ok "$T: $t created"
	done
	check "$T: t1, t2, t3 running" wait_for 5 all_running

	# ---- one transparent cube, both directions
	check "$T: attach t1 br1:p1" cubectl attach t1 br1:p1
	check "$T: br1 p1 lists t1" test "$(tcubes br1 p1)" = t1
	check "$T: topology lists t1 on br1:p1" test "$(topo_tcubes br1:p1)" = t1
	check "$T: h1 <-> h2 through t1 (PASS both ways)" ping_ok h1 10.0.0.2
	cubectl t1 set ingress-action=DROP >/dev/null
	check "$T: t1 ingress-action=DROP: h1 -> h2 stops" ping_fails h1 10.0.0.2
	check "$T: h2 -> h3 still works" ping_ok h2 10.0.0.3
	cubectl t1 set ingress-action=PASS egress-action=DROP >/dev/null
	check "$T: t1 egress-action=DROP: h2 -> h1 stops" ping_fails h2 10.0.0.1
	cubectl t1 set egress-action=PASS >/dev/null
	check "$T: both PASS: h1 -> h2 again" ping_ok h1 10.0.0.2
	cubectl t1 set ingress-action=SLOWPATH >/dev/null
	check "$T: SLOWPATH: nothing forwarded" ping_fails h1 10.0.0.2
	if cubectl t1 show -json | jq -e 'has("slowpath-packets")' >/dev/null; then
		check "$T: SLOWPATH: the process counted the packets" \
			test "$(cubectl t1 show -json | jq '."slowpath-packets"')" -gt 0
	fi
	cubectl t1 set ingress-action=PASS >/dev/null

	# ---- positions: a chain of three on br1:p1 (first = nearest the wire)
	check "$T: attach t2 br1:p1 position=first" cubectl attach t2 br1:p1 position=first
	check "$T: chain t2,t1" test "$(tcubes br1 p1)" = t2,t1
	check "$T: attach t3 br1:p1 position=before t1" cubectl attach t3 br1:p1 position=before t1
	check "$T: chain t2,t3,t1" test "$(tcubes br1 p1)" = t2,t3,t1
	check "$T: pings through three" ping_ok h1 10.0.0.2
	cubectl t3 set ingress-action=DROP >/dev/null
	check "$T: a DROP in the middle (t3) stops h1 -> h2" ping_fails h1 10.0.0.2
	cubectl t3 set ingress-action=PASS >/dev/null
	check "$T: and it passes again" ping_ok h1 10.0.0.2
	check "$T: detach t3" cubectl detach t3 br1:p1
	check "$T: attach t3 br1:p1 position=after t1" cubectl attach t3 br1:p1 position=after t1
	check "$T: chain t2,t1,t3" test "$(tcubes br1 p1)" = t2,t1,t3
	check "$T: detach t3 again" cubectl detach t3 br1:p1
	check "$T: attach t3 br1:p1 position=last" cubectl attach t3 br1:p1 position=last
	check "$T: chain t2,t1,t3 (last)" test "$(tcubes br1 p1)" = t2,t1,t3
	check "$T: detach t3, t2" eval 'cubectl detach t3 br1:p1 && cubectl detach t2 br1:p1'
	check "$T: attach t2 br1:p1 (auto: after cubes of the same kind)" cubectl attach t2 br1:p1
	check "$T: chain t1,t2" test "$(tcubes br1 p1)" = t1,t2

	# ---- refusals
	refused "$T: attach t1 again (same port)" 'already attached to br1:p1' cubectl attach t1 br1:p1
	refused "$T: attach t1 elsewhere" 'already attached to br1:p1 \(detach it first\)' cubectl attach t1 br1:p2
	refused "$T: detach t3 (not attached)" 't3 is not attached to br1:p1' cubectl detach t3 br1:p1
	refused "$T: attach a standard cube" 'only transparent cubes attach' cubectl attach br2 br1:p2
	refused "$T: position before a cube not on the port" 't3 is not attached to br1:p2' \
		cubectl attach t3 br1:p2 position=before t3
	refused "$T: a bad position" 'position is auto, first, last, before X or after X' \
		cubectl attach t3 br1:p2 position=middle
	refused "$T: a port that does not exist" 'br1 has no port p9' cubectl attach t3 br1:p9
	refused "$T: a netdev that is a port's peer" "$(veth h1) is the peer of br1:p1: attach to br1:p1" \
		cubectl attach t3 "$(veth h1)"
	cubectl transparenthelloworld add tx type=$O >/dev/null
	refused "$T: a $O transparent cube on a $T port" "tx is $O and br1:p2 is $T" cubectl attach tx br1:p2
	cubectl del tx >/dev/null

	# ---- a cube-to-cube link: t3 on br1:p3, toward br2
	check "$T: attach t3 br1:p3 (a cube link)" cubectl attach t3 br1:p3
	check "$T: h1 -> h3 through t1, t2, t3" ping_ok h1 10.0.0.3
	cubectl t3 set egress-action=DROP >/dev/null
	check "$T: t3 egress DROP stops br1 -> br2" ping_fails h1 10.0.0.3
	check "$T: h1 -> h2 unaffected" ping_ok h1 10.0.0.2
	cubectl t3 set egress-action=PASS >/dev/null
	check "$T: h1 -> h3 again" ping_ok h1 10.0.0.3
	# the port's peer changes; its chain stays
	check "$T: disconnect br1:p3 br2:p3" cubectl disconnect br1:p3 br2:p3
	check "$T: t3 stays on br1:p3" test "$(tcubes br1 p3)" = t3
	check "$T: no ping h1 -> h3 without the link" ping_fails h1 10.0.0.3
	check "$T: connect br1:p3 br2:p4" cubectl connect br1:p3 br2:p4
	check "$T: h1 -> h3 through t3 on the new link" ping_ok h1 10.0.0.3
	cubectl t3 set egress-action=DROP >/dev/null
	check "$T: t3 still acts on it" ping_fails h1 10.0.0.3
	cubectl t3 set egress-action=PASS >/dev/null

	# ---- under traffic: attach, reorder, detach, delete; nothing lost
	under_load "$T: attach t3 from br1:p3 to br1:p2 while h1 -> h2 runs" 4 \
		eval 'cubectl detach t3 br1:p3 >/dev/null && cubectl attach t3 br1:p2 >/dev/null'
	under_load "$T: reorder t1 after t2 on br1:p1" 4 \
		eval 'cubectl detach t1 br1:p1 >/dev/null && cubectl attach t1 br1:p1 position=after t2 >/dev/null'
	check "$T: chain t2,t1" test "$(tcubes br1 p1)" = t2,t1
	under_load "$T: t1 moved back and forth 10 times (first, last)" 5 reorder_10
	check "$T: chain t2,t1 after the moves" test "$(tcubes br1 p1)" = t2,t1
	under_load "$T: restart t2 in the chain (an upgrade: new process, programs swapped)" 4 cubectl t2 restart
	check "$T: chain t2,t1 after the restart" test "$(tcubes br1 p1)" = t2,t1
	under_load "$T: detach t2 from br1:p1" 4 cubectl detach t2 br1:p1
	under_load "$T: delete t1 while attached" 4 cubectl del t1
	check "$T: br1 p1 has no chain left" test -z "$(tcubes br1 p1)"
	check "$T: h1 -> h2 direct" ping_ok h1 10.0.0.2
	cubectl transparenthelloworld add t1 type=$T >/dev/null
	cubectl attach t1 br1:p1 >/dev/null && cubectl attach t2 br1:p1 position=first >/dev/null
	check "$T: chain t2,t1 again" test "$(tcubes br1 p1)" = t2,t1

	# ---- restarts keep every chain and its order
	pid=$(cube_field t1 pid)
	[[ $pid =~ ^[0-9]+$ ]] && kill -9 "$pid"
	check "$T: t1 killed -9 and back" wait_for 5 all_running
	check "$T: the chain stays t2,t1" test "$(tcubes br1 p1)" = t2,t1
	check "$T: h1 <-> h2 after the kill" ping_ok h1 10.0.0.2
	stop_broker -9
	start_broker
	check "$T: a new broker, cubes running" wait_for 5 all_running
	check "$T: chains kept across the broker (br1:p1 t2,t1; br1:p2 t3)" \
		test "$(tcubes br1 p1)/$(tcubes br1 p2)" = t2,t1/t3
	cubectl t2 set ingress-action=DROP >/dev/null
	check "$T: and they still act (t2 DROP)" ping_fails h1 10.0.0.2
	cubectl t2 set ingress-action=PASS >/dev/null
	check "$T: pings again" ping_ok h1 10.0.0.2

	# ---- deleting the port detaches its chain; deleting the cube too
	check "$T: delete br1:p2 (t3 on it)" cubectl br1 ports del p2
	check "$T: t3 attaches elsewhere now" eval 'cubectl attach t3 br1:p1 >/dev/null'
	check "$T: delete br1" cubectl del br1
	check "$T: t1 attaches again (br1's chains gone with it)" eval 'cubectl attach t1 br2:p1 >/dev/null'
	check "$T: h3 still reaches nobody but keeps running" all_running

	ok=1
	for c in t1 t2 t3 br2; do cubectl del $c >/dev/null || ok=0; done
	[ $ok = 1 ] && ok "$T: all cubes deleted" || not_ok "$T: all cubes deleted"
done
