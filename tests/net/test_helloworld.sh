#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# helloworld between two hosts, in TC and XDP_SKB mode, built with the
# command sequence of the issue: DROP (no ping), FORWARD (ping),
# SLOWPATH (ping: the process sends every packet on; its counter grows).
. "$(dirname "$0")/lib.sh"

slowpath_packets() {
	cubectl hw1 show -json | jq -r '."slowpath-packets" // 0'
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

	before=$(slowpath_packets)
	check "$T: hw1 set action=SLOWPATH" cubectl hw1 set action=SLOWPATH
	check "$T: h1->h2 with SLOWPATH" ping_ok h1 10.0.0.2
	check "$T: h2->h1 with SLOWPATH" ping_ok h2 10.0.0.1
	after=$(slowpath_packets)
	log "$T: slowpath-packets $before -> $after"
	check "$T: slowpath-packets grew by at least 4" test "$after" -ge $((before + 4))
	check "$T: hw1 show slowpath-packets" eval "cubectl hw1 show slowpath-packets | grep -qE '[1-9]'"

	check "$T: back to FORWARD" cubectl hw1 set action=FORWARD
	check "$T: h1->h2 with FORWARD again" ping_ok h1 10.0.0.2
	check "$T: del hw1" cubectl del hw1
	check "$T: no ping after del" ping_fails h1 10.0.0.2
done
