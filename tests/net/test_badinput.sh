#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Bad input: every wrong request exits non-zero with one error line and
# changes nothing (cubes, cube configs, pins, TC filters, XDP attachments);
# a cube binary that fails to start, or dies while created, leaves nothing
# behind; malformed and oversized bus messages do not hurt the broker.
. "$(dirname "$0")/lib.sh"

BUSJUNK=$TOP/build/tests/tools/busjunk

# snapshot: what a refused request must leave as it was
snapshot() {
	local d
	cubectl cubes -json | json_stable
	for c in br1 brx rx; do
		# learned entries are traffic's business, not the request's
		cubectl "$c" show -json | json_stable | jq -S 'del(.fdb.entry)'
	done
	for d in $(veth h1) $(veth h2); do
		echo "== tc $d"
		tc filter show dev "$d" ingress
	done
	echo "== xdp $(veth h3)"
	ip -d link show dev "$(veth h3)" | grep -oE 'prog/xdp id [0-9]+|xdpgeneric'
	echo "== pins"
	find "$CUBEBUS_BPFFS" | sort
	echo "== links" # ours only: other tests and demos come and go
	ip -o link show | awk -F': ' '{print $2}' | grep "^$ID" | sort
	echo "== processes"
	pgrep -f -- "--run-dir $CUBEBUS_RUN_DIR" | sort
}

# bad NAME PATTERN command...: the command fails with one line on stderr
# ("cubectl: ..." matching the extended regex PATTERN), prints nothing on
# stdout, and the snapshot is unchanged. Three checks.
bad() {
	local name=$1 pat=$2 before after rc
	shift 2
	before=$(snapshot)
	"$@" >"$TMP/out" 2>"$TMP/err"
	rc=$?
	after=$(snapshot)
	log "$name: exit $rc: $(head -c 300 "$TMP/err")"
	[ $rc -ne 0 ] && ok "$name: fails" || not_ok "$name: fails" "exit status 0"
	if [ "$(wc -l <"$TMP/err")" = 1 ] && grep -q '^cubectl: ' "$TMP/err" && [ ! -s "$TMP/out" ] &&
		grep -qiE -- "$pat" "$TMP/err"; then
		ok "$name: one error line"
	else
		not_ok "$name: one error line" "stderr: $(head -c 300 "$TMP/err" | tr '\n' '|') stdout: $(head -c 100 "$TMP/out")"
	fi
	if [ "$before" = "$after" ]; then
		ok "$name: nothing changed"
	else
		not_ok "$name: nothing changed" "$(diff <(echo "$before") <(echo "$after") | head -n 6 | tr '\n' '|')"
	fi
}

# said NAME SENTENCE command...: bad, and the error line is exactly
# "cubectl: SENTENCE" (fixed text), with no regular expression in it
said() {
	local name=$1 want=$2
	shift 2
	bad "$name" "" "$@"
	if [ "$(cat "$TMP/err")" = "cubectl: $want" ]; then
		ok "$name: says '$want'"
	else
		not_ok "$name: says '$want'" "said: $(head -c 300 "$TMP/err")"
	fi
	if grep -qE '\[0-9|\{[0-9]|\(\(|\\\.|conform' "$TMP/err"; then
		not_ok "$name: no regular expression" "$(head -c 300 "$TMP/err")"
	else
		ok "$name: no regular expression"
	fi
}

# no_trace CUBE: no cube of that name anywhere
no_trace() {
	[ -z "$(cubectl cubes -json | jq -r --arg c "$1" '.[] | select(.name == $c) | .name')" ] &&
		[ ! -e "$CUBEBUS_BPFFS/cubes/$1" ] &&
		! pgrep -f -- "--name $1 .*--run-dir $CUBEBUS_RUN_DIR" >/dev/null &&
		! cubectl "$1" show >/dev/null 2>&1
}

