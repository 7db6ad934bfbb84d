/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_router - packet tables for the router's fast path (TC and XDP builds
 * of build/obj/bpf/router_*.bpf.o), loaded and wired by tests/bpf/cbrig.c.
 *
 *   lpm/       longest-prefix match: connected and static routes of several
 *              lengths (and a default route) pick the port and next hop
 *   forward/   what a forwarded packet looks like: MACs rewritten, TTL or
 *              hop limit one lower, IPv4 checksum as a full computation gives
 *              it; options and fragments forwarded as they are
 *   csum/      the RFC 1624 update over every TTL and over headers whose
 *              checksum is at the edges (0x0000, 0xffff before or after)
 *   slowpath/  what goes to the process, with its reason and words: TTL 1
 *              and 0, no route, no neighbour (absent or aged), UDP to the
 *              router; the token bucket and its counters
 *   drop/      bad checksum, truncated and short headers, foreign MACs,
 *              martians, directed broadcast: dropped, nothing to the process
 *   local/     ARP requests and ICMP/ICMPv6 echo answered in place (checksums
 *              verified), ARP learning, neighbour solicitations
 *   disasm/    the hop out of the router: 32 tail calls with constant keys
 *
 * Output: one "ok - name" / "not ok - name: why" line per check.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "cbrig.h"
#include "../../cube-services/router/router_shared.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define NS_PER_S      1000000000ULL
#define ETH_LEN	      14

static int failed;

static void report(bool ok, const char *name, const char *fmt, ...)
{
	va_list ap;

	if (ok) {
		printf("ok - %s\n", name);
		return;
	}
	failed++;
	printf("not ok - %s: ", name);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
}

static __u64 mono_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (__u64)t.tv_sec * NS_PER_S + (__u64)t.tv_nsec;
}

/* ---- the router under test ---------------------------------------------- */

/* Ports: 0 (10.0.1.254/24, fd00:1::fe/64), 1 (10.0.2.254/24, fd00:2::fe/64),
 * 2 (10.1.0.1/30); 3 exists but is not a router port. */
