/* SPDX-License-Identifier: Apache-2.0 */
/*
 * firewall fast path: a transparent cube that classifies each IP packet by
 * its chain (INGRESS toward the cube it is attached to, EGRESS the other
 * way) and drops it, lets it pass, or lets it pass and logs it. How the
 * tables classify is in firewall_shared.h; fwc.c writes them.
 *
 * Specialisation (DESIGN §3.5): fw_matchers_ingress / fw_matchers_egress
 * say which fields the chain's rules use; the verifier removes the lookups
 * and the ANDs of the others. The process loads a new program on the same
 * maps when a rule needs a matcher the loaded one lacks.
 */
#define CUBE_TRANSPARENT
#include "cubebus/cube.bpf.h"
#include "cubebus/parsing.bpf.h"
#include "cubebus/ct.bpf.h"
#include "firewall_shared.h"

/* Until the process says otherwise, every matcher: correct for any rules. */
const volatile __u32 fw_matchers_ingress = 0x7f;
const volatile __u32 fw_matchers_egress = 0x7f;
/* Connection tracking in the program: conntrack ON, or a rule matches a
 * state. 0: the verifier removes it all. */
const volatile __u32 fw_track = 1;

/* the sessions of both chains: a connection opened through one chain is
 * found by its replies through the other */
CB_CT_MAP(fw_ct, FW_CT_MAX);

/* a packet's tracking, off the stack (cb_ct_pkt and cb_ct_ref are ~200 bytes) */
struct fw_ct_scratch {
	struct cb_ct_pkt pkt;
	struct cb_ct_ref ref;
	__u32 parsed;
};
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct fw_ct_scratch);
} fw_ct_scratch SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, FW_VECS_MAX *FW_VLEN);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, __u64);
} fw_bits SEC(".maps");

#define FW_LPM(name, keytype)                         \
	struct {                                      \
		__uint(type, BPF_MAP_TYPE_LPM_TRIE);  \
		__uint(max_entries, FW_LPM_MAX);      \
		__uint(map_flags, BPF_F_NO_PREALLOC); \
		__type(key, keytype);                 \
		__type(value, __u32);                 \
	} name SEC(".maps")
FW_LPM(fw_src4, struct fw_lpm4);
FW_LPM(fw_dst4, struct fw_lpm4);
FW_LPM(fw_src6, struct fw_lpm6);
FW_LPM(fw_dst6, struct fw_lpm6);

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, FW_NCHAINS * 2 * FW_PORT_KEYS);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, __u64);
} fw_ports SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, FW_NCHAINS *FW_SMALL_KEYS);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, __u64);
} fw_small SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, FW_NCHAINS *FW_POS_BITS);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, __u64);
} fw_pos SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, FW_NCHAINS *FW_CNT_KEYS);
	__type(key, __u32);
	__type(value, struct fw_counter);
} fw_counters SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, FW_NCHAINS);
	__type(key, __u32);
	__type(value, struct fw_chain_conf);
} fw_chains SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct fw_conf);
} fw_conf SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, FW_PS_MAX);
	__type(key, __u32);
	__type(value, __u64);
} fw_pstats SEC(".maps");

static __always_inline void fw_pstat(__u32 k)
{
	__u64 *c = bpf_map_lookup_elem(&fw_pstats, &k);

	if (c)
		(*c)++;
}

/* Index of the lowest set bit of x (x != 0), without a branch: the
 * population count of the bits below it. */
static __always_inline __u32 fw_ctz(__u64 x)
{
	x = (x & -x) - 1;
	x = x - ((x >> 1) & 0x5555555555555555ULL);
	x = (x & 0x3333333333333333ULL) + ((x >> 2) & 0x3333333333333333ULL);
	x = (x + (x >> 4)) & 0x0f0f0f0f0f0f0f0fULL;
	return ((x * 0x0101010101010101ULL) >> 56) & 63;
}

/* The vectors of one packet's fields (their first words in fw_bits); a
 * field the chain does not use is the chain's vector of all rules, which
 * changes nothing in an AND. */
struct fw_match {
	__u32 all, src, dst, proto, sport, dport, flags, ct;
	__u32 matchers;
	__u32 first; /* the first summary word with a candidate */
	__u64 top;   /* the AND of the summaries' summaries */
	__u32 found; /* position + 1, 0 none */
};

static __always_inline __u64 fw_word(__u32 k)
{
	__u64 *w = bpf_map_lookup_elem(&fw_bits, &k);

	return w ? *w : 0;
}

