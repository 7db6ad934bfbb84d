/* SPDX-License-Identifier: Apache-2.0 */
/* pktbuild - frames a cube's process sends (see pktbuild.h). */
#include <arpa/inet.h>
#include <string.h>

#include "pktbuild.h"

#define ETHTYPE_IP   0x0800
#define ETHTYPE_ARP  0x0806
#define ETHTYPE_IPV6 0x86dd
#define PROTO_ICMP   1
#define PROTO_ICMPV6 58

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

uint32_t cb_sum(const void *p, size_t n, uint32_t s)
{
	const uint8_t *b = p;

	for (; n > 1; n -= 2, b += 2)
		s += (uint32_t)b[0] << 8 | b[1];
	if (n)
		s += (uint32_t)b[0] << 8;
	return s;
}

uint16_t cb_csum_field(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return htons((uint16_t)~s);
}

uint32_t cb_sum6(const uint8_t src[16], const uint8_t dst[16], uint32_t len, uint8_t nh)
{
	uint32_t s = cb_sum(src, 16, 0);

	s = cb_sum(dst, 16, s);
	s += len >> 16;
	s += len & 0xffff;
	return s + nh;
}

static void store_csum(uint8_t *field, uint32_t s)
{
	uint16_t v = cb_csum_field(s);

	memcpy(field, &v, 2);
}

void cb_build_eth(uint8_t *f, const uint8_t dst[6], const uint8_t src[6], uint16_t proto)
{
	memcpy(f, dst, 6);
	memcpy(f + 6, src, 6);
	put16(f + 12, proto);
}

void cb_build_ip4(uint8_t *f, uint32_t src, uint32_t dst, uint8_t proto, uint8_t ttl, uint16_t id, size_t payload)
{
	f[0] = 0x45;
	f[1] = 0xc0; /* internetwork control, as routers send their ICMP */
	put16(f + 2, (uint16_t)(CB_IP4_LEN + payload));
	put16(f + 4, id);
	put16(f + 6, 0);
	f[8] = ttl;
	f[9] = proto;
	put16(f + 10, 0);
	memcpy(f + 12, &src, 4);
	memcpy(f + 16, &dst, 4);
	store_csum(f + 10, cb_sum(f, CB_IP4_LEN, 0));
}

void cb_build_ip6(uint8_t *f, const uint8_t src[16], const uint8_t dst[16], uint8_t nh, uint8_t hops, size_t payload)
{
	memset(f, 0, 4);
	f[0] = 0x60;
	put16(f + 4, (uint16_t)payload);
	f[6] = nh;
	f[7] = hops;
	memcpy(f + 8, src, 16);
	memcpy(f + 24, dst, 16);
}

size_t cb_build_arp(uint8_t *buf, size_t size, uint16_t op, const uint8_t sha[6], uint32_t sip, const uint8_t tha[6],
		    uint32_t tip)
{
	static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff }, zero[6];
	uint8_t *a = buf + CB_ETH_LEN;

	if (size < CB_MIN_FRAME)
		return 0;
	memset(buf, 0, CB_MIN_FRAME);
	cb_build_eth(buf, op == 1 ? bcast : tha, sha, ETHTYPE_ARP);
	put16(a, 1);
	put16(a + 2, ETHTYPE_IP);
	a[4] = 6;
	a[5] = 4;
	put16(a + 6, op);
	memcpy(a + 8, sha, 6);
	memcpy(a + 14, &sip, 4);
	memcpy(a + 18, op == 1 ? zero : tha, 6);
	memcpy(a + 24, &tip, 4);
	return CB_MIN_FRAME;
}

size_t cb_build_ns(uint8_t *buf, size_t size, const uint8_t mac[6], const uint8_t src[16], const uint8_t target[16])
{
	/* the solicited-node group of the target (RFC 4291 2.7.1) and its MAC */
	uint8_t dst[16] = { 0xff, 0x02, [11] = 0x01, [12] = 0xff }, dmac[6] = { 0x33, 0x33, 0xff };
	const size_t icmp = 32, len = CB_ETH_LEN + CB_IP6_LEN + icmp;
	uint8_t *ic = buf + CB_ETH_LEN + CB_IP6_LEN;

	if (size < len)
		return 0;
	memset(buf, 0, len);
	memcpy(dst + 13, target + 13, 3);
	memcpy(dmac + 3, target + 13, 3);
	cb_build_eth(buf, dmac, mac, ETHTYPE_IPV6);
	cb_build_ip6(buf + CB_ETH_LEN, src, dst, PROTO_ICMPV6, 255, icmp);
	ic[0] = 135;
	memcpy(ic + 8, target, 16);
	ic[24] = 1; /* source link-layer address */
	ic[25] = 1;
	memcpy(ic + 26, mac, 6);
	store_csum(ic + 2, cb_sum(ic, icmp, cb_sum6(src, dst, icmp, PROTO_ICMPV6)));
	return len;
}

