/* SPDX-License-Identifier: Apache-2.0 */
/*
 * router: the cube process of the router service.
 *
 *   apply   checks the whole configuration (addresses, routes, static
 *           neighbours), then makes the fast path's maps match it: ports,
 *           local addresses, connected and static routes (the lowest path
 *           cost of a network wins), static neighbours, the slow-path
 *           limiter. Idempotent: it also runs on the pinned maps of a
 *           restarted cube, and removes what is no longer configured.
 *   pktin   resolves next hops: a packet whose next hop has no neighbour
 *           entry waits in a bounded queue of that next hop while ARP
 *           requests / neighbour solicitations go out; the answer (learned
 *           by the fast path for ARP, here for IPv6) sends the queue back
 *           into the fast path. Answers IPv6 neighbour solicitations and
 *           sends the ICMP/ICMPv6 errors the fast path asks for.
 *   tick    retries resolutions, gives up after RT_RESOLVE_TRIES (host
 *           unreachable to each waiting packet), forgets aged neighbours.
 *   read    generated MACs, every route (connected ones included), the
 *           neighbour table, slow-path counters.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <linux/if_ether.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "cube.h"
#include "pktbuild.h"
#include "router_shared.h"
#include "router_tc.skel.h"
#include "router_xdp.skel.h"

#define RT_QUEUE_MAX	    64	/* packets waiting for one next hop */
#define RT_PENDING_MAX	    256 /* next hops being resolved at once */
#define RT_RESOLVE_TRIES    3	/* requests sent before giving up */
#define RT_RESOLVE_RETRY_MS 1000
#define RT_TICK_MS	    100
#define RT_SWEEP_MS	    1000 /* aged neighbours are deleted this often */
#define RT_PORT_ADDRS	    64	 /* addresses per port */
#define RT_STATIC_MAX	    1024 /* static routes, static neighbours */
#define RT_FRAME_MAX	    9216
#define RT_ICMP4_QUOTE	    576	 /* RFC 1812 4.3.2.3: an error fits in 576 bytes */
#define RT_ICMP6_QUOTE	    1280 /* RFC 4443 2.4 (c): the IPv6 minimum MTU */
#define RT_TTL		    64
#define NS_PER_S	    1000000000ULL

static const char *const rt_reason_names[RT_NREASONS] = { "resolve", "icmp-error", "neighbour" };

/* ---- configuration ---------------------------------------------------------- */

/* An address of a port with its network. bits: prefix length counted over
 * the 16-byte form (an IPv4 /24 is 96 + 24). */
struct rt_ifaddr {
	int family;
	struct rt_addr addr;
	unsigned plen;
	unsigned bits;
	int port;
	char text[64];
};

struct rt_sroute {
	int family;
	struct rt_addr net;
	unsigned plen, bits;
	struct rt_addr nh;
	int port; /* -1: the next hop is on none of the networks (of interface) */
	__u32 cost;
	int shadowed; /* the network is connected: the connected route is used */
	int active;
	char network[64], nexthop[64]; /* the keys, as in the configuration */
	char ifname[64];	       /* interface, as configured ("" if not) */
};

struct rt_sneigh {
	struct rt_addr addr;
	__u8 mac[6];
	int port;
	char key[64];
};

struct rt_cfg {
	int on[CB_MAX_PORTS];
	char pname[CB_MAX_PORTS][64];
	__u8 mac[CB_MAX_PORTS][6];
	struct rt_addr ll6[CB_MAX_PORTS]; /* fe80::/64 + EUI-64 of the MAC */
	__u32 ip4[CB_MAX_PORTS];	  /* primary, network order */
	struct rt_ifaddr *ifa;
	int nifa;
	struct rt_sroute *rt;
	int nrt;
	struct rt_sneigh *sn;
	int nsn;
	__u64 aging_ns;
	__u32 rate, burst;
};

/* ---- resolution ------------------------------------------------------------- */

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
	int applied; /* cfg holds a configuration: until then, touch no map */
	struct rt_cfg cfg;
	struct rt_pending pend[RT_PENDING_MAX];
	uint64_t queue_drops, unresolved, icmp_sent;
	uint64_t last_sweep_ms;
	uint16_t ip_id;
};

/* ---- small helpers ---------------------------------------------------------- */

static uint64_t rt_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NS_PER_S + ts.tv_nsec;
}

static uint64_t rt_now_ms(void)
{
	return rt_now_ns() / 1000000ULL;
}

static int rt_is_v4(const struct rt_addr *a)
{
	return !a->w[0] && !a->w[1] && a->w[2] == htonl(0xffff);
}

static void rt_addr_v4(struct rt_addr *a, __u32 ip)
{
	a->w[0] = 0;
	a->w[1] = 0;
	a->w[2] = htonl(0xffff);
	a->w[3] = ip;
}

static int rt_addr_eq(const struct rt_addr *a, const struct rt_addr *b)
{
	return !memcmp(a, b, sizeof(*a));
}

static int rt_addr_is_zero(const struct rt_addr *a)
{
	return rt_is_v4(a) ? !a->w[3] : !(a->w[0] | a->w[1] | a->w[2] | a->w[3]);
}

/* a and b agree on their first bits bits. */
static int rt_prefix_eq(const struct rt_addr *a, const struct rt_addr *b, unsigned bits)
{
	for (unsigned i = 0; i < 16 && bits; i++) {
		unsigned n = bits >= 8 ? 8 : bits;
		__u8 m = (__u8)(0xff << (8 - n));

		if ((a->a[i] ^ b->a[i]) & m)
			return 0;
		bits -= n;
	}
	return 1;
}

/* Keeps the first bits bits of a. */
static void rt_mask(struct rt_addr *a, unsigned bits)
{
	for (unsigned i = 0; i < 16; i++) {
		unsigned n = bits >= 8 ? 8 : bits;

		a->a[i] &= n ? (__u8)(0xff << (8 - n)) : 0;
		bits -= n;
	}
}

static const char *rt_ntop(const struct rt_addr *a, char *buf, size_t size)
{
	if (rt_is_v4(a))
		return inet_ntop(AF_INET, &a->w[3], buf, size);
	return inet_ntop(AF_INET6, a->a, buf, size);
}

/* "10.0.1.254" or "fd00::1" (no zone). 0 or -EINVAL. */
static int rt_parse_addr(const char *s, struct rt_addr *a, int *family)
{
	__u32 v4;

	if (strchr(s, '%'))
		return -EINVAL;
	if (inet_pton(AF_INET, s, &v4) == 1) {
		rt_addr_v4(a, v4);
		*family = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, s, a->a) == 1 && !rt_is_v4(a)) {
		*family = AF_INET6;
		return 0;
	}
	return -EINVAL;
}

/* "10.0.1.254/24" or "fd00::1/64". 0 or -EINVAL. */
static int rt_parse_prefix(const char *s, struct rt_addr *a, unsigned *plen, int *family)
{
	const char *slash = strchr(s, '/');
	char buf[64], *end;
	unsigned long n;

	if (!slash || (size_t)(slash - s) >= sizeof(buf) || !slash[1])
		return -EINVAL;
	memcpy(buf, s, slash - s);
	buf[slash - s] = 0;
	n = strtoul(slash + 1, &end, 10);
	if (*end || rt_parse_addr(buf, a, family) < 0 || n > (*family == AF_INET ? 32u : 128u))
		return -EINVAL;
	*plen = n;
	return 0;
}

static unsigned rt_bits(int family, unsigned plen)
{
	return family == AF_INET ? 96 + plen : plen;
}

static int rt_parse_mac(const char *s, __u8 *m)
{
	unsigned char b[6];
	char tail;

	if (sscanf(s, "%hhx:%hhx:%hhx:%hhx:%hhx:%hhx%c", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5], &tail) != 6)
		return -EINVAL;
	memcpy(m, b, 6);
	return 0;
}

