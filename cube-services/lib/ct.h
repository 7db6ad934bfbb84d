/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ct.h - user-space side of the connection-tracking module
 * (bpf/include/cubebus/ct.bpf.h): the session table as a service shows it,
 * and the sweep of expired entries that a service runs from its tick.
 *
 * Map file descriptors are those of a CB_CT_MAP(name, max): name (sessions)
 * and name_stats (per-CPU counters). "now" is CLOCK_MONOTONIC in ns, the
 * clock of bpf_ktime_get_ns(); cb_ct_now() reads it.
 */
#ifndef CUBEBUS_CT_H
#define CUBEBUS_CT_H

#include <stdint.h>
#define CB_CT_SHARED_ONLY
#include "cubebus/ct.bpf.h"
#undef CB_CT_SHARED_ONLY

/* One session, as the firewall's session-table lists it. */
struct cb_ct_session {
	char src[46]; /* the originator's address, text */
	char dst[46];
	const char *l4proto; /* "TCP", "UDP", "ICMP", "ICMPv6", or the number as text */
	uint16_t sport;	     /* host order; ICMP echo: the identifier */
	uint16_t dport;
	const char *state; /* cb_ct_entry_state_name() */
	uint32_t eta;	   /* seconds until it expires (rounded up) */
	const struct cb_ct_key *key;
	const struct cb_ct_entry *entry;
};

/* Returns nonzero to stop the walk (cb_ct_foreach then returns that value). */
typedef int (*cb_ct_session_fn)(const struct cb_ct_session *s, void *arg);

struct cb_ct_counts {
	uint64_t entries; /* live entries (after the sweep) */
	uint64_t expired; /* entries the sweep deleted */
	uint64_t full;	  /* commits refused on a full table, since load */
	uint64_t created; /* entries created by commits, since load */
};

uint64_t cb_ct_now(void);
/* "SYN_SENT", ..., "ESTABLISHED", "UNREPLIED", "REPLIED", ...; never NULL. */
const char *cb_ct_l4state_name(unsigned st);
/*
 * The state the session table shows: TCP's state (SYN_SENT, SYN_RECV,
 * ESTABLISHED, FIN_WAIT, CLOSE_WAIT, LAST_ACK, TIME_WAIT, CLOSE); for UDP,
 * ICMP echo and other protocols NEW until a reply was seen, then
 * ESTABLISHED (as Polycube's firewall shows them).
 */
const char *cb_ct_entry_state_name(const struct cb_ct_entry *e);
/*
 * Calls fn for every live (not expired) session, src being the side that
 * opened it. Returns 0, fn's nonzero value, or a negative errno.
 */
int cb_ct_foreach(int map_fd, uint64_t now, cb_ct_session_fn fn, void *arg);
/*
 * Deletes the entries expired at now; fills counts (stats_fd may be -1:
 * full and created are then 0). Returns 0 or a negative errno.
 */
int cb_ct_sweep(int map_fd, int stats_fd, uint64_t now, struct cb_ct_counts *counts);
/* Sums the per-CPU counters of a CB_CT_MAP's name_stats. */
int cb_ct_read_stats(int stats_fd, struct cb_ct_stats *out);
/* Sets the timeouts (seconds, indexed by enum cb_ct_l4state; 0: default). */
int cb_ct_set_timeouts(int timeouts_fd, const struct cb_ct_timeouts *t);

#endif
