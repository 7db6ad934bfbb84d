/* SPDX-License-Identifier: Apache-2.0 */
/*
 * store - the broker's SQLite topology database. See store.h.
 *
 * Every statement is prepared per call with bound parameters; the only SQL
 * built at run time is "PRAGMA user_version = N" with N from this file.
 * Statements are not cached so list callbacks may re-enter the store.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <sqlite3.h>

#include "store.h"

#define STORE_BUSY_TIMEOUT_MS 5000
#define STORE_CUBE_ID_MIN     1
#define STORE_CUBE_ID_MAX     255
#define STORE_PORT_INDEX_MAX  31

struct store {
	sqlite3 *db;
	char err[256]; /* copy of sqlite3_errmsg() at the last failure */
};

/*
 * Migrations: migrations[i] takes the schema from version i to i + 1. Append
 * only; never edit an entry once released.
 */
static const char *const migrations[] = {
	/* 1: initial topology schema */
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
	");",
	/* 2: how many times the broker started a new process for a cube, kept
	 * across broker restarts */
	"ALTER TABLE cubes ADD COLUMN restarts INTEGER NOT NULL DEFAULT 0;",
	/* 3: the changes made to a cube's configuration since its config
	 * column was last written, in order (a journal: one small row per
	 * change instead of the whole configuration again) */
	"CREATE TABLE changes("
	"  seq INTEGER PRIMARY KEY AUTOINCREMENT,"
	"  cube TEXT NOT NULL REFERENCES cubes(name) ON DELETE CASCADE,"
	"  diff TEXT NOT NULL"
	");"
	"CREATE INDEX changes_cube ON changes(cube, seq);",
	/* 4: transparent cubes attached to ports: one row per transparent
	 * cube, pos its place in the port's chain (0 closest to the peer);
	 * deleting either cube, or the port, detaches it */
	"CREATE TABLE attachments("
	"  tcube TEXT PRIMARY KEY REFERENCES cubes(name) ON DELETE CASCADE,"
	"  cube TEXT NOT NULL,"
	"  port TEXT NOT NULL,"
	"  pos INTEGER NOT NULL,"
	"  FOREIGN KEY(cube, port) REFERENCES ports(cube, name) ON DELETE CASCADE"
	");",
	/* 5: a transparent cube attached to a netdev no cube uses: cube NULL,
	 * port the netdev's name. SQLite does not check a foreign key with a
	 * NULL column, so the row stays with its netdev; only deleting the
	 * transparent cube removes it. NOT NULL cannot be dropped in place:
	 * the table is rebuilt */
	"CREATE TABLE attachments_v5("
	"  tcube TEXT PRIMARY KEY REFERENCES cubes(name) ON DELETE CASCADE,"
	"  cube TEXT,"
	"  port TEXT NOT NULL,"
	"  pos INTEGER NOT NULL,"
	"  FOREIGN KEY(cube, port) REFERENCES ports(cube, name) ON DELETE CASCADE"
	");"
	"INSERT INTO attachments_v5 SELECT tcube, cube, port, pos FROM attachments;"
	"DROP TABLE attachments;"
	"ALTER TABLE attachments_v5 RENAME TO attachments;",
};

#define STORE_SCHEMA_VERSION ((int)(sizeof(migrations) / sizeof(migrations[0])))

static const char *const cube_types[] = { "TC", "XDP_SKB", "XDP_DRV" };

/* ---- helpers -------------------------------------------------------------- */

static __attribute__((format(printf, 2, 3))) void set_errmsg(char **errmsg, const char *fmt, ...)
{
	va_list ap;
	char *s;
	int n;

	if (!errmsg)
		return;
	free(*errmsg);
	*errmsg = NULL;
	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	s = malloc((size_t)n + 1);
	if (!s)
		return;
	va_start(ap, fmt);
	vsnprintf(s, (size_t)n + 1, fmt, ap);
	va_end(ap);
	*errmsg = s;
}

/* Maps an (extended) SQLite result code to a negative errno. */
static int sql_errno(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_OK:
	case SQLITE_ROW:
	case SQLITE_DONE: return 0;
	case SQLITE_CONSTRAINT: return -EEXIST;
	case SQLITE_BUSY:
	case SQLITE_LOCKED: return -EBUSY;
	case SQLITE_FULL: return -ENOSPC;
	case SQLITE_NOMEM: return -ENOMEM;
	case SQLITE_READONLY: return -EROFS;
	case SQLITE_TOOBIG: return -E2BIG;
	default: return -EIO;
	}
}

