/* SPDX-License-Identifier: Apache-2.0 */
/*
 * broker.h - the state cubebusd keeps in memory, shared by its modules:
 *   main.c      paths, lock, sockets, the loop
 *   schema.c    YANG models (libyang): services, paths, validation
 *   dataplane.c pinned maps, netdev attachment, link table (the kernel)
 *   cubes.c     cube processes: spawn, hello, config, reads, supervision
 *   requests.c  ctl requests: the verbs and aliases of DESIGN §4-5
 *   topo.c      ports and peers -> desired links, applied to the kernel
 *
 * The database (state/) is the truth; this is its cache plus what only
 * exists at run time (pids, sockets, applied kernel state).
 */
#ifndef CUBEBUS_BROKER_H
#define CUBEBUS_BROKER_H

#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>
#include <json-c/json.h>
#include <libyang/libyang.h>
#include <czmq.h>

#include "bus.h"
#include "store.h"
#include "cubebus/cubebus_shared.h"

#define BK_ERR_MAX  512
#define BK_NAME_MAX 64
#define BK_PEER_MAX 160

enum bk_cube_state {
	BK_CUBE_STOPPED = 0, /* no process (yet) */
	BK_CUBE_STARTING,    /* spawned, no hello yet */
	BK_CUBE_CONFIGURING, /* hello received, config sent */
	BK_CUBE_RUNNING,
	BK_CUBE_FAILED, /* gave up restarting */
};

/* What the kernel currently has for one (cube, port): the applied state. */
struct bk_applied {
	struct cb_link link;
	int attached_ifindex; /* netdev carrying our ingress stub, 0 none */
	int attached_xdp_flags;
	/* netdev whose TC egress hook carries our stub (the innermost
	 * transparent cube on a netdev, port 0), 0 none */
	int attached_egress_ifindex;
	uint32_t next_prog_id; /* program in cb_next[port], 0 none */
	int flood_ifindex;     /* entry in the XDP flood devmap, 0 none */
};

struct bk_port {
	int used;
	char name[BK_NAME_MAX];
	char uuid[40];
	char peer[BK_PEER_MAX];
	struct bk_applied applied;
};

struct bk_cube {
	int used;
	int deleting; /* links to it are torn down */
	char name[BK_NAME_MAX];
	char service[BK_NAME_MAX];
	char type[16];
	char uuid[40];
	int id; /* slot in the hook's program array, index in the link table */
	/* a transparent cube (its model has no ports): ports 0 (inner: toward
	 * the cube it is attached to) and 1 (outer: toward that port's peer),
	 * wired by topo.c; att_* say where it is attached, "" if nowhere */
	int transparent;
	char att_cube[BK_NAME_MAX]; /* "" with att_port a netdev: on that netdev */
	char att_port[BK_NAME_MAX];
	int att_pos; /* place in the port's chain, 0 closest to the peer */
	int xdp;
	unsigned generation;
	struct lyd_node *config; /* the cube's configuration tree (schema.c), NULL without a model */
	char *config_text;	 /* its stored text, kept while its service is not installed */
	struct bk_port ports[CB_MAX_PORTS];

	enum bk_cube_state state;
	char ident[96]; /* bus identity of the accepted process: "name#pid" */
	pid_t pid;
	int child;    /* pid is our child (else adopted) */
	int external; /* started by an outside supervisor (came by WHOAMI) */
	uint32_t prog_id;
	uint64_t started_ms, last_seen_ms;
	unsigned restarts, failures;
	uint64_t restart_at_ms;

	/* the one outstanding exchange with the process */
	uint64_t wait_seq;
	int reply_ready;
	int reply_status;
	char reply_error[BK_ERR_MAX];
	char *reply_body;
	char *reply_diff; /* RESULT of an ACTION: its change of the configuration */
	char exit_reason[128];
};

struct broker {
	char run_dir[512];
	char state_dir[512];
	char bpffs[512];
	char bin_dir[512];
	char yang_dir[512];
	int debug;

	struct store *store;
	struct ly_ctx *yang;
	zsock_t *ctl, *cubes, *events;
	zloop_t *loop;
	int lock_fd;

