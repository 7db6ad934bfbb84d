// SPDX-License-Identifier: Apache-2.0
/*
 * test_ct - packet tables for connection tracking (cubebus/ct.bpf.h) through
 * tests/bpf/ct_probe.bpf.c with bpf_prog_test_run_opts, in TC and XDP, IPv4
 * and IPv6; and the user-space walk and sweep (cube-services/lib/ct.c) on
 * the maps the probe filled. The probe takes "now" from its "in" map, so
 * expiry is tested without sleeping.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>
#include <net/if.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "ct.h"
#include "ct_probe.h"

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

/* ---- the probe's maps, as ct_probe.bpf.c declares them --------------------- */

#define SEC_NS 1000000000ull
#define T0     (1000 * SEC_NS) /* the tests' clock starts at 1000 s */

enum { ST_NEW, ST_EST, ST_REL, ST_INV };
static const char *st_name[] = { "NEW", "ESTABLISHED", "RELATED", "INVALID" };
/* what probe_ct returns for a frame that is not trackable */
#define R_UNTRACKED 11
#define R_FRAG	    12
#define R_SHORT	    13
#define R_BAD	    14

struct env {
	struct bpf_object *obj;
	int prog, in, out, ct, timeouts, stats;
	int hook; /* 0 tc, 1 xdp */
	__u64 now;
};

static const char *hook_name[] = { "tc", "xdp" };

static int objdir(char *out, size_t len)
{
	const char *env = getenv("CUBEBUS_BPF_OBJ_DIR");
	char exe[512];
	ssize_t n;
	char *slash;

	if (env) {
		snprintf(out, len, "%s", env);
		return 0;
	}
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n < 0)
		return -errno;
	exe[n] = 0;
	slash = strrchr(exe, '/');
	if (slash)
		*slash = 0;
	snprintf(out, len, "%s/../../obj/bpf", exe);
	return 0;
}

static int silent(enum libbpf_print_level l, const char *fmt, va_list ap)
{
	return l == LIBBPF_WARN ? vfprintf(stderr, fmt, ap) : 0;
}

/* Loads the probe of hook h with a session table of max entries. */
static int env_open(struct env *e, int h, __u32 max)
{
	static const char *files[] = { "ct_probe_tc.bpf.o", "ct_probe_xdp.bpf.o" };
	char dir[512], path[640];
	struct bpf_map *m;
	int r;

	memset(e, 0, sizeof(*e));
	e->hook = h;
	e->now = T0;
	if ((r = objdir(dir, sizeof(dir))) < 0)
		return r;
	snprintf(path, sizeof(path), "%s/%s", dir, files[h]);
	e->obj = bpf_object__open_file(path, NULL);
	if (!e->obj)
		return -errno;
	m = bpf_object__find_map_by_name(e->obj, "ct");
	if (!m || bpf_map__set_max_entries(m, max) < 0)
		return -ENOENT;
	if ((r = bpf_object__load(e->obj)) < 0)
		return r;
	e->prog = bpf_program__fd(bpf_object__find_program_by_name(e->obj, "probe_ct"));
	e->in = bpf_object__find_map_fd_by_name(e->obj, "in");
	e->out = bpf_object__find_map_fd_by_name(e->obj, "out");
	e->ct = bpf_object__find_map_fd_by_name(e->obj, "ct");
	e->timeouts = bpf_object__find_map_fd_by_name(e->obj, "ct_timeouts");
	e->stats = bpf_object__find_map_fd_by_name(e->obj, "ct_stats");
	if (e->prog < 0 || e->in < 0 || e->out < 0 || e->ct < 0 || e->timeouts < 0 || e->stats < 0)
		return -ENOENT;
	return 0;
}

static void env_close(struct env *e)
{
	if (e->obj)
		bpf_object__close(e->obj);
	e->obj = NULL;
}

/* Empties the session table between cases. */
static void ct_clear(struct env *e)
{
	struct cb_ct_key k;

	while (bpf_map_get_next_key(e->ct, NULL, &k) == 0)
		bpf_map_delete_elem(e->ct, &k);
}

static int ct_count(struct env *e)
{
	struct cb_ct_key k, n;
	int c = 0, have = bpf_map_get_next_key(e->ct, NULL, &k) == 0;

	while (have) {
		c++;
		have = bpf_map_get_next_key(e->ct, &k, &n) == 0;
		k = n;
	}
	return c;
}

/* ---- frames --------------------------------------------------------------------- */

struct frame {
	__u8 b[512];
	__u32 len;
};

static void put(struct frame *f, const void *p, __u32 n)
{
	memcpy(f->b + f->len, p, n);
	f->len += n;
}

static void put8(struct frame *f, __u8 v)
{
	put(f, &v, 1);
}

static void put16(struct frame *f, __u16 v)
{
	v = htons(v);
	put(f, &v, 2);
}

static void put32(struct frame *f, __u32 v)
{
	v = htonl(v);
	put(f, &v, 4);
}

static void zeros(struct frame *f, __u32 n)
{
	memset(f->b + f->len, 0, n);
	f->len += n;
}

/* A host: an IPv4 address (host order) or an IPv6 one. */
struct host {
	__u32 v4;
	__u8 v6[16];
};

static struct host host(int n)
{
	struct host h = { .v4 = 0x0a000000u | (__u32)n };

	h.v6[0] = 0x20;
	h.v6[1] = 0x01;
	h.v6[2] = 0x0d;
	h.v6[3] = 0xb8;
	h.v6[15] = (__u8)n;
	return h;
}

static void eth(struct frame *f, __u16 proto)
{
	static const __u8 mac[12] = { 2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1 };

	f->len = 0;
	put(f, mac, 12);
	put16(f, proto);
}

/* IPv4 header; l4len: bytes after it, optlen: option bytes (NOPs). */
static void ip4(struct frame *f, const struct host *s, const struct host *d, __u8 proto, __u32 l4len, __u16 frag,
		__u32 optlen)
{
	put8(f, 0x40 | (__u8)((20 + optlen) / 4));
	put8(f, 0);
	put16(f, (__u16)(20 + optlen + l4len));
	put16(f, 1);
	put16(f, frag);
	put8(f, 64);
	put8(f, proto);
	put16(f, 0);
	put32(f, s->v4);
	put32(f, d->v4);
	memset(f->b + f->len, 1, optlen);
	f->len += optlen;
}

static void ip6(struct frame *f, const struct host *s, const struct host *d, __u8 nh, __u32 plen)
{
	put32(f, 0x60000000u);
	put16(f, (__u16)plen);
	put8(f, nh);
	put8(f, 64);
	put(f, s->v6, 16);
	put(f, d->v6, 16);
}

static void iphdr(struct frame *f, int v6, const struct host *s, const struct host *d, __u8 proto, __u32 l4len)
{
	if (v6)
		ip6(f, s, d, proto, l4len);
	else
		ip4(f, s, d, proto, l4len, 0, 0);
}

static void tcphdr(struct frame *f, __u16 sp, __u16 dp, __u32 seq, __u32 ack, __u8 flags, __u32 len)
{
	put16(f, sp);
	put16(f, dp);
	put32(f, seq);
	put32(f, ack);
	put8(f, 5 << 4);
	put8(f, flags);
	put16(f, 65535);
	put16(f, 0);
	put16(f, 0);
	memset(f->b + f->len, 'd', len);
	f->len += len;
}

static void udphdr(struct frame *f, __u16 sp, __u16 dp, __u32 len)
{
	put16(f, sp);
	put16(f, dp);
	put16(f, (__u16)(8 + len));
	put16(f, 0);
	memset(f->b + f->len, 'u', len);
	f->len += len;
}

static __u8 icmp_proto(int v6)
{
	return v6 ? IPPROTO_ICMPV6 : IPPROTO_ICMP;
}

static void icmphdr(struct frame *f, __u8 type, __u8 code, __u16 id, __u16 seq)
{
	put8(f, type);
	put8(f, code);
	put16(f, 0);
	put16(f, id);
	put16(f, seq);
}

#define FIN 0x01
#define SYN 0x02
#define RST 0x04
#define PSH 0x08
#define ACK 0x10

/* A flow between client c and server s. */
struct flow {
	int v6;
	struct host c, s;
	__u16 cport, sport;
};

static struct flow flow(int v6, int c, int s, __u16 cport, __u16 sport)
{
	struct flow fl = { .v6 = v6, .c = host(c), .s = host(s), .cport = cport, .sport = sport };

	return fl;
}

/* dir 0: client to server. */
static void tcp_frame(struct frame *f, const struct flow *fl, int dir, __u8 flags, __u32 seq, __u32 ack, __u32 len)
{
	eth(f, fl->v6 ? ETH_P_IPV6 : ETH_P_IP);
	iphdr(f, fl->v6, dir ? &fl->s : &fl->c, dir ? &fl->c : &fl->s, IPPROTO_TCP, 20 + len);
	tcphdr(f, dir ? fl->sport : fl->cport, dir ? fl->cport : fl->sport, seq, ack, flags, len);
}

static void udp_frame(struct frame *f, const struct flow *fl, int dir, __u32 len)
{
	eth(f, fl->v6 ? ETH_P_IPV6 : ETH_P_IP);
	iphdr(f, fl->v6, dir ? &fl->s : &fl->c, dir ? &fl->c : &fl->s, IPPROTO_UDP, 8 + len);
	udphdr(f, dir ? fl->sport : fl->cport, dir ? fl->cport : fl->sport, len);
}

/* echo request (dir 0) or reply (dir 1) with the flow's cport as the id */
static void echo_frame(struct frame *f, const struct flow *fl, int dir, int reply)
{
	__u8 t = fl->v6 ? (reply ? 129 : 128) : (reply ? 0 : 8);

	eth(f, fl->v6 ? ETH_P_IPV6 : ETH_P_IP);
	iphdr(f, fl->v6, dir ? &fl->s : &fl->c, dir ? &fl->c : &fl->s, icmp_proto(fl->v6), 8 + 16);
	icmphdr(f, t, 0, fl->cport, 1);
	zeros(f, 16);
}

/*
 * An ICMP error from router r to `to`, quoting the first qlen bytes of the
 * L3 packet in q (a frame: its Ethernet header is skipped).
 */
