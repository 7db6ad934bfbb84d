#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# bench/resilience.sh - the figures of issue 4: what kills, upgrades and
# broker crashes cost the traffic, whether the database survives random
# broker kills, and whether a restart storm leaks anything.
#
# Four topologies, one per service, in TC mode, each between two hosts
# (namespaces) and measured with tests/tools/probe (UDP at $RATE pps with
# sequence numbers, plus one TCP connection exchanging a request every 0.5 s):
#   sb  simplebridge     h 10.0.0.1 -- [sb] -- h 10.0.0.2
#   sf  simpleforwarder  FORWARD both ways between sf-p1 and sf-p2
#   hw  helloworld       action FORWARD
#   rt  router           10.0.1.1/24 -- [rt 10.0.1.254 | 10.0.2.254] -- 10.0.2.1/24
#                        (hosts with default routes via the router's ports)
# Sections:
#   1. kill -9 of each cube's process, KILLS times per service, each kill
#      inside its own probe run; time from the kill until `cubectl cubes
#      -json` shows the cube running with a new pid. The kills go round the
#      four services so that every process has run more than 5 s when it
#      is killed: the broker counts a death within 5 s of a start as a
#      quick failure (back-off 100..800 ms, then "failed"), which is not
#      what is measured here. XDP_KILLS=N adds N kills per service in
#      XDP_SKB mode (default 0).
#   2. hot upgrade: a new binary (a copy with bytes appended, so another
#      file) installed with `install -m 0755` over cube-<service> of a
#      private copy of build/bin and build/share (the build tree is never
#      modified), then `cubectl CUBE restart`; UPGRADES per service in one
#      continuous probe run per service.
#   3. kill -9 of the broker and a new broker adopting the running cubes,
#      BROKER_KILLS times (round the four topologies, one probe run each);
#      then one kill -9 of each adopted cube (no longer the broker's child:
#      the broker notices it by heartbeat and gives an outside supervisor
#      3 s before it starts one itself).
#   4. restart storm: each of the four cubes restarted STORM times with
#      `cubectl CUBE restart`; broker fds and RSS, cube processes' RSS and
#      fds, pinned objects of the instance and its loaded programs, before
#      and after.
#   5. crash safety: CRASH_RUNS runs of random acknowledged changes (aging-
#      time of a bridge, connect/disconnect of two bridges) with the broker
#      killed at a random moment; after a restart the database must pass
#      `PRAGMA integrity_check`, hold the last acknowledged value (or the one
#      in flight), and have every link on both ends or on neither.
# A private broker (own run dir, state dir, bpffs root), unique names
# ("cbr" + 5 hex digits); everything is removed on any way out.
#
# Usage: bench/resilience.sh           full run (~10 min)
#        QUICK=1 bench/resilience.sh   (~2 min)
#   env: RATE (pps, 20000), KILLS, XDP_KILLS, UPGRADES, BROKER_KILLS, STORM,
#        CRASH_RUNS, RESILIENCE_LOG (copy the run's log there: every probe
#        run's JSON line, every timing, the broker log).
# Prints Markdown on stdout (context lines and one table), progress on stderr.
set -uo pipefail
exec </dev/null # cubectl reads a request body from a pipe or file stdin
cd "$(dirname "$0")/.." || exit 1
top=$PWD
PROBE=$top/build/tests/tools/probe

QUICK=${QUICK:-0}
RATE=${RATE:-20000}
if [ "$QUICK" = 1 ]; then
	: "${KILLS:=6}" "${XDP_KILLS:=0}" "${UPGRADES:=5}" "${BROKER_KILLS:=4}" "${STORM:=20}" "${CRASH_RUNS:=20}"
	ADOPTED_KILLS="sb"
else
	: "${KILLS:=50}" "${XDP_KILLS:=0}" "${UPGRADES:=20}" "${BROKER_KILLS:=20}" "${STORM:=100}" "${CRASH_RUNS:=200}"
	ADOPTED_KILLS="sb sf hw rt"
fi
TOPOS="sb sf hw rt"
declare -A SVC=([sb]=simplebridge [sf]=simpleforwarder [hw]=helloworld [rt]=router)
declare -A DST=([sb]=10.0.0.2 [sf]=10.0.0.2 [hw]=10.0.0.2 [rt]=10.0.2.1)
STABLE_S=5.4 # a process older than the broker's 5 s stability window when killed
T_START=${EPOCHREALTIME/./}

say() { echo "resilience: $*" >&2; }
die() {
	say "$*"
	exit 1
}
[ "$(id -u)" -eq 0 ] || die "needs root (netns, BPF)"
for t in ip jq bpftool sqlite3 install; do
	command -v $t >/dev/null || die "needs $t"
done
[ -x "$PROBE" ] && [ -x build/bin/cubebusd ] && [ -x build/bin/cubectl ] || die "run make first (no $PROBE or build/bin)"

# instance_pids DIR, matches GREP-ARGS
. "$top/tests/tools/instance.sh"

new_id() {
	local i
	while :; do
		i=cbr$(od -An -N4 -tx1 /dev/urandom | tr -d ' \n' | cut -c1-5)
		ls -d /tmp/"$i".* /sys/fs/bpf/"$i" >/dev/null 2>&1 && continue
		ip netns list 2>/dev/null | matches -q "^$i-" && continue
		ip -o link show 2>/dev/null | matches -q ": $i" && continue
		echo "$i"
		return
	done
}
id=$(new_id)
tmp=$(mktemp -d "/tmp/$id.XXXXXX")
echo $$ >"$tmp/owner"
inst=$tmp/inst # private copy of the build: the upgrades replace binaries here
LOG=$tmp/bench.log
BLOG=$tmp/broker.log
: >"$LOG"
: >"$BLOG"
export CUBEBUS_RUN_DIR=$tmp/run CUBEBUS_STATE_DIR=$tmp/state CUBEBUS_BPFFS=/sys/fs/bpf/$id
BPID=
NETNS=()

