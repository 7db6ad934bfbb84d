#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# bench/firewall.sh - issue 11's figures for the cubebus firewall, in one run:
#   1. packets per second through a filtering middle with 10, 1 000 and
#      10 000 rules: iptables (FORWARD), nftables with one rule per line,
#      nftables in its best form (one verdict-map lookup on a concatenation
#      with intervals), the cubebus firewall (TC and XDP_SKB), with the
#      traffic matched by the last rule and by the middle one;
#   2. rule insertion at 10 and 10 000 rules: one insert over the bus
#      (median, p99), rules per second single and batched;
#   3. specialise-and-swap: a change that needs new code, in ms, and the
#      packets the sequence-numbered probe lost during it (must be 0).
#
# One path per leg, all alike, each with its own middle namespace in which
# the kernel forwards (ip_forward) and the leg's filter is loaded once per
# rule set; only one path carries traffic at a time:
#
#   [netns G]                [netns M-leg]                      [netns S]
#    pktgen  gK ==veth== va  ip_forward + filter  vb ==veth== sK  xdpsink
#
# G sends 64-byte UDP frames with build/bench/pktgen (198.18.1.1 ->
# 198.18.2.1, port 9, 64 flows) to va's MAC; the middle forwards them out
# of vb (a permanent neighbour for 198.18.2.1); S counts them at XDP with
# build/bench/xdpsink. The legs:
#   fwd       ip_forward alone, no filter: the floor the filters are measured
#             against (a filter's own cost per packet = its ns - fwd's ns)
#   ipt       iptables-legacy (x_tables), chain FORWARD, policy DROP
#   nft1      nftables, hook forward, policy drop, one rule per line
#   nftb      nftables, the same rules as one lookup in an interval vmap
#   cb-pass   cubebus: a transparenthelloworld (PASS) on va's ingress (TC):
#             the framework alone, no filtering
#   cb-tc     cubebus firewall attached to va (TC), chain INGRESS, default DROP
#   cb-xdp    the same in XDP_SKB
# A cubebus leg has a private broker running inside its middle namespace (its
# own run dir, state dir and bpffs), so that the kernel forwards for it too.
# The rules come from bench/fwrules.py (the same N rules in every format).
# Each rule set's legs are run in alternation, RUNS rounds, each round
# starting at the next leg, so that a change of load weighs on all of them.
# Before the figures, every filter is checked to be in the path: with no
# rule matching, the sink must get nothing.
#
# Usage: bench/firewall.sh           full run (~8 min on a quiet machine)
#        QUICK=1 bench/firewall.sh   (~1.5 min: 1 short run per case)
#   env: SIZES ("10 1000 10000"), MATCHES ("last middle"),
#        LEGS ("fwd ipt nft1 nftb cb-pass cb-tc cb-xdp"), PARTS ("pps insert swap"),
#        RUNS (3; QUICK 1), WINDOW (s counted per run: 2; QUICK 0.5),
#        WARMUP (0.5; QUICK 0.2), RETRIES (per case: 2; QUICK 1),
#        RETRY_BUDGET (20; QUICK 6), GEN_SHARE (0.9), GENCPU (the last CPU),
#        K (single inserts timed: 50; QUICK 10), SWAPS (swaps under the probe:
#        6; QUICK 2), PROBE_RATE (probe datagrams/s: 10000),
#        FIREWALL_LOG=FILE (copy the run's log there: every run's figures).
# Prints Markdown (tables and notes) on stdout, progress on stderr.
set -uo pipefail
cd "$(dirname "$0")/.."
top=$PWD
BIN=${CUBEBUS_BENCH_BIN:-$top/build/bin}
BB=$top/build/bench
PROBE=$top/build/tests/tools/probe
RULES="python3 $top/bench/fwrules.py"
export PATH="$BIN:$PATH"

QUICK=${QUICK:-0}
if [ "$QUICK" = 1 ]; then
	: "${RUNS:=1}" "${WARMUP:=0.2}" "${WINDOW:=0.5}" "${RETRIES:=1}" "${RETRY_BUDGET:=6}" "${K:=10}" "${SWAPS:=2}"
else
	: "${RUNS:=3}" "${WARMUP:=0.5}" "${WINDOW:=2}" "${RETRIES:=2}" "${RETRY_BUDGET:=20}" "${K:=50}" "${SWAPS:=6}"
fi
SIZES=${SIZES:-10 1000 10000}
MATCHES=${MATCHES:-last middle}
LEGS=${LEGS:-fwd ipt nft1 nftb cb-pass cb-tc cb-xdp}
PARTS=${PARTS:-pps insert swap}
NCPU=$(nproc)
GENCPU=${GENCPU:-$((NCPU - 1))}
GEN_SHARE=${GEN_SHARE:-0.9}
PROBE_RATE=${PROBE_RATE:-10000}
PORT=9
SRC_IP=198.18.1.1 DST_IP=198.18.2.1
T_START=${EPOCHREALTIME/./}

say() { echo "firewall: $*" >&2; }
die() {
	say "$*"
	exit 1
}

[ "$(id -u)" -eq 0 ] || die "needs root (netns, BPF)"
for t in ip ethtool jq python3 iptables-legacy-restore nft; do
	command -v $t >/dev/null || die "needs $t (scripts/deps.sh installs it)"
done
for b in "$BB/pktgen" "$BB/xdpsink" "$BB/buslat" "$PROBE" "$BIN/cubebusd" "$BIN/cubectl"; do
	[ -x "$b" ] || die "no $b: run make"
done

. "$top/tests/tools/instance.sh"

# ---- names, cleanup ------------------------------------------------------------

