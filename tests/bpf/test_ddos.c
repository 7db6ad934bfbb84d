/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_ddos - packet tables for the ddosmitigator fast path (TC and XDP
 * builds of build/obj/bpf/ddosmitigator_*.bpf.o), loaded and wired by
 * tests/bpf/cbrig.c, the cube's two ports linked to a netdev (a pass is a
 * redirect out of port 0).
 *
 *   match/    IPv4 and IPv6 sources and destinations: exact entries,
 *             prefixes, the longest prefix counted; VLAN tags; misses pass
 *   pass/     egress, non-IP, headers cut short: passed and counted
 *   counts/   drop-pkts per entry and the dropped total, exact over 1000 runs
 *   spec/     dm_use_src / dm_use_dst off: that lookup is gone (verdicts, and
 *             a shorter program)
 *
 * Output: one "ok - name" / "not ok - name: why" line per check.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "cbrig.h"
#include "../../cube-services/ddosmitigator/ddosmitigator_shared.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define CUBE_ID	      7
#define PORT_INNER    0
#define PORT_OUTER    1 /* in on it: ingress */

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

struct dm {
	struct cbrig *rig;
	enum cbrig_hook hook;
	struct bpf_object *obj;
	int entry, src4, src6, dst4, dst6, src_cnt, dst_cnt, stats;
};

/* The entries of the tables, with their slots. */
struct entry {
	enum dm_list_id list;
	const char *addr;
	int len;
	__u32 slot;
};

static const struct entry entries[] = {
	{ DM_SRC, "10.0.0.66", 32, 0 },	   { DM_SRC, "10.1.0.0", 16, 1 },	 { DM_SRC, "10.1.2.0", 24, 2 },
	{ DM_DST, "192.0.2.7", 32, 0 },	   { DM_DST, "198.51.100.0", 24, 1 },	 { DM_SRC, "2001:db8::66", 128, 3 },
	{ DM_SRC, "2001:db8:1::", 48, 4 }, { DM_DST, "2001:db8:ff::7", 128, 2 },
};

static int put_entry(struct dm *d, const struct entry *e)
{
	struct dm_entry v = { .slot = e->slot };

	if (strchr(e->addr, ':')) {
		struct dm_key6 k = { .prefixlen = e->len };

		inet_pton(AF_INET6, e->addr, k.addr);
		return bpf_map_update_elem(e->list == DM_SRC ? d->src6 : d->dst6, &k, &v, BPF_ANY);
	}
	struct dm_key4 k = { .prefixlen = e->len };

	inet_pton(AF_INET, e->addr, k.addr);
	return bpf_map_update_elem(e->list == DM_SRC ? d->src4 : d->dst4, &k, &v, BPF_ANY);
}

static int dm_load(struct dm *d, enum cbrig_hook hook, __u32 use_src, __u32 use_dst, char *err, size_t errlen)
{
	const struct cbrig_var vars[] = { { "cb_cube_id", CUBE_ID },
					  { "dm_use_src", use_src },
					  { "dm_use_dst", use_dst } };
	const char *file = hook == CBRIG_TC ? "ddosmitigator_tc.bpf.o" : "ddosmitigator_xdp.bpf.o";
	int r;

	d->hook = hook;
	r = cbrig_load(d->rig, file, vars, ARRAY_SIZE(vars), &d->obj, err, errlen);
	if (r < 0)
		return r;
	d->entry = cbrig_prog_fd(d->obj, "cube_entry");
	d->src4 = cbrig_map_fd(d->obj, "dm_src4");
	d->src6 = cbrig_map_fd(d->obj, "dm_src6");
	d->dst4 = cbrig_map_fd(d->obj, "dm_dst4");
	d->dst6 = cbrig_map_fd(d->obj, "dm_dst6");
	d->src_cnt = cbrig_map_fd(d->obj, "dm_src_cnt");
	d->dst_cnt = cbrig_map_fd(d->obj, "dm_dst_cnt");
	d->stats = cbrig_map_fd(d->obj, "dm_stats");
	for (size_t i = 0; i < ARRAY_SIZE(entries); i++)
		if (put_entry(d, &entries[i]) < 0) {
			snprintf(err, errlen, "cannot write %s/%d: %s", entries[i].addr, entries[i].len,
				 strerror(errno));
			return -errno;
		}
	cbrig_set_link(d->rig, CUBE_ID, PORT_INNER, CB_LINK_NETDEV, 1, 0, 0);
	cbrig_set_link(d->rig, CUBE_ID, PORT_OUTER, CB_LINK_NETDEV, 1, 0, 0);
	return 0;
}

