/* SPDX-License-Identifier: Apache-2.0 */
/*
 * schema.c - the YANG models of the services (libyang): which services
 * exist, how a request path walks a cube's configuration, validation and
 * normalisation of every change, defaults and help.
 *
 * A cube's configuration is kept as the RFC 7951 JSON object of its entry
 * in the service's top-level list, without the module prefix.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <libyang/libyang.h>

#include "broker.h"

static const struct lys_module *schema_module(struct broker *b, const char *service)
{
	const struct lys_module *m = ly_ctx_get_module_implemented(b->yang, service);

	if (!m || !strcmp(service, "cubebus-base"))
		return NULL;
	return m;
}

/* The service's top-level list node (the cube). */
static const struct lysc_node *schema_top(struct broker *b, const char *service)
{
	const struct lys_module *m = schema_module(b, service);

	if (!m)
		return NULL;
	return lys_find_child(NULL, m, service, 0, LYS_LIST, 0);
}

int schema_init(struct broker *b, char *err, size_t errlen)
{
	DIR *d;
	struct dirent *de;

	ly_log_options(LY_LOSTORE_LAST);
	if (ly_ctx_new(b->yang_dir, 0, &b->yang) != LY_SUCCESS) {
		snprintf(err, errlen, "cannot create the YANG context on %s", b->yang_dir);
		return -ENOMEM;
	}
	d = opendir(b->yang_dir);
	if (!d) {
		snprintf(err, errlen, "cannot read the YANG models in %s: %s", b->yang_dir, strerror(errno));
		return -errno;
	}
	while ((de = readdir(d))) {
		char name[256];
		size_t len = strlen(de->d_name);

		if (len < 6 || strcmp(de->d_name + len - 5, ".yang") || len - 5 >= sizeof(name))
			continue;
		memcpy(name, de->d_name, len - 5);
		name[len - 5] = 0;
		if (strchr(name, '@') || !strcmp(name, "cubebus-base"))
			continue;
		if (!ly_ctx_load_module(b->yang, name, NULL, NULL)) {
			bk_log(3, "service model %s does not load: %s", name, ly_errmsg(b->yang));
			continue;
		}
		if (!schema_top(b, name))
			bk_log(3, "model %s has no top-level list %s: not a service", name, name);
	}
	closedir(d);
	return 0;
}

void schema_fini(struct broker *b)
{
	if (b->yang)
		ly_ctx_destroy(b->yang);
	b->yang = NULL;
}

int schema_has_service(struct broker *b, const char *service)
{
	return schema_top(b, service) != NULL;
}

struct json_object *schema_services(struct broker *b)
{
	struct json_object *a = json_object_new_array();
	const struct lys_module *m;
	uint32_t i = 0;

	while ((m = ly_ctx_get_module_iter(b->yang, &i))) {
		if (!m->implemented || !schema_top(b, m->name))
			continue;
		struct json_object *o = json_object_new_object();

		json_object_object_add(o, "name", json_object_new_string(m->name));
		json_object_object_add(o, "revision", json_object_new_string(m->revision ? m->revision : ""));
		json_object_object_add(o, "description", json_object_new_string(m->dsc ? m->dsc : ""));
		json_object_array_add(a, o);
	}
	return a;
}

/* ---- JSON <-> schema ------------------------------------------------------ */

static const struct lysc_node *schema_child(const struct lysc_node *parent, const char *name)
{
	const char *colon = strchr(name, ':');

	if (colon)
		name = colon + 1;
	return lys_find_child(parent, parent->module, name, 0, 0, 0);
}

static int schema_nkeys(const struct lysc_node *list)
{
	int n = 0;

	for (const struct lysc_node *k = lysc_node_child(list); k && (k->flags & LYS_KEY); k = k->next)
		n++;
	return n;
}

static const struct lysc_node *schema_key(const struct lysc_node *list, int i)
{
	const struct lysc_node *k = lysc_node_child(list);

	while (k && i-- > 0)
		k = k->next;
	return k && (k->flags & LYS_KEY) ? k : NULL;
}

