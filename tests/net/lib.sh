# SPDX-License-Identifier: Apache-2.0
# lib.sh - sourced by every netns scenario (tests/net/test_*.sh).
#
# Each run gets a unique id, $ID ("cbt" + 5 hex digits), used in every name
# the scenario creates:
#   netns          $ID-NAME                (add_host NAME ...)
#   root-side veth ${ID}NAME               (NAME at most 7 characters)
#   temp dir       /tmp/$ID.XXXXXX         ($TMP: run and state dirs, logs)
#   bpffs root     /sys/fs/bpf/$ID
# so a scenario can run next to another one, or after one that crashed.
# The broker's injector veth (cbiXXXXXXXX[ab]) is named from a hash of the
# bpffs root; tests/net/cleanup.sh inverts that hash to find test ones.
#
# Output is what tests/run.sh counts: "ok - NAME", "not ok - NAME",
# "ok - NAME # SKIP why"; anything else is prefixed with "# ". The script
# exits 1 if a check failed. CUBEBUS_TEST_LOGDIR=DIR keeps the broker log
# (DIR/<script>.broker.log). cleanup() runs on every way out (EXIT trap;
# INT/TERM/HUP exit through it) and prints the broker log tail on failure.

set -u
set -o pipefail
# cubectl takes a request body from stdin when it is a pipe or a file: the
# scenarios never mean to give one
exec </dev/null

NET_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TOP=$(cd "$NET_DIR/../.." && pwd)
BIN=${CUBEBUS_TEST_BIN:-$TOP/build/bin}
export PATH="$BIN:$PATH"
SCRIPT=$(basename "${BASH_SOURCE[1]:-$0}" .sh)

N_OK=0
N_FAIL=0
N_SKIP=0
T_START=${EPOCHREALTIME/./}
BROKER_PID=
BROKER_BIN=
TMP=
HOSTS=()
LINKS=()
RMDIRS=() # directories the run caused, removed (when empty) on the way out

# ---- reporting ------------------------------------------------------------

ok() {
	echo "ok - $1"
	N_OK=$((N_OK + 1))
}

