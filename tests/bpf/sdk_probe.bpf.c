/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sdk_probe - runs the data-plane SDK's parsers (parsing.bpf.h) and checksum
 * helpers (csum.bpf.h) on the packets of tests/bpf/test_sdk.c. Built for TC
 * and for XDP (-DCUBE_TC / -DCUBE_XDP) like a service.
 *
 * probe_parse: cb_parse_pkt() into results[0], returns its result + 10.
 * probe_rewrite: applies cmd[0] (rewrite an address, a port or the TTL, with
 * the incremental checksum updates) and returns 1 when done, 0 when the
 * packet was not what the command needs.
 */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include "cubebus/parsing.bpf.h"
#include "cubebus/csum.bpf.h"

#ifdef CUBE_TC
#define probe_ctx __sk_buff
#define SEC_HOOK  "tc"
#else
#define probe_ctx xdp_md
#define SEC_HOOK  "xdp"
#endif

struct probe_result {
	struct cb_pkt pkt;
	__s32 rc;
	__u16 ip4_csum; /* cb_csum_ipv4_hdr of the IPv4 header, when there is one */
	__u16 pad;
};

enum probe_op { OP_NONE, OP_IP4_SADDR, OP_L4_DPORT, OP_IP6_SADDR, OP_TTL };

struct probe_cmd {
	__u32 op;
	__u32 v4;    /* new IPv4 source, network order */
	__u32 v6[4]; /* new IPv6 source */
	__u16 port;  /* new destination port, network order */
	__u16 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct probe_result);
} results SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct probe_cmd);
} cmd SEC(".maps");

SEC(SEC_HOOK)
int probe_parse(struct probe_ctx *ctx)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	__u32 k = 0;
	struct probe_result *res = bpf_map_lookup_elem(&results, &k);

	if (!res)
		return 0;
	res->rc = cb_parse_pkt(data, end, &res->pkt);
	res->ip4_csum = 0;
	if (res->pkt.proto == bpf_htons(ETH_P_IP) && res->pkt.l3_off) {
		struct cb_cursor c = { .pos = data + (res->pkt.l3_off & 0x3f) };
		struct iphdr *ip = cb_parse_ipv4(&c, end);

		if (ip)
			res->ip4_csum = cb_csum_ipv4_hdr(ip, end);
	}
	return res->rc + 10;
}

SEC(SEC_HOOK)
int probe_rewrite(struct probe_ctx *ctx)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	struct cb_pkt p;
	struct cb_cursor c;
	__u32 k = 0;
	struct probe_cmd *m = bpf_map_lookup_elem(&cmd, &k);
	__u16 *l4sum = NULL;
	int udp = 0;

	if (!m || cb_parse_pkt(data, end, &p) != CB_PARSE_OK || !p.l3_off)
		return 0;
	if (p.l4_off) {
		void *l4 = data + (p.l4_off & 0x1ff);

		if (p.l4_proto == IPPROTO_TCP && l4 + sizeof(struct tcphdr) <= end)
			l4sum = &((struct tcphdr *)l4)->check;
		else if (p.l4_proto == IPPROTO_UDP && l4 + sizeof(struct udphdr) <= end)
			l4sum = &((struct udphdr *)l4)->check, udp = 1;
		else if (p.l4_proto == IPPROTO_ICMPV6 && l4 + sizeof(struct icmp6hdr) <= end)
			l4sum = &((struct icmp6hdr *)l4)->icmp6_cksum;
	}
	c.pos = data + (p.l3_off & 0x3f);
	switch (m->op) {
	case OP_IP4_SADDR: {
		struct iphdr *ip = cb_parse_ipv4(&c, end);
		__u32 old;

		if (!ip)
			return 0;
		old = ip->saddr;
		ip->saddr = m->v4;
		cb_csum_replace4(&ip->check, old, m->v4);
		/* ICMP has no pseudo-header */
		if (l4sum)
			cb_l4_csum_replace4(ctx, l4sum, old, m->v4, 1, udp);
		return 1;
	}
	case OP_L4_DPORT: {
		__be16 *dport;
		__u16 old;
		void *l4 = data + (p.l4_off & 0x1ff);

		if (!l4sum || !p.l4_off || l4 + 4 > end)
			return 0;
		dport = (__be16 *)l4 + 1;
		old = *dport;
		*dport = m->port;
		if (!(udp && !*l4sum))
			cb_csum_replace2(l4sum, old, m->port);
		return 1;
	}
	case OP_IP6_SADDR: {
		struct ipv6hdr *ip6 = cb_parse_ipv6(&c, end);
		__u32 old[4];

		if (!ip6 || !l4sum)
			return 0;
		__builtin_memcpy(old, &ip6->saddr, 16);
		__builtin_memcpy(&ip6->saddr, m->v6, 16);
		cb_l4_csum_replace16(ctx, l4sum, old, m->v6, udp);
		return 1;
	}
	case OP_TTL: {
		struct iphdr *ip = cb_parse_ipv4(&c, end);
		__u16 old;

		if (!ip)
			return 0;
		old = *(__u16 *)&ip->ttl;
		ip->ttl--;
		cb_csum_replace2(&ip->check, old, *(__u16 *)&ip->ttl);
		return 1;
	}
	}
	return 0;
}

char _license[] SEC("license") = "GPL";
