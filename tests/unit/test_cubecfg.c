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
#include <time.h>
#include <sys/socket.h>

#include "cfgtest_cfg.h"

static struct ly_ctx *ctx;
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

int cfgtest_neighbor_create(struct cube *c, const struct cfgtest_neighbor *new)
{
	return record("create", "neighbor", "-");
}
int cfgtest_neighbor_update(struct cube *c, const struct cfgtest_neighbor *old, const struct cfgtest_neighbor *new)
{
	return record("update", "neighbor", "-");
}
int cfgtest_neighbor_delete(struct cube *c, const struct cfgtest_neighbor *old)
{
	return record("delete", "neighbor", "-");
}

/* ---- the action handlers -------------------------------------------------- */

static int n_reset;			   /* handler calls */
static struct cfgtest_reset_in last_reset; /* what the last call got */
static char last_note[32];
static int reset_fail;	     /* the handler's result */
static int reset_bad_output; /* the handler writes an enum the model lacks */

int cfgtest_reset_action(struct cube *c, const struct cfgtest_reset_in *in, struct cfgtest_reset_out *out)
{
	n_reset++;
	last_reset = *in;
	snprintf(last_note, sizeof(last_note), "%s", in->note ? in->note : "(none)");
	if (reset_fail)
		return reset_fail;
	out->done = true;
	out->cleared = UINT64_MAX;
	out->mode = reset_bad_output ? 42 : CFGTEST_RESET_OUT_MODE_HARD;
	memcpy(out->mac, in->mac, 6);
	out->net = in->net;
	out->note = in->note;
	return 0;
}

static uint32_t last_clear_rule;

int cfgtest_rule_clear_action(struct cube *c, const struct cfgtest_rule_clear_in *in,
			      struct cfgtest_rule_clear_out *out)
{
	last_clear_rule = in->rule_id;
	out->cleared = 2 * in->rule_id;
	return 0;
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

/* ---- changes as diffs (what the broker sends: CHANGE) --------------------- */

/* the diff the broker makes (no defaults), through JSON and back as on the bus */
static struct lyd_node *bus_diff(const struct lyd_node *a, const struct lyd_node *b)
{
	struct lyd_node *d = NULL, *back = NULL;
	char *text = NULL;

