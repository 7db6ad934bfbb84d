/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cliparse - the cubectl command line grammar (see cliparse.h).
 *
 * Every argument is sorted into one of: a global option (--x), a show flag
 * (-x), the help mark '?', a key=value pair, a verb word or a path word.
 * Path words keep their order wherever the verb stands; the first word may
 * name an alias (connect, attach, cubes, ...) that has its own fixed path.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>

#include "bus.h"
#include "cliparse.h"

#define CLI_SYNOPSIS                                                     \
	"[options] WORD... [add|del|show|set] [WORD...] [KEY=VALUE...] " \
	"[-json|-yaml|-brief|-hide=KEY,...|-force] [?]"

/* ---- tables ------------------------------------------------------------- */

static const struct cli_verb_word {
	const char *word;
	int verb;
} cli_verbs[] = {
	{ "add", CUBEBUS__VERB__CREATE },
	{ "del", CUBEBUS__VERB__DELETE },
	{ "show", CUBEBUS__VERB__READ },
	{ "set", CUBEBUS__VERB__UPDATE },
};

enum cli_opt_id {
	OPT_RUN_DIR,
	OPT_ENDPOINT,
	OPT_TIMEOUT,
	OPT_HELP,
	OPT_JSON,
	OPT_YAML,
	OPT_BRIEF,
	OPT_HIDE,
	OPT_FORCE,
};

/*
 * Global options start with "--" and take their value as "--x=V" or as the
 * next argument; show flags start with a single '-' and take "-x=V" only.
 */
static const struct cli_opt {
	const char *name;
	enum cli_opt_id id;
	int has_value;
	const char *value_hint;
} cli_opts[] = {
	{ "--run-dir", OPT_RUN_DIR, 1, "DIR" },
	{ "--endpoint", OPT_ENDPOINT, 1, "ENDPOINT" },
	{ "--timeout", OPT_TIMEOUT, 1, "MS" },
	{ "--help", OPT_HELP, 0, NULL },
	{ "-h", OPT_HELP, 0, NULL },
	{ "-json", OPT_JSON, 0, NULL },
	{ "-yaml", OPT_YAML, 0, NULL },
	{ "-brief", OPT_BRIEF, 0, NULL },
	{ "-hide", OPT_HIDE, 1, "KEY[,KEY.SUB...]" },
	{ "-force", OPT_FORCE, 0, NULL },
};

/*
 * Aliases: the first word selects a fixed verb and path. keys[] names the
 * body members that take the positional arguments; without keys the
 * arguments are appended to the path as words.
 */
static const struct cli_alias {
	const char *name;
	int verb;
	const char *path;
	int min_args;
	int max_args;
	const char *keys[3];
	int kv_ok;
	const char *what; /* said when the arity is wrong */
	const char *usage;
} cli_aliases[] = {
	{ "connect",
	  CUBEBUS__VERB__CREATE,
	  "/connect",
	  2,
	  2,
	  { "peer1", "peer2" },
	  0,
	  "connect needs two peers",
	  "connect CUBE:PORT CUBE:PORT|NETDEV" },
	{ "disconnect",
	  CUBEBUS__VERB__DELETE,
	  "/connect",
	  2,
	  2,
	  { "peer1", "peer2" },
	  0,
	  "disconnect needs two peers",
	  "disconnect CUBE:PORT CUBE:PORT|NETDEV" },
	{ "attach",
	  CUBEBUS__VERB__CREATE,
	  "/attach",
	  2,
	  3,
	  { "cube", "port", "other" },
	  1,
	  "attach needs a cube and a port",
	  "attach CUBE CUBE:PORT [position=auto|first|last|before X|after X]" },
	{ "detach",
	  CUBEBUS__VERB__DELETE,
	  "/attach",
	  2,
	  2,
	  { "cube", "port" },
	  0,
	  "detach needs a cube and a port",
	  "detach CUBE CUBE:PORT" },
	{ "cubes", CUBEBUS__VERB__READ, "/cubes", 0, 0, { NULL }, 0, "cubes takes no arguments", "cubes" },
	{ "netdevs", CUBEBUS__VERB__READ, "/netdevs", 0, 0, { NULL }, 0, "netdevs takes no arguments", "netdevs" },
	{ "services", CUBEBUS__VERB__READ, "/services", 0, 0, { NULL }, 0, "services takes no arguments", "services" },
	{ "version", CUBEBUS__VERB__READ, "/version", 0, 0, { NULL }, 0, "version takes no arguments", "version" },
	{ "topology",
	  CUBEBUS__VERB__READ,
	  "/topology",
	  0,
	  1,
	  { NULL },
	  0,
	  "topology takes at most one netdev",
	  "topology [NETDEV]" },
};

