#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# List keys are matched by value, not by text: libyang keeps values in
# their canonical form (10.0.3.7/24 is the route 10.0.3.0/24, FD00:3:0::/64
# is fd00:3::/64, AA:BB:... is aa:bb:...), so show, set and del with the
# very text add took must find the entry, over cubectl and REST alike; a
# state entry the cube reports (an fdb entry) meets its configured entry;
# two entries of one value in a body are refused.
. "$(dirname "$0")/lib.sh"

# json CMD...: the -json output of `cubectl CMD...`
json() {
	cubectl "$@" -json
}

# gone WORDS...: `cubectl WORDS show` fails with "not found"
gone() {
	local out
	out=$(cubectl "$@" show 2>&1) && return 1
	echo "$out" | matches -q 'not found'
}

# refused PATTERN CMD...: CMD fails saying PATTERN
refused() {
	local pat=$1 out
	shift
	out=$("$@" 2>&1) && return 1
	echo "$out"
	echo "$out" | matches -qE -- "$pat"
}

# a broker with REST on a free port (without, if none is found)
B=
for try in 1 2 3; do
	PORT=$((20000 + RANDOM % 20000))
	ss -Hltn "sport = :$PORT" 2>/dev/null | matches -q . && continue
	start_broker --rest 127.0.0.1:$PORT || {
		not_ok "broker starts" "see the log below"
		exit 1
	}
	grep -q "127.0.0.1:$PORT.*running without REST" "$BROKER_LOG" || {
		B=http://127.0.0.1:$PORT/polycube/v1
		break
	}
	stop_broker
done
[ -n "$B" ] || start_broker || {
	not_ok "broker starts" "see the log below"
	exit 1
}
add_host h1 10.0.2.2/24 || {
	not_ok "host h1"
	exit 1
}

ok=1
cubectl router add r1 &&
	cubectl r1 ports add up peer="$(veth h1)" ip=10.0.2.1/24 &&
	cubectl r1 ports up secondaryip add FD00:2:0::1/64 || ok=0
[ $ok = 1 ] && ok "setup: router r1, port up 10.0.2.1/24 and FD00:2:0::1/64" || not_ok "setup: router r1"

# ---- router route (inet:ip-prefix, inet:ip-address) --------------------------
check "route add 10.0.3.7/24 10.0.2.2" cubectl r1 route add 10.0.3.7/24 10.0.2.2
check "stored as 10.0.3.0/24" test "$(json r1 route show | jq -r '[.[] | select(.nexthop == "10.0.2.2")][0].network')" = 10.0.3.0/24
check "route 10.0.3.7/24 10.0.2.2 show finds it" \
	test "$(json r1 route 10.0.3.7/24 10.0.2.2 show | jq -r .network)" = 10.0.3.0/24
check "route 10.0.3.7/24 10.0.2.2 set pathcost=4" cubectl r1 route 10.0.3.7/24 10.0.2.2 set pathcost=4
check "pathcost is 4" test "$(json r1 route 10.0.3.0/24 10.0.2.2 show | jq .pathcost)" = 4
check "route add 10.0.3.9/24 10.0.2.2 is the same route: already exists" \
	refused 'already exists' cubectl r1 route add 10.0.3.9/24 10.0.2.2
check "route del 10.0.3.7/24 10.0.2.2" cubectl r1 route del 10.0.3.7/24 10.0.2.2
check "the route is gone" gone r1 route 10.0.3.0/24 10.0.2.2

check "route add FD00:3:0::/64 FD00:2:0::2" cubectl r1 route add FD00:3:0::/64 FD00:2:0::2
check "stored as fd00:3::/64 via fd00:2::2" \
	test "$(json r1 route fd00:3::/64 fd00:2::2 show | jq -r '.network + " " + .nexthop')" = "fd00:3::/64 fd00:2::2"
check "route FD00:3:0::/64 FD00:2:0::2 show finds it" \
	test "$(json r1 route FD00:3:0::/64 FD00:2:0::2 show | jq -r .network)" = fd00:3::/64
check "route FD00:3:0:0::/64 fd00:2::0:2 del (a third spelling)" cubectl r1 route del FD00:3:0:0::/64 fd00:2::0:2
check "the IPv6 route is gone" gone r1 route fd00:3::/64 fd00:2::2

# ---- router secondaryip (the router's own interface prefixes) ----------------
check "ports up secondaryip add FD00:3:0::1/64" cubectl r1 ports up secondaryip add FD00:3:0::1/64
check "ports up secondaryip FD00:3:0::1/64 show finds it" \
	test "$(json r1 ports up secondaryip FD00:3:0::1/64 show | jq -r .ip)" = fd00:3::1/64
