/* SPDX-License-Identifier: Apache-2.0 */
/*
 * output - renders broker reply bodies (see output.h).
 *
 * The body is parsed with json-c, pruned (-hide, -brief) and written by one
 * of three renderers into a memory stream.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>

#include "output.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* ---- helpers ---------------------------------------------------------------- */

static int out_is_scalar(json_object *v)
{
	enum json_type t = json_object_get_type(v);

	return t != json_type_object && t != json_type_array;
}

static int out_is_flat_object(json_object *v)
{
	if (!json_object_is_type(v, json_type_object))
		return 0;
	json_object_object_foreach(v, k, m)
	{
		(void)k;
		if (!out_is_scalar(m))
			return 0;
	}
	return 1;
}

/* An object or array with nothing but empty objects and arrays inside: the
 * text form leaves it out, a "key:" line with nothing under it says nothing. */
static int out_is_empty(json_object *v)
{
	if (json_object_is_type(v, json_type_object)) {
		json_object_object_foreach(v, k, m)
		{
			(void)k;
			if (!out_is_empty(m))
				return 0;
		}
		return 1;
	}
	if (json_object_is_type(v, json_type_array)) {
		size_t n = json_object_array_length(v);

		for (size_t i = 0; i < n; i++)
			if (!out_is_empty(json_object_array_get_idx(v, i)))
				return 0;
		return 1;
	}
	return 0;
}

static int out_all(json_object *arr, int (*pred)(json_object *))
{
	size_t n = json_object_array_length(arr);

	for (size_t i = 0; i < n; i++)
		if (!pred(json_object_array_get_idx(arr, i)))
			return 0;
	return 1;
}

/* A scalar as text: strings raw, null empty, numbers as they came. */
static const char *out_scalar_text(json_object *v)
{
	const char *s = v ? json_object_get_string(v) : "";

	return s ? s : "";
}

/* Display width of UTF-8 text: its code points. */
static size_t out_width(const char *s)
{
	size_t w = 0;

	for (; *s; s++)
		w += ((unsigned char)*s & 0xc0) != 0x80;
	return w;
}

static void out_indent(FILE *f, int ind)
{
	fprintf(f, "%*s", ind, "");
}

/* ---- pruning ---------------------------------------------------------------- */

/* Drops the dotted path (mutated and restored in place) below v. */
static void out_hide_path(json_object *v, char *path)
{
	json_object *child;
	char *dot;

	if (json_object_is_type(v, json_type_array)) {
		size_t n = json_object_array_length(v);

		for (size_t i = 0; i < n; i++)
			out_hide_path(json_object_array_get_idx(v, i), path);
		return;
	}
	if (!json_object_is_type(v, json_type_object))
		return;
	/* A key that itself contains dots wins over the nested reading. */
	if (json_object_object_get_ex(v, path, NULL)) {
		json_object_object_del(v, path);
		return;
	}
	dot = strchr(path, '.');
	if (!dot)
		return;
	*dot = '\0';
	child = json_object_object_get_ex(v, path, &child) ? child : NULL;
	*dot = '.';
	if (child)
		out_hide_path(child, dot + 1);
}

static int out_hide(json_object *root, const char *hide)
{
	char *list, *item, *save = NULL;

	if (!hide || !*hide)
		return 0;
	list = strdup(hide);
	if (!list)
		return -ENOMEM;
	for (item = strtok_r(list, ",", &save); item; item = strtok_r(NULL, ",", &save))
		if (*item)
			out_hide_path(root, item);
	free(list);
	return 0;
}

/* Removes the members of object v that are objects or arrays. */
static void out_drop_nested(json_object *v)
{
	const char *victim;

	if (!json_object_is_type(v, json_type_object))
		return;
	do {
		victim = NULL;
		json_object_object_foreach(v, k, m)
		{
			if (!out_is_scalar(m)) {
				victim = k;
				break;
			}
		}
		if (victim)
			json_object_object_del(v, victim);
	} while (victim);
}

