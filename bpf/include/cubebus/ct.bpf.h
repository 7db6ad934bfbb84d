/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ct.bpf.h - connection tracking, an SDK module (firewall, issue 11; NAT,
 * issue 12).
 *
 * ---- Interface --------------------------------------------------------------
 *
 *   CB_CT_MAP(name, max)   declares three maps:
 *       name           BPF_MAP_TYPE_HASH, struct cb_ct_key -> struct cb_ct_entry,
 *                      one entry per connection (both directions find it: the
 *                      key is normalised, the entry says which side opened it).
 *                      A plain hash, not LRU: a full table refuses new entries,
 *                      it never evicts a live one.
 *       name##_timeouts ARRAY[1] of struct cb_ct_timeouts; a field left 0 takes
 *                      its default (table below), so an untouched map is Linux.
 *       name##_stats   PERCPU_ARRAY[1] of struct cb_ct_stats (commits, failed
 *                      commits on a full table, ...).
 *
 *   int cb_ct_parse(void *l3, void *end, __be16 eth_proto, struct cb_ct_pkt *p)
 *       from the L3 header on (eth_proto is ETH_P_IP or ETH_P_IPV6 in network
 *       order, as cb_pkt.proto). Returns enum cb_ct_parse_result: CB_CT_P_OK
 *       (trackable), CB_CT_P_UNTRACKED (not IP, or an ICMP message that is
 *       neither echo nor error, e.g. neighbour discovery), CB_CT_P_FRAG (a
 *       fragment after the first), CB_CT_P_SHORT (a header is cut short),
 *       CB_CT_P_BAD (wrong IP version, IHL < 5, an IP length shorter than
 *       the headers, more than CB_IPV6_EXT_MAX extension headers, a TCP data
 *       offset < 5 or past the IP length). Never reads past end. Only
 *       CB_CT_P_OK packets may go to lookup. Lengths (the TCP payload) come
 *       from the IP header, so only the headers need be in data..end; an
 *       ICMP error is parsed with its quote, which must be there too (or the
 *       error is INVALID): in TC, bpf_skb_pull_data() the first ~200 bytes
 *       of ICMP errors first.
 *
 *   enum cb_ct_state cb_ct_lookup(map, struct cb_ct_pkt *p, __u64 now,
 *                                 struct cb_ct_ref *ref)
 *       the state the packet has, changing nothing: CB_CT_NEW (unknown or
 *       expired flow that may open one, or the opening direction of a flow
 *       that has not been answered yet, as netfilter), CB_CT_ESTABLISHED,
 *       CB_CT_RELATED (an ICMP error quoting a tracked flow), CB_CT_INVALID
 *       (breaks the TCP machine, a reply with no flow, an ICMP error quoting
 *       an unknown flow or garbage). ref holds what commit needs.
 *
 *   int cb_ct_commit(map, struct cb_ct_pkt *p, struct cb_ct_ref *ref, __u64 now)
 *       after the verdict (call it only for accepted packets): creates the
 *       entry of a NEW flow, or advances the entry. INVALID and RELATED
 *       change nothing. Returns 0, or -E2BIG when the table is full (counted
 *       in name##_stats.full; nothing evicted), or another negative errno.
 *
 *   "now" is in nanoseconds of CLOCK_MONOTONIC (bpf_ktime_get_ns() in BPF,
 *   cb_ct_now() in user space). Tests pass their own.
 *
 *   User space (cube-services/lib/ct.h): cb_ct_foreach(map_fd, now, cb, arg)
 *   gives each live session as the session-table shows it; cb_ct_sweep(
 *   map_fd, stats_fd, now, &counts) deletes expired entries and counts.
 *
 *   Use (a sketch; tests/bpf/ct_probe.bpf.c is a complete one):
 *       CB_CT_MAP(fw_ct, 65536);
 *       struct cb_ct_pkt p;
 *       struct cb_ct_ref ref;
 *       __u64 now = bpf_ktime_get_ns();
 *       int st = CB_CT_INVALID;
 *       if (cb_ct_parse(l3, end, proto, &p) == CB_CT_P_OK)
 *               st = cb_ct_lookup(fw_ct, &p, now, &ref);
 *       ... classify with st ...
 *       if (accepted && st != CB_CT_INVALID && cb_ct_commit(fw_ct, &p, &ref, now))
 *               ... count: the table is full (name##_stats counts it too) ...
 *
 *   For callers: cb_ct_pkt is 108 bytes and cb_ct_ref 96, on the caller's
 *   stack (or in a per-CPU map, which lets lookup and commit sit in
 *   different tail calls: ref holds a copy of the entry, never a pointer).
 *   Entries are updated in place without a lock (see struct cb_ct_entry):
 *   past the handshake each direction writes only its own fields, and
 *   those only forward (read again at commit: the window left is the few
 *   instructions between that read and the write; BPF's default CPU has no
 *   compare-and-swap), so the CPUs running a connection do not undo each
 *   other's sequence numbers;
 *   the state shown may lag one packet behind (it is derived again from
 *   both directions' flags at the next one). The service's cookie (NAT: its binding) is kept by
 *   every update, including a TCP reopen; a new or replaced entry has 0.
 *   The probe (tests/bpf/ct_probe.bpf.c: parse, lookup, commit, and its
 *   test paths) costs the verifier 15 915 instructions on kernel 6.18; a
 *   TCP data packet of an established flow costs ~75 ns (lookup + commit,
 *   over the probe's own ~30 ns) on an idle machine, ~120 ns at load 4 on
 *   the 2 CPUs (test_ct's figures).
 *   Pointer differences need CAP_PERFMON (cubes run as root).
 *
 * ---- Timeouts (seconds; defaults as Linux's nf_conntrack sysctls) ----------
 *
 *   TCP SYN_SENT 120   SYN_RECV 60    ESTABLISHED 432000 (5 days)
 *       FIN_WAIT 120   CLOSE_WAIT 60  LAST_ACK 30   TIME_WAIT 120   CLOSE 10
 *   UDP unreplied 30   replied 120 (nf_conntrack_udp_timeout_stream)
 *   ICMP / ICMPv6 echo 30            other protocols (generic) 600
 *
 *   An entry expires at the time of its last accepted packet plus the
 *   timeout of the state that packet left it in; an expired entry counts as
 *   absent (lookup sees an unknown flow; commit overwrites it).
 *
 * ---- TCP --------------------------------------------------------------------
 *
 *   States (enum cb_ct_l4state): SYN_SENT, SYN_RECV, ESTABLISHED, FIN_WAIT
 *   (one FIN sent, not yet acked), CLOSE_WAIT (one FIN sent and acked, the
 *   other side still open), LAST_ACK (both FINs sent, not both acked: also
 *   simultaneous close), TIME_WAIT (both FINs acked), CLOSE (after an RST).
 *   Window-agnostic but sequence-aware (windows are not checked):
 *   - only a SYN (no ACK/RST/FIN) opens a flow (no mid-stream pick-up);
 *   - a SYN-ACK must ack the SYN's seq + 1; the handshake's ACK must ack the
 *     SYN-ACK's seq + 1;
 *   - no segment may ack data the other side has not sent;
 *   - a FIN is done when acked (ack = its seq + len + 1);
 *   - an RST is taken when its seq lies between what the peer has acked
 *     and what the sender has sent (in SYN_SENT: a reply RST acking the SYN);
 *   - a new SYN in TIME_WAIT or CLOSE reopens; a retransmitted SYN / SYN-ACK
 *     keeps the state;
 *   - anything else is INVALID and does not advance the entry.
 *
 * ---- SDK additions ----------------------------------------------------------
 *   None to parsing.bpf.h; this module parses with its cursor parsers, and
 *   walks IPv6 extension headers itself (cb_ct_ipv6_walk: the same rules as
 *   cb_parse_ipv6_ext, re-basing the cursor at each header). With
 *   cb_parse_ipv6_ext the parse alone did not load (over 1M instructions
 *   verified: its paths multiply with the quote's). If the code before
 *   cb_ct_parse has many paths that leave l3 at different offsets, re-base
 *   l3 the same way (cb_ct_rebase(data, l3)).
 */
#ifndef CUBEBUS_CT_BPF_H
#define CUBEBUS_CT_BPF_H

#include <linux/types.h>

/* ---- shared with user space (cube-services/lib/ct.h) ---------------------- */

/* The order of the model's conntrackstatus enum. */
enum cb_ct_state {
	CB_CT_NEW = 0,
	CB_CT_ESTABLISHED = 1,
	CB_CT_RELATED = 2,
	CB_CT_INVALID = 3,
};

/* An entry's protocol state; indexes struct cb_ct_timeouts. */
enum cb_ct_l4state {
	CB_CT_S_NONE = 0,
	CB_CT_S_SYN_SENT,
	CB_CT_S_SYN_RECV,
	CB_CT_S_ESTABLISHED,
	CB_CT_S_FIN_WAIT,
	CB_CT_S_CLOSE_WAIT,
	CB_CT_S_LAST_ACK,
	CB_CT_S_TIME_WAIT,
	CB_CT_S_CLOSE,
	CB_CT_S_UDP_UNREPLIED,
	CB_CT_S_UDP_REPLIED,
	CB_CT_S_ICMP, /* echo; replied or not: cb_ct_replied() */
	CB_CT_S_GENERIC,
	CB_CT_S_MAX,
};

/* Default timeouts in seconds, indexed by enum cb_ct_l4state. */
#define CB_CT_DEFAULT_TIMEOUTS                                             \
	{                                                                  \
		0, 120, 60, 432000, 120, 60, 30, 120, 10, 30, 120, 30, 600 \
	}

struct cb_ct_timeouts {
	__u32 secs[CB_CT_S_MAX]; /* 0: the default */
};

/*
 * Normalised key: side a is the lower (address, port) of the two, so both
 * directions build the same key. IPv4 addresses sit in the first 4 bytes,
 * the rest zero. For ICMP echo both ports are the identifier; for generic
 * protocols both are 0.
 */
struct cb_ct_key {
	__u32 addr_a[4]; /* network order, word by word */
	__u32 addr_b[4];
	__be16 port_a;
	__be16 port_b;
	__u8 l4proto; /* IPPROTO_* */
	__u8 family;  /* 4 or 6 */
	__u16 pad;
};

/* cb_ct_entry.flags: set when the entry is made */
#define CB_CT_F_ORIG_B 0x01 /* the connection was opened from side b */

/* cb_ct_entry.dflags[dir]: what direction dir did */
#define CB_CT_D_SEEN	  0x01 /* a packet of it was accepted (dflags[1]: replied) */
#define CB_CT_D_FIN	  0x02 /* it sent its FIN */
#define CB_CT_D_FIN_ACKED 0x04 /* it acked the other direction's FIN */
#define CB_CT_D_RST	  0x08 /* it sent an RST */

/*
 * Direction 0 is the originator's, 1 the replier's. Once a connection is
 * established, a packet's commit writes only its own direction's fields
 * (end, acked, fin_end, dflags) and the state, so that the two directions,
 * often on two CPUs at once, never undo each other's progress; the state
 * is derived again from the dflags of both at every TCP packet.
 */
struct cb_ct_entry {
	__u64 expires;	  /* ns, CLOCK_MONOTONIC */
	__u64 cookie;	  /* the service's (NAT: its binding), kept across updates */
	__u32 end[2];	  /* TCP: seq after the last byte (SYN, FIN count 1) sent */
	__u32 acked[2];	  /* TCP: highest ack sent */
	__u32 fin_end[2]; /* TCP: the ack that completes the direction's FIN */
	__u32 isn;	  /* TCP: the originator's initial sequence number */
	__u8 l4state;	  /* enum cb_ct_l4state */
	__u8 flags;	  /* CB_CT_F_* */
	__u8 dflags[2];	  /* CB_CT_D_*, by direction */
};

#define cb_ct_replied(e) ((e)->dflags[1] & CB_CT_D_SEEN)

struct cb_ct_stats {
	__u64 created; /* entries created by commit */
	__u64 full;    /* commits refused: table full */
	__u64 invalid; /* lookups that returned CB_CT_INVALID */
	__u64 related; /* lookups that returned CB_CT_RELATED */
};

enum cb_ct_parse_result {
	CB_CT_P_OK = 0,
	CB_CT_P_UNTRACKED = 1,
	CB_CT_P_FRAG = 2,
	CB_CT_P_SHORT = 3,
	CB_CT_P_BAD = 4,
};

/* TCP flags as cb_ct_pkt.tcp_flags holds them (the header's 13th byte). */
#define CB_TCP_FIN 0x01
#define CB_TCP_SYN 0x02
#define CB_TCP_RST 0x04
#define CB_TCP_PSH 0x08
#define CB_TCP_ACK 0x10

/* A flow's tuple as a packet carries it (not normalised). */
struct cb_ct_tuple {
	__u32 saddr[4]; /* network order; IPv4 in [0] */
	__u32 daddr[4];
	__be16 sport; /* ICMP echo: the identifier */
	__be16 dport;
	__u8 l4proto;
	__u8 family; /* 4 or 6 */
	__u16 pad;
};

struct cb_ct_pkt {
	struct cb_ct_tuple t;
	__u16 l4_off;	/* from l3 */
	__u8 fragment;	/* the first fragment of a fragmented packet */
	__u8 tcp_flags; /* CB_TCP_* */
	__u32 seq;	/* TCP, host order */
	__u32 ack;
	__u32 payload; /* TCP payload bytes, from the IP length */
	__u8 icmp_type;
	__u8 icmp_code;
	__u8 icmp_echo;		  /* 1 request, 2 reply, 0 not echo */
	__u8 icmp_error;	  /* CB_CT_ICMPERR_*; 0: not an error */
	__u16 inner_l3_off;	  /* from l3: the quoted IP header */
	__u16 inner_l4_off;	  /* from l3: the quoted L4 header */
	struct cb_ct_tuple inner; /* the quoted packet's tuple, as it was sent */
	__u32 inner_seq;	  /* the quoted TCP seq, host order */
};

/* What lookup leaves for commit. */
struct cb_ct_ref {
	struct cb_ct_key key;
	struct cb_ct_entry next; /* the entry as commit will write it */
	__u8 state;		 /* enum cb_ct_state lookup returned */
	__u8 dir;		 /* 0: originator -> replier */
	__u8 action;		 /* CB_CT_A_* */
	__u8 partial;		 /* update: write only direction dir's fields */
};

#define CB_CT_A_NONE   0 /* nothing to write (INVALID, RELATED) */
#define CB_CT_A_CREATE 1 /* a new entry (or over an expired one) */
#define CB_CT_A_UPDATE 2 /* advance the existing entry */

#define CB_CT_ICMPERR_OK  1 /* an ICMP error whose quote gave p->inner */
#define CB_CT_ICMPERR_BAD 2 /* an ICMP error quoting garbage or too little */

#ifndef CB_CT_SHARED_ONLY
/* ---- BPF side ---------------------------------------------------------------- */

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <bpf/bpf_helpers.h>
#include "cubebus/parsing.bpf.h"

#ifndef E2BIG
#define E2BIG 7
#endif

#define CB_CT_MAP(name, max)                             \
	struct {                                         \
		__uint(type, BPF_MAP_TYPE_HASH);         \
		__uint(max_entries, (max));              \
		__type(key, struct cb_ct_key);           \
		__type(value, struct cb_ct_entry);       \
	} name SEC(".maps");                             \
	struct {                                         \
		__uint(type, BPF_MAP_TYPE_ARRAY);        \
		__uint(max_entries, 1);                  \
		__type(key, __u32);                      \
		__type(value, struct cb_ct_timeouts);    \
	} name##_timeouts SEC(".maps");                  \
	struct {                                         \
		__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY); \
		__uint(max_entries, 1);                  \
		__type(key, __u32);                      \
		__type(value, struct cb_ct_stats);       \
	} name##_stats SEC(".maps")

/* ---- parsing ------------------------------------------------------------------- */

static __always_inline void cb_ct_addr4(__u32 *dst, __be32 a)
{
	dst[0] = a;
	dst[1] = dst[2] = dst[3] = 0;
}

static __always_inline void cb_ct_addr6(__u32 *dst, const struct in6_addr *a)
{
	dst[0] = a->in6_u.u6_addr32[0];
	dst[1] = a->in6_u.u6_addr32[1];
	dst[2] = a->in6_u.u6_addr32[2];
	dst[3] = a->in6_u.u6_addr32[3];
}

static __always_inline int cb_ct_icmp4_is_error(__u8 type)
{
	/* unreachable (and fragmentation needed), source quench, redirect,
	 * time exceeded, parameter problem */
	return type == 3 || type == 4 || type == 5 || type == 11 || type == 12;
}

static __always_inline int cb_ct_icmp6_is_error(__u8 type)
{
	/* unreachable, packet too big, time exceeded, parameter problem */
	return type >= 1 && type <= 4;
}

/*
 * The cursor re-derived from its offset from l3. The verifier explores
 * every path through an IPv6 extension-header walk with the cursor at a
 * different fixed offset, and then all the code after it once per path;
 * the difference of two packet pointers is an unknown number to it (as
 * root), so the cursor re-built from it is the same on every path and the
 * rest is verified once. Returns NULL past the 512th byte.
 */
static __always_inline void *cb_ct_rebase(void *l3, void *pos)
{
	__u64 off = pos - l3;

	/* or the compiler folds l3 + (pos - l3) back into pos */
	asm volatile("" : "+r"(off));
	if (off > 511)
		return NULL;
	return l3 + off;
}

/*
 * Skips IPv6 extension headers as cb_parse_ipv6_ext() does, but with the
 * cursor re-based at every header, so that the verifier's cost is linear
 * in CB_IPV6_EXT_MAX rather than in the paths through it. *nh is the first
 * next-header on entry and the upper-layer protocol on return. Returns 0,
 * CB_CT_P_SHORT or CB_CT_P_BAD (too many headers).
 */
static __always_inline int cb_ct_ipv6_walk(void *l3, struct cb_cursor *c, void *end, __u8 *nh, __u8 *frag, __u8 *later)
{
	__u8 next = *nh;
	int i;

#pragma unroll
	for (i = 0; i < CB_IPV6_EXT_MAX + 1; i++) {
		__u8 *h;
		__u32 len;

		if (next != IPPROTO_HOPOPTS && next != IPPROTO_ROUTING && next != IPPROTO_DSTOPTS &&
		    next != IPPROTO_AH && next != IPPROTO_FRAGMENT) {
			*nh = next;
			return 0;
		}
		if (i == CB_IPV6_EXT_MAX)
			break;
		h = cb_ct_rebase(l3, c->pos);
		if (!h || (void *)(h + 8) > end) /* each is 8 bytes or more */
			return CB_CT_P_SHORT;
		if (next == IPPROTO_FRAGMENT) {
			*frag = 1;
			if (bpf_ntohs(*(__be16 *)(h + 2)) & ~0x7)
				*later = 1;
			len = 8;
		} else if (next == IPPROTO_AH) {
			len = ((__u32)h[1] + 2) * 4;
		} else {
			len = ((__u32)h[1] + 1) * 8;
		}
		next = h[0];
		c->pos = h + len;
	}
	return CB_CT_P_BAD;
}

/*
 * The quoted packet of an ICMP error, from the cursor on: its IP header of
 * the outer's family, and 8 bytes of its L4 header (all RFC 792 promises).
 * Returns CB_CT_ICMPERR_OK with p->inner filled, or CB_CT_ICMPERR_BAD.
 */
static __always_inline int cb_ct_parse_quote(void *l3, struct cb_cursor *c, void *end, struct cb_ct_pkt *p)
{
	struct cb_ct_tuple *t = &p->inner;
	__u8 *l4;

	p->inner_l3_off = c->pos - l3;
	if (p->t.family == 4) {
		struct iphdr *ip = c->pos;

		if ((void *)(ip + 1) > end || ip->version != 4)
			return CB_CT_ICMPERR_BAD;
		ip = cb_parse_ipv4(c, end);
		if (!ip)
			return CB_CT_ICMPERR_BAD;
		if (ip->frag_off & bpf_htons(0x1fff))
			return CB_CT_ICMPERR_BAD; /* a later fragment quotes no ports */
		cb_ct_addr4(t->saddr, ip->saddr);
		cb_ct_addr4(t->daddr, ip->daddr);
		t->l4proto = ip->protocol;
		t->family = 4;
	} else {
		struct ipv6hdr *ip6 = cb_parse_ipv6(c, end);
		__u8 nh, frag = 0, later = 0;

		if (!ip6 || ip6->version != 6)
			return CB_CT_ICMPERR_BAD;
		nh = ip6->nexthdr;
		cb_ct_addr6(t->saddr, &ip6->saddr);
		cb_ct_addr6(t->daddr, &ip6->daddr);
		if (cb_ct_ipv6_walk(l3, c, end, &nh, &frag, &later) || later)
			return CB_CT_ICMPERR_BAD;
		t->l4proto = nh;
		t->family = 6;
		c->pos = cb_ct_rebase(l3, c->pos);
		if (!c->pos)
			return CB_CT_ICMPERR_BAD;
	}
	p->inner_l4_off = c->pos - l3;
	l4 = c->pos;
	switch (t->l4proto) {
	case IPPROTO_TCP:
	case IPPROTO_UDP:
		if ((void *)(l4 + 8) > end)
			return CB_CT_ICMPERR_BAD;
		t->sport = *(__be16 *)l4;
		t->dport = *(__be16 *)(l4 + 2);
		p->inner_seq = bpf_ntohl(*(__be32 *)(l4 + 4));
		break;
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6: {
		/* only an echo can be a tracked flow; an error about an error is
		 * garbage (RFC 1122 3.2.2, RFC 4443 2.4) */
		__u8 req = t->l4proto == IPPROTO_ICMP ? CB_ICMP_ECHO : ICMPV6_ECHO_REQUEST;
		__u8 rep = t->l4proto == IPPROTO_ICMP ? CB_ICMP_ECHOREPLY : ICMPV6_ECHO_REPLY;

		if ((void *)(l4 + 8) > end || (t->family == 4) != (t->l4proto == IPPROTO_ICMP))
			return CB_CT_ICMPERR_BAD;
		if (l4[0] != req && l4[0] != rep)
			return CB_CT_ICMPERR_BAD;
		t->sport = t->dport = *(__be16 *)(l4 + 4);
		break;
	}
	default: break; /* generic: addresses and protocol */
	}
	return CB_CT_ICMPERR_OK;
}

/*
 * Fills p from the L3 header on; eth_proto is ETH_P_IP or ETH_P_IPV6 in
 * network order. Returns enum cb_ct_parse_result.
 */
static __always_inline int cb_ct_parse(void *l3, void *end, __be16 eth_proto, struct cb_ct_pkt *p)
{
	struct cb_cursor c = { .pos = l3 };
	__u32 l4len;
	__u8 *l4;

	__builtin_memset(p, 0, sizeof(*p));
	if (eth_proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip = l3;
		__u32 tot, hl;

		if ((void *)(ip + 1) > end)
			return CB_CT_P_SHORT;
		if (ip->version != 4 || ip->ihl < 5)
			return CB_CT_P_BAD;
		if (!cb_parse_ipv4(&c, end))
			return CB_CT_P_SHORT;
		tot = bpf_ntohs(ip->tot_len);
		hl = ip->ihl * 4;
		if (tot < hl)
			return CB_CT_P_BAD;
		l4len = tot - hl;
		cb_ct_addr4(p->t.saddr, ip->saddr);
		cb_ct_addr4(p->t.daddr, ip->daddr);
		p->t.l4proto = ip->protocol;
		p->t.family = 4;
		if (ip->frag_off & bpf_htons(0x1fff))
			return CB_CT_P_FRAG;
		p->fragment = !!(ip->frag_off & bpf_htons(0x2000));
	} else if (eth_proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = cb_parse_ipv6(&c, end);
		__u8 nh, frag = 0, later = 0;
		__u32 plen, ext;
		int r;

		if (!ip6)
			return CB_CT_P_SHORT;
		if (ip6->version != 6)
			return CB_CT_P_BAD;
		nh = ip6->nexthdr;
		cb_ct_addr6(p->t.saddr, &ip6->saddr);
		cb_ct_addr6(p->t.daddr, &ip6->daddr);
		p->t.family = 6;
		r = cb_ct_ipv6_walk(l3, &c, end, &nh, &frag, &later);
		if (r)
			return r;
		p->t.l4proto = nh;
		if (later)
			return CB_CT_P_FRAG;
		p->fragment = frag;
		plen = bpf_ntohs(ip6->payload_len);
		ext = c.pos - (void *)(ip6 + 1);
		if (plen < ext) /* also a jumbogram's 0 */
			return CB_CT_P_BAD;
		l4len = plen - ext;
		c.pos = cb_ct_rebase(l3, c.pos);
		if (!c.pos)
			return CB_CT_P_BAD;
	} else {
		return CB_CT_P_UNTRACKED;
	}
	p->l4_off = c.pos - l3;
	l4 = c.pos;
	switch (p->t.l4proto) {
	case IPPROTO_TCP: {
		struct tcphdr *t = c.pos;
		__u32 hl;

		if ((void *)(t + 1) > end)
			return CB_CT_P_SHORT;
		hl = t->doff * 4;
		if (hl < sizeof(*t) || hl > l4len)
			return CB_CT_P_BAD;
		p->t.sport = t->source;
		p->t.dport = t->dest;
		p->tcp_flags = l4[13];
		p->seq = bpf_ntohl(t->seq);
		p->ack = bpf_ntohl(t->ack_seq);
		p->payload = l4len - hl;
		break;
	}
	case IPPROTO_UDP: {
		struct udphdr *u = cb_parse_udp(&c, end);

		if (!u)
			return CB_CT_P_SHORT;
		p->t.sport = u->source;
		p->t.dport = u->dest;
		break;
	}
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6: {
		struct cb_icmphdr *h = cb_parse_icmp(&c, end); /* 8 bytes, as ICMPv6's */
		int v4 = p->t.l4proto == IPPROTO_ICMP;

		if (!h)
			return CB_CT_P_SHORT;
		if (v4 != (p->t.family == 4))
			return CB_CT_P_UNTRACKED; /* ICMPv4 in IPv6 or the reverse */
		p->icmp_type = h->type;
		p->icmp_code = h->code;
		if (h->type == (v4 ? CB_ICMP_ECHO : ICMPV6_ECHO_REQUEST))
			p->icmp_echo = 1;
		else if (h->type == (v4 ? CB_ICMP_ECHOREPLY : ICMPV6_ECHO_REPLY))
			p->icmp_echo = 2;
		if (p->icmp_echo) {
			p->t.sport = p->t.dport = h->id;
			break;
		}
		if (!(v4 ? cb_ct_icmp4_is_error(h->type) : cb_ct_icmp6_is_error(h->type)))
			return CB_CT_P_UNTRACKED; /* e.g. neighbour discovery */
		if (p->fragment)
			p->icmp_error = CB_CT_ICMPERR_BAD;
		else
			p->icmp_error = cb_ct_parse_quote(l3, &c, end, p);
		break;
	}
	default: break; /* generic: tracked by addresses and protocol */
	}
	return CB_CT_P_OK;
}

/* ---- keys -------------------------------------------------------------------- */

/* -1, 0, 1 as a is below, equal to or above b, in a fixed (not numeric) order. */
static __always_inline int cb_ct_addr_cmp(const __u32 *a, const __u32 *b)
{
	int i;

#pragma unroll
	for (i = 0; i < 4; i++) {
		if (a[i] != b[i])
			return a[i] < b[i] ? -1 : 1;
	}
	return 0;
}

/* Fills k from t; returns 1 when t's source is side b of the key. */
static __always_inline int cb_ct_mkkey(const struct cb_ct_tuple *t, struct cb_ct_key *k)
{
	int c = cb_ct_addr_cmp(t->saddr, t->daddr);
	int src_b = c > 0 || (c == 0 && t->sport > t->dport);

	if (src_b) {
		__builtin_memcpy(k->addr_a, t->daddr, 16);
		__builtin_memcpy(k->addr_b, t->saddr, 16);
		k->port_a = t->dport;
		k->port_b = t->sport;
	} else {
		__builtin_memcpy(k->addr_a, t->saddr, 16);
		__builtin_memcpy(k->addr_b, t->daddr, 16);
		k->port_a = t->sport;
		k->port_b = t->dport;
	}
	k->l4proto = t->l4proto;
	k->family = t->family;
	k->pad = 0;
	return src_b;
}

/* ---- TCP --------------------------------------------------------------------- */

static __always_inline int cb_ct_seq_before(__u32 a, __u32 b)
{
	return (__s32)(a - b) < 0;
}

static __always_inline int cb_ct_seq_after(__u32 a, __u32 b)
{
	return (__s32)(a - b) > 0;
}

/* An entry opened by the SYN p; the originator's side is src_b. */
static __always_inline void cb_ct_tcp_open(const struct cb_ct_pkt *p, struct cb_ct_entry *n, int src_b)
{
	__u64 cookie = n->cookie;

	__builtin_memset(n, 0, sizeof(*n));
	n->cookie = cookie;
	n->l4state = CB_CT_S_SYN_SENT;
	n->flags = src_b ? CB_CT_F_ORIG_B : 0;
	n->dflags[0] = CB_CT_D_SEEN;
	n->isn = p->seq;
	n->end[0] = p->seq + 1 + p->payload;
	n->acked[1] = p->seq; /* an RST from the originator: seq isn or isn + 1 */
}

static __always_inline int cb_ct_tcp_is_syn(__u8 f)
{
	return (f & (CB_TCP_SYN | CB_TCP_ACK | CB_TCP_RST | CB_TCP_FIN)) == CB_TCP_SYN;
}

/*
 * Advances n (a copy of the entry) by the packet p of direction dir.
 * Returns 0, or -1 when the packet breaks the machine (n then is garbage:
 * the caller does not write it). *reopen is set when a SYN reopens a
 * closed connection (n is then the new one).
 */
static __always_inline int cb_ct_tcp_step(const struct cb_ct_pkt *p, struct cb_ct_entry *n, int dir, int src_b,
					  int *reopen)
{
	__u8 f = p->tcp_flags & (CB_TCP_SYN | CB_TCP_ACK | CB_TCP_RST | CB_TCP_FIN);
	__u8 st = n->l4state;
	int od = !dir;
	__u32 s_end;

	/* an RST's state may have been overwritten by the other direction */
	if ((n->dflags[0] | n->dflags[1]) & CB_CT_D_RST)
		st = n->l4state = CB_CT_S_CLOSE;

	if (f & CB_TCP_RST) {
		if (f & (CB_TCP_SYN | CB_TCP_FIN))
			return -1;
		if (st == CB_CT_S_SYN_SENT && dir == 1) {
			/* a refusal: it acks the SYN (RFC 793 3.4) */
			if (!(f & CB_TCP_ACK) || p->ack != n->end[0])
				return -1;
		} else {
			/* between what the peer acked and what the sender sent */
			if (cb_ct_seq_before(p->seq, n->acked[od]) || cb_ct_seq_after(p->seq, n->end[dir]))
				return -1;
			if ((f & CB_TCP_ACK) && cb_ct_seq_after(p->ack, n->end[od]))
				return -1;
		}
		n->l4state = CB_CT_S_CLOSE;
		n->dflags[dir] |= CB_CT_D_RST;
		return 0;
	}
	if (f & CB_TCP_SYN) {
		if (f & CB_TCP_FIN)
			return -1;
		if (!(f & CB_TCP_ACK)) {
			if (st == CB_CT_S_TIME_WAIT || st == CB_CT_S_CLOSE || (st == CB_CT_S_SYN_SENT && dir == 0)) {
				/* a retransmission keeps the entry as it is */
				if (st == CB_CT_S_SYN_SENT && p->seq == n->isn)
					return 0;
				/* a reopen, or a new attempt with another ISN */
				cb_ct_tcp_open(p, n, src_b);
				*reopen = 1;
				return 0;
			}
			if (st == CB_CT_S_SYN_RECV && dir == 0 && p->seq == n->isn)
				return 0; /* retransmitted: the SYN-ACK is on its way */
			return -1;	  /* includes simultaneous open (not supported) */
		}
		/* SYN-ACK: from the replier, acking the SYN (and any data it had) */
		if (dir != 1)
			return -1;
		if (cb_ct_seq_before(p->ack, n->isn + 1) || cb_ct_seq_after(p->ack, n->end[0]))
			return -1;
		if (st == CB_CT_S_SYN_SENT) {
			n->l4state = CB_CT_S_SYN_RECV;
			n->end[1] = p->seq + 1 + p->payload;
			n->acked[0] = p->seq;
			n->acked[1] = p->ack;
			return 0;
		}
		/* a retransmission, while the handshake's ACK is on its way or lost */
		if ((st == CB_CT_S_SYN_RECV || st == CB_CT_S_ESTABLISHED) && p->seq + 1 + p->payload == n->end[1])
			return 0;
		return -1;
	}
	/* everything after the handshake carries an ACK */
	if (!(f & CB_TCP_ACK) || st == CB_CT_S_SYN_SENT)
		return -1;
	if (cb_ct_seq_after(p->ack, n->end[od]))
		return -1; /* acks what the peer never sent */
	if (st == CB_CT_S_SYN_RECV) {
		if (dir != 0 || p->ack != n->end[1])
			return -1;
		n->l4state = CB_CT_S_ESTABLISHED;
	}
	if (st == CB_CT_S_CLOSE)
		return 0; /* late segments after an RST: known, nothing to advance */
	s_end = p->seq + p->payload + ((f & CB_TCP_FIN) ? 1 : 0);
	if (n->dflags[dir] & CB_CT_D_FIN) {
		/* nothing after the FIN; a FIN again is a retransmission */
		if (cb_ct_seq_after(s_end, n->fin_end[dir]) || ((f & CB_TCP_FIN) && s_end != n->fin_end[dir]))
			return -1;
	} else if (f & CB_TCP_FIN) {
		n->dflags[dir] |= CB_CT_D_FIN;
		n->fin_end[dir] = s_end;
	}
	/* the first fragment of a segment tells the segment's start, not its
	 * length: the peer may ack up to a whole datagram beyond */
	if (p->fragment && cb_ct_seq_after(s_end + 65535, n->end[dir]))
		n->end[dir] = s_end + 65535;
	else if (cb_ct_seq_after(s_end, n->end[dir]))
		n->end[dir] = s_end;
	if (cb_ct_seq_after(p->ack, n->acked[dir]))
		n->acked[dir] = p->ack;
	if ((n->dflags[od] & CB_CT_D_FIN) && p->ack == n->fin_end[od])
		n->dflags[dir] |= CB_CT_D_FIN_ACKED;
	if (n->l4state == CB_CT_S_ESTABLISHED || n->l4state >= CB_CT_S_FIN_WAIT) {
		__u8 d0 = n->dflags[0], d1 = n->dflags[1];
		/* fX: X sent its FIN; aX: X's FIN was acked (by the other) */
		int f0 = !!(d0 & CB_CT_D_FIN), f1 = !!(d1 & CB_CT_D_FIN);
		int a0 = !!(d1 & CB_CT_D_FIN_ACKED), a1 = !!(d0 & CB_CT_D_FIN_ACKED);

		if (!f0 && !f1)
			n->l4state = CB_CT_S_ESTABLISHED;
		else if (f0 && f1)
			n->l4state = a0 && a1 ? CB_CT_S_TIME_WAIT : CB_CT_S_LAST_ACK;
		else
			n->l4state = (f0 ? a0 : a1) ? CB_CT_S_CLOSE_WAIT : CB_CT_S_FIN_WAIT;
	}
	return 0;
}

/* ---- lookup and commit ---------------------------------------------------------- */

static __always_inline struct cb_ct_stats *cb_ct_stats_of(void *smap)
{
	__u32 k = 0;

	return bpf_map_lookup_elem(smap, &k);
}

static __always_inline enum cb_ct_state cb_ct_invalid(void *smap, struct cb_ct_ref *ref)
{
	struct cb_ct_stats *s = cb_ct_stats_of(smap);

	if (s)
		s->invalid++;
	ref->state = CB_CT_INVALID;
	ref->action = CB_CT_A_NONE;
	return CB_CT_INVALID;
}

static __always_inline enum cb_ct_state cb_ct_lookup_(void *map, void *tmap, void *smap, struct cb_ct_pkt *p, __u64 now,
						      struct cb_ct_ref *ref)
{
	struct cb_ct_entry *e;
	int src_b, dir, reopen = 0;

	__builtin_memset(ref, 0, sizeof(*ref));
	if (p->t.family != 4 && p->t.family != 6)
		return cb_ct_invalid(smap, ref);
	if (p->icmp_error) {
		struct cb_ct_stats *s;

		/* the quote is a packet sent to where the error comes from, by
		 * the host the error goes to */
		if (p->icmp_error != CB_CT_ICMPERR_OK || cb_ct_addr_cmp(p->t.daddr, p->inner.saddr))
			return cb_ct_invalid(smap, ref);
		cb_ct_mkkey(&p->inner, &ref->key);
		e = bpf_map_lookup_elem(map, &ref->key);
		if (!e || e->expires <= now)
			return cb_ct_invalid(smap, ref);
		s = cb_ct_stats_of(smap);
		if (s)
			s->related++;
		ref->state = CB_CT_RELATED;
		return CB_CT_RELATED;
	}
	src_b = cb_ct_mkkey(&p->t, &ref->key);
	e = bpf_map_lookup_elem(map, &ref->key);
	if (!e || e->expires <= now) {
		/* a new flow: only what may open one */
		struct cb_ct_entry *n = &ref->next;

		if (p->t.l4proto == IPPROTO_TCP) {
			if (!cb_ct_tcp_is_syn(p->tcp_flags))
				return cb_ct_invalid(smap, ref);
			cb_ct_tcp_open(p, n, src_b);
		} else if (p->t.l4proto == IPPROTO_ICMP || p->t.l4proto == IPPROTO_ICMPV6) {
			if (p->icmp_echo != 1)
				return cb_ct_invalid(smap, ref);
			n->l4state = CB_CT_S_ICMP;
		} else {
			n->l4state = p->t.l4proto == IPPROTO_UDP ? CB_CT_S_UDP_UNREPLIED : CB_CT_S_GENERIC;
		}
		n->flags |= src_b ? CB_CT_F_ORIG_B : 0;
		n->dflags[0] = CB_CT_D_SEEN;
		ref->action = CB_CT_A_CREATE;
		ref->state = CB_CT_NEW;
		return CB_CT_NEW;
	}
	ref->next = *e;
	dir = src_b != !!(e->flags & CB_CT_F_ORIG_B);
	ref->dir = dir;
	/* past the handshake, a packet advances only its own direction */
	ref->partial = p->t.l4proto != IPPROTO_TCP || e->l4state >= CB_CT_S_ESTABLISHED;
	switch (p->t.l4proto) {
	case IPPROTO_TCP:
		if (cb_ct_tcp_step(p, &ref->next, dir, src_b, &reopen) < 0)
			return cb_ct_invalid(smap, ref);
		if (reopen) {
			ref->dir = 0;
			ref->partial = 0;
			ref->action = CB_CT_A_UPDATE;
			ref->state = CB_CT_NEW;
			return CB_CT_NEW;
		}
		break;
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		/* requests one way, replies the other */
		if (p->icmp_echo != (dir ? 2 : 1))
			return cb_ct_invalid(smap, ref);
		break;
	case IPPROTO_UDP:
		if (dir || cb_ct_replied(&ref->next))
			ref->next.l4state = CB_CT_S_UDP_REPLIED;
		break;
	default: break;
	}
	ref->next.dflags[dir] |= CB_CT_D_SEEN;
	ref->action = CB_CT_A_UPDATE;
	ref->state = cb_ct_replied(&ref->next) ? CB_CT_ESTABLISHED : CB_CT_NEW;
	return ref->state;
}

/* The timeout of state st in ns: the service's, or the default. */
static __always_inline __u64 cb_ct_timeout_ns(void *tmap, __u8 st)
{
	static const __u32 defaults[CB_CT_S_MAX] = CB_CT_DEFAULT_TIMEOUTS;
	struct cb_ct_timeouts *t;
	__u32 k = 0, secs;

	if (st >= CB_CT_S_MAX)
		st = CB_CT_S_GENERIC;
	secs = defaults[st];
	t = bpf_map_lookup_elem(tmap, &k);
	if (t && t->secs[st])
		secs = t->secs[st];
	return (__u64)secs * 1000000000ull;
}

static __always_inline int cb_ct_commit_(void *map, void *tmap, void *smap, struct cb_ct_pkt *p, struct cb_ct_ref *ref,
					 __u64 now)
{
	struct cb_ct_stats *s;
	struct cb_ct_entry *e;
	int r;

	if (ref->action == CB_CT_A_NONE)
		return 0;
	ref->next.expires = now + cb_ct_timeout_ns(tmap, ref->next.l4state);
	if (ref->action == CB_CT_A_UPDATE) {
		e = bpf_map_lookup_elem(map, &ref->key);
		if (e && ref->partial) {
			int d = ref->dir & 1;

			/* only forward: another packet of this direction (the
			 * sender's CPUs take turns) may have gone further since
			 * this one's lookup */
			if (cb_ct_seq_after(ref->next.end[d], e->end[d]))
				e->end[d] = ref->next.end[d];
			if (cb_ct_seq_after(ref->next.acked[d], e->acked[d]))
				e->acked[d] = ref->next.acked[d];
			if ((ref->next.dflags[d] & CB_CT_D_FIN) && !(e->dflags[d] & CB_CT_D_FIN))
				e->fin_end[d] = ref->next.fin_end[d];
			e->dflags[d] |= ref->next.dflags[d];
			e->l4state = ref->next.l4state;
			e->expires = ref->next.expires;
			return 0;
		}
		if (e) {
			/* in place: the service's cookie stays */
			e->end[0] = ref->next.end[0];
			e->end[1] = ref->next.end[1];
			e->acked[0] = ref->next.acked[0];
			e->acked[1] = ref->next.acked[1];
			e->fin_end[0] = ref->next.fin_end[0];
			e->fin_end[1] = ref->next.fin_end[1];
			e->isn = ref->next.isn;
			e->l4state = ref->next.l4state;
			e->flags = ref->next.flags;
			e->dflags[0] = ref->next.dflags[0];
			e->dflags[1] = ref->next.dflags[1];
			e->expires = ref->next.expires;
			return 0;
		}
		/* swept since lookup: create it again */
	}
	r = bpf_map_update_elem(map, &ref->key, &ref->next, BPF_ANY);
	s = cb_ct_stats_of(smap);
	if (s) {
		if (r == 0)
			s->created++;
		else if (r == -E2BIG)
			s->full++;
	}
	return r;
}
/* map is the name given to CB_CT_MAP: these are macros over its three maps. */
#define cb_ct_lookup(map, p, now, ref) cb_ct_lookup_(&map, &map##_timeouts, &map##_stats, (p), (now), (ref))
#define cb_ct_commit(map, p, ref, now) cb_ct_commit_(&map, &map##_timeouts, &map##_stats, (p), (ref), (now))

#endif /* CB_CT_SHARED_ONLY */
#endif
