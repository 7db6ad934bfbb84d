#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# bench/slowpath.sh - the slow-path round trip: how many packets a second a
# cube's process takes from its fast path and answers with a packet of its
# own (packet-in -> packet-out), and what it costs the process.
#
#   [netns A] eth0 ==veth== VA p1  router r1  p2 VB ==veth== eth0 [netns B]
#   slowpath_send ---- UDP, TTL 1 ---->  fast path: TTL exceeded
#                                        -> perf buffer -> process: builds an
#   A's stack counts <- ICMP time exceeded <- packet-out (injector) on p1
#
# The route is the router's ICMP time-exceeded path
# (cube-services/router/router.bpf.c, rt_rx_ip4; router.c, rt_icmp4_error):
# A sends 64-byte UDP frames (60 + FCS) with IPv4 TTL 1 to B's address
# through the router; its fast path hands every one to its process (reason
# icmp-error), which builds an ICMP time exceeded (88-byte frame: the
# offending datagram quoted whole) and sends it out of the in-port, back to
# A. A's kernel counts the errors it receives (/proc/net/snmp of its netns,
# Icmp InTimeExcds) and drops them: no socket of A wants them, and it
# answers nothing (errors are never answered; ARP is static both ways, IPv6
# is off), so the script also checks that nothing else arrived at A.
# The sender is build/bench/slowpath_send: one sendmmsg() per 50 us worth of
# frames on a fixed schedule; not pktgen, whose bursts 25 ms apart would
# measure the perf buffer's size. For each hook (TC, XDP_SKB) and offered
# load: the rate of errors delivered at A, the loss and where it happened,
# and the CPU time of the cube process (utime + stime of /proc/PID/stat)
# per packet it handled.
#
# The slow-path limits are lifted: the framework's (CUBEBUS_SLOWPATH_PPS=0,
# given to the broker and inherited by the cube processes it spawns: the
# script checks the process's environment) and the router's own bucket per
# reason (slowpath-limit rate-limit=1000000 burst=100000, its maximum); the
# script counts what either refused (0 expected).
# A private broker (own run dir, state dir, bpffs root), unique names ("cbb" +
# 5 hex digits); everything is removed on any way out (EXIT, INT, TERM, HUP).
#
# Usage: bench/slowpath.sh          full run (~1.5 min: 3 runs x 2 s per point)
#        QUICK=1 bench/slowpath.sh  (~20 s: 1 run x 1 s per point)
#   env: LOADS (offered pps, space-separated; default "10000 50000 100000 200000"),
#        HOOKS (default "TC XDP_SKB"), RUNS (runs per point, median), WINDOW (s counted),
#        WARMUP (s), SENDCPU (CPU the sender is pinned to; default the last),
#        REF (1: also the highest load with TTL 64, forwarded to B by the fast path
#        alone: what the sender and the path manage without the slow path; 0: not),
#        SLOWPATH_LOG (copy the run's log there: every run's raw figures).
# Prints a Markdown table and notes on stdout, progress on stderr.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
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
IP_A=198.18.0.1 IP_P1=198.18.0.254 IP_B=198.18.1.2 IP_P2=198.18.1.254

say() { echo "slowpath: $*" >&2; }
die() {
	say "$*"
	exit 1
}

[ "$(id -u)" -eq 0 ] || die "needs root (netns, BPF)"
for t in ip jq awk; do
	command -v $t >/dev/null || die "needs $t"
done
for b in "$BB/slowpath_send" "$BB/xdpsink" "$BIN/cubebusd" "$BIN/cubectl" "$BIN/cube-router"; do
	[ -x "$b" ] || die "no $b: run make"