while :; do
	id=cbf$(od -An -N4 -tx1 /dev/urandom | tr -d ' \n' | cut -c1-5)
	ls -d /tmp/"$id".* /sys/fs/bpf/"$id"* >/dev/null 2>&1 && continue
	ip netns list 2>/dev/null | matches -q "^$id-" && continue
	break
done
tmp=$(mktemp -d "/tmp/$id.XXXXXX")
LOG=$tmp/log
NSG=$id-g NSS=$id-s
declare -A NSM KIDX MAC_VA BPID
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)

cleanup() {
	local rc=$? p n l
	trap - EXIT INT TERM HUP
	set +e
	p=$(jobs -p)
	[ -n "$p" ] && { kill -TERM $p; sleep 0.2; kill -9 $p; wait; } 2>/dev/null
	for l in "${!BPID[@]}"; do
		kill -9 "${BPID[$l]}" 2>/dev/null
		wait "${BPID[$l]}" 2>/dev/null
	done
	# cube processes of the private brokers
	for l in $LEGS; do
		[ -d "$tmp/$l" ] || continue
		p=$(instance_pids "$tmp/$l")
		[ -n "$p" ] && kill -9 $p 2>/dev/null
	done
	for n in "$NSG" "$NSS" "${NSM[@]}"; do
		p=$(ip netns pids "$n" 2>/dev/null)
		[ -n "$p" ] && kill -9 $p 2>/dev/null
		ip netns del "$n" 2>/dev/null
	done
	# a broker inside `ip netns exec` mounts a bpffs of its own in that mount
	# namespace (gone with its processes); nothing should be here, but check
	for l in /sys/fs/bpf/"$id"*; do [ -e "$l" ] && rm -rf "$l"; done
	if [ "$rc" -ne 0 ] && [ -s "$LOG" ]; then
		say "failed (status $rc); last lines of the log:"
		tail -n 30 "$LOG" | sed 's/^/  | /' >&2
	fi
	[ -n "${FIREWALL_LOG:-}" ] && cp "$LOG" "$FIREWALL_LOG" 2>/dev/null
	rm -rf "$tmp"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

wait_file() { # FILE PATTERN PID SECONDS
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
want() { [[ " $LEGS " == *" $1 "* ]]; }
part() { [[ " $PARTS " == *" $1 "* ]]; }
fmt() { awk -v v="$1" -v f="$2" 'BEGIN {if (v == "") print "—"; else printf f, v}'; }

# ---- topology -----------------------------------------------------------------

for n in "$NSG" "$NSS"; do
	ip netns add "$n" || die "cannot create netns $n"
	ip netns exec "$n" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
	ip -n "$n" link set lo up
done

# path_up LEG K: netns M-leg, gK (G) == va (M), vb (M) == sK (S), forwarding
path_up() {
	local l=$1 k=$2 m=$id-m$2 smac
	NSM[$l]=$m KIDX[$l]=$k
	ip netns add "$m" || return 1
	ip netns exec "$m" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1 \
		net.ipv4.ip_forward=1 || return 1
	ip -n "$NSG" link add g$k type veth peer name va netns "$m" || return 1
	ip -n "$NSS" link add s$k type veth peer name vb netns "$m" || return 1
	ip -n "$m" link set lo up
	ip -n "$m" link set va up && ip -n "$m" link set vb up && ip -n "$NSG" link set g$k up &&
		ip -n "$NSS" link set s$k up || return 1
	ip -n "$m" addr add 198.18.1.254/24 dev va && ip -n "$m" addr add 198.18.2.254/24 dev vb || return 1
	smac=$(ip netns exec "$NSS" cat /sys/class/net/s$k/address)
	ip -n "$m" neigh replace $DST_IP lladdr "$smac" dev vb nud permanent || return 1
	# pktgen's frames reach va through the veth's ndo_xdp_xmit: NAPI on va
	ip netns exec "$m" ethtool -K va gro on >/dev/null 2>&1
	MAC_VA[$l]=$(ip netns exec "$m" cat /sys/class/net/va/address)
}

# ---- cubebus: a private broker in the leg's middle namespace -------------------

cb_env() { echo "CUBEBUS_RUN_DIR=$tmp/$1/run CUBEBUS_STATE_DIR=$tmp/$1/state CUBEBUS_BPFFS=/sys/fs/bpf/$id-$1"; }
# cb LEG ARGS...: cubectl against LEG's broker; output to the log, the first
# error line in $CERR
cb() {
	local l=$1
	shift
	env $(cb_env "$l") cubectl "$@" >>"$LOG" 2>"$tmp/cerr" && return 0
	CERR=$(head -n 1 "$tmp/cerr")
	echo "cubectl $* (leg $l): $(cat "$tmp/cerr")" >>"$LOG"
	return 1
}
cb_out() { # LEG ARGS...: cubectl's stdout
	local l=$1
	shift
	env $(cb_env "$l") cubectl "$@" 2>>"$LOG"
}
# cb_batch LEG FILE: the batch body in FILE to fw1's INGRESS chain, in one
# request (through buslat: 10 000 rules are more than cubectl's 1 MiB of
# stdin). When the firewall refuses it as too big ("is full"; nothing is
# applied then), in requests of BATCH_CHUNK rules. Sets CB_BATCH_MS (the
# requests' time, over the bus), CB_BATCH_REQS, CB_BATCH_REFUSED (the
# refusal of the single request, or empty)
BATCH_CHUNK=${BATCH_CHUNK:-2000}
cb_batch() {
	local out n i us=0
	CB_BATCH_MS= CB_BATCH_REQS=1 CB_BATCH_REFUSED=
	out=$(env $(cb_env "$1") "$BB/buslat" --n 1 /fw1/chain/INGRESS/batch create "@$2" 2>&1)
	if [[ $out =~ ^[0-9]+\ [0-9]+$ ]]; then
		CB_BATCH_MS=$(awk -v u="${out%% *}" 'BEGIN {printf "%.1f", u / 1000}')
		return 0
	fi
	echo "batch (leg $1): $out" >>"$LOG"
	if [[ $out != *"is full"* ]]; then
		CERR="batch: $out"
		return 1
	fi
	CB_BATCH_REFUSED=${out#buslat: }
	n=$(jq '.rules | length' "$2")
	CB_BATCH_REQS=0
	for ((i = 0; i < n; i += BATCH_CHUNK)); do
		jq -c "{rules: .rules[$i:$((i + BATCH_CHUNK))]}" "$2" >"$tmp/chunk.json"
		out=$(env $(cb_env "$1") "$BB/buslat" --n 1 /fw1/chain/INGRESS/batch create "@$tmp/chunk.json" 2>&1)
		if ! [[ $out =~ ^[0-9]+\ [0-9]+$ ]]; then
			CERR="batch of $BATCH_CHUNK from rule $i: $out"
			echo "batch (leg $1): $CERR" >>"$LOG"
			return 1
		fi
		us=$((us + ${out%% *}))
		CB_BATCH_REQS=$((CB_BATCH_REQS + 1))
	done
	CB_BATCH_MS=$(awk -v u="$us" 'BEGIN {printf "%.1f", u / 1000}')
	echo "batch (leg $1): loaded in $CB_BATCH_REQS requests of at most $BATCH_CHUNK rules" >>"$LOG"
	BATCH_NOTE="One batch of $n rules was refused (${CB_BATCH_REFUSED}); the rules were loaded in batches of $BATCH_CHUNK."
}
BATCH_NOTE=
broker_up() {
	local l=$1 i
	mkdir -p "$tmp/$l"
	ip netns exec "${NSM[$l]}" env $(cb_env "$l") "$BIN/cubebusd" --rest off </dev/null >>"$tmp/$l/broker.log" 2>&1 &
	BPID[$l]=$!
	for ((i = 0; i < 100; i++)); do
		env $(cb_env "$l") timeout 2 cubectl --timeout 1000 version >/dev/null 2>&1 && return 0
		kill -0 "${BPID[$l]}" 2>/dev/null || break
		sleep 0.1
	done
	CERR="cubebusd in ${NSM[$l]} did not start: $(tail -n 2 "$tmp/$l/broker.log" | tr '\n' ' ')"
	return 1
}

FW_OK=0 FW_WHY=
fw_check() { # is there a firewall service at all
	if ! [ -x "$BIN/cube-firewall" ]; then
		FW_WHY="no build/bin/cube-firewall"
		return 1
	fi
	return 0
}

# ---- loading a rule set into a leg ---------------------------------------------

# load LEG N MATCH: the leg's filter holds the N rules (MATCH: last, middle, none)
load() {
	local l=$1 n=$2 match=$3 m=${NSM[$1]} f=$tmp/rules.$1 T t0
	t0=${EPOCHREALTIME/./}
	case $l in
	fwd) ;;
	ipt)
		$RULES --n "$n" --match "$match" --format iptables >"$f" &&
			ip netns exec "$m" iptables-legacy-restore <"$f" 2>>"$LOG" || return 1
		;;
	nft1 | nftb)
		{
			echo "flush ruleset"
			$RULES --n "$n" --match "$match" --format "$([ $l = nft1 ] && echo nft-lines || echo nft-best)"
		} >"$f" && ip netns exec "$m" nft -f "$f" 2>>"$LOG" || return 1
		;;
	cb-pass)
		cb $l cubes -json >/dev/null || return 1
		if ! env $(cb_env $l) cubectl cubes -json 2>/dev/null | jq -e '.[] | select(.name == "t1")' >/dev/null; then
			cb $l transparenthelloworld add t1 type=TC && cb $l attach t1 va || return 1
		fi
		;;
	cb-tc | cb-xdp)
		T=TC
		[ $l = cb-xdp ] && T=XDP_SKB
		cb $l del fw1 2>/dev/null
		$RULES --n "$n" --match "$match" --format cubebus >"$f" || return 1
		cb $l firewall add fw1 type=$T &&
			cb $l fw1 set conntrack=OFF &&
			cb $l fw1 chain INGRESS set default=DROP &&
			cb_batch $l "$f" &&
			cb $l attach fw1 va || return 1
		;;
	esac
	echo "loaded $l: $n rules, match $match ($(((${EPOCHREALTIME/./} - t0) / 1000)) ms)" >>"$LOG"
}

