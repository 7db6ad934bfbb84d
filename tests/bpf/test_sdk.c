/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The data-plane SDK's parsers and checksum helpers, through
 * tests/bpf/sdk_probe.bpf.c in TC and XDP: what cb_parse_pkt() finds in
 * frames with VLAN tags, IPv4 options, fragments, IPv6 extension headers,
 * ICMP, SCTP and ARP, what it refuses, and whether the incremental checksum
 * updates leave checksums that a full recomputation agrees with.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <bpf/bpf.h>

#include "cbrig.h"

/* as in sdk_probe.bpf.c */
#define CB_VLAN_MAX 2
struct cb_pkt {
	__u16 l3_off;
	__u16 l4_off;
	__be16 proto;
	__u8 n_vlans;
	__u8 l4_proto;
	__u16 vids[CB_VLAN_MAX];
	__be16 sport;
	__be16 dport;
	__u8 icmp_type;
	__u8 icmp_code;
	__u8 fragment;
	__u8 later_frag;
};
struct probe_result {
	struct cb_pkt pkt;
	__s32 rc;
	__u16 ip4_csum;
	__u16 pad;
};
enum probe_op { OP_NONE, OP_IP4_SADDR, OP_L4_DPORT, OP_IP6_SADDR, OP_TTL };
struct probe_cmd {
	__u32 op;
	__u32 v4;
	__u32 v6[4];
	__u16 port;
	__u16 pad;
};
enum { PARSE_OK = 0, PARSE_SHORT = -1, PARSE_TOO_DEEP = -2 };

static int n_ok, n_fail;

static void report(int ok, const char *name, const char *fmt, ...)
{
	va_list ap;

	printf("%s - %s\n", ok ? "ok" : "not ok", name);
	if (!ok && fmt) {
		printf("#   ");
		va_start(ap, fmt);
		vprintf(fmt, ap);
		va_end(ap);
		printf("\n");
	}
	ok ? n_ok++ : n_fail++;
}

/* ---- building frames ------------------------------------------------------ */

struct frame {
	__u8 b[256];
	__u32 len;
	__u32 l3, l4; /* where the builder put them */
};

static void put(struct frame *f, const void *p, __u32 n)
{
	memcpy(f->b + f->len, p, n);
	f->len += n;
}

static void put16(struct frame *f, __u16 v)
{
	v = htons(v);
	put(f, &v, 2);
}

static void eth(struct frame *f, const __u16 *tags, int ntags, __u16 proto)
{
	static const __u8 macs[12] = { 2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1 };

	f->len = 0;
	put(f, macs, 12);
	for (int i = 0; i < ntags; i++) {
		put16(f, i == 0 && ntags > 1 ? ETH_P_8021AD : ETH_P_8021Q);
		put16(f, tags[i]);
	}
	put16(f, proto);
	f->l3 = f->len;
}

static __u16 csum_fold32(__u32 s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return s;
}

static __u32 csum_add(__u32 s, const void *p, __u32 n)
{
	const __u8 *b = p;

	for (__u32 i = 0; i + 1 < n; i += 2)
		s += (b[i] << 8) | b[i + 1];
	if (n & 1)
		s += b[n - 1] << 8;
	return s;
}

/* An IPv4 header with optlen bytes of options (NOPs), frag_off as given. */
static void ipv4(struct frame *f, __u8 proto, __u32 optlen, __u16 frag_off)
{
	__u8 h[60] = { 0 };
	__u32 hl = 20 + optlen;
	__u16 ck;

	h[0] = 0x40 | (hl / 4);
	h[8] = 64;
	h[9] = proto;
	h[6] = frag_off >> 8;
	h[7] = frag_off & 0xff;
	memcpy(h + 12, (__u8[]){ 10, 0, 1, 1 }, 4);
	memcpy(h + 16, (__u8[]){ 10, 0, 2, 2 }, 4);
	memset(h + 20, 1, optlen);
	ck = ~csum_fold32(csum_add(0, h, hl));
	h[10] = ck >> 8;
	h[11] = ck & 0xff;
	put(f, h, hl);
	f->l4 = f->len;
}

static void ipv6(struct frame *f, __u8 nexthdr)
{
	__u8 h[40] = { 0x60 };

	h[6] = nexthdr;
	h[7] = 64;
	h[8] = 0xfd;
	h[23] = 1;
	h[24] = 0xfd;
	h[39] = 2;
	put(f, h, 40);
	f->l4 = f->len;
}