/* Characters a path word cannot carry as they are. */
static const struct cli_escape {
	char c;
	const char *esc;
} cli_escapes[] = {
	{ '/', "%2F" },
	{ '%', "%25" },
};

/* Values that become JSON literals rather than strings. */
static const struct cli_literal {
	const char *text;
	int value;
} cli_literals[] = {
	{ "true", 1 },
	{ "false", 0 },
};

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* ---- parse state -------------------------------------------------------- */

struct cli_state {
	const char *prog;
	const char **words; /* path words (or alias name + arguments) */
	int nwords;
	const char **kvs; /* "key=value" arguments */
	int nkvs;
	const char *verb_word;
	int verb;
	int question; /* a '?' was seen */
	int literal;  /* after "--": everything is a path word */
	int alias_ok; /* words[0] may name an alias */
	char *err;
	size_t errlen;
};

static int __attribute__((format(printf, 3, 4))) cli_fail(struct cli_state *st, int r, const char *fmt, ...)
{
	va_list ap;

	if (st->err && st->errlen) {
		va_start(ap, fmt);
		vsnprintf(st->err, st->errlen, fmt, ap);
		va_end(ap);
	}
	return r;
}

const char *cli_prog_name(const char *argv0)
{
	const char *slash;

	if (!argv0 || !*argv0)
		return "cubectl";
	slash = strrchr(argv0, '/');
	if (slash && slash[1])
		return slash + 1;
	return slash ? "cubectl" : argv0;
}

const char *cli_alias_usage(unsigned int i)
{
	return i < ARRAY_SIZE(cli_aliases) ? cli_aliases[i].usage : NULL;
}

static int cli_copy(char *dst, size_t size, const char *src)
{
	size_t n = strlen(src);

	if (n >= size)
		return -ENAMETOOLONG;
	memcpy(dst, src, n + 1);
	return 0;
}

/* "-5" is a word (a value), not a flag. */
static int cli_is_negative_number(const char *s)
{
	return s[0] == '-' && s[1] >= '0' && s[1] <= '9';
}

/*
 * "-12", "0", "42": a decimal integer that fits int64. A leading zero
 * ("007") or a '+' keeps the text a string, so that nothing is lost.
 */
static int cli_parse_int64(const char *s, int64_t *v)
{
	const char *d = s + (*s == '-');
	long long n;
	char *end;

	if (!*d || (d[0] == '0' && d[1]))
		return -EINVAL;
	for (const char *p = d; *p; p++)
		if (*p < '0' || *p > '9')
			return -EINVAL;
	errno = 0;
	n = strtoll(s, &end, 10);
	if (errno || *end)
		return -ERANGE;
	*v = n;
	return 0;
}

/* ---- options and flags ---------------------------------------------------- */

static const struct cli_opt *cli_find_opt(const char *arg, size_t len)
{
	for (size_t i = 0; i < ARRAY_SIZE(cli_opts); i++)
		if (strlen(cli_opts[i].name) == len && !strncmp(cli_opts[i].name, arg, len))
			return &cli_opts[i];
	return NULL;
}

