#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# No packet lost while cubes and the broker are killed, restarted or
# replaced, measured with tests/tools/probe (UDP at a fixed rate with
# sequence numbers, plus a TCP connection exchanging a request every 0.5 s).
# Then: a restart storm leaves no growth of fds, memory, pins or programs;
# and random configuration changes with the broker killed at random moments
# never leave a corrupt database, a lost acknowledged change or a
# half-applied one.
. "$(dirname "$0")/lib.sh"

PROBE=$TOP/build/tests/tools/probe
RATE=${PROBE_RATE:-20000}
[ -x "$PROBE" ] || { not_ok "probe built" "no $PROBE: run make"; exit 1; }

all_running() {
	[ "$(cubectl cubes -json | jq -r '[.[].status] | unique | join(",")')" = running ]
}


kill_cube() {
	local pid
	pid=$(cube_field br1 pid)
	[[ $pid =~ ^[0-9]+$ ]] && [ "$pid" -gt 1 ] && kill -9 "$pid"
}

add_host h1 10.0.0.1/24
add_host h2 10.0.0.2/24
start_broker
for type in TC XDP_SKB; do
	log "---- $type"
	cubectl simplebridge add br1 type=$type
	cubectl br1 ports add p1 peer="$(veth h1)"
	cubectl br1 ports add p2 peer="$(veth h2)"
	ping_ok h1 10.0.0.2 || not_ok "$type: ping before" "no ping"
	fdb_before=$(cubectl br1 fdb show -json | jq -c '[.entry[].address] | sort')

	pid0=$(cube_field br1 pid)
	under_load "$type: kill -9 of the cube process" 3 kill_cube
	check "$type: the broker restarted it" wait_for 5 all_running
	pid1=$(cube_field br1 pid)
	[ "$pid1" != "$pid0" ] && [ "$(cube_field br1 restarts)" -ge 1 ] &&
		ok "$type: a new process ($pid0 -> $pid1), restarts counted" ||
		not_ok "$type: restart not visible" "pid $pid0 -> $pid1"
	fdb_after=$(cubectl br1 fdb show -json | jq -c '[.entry[].address] | sort')
	[ "$fdb_before" = "$fdb_after" ] && ok "$type: learned fdb kept across the crash" ||
		not_ok "$type: fdb lost" "$fdb_before -> $fdb_after"

	under_load "$type: cubectl br1 restart" 3 cubectl br1 restart

	pids_before=$(cube_field br1 pid)
	under_load "$type: kill -9 of the broker, and a new one" 4 \
		bash -c "kill -9 $BROKER_PID; sleep 1"
	wait "$BROKER_PID" 2>/dev/null
	BROKER_PID=
	start_broker
	check "$type: cubes running after the broker came back" wait_for 5 all_running
	[ "$(cube_field br1 pid)" = "$pids_before" ] && ok "$type: the new broker adopted the process" ||
		not_ok "$type: not adopted" "pid $pids_before -> $(cube_field br1 pid)"
	check "$type: ping after all that" ping_ok h1 10.0.0.2
	cubectl del br1
done

