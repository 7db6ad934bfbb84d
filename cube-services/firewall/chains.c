/* SPDX-License-Identifier: Apache-2.0 */
/*
 * firewall: the chains (their default action) and the actions that change
 * their rules: append, insert, delete, batch, reset-counters. Each action
 * parses and checks everything before it touches a table (fwc.c), and
 * specialises the fast path first when a rule needs a matcher the loaded
 * program lacks (and after, when a deletion leaves one unused).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "firewall.h"

/* The rule text of an action's input (the same leaves in every input). */
#define FW_TEXT(in)                                                \
	((struct fwc_rule_text){ .src = (in)->src,                 \
				 .dst = (in)->dst,                 \
				 .l4proto = (in)->l4proto,         \
				 .tcpflags = (in)->tcpflags,       \
				 .description = (in)->description, \
				 .has_sport = (in)->has_sport,     \
				 .sport = (in)->sport,             \
				 .has_dport = (in)->has_dport,     \
				 .dport = (in)->dport,             \
				 .has_ct = (in)->has_conntrack,    \
				 .ct = (int)(in)->conntrack,       \
				 .has_action = (in)->has_action,   \
				 .action = (int)(in)->action })

static int fw_parse(struct cube *c, const struct fwc_rule_text *t, struct fwc_rule *r)
{
	char err[256];
	int e = fwc_rule_parse(r, t, err, sizeof(err));

	if (e < 0)
		cube_fail(c, "%s", err);
	return e;
}

/* Specialises for the chain's matchers plus those of extra (before a
 * change that adds), or for exactly what the chains use (after one). */
static int fw_fit(struct cube *c, struct fwc *f, int chain, uint32_t extra)
{
	uint32_t want[FW_NCHAINS] = { fwc_matchers(f, FW_INGRESS), fwc_matchers(f, FW_EGRESS) };

	want[chain] |= extra;
	return fw_specialise(c, want);
}

/* ---- the chain's default --------------------------------------------------- */

static int fw_default_of(const struct firewall_chain *ch)
{
	if (!ch || !ch->has_default_)
		return FW_ACCEPT;
	return (int)ch->default_; /* DROP 0, LOG 1, ACCEPT 2: enum fw_action */
}

int firewall_chain_create(struct cube *c, const struct firewall_chain *new)
{
	struct fwc *f = fw_compiler(c);
	int chain;

	if (!f)
		return -EIO;
	chain = fw_chain_index(c, new->name);
	if (chain < 0)
		return chain;
	return fwc_set_default(f, chain, fw_default_of(new));
}

int firewall_chain_update(struct cube *c, const struct firewall_chain *old, const struct firewall_chain *new)
{
	return firewall_chain_create(c, new);
}

int firewall_chain_delete(struct cube *c, const struct firewall_chain *old)
{
	struct fwc *f = fw_compiler(c);

	if (!f)
		return -EIO;
	if (old->name == FIREWALL_CHAIN_NAME_INVALID)
		return 0;
	return fwc_set_default(f, fw_chain_index(c, old->name), FW_ACCEPT);
}

/* ---- one rule ---------------------------------------------------------------- */

static int fw_insert(struct cube *c, enum firewall_chain_name name, uint32_t id, bool append,
		     const struct fwc_rule_text *t, uint32_t *out_id)
{
	struct fwc *f = fw_compiler(c);
	struct fwc_rule r;
	char err[256];
	int chain, e;

	if (!f)
		return -EIO;
	chain = fw_chain_index(c, name);
	if (chain < 0)
		return chain;
	e = fw_parse(c, t, &r);
	if (e < 0)
		return e;
	if (append)
		id = fwc_count(f, chain);
	if (id > fwc_count(f, chain)) {
		cube_fail(c, "insert at id %u is past the end of chain %s: it has %u rules (ids 0-%u; id %u appends)",
			  id, chain ? "EGRESS" : "INGRESS", fwc_count(f, chain),
			  fwc_count(f, chain) ? fwc_count(f, chain) - 1 : 0, fwc_count(f, chain));
		return -ERANGE;
	}
	e = fw_fit(c, f, chain, fwc_rule_matchers(&r));
	if (e < 0)
		return e;
	e = fwc_insert(f, chain, id, &r, err, sizeof(err));
	if (e < 0) {
		cube_fail(c, "%s", err);
		return e;
	}
	*out_id = id;
	return 0;
}

int firewall_chain_append_action(struct cube *c, const struct firewall_chain_append_in *in,
				 struct firewall_chain_append_out *out)
{
	return fw_insert(c, in->chain_name, 0, true, &FW_TEXT(in), &out->id);
}

int firewall_chain_insert_action(struct cube *c, const struct firewall_chain_insert_in *in,
				 struct firewall_chain_insert_out *out)
{
	return fw_insert(c, in->chain_name, in->has_id ? in->id : 0, false, &FW_TEXT(in), &out->id);
}

int firewall_chain_delete_action(struct cube *c, const struct firewall_chain_delete_in *in,
				 struct firewall_chain_delete_out *out)
{
	struct fwc *f = fw_compiler(c);
	struct fwc_rule r;
	char err[256];
	int chain, e, id;