static void out_brief(json_object *root)
{
	if (json_object_is_type(root, json_type_array)) {
		size_t n = json_object_array_length(root);

		for (size_t i = 0; i < n; i++)
			out_drop_nested(json_object_array_get_idx(root, i));
		return;
	}
	out_drop_nested(root);
}

/* ---- text ------------------------------------------------------------------- */

static int text_object(FILE *f, int ind, json_object *o);
static int text_array(FILE *f, int ind, json_object *a);

static void text_scalar_list(FILE *f, json_object *a)
{
	size_t n = json_object_array_length(a);

	for (size_t i = 0; i < n; i++)
		fprintf(f, "%s%s", i ? ", " : "", out_scalar_text(json_object_array_get_idx(a, i)));
}

static void text_cell(FILE *f, const char *s, size_t width, int last)
{
	fputs(s, f);
	if (!last)
		fprintf(f, "%*s", (int)(width - out_width(s) + 2), "");
}

/* Prints one table line: cells[0..n), no trailing blanks. */
static void text_row(FILE *f, int ind, const char **cells, const size_t *widths, size_t n)
{
	size_t last = n;

	while (last && !*cells[last - 1])
		last--;
	out_indent(f, last ? ind : 0);
	for (size_t c = 0; c < last; c++)
		text_cell(f, cells[c], widths[c], c + 1 == last);
	fputc('\n', f);
}

/* An array of flat objects: the union of their keys makes the columns. */
static int text_table(FILE *f, int ind, json_object *a)
{
	size_t rows = json_object_array_length(a), ncols = 0, cap = 0;
	const char **cols = NULL, **cells = NULL, **tmp;
	size_t *widths = NULL;
	int r;

	for (size_t i = 0; i < rows; i++) {
		json_object_object_foreach(json_object_array_get_idx(a, i), k, v)
		{
			size_t c;

			(void)v;
			for (c = 0; c < ncols && strcmp(cols[c], k); c++)
				;
			if (c < ncols)
				continue;
			if (ncols == cap) {
				cap = cap ? cap * 2 : 8;
				tmp = realloc(cols, cap * sizeof(*cols));
				if (!tmp) {
					r = -ENOMEM;
					goto out;
				}
				cols = tmp;
			}
			cols[ncols++] = k;
		}
	}
	if (!ncols) {
		r = 0;
		goto out;
	}
	cells = calloc(ncols, sizeof(*cells));
	widths = calloc(ncols, sizeof(*widths));
	if (!cells || !widths) {
		r = -ENOMEM;
		goto out;
	}
	for (size_t c = 0; c < ncols; c++)
		widths[c] = out_width(cols[c]);
	for (size_t i = 0; i < rows; i++) {
		json_object *row = json_object_array_get_idx(a, i), *v;

		for (size_t c = 0; c < ncols; c++) {
			size_t w;

			if (!json_object_object_get_ex(row, cols[c], &v))
				continue;
			w = out_width(out_scalar_text(v));
			if (w > widths[c])
				widths[c] = w;
		}
	}
	text_row(f, ind, cols, widths, ncols);
	for (size_t i = 0; i < rows; i++) {
		json_object *row = json_object_array_get_idx(a, i), *v;

		for (size_t c = 0; c < ncols; c++)
			cells[c] = json_object_object_get_ex(row, cols[c], &v) ? out_scalar_text(v) : "";
		text_row(f, ind, cells, widths, ncols);
	}
	r = 0;
out:
	free(cols);
	free(cells);
	free(widths);
	return r;
}

static int text_member(FILE *f, int ind, const char *key, json_object *v)
{
	const char *s;

	out_indent(f, ind);
	fprintf(f, "%s:", key);
	switch (json_object_get_type(v)) {
	case json_type_object: fputc('\n', f); return text_object(f, ind + 2, v);
	case json_type_array:
		if (out_all(v, out_is_scalar)) {
			if (json_object_array_length(v))
				fputc(' ', f);
			text_scalar_list(f, v);
			fputc('\n', f);
			return 0;
		}
		fputc('\n', f);
		return text_array(f, ind + 2, v);
	default:
		s = out_scalar_text(v);
		fprintf(f, "%s%s\n", *s ? " " : "", s);
		return 0;
	}
}

