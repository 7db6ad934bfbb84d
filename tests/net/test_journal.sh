#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Edits below a cube are changes, not whole configurations: the database
# keeps each as one row of the cube's journal, the cube gets it as a diff,
# and both come back after a crash of the broker.
#
#   h1 10.0.1.1 --p1 [r1] p2-- h2 10.0.2.1 (and 10.0.3.1 on its lo, reached
#                                            through a static route)
#   h3 --b1 [br1] b2-- h4 (a static fdb entry for h4 on b2)
#
# Routes and fdb entries added, changed and deleted one at a time: the
# packets follow each change, the database holds one journal row per
# change, a refused change leaves the database, the cube's configuration and
# the kernel as they were, a kill -9 of the broker loses none of them, and
# the journal is written whole when it grows long.
. "$(dirname "$0")/lib.sh"

DB=$CUBEBUS_STATE_DIR/cubebus.db
journal() { sqlite3 "$DB" "SELECT count(*) FROM changes WHERE cube = '$1'"; }
routes() { cubectl r1 show -json | jq -c '[.route[]? | select(.nexthop != "0.0.0.0") | [.network, .nexthop, .pathcost]] | sort'; }

add_host h1 10.0.1.1/24
add_host h2 10.0.2.1/24
ns h1 ip route add default via 10.0.1.254
ns h2 ip route add default via 10.0.2.254
ns h2 ip addr add 10.0.3.1/32 dev lo
start_broker || exit 1

check "setup: r1" cubectl router add r1
check "setup: r1 p1" cubectl r1 ports add p1 peer="$(veth h1)" ip=10.0.1.254/24
check "setup: r1 p2" cubectl r1 ports add p2 peer="$(veth h2)" ip=10.0.2.254/24
check "ping across r1" ping_ok h1 10.0.2.1
check "no route to 10.0.3.1 yet" ping_fails h1 10.0.3.1
j0=$(journal r1)

check "route add 10.0.3.0/24 via h2" cubectl r1 route add 10.0.3.0/24 10.0.2.1
check "the route forwards: ping 10.0.3.1" ping_ok h1 10.0.3.1
check "one journal row for the route" test "$(journal r1)" = $((j0 + 1))
for i in 1 2 3; do
	cubectl r1 route add "10.9.$i.0/24" 10.0.2.1 >/dev/null || not_ok "route add 10.9.$i.0/24" "refused"
done
check "route set pathcost" cubectl r1 route set 10.9.1.0/24 10.0.2.1 pathcost=7
check "route del" cubectl r1 route del 10.9.2.0/24 10.0.2.1
check "a journal row per change (6)" test "$(journal r1)" = $((j0 + 6))
want='[["10.0.3.0/24","10.0.2.1",1],["10.9.1.0/24","10.0.2.1",7],["10.9.3.0/24","10.0.2.1",1]]'
check "the configuration holds the changes" test "$(routes)" = "$want"

# a refused change: the database, the configuration and the kernel as before
before=$(cubectl r1 show -json | json_stable)
reply=$(cubectl r1 route add 10.0.3.0/24 10.0.2.1 2>&1)
r=$?
log "existing route: $reply"
check "adding an existing route is refused with a sentence" eval "[ $r != 0 ] && echo \"\$reply\" | matches -q 'already exists'"
reply=$(cubectl r1 route add 10.0.4.0/24 10.0.2.1 pathcost=abc 2>&1)
r=$?
log "bad pathcost: $reply"
check "a bad value is refused with a sentence" eval "[ $r != 0 ] && echo \"\$reply\" | matches -q 'pathcost'"
check "no journal row for refused changes" test "$(journal r1)" = $((j0 + 6))
check "the configuration is unchanged by refused changes" test "$(cubectl r1 show -json | json_stable)" = "$before"
check "and still forwards" ping_ok h1 10.0.3.1

# the fdb: a static entry is a change the cube applies to its kernel table
add_host h3 10.0.5.1/24
add_host h4 10.0.5.2/24
check "setup: br1" cubectl simplebridge add br1
check "setup: br1 b1" cubectl br1 ports add b1 peer="$(veth h3)"
check "setup: br1 b2" cubectl br1 ports add b2 peer="$(veth h4)"
jb=$(journal br1)
M4=$(mac_of h4)
check "fdb entry add (static h4 on b2)" cubectl br1 fdb entry add "$M4" port=b2
check "ping across br1" ping_ok h3 10.0.5.2
check "the static entry is a journal row" test "$(journal br1)" = $((jb + 1))
reply=$(cubectl br1 fdb entry add 0a:00:00:00:00:09 port=b9 2>&1)
r=$?
log "entry on b9: $reply"
check "a static entry on a port the bridge does not have: refused by the cube, said" \
	eval "[ $r != 0 ] && echo \"\$reply\" | matches -q 'b9 is not a port'"
check "nothing stored for the refused entry" test "$(journal br1)" = $((jb + 1))
check "nothing kept of the refused entry" \
	eval "! cubectl br1 fdb show -json | jq -e '.entry[]? | select(.address == \"0a:00:00:00:00:09\")' >/dev/null"

# the broker crashes: the journal is the configuration
stop_broker KILL
start_broker || exit 1
check "after a kill -9 of the broker, r1 keeps every change" test "$(routes)" = "$want"
check "br1 keeps its static entry" \
	eval "cubectl br1 fdb show -json | jq -e --arg m $M4 '.entry[] | select(.address == \$m and .port == \"b2\")' >/dev/null"
check "restored, the journal was written whole" test "$(journal r1)" = 0 -a "$(journal br1)" = 0
check "the route still forwards" ping_ok h1 10.0.3.1
# and a restart of the cube process gets the whole configuration
pid=$(cube_field r1 pid)
kill -9 "$pid"
check "r1 restarted" wait_for 10 eval "p=\$(cube_field r1 pid); [ -n \"\$p\" ] && [ \"\$p\" != $pid ] && [ \"\$(cube_field r1 status)\" = running ]"
check "after its restart r1 forwards through the route" ping_ok h1 10.0.3.1

# a long journal is written whole (the limit is 256 changes)
for i in $(seq 1 260); do
	cubectl r1 route add "10.10.$((i / 250)).$((i % 250))/32" 10.0.2.1 >/dev/null || { not_ok "route $i" "refused"; break; }
done
check "after 260 changes the journal was written whole (fewer than 260 rows)" test "$(journal r1)" -lt 260
check "and the configuration holds all 263 routes" \
	test "$(cubectl r1 show -json | jq '[.route[] | select(.nexthop != "0.0.0.0")] | length')" = 263
stop_broker KILL
start_broker || exit 1
check "and keeps them after a kill -9 of the broker" \
	test "$(cubectl r1 show -json | jq '[.route[] | select(.nexthop != "0.0.0.0")] | length')" = 263
