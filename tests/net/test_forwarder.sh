#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# simpleforwarder between two hosts, in TC and XDP_SKB mode: FORWARD both
# ways, DROP one way, SLOWPATH (counted by the process), action removed.
. "$(dirname "$0")/lib.sh"

slowpath_packets() { # CUBE
	cubectl "$1" show -json | jq -r '."slowpath-packets" // 0'
}

action_of() { # CUBE INPORT
	cubectl "$1" actions show -json | jq -r --arg p "$2" '.[] | select(.inport == $p) | .action'
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
	check "$T: simpleforwarder add sf" cubectl simpleforwarder add sf type=$T || continue
	check "$T: sf-p1 peer h1" cubectl sf ports add sf-p1 peer="$(veth h1)"
	check "$T: sf-p2 peer h2" cubectl sf ports add sf-p2 peer="$(veth h2)"
	check "$T: no action yet: no ping" ping_fails h1 10.0.0.2

	check "$T: actions add sf-p1 FORWARD -> sf-p2" cubectl sf actions add sf-p1 action=FORWARD outport=sf-p2
	check "$T: actions add sf-p2 FORWARD -> sf-p1" cubectl sf actions add sf-p2 action=FORWARD outport=sf-p1
	check "$T: actions show lists both" test "$(action_of sf sf-p1)/$(action_of sf sf-p2)" = FORWARD/FORWARD
	check "$T: h1->h2 with FORWARD both ways" ping_ok h1 10.0.0.2
	check "$T: h2->h1 with FORWARD both ways" ping_ok h2 10.0.0.1

	check "$T: sf-p2 set action=DROP" cubectl sf actions sf-p2 set action=DROP
	check "$T: h1->h2 fails (replies dropped)" ping_fails h1 10.0.0.2
	check "$T: h2->h1 fails (requests dropped)" ping_fails h2 10.0.0.1
	check "$T: sf-p2 set action=FORWARD" cubectl sf actions sf-p2 set action=FORWARD
	check "$T: h1->h2 works again" ping_ok h1 10.0.0.2

	before=$(slowpath_packets sf)
	check "$T: sf-p1 set action=SLOWPATH" cubectl sf actions sf-p1 set action=SLOWPATH
	check "$T: h1->h2 fails with SLOWPATH" ping_fails h1 10.0.0.2
	after=$(slowpath_packets sf)
	log "$T: slowpath-packets $before -> $after"
	check "$T: slowpath-packets grew" test "$after" -gt "$before"

	check "$T: sf-p1 back to FORWARD" cubectl sf actions sf-p1 set action=FORWARD outport=sf-p2
	check "$T: h1->h2 works again after SLOWPATH" ping_ok h1 10.0.0.2
	check "$T: actions del sf-p1" cubectl sf actions del sf-p1
	check "$T: sf-p1 gone from actions show" test -z "$(action_of sf sf-p1)"
	check "$T: h1->h2 fails without an action for sf-p1" ping_fails h1 10.0.0.2
	check "$T: h2->h1 fails without an action for sf-p1" ping_fails h2 10.0.0.1
	check "$T: del sf" cubectl del sf

	# actions may come before their ports: they apply once the ports exist,
	# and a restarted process applies them again
	check "$T: sf2 with actions before its ports" cubectl simpleforwarder add sf2 type=$T
	check "$T: sf2 actions for ports not there yet" cubectl sf2 actions add q1 action=FORWARD outport=q2
	check "$T: sf2 reverse action" cubectl sf2 actions add q2 action=FORWARD outport=q1
	check "$T: sf2 ports q1, q2 added after" cubectl sf2 ports add q1 peer="$(veth h1)"
	check "$T: sf2 port q2" cubectl sf2 ports add q2 peer="$(veth h2)"
	check "$T: h1->h2 through actions given before the ports" ping_ok h1 10.0.0.2
	check "$T: sf2 restart" cubectl sf2 restart
	check "$T: h1->h2 after the restart" ping_ok h1 10.0.0.2
	check "$T: sf2 q2 deleted: its action stays, unresolved" cubectl sf2 ports del q2
	check "$T: h1->h2 fails without q2" ping_fails h1 10.0.0.2
	check "$T: q2 back" cubectl sf2 ports add q2 peer="$(veth h2)"
	check "$T: h1->h2 once q2 is back" ping_ok h1 10.0.0.2
	check "$T: del sf2" cubectl del sf2
done
