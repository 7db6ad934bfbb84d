/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_cliparse - selftest of the cubectl grammar (cli/cliparse.c).
 *
 * Table-driven: argv -> verb, path, body, format flags, or an error. Prints
 * one "ok - name" / "not ok - name" line per case, exits 1 on any failure.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cubebus.pb-c.h"
#include "cliparse.h"

#define C    CUBEBUS__VERB__CREATE
#define R    CUBEBUS__VERB__READ
#define U    CUBEBUS__VERB__UPDATE
#define D    CUBEBUS__VERB__DELETE
#define H    CUBEBUS__VERB__HELP
#define NONE CUBEBUS__VERB__VERB_NONE

#define ARGV(...)                            \
	{                                    \
		"cubectl", __VA_ARGS__, NULL \
	}
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

struct parse_case {
	const char *name;
	const char *argv[16];
	int rc; /* expected return of cli_parse */
	int verb;
	const char *path;
	const char *body; /* NULL: no body */
	const char *err;  /* substring of the error message when rc < 0 */
	enum cli_format format;
	int brief;
	const char *hide;
};

/* A request without body, with a body, with output flags; an error. */
#define REQ(n, args, v, p)                                    \
	{                                                     \
		.name = n, .argv = args, .verb = v, .path = p \
	}
#define BODY(n, args, v, p, b)                                           \
	{                                                                \
		.name = n, .argv = args, .verb = v, .path = p, .body = b \
	}
#define SHOW(n, args, v, p, fmt, brf, hid)                                                              \
	{                                                                                               \
		.name = n, .argv = args, .verb = v, .path = p, .format = fmt, .brief = brf, .hide = hid \
	}
#define FAIL(n, args, msg)                                         \
	{                                                          \
		.name = n, .argv = args, .rc = -EINVAL, .err = msg \
	}

