/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cubeop - typed actions and typed operational state for services, the
 * run-time half of what cubebus-gen generates for a model's `action`s and
 * `config false` nodes (the configuration half is cubecfg.h).
 *
 * Actions. For every action of the model the generator emits a struct of its
 * input and one of its output (the same types as configuration), a decoder
 * of the input from a libyang tree, an encoder of the output into one, and
 * the handler prototype the service implements:
 *
 *	int <svc>_<path>_action(struct cube *c, const struct <svc>_<path>_in *in,
 *				struct <svc>_<path>_out *out);
 *
 * and a table, <svc>_actions, in a file of its own (<svc>_act.c): a service
 * that names the table in its cube_ops (.actions = &<svc>_actions) gets its
 * actions as handler calls, and an action handler it lacks is an undefined
 * symbol at link time; a service that does not name it links none of it.
 * cubeop_action_run() finds the action by its schema node, builds the input
 * as libyang data (so a value out of range or an unknown enum is refused
 * with a sentence before any handler runs), decodes it, calls the handler
 * and encodes the output, validated against the model.
 *
 * State. For every list or container of the service's own that holds
 * `config false` leaves (the cube's entry itself included), a struct of
 * them, <svc>_<path>_state, and an emitter the service calls while it is
 * asked for its state:
 *
 *	int <svc>_<path>_emit(struct cube_state *st, const struct <svc>_<path>_state *s);
 *
 * A list's state struct is a whole entry: the keys of the entries above it,
 * its own keys, and every leaf of its own, configuration included (what a
 * learned entry has in place of configuration). A container's holds its
 * `config false` leaves. Every field is emitted but a string that is NULL or
 * a struct cb_ip of family 0 (the same holds for an action's output).
 * The emitters build a libyang tree of the cube's entry, so names, types and
 * canonical values come from the model; libcube turns it into the JSON the
 * broker merges into a read. Emitting an entry twice merges the two.
 */
#ifndef CUBEBUS_CUBEOP_H
#define CUBEBUS_CUBEOP_H

#include <stddef.h>
#include <stdint.h>
#include <json-c/json.h>
#include <libyang/libyang.h>

#include "cubecfg.h"

/* Signatures as the action table holds them. */
typedef int (*cubeop_decode_fn)(const struct lyd_node *op, void *in, char *err, size_t errlen);
typedef int (*cubeop_encode_fn)(struct lyd_node *op, const void *out, char *err, size_t errlen);
typedef int (*cubeop_run_fn)(void *cube, const void *in, void *out);

struct cubeop_action {
	const char *path; /* schema path, "/simplebridge:simplebridge/fdb/flush" */
	size_t in_size, out_size;
	cubeop_decode_fn decode;
	cubeop_encode_fn encode;
	cubeop_run_fn run;
};

struct cubeop_actions {
	const char *module; /* YANG module name */
	const struct cubeop_action *actions;
	size_t n_actions;
};

/*
 * Runs the action at path (relative to the cube's entry, as the broker
 * sends it: "fdb/flush", or "ports/p1/reset" below a list entry) of cube
 * name, with input (a JSON object of the input leaves, or NULL / "" for
 * none). ctx has the service's model; config, the cube's configuration tree
 * (NULL if none), is what input references are checked against. cube goes
 * to the handler. On success *output is a JSON object of the output leaves
 * (malloc'd), or NULL when the action has no output. Returns 0, -ENOENT
 * (no such action), -EINVAL (bad input, with the node and value in err) or
 * the handler's negative errno; err then has a sentence, which the handler
 * may have set (cube_fail) before failing.
 */
int cubeop_action_run(const struct cubeop_actions *a, void *cube, const struct ly_ctx *ctx, const char *name,
		      const struct lyd_node *config, const char *path, const char *input, char **output, char *err,
		      size_t errlen);

/* ---- state --------------------------------------------------------------- */

struct cube_state;

/*
 * A state to emit into: the entry of cube name of the top-level list of the
 * model (the generated <svc>_model; ctx has its module). NULL with a
 * sentence in err if the module is not in ctx. Sentences of a failing
 * emitter go to err (the first failure only).
 */
struct cube_state *cubeop_state_new(const struct ly_ctx *ctx, const struct cubecfg_model *model, const char *name,
				    char *err, size_t errlen);
void cubeop_state_destroy(struct cube_state **st);
/* The emitted state as libyang data: the cube's entry. Owned by st. */
const struct lyd_node *cubeop_state_tree(const struct cube_state *st);
/*
 * Adds what was emitted to out, a JSON object standing for the cube's
 * entry, as the broker takes it: node names without the module, integers as
 * JSON numbers, booleans as booleans, other values in their canonical text;
 * a list of the model's state_lists with no entry as [] (under a node that
 * was emitted). Returns 0 or the first error of an emitter.
 */
int cubeop_state_json(const struct cube_state *st, struct json_object *out);

/* Turns the children of a libyang node into members of out (see above). */
void cubeop_json_children(const struct lyd_node *parent, struct json_object *out);

/* ---- used by generated code ---------------------------------------------- */

/* The longest text of a value emitters write (an IPv6 prefix, a uint64). */
#define CUBEOP_VALUE_MAX 64

struct lyd_node *cubeop_state_top(struct cube_state *st);
/* The container name under parent, created if missing; NULL after an error. */
struct lyd_node *cubeop_state_inner(struct cube_state *st, struct lyd_node *parent, const char *name);
/* The entry of list name under parent with these key values (model order),
 * created if missing; NULL after an error. */
struct lyd_node *cubeop_state_entry(struct cube_state *st, struct lyd_node *parent, const char *name,
				    const char *const *keys, int n_keys);
/* Sets leaf name of parent to value (text; NULL: nothing). Returns 0 or
 * -EINVAL, the first error kept. */
int cubeop_leaf(struct cube_state *st, struct lyd_node *parent, const char *name, const char *value);
/* 0, or the first error since st was made. */
int cubeop_state_status(const struct cube_state *st);
/* The text of typed values, for the emitters and encoders. */
const char *cubeop_fmt_mac(char *buf, size_t size, const uint8_t mac[6]);
/* NULL for family 0 (no value). with_len: CUBEOP_IP_ADDR never ("10.0.0.1"), CUBEOP_IP_PREFIX always
 * ("10.0.0.0/24"), CUBEOP_IP_EITHER unless it is the whole address and was
 * not given with its length (a type that takes an address or a prefix:
 * "10.0.2.8" and "10.0.2.8/32" are two values of it). */
enum { CUBEOP_IP_ADDR, CUBEOP_IP_PREFIX, CUBEOP_IP_EITHER };
const char *cubeop_fmt_ip(char *buf, size_t size, const struct cb_ip *ip, int with_len);
const char *cubeop_fmt_in4(char *buf, size_t size, const struct in_addr *a);
const char *cubeop_fmt_in6(char *buf, size_t size, const struct in6_addr *a);
/* An action's output: leaves are written under op with the output flag. */
int cubeop_out_leaf(struct lyd_node *op, const char *name, const char *value, char *err, size_t errlen);

#endif