	struct bk_cube cubes_tab[CB_MAX_CUBES]; /* indexed by cube id */
	uint64_t next_seq;

	/* kernel objects */
	int tc_slots_fd, xdp_slots_fd, links_fd, stats_fd, md_fd, conf_fd;
	int inj_ifindex;
	char inj_name[2][16];
	int force; /* the request being served may take over netdev programs */
	uint64_t bad_messages;
};

/* main.c */
uint64_t bk_now_ms(void);
void bk_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void bk_event(struct broker *b, const char *cube, const char *kind, const char *body);
void bk_uuid(char *buf, size_t size);
/* Silences libbpf's warnings while probing for objects that may be absent. */
void bk_libbpf_quiet(int on);

/* schema.c */
int schema_init(struct broker *b, char *err, size_t errlen);
void schema_fini(struct broker *b);
int schema_has_service(struct broker *b, const char *service);
/* JSON array of service names. */
struct json_object *schema_services(struct broker *b);
/*
 * A cube's configuration is its entry of the service's top-level list as a
 * libyang data tree (config only, validated, canonical values): JSON exists
 * only at the edges, bodies and reads (json-c), storage and messages (RFC
 * 7951 text).
 *
 * schema_cfg_new: the configuration of a new cube from its body (may be
 * NULL), checked in the user's words, then by libyang. schema_cfg_load: from
 * its stored text (the entry's RFC 7951 object). schema_cfg_text: that text
 * (malloc'd). schema_cfg_json: the entry as a JSON object, with every default
 * filled in when defaults (a read). schema_cfg_get: the value at a data path
 * below the cube ("type", "ports[name='p1']/peer"), NULL when absent.
 */
int schema_cfg_new(struct broker *b, const char *service, const char *name, struct json_object *body,
		   struct lyd_node **cfg, char *err, size_t errlen);
int schema_cfg_load(struct broker *b, const char *service, const char *text, struct lyd_node **cfg, char *err,
		    size_t errlen);
char *schema_cfg_text(const struct lyd_node *cfg);
struct json_object *schema_cfg_json(const struct lyd_node *cfg, int defaults);
const char *schema_cfg_get(const struct lyd_node *cfg, const char *path);
struct lyd_node *schema_cfg_dup(const struct lyd_node *cfg);
void schema_cfg_free(struct lyd_node *cfg);
/* Sets (peer "": removes) the peer of port, creating the port's entry. */
int schema_set_peer(struct broker *b, struct lyd_node *cfg, const char *port, const char *peer, char *err,
		    size_t errlen);
/* Validates *cfg (whole, or a part of schema_prune) in place: mandatory
 * leaves and port references in the user's words, then libyang. */
int schema_validate(struct broker *b, const char *service, struct lyd_node **cfg, char *err, size_t errlen);
/* -EBUSY with a sentence when a port reference in cfg (a leafref to the
 * cube's ports) names port, which is about to be deleted; 0 otherwise. */
int schema_port_users(struct broker *b, const char *service, const struct lyd_node *cfg, const char *port, char *err,
		      size_t errlen);
/* Adds to a new cube's configuration (a body) the entries its model's lists
 * declare with base:default-entries, where it does not have them. */
void schema_add_default_entries(struct broker *b, const char *service, struct json_object *cfg);
/* Merges a cube's operational state (its READ answer) into view, the cube
 * as read: list entries meet by their keys (a port's state joins that
 * port's entry), other members replace. Members "cubebus:..." are skipped. */
void schema_merge_state(struct broker *b, const char *service, struct json_object *view, struct json_object *state);

