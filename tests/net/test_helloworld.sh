#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# helloworld between two hosts, in TC and XDP_SKB mode, built with the
# command sequence of the issue: DROP (no ping), FORWARD (ping),
# SLOWPATH (no ping: every packet goes to the process, which logs it, at
# most one line a second, and counts it, and forwards nothing).
. "$(dirname "$0")/lib.sh"

slowpath_packets() {
	cubectl hw1 show -json | jq -r '."slowpath-packets" // 0'
}

# the process's log lines about slow-path packets, in the broker's log
# (the cube processes write to its stderr)
slowpath_lines() {
	grep -c 'cube-helloworld\[hw1\] info: slow path: .*not forwarded' "$BROKER_LOG"
}

rx_h2() {
	ns h2 cat /sys/class/net/eth0/statistics/rx_packets
}

# nothing_reaches_h2 COUNT: h2 receives no packet at all while h1 sends
# COUNT pings (with SLOWPATH nothing leaves hw1)
nothing_reaches_h2() {
	local rx0
	rx0=$(rx_h2)
	ns h1 ping -c "$1" -i 0.02 -W 1 -q 10.0.0.2 >/dev/null 2>&1
	sleep 0.3
	[ "$(rx_h2)" = "$rx0" ] || {
		echo "h2 received $(($(rx_h2) - rx0)) packets"
		return 1
	}
}

start_broker || {
	not_ok "broker starts" "see the log below"
	exit 1
}
add_host h1 10.0.0.1/24 && add_host h2 10.0.0.2/24 || {
	not_ok "hosts"
	exit 1
}

for T in TC XDP_SKB; do
	if [ $T = TC ]; then
		check "$T: helloworld add hw1" cubectl helloworld add hw1 || continue
	else
		check "$T: helloworld add hw1 type=$T" cubectl helloworld add hw1 type=$T || continue
	fi
	check "$T: hw1 ports add port1" cubectl hw1 ports add port1
	check "$T: connect hw1:port1 $(veth h1)" cubectl connect hw1:port1 "$(veth h1)"
	check "$T: hw1 ports add port2" cubectl hw1 ports add port2
	check "$T: connect hw1:port2 $(veth h2)" cubectl connect hw1:port2 "$(veth h2)"
	check "$T: default action is DROP" test "$(cubectl hw1 show -json | jq -r .action)" = DROP
	check "$T: no ping with the default DROP" ping_fails h1 10.0.0.2

	check "$T: hw1 set action=FORWARD" cubectl hw1 set action=FORWARD
	check "$T: h1->h2 with FORWARD" ping_ok h1 10.0.0.2
	check "$T: h2->h1 with FORWARD" ping_ok h2 10.0.0.1

	check "$T: hw1 set action=DROP" cubectl hw1 set action=DROP
	check "$T: no ping with DROP" ping_fails h1 10.0.0.2
	check "$T: no ping with DROP (other way)" ping_fails h2 10.0.0.1

	# neighbours fixed: every packet of a ping is an ICMP echo, none an ARP
	ns h1 ip neigh replace 10.0.0.2 lladdr "$(mac_of h2)" dev eth0 nud permanent
	ns h2 ip neigh replace 10.0.0.1 lladdr "$(mac_of h1)" dev eth0 nud permanent
	before=$(slowpath_packets)
	lines0=$(slowpath_lines)
	check "$T: hw1 set action=SLOWPATH" cubectl hw1 set action=SLOWPATH
	check "$T: no ping h1->h2 with SLOWPATH (the process does not forward)" ping_fails h1 10.0.0.2
	check "$T: no ping h2->h1 with SLOWPATH" ping_fails h2 10.0.0.1
	check "$T: 50 pings with SLOWPATH: not one reaches h2" nothing_reaches_h2 50
	after=$(slowpath_packets)
	lines1=$(slowpath_lines)
	log "$T: slowpath-packets $before -> $after, log lines $lines0 -> $lines1"
	check "$T: slowpath-packets grew by at least 54 (2 + 2 + 50 pings)" test "$after" -ge $((before + 54))
	check "$T: hw1 show slowpath-packets" eval "cubectl hw1 show slowpath-packets | matches -qE '[1-9]'"
	check "$T: the process logged the slow-path packets" test "$lines1" -gt "$lines0"
	# about 4 s of pings: one line a second, and the first one
	check "$T: the log is rate-limited (at most 6 lines for $((after - before)) packets)" \
		test $((lines1 - lines0)) -le 6
	ns h1 ip neigh del 10.0.0.2 dev eth0
	ns h2 ip neigh del 10.0.0.1 dev eth0

	check "$T: back to FORWARD" cubectl hw1 set action=FORWARD
	check "$T: h1->h2 with FORWARD again" ping_ok h1 10.0.0.2
	check "$T: del hw1" cubectl del hw1
	check "$T: no ping after del" ping_fails h1 10.0.0.2
done
