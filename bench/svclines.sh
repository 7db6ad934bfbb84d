#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Lines a service author writes, per service, at two commits: the service's
# C files (cube-services/<svc>/*.c, not its BPF), counted without blank and
# comment-only lines, and how many of them are framework plumbing rather
# than the service's logic. Plumbing is recognised by what it calls: the
# skeleton triplets and map-fd getters, JSON walked or built by string key,
# enum names matched by strcmp, addresses and MACs parsed by hand, actions
# and reads dispatched by strcmp of a path.
# Usage: bench/svclines.sh [BEFORE [AFTER]]   (default: the commit before
# the generator came, 308ecfc^, and HEAD). Prints a Markdown table.
set -uo pipefail
cd "$(dirname "$0")/.."
before=${1:-308ecfc^}
after=${2:-HEAD}
plumb='json_object_|json_tokener|cube_json_|bpf_map__fd|strcmp\(path|strcmp\([a-z_>.-]+, "[A-Z_]+"\)|strcmp\(.*"(fdb|arp|route)|inet_pton|sscanf\(.*%2x|ether_aton|_skel|\? *[a-z_]*->maps\.'
# plumb_lines: lines of stdin that are plumbing: whole skeleton open/load/
# destroy functions, and single lines matching $plumb elsewhere
plumb_lines() {
	awk -v re="$plumb" '
		/^static .*_(open|load|destroy)\(/ { f = 1 }
		f { n++; if ($0 ~ /^}/) f = 0; next }
		$0 ~ re { n++ }
		END { print n + 0 }'
}
count() { # REV SVC: "lines plumbing"
	local rev=$1 svc=$2 files f all=0 pl=0 n p
	files=$(git ls-tree --name-only "$rev" "cube-services/$svc/" 2>/dev/null | grep -E '\.c$' | grep -v '\.bpf\.c$')
	for f in $files; do
		n=$(git show "$rev:$f" | sed -e 's|//.*$||' | awk '
			/\/\*/ { c = 1 } { if (!c && $0 !~ /^[[:space:]]*$/) print } /\*\// { c = 0 }' | wc -l)
		p=$(git show "$rev:$f" | plumb_lines)
		all=$((all + n)) pl=$((pl + p))
	done
	echo "$all $pl"
}
echo "| service | lines before | plumbing before | lines after | plumbing after |"
echo "|---|---:|---:|---:|---:|"
for svc in helloworld simpleforwarder simplebridge router; do
	read -r a0 p0 <<<"$(count "$before" "$svc")"
	read -r a1 p1 <<<"$(count "$after" "$svc")"
	echo "| $svc | $a0 | $p0 ($((a0 ? 100 * p0 / a0 : 0)) %) | $a1 | $p1 ($((a1 ? 100 * p1 / a1 : 0)) %) |"
done