/* Converts a scalar to the JSON encoding RFC 7951 wants for the leaf type. */
static struct json_object *schema_coerce_scalar(const struct lysc_node *leaf, struct json_object *v)
{
	const struct lysc_type *t = leaf->nodetype == LYS_LEAF ? ((const struct lysc_node_leaf *)leaf)->type
							       : ((const struct lysc_node_leaflist *)leaf)->type;
	const char *s = json_object_get_string(v);

	switch (t->basetype) {
	case LY_TYPE_INT8:
	case LY_TYPE_INT16:
	case LY_TYPE_INT32:
	case LY_TYPE_UINT8:
	case LY_TYPE_UINT16:
	case LY_TYPE_UINT32:
		if (json_object_is_type(v, json_type_string)) {
			char *end;
			long long n = strtoll(s, &end, 10);

			if (*s && !*end)
				return json_object_new_int64(n);
		}
		return json_object_get(v);
	case LY_TYPE_BOOL:
		if (json_object_is_type(v, json_type_string) && (!strcmp(s, "true") || !strcmp(s, "false")))
			return json_object_new_boolean(!strcmp(s, "true"));
		return json_object_get(v);
	default:
		/* 64-bit numbers, strings, enums, unions, addresses: strings */
		if (json_object_is_type(v, json_type_int) || json_object_is_type(v, json_type_boolean) ||
		    json_object_is_type(v, json_type_double))
			return json_object_new_string(s);
		return json_object_get(v);
	}
}

static void schema_coerce(const struct lysc_node *parent, struct json_object *obj);

static void schema_coerce_member(const struct lysc_node *sn, struct json_object *obj, const char *key,
				 struct json_object *v)
{
	if (sn->nodetype & LYS_LEAF) {
		if (!json_object_is_type(v, json_type_object) && !json_object_is_type(v, json_type_array))
			json_object_object_add(obj, key, schema_coerce_scalar(sn, v));
	} else if (sn->nodetype & LYS_LEAFLIST) {
		if (json_object_is_type(v, json_type_array))
			for (size_t i = 0; i < json_object_array_length(v); i++)
				json_object_array_put_idx(v, i,
							  schema_coerce_scalar(sn, json_object_array_get_idx(v, i)));
	} else if (sn->nodetype & LYS_CONTAINER) {
		schema_coerce(sn, v);
	} else if (sn->nodetype & LYS_LIST) {
		if (json_object_is_type(v, json_type_array))
			for (size_t i = 0; i < json_object_array_length(v); i++)
				schema_coerce(sn, json_object_array_get_idx(v, i));
	}
}

/* Gives the values of obj (children of parent) the JSON types the model wants. */
static void schema_coerce(const struct lysc_node *parent, struct json_object *obj)
{
	struct json_object_iterator it, end;

	if (!json_object_is_type(obj, json_type_object))
		return;
	it = json_object_iter_begin(obj);
	end = json_object_iter_end(obj);
	while (!json_object_iter_equal(&it, &end)) {
		const char *key = json_object_iter_peek_name(&it);
		struct json_object *v = json_object_iter_peek_value(&it);
		const struct lysc_node *sn = schema_child(parent, key);

		json_object_iter_next(&it);
		if (sn)
			schema_coerce_member(sn, obj, key, v);
	}
}

static int schema_key_equal(struct json_object *entry, const char *key, const char *want)
{
	struct json_object *v;

	return json_object_object_get_ex(entry, key, &v) && !strcmp(json_object_get_string(v), want);
}

/* Index of the entry of array whose keys equal vals, or -1. */
static int schema_find_entry(const struct lysc_node *list, struct json_object *array, char **vals)
{
	int nk = schema_nkeys(list);

	if (!array || !json_object_is_type(array, json_type_array))
		return -1;
	for (size_t i = 0; i < json_object_array_length(array); i++) {
		struct json_object *e = json_object_array_get_idx(array, i);
		int match = 1;

		for (int k = 0; k < nk && match; k++)
			match = schema_key_equal(e, schema_key(list, k)->name, vals[k]);
		if (match)
			return (int)i;
	}
	return -1;
}

