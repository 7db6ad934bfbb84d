#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The REST gateway (DESIGN §6): a private broker with --rest on a free
# port; a bridge and its ports made, read, changed and deleted over HTTP
# only (reads equal `cubectl ... -json`), help (OPTIONS), the statuses of
# errors (404, 409, 400, 405, 413) with their JSON bodies, connect, a
# router's route whose key holds a '/' (%2F), /metrics as Prometheus text,
# two hosts pinging across the bridge, and a broker whose REST port is
# taken still starting (without REST).
. "$(dirname "$0")/lib.sh"

if ! command -v curl >/dev/null; then
	skip "$SCRIPT" "needs curl"
	exit 0
fi

# http METHOD PATH [BODY]: the status code on stdout; the reply's body in
# $TMP/resp and its headers in $TMP/hdr. PATH is below /polycube/v1.
http() {
	local m=$1 p=$2
	shift 2
	if [ $# -gt 0 ]; then
		curl -s -D "$TMP/hdr" -o "$TMP/resp" -w '%{http_code}' -X "$m" -H 'Content-Type: application/json' \
			--data-binary "$1" "$BASE$p"
	else
		curl -s -D "$TMP/hdr" -o "$TMP/resp" -w '%{http_code}' -X "$m" "$BASE$p"
	fi
}

# answers CODE METHOD PATH [BODY]: the request's status is CODE
answers() {
	local want=$1 got
	shift
	got=$(http "$@")
	[ "$got" = "$want" ] && return 0
	echo "$1 $2 -> $got, expected $want: $(head -c 300 "$TMP/resp")"
	return 1
}

# fails_with CODE METHOD PATH [BODY]: status CODE and a body that is
# exactly {"error": "<one non-empty line>"}
fails_with() {
	answers "$@" || return 1
	grep -qi '^content-type: application/json' "$TMP/hdr" || {
		echo "no JSON content type"
		return 1
	}
	jq -e 'keys == ["error"] and (.error | type == "string" and length > 0 and (contains("\n") | not))' \
		"$TMP/resp" >/dev/null || {
		echo "error body: $(head -c 300 "$TMP/resp")"
		return 1
	}
}

# same_json A-FILE B-FILE: equal once what changes by itself is dropped
same_json() {
	diff <(json_stable <"$1") <(json_stable <"$2")
}

# as_cubectl PATH CUBECTL-WORDS...: GET PATH equals `cubectl WORDS -json`
as_cubectl() {
	local p=$1
	shift
	answers 200 GET "$p" || return 1
	cubectl "$@" -json >"$TMP/cli.json" || return 1
	same_json "$TMP/resp" "$TMP/cli.json"
}

header() { # NAME: the value of header NAME in the last reply
	grep -i "^$1:" "$TMP/hdr" | head -n 1 | cut -d: -f2- | tr -d '\r' | sed 's/^ *//'
}

# Every line of Prometheus' text format: a HELP/TYPE comment, or
# name{label="value",...} value
PROM_LINE='^(# (HELP|TYPE) [a-zA-Z_:][a-zA-Z0-9_:]* .+|[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\]|\\.)*",?)*\})? -?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?)$'
metrics() {
	curl -s -D "$TMP/mhdr" -o "$TMP/metrics" -w '%{http_code}' "http://127.0.0.1:$PORT/metrics"
}
metrics_parse() {
	[ "$(metrics)" = 200 ] || return 1
	grep -qi '^content-type: text/plain; version=0.0.4' "$TMP/mhdr" || return 1
	[ -s "$TMP/metrics" ] || return 1
	if grep -vE "$PROM_LINE" "$TMP/metrics" | matches -q .; then
		grep -vE "$PROM_LINE" "$TMP/metrics" | head -n 3
		return 1
	fi
}
metric() { # NAME LABELS: the value of that sample ("" if none)
	metrics >/dev/null
	grep -F "$1{$2} " "$TMP/metrics" | awk '{print $2}'
}

# ---- a broker with REST on a free port --------------------------------------
BASE=
for try in 1 2 3 4 5; do
	PORT=$((20000 + RANDOM % 20000))
	ss -Hltn "sport = :$PORT" 2>/dev/null | matches -q . && continue
	start_broker --rest 127.0.0.1:$PORT || {
		not_ok "broker starts" "see the log below"
		exit 1
	}
	# REST starts before the broker answers: taken now means taken
	if ! grep -q 'running without REST' "$BROKER_LOG"; then
		BASE=http://127.0.0.1:$PORT/polycube/v1
		break
	fi
	log "port $PORT is taken, trying another"
	stop_broker
	: >"$BROKER_LOG"
done
if [ -z "$BASE" ]; then
	not_ok "REST listens" "no free port in 5 tries"
	exit 1
fi
ok "broker with REST on 127.0.0.1:$PORT"
add_host h1 10.0.0.1/24 && add_host h2 10.0.0.2/24 || {
	not_ok "hosts"
	exit 1
}

check "GET /version" answers 200 GET /version
check "it is cubectl version -json" same_json "$TMP/resp" <(cubectl version -json)
check "Content-Type application/json" test "$(header Content-Type)" = application/json
check "HEAD /cubes" test "$(curl -s -o /dev/null -w '%{http_code}' -I "$BASE/cubes")" = 200

# ---- a bridge, through REST only ------------------------------------------------
check "POST /simplebridge/br1 creates the bridge (201)" answers 201 POST /simplebridge/br1 '{"type":"TC"}'
check "cubectl cubes lists br1" test "$(cube_field br1 service)" = simplebridge
check "POST /br1/ports/p1 (201)" answers 201 POST /br1/ports/p1 "{\"peer\":\"$(veth h1)\"}"
check "POST /simplebridge/br1/ports/p2 (201)" answers 201 POST /simplebridge/br1/ports/p2 "{\"peer\":\"$(veth h2)\"}"
check "GET /br1 is cubectl br1 show -json" as_cubectl /br1 br1 show
check "GET /simplebridge/br1 is the same" as_cubectl /simplebridge/br1 br1 show
check "GET /br1/ports is cubectl br1 ports show -json" as_cubectl /br1/ports br1 ports show
check "GET /br1/ports/p1/peer is the leaf" eval "answers 200 GET /br1/ports/p1/peer && \
	[ \"\$(jq -r . \"\$TMP/resp\")\" = $(veth h1) ]"
check "h1 pings h2 across br1" ping_ok h1 10.0.0.2
check "h2 pings h1 across br1" ping_ok h2 10.0.0.1

check "PATCH /br1/fdb/aging-time 30 (204)" answers 204 PATCH /br1/fdb/aging-time 30
check "aging-time is 30" test "$(cubectl br1 fdb show -json | jq '."aging-time"')" = 30
check "PATCH /br1 {loglevel: DEBUG} (204)" answers 204 PATCH /br1 '{"loglevel":"DEBUG"}'
check "loglevel is DEBUG" test "$(cubectl br1 show -json | jq -r .loglevel)" = DEBUG
check "PUT /br1/fdb {aging-time: 45}" eval 'answers 204 PUT /br1/fdb "{\"aging-time\":45}" ||
	answers 200 PUT /br1/fdb "{\"aging-time\":45}"'
check "aging-time is 45" test "$(cubectl br1 fdb show -json | jq '."aging-time"')" = 45
check "POST /br1/fdb/flush runs the action (200 or 204)" eval 'answers 200 POST /br1/fdb/flush ||
	answers 204 POST /br1/fdb/flush'
check "OPTIONS /br1/ports is the help of the list" eval 'answers 200 OPTIONS /br1/ports &&
	jq -e ".kind == \"list\" and .keys == [\"name\"]" "$TMP/resp"'
check "OPTIONS says Allow" eval '[ -n "$(header Allow)" ]'
check "it is cubectl br1 ports ? -json" same_json "$TMP/resp" <(cubectl br1 ports '?' -json)
check "OPTIONS /cubes: 204, Allow GET, HEAD, OPTIONS" eval 'answers 204 OPTIONS /cubes &&
	[ "$(header Allow)" = "GET, HEAD, OPTIONS" ]'

# ---- errors ---------------------------------------------------------------------
# settings the system does not do yet: refused (501), nothing stored
cp_before=$(cubectl br1 show -json | json_stable)
check "501: PATCH /br1 {shadow: true}" fails_with 501 PATCH /br1 '{"shadow":true}'
check "the error says shadow is not supported yet" grep -q 'shadow is not supported yet' "$TMP/resp"
check "501: PATCH /br1/span true" fails_with 501 PATCH /br1/span true
check "501: POST /simplebridge/brs {span: true}" fails_with 501 POST /simplebridge/brs '{"span":true}'
check "no cube brs" eval '! cubectl brs show >/dev/null 2>&1'
check "br1 unchanged by the refusals" test "$(cubectl br1 show -json | json_stable)" = "$cp_before"
check "400: POST /attach of a standard cube" fails_with 400 POST /attach '{"cube":"br1","port":"br1:p1"}'
check "the error says only transparent cubes attach" grep -q 'only transparent cubes attach' "$TMP/resp"
check "400: DELETE /attach of a standard cube" fails_with 400 DELETE /attach '{"cube":"br1","port":"br1:p1"}'
check "400: POST /detach without a cube" fails_with 400 POST /detach '{}'
check "the error says what detach needs" grep -q 'detach needs a transparent cube and CUBE:PORT' "$TMP/resp"
check "404: GET /nosuch" fails_with 404 GET /nosuch
check "404: GET /br1/ports/p9" fails_with 404 GET /br1/ports/p9
check "404: DELETE /br1/ports/p9" fails_with 404 DELETE /br1/ports/p9
check "404: a path without /polycube/v1" eval "curl -s -o \"\$TMP/resp\" -w '%{http_code}' \
	http://127.0.0.1:$PORT/br1 | matches -qx 404 && jq -e .error \"\$TMP/resp\""
check "409: POST /simplebridge/br1 again" fails_with 409 POST /simplebridge/br1
check "409: POST /br1/ports/p1 again" fails_with 409 POST /br1/ports/p1
check "400: a body that is not JSON" fails_with 400 POST /br1/ports/p3 'peer=x'
check "400: JSON with trailing data" fails_with 400 PATCH /br1 '{"loglevel":"INFO"} x'
check "400: a value the model refuses" fails_with 400 PATCH /br1/fdb/aging-time '"soon"'
check "it says it as cubectl does, in words" eval 'fails_with 400 PATCH /br1/fdb/aging-time "\"soon\"" &&
	[ "$(jq -r .error "$TMP/resp")" = "br1: fdb aging-time: soon is not a whole number from 0 to 1000000" ] &&
	[ "$(cubectl br1 fdb set aging-time=soon 2>&1)" = "cubectl: $(jq -r .error "$TMP/resp")" ]'
check "400: a bad enum in a body, said in words" eval 'fails_with 400 PATCH /br1 "{\"loglevel\":\"LOUD\"}" &&
	jq -e ".error == \"br1: loglevel: LOUD is not one of TRACE, DEBUG, INFO, WARN, ERR, CRITICAL, OFF\"" "$TMP/resp"'
check "405: PATCH /cubes" fails_with 405 PATCH /cubes '{}'
check "405: an unknown method" fails_with 405 BREW /cubes
check "405: GET of an action" fails_with 405 GET /br1/fdb/flush
head -c $((2 << 20)) /dev/zero | tr '\0' ' ' >"$TMP/big.json"
check "413: a 2 MiB body" fails_with 413 POST /br1/ports/p3 "@$TMP/big.json"
check "413: a 2 MiB chunked body" eval "[ \"\$(curl -s -o \"\$TMP/resp\" -w '%{http_code}' -X POST \
	-H 'Transfer-Encoding: chunked' --data-binary @\"\$TMP/big.json\" \"\$BASE/br1/ports/p3\")\" = 413 ] &&
	jq -e .error \"\$TMP/resp\""
check "nothing changed: no port p3" fails_with 404 GET /br1/ports/p3
check "br1 still forwards" ping_ok h1 10.0.0.2

# ---- connect ----------------------------------------------------------------------
check "POST /simplebridge/br2 with a port" answers 201 POST /simplebridge/br2 '{"ports":[{"name":"q1"}]}'
check "POST /connect br1:p3 br2:q1 (201)" answers 201 POST /connect '{"peer1":"br1:p3","peer2":"br2:q1"}'
check "GET /topology shows the link" eval 'answers 200 GET /topology &&
	jq -e "any(.[]; .port == \"br1:p3\" and .peer == \"br2:q1\")" "$TMP/resp"'
check "GET /topology is cubectl topology -json" as_cubectl /topology topology
check "405: PATCH /connect" fails_with 405 PATCH /connect '{"peer1":"br1:p3","peer2":"br2:q1"}'
check "DELETE /connect br1:p3 br2:q1 (204)" answers 204 DELETE /connect '{"peer1":"br1:p3","peer2":"br2:q1"}'
check "the link is gone" test "$(cubectl topology -json | jq '[.[] | select(.port == "br1:p3")] | length')" = 0
check "404: DELETE /connect again" fails_with 404 DELETE /connect '{"peer1":"br1:p3","peer2":"br2:q1"}'
check "DELETE /br2 (204)" answers 204 DELETE /br2
# a transparent cube: POST /attach, its place in GET /topology, DELETE /attach
check "POST /transparenthelloworld/tr1" answers 201 POST /transparenthelloworld/tr1 '{"type":"TC"}'
check "POST /attach tr1 br1:p1 (201)" answers 201 POST /attach '{"cube":"tr1","port":"br1:p1","position":"first"}'
check "GET /topology lists tr1 on br1:p1" eval 'answers 200 GET /topology &&
	jq -e "any(.[]; .port == \"br1:p1\" and .tcubes == [\"tr1\"])" "$TMP/resp"'
check "GET /br1/ports/p1 lists tr1 in tcubes" eval 'answers 200 GET /br1/ports/p1 &&
	jq -e ".tcubes == [\"tr1\"]" "$TMP/resp"'
check "409: POST /attach tr1 again" fails_with 409 POST /attach '{"cube":"tr1","port":"br1:p1"}'
check "DELETE /attach tr1 br1:p1 (204)" answers 204 DELETE /attach '{"cube":"tr1","port":"br1:p1"}'
check "404: DELETE /attach again" fails_with 404 DELETE /attach '{"cube":"tr1","port":"br1:p1"}'
check "DELETE /tr1 (204)" answers 204 DELETE /tr1

# ---- a key with a '/' -------------------------------------------------------------
if cubectl services -json | jq -e 'any(.[]; .name == "router")' >/dev/null; then
	R=/r1/route/10.0.3.0%2F24/10.1.0.2
	check "POST /router/r1" answers 201 POST /router/r1
	check "POST /r1/ports/up" answers 201 POST /r1/ports/up '{"ip":"10.1.0.1/24"}'
	check "POST $R (201)" answers 201 POST "$R" '{"pathcost":3}'
	check "GET $R is the route" eval 'answers 200 GET "$R" &&
		jq -e ".network == \"10.0.3.0/24\" and .nexthop == \"10.1.0.2\" and .pathcost == 3" "$TMP/resp"'
	check "it is cubectl r1 route 10.0.3.0/24 10.1.0.2 show -json" \
		as_cubectl "$R" r1 route 10.0.3.0/24 10.1.0.2 show
	check "PATCH $R pathcost 5" answers 204 PATCH "$R" '{"pathcost":5}'
	check "cubectl sees pathcost 5" test "$(cubectl r1 route show -json |
		jq '.[] | select(.network == "10.0.3.0/24") | .pathcost')" = 5
	check "DELETE $R (204)" answers 204 DELETE "$R"
	check "the route is gone" fails_with 404 GET "$R"
	check "DELETE /router/r1 (204)" answers 204 DELETE /router/r1
