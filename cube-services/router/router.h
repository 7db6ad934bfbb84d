/* SPDX-License-Identifier: Apache-2.0 */
/*
 * router: the cube process's own header, shared by its files.
 *
 *   router.c  the cube: its ports and their addresses, its settings (aging,
 *             slow-path limit), its state, the action, the slow path's
 *             dispatch, the tick, main
 *   routes.c  the route table: connected and static routes by network,
 *             which route a network uses, the LPM tries
 *   neigh.c   neighbours: static entries, resolution of next hops (ARP and
 *             neighbour discovery) with the packets that wait for it, aging
 *   icmp.c    ICMP and ICMPv6 errors
 *
 * The configuration arrives through the typed handlers of router_cfg.h
 * (cubebus-gen); reads and arp-flush go through its emitters and action
 * handler. What the process keeps, struct rt_priv, is what it derives
 * from it and what the fast path cannot tell: which address is on which
 * port, which route a network uses, what waits for a neighbour.
 *
 * Addresses are struct rt_addr (router_shared.h): 16 bytes, IPv4 mapped
 * (::ffff:a.b.c.d). A prefix length over that form is "bits": an IPv4 /24
 * is 96 + 24.
 */
#ifndef ROUTER_H
#define ROUTER_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>
#include <sys/socket.h>

#include "cube.h"
#include "pktbuild.h"
#include "router_shared.h"

#define RT_QUEUE_MAX	    64	/* packets waiting for one next hop */
#define RT_PENDING_MAX	    256 /* next hops being resolved at once */
#define RT_RESOLVE_TRIES    3	/* requests sent before giving up */
#define RT_RESOLVE_RETRY_MS 1000
#define RT_TICK_MS	    100
#define RT_SWEEP_MS	    1000 /* aged neighbours are deleted this often */
#define RT_PORT_ADDRS	    64	 /* addresses per port */
#define RT_ADDRS_MAX	    (CB_MAX_PORTS * RT_PORT_ADDRS)
#define RT_SNEIGH_MAX	    1024 /* static neighbours */
#define RT_NET_BUCKETS	    8192 /* of the networks' hash table */
#define RT_FRAME_MAX	    9216
#define RT_ICMP4_QUOTE	    576	 /* RFC 1812 4.3.2.3: an error fits in 576 bytes */
#define RT_ICMP6_QUOTE	    1280 /* RFC 4443 2.4 (c): the IPv6 minimum MTU */
#define RT_TTL		    64
#define NS_PER_S	    1000000000ULL

/* Frames are built by libcube's pktbuild (ARP, ND, ICMP errors). */
#define ETH_LEN CB_ETH_LEN
#define IP4_LEN CB_IP4_LEN
#define IP6_LEN CB_IP6_LEN

/* A port of the router, by the port's index. */
struct rt_iface {
	bool on;
	char name[64];
	uint8_t mac[6];	    /* configured, or generated from the names */
	struct rt_addr ll6; /* fe80::/64 + EUI-64 of the MAC */
	__u32 ip4;	    /* primary address, network order; 0 if none */
};

/* An address of a port, with its network. */
struct rt_ifaddr {
	struct rt_addr addr;
	unsigned plen, bits;
	int port;
};

struct rt_net;

/* A static route. */
struct rt_sroute {
	struct rt_sroute *prev, *next; /* every static route, oldest first */
	struct rt_sroute *net_next;    /* the other routes to its network */
	struct rt_net *net;
	struct rt_addr nh;
	int port; /* of the next hop; -1: on none of the networks (of interface) */
	__u32 cost;
	uint64_t seq; /* on a tie of path cost, the oldest route wins */
	bool active;
	char ifname[64]; /* interface as configured, "" if not */
};

/* A destination: connected, the network of static routes, or both. Each
 * has one entry in an LPM trie while a route of it can be used. */
