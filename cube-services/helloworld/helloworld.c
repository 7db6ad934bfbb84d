/* SPDX-License-Identifier: Apache-2.0 */
/*
 * helloworld: the action and its two ports go to the fast path; packets
 * sent to the slow path (action SLOWPATH) are logged and counted here, and
 * go no further: forwarding is what FORWARD does.
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
#include "helloworld_cfg.h"
#include "helloworld_shared.h"
#include "helloworld_tc.skel.h"
#include "helloworld_xdp.skel.h"

/* A sender decides how many packets reach us: one log line a second at most. */
#define HW_LOG_INTERVAL_MS 1000

struct hw_priv {
	__u32 action; /* enum hw_action */
	__u64 slowpath_packets;
	uint64_t last_log_ms;
	__u64 unlogged; /* packets since the last line */
};

static uint64_t hw_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The fast path's configuration: the action, and the first two ports. */
static void hw_collect_port(struct cube *c, const char *name, int index, void *arg)
{
	struct hw_conf *conf = arg;

	if (conf->port[0] == HW_NO_PORT)
		conf->port[0] = index;
	else if (conf->port[1] == HW_NO_PORT)
		conf->port[1] = index;
}

static int hw_write(struct cube *c)
{
	struct hw_priv *p = cube_priv(c);
	struct hw_conf conf = { .action = p->action, .port = { HW_NO_PORT, HW_NO_PORT } };
	__u32 zero = 0;

	cube_port_foreach(c, hw_collect_port, &conf);
	if (bpf_map_update_elem(cube_map_fd(c, "hw_conf"), &zero, &conf, BPF_ANY) < 0) {
		int r = -errno;

		cube_log(c, LOG_ERR, "cannot write the helloworld configuration: %s", strerror(-r));
		return r;
	}
	return 0;
}

static __u32 hw_action_of(enum helloworld_cube_action a)
{
	switch (a) {
	case HELLOWORLD_CUBE_ACTION_FORWARD: return HW_FORWARD;
	case HELLOWORLD_CUBE_ACTION_SLOWPATH: return HW_SLOWPATH;
	case HELLOWORLD_CUBE_ACTION_DROP: break;
	}
	return HW_DROP;
}

/* The typed handlers of the model (helloworld_cfg.h): the cube's own leaf. */
int helloworld_cube_create(struct cube *c, const struct helloworld_cube *new)
{
	struct hw_priv *p = cube_priv(c);

	p->action = hw_action_of(new->action);
	return hw_write(c);
}

int helloworld_cube_update(struct cube *c, const struct helloworld_cube *old, const struct helloworld_cube *new)
{
	return helloworld_cube_create(c, new);
}

int helloworld_cube_delete(struct cube *c, const struct helloworld_cube *old)
{
	struct hw_priv *p = cube_priv(c);

	p->action = HW_DROP;
	return hw_write(c);
}

static int hw_ports_changed(struct cube *c, char *err, size_t errlen)
{
	int r = hw_write(c);

	if (r < 0)
		snprintf(err, errlen, "cannot write the helloworld configuration: %s", strerror(-r));
	return r;
}

static void hw_pktin(struct cube *c, const struct cb_pktin_hdr *h, const void *frame, size_t len)
{
	struct hw_priv *p = cube_priv(c);
	const char *port = cube_port_name(c, h->in_port);
	unsigned char e[ETH_HLEN] = { 0 }; /* a runt frame logs zeros */
	uint64_t now = hw_now_ms();

	p->slowpath_packets++;
	if (p->last_log_ms && now - p->last_log_ms < HW_LOG_INTERVAL_MS) {
		p->unlogged++;
		return;
	}
	memcpy(e, frame, len < ETH_HLEN ? len : ETH_HLEN);
	cube_log(c, LOG_INFO,
		 "slow path: %zu bytes in on port %s, %02x:%02x:%02x:%02x:%02x:%02x -> %02x:%02x:%02x:%02x:%02x:%02x "
		 "ethertype 0x%04x; not forwarded (%llu more since the last line, %llu in all)",
		 len, port ? port : "?", e[6], e[7], e[8], e[9], e[10], e[11], e[0], e[1], e[2], e[3], e[4], e[5],
		 e[12] << 8 | e[13], (unsigned long long)p->unlogged, (unsigned long long)p->slowpath_packets);
	p->last_log_ms = now;
	p->unlogged = 0;
}

static int hw_state(struct cube *c, struct cube_state *st)
{
	struct hw_priv *p = cube_priv(c);

	return helloworld_cube_emit(st, &(struct helloworld_cube_state){ .slowpath_packets = p->slowpath_packets });
}

static const struct cube_ops helloworld_ops = {
	.service = "helloworld",
	CUBE_PROGRAMS(helloworld),
	.model = &helloworld_model,
	.ports_changed = hw_ports_changed,
	.state = hw_state,
	.pktin = hw_pktin,
	.priv_size = sizeof(struct hw_priv),
};

int main(int argc, char **argv)
{
	return cube_main(argc, argv, &helloworld_ops);
}
