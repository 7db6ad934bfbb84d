# SPDX-License-Identifier: Apache-2.0
# Issue 11's figures: the cubebus firewall against iptables and nftables
# (bench/firewall.sh; about 8 minutes, QUICK=1 about 1.5), as the section
# text bench/firewall.md (docs/BENCHMARKS.md's firewall section; `make
# bench` puts the same section into docs/BENCHMARKS.md).
bench-firewall: all
	QUICK=$(QUICK) bash bench/firewall_md.sh > bench/firewall.md.tmp && mv bench/firewall.md.tmp bench/firewall.md
.PHONY: bench-firewall

# Issue 12's figures: the ddosmitigator against an nftables set of the same
# size (bench/ddos.sh; about 4 minutes, QUICK=1 about 1).
bench-ddos: all
	QUICK=$(QUICK) bash bench/ddos.sh
.PHONY: bench-ddos
