#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# bench/ddos.sh - issue 12's figures for the ddosmitigator, in one run: with
# a blacklist of N source addresses (1, 1 000, 100 000),
#   drop  the rate at which a flood from a blacklisted source is dropped
#         (pktgen at full speed; the dropper's own counter over the window)
#   pass  the rate at which traffic from a source not in the list crosses
#         (the price of the lookup for legitimate traffic; xdpsink counts)
# for nftables (a set of N addresses, `ip saddr @bl counter drop`, in a
# netdev ingress chain on va: nftables' earliest hook) and the cubebus
# ddosmitigator attached to va in TC and in XDP_SKB; fwd (ip_forward, no
# filter) is the floor of the pass case.
#
#   [netns G]                [netns M-leg]                      [netns S]
#    pktgen  gK ==veth== va  ip_forward + dropper  vb ==veth== sK  xdpsink
#
# pktgen sends 64-byte UDP frames (198.18.1.1 -> 198.18.2.1 in the drop
# case, 198.18.1.2 in the pass case, 64 flows) on the last CPU; the path
# runs in its softirq on the same CPU, so a cheaper drop shows as a faster
# generator. A cubebus leg has a private broker in its middle namespace.
# Legs run in alternation, RUNS rounds, each round starting at the next leg.
#
# Usage: bench/ddos.sh          (~3 min)   QUICK=1 bench/ddos.sh (~1 min)
#   env: SIZES ("1 1000 100000"), LEGS ("fwd nft cb-tc cb-xdp"), RUNS (3;
#        QUICK 1), WINDOW (2; QUICK 0.5), WARMUP (0.5; QUICK 0.3), GENCPU
# Prints Markdown on stdout, progress on stderr.
set -uo pipefail
cd "$(dirname "$0")/.."
top=$PWD
BIN=${CUBEBUS_BENCH_BIN:-$top/build/bin}
BB=$top/build/bench
export PATH="$BIN:$PATH"

QUICK=${QUICK:-0}
if [ "$QUICK" = 1 ]; then
	: "${RUNS:=1}" "${WARMUP:=0.3}" "${WINDOW:=0.5}"
else
	: "${RUNS:=3}" "${WARMUP:=0.5}" "${WINDOW:=2}"
fi
SIZES=${SIZES:-1 1000 100000}
LEGS=${LEGS:-fwd nft cb-tc cb-xdp}
NCPU=$(nproc)
GENCPU=${GENCPU:-$((NCPU - 1))}
PORT=9
BAD_IP=198.18.1.1 GOOD_IP=198.18.1.2 DST_IP=198.18.2.1

say() { echo "ddos: $*" >&2; }
die() {
	say "$*"
	exit 1
}

[ "$(id -u)" -eq 0 ] || die "needs root (netns, BPF)"
for t in ip ethtool jq python3 nft bpftool; do
	command -v $t >/dev/null || die "needs $t (scripts/deps.sh installs it)"
done
for b in "$BB/pktgen" "$BB/xdpsink" "$BIN/cubebusd" "$BIN/cubectl" "$BIN/cube-ddosmitigator"; do
	[ -x "$b" ] || die "no $b: run make"
done
. "$top/tests/tools/instance.sh"

while :; do
	id=cbd$(od -An -N4 -tx1 /dev/urandom | tr -d ' \n' | cut -c1-5)
	ls -d /tmp/"$id".* /sys/fs/bpf/"$id"* >/dev/null 2>&1 && continue
	ip netns list 2>/dev/null | matches -q "^$id-" && continue
	break
done
tmp=$(mktemp -d "/tmp/$id.XXXXXX")
LOG=$tmp/log
NSG=$id-g NSS=$id-s
declare -A NSM KIDX MAC_VA BPID NOTE DROP PASS
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
	for l in /sys/fs/bpf/"$id"*; do [ -e "$l" ] && rm -rf "$l"; done
	if [ "$rc" -ne 0 ] && [ -s "$LOG" ]; then
		say "failed (status $rc); last lines of the log:"
		tail -n 30 "$LOG" | sed 's/^/  | /' >&2
	fi
	[ -n "${DDOS_LOG:-}" ] && cp "$LOG" "$DDOS_LOG" 2>/dev/null
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

for n in "$NSG" "$NSS"; do
	ip netns add "$n" || die "cannot create netns $n"
	ip netns exec "$n" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
	ip -n "$n" link set lo up
done

path_up() { # LEG K
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
	ip netns exec "$m" ethtool -K va gro on >/dev/null 2>&1
	MAC_VA[$l]=$(ip netns exec "$m" cat /sys/class/net/va/address)
}

