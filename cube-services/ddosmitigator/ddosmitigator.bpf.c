/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ddosmitigator fast path: a packet travelling toward what the cube is
 * attached to (ingress) is dropped when its source matches an entry of
 * blacklist-src or its destination one of blacklist-dst (longest prefix
 * match, IPv4 and IPv6). Everything else passes: egress, non-IP frames,
 * and frames too short to hold the IP header (counted in dm_stats).
 */
#define CUBE_TRANSPARENT
#include "cubebus/cube.bpf.h"
#include "cubebus/parsing.bpf.h"
#include "ddosmitigator_shared.h"

/*
 * The lookups the configuration needs (DESIGN 3.5): set before load, so
 * the verifier removes the lookup of a list that has no entry. The process
 * reloads the program when a list gets its first entry or loses its last
 * (ddosmitigator.c, dm_specialise). Both on until then: a restarted
 * process's first program looks up what the pinned tries still hold.
 */
const volatile __u32 dm_use_src = 1;
const volatile __u32 dm_use_dst = 1;

#define DM_TRIE(name, keytype)                        \
	struct {                                      \
		__uint(type, BPF_MAP_TYPE_LPM_TRIE);  \
		__uint(max_entries, DM_MAX_ENTRIES);  \
		__uint(map_flags, BPF_F_NO_PREALLOC); \
		__type(key, keytype);                 \
		__type(value, struct dm_entry);       \
	} name SEC(".maps")

DM_TRIE(dm_src4, struct dm_key4);
DM_TRIE(dm_src6, struct dm_key6);
DM_TRIE(dm_dst4, struct dm_key4);
DM_TRIE(dm_dst6, struct dm_key6);

/* drop-pkts of each entry, by its slot (struct dm_entry). */
#define DM_COUNTERS(name)                                \
	struct {                                         \
		__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY); \
		__uint(max_entries, DM_MAX_ENTRIES);     \
		__type(key, __u32);                      \
		__type(value, __u64);                    \
	} name SEC(".maps")

DM_COUNTERS(dm_src_cnt);
DM_COUNTERS(dm_dst_cnt);

/* enum dm_stat */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, DM_NSTATS);
	__type(key, __u32);
	__type(value, __u64);
} dm_stats SEC(".maps");

static __always_inline void dm_count(__u32 stat)
{
	__u64 *v = bpf_map_lookup_elem(&dm_stats, &stat);

	if (v)
		(*v)++;
}

/* Drops the packet for the entry e of a list, counting it there too. */
static __always_inline int dm_drop(struct cube_ctx *ctx, struct cb_md *md, void *counters, struct dm_entry *e)
{
	__u64 *v = bpf_map_lookup_elem(counters, &e->slot);

	if (v)
		(*v)++;
	dm_count(DM_STAT_DROPPED);
	return cube_drop(ctx, md);
}

static __always_inline int handle_rx(struct cube_ctx *ctx, struct cb_md *md)
{
	void *data = cube_data(ctx), *end = cube_data_end(ctx);
	struct cb_cursor c = { .pos = data };
	__u16 vids[CB_VLAN_MAX];
	struct dm_entry *e;
	struct ethhdr *eth;
	__be16 proto;

	if (md->in_port > CUBE_PORT_OUTER)
		return cube_drop(ctx, md); /* a transparent cube has two ports */
	if (!cube_is_ingress(md)) {
		dm_count(DM_STAT_PASSED);
		return cube_pass(ctx, md);
	}
	eth = cb_parse_eth(&c, end);
	if (!eth)
		goto short_hdr;
	proto = eth->h_proto;
	if (cb_parse_vlans(&c, end, &proto, vids) < 0)
		goto short_hdr;
	if (proto == bpf_htons(ETH_P_IP)) {
		/* the addresses are in the fixed header: options need not be whole */
		struct iphdr *ip = c.pos;
		struct dm_key4 k = { .prefixlen = 32 };

		if ((void *)(ip + 1) > end)
			goto short_hdr;
		if (dm_use_src) {
			__builtin_memcpy(k.addr, &ip->saddr, 4);
			e = bpf_map_lookup_elem(&dm_src4, &k);
			if (e)
				return dm_drop(ctx, md, &dm_src_cnt, e);
		}
		if (dm_use_dst) {
			__builtin_memcpy(k.addr, &ip->daddr, 4);
			e = bpf_map_lookup_elem(&dm_dst4, &k);
			if (e)
				return dm_drop(ctx, md, &dm_dst_cnt, e);
		}
	} else if (proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = c.pos;
		struct dm_key6 k = { .prefixlen = 128 };

		if ((void *)(ip6 + 1) > end)
			goto short_hdr;
		if (dm_use_src) {
			__builtin_memcpy(k.addr, &ip6->saddr, 16);
			e = bpf_map_lookup_elem(&dm_src6, &k);
			if (e)
				return dm_drop(ctx, md, &dm_src_cnt, e);
		}
		if (dm_use_dst) {
			__builtin_memcpy(k.addr, &ip6->daddr, 16);
			e = bpf_map_lookup_elem(&dm_dst6, &k);
			if (e)
				return dm_drop(ctx, md, &dm_dst_cnt, e);
		}
	} else {
		dm_count(DM_STAT_NOT_IP);
		return cube_pass(ctx, md);
	}
	dm_count(DM_STAT_PASSED);
	return cube_pass(ctx, md);
short_hdr:
	dm_count(DM_STAT_SHORT);
	return cube_pass(ctx, md);
}
