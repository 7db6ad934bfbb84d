/* SPDX-License-Identifier: Apache-2.0 */
/*
 * redirect.bpf.c - the hand-written baseline of bench/throughput.sh: one
 * program that sends every Ethernet frame it sees out of one netdev
 * (bpf_redirect to rd_ifindex), attached by bench/redirect.c at XDP (generic
 * mode on veth, like cubebus XDP_SKB) or at TC ingress. It does what a
 * cubebus path must do at the least, with no framework: no ingress stub,
 * no tail call, no counters, no link table.
 */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <linux/if_ether.h>
#include <bpf/bpf_helpers.h>

const volatile __u32 rd_ifindex = 0; /* set before load */

SEC("xdp")
int redirect_xdp(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;

	if (data + sizeof(struct ethhdr) > end)
		return XDP_DROP;
	return bpf_redirect(rd_ifindex, 0);
}

SEC("tc")
int redirect_tc(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *end = (void *)(long)skb->data_end;

	if (data + sizeof(struct ethhdr) > end)
		return TC_ACT_SHOT;
	return bpf_redirect(rd_ifindex, 0);
}

char _license[] SEC("license") = "GPL";
