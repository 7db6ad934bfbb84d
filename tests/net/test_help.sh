#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Help from the models, in the user's words: `cubectl ?` lists services,
# cubes and commands; `SERVICE ?`, `CUBE PATH ?` give each leaf's
# description, its type said as a person would (values of an enumeration,
# range, pattern as a type name), default, mandatory, key, state; an
# action's help gives its input and output; REST OPTIONS answers the same.
# And `show` prints no empty container or list and ends with a newline.
. "$(dirname "$0")/lib.sh"

# child HELP-JSON NAME FIELD: FIELD of the child NAME in a help reply
child() {
	jq -r --arg n "$2" --arg f "$3" '.children[] | select(.name == $n) | .[$f]' <<<"$1"
}

# has TEXT PATTERN: TEXT matches the extended regex PATTERN
has() {
	grep -qE -- "$2" <<<"$1" || {
		echo "no '$2' in: $(head -c 400 <<<"$1")"
		return 1
	}
}

# no_regex TEXT: nothing that looks like a regular expression
no_regex() {
	! grep -qE '\[0-9|\{[0-9]|\(\(|\\\.|\|\(' <<<"$1" || {
		echo "a regular expression in: $(head -c 300 <<<"$1")"
		return 1
	}
}

PORT=$((20000 + RANDOM % 20000))
start_broker --rest 127.0.0.1:$PORT || {
	not_ok "broker starts" "see the log below"
	exit 1
}
B=
grep -q 'running without REST' "$BROKER_LOG" || B=http://127.0.0.1:$PORT/polycube/v1
ok=1
cubectl router add r1 && cubectl router add r9 && cubectl r1 ports add up ip=10.0.2.1/24 &&
	cubectl simplebridge add br1 || ok=0
[ $ok = 1 ] && ok "setup: routers r1 r9, bridge br1" || not_ok "setup: routers r1 r9, bridge br1"

# ---- cubectl ? -------------------------------------------------------------------
check "cubectl ? answers" cubectl '?'
top=$(cubectl '?' -json)
check "it lists the services" test "$(jq -c '[.services[].name] | sort' <<<"$top")" = \
	'["ddosmitigator","firewall","helloworld","router","simplebridge","simpleforwarder","synflood","transparenthelloworld"]'
check "each service with its description" jq -e '.services | all(.description | length > 0)' <<<"$top"
check "it lists the cubes with their service" test "$(jq -c '[.cubes[] | .name + ":" + .service] | sort' <<<"$top")" = \
	'["br1:simplebridge","r1:router","r9:router"]'
check "it lists the commands (connect, cubes, add, show, ?)" jq -e '[.commands[].command] as $c |
	(["connect", "disconnect", "cubes", "netdevs", "services", "version", "topology"] |
	 all(. as $w | $c | any(startswith($w)))) and ($c | any(test(" add "))) and ($c | any(test(" show")))
	and ($c | any(test("\\?$")))' <<<"$top"
text=$(cubectl '?')
check "text: services, cubes and commands headings" eval 'has "$text" "^services:" && has "$text" "^cubes:" &&
	has "$text" "^commands:"'

# ---- services and cubes ------------------------------------------------------------
h=$(cubectl router '?' -json)
check "router ?: the service's description" has "$(jq -r .description <<<"$h")" 'router'
check "router ?: usage" test "$(jq -r .usage <<<"$h")" = "cubectl router add NAME [key=value...]"
check "router ? type: the enumeration's values" test "$(child "$h" type type)" = "one of TC, XDP_SKB, XDP_DRV"
check "router ? type: default TC" test "$(child "$h" type default)" = TC
check "router ? type: its description" has "$(child "$h" type description)" 'fixed at creation'
check "router ? arp-aging-time: range and default" eval \
	'[ "$(child "$h" arp-aging-time type)" = "a whole number from 0 to 86400" ] &&
	 [ "$(child "$h" arp-aging-time default)" = 300 ]'
check "router ? name: the pattern said as a name" has "$(child "$h" name type)" '^a name of 1 to 32 letters'
check "router ? name: key" test "$(child "$h" name notes)" = key
check "router ? statistics: read-only" test "$(child "$h" statistics notes)" = read-only
check "router ? arp-flush: an action with its description" eval \
	'[ "$(child "$h" arp-flush kind)" = action ] && [ -n "$(child "$h" arp-flush description)" ]'
check "router ?: no regular expression" no_regex "$(cubectl router '?')"

h=$(cubectl r1 ports '?' -json)
check "r1 ports ?: a list keyed by name" jq -e '.kind == "list" and .keys == ["name"]' <<<"$h"
check "r1 ports ? ip: an IPv4 prefix, with its description" eval \
	'[ "$(child "$h" ip type)" = "an IPv4 prefix (A.B.C.D/LEN)" ] && [ -n "$(child "$h" ip description)" ]'
check "r1 ports ? mac: a MAC address" test "$(child "$h" mac type)" = "a MAC address (xx:xx:xx:xx:xx:xx)"
check "r1 ports ? peer: its length" test "$(child "$h" peer type)" = "text of at most 80 characters"
check "r1 ports ? status: read-only, UP or DOWN" eval \
	'[ "$(child "$h" status notes)" = read-only ] && [ "$(child "$h" status type)" = "one of UP, DOWN" ]'
