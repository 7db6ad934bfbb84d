/* SPDX-License-Identifier: Apache-2.0 */
/*
 * floor - the bare cost of a constant-key tail call on this machine, the
 * floor under every cubebus hop (bench/hops.c, rows floor-N). floor_hop_*
 * does nothing but tail-call entry 0 of its own program array, which the
 * kernel patches into a direct jump; floor_end_* returns the redirect
 * verdict. hops loads one object per hop and chains them. Built once per
 * hook (-DCUBE_TC / -DCUBE_XDP): a program array takes the type of the first
 * program that uses it.
 */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} floor_next SEC(".maps");

#ifdef CUBE_TC
SEC("tc")
int floor_hop_tc(struct __sk_buff *ctx)
{
	bpf_tail_call_static(ctx, &floor_next, 0);
	return TC_ACT_SHOT;
}

SEC("tc")
int floor_end_tc(struct __sk_buff *ctx)
{
	return TC_ACT_REDIRECT;
}

#else
SEC("xdp")
int floor_hop_xdp(struct xdp_md *ctx)
{
	bpf_tail_call_static(ctx, &floor_next, 0);
	return XDP_DROP;
}

SEC("xdp")
int floor_end_xdp(struct xdp_md *ctx)
{
	return XDP_REDIRECT;
}
#endif

char _license[] SEC("license") = "GPL";
