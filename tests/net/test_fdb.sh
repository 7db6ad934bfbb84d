#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# simplebridge's filtering database under load, in TC and XDP_SKB mode:
# 10 000 distinct source MACs through a bridge port (a MAC flood), then the
# fill level (entries <= max-entries), a new host learned at once and no
# longer flooded, a static entry neither evicted nor moved, aging that
# removes entries from the kernel map, static entries kept in place while
# the configuration is reapplied under traffic, and a static set larger
# than the static table refused with the old set left working.
. "$(dirname "$0")/lib.sh"

GEN=/usr/bin/python3
FDBGEN=$TOP/tests/tools/fdbgen.py
FLOOD_MACS=10000

if ! [ -x $GEN ] || ! command -v bpftool >/dev/null; then
	skip "$SCRIPT" "needs /usr/bin/python3 and bpftool"
	exit 0
fi

fdb_json() { cubectl br1 fdb show -json; }
fdb_field() { fdb_json | jq -r ".[\"$1\"]"; }
fdb_port() { # MAC: the port of its entry ("" if none)
	fdb_json | jq -r --arg m "$1" '[.entry // [] | .[] | select(.address == $m) | .port] | join(",")'
}
pin() { echo "$CUBEBUS_BPFFS/cubes/br1/$1"; }
map_count() { bpftool map dump pinned "$(pin "$1")" -j | jq length; }
# flood_left: entries of the flooded MACs (06:00:00:...) left in sb_fdb
flood_left() {
	bpftool map dump pinned "$(pin sb_fdb)" -j | jq '[.[] | select(.key[0] == "0x06")] | length'
}
# static_val MAC: sb_static's value of MAC as port/is_static/seen_ns ("" if none)
static_val() {
	local k
	k=$(echo "$1" | awk -F: '{printf "\"0x%s\",\"0x%s\",\"0x%s\",\"0x%s\",\"0x%s\",\"0x%s\",\"0x00\",\"0x00\"", $1,$2,$3,$4,$5,$6}')
	bpftool map dump pinned "$(pin sb_static)" -j |
		jq -r "[.[] | select(.key == [$k]) | .formatted.value | \"\(.port)/\(.is_static)/\(.seen_ns)\"] | join(\",\")"
}
rx() { ns "$1" cat /sys/class/net/eth0/statistics/rx_packets; }
# blast HOST SECONDS DST: frames from HOST's MAC to DST; prints how many were sent
blast() { ns "$1" $GEN "$FDBGEN" blast eth0 "$2" "$3" "$(mac_of "$1")"; }
ms() { echo $((${EPOCHREALTIME/./} / 1000)); }
# entries_body FIRST COUNT: a JSON body of COUNT static entries on p2
entries_body() {
	$GEN - "$1" "$2" <<-'EOF'
		import json, sys
		first, n = int(sys.argv[1]), int(sys.argv[2])
		e = [{"address": "0a:00:00:00:%02x:%02x" % ((i >> 8) & 255, i & 255), "port": "p2"}
		     for i in range(first, first + n)]
		print(json.dumps({"entry": e}))
	EOF
}

start_broker || {
	not_ok "broker starts" "see the log below"
	exit 1
}
for i in 1 2 3 4 5; do
	add_host h$i 10.0.0.$i/24 02:cb:00:00:00:0$i || {
		not_ok "host h$i"
		exit 1
	}
done
add_veth sp
M1=$(mac_of h1) M3=$(mac_of h3) M5=$(mac_of h5)