# ---- one run: pktgen on gK, xdpsink on sK ----------------------------------------

# run_once LEG: sets O_PPS, O_NS (CPU ns per packet of the generator's CPU),
# O_SHARE (the generator's share of its CPU), O_OTHER (the other CPUs' busy
# fraction); returns 1 when the sink counted nothing
run_once() {
	local l=$1 k=${KIDX[$1]} sp gp rc line gen_t k0 k1
	gen_t=$(awk -v w="$WARMUP" -v d="$WINDOW" 'BEGIN {print w + d + 5}')
	O_PPS= O_NS= O_SHARE= O_OTHER=
	: >"$tmp/sink.out"
	ip netns exec "$NSS" "$BB/xdpsink" --dev s$k --port $PORT --warmup "$WARMUP" --duration "$WINDOW" \
		--wait "${SINK_WAIT:-3}" >"$tmp/sink.out" 2>>"$LOG" &
	sp=$!
	if ! wait_file "$tmp/sink.out" '^ready' "$sp" 5; then
		wait "$sp" 2>/dev/null
		echo "xdpsink did not start on s$k" >>"$LOG"
		return 1
	fi
	k0=$(ksoftirqd_ticks)
	ip netns exec "$NSG" "$BB/pktgen" --dev g$k --dst-mac "${MAC_VA[$l]}" --src $SRC_IP --dst $DST_IP \
		--dport $PORT --size 64 --duration "$gen_t" --cpu "$GENCPU" >"$tmp/gen.out" 2>>"$LOG" &
	gp=$!
	wait "$sp"
	rc=$?
	kill -TERM "$gp" 2>/dev/null
	wait "$gp" 2>/dev/null
	k1=$(ksoftirqd_ticks)
	line=$(grep '^packets=' "$tmp/sink.out")
	echo "  $l: ${line:-no packet (xdpsink status $rc)} | generator: $(cat "$tmp/gen.out") | ksoftirqd: $((k1 - k0)) ticks" >>"$LOG"
	[ "$rc" -eq 0 ] && [ -n "$line" ] || return 1
	O_PPS=$(echo "$line" | kv pps)
	# the path's share of its CPU: the generator's thread (the path runs in
	# its softirq) and ksoftirqd on that CPU (NAPI polls it took over)
	O_SHARE=$(awk -v c="$(kv cpu <"$tmp/gen.out")" -v s="$(kv seconds <"$tmp/gen.out")" -v t=$((k1 - k0)) \
		-v hz="$HZ" 'BEGIN {printf "%.3f", c + (s > 0 ? t / hz / s : 0)}')
	# CPU time of the path per packet delivered: that share over the rate
	O_NS=$(awk -v c="$O_SHARE" -v p="$O_PPS" 'BEGIN {printf "%.1f", c * 1e9 / p}')
	O_BUSYNS=$(echo "$line" | kv busy | tr ',' '\n' | awk -v g="$GENCPU" -v s="$(echo "$line" | kv seconds)" \
		-v p="$(echo "$line" | kv packets)" 'NR - 1 == g {printf "%.1f", $1 * s * 1e9 / p}')
	echo "    path share $O_SHARE, $O_NS ns/packet (CPU busy: $O_BUSYNS ns/packet)" >>"$LOG"
	O_OTHER=$(echo "$line" | kv busy | tr ',' '\n' | awk -v g="$GENCPU" 'NR - 1 != g {s += $1; n++} END {if (n) printf "%.2f", s / n}')
}