static int schema_entry_keys(const struct lysc_node *list, struct json_object *entry, char **vals)
{
	int nk = schema_nkeys(list);
	struct json_object *v;

	for (int k = 0; k < nk; k++) {
		if (!json_object_object_get_ex(entry, schema_key(list, k)->name, &v))
			return -EINVAL;
		vals[k] = (char *)json_object_get_string(v);
	}
	return 0;
}

static struct json_object *schema_copy(struct json_object *o)
{
	struct json_object *c = NULL;

	json_object_deep_copy(o, &c, NULL);
	return c;
}

/* Deep merge of src into dst (children of sn); list entries merge by key. */
static void schema_merge(const struct lysc_node *sn, struct json_object *dst, struct json_object *src)
{
	struct json_object_iterator it = json_object_iter_begin(src), end = json_object_iter_end(src);

	while (!json_object_iter_equal(&it, &end)) {
		const char *key = json_object_iter_peek_name(&it);
		struct json_object *v = json_object_iter_peek_value(&it), *d = NULL;
		const struct lysc_node *c = schema_child(sn, key);

		json_object_iter_next(&it);
		json_object_object_get_ex(dst, key, &d);
		if (c && (c->nodetype & LYS_CONTAINER) && d && json_object_is_type(v, json_type_object)) {
			schema_merge(c, d, v);
		} else if (c && (c->nodetype & LYS_LIST) && d && json_object_is_type(v, json_type_array) &&
			   json_object_is_type(d, json_type_array)) {
			for (size_t i = 0; i < json_object_array_length(v); i++) {
				struct json_object *e = json_object_array_get_idx(v, i);
				char *vals[8];
				int idx = -1;

				if (schema_nkeys(c) <= 8 && schema_entry_keys(c, e, vals) == 0)
					idx = schema_find_entry(c, d, vals);
				if (idx >= 0)
					schema_merge(c, json_object_array_get_idx(d, idx), e);
				else
					json_object_array_add(d, schema_copy(e));
			}
		} else {
			json_object_object_add(dst, key, schema_copy(v));
		}
	}
}

void schema_merge_state(struct broker *b, const char *service, struct json_object *view, struct json_object *state)
{
	const struct lysc_node *sn = schema_top(b, service);
	struct json_object *src;
	struct json_object_iterator it, end;

	if (!sn || !json_object_is_type(state, json_type_object))
		return;
	src = json_object_new_object();
	it = json_object_iter_begin(state);
	end = json_object_iter_end(state);
	for (; !json_object_iter_equal(&it, &end); json_object_iter_next(&it)) {
		const char *k = json_object_iter_peek_name(&it);

		if (strncmp(k, "cubebus:", 8))
			json_object_object_add(src, k, json_object_get(json_object_iter_peek_value(&it)));
	}
	schema_merge(sn, view, src);
	json_object_put(src);
}

static const char *schema_kind_name(const struct lysc_node *sn)
{
	switch (sn->nodetype) {
	case LYS_CONTAINER: return "container";
	case LYS_LIST: return "list";
	case LYS_LEAF: return "leaf";
	case LYS_LEAFLIST: return "leaf-list";
	case LYS_ACTION: return "action";
	default: return "node";
	}
}