size_t cb_build_na(uint8_t *buf, size_t size, const uint8_t mac[6], const uint8_t target[16], const uint8_t dst_mac[6],
		   const uint8_t dst[16], int router, int solicited)
{
	const size_t icmp = 32, len = CB_ETH_LEN + CB_IP6_LEN + icmp;
	uint8_t *ic = buf + CB_ETH_LEN + CB_IP6_LEN;

	if (size < len)
		return 0;
	memset(buf, 0, len);
	cb_build_eth(buf, dst_mac, mac, ETHTYPE_IPV6);
	cb_build_ip6(buf + CB_ETH_LEN, target, dst, PROTO_ICMPV6, 255, icmp);
	ic[0] = 136;
	ic[4] = (router ? 0x80 : 0) | (solicited ? 0x40 : 0) | 0x20; /* router, solicited, override */
	memcpy(ic + 8, target, 16);
	ic[24] = 2; /* target link-layer address */
	ic[25] = 1;
	memcpy(ic + 26, mac, 6);
	store_csum(ic + 2, cb_sum(ic, icmp, cb_sum6(target, dst, icmp, PROTO_ICMPV6)));
	return len;
}

int cb_icmp4_is_error(uint8_t type)
{
	return type == 3 || type == 4 || type == 5 || type == 11 || type == 12;
}

size_t cb_build_icmp4_error(uint8_t *buf, size_t size, const uint8_t *frame, size_t len, uint8_t type, uint8_t code,
			    uint32_t from, const uint8_t mac[6], uint8_t ttl, uint16_t id, size_t quote_max)
{
	const uint8_t *ip = frame + CB_ETH_LEN;
	size_t hl, tot, quote, out;
	uint32_t saddr, h;
	uint8_t *ic;

	if (len < CB_ETH_LEN + CB_IP4_LEN || (ip[0] >> 4) != 4)
		return 0;
	hl = (ip[0] & 0xf) * 4;
	tot = get16(ip + 2);
	if (hl < CB_IP4_LEN || len < CB_ETH_LEN + hl || tot < hl)
		return 0;
	if (tot > len - CB_ETH_LEN)
		tot = len - CB_ETH_LEN;
	/* not about a later fragment, nor about an ICMP error */
	if (get16(ip + 6) & 0x1fff)
		return 0;
	if (ip[9] == PROTO_ICMP && (tot < hl + 1 || cb_icmp4_is_error(ip[hl])))
		return 0;
	/* not to nobody, a group, loopback or a frame sent to a group */
	memcpy(&saddr, ip + 12, 4);
	h = ntohl(saddr);
	if (!h || (h >> 28) >= 0xe || (h >> 24) == 127 || (frame[0] & 1))
		return 0;
	/* as much as quote_max allows, never less than the header and 8 bytes */
	quote = quote_max < hl + 8 ? hl + 8 : quote_max;
	if (quote > tot)
		quote = tot;
	out = CB_ETH_LEN + CB_IP4_LEN + 8 + quote;
	if (size < out)
		return 0;
	cb_build_eth(buf, frame + 6, mac, ETHTYPE_IP);
	cb_build_ip4(buf + CB_ETH_LEN, from, saddr, PROTO_ICMP, ttl, id, 8 + quote);
	ic = buf + CB_ETH_LEN + CB_IP4_LEN;
	memset(ic, 0, 8);
	ic[0] = type;
	ic[1] = code;
	memcpy(ic + 8, ip, quote);
	store_csum(ic + 2, cb_sum(ic, 8 + quote, 0));
	return out;
}

size_t cb_build_icmp6_error(uint8_t *buf, size_t size, const uint8_t *frame, size_t len, uint8_t type, uint8_t code,
			    const uint8_t from[16], const uint8_t mac[6], uint8_t hops, size_t quote_max)
{
	static const uint8_t zero[16];
	const uint8_t *ip = frame + CB_ETH_LEN;
	size_t quote, out;
	uint8_t *ic;

	if (len < CB_ETH_LEN + CB_IP6_LEN || (ip[0] >> 4) != 6)
		return 0;
	/* not to a group or nobody, not about a frame to a group, not about an error */
	if (ip[8] == 0xff || !memcmp(ip + 8, zero, 16) || ip[24] == 0xff || (frame[0] & 1))
		return 0;
	if (ip[6] == PROTO_ICMPV6 && (len < CB_ETH_LEN + CB_IP6_LEN + 1 || ip[CB_IP6_LEN] < 128))
		return 0;
	quote = len - CB_ETH_LEN;
	if (quote > quote_max)
		quote = quote_max;
	/* the error fits the IPv6 minimum MTU (RFC 4443 2.4 (c)) */
	if (CB_IP6_LEN + 8 + quote > 1280)
		quote = 1280 - CB_IP6_LEN - 8;
	out = CB_ETH_LEN + CB_IP6_LEN + 8 + quote;
	if (size < out)
		return 0;
	cb_build_eth(buf, frame + 6, mac, ETHTYPE_IPV6);
	cb_build_ip6(buf + CB_ETH_LEN, from, ip + 8, PROTO_ICMPV6, hops, 8 + quote);
	ic = buf + CB_ETH_LEN + CB_IP6_LEN;
	memset(ic, 0, 8);
	ic[0] = type;
	ic[1] = code;
	memcpy(ic + 8, ip, quote);
	store_csum(ic + 2, cb_sum(ic, 8 + quote, cb_sum6(from, ip + 8, 8 + quote, PROTO_ICMPV6)));
	return out;
}
