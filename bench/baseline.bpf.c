/* SPDX-License-Identifier: Apache-2.0 */
/*
 * baseline.bpf.c - hand-written single programs that do the work of a
 * cubebus path without the framework: no ingress stub, no tail call, no
 * per-port counters, no link table. bench/hops.c runs them side by side
 * with the same packet through cubebus to show what the framework adds.
 *
 *   single_{tc,xdp}: one learning-bridge hop (the work of simplebridge):
 *                    parse Ethernet, learn the source in a hash map (at
 *                    most once a second per MAC, like simplebridge), look
 *                    up the destination, bpf_redirect to its ifindex.
 *   chain_{tc,xdp}:  the work of a chain of bl_hops simpleforwarder cubes:
 *                    bl_hops dependent lookups of a per-port action in an
 *                    array (each gives the next port), then bpf_redirect.
 */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <linux/if_ether.h>
#include <bpf/bpf_helpers.h>

#define BL_FDB_MAX    4096
#define BL_MAX_HOPS   32
#define BL_PORTS      64
#define BL_REFRESH_NS 1000000000ULL

struct bl_fdb_val {
	__u32 port;
	__u32 ifindex;
	__u64 seen_ns;
};

struct bl_action {
	__u32 forward; /* 0: drop */
	__u32 outport;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, BL_FDB_MAX);
	__type(key, __u64);
	__type(value, struct bl_fdb_val);
} bl_fdb SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, BL_PORTS);
	__type(key, __u32);
	__type(value, struct bl_action);
} bl_actions SEC(".maps");

/* Set before load by bench/hops.c. */
const volatile __u32 bl_hops = 1;
const volatile __u32 bl_in_port = 0;
const volatile __u32 bl_ifindex = 1;

static __always_inline __u64 bl_mac_key(const __u8 *mac)
{
	__u64 k = 0;

	__builtin_memcpy(&k, mac, 6);
	return k;
}

/* Returns the ifindex to redirect to, or 0 to drop. */
static __always_inline __u32 bl_bridge(void *data, void *end)
{
	struct ethhdr *eth = data;
	struct bl_fdb_val *v;
	__u64 now, key;

	if ((void *)(eth + 1) > end)
		return 0;
	now = bpf_ktime_get_ns();
	if (!(eth->h_source[0] & 1)) {
		key = bl_mac_key(eth->h_source);
		v = bpf_map_lookup_elem(&bl_fdb, &key);
		if (!v || v->port != bl_in_port || now - v->seen_ns > BL_REFRESH_NS) {
			struct bl_fdb_val nv = { .port = bl_in_port, .seen_ns = now };

			bpf_map_update_elem(&bl_fdb, &key, &nv, BPF_ANY);
		}
	}
	if (eth->h_dest[0] & 1)
		return 0;
	key = bl_mac_key(eth->h_dest);
	v = bpf_map_lookup_elem(&bl_fdb, &key);
	if (!v || v->port == bl_in_port)
		return 0;
	return v->ifindex;
}

/* Returns 1 if every hop forwards, 0 to drop. */
static __always_inline int bl_chain(void)
{
	__u32 port = bl_in_port;

#pragma unroll
	for (int i = 0; i < BL_MAX_HOPS; i++) {
		struct bl_action *a;

		if (i >= bl_hops)
			break;
		a = bpf_map_lookup_elem(&bl_actions, &port);
		if (!a || !a->forward)
			return 0;
		port = a->outport;
	}
	return 1;
}

SEC("tc")
int single_tc(struct __sk_buff *skb)
{
	__u32 ifindex = bl_bridge((void *)(long)skb->data, (void *)(long)skb->data_end);

	return ifindex ? bpf_redirect(ifindex, 0) : TC_ACT_SHOT;
}

SEC("xdp")
int single_xdp(struct xdp_md *ctx)
{
	__u32 ifindex = bl_bridge((void *)(long)ctx->data, (void *)(long)ctx->data_end);

	return ifindex ? bpf_redirect(ifindex, 0) : XDP_DROP;
}

SEC("tc")
int chain_tc(struct __sk_buff *skb)
{
	return bl_chain() ? bpf_redirect(bl_ifindex, 0) : TC_ACT_SHOT;
}

SEC("xdp")
int chain_xdp(struct xdp_md *ctx)
{
	return bl_chain() ? bpf_redirect(bl_ifindex, 0) : XDP_DROP;
}

char _license[] SEC("license") = "GPL";