# ---- restart storm: no growth --------------------------------------------
# programs of this instance: those using its link table (others may run tests too)
inst_progs() {
	local id
	id=$(bpftool map show pinned "/sys/fs/bpf/$ID/cb_g_links" -j | jq .id)
	bpftool prog show -j | jq --argjson m "$id" '[.[] | select((.map_ids // []) | index($m))] | length'
}
res() { # fds and RSS (KiB) of the broker, pinned files, loaded programs
	sleep 0.5 # a replaced program is freed after an RCU grace period
	echo "$(ls /proc/$BROKER_PID/fd | wc -l) $(awk '/VmRSS/ {print $2}' /proc/$BROKER_PID/status)" \
		"$(find /sys/fs/bpf/$ID | wc -l) $(inst_progs)"
}
cubectl simplebridge add br1
cubectl br1 ports add p1 peer="$(veth h1)"
cubectl br1 ports add p2 peer="$(veth h2)"
for i in 1 2 3 4 5; do cubectl br1 restart >/dev/null; done
read -r fd0 rss0 pins0 progs0 <<<"$(res)"
STORM=${STORM:-30}
for ((i = 0; i < STORM; i++)); do cubectl br1 restart >/dev/null || break; done
read -r fd1 rss1 pins1 progs1 <<<"$(res)"
log "restart storm ($STORM): broker fds $fd0 -> $fd1, RSS $rss0 -> $rss1 KiB, pins $pins0 -> $pins1, programs $progs0 -> $progs1"
[ "$fd1" -le "$fd0" ] && ok "storm: no fd growth" || not_ok "storm: fds grew" "$fd0 -> $fd1"
[ "$pins1" -eq "$pins0" ] && ok "storm: no pin growth" || not_ok "storm: pins grew" "$pins0 -> $pins1"
[ "$progs1" -le "$progs0" ] && ok "storm: no loaded-program growth" || not_ok "storm: programs grew" "$progs0 -> $progs1"
[ "$rss1" -le $((rss0 + 1024)) ] && ok "storm: broker RSS within 1 MiB" || not_ok "storm: RSS grew" "$rss0 -> $rss1"
check "storm: ping after it" ping_ok h1 10.0.0.2

# ---- crash safety ---------------------------------------------------------
# A writer sets aging-time to 1, 2, 3, ... and connects/disconnects a
# second bridge, logging each acknowledged change; the broker is killed at
# a random moment. After a restart: the database is sound, the last
# acknowledged value is there (or the one in flight), and every link is
# either on both ends or on neither.
cubectl simplebridge add br2
RUNS=${CRASH_RUNS:-20}
bad=0
for ((run = 1; run <= RUNS; run++)); do
	: >"$TMP/acked"
	(
		v=$(((run - 1) * 1000))
		while :; do
			v=$((v + 1))
			echo "try $v" >>"$TMP/acked"
			cubectl --timeout 2000 br1 fdb set aging-time=$v >/dev/null 2>&1 || exit 0
			echo "ack $v" >>"$TMP/acked"
			if ((v % 2)); then
				cubectl --timeout 2000 connect br1:x br2:x >/dev/null 2>&1 || exit 0
			else
				cubectl --timeout 2000 disconnect br1:x br2:x >/dev/null 2>&1 || exit 0
			fi
		done
	) &
	writer=$!
	sleep "0.$((RANDOM % 4))$((RANDOM % 10))"
	kill -9 "$BROKER_PID"
	wait "$BROKER_PID" 2>/dev/null
	BROKER_PID=
	wait $writer 2>/dev/null
	if ! sqlite3 "$TMP/state/cubebus.db" 'PRAGMA integrity_check' | matches -qx ok; then
		not_ok "crash $run: database integrity" "integrity_check failed"
		bad=$((bad + 1))
		start_broker || break
		continue
	fi
	start_broker || { not_ok "crash $run: broker restarts" "see log"; bad=$((bad + 1)); break; }
	got=$(cubectl br1 fdb show aging-time)
	acked=$(grep '^ack' "$TMP/acked" | tail -1 | cut -d' ' -f2)
	tried=$(grep '^try' "$TMP/acked" | tail -1 | cut -d' ' -f2)
	p1=$(cubectl br1 ports show -json | jq -r '.[] | select(.name == "x") | .peer // ""')
	p2=$(cubectl br2 ports show -json | jq -r '.[] | select(.name == "x") | .peer // ""')
	if [ -n "$acked" ] && [ "$got" != "$acked" ] && [ "$got" != "$tried" ]; then
		not_ok "crash $run: acknowledged change kept" "aging-time $got, acknowledged $acked, tried $tried"
		bad=$((bad + 1))
	elif { [ -n "$p1" ] || [ -n "$p2" ]; } && ! { [ "$p1" = br2:x ] && [ "$p2" = br1:x ]; }; then
		not_ok "crash $run: no half-applied connect" "br1:x -> '$p1', br2:x -> '$p2'"
		bad=$((bad + 1))
	fi
done
[ "$bad" -eq 0 ] && ok "crash safety: $RUNS random broker kills, database sound, no acknowledged change lost, nothing half-applied"
check "crash safety: cubes running at the end" wait_for 5 all_running
