#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# router with a large route table:
#
#   h1 10.0.1.1 --p1 [rs] p2-- h2 10.0.2.1 (and 10.77.0.1, 10.99.0.1 on its lo)
#
# 10 000 static routes given at creation, one more added to them (the
# change is one handler call: timed, and it forwards), the table full at
# RT_STATIC_MAX (16 384, the route list's max-elements): one more is
# refused by the broker with its sentence and not stored, as is a router
# given one more at creation; a deleted route frees its place.
. "$(dirname "$0")/lib.sh"

MAX=16384

# routes FIRST COUNT: COUNT routes 10.128.0.0/24, 10.128.1.0/24, ... from
# index FIRST on, via h1, as JSON entries
routes() {
	jq -cn --argjson f "$1" --argjson n "$2" \
		'[range($f; $f + $n) | {network: "10.\(128 + (. / 65536 | floor)).\((. / 256 | floor) % 256).\(. % 256)/32", nexthop: "10.0.1.1"}]'
}

net_unreachable() { # FROM IP: ping says so
	local out
	out=$(ns "$1" ping -c 1 -W 2 "$2" 2>&1)
	echo "$out" | matches -q "Destination Net Unreachable"
}

nroutes() { # CUBE: static routes it shows
	cubectl "$1" route show -json | jq '[.[] | select(.nexthop != "0.0.0.0" and .nexthop != "::")] | length'
}

start_broker || {
	not_ok "broker starts" "see the log below"
	exit 1
}
ok=1
add_host h1 10.0.1.1/24 && ns h1 ip route add default via 10.0.1.254 || ok=0
add_host h2 10.0.2.1/24 && ns h2 ip route add default via 10.0.2.254 || ok=0
ns h2 ip addr add 10.77.0.1/32 dev lo && ns h2 ip addr add 10.99.0.1/32 dev lo || ok=0
[ $ok = 1 ] && ok "hosts h1, h2" || {
	not_ok "hosts h1, h2"
	exit 1
}

routes 0 10000 >"$TMP/r.json"
jq -n --slurpfile r "$TMP/r.json" --arg p1 "$(veth h1)" --arg p2 "$(veth h2)" \
	'{ports: [{name: "p1", peer: $p1, ip: "10.0.1.254/24"}, {name: "p2", peer: $p2, ip: "10.0.2.254/24"}],
	  route: $r[0]}' >"$TMP/rs.json"
check "a router with 10000 static routes" eval 'cubectl router add rs <"$TMP/rs.json"'
check "10000 routes shown" test "$(nroutes rs)" = 10000
t0=${EPOCHREALTIME/./}
check "one more: 10.77.0.0/16 via h2" cubectl rs route add 10.77.0.0/16 10.0.2.1
t1=${EPOCHREALTIME/./}
log "adding route 10001: $(((t1 - t0) / 1000)) ms"
check "it is active" test "$(cubectl rs route show -json |
	jq -r '.[] | select(.network == "10.77.0.0/16") | .active')" = true
check "h1 -> 10.77.0.1 through it" ping_ok h1 10.77.0.1
check "h1 -> h2 on the connected route" ping_ok h1 10.0.2.1

# fill the table: what is left, in one change. A read of 16 384 routes is
# about 1.6 MB of JSON, more than a bus of 1 MiB (BUS_MAX_MSG) carries:
# what follows reads none.
routes 10000 $((MAX - 10001)) | jq -c '{route: .}' >"$TMP/more.json"
t0=${EPOCHREALTIME/./}
check "routes up to $MAX" eval 'cubectl rs set <"$TMP/more.json"'
t1=${EPOCHREALTIME/./}
log "adding $((MAX - 10001)) routes to 10001: $(((t1 - t0) / 1000)) ms"
# the model's max-elements of route (RT_STATIC_MAX): the broker refuses,
# in its own words, before the cube is asked
if cubectl rs route add 10.99.0.0/16 10.0.2.1 >"$TMP/out" 2>"$TMP/err"; then
	not_ok "route $((MAX + 1)) is refused" "exit status 0"
else
	check "route $((MAX + 1)) is refused: route holds at most $MAX entries" \
		grep -q "rs: route: holds at most $MAX entries" "$TMP/err"
fi
log "$(cat "$TMP/err")"
routes 0 $((MAX + 1)) | jq -c '{route: .}' >"$TMP/over.json"
if cubectl router add rx <"$TMP/over.json" >"$TMP/out" 2>"$TMP/err"; then
	not_ok "a router given $((MAX + 1)) routes is refused" "exit status 0"
else
	check "a router given $((MAX + 1)) routes is refused: at most $MAX, not $((MAX + 1))" \
		grep -q "route: holds at most $MAX entries, not $((MAX + 1))" "$TMP/err"
fi
log "$(cat "$TMP/err")"
check "and not made" eval '! cubectl rx show >/dev/null 2>&1'
check "h1 -> 10.77.0.1 still" ping_ok h1 10.77.0.1
check "h1 -> 10.99.0.1 (no route): Destination Net Unreachable" net_unreachable h1 10.99.0.1
# the refused route is not stored: once there is room it is new
check "a route deleted frees its place for it" eval \
	'cubectl rs route del 10.128.0.5/32 10.0.1.1 && cubectl rs route add 10.99.0.0/16 10.0.2.1'
check "h1 -> 10.99.0.1 through it" ping_ok h1 10.99.0.1

check "del rs" cubectl del rs
check "no pins left" test -z "$(ls "$CUBEBUS_BPFFS/cubes" 2>/dev/null)"