done

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
export CUBEBUS_SLOWPATH_PPS=0
NSA=$id-a NSB=$id-b
VA=${id}a VB=${id}b
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
ip -n "$NSA" addr add $IP_A/24 dev eth0
ip -n "$NSB" addr add $IP_B/24 dev eth0
MAC_A=$(ip netns exec "$NSA" cat /sys/class/net/eth0/address)
MAC_B=$(ip netns exec "$NSB" cat /sys/class/net/eth0/address)
# a process in A: its /proc/PID/net is A's (snmp, dev), read without a fork
ip netns exec "$NSA" sleep 100000 &
apid=$!

# a_counters: "InTimeExcds rx_packets-of-eth0 now_us" of netns A
a_counters() {
	local line k v hdr=() i te=0 rx=0 name
	while read -r line; do
		case $line in
		Icmp:\ In*) read -ra hdr <<<"$line" ;;
		Icmp:\ [0-9]*)
			read -ra v <<<"$line"
			for ((i = 1; i < ${#hdr[@]}; i++)); do
				[ "${hdr[i]}" = InTimeExcds ] && te=${v[i]}
			done
			;;
		esac
	done </proc/"$apid"/net/snmp
	# "eth0: rx_bytes rx_packets ..." (no space after the colon once the bytes are wide)
	while read -r line; do
		name=${line%%:*}
		[ "$name" = eth0 ] && read -r _ rx _ <<<"${line#*:}"
	done </proc/"$apid"/net/dev
	k=${EPOCHREALTIME/./}
	echo "$te $rx $k"
}

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
	timeout 20 cubectl "$@" >>"$LOG" 2>"$tmp/cerr" && return 0
	CERR=$(head -n 1 "$tmp/cerr")
	cat "$tmp/cerr" >>"$LOG"
	return 1
}

say "id $id; loads ${LOADS// /, } pps; $RUNS run(s) x ${WINDOW} s per point (warm-up ${WARMUP} s);" \
	"sender on CPU $SENDCPU of $NCPU; load average $LOADAVG"

# ---- measurements -------------------------------------------------------------

# counters PID: "to_channel lost limited icmp_sent cpu_ticks VA_tx VB_tx A_icmp A_rx now_us"
# of the cube r1: to_channel, what its fast path put into the perf buffer
# (every reason but "lost"); lost, what the buffer refused; limited, what the
# framework's and the router's buckets refused; icmp_sent, the errors the
# process sent (packet-out accepted)
counters() {
	local j
	j=$(timeout 10 cubectl r1 show -json 2>>"$LOG") || return 1
	printf '%s %s %s %s %s\n' \
		"$(echo "$j" | jq -r '[([.slowpath[]? | select(.reason != "lost") | .packets] | add // 0),
			([.slowpath[]? | select(.reason == "lost") | .packets] | add // 0),
			(([.slowpath[]? | ."rate-limited"] | add // 0) +
			 ([."slowpath-limit".reason[]? | ."limited-packets"] | add // 0)),
			(.statistics."icmp-error-packets" // 0)] | map(tostring) | join(" ")')" \
		"$(awk '{print $14 + $15}' /proc/"$1"/stat)" \
		"$(cat /sys/class/net/"$VA"/statistics/tx_packets)" \
		"$(cat /sys/class/net/"$VB"/statistics/tx_packets)" \
		"$(a_counters)"
}

declare -A R_OFF R_DEL R_LOSS R_CHAN R_OUT R_CPU R_NSP R_LIM R_OTHER
ROWS=()

# point HOOK LOAD PID [REF]: RUNS runs at LOAD pps; sets the R_* of "HOOK LOAD [REF]".
# Without REF: TTL 1, the errors counted at A during the window. With REF:
# TTL 64, forwarded to B, counted there by xdpsink.
point() {
	local T=$1 load=$2 pid=$3 ref=${4:-} key="$1 $2${4:+ $4}" i sp gp rc line gen c ttl=1 dur pps
	local off=() del=() loss=() chan=() out=() cpu=() nsp=() lim=0 other=0 got
	local s_ch s_lost s_lim s_icmp s_cpu s_va s_vb s_ai s_ar s_t e_ch e_lost e_lim e_icmp e_cpu e_va e_vb e_ai e_ar e_t
	local w0_i w0_t w1_i w1_t sent
	[ -n "$ref" ] && ttl=64
	ROWS+=("$key")
	dur=$(awk -v w="$WARMUP" -v d="$WINDOW" 'BEGIN {print w + d + 0.3}')
	for ((i = 1; i <= RUNS; i++)); do
		sp=
		if [ -n "$ref" ]; then
			: >"$tmp/sink.out"
			ip netns exec "$NSB" "$BB/xdpsink" --dev eth0 --port $PORT --warmup "$WARMUP" \
				--duration "$WINDOW" --wait 3 >"$tmp/sink.out" 2>>"$LOG" &
			sp=$!
			if ! wait_file "$tmp/sink.out" '^ready' "$sp" 5; then
				wait "$sp" 2>/dev/null
				echo "xdpsink did not start" >>"$LOG"
				continue
			fi
		fi
		c=$(counters "$pid") || {
			echo "cannot read the cube's counters" >>"$LOG"
			[ -n "$sp" ] && { kill "$sp"; wait "$sp"; }
			continue
		}
		read -r s_ch s_lost s_lim s_icmp s_cpu s_va s_vb s_ai s_ar s_t <<<"$c"
		ip netns exec "$NSA" "$BB/slowpath_send" --dev eth0 --dst-mac "$MAC_P1" --src $IP_A \
			--dst $IP_B --dport $PORT --ttl $ttl --pps "$load" --cpu "$SENDCPU" --duration "$dur" \
			>"$tmp/gen.out" 2>>"$LOG" &
		gp=$!
		rc=0
		if [ -n "$ref" ]; then
			wait "$sp"
			rc=$?
		else
			sleep "$WARMUP"
			read -r w0_i _ w0_t <<<"$(a_counters)"
			sleep "$WINDOW"
			read -r w1_i _ w1_t <<<"$(a_counters)"
		fi
		wait "$gp" 2>/dev/null
		sleep 0.3 # what is still in the perf buffer or on its way out
		c=$(counters "$pid") || { echo "cannot read the cube's counters" >>"$LOG"; continue; }
		read -r e_ch e_lost e_lim e_icmp e_cpu e_va e_vb e_ai e_ar e_t <<<"$c"
		gen=$(cat "$tmp/gen.out")
		if [ -n "$ref" ]; then
			line=$(grep '^packets=' "$tmp/sink.out")
			pps=$(echo "$line" | kv pps)
			got=$((e_vb - s_vb)) # out of VB, taken by B
		else
			line="window: $((w1_i - w0_i)) errors in $(((w1_t - w0_t) / 1000)) ms"
			pps=$(awk -v n=$((w1_i - w0_i)) -v t=$((w1_t - w0_t)) 'BEGIN {if (t > 0) printf "%.0f", n * 1e6 / t}')
			got=$((e_ai - s_ai)) # time exceeded received by A
		fi
		echo "  $T $load ttl $ttl run $i: delivered: $line | sender: $gen | into the channel $((e_ch - s_ch))," \
			"lost in the channel $((e_lost - s_lost)), rate-limited $((e_lim - s_lim))," \
			"errors sent by the process $((e_icmp - s_icmp)), out of VA $((e_va - s_va)), out of VB $((e_vb - s_vb))," \
			"A: time exceeded $((e_ai - s_ai)), frames $((e_ar - s_ar)) |" \
			"cube CPU $((e_cpu - s_cpu)) ticks in $(((e_t - s_t) / 1000)) ms" >>"$LOG"
		[ "$rc" -eq 0 ] || continue
		sent=$(echo "$gen" | kv sent)
		[ -n "$sent" ] && [ "$sent" -gt 0 ] && [ -n "$pps" ] || continue
		off+=("$(echo "$gen" | kv pps)")
		del+=("$pps")
		# over the whole run: sent, into the channel, out of VA, delivered
		loss+=("$(awk -v v=$got -v s="$sent" 'BEGIN {printf "%.4f", v < s ? 1 - v / s : 0}')")
		chan+=("$(awk -v p=$((e_ch - s_ch)) -v s="$sent" 'BEGIN {printf "%.4f", p < s ? 1 - p / s : 0}')")
		out+=("$(awk -v p=$((e_ch - s_ch)) -v v=$((e_va - s_va)) -v s="$sent" \
			'BEGIN {printf "%.4f", (p > v ? p - v : 0) / s}')")
		cpu+=("$(awk -v c=$((e_cpu - s_cpu)) -v hz="$HZ" -v t=$((e_t - s_t)) 'BEGIN {printf "%.3f", c / hz / (t / 1e6)}')")
		nsp+=("$(awk -v c=$((e_cpu - s_cpu)) -v hz="$HZ" -v p=$((e_ch - s_ch)) \
			'BEGIN {if (p > 0) printf "%.0f", c / hz * 1e9 / p}')")
		lim=$((lim + e_lim - s_lim))
		[ -z "$ref" ] && other=$((other + (e_ar - s_ar) - (e_ai - s_ai)))
	done
	R_OFF[$key]=$(median "${off[@]}") R_DEL[$key]=$(median "${del[@]}") R_LOSS[$key]=$(median "${loss[@]}")
	R_CHAN[$key]=$(median "${chan[@]}") R_OUT[$key]=$(median "${out[@]}") R_CPU[$key]=$(median "${cpu[@]}")
	R_NSP[$key]=$(median "${nsp[@]}") R_LIM[$key]=$lim R_OTHER[$key]=$other
	say "$(printf '%-8s %7s pps offered, TTL %2s: %7s sent, %7s delivered, loss %s, cube CPU %s' "$T" "$load" \
		"$ttl" "${R_OFF[$key]:--}" "${R_DEL[$key]:--}" "${R_LOSS[$key]:--}" "${R_CPU[$key]:--}")"
}

# setup_router HOOK: r1 between A and B, static neighbours both ways, limits
# lifted; sets MAC_P1, MAC_P2; on failure the reason in NOTE[HOOK]
setup_router() {
	local T=$1
	cubectl_q router add r1 type="$T" || { NOTE[$T]="router add failed: $CERR"; return 1; }
	cubectl_q r1 ports add p1 peer="$VA" ip=$IP_P1/24 &&
		cubectl_q r1 ports add p2 peer="$VB" ip=$IP_P2/24 &&
		cubectl_q r1 arp-table add $IP_A mac="$MAC_A" interface=p1 &&
		cubectl_q r1 arp-table add $IP_B mac="$MAC_B" interface=p2 &&
		cubectl_q r1 slowpath-limit set rate-limit=1000000 burst=100000 ||
		{ NOTE[$T]="router configuration failed: $CERR"; return 1; }
	MAC_P1=$(cubectl r1 ports show -json 2>>"$LOG" | jq -r '.[] | select(.name == "p1") | .mac')
	MAC_P2=$(cubectl r1 ports show -json 2>>"$LOG" | jq -r '.[] | select(.name == "p2") | .mac')
	[ -n "$MAC_P1" ] && [ -n "$MAC_P2" ] || { NOTE[$T]="no MAC for the router's ports"; return 1; }
	ip -n "$NSA" neigh replace $IP_P1 lladdr "$MAC_P1" dev eth0 nud permanent &&
		ip -n "$NSB" neigh replace $IP_P2 lladdr "$MAC_P2" dev eth0 nud permanent ||
		{ NOTE[$T]="cannot add the static neighbours in the namespaces"; return 1; }
}

declare -A NOTE
for T in $HOOKS; do
	if ! setup_router "$T"; then
		say "$T: ${NOTE[$T]}"
		cubectl_q del r1
		continue
	fi
	pid=$(cubectl cubes -json 2>>"$LOG" | jq -r '.[] | select(.name == "r1") | .pid')
	if ! [ -r "/proc/$pid/stat" ]; then
		NOTE[$T]="no process for the cube"
		cubectl_q del r1
		continue
	fi
	if ! tr '\0' '\n' </proc/"$pid"/environ | matches -qx 'CUBEBUS_SLOWPATH_PPS=0'; then
		NOTE[$T]="the cube process does not have CUBEBUS_SLOWPATH_PPS=0 in its environment"
		say "$T: ${NOTE[$T]}"
	fi
	for load in $LOADS; do
		point "$T" "$load" "$pid"
	done
	if [ "$REF" = 1 ]; then
		max=$(printf '%s\n' $LOADS | sort -g | tail -n 1)
		point "$T" "$max" "$pid" REF
	fi
	cubectl r1 show -json >>"$LOG" 2>&1
	cubectl_q del r1
done

# ---- the table ----------------------------------------------------------------

pct() { awk -v v="$1" 'BEGIN {if (v == "") print "—"; else printf "%.1f %%", v * 100}'; }
elapsed=$(((${EPOCHREALTIME/./} - T_START) / 1000000))
echo "| hook | offered pps | sent pps | delivered pps | loss | lost before the process | lost after it | cube process CPU | cube CPU µs/packet |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|"
for k in "${ROWS[@]}"; do
	read -r T load label <<<"$k"
	[ -n "$label" ] && T="$T, TTL 64 (fast path only)"
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
lim=0 other=0
for k in "${ROWS[@]}"; do
	lim=$((lim + ${R_LIM[$k]:-0}))
	other=$((other + ${R_OTHER[$k]:-0}))
done
echo
echo "A router cube between two namespaces; A sends UDP frames with TTL 1 to B's address through"
echo "it. Its fast path hands every one to its process through the perf buffer (TTL exceeded),"
echo "and the process sends an ICMP time exceeded back out of the in-port to A (packet-out"
echo "through the instance's injector). 64-byte UDP frames (60 + FCS), 88-byte errors, paced"
echo "in batches of 50 µs worth (build/bench/slowpath_send, pinned to CPU $SENDCPU): offered is the"
echo "rate asked for, sent what the sender managed. Delivered: the rate of time exceeded"
echo "messages A's kernel received (Icmp InTimeExcds of its netns) in ${WINDOW} s after ${WARMUP} s of"
echo "warm-up, median of $RUNS run(s). Loss, over the whole run: 1 - errors received by A / frames"
echo "sent; lost before the process: sent but not put into the perf buffer (the buffer was full:"
echo "the cube's \"lost\" counter, in the log); lost after it: put into the buffer but no error"
echo "out of the veth to A (VA's tx_packets). Cube process CPU: utime + stime of /proc/PID/stat"
echo "over the run (all its threads; tick-sampled, ${HZ} ticks/s), as a share of one CPU, and per"
echo "packet its fast path handed it; the kernel work of its sends (the injector's program, the"
echo "redirect, the veth to A and A's receive of the error) runs in its context and is counted there."
[ "$REF" = 1 ] && echo "TTL 64 rows: the same frames with TTL 64, forwarded to B by the router's fast path alone
(no process on the way), counted at XDP on B (xdpsink): what the sender and the path manage
without the slow path. The sender's CPU also runs the fast path (in its softirq), perf
buffer output and the process's wake-ups included."
echo "The slow-path limits were lifted (CUBEBUS_SLOWPATH_PPS=0; the router's slowpath-limit"
echo "rate-limit=1000000 burst=100000); packets refused by either: $lim. Frames other than the"
echo "errors that arrived at A: $other."
echo "$NCPU CPUs; load average at the start ${LOADAVG// //}, at the end $(cut -d' ' -f1-3 /proc/loadavg | tr ' ' /)"
echo "(the run itself keeps the sender's CPU and most of another busy; other work on the machine"
echo "weighs on every figure)."
say "done in ${elapsed} s"
