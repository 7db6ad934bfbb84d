/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libcube - the service side of cubebus.
 *
 * A service binary (cube-<service>) is a table of callbacks handed to
 * cube_main(). libcube does the rest: command line, bus client, loading the
 * service's skeleton with the cube's read-only data, pinning its maps per
 * cube (so a restart keeps its state), publishing its entry program into the
 * cube's slot, the slow-path channel (packet-in and packet-out), config
 * dispatch and operational reads.
 */
#ifndef CUBEBUS_CUBE_H
#define CUBEBUS_CUBE_H

#include <stddef.h>
#include <stdint.h>
#include <json-c/json.h>
#include <bpf/libbpf.h>
#include "cubebus/cubebus_shared.h"
#include "cubecfg.h"
#include "cubeop.h"

struct cube;

struct cube_ops {
	const char *service;
	/*
	 * The service's BPF objects, one per hook, as the skeletons embed them:
	 * CUBE_PROGRAMS(svc) sets both from svc_tc.skel.h and svc_xdp.skel.h.
	 * libcube opens the one for the cube's hook, sets its read-only data,
	 * pins its maps and loads it; the service finds its maps by name
	 * (cube_map_fd) and never writes `if (xdp)`. When set, open, load and
	 * destroy are not used.
	 */
	const void *(*elf_tc)(size_t *size);
	const void *(*elf_xdp)(size_t *size);
	/*
	 * The typed configuration generated from the service's model
	 * (<svc>_cfg.h, cube-services/lib/cubecfg.h): when set, libcube keeps
	 * the cube's configuration as a libyang tree and turns each change into
	 * calls of the service's typed create / update / delete handlers
	 * (cubecfg_apply); apply is not used.
	 */
	const struct cubecfg_model *model;
	/* The cube's ports (base nodes, libcube's) changed: names, indexes or
	 * peers. Optional; called before the handlers of the same change. */
	int (*ports_changed)(struct cube *c, char *err, size_t errlen);
	/* Opens (not loads) the skeleton for the hook; returns its object and
	 * stores the skeleton in *skel. NULL on error. */
	struct bpf_object *(*open)(void **skel, int xdp);
	/* Loads the opened skeleton (skel__load). 0 or -errno. */
	int (*load)(void *skel, int xdp);
	void (*destroy)(void *skel, int xdp);
	/* Applies the cube's whole configuration (its YANG JSON object). Must
	 * be idempotent: it also runs after a restart on pinned maps.
	 * Returns 0, or -errno with a sentence in err. */
	int (*apply)(struct cube *c, struct json_object *config, char *err, size_t errlen);
	/*
	 * The cube's operational state (config false nodes), typed
	 * (cube-services/lib/cubeop.h): calls the generated <node>_emit(st, &s)
	 * for what it has to say; libcube answers the read. 0, or -errno after
	 * cube_fail(). Optional, needs model.
	 */
	int (*state)(struct cube *c, struct cube_state *st);
	/*
	 * Called once after the typed handlers of a change (or of a whole
	 * configuration) all returned 0, before the change is answered: a
	 * service whose handlers queue their work (a batch of map updates)
	 * does it here. 0, or -errno after cube_fail(): the service has undone
	 * what it queued, and libcube then undoes the handler calls of the
	 * change (and calls commit again for what the undo queued), as for a
	 * failing handler. Optional, needs model.
	 */
	int (*commit)(struct cube *c);
	/*
	 * The action table generated from the model (&<svc>_actions): an
	 * action arrives as a call of its typed handler,
	 * <svc>_<path>_action(c, in, out), with its input decoded and checked
	 * against the model. Optional: without it the cube has no action.
	 */
	const struct cubeop_actions *actions;
	/* A packet the fast path sent to the slow path with a service reason
	 * (>= CB_REASON_SERVICE). Optional; called on the main loop. */
	void (*pktin)(struct cube *c, const struct cb_pktin_hdr *h, const void *frame, size_t len);
	size_t priv_size; /* zeroed private state, see cube_priv() */
	/* Periodic work of the service (aging, retries), called on the main
	 * loop every tick_ms milliseconds (1000 if 0) once the cube runs.
	 * Optional. */
	void (*tick)(struct cube *c);
	unsigned tick_ms;
};

