/* SPDX-License-Identifier: Apache-2.0 */
/*
 * router: the cube process of the router service (see router.h for its
 * files). This one holds the cube: its ports and their addresses, its
 * settings, its state, the action, the slow path's dispatch and the tick.
 *
 * Every check that spans entries (overlapping networks, an address on two
 * ports, a port still used by a route) is made by the handler of the entry
 * that changes, against what the process holds; a handler that refuses
 * makes libcube undo the calls of the change already made.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "router.h"
#include "router_cfg.h"
#include "router_tc.skel.h"
#include "router_xdp.skel.h"

static const char *const rt_reason_names[RT_NREASONS] = { "resolve", "icmp-error", "neighbour" };

/* ---- addresses -------------------------------------------------------------- */

int rt_prefix_eq(const struct rt_addr *a, const struct rt_addr *b, unsigned bits)
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

void rt_mask(struct rt_addr *a, unsigned bits)
{
	for (unsigned i = 0; i < 16; i++) {
		unsigned n = bits >= 8 ? 8 : bits;

		a->a[i] &= n ? (__u8)(0xff << (8 - n)) : 0;
		bits -= n;
	}
}

const char *rt_ntop(const struct rt_addr *a, char *buf, size_t size)
{
	if (rt_is_v4(a))
		return inet_ntop(AF_INET, &a->w[3], buf, size);
	return inet_ntop(AF_INET6, a->a, buf, size);
}

const char *rt_prefix_text(const struct rt_addr *a, unsigned plen, char *buf, size_t size)
{
	char addr[INET6_ADDRSTRLEN];

	snprintf(buf, size, "%s/%u", rt_ntop(a, addr, sizeof(addr)), plen);
	return buf;
}