static const struct parse_case cases[] = {
	/* the README / polycubectl examples */
	REQ("add cube", ARGV("simplebridge", "add", "br1"), C, "/simplebridge/br1"),
	BODY("add port with peer", ARGV("br1", "ports", "add", "p1", "peer=veth1"), C, "/br1/ports/p1",
	     "{\"peer\":\"veth1\"}"),
	BODY("add cube with type", ARGV("simplebridge", "add", "br2", "type=XDP_SKB"), C, "/simplebridge/br2",
	     "{\"type\":\"XDP_SKB\"}"),
	REQ("show fdb", ARGV("br1", "fdb", "show"), R, "/br1/fdb"),
	REQ("action without verb", ARGV("br1", "fdb", "flush"), C, "/br1/fdb/flush"),
	BODY("set on cube", ARGV("hw1", "set", "action=FORWARD"), U, "/hw1", "{\"action\":\"FORWARD\"}"),
	BODY("add with two values", ARGV("sf", "actions", "add", "sf-p1", "action=FORWARD", "outport=sf-p2"), C,
	     "/sf/actions/sf-p1", "{\"action\":\"FORWARD\",\"outport\":\"sf-p2\"}"),
	BODY("set on port", ARGV("br1", "ports", "p1", "set", "peer=veth9"), U, "/br1/ports/p1",
	     "{\"peer\":\"veth9\"}"),
	REQ("del cube", ARGV("del", "br1"), D, "/br1"),
	REQ("del port", ARGV("br1", "ports", "del", "p1"), D, "/br1/ports/p1"),
	SHOW("verb in the middle -json", ARGV("r1", "show", "route", "-json"), R, "/r1/route", CLI_FMT_JSON, 0, NULL),
	REQ("verb at the end", ARGV("r1", "route", "show"), R, "/r1/route"),
	REQ("verb first", ARGV("show", "r1", "route"), R, "/r1/route"),
	REQ("slash escaped", ARGV("r1", "route", "add", "10.0.3.0/24", "10.1.0.2"), C,
	    "/r1/route/10.0.3.0%2F24/10.1.0.2"),
	REQ("percent escaped", ARGV("r1", "x", "add", "50%/a"), C, "/r1/x/50%25%2Fa"),
	REQ("negative number is a word", ARGV("r1", "x", "add", "-5"), C, "/r1/x/-5"),
	REQ("help mark", ARGV("br1", "?"), H, "/br1"),
	REQ("help mark on root", ARGV("?"), H, "/"),
	REQ("help mark with verb", ARGV("br1", "ports", "add", "?"), H, "/br1/ports"),
	SHOW("help mark then flag", ARGV("br1", "?", "-json"), H, "/br1", CLI_FMT_JSON, 0, NULL),
	REQ("show root", ARGV("show"), R, "/"),

	/* aliases */
	BODY("connect", ARGV("connect", "br1:p3", "sf:sf-p1"), C, "/connect",
	     "{\"peer1\":\"br1:p3\",\"peer2\":\"sf:sf-p1\"}"),
	BODY("connect netdev", ARGV("connect", "br1:p1", "veth1"), C, "/connect",
	     "{\"peer1\":\"br1:p1\",\"peer2\":\"veth1\"}"),
	BODY("disconnect", ARGV("disconnect", "br1:p3", "sf:sf-p1"), D, "/connect",
	     "{\"peer1\":\"br1:p3\",\"peer2\":\"sf:sf-p1\"}"),
	BODY("attach", ARGV("attach", "fw1", "br1:p1"), C, "/attach", "{\"cube\":\"fw1\",\"port\":\"br1:p1\"}"),
	BODY("attach position", ARGV("attach", "fw1", "br1:p1", "position=first"), C, "/attach",
	     "{\"cube\":\"fw1\",\"port\":\"br1:p1\",\"position\":\"first\"}"),
	BODY("attach after", ARGV("attach", "fw2", "eth0", "after=fw1"), C, "/attach",
	     "{\"cube\":\"fw2\",\"port\":\"eth0\",\"after\":\"fw1\"}"),
	BODY("detach", ARGV("detach", "fw1", "br1:p1"), D, "/attach", "{\"cube\":\"fw1\",\"port\":\"br1:p1\"}"),
	REQ("cubes", ARGV("cubes"), R, "/cubes"),
	SHOW("cubes -json", ARGV("cubes", "-json"), R, "/cubes", CLI_FMT_JSON, 0, NULL),
	REQ("netdevs", ARGV("netdevs"), R, "/netdevs"),
	SHOW("services -yaml", ARGV("services", "-yaml"), R, "/services", CLI_FMT_YAML, 0, NULL),
	REQ("version", ARGV("version"), R, "/version"),
	REQ("topology", ARGV("topology"), R, "/topology"),
	REQ("topology netdev", ARGV("topology", "eth0"), R, "/topology/eth0"),
	REQ("alias help", ARGV("connect", "?"), H, "/connect"),
	REQ("alias name not first is a word", ARGV("del", "cubes"), D, "/cubes"),
	SHOW("options before alias", ARGV("--timeout=5", "cubes", "-brief"), R, "/cubes", CLI_FMT_TEXT, 1, NULL),

	/* key=value typing */
	BODY("number value", ARGV("br1", "set", "aging-time=30"), U, "/br1", "{\"aging-time\":30}"),
	BODY("negative number", ARGV("x", "set", "n=-12"), U, "/x", "{\"n\":-12}"),
	BODY("zero", ARGV("x", "set", "n=0"), U, "/x", "{\"n\":0}"),
	BODY("leading zero stays string", ARGV("x", "set", "n=007"), U, "/x", "{\"n\":\"007\"}"),
	BODY("too big stays string", ARGV("x", "set", "n=9223372036854775808"), U, "/x",
	     "{\"n\":\"9223372036854775808\"}"),
	BODY("int64 max", ARGV("x", "set", "n=9223372036854775807"), U, "/x", "{\"n\":9223372036854775807}"),
	BODY("int64 min", ARGV("x", "set", "n=-9223372036854775808"), U, "/x", "{\"n\":-9223372036854775808}"),
	BODY("fraction stays string", ARGV("x", "set", "n=1.5"), U, "/x", "{\"n\":\"1.5\"}"),
	BODY("booleans", ARGV("x", "set", "a=true", "b=false", "c=True"), U, "/x",
	     "{\"a\":true,\"b\":false,\"c\":\"True\"}"),
	BODY("empty value", ARGV("br1", "ports", "p1", "set", "peer="), U, "/br1/ports/p1", "{\"peer\":\"\"}"),
	BODY("value with =", ARGV("x", "set", "k=a=b"), U, "/x", "{\"k\":\"a=b\"}"),
	BODY("value with slash", ARGV("x", "add", "y", "net=10.0.0.0/8"), C, "/x/y", "{\"net\":\"10.0.0.0/8\"}"),
	BODY("dotted key", ARGV("x", "set", "a.b=c"), U, "/x", "{\"a\":{\"b\":\"c\"}}"),
	BODY("dotted keys merge", ARGV("x", "set", "a.b=1", "a.c.d=x", "e=2"), U, "/x",
	     "{\"a\":{\"b\":1,\"c\":{\"d\":\"x\"}},\"e\":2}"),
	BODY("kv before verb", ARGV("br1", "peer=veth1", "ports", "add", "p1"), C, "/br1/ports/p1",
	     "{\"peer\":\"veth1\"}"),

	/* flags and options */
	SHOW("-yaml", ARGV("br1", "show", "-yaml"), R, "/br1", CLI_FMT_YAML, 0, NULL),
	SHOW("-brief", ARGV("-brief", "br1", "show"), R, "/br1", CLI_FMT_TEXT, 1, NULL),
	SHOW("-hide", ARGV("br1", "show", "-hide=uuid,ports.uuid"), R, "/br1", CLI_FMT_TEXT, 0, "uuid,ports.uuid"),
	SHOW("-hide twice", ARGV("br1", "show", "-hide=uuid", "-hide=fdb"), R, "/br1", CLI_FMT_TEXT, 0, "uuid,fdb"),
	SHOW("-json twice", ARGV("br1", "-json", "show", "-json"), R, "/br1", CLI_FMT_JSON, 0, NULL),
	REQ("double dash", ARGV("x", "--", "show", "-json", "a=b"), C, "/x/show/-json/a=b"),
	REQ("-h", ARGV("-h"), NONE, NULL),
	REQ("--help anywhere", ARGV("br1", "show", "del", "--help"), NONE, NULL),

	/* errors */
	FAIL("empty command", ARGV(NULL), "missing command"),
	FAIL("only flags", ARGV("-json"), "missing command"),
	FAIL("verb without path", ARGV("add", "a=1"), "missing command"),
	FAIL("two verbs", ARGV("br1", "show", "del"), "two verbs: 'show' and 'del'"),
	FAIL("same verb twice", ARGV("br1", "show", "show"), "two verbs"),
	FAIL("bad flag", ARGV("br1", "show", "-foo"), "unknown option '-foo'"),
	FAIL("bad option", ARGV("--bogus=1", "cubes"), "unknown option '--bogus'"),
	FAIL("lone dash", ARGV("br1", "-"), "unknown option"),
	FAIL("flag with value", ARGV("br1", "-json=1"), "takes no value"),
	FAIL("-json -yaml", ARGV("br1", "-json", "-yaml"), "cannot be combined"),
	FAIL("-hide empty", ARGV("br1", "-hide="), "-hide needs keys"),
	FAIL("-hide without =", ARGV("br1", "-hide", "uuid"), "-hide needs a value"),
	FAIL("connect one peer", ARGV("connect", "br1:p1"),
	     "connect needs two peers: cubectl connect CUBE:PORT CUBE:PORT|NETDEV"),
	FAIL("connect three peers", ARGV("connect", "a", "b", "c"), "connect needs two peers"),
	FAIL("disconnect one peer", ARGV("disconnect", "a"), "disconnect needs two peers: cubectl disconnect"),
	FAIL("attach one arg", ARGV("attach", "fw1"), "attach needs a cube and a port"),
	FAIL("detach no arg", ARGV("detach"), "detach needs a cube and a port"),
	FAIL("cubes with arg", ARGV("cubes", "br1"), "cubes takes no arguments"),
	FAIL("topology two args", ARGV("topology", "a", "b"), "topology takes at most one netdev"),
	FAIL("connect with kv", ARGV("connect", "a", "b", "x=1"), "connect takes no key=value"),
	FAIL("alias with verb", ARGV("connect", "a", "b", "show"), "connect cannot be combined with 'show'"),
	FAIL("duplicate key", ARGV("br1", "set", "a=1", "a=2"), "duplicate key 'a'"),
	FAIL("duplicate dotted key", ARGV("x", "set", "a.b=1", "a.b=2"), "duplicate key 'a.b'"),
	FAIL("dotted after plain", ARGV("x", "set", "a=1", "a.b=2"), "key 'a.b' conflicts with 'a'"),
	FAIL("plain after dotted", ARGV("x", "set", "a.b=1", "a=2"), "duplicate key 'a'"),
	FAIL("attach dup key", ARGV("attach", "fw", "p", "cube=x"), "duplicate key 'cube'"),
	FAIL("empty key", ARGV("x", "set", "=1"), "empty key"),
	FAIL("empty key part", ARGV("x", "set", "a..b=1"), "bad key 'a..b'"),
	FAIL("mark not last", ARGV("br1", "?", "ports"), "'?' must be the last word"),
	FAIL("mark with kv", ARGV("br1", "a=1", "?"), "'?' takes no key=value"),
	FAIL("timeout zero", ARGV("--timeout=0", "cubes"), "bad --timeout"),
	FAIL("timeout text", ARGV("--timeout=soon", "cubes"), "bad --timeout 'soon'"),
	FAIL("run-dir missing value", ARGV("cubes", "--run-dir"), "--run-dir needs a value"),
	FAIL("empty word", ARGV("br1", "", "show"), "empty word"),
};