int schema_edit(struct broker *b, const char *service, struct json_object *cfg, int verb, char **segs, int n,
		struct json_object *body, struct json_object **out, struct schema_target *target, char *err,
		size_t errlen)
{
	const struct lysc_node *sn = schema_top(b, service);
	struct json_object *node = cfg, *parent = NULL, *array = NULL;
	const char *member = NULL;
	int idx = -1,
	    creating = verb == CUBEBUS__VERB__CREATE || verb == CUBEBUS__VERB__UPDATE || verb == CUBEBUS__VERB__REPLACE;
	char where[1024] = "";

	if (!sn) {
		snprintf(err, errlen, "unknown service %s", service);
		return -ENOENT;
	}
	memset(target, 0, sizeof(*target));
	target->kind = ST_CUBE;
	if (body)
		schema_coerce(sn, body); /* refined below for the node the body belongs to */
	for (int i = 0; i < n; i++) {
		const struct lysc_node *c = schema_child(sn, segs[i]);
		size_t wl = strlen(where);

		if (!c) {
			snprintf(err, errlen, "%s%s has no '%s'", where[0] ? "" : "this cube", where, segs[i]);
			return -ENOENT;
		}
		snprintf(where + wl, sizeof(where) - wl, "%s%s", wl ? "/" : "", segs[i]);
		if (c->nodetype == LYS_ACTION) {
			if (i != n - 1) {
				snprintf(err, errlen, "%s is an action: nothing below it", where);
				return -EINVAL;
			}
			target->kind = ST_ACTION;
			target->snode = c;
			snprintf(target->rel, sizeof(target->rel), "%s", where);
			snprintf(err, errlen, "%s is an action: run it (cubectl ... %s, or POST), it has nothing to %s",
				 where, segs[i], verb == CUBEBUS__VERB__READ ? "show" : "change");
			return -EOPNOTSUPP;
		}
		if (c->flags & LYS_CONFIG_R && verb != CUBEBUS__VERB__READ && verb != CUBEBUS__VERB__HELP) {
			snprintf(err, errlen, "%s is read-only (state, not configuration)", where);
			return -EACCES;
		}
		if (c->nodetype & (LYS_LEAF | LYS_LEAFLIST)) {
			if (i != n - 1) {
				snprintf(err, errlen, "%s is a leaf: nothing below it", where);
				return -EINVAL;
			}
			parent = node;
			member = c->name;
			node = NULL;
			if (parent)
				json_object_object_get_ex(parent, member, &node);
			sn = c;
			target->kind = c->nodetype == LYS_LEAF ? ST_LEAF : ST_LEAFLIST;
			break;
		}
		if (c->nodetype & LYS_CONTAINER) {
			struct json_object *next = NULL;

			if (node && !json_object_object_get_ex(node, c->name, &next) && creating) {
				next = json_object_new_object();
				json_object_object_add(node, c->name, next);
			}
			parent = node;
			member = c->name;
			node = next;
			sn = c;
			target->kind = ST_CONTAINER;
			continue;
		}
		/* list: the next segments are its keys */
		{
			int nk = schema_nkeys(c);
			struct json_object *arr = NULL;

			if (node && !json_object_object_get_ex(node, c->name, &arr) && creating) {
				arr = json_object_new_array();
				json_object_object_add(node, c->name, arr);
			}
			parent = node;
			member = c->name;
			sn = c;
			if (i + nk >= n) {
				if (i + 1 < n) {
					snprintf(err, errlen, "%s needs %d key%s", where, nk, nk > 1 ? "s" : "");
					return -EINVAL;
				}
				node = arr;
				target->kind = ST_LIST;
				break;
			}
			array = arr;
			idx = schema_find_entry(c, arr, segs + i + 1);
			node = idx >= 0 ? json_object_array_get_idx(arr, idx) : NULL;
			target->kind = ST_ENTRY;
			for (int k = 0; k < nk; k++) {
				wl = strlen(where);
				snprintf(where + wl, sizeof(where) - wl, " %s", segs[i + 1 + k]);
			}
			if (i + nk < n - 1) {
				/* an entry on the way to a deeper node (ports p1
				 * secondaryip ...): it must exist, whatever the verb */
				if (!node) {
					snprintf(err, errlen, "%s: not found", where);
					return -ENOENT;
				}
				i += nk;
				continue;
			}
			if (!node && (verb == CUBEBUS__VERB__CREATE || verb == CUBEBUS__VERB__REPLACE)) {
				node = json_object_new_object();
				for (int k = 0; k < nk; k++)
					json_object_object_add(node, schema_key(c, k)->name,
							       json_object_new_string(segs[i + 1 + k]));
				schema_coerce(c, node);
				if (!arr) {
					snprintf(err, errlen, "%s: no place to create it", where);
					json_object_put(node);
					return -ENOENT;
				}
				json_object_array_add(arr, node);
				idx = json_object_array_length(arr) - 1;
				if (body && json_object_is_type(body, json_type_object)) {
					schema_coerce(c, body);
					for (int k = 0; k < nk; k++) {
						const char *kn = schema_key(c, k)->name;
						struct json_object *bk;

						if (json_object_object_get_ex(body, kn, &bk) &&
						    strcmp(json_object_get_string(bk), segs[i + 1 + k])) {
							snprintf(err, errlen,
								 "%s: key %s in the body differs from the path", where,
								 kn);
							return -EINVAL;
						}
					}
					schema_merge(c, node, body);
				}
				if (out)
					*out = NULL;
				return 0;
			} else if (node && verb == CUBEBUS__VERB__CREATE) {
				snprintf(err, errlen, "%s already exists", where);
				return -EEXIST;
			}
			i += nk;
		}
	}
	target->snode = sn;
	snprintf(target->rel, sizeof(target->rel), "%s", where);

	if (verb == CUBEBUS__VERB__READ) {
		if (!node) {
			snprintf(err, errlen, "%s: not found", where[0] ? where : "cube");
			return -ENOENT;
		}
		*out = json_object_get(node);
		return 0;
	}
	if (verb == CUBEBUS__VERB__DELETE) {
		if (target->kind == ST_CUBE) {
			snprintf(err, errlen, "internal: cube deletion is not an edit");
			return -EINVAL;
		}
		if (!node) {
			snprintf(err, errlen, "%s: not found", where);
			return -ENOENT;
		}
		if (target->kind == ST_ENTRY)
			json_object_array_del_idx(array, idx, 1);
		else
			json_object_object_del(parent, member);
		return 0;
	}
	/* CREATE, UPDATE, REPLACE */
	if (target->kind == ST_ENTRY && !node) {
		snprintf(err, errlen, "%s: not found (use add to create it)", where);
		return -ENOENT;
	}
	if (target->kind == ST_LEAF || target->kind == ST_LEAFLIST) {
		struct json_object *v = body;

		if (body && json_object_is_type(body, json_type_object)) {
			if (!json_object_object_get_ex(body, member, &v) || json_object_object_length(body) != 1) {
				snprintf(err, errlen, "%s: give the value as %s=VALUE", where, member);
				return -EINVAL;
			}
		}
		if (!v) {
			snprintf(err, errlen, "%s: no value given", where);
			return -EINVAL;
		}
		if (target->kind == ST_LEAFLIST && verb == CUBEBUS__VERB__CREATE && node &&
		    json_object_is_type(node, json_type_array)) {
			json_object_array_add(node, schema_coerce_scalar(sn, v));
			return 0;
		}
		if (target->kind == ST_LEAFLIST && !json_object_is_type(v, json_type_array)) {
			struct json_object *a = json_object_new_array();

			json_object_array_add(a, schema_coerce_scalar(sn, v));
			json_object_object_add(parent, member, a);
			return 0;
		}
		json_object_object_add(parent, member, schema_coerce_scalar(sn, v));
		return 0;
	}
	if (!body) {
		if (target->kind == ST_CUBE || target->kind == ST_CONTAINER || target->kind == ST_ENTRY)
			return 0; /* creating an empty container/entry is fine */
		snprintf(err, errlen, "%s: nothing to set", where);
		return -EINVAL;
	}
	if (target->kind == ST_LIST) {
		struct json_object *entries = body;

		if (json_object_is_type(body, json_type_object)) {
			entries = json_object_new_array();
			json_object_array_add(entries, json_object_get(body));
		} else {
			json_object_get(entries);
		}
		if (!json_object_is_type(entries, json_type_array)) {
			json_object_put(entries);
			snprintf(err, errlen, "%s: expected an object or a list of objects", where);
			return -EINVAL;
		}
		if (verb == CUBEBUS__VERB__REPLACE || !node) {
			json_object_object_add(parent, member, json_object_new_array());
			json_object_object_get_ex(parent, member, &node);
		}
		for (size_t i = 0; i < json_object_array_length(entries); i++) {
			struct json_object *e = json_object_array_get_idx(entries, i);
			char *vals[8];
			int at;

			schema_coerce(sn, e);
			if (schema_nkeys(sn) > 8 || schema_entry_keys(sn, e, vals) < 0) {
				json_object_put(entries);
				snprintf(err, errlen, "%s: each entry needs its key%s", where,
					 schema_nkeys(sn) > 1 ? "s" : "");
				return -EINVAL;
			}
			at = schema_find_entry(sn, node, vals);
			if (at >= 0 && verb == CUBEBUS__VERB__CREATE) {
				snprintf(err, errlen, "%s %s already exists", where, vals[0]);
				json_object_put(entries);
				return -EEXIST;
			}
			if (at >= 0)
				schema_merge(sn, json_object_array_get_idx(node, at), e);
			else
				json_object_array_add(node, schema_copy(e));
		}
		json_object_put(entries);
		return 0;
	}
	if (!json_object_is_type(body, json_type_object)) {
		snprintf(err, errlen, "%s is a %s: give key=value pairs", where[0] ? where : "cube",
			 schema_kind_name(sn));
		return -EINVAL;
	}
	schema_coerce(sn, body);
	if (target->kind == ST_ENTRY || target->kind == ST_CUBE) {
		for (int k = 0; k < schema_nkeys(sn); k++) {
			const char *kn = schema_key(sn, k)->name;
			struct json_object *bk, *nk;

			if (json_object_object_get_ex(body, kn, &bk) && json_object_object_get_ex(node, kn, &nk) &&
			    strcmp(json_object_get_string(bk), json_object_get_string(nk))) {
				snprintf(err, errlen, "%s: the key %s cannot be changed", where[0] ? where : "cube",
					 kn);
				return -EINVAL;
			}
		}
	}
	if (verb == CUBEBUS__VERB__REPLACE && target->kind == ST_CONTAINER) {
		json_object_object_add(parent, member, schema_copy(body));
		return 0;
	}
	schema_merge(sn, node, body);
	return 0;
}

