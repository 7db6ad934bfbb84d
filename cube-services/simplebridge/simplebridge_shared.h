/* SPDX-License-Identifier: Apache-2.0 */
/* simplebridge: structs shared by the fast path and the cube process. */
#ifndef SIMPLEBRIDGE_SHARED_H
#define SIMPLEBRIDGE_SHARED_H
#include <linux/types.h>

#define SB_FDB_MAX 4096

/* The fdb key is the MAC in the low 48 bits of a u64 (network byte order bytes). */
struct sb_fdb_val {
	__u32 port;
	__u32 is_static; /* configured by the user: never aged, never moved */
	__u64 seen_ns;	 /* CLOCK_MONOTONIC of the last frame from this MAC */
};

struct sb_conf {
	__u64 aging_ns;
};
#endif
