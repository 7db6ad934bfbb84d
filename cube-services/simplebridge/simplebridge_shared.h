/* SPDX-License-Identifier: Apache-2.0 */
/* simplebridge: structs shared by the fast path and the cube process. */
#ifndef SIMPLEBRIDGE_SHARED_H
#define SIMPLEBRIDGE_SHARED_H
#include <linux/types.h>

/*
 * Learned entries (sb_fdb, an LRU hash): when it is full, learning a new MAC
 * evicts the least recently used entry, so a new host is learned at once even
 * after a MAC flood. Static entries (sb_static, a plain hash) are never
 * evicted; the fast path looks there first.
 */
#ifndef SB_FDB_MAX
#define SB_FDB_MAX 4096
#endif
#ifndef SB_STATIC_MAX
#define SB_STATIC_MAX 16384
#endif

/* The fdb key is the MAC in the low 48 bits of a u64 (network byte order bytes). */
struct sb_fdb_val {
	__u32 port;
	__u32 is_static; /* 0 in sb_fdb; 1 in sb_static (never aged, never moved) */
	__u64 seen_ns;	 /* CLOCK_MONOTONIC of the last frame from this MAC */
};

struct sb_conf {
	__u64 aging_ns;
	/* sb_static may hold entries: set by the process before it writes the
	 * first, cleared by its tick once the table is empty. Without it the
	 * fast path skips the static table (one lookup a packet saved). */
	__u32 has_static;
	__u32 pad;
};

/* sb_stats (per-CPU array) keys: the fast path counts SB_STAT_LEARNED, the
 * process SB_STAT_AGED and SB_STAT_REMOVED, so that
 * evicted = learned - aged - removed - entries. */
enum sb_stat {
	SB_STAT_LEARNED, /* new keys inserted into sb_fdb */
	SB_STAT_AGED,	 /* removed by the process's aging */
	SB_STAT_REMOVED, /* removed by fdb flush, or replaced by a static entry */
	SB_STAT_MAX,
};
#endif
