/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cubecfg - typed configuration for services, the run-time half of the code
 * that cubebus-gen (cube-services/lib/gen/) generates from a service's YANG
 * model.
 *
 * For every list and container of the model that holds configuration of the
 * service's own, the generator emits a C struct with typed fields (addresses
 * and prefixes in binary, MACs as bytes, enums as C enums, integers as
 * fixed-width integers), a decoder from a libyang data node, and three handler
 * prototypes the service implements:
 *
 *	int <svc>_<node>_create(struct cube *c, const struct <svc>_<node> *new);
 *	int <svc>_<node>_update(struct cube *c, const struct <svc>_<node> *old,
 *				const struct <svc>_<node> *new);
 *	int <svc>_<node>_delete(struct cube *c, const struct <svc>_<node> *old);
 *
 * A handler the model needs and the service lacks is an undefined symbol at
 * link time: a build error that names it. Structs of nested list entries
 * carry the keys of the entries above them (<parent>_<key>). Pointers in a
 * decoded struct (strings) point into the configuration tree and are valid
 * during the handler call only.
 *
 * cubecfg_apply() turns the difference between a cube's old and new
 * configuration tree into handler calls: deletions first, deepest first, then
 * creations and updates, parents first. A cube that starts gets its whole
 * configuration as creations, through the same handlers. A handler that fails
 * makes cubecfg_apply() undo, in reverse order, the calls already made
 * (create <-> delete, update(old, new) -> update(new, old)) and return its
 * error.
 *
 * The same generated header has the model's actions and state emitters;
 * their run-time half is cubeop.h.
 */
#ifndef CUBEBUS_CUBECFG_H
#define CUBEBUS_CUBECFG_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <libyang/libyang.h>

/* An IPv4 or IPv6 address, or a prefix (len > 0, or a /0 prefix). */
struct cb_ip {
	uint8_t family; /* AF_INET or AF_INET6 */
	uint8_t len;	/* prefix length; 32 / 128 for an address */
	/* the text gave the length ("10.0.2.8/32"): a type of addresses or
	 * prefixes writes it back so, which is how the entry is keyed */
	bool with_len;
	union {
		struct in_addr v4;
		struct in6_addr v6;
		uint8_t bytes[16];
	};
};

/* Parses "A.B.C.D", "A.B.C.D/LEN" (with_len set), IPv6 likewise. 0 or -EINVAL. */
int cubecfg_parse_ip(const char *s, struct cb_ip *out);
/*
 * What a decoder says of a value libyang accepted and the C type cannot
 * hold (leaf: value ...), in err; returns -EINVAL. An address with a zone
 * (fe80::1%eth0) is the case the models allow: no service takes zones.
 */
int cubecfg_bad_value(char *err, size_t errlen, const char *leaf, const char *value);
/* Parses "aa:bb:cc:dd:ee:ff" (either case). 0 or -EINVAL. */
int cubecfg_parse_mac(const char *s, uint8_t mac[6]);

/* Decoder and handler signatures as the dispatch table holds them. */
typedef int (*cubecfg_decode_fn)(const struct lyd_node *n, void *out, char *err, size_t errlen);
typedef int (*cubecfg_create_fn)(void *cube, const void *new);
typedef int (*cubecfg_update_fn)(void *cube, const void *old, const void *new);
typedef int (*cubecfg_delete_fn)(void *cube, const void *old);

struct cubecfg_node {
	const char *path; /* schema path, "/simplebridge:simplebridge/fdb/entry" */
	size_t size;	  /* of the decoded struct */
	cubecfg_decode_fn decode;
	cubecfg_create_fn create;
	cubecfg_update_fn update;
	cubecfg_delete_fn del;
};

struct cubecfg_model {
	const char *module; /* YANG module name */
	const struct cubecfg_node *nodes;
	size_t n_nodes;
	/* The lists of the service's own that hold state (cubeop.h): a read
	 * lists them, [] when no entry was emitted. Schema paths. */
	const char *const *state_lists;
	size_t n_state_lists;
};

/*
 * Calls the handlers of model m for what differs between old and new (each
 * the data tree of one cube's configuration, the entry of the service's
 * top-level list; either may be NULL: NULL old is a cube starting, NULL new
 * a cube going away). cube is passed to the handlers. Returns 0, or the
 * failing handler's negative errno after undoing what was done, with a
 * sentence in err.
 */
int cubecfg_apply(const struct cubecfg_model *m, void *cube, const struct lyd_node *old, const struct lyd_node *new,
		  char *err, size_t errlen);

/* Used by generated decoders. */
/*
 * The same calls for a change given as a libyang diff (yang:operation
 * metadata, as lyd_diff_siblings makes it) of the applied configuration
 * *tree, in time proportional to the diff: the entries it touches are
 * copied as they are and built as they will be, the handlers are called
 * with them (*tree stays the applied configuration meanwhile), then the
 * diff is applied to *tree. On failure the calls made are undone and *tree
 * is as before. -ESTALE without a tree. Strings in the decoded entries are
 * valid for the call only.
 */
int cubecfg_apply_diff(const struct cubecfg_model *m, void *cube, struct lyd_node **tree, const struct lyd_node *diff,
		       char *err, size_t errlen);
const struct lyd_node *cubecfg_child(const struct lyd_node *n, const char *module, const char *name);
const struct lyd_node *cubecfg_ancestor(const struct lyd_node *n, int up);

#endif
