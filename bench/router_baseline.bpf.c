/* SPDX-License-Identifier: Apache-2.0 */
/*
 * router_baseline.bpf.c - the `router` rows of bench/hops.c.
 *
 *   router_{tc,xdp}: a hand-written IPv4 router in one program, doing the
 *                    work of the router cube's forwarding path
 *                    (cube-services/router/router.bpf.c) without the
 *                    framework: the in-port's MAC must be the destination,
 *                    IPv4 header checks and checksum (options included,
 *                    like the router), martian source and destination,
 *                    a lookup of the router's own addresses, the LPM trie,
 *                    TTL, the next hop's neighbour entry (aging and a
 *                    refresh at most once a second, like the router), the
 *                    out-port's MAC and ifindex, TTL decrement with the
 *                    RFC 1624 checksum update, MAC rewrite, bpf_redirect.
 *                    Plain IPv4 tables: 4-byte keys where the router keeps
 *                    16-byte (IPv4-mapped) addresses for both families.
 *   rp_{tc,xdp}:     the prologue of every router measurement. A router
 *                    rewrites the frame (MACs, TTL, checksum), and
 *                    bpf_prog_test_run_opts() runs its `repeat` passes on
 *                    the same buffer: the second pass would see a foreign
 *                    destination MAC, and after 63 the TTL would run out.
 *                    The prologue writes the header back from the template
 *                    (rp_w*, set before load) and tail-calls entry 0 of its
 *                    rp_next_{tc,xdp}: the router under test. Both sides
 *                    of a row pay for it alike; hops measures it on its own
 *                    (null_{tc,xdp} as the target) and subtracts it.
 *   null_{tc,xdp}:   returns the redirect verdict, nothing else.
 */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define RB_PORTS	32
#define RB_ROUTES_MAX	4096
#define RB_NEIGH_MAX	4096
#define RB_LOCAL_MAX	512
#define RB_REFRESH_NS	1000000000ULL
#define RB_PORT_ON	1
#define RB_CONNECTED	1
#define RB_NEIGH_STATIC 1

struct rb_port {
	__u8 mac[6];
	__u16 flags;
	__u32 ifindex;
};

struct rb_lpm4 {
	__u32 plen;
	__u32 addr; /* network order */
};

struct rb_route {
	__u32 nexthop; /* network order; unused when connected */
	__u32 port;
	__u32 flags;
	__u32 plen;
};

struct rb_neigh {
	__u8 mac[6];
	__u16 port;
	__u32 flags;
	__u64 seen_ns;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, RB_PORTS);
	__type(key, __u32);
	__type(value, struct rb_port);
} rb_ports SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, RB_LOCAL_MAX);
	__type(key, __u32);
	__type(value, __u32);
} rb_local SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, RB_ROUTES_MAX);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct rb_lpm4);
	__type(value, struct rb_route);
} rb_rt4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, RB_NEIGH_MAX);
	__type(key, __u32);
	__type(value, struct rb_neigh);
} rb_neigh SEC(".maps");

/* One program array per hook: a program array belongs to one program type. */
struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} rp_next_tc SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} rp_next_xdp SEC(".maps");

/* Set before load by bench/hops.c. */
const volatile __u32 rb_in_port = 0;
const volatile __u32 rb_aging_s = 300;
/* The template's header, as the bytes are in memory: Ethernet addresses
 * (bytes 0-11), the IPv4 TTL/protocol word (22-23) and checksum (24-25). */
const volatile __u32 rp_w0 = 0, rp_w1 = 0, rp_w2 = 0, rp_ttlproto = 0, rp_check = 0;

static __always_inline int rb_mac_eq(const __u8 *a, const __u8 *b)
{
	return !((a[0] ^ b[0]) | (a[1] ^ b[1]) | (a[2] ^ b[2]) | (a[3] ^ b[3]) | (a[4] ^ b[4]) | (a[5] ^ b[5]));
}

static __always_inline __u32 rb_fold(__u64 s)
{
	s = (s & 0xffffffff) + (s >> 32);
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	return (__u32)((s & 0xffff) + (s >> 16));
}

/* RFC 1624 eqn. 3, as the router does it. */
static __always_inline void rb_csum_replace2(__u16 *sum, __u16 from, __u16 to)
{
	__u32 s = (__u16) ~*sum;

	s += (__u16)~from;
	s += to;
	*sum = (__u16)~rb_fold(s);
}

/* The header checksum over ihl words, options included (as the router). */
#define RB_OPT_WORD(j)                           \
	if (n > (j)) {                           \
		if ((void *)(w + (j) + 1) > end) \
			return 0;                \
		s += w[j];                       \
	}

static __always_inline int rb_ip4_csum_ok(struct iphdr *ip, void *end)
{
	__u16 *w = (__u16 *)ip;
	__u32 n = ip->ihl * 2;
	__u64 s = 0;

	for (int i = 0; i < 10; i++)
		s += w[i];
	/* words 10-29: the options, if any */
	RB_OPT_WORD(10);
	RB_OPT_WORD(11);
	RB_OPT_WORD(12);
	RB_OPT_WORD(13);
	RB_OPT_WORD(14);
	RB_OPT_WORD(15);
	RB_OPT_WORD(16);
	RB_OPT_WORD(17);
	RB_OPT_WORD(18);
	RB_OPT_WORD(19);
	RB_OPT_WORD(20);
	RB_OPT_WORD(21);
	RB_OPT_WORD(22);
	RB_OPT_WORD(23);
	RB_OPT_WORD(24);
	RB_OPT_WORD(25);
	RB_OPT_WORD(26);
	RB_OPT_WORD(27);
	RB_OPT_WORD(28);
	RB_OPT_WORD(29);
	return rb_fold(s) == 0xffff;
}