static void rt_format_mac(const __u8 *m, char *buf, size_t size)
{
	snprintf(buf, size, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
}

/* A stable MAC for a port without one: FNV-1a of "cube/port", locally
 * administered, unicast. The same names give the same MAC after a restart. */
static void rt_gen_mac(const char *cube, const char *port, __u8 *m)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	const char *parts[3] = { cube, "/", port };

	for (int i = 0; i < 3; i++)
		for (const char *p = parts[i]; *p; p++) {
			h ^= (unsigned char)*p;
			h *= 0x100000001b3ULL;
		}
	/* FNV's low bytes barely change with the last character: mix */
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	for (int i = 0; i < 6; i++)
		m[i] = (__u8)(h >> (8 * i));
	m[0] = (__u8)((m[0] & 0xfc) | 0x02);
}

static void rt_ll6(const __u8 *mac, struct rt_addr *a)
{
	memset(a, 0, sizeof(*a));
	a->a[0] = 0xfe;
	a->a[1] = 0x80;
	a->a[8] = mac[0] ^ 0x02;
	a->a[9] = mac[1];
	a->a[10] = mac[2];
	a->a[11] = 0xff;
	a->a[12] = 0xfe;
	a->a[13] = mac[3];
	a->a[14] = mac[4];
	a->a[15] = mac[5];
}

static void rt_cfg_free(struct rt_cfg *cfg)
{
	free(cfg->ifa);
	free(cfg->rt);
	free(cfg->sn);
	memset(cfg, 0, sizeof(*cfg));
}

/* The address of cfg on a network containing a (of family), on port (-1:
 * any port), or NULL. */
static const struct rt_ifaddr *rt_cfg_net_of(const struct rt_cfg *cfg, const struct rt_addr *a, int port)
{
	for (int i = 0; i < cfg->nifa; i++) {
		const struct rt_ifaddr *f = &cfg->ifa[i];

		if ((port < 0 || f->port == port) && rt_is_v4(&f->addr) == rt_is_v4(a) &&
		    rt_prefix_eq(&f->addr, a, f->bits))
			return f;
	}
	return NULL;
}

static int rt_cfg_is_local(const struct rt_cfg *cfg, const struct rt_addr *a)
{
	for (int i = 0; i < cfg->nifa; i++)
		if (rt_addr_eq(&cfg->ifa[i].addr, a))
			return 1;
	for (int p = 0; p < CB_MAX_PORTS; p++)
		if (cfg->on[p] && rt_addr_eq(&cfg->ll6[p], a))
			return 1;
	return 0;
}

static const char *rt_pname(const struct rt_cfg *cfg, int port)
{
	return port >= 0 && port < CB_MAX_PORTS && cfg->on[port] ? cfg->pname[port] : "?";
}

/* Was port name a port of the old configuration, missing in the new? */
static int rt_port_removed(const struct rt_cfg *old, const struct rt_cfg *cfg, const char *name)
{
	int was = 0;

	for (int p = 0; p < CB_MAX_PORTS; p++) {
		if (cfg->on[p] && !strcmp(cfg->pname[p], name))
			return 0;
		if (old->on[p] && !strcmp(old->pname[p], name))
			was = 1;
	}
	return was;
}

/* Adds one address of port; checks it and its network against the others. */
static int rt_cfg_add_ifaddr(struct rt_cfg *cfg, int port, const char *text, int want_v4, char *err, size_t errlen)
{
	struct rt_ifaddr f = { .port = port };
	__u32 h;

	if (rt_parse_prefix(text, &f.addr, &f.plen, &f.family) < 0 || (want_v4 && f.family != AF_INET)) {
		snprintf(err, errlen, "port %s: %s is not an %s address with a prefix length (like %s)",
			 cfg->pname[port], text, want_v4 ? "IPv4" : "IP",
			 want_v4 ? "10.0.1.254/24" : "10.0.1.254/24 or fd00:1::fe/64");
		return -EINVAL;
	}
	snprintf(f.text, sizeof(f.text), "%s", text);
	f.bits = rt_bits(f.family, f.plen);
	if (f.plen == 0) {
		snprintf(err, errlen, "port %s: %s has prefix length 0; give the length of the port's network",
			 cfg->pname[port], text);
		return -EINVAL;
	}
	if (f.family == AF_INET) {
		h = ntohl(f.addr.w[3]);
		if ((h >> 24) == 0 || (h >> 24) == 127 || (h >> 28) >= 0xe) {
			snprintf(err, errlen, "port %s: %s is not a unicast host address", cfg->pname[port], text);
			return -EINVAL;
		}
		if (f.plen <= 30) {
			__u32 host = 0xffffffffu >> f.plen;

			if (!(h & host) || (h & host) == host) {
				snprintf(err, errlen, "port %s: %s is the %s address of its network, not a host's",
					 cfg->pname[port], text, (h & host) ? "broadcast" : "network");
				return -EINVAL;
			}
		}
	} else {
		struct rt_addr ll = { 0 };

		ll.a[0] = 0xfe;
		ll.a[1] = 0x80;
		if (f.addr.a[0] == 0xff || rt_addr_is_zero(&f.addr) ||
		    (f.addr.w[0] == 0 && f.addr.w[1] == 0 && f.addr.w[2] == 0 && f.addr.w[3] == htonl(1))) {
			snprintf(err, errlen, "port %s: %s is not a unicast host address", cfg->pname[port], text);
			return -EINVAL;
		}
		if (rt_prefix_eq(&f.addr, &ll, 10)) {
			snprintf(err, errlen,
				 "port %s: %s is link-local; each port has its own fe80:: address already, "
				 "give a global or unique-local one",
				 cfg->pname[port], text);
			return -EINVAL;
		}
	}
	for (int i = 0; i < cfg->nifa; i++) {
		const struct rt_ifaddr *o = &cfg->ifa[i];
		unsigned bits = o->bits < f.bits ? o->bits : f.bits;

		if (o->family != f.family)
			continue;
		if (rt_addr_eq(&o->addr, &f.addr)) {
			if (o->port == port)
				snprintf(err, errlen, "port %s: address %s is given twice", cfg->pname[port], text);
			else
				snprintf(err, errlen, "address %s of port %s is already the address of port %s", text,
					 cfg->pname[port], cfg->pname[o->port]);
			return -EEXIST;
		}
		if (rt_prefix_eq(&o->addr, &f.addr, bits)) {
			snprintf(err, errlen,
				 "port %s: the network of %s overlaps that of %s on port %s; the networks of a "
				 "router's addresses must not overlap",
				 cfg->pname[port], text, o->text, cfg->pname[o->port]);
			return -EINVAL;
		}
	}
	if (cfg->nifa >= CB_MAX_PORTS * RT_PORT_ADDRS) {
		snprintf(err, errlen, "too many addresses (at most %d)", CB_MAX_PORTS * RT_PORT_ADDRS);
		return -ENOSPC;
	}
	cfg->ifa[cfg->nifa++] = f;
	return 0;
}