/* ---- validation ------------------------------------------------------------ */

static int schema_parse(struct broker *b, const char *service, struct json_object *cfg, struct lyd_node **tree,
			char *err, size_t errlen)
{
	struct json_object *wrap = json_object_new_object(), *list = json_object_new_array();
	char key[2 * BK_NAME_MAX + 2];
	LY_ERR r;

	snprintf(key, sizeof(key), "%s:%s", service, service);
	json_object_array_add(list, json_object_get(cfg));
	json_object_object_add(wrap, key, list);
	r = lyd_parse_data_mem(b->yang, json_object_to_json_string_ext(wrap, JSON_C_TO_STRING_PLAIN), LYD_JSON,
			       LYD_PARSE_STRICT | LYD_PARSE_NO_STATE, LYD_VALIDATE_PRESENT, tree);
	json_object_put(wrap);
	if (r != LY_SUCCESS) {
		const char *path = ly_errpath(b->yang);
		const char *msg = ly_errmsg(b->yang);
		char loc[512] = "";

		/* "Data location "/x:x[name='br1']/type", line number 1." -> the path */
		if (path) {
			const char *q = strstr(path, "location \"");
			const char *e;

			if (q && (e = strchr(q + 10, '"')))
				snprintf(loc, sizeof(loc), " at %.*s", (int)(e - q - 10), q + 10);
		}
		snprintf(err, errlen, "invalid configuration: %s%s", msg ? msg : "rejected by the model", loc);
		{
			/* libyang ends messages with '.', keep one line */
			char *nl;

			while ((nl = strchr(err, '\n')))
				*nl = ' ';
		}
		*tree = NULL;
		return -EINVAL;
	}
	return 0;
}

