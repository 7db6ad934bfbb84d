#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The firewall section of docs/BENCHMARKS.md: bench/firewall.sh's tables
# with a heading, what was run and how to read it. `make bench-firewall`
# writes it to bench/firewall.md; bench/run.sh puts it into
# docs/BENCHMARKS.md. QUICK=1 for a smoke run.
set -uo pipefail
cd "$(dirname "$0")/.."
quick=${QUICK:-0}
out=$(mktemp)
trap 'rm -f "$out"' EXIT
QUICK=$quick bash bench/firewall.sh >"$out" || echo "bench/firewall.sh failed (status $?): run it alone to see why." >>"$out"

echo "## Firewall: cubebus against iptables and nftables"
echo
echo "\`bench/firewall.sh\`$([ "$quick" = 1 ] && echo " (QUICK=1)") (issue 11's figures; as root, about $([ "$quick" = 1 ] && echo "1.5" || echo 8) minutes):"
echo "$(date -u +%Y-%m-%dT%H:%MZ), kernel $(uname -r), $(nproc) CPUs, commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown)."
echo "A generator namespace and a sink namespace joined by one veth path per filter, each"
echo "through a middle namespace of its own in which the kernel forwards (ip_forward) and the"
echo "filter under test sits: iptables in FORWARD, nftables on the forward hook, the cubebus"
echo "firewall (a transparent cube) on the ingress of the middle's netdev toward the"
echo "generator, with a private broker in that namespace. \`build/bench/pktgen\` sends 64-byte"
echo "UDP frames, \`build/bench/xdpsink\` counts them at XDP on the far side (bench/README.md)."
echo "The same N rules in every filter, from \`bench/fwrules.py\`."
echo
cat "$out"
echo
echo "Reading it:"
echo "- iptables and nftables with one rule per line walk the rules in order: their cost per"
echo "  packet grows with the rules before the match (the middle case costs about half the"
echo "  last-rule case). nftables' rule per line is the slower walk of the two here: each rule"
echo "  is a chain of expressions (load, mask, compare) called one after another."
echo "- nftables' best form looks the packet up once in a set of intervals over the"
echo "  concatenated fields: flat in the rule count. It needs rules that do not overlap (or"
echo "  whose order does not matter), which these do; rule sets where order matters do not"
echo "  fold into one map."
echo "- The cubebus firewall classifies with one lookup per field into bit vectors and ANDs"
echo "  them (its cost is in the number of fields used and the words of the bit vector, not in"
echo "  the rule count's walk); the PASS cube row is what the framework costs without a filter."
echo "- Whole-path figures include forwarding and the veth: the filter's own cost is the"
echo "  difference to ip_forward with no filter, which on this shared VM moves by tens of ns"
echo "  from run to run; compare ratios from one run."