static const __u8 PMAC[3][6] = { { 0x02, 0, 0, 0, 0x01, 0 }, { 0x02, 0, 0, 0, 0x02, 0 }, { 0x02, 0, 0, 0, 0x03, 0 } };
static const __u8 H1[6] = { 0x02, 0xaa, 0, 0, 0, 0x01 }; /* 10.0.1.1 on port 0 */
static const __u8 H2[6] = { 0x02, 0xaa, 0, 0, 0, 0x02 }; /* 10.0.2.1 on port 1 */
static const __u8 N7[6] = { 0x02, 0xaa, 0, 0, 0, 0x07 }; /* 10.0.2.7 on port 1 */
static const __u8 N9[6] = { 0x02, 0xaa, 0, 0, 0, 0x09 }; /* 10.0.2.9 on port 1 */
static const __u8 R2[6] = { 0x02, 0xaa, 0, 0, 0, 0x22 }; /* 10.1.0.2 on port 2 */
static const __u8 H6[6] = { 0x02, 0xaa, 0, 0, 0, 0x62 }; /* fd00:2::1 on port 1 */
static const __u8 OTHER[6] = { 0x02, 0xbb, 0, 0, 0, 0x01 };
static const __u8 BCAST[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
static const __u8 ZERO6[6];
static const __u8 SN_FE[6] = { 0x33, 0x33, 0xff, 0, 0, 0xfe }; /* solicited-node of ...:fe */
static const __u8 SN_05[6] = { 0x33, 0x33, 0xff, 0, 0, 0x05 };

struct rt {
	struct cbrig rig;
	enum cbrig_hook hook;
	struct bpf_object *obj;
	__u32 id;
	int entry, ports, local, rt4, rt6, neigh, conf, buckets, spcnt, spstats, pktin;
	struct perf_buffer *pb;
	/* the last slow-path record */
	int nrec;
	__u8 rec[1024];
	__u32 rec_size;
};

static const char *hook_name(enum cbrig_hook h)
{
	return h == CBRIG_TC ? "tc" : "xdp";
}

static __u32 v_redirect(struct rt *r)
{
	return r->hook == CBRIG_TC ? CBRIG_TC_REDIRECT : CBRIG_XDP_REDIRECT;
}

static __u32 v_drop(struct rt *r)
{
	return r->hook == CBRIG_TC ? CBRIG_TC_SHOT : CBRIG_XDP_DROP;
}

static void addr_of(const char *s, struct rt_addr *a)
{
	__u32 v4;

	memset(a, 0, sizeof(*a));
	if (inet_pton(AF_INET, s, &v4) == 1) {
		a->w[2] = htonl(0xffff);
		a->w[3] = v4;
	} else if (inet_pton(AF_INET6, s, a->a) != 1) {
		fprintf(stderr, "# bad address in the test: %s\n", s);
	}
}

static __u32 ip4(const char *s)
{
	__u32 v = 0;

	inet_pton(AF_INET, s, &v);
	return v;
}

static int set_port(struct rt *r, __u32 p, const __u8 *mac, const char *ip)
{
	struct rt_port v = { .flags = RT_PORT_ON, .ip4 = ip4(ip) };

	memcpy(v.mac, mac, 6);
	return bpf_map_update_elem(r->ports, &p, &v, BPF_ANY);
}

static int set_local(struct rt *r, const char *a, __u32 port, __u32 plen)
{
	struct rt_addr k;
	struct rt_local v = { .port = port, .plen = plen };

	addr_of(a, &k);
	return bpf_map_update_elem(r->local, &k, &v, BPF_ANY);
}

/* A route: nh NULL for a connected network. */
static int set_route(struct rt *r, const char *net, __u32 plen, const char *nh, __u32 port)
{
	struct rt_route v = { .port = port, .plen = plen };
	struct rt_addr n;

	addr_of(net, &n);
	if (nh)
		addr_of(nh, &v.nexthop);
	else
		v.flags = RT_ROUTE_CONNECTED;
	if (strchr(net, ':')) {
		struct rt_lpm6 k = { .plen = plen };

		memcpy(k.addr, n.a, 16);
		return bpf_map_update_elem(r->rt6, &k, &v, BPF_ANY);
	}
	struct rt_lpm4 k = { .plen = plen, .addr = n.w[3] };

	return bpf_map_update_elem(r->rt4, &k, &v, BPF_ANY);
}

static int del_route4(struct rt *r, const char *net, __u32 plen)
{
	struct rt_lpm4 k = { .plen = plen, .addr = ip4(net) };

	return bpf_map_delete_elem(r->rt4, &k);
}

/* A neighbour seen age_s seconds ago. */
static int set_neigh(struct rt *r, const char *a, const __u8 *mac, __u32 port, __u32 age_s, bool is_static)
{
	struct rt_neigh v = { .port = (__u16)port, .flags = is_static ? RT_NEIGH_STATIC : 0 };
	struct rt_addr k;

	addr_of(a, &k);
	memcpy(v.mac, mac, 6);
	v.seen_ns = mono_ns() - (__u64)age_s * NS_PER_S;
	return bpf_map_update_elem(r->neigh, &k, &v, BPF_ANY);
}

static int get_neigh(struct rt *r, const char *a, struct rt_neigh *v)
{
	struct rt_addr k;

	addr_of(a, &k);
	return bpf_map_lookup_elem(r->neigh, &k, v);
}

static int set_conf(struct rt *r, __u64 aging_s, __u64 interval_ns, __u64 burst)
{
	struct rt_conf c = { .aging_ns = aging_s * NS_PER_S,
			     .interval_ns = interval_ns,
			     .burst_ns = burst * interval_ns };
	__u32 zero = 0;

	return bpf_map_update_elem(r->conf, &zero, &c, BPF_ANY);
}

/* Empties the token buckets (a fresh second for every case). */
static void reset_buckets(struct rt *r)
{
	struct rt_bucket b = { 0 };

	for (__u32 i = 0; i < RT_NREASONS; i++)
		bpf_map_update_elem(r->buckets, &i, &b, BPF_ANY);
}

static void on_sample(void *ctx, int cpu, void *data, __u32 size)
{
	struct rt *r = ctx;

	r->nrec++;
	r->rec_size = size < sizeof(r->rec) ? size : sizeof(r->rec);
	memcpy(r->rec, data, r->rec_size);
}

static int rt_setup(struct rt *r, enum cbrig_hook hook, __u32 id, char *err, size_t errlen)
{
	struct cbrig_var var = { "cb_cube_id", id };
	char file[64];
	int ret;

	r->hook = hook;
	r->id = id;
	snprintf(file, sizeof(file), "router_%s.bpf.o", hook_name(hook));
	ret = cbrig_load(&r->rig, file, &var, 1, &r->obj, err, errlen);
	if (ret < 0)
		return ret;
	r->entry = cbrig_prog_fd(r->obj, "cube_entry");
	r->ports = cbrig_map_fd(r->obj, "rt_ports");
	r->local = cbrig_map_fd(r->obj, "rt_local");
	r->rt4 = cbrig_map_fd(r->obj, "rt_rt4");
	r->rt6 = cbrig_map_fd(r->obj, "rt_rt6");
	r->neigh = cbrig_map_fd(r->obj, "rt_neigh");
	r->conf = cbrig_map_fd(r->obj, "rt_conf");
	r->buckets = cbrig_map_fd(r->obj, "rt_buckets");
	r->spcnt = cbrig_map_fd(r->obj, "rt_spcnt");
	r->spstats = cbrig_map_fd(r->obj, "cb_spstats");
	r->pktin = cbrig_map_fd(r->obj, "cb_pktin");
	if (r->entry < 0 || r->ports < 0 || r->local < 0 || r->rt4 < 0 || r->rt6 < 0 || r->neigh < 0 || r->conf < 0 ||
	    r->buckets < 0 || r->spcnt < 0 || r->pktin < 0) {
		snprintf(err, errlen, "%s: a program or map is missing", file);
		return -ENOENT;
	}
	r->pb = perf_buffer__new(r->pktin, 8, on_sample, NULL, r, NULL);
	if (!r->pb) {
		snprintf(err, errlen, "cannot open the slow-path channel: %s", strerror(errno));
		return -errno;
	}
	for (__u32 p = 0; p < 4; p++)
		cbrig_set_link(&r->rig, id, p, CB_LINK_NETDEV, 1, 0, 0);
	ret = set_port(r, 0, PMAC[0], "10.0.1.254") || set_port(r, 1, PMAC[1], "10.0.2.254") ||
	      set_port(r, 2, PMAC[2], "10.1.0.1") || set_local(r, "10.0.1.254", 0, 24) ||
	      set_local(r, "10.0.2.254", 1, 24) || set_local(r, "10.1.0.1", 2, 30) ||
	      set_local(r, "fd00:1::fe", 0, 64) || set_local(r, "fd00:2::fe", 1, 64) ||
	      set_route(r, "10.0.1.0", 24, NULL, 0) || set_route(r, "10.0.2.0", 24, NULL, 1) ||
	      set_route(r, "10.1.0.0", 30, NULL, 2) || set_route(r, "10.0.0.0", 8, "10.0.2.9", 1) ||
	      set_route(r, "10.0.3.0", 24, "10.1.0.2", 2) || set_route(r, "10.0.3.128", 25, "10.0.2.7", 1) ||
	      set_route(r, "fd00:1::", 64, NULL, 0) || set_route(r, "fd00:2::", 64, NULL, 1) ||
	      set_route(r, "fd00:3::", 64, "fd00:2::1", 1) || set_neigh(r, "10.0.1.1", H1, 0, 0, false) ||
	      set_neigh(r, "10.0.2.1", H2, 1, 0, false) || set_neigh(r, "10.0.2.7", N7, 1, 0, true) ||
	      set_neigh(r, "10.0.2.9", N9, 1, 0, false) || set_neigh(r, "10.1.0.2", R2, 2, 0, false) ||
	      set_neigh(r, "10.0.2.50", N9, 1, 400, false) || set_neigh(r, "fd00:2::1", H6, 1, 0, false) ||
	      set_neigh(r, "fd00:1::1", H1, 0, 0, false) || set_conf(r, 300, 1000000, 100);
	if (ret) {
		snprintf(err, errlen, "cannot fill the router's maps: %s", strerror(errno));
		return -errno;
	}
	return 0;
}

static void rt_teardown(struct rt *r)
{
	perf_buffer__free(r->pb);
	r->pb = NULL;
	bpf_object__close(r->obj);
	r->obj = NULL;
}

/* ---- packets -------------------------------------------------------------- */

static __u32 sum16(const void *p, size_t n, __u32 s)
{
	const __u8 *b = p;

	for (; n > 1; n -= 2, b += 2)
		s += (__u32)b[0] << 8 | b[1];
	if (n)
		s += (__u32)b[0] << 8;
	return s;
}

static __u16 fold(__u32 s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (__u16)s;
}

/* The checksum field a full computation gives (host order). */
static __u16 csum_of(const void *p, size_t n, __u32 s)
{
	return (__u16)~fold(sum16(p, n, s));
}

static __u32 pseudo6(const __u8 *ip6, __u32 len)
{
	__u32 s = sum16(ip6 + 8, 32, 0);

	return s + (len >> 16) + (len & 0xffff) + IPPROTO_ICMPV6;
}

static void put16(__u8 *p, __u16 v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
}

static __u16 get16(const __u8 *p)
{
	return (__u16)(p[0] << 8 | p[1]);
}

struct ip4spec {
	const __u8 *dmac, *smac;
	const char *src, *dst;
	__u8 ttl;
	__u8 proto; /* 0: UDP */
	__u8 ihl;   /* 0: 5 */
	__u16 frag; /* frag_off field, host order */
	__u16 id;
	__u8 tos;
	bool bad_csum;
	int claim; /* tot_len says this many bytes more than there are */
	bool echo; /* ICMP echo request */
};

/* Ethernet + IPv4 (+ options of NOPs) + 8-byte UDP or ICMP echo header + 18
 * bytes of payload. Returns the length. */
static __u32 build4(__u8 *f, const struct ip4spec *s)
{
	__u8 ihl = s->ihl ? s->ihl : 5, *ip = f + ETH_LEN, *l4;
	__u32 hl = ihl * 4u, len = ETH_LEN + hl + 8 + 18;

	memset(f, 0, len);
	memcpy(f, s->dmac, 6);
	memcpy(f + 6, s->smac, 6);
	put16(f + 12, ETH_P_IP);
	ip[0] = (__u8)(0x40 | ihl);
	ip[1] = s->tos;
	put16(ip + 2, (__u16)(hl + 8 + 18 + s->claim));
	put16(ip + 4, s->id);
	put16(ip + 6, s->frag);
	ip[8] = s->ttl;
	ip[9] = s->echo ? IPPROTO_ICMP : s->proto ? s->proto : IPPROTO_UDP;
	*(__u32 *)(ip + 12) = ip4(s->src);
	*(__u32 *)(ip + 16) = ip4(s->dst);
	for (__u32 i = 20; i < hl; i++)
		ip[i] = 1; /* NOP options */
	put16(ip + 10, csum_of(ip, hl, 0));
	if (s->bad_csum)
		ip[10] ^= 0x5a;
	l4 = ip + hl;
	for (int i = 8; i < 26; i++)
		l4[i] = (__u8)i;
	if (s->echo) {
		l4[0] = 8;
		put16(l4 + 4, 0x1234);
		put16(l4 + 6, 7);
		put16(l4 + 2, csum_of(l4, 26, 0));
	} else {
		put16(l4, 40000);
		put16(l4 + 2, 33434);
		put16(l4 + 4, 26);
	}
	return len;
}

static __u32 build_arp(__u8 *f, const __u8 *dmac, __u16 op, const __u8 *sha, const char *spa, const __u8 *tha,
		       const char *tpa)
{
	__u8 *a = f + ETH_LEN;

	memset(f, 0, 60);
	memcpy(f, dmac, 6);
	memcpy(f + 6, sha, 6);
	put16(f + 12, ETH_P_ARP);
	put16(a, 1);
	put16(a + 2, ETH_P_IP);
	a[4] = 6;
	a[5] = 4;
	put16(a + 6, op);
	memcpy(a + 8, sha, 6);
	*(__u32 *)(a + 14) = ip4(spa);
	memcpy(a + 18, tha, 6);
	*(__u32 *)(a + 24) = ip4(tpa);
	return 60;
}

enum icmp6 { I6_UDP = 0, I6_ECHO = 128, I6_NS = 135 };

/* Ethernet + IPv6 + (UDP | ICMPv6 echo | neighbour solicitation for target). */
static __u32 build6(__u8 *f, const __u8 *dmac, const __u8 *smac, const char *src, const char *dst, __u8 hops,
		    enum icmp6 kind, const char *target)
{
	__u8 *ip = f + ETH_LEN, *l4 = ip + 40;
	struct rt_addr a;
	__u32 plen = kind == I6_NS ? 32 : 24;

	memset(f, 0, ETH_LEN + 40 + plen);
	memcpy(f, dmac, 6);
	memcpy(f + 6, smac, 6);
	put16(f + 12, ETH_P_IPV6);
	ip[0] = 0x60;
	put16(ip + 4, (__u16)plen);
	ip[6] = kind == I6_UDP ? IPPROTO_UDP : IPPROTO_ICMPV6;
	ip[7] = hops;
	addr_of(src, &a);
	memcpy(ip + 8, a.a, 16);
	addr_of(dst, &a);
	memcpy(ip + 24, a.a, 16);
	if (kind == I6_UDP) {
		put16(l4, 40000);
		put16(l4 + 2, 33434);
		put16(l4 + 4, (__u16)plen);
	} else if (kind == I6_ECHO) {
		l4[0] = 128;
		put16(l4 + 4, 0x4321);
		put16(l4 + 6, 3);
		for (int i = 8; i < 24; i++)
			l4[i] = (__u8)i;
		put16(l4 + 2, csum_of(l4, plen, pseudo6(ip, plen)));
	} else {
		l4[0] = 135;
		addr_of(target, &a);
		memcpy(l4 + 8, a.a, 16);
		l4[24] = 1;
		l4[25] = 1;
		memcpy(l4 + 26, smac, 6);
		put16(l4 + 2, csum_of(l4, plen, pseudo6(ip, plen)));
	}
	return ETH_LEN + 40 + plen;
}

/* ---- running ---------------------------------------------------------------- */

struct result {
	__u32 verdict;
	__u8 out[1600];
	__u32 out_len;
	int nrec; /* slow-path records */
	struct cb_pktin_hdr hdr;
	__u8 frame[512];
};

static int run(struct rt *r, __u32 in_port, const void *pkt, __u32 len, struct result *res)
{
	struct cbrig_run run = { .hook = r->hook,
				 .in_port = in_port,
				 .pkt = pkt,
				 .len = len,
				 .out = res->out,
				 .out_size = sizeof(res->out) };
	int ret;

	memset(res, 0, sizeof(*res));
	r->nrec = 0;
	ret = cbrig_run(&r->rig, r->entry, &run);
	if (ret < 0)
		return ret;
	perf_buffer__poll(r->pb, 10);
	res->verdict = run.retval;
	res->out_len = run.out_len;
	res->nrec = r->nrec;
	if (r->nrec && r->rec_size >= sizeof(res->hdr)) {
		memcpy(&res->hdr, r->rec, sizeof(res->hdr));
		memcpy(res->frame, r->rec + sizeof(res->hdr),
		       r->rec_size - sizeof(res->hdr) < sizeof(res->frame) ? r->rec_size - sizeof(res->hdr)
									   : sizeof(res->frame));
	}
	return 0;
}

/* An IPv4 frame that left: MACs, TTL one lower, checksum as computed in
 * full, and every other byte as it came in. */
static int check_fwd4(const __u8 *in, __u32 len, const struct result *res, const __u8 *dmac, const __u8 *smac,
		      char *why, size_t n)
{
	const __u8 *ip = res->out + ETH_LEN, *iip = in + ETH_LEN;
	__u32 hl = (ip[0] & 0xf) * 4u;

	if (res->out_len != len) {
		snprintf(why, n, "output of %u bytes, expected %u", res->out_len, len);
		return -1;
	}
	if (memcmp(res->out, dmac, 6) || memcmp(res->out + 6, smac, 6)) {
		snprintf(why, n, "MACs %02x..%02x / %02x..%02x not the next hop's / the port's", res->out[0],
			 res->out[5], res->out[6], res->out[11]);
		return -1;
	}
	if (ip[8] != iip[8] - 1) {
		snprintf(why, n, "TTL %u, expected %u", ip[8], iip[8] - 1);
		return -1;
	}
	{
		__u8 tmp[60];

		memcpy(tmp, ip, hl);
		tmp[10] = tmp[11] = 0;
		if (get16(ip + 10) != csum_of(tmp, hl, 0)) {
			snprintf(why, n, "checksum %04x, a full computation gives %04x", get16(ip + 10),
				 csum_of(tmp, hl, 0));
			return -1;
		}
	}
	for (__u32 i = 12; i < len; i++) {
		__u32 o = i - ETH_LEN;

		if (i >= ETH_LEN && (o == 8 || o == 10 || o == 11))
			continue;
		if (res->out[i] != in[i]) {
			snprintf(why, n, "byte %u changed (%02x -> %02x)", i, in[i], res->out[i]);
			return -1;
		}
	}
	return 0;
}

static int check_fwd6(const __u8 *in, __u32 len, const struct result *res, const __u8 *dmac, const __u8 *smac,
		      char *why, size_t n)
{
	if (res->out_len != len) {
		snprintf(why, n, "output of %u bytes, expected %u", res->out_len, len);
		return -1;
	}
	if (memcmp(res->out, dmac, 6) || memcmp(res->out + 6, smac, 6)) {
		snprintf(why, n, "MACs not the next hop's / the port's");
		return -1;
	}
	if (res->out[ETH_LEN + 7] != in[ETH_LEN + 7] - 1) {
		snprintf(why, n, "hop limit %u, expected %u", res->out[ETH_LEN + 7], in[ETH_LEN + 7] - 1);
		return -1;
	}
	for (__u32 i = 12; i < len; i++)
		if (i != ETH_LEN + 7 && res->out[i] != in[i]) {
			snprintf(why, n, "byte %u changed", i);
			return -1;
		}
	return 0;
}

/* The one slow-path record: reason, words, in-port, the frame as it came. */
static int check_slow(struct rt *r, __u32 in_port, const __u8 *in, __u32 len, const struct result *res, __u32 reason,
		      __u32 w0, __u32 w1, char *why, size_t n)
{
	if (res->verdict != v_drop(r)) {
		snprintf(why, n, "verdict %u, expected drop (%u) after the copy", res->verdict, v_drop(r));
		return -1;
	}
	if (res->nrec != 1) {
		snprintf(why, n, "%d slow-path records, expected 1", res->nrec);
		return -1;
	}
	if (res->hdr.reason != reason || res->hdr.words[0] != w0 || res->hdr.words[1] != w1 ||
	    res->hdr.in_port != in_port || res->hdr.cube_id != r->id || res->hdr.len != len) {
		snprintf(why, n, "record: reason %u words %#x %#x port %u cube %u len %u; expected %u %#x %#x %u %u %u",
			 res->hdr.reason, res->hdr.words[0], res->hdr.words[1], res->hdr.in_port, res->hdr.cube_id,
			 res->hdr.len, reason, w0, w1, in_port, r->id, len);
		return -1;
	}
	if (memcmp(res->frame, in, len < sizeof(res->frame) ? len : sizeof(res->frame))) {
		snprintf(why, n, "the record's frame is not the packet as it came in");
		return -1;
	}
	return 0;
}

static int check_drop(struct rt *r, const struct result *res, char *why, size_t n)
{
	if (res->verdict != v_drop(r)) {
		snprintf(why, n, "verdict %u, expected drop (%u)", res->verdict, v_drop(r));
		return -1;
	}
	if (res->nrec) {
		snprintf(why, n, "%d slow-path records, expected none", res->nrec);
		return -1;
	}
	return 0;
}

/* ---- tables ----------------------------------------------------------------- */

enum want { W_FWD, W_SLOW, W_DROP };

struct case4 {
	const char *name;
	__u32 in_port;
	struct ip4spec pk;
	enum want want;
	__u32 out_port;
	const __u8 *nh_mac;
	__u32 reason, w0, w1;
	const char *w0addr; /* w0 is this IPv4 address */
	bool with_default;  /* a default route via 10.1.0.2 during the case */
};

#define ICMPW(t, c) (((t) << 8) | (c))

static const struct case4 cases4[] = {
	/* longest-prefix match */
	{ "lpm/connected-24", 0, { PMAC[0], H1, "10.0.1.1", "10.0.2.1", 64 }, W_FWD, 1, H2 },
	{ "lpm/static-24-beats-8", 0, { PMAC[0], H1, "10.0.1.1", "10.0.3.1", 64 }, W_FWD, 2, R2 },
	{ "lpm/static-25-beats-24", 0, { PMAC[0], H1, "10.0.1.1", "10.0.3.200", 64 }, W_FWD, 1, N7 },
	{ "lpm/static-8", 0, { PMAC[0], H1, "10.0.1.1", "10.77.0.1", 64 }, W_FWD, 1, N9 },
	{ "lpm/connected-30", 1, { PMAC[1], H2, "10.0.2.1", "10.1.0.2", 64 }, W_FWD, 2, R2 },
	{ "lpm/default-route", 0, { PMAC[0], H1, "10.0.1.1", "192.0.2.1", 64 }, W_FWD, 2, R2, .with_default = true },
	{ "lpm/no-route",
	  0,
	  { PMAC[0], H1, "10.0.1.1", "192.0.2.1", 64 },
	  W_SLOW,
	  .reason = RT_REASON_ICMP,
	  .w0 = ICMPW(3, 0) },
	/* forwarding */
	{ "forward/ttl-2", 0, { PMAC[0], H1, "10.0.1.1", "10.0.2.1", 2 }, W_FWD, 1, H2 },
	{ "forward/ttl-255", 0, { PMAC[0], H1, "10.0.1.1", "10.0.2.1", 255 }, W_FWD, 1, H2 },
	{ "forward/back-out-of-in-port", 1, { PMAC[1], N9, "10.0.2.9", "10.0.2.1", 9 }, W_FWD, 1, H2 },
	{ "forward/options-ihl-6", 0, { PMAC[0], H1, "10.0.1.1", "10.0.2.1", 64, .ihl = 6 }, W_FWD, 1, H2 },
	{ "forward/options-ihl-15", 0, { PMAC[0], H1, "10.0.1.1", "10.0.2.1", 64, .ihl = 15 }, W_FWD, 1, H2 },
	{ "forward/first-fragment", 0, { PMAC[0], H1, "10.0.1.1", "10.0.2.1", 64, .frag = 0x2000 }, W_FWD, 1, H2 },
	{ "forward/middle-fragment", 0, { PMAC[0], H1, "10.0.1.1", "10.0.2.1", 64, .frag = 0x2010 }, W_FWD, 1, H2 },
	{ "forward/last-fragment-df", 0, { PMAC[0], H1, "10.0.1.1", "10.0.2.1", 64, .frag = 0x4020 }, W_FWD, 1, H2 },
	{ "forward/static-neighbour", 0, { PMAC[0], H1, "10.0.1.1", "10.0.3.130", 64 }, W_FWD, 1, N7 },
	{ "forward/tcp", 0, { PMAC[0], H1, "10.0.1.1", "10.0.2.1", 64, .proto = IPPROTO_TCP }, W_FWD, 1, H2 },
	/* to the process */
	{ "slowpath/ttl-1-time-exceeded",
	  0,
	  { PMAC[0], H1, "10.0.1.1", "10.0.2.1", 1 },
	  W_SLOW,
	  .reason = RT_REASON_ICMP,
	  .w0 = ICMPW(11, 0) },
	{ "slowpath/ttl-0-time-exceeded",
	  0,
	  { PMAC[0], H1, "10.0.1.1", "10.0.2.1", 0 },
	  W_SLOW,
	  .reason = RT_REASON_ICMP,
	  .w0 = ICMPW(11, 0) },
	{ "slowpath/no-neighbour",
	  0,
	  { PMAC[0], H1, "10.0.1.1", "10.0.2.77", 64 },
	  W_SLOW,
	  .reason = RT_REASON_RESOLVE,
	  .w0addr = "10.0.2.77",
	  .w1 = 1 },
	{ "slowpath/aged-neighbour",
	  0,
	  { PMAC[0], H1, "10.0.1.1", "10.0.2.50", 64 },
	  W_SLOW,
	  .reason = RT_REASON_RESOLVE,
	  .w0addr = "10.0.2.50",
	  .w1 = 1 },
	{ "slowpath/udp-to-router-port-unreachable",
	  0,
	  { PMAC[0], H1, "10.0.1.1", "10.0.2.254", 64 },
	  W_SLOW,
	  .reason = RT_REASON_ICMP,
	  .w0 = ICMPW(3, 3) },
	/* dropped, nothing to the process */
	{ "drop/bad-header-checksum", 0, { PMAC[0], H1, "10.0.1.1", "10.0.2.1", 64, .bad_csum = true }, W_DROP },
	{ "drop/bad-checksum-in-options",
	  0,
	  { PMAC[0], H1, "10.0.1.1", "10.0.2.1", 64, .ihl = 7, .bad_csum = true },
	  W_DROP },
	{ "drop/bad-checksum-ttl-1", 0, { PMAC[0], H1, "10.0.1.1", "10.0.2.1", 1, .bad_csum = true }, W_DROP },
	{ "drop/truncated-tot-len", 0, { PMAC[0], H1, "10.0.1.1", "10.0.2.1", 64, .claim = 40 }, W_DROP },
	{ "drop/ihl-below-5", 0, { PMAC[0], H1, "10.0.1.1", "10.0.2.1", 64, .ihl = 4 }, W_DROP },
	{ "drop/unicast-for-another-station", 0, { OTHER, H1, "10.0.1.1", "10.0.2.1", 64 }, W_DROP },
	{ "drop/ipv4-to-broadcast-mac", 0, { BCAST, H1, "10.0.1.1", "10.0.2.1", 64 }, W_DROP },
	{ "drop/not-a-router-port", 3, { PMAC[0], H1, "10.0.1.1", "10.0.2.1", 64 }, W_DROP },
	{ "drop/martian-source-loopback", 0, { PMAC[0], H1, "127.0.0.1", "10.0.2.1", 64 }, W_DROP },
	{ "drop/martian-source-multicast", 0, { PMAC[0], H1, "224.0.0.1", "10.0.2.1", 64 }, W_DROP },
	{ "drop/multicast-destination", 0, { PMAC[0], H1, "10.0.1.1", "224.0.0.5", 64 }, W_DROP },
	{ "drop/limited-broadcast", 0, { PMAC[0], H1, "10.0.1.1", "255.255.255.255", 64 }, W_DROP },
	{ "drop/directed-broadcast", 0, { PMAC[0], H1, "10.0.1.1", "10.0.2.255", 64 }, W_DROP },
	{ "drop/tcp-to-router", 0, { PMAC[0], H1, "10.0.1.1", "10.0.1.254", 64, .proto = IPPROTO_TCP }, W_DROP },
};

static void table4(struct rt *r)
{
	for (size_t i = 0; i < ARRAY_SIZE(cases4); i++) {
		const struct case4 *t = &cases4[i];
		struct cb_port_stats before, after;
		struct result res;
		char name[128], why[256] = "";
		__u8 pkt[128];
		__u32 len = build4(pkt, &t->pk);
		int bad = 0;

		snprintf(name, sizeof(name), "%s/%s", hook_name(r->hook), t->name);
		reset_buckets(r);
		if (t->with_default)
			set_route(r, "0.0.0.0", 0, "10.1.0.2", 2);
		cbrig_stats(&r->rig, r->id, t->out_port, &before);
		if (run(r, t->in_port, pkt, len, &res) < 0) {
			report(false, name, "test_run failed: %s", strerror(errno));
			goto next;
		}
		cbrig_stats(&r->rig, r->id, t->out_port, &after);
		if (t->want == W_FWD) {
			if (res.verdict != v_redirect(r))
				bad = snprintf(why, sizeof(why), "verdict %u, expected redirect", res.verdict);
			else if (res.nrec)
				bad = snprintf(why, sizeof(why), "a slow-path record for a forwarded packet");
			else if (after.tx_packets != before.tx_packets + 1)
				bad = snprintf(why, sizeof(why), "port %u counted %+lld tx, expected +1", t->out_port,
					       (long long)(after.tx_packets - before.tx_packets));
			else
				bad = check_fwd4(pkt, len, &res, t->nh_mac, PMAC[t->out_port], why, sizeof(why));
		} else if (t->want == W_SLOW) {
			__u32 w0 = t->w0addr ? ip4(t->w0addr) : t->w0;

			bad = check_slow(r, t->in_port, pkt, len, &res, t->reason, w0, t->w1, why, sizeof(why));
		} else {
			bad = check_drop(r, &res, why, sizeof(why));
		}
		report(!bad, name, "%s", why);
	next:
		if (t->with_default)
			del_route4(r, "0.0.0.0", 0);
	}
}

/*
 * The RFC 1624 update against a full computation, for every TTL from 2 to
 * 255 and for headers whose checksum is 0x0000 or 0xffff-adjacent before
 * or after the decrement (ids found by search).
 */
static void table_csum(struct rt *r)
{
	struct ip4spec s = { PMAC[0], H1, "10.0.1.1", "10.0.2.1", 64 };
	char name[128], why[256] = "";
	int runs = 0, bad = 0;
	__u16 edge_old[4] = { 0x0000, 0x0001, 0xfffe, 0xff00 }, edge_new[4] = { 0x0000, 0x0001, 0xfffe, 0x00ff };
	int found_old = 0, found_new = 0;

	snprintf(name, sizeof(name), "%s/csum/every-ttl-2-to-255", hook_name(r->hook));
	for (int ttl = 2; ttl <= 255 && !bad; ttl++) {
		for (int v = 0; v < 4 && !bad; v++) {
			struct result res;
			__u8 pkt[128];
			__u32 len;

			s.ttl = (__u8)ttl;
			s.id = (__u16)(ttl * 7919 + v * 104729);
			s.tos = (__u8)(v * 0x28);
			len = build4(pkt, &s);
			reset_buckets(r);
			if (run(r, 0, pkt, len, &res) < 0 || res.verdict != v_redirect(r)) {
				bad = snprintf(why, sizeof(why), "ttl %d: not forwarded", ttl);
				break;
			}
			if (check_fwd4(pkt, len, &res, H2, PMAC[1], why, sizeof(why)) < 0)
				bad = 1;
			runs++;
		}
	}
	report(!bad, name, "%s", why);

	snprintf(name, sizeof(name), "%s/csum/edge-values", hook_name(r->hook));
	bad = 0;
	s.ttl = 64;
	s.tos = 0;
	for (__u32 id = 0; id < 65536 && !bad; id++) {
		__u8 pkt[128], *ip = pkt + ETH_LEN, tmp[20];
		struct result res;
		__u16 before, after;
		__u32 len;
		bool want = false;

		s.id = (__u16)id;
		len = build4(pkt, &s);
		before = get16(ip + 10);
		memcpy(tmp, ip, 20);
		tmp[8]--;
		tmp[10] = tmp[11] = 0;
		after = csum_of(tmp, 20, 0);
		for (int k = 0; k < 4; k++) {
			if (before == edge_old[k] && !(found_old & (1 << k))) {
				found_old |= 1 << k;
				want = true;
			}
			if (after == edge_new[k] && !(found_new & (1 << k))) {
				found_new |= 1 << k;
				want = true;
			}
		}
		if (!want)
			continue;
		reset_buckets(r);
		if (run(r, 0, pkt, len, &res) < 0 || res.verdict != v_redirect(r))
			bad = snprintf(why, sizeof(why), "id %u: not forwarded", id);
		else if (check_fwd4(pkt, len, &res, H2, PMAC[1], why, sizeof(why)) < 0)
			bad = 1;
		runs++;
	}
	if (!bad && (found_old != 0xf || found_new != 0xf))
		bad = snprintf(why, sizeof(why), "the search found edges %#x/%#x of 0xf/0xf", found_old, found_new);
	report(!bad, name, "%s", why);
	printf("# %s: %d checksum runs\n", hook_name(r->hook), runs);
}

static void table6(struct rt *r)
{
	static const struct {
		const char *name;
		__u32 in_port;
		const __u8 *dmac, *smac;
		const char *src, *dst;
		__u8 hops;
		enum icmp6 kind;
		const char *target;
		enum want want;
		__u32 out_port;
		const __u8 *nh_mac;
		__u32 reason, w0, w1;
	} cases[] = {
		{ "ipv6/forward-connected", 0, PMAC[0], H1, "fd00:1::1", "fd00:2::1", 64, I6_UDP, NULL, W_FWD, 1, H6 },
		{ "ipv6/forward-static", 0, PMAC[0], H1, "fd00:1::1", "fd00:3::9", 64, I6_UDP, NULL, W_FWD, 1, H6 },
		{ "ipv6/forward-hop-limit-2", 0, PMAC[0], H1, "fd00:1::1", "fd00:2::1", 2, I6_ECHO, NULL, W_FWD, 1,
		  H6 },
		{ "ipv6/hop-limit-1-time-exceeded", 0, PMAC[0], H1, "fd00:1::1", "fd00:2::1", 1, I6_UDP, NULL, W_SLOW,
		  .reason = RT_REASON_ICMP, .w0 = ICMPW(3, 0) },
		{ "ipv6/no-route", 0, PMAC[0], H1, "fd00:1::1", "fd00:9::1", 64, I6_UDP, NULL, W_SLOW,
		  .reason = RT_REASON_ICMP, .w0 = ICMPW(1, 0) },
		{ "ipv6/no-neighbour", 0, PMAC[0], H1, "fd00:1::1", "fd00:2::77", 64, I6_UDP, NULL, W_SLOW,
		  .reason = RT_REASON_RESOLVE, .w0 = 0, .w1 = 1 },
		{ "ipv6/ns-for-our-address", 0, SN_FE, H1, "fd00:1::1", "ff02::1:ff00:fe", 255, I6_NS, "fd00:1::fe",
		  W_SLOW, .reason = RT_REASON_NEIGH },
		{ "ipv6/ns-for-other-port-address-drops", 0, SN_FE, H1, "fd00:1::1", "ff02::1:ff00:fe", 255, I6_NS,
		  "fd00:2::fe", W_DROP },
		{ "ipv6/ns-for-someone-else-drops", 0, SN_05, H1, "fd00:1::1", "ff02::1:ff00:5", 255, I6_NS,
		  "fd00:1::5", W_DROP },
		{ "ipv6/ns-hop-limit-not-255-drops", 0, PMAC[0], H1, "fd00:1::1", "fd00:1::fe", 64, I6_NS, "fd00:1::fe",
		  W_DROP },
		{ "ipv6/udp-to-router-port-unreachable", 0, PMAC[0], H1, "fd00:1::1", "fd00:1::fe", 64, I6_UDP, NULL,
		  W_SLOW, .reason = RT_REASON_ICMP, .w0 = ICMPW(1, 4) },
		{ "ipv6/link-local-destination-drops", 0, PMAC[0], H1, "fd00:1::1", "fe80::1", 64, I6_UDP, NULL,
		  W_DROP },
		{ "ipv6/multicast-source-drops", 0, PMAC[0], H1, "ff02::1", "fd00:2::1", 64, I6_UDP, NULL, W_DROP },
		{ "ipv6/foreign-mac-drops", 0, OTHER, H1, "fd00:1::1", "fd00:2::1", 64, I6_UDP, NULL, W_DROP },
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		__u8 pkt[160];
		__u32 len = build6(pkt, cases[i].dmac, cases[i].smac, cases[i].src, cases[i].dst, cases[i].hops,
				   cases[i].kind, cases[i].target);
		struct result res;
		char name[128], why[256] = "";
		int bad = 0;

		snprintf(name, sizeof(name), "%s/%s", hook_name(r->hook), cases[i].name);
		reset_buckets(r);
		if (run(r, cases[i].in_port, pkt, len, &res) < 0) {
			report(false, name, "test_run failed");
			continue;
		}
		if (cases[i].want == W_FWD) {
			if (res.verdict != v_redirect(r))
				bad = snprintf(why, sizeof(why), "verdict %u, expected redirect", res.verdict);
			else
				bad = check_fwd6(pkt, len, &res, cases[i].nh_mac, PMAC[cases[i].out_port], why,
						 sizeof(why));
		} else if (cases[i].want == W_SLOW) {
			bad = check_slow(r, cases[i].in_port, pkt, len, &res, cases[i].reason, cases[i].w0, cases[i].w1,
					 why, sizeof(why));
		} else {
			bad = check_drop(r, &res, why, sizeof(why));
		}
		report(!bad, name, "%s", why);
	}
}

/* ---- answered in place -------------------------------------------------------- */

static void local_cases(struct rt *r)
{
	const char *h = hook_name(r->hook);
	struct rt_neigh nb;
	struct result res;
	char name[128], why[256];
	__u8 pkt[160];
	__u32 len;
	int bad;

	/* ARP request for the port's address: the reply, and the sender learned */
	snprintf(name, sizeof(name), "%s/local/arp-request-answered", h);
	{
		static const __u8 S[6] = { 0x02, 0xaa, 0, 0, 0, 0x33 };
		const __u8 *o = res.out, *a = res.out + ETH_LEN;

		len = build_arp(pkt, BCAST, 1, S, "10.0.1.33", ZERO6, "10.0.1.254");
		bad = run(r, 0, pkt, len, &res) < 0 || res.verdict != v_redirect(r) || res.nrec;
		if (!bad)
			bad = memcmp(o, S, 6) || memcmp(o + 6, PMAC[0], 6) || get16(o + 12) != ETH_P_ARP ||
			      get16(a + 6) != 2 || memcmp(a + 8, PMAC[0], 6) ||
			      *(__u32 *)(a + 14) != ip4("10.0.1.254") || memcmp(a + 18, S, 6) ||
			      *(__u32 *)(a + 24) != ip4("10.0.1.33");
		report(!bad, name, "verdict %u, records %d, or the reply's fields are wrong", res.verdict, res.nrec);
		snprintf(name, sizeof(name), "%s/local/arp-request-sender-learned", h);
		bad = get_neigh(r, "10.0.1.33", &nb) < 0 || memcmp(nb.mac, S, 6) || nb.port != 0 ||
		      (nb.flags & RT_NEIGH_STATIC);
		report(!bad, name, "10.0.1.33 not learned on port 0 with its MAC");
	}
	snprintf(name, sizeof(name), "%s/local/arp-for-other-port-address-drops", h);
	len = build_arp(pkt, BCAST, 1, H1, "10.0.1.1", ZERO6, "10.0.2.254");
	bad = run(r, 0, pkt, len, &res) < 0 || check_drop(r, &res, why, sizeof(why));
	report(!bad, name, "%s", why);

	snprintf(name, sizeof(name), "%s/local/arp-for-someone-else-not-learned", h);
	{
		static const __u8 S[6] = { 0x02, 0xaa, 0, 0, 0, 0x44 };

		len = build_arp(pkt, BCAST, 1, S, "10.0.1.44", ZERO6, "10.0.1.1");
		bad = run(r, 0, pkt, len, &res) < 0 || check_drop(r, &res, why, sizeof(why)) ||
		      get_neigh(r, "10.0.1.44", &nb) == 0;
		report(!bad, name, "dropped %s, learned %s", res.verdict == v_drop(r) ? "yes" : "no",
		       get_neigh(r, "10.0.1.44", &nb) == 0 ? "yes" : "no");
	}
	snprintf(name, sizeof(name), "%s/local/arp-sender-off-network-not-learned", h);
	{
		static const __u8 S[6] = { 0x02, 0xaa, 0, 0, 0, 0x55 };

		len = build_arp(pkt, BCAST, 1, S, "10.0.2.55", ZERO6, "10.0.1.254");
		bad = run(r, 0, pkt, len, &res) < 0 || res.verdict != v_redirect(r) ||
		      get_neigh(r, "10.0.2.55", &nb) == 0;
		report(!bad, name, "answered %s, learned %s", res.verdict == v_redirect(r) ? "yes" : "no",
		       get_neigh(r, "10.0.2.55", &nb) == 0 ? "yes" : "no");
	}
	snprintf(name, sizeof(name), "%s/local/arp-reply-learned-and-to-process", h);
	{
		static const __u8 S[6] = { 0x02, 0xaa, 0, 0, 0, 0x66 };

		reset_buckets(r);
		len = build_arp(pkt, PMAC[1], 2, S, "10.0.2.66", PMAC[1], "10.0.2.254");
		bad = run(r, 1, pkt, len, &res) < 0 ||
		      check_slow(r, 1, pkt, len, &res, RT_REASON_NEIGH, 0, 0, why, sizeof(why));
		if (!bad && (get_neigh(r, "10.0.2.66", &nb) < 0 || memcmp(nb.mac, S, 6) || nb.port != 1))
			bad = snprintf(why, sizeof(why), "10.0.2.66 not learned");
		report(!bad, name, "%s", why);
	}
	snprintf(name, sizeof(name), "%s/local/arp-moves-existing-entry", h);
	{
		static const __u8 S[6] = { 0x02, 0xaa, 0, 0, 0, 0x67 };

		/* a gratuitous ARP of 10.0.2.66 from a new MAC */
		len = build_arp(pkt, BCAST, 1, S, "10.0.2.66", ZERO6, "10.0.2.66");
		bad = run(r, 1, pkt, len, &res) < 0 || check_drop(r, &res, why, sizeof(why));
		if (!bad && (get_neigh(r, "10.0.2.66", &nb) < 0 || memcmp(nb.mac, S, 6)))
			bad = snprintf(why, sizeof(why), "10.0.2.66 kept its old MAC");
		report(!bad, name, "%s", why);
	}
	snprintf(name, sizeof(name), "%s/local/arp-never-moves-static-entry", h);
	{
		len = build_arp(pkt, BCAST, 1, OTHER, "10.0.2.7", ZERO6, "10.0.2.254");
		bad = run(r, 1, pkt, len, &res) < 0 || get_neigh(r, "10.0.2.7", &nb) < 0 || memcmp(nb.mac, N7, 6) ||
		      !(nb.flags & RT_NEIGH_STATIC);
		report(!bad, name, "the static entry of 10.0.2.7 changed");
	}

	/* ICMP echo to an address of another port: answered out of the in-port */
	snprintf(name, sizeof(name), "%s/local/icmp-echo-answered", h);
	{
		struct ip4spec s = { PMAC[0], H1, "10.0.1.1", "10.0.2.254", 9, .echo = true, .id = 0xbeef };
		const __u8 *o = res.out, *ip = res.out + ETH_LEN, *ic = ip + 20;
		__u8 tmp[20];

		len = build4(pkt, &s);
		bad = run(r, 0, pkt, len, &res) < 0 || res.verdict != v_redirect(r) || res.out_len != len;
		why[0] = 0;
		if (bad) {
			snprintf(why, sizeof(why), "verdict %u, %u bytes", res.verdict, res.out_len);
		} else {
			memcpy(tmp, ip, 20);
			tmp[10] = tmp[11] = 0;
			if (memcmp(o, H1, 6) || memcmp(o + 6, PMAC[0], 6))
				bad = snprintf(why, sizeof(why), "MACs not swapped");
			else if (*(__u32 *)(ip + 12) != ip4("10.0.2.254") || *(__u32 *)(ip + 16) != ip4("10.0.1.1"))
				bad = snprintf(why, sizeof(why), "addresses not swapped");
			else if (ip[8] != 64 || get16(ip + 10) != csum_of(tmp, 20, 0))
				bad = snprintf(why, sizeof(why), "TTL %u or IP checksum %04x wrong", ip[8],
					       get16(ip + 10));
			else if (ic[0] != 0 || ic[1] != 0 || fold(sum16(ic, 26, 0)) != 0xffff)
				bad = snprintf(why, sizeof(why), "ICMP type %u or checksum wrong", ic[0]);
			else if (memcmp(ic + 4, pkt + ETH_LEN + 24, 22))
				bad = snprintf(why, sizeof(why), "id, sequence or payload changed");
		}
		report(!bad, name, "%s", why);
	}
	snprintf(name, sizeof(name), "%s/local/icmp-echo-fragment-dropped", h);
	{
		struct ip4spec s = { PMAC[0], H1, "10.0.1.1", "10.0.1.254", 9, .echo = true, .frag = 0x2000 };

		len = build4(pkt, &s);
		bad = run(r, 0, pkt, len, &res) < 0 || check_drop(r, &res, why, sizeof(why));
		report(!bad, name, "%s", why);
	}
	snprintf(name, sizeof(name), "%s/local/icmpv6-echo-answered", h);
	{
		const __u8 *ip = res.out + ETH_LEN, *ic = ip + 40;
		__u32 plen;

		len = build6(pkt, PMAC[0], H1, "fd00:1::1", "fd00:1::fe", 7, I6_ECHO, NULL);
		plen = len - ETH_LEN - 40;
		bad = run(r, 0, pkt, len, &res) < 0 || res.verdict != v_redirect(r) || res.out_len != len;
		why[0] = 0;
		if (bad)
			snprintf(why, sizeof(why), "verdict %u", res.verdict);
		else if (memcmp(res.out, H1, 6) || memcmp(res.out + 6, PMAC[0], 6))
			bad = snprintf(why, sizeof(why), "MACs not swapped");
		else if (memcmp(ip + 8, pkt + ETH_LEN + 24, 16) || memcmp(ip + 24, pkt + ETH_LEN + 8, 16))
			bad = snprintf(why, sizeof(why), "addresses not swapped");
		else if (ic[0] != 129 || fold(sum16(ic, plen, pseudo6(ip, plen))) != 0xffff)
			bad = snprintf(why, sizeof(why), "type %u or ICMPv6 checksum wrong", ic[0]);
		else if (ip[7] != 64)
			bad = snprintf(why, sizeof(why), "hop limit %u", ip[7]);
		report(!bad, name, "%s", why);
	}
}

/* The token bucket: burst packets pass, the rest are counted as limited. */
static void limiter_cases(struct rt *r)
{
	struct ip4spec s = { PMAC[0], H1, "10.0.1.1", "10.0.2.1", 1 };
	__u32 idx = RT_REASON_ICMP - RT_REASON_FIRST, len;
	int ncpus = libbpf_num_possible_cpus(), passed = 0;
	struct rt_spcount *v = calloc(ncpus, sizeof(*v));
	__u64 sent0 = 0, lim0 = 0, sent1 = 0, lim1 = 0;
	char name[128];
	struct result res;
	__u8 pkt[128];

	if (!v)
		return;
	snprintf(name, sizeof(name), "%s/slowpath/token-bucket-burst-3", hook_name(r->hook));
	bpf_map_lookup_elem(r->spcnt, &idx, v);
	for (int i = 0; i < ncpus; i++) {
		sent0 += v[i].sent;
		lim0 += v[i].limited;
	}
	set_conf(r, 300, NS_PER_S, 3); /* 1/s, burst 3 */
	reset_buckets(r);
	len = build4(pkt, &s);
	for (int i = 0; i < 10; i++)
		if (run(r, 0, pkt, len, &res) == 0 && res.verdict == v_drop(r) && res.nrec == 1)
			passed++;
	bpf_map_lookup_elem(r->spcnt, &idx, v);
	for (int i = 0; i < ncpus; i++) {
		sent1 += v[i].sent;
		lim1 += v[i].limited;
	}
	report(passed == 3 && sent1 - sent0 == 3 && lim1 - lim0 == 7, name,
	       "%d of 10 reached the process, counters sent %+lld limited %+lld (expected 3, +3, +7)", passed,
	       (long long)(sent1 - sent0), (long long)(lim1 - lim0));
	snprintf(name, sizeof(name), "%s/slowpath/buckets-per-reason", hook_name(r->hook));
	{
		/* the ICMP bucket is empty; resolution has its own */
		struct ip4spec m = { PMAC[0], H1, "10.0.1.1", "10.0.2.78", 64 };

		len = build4(pkt, &m);
		report(run(r, 0, pkt, len, &res) == 0 && res.nrec == 1 && res.hdr.reason == RT_REASON_RESOLVE, name,
		       "an unresolved next hop did not reach the process while the ICMP bucket was empty");
	}
	set_conf(r, 300, 1000000, 100);
	free(v);
}

/*
 * The hop out of the router is one cube_redirect() site: its 32 tail calls
 * must each load a constant key into r3 right before "call 12" (DESIGN
 * 3.2; test_fastpath checks the other services the same way).
 */
static void check_tailcalls(const char *objdir, const char *file)
{
	static const char *tools[] = { "llvm-objdump", "llvm-objdump-14", "llvm-objdump-15", "llvm-objdump-16" };
	char cmd[1024], line[512], name[128];
	bool in_entry = false, seen[CB_MAX_PORTS] = { false };
	long key = -1;
	int calls = 0, bad = 0, distinct = 0;
	FILE *f = NULL;

	snprintf(name, sizeof(name), "disasm/%s/tail-call-keys-constant", file);
	for (size_t i = 0; i < ARRAY_SIZE(tools) && !f; i++) {
		snprintf(cmd, sizeof(cmd), "command -v %s >/dev/null 2>&1", tools[i]);
		if (system(cmd) != 0)
			continue;
		snprintf(cmd, sizeof(cmd), "%s -d --no-show-raw-insn '%s/%s' 2>&1", tools[i], objdir, file);
		f = popen(cmd, "r");
	}
	if (!f) {
		printf("ok - %s # SKIP no llvm-objdump\n", name);
		return;
	}
	while (fgets(line, sizeof(line), f)) {
		char *insn, *lt = strchr(line, '<');

		if (lt && strstr(line, ">:")) {
			if (strncmp(lt, "<LBB", 4))
				in_entry = !strncmp(lt, "<cube_entry>:", 13);
			key = -1;
			continue;
		}
		insn = strchr(line, ':');
		if (!in_entry || !insn || insn[1] != '\t')
			continue;
		insn += 2;
		if (!strncmp(insn, "call 12", 7) && (insn[7] == '\n' || insn[7] == '\0')) {
			calls++;
			if (key < 0)
				bad++;
			else if (key < CB_MAX_PORTS && !seen[key]) {
				seen[key] = true;
				distinct++;
			}
			key = -1;
		} else if (!strncmp(insn, "r3 = ", 5) || !strncmp(insn, "w3 = ", 5)) {
			char *end;

			key = strtol(insn + 5, &end, 0);
			if (end == insn + 5 || (*end != '\n' && *end != ' '))
				key = -1;
		} else if (!strncmp(insn, "r3 ", 3) || !strncmp(insn, "w3 ", 3) || !strncmp(insn, "call ", 5)) {
			key = -1;
		}
	}
	pclose(f);
	report(!bad && distinct == CB_MAX_PORTS && calls == CB_MAX_PORTS, name,
	       "%d tail calls, %d with a computed key, %d distinct constant keys (expected %d, 0, %d)", calls, bad,
	       distinct, CB_MAX_PORTS, CB_MAX_PORTS);
}

int main(void)
{
	static const enum cbrig_hook hooks[] = { CBRIG_TC, CBRIG_XDP };
	struct rt r;
	char err[256];
	int ret;

	setvbuf(stdout, NULL, _IOLBF, 0);
	memset(&r, 0, sizeof(r));
	ret = cbrig_init(&r.rig, "../../obj/bpf");
	if (ret < 0) {
		report(false, "rig/init", "cannot create the global maps: %s (root? bpf?)", strerror(-ret));
		return 1;
	}
	printf("# objects from %s\n", r.rig.objdir);
	check_tailcalls(r.rig.objdir, "router_tc.bpf.o");
	check_tailcalls(r.rig.objdir, "router_xdp.bpf.o");
	for (size_t i = 0; i < ARRAY_SIZE(hooks); i++) {
		char name[64];

		snprintf(name, sizeof(name), "%s/load/router", hook_name(hooks[i]));
		ret = rt_setup(&r, hooks[i], hooks[i] == CBRIG_TC ? 20 : 50, err, sizeof(err));
		report(ret == 0, name, "%s", err);
		if (ret < 0) {
			printf("# %s", cbrig_libbpf_log());
			rt_teardown(&r);
			continue;
		}
		table4(&r);
		table_csum(&r);
		table6(&r);
		local_cases(&r);
		limiter_cases(&r);
		rt_teardown(&r);
	}
	cbrig_fini(&r.rig);
	printf("# %d failed\n", failed);
	return failed ? 1 : 0;
}
