#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# ddosmitigator in TC and XDP_SKB, attached to a netdev and to a cube port:
#   netdev:    h1 eth0 - veth(h1) [d1] -+- Linux bridge -+- veth(h2) - h2 eth0
#   cube port: h1 eth0 - veth(h1) - [d1] br1:p1  br1:p2 - veth(h2) - h2 eth0
# h1 has several sources (10.0.0.1 blacklisted, 10.0.0.3 not, 10.0.1.5 in a
# blacklisted prefix; fd00::1 and fd00::3), h2 two destinations (10.0.0.2,
# 10.0.0.12 blacklisted). Counted pings give exact drop-pkts and
# stats/pkts, a paced flood a stats/pps; removed entries let traffic
# through again; the program is reloaded with the lookups the lists need
# (none, source, both, source, none); bad entries (not an address, a duplicate, a duplicate
# inside one change) are refused in one line and change nothing.
. "$(dirname "$0")/lib.sh"

lib_require

V1= V2= LB=

# pinged FROM SRC DST COUNT: COUNT echo requests from SRC, none answered
lost_all() {
	local out
	out=$(ns h1 ping -c "$3" -i 0.05 -W 1 -I "$1" "$2" 2>&1)
	matches -q " 0 received" <<<"$out"
}

ping_from() { # SRC DST: answered
	ns h1 ping -c 2 -W 1 -i 0.2 -q -I "$1" "$2" >/dev/null 2>&1 ||
		ns h1 ping -c 3 -W 1 -i 0.2 -q -I "$1" "$2" >/dev/null 2>&1
}

drops() { # LIST IP: its drop-pkts
	cubectl d1 "$1" show -json | jq -r --arg ip "$2" '.[] | select(.ip == $ip) | ."drop-pkts"'
}

# lookups SRC DST: the cube's last word on its program (on / off each)
lookups() {
	[ "$(grep -o 'd1\] info: fast path: source lookup [a-z]*, destination lookup [a-z]*' "$BROKER_LOG" | tail -n 1 |
		awk '{ sub(",", "", $7); print $7, $10 }')" = "$1 $2" ]
}

pps_is() {
	test "$(cubectl d1 show -json | jq -r '.stats.pps')" = "$1"
}

pkts() {
	cubectl d1 show -json | jq -r '.stats.pkts'
}

entries() { # the configured entries and what the tries hold
	cubectl d1 show -json | jq -c '[."blacklist-src"[]?.ip, "|", ."blacklist-dst"[]?.ip]'
	for m in dm_src4 dm_src6 dm_dst4 dm_dst6; do
		bpftool -j map dump pinned "/sys/fs/bpf/$ID/cubes/d1/$m" | jq length
	done
}

refused() { # NAME PATTERN CMD...: fails with one line matching PATTERN, nothing changes
	local name=$1 pat=$2 before out
	shift 2
	before=$(entries)
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
	check "$name: nothing changed" test "$(entries)" = "$before"
}

start_broker || {
	not_ok "broker starts" "see the log below"
	exit 1
}
ok=1
add_host h1 10.0.0.1/16 02:cb:00:00:04:01 && add_host h2 10.0.0.2/16 02:cb:00:00:04:02 || ok=0
ns h1 ip addr add 10.0.0.3/16 dev eth0 && ns h1 ip addr add 10.0.1.5/16 dev eth0 &&
	ns h2 ip addr add 10.0.0.12/16 dev eth0 || ok=0
for h in h1 h2; do
	ns $h sysctl -qw net.ipv6.conf.all.disable_ipv6=0 net.ipv6.conf.eth0.disable_ipv6=0 || ok=0
done
ns h1 ip addr add fd00::1/64 dev eth0 nodad && ns h1 ip addr add fd00::3/64 dev eth0 nodad &&
	ns h2 ip addr add fd00::2/64 dev eth0 nodad || ok=0
# static neighbours: a neighbour solicitation from a blacklisted source
# would be dropped too, and the echo requests never sent (counts exact)
ns h1 ip -6 neigh replace fd00::2 lladdr 02:cb:00:00:04:02 dev eth0 nud permanent &&
	ns h2 ip -6 neigh replace fd00::1 lladdr 02:cb:00:00:04:01 dev eth0 nud permanent &&
	ns h2 ip -6 neigh replace fd00::3 lladdr 02:cb:00:00:04:01 dev eth0 nud permanent || ok=0
