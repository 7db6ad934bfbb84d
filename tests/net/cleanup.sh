#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# cleanup.sh - removes what earlier netns scenarios (tests/net/lib.sh) left
# behind, and nothing else. A run's id is "cbt" + 5 hex digits; it names
#   processes  cubebusd / cube-* whose command line or environment names
#              /tmp/cbtXXXXX.* or /sys/fs/bpf/cbtXXXXX
#   netns      cbtXXXXX-*          links  cbtXXXXX*
#   bpffs      /sys/fs/bpf/cbtXXXXX
#   temp dirs  /tmp/cbtXXXXX.*
#   injector   cbiHHHHHHHH[ab], where HHHHHHHH is the broker's FNV-1a hash of
#              its bpffs root: inverted here to find the test ones, so the
#              injector of a broker that is not a test's is never touched.
# A run whose script is still alive (/tmp/<id>.*/owner holds its pid) is
# left alone unless --force is given. --dry-run prints what it would do.
# Usage: tests/net/cleanup.sh [--force] [--dry-run]
set -u

force=0
dry=0
for a in "$@"; do
	case $a in
	--force) force=1 ;;
	-n | --dry-run) dry=1 ;;
	-h | --help)
		sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'
		exit 0
		;;
	*)
		echo "cleanup.sh: unknown argument $a" >&2
		exit 2
		;;
	esac
done

ID_RE='cbt[0-9a-f]{5}'

run() {
	echo "cleanup: $*"
	[ "$dry" -eq 1 ] || "$@"
}

# is_live ID: the scenario that owns this id is still running
declare -A live_cache
is_live() {
	local id=$1 f pid comm
	[ "$force" -eq 1 ] && return 1
	if [ -z "${live_cache[$id]:-}" ]; then
		live_cache[$id]=no
		for f in /tmp/"$id".*/owner; do
			[ -f "$f" ] || continue
			pid=$(cat "$f" 2>/dev/null)
			comm=$(cat /proc/"$pid"/comm 2>/dev/null) || continue
			[ "$comm" = bash ] && live_cache[$id]=yes
		done
	fi
	[ "${live_cache[$id]}" = yes ]
}

# ---- 1. processes: brokers first, so that no cube is restarted ------------
proc_ids() { # PID -> the test id its cmdline or environment names, if any
	local p=$1
	{
		tr '\0' '\n' </proc/"$p"/cmdline
		tr '\0' '\n' </proc/"$p"/environ
	} 2>/dev/null | grep -oE "(/tmp/$ID_RE\.|/sys/fs/bpf/$ID_RE(/|\$))" | grep -oE "$ID_RE" | head -n 1
}

for pass in brokers cubes; do
	for d in /proc/[0-9]*; do
		p=${d#/proc/}
		comm=$(cat "$d/comm" 2>/dev/null) || continue
		case $pass:$comm in
		brokers:cubebusd | cubes:cube-*) ;;
		*) continue ;;
		esac
		id=$(proc_ids "$p")
		[ -n "$id" ] || continue
		is_live "$id" && continue
		run kill -9 "$p" 2>/dev/null
	done
done

# ---- 2. namespaces ----------------------------------------------------------
for n in $(ip netns list 2>/dev/null | awk '{print $1}' | grep -E "^$ID_RE-"); do
	is_live "${n:0:8}" && continue
	pids=$(ip netns pids "$n" 2>/dev/null)
	[ -n "$pids" ] && run kill -9 $pids
	run ip netns del "$n"
done

# ---- 3. links named after a run -------------------------------------------
links() {
	ip -o link show 2>/dev/null | awk -F': ' '{print $2}' | cut -d@ -f1
}
for l in $(links | grep -E "^$ID_RE"); do
	is_live "${l:0:8}" && continue
	ip link show "$l" >/dev/null 2>&1 || continue # went with its veth peer
	run ip link del "$l"
done

# ---- 4. injector veths of test brokers -------------------------------------
# The broker names them cbi%08x{a,b} with h = FNV-1a over its bpffs root.
# For "/sys/fs/bpf/cbt" + 5 hex digits, meet in the middle: forward over the
# first 3 digits (4096 states), backward over the last 2 (FNV-1a steps are
# invertible: the prime is odd).
FNV_P=16777619
FNV_PINV=899433627 # FNV_P * FNV_PINV = 1 mod 2^32
HEX=(0 1 2 3 4 5 6 7 8 9 a b c d e f)
declare -A fwd
fnv_init() {
	local s=2166136261 i c prefix=/sys/fs/bpf/cbt a b d sa sb
	for ((i = 0; i < ${#prefix}; i++)); do
		printf -v c '%d' "'${prefix:i:1}"
		s=$((((s ^ c) * FNV_P) & 0xffffffff))
	done
	for a in "${HEX[@]}"; do
		printf -v c '%d' "'$a"
		sa=$((((s ^ c) * FNV_P) & 0xffffffff))
		for b in "${HEX[@]}"; do
			printf -v c '%d' "'$b"
			sb=$((((sa ^ c) * FNV_P) & 0xffffffff))
			for d in "${HEX[@]}"; do
				printf -v c '%d' "'$d"
				fwd[$((((sb ^ c) * FNV_P) & 0xffffffff))]=$a$b$d
			done
		done
	done
}
# cbi_test_id HASH-HEX -> the test id whose bpffs root hashes to it
cbi_test_id() {
	local h=$((16#$1)) d4 d5 c s4 s3
	for d5 in "${HEX[@]}"; do
		printf -v c '%d' "'$d5"
		s4=$((((h * FNV_PINV) & 0xffffffff) ^ c))
		for d4 in "${HEX[@]}"; do
			printf -v c '%d' "'$d4"
			s3=$((((s4 * FNV_PINV) & 0xffffffff) ^ c))
			if [ -n "${fwd[$s3]:-}" ]; then
				echo "cbt${fwd[$s3]}$d4$d5"
				return 0
			fi
		done
	done
	return 1
}
cbis=$(links | grep -E '^cbi[0-9a-f]{8}a$')
if [ -n "$cbis" ]; then
	fnv_init
	for l in $cbis; do
		id=$(cbi_test_id "${l:3:8}") || continue
		is_live "$id" && continue
		ip link show "$l" >/dev/null 2>&1 && run ip link del "$l"
	done
fi

# ---- 5. bpffs roots and temp dirs ------------------------------------------
for d in /sys/fs/bpf/cbt*; do
	[ -d "$d" ] || continue
	id=${d##*/}
	[[ $id =~ ^$ID_RE$ ]] || continue
	is_live "$id" && continue
	run rm -rf "$d"
done
for d in /tmp/cbt*; do
	[ -d "$d" ] || continue
	id=${d##*/}
	[[ $id =~ ^$ID_RE\. ]] || continue
	is_live "${id:0:8}" && continue
	run rm -rf "$d"
done
exit 0
