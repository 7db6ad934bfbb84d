/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fwc - the firewall's rule compiler (fwc.h).
 *
 * Per chain and table (enum fw_table) the compiler keeps the values rules
 * name ("named keys"), each with its vector and a count of the rules that
 * name it, and one default vector for every value no rule names. A rule is
 * in a table's vectors when it matches the value:
 * - wild in the table (no such field; an address of length 0 of the
 *   table's family): every vector of the table, the default included;
 * - an address prefix P: the vector of every named prefix inside P (an LPM
 *   lookup gives the longest named prefix, whose vector so holds every rule
 *   whose prefix contains the packet's address);
 * - a value: that value's vector (tcpflags: every flag byte it matches);
 * - of the other family (a v6 source, looked up in the v4 table): none.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "fwc.h"

#define FWC_NONE   0xffffffffu
#define FWC_HASH   (1u << 15) /* slots of a prefix table: > 2 * its entries */
#define FWC_STEP   2	      /* positions between appended rules */
#define FWC_FIRST  2048	      /* position of the first rule: room for inserts before it */
#define FWC_SMALLN (256 + 257 + 5)

struct fwc_pfx {
	uint8_t state; /* 0 free, 1 used, 2 deleted */
	uint8_t plen;
	uint8_t addr[16];
	uint32_t vec, refs, dense;
};

struct fwc_lpm {
	struct fwc_pfx *slots; /* FWC_HASH */
	uint32_t *dense;       /* used slots, to walk */
	uint32_t n;
};

struct fwc_chain {
	uint32_t n;
	uint16_t order[FW_RULES_MAX]; /* slots by rank */
	uint32_t pos[FW_RULES_MAX];   /* by slot */
	bool used[FW_RULES_MAX];
	struct fwc_rule rules[FW_RULES_MAX]; /* by slot */
	uint32_t dflt[FW_NTABLES];
	uint32_t all_vec;
	struct fwc_lpm lpm[4]; /* FW_T_SRC4 .. FW_T_DST6 */
	uint32_t refs_port[2][FW_PORT_KEYS];
	uint32_t refs_small[FWC_SMALLN];
	/* the named keys of the array tables, to walk: keys[t][i], at[t][key] = i + 1 */
	uint32_t *keys[FW_NTABLES], *at[FW_NTABLES], nkeys[FW_NTABLES];
	uint32_t use[FW_NTABLES]; /* rules not wild in the table */
	int default_action;
};

struct fwc {
	struct fwc_maps m;
	struct fw_vec *vecs;
	uint64_t *ports, *small, *posmap; /* u64 values: an mmap'd array's stride */
	size_t vecs_len, ports_len, small_len, pos_len;
	/* the free vectors, oldest first: a vector a packet may still be
	 * reading is not rewritten at once */
	uint32_t freeq[FW_VECS_MAX];
	uint32_t fq_head, fq_n;
	uint32_t vecs_used;
	uint64_t moves;
	int ncpus;
	struct fwc_chain ch[FW_NCHAINS];
};

const char *fwc_action_name(int action)
{
	switch (action) {
	case FW_DROP: return "DROP";
	case FW_LOG: return "LOG";
	case FW_ACCEPT: return "ACCEPT";
	}
	return "?";
}

/* ---- rules --------------------------------------------------------------- */

static int fwc_parse_prefix(const char *what, const char *s, uint8_t *family, uint8_t *plen, uint8_t addr[16],
			    char *txt, size_t txtlen, char *err, size_t errlen)
{
	char buf[64], *slash;
	long len;
	int max;

	if (strlen(s) >= sizeof(buf))
		goto bad;
	strcpy(buf, s);
	slash = strchr(buf, '/');
	if (slash)
		*slash++ = '\0';
	memset(addr, 0, 16);
	if (inet_pton(AF_INET, buf, addr) == 1) {
		*family = 4;
		max = 32;
	} else if (inet_pton(AF_INET6, buf, addr) == 1) {
		*family = 6;
		max = 128;
	} else {
		goto bad;
	}
	len = max;
	if (slash) {
		char *end;

		if (!*slash || strspn(slash, "0123456789") != strlen(slash))
			goto bad;
		len = strtol(slash, &end, 10);
		if (len > max)
			goto bad;
	}
	*plen = len;
	for (int b = len; b < 128; b++)
		addr[b / 8] &= ~(0x80 >> (b % 8));
	snprintf(txt, txtlen, "%s", s);
	return 0;
bad:
	snprintf(err, errlen,
		 "%s %s: not an address or prefix (an IPv4 or IPv6 address, with /LEN up to 32 or 128: 10.0.0.0/24, "
		 "fd00::/64)",
		 what, s);
	return -EINVAL;
}

static const struct {
	const char *name;
	int num;
} fwc_protos[] = {
	{ "TCP", 6 },	 { "UDP", 17 },	  { "ICMP", 1 }, { "ICMPv6", 58 }, { "IPV6-ICMP", 58 },
	{ "ICMP6", 58 }, { "SCTP", 132 }, { "GRE", 47 }, { "ESP", 50 },	   { "AH", 51 },
};

static int fwc_parse_proto(const char *s, struct fwc_rule *r, char *err, size_t errlen)
{
	for (size_t i = 0; i < sizeof(fwc_protos) / sizeof(fwc_protos[0]); i++) {
		if (!strcasecmp(s, fwc_protos[i].name)) {
			r->proto = fwc_protos[i].num;
			snprintf(r->proto_txt, sizeof(r->proto_txt), "%s", s);
			return 0;
		}
	}
	if (*s && strlen(s) <= 3 && strspn(s, "0123456789") == strlen(s) && atoi(s) <= 255) {
		r->proto = atoi(s);
		snprintf(r->proto_txt, sizeof(r->proto_txt), "%s", s);
		return 0;
	}
	snprintf(err, errlen,
		 "l4proto %s: unknown protocol (TCP, UDP, ICMP, ICMPv6, SCTP, GRE, ESP, AH, or a number 0-255)", s);
	return -EINVAL;
}

static const struct {
	const char *name;
	uint8_t bit;
} fwc_flags[] = {
	{ "FIN", FW_TCP_FIN }, { "SYN", FW_TCP_SYN }, { "RST", FW_TCP_RST }, { "PSH", FW_TCP_PSH },
	{ "ACK", FW_TCP_ACK }, { "URG", FW_TCP_URG }, { "ECE", FW_TCP_ECE }, { "CWR", FW_TCP_CWR },
};

static int fwc_parse_flags(const char *s, struct fwc_rule *r, char *err, size_t errlen)
{
	char buf[128], *tok, *save = NULL;

	if (strlen(s) >= sizeof(buf) || !*s)
		goto bad;
	strcpy(buf, s);
	r->flags_mask = r->flags_val = 0;
	for (tok = strtok_r(buf, ", ", &save); tok; tok = strtok_r(NULL, ", ", &save)) {
		bool neg = *tok == '!';
		size_t i;

		if (neg)
			tok++;
		for (i = 0; i < sizeof(fwc_flags) / sizeof(fwc_flags[0]); i++) {
			if (!strcasecmp(tok, fwc_flags[i].name))
				break;
		}
		if (i == sizeof(fwc_flags) / sizeof(fwc_flags[0]))
			goto bad;
		if (r->flags_mask & fwc_flags[i].bit) {
			snprintf(err, errlen, "tcpflags %s: %s is named twice", s, fwc_flags[i].name);
			return -EINVAL;
		}
		r->flags_mask |= fwc_flags[i].bit;
		if (!neg)
			r->flags_val |= fwc_flags[i].bit;
	}
	if (!r->flags_mask)
		goto bad;
	r->has_flags = true;
	snprintf(r->flags_txt, sizeof(r->flags_txt), "%s", s);
	return 0;
bad:
	snprintf(err, errlen,
		 "tcpflags %s: not a list of flags (SYN, FIN, ACK, RST, PSH, URG, CWR, ECE, each with ! for clear, "
		 "comma separated: !FIN,SYN,!RST,!ACK)",
		 s);
	return -EINVAL;
}

int fwc_rule_parse(struct fwc_rule *r, const struct fwc_rule_text *t, char *err, size_t errlen)
{
	int e;

	memset(r, 0, sizeof(*r));
	r->proto = -1;
	r->sport = r->dport = -1;
	r->ct = -1;
	r->action = t->has_action ? t->action : FW_DROP;
	if (t->src && *t->src) {
		e = fwc_parse_prefix("src", t->src, &r->src_family, &r->src_plen, r->src, r->src_txt,
				     sizeof(r->src_txt), err, errlen);
		if (e < 0)
			return e;
	}
	if (t->dst && *t->dst) {
		e = fwc_parse_prefix("dst", t->dst, &r->dst_family, &r->dst_plen, r->dst, r->dst_txt,
				     sizeof(r->dst_txt), err, errlen);
		if (e < 0)
			return e;
	}
	if (t->l4proto && *t->l4proto) {
		e = fwc_parse_proto(t->l4proto, r, err, errlen);
		if (e < 0)
			return e;
	}
	if (t->has_sport)
		r->sport = t->sport;
	if (t->has_dport)
		r->dport = t->dport;
	if (t->tcpflags && *t->tcpflags) {
		e = fwc_parse_flags(t->tcpflags, r, err, errlen);
		if (e < 0)
			return e;
	}
	if (t->has_ct)
		r->ct = t->ct;
	if (t->description)
		snprintf(r->description, sizeof(r->description), "%s", t->description);
	return 0;
}

bool fwc_rule_same(const struct fwc_rule *a, const struct fwc_rule *b)
{
	if (a->src_family != b->src_family || a->dst_family != b->dst_family)
		return false;
	if (a->src_family && (a->src_plen != b->src_plen || memcmp(a->src, b->src, 16)))
		return false;
	if (a->dst_family && (a->dst_plen != b->dst_plen || memcmp(a->dst, b->dst, 16)))
		return false;
	if (a->proto != b->proto || a->sport != b->sport || a->dport != b->dport || a->ct != b->ct ||
	    a->action != b->action || a->has_flags != b->has_flags)
		return false;
	if (a->has_flags && (a->flags_mask != b->flags_mask || a->flags_val != b->flags_val))
		return false;
	return !b->description[0] || !strcmp(a->description, b->description);
}

uint32_t fwc_rule_matchers(const struct fwc_rule *r)
{
	return (r->src_family ? FW_M_SRC : 0) | (r->dst_family ? FW_M_DST : 0) | (r->proto >= 0 ? FW_M_PROTO : 0) |
	       (r->sport >= 0 ? FW_M_SPORT : 0) | (r->dport >= 0 ? FW_M_DPORT : 0) | (r->has_flags ? FW_M_FLAGS : 0) |
	       (r->ct >= 0 ? FW_M_CT : 0);
}

/* ---- vectors ------------------------------------------------------------- */

static inline void fwc_bit_set(struct fw_vec *v, uint32_t pos)
{
	uint32_t w = pos / 64, sw = w / 64;

	__atomic_store_n(&v->w[w], v->w[w] | 1ull << (pos % 64), __ATOMIC_RELEASE);
	if (!(v->sum[sw] & 1ull << (w % 64)))
		__atomic_store_n(&v->sum[sw], v->sum[sw] | 1ull << (w % 64), __ATOMIC_RELEASE);
	if (!(v->top & 1ull << sw))
		__atomic_store_n(&v->top, v->top | 1ull << sw, __ATOMIC_RELEASE);
}

static inline void fwc_bit_clear(struct fw_vec *v, uint32_t pos)
{
	uint32_t w = pos / 64, sw = w / 64;
	uint64_t nw = v->w[w] & ~(1ull << (pos % 64)), ns;

	__atomic_store_n(&v->w[w], nw, __ATOMIC_RELEASE);
	if (nw)
		return;
	ns = v->sum[sw] & ~(1ull << (w % 64));
	__atomic_store_n(&v->sum[sw], ns, __ATOMIC_RELEASE);
	if (!ns)
		__atomic_store_n(&v->top, v->top & ~(1ull << sw), __ATOMIC_RELEASE);
}

static uint32_t fwc_vec_alloc(struct fwc *f)
{
	uint32_t v;

	if (!f->fq_n)
		return FWC_NONE;
	v = f->freeq[f->fq_head];
	f->fq_head = (f->fq_head + 1) % FW_VECS_MAX;
	f->fq_n--;
	f->vecs_used++;
	return v;
}

static void fwc_vec_free(struct fwc *f, uint32_t v)
{
	f->freeq[(f->fq_head + f->fq_n) % FW_VECS_MAX] = v;
	f->fq_n++;
	f->vecs_used--;
}

/* ---- prefix tables ------------------------------------------------------- */

static uint32_t fwc_pfx_hash(uint8_t plen, const uint8_t *addr)
{
	uint32_t h = 2166136261u ^ plen;

	for (int i = 0; i < 16; i++)
		h = (h ^ addr[i]) * 16777619u;
	return h;
}

static struct fwc_pfx *fwc_pfx_find(struct fwc_lpm *t, uint8_t plen, const uint8_t *addr)
{
	uint32_t i = fwc_pfx_hash(plen, addr) & (FWC_HASH - 1);

	for (uint32_t k = 0; k < FWC_HASH; k++, i = (i + 1) & (FWC_HASH - 1)) {
		struct fwc_pfx *p = &t->slots[i];

		if (p->state == 0)
			return NULL;
		if (p->state == 1 && p->plen == plen && !memcmp(p->addr, addr, 16))
			return p;
	}
	return NULL;
}

static struct fwc_pfx *fwc_pfx_add(struct fwc_lpm *t, uint8_t plen, const uint8_t *addr)
{
	uint32_t i = fwc_pfx_hash(plen, addr) & (FWC_HASH - 1);

	for (uint32_t k = 0; k < FWC_HASH; k++, i = (i + 1) & (FWC_HASH - 1)) {
		struct fwc_pfx *p = &t->slots[i];

		if (p->state != 1) {
			p->state = 1;
			p->plen = plen;
			memcpy(p->addr, addr, 16);
			p->refs = 0;
			p->dense = t->n;
			t->dense[t->n++] = i;
			return p;
		}
	}
	return NULL;
}

static void fwc_pfx_del(struct fwc_lpm *t, struct fwc_pfx *p)
{
	uint32_t last = t->dense[--t->n];

	t->dense[p->dense] = last;
	t->slots[last].dense = p->dense;
	p->state = 2;
}

static bool fwc_pfx_inside(uint8_t plen, const uint8_t *addr, uint8_t outer_plen, const uint8_t *outer)
{
	if (plen < outer_plen)
		return false;
	for (int b = 0; b < outer_plen; b += 8) {
		uint8_t mask = outer_plen - b >= 8 ? 0xff : (uint8_t)(0xff00 >> (outer_plen - b));

		if ((addr[b / 8] & mask) != outer[b / 8])
			return false;
	}
	return true;
}

static void fwc_mask(uint8_t *out, const uint8_t *addr, int plen)
{
	memcpy(out, addr, 16);
	for (int b = plen; b < 128; b++)
		out[b / 8] &= ~(0x80 >> (b % 8));
}

static int fwc_lpm_write(struct fwc *f, int chain, int t, uint8_t plen, const uint8_t *addr, uint32_t vec)
{
	int six = t == FW_T_SRC6 || t == FW_T_DST6;
	int fd = six ? f->m.lpm6[t == FW_T_DST6] : f->m.lpm4[t == FW_T_DST4];
	struct fw_lpm4 k4 = { .plen = 8 + plen, .chain = chain };
	struct fw_lpm6 k6 = { .plen = 8 + plen, .chain = chain };
	void *key = six ? (void *)&k6 : (void *)&k4;

	memcpy(six ? k6.addr : k4.addr, addr, six ? 16 : 4);
	if (vec == FWC_NONE)
		return bpf_map_delete_elem(fd, key) < 0 ? -errno : 0;
	return bpf_map_update_elem(fd, key, &vec, BPF_ANY) < 0 ? -errno : 0;
}

/* ---- what a rule touches ------------------------------------------------- */

/* The rule's address in LPM table t: 1 specific (*plen, addr), 0 wild, -1 none. */
static int fwc_rule_addr(const struct fwc_rule *r, int t, uint8_t *plen, const uint8_t **addr)
{
	int dst = t == FW_T_DST4 || t == FW_T_DST6, fam = (t == FW_T_SRC6 || t == FW_T_DST6) ? 6 : 4;
	uint8_t rf = dst ? r->dst_family : r->src_family;

	if (!rf)
		return 0;
	if (rf != fam)
		return -1;
	*plen = dst ? r->dst_plen : r->src_plen;
	*addr = dst ? r->dst : r->src;
	return *plen ? 1 : 0;
}

/* The array key a rule names in table t (0 wild), for PROTO, SPORT, DPORT, CT. */
static int fwc_rule_key(const struct fwc_rule *r, int t, uint32_t *key)
{
	int v = t == FW_T_PROTO ? r->proto : t == FW_T_SPORT ? r->sport : t == FW_T_DPORT ? r->dport : r->ct;

	if (v < 0)
		return 0;
	*key = v;
	return 1;
}

static uint64_t *fwc_small_entry(struct fwc *f, int chain, int t, uint32_t key)
{
	uint32_t off = t == FW_T_PROTO ? FW_SMALL_PROTO : t == FW_T_FLAGS ? FW_SMALL_FLAGS : FW_SMALL_CT;

	return &f->small[chain * FW_SMALL_KEYS + off + key];
}

static uint64_t *fwc_array_entry(struct fwc *f, int chain, int t, uint32_t key)
{
	if (t == FW_T_SPORT || t == FW_T_DPORT)
		return &f->ports[(chain * 2 + (t == FW_T_DPORT)) * FW_PORT_KEYS + key];
	return fwc_small_entry(f, chain, t, key);
}

static uint32_t *fwc_array_refs(struct fwc_chain *c, int t, uint32_t key)
{
	if (t == FW_T_SPORT || t == FW_T_DPORT)
		return &c->refs_port[t == FW_T_DPORT][key];
	return &c->refs_small[(t == FW_T_PROTO	 ? FW_SMALL_PROTO
			       : t == FW_T_FLAGS ? FW_SMALL_FLAGS
						 : FW_SMALL_CT) +
			      key];
}

typedef void (*fwc_vec_fn)(struct fwc *f, uint32_t vec, void *arg);

/* Every vector of table t of the chain. */
static void fwc_table_each(struct fwc *f, int chain, int t, fwc_vec_fn fn, void *arg)
{
	struct fwc_chain *c = &f->ch[chain];
	fn(f, c->dflt[t], arg);
	if (t <= FW_T_DST6) {
		struct fwc_lpm *l = &c->lpm[t];

		for (uint32_t i = 0; i < l->n; i++)
			fn(f, l->slots[l->dense[i]].vec, arg);
		return;
	}
	for (uint32_t i = 0; i < c->nkeys[t]; i++)
		fn(f, *fwc_array_entry(f, chain, t, c->keys[t][i]), arg);
}

static void fwc_dset_add(struct fwc_chain *c, int t, uint32_t key)
{
	c->keys[t][c->nkeys[t]] = key;
	c->at[t][key] = ++c->nkeys[t];
}

static void fwc_dset_del(struct fwc_chain *c, int t, uint32_t key)
{
	uint32_t i = c->at[t][key] - 1, last = c->keys[t][--c->nkeys[t]];

	c->keys[t][i] = last;
	c->at[t][last] = i + 1;
	c->at[t][key] = 0;
}

/* Every vector the rule of slot s is in. */
static void fwc_rule_each(struct fwc *f, int chain, uint32_t s, fwc_vec_fn fn, void *arg)
{
	struct fwc_chain *c = &f->ch[chain];
	const struct fwc_rule *r = &c->rules[s];

	fn(f, c->all_vec, arg);
	for (int t = 0; t < FW_NTABLES; t++) {
		if (t <= FW_T_DST6) {
			uint8_t plen;
			const uint8_t *addr;
			int k = fwc_rule_addr(r, t, &plen, &addr);
			struct fwc_lpm *l = &c->lpm[t];

			if (k == 0) {
				fwc_table_each(f, chain, t, fn, arg);
			} else if (k > 0) {
				int host = plen == (t <= FW_T_DST4 ? 32 : 128);

				if (host) {
					struct fwc_pfx *p = fwc_pfx_find(l, plen, addr);

					if (p)
						fn(f, p->vec, arg);
					continue;
				}
				for (uint32_t i = 0; i < l->n; i++) {
					struct fwc_pfx *p = &l->slots[l->dense[i]];

					if (fwc_pfx_inside(p->plen, p->addr, plen, addr))
						fn(f, p->vec, arg);
				}
			}
		} else if (t == FW_T_FLAGS) {
			if (!r->has_flags) {
				fwc_table_each(f, chain, t, fn, arg);
				continue;
			}
			for (uint32_t b = 0; b < 256; b++) {
				if ((b & r->flags_mask) == r->flags_val)
					fn(f, *fwc_small_entry(f, chain, t, b), arg);
			}
		} else {
			uint32_t key;

			if (!fwc_rule_key(r, t, &key))
				fwc_table_each(f, chain, t, fn, arg);
			else
				fn(f, *fwc_array_entry(f, chain, t, key), arg);
		}
	}
}

static void fwc_set_fn(struct fwc *f, uint32_t vec, void *arg)
{
	fwc_bit_set(&f->vecs[vec], *(uint32_t *)arg);
}

static void fwc_clear_fn(struct fwc *f, uint32_t vec, void *arg)
{
	fwc_bit_clear(&f->vecs[vec], *(uint32_t *)arg);
}

/* ---- named keys ---------------------------------------------------------- */

/* How many vectors the rule's keys would add (keys not named yet). */
static uint32_t fwc_new_keys(struct fwc *f, int chain, const struct fwc_rule *r)
{
	struct fwc_chain *c = &f->ch[chain];
	uint32_t n = 0;

	for (int t = 0; t < FW_NTABLES; t++) {
		if (t <= FW_T_DST6) {
			uint8_t plen;
			const uint8_t *addr;

			if (fwc_rule_addr(r, t, &plen, &addr) > 0 && !fwc_pfx_find(&c->lpm[t], plen, addr))
				n++;
		} else if (t == FW_T_FLAGS) {
			if (!r->has_flags)
				continue;
			for (uint32_t b = 0; b < 256; b++) {
				if ((b & r->flags_mask) == r->flags_val && !c->refs_small[FW_SMALL_FLAGS + b])
					n++;
			}
		} else {
			uint32_t key;

			if (fwc_rule_key(r, t, &key) && !*fwc_array_refs(c, t, key))
				n++;
		}
	}
	return n;
}

/* The vector a lookup of (plen, addr) gives now: the longest named prefix
 * containing it, or the table's default. */
static uint32_t fwc_lpm_current(struct fwc_chain *c, int t, uint8_t plen, const uint8_t *addr)
{
	uint8_t m[16];

	for (int l = plen; l >= 1; l--) {
		struct fwc_pfx *p;

		fwc_mask(m, addr, l);
		p = fwc_pfx_find(&c->lpm[t], l, m);
		if (p)
			return p->vec;
	}
	return c->dflt[t];
}

/* Names one key: a vector copied from what the key's lookups give now, then
 * the table entry pointing to it. Only called after fwc_new_keys checked the
 * room. */
static int fwc_key_ref(struct fwc *f, int chain, int t, uint8_t plen, const uint8_t *addr, uint32_t key)
{
	struct fwc_chain *c = &f->ch[chain];
	uint32_t v;

	if (t <= FW_T_DST6) {
		struct fwc_pfx *p = fwc_pfx_find(&c->lpm[t], plen, addr);
		int r;

		if (p) {
			p->refs++;
			return 0;
		}
		v = fwc_vec_alloc(f);
		if (v == FWC_NONE)
			return -ENOSPC;
		memcpy(&f->vecs[v], &f->vecs[fwc_lpm_current(c, t, plen, addr)], sizeof(struct fw_vec));
		r = fwc_lpm_write(f, chain, t, plen, addr, v);
		if (r < 0) {
			fwc_vec_free(f, v);
			return r;
		}
		p = fwc_pfx_add(&c->lpm[t], plen, addr);
		p->vec = v;
		p->refs = 1;
		return 0;
	}
	if ((*fwc_array_refs(c, t, key))++)
		return 0;
	v = fwc_vec_alloc(f);
	if (v == FWC_NONE) {
		(*fwc_array_refs(c, t, key))--;
		return -ENOSPC;
	}
	memcpy(&f->vecs[v], &f->vecs[c->dflt[t]], sizeof(struct fw_vec));
	__atomic_store_n(fwc_array_entry(f, chain, t, key), v, __ATOMIC_RELEASE);
	fwc_dset_add(c, t, key);
	return 0;
}

static void fwc_key_unref(struct fwc *f, int chain, int t, uint8_t plen, const uint8_t *addr, uint32_t key)
{
	struct fwc_chain *c = &f->ch[chain];
	uint32_t v;

	if (t <= FW_T_DST6) {
		struct fwc_pfx *p = fwc_pfx_find(&c->lpm[t], plen, addr);

		if (!p || --p->refs)
			return;
		v = p->vec;
		fwc_lpm_write(f, chain, t, plen, addr, FWC_NONE);
		fwc_pfx_del(&c->lpm[t], p);
		fwc_vec_free(f, v);
		return;
	}
	if (--(*fwc_array_refs(c, t, key)))
		return;
	v = *fwc_array_entry(f, chain, t, key);
	__atomic_store_n(fwc_array_entry(f, chain, t, key), c->dflt[t], __ATOMIC_RELEASE);
	fwc_dset_del(c, t, key);
	fwc_vec_free(f, v);
}

/* Names (ref > 0) or lets go of (ref == 0) every key of the rule. */
static int fwc_rule_keys(struct fwc *f, int chain, const struct fwc_rule *r, int ref)
{
	struct fwc_chain *c = &f->ch[chain];
	int e;

	for (int t = 0; t < FW_NTABLES; t++) {
		if (t <= FW_T_DST6) {
			uint8_t plen;
			const uint8_t *addr;

			if (fwc_rule_addr(r, t, &plen, &addr) <= 0)
				continue;
			if (!ref) {
				fwc_key_unref(f, chain, t, plen, addr, 0);
				continue;
			}
			e = fwc_key_ref(f, chain, t, plen, addr, 0);
			if (e < 0)
				return e;
		} else if (t == FW_T_FLAGS) {
			if (!r->has_flags)
				continue;
			for (uint32_t b = 0; b < 256; b++) {
				if ((b & r->flags_mask) != r->flags_val)
					continue;
				if (!ref) {
					fwc_key_unref(f, chain, t, 0, NULL, b);
					continue;
				}
				e = fwc_key_ref(f, chain, t, 0, NULL, b);
				if (e < 0)
					return e;
			}
		} else {
			uint32_t key;

			if (!fwc_rule_key(r, t, &key))
				continue;
			if (!ref) {
				fwc_key_unref(f, chain, t, 0, NULL, key);
				continue;
			}
			e = fwc_key_ref(f, chain, t, 0, NULL, key);
			if (e < 0)
				return e;
		}
	}
	for (int t = 0; t < FW_NTABLES; t++) {
		uint8_t plen;
		const uint8_t *addr;
		uint32_t key;
		int specific = t <= FW_T_DST6	 ? fwc_rule_addr(r, t, &plen, &addr) != 0
			       : t == FW_T_FLAGS ? r->has_flags
						 : fwc_rule_key(r, t, &key);

		if (specific)
			c->use[t] += ref ? 1 : -1;
	}
	return 0;
}

/* ---- positions ----------------------------------------------------------- */

static void fwc_pos_write(struct fwc *f, int chain, uint32_t pos, uint64_t val)
{
	__atomic_store_n(&f->posmap[chain * FW_POS_BITS + pos], val, __ATOMIC_RELEASE);
}

static bool fwc_pos_free(struct fwc *f, int chain, uint32_t pos)
{
	return !(f->posmap[chain * FW_POS_BITS + pos] & FW_POS_USED);
}

/* Moves the rule at rank i by one position (+1 or -1): set at the new, then
 * cleared at the old, so that it is never absent; no rule lies between. */
static void fwc_move(struct fwc *f, int chain, uint32_t i, int dir)
{
	struct fwc_chain *c = &f->ch[chain];
	uint32_t s = c->order[i], from = c->pos[s], to = from + dir;

	fwc_pos_write(f, chain, to, f->posmap[chain * FW_POS_BITS + from]);
	fwc_rule_each(f, chain, s, fwc_set_fn, &to);
	fwc_rule_each(f, chain, s, fwc_clear_fn, &from);
	fwc_pos_write(f, chain, from, 0);
	c->pos[s] = to;
	f->moves++;
}

/*
 * A position for a new rule at rank id: in the gap between its neighbours,
 * or made by moving the rules between it and the nearest free position.
 */
static int fwc_make_pos(struct fwc *f, int chain, uint32_t id, uint32_t *out)
{
	struct fwc_chain *c = &f->ch[chain];
	int64_t lo = id ? (int64_t)c->pos[c->order[id - 1]] : -1;
	int64_t hi = id < c->n ? (int64_t)c->pos[c->order[id]] : FW_POS_BITS;
	int64_t left, right;
	uint32_t k;

	if (!c->n) {
		*out = FWC_FIRST;
		return 0;
	}
	if (id == c->n && hi - lo > FWC_STEP) {
		*out = lo + FWC_STEP;
		return 0;
	}
	if (id == 0 && lo < 0 && hi > 0) {
		*out = hi / 2;
		return 0;
	}
	if (hi - lo > 1) {
		*out = (lo + hi) / 2;
		return 0;
	}
	/* no gap: the nearest free position, to the right of hi or left of lo */
	for (right = hi; right < FW_POS_BITS && !fwc_pos_free(f, chain, right); right++)
		;
	for (left = lo; left >= 0 && !fwc_pos_free(f, chain, left); left--)
		;
	if (right < FW_POS_BITS && (left < 0 || right - hi <= lo - left)) {
		/* the rules of ranks id .. id + (right - hi) - 1 move up, last first */
		uint32_t cnt = right - hi;

		for (k = cnt; k-- > 0;)
			fwc_move(f, chain, id + k, +1);
		*out = hi;
		return 0;
	}
	if (left >= 0) {
		uint32_t cnt = lo - left;

		for (k = 0; k < cnt; k++)
			fwc_move(f, chain, id - cnt + k, -1);
		*out = lo;
		return 0;
	}
	return -ENOSPC;
}

/* ---- chains -------------------------------------------------------------- */

static int fwc_counters_zero(struct fwc *f, int chain, uint32_t slot)
{
	struct fw_counter zero[f->ncpus];
	uint32_t key = chain * FW_CNT_KEYS + slot;

	memset(zero, 0, sizeof(zero));
	return bpf_map_update_elem(f->m.counters, &key, zero, BPF_ANY) < 0 ? -errno : 0;
}

static int fwc_chain_write(struct fwc *f, int chain)
{
	struct fwc_chain *c = &f->ch[chain];
	struct fw_chain_conf cc = { .default_action = c->default_action, .all_vec = c->all_vec, .nrules = c->n };
	uint32_t key = chain;

	return bpf_map_update_elem(f->m.chains, &key, &cc, BPF_ANY) < 0 ? -errno : 0;
}

int fwc_set_default(struct fwc *f, int chain, int action)
{
	f->ch[chain].default_action = action;
	return fwc_chain_write(f, chain);
}

uint32_t fwc_count(const struct fwc *f, int chain)
{
	return f->ch[chain].n;
}

const struct fwc_rule *fwc_get(const struct fwc *f, int chain, uint32_t id)
{
	const struct fwc_chain *c = &f->ch[chain];

	return id < c->n ? &c->rules[c->order[id]] : NULL;
}

uint32_t fwc_slot(const struct fwc *f, int chain, uint32_t id)
{
	return f->ch[chain].order[id];
}

int fwc_find(const struct fwc *f, int chain, const struct fwc_rule *r)
{
	const struct fwc_chain *c = &f->ch[chain];

	for (uint32_t i = 0; i < c->n; i++) {
		if (fwc_rule_same(&c->rules[c->order[i]], r))
			return i;
	}
	return -ENOENT;
}

uint32_t fwc_matchers(const struct fwc *f, int chain)
{
	const struct fwc_chain *c = &f->ch[chain];

	return (c->use[FW_T_SRC4] || c->use[FW_T_SRC6] ? FW_M_SRC : 0) |
	       (c->use[FW_T_DST4] || c->use[FW_T_DST6] ? FW_M_DST : 0) | (c->use[FW_T_PROTO] ? FW_M_PROTO : 0) |
	       (c->use[FW_T_SPORT] ? FW_M_SPORT : 0) | (c->use[FW_T_DPORT] ? FW_M_DPORT : 0) |
	       (c->use[FW_T_FLAGS] ? FW_M_FLAGS : 0) | (c->use[FW_T_CT] ? FW_M_CT : 0);
}

uint32_t fwc_vecs_used(const struct fwc *f)
{
	return f->vecs_used;
}

uint64_t fwc_moves(const struct fwc *f)
{
	return f->moves;
}

static int fwc_room(struct fwc *f, int chain, uint32_t nrules, uint32_t nvecs, char *err, size_t errlen)
{
	if (f->ch[chain].n + nrules > FW_RULES_MAX) {
		snprintf(err, errlen, "chain %s is full: it holds at most %u rules", chain ? "EGRESS" : "INGRESS",
			 FW_RULES_MAX);
		return -ENOSPC;
	}
	if (nvecs > f->fq_n) {
		snprintf(err, errlen,
			 "the firewall is full: its rules may name at most %u distinct values (addresses, ports, "
			 "protocols, flags) in all",
			 FW_VECS_MAX);
		return -ENOSPC;
	}
	return 0;
}

int fwc_insert(struct fwc *f, int chain, uint32_t id, const struct fwc_rule *r, char *err, size_t errlen)
{
	struct fwc_chain *c = &f->ch[chain];
	uint32_t s, pos;
	int e;

	if (id > c->n) {
		snprintf(err, errlen, "rule id %u is past the end of chain %s (%u rules: ids 0-%u, %u appends)", id,
			 chain ? "EGRESS" : "INGRESS", c->n, c->n ? c->n - 1 : 0, c->n);
		return -ERANGE;
	}
	e = fwc_room(f, chain, 1, fwc_new_keys(f, chain, r), err, errlen);
	if (e < 0)
		return e;
	for (s = 0; s < FW_RULES_MAX && c->used[s]; s++)
		;
	e = fwc_make_pos(f, chain, id, &pos);
	if (e < 0) {
		snprintf(err, errlen, "chain %s has no free position", chain ? "EGRESS" : "INGRESS");
		return e;
	}
	c->rules[s] = *r;
	e = fwc_rule_keys(f, chain, r, 1);
	if (e < 0) {
		fwc_rule_keys(f, chain, r, 0);
		snprintf(err, errlen, "cannot write the tables of the rule: %s", strerror(-e));
		return e;
	}
	fwc_counters_zero(f, chain, s);
	c->used[s] = true;
	c->pos[s] = pos;
	memmove(&c->order[id + 1], &c->order[id], (c->n - id) * sizeof(c->order[0]));
	c->order[id] = s;
	c->n++;
	fwc_pos_write(f, chain, pos, FW_POS_VAL(s, r->action));
	fwc_rule_each(f, chain, s, fwc_set_fn, &pos);
	return fwc_chain_write(f, chain);
}

int fwc_delete(struct fwc *f, int chain, uint32_t id, char *err, size_t errlen)
{
	struct fwc_chain *c = &f->ch[chain];
	uint32_t s, pos;

	if (id >= c->n) {
		snprintf(err, errlen, "chain %s has no rule %u (%u rules)", chain ? "EGRESS" : "INGRESS", id, c->n);
		return -ERANGE;
	}
	s = c->order[id];
	pos = c->pos[s];
	fwc_rule_each(f, chain, s, fwc_clear_fn, &pos);
	fwc_pos_write(f, chain, pos, 0);
	fwc_rule_keys(f, chain, &c->rules[s], 0);
	c->used[s] = false;
	memmove(&c->order[id], &c->order[id + 1], (c->n - id - 1) * sizeof(c->order[0]));
	c->n--;
	return fwc_chain_write(f, chain);
}

/* ---- batches ------------------------------------------------------------- */

/* An entry of a batch's working order: an existing slot or a new rule. */
struct fwc_work {
	int32_t slot; /* -1: new */
	const struct fwc_rule *rule;
};

int fwc_batch(struct fwc *f, int chain, const struct fwc_op *ops, size_t n, char *err, size_t errlen)
{
	struct fwc_chain *c = &f->ch[chain];
	size_t cap = c->n + n, wn = c->n;
	struct fwc_work *w = calloc(cap ? cap : 1, sizeof(*w));
	bool *kept = calloc(FW_RULES_MAX, sizeof(*kept));
	int e = 0;

	if (!w || !kept) {
		e = -ENOMEM;
		snprintf(err, errlen, "out of memory for a batch of %zu", n);
		goto out;
	}
	for (uint32_t i = 0; i < c->n; i++)
		w[i] = (struct fwc_work){ .slot = c->order[i], .rule = &c->rules[c->order[i]] };
	/* 1: every operation on the working order */
	for (size_t k = 0; k < n; k++) {
		const struct fwc_op *o = &ops[k];
		uint32_t at = o->id;

		switch (o->kind) {
		case FWC_APPEND: at = wn; /* fall through */
		case FWC_INSERT:
			if (at > wn) {
				snprintf(err, errlen, "batch entry %zu: insert at %u is past the end (%zu rules then)",
					 k, at, wn);
				e = -ERANGE;
				goto out;
			}
			memmove(&w[at + 1], &w[at], (wn - at) * sizeof(*w));
			w[at] = (struct fwc_work){ .slot = -1, .rule = &o->rule };
			wn++;
			break;
		case FWC_DELETE:
			if (o->by_fields) {
				size_t i;

				for (i = 0; i < wn && !fwc_rule_same(w[i].rule, &o->rule); i++)
					;
				if (i == wn) {
					snprintf(err, errlen, "batch entry %zu: no rule to delete has those fields", k);
					e = -ENOENT;
					goto out;
				}
				at = i;
			}
			if (at >= wn) {
				snprintf(err, errlen, "batch entry %zu: no rule %u to delete (%zu rules then)", k, at,
					 wn);
				e = -ERANGE;
				goto out;
			}
			memmove(&w[at], &w[at + 1], (wn - at - 1) * sizeof(*w));
			wn--;
			break;
		case FWC_UPDATE:
			if (at >= wn) {
				snprintf(err, errlen, "batch entry %zu: no rule %u to update (%zu rules then)", k, at,
					 wn);
				e = -ERANGE;
				goto out;
			}
			w[at] = (struct fwc_work){ .slot = -1, .rule = &o->rule };
			break;
		default: e = -EINVAL; goto out;
		}
		if (wn > FW_RULES_MAX) {
			snprintf(err, errlen, "batch entry %zu: chain %s would hold more than %u rules", k,
				 chain ? "EGRESS" : "INGRESS", FW_RULES_MAX);
			e = -ENOSPC;
			goto out;
		}
	}
	/* 2: the room, counted on a copy of the named keys' counts */
	{
		uint32_t extra = 0;

		for (size_t i = 0; i < wn; i++) {
			if (w[i].slot >= 0)
				kept[w[i].slot] = true;
		}
		/* upper bound: new rules' unnamed keys, without the ones freed */
		for (size_t i = 0; i < wn; i++) {
			if (w[i].slot < 0)
				extra += fwc_new_keys(f, chain, w[i].rule);
		}
		if (extra > f->fq_n) {
			/* precise: what the final set needs against what is free after the deletions */
			snprintf(err, errlen,
				 "the firewall is full: its rules may name at most %u distinct values (addresses, "
				 "ports, "
				 "protocols, flags) in all",
				 FW_VECS_MAX);
			e = -ENOSPC;
			goto out;
		}
	}
	/* 3: the rules that left, then the new ones by rank */
	for (uint32_t i = c->n; i-- > 0;) {
		if (!kept[c->order[i]]) {
			e = fwc_delete(f, chain, i, err, errlen);
			if (e < 0)
				goto out;
		}
	}
	for (size_t i = 0; i < wn; i++) {
		if (w[i].slot >= 0)
			continue;
		e = fwc_insert(f, chain, i, w[i].rule, err, errlen);
		if (e < 0)
			goto out; /* only a failing system call: the checks above passed */
	}
out:
	free(w);
	free(kept);
	return e;
}

/* ---- life ---------------------------------------------------------------- */

static void *fwc_mmap(int fd, size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);

	return p == MAP_FAILED ? NULL : p;
}

struct fwc *fwc_new(const struct fwc_maps *m, char *err, size_t errlen)
{
	struct fwc *f = calloc(1, sizeof(*f));
	int r;

	if (!f) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	/* our own descriptors: a reload of the program closes its object's */
	f->m = *m;
	{
		const int *orig = (const int *)m;
		int *fds[] = { &f->m.vecs,    &f->m.ports,   &f->m.small,   &f->m.pos,	    &f->m.lpm4[0],
			       &f->m.lpm4[1], &f->m.lpm6[0], &f->m.lpm6[1], &f->m.counters, &f->m.chains };

		/* struct fwc_maps is ints only, in the order of fds[] */
		for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++)
			*fds[i] = -1;
		for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++) {
			int fd = orig[i] >= 0 ? fcntl(orig[i], F_DUPFD_CLOEXEC, 3) : -1;

			*fds[i] = fd;
			if (fd < 0) {
				snprintf(err, errlen, "cannot open the firewall's maps: %s", strerror(errno));
				goto fail;
			}
		}
	}
	f->ncpus = libbpf_num_possible_cpus();
	f->vecs_len = (size_t)FW_VECS_MAX * sizeof(struct fw_vec);
	f->ports_len = (size_t)FW_NCHAINS * 2 * FW_PORT_KEYS * 8;
	f->small_len = (size_t)FW_NCHAINS * FW_SMALL_KEYS * 8;
	f->pos_len = (size_t)FW_NCHAINS * FW_POS_BITS * 8;
	f->vecs = fwc_mmap(m->vecs, f->vecs_len);
	f->ports = fwc_mmap(m->ports, f->ports_len);
	f->small = fwc_mmap(m->small, f->small_len);
	f->posmap = fwc_mmap(m->pos, f->pos_len);
	if (!f->vecs || !f->ports || !f->small || !f->posmap) {
		snprintf(err, errlen, "cannot map the firewall's tables: %s", strerror(errno));
		goto fail;
	}
	for (uint32_t v = 0; v < FW_VECS_MAX; v++)
		f->freeq[v] = v;
	f->fq_n = FW_VECS_MAX;
	memset(f->posmap, 0, f->pos_len);
	for (int ch = 0; ch < FW_NCHAINS; ch++) {
		struct fwc_chain *c = &f->ch[ch];

		c->default_action = FW_ACCEPT;
		for (int t = 0; t < FW_NTABLES; t++) {
			c->dflt[t] = fwc_vec_alloc(f);
			memset(&f->vecs[c->dflt[t]], 0, sizeof(struct fw_vec));
		}
		c->all_vec = fwc_vec_alloc(f);
		memset(&f->vecs[c->all_vec], 0, sizeof(struct fw_vec));
		for (int t = FW_T_PROTO; t < FW_NTABLES; t++) {
			c->keys[t] = calloc(FW_PORT_KEYS, sizeof(uint32_t));
			c->at[t] = calloc(FW_PORT_KEYS, sizeof(uint32_t));
			if (!c->keys[t] || !c->at[t]) {
				snprintf(err, errlen, "out of memory");
				goto fail;
			}
		}
		for (int t = 0; t < 4; t++) {
			c->lpm[t].slots = calloc(FWC_HASH, sizeof(struct fwc_pfx));
			c->lpm[t].dense = calloc(FWC_HASH, sizeof(uint32_t));
			if (!c->lpm[t].slots || !c->lpm[t].dense) {
				snprintf(err, errlen, "out of memory");
				goto fail;
			}
		}
		for (uint32_t k = 0; k < FW_PORT_KEYS; k++) {
			f->ports[(ch * 2) * FW_PORT_KEYS + k] = c->dflt[FW_T_SPORT];
			f->ports[(ch * 2 + 1) * FW_PORT_KEYS + k] = c->dflt[FW_T_DPORT];
		}
		for (uint32_t k = 0; k < 256; k++)
			*fwc_small_entry(f, ch, FW_T_PROTO, k) = c->dflt[FW_T_PROTO];
		for (uint32_t k = 0; k < 257; k++)
			*fwc_small_entry(f, ch, FW_T_FLAGS, k) = c->dflt[FW_T_FLAGS];
		for (uint32_t k = 0; k < 5; k++)
			*fwc_small_entry(f, ch, FW_T_CT, k) = c->dflt[FW_T_CT];
	}
	/* the tries: emptied, then each chain's /0 roots its default */
	for (int i = 0; i < 4; i++) {
		int fd = i < 2 ? m->lpm4[i] : m->lpm6[i - 2];
		uint8_t key[32], next[32];

		while (bpf_map_get_next_key(fd, NULL, next) == 0) {
			memcpy(key, next, sizeof(key));
			if (bpf_map_delete_elem(fd, key) < 0)
				break;
		}
	}
	for (int ch = 0; ch < FW_NCHAINS; ch++) {
		static const uint8_t zero[16];

		for (int t = 0; t < 4; t++) {
			r = fwc_lpm_write(f, ch, t, 0, zero, f->ch[ch].dflt[t]);
			if (r < 0) {
				snprintf(err, errlen, "cannot write the firewall's address tables: %s", strerror(-r));
				goto fail;
			}
		}
		r = fwc_chain_write(f, ch);
		if (r < 0) {
			snprintf(err, errlen, "cannot write the firewall's chains: %s", strerror(-r));
			goto fail;
		}
	}
	return f;
fail:
	fwc_destroy(&f);
	return NULL;
}

void fwc_destroy(struct fwc **fp)
{
	struct fwc *f = *fp;

	if (!f)
		return;
	{
		int fds[] = { f->m.vecs,    f->m.ports,	  f->m.small,	f->m.pos,      f->m.lpm4[0],
			      f->m.lpm4[1], f->m.lpm6[0], f->m.lpm6[1], f->m.counters, f->m.chains };

		for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++)
			if (fds[i] >= 0)
				close(fds[i]);
	}
	if (f->vecs)
		munmap(f->vecs, f->vecs_len);
	if (f->ports)
		munmap(f->ports, f->ports_len);
	if (f->small)
		munmap(f->small, f->small_len);
	if (f->posmap)
		munmap(f->posmap, f->pos_len);
	for (int ch = 0; ch < FW_NCHAINS; ch++) {
		for (int t = 0; t < 4; t++) {
			free(f->ch[ch].lpm[t].slots);
			free(f->ch[ch].lpm[t].dense);
		}
		for (int t = 0; t < FW_NTABLES; t++) {
			free(f->ch[ch].keys[t]);
			free(f->ch[ch].at[t]);
		}
	}
	free(f);
	*fp = NULL;
}