log() { echo "$(date +%T.%N | cut -c1-12) $*" >>"$LOG"; }
now_us() { echo "${EPOCHREALTIME/./}"; }

cleanup() {
	local rc=$? pids n l
	trap - EXIT INT TERM HUP
	set +e
	if [ "$rc" -ne 0 ] && [ -s "$BLOG" ]; then
		say "--- last lines of the broker log:"
		tail -n 25 "$BLOG" | sed 's/^/resilience: | /' >&2
	fi
	if [ -n "${RESILIENCE_LOG:-}" ]; then
		{ cat "$LOG"; echo "=== broker log"; cat "$BLOG"; } >"$RESILIENCE_LOG" 2>/dev/null
	fi
	pids=$(jobs -p)
	[ -n "$pids" ] && { kill -9 $pids; wait; } 2>/dev/null
	[ -n "$BPID" ] && { kill -9 "$BPID"; wait "$BPID"; } 2>/dev/null
	# the broker of the private copy removes what its database names
	if [ -x "$inst/bin/cubebusd" ]; then
		"$inst/bin/cubebusd" --cleanup >>"$BLOG" 2>&1 || build/bin/cubebusd --cleanup >>"$BLOG" 2>&1
	else
		build/bin/cubebusd --cleanup >>"$BLOG" 2>&1
	fi
	pids=$(instance_pids "$tmp")
	[ -n "$pids" ] && kill -9 $pids 2>/dev/null
	for n in "${NETNS[@]}"; do
		pids=$(ip netns pids "$n" 2>/dev/null)
		[ -n "$pids" ] && kill -9 $pids 2>/dev/null
		ip netns del "$n" 2>/dev/null
	done
	for l in $(ip -o link show 2>/dev/null | awk -F': ' '{print $2}' | cut -d@ -f1 | grep "^$id"); do
		ip link del "$l" 2>/dev/null
	done
	[ -d "/sys/fs/bpf/$id" ] && rm -rf "/sys/fs/bpf/$id"
	rm -rf "$tmp"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

mkdir -p "$inst" "$tmp/up" && cp -a build/bin "$inst/bin" && cp -a build/share "$inst/share" ||
	die "cannot copy build/bin and build/share to $inst"
export PATH="$inst/bin:$PATH"

# ---- the broker ---------------------------------------------------------------

start_broker() {
	local i
	echo "=== $(date +%T.%N) start" >>"$BLOG"
	"$inst/bin/cubebusd" >>"$BLOG" 2>&1 &
	BPID=$!
	for ((i = 0; i < 200; i++)); do
		kill -0 "$BPID" 2>/dev/null || {
			wait "$BPID" 2>/dev/null
			BPID=
			return 1
		}
		cubectl --timeout 200 version >/dev/null 2>&1 && return 0
		sleep 0.02
	done
	return 1
}

kill_broker() {
	echo "=== $(date +%T.%N) kill -9" >>"$BLOG"
	{
		kill -9 "$BPID"
		wait "$BPID"
	} 2>/dev/null
	BPID=
}

# cube_sp CUBE: "status pid" of the cube, from one `cubectl cubes -json`
cube_sp() {
	cubectl --timeout 1000 cubes -json 2>/dev/null | awk -v n="$1" '
		/"name":/ { gsub(/[",]/, "", $2); cur = $2 }
		cur == n && /"status":/ { gsub(/[",]/, "", $2); s = $2 }
		cur == n && /"pid":/ { gsub(/[",]/, "", $2); p = $2 }
		END { if (s != "") print s, p }'
}

# all_running N: `cubectl cubes -json` lists N cubes, all running
all_running() {
	local out
	out=$(cubectl --timeout 1000 cubes -json 2>/dev/null) || return 1
	[ "$(grep -c '"status": *"running"' <<<"$out")" -eq "$1" ] &&
		[ "$(grep -c '"status":' <<<"$out")" -eq "$1" ]
}

# the pids of the cubes, "name:pid" sorted
cube_pids() {
	cubectl --timeout 1000 cubes -json 2>/dev/null | jq -r '[.[] | "\(.name):\(.pid)"] | sort | join(" ")'
}

# ours PID: a cube process of this instance
ours() {
	[[ $1 =~ ^[0-9]+$ ]] && [ "$1" -gt 1 ] && tr '\0' '\n' </proc/"$1"/cmdline 2>/dev/null | matches -qxF "$tmp/run"
}

# ---- hosts and cubes ----------------------------------------------------------

# host TOPO N IP/LEN [GW]: netns $id-TOPON with eth0; ${id}TOPON in the root netns
host() {
	local n=$id-$1$2 dev=${id}$1$2
	ip netns add "$n" || return 1
	NETNS+=("$n")
	ip link add "$dev" type veth peer name eth0 netns "$n" || return 1
	echo 1 >/proc/sys/net/ipv6/conf/"$dev"/disable_ipv6
	ip netns exec "$n" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
	ip -n "$n" addr add "$3" dev eth0 && ip -n "$n" link set lo up && ip -n "$n" link set eth0 up &&
		ip link set "$dev" up || return 1
	[ -z "${4:-}" ] || ip -n "$n" route add default via "$4"
}

# make_cube TOPO TYPE: the topology's cube, named after it
make_cube() {
	local t=$1 ty=$2 a=${id}${1}1 b=${id}${1}2
	case $t in
	sb) cubectl simplebridge add sb type="$ty" && cubectl sb ports add p1 peer="$a" &&
		cubectl sb ports add p2 peer="$b" ;;
	sf) cubectl simpleforwarder add sf type="$ty" && cubectl sf ports add sf-p1 peer="$a" &&
		cubectl sf ports add sf-p2 peer="$b" &&
		cubectl sf actions add sf-p1 action=FORWARD outport=sf-p2 &&
		cubectl sf actions add sf-p2 action=FORWARD outport=sf-p1 ;;
	hw) cubectl helloworld add hw type="$ty" && cubectl hw ports add port1 peer="$a" &&
		cubectl hw ports add port2 peer="$b" && cubectl hw set action=FORWARD ;;
	rt) cubectl router add rt type="$ty" && cubectl rt ports add p1 ip=10.0.1.254/24 peer="$a" &&
		cubectl rt ports add p2 ip=10.0.2.254/24 peer="$b" ;;
	esac
}

ping_ok() { # TOPO: host 1 reaches host 2 (ARP, learning, neighbours warm)
	local i
	for i in 1 2 3; do
		ip netns exec "$id-${1}1" ping -c 3 -W 1 -i 0.2 -q "${DST[$1]}" >/dev/null 2>&1 && return 0
	done
	return 1
}

# ---- probe runs ---------------------------------------------------------------

# probe_run TOPO SECS LEAD command...: a probe run of SECS s through TOPO;
# the command runs LEAD s after the sender started (not in a subshell: it
# may set variables). Sets P_SENT P_LOST P_DUP P_REORD P_TCPBROKEN P_TCPGAP
# and PJSON (empty, and P_LOST=-1, if the receiver printed nothing).
probe_run() {
	local t=$1 secs=$2 lead=$3 rpid spid i
	shift 3
	: >"$tmp/probe.out"
	ip netns exec "$id-${t}2" "$PROBE" recv --timeout $((secs + 20)) >"$tmp/probe.out" 2>&1 &
	rpid=$!
	for ((i = 0; i < 300; i++)); do
		grep -q ready "$tmp/probe.out" && break
		sleep 0.01
	done
	ip netns exec "$id-${t}1" "$PROBE" send --dst "${DST[$t]}" --rate "$RATE" --duration "$secs" 2>>"$tmp/probe.err" &
	spid=$!
	sleep "$lead"
	"$@"
	wait "$spid"
	wait "$rpid"
	PJSON=$(grep '^{' "$tmp/probe.out" | tail -n 1)
	log "probe $t ${secs}s: ${PJSON:-no result: $(tr '\n' ' ' <"$tmp/probe.out")}"
	if [ -n "$PJSON" ]; then
		read -r P_SENT P_LOST P_DUP P_REORD P_TCPBROKEN P_TCPGAP <<<"$(jq -r \
			'"\(.sent) \(.lost) \(.duplicates) \(.reordered) \(.tcp_broken) \(.tcp_max_gap_ms)"' <<<"$PJSON")"
	else
		P_SENT=0 P_LOST=-1 P_DUP=0 P_REORD=0 P_TCPBROKEN=true P_TCPGAP=0
	fi
}

# stats VALUES...: "median max" (integers)
stats() {
	[ $# -eq 0 ] && {
		echo "- -"
		return
	}
	printf '%s\n' "$@" | sort -n | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)], a[NR]}'
}
ms() { # microseconds -> ms with one decimal
	[ "$1" = - ] && echo - || awk -v u="$1" 'BEGIN {printf "%.1f", u / 1000}'
}
mean() { # TOTAL N
	awk -v t="$1" -v n="$2" 'BEGIN {if (n > 0) printf "%.1f", t / n; else print "-"}'
}

# per-topology accumulators of a series
declare -A A_N A_SENT A_LOST A_MAX A_WITH A_DUP A_REORD A_TCPB A_BAD A_NR A_GAP A_TIMES
acc_reset() {
	local t
	for t in $TOPOS; do
		A_N[$t]=0 A_SENT[$t]=0 A_LOST[$t]=0 A_MAX[$t]=0 A_WITH[$t]=0 A_DUP[$t]=0 A_REORD[$t]=0
		A_TCPB[$t]=0 A_BAD[$t]=0 A_NR[$t]=0 A_GAP[$t]=0 A_TIMES[$t]=
	done
}
acc_probe() { # TOPO: add the last probe run
	local t=$1
	A_N[$t]=$((A_N[$t] + 1))
	if [ "$P_LOST" -lt 0 ]; then
		A_BAD[$t]=$((A_BAD[$t] + 1))
		return
	fi
	A_SENT[$t]=$((A_SENT[$t] + P_SENT))
	A_LOST[$t]=$((A_LOST[$t] + P_LOST))
	[ "$P_LOST" -gt "${A_MAX[$t]}" ] && A_MAX[$t]=$P_LOST
	[ "$P_LOST" -gt 0 ] && A_WITH[$t]=$((A_WITH[$t] + 1))
	A_DUP[$t]=$((A_DUP[$t] + P_DUP))
	A_REORD[$t]=$((A_REORD[$t] + P_REORD))
	[ "$P_TCPBROKEN" = true ] && A_TCPB[$t]=$((A_TCPB[$t] + 1))
	[ "$P_TCPGAP" -gt "${A_GAP[$t]}" ] && A_GAP[$t]=$P_TCPGAP
	return 0
}

# ---- the table ----------------------------------------------------------------

ROWS=()
row() { # FIGURE SB SF HW RT ALL
	ROWS+=("| $1 | $2 | $3 | $4 | $5 | $6 |")
}
sum_of() { # ARRAY-NAME: the sum over the topologies
	local -n arr=$1
	local t s=0
	for t in $TOPOS; do s=$((s + arr[$t])); done
	echo "$s"
}
# series_rows LABEL UNIT: the rows of a series from the accumulators
series_rows() {
	local label=$1 unit=$2 t n lost
	row "$label: ${unit}s (probe runs without a result)" \
		"${A_N[sb]} (${A_BAD[sb]})" "${A_N[sf]} (${A_BAD[sf]})" "${A_N[hw]} (${A_BAD[hw]})" "${A_N[rt]} (${A_BAD[rt]})" \
		"$(sum_of A_N) ($(sum_of A_BAD))"
	row "$label: datagrams sent / lost in all" \
		"${A_SENT[sb]} / ${A_LOST[sb]}" "${A_SENT[sf]} / ${A_LOST[sf]}" "${A_SENT[hw]} / ${A_LOST[hw]}" \
		"${A_SENT[rt]} / ${A_LOST[rt]}" "$(sum_of A_SENT) / $(sum_of A_LOST)"
	n=$(sum_of A_N)
	lost=$(sum_of A_LOST)
	local mx=0
	for t in $TOPOS; do [ "${A_MAX[$t]}" -gt $mx ] && mx=${A_MAX[$t]}; done
	row "$label: lost per $unit, mean / max" \
		"$(mean "${A_LOST[sb]}" "${A_N[sb]}") / ${A_MAX[sb]}" "$(mean "${A_LOST[sf]}" "${A_N[sf]}") / ${A_MAX[sf]}" \
		"$(mean "${A_LOST[hw]}" "${A_N[hw]}") / ${A_MAX[hw]}" "$(mean "${A_LOST[rt]}" "${A_N[rt]}") / ${A_MAX[rt]}" \
		"$(mean "$lost" "$n") / $mx"
	row "$label: ${unit}s with a loss" "${A_WITH[sb]}" "${A_WITH[sf]}" "${A_WITH[hw]}" "${A_WITH[rt]}" "$(sum_of A_WITH)"
	row "$label: duplicates / reordered" "${A_DUP[sb]} / ${A_REORD[sb]}" "${A_DUP[sf]} / ${A_REORD[sf]}" \
		"${A_DUP[hw]} / ${A_REORD[hw]}" "${A_DUP[rt]} / ${A_REORD[rt]}" "$(sum_of A_DUP) / $(sum_of A_REORD)"
	local g=0
	for t in $TOPOS; do [ "${A_GAP[$t]}" -gt $g ] && g=${A_GAP[$t]}; done
	row "$label: probe runs where TCP broke; longest TCP request gap (ms, 500 normal)" \
		"${A_TCPB[sb]}; ${A_GAP[sb]}" "${A_TCPB[sf]}; ${A_GAP[sf]}" "${A_TCPB[hw]}; ${A_GAP[hw]}" \
		"${A_TCPB[rt]}; ${A_GAP[rt]}" "$(sum_of A_TCPB); $g"
}
# times_row LABEL: median / max of the A_TIMES (µs) of each topology, and of all
times_row() {
	local label=$1 t c=() all=() med mx
	for t in $TOPOS; do
		# shellcheck disable=SC2086
		read -r med mx <<<"$(stats ${A_TIMES[$t]})"
		c+=("$(ms "$med") / $(ms "$mx") ms")
		# shellcheck disable=SC2206
		all+=(${A_TIMES[$t]})
	done
	read -r med mx <<<"$(stats "${all[@]}")"
	row "$label" "${c[@]}" "$(ms "$med") / $(ms "$mx") ms"
}

# ---- setup --------------------------------------------------------------------

say "id $id, tmp $tmp; QUICK=$QUICK: kills $KILLS per service (XDP_SKB $XDP_KILLS), upgrades $UPGRADES, broker kills $BROKER_KILLS, storm $STORM, crash runs $CRASH_RUNS"
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
for t in sb sf hw; do
	host "$t" 1 10.0.0.1/24 && host "$t" 2 10.0.0.2/24 || die "cannot make the hosts of $t"
done
host rt 1 10.0.1.1/24 10.0.1.254 && host rt 2 10.0.2.1/24 10.0.2.254 || die "cannot make the hosts of rt"
start_broker || die "the broker did not start"
for t in $TOPOS; do
	make_cube "$t" TC >>"$LOG" 2>&1 || die "cannot make the $t cube (see $LOG)"
done
for t in $TOPOS; do
	ping_ok "$t" || die "no ping through $t"
done
declare -A READY_AT # when each cube last became ready (µs)
for t in $TOPOS; do READY_AT[$t]=$(now_us); done

# control: a probe run through each topology with nothing done to it
acc_reset
for t in $TOPOS; do
	probe_run "$t" 2 0 true
	acc_probe "$t"
done
row "control run (2 s, nothing done): datagrams sent / lost" \
	"${A_SENT[sb]} / ${A_LOST[sb]}" "${A_SENT[sf]} / ${A_LOST[sf]}" "${A_SENT[hw]} / ${A_LOST[hw]}" \
	"${A_SENT[rt]} / ${A_LOST[rt]}" "$(sum_of A_SENT) / $(sum_of A_LOST)"

# ---- 1. kill -9 of the cube processes --------------------------------------------

# kill_cube TOPO: kill -9 of its process; waits until it runs again with a
# new pid (15 s at most). Sets K_US (kill to ready, µs; empty if not ready).
kill_cube() {
	local t=$1 pid sp t0
	K_US=
	read -r _ pid <<<"$(cube_sp "$t")"
	ours "$pid" || {
		log "kill $t: no process of ours (pid '$pid')"
		return 1
	}
	t0=$(now_us)
	kill -9 "$pid"
	while :; do
		sp=$(cube_sp "$t")
		if [ "${sp% *}" = running ] && [ "${sp#* }" != "$pid" ] && [ "${sp#* }" != 0 ]; then
			K_US=$(($(now_us) - t0))
			READY_AT[$t]=$(now_us)
			log "kill $t: pid $pid -> ${sp#* } in $K_US us"
			return 0
		fi
		if [ $(($(now_us) - t0)) -gt 15000000 ]; then
			log "kill $t: pid $pid: not running again after 15 s ($sp)"
			return 1
		fi
		sleep 0.005
	done
}

# settle TOPO LEAD: sleep until its process will be older than STABLE_S when
# the kill comes, LEAD s into the next probe run
settle() {
	local need
	need=$(awk -v r="${READY_AT[$1]}" -v n="$(now_us)" -v s="$STABLE_S" -v l="$2" \
		'BEGIN {w = s - l - (n - r) / 1e6; if (w > 0) printf "%.2f", w; else print 0}')
	[ "$need" != 0 ] && sleep "$need"
	return 0
}

# kill_series TYPE N: N rounds of a kill of each cube in its own 1 s probe run
kill_series() {
	local ty=$1 n=$2 r t
	acc_reset
	for ((r = 1; r <= n; r++)); do
		for t in $TOPOS; do
			settle "$t" 0.3
			probe_run "$t" 1 0.3 kill_cube "$t"
			acc_probe "$t"
			if [ -n "$K_US" ]; then
				A_TIMES[$t]+=" $K_US"
			else
				A_NR[$t]=$((A_NR[$t] + 1))
				# not back: wait for it, so that the series goes on
				for _ in $(seq 100); do [ "$(cube_sp "$t" | cut -d' ' -f1)" = running ] && break; sleep 0.1; done
				READY_AT[$t]=$(now_us)
			fi
		done
		[ $((r % 10)) = 0 ] && say "  $ty kills: round $r of $n"
	done
	series_rows "kill -9 of the cube process, $ty" kill
	row "kill -9 of the cube process, $ty: not running again within 15 s" \
		"${A_NR[sb]}" "${A_NR[sf]}" "${A_NR[hw]}" "${A_NR[rt]}" "$(sum_of A_NR)"
	times_row "kill -9 of the cube process, $ty: time to ready (kill to running with a new pid), median / max"
}

say "1. kill -9 of the cube processes, TC: $KILLS per service..."
kill_series TC "$KILLS"
if [ "$XDP_KILLS" -gt 0 ]; then
	say "1b. the same in XDP_SKB mode: $XDP_KILLS per service..."
	for t in $TOPOS; do
		cubectl del "$t" >>"$LOG" 2>&1
		make_cube "$t" XDP_SKB >>"$LOG" 2>&1 || die "cannot make the $t cube in XDP_SKB mode"
	done
	for t in $TOPOS; do
		ping_ok "$t" || die "no ping through $t (XDP_SKB)"
		READY_AT[$t]=$(now_us)
	done
	kill_series XDP_SKB "$XDP_KILLS"
	for t in $TOPOS; do
		cubectl del "$t" >>"$LOG" 2>&1
		make_cube "$t" TC >>"$LOG" 2>&1 || die "cannot make the $t cube in TC mode again"
	done
	for t in $TOPOS; do ping_ok "$t" || die "no ping through $t (TC again)"; done
fi

# ---- 2. hot upgrades ------------------------------------------------------------

# upgrade_series TOPO N INTERVAL_MS: N upgrades, one every INTERVAL_MS
declare -A UP_OK
upgrade_series() {
	local t=$1 n=$2 iv=$3 i bin new t0 t1 pid next start
	bin=$inst/bin/cube-${SVC[$t]}
	start=$(now_us)
	UP_OK[$t]=0
	for ((i = 1; i <= n; i++)); do
		next=$((start + (i - 1) * iv * 1000))
		while [ "$(now_us)" -lt "$next" ]; do sleep 0.01; done
		new=$tmp/up/cube-${SVC[$t]}.$i
		cp "$bin" "$new" && printf '\ncubebus upgrade %s %d\n' "$id" "$i" >>"$new" &&
			install -m 0755 "$new" "$bin" || log "upgrade $t $i: install failed"
		rm -f "$new"
		t0=$(now_us)
		cubectl --timeout 15000 "$t" restart >>"$LOG" 2>&1 || log "upgrade $t $i: restart failed"
		t1=$(now_us)
		A_TIMES[$t]+=" $((t1 - t0))"
		read -r _ pid <<<"$(cube_sp "$t")"
		# the new process runs the file installed now
		if ours "$pid" && [ "$(stat -Lc %i "/proc/$pid/exe")" = "$(stat -c %i "$bin")" ]; then
			UP_OK[$t]=$((UP_OK[$t] + 1))
		else
			log "upgrade $t $i: pid $pid does not run $bin"
		fi
	done
	READY_AT[$t]=$(now_us)
}

say "2. hot upgrades: $UPGRADES per service..."
acc_reset
for t in $TOPOS; do
	# one continuous run: an upgrade every 0.4 s, 0.5 s of traffic before and after
	secs=$(((UPGRADES * 4 + 19) / 10))
	probe_run "$t" "$secs" 0.5 upgrade_series "$t" "$UPGRADES" 400
	acc_probe "$t"
	A_N[$t]=$UPGRADES
done
row "hot upgrade (new binary installed, \`cubectl CUBE restart\`): upgrades (new binary running)" \
	"$UPGRADES (${UP_OK[sb]})" "$UPGRADES (${UP_OK[sf]})" "$UPGRADES (${UP_OK[hw]})" "$UPGRADES (${UP_OK[rt]})" \
	"$((UPGRADES * 4)) ($((UP_OK[sb] + UP_OK[sf] + UP_OK[hw] + UP_OK[rt])))"
row "hot upgrade: datagrams sent / lost in all (one continuous run per service)" \
	"${A_SENT[sb]} / ${A_LOST[sb]}" "${A_SENT[sf]} / ${A_LOST[sf]}" "${A_SENT[hw]} / ${A_LOST[hw]}" \
	"${A_SENT[rt]} / ${A_LOST[rt]}" "$(sum_of A_SENT) / $(sum_of A_LOST)"
row "hot upgrade: lost per upgrade (mean)" "$(mean "${A_LOST[sb]}" "$UPGRADES")" "$(mean "${A_LOST[sf]}" "$UPGRADES")" \
	"$(mean "${A_LOST[hw]}" "$UPGRADES")" "$(mean "${A_LOST[rt]}" "$UPGRADES")" "$(mean "$(sum_of A_LOST)" $((UPGRADES * 4)))"
row "hot upgrade: duplicates / reordered; TCP broke" "${A_DUP[sb]} / ${A_REORD[sb]}; ${A_TCPB[sb]}" \
	"${A_DUP[sf]} / ${A_REORD[sf]}; ${A_TCPB[sf]}" "${A_DUP[hw]} / ${A_REORD[hw]}; ${A_TCPB[hw]}" \
	"${A_DUP[rt]} / ${A_REORD[rt]}; ${A_TCPB[rt]}" "$(sum_of A_DUP) / $(sum_of A_REORD); $(sum_of A_TCPB)"
times_row "hot upgrade: \`cubectl CUBE restart\` returns, median / max"

# ---- 3. broker kill -9 ------------------------------------------------------------

# broker_cycle: kill -9 of the broker, a new one, until all 4 cubes run in
# the same processes. Sets B_US (µs, empty if not within 15 s) and B_ADOPTED.
broker_cycle() {
	local before t0 i
	before=$(cube_pids)
	B_US=
	B_ADOPTED=0
	t0=$(now_us)
	kill_broker
	start_broker || {
		log "broker cycle: the new broker did not start"
		return 1
	}
	for ((i = 0; i < 3000; i++)); do
		if all_running 4; then
			B_US=$(($(now_us) - t0))
			break
		fi
		sleep 0.005
	done
	[ "$(cube_pids)" = "$before" ] && B_ADOPTED=1
	log "broker cycle: ${B_US:-not all running} us, adopted $B_ADOPTED ($before -> $(cube_pids))"
}

say "3. kill -9 of the broker: $BROKER_KILLS..."
acc_reset
B_TIMES=()
B_ADOPT=0
B_FAIL=0
for ((i = 0; i < BROKER_KILLS; i++)); do
	set -- $TOPOS
	shift $((i % 4))
	t=$1
	probe_run "$t" 2 0.5 broker_cycle
	acc_probe "$t"
	if [ -n "$B_US" ]; then B_TIMES+=("$B_US"); else B_FAIL=$((B_FAIL + 1)); fi
	B_ADOPT=$((B_ADOPT + B_ADOPTED))
	if [ -z "$BPID" ]; then start_broker || die "no broker after a broker kill"; fi
done
read -r med mx <<<"$(stats "${B_TIMES[@]}")"
row "kill -9 of the broker and a new broker, round the topologies: kills (not all running within 15 s)" \
	"${A_N[sb]}" "${A_N[sf]}" "${A_N[hw]}" "${A_N[rt]}" "$BROKER_KILLS ($B_FAIL)"
row "broker kill: datagrams sent / lost in all" \
	"${A_SENT[sb]} / ${A_LOST[sb]}" "${A_SENT[sf]} / ${A_LOST[sf]}" "${A_SENT[hw]} / ${A_LOST[hw]}" \
	"${A_SENT[rt]} / ${A_LOST[rt]}" "$(sum_of A_SENT) / $(sum_of A_LOST)"
mx_l=0
for t in $TOPOS; do [ "${A_MAX[$t]}" -gt $mx_l ] && mx_l=${A_MAX[$t]}; done
row "broker kill: lost per kill, mean / max; duplicates; TCP broke" "" "" "" "" \
	"$(mean "$(sum_of A_LOST)" "$BROKER_KILLS") / $mx_l; $(sum_of A_DUP); $(sum_of A_TCPB)"
row "broker kill: time until \`cubectl cubes\` shows all 4 running, median / max" "" "" "" "" "$(ms "$med") / $(ms "$mx") ms"
row "broker kill: every cube adopted (same processes)" "" "" "" "" "$B_ADOPT of $BROKER_KILLS"

# an adopted cube (not the broker's child) killed: found by heartbeat
say "3b. kill -9 of adopted cubes: $ADOPTED_KILLS..."
acc_reset
for t in $ADOPTED_KILLS; do
	probe_run "$t" 8 0.5 kill_cube "$t"
	acc_probe "$t"
	A_TIMES[$t]=$K_US
	[ -n "$K_US" ] || A_NR[$t]=1
done
c=()
for t in $TOPOS; do
	if [[ " $ADOPTED_KILLS " == *" $t "* ]]; then
		c+=("$([ "${A_NR[$t]}" = 0 ] && echo "${A_LOST[$t]}; $(ms "${A_TIMES[$t]}") ms" || echo "${A_LOST[$t]}; not ready")")
	else
		c+=("-")
	fi
done
row "kill -9 of an adopted cube (after the broker kills): lost; time to ready" "${c[@]}" "TCP broke: $(sum_of A_TCPB)"

# ---- 4. restart storm -------------------------------------------------------------

inst_progs() {
	local mid
	mid=$(bpftool map show pinned "/sys/fs/bpf/$id/cb_g_links" -j | jq .id)
	bpftool prog show -j | jq --argjson m "$mid" '[.[] | select((.map_ids // []) | index($m))] | length'
}
# resources: broker fds, broker RSS KiB, cube processes RSS KiB and fds, pins, programs
resources() {
	local p rss=0 fds=0
	sleep 1 # a replaced program is freed after an RCU grace period
	for p in $(cubectl cubes -json | jq -r '.[].pid'); do
		rss=$((rss + $(awk '/VmRSS/ {print $2}' /proc/"$p"/status)))
		fds=$((fds + $(ls /proc/"$p"/fd | wc -l)))
	done
	echo "$(ls /proc/"$BPID"/fd | wc -l) $(awk '/VmRSS/ {print $2}' /proc/"$BPID"/status) $rss $fds" \
		"$(find "/sys/fs/bpf/$id" | wc -l) $(inst_progs)"
}

say "4. restart storm: $STORM restarts of each cube..."
acc_reset
# the first restart of each cube is of an adopted process: a new broker
# first (3b left the cubes it killed as children of the broker)
broker_cycle
[ -n "$BPID" ] || start_broker || die "no broker before the storm"
for t in $TOPOS; do
	t0=$(now_us)
	cubectl --timeout 15000 "$t" restart >>"$LOG" 2>&1 || log "restart of adopted $t failed"
	A_TIMES[$t]=$(($(now_us) - t0))
done
times_row "\`cubectl CUBE restart\` of an adopted process (after a broker kill -9 and a new broker), one per cube: time, median / max"
for t in $TOPOS; do
	for i in 1 2 3; do cubectl "$t" restart >>"$LOG" 2>&1; done
done
read -r fd0 rss0 crss0 cfd0 pins0 progs0 <<<"$(resources)"
acc_reset
S_FAIL=0
for ((i = 1; i <= STORM; i++)); do
	for t in $TOPOS; do
		t0=$(now_us)
		cubectl --timeout 15000 "$t" restart >>"$LOG" 2>&1 || S_FAIL=$((S_FAIL + 1))
		A_TIMES[$t]+=" $(($(now_us) - t0))"
	done
	[ $((i % 25)) = 0 ] && say "  storm: $i of $STORM"
done
read -r fd1 rss1 crss1 cfd1 pins1 progs1 <<<"$(resources)"
log "storm: before $fd0 $rss0 $crss0 $cfd0 $pins0 $progs0; after $fd1 $rss1 $crss1 $cfd1 $pins1 $progs1"
times_row "restart storm ($STORM per cube, $S_FAIL failed): \`cubectl CUBE restart\` returns, median / max"
drift() { # BEFORE AFTER [UNIT]
	local d=$(($2 - $1))
	[ $d -ge 0 ] && d=+$d
	echo "$1 → $2 (${d}${3:+ $3})"
}
row "restart storm: broker fds, before → after (drift)" "" "" "" "" "$(drift "$fd0" "$fd1")"
row "restart storm: broker RSS" "" "" "" "" "$(drift "$rss0" "$rss1" KiB)"
row "restart storm: RSS of the 4 cube processes together" "" "" "" "" "$(drift "$crss0" "$crss1" KiB)"
row "restart storm: fds of the 4 cube processes together" "" "" "" "" "$(drift "$cfd0" "$cfd1")"
row "restart storm: pinned objects under the instance's bpffs root" "" "" "" "" "$(drift "$pins0" "$pins1")"
row "restart storm: loaded programs of the instance" "" "" "" "" "$(drift "$progs0" "$progs1")"
acc_reset
for t in $TOPOS; do
	probe_run "$t" 1 0 true
	acc_probe "$t"
done
row "after the storm (1 s run each): datagrams sent / lost" \
	"${A_SENT[sb]} / ${A_LOST[sb]}" "${A_SENT[sf]} / ${A_LOST[sf]}" "${A_SENT[hw]} / ${A_LOST[hw]}" \
	"${A_SENT[rt]} / ${A_LOST[rt]}" "$(sum_of A_SENT) / $(sum_of A_LOST)"

# ---- 5. crash safety --------------------------------------------------------------

say "5. crash safety: $CRASH_RUNS runs..."
cubectl simplebridge add cs1 >>"$LOG" 2>&1 && cubectl simplebridge add cs2 >>"$LOG" 2>&1 ||
	die "cannot make the crash-safety bridges"
DB=$tmp/state/cubebus.db
# writer RUN: changes until one fails, each logged before ("try") and after
# its acknowledgement ("ack"): aging-time RUN*1000+1, +2, ... of cs1, and
# after each a connect (odd values) or disconnect (even) of cs1:x and cs2:x
writer() {
	local v=$(($1 * 1000)) f=$tmp/acked
	while :; do
		v=$((v + 1))
		echo "try a $v" >>"$f"
		cubectl --timeout 3000 cs1 fdb set aging-time=$v >/dev/null 2>&1 || exit 0
		echo "ack a $v" >>"$f"
		if ((v % 2)); then
			echo "try l 1" >>"$f"
			cubectl --timeout 3000 connect cs1:x cs2:x >/dev/null 2>&1 || exit 0
			echo "ack l 1" >>"$f"
		else
			echo "try l 0" >>"$f"
			cubectl --timeout 3000 disconnect cs1:x cs2:x >/dev/null 2>&1 || exit 0
			echo "ack l 0" >>"$f"
		fi
	done
}
# stop_writer PID: its request in flight cannot be answered any more (the
# broker is dead): end it rather than wait for its timeout
stop_writer() {
	local w=$1 i c
	for ((i = 0; i < 200; i++)); do
		kill -0 "$w" 2>/dev/null || break
		for c in $(cat /proc/"$w"/task/*/children 2>/dev/null); do kill -9 "$c" 2>/dev/null; done
		sleep 0.01
	done
	kill -9 "$w" 2>/dev/null
	wait "$w" 2>/dev/null
}
last_of() { # KIND WHAT: the value of the last "KIND WHAT v" line
	grep "^$1 $2 " "$tmp/acked" | tail -n 1 | cut -d' ' -f3
}
link_state() { # 1 both ends, 0 neither, "half ..." otherwise
	local p1 p2
	p1=$(cubectl cs1 ports show -json | jq -r '.[] | select(.name == "x") | .peer // ""')
	p2=$(cubectl cs2 ports show -json | jq -r '.[] | select(.name == "x") | .peer // ""')
	if [ "$p1" = cs2:x ] && [ "$p2" = cs1:x ]; then
		echo 1
	elif [ -z "$p1" ] && [ -z "$p2" ]; then
		echo 0
	else
		echo "half cs1:x -> '$p1', cs2:x -> '$p2'"
	fi
}
prev_a=$(cubectl cs1 fdb show aging-time)
prev_l=0
C_OK=0 C_INTEG=0 C_ACKA=0 C_ACKL=0 C_HALF=0 C_START=0 C_ACKS=0
C_TIMES=()
for ((run = 1; run <= CRASH_RUNS; run++)); do
	: >"$tmp/acked"
	writer "$run" 2>/dev/null & # (and bash's notices of the cubectl killed)
	w=$!
	sleep "0.$((RANDOM % 4))$((RANDOM % 10))"
	kill_broker
	stop_writer "$w"
	bad=
	if ! sqlite3 "$DB" 'PRAGMA integrity_check' 2>&1 | matches -qx ok; then
		bad="integrity_check: $(sqlite3 "$DB" 'PRAGMA integrity_check' 2>&1 | head -n 3 | tr '\n' ' ')"
		C_INTEG=$((C_INTEG + 1))
	fi
	t0=$(now_us)
	if ! start_broker && ! start_broker; then
		C_START=$((C_START + 1))
		log "crash $run: the broker does not start again"
		say "crash safety: the broker does not start again after run $run"
		break
	fi
	C_TIMES+=($(($(now_us) - t0)))
	got_a=$(cubectl cs1 fdb show aging-time 2>&1)
	got_l=$(link_state)
	ack_a=$(last_of ack a) try_a=$(last_of try a) ack_l=$(last_of ack l) try_l=$(last_of try l)
	C_ACKS=$((C_ACKS + $(grep -c '^ack' "$tmp/acked")))
	[ -n "$ack_a" ] || ack_a=$prev_a
	[ -n "$ack_l" ] || ack_l=$prev_l
	if [ -z "$bad" ] && [ "$got_a" != "$ack_a" ] && [ "$got_a" != "$try_a" ]; then
		bad="aging-time $got_a: acknowledged $ack_a, in flight ${try_a:-none}"
		C_ACKA=$((C_ACKA + 1))
	fi
	if [ -z "$bad" ] && [[ $got_l == half* ]]; then
		bad="half-applied: $got_l"
		C_HALF=$((C_HALF + 1))
	elif [ -z "$bad" ] && [ "$got_l" != "$ack_l" ] && [ "$got_l" != "$try_l" ]; then
		bad="link $got_l: acknowledged $ack_l, in flight ${try_l:-none}"
		C_ACKL=$((C_ACKL + 1))
	fi
	log "crash $run: aging $got_a (ack $ack_a, try ${try_a:-}), link $got_l (ack $ack_l, try ${try_l:-}) ${bad:+BAD: $bad}"
	if [ -z "$bad" ]; then
		C_OK=$((C_OK + 1))
	else
		say "crash safety run $run: $bad"
	fi
	prev_a=$got_a
	[[ $got_l == half* ]] || prev_l=$got_l
	[ $((run % 50)) = 0 ] && say "  crash safety: run $run of $CRASH_RUNS"
done
read -r med mx <<<"$(stats "${C_TIMES[@]}")"
row "crash safety: runs passed (random acknowledged changes, broker kill -9 at a random moment)" "" "" "" "" \
	"**$C_OK of $CRASH_RUNS**"
row "crash safety: failures: integrity_check / acknowledged value missing / acknowledged link missing / half-applied link / no restart" \
	"" "" "" "" "$C_INTEG / $C_ACKA / $C_ACKL / $C_HALF / $C_START"
row "crash safety: changes acknowledged in all; new broker answers after a kill, median / max" "" "" "" "" \
	"$C_ACKS; $(ms "$med") / $(ms "$mx") ms"
for ((i = 0; i < 100; i++)); do all_running 6 && break; sleep 0.1; done
all_running 6 && end_ok=yes || end_ok=no
acc_reset
for t in $TOPOS; do
	probe_run "$t" 1 0 true
	acc_probe "$t"
done
row "after everything (1 s run each): datagrams sent / lost; all 6 cubes running: $end_ok" \
	"${A_SENT[sb]} / ${A_LOST[sb]}" "${A_SENT[sf]} / ${A_LOST[sf]}" "${A_SENT[hw]} / ${A_LOST[hw]}" \
	"${A_SENT[rt]} / ${A_LOST[rt]}" "$(sum_of A_SENT) / $(sum_of A_LOST)"

# ---- output ------------------------------------------------------------------------

t=$((($(now_us) - T_START) / 1000000))
echo "Resilience under traffic (\`$([ "$QUICK" = 1 ] && echo "QUICK=1 ")bench/resilience.sh\`, $((t / 60)) min $((t % 60)) s;" \
	"load average $LOAD0 at the start, $(cut -d' ' -f1-3 /proc/loadavg) at the end)."
echo "Traffic: tests/tools/probe at $RATE UDP datagrams/s plus one TCP connection (a request every 0.5 s), host to host through one cube per service, TC mode$([ "$XDP_KILLS" -gt 0 ] && echo " (and XDP_SKB for the kills)" || echo "; XDP_SKB not measured (XDP_KILLS=N adds it)")."
echo "\"lost\" = datagrams sent minus datagrams received (each sequence number once), over each probe run: it counts whatever dropped them, the cube or the hosts' stacks; \"TCP broke\" = the probe's connection closed or never finished."
echo "Cube kills: $KILLS per service, each in its own 1 s probe run, the kill 0.3 s in; time to ready polled with \`cubectl cubes -json\` every ~10 ms; each process is over ${STABLE_S} s old when killed (younger deaths are back-off cases)."
echo "Upgrades: $UPGRADES per service, one every 0.4 s in one probe run per service. Broker kills: $BROKER_KILLS, each in a 2 s probe run (kill 0.5 s in). Storm: $STORM restarts per cube. Crash safety: $CRASH_RUNS runs."
echo
echo "| figure | simplebridge | simpleforwarder | helloworld | router | all |"
echo "|---|---:|---:|---:|---:|---:|"
printf '%s\n' "${ROWS[@]}"
