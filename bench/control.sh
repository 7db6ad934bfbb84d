#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Control-plane figures: time from `cubectl simplebridge add` to a cube that
# forwards (median and p99 of N), RSS of cube processes and of the broker.
# Private broker, two hosts in namespaces; cleans up after itself.
# Usage: bench/control.sh [N]   (default 20). Prints a Markdown table.
set -uo pipefail
cd "$(dirname "$0")/.."
top=$PWD
export PATH="$top/build/bin:$PATH"
N=${1:-20}
id=cbb$(printf '%05x' $((RANDOM * 32 + RANDOM % 32)))
tmp=$(mktemp -d /tmp/$id.XXXX)
export CUBEBUS_RUN_DIR=$tmp/run CUBEBUS_STATE_DIR=$tmp/state CUBEBUS_BPFFS=/sys/fs/bpf/$id

cleanup() {
	[ -n "${bpid:-}" ] && kill -9 "$bpid" 2>/dev/null
	cubebusd --cleanup >/dev/null 2>&1
	ip netns del "$id-a" 2>/dev/null
	ip netns del "$id-b" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

for h in a b; do
	ip netns add "$id-$h"
	ip link add "${id}$h" type veth peer name eth0 netns "$id-$h"
	ip -n "$id-$h" link set eth0 up
	ip link set "${id}$h" up
done
ip -n "$id-a" addr add 10.77.0.1/24 dev eth0
ip -n "$id-b" addr add 10.77.0.2/24 dev eth0
# static neighbours: what is timed is the cube, not ARP
mac_b=$(ip -n "$id-b" -o link show eth0 | grep -o 'link/ether [0-9a-f:]*' | cut -d' ' -f2)
ip -n "$id-a" neigh add 10.77.0.2 lladdr "$mac_b" dev eth0

cubebusd 2>"$tmp/broker.log" &
bpid=$!
for _ in $(seq 100); do cubectl version >/dev/null 2>&1 && break; sleep 0.05; done

now_ns() { date +%s%N; }
times=() cmd_times=()
for i in $(seq "$N"); do
	body="{\"ports\":[{\"name\":\"p1\",\"peer\":\"${id}a\"},{\"name\":\"p2\",\"peer\":\"${id}b\"}]}"
	t0=$(now_ns)
	# the request straight on the bus (cubectl's own start-up, ~5-9 ms of
	# loading libraries and a ZeroMQ context, is measured separately below)
	"$top/build/bench/buslat" --n 1 "/simplebridge/b$i" create "$body" >/dev/null || { echo "create failed"; exit 1; }
	t1=$(now_ns)
	# first probe that crosses the new cube (one UDP datagram, seen by tcpdump-free check: ping reply)
	until ip netns exec "$id-a" ping -c 1 -W 0.02 -q 10.77.0.2 >/dev/null 2>&1; do :; done
	t2=$(now_ns)
	cmd_times+=($(((t1 - t0) / 1000)))
	times+=($(((t2 - t0) / 1000)))
	if [ "$i" -eq "$N" ]; then
		cpid=$(cubectl cubes -json | grep -o '"pid": *[0-9]*' | tail -1 | grep -o '[0-9]*$')
		rss_cube=$(awk '/VmRSS/ {print $2}' "/proc/$cpid/status")
	fi
	cubectl del "b$i" >/dev/null
done
# broker RSS with 20 cubes
for i in $(seq 20); do cubectl simplebridge add "r$i" >/dev/null; done
rss_broker=$(awk '/VmRSS/ {print $2}' "/proc/$bpid/status")
rss_all=0
for p in $(cubectl cubes -json | grep -o '"pid": *[0-9]*' | grep -o '[0-9]*$'); do
	rss_all=$((rss_all + $(awk '/VmRSS/ {print $2}' "/proc/$p/status")))
done

# cubectl's own cost: a process that loads its libraries and a ZeroMQ context
t0=$(now_ns)
for i in $(seq 20); do cubectl version >/dev/null; done
t1=$(now_ns)
cubectl_ms=$(((t1 - t0) / 20000))
# request latency over the bus: broker-only and through a cube (a read asks it)
read -r lat_ver_med lat_ver_p99 <<<"$("$top/build/bench/buslat" --n 500 /version read)"
read -r lat_cube_med lat_cube_p99 <<<"$("$top/build/bench/buslat" --n 200 /r1 read)"
# a configuration change acknowledged by the cube (database + cube + kernel)
read -r lat_set_med lat_set_p99 <<<"$(for i in $(seq 50); do
	t0=$(now_ns); cubectl r1 fdb set aging-time=$((100 + i)) >/dev/null; t1=$(now_ns)
	echo $(((t1 - t0) / 1000))
done | sort -n | awk '{a[NR]=$1} END {printf "%d %d", a[int((NR+1)/2)], a[int(NR*0.99+0.999)]}')"
# hot swap: a new process loads its programs and swaps them in (cubectl restart)
swaps=()
for i in $(seq 10); do
	t0=$(now_ns); cubectl r1 restart >/dev/null; t1=$(now_ns)
	swaps+=($(((t1 - t0) / 1000)))
done
# a transparent cube attached to a port whose peer is a netdev (the store,
# the chain wired, the netdev's stub moved to it) and detached again
cubectl r1 ports add pa peer="${id}a" >/dev/null
cubectl transparenthelloworld add ta >/dev/null
until cubectl cubes -json | jq -e '.[] | select(.name == "ta" and .status == "running")' >/dev/null; do sleep 0.01; done
att=() det=()
for i in $(seq 20); do
	read -r m _ <<<"$("$top/build/bench/buslat" --n 1 /attach create '{"cube":"ta","port":"r1:pa"}')"
	att+=("$m")
	read -r m _ <<<"$("$top/build/bench/buslat" --n 1 /attach delete '{"cube":"ta","port":"r1:pa"}')"
	det+=("$m")
