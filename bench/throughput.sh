#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# bench/throughput.sh - end-to-end throughput on veth between namespaces.
#
#   [netns A] eth0 ==veth== VA  <path under test>  VB ==veth== eth0 [netns B]
#    pktgen                   (root netns, or netns M            xdpsink
#    iperf3 -c                 for the kernel's own paths)       iperf3 -s
#
# A sends 64-byte UDP frames with build/bench/pktgen (an XDP program run by
# bpf_prog_test_run_opts in live-frames mode, rewriting every packet; it
# transmits out of A's eth0); B counts and drops them at XDP with
# build/bench/xdpsink, which also reads the machine's busy CPU time over its
# window. Then iperf3 TCP from A to B over the same path. Cases:
#   - the generator alone (its frames dropped at XDP on VA): what the
#     generator itself costs;
#   - the Linux bridge (br_netfilter calls off in its netns) against
#     simplebridge TC and XDP_SKB;
#   - one hand-written program redirecting VA -> VB (bench/redirect.bpf.c,
#     XDP generic and TC) against chains of 1, 4, 8 simpleforwarder cubes;
#     the same program in XDP driver mode as a reference (cubebus refuses
#     XDP_DRV on veth, so no cubebus row compares with it);
#   - kernel ip_forward against the router cube (TC and XDP_SKB), when
#     build/bin/cube-router exists and `cubectl router add` works.
# A private broker (own run dir, state dir, bpffs root), unique names
# ("cbb" + 5 hex digits); everything is removed on any way out (EXIT, INT,
# TERM, HUP).
#
# A run in which the generator's thread had less than GEN_SHARE of its CPU
# (pktgen prints its CPU time: other tasks were scheduled on that CPU) is
# repeated, at most RETRIES times per case and RETRY_BUDGET times in all
# (which bounds the run time); a row none of whose runs was clean is marked
# with * in the table.
#
# Usage: bench/throughput.sh        full run (~5 min on a quiet machine)
#        QUICK=1 bench/throughput.sh (~40 s: 1 short run per case)
#   env: RUNS (runs per case, median), WINDOW (s counted per run), WARMUP (s),
#        IPERF_T (s per iperf3 run), IPERF_RUNS, RETRIES (3; QUICK: 1),
#        RETRY_BUDGET (20; QUICK: 6),
#        GEN_SHARE (0.9), GENCPU (CPU the generator is pinned to; the last),
#        CASES (space-separated keys: gen lb sb-tc sb-xdp rd-xdp rd-drv ch1-xdp
#        ch4-xdp ch8-xdp rd-tc ch1-tc ch4-tc ch8-tc ipfwd rt-tc rt-xdp),
#        THROUGHPUT_LOG (copy the run's log there: every run's raw figures).
# Prints a Markdown table and notes on stdout, progress on stderr.
set -uo pipefail
cd "$(dirname "$0")/.."
top=$PWD
BIN=${CUBEBUS_BENCH_BIN:-$top/build/bin}
BB=$top/build/bench
export PATH="$BIN:$PATH"

QUICK=${QUICK:-0}
if [ "$QUICK" = 1 ]; then
	: "${RUNS:=1}" "${WARMUP:=0.1}" "${WINDOW:=0.5}" "${IPERF_T:=1}" "${IPERF_RUNS:=1}" "${RETRIES:=1}" "${RETRY_BUDGET:=6}"
else
	: "${RUNS:=3}" "${WARMUP:=0.5}" "${WINDOW:=2.5}" "${IPERF_T:=2}" "${IPERF_RUNS:=3}" "${RETRIES:=3}" "${RETRY_BUDGET:=20}"
fi
ALL_CASES="gen lb sb-tc sb-xdp rd-xdp rd-drv ch1-xdp ch4-xdp ch8-xdp rd-tc ch1-tc ch4-tc ch8-tc ipfwd rt-tc rt-xdp"
CASES=${CASES:-$ALL_CASES}
NCPU=$(nproc)
GENCPU=${GENCPU:-$((NCPU - 1))}
GEN_SHARE=${GEN_SHARE:-0.9} # a run counts if the generator had this share of its CPU
PORT=9 # UDP destination port of the generated frames (the sink counts only these)
T_START=${EPOCHREALTIME/./}

say() { echo "throughput: $*" >&2; }
die() {
	say "$*"
	exit 1
}