struct rt_net {
	struct rt_net *hnext;
	int family;
	struct rt_addr addr; /* host part zero */
	unsigned bits;
	int conn_port; /* the network of an address of that port; -1: not */
	struct rt_sroute *routes;
};

struct rt_routes {
	struct rt_net **buckets; /* RT_NET_BUCKETS, allocated on first use */
	struct rt_sroute *first, *last;
	unsigned n;
	uint64_t seq;
};

struct rt_sneigh {
	struct rt_addr addr;
	uint8_t mac[6];
	int port;
};

/* A packet waiting for its next hop to be resolved. */
struct rt_qpkt {
	void *frame;
	size_t len;
	int in_port;
};

struct rt_pending {
	int used;
	struct rt_addr nh;
	int port;
	int tries;
	uint64_t next_ms;
	int head, count;
	struct rt_qpkt q[RT_QUEUE_MAX];
};

struct rt_priv {
	struct rt_iface ifs[CB_MAX_PORTS];
	struct rt_ifaddr ifa[RT_ADDRS_MAX];
	int nifa;
	struct rt_routes routes;
	struct rt_sneigh sn[RT_SNEIGH_MAX];
	int nsn;
	__u64 aging_ns;
	__u32 rate, burst; /* slow-path limit; 0 until configured: the defaults */
	bool swept;	   /* what a previous process left and nobody configures is gone */
	struct rt_pending pend[RT_PENDING_MAX];
	uint64_t queue_drops, unresolved, icmp_sent;
	uint64_t last_sweep_ms;
	uint16_t ip_id;
};

/* ---- small helpers ---------------------------------------------------------- */

static inline uint64_t rt_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NS_PER_S + ts.tv_nsec;
}

static inline uint64_t rt_now_ms(void)
{
	return rt_now_ns() / 1000000ULL;
}

static inline int rt_is_v4(const struct rt_addr *a)
{
	return !a->w[0] && !a->w[1] && a->w[2] == htonl(0xffff);
}

static inline void rt_addr_v4(struct rt_addr *a, __u32 ip)
{
	a->w[0] = 0;
	a->w[1] = 0;
	a->w[2] = htonl(0xffff);
	a->w[3] = ip;
}

static inline int rt_addr_eq(const struct rt_addr *a, const struct rt_addr *b)
{
	return !memcmp(a, b, sizeof(*a));
}

static inline int rt_addr_is_zero(const struct rt_addr *a)
{
	return rt_is_v4(a) ? !a->w[3] : !(a->w[0] | a->w[1] | a->w[2] | a->w[3]);
}

static inline unsigned rt_bits(int family, unsigned plen)
{
	return family == AF_INET ? 96 + plen : plen;
}

static inline uint16_t rt_get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* ---- router.c: addresses and ports ------------------------------------------ */

/* a and b agree on their first bits bits. */
int rt_prefix_eq(const struct rt_addr *a, const struct rt_addr *b, unsigned bits);
/* Keeps the first bits bits of a. */
void rt_mask(struct rt_addr *a, unsigned bits);
const char *rt_ntop(const struct rt_addr *a, char *buf, size_t size);
/* "10.0.1.0/24" of an address and its family's prefix length. */
const char *rt_prefix_text(const struct rt_addr *a, unsigned plen, char *buf, size_t size);
void rt_format_mac(const uint8_t *m, char *buf, size_t size);
/* A configured address as the router keeps it; -EINVAL for an IPv6 address
 * that is an IPv4-mapped one (its tables tell the families that way). */
int rt_addr_from_ip(const struct cb_ip *ip, struct rt_addr *a);
/* The other way, with prefix length plen (of its family), for the emitters. */
void rt_ip_from_addr(const struct rt_addr *a, unsigned plen, struct cb_ip *ip);
/* The address of the router on a network containing a, on port (-1: any
 * port), or NULL. */