/* An extension header of len bytes (a multiple of 8) saying next. */
static void ext6(struct frame *f, __u8 next, __u32 len)
{
	__u8 h[64] = { 0 };

	h[0] = next;
	h[1] = len / 8 - 1;
	put(f, h, len);
	f->l4 = f->len;
}

static void frag6(struct frame *f, __u8 next, __u16 offset_units)
{
	__u8 h[8] = { 0 };

	h[0] = next;
	h[2] = (offset_units << 3) >> 8;
	h[3] = (offset_units << 3) & 0xff;
	put(f, h, 8);
	f->l4 = f->len;
}

static void l4ports(struct frame *f, __u16 sport, __u16 dport, __u32 len)
{
	__u8 h[64] = { 0 };

	h[0] = sport >> 8;
	h[1] = sport & 0xff;
	h[2] = dport >> 8;
	h[3] = dport & 0xff;
	if (len == 20)
		h[12] = 5 << 4; /* TCP data offset */
	if (len == 8)
		h[5] = 8 + 16; /* UDP length: header and the payload below */
	put(f, h, len);
}

static void payload(struct frame *f, __u32 n)
{
	for (__u32 i = 0; i < n; i++)
		f->b[f->len++] = (__u8)(i * 7 + 3);
}

/* The L4 checksum of f computed from scratch (IPv4 or IPv6 pseudo-header). */
static __u16 l4_csum(const struct frame *f, int v6, __u8 proto, __u32 l4len, __u32 ck_off)
{
	__u8 seg[256];
	__u32 s = 0;
	__u16 r;

	memcpy(seg, f->b + f->l4, l4len);
	seg[ck_off] = seg[ck_off + 1] = 0;
	if (proto != IPPROTO_ICMP) {
		if (v6) {
			s = csum_add(s, f->b + f->l3 + 8, 32);
		} else {
			s = csum_add(s, f->b + f->l3 + 12, 8);
		}
		s += proto + l4len;
	}
	s = csum_add(s, seg, l4len);
	r = ~csum_fold32(s);
	return (proto == IPPROTO_UDP && !r) ? 0xffff : r;
}

/* Fills in a correct L4 checksum. */
static void fix_l4(struct frame *f, int v6, __u8 proto, __u32 ck_off)
{
	__u16 ck = l4_csum(f, v6, proto, f->len - f->l4, ck_off);

	f->b[f->l4 + ck_off] = ck >> 8;
	f->b[f->l4 + ck_off + 1] = ck & 0xff;
}

static __u16 get16(const __u8 *p)
{
	return (p[0] << 8) | p[1];
}

/* ---- parsing -------------------------------------------------------------- */

struct env {
	struct cbrig rig;
	struct bpf_object *obj[2];
	int parse_fd[2], rewrite_fd[2], results_fd[2], cmd_fd[2];
};

static const char *hook_name[] = { "tc", "xdp" };

static int parse(struct env *e, int h, const struct frame *f, struct probe_result *res)
{
	struct cbrig_run run = { .hook = h, .pkt = f->b, .len = f->len < 64 ? 64 : f->len };
	__u32 k = 0;
	int r;

	r = cbrig_run(&e->rig, e->parse_fd[h], &run);
	if (r < 0)
		return r;
	if (bpf_map_lookup_elem(e->results_fd[h], &k, res) < 0)
		return -errno;
	return 0;
}

struct pcase {
	const char *name;
	struct frame f;
	int rc;
	__u16 proto, l3, l4;
	__u8 l4proto, nvl, frag, later;
	__u16 vid0, vid1, sport, dport;
	__u8 itype;
};