static int cli_apply_opt(struct cli_state *st, struct cli_cmd *out, const struct cli_opt *o, const char *val)
{
	enum cli_format other;
	size_t n;
	long t;
	char *end;

	switch (o->id) {
	case OPT_RUN_DIR:
		if (!*val || cli_copy(out->run_dir, sizeof(out->run_dir), val) < 0)
			return cli_fail(st, -EINVAL, "bad --run-dir '%s'", val);
		break;
	case OPT_ENDPOINT:
		if (!*val || cli_copy(out->endpoint, sizeof(out->endpoint), val) < 0)
			return cli_fail(st, -EINVAL, "bad --endpoint '%s'", val);
		break;
	case OPT_TIMEOUT:
		errno = 0;
		t = strtol(val, &end, 10);
		if (errno || end == val || *end || t <= 0 || t > INT_MAX)
			return cli_fail(st, -EINVAL, "bad --timeout '%s': a number of milliseconds > 0", val);
		out->timeout_ms = (int)t;
		break;
	case OPT_HELP: break;
	case OPT_JSON:
	case OPT_YAML:
		other = o->id == OPT_JSON ? CLI_FMT_YAML : CLI_FMT_JSON;
		if (out->format == other)
			return cli_fail(st, -EINVAL, "-json and -yaml cannot be combined");
		out->format = o->id == OPT_JSON ? CLI_FMT_JSON : CLI_FMT_YAML;
		break;
	case OPT_BRIEF: out->brief = 1; break;
	case OPT_FORCE: out->force = 1; break;
	case OPT_HIDE:
		if (!*val)
			return cli_fail(st, -EINVAL, "-hide needs keys: -hide=KEY[,KEY.SUB...]");
		n = strlen(out->hide);
		if (n + !!n + strlen(val) >= sizeof(out->hide))
			return cli_fail(st, -EINVAL, "-hide list too long");
		if (n)
			out->hide[n++] = ',';
		strcpy(out->hide + n, val);
		break;
	}
	return 0;
}

/* One argument starting with '-'. May consume argv[*i + 1]. */
static int cli_option(struct cli_state *st, struct cli_cmd *out, int argc, char **argv, int *i)
{
	const char *arg = argv[*i];
	const char *eq = strchr(arg, '=');
	size_t len = eq ? (size_t)(eq - arg) : strlen(arg);
	const struct cli_opt *o = cli_find_opt(arg, len);
	const char *val = eq ? eq + 1 : NULL;

	if (!o)
		return cli_fail(st, -EINVAL, "unknown option '%.*s'", (int)len, arg);
	if (!o->has_value && val)
		return cli_fail(st, -EINVAL, "%s takes no value", o->name);
	if (o->has_value && !val) {
		if (o->name[1] != '-' || *i + 1 >= argc)
			return cli_fail(st, -EINVAL, "%s needs a value: %s=%s", o->name, o->name, o->value_hint);
		val = argv[++*i];
	}
	return cli_apply_opt(st, out, o, val ? val : "");
}

/* ---- words ---------------------------------------------------------------- */

static int cli_positional(struct cli_state *st, const char *arg)
{
	if (st->question)
		return cli_fail(st, -EINVAL, "'?' must be the last word, '%s' follows it", arg);
	return 0;
}

static int cli_word(struct cli_state *st, const char *arg)
{
	int r = cli_positional(st, arg);

	if (r < 0)
		return r;
	if (!*arg)
		return cli_fail(st, -EINVAL, "empty word in the command");
	if (!st->nwords)
		st->alias_ok = !st->literal && !st->verb_word;
	st->words[st->nwords++] = arg;
	return 0;
}

/* Returns 1 when arg is a verb word (recorded), 0 when not, or an error. */
static int cli_verb(struct cli_state *st, const char *arg)
{
	const struct cli_verb_word *v = NULL;
	int r;

	for (size_t i = 0; i < ARRAY_SIZE(cli_verbs); i++)
		if (!strcmp(cli_verbs[i].word, arg))
			v = &cli_verbs[i];
	if (!v)
		return 0;
	r = cli_positional(st, arg);
	if (r < 0)
		return r;
	if (st->verb_word)
		return cli_fail(st, -EINVAL, "two verbs: '%s' and '%s'", st->verb_word, arg);
	st->verb_word = arg;
	st->verb = v->verb;
	return 1;
}

/* Sorts argv[*i] into the state; may consume the next argument. */
static int cli_token(struct cli_state *st, struct cli_cmd *out, int argc, char **argv, int *i)
{
	const char *arg = argv[*i];
	int r;

	if (st->literal)
		return cli_word(st, arg);
	if (!strcmp(arg, "--")) {
		st->literal = 1;
		return 0;
	}
	if (arg[0] == '-' && !cli_is_negative_number(arg))
		return cli_option(st, out, argc, argv, i);
	if (!strcmp(arg, "?")) {
		r = cli_positional(st, arg);
		st->question = 1;
		return r;
	}
	if (strchr(arg, '=')) {
		r = cli_positional(st, arg);
		if (r < 0)
			return r;
		st->kvs[st->nkvs++] = arg;
		return 0;
	}
	r = cli_verb(st, arg);
	if (r)
		return r < 0 ? r : 0;
	return cli_word(st, arg);
}