static int rt_cfg_ports(struct cube *c, struct json_object *jcfg, struct rt_cfg *cfg, char *err, size_t errlen)
{
	struct json_object *ports = NULL;
	size_t n;
	int r;

	cfg->ifa = calloc(CB_MAX_PORTS * RT_PORT_ADDRS, sizeof(*cfg->ifa));
	if (!cfg->ifa)
		return -ENOMEM;
	if (!jcfg || !json_object_object_get_ex(jcfg, "ports", &ports) || !json_object_is_type(ports, json_type_array))
		return 0;
	n = json_object_array_length(ports);
	/* names first: messages about one port may name another */
	for (size_t i = 0; i < n; i++) {
		struct json_object *p = json_object_array_get_idx(ports, i);
		const char *name = cube_json_str(p, "name", ""), *mac = cube_json_str(p, "mac", NULL);
		int idx = cube_port_index(c, name);

		if (idx < 0 || idx >= CB_MAX_PORTS)
			continue; /* the broker gives every configured port an index */
		cfg->on[idx] = 1;
		snprintf(cfg->pname[idx], sizeof(cfg->pname[idx]), "%s", name);
		if (mac) {
			if (rt_parse_mac(mac, cfg->mac[idx]) < 0 || (cfg->mac[idx][0] & 1) ||
			    !(cfg->mac[idx][0] | cfg->mac[idx][1] | cfg->mac[idx][2] | cfg->mac[idx][3] |
			      cfg->mac[idx][4] | cfg->mac[idx][5])) {
				snprintf(err, errlen, "port %s: mac %s is not a unicast MAC address", name, mac);
				return -EINVAL;
			}
		} else {
			rt_gen_mac(cube_name(c), name, cfg->mac[idx]);
		}
		rt_ll6(cfg->mac[idx], &cfg->ll6[idx]);
	}
	for (size_t i = 0; i < n; i++) {
		struct json_object *p = json_object_array_get_idx(ports, i), *sec = NULL;
		const char *ip = cube_json_str(p, "ip", NULL);
		int idx = cube_port_index(c, cube_json_str(p, "name", ""));

		if (idx < 0 || idx >= CB_MAX_PORTS)
			continue;
		if (ip) {
			r = rt_cfg_add_ifaddr(cfg, idx, ip, 1, err, errlen);
			if (r < 0)
				return r;
			cfg->ip4[idx] = cfg->ifa[cfg->nifa - 1].addr.w[3];
		}
		if (json_object_object_get_ex(p, "secondaryip", &sec) && json_object_is_type(sec, json_type_array)) {
			if (json_object_array_length(sec) >= RT_PORT_ADDRS) {
				snprintf(err, errlen, "port %s: too many secondary addresses (at most %d)",
					 cfg->pname[idx], RT_PORT_ADDRS - 1);
				return -ENOSPC;
			}
			for (size_t j = 0; j < json_object_array_length(sec); j++) {
				r = rt_cfg_add_ifaddr(cfg, idx,
						      cube_json_str(json_object_array_get_idx(sec, j), "ip", ""), 0,
						      err, errlen);
				if (r < 0)
					return r;
			}
		}
	}
	return 0;
}

/* Was the route network via nexthop (as keyed in the configuration) in the
 * old configuration? */
static int rt_route_known(const struct rt_cfg *old, const char *network, const char *nexthop)
{
	for (int k = 0; k < old->nrt; k++)
		if (!strcmp(old->rt[k].network, network) && !strcmp(old->rt[k].nexthop, nexthop))
			return 1;
	return 0;
}

/*
 * Static routes. A new route's next hop must be on a network of the router
 * (of its interface, if given). A route the router already has stays when
 * an address change leaves its next hop on no network: it is kept inactive
 * until an address brings the next hop back (so does every route of a
 * fresh process, whose configuration was accepted before). A route to a
 * connected network is kept inactive too: the connected route is used.
 */
static int rt_cfg_routes(struct json_object *jcfg, const struct rt_cfg *old, int fresh, struct rt_cfg *cfg, char *err,
			 size_t errlen)
{
	struct json_object *routes = NULL;
	size_t n;

	if (!jcfg || !json_object_object_get_ex(jcfg, "route", &routes) ||
	    !json_object_is_type(routes, json_type_array))
		return 0;
	n = json_object_array_length(routes);
	if (n > RT_STATIC_MAX) {
		snprintf(err, errlen, "too many static routes (at most %d)", RT_STATIC_MAX);
		return -ENOSPC;
	}
	cfg->rt = calloc(n ? n : 1, sizeof(*cfg->rt));
	if (!cfg->rt)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		struct json_object *e = json_object_array_get_idx(routes, i);
		const char *net = cube_json_str(e, "network", ""), *nh = cube_json_str(e, "nexthop", "");
		const char *ifname = cube_json_str(e, "interface", NULL);
		struct rt_sroute s = { .cost = (__u32)cube_json_int(e, "pathcost", 1) };
		const struct rt_ifaddr *f;
		int nhfam, known;

		snprintf(s.network, sizeof(s.network), "%s", net);
		snprintf(s.nexthop, sizeof(s.nexthop), "%s", nh);
		snprintf(s.ifname, sizeof(s.ifname), "%s", ifname ? ifname : "");
		if (rt_parse_prefix(net, &s.net, &s.plen, &s.family) < 0) {
			snprintf(err, errlen, "route %s: not a network (like 10.0.3.0/24 or fd00:3::/64)", net);
			return -EINVAL;
		}
		s.bits = rt_bits(s.family, s.plen);
		rt_mask(&s.net, s.bits);
		if (rt_parse_addr(nh, &s.nh, &nhfam) < 0) {
			snprintf(err, errlen, "route %s via %s: the next hop is not an address", net, nh);
			return -EINVAL;
		}
		if (nhfam != s.family) {
			snprintf(err, errlen, "route %s via %s: the network and its next hop are not of one family",
				 net, nh);
			return -EINVAL;
		}
		if (rt_addr_is_zero(&s.nh)) {
			snprintf(err, errlen,
				 "route %s via %s: that next hop stands for connected networks, which the router "
				 "adds itself; give a neighbour's address",
				 net, nh);
			return -EINVAL;
		}
		if (rt_cfg_is_local(cfg, &s.nh)) {
			snprintf(err, errlen, "route %s via %s: the next hop is an address of this router", net, nh);
			return -EINVAL;
		}
		known = fresh || rt_route_known(old, s.network, s.nexthop);
		f = rt_cfg_net_of(cfg, &s.nh, -1);
		s.port = f ? f->port : -1;
		if (!f && !known) {
			snprintf(err, errlen,
				 "route %s via %s: the next hop is on none of the router's networks (a next hop "
				 "must be on the network of a port's address)",
				 net, nh);
			return -EINVAL;
		}
		if (!f) {
			/* say which port, if the route depended on one being removed */
			for (int k = 0; k < old->nrt; k++) {
				const struct rt_sroute *o = &old->rt[k];

				if (!strcmp(o->network, s.network) && !strcmp(o->nexthop, s.nexthop) &&
				    rt_port_removed(old, cfg, rt_pname(old, o->port))) {
					snprintf(err, errlen,
						 "port %s is used by route %s via %s: delete the route first",
						 rt_pname(old, o->port), net, nh);
					return -EBUSY;
				}
			}
		}
		if (f && s.ifname[0] && strcmp(s.ifname, cfg->pname[s.port])) {
			if (!known) {
				snprintf(err, errlen, "route %s via %s: the next hop is reached by port %s, not %s",
					 net, nh, cfg->pname[s.port], ifname);
				return -EINVAL;
			}
			s.port = -1; /* an address moved to another port than the route's */
		}
		for (int k = 0; k < cfg->nifa; k++) {
			struct rt_addr cn = cfg->ifa[k].addr;

			rt_mask(&cn, cfg->ifa[k].bits);
			if (cfg->ifa[k].bits == s.bits && rt_addr_eq(&cn, &s.net))
				s.shadowed = 1;
		}
		for (int k = 0; k < cfg->nrt; k++) {
			if (cfg->rt[k].bits == s.bits && rt_addr_eq(&cfg->rt[k].net, &s.net) &&
			    rt_addr_eq(&cfg->rt[k].nh, &s.nh)) {
				snprintf(err, errlen, "route %s via %s is given twice", net, nh);
				return -EEXIST;
			}
		}
		cfg->rt[cfg->nrt++] = s;
	}
	/* path cost: per network, among the routes that can be used, the lowest
	 * wins; on a tie, the first given */
	for (int i = 0; i < cfg->nrt; i++) {
		struct rt_sroute *s = &cfg->rt[i];

		s->active = s->port >= 0 && !s->shadowed;
		for (int k = 0; k < cfg->nrt && s->active; k++) {
			const struct rt_sroute *o = &cfg->rt[k];

			if (k == i || o->port < 0 || o->shadowed || o->bits != s->bits || !rt_addr_eq(&o->net, &s->net))
				continue;
			if (o->cost < s->cost || (o->cost == s->cost && k < i))
				s->active = 0;
		}
	}
	return 0;
}

