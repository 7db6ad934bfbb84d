/* SPDX-License-Identifier: Apache-2.0 */
/*
 * csum.bpf.h - Internet checksums for both hooks.
 *
 * Incremental updates (RFC 1624, HC' = ~(~HC + ~m + m')) for a service that
 * rewrites a field in place: an address, a port, a TTL. They work on the
 * packet's bytes through pointers the caller has bounds-checked, the same in
 * TC and XDP. A full sum (cb_csum_ipv4_hdr, cb_csum_add) for headers a
 * service builds.
 *
 * TC and CHECKSUM_COMPLETE: a rewrite whose checksum compensation lies in the
 * same header (an IPv4 address and the IPv4 header checksum; a port and the
 * L4 checksum) leaves the sum over the packet unchanged, so skb->csum stays
 * right. Rewriting an address changes the L4 pseudo-header, and the L4
 * checksum's compensation then changes the packet's sum: cb_l4_csum_replace4
 * and cb_l4_csum_replace16 (pseudo = 1) account for it with bpf_csum_update()
 * in TC. XDP has no skb->csum.
 */
#ifndef CUBEBUS_CSUM_BPF_H
#define CUBEBUS_CSUM_BPF_H

#include <linux/bpf.h>
#include <linux/ip.h>
#include <bpf/bpf_helpers.h>

static __always_inline __u16 cb_csum_fold(__u64 sum)
{
	sum = (sum & 0xffffffff) + (sum >> 32);
	sum = (sum & 0xffffffff) + (sum >> 32);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)sum;
}

/* The one's-complement sum of replacing 16-bit word from with to. */
static __always_inline __u32 cb_csum_delta2(__u16 from, __u16 to)
{
	return (__u16)~from + (__u32)to;
}

static __always_inline __u32 cb_csum_delta4(__u32 from, __u32 to)
{
	return cb_csum_delta2(from >> 16, to >> 16) + cb_csum_delta2(from & 0xffff, to & 0xffff);
}

/* Applies a delta to a checksum field (any byte order: the sum is symmetric). */
static __always_inline void cb_csum_apply(__u16 *sum, __u64 delta)
{
	*sum = ~cb_csum_fold((__u16) ~*sum + delta);
}

/* A 16-bit field (e.g. a port, or TTL and protocol as one word) was rewritten. */
static __always_inline void cb_csum_replace2(__u16 *sum, __u16 from, __u16 to)
{
	cb_csum_apply(sum, cb_csum_delta2(from, to));
}

/* A 32-bit field (an IPv4 address) was rewritten. */
static __always_inline void cb_csum_replace4(__u16 *sum, __u32 from, __u32 to)
{
	cb_csum_apply(sum, cb_csum_delta4(from, to));
}

static __always_inline __u64 cb_csum_delta16(const __u32 *from, const __u32 *to)
{
	__u64 d = 0;

#pragma unroll
	for (int i = 0; i < 4; i++)
		d += cb_csum_delta4(from[i], to[i]);
	return d;
}

#ifdef CUBE_TC
#define CB_CSUM_SKB_UPDATE(ctx, delta) bpf_csum_update((ctx), (__u32)cb_csum_fold(delta))
#else
#define CB_CSUM_SKB_UPDATE(ctx, delta) ((void)(ctx), (void)(delta))
#endif

/*
 * An L4 checksum (TCP, UDP, ICMPv6) after a rewrite of 4 bytes covered by it.
 * pseudo: the bytes are in the pseudo-header (an IP address), not in the L4
 * data. udp: a UDP checksum over IPv4, where 0 means "none" (left as is) and
 * a computed 0 is sent as 0xffff (RFC 768).
 */
static __always_inline void cb_l4_csum_replace4(void *ctx, __u16 *sum, __u32 from, __u32 to, int pseudo, int udp)
{
	__u16 old = *sum;
	__u32 d = cb_csum_delta4(from, to);

	if (udp && !old)
		return;
	cb_csum_apply(sum, d);
	if (udp && !*sum)
		*sum = 0xffff;
	/* the packet's sum changed by what the checksum field changed */
	if (pseudo)
		CB_CSUM_SKB_UPDATE(ctx, cb_csum_delta2(old, *sum));
}

/* The same for a 16-byte field (an IPv6 address: always in the pseudo-header). */
static __always_inline void cb_l4_csum_replace16(void *ctx, __u16 *sum, const __u32 *from, const __u32 *to, int udp)
{
	__u16 old = *sum;

	/* UDP over IPv6 always has a checksum; 0 is only the computed 0xffff's other form */
	cb_csum_apply(sum, cb_csum_delta16(from, to));
	if (udp && !*sum)
		*sum = 0xffff;
	CB_CSUM_SKB_UPDATE(ctx, cb_csum_delta2(old, *sum));
}

/*
 * The checksum an IPv4 header should carry (its check field counted as 0).
 * ip must have been parsed (ihl checked against the end of the packet).
 */
static __always_inline __u16 cb_csum_ipv4_hdr(struct iphdr *ip, void *end)
{
	__u16 *w = (__u16 *)ip;
	__u32 n = ip->ihl * 2;
	__u64 sum = 0;

#pragma unroll
	for (int i = 0; i < 30; i++) {
		/* word 5 is the check field */
		if (i < n && i != 5 && (void *)(w + i + 1) <= end)
			sum += w[i];
	}
	return ~cb_csum_fold(sum);
}

/*
 * Adds len bytes at p (a multiple of 4, at most 512, bounds-checked by the
 * caller) to a running sum, for packets a service builds (bpf_csum_diff is
 * in both hooks). Fold and invert the result for the field.
 */
static __always_inline __u64 cb_csum_add(__u64 sum, void *p, __u32 len)
{
	__s64 r = bpf_csum_diff(0, 0, p, len, 0);

	return r < 0 ? sum : sum + (__u32)r;
}

#endif