[ "$(id -u)" -eq 0 ] || die "needs root (netns, BPF)"
for t in ip ethtool jq ss; do
	command -v $t >/dev/null || die "needs $t"
done
for b in "$BB/pktgen" "$BB/xdpsink" "$BB/redirect" "$BIN/cubebusd" "$BIN/cubectl"; do
	[ -x "$b" ] || die "no $b: run make"
done
HAVE_IPERF=1
command -v iperf3 >/dev/null || HAVE_IPERF=0

# ---- names, private broker, cleanup ------------------------------------------

# instance_pids DIR, matches GREP-ARGS
. "$top/tests/tools/instance.sh"

while :; do
	id=cbb$(od -An -N4 -tx1 /dev/urandom | tr -d ' \n' | cut -c1-5)
	ls -d /tmp/"$id".* /sys/fs/bpf/"$id" >/dev/null 2>&1 && continue
	ip netns list 2>/dev/null | matches -q "^$id-" && continue
	ip -o link show 2>/dev/null | matches -q ": $id" && continue
	break
done
tmp=$(mktemp -d "/tmp/$id.XXXXXX")
LOG=$tmp/log
export CUBEBUS_RUN_DIR=$tmp/run CUBEBUS_STATE_DIR=$tmp/state CUBEBUS_BPFFS=/sys/fs/bpf/$id
NSA=$id-a NSB=$id-b NSM=$id-m
VA=${id}a VB=${id}b
SIDE=root # where VA and VB are: root, or $NSM
bpid=

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
	for n in "$NSA" "$NSB" "$NSM"; do
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
	[ -n "${THROUGHPUT_LOG:-}" ] && cp "$LOG" "$THROUGHPUT_LOG" 2>/dev/null
	rm -rf "$tmp"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

# inns NS command...: run in a namespace ("root": here)
inns() {
	local n=$1
	shift
	if [ "$n" = root ]; then "$@"; else ip netns exec "$n" "$@"; fi
}

# nsexec NS: the words that run a command in NS (nothing for root), for
# commands started in the background: a backgrounded shell function would
# be a subshell, and $! its pid, not the command's
nsexec() { [ "$1" = root ] || echo "ip netns exec $1"; }

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
ip netns add "$NSM" || die "cannot create netns $NSM"
ip netns exec "$NSM" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
ip -n "$NSM" link set lo up
MAC_A=$(inns "$NSA" cat /sys/class/net/eth0/address)
MAC_B=$(inns "$NSB" cat /sys/class/net/eth0/address)

# VA and VB into netns M (the kernel's own paths) and back
to_m() {
	ip link set "$VA" netns "$NSM" && ip link set "$VB" netns "$NSM" &&
		ip -n "$NSM" link set "$VA" up && ip -n "$NSM" link set "$VB" up || return 1
	SIDE=$NSM
}
to_root() {
	ip -n "$NSM" link set "$VA" netns $$ && ip -n "$NSM" link set "$VB" netns $$ || return 1
	echo 1 >/proc/sys/net/ipv6/conf/"$VA"/disable_ipv6
	echo 1 >/proc/sys/net/ipv6/conf/"$VB"/disable_ipv6
	ip link set "$VA" up && ip link set "$VB" up || return 1
	SIDE=root
}

# one subnet (bridges, forwarders) or two (routers: A and B behind .254)
addr_l2() {
	ip -n "$NSA" addr flush dev eth0
	ip -n "$NSB" addr flush dev eth0
	ip -n "$NSA" addr add 198.18.0.1/24 dev eth0
	ip -n "$NSB" addr add 198.18.0.2/24 dev eth0
	SRC_IP=198.18.0.1 DST_IP=198.18.0.2
}
addr_l3() {
	ip -n "$NSA" addr flush dev eth0
	ip -n "$NSB" addr flush dev eth0
	ip -n "$NSA" addr add 198.18.1.1/24 dev eth0
	ip -n "$NSB" addr add 198.18.2.1/24 dev eth0
	ip -n "$NSA" route add default via 198.18.1.254
	ip -n "$NSB" route add default via 198.18.2.254
	SRC_IP=198.18.1.1 DST_IP=198.18.2.1
}
flush_neigh() {
	ip -n "$NSA" neigh flush dev eth0 2>/dev/null
	ip -n "$NSB" neigh flush dev eth0 2>/dev/null
}

