/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cubecfg - the difference between two configuration trees of a cube, as
 * calls of the service's typed handlers (see cubecfg.h).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "cubecfg.h"

int cubecfg_bad_value(char *err, size_t errlen, const char *leaf, const char *value)
{
	const char *zone = value ? strchr(value, '%') : NULL;

	if (zone)
		snprintf(err, errlen, "%s: %s names a zone (%s): give the address without it", leaf, value, zone);
	else
		snprintf(err, errlen, "%s: %s is a value this service cannot hold", leaf, value ? value : "");
	return -EINVAL;
}

int cubecfg_parse_ip(const char *s, struct cb_ip *out)
{
	char buf[INET6_ADDRSTRLEN + 8], *slash, *end;
	long len;

	if (!s || strlen(s) >= sizeof(buf))
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	strcpy(buf, s);
	slash = strchr(buf, '/');
	if (slash)
		*slash = '\0';
	if (inet_pton(AF_INET, buf, &out->v4) == 1)
		out->family = AF_INET;
	else if (inet_pton(AF_INET6, buf, &out->v6) == 1)
		out->family = AF_INET6;
	else
		return -EINVAL;
	out->len = out->family == AF_INET ? 32 : 128;
	if (slash) {
		errno = 0;
		len = strtol(slash + 1, &end, 10);
		if (errno || end == slash + 1 || *end || len < 0 || len > out->len)
			return -EINVAL;
		out->len = len;
		out->with_len = true;
	}
	return 0;
}

int cubecfg_parse_mac(const char *s, uint8_t mac[6])
{
	unsigned int b[6];
	char tail;

	if (!s || sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5], &tail) != 6)
		return -EINVAL;
	for (int i = 0; i < 6; i++)
		mac[i] = b[i];
	return 0;
}

const struct lyd_node *cubecfg_child(const struct lyd_node *n, const char *module, const char *name)
{
	const struct lyd_node *c;

	LY_LIST_FOR(lyd_child(n), c)
	{
		if (c->schema && !strcmp(c->schema->name, name) && !strcmp(c->schema->module->name, module))
			return c;
	}
	return NULL;
}

const struct lyd_node *cubecfg_ancestor(const struct lyd_node *n, int up)
{
	while (n && up-- > 0)
		n = lyd_parent(n);
	return n;
}

/* ---- the difference as a list of calls ----------------------------------- */

enum cubecfg_op { OP_CREATE, OP_UPDATE, OP_DELETE };

struct cubecfg_call {
	const struct cubecfg_node *node;
	enum cubecfg_op op;
	const struct lyd_node *old, *new; /* the entries in the old and new trees */
	int depth;
	size_t seq;	     /* order in the diff, which is the model's */
	size_t path_idx;     /* cubecfg_apply_diff: its path */
	void *old_s, *new_s; /* decoded */
};

struct cubecfg_plan {
	struct cubecfg_call *calls;
	size_t n, cap;
};

static const struct cubecfg_node *cubecfg_node_of(const struct cubecfg_model *m, const struct lysc_node *sn)
{
	char path[512];

	if (!sn || !(sn->nodetype & (LYS_LIST | LYS_CONTAINER)))
		return NULL;
	lysc_path(sn, LYSC_PATH_DATA, path, sizeof(path));
	for (size_t i = 0; i < m->n_nodes; i++) {
		if (!strcmp(m->nodes[i].path, path))
			return &m->nodes[i];
	}
	return NULL;
}

static int cubecfg_plan_add(struct cubecfg_plan *p, const struct cubecfg_node *node, enum cubecfg_op op,
			    const struct lyd_node *old, const struct lyd_node *new, int depth)
{
	if (p->n == p->cap) {
		size_t cap = p->cap ? 2 * p->cap : 32;
		struct cubecfg_call *c = realloc(p->calls, cap * sizeof(*c));

		if (!c)
			return -ENOMEM;
		p->calls = c;
		p->cap = cap;
	}
	p->calls[p->n] =
		(struct cubecfg_call){ .node = node, .op = op, .old = old, .new = new, .depth = depth, .seq = p->n };
	p->n++;
	return 0;
}

/* Whether the service's own leaves (not keys, not base leaves) of two
 * instances of one entry differ: a leaf there in one only, or with another
 * value; a leaf-list with another set of values. */