static int failures;
static int count;

static void __attribute__((format(printf, 2, 3))) report(int ok, const char *fmt, ...)
{
	va_list ap;

	count++;
	if (!ok)
		failures++;
	printf("%s - ", ok ? "ok" : "not ok");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

static int argv_count(const char *const *argv)
{
	int n = 0;

	while (argv[n])
		n++;
	return n;
}

static int str_eq(const char *a, const char *b)
{
	if (!a || !b)
		return a == b;
	return !strcmp(a, b);
}

static int check_case(const struct parse_case *c, int stdin_fd, char *why, size_t whylen)
{
	struct cli_cmd cmd;
	char err[512];
	int r, ok = 0;

	r = cli_parse(argv_count(c->argv), (char **)c->argv, stdin_fd, &cmd, err, sizeof(err));
	if (r != c->rc) {
		snprintf(why, whylen, "rc %d, want %d (%s)", r, c->rc, err);
		goto out;
	}
	if (r < 0) {
		if (!*err || (c->err && !strstr(err, c->err))) {
			snprintf(why, whylen, "error '%s', want '%s'", err, c->err);
			goto out;
		}
		if (cmd.body) {
			snprintf(why, whylen, "body left after an error");
			goto out;
		}
		ok = 1;
		goto out;
	}
	if (cmd.verb != c->verb) {
		snprintf(why, whylen, "verb %d, want %d", cmd.verb, c->verb);
		goto out;
	}
	if (c->path && strcmp(cmd.path, c->path)) {
		snprintf(why, whylen, "path '%s', want '%s'", cmd.path, c->path);
		goto out;
	}
	if (c->verb != NONE && !str_eq(cmd.body, c->body)) {
		snprintf(why, whylen, "body '%s', want '%s'", cmd.body ? cmd.body : "(null)",
			 c->body ? c->body : "(null)");
		goto out;
	}
	if (c->verb != NONE &&
	    (cmd.format != c->format || cmd.brief != c->brief || strcmp(cmd.hide, c->hide ? c->hide : ""))) {
		snprintf(why, whylen, "format %d brief %d hide '%s'", cmd.format, cmd.brief, cmd.hide);
		goto out;
	}
	ok = 1;
out:
	cli_cmd_clear(&cmd);
	return ok;
}

static void test_table(void)
{
	char why[4608];

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		why[0] = '\0';
		if (check_case(&cases[i], -1, why, sizeof(why)))
			report(1, "%s", cases[i].name);
		else
			report(0, "%s: %s", cases[i].name, why);
	}
}

