#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# bench/slowpath.sh - the slow-path round trip: how many packets a second a
# cube's process takes from its fast path and sends back out (packet-in ->
# packet-out), and what it costs the process.
#
#   [netns A] eth0 ==veth== VA   helloworld (action SLOWPATH)   VB ==veth== eth0 [netns B]
#    slowpath_send                 fast path -> perf buffer ->             xdpsink
#                                  process -> packet-out (injector) -> VB
#
# The helloworld cube sends every packet to its process, which counts it and
# sends it out of the other port (cube-services/helloworld/helloworld.c).
# A sends 64-byte UDP frames (60 + FCS) at a paced rate
# (build/bench/slowpath_send: one send() per frame on a fixed schedule; not
# pktgen, whose bursts 25 ms apart would measure the perf buffer's size);
# B counts them at XDP and drops them (build/bench/xdpsink). For each hook
# (TC, XDP_SKB) and offered load: the rate delivered at B, the loss and where
# it happened, and the CPU time of the cube process (utime + stime of
# /proc/PID/stat) per packet it handled.
#
# The slow-path limiter is lifted: CUBEBUS_SLOWPATH_PPS=0 is given to the
# broker and inherited by the cube processes it spawns (the script checks the
# process's environment and that nothing is counted as rate-limited).
# A private broker (own run dir, state dir, bpffs root), unique names ("cbb" +
# 5 hex digits); everything is removed on any way out (EXIT, INT, TERM, HUP).
#
# Usage: bench/slowpath.sh          full run (~1.5 min: 3 runs x 2 s per point)
#        QUICK=1 bench/slowpath.sh  (~20 s: 1 run x 1 s per point)
#   env: LOADS (offered pps, space-separated; default "10000 50000 100000 200000"),
#        HOOKS (default "TC XDP_SKB"), RUNS (runs per point, median), WINDOW (s counted),
#        WARMUP (s), SENDCPU (CPU the sender is pinned to; default the last),
#        REF (1: also the highest load with action FORWARD, the fast path alone:
#        what the sender and the path manage without the slow path; 0: not),
#        SLOWPATH_LOG (copy the run's log there: every run's raw figures).
# Prints a Markdown table and notes on stdout, progress on stderr.
set -uo pipefail
cd "$(dirname "$0")/.."
top=$PWD
BIN=${CUBEBUS_BENCH_BIN:-$top/build/bin}
BB=$top/build/bench
export PATH="$BIN:$PATH"

QUICK=${QUICK:-0}
if [ "$QUICK" = 1 ]; then
	: "${RUNS:=1}" "${WARMUP:=0.2}" "${WINDOW:=1}"
else
	: "${RUNS:=3}" "${WARMUP:=0.3}" "${WINDOW:=2}"
fi
REF=${REF:-1}
LOADS=${LOADS:-10000 50000 100000 200000}
HOOKS=${HOOKS:-TC XDP_SKB}
NCPU=$(nproc)
SENDCPU=${SENDCPU:-$((NCPU - 1))}
PORT=9
HZ=$(getconf CLK_TCK)
LOADAVG=$(cut -d' ' -f1-3 /proc/loadavg)
T_START=${EPOCHREALTIME/./}

say() { echo "slowpath: $*" >&2; }
die() {
	say "$*"
	exit 1
}

[ "$(id -u)" -eq 0 ] || die "needs root (netns, BPF)"
for t in ip jq awk; do
	command -v $t >/dev/null || die "needs $t"
done
for b in "$BB/slowpath_send" "$BB/xdpsink" "$BIN/cubebusd" "$BIN/cubectl" "$BIN/cube-helloworld"; do
	[ -x "$b" ] || die "no $b: run make"
done

# ---- names, private broker, cleanup ------------------------------------------

