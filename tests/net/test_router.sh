#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# router, in TC and XDP_SKB mode:
#
#   h1 10.0.1.1 --p1 [r1] p2-- h2 10.0.2.1
#                    [r1] p3 <-> q1 [r2] q2-- h3 10.0.3.1    (cube to cube, static routes)
#                    [r1] p4 <-> b0 [br1] b1,b2,b3-- h4,h5,h6 10.0.4.0/24
#
# pings across each router and to the router's own addresses (primary and
# secondary), TTL exceeded, net and host unreachable, path cost, ARP aging
# and re-resolution, arp-flush, IPv6 (neighbour discovery, ping6 across
# both routers, hop limit), the slow-path limiter, packets queued for ARP
# and sent on by the process, static routes to connected networks (kept
# inactive), addresses deleted and changed under static routes' next hops
# (the routes go inactive and come back), a restart of the cube process
# (learned state and inactive routes kept), and bad input: each refused
# request exits non-zero and leaves `cubectl r1 show -json` as it was.
. "$(dirname "$0")/lib.sh"

# v6 NAME ADDR/LEN GW: IPv6 on host NAME (lib.sh turns it off), default via GW
v6() {
	ns "$1" sysctl -qw net.ipv6.conf.all.disable_ipv6=0 net.ipv6.conf.eth0.disable_ipv6=0 \
		net.ipv6.conf.eth0.accept_ra=0 &&
		ns "$1" ip -6 addr add "$2" dev eth0 nodad &&
		ns "$1" ip -6 route add default via "$3"
}

ping6_ok() { # FROM IP
	ns "$1" ping -6 -c 2 -W 1 -i 0.2 -q "$2" >/dev/null 2>&1 && return 0
	ns "$1" ping -6 -c 3 -W 1 -i 0.2 -q "$2" >/dev/null 2>&1
}

# says FROM PATTERN ping-args...: ping's output matches PATTERN
says() {
	local from=$1 pat=$2 out
	shift 2
	out=$(ns "$from" ping "$@" 2>&1)
	echo "$out" | matches -qE -- "$pat" && return 0
	echo "$out" | head -n 4
	return 1
}

ll_of() { # CUBE PORT: the port's fe80:: address (EUI-64 of its MAC)
	local a b c d e f
	IFS=: read -r a b c d e f <<<"$(cubectl "$1" ports show -json |
		jq -r --arg p "$2" '.[] | select(.name == $p) | .mac')"
	printf 'fe80::%x:%x:%x:%x\n' $(((0x$a ^ 2) << 8 | 0x$b)) $((0x$c << 8 | 0xff)) \
		$((0xfe00 | 0x$d)) $((0x$e << 8 | 0x$f))
}

# tcp_ok FROM TO IP: 2 MB from host FROM to host TO (listening on IP) over TCP, whole
tcp_ok() {
	local srv
	rm -f "$TMP/tcp.out"
	ns "$2" timeout 15 nc -l "$3" 5001 >"$TMP/tcp.out" &
	srv=$!
	wait_for 3 eval "ns $2 ss -ltn | matches -q ':5001 '"
	ns "$1" timeout 10 nc -N "$3" 5001 <"$TMP/tcp.in" || return 1
	wait $srv
	cmp "$TMP/tcp.in" "$TMP/tcp.out"
}

# restarted CUBE OLDPID: running again, in another process (one snapshot:
# status and pid read apart could be the old status and the next pid)
restarted() {
	cubectl cubes -json | jq -e --arg c "$1" --argjson p "$2" \
		'.[] | select(.name == $c) | .status == "running" and .pid != 0 and .pid != $p' >/dev/null
}

arp_mac() { # CUBE ADDRESS: the MAC the cube has for ADDRESS ("" if none)
	cubectl "$1" show -json | jq -r --arg a "$2" '."arp-table" // [] | .[] | select(.address == $a) | .mac'
}

route_active() { # CUBE NETWORK NEXTHOP: "true", "false" or ""
	cubectl "$1" show -json |
		jq -r --arg n "$2" --arg h "$3" '.route[] | select(.network == $n and .nexthop == $h) | .active'
}

sent() { # CUBE REASON: packets the router's limiter let through to its process
	cubectl "$1" show -json | jq -r --arg r "$2" '."slowpath-limit".reason[] | select(.name == $r) | ."sent-packets"'
}