static int cli_path_append(char *path, size_t size, const char *word)
{
	size_t n = strlen(path);

	if (n + 1 >= size)
		return -ENAMETOOLONG;
	path[n++] = '/';
	for (; *word; word++) {
		const char *esc = NULL;
		size_t len;

		for (size_t i = 0; i < ARRAY_SIZE(cli_escapes); i++)
			if (cli_escapes[i].c == *word)
				esc = cli_escapes[i].esc;
		len = esc ? strlen(esc) : 1;
		if (n + len >= size)
			return -ENAMETOOLONG;
		if (esc)
			memcpy(path + n, esc, len);
		else
			path[n] = *word;
		n += len;
	}
	path[n] = '\0';
	return 0;
}

/* ---- body ----------------------------------------------------------------- */

static json_object *cli_value(const char *v)
{
	int64_t n;

	for (size_t i = 0; i < ARRAY_SIZE(cli_literals); i++)
		if (!strcmp(cli_literals[i].text, v))
			return json_object_new_boolean(cli_literals[i].value);
	if (!cli_parse_int64(v, &n))
		return json_object_new_int64(n);
	return json_object_new_string(v);
}

/*
 * Sets body[key] = val, where a dotted key "a.b.c" walks (and creates)
 * nested objects. Takes the reference to val in all cases.
 */
static int cli_body_set(struct cli_state *st, json_object *body, const char *key, size_t keylen, json_object *val)
{
	json_object *cur = body, *child;
	char *copy = strndup(key, keylen);
	char *comp, *dot;
	int r;

	if (!copy || !val) {
		r = cli_fail(st, -ENOMEM, "out of memory");
		goto out;
	}
	if (!*copy) {
		r = cli_fail(st, -EINVAL, "empty key in '%s'", key);
		goto out;
	}
	for (comp = copy;; comp = dot + 1) {
		dot = strchr(comp, '.');
		if (dot)
			*dot = '\0';
		if (!*comp) {
			r = cli_fail(st, -EINVAL, "bad key '%.*s': empty part", (int)keylen, key);
			goto out;
		}
		if (!dot)
			break;
		if (!json_object_object_get_ex(cur, comp, &child)) {
			child = json_object_new_object();
			if (!child || json_object_object_add(cur, comp, child) < 0) {
				json_object_put(child);
				r = cli_fail(st, -ENOMEM, "out of memory");
				goto out;
			}
		} else if (!json_object_is_type(child, json_type_object)) {
			r = cli_fail(st, -EINVAL, "key '%.*s' conflicts with '%.*s'", (int)keylen, key,
				     (int)(dot - copy), key);
			goto out;
		}
		*dot = '.';
		cur = child;
	}
	if (json_object_object_get_ex(cur, comp, NULL)) {
		r = cli_fail(st, -EINVAL, "duplicate key '%.*s'", (int)keylen, key);
		goto out;
	}
	if (json_object_object_add(cur, comp, val) < 0) {
		r = cli_fail(st, -ENOMEM, "out of memory");
		goto out;
	}
	val = NULL;
	r = 0;
out:
	json_object_put(val);
	free(copy);
	return r;
}

static int cli_body_get(struct cli_state *st, json_object **body)
{
	if (!*body)
		*body = json_object_new_object();
	return *body ? 0 : cli_fail(st, -ENOMEM, "out of memory");
}

static int cli_kvs(struct cli_state *st, json_object **body)
{
	int r = 0;

	for (int i = 0; i < st->nkvs && !r; i++) {
		const char *kv = st->kvs[i];
		const char *eq = strchr(kv, '=');

		r = cli_body_get(st, body);
		if (!r)
			r = cli_body_set(st, *body, kv, (size_t)(eq - kv), cli_value(eq + 1));
	}
	return r;
}

static const char *cli_skip_space(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
		p++;
	return p;
}

/*
 * Reads a JSON object from fd when fd is a pipe or a regular file with
 * something in it. *body stays NULL when there is nothing to read.
 */