/* Word i of the AND of the vectors (0: the top, 1 + i: summary i, 1 + FW_SUMS + w: word w). */
static __always_inline __u64 fw_and(const struct fw_match *m, __u32 i)
{
	__u32 ms = m->matchers;
	__u64 x = fw_word(m->all + i);

	if (ms & FW_M_SRC)
		x &= fw_word(m->src + i);
	if (ms & FW_M_DST)
		x &= fw_word(m->dst + i);
	if (ms & FW_M_PROTO)
		x &= fw_word(m->proto + i);
	if (ms & FW_M_SPORT)
		x &= fw_word(m->sport + i);
	if (ms & FW_M_DPORT)
		x &= fw_word(m->dport + i);
	if (ms & FW_M_FLAGS)
		x &= fw_word(m->flags + i);
	if (ms & FW_M_CT)
		x &= fw_word(m->ct + i);
	return x;
}

/* One summary word: the candidate words every vector has non-zero, in
 * order; the first with a bit in the AND is the rule. A bpf_loop callback,
 * so the verifier checks it once. */
static long fw_and_word(__u32 n, void *data)
{
	struct fw_match *m = data;
	__u32 i = n + m->first;
	__u64 s;

	if (i >= FW_SUMS)
		return 1;
	if (!(m->top & (1ull << i)))
		return 0;
	s = fw_and(m, 1 + i);
	for (int k = 0; k < 64; k++) {
		__u32 wi;
		__u64 w;

		if (!s)
			return 0;
		wi = i * 64 + fw_ctz(s);
		s &= s - 1;
		w = fw_and(m, 1 + FW_SUMS + wi);
		if (w) {
			m->found = wi * 64 + fw_ctz(w) + 1;
			return 1;
		}
	}
	return 0;
}

static __always_inline int fw_vec(__u64 *idx, __u32 *out)
{
	if (!idx || *idx >= FW_VECS_MAX)
		return -1;
	*out = *idx * FW_VLEN;
	return 0;
}

static __always_inline int fw_small_vec(__u32 chain, __u32 off, __u32 *out)
{
	__u32 k = chain * FW_SMALL_KEYS + off;

	return fw_vec(bpf_map_lookup_elem(&fw_small, &k), out);
}

static __always_inline int fw_port_vec(__u32 chain, __u32 which, __u32 port, __u32 *out)
{
	__u32 k = (chain * 2 + which) * FW_PORT_KEYS + port;

	return fw_vec(bpf_map_lookup_elem(&fw_ports, &k), out);
}

/* What classification needs of a packet. */
struct fw_pkt {
	__u8 v6;
	__u8 proto;
	__u16 flags;	    /* TCP flags byte, or FW_FLAGS_NOTCP */
	__u32 sport, dport; /* host order, or FW_PORT_NONE */
	__u32 ct;	    /* enum cb_ct_state, or FW_CT_UNTRACKED */
	__u8 saddr[16], daddr[16];
};

static __always_inline int fw_addr_vec(__u32 chain, const struct fw_pkt *p, int dst, __u32 *out)
{
	__u32 *idx;

	if (p->v6) {
		struct fw_lpm6 key = { .plen = 8 + 128, .chain = chain };

		__builtin_memcpy(key.addr, dst ? p->daddr : p->saddr, 16);
		idx = bpf_map_lookup_elem(dst ? (void *)&fw_dst6 : (void *)&fw_src6, &key);
	} else {
		struct fw_lpm4 key = { .plen = 8 + 32, .chain = chain };

		__builtin_memcpy(key.addr, dst ? p->daddr : p->saddr, 4);
		idx = bpf_map_lookup_elem(dst ? (void *)&fw_dst4 : (void *)&fw_src4, &key);
	}
	if (!idx || *idx >= FW_VECS_MAX)
		return -1;
	*out = *idx * FW_VLEN;
	return 0;
}

