/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_store - selftest of state/store.c against a real SQLite file in a
 * temporary directory (removed at the end). Prints "ok - name" or
 * "not ok - name" per check and exits non-zero if any check failed.
 */
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "store.h"

static int failures;

static void check(int cond, const char *name)
{
	printf("%s - %s\n", cond ? "ok" : "not ok", name);
	if (!cond)
		failures++;
}

static void make_cube(struct store_cube *c, const char *name, int id, const char *config)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->name, sizeof(c->name), "%s", name);
	snprintf(c->service, sizeof(c->service), "simplebridge");
	snprintf(c->type, sizeof(c->type), "TC");
	snprintf(c->uuid, sizeof(c->uuid), "00000000-0000-4000-8000-%012d", id);
	c->id = id;
	c->generation = 1;
	c->config = (char *)config; /* borrowed: never cleared in the tests */
}

static void make_port(struct store_port *p, const char *cube, const char *name, int index, const char *peer)
{
	memset(p, 0, sizeof(*p));
	snprintf(p->cube, sizeof(p->cube), "%s", cube);
	snprintf(p->name, sizeof(p->name), "%s", name);
	snprintf(p->uuid, sizeof(p->uuid), "port-%s-%s", cube, name);
	snprintf(p->peer, sizeof(p->peer), "%s", peer);
	p->index = index;
}

/* ---- list collectors ---------------------------------------------------- */

struct seen {
	int n;
	char names[16][2 * STORE_NAME_MAX + 2];
	int ids[16];
	int stop_after; /* 0: never stop */
};

static int collect_cube(const struct store_cube *c, void *arg)
{
	struct seen *s = arg;

	if (s->n < 16) {
		snprintf(s->names[s->n], sizeof(s->names[0]), "%s", c->name);
		s->ids[s->n] = c->id;
	}
	s->n++;
	return s->stop_after && s->n >= s->stop_after ? 42 : 0;
}

static int collect_port(const struct store_port *p, void *arg)
{
	struct seen *s = arg;

	if (s->n < 16) {
		snprintf(s->names[s->n], sizeof(s->names[0]), "%s:%s", p->cube, p->name);
		s->ids[s->n] = p->index;
	}
	s->n++;
	return s->stop_after && s->n >= s->stop_after ? 7 : 0;
}

static int count_ports(struct store *st, const char *cube)
{
	struct seen s = { 0 };
	int rc = store_port_list(st, cube, collect_port, &s);

	return rc ? rc : s.n;
}

/* ---- helpers on raw sqlite ---------------------------------------------- */

static int raw_exec(const char *path, const char *sql)
{
	sqlite3 *db = NULL;
	int rc;

	rc = sqlite3_open(path, &db);
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
	sqlite3_close(db);
	return rc;
}

/* First column of the first row of sql as text into buf; 0 on success. */
static int raw_query(const char *path, const char *sql, char *buf, size_t size)
{
	sqlite3_stmt *st = NULL;
	sqlite3 *db = NULL;
	int rc = -1;

	buf[0] = '\0';
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
		goto out;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		goto out;
	if (sqlite3_step(st) != SQLITE_ROW)
		goto out;
	snprintf(buf, size, "%s", (const char *)sqlite3_column_text(st, 0));
	rc = 0;
out:
	sqlite3_finalize(st);
	sqlite3_close(db);
	return rc;
}