/* ---- frames ---------------------------------------------------------------- */

static const __u8 MAC_A[6] = { 0x02, 0, 0, 0, 0, 0x0a }, MAC_B[6] = { 0x02, 0, 0, 0, 0, 0x0b };

/* Ethernet (with a VLAN tag when vlan), then IPv4 or IPv6 src -> dst, UDP. */
static __u32 frame(__u8 *buf, const char *src, const char *dst, bool vlan)
{
	bool v6 = strchr(src, ':') != NULL;
	__u32 off = 12, l3;

	memset(buf, 0, 128);
	memcpy(buf, MAC_B, 6);
	memcpy(buf + 6, MAC_A, 6);
	if (vlan) {
		buf[off] = 0x81, buf[off + 1] = 0x00, buf[off + 2] = 0, buf[off + 3] = 10;
		off += 4;
	}
	buf[off] = v6 ? 0x86 : 0x08, buf[off + 1] = v6 ? 0xdd : 0x00;
	l3 = off + 2;
	if (v6) {
		buf[l3] = 0x60;
		buf[l3 + 5] = 8;  /* payload length */
		buf[l3 + 6] = 17; /* UDP */
		buf[l3 + 7] = 64;
		inet_pton(AF_INET6, src, buf + l3 + 8);
		inet_pton(AF_INET6, dst, buf + l3 + 24);
		return l3 + 40 + 8;
	}
	buf[l3] = 0x45;
	buf[l3 + 3] = 28; /* total length */
	buf[l3 + 8] = 64;
	buf[l3 + 9] = 17;
	inet_pton(AF_INET, src, buf + l3 + 12);
	inet_pton(AF_INET, dst, buf + l3 + 16);
	return l3 + 20 + 8 < 60 ? 60 : l3 + 28;
}

static __u32 v_pass(struct dm *d)
{
	return d->hook == CBRIG_TC ? CBRIG_TC_REDIRECT : CBRIG_XDP_REDIRECT;
}

static __u32 v_drop(struct dm *d)
{
	return d->hook == CBRIG_TC ? CBRIG_TC_SHOT : CBRIG_XDP_DROP;
}

static int run(struct dm *d, __u32 in_port, const void *pkt, __u32 len, __u32 repeat, __u32 *verdict)
{
	__u8 out[256];
	struct cbrig_run rr = { .hook = d->hook,
				.in_port = in_port,
				.pkt = pkt,
				.len = len,
				.out = out,
				.out_size = sizeof(out),
				.repeat = repeat };
	int r = cbrig_run(d->rig, d->entry, &rr);

	*verdict = rr.retval;
	return r;
}

static __u64 counter(struct dm *d, int fd, __u32 key)
{
	__u64 v = 0;

	cbrig_percpu_u64(d->rig, fd, key, &v);
	return v;
}

/* ---- the tables -------------------------------------------------------------- */

struct pkt_case {
	const char *name;
	const char *src, *dst;
	bool vlan, egress;
	bool drop;
	enum dm_list_id list; /* when drop: the entry's list and slot */
	__u32 slot;
};

static const struct pkt_case cases[] = {
	{ "v4 src exact", "10.0.0.66", "10.9.9.9", false, false, true, DM_SRC, 0 },
	{ "v4 src in a /16", "10.1.200.1", "10.9.9.9", false, false, true, DM_SRC, 1 },
	{ "v4 src in the /24 inside the /16 (longest)", "10.1.2.3", "10.9.9.9", false, false, true, DM_SRC, 2 },
	{ "v4 src next to the exact entry", "10.0.0.67", "10.9.9.9", false, false, false },
	{ "v4 dst exact", "10.9.9.9", "192.0.2.7", false, false, true, DM_DST, 0 },
	{ "v4 dst in a /24", "10.9.9.9", "198.51.100.200", false, false, true, DM_DST, 1 },
	{ "v4 neither", "10.2.0.1", "192.0.2.8", false, false, false },
	{ "v4 src behind a VLAN tag", "10.0.0.66", "10.9.9.9", true, false, true, DM_SRC, 0 },
	{ "v4 src exact, egress", "10.0.0.66", "10.9.9.9", false, true, false },
	{ "v6 src exact", "2001:db8::66", "2001:db8:9::9", false, false, true, DM_SRC, 3 },
	{ "v6 src in a /48", "2001:db8:1:abcd::1", "2001:db8:9::9", false, false, true, DM_SRC, 4 },
	{ "v6 src next to the exact entry", "2001:db8::67", "2001:db8:9::9", false, false, false },
	{ "v6 dst exact", "2001:db8:9::9", "2001:db8:ff::7", false, false, true, DM_DST, 2 },
	{ "v6 dst behind a VLAN tag", "2001:db8:9::9", "2001:db8:ff::7", true, false, true, DM_DST, 2 },
	{ "v6 neither", "2001:db8:2::1", "2001:db8:ff::8", false, false, false },
	{ "v6 src exact, egress", "2001:db8::66", "2001:db8:9::9", false, true, false },
};

