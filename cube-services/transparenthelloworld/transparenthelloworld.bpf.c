/* SPDX-License-Identifier: Apache-2.0 */
/*
 * transparenthelloworld fast path: each direction of the port the cube is
 * attached to passes, drops, or sends every packet to its process (which
 * logs and counts it, and forwards nothing).
 */
#define CUBE_TRANSPARENT
#include "cubebus/cube.bpf.h"
#include "transparenthelloworld_shared.h"

/* enum thw_action, by enum thw_dir. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, THW_NDIRS);
	__type(key, __u32);
	__type(value, __u32);
} thw_actions SEC(".maps");

static __always_inline int handle_rx(struct cube_ctx *ctx, struct cb_md *md)
{
	__u32 dir = cube_is_ingress(md) ? THW_INGRESS : THW_EGRESS;
	__u32 *act;

	cube_log(md, CB_LOG_TRACE, "rx port", md->in_port, cube_len(ctx));
	if (md->in_port > CUBE_PORT_OUTER)
		return cube_drop(ctx, md); /* a transparent cube has two ports */
	act = bpf_map_lookup_elem(&thw_actions, &dir);
	if (!act || *act == THW_PASS)
		return cube_pass(ctx, md);
	if (*act == THW_SLOWPATH) {
		cube_log(md, CB_LOG_DEBUG, "to slow path");
		return cube_slowpath(ctx, md, CB_REASON_SERVICE);
	}
	return cube_drop(ctx, md);
}