static struct json_object *schema_print(struct broker *b, const char *service, struct lyd_node *tree, uint32_t opts)
{
	struct json_object *root, *list, *entry = NULL;
	char key[2 * BK_NAME_MAX + 2];
	char *s = NULL;

	if (lyd_print_mem(&s, tree, LYD_JSON, LYD_PRINT_WITHSIBLINGS | LYD_PRINT_SHRINK | opts) != LY_SUCCESS)
		return NULL;
	root = json_tokener_parse(s);
	free(s);
	snprintf(key, sizeof(key), "%s:%s", service, service);
	if (root && json_object_object_get_ex(root, key, &list) && json_object_array_length(list) == 1)
		entry = json_object_get(json_object_array_get_idx(list, 0));
	json_object_put(root);
	return entry;
}

int schema_validate(struct broker *b, const char *service, struct json_object *cfg, struct json_object **normalized,
		    char *err, size_t errlen)
{
	struct lyd_node *tree = NULL;
	int r;

	if (!schema_top(b, service)) {
		snprintf(err, errlen, "unknown service %s", service);
		return -ENOENT;
	}
	schema_coerce(schema_top(b, service), cfg);
	r = schema_parse(b, service, cfg, &tree, err, errlen);
	if (r < 0)
		return r;
	if (normalized) {
		*normalized = schema_print(b, service, tree, 0);
		if (!*normalized) {
			snprintf(err, errlen, "cannot print the configuration back");
			r = -ENOMEM;
		}
	}
	lyd_free_all(tree);
	return r;
}