static void icmp_error_frame(struct frame *f, int v6, const struct host *r, const struct host *to, __u8 type, __u8 code,
			     const struct frame *q, __u32 qlen)
{
	if (qlen > q->len - 14)
		qlen = q->len - 14;
	eth(f, v6 ? ETH_P_IPV6 : ETH_P_IP);
	iphdr(f, v6, r, to, icmp_proto(v6), 8 + qlen);
	icmphdr(f, type, code, 0, type == 2 && v6 ? 1280 : 0);
	put(f, q->b + 14, qlen);
}

/* ---- running ------------------------------------------------------------------ */

/* ---- running ------------------------------------------------------------------ */

/* Runs f through the probe at e->now; returns probe_ct's return value (the
 * state, or 10 + the parse result) or a negative errno; *o what it saw. */
static int run(struct env *e, const struct frame *f, int commit, struct probe_out *o)
{
	struct probe_in in = { .now = e->now, .commit = (__u32)commit };
	__u8 data[sizeof(f->b)];
	__u32 k = 0;
	int r;
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = data, .data_size_in = f->len, .repeat = 1);

	memcpy(data, f->b, f->len);
	if (bpf_map_update_elem(e->in, &k, &in, BPF_ANY) < 0)
		return -errno;
	r = bpf_prog_test_run_opts(e->prog, &opts);
	if (r < 0)
		return r;
	if (bpf_map_lookup_elem(e->out, &k, o) < 0)
		return -errno;
	return (int)opts.retval;
}

static const char *ret_name(int r)
{
	static char buf[32];

	if (r >= 0 && r <= 3)
		return st_name[r];
	switch (r) {
	case R_UNTRACKED: return "untracked";
	case R_FRAG: return "fragment";
	case R_SHORT: return "short";
	case R_BAD: return "bad";
	}
	snprintf(buf, sizeof(buf), "%d", r);
	return buf;
}

/* The normalised key of a tuple, computed here as the module computes it. */
static void mkkey(int v6, const struct host *s, const struct host *d, __u8 proto, __u16 sp, __u16 dp,
		  struct cb_ct_key *k)
{
	__u32 a[4] = { 0 }, b[4] = { 0 };
	__u16 pa = htons(sp), pb = htons(dp);
	int c = 0;

	if (v6) {
		memcpy(a, s->v6, 16);
		memcpy(b, d->v6, 16);
	} else {
		a[0] = htonl(s->v4);
		b[0] = htonl(d->v4);
	}
	for (int i = 0; i < 4 && !c; i++)
		c = a[i] == b[i] ? 0 : a[i] < b[i] ? -1 : 1;
	memset(k, 0, sizeof(*k));
	if (c > 0 || (c == 0 && pa > pb)) {
		memcpy(k->addr_a, b, 16);
		memcpy(k->addr_b, a, 16);
		k->port_a = pb;
		k->port_b = pa;
	} else {
		memcpy(k->addr_a, a, 16);
		memcpy(k->addr_b, b, 16);
		k->port_a = pa;
		k->port_b = pb;
	}
	k->l4proto = proto;
	k->family = v6 ? 6 : 4;
}

/* The flow's entry (ports: the flow's; ICMP: cport as the id both ways). */
static int entry_of(struct env *e, const struct flow *fl, __u8 proto, struct cb_ct_entry *out)
{
	struct cb_ct_key k;
	int icmp = proto == IPPROTO_ICMP || proto == IPPROTO_ICMPV6,
	    gen = proto != IPPROTO_TCP && proto != IPPROTO_UDP && !icmp;

	mkkey(fl->v6, &fl->c, &fl->s, proto, gen ? 0 : fl->cport, gen ? 0 : icmp ? fl->cport : fl->sport, &k);
	return bpf_map_lookup_elem(e->ct, &k, out) < 0 ? -errno : 0;
}

/* l4 0: the entry must be absent or expired */
static int entry_state(struct env *e, const struct flow *fl, __u8 proto)
{
	struct cb_ct_entry en;

	if (entry_of(e, fl, proto, &en) < 0 || en.expires <= e->now)
		return 0;
	return en.l4state;
}

static const char *fam(const struct flow *fl)
{
	return fl->v6 ? "v6" : "v4";
}

/*
 * One packet: runs f with commit, checks the return and, when l4 >= 0,
 * the flow's entry state after it (0: absent or expired). An INVALID or
 * RELATED packet must leave the entry byte for byte as it was.
 */
static void step(struct env *e, const char *name, const struct flow *fl, __u8 proto, const struct frame *f, int want,
		 int l4)
{
	struct cb_ct_entry before, after;
	int had = entry_of(e, fl, proto, &before) == 0, has, st;
	struct probe_out o;
	int r = run(e, f, 1, &o);
	char full[200];

	snprintf(full, sizeof(full), "%s/%s/%s", hook_name[e->hook], fam(fl), name);
	if (r < 0) {
		report(0, full, "test run: %s", strerror(-r));
		return;
	}
	has = entry_of(e, fl, proto, &after) == 0;
	st = entry_state(e, fl, proto);
	if (r != want) {
		report(0, full, "state %s, want %s", ret_name(r), ret_name(want));
		return;
	}
	if (l4 >= 0 && st != l4) {
		report(0, full, "entry %s, want %s", l4 ? cb_ct_l4state_name(st) : "(none)",
		       l4 ? cb_ct_l4state_name(l4) : "(none)");
		return;
	}
	if ((want == ST_INV || want == ST_REL || want >= 10) &&
	    (had != has || (had && memcmp(&before, &after, sizeof(before))))) {
		report(0, full, "a %s packet changed the entry", ret_name(want));
		return;
	}
	if (want <= ST_EST && o.commit != 0) {
		report(0, full, "commit: %d", o.commit);
		return;
	}
	report(1, full, NULL);
}

struct sess_find {
	const char *src, *dst, *proto, *state;
	__u16 sport, dport;
	__u32 eta;
	int found, n;
};

static int find_cb(const struct cb_ct_session *s, void *arg)
{
	struct sess_find *q = arg;

	q->n++;
	if (!strcmp(s->src, q->src) && !strcmp(s->dst, q->dst) && !strcmp(s->l4proto, q->proto) &&
	    !strcmp(s->state, q->state) && s->sport == q->sport && s->dport == q->dport && s->eta == q->eta)
		q->found++;
	return 0;
}

static void host_text(int v6, const struct host *h, char *out, size_t len)
{
	__u32 a = htonl(h->v4);

	inet_ntop(v6 ? AF_INET6 : AF_INET, v6 ? (const void *)h->v6 : (const void *)&a, out, len);
}

/* The session table shows the flow with the originator as src. */
static void check_session(struct env *e, const char *name, const struct flow *fl, const char *proto, const char *state,
			  __u16 sport, __u16 dport, __u32 eta, int want_n)
{
	char src[64], dst[64], full[160];
	struct sess_find q = { .proto = proto, .state = state, .sport = sport, .dport = dport, .eta = eta };
	int r;

	host_text(fl->v6, &fl->c, src, sizeof(src));
	host_text(fl->v6, &fl->s, dst, sizeof(dst));
	q.src = src;
	q.dst = dst;
	r = cb_ct_foreach(e->ct, e->now, find_cb, &q);
	snprintf(full, sizeof(full), "%s/%s/%s", hook_name[e->hook], fam(fl), name);
	report(r == 0 && q.found == 1 && q.n == want_n, full,
	       "foreach %d: %d sessions, %d match %s %s:%u -> %s:%u %s eta %u", r, q.n, q.found, proto, src, sport, dst,
	       dport, state, eta);
}

/* ---- TCP tables --------------------------------------------------------------- */

/*
 * A step of a TCP table. seq counts from the sender's ISN, ack from the
 * other side's; dt advances the clock (seconds) before the packet.
 */
struct tstep {
	const char *what;
	int dir;
	__u8 flags;
	__u32 seq, ack, len;
	int want; /* ST_* */
	int l4;	  /* the entry's state after it; 0: none (or expired); -1: not checked */
	__u32 dt;
};

#define HS_STEPS                                                                   \
	{ "syn", 0, SYN, 0, 0, 0, ST_NEW, CB_CT_S_SYN_SENT, 0 },                   \
		{ "syn-ack", 1, SYN | ACK, 0, 1, 0, ST_EST, CB_CT_S_SYN_RECV, 0 }, \
	{                                                                          \
		"ack", 0, ACK, 1, 1, 0, ST_EST, CB_CT_S_ESTABLISHED, 0             \
	}

