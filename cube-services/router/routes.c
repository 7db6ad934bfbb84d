/* SPDX-License-Identifier: Apache-2.0 */
/*
 * router: the route table.
 *
 * Routes are kept by destination network (struct rt_net, a hash table):
 * each network is connected (the network of a port's address), has static
 * routes, or both, and has one entry in the LPM trie of its family while it
 * has a route that can be used: the connected one, else the static route of
 * the lowest path cost among those whose next hop is on a network of the
 * router (of its interface, if given), the oldest on a tie. A change touches
 * the networks it concerns only, so a table of thousands of routes costs
 * one map write per route added.
 *
 * A new route's next hop must be on a network of the router. A route the
 * router already has stays when an address change leaves its next hop on
 * none: it is kept inactive until an address brings the next hop back. So
 * is every route of a process replaying its configuration, accepted before.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>

#include "router.h"
#include "router_cfg.h"

static unsigned rt_net_hash(const struct rt_addr *a, unsigned bits)
{
	uint32_t h = 2166136261u ^ bits;

	for (int i = 0; i < 16; i++) {
		h ^= a->a[i];
		h *= 16777619u;
	}
	return h % RT_NET_BUCKETS;
}

static struct rt_net *rt_net_find(const struct rt_routes *t, int family, const struct rt_addr *a, unsigned bits)
{
	if (!t->buckets)
		return NULL;
	for (struct rt_net *n = t->buckets[rt_net_hash(a, bits)]; n; n = n->hnext)
		if (n->family == family && n->bits == bits && rt_addr_eq(&n->addr, a))
			return n;
	return NULL;
}

/* The network (a with its host part zero), made if new; NULL: no memory. */
static struct rt_net *rt_net_get(struct rt_routes *t, int family, const struct rt_addr *a, unsigned bits)
{
	struct rt_net *n = rt_net_find(t, family, a, bits);
	unsigned h = rt_net_hash(a, bits);

	if (n)
		return n;
	if (!t->buckets && !(t->buckets = calloc(RT_NET_BUCKETS, sizeof(*t->buckets))))
		return NULL;
	n = calloc(1, sizeof(*n));
	if (!n)
		return NULL;
	n->family = family;
	n->addr = *a;
	n->bits = bits;
	n->conn_port = -1;
	n->hnext = t->buckets[h];
	t->buckets[h] = n;
	return n;
}

/* Frees a network nothing routes to any more. */
static void rt_net_put(struct rt_routes *t, struct rt_net *n)
{
	struct rt_net **pp;

	if (!n || n->routes || n->conn_port >= 0)
		return;
	for (pp = &t->buckets[rt_net_hash(&n->addr, n->bits)]; *pp; pp = &(*pp)->hnext)
		if (*pp == n) {
			*pp = n->hnext;
			break;
		}
	free(n);
}

static unsigned rt_net_plen(const struct rt_net *n)
{
	return n->family == AF_INET ? n->bits - 96 : n->bits;
}

/* The port whose address has the network n, or -1. */
static int rt_net_conn_port(const struct rt_priv *pv, const struct rt_net *n)
{
	for (int i = 0; i < pv->nifa; i++) {
		struct rt_addr a = pv->ifa[i].addr;

		rt_mask(&a, pv->ifa[i].bits);
		if (pv->ifa[i].bits == n->bits && rt_is_v4(&a) == (n->family == AF_INET) && rt_addr_eq(&a, &n->addr))
			return pv->ifa[i].port;
	}
	return -1;
}

/*
 * Writes the LPM entry of network n: its connected route, else the static
 * route in use, else none; and sets which route is active.
 */
static int rt_net_sync(struct cube *c, struct rt_net *n)
{
	struct rt_route v = { .plen = rt_net_plen(n) };
	struct rt_sroute *best = NULL;
	struct rt_lpm4 k4 = { .plen = rt_net_plen(n), .addr = n->addr.w[3] };
	struct rt_lpm6 k6 = { .plen = n->bits };
	const void *key = &k4;
	int fd, r;
	char text[INET6_ADDRSTRLEN + 8];

	for (struct rt_sroute *s = n->routes; s; s = s->net_next) {
		s->active = false;
		if (n->conn_port < 0 && s->port >= 0 &&
		    (!best || s->cost < best->cost || (s->cost == best->cost && s->seq < best->seq)))
			best = s;
	}
	if (best)
		best->active = true;
	if (n->family == AF_INET6) {
		memcpy(k6.addr, n->addr.a, 16);
		key = &k6;
	}
	fd = cube_map_fd(c, n->family == AF_INET ? "rt_rt4" : "rt_rt6");
	if (n->conn_port >= 0) {
		v.port = n->conn_port;
		v.flags = RT_ROUTE_CONNECTED;
	} else if (best) {
		v.port = best->port;
		v.nexthop = best->nh;
	} else if (!cube_config(c)) {
		/* a process replaying its configuration: a route may still come
		 * back with an address yet to come; the sweep removes the rest */
		return 0;
	} else {
		if (bpf_map_delete_elem(fd, key) < 0 && errno != ENOENT)
			goto fail;
		return 0;
	}
	if (bpf_map_update_elem(fd, key, &v, BPF_ANY) == 0)
		return 0;
fail:
	r = -errno;
	cube_fail(c, "cannot write the route to %s: %s", rt_prefix_text(&n->addr, rt_net_plen(n), text, sizeof(text)),
		  strerror(-r));
	return r;
}

