/* SPDX-License-Identifier: Apache-2.0 */
/*
 * helloworld fast path: drop, forward between its two ports, or send every
 * packet to its process (which logs and counts it, and forwards nothing).
 */
#include "cubebus/cube.bpf.h"
#include "helloworld_shared.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct hw_conf);
} hw_conf SEC(".maps");

static __always_inline int handle_rx(struct cube_ctx *ctx, struct cb_md *md)
{
	__u32 zero = 0;
	struct hw_conf *c = bpf_map_lookup_elem(&hw_conf, &zero);

	cube_log(md, CB_LOG_TRACE, "rx port", md->in_port, cube_len(ctx));
	if (!c || c->action == HW_DROP)
		return cube_drop(ctx, md);
	if (c->action == HW_SLOWPATH) {
		cube_log(md, CB_LOG_DEBUG, "to slow path");
		return cube_slowpath(ctx, md, CB_REASON_SERVICE);
	}
	if (md->in_port == c->port[0] && c->port[1] != HW_NO_PORT) {
		cube_log(md, CB_LOG_DEBUG, "forward to port", c->port[1]);
		return cube_redirect(ctx, md, c->port[1]);
	}
	if (md->in_port == c->port[1] && c->port[0] != HW_NO_PORT) {
		cube_log(md, CB_LOG_DEBUG, "forward to port", c->port[0]);
		return cube_redirect(ctx, md, c->port[0]);
	}
	return cube_drop(ctx, md);
}