static int cubecfg_own_differ(const struct cubecfg_model *m, const struct lyd_node *o, const struct lyd_node *n)
{
	const struct lyd_node *a, *b;
	int no = 0, nn = 0;

	LY_LIST_FOR(lyd_child(o), a)
	{
		struct lyd_node *match = NULL;

		if (!a->schema || !(a->schema->nodetype & LYD_NODE_TERM) || (a->schema->flags & LYS_KEY) ||
		    strcmp(a->schema->module->name, m->module))
			continue;
		no++;
		if (a->schema->nodetype == LYS_LEAF)
			lyd_find_sibling_val(lyd_child(n), a->schema, NULL, 0, &match);
		else
			lyd_find_sibling_first(lyd_child(n), a, &match);
		if (!match || strcmp(lyd_get_value(a), lyd_get_value(match)))
			return 1;
	}
	LY_LIST_FOR(lyd_child(n), b)
	{
		if (b->schema && (b->schema->nodetype & LYD_NODE_TERM) && !(b->schema->flags & LYS_KEY) &&
		    !strcmp(b->schema->module->name, m->module))
			nn++;
	}
	return no != nn;
}

/*
 * Walks two instances of one node (o in the old tree, n in the new; one
 * may be NULL): every list entry or container of the table that came or
 * went, or whose own leaves changed, becomes one call, as a walk of their
 * diff would. The counterpart of each child is found by libyang's
 * hashes, so the walk is linear in the trees: lyd_diff_siblings() of
 * libyang 2.1 keeps a cache of matched list instances that it searches
 * linearly, which makes a diff of a list of 100 000 entries take seconds.
 */
static int cubecfg_twalk(const struct cubecfg_model *m, struct cubecfg_plan *p, const struct lyd_node *o,
			 const struct lyd_node *n, int depth)
{
	const struct lyd_node *any = o ? o : n, *c;
	const struct cubecfg_node *node = cubecfg_node_of(m, any->schema);
	int r = 0;

	if (node) {
		if (o && !n)
			r = cubecfg_plan_add(p, node, OP_DELETE, o, NULL, depth);
		else if (!o && n)
			r = cubecfg_plan_add(p, node, OP_CREATE, NULL, n, depth);
		else if (cubecfg_own_differ(m, o, n))
			r = cubecfg_plan_add(p, node, OP_UPDATE, o, n, depth);
		if (r < 0)
			return r;
	}
	/* what o holds, with its counterpart in n; then what only n holds */
	LY_LIST_FOR(o ? lyd_child(o) : NULL, c)
	{
		struct lyd_node *match = NULL;

		if (!c->schema || !(c->schema->nodetype & (LYS_LIST | LYS_CONTAINER)))
			continue;
		if (n && lyd_find_sibling_first(lyd_child(n), c, &match) != LY_SUCCESS)
			match = NULL;
		r = cubecfg_twalk(m, p, c, match, depth + 1);
		if (r < 0)
			return r;
	}
	LY_LIST_FOR(n ? lyd_child(n) : NULL, c)
	{
		struct lyd_node *match = NULL;

		if (!c->schema || !(c->schema->nodetype & (LYS_LIST | LYS_CONTAINER)))
			continue;
		if (o && lyd_find_sibling_first(lyd_child(o), c, &match) == LY_SUCCESS && match)
			continue;
		r = cubecfg_twalk(m, p, NULL, c, depth + 1);
		if (r < 0)
			return r;
	}
	return 0;
}

/* cubecfg_twalk() of two sibling lists (the tops of two trees). */
static int cubecfg_twalk_top(const struct cubecfg_model *m, struct cubecfg_plan *p, const struct lyd_node *old,
			     const struct lyd_node *new)
{
	const struct lyd_node *c;
	int r;

	LY_LIST_FOR(old, c)
	{
		struct lyd_node *match = NULL;

		if (!c->schema)
			continue;
		if (new &&lyd_find_sibling_first(new, c, &match) != LY_SUCCESS)
			match = NULL;
		r = cubecfg_twalk(m, p, c, match, 0);
		if (r < 0)
			return r;
	}
	LY_LIST_FOR(new, c)
	{
		struct lyd_node *match = NULL;

		if (!c->schema || (old && lyd_find_sibling_first(old, c, &match) == LY_SUCCESS && match))
			continue;
		r = cubecfg_twalk(m, p, NULL, c, 0);
		if (r < 0)
			return r;
	}
	return 0;
}

