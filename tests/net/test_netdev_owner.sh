#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# What else runs on a netdev (DESIGN §9): a port never silently replaces an
# XDP program or a TC filter it did not load. A user's XDP program, a user's
# TC filter at the stub's place and another instance's stubs are refused
# with their id, name and mode; -force (REST ?force=true) takes them over
# and the port puts them back when it goes. A filter at another priority
# coexists: the stub goes after it, and it still sees every packet first.
# Also: cube and port names with '.' (bpffs refuses dots) end to end.
. "$(dirname "$0")/lib.sh"

for t in clang curl; do
	command -v $t >/dev/null || {
		skip "$SCRIPT" "needs $t"
		exit 0
	}
done

A=$(veth a)
B=$(veth b)
C=$(veth c)
D=$(veth d)
add_host a 10.77.0.1/24 || exit 1
add_host b 10.77.0.2/24 || exit 1
add_host c 10.77.0.3/24 || exit 1
add_host d 10.77.0.4/24 || exit 1

# the user's programs, built here
printf '%s\n' 'struct xdp_md;' \
	'__attribute__((section("xdp"), used)) int xdp_user(struct xdp_md *ctx) { return 2; /* XDP_PASS */ }' \
	'char _license[] __attribute__((section("license"), used)) = "GPL";' >"$TMP/xdp_user.c"
# drops frames of 242 bytes (ping -s 200), lets the others continue (TC_ACT_UNSPEC)
printf '%s\n' 'struct __sk_buff { unsigned int len; };' \
	'__attribute__((section("tc"), used)) int tc_sieve(struct __sk_buff *skb) { return skb->len == 242 ? 2 : -1; }' \
	'char _license[] __attribute__((section("license"), used)) = "GPL";' >"$TMP/tc_sieve.c"
for p in xdp_user tc_sieve; do
	clang -O2 -target bpf -c "$TMP/$p.c" -o "$TMP/$p.o" || {
		not_ok "build $p" "clang -target bpf failed"
		exit 1
	}
done

xdp_id() { # DEV: the XDP program id on DEV (empty if none)
	ip -j link show dev "$1" | jq -r '.[0].xdp.prog.id // empty'
}
xdp_name() {
	ip -j link show dev "$1" | jq -r '.[0].xdp.prog.name // empty'
}
tc_ids() { # DEV: "PREF HANDLE ID NAME" per ingress filter
	tc -j filter show dev "$1" ingress |
		jq -r '.[] | select(.options.handle) | "\(.pref) \(.options.handle) \(.options.prog.id) \(.options.prog.name)"'
}
fails_saying() { # TEXT cmd...: the command fails and its message has TEXT
	local want=$1 out
	shift
	if out=$("$@" 2>&1); then
		echo "succeeded: $out"
		return 1
	fi
	grep -qF -- "$want" <<<"$out" && return 0
	echo "message: $out"
	return 1
}
no_takeover_pins() {
	[ -z "$(ls -A "$CUBEBUS_BPFFS/takeover" 2>/dev/null)" ]
}

BASE=
for try in 1 2 3 4 5; do
	PORT=$((20000 + RANDOM % 20000))
	ss -Hltn "sport = :$PORT" 2>/dev/null | matches -q . && continue
	start_broker --rest 127.0.0.1:$PORT || {
		not_ok "broker starts" "see the log below"
		exit 1
	}
	if ! grep -q 'running without REST' "$BROKER_LOG"; then
		BASE=http://127.0.0.1:$PORT/polycube/v1
		break
	fi
	stop_broker
	: >"$BROKER_LOG"
done
[ -n "$BASE" ] || {
	not_ok "broker with REST" "no free port"
	exit 1
}
http() { # METHOD PATH [BODY]: prints the status, the answer in $TMP/resp
	curl -s -o "$TMP/resp" -w '%{http_code}' -X "$1" -H 'Content-Type: application/json' ${3:+--data-binary "$3"} \
		"$BASE$2"
}

