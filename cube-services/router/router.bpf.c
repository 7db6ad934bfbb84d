/* SPDX-License-Identifier: Apache-2.0 */
/*
 * router fast path, for TC and XDP. Per packet, on the port it came in by:
 *   ARP      requests for an address of that port are answered in place;
 *            senders on the port's networks are learned; replies to us go
 *            to the process too (it sends what waited for them).
 *   IPv4/6   echo requests to the router are answered in place; packets to
 *            forward get a longest-prefix-match lookup, their next hop's
 *            MAC, a TTL/hop limit one lower (IPv4 checksum updated as in
 *            RFC 1624) and leave by the route's port.
 *   the rest ICMP errors, next hops without a neighbour entry, and IPv6
 *            neighbour discovery go to the process through a token bucket
 *            per reason; broken, truncated or foreign packets are dropped.
 *
 * Every header is bounds-checked before it is read; the router touches only
 * headers, so the TC build pulls at most RT_PULL bytes into the linear part
 * and both hooks write the packet directly.
 */
#include "cubebus/cube.bpf.h"
#include "cubebus/parsing.bpf.h"
#include <linux/ipv6.h>
#include <linux/icmpv6.h>
#include "router_shared.h"

/* linux/icmp.h pulls in libc's socket headers: the few ICMP names here */
#define ICMP_ECHOREPLY	   0
#define ICMP_DEST_UNREACH  3
#define ICMP_ECHO	   8
#define ICMP_TIME_EXCEEDED 11
#define ICMP_NET_UNREACH   0
#define ICMP_PORT_UNREACH  3
#define ICMP_EXC_TTL	   0
struct icmphdr {
	__u8 type;
	__u8 code;
	__u16 checksum;
	__u32 rest;
};

/* Bytes the fast path may read: Ethernet, the largest IPv4 header and an
 * ICMPv6 neighbour solicitation's target. */
#define RT_PULL 128
/* Refresh a used neighbour entry at most once a second: a map write per
 * packet costs. */
#define RT_REFRESH_NS 1000000000ULL
#define RT_HOP_LIMIT  64
/* Slow-path limiter before the first configuration: 1000/s, burst 100. */
#define RT_DEF_INTERVAL_NS 1000000ULL
#define RT_DEF_BURST_NS	   (100 * RT_DEF_INTERVAL_NS)

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, CB_MAX_PORTS);
	__type(key, __u32);
	__type(value, struct rt_port);
} rt_ports SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, RT_LOCAL_MAX);
	__type(key, struct rt_addr);
	__type(value, struct rt_local);
} rt_local SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, RT_ROUTES_MAX);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct rt_lpm4);
	__type(value, struct rt_route);
} rt_rt4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, RT_ROUTES_MAX);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct rt_lpm6);
	__type(value, struct rt_route);
} rt_rt6 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, RT_NEIGH_MAX);
	__type(key, struct rt_addr);
	__type(value, struct rt_neigh);
} rt_neigh SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct rt_conf);
} rt_conf SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, RT_NREASONS);
	__type(key, __u32);
	__type(value, struct rt_bucket);
} rt_buckets SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, RT_NREASONS);
	__type(key, __u32);
	__type(value, struct rt_spcount);
} rt_spcnt SEC(".maps");

/* What rt_rx decided; slow-path reasons are returned as themselves. */
enum rt_act {
	RT_DROP = 0,
	RT_FWD = 1, /* out of *out_port */
};

struct rt_arp {
	__be16 htype;
	__be16 ptype;
	__u8 hlen;
	__u8 plen;
	__be16 op;
	__u8 sha[6];
	__u8 spa[4];
	__u8 tha[6];
	__u8 tpa[4];
} __attribute__((packed));

/* ---- helpers --------------------------------------------------------------- */

static __always_inline void rt_mac_copy(__u8 *dst, const __u8 *src)
{
	__builtin_memcpy(dst, src, 6);
}

static __always_inline int rt_mac_eq(const __u8 *a, const __u8 *b)
{
	return !((a[0] ^ b[0]) | (a[1] ^ b[1]) | (a[2] ^ b[2]) | (a[3] ^ b[3]) | (a[4] ^ b[4]) | (a[5] ^ b[5]));
}