/* Records SQLite's message for a failure and returns the mapped errno. */
static int sql_fail(struct store *self, int rc)
{
	snprintf(self->err, sizeof(self->err), "%s", sqlite3_errmsg(self->db));
	return sql_errno(rc);
}

/* Runs constant SQL (never anything holding user data). */
static int sql_exec(struct store *self, const char *sql)
{
	int rc = sqlite3_exec(self->db, sql, NULL, NULL, NULL);

	return rc == SQLITE_OK ? 0 : sql_fail(self, rc);
}

static int sql_prepare(struct store *self, const char *sql, sqlite3_stmt **st)
{
	int rc = sqlite3_prepare_v2(self->db, sql, -1, st, NULL);

	return rc == SQLITE_OK ? 0 : sql_fail(self, rc);
}

static int sql_bind_null(struct store *self, sqlite3_stmt *st, int i)
{
	int rc = sqlite3_bind_null(st, i);

	return rc == SQLITE_OK ? 0 : sql_fail(self, rc);
}

/* s must stay valid until the statement is finalized. */
static int bind_text(struct store *self, sqlite3_stmt *st, int i, const char *s)
{
	int rc = sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC);

	return rc == SQLITE_OK ? 0 : sql_fail(self, rc);
}

static int bind_int64(struct store *self, sqlite3_stmt *st, int i, sqlite3_int64 v)
{
	int rc = sqlite3_bind_int64(st, i, v);

	return rc == SQLITE_OK ? 0 : sql_fail(self, rc);
}

/* Steps a statement that returns no rows. */
static int sql_step_done(struct store *self, sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);

	return (rc == SQLITE_DONE || rc == SQLITE_ROW) ? 0 : sql_fail(self, rc);
}

/* Runs a query whose first row's first column is an integer. */
static int sql_query_int(struct store *self, const char *sql, int *out)
{
	sqlite3_stmt *st = NULL;
	int rc;

	rc = sql_prepare(self, sql, &st);
	if (rc)
		goto out;
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE) {
		snprintf(self->err, sizeof(self->err), "%s returned no row", sql);
		rc = -EIO;
		goto out;
	}
	if (rc != SQLITE_ROW) {
		rc = sql_fail(self, rc);
		goto out;
	}
	*out = sqlite3_column_int(st, 0);
	rc = 0;
out:
	sqlite3_finalize(st);
	return rc;
}

/* Copies column i into buf; -ENAMETOOLONG if it (and its NUL) does not fit. */
static int col_copy(sqlite3_stmt *st, int i, char *buf, size_t size)
{
	const unsigned char *t;
	int n;

	if (sqlite3_column_type(st, i) == SQLITE_NULL) {
		buf[0] = '\0';
		return 0;
	}
	t = sqlite3_column_text(st, i);
	if (!t)
		return -ENOMEM;
	n = sqlite3_column_bytes(st, i);
	if (n < 0 || (size_t)n >= size)
		return -ENAMETOOLONG;
	memcpy(buf, t, (size_t)n);
	buf[n] = '\0';
	return 0;
}

/* Returns a malloc'd copy of column i (NULL column gives ""), or NULL. */
static char *col_dup(sqlite3_stmt *st, int i)
{
	const unsigned char *t = NULL;
	char *s;
	int n = 0;

	if (sqlite3_column_type(st, i) != SQLITE_NULL) {
		t = sqlite3_column_text(st, i);
		if (!t)
			return NULL;
		n = sqlite3_column_bytes(st, i);
		if (n < 0)
			return NULL;
	}
	s = malloc((size_t)n + 1);
	if (!s)
		return NULL;
	if (n)
		memcpy(s, t, (size_t)n);
	s[n] = '\0';
	return s;
}

/* A string that must be NUL-terminated within size bytes (may be empty). */
static int check_text(const char *s, size_t size)
{
	if (!s)
		return -EINVAL;
	return strnlen(s, size) == size ? -ENAMETOOLONG : 0;
}

/* Like check_text but must also be non-empty. */
static int check_name(const char *s, size_t size)
{
	int rc = check_text(s, size);

	if (!rc && !*s)
		rc = -EINVAL;
	return rc;
}

static bool cube_type_valid(const char *type)
{
	for (size_t i = 0; i < sizeof(cube_types) / sizeof(cube_types[0]); i++)
		if (!strcmp(type, cube_types[i]))
			return true;
	return false;
}