/* ---- environment, options ------------------------------------------------ */

struct env_case {
	const char *name;
	const char *env; /* CUBEBUS_RUN_DIR or NULL */
	const char *argv[8];
	const char *run_dir;
	const char *endpoint;
	int timeout_ms;
};

static const struct env_case env_cases[] = {
	{ "default run dir", NULL, ARGV("cubes"), "/run/cubebus", "ipc:///run/cubebus/ctl.sock", 30000 },
	{ "empty env is unset", "", ARGV("cubes"), "/run/cubebus", "ipc:///run/cubebus/ctl.sock", 30000 },
	{ "env run dir", "/tmp/cb", ARGV("cubes"), "/tmp/cb", "ipc:///tmp/cb/ctl.sock", 30000 },
	{ "--run-dir beats env", "/tmp/cb", ARGV("--run-dir=/x/y", "cubes"), "/x/y", "ipc:///x/y/ctl.sock", 30000 },
	{ "--run-dir after words", NULL, ARGV("cubes", "--run-dir=/x"), "/x", "ipc:///x/ctl.sock", 30000 },
	{ "--run-dir separate value", NULL, ARGV("--run-dir", "/x", "cubes"), "/x", "ipc:///x/ctl.sock", 30000 },
	{ "--endpoint", NULL, ARGV("--endpoint=tcp://127.0.0.1:5555", "cubes"), "/run/cubebus", "tcp://127.0.0.1:5555",
	  30000 },
	{ "--endpoint and --run-dir", NULL, ARGV("--endpoint=ipc:///a.sock", "--run-dir=/r", "cubes"), "/r",
	  "ipc:///a.sock", 30000 },
	{ "--timeout", NULL, ARGV("--timeout=500", "cubes"), "/run/cubebus", "ipc:///run/cubebus/ctl.sock", 500 },
	{ "--timeout separate", NULL, ARGV("cubes", "--timeout", "42"), "/run/cubebus", "ipc:///run/cubebus/ctl.sock",
	  42 },
};

