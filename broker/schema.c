/* SPDX-License-Identifier: Apache-2.0 */
/*
 * schema.c - the YANG models of the services (libyang): which services
 * exist, how a request path walks a cube's configuration, validation and
 * normalisation of every change, defaults and help.
 *
 * A cube's configuration is kept as the RFC 7951 JSON object of its entry
 * in the service's top-level list, without the module prefix.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
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

int schema_is_transparent(struct broker *b, const char *service)
{
	const struct lysc_node *top = schema_top(b, service);

	return top && !lys_find_child(top, top->module, "ports", 0, LYS_LIST, 0);
}

int schema_has_service(struct broker *b, const char *service)
{
	return schema_top(b, service) != NULL;
}

static struct json_object *schema_dsc(const char *dsc);

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
		json_object_object_add(o, "description", m->dsc ? schema_dsc(m->dsc) : json_object_new_string(""));
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

/* ---- types in the user's words, canonical values ------------------------- */

/*
 * The typedefs the models use, said the way a person would, and those whose
 * canonical form libyang 2.1 does not compute: RFC 6991 gives the hex types
 * lowercase, and the router's interface prefixes are addresses whose host
 * part counts, so only the address is put in its canonical form.
 */
typedef void (*schema_canon_fn)(char *value, size_t size);

