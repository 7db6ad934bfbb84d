/* SPDX-License-Identifier: Apache-2.0 */
/*
 * firewall: what the fast path (firewall.bpf.c) and the rule compiler
 * (fwc.c) share. Fixed-width structs and constants only.
 *
 * Classification (the eBPF-iptables design, with a summary level): a rule
 * has a position in its chain's bit order (FW_POS_BITS positions; a lower
 * position is tried first), and every field of the packet is looked up in a
 * table of that field (an LPM trie for addresses, arrays for the rest) that
 * gives a bit vector of the rules matching that value. The vectors of the
 * fields the chain uses are ANDed; the first set bit is the rule. A vector
 * carries a summary (one bit per non-zero word) and a summary of that, so
 * the AND reads only the words that every vector has non-zero, and a packet
 * no rule can match stops after one word per field. Positions leave gaps, so an insert
 * rarely moves another rule (fwc.c).
 */
#ifndef FIREWALL_SHARED_H
#define FIREWALL_SHARED_H
#include <linux/types.h>

enum fw_chain { FW_INGRESS = 0, FW_EGRESS = 1, FW_NCHAINS = 2 };

/* Rule actions, as the fast path reads them. */
enum fw_action { FW_DROP = 0, FW_LOG = 1, FW_ACCEPT = 2 };

#ifndef FW_RULES_MAX
#define FW_RULES_MAX 10240 /* rules per chain */
#endif
#define FW_POS_BITS 32768 /* positions per chain */
#define FW_WORDS    (FW_POS_BITS / 64)
#define FW_SUMS	    (FW_WORDS / 64)
#ifndef FW_VECS_MAX
#define FW_VECS_MAX 16384 /* bit vectors of the cube: distinct matched values, both chains */
#endif

/* A vector; the fast path reads it as words of fw_bits, vector v at
 * v * FW_VLEN (map keys, not pointer offsets: the verifier need not track
 * the values they come from). */
struct fw_vec {
	__u64 top;	    /* bit i: sum[i] != 0 */
	__u64 sum[FW_SUMS]; /* bit i: w[i] != 0 */
	__u64 w[FW_WORDS];
};
#define FW_VLEN (1 + FW_SUMS + FW_WORDS)

/* The tables of a chain, one per field (and address family). */
enum fw_table {
	FW_T_SRC4,
	FW_T_DST4,
	FW_T_SRC6,
	FW_T_DST6,
	FW_T_PROTO, /* fw_small: 256 protocol numbers */
	FW_T_SPORT, /* fw_ports: 65536 ports, then "no port" */
	FW_T_DPORT,
	FW_T_FLAGS, /* fw_small: 256 flag bytes, then "not TCP" */
	FW_T_CT,    /* fw_small: 4 conntrack states, then "not tracked" */
	FW_NTABLES,
};

/* Matchers a chain uses (bits of fw_fields_ingress / fw_fields_egress, the
 * read-only data the program is specialised by). */
#define FW_M_SRC   0x01
#define FW_M_DST   0x02
#define FW_M_PROTO 0x04
#define FW_M_SPORT 0x08
#define FW_M_DPORT 0x10
#define FW_M_FLAGS 0x20
#define FW_M_CT	   0x40

/* fw_ports: key = (chain * 2 + (dport ? 1 : 0)) * FW_PORT_KEYS + port. */
#define FW_PORT_NONE 65536
#define FW_PORT_KEYS 65537
/* fw_small: key = chain * FW_SMALL_KEYS + offset of the table + value. */
#define FW_SMALL_PROTO	0
#define FW_SMALL_FLAGS	256
#define FW_FLAGS_NOTCP	256 /* value for a packet that is not TCP */
#define FW_SMALL_CT	(256 + 257)
#define FW_CT_UNTRACKED 4
#define FW_SMALL_KEYS	(256 + 257 + 5)

/* TCP flag bits of the flags byte (the TCP header's 14th byte). */
#define FW_TCP_FIN 0x01
#define FW_TCP_SYN 0x02
#define FW_TCP_RST 0x04
#define FW_TCP_PSH 0x08
#define FW_TCP_ACK 0x10
#define FW_TCP_URG 0x20
#define FW_TCP_ECE 0x40
#define FW_TCP_CWR 0x80

/* LPM keys: the chain is the first byte of the data (prefix length + 8). */
struct fw_lpm4 {
	__u32 plen;
	__u8 chain;
	__u8 addr[4];
} __attribute__((packed));
struct fw_lpm6 {
	__u32 plen;
	__u8 chain;
	__u8 addr[16];
} __attribute__((packed));
#define FW_LPM_MAX (FW_VECS_MAX) /* entries of each trie */

/* fw_pos: key chain * FW_POS_BITS + position; value slot | action << 16,
 * with FW_POS_USED set. The slot indexes the rule's counters. */
#define FW_POS_USED	    0x80000000u
#define FW_POS_SLOT(v)	    ((v)&0xffff)
#define FW_POS_ACTION(v)    (((v) >> 16) & 0xff)
#define FW_POS_VAL(slot, a) (FW_POS_USED | (__u32)(slot) | (__u32)(a) << 16)

/* fw_counters (per CPU): key chain * FW_CNT_KEYS + slot; slot FW_RULES_MAX
 * is the chain's default action. */
#define FW_CNT_KEYS (FW_RULES_MAX + 1)
struct fw_counter {
	__u64 pkts;
	__u64 bytes;
};

/* fw_chains[chain] */
struct fw_chain_conf {
	__u32 default_action; /* enum fw_action */
	__u32 all_vec;	      /* the vector of every rule: a chain that uses no matcher */
	__u32 nrules;
	__u32 pad;
};

/* Sessions the firewall tracks (fw_ct): a full table refuses new ones, counted. */
#ifndef FW_CT_MAX
#define FW_CT_MAX 65536
#endif

/* fw_conf[0] */
struct fw_conf {
	__u32 conntrack; /* 1: on */
	__u32 accept_established;
};

/* fw_pstats (per CPU): what the parser saw. */
enum fw_pstat {
	FW_PS_NONIP,	   /* accepted unchecked */
	FW_PS_SHORT,	   /* truncated IP or L4 header: dropped */
	FW_PS_FRAG,	   /* fragments after the first: classified without L4 */
	FW_PS_BADTCP,	   /* TCP data offset below 5: dropped */
	FW_PS_IPOPT,	   /* IPv4 with options */
	FW_PS_CT_FULL,	   /* sessions not created: the table was full */
	FW_PS_LOGGED,	   /* copies sent to the process (LOG) */
	FW_PS_CT_ACCEPTED, /* accepted as ESTABLISHED or RELATED before the chain (accept-established) */
	FW_PS_MAX,
};
#endif