# ksoftirqd_ticks: CPU time (clock ticks) of ksoftirqd on the generator's CPU
HZ=$(getconf CLK_TCK)
KSD_PID=$(pgrep -x "ksoftirqd/$GENCPU" | head -n 1)
ksoftirqd_ticks() {
	[ -n "$KSD_PID" ] && awk '{print $14 + $15}' /proc/"$KSD_PID"/stat 2>/dev/null || echo 0
}

# in_path LEG: with no rule matching, the sink gets nothing (the filter is
# in the path); with the matching rule, it gets packets
in_path() {
	local l=$1
	[ $l = fwd ] || [ $l = cb-pass ] && return 0
	load "$l" 10 none || return 1
	if SINK_WAIT=1 WARMUP=0 WINDOW=0.2 run_once "$l"; then
		CERR="packets crossed $l with no rule matching (default DROP): the filter is not in the path"
		return 1
	fi
	return 0
}

declare -A PPS NSP FLAG NOTE OTHER
REPEATED=0 DISTURBED=0 ALL_OTHER=()

# measure_set N MATCH: every leg, RUNS rounds in alternation
measure_set() {
	local n=$1 match=$2 r j l i tries key
	local -a legs=() pps ns bad
	for l in $LEGS; do
		[ -n "${NOTE[$l]:-}" ] && continue
		if load "$l" "$n" "$match"; then
			legs+=("$l")
		else
			NOTE[$l,$n,$match]="rules not loaded: ${CERR:-see the log}"
			say "$l: $n rules ($match) not loaded: ${CERR:-see the log}"
		fi
	done
	declare -A P S B
	for ((r = 0; r < RUNS; r++)); do
		for ((j = 0; j < ${#legs[@]}; j++)); do
			l=${legs[$(((j + r) % ${#legs[@]}))]}
			tries=0
			while :; do
				tries=$((tries + 1))
				if ! run_once "$l"; then
					echo "  $l: run failed" >>"$LOG"
					break
				fi
				ALL_OTHER+=("$O_OTHER")
				if awk -v c="${O_SHARE:-0}" -v m="$GEN_SHARE" 'BEGIN {exit !(c >= m)}'; then
					P[$l]+="$O_PPS " S[$l]+="$O_NS "
					break
				fi
				DISTURBED=$((DISTURBED + 1))
				echo "  (the generator had ${O_SHARE:-?} of its CPU: not counted)" >>"$LOG"
				B[$l]+="$O_PPS:$O_NS "
				[ $tries -gt "$RETRIES" ] || [ "$REPEATED" -ge "$RETRY_BUDGET" ] && break
				REPEATED=$((REPEATED + 1))
			done
		done
	done
	for l in "${legs[@]}"; do
		key=$l,$n,$match
		FLAG[$key]=0
		if [ -z "${P[$l]:-}" ] && [ -n "${B[$l]:-}" ]; then
			for i in ${B[$l]}; do
				P[$l]+="${i%%:*} " S[$l]+="${i##*:} "
			done
			FLAG[$key]=1
		fi
		if [ -z "${P[$l]:-}" ]; then
			NOTE[$key]="no packet reached the sink"
			continue
		fi
		PPS[$key]=$(median ${P[$l]})
		NSP[$key]=$(median ${S[$l]})
		say "$(printf '%-8s %5d rules, match %-6s %9.0f pps %7.1f ns/packet' "$l" "$n" "$match" "${PPS[$key]}" "${NSP[$key]}")"
	done
}

# ---- legs: paths, brokers, checks ------------------------------------------------

say "id $id; legs: $LEGS; sizes: $SIZES; matches: $MATCHES; $RUNS run(s) x $WINDOW s (warm-up $WARMUP s); generator on CPU $GENCPU of $NCPU; load $LOAD0"
k=0
for l in $LEGS; do
	k=$((k + 1))
	path_up "$l" $k || die "cannot set up the path for $l"
	case $l in
	cb-*)
		if ! broker_up "$l"; then
			NOTE[$l]=$CERR
			say "$l: $CERR"
			continue
		fi
		if [ $l != cb-pass ] && ! fw_check; then
			NOTE[$l]="not measured: $FW_WHY"
			say "$l: not measured: $FW_WHY"
			continue
		fi
		;;
	esac
	if part pps && ! in_path "$l"; then
		NOTE[$l]="not measured: ${CERR:-the filter did not load}"
		say "$l: ${NOTE[$l]}"
	fi
done
for l in $LEGS; do
	[[ $l == cb-tc || $l == cb-xdp ]] && [ -z "${NOTE[$l]:-}" ] && FW_OK=1
done
if ! want cb-tc && ! want cb-xdp; then
	FW_WHY="no firewall leg in LEGS"
else
	[ "$FW_OK" = 1 ] || FW_WHY=${FW_WHY:-the firewall legs failed (see the notes)}
fi

if part pps; then
	for n in $SIZES; do
		for match in $MATCHES; do
			measure_set "$n" "$match"
		done
	done
fi

# ---- insertion ----------------------------------------------------------------------

# ms_of "MEDIAN_US P99_US" -> "median p99" in ms
ins_rows=()
insert_part() {
	local l=cb-tc n out med p99 batch_ms batch_how more_ms i B=100
	[ -z "${NOTE[$l]:-}" ] || { ins_rows+=("| — | — | — | — | — | ${NOTE[$l]} |"); return; }
	for n in 10 10000; do
		cb $l del fw1 2>/dev/null
		$RULES --n "$n" --match last --format cubebus >"$tmp/batch.json"
		cb $l firewall add fw1 type=TC && cb $l fw1 chain INGRESS set default=DROP || {
			ins_rows+=("| $n | — | — | — | — | firewall add failed: $CERR |")
			continue
		}
		# the first batch into the empty chain: one request, timed over the
		# bus (it also builds the pipeline for the fields the rules use)
		if ! cb_batch $l "$tmp/batch.json"; then
			ins_rows+=("| $n | — | — | — | — | batch failed: $CERR |")
			continue
		fi
		batch_ms=$CB_BATCH_MS
		batch_how=
		[ "$CB_BATCH_REQS" -gt 1 ] && batch_how=" in $CB_BATCH_REQS requests of $BATCH_CHUNK (one request refused)"
		# K single inserts at the head of the chain, each its own request
		for ((i = 0; i <= K; i++)); do echo /fw1/chain/INGRESS/insert; done >"$tmp/paths"
		out=$(env $(cb_env $l) "$BB/buslat" --paths "$tmp/paths" create \
			'{"id":0,"src":"10.255.255.0/24","dst":"198.18.2.0/24","l4proto":"TCP","dport":23,"action":"DROP"}' 2>&1)
		if ! [[ $out =~ ^[0-9]+\ [0-9]+$ ]]; then
			ins_rows+=("| $n | — | — | — | $batch_ms ms$batch_how | insert failed: $out |")
			continue
		fi
		read -r med p99 <<<"$out"
		# then B more rules of the same kind (fields the pipeline has: map
		# updates only) in one batch
		python3 -c '
import json, sys
b = int(sys.argv[1])
print(json.dumps({"rules": [{"id": i, "operation": "APPEND", "src": "10.250.%d.%d/32" % (i // 256, i % 256),
	"dst": "198.18.2.0/24", "l4proto": "TCP", "dport": 22, "action": "DROP"} for i in range(b)]}))' $B >"$tmp/more.json"
		out=$(env $(cb_env $l) "$BB/buslat" --n 1 /fw1/chain/INGRESS/batch create "@$tmp/more.json" 2>&1)
		more_ms=
		[[ $out =~ ^[0-9]+\ [0-9]+$ ]] && more_ms=$(awk -v u="${out%% *}" 'BEGIN {printf "%.1f", u / 1000}') ||
			echo "batch of $B more: $out" >>"$LOG"
		ins_rows+=("$(awk -v n="$n" -v m="$med" -v p="$p99" -v b="$batch_ms" -v h="$batch_how" -v mb="$more_ms" -v B=$B 'BEGIN {
			printf "| %d | %.2f | %.2f | %.0f | %.1f ms (%.0f rules/s)%s | ", n, m / 1000, p / 1000, 1e6 / m, b, n / b * 1000, h
			if (mb == "") printf "failed (see the log) |"; else printf "%.1f ms (%.0f rules/s) |", mb, B / mb * 1000 }')")
		say "insert at $n rules: median $med us, p99 $p99 us; first batch of $n: $batch_ms ms; $B more: ${more_ms:-failed} ms"
	done
	cb $l del fw1
}

# the same for the kernel's filters, for scale: one command (process start
# included) inserting a rule at the head of a chain of N, and the load of N
kin_rows=()
kernel_insert_part() {
	local n m l=ipt t0 t1 tl i ts=()
	for l in ipt nft1; do
		want $l || continue
		m=${NSM[$l]}
		for n in 10 10000; do
			ts=()
			t0=${EPOCHREALTIME/./}
			load $l $n last || continue
			tl=$(((${EPOCHREALTIME/./} - t0) / 1000))
			for ((i = 0; i < 10; i++)); do
				t0=${EPOCHREALTIME/./}
				if [ $l = ipt ]; then
					ip netns exec "$m" iptables-legacy -I FORWARD 1 -s 10.255.255.0/24 -d 198.18.2.0/24 -p tcp --dport 23 -j DROP
				else
					ip netns exec "$m" nft insert rule ip fwbench forward ip saddr 10.255.255.0/24 ip daddr 198.18.2.0/24 tcp dport 23 drop
				fi
				t1=${EPOCHREALTIME/./}
				ts+=("$((t1 - t0))")
			done
			kin_rows+=("$(awk -v l="$([ $l = ipt ] && echo "iptables-legacy -I" || echo "nft insert rule")" -v n="$n" \
				-v m="$(median "${ts[@]}")" -v tl="$tl" 'BEGIN {printf "| %s | %d | %.2f | %d ms |", l, n, m / 1000, tl}')")
		done
	done
}
if part insert; then
	say "insertion..."
	insert_part
	kernel_insert_part
fi

# ---- specialise-and-swap under the probe ------------------------------------------------

swap_rows=() SWAP_LOST= SWAP_RES= SWAP_SEEN=
swap_part() {
	local l=cb-tc m k i t0 ms out rpid spid secs res sw0 ts=()
	[ -z "${NOTE[$l]:-}" ] || { SWAP_RES=${NOTE[$l]}; return; }
	m=${NSM[$l]} k=${KIDX[$l]}
	# addresses for the probe on this path only (pktgen needs none)
	ip -n "$NSG" addr add $SRC_IP/24 dev g$k && ip -n "$NSG" route add default via 198.18.1.254 &&
		ip -n "$NSS" addr add $DST_IP/24 dev s$k && ip -n "$NSS" route add default via 198.18.2.254 ||
		{ SWAP_RES="cannot address the probe's hosts"; return; }
	# 1000 rules that use src, dst, l4proto, dport; the probe (UDP 9900,
	# TCP 9901) accepted; the change: a rule that needs a matcher no rule used
	cb $l del fw1 2>/dev/null
	$RULES --n 1000 --match none --format cubebus |
		jq -c '.rules += [{"id":1000,"operation":"APPEND","src":"198.18.1.0/24","dst":"198.18.2.0/24","l4proto":"UDP","dport":9900,"action":"ACCEPT"},
			{"id":1001,"operation":"APPEND","src":"198.18.1.0/24","dst":"198.18.2.0/24","l4proto":"TCP","dport":9901,"action":"ACCEPT"}]' \
			>"$tmp/swap.json"
	cb $l firewall add fw1 type=TC && cb $l fw1 set conntrack=OFF && cb $l fw1 chain INGRESS set default=DROP &&
		cb_batch $l "$tmp/swap.json" && cb $l attach fw1 va ||
		{ SWAP_RES="firewall setup failed: $CERR"; return; }
	# the cube logs each swap at DEBUG ("fast path specialised"): counted
	cb $l fw1 set loglevel=DEBUG
	sw0=$(grep -c 'fast path specialised' "$tmp/$l/broker.log")
	secs=$((SWAPS * 2 + 3))
	ip netns exec "$NSS" "$PROBE" recv --timeout $((secs + 20)) >"$tmp/probe.out" 2>&1 &
	rpid=$!
	wait_file "$tmp/probe.out" ready $rpid 3
	ip netns exec "$NSG" "$PROBE" send --dst $DST_IP --rate "$PROBE_RATE" --duration $secs 2>>"$LOG" &
	spid=$!
	sleep 1
	for ((i = 0; i < SWAPS; i++)); do
		# new code: a sport matcher (no rule used sport), then away again
		t0=${EPOCHREALTIME/./}
		out=$(env $(cb_env $l) "$BB/buslat" --n 1 /fw1/chain/INGRESS/insert create \
			'{"id":0,"src":"10.254.0.0/16","l4proto":"UDP","sport":53,"action":"DROP"}' 2>&1)
		[[ $out =~ ^[0-9]+\ [0-9]+$ ]] && ts+=("${out%% *}") || echo "swap insert: $out" >>"$LOG"
		sleep 0.5
		out=$(env $(cb_env $l) "$BB/buslat" --n 1 /fw1/chain/INGRESS/delete create \
			'{"src":"10.254.0.0/16","l4proto":"UDP","sport":53,"action":"DROP"}' 2>&1)
		[[ $out =~ ^[0-9]+\ [0-9]+$ ]] && ts+=("${out%% *}") || echo "swap delete: $out" >>"$LOG"
		sleep 0.5
	done
	wait $spid
	wait $rpid
	res=$(grep '^{' "$tmp/probe.out")
	echo "probe: $res" >>"$LOG"
	SWAP_SEEN=$(($(grep -c 'fast path specialised' "$tmp/$l/broker.log") - sw0))
	SWAP_RES=$res
	SWAP_LOST=$(jq -r '.lost' <<<"$res" 2>/dev/null)
	if [ ${#ts[@]} -gt 0 ]; then
		swap_rows+=("$(printf '%s\n' "${ts[@]}" | sort -g | awk -v n=${#ts[@]} '{a[NR] = $1} END {
			printf "| %d | %.1f | %.1f |", n, a[int((NR + 1) / 2)] / 1000, a[NR] / 1000}')")
	fi
	cb $l del fw1
}
if part swap; then
	say "specialise-and-swap under the probe..."
	swap_part
fi

# ---- the tables ----------------------------------------------------------------------

LOAD1=$(cut -d' ' -f1-3 /proc/loadavg)
elapsed=$(((${EPOCHREALTIME/./} - T_START) / 1000000))
declare -A LNAME=([fwd]="ip_forward, no filter" [ipt]="iptables" [nft1]="nft, rule per line"
	[nftb]="nft, best form" [cb-pass]="cubebus, PASS cube (TC)" [cb-tc]="cubebus fw TC" [cb-xdp]="cubebus fw XDP_SKB")
cell_pps() { # KEY
	[ -n "${PPS[$1]:-}" ] || { echo "—"; return; }
	awk -v p="${PPS[$1]}" -v f="${FLAG[$1]:-0}" 'BEGIN {printf "%.3f%s", p / 1e6, f == 1 ? " *" : ""}'
}
ratio() { # A B -> A / B
	[ -n "$1" ] && [ -n "$2" ] || { echo "—"; return; }
	awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a / b}'
}
FLAGGED=0
for k in "${!FLAG[@]}"; do [ "${FLAG[$k]}" = 1 ] && FLAGGED=1; done

if part pps; then
	echo "Packets per second (Mpps, median of $RUNS run(s)) of 64-byte UDP frames through the middle"
	echo "namespace, and the ratio of the cubebus firewall (TC; XDP_SKB after the slash) to each"
	echo "baseline in the same run:"
	echo
	hdr="| rules | matched by |"
	sep="|---:|---|"
	for l in $LEGS; do
		hdr+=" ${LNAME[$l]} |"
		sep+="---:|"
	done
	for b in ipt nft1 nftb; do
		want $b && { hdr+=" fw ÷ ${LNAME[$b]} |"; sep+="---:|"; }
	done
	echo "$hdr"
	echo "$sep"
	for n in $SIZES; do
		for match in $MATCHES; do
			row="| $n | $([ $match = last ] && echo "the last rule" || echo "rule $((n / 2 + 1))") |"
			for l in $LEGS; do
				row+=" $(cell_pps "$l,$n,$match") |"
			done
			for b in ipt nft1 nftb; do
				want $b || continue
				row+=" $(ratio "${PPS[cb-tc,$n,$match]:-}" "${PPS[$b,$n,$match]:-}") / $(ratio "${PPS[cb-xdp,$n,$match]:-}" "${PPS[$b,$n,$match]:-}") |"
			done
			echo "$row"
		done
	done
	echo
	echo "CPU time per packet (ns): the CPU time the path got (pktgen's thread, in whose softirq"
	echo "the whole path runs, and ksoftirqd on that CPU) over the packets the sink counted, so"
	echo "that other tasks on the machine do not count; in parentheses the filter's own cost: the"
	echo "same minus ip_forward with no filter. The last line of each group: the cost per packet"
	echo "at ${SIZES##* } rules over the cost at ${SIZES%% *}."
	echo
	hdr="| rules | matched by |"
	sep="|---:|---|"
	for l in $LEGS; do
		hdr+=" ${LNAME[$l]} |"
		sep+="---:|"
	done
	echo "$hdr"
	echo "$sep"
	for match in $MATCHES; do
		for n in $SIZES; do
			row="| $n | $([ $match = last ] && echo "the last rule" || echo "rule $((n / 2 + 1))") |"
			for l in $LEGS; do
				v=${NSP[$l,$n,$match]:-}
				f=${NSP[fwd,$n,$match]:-}
				if [ -z "$v" ]; then
					row+=" — |"
				elif [ $l = fwd ] || [ -z "$f" ]; then
					row+=" $(fmt "$v" %.0f) |"
				else
					row+=" $(awk -v v="$v" -v f="$f" 'BEGIN {printf "%.0f (%+.0f)", v, v - f}') |"
				fi
			done
			echo "$row"
		done
		lo=${SIZES%% *} hi=${SIZES##* }
		if [ "$lo" != "$hi" ]; then
			row="| $lo → $hi | per packet, ×  |"
			for l in $LEGS; do
				row+=" $(ratio "${NSP[$l,$hi,$match]:-}" "${NSP[$l,$lo,$match]:-}") |"
			done
			echo "$row"
		fi
	done
	echo
	echo "Every filter holds the same N rules (bench/fwrules.py), and the chain's default is DROP:"
	echo "N − 1 rules that the traffic does not match (sources 10.x.y.0/24 of their own, TCP or"
	echo "UDP to a common service port, ACCEPT or DROP) and one that accepts it (198.18.1.0/24 to"
	echo "198.18.2.0/24, UDP port 9), the last rule (the worst case for a linear filter) or the"
	echo "middle one. No two rules overlap, which lets nftables' best form put them all in one"
	echo "verdict map (\`ip saddr . ip daddr . meta l4proto . th dport vmap\`, flags interval)."
	echo "iptables is iptables-legacy (x_tables, a linear walk of the rules); nftables has no"
	echo "counters on its rules, iptables always counts, the cubebus firewall counts per rule."
	echo "Conntrack is off in every leg (no rule uses it; the cubebus firewall: \`conntrack=OFF\`)."
	echo "Each leg has its own path and middle namespace (kernel forwarding in every one); the"
	echo "legs run one after the other, $RUNS round(s), each round starting with the next leg."
	echo "All the traffic runs on CPU $GENCPU (pktgen's): the veth transmit runs the receiver's"
	echo "NAPI in the sender's softirq, so generator, forwarding, filter and sink share one CPU"
	echo "and pps is what that CPU achieves with the generator on it."
	echo "A run in which the path had less than $(awk -v m="$GEN_SHARE" 'BEGIN {print m * 100}') % of its CPU is repeated (up to $RETRIES"
	echo "time(s) per case, $RETRY_BUDGET in all): here $DISTURBED disturbed, $REPEATED repeated."
	[ "$FLAGGED" = 1 ] && echo "\\* no run of this case kept the CPU to itself: its pps is lower than on a quiet machine (its CPU time per packet holds)."
	echo "Load average at the start: $LOAD0, at the end: $LOAD1 (the machine is shared); the"
	echo "other CPU was $(fmt "$(median "${ALL_OTHER[@]}")" %.2f) busy (median over the runs: other work, not this path)."
	for k in "${!NOTE[@]}"; do
		echo "- ${LNAME[${k%%,*}]:-$k}${k#"${k%%,*}"}: ${NOTE[$k]}"
	done | sort
	[ -n "$BATCH_NOTE" ] && echo "$BATCH_NOTE"
	echo
fi

if part insert; then
	echo "Rule insertion into the cubebus firewall (chain INGRESS, TC), over the bus"
	echo "(\`build/bench/buslat\`, a connection per request as cubectl makes): the chain filled"
	echo "with N rules in one batch request, then $K single inserts at the head (id 0), each its"
	echo "own request, then one batch of 100 more rules; each timed from request to answer."
	echo "The first batch into an empty chain also builds and loads the pipeline for the fields"
	echo "its rules use (specialisation: a BPF load); the rules after it need no new code and"
	echo "are map updates only."
	echo
	echo "| rules in the chain (N) | one insert: median (ms) | p99 (ms) | single inserts per s | the first batch: N rules | then a batch of 100 more |"
	echo "|---:|---:|---:|---:|---:|---:|"
	printf '%s\n' "${ins_rows[@]}"
	echo
	[ -n "$BATCH_NOTE" ] && { echo "$BATCH_NOTE"; echo; }
	if [ ${#kin_rows[@]} -gt 0 ]; then
		echo "For scale, the kernel's filters in the same run: one command inserting a rule at the"
		echo "head (process start included, median of 10), and the load of the N rules."
		echo
		echo "| command | rules in the chain | one insert (ms) | load of N (restore / nft -f) |"
		echo "|---|---:|---:|---:|"
		printf '%s\n' "${kin_rows[@]}"
		echo
	fi
fi

if part swap; then
	echo "Specialise-and-swap: a firewall with 1 002 rules using src, dst, l4proto and dport (the"
	echo "probe's UDP and TCP accepted, default DROP); a rule with \`sport\` inserted (code that no"
	echo "rule needed: a new pipeline is built and swapped in), and deleted again, $SWAPS times each"
	echo "while tests/tools/probe sends $PROBE_RATE datagrams/s with sequence numbers through the"
	echo "firewall and keeps a TCP connection. Time: request to answer over the bus."
	echo
	if [ ${#swap_rows[@]} -gt 0 ]; then
		echo "| changes | median (ms) | max (ms) |"
		echo "|---:|---:|---:|"
		printf '%s\n' "${swap_rows[@]}"
		echo
	fi
	[ -n "$SWAP_SEEN" ] && echo "Swaps the firewall logged (\"fast path specialised\", at DEBUG) during them: $SWAP_SEEN of $((2 * SWAPS)) changes."
	echo "Probe: ${SWAP_RES:-not run}"
	[ -n "$SWAP_LOST" ] && echo "Packets lost during the swaps: **$SWAP_LOST** (must be 0)."
	echo
fi
# ---- issue 11's targets ---------------------------------------------------------------

verdict() { # A OP B
	[ -n "$1" ] && [ "$1" != — ] || { echo "not measured"; return; }
	awk -v a="$1" -v op="$2" -v b="$3" 'BEGIN { ok = (op == ">=") ? (a >= b) : (a <= b); print ok ? "met" : "**missed**" }'
}
hi=${SIZES##* } lo=${SIZES%% *}
echo "Issue 11's targets against this run:"
echo
echo "| target | this run | verdict |"
echo "|---|---|---|"
for l in cb-tc cb-xdp; do
	want $l || continue
	T=TC
	[ $l = cb-xdp ] && T=XDP_SKB
	if part pps; then
		r=$(ratio "${PPS[$l,$hi,last]:-}" "${PPS[nft1,$hi,last]:-}")
		c=$(ratio "${NSP[nft1,$hi,last]:-}" "${NSP[$l,$hi,last]:-}")
		echo "| ≥ 10× nftables one rule per line at $hi rules ($T, pps, last rule matching) | ${r}× (per packet CPU: ${c}×) | $(verdict "$r" ">=" 10) |"
		r=$(ratio "${PPS[$l,$hi,last]:-}" "${PPS[nftb,$hi,last]:-}")
		c=$(ratio "${NSP[nftb,$hi,last]:-}" "${NSP[$l,$hi,last]:-}")
		echo "| ≥ nftables' best form at $hi rules ($T, pps, last rule matching) | ${r}× (per packet CPU: ${c}×) | $(verdict "$r" ">=" 1) |"
		r=$(ratio "${NSP[$l,$hi,last]:-}" "${NSP[$l,$lo,last]:-}")
		echo "| per-packet cost at $hi rules within 2× of $lo ($T, CPU ns/packet of the path) | ${r}× | $(verdict "$r" "<=" 2) |"
	fi
done
if part insert; then
	p=$(printf '%s\n' "${ins_rows[@]}" | awk -F'|' '$2 + 0 == 10000 {gsub(/ /, "", $4); print $4}')
	echo "| one insert at 10 000 rules ≤ 2 ms, bus round trip, p99 | ${p:-—} ms | $(verdict "${p:-}" "<=" 2) |"
fi
if part swap; then
	echo "| specialise-and-swap loses no packet | ${SWAP_LOST:-—} lost | $(verdict "${SWAP_LOST:-}" "<=" 0) |"
fi
echo
[ "$FW_OK" = 1 ] || echo "The cubebus firewall was not measured: $FW_WHY."
say "done in ${elapsed} s"
