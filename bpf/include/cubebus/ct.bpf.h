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
 *       CB_CT_P_BAD (IHL < 5, TCP data offset < 5 or past the IP length).
 *       Never reads past end. Only CB_CT_P_OK packets may go to lookup.
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
 *   None to parsing.bpf.h; this module parses with its cursor parsers.
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
	CB_CT_S_ICMP, /* echo; replied or not: the entry's CB_CT_F_REPLIED */
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
	__u8 addr_a[16];
	__u8 addr_b[16];
	__be16 port_a;
	__be16 port_b;
	__u8 l4proto; /* IPPROTO_* */
	__u8 family;  /* 4 or 6 */
	__u16 pad;
};

/* entry flags */
#define CB_CT_F_ORIG_B	   0x01 /* the connection was opened from side b */
#define CB_CT_F_REPLIED	   0x02 /* a packet of the reply direction was seen */
#define CB_CT_F_FIN0	   0x04 /* originator sent its FIN */
#define CB_CT_F_FIN1	   0x08 /* replier sent its FIN */
#define CB_CT_F_FIN0_ACKED 0x10
#define CB_CT_F_FIN1_ACKED 0x20

/* Direction 0 is the originator's, 1 the replier's. */
struct cb_ct_entry {
	__u64 expires;	  /* ns, CLOCK_MONOTONIC */
	__u64 cookie;	  /* the service's (NAT: its binding), kept across updates */
	__u32 end[2];	  /* TCP: seq after the last byte (SYN, FIN count 1) sent */
	__u32 acked[2];	  /* TCP: highest ack sent */
	__u32 fin_end[2]; /* TCP: the ack that completes the direction's FIN */
	__u8 l4state;	  /* enum cb_ct_l4state */
	__u8 flags;	  /* CB_CT_F_* */
	__u16 pad;
	__u32 pad2;
};

struct cb_ct_stats {
	__u64 created; /* entries created by commit */
	__u64 full;    /* commits refused: table full */
	__u64 invalid; /* lookups that returned CB_CT_INVALID */
	__u64 related; /* lookups that returned CB_CT_RELATED */
};

#ifndef CB_CT_SHARED_ONLY
/* ---- BPF side ---------------------------------------------------------------- */

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <bpf/bpf_helpers.h>
#include "cubebus/parsing.bpf.h"

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
	__u8 saddr[16];
	__u8 daddr[16];
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
	__u8 icmp_error;	  /* 1: an error; inner holds the quoted flow */
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
	__u8 pad;
};

#define CB_CT_A_NONE   0 /* nothing to write (INVALID, RELATED) */
#define CB_CT_A_CREATE 1 /* a new entry (or over an expired one) */
#define CB_CT_A_UPDATE 2 /* advance the existing entry */

static __always_inline int cb_ct_parse(void *l3, void *end, __be16 eth_proto, struct cb_ct_pkt *p);
/* map is the name given to CB_CT_MAP: these are macros over its three maps. */
#define cb_ct_lookup(map, p, now, ref) cb_ct_lookup_(&map, &map##_timeouts, &map##_stats, (p), (now), (ref))
#define cb_ct_commit(map, p, ref, now) cb_ct_commit_(&map, &map##_timeouts, &map##_stats, (p), (ref), (now))

#endif /* CB_CT_SHARED_ONLY */
#endif