# not_ok NAME REASON...
not_ok() {
	local name=$1
	shift
	echo "not ok - $name"
	[ $# -gt 0 ] && echo "#   $*"
	N_FAIL=$((N_FAIL + 1))
}

# skip NAME WHY
skip() {
	echo "ok - $1 # SKIP $2"
	N_SKIP=$((N_SKIP + 1))
}

# check NAME command...: ok if the command exits 0; otherwise not ok with
# the last lines of its output as the reason.
check() {
	local name=$1 out
	shift
	if out=$("$@" 2>&1); then
		ok "$name"
		return 0
	fi
	not_ok "$name" "failed: $* :: $(echo "$out" | tail -n 3 | tr '\n' ' ')"
	return 1
}

# log WHAT...: a comment line in the test output
log() {
	echo "# $*"
}

# ---- polling --------------------------------------------------------------

# wait_for SECONDS command...: polls every 0.1 s until the command succeeds.
wait_for() {
	local deadline i
	deadline=$(($1 * 10))
	shift
	for ((i = 0; i <= deadline; i++)); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	return 1
}

# ---- the run's names ------------------------------------------------------

lib_new_id() {
	local id
	while :; do
		id=cbt$(od -An -N4 -tx1 /dev/urandom | tr -d ' \n' | cut -c1-5)
		# not in use by a live or leftover run
		ls -d /tmp/"$id".* /sys/fs/bpf/"$id" >/dev/null 2>&1 && continue
		ip netns list 2>/dev/null | matches -q "^$id-" && continue
		ip -o link show 2>/dev/null | matches -q ": $id" && continue
		echo "$id"
		return
	done
}

# veth NAME: the root-side device of host NAME
veth() {
	echo "${ID}$1"
}

# ns NAME command...: run in host NAME's namespace
ns() {
	local n=$1
	shift
	ip netns exec "$ID-$n" "$@"
}

mac_of() {
	ip netns exec "$ID-$1" cat /sys/class/net/eth0/address
}

# ---- hosts ----------------------------------------------------------------

# add_host NAME IP/PREFIX [MAC]: netns $ID-NAME with eth0 (IP, MAC, up) and
# lo up; the other end of the veth is ${ID}NAME in the root namespace, up,
# without IPv6 so that the root namespace sends nothing into the topology.
add_host() {
	local name=$1 addr=$2 mac=${3:-} n="$ID-$1" dev="${ID}$1"

	if [ ${#dev} -gt 15 ]; then
		echo "# add_host: $dev is longer than 15 characters" >&2
		return 1
	fi
	ip netns add "$n" || return 1
	HOSTS+=("$n")
	ip link add "$dev" type veth peer name eth0 netns "$n" || return 1
	LINKS+=("$dev")
	echo 1 >/proc/sys/net/ipv6/conf/"$dev"/disable_ipv6
	ip netns exec "$n" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
	[ -n "$mac" ] && ip -n "$n" link set eth0 address "$mac"
	ip -n "$n" addr add "$addr" dev eth0 &&
		ip -n "$n" link set lo up &&
		ip -n "$n" link set eth0 up &&
		ip link set "$dev" up
}

# add_veth NAME: a spare veth pair in the root namespace, ${ID}NAME and
# ${ID}NAMEp, both up (a peer to move a port to).
add_veth() {
	local a="${ID}$1" b="${ID}$1p"

	ip link add "$a" type veth peer name "$b" || return 1
	LINKS+=("$a")
	for d in "$a" "$b"; do
		echo 1 >/proc/sys/net/ipv6/conf/"$d"/disable_ipv6
		ip link set "$d" up
	done
}

# ping_ok FROM IP: at least one answer to `ping -c 2` (tried twice, so an
# ARP exchange that loses its first packet does not fail the check)
ping_ok() {
	ns "$1" ping -c 2 -W 1 -i 0.2 -q "$2" >/dev/null 2>&1 && return 0
	ns "$1" ping -c 3 -W 1 -i 0.2 -q "$2" >/dev/null 2>&1
}

# ping_fails FROM IP: no answer at all
ping_fails() {
	! ns "$1" ping -c 2 -W 1 -i 0.2 -q "$2" >/dev/null 2>&1
}

# ---- the broker -----------------------------------------------------------

# start_broker [args]: the instance's broker in the background, logging to
# $BROKER_LOG; returns when `cubectl version` answers (at most 10 s).
# $BROKER_BIN overrides the binary (a private copy of build/bin).
# Not in a subshell (not inside check or $(...)): it sets $BROKER_PID.
start_broker() {
	local bin=${BROKER_BIN:-$BIN/cubebusd} i

	if [ -n "$BROKER_PID" ] || timeout 2 cubectl --timeout 500 version >/dev/null 2>&1; then
		echo "# start_broker: a broker of this instance already answers"
		return 1
	fi
	echo "=== $(date +%T.%N) start_broker $bin $*" >>"$BROKER_LOG"
	"$bin" "$@" </dev/null >>"$BROKER_LOG" 2>&1 &
	BROKER_PID=$!
	for ((i = 0; i < 100; i++)); do
		if ! kill -0 "$BROKER_PID" 2>/dev/null; then
			wait "$BROKER_PID" 2>/dev/null
			echo "# cubebusd exited with status $? before it was ready"
			BROKER_PID=
			return 1
		fi
		timeout 2 cubectl --timeout 1000 version >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	echo "# cubebusd did not answer within 10 s"
	return 1
}

# stop_broker [SIGNAL]: TERM by default (it stops, cubes keep running); -9
# kills it like a crash. Waits for it to exit (5 s, then KILL).
stop_broker() {
	local sig=${1:-TERM} i

	[ -n "$BROKER_PID" ] || return 0
	echo "=== $(date +%T.%N) stop_broker $sig" >>"$BROKER_LOG"
	kill -"$sig" "$BROKER_PID"
	for ((i = 0; i < 50; i++)); do
		kill -0 "$BROKER_PID" || break
		# a child that exited is a zombie until waited for: kill -0 still works
		[ "$(ps -o stat= -p "$BROKER_PID")" = Z ] && break
		sleep 0.1
	done
	kill -9 "$BROKER_PID"
	wait "$BROKER_PID"
	BROKER_PID=
	return 0
} 2>/dev/null # errors, and bash's "Killed" notice of the job

# under_load NAME SECONDS command...: runs the command 1 s into a run of
# tests/tools/probe (UDP at $RATE pps with sequence numbers, and a TCP
# connection) from h1 to h2 (10.0.0.2), and checks nothing was lost or
# duplicated and TCP held. $PROBE is the probe binary.
under_load() {
	local name=$1 secs=$2 res
	shift 2
	ns h2 "$PROBE" recv --timeout $((secs + 20)) >"$TMP/probe.out" 2>&1 &
	local rpid=$!
	wait_for 3 grep -q ready "$TMP/probe.out"
	ns h1 "$PROBE" send --dst 10.0.0.2 --rate "$RATE" --duration "$secs" 2>>"$TMP/probe.err" &
	local spid=$!
	sleep 1
	"$@"
	wait $spid
	wait $rpid
	res=$(grep '^{' "$TMP/probe.out")
	log "$name: $res"
	if [ -n "$res" ] && [ "$(echo "$res" | jq -r '.lost == 0 and .duplicates == 0 and (.tcp_broken | not) and .sent > 0')" = true ]; then
		ok "$name: 0 lost at $RATE pps, TCP held"
	else
		not_ok "$name: packets lost or TCP broken" "$res"
	fi
}

# ---- JSON views (jq) ------------------------------------------------------

# without what changes by itself: uuid, status, ages and counters
json_stable() {
	jq -S 'walk(if type == "object" then
		with_entries(select(.key | test("^(uuid|status|age|drops)$|-(packets|bytes)$") | not))
	else . end)'
}

# cube_field CUBE FIELD: from `cubectl cubes -json`
cube_field() {
	cubectl cubes -json | jq -r --arg n "$1" --arg f "$2" '.[] | select(.name == $n) | .[$f]'
}

# ---- teardown -------------------------------------------------------------

# the processes of this instance (tests/tools/instance.sh)
. "$NET_DIR/../tools/instance.sh"
lib_instance_pids() {
	instance_pids "$TMP"
}

cleanup() {
	local rc=$? p n l pids t i

	trap - EXIT INT TERM HUP
	set +e
	if { [ "$N_FAIL" -gt 0 ] || [ "$rc" -ne 0 ]; } && [ -n "$TMP" ] && [ -s "$TMP/broker.log" ]; then
		echo "# --- last lines of the broker log ($TMP/broker.log):"
		tail -n 40 "$TMP/broker.log" | sed 's/^/# | /'
	fi
	[ -n "${CUBEBUS_TEST_LOGDIR:-}" ] && [ -n "$TMP" ] &&
		cp "$TMP/broker.log" "$CUBEBUS_TEST_LOGDIR/$SCRIPT.broker.log" 2>/dev/null
	# our own background jobs (pings, captures)
	pids=$(jobs -p)
	[ -n "$pids" ] && { kill -9 $pids; wait; } 2>/dev/null
	if [ -n "$TMP" ]; then
		[ -n "$BROKER_PID" ] && { kill -9 "$BROKER_PID"; wait "$BROKER_PID"; } 2>/dev/null
		# a broker of a private copy (or the build) removes what its database names
		"${BROKER_BIN:-$BIN/cubebusd}" --cleanup >>"$TMP/broker.log" 2>&1 ||
			"$BIN/cubebusd" --cleanup >>"$TMP/broker.log" 2>&1
		pids=$(lib_instance_pids)
		[ -n "$pids" ] && kill -9 $pids 2>/dev/null
	fi
	wait 2>/dev/null
	for n in "${HOSTS[@]}"; do
		pids=$(ip netns pids "$n" 2>/dev/null)
		[ -n "$pids" ] && kill -9 $pids 2>/dev/null
		ip netns del "$n" 2>/dev/null
	done
	for l in "${LINKS[@]}"; do
		ip link del "$l" 2>/dev/null
	done
	if [ -n "${ID:-}" ]; then
		# anything else named after the run (a link a scenario made by hand)
		for l in $(ip -o link show 2>/dev/null | awk -F': ' '{print $2}' | cut -d@ -f1 | grep "^$ID"); do
			ip link del "$l" 2>/dev/null
		done
		[ -d "/sys/fs/bpf/$ID" ] && rm -rf "/sys/fs/bpf/$ID"
	fi
	for ((i = ${#RMDIRS[@]} - 1; i >= 0; i--)); do
		# iproute2 makes ip and xdp symbolic links to tc
		if [ -L "${RMDIRS[i]}" ]; then rm -f "${RMDIRS[i]}"; else rmdir "${RMDIRS[i]}" 2>/dev/null; fi
	done
	[ -n "$TMP" ] && [ -d "$TMP" ] && rm -rf "$TMP"
	t=$(((${EPOCHREALTIME/./} - T_START) / 100000))
	echo "# $SCRIPT ($ID): $N_OK passed, $N_FAIL failed, $N_SKIP skipped in $((t / 10)).$((t % 10)) s"
	[ "$N_FAIL" -eq 0 ] && [ "$rc" -eq 0 ] && exit 0
	[ "$rc" -ne 0 ] && exit "$rc"
	exit 1
}

# iproute_bpf_dirs: loading an object with `ip link ... obj` or `tc ... bpf
# obj` makes iproute2 create its pin directories under /sys/fs/bpf; those
# that are not there yet are removed again (when empty) when the run ends.
iproute_bpf_dirs() {
	local d

	for d in /sys/fs/bpf/ip /sys/fs/bpf/tc /sys/fs/bpf/tc/globals /sys/fs/bpf/xdp; do
		[ -e "$d" ] || [ -L "$d" ] || RMDIRS+=("$d")
	done
}

# lib_require: skip the whole scenario when it cannot run here
lib_require() {
	if [ "$(id -u)" -ne 0 ]; then
		skip "$SCRIPT" "needs root (netns, BPF)"
		exit 0
	fi
	for t in ip ping jq tc; do
		if ! command -v $t >/dev/null; then
			skip "$SCRIPT" "needs $t"
			exit 0
		fi
	done
	if ! [ -x "$BIN/cubebusd" ] || ! [ -x "$BIN/cubectl" ]; then
		not_ok "$SCRIPT: build" "no $BIN/cubebusd or cubectl: run make"
		exit 1
	fi
}

lib_require
ID=$(lib_new_id)
TMP=$(mktemp -d "/tmp/$ID.XXXXXX")
echo $$ >"$TMP/owner"
BROKER_LOG=$TMP/broker.log
: >"$BROKER_LOG"
export CUBEBUS_RUN_DIR=$TMP/run CUBEBUS_STATE_DIR=$TMP/state CUBEBUS_BPFFS=/sys/fs/bpf/$ID
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP
log "$SCRIPT: id $ID, tmp $TMP"