/* The embedded objects of a service's two skeletons, for cube_ops. */
#define CUBE_PROGRAMS(svc) .elf_tc = svc##_tc__elf_bytes, .elf_xdp = svc##_xdp__elf_bytes

/* Runs the cube process; returns the process exit status. */
int cube_main(int argc, char **argv, const struct cube_ops *ops);

void *cube_priv(struct cube *c);
void *cube_skel(struct cube *c);
int cube_is_xdp(const struct cube *c);
/*
 * The configuration libcube last applied through the typed handlers (NULL
 * before the first), for the generated <node>_foreach(): a service walks its
 * configured entries there instead of keeping copies of them.
 */
const struct lyd_node *cube_config(const struct cube *c);
/*
 * An action that changes the cube's own configuration (DESIGN 4.4: a firewall
 * append is a rule) says so with these, while it runs: libcube changes the
 * applied tree (no handler is called: the action did the work) and the broker
 * stores the change as if the user had made it, so a restart gets it back
 * through the handlers. path is below the cube's entry, keys as predicates:
 * "chain[name='INGRESS']/rule[id='3']". cube_cfg_put writes the list entry
 * (or container) at path afresh with the leaves of leaves, a JSON object of
 * leaf names and values ({"src": "10.0.0.0/8", "action": "DROP"}; a value is
 * its text, as in a request); cube_cfg_remove deletes the node at path. If
 * the action then fails, libcube undoes them. 0, or a negative errno with the
 * sentence as the action's error (the action should return it).
 */
int cube_cfg_put(struct cube *c, const char *path, const char *leaves);
int cube_cfg_remove(struct cube *c, const char *path);
/* fd of the cube's map called name (owned by libcube), or -ENOENT. */
int cube_map_fd(const struct cube *c, const char *name);
const char *cube_name(const struct cube *c);
unsigned cube_id(const struct cube *c);
/* Port index of a port name, or -ENOENT. */
int cube_port_index(const struct cube *c, const char *name);
/* Name of port index, or NULL. */
const char *cube_port_name(const struct cube *c, int index);
/* Calls cb for each configured port (name, index). */
void cube_port_foreach(const struct cube *c, void (*cb)(struct cube *c, const char *name, int index, void *arg),
		       void *arg);

/*
 * Specialisation (DESIGN §3.5). A service's fast path may have const
 * volatile __u32 globals of its own that select code (the verifier removes
 * what their values do not use). cube_set_rodata_u32() records a value,
 * applied at every load of the cube's program from then on (restarts and
 * log level changes included); at most CUBE_RODATA_MAX of them. 0, or
 * -ENOSPC / -ENAMETOOLONG. cube_reload_fastpath() loads the program again
 * with the recorded values on the cube's pinned maps (its state stays) and
 * swaps it into the cube's slot with one map update, so that every packet
 * runs the old program or the new one; before the first load it does
 * nothing. 0, or a negative errno after cube_fail() (the old program keeps
 * running). cube_reloads() counts the reloads of the process.
 */
#define CUBE_RODATA_MAX 16
int cube_set_rodata_u32(struct cube *c, const char *name, uint32_t val);
int cube_reload_fastpath(struct cube *c);
uint64_t cube_reloads(const struct cube *c);

/*
 * Packet-out: sends frame out of port (CB_DIR_OUT) or into the cube's own
 * fast path as if received on port (CB_DIR_IN). Safe from any thread.
 * Returns 0 or -errno.
 */
int cube_packet_out(struct cube *c, int dir, int port, const void *frame, size_t len);

/*
 * From a typed handler (configuration, action or state): the sentence the
 * user gets when the handler fails
 * (what, where, what to do). The handler still returns its negative errno;
 * without a sentence the user gets "<op> of <entry> failed: <errno text>".
 */
void cube_fail(struct cube *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * Logging to stderr (the broker's log: it starts the cube processes) with
 * the cube name as prefix; level as syslog, or CUBE_LOG_TRACE below
 * LOG_DEBUG. A line below the cube's loglevel is not printed.
 */
#define CUBE_LOG_TRACE 8
void cube_log(const struct cube *c, int level, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Whether cube_log(c, level, ...) prints: to skip the work of a line. */
int cube_log_enabled(const struct cube *c, int level);

/* Small JSON helpers for handlers. */
const char *cube_json_str(struct json_object *o, const char *key, const char *def);
int64_t cube_json_int(struct json_object *o, const char *key, int64_t def);

#endif
