/* SPDX-License-Identifier: Apache-2.0 */
/*
 * simplebridge fast path: learning bridge. Learns source MACs per in-port,
 * forwards to the learned port while the entry is younger than aging-time,
 * floods unknown, broadcast and multicast destinations in the kernel.
 * Static entries (sb_static) win over learned ones (sb_fdb) both ways: a
 * static source is never learned, a static destination never ages.
 */
#include "cubebus/cube.bpf.h"
#include "cubebus/parsing.bpf.h"
#include "simplebridge_shared.h"

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, SB_FDB_MAX);
	__type(key, __u64);
	__type(value, struct sb_fdb_val);
} sb_fdb SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, SB_STATIC_MAX);
	__uint(map_flags, BPF_F_NO_PREALLOC); /* memory for the entries there are */
	__type(key, __u64);
	__type(value, struct sb_fdb_val);
} sb_static SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct sb_conf);
} sb_conf SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, SB_STAT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} sb_stats SEC(".maps");

static __always_inline __u64 sb_mac_key(const __u8 *mac)
{
	__u64 k = 0;

	__builtin_memcpy(&k, mac, 6);
	return k;
}

/* Re-learn at most once a second per MAC: a hash update per packet costs. */
#define SB_REFRESH_NS 1000000000ULL

static __always_inline void sb_count_learned(void)
{
	__u32 k = SB_STAT_LEARNED;
	__u64 *n = bpf_map_lookup_elem(&sb_stats, &k);

	if (n)
		*n += 1;
}

/* Learns (or refreshes, or moves) a source; 1 when the table was written. */
static __always_inline int sb_learn(__u64 key, __u32 port, __u64 now, __u64 refresh, int has_static)
{
	struct sb_fdb_val nv = { .port = port, .seen_ns = now };
	struct sb_fdb_val *v;

	/* the common case, one lookup: a known source, fresh, on its port.
	 * Otherwise a static MAC is never learned (nor moved) */
	v = bpf_map_lookup_elem(&sb_fdb, &key);
	if (v && v->port == port && now - v->seen_ns <= refresh)
		return 0;
	if (has_static && bpf_map_lookup_elem(&sb_static, &key))
		return 0; /* configured: never learned elsewhere */
	/* an update of an existing key is not a new entry; if it vanished
	 * meanwhile (evicted, aged), insert it as new. NOEXIST makes each new
	 * key counted once even when two CPUs learn it together. */
	if (v && bpf_map_update_elem(&sb_fdb, &key, &nv, BPF_EXIST) == 0)
		return 1;
	if (bpf_map_update_elem(&sb_fdb, &key, &nv, BPF_NOEXIST) == 0) {
		sb_count_learned();
		return 1;
	}
	return 0;
}

static __always_inline int handle_rx(struct cube_ctx *ctx, struct cb_md *md)
{
	void *end = cube_data_end(ctx);
	struct cb_cursor c = { .pos = cube_data(ctx) };
	struct ethhdr *eth = cb_parse_eth(&c, end);
	struct sb_fdb_val *v;
	struct sb_conf *conf;
	__u32 zero = 0;
	__u64 now, key;

	if (!eth)
		return cube_drop(ctx, md);
	cube_log(md, CB_LOG_TRACE, "rx port", md->in_port, cube_len(ctx));
	now = bpf_ktime_get_ns();
	conf = bpf_map_lookup_elem(&sb_conf, &zero);
	if (!cb_mac_is_multicast(eth->h_source)) {
		/* refresh often enough that an active MAC never ages out */
		__u64 refresh = SB_REFRESH_NS;

		if (conf && conf->aging_ns && conf->aging_ns / 2 < refresh)
			refresh = conf->aging_ns / 2;
		key = sb_mac_key(eth->h_source);
		if (sb_learn(key, md->in_port, now, refresh, conf && conf->has_static))
			cube_log(md, CB_LOG_DEBUG, "learn mac on port", key, md->in_port);
	}
	if (cb_mac_is_multicast(eth->h_dest)) {
		cube_log(md, CB_LOG_TRACE, "flood multicast", md->in_port);
		return cube_flood(ctx, md);
	}
	key = sb_mac_key(eth->h_dest);
	/* static first: it wins even over a learned twin the process has not
	 * removed yet */
	v = conf && conf->has_static ? bpf_map_lookup_elem(&sb_static, &key) : NULL;
	if (!v) {
		v = bpf_map_lookup_elem(&sb_fdb, &key);
		/* aged but not yet removed by the process's next tick */
		if (!v || (conf && conf->aging_ns && now - v->seen_ns > conf->aging_ns)) {
			cube_log(md, CB_LOG_TRACE, "flood unknown", md->in_port);
			return cube_flood(ctx, md);
		}
	}
	if (v->port == md->in_port)
		return cube_drop(ctx, md);
	return cube_redirect(ctx, md, v->port);
}