enum schema_target_kind { ST_CUBE, ST_CONTAINER, ST_LIST, ST_ENTRY, ST_LEAF, ST_LEAFLIST, ST_ACTION };
struct schema_target {
	enum schema_target_kind kind;
	const void *snode; /* const struct lysc_node * */
	char rel[1024];	   /* path inside the cube, "fdb/flush", for actions */
	char where[1024];  /* the path in the user's words, "fdb entry aa:bb:.." */
	char path[2048];   /* the data path below the cube, "fdb/entry[address='aa:bb:..']" */
	char keys[8][256]; /* the canonical keys of the entry (ST_ENTRY) */
	int nkeys;
	int nway;	 /* list entries on the way to a deeper node: */
	int way_len[8];	 /* the length of path up to each */
	int way_wlen[8]; /* and of where */
};
/*
 * Applies verb (CREATE/UPDATE/REPLACE/DELETE) with body at the path segments
 * segs[0..n) to the cube configuration *cfg (in place; validate after). For
 * an action path returns -EOPNOTSUPP with target->rel set. Returns 0 or
 * -errno with err. schema_read: READ of the node at the path in view (the
 * cube as read, JSON), a new reference in *out.
 */
/* The walk of schema_edit alone: the target of the path (-EOPNOTSUPP for an action). */
int schema_walk(struct broker *b, const char *service, int verb, char **segs, int n, struct json_object *body,
		struct schema_target *target, char *prel, size_t prelsize, char *err, size_t errlen);
int schema_edit(struct broker *b, const char *service, struct lyd_node **cfg, int verb, char **segs, int n,
		struct json_object *body, struct schema_target *target, char *err, size_t errlen);
int schema_read(struct broker *b, const char *service, struct json_object *view, char **segs, int n,
		struct json_object **out, struct schema_target *target, char *err, size_t errlen);
/*
 * Edits below a cube in time proportional to what they touch (requests.c
 * rq_edit_part): schema_incremental says whether the model allows checking
 * a part on its own; schema_prune copies out of cfg what an edit at
 * segs[0..n) can touch (along the path each node's leaves and containers and
 * the one entry of each list, the node at the path whole; the cube's ports
 * whole), or NULL when the path is not such an edit; schema_room checks
 * that a new entry at the target fits its list's max-elements; schema_diff
 * gives the libyang diff between two parts (the tree and its RFC 7951 text,
 * both NULL when equal); schema_splice applies a diff, or its reverse, to
 * *cfg; schema_apply_diff applies a diff's text (the journal).
 */
int schema_incremental(struct broker *b, const char *service);
/* A transparent service: its cubes have no ports (transparent-base-yang-module). */
int schema_is_transparent(struct broker *b, const char *service);
int schema_check_action(struct broker *b, const char *service, char **segs, int n, struct json_object *body, char *err,
			size_t errlen);
struct lyd_node *schema_prune(struct broker *b, const char *service, const struct lyd_node *cfg, char **segs, int n);
int schema_room(struct broker *b, const char *service, const struct lyd_node *cfg, const struct schema_target *t,
		char *err, size_t errlen);
int schema_diff(struct broker *b, const struct lyd_node *old, const struct lyd_node *new, struct lyd_node **diff,
		char **text, char *err, size_t errlen);
int schema_splice(struct broker *b, struct lyd_node **cfg, const struct lyd_node *diff, int reverse, char *err,
		  size_t errlen);
int schema_apply_diff(struct broker *b, struct lyd_node **cfg, const char *text, char *err, size_t errlen);
/* A diff's text that must be one of cube's (service's) changes. */
int schema_parse_diff(struct broker *b, const char *service, const char *cube, const char *text, struct lyd_node **diff,
		      char *err, size_t errlen);
/* Writes the Markdown reference of every service's data tree. */
int schema_describe(struct broker *b, FILE *out);
/* Help text for the node at path: a JSON object. */
struct json_object *schema_help(struct broker *b, const char *service, char **segs, int n, char *err, size_t errlen);

/* dataplane.c */
int dp_init(struct broker *b, char *err, size_t errlen);
void dp_fini(struct broker *b);
/* Creates the per-cube pinned maps that are missing; fresh: removes any
 * leftovers of an older cube of the same name first. */
int dp_cube_prepare(struct broker *b, struct bk_cube *c, int fresh, char *err, size_t errlen);
/* Removes the cube's slot program, counters and pins. */
void dp_cube_remove(struct broker *b, struct bk_cube *c);
/* Applies the link of (c, port) to desired; returns 0 or -errno with err. */
int dp_port_apply(struct broker *b, struct bk_cube *c, int port, const struct bk_applied *desired, char *err,
		  size_t errlen);
