/* SPDX-License-Identifier: Apache-2.0 */
/*
 * pktgen.bpf.c - the packet generator's XDP program (bench/pktgen.c).
 *
 * bench/pktgen runs it with bpf_prog_test_run_opts() in live-frames mode
 * (BPF_F_TEST_XDP_LIVE_FRAMES): the kernel copies the template frame into
 * page-pool pages once and runs this program on each frame; XDP_TX sends the
 * frame out of the device named by ctx_in->ingress_ifindex (the kernel turns
 * it into a redirect to that device).
 *
 * Pages come back to the pool after the receiver frees the frame and are
 * not initialised again: whatever the path under test wrote into them (a
 * router rewrites the MAC addresses, the TTL and the checksum) is still
 * there the next time. So the program writes the whole header of every
 * packet - Ethernet, IPv4, UDP: the first PG_HDR_WORDS * 8 bytes, from the
 * template user space put in read-only data - then the per-packet fields:
 * IPv4 id = a per-CPU counter, UDP source port = base + counter modulo the
 * number of flows, and the IPv4 checksum (template sum + id, folded; UDP
 * checksum 0: none, allowed for IPv4).
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define PG_HDR_WORDS 6 /* 48 bytes: Ethernet 14 + IPv4 20 + UDP 8 + 6 of payload */

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} pg_count SEC(".maps");

/* Set before load by bench/pktgen.c. */
const volatile __u64 pg_hdr[PG_HDR_WORDS];  /* the frame's first 48 bytes, id and checksum 0 */
const volatile __u32 pg_csum = 0;	    /* one's complement sum of the template's IPv4 header */
const volatile __u16 pg_sport_base = 10000; /* host order */
const volatile __u32 pg_flows = 1;

SEC("xdp")
int pktgen_xdp(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	__u64 *w = data;
	struct iphdr *ip = data + sizeof(struct ethhdr);
	struct udphdr *udp = (void *)(ip + 1);
	__u32 key = 0, sum;
	__u64 *cnt, n;
	__u16 id;

	if ((void *)(w + PG_HDR_WORDS) > end)
		return XDP_ABORTED;
	cnt = bpf_map_lookup_elem(&pg_count, &key);
	if (!cnt)
		return XDP_ABORTED;
	n = (*cnt)++;
#pragma unroll
	for (int i = 0; i < PG_HDR_WORDS; i++)
		w[i] = pg_hdr[i];
	id = bpf_htons((__u16)n);
	ip->id = id;
	sum = pg_csum + id;
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	ip->check = (__u16)~sum;
	udp->source = bpf_htons(pg_sport_base + (__u16)((__u32)n % pg_flows));
	return XDP_TX;
}

char _license[] SEC("license") = "GPL";
