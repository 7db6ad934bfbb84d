/* SPDX-License-Identifier: Apache-2.0 */
/* simpleforwarder: turns the actions list into the per-in-port action table. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <bpf/bpf.h>

#include "cube.h"
#include "simpleforwarder_shared.h"
#include "simpleforwarder_tc.skel.h"
#include "simpleforwarder_xdp.skel.h"

struct sf_priv {
	__u64 slowpath_packets;
};

static struct bpf_object *sf_open(void **skel, int xdp)
{
	if (xdp) {
		struct simpleforwarder_xdp *s = simpleforwarder_xdp__open();

		*skel = s;
		return s ? s->obj : NULL;
	}
	struct simpleforwarder_tc *s = simpleforwarder_tc__open();

	*skel = s;
	return s ? s->obj : NULL;
}

static int sf_load(void *skel, int xdp)
{
	return xdp ? simpleforwarder_xdp__load(skel) : simpleforwarder_tc__load(skel);
}

static void sf_destroy(void *skel, int xdp)
{
	if (xdp)
		simpleforwarder_xdp__destroy(skel);
	else
		simpleforwarder_tc__destroy(skel);
}

static const struct {
	const char *name;
	__u32 action;
} sf_action_names[] = { { "DROP", SF_DROP }, { "SLOWPATH", SF_SLOWPATH }, { "FORWARD", SF_FORWARD } };

/* Actions name ports that may not exist yet: those stay DROP until they do. */
static int sf_apply(struct cube *c, struct json_object *cfg, char *err, size_t errlen)
{
	struct sf_entry table[CB_MAX_PORTS] = { 0 };
	struct json_object *actions = NULL;
	int fd = cube_is_xdp(c) ? bpf_map__fd(((struct simpleforwarder_xdp *)cube_skel(c))->maps.sf_actions)
				: bpf_map__fd(((struct simpleforwarder_tc *)cube_skel(c))->maps.sf_actions);

	if (cfg && json_object_object_get_ex(cfg, "actions", &actions)) {
		for (size_t i = 0; i < json_object_array_length(actions); i++) {
			struct json_object *a = json_object_array_get_idx(actions, i);
			const char *act = cube_json_str(a, "action", "DROP");
			int in = cube_port_index(c, cube_json_str(a, "inport", ""));
			int out = cube_port_index(c, cube_json_str(a, "outport", ""));
			struct sf_entry e = { .action = SF_DROP };

			for (size_t k = 0; k < sizeof(sf_action_names) / sizeof(sf_action_names[0]); k++)
				if (!strcmp(act, sf_action_names[k].name))
					e.action = sf_action_names[k].action;
			if (in < 0)
				continue;
			if (e.action == SF_FORWARD && out < 0)
				e.action = SF_DROP;
			e.outport = out < 0 ? 0 : out;
			table[in] = e;
		}
	}
	for (__u32 i = 0; i < CB_MAX_PORTS; i++) {
		if (bpf_map_update_elem(fd, &i, &table[i], BPF_ANY) < 0) {
			snprintf(err, errlen, "cannot write action of port %u: %s", i, strerror(errno));
			return -errno;
		}
	}
	return 0;
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
	.open = sf_open,
	.load = sf_load,
	.destroy = sf_destroy,
	.apply = sf_apply,
	.read = sf_read,
	.pktin = sf_pktin,
	.priv_size = sizeof(struct sf_priv),
};

int main(int argc, char **argv)
{
	return cube_main(argc, argv, &simpleforwarder_ops);
}