/* Validates the fields an update writes (plus service and id on insert). */
static int cube_check(const struct store_cube *c, bool insert)
{
	int rc;

	rc = check_name(c->name, sizeof(c->name));
	if (!rc && insert)
		rc = check_name(c->service, sizeof(c->service));
	if (!rc)
		rc = check_name(c->type, sizeof(c->type));
	if (!rc)
		rc = check_text(c->uuid, sizeof(c->uuid));
	if (rc)
		return rc;
	if (!cube_type_valid(c->type) || !c->config)
		return -EINVAL;
	if (insert && (c->id < STORE_CUBE_ID_MIN || c->id > STORE_CUBE_ID_MAX))
		return -EINVAL;
	return 0;
}

/* ---- open / close --------------------------------------------------------- */

/* mkdir -p of the directory part of path, new directories get mode 0700. */
static int make_parents(const char *path, char **errmsg)
{
	struct stat sb;
	char *dir, *p, c;
	int rc = 0;

	dir = strdup(path);
	if (!dir) {
		rc = -ENOMEM;
		set_errmsg(errmsg, "Out of memory.");
		goto out;
	}
	p = strrchr(dir, '/');
	if (!p || p == dir)
		goto out; /* in the current directory or directly under / */
	*p = '\0';
	for (p = dir + 1;; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		c = *p;
		*p = '\0';
		if (mkdir(dir, 0700) && errno != EEXIST) {
			rc = -errno;
			if (stat(dir, &sb) || !S_ISDIR(sb.st_mode)) {
				set_errmsg(errmsg, "Cannot create directory %s: %s.", dir, strerror(-rc));
				goto out;
			}
			rc = 0;
		}
		*p = c;
		if (!c)
			break;
	}
out:
	free(dir);
	return rc;
}

/* Creates the database file with mode 0600 unless it already exists. */
static int create_file(const char *path, char **errmsg)
{
	int fd, rc = 0;

	fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOCTTY, 0600);
	if (fd < 0) {
		if (errno != EEXIST) {
			rc = -errno;
			set_errmsg(errmsg, "Cannot create database file %s: %s.", path, strerror(-rc));
		}
		goto out;
	}
	/* the umask may have taken bits away; make it exactly 0600 */
	if (fchmod(fd, 0600)) {
		rc = -errno;
		set_errmsg(errmsg, "Cannot set the mode of %s: %s.", path, strerror(-rc));
	}
	close(fd);
out:
	return rc;
}

/* WAL, synchronous=FULL and foreign keys, each verified. */
static int set_pragmas(struct store *self)
{
	sqlite3_stmt *st = NULL;
	const unsigned char *mode;
	int rc, fk = 0;

	rc = sql_prepare(self, "PRAGMA journal_mode=WAL", &st);
	if (rc)
		goto out;
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		rc = rc == SQLITE_DONE ? -EIO : sql_fail(self, rc);
		goto out;
	}
	mode = sqlite3_column_text(st, 0);
	if (!mode || strcasecmp((const char *)mode, "wal")) {
		snprintf(self->err, sizeof(self->err), "the journal mode stayed %s instead of wal",
			 mode ? (const char *)mode : "unknown");
		rc = -EIO;
		goto out;
	}
	rc = sql_exec(self, "PRAGMA synchronous=FULL");
	if (rc)
		goto out;
	rc = sql_exec(self, "PRAGMA foreign_keys=ON");
	if (rc)
		goto out;
	rc = sql_query_int(self, "PRAGMA foreign_keys", &fk);
	if (rc)
		goto out;
	if (fk != 1) {
		snprintf(self->err, sizeof(self->err), "this SQLite does not enforce foreign keys");
		rc = -EOPNOTSUPP;
	}
out:
	sqlite3_finalize(st);
	return rc;
}

/*
 * Applies the next migration in its own transaction. *version is the version
 * seen before; on return it holds the version now in the database (which
 * another process may have migrated meanwhile, possibly past what we know).
 */
static int migrate_one(struct store *self, int *version)
{
	char sql[64];
	int rc, v;

	rc = sql_exec(self, "BEGIN IMMEDIATE");
	if (rc)
		goto out;
	rc = sql_query_int(self, "PRAGMA user_version", &v);
	if (rc)
		goto rollback;
	*version = v;
	if (v < 0 || v >= STORE_SCHEMA_VERSION)
		goto rollback; /* nothing for us to do; the caller judges v */
	rc = sql_exec(self, migrations[v]);
	if (rc)
		goto rollback;
	snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", v + 1);
	rc = sql_exec(self, sql);
	if (rc)
		goto rollback;
	rc = sql_exec(self, "COMMIT");
	if (rc)
		goto rollback;
	*version = v + 1;
	goto out;
rollback:
	if (!sqlite3_get_autocommit(self->db))
		sqlite3_exec(self->db, "ROLLBACK", NULL, NULL, NULL);
out:
	return rc;
}

static bool version_supported(int v)
{
	return v >= 0 && v <= STORE_SCHEMA_VERSION;
}