static int rt_cfg_neigh(struct json_object *jcfg, const struct rt_cfg *old, struct rt_cfg *cfg, char *err,
			size_t errlen)
{
	struct json_object *arr = NULL;
	size_t n;

	if (!jcfg || !json_object_object_get_ex(jcfg, "arp-table", &arr) || !json_object_is_type(arr, json_type_array))
		return 0;
	n = json_object_array_length(arr);
	if (n > RT_STATIC_MAX) {
		snprintf(err, errlen, "too many static neighbours (at most %d)", RT_STATIC_MAX);
		return -ENOSPC;
	}
	cfg->sn = calloc(n ? n : 1, sizeof(*cfg->sn));
	if (!cfg->sn)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		struct json_object *e = json_object_array_get_idx(arr, i);
		const char *key = cube_json_str(e, "address", ""), *mac = cube_json_str(e, "mac", "");
		const char *ifname = cube_json_str(e, "interface", "");
		struct rt_sneigh s = { .port = -1 };
		unsigned plen;
		int fam;

		snprintf(s.key, sizeof(s.key), "%s", key);
		if (rt_parse_addr(key, &s.addr, &fam) < 0 &&
		    (rt_parse_prefix(key, &s.addr, &plen, &fam) < 0 || plen != (fam == AF_INET ? 32u : 128u))) {
			snprintf(err, errlen, "arp-table %s: not a host address", key);
			return -EINVAL;
		}
		if (rt_parse_mac(mac, s.mac) < 0 || (s.mac[0] & 1)) {
			snprintf(err, errlen, "arp-table %s: mac %s is not a unicast MAC address", key, mac);
			return -EINVAL;
		}
		for (int p = 0; p < CB_MAX_PORTS; p++)
			if (cfg->on[p] && !strcmp(cfg->pname[p], ifname))
				s.port = p;
		if (s.port < 0 && rt_port_removed(old, cfg, ifname)) {
			snprintf(err, errlen, "port %s is used by arp-table entry %s: delete the entry first", ifname,
				 key);
			return -EBUSY;
		}
		if (s.port < 0) {
			snprintf(err, errlen, "arp-table %s: %s is not a port of this router", key, ifname);
			return -ENOENT;
		}
		if (!rt_cfg_net_of(cfg, &s.addr, s.port)) {
			snprintf(err, errlen, "arp-table %s: the address is on none of the networks of port %s", key,
				 ifname);
			return -EINVAL;
		}
		if (rt_cfg_is_local(cfg, &s.addr)) {
			snprintf(err, errlen, "arp-table %s: that is an address of this router", key);
			return -EINVAL;
		}
		for (int k = 0; k < cfg->nsn; k++)
			if (rt_addr_eq(&cfg->sn[k].addr, &s.addr)) {
				snprintf(err, errlen, "arp-table %s: the address is given twice (as %s)", key,
					 cfg->sn[k].key);
				return -EEXIST;
			}
		cfg->sn[cfg->nsn++] = s;
	}
	return 0;
}

static int rt_cfg_parse(struct cube *c, struct json_object *jcfg, const struct rt_cfg *old, int fresh,
			struct rt_cfg *cfg, char *err, size_t errlen)
{
	struct json_object *sp = NULL;
	int r;

	cfg->aging_ns = (__u64)cube_json_int(jcfg, "arp-aging-time", 300) * NS_PER_S;
	cfg->rate = 1000;
	cfg->burst = 100;
	if (jcfg && json_object_object_get_ex(jcfg, "slowpath-limit", &sp)) {
		cfg->rate = (__u32)cube_json_int(sp, "rate-limit", 1000);
		cfg->burst = (__u32)cube_json_int(sp, "burst", 100);
	}
	if (!cfg->rate)
		cfg->rate = 1;
	if (!cfg->burst)
		cfg->burst = 1;
	r = rt_cfg_ports(c, jcfg, cfg, err, errlen);
	if (r == 0)
		r = rt_cfg_routes(jcfg, old, fresh, cfg, err, errlen);
	if (r == 0)
		r = rt_cfg_neigh(jcfg, old, cfg, err, errlen);
	if (r == -ENOMEM)
		snprintf(err, errlen, "out of memory");
	return r;
}

/* ---- maps ------------------------------------------------------------------- */

#define RT_MAP_FD(c, m)                                                            \
	(cube_is_xdp(c) ? bpf_map__fd(((struct router_xdp *)cube_skel(c))->maps.m) \
			: bpf_map__fd(((struct router_tc *)cube_skel(c))->maps.m))

/* Deletes the keys of map (key_size bytes) for which keep() says no. */
static void rt_map_prune(int fd, size_t key_size, int (*keep)(const void *key, void *arg), void *arg)
{
	__u64 key[8], next[8]; /* aligned for the structs the callbacks see */
	__u64(*del)[8] = NULL;
	size_t n = 0, cap = 0;
	void *prev = NULL;

	while (bpf_map_get_next_key(fd, prev, next) == 0) {
		memcpy(key, next, key_size);
		prev = key;
		if (keep(key, arg))
			continue;
		if (n == cap) {
			void *m = realloc(del, (cap ? cap * 2 : 64) * sizeof(*del));

			if (!m)
				break;
			del = m;
			cap = cap ? cap * 2 : 64;
		}
		memcpy(del[n++], key, key_size);
	}
	/* deleting while walking would restart the walk: delete after it */
	for (size_t i = 0; i < n; i++)
		bpf_map_delete_elem(fd, del[i]);
	free(del);
}

static int rt_keep_local(const void *key, void *arg)
{
	const struct rt_cfg *cfg = arg;

	return rt_cfg_is_local(cfg, key);
}

/* A route of the kernel tables, as the configuration wants it. */
static int rt_want_route(const struct rt_cfg *cfg, const struct rt_addr *net, unsigned bits, struct rt_route *out)
{
	for (int i = 0; i < cfg->nifa; i++) {
		struct rt_addr cn = cfg->ifa[i].addr;

		rt_mask(&cn, cfg->ifa[i].bits);
		if (cfg->ifa[i].bits == bits && rt_addr_eq(&cn, net)) {
			memset(out, 0, sizeof(*out));
			out->port = cfg->ifa[i].port;
			out->flags = RT_ROUTE_CONNECTED;
			out->plen = cfg->ifa[i].plen;
			return 1;
		}
	}
	for (int i = 0; i < cfg->nrt; i++) {
		const struct rt_sroute *s = &cfg->rt[i];

		if (s->active && s->bits == bits && rt_addr_eq(&s->net, net)) {
			memset(out, 0, sizeof(*out));
			out->port = s->port;
			out->nexthop = s->nh;
			out->plen = s->plen;
			return 1;
		}
	}
	return 0;
}

static int rt_keep_rt4(const void *key, void *arg)
{
	const struct rt_lpm4 *k = key;
	struct rt_addr net;
	struct rt_route r;

	rt_addr_v4(&net, k->addr);
	return rt_want_route(arg, &net, 96 + k->plen, &r);
}

static int rt_keep_rt6(const void *key, void *arg)
{
	const struct rt_lpm6 *k = key;
	struct rt_addr net;
	struct rt_route r;

	memcpy(net.a, k->addr, 16);
	return !rt_is_v4(&net) && rt_want_route(arg, &net, k->plen, &r);
}

struct rt_neigh_walk {
	const struct rt_cfg *cfg;
	int fd;
	uint64_t now;
};

/* Static entries stay if configured; learned ones while alive and on a
 * network of their port. */