# fails_to_start NAME SCRIPT PATTERN: cube-helloworld of the private copy
# replaced by SCRIPT; `helloworld add h` must fail naming PATTERN and leave
# no trace
fails_to_start() {
	local name=$1 script=$2 pat=$3 before rc
	printf '#!/bin/sh\n%s\n' "$script" >"$TMP/inst/bin/cube-helloworld"
	chmod +x "$TMP/inst/bin/cube-helloworld"
	before=$(cubectl cubes -json | json_stable)
	cubectl helloworld add h >"$TMP/out" 2>"$TMP/err"
	rc=$?
	log "$name: exit $rc: $(cat "$TMP/err")"
	[ $rc -ne 0 ] && ok "$name: helloworld add h fails" || not_ok "$name: helloworld add h fails" "exit status 0"
	check "$name: one error line naming the cause ($pat)" \
		eval "[ \$(wc -l <'$TMP/err') = 1 ] && grep -qE '$pat' '$TMP/err'"
	check "$name: cubes unchanged" test "$(cubectl cubes -json | json_stable)" = "$before"
	check "$name: no trace of h (cubes, pins, process)" no_trace h
	check "$name: the name h is free again (cubectl h show fails)" eval '! cubectl h show'
}

start_broker || {
	not_ok "broker starts" "see the log below"
	exit 1
}
for i in 1 2 3; do
	add_host h$i 10.0.0.$i/24 || {
		not_ok "host h$i"
		exit 1
	}
done
ok=1
cubectl simplebridge add br1 &&
	cubectl br1 ports add p1 peer="$(veth h1)" &&
	cubectl br1 ports add p2 peer="$(veth h2)" &&
	cubectl simplebridge add brx type=XDP_SKB &&
	cubectl brx ports add px1 peer="$(veth h3)" &&
	cubectl router add rx && cubectl rx ports add up ip=10.0.9.1/24 || ok=0
[ $ok = 1 ] && ok "setup: br1 (TC) h1 h2, brx (XDP_SKB) h3, router rx" ||
	not_ok "setup: br1 (TC) h1 h2, brx (XDP_SKB) h3, router rx"
check "h1->h2 through br1" ping_ok h1 10.0.0.2

# ---- requests ---------------------------------------------------------------
bad "unknown service" 'nosuchservice' cubectl nosuchservice add x
bad "duplicate cube name" 'br1.*exists|exists.*br1' cubectl simplebridge add br1
bad "duplicate name, other service" 'br1' cubectl helloworld add br1
bad "duplicate name, other type" 'br1' cubectl simplebridge add br1 type=XDP_SKB
bad "unknown port" 'nope' cubectl br1 ports nope set peer=x
bad "peer: missing netdev" "${ID}zz|no such" cubectl br1 ports p1 set peer="${ID}zz"
bad "new port, peer a missing netdev" "${ID}zz|no such" cubectl br1 ports add p9 peer="${ID}zz"
bad "peer: netdev already used by another port" 'already' cubectl br1 ports add p9 peer="$(veth h2)"
bad "peer: a port as its own peer" 'own peer|itself' cubectl br1 ports p1 set peer=br1:p1
bad "peer: a missing cube" 'nosuchcube' cubectl br1 ports p1 set peer=nosuchcube:p1
bad "wrong type: aging-time=abc" 'aging-time|abc' cubectl br1 fdb set aging-time=abc
bad "out of range: aging-time=99999999" 'range|99999999' cubectl br1 fdb set aging-time=99999999
bad "negative: aging-time=-1" 'aging-time|-1' cubectl br1 fdb set aging-time=-1
bad "bad enum on create: type=FOO" 'FOO' cubectl simplebridge add brfoo type=FOO
check "type=FOO created nothing" no_trace brfoo
bad "bad enum on update: loglevel=LOUD" 'LOUD' cubectl br1 set loglevel=LOUD
bad "type is fixed after creation" 'type' cubectl br1 set type=XDP_SKB
bad "unknown leaf" 'nosuchleaf' cubectl br1 set nosuchleaf=1
bad "TC port connected to an XDP port" 'TC.*XDP|XDP.*TC' cubectl connect br1:p9 brx:px9
bad "connect to a missing cube" 'nosuchcube' cubectl connect br1:p9 nosuchcube:p1
bad "disconnect ports that are not connected" 'not connected' cubectl disconnect br1:p1 brx:px1
bad "invalid name: starts with a digit" '1bad' cubectl simplebridge add 1bad
bad "invalid name: 40 characters" 'name' cubectl simplebridge add "a$(printf 'b%.0s' {1..39})"
bad "invalid name: a command word" 'cubes' cubectl simplebridge add cubes
bad "invalid name: a service name" 'helloworld' cubectl simplebridge add helloworld
bad "invalid name: bad characters" 'name' cubectl simplebridge add 'a$b'
bad "invalid port name" 'name|p\$' cubectl br1 ports add 'p$'
# accepted settings that did nothing: refused until they work
bad "shadow=true on create" 'shadow is not supported yet' cubectl simplebridge add brsh shadow=true
bad "span=true on create" 'span is not supported yet' cubectl simplebridge add brsp span=true
bad "shadow=true on set" 'shadow is not supported yet' cubectl br1 set shadow=true
bad "span=true on set" 'span is not supported yet' cubectl br1 set span=true
# transparent cubes attach; a standard one is refused, and so is a netdev (not yet)
bad "attach a standard cube" 'br1 is a simplebridge cube, which has ports: only transparent cubes attach' \
	cubectl attach br1 "br1:p1"
