/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fwc - the firewall's rule compiler: the rules of both chains in user
 * space, and the fast path's tables (firewall_shared.h) kept in step with
 * them, change by change. No bus and no libcube: tests/bpf/test_firewall.c
 * links it with the fast path's maps of a loaded object.
 *
 * Each rule has a position in its chain's bit order; the rules' ids are
 * their ranks (0 is tried first). A change writes only what it touches: the
 * vectors of the values the rule matches (through a mmap of the vector pool,
 * no system call), a trie entry for an address no other rule names, the
 * position table. An insert takes the middle of the gap between its
 * neighbours' positions; when there is none, the rules up to the nearest
 * free position move by one, each one set at its new position before it is
 * cleared at its old, so that a packet always sees every rule once, in
 * order. A rule leaves by its bits being cleared, so that no packet sees
 * half a rule.
 *
 * Functions return 0 or a negative errno and, where the user caused it, a
 * sentence in err. Nothing prints.
 */
#ifndef FWC_H
#define FWC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "firewall_shared.h"

/* A parsed rule. An absent field matches anything. */
struct fwc_rule {
	uint8_t src_family, dst_family; /* 0: any; 4 or 6 */
	uint8_t src_plen, dst_plen;
	uint8_t src[16], dst[16]; /* masked to their lengths */
	int16_t proto;		  /* -1: any */
	int32_t sport, dport;	  /* -1: any */
	bool has_flags;
	uint8_t flags_mask, flags_val; /* (flags & mask) == val */
	int8_t ct;		       /* enum cb_ct_state, -1: any */
	uint8_t action;		       /* enum fw_action */
	char src_txt[48], dst_txt[48], proto_txt[16], flags_txt[48];
	char description[256];
};

/* The text of a rule's fields, as the model has them (NULL / has_*: absent). */
struct fwc_rule_text {
	const char *src, *dst, *l4proto, *tcpflags, *description;
	bool has_sport, has_dport, has_ct, has_action;
	uint16_t sport, dport;
	int ct;	    /* 0 NEW .. 3 INVALID */
	int action; /* enum fw_action */
};

/* Parses a rule; -EINVAL with a sentence naming the field and value. */
int fwc_rule_parse(struct fwc_rule *r, const struct fwc_rule_text *t, char *err, size_t errlen);
/* Whether two rules match the same packets with the same action (and, when
 * b has one, the same description): what delete looks for. */
bool fwc_rule_same(const struct fwc_rule *a, const struct fwc_rule *b);
/* The matchers (FW_M_*) a rule needs. */
uint32_t fwc_rule_matchers(const struct fwc_rule *r);

/* The fast path's maps, by fd (the first four are mmap'd by fwc_new). */
struct fwc_maps {
	int vecs;     /* fw_bits, BPF_F_MMAPABLE */
	int ports;    /* fw_ports, BPF_F_MMAPABLE */
	int small;    /* fw_small, BPF_F_MMAPABLE */
	int pos;      /* fw_pos, BPF_F_MMAPABLE */
	int lpm4[2];  /* fw_src4, fw_dst4 */
	int lpm6[2];  /* fw_src6, fw_dst6 */
	int counters; /* fw_counters, per CPU */
	int chains;   /* fw_chains */
};

struct fwc;

/*
 * Takes the maps over and empties the chains: every vector, table and
 * position is written afresh (a restart rebuilds from what it is given, see
 * fwc_insert). NULL with a sentence in err.
 */
struct fwc *fwc_new(const struct fwc_maps *m, char *err, size_t errlen);
void fwc_destroy(struct fwc **f);

uint32_t fwc_count(const struct fwc *f, int chain);
/* The rule of rank id, or NULL. */
const struct fwc_rule *fwc_get(const struct fwc *f, int chain, uint32_t id);
/* Its counters' slot (fw_counters key chain * FW_CNT_KEYS + slot). */
uint32_t fwc_slot(const struct fwc *f, int chain, uint32_t id);
/* Rank of the first rule fwc_rule_same as r, or -ENOENT. */
int fwc_find(const struct fwc *f, int chain, const struct fwc_rule *r);
/* The matchers the chain's rules use (FW_M_*). */
uint32_t fwc_matchers(const struct fwc *f, int chain);

/*
 * Inserts r at rank id (0..count: count appends). -ERANGE past the end,
 * -ENOSPC at FW_RULES_MAX rules or when the values would need more than
 * FW_VECS_MAX vectors (err names the limit); nothing changed then.
 */
int fwc_insert(struct fwc *f, int chain, uint32_t id, const struct fwc_rule *r, char *err, size_t errlen);
/* Deletes the rule of rank id; -ERANGE if there is none. */
int fwc_delete(struct fwc *f, int chain, uint32_t id, char *err, size_t errlen);
/* The chain's default action (enum fw_action). */
int fwc_set_default(struct fwc *f, int chain, int action);

/* One operation of a batch. */
enum fwc_op_kind { FWC_INSERT, FWC_APPEND, FWC_DELETE, FWC_UPDATE };
struct fwc_op {
	int kind;
	uint32_t id;
	bool by_fields; /* DELETE: the first rule like rule, not the one at id */
	struct fwc_rule rule;
};
/*
 * Runs ops in their order, all or nothing: they are first run on a copy of
 * the chain's order, which finds every error (and the capacity) before a
 * table is touched; then the chain goes from its old rules to its new ones
 * by deleting those that left and inserting those that came. -EINVAL,
 * -ERANGE, -ENOENT or -ENOSPC with a sentence naming the operation (its
 * index in the batch) on failure, nothing changed.
 */
int fwc_batch(struct fwc *f, int chain, const struct fwc_op *ops, size_t n, char *err, size_t errlen);

/* Vectors in use (of FW_VECS_MAX), for tests and the capacity sentence. */
uint32_t fwc_vecs_used(const struct fwc *f);
/* Positions moved by inserts since fwc_new (an insert into a full gap). */
uint64_t fwc_moves(const struct fwc *f);

/* Names */
const char *fwc_action_name(int action);
#endif