static const struct tstep t_close[] = {
	{ "syn", 0, SYN, 0, 0, 0, ST_NEW, CB_CT_S_SYN_SENT, 0 },
	{ "syn-retransmitted", 0, SYN, 0, 0, 0, ST_NEW, CB_CT_S_SYN_SENT, 1 },
	{ "ack-before-syn-ack", 0, ACK, 1, 1, 0, ST_INV, CB_CT_S_SYN_SENT, 0 },
	{ "syn-ack-acking-the-isn", 1, SYN | ACK, 0, 0, 0, ST_INV, CB_CT_S_SYN_SENT, 0 },
	{ "syn-ack-acking-isn+2", 1, SYN | ACK, 0, 2, 0, ST_INV, CB_CT_S_SYN_SENT, 0 },
	{ "syn-ack-from-the-client", 0, SYN | ACK, 0, 1, 0, ST_INV, CB_CT_S_SYN_SENT, 0 },
	{ "syn-ack", 1, SYN | ACK, 0, 1, 0, ST_EST, CB_CT_S_SYN_RECV, 0 },
	{ "syn-ack-retransmitted", 1, SYN | ACK, 0, 1, 0, ST_EST, CB_CT_S_SYN_RECV, 0 },
	{ "syn-retransmitted-in-syn-recv", 0, SYN, 0, 0, 0, ST_EST, CB_CT_S_SYN_RECV, 0 },
	{ "ack-of-the-wrong-seq", 0, ACK, 1, 0, 0, ST_INV, CB_CT_S_SYN_RECV, 0 },
	{ "ack", 0, ACK, 1, 1, 0, ST_EST, CB_CT_S_ESTABLISHED, 0 },
	{ "syn-ack-late-retransmission", 1, SYN | ACK, 0, 1, 0, ST_EST, CB_CT_S_ESTABLISHED, 0 },
	{ "data", 0, PSH | ACK, 1, 1, 100, ST_EST, CB_CT_S_ESTABLISHED, 0 },
	{ "data-back", 1, PSH | ACK, 1, 101, 200, ST_EST, CB_CT_S_ESTABLISHED, 0 },
	{ "ack-of-unsent-data", 1, ACK, 201, 151, 0, ST_INV, CB_CT_S_ESTABLISHED, 0 },
	{ "data-retransmitted", 0, PSH | ACK, 1, 1, 100, ST_EST, CB_CT_S_ESTABLISHED, 0 },
	{ "syn-in-established", 0, SYN, 5000, 0, 0, ST_INV, CB_CT_S_ESTABLISHED, 0 },
	{ "no-flags", 0, 0, 101, 201, 0, ST_INV, CB_CT_S_ESTABLISHED, 0 },
	{ "fin-without-ack", 0, FIN, 101, 201, 0, ST_INV, CB_CT_S_ESTABLISHED, 0 },
	{ "syn-fin", 0, SYN | FIN, 101, 201, 0, ST_INV, CB_CT_S_ESTABLISHED, 0 },
	{ "fin", 0, FIN | ACK, 101, 201, 0, ST_EST, CB_CT_S_FIN_WAIT, 0 },
	{ "fin-retransmitted", 0, FIN | ACK, 101, 201, 0, ST_EST, CB_CT_S_FIN_WAIT, 0 },
	{ "data-after-fin", 0, PSH | ACK, 102, 201, 10, ST_INV, CB_CT_S_FIN_WAIT, 0 },
	{ "ack-short-of-the-fin", 1, ACK, 201, 101, 0, ST_EST, CB_CT_S_FIN_WAIT, 0 },
	{ "ack-of-the-fin", 1, ACK, 201, 102, 0, ST_EST, CB_CT_S_CLOSE_WAIT, 0 },
	{ "data-in-close-wait", 1, PSH | ACK, 201, 102, 50, ST_EST, CB_CT_S_CLOSE_WAIT, 0 },
	{ "fin-back", 1, FIN | ACK, 251, 102, 0, ST_EST, CB_CT_S_LAST_ACK, 0 },
	{ "ack-short-of-fin-back", 0, ACK, 102, 251, 0, ST_EST, CB_CT_S_LAST_ACK, 0 },
	{ "last-ack", 0, ACK, 102, 252, 0, ST_EST, CB_CT_S_TIME_WAIT, 0 },
	{ "last-ack-retransmitted", 0, ACK, 102, 252, 0, ST_EST, CB_CT_S_TIME_WAIT, 0 },
	{ "syn-reopens-time-wait", 0, SYN, 100000, 0, 0, ST_NEW, CB_CT_S_SYN_SENT, 1 },
};

static const struct tstep t_simclose[] = {
	HS_STEPS,
	{ "fin", 0, FIN | ACK, 1, 1, 0, ST_EST, CB_CT_S_FIN_WAIT, 0 },
	{ "fin-crossing", 1, FIN | ACK, 1, 1, 0, ST_EST, CB_CT_S_LAST_ACK, 0 },
	{ "ack-of-fin-back", 0, ACK, 2, 2, 0, ST_EST, CB_CT_S_LAST_ACK, 0 },
	{ "ack-of-fin", 1, ACK, 2, 2, 0, ST_EST, CB_CT_S_TIME_WAIT, 0 },
};

static const struct tstep t_srvclose[] = {
	HS_STEPS,
	{ "fin-from-the-server", 1, FIN | ACK, 1, 1, 0, ST_EST, CB_CT_S_FIN_WAIT, 0 },
	{ "ack", 0, ACK, 1, 2, 0, ST_EST, CB_CT_S_CLOSE_WAIT, 0 },
	{ "fin", 0, FIN | ACK, 1, 2, 0, ST_EST, CB_CT_S_LAST_ACK, 0 },
	{ "last-ack", 1, ACK, 2, 2, 0, ST_EST, CB_CT_S_TIME_WAIT, 0 },
	{ "data-after-both-fins", 1, PSH | ACK, 2, 2, 5, ST_INV, CB_CT_S_TIME_WAIT, 0 },
	{ "time-wait-expires", 0, ACK, 2, 2, 0, ST_INV, 0, 121 },
};

static const struct tstep t_rst[] = {
	HS_STEPS,
	{ "data", 0, PSH | ACK, 1, 1, 100, ST_EST, CB_CT_S_ESTABLISHED, 0 },
	{ "rst-seq-far-ahead", 0, RST, 70101, 0, 0, ST_INV, CB_CT_S_ESTABLISHED, 0 },
	{ "rst-seq-before-acked", 1, RST, 0, 0, 0, ST_INV, CB_CT_S_ESTABLISHED, 0 },
	{ "rst-ack-of-unsent", 1, RST | ACK, 1, 500, 0, ST_INV, CB_CT_S_ESTABLISHED, 0 },
	{ "syn-rst", 0, SYN | RST, 101, 0, 0, ST_INV, CB_CT_S_ESTABLISHED, 0 },
	{ "rst-in-flight-range", 0, RST, 50, 0, 0, ST_EST, CB_CT_S_CLOSE, 0 },
	{ "rst-retransmitted", 0, RST, 101, 0, 0, ST_EST, CB_CT_S_CLOSE, 0 },
	{ "late-ack", 1, ACK, 1, 101, 0, ST_EST, CB_CT_S_CLOSE, 0 },
	{ "syn-reopens-close", 0, SYN, 9000, 0, 0, ST_NEW, CB_CT_S_SYN_SENT, 0 },
};

/* An RST in each state: SYN_RECV, FIN_WAIT, CLOSE_WAIT, LAST_ACK, TIME_WAIT. */
static const struct tstep t_rst_syn_recv[] = {
	{ "syn", 0, SYN, 0, 0, 0, ST_NEW, CB_CT_S_SYN_SENT, 0 },
	{ "syn-ack", 1, SYN | ACK, 0, 1, 0, ST_EST, CB_CT_S_SYN_RECV, 0 },
	{ "rst-seq-isn", 0, RST, 0, 0, 0, ST_INV, CB_CT_S_SYN_RECV, 0 },
	{ "rst", 0, RST, 1, 0, 0, ST_EST, CB_CT_S_CLOSE, 0 },
};

static const struct tstep t_rst_fin_wait[] = {
	HS_STEPS,
	{ "fin", 0, FIN | ACK, 1, 1, 0, ST_EST, CB_CT_S_FIN_WAIT, 0 },
	{ "rst-past-the-fin", 0, RST, 3, 0, 0, ST_INV, CB_CT_S_FIN_WAIT, 0 },
	{ "rst-from-the-server", 1, RST, 1, 0, 0, ST_EST, CB_CT_S_CLOSE, 0 },
};

static const struct tstep t_rst_close_wait[] = {
	HS_STEPS,
	{ "fin", 0, FIN | ACK, 1, 1, 0, ST_EST, CB_CT_S_FIN_WAIT, 0 },
	{ "ack", 1, ACK, 1, 2, 0, ST_EST, CB_CT_S_CLOSE_WAIT, 0 },
	{ "rst", 1, RST | ACK, 1, 2, 0, ST_EST, CB_CT_S_CLOSE, 0 },
};

static const struct tstep t_rst_last_ack[] = {
	HS_STEPS,
	{ "fin", 0, FIN | ACK, 1, 1, 0, ST_EST, CB_CT_S_FIN_WAIT, 0 },
	{ "fin-back", 1, FIN | ACK, 1, 2, 0, ST_EST, CB_CT_S_LAST_ACK, 0 },
	{ "rst", 0, RST, 2, 0, 0, ST_EST, CB_CT_S_CLOSE, 0 },
};

static const struct tstep t_rst_time_wait[] = {
	HS_STEPS,
	{ "fin", 0, FIN | ACK, 1, 1, 0, ST_EST, CB_CT_S_FIN_WAIT, 0 },
	{ "fin-back", 1, FIN | ACK, 1, 2, 0, ST_EST, CB_CT_S_LAST_ACK, 0 },
	{ "last-ack", 0, ACK, 2, 2, 0, ST_EST, CB_CT_S_TIME_WAIT, 0 },
	{ "rst-seq-far", 1, RST, 100000, 0, 0, ST_INV, CB_CT_S_TIME_WAIT, 0 },
	{ "rst", 1, RST, 2, 0, 0, ST_EST, CB_CT_S_CLOSE, 0 },
};

static const struct tstep t_refused[] = {
	{ "syn", 0, SYN, 0, 0, 0, ST_NEW, CB_CT_S_SYN_SENT, 0 },
	{ "rst-ack-acking-the-isn", 1, RST | ACK, 0, 0, 0, ST_INV, CB_CT_S_SYN_SENT, 0 },
	{ "rst-without-ack", 1, RST, 0, 1, 0, ST_INV, CB_CT_S_SYN_SENT, 0 },
	{ "rst-ack", 1, RST | ACK, 0, 1, 0, ST_EST, CB_CT_S_CLOSE, 0 },
	{ "close-expires", 0, SYN, 0, 0, 0, ST_NEW, CB_CT_S_SYN_SENT, 11 },
	{ "client-rst", 0, RST, 1, 0, 0, ST_NEW, CB_CT_S_CLOSE, 0 },
};

static const struct tstep t_unknown[] = {
	{ "ack", 0, ACK, 1, 1, 0, ST_INV, 0, 0 },	    { "syn-ack", 1, SYN | ACK, 0, 1, 0, ST_INV, 0, 0 },
	{ "rst", 0, RST, 1, 0, 0, ST_INV, 0, 0 },	    { "fin-ack", 0, FIN | ACK, 1, 1, 0, ST_INV, 0, 0 },
	{ "syn-fin", 0, SYN | FIN, 0, 0, 0, ST_INV, 0, 0 }, { "syn-rst", 0, SYN | RST, 0, 0, 0, ST_INV, 0, 0 },
	{ "no-flags", 0, 0, 0, 0, 0, ST_INV, 0, 0 },	    { "data", 0, PSH | ACK, 1, 1, 10, ST_INV, 0, 0 },
};