static int text_object(FILE *f, int ind, json_object *o)
{
	int r = 0;

	json_object_object_foreach(o, k, v)
	{
		r = text_member(f, ind, k, v);
		if (r < 0)
			break;
	}
	return r;
}

/* Arrays that are not a plain list of scalars under a key. */
static int text_array(FILE *f, int ind, json_object *a)
{
	size_t n = json_object_array_length(a);
	int prev_scalar = 1, r = 0;

	if (n && out_all(a, out_is_flat_object))
		return text_table(f, ind, a);
	for (size_t i = 0; i < n && !r; i++) {
		json_object *el = json_object_array_get_idx(a, i);
		int scalar = out_is_scalar(el);

		if (i && (!scalar || !prev_scalar))
			fputc('\n', f);
		prev_scalar = scalar;
		switch (json_object_get_type(el)) {
		case json_type_object: r = text_object(f, ind, el); break;
		case json_type_array:
			if (out_all(el, out_is_scalar)) {
				out_indent(f, ind);
				text_scalar_list(f, el);
				fputc('\n', f);
			} else {
				r = text_array(f, ind + 2, el);
			}
			break;
		default:
			out_indent(f, ind);
			fprintf(f, "%s\n", out_scalar_text(el));
			break;
		}
	}
	return r;
}

/* Removes the members of objects below v that are empty (out_is_empty):
 * done before the layout, so that a list entry with an empty sub-list
 * still prints as a table row. */
static void out_prune_empty(json_object *v)
{
	const char *victim;

	if (json_object_is_type(v, json_type_array)) {
		size_t n = json_object_array_length(v);

		for (size_t i = 0; i < n; i++)
			out_prune_empty(json_object_array_get_idx(v, i));
		return;
	}
	if (!json_object_is_type(v, json_type_object))
		return;
	do {
		victim = NULL;
		json_object_object_foreach(v, k, m)
		{
			if (out_is_empty(m)) {
				victim = k;
				break;
			}
		}
		if (victim)
			json_object_object_del(v, victim);
	} while (victim);
	json_object_object_foreach(v, k2, m2)
	{
		(void)k2;
		out_prune_empty(m2);
	}
}

static int render_text(FILE *f, json_object *root)
{
	out_prune_empty(root);
	switch (json_object_get_type(root)) {
	case json_type_object: return text_object(f, 0, root);
	case json_type_array: return text_array(f, 0, root);
	default: fprintf(f, "%s\n", out_scalar_text(root)); return 0;
	}
}

/* ---- json ------------------------------------------------------------------- */

static void json_string(FILE *f, const char *s)
{
	static const struct {
		char c;
		const char *esc;
	} escapes[] = {
		{ '"', "\\\"" }, { '\\', "\\\\" }, { '\b', "\\b" }, { '\f', "\\f" },
		{ '\n', "\\n" }, { '\r', "\\r" },  { '\t', "\\t" },
	};

	fputc('"', f);
	for (; *s; s++) {
		const char *esc = NULL;

		for (size_t i = 0; i < ARRAY_SIZE(escapes); i++)
			if (escapes[i].c == *s)
				esc = escapes[i].esc;
		if (esc)
			fputs(esc, f);
		else if ((unsigned char)*s < 0x20)
			fprintf(f, "\\u%04x", (unsigned char)*s);
		else
			fputc(*s, f);
	}
	fputc('"', f);
}

