/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cubebus-gen - generates a service's typed configuration code from its YANG
 * model (DESIGN §4.2; the run-time half is cube-services/lib/cubecfg.h).
 *
 *	cubebus-gen -p SEARCHDIR MODEL.yang OUTDIR
 *
 * writes OUTDIR/<module>_cfg.h, OUTDIR/<module>_cfg.c and OUTDIR/<module>_act.c.
 * The model's top-level list is the cube; every list or container under it
 * that holds configuration of the service's own module (a base node such as
 * "ports" only when the service augments it with leaves) gets a struct, a
 * decoder, handler prototypes and an entry in the dispatch table. The base
 * nodes themselves (name, type, loglevel, the ports' peers, ...) are
 * libcube's.
 *
 * Operations (cube-services/lib/cubeop.h): every list or container with
 * config false leaves of the service's own, and every base list the service
 * augments with leaves, gets a state struct and an emitter; every action an input and an output struct, an input decoder, an
 * output encoder, a handler prototype and an entry in the action table,
 * which is the whole of <module>_act.c (a service links it by naming it).
 *
 * A node the generator cannot map (a type it does not know, a choice, a
 * leaf-list of configuration) stops the build with an error naming the node.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <libyang/libyang.h>
#include <libyang/plugins_types.h>

enum gen_type {
	T_U8,
	T_U16,
	T_U32,
	T_U64,
	T_I8,
	T_I16,
	T_I32,
	T_I64,
	T_BOOL,
	T_EMPTY,
	T_ENUM,
	T_STRING,
	T_IPV4,	   /* inet:ipv4-address: struct in_addr */
	T_IPV6,	   /* inet:ipv6-address: struct in6_addr */
	T_IP,	   /* any other address or prefix: struct cb_ip */
	T_MAC,	   /* yang:mac-address: uint8_t[6] */
	T_UNKNOWN, /* refused */
};

static const char *gen_ctype[] = {
	[T_U8] = "uint8_t",	      [T_U16] = "uint16_t",	   [T_U32] = "uint32_t",
	[T_U64] = "uint64_t",	      [T_I8] = "int8_t",	   [T_I16] = "int16_t",
	[T_I32] = "int32_t",	      [T_I64] = "int64_t",	   [T_BOOL] = "bool",
	[T_EMPTY] = "bool",	      [T_STRING] = "const char *", [T_IPV4] = "struct in_addr",
	[T_IPV6] = "struct in6_addr", [T_IP] = "struct cb_ip",
};

static const char *module_name; /* the service's module */
static FILE *H, *C, *A;		/* <svc>_cfg.h, <svc>_cfg.c, <svc>_act.c */
static int failed;

static void gen_error(const struct lysc_node *sn, const char *fmt, ...)
{
	char path[512];
	va_list ap;

	lysc_path(sn, LYSC_PATH_LOG, path, sizeof(path));
	fprintf(stderr, "cubebus-gen: %s: %s: ", module_name, path);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	failed = 1;
}

/* "aging-time" -> "aging_time"; a C keyword gets a '_' ("default" -> "default_"). */
static void gen_ident(char *out, size_t size, const char *name)
{
	static const char *const keywords[] = { "auto",	    "bool",    "break",	 "case",     "char",	 "const",
						"continue", "default", "do",	 "double",   "else",	 "enum",
						"extern",   "false",   "float",	 "for",	     "goto",	 "if",
						"inline",   "int",     "long",	 "register", "restrict", "return",
						"short",    "signed",  "sizeof", "static",   "struct",	 "switch",
						"true",	    "typedef", "union",	 "unsigned", "void",	 "volatile",
						"while" };
	size_t i;

	for (i = 0; name[i] && i + 1 < size; i++)
		out[i] = isalnum((unsigned char)name[i]) ? name[i] : '_';
	out[i] = '\0';
	for (size_t k = 0; k < sizeof(keywords) / sizeof(keywords[0]); k++) {
		if (!strcmp(out, keywords[k]) && i + 2 < size) {
			out[i] = '_';
			out[i + 1] = '\0';
			break;
		}
	}
}

static void gen_upper(char *s)
{
	for (; *s; s++)
		*s = toupper((unsigned char)*s);
}

/*
 * True when a typedef chain of the parsed type names tname of module mname
 * (resolving prefixes through the imports of the module the type is used
 * in). Only the top of the chain is followed: that is where ietf-yang-types'
 * mac-address is, the one type we need that has no libyang plugin.
 */
static int gen_type_is(const struct lysp_type *pt, const char *mname, const char *tname)
{
	const char *colon;
	const struct lysp_module *pmod;

	if (!pt || !pt->name)
		return 0;
	pmod = pt->pmod;
	colon = strchr(pt->name, ':');
	if (!colon)
		return pmod && !strcmp(pmod->mod->name, mname) && !strcmp(pt->name, tname);
	if (strcmp(colon + 1, tname))
		return 0;
	if (!pmod)
		return 0;
	for (LY_ARRAY_COUNT_TYPE i = 0; i < LY_ARRAY_COUNT(pmod->imports); i++) {
		const struct lysp_import *im = &pmod->imports[i];

		if (!strncmp(im->prefix, pt->name, colon - pt->name) && !im->prefix[colon - pt->name])
			return !strcmp(im->name, mname);
	}
	return 0;
}

static enum gen_type gen_plugin_type(const struct lysc_type *t)
{
	const char *id = t->plugin ? t->plugin->id : "";

	if (strstr(id, "ipv4-address"))
		return T_IPV4;
	if (strstr(id, "ipv6-address"))
		return T_IPV6;
	if (strstr(id, "-prefix"))
		return T_IP;
	return T_UNKNOWN;
}

/*
 * Maps one leaf's type. Interface prefixes (an address with its network's
 * length, a string in the models so that the host part is kept) are
 * recognised by the cubebus typedef names ending in "interface-prefix".
 */
static enum gen_type gen_leaf_type(const struct lysc_node_leaf *leaf)
{
	const struct lysc_type *t = leaf->type;
	const struct lysp_node_leaf *pl = leaf->priv;
	const struct lysp_type *pt = pl ? &pl->type : NULL;

	if (t->basetype == LY_TYPE_LEAFREF)
		t = ((const struct lysc_type_leafref *)t)->realtype;
	switch (t->basetype) {
	case LY_TYPE_UINT8: return T_U8;
	case LY_TYPE_UINT16: return T_U16;
	case LY_TYPE_UINT32: return T_U32;
	case LY_TYPE_UINT64: return T_U64;
	case LY_TYPE_INT8: return T_I8;
	case LY_TYPE_INT16: return T_I16;
	case LY_TYPE_INT32: return T_I32;
	case LY_TYPE_INT64: return T_I64;
	case LY_TYPE_BOOL: return T_BOOL;
	case LY_TYPE_EMPTY: return T_EMPTY;
	case LY_TYPE_ENUM: return T_ENUM;
	case LY_TYPE_STRING:
		if (gen_type_is(pt, "ietf-yang-types", "mac-address"))
			return T_MAC;
		if (pt && pt->name && strstr(pt->name, "interface-prefix"))
			return T_IP;
		if (gen_plugin_type(t) != T_UNKNOWN)
			return gen_plugin_type(t);
		return T_STRING;
	case LY_TYPE_UNION: {
		const struct lysc_type_union *u = (const void *)t;
		int ip = 1;

		/* a union of addresses and prefixes, inet's or ours */
		for (LY_ARRAY_COUNT_TYPE i = 0; i < LY_ARRAY_COUNT(u->types); i++) {
			const struct lysp_type *m = pt && i < LY_ARRAY_COUNT(pt->types) ? &pt->types[i] : NULL;

			if (gen_plugin_type(u->types[i]) == T_UNKNOWN &&
			    !(m && m->name && strstr(m->name, "interface-prefix")))
				ip = 0;
		}
		if (ip)
			return T_IP;
		if (pt && pt->name && (strstr(pt->name, "ip-address") || strstr(pt->name, "ip-prefix")))
			return T_IP;
		return T_UNKNOWN;
	}
	default: return T_UNKNOWN;
	}
}

static const struct lysp_module *base_pmod; /* cubebus-base, parsed */

/*
 * Whether a node is the service's own. Nodes a `uses` instantiates belong to
 * the module that uses the grouping, so the base nodes (name, type, ports,
 * peer, ...) are told apart by their parsed node: it lies in a grouping of
 * cubebus-base. Leaves the service augments into a base list are its own.
 */
static int gen_own(const struct lysc_node *sn)
{
	const struct lysp_node *pn = sn->priv;

	if (strcmp(sn->module->name, module_name))
		return 0;
	if (!base_pmod)
		return 1;
	for (; pn; pn = pn->parent) {
		if (pn->nodetype != LYS_GROUPING)
			continue;
		for (const struct lysp_node_grp *g = base_pmod->groupings; g; g = (const void *)g->next) {
			if ((const void *)g == (const void *)pn)
				return 0;
		}
	}
	return 1;
}

/* The C name of a node: the schema path below the cube's list, '_' joined. */
static void gen_cname(const struct lysc_node *sn, char *out, size_t size)
{
	const struct lysc_node *chain[16];
	int n = 0;
	size_t len;

	for (; sn && sn->parent && n < 16; sn = sn->parent)
		chain[n++] = sn;
	/* sn is now the cube's list: its name is the service's */
	gen_ident(out, size, module_name);
	if (!n && strlen(out) + 6 < size)
		strcat(out, "_cube");
	while (n-- > 0) {
		len = strlen(out);
		if (len + 2 >= size)
			break;
		out[len++] = '_';
		gen_ident(out + len, size - len, chain[n]->name);
	}
}

/* Config leaves of a node's own, in model order; keys included. */
static int gen_field_leaf(const struct lysc_node *c)
{
	return c->nodetype == LYS_LEAF && (c->flags & LYS_CONFIG_W) && (gen_own(c) || (c->flags & LYS_KEY));
}

/* A node gets handlers when it has configuration of the service's own. */
static int gen_wants_handlers(const struct lysc_node *sn)
{
	const struct lysc_node *c;

	if (!(sn->flags & LYS_CONFIG_W))
		return 0;
	if (!sn->parent) /* the cube itself: only for own leaves */
		goto leaves;
	if (sn->nodetype == LYS_LIST && gen_own(sn))
		return 1;
leaves:
	LY_LIST_FOR(lysc_node_child(sn), c)
	{
		if (c->nodetype == LYS_LEAF && (c->flags & LYS_CONFIG_W) && gen_own(c) && !(c->flags & LYS_KEY))
			return 1;
	}
	return 0;
}

static void gen_enum(const struct lysc_node_leaf *leaf, const char *cname)
{
	const struct lysc_type *t = leaf->type;
	const struct lysc_type_enum *e;
	char up[256], item[128];

	if (t->basetype == LY_TYPE_LEAFREF)
		t = ((const struct lysc_type_leafref *)t)->realtype;
	e = (const void *)t;
	fprintf(H, "enum %s {\n", cname);
	for (LY_ARRAY_COUNT_TYPE i = 0; i < LY_ARRAY_COUNT(e->enums); i++) {
		snprintf(up, sizeof(up), "%s", cname);
		gen_upper(up);
		gen_ident(item, sizeof(item), e->enums[i].name);
		gen_upper(item);
		fprintf(H, "\t%s_%s = %d,\n", up, item, e->enums[i].value);
	}
	fprintf(H, "};\n");
	/* the names, for logs and emitters */
	fprintf(H, "const char *%s_name(enum %s v);\n\n", cname, cname);
	fprintf(C, "const char *%s_name(enum %s v)\n{\n\tswitch (v) {\n", cname, cname);
	for (LY_ARRAY_COUNT_TYPE i = 0; i < LY_ARRAY_COUNT(e->enums); i++) {
		gen_ident(item, sizeof(item), e->enums[i].name);
		gen_upper(item);
		fprintf(C, "\tcase %s_%s: return \"%s\";\n", up, item, e->enums[i].name);
	}
	fprintf(C, "\t}\n\treturn \"?\";\n}\n\n");
}

/*
 * Presence of optional scalar leaves: an absent integer, boolean or enum
 * decodes as 0, which is also a value. Where the model gives such a leaf no
 * default and does not make it mandatory, decoded structs (configuration,
 * action inputs) get `bool has_<leaf>`, set when the leaf is there, and
 * state structs get `bool no_<leaf>`, which an emitter's caller sets to
 * leave the leaf out (zero: emitted, as every other field).
 */
enum { GEN_PRESENCE_NONE, GEN_PRESENCE_HAS, GEN_PRESENCE_NO };
static int gen_presence;

static int gen_optional_scalar(const struct lysc_node *c)
{
	const struct lysc_node_leaf *leaf = (const void *)c;
	enum gen_type t;

	if (c->nodetype != LYS_LEAF || (c->flags & (LYS_KEY | LYS_MAND_TRUE)) || leaf->dflt)
		return 0;
	t = gen_leaf_type(leaf);
	return t <= T_BOOL || t == T_ENUM;
}

/* One field's declaration; sets *type. */
static void gen_field(const struct lysc_node *c, const char *prefix, const char *owner)
{
	const struct lysc_node_leaf *leaf = (const void *)c;
	enum gen_type t = gen_leaf_type(leaf);
	char id[128], ename[384];

	gen_ident(id, sizeof(id), c->name);
	if (t == T_UNKNOWN) {
		gen_error(c, "the type of this leaf has no C mapping in cubebus-gen");
		return;
	}
	if (t == T_ENUM) {
		snprintf(ename, sizeof(ename), "%s_%s", owner, id);
		fprintf(H, "\tenum %s %s%s;\n", ename, prefix, id);
	} else if (t == T_MAC) {
		fprintf(H, "\tuint8_t %s%s[6];\n", prefix, id);
	} else {
		const char *ct = gen_ctype[t];

		fprintf(H, "\t%s%s%s%s;\n", ct, ct[strlen(ct) - 1] == '*' ? "" : " ", prefix, id);
	}
	if (gen_presence != GEN_PRESENCE_NONE && !*prefix && gen_optional_scalar(c))
		fprintf(H, "\tbool %s_%s;\n", gen_presence == GEN_PRESENCE_HAS ? "has" : "no", id);
}

/*
 * The decoding of one leaf value: the typed value libyang stored for
 * numbers, booleans and enums; the canonical string for the others.
 */
static void gen_decode_leaf(const struct lysc_node *c, const char *node_var, const char *dst)
{
	const struct lysc_node_leaf *leaf = (const void *)c;
	enum gen_type t = gen_leaf_type(leaf);
	const char *mod = c->module->name;
	static const char *member[] = {
		[T_U8] = "uint8",  [T_U16] = "uint16", [T_U32] = "uint32", [T_U64] = "uint64",	[T_I8] = "int8",
		[T_I16] = "int16", [T_I32] = "int32",  [T_I64] = "int64",  [T_BOOL] = "boolean"
	};

	fprintf(C, "\tv = cubecfg_child(%s, \"%s\", \"%s\");\n", node_var, mod, c->name);
	if (gen_presence == GEN_PRESENCE_HAS && gen_optional_scalar(c)) {
		char own[160];

		gen_ident(own, sizeof(own), c->name);
		if (!strncmp(dst, "out->", 5) && !strcmp(dst + 5, own)) /* a field of the node's own */
			fprintf(C, "\tout->has_%s = v != NULL;\n", own);
	}
	switch (t) {
	case T_U8:
	case T_U16:
	case T_U32:
	case T_U64:
	case T_I8:
	case T_I16:
	case T_I32:
	case T_I64:
	case T_BOOL:
		fprintf(C, "\tif (v)\n\t\t%s = ((const struct lyd_node_term *)v)->value.%s;\n", dst, member[t]);
		break;
	case T_EMPTY: fprintf(C, "\t%s = v != NULL;\n", dst); break;
	case T_ENUM:
		fprintf(C, "\tif (v)\n\t\t%s = ((const struct lyd_node_term *)v)->value.enum_item->value;\n", dst);
		break;
	case T_STRING: fprintf(C, "\t%s = v ? lyd_get_value(v) : NULL;\n", dst); break;
	case T_IPV4:
	case T_IPV6:
	case T_IP:
	case T_MAC:
		fprintf(C, "\tif (v) {\n");
		if (t == T_MAC) {
			fprintf(C, "\t\tif (cubecfg_parse_mac(lyd_get_value(v), %s) < 0)\n", dst);
		} else if (t == T_IP) {
			fprintf(C, "\t\tif (cubecfg_parse_ip(lyd_get_value(v), &%s) < 0)\n", dst);
		} else {
			fprintf(C, "\t\tif (cubecfg_parse_ip(lyd_get_value(v), &ip) < 0 || ip.family != %s)\n",
				t == T_IPV4 ? "AF_INET" : "AF_INET6");
		}
		fprintf(C, "\t\t\tgoto bad;\n");
		if (t == T_IPV4)
			fprintf(C, "\t\t%s = ip.v4;\n", dst);
		else if (t == T_IPV6)
			fprintf(C, "\t\t%s = ip.v6;\n", dst);
		fprintf(C, "\t}\n");
		break;
	default: break;
	}
}

/* The ancestor u levels above sn. */
static const struct lysc_node *gen_up(const struct lysc_node *sn, int u)
{
	while (u-- > 0 && sn)
		sn = sn->parent;
	return sn;
}

/*
 * Fields of the keys of the list entries above sn (the cube's own excluded),
 * outermost first, named <list>_<key>. Returns how many levels lie between
 * sn and the cube's entry.
 */
static int gen_parent_key_fields(const struct lysc_node *sn)
{
	const struct lysc_node *a, *c;
	char pid[128], kp[256];
	int up = 0;

	for (a = sn->parent; a && a->parent; a = a->parent)
		up++;
	for (int u = up; u >= 1; u--) {
		const struct lysc_node *anc = gen_up(sn, u);

		if (anc->nodetype != LYS_LIST)
			continue;
		char owner[256];

		gen_ident(pid, sizeof(pid), anc->name);
		snprintf(kp, sizeof(kp), "%s_", pid);
		gen_cname(anc, owner, sizeof(owner)); /* an enum key: the enum of the list's struct */
		LY_LIST_FOR(lysc_node_child(anc), c)
		{
			if (c->flags & LYS_KEY)
				gen_field(c, kp, owner);
		}
	}
	return up;
}

/* The decoding of those keys, from the data node n of sn. */
static void gen_parent_key_decode(const struct lysc_node *sn, int up)
{
	const struct lysc_node *c;
	char pid[128], id[128], dst[300];

	for (int u = up; u >= 1; u--) {
		const struct lysc_node *anc = gen_up(sn, u);

		if (anc->nodetype != LYS_LIST)
			continue;
		gen_ident(pid, sizeof(pid), anc->name);
		fprintf(C, "\tp = cubecfg_ancestor(n, %d);\n", u);
		LY_LIST_FOR(lysc_node_child(anc), c)
		{
			if (!(c->flags & LYS_KEY))
				continue;
			gen_ident(id, sizeof(id), c->name);
			snprintf(dst, sizeof(dst), "out->%s_%s", pid, id);
			gen_decode_leaf(c, "p", dst);
		}
	}
}

/* Emits the struct, decoder, prototypes and thunks of one node. */
static void gen_node(const struct lysc_node *sn, FILE *table)
{
	const struct lysc_node *c;
	char cname[256], id[128], kp[256];
	int up;

	gen_cname(sn, cname, sizeof(cname));
	gen_presence = GEN_PRESENCE_HAS;
	/* enums first: the struct names them */
	LY_LIST_FOR(lysc_node_child(sn), c)
	{
		if (gen_field_leaf(c) && gen_leaf_type((const void *)c) == T_ENUM) {
			char ename[384];

			gen_ident(id, sizeof(id), c->name);
			snprintf(ename, sizeof(ename), "%s_%s", cname, id);
			gen_enum((const void *)c, ename);
		}
	}
	fprintf(H, "/* %s %s */\nstruct %s {\n", sn->nodetype == LYS_LIST ? "list" : "container",
		lysc_path(sn, LYSC_PATH_DATA, kp, sizeof(kp)), cname);
	up = gen_parent_key_fields(sn);
	LY_LIST_FOR(lysc_node_child(sn), c)
	{
		if (gen_field_leaf(c))
			gen_field(c, "", cname);
		else if (c->nodetype == LYS_LEAFLIST && (c->flags & LYS_CONFIG_W) && gen_own(c))
			gen_error(c, "leaf-lists of configuration are not supported by cubebus-gen yet");
		else if (c->nodetype & (LYS_CHOICE | LYS_ANYDATA | LYS_ANYXML) && gen_own(c))
			gen_error(c, "%s nodes are not supported by cubebus-gen yet", lys_nodetype2str(c->nodetype));
	}
	fprintf(H, "};\n");
	fprintf(H, "int %s_decode(const struct lyd_node *n, struct %s *out, char *err, size_t errlen);\n", cname,
		cname);
	fprintf(H, "int %s_create(struct cube *c, const struct %s *new);\n", cname, cname);
	fprintf(H, "int %s_update(struct cube *c, const struct %s *old, const struct %s *new);\n", cname, cname, cname);
	fprintf(H, "int %s_delete(struct cube *c, const struct %s *old);\n", cname, cname);
	fprintf(H,
		"/* Calls cb for each entry in a configuration tree (cube_config()); stops at\n"
		" * and returns cb's first negative value. */\n"
		"int %s_foreach(const struct lyd_node *tree, int (*cb)(const struct %s *e, void *arg), void *arg);\n\n",
		cname, cname);

	/* decoder */
	fprintf(C, "int %s_decode(const struct lyd_node *n, struct %s *out, char *err, size_t errlen)\n{\n", cname,
		cname);
	fprintf(C, "\tconst struct lyd_node *v, *p;\n\tstruct cb_ip ip;\n\n\t(void)ip;\n\t(void)p;\n");
	fprintf(C, "\tmemset(out, 0, sizeof(*out));\n");
	gen_parent_key_decode(sn, up);
	LY_LIST_FOR(lysc_node_child(sn), c)
	{
		char dst[300];

		if (!gen_field_leaf(c))
			continue;
		gen_ident(id, sizeof(id), c->name);
		snprintf(dst, sizeof(dst), "out->%s", id);
		gen_decode_leaf(c, "n", dst);
	}
	fprintf(C, "\treturn 0;\nbad: __attribute__((unused));\n"
		   "\treturn cubecfg_bad_value(err, errlen, v->schema->name, lyd_get_value(v));\n}\n\n");
	/* thunks: the table holds untyped pointers, the service typed handlers */
	fprintf(C,
		"static int %s_decode_any(const struct lyd_node *n, void *out, char *err, size_t errlen)\n"
		"{\n\treturn %s_decode(n, out, err, errlen);\n}\n"
		"static int %s_create_any(void *c, const void *new)\n{\n\treturn %s_create(c, new);\n}\n"
		"static int %s_update_any(void *c, const void *old, const void *new)\n"
		"{\n\treturn %s_update(c, old, new);\n}\n"
		"static int %s_delete_any(void *c, const void *old)\n{\n\treturn %s_delete(c, old);\n}\n\n",
		cname, cname, cname, cname, cname, cname, cname, cname);
	lysc_path(sn, LYSC_PATH_DATA, kp, sizeof(kp));
	fprintf(C,
		"int %s_foreach(const struct lyd_node *tree, int (*cb)(const struct %s *e, void *arg), void *arg)\n"
		"{\n\tstruct ly_set *set = NULL;\n\tchar err[256];\n\tint r = 0;\n\n"
		"\tif (!tree)\n\t\treturn 0;\n"
		"\tif (lyd_find_xpath(tree, \"%s\", &set) != LY_SUCCESS)\n\t\treturn -EINVAL;\n"
		"\tfor (uint32_t i = 0; i < set->count && r >= 0; i++) {\n"
		"\t\tstruct %s e;\n\n"
		"\t\tr = %s_decode(set->dnodes[i], &e, err, sizeof(err));\n"
		"\t\tif (r >= 0)\n\t\t\tr = cb(&e, arg);\n\t}\n"
		"\tly_set_free(set, NULL);\n\treturn r < 0 ? r : 0;\n}\n\n",
		cname, cname, kp, cname, cname);
	fprintf(table, "\t{ \"%s\", sizeof(struct %s), %s_decode_any, %s_create_any, %s_update_any, %s_delete_any },\n",
		kp, cname, cname, cname, cname, cname);
	gen_presence = GEN_PRESENCE_NONE;
}

static void gen_walk(const struct lysc_node *sn, FILE *table)
{
	const struct lysc_node *c;

	if (!(sn->nodetype & (LYS_LIST | LYS_CONTAINER)) || !(sn->flags & LYS_CONFIG_W))
		return;
	if (gen_wants_handlers(sn))
		gen_node(sn, table);
	LY_LIST_FOR(lysc_node_child(sn), c)
	gen_walk(c, table);
}

/* ---- operations: state emitters and actions ------------------------------- */

/* How an address or prefix is written (cubeop_fmt_ip's with_len). */
static const char *gen_ip_mode(const struct lysc_node_leaf *leaf)
{
	const struct lysc_type *t = leaf->type;
	const struct lysp_node_leaf *pl = leaf->priv;
	const struct lysp_type *pt = pl ? &pl->type : NULL;
	int addr = 0, prefix = 0;

	if (t->basetype == LY_TYPE_LEAFREF)
		t = ((const struct lysc_type_leafref *)t)->realtype;
	if (t->basetype == LY_TYPE_UNION) {
		const struct lysc_type_union *u = (const void *)t;

		for (LY_ARRAY_COUNT_TYPE i = 0; i < LY_ARRAY_COUNT(u->types); i++) {
			const struct lysp_type *m = pt && i < LY_ARRAY_COUNT(pt->types) ? &pt->types[i] : NULL;
			const char *id = u->types[i]->plugin ? u->types[i]->plugin->id : "";

			if (strstr(id, "-prefix") || (m && m->name && strstr(m->name, "prefix")))
				prefix = 1;
			else
				addr = 1;
		}
	} else if ((t->plugin && strstr(t->plugin->id, "-prefix")) || (pt && pt->name && strstr(pt->name, "prefix"))) {
		prefix = 1;
	}
	return prefix && addr ? "CUBEOP_IP_EITHER" : prefix ? "CUBEOP_IP_PREFIX" : "CUBEOP_IP_ADDR";
}

/*
 * The text of a typed value for libyang: writes into out a C expression of
 * type const char * (NULL: nothing to write), after the statements it needs
 * (printed to f, using the buffer buf). ename is the enum's C name.
 */
static void gen_text(FILE *f, const struct lysc_node *c, const char *expr, const char *buf, const char *ename,
		     char *out, size_t size)
{
	const struct lysc_node_leaf *leaf = (const void *)c;
	enum gen_type t = gen_leaf_type(leaf);

	switch (t) {
	case T_U8:
	case T_U16:
	case T_U32:
	case T_U64:
		fprintf(f, "\tsnprintf(%s, sizeof(%s), \"%%\" PRIu64, (uint64_t)%s);\n", buf, buf, expr);
		snprintf(out, size, "%s", buf);
		break;
	case T_I8:
	case T_I16:
	case T_I32:
	case T_I64:
		fprintf(f, "\tsnprintf(%s, sizeof(%s), \"%%\" PRId64, (int64_t)%s);\n", buf, buf, expr);
		snprintf(out, size, "%s", buf);
		break;
	case T_BOOL: snprintf(out, size, "%s ? \"true\" : \"false\"", expr); break;
	case T_EMPTY: snprintf(out, size, "%s ? \"\" : NULL", expr); break;
	case T_ENUM: snprintf(out, size, "%s_name(%s)", ename, expr); break;
	case T_STRING: snprintf(out, size, "%s", expr); break;
	case T_IPV4: snprintf(out, size, "cubeop_fmt_in4(%s, sizeof(%s), &%s)", buf, buf, expr); break;
	case T_IPV6: snprintf(out, size, "cubeop_fmt_in6(%s, sizeof(%s), &%s)", buf, buf, expr); break;
	case T_IP:
		snprintf(out, size, "cubeop_fmt_ip(%s, sizeof(%s), &%s, %s)", buf, buf, expr, gen_ip_mode(leaf));
		break;
	case T_MAC: snprintf(out, size, "cubeop_fmt_mac(%s, sizeof(%s), %s)", buf, buf, expr); break;
	default: snprintf(out, size, "NULL"); break;
	}
}

/* A leaf of a node's state struct: a list's whole entry (its keys and every
 * leaf of its own), a container's (or the cube's) config false leaves. */
static int gen_state_leaf(const struct lysc_node *sn, const struct lysc_node *c)
{
	if (c->nodetype != LYS_LEAF)
		return 0;
	if (sn->nodetype == LYS_LIST && sn->parent)
		return gen_own(c) || (c->flags & LYS_KEY);
	return gen_own(c) && (c->flags & LYS_CONFIG_R);
}

/*
 * A node gets an emitter when it has config false leaves of the service's
 * own, or when it is a base list the service augments with leaves: a read
 * shows what the cube derives for them where they are not configured (the
 * router's ports, the MAC it makes for a port without one).
 */
static int gen_wants_state(const struct lysc_node *sn)
{
	const struct lysc_node *c;
	int want = 0;

	LY_LIST_FOR(lysc_node_child(sn), c)
	{
		if (c->nodetype == LYS_LEAF && (c->flags & LYS_CONFIG_R) && gen_own(c))
			want = 1;
		if (c->nodetype == LYS_LEAF && sn->nodetype == LYS_LIST && sn->parent && !gen_own(sn) && gen_own(c) &&
		    !(c->flags & LYS_KEY))
			want = 1;
		if (c->nodetype == LYS_LEAFLIST && (c->flags & LYS_CONFIG_R) && gen_own(c))
			gen_error(c, "leaf-lists of state are not supported by cubebus-gen yet");
	}
	return want;
}

/* The way from the cube's entry down to sn's node, in an emitter: n ends
 * on sn's data node (a list entry made from the keys in s). */
static void gen_emit_path(const struct lysc_node *sn, const char *cname)
{
	const struct lysc_node *chain[16], *c;
	int depth = 0;

	for (const struct lysc_node *a = sn; a && a->parent && depth < 16; a = a->parent)
		chain[depth++] = a;
	while (depth-- > 0) {
		const struct lysc_node *a = chain[depth];
		char pid[128], id[128], expr[300], val[512];
		int nk = 0;

		if (a->nodetype != LYS_LIST) {
			fprintf(C, "\tn = cubeop_state_inner(st, n, \"%s\");\n", a->name);
			continue;
		}
		gen_ident(pid, sizeof(pid), a->name);
		LY_LIST_FOR(lysc_node_child(a), c)
		{
			char buf[32], ename[384];

			if (!(c->flags & LYS_KEY))
				continue;
			gen_ident(id, sizeof(id), c->name);
			if (a == sn)
				snprintf(expr, sizeof(expr), "s->%s", id);
			else
				snprintf(expr, sizeof(expr), "s->%s_%s", pid, id);
			snprintf(buf, sizeof(buf), "kb[%d]", nk);
			if (a == sn) {
				snprintf(ename, sizeof(ename), "%s_%s", cname, id);
			} else { /* an enum key above: the enum of that list's struct */
				char acn[256];

				gen_cname(a, acn, sizeof(acn));
				snprintf(ename, sizeof(ename), "%s_%s", acn, id);
			}
			gen_text(C, c, expr, buf, ename, val, sizeof(val));
			fprintf(C, "\tk[%d] = %s;\n", nk, val);
			nk++;
		}
		fprintf(C, "\tn = cubeop_state_entry(st, n, \"%s\", k, %d);\n", a->name, nk);
	}
}

static FILE *state_lists; /* the model table's state_lists[] */

/* The state struct and emitter of one node. */
static void gen_state(const struct lysc_node *sn)
{
	const struct lysc_node *c;
	char cname[256], sname[300], id[128], kp[512];
	int nkeys = 0;

	gen_cname(sn, cname, sizeof(cname));
	gen_presence = GEN_PRESENCE_NO;
	if (sn->nodetype == LYS_LIST && sn->parent)
		fprintf(state_lists, "\t\"%s\",\n", lysc_path(sn, LYSC_PATH_DATA, kp, sizeof(kp)));
	snprintf(sname, sizeof(sname), "%s_state", cname);
	/* the enums a config struct did not bring */
	LY_LIST_FOR(lysc_node_child(sn), c)
	{
		if (gen_state_leaf(sn, c) && gen_leaf_type((const void *)c) == T_ENUM &&
		    !(gen_wants_handlers(sn) && gen_field_leaf(c))) {
			char ename[384];

			gen_ident(id, sizeof(id), c->name);
			snprintf(ename, sizeof(ename), "%s_%s", cname, id);
			gen_enum((const void *)c, ename);
		}
	}
	fprintf(H, "/* state of %s %s */\nstruct %s {\n",
		!sn->parent		   ? "the cube,"
		: sn->nodetype == LYS_LIST ? "list"
					   : "container",
		lysc_path(sn, LYSC_PATH_DATA, kp, sizeof(kp)), sname);
	if (sn->parent)
		gen_parent_key_fields(sn);
	LY_LIST_FOR(lysc_node_child(sn), c)
	{
		if (gen_state_leaf(sn, c))
			gen_field(c, "", cname);
	}
	fprintf(H, "};\n");
	fprintf(H, "/* Adds s to the cube's state; 0 or -EINVAL (a value the model refuses). */\n");
	fprintf(H, "int %s_emit(struct cube_state *st, const struct %s *s);\n\n", cname, sname);

	/* the keys on the way down, each written as text */
	for (const struct lysc_node *a = sn; a && a->parent; a = a->parent) {
		if (a->nodetype != LYS_LIST)
			continue;
		LY_LIST_FOR(lysc_node_child(a), c)
		{
			if (c->flags & LYS_KEY)
				nkeys++;
		}
	}
	fprintf(C, "int %s_emit(struct cube_state *st, const struct %s *s)\n{\n", cname, sname);
	fprintf(C, "\tstruct lyd_node *n = cubeop_state_top(st);\n\tchar v[CUBEOP_VALUE_MAX];\n");
	if (nkeys)
		fprintf(C, "\tchar kb[%d][CUBEOP_VALUE_MAX];\n\tconst char *k[%d];\n\n\t(void)kb;\n", nkeys, nkeys);
	fprintf(C, "\t(void)v;\n");
	gen_emit_path(sn, cname);
	LY_LIST_FOR(lysc_node_child(sn), c)
	{
		char expr[300], val[512], ename[384];

		if (!gen_state_leaf(sn, c) || (c->flags & LYS_KEY))
			continue;
		gen_ident(id, sizeof(id), c->name);
		snprintf(expr, sizeof(expr), "s->%s", id);
		snprintf(ename, sizeof(ename), "%s_%s", cname, id);
		if (gen_optional_scalar(c))
			fprintf(C, "\tif (!s->no_%s) {\n", id);
		gen_text(C, c, expr, "v", ename, val, sizeof(val));
		fprintf(C, "\tcubeop_leaf(st, n, \"%s\", %s);\n", c->name, val);
		if (gen_optional_scalar(c))
			fprintf(C, "\t}\n");
	}
	fprintf(C, "\treturn cubeop_state_status(st);\n}\n\n");
	gen_presence = GEN_PRESENCE_NONE;
}

/*
 * A list in an action's input (a batch of entries): a struct of its entry
 * (its leaves), a decoder of one entry and a walker over the entries, in
 * their order; the input struct holds the first entry's data node and the
 * number of entries. Only leaves are supported in the entry.
 */
static void gen_input_list(const struct lysc_node *list, const char *sname)
{
	const struct lysc_node *c;
	char id[128], ename[512], ltype[512], dst[300];

	gen_ident(id, sizeof(id), list->name);
	snprintf(ltype, sizeof(ltype), "%s_%s", sname, id);
	LY_LIST_FOR(lysc_node_child(list), c)
	{
		if (c->nodetype != LYS_LEAF) {
			gen_error(c, "%s nodes in a list of an action's input are not supported by cubebus-gen yet",
				  lys_nodetype2str(c->nodetype));
			continue;
		}
		if (gen_leaf_type((const void *)c) == T_ENUM) {
			char lid[128];

			gen_ident(lid, sizeof(lid), c->name);
			snprintf(ename, sizeof(ename), "%s_%s", ltype, lid);
			gen_enum((const void *)c, ename);
		}
	}
	fprintf(H, "/* an entry of the input list %s */\nstruct %s {\n", list->name, ltype);
	LY_LIST_FOR(lysc_node_child(list), c)
	{
		if (c->nodetype == LYS_LEAF)
			gen_field(c, "", ltype);
	}
	fprintf(H, "};\n");
	fprintf(H, "int %s_decode(const struct lyd_node *n, struct %s *out, char *err, size_t errlen);\n", ltype,
		ltype);
	fprintf(C, "int %s_decode(const struct lyd_node *n, struct %s *out, char *err, size_t errlen)\n{\n", ltype,
		ltype);
	fprintf(C, "\tconst struct lyd_node *v = NULL;\n\tstruct cb_ip ip;\n\n\t(void)ip;\n");
	fprintf(C, "\tmemset(out, 0, sizeof(*out));\n");
	LY_LIST_FOR(lysc_node_child(list), c)
	{
		char lid[128];

		if (c->nodetype != LYS_LEAF)
			continue;
		gen_ident(lid, sizeof(lid), c->name);
		snprintf(dst, sizeof(dst), "out->%s", lid);
		gen_decode_leaf(c, "n", dst);
	}
	fprintf(C, "\treturn 0;\nbad: __attribute__((unused));\n"
		   "\treturn cubecfg_bad_value(err, errlen, v->schema->name, lyd_get_value(v));\n}\n\n");
}

/* The walker of an input list, once the input struct is declared. */
static void gen_input_list_walker(const struct lysc_node *list, const char *sname)
{
	char id[128], ltype[512];

	gen_ident(id, sizeof(id), list->name);
	snprintf(ltype, sizeof(ltype), "%s_%s", sname, id);
	fprintf(H,
		"/* Calls cb for each entry of in's list %s, in their order, decoded (strings\n"
		" * valid during the action only); stops at and returns cb's first negative\n"
		" * value, or -EINVAL with a sentence in err for an entry that does not decode. */\n"
		"int %s_foreach(const struct %s *in, int (*cb)(const struct %s *e, void *arg), void *arg, char *err,\n"
		"\tsize_t errlen);\n",
		list->name, ltype, sname, ltype);
	fprintf(C,
		"int %s_foreach(const struct %s *in, int (*cb)(const struct %s *e, void *arg), void *arg, char *err,\n"
		"\tsize_t errlen)\n{\n\tconst struct lyd_node *n;\n\tuint32_t i = 0;\n\tint r = 0;\n\n"
		"\tfor (n = in->%s; n && i < in->n_%s && r >= 0; n = n->next) {\n"
		"\t\tstruct %s e;\n\n"
		"\t\tif (!n->schema || strcmp(n->schema->name, \"%s\"))\n\t\t\tcontinue;\n"
		"\t\ti++;\n"
		"\t\tr = %s_decode(n, &e, err, errlen);\n"
		"\t\tif (r >= 0)\n\t\t\tr = cb(&e, arg);\n\t}\n"
		"\treturn r < 0 ? r : 0;\n}\n\n",
		ltype, sname, ltype, id, id, ltype, list->name, ltype);
}

/* The input or output struct of an action: its leaves (and, for the input,
 * the keys of the list entries above the action, and its lists). */
static void gen_inout(const struct lysc_node *act, const struct lysc_node *first, const char *sname, int input)
{
	const struct lysc_node *c;
	char id[128], ename[384];

	LY_LIST_FOR(first, c)
	{
		if (input && c->nodetype == LYS_LIST) {
			gen_input_list(c, sname);
			continue;
		}
		if (c->nodetype != LYS_LEAF) {
			gen_error(c, "%s nodes in an action's %s are not supported by cubebus-gen yet",
				  lys_nodetype2str(c->nodetype), input ? "input" : "output");
			continue;
		}
		if (gen_leaf_type((const void *)c) == T_ENUM) {
			gen_ident(id, sizeof(id), c->name);
			snprintf(ename, sizeof(ename), "%s_%s", sname, id);
			gen_enum((const void *)c, ename);
		}
	}
	fprintf(H, "struct %s {\n", sname);
	if (input)
		gen_parent_key_fields(act);
	LY_LIST_FOR(first, c)
	{
		if (c->nodetype == LYS_LEAF) {
			gen_field(c, "", sname);
		} else if (input && c->nodetype == LYS_LIST) {
			gen_ident(id, sizeof(id), c->name);
			fprintf(H,
				"\tconst struct lyd_node *%s; /* first entry: %s_%s_foreach() */\n\tuint32_t n_%s;\n",
				id, sname, id, id);
		}
	}
	fprintf(H, "};\n");
	LY_LIST_FOR(first, c)
	{
		if (input && c->nodetype == LYS_LIST)
			gen_input_list_walker(c, sname);
	}
}

/* The structs, decoder, encoder, handler prototype and table entry of one action. */
static void gen_action(const struct lysc_node_action *act, FILE *atable)
{
	const struct lysc_node *an = &act->node, *c;
	char cname[256], in[300], out[300], id[128], kp[512];
	int up;

	gen_cname(an, cname, sizeof(cname));
	snprintf(in, sizeof(in), "%s_in", cname);
	snprintf(out, sizeof(out), "%s_out", cname);
	fprintf(H, "/* action %s */\n", lysc_path(an, LYSC_PATH_DATA, kp, sizeof(kp)));
	gen_presence = GEN_PRESENCE_HAS;
	gen_inout(an, act->input.child, in, 1);
	gen_presence = GEN_PRESENCE_NONE;
	gen_inout(an, act->output.child, out, 0);
	fprintf(H, "int %s_decode(const struct lyd_node *n, struct %s *out, char *err, size_t errlen);\n", in, in);
	fprintf(H, "int %s_encode(struct lyd_node *op, const struct %s *out, char *err, size_t errlen);\n", out, out);
	fprintf(H,
		"/* The handler the service implements (when its cube_ops name %s_actions):\n"
		" * 0, or a negative errno after cube_fail(). */\n",
		module_name);
	fprintf(H, "int %s_action(struct cube *c, const struct %s *in, struct %s *out);\n\n", cname, in, out);

	/* the input decoder: the action's data node n */
	fprintf(C, "int %s_decode(const struct lyd_node *n, struct %s *out, char *err, size_t errlen)\n{\n", in, in);
	fprintf(C, "\tconst struct lyd_node *v = NULL, *p;\n\tstruct cb_ip ip;\n\n\t(void)ip;\n\t(void)p;\n");
	fprintf(C, "\tmemset(out, 0, sizeof(*out));\n");
	gen_presence = GEN_PRESENCE_HAS;
	up = 0;
	for (const struct lysc_node *a = an->parent; a && a->parent; a = a->parent)
		up++;
	gen_parent_key_decode(an, up);
	LY_LIST_FOR(act->input.child, c)
	{
		char dst[300];

		if (c->nodetype != LYS_LEAF)
			continue;
		gen_ident(id, sizeof(id), c->name);
		snprintf(dst, sizeof(dst), "out->%s", id);
		gen_decode_leaf(c, "n", dst);
	}
	LY_LIST_FOR(act->input.child, c)
	{
		if (c->nodetype != LYS_LIST)
			continue;
		gen_ident(id, sizeof(id), c->name);
		fprintf(C,
			"\tfor (const struct lyd_node *e = lyd_child(n); e; e = e->next) {\n"
			"\t\tif (!e->schema || strcmp(e->schema->name, \"%s\"))\n\t\t\tcontinue;\n"
			"\t\tif (!out->%s)\n\t\t\tout->%s = e;\n\t\tout->n_%s++;\n\t}\n",
			c->name, id, id, id);
	}
	gen_presence = GEN_PRESENCE_NONE;
	fprintf(C, "\treturn 0;\nbad: __attribute__((unused));\n"
		   "\treturn cubecfg_bad_value(err, errlen, v->schema->name, lyd_get_value(v));\n}\n\n");
	/* the output encoder */
	fprintf(C, "int %s_encode(struct lyd_node *op, const struct %s *out, char *err, size_t errlen)\n{\n", out, out);
	fprintf(C, "\tchar v[CUBEOP_VALUE_MAX];\n\tint r = 0;\n\n\t(void)v;\n");
	LY_LIST_FOR(act->output.child, c)
	{
		char expr[300], val[512], ename[384];

		if (c->nodetype != LYS_LEAF)
			continue;
		gen_ident(id, sizeof(id), c->name);
		snprintf(expr, sizeof(expr), "out->%s", id);
		snprintf(ename, sizeof(ename), "%s_%s", out, id);
		gen_text(C, c, expr, "v", ename, val, sizeof(val));
		fprintf(C, "\tif (r == 0)\n\t\tr = cubeop_out_leaf(op, \"%s\", %s, err, errlen);\n", c->name, val);
	}
	fprintf(C, "\treturn r;\n}\n\n");
	/* the dispatch thunks: in the table's file, linked only by a service that names it */
	fprintf(A,
		"static int %s_decode_any(const struct lyd_node *n, void *in, char *err, size_t errlen)\n"
		"{\n\treturn %s_decode(n, in, err, errlen);\n}\n"
		"static int %s_encode_any(struct lyd_node *op, const void *out, char *err, size_t errlen)\n"
		"{\n\treturn %s_encode(op, out, err, errlen);\n}\n"
		"static int %s_run_any(void *c, const void *in, void *out)\n{\n\treturn %s_action(c, in, out);\n}\n\n",
		cname, in, cname, out, cname, cname);
	fprintf(atable,
		"\t{ \"%s\", sizeof(struct %s), sizeof(struct %s), %s_decode_any, %s_encode_any, %s_run_any },\n", kp,
		in, out, cname, cname, cname);
}

/* State and actions: every list and container, configuration or state. */
static void gen_walk_ops(const struct lysc_node *sn, FILE *atable)
{
	const struct lysc_node *c;
	const struct lysc_node_action *act;

	if (!(sn->nodetype & (LYS_LIST | LYS_CONTAINER)))
		return;
	if (gen_wants_state(sn))
		gen_state(sn);
	LY_LIST_FOR(lysc_node_actions(sn), act)
	{
		if (gen_own(&act->node))
			gen_action(act, atable);
	}
	LY_LIST_FOR(lysc_node_child(sn), c)
	gen_walk_ops(c, atable);
}

int main(int argc, char **argv)
{
	const char *search = NULL, *model, *outdir;
	struct ly_ctx *ctx = NULL;
	struct lys_module *mod;
	const struct lysc_node *top;
	char hpath[1024] = "", cpath[1024] = "", apath[1024] = "", guard[256], *tbuf = NULL, *abuf = NULL, *sbuf = NULL;
	size_t tlen = 0, alen = 0, slen = 0;
	FILE *table = NULL, *atable = NULL;
	int opt, rc = 1;

	while ((opt = getopt(argc, argv, "p:")) != -1) {
		if (opt == 'p')
			search = optarg;
		else
			goto usage;
	}
	if (argc - optind != 2)
		goto usage;
	model = argv[optind];
	outdir = argv[optind + 1];
	ly_log_options(LY_LOLOG | LY_LOSTORE_LAST);
	if (ly_ctx_new(search, LY_CTX_SET_PRIV_PARSED, &ctx) != LY_SUCCESS) {
		fprintf(stderr, "cubebus-gen: cannot make a libyang context\n");
		return 1;
	}
	if (lys_parse_path(ctx, model, LYS_IN_YANG, &mod) != LY_SUCCESS) {
		fprintf(stderr, "cubebus-gen: %s: the model does not compile\n", model);
		goto out;
	}
	module_name = mod->name;
	{
		const struct lys_module *base = ly_ctx_get_module_latest(ctx, "cubebus-base");

		base_pmod = base ? base->parsed : NULL;
	}
	top = mod->compiled ? mod->compiled->data : NULL;
	if (!top || top->nodetype != LYS_LIST || top->next) {
		fprintf(stderr, "cubebus-gen: %s: the model must have one top-level list, the cube\n", model);
		goto out;
	}
	snprintf(hpath, sizeof(hpath), "%s/%s_cfg.h", outdir, module_name);
	snprintf(cpath, sizeof(cpath), "%s/%s_cfg.c", outdir, module_name);
	snprintf(apath, sizeof(apath), "%s/%s_act.c", outdir, module_name);
	H = fopen(hpath, "w");
	C = fopen(cpath, "w");
	A = fopen(apath, "w");
	table = open_memstream(&tbuf, &tlen);
	atable = open_memstream(&abuf, &alen);
	state_lists = open_memstream(&sbuf, &slen);
	if (!H || !C || !A || !table || !atable || !state_lists) {
		fprintf(stderr, "cubebus-gen: %s: %s\n", outdir, strerror(errno));
		goto out;
	}
	gen_ident(guard, sizeof(guard), module_name);
	gen_upper(guard);
	fprintf(H,
		"/* Generated by cubebus-gen from %s: do not edit. */\n#ifndef %s_CFG_H\n#define %s_CFG_H\n\n"
		"#include \"cubecfg.h\"\n#include \"cubeop.h\"\n\nstruct cube;\n\n",
		module_name, guard, guard);
	fprintf(C,
		"/* Generated by cubebus-gen from %s: do not edit. */\n#include <errno.h>\n#include <inttypes.h>\n"
		"#include <stdio.h>\n#include <string.h>\n#include <sys/socket.h>\n#include \"%s_cfg.h\"\n\n",
		module_name, module_name);
	fprintf(A,
		"/* Generated by cubebus-gen from %s: do not edit. */\n"
		"/* The action table: linked only into a service that names it (cube_ops\n"
		" * .actions), so that a service that answers no action needs no handler. */\n"
		"#include \"%s_cfg.h\"\n\n",
		module_name, module_name);
	gen_walk(top, table);
	gen_walk_ops(top, atable);
	if (mod->compiled->rpcs) {
		gen_error(&mod->compiled->rpcs->node,
			  "rpc nodes are not supported: a cube's operations are actions of the cube's list");
	}
	fflush(table);
	fflush(atable);
	fflush(state_lists);
	gen_ident(guard, sizeof(guard), module_name);
	fprintf(H, "/* The dispatch table, for cubecfg_apply(). */\nextern const struct cubecfg_model %s_model;\n",
		guard);
	fprintf(H,
		"/* The action table (%s_act.c), for cubeop_action_run(): a service that sets\n"
		" * .actions = &%s_actions gets its actions as handler calls. */\n"
		"extern const struct cubeop_actions %s_actions;\n",
		module_name, guard, guard);
	fprintf(H, "\n#endif\n");
	if (alen)
		fprintf(A, "static const struct cubeop_action actions[] = {\n%s};\n\n", abuf);
	fprintf(A, "const struct cubeop_actions %s_actions = {\n\t.module = \"%s\",\n", guard, module_name);
	if (alen)
		fprintf(A, "\t.actions = actions,\n\t.n_actions = sizeof(actions) / sizeof(actions[0]),\n");
	fprintf(A, "};\n");
	fprintf(C, "static const struct cubecfg_node nodes[] = {\n%s};\n\n", tbuf ? tbuf : "");
	if (slen)
		fprintf(C, "static const char *const state_lists[] = {\n%s};\n\n", sbuf);
	fprintf(C,
		"const struct cubecfg_model %s_model = {\n\t.module = \"%s\",\n\t.nodes = nodes,\n"
		"\t.n_nodes = sizeof(nodes) / sizeof(nodes[0]),\n",
		guard, module_name);
	if (slen)
		fprintf(C, "\t.state_lists = state_lists,\n\t.n_state_lists = sizeof(state_lists) / "
			   "sizeof(state_lists[0]),\n");
	fprintf(C, "};\n");
	rc = failed;
out:
	if (table)
		fclose(table);
	if (atable)
		fclose(atable);
	if (state_lists)
		fclose(state_lists);
	free(tbuf);
	free(abuf);
	free(sbuf);
	if (H)
		fclose(H);
	if (C)
		fclose(C);
	if (A)
		fclose(A);
	if (rc) {
		remove(hpath);
		remove(cpath);
		remove(apath);
	}
	ly_ctx_destroy(ctx);
	return rc;
usage:
	fprintf(stderr, "usage: cubebus-gen -p SEARCHDIR MODEL.yang OUTDIR\n");
	return 2;
}
