/* SPDX-License-Identifier: Apache-2.0 */
/*
 * xdpsink.bpf.c - the receiver's XDP program (bench/xdpsink.c): counts the
 * benchmark's packets (IPv4 UDP to port sink_port, or every IPv4 UDP packet
 * when sink_port is 0) and their bytes in a per-CPU array and drops them.
 * Anything else (ARP, ICMP, TCP) is passed to the stack untouched.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/in.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

struct sink_count {
	__u64 packets;
	__u64 bytes;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct sink_count);
} sink_counts SEC(".maps");

const volatile __u16 sink_port = 0; /* host order; 0: any */

SEC("xdp")
int xdpsink(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = (void *)(eth + 1);
	struct udphdr *udp;
	struct sink_count *c;
	__u32 key = 0;

	if ((void *)(ip + 1) > end || eth->h_proto != bpf_htons(ETH_P_IP) || ip->protocol != IPPROTO_UDP)
		return XDP_PASS;
	udp = (void *)ip + ip->ihl * 4;
	if ((void *)(udp + 1) > end)
		return XDP_PASS;
	if (sink_port && udp->dest != bpf_htons(sink_port))
		return XDP_PASS;
	c = bpf_map_lookup_elem(&sink_counts, &key);
	if (c) {
		c->packets++;
		c->bytes += end - data;
	}
	return XDP_DROP;
}

char _license[] SEC("license") = "GPL";