static int rt_keep_neigh(const void *key, void *arg)
{
	struct rt_neigh_walk *w = arg;
	struct rt_neigh n;

	if (bpf_map_lookup_elem(w->fd, key, &n) < 0)
		return 1;
	if (n.flags & RT_NEIGH_STATIC) {
		for (int i = 0; i < w->cfg->nsn; i++)
			if (rt_addr_eq(&w->cfg->sn[i].addr, key))
				return 1;
		return 0;
	}
	if (n.port >= CB_MAX_PORTS || !w->cfg->on[n.port] || !rt_cfg_net_of(w->cfg, key, n.port))
		return 0;
	return !(w->cfg->aging_ns && w->now - n.seen_ns > w->cfg->aging_ns);
}

static int rt_sync_maps(struct cube *c, const struct rt_cfg *cfg, char *err, size_t errlen)
{
	int fports = RT_MAP_FD(c, rt_ports), flocal = RT_MAP_FD(c, rt_local), frt4 = RT_MAP_FD(c, rt_rt4),
	    frt6 = RT_MAP_FD(c, rt_rt6), fneigh = RT_MAP_FD(c, rt_neigh), fconf = RT_MAP_FD(c, rt_conf);
	struct rt_conf conf = { .aging_ns = cfg->aging_ns };
	struct rt_neigh_walk w = { .cfg = cfg, .fd = fneigh, .now = rt_now_ns() };
	__u32 zero = 0;

	conf.interval_ns = NS_PER_S / cfg->rate;
	if (!conf.interval_ns)
		conf.interval_ns = 1;
	conf.burst_ns = conf.interval_ns * cfg->burst;
	if (bpf_map_update_elem(fconf, &zero, &conf, BPF_ANY) < 0)
		goto fail;
	for (__u32 p = 0; p < CB_MAX_PORTS; p++) {
		struct rt_port pt = { 0 };

		if (cfg->on[p]) {
			memcpy(pt.mac, cfg->mac[p], 6);
			pt.flags = RT_PORT_ON;
			pt.ip4 = cfg->ip4[p];
		}
		if (bpf_map_update_elem(fports, &p, &pt, BPF_ANY) < 0)
			goto fail;
	}
	/* add and update first, remove after: a change never leaves a gap */
	for (int i = 0; i < cfg->nifa; i++) {
		struct rt_local v = { .port = cfg->ifa[i].port, .plen = cfg->ifa[i].plen };

		if (bpf_map_update_elem(flocal, &cfg->ifa[i].addr, &v, BPF_ANY) < 0)
			goto fail;
	}
	for (int p = 0; p < CB_MAX_PORTS; p++) {
		struct rt_local v = { .port = p, .plen = 64 };

		if (cfg->on[p] && bpf_map_update_elem(flocal, &cfg->ll6[p], &v, BPF_ANY) < 0)
			goto fail;
	}
	rt_map_prune(flocal, sizeof(struct rt_addr), rt_keep_local, (void *)cfg);

	for (int pass = 0; pass < 2; pass++) {
		/* connected networks, then the routes that won */
		int n = pass ? cfg->nrt : cfg->nifa;

		for (int i = 0; i < n; i++) {
			struct rt_addr net = pass ? cfg->rt[i].net : cfg->ifa[i].addr;
			unsigned bits = pass ? cfg->rt[i].bits : cfg->ifa[i].bits;
			struct rt_route v;
			int r;

			if (pass && !cfg->rt[i].active)
				continue;
			rt_mask(&net, bits);
			rt_want_route(cfg, &net, bits, &v);
			if (rt_is_v4(&net)) {
				struct rt_lpm4 k = { .plen = bits - 96, .addr = net.w[3] };

				r = bpf_map_update_elem(frt4, &k, &v, BPF_ANY);
			} else {
				struct rt_lpm6 k = { .plen = bits };

				memcpy(k.addr, net.a, 16);
				r = bpf_map_update_elem(frt6, &k, &v, BPF_ANY);
			}
			if (r < 0) {
				snprintf(err, errlen, "cannot add the route to %s/%u: %s",
					 pass ? cfg->rt[i].network : cfg->ifa[i].text, bits, strerror(errno));
				return -errno;
			}
		}
	}
	rt_map_prune(frt4, sizeof(struct rt_lpm4), rt_keep_rt4, (void *)cfg);
	rt_map_prune(frt6, sizeof(struct rt_lpm6), rt_keep_rt6, (void *)cfg);

	for (int i = 0; i < cfg->nsn; i++) {
		struct rt_neigh n = { .port = cfg->sn[i].port, .flags = RT_NEIGH_STATIC, .seen_ns = w.now };

		memcpy(n.mac, cfg->sn[i].mac, 6);
		if (bpf_map_update_elem(fneigh, &cfg->sn[i].addr, &n, BPF_ANY) < 0)
			goto fail;
	}
	rt_map_prune(fneigh, sizeof(struct rt_addr), rt_keep_neigh, &w);
	return 0;
fail:
	snprintf(err, errlen, "cannot write the router's tables: %s", strerror(errno));
	return -errno;
}

/* ---- frames ------------------------------------------------------------------ */

/* Frames are built by libcube's pktbuild (ARP, ND, ICMP errors). */
#define ETH_LEN CB_ETH_LEN
#define IP4_LEN CB_IP4_LEN
#define IP6_LEN CB_IP6_LEN

