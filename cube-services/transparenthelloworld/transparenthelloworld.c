/* SPDX-License-Identifier: Apache-2.0 */
/*
 * transparenthelloworld: the action of each direction goes to the fast
 * path; packets sent to the slow path (an action SLOWPATH) are logged and
 * counted here, and go no further. The cube has no ports of its own: the
 * broker links its two (cube.bpf.h, CUBE_TRANSPARENT) when it attaches it.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <linux/if_ether.h>
#include <bpf/bpf.h>

#include "cube.h"
#include "transparenthelloworld_cfg.h"
#include "transparenthelloworld_shared.h"
#include "transparenthelloworld_tc.skel.h"
#include "transparenthelloworld_xdp.skel.h"

/* A sender decides how many packets reach us: one log line a second at most. */
#define THW_LOG_INTERVAL_MS 1000

struct thw_priv {
	__u64 slowpath_packets;
	uint64_t last_log_ms;
	__u64 unlogged; /* packets since the last line */
};

static uint64_t thw_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static __u32 thw_ingress_action(enum transparenthelloworld_cube_ingress_action a)
{
	switch (a) {
	case TRANSPARENTHELLOWORLD_CUBE_INGRESS_ACTION_DROP: return THW_DROP;
	case TRANSPARENTHELLOWORLD_CUBE_INGRESS_ACTION_SLOWPATH: return THW_SLOWPATH;
	case TRANSPARENTHELLOWORLD_CUBE_INGRESS_ACTION_PASS: break;
	}
	return THW_PASS;
}

static __u32 thw_egress_action(enum transparenthelloworld_cube_egress_action a)
{
	switch (a) {
	case TRANSPARENTHELLOWORLD_CUBE_EGRESS_ACTION_DROP: return THW_DROP;
	case TRANSPARENTHELLOWORLD_CUBE_EGRESS_ACTION_SLOWPATH: return THW_SLOWPATH;
	case TRANSPARENTHELLOWORLD_CUBE_EGRESS_ACTION_PASS: break;
	}
	return THW_PASS;
}

static int thw_write(struct cube *c, __u32 ingress, __u32 egress)
{
	__u32 act[THW_NDIRS] = { [THW_INGRESS] = ingress, [THW_EGRESS] = egress };
	int fd = cube_map_fd(c, "thw_actions");

	for (__u32 dir = 0; dir < THW_NDIRS; dir++) {
		if (bpf_map_update_elem(fd, &dir, &act[dir], BPF_ANY) < 0) {
			int r = -errno;

			cube_log(c, LOG_ERR, "cannot write the transparenthelloworld actions: %s", strerror(-r));
			return r;
		}
	}
	return 0;
}

/* The typed handlers of the model (transparenthelloworld_cfg.h): the cube's own leaves. */
int transparenthelloworld_cube_create(struct cube *c, const struct transparenthelloworld_cube *new)
{
	return thw_write(c, thw_ingress_action(new->ingress_action), thw_egress_action(new->egress_action));
}

int transparenthelloworld_cube_update(struct cube *c, const struct transparenthelloworld_cube *old,
				      const struct transparenthelloworld_cube *new)
{
	return transparenthelloworld_cube_create(c, new);
}

/* Back to the model's defaults: the cube lets everything through. */
int transparenthelloworld_cube_delete(struct cube *c, const struct transparenthelloworld_cube *old)
{
	return thw_write(c, THW_PASS, THW_PASS);
}

static void thw_pktin(struct cube *c, const struct cb_pktin_hdr *h, const void *frame, size_t len)
{
	struct thw_priv *p = cube_priv(c);
	const char *dir = h->in_port == THW_INGRESS ? "ingress" : "egress";
	unsigned char e[ETH_HLEN] = { 0 }; /* a runt frame logs zeros */
	uint64_t now = thw_now_ms();

	p->slowpath_packets++;
	if (p->last_log_ms && now - p->last_log_ms < THW_LOG_INTERVAL_MS) {
		p->unlogged++;
		return;
	}
	memcpy(e, frame, len < ETH_HLEN ? len : ETH_HLEN);
	cube_log(c, LOG_INFO,
		 "slow path: %zu bytes %s, %02x:%02x:%02x:%02x:%02x:%02x -> %02x:%02x:%02x:%02x:%02x:%02x "
		 "ethertype 0x%04x; not forwarded (%llu more since the last line, %llu in all)",
		 len, dir, e[6], e[7], e[8], e[9], e[10], e[11], e[0], e[1], e[2], e[3], e[4], e[5], e[12] << 8 | e[13],
		 (unsigned long long)p->unlogged, (unsigned long long)p->slowpath_packets);
	p->last_log_ms = now;
	p->unlogged = 0;
}

static int thw_state(struct cube *c, struct cube_state *st)
{
	struct thw_priv *p = cube_priv(c);

	return transparenthelloworld_cube_emit(
		st, &(struct transparenthelloworld_cube_state){ .slowpath_packets = p->slowpath_packets });
}

static const struct cube_ops transparenthelloworld_ops = {
	.service = "transparenthelloworld",
	CUBE_PROGRAMS(transparenthelloworld),
	.model = &transparenthelloworld_model,
	.state = thw_state,
	.pktin = thw_pktin,
	.priv_size = sizeof(struct thw_priv),
};

int main(int argc, char **argv)
{
	return cube_main(argc, argv, &transparenthelloworld_ops);
}
