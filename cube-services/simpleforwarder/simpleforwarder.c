/* SPDX-License-Identifier: Apache-2.0 */
/* simpleforwarder: the actions list, by typed handlers, as the per-in-port action table. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <bpf/bpf.h>

#include "cube.h"
#include "simpleforwarder_cfg.h"
#include "simpleforwarder_shared.h"
#include "simpleforwarder_tc.skel.h"
#include "simpleforwarder_xdp.skel.h"

#define SF_MAX_ACTIONS CB_MAX_PORTS /* one per in-port */

struct sf_rule {
	int used;
	char inport[64];
	char outport[64];
	__u32 action; /* SF_* */
};

struct sf_priv {
	__u64 slowpath_packets;
	struct sf_rule actions[SF_MAX_ACTIONS];
};

/*
 * Actions are kept by in-port name: an action may name ports that do not
 * exist yet (scripts add actions and ports in any order). The map holds, per
 * in-port index, the action of the ports that exist; an action whose out-port
 * does not exist yet is DROP until it does.
 */
static void sf_resolve(struct cube *c, const struct sf_rule *a, struct sf_entry *e)
{
	int out = a->outport[0] ? cube_port_index(c, a->outport) : -1;

	e->action = a->action;
	if (e->action == SF_FORWARD && out < 0)
		e->action = SF_DROP;
	e->outport = out < 0 ? 0 : out;
}

/* Rewrites the whole map from the actions: after a change of the ports. */
static int sf_write_all(struct cube *c, char *err, size_t errlen)
{
	struct sf_priv *p = cube_priv(c);
	struct sf_entry table[CB_MAX_PORTS] = { 0 };
	int fd = cube_map_fd(c, "sf_actions");

	for (int i = 0; i < SF_MAX_ACTIONS; i++) {
		int in;

		if (!p->actions[i].used)
			continue;
		in = cube_port_index(c, p->actions[i].inport);
		if (in >= 0)
			sf_resolve(c, &p->actions[i], &table[in]);
	}
	for (__u32 i = 0; i < CB_MAX_PORTS; i++) {
		if (bpf_map_update_elem(fd, &i, &table[i], BPF_ANY) < 0) {
			int r = -errno;

			snprintf(err, errlen, "cannot write action of port %u: %s", i, strerror(-r));
			return r;
		}
	}
	return 0;
}

static int sf_ports_changed(struct cube *c, char *err, size_t errlen)
{
	return sf_write_all(c, err, errlen);
}

static struct sf_rule *sf_find(struct sf_priv *p, const char *inport, int create)
{
	struct sf_rule *free_slot = NULL;

	for (int i = 0; i < SF_MAX_ACTIONS; i++) {
		if (p->actions[i].used && !strcmp(p->actions[i].inport, inport))
			return &p->actions[i];
		if (!p->actions[i].used && !free_slot)
			free_slot = &p->actions[i];
	}
	return create ? free_slot : NULL;
}

/* Writes the map entry of one in-port (if it exists). */
static int sf_write_one(struct cube *c, const char *inport, const struct sf_rule *a)
{
	struct sf_entry e = { .action = SF_DROP };
	int in = cube_port_index(c, inport);
	__u32 key;

	if (in < 0)
		return 0;
	if (a)
		sf_resolve(c, a, &e);
	key = in;
	if (bpf_map_update_elem(cube_map_fd(c, "sf_actions"), &key, &e, BPF_ANY) < 0) {
		int r = -errno;

		cube_log(c, LOG_ERR, "cannot write the action of %s: %s", inport, strerror(-r));
		return r;
	}
	return 0;
}

static __u32 sf_action_of(enum simpleforwarder_actions_action a)
{
	switch (a) {
	case SIMPLEFORWARDER_ACTIONS_ACTION_FORWARD: return SF_FORWARD;
	case SIMPLEFORWARDER_ACTIONS_ACTION_SLOWPATH: return SF_SLOWPATH;
	case SIMPLEFORWARDER_ACTIONS_ACTION_DROP: break;
	}
	return SF_DROP;
}

/* The typed handlers of the model (simpleforwarder_cfg.h). */
int simpleforwarder_actions_create(struct cube *c, const struct simpleforwarder_actions *new)
{
	struct sf_rule *a = sf_find(cube_priv(c), new->inport, 1);

	/* the model allows one action per port, at most CB_MAX_PORTS */
	if (!a || strlen(new->inport) >= sizeof(a->inport) ||
	    (new->outport &&strlen(new->outport) >= sizeof(a->outport)))
		return -ENOSPC;
	memset(a, 0, sizeof(*a));
	a->used = 1;
	snprintf(a->inport, sizeof(a->inport), "%s", new->inport);
	snprintf(a->outport, sizeof(a->outport), "%s", new->outport ? new->outport : "");
	a->action = sf_action_of(new->action);
	return sf_write_one(c, a->inport, a);
}

int simpleforwarder_actions_update(struct cube *c, const struct simpleforwarder_actions *old,
				   const struct simpleforwarder_actions *new)
{
	return simpleforwarder_actions_create(c, new);
}

int simpleforwarder_actions_delete(struct cube *c, const struct simpleforwarder_actions *old)
{
	struct sf_rule *a = sf_find(cube_priv(c), old->inport, 0);

	if (a)
		a->used = 0;
	return sf_write_one(c, old->inport, NULL);
}

static void sf_pktin(struct cube *c, const struct cb_pktin_hdr *h, const void *frame, size_t len)
{
	struct sf_priv *p = cube_priv(c);

	p->slowpath_packets++;
}

static int sf_read(struct cube *c, struct json_object *out, char *err, size_t errlen)
{
	struct sf_priv *p = cube_priv(c);

	json_object_object_add(out, "slowpath-packets", json_object_new_int64(p->slowpath_packets));
	return 0;
}

static const struct cube_ops simpleforwarder_ops = {
	.service = "simpleforwarder",
	CUBE_PROGRAMS(simpleforwarder),
	.model = &simpleforwarder_model,
	.ports_changed = sf_ports_changed,
	.read = sf_read,
	.pktin = sf_pktin,
	.priv_size = sizeof(struct sf_priv),
};

int main(int argc, char **argv)
{
	return cube_main(argc, argv, &simpleforwarder_ops);
}
