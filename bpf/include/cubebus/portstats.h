/* SPDX-License-Identifier: Apache-2.0 */
/*
 * portstats.h - the counters of one cube port, as user space reads them
 * (broker, tests, benchmarks): the per-CPU sum of its slot. User space only.
 *
 * A hop makes two counter lookups: the sender counts tx on its out-port
 * (one lookup, undone if the tail call fails), the receiver rx on its
 * in-port. Counters are never reset while the cube lives: a new peer, a
 * transparent cube spliced in or out, a restart of the cube or of the
 * broker leave them counting.
 */
#ifndef CUBEBUS_PORTSTATS_H
#define CUBEBUS_PORTSTATS_H

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include "cubebus_shared.h"

/* The per-CPU sum of slot key of the stats map; 0 or -errno. */
static inline int cb_stats_sum(int stats_fd, int ncpu, __u32 key, struct cb_port_stats *out)
{
	struct cb_port_stats *v = calloc(ncpu > 0 ? ncpu : 1, sizeof(*v));
	int r = 0;

	memset(out, 0, sizeof(*out));
	if (!v)
		return -ENOMEM;
	if (bpf_map_lookup_elem(stats_fd, &key, v) == 0) {
		for (int i = 0; i < ncpu; i++) {
			out->rx_packets += v[i].rx_packets;
			out->rx_bytes += v[i].rx_bytes;
			out->tx_packets += v[i].tx_packets;
			out->tx_bytes += v[i].tx_bytes;
			out->drops += v[i].drops;
		}
	} else {
		r = -errno;
	}
	free(v);
	return r;
}

/* The counters of (cube, port). 0 or -errno. */
static inline int cb_port_stats_read(int links_fd, int stats_fd, int ncpu, __u32 cube, __u32 port,
				     struct cb_port_stats *out)
{
	(void)links_fd;
	if (cube >= CB_MAX_CUBES || port >= CB_MAX_PORTS)
		return -EINVAL;
	return cb_stats_sum(stats_fd, ncpu, CB_LINK_KEY(cube, port), out);
}

#endif