# ---- XDP: a user's program ------------------------------------------------------
iproute_bpf_dirs
ip link set dev "$A" xdpgeneric obj "$TMP/xdp_user.o" sec xdp
UID_X=$(xdp_id "$A")
check "a user XDP program runs on $A" test -n "$UID_X"
check "XDP_SKB bridge bx" cubectl simplebridge add bx type=XDP_SKB
check "bx port p2 on $B" cubectl bx ports add p2 peer="$B"
check "refused: port on $A names the XDP program, its mode and -force" \
	fails_saying "bx ports p1: $A already runs XDP program $UID_X \"xdp_user\" (generic mode), not loaded by cubebus; use -force" \
	cubectl bx ports add p1 peer="$A"
check "the user program is still attached" test "$(xdp_id "$A")" = "$UID_X"
check "the refused port is not in the cube" eval "! cubectl bx ports p1 show"
check "-force takes it over" cubectl bx ports add p1 peer="$A" -force
check "the cube's stub runs on $A" test "$(xdp_name "$A")" = cb_ingress_xdp
check "the user program is kept under takeover/" eval "! no_takeover_pins"
check "the broker log says so" grep -q "took over XDP program $UID_X \"xdp_user\"" "$BROKER_LOG"
check "ping a -> b through bx" ping_ok a 10.77.0.2
stop_broker
start_broker --rest 127.0.0.1:$PORT || exit 1
check "after a restart our stub is adopted, not foreign" eval "[ \"\$(xdp_name $A)\" = cb_ingress_xdp ] && ping_ok a 10.77.0.2"
check "deleting the port puts the user program back" \
	eval "cubectl bx ports del p1 && [ \"\$(xdp_id $A)\" = $UID_X ]"
check "no takeover pin left" no_takeover_pins
check "the broker log says it was put back" grep -q "put back XDP program $UID_X" "$BROKER_LOG"
# over REST
check "REST: 409 naming the program" eval "[ \$(http POST /bx/ports/p1 '{\"peer\":\"$A\"}') = 409 ] &&
	jq -e '.error | contains(\"XDP program $UID_X\") and contains(\"?force=true\")' $TMP/resp"