else
	skip "a route key with %2F" "no router service"
fi

# ---- restart, metrics -------------------------------------------------------------
pid=$(cube_field br1 pid)
check "POST /br1/restart: 204, not 201" answers 204 POST /br1/restart
check "br1 runs in a new process" test "$(cube_field br1 pid)" != "$pid"
check "br1 forwards after the restart" ping_ok h1 10.0.0.2

check "/metrics is Prometheus text" metrics_parse
check "cubebus_cube_up of br1 is 1" test "$(metric cubebus_cube_up 'cube="br1",service="simplebridge",type="TC"')" = 1
check "cubebus_cube_restarts_total of br1 is 1" \
	test "$(metric cubebus_cube_restarts_total 'cube="br1",service="simplebridge",type="TC"')" = 1
check "cubebus_port_rx_packets_total of br1:p1 counts the pings" \
	test "$(metric cubebus_port_rx_packets_total 'cube="br1",port="p1"')" -ge 4
check "cubebus_port_tx_packets_total of br1:p2 counts the pings" \
	test "$(metric cubebus_port_tx_packets_total 'cube="br1",port="p2"')" -ge 4
check "cubebus_port_drops_total of br1:p1" test -n "$(metric cubebus_port_drops_total 'cube="br1",port="p1"')"
check "405: POST /metrics" eval "[ \"\$(curl -s -o /dev/null -w '%{http_code}' -X POST \
	http://127.0.0.1:$PORT/metrics)\" = 405 ]"

