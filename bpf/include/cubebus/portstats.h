/* SPDX-License-Identifier: Apache-2.0 */
/*
 * portstats.h - the counters of one cube port, as user space reads them
 * (broker, tests, benchmarks). User space only.
 *
 * The fast path counts a packet once per hop: the cube that receives it
 * counts rx on its in-port, the sender counts nothing (DESIGN §3.2 asks
 * for one lookup per hop). So the tx of a port whose peer is a cube is the
 * rx of the peer's port; a port linked to a netdev counts its own tx. The
 * broker zeroes a port's counters when its link changes (stats count from
 * the moment a port got its current peer), so the two always cover the
 * same packets.
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

/* The counters of (cube, port): its own, with tx read off the peer when
 * the peer is a cube. 0 or -errno. */
static inline int cb_port_stats_read(int links_fd, int stats_fd, int ncpu, __u32 cube, __u32 port,
				     struct cb_port_stats *out)
{
	__u32 key = CB_LINK_KEY(cube, port), pkey;
	struct cb_link l = { 0 }, back = { 0 };
	struct cb_port_stats peer;
	int r;

	if (cube >= CB_MAX_CUBES || port >= CB_MAX_PORTS)
		return -EINVAL;
	r = cb_stats_sum(stats_fd, ncpu, key, out);
	if (r < 0)
		return r;
	if (bpf_map_lookup_elem(links_fd, &key, &l) || l.kind != CB_LINK_CUBE || l.peer_cube >= CB_MAX_CUBES ||
	    l.peer_port >= CB_MAX_PORTS)
		return 0;
	/* only a link both ends agree on: the peer's in-port counts what
	 * this port sends, and nothing else */
	pkey = CB_LINK_KEY(l.peer_cube, l.peer_port);
	if (bpf_map_lookup_elem(links_fd, &pkey, &back) || back.kind != CB_LINK_CUBE || back.peer_cube != cube ||
	    back.peer_port != port || cb_stats_sum(stats_fd, ncpu, pkey, &peer) < 0)
		return 0;
	out->tx_packets = peer.rx_packets;
	out->tx_bytes = peer.rx_bytes;
	return 0;
}

#endif
