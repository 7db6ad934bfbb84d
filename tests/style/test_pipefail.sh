#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# A script under `set -o pipefail` never pipes into `grep -q`: grep -q exits
# at the first match, a producer still writing dies of SIGPIPE, and the
# pipeline fails although the line was there (a flake that shows on a loaded
# machine). Such scripts use `matches` (tests/tools/instance.sh), which reads
# all of its input first. Lines inside `sh -c`/`bash -c` strings run in a
# shell without pipefail and are left alone.
cd "$(dirname "$0")/../.."
fail=0
for f in $(git ls-files '*.sh' 2>/dev/null); do
	# the scenarios get pipefail from tests/net/lib.sh
	if grep -q 'set -[a-z]*o pipefail\|set -o pipefail' "$f" || grep -q 'lib\.sh"$' "$f"; then
		bad=$(grep -nE '(^|[^|])\|[[:space:]]*grep[[:space:]]+-[a-zA-Z]*q' "$f" | grep -vE '\b(sh|bash) -c' | grep -v '^[0-9]*:[[:space:]]*#')
		if [ -n "$bad" ]; then
			echo "not ok - $f pipes into grep -q under pipefail (use matches):"
			sed 's/^/#   /' <<<"$bad"
			fail=1
		else
			echo "ok - $f: no grep -q under pipefail"
		fi
	fi
done
exit $fail
