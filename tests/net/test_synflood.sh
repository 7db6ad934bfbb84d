#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# synflood in TC and XDP_SKB, watching h2's namespace and attached in front
# of it:
#   h1 eth0 - veth(h1) - br1:p1   [s1] br1:p2 - veth(h2) - h2 eth0
# s1 passes everything (ping). A SYN flood from h1 (scapy, 300 SYNs from
# distinct ports) to a closed port of h2 shows in tcpoutrsts (h2 answers
# each with a RST); one to a listening port shows in tcpattemptfails (h1's
# kernel resets each SYN-ACK, which ends h2's half-open connections). The
# ratios are numbers, lastupdate a recent epoch in ms; a cube without netns
# watches the host; a namespace that does not exist is refused.
. "$(dirname "$0")/lib.sh"

lib_require
SCAPY=/usr/bin/python3
$SCAPY -c 'import scapy.all' 2>/dev/null || {
	skip "$SCRIPT" "no scapy for $SCAPY"
	exit 0
}

stat_of() { # CUBE LEAF
	cubectl "$1" show -json | jq -r --arg l "$2" '.stats[$l]'
}

# syn_flood PORT COUNT: COUNT SYNs from h1 to h2:PORT, source ports 20000 on
syn_flood() {
	ns h1 $SCAPY - "$1" "$2" <<'EOF'
import sys
from scapy.all import IP, TCP, send, conf
conf.verb = 0
port, n = int(sys.argv[1]), int(sys.argv[2])
send([IP(src="10.0.0.1", dst="10.0.0.2") / TCP(sport=20000 + i, dport=port, flags="S", seq=1000 * i) for i in range(n)])
EOF
}

is_ratio() { # VALUE: a decimal number
	matches -qE '^[0-9]+(\.[0-9]{3})?$' <<<"$1"
}

recent_ms() { # VALUE: within 5 s of now, in ms since the epoch
	local now=$((${EPOCHREALTIME/./} / 1000))
	[ "$1" -le $((now + 1000)) ] && [ "$1" -ge $((now - 5000)) ]
}

start_broker || {
	not_ok "broker starts" "see the log below"
	exit 1
}
add_host h1 10.0.0.1/24 && add_host h2 10.0.0.2/24 || {
	not_ok "hosts h1, h2"
	exit 1
}
ok "hosts h1, h2"
# scapy's SYNs have no socket in h1: its kernel answers h2's SYN-ACKs with
# RSTs, as a spoofed flood's victim sees them from the real owners

LPORT=80
for T in TC XDP_SKB; do
	LPORT=$((LPORT + 1)) # a port of its own: the last one's listener may linger
	cubectl simplebridge add br1 type=$T >/dev/null && cubectl br1 ports add p1 peer="$(veth h1)" >/dev/null &&
		cubectl br1 ports add p2 peer="$(veth h2)" >/dev/null || not_ok "$T: br1"
	check "$T: synflood add s1 netns=$ID-h2" cubectl synflood add s1 type=$T netns="$ID-h2" || continue
	check "$T: attach s1 br1:p2" cubectl attach s1 br1:p2
	check "$T: h1 <-> h2 through s1" ping_ok h1 10.0.0.2
	check "$T: lastupdate is a recent epoch in ms" recent_ms "$(stat_of s1 lastupdate)"
	check "$T: deliverratio is a ratio ($(stat_of s1 deliverratio))" is_ratio "$(stat_of s1 deliverratio)"
	check "$T: responseratio is a ratio ($(stat_of s1 responseratio))" is_ratio "$(stat_of s1 responseratio)"
	check "$T: h2 delivered what it received (deliverratio 1.000)" test "$(stat_of s1 deliverratio)" = 1.000
	log "$T: h2 /proc/net/snmp Tcp before: $(ns h2 grep '^Tcp:' /proc/net/snmp | tail -1)"

	# a flood to a closed port: a RST for each SYN
	rst0=$(stat_of s1 tcpoutrsts)
	check "$T: 300 SYNs to a closed port (scapy)" syn_flood 79 300
	check "$T: tcpoutrsts rose by 300 ($rst0 -> $(stat_of s1 tcpoutrsts))" \
		wait_for 3 eval 'test $(($(stat_of s1 tcpoutrsts) - rst0)) -ge 300'
	check "$T: it agrees with h2's /proc/net/snmp" test "$(stat_of s1 tcpoutrsts)" = \
		"$(ns h2 awk '/^Tcp:/ { if (!h) { for (i = 1; i <= NF; i++) if ($i == "OutRsts") c = i; h = 1 } else print $c }' /proc/net/snmp)"

	# a flood to a listening port: half-open connections reset
	ns h2 $SCAPY -c 'import socket, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("10.0.0.2", '$LPORT')); s.listen(1024); time.sleep(60)' &
	lpid=$!
	wait_for 3 eval "ns h2 ss -ltn | matches -q ':$LPORT '"
	fail0=$(stat_of s1 tcpattemptfails)
	resp0=$(stat_of s1 responseratio)
	check "$T: 300 SYNs to a listening port (scapy)" syn_flood $LPORT 300
	check "$T: tcpattemptfails rose by 300 ($fail0 -> $(stat_of s1 tcpattemptfails))" \
		wait_for 3 eval 'test $(($(stat_of s1 tcpattemptfails) - fail0)) -ge 300'
	log "$T: responseratio $resp0 -> $(stat_of s1 responseratio), listendrops $(stat_of s1 listendrops), syncookiessent $(stat_of s1 syncookiessent)"
	kill $lpid 2>/dev/null
	wait $lpid 2>/dev/null

	check "$T: del s1" cubectl del s1
	cubectl del br1 >/dev/null
done

# the host's own counters (no netns), and a refusal
check "synflood add s0 (the host)" cubectl synflood add s0
check "s0: tcpattemptfails is a count" matches -qE '^[0-9]+$' <<<"$(stat_of s0 tcpattemptfails)"
check "s0: it is the host's" test "$(stat_of s0 tcpattemptfails)" -ge 0
msg=$(cubectl synflood add s2 netns="${ID}-nosuch" 2>&1)
rc=$?
log "netns that does not exist: $msg"
check "a netns that does not exist is refused" test $rc -ne 0
check "in one line naming it" eval '[ "$(printf "%s\n" "$msg" | wc -l)" = 1 ] && matches -q "${ID}-nosuch: no such network namespace" <<<"$msg"'
check "s2 does not exist" test "$(cubectl cubes -json | jq '[.[] | select(.name == "s2")] | length')" = 0
out=$(cubectl s0 set netns="${ID}-nosuch" 2>&1)
check "s0 set netns= a missing one is refused" test $? -ne 0
check "s0 still watches the host" test "$(cubectl s0 show -json | jq -r '.netns')" = ""
check "del s0" cubectl del s0
