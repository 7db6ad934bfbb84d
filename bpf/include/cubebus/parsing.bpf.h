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
#include <linux/ipv6.h>
#include <linux/in.h>
#include <linux/icmpv6.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <bpf/bpf_endian.h>

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

/* An 802.1Q / 802.1ad tag, after the MAC addresses in place of the type. */
struct cb_vlan_hdr {
	__be16 tci;
	__be16 proto; /* what follows the tag */
};

#define CB_VLAN_MAX 2 /* QinQ: an outer 802.1ad and an inner 802.1Q tag */

static __always_inline int cb_eth_proto_is_vlan(__be16 proto)
{
	return proto == bpf_htons(ETH_P_8021Q) || proto == bpf_htons(ETH_P_8021AD);
}

/*
 * Skips up to CB_VLAN_MAX tags after the Ethernet header. *proto is the
 * Ethernet type on entry and the type after the last tag on return; vids[]
 * gets the tags' VLAN ids, outermost first. Returns the number of tags, or -1
 * when a tag is cut short (cursor unchanged) or more tags follow than
 * CB_VLAN_MAX (cursor after the ones read).
 */
static __always_inline int cb_parse_vlans(struct cb_cursor *c, void *end, __be16 *proto, __u16 vids[CB_VLAN_MAX])
{
	void *start = c->pos;
	int n;

#pragma unroll
	for (n = 0; n < CB_VLAN_MAX; n++) {
		struct cb_vlan_hdr *v = c->pos;

		if (!cb_eth_proto_is_vlan(*proto))
			return n;
		if ((void *)(v + 1) > end) {
			c->pos = start;
			return -1;
		}
		vids[n] = bpf_ntohs(v->tci) & 0x0fff;
		*proto = v->proto;
		c->pos = v + 1;
	}
	return cb_eth_proto_is_vlan(*proto) ? -1 : n;
}

static __always_inline struct ipv6hdr *cb_parse_ipv6(struct cb_cursor *c, void *end)
{
	struct ipv6hdr *ip6 = c->pos;

	if ((void *)(ip6 + 1) > end)
		return NULL;
	c->pos = ip6 + 1;
	return ip6;
}

/* The IPv6 fragment header (RFC 8200 4.5); the kernel's is not in uapi. */
struct cb_frag_hdr {
	__u8 nexthdr;
	__u8 reserved;
	__be16 frag_off; /* offset (13 bits, 8-byte units), 2 reserved, M */
	__be32 identification;
};

#define CB_IPV6_EXT_MAX 8 /* extension headers followed before giving up */

/* Where an IPv6 packet's upper layer starts (cb_parse_ipv6_ext). */
struct cb_ipv6_l4 {
	__u8 proto;	 /* upper-layer protocol, IPPROTO_* */
	__u8 fragment;	 /* 0, or 1: a fragment header was seen */
	__u8 later_frag; /* 1: a fragment other than the first (no L4 header) */
	__u8 n_ext;	 /* extension headers skipped */
};

/*
 * Skips IPv6 extension headers (hop-by-hop, routing, destination options,
 * fragment, AH) after the fixed header, starting with next-header nexthdr.
 * Returns 0 with the cursor at the upper-layer header; -1 when a header is
 * cut short or more than CB_IPV6_EXT_MAX follow (cursor unchanged).
 * ESP and "no next header" end the walk: they are the upper layer.
 */
static __always_inline int cb_parse_ipv6_ext(struct cb_cursor *c, void *end, __u8 nexthdr, struct cb_ipv6_l4 *out)
{
	void *pos = c->pos;
	int i;

	out->fragment = out->later_frag = out->n_ext = 0;
#pragma unroll
	for (i = 0; i < CB_IPV6_EXT_MAX; i++) {
		struct ipv6_opt_hdr *h = pos;
		__u32 len;

		switch (nexthdr) {
		case IPPROTO_HOPOPTS:
		case IPPROTO_ROUTING:
		case IPPROTO_DSTOPTS:
			if ((void *)(h + 1) > end)
				return -1;
			len = ((__u32)h->hdrlen + 1) * 8;
			break;
		case IPPROTO_AH:
			if ((void *)(h + 1) > end)
				return -1;
			len = ((__u32)h->hdrlen + 2) * 4;
			break;
		case IPPROTO_FRAGMENT: {
			struct cb_frag_hdr *f = pos;

			if ((void *)(f + 1) > end)
				return -1;
			out->fragment = 1;
			/* offset in 8-byte units in the top 13 bits */
			if (bpf_ntohs(f->frag_off) & ~0x7)
				out->later_frag = 1;
			len = sizeof(*f);
			break;
		}
		default:
			out->proto = nexthdr;
			c->pos = pos;
			return 0;
		}
		if (pos + len > end)
			return -1;
		nexthdr = h->nexthdr;
		pos += len;
		out->n_ext++;
	}
	return -1;
}