static void json_value(FILE *f, int ind, json_object *v)
{
	size_t n, i = 0;

	switch (json_object_get_type(v)) {
	case json_type_object:
		if (!json_object_object_length(v)) {
			fputs("{}", f);
			return;
		}
		fputs("{\n", f);
		json_object_object_foreach(v, k, m)
		{
			out_indent(f, ind + 2);
			json_string(f, k);
			fputs(": ", f);
			json_value(f, ind + 2, m);
			fputs(++i < (size_t)json_object_object_length(v) ? ",\n" : "\n", f);
		}
		out_indent(f, ind);
		fputc('}', f);
		return;
	case json_type_array:
		n = json_object_array_length(v);
		if (!n) {
			fputs("[]", f);
			return;
		}
		fputs("[\n", f);
		for (i = 0; i < n; i++) {
			out_indent(f, ind + 2);
			json_value(f, ind + 2, json_object_array_get_idx(v, i));
			fputs(i + 1 < n ? ",\n" : "\n", f);
		}
		out_indent(f, ind);
		fputc(']', f);
		return;
	case json_type_string: json_string(f, json_object_get_string(v)); return;
	case json_type_null: fputs("null", f); return;
	default: fputs(json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN), f); return;
	}
}

static int render_json(FILE *f, json_object *root)
{
	json_value(f, 0, root);
	fputc('\n', f);
	return 0;
}

/* ---- yaml ------------------------------------------------------------------- */

/* Plain scalars YAML (1.1 or 1.2) would read as something else. */
static const char *const yaml_reserved[] = {
	"null", "~", "true", "false", "yes", "no", "on", "off", "y", "n", ".inf", "-.inf", "+.inf", ".nan",
};

static int yaml_looks_numeric(const char *s)
{
	const char *p = s + (*s == '+' || *s == '-');

	if (*p == '.')
		p++;
	if (*p < '0' || *p > '9')
		return 0;
	return s[strspn(s, "0123456789abcdefABCDEFxXoO._:+-")] == '\0';
}

