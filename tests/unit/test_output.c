/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_output - selftest of the reply renderer (cli/output.c).
 *
 * Table-driven: body + format + -brief + -hide -> exact output, or an error.
 * Prints one "ok - name" / "not ok - name" line per case, exits 1 on any
 * failure.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "output.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* A bridge as the broker returns it. */
#define BR1                                                                                  \
	"{\"name\":\"br1\",\"uuid\":\"5f0c\",\"type\":\"TC\","                               \
	"\"ports\":[{\"name\":\"p1\",\"peer\":\"veth1\",\"status\":\"UP\",\"uuid\":\"u1\"}," \
	"{\"name\":\"p2\",\"peer\":\"sf:sf-p1\",\"status\":\"DOWN\",\"uuid\":\"u2\"}],"      \
	"\"fdb\":{\"aging-time\":300,\"entry\":[{\"address\":\"aa:bb:cc:dd:ee:ff\","         \
	"\"port\":\"p1\",\"age\":3}]}}"

#define CUBES                                                                    \
	"[{\"name\":\"br1\",\"service\":\"simplebridge\",\"type\":\"TC\","       \
	"\"status\":\"running\",\"pid\":123},"                                   \
	"{\"name\":\"sf\",\"service\":\"simpleforwarder\",\"type\":\"XDP_SKB\"," \
	"\"status\":\"running\",\"pid\":4567}]"

struct out_case {
	const char *name;
	const char *body;
	enum cli_format format;
	int brief;
	const char *hide;
	int rc;
	const char *want; /* exact output when rc == 0 */
};

#define TEXT(n, b, w)                                                   \
	{                                                               \
		.name = n, .body = b, .format = CLI_FMT_TEXT, .want = w \
	}
#define FMT(n, b, f, brf, hid, w)                                                       \
	{                                                                               \
		.name = n, .body = b, .format = f, .brief = brf, .hide = hid, .want = w \
	}
#define BAD(n, b, f)                                             \
	{                                                        \
		.name = n, .body = b, .format = f, .rc = -EINVAL \
	}

