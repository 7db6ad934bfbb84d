#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# transparenthelloworld, in TC and XDP_SKB mode, without packets (the
# broker does not attach transparent cubes yet; tests/bpf/test_fastpath.c
# runs frames through them): the cube has no ports, its two actions
# default to PASS, a change reaches the fast path's map (key 0 egress,
# 1 ingress; 0 PASS, 1 DROP, 2 SLOWPATH: transparenthelloworld_shared.h),
# and a value the model lacks is refused in words.
. "$(dirname "$0")/lib.sh"

# actions KEY: the fast path's action of direction KEY
actions() {
	bpftool -j map dump pinned "/sys/fs/bpf/$ID/cubes/t1/thw_actions" | jq -r --argjson k "$1" '.[] | (.formatted // .) | select(.key == $k) | .value'
}

# fastpath EGRESS INGRESS: the fast path holds these actions
fastpath() {
	local eg in
	eg=$(actions 0) in=$(actions 1)
	[ "$eg" = "$1" ] && [ "$in" = "$2" ] || {
		echo "thw_actions egress $eg ingress $in, expected $1 $2"
		return 1
	}
}

start_broker || {
	not_ok "broker starts" "see the log below"
	exit 1
}

for T in TC XDP_SKB; do
	check "$T: transparenthelloworld add t1 type=$T" cubectl transparenthelloworld add t1 type=$T || continue
	check "$T: ingress-action defaults to PASS" test "$(cubectl t1 show -json | jq -r '."ingress-action"')" = PASS
	check "$T: egress-action defaults to PASS" test "$(cubectl t1 show -json | jq -r '."egress-action"')" = PASS
	check "$T: the fast path passes both ways" fastpath 0 0
	check "$T: slowpath-packets is 0" test "$(cubectl t1 show -json | jq -r '."slowpath-packets"')" = 0
	check "$T: no ports in the model" test "$(cubectl t1 show -json | jq -r 'has("ports")')" = false

	check "$T: t1 set ingress-action=SLOWPATH egress-action=DROP" \
		cubectl t1 set ingress-action=SLOWPATH egress-action=DROP
	check "$T: show says so" test "$(cubectl t1 show -json | jq -r '[."ingress-action", ."egress-action"] | join(" ")')" = "SLOWPATH DROP"
	check "$T: the fast path drops egress, sends ingress to the process" fastpath 1 2
	check "$T: t1 set egress-action=PASS" cubectl t1 set egress-action=PASS
	check "$T: only egress changed" fastpath 0 2

	cubectl t1 set ingress-action=FORWARD >"$TMP/out" 2>&1
	rc=$?
	check "$T: ingress-action=FORWARD is refused" test $rc -ne 0
	check "$T: the error names the values" grep -q 'FORWARD is not one of DROP, PASS, SLOWPATH' "$TMP/out"
	check "$T: the fast path kept its actions" fastpath 0 2

	check "$T: del t1" cubectl del t1
done