bad "detach a standard cube" 'br1 is a simplebridge cube, which has ports: only transparent cubes attach' \
	cubectl detach br1 "br1:p1"
bad "attach a cube that does not exist" 'there is no cube nosuch' cubectl attach nosuch br1:p1
check "shadow=false and span=false stay accepted" cubectl br1 set shadow=false span=false
check "shadow and span read false" test "$(cubectl br1 show -json | jq -c '[.shadow, .span]')" = '[false,false]'
add_veth d1
if cubectl simplebridge add brd type=XDP_DRV >/dev/null; then
	bad "XDP_DRV port on a veth" 'veth' cubectl brd ports add p1 peer="$(veth d1)"
	check "del brd" cubectl del brd
else
	not_ok "an XDP_DRV bridge brd"
fi
# ---- bad values in the user's words: one sentence per type the models use ----
said "router ip: ipv4-interface-prefix" "rx: ports x ip: 300.1.1.1/24 is not an IPv4 prefix (A.B.C.D/LEN)" \
	cubectl rx ports add x ip=300.1.1.1/24
said "router secondaryip: a union of interface prefixes" \
	"rx: ports up secondaryip ip: 10.0.9.7 is not an IPv4 prefix (A.B.C.D/LEN) or an IPv6 prefix (X:X::X/LEN)" \
	cubectl rx ports up secondaryip add 10.0.9.7
said "route network: inet:ip-prefix" \
	"rx: route network: 10.0.3.300/24 is not an IPv4 or IPv6 prefix (A.B.C.D/LEN or X:X::X/LEN)" \
	cubectl rx route add 10.0.3.300/24 10.0.9.2
said "route nexthop: inet:ip-address" \
	"rx: route nexthop: 10.0.9.x is not an IPv4 or IPv6 address (A.B.C.D or X:X::X)" \
	cubectl rx route add 10.0.3.0/24 10.0.9.x
said "arp-flush address: inet:ip-address (action input)" \
	"rx: arp-flush address: nowhere is not an IPv4 or IPv6 address (A.B.C.D or X:X::X)" \
	cubectl rx arp-flush address=nowhere
said "port mac: yang:mac-address" "rx: ports up mac: 00:11:22 is not a MAC address (xx:xx:xx:xx:xx:xx)" \
	cubectl rx ports up set mac=00:11:22
said "fdb entry address: yang:mac-address key" \
	"br1: fdb entry address: zz:zz is not a MAC address (xx:xx:xx:xx:xx:xx)" \
	cubectl br1 fdb entry add zz:zz port=p1
said "uint32 range" "rx: arp-aging-time: 100000 is not a whole number from 0 to 86400" \
	cubectl rx set arp-aging-time=100000
said "uint32 range in a container" "rx: slowpath-limit rate-limit: 0 is not a whole number from 1 to 1000000" \
	cubectl rx slowpath-limit set rate-limit=0