done
cubectl del ta >/dev/null
for i in $(seq 20); do cubectl del "r$i" >/dev/null; done

# 100 cubes created and connected in a chain (simpleforwarders)
t0=$(now_ns)
for i in $(seq 100); do
	cubectl simpleforwarder add "f$i" >/dev/null || { echo "create f$i failed"; exit 1; }
	[ "$i" -gt 1 ] && cubectl connect "f$((i - 1)):east" "f$i:west" >/dev/null
done
t1=$(now_ns)
create100_ms=$(((t1 - t0) / 1000000))
rss_broker100=$(awk '/VmRSS/ {print $2}' "/proc/$bpid/status")
# broker restart with 100 cubes: adopt them all, until every one runs
kill -9 "$bpid"
wait "$bpid" 2>/dev/null
t0=$(now_ns)
cubebusd 2>>"$tmp/broker.log" &
bpid=$!
until [ "$(cubectl cubes -json 2>/dev/null | grep -c '"status": *"running"')" -ge 100 ]; do sleep 0.01; done
t1=$(now_ns)
restart100_ms=$(((t1 - t0) / 1000000))
# and with every cube process gone too: respawn them all
pkill -9 -f "cube-simpleforwarder.*--run-dir $CUBEBUS_RUN_DIR" || true
kill -9 "$bpid"
wait "$bpid" 2>/dev/null
t0=$(now_ns)
cubebusd 2>>"$tmp/broker.log" &
bpid=$!
until [ "$(cubectl cubes -json 2>/dev/null | grep -c '"status": *"running"')" -ge 100 ]; do sleep 0.05; done
t1=$(now_ns)
respawn100_ms=$(((t1 - t0) / 1000000))
pinned_kib=$(for f in $(find "$CUBEBUS_BPFFS/cubes/f1" -type f); do bpftool map show pinned "$f" 2>/dev/null; done |
	grep -o 'memlock [0-9]*B' | grep -o '[0-9]*' | awk '{s+=$1} END {printf "%d", s/1024}')

stats() { # median and p99 in ms of the given microsecond values
	printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {m=a[int((NR+1)/2)]; p=a[int(NR*0.99+0.999)]; printf "%.1f %.1f", m/1000, p/1000}'
}
read -r med p99 <<<"$(stats "${times[@]}")"
read -r cmed cp99 <<<"$(stats "${cmd_times[@]}")"
echo "| figure | value | target |"
echo "|---|---:|---|"
echo "| create request (simplebridge, 2 ports) answered: cube running, linked, attached; median / p99 of $N | ${cmed} / ${cp99} ms | |"
echo "| creation to first packet forwarded, median / p99 of $N | ${med} / ${p99} ms | < 10 ms median |"
echo "| RSS of one cube process (simplebridge) | $((rss_cube / 1024)).$(((rss_cube % 1024) * 10 / 1024)) MiB | < 8 MiB |"
echo "| RSS of 20 cube processes together | $((rss_all / 1024)) MiB | |"
echo "| broker RSS with 20 cubes | $((rss_broker / 1024)).$(((rss_broker % 1024) * 10 / 1024)) MiB | |"
echo "| broker RSS with 100 cubes | $((rss_broker100 / 1024)).$(((rss_broker100 % 1024) * 10 / 1024)) MiB | |"
echo "| pinned map memory of one simpleforwarder cube (memlock of its maps) | ${pinned_kib} KiB | |"
read -r amed ap99 <<<"$(stats "${att[@]}")"
read -r dmed dp99 <<<"$(stats "${det[@]}")"
echo "| attach a transparent cube to a port with a netdev peer (stored, chain wired, stub moved to it), median / p99 of 20 | ${amed} / ${ap99} ms | |"
echo "| detach it (the port's own stub back in place), median / p99 of 20 | ${dmed} / ${dp99} ms | |"
read -r smed sp99 <<<"$(stats "${swaps[@]}")"
echo "| hot swap (\`cubectl CUBE restart\`: new process, programs loaded and swapped in), median / p99 of 10 | ${smed} / ${sp99} ms | milliseconds |"
echo "| one \`cubectl version\` (process start, connect, request, exit), mean of 20 | $((cubectl_ms / 1000)).$(((cubectl_ms % 1000) / 100)) ms | |"
echo "| request over the bus, broker only (\`/version\`), median / p99 of 500 | ${lat_ver_med} / ${lat_ver_p99} µs | |"
echo "| request over the bus answered with the cube's state (\`/r1\` read), median / p99 of 200 | ${lat_cube_med} / ${lat_cube_p99} µs | |"
echo "| configuration change (\`cubectl r1 fdb set aging-time=N\`: validate, store, cube, kernel), median / p99 of 50 | $((lat_set_med / 1000)).$(((lat_set_med % 1000) / 100)) / $((lat_set_p99 / 1000)).$(((lat_set_p99 % 1000) / 100)) ms | < 1 ms p99 (rule updates) |"
echo "| 100 cubes created and connected in a chain (200 commands) | ${create100_ms} ms | |"
echo "| broker kill -9 and restart with 100 running cubes, until all adopted and running | ${restart100_ms} ms | |"
echo "| broker and all 100 cube processes killed, restart until all respawned and running | ${respawn100_ms} ms | |"
