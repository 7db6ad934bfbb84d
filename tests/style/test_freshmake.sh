#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# `make demo` and `make test` must work in one run on a machine without the
# packages. On such a machine the Makefile is parsed before `make deps`
# installs them, so anything it asks pkg-config at parse time is empty and the
# link fails. This test simulates that machine: in a copy of the tree, a fake
# pkg-config answers "not found" until a fake deps step has run; the same
# entry point the README's commands use (build-after-deps) must still link a
# program that needs the packages (cubectl: czmq, protobuf-c).
set -u
cd "$(dirname "$0")/../.."
top=$PWD
if ! command -v pkg-config >/dev/null || ! pkg-config --exists libczmq libprotobuf-c; then
	echo "ok - fresh-machine make # SKIP the packages are not installed here"
	exit 0
fi
tmp=$(mktemp -d /tmp/cb-freshmake.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/src" "$tmp/fakebin"
git ls-files -z | (cd "$top" && xargs -0 cp --parents -t "$tmp/src")
marker=$tmp/deps-installed
cat >"$tmp/fakebin/pkg-config" <<EOF
#!/bin/sh
# not installed until the deps step ran
[ -e "$marker" ] || { echo "Package \$1 was not found" >&2; exit 1; }
exec $(command -v pkg-config) "\$@"
EOF
chmod +x "$tmp/fakebin/pkg-config"

# 1. Building without the packages says what to do (and does not link).
if PATH="$tmp/fakebin:$PATH" make -C "$tmp/src" build/bin/cubectl >"$tmp/nodeps.log" 2>&1; then
	echo "not ok - a build without the packages fails"
else
	echo "ok - a build without the packages fails"
fi
if grep -q "make deps" "$tmp/nodeps.log" && ! grep -q "undefined reference" "$tmp/nodeps.log"; then
	echo "ok - ... with a sentence that names make deps, not a link error"
else
	echo "not ok - ... with a sentence that names make deps, not a link error"
	sed 's/^/# /' "$tmp/nodeps.log" | tail -5
fi

# 2. The README's entry points: deps, then a new make, in one run.
if PATH="$tmp/fakebin:$PATH" make -C "$tmp/src" DEPS="touch $marker" BUILD_GOAL=build/bin/cubectl \
	build-after-deps >"$tmp/fresh.log" 2>&1 && [ -x "$tmp/src/build/bin/cubectl" ]; then
	echo "ok - deps then build in one make run links (no parse-time package lookup)"
else
	echo "not ok - deps then build in one make run links (no parse-time package lookup)"
	sed 's/^/# /' "$tmp/fresh.log" | tail -8
fi

# 3. test and demo go through that entry point.
for goal in test demo; do
	if make -C "$tmp/src" -n -p "$goal" 2>/dev/null | grep -qE "^$goal: .*build-after-deps"; then
		echo "ok - make $goal installs the packages before a new make builds"
	else
		echo "not ok - make $goal installs the packages before a new make builds"
	fi
done