/* Default timeouts: SYN_SENT 120 s, SYN_RECV 60 s, ESTABLISHED 5 days. */
static const struct tstep t_expire[] = {
	{ "syn", 0, SYN, 0, 0, 0, ST_NEW, CB_CT_S_SYN_SENT, 0 },
	{ "syn-ack-after-121s", 1, SYN | ACK, 0, 1, 0, ST_INV, 0, 121 },
	{ "syn-over-the-expired-entry", 0, SYN, 0, 0, 0, ST_NEW, CB_CT_S_SYN_SENT, 0 },
	{ "syn-ack-after-119s", 1, SYN | ACK, 0, 1, 0, ST_EST, CB_CT_S_SYN_RECV, 119 },
	{ "ack-after-59s", 0, ACK, 1, 1, 0, ST_EST, CB_CT_S_ESTABLISHED, 59 },
	{ "data-after-4-days", 0, PSH | ACK, 1, 1, 10, ST_EST, CB_CT_S_ESTABLISHED, 4 * 86400 },
	{ "data-after-5-days-and-1s", 0, PSH | ACK, 11, 1, 10, ST_INV, 0, 5 * 86400 + 1 },
};

static void run_tcp_table(struct env *e, const struct flow *fl, const char *table, const struct tstep *t, int n,
			  __u32 isn_c, __u32 isn_s)
{
	ct_clear(e);
	for (int i = 0; i < n; i++) {
		__u32 base_snd = t[i].dir ? isn_s : isn_c, base_rcv = t[i].dir ? isn_c : isn_s;
		struct frame f;
		char name[160];

		e->now += (__u64)t[i].dt * SEC_NS;
		tcp_frame(&f, fl, t[i].dir, t[i].flags, base_snd + t[i].seq, base_rcv + t[i].ack, t[i].len);
		snprintf(name, sizeof(name), "tcp/%s/%02d-%s%s", table, i, t[i].what,
			 isn_c > 0x80000000u ? "/seq-wrap" : "");
		step(e, name, fl, IPPROTO_TCP, &f, t[i].want, t[i].l4);
	}
}

#define TABLE(t) #t + 2, t, (int)(sizeof(t) / sizeof(t[0]))

static void suite_tcp(struct env *e, int v6)
{
	struct flow fl = flow(v6, 1, 2, 40000, 80);
	/* the second pair of ISNs wraps around 2^32 during the tables */
	static const __u32 isns[2][2] = { { 1000, 5000 }, { 0xffffffc0u, 0xfffffff0u } };

	for (int w = 0; w < 2; w++) {
		__u32 c = isns[w][0], s = isns[w][1];

		run_tcp_table(e, &fl, TABLE(t_close), c, s);
		run_tcp_table(e, &fl, TABLE(t_simclose), c, s);
		run_tcp_table(e, &fl, TABLE(t_srvclose), c, s);
		run_tcp_table(e, &fl, TABLE(t_rst), c, s);
		run_tcp_table(e, &fl, TABLE(t_refused), c, s);
		run_tcp_table(e, &fl, TABLE(t_rst_syn_recv), c, s);
		run_tcp_table(e, &fl, TABLE(t_rst_fin_wait), c, s);
		run_tcp_table(e, &fl, TABLE(t_rst_close_wait), c, s);
		run_tcp_table(e, &fl, TABLE(t_rst_last_ack), c, s);
		run_tcp_table(e, &fl, TABLE(t_rst_time_wait), c, s);
		run_tcp_table(e, &fl, TABLE(t_unknown), c, s);
		run_tcp_table(e, &fl, TABLE(t_expire), c, s);
	}
	/* a flow whose client has the higher address and port: the key is
	 * normalised the other way round */
	{
		struct flow rev = flow(v6, 9, 3, 50000, 22);

		run_tcp_table(e, &rev, "close-reversed-key", t_close, (int)(sizeof(t_close) / sizeof(t_close[0])), 7,
			      70);
		check_session(e, "tcp/session-reversed-key-syn-sent", &rev, "TCP", "SYN_SENT", 50000, 22, 120, 1);
	}
	{
		static const struct tstep hs[] = { HS_STEPS };

		run_tcp_table(e, &fl, "handshake", hs, 3, 1, 2);
		check_session(e, "tcp/session-established", &fl, "TCP", "ESTABLISHED", 40000, 80, 432000, 1);
	}
}

/*
 * The two directions on two CPUs: a's lookup, b's lookup and commit, then
 * a's commit. a's commit must not undo what b's recorded (b's data, b's
 * FIN): the next packets, acking them, stay valid.
 */
static void suite_interleaved(struct env *e, int v6)
{
	struct flow fl = flow(v6, 1, 2, 40005, 8080);
	static const struct tstep hs[] = { HS_STEPS };
	struct probe_out o;
	struct frame fa, fb, f;
	char name[160];
	int r1, r2, r3;

	run_tcp_table(e, &fl, "interleaved-handshake", hs, 3, 1000, 5000);
	tcp_frame(&fa, &fl, 0, PSH | ACK, 1001, 5001, 100);
	tcp_frame(&fb, &fl, 1, PSH | ACK, 5001, 1001, 300);
	r1 = run(e, &fa, PROBE_STASH, &o);
	r2 = run(e, &fb, PROBE_COMMIT, &o);
	r3 = run(e, &fa, PROBE_COMMIT_STASHED, &o);
	snprintf(name, sizeof(name), "%s/%s/tcp/interleaved/data-both-ways", hook_name[e->hook], fam(&fl));
	report(r1 == ST_EST && r2 == ST_EST && r3 == ST_EST && o.commit == 0, name, "%s %s %s commit %d", ret_name(r1),
	       ret_name(r2), ret_name(r3), o.commit);
	tcp_frame(&f, &fl, 0, ACK, 1101, 5301, 0);
	step(e, "tcp/interleaved/ack-of-the-other-direction's-data", &fl, IPPROTO_TCP, &f, ST_EST, CB_CT_S_ESTABLISHED);
	tcp_frame(&f, &fl, 1, ACK, 5301, 1101, 0);
	step(e, "tcp/interleaved/ack-back", &fl, IPPROTO_TCP, &f, ST_EST, CB_CT_S_ESTABLISHED);
	/* both FINs at once */
	tcp_frame(&fa, &fl, 0, FIN | ACK, 1101, 5301, 0);
	tcp_frame(&fb, &fl, 1, FIN | ACK, 5301, 1101, 0);
	run(e, &fa, PROBE_STASH, &o);
	run(e, &fb, PROBE_COMMIT, &o);
	run(e, &fa, PROBE_COMMIT_STASHED, &o);
	tcp_frame(&f, &fl, 0, ACK, 1102, 5302, 0);
	step(e, "tcp/interleaved/ack-of-the-crossing-fin", &fl, IPPROTO_TCP, &f, ST_EST, CB_CT_S_LAST_ACK);
	tcp_frame(&f, &fl, 1, ACK, 5302, 1102, 0);
	step(e, "tcp/interleaved/both-fins-acked", &fl, IPPROTO_TCP, &f, ST_EST, CB_CT_S_TIME_WAIT);
}

/* The timeouts set by the service replace the defaults. */
static void suite_timeouts(struct env *e, int v6)
{
	struct flow fl = flow(v6, 1, 2, 40001, 443);
	struct cb_ct_timeouts t = { 0 };
	static const struct tstep steps[] = {
		HS_STEPS,
		{ "data-after-4s", 0, PSH | ACK, 1, 1, 10, ST_EST, CB_CT_S_ESTABLISHED, 4 },
		{ "data-after-6s", 0, PSH | ACK, 11, 1, 10, ST_INV, 0, 6 },
	};
	char name[64];
	int r;

	t.secs[CB_CT_S_ESTABLISHED] = 5;
	r = cb_ct_set_timeouts(e->timeouts, &t);
	snprintf(name, sizeof(name), "%s/%s/timeouts/set", hook_name[e->hook], fam(&fl));
	report(r == 0, name, "cb_ct_set_timeouts: %s", strerror(-r));
	run_tcp_table(e, &fl, "timeouts-established-5s", steps, (int)(sizeof(steps) / sizeof(steps[0])), 1, 2);
	memset(&t, 0, sizeof(t));
	cb_ct_set_timeouts(e->timeouts, &t);
}

/* ---- UDP, ICMP echo, generic ---------------------------------------------------- */

static void suite_udp(struct env *e, int v6)
{
	struct flow fl = flow(v6, 1, 2, 5353, 53), srv = flow(v6, 2, 1, 53, 5353);
	struct cb_ct_counts c;
	struct frame f;
	char name[160];
	int r;

	ct_clear(e);
	udp_frame(&f, &fl, 0, 20);
	step(e, "udp/request", &fl, IPPROTO_UDP, &f, ST_NEW, CB_CT_S_UDP_UNREPLIED);
	step(e, "udp/request-again", &fl, IPPROTO_UDP, &f, ST_NEW, CB_CT_S_UDP_UNREPLIED);
	check_session(e, "udp/session-unreplied", &fl, "UDP", "NEW", 5353, 53, 30, 1);
	udp_frame(&f, &fl, 1, 40);
	e->now += 29 * SEC_NS;
	step(e, "udp/reply-after-29s", &fl, IPPROTO_UDP, &f, ST_EST, CB_CT_S_UDP_REPLIED);
	udp_frame(&f, &fl, 0, 20);
	step(e, "udp/request-after-reply", &fl, IPPROTO_UDP, &f, ST_EST, CB_CT_S_UDP_REPLIED);
	check_session(e, "udp/session-replied", &fl, "UDP", "ESTABLISHED", 5353, 53, 120, 1);
	e->now += 119 * SEC_NS + SEC_NS / 2;
	check_session(e, "udp/session-eta-rounds-up", &fl, "UDP", "ESTABLISHED", 5353, 53, 1, 1);
	e->now += SEC_NS / 2;
	{
		struct sess_find q = { 0 };

		r = cb_ct_foreach(e->ct, e->now, find_cb, &q);
		snprintf(name, sizeof(name), "%s/%s/udp/expired-not-listed", hook_name[e->hook], fam(&fl));
		report(r == 0 && q.n == 0, name, "%d sessions listed", q.n);
	}
	r = cb_ct_sweep(e->ct, e->stats, e->now, &c);
	snprintf(name, sizeof(name), "%s/%s/udp/sweep", hook_name[e->hook], fam(&fl));
	report(r == 0 && c.expired == 1 && c.entries == 0 && ct_count(e) == 0, name,
	       "sweep %d: expired %llu, entries %llu, left in the map %d", r, (unsigned long long)c.expired,
	       (unsigned long long)c.entries, ct_count(e));
	/* after expiry the server's packet opens a flow of its own */
	udp_frame(&f, &fl, 1, 40);
	step(e, "udp/reply-after-expiry-is-a-new-flow", &srv, IPPROTO_UDP, &f, ST_NEW, CB_CT_S_UDP_UNREPLIED);
	check_session(e, "udp/session-opened-by-the-server", &srv, "UDP", "NEW", 53, 5353, 30, 1);
}

