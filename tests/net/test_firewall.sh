#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The firewall in TC and XDP_SKB, attached to a cube port and to a netdev:
#   port:   h1 - br1:p1 [fw1] - br1 (simplebridge) - br1:p2 - h2
#   netdev: h1 eth0 - veth(h1) [fw1] - Linux bridge (root ns) - veth(h2) - h2
# INGRESS is what h1 sends (toward br1, or into the host on the netdev);
# EGRESS the way back (XDP on a netdev sees ingress only). Checked: default
# DROP with allow rules (ICMP, a TCP port with nc, UDP), per-rule and
# default counters and reset-counters, rules inserted and deleted while a
# probe runs (0 lost), the fast path specialised and swapped under the
# probe (0 lost), and bad input refused in one line with nothing changed.
. "$(dirname "$0")/lib.sh"

PROBE=$TOP/build/tests/tools/probe
RATE=${PROBE_RATE:-5000}
[ -x "$PROBE" ] || {
	not_ok "probe built" "no $PROBE: run make"
	exit 1
}

all_running() {
	[ "$(cubectl cubes -json | jq -r '[.[].status] | unique | join(",")')" = running ]
}

rules() { # CHAIN: its rules as one line of JSON
	cubectl fw1 chain "$1" rule show -json | jq -c '.'
}

stat_of() { # CHAIN ID FIELD
	cubectl fw1 chain "$1" stats show -json | jq -r --argjson i "$2" --arg f "$3" '.[] | select(.id == $i) | .[$f]'
}

refused() { # NAME PATTERN CMD...: fails with one line matching PATTERN, the rules unchanged
	local name=$1 pat=$2 before out
	shift 2
	before="$(rules INGRESS)$(rules EGRESS)"
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
	check "$name: nothing changed" test "$(rules INGRESS)$(rules EGRESS)" = "$before"
}

# tcp_ok PORT: h1 connects to h2:PORT and the line arrives
tcp_ok() {
	local port=$1 got
	rm -f "$TMP/nc.out"
	ns h2 timeout 5 nc -l -p "$port" >"$TMP/nc.out" 2>/dev/null &
	local lp=$!
	sleep 0.3
	echo "hello $port" | ns h1 timeout 3 nc -w 1 -N 10.0.0.2 "$port" >/dev/null 2>&1
	wait $lp 2>/dev/null
	got=$(cat "$TMP/nc.out" 2>/dev/null)
	[ "$got" = "hello $port" ]
}

tcp_fails() {
	! tcp_ok "$1"
}

# udp_ok PORT: a datagram from h1 reaches h2:PORT
udp_ok() {
	local port=$1
	rm -f "$TMP/nc.out"
	ns h2 timeout 3 nc -u -l -p "$port" >"$TMP/nc.out" 2>/dev/null &
	local lp=$!
	sleep 0.3
	for i in 1 2 3; do echo "u$port" | ns h1 timeout 1 nc -u -w 0 10.0.0.2 "$port" 2>/dev/null; done
	sleep 0.3
	kill $lp 2>/dev/null
	wait $lp 2>/dev/null
	grep -q "u$port" "$TMP/nc.out"
}

# ping_fails, but tried 3 times: a change reaches the maps a moment after cubectl returns
ping_stops() {
	local try
	for try in 1 2 3; do
		ping_fails h1 10.0.0.2 && return 0
	done
	return 1
}

# tcp_from CLIENT SERVER SERVER_IP PORT: CLIENT connects to SERVER:PORT and the line arrives
tcp_from() {
	local cl=$1 sv=$2 ip=$3 port=$4 got lp
	rm -f "$TMP/nc.out"
	ns "$sv" timeout 5 nc -l -p "$port" >"$TMP/nc.out" 2>/dev/null &
	lp=$!
	sleep 0.3
	echo "hello $port" | ns "$cl" timeout 3 nc -w 1 -N "$ip" "$port" >/dev/null 2>&1
	kill $lp 2>/dev/null
	wait $lp 2>/dev/null
	got=$(cat "$TMP/nc.out" 2>/dev/null)
	[ "$got" = "hello $port" ]
}