static int cli_stdin_body(struct cli_state *st, int fd, json_object **body)
{
	struct json_tokener *tok = NULL;
	json_object *obj = NULL;
	const char *start, *end;
	size_t len = 0, cap = 0;
	char *buf = NULL, *nbuf;
	enum json_tokener_error jerr;
	struct stat sb;
	ssize_t n;
	int r;

	if (fstat(fd, &sb) < 0 || !(S_ISFIFO(sb.st_mode) || S_ISREG(sb.st_mode)))
		return 0;
	if (S_ISFIFO(sb.st_mode)) {
		/* A pipe nobody writes to (a script's inherited stdin) must not
		 * hang the command: a piped body is there at once. */
		struct pollfd pfd = { .fd = fd, .events = POLLIN };

		if (poll(&pfd, 1, 200) <= 0)
			return 0;
	}
	for (;;) {
		if (len == cap) {
			if (cap > CLI_MAX_STDIN_BODY) {
				r = cli_fail(st, -EFBIG, "stdin: body larger than %d KiB", CLI_MAX_STDIN_BODY / 1024);
				goto out;
			}
			cap = cap ? cap * 2 : 4096;
			if (cap > CLI_MAX_STDIN_BODY + 1)
				cap = CLI_MAX_STDIN_BODY + 1;
			nbuf = realloc(buf, cap + 1); /* + the NUL json-c ends on */
			if (!nbuf) {
				r = cli_fail(st, -ENOMEM, "out of memory");
				goto out;
			}
			buf = nbuf;
		}
		n = read(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = cli_fail(st, -errno, "stdin: %s", strerror(errno));
			goto out;
		}
		if (!n)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	end = buf + len;
	start = cli_skip_space(buf, end);
	if (start == end) {
		r = 0;
		goto out;
	}
	tok = json_tokener_new();
	if (!tok) {
		r = cli_fail(st, -ENOMEM, "out of memory");
		goto out;
	}
	obj = json_tokener_parse_ex(tok, start, (int)(end - start) + 1);
	jerr = json_tokener_get_error(tok);
	if (!obj || jerr != json_tokener_success) {
		r = cli_fail(st, -EINVAL, "stdin: not a JSON object: %s%s",
			     jerr == json_tokener_continue ? "unexpected end of input" : json_tokener_error_desc(jerr),
			     *start != '{' ? " (YAML bodies are not supported yet, give JSON)" : "");
		goto out;
	}
	if (cli_skip_space(start + json_tokener_get_parse_end(tok), end) != end) {
		r = cli_fail(st, -EINVAL, "stdin: not a JSON object: trailing data after the JSON");
		goto out;
	}
	if (!json_object_is_type(obj, json_type_object)) {
		r = cli_fail(st, -EINVAL, "stdin: not a JSON object: got a JSON %s",
			     json_type_to_name(json_object_get_type(obj)));
		goto out;
	}
	*body = obj;
	obj = NULL;
	r = 0;
out:
	json_object_put(obj);
	if (tok)
		json_tokener_free(tok);
	free(buf);
	return r;
}

/* ---- commands ------------------------------------------------------------- */

static const struct cli_alias *cli_find_alias(const char *word)
{
	for (size_t i = 0; i < ARRAY_SIZE(cli_aliases); i++)
		if (!strcmp(cli_aliases[i].name, word))
			return &cli_aliases[i];
	return NULL;
}

static int cli_alias(struct cli_state *st, const struct cli_alias *a, struct cli_cmd *out, json_object **body)
{
	int nargs = st->nwords - 1;
	int r;

	if (st->verb_word)
		return cli_fail(st, -EINVAL, "%s cannot be combined with '%s': %s %s", a->name, st->verb_word, st->prog,
				a->usage);
	strcpy(out->path, a->path);
	if (st->question) {
		out->verb = CUBEBUS__VERB__HELP;
		return 0;
	}
	if (nargs < a->min_args || nargs > a->max_args)
		return cli_fail(st, -EINVAL, "%s: %s %s", a->what, st->prog, a->usage);
	if (st->nkvs && !a->kv_ok)
		return cli_fail(st, -EINVAL, "%s takes no key=value: %s %s", a->name, st->prog, a->usage);
	out->verb = a->verb;
	for (int i = 0; i < nargs; i++) {
		const char *arg = st->words[i + 1];

		if (!a->keys[0]) {
			if (cli_path_append(out->path, sizeof(out->path), arg) < 0)
				return cli_fail(st, -ENAMETOOLONG, "path too long");
			continue;
		}
		r = cli_body_get(st, body);
		if (r < 0)
			return r;
		r = cli_body_set(st, *body, a->keys[i], strlen(a->keys[i]), json_object_new_string(arg));
		if (r < 0)
			return r;
	}
	return 0;
}

static int cli_plain(struct cli_state *st, struct cli_cmd *out)
{
	if (!st->nwords && !st->question && st->verb != CUBEBUS__VERB__READ)
		return cli_fail(st, -EINVAL, "missing command; usage: %s %s", st->prog, CLI_SYNOPSIS);
	if (st->question)
		out->verb = CUBEBUS__VERB__HELP;
	else
		out->verb = st->verb_word ? st->verb : CUBEBUS__VERB__CREATE;
	strcpy(out->path, st->nwords ? "" : "/");
	for (int i = 0; i < st->nwords; i++)
		if (cli_path_append(out->path, sizeof(out->path), st->words[i]) < 0)
			return cli_fail(st, -ENAMETOOLONG, "path too long");
	return 0;
}

static int cli_wants_help(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		const struct cli_opt *o;

		if (!strcmp(argv[i], "--"))
			break;
		o = cli_find_opt(argv[i], strlen(argv[i]));
		if (o && o->id == OPT_HELP)
			return 1;
	}
	return 0;
}