	if (!f)
		return -EIO;
	chain = fw_chain_index(c, in->chain_name);
	if (chain < 0)
		return chain;
	e = fw_parse(c, &FW_TEXT(in), &r);
	if (e < 0)
		return e;
	id = fwc_find(f, chain, &r);
	if (id < 0) {
		cube_fail(c, "chain %s has no rule with those fields (and action %s)", chain ? "EGRESS" : "INGRESS",
			  fwc_action_name(r.action));
		return -ENOENT;
	}
	e = fwc_delete(f, chain, id, err, sizeof(err));
	if (e < 0) {
		cube_fail(c, "%s", err);
		return e;
	}
	return fw_fit(c, f, chain, 0);
}

/* ---- batch ------------------------------------------------------------------- */

struct fw_batch {
	struct cube *c;
	struct fwc_op *ops;
	size_t n;
	int e;
};

static int fw_batch_entry(const struct firewall_chain_batch_in_rules *e, void *arg)
{
	struct fw_batch *b = arg;
	struct fwc_op *o = &b->ops[b->n];
	struct fwc_rule_text t = FW_TEXT(e);
	char err[256];
	int r;

	o->id = e->id;
	switch (e->operation) {
	case FIREWALL_CHAIN_BATCH_IN_RULES_OPERATION_INSERT: o->kind = FWC_INSERT; break;
	case FIREWALL_CHAIN_BATCH_IN_RULES_OPERATION_APPEND: o->kind = FWC_APPEND; break;
	case FIREWALL_CHAIN_BATCH_IN_RULES_OPERATION_DELETE: o->kind = FWC_DELETE; break;
	case FIREWALL_CHAIN_BATCH_IN_RULES_OPERATION_UPDATE: o->kind = FWC_UPDATE; break;
	}
	/* a DELETE with fields deletes the first rule like them; with the id alone, the rule at id */
	o->by_fields = o->kind == FWC_DELETE && (t.src || t.dst || t.l4proto || t.tcpflags || t.has_sport ||
						 t.has_dport || t.has_ct || t.has_action);
	r = fwc_rule_parse(&o->rule, &t, err, sizeof(err));
	if (r < 0) {
		cube_fail(b->c, "batch entry %zu (id %u): %s", b->n, e->id, err);
		return r;
	}
	b->n++;
	return 0;
}

int firewall_chain_batch_action(struct cube *c, const struct firewall_chain_batch_in *in,
				struct firewall_chain_batch_out *out)
{
	struct fwc *f = fw_compiler(c);
	struct fw_batch b = { .c = c };
	uint32_t extra = 0;
	char err[256];
	int chain, e;

	if (!f)
		return -EIO;
	chain = fw_chain_index(c, in->chain_name);
	if (chain < 0)
		return chain;
	b.ops = calloc(in->n_rules ? in->n_rules : 1, sizeof(*b.ops));
	if (!b.ops) {
		cube_fail(c, "out of memory for a batch of %u", in->n_rules);
		return -ENOMEM;
	}
	err[0] = '\0';
	e = firewall_chain_batch_in_rules_foreach(in, fw_batch_entry, &b, err, sizeof(err));
	if (e < 0) {
		if (err[0])
			cube_fail(c, "batch: %s", err);
		goto out;
	}
	for (size_t i = 0; i < b.n; i++) {
		if (b.ops[i].kind != FWC_DELETE)
			extra |= fwc_rule_matchers(&b.ops[i].rule);
	}
	e = fw_fit(c, f, chain, extra);
	if (e < 0)
		goto out;
	e = fwc_batch(f, chain, b.ops, b.n, err, sizeof(err));
	if (e < 0) {
		cube_fail(c, "%s; nothing applied", err);
		goto out;
	}
	e = fw_fit(c, f, chain, 0);
out:
	free(b.ops);
	return e;
}

/* ---- counters ---------------------------------------------------------------- */

int firewall_chain_reset_counters_action(struct cube *c, const struct firewall_chain_reset_counters_in *in,
					 struct firewall_chain_reset_counters_out *out)
{
	struct fwc *f = fw_compiler(c);
	int n = libbpf_num_possible_cpus(), fd = cube_map_fd(c, "fw_counters"), chain;
	struct fw_counter *zero;

	if (!f)
		return -EIO;
	chain = fw_chain_index(c, in->chain_name);
	if (chain < 0)
		return chain;
	zero = calloc(n > 0 ? n : 1, sizeof(*zero));
	if (!zero)
		return -ENOMEM;
	for (uint32_t id = 0; id <= fwc_count(f, chain); id++) {
		uint32_t slot = id < fwc_count(f, chain) ? fwc_slot(f, chain, id) : FW_RULES_MAX;
		uint32_t key = chain * FW_CNT_KEYS + slot;

		bpf_map_update_elem(fd, &key, zero, BPF_ANY);
	}
	free(zero);
	out->result = true;
	return 0;
}