static void table(struct dm *d)
{
	const char *h = d->hook == CBRIG_TC ? "tc" : "xdp";
	char name[160];
	__u8 buf[128];

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		const struct pkt_case *t = &cases[i];
		int cnt = t->drop ? (t->list == DM_SRC ? d->src_cnt : d->dst_cnt) : -1;
		__u64 before = cnt >= 0 ? counter(d, cnt, t->slot) : 0;
		__u64 dropped = counter(d, d->stats, DM_STAT_DROPPED);
		__u32 len = frame(buf, t->src, t->dst, t->vlan), v;
		int r = run(d, t->egress ? PORT_INNER : PORT_OUTER, buf, len, 1, &v);
		__u32 want = t->drop ? v_drop(d) : v_pass(d);

		snprintf(name, sizeof(name), "%s/match/%s: %s", h, t->name, t->drop ? "dropped" : "passed");
		report(r == 0 && v == want, name, "run %d, verdict %u, want %u", r, v, want);
		if (t->drop) {
			snprintf(name, sizeof(name), "%s/match/%s: counted on its entry and in the total", h, t->name);
			report(counter(d, cnt, t->slot) == before + 1 &&
				       counter(d, d->stats, DM_STAT_DROPPED) == dropped + 1,
			       name, "entry %llu -> %llu, dropped %llu -> %llu", (unsigned long long)before,
			       (unsigned long long)counter(d, cnt, t->slot), (unsigned long long)dropped,
			       (unsigned long long)counter(d, d->stats, DM_STAT_DROPPED));
		}
	}
}

static void passes(struct dm *d)
{
	const char *h = d->hook == CBRIG_TC ? "tc" : "xdp";
	struct {
		const char *name;
		__u32 len;
		__u16 ethertype; /* 0: a VLAN tag cut short */
		__u32 stat;
	} t[] = {
		{ "ARP", 60, 0x0806, DM_STAT_NOT_IP },
		{ "IPv4 header cut short (14 + 19 bytes)", 33, 0x0800, DM_STAT_SHORT },
		{ "IPv6 header cut short (14 + 39 bytes)", 53, 0x86dd, DM_STAT_SHORT },
		{ "VLAN tag cut short (14 + 2 bytes)", 16, 0, DM_STAT_SHORT },
	};
	char name[160];
	__u8 buf[128];

	for (size_t i = 0; i < ARRAY_SIZE(t); i++) {
		__u64 before = counter(d, d->stats, t[i].stat), dropped = counter(d, d->stats, DM_STAT_DROPPED);
		__u32 v;
		int r;

		/* source 10.0.0.66 where an IP header would have it: blacklisted */
		frame(buf, "10.0.0.66", "192.0.2.7", false);
		if (t[i].ethertype) {
			buf[12] = t[i].ethertype >> 8;
			buf[13] = t[i].ethertype & 0xff;
		} else {
			buf[12] = 0x81, buf[13] = 0x00;
		}
		r = run(d, PORT_OUTER, buf, t[i].len, 1, &v);
		snprintf(name, sizeof(name), "%s/pass/%s: passed and counted", h, t[i].name);
		if (d->hook == CBRIG_TC && r == -EINVAL && t[i].stat == DM_STAT_SHORT && t[i].ethertype) {
			/* an skb's test run pulls the IP header before the program runs */
			printf("ok - %s # SKIP the kernel refuses to build an skb with it\n", name);
			continue;
		}
		report(r == 0 && v == v_pass(d) && counter(d, d->stats, t[i].stat) == before + 1 &&
			       counter(d, d->stats, DM_STAT_DROPPED) == dropped,
		       name, "run %d verdict %u (want %u), counter %llu -> %llu", r, v, v_pass(d),
		       (unsigned long long)before, (unsigned long long)counter(d, d->stats, t[i].stat));
	}
}