static int cubecfg_order(const void *a, const void *b)
{
	const struct cubecfg_call *x = a, *y = b;

	/* deletions first, deepest first; then the rest, parents first */
	if ((x->op == OP_DELETE) != (y->op == OP_DELETE))
		return x->op == OP_DELETE ? -1 : 1;
	if (x->depth != y->depth)
		return x->op == OP_DELETE ? y->depth - x->depth : x->depth - y->depth;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static int cubecfg_call(const struct cubecfg_call *k, void *cube, int undo)
{
	switch (k->op) {
	case OP_CREATE: return undo ? k->node->del(cube, k->new_s) : k->node->create(cube, k->new_s);
	case OP_DELETE: return undo ? k->node->create(cube, k->old_s) : k->node->del(cube, k->old_s);
	case OP_UPDATE:
		return undo ? k->node->update(cube, k->new_s, k->old_s) : k->node->update(cube, k->old_s, k->new_s);
	}
	return -EINVAL;
}

static const char *cubecfg_op_name[] = { [OP_CREATE] = "create", [OP_UPDATE] = "update", [OP_DELETE] = "delete" };

int cubecfg_apply(const struct cubecfg_model *m, void *cube, const struct lyd_node *old, const struct lyd_node *new,
		  char *err, size_t errlen)
{
	struct cubecfg_plan p = { 0 };
	size_t done = 0;
	int r;

	if (errlen)
		err[0] = '\0';
	r = cubecfg_twalk_top(m, &p, old, new);
	if (r < 0) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	qsort(p.calls, p.n, sizeof(*p.calls), cubecfg_order);
	/* decode everything before the first call: a bad value changes nothing */
	for (size_t i = 0; i < p.n; i++) {
		struct cubecfg_call *k = &p.calls[i];

		if (k->old) {
			k->old_s = calloc(1, k->node->size ? k->node->size : 1);
			r = k->old_s ? k->node->decode(k->old, k->old_s, err, errlen) : -ENOMEM;
			if (r < 0)
				goto out;
		}
		if (k->new) {
			k->new_s = calloc(1, k->node->size ? k->node->size : 1);
			r = k->new_s ? k->node->decode(k->new, k->new_s, err, errlen) : -ENOMEM;
			if (r < 0)
				goto out;
		}
	}
	for (done = 0; done < p.n; done++) {
		r = cubecfg_call(&p.calls[done], cube, 0);
		if (r < 0) {
			char path[512];
			const struct cubecfg_call *k = &p.calls[done];

			lyd_path(k->new ? k->new : k->old, LYD_PATH_STD, path, sizeof(path));
			if (!*err)
				snprintf(err, errlen, "%s of %s failed: %s", cubecfg_op_name[k->op], path,
					 strerror(-r));
			/* undo what was done, newest first; an undo that fails is logged by the handler */
			while (done-- > 0)
				cubecfg_call(&p.calls[done], cube, 1);
			goto out;
		}
	}
	r = 0;
out:
	for (size_t i = 0; i < p.n; i++) {
		free(p.calls[i].old_s);
		free(p.calls[i].new_s);
	}
	free(p.calls);
	return r;
}

/* ---- a diff, in time proportional to it ------------------------------------ */

/* The yang:operation of a diff node: its own, or the nearest ancestor's. */
static const char *cubecfg_diff_op(const struct lyd_node *d)
{
	for (; d; d = lyd_parent(d)) {
		struct lyd_meta *m = lyd_find_meta(d->meta, NULL, "yang:operation");

		if (m)
			return lyd_get_meta_value(m);
	}
	return "none";
}

/* The counterpart of diff node d among the children of parent (or among
 * the top-level siblings of *tree). */
static struct lyd_node *cubecfg_live(struct lyd_node *parent, struct lyd_node *tree, const struct lyd_node *d)
{
	struct lyd_node *first = parent ? lyd_child(parent) : tree, *match = NULL;

	if (!first || !d->schema)
		return NULL;
	if (d->schema->nodetype == LYS_LEAF) {
		if (lyd_find_sibling_val(first, d->schema, NULL, 0, &match) != LY_SUCCESS)
			match = NULL;
	} else if (lyd_find_sibling_first(first, d, &match) != LY_SUCCESS) {
		match = NULL;
	}
	return match;
}

/*
 * The default leaves n lacks, back (a deleted value's default). libyang
 * passes over a node both default and new (which a container left with
 * defaults only, or a duplicate, is): n is neither for this.
 */
static void cubecfg_defaults(struct lyd_node *n)
{
	n->flags &= ~(LYD_NEW | LYD_DEFAULT);
	lyd_new_implicit_tree(n, LYD_IMPLICIT_NO_STATE, NULL);
}

/*
 * Applies diff (siblings d) under live parent (NULL: the top of *tree).
 * Unlike lyd_diff_apply_all, keeps default leaves right: an explicit value
 * replaces the default instance, and a deleted value brings the default
 * back.
 */
static int cubecfg_diff_apply_r(struct lyd_node **tree, struct lyd_node *parent, const struct lyd_node *d)
{
	for (; d; d = d->next) {
		const char *op = cubecfg_diff_op(d);
		struct lyd_node *live = cubecfg_live(parent, *tree, d), *dup = NULL;

		if (!d->schema)
			return -EINVAL;
		if (!strcmp(op, "create") && live && d->schema->nodetype == LYS_CONTAINER) {
			/* a container that was there with defaults only (a diff
			 * leaves those out): what it brings, into it */
			int r = cubecfg_diff_apply_r(tree, live, lyd_child(d));

			if (r < 0)
				return r;
			live->flags &= ~LYD_DEFAULT;
		} else if (!strcmp(op, "create")) {
			if (live && (live->flags & LYD_DEFAULT))
				lyd_free_tree(live);
			else if (live)
				return -EEXIST;
			if (lyd_dup_single(d, NULL, LYD_DUP_RECURSIVE | LYD_DUP_NO_META, &dup) != LY_SUCCESS)
				return -ENOMEM;
			if ((parent ? lyd_insert_child(parent, dup) : lyd_insert_sibling(*tree, dup, tree)) !=
			    LY_SUCCESS) {
				lyd_free_tree(dup);
				return -EINVAL;
			}
			if (dup->schema->nodetype & (LYS_CONTAINER | LYS_LIST))
				lyd_new_implicit_tree(dup, LYD_IMPLICIT_NO_STATE, NULL);
		} else if (!strcmp(op, "delete") && d->schema->nodetype == LYS_CONTAINER &&
			   !(d->schema->flags & LYS_PRESENCE)) {
			/* a container that went back to defaults in the part the
			 * change was made on: what the part held goes, what the
			 * rest of the tree holds in it stays */
			int r;

			if (!live)
				return -ENOENT;
			r = cubecfg_diff_apply_r(tree, live, lyd_child(d));
			if (r < 0)
				return r;
		} else if (!strcmp(op, "delete")) {
			if (!live)
				return -ENOENT;
			if (live == *tree)
				*tree = live->next;
			lyd_free_tree(live);
			if (parent && d->schema->nodetype == LYS_LEAF &&
			    ((const struct lysc_node_leaf *)d->schema)->dflt)
				cubecfg_defaults(parent);
		} else if (!strcmp(op, "replace")) {
			if (!live || !(d->schema->nodetype & LYD_NODE_TERM))
				return -EINVAL;
			if (lyd_change_term(live, lyd_get_value(d)) == LY_EINVAL)
				return -EINVAL;
			live->flags &= ~LYD_DEFAULT;
		} else {
			int r;

			if (!live)
				return -ENOENT;
			r = cubecfg_diff_apply_r(tree, live, lyd_child(d));
			if (r < 0)
				return r;
		}
	}
	return 0;
}

/* An entry's own leaves (and its parents' keys), apart from the tree; with
 * the defaults of what it lacks. */
static struct lyd_node *cubecfg_dup_own(const struct lyd_node *n, struct lyd_node **top)
{
	struct lyd_node *dup = NULL, *c;

	*top = NULL;
	if (lyd_dup_single(n, NULL, LYD_DUP_WITH_PARENTS | LYD_DUP_NO_META, &dup) != LY_SUCCESS)
		return NULL;
	LY_LIST_FOR(lyd_child(n), c)
	{
		if (c->schema && (c->schema->nodetype & LYD_NODE_TERM) && !(c->schema->flags & LYS_KEY))
			lyd_dup_single(c, (struct lyd_node_inner *)dup, LYD_DUP_NO_META, NULL);
	}
	for (*top = dup; lyd_parent(*top); *top = lyd_parent(*top))
		;
	return dup;
}

/* The leaf changes of diff node d made to copy (an entry's own leaves). */
static int cubecfg_own_changes(struct lyd_node *copy, const struct lyd_node *d)
{
	const struct lyd_node *c;

	LY_LIST_FOR(lyd_child(d), c)
	{
		const char *op = cubecfg_diff_op(c);
		struct lyd_node *mine = NULL;

		if (!c->schema || !(c->schema->nodetype & LYD_NODE_TERM) || (c->schema->flags & LYS_KEY) ||
		    !strcmp(op, "none"))
			continue;
		if (c->schema->nodetype == LYS_LEAF &&
		    lyd_find_sibling_val(lyd_child(copy), c->schema, NULL, 0, &mine) != LY_SUCCESS)
			mine = NULL;
		if (!strcmp(op, "delete")) {
			lyd_free_tree(mine);
		} else if (mine) {
			if (lyd_change_term(mine, lyd_get_value(c)) == LY_EINVAL)
				return -EINVAL;
			mine->flags &= ~LYD_DEFAULT;
		} else if (lyd_dup_single(c, (struct lyd_node_inner *)copy, LYD_DUP_NO_META, NULL) != LY_SUCCESS) {
			return -EINVAL;
		}
	}
	cubecfg_defaults(copy);
	return 0;
}

struct cubecfg_dplan {
	struct cubecfg_plan p;
	char **paths;		/* per call, in walk order */
	struct lyd_node **tops; /* scratch copies of entries, to free */
	size_t ntops, captops;
};

static int cubecfg_keep(struct cubecfg_dplan *dp, struct lyd_node *top)
{
	if (dp->ntops == dp->captops) {
		size_t cap = dp->captops ? 2 * dp->captops : 16;
		struct lyd_node **t = realloc(dp->tops, cap * sizeof(*t));

		if (!t) {
			lyd_free_all(top);
			return -ENOMEM;
		}
		dp->tops = t;
		dp->captops = cap;
	}
	dp->tops[dp->ntops++] = top;
	return 0;
}

/*
 * A call per entry of the diff that is created, deleted or whose own leaves
 * change; its old entry copied from the tree as it is, its new one built
 * apart (the tree stays the applied configuration while handlers run:
 * cube_config() answers for it).
 */
static int cubecfg_dwalk(const struct cubecfg_model *m, struct cubecfg_dplan *dp, struct lyd_node *tree,
			 const struct lyd_node *d, int depth)
{
	const struct lyd_node *c;
	const struct cubecfg_node *node = cubecfg_node_of(m, d->schema);
	int r;

	if (node) {
		const char *op = cubecfg_diff_op(d);
		enum cubecfg_op kind = OP_UPDATE;
		int call = 1;

		struct lyd_node *there = NULL;
		int exists = 0;

		if (!strcmp(op, "create") && d->schema->nodetype == LYS_CONTAINER) {
			/* a container there with defaults only, which the diff
			 * leaves out: its own leaves change, if any */
			char *p = lyd_path(d, LYD_PATH_STD, NULL, 0);

			exists = p && lyd_find_path(tree, p, 0, &there) == LY_SUCCESS;
			free(p);
		}
		if (!strcmp(op, "create") && !exists)
			kind = OP_CREATE;
		else if (!strcmp(op, "delete") &&
			 !(d->schema->nodetype == LYS_CONTAINER && !(d->schema->flags & LYS_PRESENCE)))
			kind = OP_DELETE;
		else {
			call = 0;
			LY_LIST_FOR(lyd_child(d), c)
			{
				if (c->schema && (c->schema->nodetype & LYD_NODE_TERM) &&
				    !(c->schema->flags & LYS_KEY) && !strcmp(c->schema->module->name, m->module) &&
				    strcmp(cubecfg_diff_op(c), "none"))
					call = 1;
			}
		}
		if (call) {
			struct lyd_node *old = NULL, *new = NULL, *live = NULL, *top;
			char *path = lyd_path(d, LYD_PATH_STD, NULL, 0);
			char **ps;

			if (!path)
				return -ENOMEM;
			r = 0;
			if (kind != OP_CREATE) {
				if (lyd_find_path(tree, path, 0, &live) != LY_SUCCESS)
					r = -ENOENT;
				else if (!(old = cubecfg_dup_own(live, &top)) || cubecfg_keep(dp, top) < 0)
					r = -ENOMEM;
			}
			if (r == 0 && kind != OP_DELETE) {
				if (!(new = cubecfg_dup_own(kind == OP_CREATE ? d : live, &top)) ||
				    cubecfg_keep(dp, top) < 0)
					r = -ENOMEM;
				else if (kind == OP_CREATE)
					lyd_new_implicit_tree(new, LYD_IMPLICIT_NO_STATE, NULL);
				else
					r = cubecfg_own_changes(new, d);
			}
			if (r == 0)
				r = cubecfg_plan_add(&dp->p, node, kind, old, new, depth);
			ps = r == 0 ? realloc(dp->paths, dp->p.cap * sizeof(*ps)) : NULL;
			if (r == 0 && !ps)
				r = -ENOMEM;
			if (r < 0) {
				free(path);
				return r;
			}
			dp->paths = ps;
			dp->paths[dp->p.n - 1] = path;
		}
	}
	LY_LIST_FOR(lyd_child(d), c)
	{
		if (!c->schema || !(c->schema->nodetype & (LYS_LIST | LYS_CONTAINER)))
			continue;
		r = cubecfg_dwalk(m, dp, tree, c, depth + 1);
		if (r < 0)
			return r;
	}
	return 0;
}

static void cubecfg_revert(struct lyd_node **tree, const struct lyd_node *diff)
{
	struct lyd_node *rev = NULL;

	if (lyd_diff_reverse_all(diff, &rev) == LY_SUCCESS)
		cubecfg_diff_apply_r(tree, NULL, rev);
	lyd_free_all(rev);
}

int cubecfg_apply_diff(const struct cubecfg_model *m, void *cube, struct lyd_node **tree, const struct lyd_node *diff,
		       char *err, size_t errlen)
{
	struct cubecfg_dplan dp = { 0 };
	const struct lyd_node *d;
	size_t done = 0;
	int r = 0;

	if (errlen)
		err[0] = '\0';
	if (!tree || !*tree) {
		snprintf(err, errlen, "no configuration yet");
		return -ESTALE;
	}
	LY_LIST_FOR(diff, d)
	{
		r = cubecfg_dwalk(m, &dp, *tree, d, 0);
		if (r < 0) {
			snprintf(err, errlen, "the change does not fit the configuration: %s", strerror(-r));
			goto out;
		}
	}
	/* the paths follow the calls through the sort */
	for (size_t i = 0; i < dp.p.n; i++)
		dp.p.calls[i].path_idx = i;
	qsort(dp.p.calls, dp.p.n, sizeof(*dp.p.calls), cubecfg_order);
	/* decode everything before the first call: a bad value changes nothing */
	for (size_t i = 0; i < dp.p.n; i++) {
		struct cubecfg_call *k = &dp.p.calls[i];

		if (k->old) {
			k->old_s = calloc(1, k->node->size ? k->node->size : 1);
			r = k->old_s ? k->node->decode(k->old, k->old_s, err, errlen) : -ENOMEM;
			if (r < 0)
				goto out;
		}
		if (k->new) {
			k->new_s = calloc(1, k->node->size ? k->node->size : 1);
			r = k->new_s ? k->node->decode(k->new, k->new_s, err, errlen) : -ENOMEM;
			if (r < 0)
				goto out;
		}
	}
	for (done = 0; done < dp.p.n; done++) {
		r = cubecfg_call(&dp.p.calls[done], cube, 0);
		if (r < 0) {
			const struct cubecfg_call *k = &dp.p.calls[done];

			if (!*err)
				snprintf(err, errlen, "%s of %s failed: %s", cubecfg_op_name[k->op],
					 dp.paths[k->path_idx], strerror(-r));
			goto undo;
		}
	}
	/* every handler took it: the tree becomes the new configuration */
	r = cubecfg_diff_apply_r(tree, NULL, diff);
	if (r == 0)
		goto out;
	snprintf(err, errlen, "the change does not apply to the configuration: %s", strerror(-r));
	cubecfg_revert(tree, diff);
undo:
	while (done-- > 0)
		cubecfg_call(&dp.p.calls[done], cube, 1);
out:
	for (size_t i = 0; i < dp.p.n; i++) {
		free(dp.p.calls[i].old_s);
		free(dp.p.calls[i].new_s);
	}
	for (size_t i = 0; dp.paths && i < dp.p.n; i++)
		free(dp.paths[i]);
	for (size_t i = 0; i < dp.ntops; i++)
		lyd_free_all(dp.tops[i]);
	free(dp.tops);
	free(dp.paths);
	free(dp.p.calls);
	return r;
}
