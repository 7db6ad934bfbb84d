#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# cubectl says at once why no broker can answer, instead of waiting for its
# reply timeout: no broker ever started, a broker killed with its socket file
# left behind, a user who may not open the socket. Each call is given a 20 s
# timeout; "at once" is checked as "well before it" (a hang, not a speed).
. "$(dirname "$0")/lib.sh"

# quick NAME WANT-REGEX cubectl-args...: fails, within 5 s, saying WANT
quick() {
	local name=$1 want=$2 t0 ms rc
	shift 2
	t0=${EPOCHREALTIME/./}
	"$@" >"$TMP/out" 2>"$TMP/err"
	rc=$?
	ms=$(((${EPOCHREALTIME/./} - t0) / 1000))
	echo "# $name: exit $rc after $ms ms: $(head -1 "$TMP/err")"
	if [ "$rc" -ne 0 ] && [ "$ms" -lt 5000 ] && grep -qE "$want" "$TMP/err"; then
		ok "$name"
	else
		not_ok "$name" "exit $rc after $ms ms, stderr: $(cat "$TMP/err")"
	fi
}

mkdir -p "$CUBEBUS_RUN_DIR"
quick "no broker ever started: not running" "not running" cubectl --timeout 20000 cubes

start_broker || {
	not_ok "broker starts"
	exit 1
}
check "the broker answers" cubectl cubes
sock=$CUBEBUS_RUN_DIR/ctl.sock
stop_broker KILL
if [ -S "$sock" ]; then
	quick "broker killed, socket left behind: not running" "not running" cubectl --timeout 20000 cubes
else
	skip "broker killed, socket left behind" "the killed broker's socket file is gone"
fi

# An unprivileged user: a copy of cubectl it can run (the build tree may not
# be reachable), and the socket of a live broker.
start_broker || {
	not_ok "broker starts again"
	exit 1
}
nobody=$(id -u nobody 2>/dev/null)
if [ -z "$nobody" ] || ! command -v setpriv >/dev/null; then
	skip "unprivileged user" "no user nobody or no setpriv"
else
	ubin=$(mktemp -d "/tmp/$ID.ubin.XXXXXX")
	chmod 0755 "$ubin"
	cp "$BIN/cubectl" "$ubin/"
	as_nobody() {
		setpriv --reuid="$nobody" --regid="$(id -g nobody)" --clear-groups \
			env CUBEBUS_RUN_DIR="$CUBEBUS_RUN_DIR" "$ubin/cubectl" "$@"
	}
	# the run directory is private (mktemp: 0700): the socket cannot be reached
	quick "run directory not open to the user: permission denied" "permission denied" \
		as_nobody --timeout 20000 cubes
	# a reachable directory, a socket the user may not write
	chmod 0711 "$TMP" "$CUBEBUS_RUN_DIR"
	chmod 0660 "$sock"
	quick "socket not writable by the user: permission denied" "permission denied" \
		as_nobody --timeout 20000 cubes
	chmod 0700 "$TMP" "$CUBEBUS_RUN_DIR"
	rm -rf "$ubin"
fi
check "root still gets answers" cubectl cubes