static void counts(struct dm *d)
{
	const char *h = d->hook == CBRIG_TC ? "tc" : "xdp";
	__u64 e = counter(d, d->src_cnt, 1), tot = counter(d, d->stats, DM_STAT_DROPPED);
	char name[160];
	__u8 buf[128];
	__u32 len = frame(buf, "10.1.77.1", "10.9.9.9", false), v;
	int r = run(d, PORT_OUTER, buf, len, 1000, &v);

	snprintf(name, sizeof(name), "%s/counts/1000 runs of a /16 source: drop-pkts +1000, total +1000", h);
	report(r == 0 && v == v_drop(d) && counter(d, d->src_cnt, 1) == e + 1000 &&
		       counter(d, d->stats, DM_STAT_DROPPED) == tot + 1000,
	       name, "run %d verdict %u, entry %llu -> %llu, total %llu -> %llu", r, v, (unsigned long long)e,
	       (unsigned long long)counter(d, d->src_cnt, 1), (unsigned long long)tot,
	       (unsigned long long)counter(d, d->stats, DM_STAT_DROPPED));
}

static __u32 prog_insns(int fd)
{
	struct bpf_prog_info info = { 0 };
	__u32 len = sizeof(info);

	if (bpf_obj_get_info_by_fd(fd, &info, &len) < 0)
		return 0;
	return info.xlated_prog_len / 8;
}

static void spec(struct cbrig *rig, enum cbrig_hook hook, __u32 full_insns)
{
	const char *h = hook == CBRIG_TC ? "tc" : "xdp";
	static const __u32 combos[][2] = { { 0, 1 }, { 1, 0 }, { 0, 0 } };
	char name[200], err[512];
	__u8 buf[128];

	for (size_t i = 0; i < ARRAY_SIZE(combos); i++) {
		struct dm d = { .rig = rig };
		__u32 use_src = combos[i][0], use_dst = combos[i][1], v, len, insns;
		int r = dm_load(&d, hook, use_src, use_dst, err, sizeof(err));

		snprintf(name, sizeof(name), "%s/spec/src lookup %s, dst lookup %s: loads", h, use_src ? "on" : "off",
			 use_dst ? "on" : "off");
		report(r == 0, name, "%s", err);
		if (r < 0)
			continue;
		insns = prog_insns(d.entry);
		snprintf(name, sizeof(name), "%s/spec/src %s dst %s: shorter program than both (%u < %u insns)", h,
			 use_src ? "on" : "off", use_dst ? "on" : "off", insns, full_insns);
		report(insns && insns < full_insns, name, "%u instructions, both lookups %u", insns, full_insns);
		len = frame(buf, "10.0.0.66", "10.9.9.9", false);
		r = run(&d, PORT_OUTER, buf, len, 1, &v);
		snprintf(name, sizeof(name), "%s/spec/src %s dst %s: a blacklisted v4 source %s", h,
			 use_src ? "on" : "off", use_dst ? "on" : "off", use_src ? "dropped" : "passes");
		report(r == 0 && v == (use_src ? v_drop(&d) : v_pass(&d)), name, "verdict %u", v);
		len = frame(buf, "2001:db8:9::9", "2001:db8:ff::7", false);
		r = run(&d, PORT_OUTER, buf, len, 1, &v);
		snprintf(name, sizeof(name), "%s/spec/src %s dst %s: a blacklisted v6 destination %s", h,
			 use_src ? "on" : "off", use_dst ? "on" : "off", use_dst ? "dropped" : "passes");
		report(r == 0 && v == (use_dst ? v_drop(&d) : v_pass(&d)), name, "verdict %u", v);
		bpf_object__close(d.obj);
	}
}

int main(void)
{
	static const enum cbrig_hook hooks[] = { CBRIG_TC, CBRIG_XDP };
	struct cbrig rig;
	char err[512];
	int r;

	r = cbrig_init(&rig, "../../obj/bpf");
	if (r < 0) {
		report(false, "rig/init", "cannot create the global maps: %s (root? bpf?)", strerror(-r));
		return 1;
	}
	printf("# objects from %s\n", rig.objdir);
	for (size_t i = 0; i < ARRAY_SIZE(hooks); i++) {
		struct dm d = { .rig = &rig };

		r = dm_load(&d, hooks[i], 1, 1, err, sizeof(err));
		report(r == 0, hooks[i] == CBRIG_TC ? "tc/load" : "xdp/load", "%s", err);
		if (r < 0)
			continue;
		table(&d);
		passes(&d);
		counts(&d);
		spec(&rig, hooks[i], prog_insns(d.entry));
		bpf_object__close(d.obj);
	}
	cbrig_fini(&rig);
	return failed ? 1 : 0;
}
