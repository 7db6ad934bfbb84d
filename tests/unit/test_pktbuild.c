/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libcube's frame builders (pktbuild): every field and checksum of ARP, NS,
 * NA and ICMP/ICMPv6 errors, checked against an independent recomputation,
 * and the frames RFC 1812 / RFC 4443 say must not be sent.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "pktbuild.h"

static int n_ok, n_fail;

static void check(int cond, const char *name)
{
	printf("%s - %s\n", cond ? "ok" : "not ok", name);
	cond ? n_ok++ : n_fail++;
}

/* An independent one's complement sum over the whole of a message: 0xffff when right. */
static unsigned fold(unsigned long s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (unsigned)s;
}

static unsigned long words(const unsigned char *p, size_t n)
{
	unsigned long s = 0;

	for (size_t i = 0; i + 1 < n; i += 2)
		s += p[i] * 256u + p[i + 1];
	if (n & 1)
		s += p[n - 1] * 256u;
	return s;
}

static int icmp6_ok(const unsigned char *f, size_t len)
{
	const unsigned char *ip = f + 14;
	size_t pl = ip[4] * 256u + ip[5];
	unsigned long s = words(ip + 8, 32) + 58 + pl + words(ip + 40, pl);

	return pl + 54 == len && fold(s) == 0xffff;
}

static const unsigned char MAC[6] = { 2, 0, 0, 0, 0, 0x11 }, PEER[6] = { 2, 0, 0, 0, 0, 0x22 };

/* a UDP datagram from 10.0.1.2 to 10.0.9.9 as it reached us */
static size_t udp4(unsigned char *f, size_t payload, unsigned frag)
{
	memset(f, 0, 14 + 28 + payload);
	memcpy(f, MAC, 6);
	memcpy(f + 6, PEER, 6);
	f[12] = 0x08;
	cb_build_ip4(f + 14, inet_addr("10.0.1.2"), inet_addr("10.0.9.9"), 17, 1, 7, 8 + payload);
	f[14 + 6] = frag >> 8;
	f[14 + 7] = frag & 0xff;
	return 14 + 28 + payload;
}