V1=$(veth h1) V2=$(veth h2) LB=${ID}lb
ip link add "$LB" type bridge forward_delay 0 stp_state 0 && LINKS+=("$LB") &&
	echo 1 >/proc/sys/net/ipv6/conf/"$LB"/disable_ipv6 && ip link set "$LB" up || ok=0
[ $ok = 1 ] && ok "hosts h1 (4 sources), h2 (3 destinations), bridge $LB" || {
	not_ok "hosts and bridge"
	exit 1
}

scenario() { # T PLACE (netdev | port)
	local T=$1 place=$2 at n0
	local P="$T/$place"

	if [ "$place" = netdev ]; then
		ip link set "$V1" master "$LB" && ip link set "$V2" master "$LB"
		at=$V1
	else
		ip link set "$V1" nomaster && ip link set "$V2" nomaster
		cubectl simplebridge add br1 type="$T" >/dev/null &&
			cubectl br1 ports add p1 peer="$V1" >/dev/null && cubectl br1 ports add p2 peer="$V2" >/dev/null ||
			not_ok "$P: br1 with p1, p2"
		at=br1:p1
	fi
	check "$P: ddosmitigator add d1 type=$T" cubectl ddosmitigator add d1 type="$T" || return
	check "$P: attach d1 $at" cubectl attach d1 "$at"
	check "$P: h1 -> h2 through d1, nothing blacklisted" ping_from 10.0.0.1 10.0.0.2
	check "$P: an empty cube's program has no lookup" wait_for 2 lookups off off
	check "$P: stats start at 0" test "$(cubectl d1 show -json | jq -c '[.stats.pkts, .stats.pps]')" = "[0,0]"

	# one source
	check "$P: blacklist-src add 10.0.0.1" cubectl d1 blacklist-src add 10.0.0.1
	check "$P: reloaded with the source lookup only" lookups on off
	check "$P: 10 pings from 10.0.0.1: none answered" lost_all 10.0.0.1 10.0.0.2 10
	check "$P: 10.0.0.3 still gets through" ping_from 10.0.0.3 10.0.0.2
	check "$P: drop-pkts of 10.0.0.1 is 10" test "$(drops blacklist-src 10.0.0.1)" = 10
	check "$P: stats/pkts is 10" test "$(pkts)" = 10

	# a prefix, given with host bits: shown in canonical form
	check "$P: blacklist-src add 10.0.1.77/24" cubectl d1 blacklist-src add 10.0.1.77/24
	check "$P: shown as 10.0.1.0/24" test "$(cubectl d1 blacklist-src show -json | jq -r '[.[].ip] | sort | join(",")')" = \
		"10.0.0.1,10.0.1.0/24"
	check "$P: 5 pings from 10.0.1.5 (in the /24): none answered" lost_all 10.0.1.5 10.0.0.2 5
	check "$P: drop-pkts of 10.0.1.0/24 is 5, of 10.0.0.1 still 10" \
		test "$(drops blacklist-src 10.0.1.0/24),$(drops blacklist-src 10.0.0.1)" = 5,10

	# a destination
	check "$P: blacklist-dst add 10.0.0.12" cubectl d1 blacklist-dst add 10.0.0.12
	check "$P: reloaded with both lookups" lookups on on
	check "$P: 4 pings 10.0.0.3 -> 10.0.0.12: none answered" lost_all 10.0.0.3 10.0.0.12 4
	check "$P: 10.0.0.3 -> 10.0.0.2 still answered" ping_from 10.0.0.3 10.0.0.2
	check "$P: drop-pkts of dst 10.0.0.12 is 4" test "$(drops blacklist-dst 10.0.0.12)" = 4

	# IPv6, written in upper case with a zero group: shown canonical
	check "$P: blacklist-src add FD00::0:1" cubectl d1 blacklist-src add FD00::0:1
	check "$P: shown as fd00::1" test "$(drops blacklist-src fd00::1)" = 0
	check "$P: 6 pings from fd00::1: none answered" lost_all fd00::1 fd00::2 6
	check "$P: fd00::3 still gets through" ping_from fd00::3 fd00::2
	check "$P: drop-pkts of fd00::1 is 6" test "$(drops blacklist-src fd00::1)" = 6
	check "$P: stats/pkts is 10 + 5 + 4 + 6 = 25" test "$(pkts)" = 25

	# a paced flood: ping sends about 100 a second when nothing answers
	ns h1 ping -q -c 300 -i 0.002 -W 1 -I 10.0.0.1 10.0.0.2 >/dev/null 2>&1 &
	local fpid=$!
	sleep 2
	local pps
	pps=$(cubectl d1 show -json | jq -r '.stats.pps')
	log "$P: stats/pps during the flood: $pps"
	check "$P: stats/pps during the flood is between 50 and 1000" test "$pps" -ge 50 -a "$pps" -le 1000
	wait $fpid
	check "$P: after the flood drop-pkts of 10.0.0.1 is 310" test "$(drops blacklist-src 10.0.0.1)" = 310
	check "$P: stats/pps back to 0 within 3 s" wait_for 3 pps_is 0

	# bad input
	refused "$P: blacklist-src add 10.0.0.300" '10\.0\.0\.300' cubectl d1 blacklist-src add 10.0.0.300
	refused "$P: blacklist-src add not-an-address" 'not-an-address' cubectl d1 blacklist-src add not-an-address
	refused "$P: blacklist-src add 10.0.0.1 again" '10\.0\.0\.1' cubectl d1 blacklist-src add 10.0.0.1
	refused "$P: blacklist-src add 10.0.0.1/32 (the same entry)" 'is the entry 10\.0\.0\.1 already' \
		cubectl d1 blacklist-src add 10.0.0.1/32
	echo '{"blacklist-src": [{"ip": "10.0.5.1"}, {"ip": "10.0.5.2"}, {"ip": "10.0.5.1/32"}]}' >"$TMP/dup.json"
	refused "$P: one change with 10.0.5.1 and 10.0.5.1/32" '10\.0\.5\.1/32 is the entry 10\.0\.5\.1' \
		eval 'cubectl d1 set <"$TMP/dup.json"'
	echo '{"blacklist-src": [{"ip": "10.0.6.1"}, {"ip": "2001:db8::1"}, {"ip": "10.0.0.1/32"}]}' >"$TMP/dup2.json"
	refused "$P: one change with two new entries and 10.0.0.1/32" 'is the entry 10\.0\.0\.1 already' \
		eval 'cubectl d1 set <"$TMP/dup2.json"'
	check "$P: still dropping 10.0.0.1" lost_all 10.0.0.1 10.0.0.2 2

	# removals let traffic through again
	check "$P: blacklist-src del 10.0.0.1" cubectl d1 blacklist-src del 10.0.0.1
	check "$P: 10.0.0.1 gets through" ping_from 10.0.0.1 10.0.0.2
	check "$P: blacklist-src del 10.0.1.0/24" cubectl d1 blacklist-src del 10.0.1.0/24
	check "$P: 10.0.1.5 gets through" ping_from 10.0.1.5 10.0.0.2
	check "$P: blacklist-dst del 10.0.0.12" cubectl d1 blacklist-dst del 10.0.0.12
	check "$P: 10.0.0.12 answers" ping_from 10.0.0.3 10.0.0.12
	check "$P: the destination lookup is gone" lookups on off
	check "$P: blacklist-src del fd00::1" cubectl d1 blacklist-src del fd00::1
	check "$P: no lookup left" lookups off off
	check "$P: fd00::1 gets through" ping_from fd00::1 fd00::2
	check "$P: the tries are empty" test "$(entries | tail -n 4 | paste -sd,)" = 0,0,0,0
	n0=$(pkts)
	check "$P: stats/pkts kept its count: 25 + 300 + 2 = $n0" test "$n0" = 327

	check "$P: del d1" cubectl del d1
	[ "$place" = port ] && cubectl del br1 >/dev/null
}

for T in TC XDP_SKB; do
	scenario $T netdev
	scenario $T port
done
