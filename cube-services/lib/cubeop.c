/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cubeop - an action's input and output, and a cube's operational state, as
 * libyang data of the service's model (see cubeop.h).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "cubeop.h"

/* ---- values as text -------------------------------------------------------- */

const char *cubeop_fmt_mac(char *buf, size_t size, const uint8_t mac[6])
{
	snprintf(buf, size, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
	return buf;
}

const char *cubeop_fmt_in4(char *buf, size_t size, const struct in_addr *a)
{
	return inet_ntop(AF_INET, a, buf, size) ? buf : "";
}

const char *cubeop_fmt_in6(char *buf, size_t size, const struct in6_addr *a)
{
	return inet_ntop(AF_INET6, a, buf, size) ? buf : "";
}

const char *cubeop_fmt_ip(char *buf, size_t size, const struct cb_ip *ip, int with_len)
{
	int full = ip->family == AF_INET ? 32 : 128;
	size_t n;

	/* family 0: no value, left out like a NULL string */
	if (!ip->family || !inet_ntop(ip->family == AF_INET ? AF_INET : AF_INET6, &ip->bytes, buf, size))
		return NULL;
	n = strlen(buf);
	if (with_len == CUBEOP_IP_PREFIX || (with_len == CUBEOP_IP_EITHER && (ip->len != full || ip->with_len)))
		snprintf(buf + n, size - n, "/%u", ip->len);
	return buf;
}

/* ---- libyang data as the broker's JSON -------------------------------------- */

static struct json_object *cubeop_json_value(const struct lyd_node *n)
{
	const struct lyd_node_term *t = (const void *)n;
	const struct lyd_value *v = &t->value;
	LY_DATA_TYPE type = v->realtype ? v->realtype->basetype : LY_TYPE_UNKNOWN;

	if (type == LY_TYPE_UNION && v->subvalue)
		v = &v->subvalue->value;
	type = v->realtype ? v->realtype->basetype : LY_TYPE_UNKNOWN;
	switch (type) {
	case LY_TYPE_UINT8: return json_object_new_int64(v->uint8);
	case LY_TYPE_UINT16: return json_object_new_int64(v->uint16);
	case LY_TYPE_UINT32: return json_object_new_int64(v->uint32);
	case LY_TYPE_UINT64: return json_object_new_uint64(v->uint64);
	case LY_TYPE_INT8: return json_object_new_int64(v->int8);
	case LY_TYPE_INT16: return json_object_new_int64(v->int16);
	case LY_TYPE_INT32: return json_object_new_int64(v->int32);
	case LY_TYPE_INT64: return json_object_new_int64(v->int64);
	case LY_TYPE_BOOL: return json_object_new_boolean(v->boolean);
	case LY_TYPE_EMPTY: {
		/* RFC 7951: [null] */
		struct json_object *a = json_object_new_array();

		json_object_array_add(a, NULL);
		return a;
	}
	default: return json_object_new_string(lyd_get_value(n));
	}
}

/* The member name of n in its parent's object: RFC 7951 names a node with
 * its module where the module changes. */
static void cubeop_json_name(const struct lyd_node *n, const struct lyd_node *parent, char *buf, size_t size)
{
	const char *pmod = parent && parent->schema ? parent->schema->module->name : NULL;

	if (pmod && strcmp(pmod, n->schema->module->name))
		snprintf(buf, size, "%s:%s", n->schema->module->name, n->schema->name);
	else
		snprintf(buf, size, "%s", n->schema->name);
}

/* Whether a list is one of the model's state lists. */
static int cubeop_state_list(const struct cubecfg_model *m, const struct lysc_node *sn)
{
	char path[512];

	if (!m || !m->n_state_lists)
		return 0;
	lysc_path(sn, LYSC_PATH_DATA, path, sizeof(path));
	for (size_t i = 0; i < m->n_state_lists; i++)
		if (!strcmp(m->state_lists[i], path))
			return 1;
	return 0;
}

/*
 * A state list without entries is [], as a read always listed it. This adds
 * [] to out for the state lists of m that out lacks among the schema
 * children of ps after `after` (NULL: from the first) and before `upto`
 * (NULL: to the last), in the model's order: libyang keeps data in that
 * order, so an empty list comes where a read always had it, before the
 * members that follow it in the model. Returns upto, or after when upto does
 * not come after it (the lists are then left to the last call).
 */
static const struct lysc_node *cubeop_empty_lists(const struct lysc_node *ps, const struct lysc_node *after,
						  const struct lysc_node *upto, struct json_object *out,
						  const struct cubecfg_model *m)
{
	const struct lysc_node *sc = after;

	if (upto) {
		while ((sc = lys_getnext(sc, ps, NULL, 0)) && sc != upto)
			;
		if (!sc)
			return after;
	}
	sc = after;
	while ((sc = lys_getnext(sc, ps, NULL, 0)) && sc != upto) {
		if (sc->nodetype == LYS_LIST && !json_object_object_get_ex(out, sc->name, NULL) &&
		    cubeop_state_list(m, sc))
			json_object_object_add(out, sc->name, json_object_new_array());
	}
	return upto ? upto : after;
}

/* m: for a state, whose lists are [] when they have no entry */
static void cubeop_json_r(const struct lyd_node *parent, struct json_object *out, const struct cubecfg_model *m)
{
	const struct lyd_node *n;
	const struct lysc_node *sc = NULL; /* the schema node of the last member */

	LY_LIST_FOR(lyd_child(parent), n)
	{
		struct json_object *arr = NULL, *o;
		char name[256];

		if (!n->schema)
			continue;
		if (m && parent->schema && n->schema != sc)
			sc = cubeop_empty_lists(parent->schema, sc, n->schema, out, m);
		cubeop_json_name(n, parent, name, sizeof(name));
		switch (n->schema->nodetype) {
		case LYS_LEAF: json_object_object_add(out, name, cubeop_json_value(n)); break;
		case LYS_LEAFLIST:
		case LYS_LIST:
			if (!json_object_object_get_ex(out, name, &arr)) {
				arr = json_object_new_array();
				json_object_object_add(out, name, arr);
			}
			if (n->schema->nodetype == LYS_LEAFLIST) {
				json_object_array_add(arr, cubeop_json_value(n));
				break;
			}
			o = json_object_new_object();
			cubeop_json_r(n, o, m);
			json_object_array_add(arr, o);
			break;
		case LYS_CONTAINER:
			o = json_object_new_object();
			cubeop_json_r(n, o, m);
			json_object_object_add(out, name, o);
			break;
		default: break;
		}
	}
	/* the lists after the last member (and any the walk missed) */
	if (m && parent->schema)
		cubeop_empty_lists(parent->schema, NULL, NULL, out, m);
}

void cubeop_json_children(const struct lyd_node *parent, struct json_object *out)
{
	cubeop_json_r(parent, out, NULL);
}

/* ---- state --------------------------------------------------------------- */

struct cube_state {
	const struct cubecfg_model *model;
	const struct lys_module *mod;
	struct lyd_node *top; /* the cube's entry */
	int status;	      /* the first error */
	char *err;
	size_t errlen;
};

struct cube_state *cubeop_state_new(const struct ly_ctx *ctx, const struct cubecfg_model *model, const char *name,
				    char *err, size_t errlen)
{
	struct cube_state *st = calloc(1, sizeof(*st));
	const char *module = model->module;

	if (!st) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	st->model = model;
	st->mod = ctx ? ly_ctx_get_module_implemented(ctx, module) : NULL;
	st->err = err;
	st->errlen = errlen;
	if (errlen)
		err[0] = '\0';
	if (!st->mod || lyd_new_list(NULL, st->mod, module, 0, &st->top, name) != LY_SUCCESS) {
		snprintf(err, errlen, "cannot make the state of %s: the model %s is not loaded", name, module);
		free(st);
		return NULL;
	}
	return st;
}

void cubeop_state_destroy(struct cube_state **st)
{
	if (!st || !*st)
		return;
	lyd_free_all((*st)->top);
	free(*st);
	*st = NULL;
}

const struct lyd_node *cubeop_state_tree(const struct cube_state *st)
{
	return st->top;
}

int cubeop_state_status(const struct cube_state *st)
{
	return st->status;
}

struct lyd_node *cubeop_state_top(struct cube_state *st)
{
	return st->status < 0 ? NULL : st->top;
}

/* The node under which a failure happened, below the cube's entry
 * ("fdb/entry[address='...']"; "" for the entry itself). */
static void cubeop_where(const struct lyd_node *n, const struct lyd_node *top, char *buf, size_t size)
{
	char *p = n ? lyd_path(n, LYD_PATH_STD, NULL, 0) : NULL, *t = lyd_path(top, LYD_PATH_STD, NULL, 0);
	size_t tl = t ? strlen(t) : 0;

	snprintf(buf, size, "%s", p && t && !strncmp(p, t, tl) ? p + tl + (p[tl] == '/') : p ? p : "");
	free(p);
	free(t);
}

/* The first failure of an emitter: value refused by libyang, or (value
 * NULL) the sentence why. */
static void cubeop_fail(struct cube_state *st, const struct lyd_node *parent, const char *name, const char *value,
			const char *why)
{
	char where[512];

	if (st->status < 0)
		return;
	st->status = -EINVAL;
	cubeop_where(parent, st->top, where, sizeof(where));
	if (value)
		snprintf(st->err, st->errlen, "state %s%s%s: %s is not a value the model allows (%s)", where,
			 *where ? "/" : "", name, value, ly_errmsg(LYD_CTX(st->top)));
	else
		snprintf(st->err, st->errlen, "state %s%s%s: %s", where, *where ? "/" : "", name, why);
}

struct lyd_node *cubeop_state_inner(struct cube_state *st, struct lyd_node *parent, const char *name)
{
	const struct lysc_node *sn;
	struct lyd_node *n = NULL;

	if (!parent || st->status < 0)
		return NULL;
	sn = lys_find_child(parent->schema, st->mod, name, 0, LYS_CONTAINER, 0);
	if (sn && lyd_find_sibling_val(lyd_child(parent), sn, NULL, 0, &n) == LY_SUCCESS)
		return n;
	if (lyd_new_inner(parent, st->mod, name, 0, &n) != LY_SUCCESS) {
		cubeop_fail(st, parent, name, NULL, ly_errmsg(LYD_CTX(st->top)));
		return NULL;
	}
	return n;
}

/* "[k1='v1'][k2='v2']": a value with a ' is quoted with ", one with both
 * cannot be written (no key the services have). */
static int cubeop_predicate(const struct lysc_node *list, const char *const *keys, int n_keys, char *buf, size_t size)
{
	const struct lysc_node *k = lysc_node_child(list);
	size_t len = 0;

	buf[0] = '\0';
	for (int i = 0; i < n_keys; i++, k = k ? k->next : NULL) {
		char q;
		int w;

		if (!keys[i] || !k || !(k->flags & LYS_KEY))
			return -EINVAL;
		q = strchr(keys[i], '\'') ? '"' : '\'';
		if (q == '"' && strchr(keys[i], '"'))
			return -EINVAL;
		w = snprintf(buf + len, size - len, "[%s=%c%s%c]", k->name, q, keys[i], q);
		if (w < 0 || (size_t)w >= size - len)
			return -E2BIG;
		len += w;
	}
	return 0;
}

struct lyd_node *cubeop_state_entry(struct cube_state *st, struct lyd_node *parent, const char *name,
				    const char *const *keys, int n_keys)
{
	const struct lysc_node *sn;
	struct lyd_node *n = NULL;
	char pred[1024];

	if (!parent || st->status < 0)
		return NULL;
	sn = lys_find_child(parent->schema, st->mod, name, 0, LYS_LIST, 0);
	if (!sn || cubeop_predicate(sn, keys, n_keys, pred, sizeof(pred)) < 0) {
		cubeop_fail(st, parent, name, NULL,
			    "an entry with no value for a key (a NULL string, an address of family 0)");
		return NULL;
	}
	if (lyd_find_sibling_val(lyd_child(parent), sn, pred, 0, &n) == LY_SUCCESS)
		return n;
	if (lyd_new_list2(parent, st->mod, name, pred, 0, &n) != LY_SUCCESS) {
		cubeop_fail(st, parent, name, pred, NULL);
		return NULL;
	}
	return n;
}

int cubeop_leaf(struct cube_state *st, struct lyd_node *parent, const char *name, const char *value)
{
	const struct lysc_node *sn;
	struct lyd_node *n = NULL;
	LY_ERR e;

	if (!parent || st->status < 0)
		return st->status;
	if (!value)
		return 0;
	sn = lys_find_child(parent->schema, st->mod, name, 0, LYS_LEAF, 0);
	if (sn && lyd_find_sibling_val(lyd_child(parent), sn, NULL, 0, &n) == LY_SUCCESS) {
		if (sn->flags & LYS_KEY)
			return 0; /* set when the entry was made */
		e = lyd_change_term(n, value);
		e = e == LY_EEXIST || e == LY_ENOT ? LY_SUCCESS : e; /* same value / a default replaced */
	} else {
		e = lyd_new_term(parent, st->mod, name, value, 0, NULL);
	}
	if (e != LY_SUCCESS) {
		cubeop_fail(st, parent, name, value, NULL);
		return st->status;
	}
	return 0;
}

int cubeop_state_json(const struct cube_state *st, struct json_object *out)
{
	struct json_object *all;

	if (st->status < 0)
		return st->status;
	all = json_object_new_object();
	cubeop_json_r(st->top, all, st->model);
	/* the cube's name is the broker's */
	json_object_object_del(all, "name");
	json_object_object_foreach(all, k, v)
	{
		json_object_object_add(out, k, json_object_get(v));
	}
	json_object_put(all);
	return 0;
}

/* ---- actions ------------------------------------------------------------- */

int cubeop_out_leaf(struct lyd_node *op, const char *name, const char *value, char *err, size_t errlen)
{
	if (!value)
		return 0;
	if (lyd_new_term(op, NULL, name, value, 1, NULL) != LY_SUCCESS) {
		snprintf(err, errlen, "%s: the output %s: %s is not a value the model allows (%s)", op->schema->name,
			 name, value, ly_errmsg(LYD_CTX(op)));
		return -EINVAL;
	}
	return 0;
}

/* The words of an action's path, for sentences: "fdb/flush" -> "fdb flush". */
static void cubeop_words(const char *path, char *buf, size_t size)
{
	snprintf(buf, size, "%s", path);
	for (char *p = buf; *p; p++)
		if (*p == '/')
			*p = ' ';
}

/*
 * The action node at path as data: the cube's entry, the containers and
 * list entries (the segments after a list are its keys) down to it.
 */
static int cubeop_op_tree(const struct ly_ctx *ctx, const char *module, const char *name, const char *path,
			  struct lyd_node **top, struct lyd_node **op, char *err, size_t errlen)
{
	const struct lys_module *mod = ly_ctx_get_module_implemented(ctx, module);
	char *copy = strdup(path), *save = NULL, *seg, words[512];
	struct lyd_node *n = NULL;
	int r = -ENOENT;

	*top = *op = NULL;
	cubeop_words(path, words, sizeof(words));
	if (!mod || !copy || lyd_new_list(NULL, mod, module, 0, top, name) != LY_SUCCESS) {
		snprintf(err, errlen, "cannot run %s: the model %s is not loaded", words, module);
		r = copy ? -ENOENT : -ENOMEM;
		goto out;
	}
	n = *top;
	for (seg = strtok_r(copy, "/", &save); seg; seg = strtok_r(NULL, "/", &save)) {
		const struct lysc_node *sn = lys_find_child(n->schema, mod, seg, 0, 0, 0);
		struct lyd_node *next = NULL;

		if (*op || !sn || !(sn->nodetype & (LYS_CONTAINER | LYS_LIST | LYS_ACTION))) {
			snprintf(err, errlen, "%s has no action %s", module, words);
			goto out;
		}
		if (sn->nodetype == LYS_LIST) {
			const char *keys[8];
			char pred[1024];
			int nk = 0;

			for (const struct lysc_node *k = lysc_node_child(sn); k && (k->flags & LYS_KEY); k = k->next) {
				if (nk == 8 || !(keys[nk] = strtok_r(NULL, "/", &save))) {
					snprintf(err, errlen, "%s: %s needs its key%s", words, sn->name, nk ? "s" : "");
					r = -EINVAL;
					goto out;
				}
				nk++;
			}
			if (cubeop_predicate(sn, keys, nk, pred, sizeof(pred)) < 0 ||
			    lyd_new_list2(n, NULL, sn->name, pred, 0, &next) != LY_SUCCESS) {
				snprintf(err, errlen, "%s: %s is not a key of %s (%s)", words, keys[0], sn->name,
					 ly_errmsg(ctx));
				r = -EINVAL;
				goto out;
			}
		} else if (lyd_new_inner(n, NULL, sn->name, 0, &next) != LY_SUCCESS) {
			snprintf(err, errlen, "cannot run %s: %s", words, ly_errmsg(ctx));
			r = -EINVAL;
			goto out;
		}
		if (sn->nodetype == LYS_ACTION)
			*op = next;
		n = next;
	}
	if (!*op) {
		snprintf(err, errlen, "%s has no action %s", module, words);
		goto out;
	}
	r = 0;
out:
	free(copy);
	if (r < 0) {
		lyd_free_all(*top);
		*top = *op = NULL;
	}
	return r;
}

/* One leaf of an input (or of an entry of an input list) under parent. */
static int cubeop_input_leaf(struct lyd_node *parent, const struct lysc_node *sn, const char *words,
			     struct json_object *v, char *err, size_t errlen)
{
	const char *val;

	if (json_object_is_type(v, json_type_object) ||
	    (json_object_is_type(v, json_type_array) &&
	     (json_object_array_length(v) != 1 || json_object_array_get_idx(v, 0))))
		val = NULL;
	else if (json_object_is_type(v, json_type_array) || json_object_is_type(v, json_type_null))
		val = ""; /* an empty leaf: [null] */
	else
		val = json_object_get_string(v);
	if (!val || lyd_new_term(parent, NULL, sn->name, val, 0, NULL) != LY_SUCCESS) {
		snprintf(err, errlen, "%s %s: %s is not a value the model allows (%s)", words, sn->name,
			 val ? val : json_object_to_json_string(v),
			 val ? ly_errmsg(LYD_CTX(parent)) : "not a single value");
		return -EINVAL;
	}
	return 0;
}

/*
 * A list of an action's input (a batch): a JSON array of objects of the
 * entry's leaves, each an entry under op, in the array's order. A missing
 * key, a key given twice, an unknown leaf: refused in words.
 */
static int cubeop_input_list(struct lyd_node *op, const struct lysc_node *list, const char *words,
			     struct json_object *arr, char *err, size_t errlen)
{
	size_t n = json_object_is_type(arr, json_type_array) ? json_object_array_length(arr) : 0;

	if (!json_object_is_type(arr, json_type_array)) {
		snprintf(err, errlen, "%s %s: give a list of entries ([{...}, ...])", words, list->name);
		return -EINVAL;
	}
	for (size_t i = 0; i < n; i++) {
		struct json_object *e = json_object_array_get_idx(arr, i), *kv;
		char pred[1024] = "";
		struct lyd_node *entry = NULL;
		const struct lysc_node *c;

		if (!json_object_is_type(e, json_type_object)) {
			snprintf(err, errlen, "%s %s entry %zu: not an object of its leaves", words, list->name, i);
			return -EINVAL;
		}
		LY_LIST_FOR(lysc_node_child(list), c)
		{
			size_t l = strlen(pred);

			if (!(c->flags & LYS_KEY))
				continue;
			if (!json_object_object_get_ex(e, c->name, &kv) || json_object_is_type(kv, json_type_object) ||
			    json_object_is_type(kv, json_type_array) || strchr(json_object_get_string(kv), '\'')) {
				snprintf(err, errlen, "%s %s entry %zu: its key %s is missing or not a value", words,
					 list->name, i, c->name);
				return -EINVAL;
			}
			snprintf(pred + l, sizeof(pred) - l, "[%s='%s']", c->name, json_object_get_string(kv));
		}
		if (lyd_new_list2(op, NULL, list->name, pred, 0, &entry) != LY_SUCCESS) {
			snprintf(err, errlen, "%s %s entry %zu: %s", words, list->name, i, ly_errmsg(LYD_CTX(op)));
			return -EINVAL;
		}
		json_object_object_foreach(e, key, v)
		{
			const struct lysc_node *sn = lys_find_child(list, list->module, key, 0, 0, 0);

			if (!sn || sn->nodetype != LYS_LEAF) {
				snprintf(err, errlen, "%s %s entry %zu has no leaf %s", words, list->name, i, key);
				return -EINVAL;
			}
			if (sn->flags & LYS_KEY)
				continue;
			if (cubeop_input_leaf(entry, sn, words, v, err, errlen) < 0)
				return -EINVAL;
		}
	}
	return 0;
}

/* The input, a JSON object of leaves (and of lists), as children of op. */
static int cubeop_input(struct lyd_node *op, const char *words, const char *input, char *err, size_t errlen)
{
	struct json_object *in = input && *input ? json_tokener_parse(input) : NULL;
	int r = 0;

	if (input && *input && !json_object_is_type(in, json_type_object)) {
		snprintf(err, errlen, "%s: the input is not a JSON object of its leaves", words);
		r = -EINVAL;
		goto out;
	}
	if (!in)
		goto out;
	json_object_object_foreach(in, key, v)
	{
		const char *colon = strchr(key, ':'), *lname = colon ? colon + 1 : key;
		const struct lysc_node *sn = lys_find_child(op->schema, op->schema->module, lname, 0, 0, 0);

		if (!sn || !(sn->nodetype & (LYS_LEAF | LYS_LIST)) ||
		    (colon && strncmp(key, sn->module->name, colon - key))) {
			snprintf(err, errlen, "%s has no input %s", words, key);
			r = -EINVAL;
			goto out;
		}
		r = sn->nodetype == LYS_LIST ? cubeop_input_list(op, sn, words, v, err, errlen)
					     : cubeop_input_leaf(op, sn, words, v, err, errlen);
		if (r < 0)
			goto out;
	}
out:
	json_object_put(in);
	return r;
}

static const struct cubeop_action *cubeop_find(const struct cubeop_actions *a, const struct lysc_node *sn)
{
	char path[512];

	lysc_path(sn, LYSC_PATH_DATA, path, sizeof(path));
	for (size_t i = 0; i < a->n_actions; i++)
		if (!strcmp(a->actions[i].path, path))
			return &a->actions[i];
	return NULL;
}

int cubeop_action_run(const struct cubeop_actions *a, void *cube, const struct ly_ctx *ctx, const char *name,
		      const struct lyd_node *config, const char *path, const char *input, char **output, char *err,
		      size_t errlen)
{
	struct lyd_node *top = NULL, *op = NULL, *rtop = NULL, *rop = NULL;
	const struct cubeop_action *act;
	void *in = NULL, *out = NULL;
	char words[512];
	int r;

	*output = NULL;
	if (errlen)
		err[0] = '\0';
	cubeop_words(path, words, sizeof(words));
	r = cubeop_op_tree(ctx, a->module, name, path, &top, &op, err, errlen);
	if (r < 0)
		return r;
	act = cubeop_find(a, op->schema);
	if (!act) {
		snprintf(err, errlen, "%s has no action %s", a->module, words);
		r = -ENOENT;
		goto out;
	}
	r = cubeop_input(op, words, input, err, errlen);
	if (r < 0)
		goto out;
	/* mandatory input, defaults, references into the configuration */
	if (lyd_validate_op(top, config, LYD_TYPE_RPC_YANG, NULL) != LY_SUCCESS) {
		snprintf(err, errlen, "%s: the input does not fit the model: %s", words, ly_errmsg(ctx));
		r = -EINVAL;
		goto out;
	}
	in = calloc(1, act->in_size ? act->in_size : 1);
	out = calloc(1, act->out_size ? act->out_size : 1);
	if (!in || !out) {
		snprintf(err, errlen, "out of memory");
		r = -ENOMEM;
		goto out;
	}
	r = act->decode(op, in, err, errlen);
	if (r < 0) {
		/* a value libyang took and the C type cannot hold (an address
		 * with a zone): said of the action, as the input's other errors */
		char why[512];

		snprintf(why, sizeof(why), "%s", err);
		snprintf(err, errlen, "%s %s", words, why);
		goto out;
	}
	r = act->run(cube, in, out);
	if (r < 0) {
		if (!err[0])
			snprintf(err, errlen, "%s failed: %s", words, strerror(-r));
		goto out;
	}
	/* the reply: the same parents, the output leaves */
	if (lyd_dup_single(op, NULL, LYD_DUP_WITH_PARENTS, &rop) != LY_SUCCESS) {
		snprintf(err, errlen, "%s: cannot make the reply: %s", words, ly_errmsg(ctx));
		r = -ENOMEM;
		goto out;
	}
	for (rtop = rop; lyd_parent(rtop); rtop = lyd_parent(rtop))
		;
	r = act->encode(rop, out, err, errlen);
	if (r == 0 && lyd_validate_op(rtop, config, LYD_TYPE_REPLY_YANG, NULL) != LY_SUCCESS) {
		snprintf(err, errlen, "%s: the output does not fit the model: %s", words, ly_errmsg(ctx));
		r = -EINVAL;
	}
	if (r < 0)
		goto out;
	/* an action without output answers nothing, as before */
	if (((const struct lysc_node_action *)op->schema)->output.child) {
		struct json_object *o = json_object_new_object();

		cubeop_json_children(rop, o);
		*output = strdup(
			json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(o);
	}
out:
	free(in);
	free(out);
	lyd_free_all(top);
	lyd_free_all(rtop);
	return r;
}
