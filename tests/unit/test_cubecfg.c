/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The generator (cubebus-gen) and the diff dispatcher (cubecfg): the code
 * generated from tests/unit/models/cfgtest.yang is compiled into this test,
 * whose handlers record each call; configurations given as JSON become
 * calls with typed values, in the documented order, and a failing handler
 * undoes what was done.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "cfgtest_cfg.h"

static int n_ok, n_fail;
static char calls[8192];    /* "op node key;" for each call */
static const char *fail_on; /* a call (as recorded) that fails with -ENOSPC */
static struct cfgtest_cube last_cube;
static struct cfgtest_ports last_port;
static struct cfgtest_rule_match last_match;
static struct cfgtest_limits last_limits;
static char last_label[32];

static void check(int cond, const char *name)
{
	printf("%s - %s\n", cond ? "ok" : "not ok", name);
	if (cond)
		n_ok++;
	else
		n_fail++;
}

static int record(const char *op, const char *node, const char *key)
{
	char one[256];

	snprintf(one, sizeof(one), "%s %s %s;", op, node, key);
	strncat(calls, one, sizeof(calls) - strlen(calls) - 1);
	if (fail_on && !strcmp(fail_on, one))
		return -ENOSPC;
	return 0;
}

/* ---- the handlers the model asks for ------------------------------------- */

int cfgtest_cube_create(struct cube *c, const struct cfgtest_cube *new)
{
	last_cube = *new;
	/* strings point into the tree: valid during the call only */
	snprintf(last_label, sizeof(last_label), "%s", new->label ? new->label : "(none)");
	return record("create", "cube", new->name);
}
int cfgtest_cube_update(struct cube *c, const struct cfgtest_cube *old, const struct cfgtest_cube *new)
{
	last_cube = *new;
	return record("update", "cube", new->name);
}
int cfgtest_cube_delete(struct cube *c, const struct cfgtest_cube *old)
{
	return record("delete", "cube", old->name);
}
int cfgtest_ports_create(struct cube *c, const struct cfgtest_ports *new)
{
	last_port = *new;
	return record("create", "port", new->name);
}
int cfgtest_ports_update(struct cube *c, const struct cfgtest_ports *old, const struct cfgtest_ports *new)
{
	last_port = *new;
	return record("update", "port", new->name);
}
int cfgtest_ports_delete(struct cube *c, const struct cfgtest_ports *old)
{
	return record("delete", "port", old->name);
}
int cfgtest_limits_create(struct cube *c, const struct cfgtest_limits *new)
{
	last_limits = *new;
	return record("create", "limits", "-");
}
int cfgtest_limits_update(struct cube *c, const struct cfgtest_limits *old, const struct cfgtest_limits *new)
{
	char k[64];

	last_limits = *new;
	snprintf(k, sizeof(k), "%u->%u", old->rate, new->rate);
	return record("update", "limits", k);
}
int cfgtest_limits_delete(struct cube *c, const struct cfgtest_limits *old)
{
	return record("delete", "limits", "-");
}
static const char *rule_key(const struct cfgtest_rule *r)
{
	static char k[64];

	snprintf(k, sizeof(k), "%u/%s", r->id, cfgtest_rule_action_name(r->action));
	return k;
}
int cfgtest_rule_create(struct cube *c, const struct cfgtest_rule *new)
{
	return record("create", "rule", rule_key(new));
}
int cfgtest_rule_update(struct cube *c, const struct cfgtest_rule *old, const struct cfgtest_rule *new)
{
	return record("update", "rule", rule_key(new));
}
int cfgtest_rule_delete(struct cube *c, const struct cfgtest_rule *old)
{
	return record("delete", "rule", rule_key(old));
}
static const char *match_key(const struct cfgtest_rule_match *m)
{
	static char k[128];

	snprintf(k, sizeof(k), "%u/%s=%s*%u", m->rule_id, m->field, m->value, m->weight);
	return k;
}
int cfgtest_rule_match_create(struct cube *c, const struct cfgtest_rule_match *new)
{
	last_match = *new;
	return record("create", "match", match_key(new));
}
int cfgtest_rule_match_update(struct cube *c, const struct cfgtest_rule_match *old,
			      const struct cfgtest_rule_match *new)
{
	return record("update", "match", match_key(new));
}
int cfgtest_rule_match_delete(struct cube *c, const struct cfgtest_rule_match *old)
{
	return record("delete", "match", match_key(old));
}

static int count_match(const struct cfgtest_rule_match *m, void *arg)
{
	char *out = arg;

	strncat(out, match_key(m), 255 - strlen(out));
	strncat(out, ";", 255 - strlen(out));
	return 0;
}

static int stop_at_first(const struct cfgtest_rule_match *m, void *arg)
{
	++*(int *)arg;
	return -ECANCELED;
}

/* ---- driving it ------------------------------------------------------------ */

static struct ly_ctx *ctx;

static struct lyd_node *tree(const char *json)
{
	struct lyd_node *t = NULL;

	if (lyd_parse_data_mem(ctx, json, LYD_JSON, LYD_PARSE_STRICT, LYD_VALIDATE_PRESENT, &t) != LY_SUCCESS) {
		printf("# bad test json: %s\n", ly_errmsg(ctx));
		return NULL;
	}
	return t;
}