void rt_format_mac(const uint8_t *m, char *buf, size_t size)
{
	snprintf(buf, size, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
}

int rt_addr_from_ip(const struct cb_ip *ip, struct rt_addr *a)
{
	if (ip->family == AF_INET) {
		rt_addr_v4(a, ip->v4.s_addr);
		return 0;
	}
	memcpy(a->a, ip->bytes, 16);
	return ip->family == AF_INET6 && !rt_is_v4(a) ? 0 : -EINVAL;
}

void rt_ip_from_addr(const struct rt_addr *a, unsigned plen, struct cb_ip *ip)
{
	*ip = (struct cb_ip){ .len = plen };
	if (rt_is_v4(a)) {
		ip->family = AF_INET;
		ip->v4.s_addr = a->w[3];
	} else {
		ip->family = AF_INET6;
		memcpy(ip->bytes, a->a, 16);
	}
}

const struct rt_ifaddr *rt_net_of(const struct rt_priv *pv, const struct rt_addr *a, int port)
{
	for (int i = 0; i < pv->nifa; i++) {
		const struct rt_ifaddr *f = &pv->ifa[i];

		if ((port < 0 || f->port == port) && rt_is_v4(&f->addr) == rt_is_v4(a) &&
		    rt_prefix_eq(&f->addr, a, f->bits))
			return f;
	}
	return NULL;
}

int rt_is_local(const struct rt_priv *pv, const struct rt_addr *a)
{
	for (int i = 0; i < pv->nifa; i++)
		if (rt_addr_eq(&pv->ifa[i].addr, a))
			return 1;
	for (int p = 0; p < CB_MAX_PORTS; p++)
		if (pv->ifs[p].on && rt_addr_eq(&pv->ifs[p].ll6, a))
			return 1;
	return 0;
}

const char *rt_pname(const struct rt_priv *pv, int port)
{
	return port >= 0 && port < CB_MAX_PORTS && pv->ifs[port].on ? pv->ifs[port].name : "?";
}

int rt_port_by_name(const struct rt_priv *pv, const char *name)
{
	for (int p = 0; name && p < CB_MAX_PORTS; p++)
		if (pv->ifs[p].on && !strcmp(pv->ifs[p].name, name))
			return p;
	return -1;
}

int rt_src_addr(const struct rt_priv *pv, int port, const struct rt_addr *a, struct rt_addr *src)
{
	const struct rt_ifaddr *f = rt_net_of(pv, a, port);

	if (f) {
		*src = f->addr;
		return 0;
	}
	if (!rt_is_v4(a)) {
		*src = pv->ifs[port].ll6;
		return 0;
	}
	if (pv->ifs[port].ip4) {
		rt_addr_v4(src, pv->ifs[port].ip4);
		return 0;
	}
	for (int i = 0; i < pv->nifa; i++)
		if (pv->ifa[i].port == port && rt_is_v4(&pv->ifa[i].addr)) {
			*src = pv->ifa[i].addr;
			return 0;
		}
	return -ENOENT;
}

void rt_map_prune(int fd, size_t key_size, int (*keep)(const void *key, void *arg), void *arg)
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

/* ---- ports ------------------------------------------------------------------ */

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

static int rt_mac_is_zero(const uint8_t *m)
{
	return !(m[0] | m[1] | m[2] | m[3] | m[4] | m[5]);
}

/* The MAC a port entry gives its port (an all-zero one is not set). */
static int rt_port_mac(struct cube *c, const struct router_ports *e, uint8_t *mac)
{
	char text[32];

	if (rt_mac_is_zero(e->mac)) {
		rt_gen_mac(cube_name(c), e->name, mac);
		return 0;
	}
	if (e->mac[0] & 1) {
		rt_format_mac(e->mac, text, sizeof(text));
		cube_fail(c, "port %s: mac %s is not a unicast MAC address", e->name, text);
		return -EINVAL;
	}
	memcpy(mac, e->mac, 6);
	return 0;
}

/* Writes the fast path's entry of port p (a cleared one if p is off). */
static int rt_port_write(struct cube *c, int p)
{
	struct rt_priv *pv = cube_priv(c);
	const struct rt_iface *f = &pv->ifs[p];
	struct rt_port pt = { 0 };
	__u32 key = p;

	if (f->on) {
		memcpy(pt.mac, f->mac, 6);
		pt.flags = RT_PORT_ON;
		pt.ip4 = f->ip4;
	}
	if (bpf_map_update_elem(cube_map_fd(c, "rt_ports"), &key, &pt, BPF_ANY) < 0) {
		int r = -errno;

		cube_fail(c, "cannot write port %s to the router's tables: %s", f->name, strerror(-r));
		return r;
	}
	return 0;
}

static int rt_local_write(struct cube *c, const struct rt_addr *a, int port, unsigned plen)
{
	struct rt_local v = { .port = port, .plen = plen };
	char text[INET6_ADDRSTRLEN];

	if (bpf_map_update_elem(cube_map_fd(c, "rt_local"), a, &v, BPF_ANY) < 0) {
		int r = -errno;

		if (r == -E2BIG)
			cube_fail(c, "cannot add the router's address %s: the router holds at most %d addresses",
				  rt_ntop(a, text, sizeof(text)), RT_LOCAL_MAX);
		else
			cube_fail(c, "cannot add the router's address %s: %s", rt_ntop(a, text, sizeof(text)),
				  strerror(-r));
		return r;
	}
	return 0;
}

/* ---- addresses of ports ----------------------------------------------------- */

/*
 * Checks a new address of port (the primary one if primary) against the
 * router's others, but the one at index skip (the address it replaces).
 * Fills f. 0, or -errno with a sentence.
 */
static int rt_addr_check(struct cube *c, int port, const struct cb_ip *ip, bool primary, int skip, struct rt_ifaddr *f)
{
	struct rt_priv *pv = cube_priv(c);
	const char *pname = pv->ifs[port].name;
	const struct rt_sroute *s;
	const struct rt_sneigh *sn;
	char text[INET6_ADDRSTRLEN + 8], other[INET6_ADDRSTRLEN + 8], buf[128];
	int count = 0;

	*f = (struct rt_ifaddr){ .port = port, .plen = ip->len, .bits = rt_bits(ip->family, ip->len) };
	if (rt_addr_from_ip(ip, &f->addr) < 0 || (primary && ip->family != AF_INET)) {
		cube_fail(c, "port %s: the %s address is not an %s address with a prefix length (like %s)", pname,
			  primary ? "primary" : "secondary", primary ? "IPv4" : "IP",
			  primary ? "10.0.1.254/24" : "10.0.1.254/24 or fd00:1::fe/64");
		return -EINVAL;
	}
	rt_prefix_text(&f->addr, f->plen, text, sizeof(text));
	if (f->plen == 0) {
		cube_fail(c, "port %s: %s has prefix length 0; give the length of the port's network", pname, text);
		return -EINVAL;
	}
	if (ip->family == AF_INET) {
		__u32 h = ntohl(f->addr.w[3]);

		if ((h >> 24) == 0 || (h >> 24) == 127 || (h >> 28) >= 0xe) {
			cube_fail(c, "port %s: %s is not a unicast host address", pname, text);
			return -EINVAL;
		}
		if (f->plen <= 30) {
			__u32 host = 0xffffffffu >> f->plen;

			if (!(h & host) || (h & host) == host) {
				cube_fail(c, "port %s: %s is the %s address of its network, not a host's", pname, text,
					  (h & host) ? "broadcast" : "network");
				return -EINVAL;
			}
		}
	} else {
		struct rt_addr ll = { .a = { 0xfe, 0x80 } };

		if (f->addr.a[0] == 0xff || rt_addr_is_zero(&f->addr) ||
		    (f->addr.w[0] == 0 && f->addr.w[1] == 0 && f->addr.w[2] == 0 && f->addr.w[3] == htonl(1))) {
			cube_fail(c, "port %s: %s is not a unicast host address", pname, text);
			return -EINVAL;
		}
		if (rt_prefix_eq(&f->addr, &ll, 10)) {
			cube_fail(c,
				  "port %s: %s is link-local; each port has its own fe80:: address already, give a "
				  "global or unique-local one",
				  pname, text);
			return -EINVAL;
		}
	}
	for (int i = 0; i < pv->nifa; i++) {
		const struct rt_ifaddr *o = &pv->ifa[i];
		unsigned bits = o->bits < f->bits ? o->bits : f->bits;

		if (i == skip)
			continue;
		count += o->port == port;
		if (rt_is_v4(&o->addr) != rt_is_v4(&f->addr))
			continue;
		if (rt_addr_eq(&o->addr, &f->addr)) {
			if (o->port == port)
				cube_fail(c, "port %s: address %s is given twice", pname, text);
			else
				cube_fail(c, "address %s of port %s is already the address of port %s", text, pname,
					  rt_pname(pv, o->port));
			return -EEXIST;
		}
		if (rt_prefix_eq(&o->addr, &f->addr, bits)) {
			cube_fail(c,
				  "port %s: the network of %s overlaps that of %s on port %s; the networks of a "
				  "router's addresses must not overlap",
				  pname, text, rt_prefix_text(&o->addr, o->plen, other, sizeof(other)),
				  rt_pname(pv, o->port));
			return -EINVAL;
		}
	}
	if (count >= RT_PORT_ADDRS) {
		cube_fail(c, "port %s: too many secondary addresses (at most %d)", pname, RT_PORT_ADDRS - 1);
		return -ENOSPC;
	}
	if (pv->nifa - (skip >= 0) >= RT_ADDRS_MAX) {
		cube_fail(c, "too many addresses (at most %d)", RT_ADDRS_MAX);
		return -ENOSPC;
	}
	s = rt_routes_via_addr(pv, &f->addr);
	if (s) {
		cube_fail(c, "port %s: %s is the next hop of route %s: delete the route first", pname, text,
			  rt_route_text(s, buf, sizeof(buf)));
		return -EBUSY;
	}
	sn = rt_neigh_static_at(pv, &f->addr);
	if (sn) {
		cube_fail(c, "port %s: %s is a static neighbour's (arp-table %s): delete the entry first", pname, text,
			  rt_ntop(&sn->addr, other, sizeof(other)));
		return -EBUSY;
	}
	return 0;
}

static int rt_addr_find(const struct rt_priv *pv, int port, const struct cb_ip *ip)
{
	struct rt_addr a;

	if (!ip->family || rt_addr_from_ip(ip, &a) < 0)
		return -1;
	for (int i = 0; i < pv->nifa; i++)
		if (pv->ifa[i].port == port && pv->ifa[i].plen == ip->len && rt_addr_eq(&pv->ifa[i].addr, &a))
			return i;
	return -1;
}

static int rt_addr_remove(struct cube *c, int i, bool primary);

/* Adds a checked address: the fast path answers for it, its network is
 * connected, the routes through it can be used. */
static int rt_addr_insert(struct cube *c, const struct rt_ifaddr *f, bool primary)
{
	struct rt_priv *pv = cube_priv(c);
	int r;

	pv->ifa[pv->nifa++] = *f;
	if (primary)
		pv->ifs[f->port].ip4 = f->addr.w[3];
	r = rt_local_write(c, &f->addr, f->port, f->plen);
	if (r == 0 && primary)
		r = rt_port_write(c, f->port);
	if (r == 0)
		r = rt_routes_connect(c, f, true);
	if (r < 0)
		rt_addr_remove(c, pv->nifa - 1, primary);
	return r;
}

/* Removes the address at index i. */
static int rt_addr_remove(struct cube *c, int i, bool primary)
{
	struct rt_priv *pv = cube_priv(c);
	struct rt_ifaddr f = pv->ifa[i];
	int r = 0;

	memmove(&pv->ifa[i], &pv->ifa[i + 1], (pv->nifa - i - 1) * sizeof(pv->ifa[0]));
	pv->nifa--;
	/* an address being replaced: the port's primary is the new one already */
	if (primary && pv->ifs[f.port].ip4 == f.addr.w[3]) {
		pv->ifs[f.port].ip4 = 0;
		r = rt_port_write(c, f.port);
	}
	bpf_map_delete_elem(cube_map_fd(c, "rt_local"), &f.addr);
	if (rt_routes_connect(c, &f, false) < 0 && r == 0)
		r = -EIO;
	return r;
}

/* A port that goes may not be used by a route or a static neighbour. */
static int rt_port_may_go(struct cube *c, int port)
{
	struct rt_priv *pv = cube_priv(c);
	const struct rt_sroute *s = rt_routes_via_port(pv, port);
	const struct rt_sneigh *sn = rt_neigh_static_on(pv, port, NULL);
	char addr[INET6_ADDRSTRLEN], buf[128];

	if (s) {
		cube_fail(c, "port %s is used by route %s: delete the route first", rt_pname(pv, port),
			  rt_route_text(s, buf, sizeof(buf)));
		return -EBUSY;
	}
	if (sn) {
		cube_fail(c, "port %s is used by arp-table entry %s: delete the entry first", rt_pname(pv, port),
			  rt_ntop(&sn->addr, addr, sizeof(addr)));
		return -EBUSY;
	}
	return 0;
}

/* Another address than the one at index i (or repl, its replacement) has
 * the network of a, on port. */
static int rt_net_kept(const struct rt_priv *pv, int i, const struct rt_ifaddr *repl, int port, const struct rt_addr *a)
{
	if (repl && rt_is_v4(&repl->addr) == rt_is_v4(a) && rt_prefix_eq(&repl->addr, a, repl->bits))
		return 1;
	for (int k = 0; k < pv->nifa; k++) {
		const struct rt_ifaddr *g = &pv->ifa[k];

		if (k != i && g->port == port && rt_is_v4(&g->addr) == rt_is_v4(a) &&
		    rt_prefix_eq(&g->addr, a, g->bits))
			return 1;
	}
	return 0;
}

/* The address at index i may go (for repl, if not NULL): no static
 * neighbour is left on none of its port's networks. */
static int rt_addr_may_go(struct cube *c, int i, const struct rt_ifaddr *repl)
{
	struct rt_priv *pv = cube_priv(c);
	const struct rt_ifaddr *f = &pv->ifa[i];
	char text[INET6_ADDRSTRLEN + 8], addr[INET6_ADDRSTRLEN];

	if (!cube_config(c))
		return 0; /* a process replaying its configuration: accepted before */
	for (int k = 0; k < pv->nsn; k++) {
		const struct rt_sneigh *sn = &pv->sn[k];

		if (sn->port != f->port || rt_is_v4(&sn->addr) != rt_is_v4(&f->addr) ||
		    !rt_prefix_eq(&sn->addr, &f->addr, f->bits) || rt_net_kept(pv, i, repl, f->port, &sn->addr))
			continue;
		cube_fail(c, "port %s: arp-table entry %s is on the network of %s: delete the entry first",
			  rt_pname(pv, f->port), rt_ntop(&sn->addr, addr, sizeof(addr)),
			  rt_prefix_text(&f->addr, f->plen, text, sizeof(text)));
		return -EBUSY;
	}
	return 0;
}

/* The entry of a port (ports have handlers for the router's leaves: ip and
 * mac); its index is libcube's, which has it before the handlers run. */
int router_ports_create(struct cube *c, const struct router_ports *new)
{
	struct rt_priv *pv = cube_priv(c);
	int idx = cube_port_index(c, new->name), r;
	struct rt_iface *p;
	struct rt_ifaddr f;
	uint8_t mac[6];

	if (idx < 0 || idx >= CB_MAX_PORTS) {
		cube_fail(c, "port %s has no index", new->name);
		return -ENOENT;
	}
	r = rt_port_mac(c, new, mac);
	if (r < 0)
		return r;
	p = &pv->ifs[idx];
	*p = (struct rt_iface){ .on = true };
	snprintf(p->name, sizeof(p->name), "%s", new->name);
	memcpy(p->mac, mac, 6);
	rt_ll6(mac, &p->ll6);
	if (new->ip.family && (r = rt_addr_check(c, idx, &new->ip, true, -1, &f)) < 0)
		goto off;
	r = rt_port_write(c, idx);
	if (r == 0)
		r = rt_local_write(c, &p->ll6, idx, 64);
	if (r == 0 && new->ip.family)
		r = rt_addr_insert(c, &f, true);
	if (r == 0)
		return 0;
	bpf_map_delete_elem(cube_map_fd(c, "rt_local"), &p->ll6);
off:
	*p = (struct rt_iface){ 0 };
	rt_port_write(c, idx);
	return r;
}

static int rt_ip_eq(const struct cb_ip *a, const struct cb_ip *b)
{
	return a->family == b->family && a->len == b->len && (!a->family || !memcmp(a->bytes, b->bytes, 16));
}

/* The port's MAC: its link-local address and the fast path's entry follow. */
static int rt_port_set_mac(struct cube *c, int idx, const uint8_t *mac)
{
	struct rt_priv *pv = cube_priv(c);
	struct rt_iface *p = &pv->ifs[idx];
	struct rt_addr ll;
	uint8_t was[6];
	int r;

	if (!memcmp(p->mac, mac, 6))
		return 0;
	rt_ll6(mac, &ll);
	memcpy(was, p->mac, 6);
	r = rt_local_write(c, &ll, idx, 64);
	if (r < 0)
		return r;
	memcpy(p->mac, mac, 6);
	r = rt_port_write(c, idx);
	if (r < 0) {
		memcpy(p->mac, was, 6);
		bpf_map_delete_elem(cube_map_fd(c, "rt_local"), &ll);
		return r;
	}
	bpf_map_delete_elem(cube_map_fd(c, "rt_local"), &p->ll6);
	p->ll6 = ll;
	return 0;
}

int router_ports_update(struct cube *c, const struct router_ports *old, const struct router_ports *new)
{
	struct rt_priv *pv = cube_priv(c);
	int idx = rt_port_by_name(pv, new->name), i, r;
	struct rt_ifaddr f;
	uint8_t mac[6], was[6];

	if (idx < 0)
		return router_ports_create(c, new);
	r = rt_port_mac(c, new, mac);
	if (r < 0)
		return r;
	memcpy(was, pv->ifs[idx].mac, 6);
	if (rt_ip_eq(&old->ip, &new->ip))
		return rt_port_set_mac(c, idx, mac);
	/* the address changes: the new one first, then the old goes, so that
	 * a network both have is never without its route */
	i = rt_addr_find(pv, idx, &old->ip);
	if (new->ip.family && (r = rt_addr_check(c, idx, &new->ip, true, i, &f)) < 0)
		return r;
	if (i >= 0 && (r = rt_addr_may_go(c, i, new->ip.family ? &f : NULL)) < 0)
		return r;
	r = rt_port_set_mac(c, idx, mac);
	if (r == 0 && new->ip.family)
		r = rt_addr_insert(c, &f, true);
	if (r < 0) {
		rt_port_set_mac(c, idx, was);
		return r;
	}
	if (i >= 0)
		rt_addr_remove(c, i, true);
	return 0;
}

int router_ports_delete(struct cube *c, const struct router_ports *old)
{
	struct rt_priv *pv = cube_priv(c);
	int idx = rt_port_by_name(pv, old->name), r;
	struct rt_iface *p;

	if (idx < 0)
		return 0;
	p = &pv->ifs[idx];
	r = rt_port_may_go(c, idx);
	if (r < 0)
		return r;
	for (int i = pv->nifa - 1; i >= 0; i--)
		if (pv->ifa[i].port == idx)
			rt_addr_remove(c, i, pv->ifa[i].addr.w[3] == p->ip4 && rt_is_v4(&pv->ifa[i].addr));
	bpf_map_delete_elem(cube_map_fd(c, "rt_local"), &p->ll6);
	*p = (struct rt_iface){ 0 };
	return rt_port_write(c, idx);
}

int router_ports_secondaryip_create(struct cube *c, const struct router_ports_secondaryip *new)
{
	struct rt_priv *pv = cube_priv(c);
	int idx = rt_port_by_name(pv, new->ports_name), r;
	struct rt_ifaddr f;

	if (idx < 0) {
		cube_fail(c, "port %s is not a port of %s", new->ports_name, cube_name(c));
		return -ENOENT;
	}
	r = rt_addr_check(c, idx, &new->ip, false, -1, &f);
	return r < 0 ? r : rt_addr_insert(c, &f, false);
}

/* A secondary address is its key alone: nothing to update. */
int router_ports_secondaryip_update(struct cube *c, const struct router_ports_secondaryip *old,
				    const struct router_ports_secondaryip *new)
{
	return 0;
}

int router_ports_secondaryip_delete(struct cube *c, const struct router_ports_secondaryip *old)
{
	struct rt_priv *pv = cube_priv(c);
	int idx = rt_port_by_name(pv, old->ports_name), i = idx < 0 ? -1 : rt_addr_find(pv, idx, &old->ip), r;

	if (i < 0)
		return 0;
	/* a port that goes loses its secondary addresses first (deepest
	 * first): whether it may go is asked here already */
	if (cube_port_index(c, old->ports_name) < 0)
		r = rt_port_may_go(c, idx);
	else
		r = rt_addr_may_go(c, i, NULL);
	return r < 0 ? r : rt_addr_remove(c, i, false);
}

/* ---- settings --------------------------------------------------------------- */

static int rt_conf_write(struct cube *c)
{
	struct rt_priv *pv = cube_priv(c);
	__u32 rate = pv->rate ? pv->rate : 1000, burst = pv->burst ? pv->burst : 100, zero = 0;
	struct rt_conf conf = { .aging_ns = pv->aging_ns, .interval_ns = NS_PER_S / rate };

	if (!conf.interval_ns)
		conf.interval_ns = 1;
	conf.burst_ns = conf.interval_ns * burst;
	if (bpf_map_update_elem(cube_map_fd(c, "rt_conf"), &zero, &conf, BPF_ANY) < 0) {
		int r = -errno;

		cube_fail(c, "cannot write the router's settings: %s", strerror(-r));
		return r;
	}
	return 0;
}

int router_cube_create(struct cube *c, const struct router_cube *new)
{
	struct rt_priv *pv = cube_priv(c);

	pv->aging_ns = (__u64) new->arp_aging_time *NS_PER_S;
	return rt_conf_write(c);
}

int router_cube_update(struct cube *c, const struct router_cube *old, const struct router_cube *new)
{
	return router_cube_create(c, new);
}

int router_cube_delete(struct cube *c, const struct router_cube *old)
{
	return 0;
}

int router_slowpath_limit_create(struct cube *c, const struct router_slowpath_limit *new)
{
	struct rt_priv *pv = cube_priv(c);

	pv->rate = new->rate_limit;
	pv->burst = new->burst;
	return rt_conf_write(c);
}

int router_slowpath_limit_update(struct cube *c, const struct router_slowpath_limit *old,
				 const struct router_slowpath_limit *new)
{
	return router_slowpath_limit_create(c, new);
}

int router_slowpath_limit_delete(struct cube *c, const struct router_slowpath_limit *old)
{
	struct rt_priv *pv = cube_priv(c);

	pv->rate = 0;
	pv->burst = 0;
	return rt_conf_write(c);
}

/* ---- what a previous process left ------------------------------------------- */

static int rt_keep_local(const void *key, void *arg)
{
	return rt_is_local(arg, key);
}

/*
 * A restarted process gets its whole configuration as creations, on the
 * maps its predecessor filled: what they hold and nobody configures any
 * more (a change the predecessor applied and the broker undid after it
 * died) goes once the configuration is applied.
 */
static void rt_sweep_stale(struct cube *c)
{
	struct rt_priv *pv = cube_priv(c);

	for (int p = 0; p < CB_MAX_PORTS; p++)
		if (!pv->ifs[p].on)
			rt_port_write(c, p);
	rt_map_prune(cube_map_fd(c, "rt_local"), sizeof(struct rt_addr), rt_keep_local, pv);
	rt_routes_sweep(c);
	rt_neigh_sweep(c);
}

/* ---- state and the action --------------------------------------------------- */

/* The slow-path limit's counters, summed over the CPUs, per reason. */
static int rt_reasons_state(struct cube *c, struct cube_state *st)
{
	int ncpus = libbpf_num_possible_cpus(), fd = cube_map_fd(c, "rt_spcnt"), r = 0;
	struct rt_spcount *v = ncpus > 0 ? calloc(ncpus, sizeof(*v)) : NULL;

	for (__u32 k = 0; k < RT_NREASONS && r == 0; k++) {
		struct router_slowpath_limit_reason_state e = { .name = rt_reason_names[k] };

		if (v && bpf_map_lookup_elem(fd, &k, v) == 0)
			for (int i = 0; i < ncpus; i++) {
				e.sent_packets += v[i].sent;
				e.limited_packets += v[i].limited;
			}
		r = router_slowpath_limit_reason_emit(st, &e);
	}
	free(v);
	return r;
}

/* What a read shows beyond the configuration: the ports' MACs (generated
 * ones too), every route, the neighbours, the counters. */
static int rt_state(struct cube *c, struct cube_state *st)
{
	struct rt_priv *pv = cube_priv(c);
	int r = 0;

	for (int p = 0; p < CB_MAX_PORTS && r == 0; p++) {
		struct router_ports_state e = { .name = pv->ifs[p].name };

		if (!pv->ifs[p].on)
			continue;
		memcpy(e.mac, pv->ifs[p].mac, 6);
		r = router_ports_emit(st, &e);
	}
	if (r == 0)
		r = rt_routes_state(c, st);
	if (r == 0)
		r = rt_neigh_state(c, st);
	if (r == 0)
		r = rt_reasons_state(c, st);
	if (r == 0)
		r = router_statistics_emit(st, &(struct router_statistics_state){
						       .queue_drop_packets = pv->queue_drops,
						       .unresolved_packets = pv->unresolved,
						       .icmp_error_packets = pv->icmp_sent,
					       });
	return r;
}

/* arp-flush: the learned entries go (those of address only, if given);
 * static ones are configuration. */
int router_arp_flush_action(struct cube *c, const struct router_arp_flush_in *in, struct router_arp_flush_out *out)
{
	struct rt_addr want;
	char text[CUBEOP_VALUE_MAX];

	if (in->address.family && rt_addr_from_ip(&in->address, &want) < 0) {
		cube_fail(c, "arp-flush: %s is not an address",
			  cubeop_fmt_ip(text, sizeof(text), &in->address, CUBEOP_IP_ADDR));
		return -EINVAL;
	}
	out->flushed = rt_neigh_flush(c, in->address.family ? &want : NULL);
	return 0;
}

/* ---- cube callbacks --------------------------------------------------------- */

static void rt_pktin(struct cube *c, const struct cb_pktin_hdr *h, const void *frame, size_t len)
{
	switch (h->reason) {
	case RT_REASON_RESOLVE: rt_neigh_resolve(c, h, frame, len); break;
	case RT_REASON_ICMP: rt_icmp_pktin(c, h, frame, len); break;
	case RT_REASON_NEIGH: rt_neigh_pktin(c, h, frame, len); break;
	default: break;
	}
}

static void rt_tick(struct cube *c)
{
	struct rt_priv *pv = cube_priv(c);

	if (!cube_config(c))
		return; /* a restarted process: the learned state waits for its configuration */
	if (!pv->swept) {
		rt_sweep_stale(c);
		pv->swept = true;
	}
	rt_neigh_tick(c);
}

static const struct cube_ops router_ops = {
	.service = "router",
	CUBE_PROGRAMS(router),
	.model = &router_model,
	.state = rt_state,
	.actions = &router_actions,
	.pktin = rt_pktin,
	.priv_size = sizeof(struct rt_priv),
	.tick = rt_tick,
	.tick_ms = RT_TICK_MS,
};

int main(int argc, char **argv)
{
	return cube_main(argc, argv, &router_ops);
}