static __always_inline int rt_mac_is_zero(const __u8 *m)
{
	return !(m[0] | m[1] | m[2] | m[3] | m[4] | m[5]);
}

static __always_inline void rt_addr4(struct rt_addr *k, __u32 ip)
{
	k->w[0] = 0;
	k->w[1] = 0;
	k->w[2] = bpf_htonl(0xffff);
	k->w[3] = ip;
}

static __always_inline void rt_addr6(struct rt_addr *k, const struct in6_addr *ip)
{
	__builtin_memcpy(k->a, ip, 16);
}

static __always_inline __u32 rt_fold(__u64 s)
{
	s = (s & 0xffffffff) + (s >> 32);
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	return (__u32)((s & 0xffff) + (s >> 16));
}

/*
 * RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m'), for one 16-bit word m of the
 * covered data changed to m'. All three are as they are in memory (network
 * order): one's complement sums do not care about byte order.
 */
static __always_inline void rt_csum_replace2(__u16 *sum, __u16 from, __u16 to)
{
	__u32 s = (__u16) ~*sum;

	s += (__u16)~from;
	s += to;
	*sum = (__u16)~rt_fold(s);
}

/* One 16-bit word of IPv4 options, if the header has it. Each access has
 * its own constant bound, which the verifier follows; a bound derived from
 * ihl would be variable, and the compiler drops checks it implies. */
#define RT_OPT_WORD(j)                           \
	if (n > (j)) {                           \
		if ((void *)(w + (j) + 1) > end) \
			return 0;                \
		s += w[j];                       \
	}

/* The IPv4 header checksum over ihl words verifies (sums to all ones);
 * the caller checked the fixed 20 bytes. */
static __always_inline int rt_ip4_csum_ok(struct iphdr *ip, void *end)
{
	__u16 *w = (__u16 *)ip;
	__u32 n = ip->ihl * 2;
	__u64 s = 0;

	for (int i = 0; i < 10; i++)
		s += w[i];
	/* clang-format off */
	RT_OPT_WORD(10)
	RT_OPT_WORD(11)
	RT_OPT_WORD(12)
	RT_OPT_WORD(13)
	RT_OPT_WORD(14)
	RT_OPT_WORD(15)
	RT_OPT_WORD(16)
	RT_OPT_WORD(17)
	RT_OPT_WORD(18)
	RT_OPT_WORD(19)
	RT_OPT_WORD(20)
	RT_OPT_WORD(21)
	RT_OPT_WORD(22)
	RT_OPT_WORD(23)
	RT_OPT_WORD(24)
	RT_OPT_WORD(25)
	RT_OPT_WORD(26)
	RT_OPT_WORD(27)
	RT_OPT_WORD(28)
	RT_OPT_WORD(29)
	/* clang-format on */
	return rt_fold(s) == 0xffff;
}

static __always_inline struct rt_conf *rt_conf_get(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&rt_conf, &zero);
}

/*
 * The neighbour entry of next hop on port, if it is alive; a used learned
 * entry is refreshed (at most once per RT_REFRESH_NS).
 */
static __always_inline struct rt_neigh *rt_neigh_use(struct rt_addr *nh, __u32 port, __u64 now)
{
	struct rt_neigh *n = bpf_map_lookup_elem(&rt_neigh, nh);
	struct rt_conf *conf;
	__u64 refresh = RT_REFRESH_NS;

	if (!n || n->port != port)
		return NULL;
	if (n->flags & RT_NEIGH_STATIC)
		return n;
	conf = rt_conf_get();
	if (conf && conf->aging_ns) {
		if (now - n->seen_ns > conf->aging_ns)
			return NULL; /* aged: resolve it again */
		if (conf->aging_ns / 2 < refresh)
			refresh = conf->aging_ns / 2;
	}
	if (now - n->seen_ns > refresh)
		n->seen_ns = now;
	return n;
}

/* Source addresses a router never forwards from (RFC 1812 5.3.7). */
static __always_inline int rt_ip4_martian_src(__u32 a)
{
	__u32 h = bpf_ntohl(a);

	return (h >> 24) == 0 || (h >> 24) == 127 || (h >> 28) == 0xe || h == 0xffffffff || (h >> 28) == 0xf;
}