static void check_parse(struct env *e, int h, struct pcase *t)
{
	struct probe_result res;
	char name[160];
	int r;

	snprintf(name, sizeof(name), "%s/parse/%s", hook_name[h], t->name);
	r = parse(e, h, &t->f, &res);
	if (r < 0) {
		report(0, name, "test_run: %s", strerror(-r));
		return;
	}
	if (res.rc != t->rc) {
		report(0, name, "result %d, expected %d", res.rc, t->rc);
		return;
	}
	if (t->rc != PARSE_OK) {
		report(1, name, NULL);
		return;
	}
	if (ntohs(res.pkt.proto) != t->proto || res.pkt.l3_off != t->l3 || res.pkt.l4_off != t->l4 ||
	    res.pkt.l4_proto != t->l4proto || res.pkt.n_vlans != t->nvl || res.pkt.fragment != t->frag ||
	    res.pkt.later_frag != t->later || res.pkt.vids[0] != t->vid0 || res.pkt.vids[1] != t->vid1 ||
	    ntohs(res.pkt.sport) != t->sport || ntohs(res.pkt.dport) != t->dport || res.pkt.icmp_type != t->itype)
		report(0, name,
		       "got proto %04x l3 %u l4 %u l4proto %u vlans %u (%u,%u) frag %u/%u ports %u>%u type %u; "
		       "expected %04x %u %u %u %u (%u,%u) %u/%u %u>%u %u",
		       ntohs(res.pkt.proto), res.pkt.l3_off, res.pkt.l4_off, res.pkt.l4_proto, res.pkt.n_vlans,
		       res.pkt.vids[0], res.pkt.vids[1], res.pkt.fragment, res.pkt.later_frag, ntohs(res.pkt.sport),
		       ntohs(res.pkt.dport), res.pkt.icmp_type, t->proto, t->l3, t->l4, t->l4proto, t->nvl, t->vid0,
		       t->vid1, t->frag, t->later, t->sport, t->dport, t->itype);
	else
		report(1, name, NULL);
}

