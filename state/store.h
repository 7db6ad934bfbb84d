/* SPDX-License-Identifier: Apache-2.0 */
/*
 * store - the broker's SQLite topology database.
 *
 * One struct store wraps one SQLite connection opened in WAL mode with
 * synchronous=FULL, foreign keys on and a 5000 ms busy timeout. The schema is
 * versioned in PRAGMA user_version and migrated forward on open; a database
 * newer than this code is refused.
 *
 * Tables: cubes (one row per cube, keyed by name, id unique, with its
 * restart count since schema version 2), ports (keyed by
 * (cube, name), index unique per cube, deleted with their cube) and meta (a
 * key/value table for the broker's own bookkeeping) and, since version 3,
 * changes: the journal of a cube's configuration changes made after its
 * config column was written (a cube's configuration is its config column
 * with its changes applied in order; store_cube_update clears them).
 *
 * Conventions:
 *  - Every int-returning function returns 0 on success or a negative errno.
 *    SQLite failures are mapped: constraint -> -EEXIST, busy/locked ->
 *    -EBUSY, full -> -ENOSPC, nomem -> -ENOMEM, readonly -> -EROFS,
 *    toobig -> -E2BIG, anything else -> -EIO; store_errmsg() then gives
 *    SQLite's text for it.
 *  - Strings passed in struct fields must be NUL-terminated inside their
 *    buffer, and name arguments shorter than STORE_NAME_MAX; strings read
 *    back that do not fit a buffer give -ENAMETOOLONG (never truncated), a
 *    stored number that does not fit its field -ERANGE. A NULL self, a NULL
 *    required pointer or an empty name is -EINVAL.
 *  - Without store_begin() every call is its own transaction. A failed call
 *    inside a store_begin() transaction undoes only its own statement.
 *  - A struct store is not thread-safe: use it from one thread at a time.
 */
#ifndef CUBEBUS_STORE_H
#define CUBEBUS_STORE_H

#include <stddef.h>

struct store;

#define STORE_NAME_MAX 64

struct store_cube {
	char name[STORE_NAME_MAX];
	char service[STORE_NAME_MAX];
	char type[16]; /* "TC", "XDP_SKB", "XDP_DRV" */
	char uuid[40];
	int id; /* 1..255, unique */
	unsigned generation;
	unsigned restarts; /* new processes the broker started for it */
	char *config;	   /* JSON text, malloc'd; owned by the struct */
};

struct store_port {
	char cube[STORE_NAME_MAX];
	char name[STORE_NAME_MAX];
	char uuid[40];
	int index;	/* 0..31 unique within the cube */
	char peer[160]; /* "" | netdev name | "cube:port" */
};

/* Opens (creating and migrating) the database at path. On error returns a
 * negative errno and, if errmsg is non-NULL, a malloc'd sentence in *errmsg.
 *
 * Missing parent directories are created with mode 0700 and a missing
 * database file with mode 0600 (existing ones keep their modes). On success
 * *out is a new store owned by the caller (free with store_close()) and
 * *errmsg is NULL. On error *out is NULL and *errmsg, which the caller frees,
 * may still be NULL if allocating it failed. A database whose user_version
 * is newer than this code gives -EPROTONOSUPPORT and is left unmodified. */
int store_open(const char *path, struct store **out, char **errmsg);
/* NULL-safe, clears *self. Rolls back a transaction still open. */
void store_close(struct store **self);
/* Returns the schema version read from the database (>= 1), or a negative
 * errno if it cannot be read. */
int store_schema_version(struct store *self);
/* Returns SQLite's text for the last SQLite failure seen on self ("not an
 * error" if none yet). The string belongs to self and stays valid until the
 * next store call on it. Never NULL. */
const char *store_errmsg(struct store *self);

/* BEGIN IMMEDIATE: takes the write lock now (waiting up to the busy
 * timeout, then -EBUSY). -EALREADY if a transaction is already open. */
int store_begin(struct store *self);
/* -EINVAL if no transaction is open. If COMMIT fails the transaction may
 * still be open: the caller should store_rollback(). */