/* Destinations a router never forwards to. */
static __always_inline int rt_ip4_martian_dst(__u32 a)
{
	__u32 h = bpf_ntohl(a);

	return (h >> 24) == 0 || (h >> 24) == 127 || (h >> 28) >= 0xe;
}

/* ---- ARP ------------------------------------------------------------------- */

static __always_inline int rt_rx_arp(struct cube_ctx *ctx, struct cb_md *md, struct ethhdr *eth, struct rt_port *pt,
				     void *end, __u32 *out_port)
{
	struct rt_arp *arp = (void *)(eth + 1);
	struct rt_addr spa, tpa;
	struct rt_local *loc;
	struct rt_neigh *n;
	struct rt_lpm4 k;
	struct rt_route *r;
	__u32 sip, tip;
	int for_us;

	if ((void *)(arp + 1) > end)
		return RT_DROP;
	if (arp->htype != bpf_htons(1) || arp->ptype != bpf_htons(ETH_P_IP) || arp->hlen != 6 || arp->plen != 4)
		return RT_DROP;
	__builtin_memcpy(&sip, arp->spa, 4);
	__builtin_memcpy(&tip, arp->tpa, 4);
	rt_addr4(&tpa, tip);
	loc = bpf_map_lookup_elem(&rt_local, &tpa);
	for_us = loc && loc->port == md->in_port;

	/* learn the sender: it must be on a network of this port; a new entry
	 * only from an ARP for us, an existing one from any (it moved) */
	k.plen = 32;
	k.addr = sip;
	r = bpf_map_lookup_elem(&rt_rt4, &k);
	if (r && (r->flags & RT_ROUTE_CONNECTED) && r->port == md->in_port && !cb_mac_is_multicast(arp->sha) &&
	    !rt_mac_is_zero(arp->sha)) {
		rt_addr4(&spa, sip);
		n = bpf_map_lookup_elem(&rt_neigh, &spa);
		if (n && !(n->flags & RT_NEIGH_STATIC)) {
			rt_mac_copy(n->mac, arp->sha);
			n->port = md->in_port;
			n->seen_ns = bpf_ktime_get_ns();
		} else if (!n && for_us) {
			struct rt_neigh nn = { .port = md->in_port, .seen_ns = bpf_ktime_get_ns() };

			rt_mac_copy(nn.mac, arp->sha);
			bpf_map_update_elem(&rt_neigh, &spa, &nn, BPF_NOEXIST);
		}
	}
	if (!for_us)
		return RT_DROP;
	if (arp->op == bpf_htons(2))
		return RT_REASON_NEIGH; /* what waited for the sender can go now */
	if (arp->op != bpf_htons(1))
		return RT_DROP;
	/* the request becomes its reply */
	arp->op = bpf_htons(2);
	rt_mac_copy(arp->tha, arp->sha);
	__builtin_memcpy(arp->tpa, arp->spa, 4);
	rt_mac_copy(arp->sha, pt->mac);
	__builtin_memcpy(arp->spa, &tip, 4);
	rt_mac_copy(eth->h_dest, arp->tha);
	rt_mac_copy(eth->h_source, pt->mac);
	*out_port = md->in_port;
	return RT_FWD;
}

/* ---- IPv4 ------------------------------------------------------------------ */