static void suite_echo(struct env *e, int v6)
{
	struct flow fl = flow(v6, 1, 2, 0x1234, 0x1234), other = flow(v6, 1, 2, 0x4321, 0x4321);
	__u8 p = icmp_proto(v6);
	struct frame f;

	ct_clear(e);
	echo_frame(&f, &other, 1, 1);
	step(e, "echo/reply-without-request", &other, p, &f, ST_INV, 0);
	echo_frame(&f, &fl, 0, 0);
	step(e, "echo/request", &fl, p, &f, ST_NEW, CB_CT_S_ICMP);
	step(e, "echo/request-again", &fl, p, &f, ST_NEW, CB_CT_S_ICMP);
	echo_frame(&f, &fl, 0, 1);
	step(e, "echo/reply-from-the-requester", &fl, p, &f, ST_INV, CB_CT_S_ICMP);
	echo_frame(&f, &fl, 1, 0);
	step(e, "echo/request-back-same-id", &fl, p, &f, ST_INV, CB_CT_S_ICMP);
	echo_frame(&f, &fl, 1, 1);
	step(e, "echo/reply", &fl, p, &f, ST_EST, CB_CT_S_ICMP);
	echo_frame(&f, &fl, 0, 0);
	step(e, "echo/request-after-reply", &fl, p, &f, ST_EST, CB_CT_S_ICMP);
	check_session(e, "echo/session", &fl, v6 ? "ICMPv6" : "ICMP", "ESTABLISHED", 0x1234, 0x1234, 30, 1);
	echo_frame(&f, &other, 1, 1);
	step(e, "echo/reply-other-id", &other, p, &f, ST_INV, 0);
	e->now += 31 * SEC_NS;
	echo_frame(&f, &fl, 1, 1);
	step(e, "echo/reply-after-31s", &fl, p, &f, ST_INV, 0);
}

static int stop_cb(const struct cb_ct_session *s, void *arg)
{
	(*(int *)arg)++;
	return 42;
}

/* A callback's nonzero return stops the walk and is returned. */
static void suite_foreach_stop(struct env *e)
{
	struct frame f;
	int calls = 0, r;
	char name[96];

	ct_clear(e);
	for (int i = 0; i < 3; i++) {
		struct flow fl = flow(0, 1, 2, (__u16)(7000 + i), 53);
		struct probe_out o;

		udp_frame(&f, &fl, 0, 4);
		run(e, &f, 1, &o);
	}
	r = cb_ct_foreach(e->ct, e->now, stop_cb, &calls);
	snprintf(name, sizeof(name), "%s/foreach/stops-on-nonzero", hook_name[e->hook]);
	report(r == 42 && calls == 1 && ct_count(e) == 3, name, "returned %d after %d calls, %d entries", r, calls,
	       ct_count(e));
	ct_clear(e);
}

static void suite_generic(struct env *e, int v6)
{
	struct flow fl = flow(v6, 1, 2, 0, 0);
	struct frame f;

	ct_clear(e);
	eth(&f, v6 ? ETH_P_IPV6 : ETH_P_IP);
	iphdr(&f, v6, &fl.c, &fl.s, 47 /* GRE */, 8);
	zeros(&f, 8);
	step(e, "gre/first", &fl, 47, &f, ST_NEW, CB_CT_S_GENERIC);
	eth(&f, v6 ? ETH_P_IPV6 : ETH_P_IP);
	iphdr(&f, v6, &fl.s, &fl.c, 47, 8);
	zeros(&f, 8);
	step(e, "gre/back", &fl, 47, &f, ST_EST, CB_CT_S_GENERIC);
	check_session(e, "gre/session", &fl, "47", "ESTABLISHED", 0, 0, 600, 1);
}

/* ---- ICMP errors ------------------------------------------------------------- */

static void suite_icmp_errors(struct env *e, int v6)
{
	struct flow tcp = flow(v6, 1, 2, 40002, 80), udp = flow(v6, 1, 2, 5000, 53), ping = flow(v6, 1, 2, 77, 77);
	struct flow unknown = flow(v6, 1, 2, 40003, 80);
	struct host r = host(99);
	__u8 unreach = v6 ? 1 : 3, texc = v6 ? 3 : 11, ptb = v6 ? 2 : 3, ptb_code = v6 ? 0 : 4;
	__u32 l3 = v6 ? 40 : 20;
	struct frame syn, synack, q, f, err2;
	struct cb_ct_stats st0, st1;
	char name[160];

	ct_clear(e);
	tcp_frame(&syn, &tcp, 0, SYN, 1000, 0, 0);
	step(e, "icmp-error/syn", &tcp, IPPROTO_TCP, &syn, ST_NEW, CB_CT_S_SYN_SENT);
	tcp_frame(&synack, &tcp, 1, SYN | ACK, 7000, 1001, 0);
	step(e, "icmp-error/syn-ack", &tcp, IPPROTO_TCP, &synack, ST_EST, CB_CT_S_SYN_RECV);

	icmp_error_frame(&f, v6, &r, &tcp.c, unreach, 1, &syn, 200);
	cb_ct_read_stats(e->stats, &st0);
	step(e, "icmp-error/unreachable-quoting-tcp", &tcp, IPPROTO_TCP, &f, ST_REL, CB_CT_S_SYN_RECV);
	cb_ct_read_stats(e->stats, &st1);
	snprintf(name, sizeof(name), "%s/%s/icmp-error/related-counted", hook_name[e->hook], fam(&tcp));
	report(st1.related == st0.related + 1 && st1.invalid == st0.invalid, name, "related %llu -> %llu",
	       (unsigned long long)st0.related, (unsigned long long)st1.related);
	icmp_error_frame(&f, v6, &r, &tcp.c, ptb, ptb_code, &syn, l3 + 8);
	step(e, "icmp-error/too-big-quoting-8-bytes-of-tcp", &tcp, IPPROTO_TCP, &f, ST_REL, CB_CT_S_SYN_RECV);
	icmp_error_frame(&f, v6, &r, &tcp.s, unreach, 3, &synack, 200);
	step(e, "icmp-error/quoting-the-reply-direction", &tcp, IPPROTO_TCP, &f, ST_REL, CB_CT_S_SYN_RECV);
	icmp_error_frame(&f, v6, &r, &tcp.s, unreach, 1, &syn, 200);
	step(e, "icmp-error/sent-to-the-wrong-host", &tcp, IPPROTO_TCP, &f, ST_INV, CB_CT_S_SYN_RECV);
	icmp_error_frame(&f, v6, &r, &tcp.c, unreach, 1, &syn, l3 + 4);
	step(e, "icmp-error/quote-with-4-bytes-of-tcp", &tcp, IPPROTO_TCP, &f, ST_INV, CB_CT_S_SYN_RECV);
	icmp_error_frame(&f, v6, &r, &tcp.c, unreach, 1, &syn, 10);
	step(e, "icmp-error/quote-cut-in-the-ip-header", &tcp, IPPROTO_TCP, &f, ST_INV, CB_CT_S_SYN_RECV);
	icmp_error_frame(&f, v6, &r, &tcp.c, unreach, 1, &syn, 0);
	step(e, "icmp-error/empty-quote", &tcp, IPPROTO_TCP, &f, ST_INV, CB_CT_S_SYN_RECV);
	q = syn;
	memset(q.b + 14, 0, l3); /* version 0 */
	icmp_error_frame(&f, v6, &r, &tcp.c, unreach, 1, &q, 200);
	cb_ct_read_stats(e->stats, &st0);
	step(e, "icmp-error/quoting-garbage", &tcp, IPPROTO_TCP, &f, ST_INV, CB_CT_S_SYN_RECV);
	cb_ct_read_stats(e->stats, &st1);
	snprintf(name, sizeof(name), "%s/%s/icmp-error/garbage-counted-invalid", hook_name[e->hook], fam(&tcp));
	report(st1.invalid == st0.invalid + 1 && st1.related == st0.related, name, "invalid %llu -> %llu",
	       (unsigned long long)st0.invalid, (unsigned long long)st1.invalid);
	if (!v6) {
		q = syn;
		q.b[14] = 0x43; /* IHL 3 */
		icmp_error_frame(&f, v6, &r, &tcp.c, unreach, 1, &q, 200);
		step(e, "icmp-error/quoting-ihl-3", &tcp, IPPROTO_TCP, &f, ST_INV, CB_CT_S_SYN_RECV);
		q = syn;
		q.b[14] = 0x4f; /* IHL 15: 60 bytes, more than quoted */
		icmp_error_frame(&f, v6, &r, &tcp.c, unreach, 1, &q, 40);
		step(e, "icmp-error/quoting-ihl-past-the-quote", &tcp, IPPROTO_TCP, &f, ST_INV, CB_CT_S_SYN_RECV);
	}
	tcp_frame(&q, &unknown, 0, SYN, 1, 0, 0);
	icmp_error_frame(&f, v6, &r, &unknown.c, unreach, 1, &q, 200);
	step(e, "icmp-error/quoting-an-unknown-flow", &unknown, IPPROTO_TCP, &f, ST_INV, 0);

	udp_frame(&q, &udp, 0, 10);
	step(e, "icmp-error/udp-request", &udp, IPPROTO_UDP, &q, ST_NEW, CB_CT_S_UDP_UNREPLIED);
	icmp_error_frame(&f, v6, &r, &udp.c, texc, 0, &q, 200);
	step(e, "icmp-error/time-exceeded-quoting-udp", &udp, IPPROTO_UDP, &f, ST_REL, CB_CT_S_UDP_UNREPLIED);
	icmp_error_frame(&f, v6, &r, &udp.c, v6 ? 4 : 12, 0, &q, 200);
	step(e, "icmp-error/parameter-problem-quoting-udp", &udp, IPPROTO_UDP, &f, ST_REL, CB_CT_S_UDP_UNREPLIED);

	echo_frame(&q, &ping, 0, 0);
	step(e, "icmp-error/echo-request", &ping, icmp_proto(v6), &q, ST_NEW, CB_CT_S_ICMP);
	icmp_error_frame(&f, v6, &r, &ping.c, texc, 0, &q, 200);
	step(e, "icmp-error/time-exceeded-quoting-echo", &ping, icmp_proto(v6), &f, ST_REL, CB_CT_S_ICMP);
	/* an error about an error is garbage */
	icmp_error_frame(&err2, v6, &ping.s, &ping.c, unreach, 0, &f, 200);
	step(e, "icmp-error/quoting-an-icmp-error", &ping, icmp_proto(v6), &err2, ST_INV, CB_CT_S_ICMP);
	/* a truncated ICMP header */
	f = q;
	f.len = 14 + l3 + 4;
	step(e, "icmp-error/icmp-header-cut", &ping, icmp_proto(v6), &f, R_SHORT, CB_CT_S_ICMP);

	e->now += 31 * SEC_NS;
	icmp_error_frame(&f, v6, &r, &udp.c, unreach, 3, &q, 200);
	udp_frame(&q, &udp, 0, 10);
	icmp_error_frame(&f, v6, &r, &udp.c, unreach, 3, &q, 200);
	step(e, "icmp-error/quoting-an-expired-flow", &udp, IPPROTO_UDP, &f, ST_INV, 0);
}

