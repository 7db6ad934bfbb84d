/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cube.bpf.h - the data-plane SDK a service fast path is written against.
 *
 * A service defines
 *     static __always_inline int handle_rx(struct cube_ctx *ctx, struct cb_md *md);
 * before including this header with CUBE_TC or CUBE_XDP defined (the
 * Makefile builds each service once for each hook). handle_rx returns one
 * of cube_redirect(), cube_flood(), cube_drop(), cube_slowpath() or
 * cube_pass(). The SDK provides the entry program, per-port counters, the
 * hop to the next cube and the slow-path channel.
 *
 * A transparent service defines CUBE_TRANSPARENT as well. It has no ports
 * in its model: the broker attaches it to a port X:p of a standard cube
 * and links its two internal ports, port 0 (CUBE_PORT_INNER) to X:p and
 * port 1 (CUBE_PORT_OUTER) to what X:p's peer was (a netdev, or a cube,
 * possibly through other transparent cubes). A packet in on port 1 is
 * ingress, travelling toward X (cube_is_ingress()); one in on port 0 is
 * egress, leaving X through p. For it cube_pass() lets the packet continue
 * its way, out of the other port; for a standard cube cube_pass() hands it
 * to the kernel (TC_ACT_OK / XDP_PASS).
 */
#ifndef CUBEBUS_CUBE_BPF_H
#define CUBEBUS_CUBE_BPF_H

#if !defined(CUBE_TC) && !defined(CUBE_XDP)
#error "build with -DCUBE_TC or -DCUBE_XDP"
#endif

#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <linux/errno.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "cubebus_shared.h"
#include "maps.bpf.h"

/* Set by libcube before load; the verifier prunes what they turn off. */
const volatile __u32 cb_cube_id = 0;
/* enum cb_loglevel: records below it are not compiled in (cube_log()). */
const volatile __u32 cb_loglevel = CB_LOG_INFO;
/* Packets a second each CPU may send to the slow path (0: no limit). */
const volatile __u32 cb_sp_rate = 0;

#ifdef CUBE_TC
#define cube_ctx    __sk_buff
#define CB_ACT_DROP TC_ACT_SHOT
#define CB_ACT_PASS TC_ACT_OK
#define CB_SEC	    "tc"
#else
#define cube_ctx    xdp_md
#define CB_ACT_DROP XDP_DROP
#define CB_ACT_PASS XDP_PASS
#define CB_SEC	    "xdp"
#endif

/* Per-cube next-hop program array: entry p holds the program of the cube
 * connected to port p. The broker rewires it by map update. */
struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, CB_MAX_PORTS);
	__type(key, __u32);
	__type(value, __u32);
} cb_next SEC(".maps");

#ifdef CUBE_XDP
/* Netdev ports of this cube, for in-kernel broadcast (flooding). */
struct {
	__uint(type, BPF_MAP_TYPE_DEVMAP_HASH);
	__uint(max_entries, CB_MAX_PORTS);
	__type(key, __u32);
	__type(value, __u32);
} cb_flood SEC(".maps");
#endif

/* Packet-in channel of this cube: packets and metadata to its process. */
struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} cb_pktin SEC(".maps");

/* Slow-path counters of this cube, per reason. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, CB_MAX_REASONS);
	__type(key, __u32);
	__type(value, __u64);
} cb_spstats SEC(".maps");

/* Slow-path packets refused by the rate limit, per reason. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, CB_MAX_REASONS);
	__type(key, __u32);
	__type(value, __u64);
} cb_splimited SEC(".maps");

/* The token bucket of the slow path, one per CPU: no atomics per packet. */
struct cb_sp_bucket {
	__u64 tokens;
	__u64 last_ns;
};
#define CB_SP_BURST 256

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct cb_sp_bucket);
} cb_spbucket SEC(".maps");

/* Trace records of this cube for its process (cube_log()). */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, CB_LOG_RING_SIZE);
} cb_log SEC(".maps");

/* Trace records refused because the ring was full. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} cb_logdrops SEC(".maps");

static __always_inline void cb_log_emit(struct cb_md *md, __u32 level, const char *msg, const __u64 *args, __u32 nargs)
{
	struct cb_log_rec *r = bpf_ringbuf_reserve(&cb_log, sizeof(*r), 0);
	__u32 zero = 0;

	if (!r) {
		/* the process is behind: drop and count, never wait */
		__u64 *cnt = bpf_map_lookup_elem(&cb_logdrops, &zero);

		if (cnt)
			(*cnt)++;
		return;
	}
	r->ts_ns = bpf_ktime_get_ns();
	r->cube_id = cb_cube_id;
	r->in_port = md->in_port;
	r->level = level;
	r->nargs = nargs;
	r->pad = 0;
	__builtin_memcpy(r->msg, msg, CB_LOG_MSG_LEN);
	for (int i = 0; i < CB_LOG_ARGS; i++)
		r->args[i] = i < nargs ? args[i] : 0;
	bpf_ringbuf_submit(r, 0);
}