int store_open(const char *path, struct store **out, char **errmsg)
{
	struct store *self = NULL;
	int rc, version = 0;

	if (errmsg)
		*errmsg = NULL;
	if (!out) {
		rc = -EINVAL;
		set_errmsg(errmsg, "No place to return the store was given.");
		goto out;
	}
	*out = NULL;
	if (!path || !*path) {
		rc = -EINVAL;
		set_errmsg(errmsg, "No database path was given.");
		goto out;
	}
	rc = make_parents(path, errmsg);
	if (rc)
		goto out;
	rc = create_file(path, errmsg);
	if (rc)
		goto out;

	self = calloc(1, sizeof(*self));
	if (!self) {
		rc = -ENOMEM;
		set_errmsg(errmsg, "Out of memory.");
		goto out;
	}
	snprintf(self->err, sizeof(self->err), "not an error");
	rc = sqlite3_open_v2(path, &self->db, SQLITE_OPEN_READWRITE, NULL);
	if (rc != SQLITE_OK) {
		rc = sql_fail(self, rc);
		set_errmsg(errmsg, "Cannot open database %s: %s.", path, self->err);
		goto out;
	}
	sqlite3_extended_result_codes(self->db, 1);
	rc = sqlite3_busy_timeout(self->db, STORE_BUSY_TIMEOUT_MS);
	if (rc != SQLITE_OK) {
		rc = sql_fail(self, rc);
		set_errmsg(errmsg, "Cannot set the busy timeout on %s: %s.", path, self->err);
		goto out;
	}

	/* refuse a newer database before changing anything in it */
	rc = sql_query_int(self, "PRAGMA user_version", &version);
	if (rc) {
		set_errmsg(errmsg, "Cannot read the schema version of %s: %s.", path, self->err);
		goto out;
	}
	if (!version_supported(version))
		goto unsupported;

	rc = set_pragmas(self);
	if (rc) {
		set_errmsg(errmsg, "Cannot configure database %s: %s.", path, self->err);
		goto out;
	}
	while (version >= 0 && version < STORE_SCHEMA_VERSION) {
		int from = version;

		rc = migrate_one(self, &version);
		if (rc) {
			set_errmsg(errmsg, "Cannot migrate database %s from schema version %d: %s.", path, from,
				   self->err);
			goto out;
		}
	}
	if (!version_supported(version))
		goto unsupported;

	*out = self;
	self = NULL;
	rc = 0;
	goto out;
unsupported:
	rc = -EPROTONOSUPPORT;
	set_errmsg(errmsg, "Database %s has schema version %d but this program only supports versions up to %d.", path,
		   version, STORE_SCHEMA_VERSION);
out:
	store_close(&self);
	return rc;
}

void store_close(struct store **self)
{
	if (!self || !*self)
		return;
	/* rolls back an open transaction; nothing is cached to finalize */
	sqlite3_close_v2((*self)->db);
	free(*self);
	*self = NULL;
}

int store_schema_version(struct store *self)
{
	int rc, v = 0;

	if (!self)
		return -EINVAL;
	rc = sql_query_int(self, "PRAGMA user_version", &v);
	return rc ? rc : v;
}

const char *store_errmsg(struct store *self)
{
	return self ? self->err : "no store";
}

/* ---- transactions --------------------------------------------------------- */

int store_begin(struct store *self)
{
	if (!self)
		return -EINVAL;
	if (!sqlite3_get_autocommit(self->db))
		return -EALREADY;
	return sql_exec(self, "BEGIN IMMEDIATE");
}

int store_commit(struct store *self)
{
	if (!self)
		return -EINVAL;
	if (sqlite3_get_autocommit(self->db))
		return -EINVAL;
	return sql_exec(self, "COMMIT");
}

int store_rollback(struct store *self)
{
	if (!self)
		return -EINVAL;
	if (sqlite3_get_autocommit(self->db))
		return 0;
	return sql_exec(self, "ROLLBACK");
}

/* ---- cubes ---------------------------------------------------------------- */

#define CUBE_COLUMNS "name, service, type, uuid, id, generation, config, restarts"