/* ---- not trackable: fragments, truncated, bad headers -------------------------- */

/* The skb test run refuses a frame cut inside its IP header (EINVAL): the
 * TC hook never sees one. XDP runs them. */
static void skip(struct env *e, const char *fam_name, const char *name)
{
	printf("ok - %s/%s/%s # SKIP the skb test run refuses a frame cut in its IP header\n", hook_name[e->hook],
	       fam_name, name);
}

static void suite_malformed(struct env *e)
{
	struct flow f4 = flow(0, 1, 2, 1111, 2222), f6 = flow(1, 1, 2, 1111, 2222), vl = flow(0, 1, 2, 3333, 4444);
	struct probe_out o;
	struct frame f;
	char name[128];
	int r;

	ct_clear(e);
	/* IPv4 */
	eth(&f, ETH_P_IP);
	ip4(&f, &f4.c, &f4.s, IPPROTO_UDP, 8 + 8, 0x0010, 0); /* offset 128 */
	udphdr(&f, 1111, 2222, 8);
	step(e, "frag/later-fragment", &f4, IPPROTO_UDP, &f, R_FRAG, 0);
	eth(&f, ETH_P_IP);
	ip4(&f, &f4.c, &f4.s, IPPROTO_UDP, 8 + 8, 0x2000, 0); /* MF, offset 0 */
	udphdr(&f, 1111, 2222, 8);
	step(e, "frag/first-fragment-is-tracked", &f4, IPPROTO_UDP, &f, ST_NEW, CB_CT_S_UDP_UNREPLIED);
	r = run(e, &f, 0, &o);
	snprintf(name, sizeof(name), "%s/v4/frag/first-fragment-flagged", hook_name[e->hook]);
	report(r == ST_NEW && o.pkt.fragment == 1, name, "ret %d fragment %u", r, o.pkt.fragment);
	/* a TCP segment in fragments: the first tells its start; the peer's
	 * ack of the whole segment is not an ack of unsent data */
	{
		struct flow ft = flow(0, 1, 2, 1234, 80);
		static const struct tstep hs[] = { HS_STEPS };

		run_tcp_table(e, &ft, "fragmented-segment", hs, 3, 100, 200);
		eth(&f, ETH_P_IP);
		ip4(&f, &ft.c, &ft.s, IPPROTO_TCP, 20 + 100, 0x2000, 0); /* MF: 1400 more follow */
		tcphdr(&f, 1234, 80, 101, 201, PSH | ACK, 100);
		step(e, "tcp/fragmented-segment/first-fragment", &ft, IPPROTO_TCP, &f, ST_EST, CB_CT_S_ESTABLISHED);
		tcp_frame(&f, &ft, 1, ACK, 201, 101 + 1500, 0);
		step(e, "tcp/fragmented-segment/ack-of-the-whole-segment", &ft, IPPROTO_TCP, &f, ST_EST,
		     CB_CT_S_ESTABLISHED);
		tcp_frame(&f, &ft, 1, ACK, 201, 101 + 100 + 65536, 0);
		step(e, "tcp/fragmented-segment/ack-past-a-datagram", &ft, IPPROTO_TCP, &f, ST_INV,
		     CB_CT_S_ESTABLISHED);
	}
	tcp_frame(&f, &f4, 0, SYN, 1, 0, 0);
	f.len = 14 + 12;
	if (e->hook == 0)
		skip(e, "v4", "short/ip-header-cut");
	else
		step(e, "short/ip-header-cut", &f4, IPPROTO_TCP, &f, R_SHORT, 0);
	tcp_frame(&f, &f4, 0, SYN, 1, 0, 0);
	f.b[14] = 0x44;
	step(e, "bad/ihl-4", &f4, IPPROTO_TCP, &f, R_BAD, 0);
	tcp_frame(&f, &f4, 0, SYN, 1, 0, 0);
	f.b[16] = 0;
	f.b[17] = 10; /* total length 10 < IHL */
	step(e, "bad/total-length-below-ihl", &f4, IPPROTO_TCP, &f, R_BAD, 0);
	tcp_frame(&f, &f4, 0, SYN, 1, 0, 0);
	f.len = 14 + 20 + 10;
	step(e, "short/tcp-header-cut", &f4, IPPROTO_TCP, &f, R_SHORT, 0);
	tcp_frame(&f, &f4, 0, SYN, 1, 0, 0);
	f.b[14 + 20 + 12] = 3 << 4;
	step(e, "bad/tcp-offset-3", &f4, IPPROTO_TCP, &f, R_BAD, 0);
	tcp_frame(&f, &f4, 0, SYN, 1, 0, 0);
	f.b[14 + 20 + 12] = 15 << 4;
	step(e, "bad/tcp-offset-past-the-ip-length", &f4, IPPROTO_TCP, &f, R_BAD, 0);
	udp_frame(&f, &f4, 0, 0);
	f.len = 14 + 20 + 4;
	step(e, "short/udp-header-cut", &f4, IPPROTO_UDP, &f, R_SHORT, -1);
	eth(&f, ETH_P_IP);
	ip4(&f, &f4.c, &f4.s, IPPROTO_TCP, 20, 0, 8); /* 8 bytes of options */
	tcphdr(&f, 1111, 2222, 1, 0, SYN, 0);
	step(e, "ip-options/syn", &f4, IPPROTO_TCP, &f, ST_NEW, CB_CT_S_SYN_SENT);
	r = run(e, &f, 0, &o);
	snprintf(name, sizeof(name), "%s/v4/ip-options/l4-offset", hook_name[e->hook]);
	report(o.pkt.l4_off == 28 && o.pkt.t.sport == htons(1111), name, "l4_off %u", o.pkt.l4_off);
	/* an 802.1Q tag before IPv4: the probe skips it as a service would */
	udp_frame(&f, &vl, 0, 4);
	memmove(f.b + 16, f.b + 12, f.len - 12);
	f.b[12] = 0x81;
	f.b[13] = 0x00;
	f.b[14] = 0x00;
	f.b[15] = 0x05;
	f.len += 4;
	step(e, "vlan-tagged-udp", &vl, IPPROTO_UDP, &f, ST_NEW, CB_CT_S_UDP_UNREPLIED);
	eth(&f, ETH_P_ARP);
	zeros(&f, 28);
	step(e, "arp-untracked", &f4, IPPROTO_TCP, &f, R_UNTRACKED, -1);
	/* ICMP in IPv6: not ICMPv6, nothing to track */
	eth(&f, ETH_P_IPV6);
	ip6(&f, &f6.c, &f6.s, IPPROTO_ICMP, 8);
	icmphdr(&f, 8, 0, 1, 1);
	step(e, "icmpv4-in-ipv6-untracked", &f6, IPPROTO_ICMP, &f, R_UNTRACKED, -1);

	/* IPv6 */
	eth(&f, ETH_P_IPV6);
	ip6(&f, &f6.c, &f6.s, 44, 8 + 8 + 8);
	put8(&f, IPPROTO_UDP);
	put8(&f, 0);
	put16(&f, (16 << 3) | 1); /* offset 16 units, M */
	put32(&f, 7);
	udphdr(&f, 1111, 2222, 8);
	step(e, "frag/later-fragment", &f6, IPPROTO_UDP, &f, R_FRAG, 0);
	eth(&f, ETH_P_IPV6);
	ip6(&f, &f6.c, &f6.s, 44, 8 + 8 + 8);
	put8(&f, IPPROTO_UDP);
	put8(&f, 0);
	put16(&f, 1); /* offset 0, M */
	put32(&f, 7);
	udphdr(&f, 1111, 2222, 8);
	step(e, "frag/first-fragment-is-tracked", &f6, IPPROTO_UDP, &f, ST_NEW, CB_CT_S_UDP_UNREPLIED);
	eth(&f, ETH_P_IPV6);
	ip6(&f, &f6.c, &f6.s, 0 /* hop-by-hop */, 8 + 16 + 20);
	put8(&f, 60); /* destination options follow */
	put8(&f, 0);
	zeros(&f, 6);
	put8(&f, IPPROTO_TCP);
	put8(&f, 1); /* 16 bytes */
	zeros(&f, 14);
	tcphdr(&f, 1111, 2222, 1, 0, SYN, 0);
	step(e, "ext-headers/syn", &f6, IPPROTO_TCP, &f, ST_NEW, CB_CT_S_SYN_SENT);
	r = run(e, &f, 0, &o);
	snprintf(name, sizeof(name), "%s/v6/ext-headers/l4-offset", hook_name[e->hook]);
	report(o.pkt.l4_off == 64, name, "l4_off %u", o.pkt.l4_off);
	f.len = 14 + 40 + 8 + 4;
	step(e, "short/ext-header-cut", &f6, IPPROTO_TCP, &f, R_SHORT, CB_CT_S_SYN_SENT);
	eth(&f, ETH_P_IPV6);
	ip6(&f, &f6.c, &f6.s, 60, 9 * 8 + 8);
	for (int i = 0; i < 9; i++) {
		put8(&f, i < 8 ? 60 : IPPROTO_UDP);
		put8(&f, 0);
		zeros(&f, 6);
	}
	udphdr(&f, 1111, 2222, 0);
	step(e, "bad/nine-extension-headers", &f6, IPPROTO_UDP, &f, R_BAD, -1);
	eth(&f, ETH_P_IPV6);
	ip6(&f, &f6.c, &f6.s, IPPROTO_ICMPV6, 24);
	icmphdr(&f, 135, 0, 0, 0); /* neighbour solicitation */
	zeros(&f, 16);
	step(e, "neighbour-solicitation-untracked", &f6, IPPROTO_ICMPV6, &f, R_UNTRACKED, -1);
	tcp_frame(&f, &f6, 0, SYN, 1, 0, 0);
	f.len = 14 + 30;
	if (e->hook == 0)
		skip(e, "v6", "short/ipv6-header-cut");
	else
		step(e, "short/ipv6-header-cut", &f6, IPPROTO_TCP, &f, R_SHORT, -1);
	tcp_frame(&f, &f6, 0, SYN, 1, 0, 0);
	f.b[14] = 0x40; /* version 4 in an IPv6 frame */
	step(e, "bad/ipv6-version", &f6, IPPROTO_TCP, &f, R_BAD, -1);
}