/* The position + 1 of the first rule of the chain that matches, 0 none. */
static __always_inline __u32 fw_classify(__u32 chain, const struct fw_chain_conf *cc, const struct fw_pkt *p)
{
	struct fw_match m = { .matchers = chain == FW_INGRESS ? fw_matchers_ingress : fw_matchers_egress };

	if (cc->all_vec >= FW_VECS_MAX)
		return 0;
	m.all = cc->all_vec * FW_VLEN;
	m.src = m.dst = m.proto = m.sport = m.dport = m.flags = m.ct = m.all;
	if ((m.matchers & FW_M_SRC) && fw_addr_vec(chain, p, 0, &m.src) < 0)
		return 0;
	if ((m.matchers & FW_M_DST) && fw_addr_vec(chain, p, 1, &m.dst) < 0)
		return 0;
	if ((m.matchers & FW_M_PROTO) && fw_small_vec(chain, FW_SMALL_PROTO + p->proto, &m.proto) < 0)
		return 0;
	if ((m.matchers & FW_M_SPORT) && fw_port_vec(chain, 0, p->sport, &m.sport) < 0)
		return 0;
	if ((m.matchers & FW_M_DPORT) && fw_port_vec(chain, 1, p->dport, &m.dport) < 0)
		return 0;
	if ((m.matchers & FW_M_FLAGS) && fw_small_vec(chain, FW_SMALL_FLAGS + (p->flags & 0x1ff), &m.flags) < 0)
		return 0;
	if ((m.matchers & FW_M_CT) &&
	    fw_small_vec(chain, FW_SMALL_CT + (p->ct < 5 ? p->ct : FW_CT_UNTRACKED), &m.ct) < 0)
		return 0;
	/* the summaries' summary first: most packets stop here, with no candidate */
	m.top = fw_and(&m, 0);
	if (!m.top)
		return 0;
	m.first = fw_ctz(m.top);
	bpf_loop(FW_SUMS - m.first, fw_and_word, &m, 0);
	return m.found;
}

/* Fills p from the frame: 0, or a negative value for a packet to drop
 * (counted). 1: not IP, accepted unchecked. */
static __always_inline int fw_parse(struct cube_ctx *ctx, struct fw_pkt *p, __u32 *l3_off, __be16 *l3_proto)
{
	void *data = cube_data(ctx), *end = cube_data_end(ctx);
	struct cb_pkt pk;
	int r = cb_parse_pkt(data, end, &pk);

	if (r != CB_PARSE_OK) {
		/* the parser refuses a TCP header shorter than 20 bytes: a data
		 * offset below 5 is a bad header, not a short packet */
		if (pk.l4_proto == IPPROTO_TCP && pk.l4_off) {
			__u8 *t = data + (pk.l4_off & 0x3ff);

			if ((void *)(t + 13) <= end && (t[12] >> 4) < 5) {
				fw_pstat(FW_PS_BADTCP);
				return -1;
			}
		}
		fw_pstat(FW_PS_SHORT);
		return -1;
	}
	p->flags = FW_FLAGS_NOTCP;
	p->sport = p->dport = FW_PORT_NONE;
	p->ct = FW_CT_UNTRACKED;
	if (pk.proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip = data + (pk.l3_off & 0xff);

		if ((void *)(ip + 1) > end)
			return -1;
		if (ip->ihl > 5)
			fw_pstat(FW_PS_IPOPT);
		__builtin_memcpy(p->saddr, &ip->saddr, 4);
		__builtin_memcpy(p->daddr, &ip->daddr, 4);
		p->v6 = 0;
	} else if (pk.proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = data + (pk.l3_off & 0xff);

		if ((void *)(ip6 + 1) > end)
			return -1;
		__builtin_memcpy(p->saddr, &ip6->saddr, 16);
		__builtin_memcpy(p->daddr, &ip6->daddr, 16);
		p->v6 = 1;
	} else {
		fw_pstat(FW_PS_NONIP);
		return 1;
	}
	p->proto = pk.l4_proto;
	*l3_off = pk.l3_off & 0xff;
	*l3_proto = pk.proto;
	if (pk.later_frag) {
		fw_pstat(FW_PS_FRAG);
		return 0; /* no L4 header: rules with ports or flags do not match */
	}
	if (pk.l4_proto == IPPROTO_TCP) {
		__u8 *t = data + (pk.l4_off & 0x3ff);

		if ((void *)(t + 14) > end)
			return -1;
		if ((t[12] >> 4) < 5) {
			fw_pstat(FW_PS_BADTCP);
			return -1;
		}
		p->flags = t[13];
	}
	if (pk.l4_proto == IPPROTO_TCP || pk.l4_proto == IPPROTO_UDP || pk.l4_proto == IPPROTO_SCTP) {
		p->sport = bpf_ntohs(pk.sport);
		p->dport = bpf_ntohs(pk.dport);
	}
	return 0;
}

/*
 * The tracking is in global functions: the verifier checks each once, apart
 * from the classification (inlined, the two multiply past its limit).
 * fw_ct_look: the packet's state (enum cb_ct_state, or FW_CT_UNTRACKED);
 * ct->parsed says whether ct->pkt / ct->ref are there for the commit.
 */