static void test_env(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(env_cases); i++) {
		const struct env_case *c = &env_cases[i];
		struct cli_cmd cmd;
		char err[512];
		int r;

		if (c->env)
			setenv("CUBEBUS_RUN_DIR", c->env, 1);
		else
			unsetenv("CUBEBUS_RUN_DIR");
		r = cli_parse(argv_count(c->argv), (char **)c->argv, -1, &cmd, err, sizeof(err));
		report(!r && !strcmp(cmd.run_dir, c->run_dir) && !strcmp(cmd.endpoint, c->endpoint) &&
			       cmd.timeout_ms == c->timeout_ms,
		       "%s (rc %d, '%s', '%s', %d)", c->name, r, cmd.run_dir, cmd.endpoint, cmd.timeout_ms);
		cli_cmd_clear(&cmd);
	}
	unsetenv("CUBEBUS_RUN_DIR");
}

static void test_prog_name(void)
{
	const char *argv[] = { "/usr/local/bin/polycubectl", "connect", "a", NULL };
	struct cli_cmd cmd;
	char err[512];
	int r;

	report(!strcmp(cli_prog_name("/usr/bin/polycubectl"), "polycubectl"), "prog name from path");
	report(!strcmp(cli_prog_name("cubectl"), "cubectl"), "prog name bare");
	report(!strcmp(cli_prog_name(NULL), "cubectl"), "prog name null");
	r = cli_parse(3, (char **)argv, -1, &cmd, err, sizeof(err));
	report(r == -EINVAL && strstr(err, ": polycubectl connect CUBE:PORT"), "usage in errors names argv[0] (%s)",
	       err);
	cli_cmd_clear(&cmd);
	report(cli_alias_usage(0) && !cli_alias_usage(1000), "alias usage iterator");
}

