/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cubebus.bpf.c - the framework's own programs, loaded by the broker:
 *   cb_ingress_{tc,xdp}: attached to a netdev a cube port names as its peer;
 *                        sets the in-port and tail-calls the cube's slot.
 *                        cb_ingress_tc also serves the TC egress hook of a
 *                        netdev with transparent cubes (skb->cb is there
 *                        at egress too).
 *   cb_inject_{tc,xdp}:  attached to the injector veth; start a frame that
 *                        user space (packet-out) or a TC flood sent, at the
 *                        (cube, port) the frame itself carries.
 */
#define CUBE_FRAMEWORK
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "cubebus/cubebus_shared.h"
#include "cubebus/maps.bpf.h"

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, CB_MAX_CUBES);
	__type(key, __u32);
	__type(value, __u32);
} cb_g_tc_slots SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, CB_MAX_CUBES);
	__type(key, __u32);
	__type(value, __u32);
} cb_g_xdp_slots SEC(".maps");

/* Set per attachment: constant for the verifier, so the tail call below
 * becomes a direct jump. */
const volatile __u32 cb_slot = 0;
const volatile __u32 cb_in_port = 0;

SEC("tc")
int cb_ingress_tc(struct __sk_buff *skb)
{
	skb->cb[0] = cb_in_port;
	bpf_tail_call(skb, &cb_g_tc_slots, cb_slot);
	return TC_ACT_SHOT; /* the cube is not loaded (yet) */
}

SEC("xdp")
int cb_ingress_xdp(struct xdp_md *ctx)
{
	__u32 zero = 0;
	struct cb_md *md = bpf_map_lookup_elem(&cb_g_md, &zero);

	if (!md)
		return XDP_ABORTED;
	md->in_port = cb_in_port;
	bpf_tail_call(ctx, &cb_g_xdp_slots, cb_slot);
	return XDP_DROP;
}

/*
 * Resolves a (dir, cube, port) target. For CB_DIR_OUT the frame leaves
 * through the port: returns the egress ifindex in *ifindex, or moves
 * (cube, port) to the peer cube's in-port. Returns 0 or -1 (drop).
 */
static __always_inline int cb_resolve(__u32 dir, __u32 *cube, __u32 *port, __u32 *ifindex)
{
	__u32 key;
	struct cb_link *l;

	*ifindex = 0;
	if (*cube >= CB_MAX_CUBES || *port >= CB_MAX_PORTS)
		return -1;
	if (dir == CB_DIR_IN)
		return 0;
	key = CB_LINK_KEY(*cube, *port);
	l = bpf_map_lookup_elem(&cb_g_links, &key);
	if (!l)
		return -1;
	if (l->kind == CB_LINK_NETDEV) {
		*ifindex = l->ifindex;
		return 0;
	}
	if (l->kind == CB_LINK_CUBE) {
		*cube = l->peer_cube;
		*port = l->peer_port;
		return 0;
	}
	return -1;
}

SEC("tc")
int cb_inject_tc(struct __sk_buff *skb)
{
	__u32 mark = skb->mark, cube, port, ifindex;

	if ((mark & CB_MARK_MAGIC_MASK) != CB_MARK_MAGIC)
		return TC_ACT_SHOT;
	skb->mark = 0;
	cube = CB_MARK_CUBE(mark);
	port = CB_MARK_PORT(mark);
	if (cb_resolve(CB_MARK_DIR(mark), &cube, &port, &ifindex) < 0)
		return TC_ACT_SHOT;
	if (ifindex)
		return bpf_redirect(ifindex, 0);
	skb->cb[0] = port;
	/* the key is computed: this is the slow path, not a hop */
	bpf_tail_call(skb, &cb_g_tc_slots, cube);
	return TC_ACT_SHOT;
}

SEC("xdp")
int cb_inject_xdp(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct cb_envelope *env = data;
	__u32 zero = 0, cube, port, dir, ifindex;
	struct cb_md *md;

	if ((void *)(env + 1) > end)
		return XDP_PASS;
	if (env->proto != bpf_htons(CB_ENV_PROTO) || env->magic != bpf_htons(CB_ENV_MAGIC))
		return XDP_PASS; /* not ours: the TC injector looks at its mark */
	cube = env->cube;
	port = env->port;
	dir = env->dir;
	if (bpf_xdp_adjust_head(ctx, sizeof(*env)))
		return XDP_DROP;
	if (cb_resolve(dir, &cube, &port, &ifindex) < 0)
		return XDP_DROP;
	if (ifindex)
		return bpf_redirect(ifindex, 0);
	md = bpf_map_lookup_elem(&cb_g_md, &zero);
	if (!md)
		return XDP_DROP;
	md->in_port = port;
	bpf_tail_call(ctx, &cb_g_xdp_slots, cube);
	return XDP_DROP;
}

char _license[] SEC("license") = "GPL";