static void suite_parse(struct env *e, int h)
{
	struct pcase c[24];
	int n = 0;
	struct frame *f;

	memset(c, 0, sizeof(c));
#define CASE(nm) (c[n].name = nm, f = &c[n].f, &c[n++])
	{
		struct pcase *t = CASE("ipv4-tcp");
		eth(f, NULL, 0, ETH_P_IP), ipv4(f, IPPROTO_TCP, 0, 0), l4ports(f, 1234, 80, 20);
		*t = (struct pcase){ t->name, *f, PARSE_OK, ETH_P_IP, 14, 34, IPPROTO_TCP, 0, 0, 0, 0, 0, 1234, 80 };
	}
	{
		struct pcase *t = CASE("vlan-ipv4-udp");
		eth(f, (__u16[]){ 0x2064 }, 1, ETH_P_IP), ipv4(f, IPPROTO_UDP, 0, 0), l4ports(f, 53, 5353, 8);
		*t = (struct pcase){ t->name, *f, PARSE_OK, ETH_P_IP, 18, 38, IPPROTO_UDP, 1, 0, 0, 100, 0, 53, 5353 };
	}
	{
		struct pcase *t = CASE("qinq-ipv6-udp");
		eth(f, (__u16[]){ 10, 20 }, 2, ETH_P_IPV6), ipv6(f, IPPROTO_UDP), l4ports(f, 7, 9, 8);
		*t = (struct pcase){ t->name, *f, PARSE_OK, ETH_P_IPV6, 22, 62, IPPROTO_UDP, 2, 0, 0, 10, 20, 7, 9 };
	}
	{
		struct pcase *t = CASE("three-tags-too-deep");
		eth(f, (__u16[]){ 1, 2, 3 }, 3, ETH_P_IP), ipv4(f, IPPROTO_UDP, 0, 0), l4ports(f, 1, 2, 8);
		*t = (struct pcase){ t->name, *f, PARSE_TOO_DEEP };
	}
	{
		struct pcase *t = CASE("ipv4-options-udp");
		eth(f, NULL, 0, ETH_P_IP), ipv4(f, IPPROTO_UDP, 8, 0), l4ports(f, 1000, 2000, 8);
		*t = (struct pcase){ t->name, *f, PARSE_OK, ETH_P_IP, 14, 42, IPPROTO_UDP, 0, 0, 0, 0, 0, 1000, 2000 };
	}
	{
		struct pcase *t = CASE("ipv4-first-fragment");
		eth(f, NULL, 0, ETH_P_IP), ipv4(f, IPPROTO_UDP, 0, 0x2000), l4ports(f, 1, 2, 8);
		*t = (struct pcase){ t->name, *f, PARSE_OK, ETH_P_IP, 14, 34, IPPROTO_UDP, 0, 1, 0, 0, 0, 1, 2 };
	}
	{
		struct pcase *t = CASE("ipv4-later-fragment-no-ports");
		eth(f, NULL, 0, ETH_P_IP), ipv4(f, IPPROTO_UDP, 0, 0x0010), payload(f, 16);
		*t = (struct pcase){ t->name, *f, PARSE_OK, ETH_P_IP, 14, 0, IPPROTO_UDP, 0, 1, 1 };
	}
	{
		struct pcase *t = CASE("ipv6-hbh-dstopts-tcp");
		eth(f, NULL, 0, ETH_P_IPV6), ipv6(f, 0), ext6(f, 60, 8), ext6(f, IPPROTO_TCP, 16),
			l4ports(f, 22, 40000, 20);
		*t = (struct pcase){ t->name, *f, PARSE_OK, ETH_P_IPV6, 14, 78, IPPROTO_TCP, 0, 0, 0, 0, 0, 22, 40000 };
	}
	{
		struct pcase *t = CASE("ipv6-first-fragment-udp");
		eth(f, NULL, 0, ETH_P_IPV6), ipv6(f, 44), frag6(f, IPPROTO_UDP, 0), l4ports(f, 5, 6, 8);
		*t = (struct pcase){ t->name, *f, PARSE_OK, ETH_P_IPV6, 14, 62, IPPROTO_UDP, 0, 1, 0, 0, 0, 5, 6 };
	}
	{
		struct pcase *t = CASE("ipv6-later-fragment");
		eth(f, NULL, 0, ETH_P_IPV6), ipv6(f, 44), frag6(f, IPPROTO_UDP, 100), payload(f, 16);
		*t = (struct pcase){ t->name, *f, PARSE_OK, ETH_P_IPV6, 14, 0, IPPROTO_UDP, 0, 1, 1 };
	}
	{
		struct pcase *t = CASE("ipv6-nine-extension-headers-too-deep");
		eth(f, NULL, 0, ETH_P_IPV6), ipv6(f, 60);
		for (int i = 0; i < 9; i++)
			ext6(f, i == 8 ? IPPROTO_UDP : 60, 8);
		l4ports(f, 1, 2, 8);
		*t = (struct pcase){ t->name, *f, PARSE_TOO_DEEP };
	}
	{
		struct pcase *t = CASE("ipv6-extension-cut-short");
		eth(f, NULL, 0, ETH_P_IPV6), ipv6(f, 60), ext6(f, IPPROTO_UDP, 64);
		f->len -= 40; /* the header says 64 bytes, 24 are there */
		*t = (struct pcase){ t->name, *f, PARSE_SHORT };
	}
	{
		struct pcase *t = CASE("icmp-echo-identifier");
		eth(f, NULL, 0, ETH_P_IP), ipv4(f, IPPROTO_ICMP, 0, 0);
		put(f, (__u8[]){ 8, 0, 0, 0, 0x12, 0x34, 0, 1 }, 8);
		*t = (struct pcase){ t->name, *f, PARSE_OK, ETH_P_IP, 14,     34, IPPROTO_ICMP, 0, 0,
				     0,	      0,  0,	    0x1234,   0x1234, 8 };
	}
	{
		struct pcase *t = CASE("icmpv6-echo-identifier");
		eth(f, NULL, 0, ETH_P_IPV6), ipv6(f, IPPROTO_ICMPV6);
		put(f, (__u8[]){ 128, 0, 0, 0, 0xab, 0xcd, 0, 1 }, 8);
		*t = (struct pcase){ t->name, *f, PARSE_OK, ETH_P_IPV6, 14,	54, IPPROTO_ICMPV6, 0, 0,
				     0,	      0,  0,	    0xabcd,	0xabcd, 128 };
	}
	{
		struct pcase *t = CASE("icmp-error-no-identifier");
		eth(f, NULL, 0, ETH_P_IP), ipv4(f, IPPROTO_ICMP, 0, 0);
		put(f, (__u8[]){ 3, 1, 0, 0, 0x12, 0x34, 0, 1 }, 8);
		*t = (struct pcase){ t->name, *f, PARSE_OK, ETH_P_IP, 14, 34, IPPROTO_ICMP, 0, 0, 0, 0, 0, 0, 0, 3 };
	}
	{
		struct pcase *t = CASE("sctp-ports");
		eth(f, NULL, 0, ETH_P_IP), ipv4(f, IPPROTO_SCTP, 0, 0), l4ports(f, 3868, 3869, 12);
		*t = (struct pcase){ t->name, *f, PARSE_OK, ETH_P_IP, 14, 34, IPPROTO_SCTP, 0, 0, 0, 0, 0, 3868, 3869 };
	}
	{
		struct pcase *t = CASE("arp");
		eth(f, NULL, 0, ETH_P_ARP), payload(f, 28);
		*t = (struct pcase){ t->name, *f, PARSE_OK, ETH_P_ARP, 14, 0 };
	}
	{
		struct pcase *t = CASE("tcp-data-offset-past-end");
		eth(f, NULL, 0, ETH_P_IP), ipv4(f, IPPROTO_TCP, 0, 0), l4ports(f, 1, 2, 20);
		f->b[f->l4 + 12] = 15 << 4; /* 60 bytes of header, 20 there */
		*t = (struct pcase){ t->name, *f, PARSE_SHORT };
	}
#undef CASE
	for (int i = 0; i < n; i++)
		check_parse(e, h, &c[i]);

	/* cb_csum_ipv4_hdr agrees with the header's own (correct) checksum */
	{
		struct frame g;
		struct probe_result res;
		char name[96];

		eth(&g, NULL, 0, ETH_P_IP), ipv4(&g, IPPROTO_UDP, 12, 0), l4ports(&g, 1, 2, 8);
		snprintf(name, sizeof(name), "%s/csum/ipv4-header-full-sum-with-options", hook_name[h]);
		if (parse(e, h, &g, &res) < 0)
			report(0, name, "test_run failed");
		else
			report(res.ip4_csum == *(__u16 *)(g.b + g.l3 + 10), name, "computed %04x, header has %04x",
			       ntohs(res.ip4_csum), get16(g.b + g.l3 + 10));
	}
}