# shown CUBE NETWORK NEXTHOP ACTIVE: the line of `route show` (the table)
shown() {
	cubectl "$1" route show | matches -qE "^$2 +$3 +[0-9]+ +[a-z0-9]* *$4 *$"
}

limited() { # CUBE REASON
	cubectl "$1" show -json | jq -r --arg r "$2" '."slowpath-limit".reason[] | select(.name == $r) | ."limited-packets"'
}

all_pings() {
	local bad="" p
	for p in "h1 10.0.2.1" "h2 10.0.1.1" "h1 10.0.3.1" "h3 10.0.2.1" "h1 10.0.4.4" "h5 10.0.2.1" \
		"h6 10.0.3.1" "h4 10.0.4.5"; do
		ping_ok $p || bad="$bad ${p/ /->}"
	done
	[ -z "$bad" ] || {
		echo "no answer:$bad"
		return 1
	}
}

# what a refused request must leave as it was
snapshot() {
	cubectl r1 show -json | json_stable
}

# bad NAME PATTERN command...: fails with one "cubectl: ..." line on stderr
# matching PATTERN (extended regex, case-insensitive), and r1 is unchanged
bad() {
	local name=$1 pat=$2 before after rc
	shift 2
	before=$(snapshot)
	"$@" >"$TMP/out" 2>"$TMP/err"
	rc=$?
	after=$(snapshot)
	log "$name: exit $rc: $(head -c 300 "$TMP/err")"
	if [ $rc -eq 0 ]; then
		not_ok "$T: bad input: $name: fails" "exit status 0"
	elif [ "$(wc -l <"$TMP/err")" != 1 ] || ! grep -qiE -- "$pat" "$TMP/err"; then
		not_ok "$T: bad input: $name: fails" "stderr: $(head -c 300 "$TMP/err" | tr '\n' '|')"
	else
		ok "$T: bad input: $name: fails"
	fi
	if [ "$before" = "$after" ]; then
		ok "$T: bad input: $name: r1 unchanged"
	else
		not_ok "$T: bad input: $name: r1 unchanged" "$(diff <(echo "$before") <(echo "$after") | head -n 6 | tr '\n' '|')"
	fi
}

refused_with() { # TEXT CMD...: CMD fails and says TEXT
	local out
	if out=$("${@:2}" 2>&1); then
		echo "accepted: $out"
		return 1
	fi
	grep -qF -- "$1" <<<"$out" || {
		echo "$out"
		return 1
	}
}

start_broker || {
	not_ok "broker starts" "see the log below"
	exit 1
}
ok=1
add_host h1 10.0.1.1/24 && ns h1 ip route add default via 10.0.1.254 || ok=0
add_host h2 10.0.2.1/24 && ns h2 ip route add default via 10.0.2.254 || ok=0
add_host h3 10.0.3.1/24 && ns h3 ip route add default via 10.0.3.254 || ok=0
for i in 4 5 6; do
	add_host h$i 10.0.4.$i/24 && ns h$i ip route add default via 10.0.4.254 || ok=0
done
v6 h1 fd00:1::1/64 fd00:1::fe || ok=0
v6 h2 fd00:2::1/64 fd00:2::fe || ok=0
v6 h3 fd00:3::1/64 fd00:3::fe || ok=0
head -c 2000000 /dev/urandom >"$TMP/tcp.in" || ok=0
[ $ok = 1 ] && ok "hosts h1..h6" || {
	not_ok "hosts h1..h6"
	exit 1
}