static __always_inline int rt_rx_ip4(struct cube_ctx *ctx, struct cb_md *md, struct ethhdr *eth, struct rt_port *pt,
				     void *end, __u32 *out_port)
{
	struct iphdr *ip = (void *)(eth + 1);
	struct rt_addr a;
	struct rt_local *loc;
	struct rt_route *r;
	struct rt_neigh *n;
	struct rt_port *op;
	struct rt_lpm4 k;
	__u32 hlen, tot, dst;
	__u16 old;

	/* not cb_parse_ipv4(): see RT_OPT_WORD */
	if ((void *)(ip + 1) > end || ip->version != 4 || ip->ihl < 5)
		return RT_DROP;
	hlen = ip->ihl * 4;
	tot = bpf_ntohs(ip->tot_len);
	if (tot < hlen || tot > cube_len(ctx) - ETH_HLEN)
		return RT_DROP; /* truncated */
	if (!rt_ip4_csum_ok(ip, end))
		return RT_DROP;
	if (rt_ip4_martian_src(ip->saddr))
		return RT_DROP;
	dst = ip->daddr;
	rt_addr4(&a, dst);
	loc = bpf_map_lookup_elem(&rt_local, &a);
	if (loc) {
		/* for the router: echo requests answered here */
		int first = !(ip->frag_off & bpf_htons(0x1fff));
		int whole = first && !(ip->frag_off & bpf_htons(0x2000));

		if (ip->protocol == IPPROTO_ICMP && whole && hlen == sizeof(*ip)) {
			struct icmphdr *ic = (void *)(ip + 1);
			__u32 tmp;

			if ((void *)(ic + 1) > end || ic->type != ICMP_ECHO || ic->code != 0)
				return RT_DROP;
			old = *(__u16 *)ic;
			ic->type = ICMP_ECHOREPLY;
			rt_csum_replace2(&ic->checksum, old, *(__u16 *)ic);
			old = *(__u16 *)&ip->ttl;
			ip->ttl = RT_HOP_LIMIT;
			rt_csum_replace2(&ip->check, old, *(__u16 *)&ip->ttl);
			/* swapping the addresses leaves the checksums as they are */
			tmp = ip->saddr;
			ip->saddr = ip->daddr;
			ip->daddr = tmp;
			rt_mac_copy(eth->h_dest, eth->h_source);
			rt_mac_copy(eth->h_source, pt->mac);
			*out_port = md->in_port;
			return RT_FWD;
		}
		if (ip->protocol == IPPROTO_UDP && first) {
			md->words[0] = RT_ICMP(ICMP_DEST_UNREACH, ICMP_PORT_UNREACH);
			return RT_REASON_ICMP; /* traceroute's last hop */
		}
		return RT_DROP;
	}
	if (rt_ip4_martian_dst(dst))
		return RT_DROP;
	k.plen = 32;
	k.addr = dst;
	r = bpf_map_lookup_elem(&rt_rt4, &k);
	if (!r) {
		md->words[0] = RT_ICMP(ICMP_DEST_UNREACH, ICMP_NET_UNREACH);
		return RT_REASON_ICMP;
	}
	if (r->flags & RT_ROUTE_CONNECTED) {
		/* a directed broadcast is not forwarded (RFC 2644) */
		if (r->plen > 0 && r->plen < 31) {
			__u32 host = 0xffffffffu >> (r->plen & 31);

			if ((bpf_ntohl(dst) & host) == host)
				return RT_DROP;
		}
	} else {
		a = r->nexthop;
	}
	if (ip->ttl <= 1) {
		md->words[0] = RT_ICMP(ICMP_TIME_EXCEEDED, ICMP_EXC_TTL);
		return RT_REASON_ICMP;
	}
	n = rt_neigh_use(&a, r->port, bpf_ktime_get_ns());
	if (!n) {
		md->words[0] = a.w[3];
		md->words[1] = r->port;
		return RT_REASON_RESOLVE;
	}
	op = bpf_map_lookup_elem(&rt_ports, &r->port);
	if (!op || !(op->flags & RT_PORT_ON))
		return RT_DROP;
	old = *(__u16 *)&ip->ttl;
	ip->ttl--;
	rt_csum_replace2(&ip->check, old, *(__u16 *)&ip->ttl);
	rt_mac_copy(eth->h_dest, n->mac);
	rt_mac_copy(eth->h_source, op->mac);
	*out_port = r->port;
	return RT_FWD;
}

/* ---- IPv6 ------------------------------------------------------------------ */

static __always_inline int rt_ip6_is_multicast(const struct in6_addr *a)
{
	return a->in6_u.u6_addr8[0] == 0xff;
}

static __always_inline int rt_ip6_is_linklocal(const struct in6_addr *a)
{
	return a->in6_u.u6_addr8[0] == 0xfe && (a->in6_u.u6_addr8[1] & 0xc0) == 0x80;
}

static __always_inline int rt_ip6_is_unspecified_or_loopback(const struct in6_addr *a)
{
	const __u32 *w = a->in6_u.u6_addr32;

	return !w[0] && !w[1] && !w[2] && (!w[3] || w[3] == bpf_htonl(1));
}