static int file_mode(const char *path)
{
	struct stat sb;

	return stat(path, &sb) ? -1 : (int)(sb.st_mode & 07777);
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* ---- the tests ---------------------------------------------------------- */

static void test_cubes(struct store *st)
{
	struct store_cube c, got = { 0 };
	struct seen s = { 0 };
	char longname[STORE_NAME_MAX + 8];

	make_cube(&c, "br1", 7, "{\"ports\":[]}");
	check(store_cube_insert(st, &c) == 0, "cube insert");
	check(store_cube_get(st, "br1", &got) == 0 && !strcmp(got.name, "br1") &&
		      !strcmp(got.service, "simplebridge") && !strcmp(got.type, "TC") && !strcmp(got.uuid, c.uuid) &&
		      got.id == 7 && got.generation == 1 && got.config && !strcmp(got.config, "{\"ports\":[]}"),
	      "cube get returns what was inserted");
	store_cube_clear(&got);
	check(got.config == NULL, "cube clear frees config and sets it NULL");

	check(store_cube_insert(st, &c) == -EEXIST, "duplicate cube name -> -EEXIST");
	make_cube(&c, "br2", 7, "{}");
	check(store_cube_insert(st, &c) == -EEXIST, "duplicate cube id -> -EEXIST");
	check(store_cube_get(st, "br2", &got) == -ENOENT && got.config == NULL, "failed insert left nothing behind");
	make_cube(&c, "br2", 3, "{}");
	check(store_cube_insert(st, &c) == 0, "second cube insert");

	make_cube(&c, "br1", 99, "{\"mtu\":1500}");
	snprintf(c.service, sizeof(c.service), "ignored");
	snprintf(c.type, sizeof(c.type), "XDP_DRV");
	snprintf(c.uuid, sizeof(c.uuid), "11111111-2222-4333-8444-555555555555");
	c.generation = 5;
	c.restarts = 4;
	check(store_cube_update(st, &c) == 0, "cube update");
	check(store_cube_get(st, "br1", &got) == 0 && !strcmp(got.type, "XDP_DRV") && got.generation == 5 &&
		      !strcmp(got.uuid, c.uuid) && !strcmp(got.config, "{\"mtu\":1500}") && got.id == 7 &&
		      !strcmp(got.service, "simplebridge") && got.restarts == 4,
	      "cube update changes type/generation/uuid/config/restarts only");
	store_cube_clear(&got);
	check(store_cube_set_restarts(st, "br1", 9) == 0 && store_cube_get(st, "br1", &got) == 0 && got.restarts == 9 &&
		      got.generation == 5 && !strcmp(got.config, "{\"mtu\":1500}"),
	      "cube set_restarts changes the restart count only");
	store_cube_clear(&got);
	check(store_cube_set_restarts(st, "nosuch", 1) == -ENOENT, "cube set_restarts of missing cube -> -ENOENT");
	check(store_cube_set_restarts(st, "", 1) == -EINVAL, "cube set_restarts with an empty name -> -EINVAL");
	c.restarts = 5;
	check(store_cube_update(st, &c) == 0 && store_cube_get(st, "br1", &got) == 0 && got.restarts == 5,
	      "cube update sets the restart count");
	store_cube_clear(&got);
	make_cube(&c, "nosuch", 50, "{}");
	check(store_cube_update(st, &c) == -ENOENT, "cube update of missing cube -> -ENOENT");
	check(store_cube_get(st, "nosuch", &got) == -ENOENT, "cube get of missing cube -> -ENOENT");
	check(store_cube_delete(st, "nosuch") == -ENOENT, "cube delete of missing cube -> -ENOENT");

	make_cube(&c, "bad", 0, "{}");
	check(store_cube_insert(st, &c) == -EINVAL, "cube id 0 -> -EINVAL");
	make_cube(&c, "bad", 256, "{}");
	check(store_cube_insert(st, &c) == -EINVAL, "cube id 256 -> -EINVAL");
	make_cube(&c, "bad", 9, "{}");
	snprintf(c.type, sizeof(c.type), "BOGUS");
	check(store_cube_insert(st, &c) == -EINVAL, "unknown cube type -> -EINVAL");
	make_cube(&c, "bad", 9, NULL);
	check(store_cube_insert(st, &c) == -EINVAL, "NULL config -> -EINVAL");
	make_cube(&c, "bad", 9, "{}");
	memset(c.name, 'x', sizeof(c.name)); /* no NUL inside the buffer */
	check(store_cube_insert(st, &c) == -ENAMETOOLONG, "unterminated cube name -> -ENAMETOOLONG");
	memset(longname, 'y', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	check(store_cube_get(st, longname, &got) == -ENAMETOOLONG, "over-long name argument -> -ENAMETOOLONG");

	check(store_cube_list(st, collect_cube, &s) == 0 && s.n == 2 && s.ids[0] == 3 && s.ids[1] == 7 &&
		      !strcmp(s.names[0], "br2") && !strcmp(s.names[1], "br1"),
	      "cube list ordered by id");
	memset(&s, 0, sizeof(s));
	s.stop_after = 1;
	check(store_cube_list(st, collect_cube, &s) == 42 && s.n == 1,
	      "cube list stops and returns the callback's value");

	check(store_cube_delete(st, "br2") == 0 && store_cube_get(st, "br2", &got) == -ENOENT, "cube delete");
}

static void test_ports(struct store *st)
{
	struct store_port p;
	struct store_cube c;
	struct seen s = { 0 };

	make_cube(&c, "sw", 20, "{}");
	store_cube_insert(st, &c);
	make_cube(&c, "fw", 10, "{}");
	store_cube_insert(st, &c);

	make_port(&p, "sw", "p2", 2, "veth1");
	check(store_port_upsert(st, &p) == 0, "port upsert inserts");
	make_port(&p, "sw", "p1", 1, "fw:in");
	check(store_port_upsert(st, &p) == 0, "port upsert inserts a second port");
	make_port(&p, "fw", "in", 0, "sw:p1");
	check(store_port_upsert(st, &p) == 0, "port upsert on another cube");

	check(store_port_list(st, "sw", collect_port, &s) == 0 && s.n == 2 && !strcmp(s.names[0], "sw:p1") &&
		      !strcmp(s.names[1], "sw:p2"),
	      "port list of one cube ordered by index");
	memset(&s, 0, sizeof(s));
	check(store_port_list(st, NULL, collect_port, &s) == 0 && s.n == 3 && !strcmp(s.names[0], "fw:in") &&
		      !strcmp(s.names[1], "sw:p1") && !strcmp(s.names[2], "sw:p2"),
	      "port list of all cubes ordered by cube, index");
	memset(&s, 0, sizeof(s));
	s.stop_after = 2;
	check(store_port_list(st, NULL, collect_port, &s) == 7 && s.n == 2,
	      "port list stops and returns the callback's value");

	make_port(&p, "sw", "p2", 5, "");
	check(store_port_upsert(st, &p) == 0, "port upsert replaces by (cube,name)");
	memset(&s, 0, sizeof(s));
	check(store_port_list(st, "sw", collect_port, &s) == 0 && s.n == 2 && s.ids[1] == 5,
	      "replaced port has its new index and no duplicate row");

	make_port(&p, "sw", "p3", 1, "");
	check(store_port_upsert(st, &p) == -EEXIST, "new port on a used index -> -EEXIST");
	make_port(&p, "sw", "p2", 1, "");
	check(store_port_upsert(st, &p) == -EEXIST, "moving a port onto a used index -> -EEXIST");
	check(count_ports(st, "sw") == 2, "index clash removed no port");
	make_port(&p, "ghost", "p0", 0, "");
	check(store_port_upsert(st, &p) == -ENOENT, "port on a missing cube -> -ENOENT");
	make_port(&p, "sw", "p9", 32, "");
	check(store_port_upsert(st, &p) == -EINVAL, "port index 32 -> -EINVAL");
	make_port(&p, "sw", "p9", 9, "");
	memset(p.peer, 'z', sizeof(p.peer));
	check(store_port_upsert(st, &p) == -ENAMETOOLONG, "unterminated peer -> -ENAMETOOLONG");

	check(store_port_delete(st, "sw", "p1") == 0 && count_ports(st, "sw") == 1, "port delete");
	check(store_port_delete(st, "sw", "p1") == -ENOENT, "port delete of missing port -> -ENOENT");

	check(store_cube_delete(st, "sw") == 0 && count_ports(st, "sw") == 0 && count_ports(st, NULL) == 1,
	      "deleting a cube deletes its ports (cascade)");
}

static void test_transactions(struct store *st)
{
	struct store_cube c, got = { 0 };
	struct store_port p;

	check(store_begin(st) == 0, "begin");
	check(store_begin(st) == -EALREADY, "nested begin -> -EALREADY");
	make_cube(&c, "tx1", 100, "{}");
	store_cube_insert(st, &c);
	make_port(&p, "tx1", "a", 0, "");
	store_port_upsert(st, &p);
	check(store_cube_get(st, "tx1", &got) == 0, "insert visible inside the transaction");
	store_cube_clear(&got);
	check(store_rollback(st) == 0, "rollback");
	check(store_cube_get(st, "tx1", &got) == -ENOENT && count_ports(st, "tx1") == 0, "rollback undoes inserts");
	check(store_rollback(st) == 0, "rollback without a transaction is a no-op");
	check(store_commit(st) == -EINVAL, "commit without a transaction -> -EINVAL");

	check(store_begin(st) == 0, "begin again");
	make_cube(&c, "tx2", 101, "{}");
	check(store_cube_insert(st, &c) == 0, "insert in transaction");
	make_cube(&c, "tx3", 101, "{}");
	check(store_cube_insert(st, &c) == -EEXIST, "constraint error inside a transaction");
	make_cube(&c, "tx3", 102, "{}");
	check(store_cube_insert(st, &c) == 0, "transaction usable after a constraint error");
	check(store_commit(st) == 0, "commit");
	check(store_cube_get(st, "tx2", &got) == 0, "commit keeps the first insert");
	store_cube_clear(&got);
	check(store_cube_get(st, "tx3", &got) == 0, "commit keeps the second insert");
	store_cube_clear(&got);
}

static void test_meta(struct store *st)
{
	char buf[32], tiny[4];

	check(store_meta_set(st, "boot-id", "abc") == 0, "meta set");
	check(store_meta_get(st, "boot-id", buf, sizeof(buf)) == 0 && !strcmp(buf, "abc"), "meta get");
	check(store_meta_set(st, "boot-id", "defg") == 0 && store_meta_get(st, "boot-id", buf, sizeof(buf)) == 0 &&
		      !strcmp(buf, "defg"),
	      "meta set replaces");
	check(store_meta_get(st, "nokey", buf, sizeof(buf)) == -ENOENT, "meta get missing -> -ENOENT");
	check(store_meta_get(st, "boot-id", tiny, sizeof(tiny)) == -ENAMETOOLONG && tiny[0] == '\0',
	      "meta get into a small buffer -> -ENAMETOOLONG");
	check(store_meta_set(st, "quote'; DROP TABLE meta; --", "x") == 0 &&
		      store_meta_get(st, "quote'; DROP TABLE meta; --", buf, sizeof(buf)) == 0 && !strcmp(buf, "x"),
	      "keys are bound, never spliced into SQL");
}

static void test_reopen(const char *path)
{
	struct store_cube got = { 0 };
	struct store *st = NULL;
	char buf[32];
	char *err = NULL;

	check(store_open(path, &st, &err) == 0 && st && !err, "reopen");
	if (!st)
		goto out;
	check(store_schema_version(st) == 5, "reopen keeps schema version 5");
	check(store_cube_get(st, "br1", &got) == 0 && got.generation == 5 && !strcmp(got.config, "{\"mtu\":1500}") &&
		      got.restarts == 5,
	      "reopen keeps cubes (restart count included)");
	store_cube_clear(&got);
	check(count_ports(st, "fw") == 1, "reopen keeps ports");
	check(store_meta_get(st, "boot-id", buf, sizeof(buf)) == 0 && !strcmp(buf, "defg"), "reopen keeps meta");
	check(store_cube_insert(
		      st,
		      &(struct store_cube){
			      .name = "late", .service = "s", .type = "XDP_SKB", .id = 200, .config = "{}" }) == 0 &&
		      count_ports(st, NULL) == 1,
	      "foreign keys and writes work after reopen");
	check(store_port_upsert(st, &(struct store_port){ .cube = "gone", .name = "x" }) == -ENOENT,
	      "foreign keys enforced after reopen");
	check(store_check(st) == 0, "store_check ok after reopen");
out:
	store_close(&st);
	free(err);
}

struct changes_seen {
	int n;
	char text[4][32];
};

static int collect_change(const char *diff, void *arg)
{
	struct changes_seen *s = arg;

	if (s->n < 4)
		snprintf(s->text[s->n], sizeof(s->text[0]), "%s", diff);
	s->n++;
	return 0;
}

/* The journal: changes in order, per cube, cleared by a whole write, gone
 * with their cube, refused for a cube that does not exist. */
static void test_journal(const char *dir)
{
	struct store_cube c = { .name = "j1", .service = "router", .type = "TC", .id = 9, .config = "{}" };
	struct changes_seen s = { 0 };
	struct store *st = NULL;
	char path[4096];
	char *err = NULL;
	int n = 0;

	snprintf(path, sizeof(path), "%s/journal.db", dir);
	check(store_open(path, &st, &err) == 0 && st, "journal: open");
	if (!st)
		goto out;
	check(store_cube_insert(st, &c) == 0, "journal: a cube");
	check(store_change_append(st, "j1", "{\"a\":1}", &n) == 0 && n == 1, "journal: first change, count 1");
	check(store_change_append(st, "j1", "{\"a\":2}", &n) == 0 && n == 2, "journal: second change, count 2");
	check(store_change_append(st, "nope", "{}", &n) == -ENOENT,
	      "journal: no change for a cube that does not exist");
	check(store_change_list(st, "j1", collect_change, &s) == 0 && s.n == 2 && !strcmp(s.text[0], "{\"a\":1}") &&
		      !strcmp(s.text[1], "{\"a\":2}"),
	      "journal: listed oldest first");
	store_close(&st);
	check(store_open(path, &st, &err) == 0 && st, "journal: reopen");
	if (!st)
		goto out;
	s.n = 0;
	check(store_change_list(st, "j1", collect_change, &s) == 0 && s.n == 2, "journal: kept across a reopen");
	c.config = "{\"a\":2}";
	check(store_cube_update(st, &c) == 0, "journal: whole write");
	s.n = 0;
	check(store_change_list(st, "j1", collect_change, &s) == 0 && s.n == 0, "journal: a whole write clears it");
	check(store_change_append(st, "j1", "{\"a\":3}", &n) == 0 && n == 1, "journal: appends again after");
	check(store_cube_delete(st, "j1") == 0, "journal: delete the cube");
	s.n = 0;
	check(store_change_list(st, "j1", collect_change, &s) == 0 && s.n == 0, "journal: gone with its cube");
out:
	store_close(&st);
	free(err);
}

/* A database of schema version 1 (before cubes.restarts), as its code made
 * it: opening upgrades it to the current version and keeps what it held. */
static void test_migrate_v1(const char *dir)
{
	static const char v1[] =
		"CREATE TABLE cubes("
		"  name TEXT PRIMARY KEY,"
		"  service TEXT NOT NULL,"
		"  type TEXT NOT NULL,"
		"  id INTEGER NOT NULL UNIQUE,"
		"  generation INTEGER NOT NULL DEFAULT 0,"
		"  uuid TEXT NOT NULL,"
		"  config TEXT NOT NULL"
		");"
		"CREATE TABLE ports("
		"  cube TEXT NOT NULL REFERENCES cubes(name) ON DELETE CASCADE,"
		"  name TEXT NOT NULL,"
		"  idx INTEGER NOT NULL,"
		"  peer TEXT NOT NULL DEFAULT '',"
		"  uuid TEXT NOT NULL,"
		"  PRIMARY KEY(cube, name),"
		"  UNIQUE(cube, idx)"
		");"
		"CREATE TABLE meta("
		"  key TEXT PRIMARY KEY,"
		"  value TEXT NOT NULL"
		");"
		"INSERT INTO cubes VALUES('r1', 'router', 'XDP_SKB', 4, 3, 'u-r1', '{\"arp-aging-time\":60}');"
		"INSERT INTO cubes VALUES('br1', 'simplebridge', 'TC', 2, 1, 'u-br1', '{}');"
		"INSERT INTO ports VALUES('r1', 'p1', 0, 'veth1', 'u-p1');"
		"INSERT INTO meta VALUES('boot-id', 'v1');"
		"PRAGMA user_version = 1;";
	struct store_cube got = { 0 };
	struct seen s = { 0 };
	struct store *st = NULL;
	char path[4096], buf[32];
	char *err = NULL;

	snprintf(path, sizeof(path), "%s/v1.db", dir);
	check(raw_exec(path, v1) == SQLITE_OK, "create a database of schema version 1 with two cubes");
	check(store_open(path, &st, &err) == 0 && st && !err, "a version 1 database opens");
	if (!st)
		goto out;
	check(store_schema_version(st) == 5, "it is migrated to version 5");
	check(store_cube_list(st, collect_cube, &s) == 0 && s.n == 2 && !strcmp(s.names[0], "br1") &&
		      !strcmp(s.names[1], "r1"),
	      "the migration keeps its cubes");
	check(store_cube_get(st, "r1", &got) == 0 && !strcmp(got.service, "router") && !strcmp(got.type, "XDP_SKB") &&
		      got.id == 4 && got.generation == 3 && !strcmp(got.uuid, "u-r1") &&
		      !strcmp(got.config, "{\"arp-aging-time\":60}") && got.restarts == 0,
	      "a migrated cube keeps its fields, with restart count 0");
	store_cube_clear(&got);
	check(count_ports(st, "r1") == 1, "the migration keeps ports");
	check(store_meta_get(st, "boot-id", buf, sizeof(buf)) == 0 && !strcmp(buf, "v1"), "the migration keeps meta");
	check(store_cube_set_restarts(st, "r1", 3) == 0, "a migrated cube takes a restart count");
	store_close(&st);
	check(store_open(path, &st, &err) == 0 && st && store_schema_version(st) == 5 &&
		      store_cube_get(st, "r1", &got) == 0 && got.restarts == 3,
	      "reopened, the migrated database keeps the restart count");
	store_cube_clear(&got);
	check(store_check(st) == 0, "store_check ok after the migration");
out:
	store_close(&st);
	free(err);
}

static void test_too_new(const char *dir)
{
	struct store *st = (struct store *)&st; /* must be cleared */
	char path[4096], mode[16];
	char *err = NULL;
	FILE *f;
	int rc;

	snprintf(path, sizeof(path), "%s/future.db", dir);
	check(raw_exec(path, "CREATE TABLE x(a); PRAGMA user_version = 999;") == SQLITE_OK,
	      "create a database with user_version 999");
	rc = store_open(path, &st, &err);
	check(rc == -EPROTONOSUPPORT && st == NULL && err && *err,
	      "user_version 999 -> -EPROTONOSUPPORT with a message");
	check(raw_query(path, "PRAGMA user_version", mode, sizeof(mode)) == 0 && !strcmp(mode, "999") &&
		      raw_query(path, "PRAGMA journal_mode", mode, sizeof(mode)) == 0 && !strcmp(mode, "delete"),
	      "a too-new database is left untouched");
	free(err);
	err = NULL;

	snprintf(path, sizeof(path), "%s/garbage.db", dir);
	f = fopen(path, "w");
	if (f) {
		fputs("this is certainly not an SQLite database, just some text padding it out\n", f);
		fclose(f);
	}
	st = NULL;
	rc = store_open(path, &st, &err);
	check(rc < 0 && st == NULL && err && *err, "a non-database file is refused with a message");
	free(err);
}

static int collect_attach(const struct store_attach *a, void *arg)
{
	char *out = arg;
	size_t n = strlen(out);

	snprintf(out + n, 256 - n, "%s%s@%s:%s/%d", n ? " " : "", a->tcube, a->cube, a->port, a->pos);
	return 0;
}

/* transparent cubes attached to ports; gone with the cube or the port */
static void test_attachments(struct store *st)
{
	struct store_attach a = { 0 };
	struct store_cube c;
	struct store_port p;
	char got[256] = "";

	make_cube(&c, "x1", 40, "{}");
	store_cube_insert(st, &c);
	make_cube(&c, "t1", 41, "{}");
	store_cube_insert(st, &c);
	make_cube(&c, "t2", 42, "{}");
	store_cube_insert(st, &c);
	make_port(&p, "x1", "up", 0, "veth9");
	store_port_upsert(st, &p);
	snprintf(a.tcube, sizeof(a.tcube), "t1");
	snprintf(a.cube, sizeof(a.cube), "x1");
	snprintf(a.port, sizeof(a.port), "up");
	a.pos = 1;
	check(store_attach_set(st, &a) == 0, "attach t1 to x1:up");
	snprintf(a.tcube, sizeof(a.tcube), "t2");
	a.pos = 0;
	check(store_attach_set(st, &a) == 0, "attach t2 to x1:up");
	check(store_attach_list(st, collect_attach, got) == 0 && !strcmp(got, "t2@x1:up/0 t1@x1:up/1"),
	      "attachments listed in chain order");
	snprintf(a.port, sizeof(a.port), "nosuch");
	check(store_attach_set(st, &a) < 0, "an attachment to a port that does not exist is refused");
	got[0] = 0;
	check(store_attach_list(st, collect_attach, got) == 0 && !strcmp(got, "t2@x1:up/0 t1@x1:up/1"),
	      "and changes nothing");
	check(store_cube_delete(st, "t2") == 0, "delete t2");
	got[0] = 0;
	check(store_attach_list(st, collect_attach, got) == 0 && !strcmp(got, "t1@x1:up/1"),
	      "deleting a transparent cube detaches it");
	check(store_port_delete(st, "x1", "up") == 0, "delete x1:up");
	got[0] = 0;
	check(store_attach_list(st, collect_attach, got) == 0 && !got[0], "deleting the port detaches its chain");
	check(store_attach_delete(st, "t1") == -ENOENT, "detaching what is not attached: -ENOENT");
	/* on a netdev no cube uses: no cube, port the netdev */
	snprintf(a.tcube, sizeof(a.tcube), "t1");
	a.cube[0] = 0;
	snprintf(a.port, sizeof(a.port), "veth7");
	a.pos = 0;
	check(store_attach_set(st, &a) == 0, "attach t1 to netdev veth7 (NULL cube, no port row)");
	make_cube(&c, "t3", 43, "{}");
	store_cube_insert(st, &c);
	snprintf(a.tcube, sizeof(a.tcube), "t3");
	a.pos = 1;
	check(store_attach_set(st, &a) == 0, "attach t3 after it");
	got[0] = 0;
	check(store_attach_list(st, collect_attach, got) == 0 && !strcmp(got, "t1@:veth7/0 t3@:veth7/1"),
	      "netdev attachments listed with cube \"\", in chain order");
	snprintf(a.cube, sizeof(a.cube), "x1");
	snprintf(a.port, sizeof(a.port), "nosuch");
	check(store_attach_set(st, &a) < 0, "with a cube, the port must exist still");
	check(store_cube_delete(st, "t3") == 0, "delete t3");
	got[0] = 0;
	check(store_attach_list(st, collect_attach, got) == 0 && !strcmp(got, "t1@:veth7/0"),
	      "deleting a transparent cube on a netdev detaches it");
	check(store_attach_delete(st, "t1") == 0, "detach t1 from veth7");
	check(store_schema_version(st) == 5, "schema migrated to version 5");
	store_cube_delete(st, "x1");
}

int main(void)
{
	char tmpl[] = "/tmp/test_store.XXXXXX";
	char dir[64], path[128], walpath[160], buf[32];
	struct store *st = NULL;
	char *err = (char *)"x";
	char *dirp = mkdtemp(tmpl);

	if (!dirp) {
		perror("mkdtemp");
		return 2;
	}
	snprintf(dir, sizeof(dir), "%s/state/deep", dirp);
	snprintf(path, sizeof(path), "%s/topology.db", dir);
	snprintf(walpath, sizeof(walpath), "%s-wal", path);

	check(store_open(path, &st, &err) == 0 && st && err == NULL, "open creates the database");
	if (!st) {
		fprintf(stderr, "# %s\n", err ? err : "(no message)");
		free(err);
		goto out;
	}
	check(file_mode(dir) == 0700, "missing parent directories created with mode 0700");
	check(file_mode(path) == 0600, "database file created with mode 0600");
	check(store_schema_version(st) == 5, "schema migrated to version 5");
	check(raw_query(path, "SELECT count(*) FROM pragma_table_info('cubes') WHERE name = 'restarts'", buf,
			sizeof(buf)) == 0 &&
		      !strcmp(buf, "1"),
	      "a new database has cubes.restarts");
	check(raw_query(path, "PRAGMA journal_mode", buf, sizeof(buf)) == 0 && !strcmp(buf, "wal"),
	      "journal mode is WAL");
	check(strcmp(store_errmsg(st), "") != 0, "store_errmsg never empty");

	test_cubes(st);
	check(file_mode(walpath) == 0600, "WAL file has mode 0600");
	test_ports(st);
	test_transactions(st);
	test_meta(st);
	test_attachments(st);
	check(store_check(st) == 0, "store_check ok");

	store_close(&st);
	check(st == NULL, "close clears the pointer");
	store_close(&st);
	store_close(NULL);
	check(1, "close is NULL-safe");

	test_reopen(path);
	test_migrate_v1(dirp);
	test_journal(dirp);
	test_too_new(dirp);
out:
	if (nftw(dirp, rm_entry, 16, FTW_DEPTH | FTW_PHYS))
		perror("removing the temporary directory");
	check(access(dirp, F_OK) != 0, "temporary directory removed");
	printf("%s\n", failures ? "# FAILED" : "# all passed");
	return failures ? 1 : 0;
}