/* Fills *c from a row of CUBE_COLUMNS; c->config is malloc'd on success. */
static int cube_from_row(sqlite3_stmt *st, struct store_cube *c)
{
	sqlite3_int64 id, gen, restarts;
	int rc;

	memset(c, 0, sizeof(*c));
	rc = col_copy(st, 0, c->name, sizeof(c->name));
	if (!rc)
		rc = col_copy(st, 1, c->service, sizeof(c->service));
	if (!rc)
		rc = col_copy(st, 2, c->type, sizeof(c->type));
	if (!rc)
		rc = col_copy(st, 3, c->uuid, sizeof(c->uuid));
	if (rc)
		goto out;
	id = sqlite3_column_int64(st, 4);
	gen = sqlite3_column_int64(st, 5);
	restarts = sqlite3_column_int64(st, 7);
	if (id < INT_MIN || id > INT_MAX || gen < 0 || gen > UINT_MAX || restarts < 0 || restarts > UINT_MAX) {
		rc = -ERANGE;
		goto out;
	}
	c->id = (int)id;
	c->generation = (unsigned)gen;
	c->restarts = (unsigned)restarts;
	c->config = col_dup(st, 6);
	if (!c->config)
		rc = -ENOMEM;
out:
	return rc;
}

int store_cube_insert(struct store *self, const struct store_cube *c)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if (!self || !c) {
		rc = -EINVAL;
		goto out;
	}
	rc = cube_check(c, true);
	if (rc)
		goto out;
	rc = sql_prepare(self, "INSERT INTO cubes(" CUBE_COLUMNS ") VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)", &st);
	if (!rc)
		rc = bind_text(self, st, 1, c->name);
	if (!rc)
		rc = bind_text(self, st, 2, c->service);
	if (!rc)
		rc = bind_text(self, st, 3, c->type);
	if (!rc)
		rc = bind_text(self, st, 4, c->uuid);
	if (!rc)
		rc = bind_int64(self, st, 5, c->id);
	if (!rc)
		rc = bind_int64(self, st, 6, c->generation);
	if (!rc)
		rc = bind_text(self, st, 7, c->config);
	if (!rc)
		rc = bind_int64(self, st, 8, c->restarts);
	if (!rc)
		rc = sql_step_done(self, st);
out:
	sqlite3_finalize(st);
	return rc;
}

int store_cube_update(struct store *self, const struct store_cube *c)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if (!self || !c) {
		rc = -EINVAL;
		goto out;
	}
	rc = cube_check(c, false);
	if (rc)
		goto out;
	rc = sql_prepare(self,
			 "UPDATE cubes SET type = ?2, generation = ?3, uuid = ?4, config = ?5, restarts = ?6"
			 " WHERE name = ?1",
			 &st);
	if (!rc)
		rc = bind_text(self, st, 1, c->name);
	if (!rc)
		rc = bind_text(self, st, 2, c->type);
	if (!rc)
		rc = bind_int64(self, st, 3, c->generation);
	if (!rc)
		rc = bind_text(self, st, 4, c->uuid);
	if (!rc)
		rc = bind_text(self, st, 5, c->config);
	if (!rc)
		rc = bind_int64(self, st, 6, c->restarts);
	if (!rc)
		rc = sql_step_done(self, st);
	if (!rc && sqlite3_changes(self->db) == 0)
		rc = -ENOENT;
	sqlite3_finalize(st);
	st = NULL;
	/* the config column is the whole configuration now: its journal is done */
	if (!rc)
		rc = sql_prepare(self, "DELETE FROM changes WHERE cube = ?1", &st);
	if (!rc)
		rc = bind_text(self, st, 1, c->name);
	if (!rc)
		rc = sql_step_done(self, st);
out:
	sqlite3_finalize(st);
	return rc;
}

int store_cube_set_restarts(struct store *self, const char *name, unsigned restarts)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if (!self) {
		rc = -EINVAL;
		goto out;
	}
	rc = check_name(name, STORE_NAME_MAX);
	if (rc)
		goto out;
	rc = sql_prepare(self, "UPDATE cubes SET restarts = ?2 WHERE name = ?1", &st);
	if (!rc)
		rc = bind_text(self, st, 1, name);
	if (!rc)
		rc = bind_int64(self, st, 2, restarts);
	if (!rc)
		rc = sql_step_done(self, st);
	if (!rc && sqlite3_changes(self->db) == 0)
		rc = -ENOENT;
out:
	sqlite3_finalize(st);
	return rc;
}

int store_cube_delete(struct store *self, const char *name)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if (!self) {
		rc = -EINVAL;
		goto out;
	}
	rc = check_name(name, STORE_NAME_MAX);
	if (rc)
		goto out;
	rc = sql_prepare(self, "DELETE FROM cubes WHERE name = ?1", &st);
	if (!rc)
		rc = bind_text(self, st, 1, name);
	if (!rc)
		rc = sql_step_done(self, st);
	if (!rc && sqlite3_changes(self->db) == 0)
		rc = -ENOENT;
out:
	sqlite3_finalize(st);
	return rc;
}