static int apply(const char *old_json, const char *new_json, char *err, size_t errlen)
{
	struct lyd_node *o = old_json ? tree(old_json) : NULL, *n = new_json ? tree(new_json) : NULL;
	int r;

	calls[0] = '\0';
	r = cubecfg_apply(&cfgtest_model, NULL, o, n, err, errlen);
	lyd_free_all(o);
	lyd_free_all(n);
	return r;
}

#define CUBE(body) "{\"cfgtest:cfgtest\":[{\"name\":\"t1\"" body "}]}"

static const char *full = CUBE(",\"mode\":\"ON\",\"u8\":200,\"u16\":65535,\"u64\":\"18446744073709551615\","
			       "\"i8\":-128,\"i16\":-32768,\"i32\":-1000,\"i64\":\"-9223372036854775808\","
			       "\"flag\":false,\"present\":[null],\"label\":\"hello\",\"v4\":\"10.1.2.3\","
			       "\"v6\":\"FD00::1\",\"any\":\"fd00::2\",\"p4\":\"10.1.2.3/24\",\"p6\":\"fd00:1::/64\","
			       "\"pany\":\"192.168.0.0/16\","
			       "\"ports\":[{\"name\":\"p1\",\"ip\":\"10.0.0.254/24\",\"mac\":\"AA:bb:cc:00:00:01\"}],"
			       "\"limits\":{\"rate\":5},"
			       "\"rule\":[{\"id\":1,\"port\":\"p1\",\"action\":\"PASS\","
			       "\"match\":[{\"field\":\"dst\",\"value\":\"a\"},{\"field\":\"dst\",\"value\":\"b\","
			       "\"weight\":3}]},"
			       "{\"id\":2}]");

