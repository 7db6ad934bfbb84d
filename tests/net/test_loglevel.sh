#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# loglevel of a cube: the fast path's trace records (a ring, no bpf_printk)
# and the process's debug lines reach the cube's log (the broker's log: it
# starts the cube processes with its stderr) at TRACE/DEBUG and stop at
# INFO; a level change swaps the program without losing a packet; the level
# survives a restart. helloworld (FORWARD) and simplebridge, TC and XDP_SKB.
. "$(dirname "$0")/lib.sh"

# lines of the log from line $1 on matching the extended regex $2
count_from() {
	tail -n +"$1" "$BROKER_LOG" | grep -cE -- "$2"
}
mark() {
	echo $(($(wc -l <"$BROKER_LOG") + 1))
}
# wait_lines FROM REGEX: at least one such line appears within 3 s
wait_lines() {
	wait_for 3 eval "[ \$(count_from $1 '$2') -gt 0 ]"
}
pings() {
	ns h1 ping -c 3 -i 0.2 -W 1 -q 10.0.0.2 >/dev/null 2>&1
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
	FP="hw1\] (trace|debug): fast path"
	check "$T: helloworld add hw1" cubectl helloworld add hw1 type=$T action=FORWARD || continue
	check "$T: port1 on h1" cubectl hw1 ports add port1 peer="$(veth h1)"
	check "$T: port2 on h2" cubectl hw1 ports add port2 peer="$(veth h2)"
	check "$T: loglevel is INFO by default" test "$(cubectl hw1 show -json | jq -r .loglevel)" = INFO
	m=$(mark)
	check "$T: h1->h2 at INFO" ping_ok h1 10.0.0.2
	cubectl hw1 show >/dev/null
	sleep 0.3
	check "$T: INFO: no fast-path records in the log" test "$(count_from "$m" "$FP")" = 0
	check "$T: INFO: no process debug lines" test "$(count_from "$m" 'hw1\] debug:')" = 0

	check "$T: set loglevel=TRACE" cubectl hw1 set loglevel=TRACE
	m=$(mark)
	pings
	check "$T: TRACE: rx records of the fast path in the log" \
		wait_lines "$m" 'hw1\] trace: fast path \(in-port port1.*\): rx port 0 [0-9]+'
	check "$T: TRACE: forward records (DEBUG) too" \
		wait_lines "$m" 'hw1\] debug: fast path \(in-port port2.*\): forward to port 0'
	cubectl hw1 show >/dev/null
	check "$T: TRACE: process debug lines" wait_lines "$m" 'hw1\] debug: operational state read'
	check "$T: log-records counts them" test "$(cubectl hw1 show -json | jq '."log-records"')" -gt 0
	check "$T: log-dropped is shown" eval "cubectl hw1 show -json | jq -e '.\"log-dropped\" | type == \"number\"'"

	check "$T: set loglevel=DEBUG" cubectl hw1 set loglevel=DEBUG
	m=$(mark)
	pings
	check "$T: DEBUG: forward records" wait_lines "$m" "hw1\] debug: fast path .*forward to port"
	check "$T: DEBUG: no trace records" test "$(count_from "$m" 'hw1\] trace:')" = 0

	check "$T: set loglevel=INFO" cubectl hw1 set loglevel=INFO
	m=$(mark)
	pings
	cubectl hw1 show >/dev/null
	sleep 0.3
	check "$T: INFO again: no new fast-path records" test "$(count_from "$m" "$FP")" = 0
	check "$T: INFO again: no new process debug lines" test "$(count_from "$m" 'hw1\] debug:')" = 0

	# the swap: 0.01 s pings through the cube while the level changes
	ns h1 ping -c 300 -i 0.01 -W 1 -q 10.0.0.2 >"$TMP/ping" 2>&1 &
	pp=$!
	sleep 0.3
	n=0
	for lvl in TRACE INFO DEBUG OFF TRACE INFO; do
		cubectl hw1 set loglevel=$lvl && n=$((n + 1))
		sleep 0.3
	done
	wait $pp
	sent=$(sed -nE 's/^([0-9]+) packets transmitted, ([0-9]+) received.*/\1/p' "$TMP/ping")
	recv=$(sed -nE 's/^([0-9]+) packets transmitted, ([0-9]+) received.*/\2/p' "$TMP/ping")
	log "$T: $n loglevel changes during $sent pings at 0.01 s: $recv answered, $((${sent:-0} - ${recv:-0})) lost"
	check "$T: 6 loglevel changes done" test "$n" = 6
	check "$T: 0 packets lost across the swaps" test -n "$sent" -a "$sent" = "$recv"

	check "$T: set loglevel=TRACE before restart" cubectl hw1 set loglevel=TRACE
	pid=$(cube_field hw1 pid)
	check "$T: hw1 restart" cubectl hw1 restart
	check "$T: a new process" test "$(cube_field hw1 pid)" != "$pid"
	check "$T: loglevel TRACE after restart" test "$(cubectl hw1 show -json | jq -r .loglevel)" = TRACE
	m=$(mark)
	pings
	check "$T: trace records after restart" wait_lines "$m" 'hw1\] trace: fast path .*rx port'
	check "$T: del hw1" cubectl del hw1

	# a cube behind a cube: entered by the peer's next-hop tail call, which
	# must follow the reloaded program (h1 - hw1 - hw2 - h2)
	check "$T: hw1 and hw2, FORWARD" eval "cubectl helloworld add hw1 type=$T action=FORWARD &&
		cubectl helloworld add hw2 type=$T action=FORWARD"
	check "$T: h1 - hw1 - hw2 - h2" eval "cubectl hw1 ports add port1 peer=$(veth h1) &&
		cubectl hw1 ports add port2 && cubectl hw2 ports add port1 peer=hw1:port2 &&
		cubectl hw1 ports port2 set peer=hw2:port1 && cubectl hw2 ports add port2 peer=$(veth h2)"
	check "$T: h1->h2 across two cubes" ping_ok h1 10.0.0.2
	check "$T: hw2 set loglevel=TRACE" cubectl hw2 set loglevel=TRACE
	m=$(mark)
	pings
	check "$T: hw2's records, entered from hw1 (in-port port1)" \
		wait_lines "$m" 'hw2\] trace: fast path \(in-port port1.*\): rx port 0'
	check "$T: none of hw1 (INFO)" test "$(count_from "$m" 'hw1\] (trace|debug): fast')" = 0
	ns h1 ping -c 300 -i 0.01 -W 1 -q 10.0.0.2 >"$TMP/ping" 2>&1 &
	pp=$!
	sleep 0.3
	for lvl in INFO DEBUG TRACE; do
		cubectl hw2 set loglevel=$lvl
		cubectl hw1 set loglevel=$lvl
		sleep 0.3
	done
	wait $pp
	sent=$(sed -nE 's/^([0-9]+) packets transmitted, ([0-9]+) received.*/\1/p' "$TMP/ping")
	recv=$(sed -nE 's/^([0-9]+) packets transmitted, ([0-9]+) received.*/\2/p' "$TMP/ping")
	log "$T: 6 loglevel changes on two chained cubes during $sent pings: $recv answered, $((${sent:-0} - ${recv:-0})) lost"
	check "$T: 0 lost across the swaps of two chained cubes" test -n "$sent" -a "$sent" = "$recv"
	check "$T: del hw1 hw2" eval "cubectl del hw1 && cubectl del hw2"
done

# the router: its maps (LPM tries, neighbours) survive the reloads
check "router add r1" cubectl router add r1
check "r1 port on h1 with 10.0.0.254/24" cubectl r1 ports add p1 ip=10.0.0.254/24 peer="$(veth h1)"
check "r1 route 10.9.0.0/16" cubectl r1 route add 10.9.0.0/16 10.0.0.1
check "h1 pings the router" ping_ok h1 10.0.0.254
routes=$(cubectl r1 route show -json | json_stable)
for lvl in TRACE OFF INFO; do
	check "r1 set loglevel=$lvl" cubectl r1 set loglevel=$lvl
	check "r1 at $lvl: h1 pings the router" ping_ok h1 10.0.0.254
done
check "r1: routes unchanged by the reloads" test "$(cubectl r1 route show -json | json_stable)" = "$routes"
check "del r1" cubectl del r1

# simplebridge: learn (DEBUG) and flood (TRACE)
check "simplebridge add br1 loglevel=TRACE" cubectl simplebridge add br1 loglevel=TRACE
check "br1 port p1 on h1" cubectl br1 ports add p1 peer="$(veth h1)"
check "br1 port p2 on h2" cubectl br1 ports add p2 peer="$(veth h2)"
m=$(mark)
check "h1->h2 across br1" ping_ok h1 10.0.0.2
check "br1: learn records" wait_lines "$m" 'br1\] debug: fast path \(in-port p1.*\): learn mac on port [0-9]+ 0'
check "br1: flood records" wait_lines "$m" 'br1\] trace: fast path .*flood (multicast|unknown)'
check "br1 set loglevel=OFF" cubectl br1 set loglevel=OFF
m=$(mark)
cubectl br1 fdb flush >/dev/null 2>&1
check "h1->h2 at OFF" ping_ok h1 10.0.0.2
sleep 0.3
check "br1 OFF: nothing in the log" test "$(count_from "$m" 'br1\]')" = 0
# a burst larger than the ring: the records beyond it are dropped and counted
check "br1 set loglevel=TRACE" cubectl br1 set loglevel=TRACE
ns h1 ping -f -c 3000 -q 10.0.0.2 >/dev/null 2>&1
check "br1: log-dropped and log-records are counted" \
	eval "cubectl br1 show -json | jq -e '.\"log-records\" > 0 and .\"log-dropped\" >= 0'"
log "br1 after a flood ping: $(cubectl br1 show -json | jq -c '{"log-records", "log-dropped"}')"
check "del br1" cubectl del br1