static struct rt_sroute *rt_route_in(const struct rt_net *n, const struct rt_addr *nh)
{
	for (struct rt_sroute *s = n ? n->routes : NULL; s; s = s->net_next)
		if (rt_addr_eq(&s->nh, nh))
			return s;
	return NULL;
}

/* The port of a static route's next hop, by the addresses the router has
 * now: -1 if it is on none, or on another port than its interface. */
static int rt_route_port(const struct rt_priv *pv, const struct rt_sroute *s)
{
	const struct rt_ifaddr *f = rt_net_of(pv, &s->nh, -1);

	if (!f || (s->ifname[0] && strcmp(s->ifname, pv->ifs[f->port].name)))
		return -1;
	return f->port;
}

const char *rt_route_text(const struct rt_sroute *s, char *buf, size_t size)
{
	char net[INET6_ADDRSTRLEN + 8], nh[INET6_ADDRSTRLEN];

	snprintf(buf, size, "%s via %s", rt_prefix_text(&s->net->addr, rt_net_plen(s->net), net, sizeof(net)),
		 rt_ntop(&s->nh, nh, sizeof(nh)));
	return buf;
}

/* A route's key, as the router keeps it. */
struct rt_rkey {
	int family;
	struct rt_addr net, nh;
	unsigned bits;
};

static int rt_rkey_of(const struct router_route *r, struct rt_rkey *k)
{
	if (rt_addr_from_ip(&r->network, &k->net) < 0 || rt_addr_from_ip(&r->nexthop, &k->nh) < 0)
		return -EINVAL;
	k->family = r->network.family;
	k->bits = rt_bits(k->family, r->network.len);
	rt_mask(&k->net, k->bits);
	return 0;
}

static struct rt_sroute *rt_route_find(const struct rt_priv *pv, const struct router_route *r)
{
	struct rt_rkey k;

	if (rt_rkey_of(r, &k) < 0)
		return NULL;
	return rt_route_in(rt_net_find(&pv->routes, k.family, &k.net, k.bits), &k.nh);
}

static int rt_same_route(const struct router_route *e, void *arg)
{
	const struct rt_rkey *want = arg;
	struct rt_rkey k;

	if (rt_rkey_of(e, &k) == 0 && k.family == want->family && k.bits == want->bits &&
	    rt_addr_eq(&k.net, &want->net) && rt_addr_eq(&k.nh, &want->nh))
		return -EEXIST; /* stops the walk */
	return 0;
}

/*
 * The route was accepted before: it is in the configuration applied last
 * (the undo of its deletion), or that configuration is still to come (a
 * process replaying it).
 */
static int rt_route_known(struct cube *c, const struct rt_rkey *k)
{
	return !cube_config(c) || router_route_foreach(cube_config(c), rt_same_route, (void *)k) == -EEXIST;
}

static void rt_route_unlink(struct rt_priv *pv, struct rt_sroute *s)
{
	struct rt_routes *t = &pv->routes;
	struct rt_sroute **pp;

	for (pp = &s->net->routes; *pp; pp = &(*pp)->net_next)
		if (*pp == s) {
			*pp = s->net_next;
			break;
		}
	if (s->prev)
		s->prev->next = s->next;
	else
		t->first = s->next;
	if (s->next)
		s->next->prev = s->prev;
	else
		t->last = s->prev;
	t->n--;
}