static void schema_canon_lower(char *value, size_t size)
{
	for (char *p = value; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p += 'a' - 'A';
}

static void schema_canon_ip_host_prefix(char *value, size_t size)
{
	char addr[INET6_ADDRSTRLEN + 1], *slash = strchr(value, '/');
	unsigned char bin[sizeof(struct in6_addr)];
	int af = strchr(value, ':') ? AF_INET6 : AF_INET;
	char *end;
	long len;

	if (!slash || (size_t)(slash - value) >= sizeof(addr))
		return;
	memcpy(addr, value, slash - value);
	addr[slash - value] = 0;
	len = strtol(slash + 1, &end, 10);
	if (*end || end == slash + 1 || inet_pton(af, addr, bin) != 1 || !inet_ntop(af, bin, addr, sizeof(addr)))
		return;
	snprintf(value, size, "%s/%ld", addr, len);
}

static const struct schema_typedef {
	const char *name; /* module:typedef */
	const char *says; /* what a value is, after "is not" */
	schema_canon_fn canon;
} schema_typedefs[] = {
	{ "ietf-inet-types:ipv4-address", "an IPv4 address (A.B.C.D)" },
	{ "ietf-inet-types:ipv4-address-no-zone", "an IPv4 address (A.B.C.D)" },
	{ "ietf-inet-types:ipv6-address", "an IPv6 address (X:X::X)" },
	{ "ietf-inet-types:ipv6-address-no-zone", "an IPv6 address (X:X::X)" },
	{ "ietf-inet-types:ip-address", "an IPv4 or IPv6 address (A.B.C.D or X:X::X)" },
	{ "ietf-inet-types:ip-address-no-zone", "an IPv4 or IPv6 address (A.B.C.D or X:X::X)" },
	{ "ietf-inet-types:ipv4-prefix", "an IPv4 prefix (A.B.C.D/LEN)" },
	{ "ietf-inet-types:ipv6-prefix", "an IPv6 prefix (X:X::X/LEN)" },
	{ "ietf-inet-types:ip-prefix", "an IPv4 or IPv6 prefix (A.B.C.D/LEN or X:X::X/LEN)" },
	{ "ietf-inet-types:port-number", "a port number (0 to 65535)" },
	{ "ietf-inet-types:domain-name", "a domain name" },
	{ "ietf-inet-types:host", "a host name or an IP address" },
	{ "ietf-yang-types:mac-address", "a MAC address (xx:xx:xx:xx:xx:xx)", schema_canon_lower },
	{ "ietf-yang-types:phys-address", "a hardware address (hex bytes separated by ':')", schema_canon_lower },
	{ "ietf-yang-types:hex-string", "hex bytes separated by ':'", schema_canon_lower },
	{ "ietf-yang-types:uuid", "a UUID (8-4-4-4-12 hex digits)", schema_canon_lower },
	{ "ietf-yang-types:date-and-time", "a date and time (YYYY-MM-DDTHH:MM:SSZ)" },
	{ "cubebus-base:cube-name", "a name of 1 to 32 letters, digits, '_', '.' or '-' that starts with a letter" },
	{ "cubebus-base:polycube-uuid", "a UUID (8-4-4-4-12 hex digits)", schema_canon_lower },
	{ "router:ipv4-interface-prefix", "an IPv4 prefix (A.B.C.D/LEN)" },
	{ "router:ipv6-interface-prefix", "an IPv6 prefix (X:X::X/LEN)", schema_canon_ip_host_prefix },
};

/* A leaf's or leaf-list's type, NULL for other nodes. */
static const struct lysc_type *schema_leaf_type(const struct lysc_node *sn)
{
	if (sn->nodetype == LYS_LEAF)
		return ((const struct lysc_node_leaf *)sn)->type;
	if (sn->nodetype == LYS_LEAFLIST)
		return ((const struct lysc_node_leaflist *)sn)->type;
	return NULL;
}

/*
 * The typedef t was compiled from ("module:name" in buf), or NULL. libyang
 * compiles a typedef once and shares that type with every leaf that uses
 * it without restricting it further, so the pointer tells.
 */
static const char *schema_typedef_name(const struct ly_ctx *ctx, const struct lysc_type *t, char *buf, size_t size)
{
	const struct lys_module *m;
	uint32_t i = 0;

	while ((m = ly_ctx_get_module_iter(ctx, &i))) {
		const struct lysp_tpdf *td = m->parsed ? m->parsed->typedefs : NULL;

		for (LY_ARRAY_COUNT_TYPE k = 0; k < LY_ARRAY_COUNT(td); k++) {
			if (td[k].type.compiled == t) {
				snprintf(buf, size, "%s:%s", m->name, td[k].name);
				return buf;
			}
		}
	}
	return NULL;
}

static const struct schema_typedef *schema_typedef_of(const struct ly_ctx *ctx, const struct lysc_type *t)
{
	char name[128];

	if (!schema_typedef_name(ctx, t, name, sizeof(name)))
		return NULL;
	for (size_t i = 0; i < sizeof(schema_typedefs) / sizeof(schema_typedefs[0]); i++)
		if (!strcmp(schema_typedefs[i].name, name))
			return &schema_typedefs[i];
	return NULL;
}

/* Appends printf text to buf (of size), never past its end. */
static void schema_cat(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void schema_cat(char *buf, size_t size, const char *fmt, ...)
{
	size_t n = strlen(buf);
	va_list ap;

	if (n + 1 >= size)
		return;
	va_start(ap, fmt);
	vsnprintf(buf + n, size - n, fmt, ap);
	va_end(ap);
}

/* "0 to 86400", "1 to 10 or 20 to 30"; signed for signed types. */
static void schema_range_text(const struct lysc_range *r, int is_signed, char *buf, size_t size)
{
	buf[0] = 0;
	for (LY_ARRAY_COUNT_TYPE i = 0; r && i < LY_ARRAY_COUNT(r->parts); i++) {
		if (is_signed)
			schema_cat(buf, size, "%s%lld to %lld", i ? " or " : "", (long long)r->parts[i].min_64,
				   (long long)r->parts[i].max_64);
		else
			schema_cat(buf, size, "%s%llu to %llu", i ? " or " : "",
				   (unsigned long long)r->parts[i].min_u64, (unsigned long long)r->parts[i].max_u64);
	}
}

static const struct {
	LY_DATA_TYPE type;
	int is_signed;
	long long min;
	unsigned long long max;
} schema_int_bounds[] = {
	{ LY_TYPE_INT8, 1, INT8_MIN, INT8_MAX },    { LY_TYPE_INT16, 1, INT16_MIN, INT16_MAX },
	{ LY_TYPE_INT32, 1, INT32_MIN, INT32_MAX }, { LY_TYPE_INT64, 1, INT64_MIN, INT64_MAX },
	{ LY_TYPE_UINT8, 0, 0, UINT8_MAX },	    { LY_TYPE_UINT16, 0, 0, UINT16_MAX },
	{ LY_TYPE_UINT32, 0, 0, UINT32_MAX },	    { LY_TYPE_UINT64, 0, 0, UINT64_MAX },
};

/* What a value of type t is, as a noun phrase: "a whole number from 0 to 300". */
static void schema_type_says(const struct ly_ctx *ctx, const struct lysc_type *t, char *buf, size_t size)
{
	const struct schema_typedef *td = schema_typedef_of(ctx, t);
	char tmp[256];

	buf[0] = 0;
	if (td) {
		snprintf(buf, size, "%s", td->says);
		return;
	}
	switch (t->basetype) {
	case LY_TYPE_INT8:
	case LY_TYPE_INT16:
	case LY_TYPE_INT32:
	case LY_TYPE_INT64:
	case LY_TYPE_UINT8:
	case LY_TYPE_UINT16:
	case LY_TYPE_UINT32:
	case LY_TYPE_UINT64:
		for (size_t i = 0; i < sizeof(schema_int_bounds) / sizeof(schema_int_bounds[0]); i++) {
			if (schema_int_bounds[i].type != t->basetype)
				continue;
			schema_range_text(((const struct lysc_type_num *)t)->range, schema_int_bounds[i].is_signed, tmp,
					  sizeof(tmp));
			if (!tmp[0] && schema_int_bounds[i].is_signed)
				snprintf(tmp, sizeof(tmp), "%lld to %llu", schema_int_bounds[i].min,
					 schema_int_bounds[i].max);
			else if (!tmp[0])
				snprintf(tmp, sizeof(tmp), "0 to %llu", schema_int_bounds[i].max);
		}
		snprintf(buf, size, "a whole number from %s", tmp);
		return;
	case LY_TYPE_DEC64:
		schema_range_text(((const struct lysc_type_dec *)t)->range, 1, tmp, sizeof(tmp));
		snprintf(buf, size, "a decimal number with %u digits after the point%s%s",
			 ((const struct lysc_type_dec *)t)->fraction_digits, tmp[0] ? " (scaled) from " : "", tmp);
		return;
	case LY_TYPE_BOOL: snprintf(buf, size, "true or false"); return;
	case LY_TYPE_EMPTY: snprintf(buf, size, "empty (it takes no value)"); return;
	case LY_TYPE_ENUM: {
		const struct lysc_type_enum *e = (const struct lysc_type_enum *)t;

		snprintf(buf, size, "one of");
		for (LY_ARRAY_COUNT_TYPE i = 0; i < LY_ARRAY_COUNT(e->enums); i++)
			schema_cat(buf, size, "%s %s", i ? "," : "", e->enums[i].name);
		return;
	}
	case LY_TYPE_BITS: {
		const struct lysc_type_bits *e = (const struct lysc_type_bits *)t;

		snprintf(buf, size, "a space-separated set of");
		for (LY_ARRAY_COUNT_TYPE i = 0; i < LY_ARRAY_COUNT(e->bits); i++)
			schema_cat(buf, size, "%s %s", i ? "," : "", e->bits[i].name);
		return;
	}
	case LY_TYPE_UNION: {
		const struct lysc_type_union *u = (const struct lysc_type_union *)t;

		for (LY_ARRAY_COUNT_TYPE i = 0; i < LY_ARRAY_COUNT(u->types); i++) {
			schema_type_says(ctx, u->types[i], tmp, sizeof(tmp));
			if (!strstr(buf, tmp)) /* ip-address-no-zone after ip-address */
				schema_cat(buf, size, "%s%s", buf[0] ? " or " : "", tmp);
		}
		return;
	}
	case LY_TYPE_LEAFREF: {
		const struct lysc_type_leafref *lr = (const struct lysc_type_leafref *)t;
		const char *x = lyxp_get_expr(lr->path);
		size_t xl = x ? strlen(x) : 0;

		if (xl >= 10 && !strcmp(x + xl - 10, "ports/name")) {
			snprintf(buf, size, "the name of %s",
				 lr->require_instance ? "one of the cube's ports"
						      : "a port of the cube (it may come later)");
			return;
		}
		schema_type_says(ctx, lr->realtype, tmp, sizeof(tmp));
		snprintf(buf, size, "%s naming an existing one", tmp);
		return;
	}
	case LY_TYPE_IDENT: snprintf(buf, size, "an identity the model knows"); return;
	case LY_TYPE_INST: snprintf(buf, size, "a path to an existing node"); return;
	case LY_TYPE_BINARY: snprintf(buf, size, "base64 data"); return;
	case LY_TYPE_STRING: {
		const struct lysc_type_str *s = (const struct lysc_type_str *)t;
		char name[128];

		schema_range_text(s->length, 0, tmp, sizeof(tmp));
		for (LY_ARRAY_COUNT_TYPE i = 0; i < LY_ARRAY_COUNT(s->patterns); i++) {
			if (s->patterns[i]->emsg) { /* the model said it */
				snprintf(buf, size, "%s", s->patterns[i]->emsg);
				return;
			}
		}
		if (LY_ARRAY_COUNT(s->patterns) && schema_typedef_name(ctx, t, name, sizeof(name)))
			snprintf(buf, size, "a valid %s", strchr(name, ':') + 1);
		else if (LY_ARRAY_COUNT(s->patterns))
			snprintf(buf, size, "text of the form the model wants");
		else
			snprintf(buf, size, "text");
		if (s->length && LY_ARRAY_COUNT(s->length->parts) == 1 && !s->length->parts[0].min_u64)
			schema_cat(buf, size, " of at most %llu characters",
				   (unsigned long long)s->length->parts[0].max_u64);
		else if (tmp[0])
			schema_cat(buf, size, " of %s characters", tmp);
		return;
	}
	default: snprintf(buf, size, "a value of the model's type"); return;
	}
}

/*
 * Puts the canonical text of value (JSON encoding) for leaf sn in out.
 * Returns 0, or -EINVAL when the value is not one of the leaf's type.
 */
static int schema_canon(const struct lysc_node *sn, const char *value, char *out, size_t size)
{
	const struct ly_ctx *ctx = sn->module->ctx;
	const struct lysc_type *real = NULL, *t = schema_leaf_type(sn);
	const struct schema_typedef *td;
	const char *canon = NULL;
	LY_ERR r;

	if (!t)
		return -EINVAL;
	r = lyd_value_validate(ctx, sn, value, strlen(value), NULL, &real, &canon);
	if (r != LY_SUCCESS && r != LY_EINCOMPLETE)
		return -EINVAL;
	snprintf(out, size, "%s", canon ? canon : value);
	if (canon)
		lydict_remove(ctx, canon);
	td = schema_typedef_of(ctx, real ? real : t);
	if (!td && real && real != t)
		td = schema_typedef_of(ctx, t);
	if (td && td->canon)
		td->canon(out, size);
	return 0;
}

/* "<where> <leaf>: <value> is not <what the type wants>" in err. */
static int schema_value_error(const struct lysc_node *sn, const char *where, const char *value, char *err,
			      size_t errlen)
{
	char says[400];

	schema_type_says(sn->module->ctx, schema_leaf_type(sn), says, sizeof(says));
	snprintf(err, errlen, "%s%s%s: %s%s%s is not %s", where, where[0] ? " " : "", sn->name, value[0] ? "" : "\"",
		 value, value[0] ? "" : "\"", says);
	return -EINVAL;
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

static int schema_key_equal(const struct lysc_node *kn, struct json_object *entry, const char *want, int thorough)
{
	struct json_object *v;
	char canon[256];
	const char *s;

	if (!json_object_object_get_ex(entry, kn->name, &v) || !(s = json_object_get_string(v)))
		return 0;
	if (!strcmp(s, want))
		return 1;
	return thorough && schema_canon(kn, s, canon, sizeof(canon)) == 0 && !strcmp(canon, want);
}

/*
 * Index of the entry among the first n of array whose keys equal vals
 * (canonical text), or -1. What is stored is canonical (validated
 * configuration; state keys are made canonical as they are merged), so the
 * text tells; thorough also canonicalises each stored key, for what an
 * older version stored as it was given.
 */
static int schema_find_entry_n(const struct lysc_node *list, struct json_object *array, size_t n, char **vals,
			       int thorough)
{
	int nk = schema_nkeys(list);

	if (!array || !json_object_is_type(array, json_type_array))
		return -1;
	for (int pass = 0; pass <= !!thorough; pass++) {
		for (size_t i = 0; i < n && i < json_object_array_length(array); i++) {
			struct json_object *e = json_object_array_get_idx(array, i);
			int match = 1;

			for (int k = 0; k < nk && match; k++)
				match = schema_key_equal(schema_key(list, k), e, vals[k], pass);
			if (match)
				return (int)i;
		}
	}
	return -1;
}

static int schema_find_entry(const struct lysc_node *list, struct json_object *array, char **vals, int thorough)
{
	return schema_find_entry_n(list, array, SIZE_MAX, vals, thorough);
}

/*
 * An index of a list's entries by their keys (canonical text), so that
 * merging or checking n entries is O(n), not O(n^2): the keys of an entry
 * joined by a unit separator, mapped to the entry's position + 1.
 */
static void schema_index_free(struct lh_entry *e)
{
	free(lh_entry_k(e));
}

static struct lh_table *schema_index_new(void)
{
	return lh_kchar_table_new(64, schema_index_free);
}

/* entry's joined keys in buf; -1 if a key is missing or too long */
static int schema_index_key(const struct lysc_node *list, struct json_object *entry, char *buf, size_t size)
{
	size_t len = 0;

	buf[0] = 0;
	for (const struct lysc_node *k = lysc_node_child(list); k && (k->flags & LYS_KEY); k = k->next) {
		struct json_object *v;
		const char *s;
		int n;

		if (!json_object_object_get_ex(entry, k->name, &v) || !(s = json_object_get_string(v)))
			return -1;
		n = snprintf(buf + len, size - len, "%s%s", len ? "\x1f" : "", s);
		if (n < 0 || (size_t)n >= size - len)
			return -1;
		len += n;
	}
	return 0;
}

/* position of the entry with key in the index, or -1 */
static int schema_index_find(struct lh_table *t, const char *key)
{
	void *v = NULL;

	return t && lh_table_lookup_ex(t, key, &v) ? (int)(intptr_t)v - 1 : -1;
}

static void schema_index_add(struct lh_table *t, const char *key, int pos)
{
	char *k = strdup(key);

	if (t && k && lh_table_insert(t, k, (void *)(intptr_t)(pos + 1)) < 0)
		free(k);
}

/* An index of the entries of array (list's entries), or NULL. */
static struct lh_table *schema_index_of(const struct lysc_node *list, struct json_object *array)
{
	struct lh_table *t = schema_index_new();
	char key[1024];

	for (size_t i = 0; t && i < json_object_array_length(array); i++) {
		if (schema_index_key(list, json_object_array_get_idx(array, i), key, sizeof(key)) == 0 &&
		    schema_index_find(t, key) < 0)
			schema_index_add(t, key, (int)i);
	}
	return t;
}

/* ---- checks in the user's words ------------------------------------------------ */

/*
 * Rewrites the key members of list entry e with their canonical text.
 * Returns 0, or -EINVAL with the sentence in err (when err is not NULL)
 * when a key is missing or not a value of its type; where names the list.
 */
static int schema_canon_entry_keys(const struct lysc_node *list, struct json_object *e, const char *where, char *err,
				   size_t errlen)
{
	for (int k = 0; k < schema_nkeys(list); k++) {
		const struct lysc_node *kn = schema_key(list, k);
		struct json_object *v;
		char canon[256];
		const char *s;

		if (!json_object_is_type(e, json_type_object) || !json_object_object_get_ex(e, kn->name, &v)) {
			if (err)
				snprintf(err, errlen, "%s: each entry needs its %s", where, kn->name);
			return -EINVAL;
		}
		s = json_object_get_string(v);
		if (!s || schema_canon(kn, s, canon, sizeof(canon)) < 0) {
			if (err)
				schema_value_error(kn, where, s ? s : "", err, errlen);
			return -EINVAL;
		}
		if (json_object_is_type(v, json_type_string) && strcmp(s, canon))
			json_object_object_add(e, kn->name, json_object_new_string(canon));
	}
	return 0;
}

/* "ports p1": where plus an entry's key values. */
static void schema_entry_where(const struct lysc_node *list, struct json_object *e, const char *where, char *buf,
			       size_t size)
{
	snprintf(buf, size, "%s", where);
	for (int k = 0; k < schema_nkeys(list); k++) {
		struct json_object *v;

		if (json_object_object_get_ex(e, schema_key(list, k)->name, &v))
			schema_cat(buf, size, " %s", json_object_get_string(v));
	}
}

static void schema_child_names(const struct lysc_node *parent, char *buf, size_t size)
{
	const struct lysc_node *c = NULL;

	buf[0] = 0;
	while ((c = lys_getnext(c, parent, NULL, 0)))
		if (!(c->flags & LYS_CONFIG_R) && (c->nodetype & (LYS_LEAF | LYS_LEAFLIST | LYS_CONTAINER | LYS_LIST)))
			schema_cat(buf, size, "%s%s", buf[0] ? ", " : "", c->name);
}

static int schema_check(const struct lysc_node *parent, struct json_object *obj, const char *where, int mandatory,
			char *err, size_t errlen);

static int schema_check_leaf(const struct lysc_node *c, struct json_object *v, const char *where, char *err,
			     size_t errlen)
{
	const char *s;
	LY_ERR r;

	if (json_object_is_type(v, json_type_object) || json_object_is_type(v, json_type_array)) {
		snprintf(err, errlen, "%s%s%s: give one value, not %s", where, where[0] ? " " : "", c->name,
			 json_object_is_type(v, json_type_object) ? "an object" : "a list");
		return -EINVAL;
	}
	s = json_object_get_string(v);
	if (!s)
		s = "";
	r = lyd_value_validate(c->module->ctx, c, s, strlen(s), NULL, NULL, NULL);
	if (r != LY_SUCCESS && r != LY_EINCOMPLETE)
		return schema_value_error(c, where, s, err, errlen);
	return 0;
}

static int schema_check_list(const struct lysc_node *c, struct json_object *v, const char *where, int mandatory,
			     char *err, size_t errlen)
{
	const struct lysc_node_list *l = (const struct lysc_node_list *)c;
	char lwhere[512], ewhere[768];
	struct lh_table *seen;
	size_t n;
	int r;

	snprintf(lwhere, sizeof(lwhere), "%s%s%s", where, where[0] ? " " : "", c->name);
	if (!json_object_is_type(v, json_type_array)) {
		snprintf(err, errlen, "%s: give a list of entries", lwhere);
		return -EINVAL;
	}
	n = json_object_array_length(v);
	if (l->max && n > l->max) {
		snprintf(err, errlen, "%s: holds at most %u entries, not %zu", lwhere, l->max, n);
		return -EINVAL;
	}
	seen = schema_index_new();
	for (size_t i = 0; i < n; i++) {
		struct json_object *e = json_object_array_get_idx(v, i);
		char key[1024];

		if (!json_object_is_type(e, json_type_object)) {
			snprintf(err, errlen, "%s: each entry is an object of key=value pairs", lwhere);
			r = -EINVAL;
			goto out;
		}
		r = schema_canon_entry_keys(c, e, lwhere, err, errlen);
		if (r < 0)
			goto out;
		schema_entry_where(c, e, lwhere, ewhere, sizeof(ewhere));
		/* the keys are canonical now: the same text is the same value */
		if (schema_index_key(c, e, key, sizeof(key)) == 0) {
			if (schema_index_find(seen, key) >= 0) {
				snprintf(err, errlen, "%s: given twice", ewhere);
				r = -EINVAL;
				goto out;
			}
			schema_index_add(seen, key, (int)i);
		}
		r = schema_check(c, e, ewhere, mandatory, err, errlen);
		if (r < 0)
			goto out;
	}
	r = 0;
out:
	if (seen)
		lh_table_free(seen);
	return r;
}

/*
 * Checks obj (children of parent) member by member before libyang sees the
 * whole tree, so that a refusal names the node and says what it wants:
 * unknown names, state given as configuration, values of the wrong type,
 * missing keys, duplicate entries, too many entries, missing mandatory
 * leaves. Canonicalises list keys in place. where: the path in the user's
 * words ("ports p1"), "" for the cube itself.
 */
static int schema_check(const struct lysc_node *parent, struct json_object *obj, const char *where, int mandatory,
			char *err, size_t errlen)
{
	const struct lysc_node *c = NULL;
	char names[512], sub[512];
	int r;

	if (!json_object_is_type(obj, json_type_object)) {
		snprintf(err, errlen, "%s: give key=value pairs", where[0] ? where : parent->name);
		return -EINVAL;
	}
	json_object_object_foreach(obj, key, v)
	{
		c = schema_child(parent, key);
		if (c && (c->nodetype & (LYS_ACTION | LYS_NOTIF)))
			c = NULL;
		if (!c) {
			schema_child_names(parent, names, sizeof(names));
			if (where[0])
				snprintf(err, errlen, "%s has no %s (it has: %s)", where, key, names);
			else
				snprintf(err, errlen, "a %s cube has no %s (it has: %s)", parent->name, key, names);
			return -EINVAL;
		}
		snprintf(sub, sizeof(sub), "%s%s%s", where, where[0] ? " " : "", c->name);
		if (c->flags & LYS_CONFIG_R) {
			snprintf(err, errlen, "%s is state the cube reports, not configuration: leave it out", sub);
			return -EINVAL;
		}
		if (c->nodetype == LYS_LEAF) {
			r = schema_check_leaf(c, v, where, err, errlen);
		} else if (c->nodetype == LYS_LEAFLIST) {
			if (!json_object_is_type(v, json_type_array)) {
				snprintf(err, errlen, "%s: give a list of values", sub);
				return -EINVAL;
			}
			r = 0;
			for (size_t i = 0; i < json_object_array_length(v) && !r; i++)
				r = schema_check_leaf(c, json_object_array_get_idx(v, i), where, err, errlen);
		} else if (c->nodetype == LYS_CONTAINER) {
			r = schema_check(c, v, sub, mandatory, err, errlen);
		} else if (c->nodetype == LYS_LIST) {
			r = schema_check_list(c, v, where, mandatory, err, errlen);
		} else {
			r = 0;
		}
		if (r < 0)
			return r;
	}
	c = NULL;
	while (mandatory && (c = lys_getnext(c, parent, NULL, 0))) {
		char says[400];

		if (c->nodetype != LYS_LEAF || !(c->flags & LYS_MAND_TRUE) || (c->flags & LYS_CONFIG_R) ||
		    json_object_object_get_ex(obj, c->name, NULL))
			continue;
		schema_type_says(c->module->ctx, schema_leaf_type(c), says, sizeof(says));
		snprintf(err, errlen, "%s%s%s is missing: it is mandatory, give %s=VALUE, %s", where,
			 where[0] ? ": " : "", c->name, c->name, says);
		return -EINVAL;
	}
	return 0;
}

static int schema_port_ref(const struct lysc_node *sn);
static int schema_has_port_refs(struct broker *b, const char *service);

/* Gives every value of obj (children of parent) its canonical text where
 * libyang's printer does not (schema_typedefs[].canon). */
static void schema_canon_values(const struct lysc_node *parent, struct json_object *obj)
{
	if (!json_object_is_type(obj, json_type_object))
		return;
	json_object_object_foreach(obj, key, v)
	{
		const struct lysc_node *c = schema_child(parent, key);
		char canon[256];

		if (!c)
			continue;
		if (c->nodetype == LYS_LEAF && json_object_is_type(v, json_type_string) &&
		    schema_canon(c, json_object_get_string(v), canon, sizeof(canon)) == 0 &&
		    strcmp(canon, json_object_get_string(v)))
			json_object_object_add(obj, key, json_object_new_string(canon));
		else if (c->nodetype == LYS_LEAFLIST && json_object_is_type(v, json_type_array))
			for (size_t i = 0; i < json_object_array_length(v); i++) {
				struct json_object *e = json_object_array_get_idx(v, i);

				if (json_object_is_type(e, json_type_string) &&
				    schema_canon(c, json_object_get_string(e), canon, sizeof(canon)) == 0)
					json_object_array_put_idx(v, i, json_object_new_string(canon));
			}
		else if (c->nodetype == LYS_CONTAINER)
			schema_canon_values(c, v);
		else if (c->nodetype == LYS_LIST && json_object_is_type(v, json_type_array))
			for (size_t i = 0; i < json_object_array_length(v); i++)
				schema_canon_values(c, json_object_array_get_idx(v, i));
	}
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
			struct lh_table *index = schema_index_of(c, d);

			for (size_t i = 0; i < json_object_array_length(v); i++) {
				struct json_object *e = json_object_array_get_idx(v, i);
				char ekey[1024];
				int idx = -1, keyed = 0;

				if (schema_nkeys(c) <= 8 && schema_canon_entry_keys(c, e, "", NULL, 0) == 0 &&
				    schema_index_key(c, e, ekey, sizeof(ekey)) == 0) {
					keyed = 1;
					idx = schema_index_find(index, ekey);
				}
				if (idx >= 0) {
					schema_merge(c, json_object_array_get_idx(d, idx), e);
				} else {
					json_object_array_add(d, schema_copy(e));
					if (keyed)
						schema_index_add(index, ekey, (int)json_object_array_length(d) - 1);
				}
			}
			if (index)
				lh_table_free(index);
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

/*
 * The input of the action at segs[0..n), checked as any other value is, so
 * that a bad one is said in the same words before the cube sees it. An
 * action below a list entry, or a path the model does not know, is left to
 * the cube (0).
 */
int schema_check_action(struct broker *b, const char *service, char **segs, int n, struct json_object *body, char *err,
			size_t errlen)
{
	const struct lysc_node *sn = schema_top(b, service);
	char where[512] = "";

	for (int i = 0; sn && i < n; i++) {
		const struct lysc_node *c = schema_child(sn, segs[i]);
		size_t wl = strlen(where);

		if (!c || (c->nodetype & (LYS_LIST | LYS_LEAF | LYS_LEAFLIST)))
			return 0;
		snprintf(where + wl, sizeof(where) - wl, "%s%s", wl ? " " : "", segs[i]);
		if (c->nodetype == LYS_ACTION) {
			if (i != n - 1 || !body || !json_object_is_type(body, json_type_object))
				return 0;
			schema_coerce(c, body);
			return schema_check(c, body, where, 1, err, errlen);
		}
		sn = c;
	}
	return 0;
}

/* Appends the predicate [name='value'] to path; -1 if value has both quotes. */
static int schema_pred_cat(char *path, size_t size, const char *name, const char *value)
{
	char q = strchr(value, '\'') ? '"' : '\'';

	if (q == '"' && strchr(value, '"'))
		return -1;
	schema_cat(path, size, "[%s=%c%s%c]", name, q, value, q);
	return 0;
}

/* ---- paths ----------------------------------------------------------------- */

/*
 * Walks the path segs[0..n) over the service's schema: names are children,
 * a list's next segments are its keys (canonical text in keys[], joined as
 * a libyang predicate into rel). Fills target (kind, node, the path in the
 * user's words, rel: the data path below the cube, "fdb/entry[address='..']")
 * and sets *at to the index of the segment where the target's own node
 * starts (for the parent's path, prel). Says in err what is wrong: an
 * unknown name, keys missing, a leaf with something below it, an action
 * (-EOPNOTSUPP, after checking its input), state given to a change.
 */
int schema_walk(struct broker *b, const char *service, int verb, char **segs, int n, struct json_object *body,
		struct schema_target *target, char *prel, size_t prelsize, char *err, size_t errlen)
{
	const struct lysc_node *sn = schema_top(b, service);
	char *where = target->where, *rel = target->path;
	size_t psize = sizeof(target->path), wsize = sizeof(target->where);

	memset(target, 0, sizeof(*target));
	target->kind = ST_CUBE;
	target->snode = sn;
	if (prel)
		prel[0] = 0;
	if (!sn) {
		snprintf(err, errlen, "unknown service %s", service);
		return -ENOENT;
	}
	for (int i = 0; i < n; i++) {
		const struct lysc_node *c = schema_child(sn, segs[i]);
		size_t wl = strlen(where);

		if (!c) {
			snprintf(err, errlen, "%s%s has no '%s'", where[0] ? "" : "this cube", where, segs[i]);
			return -ENOENT;
		}
		snprintf(where + wl, wsize - wl, "%s%s", wl ? " " : "", segs[i]);
		if (c->nodetype == LYS_ACTION) {
			if (i != n - 1) {
				snprintf(err, errlen, "%s is an action: nothing below it", where);
				return -EINVAL;
			}
			target->kind = ST_ACTION;
			target->snode = c;
			for (int k = 0; k <= i; k++)
				schema_cat(target->rel, sizeof(target->rel), "%s%s", k ? "/" : "", segs[k]);
			/* the input is checked here, so that a bad one is said
			 * like any other bad value */
			if (body && json_object_is_type(body, json_type_object)) {
				int r;

				schema_coerce(c, body);
				r = schema_check(c, body, where, 1, err, errlen);
				if (r < 0)
					return r;
			}
			snprintf(err, errlen, "%s is an action: run it (cubectl ... %s, or POST), it has nothing to %s",
				 where, segs[i], verb == CUBEBUS__VERB__READ ? "show" : "change");
			return -EOPNOTSUPP;
		}
		if (c->flags & LYS_CONFIG_R && verb != CUBEBUS__VERB__READ && verb != CUBEBUS__VERB__HELP) {
			snprintf(err, errlen, "%s is read-only (state, not configuration)", where);
			return -EACCES;
		}
		if (prel)
			snprintf(prel, prelsize, "%s", rel);
		schema_cat(rel, psize, "%s%s", rel[0] ? "/" : "", c->name);
		sn = c;
		target->snode = c;
		if (c->nodetype & (LYS_LEAF | LYS_LEAFLIST)) {
			if (i != n - 1) {
				snprintf(err, errlen, "%s is a leaf: nothing below it", where);
				return -EINVAL;
			}
			target->kind = c->nodetype == LYS_LEAF ? ST_LEAF : ST_LEAFLIST;
			break;
		}
		if (c->nodetype & LYS_CONTAINER) {
			target->kind = ST_CONTAINER;
			continue;
		}
		/* list: the next segments are its keys */
		{
			int nk = schema_nkeys(c);

			if (i + nk >= n) {
				if (i + 1 < n) {
					snprintf(err, errlen, "%s needs %d key%s", where, nk, nk > 1 ? "s" : "");
					return -EINVAL;
				}
				target->kind = ST_LIST;
				break;
			}
			if (nk > 8) {
				snprintf(err, errlen, "%s has more than 8 keys", where);
				return -EINVAL;
			}
			/* keys are matched by value: 10.0.3.7/24 is the route 10.0.3.0/24 */
			for (int k = 0; k < nk; k++)
				if (schema_canon(schema_key(c, k), segs[i + 1 + k], target->keys[k],
						 sizeof(target->keys[k])) < 0)
					return schema_value_error(schema_key(c, k), where, segs[i + 1 + k], err,
								  errlen);
			for (int k = 0; k < nk; k++) {
				const struct lysc_node *kn = schema_key(c, k);
				char *kv = target->keys[k];

				if (schema_pred_cat(rel, psize, kn->name, kv) < 0) {
					snprintf(err, errlen, "%s: a key cannot hold both kinds of quote", where);
					return -EINVAL;
				}
				wl = strlen(where);
				snprintf(where + wl, wsize - wl, " %s", segs[i + 1 + k]);
			}
			target->kind = ST_ENTRY;
			target->nkeys = nk;
			if (i + nk < n - 1 && target->nway < 8) { /* an entry on the way to a deeper node */
				target->way_len[target->nway] = (int)strlen(rel);
				target->way_wlen[target->nway++] = (int)strlen(where);
			}
			i += nk;
		}
	}
	return 0;
}

/*
 * READ: *out is a new reference to the node at segs[0..n) in view, the cube
 * as read (configuration with defaults, what the broker knows, state).
 */
int schema_read(struct broker *b, const char *service, struct json_object *view, char **segs, int n,
		struct json_object **out, struct schema_target *target, char *err, size_t errlen)
{
	const struct lysc_node *sn = schema_top(b, service);
	struct json_object *node = view, *parent = NULL;
	int r;

	r = schema_walk(b, service, CUBEBUS__VERB__READ, segs, n, NULL, target, NULL, 0, err, errlen);
	if (r < 0)
		return r;
	/* the same walk over the view */
	for (int i = 0; i < n && node; i++) {
		const struct lysc_node *c = schema_child(sn, segs[i]);
		struct json_object *next = NULL;

		parent = i == n - 1 ? node : NULL;
		json_object_object_get_ex(node, c->name, &next);
		node = next;
		sn = c;
		if ((c->nodetype & LYS_LIST) && i + 1 < n) {
			int nk = schema_nkeys(c), idx;
			char kbuf[8][256], *kvals[8];

			for (int k = 0; k < nk; k++) {
				schema_canon(schema_key(c, k), segs[i + 1 + k], kbuf[k], sizeof(kbuf[k]));
				kvals[k] = kbuf[k];
			}
			idx = schema_find_entry(c, node, kvals, 1);
			node = idx >= 0 ? json_object_array_get_idx(node, idx) : NULL;
			i += nk;
		}
	}
	if (!node && parent && (target->kind == ST_LIST || target->kind == ST_LEAFLIST)) {
		*out = json_object_new_array(); /* a list with no entries is there, empty */
		return 0;
	}
	if (!node) {
		snprintf(err, errlen, "%s: not found", target->where[0] ? target->where : "cube");
		return -ENOENT;
	}
	*out = json_object_get(node);
	return 0;
}

/* ---- validation ------------------------------------------------------------ */

/* "/router:router[name='r1']/ports[name='x']/ip" -> "ports x ip": the path
 * inside the cube in the words of cubectl. */
static void schema_user_path(const char *xpath, char *out, size_t size)
{
	const char *p = xpath;
	int depth = 0;

	out[0] = 0;
	while (*p == '/') {
		const char *name = ++p, *colon, *end;

		end = name + strcspn(name, "/[");
		colon = memchr(name, ':', end - name);
		if (colon)
			name = colon + 1;
		if (depth++)
			schema_cat(out, size, "%s%.*s", out[0] ? " " : "", (int)(end - name), name);
		p = end;
		while (*p == '[') {
			const char *q = strchr(p, '=');
			char quote;
			const char *ve;

			if (!q || (q[1] != '\'' && q[1] != '"'))
				break;
			quote = q[1];
			ve = strchr(q + 2, quote);
			if (!ve)
				break;
			if (depth > 1)
				schema_cat(out, size, " %.*s", (int)(ve - q - 2), q + 2);
			p = ve + 1;
			if (*p == ']')
				p++;
		}
	}
}

/* ---- the configuration tree ------------------------------------------------- */

/*
 * libyang's last error as one line: the node in the user's words, then
 * libyang's sentence (never a regular expression). libyang 2.1 gives the
 * data location only inside its text ("Data location \"/x:x[name='b']/y\",
 * line number 1."): that is where it is read from.
 */
/* libyang's max-elements refusal ("Too many "entry" instances.") in the
 * words an edit's check gives: "fdb entry: holds at most 16384 entries". */
static void schema_ly_too_many(const struct ly_ctx *ctx, const char *path, char *err, size_t errlen)
{
	const char *q = strstr(path, "location \"");
	const struct lysc_node *sn;
	char xp[512], sp[512], where[512];
	size_t n = 0;
	int depth = 0;

	if (q && strchr(q + 10, '"'))
		snprintf(xp, sizeof(xp), "%.*s", (int)(strchr(q + 10, '"') - q - 10), q + 10);
	else
		snprintf(xp, sizeof(xp), "%s", path);
	for (const char *c = xp; *c && n + 1 < sizeof(sp); c++) { /* the schema path: no predicates */
		if (*c == '[')
			depth++;
		else if (*c == ']')
			depth--;
		else if (!depth)
			sp[n++] = *c;
	}
	sp[n] = 0;
	sn = lys_find_path(ctx, NULL, sp, 0);
	if (!sn || sn->nodetype != LYS_LIST || !((const struct lysc_node_list *)sn)->max)
		return;
	/* the list's words: the data path without the entry's keys */
	{
		char *slash = NULL, *cut;

		depth = 0;
		for (char *c = xp; *c; c++) {
			if (*c == '[')
				depth++;
			else if (*c == ']')
				depth--;
			else if (*c == '/' && !depth)
				slash = c;
		}
		if (slash && (cut = strchr(slash, '[')))
			*cut = 0;
	}
	schema_user_path(xp, where, sizeof(where));
	snprintf(err, errlen, "%s: holds at most %u entries", where, ((const struct lysc_node_list *)sn)->max);
}

static int schema_ly_error(const struct ly_ctx *ctx, const char *fallback, char *err, size_t errlen)
{
	const char *path = ly_errpath(ctx), *msg = ly_errmsg(ctx);
	char loc[512] = "";

	if (path) {
		const char *q = strstr(path, "location \"");
		const char *e;
		char xp[512];

		if (q && (e = strchr(q + 10, '"'))) {
			snprintf(xp, sizeof(xp), "%.*s", (int)(e - q - 10), q + 10);
			schema_user_path(xp, loc, sizeof(loc));
		} else {
			schema_user_path(path, loc, sizeof(loc));
		}
	}
	snprintf(err, errlen, "%s%s%s", loc, loc[0] ? ": " : "", msg ? msg : fallback);
	if (msg && !strncmp(msg, "Too many \"", 10) && path)
		schema_ly_too_many(ctx, path, err, errlen);
	{
		char *re = strstr(err, " does not conform to ");

		if (re)
			snprintf(re, errlen - (re - err), " does not have the form the model wants");
	}
	for (char *nl; (nl = strchr(err, '\n'));)
		*nl = ' ';
	return -EINVAL;
}

/* The node at path below ctx, or NULL (lyd_find_path gives the deepest
 * parent found when the node is not there). */
static struct lyd_node *schema_find(const struct lyd_node *ctx, const char *path)
{
	struct lyd_node *m = NULL;

	return ctx && lyd_find_path(ctx, path, 0, &m) == LY_SUCCESS ? m : NULL;
}

/* A node that is there because it was given (not a default libyang added). */
static int schema_given(const struct lyd_node *node)
{
	return node && !(node->flags & LYD_DEFAULT);
}

/* The user's words for a data node: "fdb entry aa:bb:cc:dd:ee:01". */
static void schema_node_where(const struct lyd_node *node, char *buf, size_t size)
{
	char *p = lyd_path(node, LYD_PATH_STD, NULL, 0);

	buf[0] = 0;
	if (p)
		schema_user_path(p, buf, size);
	free(p);
}

/* Parses the RFC 7951 text of a cube's list entry (or a document of the
 * service) into a tree. */
static int schema_parse_text(struct broker *b, const char *service, const char *entry, int whole, uint32_t parse_opts,
			     uint32_t val_opts, struct lyd_node **tree, char *err, size_t errlen)
{
	char *doc = NULL;
	LY_ERR r;

	*tree = NULL;
	if (!whole) {
		if (asprintf(&doc, "{\"%s:%s\":[%s]}", service, service, entry) < 0)
			return -ENOMEM;
		entry = doc;
	}
	r = lyd_parse_data_mem(b->yang, entry, LYD_JSON, parse_opts, val_opts, tree);
	free(doc);
	if (r != LY_SUCCESS) {
		lyd_free_all(*tree);
		*tree = NULL;
		return schema_ly_error(b->yang, "rejected by the model", err, errlen);
	}
	return 0;
}

static int schema_parse_json(struct broker *b, const char *service, struct json_object *entry, uint32_t parse_opts,
			     uint32_t val_opts, struct lyd_node **tree, char *err, size_t errlen)
{
	return schema_parse_text(b, service, json_object_to_json_string_ext(entry, JSON_C_TO_STRING_PLAIN), 0,
				 parse_opts, val_opts, tree, err, errlen);
}

/*
 * Mandatory leaves missing below node (node included), said as the checks
 * of bodies say it: "fdb entry aa:..: port is missing: it is mandatory, ...".
 */
static int schema_check_mandatory(const struct lyd_node *top, char *err, size_t errlen)
{
	const struct lyd_node *elem;

	LYD_TREE_DFS_BEGIN(top, elem)
	{
		if (elem->schema && (elem->schema->nodetype & (LYS_CONTAINER | LYS_LIST)) && schema_given(elem)) {
			const struct lysc_node *c = NULL;

			while ((c = lys_getnext(c, elem->schema, NULL, 0))) {
				struct lyd_node *m = NULL;
				char where[512], says[400];

				if (c->nodetype != LYS_LEAF || !(c->flags & LYS_MAND_TRUE) || (c->flags & LYS_CONFIG_R))
					continue;
				if (lyd_find_sibling_val(lyd_child(elem), c, NULL, 0, &m) == LY_SUCCESS)
					continue;
				schema_node_where(elem, where, sizeof(where));
				schema_type_says(c->module->ctx, schema_leaf_type(c), says, sizeof(says));
				snprintf(err, errlen, "%s%s%s is missing: it is mandatory, give %s=VALUE, %s", where,
					 where[0] ? ": " : "", c->name, c->name, says);
				return -EINVAL;
			}
		}
		LYD_TREE_DFS_END(top, elem);
	}
	return 0;
}

/* The cube node of any node of its tree. */
static const struct lyd_node *schema_cube_of(const struct lyd_node *node)
{
	while (node && node->parent)
		node = lyd_parent(node);
	return node;
}

/* "p1, p2": the names of the cube's ports. */
static void schema_port_names(const struct lyd_node *cube, char *buf, size_t size)
{
	struct lyd_node *p;

	buf[0] = 0;
	LY_LIST_FOR(lyd_child(cube), p)
	{
		if (strcmp(p->schema->name, "ports") || p->schema->nodetype != LYS_LIST)
			continue;
		schema_cat(buf, size, "%s%s", buf[0] ? ", " : "", lyd_get_value(lyd_child(p)));
	}
}

/*
 * Checks the port references (schema_port_ref, require-instance) below top
 * against the cube's ports, so that a refusal says it in the user's words
 * before libyang does in its own: "fdb entry ... port: p9 is not a port of
 * this cube (its ports: p1, p2)". With gone, finds instead a reference to
 * that port (which is about to be deleted).
 */
static int schema_check_refs(const struct lyd_node *top, const char *gone, char *err, size_t errlen)
{
	const struct lyd_node *cube = schema_cube_of(top), *elem;

	LYD_TREE_DFS_BEGIN(top, elem)
	{
		const struct lysc_node *sn = elem->schema;

		if (sn && sn->nodetype == LYS_LEAF && !(sn->flags & LYS_CONFIG_R) && schema_port_ref(sn) &&
		    ((const struct lysc_type_leafref *)schema_leaf_type(sn))->require_instance) {
			const char *v = lyd_get_value(elem);
			char where[512], pred[300] = "ports", names[512];
			struct lyd_node *m = NULL;

			if (gone && !strcmp(v, gone)) {
				schema_node_where(elem, where, sizeof(where));
				snprintf(err, errlen, "port %s is in use: %s names it; delete or change that first",
					 gone, where);
				return -EBUSY;
			}
			if (!gone && (schema_pred_cat(pred, sizeof(pred), "name", v) < 0 ||
				      lyd_find_path(cube, pred, 0, &m) != LY_SUCCESS)) {
				schema_node_where(elem, where, sizeof(where));
				schema_port_names(cube, names, sizeof(names));
				snprintf(err, errlen, "%s: %s is not a port of this cube (its ports: %s)", where, v,
					 names[0] ? names : "none");
				return -EINVAL;
			}
		}
		LYD_TREE_DFS_END(top, elem);
	}
	return 0;
}

int schema_port_users(struct broker *b, const char *service, const struct lyd_node *cfg, const char *port, char *err,
		      size_t errlen)
{
	if (!cfg || !schema_has_port_refs(b, service))
		return 0;
	return schema_check_refs(cfg, port, err, errlen);
}

/* Checks, then validates *cfg (a whole configuration or a part) in place:
 * types, keys, mandatory leaves and references, in the user's words first. */
int schema_validate(struct broker *b, const char *service, struct lyd_node **cfg, char *err, size_t errlen)
{
	int r;

	if (!*cfg) {
		snprintf(err, errlen, "no configuration");
		return -EINVAL;
	}
	r = schema_check_mandatory(*cfg, err, errlen);
	if (r == 0 && schema_has_port_refs(b, service))
		r = schema_check_refs(*cfg, NULL, err, errlen);
	if (r < 0)
		return r;
	if (lyd_validate_all(cfg, NULL, LYD_VALIDATE_PRESENT, NULL) != LY_SUCCESS)
		return schema_ly_error(b->yang, "rejected by the model", err, errlen);
	return 0;
}

int schema_cfg_new(struct broker *b, const char *service, const char *name, struct json_object *body,
		   struct lyd_node **cfg, char *err, size_t errlen)
{
	const struct lysc_node *top = schema_top(b, service);
	struct json_object *o = NULL;
	int r;

	*cfg = NULL;
	if (!top) {
		snprintf(err, errlen, "unknown service %s", service);
		return -ENOENT;
	}
	json_object_deep_copy(body, &o, NULL);
	if (!o)
		o = json_object_new_object();
	json_object_object_add(o, "name", json_object_new_string(name));
	schema_add_default_entries(b, service, o);
	schema_coerce(top, o);
	r = schema_check(top, o, "", 1, err, errlen);
	if (r == 0) {
		schema_canon_values(top, o);
		r = schema_parse_json(b, service, o, LYD_PARSE_ONLY | LYD_PARSE_STRICT | LYD_PARSE_NO_STATE, 0, cfg,
				      err, errlen);
	}
	json_object_put(o);
	if (r == 0)
		r = schema_validate(b, service, cfg, err, errlen);
	if (r < 0) {
		lyd_free_all(*cfg);
		*cfg = NULL;
	}
	return r;
}

int schema_cfg_load(struct broker *b, const char *service, const char *text, struct lyd_node **cfg, char *err,
		    size_t errlen)
{
	return schema_parse_text(b, service, text, 0, LYD_PARSE_STRICT | LYD_PARSE_NO_STATE, LYD_VALIDATE_PRESENT, cfg,
				 err, errlen);
}

char *schema_cfg_text(const struct lyd_node *cfg)
{
	char *s = NULL, *open, *close;

	/* {"svc:svc":[{...}]}: the entry is between the brackets */
	if (!cfg || lyd_print_mem(&s, cfg, LYD_JSON, LYD_PRINT_SHRINK) != LY_SUCCESS || !s)
		return NULL;
	open = strchr(s, '[');
	close = strrchr(s, ']');
	if (!open || !close || close < open) {
		free(s);
		return NULL;
	}
	*close = 0;
	memmove(s, open + 1, close - open);
	return s;
}

struct json_object *schema_cfg_json(const struct lyd_node *cfg, int defaults)
{
	struct lyd_node *tree = (struct lyd_node *)cfg;
	struct json_object *o;
	char *s;

	if (defaults && tree)
		lyd_new_implicit_tree(tree, LYD_IMPLICIT_NO_STATE, NULL); /* defaults of entries a change added */
	s = schema_cfg_text(cfg);
	o = s ? json_tokener_parse(s) : NULL;
	free(s);
	if (o && defaults) {
		/* the printer leaves defaults out unless asked: ask */
		char *d = NULL, *open, *close;

		if (lyd_print_mem(&d, cfg, LYD_JSON, LYD_PRINT_SHRINK | LYD_PRINT_WD_ALL) == LY_SUCCESS && d &&
		    (open = strchr(d, '[')) && (close = strrchr(d, ']')) && close > open) {
			*close = 0;
			json_object_put(o);
			o = json_tokener_parse(open + 1);
		}
		free(d);
	}
	return o ? o : json_object_new_object();
}

const char *schema_cfg_get(const struct lyd_node *cfg, const char *path)
{
	struct lyd_node *m = NULL;

	if (!cfg || lyd_find_path(cfg, path, 0, &m) != LY_SUCCESS)
		return NULL;
	return lyd_get_value(m);
}

struct lyd_node *schema_cfg_dup(const struct lyd_node *cfg)
{
	struct lyd_node *d = NULL;

	if (cfg && lyd_dup_single(cfg, NULL, LYD_DUP_RECURSIVE | LYD_DUP_WITH_FLAGS, &d) != LY_SUCCESS)
		return NULL;
	return d;
}

void schema_cfg_free(struct lyd_node *cfg)
{
	lyd_free_all(cfg);
}

int schema_set_peer(struct broker *b, struct lyd_node *cfg, const char *port, const char *peer, char *err,
		    size_t errlen)
{
	char path[300] = "ports";
	struct lyd_node *m = NULL;

	if (schema_pred_cat(path, sizeof(path), "name", port) < 0) {
		snprintf(err, errlen, "%s: not a port name", port);
		return -EINVAL;
	}
	schema_cat(path, sizeof(path), "/peer");
	if (!peer[0]) {
		if (lyd_find_path(cfg, path, 0, &m) == LY_SUCCESS)
			lyd_free_tree(m);
		return 0;
	}
	if (lyd_new_path(cfg, NULL, path, peer, LYD_NEW_PATH_UPDATE, NULL) != LY_SUCCESS)
		return schema_ly_error(b->yang, "cannot set the peer", err, errlen);
	return 0;
}

/*
 * The document of an edit: the cube's entry {"name": cube, ...} with the
 * nodes along segs[0..n) (containers, list entries with their keys) and obj
 * at the end (the members the target's parent gets). Returns the innermost
 * object, the one obj's members go into.
 */
static struct json_object *schema_edit_doc(struct broker *b, const char *service, const char *cube, char **segs, int n,
					   struct json_object **doc)
{
	const struct lysc_node *sn = schema_top(b, service);
	struct json_object *cur = json_object_new_object();

	*doc = cur;
	json_object_object_add(cur, "name", json_object_new_string(cube));
	for (int i = 0; i < n; i++) {
		const struct lysc_node *c = schema_child(sn, segs[i]);
		struct json_object *next = json_object_new_object();

		if (c->nodetype & LYS_CONTAINER) {
			json_object_object_add(cur, c->name, next);
		} else {
			struct json_object *arr = json_object_new_array();
			int nk = schema_nkeys(c);

			for (int k = 0; k < nk; k++) {
				char canon[256];

				schema_canon(schema_key(c, k), segs[i + 1 + k], canon, sizeof(canon));
				json_object_object_add(next, schema_key(c, k)->name, json_object_new_string(canon));
			}
			schema_coerce(c, next); /* a number key as a JSON number */
			json_object_array_add(arr, next);
			json_object_object_add(cur, c->name, arr);
			i += nk;
		}
		cur = next;
		sn = c;
	}
	return cur;
}

/* Whether node is all defaults, setting LYD_DEFAULT on the NP containers
 * below it to match. libyang copies the flag with a node (lyd_dup, and so
 * lyd_diff_apply) and sets it on a container before its children arrive, so a
 * spliced-in container can carry it with given children below: then printing
 * and lookups skip what the user configured. */
static int schema_dflt_fix(struct lyd_node *node)
{
	struct lyd_node *ch;
	int all = 1;

	if (!node->schema)
		return 0;
	if (node->schema->nodetype & LYD_NODE_TERM)
		return !!(node->flags & LYD_DEFAULT);
	LY_LIST_FOR(lyd_child(node), ch)
	{
		if (!schema_dflt_fix(ch))
			all = 0;
	}
	if (node->schema->nodetype == LYS_CONTAINER && !(node->schema->flags & LYS_PRESENCE) && all) {
		node->flags |= LYD_DEFAULT;
		return 1;
	}
	node->flags &= ~LYD_DEFAULT;
	return 0;
}

/* Merges the edit document doc into *cfg (the same cube). */
static int schema_merge_doc(struct broker *b, const char *service, struct lyd_node **cfg, struct json_object *doc,
			    char *err, size_t errlen)
{
	struct lyd_node *edit = NULL;
	int r;

	r = schema_parse_json(b, service, doc, LYD_PARSE_ONLY | LYD_PARSE_STRICT | LYD_PARSE_NO_STATE, 0, &edit, err,
			      errlen);
	if (r < 0)
		return r;
	if (lyd_merge_tree(cfg, edit, LYD_MERGE_DESTRUCT) != LY_SUCCESS) {
		lyd_free_all(edit);
		return schema_ly_error(b->yang, "cannot merge the change", err, errlen);
	}
	/* a container merged into a default one keeps its flag: a diff would skip it */
	schema_dflt_fix(*cfg);
	return 0;
}

/* Frees the instances of rel below cfg that were given; how many. */
static int schema_free_at(struct lyd_node *cfg, const char *rel)
{
	struct ly_set *set = NULL;
	int n = 0;

	if (lyd_find_xpath(cfg, rel, &set) != LY_SUCCESS)
		return 0;
	for (uint32_t i = 0; i < set->count; i++) {
		if (schema_given(set->dnodes[i]))
			n++;
		lyd_free_tree(set->dnodes[i]);
	}
	ly_set_free(set, NULL);
	return n;
}

int schema_edit(struct broker *b, const char *service, struct lyd_node **cfg, int verb, char **segs, int n,
		struct json_object *body, struct schema_target *t, char *err, size_t errlen)
{
	const char *cube = schema_cfg_get(*cfg, "name");
	struct json_object *doc = NULL, *at, *v = body, *entries = NULL;
	const struct lysc_node *sn;
	struct lyd_node *node = NULL, *edited;
	char prel[2048], name[BK_NAME_MAX];
	const char *where;
	int r, nparent, found;

	r = schema_walk(b, service, verb, segs, n, body, t, prel, sizeof(prel), err, errlen);
	if (r < 0)
		return r;
	if (!cube) {
		snprintf(err, errlen, "internal: a configuration without its name");
		return -EINVAL;
	}
	snprintf(name, sizeof(name), "%s", cube);
	sn = t->snode;
	where = t->where[0] ? t->where : "cube";
	/* entries on the way to a deeper node (ports p1 secondaryip ...) must exist, whatever the verb */
	for (int w = 0; w < t->nway; w++) {
		char wp[2048];

		snprintf(wp, sizeof(wp), "%.*s", t->way_len[w], t->path);
		if (lyd_find_path(*cfg, wp, 0, &node) != LY_SUCCESS) {
			snprintf(err, errlen, "%.*s: not found", t->way_wlen[w], t->where);
			return -ENOENT;
		}
	}
	node = NULL;
	if (t->kind == ST_CUBE)
		node = *cfg;
	else if (t->kind != ST_LIST && t->kind != ST_LEAFLIST)
		node = schema_find(*cfg, t->path);
	found = schema_given(node);

	if (verb == CUBEBUS__VERB__DELETE) {
		if (t->kind == ST_CUBE) {
			snprintf(err, errlen, "internal: cube deletion is not an edit");
			return -EINVAL;
		}
		if ((t->kind == ST_LIST || t->kind == ST_LEAFLIST) ? !schema_free_at(*cfg, t->path) : !found) {
			snprintf(err, errlen, "%s: not found", where);
			return -ENOENT;
		}
		if (node)
			lyd_free_tree(node);
		return 0;
	}
	/* CREATE, UPDATE, REPLACE */
	if (t->kind == ST_ENTRY && !found && verb != CUBEBUS__VERB__CREATE && verb != CUBEBUS__VERB__REPLACE) {
		snprintf(err, errlen, "%s: not found (use add to create it)", where);
		return -ENOENT;
	}
	if (t->kind == ST_ENTRY && found && verb == CUBEBUS__VERB__CREATE) {
		snprintf(err, errlen, "%s already exists", where);
		return -EEXIST;
	}
	if (t->kind == ST_LEAF || t->kind == ST_LEAFLIST) {
		if (body && json_object_is_type(body, json_type_object)) {
			if (!json_object_object_get_ex(body, sn->name, &v) || json_object_object_length(body) != 1) {
				snprintf(err, errlen, "%s: give the value as %s=VALUE", where, sn->name);
				return -EINVAL;
			}
		}
		if (!v) {
			snprintf(err, errlen, "%s: no value given", where);
			return -EINVAL;
		}
	} else if (!body) {
		if (t->kind == ST_ENTRY && !found) {
			if (lyd_new_path(*cfg, NULL, t->path, NULL, 0, NULL) != LY_SUCCESS ||
			    lyd_find_path(*cfg, t->path, 0, &node) != LY_SUCCESS)
				return schema_ly_error(b->yang, "cannot create it", err, errlen);
			return schema_check_mandatory(node, err, errlen);
		}
		if (t->kind == ST_CUBE || t->kind == ST_CONTAINER || t->kind == ST_ENTRY)
			return 0; /* creating an empty container/entry is fine */
		snprintf(err, errlen, "%s: nothing to set", where);
		return -EINVAL;
	} else if (t->kind == ST_LIST) {
		entries = body;
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
	} else if (!json_object_is_type(body, json_type_object)) {
		snprintf(err, errlen, "%s is a %s: give key=value pairs", where, schema_kind_name(sn));
		return -EINVAL;
	}

	/* the body, checked in the user's words (mandatory leaves once merged) */
	if (t->kind == ST_LEAF || t->kind == ST_LEAFLIST) {
		struct json_object *o = json_object_new_object();
		char pw[1024];

		json_object_object_add(o, sn->name, json_object_get(v));
		schema_coerce(lysc_data_parent(sn) ? lysc_data_parent(sn) : schema_top(b, service), o);
		snprintf(pw, sizeof(pw), "%.*s", (int)(strlen(t->where) - strlen(sn->name)), t->where);
		if (pw[0] && pw[strlen(pw) - 1] == ' ')
			pw[strlen(pw) - 1] = 0;
		r = schema_check(lysc_data_parent(sn) ? lysc_data_parent(sn) : schema_top(b, service), o, pw, 0, err,
				 errlen);
		if (r == 0)
			schema_canon_values(lysc_data_parent(sn) ? lysc_data_parent(sn) : schema_top(b, service), o);
		json_object_object_get_ex(o, sn->name, &v);
		json_object_get(v);
		json_object_put(o);
		if (r < 0) {
			json_object_put(v);
			return r;
		}
	} else if (t->kind == ST_LIST) {
		char lw[1024];

		snprintf(lw, sizeof(lw), "%.*s", (int)(strlen(t->where) - strlen(sn->name)), t->where);
		if (lw[0] && lw[strlen(lw) - 1] == ' ')
			lw[strlen(lw) - 1] = 0;
		for (size_t i = 0; i < json_object_array_length(entries); i++)
			schema_coerce(sn, json_object_array_get_idx(entries, i));
		r = schema_check_list(sn, entries, lw, 0, err, errlen);
		for (size_t i = 0; r == 0 && i < json_object_array_length(entries); i++) {
			struct json_object *e = json_object_array_get_idx(entries, i);
			char pred[1024], ewhere[1024];
			struct lyd_node *m = NULL;

			schema_canon_values(sn, e);
			snprintf(pred, sizeof(pred), "%s", t->path);
			for (int k = 0; k < schema_nkeys(sn); k++) {
				struct json_object *kv;

				json_object_object_get_ex(e, schema_key(sn, k)->name, &kv);
				if (schema_pred_cat(pred, sizeof(pred), schema_key(sn, k)->name,
						    json_object_get_string(kv)) < 0) {
					snprintf(err, errlen, "%s: a key cannot hold both kinds of quote", where);
					r = -EINVAL;
				}
			}
			if (r == 0 && verb == CUBEBUS__VERB__CREATE && lyd_find_path(*cfg, pred, 0, &m) == LY_SUCCESS &&
			    schema_given(m)) {
				schema_entry_where(sn, e, t->where, ewhere, sizeof(ewhere));
				snprintf(err, errlen, "%s already exists", ewhere);
				r = -EEXIST;
			}
		}
		if (r < 0) {
			json_object_put(entries);
			return r;
		}
	} else {
		schema_coerce(sn, body);
		r = schema_check(sn, body, t->where, 0, err, errlen);
		if (r < 0)
			return r;
		schema_canon_values(sn, body);
		if (t->kind == ST_ENTRY || t->kind == ST_CUBE) {
			int nk = schema_nkeys(sn);

			for (int k = 0; k < nk; k++) {
				const char *kn = schema_key(sn, k)->name;
				const char *want = t->kind == ST_CUBE ? name : t->keys[k];
				struct json_object *bk;
				char canon[256];

				if (json_object_object_get_ex(body, kn, &bk) &&
				    (schema_canon(schema_key(sn, k), json_object_get_string(bk), canon, sizeof(canon)) <
					     0 ||
				     strcmp(canon, want))) {
					if (t->kind == ST_ENTRY && verb == CUBEBUS__VERB__CREATE && !found)
						snprintf(err, errlen, "%s: key %s in the body differs from the path",
							 where, kn);
					else
						snprintf(err, errlen, "%s: the key %s cannot be changed", where, kn);
					return -EINVAL;
				}
			}
		}
	}

	/* what a replace replaces goes first */
	if (verb == CUBEBUS__VERB__REPLACE && (t->kind == ST_LIST || t->kind == ST_CONTAINER || t->kind == ST_LEAFLIST))
		schema_free_at(*cfg, t->path);
	else if (t->kind == ST_LEAFLIST && verb != CUBEBUS__VERB__CREATE)
		schema_free_at(*cfg, t->path);

	/* the edit as a document merged into the tree */
	nparent = n;
	if (t->kind == ST_LEAF || t->kind == ST_LEAFLIST || t->kind == ST_LIST || t->kind == ST_CONTAINER)
		nparent = n - 1;
	at = schema_edit_doc(b, service, name, segs, nparent, &doc);
	if (t->kind == ST_LEAF) {
		json_object_object_add(at, sn->name, v);
	} else if (t->kind == ST_LEAFLIST) {
		struct json_object *a = v;

		if (!json_object_is_type(v, json_type_array)) {
			a = json_object_new_array();
			json_object_array_add(a, v);
		}
		json_object_object_add(at, sn->name, a);
	} else if (t->kind == ST_LIST) {
		json_object_object_add(at, sn->name, entries);
	} else if (t->kind == ST_CONTAINER) {
		json_object_object_add(at, sn->name, json_object_get(body));
	} else {
		json_object_object_foreach(body, k, bv)
		{
			if (!json_object_object_get_ex(at, k, NULL))
				json_object_object_add(at, k, json_object_get(bv));
		}
	}
	r = schema_merge_doc(b, service, cfg, doc, err, errlen);
	json_object_put(doc);
	if (r < 0)
		return r;
	/* mandatory leaves of what the edit touched */
	edited = NULL;
	if (t->kind == ST_CUBE)
		edited = *cfg;
	else if (t->kind == ST_ENTRY || t->kind == ST_CONTAINER)
		edited = schema_find(*cfg, t->path);
	else if (prel[0])
		edited = schema_find(*cfg, prel);
	else
		edited = *cfg;
	return edited ? schema_check_mandatory(edited, err, errlen) : 0;
}

/* ---- edits in time proportional to what they touch -------------------------------- */

/* The off-path children of src (no lists, containers the same way) into dst. */
static void schema_prune_off(const struct lyd_node *src, struct lyd_node *dst, int ports)
{
	struct lyd_node *ch;

	LY_LIST_FOR(lyd_child_no_keys(src), ch)
	{
		struct lyd_node *d = NULL;

		if (ch->schema->nodetype == LYS_LIST) {
			/* the cube's ports ride along whole: port references are
			 * checked against them (schema_port_ref) */
			if (ports && !strcmp(ch->schema->name, "ports"))
				lyd_dup_single(ch, (struct lyd_node_inner *)dst, LYD_DUP_RECURSIVE | LYD_DUP_WITH_FLAGS,
					       NULL);
			continue;
		}
		if (ch->schema->nodetype == LYS_CONTAINER) {
			if (lyd_dup_single(ch, (struct lyd_node_inner *)dst, LYD_DUP_WITH_FLAGS, &d) == LY_SUCCESS)
				schema_prune_off(ch, d, 0);
			continue;
		}
		lyd_dup_single(ch, (struct lyd_node_inner *)dst, LYD_DUP_WITH_FLAGS, NULL);
	}
}

/* What an edit at segs[0..n) below src can touch, into dst (src's copy). */
static int schema_prune_on(const struct lysc_node *sn, const struct lyd_node *src, struct lyd_node *dst, char **segs,
			   int n)
{
	const struct lysc_node *c = schema_child(sn, segs[0]);
	struct lyd_node *m = NULL, *d = NULL;
	char pred[1024];
	int nk;

	if (!c || (c->flags & LYS_CONFIG_R) || !(c->nodetype & (LYS_CONTAINER | LYS_LIST | LYS_LEAF | LYS_LEAFLIST)))
		return -1;
	if ((c->nodetype & (LYS_LEAF | LYS_LEAFLIST)) && n != 1)
		return -1;
	{
		/* src's other children: as off the path */
		struct lyd_node *ch;

		LY_LIST_FOR(lyd_child_no_keys(src), ch)
		{
			if (ch->schema == c)
				continue;
			if (ch->schema->nodetype == LYS_LIST) {
				if (!src->parent && !strcmp(ch->schema->name, "ports"))
					lyd_dup_single(ch, (struct lyd_node_inner *)dst,
						       LYD_DUP_RECURSIVE | LYD_DUP_WITH_FLAGS, NULL);
				continue;
			}
			if (ch->schema->nodetype == LYS_CONTAINER) {
				if (lyd_dup_single(ch, (struct lyd_node_inner *)dst, LYD_DUP_WITH_FLAGS, &d) ==
				    LY_SUCCESS)
					schema_prune_off(ch, d, 0);
				continue;
			}
			lyd_dup_single(ch, (struct lyd_node_inner *)dst, LYD_DUP_WITH_FLAGS, NULL);
		}
	}
	if (c->nodetype & (LYS_LEAF | LYS_LEAFLIST)) {
		struct lyd_node *ch;

		LY_LIST_FOR(lyd_child_no_keys(src), ch)
		if (ch->schema == c)
			lyd_dup_single(ch, (struct lyd_node_inner *)dst, LYD_DUP_WITH_FLAGS, NULL);
		return 0;
	}
	if (c->nodetype & LYS_CONTAINER) {
		if (lyd_find_sibling_val(lyd_child(src), c, NULL, 0, &m) != LY_SUCCESS)
			return 0;
		if (n == 1)
			return lyd_dup_single(m, (struct lyd_node_inner *)dst, LYD_DUP_RECURSIVE | LYD_DUP_WITH_FLAGS,
					      NULL) == LY_SUCCESS
				       ? 0
				       : -1;
		if (lyd_dup_single(m, (struct lyd_node_inner *)dst, LYD_DUP_WITH_FLAGS, &d) != LY_SUCCESS)
			return -1;
		return schema_prune_on(c, m, d, segs + 1, n - 1);
	}
	/* a list: an entry, named by its keys (a whole list is not a part) */
	nk = schema_nkeys(c);
	if (n - 1 < nk || nk > 8)
		return -1;
	snprintf(pred, sizeof(pred), "%s", c->name);
	for (int k = 0; k < nk; k++) {
		char canon[256];

		if (schema_canon(schema_key(c, k), segs[1 + k], canon, sizeof(canon)) < 0 ||
		    schema_pred_cat(pred, sizeof(pred), schema_key(c, k)->name, canon) < 0)
			return -1;
	}
	if (lyd_find_path(src, pred, 0, &m) != LY_SUCCESS)
		return 0; /* a new entry */
	if (n - 1 == nk)
		return lyd_dup_single(m, (struct lyd_node_inner *)dst, LYD_DUP_RECURSIVE | LYD_DUP_WITH_FLAGS, NULL) ==
				       LY_SUCCESS
			       ? 0
			       : -1;
	if (lyd_dup_single(m, (struct lyd_node_inner *)dst, LYD_DUP_WITH_FLAGS, &d) != LY_SUCCESS)
		return -1;
	return schema_prune_on(c, m, d, segs + 1 + nk, n - 1 - nk);
}

struct lyd_node *schema_prune(struct broker *b, const char *service, const struct lyd_node *cfg, char **segs, int n)
{
	const struct lysc_node *top = schema_top(b, service);
	struct lyd_node *part = NULL;

	if (!top || n <= 0 || !cfg || lyd_dup_single(cfg, NULL, LYD_DUP_WITH_FLAGS, &part) != LY_SUCCESS)
		return NULL;
	if (schema_prune_on(top, cfg, part, segs, n) < 0) {
		lyd_free_all(part);
		return NULL;
	}
	return part;
}

int schema_room(struct broker *b, const char *service, const struct lyd_node *cfg, const struct schema_target *t,
		char *err, size_t errlen)
{
	const struct lysc_node *sn = t->snode;
	const struct lyd_node *parent = cfg;
	struct lyd_node *m = NULL, *ch;
	uint32_t max, count = 0;
	char prel[2048];

	if (t->kind != ST_ENTRY || !(max = ((const struct lysc_node_list *)sn)->max))
		return 0;
	if (lyd_find_path(cfg, t->path, 0, &m) == LY_SUCCESS)
		return 0; /* not a new entry */
	/* the parent: the path without its last node */
	snprintf(prel, sizeof(prel), "%s", t->path);
	{
		char *p = prel + strlen(prel);
		int depth = 0;

		while (p > prel) { /* the last '/' outside a predicate */
			p--;
			if (*p == ']')
				depth++;
			else if (*p == '[')
				depth--;
			else if (*p == '/' && !depth)
				break;
		}
		*p = 0;
	}
	if (prel[0] && lyd_find_path(cfg, prel, 0, (struct lyd_node **)&parent) != LY_SUCCESS)
		return 0;
	LY_LIST_FOR(lyd_child(parent), ch)
	if (ch->schema == sn)
		count++;
	if (count + 1 > max) {
		char lw[1024];

		snprintf(lw, sizeof(lw), "%s", t->where);
		for (int k = 0; k < t->nkeys; k++) { /* the list's name, without the new entry's keys */
			char *sp = strrchr(lw, ' ');

			if (sp)
				*sp = 0;
		}
		snprintf(err, errlen, "%s: holds at most %u entries", lw, max);
		return -ENOSPC;
	}
	return 0;
}

int schema_diff(struct broker *b, const struct lyd_node *old, const struct lyd_node *new, struct lyd_node **diff,
		char **text, char *err, size_t errlen)
{
	*diff = NULL;
	*text = NULL;
	/* defaults (and the containers libyang adds for them) are no change */
	if (lyd_diff_siblings(old, new, 0, diff) != LY_SUCCESS)
		return schema_ly_error(b->yang, "cannot compute the change", err, errlen);
	if (*diff && lyd_print_mem(text, *diff, LYD_JSON, LYD_PRINT_WITHSIBLINGS | LYD_PRINT_SHRINK) != LY_SUCCESS) {
		snprintf(err, errlen, "cannot print the change");
		lyd_free_all(*diff);
		*diff = NULL;
		return -ENOMEM;
	}
	return 0;
}

/* After diff went into cfg: what it created replaces the default instance
 * libyang had there (a diff made without defaults creates a container or leaf
 * beside it; lyd_diff_apply's caution), and the flags of what it created and
 * of their parents are set again. */
static void schema_dflt_after(struct lyd_node *cfg, const struct lyd_node *diff)
{
	const struct lyd_node *d;

	LY_LIST_FOR(diff, d)
	{
		struct lyd_meta *op = lyd_find_meta(d->meta, NULL, "yang:operation");
		const char *v = op ? lyd_get_meta_value(op) : "none";
		struct lyd_node *live = NULL, *parent = NULL, *first = NULL, *m, *next;
		char *path;

		if (!d->schema)
			continue;
		if (!strcmp(v, "none")) {
			schema_dflt_after(cfg, lyd_child_no_keys(d));
			continue;
		}
		if (!strcmp(v, "delete"))
			continue;
		if (!lyd_parent(d) || !(path = lyd_path(lyd_parent(d), LYD_PATH_STD, NULL, 0)))
			continue;
		if (lyd_find_path(cfg, path, 0, &parent) != LY_SUCCESS)
			parent = NULL;
		free(path);
		if (!parent)
			continue;
		if (d->schema->nodetype & (LYS_CONTAINER | LYS_LEAF)) {
			/* one instance: the given one stays */
			if (lyd_find_sibling_val(lyd_child(parent), d->schema, NULL, 0, &first) != LY_SUCCESS)
				continue;
			for (m = first; m && m->schema == d->schema; m = m->next)
				if (!schema_dflt_fix(m) && !live)
					live = m;
			if (!live)
				live = first;
			for (m = first; m && m->schema == d->schema; m = next) {
				next = m->next;
				if (m != live && (m->flags & LYD_DEFAULT))
					lyd_free_tree(m);
			}
		} else {
			path = lyd_path(d, LYD_PATH_STD, NULL, 0);
			if (!path || lyd_find_path(cfg, path, 0, &live) != LY_SUCCESS)
				live = NULL;
			free(path);
		}
		if (live && !schema_dflt_fix(live))
			for (struct lyd_node *p = lyd_parent(live); p; p = lyd_parent(p))
				p->flags &= ~LYD_DEFAULT;
	}
}

int schema_splice(struct broker *b, struct lyd_node **cfg, const struct lyd_node *diff, int reverse, char *err,
		  size_t errlen)
{
	struct lyd_node *rev = NULL;
	LY_ERR r;

	if (!diff)
		return 0;
	if (reverse) {
		if (lyd_diff_reverse_all(diff, &rev) != LY_SUCCESS)
			return schema_ly_error(b->yang, "cannot reverse the change", err, errlen);
		diff = rev;
	}
	r = lyd_diff_apply_all(cfg, diff);
	if (r == LY_SUCCESS)
		schema_dflt_after(*cfg, diff);
	lyd_free_all(rev);
	if (r != LY_SUCCESS)
		return schema_ly_error(b->yang, "the change does not apply", err, errlen);
	return 0;
}

int schema_parse_diff(struct broker *b, const char *service, const char *cube, const char *text, struct lyd_node **diff,
		      char *err, size_t errlen)
{
	const char *name;

	*diff = NULL;
	if (lyd_parse_data_mem(b->yang, text, LYD_JSON, LYD_PARSE_ONLY | LYD_PARSE_STRICT, 0, diff) != LY_SUCCESS)
		return schema_ly_error(b->yang, "the change does not parse", err, errlen);
	/* one entry: the cube's own */
	if (!*diff || (*diff)->next || !(*diff)->schema || strcmp((*diff)->schema->module->name, service) ||
	    !(name = schema_cfg_get(*diff, "name")) || (cube && strcmp(name, cube))) {
		snprintf(err, errlen, "the change is not one of cube %s", cube ? cube : "?");
		lyd_free_all(*diff);
		*diff = NULL;
		return -EINVAL;
	}
	return 0;
}

int schema_apply_diff(struct broker *b, struct lyd_node **cfg, const char *text, char *err, size_t errlen)
{
	struct lyd_node *d = NULL;
	int r;

	if (lyd_parse_data_mem(b->yang, text, LYD_JSON, LYD_PARSE_ONLY | LYD_PARSE_STRICT, 0, &d) != LY_SUCCESS)
		return schema_ly_error(b->yang, "the change does not parse", err, errlen);
	r = schema_splice(b, cfg, d, 0, err, errlen);
	lyd_free_all(d);
	return r;
}

/* The argument of extension base:default-entries on a node, or NULL. */
static const char *schema_default_entries(const struct lysc_node *sn)
{
	LY_ARRAY_COUNT_TYPE i;

	LY_ARRAY_FOR(sn->exts, i)
	{
		const struct lysc_ext_instance *e = &sn->exts[i];

		if (e->def && e->def->name && !strcmp(e->def->name, "default-entries") && e->def->module &&
		    !strcmp(e->def->module->name, "cubebus-base"))
			return e->argument;
	}
	return NULL;
}

void schema_add_default_entries(struct broker *b, const char *service, struct json_object *cfg)
{
	const struct lysc_node *top = schema_top(b, service), *c;

	if (!top)
		return;
	LY_LIST_FOR(lysc_node_child(top), c)
	{
		const char *keys = c->nodetype == LYS_LIST ? schema_default_entries(c) : NULL;
		struct json_object *arr = NULL;
		char buf[256], *tok, *save = NULL;

		if (!keys || schema_nkeys(c) != 1 || strlen(keys) >= sizeof(buf))
			continue;
		if (!json_object_object_get_ex(cfg, c->name, &arr)) {
			arr = json_object_new_array();
			json_object_object_add(cfg, c->name, arr);
		}
		if (!json_object_is_type(arr, json_type_array))
			continue; /* validation says what is wrong */
		strcpy(buf, keys);
		for (tok = strtok_r(buf, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
			char *vals[1] = { tok };
			struct json_object *e;

			if (schema_find_entry(c, arr, vals, 1) >= 0)
				continue;
			e = json_object_new_object();
			json_object_object_add(e, schema_key(c, 0)->name, json_object_new_string(tok));
			json_object_array_add(arr, e);
		}
	}
}

/* A description on one line: YANG's continuation indents collapsed. */
static struct json_object *schema_dsc(const char *dsc)
{
	char buf[1024];
	size_t n = 0;

	for (const char *p = dsc; *p && n + 1 < sizeof(buf); p++) {
		if (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r') {
			if (n && buf[n - 1] != ' ')
				buf[n++] = ' ';
			continue;
		}
		buf[n++] = *p;
	}
	while (n && buf[n - 1] == ' ')
		n--;
	buf[n] = 0;
	return json_object_new_string(buf);
}

/* "key, mandatory, read-only": what else a user must know of a node. */
static void schema_flags_text(const struct lysc_node *c, char *buf, size_t size)
{
	buf[0] = 0;
	if (c->flags & LYS_KEY)
		schema_cat(buf, size, "key");
	if ((c->flags & LYS_MAND_TRUE) && !(c->flags & LYS_KEY))
		schema_cat(buf, size, "%smandatory", buf[0] ? ", " : "");
	if (c->flags & LYS_CONFIG_R)
		schema_cat(buf, size, "%sread-only", buf[0] ? ", " : "");
	if (c->nodetype == LYS_LEAF && ((const struct lysc_node_leaf *)c)->units)
		schema_cat(buf, size, "%sin %s", buf[0] ? ", " : "", ((const struct lysc_node_leaf *)c)->units);
	for (int k = 0; c->nodetype == LYS_LIST && k < schema_nkeys(c); k++)
		schema_cat(buf, size, "%s%s", k ? " " : buf[0] ? ", key: " : "key: ", schema_key(c, k)->name);
}

/* One line of a help table: a child, an input or an output of an action. */
static struct json_object *schema_help_row(const struct lysc_node *c)
{
	struct json_object *e = json_object_new_object();
	const struct lysc_type *t = schema_leaf_type(c);
	char buf[512];

	/* every row has every column, in one order: the rows are a table */
	json_object_object_add(e, "name", json_object_new_string(c->name));
	json_object_object_add(e, "kind", json_object_new_string(schema_kind_name(c)));
	buf[0] = 0;
	if (t)
		schema_type_says(c->module->ctx, t, buf, sizeof(buf));
	json_object_object_add(e, "type", json_object_new_string(buf));
	json_object_object_add(
		e, "default",
		json_object_new_string(
			c->nodetype == LYS_LEAF && ((const struct lysc_node_leaf *)c)->dflt
				? lyd_value_get_canonical(c->module->ctx, ((const struct lysc_node_leaf *)c)->dflt)
				: ""));
	schema_flags_text(c, buf, sizeof(buf));
	json_object_object_add(e, "notes", json_object_new_string(buf));
	json_object_object_add(e, "description", c->dsc ? schema_dsc(c->dsc) : json_object_new_string(""));
	return e;
}

/* The rows of parent's children (options: LYS_GETNEXT_OUTPUT for an action's output). */
static struct json_object *schema_help_rows(const struct lysc_node *parent, uint32_t options)
{
	struct json_object *a = json_object_new_array();
	const struct lysc_node *c = NULL;

	while ((c = lys_getnext(c, parent, NULL, options)))
		json_object_array_add(a, schema_help_row(c));
	return a;
}

/*
 * Help for the node at path, from the compiled model: what it is, its
 * description, for a leaf its type in words, allowed values, range,
 * default, units and whether it is a key, mandatory or state; for an
 * action its input and output; for a container or list its children.
 */
struct json_object *schema_help(struct broker *b, const char *service, char **segs, int n, char *err, size_t errlen)
{
	const struct lysc_node *sn = schema_top(b, service), *c;
	const struct lysc_type *t;
	struct json_object *o;
	int keys_left = 0;
	char buf[512];

	if (!sn) {
		snprintf(err, errlen, "unknown service %s", service);
		return NULL;
	}
	for (int i = 0; i < n; i++) {
		c = schema_child(sn, segs[i]);
		if (!c && sn->nodetype == LYS_LIST && keys_left > 0) {
			keys_left--; /* a key value of the list we are in */
			continue;
		}
		if (!c) {
			snprintf(err, errlen, "%s has no '%s'", i ? segs[i - 1] : service, segs[i]);
			return NULL;
		}
		if ((sn->nodetype & (LYS_LEAF | LYS_LEAFLIST | LYS_ACTION)) && i) {
			snprintf(err, errlen, "%s is a %s: nothing below it", sn->name, schema_kind_name(sn));
			return NULL;
		}
		sn = c;
		keys_left = sn->nodetype == LYS_LIST ? schema_nkeys(sn) : 0;
	}
	o = json_object_new_object();
	json_object_object_add(o, "node", json_object_new_string(sn->name));
	json_object_object_add(o, "kind", json_object_new_string(schema_kind_name(sn)));
	if (sn->dsc)
		json_object_object_add(o, "description", schema_dsc(sn->dsc));
	else if (!n && sn->module->dsc)
		json_object_object_add(o, "description", schema_dsc(sn->module->dsc));
	if (!n) {
		snprintf(buf, sizeof(buf), "cubectl %s add NAME [key=value...]", service);
		json_object_object_add(o, "usage", json_object_new_string(buf));
	}
	t = schema_leaf_type(sn);
	if (t) {
		schema_type_says(sn->module->ctx, t, buf, sizeof(buf));
		json_object_object_add(o, "type", json_object_new_string(buf));
		if (t->basetype == LY_TYPE_ENUM) {
			const struct lysc_type_enum *e = (const struct lysc_type_enum *)t;
			struct json_object *vals = json_object_new_array();

			for (LY_ARRAY_COUNT_TYPE i = 0; i < LY_ARRAY_COUNT(e->enums); i++)
				json_object_array_add(vals, json_object_new_string(e->enums[i].name));
			json_object_object_add(o, "values", vals);
		}
		if (((t->basetype >= LY_TYPE_UINT8 && t->basetype <= LY_TYPE_UINT64) ||
		     (t->basetype >= LY_TYPE_INT8 && t->basetype <= LY_TYPE_INT64)) &&
		    ((const struct lysc_type_num *)t)->range) {
			schema_range_text(((const struct lysc_type_num *)t)->range, t->basetype >= LY_TYPE_INT8, buf,
					  sizeof(buf));
			json_object_object_add(o, "range", json_object_new_string(buf));
		}
		if (t->basetype == LY_TYPE_STRING && ((const struct lysc_type_str *)t)->length) {
			schema_range_text(((const struct lysc_type_str *)t)->length, 0, buf, sizeof(buf));
			json_object_object_add(o, "length", json_object_new_string(buf));
		}
		if (sn->nodetype == LYS_LEAF && ((const struct lysc_node_leaf *)sn)->dflt)
			json_object_object_add(o, "default",
					       json_object_new_string(lyd_value_get_canonical(
						       sn->module->ctx, ((const struct lysc_node_leaf *)sn)->dflt)));
		if (sn->nodetype == LYS_LEAF && ((const struct lysc_node_leaf *)sn)->units)
			json_object_object_add(o, "units",
					       json_object_new_string(((const struct lysc_node_leaf *)sn)->units));
		json_object_object_add(o, "mandatory", json_object_new_boolean(!!(sn->flags & LYS_MAND_TRUE)));
		if (sn->flags & LYS_KEY)
			json_object_object_add(o, "key", json_object_new_boolean(1));
	}
	if (sn->nodetype != LYS_ACTION)
		json_object_object_add(o, "config", json_object_new_boolean(!(sn->flags & LYS_CONFIG_R)));
	if (sn->nodetype == LYS_LIST) {
		struct json_object *keys = json_object_new_array();

		for (int k = 0; k < schema_nkeys(sn); k++)
			json_object_array_add(keys, json_object_new_string(schema_key(sn, k)->name));
		json_object_object_add(o, "keys", keys);
	}
	if (sn->nodetype == LYS_ACTION) {
		json_object_object_add(o, "input", schema_help_rows(sn, 0));
		json_object_object_add(o, "output", schema_help_rows(sn, LYS_GETNEXT_OUTPUT));
	} else if (sn->nodetype & (LYS_CONTAINER | LYS_LIST)) {
		json_object_object_add(o, "children", schema_help_rows(sn, 0));
	}
	return o;
}

/* ---- the service reference (docs/SERVICES.md) ------------------------------- */

/* A table cell: what would end the cell or the row is escaped. */
static void schema_doc_cell(FILE *out, const char *text)
{
	fputs(" ", out);
	for (const char *p = text; *p; p++) {
		if (*p == '|')
			fputs("\\|", out);
		else
			fputc(*p, out);
	}
	fputs(" |", out);
}

/* The rows of parent's children (and of an action's output, options). */
static void schema_doc_node(const struct lysc_node *sn, uint32_t options, const char *prefix, FILE *out)
{
	const struct lysc_node *c = NULL;
	char path[512];

	while ((c = lys_getnext(c, sn, NULL, options))) {
		struct json_object *row = schema_help_row(c), *v;

		snprintf(path, sizeof(path), "%s/%s%s", prefix, (options & LYS_GETNEXT_OUTPUT) ? "output/" : "",
			 c->name);
		fprintf(out, "| `%s` |", path);
		for (const char *const *f =
			     (const char *const[]){ "kind", "type", "default", "notes", "description", NULL };
		     *f; f++)
			schema_doc_cell(out, json_object_object_get_ex(row, *f, &v) ? json_object_get_string(v) : "");
		fputc('\n', out);
		json_object_put(row);
		if (c->nodetype & (LYS_CONTAINER | LYS_LIST))
			schema_doc_node(c, 0, path, out);
		if (c->nodetype == LYS_ACTION) {
			schema_doc_node(c, 0, path, out);
			schema_doc_node(c, LYS_GETNEXT_OUTPUT, path, out);
		}
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
		fprintf(out, "| path | kind | type | default | notes | description |\n|---|---|---|---|---|---|\n");
		schema_doc_node(top, 0, "", out);
	}
	return 0;
}

/* ---- edits below the cube, in time proportional to what they touch ---------- */

/*
 * Whether an edit below a cube of this service can be checked on the part
 * of the configuration it touches: nothing in the model (must, when,
 * leafref, instance-identifier, unique, min-elements) ties a node to others
 * elsewhere in the tree. Then libyang validating the part is validating the
 * whole, since the rest was valid and did not change. max-elements counts the
 * whole list and is checked by schema_room().
 */
static int schema_type_refers(const struct lysc_type *t)
{
	if (!t)
		return 0;
	if (t->basetype == LY_TYPE_LEAFREF || t->basetype == LY_TYPE_INST)
		return 1;
	if (t->basetype == LY_TYPE_UNION) {
		const struct lysc_type_union *u = (const struct lysc_type_union *)t;
		LY_ARRAY_COUNT_TYPE i;

		LY_ARRAY_FOR(u->types, i)
		if (schema_type_refers(u->types[i]))
			return 1;
	}
	return 0;
}

/*
 * Whether sn is a port reference: a leafref to the name of one of the cube's
 * own ports ("../../ports/name" from a leaf of the cube's list entry, one
 * ".." more per level below). A part carries the ports list whole
 * (schema_prune), so such a leaf is checked within the part; the ports list
 * itself only changes by a whole-path change, which checks every reference.
 */
static int schema_port_ref(const struct lysc_node *sn)
{
	const struct lysc_type *t = schema_leaf_type(sn);
	const struct lysc_node *up = sn;
	const char *x;

	if (!t || t->basetype != LY_TYPE_LEAFREF)
		return 0;
	x = lyxp_get_expr(((const struct lysc_type_leafref *)t)->path);
	while (x && !strncmp(x, "../", 3) && up) {
		up = lysc_data_parent(up);
		x += 3;
	}
	return x && up && !lysc_data_parent(up) && up->nodetype == LYS_LIST && !strcmp(x, "ports/name");
}

static int schema_node_local(const struct lysc_node *sn)
{
	const struct lysc_node *c;

	if (lysc_node_musts(sn) || lysc_node_when(sn))
		return 0;
	if (sn->nodetype & (LYS_LEAF | LYS_LEAFLIST) && schema_type_refers(schema_leaf_type(sn)) &&
	    !schema_port_ref(sn))
		return 0;
	if (sn->nodetype == LYS_LIST &&
	    (((const struct lysc_node_list *)sn)->uniques || ((const struct lysc_node_list *)sn)->min))
		return 0;
	if (sn->nodetype == LYS_LEAFLIST && ((const struct lysc_node_leaflist *)sn)->min)
		return 0;
	LY_LIST_FOR(lysc_node_child(sn), c)
	{
		if (!(c->flags & LYS_CONFIG_R) && !schema_node_local(c))
			return 0;
	}
	return 1;
}

static int schema_refs_below(const struct lysc_node *sn)
{
	const struct lysc_node *c;

	if (sn->nodetype == LYS_LEAF && schema_port_ref(sn))
		return 1;
	LY_LIST_FOR(lysc_node_child(sn), c)
	if (!(c->flags & LYS_CONFIG_R) && schema_refs_below(c))
		return 1;
	return 0;
}

static int schema_has_port_refs(struct broker *b, const char *service)
{
	const struct lysc_node *top = schema_top(b, service);

	return top && schema_refs_below(top);
}

int schema_incremental(struct broker *b, const char *service)
{
	const struct lysc_node *top = schema_top(b, service);

	return top && schema_node_local(top);
}