struct json_object *schema_with_defaults(struct broker *b, const char *service, struct json_object *cfg)
{
	struct lyd_node *tree = NULL;
	struct json_object *o;
	char err[BK_ERR_MAX];

	if (schema_parse(b, service, cfg, &tree, err, sizeof(err)) < 0)
		return schema_copy(cfg);
	o = schema_print(b, service, tree, LYD_PRINT_WD_ALL);
	lyd_free_all(tree);
	return o ? o : schema_copy(cfg);
}

static const char *const schema_types[] = {
	[LY_TYPE_UNKNOWN] = "unknown",	 [LY_TYPE_BINARY] = "binary",
	[LY_TYPE_UINT8] = "uint8",	 [LY_TYPE_UINT16] = "uint16",
	[LY_TYPE_UINT32] = "uint32",	 [LY_TYPE_UINT64] = "uint64",
	[LY_TYPE_STRING] = "string",	 [LY_TYPE_BITS] = "bits",
	[LY_TYPE_BOOL] = "boolean",	 [LY_TYPE_DEC64] = "decimal64",
	[LY_TYPE_EMPTY] = "empty",	 [LY_TYPE_ENUM] = "enumeration",
	[LY_TYPE_IDENT] = "identityref", [LY_TYPE_INST] = "instance-identifier",
	[LY_TYPE_LEAFREF] = "leafref",	 [LY_TYPE_UNION] = "union",
	[LY_TYPE_INT8] = "int8",	 [LY_TYPE_INT16] = "int16",
	[LY_TYPE_INT32] = "int32",	 [LY_TYPE_INT64] = "int64",
};

static const char *schema_type_name(const struct lysc_node *sn)
{
	const struct lysc_type *t;

	if (sn->nodetype == LYS_LEAF)
		t = ((const struct lysc_node_leaf *)sn)->type;
	else if (sn->nodetype == LYS_LEAFLIST)
		t = ((const struct lysc_node_leaflist *)sn)->type;
	else
		return NULL;
	return t->basetype < sizeof(schema_types) / sizeof(schema_types[0]) ? schema_types[t->basetype] : "?";
}

struct json_object *schema_help(struct broker *b, const char *service, char **segs, int n, char *err, size_t errlen)
{
	const struct lysc_node *sn = schema_top(b, service), *c;
	struct json_object *o, *children;