check "ports up secondaryip del FD00:3:0::1/64 (the same text)" cubectl r1 ports up secondaryip del FD00:3:0::1/64
check "the secondary address is gone" gone r1 ports up secondaryip fd00:3::1/64
check "ports up secondaryip add FD00:3:0::1/64 again" cubectl r1 ports up secondaryip add FD00:3:0::1/64
check "ports up secondaryip del fd00:3::1/64 (another spelling)" cubectl r1 ports up secondaryip del fd00:3::1/64
check "no secondary fd00:3:: address left" \
	test "$(json r1 ports up show | jq '[.secondaryip[]? | select(.ip | test("^fd00:3:"; "i"))] | length')" = 0
check "r1 still answers its own address" ping_ok h1 10.0.2.1

# ---- router arp-table (a union of address and prefix) ------------------------
check "arp-table add FD00:2:0::9 mac=AA:BB:CC:DD:EE:09 interface=up" \
	cubectl r1 arp-table add FD00:2:0::9 mac=AA:BB:CC:DD:EE:09 interface=up
check "arp-table FD00:2:0::9 show: one entry, mac lowercase" \
	test "$(json r1 arp-table FD00:2:0::9 show | jq -r '.address + " " + .mac')" = "fd00:2::9 aa:bb:cc:dd:ee:09"
check "arp-table del FD00:2:0::9" cubectl r1 arp-table del FD00:2:0::9
check "the neighbour is gone" gone r1 arp-table fd00:2::9

# ---- simplebridge fdb entry (yang:mac-address), config and state -------------
check "simplebridge add br1 with port p1" eval 'cubectl simplebridge add br1 && cubectl br1 ports add p1'
check "fdb entry add AA:BB:CC:DD:EE:01 port=p1" cubectl br1 fdb entry add AA:BB:CC:DD:EE:01 port=p1
check "fdb entry AA:BB:CC:DD:EE:01 show finds it" \
	test "$(json br1 fdb entry AA:BB:CC:DD:EE:01 show | jq -r .port)" = p1
check "fdb entry show: one entry (the cube's state met the configured entry)" \
	test "$(json br1 fdb entry show | jq -c '[.[] | .address]')" = '["aa:bb:cc:dd:ee:01"]'
check "fdb entry del AA:BB:CC:DD:EE:01" cubectl br1 fdb entry del AA:BB:CC:DD:EE:01
check "the fdb entry is gone" test "$(json br1 fdb entry show | jq 'length')" = 0

# ---- REST: URL-encoded keys -------------------------------------------------------
if command -v curl >/dev/null; then
	if [ -n "$B" ]; then
		code() { curl -s -o "$TMP/resp" -w '%{http_code}' "$@"; }
		R=$B/r1/route/10.0.3.7%2F24/10.0.2.2
		check "REST: POST /r1/route/10.0.3.7%2F24/10.0.2.2 (201)" test "$(code -X POST "$R")" = 201
		check "REST: GET with the same key is 10.0.3.0/24" \
			eval "[ \"\$(code '$R')\" = 200 ] && jq -e '.network == \"10.0.3.0/24\"' \"\$TMP/resp\""
		check "REST: PATCH with the same key (204)" test "$(code -X PATCH --data-binary '{"pathcost":7}' "$R")" = 204
		check "REST: DELETE with the same key (204)" test "$(code -X DELETE "$R")" = 204
		check "REST: GET again is 404" test "$(code "$R")" = 404
		F=$B/br1/fdb/entry/AA:BB:CC:DD:EE:02
		check "REST: POST $F (201)" test "$(code -X POST --data-binary '{"port":"p1"}' "$F")" = 201
		check "REST: GET $F" eval "[ \"\$(code '$F')\" = 200 ] && jq -e '.address == \"aa:bb:cc:dd:ee:02\"' \"\$TMP/resp\""
		check "REST: DELETE $F (204)" test "$(code -X DELETE "$F")" = 204
		check "REST: PUT of two routes of one value: 400, given twice" eval "[ \"\$(code -X PUT --data-binary \
			'[{\"network\":\"10.0.4.1/24\",\"nexthop\":\"10.0.2.2\"},{\"network\":\"10.0.4.2/24\",\"nexthop\":\"10.0.2.2\"}]' \
			'$B/r1/route')\" = 400 ] && jq -e '.error | test(\"route 10.0.4.0/24 10.0.2.2: given twice\")' \"\$TMP/resp\""
		check "REST: the routes are as they were (connected only)" \
			test "$(json r1 route show | jq '[.[] | select(.network | startswith("10.0.4."))] | length')" = 0
	else
		skip "REST keys" "no free port for REST in 3 tries"
	fi
else
	skip "REST keys" "needs curl"
fi