static uint16_t rt_get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* The address of port to speak from to a on its network (any of the
 * port's addresses of that family if none, the link-local for IPv6). */
static int rt_src_addr(const struct rt_cfg *cfg, int port, const struct rt_addr *a, struct rt_addr *src)
{
	const struct rt_ifaddr *f = rt_cfg_net_of(cfg, a, port);

	if (f) {
		*src = f->addr;
		return 0;
	}
	if (rt_is_v4(a)) {
		if (!cfg->ip4[port]) {
			for (int i = 0; i < cfg->nifa; i++)
				if (cfg->ifa[i].port == port && cfg->ifa[i].family == AF_INET) {
					*src = cfg->ifa[i].addr;
					return 0;
				}
			return -ENOENT;
		}
		rt_addr_v4(src, cfg->ip4[port]);
		return 0;
	}
	*src = cfg->ll6[port];
	return 0;
}

/* ARP request or neighbour solicitation for nh out of port. */
static int rt_solicit(struct cube *c, const struct rt_addr *nh, int port)
{
	struct rt_priv *pv = cube_priv(c);
	const struct rt_cfg *cfg = &pv->cfg;
	uint8_t f[ETH_LEN + IP6_LEN + 32];
	struct rt_addr src;
	size_t n;

	if (port < 0 || port >= CB_MAX_PORTS || !cfg->on[port] || rt_src_addr(cfg, port, nh, &src) < 0)
		return -ENOENT;
	if (rt_is_v4(nh))
		n = cb_build_arp(f, sizeof(f), 1, cfg->mac[port], src.w[3], NULL, nh->w[3]);
	else
		n = cb_build_ns(f, sizeof(f), cfg->mac[port], src.a, nh->a);
	return n ? cube_packet_out(c, CB_DIR_OUT, port, f, n) : -EINVAL;
}

/*
 * Sends an ICMP error about frame (as it came in on in_port) back to its
 * sender, from the in-port's address (from the address it was sent to,
 * for a port unreachable). Never about an ICMP error, a fragment other
 * than the first, or a packet from or to a group or nobody (RFC 1812
 * 4.3.2.7).
 */
static void rt_icmp4_error(struct cube *c, int in_port, const uint8_t *frame, size_t len, uint8_t type, uint8_t code)
{
	struct rt_priv *pv = cube_priv(c);
	const struct rt_cfg *cfg = &pv->cfg;
	uint8_t out[ETH_LEN + IP4_LEN + 8 + RT_ICMP4_QUOTE];
	const uint8_t *ip = frame + ETH_LEN;
	__u32 saddr, daddr, from;
	struct rt_addr a;
	size_t n;

	if (len < ETH_LEN + IP4_LEN || in_port < 0 || in_port >= CB_MAX_PORTS || !cfg->on[in_port])
		return;
	memcpy(&saddr, ip + 12, 4);
	memcpy(&daddr, ip + 16, 4);
	/* cb_build_icmp4_error refuses what RFC 1812 4.3.2.7 forbids */
	if (type == 3 && code == 3) {
		from = daddr;
	} else {
		rt_addr_v4(&a, saddr);
		if (rt_src_addr(cfg, in_port, &a, &a) < 0)
			return;
		from = a.w[3];
	}
	n = cb_build_icmp4_error(out, sizeof(out), frame, len, type, code, from, cfg->mac[in_port], RT_TTL, pv->ip_id++,
				 RT_ICMP4_QUOTE - IP4_LEN - 8);
	if (n && cube_packet_out(c, CB_DIR_OUT, in_port, out, n) == 0)
		pv->icmp_sent++;
}

/* The same for IPv6 (RFC 4443 2.4 (e)). */
static void rt_icmp6_error(struct cube *c, int in_port, const uint8_t *frame, size_t len, uint8_t type, uint8_t code)
{
	struct rt_priv *pv = cube_priv(c);
	const struct rt_cfg *cfg = &pv->cfg;
	uint8_t out[ETH_LEN + RT_ICMP6_QUOTE];
	const uint8_t *ip = frame + ETH_LEN;
	struct rt_addr saddr, from;
	size_t n;

	if (len < ETH_LEN + IP6_LEN || in_port < 0 || in_port >= CB_MAX_PORTS || !cfg->on[in_port])
		return;
	memcpy(saddr.a, ip + 8, 16);
	/* cb_build_icmp6_error refuses what RFC 4443 2.4 (e) forbids */
	if (type == 1 && code == 4)
		memcpy(from.a, ip + 24, 16);
	else if (rt_src_addr(cfg, in_port, &saddr, &from) < 0)
		return;
	n = cb_build_icmp6_error(out, sizeof(out), frame, len, type, code, from.a, cfg->mac[in_port], RT_TTL,
				 RT_ICMP6_QUOTE - IP6_LEN - 8);
	if (n && cube_packet_out(c, CB_DIR_OUT, in_port, out, n) == 0)
		pv->icmp_sent++;
}

/* Host unreachable, in the family of frame. */
static void rt_unreachable(struct cube *c, const struct rt_qpkt *q)
{
	const uint8_t *f = q->frame;

	if (q->len < ETH_LEN)
		return;
	if (rt_get16(f + 12) == ETH_P_IP)
		rt_icmp4_error(c, q->in_port, f, q->len, 3, 1);
	else if (rt_get16(f + 12) == ETH_P_IPV6)
		rt_icmp6_error(c, q->in_port, f, q->len, 1, 3);
}

/* ---- resolution -------------------------------------------------------------- */

static struct rt_pending *rt_pending_find(struct rt_priv *pv, const struct rt_addr *nh, int port)
{
	for (int i = 0; i < RT_PENDING_MAX; i++)
		if (pv->pend[i].used && pv->pend[i].port == port && rt_addr_eq(&pv->pend[i].nh, nh))
			return &pv->pend[i];
	return NULL;
}

static void rt_pending_free(struct rt_pending *p)
{
	for (int i = 0; i < p->count; i++)
		free(p->q[(p->head + i) % RT_QUEUE_MAX].frame);
	memset(p, 0, sizeof(*p));
}

/* Sends the waiting packets back into the fast path, where they came in. */
static void rt_pending_flush(struct cube *c, struct rt_pending *p)
{
	for (int i = 0; i < p->count; i++) {
		struct rt_qpkt *q = &p->q[(p->head + i) % RT_QUEUE_MAX];

		cube_packet_out(c, CB_DIR_IN, q->in_port, q->frame, q->len);
	}
	rt_pending_free(p);
}

/* The neighbour entry of nh on port is usable, by the fast path's rules. */
static int rt_neigh_alive(struct cube *c, const struct rt_addr *nh, int port)
{
	struct rt_priv *pv = cube_priv(c);
	struct rt_neigh n;

	if (bpf_map_lookup_elem(RT_MAP_FD(c, rt_neigh), nh, &n) < 0 || n.port != port)
		return 0;
	return (n.flags & RT_NEIGH_STATIC) || !pv->cfg.aging_ns || rt_now_ns() - n.seen_ns <= pv->cfg.aging_ns;
}

/* The next hop and port of the packet's destination, from the kernel's
 * own tables (what the fast path decided on). */
static int rt_route_of(struct cube *c, const uint8_t *frame, size_t len, struct rt_addr *nh, int *port)
{
	struct rt_route r;

	if (len >= ETH_LEN + IP6_LEN && rt_get16(frame + 12) == ETH_P_IPV6) {
		struct rt_lpm6 k = { .plen = 128 };

		memcpy(k.addr, frame + ETH_LEN + 24, 16);
		if (bpf_map_lookup_elem(RT_MAP_FD(c, rt_rt6), &k, &r) < 0)
			return -ENOENT;
		if (r.flags & RT_ROUTE_CONNECTED)
			memcpy(nh->a, k.addr, 16);
		else
			*nh = r.nexthop;
		*port = r.port;
		return 0;
	}
	return -EINVAL;
}

static void rt_on_resolve(struct cube *c, const struct cb_pktin_hdr *h, const void *frame, size_t len)
{
	struct rt_priv *pv = cube_priv(c);
	struct rt_pending *p;
	struct rt_addr nh;
	struct rt_qpkt *q;
	int port;

	if (len < ETH_LEN || len > RT_FRAME_MAX)
		return;
	if (rt_get16((const uint8_t *)frame + 12) == ETH_P_IP) {
		rt_addr_v4(&nh, h->words[0]);
		port = (int)h->words[1];
	} else if (rt_route_of(c, frame, len, &nh, &port) < 0) {
		return;
	}
	if (port < 0 || port >= CB_MAX_PORTS || !pv->cfg.on[port])
		return;
	p = rt_pending_find(pv, &nh, port);
	if (!p) {
		for (int i = 0; i < RT_PENDING_MAX && !p; i++)
			if (!pv->pend[i].used)
				p = &pv->pend[i];
		if (!p) {
			pv->queue_drops++;
			return;
		}
		p->used = 1;
		p->nh = nh;
		p->port = port;
		p->tries = 1;
		p->next_ms = rt_now_ms() + RT_RESOLVE_RETRY_MS;
		rt_solicit(c, &nh, port);
	}
	if (p->count == RT_QUEUE_MAX) {
		/* full: the oldest goes */
		free(p->q[p->head].frame);
		p->head = (p->head + 1) % RT_QUEUE_MAX;
		p->count--;
		pv->queue_drops++;
	}
	q = &p->q[(p->head + p->count) % RT_QUEUE_MAX];
	q->frame = malloc(len);
	if (!q->frame) {
		pv->queue_drops++;
		return;
	}
	memcpy(q->frame, frame, len);
	q->len = len;
	q->in_port = h->in_port;
	p->count++;
}

/* Learns (creates when create) a neighbour, unless a static entry has it. */
static void rt_learn(struct cube *c, const struct rt_addr *a, const uint8_t *mac, int port, int create)
{
	int fd = RT_MAP_FD(c, rt_neigh);
	struct rt_neigh n;
	int have = bpf_map_lookup_elem(fd, a, &n) == 0;

	if ((have && (n.flags & RT_NEIGH_STATIC)) || (!have && !create) || (mac[0] & 1))
		return;
	memset(&n, 0, sizeof(n));
	memcpy(n.mac, mac, 6);
	n.port = port;
	n.seen_ns = rt_now_ns();
	bpf_map_update_elem(fd, a, &n, BPF_ANY);
}

/* The value of the link-layer option of type in the ND options at o. */
static const uint8_t *rt_nd_lladdr(const uint8_t *o, size_t n, uint8_t type)
{
	while (n >= 8) {
		size_t ol = o[1] * 8;

		if (!ol || ol > n)
			return NULL;
		if (o[0] == type && ol == 8)
			return o + 2;
		o += ol;
		n -= ol;
	}
	return NULL;
}

static void rt_flush_for(struct cube *c, const struct rt_addr *a, int port)
{
	struct rt_pending *p = rt_pending_find(cube_priv(c), a, port);

	if (p && rt_neigh_alive(c, a, port))
		rt_pending_flush(c, p);
}

/* IPv6 neighbour solicitation (for one of our addresses: the fast path
 * checked) or advertisement. */
static void rt_on_nd(struct cube *c, int in_port, const uint8_t *frame, size_t len)
{
	struct rt_priv *pv = cube_priv(c);
	const struct rt_cfg *cfg = &pv->cfg;
	const uint8_t *ip = frame + ETH_LEN, *ic = ip + IP6_LEN, *ll;
	size_t plen;
	struct rt_addr src, target;

	if (len < ETH_LEN + IP6_LEN + 24 || !cfg->on[in_port])
		return;
	plen = rt_get16(ip + 4);
	if (plen < 24 || plen > len - ETH_LEN - IP6_LEN || ip[6] != IPPROTO_ICMPV6 || ip[7] != 255)
		return;
	if (cb_csum_field(cb_sum(ic, plen, cb_sum6(ip + 8, ip + 24, plen, IPPROTO_ICMPV6))) != 0)
		return; /* a correct checksum sums to all ones */
	memcpy(src.a, ip + 8, 16);
	memcpy(target.a, ic + 8, 16);
	if (ic[0] == 136) {
		ll = rt_nd_lladdr(ic + 24, plen - 24, 2);
		if (ll) {
			rt_learn(c, &target, ll, in_port, rt_pending_find(pv, &target, in_port) != NULL);
			rt_flush_for(c, &target, in_port);
		}
		return;
	}
	/* solicitation: learn the sender, answer for the target */
	{
		uint8_t out[ETH_LEN + IP6_LEN + 32], dst[16];
		const uint8_t *dmac = frame + 6;
		size_t n;
		int dad = rt_addr_is_zero(&src);

		ll = rt_nd_lladdr(ic + 24, plen - 24, 1);
		if (ll && !dad) {
			if (rt_cfg_net_of(cfg, &src, in_port))
				rt_learn(c, &src, ll, in_port, 1);
			dmac = ll;
		}
		if (dad) {
			/* someone checks our own address: tell all nodes it is taken */
			static const uint8_t all[16] = { 0xff, 0x02, [15] = 1 };
			static const uint8_t allmac[6] = { 0x33, 0x33, 0, 0, 0, 1 };

			memcpy(dst, all, 16);
			dmac = allmac;
		} else {
			memcpy(dst, src.a, 16);
		}
		/* router, solicited (not for DAD), override */
		n = cb_build_na(out, sizeof(out), cfg->mac[in_port], target.a, dmac, dst, 1, !dad);
		if (n)
			cube_packet_out(c, CB_DIR_OUT, in_port, out, n);
	}
}

static void rt_on_neigh(struct cube *c, const struct cb_pktin_hdr *h, const uint8_t *frame, size_t len)
{
	int port = h->in_port;

	if (len < ETH_LEN || port >= CB_MAX_PORTS)
		return;
	if (rt_get16(frame + 12) == ETH_P_ARP && len >= ETH_LEN + 28) {
		/* a reply to us: the fast path learned it; send what waited */
		struct rt_addr a;
		__u32 spa;

		memcpy(&spa, frame + ETH_LEN + 14, 4);
		rt_addr_v4(&a, spa);
		rt_flush_for(c, &a, port);
	} else if (rt_get16(frame + 12) == ETH_P_IPV6) {
		rt_on_nd(c, port, frame, len);
	}
}

static void rt_pktin(struct cube *c, const struct cb_pktin_hdr *h, const void *frame, size_t len)
{
	const uint8_t *f = frame;

	switch (h->reason) {
	case RT_REASON_RESOLVE: rt_on_resolve(c, h, frame, len); break;
	case RT_REASON_ICMP:
		if (len >= ETH_LEN && rt_get16(f + 12) == ETH_P_IP)
			rt_icmp4_error(c, h->in_port, f, len, h->words[0] >> 8, h->words[0] & 0xff);
		else if (len >= ETH_LEN && rt_get16(f + 12) == ETH_P_IPV6)
			rt_icmp6_error(c, h->in_port, f, len, h->words[0] >> 8, h->words[0] & 0xff);
		break;
	case RT_REASON_NEIGH: rt_on_neigh(c, h, f, len); break;
	default: break;
	}
}

static void rt_tick(struct cube *c)
{
	struct rt_priv *pv = cube_priv(c);
	uint64_t now = rt_now_ms();

	if (!pv->applied)
		return; /* a restarted process: the learned state waits for its config */
	for (int i = 0; i < RT_PENDING_MAX; i++) {
		struct rt_pending *p = &pv->pend[i];

		if (!p->used)
			continue;
		if (rt_neigh_alive(c, &p->nh, p->port)) {
			/* learned without telling us (the limiter took the reply) */
			rt_pending_flush(c, p);
			continue;
		}
		if (now < p->next_ms)
			continue;
		if (p->tries < RT_RESOLVE_TRIES) {
			p->tries++;
			p->next_ms = now + RT_RESOLVE_RETRY_MS;
			rt_solicit(c, &p->nh, p->port);
			continue;
		}
		for (int k = 0; k < p->count; k++)
			rt_unreachable(c, &p->q[(p->head + k) % RT_QUEUE_MAX]);
		pv->unresolved += p->count;
		rt_pending_free(p);
	}
	if (now - pv->last_sweep_ms >= RT_SWEEP_MS) {
		struct rt_neigh_walk w = { .cfg = &pv->cfg, .fd = RT_MAP_FD(c, rt_neigh), .now = rt_now_ns() };

		pv->last_sweep_ms = now;
		rt_map_prune(w.fd, sizeof(struct rt_addr), rt_keep_neigh, &w);
	}
}

/* ---- cube callbacks ---------------------------------------------------------- */

static struct bpf_object *rt_open(void **skel, int xdp)
{
	if (xdp) {
		struct router_xdp *s = router_xdp__open();

		*skel = s;
		return s ? s->obj : NULL;
	}
	struct router_tc *s = router_tc__open();

	*skel = s;
	return s ? s->obj : NULL;
}

static int rt_load(void *skel, int xdp)
{
	return xdp ? router_xdp__load(skel) : router_tc__load(skel);
}

static void rt_destroy(void *skel, int xdp)
{
	if (xdp)
		router_xdp__destroy(skel);
	else
		router_tc__destroy(skel);
}

static int rt_apply(struct cube *c, struct json_object *jcfg, char *err, size_t errlen)
{
	struct rt_priv *pv = cube_priv(c);
	struct rt_cfg cfg = { 0 };
	int r;

	r = rt_cfg_parse(c, jcfg, &pv->cfg, !pv->applied, &cfg, err, errlen);
	if (r == 0)
		r = rt_sync_maps(c, &cfg, err, errlen);
	if (r < 0) {
		rt_cfg_free(&cfg);
		return r;
	}
	rt_cfg_free(&pv->cfg);
	pv->cfg = cfg;
	pv->applied = 1;
	/* what waits for a port that is gone, or a next hop no longer routed
	 * there, waits no more */
	for (int i = 0; i < RT_PENDING_MAX; i++) {
		struct rt_pending *p = &pv->pend[i];

		if (p->used && (!cfg.on[p->port] || !rt_cfg_net_of(&cfg, &p->nh, p->port)))
			rt_pending_free(p);
	}
	return 0;
}

static void rt_read_route(struct json_object *list, const char *net, const char *nh, const char *ifname, __u32 cost,
			  int active)
{
	struct json_object *e = json_object_new_object();

	json_object_object_add(e, "network", json_object_new_string(net));
	json_object_object_add(e, "nexthop", json_object_new_string(nh));
	json_object_object_add(e, "interface", json_object_new_string(ifname));
	json_object_object_add(e, "pathcost", json_object_new_int64(cost));
	json_object_object_add(e, "active", json_object_new_boolean(active));
	json_object_array_add(list, e);
}

static void rt_read_neigh(struct cube *c, struct json_object *list)
{
	struct rt_priv *pv = cube_priv(c);
	const struct rt_cfg *cfg = &pv->cfg;
	int fd = RT_MAP_FD(c, rt_neigh);
	struct rt_addr key, next;
	uint64_t now = rt_now_ns();
	void *prev = NULL;
	char mac[32], addr[INET6_ADDRSTRLEN];

	for (int i = 0; i < cfg->nsn; i++) {
		struct json_object *e = json_object_new_object();

		rt_format_mac(cfg->sn[i].mac, mac, sizeof(mac));
		json_object_object_add(e, "address", json_object_new_string(cfg->sn[i].key));
		json_object_object_add(e, "mac", json_object_new_string(mac));
		json_object_object_add(e, "interface", json_object_new_string(rt_pname(cfg, cfg->sn[i].port)));
		json_object_object_add(e, "age", json_object_new_int64(0));
		json_object_array_add(list, e);
	}
	while (bpf_map_get_next_key(fd, prev, &next) == 0) {
		struct json_object *e;
		struct rt_neigh n;
		uint64_t age;

		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(fd, &key, &n) < 0 || (n.flags & RT_NEIGH_STATIC))
			continue;
		age = now > n.seen_ns ? now - n.seen_ns : 0;
		if (cfg->aging_ns && age > cfg->aging_ns)
			continue; /* aged: the fast path no longer uses it */
		e = json_object_new_object();
		rt_format_mac(n.mac, mac, sizeof(mac));
		json_object_object_add(e, "address", json_object_new_string(rt_ntop(&key, addr, sizeof(addr))));
		json_object_object_add(e, "mac", json_object_new_string(mac));
		json_object_object_add(e, "interface", json_object_new_string(rt_pname(cfg, n.port)));
		json_object_object_add(e, "age", json_object_new_int64(age / NS_PER_S));
		json_object_array_add(list, e);
	}
}

