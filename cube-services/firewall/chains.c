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
#include <json-c/json.h>
#include <syslog.h>

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

/*
 * Specialises for the chain's matchers plus those of extra (before a
 * change that adds), or for exactly what the chains use (after one). Lazy
 * (a rule given in the configuration, as a restart gives them all): no
 * reload while the loaded program has every matcher wanted; fw_tick makes it
 * exact afterwards, once for the whole configuration.
 */
static int fw_fit(struct cube *c, struct fwc *f, int chain, uint32_t extra, bool lazy)
{
	struct fw_priv *p = cube_priv(c);
	uint32_t want[FW_NCHAINS] = { fwc_matchers(f, FW_INGRESS), fwc_matchers(f, FW_EGRESS) };

	want[chain] |= extra;
	if (lazy) {
		bool covered = true;

		for (int k = 0; k < FW_NCHAINS; k++)
			if (p->specialised && (want[k] & ~p->loaded[k]))
				covered = false;
		if (covered) {
			p->shrink_due = true;
			return 0;
		}
	}
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

/* ---- rules: ids, and the configuration the actions change ----------------- */

/*
 * A rule's id orders it in its chain: the rule of rank r (fwc's order) has
 * ids[chain][r], ascending. The actions keep the ids the ranks (0, 1, 2, ...,
 * as Polycube's users know them): an insert moves the ids of the rules from
 * there on up by one, a delete those after it down by one, so far as the ids
 * run on without a gap (a rule given by its id directly may leave one). What
 * an action changes in the rules is the cube's configuration, stored by the
 * broker (cube_cfg_put / cube_cfg_remove): a restart gets the rules back
 * through firewall_chain_rule_create.
 */

uint32_t fw_rule_id(struct cube *c, int chain, uint32_t rank)
{
	return ((struct fw_priv *)cube_priv(c))->ids[chain][rank];
}

static const char *const fw_chain_names[FW_NCHAINS] = { "INGRESS", "EGRESS" };
static const char *const fw_ct_names[] = { "NEW", "ESTABLISHED", "RELATED", "INVALID" };

/* The rank of the first rule whose id is id or more. */
static uint32_t fw_rank(struct cube *c, struct fwc *f, int chain, uint32_t id)
{
	const uint32_t *ids = ((struct fw_priv *)cube_priv(c))->ids[chain];
	uint32_t lo = 0, hi = fwc_count(f, chain);

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (ids[mid] < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* ids after fwc_insert at rank (n: the count before) / fwc_delete of rank. */
static void fw_ids_insert(struct cube *c, int chain, uint32_t rank, uint32_t n, uint32_t id)
{
	uint32_t *ids = ((struct fw_priv *)cube_priv(c))->ids[chain];

	memmove(ids + rank + 1, ids + rank, (n - rank) * sizeof(*ids));
	ids[rank] = id;
}

static void fw_ids_remove(struct cube *c, int chain, uint32_t rank, uint32_t n)
{
	uint32_t *ids = ((struct fw_priv *)cube_priv(c))->ids[chain];

	memmove(ids + rank, ids + rank + 1, (n - rank - 1) * sizeof(*ids));
}

static void fw_rule_path(char *buf, size_t size, int chain, uint32_t id)
{
	snprintf(buf, size, "chain[name='%s']/rule[id='%u']", fw_chain_names[chain], id);
}

/* Writes rule r as the configured rule id of chain. */
static int fw_cfg_put(struct cube *c, int chain, uint32_t id, const struct fwc_rule *r)
{
	struct json_object *o = json_object_new_object();
	char path[96];
	int e;

	if (r->src_family)
		json_object_object_add(o, "src", json_object_new_string(r->src_txt));
	if (r->dst_family)
		json_object_object_add(o, "dst", json_object_new_string(r->dst_txt));
	if (r->proto >= 0)
		json_object_object_add(o, "l4proto", json_object_new_string(r->proto_txt));
	if (r->sport >= 0)
		json_object_object_add(o, "sport", json_object_new_int(r->sport));
	if (r->dport >= 0)
		json_object_object_add(o, "dport", json_object_new_int(r->dport));
	if (r->has_flags)
		json_object_object_add(o, "tcpflags", json_object_new_string(r->flags_txt));
	if (r->ct >= 0 && r->ct < 4)
		json_object_object_add(o, "conntrack", json_object_new_string(fw_ct_names[r->ct]));
	json_object_object_add(o, "action", json_object_new_string(fwc_action_name(r->action)));
	if (r->description[0])
		json_object_object_add(o, "description", json_object_new_string(r->description));
	fw_rule_path(path, sizeof(path), chain, id);
	e = cube_cfg_put(c, path, json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	json_object_put(o);
	return e;
}

static int fw_cfg_remove(struct cube *c, int chain, uint32_t id)
{
	char path[96];

	fw_rule_path(path, sizeof(path), chain, id);
	return cube_cfg_remove(c, path);
}

/* The last rank of the run of ids without a gap that starts at rank. */
static uint32_t fw_run_end(struct cube *c, struct fwc *f, int chain, uint32_t rank)
{
	const uint32_t *ids = ((struct fw_priv *)cube_priv(c))->ids[chain];
	uint32_t n = fwc_count(f, chain), j = rank;

	while (j + 1 < n && ids[j + 1] == ids[j] + 1)
		j++;
	return j;
}

/* ---- one rule ---------------------------------------------------------------- */

/* Puts r at rank in fwc (specialising first when it needs it) and id into ids. */
static int fw_place(struct cube *c, struct fwc *f, int chain, uint32_t rank, uint32_t id, const struct fwc_rule *r,
		    bool lazy)
{
	uint32_t n = fwc_count(f, chain);
	char err[256];
	int e;

	e = fw_fit(c, f, chain, fwc_rule_matchers(r), lazy);
	if (e < 0)
		return e;
	e = fwc_insert(f, chain, rank, r, err, sizeof(err));
	if (e < 0) {
		cube_fail(c, "%s", err);
		return e;
	}
	fw_ids_insert(c, chain, rank, n, id);
	return 0;
}

/* Takes the rule of rank out of fwc and ids. */
static int fw_unplace(struct cube *c, struct fwc *f, int chain, uint32_t rank, bool lazy)
{
	uint32_t n = fwc_count(f, chain);
	char err[256];
	int e = fwc_delete(f, chain, rank, err, sizeof(err));

	if (e < 0) {
		cube_fail(c, "%s", err);
		return e;
	}
	fw_ids_remove(c, chain, rank, n);
	return fw_fit(c, f, chain, 0, lazy);
}

static int fw_insert(struct cube *c, enum firewall_chain_name name, uint32_t id, bool append,
		     const struct fwc_rule_text *t, uint32_t *out_id)
{
	struct fw_priv *p = cube_priv(c);
	struct fwc *f = fw_compiler(c);
	struct fwc_rule r;
	uint32_t n, next, rank;
	int chain, e;

	if (!f)
		return -EIO;
	chain = fw_chain_index(c, name);
	if (chain < 0)
		return chain;
	e = fw_parse(c, t, &r);
	if (e < 0)
		return e;
	n = fwc_count(f, chain);
	next = n ? p->ids[chain][n - 1] + 1 : 0;
	if (append)
		id = next;
	if (id > next) {
		cube_fail(c, "insert at id %u is past the end of chain %s: its last id is %s%u (id %u appends)", id,
			  fw_chain_names[chain], n ? "" : "none, ", n ? next - 1 : 0, next);
		return -ERANGE;
	}
	if (n >= FW_RULES_MAX) {
		cube_fail(c, "chain %s is full: it holds at most %u rules", fw_chain_names[chain], FW_RULES_MAX);
		return -ENOSPC;
	}
	rank = fw_rank(c, f, chain, id);
	/* the configuration: the rules from id on, as far as the ids run, move up by one */
	if (rank < n && p->ids[chain][rank] == id) {
		uint32_t end = fw_run_end(c, f, chain, rank);

		for (uint32_t k = end + 1; k-- > rank;) {
			e = fw_cfg_put(c, chain, p->ids[chain][k] + 1, fwc_get(f, chain, k));
			if (e < 0)
				return e;
		}
		e = fw_place(c, f, chain, rank, id, &r, false);
		if (e < 0)
			return e;
		for (uint32_t k = rank + 1; k <= end + 1; k++)
			p->ids[chain][k]++;
	} else {
		e = fw_place(c, f, chain, rank, id, &r, false);
		if (e < 0)
			return e;
	}
	e = fw_cfg_put(c, chain, id, &r);
	if (e < 0)
		return e;
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
	struct fw_priv *p = cube_priv(c);
	struct fwc *f = fw_compiler(c);
	uint32_t id = in->has_id ? in->id : 0, ref = in->has_before ? in->before : in->after, rank;
	int chain;

	if (in->has_id + in->has_before + in->has_after > 1) {
		cube_fail(c, "insert takes one of id, before and after");
		return -EINVAL;
	}
	if (in->has_before || in->has_after) {
		if (!f)
			return -EIO;
		chain = fw_chain_index(c, in->chain_name);
		if (chain < 0)
			return chain;
		rank = fw_rank(c, f, chain, ref);
		if (rank >= fwc_count(f, chain) || p->ids[chain][rank] != ref) {
			cube_fail(c, "chain %s has no rule %u to insert %s", fw_chain_names[chain], ref,
				  in->has_before ? "before" : "after");
			return -ENOENT;
		}
		id = in->has_before ? ref : ref + 1;
	}
	return fw_insert(c, in->chain_name, id, false, &FW_TEXT(in), &out->id);
}

int firewall_chain_delete_action(struct cube *c, const struct firewall_chain_delete_in *in,
				 struct firewall_chain_delete_out *out)
{
	struct fw_priv *p = cube_priv(c);
	struct fwc *f = fw_compiler(c);
	struct fwc_rule r;
	uint32_t end, last;
	int chain, e, rank;

	if (!f)
		return -EIO;
	chain = fw_chain_index(c, in->chain_name);
	if (chain < 0)
		return chain;
	e = fw_parse(c, &FW_TEXT(in), &r);
	if (e < 0)
		return e;
	rank = fwc_find(f, chain, &r);
	if (rank < 0) {
		cube_fail(c, "chain %s has no rule with those fields (and action %s)", fw_chain_names[chain],
			  fwc_action_name(r.action));
		return -ENOENT;
	}
	/* the configuration: the rules after it, as far as the ids run, move down by one */
	end = fw_run_end(c, f, chain, (uint32_t)rank);
	last = p->ids[chain][end];
	for (uint32_t k = rank + 1; k <= end; k++) {
		e = fw_cfg_put(c, chain, p->ids[chain][k] - 1, fwc_get(f, chain, k));
		if (e < 0)
			return e;
	}
	e = fw_cfg_remove(c, chain, last);
	if (e < 0)
		return e;
	e = fw_unplace(c, f, chain, (uint32_t)rank, false);
	if (e < 0)
		return e;
	for (uint32_t k = rank; k < end; k++)
		p->ids[chain][k]--;
	return 0;
}

/* ---- rules given by their id (the configuration; a restart) ------------------ */

int firewall_chain_rule_create(struct cube *c, const struct firewall_chain_rule *new)
{
	struct fwc *f = fw_compiler(c);
	struct fwc_rule r;
	int chain, e;

	if (!f)
		return -EIO;
	chain = fw_chain_index(c, new->chain_name);
	if (chain < 0)
		return chain;
	e = fw_parse(c, &FW_TEXT(new), &r);
	if (e < 0)
		return e;
	return fw_place(c, f, chain, fw_rank(c, f, chain, new->id), new->id, &r, true);
}

int firewall_chain_rule_delete(struct cube *c, const struct firewall_chain_rule *old)
{
	struct fw_priv *p = cube_priv(c);
	struct fwc *f = fw_compiler(c);
	uint32_t rank;
	int chain;

	if (!f)
		return -EIO;
	chain = fw_chain_index(c, old->chain_name);
	if (chain < 0)
		return chain;
	rank = fw_rank(c, f, chain, old->id);
	if (rank >= fwc_count(f, chain) || p->ids[chain][rank] != old->id)
		return 0; /* not there: nothing to do */
	return fw_unplace(c, f, chain, rank, true);
}

int firewall_chain_rule_update(struct cube *c, const struct firewall_chain_rule *old,
			       const struct firewall_chain_rule *new)
{
	struct fwc_rule r;
	int e = fw_parse(c, &FW_TEXT(new), &r);

	if (e < 0)
		return e;
	e = firewall_chain_rule_delete(c, old);
	return e < 0 ? e : firewall_chain_rule_create(c, new);
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
	struct fw_priv *p = cube_priv(c);
	struct fwc *f = fw_compiler(c);
	struct fw_batch b = { .c = c };
	uint32_t extra = 0, n_old, n_new;
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
	e = fw_fit(c, f, chain, extra, false);
	if (e < 0)
		goto out;
	n_old = fwc_count(f, chain);
	e = fwc_batch(f, chain, b.ops, b.n, err, sizeof(err));
	if (e < 0) {
		cube_fail(c, "%s; nothing applied", err);
		goto out;
	}
	/* the configuration: the chain's rules afresh, ids their ranks */
	n_new = fwc_count(f, chain);
	for (uint32_t k = 0; k < n_old && e == 0; k++)
		if (p->ids[chain][k] >= n_new)
			e = fw_cfg_remove(c, chain, p->ids[chain][k]);
	for (uint32_t k = 0; k < n_new && e == 0; k++)
		e = fw_cfg_put(c, chain, k, fwc_get(f, chain, k));
	for (uint32_t k = 0; k < n_new; k++)
		p->ids[chain][k] = k;
	if (e < 0) {
		cube_log(c, LOG_ERR, "batch applied to chain %s but not recorded in the configuration: restarting",
			 fw_chain_names[chain]);
		exit(1); /* the broker restarts the cube with the stored rules */
	}
	e = fw_fit(c, f, chain, 0, false);
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