int main(void)
{
	char err[512], buf[64];
	int r;

	if (ly_ctx_new(CFGTEST_BASE_DIR, 0, &ctx) != LY_SUCCESS || ly_ctx_set_searchdir(ctx, CFGTEST_MODELS) ||
	    !ly_ctx_load_module(ctx, "cfgtest", NULL, NULL)) {
		printf("not ok - load the test model from %s\n", CFGTEST_MODELS);
		return 1;
	}

	/* a cube starting: everything is a creation, parents first */
	r = apply(NULL, full, err, sizeof(err));
	check(r == 0, "start: the whole configuration applies");
	printf("# %s\n", calls);
	check(!strcmp(calls, "create cube t1;create port p1;create limits -;create rule 1/PASS;create rule 2/DROP;"
			     "create match 1/dst=a*1;create match 1/dst=b*3;"),
	      "start: one create per entry, parents before children, in model order, defaults filled");
	check(last_cube.mode == CFGTEST_CUBE_MODE_ON && CFGTEST_CUBE_MODE_ON == 7,
	      "enum: C enum with the model's value");
	check(last_cube.u8 == 200 && last_cube.u16 == 65535 && last_cube.u64 == UINT64_MAX, "unsigned integers");
	check(last_cube.i8 == -128 && last_cube.i16 == -32768 && last_cube.i32 == -1000 && last_cube.i64 == INT64_MIN,
	      "signed integers");
	check(!last_cube.flag && last_cube.present, "boolean and empty");
	check(!strcmp(last_label, "hello"), "string");
	inet_ntop(AF_INET, &last_cube.v4, buf, sizeof(buf));
	check(!strcmp(buf, "10.1.2.3"), "inet:ipv4-address in binary");
	inet_ntop(AF_INET6, &last_cube.v6, buf, sizeof(buf));
	check(!strcmp(buf, "fd00::1"), "inet:ipv6-address in binary (any spelling)");
	check(last_cube.any.family == AF_INET6 && last_cube.any.len == 128, "inet:ip-address: family and /128");
	inet_ntop(AF_INET, &last_cube.p4.v4, buf, sizeof(buf));
	check(last_cube.p4.family == AF_INET && last_cube.p4.len == 24 && !strcmp(buf, "10.1.2.0"),
	      "inet:ipv4-prefix: canonical network and length");
	check(last_cube.p6.family == AF_INET6 && last_cube.p6.len == 64, "inet:ipv6-prefix");
	check(last_cube.pany.family == AF_INET && last_cube.pany.len == 16, "inet:ip-prefix");
	inet_ntop(AF_INET, &last_port.ip.v4, buf, sizeof(buf));
	check(last_port.ip.len == 24 && !strcmp(buf, "10.0.0.254"), "interface prefix keeps the host part");
	check(last_port.mac[0] == 0xaa && last_port.mac[5] == 1, "yang:mac-address as bytes");
	check(last_limits.rate == 5 && last_limits.burst == 10, "container: set and default leaves");
	check(last_match.rule_id == 1, "nested list entry carries its parent's key");

	/* the generated foreach walks a tree's entries, decoded */
	{
		struct lyd_node *t = tree(full);
		char seen[256] = "";
		int n = 0;

		check(t && cfgtest_rule_match_foreach(t, count_match, seen) == 0 &&
			      !strcmp(seen, "1/dst=a*1;1/dst=b*3;"),
		      "foreach: every entry, decoded with its parent's key and defaults");
		check(cfgtest_rule_match_foreach(t, stop_at_first, &n) == -ECANCELED && n == 1,
		      "foreach: stops at the callback's first error and returns it");
		check(cfgtest_rule_match_foreach(NULL, stop_at_first, &n) == 0 && n == 1, "foreach: no tree, no call");
		lyd_free_all(t);
	}

	/* a restart replays the same configuration: the same calls */
	r = apply(NULL, full, err, sizeof(err));
	check(r == 0 && strstr(calls, "create match 1/dst=b*3;"), "restart: the same creations again");

	/* nothing changed: no call */
	r = apply(full, full, err, sizeof(err));
	check(r == 0 && !calls[0], "same configuration: no call");

	/* one leaf of a container */
	{
		char *changed = strdup(full), *p = strstr(changed, "\"rate\":5");

		p[7] = '9';
		r = apply(full, changed, err, sizeof(err));
		check(r == 0 && !strcmp(calls, "update limits 5->9;"), "one leaf changed: one update with old and new");
		printf("# %s\n", calls);
		free(changed);
	}

	/* a nested entry added and one removed, and a list entry deleted with its children */
	{
		const char *next = CUBE(",\"mode\":\"ON\",\"u8\":200,\"u16\":65535,\"u64\":\"18446744073709551615\","
					"\"i8\":-128,\"i16\":-32768,\"i32\":-1000,\"i64\":\"-9223372036854775808\","
					"\"flag\":false,\"present\":[null],\"label\":\"hello\",\"v4\":\"10.1.2.3\","
					"\"v6\":\"FD00::1\",\"any\":\"fd00::2\",\"p4\":\"10.1.2.3/24\","
					"\"p6\":\"fd00:1::/64\",\"pany\":\"192.168.0.0/16\","
					"\"ports\":[{\"name\":\"p1\",\"ip\":\"10.0.0.254/24\","
					"\"mac\":\"AA:bb:cc:00:00:01\"}],"
					"\"limits\":{\"rate\":5},"
					"\"rule\":[{\"id\":1,\"port\":\"p1\",\"action\":\"PASS\","
					"\"match\":[{\"field\":\"dst\",\"value\":\"b\",\"weight\":4},"
					"{\"field\":\"src\",\"value\":\"c\"}]}]");

		r = apply(full, next, err, sizeof(err));
		printf("# %s\n", calls);
		check(r == 0 && !strcmp(calls, "delete match 1/dst=a*1;delete rule 2/DROP;update match 1/dst=b*4;"
					       "create match 1/src=c*1;"),
		      "nested changes: deletions deepest first, then updates and creations");

		/* the whole rule 1 goes: its matches before it */
		r = apply(next, CUBE(",\"ports\":[{\"name\":\"p1\"}]"), err, sizeof(err));
		printf("# %s\n", calls);
		check(r == 0 && strstr(calls, "delete match 1/dst=b*4;delete match 1/src=c*1;delete rule 1/PASS;") &&
			      strstr(calls, "update port p1;") && strstr(calls, "update cube t1;") &&
			      strstr(calls, "update limits 5->100;"),
		      "an entry deleted with its children: children first; a leaf back to its default is an update");
	}

	/* a failing handler: the calls made are undone, newest first */
	fail_on = "create rule 2/DROP;";
	r = apply(CUBE(""), CUBE(",\"rule\":[{\"id\":1},{\"id\":2},{\"id\":3}]"), err, sizeof(err));
	printf("# %s / %s\n", calls, err);
	check(r == -ENOSPC, "a failing handler's error is returned");
	check(!strcmp(calls, "create rule 1/DROP;create rule 2/DROP;delete rule 1/DROP;"),
	      "what was done before it is undone, and nothing after it is tried");
	check(strstr(err, "rule[id='2']") != NULL, "the error names the entry");
	fail_on = NULL;

	/* the cube goes away */
	r = apply(CUBE(",\"rule\":[{\"id\":1}]"), NULL, err, sizeof(err));
	printf("# %s\n", calls);
	check(r == 0 && !strcmp(calls, "delete limits -;delete rule 1/DROP;delete cube t1;"),
	      "cube deleted: everything deleted, deepest first");

	/* a model the generator cannot map: a build error naming the node */
	{
		FILE *f = popen(CUBEBUS_GEN " -p " CFGTEST_BASE_DIR " " CFGTEST_MODELS "/cfgbad.yang /tmp 2>&1", "r");
		char out[1024] = "";
		size_t len = f ? fread(out, 1, sizeof(out) - 1, f) : 0;
		int st = f ? pclose(f) : -1;

		out[len] = '\0';
		printf("# %s", out);
		check(st != 0 && strstr(out, "/cfgbad:cfgbad/options/flags") && strstr(out, "no C mapping"),
		      "generator: an unmappable leaf fails, naming the node");
	}

	ly_ctx_destroy(ctx);
	printf("# %d passed, %d failed\n", n_ok, n_fail);
	return n_fail ? 1 : 0;
}
