/* SPDX-License-Identifier: Apache-2.0 */
/*
 * synflood fast path: a monitor whose figures come from the kernel's own
 * counters (synflood.c), so attached anywhere it lets every packet go on
 * its way.
 */
#define CUBE_TRANSPARENT
#include "cubebus/cube.bpf.h"
#include "synflood_shared.h"

static __always_inline int handle_rx(struct cube_ctx *ctx, struct cb_md *md)
{
	if (md->in_port > CUBE_PORT_OUTER)
		return cube_drop(ctx, md); /* a transparent cube has two ports */
	return cube_pass(ctx, md);
}