for T in TC XDP_SKB; do
	for i in 1 2 3 4 5; do ns h$i ip neigh flush dev eth0; done
	check "$T: simplebridge add br1" cubectl simplebridge add br1 type=$T || continue
	ok=1
	for i in 1 2 3 4 5; do
		cubectl br1 ports add p$i peer="$(veth h$i)" >/dev/null || ok=0
	done
	[ $ok = 1 ] && ok "$T: 5 ports" || not_ok "$T: 5 ports"
	check "$T: static entry for h3 on p3" cubectl br1 fdb entry add "$M3" port=p3
	check "$T: h1 <-> h2, h3, h4" eval "ping_ok h1 10.0.0.2 && ping_ok h1 10.0.0.3 && ping_ok h4 10.0.0.1"

	# ---- the MAC flood: 10 000 source MACs from h4 to h1, then one frame
	# claiming h3's (static) MAC from p4
	t0=$(ms)
	check "$T: $FLOOD_MACS source MACs sent from h4" ns h4 $GEN "$FDBGEN" flood eth0 $FLOOD_MACS "$M1" "$M3"
	log "$T: flood of $FLOOD_MACS MACs took $(($(ms) - t0)) ms"
	sleep 0.5
	f=$(fdb_json)
	entries=$(echo "$f" | jq '.entries // -1') max=$(echo "$f" | jq '."max-entries" // -1')
	log "$T: after the flood: entries $entries, max-entries $max, learned $(echo "$f" | jq .learned)," \
		"evicted $(echo "$f" | jq .evicted), listed $(echo "$f" | jq '.entry | length'), in sb_fdb $(map_count sb_fdb)"
	check "$T: fdb shows entries and max-entries" test "$entries" -gt 0 -a "$max" -gt 0
	check "$T: entries <= max-entries after $FLOOD_MACS MACs" test "$entries" -le "$max"
	check "$T: the kernel map holds at most max-entries" test "$(map_count sb_fdb)" -le "$max"
	check "$T: evictions counted (learned > max-entries)" test "$(echo "$f" | jq '.evicted // 0')" -gt 0
	check "$T: static h3 kept on p3 (not evicted, not moved)" test "$(fdb_port "$M3")" = p3
	check "$T: static h3 still in sb_static" test -n "$(static_val "$M3")"
	rx2=$(rx h2) rx3=$(rx h3)
	n=$(blast h1 0.3 "$M3")
	d2=$(($(rx h2) - rx2)) d3=$(($(rx h3) - rx3))
	log "$T: $n frames h1 -> static h3 after the flood: h3 got $d3, h2 got $d2"
	check "$T: unicast to static h3 not flooded after the flood" test "$d2" -le 2 -a "$d3" -ge $((n * 9 / 10))

	# ---- a new host after the flood: h5 has been silent so far
	rx2=$(rx h2)
	n=$(blast h1 0.3 "$M5")
	before=$(($(rx h2) - rx2))
	log "$T: before h5 speaks: $n frames h1 -> h5, $before flooded copies at h2"
	# one exchange: h5's ARP reply and echo reply are its first frames
	t0=$(ms)
	check "$T: h1 pings the new host h5 once" ns h1 ping -c 1 -W 2 -q 10.0.0.5
	t1=$(ms)
	check "$T: h5 learned on p5 by then" test "$(fdb_port "$M5")" = p5
	log "$T: h5 learned within its first exchange (ping -c 1 answered in $((t1 - t0)) ms, in fdb at the first read)"
	rx2=$(rx h2) rx5=$(rx h5)
	n=$(blast h1 0.3 "$M5")
	after=$(($(rx h2) - rx2)) d5=$(($(rx h5) - rx5))
	log "$T: after h5 is learned: $n frames h1 -> h5, h5 got $d5, $after flooded copies at h2"
	check "$T: unicast to h5 flooded before it spoke" test "$before" -gt 0
	check "$T: unicast to the new host no longer flooded" test "$after" -le 2 -a "$d5" -ge $((n * 9 / 10))

	# ---- aging removes the entries from the kernel map
	check "$T: fdb set aging-time=2" cubectl br1 fdb set aging-time=2
	t0=$(ms)
	check "$T: the flooded MACs leave sb_fdb within 6 s" wait_for 6 eval "[ \"\$(flood_left)\" = 0 ]"
	log "$T: flooded MACs gone from the kernel map $(($(ms) - t0)) ms after aging-time=2;" \
		"entries $(fdb_field entries), aged $(fdb_field aged)"
	check "$T: aged counted" test "$(fdb_json | jq '.aged // 0')" -ge 1000
	check "$T: static h3 not aged" test "$(fdb_port "$M3")" = p3
	check "$T: fdb set aging-time=300" cubectl br1 fdb set aging-time=300

	# ---- reapplying the configuration leaves the static entry in place:
	# continuous traffic to h3 sees no flooded copy, and its kernel element
	# is the same (seen_ns is set when the entry is written)
	v0=$(static_val "$M3")
	caps=
	for h in h2 h4; do
		# not through ns(): the capture's pid must be tcpdump's own
		ip netns exec "$ID-$h" tcpdump -i eth0 -nn -e -l "ether dst $M3" >"$TMP/cap.$h.$T" 2>"$TMP/cap.$h.$T.err" &
		caps="$caps $!"
	done
	sleep 1
	rx3=$(rx h3)
	blast h1 4 "$M3" >"$TMP/blast.$T" &
	bg=$!
	sleep 0.3
	ok=1
	for i in $(seq 1 30); do
		cubectl br1 fdb set aging-time=$((300 + i % 2)) >/dev/null || ok=0
		if [ $((i % 10)) = 0 ]; then
			cubectl br1 ports add p6 peer="$(veth sp)" >/dev/null || ok=0
			cubectl br1 ports del p6 >/dev/null || ok=0
		fi
	done
	[ $ok = 1 ] && ok "$T: 30 reapplies (aging-time) and 3 port add/del under traffic" ||
		not_ok "$T: 30 reapplies (aging-time) and 3 port add/del under traffic"
	wait $bg
	sleep 0.3
	kill -INT $caps 2>/dev/null
	wait $caps 2>/dev/null
	n=$(cat "$TMP/blast.$T")
	d2=$(grep -c ethertype "$TMP/cap.h2.$T") d3=$(($(rx h3) - rx3)) d4=$(grep -c ethertype "$TMP/cap.h4.$T")
	grep -h ethertype "$TMP"/cap.h[24]."$T" | head -2 | sed 's/^/# flooded: /'
	grep -h "dropped by kernel" "$TMP"/cap.*."$T".err | sed 's/^/# tcpdump: /' 
	log "$T: $n frames to static h3 during the reapplies: h3 got $d3, flooded copies h2 $d2, h4 $d4"
	check "$T: no flooded copy of static h3's traffic during the reapplies" test "$d2" = 0 -a "$d4" = 0
	check "$T: static h3's kernel element never rewritten ($v0)" test -n "$v0" -a "$(static_val "$M3")" = "$v0"

	# ---- a restart of the cube process: the broker sends the whole
	# configuration again; the static element stays as it is
	pid0=$(cube_field br1 pid)
	[[ $pid0 =~ ^[0-9]+$ ]] && [ "$pid0" -gt 1 ] && kill -9 "$pid0"
	check "$T: the cube process restarted" \
		wait_for 10 eval "p=\$(cube_field br1 pid); [ -n \"\$p\" ] && [ \"\$p\" != $pid0 ] && [ \"\$(cube_field br1 status)\" = running ]"
	# the broker configures a new process before it asks it anything
	check "$T: the new process answers with the static entry" wait_for 5 eval "[ \"\$(fdb_json | jq '.\"static-entries\"')\" = 1 ]"
	check "$T: static h3's kernel element untouched by the restart" test "$(static_val "$M3")" = "$v0"

	# ---- a static set larger than the static table: refused, old set kept
	smax=$(fdb_json | jq '."max-static-entries" // 1024')
	entries_body 0 "$smax" >"$TMP/body.$T"
	reply=$(cubectl br1 fdb set <"$TMP/body.$T" 2>&1)
	r=$?
	log "$T: $((smax + 1)) static entries: $(echo "$reply" | head -1)"
	check "$T: $((smax + 1)) static entries refused with a sentence" \
		eval "[ $r != 0 ] && echo \"\$reply\" | matches -q 'holds at most $smax'"
	check "$T: the configuration keeps the old static set" \
		test "$(fdb_json | jq '[.entry[] | select(.address | startswith("0a:"))] | length')" = 0
	check "$T: sb_static still holds the old set only" test "$(map_count sb_static)" = 1
	check "$T: static h3 element untouched by the refused change" test "$(static_val "$M3")" = "$v0"
	rx2=$(rx h2) rx3=$(rx h3)
	n=$(blast h1 0.3 "$M3")
	d2=$(($(rx h2) - rx2)) d3=$(($(rx h3) - rx3))
	check "$T: static h3 still forwards after the refusal" test "$d2" -le 2 -a "$d3" -ge $((n * 9 / 10))
	# an entry on a port the bridge does not have: refused, nothing written
	reply=$(cubectl br1 fdb entry add 0a:00:00:00:ff:ff port=p9 2>&1)
	r=$?
	log "$T: static entry on p9: $(echo "$reply" | head -1)"
	check "$T: a static entry on a missing port refused with a sentence" \
		eval "[ $r != 0 ] && echo \"\$reply\" | matches -q 'p9 is not a port'"
	check "$T: sb_static unchanged by the refused entry" \
		test "$(map_count sb_static)" = 1 -a "$(static_val "$M3")" = "$v0"
	# the port of a static entry cannot go while the entry is there
	reply=$(cubectl br1 ports del p3 2>&1)
	r=$?
	log "$T: ports del p3 under a static entry: $(echo "$reply" | head -1)"
	check "$T: deleting the port of a static entry refused with a sentence" \
		eval "[ $r != 0 ] && echo \"\$reply\" | matches -q 'port p3 is in use: fdb entry 02:cb:00:00:00:03 port names it'"
	check "$T: p3 and its static entry still there" \
		eval "cubectl br1 ports show -json | matches -q '\"p3\"' && [ \"\$(static_val $M3)\" = \"$v0\" ]"
	# exactly the capacity fits
	entries_body 0 $((smax - 1)) >"$TMP/body.$T"
	check "$T: $smax static entries (the capacity) accepted" cubectl br1 fdb set <"$TMP/body.$T"
	check "$T: static-entries = $smax" test "$(fdb_field static-entries)" = "$smax"
	check "$T: static h3 element untouched by the addition" test "$(static_val "$M3")" = "$v0"

	check "$T: del br1" cubectl del br1
done
