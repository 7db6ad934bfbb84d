#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Installs the Debian packages cubebus needs to build, run and test
# (only those missing). Run as root.
set -euo pipefail
pkgs=(
	make gcc clang clang-format llvm pkg-config
	libbpf-dev bpftool libelf-dev zlib1g-dev
	libzmq3-dev libczmq-dev libprotobuf-c-dev protobuf-c-compiler
	libyang2-dev libsqlite3-dev libjson-c-dev libmicrohttpd-dev
	iproute2 iputils-ping netcat-openbsd tcpdump python3-scapy iperf3 procps jq sqlite3 ethtool
	iptables nftables
)
missing=()
for p in "${pkgs[@]}"; do
	[[ $(dpkg-query -W -f='${Status}' "$p" 2>/dev/null) == *"install ok installed"* ]] || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
	echo "deps: all ${#pkgs[@]} packages present"
	exit 0
fi
echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
