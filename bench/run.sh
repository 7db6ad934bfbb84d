#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# `make bench`: runs every benchmark in one invocation and writes
# docs/BENCHMARKS.md (machine, kernel, date, command, tables, reading).
# QUICK=1 for a smoke run (under a minute).
set -euo pipefail
cd "$(dirname "$0")/.."
quick=${QUICK:-0}
out=docs/BENCHMARKS.md
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT

if [ "$quick" = 1 ]; then
	hops_args=(--quick)
	n=5
	cmd="make bench QUICK=1"
else
	hops_args=()
	n=20
	cmd="make bench"
fi

echo "bench: per-hop cost (bpf_prog_test_run_opts)..." >&2
build/bench/hops "${hops_args[@]}" >"$tmp.hops"
echo "bench: control plane (creation, RSS)..." >&2
bash bench/control.sh "$n" >"$tmp.ctl"

{
	echo "# Benchmarks"
	echo
	echo "Regenerate with \`$cmd\` (as root; about $([ "$quick" = 1 ] && echo "30 s" || echo "1 minute")). Every figure is a"
	echo "ratio against a baseline measured in the same run, on the same machine."
	echo
	echo "- Date: $(date -u +%Y-%m-%dT%H:%MZ)"
	echo "- Kernel: $(uname -r), $(nproc) CPUs ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'))"
	echo "- Commit: $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
	echo
	echo "## Per-hop cost of the data plane"
	echo
	echo "\`build/bench/hops\` (see bench/README.md): the same 64-byte frame through a hand-written"
	echo "single program and through cubebus (netdev ingress stub, then cubes chained by tail"
	echo "calls), timed by the kernel's test_run loop."
	echo
	cat "$tmp.hops"
	echo
	echo "## Control plane and memory"
	echo
	echo "\`bench/control.sh $n\`: a private broker; a simplebridge with two ports created $n times"
	echo "(body piped to \`cubectl simplebridge add\`), timed until a ping crosses it; then 20"
	echo "cubes at once for memory."
	echo
	cat "$tmp.ctl"
	echo
	echo "## Reading"
	echo
	echo "- One cube against the hand-written program doing the same work: see the"
	echo "  \`single / cube-1\` rows (target: ≥ 95 % of the program's rate)."
	echo "- The hop itself (constant-key tail call patched into a direct jump, in-port"
	echo "  metadata, rx/tx counters, link lookup) adds a few ns per cube in short chains;"
	echo "  long chains cost more per cube than short ones (the chain-8 and chain-16 rows):"
	echo "  each cube is a separate program, and a 16-program path no longer stays in the"
	echo "  CPU's branch predictors and caches the way one program does."
	echo "- Creation time is dominated by loading and verifying the cube's programs and"
	echo "  starting its process; the ping that probes it adds a few ms of process start."
} >"$out"
echo "bench: wrote $out" >&2
