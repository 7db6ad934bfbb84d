/* SPDX-License-Identifier: Apache-2.0 */
/*
 * router: ICMP and ICMPv6 errors (time exceeded, net and host unreachable)
 * the fast path asks for, or the resolution of a next hop gives up with.
 * Echo replies are the fast path's own.
 */
#include <stdio.h>
#include <string.h>
#include <linux/if_ether.h>

#include "router.h"

/*
 * Sends an ICMP error about frame (as it came in on in_port) back to its
 * sender, from the in-port's address (from the address it was sent to,
 * for a port unreachable). Never about an ICMP error, a fragment other
 * than the first, or a packet from or to a group or nobody (RFC 1812
 * 4.3.2.7).
 */
static void rt_icmp4_error(struct cube *c, int in_port, const uint8_t *frame, size_t len, uint8_t type, uint8_t code)
{
	struct rt_priv *pv = cube_priv(c);
	uint8_t out[ETH_LEN + IP4_LEN + 8 + RT_ICMP4_QUOTE];
	const uint8_t *ip = frame + ETH_LEN;
	__u32 saddr, daddr, from;
	struct rt_addr a;
	size_t n;

	if (len < ETH_LEN + IP4_LEN || in_port < 0 || in_port >= CB_MAX_PORTS || !pv->ifs[in_port].on)
		return;
	memcpy(&saddr, ip + 12, 4);
	memcpy(&daddr, ip + 16, 4);
	/* cb_build_icmp4_error refuses what RFC 1812 4.3.2.7 forbids */
	if (type == 3 && code == 3) {
		from = daddr;
	} else {
		rt_addr_v4(&a, saddr);
		if (rt_src_addr(pv, in_port, &a, &a) < 0)
			return;
		from = a.w[3];
	}
	n = cb_build_icmp4_error(out, sizeof(out), frame, len, type, code, from, pv->ifs[in_port].mac, RT_TTL,
				 pv->ip_id++, RT_ICMP4_QUOTE - IP4_LEN - 8);
	if (n && cube_packet_out(c, CB_DIR_OUT, in_port, out, n) == 0)
		pv->icmp_sent++;
}

/* The same for IPv6 (RFC 4443 2.4 (e)). */
static void rt_icmp6_error(struct cube *c, int in_port, const uint8_t *frame, size_t len, uint8_t type, uint8_t code)
{
	struct rt_priv *pv = cube_priv(c);
	uint8_t out[ETH_LEN + RT_ICMP6_QUOTE];
	const uint8_t *ip = frame + ETH_LEN;
	struct rt_addr saddr, from;
	size_t n;

	if (len < ETH_LEN + IP6_LEN || in_port < 0 || in_port >= CB_MAX_PORTS || !pv->ifs[in_port].on)
		return;
	memcpy(saddr.a, ip + 8, 16);
	/* cb_build_icmp6_error refuses what RFC 4443 2.4 (e) forbids */
	if (type == 1 && code == 4)
		memcpy(from.a, ip + 24, 16);
	else if (rt_src_addr(pv, in_port, &saddr, &from) < 0)
		return;
	n = cb_build_icmp6_error(out, sizeof(out), frame, len, type, code, from.a, pv->ifs[in_port].mac, RT_TTL,
				 RT_ICMP6_QUOTE - IP6_LEN - 8);
	if (n && cube_packet_out(c, CB_DIR_OUT, in_port, out, n) == 0)
		pv->icmp_sent++;
}

void rt_icmp_unreachable(struct cube *c, int in_port, const uint8_t *frame, size_t len)
{
	if (len < ETH_LEN)
		return;
	if (rt_get16(frame + 12) == ETH_P_IP)
		rt_icmp4_error(c, in_port, frame, len, 3, 1);
	else if (rt_get16(frame + 12) == ETH_P_IPV6)
		rt_icmp6_error(c, in_port, frame, len, 1, 3);
}

void rt_icmp_pktin(struct cube *c, const struct cb_pktin_hdr *h, const uint8_t *frame, size_t len)
{
	uint8_t type = h->words[0] >> 8, code = h->words[0] & 0xff;

	if (len >= ETH_LEN && rt_get16(frame + 12) == ETH_P_IP)
		rt_icmp4_error(c, h->in_port, frame, len, type, code);
	else if (len >= ETH_LEN && rt_get16(frame + 12) == ETH_P_IPV6)
		rt_icmp6_error(c, h->in_port, frame, len, type, code);
}
