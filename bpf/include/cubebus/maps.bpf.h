/* SPDX-License-Identifier: Apache-2.0 */
/*
 * maps.bpf.h - the framework's maps, as every cubebus BPF object sees them.
 *
 * Globals (cb_g_*) are created and pinned by the broker; per-cube maps
 * (cb_next, cb_flood, cb_pktin, ...) are pinned under the cube's directory.
 * libcube points every map at its pin before load, so a reloaded program
 * reuses the state of the one it replaces.
 */
#ifndef CUBEBUS_MAPS_BPF_H
#define CUBEBUS_MAPS_BPF_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "cubebus_shared.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, CB_LINK_ENTRIES);
	__type(key, __u32);
	__type(value, struct cb_link);
} cb_g_links SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, CB_LINK_ENTRIES);
	__type(key, __u32);
	__type(value, struct cb_port_stats);
} cb_g_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct cb_gconf);
} cb_g_conf SEC(".maps");

#if defined(CUBE_XDP) || defined(CUBE_FRAMEWORK)
/* XDP has no skb->cb: metadata lives in a per-CPU scratch entry. A packet
 * runs its whole chain of tail calls on one CPU without preemption. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct cb_md);
} cb_g_md SEC(".maps");
#endif

#endif