static __always_inline int rb_martian_src(__u32 a)
{
	__u32 h = bpf_ntohl(a);

	return (h >> 24) == 0 || (h >> 24) == 127 || (h >> 28) == 0xe || h == 0xffffffff || (h >> 28) == 0xf;
}

static __always_inline int rb_martian_dst(__u32 a)
{
	__u32 h = bpf_ntohl(a);

	return (h >> 24) == 0 || (h >> 24) == 127 || (h >> 28) >= 0xe;
}

/* Forwards the frame: returns the egress ifindex, or 0 to drop. */
static __always_inline __u32 rb_forward(void *data, void *end, __u32 len)
{
	struct ethhdr *eth = data;
	struct iphdr *ip = (void *)(eth + 1);
	struct rb_port *pt, *op;
	struct rb_route *r;
	struct rb_neigh *n;
	struct rb_lpm4 k;
	__u32 in_port = rb_in_port, hlen, tot, dst, nh;
	__u64 now;
	__u16 old;

	if ((void *)(ip + 1) > end)
		return 0;
	pt = bpf_map_lookup_elem(&rb_ports, &in_port);
	if (!pt || !(pt->flags & RB_PORT_ON) || !rb_mac_eq(eth->h_dest, pt->mac))
		return 0;
	if (eth->h_proto != bpf_htons(ETH_P_IP) || ip->version != 4 || ip->ihl < 5)
		return 0;
	hlen = ip->ihl * 4;
	tot = bpf_ntohs(ip->tot_len);
	if (tot < hlen || tot > len - ETH_HLEN)
		return 0;
	if (!rb_ip4_csum_ok(ip, end) || rb_martian_src(ip->saddr))
		return 0;
	dst = ip->daddr;
	if (bpf_map_lookup_elem(&rb_local, &dst))
		return 0; /* for the router itself: not this benchmark's path */
	if (rb_martian_dst(dst))
		return 0;
	k.plen = 32;
	k.addr = dst;
	r = bpf_map_lookup_elem(&rb_rt4, &k);
	if (!r)
		return 0;
	if (r->flags & RB_CONNECTED) {
		nh = dst;
		if (r->plen > 0 && r->plen < 31) { /* no directed broadcast */
			__u32 host = 0xffffffffu >> (r->plen & 31);

			if ((bpf_ntohl(dst) & host) == host)
				return 0;
		}
	} else {
		nh = r->nexthop;
	}
	if (ip->ttl <= 1)
		return 0;
	n = bpf_map_lookup_elem(&rb_neigh, &nh);
	if (!n || n->port != r->port)
		return 0;
	if (!(n->flags & RB_NEIGH_STATIC)) {
		now = bpf_ktime_get_ns();
		if (now - n->seen_ns > rb_aging_s * 1000000000ULL)
			return 0;
		if (now - n->seen_ns > RB_REFRESH_NS)
			n->seen_ns = now;
	}
	op = bpf_map_lookup_elem(&rb_ports, &r->port);
	if (!op || !(op->flags & RB_PORT_ON))
		return 0;
	old = *(__u16 *)&ip->ttl;
	ip->ttl--;
	rb_csum_replace2(&ip->check, old, *(__u16 *)&ip->ttl);
	__builtin_memcpy(eth->h_dest, n->mac, 6);
	__builtin_memcpy(eth->h_source, op->mac, 6);
	return op->ifindex;
}

SEC("tc")
int router_tc(struct __sk_buff *skb)
{
	__u32 ifindex = rb_forward((void *)(long)skb->data, (void *)(long)skb->data_end, skb->len);

	return ifindex ? bpf_redirect(ifindex, 0) : TC_ACT_SHOT;
}

SEC("xdp")
int router_xdp(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	__u32 ifindex = rb_forward(data, end, (__u32)(end - data));

	return ifindex ? bpf_redirect(ifindex, 0) : XDP_DROP;
}

/* Writes the template's header back; 0, or -1 if the frame is too short. */
static __always_inline int rp_restore(void *data, void *end)
{
	if (data + 26 > end)
		return -1;
	*(__u32 *)(data + 0) = rp_w0;
	*(__u32 *)(data + 4) = rp_w1;
	*(__u32 *)(data + 8) = rp_w2;
	*(__u16 *)(data + 22) = (__u16)rp_ttlproto;
	*(__u16 *)(data + 24) = (__u16)rp_check;
	return 0;
}

SEC("tc")
int rp_tc(struct __sk_buff *skb)
{
	if (rp_restore((void *)(long)skb->data, (void *)(long)skb->data_end) < 0)
		return TC_ACT_SHOT;
	bpf_tail_call_static(skb, &rp_next_tc, 0);
	return TC_ACT_SHOT;
}

SEC("xdp")
int rp_xdp(struct xdp_md *ctx)
{
	if (rp_restore((void *)(long)ctx->data, (void *)(long)ctx->data_end) < 0)
		return XDP_DROP;
	bpf_tail_call_static(ctx, &rp_next_xdp, 0);
	return XDP_DROP;
}

SEC("tc")
int null_tc(struct __sk_buff *skb)
{
	return TC_ACT_REDIRECT;
}

SEC("xdp")
int null_xdp(struct xdp_md *ctx)
{
	return XDP_REDIRECT;
}

char _license[] SEC("license") = "GPL";