said "uint32 not a number" "br1: fdb aging-time: abc is not a whole number from 0 to 1000000" \
	cubectl br1 fdb set aging-time=abc
said "enumeration" "br1: loglevel: LOUD is not one of TRACE, DEBUG, INFO, WARN, ERR, CRITICAL, OFF" \
	cubectl br1 set loglevel=LOUD
said "enumeration on create" "type: FOO is not one of TC, XDP_SKB, XDP_DRV" cubectl simplebridge add brfoo type=FOO
said "boolean" "br1: shadow: maybe is not true or false" cubectl br1 set shadow=maybe
said "string length" "br1: ports p1 peer: $(printf 'x%.0s' {1..81}) is not text of at most 80 characters" \
	cubectl br1 ports p1 set peer="$(printf 'x%.0s' {1..81})"
said "cube-name pattern (a port name)" \
	"br1: ports name: p\$ is not a name of 1 to 32 letters, digits, '_', '.' or '-' that starts with a letter" \
	cubectl br1 ports add 'p$'
said "unknown leaf name" \
	"br1: a simplebridge cube has no nosuchleaf (it has: name, type, loglevel, ports, shadow, span, fdb)" \
	cubectl br1 set nosuchleaf=1
said "unknown leaf in a list entry" "br1: ports p1 has no colour (it has: name, peer)" cubectl br1 ports p1 set colour=red
said "state given as configuration" "br1: uuid is state the cube reports, not configuration: leave it out" \
	cubectl br1 set uuid=x
said "missing mandatory leaf" \
	"rx: arp-table 10.0.9.5: mac is missing: it is mandatory, give mac=VALUE, a MAC address (xx:xx:xx:xx:xx:xx)" \
	cubectl rx arp-table add 10.0.9.5 interface=up
said "missing mandatory leaf (fdb entry port)" \
	"br1: fdb entry aa:bb:cc:dd:ee:01: port is missing: it is mandatory, give port=VALUE, the name of one of the cube's ports" \
	cubectl br1 fdb entry add AA:BB:CC:DD:EE:01
# port references are leafrefs to the cube's ports: said by the broker, in the user's words
said "route on a port the router lacks" "rx: route 10.0.7.0/24 10.0.9.2 interface: p7 is not a port of this cube (its ports: up)" \
	cubectl rx route add 10.0.7.0/24 10.0.9.2 interface=p7
said "static neighbour on a port the router lacks" "rx: arp-table 10.0.9.7 interface: zz is not a port of this cube (its ports: up)" \
	cubectl rx arp-table add 10.0.9.7 mac=aa:bb:cc:dd:ee:07 interface=zz
if cubectl rx route add 10.0.8.0/24 10.0.9.2 interface=up; then
	said "deleting a port a route names" "rx: port up is in use: route 10.0.8.0/24 10.0.9.2 interface names it; delete or change that first" \
		cubectl rx ports del up
	cubectl rx route del 10.0.8.0/24 10.0.9.2 || not_ok "route 10.0.8.0/24 deleted"
else
	not_ok "a route on the router's port accepted"
