# SPDX-License-Identifier: Apache-2.0
# Sourced by the netns tests and the benchmarks: the processes of one
# private cubebus instance.
#
# matches GREP-ARGS...: grep over all of stdin. `producer | grep -q` under
# `set -o pipefail` fails at random: grep -q exits at the first match, and a
# producer still writing (tc, ip, ss) dies of SIGPIPE, which fails the
# pipeline although the line was there. matches reads to the end first.
matches() {
	local in
	in=$(cat)
	grep "$@" <<<"$in"
}
#
# instance_pids DIR: the cubebusd and cube-* processes whose command line
# names DIR/ (cubes get --run-dir) or whose environment has
# CUBEBUS_RUN_DIR=DIR/run (a broker started by the caller)
instance_pids() {
	local dir=$1 p comm
	for p in /proc/[0-9]*; do
		p=${p#/proc/}
		[ "$p" = $$ ] || [ "$p" = "$BASHPID" ] && continue
		comm=$(cat /proc/"$p"/comm 2>/dev/null) || continue
		case $comm in
		cubebusd | cube-*) ;;
		*) continue ;;
		esac
		if tr '\0' '\n' 2>/dev/null </proc/"$p"/cmdline | matches -qF "$dir/" ||
			tr '\0' '\n' 2>/dev/null </proc/"$p"/environ | matches -qxF "CUBEBUS_RUN_DIR=$dir/run"; then
			echo "$p"
		fi
	done
}