__noinline int fw_ct_look(struct cube_ctx *ctx, struct fw_ct_scratch *ct, __u32 l3_off, __u32 l3_proto, __u64 now)
{
	void *data, *end;
	int pr;

	if (!ctx || !ct)
		return FW_CT_UNTRACKED;
	ct->parsed = 0;
	data = cube_data(ctx);
	end = cube_data_end(ctx);
	pr = cb_ct_parse(cb_ct_rebase(data, data + (l3_off & 0xff)), end, (__be16)l3_proto, &ct->pkt);
	if (pr != CB_CT_P_OK)
		return pr == CB_CT_P_SHORT || pr == CB_CT_P_BAD ? CB_CT_INVALID : FW_CT_UNTRACKED;
	ct->parsed = 1;
	return cb_ct_lookup(fw_ct, &ct->pkt, now, &ct->ref);
}

__noinline int fw_ct_commit_one(struct fw_ct_scratch *ct, __u64 now)
{
	if (!ct || !ct->parsed)
		return 0;
	return cb_ct_commit(fw_ct, &ct->pkt, &ct->ref, now);
}

static __always_inline int fw_ct_parsed(const struct fw_ct_scratch *ct)
{
	return ct->parsed;
}

static __always_inline void fw_ct_commit(struct fw_ct_scratch *ct, __u32 state, __u64 now)
{
	if (state != CB_CT_INVALID && fw_ct_commit_one(ct, now) == -E2BIG)
		fw_pstat(FW_PS_CT_FULL);
}

static __always_inline int handle_rx(struct cube_ctx *ctx, struct cb_md *md)
{
	__u32 chain = cube_is_ingress(md) ? FW_INGRESS : FW_EGRESS, zero = 0, found, action, slot, key, l3_off = 0;
	struct fw_ct_scratch *ct = NULL;
	__be16 l3_proto = 0;
	__u64 now = 0;
	struct fw_chain_conf *cc;
	struct fw_counter *cnt;
	struct fw_pkt p = {};
	int r;

	if (md->in_port > CUBE_PORT_OUTER)
		return cube_drop(ctx, md); /* a transparent cube has two ports */
	r = fw_parse(ctx, &p, &l3_off, &l3_proto);
	if (r > 0)
		return cube_pass(ctx, md);
	if (r < 0)
		return cube_drop(ctx, md);
	cc = bpf_map_lookup_elem(&fw_chains, &chain);
	if (!cc)
		return cube_pass(ctx, md); /* not configured yet: the model's default */
	if (fw_track) {
		struct fw_conf *conf = bpf_map_lookup_elem(&fw_conf, &zero);

		ct = bpf_map_lookup_elem(&fw_ct_scratch, &zero);
		if (!conf || !conf->conntrack) {
			ct = NULL;
		} else if (ct) {
			now = bpf_ktime_get_ns();
			p.ct = fw_ct_look(ctx, ct, l3_off, l3_proto, now);
			if (p.ct > CB_CT_INVALID || !fw_ct_parsed(ct))
				ct = NULL; /* not tracked: nothing to commit */
			if (ct && conf->accept_established && (p.ct == CB_CT_ESTABLISHED || p.ct == CB_CT_RELATED)) {
				fw_pstat(FW_PS_CT_ACCEPTED);
				fw_ct_commit(ct, p.ct, now);
				return cube_pass(ctx, md);
			}
		}
	}
	found = cc->nrules ? fw_classify(chain, cc, &p) : 0;
	if (found) {
		__u32 pk = chain * FW_POS_BITS + ((found - 1) & (FW_POS_BITS - 1));
		__u64 *pv = bpf_map_lookup_elem(&fw_pos, &pk);

		if (!pv || !(*pv & FW_POS_USED)) {
			found = 0;
		} else {
			action = FW_POS_ACTION(*pv);
			slot = FW_POS_SLOT(*pv);
		}
	}
	if (!found) {
		action = cc->default_action;
		slot = FW_RULES_MAX;
	}
	key = chain * FW_CNT_KEYS + slot;
	cnt = bpf_map_lookup_elem(&fw_counters, &key);
	if (cnt) {
		cnt->pkts++;
		cnt->bytes += cube_len(ctx);
	}
	cube_log(md, CB_LOG_TRACE, "verdict", chain, slot, action);
	if (action == FW_DROP)
		return cube_drop(ctx, md);
	if (fw_track && ct)
		fw_ct_commit(ct, p.ct, now); /* an accepted packet opens or advances its session */
	if (action == FW_LOG) {
		md->words[0] = chain;
		md->words[1] = slot;
		if (cube_pktin(ctx, md, CB_REASON_SERVICE) == 0)
			fw_pstat(FW_PS_LOGGED);
	}
	return cube_pass(ctx, md);
}
