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

struct cube;

struct cube_ops {
	const char *service;
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
	/* Adds the cube's operational state (config false nodes) to out.
	 * Optional. */
	int (*read)(struct cube *c, struct json_object *out, char *err, size_t errlen);
	/* Runs the action at path ("fdb/flush"); *result may be set to a new
	 * JSON object. -ENOENT if there is no such action. Optional. */
	int (*action)(struct cube *c, const char *path, struct json_object *input, struct json_object **result,
		      char *err, size_t errlen);
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

/* Runs the cube process; returns the process exit status. */
int cube_main(int argc, char **argv, const struct cube_ops *ops);

void *cube_priv(struct cube *c);
void *cube_skel(struct cube *c);
int cube_is_xdp(const struct cube *c);
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
 * Packet-out: sends frame out of port (CB_DIR_OUT) or into the cube's own
 * fast path as if received on port (CB_DIR_IN). Safe from any thread.
 * Returns 0 or -errno.
 */
int cube_packet_out(struct cube *c, int dir, int port, const void *frame, size_t len);

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