while :; do
	id=cbb$(od -An -N4 -tx1 /dev/urandom | tr -d ' \n' | cut -c1-5)
	ls -d /tmp/"$id".* /sys/fs/bpf/"$id" >/dev/null 2>&1 && continue
	ip netns list 2>/dev/null | grep -q "^$id-" && continue
	ip -o link show 2>/dev/null | grep -q ": $id" && continue
	break
done
tmp=$(mktemp -d "/tmp/$id.XXXXXX")
LOG=$tmp/log
export CUBEBUS_RUN_DIR=$tmp/run CUBEBUS_STATE_DIR=$tmp/state CUBEBUS_BPFFS=/sys/fs/bpf/$id
export CUBEBUS_SLOWPATH_PPS=0
NSA=$id-a NSB=$id-b
VA=${id}a VB=${id}b
bpid=

# instance_pids DIR
. "$top/tests/tools/instance.sh"

cleanup() {
	local rc=$? p n l
	trap - EXIT INT TERM HUP
	set +e
	p=$(jobs -p)
	[ -n "$p" ] && { kill -TERM $p; sleep 0.2; kill -9 $p; wait; } 2>/dev/null
	[ -n "$bpid" ] && { kill -9 "$bpid"; wait "$bpid"; } 2>/dev/null
	"$BIN/cubebusd" --cleanup >>"$LOG" 2>&1
	# cube processes of this instance that outlived the broker
	p=$(instance_pids "$tmp")
	[ -n "$p" ] && kill -9 $p 2>/dev/null
	for n in "$NSA" "$NSB"; do
		p=$(ip netns pids "$n" 2>/dev/null)
		[ -n "$p" ] && kill -9 $p 2>/dev/null
		ip netns del "$n" 2>/dev/null
	done
	for l in $(ip -o link show 2>/dev/null | awk -F': ' '{print $2}' | cut -d@ -f1 | grep "^$id"); do
		ip link del "$l" 2>/dev/null
	done
	[ -d "/sys/fs/bpf/$id" ] && rm -rf "/sys/fs/bpf/$id"
	if [ "$rc" -ne 0 ] && [ -s "$LOG" ]; then
		say "failed (status $rc); last lines of the log:"
		tail -n 30 "$LOG" | sed 's/^/  | /' >&2
	fi
	[ -n "${SLOWPATH_LOG:-}" ] && cp "$LOG" "$SLOWPATH_LOG" 2>/dev/null
	rm -rf "$tmp"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

# wait_file FILE PATTERN PID SECONDS: until FILE has a line matching PATTERN
wait_file() {
	local i
	for ((i = 0; i < $4 * 100; i++)); do
		grep -q "$2" "$1" 2>/dev/null && return 0
		kill -0 "$3" 2>/dev/null || return 1
		sleep 0.01
	done
	return 1
}

median() { printf '%s\n' "$@" | sort -g | awk '{a[NR] = $1} END {if (NR) print a[int((NR + 1) / 2)]}'; }
kv() { sed -n "s/.*\\b$1=\\([^ ]*\\).*/\\1/p"; }

# ---- topology ---------------------------------------------------------------

for h in a b; do
	ip netns add "$id-$h" || die "cannot create netns $id-$h"
	ip netns exec "$id-$h" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
	ip link add "${id}$h" type veth peer name eth0 netns "$id-$h" || die "cannot create veth ${id}$h"
	echo 1 >/proc/sys/net/ipv6/conf/"${id}$h"/disable_ipv6
	ip -n "$id-$h" link set lo up
	ip -n "$id-$h" link set eth0 up
	ip link set "${id}$h" up
done
ip -n "$NSA" addr add 198.18.0.1/24 dev eth0
ip -n "$NSB" addr add 198.18.0.2/24 dev eth0
MAC_B=$(ip netns exec "$NSB" cat /sys/class/net/eth0/address)

# ---- the broker ---------------------------------------------------------------

"$BIN/cubebusd" </dev/null >>"$LOG" 2>&1 &
bpid=$!
for _ in $(seq 100); do
	timeout 2 cubectl --timeout 1000 version >/dev/null 2>&1 && break
	kill -0 "$bpid" 2>/dev/null || die "cubebusd exited before it was ready"
	sleep 0.1
done
cubectl version >/dev/null 2>&1 || die "cubebusd did not answer within 10 s"

# cubectl_q ARGS...: cubectl, output to the log; on failure the error line in $CERR
cubectl_q() {
	cubectl "$@" >>"$LOG" 2>"$tmp/cerr" && return 0
	CERR=$(head -n 1 "$tmp/cerr")
	cat "$tmp/cerr" >>"$LOG"
	return 1
}

say "id $id; loads ${LOADS// /, } pps; $RUNS run(s) x ${WINDOW} s per point (warm-up ${WARMUP} s);" \
	"sender on CPU $SENDCPU of $NCPU; load average $LOADAVG"

# ---- measurements -------------------------------------------------------------

# counters HW PID: "slowpath-packets lost limited cpu_ticks VB_tx now_us" of the cube
counters() {
	local j
	j=$(cubectl "$1" show -json 2>>"$LOG") || return 1
	printf '%s %s %s %s\n' \
		"$(echo "$j" | jq -r '[."slowpath-packets", ([.slowpath[]? | select(.reason == "lost") | .packets] | add // 0),
			([.slowpath[]? | ."rate-limited"] | add // 0)] | map(tostring) | join(" ")')" \
		"$(awk '{print $14 + $15}' /proc/"$2"/stat)" \
		"$(cat /sys/class/net/"$VB"/statistics/tx_packets)" \
		"${EPOCHREALTIME/./}"
}

declare -A R_OFF R_DEL R_LOSS R_CHAN R_OUT R_CPU R_NSP R_LIM
ROWS=()

# point HOOK LOAD PID [LABEL]: RUNS runs at LOAD pps; sets the R_* of "HOOK LOAD [LABEL]"
point() {
	local T=$1 load=$2 pid=$3 key="$1 $2${4:+ $4}" i sp gp rc line gen c
	local off=() del=() loss=() chan=() out=() cpu=() nsp=() lim=0
	local s_sp s_lost s_lim s_cpu s_vb s_t e_sp e_lost e_lim e_cpu e_vb e_t sent secs
	ROWS+=("$key")
	for ((i = 1; i <= RUNS; i++)); do
		: >"$tmp/sink.out"
		ip netns exec "$NSB" "$BB/xdpsink" --dev eth0 --port $PORT --warmup "$WARMUP" --duration "$WINDOW" \
			--wait 3 >"$tmp/sink.out" 2>>"$LOG" &
		sp=$!
		if ! wait_file "$tmp/sink.out" '^ready' "$sp" 5; then
			wait "$sp" 2>/dev/null
			echo "xdpsink did not start" >>"$LOG"
			continue
		fi
		c=$(counters hw "$pid") || { echo "cannot read the cube's counters" >>"$LOG"; kill "$sp"; wait "$sp"; continue; }
		read -r s_sp s_lost s_lim s_cpu s_vb s_t <<<"$c"
		ip netns exec "$NSA" "$BB/slowpath_send" --dev eth0 --dst-mac "$MAC_B" --src 198.18.0.1 \
			--dst 198.18.0.2 --dport $PORT --pps "$load" --cpu "$SENDCPU" \
			--duration "$(awk -v w="$WARMUP" -v d="$WINDOW" 'BEGIN {print w + d + 0.3}')" \
			>"$tmp/gen.out" 2>>"$LOG" &
		gp=$!
		wait "$sp"
		rc=$?
		wait "$gp" 2>/dev/null
		sleep 0.3 # what is still in the perf buffer or on its way out
		c=$(counters hw "$pid") || { echo "cannot read the cube's counters" >>"$LOG"; continue; }
		read -r e_sp e_lost e_lim e_cpu e_vb e_t <<<"$c"
		line=$(grep '^packets=' "$tmp/sink.out")
		gen=$(cat "$tmp/gen.out")
		echo "  $T $load run $i: sink: $line | sender: $gen | to the process $((e_sp - s_sp))," \
			"lost in the channel $((e_lost - s_lost)), rate-limited $((e_lim - s_lim)), out of VB $((e_vb - s_vb))," \
			"cube CPU $((e_cpu - s_cpu)) ticks in $(((e_t - s_t) / 1000)) ms" >>"$LOG"
		[ "$rc" -eq 0 ] || continue
		sent=$(echo "$gen" | kv sent)
		secs=$(echo "$gen" | kv seconds)
		[ -n "$sent" ] && [ "$sent" -gt 0 ] || continue
		off+=("$(echo "$gen" | kv pps)")
		del+=("$(echo "$line" | kv pps)")
		# over the whole run: sent, received by the process, out of VB (taken by B)
		loss+=("$(awk -v v=$((e_vb - s_vb)) -v s="$sent" 'BEGIN {printf "%.4f", v < s ? 1 - v / s : 0}')")
		chan+=("$(awk -v p=$((e_sp - s_sp)) -v s="$sent" 'BEGIN {printf "%.4f", p < s ? 1 - p / s : 0}')")
		out+=("$(awk -v p=$((e_sp - s_sp)) -v v=$((e_vb - s_vb)) -v s="$sent" \
			'BEGIN {printf "%.4f", (p > v ? p - v : 0) / s}')")
		cpu+=("$(awk -v c=$((e_cpu - s_cpu)) -v hz="$HZ" -v t=$((e_t - s_t)) 'BEGIN {printf "%.3f", c / hz / (t / 1e6)}')")
		nsp+=("$(awk -v c=$((e_cpu - s_cpu)) -v hz="$HZ" -v p=$((e_sp - s_sp)) \
			'BEGIN {if (p > 0) printf "%.0f", c / hz * 1e9 / p}')")
		lim=$((lim + e_lim - s_lim))
	done
	R_OFF[$key]=$(median "${off[@]}") R_DEL[$key]=$(median "${del[@]}") R_LOSS[$key]=$(median "${loss[@]}")
	R_CHAN[$key]=$(median "${chan[@]}") R_OUT[$key]=$(median "${out[@]}") R_CPU[$key]=$(median "${cpu[@]}")
	R_NSP[$key]=$(median "${nsp[@]}") R_LIM[$key]=$lim
	say "$(printf '%-8s %7s pps offered: %7s sent, %7s delivered, loss %s, cube CPU %s' "$T" "$load" \
		"${R_OFF[$key]:--}" "${R_DEL[$key]:--}" "${R_LOSS[$key]:--}" "${R_CPU[$key]:--}")"
}

declare -A NOTE
for T in $HOOKS; do
	body="{\"type\":\"$T\",\"action\":\"SLOWPATH\",\"ports\":[{\"name\":\"p1\",\"peer\":\"$VA\"},{\"name\":\"p2\",\"peer\":\"$VB\"}]}"
	if ! echo "$body" | cubectl_q helloworld add hw; then
		NOTE[$T]="helloworld add failed: $CERR"
		say "$T: ${NOTE[$T]}"
		continue
	fi
	pid=$(cubectl cubes -json 2>>"$LOG" | jq -r '.[] | select(.name == "hw") | .pid')
	if ! [ -r "/proc/$pid/stat" ]; then
		NOTE[$T]="no process for the cube"
		cubectl_q del hw
		continue
	fi
	if ! tr '\0' '\n' </proc/"$pid"/environ | grep -qx 'CUBEBUS_SLOWPATH_PPS=0'; then
		NOTE[$T]="the cube process does not have CUBEBUS_SLOWPATH_PPS=0 in its environment"
		say "$T: ${NOTE[$T]}"
	fi
	for load in $LOADS; do
		point "$T" "$load" "$pid"
	done
	if [ "$REF" = 1 ]; then
		max=$(printf '%s\n' $LOADS | sort -g | tail -n 1)
		if cubectl_q hw set action=FORWARD; then
			point "$T" "$max" "$pid" FORWARD
		else
			say "$T: cannot set action=FORWARD: $CERR"
		fi
	fi
	cubectl_q del hw
done

# ---- the table ----------------------------------------------------------------

pct() { awk -v v="$1" 'BEGIN {if (v == "") print "—"; else printf "%.1f %%", v * 100}'; }
elapsed=$(((${EPOCHREALTIME/./} - T_START) / 1000000))
echo "| hook | offered pps | sent pps | delivered pps | loss | lost before the process | lost after it | cube process CPU | cube CPU µs/packet |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|"
for k in "${ROWS[@]}"; do
	read -r T load label <<<"$k"
	[ -n "$label" ] && T="$T, $label (fast path only)"
	if [ -z "${R_DEL[$k]:-}" ]; then
		echo "| $T | $load | — | — | no run counted | — | — | — | — |"
		continue
	fi
	if [ -n "$label" ]; then # no process on the way
		printf '| %s | %s | %s | %s | %s | — | — | %s | — |\n' "$T" "$load" "${R_OFF[$k]}" "${R_DEL[$k]}" \
			"$(pct "${R_LOSS[$k]}")" "$(pct "${R_CPU[$k]}")"
		continue
	fi
	printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' "$T" "$load" "${R_OFF[$k]}" "${R_DEL[$k]}" \
		"$(pct "${R_LOSS[$k]}")" "$(pct "${R_CHAN[$k]}")" "$(pct "${R_OUT[$k]}")" "$(pct "${R_CPU[$k]}")" \
		"$(awk -v n="${R_NSP[$k]:-}" 'BEGIN {if (n == "") print "—"; else printf "%.1f", n / 1000}')"
done
for T in $HOOKS; do
	[ -n "${NOTE[$T]:-}" ] && echo "| $T | — | — | — | ${NOTE[$T]} | — | — | — | — |"
done
echo
echo "A helloworld cube (action SLOWPATH) between two namespaces: every frame goes from its fast"
echo "path to its process through the perf buffer, and the process sends it out of the other port"
echo "(packet-out through the instance's injector). 64-byte UDP frames (60 + FCS), paced in batches"
echo "of 50 µs worth (build/bench/slowpath_send, pinned to CPU $SENDCPU): offered is the rate asked"
echo "for, sent what the sender managed. Delivered: the rate counted at XDP on B (xdpsink), median"
echo "of $RUNS run(s) of ${WINDOW} s after ${WARMUP} s of warm-up. Loss, over the whole run: 1 - frames that"
echo "reached B (the veth to B) / frames sent; lost before the process: sent but never received"
echo "by it (the perf buffer was full: the cube's \"lost\" counter, in the log); lost after it:"
echo "received but not out to B (packet-out). Cube process CPU: utime + stime of /proc/PID/stat"
echo "over the run (all its threads; tick-sampled, ${HZ} ticks/s), as a share of one CPU, and per"
echo "packet it received; the kernel work of its sends (the injector's program, the redirect, the"
echo "veth to B) runs in its context and is counted there."
[ "$REF" = 1 ] && echo "FORWARD rows: the same cube with action FORWARD, the fast path alone (no process on the way):
what the sender and the path manage without the slow path. The sender's CPU also runs the
fast path (in its softirq), perf buffer output and the process's wake-ups included."
echo "The slow-path limiter was lifted (CUBEBUS_SLOWPATH_PPS=0); frames refused by it: $(
	s=0
	for k in "${ROWS[@]}"; do s=$((s + ${R_LIM[$k]:-0})); done
	echo $s
)."
echo "$NCPU CPUs; load average at the start ${LOADAVG// //} (other work on the machine weighs on"
echo "every figure)."
say "done in ${elapsed} s"