static void test_force(void)
{
	const char *with[] = { "cubectl", "br1", "ports", "add", "p1", "peer=veth1", "-force", NULL };
	const char *without[] = { "cubectl", "br1", "ports", "add", "p1", "peer=veth1", NULL };
	const char *valued[] = { "cubectl", "br1", "ports", "add", "p1", "-force=yes", NULL };
	struct cli_cmd cmd;
	char err[512];
	int r;

	r = cli_parse(7, (char **)with, -1, &cmd, err, sizeof(err));
	report(r == 0 && cmd.force && !strcmp(cmd.path, "/br1/ports/p1") && cmd.body && strstr(cmd.body, "veth1"),
	       "-force sets force, the request is the same (%s)", err);
	cli_cmd_clear(&cmd);
	r = cli_parse(6, (char **)without, -1, &cmd, err, sizeof(err));
	report(r == 0 && !cmd.force, "no -force, no force");
	cli_cmd_clear(&cmd);
	r = cli_parse(6, (char **)valued, -1, &cmd, err, sizeof(err));
	report(r == -EINVAL && strstr(err, "-force takes no value"), "-force=yes refused (%s)", err);
	cli_cmd_clear(&cmd);
}

/* ---- body from stdin ------------------------------------------------------ */

struct stdin_case {
	const char *name;
	const char *input; /* written into a pipe, then closed */
	const char *argv[8];
	int rc;
	const char *body; /* expected body */
	const char *err;
	int consumed; /* the pipe was read */
};

static const struct stdin_case stdin_cases[] = {
	{ "pipe body on add", "{\"peer\": \"veth1\"}\n", ARGV("br1", "ports", "add", "p1"), 0, "{\"peer\":\"veth1\"}",
	  NULL, 1 },
	{ "pipe body on set", " {\"a\":{\"b\":[1,2]},\"n\":\"x/y\"} ", ARGV("x", "set"), 0,
	  "{\"a\":{\"b\":[1,2]},\"n\":\"x/y\"}", NULL, 1 },
	{ "pipe body on action", "{\"x\":1}", ARGV("br1", "fdb", "flush"), 0, "{\"x\":1}", NULL, 1 },
	{ "pipe ignored on show", "{\"a\":1}", ARGV("br1", "show"), 0, NULL, NULL, 0 },
	{ "pipe ignored on del", "{\"a\":1}", ARGV("del", "br1"), 0, NULL, NULL, 0 },
	{ "pipe ignored with kv", "{\"a\":1}", ARGV("br1", "set", "b=2"), 0, "{\"b\":2}", NULL, 0 },
	{ "pipe ignored by connect", "{\"a\":1}", ARGV("connect", "a", "b"), 0, "{\"peer1\":\"a\",\"peer2\":\"b\"}",
	  NULL, 0 },
	{ "pipe ignored on help", "{\"a\":1}", ARGV("br1", "?"), 0, NULL, NULL, 0 },
	{ "empty pipe", "", ARGV("simplebridge", "add", "br1"), 0, NULL, NULL, 1 },
	{ "blank pipe", " \n\t\n", ARGV("simplebridge", "add", "br1"), 0, NULL, NULL, 1 },
	{ "pipe array", "[1,2]", ARGV("x", "set"), -EINVAL, NULL, "stdin: not a JSON object: got a JSON array", 1 },
	{ "pipe yaml", "name: br1\ntype: TC\n", ARGV("x", "set"), -EINVAL, NULL, "YAML bodies are not supported yet",
	  1 },
	{ "pipe broken json", "{\"a\":", ARGV("x", "set"), -EINVAL, NULL, "stdin: not a JSON object: unexpected end",
	  1 },
	{ "pipe bad json", "{\"a\" 1}", ARGV("x", "set"), -EINVAL, NULL, "stdin: not a JSON object: ", 1 },
	{ "pipe number", "42", ARGV("x", "set"), -EINVAL, NULL, "stdin: not a JSON object: got a JSON int", 1 },
	{ "pipe trailing data", "{\"a\":1} x", ARGV("x", "set"), -EINVAL, NULL, "trailing", 1 },
};