static void rt_read_stats(struct cube *c, struct json_object *out)
{
	struct rt_priv *pv = cube_priv(c);
	struct json_object *sp = json_object_new_object(), *list = json_object_new_array(),
			   *st = json_object_new_object();
	int ncpus = libbpf_num_possible_cpus(), fd = RT_MAP_FD(c, rt_spcnt);
	struct rt_spcount *v = ncpus > 0 ? calloc(ncpus, sizeof(*v)) : NULL;

	for (__u32 r = 0; r < RT_NREASONS; r++) {
		struct json_object *e = json_object_new_object();
		uint64_t sent = 0, limited = 0;

		if (v && bpf_map_lookup_elem(fd, &r, v) == 0)
			for (int i = 0; i < ncpus; i++) {
				sent += v[i].sent;
				limited += v[i].limited;
			}
		json_object_object_add(e, "name", json_object_new_string(rt_reason_names[r]));
		json_object_object_add(e, "sent-packets", json_object_new_int64(sent));
		json_object_object_add(e, "limited-packets", json_object_new_int64(limited));
		json_object_array_add(list, e);
	}
	free(v);
	json_object_object_add(sp, "reason", list);
	json_object_object_add(out, "slowpath-limit", sp);
	json_object_object_add(st, "queue-drop-packets", json_object_new_int64(pv->queue_drops));
	json_object_object_add(st, "unresolved-packets", json_object_new_int64(pv->unresolved));
	json_object_object_add(st, "icmp-error-packets", json_object_new_int64(pv->icmp_sent));
	json_object_object_add(out, "statistics", st);
}