if [ -x "$TOP/build/bench/restlat" ]; then
	check "100 GETs on one keep-alive connection (restlat)" \
		"$TOP/build/bench/restlat" --n 100 --addr 127.0.0.1:$PORT /polycube/v1/br1/ports
fi

# ---- delete ------------------------------------------------------------------------
check "DELETE /br1/ports/p2 (204)" answers 204 DELETE /br1/ports/p2
check "no ping to h2 without p2" ping_fails h1 10.0.0.2
check "DELETE /br1 (204)" answers 204 DELETE /br1
check "404: GET /br1 once deleted" fails_with 404 GET /br1
check "GET /cubes is empty" eval 'answers 200 GET /cubes && [ "$(jq length "$TMP/resp")" = 0 ]'

# ---- a taken port does not stop the broker -----------------------------------------
stop_broker
check "REST port closed with the broker" eval "! curl -s -o /dev/null --max-time 2 \"\$BASE/version\""
: >"$TMP/taker.out"
nc -l 127.0.0.1 $PORT >"$TMP/taker.out" 2>&1 &
taker=$!
if wait_for 3 eval "ss -Hltn 'sport = :$PORT' | matches -q ."; then
	if start_broker --rest 127.0.0.1:$PORT; then
		ok "broker starts while its REST port is taken"
		check "it says so, once" test "$(grep -c 'running without REST' "$BROKER_LOG")" = 1
		check "cubectl works" cubectl cubes
	else
		not_ok "broker starts while its REST port is taken" "see the log below"
	fi
	stop_broker
else
	skip "broker starts while its REST port is taken" "cannot listen with nc"
fi
kill $taker 2>/dev/null
wait $taker 2>/dev/null || true # killed: its status is not the test's
