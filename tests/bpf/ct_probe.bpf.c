/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ct_probe - runs the connection-tracking module (cubebus/ct.bpf.h) on the
 * frames of tests/bpf/test_ct.c. Built for TC and for XDP (-DCUBE_TC /
 * -DCUBE_XDP) like a service.
 *
 * probe_ct: parses the frame (Ethernet, VLAN tags, then cb_ct_parse), looks
 * it up at in[0].now and, as in[0].commit says (PROBE_*), commits it when
 * it is not INVALID, or keeps it to commit later (two CPUs interleaved). Everything lands in out[0]; the program returns the
 * state (0..3), or 10 + the parse result when the frame is not trackable.
 * probe_live does the same on a device (test_ct's netns suite) with the
 * kernel's clock, and passes every packet.
 */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include "cubebus/parsing.bpf.h"
#include "cubebus/ct.bpf.h"
#include "ct_probe.h"

#ifdef CUBE_TC
#define probe_ctx __sk_buff
#define SEC_HOOK  "tc"
#else
#define probe_ctx xdp_md
#define SEC_HOOK  "xdp"
#endif

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct probe_in);
} in SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct probe_out);
} out SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct probe_bad);
} bad SEC(".maps");

/* two packets' lookups and commits interleaved, as on two CPUs */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct probe_stash);
} stash SEC(".maps");

/* probe_live's out, per CPU */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct probe_out);
} live_out SEC(".maps");

/* the test sets max_entries before load for the full-table cases */
CB_CT_MAP(ct, 1024);

static __always_inline int probe(struct probe_ctx *ctx, int live)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	struct cb_cursor c = { .pos = data };
	__u16 vids[CB_VLAN_MAX];
	struct probe_out *o;
	struct probe_in *i;
	struct ethhdr *eth;
	__be16 proto;
	__u64 now;
	__u32 k = 0;

	/* on a device, packets run on every CPU at once: each its own */
	o = live ? bpf_map_lookup_elem(&live_out, &k) : bpf_map_lookup_elem(&out, &k);
	i = bpf_map_lookup_elem(&in, &k);
	if (!o || !i)
		return 100;
	o->runs++;
	o->commit = 1;
	o->state = -1;
	if (i->commit == PROBE_COMMIT_STASHED) {
		struct probe_stash *st = bpf_map_lookup_elem(&stash, &k);

		if (!st)
			return 100;
		o->commit = cb_ct_commit(ct, &st->pkt, &st->ref, i->now);
		return st->ref.state;
	}
	eth = cb_parse_eth(&c, end);
	if (!eth) {
		o->parse = CB_CT_P_SHORT;
		return 10 + CB_CT_P_SHORT;
	}
	proto = eth->h_proto;
	if (cb_parse_vlans(&c, end, &proto, vids) < 0) {
		o->parse = CB_CT_P_SHORT;
		return 10 + CB_CT_P_SHORT;
	}
	o->parse = cb_ct_parse(c.pos, end, proto, &o->pkt);
	if (o->parse != CB_CT_P_OK)
		return 10 + o->parse;
	now = live ? bpf_ktime_get_ns() : i->now;
	o->state = cb_ct_lookup(ct, &o->pkt, now, &o->ref);
	if (live && o->state == CB_CT_INVALID) {
		struct probe_bad *b = bpf_map_lookup_elem(&bad, &k);
		struct cb_ct_entry *e = bpf_map_lookup_elem(&ct, &o->ref.key);

		if (b) {
			b->pkt = o->pkt;
			b->had_entry = !!e;
			if (e)
				b->entry = *e;
			b->n++;
		}
	}
	if (i->commit == PROBE_STASH) {
		struct probe_stash *st = bpf_map_lookup_elem(&stash, &k);

		if (st) {
			st->pkt = o->pkt;
			st->ref = o->ref;
		}
	} else if (o->state != CB_CT_INVALID && i->commit == PROBE_COMMIT) {
		o->commit = cb_ct_commit(ct, &o->pkt, &o->ref, now);
	}
	return o->state;
}

SEC(SEC_HOOK)
int probe_ct(struct probe_ctx *ctx)
{
	return probe(ctx, 0);
}

/* On a real device: the kernel's clock; every packet passes. */
SEC(SEC_HOOK)
int probe_live(struct probe_ctx *ctx)
{
	probe(ctx, 1);
#ifdef CUBE_TC
	return TC_ACT_OK;
#else
	return XDP_PASS;
#endif
}

char _license[] SEC("license") = "GPL";
