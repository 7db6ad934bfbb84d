/* SPDX-License-Identifier: Apache-2.0 */
/*
 * parse_probe - runs the SDK's header parsers (parsing.bpf.h) at an offset
 * the packet itself gives, so that a test can hand them fewer bytes than a
 * header: the kernel never gives a program a frame shorter than Ethernet's
 * header, so a service can only meet a short header at the end of a frame.
 *
 * Input: byte 0 is the offset where parsing starts. Returns PROBE_* below.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "cubebus/parsing.bpf.h"

#define PROBE_BAD_INPUT 0
#define PROBE_NO_ETH	1 /* cb_parse_eth said too short */
#define PROBE_NO_IPV4	2 /* Ethernet parsed, cb_parse_ipv4 said too short */
#define PROBE_IPV4	3 /* both parsed */
#define PROBE_BROKEN	4 /* a parser broke its contract (cursor moved on NULL, wrong advance) */

SEC("xdp")
int parse_probe(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct cb_cursor c;
	struct iphdr *ip;
	void *start;
	__u8 off;

	if (data + 1 > end)
		return PROBE_BAD_INPUT;
	off = *(__u8 *)data;
	start = data + off;
	if (start > end)
		return PROBE_BAD_INPUT;
	c.pos = start;
	if (!cb_parse_eth(&c, end))
		return c.pos == start ? PROBE_NO_ETH : PROBE_BROKEN;
	if (c.pos != start + sizeof(struct ethhdr))
		return PROBE_BROKEN;
	start = c.pos;
	ip = cb_parse_ipv4(&c, end);
	if (!ip)
		return c.pos == start ? PROBE_NO_IPV4 : PROBE_BROKEN;
	if (c.pos != start + ip->ihl * 4)
		return PROBE_BROKEN;
	return PROBE_IPV4;
}

char _license[] SEC("license") = "GPL";