/*
 * ARP for Ethernet and IPv4, the only kind a service meets (linux/if_arp.h
 * pulls libc headers into a BPF build, hence our own).
 */
#define CB_ARPHRD_ETHER	 1
#define CB_ARPOP_REQUEST 1
#define CB_ARPOP_REPLY	 2
struct cb_arp_eth {
	struct {
		__be16 ar_hrd;
		__be16 ar_pro;
		__u8 ar_hln;
		__u8 ar_pln;
		__be16 ar_op;
	} hdr;
	__u8 sha[ETH_ALEN];
	__be32 sip;
	__u8 tha[ETH_ALEN];
	__be32 tip;
} __attribute__((packed));

static __always_inline struct cb_arp_eth *cb_parse_arp(struct cb_cursor *c, void *end)
{
	struct cb_arp_eth *a = c->pos;

	if ((void *)(a + 1) > end)
		return NULL;
	if (a->hdr.ar_hrd != bpf_htons(CB_ARPHRD_ETHER) || a->hdr.ar_pro != bpf_htons(ETH_P_IP) ||
	    a->hdr.ar_hln != ETH_ALEN || a->hdr.ar_pln != 4)
		return NULL;
	c->pos = a + 1;
	return a;
}

/* ICMP (linux/icmp.h pulls libc's socket headers into a BPF build). */
#define CB_ICMP_ECHOREPLY     0
#define CB_ICMP_DEST_UNREACH  3
#define CB_ICMP_ECHO	      8
#define CB_ICMP_TIME_EXCEEDED 11
struct cb_icmphdr {
	__u8 type;
	__u8 code;
	__sum16 checksum;
	__be16 id; /* echo: identifier and sequence; errors: unused or MTU */
	__be16 sequence;
};

static __always_inline struct cb_icmphdr *cb_parse_icmp(struct cb_cursor *c, void *end)
{
	struct cb_icmphdr *h = c->pos;

	if ((void *)(h + 1) > end)
		return NULL;
	c->pos = h + 1;
	return h;
}

static __always_inline struct icmp6hdr *cb_parse_icmp6(struct cb_cursor *c, void *end)
{
	struct icmp6hdr *h = c->pos;

	if ((void *)(h + 1) > end)
		return NULL;
	c->pos = h + 1;
	return h;
}

/* TCP with its options: the cursor ends after them (data offset). */
static __always_inline struct tcphdr *cb_parse_tcp(struct cb_cursor *c, void *end)
{
	struct tcphdr *t = c->pos;
	__u32 len;

	if ((void *)(t + 1) > end)
		return NULL;
	len = t->doff * 4;
	if (len < sizeof(*t) || c->pos + len > end)
		return NULL;
	c->pos += len;
	return t;
}

static __always_inline struct udphdr *cb_parse_udp(struct cb_cursor *c, void *end)
{
	struct udphdr *u = c->pos;

	if ((void *)(u + 1) > end)
		return NULL;
	c->pos = u + 1;
	return u;
}

/* SCTP's common header: the ports, the verification tag, the checksum. */
struct cb_sctphdr {
	__be16 source;
	__be16 dest;
	__be32 vtag;
	__le32 checksum;
};

static __always_inline struct cb_sctphdr *cb_parse_sctp(struct cb_cursor *c, void *end)
{
	struct cb_sctphdr *s = c->pos;

	if ((void *)(s + 1) > end)
		return NULL;
	c->pos = s + 1;
	return s;
}

/*
 * What cb_parse_pkt() found. Offsets count from the start of the frame;
 * 0 means "not there". Ports are in network order; for ICMP and ICMPv6
 * echo, sport and dport both hold the identifier (what NAT and conntrack
 * key on), and icmp_type/icmp_code are set for every ICMP message.
 */
struct cb_pkt {
	__u16 l3_off;
	__u16 l4_off;
	__be16 proto; /* Ethernet type after the VLAN tags */
	__u8 n_vlans;
	__u8 l4_proto; /* IPPROTO_*, after IPv6 extension headers */
	__u16 vids[CB_VLAN_MAX];
	__be16 sport;
	__be16 dport;
	__u8 icmp_type;
	__u8 icmp_code;
	__u8 fragment;	 /* a fragment: IPv4 MF or offset, or an IPv6 fragment header */
	__u8 later_frag; /* not the first fragment: no L4 header to read */
};