/* ---- rewrites with incremental checksums ---------------------------------- */

static int rewrite(struct env *e, int h, const struct probe_cmd *m, struct frame *f)
{
	__u8 out[256];
	struct cbrig_run run = { .hook = h, .pkt = f->b, .len = f->len, .out = out, .out_size = sizeof(out) };
	__u32 k = 0;
	int r;

	if (bpf_map_update_elem(e->cmd_fd[h], &k, m, BPF_ANY) < 0)
		return -errno;
	r = cbrig_run(&e->rig, e->rewrite_fd[h], &run);
	if (r < 0)
		return r;
	if (run.retval != 1)
		return -ENOEXEC;
	memcpy(f->b, out, f->len);
	return 0;
}

struct rcase {
	const char *name;
	int v6;
	__u8 proto;
	__u32 ck_off; /* of the L4 checksum */
	int zero_udp; /* sent with no UDP checksum */
	struct probe_cmd cmd;
};

static void check_rewrite(struct env *e, int h, const struct rcase *t)
{
	struct frame f;
	char name[160];
	__u16 want, got;
	int r;

	snprintf(name, sizeof(name), "%s/csum/%s", hook_name[h], t->name);
	if (t->v6) {
		eth(&f, NULL, 0, ETH_P_IPV6), ipv6(&f, t->proto);
	} else {
		eth(&f, NULL, 0, ETH_P_IP), ipv4(&f, t->proto, 0, 0);
	}
	l4ports(&f, 4321, 8080, t->proto == IPPROTO_TCP ? 20 : 8);
	payload(&f, 16);
	if (t->v6) { /* payload length */
		f.b[f.l3 + 4] = (f.len - f.l4) >> 8;
		f.b[f.l3 + 5] = (f.len - f.l4) & 0xff;
	}
	if (!t->zero_udp)
		fix_l4(&f, t->v6, t->proto, t->ck_off);
	r = rewrite(e, h, &t->cmd, &f);
	if (r < 0) {
		report(0, name, "rewrite: %s", strerror(-r));
		return;
	}
	if (!t->v6 && csum_fold32(csum_add(0, f.b + f.l3, 20)) != 0xffff) {
		report(0, name, "IPv4 header checksum wrong after the rewrite");
		return;
	}
	got = get16(f.b + f.l4 + t->ck_off);
	want = t->zero_udp ? 0 : l4_csum(&f, t->v6, t->proto, f.len - f.l4, t->ck_off);
	report(got == want, name, "L4 checksum %04x, recomputed %04x", got, want);
}