static int cli_body_verb(int verb)
{
	return verb == CUBEBUS__VERB__CREATE || verb == CUBEBUS__VERB__UPDATE || verb == CUBEBUS__VERB__REPLACE;
}

int cli_parse(int argc, char **argv, int stdin_fd, struct cli_cmd *out, char *err, size_t errlen)
{
	struct cli_state st = { .err = err, .errlen = errlen };
	const struct cli_alias *a = NULL;
	json_object *body = NULL;
	const char *text;
	int r, i;

	memset(out, 0, sizeof(*out));
	out->verb = CUBEBUS__VERB__VERB_NONE;
	out->format = CLI_FMT_TEXT;
	out->timeout_ms = CLI_DEFAULT_TIMEOUT_MS;
	if (err && errlen)
		err[0] = '\0';
	st.prog = cli_prog_name(argc > 0 ? argv[0] : NULL);
	if (cli_copy(out->run_dir, sizeof(out->run_dir), bus_env("CUBEBUS_RUN_DIR", BUS_DEFAULT_RUN_DIR)) < 0) {
		r = cli_fail(&st, -ENAMETOOLONG, "CUBEBUS_RUN_DIR too long");
		goto out;
	}
	if (cli_wants_help(argc, argv)) {
		r = 0;
		goto out;
	}
	st.words = calloc((size_t)argc + 1, sizeof(*st.words));
	st.kvs = calloc((size_t)argc + 1, sizeof(*st.kvs));
	if (!st.words || !st.kvs) {
		r = cli_fail(&st, -ENOMEM, "out of memory");
		goto out;
	}
	for (i = 1; i < argc; i++) {
		r = cli_token(&st, out, argc, argv, &i);
		if (r < 0)
			goto out;
	}
	if (!out->endpoint[0])
		bus_ipc_endpoint(out->endpoint, sizeof(out->endpoint), out->run_dir, "ctl");

	if (st.question && st.nkvs) {
		r = cli_fail(&st, -EINVAL, "'?' takes no key=value");
		goto out;
	}
	if (st.nwords && st.alias_ok)
		a = cli_find_alias(st.words[0]);
	r = a ? cli_alias(&st, a, out, &body) : cli_plain(&st, out);
	if (r < 0)
		goto out;
	r = cli_kvs(&st, &body);
	if (r < 0)
		goto out;
	if (!body && stdin_fd >= 0 && cli_body_verb(out->verb)) {
		r = cli_stdin_body(&st, stdin_fd, &body);
		if (r < 0)
			goto out;
	}
	if (body) {
		text = json_object_to_json_string_ext(body, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
		out->body = text ? strdup(text) : NULL;
		if (!out->body) {
			r = cli_fail(&st, -ENOMEM, "out of memory");
			goto out;
		}
	}
	r = 0;
out:
	json_object_put(body);
	free(st.words);
	free(st.kvs);
	if (r < 0)
		cli_cmd_clear(out);
	return r;
}

void cli_cmd_clear(struct cli_cmd *cmd)
{
	if (!cmd)
		return;
	free(cmd->body);
	cmd->body = NULL;
}