cb_env() { echo "CUBEBUS_RUN_DIR=$tmp/$1/run CUBEBUS_STATE_DIR=$tmp/$1/state CUBEBUS_BPFFS=/sys/fs/bpf/$id-$1"; }
cb() { # LEG ARGS...
	local l=$1
	shift
	env $(cb_env "$l") cubectl "$@" >>"$LOG" 2>"$tmp/cerr" && return 0
	CERR=$(head -n 1 "$tmp/cerr")
	echo "cubectl $* (leg $l): $(cat "$tmp/cerr")" >>"$LOG"
	return 1
}
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
	CERR="cubebusd in ${NSM[$l]} did not start"
	return 1
}

# addresses N: BAD_IP and N-1 others (10.x.y.z), one per line
addresses() {
	python3 -c '
import sys
n = int(sys.argv[1])
print(sys.argv[2])
for i in range(n - 1):
    print("10.%d.%d.%d" % ((i >> 16) & 255, (i >> 8) & 255, i & 255))' "$1" $BAD_IP
}

# load LEG N: the leg's dropper holds a blacklist of N sources
load() {
	local l=$1 n=$2 m=${NSM[$1]} T t0=${EPOCHREALTIME/./}
	addresses "$n" >"$tmp/addr"
	case $l in
	fwd) ;;
	nft)
		{
			echo "flush ruleset"
			echo "table netdev ddos {"
			echo "  counter dropped { }"
			echo "  set bl { type ipv4_addr; size $((n + 16)); }"
			echo "  chain in { type filter hook ingress device va priority 0; ip saddr @bl counter name dropped drop; }"
			echo "}"
			awk 'NR % 1000 == 1 {if (NR > 1) print " }"; printf "add element netdev ddos bl {"; s = " "}
			     {printf "%s%s", s, $1; s = ", "} END {print " }"}' "$tmp/addr"
		} >"$tmp/nft" && ip netns exec "$m" nft -f "$tmp/nft" 2>>"$LOG" || {
			CERR="nft -f failed"
			return 1
		}
		;;
	cb-tc | cb-xdp)
		T=TC
		[ $l = cb-xdp ] && T=XDP_SKB
		cb $l del d1 2>/dev/null
		jq -R -s -c --arg t $T '{type: $t, "blacklist-src": [split("\n")[] | select(length > 0) | {ip: .}]}' \
			"$tmp/addr" >"$tmp/d1.json"
		cb $l --timeout 300000 ddosmitigator add d1 <"$tmp/d1.json" && cb $l attach d1 va || return 1
		;;
	esac
	LOAD_MS[$l,$n]=$(((${EPOCHREALTIME/./} - t0) / 1000))
	echo "loaded $l: $n entries (${LOAD_MS[$l,$n]} ms)" >>"$LOG"
}
declare -A LOAD_MS

# dropped LEG: the dropper's count of dropped packets
dropped() {
	local l=$1 mid
	case $l in
	nft) ip netns exec "${NSM[$l]}" nft -j list counter netdev ddos dropped 2>/dev/null |
		jq '[.nftables[] | select(.counter) | .counter.packets] | add // 0' ;;
	cb-*)
		# the cube's dm_stats (key 0: dropped), summed over the CPUs, by its
		# pin in the bpffs the leg's broker mounted in its mount namespace
		mid=$(nsenter -t "${BPID[$l]}" -m bpftool -j map show pinned "/sys/fs/bpf/$id-$l/cubes/d1/dm_stats" 2>/dev/null |
			jq '.id // empty')
		[ -n "$mid" ] && bpftool -j map lookup id "$mid" key 0 0 0 0 2>/dev/null |
			jq '[.formatted.values[]?.value] | add // 0' || echo 0
		;;
	*) echo 0 ;;
	esac
}

# run LEG CASE: sets O_PPS (pass: at the sink; drop: the dropper's count)
run() {
	local l=$1 c=$2 k=${KIDX[$1]} sp gp src d0 d1 t0 t1 gen_t line
	gen_t=$(awk -v w="$WARMUP" -v d="$WINDOW" 'BEGIN {print w + d + 3}')
	O_PPS=
	src=$GOOD_IP
	[ "$c" = drop ] && src=$BAD_IP
	if [ "$c" = pass ]; then
		: >"$tmp/sink.out"
		ip netns exec "$NSS" "$BB/xdpsink" --dev s$k --port $PORT --warmup "$WARMUP" --duration "$WINDOW" \
			--wait 3 >"$tmp/sink.out" 2>>"$LOG" &
		sp=$!
		wait_file "$tmp/sink.out" '^ready' "$sp" 5 || {
			wait "$sp" 2>/dev/null
			return 1
		}
	fi
	ip netns exec "$NSG" "$BB/pktgen" --dev g$k --dst-mac "${MAC_VA[$l]}" --src $src --dst $DST_IP \
		--dport $PORT --size 64 --duration "$gen_t" --cpu "$GENCPU" >"$tmp/gen.out" 2>>"$LOG" &
	gp=$!
	if [ "$c" = pass ]; then
		wait "$sp"
		line=$(grep '^packets=' "$tmp/sink.out")
		O_PPS=$(echo "$line" | kv pps)
	else
		sleep "$WARMUP"
		d0=$(dropped "$l") t0=${EPOCHREALTIME/./}
		sleep "$WINDOW"
		d1=$(dropped "$l") t1=${EPOCHREALTIME/./}
		O_PPS=$(awk -v a="$d0" -v b="$d1" -v t=$((t1 - t0)) 'BEGIN {if (b > a) printf "%.0f", (b - a) * 1e6 / t}')
		line="dropped $d0 -> $d1 in $(((t1 - t0) / 1000)) ms"
	fi
	kill -TERM "$gp" 2>/dev/null
	wait "$gp" 2>/dev/null
	echo "  $l $c: ${line:-nothing} | generator: $(cat "$tmp/gen.out")" >>"$LOG"
	[ -n "$O_PPS" ]
}