static int yaml_needs_quotes(const char *s)
{
	size_t n = strlen(s);

	if (!n || strchr(" \t-?:,[]{}#&*!|>'\"%@`", s[0]) || s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == ':')
		return 1;
	if (strstr(s, ": ") || strstr(s, " #"))
		return 1;
	for (const char *p = s; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return 1;
	for (size_t i = 0; i < ARRAY_SIZE(yaml_reserved); i++)
		if (!strcasecmp(s, yaml_reserved[i]))
			return 1;
	return yaml_looks_numeric(s);
}

static void yaml_string(FILE *f, const char *s)
{
	if (!yaml_needs_quotes(s)) {
		fputs(s, f);
		return;
	}
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c == '\n')
			fputs("\\n", f);
		else if (c == '\t')
			fputs("\\t", f);
		else if (c < 0x20 || c == 0x7f)
			fprintf(f, "\\x%02X", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

static void yaml_scalar(FILE *f, json_object *v)
{
	if (json_object_is_type(v, json_type_string))
		yaml_string(f, json_object_get_string(v));
	else if (!v)
		fputs("null", f);
	else
		fputs(json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN), f);
}

/* Empty collections and scalars fit on the current line. */
static int yaml_inline(FILE *f, json_object *v)
{
	switch (json_object_get_type(v)) {
	case json_type_object:
		if (json_object_object_length(v))
			return 0;
		fputs("{}", f);
		return 1;
	case json_type_array:
		if (json_object_array_length(v))
			return 0;
		fputs("[]", f);
		return 1;
	default: yaml_scalar(f, v); return 1;
	}
}

static void yaml_seq(FILE *f, int ind, json_object *a, int first_inline);

/* A block mapping; first_inline: the first key goes right after "- ". */
static void yaml_map(FILE *f, int ind, json_object *o, int first_inline)
{
	json_object_object_foreach(o, k, v)
	{
		if (!first_inline)
			out_indent(f, ind);
		first_inline = 0;
		yaml_string(f, k);
		fputc(':', f);
		if (json_object_is_type(v, json_type_object) && json_object_object_length(v)) {
			fputc('\n', f);
			yaml_map(f, ind + 2, v, 0);
			continue;
		}
		if (json_object_is_type(v, json_type_array) && json_object_array_length(v)) {
			fputc('\n', f);
			yaml_seq(f, ind + 2, v, 0);
			continue;
		}
		fputc(' ', f);
		yaml_inline(f, v);
		fputc('\n', f);
	}
}

static void yaml_seq(FILE *f, int ind, json_object *a, int first_inline)
{
	size_t n = json_object_array_length(a);

	for (size_t i = 0; i < n; i++) {
		json_object *el = json_object_array_get_idx(a, i);

		if (!first_inline)
			out_indent(f, ind);
		first_inline = 0;
		fputs("- ", f);
		if (yaml_inline(f, el))
			fputc('\n', f);
		else if (json_object_is_type(el, json_type_object))
			yaml_map(f, ind + 2, el, 1);
		else
			yaml_seq(f, ind + 2, el, 1);
	}
}

static int render_yaml(FILE *f, json_object *root)
{
	if (yaml_inline(f, root))
		fputc('\n', f);
	else if (json_object_is_type(root, json_type_object))
		yaml_map(f, 0, root, 0);
	else
		yaml_seq(f, 0, root, 0);
	return 0;
}

/* ---- entry ------------------------------------------------------------------ */

static int (*const renderers[])(FILE *f, json_object *root) = {
	[CLI_FMT_TEXT] = render_text,
	[CLI_FMT_JSON] = render_json,
	[CLI_FMT_YAML] = render_yaml,
};

static int out_is_blank(const char *s)
{
	return s[strspn(s, " \t\r\n")] == '\0';
}

/* Parses all of body as one JSON value; NULL json is a valid "null". */
static int out_parse(const char *body, json_object **root)
{
	struct json_tokener *tok = json_tokener_new();
	size_t len = strlen(body);
	json_object *v;
	int r;

	*root = NULL;
	if (!tok)
		return -ENOMEM;
	/* With its NUL, so that a bare number at the end is complete. */
	v = json_tokener_parse_ex(tok, body, (int)len + 1);
	if (json_tokener_get_error(tok) != json_tokener_success ||
	    !out_is_blank(body + json_tokener_get_parse_end(tok))) {
		json_object_put(v);
		r = -EINVAL;
		goto out;
	}
	*root = v;
	r = 0;
out:
	json_tokener_free(tok);
	return r;
}

int output_render(const char *body, enum cli_format format, int brief, const char *hide, char **out)
{
	json_object *root = NULL;
	FILE *f = NULL;
	char *buf = NULL;
	size_t len = 0;
	int r;

	*out = NULL;
	if ((unsigned int)format >= ARRAY_SIZE(renderers))
		return -EINVAL;
	if (!body || out_is_blank(body)) {
		*out = strdup("");
		return *out ? 0 : -ENOMEM;
	}
	if (strlen(body) > (size_t)0x7fffffff)
		return -EINVAL;
	r = out_parse(body, &root);
	if (r < 0)
		goto out;
	r = out_hide(root, hide);
	if (r < 0)
		goto out;
	if (brief)
		out_brief(root);
	f = open_memstream(&buf, &len);
	if (!f) {
		r = -ENOMEM;
		goto out;
	}
	r = renderers[format](f, root);
	if (ferror(f) && r >= 0)
		r = -ENOMEM;
	if (fclose(f) && r >= 0)
		r = -ENOMEM;
	if (r < 0)
		goto out;
	if (len && buf[len - 1] != '\n') {
		/* the contract: a non-empty rendering is whole lines */
		char *nbuf = realloc(buf, len + 2);

		if (!nbuf) {
			r = -ENOMEM;
			goto out;
		}
		buf = nbuf;
		buf[len++] = '\n';
		buf[len] = '\0';
	}
	*out = buf;
	buf = NULL;
out:
	free(buf);
	json_object_put(root);
	return r;
}
