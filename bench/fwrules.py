#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""fwrules - one rule set of N rules, written for each filter that
bench/firewall.sh compares, so that every leg filters with the same rules.

  fwrules.py --n N --format FORMAT [--match last|middle|none] [--src IP]
             [--dst IP] [--dport N] [--chain NAME] [--table NAME]

FORMAT:
  iptables    iptables-restore input: table filter, chain FORWARD (policy DROP),
              one -A line per rule
  nft-lines   an nft script: table ip TABLE, chain forward (hook forward,
              policy drop), one rule per line, as users write them
  nft-best    the same rules in nftables' best form: one lookup in a verdict
              map keyed by the concatenation saddr . daddr . l4proto . dport,
              with intervals (prefixes); possible because no two rules overlap,
              so the order of the rules does not matter
  cubebus     the JSON body of a cubebus firewall batch request (chain
              INGRESS): {"rules": [{"id", "operation": "APPEND", ...}, ...]}
  cubectl     one `cubectl FW chain INGRESS append ...` argument line per
              rule (what a user types; --chain is the cube's name here)

The rules (i from 0 to N-1): every rule but one matches none of the
generated traffic: source 10.(i / 256).(i % 256).0/24 (a /24 of its own),
destination 198.18.2.0/24, TCP for even i and UDP for odd i, a destination
port from a list of common services, and ACCEPT for every third rule, DROP
for the others. The rule at --match (the last, or N / 2: the middle) matches
the traffic: --src's /24 to --dst's /24, UDP, --dport, ACCEPT. --match none:
no rule matches (the default DROP takes every packet). The chain's default
is DROP. No two rules overlap, so every filter gives the same verdict
whatever order it evaluates them in.
"""
import argparse
import ipaddress
import json
import sys

PORTS = [22, 25, 53, 80, 110, 143, 443, 993, 995, 3306, 5432, 6379, 8080, 8443]
MAX_RULES = 65536


def rules(n, match, src, dst, dport):
    """[(src_prefix, dst_prefix, proto, dport, action)] in order."""
    m = {"last": n - 1, "middle": n // 2, "none": -1}[match]
    s24 = str(ipaddress.ip_network(src + "/24", strict=False))
    d24 = str(ipaddress.ip_network(dst + "/24", strict=False))
    if ipaddress.ip_network(s24).overlaps(ipaddress.ip_network("10.0.0.0/8")):
        sys.exit("fwrules: --src must be outside 10.0.0.0/8 (the other rules' sources)")
    out = []
    for i in range(n):
        if i == m:
            out.append((s24, d24, "udp", dport, "accept"))
            continue
        out.append(
            (
                "10.%d.%d.0/24" % (i // 256, i % 256),
                "198.18.2.0/24",
                "tcp" if i % 2 == 0 else "udp",
                PORTS[i % len(PORTS)],
                "accept" if i % 3 == 0 else "drop",
            )
        )
    return out


def main():
    ap = argparse.ArgumentParser(description="N firewall rules for bench/firewall.sh")
    ap.add_argument("--n", type=int, required=True)
    ap.add_argument("--format", required=True, choices=["iptables", "nft-lines", "nft-best", "cubebus", "cubectl"])
    ap.add_argument("--match", default="last", choices=["last", "middle", "none"])
    ap.add_argument("--src", default="198.18.1.1")
    ap.add_argument("--dst", default="198.18.2.1")
    ap.add_argument("--dport", type=int, default=9)
    ap.add_argument("--chain", default="fw1")
    ap.add_argument("--table", default="fwbench")
    a = ap.parse_args()
    if not 1 <= a.n <= MAX_RULES:
        sys.exit("fwrules: --n must be 1..%d" % MAX_RULES)
    if not 1 <= a.dport <= 65535:
        sys.exit("fwrules: --dport must be 1..65535")
    try:
        rs = rules(a.n, a.match, a.src, a.dst, a.dport)
    except ValueError as e:
        sys.exit("fwrules: %s" % e)
    w = sys.stdout.write
    if a.format == "iptables":
        w("*filter\n:INPUT ACCEPT [0:0]\n:FORWARD DROP [0:0]\n:OUTPUT ACCEPT [0:0]\n")
        for s, d, p, dp, act in rs:
            w("-A FORWARD -s %s -d %s -p %s -m %s --dport %d -j %s\n" % (s, d, p, p, dp, act.upper()))
        w("COMMIT\n")
    elif a.format == "nft-lines":
        w("table ip %s {\n\tchain forward {\n\t\ttype filter hook forward priority 0; policy drop;\n" % a.table)
        for s, d, p, dp, act in rs:
            w("\t\tip saddr %s ip daddr %s %s dport %d %s\n" % (s, d, p, dp, act))
        w("\t}\n}\n")
    elif a.format == "nft-best":
        w("table ip %s {\n" % a.table)
        w("\tmap rules {\n\t\ttype ipv4_addr . ipv4_addr . inet_proto . inet_service : verdict\n")
        w("\t\tflags interval\n\t\telements = {\n")
        w(",\n".join("\t\t\t%s . %s . %s . %d : %s" % r for r in rs))
        w("\n\t\t}\n\t}\n")
        w("\tchain forward {\n\t\ttype filter hook forward priority 0; policy drop;\n")
        w("\t\tip saddr . ip daddr . meta l4proto . th dport vmap @rules\n\t}\n}\n")
    elif a.format == "cubebus":
        body = [
            {
                "id": i,
                "operation": "APPEND",
                "src": s,
                "dst": d,
                "l4proto": p.upper(),
                "dport": dp,
                "action": act.upper(),
            }
            for i, (s, d, p, dp, act) in enumerate(rs)
        ]
        json.dump({"rules": body}, sys.stdout, separators=(",", ":"))
        w("\n")
    else:
        for s, d, p, dp, act in rs:
            w(
                "%s chain INGRESS append src=%s dst=%s l4proto=%s dport=%d action=%s\n"
                % (a.chain, s, d, p.upper(), dp, act.upper())
            )


if __name__ == "__main__":
    main()
