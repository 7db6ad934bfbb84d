/* SPDX-License-Identifier: Apache-2.0 */
#ifndef DDOSMITIGATOR_SHARED_H
#define DDOSMITIGATOR_SHARED_H
#include <linux/types.h>

/*
 * Entries of each blacklist: the model's max-elements, which the broker
 * counts. Each of the four tries (src / dst, IPv4 / IPv6) has room for all
 * of them (an LPM trie allocates per entry, so the room costs nothing until
 * used), and so does each list's counter array.
 */
#define DM_MAX_ENTRIES 1000000

/* The blacklists, as the fast path's maps are named after them. */
enum dm_list_id { DM_SRC = 0, DM_DST = 1, DM_NLISTS = 2 };

/* Key of the IPv4 tries (struct bpf_lpm_trie_key layout). */
struct dm_key4 {
	__u32 prefixlen;
	__u8 addr[4];
};

/* Key of the IPv6 tries. */
struct dm_key6 {
	__u32 prefixlen;
	__u8 addr[16];
};

/* Value of a trie entry: the entry's slot in its list's counters
 * (dm_src_cnt / dm_dst_cnt, per-CPU: exact without atomics). */
struct dm_entry {
	__u32 slot;
};

/* Keys of dm_stats (per-CPU u64): what the fast path did. */
enum dm_stat {
	DM_STAT_DROPPED = 0, /* dropped by an entry of either list */
	DM_STAT_PASSED = 1,  /* IP packets no entry matched, and egress */
	DM_STAT_NOT_IP = 2,  /* neither IPv4 nor IPv6: passed */
	DM_STAT_SHORT = 3,   /* an Ethernet, VLAN or IP header cut short: passed */
	DM_NSTATS = 4,
};
#endif
