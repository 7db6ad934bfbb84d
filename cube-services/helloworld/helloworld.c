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
#include "helloworld_shared.h"
#include "helloworld_tc.skel.h"
#include "helloworld_xdp.skel.h"

/* A sender decides how many packets reach us: one log line a second at most. */
#define HW_LOG_INTERVAL_MS 1000

struct hw_priv {
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

static struct bpf_object *hw_open(void **skel, int xdp)
{
	if (xdp) {
		struct helloworld_xdp *s = helloworld_xdp__open();

		*skel = s;
		return s ? s->obj : NULL;
	}
	struct helloworld_tc *s = helloworld_tc__open();

	*skel = s;
	return s ? s->obj : NULL;
}

static int hw_load(void *skel, int xdp)
{
	return xdp ? helloworld_xdp__load(skel) : helloworld_tc__load(skel);
}

static void hw_destroy(void *skel, int xdp)
{
	if (xdp)
		helloworld_xdp__destroy(skel);
	else
		helloworld_tc__destroy(skel);
}

static void hw_collect_port(struct cube *c, const char *name, int index, void *arg)
{
	struct hw_conf *conf = arg;

	if (conf->port[0] == HW_NO_PORT)
		conf->port[0] = index;
	else if (conf->port[1] == HW_NO_PORT)
		conf->port[1] = index;
}

static int hw_apply(struct cube *c, struct json_object *cfg, char *err, size_t errlen)
{
	const char *action = cube_json_str(cfg, "action", "DROP");
	struct hw_conf conf = { .action = HW_DROP, .port = { HW_NO_PORT, HW_NO_PORT } };
	__u32 zero = 0;
	int fd = cube_is_xdp(c) ? bpf_map__fd(((struct helloworld_xdp *)cube_skel(c))->maps.hw_conf)
				: bpf_map__fd(((struct helloworld_tc *)cube_skel(c))->maps.hw_conf);

	if (!strcmp(action, "FORWARD"))
		conf.action = HW_FORWARD;
	else if (!strcmp(action, "SLOWPATH"))
		conf.action = HW_SLOWPATH;
	cube_port_foreach(c, hw_collect_port, &conf);
	if (bpf_map_update_elem(fd, &zero, &conf, BPF_ANY) < 0) {
		snprintf(err, errlen, "cannot write the helloworld configuration: %s", strerror(errno));
		return -errno;
	}
	return 0;
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

static int hw_read(struct cube *c, struct json_object *out, char *err, size_t errlen)
{
	struct hw_priv *p = cube_priv(c);

	json_object_object_add(out, "slowpath-packets", json_object_new_int64(p->slowpath_packets));
	return 0;
}

static const struct cube_ops helloworld_ops = {
	.service = "helloworld",
	.open = hw_open,
	.load = hw_load,
	.destroy = hw_destroy,
	.apply = hw_apply,
	.read = hw_read,
	.pktin = hw_pktin,
	.priv_size = sizeof(struct hw_priv),
};

int main(int argc, char **argv)
{
	return cube_main(argc, argv, &helloworld_ops);
}