	if (!sn) {
		snprintf(err, errlen, "unknown service %s", service);
		return NULL;
	}
	for (int i = 0; i < n; i++) {
		c = schema_child(sn, segs[i]);
		if (!c) {
			/* a key value of the list we are in */
			if (sn->nodetype == LYS_LIST)
				continue;
			snprintf(err, errlen, "no '%s' here", segs[i]);
			return NULL;
		}
		sn = c;
	}
	o = json_object_new_object();
	json_object_object_add(o, "node", json_object_new_string(sn->name));
	json_object_object_add(o, "kind", json_object_new_string(schema_kind_name(sn)));
	if (sn->dsc)
		json_object_object_add(o, "description", json_object_new_string(sn->dsc));
	if (schema_type_name(sn))
		json_object_object_add(o, "type", json_object_new_string(schema_type_name(sn)));
	if (sn->nodetype == LYS_LIST) {
		struct json_object *keys = json_object_new_array();

		for (int k = 0; k < schema_nkeys(sn); k++)
			json_object_array_add(keys, json_object_new_string(schema_key(sn, k)->name));
		json_object_object_add(o, "keys", keys);
	}
	children = json_object_new_array();
	c = NULL;
	while ((c = lys_getnext(c, sn, NULL, 0))) {
		struct json_object *e = json_object_new_object();

		json_object_object_add(e, "name", json_object_new_string(c->name));
		json_object_object_add(e, "kind", json_object_new_string(schema_kind_name(c)));
		json_object_object_add(e, "type",
				       json_object_new_string(schema_type_name(c) ? schema_type_name(c) : ""));
		json_object_object_add(e, "config", json_object_new_boolean(!(c->flags & LYS_CONFIG_R)));
		json_object_array_add(children, e);
	}
	json_object_object_add(o, "children", children);
	return o;
}

/* ---- the service reference (docs/SERVICES.md) ------------------------------- */

static void schema_doc_node(struct broker *b, const struct lysc_node *sn, const char *prefix, FILE *out)
{
	const struct lysc_node *c = NULL;
	char path[512];

	while ((c = lys_getnext(c, sn, NULL, 0))) {
		const char *type = schema_type_name(c);
		char extra[256] = "";

		snprintf(path, sizeof(path), "%s/%s", prefix, c->name);
		if (c->nodetype == LYS_LIST) {
			size_t n = 0;

			n += snprintf(extra + n, sizeof(extra) - n, "key:");
			for (int k = 0; k < schema_nkeys(c) && n < sizeof(extra); k++)
				n += snprintf(extra + n, sizeof(extra) - n, " %s", schema_key(c, k)->name);
		}
		if (c->nodetype == LYS_LEAF) {
			const struct lysc_node_leaf *l = (const struct lysc_node_leaf *)c;

			if (l->dflt)
				snprintf(extra, sizeof(extra), "default %s", lyd_value_get_canonical(b->yang, l->dflt));
			if (l->type->basetype == LY_TYPE_ENUM) {
				const struct lysc_type_enum *e = (const struct lysc_type_enum *)l->type;
				size_t n = strlen(extra);

				n += snprintf(extra + n, sizeof(extra) - n, "%svalues", n ? "; " : "");
				for (LY_ARRAY_COUNT_TYPE i = 0; i < LY_ARRAY_COUNT(e->enums) && n < sizeof(extra); i++)
					n += snprintf(extra + n, sizeof(extra) - n, "%s%s", i ? ", " : " ",
						      e->enums[i].name);
			}
			if (c->flags & LYS_MAND_TRUE)
				snprintf(extra + strlen(extra), sizeof(extra) - strlen(extra), "%smandatory",
					 extra[0] ? "; " : "");
		}
		fprintf(out, "| `%s` | %s | %s | %s | %s |\n", path, schema_kind_name(c), type ? type : "",
			c->flags & LYS_CONFIG_R ? "state" : "config", extra);
		if (c->nodetype & (LYS_CONTAINER | LYS_LIST | LYS_ACTION | LYS_INPUT | LYS_OUTPUT))
			schema_doc_node(b, c, path, out);
	}
}

int schema_describe(struct broker *b, FILE *out)
{
	const struct lys_module *m;
	uint32_t i = 0;

	fprintf(out, "# Service reference\n\nGenerated from the YANG models by `cubebusd --describe`"
		     " (`make docs`). Paths are what `cubectl CUBE ...` and REST address.\n");
	while ((m = ly_ctx_get_module_iter(b->yang, &i))) {
		const struct lysc_node *top;

		if (!m->implemented || !(top = schema_top(b, m->name)))
			continue;
		fprintf(out, "\n## %s\n\n%s\n\n", m->name, m->dsc ? m->dsc : "");
		fprintf(out, "`cubectl %s add NAME [key=value...]`\n\n", m->name);
		fprintf(out, "| path | kind | type | | notes |\n|---|---|---|---|---|\n");
		schema_doc_node(b, top, "", out);
	}
	return 0;
}