int store_commit(struct store *self);
/* Returns 0 (doing nothing) when no transaction is open, so it is safe on
 * every error path, including after SQLite rolled back by itself. */
int store_rollback(struct store *self);

/* Cubes. name, service and type must be non-empty, type one of "TC",
 * "XDP_SKB", "XDP_DRV", id in 1..255 and config non-NULL (else -EINVAL).
 * The store copies what it needs; c stays owned by the caller. */
int store_cube_insert(struct store *self, const struct store_cube *c); /* -EEXIST if name or id taken */
/* by name; -ENOENT; updates type, generation, uuid, config, restarts
 * (service and id are fixed at insert and ignored here). */
int store_cube_update(struct store *self, const struct store_cube *c);
/* Sets only the restart count of cube name; -ENOENT. */
int store_cube_set_restarts(struct store *self, const char *name, unsigned restarts);
int store_cube_delete(struct store *self, const char *name); /* -ENOENT; its ports go too */
/* -ENOENT. out is overwritten without freeing what it held; on success
 * out->config is a new malloc'd string the caller releases with
 * store_cube_clear(), on error out->config is NULL. */
int store_cube_get(struct store *self, const char *name, struct store_cube *out);
/* Calls cb for each cube ordered by id; stops and returns cb's value if it returns non-zero.
 * Returns 0 after the last cube, or a negative errno if reading fails. The
 * cube passed to cb (config included) is lent for the duration of the call:
 * cb must not free or keep it. cb may call other store functions but must
 * not begin, commit or roll back a transaction. */
int store_cube_list(struct store *self, int (*cb)(const struct store_cube *c, void *arg), void *arg);
/* frees c->config, sets it NULL. NULL-safe. */
void store_cube_clear(struct store_cube *c);

/* The journal. Appends diff (text, copied) as the newest change of cube;
 * -ENOENT if there is no such cube. If count is non-NULL, sets it to the
 * number of changes the cube now has. */
int store_change_append(struct store *self, const char *cube, const char *diff, int *count);
/* Calls cb with each change of cube, oldest first; same cb contract as
 * store_cube_list (the text is lent for the call). */
int store_change_list(struct store *self, const char *cube, int (*cb)(const char *diff, void *arg), void *arg);

/* Ports. cube and name must be non-empty and index in 0..31 (else -EINVAL).
 * insert or replace by (cube,name); -ENOENT if cube missing; -EEXIST if
 * index used by another port. Replacing never removes another port. */
int store_port_upsert(struct store *self, const struct store_port *p);
int store_port_delete(struct store *self, const char *cube, const char *name); /* -ENOENT */
/* cube NULL = all ports; ordered by cube, idx. Same cb contract as store_cube_list.
 * A cube with no ports (or that does not exist) just makes no calls. */
int store_port_list(struct store *self, const char *cube, int (*cb)(const struct store_port *p, void *arg), void *arg);

/* Sets (inserting or replacing) key to value; both are copied. */
/*
 * A transparent cube attached to a port (cubectl attach): its place in the
 * port's chain, pos 0 closest to the port's peer. Deleting the transparent
 * cube, the port or its cube removes the row (foreign keys). cube "" is an
 * attachment to the netdev named port (stored as NULL: no foreign key to a
 * port; listed with cube "").
 */
struct store_attach {
	char tcube[STORE_NAME_MAX];
	char cube[STORE_NAME_MAX];
	char port[STORE_NAME_MAX];
	int pos;
};
int store_attach_set(struct store *self, const struct store_attach *a); /* insert or move */
int store_attach_delete(struct store *self, const char *tcube);		/* -ENOENT */
int store_attach_list(struct store *self, int (*cb)(const struct store_attach *a, void *arg), void *arg);

int store_meta_set(struct store *self, const char *key, const char *value);
/* -ENOENT; -ENAMETOOLONG if value and its NUL do not fit in size bytes
 * (buf is then left empty). */
int store_meta_get(struct store *self, const char *key, char *buf, size_t size);

/* Runs PRAGMA integrity_check; 0 if "ok", -EIO otherwise. */
int store_check(struct store *self);

#endif /* CUBEBUS_STORE_H */