const struct rt_ifaddr *rt_net_of(const struct rt_priv *pv, const struct rt_addr *a, int port);
/* a is one of the router's addresses (link-local ones included). */
int rt_is_local(const struct rt_priv *pv, const struct rt_addr *a);
/* The name of a port of the router, "?" if none. */
const char *rt_pname(const struct rt_priv *pv, int port);
/* The index of the router's port called name, or -1. */
int rt_port_by_name(const struct rt_priv *pv, const char *name);
/* The address of port to speak from to a (one on a's network, else any of
 * the port's of that family; the link-local one for IPv6). 0 or -ENOENT. */
int rt_src_addr(const struct rt_priv *pv, int port, const struct rt_addr *a, struct rt_addr *src);
/* Deletes the keys of a map (key_size bytes, at most 64) keep() refuses. */
void rt_map_prune(int fd, size_t key_size, int (*keep)(const void *key, void *arg), void *arg);

/* ---- routes.c --------------------------------------------------------------- */

/*
 * An address came (on) or is gone: its network becomes (or stops being) a
 * connected one, and the static routes whose next hop is on it move to (or
 * from) its port, the routes in use and the LPM tries following. The
 * address is already in (or already out of) pv->ifa. 0 or -errno, with a
 * sentence (cube_fail).
 */
int rt_routes_connect(struct cube *c, const struct rt_ifaddr *f, bool on);
/* A static route whose next hop is reached by port, or NULL. */
const struct rt_sroute *rt_routes_via_port(const struct rt_priv *pv, int port);
/* A static route whose next hop is a, or NULL. */
const struct rt_sroute *rt_routes_via_addr(const struct rt_priv *pv, const struct rt_addr *a);
/* "10.0.3.0/24 via 10.1.0.2" */
const char *rt_route_text(const struct rt_sroute *s, char *buf, size_t size);
/* Emits every route, connected ones first (the read of "route"). 0 or the
 * emitter's -EINVAL. */
int rt_routes_state(struct cube *c, struct cube_state *st);
/* Removes the LPM entries of networks the router has no route for. */
void rt_routes_sweep(struct cube *c);

/* ---- neigh.c ---------------------------------------------------------------- */

/* A static neighbour on port (on the network of f, if not NULL), or NULL. */
const struct rt_sneigh *rt_neigh_static_on(const struct rt_priv *pv, int port, const struct rt_ifaddr *f);
/* The static neighbour of address a, or NULL. */
const struct rt_sneigh *rt_neigh_static_at(const struct rt_priv *pv, const struct rt_addr *a);
/* Packets of the slow path: a next hop to resolve (RT_REASON_RESOLVE), an
 * ARP reply or IPv6 neighbour discovery (RT_REASON_NEIGH). */
void rt_neigh_resolve(struct cube *c, const struct cb_pktin_hdr *h, const void *frame, size_t len);
void rt_neigh_pktin(struct cube *c, const struct cb_pktin_hdr *h, const uint8_t *frame, size_t len);
/* Retries and gives up resolutions, forgets aged neighbours. */
void rt_neigh_tick(struct cube *c);
/* Emits static and live learned entries (the read of "arp-table"). 0 or the
 * emitter's -EINVAL. */
int rt_neigh_state(struct cube *c, struct cube_state *st);
/* Forgets the learned entries (of address only, if not NULL); returns how
 * many. */
unsigned rt_neigh_flush(struct cube *c, const struct rt_addr *only);
/* Removes static entries nobody configures, and learned ones aged or on
 * none of their port's networks. */
void rt_neigh_sweep(struct cube *c);

/* ---- icmp.c ----------------------------------------------------------------- */

/* An ICMP error the fast path asks for (RT_REASON_ICMP). */
void rt_icmp_pktin(struct cube *c, const struct cb_pktin_hdr *h, const uint8_t *frame, size_t len);
/* Host unreachable about a packet that came in on in_port, in its family. */
void rt_icmp_unreachable(struct cube *c, int in_port, const uint8_t *frame, size_t len);

#endif