int store_cube_get(struct store *self, const char *name, struct store_cube *out)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if (out)
		memset(out, 0, sizeof(*out));
	if (!self || !out) {
		rc = -EINVAL;
		goto out;
	}
	rc = check_name(name, STORE_NAME_MAX);
	if (rc)
		goto out;
	rc = sql_prepare(self, "SELECT " CUBE_COLUMNS " FROM cubes WHERE name = ?1", &st);
	if (!rc)
		rc = bind_text(self, st, 1, name);
	if (rc)
		goto out;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		rc = cube_from_row(st, out);
	else if (rc == SQLITE_DONE)
		rc = -ENOENT;
	else
		rc = sql_fail(self, rc);
out:
	sqlite3_finalize(st);
	if (rc && out) {
		store_cube_clear(out);
		memset(out, 0, sizeof(*out));
	}
	return rc;
}

int store_cube_list(struct store *self, int (*cb)(const struct store_cube *c, void *arg), void *arg)
{
	struct store_cube c = { 0 };
	sqlite3_stmt *st = NULL;
	int rc;

	if (!self || !cb) {
		rc = -EINVAL;
		goto out;
	}
	rc = sql_prepare(self, "SELECT " CUBE_COLUMNS " FROM cubes ORDER BY id", &st);
	if (rc)
		goto out;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		rc = cube_from_row(st, &c);
		if (!rc)
			rc = cb(&c, arg);
		store_cube_clear(&c);
		if (rc)
			goto out;
	}
	rc = rc == SQLITE_DONE ? 0 : sql_fail(self, rc);
out:
	sqlite3_finalize(st);
	return rc;
}

void store_cube_clear(struct store_cube *c)
{
	if (!c)
		return;
	free(c->config);
	c->config = NULL;
}

/* ---- the journal of configuration changes ----------------------------------- */

int store_change_append(struct store *self, const char *cube, const char *diff, int *count)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if (!self || !diff) {
		rc = -EINVAL;
		goto out;
	}
	rc = check_name(cube, STORE_NAME_MAX);
	if (!rc)
		rc = sql_prepare(self, "INSERT INTO changes(cube, diff) SELECT name, ?2 FROM cubes WHERE name = ?1",
				 &st);
	if (!rc)
		rc = bind_text(self, st, 1, cube);
	if (!rc)
		rc = bind_text(self, st, 2, diff);
	if (!rc)
		rc = sql_step_done(self, st);
	if (!rc && sqlite3_changes(self->db) == 0)
		rc = -ENOENT;
	sqlite3_finalize(st);
	st = NULL;
	if (!rc && count) {
		rc = sql_prepare(self, "SELECT count(*) FROM changes WHERE cube = ?1", &st);
		if (!rc)
			rc = bind_text(self, st, 1, cube);
		if (!rc) {
			rc = sqlite3_step(st);
			rc = rc == SQLITE_ROW ? (*count = sqlite3_column_int(st, 0), 0) : sql_fail(self, rc);
		}
	}
out:
	sqlite3_finalize(st);
	return rc;
}

int store_change_list(struct store *self, const char *cube, int (*cb)(const char *diff, void *arg), void *arg)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if (!self || !cb) {
		rc = -EINVAL;
		goto out;
	}
	rc = check_name(cube, STORE_NAME_MAX);
	if (!rc)
		rc = sql_prepare(self, "SELECT diff FROM changes WHERE cube = ?1 ORDER BY seq", &st);
	if (!rc)
		rc = bind_text(self, st, 1, cube);
	if (rc)
		goto out;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		rc = cb((const char *)sqlite3_column_text(st, 0), arg);
		if (rc)
			goto out;
	}
	rc = rc == SQLITE_DONE ? 0 : sql_fail(self, rc);
out:
	sqlite3_finalize(st);
	return rc;
}

/* ---- ports ---------------------------------------------------------------- */