static int rt_read(struct cube *c, struct json_object *out, char *err, size_t errlen)
{
	struct rt_priv *pv = cube_priv(c);
	const struct rt_cfg *cfg = &pv->cfg;
	struct json_object *ports = json_object_new_array(), *routes = json_object_new_array(),
			   *neigh = json_object_new_array();
	char mac[32], net[INET6_ADDRSTRLEN + 8], addr[INET6_ADDRSTRLEN];

	for (int p = 0; p < CB_MAX_PORTS; p++) {
		struct json_object *e;

		if (!cfg->on[p])
			continue;
		e = json_object_new_object();
		rt_format_mac(cfg->mac[p], mac, sizeof(mac));
		json_object_object_add(e, "name", json_object_new_string(cfg->pname[p]));
		json_object_object_add(e, "mac", json_object_new_string(mac));
		json_object_array_add(ports, e);
	}
	for (int i = 0; i < cfg->nifa; i++) {
		struct rt_addr a = cfg->ifa[i].addr;

		rt_mask(&a, cfg->ifa[i].bits);
		snprintf(net, sizeof(net), "%s/%u", rt_ntop(&a, addr, sizeof(addr)), cfg->ifa[i].plen);
		rt_read_route(routes, net,
			      cfg->ifa[i].family == AF_INET ? "0.0.0.0" : "::", cfg->pname[cfg->ifa[i].port], 0, 1);
	}
	for (int i = 0; i < cfg->nrt; i++)
		rt_read_route(routes, cfg->rt[i].network, cfg->rt[i].nexthop,
			      cfg->rt[i].port >= 0 ? rt_pname(cfg, cfg->rt[i].port) : cfg->rt[i].ifname,
			      cfg->rt[i].cost, cfg->rt[i].active);
	rt_read_neigh(c, neigh);
	json_object_object_add(out, "ports", ports);
	json_object_object_add(out, "route", routes);
	json_object_object_add(out, "arp-table", neigh);
	rt_read_stats(c, out);
	return 0;
}

static int rt_action(struct cube *c, const char *path, struct json_object *in, struct json_object **result, char *err,
		     size_t errlen)
{
	int fd = RT_MAP_FD(c, rt_neigh);
	const char *only = cube_json_str(in, "address", NULL);
	struct rt_addr want, key, next;
	unsigned flushed = 0;
	void *prev = NULL;
	int fam;

	if (strcmp(path, "arp-flush")) {
		snprintf(err, errlen, "router has no action %s", path);
		return -ENOENT;
	}
	if (only && rt_parse_addr(only, &want, &fam) < 0) {
		snprintf(err, errlen, "arp-flush: %s is not an address", only);
		return -EINVAL;
	}
	while (bpf_map_get_next_key(fd, prev, &next) == 0) {
		struct rt_neigh n;

		key = next;
		if (bpf_map_lookup_elem(fd, &key, &n) == 0 && !(n.flags & RT_NEIGH_STATIC) &&
		    (!only || rt_addr_eq(&key, &want)) && bpf_map_delete_elem(fd, &key) == 0) {
			flushed++;
			prev = NULL; /* restart: deleting invalidates the walk */
			continue;
		}
		prev = &key;
	}
	*result = json_object_new_object();
	json_object_object_add(*result, "flushed", json_object_new_int64(flushed));
	return 0;
}

static const struct cube_ops router_ops = {
	.service = "router",
	.open = rt_open,
	.load = rt_load,
	.destroy = rt_destroy,
	.apply = rt_apply,
	.read = rt_read,
	.action = rt_action,
	.pktin = rt_pktin,
	.priv_size = sizeof(struct rt_priv),
	.tick = rt_tick,
	.tick_ms = RT_TICK_MS,
};

int main(int argc, char **argv)
{
	return cube_main(argc, argv, &router_ops);
}