/* ---- a full table --------------------------------------------------------------- */

static void suite_full(int h)
{
	struct env e;
	struct flow fl[5];
	struct cb_ct_counts c;
	struct cb_ct_stats st;
	struct probe_out o;
	struct frame f;
	char name[128];
	__u8 before[4][sizeof(struct cb_ct_entry)];
	int r, same = 1;

	r = env_open(&e, h, 4);
	snprintf(name, sizeof(name), "%s/full/load-with-4-entries", hook_name[h]);
	report(r == 0, name, "load: %s", strerror(-r));
	if (r < 0) {
		env_close(&e);
		return;
	}
	for (int i = 0; i < 5; i++) {
		fl[i] = flow(i % 2, 1, 2, (__u16)(6000 + i), 53);
		udp_frame(&f, &fl[i], 0, 4);
		if (i < 4) {
			snprintf(name, sizeof(name), "full/flow-%d", i);
			step(&e, name, &fl[i], IPPROTO_UDP, &f, ST_NEW, CB_CT_S_UDP_UNREPLIED);
		}
	}
	for (int i = 0; i < 4; i++)
		entry_of(&e, &fl[i], IPPROTO_UDP, (struct cb_ct_entry *)before[i]);
	udp_frame(&f, &fl[4], 0, 4);
	r = run(&e, &f, 1, &o);
	snprintf(name, sizeof(name), "%s/full/fifth-flow-refused", hook_name[h]);
	report(r == ST_NEW && o.commit == -E2BIG && ct_count(&e) == 4, name, "ret %d commit %d entries %d", r, o.commit,
	       ct_count(&e));
	for (int i = 0; i < 4; i++) {
		struct cb_ct_entry now;

		if (entry_of(&e, &fl[i], IPPROTO_UDP, &now) < 0 || memcmp(&now, before[i], sizeof(now)))
			same = 0;
	}
	snprintf(name, sizeof(name), "%s/full/nothing-evicted", hook_name[h]);
	report(same, name, "an entry changed or vanished");
	r = cb_ct_read_stats(e.stats, &st);
	snprintf(name, sizeof(name), "%s/full/counted", hook_name[h]);
	report(r == 0 && st.full == 1 && st.created == 4, name, "full %llu created %llu", (unsigned long long)st.full,
	       (unsigned long long)st.created);
	udp_frame(&f, &fl[0], 1, 4);
	step(&e, "full/reply-to-a-tracked-flow", &fl[0], IPPROTO_UDP, &f, ST_EST, CB_CT_S_UDP_REPLIED);
	/* the unreplied three expire (30 s), but stay until swept */
	e.now += 31 * SEC_NS;
	udp_frame(&f, &fl[4], 0, 4);
	r = run(&e, &f, 1, &o);
	snprintf(name, sizeof(name), "%s/full/expired-entries-hold-their-slots", hook_name[h]);
	report(r == ST_NEW && o.commit == -E2BIG, name, "ret %d commit %d", r, o.commit);
	r = cb_ct_sweep(e.ct, e.stats, e.now, &c);
	snprintf(name, sizeof(name), "%s/full/sweep", hook_name[h]);
	report(r == 0 && c.expired == 3 && c.entries == 1 && c.full == 2 && c.created == 4, name,
	       "sweep %d: expired %llu entries %llu full %llu created %llu", r, (unsigned long long)c.expired,
	       (unsigned long long)c.entries, (unsigned long long)c.full, (unsigned long long)c.created);
	step(&e, "full/fifth-flow-after-the-sweep", &fl[4], IPPROTO_UDP, &f, ST_NEW, CB_CT_S_UDP_UNREPLIED);
	/* full again; an expired entry is replaced by its own flow's packet */
	for (int i = 1; i < 3; i++) {
		udp_frame(&f, &fl[i], 0, 4);
		snprintf(name, sizeof(name), "full/refill-%d", i);
		step(&e, name, &fl[i], IPPROTO_UDP, &f, ST_NEW, CB_CT_S_UDP_UNREPLIED);
	}
	e.now += 31 * SEC_NS;
	udp_frame(&f, &fl[4], 0, 4);
	step(&e, "full/expired-entry-replaced-in-a-full-table", &fl[4], IPPROTO_UDP, &f, ST_NEW, CB_CT_S_UDP_UNREPLIED);
	udp_frame(&f, &fl[3], 0, 4);
	r = run(&e, &f, 1, &o);
	snprintf(name, sizeof(name), "%s/full/still-full", hook_name[h]);
	report(r == ST_NEW && o.commit == -E2BIG && ct_count(&e) == 4, name, "ret %d commit %d entries %d", r, o.commit,
	       ct_count(&e));
	env_close(&e);
}

/* ---- figures: ns per run of the probe (not asserted; 2 shared CPUs) ---------- */

static double ns_per_run(struct env *e, const struct frame *f, int commit)
{
	struct probe_in in = { .now = e->now, .commit = (__u32)commit };
	__u8 data[sizeof(f->b)];
	__u32 k = 0;
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = data, .data_size_in = f->len, .repeat = 200000);

	memcpy(data, f->b, f->len);
	bpf_map_update_elem(e->in, &k, &in, BPF_ANY);
	if (bpf_prog_test_run_opts(e->prog, &opts) < 0)
		return -1;
	return opts.duration; /* the kernel's average per repetition, ns */
}

static void figures(struct env *e)
{
	struct flow fl = flow(0, 1, 2, 40000, 80), fl6 = flow(1, 1, 2, 40000, 80), u = flow(0, 1, 2, 999, 53);
	struct host r = host(99);
	struct frame f, syn, err;
	struct probe_out o;
	static const struct tstep hs[] = { HS_STEPS };

	ct_clear(e);
	eth(&f, ETH_P_ARP);
	zeros(&f, 28);
	printf("# figure %s: probe overhead (ARP, untracked): %.0f ns\n", hook_name[e->hook], ns_per_run(e, &f, 1));
	run_tcp_table(e, &fl, "figures-handshake-v4", hs, 3, 1, 2);
	tcp_frame(&f, &fl, 0, PSH | ACK, 2, 3, 100);
	printf("# figure %s: TCP data, ESTABLISHED, lookup + commit, IPv4: %.0f ns\n", hook_name[e->hook],
	       ns_per_run(e, &f, 1));
	run_tcp_table(e, &fl6, "figures-handshake-v6", hs, 3, 1, 2);
	tcp_frame(&f, &fl6, 0, PSH | ACK, 2, 3, 100);
	printf("# figure %s: TCP data, ESTABLISHED, lookup + commit, IPv6: %.0f ns\n", hook_name[e->hook],
	       ns_per_run(e, &f, 1));
	udp_frame(&f, &u, 0, 10);
	printf("# figure %s: UDP, unknown flow, lookup only (NEW): %.0f ns\n", hook_name[e->hook],
	       ns_per_run(e, &f, 0));
	tcp_frame(&syn, &fl, 0, SYN, 1, 0, 0);
	icmp_error_frame(&err, 0, &r, &fl.c, 3, 1, &syn, 200);
	run(e, &err, 0, &o);
	printf("# figure %s: ICMP error quoting a tracked flow (RELATED): %.0f ns\n", hook_name[e->hook],
	       ns_per_run(e, &err, 1));
	ct_clear(e);
}

/* ---- real stacks: TCP, UDP and ping between two netns through probe_live ----------- */

/*
 * Names as tests/net/lib.sh makes them ("cbt" + 5 hex digits), so that
 * tests/net/cleanup.sh finds what a crashed run left; /tmp/<id>.ct/owner
 * names a bash that lives while we do (and stops when the directory goes).
 * The veths live only inside the two netns.
 */
static char live_id[16], live_dir[64];

static void live_cleanup(void)
{
	char cmd[256];

	if (!live_id[0])
		return;
	snprintf(cmd, sizeof(cmd), "ip netns del %s-a 2>/dev/null; ip netns del %s-b 2>/dev/null; rm -rf %s", live_id,
		 live_id, live_dir);
	if (system(cmd) != 0)
		printf("# cleanup: %s failed\n", cmd);
	live_id[0] = 0;
}