static const struct out_case cases[] = {
	/* text */
	TEXT("text bridge", BR1,
	     "name: br1\n"
	     "uuid: 5f0c\n"
	     "type: TC\n"
	     "ports:\n"
	     "  name  peer      status  uuid\n"
	     "  p1    veth1     UP      u1\n"
	     "  p2    sf:sf-p1  DOWN    u2\n"
	     "fdb:\n"
	     "  aging-time: 300\n"
	     "  entry:\n"
	     "    address            port  age\n"
	     "    aa:bb:cc:dd:ee:ff  p1    3\n"),
	TEXT("text cubes table", CUBES,
	     "name  service          type     status   pid\n"
	     "br1   simplebridge     TC       running  123\n"
	     "sf    simpleforwarder  XDP_SKB  running  4567\n"),
	TEXT("text table union of keys", "[{\"a\":1,\"b\":2},{\"a\":3,\"c\":4},{\"c\":5}]",
	     "a  b  c\n"
	     "1  2\n"
	     "3     4\n"
	     "      5\n"),
	TEXT("text table utf-8 width", "[{\"n\":\"\xc3\xa9t\xc3\xa9\",\"x\":1},{\"n\":\"ab\",\"x\":2}]",
	     "n    x\n"
	     "\xc3\xa9t\xc3\xa9  1\n"
	     "ab   2\n"),
	TEXT("text nested objects", "{\"a\":{\"b\":{\"c\":1},\"d\":\"x\"},\"e\":{}}",
	     "a:\n"
	     "  b:\n"
	     "    c: 1\n"
	     "  d: x\n"),
	TEXT("text scalar lists", "{\"addr\":[\"10.0.0.1\",\"10.0.0.2\"],\"n\":[1,2,3],\"e\":[]}",
	     "addr: 10.0.0.1, 10.0.0.2\n"
	     "n: 1, 2, 3\n"),
	TEXT("text scalars",
	     "{\"up\":true,\"down\":false,\"x\":null,\"ratio\":1.50,"
	     "\"big\":18446744073709551615,\"neg\":-3,\"s\":\"\"}",
	     "up: true\n"
	     "down: false\n"
	     "x:\n"
	     "ratio: 1.50\n"
	     "big: 18446744073709551615\n"
	     "neg: -3\n"
	     "s:\n"),
	TEXT("text array of nested objects",
	     "{\"ports\":[{\"name\":\"p1\",\"stats\":{\"rx\":1}},"
	     "{\"name\":\"p2\",\"tags\":[\"a\",\"b\"]}]}",
	     "ports:\n"
	     "  name: p1\n"
	     "  stats:\n"
	     "    rx: 1\n"
	     "\n"
	     "  name: p2\n"
	     "  tags: a, b\n"),
	TEXT("text top-level nested array", "[{\"name\":\"br1\",\"ports\":[{\"name\":\"p1\"}]}]",
	     "name: br1\n"
	     "ports:\n"
	     "  name\n"
	     "  p1\n"),
	TEXT("text top-level scalars", "[\"a\",\"b\"]", "a\nb\n"),
	TEXT("text top-level string", "\"hello\"", "hello\n"),
	TEXT("text empty object", "{}", ""),
	/* what `cubectl r9 show` printed last: an empty container and list */
	TEXT("text no empty containers or lists",
	     "{\"name\":\"r9\",\"ports\":[],\"statistics\":{\"q\":0},\"arp-table\":[],"
	     "\"slowpath-limit\":{\"reason\":[]},\"x\":{\"y\":{},\"z\":[{}]},\"slowpath\":[]}",
	     "name: r9\n"
	     "statistics:\n"
	     "  q: 0\n"),
	TEXT("text entries with an empty sub-list are a table",
	     "{\"ports\":[{\"name\":\"up\",\"secondaryip\":[],\"tcubes\":[]},{\"name\":\"down\"}]}",
	     "ports:\n"
	     "  name\n"
	     "  up\n"
	     "  down\n"),
	TEXT("text only empty members", "{\"a\":{},\"b\":[]}", ""),
	TEXT("text empty array", "[]", ""),
	TEXT("text mixed array", "{\"m\":[1,{\"a\":2}]}",
	     "m:\n"
	     "  1\n"
	     "\n"
	     "  a: 2\n"),
	TEXT("text version", "{\"version\":\"0.1.0\",\"bus\":1}", "version: 0.1.0\nbus: 1\n"),

	/* empty and broken bodies */
	TEXT("empty body", "", ""),
	TEXT("blank body", " \n", ""),
	FMT("empty body json", "", CLI_FMT_JSON, 0, NULL, ""),
	FMT("null body", NULL, CLI_FMT_YAML, 0, NULL, ""),
	BAD("not json", "not json", CLI_FMT_TEXT),
	BAD("truncated json", "{\"a\":", CLI_FMT_JSON),
	BAD("trailing garbage", "{} x", CLI_FMT_YAML),
	BAD("unknown format", "{}", (enum cli_format)9),

	/* -brief, -hide */
	FMT("brief bridge", BR1, CLI_FMT_TEXT, 1, NULL, "name: br1\nuuid: 5f0c\ntype: TC\n"),
	FMT("brief array", "[{\"name\":\"br1\",\"ports\":[{\"name\":\"p1\"}],\"pid\":1}]", CLI_FMT_TEXT, 1, NULL,
	    "name  pid\nbr1   1\n"),
	FMT("brief json", BR1, CLI_FMT_JSON, 1, NULL,
	    "{\n  \"name\": \"br1\",\n  \"uuid\": \"5f0c\",\n  \"type\": \"TC\"\n}\n"),
	FMT("hide keys and paths", BR1, CLI_FMT_TEXT, 0, "uuid,ports.uuid,fdb.entry.age,nope",
	    "name: br1\n"
	    "type: TC\n"
	    "ports:\n"
	    "  name  peer      status\n"
	    "  p1    veth1     UP\n"
	    "  p2    sf:sf-p1  DOWN\n"
	    "fdb:\n"
	    "  aging-time: 300\n"
	    "  entry:\n"
	    "    address            port\n"
	    "    aa:bb:cc:dd:ee:ff  p1\n"),
	FMT("hide subtree", BR1, CLI_FMT_TEXT, 0, "ports,fdb", "name: br1\nuuid: 5f0c\ntype: TC\n"),
	FMT("hide column of top-level array", CUBES, CLI_FMT_TEXT, 0, "pid,service,type",
	    "name  status\nbr1   running\nsf    running\n"),
	FMT("hide dotted key", "{\"a.b\":1,\"a\":{\"b\":2,\"c\":3}}", CLI_FMT_TEXT, 0, "a.b,a.c", "a:\n  b: 2\n"),
	FMT("hide json", "{\"a\":1,\"b\":{\"c\":2,\"d\":3}}", CLI_FMT_JSON, 0, "b.c,,",
	    "{\n  \"a\": 1,\n  \"b\": {\n    \"d\": 3\n  }\n}\n"),

	/* json */
	FMT("json pretty",
	    "{\"name\":\"br1\",\"ports\":[{\"name\":\"p1\",\"up\":true}],"
	    "\"e\":{},\"l\":[],\"n\":null,\"f\":2.50}",
	    CLI_FMT_JSON, 0, NULL,
	    "{\n"
	    "  \"name\": \"br1\",\n"
	    "  \"ports\": [\n"
	    "    {\n"
	    "      \"name\": \"p1\",\n"
	    "      \"up\": true\n"
	    "    }\n"
	    "  ],\n"
	    "  \"e\": {},\n"
	    "  \"l\": [],\n"
	    "  \"n\": null,\n"
	    "  \"f\": 2.50\n"
	    "}\n"),
	FMT("json escapes", "{\"s\":\"a\\\"b\\\\c/d\\n\\u0001\",\"k\\ty\":1}", CLI_FMT_JSON, 0, NULL,
	    "{\n  \"s\": \"a\\\"b\\\\c/d\\n\\u0001\",\n  \"k\\ty\": 1\n}\n"),
	FMT("json top-level array", "[1,[2,3]]", CLI_FMT_JSON, 0, NULL, "[\n  1,\n  [\n    2,\n    3\n  ]\n]\n"),
	FMT("json scalar", "42", CLI_FMT_JSON, 0, NULL, "42\n"),
	FMT("json bare literal", "true", CLI_FMT_JSON, 0, NULL, "true\n"),
	FMT("json null", "null", CLI_FMT_JSON, 0, NULL, "null\n"),

	/* yaml */
	FMT("yaml bridge", BR1, CLI_FMT_YAML, 0, NULL,
	    "name: br1\n"
	    "uuid: \"5f0c\"\n"
	    "type: TC\n"
	    "ports:\n"
	    "  - name: p1\n"
	    "    peer: veth1\n"
	    "    status: UP\n"
	    "    uuid: u1\n"
	    "  - name: p2\n"
	    "    peer: sf:sf-p1\n"
	    "    status: DOWN\n"
	    "    uuid: u2\n"
	    "fdb:\n"
	    "  aging-time: 300\n"
	    "  entry:\n"
	    "    - address: aa:bb:cc:dd:ee:ff\n"
	    "      port: p1\n"
	    "      age: 3\n"),
	FMT("yaml cubes", CUBES, CLI_FMT_YAML, 0, "service,type",
	    "- name: br1\n"
	    "  status: running\n"
	    "  pid: 123\n"
	    "- name: sf\n"
	    "  status: running\n"
	    "  pid: 4567\n"),
	FMT("yaml quoting",
	    "{\"s\":\"\",\"t\":\"true\",\"y\":\"Yes\",\"n\":\"123\",\"ip\":\"10.0.0.1\","
	    "\"colon\":\"a: b\",\"hash\":\"a #b\",\"dash\":\"-x\",\"star\":\"*x\","
	    "\"ok\":\"br1:p1\",\"mac\":\"00:11:22:33:44:55\",\"nl\":\"a\\nb\","
	    "\"q\":\"say \\\"hi\\\"\",\"sp\":\" x\",\"end\":\"x:\",\"tilde\":\"~\",\"null\":null,"
	    "\"f\":1.5,\"b\":false}",
	    CLI_FMT_YAML, 0, NULL,
	    "s: \"\"\n"
	    "t: \"true\"\n"
	    "\"y\": \"Yes\"\n"
	    "\"n\": \"123\"\n"
	    "ip: \"10.0.0.1\"\n"
	    "colon: \"a: b\"\n"
	    "hash: \"a #b\"\n"
	    "dash: \"-x\"\n"
	    "star: \"*x\"\n"
	    "ok: br1:p1\n"
	    "mac: \"00:11:22:33:44:55\"\n"
	    "nl: \"a\\nb\"\n"
	    "q: say \"hi\"\n"
	    "sp: \" x\"\n"
	    "end: \"x:\"\n"
	    "tilde: \"~\"\n"
	    "\"null\": null\n"
	    "f: 1.5\n"
	    "b: false\n"),
	FMT("yaml nested lists", "{\"l\":[1,\"two\",[3,[]],{}],\"e\":{},\"z\":[]}", CLI_FMT_YAML, 0, NULL,
	    "l:\n"
	    "  - 1\n"
	    "  - two\n"
	    "  - - 3\n"
	    "    - []\n"
	    "  - {}\n"
	    "e: {}\n"
	    "z: []\n"),
	FMT("yaml list of maps with nesting", "[{\"a\":{\"b\":1},\"c\":[{\"d\":2,\"e\":3}]}]", CLI_FMT_YAML, 0, NULL,
	    "- a:\n"
	    "    b: 1\n"
	    "  c:\n"
	    "    - d: 2\n"
	    "      e: 3\n"),
	FMT("yaml brief", BR1, CLI_FMT_YAML, 1, NULL, "name: br1\nuuid: \"5f0c\"\ntype: TC\n"),
	FMT("yaml empty object", "{}", CLI_FMT_YAML, 0, NULL, "{}\n"),
	FMT("yaml scalar", "\"on\"", CLI_FMT_YAML, 0, NULL, "\"on\"\n"),
};

static int failures;
static int count;

static void show_diff(const char *got, const char *want)
{
	printf("# got:\n%s# want:\n%s", got ? got : "(null)\n", want ? want : "(null)\n");
}

int main(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		const struct out_case *c = &cases[i];
		char *out = (char *)"sentinel";
		int r, ok;

		r = output_render(c->body, c->format, c->brief, c->hide, &out);
		if (c->rc)
			ok = r == c->rc && !out;
		else
			ok = !r && out && !strcmp(out, c->want);
		count++;
		printf("%s - %s\n", ok ? "ok" : "not ok", c->name);
		if (!ok) {
			failures++;
			printf("# rc %d, want %d\n", r, c->rc);
			if (!r)
				show_diff(out, c->want);
		}
		if (!r)
			free(out);
	}
	printf("# %d/%d passed\n", count - failures, count);
	return failures ? 1 : 0;
}
