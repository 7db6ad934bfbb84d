#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Reads the tables of docs/BENCHMARKS.md (as bench/run.sh wrote them) and
# prints issue 5's and issue 9's targets against this run's figures: met,
# or missed.
set -uo pipefail
f=${1:-docs/BENCHMARKS.md}

# cell ROW-PREFIX COLUMN: the COLUMN-th cell (1-based) of the first table row starting with ROW-PREFIX
cell() {
	grep -F -m1 "$1" "$f" | awk -F'|' -v c="$2" '{gsub(/^ +| +$/, "", $(c + 1)); print $(c + 1)}'
}
num() { grep -oE '^[0-9]+(\.[0-9]+)?' <<<"$1" | head -1; }
verdict() { awk -v a="$1" -v op="$2" -v b="$3" 'BEGIN { ok = (op == ">=") ? (a >= b) : (a < b); print ok ? "met" : "**missed**" }'; }

echo "| target | this run | verdict |"
echo "|---|---|---|"
for hook in tc xdp; do
	r=$(cell "| $hook | single / cube-1 |" 5)
	[ -n "$r" ] && echo "| one cube ≥ 95 % of the hand-written program ($hook, per packet) | $r | $(verdict "$r" ">=" 0.95) |"
	a=$(cell "| $hook | chain-1 |" 6)
	[ -n "$a" ] && echo "| ≤ 5 ns added per hop ($hook, chain-1) | $a ns | $(verdict "$a" "<" 5.01) |"
	# issue 9: over this CPU's floor, and flat with the chain's length
	for n in 2 16; do
		a=$(cell "| $hook | chain-$n |" 6)
		fl=$(cell "| $hook | floor-$n |" 6)
		[ -n "$a" ] && [ -n "$fl" ] || continue
		r=$(awk -v a="$a" -v b="$fl" 'BEGIN { printf "%.2f", a - b }')
		echo "| ≤ 2 ns per hop over the floor ($hook, chain-$n − floor-$n) | $r ns | $(verdict "$r" "<" 2.01) |"
	done
	a2=$(cell "| $hook | chain-2 |" 6)
	a16=$(cell "| $hook | chain-16 |" 6)
	if [ -n "$a2" ] && [ -n "$a16" ]; then
		r=$(awk -v a="$a16" -v b="$a2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 99) }')
		f2=$(cell "| $hook | floor-2 |" 6)
		f16=$(cell "| $hook | floor-16 |" 6)
		fr=$(awk -v a="$f16" -v b="$f2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else printf "n/a, floor-2 below its noise" }')
		echo "| per hop at chain-16 ≤ 1.3 × chain-2 ($hook; the floor's own ratio: $fr) | $r | $(verdict "$r" "<" 1.301) |"
	fi
	c1=$(cell "| $hook | chain-1 |" 4)
	c8=$(cell "| $hook | chain-8 |" 4)
	if [ -n "$c1" ] && [ -n "$c8" ]; then
		r=$(awk -v a="$c1" -v b="$c8" 'BEGIN { printf "%.2f", a / b }')
		echo "| chain of 8 ≥ 85 % of one cube ($hook, per packet: chain-1 ns / chain-8 ns) | $r | $(verdict "$r" ">=" 0.85) |"
	fi
done
for mode in XDP_SKB TC; do
	row="| 8 simpleforwarders $mode |"
	m8=$(num "$(cell "$row" 2)")
	m1=$(num "$(cell "| 1 simpleforwarder $mode |" 2)")
	[ -z "$m8" ] || [ -z "$m1" ] && continue
	r=$(awk -v a="$m8" -v b="$m1" 'BEGIN { printf "%.2f", a / b }')
	echo "| chain of 8 ≥ 85 % of one cube ($mode, pps on veth: 8 cubes / 1 cube) | $r | $(verdict "$r" ">=" 0.85) |"
done
for pair in "simplebridge XDP_SKB:3" "simplebridge TC:1.2" "router XDP_SKB:3" "router TC:1.2"; do
	name=${pair%:*} want=${pair#*:}
	r=$(num "$(cell "| $name |" 3)")
	[ -n "$r" ] && echo "| $name ≥ ${want}× the kernel (Linux bridge / ip_forward, pps on veth) | ${r}× | $(verdict "$r" ">=" "$want") |"
done
m=$(cell "| creation to first packet forwarded" 2)
[ -n "$m" ] && echo "| cube creation to forwarding < 10 ms median | $m | $(verdict "$(num "$m")" "<" 10) |"
m=$(cell "| create request (simplebridge, 2 ports) answered" 2)
[ -n "$m" ] && echo "| (the create request alone, median / p99) | $m | |"
m=$(cell "| configuration change" 2)
[ -n "$m" ] && echo "| rule updates < 1 ms p99 (no firewall yet: a bridge configuration change through cubectl) | $m | $(verdict "$(awk '{print $3}' <<<"$m")" "<" 1) |"
m=$(cell "| RSS of one cube process" 2)
[ -n "$m" ] && echo "| RSS per cube process < 8 MiB | $m | $(verdict "$(num "$m")" "<" 8) |"