fi
said "duplicate keys on create (one value, two spellings)" "route 10.0.4.0/24 10.0.9.2: given twice" \
	sh -c 'echo "{\"route\":[{\"network\":\"10.0.4.1/24\",\"nexthop\":\"10.0.9.2\"},
		{\"network\":\"10.0.4.2/24\",\"nexthop\":\"10.0.9.2\"}]}" | cubectl router add rdup'
check "rdup created nothing" no_trace rdup
said "duplicate port names on create" "ports a: given twice" \
	sh -c 'echo "{\"ports\":[{\"name\":\"a\"},{\"name\":\"a\"}]}" | cubectl simplebridge add bdup'
check "bdup created nothing" no_trace bdup
# (no model uses a leafref yet: nothing to refuse there)

bad "nosuchcube show" 'nosuchcube' cubectl nosuchcube show
bad "unknown verb word as a cube" 'frobnicate' cubectl frobnicate
check "h1->h2 still works after the bad requests" ping_ok h1 10.0.0.2

# ---- cube binaries that fail --------------------------------------------
# a private copy of the build: the broker takes cube-<service> next to its
# own binary and the models from ../share/cubebus/yang
mkdir -p "$TMP/inst" && cp -a "$BIN" "$TMP/inst/bin" && cp -a "$TOP/build/share" "$TMP/inst/share" ||
	not_ok "private copy of build/bin and build/share"
stop_broker
BROKER_BIN=$TMP/inst/bin/cubebusd
if start_broker; then ok "broker from the private copy started"; else not_ok "broker from the private copy started"; fi
check "the private broker adopted br1 and brx" wait_for 5 eval \
	'[ "$(cubectl cubes -json | jq -r "[.[].status] | unique | join(\",\")")" = running ]'
fails_to_start "cube exits 3 at once" 'exit 3' 'status 3'
fails_to_start "cube dies during creation" 'sleep 0.2; exit 1' 'status 1'
fails_to_start "cube killed by a signal" 'kill -9 $$' 'signal 9'
cp -a "$BIN/cube-helloworld" "$TMP/inst/bin/cube-helloworld"
check "with the real binary back, helloworld add h works" cubectl helloworld add h
check "del h" cubectl del h
check "broker alive after the failed cubes" cubectl version

# ---- junk on the bus --------------------------------------------------------
if ! [ -x "$BUSJUNK" ]; then
	# not built by make (tests/net/net.mk not included?): build it here
	BUSJUNK=$TMP/busjunk
	(cd "$TOP" && ${CC:-cc} -O2 -std=gnu11 -D_GNU_SOURCE -Iproto -Ibuild/gen $(pkg-config --cflags libczmq libprotobuf-c) \
		-o "$BUSJUNK" tests/tools/busjunk.c build/obj/gen/cubebus.pb-c.o build/obj/proto/bus.o \
		$(pkg-config --libs libczmq libzmq libprotobuf-c)) >"$TMP/busjunk.build" 2>&1 ||
		log "cannot build busjunk: $(tail -n 3 "$TMP/busjunk.build")"
fi
if [ -x "$BUSJUNK" ]; then
	pids_before=$(cubectl cubes -json | jq -c '[.[] | {name, pid, status}]')
	"$BUSJUNK" --timeout 500 ctl >"$TMP/junk.ctl" 2>&1
	rc=$?
	sed 's/^/# ctl /' "$TMP/junk.ctl"
	check "busjunk ctl ran (exit $rc)" test $rc = 0
	check "ctl: random bytes answered with an error or dropped" \
		grep -qE '^random: (reply status -[0-9]+|no reply)' "$TMP/junk.ctl"
	check "ctl: 2 MiB frame answered with an error or dropped" \
		grep -qE '^big: (reply status -[0-9]+|no reply)' "$TMP/junk.ctl"
	check "ctl: wrong bus version answered with an error naming the version" \
		grep -qE '^version: reply status -[0-9]+: .*version' "$TMP/junk.ctl"
	check "ctl: a valid request after the junk is answered" grep -q '^valid: reply status 0' "$TMP/junk.ctl"
	check "broker alive after junk on ctl" kill -0 "$BROKER_PID"
	check "cubectl version answers after junk on ctl" cubectl version

	"$BUSJUNK" --timeout 500 cubes >"$TMP/junk.cubes" 2>&1
	rc=$?
	sed 's/^/# cubes /' "$TMP/junk.cubes"
	check "busjunk cubes ran (exit $rc)" test $rc = 0
	check "cubes: a HELLO from an unknown cube after the junk gets STOP" \
		grep -q '^valid: reply kind STOP' "$TMP/junk.cubes"
	check "broker alive after junk on cubes" kill -0 "$BROKER_PID"
	check "cubectl version answers after junk on cubes" cubectl version
	check "cubes unchanged by the junk (same pids, running)" \
		test "$(cubectl cubes -json | jq -c '[.[] | {name, pid, status}]')" = "$pids_before"
	check "br1 still configurable after the junk" cubectl br1 fdb set aging-time=100
	check "h1->h2 still works after the junk" ping_ok h1 10.0.0.2
else
	not_ok "busjunk available" "not built: make tests-build (tests/net/net.mk)"
fi