static void live_signal(int sig)
{
	live_cleanup();
	signal(sig, SIG_DFL);
	raise(sig);
}

static int sh(const char *fmt, ...)
{
	char cmd[1024];
	va_list ap;
	int r;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	r = system(cmd);
	return r == -1 ? -1 : WEXITSTATUS(r);
}

struct live_find {
	const char *proto, *src, *dst, *state;
	__u16 dport;
	int found;
};

static int live_cb(const struct cb_ct_session *s, void *arg)
{
	struct live_find *q = arg;

	if (!q->proto) {
		printf("#   session %s %s:%u -> %s:%u %s eta %u\n", s->l4proto, s->src, s->sport, s->dst, s->dport,
		       s->state, s->eta);
		return 0;
	}
	if (!strcmp(s->l4proto, q->proto) && !strcmp(s->src, q->src) && !strcmp(s->dst, q->dst) &&
	    !strcmp(s->state, q->state) && (!q->dport || s->dport == q->dport))
		q->found++;
	return 0;
}

static void live_expect(struct env *e, const char *name, const char *proto, const char *src, const char *dst,
			__u16 dport, const char *state)
{
	struct live_find q = { .proto = proto, .src = src, .dst = dst, .state = state, .dport = dport };
	char full[128];

	cb_ct_foreach(e->ct, cb_ct_now(), live_cb, &q);
	snprintf(full, sizeof(full), "tc/live/%s", name);
	report(q.found == 1, full, "no %s session %s -> %s:%u in %s (%d)", proto, src, dst, dport, state, q.found);
}

static void suite_live(void)
{
	struct probe_in in = { .commit = 1 };
	struct cb_ct_stats st;
	struct env e;
	char path[128];
	int self = -1, ns = -1, r, ifindex;
	__u32 k = 0;

	if (sh("command -v nc >/dev/null && command -v ip >/dev/null && command -v ping >/dev/null") != 0) {
		printf("ok - tc/live # SKIP needs nc, ip and ping\n");
		return;
	}
	snprintf(live_id, sizeof(live_id), "cbt%05x", (unsigned)getpid() & 0xfffff);
	snprintf(live_dir, sizeof(live_dir), "/tmp/%s.ct", live_id);
	atexit(live_cleanup);
	signal(SIGINT, live_signal);
	signal(SIGTERM, live_signal);
	/* cleanup.sh takes a run for alive while its owner is a bash: one that
	 * lives as long as this process, and writes its own pid there */
	if (mkdir(live_dir, 0700) == 0)
		sh("bash -c 'echo $$ > %s/owner; while kill -0 %d 2>/dev/null && [ -d %s ]; do sleep 1; done' "
		   "</dev/null >/dev/null 2>&1 &",
		   live_dir, (int)getpid(), live_dir);
	snprintf(path, sizeof(path), "%s/owner", live_dir);
	for (int i = 0; i < 200 && access(path, F_OK) != 0; i++)
		usleep(10000);
	r = sh("set -e; A=%s-a; B=%s-b; ip netns add $A; ip netns add $B;"
	       "ip link add cta netns $A type veth peer name ctb netns $B;"
	       "ip -n $A addr add 10.9.0.1/24 dev cta; ip -n $B addr add 10.9.0.2/24 dev ctb;"
	       "ip -n $A addr add fd00:9::1/64 dev cta nodad; ip -n $B addr add fd00:9::2/64 dev ctb nodad;"
	       "for n in $A $B; do ip -n $n link set lo up; done; ip -n $A link set cta up; ip -n $B link set ctb up",
	       live_id, live_id);
	report(r == 0, "tc/live/netns", "setting up the two netns failed (%d)", r);
	if (r != 0)
		return;
	r = env_open(&e, 0, 1024);
	if (r < 0) {
		report(0, "tc/live/load", "load: %s", strerror(-r));
		env_close(&e);
		return;
	}
	bpf_map_update_elem(e.in, &k, &in, BPF_ANY);
	/* attach on both sides of netns a's veth, from inside it */
	snprintf(path, sizeof(path), "/run/netns/%s-a", live_id);
	self = open("/proc/self/ns/net", O_RDONLY);
	ns = open(path, O_RDONLY);
	r = -1;
	if (self >= 0 && ns >= 0 && setns(ns, CLONE_NEWNET) == 0) {
		int fd = bpf_program__fd(bpf_object__find_program_by_name(e.obj, "probe_live"));

		ifindex = (int)if_nametoindex("cta");
		LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS);
		LIBBPF_OPTS(bpf_tc_opts, oi, .prog_fd = fd);
		LIBBPF_OPTS(bpf_tc_opts, oe, .prog_fd = fd);
		r = bpf_tc_hook_create(&hook);
		hook.attach_point = BPF_TC_INGRESS;
		if (r == 0 || r == -EEXIST)
			r = bpf_tc_attach(&hook, &oi);
		hook.attach_point = BPF_TC_EGRESS;
		if (r == 0)
			r = bpf_tc_attach(&hook, &oe);
		if (setns(self, CLONE_NEWNET) < 0)
			r = -errno;
	}
	if (self >= 0)
		close(self);
	if (ns >= 0)
		close(ns);
	report(r == 0, "tc/live/attach", "attaching probe_live to the veth failed (%d)", r);
	if (r != 0) {
		env_close(&e);
		live_cleanup();
		return;
	}
#define IN_A "ip netns exec %s-a "
#define IN_B "ip netns exec %s-b "
	sh(IN_A "ping -c 2 -i 0.2 -W 1 10.9.0.2 >/dev/null", live_id);
	sh(IN_A "ping -6 -c 2 -i 0.2 -W 1 fd00:9::2 >/dev/null", live_id);
	/* 200 kB one way and 300 kB back, then both close */
	sh("(" IN_B "sh -c 'head -c 300000 /dev/zero | timeout 10 nc -l -N 10.9.0.2 5001 >/dev/null' &);"
	   "sleep 0.3; head -c 200000 /dev/zero | " IN_A "timeout 10 nc -N -q 1 10.9.0.2 5001 >/dev/null",
	   live_id, live_id);
	sh("(" IN_B "sh -c 'head -c 300000 /dev/zero | timeout 10 nc -6 -l -N fd00:9::2 5002 >/dev/null' &);"
	   "sleep 0.3; head -c 200000 /dev/zero | " IN_A "timeout 10 nc -6 -N -q 1 fd00:9::2 5002 >/dev/null",
	   live_id, live_id);
	/* refused, and a UDP datagram to a closed port (port unreachable) */
	sh(IN_A "nc -z -w 1 10.9.0.2 5999", live_id);
	sh("echo hi | " IN_A "timeout 2 nc -u -w 1 10.9.0.2 5400", live_id);
	sh("sleep 1");
	{
		struct live_find all = { 0 };

		cb_ct_foreach(e.ct, cb_ct_now(), live_cb, &all); /* the table, for the log */
	}
	live_expect(&e, "icmp-echo", "ICMP", "10.9.0.1", "10.9.0.2", 0, "ESTABLISHED");
	live_expect(&e, "icmpv6-echo", "ICMPv6", "fd00:9::1", "fd00:9::2", 0, "ESTABLISHED");
	live_expect(&e, "tcp4-closed-both-ways", "TCP", "10.9.0.1", "10.9.0.2", 5001, "TIME_WAIT");
	live_expect(&e, "tcp6-closed-both-ways", "TCP", "fd00:9::1", "fd00:9::2", 5002, "TIME_WAIT");
	live_expect(&e, "tcp-refused", "TCP", "10.9.0.1", "10.9.0.2", 5999, "CLOSE");
	live_expect(&e, "udp-unanswered", "UDP", "10.9.0.1", "10.9.0.2", 5400, "NEW");
	r = cb_ct_read_stats(e.stats, &st);
	report(r == 0 && st.invalid == 0, "tc/live/no-packet-invalid", "%llu packets of real stacks were INVALID",
	       (unsigned long long)st.invalid);
	if (st.invalid) {
		struct probe_bad b;
		int fd = bpf_object__find_map_fd_by_name(e.obj, "bad");

		if (fd >= 0 && bpf_map_lookup_elem(fd, &k, &b) == 0)
			printf("#   last INVALID: proto %u sport %u dport %u flags %02x seq %u ack %u len %u frag %u; "
			       "entry %s state %u dflags %02x/%02x end %u/%u acked %u/%u fin_end %u/%u\n",
			       b.pkt.t.l4proto, ntohs(b.pkt.t.sport), ntohs(b.pkt.t.dport), b.pkt.tcp_flags, b.pkt.seq,
			       b.pkt.ack, b.pkt.payload, b.pkt.fragment, b.had_entry ? "yes" : "no", b.entry.l4state,
			       b.entry.dflags[0], b.entry.dflags[1], b.entry.end[0], b.entry.end[1], b.entry.acked[0],
			       b.entry.acked[1], b.entry.fin_end[0], b.entry.fin_end[1]);
	}
	report(r == 0 && st.related >= 1, "tc/live/port-unreachable-related", "related %llu",
	       (unsigned long long)st.related);
	env_close(&e);
	live_cleanup();
}

int main(void)
{
	libbpf_set_print(silent);
	for (int h = 0; h < 2; h++) {
		struct env e;
		int r = env_open(&e, h, 1024);

		if (r < 0) {
			report(0, hook_name[h], "cannot load the probe: %s", strerror(-r));
			env_close(&e);
			continue;
		}
		for (int v6 = 0; v6 < 2; v6++) {
			suite_tcp(&e, v6);
			suite_timeouts(&e, v6);
			suite_interleaved(&e, v6);
			suite_udp(&e, v6);
			suite_echo(&e, v6);
			suite_generic(&e, v6);
			suite_icmp_errors(&e, v6);
		}
		suite_malformed(&e);
		suite_foreach_stop(&e);
		figures(&e);
		env_close(&e);
		suite_full(h);
	}
	suite_live();
	printf("# %d passed, %d failed\n", n_ok, n_fail);
	return n_fail ? 1 : 0;
}