for T in TC XDP_SKB; do
	ok=1
	cubectl router add r1 type=$T || ok=0
	cubectl router add r2 type=$T || ok=0
	cubectl simplebridge add br1 type=$T || ok=0
	cubectl r1 ports add p1 peer="$(veth h1)" ip=10.0.1.254/24 || ok=0
	cubectl r1 ports add p2 peer="$(veth h2)" ip=10.0.2.254/24 || ok=0
	cubectl connect r1:p3 r2:q1 || ok=0
	cubectl r1 ports p3 set ip=10.1.0.1/30 || ok=0
	cubectl r2 ports q1 set ip=10.1.0.2/30 || ok=0
	cubectl r2 ports add q2 peer="$(veth h3)" ip=10.0.3.254/24 || ok=0
	cubectl connect r1:p4 br1:b0 || ok=0
	cubectl r1 ports p4 set ip=10.0.4.254/24 || ok=0
	for i in 4 5 6; do
		cubectl br1 ports add b$((i - 3)) peer="$(veth h$i)" || ok=0
	done
	[ $ok = 1 ] && ok "$T: r1, r2, br1 with their ports" || not_ok "$T: r1, r2, br1 with their ports"
	check "$T: static route on r1: 10.0.3.0/24 via 10.1.0.2" cubectl r1 route add 10.0.3.0/24 10.1.0.2
	check "$T: static route on r2: 10.0.0.0/16 via 10.1.0.1" cubectl r2 route add 10.0.0.0/16 10.1.0.1

	# ---- IPv4 across the routers ----
	check "$T: h1->h2 through r1" ping_ok h1 10.0.2.1
	check "$T: h2->h1 through r1" ping_ok h2 10.0.1.1
	check "$T: h1->h3 through r1 and r2 (cube to cube)" ping_ok h1 10.0.3.1
	check "$T: h3->h2 through r2 and r1" ping_ok h3 10.0.2.1
	check "$T: h1->h4 through r1 and br1" ping_ok h1 10.0.4.4
	check "$T: h6->h3 through br1, r1, r2" ping_ok h6 10.0.3.1
	check "$T: h4->h5 inside br1" ping_ok h4 10.0.4.5
	if [ $T != TC ]; then
		# generic XDP drops a GSO packet longer than the MTU it redirects
		# (xdp_ok_fwd_dev; so does every XDP cube): XDP runs without TSO/GSO
		for i in 1 2 3; do ns h$i ethtool -K eth0 tso off gso off >/dev/null 2>&1; done
	fi
	check "$T: TCP h1->h3 across r1 and r2, 2 MB intact" tcp_ok h1 h3 10.0.3.1
	check "$T: h1 pings r1's own addresses on p1, p2, p4" eval \
		'ping_ok h1 10.0.1.254 && ping_ok h1 10.0.2.254 && ping_ok h1 10.0.4.254'
	check "$T: h3 pings r1's address on p3 (via r2)" ping_ok h3 10.1.0.1
	check "$T: a secondary address of p2" cubectl r1 ports p2 secondaryip add 10.0.22.254/24
	check "$T: h2 pings the secondary address 10.0.22.254" ping_ok h2 10.0.22.254
	check "$T: connected routes listed (p1, p2 secondary, p4)" test \
		"$(cubectl r1 route show -json | jq -r '[.[] | select(.nexthop == "0.0.0.0") | .network] | sort | join(",")')" \
		= "10.0.1.0/24,10.0.2.0/24,10.0.22.0/24,10.0.4.0/24,10.1.0.0/30"
	check "$T: the static route is listed with its port" test \
		"$(cubectl r1 route show -json | jq -r '.[] | select(.nexthop == "10.1.0.2") | "\(.network) \(.interface) \(.pathcost)"')" \
		= "10.0.3.0/24 p3 1"
	check "$T: generated MACs are shown and differ" test \
		"$(cubectl r1 ports show -json | jq -r '[.[].mac | select(test("^[0-9a-f]{2}(:[0-9a-f]{2}){5}$"))] | unique | length')" = 4
	check "$T: h1 learned r1's p1 MAC" test "$(ns h1 ip neigh show 10.0.1.254 | awk '{print $5}')" = \
		"$(cubectl r1 ports show -json | jq -r '.[] | select(.name == "p1") | .mac')"
	check "$T: r1 learned h2's MAC on p2" test "$(arp_mac r1 10.0.2.1)" = "$(mac_of h2)"

	# ---- ICMP errors ----
	check "$T: ping -t 1 h1->h2: Time to live exceeded from 10.0.1.254" \
		says h1 'From 10.0.1.254.*Time to live exceeded' -c 1 -W 2 -t 1 10.0.2.1
	check "$T: ping -t 2 h1->h3: Time to live exceeded from r2 (10.1.0.2)" \
		says h1 'From 10.1.0.2.*Time to live exceeded' -c 1 -W 2 -t 2 10.0.3.1
	check "$T: h1->10.0.2.99 (nobody): Destination Host Unreachable from r1" \
		says h1 'From 10.0.1.254.*Destination Host Unreachable' -c 1 -W 6 10.0.2.99
	check "$T: h1->10.9.9.9 (no route): Destination Net Unreachable" \
		says h1 'From 10.0.1.254.*Destination Net Unreachable' -c 1 -W 2 10.9.9.9

	# ---- path cost ----
	check "$T: 10.0.5.0/24 via 10.1.0.2 pathcost 5" cubectl r1 route add 10.0.5.0/24 10.1.0.2 pathcost=5
	check "$T: 10.0.5.0/24 via 10.0.2.1 pathcost 2" cubectl r1 route add 10.0.5.0/24 10.0.2.1 pathcost=2
	check "$T: the lower path cost is the active route" test \
		"$(route_active r1 10.0.5.0/24 10.0.2.1)/$(route_active r1 10.0.5.0/24 10.1.0.2)" = true/false
	check "$T: cost 9 for 10.0.2.1: the route via 10.1.0.2 takes over" \
		cubectl r1 route 10.0.5.0/24 10.0.2.1 set pathcost=9
	check "$T: active route after the change" test \
		"$(route_active r1 10.0.5.0/24 10.0.2.1)/$(route_active r1 10.0.5.0/24 10.1.0.2)" = false/true
	# r2 has no route back for 10.0.5.0/24's replies, but the request's TTL
	# is enough to see which way it went: r2 says TTL exceeded
	check "$T: ping -t 2 to 10.0.5.1 goes by r2" says h1 'From 10.1.0.2.*Time to live exceeded' -c 1 -W 2 -t 2 10.0.5.1
	check "$T: delete both 10.0.5.0/24 routes" eval \
		'cubectl r1 route del 10.0.5.0/24 10.0.2.1 && cubectl r1 route del 10.0.5.0/24 10.1.0.2'

	# ---- ARP aging, flush, re-resolution ----
	check "$T: arp-aging-time=2" cubectl r1 set arp-aging-time=2
	check "$T: h2's entry ages out of r1's arp-table" wait_for 6 eval '[ -z "$(arp_mac r1 10.0.2.1)" ]'
	check "$T: h1->h2 after aging (re-resolved)" ping_ok h1 10.0.2.1
	check "$T: h2's entry is back" test "$(arp_mac r1 10.0.2.1)" = "$(mac_of h2)"
	check "$T: arp-aging-time=300" cubectl r1 set arp-aging-time=300
	check "$T: arp-flush" cubectl r1 arp-flush
	check "$T: arp-table empty after arp-flush" test \
		"$(cubectl r1 show -json | jq '."arp-table" // [] | length')" = 0
	# packet-out by a cube process reaching a host: the echo request and its
	# reply wait in r1's process for ARP (sent by the process), which then
	# sends them back into the fast path
	s0=$(sent r1 resolve)
	check "$T: one ping h1->h2 right after arp-flush (queued, sent on by r1's process)" \
		eval 'ns h1 ping -c 1 -W 3 -q 10.0.2.1 >/dev/null'
	check "$T: it went through r1's process (resolve sent-packets $s0 -> $(sent r1 resolve))" \
		test "$(sent r1 resolve)" -gt "$s0"
	check "$T: pings work after arp-flush" all_pings
	# a bad input is said in words, by the broker, before the cube sees it
	check "$T: arp-flush address=300.1.1.1 refused in words" refused_with \
		"arp-flush address: 300.1.1.1 is not an IPv4 or IPv6 address" cubectl r1 arp-flush address=300.1.1.1
	check "$T: arp-flush nosuch=1 names the inputs" refused_with \
		"arp-flush has no nosuch (it has: address)" cubectl r1 arp-flush nosuch=1
	check "$T: arp-flush address=fe80::1%eth0: the zone is named" refused_with \
		"names a zone (%eth0)" cubectl r1 arp-flush address=fe80::1%eth0
	check "$T: static arp entry 10.0.2.7" cubectl r1 arp-table add 10.0.2.7 mac=02:cb:00:00:00:27 interface=p2
	check "$T: static entry listed with age 0" test \
		"$(cubectl r1 show -json | jq -r '."arp-table"[] | select(.address == "10.0.2.7") | "\(.mac) \(.interface) \(.age)"')" \
		= "02:cb:00:00:00:27 p2 0"
	check "$T: arp-flush keeps the static entry" eval \
		'cubectl r1 arp-flush >/dev/null && [ "$(arp_mac r1 10.0.2.7)" = 02:cb:00:00:00:27 ]'
	check "$T: static arp entry deleted" cubectl r1 arp-table del 10.0.2.7
	check "$T: gone from the arp-table" test -z "$(arp_mac r1 10.0.2.7)"
	# keyed as configured, a /32 prefix: the cube's state meets that entry
	check "$T: static arp entry 10.0.2.8/32" cubectl r1 arp-table add 10.0.2.8/32 mac=02:cb:00:00:00:28 interface=p2
	check "$T: listed once, as 10.0.2.8/32, with its MAC and age 0" test \
		"$(cubectl r1 show -json | jq -c '[."arp-table"[] | select(.address | startswith("10.0.2.8"))]')" \
		= '[{"address":"10.0.2.8/32","mac":"02:cb:00:00:00:28","interface":"p2","age":0}]'
	check "$T: static arp entry 10.0.2.8/32 deleted" cubectl r1 arp-table del 10.0.2.8/32

	# ---- IPv6 ----
	ok=1
	cubectl r1 ports p1 secondaryip add fd00:1::fe/64 || ok=0
	cubectl r1 ports p2 secondaryip add fd00:2::fe/64 || ok=0
	cubectl r1 ports p3 secondaryip add fd00:ff::1/64 || ok=0
	cubectl r2 ports q1 secondaryip add fd00:ff::2/64 || ok=0
	cubectl r2 ports q2 secondaryip add fd00:3::fe/64 || ok=0
	cubectl r1 route add fd00:3::/64 fd00:ff::2 || ok=0
	cubectl r2 route add fd00::/16 fd00:ff::1 || ok=0
	[ $ok = 1 ] && ok "$T: IPv6 addresses and routes" || not_ok "$T: IPv6 addresses and routes"
	check "$T: ping6 h1 -> r1 (fd00:1::fe)" ping6_ok h1 fd00:1::fe
	check "$T: ping6 h1 -> h2 across r1" ping6_ok h1 fd00:2::1
	check "$T: ping6 h2 -> h1 across r1" ping6_ok h2 fd00:1::1
	check "$T: ping6 h1 -> h3 across r1 and r2" ping6_ok h1 fd00:3::1
	check "$T: ping6 h1 -> r1's link-local address on p1" ping6_ok h1 "$(ll_of r1 p1)%eth0"
	check "$T: TCP over IPv6 h2->h3 across r1 and r2, 2 MB intact" tcp_ok h2 h3 fd00:3::1
	check "$T: r1 learned h2's IPv6 address" test "$(arp_mac r1 fd00:2::1)" = "$(mac_of h2)"
	check "$T: ping6 -t 1: hop limit exceeded from fd00:1::fe" \
		says h1 'From fd00:1::fe.*Time exceeded: Hop limit' -6 -c 1 -W 2 -t 1 fd00:2::1
	check "$T: ping6 to fd00:9::1 (no route): unreachable" \
		says h1 'From fd00:1::fe.*Destination unreachable: No route' -6 -c 1 -W 2 fd00:9::1

	# ---- slow-path limiter ----
	l0=$(limited r1 icmp-error)
	check "$T: slowpath-limit rate-limit=1 burst=1" cubectl r1 slowpath-limit set rate-limit=1 burst=1
	ns h1 ping -c 20 -i 0.01 -W 1 -t 1 -q 10.0.2.1 >/dev/null 2>&1
	check "$T: the limiter counted dropped icmp-error packets" test "$(limited r1 icmp-error)" -gt "$l0"
	check "$T: slowpath-limit back to 1000/s" cubectl r1 slowpath-limit set rate-limit=1000 burst=100
	check "$T: pings after the limiter test" all_pings

	# ---- bad input ----
	bad "overlapping prefix on p2 (10.0.1.9/16)" 'overlap' cubectl r1 ports p2 set ip=10.0.1.9/16
	bad "malformed prefix 10.0.1.300/24" '10.0.1.300' cubectl r1 ports p2 set ip=10.0.1.300/24
	bad "address without prefix length" '10.0.2.253' cubectl r1 ports p2 set ip=10.0.2.253
	bad "network address as port address" 'network' cubectl r1 ports p2 set ip=10.0.2.0/24
	bad "IPv6 as primary ip" 'fd00' cubectl r1 ports p2 set ip=fd00:2::fe/64
	bad "malformed secondary IPv6" 'fd00:zz' cubectl r1 ports p2 secondaryip add fd00:zz::1/64
	bad "overlapping secondary IPv6" 'overlap' cubectl r1 ports p2 secondaryip add fd00:1::77/48
	bad "address of p1 given to p2" 'already' cubectl r1 ports p2 set ip=10.0.1.254/24
	bad "next hop on no connected network" 'none of' cubectl r1 route add 10.0.9.0/24 10.99.0.1
	bad "duplicate route" 'exists|twice|duplicate' cubectl r1 route add 10.0.3.0/24 10.1.0.2
	bad "duplicate route, other spelling" 'exists|twice|duplicate' cubectl r1 route add 10.0.3.9/24 10.1.0.2
	bad "IPv4 network, IPv6 next hop" 'family' cubectl r1 route add 10.0.9.0/24 fd00:1::5
	bad "next hop 0.0.0.0" 'connected|neighbour' cubectl r1 route add 10.0.9.0/24 0.0.0.0
	bad "interface that is not the next hop's" 'p3' cubectl r1 route add 10.0.9.0/24 10.0.2.5 interface=p3
	bad "delete a port used by a route" 'p3.*route|route.*p3' cubectl r1 ports del p3
	bad "static arp entry on a missing port" 'p9' cubectl r1 arp-table add 10.0.2.8 mac=02:cb:00:00:00:28 interface=p9
	bad "static arp entry with a group MAC" 'mac|01:00' cubectl r1 arp-table add 10.0.2.8 mac=01:00:5e:00:00:01 interface=p2
	check "$T: pings after the bad input" all_pings

	# ---- static routes to connected networks; addresses their next hops need ----
	check "$T: a static route to connected 10.0.2.0/24 (via 10.1.0.2) is accepted" \
		cubectl r1 route add 10.0.2.0/24 10.1.0.2
	check "$T: route show: the static one inactive, the connected one active" eval \
		'shown r1 10.0.2.0/24 10.1.0.2 false && shown r1 10.0.2.0/24 0.0.0.0 true'
	# by r2 (which routes 10.0.0.0/16 back to r1) the ping would loop
	check "$T: with it, h1->h2 goes by the connected route" eval \
		'[ "$(route_active r1 10.0.2.0/24 10.1.0.2)" = false ] && ping_ok h1 10.0.2.1'
	check "$T: IPv6: a static route to connected fd00:2::/64 (via fd00:ff::2) is accepted" \
		cubectl r1 route add fd00:2::/64 fd00:ff::2
	check "$T: IPv6: route show: the static one inactive, the connected one active" eval \
		'shown r1 fd00:2::/64 fd00:ff::2 false && shown r1 fd00:2::/64 :: true'
	check "$T: IPv6: with it, h1->h2 goes by the connected route" eval \
		'[ "$(route_active r1 fd00:2::/64 fd00:ff::2)" = false ] && ping6_ok h1 fd00:2::1'
	check "$T: delete p2's address: the static route to 10.0.2.0/24 takes over" eval \
		'cubectl r1 ports p2 ip del && [ "$(route_active r1 10.0.2.0/24 10.1.0.2)" = true ]'
	check "$T: ping -t 2 h1->h2 now goes by r2" says h1 'From 10.1.0.2.*Time to live exceeded' -c 1 -W 2 -t 2 10.0.2.1
	check "$T: p2's address back: the connected route again" eval \
		'cubectl r1 ports p2 set ip=10.0.2.254/24 && [ "$(route_active r1 10.0.2.0/24 10.1.0.2)" = false ] && ping_ok h1 10.0.2.1'
	check "$T: delete both static routes to connected networks" eval \
		'cubectl r1 route del 10.0.2.0/24 10.1.0.2 && cubectl r1 route del fd00:2::/64 fd00:ff::2'

	check "$T: delete p3's address, which the next hop of 10.0.3.0/24 needs: accepted" cubectl r1 ports p3 ip del
	check "$T: route show: 10.0.3.0/24 via 10.1.0.2 inactive" shown r1 10.0.3.0/24 10.1.0.2 false
	check "$T: h1->h3: Destination Net Unreachable (not forwarded by the route)" \
		says h1 'From 10.0.1.254.*Destination Net Unreachable' -c 1 -W 2 10.0.3.1
	check "$T: p3's address back: the route is active" eval \
		'cubectl r1 ports p3 set ip=10.1.0.1/30 && shown r1 10.0.3.0/24 10.1.0.2 true'
	check "$T: h1->h3 through r1 and r2 again" ping_ok h1 10.0.3.1
	check "$T: change p3's address to another network: accepted, the route inactive" eval \
		'cubectl r1 ports p3 set ip=10.1.9.1/30 && shown r1 10.0.3.0/24 10.1.0.2 false'
	check "$T: h1->h3 not forwarded after the change" \
		says h1 'From 10.0.1.254.*Destination Net Unreachable' -c 1 -W 2 10.0.3.1
	check "$T: p3's address changed back: h1->h3 works" eval \
		'cubectl r1 ports p3 set ip=10.1.0.1/30 && shown r1 10.0.3.0/24 10.1.0.2 true && ping_ok h1 10.0.3.1'
	check "$T: IPv6: delete p3's fd00:ff::1/64: accepted, fd00:3::/64 via fd00:ff::2 inactive" eval \
		'cubectl r1 ports p3 secondaryip del fd00:ff::1/64 && shown r1 fd00:3::/64 fd00:ff::2 false'
	check "$T: IPv6: ping6 h1->h3: no route" \
		says h1 'From fd00:1::fe.*Destination unreachable: No route' -6 -c 1 -W 2 fd00:3::1
	check "$T: IPv6: fd00:ff::1/64 back: the route is active, ping6 h1->h3 works" eval \
		'cubectl r1 ports p3 secondaryip add fd00:ff::1/64 && shown r1 fd00:3::/64 fd00:ff::2 true && ping6_ok h1 fd00:3::1'
	# an inactive route across the restart below
	check "$T: 10.0.7.0/24 via 10.0.22.7, then p2's 10.0.22.254/24 deleted: inactive" eval \
		'cubectl r1 route add 10.0.7.0/24 10.0.22.7 && cubectl r1 ports p2 secondaryip del 10.0.22.254/24 &&
		 shown r1 10.0.7.0/24 10.0.22.7 false'
	check "$T: a new route whose next hop is on no network is still refused" eval \
		'! cubectl r1 route add 10.0.8.0/24 10.0.22.8 2>/dev/null && [ -z "$(route_active r1 10.0.8.0/24 10.0.22.8)" ]'
	check "$T: pings after the address changes" all_pings

	# ---- the cube process dies: the broker restarts it, state is kept ----
	pid=$(cube_field r1 pid)
	kill -9 "$pid"
	check "$T: r1 restarted after kill -9" wait_for 5 restarted r1 "$pid"
	check "$T: r1 kept h2's learned entry across the restart" test "$(arp_mac r1 10.0.2.1)" = "$(mac_of h2)"
	check "$T: same generated MACs after the restart" test \
		"$(cubectl r1 ports show -json | jq -r '.[] | select(.name == "p1") | .mac')" = \
		"$(ns h1 ip neigh show 10.0.1.254 | awk '{print $5}')"
	check "$T: pings after the restart" all_pings
	check "$T: ping6 after the restart" ping6_ok h1 fd00:3::1
	check "$T: the inactive route 10.0.7.0/24 is kept across the restart" shown r1 10.0.7.0/24 10.0.22.7 false
	check "$T: p2's 10.0.22.254/24 back: 10.0.7.0/24 active again" eval \
		'cubectl r1 ports p2 secondaryip add 10.0.22.254/24 && shown r1 10.0.7.0/24 10.0.22.7 true'

	ok=1
	for c in r1 r2 br1; do
		cubectl del $c || ok=0
	done
	[ $ok = 1 ] && ok "$T: del r1 r2 br1" || not_ok "$T: del r1 r2 br1"
	check "$T: no pins left" test -z "$(ls "$CUBEBUS_BPFFS/cubes" 2>/dev/null)"
	for i in 1 2 3 4 5 6; do ns h$i ip neigh flush all; done
done