check "REST: ?force=true takes it over" eval "[ \$(http POST '/bx/ports/p1?force=true' '{\"peer\":\"$A\"}') = 201 ] &&
	[ \"\$(xdp_name $A)\" = cb_ingress_xdp ] && ping_ok a 10.77.0.2"
check "moving the port to $C puts it back on $A" \
	eval "cubectl bx ports p1 set peer=$C && [ \"\$(xdp_id $A)\" = $UID_X ] && no_takeover_pins"
check "bx deleted" cubectl simplebridge del bx
check "the user program stays after the cube goes" test "$(xdp_id "$A")" = "$UID_X"
ip link set dev "$A" xdpgeneric off

# ---- TC: a user's filter at the stub's place (priority 1, handle 0xcb) -----------
tc qdisc add dev "$A" clsact
tc filter add dev "$A" ingress prio 1 handle 0xcb bpf da obj "$TMP/tc_sieve.o" sec tc
UID_T=$(tc_ids "$A" | awk '$1 == 1 && $2 == "0xcb" {print $3}')
check "a user TC filter at priority 1 handle 0xcb" test -n "$UID_T"
check "TC bridge bt" cubectl simplebridge add bt
check "bt port p2 on $B" cubectl bt ports add p2 peer="$B"
check "refused: names the filter, its priority and handle" \
	fails_saying "bt ports p1: $A already has TC ingress filter bpf $UID_T \"tc_sieve\" at priority 1 handle 0xcb, not loaded by cubebus; use -force" \
	cubectl bt ports add p1 peer="$A"
check "the user filter is still there" test "$(tc_ids "$A")" = "1 0xcb $UID_T tc_sieve"
check "-force takes its place" eval "cubectl bt ports add p1 peer=$A -force &&
	tc_ids $A | matches -q '^1 0xcb [0-9]* cb_ingress_tc$'"
check "ping a -> b through bt" ping_ok a 10.77.0.2
check "deleting the port puts the user filter back" \
	eval "cubectl bt ports del p1 && [ \"\$(tc_ids $A)\" = '1 0xcb $UID_T tc_sieve' ] && no_takeover_pins"
# a user's filter put in the stub's place while the broker is down
tc filter del dev "$A" ingress prio 1 handle 0xcb bpf
check "bt port p1 on $A (nothing else there)" cubectl bt ports add p1 peer="$A"
stop_broker
tc filter del dev "$A" ingress prio 1 handle 0xcb bpf
tc filter add dev "$A" ingress prio 1 handle 0xcb bpf da obj "$TMP/tc_sieve.o" sec tc
UID_T=$(tc_ids "$A" | awk '$1 == 1 && $2 == "0xcb" {print $3}')
start_broker --rest 127.0.0.1:$PORT || exit 1
sleep 2
check "after a restart the user filter found in the stub's place stays" test "$(tc_ids "$A")" = "1 0xcb $UID_T tc_sieve"
check "the port waits, DOWN" test "$(cubectl bt ports p1 show -json | jq -r .status)" = DOWN
N_SAID=$(grep -c "already has TC ingress filter bpf $UID_T" "$BROKER_LOG")
sleep 2
check "the refusal is not logged again at every netdev check" \
	test "$(grep -c "already has TC ingress filter bpf $UID_T" "$BROKER_LOG")" = "$N_SAID"
check "deleting the waiting port leaves the user filter" \
	eval "cubectl bt ports del p1 && [ \"\$(tc_ids $A)\" = '1 0xcb $UID_T tc_sieve' ]"
tc filter del dev "$A" ingress prio 1 handle 0xcb bpf

# ---- TC: a user's filter at another priority coexists -----------------------------
tc filter add dev "$A" ingress prio 10 bpf da obj "$TMP/tc_sieve.o" sec tc
UID_S=$(tc_ids "$A" | awk '$1 == 10 {print $3}')
check "a user TC filter at priority 10" test -n "$UID_S"
check "a port on $A is accepted" cubectl bt ports add p1 peer="$A"
check "the stub goes after it (priority 11), the filter stays" \
	eval "tc_ids $A | matches -q '^10 .* $UID_S tc_sieve$' && tc_ids $A | matches -q '^11 0xcb [0-9]* cb_ingress_tc$'"
check "the broker log says what coexistence means" grep -q "goes after it at priority 11" "$BROKER_LOG"
check "ping a -> b through bt (the filter lets it continue)" ping_ok a 10.77.0.2
check "the user filter still sees every packet first (drops ping -s 200)" \
	eval "! ns a ping -c 2 -W 1 -i 0.2 -q -s 200 10.77.0.2"
check "deleting the port leaves the user filter alone" \
	eval "cubectl bt ports del p1 && [ \"\$(tc_ids $A)\" = '10 0x1 $UID_S tc_sieve' ]"
tc filter del dev "$A" ingress prio 10

# ---- another cubebus instance's stubs ----------------------------------------------
B2=$TMP/b2
mkdir -p "$B2"
b2() {
	CUBEBUS_RUN_DIR=$B2/run CUBEBUS_STATE_DIR=$B2/state CUBEBUS_BPFFS=/sys/fs/bpf/${ID}x "$@"
}
b2_cleanup() {
	b2 "$BIN/cubebusd" --cleanup >>"$TMP/broker.log" 2>&1
	[ -n "${B2_PID:-}" ] && kill -9 "$B2_PID" 2>/dev/null
	rm -rf "/sys/fs/bpf/${ID}x"
}
trap 'rc=$?; b2_cleanup; (exit $rc); cleanup' EXIT
# env execs the broker: $! is its pid
env CUBEBUS_RUN_DIR="$B2/run" CUBEBUS_STATE_DIR="$B2/state" CUBEBUS_BPFFS="/sys/fs/bpf/${ID}x" \
	"$BIN/cubebusd" </dev/null >>"$TMP/broker2.log" 2>&1 &
B2_PID=$!
wait_for 10 b2 cubectl version
check "a second instance with a TC port on $C and an XDP port on $D" \
	eval "b2 cubectl simplebridge add o1 && b2 cubectl o1 ports add q1 peer=$C &&
	b2 cubectl simplebridge add o2 type=XDP_SKB && b2 cubectl o2 ports add q1 peer=$D"
O_T=$(tc_ids "$C" | awk '{print $3}')
O_X=$(xdp_id "$D")
check "refused: the other instance's TC stub" \
	fails_saying "$C already has TC ingress filter bpf $O_T \"cb_ingress_tc\" at priority 1 handle 0xcb, the stub of another cubebus instance" \
	cubectl bt ports add p3 peer="$C"
check "refused: the other instance's XDP stub" \
	fails_saying "$D already runs XDP program $O_X \"cb_ingress_xdp\" (generic mode), the stub of another cubebus instance" \
	eval "cubectl simplebridge add bx2 type=XDP_SKB && cubectl bx2 ports add p1 peer=$D"
check "the other instance's stubs are untouched" \
	eval "[ \"\$(tc_ids $C | awk '{print \$3}')\" = $O_T ] && [ \"\$(xdp_id $D)\" = $O_X ]"
stop_broker
start_broker --rest 127.0.0.1:$PORT || exit 1
check "a restart (reconcile) leaves them alone too" \
	eval "[ \"\$(tc_ids $C | awk '{print \$3}')\" = $O_T ] && [ \"\$(xdp_id $D)\" = $O_X ]"
cubectl simplebridge del bx2 >/dev/null 2>&1
cubectl simplebridge del bt >/dev/null 2>&1
check "the second instance deletes its cubes" eval "b2 cubectl simplebridge del o1 && b2 cubectl simplebridge del o2"
kill "$B2_PID" 2>/dev/null
wait "$B2_PID" 2>/dev/null
check "the second instance's broker stopped" eval "! kill -0 $B2_PID 2>/dev/null"
B2_PID=

# ---- names with dots ----------------------------------------------------------------
check "a cube named br.1" cubectl simplebridge add br.1
check "ports p.1 and p.2" eval "cubectl br.1 ports add p.1 peer=$A && cubectl br.1 ports add p.2 peer=$B"
check "ping a -> b through br.1" ping_ok a 10.77.0.2
check "its pins are under cubes/br~1" test -d "$CUBEBUS_BPFFS/cubes/br~1"
stop_broker
start_broker --rest 127.0.0.1:$PORT || exit 1
check "after a restart br.1 runs and forwards" \
	eval "wait_for 5 eval '[ \"\$(cube_field br.1 status)\" = running ]' && ping_ok a 10.77.0.2 && test -d '$CUBEBUS_BPFFS/cubes/br~1'"
check "br.1 deleted, no pins left" eval "cubectl simplebridge del br.1 && ! ls '$CUBEBUS_BPFFS/cubes/' | matches -q ."
check "REST: POST /simplebridge/br.2 (201)" test "$(http POST /simplebridge/br.2 '{}')" = 201
check "REST: ports p.1 and p.2 (201)" \
	eval "[ \$(http POST /br.2/ports/p.1 '{\"peer\":\"$A\"}') = 201 ] && [ \$(http POST /br.2/ports/p.2 '{\"peer\":\"$B\"}') = 201 ]"
check "ping a -> b through br.2" ping_ok a 10.77.0.2
check "REST: GET /br.2/ports/p.1/peer" eval "[ \$(http GET /br.2/ports/p.1/peer) = 200 ] && grep -q $A $TMP/resp"
check "REST: DELETE /simplebridge/br.2, no pins left" \
	eval "[ \$(http DELETE /simplebridge/br.2) = 204 ] && ! ls '$CUBEBUS_BPFFS/cubes/' | matches -q ."

# ---- --cleanup puts back what ports took over and leaves foreign programs ----------
ip link set dev "$A" xdpgeneric obj "$TMP/xdp_user.o" sec xdp
UID_X=$(xdp_id "$A")
tc filter add dev "$B" ingress prio 5 bpf da obj "$TMP/tc_sieve.o" sec tc
UID_S=$(tc_ids "$B" | awk '$1 == 5 {print $3}')
check "an XDP port takes over $A, a TC port goes after a filter on $B" \
	eval "cubectl simplebridge add bx3 type=XDP_SKB && cubectl bx3 ports add p1 peer=$A -force &&
	cubectl simplebridge add bt3 && cubectl bt3 ports add p1 peer=$B && [ \"\$(xdp_name $A)\" = cb_ingress_xdp ]"
stop_broker
"$BIN/cubebusd" --cleanup >>"$BROKER_LOG" 2>&1
check "--cleanup puts the user's XDP program back" test "$(xdp_id "$A")" = "$UID_X"
check "--cleanup leaves the user's TC filter, removes the stub" test "$(tc_ids "$B")" = "5 0x1 $UID_S tc_sieve"
check "--cleanup leaves no pins" test ! -e "$CUBEBUS_BPFFS"
ip link set dev "$A" xdpgeneric off