static __always_inline int rt_rx_ip6(struct cube_ctx *ctx, struct cb_md *md, struct ethhdr *eth, struct rt_port *pt,
				     void *end, int mac_ours, __u32 *out_port)
{
	struct ipv6hdr *ip6 = (void *)(eth + 1);
	struct icmp6hdr *ic = (void *)(ip6 + 1);
	struct rt_addr a;
	struct rt_local *loc;
	struct rt_route *r;
	struct rt_neigh *n;
	struct rt_port *op;
	struct rt_lpm6 k;
	__u16 old;

	if ((void *)(ip6 + 1) > end || ip6->version != 6)
		return RT_DROP;
	if (sizeof(*ip6) + bpf_ntohs(ip6->payload_len) > cube_len(ctx) - ETH_HLEN)
		return RT_DROP; /* truncated (a jumbogram has no place here either) */
	if (rt_ip6_is_multicast(&ip6->saddr) || rt_ip6_is_unspecified_or_loopback(&ip6->daddr))
		return RT_DROP;
	if (ip6->nexthdr == IPPROTO_ICMPV6 && (void *)(ic + 1) <= end &&
	    (ic->icmp6_type == 135 || ic->icmp6_type == 136)) {
		/* neighbour discovery (RFC 4861 7.1.1: hop limit 255) */
		if (ip6->hop_limit != 255 || ic->icmp6_code != 0)
			return RT_DROP;
		if (ic->icmp6_type == 135) {
			struct in6_addr *target = (void *)(ic + 1);

			if ((void *)(target + 1) > end)
				return RT_DROP;
			rt_addr6(&a, target);
			loc = bpf_map_lookup_elem(&rt_local, &a);
			if (!loc || loc->port != md->in_port)
				return RT_DROP; /* not one of this port's addresses */
		}
		return RT_REASON_NEIGH;
	}
	if (!mac_ours || rt_ip6_is_multicast(&ip6->daddr))
		return RT_DROP; /* no multicast routing */
	rt_addr6(&a, &ip6->daddr);
	loc = bpf_map_lookup_elem(&rt_local, &a);
	if (loc) {
		struct in6_addr tmp;

		if (ip6->nexthdr == IPPROTO_UDP) {
			md->words[0] = RT_ICMP(ICMPV6_DEST_UNREACH, ICMPV6_PORT_UNREACH);
			return RT_REASON_ICMP;
		}
		if (ip6->nexthdr != IPPROTO_ICMPV6 || (void *)(ic + 1) > end || ic->icmp6_type != ICMPV6_ECHO_REQUEST ||
		    ic->icmp6_code != 0)
			return RT_DROP;
		/* the pseudo-header's addresses only swap: the checksum only
		 * sees the type change */
		old = *(__u16 *)ic;
		ic->icmp6_type = ICMPV6_ECHO_REPLY;
		rt_csum_replace2(&ic->icmp6_cksum, old, *(__u16 *)ic);
		tmp = ip6->saddr;
		ip6->saddr = ip6->daddr;
		ip6->daddr = tmp;
		ip6->hop_limit = RT_HOP_LIMIT;
		rt_mac_copy(eth->h_dest, eth->h_source);
		rt_mac_copy(eth->h_source, pt->mac);
		*out_port = md->in_port;
		return RT_FWD;
	}
	/* link-local addresses stay on their link (RFC 4291 2.5.6) */
	if (rt_ip6_is_linklocal(&ip6->saddr) || rt_ip6_is_linklocal(&ip6->daddr))
		return RT_DROP;
	k.plen = 128;
	__builtin_memcpy(k.addr, &ip6->daddr, 16);
	r = bpf_map_lookup_elem(&rt_rt6, &k);
	if (!r) {
		md->words[0] = RT_ICMP(ICMPV6_DEST_UNREACH, ICMPV6_NOROUTE);
		return RT_REASON_ICMP;
	}
	if (!(r->flags & RT_ROUTE_CONNECTED))
		a = r->nexthop;
	if (ip6->hop_limit <= 1) {
		md->words[0] = RT_ICMP(ICMPV6_TIME_EXCEED, ICMPV6_EXC_HOPLIMIT);
		return RT_REASON_ICMP;
	}
	n = rt_neigh_use(&a, r->port, bpf_ktime_get_ns());
	if (!n) {
		md->words[0] = 0; /* the process looks the route up again */
		md->words[1] = r->port;
		return RT_REASON_RESOLVE;
	}
	op = bpf_map_lookup_elem(&rt_ports, &r->port);
	if (!op || !(op->flags & RT_PORT_ON))
		return RT_DROP;
	ip6->hop_limit--;
	rt_mac_copy(eth->h_dest, n->mac);
	rt_mac_copy(eth->h_source, op->mac);
	*out_port = r->port;
	return RT_FWD;
}