int store_port_upsert(struct store *self, const struct store_port *p)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if (!self || !p) {
		rc = -EINVAL;
		goto out;
	}
	rc = check_name(p->cube, sizeof(p->cube));
	if (!rc)
		rc = check_name(p->name, sizeof(p->name));
	if (!rc)
		rc = check_text(p->uuid, sizeof(p->uuid));
	if (!rc)
		rc = check_text(p->peer, sizeof(p->peer));
	if (rc)
		goto out;
	if (p->index < 0 || p->index > STORE_PORT_INDEX_MAX) {
		rc = -EINVAL;
		goto out;
	}
	/*
	 * Not INSERT OR REPLACE: that would also delete another port holding
	 * the same index. A clash on (cube, idx) must fail instead.
	 */
	rc = sql_prepare(self,
			 "INSERT INTO ports(cube, name, idx, peer, uuid) VALUES(?1, ?2, ?3, ?4, ?5)"
			 " ON CONFLICT(cube, name) DO UPDATE SET"
			 " idx = excluded.idx, peer = excluded.peer, uuid = excluded.uuid",
			 &st);
	if (!rc)
		rc = bind_text(self, st, 1, p->cube);
	if (!rc)
		rc = bind_text(self, st, 2, p->name);
	if (!rc)
		rc = bind_int64(self, st, 3, p->index);
	if (!rc)
		rc = bind_text(self, st, 4, p->peer);
	if (!rc)
		rc = bind_text(self, st, 5, p->uuid);
	if (rc)
		goto out;
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE) {
		rc = 0;
	} else if (rc == SQLITE_CONSTRAINT_FOREIGNKEY) {
		sql_fail(self, rc); /* keeps the message; the cube is missing */
		rc = -ENOENT;
	} else {
		rc = sql_fail(self, rc);
	}
out:
	sqlite3_finalize(st);
	return rc;
}

int store_port_delete(struct store *self, const char *cube, const char *name)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if (!self) {
		rc = -EINVAL;
		goto out;
	}
	rc = check_name(cube, STORE_NAME_MAX);
	if (!rc)
		rc = check_name(name, STORE_NAME_MAX);
	if (rc)
		goto out;
	rc = sql_prepare(self, "DELETE FROM ports WHERE cube = ?1 AND name = ?2", &st);
	if (!rc)
		rc = bind_text(self, st, 1, cube);
	if (!rc)
		rc = bind_text(self, st, 2, name);
	if (!rc)
		rc = sql_step_done(self, st);
	if (!rc && sqlite3_changes(self->db) == 0)
		rc = -ENOENT;
out:
	sqlite3_finalize(st);
	return rc;
}

#define PORT_COLUMNS "cube, name, uuid, idx, peer"

static int port_from_row(sqlite3_stmt *st, struct store_port *p)
{
	sqlite3_int64 idx;
	int rc;

	memset(p, 0, sizeof(*p));
	rc = col_copy(st, 0, p->cube, sizeof(p->cube));
	if (!rc)
		rc = col_copy(st, 1, p->name, sizeof(p->name));
	if (!rc)
		rc = col_copy(st, 2, p->uuid, sizeof(p->uuid));
	if (!rc)
		rc = col_copy(st, 4, p->peer, sizeof(p->peer));
	if (rc)
		goto out;
	idx = sqlite3_column_int64(st, 3);
	if (idx < INT_MIN || idx > INT_MAX) {
		rc = -ERANGE;
		goto out;
	}
	p->index = (int)idx;
out:
	return rc;
}

int store_port_list(struct store *self, const char *cube, int (*cb)(const struct store_port *p, void *arg), void *arg)
{
	struct store_port p;
	sqlite3_stmt *st = NULL;
	int rc;

	if (!self || !cb) {
		rc = -EINVAL;
		goto out;
	}
	if (cube) {
		rc = check_name(cube, STORE_NAME_MAX);
		if (rc)
			goto out;
		rc = sql_prepare(self, "SELECT " PORT_COLUMNS " FROM ports WHERE cube = ?1 ORDER BY idx", &st);
		if (!rc)
			rc = bind_text(self, st, 1, cube);
	} else {
		rc = sql_prepare(self, "SELECT " PORT_COLUMNS " FROM ports ORDER BY cube, idx", &st);
	}
	if (rc)
		goto out;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		rc = port_from_row(st, &p);
		if (!rc)
			rc = cb(&p, arg);
		if (rc)
			goto out;
	}
	rc = rc == SQLITE_DONE ? 0 : sql_fail(self, rc);
out:
	sqlite3_finalize(st);
	return rc;
}

/* ---- attachments ---------------------------------------------------------- */

int store_attach_set(struct store *self, const struct store_attach *a)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if (!self || !a) {
		rc = -EINVAL;
		goto out;
	}
	rc = check_name(a->tcube, sizeof(a->tcube));
	if (!rc && a->cube[0]) /* "": on the netdev named by port */
		rc = check_name(a->cube, sizeof(a->cube));
	if (!rc)
		rc = check_name(a->port, sizeof(a->port));
	if (rc)
		goto out;
	if (a->pos < 0 || a->pos > 1000) {
		rc = -EINVAL;
		goto out;
	}
	rc = sql_prepare(self,
			 "INSERT INTO attachments(tcube, cube, port, pos) VALUES(?1, ?2, ?3, ?4)"
			 " ON CONFLICT(tcube) DO UPDATE SET cube = excluded.cube, port = excluded.port,"
			 " pos = excluded.pos",
			 &st);
	if (!rc)
		rc = bind_text(self, st, 1, a->tcube);
	if (!rc)
		rc = a->cube[0] ? bind_text(self, st, 2, a->cube) : sql_bind_null(self, st, 2);
	if (!rc)
		rc = bind_text(self, st, 3, a->port);
	if (!rc)
		rc = bind_int64(self, st, 4, a->pos);
	if (!rc)
		rc = sql_step_done(self, st);