# The generator's frames reach VA through the veth's ndo_xdp_xmit, which
# needs NAPI on VA: GRO on (or an XDP program on VA). iperf3 runs with the
# veth's default (GRO off).
gro() { inns "$SIDE" ethtool -K "$VA" gro "$1" >/dev/null 2>&1; }

ping_ok() {
	inns "$NSA" ping -c 2 -W 1 -i 0.2 -q "$DST_IP" >/dev/null 2>&1 ||
		inns "$NSA" ping -c 3 -W 1 -i 0.2 -q "$DST_IP" >/dev/null 2>&1
}

# ---- measurements -------------------------------------------------------------

# pps_runs DSTMAC [SINK_NS SINK_DEV]: RUNS runs of the generator against the
# sink. A run in which the generator's thread had less than GEN_SHARE of
# its CPU (other tasks were scheduled there) is repeated, at most RETRIES
# times per case. Sets R_PPS, R_NS (medians; empty when no run counted a
# packet) and R_FLAG=1 when no run kept the generator's CPU to itself (the
# figures are then those of the disturbed runs).
pps_runs() {
	local dmac=$1 sns=${2:-$NSB} sdev=${3:-eth0} sp gp rc line share ns tries=0 good=0
	local pps=() nsp=() bad_pps=() bad_nsp=() gen_t
	gen_t=$(awk -v w="$WARMUP" -v d="$WINDOW" 'BEGIN {print w + d + 5}')
	R_FLAG=0
	while [ $good -lt "$RUNS" ] && [ $tries -lt $((RUNS + RETRIES)) ]; do
		# a try past RUNS repeats a disturbed run: within the run's budget
		if [ $tries -ge "$RUNS" ]; then
			[ "$REPEATED" -ge "$RETRY_BUDGET" ] && break
			REPEATED=$((REPEATED + 1))
		fi
		tries=$((tries + 1))
		: >"$tmp/sink.out"
		$(nsexec "$sns") "$BB/xdpsink" --dev "$sdev" --port $PORT --warmup "$WARMUP" --duration "$WINDOW" --wait 3 \
			>"$tmp/sink.out" 2>>"$LOG" &
		sp=$!
		if ! wait_file "$tmp/sink.out" '^ready' "$sp" 5; then
			wait "$sp" 2>/dev/null
			echo "xdpsink did not start on $sdev" >>"$LOG"
			continue
		fi
		ip netns exec "$NSA" "$BB/pktgen" --dev eth0 --dst-mac "$dmac" --src "$SRC_IP" --dst "$DST_IP" --dport $PORT \
			--size 64 --duration "$gen_t" --cpu "$GENCPU" >"$tmp/gen.out" 2>>"$LOG" &
		gp=$!
		wait "$sp"
		rc=$?
		kill -TERM "$gp" 2>/dev/null
		wait "$gp" 2>/dev/null
		line=$(grep '^packets=' "$tmp/sink.out")
		share=$(kv cpu <"$tmp/gen.out")
		echo "  run $tries: $line | generator: $(cat "$tmp/gen.out")" >>"$LOG"
		[ "$rc" -eq 0 ] || continue
		# CPU time of the generator's CPU (where the whole path runs) per packet
		ns=$(echo "$line" | kv busy | tr ',' '\n' | awk -v g="$GENCPU" -v s="$(echo "$line" | kv seconds)" \
			-v p="$(echo "$line" | kv packets)" 'NR - 1 == g {printf "%.1f", $1 * s * 1e9 / p}')
		if awk -v c="${share:-0}" -v m="$GEN_SHARE" 'BEGIN {exit !(c >= m)}'; then
			good=$((good + 1))
			pps+=("$(echo "$line" | kv pps)")
			nsp+=("$ns")
		else
			echo "  (the generator had ${share:-?} of its CPU: other tasks ran there; not counted)" >>"$LOG"
			DISTURBED=$((DISTURBED + 1))
			bad_pps+=("$(echo "$line" | kv pps)")
			bad_nsp+=("$ns")
		fi
	done
	if [ $good -eq 0 ] && [ ${#bad_pps[@]} -gt 0 ]; then
		pps=("${bad_pps[@]}") nsp=("${bad_nsp[@]}") R_FLAG=1
	fi
	R_PPS=$(median "${pps[@]}")
	R_NS=$(median "${nsp[@]}")
}

# iperf_once: one iperf3 TCP run A -> B, prints bits/s (nothing on failure)
iperf_once() {
	local sp i v
	ip netns exec "$NSB" iperf3 -s -1 -B "$DST_IP" >/dev/null 2>>"$LOG" &
	sp=$!
	for ((i = 0; i < 100; i++)); do
		inns "$NSB" ss -ltn 2>/dev/null | matches -q ':5201 ' && break
		sleep 0.02
	done
	v=$(inns "$NSA" timeout $((${IPERF_T%.*} + 8)) iperf3 -c "$DST_IP" -t "$IPERF_T" -J 2>>"$LOG" |
		jq -r '.end.sum_received.bits_per_second // empty' 2>/dev/null)
	kill "$sp" 2>/dev/null
	wait "$sp" 2>/dev/null
	echo "$v"
}

# iperf_runs: sets R_TCP (Gbit/s, median of IPERF_RUNS); when it is under
# 0.5 Gbit/s, also R_TCP2: the same with TSO/GSO off on A's and B's eth0
iperf_runs() {
	local i n v vals=()
	R_TCP= R_TCP2=
	[ "$HAVE_IPERF" = 1 ] || return 0
	for ((i = 1; i <= IPERF_RUNS; i++)); do
		v=$(iperf_once)
		echo "  iperf3 run $i: ${v:-failed} bit/s" >>"$LOG"
		[ -n "$v" ] && vals+=("$v")
	done
	R_TCP=$(median "${vals[@]}")
	R_TCP=${R_TCP:+$(awk -v b="$R_TCP" 'BEGIN {printf "%.2f", b / 1e9}')}
	if [ -z "$R_TCP" ] || awk -v g="$R_TCP" 'BEGIN {exit !(g < 0.5)}'; then
		for n in "$NSA" "$NSB"; do inns "$n" ethtool -K eth0 tso off gso off >/dev/null 2>&1; done
		vals=()
		for ((i = 1; i <= IPERF_RUNS; i++)); do
			v=$(iperf_once)
			echo "  iperf3 run $i, TSO/GSO off: ${v:-failed} bit/s" >>"$LOG"
			[ -n "$v" ] && vals+=("$v")
		done
		for n in "$NSA" "$NSB"; do inns "$n" ethtool -K eth0 tso on gso on >/dev/null 2>&1; done
		R_TCP2=$(median "${vals[@]}")
		R_TCP2=${R_TCP2:+$(awk -v b="$R_TCP2" 'BEGIN {printf "%.2f", b / 1e9}')}
	fi
}

declare -A LABEL BASE PPS NSP FLAG TCP TCP2 NOTE
ROWS=() REPEATED=0 DISTURBED=0

# measure KEY LABEL BASELINE_KEY DSTMAC [SINK_NS SINK_DEV [noiperf]]
measure() {
	local key=$1 t0=${EPOCHREALTIME/./}
	LABEL[$key]=$2 BASE[$key]=$3
	ROWS+=("$key")
	echo "== $key: $2" >>"$LOG"
	if [ -z "${5:-}" ] && ! ping_ok; then
		NOTE[$key]="no ping from A to B across the path"
		say "$2: no ping across the path, not measured"
		return 1
	fi
	gro on
	pps_runs "$4" "${5:-}" "${6:-}"
	gro off
	PPS[$key]=$R_PPS NSP[$key]=$R_NS FLAG[$key]=$R_FLAG
	if [ -z "${7:-}" ]; then
		iperf_runs
		TCP[$key]=$R_TCP TCP2[$key]=$R_TCP2
	fi
	[ -z "$R_PPS" ] && NOTE[$key]="no packet reached the sink"
	say "$(printf '%-40s %8s pps %7s ns/packet  TCP %s Gbit/s%s  (%d s)' "$2" "${R_PPS:-0}" "${R_NS:--}" \
		"${TCP[$key]:--}" "${TCP2[$key]:+ (${TCP2[$key]} with TSO/GSO off)}" \
		$(((${EPOCHREALTIME/./} - t0) / 1000000)))"
}

# failed KEY LABEL BASE WHY: a case that could not be set up
failed() {
	LABEL[$1]=$2 BASE[$1]=$3 NOTE[$1]=$4
	ROWS+=("$1")
	say "$2: $4"
	echo "== $1: $2: $4" >>"$LOG"
}

want() { [[ " $CASES " == *" $1 "* ]]; }

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

ROUTER_OK=0 ROUTER_WHY=
if ! [ -x "$BIN/cube-router" ]; then
	ROUTER_WHY="no build/bin/cube-router"
elif cubectl_q router add rprobe; then
	ROUTER_OK=1
	cubectl_q del rprobe
else
	ROUTER_WHY="\`cubectl router add\` failed: $CERR"
fi

say "id $id; $RUNS run(s) x ${WINDOW} s per case (warm-up ${WARMUP} s), iperf3 ${IPERF_RUNS} x ${IPERF_T} s; generator on CPU $GENCPU of $NCPU"

# ---- the cases ----------------------------------------------------------------

addr_l2
if want gen; then
	# the generator's own cost: its frames dropped by XDP (native) on VA
	measure gen "generator alone (XDP drop on VA)" "" "$MAC_B" root "$VA" noiperf
fi

if want lb; then
	if to_m; then
		for k in iptables ip6tables arptables; do
			inns "$NSM" sysctl -qw net.bridge.bridge-nf-call-$k=0 2>/dev/null
		done
		ip -n "$NSM" link add br0 type bridge &&
			ip -n "$NSM" link set "$VA" master br0 && ip -n "$NSM" link set "$VB" master br0 &&
			ip -n "$NSM" link set br0 up
		flush_neigh
		measure lb "Linux bridge" "" "$MAC_B"
		ip -n "$NSM" link del br0
		to_root || die "cannot move $VA, $VB back to the root netns"
	else
		failed lb "Linux bridge" "" "cannot move the veths to netns $NSM"
		to_root 2>/dev/null
	fi
fi

for T in TC XDP_SKB; do
	key=sb-tc
	[ $T = XDP_SKB ] && key=sb-xdp
	want $key || continue
	body="{\"type\":\"$T\",\"ports\":[{\"name\":\"p1\",\"peer\":\"$VA\"},{\"name\":\"p2\",\"peer\":\"$VB\"}]}"
	flush_neigh
	if echo "$body" | cubectl_q simplebridge add sb; then
		measure $key "simplebridge $T" lb "$MAC_B"
		cubectl_q del sb
	else
		failed $key "simplebridge $T" lb "simplebridge add failed: $CERR"
	fi
done

# chain_up N TYPE: N simpleforwarders f1..fN, VA - f1 - ... - fN - VB
chain_up() {
	local n=$1 T=$2 i p1 p2
	for ((i = 1; i <= n; i++)); do
		p1='{"name":"p1"}' p2='{"name":"p2"}'
		[ $i = 1 ] && p1="{\"name\":\"p1\",\"peer\":\"$VA\"}"
		[ $i = "$n" ] && p2="{\"name\":\"p2\",\"peer\":\"$VB\"}"
		echo "{\"type\":\"$T\",\"ports\":[$p1,$p2],\"actions\":[
			{\"inport\":\"p1\",\"action\":\"FORWARD\",\"outport\":\"p2\"},
			{\"inport\":\"p2\",\"action\":\"FORWARD\",\"outport\":\"p1\"}]}" |
			cubectl_q simpleforwarder add f$i || return 1
	done
	for ((i = 1; i < n; i++)); do
		cubectl_q connect f$i:p2 f$((i + 1)):p1 || return 1
	done
}
chain_down() {
	local i
	for ((i = 1; i <= $1; i++)); do cubectl_q del f$i; done
	return 0
}

# redirect_up MODE: bench/redirect VA -> VB and VB -> VA; redirect_down
redirect_up() {
	"$BB/redirect" --in "$VA" --out "$VB" --mode "$1" >"$tmp/rd1" 2>>"$LOG" &
	R1=$!
	"$BB/redirect" --in "$VB" --out "$VA" --mode "$1" >"$tmp/rd2" 2>>"$LOG" &
	R2=$!
	wait_file "$tmp/rd1" '^ready' $R1 5 && wait_file "$tmp/rd2" '^ready' $R2 5
}
redirect_down() {
	kill -TERM $R1 $R2 2>/dev/null
	wait $R1 $R2 2>/dev/null
}

for T in XDP_SKB TC; do
	if [ $T = XDP_SKB ]; then hook=xdp mode=xdpgeneric rlabel="one XDP_REDIRECT program (generic)"; else
		hook=tc mode=tc rlabel="one TC redirect program"
	fi
	if want rd-$hook; then
		flush_neigh
		if redirect_up $mode; then
			measure rd-$hook "$rlabel" "" "$MAC_B"
		else
			failed rd-$hook "$rlabel" "" "cannot attach bench/redirect ($mode)"
		fi
		redirect_down
	fi
	if [ $hook = xdp ] && want rd-drv; then
		# A reference that cubebus cannot be compared with on veth (it refuses
		# XDP_DRV there): the same program in driver mode. Frames stay
		# xdp_frames from the generator to the sink; a veth takes frames
		# redirected to it only if its peer runs NAPI: GRO on the hosts'
		# eth0 (for ping; the sink's XDP program does it for B).
		flush_neigh
		for h in "$NSA" "$NSB"; do inns "$h" ethtool -K eth0 gro on >/dev/null 2>&1; done
		if redirect_up xdpdrv; then
			# pps only: TCP would need checksum offload off too (a frame
			# redirected at native XDP loses CHECKSUM_PARTIAL)
			measure rd-drv "one XDP_REDIRECT program (driver mode)" "" "$MAC_B" "" "" noiperf
		else
			failed rd-drv "one XDP_REDIRECT program (driver mode)" "" "cannot attach bench/redirect (xdpdrv)"
		fi
		redirect_down
		for h in "$NSA" "$NSB"; do inns "$h" ethtool -K eth0 gro off >/dev/null 2>&1; done
	fi
	for n in 1 4 8; do
		want ch$n-$hook || continue
		flush_neigh
		if chain_up $n $T; then
			measure ch$n-$hook "$n simpleforwarder$([ $n -gt 1 ] && echo s) $T" rd-$hook "$MAC_B"
		else
			failed ch$n-$hook "$n simpleforwarder$([ $n -gt 1 ] && echo s) $T" rd-$hook "chain setup failed: $CERR"
		fi
		chain_down $n
	done
done

if want ipfwd || want rt-tc || want rt-xdp; then
	addr_l3
	if want ipfwd; then
		if to_m; then
			inns "$NSM" sysctl -qw net.ipv4.ip_forward=1
			ip -n "$NSM" addr add 198.18.1.254/24 dev "$VA"
			ip -n "$NSM" addr add 198.18.2.254/24 dev "$VB"
			flush_neigh
			measure ipfwd "Linux ip_forward" "" "$(inns "$NSM" cat /sys/class/net/"$VA"/address)"
			to_root || die "cannot move $VA, $VB back to the root netns"
		else
			failed ipfwd "Linux ip_forward" "" "cannot move the veths to netns $NSM"
			to_root 2>/dev/null
		fi
	fi
	for T in TC XDP_SKB; do
		key=rt-tc
		[ $T = XDP_SKB ] && key=rt-xdp
		want $key || continue
		if [ "$ROUTER_OK" != 1 ]; then
			failed $key "router $T" ipfwd "skipped: $ROUTER_WHY"
			continue
		fi
		flush_neigh
		if cubectl_q router add r1 type=$T &&
			cubectl_q r1 ports add p1 peer="$VA" ip=198.18.1.254/24 &&
			cubectl_q r1 ports add p2 peer="$VB" ip=198.18.2.254/24; then
			rmac=$(cubectl r1 ports show -json 2>>"$LOG" | jq -r '.[] | select(.name == "p1") | .mac')
			if [ -n "$rmac" ] && [ "$rmac" != null ]; then
				measure $key "router $T" ipfwd "$rmac"
			else
				failed $key "router $T" ipfwd "no MAC for r1:p1 in \`cubectl r1 ports show\`"
			fi
		else
			failed $key "router $T" ipfwd "router setup failed: $CERR"
		fi
		cubectl_q del r1
	done
fi

# ---- the table ----------------------------------------------------------------

elapsed=$(((${EPOCHREALTIME/./} - T_START) / 1000000))
FLAGGED=0
echo "| case | Mpps | ratio vs baseline | CPU ns/packet (net of generator) | iperf3 Gbit/s |"
echo "|---|---:|---|---:|---:|"
for k in "${ROWS[@]}"; do
	b=${BASE[$k]}
	p=${PPS[$k]:-}
	if [ -n "${NOTE[$k]:-}" ] && [ -z "$p" ]; then
		echo "| ${LABEL[$k]} | — | ${NOTE[$k]} | — | — |"
		continue
	fi
	if [ "$k" = gen ]; then
		ratio="— (the generator's own cost)"
	elif [ "$k" = rd-drv ]; then
		ratio="— (reference: native XDP, refused on veth by cubebus)"
	elif [ -z "$b" ]; then
		ratio="1 (baseline)"
	elif [ -n "${PPS[$b]:-}" ]; then
		ratio="$(awk -v a="$p" -v c="${PPS[$b]}" 'BEGIN {printf "%.2f", a / c}') of ${LABEL[$b]}"
	else
		ratio="— (no ${LABEL[$b]:-baseline})"
	fi
	tcp=${TCP[$k]:-—}
	[ "$k" = gen ] && tcp="—"
	[ -n "${TCP2[$k]:-}" ] && tcp="$tcp (${TCP2[$k]} with TSO/GSO off)"
	cpu=$(awk -v n="${NSP[$k]:-0}" 'BEGIN {printf "%.0f", n}')
	[ "$k" != gen ] && [ -n "${NSP[gen]:-}" ] &&
		cpu="$cpu ($(awk -v n="${NSP[$k]:-0}" -v g="${NSP[gen]}" 'BEGIN {printf "%.0f", n - g}'))"
	mark=
	if [ "${FLAG[$k]:-0}" = 1 ]; then
		mark=" *"
		FLAGGED=1
	fi
	printf '| %s | %.2f%s | %s | %s | %s |\n' "${LABEL[$k]}" "$(awk -v p="$p" 'BEGIN {print p / 1e6}')" "$mark" \
		"$ratio" "$cpu" "$tcp"
done
echo
echo "The generator and the system under test share the machine's $NCPU CPUs. pktgen is pinned to"
echo "CPU $GENCPU, and the whole path runs there too: the veth transmit schedules the receiving"
echo "side's NAPI on the sending CPU, so the generator, every forwarding step and the sink run"
echo "in its softirq, one after the other. That CPU is always 100 % busy: CPU ns/packet is its"
echo "busy time (/proc/stat) over the window divided by the packets the sink counted, about"
echo "1e9 / pps; it includes the generator (see its own row). In parentheses, the same minus the"
echo "generator's own figure: what the path under test costs per packet."
echo "The other CPU does no forwarding (0-2 % busy in runs when nothing else ran on the machine)."
echo "A run in which the generator's thread had less than $(awk -v m="$GEN_SHARE" 'BEGIN {print m * 100}') % of its CPU (other tasks were"
echo "scheduled there) is repeated, up to $RETRIES time(s) per case and $RETRY_BUDGET in all: here $DISTURBED"
echo "disturbed run(s), $REPEATED repeat(s)."
if [ "$FLAGGED" = 1 ]; then
	echo "\\* No run of this row kept the generator's CPU to itself (other work on the machine):"
	echo "its rate is lower, and its ns/packet higher, than on a quiet machine."
fi
echo "Median of $RUNS run(s) of ${WINDOW} s after ${WARMUP} s of warm-up; 64-byte frames (60 + FCS),"
echo "UDP, 64 flows; iperf3: one TCP stream A -> B, median of $IPERF_RUNS run(s) of ${IPERF_T} s."
[ "$HAVE_IPERF" = 1 ] || echo "iperf3 is not installed: no TCP figures."
for k in "${ROWS[@]}"; do
	[ -n "${TCP2[$k]:-}" ] || continue
	echo "TCP through generic XDP (one XDP_REDIRECT program, cubebus XDP_SKB): the kernel's generic"
	echo "XDP redirect drops a packet longer than the target's MTU (xdp:xdp_redirect_err, -EMSGSIZE),"
	echo "and with the veth's default offloads (TSO, GSO) TCP hands it 64 KB packets: the connection"
	echo "stalls. In parentheses: the same with TSO and GSO turned off on both hosts."
	break
done
echo "The Linux bridge (bridge-nf-call-* = 0 in its netns) and ip_forward run in a namespace of"
echo "their own, on the same veths moved there; cubebus and the hand-written programs use them in"
echo "the root namespace."
[ "$ROUTER_OK" = 1 ] || echo "Router rows skipped: $ROUTER_WHY."
say "done in ${elapsed} s"
