#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Cube processes that someone else runs, and a broker that starts on
# leftovers or is hit by signals while it starts:
#   - a second process for a running cube is refused (exits non-zero)
#   - a process started with only --name (systemd's cubebus-cube@) for a
#     cube whose process is gone is adopted: WHOAMI, hello, same pid stays
#   - at start the broker removes kernel objects its database does not know
#     (pins of an unknown cube, its stub on a netdev no port names)
#   - 20 random signals at random moments of start-up: the next broker
#     starts, every cube runs, pings work, every port's netdev has exactly
#     one of our filters
. "$(dirname "$0")/lib.sh"

all_running() {
	[ "$(cubectl cubes -json | jq -r '[.[].status] | unique | join(",")')" = running ]
}

add_host h1 10.0.0.1/24
add_host h2 10.0.0.2/24
start_broker
cubectl simplebridge add br1
cubectl br1 ports add p1 peer="$(veth h1)"
cubectl br1 ports add p2 peer="$(veth h2)"
check "ping through br1" ping_ok h1 10.0.0.2

# a second process for a running cube
out=$(timeout 10 cube-simplebridge --name br1 2>&1)
rc=$?
[ $rc -ne 0 ] && grep -q "refused" <<<"$out" && ok "a second process for br1 is refused" ||
	not_ok "second process refused" "rc $rc: $out"
check "the first process still runs br1" all_running

# an outside supervisor's process is adopted
stop_broker TERM
pid=$(cat "$CUBEBUS_RUN_DIR/cubes/br1.pid")
kill -9 "$pid"
start_broker
# the broker waits a second for a supervisor before it starts its own
cubebus-cube br1 >>"$BROKER_LOG" 2>&1 &
ext=$!
check "the outside process runs br1" wait_for 8 all_running
[ "$(cube_field br1 pid)" = "$ext" ] && ok "br1 adopted (pid $ext, started with --name only)" ||
	not_ok "adopted" "cubes shows pid $(cube_field br1 pid), the outside process is $ext"
check "ping through the adopted cube" ping_ok h1 10.0.0.2
kill -9 "$ext"
wait "$ext" 2>/dev/null
check "after the outside process died, the broker runs br1 again" wait_for 10 all_running
check "ping after that" ping_ok h1 10.0.0.2

# leftovers the database does not know
add_veth x
check "setup: cube ghost" cubectl simplebridge add ghost
check "setup: ghost port g1 on $(veth x)" cubectl ghost ports add g1 peer="$(veth x)"
# the stub is there before the crash this setup is about (bounded wait: a
# loaded machine; a failure below then shows what the netdev holds)
wait_for 5 sh -c "tc filter show dev $(veth x) ingress | grep -q bpf" ||
	log "setup: $(veth x) ingress: $(tc filter show dev "$(veth x)" ingress | tr '\n' ' '); ghost: $(cubectl ghost ports show 2>&1 | tr '\n' ' ')"
stop_broker KILL
sqlite3 "$CUBEBUS_STATE_DIR/cubebus.db" "PRAGMA foreign_keys=ON; DELETE FROM cubes WHERE name='ghost'"
pkill -9 -f -- "--name ghost .*--run-dir $CUBEBUS_RUN_DIR" 2>/dev/null
tc filter show dev "$(veth x)" ingress | matches -q bpf && ok "(a stale stub is on $(veth x))" ||
	not_ok "setup: stale stub" "no filter on $(veth x)"
start_broker
check "the unknown cube's pins are removed" test ! -e "/sys/fs/bpf/$ID/cubes/ghost"
check "its stub is detached from $(veth x)" bash -c "! tc filter show dev $(veth x) ingress | grep -q bpf"
check "br1 still runs" wait_for 5 all_running

# signals during start-up
bad=0
for ((i = 1; i <= ${SIGNAL_RUNS:-20}; i++)); do
	stop_broker TERM
	sig=$(shuf -n1 -e TERM INT KILL HUP)
	cubebusd </dev/null >>"$BROKER_LOG" 2>&1 &
	b=$!
	sleep "0.0$((RANDOM % 10))$((RANDOM % 10))"
	kill -"$sig" "$b" 2>/dev/null
	# a background job of a script starts with SIGINT ignored: a broker hit
	# before it installed its handler goes on running, so stop it for real
	wait_for 2 bash -c "! kill -0 $b 2>/dev/null || [ \"\$(ps -o stat= -p $b)\" = Z ]" ||
		kill -TERM "$b" 2>/dev/null
	wait "$b" 2>/dev/null
	start_broker || { bad=$((bad + 1)); break; }
	if ! wait_for 5 all_running || ! ping_ok h1 10.0.0.2; then
		not_ok "signal run $i ($sig)" "cubes not running or no ping"
		bad=$((bad + 1))
	fi
	for d in h1 h2; do
		n=$(tc filter show dev "$(veth $d)" ingress | grep -c 'handle 0xcb')
		[ "$n" -eq 1 ] || { not_ok "signal run $i ($sig): $(veth $d) has $n filters" ""; bad=$((bad + 1)); }
	done
done
[ "$bad" -eq 0 ] && ok "${SIGNAL_RUNS:-20} random signals during start-up: each next start restored everything, one stub per port"