int main(void)
{
	unsigned char buf[1600], in[1600];
	uint8_t src6[16], dst6[16], tgt6[16];
	size_t n, m;

	inet_pton(AF_INET6, "fd00:1::1", src6);
	inet_pton(AF_INET6, "fd00:1::2", dst6);
	inet_pton(AF_INET6, "fd00:1::abcd:1234", tgt6);

	n = cb_build_arp(buf, sizeof(buf), 1, MAC, inet_addr("10.0.1.1"), NULL, inet_addr("10.0.1.2"));
	check(n == 60 && !memcmp(buf, "\xff\xff\xff\xff\xff\xff", 6) && buf[12] == 8 && buf[13] == 6 && buf[21] == 1 &&
		      !memcmp(buf + 22, MAC, 6) && !memcmp(buf + 38, "\x0a\x00\x01\x02", 4),
	      "arp request: broadcast, op 1, sender and target");
	n = cb_build_arp(buf, sizeof(buf), 2, MAC, inet_addr("10.0.1.1"), PEER, inet_addr("10.0.1.2"));
	check(n == 60 && !memcmp(buf, PEER, 6) && buf[21] == 2 && !memcmp(buf + 32, PEER, 6),
	      "arp reply: to the asker");
	check(cb_build_arp(buf, 59, 1, MAC, 0, NULL, 0) == 0, "arp: a buffer too small is refused");

	n = cb_build_ns(buf, sizeof(buf), MAC, src6, tgt6);
	check(n == 86 && !memcmp(buf, "\x33\x33\xff\xcd\x12\x34", 6) && buf[14 + 24 + 12] == 0xff &&
		      buf[14 + 24 + 15] == 0x34 && buf[54] == 135 && buf[14 + 7] == 255 && icmp6_ok(buf, n),
	      "neighbour solicitation: solicited-node group, hop limit 255, checksum");
	n = cb_build_na(buf, sizeof(buf), MAC, tgt6, PEER, dst6, 1, 1);
	check(n == 86 && !memcmp(buf, PEER, 6) && buf[54] == 136 && buf[58] == 0xe0 && buf[78] == 2 &&
		      !memcmp(buf + 80, MAC, 6) && icmp6_ok(buf, n),
	      "neighbour advertisement: router, solicited, override, target MAC, checksum");
	n = cb_build_na(buf, sizeof(buf), MAC, tgt6, PEER, dst6, 1, 0);
	check(n == 86 && buf[58] == 0xa0 && icmp6_ok(buf, n), "neighbour advertisement for DAD: not solicited");

	/* time exceeded about a UDP datagram */
	m = udp4(in, 100, 0);
	n = cb_build_icmp4_error(buf, sizeof(buf), in, m, 11, 0, inet_addr("10.0.1.1"), MAC, 64, 99, 548);
	check(n == 14 + 20 + 8 + 128 && !memcmp(buf, PEER, 6) && buf[14 + 9] == 1 &&
		      !memcmp(buf + 14 + 16, "\x0a\x00\x01\x02", 4) && buf[34] == 11 &&
		      fold(words(buf + 14, 20)) == 0xffff && fold(words(buf + 34, n - 34)) == 0xffff &&
		      !memcmp(buf + 42, in + 14, 128),
	      "icmp time exceeded: to the sender, whole datagram quoted, both checksums");
	n = cb_build_icmp4_error(buf, sizeof(buf), in, m, 3, 1, inet_addr("10.0.1.1"), MAC, 64, 99, 16);
	check(n == 14 + 20 + 8 + 28, "icmp error: the quote never shorter than the header and 8 bytes");
	m = udp4(in, 100, 0x0010);
	check(cb_build_icmp4_error(buf, sizeof(buf), in, m, 11, 0, 1, MAC, 64, 1, 548) == 0,
	      "icmp error: never about a later fragment");
	m = udp4(in, 10, 0);
	in[14 + 9] = 1;
	in[34] = 3; /* an ICMP unreachable */
	check(cb_build_icmp4_error(buf, sizeof(buf), in, m, 11, 0, 1, MAC, 64, 1, 548) == 0,
	      "icmp error: never about an icmp error");
	in[34] = 8; /* an echo request is fine */
	check(cb_build_icmp4_error(buf, sizeof(buf), in, m, 11, 0, 1, MAC, 64, 1, 548) > 0,
	      "icmp error: about an echo request it is sent");
	m = udp4(in, 10, 0);
	memcpy(in + 14 + 12, "\xe0\x00\x00\x05", 4);
	check(cb_build_icmp4_error(buf, sizeof(buf), in, m, 11, 0, 1, MAC, 64, 1, 548) == 0,
	      "icmp error: never to a multicast source");
	m = udp4(in, 10, 0);
	in[0] = 1; /* sent to a group */
	check(cb_build_icmp4_error(buf, sizeof(buf), in, m, 11, 0, 1, MAC, 64, 1, 548) == 0,
	      "icmp error: never about a frame sent to a group");

	/* IPv6: hop limit exceeded about a UDP datagram */
	memset(in, 0, sizeof(in));
	memcpy(in, MAC, 6);
	memcpy(in + 6, PEER, 6);
	in[12] = 0x86;
	in[13] = 0xdd;
	cb_build_ip6(in + 14, dst6, tgt6, 17, 1, 1400);
	m = 14 + 40 + 1400;
	n = cb_build_icmp6_error(buf, sizeof(buf), in, m, 3, 0, src6, MAC, 64, 2000);
	check(n == 14 + 1280 && buf[54] == 3 && !memcmp(buf + 14 + 24, dst6, 16) && icmp6_ok(buf, n),
	      "icmpv6 error: to the sender, within 1280 bytes, checksum");
	in[14 + 6] = 58;
	in[54] = 1; /* about an ICMPv6 error */
	check(cb_build_icmp6_error(buf, sizeof(buf), in, m, 3, 0, src6, MAC, 64, 2000) == 0,
	      "icmpv6 error: never about an icmpv6 error");
	in[54] = 128; /* echo request */
	check(cb_build_icmp6_error(buf, sizeof(buf), in, m, 3, 0, src6, MAC, 64, 2000) > 0,
	      "icmpv6 error: about an echo request it is sent");
	in[14 + 24] = 0xff; /* to a group */
	check(cb_build_icmp6_error(buf, sizeof(buf), in, m, 3, 0, src6, MAC, 64, 2000) == 0,
	      "icmpv6 error: never about a packet to a group");
	check(cb_build_icmp6_error(buf, 100, in, m, 3, 0, src6, MAC, 64, 2000) == 0,
	      "icmpv6 error: small buffer refused");

	printf("# %d passed, %d failed\n", n_ok, n_fail);
	return n_fail ? 1 : 0;
}