/* ---- entry ----------------------------------------------------------------- */

static __always_inline int rt_rx(struct cube_ctx *ctx, struct cb_md *md, __u32 *out_port)
{
	void *end, *data;
	struct ethhdr *eth;
	struct rt_port *pt;
	__u32 in_port = md->in_port;
	int ours;

#ifdef CUBE_TC
	{
		__u32 want = ctx->len < RT_PULL ? ctx->len : RT_PULL;

		/* a comparison, not data_end - data: older verifiers refuse
		 * subtracting packet pointers */
		if (cube_data(ctx) + want > cube_data_end(ctx))
			bpf_skb_pull_data(ctx, want);
	}
#endif
	data = cube_data(ctx);
	end = cube_data_end(ctx);
	eth = data;
	if ((void *)(eth + 1) > end)
		return RT_DROP;
	pt = bpf_map_lookup_elem(&rt_ports, &in_port);
	if (!pt || !(pt->flags & RT_PORT_ON))
		return RT_DROP;
	ours = rt_mac_eq(eth->h_dest, pt->mac);
	if (!ours && !cb_mac_is_multicast(eth->h_dest))
		return RT_DROP; /* unicast for another station */
	md->words[0] = 0;
	md->words[1] = 0;
	switch (eth->h_proto) {
	case bpf_htons(ETH_P_ARP): return rt_rx_arp(ctx, md, eth, pt, end, out_port);
	case bpf_htons(ETH_P_IP):
		if (!ours)
			return RT_DROP;
		return rt_rx_ip4(ctx, md, eth, pt, end, out_port);
	case bpf_htons(ETH_P_IPV6): return rt_rx_ip6(ctx, md, eth, pt, end, ours, out_port);
	}
	return RT_DROP;
}

/* Hands the packet to the process unless reason's token bucket is empty. */
static __always_inline int rt_slowpath(struct cube_ctx *ctx, struct cb_md *md, __u32 reason)
{
	__u32 idx = reason - RT_REASON_FIRST;
	struct rt_conf *conf = rt_conf_get();
	struct rt_bucket *b = bpf_map_lookup_elem(&rt_buckets, &idx);
	struct rt_spcount *cnt = bpf_map_lookup_elem(&rt_spcnt, &idx);
	__u64 now = bpf_ktime_get_ns(), interval = RT_DEF_INTERVAL_NS, burst = RT_DEF_BURST_NS, tat;

	if (!b || !cnt)
		return cube_drop(ctx, md);
	if (conf && conf->interval_ns) {
		interval = conf->interval_ns;
		burst = conf->burst_ns;
	}
	/* GCRA; two CPUs racing may both pass: the limit is approximate,
	 * never a lock on the packet path */
	tat = b->tat;
	if (tat < now)
		tat = now;
	if (tat + interval - now > burst) {
		cnt->limited++;
		return cube_drop(ctx, md);
	}
	b->tat = tat + interval;
	cnt->sent++;
	return cube_slowpath(ctx, md, reason);
}

static __always_inline int handle_rx(struct cube_ctx *ctx, struct cb_md *md)
{
	__u32 out_port = 0;
	int act = rt_rx(ctx, md, &out_port);

	if (act == RT_FWD)
		return cube_redirect(ctx, md, out_port);
	if (act >= RT_REASON_FIRST && act < RT_REASON_FIRST + RT_NREASONS)
		return rt_slowpath(ctx, md, act);
	return cube_drop(ctx, md);
}
