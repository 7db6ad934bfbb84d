/* SPDX-License-Identifier: Apache-2.0 */
/*
 * pktbuild - frames a cube's process builds and sends (packet-out): ARP,
 * IPv6 neighbour discovery, ICMP and ICMPv6 errors, with their checksums.
 * Shared by the router and every service after it; pure functions of their
 * arguments (no cube, no socket), so that tests check them byte for byte.
 *
 * Every builder writes into buf (size bytes) and returns the frame's length,
 * or 0 when buf is too small or when the frame must not be sent (an ICMP
 * error about an ICMP error, a later fragment, or a packet from a group or
 * from nobody: RFC 1812 4.3.2.7, RFC 4443 2.4 (e)). Addresses are in
 * network order; IPv6 addresses are 16 bytes.
 */
#ifndef CUBEBUS_PKTBUILD_H
#define CUBEBUS_PKTBUILD_H

#include <stddef.h>
#include <stdint.h>

#define CB_ETH_LEN   14
#define CB_IP4_LEN   20
#define CB_IP6_LEN   40
#define CB_MIN_FRAME 60 /* Ethernet's minimum without the FCS */

/* One's complement sum of n bytes added to s; and the field to store. */
uint32_t cb_sum(const void *p, size_t n, uint32_t s);
uint16_t cb_csum_field(uint32_t s); /* network order */
/* Sum of the IPv6 pseudo-header (RFC 8200 8.1). */
uint32_t cb_sum6(const uint8_t src[16], const uint8_t dst[16], uint32_t len, uint8_t nh);

/* Ethernet header; proto in host order. */
void cb_build_eth(uint8_t *f, const uint8_t dst[6], const uint8_t src[6], uint16_t proto);
/* IPv4 header without options, with its checksum; payload: bytes after it. */
void cb_build_ip4(uint8_t *f, uint32_t src, uint32_t dst, uint8_t proto, uint8_t ttl, uint16_t id, size_t payload);
void cb_build_ip6(uint8_t *f, const uint8_t src[16], const uint8_t dst[16], uint8_t nh, uint8_t hops, size_t payload);

/*
 * ARP (Ethernet, IPv4). op: 1 request (to broadcast, tha zero), 2 reply (to
 * tha). Padded to CB_MIN_FRAME.
 */
size_t cb_build_arp(uint8_t *buf, size_t size, uint16_t op, const uint8_t sha[6], uint32_t sip, const uint8_t tha[6],
		    uint32_t tip);

/* Neighbour solicitation for target, to its solicited-node group (RFC 4861 4.3). */
size_t cb_build_ns(uint8_t *buf, size_t size, const uint8_t mac[6], const uint8_t src[16], const uint8_t target[16]);

/*
 * Neighbour advertisement of target (our address) with our MAC, to dst_mac /
 * dst, override set, router and solicited as asked (RFC 4861 4.4: an answer
 * to duplicate address detection goes to all nodes, not solicited).
 */
size_t cb_build_na(uint8_t *buf, size_t size, const uint8_t mac[6], const uint8_t target[16], const uint8_t dst_mac[6],
		   const uint8_t dst[16], int router, int solicited);

/*
 * An ICMP error (type, code) about frame, back to its sender from address
 * from with our MAC, quoting as much of the packet as fits in quote_max bytes
 * of ICMP payload (at least the header and 8 bytes, RFC 792; RFC 1812 asks
 * for as much as fits in 576 bytes).
 */
size_t cb_build_icmp4_error(uint8_t *buf, size_t size, const uint8_t *frame, size_t len, uint8_t type, uint8_t code,
			    uint32_t from, const uint8_t mac[6], uint8_t ttl, uint16_t id, size_t quote_max);

/* The same for IPv6 (RFC 4443): the quote keeps the result within 1280 bytes. */
size_t cb_build_icmp6_error(uint8_t *buf, size_t size, const uint8_t *frame, size_t len, uint8_t type, uint8_t code,
			    const uint8_t from[16], const uint8_t mac[6], uint8_t hops, size_t quote_max);

/* Whether an ICMP (v4) type is an error message. */
int cb_icmp4_is_error(uint8_t type);

#endif