int router_route_create(struct cube *c, const struct router_route *new)
{
	struct rt_priv *pv = cube_priv(c);
	struct rt_routes *t = &pv->routes;
	const struct rt_ifaddr *f;
	struct rt_sroute *s;
	struct rt_net *n;
	struct rt_rkey k;
	char net[INET6_ADDRSTRLEN + 8], nh[INET6_ADDRSTRLEN];
	int r;

	if (rt_rkey_of(new, &k) < 0) {
		cube_fail(c, "route: IPv4-mapped IPv6 addresses (::ffff:a.b.c.d) are not routed; give the IPv4 "
			     "address");
		return -EINVAL;
	}
	rt_prefix_text(&k.net, new->network.len, net, sizeof(net));
	rt_ntop(&k.nh, nh, sizeof(nh));
	if (new->nexthop.family != k.family) {
		cube_fail(c, "route %s via %s: the network and its next hop are not of one family", net, nh);
		return -EINVAL;
	}
	if (rt_addr_is_zero(&k.nh)) {
		cube_fail(c,
			  "route %s via %s: that next hop stands for connected networks, which the router adds "
			  "itself; give a neighbour's address",
			  net, nh);
		return -EINVAL;
	}
	if (rt_is_local(pv, &k.nh)) {
		cube_fail(c, "route %s via %s: the next hop is an address of this router", net, nh);
		return -EINVAL;
	}
	if (rt_route_in(rt_net_find(t, k.family, &k.net, k.bits), &k.nh)) {
		cube_fail(c, "route %s via %s is given twice", net, nh);
		return -EEXIST;
	}
	f = rt_net_of(pv, &k.nh, -1);
	if (!f && !rt_route_known(c, &k)) {
		cube_fail(c,
			  "route %s via %s: the next hop is on none of the router's networks (a next hop must be "
			  "on the network of a port's address)",
			  net, nh);
		return -EINVAL;
	}
	if (f && new->interface && strcmp(new->interface, pv->ifs[f->port].name) && !rt_route_known(c, &k)) {
		cube_fail(c, "route %s via %s: the next hop is reached by port %s, not %s", net, nh,
			  pv->ifs[f->port].name, new->interface);
		return -EINVAL;
	}
	/* the broker refuses this already (max-elements of route): a defence
	 * for a configuration that reaches the process another way */
	if (t->n >= RT_STATIC_MAX) {
		cube_fail(c, "too many static routes (at most %d)", RT_STATIC_MAX);
		return -ENOSPC;
	}
	n = rt_net_get(t, k.family, &k.net, k.bits);
	s = n ? calloc(1, sizeof(*s)) : NULL;
	if (!s) {
		rt_net_put(t, n);
		cube_fail(c, "route %s via %s: out of memory", net, nh);
		return -ENOMEM;
	}
	s->net = n;
	s->nh = k.nh;
	s->cost = new->pathcost;
	s->seq = t->seq++;
	snprintf(s->ifname, sizeof(s->ifname), "%s", new->interface ? new->interface : "");
	s->port = rt_route_port(pv, s);
	s->net_next = n->routes;
	n->routes = s;
	s->prev = t->last;
	if (t->last)
		t->last->next = s;
	else
		t->first = s;
	t->last = s;
	t->n++;
	r = rt_net_sync(c, n);
	if (r < 0) {
		rt_route_unlink(pv, s);
		free(s);
		rt_net_sync(c, n);
		rt_net_put(t, n);
	}
	return r;
}

/* The path cost or the interface changed. */
int router_route_update(struct cube *c, const struct router_route *old, const struct router_route *new)
{
	struct rt_priv *pv = cube_priv(c);
	struct rt_sroute *s = rt_route_find(pv, new), was;
	int r;

	if (!s)
		return router_route_create(c, new);
	was = *s;
	s->cost = new->pathcost;
	snprintf(s->ifname, sizeof(s->ifname), "%s", new->interface ? new->interface : "");
	/* a known route: an interface its next hop is not on leaves it inactive */
	s->port = rt_route_port(pv, s);
	r = rt_net_sync(c, s->net);
	if (r < 0) {
		s->cost = was.cost;
		memcpy(s->ifname, was.ifname, sizeof(s->ifname));
		s->port = was.port;
		rt_net_sync(c, s->net);
	}
	return r;
}

int router_route_delete(struct cube *c, const struct router_route *old)
{
	struct rt_priv *pv = cube_priv(c);
	struct rt_sroute *s = rt_route_find(pv, old);
	struct rt_net *n;
	int r;

	if (!s)
		return 0;
	n = s->net;
	rt_route_unlink(pv, s);
	free(s);
	/* if the trie refuses, the undo creates the route again */
	r = rt_net_sync(c, n);
	rt_net_put(&pv->routes, n);
	return r;
}

