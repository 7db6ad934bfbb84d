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

/* The node at the same data path in another tree, or NULL. */
static const struct lyd_node *cubecfg_same(const struct lyd_node *tree, const struct lyd_node *n)
{
	struct lyd_node *found = NULL;
	char *path;

	if (!tree)
		return NULL;
	path = lyd_path(n, LYD_PATH_STD, NULL, 0);
	if (!path)
		return NULL;
	if (lyd_find_path(tree, path, 0, &found) != LY_SUCCESS)
		found = NULL;
	free(path);
	return found;
}

/*
 * Walks the diff: every list entry or container of the table that was created
 * or deleted, and every one whose own leaves changed, becomes one call.
 * Whether an entry came or went is read from the two trees (present in one
 * only), which also holds for an entry whose diff operation is "none".
 */
static int cubecfg_walk(const struct cubecfg_model *m, struct cubecfg_plan *p, const struct lyd_node *d,
			const struct lyd_node *old, const struct lyd_node *new, int depth)
{
	const struct lyd_node *c;
	const struct cubecfg_node *node = cubecfg_node_of(m, d->schema);
	int r;

	if (node) {
		const struct lyd_node *o = cubecfg_same(old, d), *n = cubecfg_same(new, d);
		int changed = 0;

		/*
		 * A leaf of the service's own changed: an update. Keys are in the
		 * diff of every entry on the way to a change, and base leaves (a
		 * port's peer) are libcube's: neither is a change of the entry.
		 */
		LY_LIST_FOR(lyd_child(d), c)
		{
			if (c->schema && (c->schema->nodetype & (LYS_LEAF | LYS_LEAFLIST)) &&
			    !(c->schema->flags & LYS_KEY) && !strcmp(c->schema->module->name, m->module))
				changed = 1;
		}
		if (o && !n)
			r = cubecfg_plan_add(p, node, OP_DELETE, o, NULL, depth);
		else if (!o && n)
			r = cubecfg_plan_add(p, node, OP_CREATE, NULL, n, depth);
		else if (o && n && changed)
			r = cubecfg_plan_add(p, node, OP_UPDATE, o, n, depth);
		else
			r = 0;
		if (r < 0)
			return r;
	}
	LY_LIST_FOR(lyd_child(d), c)
	{
		if (!c->schema || !(c->schema->nodetype & (LYS_LIST | LYS_CONTAINER)))
			continue;
		r = cubecfg_walk(m, p, c, old, new, depth + 1);
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
	struct lyd_node *diff = NULL;
	const struct lyd_node *d;
	size_t done = 0;
	int r;

	if (errlen)
		err[0] = '\0';
	if (lyd_diff_siblings(old, new, LYD_DIFF_DEFAULTS, &diff) != LY_SUCCESS) {
		snprintf(err, errlen, "cannot compute the configuration change: %s",
			 ly_errmsg(LYD_CTX(old ? old : new)));
		return -EINVAL;
	}
	LY_LIST_FOR(diff, d)
	{
		r = cubecfg_walk(m, &p, d, old, new, 0);
		if (r < 0) {
			snprintf(err, errlen, "out of memory");
			goto out;
		}
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
	lyd_free_all(diff);
	return r;
}