static int pipe_with(const char *input, int *rfd)
{
	int fds[2];
	size_t len = strlen(input);

	if (pipe(fds) < 0)
		return -errno;
	if (write(fds[1], input, len) != (ssize_t)len) {
		close(fds[0]);
		close(fds[1]);
		return -EIO;
	}
	close(fds[1]);
	*rfd = fds[0];
	return 0;
}

static void test_stdin(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(stdin_cases); i++) {
		const struct stdin_case *c = &stdin_cases[i];
		struct cli_cmd cmd;
		char err[512] = "", probe;
		int fd = -1, r, ok, left;

		if (pipe_with(c->input, &fd) < 0) {
			report(0, "%s: pipe", c->name);
			continue;
		}
		r = cli_parse(argv_count(c->argv), (char **)c->argv, fd, &cmd, err, sizeof(err));
		left = *c->input && read(fd, &probe, 1) == 1;
		ok = r == c->rc && str_eq(cmd.body, c->body) && (!c->err || strstr(err, c->err)) &&
		     (!*c->input || left == !c->consumed);
		report(ok, "%s (rc %d, body %s, err '%s')", c->name, r, cmd.body ? cmd.body : "(null)", err);
		cli_cmd_clear(&cmd);
		close(fd);
	}
}

/* A regular file as stdin: a body, and one over the 1 MiB cap. */
static void test_stdin_file(void)
{
	const char *argv[] = ARGV("x", "add", "y");
	struct cli_cmd cmd;
	char err[512] = "";
	FILE *f = tmpfile();
	size_t big = CLI_MAX_STDIN_BODY + 16;
	char *buf;
	int r;

	if (!f) {
		report(0, "tmpfile");
		return;
	}
	fputs("{\"k\": true}", f);
	fflush(f);
	rewind(f);
	r = cli_parse(4, (char **)argv, fileno(f), &cmd, err, sizeof(err));
	report(!r && str_eq(cmd.body, "{\"k\":true}"), "regular file body (%s)", cmd.body ? cmd.body : err);
	cli_cmd_clear(&cmd);

	buf = malloc(big);
	if (!buf) {
		report(0, "malloc");
		fclose(f);
		return;
	}
	memset(buf, ' ', big);
	buf[0] = '{';
	buf[big - 1] = '}';
	rewind(f);
	fwrite(buf, 1, big, f);
	fflush(f);
	rewind(f);
	r = cli_parse(4, (char **)argv, fileno(f), &cmd, err, sizeof(err));
	report(r == -EFBIG && strstr(err, "larger than") && !cmd.body, "body over 1 MiB (%s)", err);
	cli_cmd_clear(&cmd);
	/* exactly at the cap is fine */
	if (ftruncate(fileno(f), CLI_MAX_STDIN_BODY) < 0 || pwrite(fileno(f), "}", 1, CLI_MAX_STDIN_BODY - 1) != 1 ||
	    lseek(fileno(f), 0, SEEK_SET) < 0) {
		report(0, "body of exactly 1 MiB: file setup");
	} else {
		r = cli_parse(4, (char **)argv, fileno(f), &cmd, err, sizeof(err));
		report(!r && str_eq(cmd.body, "{}"), "body of exactly 1 MiB (rc %d %s)", r, err);
		cli_cmd_clear(&cmd);
	}
	free(buf);
	fclose(f);

	r = cli_parse(4, (char **)argv, -1, &cmd, err, sizeof(err));
	report(!r && !cmd.body, "stdin_fd -1 never read");
	cli_cmd_clear(&cmd);
}

int main(void)
{
	test_table();
	test_env();
	test_prog_name();
	test_force();
	test_stdin();
	test_stdin_file();
	printf("# %d/%d passed\n", count - failures, count);
	return failures ? 1 : 0;
}