# udp_echo CLIENT SERVER SERVER_IP PORT: CLIENT's datagram to SERVER:PORT is echoed back
udp_echo() {
	local cl=$1 sv=$2 ip=$3 port=$4 sp out
	ns "$sv" timeout 4 /usr/bin/python3 -c "
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(('0.0.0.0', $port))
for _ in range(3):
    d, a = s.recvfrom(100)
    s.sendto(d, a)" 2>/dev/null &
	sp=$!
	sleep 0.3
	out=$(ns "$cl" timeout 3 /usr/bin/python3 -c "
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(0.7)
for i in range(3):
    s.sendto(b'echo', ('$ip', $port))
    try:
        print(s.recvfrom(100)[0].decode()); break
    except socket.timeout:
        pass" 2>/dev/null)
	kill $sp 2>/dev/null
	wait $sp 2>/dev/null
	[ "$out" = echo ]
}

sessions() { # the session table, one line of JSON
	cubectl fw1 session-table show -json | jq -c '.'
}

ct_scenario() { # P
	local P=$1
	check "$P: ct: conntrack ON, accept-established ON" cubectl fw1 set conntrack=ON accept-established=ON
	check "$P: ct: INGRESS default DROP, EGRESS ACCEPT" eval \
		'cubectl fw1 chain INGRESS set default=DROP && cubectl fw1 chain EGRESS set default=ACCEPT'
	check "$P: ct: ping from inside (h2 -> h1) answered" ping_ok h2 10.0.0.1
	check "$P: ct: ping from outside (h1 -> h2) dropped" ping_stops
	check "$P: ct: TCP from inside (nc h2 -> h1:7001)" tcp_from h2 h1 10.0.0.1 7001
	check "$P: ct: TCP from outside (nc h1 -> h2:7002) dropped" eval '! tcp_from h1 h2 10.0.0.2 7002'
	check "$P: ct: UDP from inside (h2 -> h1:7003) answered" udp_echo h2 h1 10.0.0.1 7003
	check "$P: ct: UDP from outside (h1 -> h2:7004) not answered" eval '! udp_echo h1 h2 10.0.0.2 7004'
	check "$P: ct: the session table has the TCP session from h2" \
		eval '[ "$(sessions | jq "[.[] | select(.l4proto == \"TCP\" and .src == \"10.0.0.2\" and .dport == 7001)] | length")" -ge 1 ]'
	check "$P: ct: ... and the UDP one, ESTABLISHED" \
		eval '[ "$(sessions | jq "[.[] | select(.l4proto == \"UDP\" and .dport == 7003 and .state == \"ESTABLISHED\")] | length")" -ge 1 ]'
	check "$P: ct: no session from the outside attempts" \
		test "$(sessions | jq '[.[] | select(.src == "10.0.0.1" and (.dport == 7002 or .dport == 7004))] | length')" = 0
	check "$P: ct: the cube counts its sessions (of 65536)" eval \
		'[ "$(cubectl fw1 show -json | jq .sessions)" -ge 1 ] && [ "$(cubectl fw1 show -json | jq ".\"sessions-max\"")" = 65536 ]'
	check "$P: ct: ... and the packets accept-established took" \
		eval '[ "$(cubectl fw1 show -json | jq ".\"packets-established\"")" -ge 1 ]'
	# the state as a rule's match, accept-established OFF
	check "$P: ct: accept-established OFF" cubectl fw1 set accept-established=OFF
	check "$P: ct: replies dropped without a rule for them" eval '! ping_ok h2 10.0.0.1'
	check "$P: ct: append conntrack=ESTABLISHED action=ACCEPT" \
		cubectl fw1 chain INGRESS append conntrack=ESTABLISHED action=ACCEPT
	check "$P: ct: the replies pass by the rule" ping_ok h2 10.0.0.1
	check "$P: ct: ... which counted them" test "$(stat_of INGRESS 0 pkts)" -ge 1
	check "$P: ct: outside still dropped" ping_stops
	check "$P: ct: delete conntrack=ESTABLISHED action=ACCEPT" \
		cubectl fw1 chain INGRESS delete conntrack=ESTABLISHED action=ACCEPT
	# no tracking at all: the program loses it, replies are NEW
	check "$P: ct: conntrack OFF, accept-established ON" cubectl fw1 set conntrack=OFF accept-established=ON
	check "$P: ct: the fast path dropped the tracking" \
		wait_for 3 eval 'tail -n 50 "$BROKER_LOG" | grep "fw1.*specialised" | tail -n 1 | matches -q "tracking off"'
	check "$P: ct: with conntrack OFF the replies are dropped" eval '! ping_ok h2 10.0.0.1'
	check "$P: ct: conntrack ON again: replies pass" eval \
		'cubectl fw1 set conntrack=ON && ping_ok h2 10.0.0.1'
}

scenario() { # T WHERE: the checks on one attachment
	local T=$1 W=$2 P="$1/$2"

	# ---- default DROP with allow rules (each packet through the rules:
	# accept-established would take a flow's later packets before them)
	check "$P: accept-established OFF" cubectl fw1 set accept-established=OFF
	check "$P: h1 -> h2 with no rule (default ACCEPT)" ping_ok h1 10.0.0.2
	check "$P: chain INGRESS set default=DROP" cubectl fw1 chain INGRESS set default=DROP
	check "$P: default DROP: ping stops" ping_stops
	check "$P: default DROP: TCP stops" tcp_fails 8080
	check "$P: append l4proto=ICMP action=ACCEPT" cubectl fw1 chain INGRESS append l4proto=ICMP action=ACCEPT
	check "$P: ping allowed" ping_ok h1 10.0.0.2
	check "$P: TCP 8080 still dropped" tcp_fails 8080
	check "$P: append l4proto=TCP dport=8080 action=ACCEPT" \
		cubectl fw1 chain INGRESS append l4proto=TCP dport=8080 action=ACCEPT
	check "$P: TCP 8080 allowed (nc)" tcp_ok 8080
	check "$P: TCP 8081 dropped" tcp_fails 8081
	check "$P: append src=10.0.0.1/32 l4proto=UDP dport=5353 action=ACCEPT" \
		cubectl fw1 chain INGRESS append src=10.0.0.1/32 l4proto=UDP dport=5353 action=ACCEPT
	check "$P: UDP 5353 allowed" udp_ok 5353
	check "$P: UDP 5354 dropped" eval '! udp_ok 5354'
	check "$P: rules show lists 3 rules, ids 0-2" test "$(rules INGRESS | jq -c '[.[].id]')" = "[0,1,2]"

	# ---- the rules are configuration: a crash of the process keeps them, a broker restart too
	local kept pid
	kept=$(rules INGRESS)
	pid=$(cube_field fw1 pid)
	[[ $pid =~ ^[0-9]+$ ]] && [ "$pid" -gt 1 ] && kill -9 "$pid"
	check "$P: the firewall process restarts after a kill" \
		wait_for 10 eval "p=\$(cube_field fw1 pid); [ -n \"\$p\" ] && [ \"\$p\" != $pid ] && [ \"\$(cube_field fw1 status)\" = running ]"
	check "$P: the restarted process has the same rules" test "$(rules INGRESS)" = "$kept"
	check "$P: ... and applies them: ping allowed, TCP 8081 dropped" eval 'ping_ok h1 10.0.0.2 && tcp_fails 8081'
	check "$P: insert id=0 l4proto=ICMP action=DROP after the restart" \
		cubectl fw1 chain INGRESS insert id=0 l4proto=ICMP action=DROP
	check "$P: ... stops the ping (the rebuilt chain has it first)" ping_stops
	check "$P: ... and the rules after it moved up (ids 0-3)" test "$(rules INGRESS | jq -c '[.[].id]')" = "[0,1,2,3]"
	stop_broker
	start_broker >/dev/null
	check "$P: after a broker restart the cubes run again" wait_for 15 all_running
	check "$P: ... and the 4 rules are there" test "$(rules INGRESS | jq -c '[.[].id]')" = "[0,1,2,3]"
	check "$P: delete l4proto=ICMP action=DROP" cubectl fw1 chain INGRESS delete l4proto=ICMP action=DROP
	check "$P: the rules are as before the kill" test "$(rules INGRESS)" = "$kept"
	check "$P: ping allowed again" ping_ok h1 10.0.0.2

	# ---- insert before / after a rule (beyond the reference model)
	check "$P: insert after=0 takes id 1" eval \
		'cubectl fw1 chain INGRESS insert after=0 l4proto=UDP dport=7 action=DROP | matches -q "id: 1"'
	check "$P: insert before=2 takes id 2" eval \
		'cubectl fw1 chain INGRESS insert before=2 l4proto=UDP dport=6 action=DROP | matches -q "id: 2"'
	check "$P: ... in that order, the others moved" test "$(rules INGRESS | jq -c '[.[] | .dport // 0]')" = "[0,7,6,8080,5353]"
	refused "$P: insert before a rule that is not there" 'has no rule 99' \
		cubectl fw1 chain INGRESS insert before=99 action=DROP
	refused "$P: insert with both id and after" 'one of id, before and after' \
		cubectl fw1 chain INGRESS insert id=1 after=0 action=DROP
	check "$P: delete the two" eval 'cubectl fw1 chain INGRESS delete l4proto=UDP dport=7 action=DROP &&
		cubectl fw1 chain INGRESS delete l4proto=UDP dport=6 action=DROP'
	check "$P: the three rules again" test "$(rules INGRESS)" = "$kept"

	# ---- counters
	ns h1 ping -c 5 -i 0.1 -q 10.0.0.2 >/dev/null 2>&1
	check "$P: the ICMP rule counted >= 5 packets" test "$(stat_of INGRESS 0 pkts)" -ge 5
	check "$P: ... and its bytes" test "$(stat_of INGRESS 0 bytes)" -ge 400
	check "$P: the default (id 3) counted the drops" test "$(stat_of INGRESS 3 pkts)" -ge 1
	check "$P: the default's entry says Default Policy DROP" \
		test "$(cubectl fw1 chain INGRESS stats show -json | jq -r '.[] | select(.id == 3) | .description + " " + .action')" = "Default Policy DROP"
	check "$P: reset-counters" cubectl fw1 chain INGRESS reset-counters
	check "$P: counters are 0 after the reset" test "$(stat_of INGRESS 0 pkts)$(stat_of INGRESS 3 pkts)" = 00

	# ---- LOG: accepted, logged by the process
	check "$P: insert id=0 l4proto=ICMP action=LOG" cubectl fw1 chain INGRESS insert id=0 l4proto=ICMP action=LOG
	check "$P: a LOG rule lets the ping through" ping_ok h1 10.0.0.2
	check "$P: ... and the process logged it" wait_for 3 grep -q "fw1.*LOG chain INGRESS" "$BROKER_LOG"
	check "$P: delete l4proto=ICMP action=LOG" cubectl fw1 chain INGRESS delete l4proto=ICMP action=LOG

	# ---- rules inserted and deleted while a flow runs (the probe: UDP 9900, TCP 9901)
	cubectl fw1 chain INGRESS append l4proto=UDP dport=9900 action=ACCEPT >/dev/null
	cubectl fw1 chain INGRESS append l4proto=TCP dport=9901 action=ACCEPT >/dev/null
	cubectl fw1 chain EGRESS set default=DROP >/dev/null
	cubectl fw1 chain EGRESS append l4proto=TCP sport=9901 action=ACCEPT >/dev/null
	cubectl fw1 chain EGRESS append l4proto=ICMP action=ACCEPT >/dev/null
	churn() {
		local i
		for i in $(seq 1 20); do
			cubectl fw1 chain INGRESS insert id=0 src=10.9.$i.0/24 action=DROP >/dev/null || return 1
			cubectl fw1 chain INGRESS insert id=1 l4proto=UDP dport=$((20000 + i)) action=DROP >/dev/null || return 1
		done
		for i in $(seq 1 20); do
			cubectl fw1 chain INGRESS delete src=10.9.$i.0/24 action=DROP >/dev/null || return 1
		done
	}
	under_load "$P: 40 inserts and 20 deletes at the front" 6 churn
	check "$P: the chain has the rules the churn left (5 + 20)" test "$(rules INGRESS | jq length)" = 25

	# ---- specialisation: a matcher no rule used loads a new program, swapped under the probe
	swaps() {
		cubectl fw1 chain INGRESS insert id=0 tcpflags=SYN,FIN action=DROP >/dev/null &&
			cubectl fw1 chain INGRESS insert id=0 dst=fd00::/64 action=DROP >/dev/null &&
			cubectl fw1 chain INGRESS delete tcpflags=SYN,FIN action=DROP >/dev/null &&
			cubectl fw1 chain INGRESS delete dst=fd00::/64 action=DROP >/dev/null
	}
	local before
	before=$(grep -c "fw1.*fast path specialised" "$BROKER_LOG")
	under_load "$P: 4 specialise-and-swap under a flow" 5 swaps
	check "$P: the swaps happened (fast path reloaded 4 times)" \
		test $(($(grep -c "fw1.*fast path specialised" "$BROKER_LOG") - before)) -ge 4

	# ---- bad input: one line, nothing changed
	refused "$P: src 10.0.0.300" 'src 10.0.0.300: not an address' cubectl fw1 chain INGRESS append src=10.0.0.300
	refused "$P: src 10.0.0.0/33" 'not an address or prefix' cubectl fw1 chain INGRESS append src=10.0.0.0/33
	refused "$P: dst fd00::/129" 'not an address or prefix' cubectl fw1 chain INGRESS append dst=fd00::/129
	refused "$P: dport 70000" '70000' cubectl fw1 chain INGRESS append dport=70000
	refused "$P: sport -1" 'sport' cubectl fw1 chain INGRESS append sport=-1
	refused "$P: l4proto FOO" 'unknown protocol' cubectl fw1 chain INGRESS append l4proto=FOO
	refused "$P: tcpflags SYN,BOGUS" 'tcpflags' cubectl fw1 chain INGRESS append tcpflags=SYN,BOGUS
	refused "$P: action FORWARD" 'FORWARD' cubectl fw1 chain INGRESS append action=FORWARD
	refused "$P: insert past the end" 'past the end' cubectl fw1 chain INGRESS insert id=1000 action=DROP
	refused "$P: chain INVALID" 'INVALID' cubectl fw1 chain INVALID append action=DROP
	refused "$P: delete of a rule that is not there" 'no rule with those fields' \
		cubectl fw1 chain INGRESS delete src=10.1.2.3
	refused "$P: batch with duplicate ids" 'rules' sh -c \
		'echo "{\"rules\":[{\"id\":1,\"operation\":\"APPEND\"},{\"id\":1,\"operation\":\"APPEND\"}]}" | cubectl fw1 chain INGRESS batch'
	refused "$P: a failed batch applies nothing" 'batch entry 2' sh -c \
		'echo "{\"rules\":[{\"id\":0,\"operation\":\"INSERT\",\"src\":\"10.5.0.0/16\"},{\"id\":1,\"operation\":\"APPEND\",\"dport\":99},{\"id\":1000,\"operation\":\"DELETE\"},{\"id\":3,\"operation\":\"APPEND\",\"l4proto\":\"TCP\"}]}" | cubectl fw1 chain INGRESS batch'
	refused "$P: a batch entry with a bad prefix" 'batch entry 1.*not an address' sh -c \
		'echo "{\"rules\":[{\"id\":0,\"operation\":\"APPEND\"},{\"id\":1,\"operation\":\"APPEND\",\"src\":\"1.2.3\"}]}" | cubectl fw1 chain INGRESS batch'
	check "$P: traffic still flows after the refusals" ping_ok h1 10.0.0.2

	# ---- reset for the next attachment
	cubectl fw1 chain INGRESS set default=ACCEPT >/dev/null
	cubectl fw1 chain EGRESS set default=ACCEPT >/dev/null
	local n
	for ch in INGRESS EGRESS; do
		n=$(rules $ch | jq length)
		if [ "$n" -gt 0 ]; then
			# the last rule first, so that every id is still there when its DELETE comes
			jq -nc --argjson n "$n" '{rules: [range($n - 1; -1; -1) | {id: ., operation: "DELETE"}]}' |
				cubectl fw1 chain $ch batch >/dev/null
		fi
	done
	check "$P: chains emptied by a batch of deletes" test "$(rules INGRESS)$(rules EGRESS)" = "[][]"

	# ---- connection tracking (empty chains): h2 is inside (behind the cube,
	# EGRESS is its way out), h1 outside; INGRESS drops what is not a reply
	if [ "$T/$W" = XDP_SKB/netdev ]; then
		skip "$P: connections opened from inside" "XDP has no egress hook on a netdev: EGRESS sees nothing"
	else
		ct_scenario "$P"
	fi
	cubectl fw1 set conntrack=ON accept-established=ON >/dev/null
	cubectl fw1 chain INGRESS set default=ACCEPT >/dev/null
}

start_broker || {
	not_ok "broker starts" "see the log below"
	exit 1
}
for i in 1 2; do
	add_host h$i 10.0.0.$i/24 02:cb:00:00:0b:0$i || {
		not_ok "host h$i"
		exit 1
	}
done
V1=$(veth h1) V2=$(veth h2)

for T in TC XDP_SKB; do
	# ---- attached to a cube port
	cubectl simplebridge add br1 type=$T >/dev/null &&
		cubectl br1 ports add p1 peer="$V1" >/dev/null &&
		cubectl br1 ports add p2 peer="$V2" >/dev/null
	check "$T: br1 joins h1 and h2" ping_ok h1 10.0.0.2
	check "$T: firewall add fw1 type=$T" cubectl firewall add fw1 type=$T
	check "$T: fw1 running" wait_for 5 all_running
	check "$T: fw1 has the chains INGRESS and EGRESS" \
		test "$(cubectl fw1 chain show -json | jq -r '[.[].name] | join(",")')" = "INGRESS,EGRESS"
	check "$T: attach fw1 br1:p1" cubectl attach fw1 br1:p1
	scenario $T port
	check "$T: detach fw1 br1:p1" cubectl detach fw1 br1:p1
	cubectl del br1 >/dev/null

	# ---- attached to a netdev (a Linux bridge in the root namespace joins the veths)
	LB=${ID}lb
	ip link add "$LB" type bridge forward_delay 0 stp_state 0 && LINKS+=("$LB") &&
		echo 1 >/proc/sys/net/ipv6/conf/"$LB"/disable_ipv6 &&
		ip link set "$V1" master "$LB" && ip link set "$V2" master "$LB" && ip link set "$LB" up
	check "$T: the Linux bridge joins h1 and h2" ping_ok h1 10.0.0.2
	check "$T: attach fw1 $V1" cubectl attach fw1 "$V1"
	scenario $T netdev
	check "$T: detach fw1 $V1" cubectl detach fw1 "$V1"
	ip link del "$LB"
	check "$T: del fw1" cubectl del fw1
done