int rt_routes_connect(struct cube *c, const struct rt_ifaddr *f, bool on)
{
	struct rt_priv *pv = cube_priv(c);
	struct rt_routes *t = &pv->routes;
	int family = rt_is_v4(&f->addr) ? AF_INET : AF_INET6, r = 0, k;
	struct rt_addr a = f->addr;
	struct rt_net *n;

	rt_mask(&a, f->bits);
	n = on ? rt_net_get(t, family, &a, f->bits) : rt_net_find(t, family, &a, f->bits);
	if (on && !n) {
		cube_fail(c, "out of memory");
		return -ENOMEM;
	}
	if (n) {
		/* another address of the same network may take over (an
		 * address changed: the new one comes before the old goes) */
		n->conn_port = rt_net_conn_port(pv, n);
		r = rt_net_sync(c, n);
	}
	for (struct rt_sroute *s = t->first; s; s = s->next) {
		int port;

		if (rt_is_v4(&s->nh) != (family == AF_INET) || !rt_prefix_eq(&s->nh, &f->addr, f->bits))
			continue;
		port = rt_route_port(pv, s);
		if (port == s->port)
			continue;
		s->port = port;
		k = rt_net_sync(c, s->net);
		if (k < 0 && !r)
			r = k;
	}
	if (n)
		rt_net_put(t, n);
	return r;
}

const struct rt_sroute *rt_routes_via_port(const struct rt_priv *pv, int port)
{
	for (const struct rt_sroute *s = pv->routes.first; s; s = s->next)
		if (s->port == port)
			return s;
	return NULL;
}

const struct rt_sroute *rt_routes_via_addr(const struct rt_priv *pv, const struct rt_addr *a)
{
	for (const struct rt_sroute *s = pv->routes.first; s; s = s->next)
		if (rt_addr_eq(&s->nh, a))
			return s;
	return NULL;
}

static int rt_emit_route(struct cube_state *st, const struct rt_addr *net, unsigned plen, const struct rt_addr *nh,
			 const char *ifname, __u32 cost, bool active)
{
	/* an inactive route may be on no port: no interface then (a port name is never empty) */
	struct router_route_state e = { .interface = ifname && ifname[0] ? ifname : NULL,
					.pathcost = cost,
					.active = active };

	rt_ip_from_addr(net, plen, &e.network);
	rt_ip_from_addr(nh, rt_is_v4(nh) ? 32 : 128, &e.nexthop);
	return router_route_emit(st, &e);
}

int rt_routes_state(struct cube *c, struct cube_state *st)
{
	const struct rt_priv *pv = cube_priv(c);
	int r = 0;

	for (int i = 0; i < pv->nifa && r == 0; i++) {
		const struct rt_ifaddr *f = &pv->ifa[i];
		struct rt_addr a = f->addr, any = { 0 };

		rt_mask(&a, f->bits);
		if (rt_is_v4(&a))
			rt_addr_v4(&any, 0);
		r = rt_emit_route(st, &a, f->plen, &any, rt_pname(pv, f->port), 0, true);
	}
	for (const struct rt_sroute *s = pv->routes.first; s && r == 0; s = s->next)
		r = rt_emit_route(st, &s->net->addr, rt_net_plen(s->net), &s->nh,
				  s->port >= 0 ? rt_pname(pv, s->port) : s->ifname, s->cost, s->active);
	return r;
}

/* An LPM entry stays if its network has a route in use. */
static int rt_keep_net(const struct rt_priv *pv, int family, const struct rt_addr *a, unsigned bits)
{
	const struct rt_net *n = rt_net_find(&pv->routes, family, a, bits);

	if (!n)
		return 0;
	if (n->conn_port >= 0)
		return 1;
	for (const struct rt_sroute *s = n->routes; s; s = s->net_next)
		if (s->active)
			return 1;
	return 0;
}

static int rt_keep_rt4(const void *key, void *arg)
{
	const struct rt_lpm4 *k = key;
	struct rt_addr a;

	rt_addr_v4(&a, k->addr);
	return rt_keep_net(arg, AF_INET, &a, 96 + k->plen);
}

static int rt_keep_rt6(const void *key, void *arg)
{
	const struct rt_lpm6 *k = key;
	struct rt_addr a;

	memcpy(a.a, k->addr, 16);
	return rt_keep_net(arg, AF_INET6, &a, k->plen);
}

void rt_routes_sweep(struct cube *c)
{
	rt_map_prune(cube_map_fd(c, "rt_rt4"), sizeof(struct rt_lpm4), rt_keep_rt4, cube_priv(c));
	rt_map_prune(cube_map_fd(c, "rt_rt6"), sizeof(struct rt_lpm6), rt_keep_rt6, cube_priv(c));
}