static void suite_rewrite(struct env *e, int h)
{
	struct probe_cmd ip4 = { .op = OP_IP4_SADDR }, port = { .op = OP_L4_DPORT, .port = htons(443) },
			 ip6 = { .op = OP_IP6_SADDR }, ttl = { .op = OP_TTL };

	inet_pton(AF_INET, "192.0.2.77", &ip4.v4);
	inet_pton(AF_INET6, "2001:db8:ffff::1234", ip6.v6);
	const struct rcase cases[] = {
		{ "snat-ipv4-tcp", 0, IPPROTO_TCP, 16, 0, ip4 },
		{ "snat-ipv4-udp", 0, IPPROTO_UDP, 6, 0, ip4 },
		{ "snat-ipv4-udp-without-checksum-stays-without", 0, IPPROTO_UDP, 6, 1, ip4 },
		{ "dnat-port-tcp", 0, IPPROTO_TCP, 16, 0, port },
		{ "dnat-port-udp", 0, IPPROTO_UDP, 6, 0, port },
		{ "snat-ipv6-tcp", 1, IPPROTO_TCP, 16, 0, ip6 },
		{ "snat-ipv6-udp", 1, IPPROTO_UDP, 6, 0, ip6 },
		{ "ttl-decrement-ipv4", 0, IPPROTO_UDP, 6, 0, ttl },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		check_rewrite(e, h, &cases[i]);

	/*
	 * A UDP checksum that comes out as 0 is sent as 0xffff (0 means none):
	 * choose the new source address so that the sum is exactly 0xffff.
	 */
	{
		struct frame f;
		struct probe_cmd m = { .op = OP_IP4_SADDR };
		__u32 s;
		__u16 hi = 0xc000, lo;
		char name[128];
		int r;

		eth(&f, NULL, 0, ETH_P_IP), ipv4(&f, IPPROTO_UDP, 0, 0);
		l4ports(&f, 1, 2, 8);
		payload(&f, 16);
		fix_l4(&f, 0, IPPROTO_UDP, 6);
		/* the sum without the source address */
		s = csum_add(0, f.b + f.l3 + 16, 4) + IPPROTO_UDP + (f.len - f.l4);
		f.b[f.l4 + 6] = f.b[f.l4 + 7] = 0;
		s = csum_add(s, f.b + f.l4, f.len - f.l4);
		fix_l4(&f, 0, IPPROTO_UDP, 6);
		lo = ~csum_fold32(s + hi);
		m.v4 = htonl(((__u32)hi << 16) | lo);
		snprintf(name, sizeof(name), "%s/csum/udp-computed-zero-sent-as-ffff", hook_name[h]);
		r = rewrite(e, h, &m, &f);
		if (r < 0)
			report(0, name, "rewrite: %s", strerror(-r));
		else
			report(get16(f.b + f.l4 + 6) == 0xffff, name, "checksum %04x", get16(f.b + f.l4 + 6));
	}
}

int main(void)
{
	struct env e;
	char err[256];
	static const char *files[] = { "sdk_probe_tc.bpf.o", "sdk_probe_xdp.bpf.o" };

	memset(&e, 0, sizeof(e));
	if (cbrig_init(&e.rig, "../../obj/bpf") < 0) {
		printf("not ok - rig: cannot create the global maps\n");
		return 1;
	}
	for (int h = 0; h < 2; h++) {
		if (cbrig_load(&e.rig, files[h], NULL, 0, &e.obj[h], err, sizeof(err)) < 0) {
			report(0, hook_name[h], "load: %s", err);
			printf("# %s", cbrig_libbpf_log());
			continue;
		}
		e.parse_fd[h] = cbrig_prog_fd(e.obj[h], "probe_parse");
		e.rewrite_fd[h] = cbrig_prog_fd(e.obj[h], "probe_rewrite");
		e.results_fd[h] = cbrig_map_fd(e.obj[h], "results");
		e.cmd_fd[h] = cbrig_map_fd(e.obj[h], "cmd");
		suite_parse(&e, h);
		suite_rewrite(&e, h);
		bpf_object__close(e.obj[h]);
	}
	cbrig_fini(&e.rig);
	printf("# %d passed, %d failed\n", n_ok, n_fail);
	return n_fail ? 1 : 0;
}
