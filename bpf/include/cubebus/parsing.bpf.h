/* SPDX-License-Identifier: Apache-2.0 */
/*
 * parsing.bpf.h - bounded header parsers with a cursor.
 *
 * Contract: each parser takes the cursor and data_end, checks that the whole
 * header lies before data_end, advances the cursor past it and returns a
 * pointer to it, or NULL (cursor unchanged) if the packet is too short.
 */
#ifndef CUBEBUS_PARSING_BPF_H
#define CUBEBUS_PARSING_BPF_H

#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/in.h>

struct cb_cursor {
	void *pos;
};

static __always_inline struct ethhdr *cb_parse_eth(struct cb_cursor *c, void *end)
{
	struct ethhdr *eth = c->pos;

	if ((void *)(eth + 1) > end)
		return NULL;
	c->pos = eth + 1;
	return eth;
}

static __always_inline struct iphdr *cb_parse_ipv4(struct cb_cursor *c, void *end)
{
	struct iphdr *ip = c->pos;
	__u32 hlen;

	if ((void *)(ip + 1) > end)
		return NULL;
	hlen = ip->ihl * 4;
	if (hlen < sizeof(*ip) || c->pos + hlen > end)
		return NULL;
	c->pos += hlen;
	return ip;
}

static __always_inline int cb_mac_is_multicast(const __u8 *mac)
{
	return mac[0] & 1;
}

#endif
