/* SPDX-License-Identifier: Apache-2.0 */
/*
 * requests.c - ctl requests (DESIGN §4.1, §5): a (verb, path, body) becomes
 * a validated change of one or more cubes, written in one transaction,
 * sent to the cubes, applied to the kernel; or a read, an action, help, or
 * one of the aliases (cubes, netdevs, connect, ...).
 *
 * A change either happens entirely or not at all: on any failure the
 * database is rolled back, the cubes get their old configuration back and
 * the kernel is synced to the old topology.
 */
#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <regex.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker.h"

#define RQ_MAX_SEGS	32
#define CUBEBUS_VERSION "0.1.0"

struct rq {
	struct broker *b;
	int verb;
	char *segs[RQ_MAX_SEGS];
	int nsegs;
	struct json_object *body;
	/* reply */
	int status;
	char err[BK_ERR_MAX];
	struct json_object *out;
};

static int rq_fail(struct rq *q, int status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int rq_fail(struct rq *q, int status, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(q->err, sizeof(q->err), fmt, ap);
	va_end(ap);
	q->status = status;
	return status;
}

/* ---- the change set ---------------------------------------------------------- */

struct rq_change {
	struct bk_cube *cube;
	struct lyd_node *config; /* new, validated */
	/* saved for rollback */
	struct lyd_node *old_config;
	struct bk_port old_ports[CB_MAX_PORTS];
	int configured;
};

static int rq_store_cube(struct broker *b, struct bk_cube *c, int insert)
{
	struct store_cube sc = { 0 };
	int r;

	snprintf(sc.name, sizeof(sc.name), "%s", c->name);
	snprintf(sc.service, sizeof(sc.service), "%s", c->service);
	snprintf(sc.type, sizeof(sc.type), "%s", c->type);
	snprintf(sc.uuid, sizeof(sc.uuid), "%s", c->uuid);
	sc.id = c->id;
	sc.generation = c->generation;
	sc.restarts = c->restarts;
	sc.config = c->config ? schema_cfg_text(c->config) : strdup(c->config_text ? c->config_text : "{}");
	if (!sc.config)
		return -ENOMEM;
	r = insert ? store_cube_insert(b->store, &sc) : store_cube_update(b->store, &sc);
	free(sc.config);
	if (r < 0)
		return r;
	/* ports: the indices the data plane uses */
	for (int i = 0; i < CB_MAX_PORTS; i++) {
		struct store_port sp = { 0 };

		if (!c->ports[i].used) {
			if (c->ports[i].name[0])
				store_port_delete(b->store, c->name, c->ports[i].name);
			continue;
		}
		snprintf(sp.cube, sizeof(sp.cube), "%s", c->name);
		snprintf(sp.name, sizeof(sp.name), "%s", c->ports[i].name);
		snprintf(sp.uuid, sizeof(sp.uuid), "%s", c->ports[i].uuid);
		snprintf(sp.peer, sizeof(sp.peer), "%s", c->ports[i].peer);
		sp.index = i;
		r = store_port_upsert(b->store, &sp);
		if (r < 0)
			return r;
	}
	return 0;
}

static void rq_restore(struct rq_change *ch)
{
	struct bk_cube *c = ch->cube;

	schema_cfg_free(c->config);
	c->config = ch->old_config;
	ch->old_config = NULL;
	for (int i = 0; i < CB_MAX_PORTS; i++) {
		struct bk_applied applied = c->ports[i].applied;

		c->ports[i] = ch->old_ports[i];
		c->ports[i].applied = applied; /* the kernel state is what it is */
	}
}

/* Applies changes (taking ownership of each ->config) or nothing. */
static int rq_commit(struct rq *q, struct rq_change *chs, int n)
{
	struct broker *b = q->b;
	char err[BK_ERR_MAX];
	int r = 0, i;

	/* 1. checks that need no change of anything */
	for (i = 0; i < n; i++) {
		struct bk_cube *c = chs[i].cube;
		const char *type = schema_cfg_get(chs[i].config, "type");

		if (!type)
			type = "TC";
		if (strcmp(type, c->type)) {
			r = rq_fail(q, -EINVAL, "%s: the type of a cube is fixed at creation (%s)", c->name, c->type);
			goto free_new;
		}
	}
	/* 2. the new topology in memory, checked */
	for (i = 0; i < n; i++) {
		struct bk_cube *c = chs[i].cube;

		chs[i].old_config = c->config;
		memcpy(chs[i].old_ports, c->ports, sizeof(c->ports));
		c->config = chs[i].config;
		chs[i].config = NULL; /* the cube's now; the old one is kept for rollback */
		r = topo_ports_from_config(c, err, sizeof(err));
		if (r < 0) {
			rq_fail(q, r, "%s", err);
			goto undo_memory;
		}
	}
	for (i = 0; i < n; i++) {
		struct bk_cube *c = chs[i].cube;

		for (int p = 0; p < CB_MAX_PORTS; p++) {
			if (!c->ports[p].used || !strcmp(c->ports[p].peer, chs[i].old_ports[p].peer))
				continue;
			r = topo_check_peer(b, c, c->ports[p].name, c->ports[p].peer, err, sizeof(err));
			if (r < 0) {
				rq_fail(q, r, "%s", err);
				goto undo_memory;
			}
		}
	}
	/* 3. database, cubes, kernel */
	r = store_begin(b->store);
	if (r < 0) {
		rq_fail(q, r, "database: cannot begin: %s", store_errmsg(b->store));
		goto undo_memory;
	}
	for (i = 0; i < n; i++) {
		r = rq_store_cube(b, chs[i].cube, 0);
		if (r < 0) {
			rq_fail(q, r, "database: cannot store %s: %s", chs[i].cube->name, store_errmsg(b->store));
			goto undo_store;
		}
	}
	for (i = 0; i < n; i++) {
		r = cubes_configure(b, chs[i].cube, err, sizeof(err));
		if (r < 0) {
			rq_fail(q, r, "%s", err);
			goto undo_cubes;
		}
		chs[i].configured = 1;
	}
	r = topo_sync(b, err, sizeof(err));
	if (r < 0) {
		rq_fail(q, r, "%s", err);
		goto undo_cubes;
	}
	r = store_commit(b->store);
	if (r < 0) {
		rq_fail(q, r, "database: cannot commit: %s", store_errmsg(b->store));
		goto undo_cubes;
	}
	for (i = 0; i < n; i++) {
		schema_cfg_free(chs[i].old_config);
		bk_event(b, chs[i].cube->name, "config", NULL);
	}
	topo_attach_prune(b); /* a deleted port detached its chain (its rows went with it) */
	return 0;

undo_cubes:
	for (i = 0; i < n; i++)
		rq_restore(&chs[i]);
	for (i = 0; i < n; i++)
		if (chs[i].configured)
			cubes_configure(b, chs[i].cube, err, sizeof(err));
	topo_sync(b, err, sizeof(err));
	store_rollback(b->store);
	goto free_new;
undo_store:
	store_rollback(b->store);
undo_memory:
	for (i = 0; i < n; i++)
		if (chs[i].old_config)
			rq_restore(&chs[i]);
free_new:
	for (i = 0; i < n; i++)
		schema_cfg_free(chs[i].config);
	return r;
}

/* ---- cubes --------------------------------------------------------------------- */

static const char *const rq_reserved[] = { "cubes",  "netdevs", "services", "version", "connect", "disconnect",
					   "attach", "detach",	"topology", "help",    NULL };

static int rq_name_ok(struct rq *q, const char *name)
{
	regex_t re;
	int ok;

	regcomp(&re, "^[A-Za-z][A-Za-z0-9_.-]{0,31}$", REG_EXTENDED | REG_NOSUB);
	ok = regexec(&re, name, 0, NULL, 0) == 0;
	regfree(&re);
	if (!ok)
		return rq_fail(q, -EINVAL,
			       "invalid cube name '%s': a letter, then up to 31 letters, digits, '_', '.' or '-'",
			       name);
	for (int i = 0; rq_reserved[i]; i++)
		if (!strcmp(name, rq_reserved[i]))
			return rq_fail(q, -EINVAL, "'%s' is a command word, not a cube name", name);
	if (schema_has_service(q->b, name))
		return rq_fail(q, -EINVAL, "'%s' is a service name, not a cube name", name);
	return 0;
}

/*
 * Leaves of the base model the system does not do yet: true is refused
 * rather than stored and ignored (false, the default, is what it does).
 */
static int rq_unsupported(struct rq *q, const char *cube, const struct lyd_node *cfg)
{
	static const char *const leaves[] = { "shadow", "span" };

	for (size_t i = 0; i < sizeof(leaves) / sizeof(leaves[0]); i++) {
		const char *v = schema_cfg_get(cfg, leaves[i]);

		if (v && !strcmp(v, "true"))
			return rq_fail(q, -EOPNOTSUPP, "%s: %s is not supported yet: leave it out or set %s=false",
				       cube, leaves[i], leaves[i]);
	}
	return 0;
}

static int rq_cube_create(struct rq *q, const char *service, const char *name)
{
	struct broker *b = q->b;
	struct lyd_node *norm = NULL;
	struct bk_cube *c = NULL;
	char err[BK_ERR_MAX];
	int r, id;

	if (rq_name_ok(q, name) < 0)
		return q->status;
	if (topo_cube(b, name))
		return rq_fail(q, -EEXIST, "cube %s already exists", name);
	if (q->body && !json_object_is_type(q->body, json_type_object))
		return rq_fail(q, -EINVAL, "the body of a new cube must be a JSON object");
	r = schema_cfg_new(b, service, name, q->body, &norm, err, sizeof(err));
	if (r < 0)
		return rq_fail(q, r, "%s", err);
	if (rq_unsupported(q, name, norm) < 0) {
		schema_cfg_free(norm);
		return q->status;
	}
	for (id = 1; id < CB_MAX_CUBES && b->cubes_tab[id].used; id++)
		;
	if (id >= CB_MAX_CUBES) {
		schema_cfg_free(norm);
		return rq_fail(q, -ENOSPC, "no free cube slot: at most %d cubes", CB_MAX_CUBES - 1);
	}
	c = &b->cubes_tab[id];
	memset(c, 0, sizeof(*c));
	c->used = 1;
	c->id = id;
	snprintf(c->name, sizeof(c->name), "%s", name);
	snprintf(c->service, sizeof(c->service), "%s", service);
	snprintf(c->type, sizeof(c->type), "%s", schema_cfg_get(norm, "type") ? schema_cfg_get(norm, "type") : "TC");
	c->xdp = strcmp(c->type, "TC") != 0;
	c->transparent = schema_is_transparent(b, service);
	if (c->transparent) { /* its two ports, as messages name them */
		snprintf(c->ports[0].name, sizeof(c->ports[0].name), "inner");
		snprintf(c->ports[1].name, sizeof(c->ports[1].name), "outer");
	}
	bk_uuid(c->uuid, sizeof(c->uuid));
	c->config = norm;
	r = topo_ports_from_config(c, err, sizeof(err));
	for (int p = 0; r == 0 && p < CB_MAX_PORTS; p++)
		if (c->ports[p].used)
			r = topo_check_peer(b, c, c->ports[p].name, c->ports[p].peer, err, sizeof(err));
	if (r < 0) {
		rq_fail(q, r, "%s", err);
		goto free_cube;
	}
	r = dp_cube_prepare(b, c, 1, err, sizeof(err));
	if (r < 0) {
		rq_fail(q, r, "%s", err);
		goto remove_dp;
	}
	r = store_begin(b->store);
	if (r == 0)
		r = rq_store_cube(b, c, 1);
	if (r < 0) {
		rq_fail(q, r, "database: cannot store %s: %s", name, store_errmsg(b->store));
		goto rollback;
	}
	r = cubes_spawn(b, c, err, sizeof(err));
	if (r == 0)
		r = cubes_wait_running(b, c, 10000, err, sizeof(err));
	if (r < 0) {
		rq_fail(q, r, "cannot create %s: %s", name, err);
		goto stop;
	}
	r = rq_store_cube(b, c, 0); /* generation moved on spawn */
	if (r == 0)
		r = topo_sync(b, err, sizeof(err));
	if (r < 0) {
		rq_fail(q, r, "cannot create %s: %s", name, err[0] ? err : "database");
		goto stop;
	}
	r = store_commit(b->store);
	if (r < 0) {
		rq_fail(q, r, "database: cannot commit %s: %s", name, store_errmsg(b->store));
		goto stop;
	}
	bk_event(b, name, "created", NULL);
	return 0;

stop:
	c->deleting = 1;
	cubes_stop(b, c);
	topo_sync(b, err, sizeof(err));
rollback:
	store_rollback(b->store);
remove_dp:
	dp_cube_remove(b, c);
free_cube:
	schema_cfg_free(c->config);
	free(c->reply_body);
	free(c->reply_diff);
	memset(c, 0, sizeof(*c));
	return q->status;
}

static int rq_cube_delete(struct rq *q, struct bk_cube *c)
{
	struct broker *b = q->b;
	char err[BK_ERR_MAX], name[BK_NAME_MAX];
	int r;

	r = store_begin(b->store);
	if (r == 0)
		r = store_cube_delete(b->store, c->name);
	if (r < 0) {
		store_rollback(b->store);
		return rq_fail(q, r, "database: cannot delete %s: %s", c->name, store_errmsg(b->store));
	}
	c->deleting = 1;
	r = topo_sync(b, err, sizeof(err)); /* detaches its netdevs, unlinks its peers */
	if (r < 0)
		bk_log(4, "deleting %s: %s", c->name, err);
	cubes_stop(b, c);
	dp_cube_remove(b, c);
	r = store_commit(b->store);
	if (r < 0)
		bk_log(3, "database: cannot commit the deletion of %s: %s", c->name, store_errmsg(b->store));
	snprintf(name, sizeof(name), "%s", c->name);
	schema_cfg_free(c->config);
	free(c->config_text);
	free(c->reply_body);
	free(c->reply_diff);
	memset(c, 0, sizeof(*c));
	topo_attach_prune(b); /* what was attached to its ports (the rows went with it) */
	bk_event(b, name, "deleted", NULL);
	return 0;
}

/* ---- reads --------------------------------------------------------------------- */

/* "tcubes": the names of a chain, in order, into o (nothing when empty). */
static void rq_add_tcubes(struct json_object *o, struct bk_cube **chain, int n)
{
	struct json_object *tl;

	if (n <= 0)
		return;
	tl = json_object_new_array();
	for (int k = 0; k < n; k++)
		json_object_array_add(tl, json_object_new_string(chain[k]->name));
	json_object_object_add(o, "tcubes", tl);
}

/* The cube as a user reads it: config with defaults, identity, port status, state. */
static struct json_object *rq_cube_view(struct rq *q, struct bk_cube *c, int with_state)
{
	struct json_object *o = schema_cfg_json(c->config, 1), *ports, *state = NULL;
	char err[BK_ERR_MAX];

	json_object_object_add(o, "uuid", json_object_new_string(c->uuid));
	json_object_object_add(o, "service-name", json_object_new_string(c->service));
	if (json_object_object_get_ex(o, "ports", &ports)) {
		for (size_t i = 0; i < json_object_array_length(ports); i++) {
			struct json_object *p = json_object_array_get_idx(ports, i), *n;
			struct bk_port *bp;

			if (!json_object_object_get_ex(p, "name", &n) ||
			    !(bp = topo_port(c, json_object_get_string(n))))
				continue;
			struct cb_port_stats st;

			json_object_object_add(p, "uuid", json_object_new_string(bp->uuid));
			{
				struct bk_cube *chain[TOPO_CHAIN_MAX];

				rq_add_tcubes(p, chain, topo_chain(q->b, c, bp - c->ports, chain, TOPO_CHAIN_MAX));
			}
			json_object_object_add(p, "status",
					       json_object_new_string(topo_port_up(c, bp - c->ports) ? "UP" : "DOWN"));
			/* beyond the reference tree: the framework's per-port counters */
			if (dp_port_stats(q->b, c, bp - c->ports, &st) == 0) {
				json_object_object_add(p, "rx-packets", json_object_new_int64(st.rx_packets));
				json_object_object_add(p, "tx-packets", json_object_new_int64(st.tx_packets));
				json_object_object_add(p, "drops", json_object_new_int64(st.drops));
			}
		}
	}
	if (with_state && c->state == BK_CUBE_RUNNING) {
		if (cubes_read(q->b, c, &state, err, sizeof(err)) == 0) {
			schema_merge_state(q->b, c->service, o, state);
			json_object_put(state);
		} else {
			bk_log(4, "%s", err);
		}
	}
	return o;
}

static int rq_read(struct rq *q, struct bk_cube *c, char **segs, int n)
{
	struct json_object *view = rq_cube_view(q, c, 1), *out = NULL;
	struct schema_target t;
	char err[BK_ERR_MAX];
	int r;

	if (n == 0) {
		q->out = view;
		return 0;
	}
	r = schema_read(q->b, c->service, view, segs, n, &out, &t, err, sizeof(err));
	json_object_put(view);
	if (r < 0)
		return rq_fail(q, r, "%s: %s", c->name, err);
	q->out = out;
	return 0;
}

/* Whole writes of a cube's configuration are due after this many changes. */
#define RQ_JOURNAL_MAX 256

/*
 * What an action changed in the cube's own configuration (DESIGN 4.4: a
 * firewall append is a rule), as the cube reported it: into memory and the
 * database as a change the user made, not sent back (the cube has it). Fails
 * leaving memory and database as they were; the cube is then given its stored
 * configuration again, so that it forgets the change too.
 */
static int rq_action_stores(struct rq *q, struct bk_cube *c, const char *text)
{
	struct broker *b = q->b;
	struct lyd_node *diff = NULL;
	char err[BK_ERR_MAX];
	int r, count = 0;

	bk_log(7, "%s: the action changed its configuration (%zu bytes of diff)", c->name, strlen(text));
	r = schema_parse_diff(b, c->service, c->name, text, &diff, err, sizeof(err));
	if (r == 0)
		r = schema_splice(b, &c->config, diff, 0, err, sizeof(err));
	if (r < 0) {
		bk_log(3, "%s: the change its action reported does not apply: %s", c->name, err);
		rq_fail(q, -EPROTO,
			"%s: the action ran but its change of the configuration does not apply (%s): the cube "
			"gets its stored configuration back",
			c->name, err);
		cubes_configure(b, c, err, sizeof(err));
		schema_cfg_free(diff);
		return q->status;
	}
	r = store_begin(b->store);
	if (r == 0) {
		r = store_change_append(b->store, c->name, text, &count);
		if (r == 0 && count > RQ_JOURNAL_MAX)
			r = rq_store_cube(b, c, 0);
		if (r == 0)
			r = store_commit(b->store);
		else
			store_rollback(b->store);
	}
	if (r < 0) {
		rq_fail(q, r, "database: cannot store what the action changed in %s: %s", c->name,
			store_errmsg(b->store));
		schema_splice(b, &c->config, diff, 1, err, sizeof(err));
		cubes_configure(b, c, err, sizeof(err));
	} else {
		bk_event(b, c->name, "config", NULL);
	}
	schema_cfg_free(diff);
	return r < 0 ? q->status : 0;
}

static int rq_action(struct rq *q, struct bk_cube *c, const char *rel)
{
	char err[BK_ERR_MAX], *result = NULL, *diff = NULL;
	const char *body = q->body ? json_object_to_json_string_ext(q->body, JSON_C_TO_STRING_PLAIN) : "";
	int r = cubes_action(q->b, c, rel, body, &result, &diff, err, sizeof(err));

	if (r < 0)
		return rq_fail(q, r, "%s", err);
	if (diff && rq_action_stores(q, c, diff) < 0) {
		free(result);
		free(diff);
		return q->status;
	}
	free(diff);
	if (result && *result)
		q->out = json_tokener_parse(result);
	free(result);
	return 0;
}

/*
 * An edit below the cube (an entry, a container, a leaf; not the ports,
 * whose changes move the topology) in time proportional to what it touches,
 * not to the size of the configuration: the part of the configuration the
 * edit can touch is copied out (schema_prune), edited and validated by the
 * same code as a whole one, and put back; the database gets the change as
 * one row of the cube's journal, the cube gets it as a diff (CHANGE). What
 * the whole path would refuse, this one refuses with the same words.
 * Returns 1 when the edit is not such an edit (the caller takes the whole
 * path), else 0 or the request's status.
 */
static int rq_edit_part(struct rq *q, struct bk_cube *c, char **segs, int n)
{
	struct broker *b = q->b;
	struct lyd_node *part, *old = NULL, *diff = NULL;
	struct schema_target t;
	char err[BK_ERR_MAX], *text = NULL;
	int r, count = 0;

	if (n <= 0 || !strcmp(segs[0], "ports") || q->verb == CUBEBUS__VERB__READ || !schema_incremental(b, c->service))
		return 1;
	part = schema_prune(b, c->service, c->config, segs, n);
	if (!part)
		return 1;
	old = schema_cfg_dup(part);
	r = schema_edit(b, c->service, &part, q->verb, segs, n, q->body, &t, err, sizeof(err));
	if (r == -EOPNOTSUPP && t.kind == ST_ACTION) {
		r = rq_action(q, c, t.rel);
		goto out;
	}
	if (r == 0 && (t.kind == ST_CUBE || t.kind == ST_LIST)) {
		r = 1; /* not a part: the whole path */
		goto out;
	}
	if (r < 0) {
		rq_fail(q, r, "%s: %s", c->name, err);
		goto out;
	}
	r = schema_room(b, c->service, c->config, &t, err, sizeof(err));
	if (r == 0)
		r = schema_validate(b, c->service, &part, err, sizeof(err));
	if (r < 0) {
		rq_fail(q, r, "%s: %s", c->name, err);
		goto out;
	}
	if (rq_unsupported(q, c->name, part) < 0) {
		r = q->status;
		goto out;
	}
	r = schema_diff(b, old, part, &diff, &text, err, sizeof(err));
	if (r < 0) {
		rq_fail(q, r, "%s: %s", c->name, err);
		goto out;
	}
	if (!diff)
		goto out; /* nothing changes */
	/* memory, database, cube; undone in reverse on a failure */
	r = schema_splice(b, &c->config, diff, 0, err, sizeof(err));
	if (r < 0) {
		rq_fail(q, r, "%s: %s", c->name, err);
		goto out;
	}
	r = store_begin(b->store);
	if (r < 0) {
		rq_fail(q, r, "database: cannot begin: %s", store_errmsg(b->store));
		goto undo_memory;
	}
	r = store_change_append(b->store, c->name, text, &count);
	if (r == 0 && count > RQ_JOURNAL_MAX)
		r = rq_store_cube(b, c, 0); /* the whole configuration, the journal cleared */
	if (r < 0) {
		rq_fail(q, r, "database: cannot store %s: %s", c->name, store_errmsg(b->store));
		goto undo_store;
	}
	r = cubes_change(b, c, text, err, sizeof(err));
	if (r < 0) {
		rq_fail(q, r, "%s", err);
		goto undo_store;
	}
	r = store_commit(b->store);
	if (r < 0) {
		rq_fail(q, r, "database: cannot commit: %s", store_errmsg(b->store));
		schema_splice(b, &c->config, diff, 1, err, sizeof(err));
		store_rollback(b->store);
		/* the cube took the change: it gets back what is stored */
		cubes_configure(b, c, err, sizeof(err));
		goto out;
	}
	bk_event(b, c->name, "config", NULL);
	goto out;
undo_store:
	store_rollback(b->store);
undo_memory:
	schema_splice(b, &c->config, diff, 1, err, sizeof(err));
out:
	free(text);
	schema_cfg_free(diff);
	schema_cfg_free(old);
	schema_cfg_free(part);
	return r;
}

static int rq_edit(struct rq *q, struct bk_cube *c, char **segs, int n)
{
	struct lyd_node *cfg;
	struct schema_target t;
	struct rq_change ch = { 0 };
	char err[BK_ERR_MAX];
	int r;

	/* an action goes to the cube as it is: nothing to copy or validate here */
	{
		char prel[2048];

		r = schema_walk(q->b, c->service, q->verb, segs, n, q->body, &t, prel, sizeof(prel), err, sizeof(err));
		if (r == -EOPNOTSUPP && t.kind == ST_ACTION)
			return rq_action(q, c, t.rel);
	}
	r = rq_edit_part(q, c, segs, n);
	if (r != 1)
		return r;
	if (q->verb == CUBEBUS__VERB__DELETE && n == 2 && !strcmp(segs[0], "ports") &&
	    (r = schema_port_users(q->b, c->service, c->config, segs[1], err, sizeof(err))) < 0)
		return rq_fail(q, r, "%s: %s", c->name, err);
	cfg = schema_cfg_dup(c->config);
	if (!cfg)
		return rq_fail(q, -ENOMEM, "%s: no configuration to edit", c->name);
	r = schema_edit(q->b, c->service, &cfg, q->verb, segs, n, q->body, &t, err, sizeof(err));
	if (r == -EOPNOTSUPP && t.kind == ST_ACTION) {
		schema_cfg_free(cfg);
		return rq_action(q, c, t.rel);
	}
	if (r == 0)
		r = schema_validate(q->b, c->service, &cfg, err, sizeof(err));
	if (r < 0) {
		schema_cfg_free(cfg);
		return rq_fail(q, r, "%s: %s", c->name, err);
	}
	if (rq_unsupported(q, c->name, cfg) < 0) {
		schema_cfg_free(cfg);
		return q->status;
	}
	ch.cube = c;
	ch.config = cfg;
	return rq_commit(q, &ch, 1);
}

/*
 * `cubectl CUBE restart`: a new process for the cube (also after a service
 * upgrade: it runs the binary installed now). The old programs keep
 * forwarding until the new process swaps its own in.
 */
static int rq_cube_restart(struct rq *q, struct bk_cube *c)
{
	char err[BK_ERR_MAX];
	int r;

	cubes_stop(q->b, c);
	c->failures = 0;
	c->restarts++;
	r = cubes_spawn(q->b, c, err, sizeof(err));
	if (r == 0)
		r = cubes_wait_running(q->b, c, 10000, err, sizeof(err));
	if (r < 0)
		return rq_fail(q, r, "cannot restart %s: %s", c->name, err);
	r = store_begin(q->b->store);
	if (r == 0)
		r = rq_store_cube(q->b, c, 0); /* its generation moved */
	if (r == 0)
		r = store_commit(q->b->store);
	else
		store_rollback(q->b->store);
	bk_event(q->b, c->name, "restarted", NULL);
	return 0;
}

/* ---- aliases ------------------------------------------------------------------- */

static int rq_cubes(struct rq *q)
{
	struct json_object *a = json_object_new_array();

	for (int id = 1; id < CB_MAX_CUBES; id++) {
		struct bk_cube *c = &q->b->cubes_tab[id];
		struct json_object *o;
		int nports = 0;

		if (!c->used)
			continue;
		for (int p = 0; p < CB_MAX_PORTS; p++)
			nports += c->ports[p].used;
		o = json_object_new_object();
		json_object_object_add(o, "name", json_object_new_string(c->name));
		json_object_object_add(o, "service", json_object_new_string(c->service));
		json_object_object_add(o, "type", json_object_new_string(c->type));
		json_object_object_add(o, "status", json_object_new_string(cubes_state_name(c->state)));
		json_object_object_add(o, "pid", json_object_new_int(c->pid));
		json_object_object_add(o, "ports", json_object_new_int(nports));
		json_object_object_add(o, "restarts", json_object_new_int(c->restarts));
		json_object_object_add(o, "uuid", json_object_new_string(c->uuid));
		json_object_array_add(a, o);
	}
	q->out = a;
	return 0;
}

static void rq_read_file(const char *path, char *buf, size_t size)
{
	FILE *f = fopen(path, "re");

	buf[0] = 0;
	if (f) {
		if (fgets(buf, size, f))
			buf[strcspn(buf, "\n")] = 0;
		fclose(f);
	}
}

static int rq_netdevs(struct rq *q)
{
	struct if_nameindex *ifs = if_nameindex(), *i;
	struct json_object *a = json_object_new_array();

	for (i = ifs; i && i->if_index; i++) {
		struct json_object *o;
		char path[128], val[64], peer[2 * BK_NAME_MAX + 2] = "";

		if (!strcmp(i->if_name, q->b->inj_name[0]) || !strcmp(i->if_name, q->b->inj_name[1]))
			continue;
		for (int id = 1; id < CB_MAX_CUBES && !peer[0]; id++) {
			struct bk_cube *c = &q->b->cubes_tab[id];

			for (int p = 0; c->used && p < CB_MAX_PORTS; p++)
				if (c->ports[p].used && !strcmp(c->ports[p].peer, i->if_name))
					snprintf(peer, sizeof(peer), "%s:%s", c->name, c->ports[p].name);
		}
		o = json_object_new_object();
		json_object_object_add(o, "name", json_object_new_string(i->if_name));
		json_object_object_add(o, "ifindex", json_object_new_int(i->if_index));
		snprintf(path, sizeof(path), "/sys/class/net/%s/address", i->if_name);
		rq_read_file(path, val, sizeof(val));
		json_object_object_add(o, "mac", json_object_new_string(val));
		snprintf(path, sizeof(path), "/sys/class/net/%s/operstate", i->if_name);
		rq_read_file(path, val, sizeof(val));
		json_object_object_add(o, "status", json_object_new_string(val));
		json_object_object_add(o, "peer", json_object_new_string(peer));
		{ /* transparent cubes on it, no cube */
			struct bk_cube *chain[TOPO_CHAIN_MAX];

			rq_add_tcubes(o, chain, topo_netdev_chain(q->b, i->if_name, chain, TOPO_CHAIN_MAX));
		}
		json_object_array_add(a, o);
	}
	if (ifs)
		if_freenameindex(ifs);
	q->out = a;
	return 0;
}

static int rq_topology(struct rq *q)
{
	struct json_object *a = json_object_new_array();

	for (int id = 1; id < CB_MAX_CUBES; id++) {
		struct bk_cube *c = &q->b->cubes_tab[id];

		for (int p = 0; c->used && p < CB_MAX_PORTS; p++) {
			struct json_object *o;
			char from[2 * BK_NAME_MAX + 2];

			if (!c->ports[p].used || !c->ports[p].peer[0])
				continue;
			snprintf(from, sizeof(from), "%s:%s", c->name, c->ports[p].name);
			o = json_object_new_object();
			json_object_object_add(o, "port", json_object_new_string(from));
			json_object_object_add(o, "peer", json_object_new_string(c->ports[p].peer));
			json_object_object_add(o, "status", json_object_new_string(topo_port_up(c, p) ? "UP" : "DOWN"));
			{
				struct bk_cube *chain[TOPO_CHAIN_MAX];

				rq_add_tcubes(o, chain, topo_chain(q->b, c, p, chain, TOPO_CHAIN_MAX));
			}
			json_object_array_add(a, o);
		}
	}
	/* netdevs no cube uses with transparent cubes: one entry each, listed
	 * by its outermost cube */
	for (int id = 1; id < CB_MAX_CUBES; id++) {
		struct bk_cube *t = &q->b->cubes_tab[id], *chain[TOPO_CHAIN_MAX];
		struct json_object *o;
		int nt;

		if (!t->used || !t->transparent || t->att_cube[0] || !t->att_port[0])
			continue;
		nt = topo_netdev_chain(q->b, t->att_port, chain, TOPO_CHAIN_MAX);
		if (!nt || chain[0] != t)
			continue;
		o = json_object_new_object();
		json_object_object_add(o, "port", json_object_new_string(t->att_port));
		json_object_object_add(o, "netdev", json_object_new_boolean(1));
		json_object_object_add(o, "status",
				       json_object_new_string(t->ports[1].applied.attached_ifindex ? "UP" : "DOWN"));
		rq_add_tcubes(o, chain, nt);
		json_object_array_add(a, o);
	}
	q->out = a;
	return 0;
}

static const char *rq_port_peer(struct bk_cube *c, const char *port)
{
	struct bk_port *p = topo_port(c, port);

	return p ? p->peer : NULL;
}

static int rq_connect(struct rq *q)
{
	struct broker *b = q->b;
	const char *p1 = NULL, *p2 = NULL;
	char c1[BK_NAME_MAX], c2[BK_NAME_MAX] = "", err[BK_ERR_MAX];
	const char *port1, *port2 = NULL, *colon;
	struct bk_cube *a, *z = NULL;
	struct rq_change chs[2] = { 0 };
	int n = 1, disconnect = q->verb == CUBEBUS__VERB__DELETE, r;
	struct json_object *v;

	if (q->body && json_object_object_get_ex(q->body, "peer1", &v))
		p1 = json_object_get_string(v);
	if (q->body && json_object_object_get_ex(q->body, "peer2", &v))
		p2 = json_object_get_string(v);
	if (!p1 || !p2)
		return rq_fail(q, -EINVAL, "connect needs peer1 and peer2 (CUBE:PORT and CUBE:PORT or NETDEV)");
	if (!strchr(p1, ':') && strchr(p2, ':')) {
		const char *t = p1;

		p1 = p2;
		p2 = t;
	}
	colon = strchr(p1, ':');
	if (!colon || colon == p1 || !colon[1] || (size_t)(colon - p1) >= sizeof(c1))
		return rq_fail(q, -EINVAL, "%s: expected CUBE:PORT", p1);
	snprintf(c1, sizeof(c1), "%.*s", (int)(colon - p1), p1);
	port1 = colon + 1;
	a = topo_cube(b, c1);
	if (!a)
		return rq_fail(q, -ENOENT, "%s: there is no cube %s", p1, c1);
	colon = strchr(p2, ':');
	if (colon) {
		if (colon == p2 || !colon[1] || (size_t)(colon - p2) >= sizeof(c2))
			return rq_fail(q, -EINVAL, "%s: expected CUBE:PORT", p2);
		snprintf(c2, sizeof(c2), "%.*s", (int)(colon - p2), p2);
		port2 = colon + 1;
		z = topo_cube(b, c2);
		if (!z)
			return rq_fail(q, -ENOENT, "%s: there is no cube %s", p2, c2);
	}
	if (disconnect) {
		const char *peer = rq_port_peer(a, port1);

		if (!peer || strcmp(peer, p2))
			return rq_fail(q, -ENOENT, "%s is not connected to %s", p1, p2);
	}
	chs[0].config = schema_cfg_dup(a->config);
	chs[0].cube = a;
	r = chs[0].config ? schema_set_peer(b, chs[0].config, port1, disconnect ? "" : p2, err, sizeof(err)) : -ENOMEM;
	if (r == 0 && z) {
		struct lyd_node *zc = chs[0].config;

		if (z != a) {
			chs[1].config = schema_cfg_dup(z->config);
			chs[1].cube = z;
			zc = chs[1].config;
			n = 2;
		}
		if (!zc)
			r = -ENOMEM;
		else if (!disconnect || (rq_port_peer(z, port2) && !strcmp(rq_port_peer(z, port2), p1)))
			r = schema_set_peer(b, zc, port2, disconnect ? "" : p1, err, sizeof(err));
	}
	for (int i = 0; r == 0 && i < n; i++) {
		r = schema_validate(b, chs[i].cube->service, &chs[i].config, err, sizeof(err));
		if (r < 0) {
			for (int k = 0; k < n; k++)
				schema_cfg_free(chs[k].config);
			return rq_fail(q, r, "%s: %s", chs[i].cube->name, err);
		}
	}
	if (r < 0) {
		for (int k = 0; k < n; k++)
			schema_cfg_free(chs[k].config);
		return rq_fail(q, r, "%s: %s", a->name, r == -ENOMEM ? "no configuration" : err);
	}
	return rq_commit(q, chs, n);
}

static int rq_version(struct rq *q)
{
	q->out = json_object_new_object();
	json_object_object_add(q->out, "version", json_object_new_string(CUBEBUS_VERSION));
	json_object_object_add(q->out, "bus", json_object_new_int(BUS_VERSION));
	return 0;
}

static int rq_services(struct rq *q)
{
	q->out = schema_services(q->b);
	return 0;
}

/*
 * Where `position=auto` puts a transparent cube among the others on a
 * port: by what its service does, cheapest refusals nearest the peer
 * (docs/ARCHITECTURE.md). Equal ranks keep the order they came in.
 */
static const struct rq_rank {
	const char *service;
	int rank;
} rq_ranks[] = {
	{ "ddosmitigator", 10 }, { "synflood", 15 }, { "firewall", 20 },      { "iptables", 20 }, { "nat", 30 },
	{ "lbdsr", 40 },	 { "lbrp", 40 },     { "packetcapture", 90 }, { "dynmon", 90 },
};
#define RQ_RANK_DEFAULT 50

static int rq_rank(const char *service)
{
	for (size_t i = 0; i < sizeof(rq_ranks) / sizeof(rq_ranks[0]); i++)
		if (!strcmp(rq_ranks[i].service, service))
			return rq_ranks[i].rank;
	return RQ_RANK_DEFAULT;
}

static const char *rq_body_str(struct rq *q, const char *key)
{
	struct json_object *v;

	if (q->body && json_object_object_get_ex(q->body, key, &v) && json_object_is_type(v, json_type_string))
		return json_object_get_string(v);
	return NULL;
}

/* Writes the chain of (x, port) as it should be and applies it; x NULL:
 * the chain of netdev port (no cube uses it). */
static int rq_chain_apply(struct rq *q, struct bk_cube *t, struct bk_cube **chain, int n, struct bk_cube *x,
			  const char *port, int detach)
{
	struct broker *b = q->b;
	char old_cube[BK_NAME_MAX], old_port[BK_NAME_MAX], err[BK_ERR_MAX], where[2 * BK_NAME_MAX + 2];
	int old_pos[TOPO_CHAIN_MAX], old_tpos = t->att_pos, r;
	const char *xname = x ? x->name : "";

	snprintf(where, sizeof(where), "%s%s%s", xname, x ? ":" : "", port);

	snprintf(old_cube, sizeof(old_cube), "%s", t->att_cube);
	snprintf(old_port, sizeof(old_port), "%s", t->att_port);
	for (int k = 0; k < n; k++)
		old_pos[k] = chain[k]->att_pos;
	r = store_begin(b->store);
	if (r == 0 && detach)
		r = store_attach_delete(b->store, t->name);
	for (int k = 0; r == 0 && k < n; k++) {
		struct store_attach a = { .pos = k };

		snprintf(a.tcube, sizeof(a.tcube), "%s", chain[k]->name);
		snprintf(a.cube, sizeof(a.cube), "%s", xname);
		snprintf(a.port, sizeof(a.port), "%s", port);
		r = store_attach_set(b->store, &a);
	}
	if (r < 0) {
		store_rollback(b->store);
		return rq_fail(q, r, "database: cannot store the chain of %s: %s", where, store_errmsg(b->store));
	}
	for (int k = 0; k < n; k++) {
		snprintf(chain[k]->att_cube, sizeof(chain[k]->att_cube), "%s", xname);
		snprintf(chain[k]->att_port, sizeof(chain[k]->att_port), "%s", port);
		chain[k]->att_pos = k;
	}
	if (detach)
		t->att_cube[0] = t->att_port[0] = 0;
	r = topo_sync(b, err, sizeof(err));
	if (r == 0)
		r = store_commit(b->store);
	if (r < 0) {
		/* as it was: memory, kernel, database */
		for (int k = 0; k < n; k++)
			chain[k]->att_pos = old_pos[k];
		snprintf(t->att_cube, sizeof(t->att_cube), "%s", old_cube);
		snprintf(t->att_port, sizeof(t->att_port), "%s", old_port);
		t->att_pos = old_tpos;
		topo_sync(b, err, sizeof(err));
		store_rollback(b->store);
		return rq_fail(q, r, "%s %s %s: %s", detach ? "detach" : "attach", t->name, where, err);
	}
	bk_log(6, "%s %s %s", t->name, detach ? "detached from" : "attached to", where);
	bk_event(b, t->name, detach ? "detached" : "attached", NULL);
	if (!x && !detach && t->xdp) {
		/* said in the reply: the user asked for both directions */
		q->out = json_object_new_object();
		json_object_object_add(
			q->out, "note",
			json_object_new_string(t->type[4] == 'D' ? "XDP_DRV: ingress only, XDP has no egress hook"
								 : "XDP_SKB: ingress only, XDP has no egress hook"));
	}
	return 0;
}

/* Where t goes in chain[0..n) of target by pos; -errno (replied) if refused. */
static int rq_position(struct rq *q, struct bk_cube *t, struct bk_cube **chain, int n, const char *target,
		       const char *pos, const char *other)
{
	int at = -1;

	if (!pos)
		pos = "auto";
	if (!strcmp(pos, "first")) {
		at = 0;
	} else if (!strcmp(pos, "last")) {
		at = n;
	} else if (!strcmp(pos, "auto")) {
		int r = rq_rank(t->service);

		for (at = 0; at < n && rq_rank(chain[at]->service) <= r; at++)
			;
	} else if (!strcmp(pos, "before") || !strcmp(pos, "after")) {
		if (!other)
			return rq_fail(q, -EINVAL, "position=%s needs the cube it is %s (position=%s X)", pos, pos,
				       pos);
		for (int i = 0; i < n; i++)
			if (!strcmp(chain[i]->name, other))
				at = i + (pos[0] == 'a');
		if (at < 0)
			return rq_fail(q, -ENOENT, "%s is not attached to %s", other, target);
	} else {
		return rq_fail(q, -EINVAL, "position is auto, first, last, before X or after X, not %s", pos);
	}
	if (other && strcmp(pos, "before") && strcmp(pos, "after"))
		return rq_fail(q, -EINVAL, "position=%s names no other cube", pos);
	return at;
}

/*
 * The netdev half of rq_attach: a chain on netdev, which no cube uses.
 * Refused when a cube port names it as its peer (attach to that port).
 */
static int rq_attach_netdev(struct rq *q, struct bk_cube *t, const char *netdev, int detach, const char *pos,
			    const char *other)
{
	struct broker *b = q->b;
	struct bk_cube *chain[TOPO_CHAIN_MAX + 1];
	int n, at = -1;

	if (detach) {
		int k = 0;

		if (pos || other)
			return rq_fail(q, -EINVAL, "detach takes no position");
		if (t->att_cube[0] || strcmp(t->att_port, netdev))
			return rq_fail(q, -ENOENT, "%s is not attached to %s", t->name, netdev);
		n = topo_netdev_chain(b, netdev, chain, TOPO_CHAIN_MAX);
		for (int i = 0; i < n; i++)
			if (chain[i] != t)
				chain[k++] = chain[i];
		return rq_chain_apply(q, t, chain, k, NULL, netdev, 1);
	}
	if (t->att_port[0])
		return rq_fail(q, -EEXIST, "%s is already attached to %s%s%s%s", t->name, t->att_cube,
			       t->att_cube[0] ? ":" : "", t->att_port,
			       t->att_cube[0] || strcmp(t->att_port, netdev) ? " (detach it first)" : "");
	if (strlen(netdev) >= IF_NAMESIZE || !if_nametoindex(netdev))
		return rq_fail(q, -ENODEV, "attach %s %s: there is no network device %s (nor a cube port: CUBE:PORT)",
			       t->name, netdev, netdev);
	if (!strcmp(netdev, b->inj_name[0]) || !strcmp(netdev, b->inj_name[1]))
		return rq_fail(q, -EBUSY, "attach %s %s: %s is cubebus's own injector device", t->name, netdev, netdev);
	for (int id = 1; id < CB_MAX_CUBES; id++) {
		struct bk_cube *o = &b->cubes_tab[id];

		for (int i = 0; o->used && i < CB_MAX_PORTS; i++)
			if (o->ports[i].used && !strcmp(o->ports[i].peer, netdev))
				return rq_fail(q, -EBUSY, "%s is the peer of %s:%s: attach to %s:%s", netdev, o->name,
					       o->ports[i].name, o->name, o->ports[i].name);
	}
	n = topo_netdev_chain(b, netdev, chain, TOPO_CHAIN_MAX);
	if (n && strcmp(chain[0]->type, t->type))
		return rq_fail(q, -EINVAL, "%s is %s and the cubes on %s are %s: a netdev's chain has one type",
			       t->name, t->type, netdev, chain[0]->type);
	if (n >= TOPO_CHAIN_MAX)
		return rq_fail(q, -ENOSPC, "%s has %d transparent cubes, the most a netdev takes", netdev, n);
	at = rq_position(q, t, chain, n, netdev, pos, other);
	if (at < 0)
		return at;
	memmove(&chain[at + 1], &chain[at], (n - at) * sizeof(chain[0]));
	chain[at] = t;
	return rq_chain_apply(q, t, chain, n + 1, NULL, netdev, 0);
}

/*
 * cubectl attach T CUBE:PORT [position=auto|first|last|before|after [X]]
 * and detach T CUBE:PORT. The chain of a port is in the order of the
 * packets that come in through it: first is nearest the peer (the wire),
 * last nearest the cube; packets going out meet them the other way round.
 */
static int rq_attach(struct rq *q)
{
	struct broker *b = q->b;
	int detach = !strcmp(q->segs[0], "detach") || q->verb == CUBEBUS__VERB__DELETE;
	const char *what = detach ? "detach" : "attach";
	const char *tname = rq_body_str(q, "cube"), *target = rq_body_str(q, "port");
	const char *pos = rq_body_str(q, "position"), *other = rq_body_str(q, "other"), *colon;
	struct bk_cube *t, *x, *chain[TOPO_CHAIN_MAX + 1];
	char xname[BK_NAME_MAX];
	struct bk_port *xp;
	int n, at = -1;

	if (!tname || !target)
		return rq_fail(q, -EINVAL, "%s needs a transparent cube and CUBE:PORT", what);
	if (rq_body_str(q, "before") || rq_body_str(q, "after")) {
		if (pos && strcmp(pos, rq_body_str(q, "before") ? "before" : "after"))
			return rq_fail(q, -EINVAL, "%s: give one position", what);
		pos = rq_body_str(q, "before") ? "before" : "after";
		other = rq_body_str(q, pos);
	}
	json_object_object_foreach(q->body, key, val)
	{
		(void)val;
		if (strcmp(key, "cube") && strcmp(key, "port") && strcmp(key, "position") && strcmp(key, "other") &&
		    strcmp(key, "before") && strcmp(key, "after"))
			return rq_fail(q, -EINVAL, "%s takes position=auto|first|last|before X|after X, not %s", what,
				       key);
	}
	t = topo_cube(b, tname);
	if (!t)
		return rq_fail(q, -ENOENT, "there is no cube %s", tname);
	if (!t->transparent)
		return rq_fail(q, -EINVAL,
			       "%s is a %s cube, which has ports: only transparent cubes attach (connect links "
			       "ports)",
			       tname, t->service);
	colon = strchr(target, ':');
	if (!colon)
		return rq_attach_netdev(q, t, target, detach, pos, other);
	if (colon == target || !colon[1] || (size_t)(colon - target) >= sizeof(xname))
		return rq_fail(q, -EINVAL, "%s: expected CUBE:PORT", target);
	snprintf(xname, sizeof(xname), "%.*s", (int)(colon - target), target);
	x = topo_cube(b, xname);
	if (!x)
		return rq_fail(q, -ENOENT, "%s: there is no cube %s", target, xname);
	if (x->transparent)
		return rq_fail(q, -EINVAL, "%s: %s is transparent, it has no ports", target, xname);
	xp = topo_port(x, colon + 1);
	if (!xp)
		return rq_fail(q, -ENOENT, "%s: %s has no port %s", target, xname, colon + 1);
	n = topo_chain(b, x, xp - x->ports, chain, TOPO_CHAIN_MAX);
	if (detach) {
		int k = 0;

		if (pos || other)
			return rq_fail(q, -EINVAL, "detach takes no position");
		if (strcmp(t->att_cube, x->name) || strcmp(t->att_port, xp->name))
			return rq_fail(q, -ENOENT, "%s is not attached to %s", tname, target);
		for (int i = 0; i < n; i++)
			if (chain[i] != t)
				chain[k++] = chain[i];
		return rq_chain_apply(q, t, chain, k, x, xp->name, 1);
	}
	if (t->att_port[0])
		return rq_fail(q, -EEXIST, "%s is already attached to %s%s%s%s", tname, t->att_cube,
			       t->att_cube[0] ? ":" : "", t->att_port,
			       strcmp(t->att_cube, x->name) || strcmp(t->att_port, xp->name) ? " (detach it first)"
											     : "");
	if (strcmp(t->type, x->type))
		return rq_fail(q, -EINVAL,
			       "%s is %s and %s is %s: a transparent cube attaches to ports of its own type", tname,
			       t->type, target, x->type);
	if (n >= TOPO_CHAIN_MAX)
		return rq_fail(q, -ENOSPC, "%s has %d transparent cubes, the most a port takes", target, n);
	at = rq_position(q, t, chain, n, target, pos, other);
	if (at < 0)
		return at;
	memmove(&chain[at + 1], &chain[at], (n - at) * sizeof(chain[0]));
	chain[at] = t;
	return rq_chain_apply(q, t, chain, n + 1, x, xp->name, 0);
}

struct rq_alias {
	const char *word;
	int verbs; /* bit mask of allowed verbs */
	int (*fn)(struct rq *q);
};

#define V(x) (1 << CUBEBUS__VERB__##x)
static const struct rq_alias rq_aliases[] = {
	{ "cubes", V(READ), rq_cubes },	      { "netdevs", V(READ), rq_netdevs },
	{ "services", V(READ), rq_services }, { "version", V(READ), rq_version },
	{ "topology", V(READ), rq_topology }, { "connect", V(CREATE) | V(DELETE), rq_connect },
	{ "attach", ~0, rq_attach },	      { "detach", ~0, rq_attach },
};

/* ---- help at the top (cubectl ?, OPTIONS /) -------------------------------------- */

/* The words of the commands beyond the aliases, and what each alias does. */
static const struct rq_help_word {
	const char *usage;
	const char *what;
} rq_help_words[] = {
	{ "SERVICE add NAME [KEY=VALUE...]", "create a cube of a service" },
	{ "CUBE [PATH...] show [-json|-yaml|-brief|-hide=KEY]", "read a cube, or a part of it" },
	{ "CUBE [PATH...] set KEY=VALUE...", "change configuration" },
	{ "CUBE PATH... add KEY... [KEY=VALUE...]", "add an entry to a list (a port, a route)" },
	{ "CUBE PATH... del", "remove an entry or a leaf" },
	{ "del CUBE", "delete a cube" },
	{ "CUBE ACTION [KEY=VALUE...]", "run an action (br1 fdb flush)" },
	{ "CUBE restart", "a new process for the cube" },
	{ "[SERVICE|CUBE] [PATH...] ?", "help: what is there, its types, defaults and actions" },
	{ "connect CUBE:PORT CUBE:PORT|NETDEV", "connect two ports, or a port and a netdev" },
	{ "disconnect CUBE:PORT CUBE:PORT|NETDEV", "undo a connect" },
	{ "cubes", "the cubes, their services and status" },
	{ "netdevs", "the network devices and what they are connected to" },
	{ "services", "the services cubes can be made of" },
	{ "version", "the version of cubebus" },
	{ "topology", "the links between ports and netdevs" },
};

/* Services, the cubes there are, and the commands: what `cubectl ?` shows. */
static int rq_help_root(struct rq *q)
{
	struct json_object *services = schema_services(q->b), *cubes = json_object_new_array(), *s;
	struct json_object *cmds = json_object_new_array();

	q->out = json_object_new_object();
	s = json_object_new_array();
	for (size_t i = 0; i < json_object_array_length(services); i++) {
		struct json_object *o = json_object_new_object(), *e = json_object_array_get_idx(services, i), *v;

		json_object_object_get_ex(e, "name", &v);
		json_object_object_add(o, "name", json_object_get(v));
		json_object_object_get_ex(e, "description", &v);
		json_object_object_add(o, "description", json_object_get(v));
		json_object_array_add(s, o);
	}
	json_object_put(services);
	json_object_object_add(q->out, "services", s);
	for (int id = 1; id < CB_MAX_CUBES; id++) {
		struct bk_cube *c = &q->b->cubes_tab[id];
		struct json_object *o;

		if (!c->used)
			continue;
		o = json_object_new_object();
		json_object_object_add(o, "name", json_object_new_string(c->name));
		json_object_object_add(o, "service", json_object_new_string(c->service));
		json_object_object_add(o, "status", json_object_new_string(cubes_state_name(c->state)));
		json_object_array_add(cubes, o);
	}
	json_object_object_add(q->out, "cubes", cubes);
	for (size_t i = 0; i < sizeof(rq_help_words) / sizeof(rq_help_words[0]); i++) {
		struct json_object *o = json_object_new_object();

		json_object_object_add(o, "command", json_object_new_string(rq_help_words[i].usage));
		json_object_object_add(o, "what", json_object_new_string(rq_help_words[i].what));
		json_object_array_add(cmds, o);
	}
	/* an alias added to rq_aliases is listed even before it is described */
	for (size_t i = 0; i < sizeof(rq_aliases) / sizeof(rq_aliases[0]); i++) {
		size_t len = strlen(rq_aliases[i].word), k;

		for (k = 0; k < sizeof(rq_help_words) / sizeof(rq_help_words[0]); k++)
			if (!strncmp(rq_help_words[k].usage, rq_aliases[i].word, len) &&
			    (!rq_help_words[k].usage[len] || rq_help_words[k].usage[len] == ' '))
				break;
		if (k == sizeof(rq_help_words) / sizeof(rq_help_words[0])) {
			struct json_object *o = json_object_new_object();

			json_object_object_add(o, "command", json_object_new_string(rq_aliases[i].word));
			json_object_array_add(cmds, o);
		}
	}
	json_object_object_add(q->out, "commands", cmds);
	return 0;
}

/* `cubectl connect ?`: the alias's usage and what it does. */
static int rq_help_alias(struct rq *q, const char *word)
{
	size_t len = strlen(word);

	q->out = json_object_new_object();
	json_object_object_add(q->out, "command", json_object_new_string(word));
	for (size_t k = 0; k < sizeof(rq_help_words) / sizeof(rq_help_words[0]); k++) {
		if (strncmp(rq_help_words[k].usage, word, len) ||
		    (rq_help_words[k].usage[len] && rq_help_words[k].usage[len] != ' '))
			continue;
		json_object_object_add(q->out, "usage", json_object_new_string(rq_help_words[k].usage));
		json_object_object_add(q->out, "what", json_object_new_string(rq_help_words[k].what));
		break;
	}
	return 0;
}

/* ---- dispatch ------------------------------------------------------------------- */

static int rq_hex(int ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	ch |= 0x20;
	return ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 : -1;
}

/* Splits path into percent-decoded segments (in place). */
static int rq_split(struct rq *q, char *path)
{
	char *save = NULL;

	for (char *s = strtok_r(path, "/", &save); s; s = strtok_r(NULL, "/", &save)) {
		char *w = s;

		if (q->nsegs >= RQ_MAX_SEGS)
			return rq_fail(q, -E2BIG, "path has more than %d parts", RQ_MAX_SEGS);
		for (char *r = s; *r; r++) {
			if (r[0] == '%' && rq_hex(r[1]) >= 0 && rq_hex(r[2]) >= 0) {
				*w++ = rq_hex(r[1]) * 16 + rq_hex(r[2]);
				r += 2;
			} else {
				*w++ = *r;
			}
		}
		*w = 0;
		q->segs[q->nsegs++] = s;
	}
	return 0;
}

static int rq_service_list(struct rq *q, const char *service)
{
	struct json_object *a = json_object_new_array();

	for (int id = 1; id < CB_MAX_CUBES; id++) {
		struct bk_cube *c = &q->b->cubes_tab[id];

		if (c->used && !strcmp(c->service, service))
			json_object_array_add(a, rq_cube_view(q, c, 0));
	}
	q->out = a;
	return 0;
}

static int rq_dispatch(struct rq *q)
{
	struct broker *b = q->b;
	struct bk_cube *c;
	const char *service = NULL;
	char err[BK_ERR_MAX];
	int rest;

	if (q->nsegs == 0 && q->verb == CUBEBUS__VERB__HELP)
		return rq_help_root(q);
	if (q->nsegs == 0)
		return rq_fail(q, -EINVAL, "empty path: name a cube, a service or a command (cubes, netdevs, ...)");
	for (size_t i = 0; i < sizeof(rq_aliases) / sizeof(rq_aliases[0]); i++) {
		if (strcmp(q->segs[0], rq_aliases[i].word))
			continue;
		if (q->verb == CUBEBUS__VERB__HELP)
			return rq_help_alias(q, rq_aliases[i].word);
		if (!(rq_aliases[i].verbs & (1 << q->verb)))
			return rq_fail(q, -EINVAL, "%s does not take %s", q->segs[0], bus_verb_name(q->verb));
		return rq_aliases[i].fn(q);
	}
	if (schema_has_service(b, q->segs[0])) {
		service = q->segs[0];
		if (q->nsegs == 1) {
			if (q->verb == CUBEBUS__VERB__READ)
				return rq_service_list(q, service);
			if (q->verb == CUBEBUS__VERB__HELP) {
				q->out = schema_help(b, service, NULL, 0, err, sizeof(err));
				return q->out ? 0 : rq_fail(q, -ENOENT, "%s", err);
			}
			return rq_fail(q, -EINVAL, "give the cube a name: %s add NAME", service);
		}
		c = topo_cube(b, q->segs[1]);
		if (!c && q->nsegs == 2 && q->verb == CUBEBUS__VERB__CREATE)
			return rq_cube_create(q, service, q->segs[1]);
		if (!c)
			return rq_fail(q, -ENOENT, "there is no %s cube %s", service, q->segs[1]);
		if (strcmp(c->service, service))
			return rq_fail(q, -ENOENT, "%s is a %s cube, not a %s cube", c->name, c->service, service);
		if (q->nsegs == 2 && q->verb == CUBEBUS__VERB__CREATE && !q->body)
			return rq_fail(q, -EEXIST, "cube %s already exists", c->name);
		rest = 2;
	} else {
		c = topo_cube(b, q->segs[0]);
		if (!c)
			return rq_fail(q, -ENOENT,
				       "there is no cube or service named %s (see: cubectl cubes, cubectl services)",
				       q->segs[0]);
		rest = 1;
	}
	if (q->nsegs == rest + 1 && !strcmp(q->segs[rest], "restart") &&
	    (q->verb == CUBEBUS__VERB__CREATE || q->verb == CUBEBUS__VERB__ACTION))
		return rq_cube_restart(q, c);
	switch (q->verb) {
	case CUBEBUS__VERB__READ: return rq_read(q, c, q->segs + rest, q->nsegs - rest);
	case CUBEBUS__VERB__HELP:
		q->out = schema_help(b, c->service, q->segs + rest, q->nsegs - rest, err, sizeof(err));
		return q->out ? 0 : rq_fail(q, -ENOENT, "%s", err);
	case CUBEBUS__VERB__DELETE:
		if (q->nsegs == rest)
			return rq_cube_delete(q, c);
		return rq_edit(q, c, q->segs + rest, q->nsegs - rest);
	case CUBEBUS__VERB__ACTION: {
		char rel[1024] = "", err[BK_ERR_MAX];
		int r = schema_check_action(q->b, c->service, q->segs + rest, q->nsegs - rest, q->body, err,
					    sizeof(err));

		if (r < 0)
			return rq_fail(q, r, "%s: %s", c->name, err);
		for (int i = rest; i < q->nsegs; i++)
			snprintf(rel + strlen(rel), sizeof(rel) - strlen(rel), "%s%s", i > rest ? "/" : "", q->segs[i]);
		return rq_action(q, c, rel);
	}
	case CUBEBUS__VERB__CREATE:
	case CUBEBUS__VERB__UPDATE:
	case CUBEBUS__VERB__REPLACE: return rq_edit(q, c, q->segs + rest, q->nsegs - rest);
	default: return rq_fail(q, -EINVAL, "unknown verb %d", q->verb);
	}
}

static void rq_reply(struct broker *b, zsock_t *sock, zframe_t *identity, uint64_t id, struct rq *q)
{
	Cubebus__Reply rep = CUBEBUS__REPLY__INIT;
	zframe_t *f;

	rep.version = BUS_VERSION;
	rep.id = id;
	rep.status = q->status;
	rep.error = q->err;
	rep.body = q->out ? (char *)json_object_to_json_string_ext(q->out, JSON_C_TO_STRING_PLAIN) : "";
	f = bus_encode_reply(&rep);
	if (!f) {
		Cubebus__Reply small = CUBEBUS__REPLY__INIT;

		small.version = BUS_VERSION;
		small.id = id;
		small.status = -EMSGSIZE;
		small.error = "the reply is larger than the bus allows";
		small.body = "";
		f = bus_encode_reply(&small);
	}
	zframe_send(&identity, sock, ZFRAME_MORE | ZFRAME_REUSE);
	zframe_send(&f, sock, 0);
}

int requests_on_ctl(zloop_t *loop, zsock_t *sock, void *arg)
{
	struct broker *b = arg;
	zmsg_t *msg = zmsg_recv(sock);
	zframe_t *identity, *payload;
	Cubebus__Request *req = NULL;
	struct rq q = { .b = b };
	char *path = NULL;
	int r;

	if (!msg)
		return 0;
	identity = zmsg_pop(msg);
	payload = zmsg_pop(msg);
	if (!identity || !payload || zmsg_size(msg) != 0) {
		b->bad_messages++;
		goto out;
	}
	r = bus_decode_request(payload, &req);
	if (r < 0) {
		b->bad_messages++;
		rq_fail(&q, r, "malformed request: %s", r == -EPROTO ? "unsupported bus version" : strerror(-r));
		rq_reply(b, sock, identity, 0, &q);
		goto out;
	}
	q.verb = req->verb;
	if (req->body && *req->body) {
		enum json_tokener_error jerr = json_tokener_success;

		q.body = json_tokener_parse_verbose(req->body, &jerr);
		if (!q.body) {
			rq_fail(&q, -EINVAL, "request body is not JSON: %s", json_tokener_error_desc(jerr));
			goto reply;
		}
	}
	path = strdup(req->path ? req->path : "");
	if (!path || rq_split(&q, path) < 0)
		goto reply;
	if (q.verb <= CUBEBUS__VERB__VERB_NONE || q.verb > CUBEBUS__VERB__HELP) {
		rq_fail(&q, -EINVAL, "unknown verb %d", q.verb);
		goto reply;
	}
	b->force = req->force; /* reaches the netdev attachment (dp_port_apply) */
	rq_dispatch(&q);
	b->force = 0;
	if (b->debug)
		bk_log(7, "%s %s -> %d %s", bus_verb_name(req->verb), req->path, q.status, q.err);
reply:
	rq_reply(b, sock, identity, req->id, &q);
out:
	json_object_put(q.body);
	json_object_put(q.out);
	free(path);
	if (req)
		cubebus__request__free_unpacked(req, NULL);
	zframe_destroy(&identity);
	zframe_destroy(&payload);
	zmsg_destroy(&msg);
	return 0;
}