/* Program id in the cube's slot, 0 if empty. */
uint32_t dp_slot_prog_id(struct broker *b, struct bk_cube *c);
int dp_port_stats(struct broker *b, struct bk_cube *c, int port, struct cb_port_stats *out);
/* After a restore: removes kernel objects of this instance that the
 * database does not know (pins, slot programs, stubs on netdevs no port
 * names). Returns how many. */
int dp_reconcile(struct broker *b);
/* Removes this instance's stubs from netdev ifindex and puts back what its
 * ports took over there; never touches another program (--cleanup). */
void dp_release_netdev(struct broker *b, int ifindex);
/* Removes everything this instance put in the kernel (--cleanup). */
void dp_purge(struct broker *b);

/* topo.c */
/* Makes the kernel match the in-memory topology; err names the first failure. */
int topo_sync(struct broker *b, char *err, size_t errlen);
/* Transparent cubes on x's port p, in chain order (0 closest to the peer); at most max. */
#define TOPO_CHAIN_MAX 8
int topo_chain(struct broker *b, struct bk_cube *x, int p, struct bk_cube **out, int max);
/* The transparent cubes on netdev name (no cube uses it), outermost first. */
int topo_netdev_chain(struct broker *b, const char *netdev, struct bk_cube **out, int max);
/* Forgets attachments whose cube or port is gone (the database's rows went with them). */
void topo_attach_prune(struct broker *b);
/* Checks a peer string for port (c, port): exists, compatible, unused. */
int topo_check_peer(struct broker *b, struct bk_cube *c, const char *port, const char *peer, char *err, size_t errlen);
/* Port of the cube by name, or NULL. */
struct bk_port *topo_port(struct bk_cube *c, const char *name);
struct bk_cube *topo_cube(struct broker *b, const char *name);
/* Rebuilds c->ports from c->config's "ports" list keeping known indices.
 * -ENOSPC when a cube has more than CB_MAX_PORTS ports. */
int topo_ports_from_config(struct bk_cube *c, char *err, size_t errlen);
int topo_port_up(struct bk_cube *c, int port);
/* Whether a netdev some port names has gone, come back or appeared since
 * the last sync (the supervision timer then syncs again). */
int topo_netdevs_changed(struct broker *b);

/* cubes.c */
int cubes_spawn(struct broker *b, struct bk_cube *c, char *err, size_t errlen);
/* Waits until the cube runs (or fails) within timeout_ms. */
int cubes_wait_running(struct broker *b, struct bk_cube *c, int timeout_ms, char *err, size_t errlen);
/* Sends CONFIG and waits for the result. */
int cubes_configure(struct broker *b, struct bk_cube *c, char *err, size_t errlen);
/* Sends a running cube the change diff (libyang diff, JSON) of its
 * configuration, or the whole configuration if the process cannot take a
 * change; 0 for a cube that is not running (it gets all at its hello). */
int cubes_change(struct broker *b, struct bk_cube *c, const char *diff, char *err, size_t errlen);
/* READ: sets *state to the cube's operational JSON. */
int cubes_read(struct broker *b, struct bk_cube *c, struct json_object **state, char *err, size_t errlen);
/* *diff: what the action changed in the cube's configuration (NULL: nothing). */
int cubes_action(struct broker *b, struct bk_cube *c, const char *path, const char *body, char **result, char **diff,
		 char *err, size_t errlen);
void cubes_stop(struct broker *b, struct bk_cube *c);
int cubes_on_message(zloop_t *loop, zsock_t *sock, void *arg);
/* Periodic: reap children, restart dead cubes, time out silent ones. */
void cubes_tick(struct broker *b);
/* At start: adopt live processes of known cubes, spawn the others. */
void cubes_restore(struct broker *b);
const char *cubes_state_name(enum bk_cube_state s);

/* requests.c */
int requests_on_ctl(zloop_t *loop, zsock_t *sock, void *arg);

#endif
