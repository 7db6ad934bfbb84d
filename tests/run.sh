#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Runs the whole suite: unit tests (C), BPF packet tables, netns scenarios.
# Every test program prints TAP-like lines: "ok - name", "not ok - name",
# "ok - name # SKIP why". The last line of this script is
# "N passed, N failed[, N skipped]". Usage: tests/run.sh [name-filter]
set -u
cd "$(dirname "$0")/.."
top=$PWD
export PATH="$top/build/bin:$PATH"
filter=${1:-}
logdir="$top/build/test-logs"
mkdir -p "$logdir"
pass=0 fail=0 skip=0
failed_names=()

run_one() {
	local name=$1 log="$logdir/$1.log" rc p f s t0 took
	shift
	[ -n "$filter" ] && [[ "$name" != *"$filter"* ]] && return 0
	mkdir -p "$(dirname "$log")"
	printf '%-40s ' "$name"
	t0=$SECONDS
	timeout --kill-after=10 600 "$@" </dev/null >"$log" 2>&1
	rc=$?
	took="$((SECONDS - t0)) s"
	p=$(grep -cE '^ok - ' "$log" | tr -d ' ')
	s=$(grep -cE '^ok - .*# SKIP' "$log" | tr -d ' ')
	f=$(grep -cE '^not ok - ' "$log" | tr -d ' ')
	p=$((p - s))
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		echo "not ok - $name exited with status $rc" >>"$log"
		f=1
	fi
	pass=$((pass + p)) fail=$((fail + f)) skip=$((skip + s))
	if [ "$f" -gt 0 ]; then
		failed_names+=("$name")
		echo "FAIL ($p passed, $f failed, $s skipped, $took; log: $log)"
		grep -E '^not ok - ' "$log" | head -20 | sed 's/^/    /'
		# the end of the log says why
		tail -n 15 "$log" | sed 's/^/    | /'
	else
		if [ "$s" -gt 0 ]; then echo "ok ($p passed, $s skipped, $took)"; else echo "ok ($p passed, $took)"; fi
	fi
}

for t in build/tests/unit/*; do
	[ -x "$t" ] && run_one "unit/$(basename "$t")" "$t"
done
for t in build/tests/bpf/*; do
	[ -x "$t" ] && run_one "bpf/$(basename "$t")" "$t"
done
for t in tests/style/test_*.sh; do
	[ -f "$t" ] && run_one "style/$(basename "$t" .sh)" bash "$t"
done
for t in tests/net/test_*.sh; do
	[ -f "$t" ] && run_one "net/$(basename "$t" .sh)" bash "$t"
done

# whatever a crashed scenario left behind
bash tests/net/cleanup.sh >/dev/null 2>&1 || true

if [ ${#failed_names[@]} -gt 0 ]; then
	echo "failed: ${failed_names[*]}"
fi
line="$pass passed, $fail failed"
[ "$skip" -gt 0 ] && line="$line, $skip skipped"
echo "$line"
[ "$fail" -eq 0 ]