enum cb_parse_result {
	CB_PARSE_OK = 0,	/* everything up to L4 parsed, or not IP */
	CB_PARSE_SHORT = -1,	/* a header is cut short */
	CB_PARSE_TOO_DEEP = -2, /* too many tags or extension headers */
};

/*
 * Parses Ethernet, up to CB_VLAN_MAX tags, IPv4 (with options) or IPv6
 * (with extension headers), and the ports of TCP, UDP and SCTP or the type,
 * code and echo identifier of ICMP / ICMPv6. Frames that are neither IPv4
 * nor IPv6 stop after the tags with CB_PARSE_OK (ARP: l3_off is set).
 */
static __always_inline int cb_parse_pkt(void *data, void *end, struct cb_pkt *p)
{
	struct cb_cursor c = { .pos = data };
	struct ethhdr *eth;
	__u8 l4;
	int n;

	__builtin_memset(p, 0, sizeof(*p));
	eth = cb_parse_eth(&c, end);
	if (!eth)
		return CB_PARSE_SHORT;
	p->proto = eth->h_proto;
	n = cb_parse_vlans(&c, end, &p->proto, p->vids);
	if (n < 0)
		return c.pos == (void *)(eth + 1) ? CB_PARSE_SHORT : CB_PARSE_TOO_DEEP;
	p->n_vlans = n;
	p->l3_off = c.pos - data;
	if (p->proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip = cb_parse_ipv4(&c, end);

		if (!ip)
			return CB_PARSE_SHORT;
		l4 = ip->protocol;
		if (ip->frag_off & bpf_htons(0x3fff)) {
			p->fragment = 1;
			p->later_frag = !!(ip->frag_off & bpf_htons(0x1fff));
		}
	} else if (p->proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = cb_parse_ipv6(&c, end);
		struct cb_ipv6_l4 x;

		if (!ip6)
			return CB_PARSE_SHORT;
		if (cb_parse_ipv6_ext(&c, end, ip6->nexthdr, &x) < 0)
			return x.n_ext >= CB_IPV6_EXT_MAX ? CB_PARSE_TOO_DEEP : CB_PARSE_SHORT;
		l4 = x.proto;
		p->fragment = x.fragment;
		p->later_frag = x.later_frag;
	} else {
		return CB_PARSE_OK;
	}
	p->l4_proto = l4;
	if (p->later_frag)
		return CB_PARSE_OK;
	p->l4_off = c.pos - data;
	switch (l4) {
	case IPPROTO_TCP: {
		struct tcphdr *t = cb_parse_tcp(&c, end);

		if (!t)
			return CB_PARSE_SHORT;
		p->sport = t->source;
		p->dport = t->dest;
		break;
	}
	case IPPROTO_UDP: {
		struct udphdr *u = cb_parse_udp(&c, end);

		if (!u)
			return CB_PARSE_SHORT;
		p->sport = u->source;
		p->dport = u->dest;
		break;
	}
	case IPPROTO_SCTP: {
		struct cb_sctphdr *s = cb_parse_sctp(&c, end);

		if (!s)
			return CB_PARSE_SHORT;
		p->sport = s->source;
		p->dport = s->dest;
		break;
	}
	case IPPROTO_ICMP: {
		struct cb_icmphdr *h = cb_parse_icmp(&c, end);

		if (!h)
			return CB_PARSE_SHORT;
		p->icmp_type = h->type;
		p->icmp_code = h->code;
		if (h->type == CB_ICMP_ECHO || h->type == CB_ICMP_ECHOREPLY)
			p->sport = p->dport = h->id;
		break;
	}
	case IPPROTO_ICMPV6: {
		struct icmp6hdr *h = cb_parse_icmp6(&c, end);

		if (!h)
			return CB_PARSE_SHORT;
		p->icmp_type = h->icmp6_type;
		p->icmp_code = h->icmp6_code;
		if (h->icmp6_type == ICMPV6_ECHO_REQUEST || h->icmp6_type == ICMPV6_ECHO_REPLY)
			p->sport = p->dport = h->icmp6_identifier;
		break;
	}
	}
	return CB_PARSE_OK;
}

static __always_inline int cb_mac_is_multicast(const __u8 *mac)
{
	return mac[0] & 1;
}

#endif