say "id $id; legs: $LEGS; sizes: $SIZES; $RUNS run(s) x $WINDOW s; generator on CPU $GENCPU of $NCPU; load $LOAD0"
k=0
for l in $LEGS; do
	k=$((k + 1))
	path_up "$l" $k || die "cannot set up the path for $l"
	if [[ $l == cb-* ]] && ! broker_up "$l"; then
		NOTE[$l]=$CERR
		say "$l: $CERR"
	fi
done

for n in $SIZES; do
	legs=()
	for l in $LEGS; do
		[ -n "${NOTE[$l]:-}" ] && continue
		if load "$l" "$n"; then
			legs+=("$l")
		else
			NOTE[$l,$n]="not loaded: ${CERR:-see the log}"
			say "$l: $n entries not loaded: ${CERR:-see the log}"
		fi
	done
	for c in drop pass; do
		declare -A P=()
		for ((r = 0; r < RUNS; r++)); do
			for ((j = 0; j < ${#legs[@]}; j++)); do
				l=${legs[$(((j + r) % ${#legs[@]}))]}
				[ $c = drop ] && [ $l = fwd ] && continue
				run "$l" $c && P[$l]+="$O_PPS "
			done
		done
		for l in "${legs[@]}"; do
			[ -n "${P[$l]:-}" ] || continue
			v=$(median ${P[$l]})
			[ $c = drop ] && DROP[$l,$n]=$v || PASS[$l,$n]=$v
			say "$(printf '%-7s %6d entries %-4s %9.0f pps' "$l" "$n" "$c" "$v")"
		done
		unset P
	done
	for l in cb-tc cb-xdp; do
		[[ " ${legs[*]} " == *" $l "* ]] && cb $l del d1
	done
done

# ---- the report ------------------------------------------------------------------
fmtk() { awk -v v="$1" 'BEGIN {if (v == "") print "—"; else printf "%.0f k", v / 1000}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {if (a == "" || b == "" || b == 0) print "—"; else printf "%.2f×", a / b}'; }
echo "## DDoS mitigator against nftables (\`bench/ddos.sh\`)"
echo
echo "$(date -u +%Y-%m-%d), $(uname -r), $NCPU CPUs ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')), load before: $LOAD0."
echo "$RUNS run(s) of $WINDOW s per figure (median), 64-byte UDP, 64 flows, generator on CPU $GENCPU."
echo
echo "| entries | nft drop | TC drop | XDP_SKB drop | TC / nft | XDP_SKB / nft | fwd pass | nft pass | TC pass | XDP_SKB pass | load nft | load cubebus (TC) |"
echo "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
for n in $SIZES; do
	echo "| $n | $(fmtk "${DROP[nft,$n]:-}") | $(fmtk "${DROP[cb-tc,$n]:-}") | $(fmtk "${DROP[cb-xdp,$n]:-}") |" \
		"$(ratio "${DROP[cb-tc,$n]:-}" "${DROP[nft,$n]:-}") | $(ratio "${DROP[cb-xdp,$n]:-}" "${DROP[nft,$n]:-}") |" \
		"$(fmtk "${PASS[fwd,$n]:-}") | $(fmtk "${PASS[nft,$n]:-}") | $(fmtk "${PASS[cb-tc,$n]:-}") | $(fmtk "${PASS[cb-xdp,$n]:-}") |" \
		"${LOAD_MS[nft,$n]:-—} ms | ${LOAD_MS[cb-tc,$n]:-—} ms |"
done
echo
for k in "${!NOTE[@]}"; do echo "- $k: ${NOTE[$k]}"; done
echo "Drop: packets per second the dropper counted while pktgen flooded from a"
echo "blacklisted source (the generator and the path share one CPU, so a cheaper drop"
echo "lets the generator send faster). Pass: packets per second at the sink from a source"
echo "not in the list. Load: the time to load the N entries (nft -f; cubectl"
echo "ddosmitigator add with the list, through the broker, and attach)."