out:
	sqlite3_finalize(st);
	return rc;
}

int store_attach_delete(struct store *self, const char *tcube)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if (!self) {
		rc = -EINVAL;
		goto out;
	}
	rc = check_name(tcube, STORE_NAME_MAX);
	if (rc)
		goto out;
	rc = sql_prepare(self, "DELETE FROM attachments WHERE tcube = ?1", &st);
	if (!rc)
		rc = bind_text(self, st, 1, tcube);
	if (!rc)
		rc = sql_step_done(self, st);
	if (!rc && sqlite3_changes(self->db) == 0)
		rc = -ENOENT;
out:
	sqlite3_finalize(st);
	return rc;
}

int store_attach_list(struct store *self, int (*cb)(const struct store_attach *a, void *arg), void *arg)
{
	struct store_attach a;
	sqlite3_stmt *st = NULL;
	int rc;

	if (!self || !cb) {
		rc = -EINVAL;
		goto out;
	}
	rc = sql_prepare(self, "SELECT tcube, cube, port, pos FROM attachments ORDER BY cube, port, pos", &st);
	if (rc)
		goto out;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		memset(&a, 0, sizeof(a));
		rc = col_copy(st, 0, a.tcube, sizeof(a.tcube));
		if (!rc)
			rc = col_copy(st, 1, a.cube, sizeof(a.cube));
		if (!rc)
			rc = col_copy(st, 2, a.port, sizeof(a.port));
		if (rc)
			goto out;
		a.pos = (int)sqlite3_column_int64(st, 3);
		rc = cb(&a, arg);
		if (rc)
			goto out;
	}
	rc = rc == SQLITE_DONE ? 0 : sql_fail(self, rc);
out:
	sqlite3_finalize(st);
	return rc;
}

/* ---- meta ----------------------------------------------------------------- */

int store_meta_set(struct store *self, const char *key, const char *value)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if (!self || !key || !*key || !value) {
		rc = -EINVAL;
		goto out;
	}
	rc = sql_prepare(self,
			 "INSERT INTO meta(key, value) VALUES(?1, ?2)"
			 " ON CONFLICT(key) DO UPDATE SET value = excluded.value",
			 &st);
	if (!rc)
		rc = bind_text(self, st, 1, key);
	if (!rc)
		rc = bind_text(self, st, 2, value);
	if (!rc)
		rc = sql_step_done(self, st);
out:
	sqlite3_finalize(st);
	return rc;
}

int store_meta_get(struct store *self, const char *key, char *buf, size_t size)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if (!self || !key || !*key || !buf || !size) {
		rc = -EINVAL;
		goto out;
	}
	buf[0] = '\0';
	rc = sql_prepare(self, "SELECT value FROM meta WHERE key = ?1", &st);
	if (!rc)
		rc = bind_text(self, st, 1, key);
	if (rc)
		goto out;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		rc = col_copy(st, 0, buf, size);
	else if (rc == SQLITE_DONE)
		rc = -ENOENT;
	else
		rc = sql_fail(self, rc);
	if (rc)
		buf[0] = '\0';
out:
	sqlite3_finalize(st);
	return rc;
}

/* ---- maintenance ---------------------------------------------------------- */

int store_check(struct store *self)
{
	sqlite3_stmt *st = NULL;
	const unsigned char *t;
	int rc;

	if (!self) {
		rc = -EINVAL;
		goto out;
	}
	rc = sql_prepare(self, "PRAGMA integrity_check", &st);
	if (rc) {
		rc = -EIO;
		goto out;
	}
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		if (rc != SQLITE_DONE)
			sql_fail(self, rc);
		rc = -EIO;
		goto out;
	}
	/* a healthy database gives exactly one row, "ok" */
	t = sqlite3_column_text(st, 0);
	if (!t || strcmp((const char *)t, "ok")) {
		rc = -EIO;
		goto out;
	}
	rc = sqlite3_step(st);
	if (rc != SQLITE_DONE) {
		if (rc != SQLITE_ROW)
			sql_fail(self, rc);
		rc = -EIO;
		goto out;
	}
	rc = 0;
out:
	sqlite3_finalize(st);
	return rc;
}
