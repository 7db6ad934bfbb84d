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

struct sf_priv {
	__u64 slowpath_packets;
};

/*
 * The map holds, per in-port index, the action of the ports that exist. An
 * action may name ports that do not exist yet (scripts add actions and ports
 * in any order): one whose out-port does not exist yet is DROP until it does.
 */
static struct sf_entry sf_resolve(struct cube *c, const struct simpleforwarder_actions *a)
{
	struct sf_entry e = { .action = SF_DROP };
	int out = a->outport ? cube_port_index(c, a->outport) : -1;

	switch (a->action) {
	case SIMPLEFORWARDER_ACTIONS_ACTION_FORWARD: e.action = out < 0 ? SF_DROP : SF_FORWARD; break;
	case SIMPLEFORWARDER_ACTIONS_ACTION_SLOWPATH: e.action = SF_SLOWPATH; break;
	case SIMPLEFORWARDER_ACTIONS_ACTION_DROP: break;
	}
	e.outport = out < 0 ? 0 : out;
	return e;
}

/* Writes the map entry of in-port name (if it exists): a's action, or DROP. */
static int sf_write(struct cube *c, const char *inport, const struct simpleforwarder_actions *a)
{
	struct sf_entry e = { .action = SF_DROP };
	int in = cube_port_index(c, inport);
	__u32 key;

	if (in < 0)
		return 0;
	if (a)
		e = sf_resolve(c, a);
	key = in;
	if (bpf_map_update_elem(cube_map_fd(c, "sf_actions"), &key, &e, BPF_ANY) < 0) {
		int r = -errno;

		cube_fail(c, "cannot write the action of %s: %s", inport, strerror(-r));
		return r;
	}
	return 0;
}

struct sf_table {
	struct cube *c;
	struct sf_entry e[CB_MAX_PORTS];
};

static int sf_collect(const struct simpleforwarder_actions *a, void *arg)
{
	struct sf_table *t = arg;
	int in = cube_port_index(t->c, a->inport);

	if (in >= 0)
		t->e[in] = sf_resolve(t->c, a);
	return 0;
}

/*
 * The ports moved: every in-port's entry again, from the actions applied so
 * far (the change's own actions follow through the handlers). Before the
 * first configuration there is nothing to resolve: the handlers write it
 * all, and the entries a restarted process finds stay until they do.
 */
static int sf_ports_changed(struct cube *c, char *err, size_t errlen)
{
	struct sf_table t = { .c = c };
	int fd = cube_map_fd(c, "sf_actions");

	if (!cube_config(c))
		return 0;
	simpleforwarder_actions_foreach(cube_config(c), sf_collect, &t);
	for (__u32 i = 0; i < CB_MAX_PORTS; i++) {
		if (bpf_map_update_elem(fd, &i, &t.e[i], BPF_ANY) < 0) {
			int r = -errno;

			snprintf(err, errlen, "cannot write action of port %u: %s", i, strerror(-r));
			return r;
		}
	}
	return 0;
}

/* The typed handlers of the model (simpleforwarder_cfg.h). */
int simpleforwarder_actions_create(struct cube *c, const struct simpleforwarder_actions *new)
{
	return sf_write(c, new->inport, new);
}

int simpleforwarder_actions_update(struct cube *c, const struct simpleforwarder_actions *old,
				   const struct simpleforwarder_actions *new)
{
	return sf_write(c, new->inport, new);
}

int simpleforwarder_actions_delete(struct cube *c, const struct simpleforwarder_actions *old)
{
	return sf_write(c, old->inport, NULL);
}

static void sf_pktin(struct cube *c, const struct cb_pktin_hdr *h, const void *frame, size_t len)
{
	struct sf_priv *p = cube_priv(c);

	p->slowpath_packets++;
}

static int sf_state(struct cube *c, struct cube_state *st)
{
	struct sf_priv *p = cube_priv(c);

	return simpleforwarder_cube_emit(
		st, &(struct simpleforwarder_cube_state){ .slowpath_packets = p->slowpath_packets });
}

static const struct cube_ops simpleforwarder_ops = {
	.service = "simpleforwarder",
	CUBE_PROGRAMS(simpleforwarder),
	.model = &simpleforwarder_model,
	.ports_changed = sf_ports_changed,
	.state = sf_state,
	.pktin = sf_pktin,
	.priv_size = sizeof(struct sf_priv),
};

int main(int argc, char **argv)
{
	return cube_main(argc, argv, &simpleforwarder_ops);
}