h=$(cubectl r1 ports up secondaryip '?' -json)
check "r1 ports up secondaryip ?: a union said as either" test "$(child "$h" ip type)" = \
	"an IPv4 prefix (A.B.C.D/LEN) or an IPv6 prefix (X:X::X/LEN)"
h=$(cubectl r1 arp-table '?' -json)
check "r1 arp-table ? mac: mandatory" test "$(child "$h" mac notes)" = mandatory
check "r1 arp-table ? address: key, address or prefix" eval \
	'[ "$(child "$h" address notes)" = key ] && grep -q "address.* or .*prefix" <<<"$(child "$h" address type)"'

h=$(cubectl r1 arp-aging-time '?' -json)
check "r1 arp-aging-time ?: range, default, units, not mandatory" jq -e '.kind == "leaf" and
	.range == "0 to 86400" and .default == "300" and .units == "seconds" and .mandatory == false and
	(.description | length > 0)' <<<"$h"
h=$(cubectl r1 type '?' -json)
check "r1 type ?: its values" jq -e '.values == ["TC", "XDP_SKB", "XDP_DRV"] and .default == "TC"' <<<"$h"
h=$(cubectl br1 fdb aging-time '?' -json)
check "br1 fdb aging-time ?: range 0 to 1000000, default 300" jq -e '.range == "0 to 1000000" and .default == "300"' <<<"$h"
h=$(cubectl r1 uuid '?' -json)
check "r1 uuid ?: state, not configuration" jq -e '.config == false' <<<"$h"

# ---- actions -------------------------------------------------------------------------
h=$(cubectl r1 arp-flush '?' -json)
check "r1 arp-flush ?: an action with its description" jq -e '.kind == "action" and (.description | length > 0)' <<<"$h"
check "r1 arp-flush ?: input address, an IPv4 or IPv6 address" \
	jq -e '.input == [.input[] | select(.name == "address" and (.type | test("IPv4 or IPv6 address")))]' <<<"$h"
check "r1 arp-flush ?: output flushed, mandatory" \
	jq -e '.output[] | select(.name == "flushed") | .notes == "mandatory" and (.type | test("whole number"))' <<<"$h"
h=$(cubectl br1 fdb flush '?' -json)
check "br1 fdb flush ?: no input, output flushed true or false" \
	jq -e '.input == [] and (.output[] | select(.name == "flushed") | .type == "true or false")' <<<"$h"
check "br1 fdb flush ? text shows the output" has "$(cubectl br1 fdb flush '?')" '^output:'
check "a typo in a help path is named" eval "! cubectl br1 nosuch '?' 2>$TMP/err && grep -q nosuch $TMP/err"

# ---- REST gives the same --------------------------------------------------------------
if [ -n "$B" ] && command -v curl >/dev/null; then
	check "REST OPTIONS / is cubectl ? -json" eval "[ \"\$(curl -s -o $TMP/resp -w '%{http_code}' -X OPTIONS $B/)\" = 200 ] &&
		diff <(jq -S . $TMP/resp) <(cubectl '?' -json | jq -S .)"
	check "REST OPTIONS /r1/arp-flush is cubectl r1 arp-flush ? -json" eval "[ \"\$(curl -s -o $TMP/resp \
		-w '%{http_code}' -X OPTIONS $B/r1/arp-flush)\" = 200 ] &&
		diff <(jq -S . $TMP/resp) <(cubectl r1 arp-flush '?' -json | jq -S .)"
else
	skip "REST help" "no REST (port taken or no curl)"
fi

# ---- show: no empty containers, a newline at the end ---------------------------------
for cmd in "r9 show" "r1 show" "br1 show" "r9 arp-table show"; do
	# shellcheck disable=SC2086
	cubectl $cmd >"$TMP/show" 2>&1
	rc=$?
	# shellcheck disable=SC2086
	empties=$(cubectl $cmd -json | jq -r '[paths(type == "object" or type == "array") as $p |
		select(getpath($p) | length == 0) | $p[-1] | strings] | unique | .[]')
	bad_lines=
	for k in $empties; do
		grep -qE "^ *$k:$" "$TMP/show" && bad_lines="$bad_lines $k"
	done
	check "$cmd: exit 0" test $rc = 0
	check "$cmd: no empty container or list printed (${empties//$'\n'/ })" test -z "$bad_lines"
	check "$cmd: ends with a newline (or prints nothing)" \
		eval "[ ! -s $TMP/show ] || [ \"\$(tail -c 1 $TMP/show | od -An -c | tr -d ' ')\" = '\\n' ]"
done
check "r9 show: the statistics are there" grep -q '^statistics:' <(cubectl r9 show)

# ---- commands -------------------------------------------------------------------------
check "cubectl connect ?: its usage" test "$(cubectl connect '?' -json | jq -r .usage)" = \
	"connect CUBE:PORT CUBE:PORT|NETDEV"
check "cubectl cubes ?: what it does" eval '[ -n "$(cubectl cubes "?" -json | jq -r .what)" ]'