	if (lyd_diff_siblings(a, b, 0, &d) != LY_SUCCESS)
		return NULL;
	if (!d)
		return NULL;
	lyd_print_mem(&text, d, LYD_JSON, LYD_PRINT_WITHSIBLINGS | LYD_PRINT_SHRINK);
	lyd_free_all(d);
	if (!text || lyd_parse_data_mem(ctx, text, LYD_JSON, LYD_PARSE_ONLY | LYD_PARSE_STRICT, 0, &back) != LY_SUCCESS)
		back = NULL;
	free(text);
	return back;
}

static char *text_of(const struct lyd_node *t)
{
	char *s = NULL;

	lyd_print_mem(&s, t, LYD_JSON, LYD_PRINT_WITHSIBLINGS | LYD_PRINT_SHRINK | LYD_PRINT_WD_ALL);
	return s;
}

/*
 * From live (the applied configuration), the change part_a -> part_b (the
 * parts the broker diffs; the whole trees when NULL): the calls, and the
 * tree it leaves, which must print as want (the whole new configuration).
 */
static int apply_diff(const char *live_json, const char *part_a, const char *part_b, const char *want_json,
		      int *same_tree, char *err, size_t errlen)
{
	struct lyd_node *live = tree(live_json), *a = tree(part_a ? part_a : live_json),
			*b = tree(part_b ? part_b : want_json), *want = tree(want_json), *d = bus_diff(a, b);
	char *got = NULL, *exp = NULL;
	int r;

	calls[0] = '\0';
	r = d ? cubecfg_apply_diff(&cfgtest_model, NULL, &live, d, err, errlen) : 0; /* no diff: nothing */
	got = text_of(live);
	exp = text_of(want);
	*same_tree = got && exp && !strcmp(got, exp);
	if (!*same_tree)
		printf("# tree: %s\n# want: %s\n", got ? got : "-", exp ? exp : "-");
	free(got);
	free(exp);
	lyd_free_all(d);
	lyd_free_all(live);
	lyd_free_all(a);
	lyd_free_all(b);
	lyd_free_all(want);
	return r;
}

static void test_diffs(void)
{
	static const char *pairs[][2] = {
		/* a nested entry added, a leaf of a nested entry changed */
		{ CUBE(",\"rule\":[{\"id\":1,\"match\":[{\"field\":\"f\",\"value\":\"a\"}]}]"),
		  CUBE(",\"rule\":[{\"id\":1,\"match\":[{\"field\":\"f\",\"value\":\"a\",\"weight\":4},"
		       "{\"field\":\"f\",\"value\":\"b\"}]}]") },
		/* an entry deleted with its children, another created */
		{ CUBE(",\"rule\":[{\"id\":1,\"match\":[{\"field\":\"f\",\"value\":\"a\"}]},{\"id\":2}]"),
		  CUBE(",\"rule\":[{\"id\":2},{\"id\":3,\"action\":\"PASS\"}]") },
		/* a container leaf set from its default, and back */
		{ CUBE(""), CUBE(",\"limits\":{\"rate\":5}") },
		{ CUBE(",\"limits\":{\"rate\":5}"), CUBE("") },
		/* a leaf of the cube, an explicit value back to the default */
		{ CUBE(",\"mode\":\"ON\",\"u8\":9"), CUBE(",\"u8\":10") },
		/* an enum changed in an entry, a port augment */
		{ CUBE(",\"ports\":[{\"name\":\"p1\"}],\"rule\":[{\"id\":1,\"port\":\"p1\"}]"),
		  CUBE(",\"ports\":[{\"name\":\"p1\",\"ip\":\"10.0.0.1/24\"}],"
		       "\"rule\":[{\"id\":1,\"port\":\"p1\",\"action\":\"PASS\"}]") },
	};
	char err[512], whole[sizeof(calls)];
	int same, r;

	for (size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
		char name[160];

		r = apply(pairs[i][0], pairs[i][1], err, sizeof(err));
		snprintf(whole, sizeof(whole), "%s", calls);
		r = r == 0 ? apply_diff(pairs[i][0], NULL, NULL, pairs[i][1], &same, err, sizeof(err)) : r;
		snprintf(name, sizeof(name),
			 "diff %zu: the same calls as the whole configuration (%s), the tree the new one", i + 1,
			 whole);
		if (strcmp(whole, calls))
			printf("# diff calls: %s\n", calls);
		check(r == 0 && !strcmp(whole, calls) && same, name);
	}

	/* a part: the broker diffs only what the edit touches; the rest stays */
	r = apply_diff(CUBE(",\"rule\":[{\"id\":1},{\"id\":2},{\"id\":3}]"), CUBE(",\"rule\":[{\"id\":2}]"), CUBE(""),
		       CUBE(",\"rule\":[{\"id\":1},{\"id\":3}]"), &same, err, sizeof(err));
	check(r == 0 && !strcmp(calls, "delete rule 2/DROP;") && same,
	      "part: deleting the only entry of the part deletes that entry, the others stay");
	r = apply_diff(
		CUBE(",\"rule\":[{\"id\":1},{\"id\":3}]"), CUBE(""), CUBE(",\"rule\":[{\"id\":2,\"action\":\"PASS\"}]"),
		CUBE(",\"rule\":[{\"id\":1},{\"id\":3},{\"id\":2,\"action\":\"PASS\"}]"), &same, err, sizeof(err));
	check(r == 0 && !strcmp(calls, "create rule 2/PASS;") && same, "part: an entry added beside the others");
	r = apply_diff(CUBE(",\"limits\":{\"rate\":5},\"rule\":[{\"id\":1}]"), CUBE(",\"limits\":{\"rate\":5}"),
		       CUBE(""), CUBE(",\"rule\":[{\"id\":1}]"), &same, err, sizeof(err));
	check(r == 0 && !strcmp(calls, "update limits 5->100;") && same,
	      "part: a container back to its defaults keeps what the part did not hold");

	/* a failing handler: the calls made are undone, the tree is as it was */
	fail_on = "create rule 3/PASS;";
	r = apply_diff(pairs[1][0], NULL, NULL, pairs[1][0], &same, err, sizeof(err));
	check(r == 0 && same && !calls[0], "the same tree: no diff, no call");
	r = apply_diff(pairs[1][0], NULL, pairs[1][1], pairs[1][0], &same, err, sizeof(err));
	printf("# %s / %s\n", calls, err);
	check(r == -ENOSPC && same && strstr(err, "create") && strstr(calls, "delete rule 1/DROP;") &&
		      strstr(calls, "create rule 1/DROP;"),
	      "failing handler: error said, calls undone (the deleted entry created again), tree unchanged");
	fail_on = NULL;

	/* no applied configuration: the broker is asked for the whole */
	{
		struct lyd_node *none = NULL, *a = tree(pairs[0][0]), *b = tree(pairs[0][1]), *d = bus_diff(a, b);

		check(cubecfg_apply_diff(&cfgtest_model, NULL, &none, d, err, sizeof(err)) == -ESTALE && !none,
		      "no configuration yet: -ESTALE");
		lyd_free_all(d);
		lyd_free_all(a);
		lyd_free_all(b);
	}

	/* its cost follows the diff, not the tree: one entry at 10 and 10 000 */
	for (int n = 10; n <= 10000; n *= 1000) {
		size_t cap = 64 + (size_t)n * 24;
		char *big = malloc(cap + 64), *more = malloc(cap + 64);
		struct lyd_node *live, *a, *b, *d;
		struct timespec t0, t1;
		size_t o = 0;

		o += snprintf(big + o, cap - o, "{\"cfgtest:cfgtest\":[{\"name\":\"t1\",\"rule\":[");
		for (int i = 0; i < n; i++)
			o += snprintf(big + o, cap - o, "%s{\"id\":%d}", i ? "," : "", i + 10);
		strcpy(more, big);
		strcat(more, ",{\"id\":1}]}]}");
		strcat(big, "]}]}");
		live = tree(big);
		a = tree("{\"cfgtest:cfgtest\":[{\"name\":\"t1\"}]}");
		b = tree("{\"cfgtest:cfgtest\":[{\"name\":\"t1\",\"rule\":[{\"id\":1}]}]}");
		d = bus_diff(a, b);
		calls[0] = '\0';
		clock_gettime(CLOCK_MONOTONIC, &t0);
		r = cubecfg_apply_diff(&cfgtest_model, NULL, &live, d, err, sizeof(err));
		clock_gettime(CLOCK_MONOTONIC, &t1);
		printf("# one entry added to %d by a diff: %.1f us\n", n,
		       (t1.tv_sec - t0.tv_sec) * 1e6 + (t1.tv_nsec - t0.tv_nsec) / 1e3);
		check(r == 0 && !strcmp(calls, "create rule 1/DROP;"), "a one-entry diff to a long list: one call");
		lyd_free_all(d);
		lyd_free_all(a);
		lyd_free_all(b);
		lyd_free_all(live);
		free(big);
		free(more);
	}
}

/* the entries a load action got, as text: "id:val|-:kind|-:text;" */
static char load_seen[256];
static int load_has_tag;

static int load_entry(const struct cfgtest_batch_in_items *e, void *arg)
{
	size_t l = strlen(load_seen);

	snprintf(load_seen + l, sizeof(load_seen) - l, "%u:%s%u:%s:%s;", e->id, e->has_val ? "" : "-",
		 e->has_val ? e->val : 0, e->has_kind ? cfgtest_batch_in_items_kind_name(e->kind) : "-",
		 e->text ? e->text : "-");
	return 0;
}

int cfgtest_batch_action(struct cube *c, const struct cfgtest_batch_in *in, struct cfgtest_batch_out *out)
{
	char err[128];

	load_seen[0] = '\0';
	load_has_tag = in->has_tag;
	out->seen = in->n_items;
	return cfgtest_batch_in_items_foreach(in, load_entry, NULL, err, sizeof(err));
}

/* ---- actions ------------------------------------------------------------- */

static char *output;

static int run(const char *path, const char *input, char *err, size_t errlen)
{
	free(output);
	output = NULL;
	return cubeop_action_run(&cfgtest_actions, NULL, ctx, "t1", NULL, path, input, &output, err, errlen);
}

/* r is -EINVAL, no handler ran, and err has each of the words */
static void refused(int r, const char *err, int calls_before, const char *w1, const char *w2, const char *name)
{
	printf("# %s\n", err);
	check(r == -EINVAL && n_reset == calls_before && strstr(err, w1) && (!w2 || strstr(err, w2)), name);
}

static void test_action_lists(void)
{
	char err[512];
	int r;

	r = run("batch",
		"{\"items\":[{\"id\":7,\"val\":0,\"kind\":\"B\"},{\"id\":2,\"text\":\"x\"},{\"id\":5,\"val\":9}]}", err,
		sizeof(err));
	printf("# %s %s\n", err, load_seen);
	check(r == 0 && !strcmp(load_seen, "7:0:B:-;2:-0:-:x;5:9:-:-;") && !load_has_tag,
	      "action input list: entries in their order, has_ set for the leaves given (0 too)");
	check(output && strstr(output, "\"seen\":3"), "action input list: n_ counts the entries");
	r = run("batch", "{\"tag\":0,\"items\":[]}", err, sizeof(err));
	check(r == 0 && load_has_tag && !strcmp(load_seen, ""), "action input: an optional 0 is there (has_tag)");
	r = run("batch", "{\"items\":[{\"val\":1}]}", err, sizeof(err));
	printf("# %s\n", err);
	check(r == -EINVAL && strstr(err, "key id"), "action input list: an entry without its key is refused");
	r = run("batch", "{\"items\":[{\"id\":1,\"nope\":1}]}", err, sizeof(err));
	check(r == -EINVAL && strstr(err, "no leaf nope"), "action input list: an unknown leaf is refused");
	r = run("batch", "{\"items\":[{\"id\":1,\"val\":70000}]}", err, sizeof(err));
	check(r == -EINVAL && strstr(err, "70000"), "action input list: a value out of range is refused");
	r = run("batch", "{\"items\":[{\"id\":1},{\"id\":1}]}", err, sizeof(err));
	printf("# %s\n", err);
	check(r == -EINVAL, "action input list: a key given twice is refused");
	r = run("batch", "{\"items\":{\"id\":1}}", err, sizeof(err));
	check(r == -EINVAL && strstr(err, "list of entries"), "action input list: an object for the list is refused");
}

static void test_actions(void)
{
	char err[512], buf[64];
	int r, before;

	r = run("reset",
		"{\"level\":3,\"mode\":\"HARD\",\"peer\":\"10.0.0.1\",\"net\":\"10.1.2.3/16\","
		"\"mac\":\"AA:BB:CC:DD:EE:0F\",\"note\":\"hi\",\"force\":[null]}",
		err, sizeof(err));
	printf("# %s %s\n", output ? output : "(no output)", err);
	check(r == 0 && n_reset == 1, "action: the handler runs once");
	inet_ntop(AF_INET, &last_reset.peer, buf, sizeof(buf));
	check(last_reset.level == 3 && last_reset.mode == CFGTEST_RESET_IN_MODE_HARD && !strcmp(buf, "10.0.0.1") &&
		      last_reset.force && !strcmp(last_note, "hi"),
	      "action input: integer, enum, address, empty and string typed");
	inet_ntop(AF_INET, &last_reset.net.v4, buf, sizeof(buf));
	check(last_reset.net.family == AF_INET && last_reset.net.len == 16 && !strcmp(buf, "10.1.0.0") &&
		      last_reset.mac[0] == 0xaa && last_reset.mac[5] == 0x0f,
	      "action input: prefix (canonical network) and MAC in binary");
	check(output && !strcmp(output, "{\"done\":true,\"cleared\":18446744073709551615,\"mode\":\"HARD\","
					"\"mac\":\"aa:bb:cc:dd:ee:0f\",\"net\":\"10.1.0.0/16\",\"note\":\"hi\"}"),
	      "action output: the model's names and order, numbers as numbers, canonical values");

	r = run("reset", "{\"cfgtest:level\":\"2\"}", err, sizeof(err));
	check(r == 0 && last_reset.level == 2 && last_reset.mode == CFGTEST_RESET_IN_MODE_SOFT && !last_reset.force &&
		      !strcmp(last_note, "(none)"),
	      "action input: a number as text, a module-qualified name, defaults filled, absent leaves zero");
	check(output && strstr(output, "\"mac\":\"00:00:00:00:00:00\"") && !strstr(output, "note") &&
		      !strstr(output, "net"),
	      "action output: a NULL string and an address of family 0 are left out");

	before = n_reset;
	r = run("reset", "{\"level\":11}", err, sizeof(err));
	refused(r, err, before, "reset level: 11", NULL, "action input out of range: refused, naming leaf and value");
	r = run("reset", "{\"level\":1,\"mode\":\"LOUD\"}", err, sizeof(err));
	refused(r, err, before, "reset mode: LOUD", NULL, "action input: an enum the model lacks is refused");
	r = run("reset", "{\"level\":1,\"peer\":\"fd00::1\"}", err, sizeof(err));
	refused(r, err, before, "reset peer: fd00::1", NULL, "action input: an IPv6 address for an IPv4 leaf");
	r = run("reset", "{\"level\":1,\"peer\":\"10.0.0.1%eth0\"}", err, sizeof(err));
	refused(r, err, before, "reset peer: 10.0.0.1%eth0", NULL,
		"action input: a value the model takes and its C type cannot (a zone) is refused, naming the action");
	r = run("reset", "{\"level\":\"x\"}", err, sizeof(err));
	refused(r, err, before, "reset level: x", NULL, "action input: text for a number");
	r = run("reset", "{\"level\":1,\"nope\":1}", err, sizeof(err));
	refused(r, err, before, "reset has no input nope", NULL, "action input: an unknown leaf");
	r = run("reset", "{\"level\":{\"a\":1}}", err, sizeof(err));
	refused(r, err, before, "reset level", "not a single value", "action input: an object for a leaf");
	r = run("reset", "{}", err, sizeof(err));
	refused(r, err, before, "reset", "level", "action input: a mandatory leaf missing");
	r = run("reset", "[1]", err, sizeof(err));
	refused(r, err, before, "not a JSON object", NULL, "action input: not an object");
	r = run("reset", "{\"level\":", err, sizeof(err));
	refused(r, err, before, "not a JSON object", NULL, "action input: not JSON");

	r = run("nope", "", err, sizeof(err));
	check(r == -ENOENT && strstr(err, "cfgtest has no action nope"), "an unknown action: -ENOENT, named");
	r = run("limits", "", err, sizeof(err));
	check(r == -ENOENT && strstr(err, "no action limits"), "a container is no action");
	r = run("reset/more", "", err, sizeof(err));
	check(r == -ENOENT, "nothing below an action");

	reset_fail = -EBUSY;
	r = run("reset", "{\"level\":1}", err, sizeof(err));
	check(r == -EBUSY && strstr(err, "reset failed") && !output, "a failing handler: its errno, a sentence");
	reset_fail = 0;
	reset_bad_output = 1;
	r = run("reset", "{\"level\":1}", err, sizeof(err));
	printf("# %s\n", err);
	check(r == -EINVAL && strstr(err, "output mode") && !output, "an output the model refuses is an error");
	reset_bad_output = 0;

	/* below a list entry: the input carries the entry's keys */
	r = run("rule/4/clear", NULL, err, sizeof(err));
	check(r == 0 && last_clear_rule == 4 && output && !strcmp(output, "{\"cleared\":8}"),
	      "an action of a list entry gets the entry's key");
	r = run("rule/x/clear", NULL, err, sizeof(err));
	printf("# %s\n", err);
	check(r == -EINVAL && strstr(err, "x is not a key of rule"), "a bad key on the way to an action");
	r = run("rule", NULL, err, sizeof(err));
	check(r == -EINVAL && strstr(err, "rule needs its key"), "a list without its key");
	free(output);
	output = NULL;
}

/* ---- state ----------------------------------------------------------------- */

static void test_state(void)
{
	struct cube_state *st;
	struct json_object *o;
	char err[512];
	const char *js;
	int r = 0;

	st = cubeop_state_new(ctx, &cfgtest_model, "t1", err, sizeof(err));
	check(st != NULL, "state: made for a cube");
	r |= cfgtest_cube_emit(
		st, &(struct cfgtest_cube_state){ .counter = 7, .health = CFGTEST_CUBE_HEALTH_DEGRADED, .load = 100 });
	r |= cfgtest_limits_emit(st, &(struct cfgtest_limits_state){ .dropped = UINT64_MAX });
	{
		struct cfgtest_stats_state s = { .packets = 12 };

		inet_pton(AF_INET, "192.0.2.1", &s.last_peer);
		r |= cfgtest_stats_emit(st, &s);
	}
	r |= cfgtest_stats_reason_emit(st, &(struct cfgtest_stats_reason_state){ .name = "arp", .count = 3 });
	r |= cfgtest_stats_reason_emit(st, &(struct cfgtest_stats_reason_state){ .name = "nd", .count = 1 });
	/* the same entry again: one entry, the later value */
	r |= cfgtest_stats_reason_emit(st, &(struct cfgtest_stats_reason_state){ .name = "arp", .count = 4 });
	{
		struct cfgtest_neighbor_state n = { .mac = { 0xAA, 0, 0, 0, 0, 1 }, .age = 9 };

		cubecfg_parse_ip("FD00::1", &n.address);
		r |= cfgtest_neighbor_emit(st, &n);
	}
	/* a nested entry before its parent: the parent is made from its key */
	r |= cfgtest_rule_match_emit(st,
				     &(struct cfgtest_rule_match_state){
					     .rule_id = 1, .field = "dst", .value = "a'b", .weight = 1, .seen = true });
	r |= cfgtest_rule_emit(st,
			       &(struct cfgtest_rule_state){ .id = 1, .action = CFGTEST_RULE_ACTION_PASS, .hits = 5 });
	check(r == 0, "state: every emitter succeeds");
	o = json_object_new_object();
	r = cubeop_state_json(st, o);
	js = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	printf("# %s\n", js);
	/* ports: the test model augments them as the router does (ip, mac), so
	 * they have an emitter, and no port emitted is [] */
	check(r == 0 && !strcmp(js, "{\"ports\":[],\"counter\":7,\"health\":\"DEGRADED\",\"load\":100,"
				    "\"limits\":{\"dropped\":18446744073709551615},"
				    "\"stats\":{\"packets\":12,\"last-peer\":\"192.0.2.1\","
				    "\"reason\":[{\"name\":\"arp\",\"count\":4},{\"name\":\"nd\",\"count\":1}]},"
				    "\"neighbor\":[{\"address\":\"fd00::1\",\"mac\":\"aa:00:00:00:00:01\",\"age\":9}],"
				    "\"rule\":[{\"id\":1,\"action\":\"PASS\",\"hits\":5,\"match\":[{\"field\":\"dst\","
				    "\"value\":\"a'b\",\"weight\":1,\"seen\":true}]}]}"),
	      "state as the broker's JSON: names from the model, no cube name, numbers as numbers, canonical values, "
	      "entries merged by key");
	json_object_put(o);
	cubeop_state_destroy(&st);
	check(st == NULL, "state: destroy clears the pointer");

	/* lists with state but no entry: [], as reads always listed them */
	st = cubeop_state_new(ctx, &cfgtest_model, "t1", err, sizeof(err));
	r = cfgtest_stats_emit(st, &(struct cfgtest_stats_state){ .packets = 1 });
	o = json_object_new_object();
	r |= cubeop_state_json(st, o);
	js = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	printf("# %s\n", js);
	check(r == 0 && !strcmp(js, "{\"ports\":[],\"stats\":{\"packets\":1,\"last-peer\":\"0.0.0.0\",\"reason\":[]},"
				    "\"neighbor\":[]"
				    ",\"rule\":[]}"),
	      "state: a state list without entries is [] where its parent was emitted");
	json_object_put(o);
	cubeop_state_destroy(&st);

	/* an empty list comes where the model has it, before what follows it
	 * (a read's members keep their order); a base list the service
	 * augments takes its keys and the service's leaves */
	st = cubeop_state_new(ctx, &cfgtest_model, "t1", err, sizeof(err));
	r = cfgtest_rule_emit(st, &(struct cfgtest_rule_state){ .id = 1 });
	r |= cfgtest_ports_emit(st, &(struct cfgtest_ports_state){ .name = "p1", .mac = { 0xAA, 0, 0, 0, 0, 1 } });
	o = json_object_new_object();
	r |= cubeop_state_json(st, o);
	js = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	printf("# %s\n", js);
	check(r == 0 && !strcmp(js, "{\"ports\":[{\"name\":\"p1\",\"mac\":\"aa:00:00:00:00:01\"}],\"neighbor\":[],"
				    "\"rule\":[{\"id\":1,\"action\":\"DROP\",\"hits\":0,\"match\":[]}]}"),
	      "state: an empty list in the model's order among the others; an augmented base list emitted");
	json_object_put(o);
	cubeop_state_destroy(&st);

	/* an address or a prefix: "10.0.2.8/32" and "10.0.2.8" are two values */
	{
		static const struct {
			const char *in, *out;
			int mode;
		} ips[] = {
			{ "10.0.2.8/32", "10.0.2.8/32", CUBEOP_IP_EITHER },
			{ "10.0.2.8", "10.0.2.8", CUBEOP_IP_EITHER },
			{ "10.0.2.0/24", "10.0.2.0/24", CUBEOP_IP_EITHER },
			{ "FD00::9/128", "fd00::9/128", CUBEOP_IP_EITHER },
			{ "10.0.2.8/32", "10.0.2.8", CUBEOP_IP_ADDR },
			{ "10.0.2.8", "10.0.2.8/32", CUBEOP_IP_PREFIX },
		};
		int same = 1;

		for (size_t i = 0; i < sizeof(ips) / sizeof(ips[0]); i++) {
			struct cb_ip ip;
			char buf[CUBEOP_VALUE_MAX];
			const char *t = cubecfg_parse_ip(ips[i].in, &ip) == 0
						? cubeop_fmt_ip(buf, sizeof(buf), &ip, ips[i].mode)
						: NULL;

			if (!t || strcmp(t, ips[i].out)) {
				printf("# %s -> %s, not %s\n", ips[i].in, t ? t : "(null)", ips[i].out);
				same = 0;
			}
		}
		check(same, "an address given with its length is written back with it where a type takes both");
	}

	/* values the model refuses: an error naming node and value, not a crash */
	st = cubeop_state_new(ctx, &cfgtest_model, "t1", err, sizeof(err));
	r = cfgtest_cube_emit(st, &(struct cfgtest_cube_state){ .load = 200 });
	printf("# %s\n", err);
	check(r == -EINVAL && strstr(err, "state load: 200"), "state: a value out of range is refused, named");
	r = cfgtest_limits_emit(st, &(struct cfgtest_limits_state){ .dropped = 1 });
	o = json_object_new_object();
	check(r == -EINVAL && cubeop_state_json(st, o) == -EINVAL && json_object_object_length(o) == 0,
	      "state: the first error sticks, and nothing is answered");
	json_object_put(o);
	cubeop_state_destroy(&st);
	st = cubeop_state_new(ctx, &cfgtest_model, "t1", err, sizeof(err));
	r = cfgtest_cube_emit(st, &(struct cfgtest_cube_state){ .health = 99 });
	printf("# %s\n", err);
	check(r == -EINVAL && strstr(err, "health"), "state: an enum value the model lacks is refused");
	cubeop_state_destroy(&st);
	st = cubeop_state_new(ctx, &cfgtest_model, "t1", err, sizeof(err));
	r = cfgtest_neighbor_emit(st, &(struct cfgtest_neighbor_state){ .age = 1 });
	printf("# %s\n", err);
	check(r == -EINVAL && strstr(err, "neighbor"), "state: an unset address key is refused");
	cubeop_state_destroy(&st);
	cubeop_state_destroy(&st);
	st = cubeop_state_new(ctx, &(struct cubecfg_model){ .module = "nosuchmodel" }, "t1", err, sizeof(err));
	check(!st && strstr(err, "nosuchmodel"), "state: a model not loaded is an error");
}

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

	test_actions();
	test_action_lists();
	test_state();
	test_diffs();

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