#define CB_LOG_NARGS_(_0, _1, _2, _3, n, ...) n
#define CB_LOG_NARGS(...)		      CB_LOG_NARGS_(0, ##__VA_ARGS__, 3, 2, 1, 0)

/* True when a record of level is compiled in: cb_loglevel is read-only
 * data, so the verifier knows it and removes what this turns off. */
#define cube_log_enabled(level) ((level) < CB_LOG_OFF && (level) >= cb_loglevel)

/*
 * cube_log(md, CB_LOG_DEBUG, "short message", up to 3 integer args):
 * a fixed-size record (cube, level, in-port, message, args, time) into the
 * cube's ring, printed by its process in the cube's log. No bpf_printk:
 * nothing reaches the kernel's trace pipe. The message is at most
 * CB_LOG_MSG_LEN - 1 characters (checked at compile time).
 */
#define cube_log(md, level, msg, ...)                                                                   \
	do {                                                                                            \
		if (cube_log_enabled(level)) {                                                          \
			const char __cb_msg[CB_LOG_MSG_LEN] = msg;                                      \
			__u64 __cb_args[CB_LOG_ARGS + 1] = { 0, ##__VA_ARGS__ };                        \
			_Static_assert(sizeof(msg) <= CB_LOG_MSG_LEN, "cube_log: message too long");    \
			cb_log_emit((md), (level), __cb_msg, __cb_args + 1, CB_LOG_NARGS(__VA_ARGS__)); \
		}                                                                                       \
	} while (0)

static __always_inline void *cube_data(struct cube_ctx *ctx)
{
	return (void *)(long)ctx->data;
}

static __always_inline void *cube_data_end(struct cube_ctx *ctx)
{
	return (void *)(long)ctx->data_end;
}

static __always_inline __u32 cube_len(struct cube_ctx *ctx)
{
#ifdef CUBE_TC
	return ctx->len;
#else
	return (__u32)(ctx->data_end - ctx->data);
#endif
}

static __always_inline struct cb_port_stats *cb_port_stats(__u32 port)
{
	__u32 key = CB_LINK_KEY(cb_cube_id, port);

	return bpf_map_lookup_elem(&cb_g_stats, &key);
}

static __always_inline int cube_drop(struct cube_ctx *ctx, struct cb_md *md)
{
	struct cb_port_stats *st = cb_port_stats(md->in_port);

	if (st)
		st->drops++;
	return CB_ACT_DROP;
}

/* Counts one packet sent out of port; returns its counters (for an undo). */
static __always_inline struct cb_port_stats *cb_count_tx(struct cube_ctx *ctx, __u32 port)
{
	struct cb_port_stats *st = cb_port_stats(port);

	if (st) {
		st->tx_packets++;
		st->tx_bytes += cube_len(ctx);
	}
	return st;
}

/* Writes the metadata the next cube will read as its own. */
static __always_inline void cb_md_store(struct cube_ctx *ctx, __u16 in_port)
{
#ifdef CUBE_TC
	ctx->cb[0] = in_port;
#else
	__u32 zero = 0;
	struct cb_md *m = bpf_map_lookup_elem(&cb_g_md, &zero);

	if (m)
		m->in_port = in_port;
#endif
}

#define CB_HOP_CASE(n) \
	case n: bpf_tail_call_static(ctx, &cb_next, n); break;

/*
 * One hop to the cube on the other end of port: each case tail-calls a
 * constant key, which the kernel patches into a direct jump (DESIGN §3.2).
 */
static __always_inline void cb_hop(struct cube_ctx *ctx, __u32 port)
{
	/* clang-format off */
	switch (port) {
		CB_HOP_CASE(0)
		CB_HOP_CASE(1)
		CB_HOP_CASE(2)
		CB_HOP_CASE(3)
		CB_HOP_CASE(4)
		CB_HOP_CASE(5)
		CB_HOP_CASE(6)
		CB_HOP_CASE(7)
		CB_HOP_CASE(8)
		CB_HOP_CASE(9)
		CB_HOP_CASE(10)
		CB_HOP_CASE(11)
		CB_HOP_CASE(12)
		CB_HOP_CASE(13)
		CB_HOP_CASE(14)
		CB_HOP_CASE(15)
		CB_HOP_CASE(16)
		CB_HOP_CASE(17)
		CB_HOP_CASE(18)
		CB_HOP_CASE(19)
		CB_HOP_CASE(20)
		CB_HOP_CASE(21)
		CB_HOP_CASE(22)
		CB_HOP_CASE(23)
		CB_HOP_CASE(24)
		CB_HOP_CASE(25)
		CB_HOP_CASE(26)
		CB_HOP_CASE(27)
		CB_HOP_CASE(28)
		CB_HOP_CASE(29)
		CB_HOP_CASE(30)
		CB_HOP_CASE(31)
	}
	/* clang-format on */
}

/* Sends the packet out of port. Does not return when the peer is a cube. */
static __always_inline int cube_redirect(struct cube_ctx *ctx, struct cb_md *md, __u32 port)
{
	__u32 key = CB_LINK_KEY(cb_cube_id, port);
	struct cb_link *l;

	if (port >= CB_MAX_PORTS)
		return cube_drop(ctx, md);
	l = bpf_map_lookup_elem(&cb_g_links, &key);
	if (!l)
		return cube_drop(ctx, md);
	if (l->kind == CB_LINK_NETDEV) {
		cb_count_tx(ctx, port);
		return bpf_redirect(l->ifindex, 0);
	}
	if (l->kind == CB_LINK_PASS) {
		/* the end of a netdev's chain: the kernel continues */
		cb_count_tx(ctx, port);
		return CB_ACT_PASS;
	}
	if (l->kind == CB_LINK_CUBE) {
		/* one counter lookup, kept for the undo */
		struct cb_port_stats *st = cb_count_tx(ctx, port);

		cb_md_store(ctx, l->peer_port);
		cb_hop(ctx, port);
		/* the hop returns only when it failed: the packet did not leave */
		if (st) {
			st->tx_packets--;
			st->tx_bytes -= cube_len(ctx);
		}
	}
	/* no peer, or the peer's program is not there (yet) */
	return cube_drop(ctx, md);
}

#ifdef CUBE_TRANSPARENT
/* The two ports of a transparent cube (see the top of this header). */
#define CUBE_PORT_INNER 0
#define CUBE_PORT_OUTER 1

/* True when the packet travels toward the cube this one is attached to. */
static __always_inline int cube_is_ingress(const struct cb_md *md)
{
	return md->in_port == CUBE_PORT_OUTER;
}

/* The packet continues its way: out of the other port. */
static __always_inline int cube_pass(struct cube_ctx *ctx, struct cb_md *md)
{
	return cube_redirect(ctx, md, md->in_port ^ 1);
}
#else
/* The packet goes on to the kernel, as if no cube had seen it. */
static __always_inline int cube_pass(struct cube_ctx *ctx, struct cb_md *md)
{
	return CB_ACT_PASS;
}
#endif

/*
 * Sends a copy of the packet to the cube's process with reason and the
 * service words of md. The packet itself is not consumed: the caller
 * returns what it wants done with it (usually cube_drop()).
 */
static __always_inline int cube_pktin(struct cube_ctx *ctx, struct cb_md *md, __u32 reason)
{
	struct cb_pktin_hdr h = {
		.cube_id = cb_cube_id,
		.in_port = md->in_port,
		.reason = reason,
		.words = { md->words[0], md->words[1] },
	};
	__u32 r = reason < CB_MAX_REASONS ? reason : CB_MAX_REASONS - 1;
	__u64 *cnt;
	__u64 len = cube_len(ctx);
	long err;

	if (cb_sp_rate) {
		__u32 zero = 0;
		struct cb_sp_bucket *b = bpf_map_lookup_elem(&cb_spbucket, &zero);

		if (b) {
			__u64 now = bpf_ktime_get_ns(), dt = now - b->last_ns, add;

			if (dt > 1000000000ULL)
				dt = 1000000000ULL;
			add = dt * cb_sp_rate / 1000000000ULL;
			if (add) { /* else let the time accumulate */
				b->tokens += add;
				if (b->tokens > CB_SP_BURST)
					b->tokens = CB_SP_BURST;
				b->last_ns = now;
			}
			if (!b->tokens) {
				cnt = bpf_map_lookup_elem(&cb_splimited, &r);
				if (cnt)
					(*cnt)++;
				return -EBUSY;
			}
			b->tokens--;
		}
	}
	if (len > 0xffff)
		len = 0xffff;
	h.len = len;
	err = bpf_perf_event_output(ctx, &cb_pktin, BPF_F_CURRENT_CPU | (len << 32), &h, sizeof(h));
	/* what reached the channel per reason; what it refused (no reader,
	 * or its buffer full) as lost, reason 0 */
	if (err)
		r = CB_REASON_NONE;
	cnt = bpf_map_lookup_elem(&cb_spstats, &r);
	if (cnt)
		(*cnt)++;
	return err;
}

/* Hands the packet to the slow path; the fast path is done with it. */
static __always_inline int cube_slowpath(struct cube_ctx *ctx, struct cb_md *md, __u32 reason)
{
	cube_pktin(ctx, md, reason);
	return CB_ACT_DROP;
}

struct cb_flood_state {
	struct cube_ctx *ctx;
	__u32 in_port;
	__u32 inj_ifindex;
	__u32 orig_mark;
	__u32 cube_peers;
};

/* One port of a flood; a bpf_loop callback, so the verifier checks it once
 * instead of once per port and per path. */
static long cb_flood_port(__u32 p, void *data)
{
	struct cb_flood_state *f = data;
	struct cube_ctx *ctx = f->ctx;
	__u32 key = CB_LINK_KEY(cb_cube_id, p);
	struct cb_link *l;

	if (p == f->in_port || p >= CB_MAX_PORTS)
		return 0;
	l = bpf_map_lookup_elem(&cb_g_links, &key);
	if (!l || l->kind == CB_LINK_NONE)
		return 0;
#ifdef CUBE_TC
	if (l->kind == CB_LINK_NETDEV) {
		if (bpf_clone_redirect(ctx, l->ifindex, 0) == 0)
			cb_count_tx(ctx, p);
	} else if (f->inj_ifindex) {
		/* the injector starts the copy at the peer cube's in-port */
		ctx->mark = CB_MARK(CB_DIR_IN, l->peer_cube, l->peer_port);
		if (bpf_clone_redirect(ctx, f->inj_ifindex, 0) == 0)
			cb_count_tx(ctx, p);
		ctx->mark = f->orig_mark;
	}
#else
	/* a cube peer's copy goes through the process, which re-injects it
	 * there: counted here, as sent, like every copy */
	if (l->kind == CB_LINK_CUBE)
		f->cube_peers++;
	cb_count_tx(ctx, p);
#endif
	return 0;
}

/*
 * Floods the packet to every port with a peer but in_port. Netdev peers are
 * served in the kernel (TC: bpf_clone_redirect; XDP: devmap broadcast).
 * Cube peers: TC re-enters them through the injector device with the target
 * in skb->mark; XDP cannot copy a frame into a tail call, so it hands one
 * copy to the cube's process, which re-injects it to each cube peer.
 */
static __always_inline int cube_flood(struct cube_ctx *ctx, struct cb_md *md)
{
	struct cb_flood_state f = { .ctx = ctx, .in_port = md->in_port };
#ifdef CUBE_TC
	__u32 zero = 0;
	struct cb_gconf *g = bpf_map_lookup_elem(&cb_g_conf, &zero);

	f.inj_ifindex = g ? g->inj_ifindex : 0;
	f.orig_mark = ctx->mark;
#endif
	bpf_loop(CB_MAX_PORTS, cb_flood_port, &f, 0);
#ifdef CUBE_TC
	return TC_ACT_SHOT;
#else
	if (f.cube_peers)
		cube_pktin(ctx, md, CB_REASON_FLOOD);
	return bpf_redirect_map(&cb_flood, 0, BPF_F_BROADCAST | BPF_F_EXCLUDE_INGRESS);
#endif
}

static __always_inline int handle_rx(struct cube_ctx *ctx, struct cb_md *md);

/* The entry of the cube: reads the metadata, counts, runs the service. */
SEC(CB_SEC)
int cube_entry(struct cube_ctx *ctx)
{
	struct cb_md md = { .cube_id = cb_cube_id };
	struct cb_port_stats *st;

#ifdef CUBE_TC
	md.in_port = ctx->cb[0] & 0xffff;
#else
	__u32 zero = 0;
	struct cb_md *m = bpf_map_lookup_elem(&cb_g_md, &zero);

	if (!m)
		return XDP_ABORTED;
	md.in_port = m->in_port;
#endif
	if (md.in_port >= CB_MAX_PORTS)
		return CB_ACT_DROP;
	st = cb_port_stats(md.in_port);
	if (st) {
		st->rx_packets++;
		st->rx_bytes += cube_len(ctx);
	}
	return handle_rx(ctx, &md);
}

char _license[] SEC("license") = "GPL";

#endif
