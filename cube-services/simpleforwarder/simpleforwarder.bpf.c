/* SPDX-License-Identifier: Apache-2.0 */
/* simpleforwarder fast path: one action per in-port (drop, slow path, forward). */
#include "cubebus/cube.bpf.h"
#include "simpleforwarder_shared.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, CB_MAX_PORTS);
	__type(key, __u32);
	__type(value, struct sf_entry);
} sf_actions SEC(".maps");

static __always_inline int handle_rx(struct cube_ctx *ctx, struct cb_md *md)
{
	__u32 key = md->in_port;
	struct sf_entry *e = bpf_map_lookup_elem(&sf_actions, &key);

	if (!e || e->action == SF_DROP)
		return cube_drop(ctx, md);
	if (e->action == SF_SLOWPATH)
		return cube_slowpath(ctx, md, CB_REASON_SERVICE);
	return cube_redirect(ctx, md, e->outport);
}
