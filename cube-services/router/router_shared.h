/* SPDX-License-Identifier: Apache-2.0 */
/*
 * router: constants and structs shared by the fast path (router.bpf.c),
 * the cube process (router.c) and the BPF packet tables.
 *
 * Addresses are kept as 16 bytes in network order; an IPv4 address is
 * IPv4-mapped (::ffff:a.b.c.d), so that one neighbour table and one table
 * of local addresses serve both families.
 */
#ifndef ROUTER_SHARED_H
#define ROUTER_SHARED_H
#include <linux/types.h>

/* Capacities; each is a named constant that a test can shrink. */
/* static routes, both families (the process's limit); router.yang's
 * max-elements of route says the same, so the broker refuses one more */
#define RT_STATIC_MAX 16384
/* LPM entries per family: the networks of the static routes and the
 * connected ones (32 ports x 64 addresses). The tries are not preallocated
 * (BPF_F_NO_PREALLOC): the capacity costs no memory until used. */
#define RT_ROUTES_MAX (RT_STATIC_MAX + 2048)
#define RT_NEIGH_MAX  4096
#define RT_LOCAL_MAX  512

/* Slow-path reasons (>= CB_REASON_SERVICE). */
enum rt_reason {
	RT_REASON_RESOLVE = 4, /* next hop without neighbour entry: words = next hop (v4), out-port */
	RT_REASON_ICMP = 5,    /* an ICMP error to send: words[0] = type << 8 | code */
	RT_REASON_NEIGH = 6,   /* ARP reply, IPv6 neighbour solicitation or advertisement */
};
#define RT_REASON_FIRST RT_REASON_RESOLVE
#define RT_NREASONS	3

/* ICMP errors as the fast path asks for them (words[0]); the family
 * comes from the packet. */
#define RT_ICMP(type, code) (((__u32)(type) << 8) | (code))

struct rt_addr {
	union {
		__u8 a[16];
		__u32 w[4]; /* aligned: BPF stack accesses must be */
	};
};

/* Port of the router, indexed by port number. flags 0: not a router port. */
#define RT_PORT_ON 1
struct rt_port {
	__u8 mac[6];
	__u16 flags;
	__u32 ip4; /* primary IPv4 address (network order), 0 if none */
};

/* Address of the router (key: struct rt_addr). */
struct rt_local {
	__u32 port; /* the port the address belongs to */
	__u32 plen;
};

/* LPM keys: prefix length in bits first, then the address. */
struct rt_lpm4 {
	__u32 plen;
	__u32 addr; /* network order */
};

struct rt_lpm6 {
	__u32 plen;
	__u8 addr[16];
};

#define RT_ROUTE_CONNECTED 1 /* the destination itself is the next hop */
struct rt_route {
	__u32 port;
	__u32 flags;
	struct rt_addr nexthop; /* unused when connected */
	__u32 plen;		/* of the route's network */
	__u32 pad;
};

/* Neighbour entry (key: struct rt_addr). */
#define RT_NEIGH_STATIC 1
struct rt_neigh {
	__u8 mac[6];
	__u16 port;
	__u32 flags;
	__u64 seen_ns; /* CLOCK_MONOTONIC when learned, confirmed or last used */
};

/* Runtime configuration (array of one). */
struct rt_conf {
	__u64 aging_ns;	   /* learned neighbours: 0 never age */
	__u64 interval_ns; /* slow path: one token per interval, per reason */
	__u64 burst_ns;	   /* bucket depth, as time: burst * interval */
};

/* Token bucket of one slow-path reason, as a theoretical arrival time
 * (GCRA): a packet passes while tat + interval_ns - now <= burst_ns, and
 * moves tat on by interval_ns; tat never lags behind now. */
struct rt_bucket {
	__u64 tat;
};

/* Slow-path counters per reason (per CPU). */
struct rt_spcount {
	__u64 sent;
	__u64 limited;
};

#endif
