/* SPDX-License-Identifier: Apache-2.0 */
/*
 * router: neighbours.
 *
 * One kernel table (rt_neigh) holds static entries (configured: the
 * arp-table handlers) and learned ones (ARP by the fast path, IPv6
 * neighbour discovery here). A packet whose next hop has no entry waits in
 * a bounded queue of that next hop while ARP requests or neighbour
 * solicitations go out; the answer sends the queue back into the fast path
 * on each packet's in-port. After RT_RESOLVE_TRIES, each waiting packet
 * gets a host unreachable. Learned entries age, refreshed by use.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/if_ether.h>
#include <bpf/bpf.h>

#include "router.h"
#include "router_cfg.h"

/* ---- static entries --------------------------------------------------------- */

const struct rt_sneigh *rt_neigh_static_on(const struct rt_priv *pv, int port, const struct rt_ifaddr *f)
{
	for (int k = 0; k < pv->nsn; k++) {
		const struct rt_sneigh *sn = &pv->sn[k];

		if (sn->port == port &&
		    (!f || (rt_is_v4(&sn->addr) == rt_is_v4(&f->addr) && rt_prefix_eq(&sn->addr, &f->addr, f->bits))))
			return sn;
	}
	return NULL;
}

/* The index in pv->sn of the static neighbour of a, or -1. */
static int rt_sneigh_index(const struct rt_priv *pv, const struct rt_addr *a)
{
	for (int k = 0; k < pv->nsn; k++)
		if (rt_addr_eq(&pv->sn[k].addr, a))
			return k;
	return -1;
}

const struct rt_sneigh *rt_neigh_static_at(const struct rt_priv *pv, const struct rt_addr *a)
{
	int k = rt_sneigh_index(pv, a);

	return k < 0 ? NULL : &pv->sn[k];
}

static int rt_same_neigh(const struct router_arp_table *e, void *arg)
{
	struct rt_addr a;

	return rt_addr_from_ip(&e->address, &a) == 0 && rt_addr_eq(&a, arg) ? -EEXIST : 0;
}

/* Checks an entry; fills s. known: accepted before, its address may be on
 * none of its port's networks (an address still to come). */
static int rt_sneigh_check(struct cube *c, const struct router_arp_table *e, bool known, struct rt_sneigh *s)
{
	struct rt_priv *pv = cube_priv(c);
	char key[INET6_ADDRSTRLEN], mac[32];

	if (e->address.len != (e->address.family == AF_INET ? 32 : 128) || rt_addr_from_ip(&e->address, &s->addr) < 0) {
		inet_ntop(e->address.family, e->address.bytes, key, sizeof(key));
		cube_fail(c, "arp-table %s/%u: not a host address (give an address, or a /32 or /128 prefix)", key,
			  e->address.len);
		return -EINVAL;
	}
	rt_ntop(&s->addr, key, sizeof(key));
	rt_format_mac(e->mac, mac, sizeof(mac));
	if (e->mac[0] & 1) {
		cube_fail(c, "arp-table %s: mac %s is not a unicast MAC address", key, mac);
		return -EINVAL;
	}
	memcpy(s->mac, e->mac, 6);
	s->port = rt_port_by_name(pv, e->interface);
	if (s->port < 0) {
		cube_fail(c, "arp-table %s: %s is not a port of this router", key, e->interface ? e->interface : "");
		return -ENOENT;
	}
	if (!known && !rt_net_of(pv, &s->addr, s->port)) {
		cube_fail(c, "arp-table %s: the address is on none of the networks of port %s", key, e->interface);
		return -EINVAL;
	}
	if (rt_is_local(pv, &s->addr)) {
		cube_fail(c, "arp-table %s: that is an address of this router", key);
		return -EINVAL;
	}
	return 0;
}

static int rt_sneigh_write(struct cube *c, const struct rt_sneigh *s)
{
	struct rt_neigh n = { .port = s->port, .flags = RT_NEIGH_STATIC, .seen_ns = rt_now_ns() };
	char key[INET6_ADDRSTRLEN];
	int r;

	memcpy(n.mac, s->mac, 6);
	if (bpf_map_update_elem(cube_map_fd(c, "rt_neigh"), &s->addr, &n, BPF_ANY) == 0)
		return 0;
	r = -errno;
	rt_ntop(&s->addr, key, sizeof(key));
	if (r == -E2BIG)
		cube_fail(c, "arp-table %s: the neighbour table of %s is full (%d entries): try again after arp-flush",
			  key, cube_name(c), RT_NEIGH_MAX);
	else
		cube_fail(c, "cannot write arp-table entry %s: %s", key, strerror(-r));
	return r;
}

int router_arp_table_create(struct cube *c, const struct router_arp_table *new)
{
	struct rt_priv *pv = cube_priv(c);
	struct rt_sneigh s;
	struct rt_addr a;
	char key[INET6_ADDRSTRLEN];
	bool known = !cube_config(c);
	int r;

	/* accepted before: the undo of a deletion (a process replaying its
	 * configuration is known already) */
	if (!known && rt_addr_from_ip(&new->address, &a) == 0 &&
	    !rt_net_of(pv, &a, rt_port_by_name(pv, new->interface)))
		known = router_arp_table_foreach(cube_config(c), rt_same_neigh, &a) == -EEXIST;
	r = rt_sneigh_check(c, new, known, &s);
	if (r < 0)
		return r;
	rt_ntop(&s.addr, key, sizeof(key));
	if (rt_neigh_static_at(pv, &s.addr)) {
		cube_fail(c, "arp-table %s: the address is given twice", key);
		return -EEXIST;
	}
	if (pv->nsn >= RT_SNEIGH_MAX) {
		cube_fail(c, "too many static neighbours (at most %d)", RT_SNEIGH_MAX);
		return -ENOSPC;
	}
	r = rt_sneigh_write(c, &s);
	if (r == 0)
		pv->sn[pv->nsn++] = s;
	return r;
}

int router_arp_table_update(struct cube *c, const struct router_arp_table *old, const struct router_arp_table *new)
{
	struct rt_priv *pv = cube_priv(c);
	struct rt_sneigh s;
	struct rt_addr a;
	int k = rt_addr_from_ip(&old->address, &a) < 0 ? -1 : rt_sneigh_index(pv, &a), r;

	if (k < 0)
		return router_arp_table_create(c, new);
	r = rt_sneigh_check(c, new, !cube_config(c), &s);
	if (r == 0)
		r = rt_sneigh_write(c, &s);
	if (r == 0)
		pv->sn[k] = s;
	return r;
}

int router_arp_table_delete(struct cube *c, const struct router_arp_table *old)
{
	struct rt_priv *pv = cube_priv(c);
	int fd = cube_map_fd(c, "rt_neigh");
	struct rt_neigh n;
	struct rt_addr a;
	int k = rt_addr_from_ip(&old->address, &a) < 0 ? -1 : rt_sneigh_index(pv, &a);

	if (k < 0)
		return 0;
	if (bpf_map_lookup_elem(fd, &a, &n) == 0 && (n.flags & RT_NEIGH_STATIC))
		bpf_map_delete_elem(fd, &a);
	memmove(&pv->sn[k], &pv->sn[k + 1], (pv->nsn - k - 1) * sizeof(pv->sn[0]));
	pv->nsn--;
	return 0;
}

struct rt_neigh_walk {
	const struct rt_priv *pv;
	int fd;
	uint64_t now;
};

/* Static entries stay if configured; learned ones while alive and on a
 * network of their port. */
static int rt_keep_neigh(const void *key, void *arg)
{
	struct rt_neigh_walk *w = arg;
	const struct rt_priv *pv = w->pv;
	struct rt_neigh n;

	if (bpf_map_lookup_elem(w->fd, key, &n) < 0)
		return 1;
	if (n.flags & RT_NEIGH_STATIC)
		return rt_neigh_static_at(pv, key) != NULL;
	if (n.port >= CB_MAX_PORTS || !pv->ifs[n.port].on || !rt_net_of(pv, key, n.port))
		return 0;
	return !(pv->aging_ns && w->now - n.seen_ns > pv->aging_ns);
}

void rt_neigh_sweep(struct cube *c)
{
	struct rt_neigh_walk w = { .pv = cube_priv(c), .fd = cube_map_fd(c, "rt_neigh"), .now = rt_now_ns() };

	rt_map_prune(w.fd, sizeof(struct rt_addr), rt_keep_neigh, &w);
}

/* ---- resolution ------------------------------------------------------------- */

/* ARP request or neighbour solicitation for nh out of port. */
static int rt_solicit(struct cube *c, const struct rt_addr *nh, int port)
{
	struct rt_priv *pv = cube_priv(c);
	uint8_t f[ETH_LEN + IP6_LEN + 32];
	struct rt_addr src;
	size_t n;

	if (port < 0 || port >= CB_MAX_PORTS || !pv->ifs[port].on || rt_src_addr(pv, port, nh, &src) < 0)
		return -ENOENT;
	if (rt_is_v4(nh))
		n = cb_build_arp(f, sizeof(f), 1, pv->ifs[port].mac, src.w[3], NULL, nh->w[3]);
	else
		n = cb_build_ns(f, sizeof(f), pv->ifs[port].mac, src.a, nh->a);
	return n ? cube_packet_out(c, CB_DIR_OUT, port, f, n) : -EINVAL;
}

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

	if (bpf_map_lookup_elem(cube_map_fd(c, "rt_neigh"), nh, &n) < 0 || n.port != port)
		return 0;
	return (n.flags & RT_NEIGH_STATIC) || !pv->aging_ns || rt_now_ns() - n.seen_ns <= pv->aging_ns;
}

/* The next hop and port of the packet's destination, from the kernel's
 * own tables (what the fast path decided on). */
static int rt_route_of(struct cube *c, const uint8_t *frame, size_t len, struct rt_addr *nh, int *port)
{
	struct rt_route r;

	if (len >= ETH_LEN + IP6_LEN && rt_get16(frame + 12) == ETH_P_IPV6) {
		struct rt_lpm6 k = { .plen = 128 };

		memcpy(k.addr, frame + ETH_LEN + 24, 16);
		if (bpf_map_lookup_elem(cube_map_fd(c, "rt_rt6"), &k, &r) < 0)
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

void rt_neigh_resolve(struct cube *c, const struct cb_pktin_hdr *h, const void *frame, size_t len)
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
	if (port < 0 || port >= CB_MAX_PORTS || !pv->ifs[port].on)
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
	int fd = cube_map_fd(c, "rt_neigh");
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
	const uint8_t *ip = frame + ETH_LEN, *ic = ip + IP6_LEN, *ll;
	size_t plen;
	struct rt_addr src, target;

	if (len < ETH_LEN + IP6_LEN + 24 || !pv->ifs[in_port].on)
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
			if (rt_net_of(pv, &src, in_port))
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
		n = cb_build_na(out, sizeof(out), pv->ifs[in_port].mac, target.a, dmac, dst, 1, !dad);
		if (n)
			cube_packet_out(c, CB_DIR_OUT, in_port, out, n);
	}
}

void rt_neigh_pktin(struct cube *c, const struct cb_pktin_hdr *h, const uint8_t *frame, size_t len)
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

void rt_neigh_tick(struct cube *c)
{
	struct rt_priv *pv = cube_priv(c);
	uint64_t now = rt_now_ms();

	for (int i = 0; i < RT_PENDING_MAX; i++) {
		struct rt_pending *p = &pv->pend[i];

		if (!p->used)
			continue;
		if (!pv->ifs[p->port].on || !rt_net_of(pv, &p->nh, p->port)) {
			/* its port is gone, or the next hop no longer routed there */
			rt_pending_free(p);
			continue;
		}
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
		for (int k = 0; k < p->count; k++) {
			const struct rt_qpkt *q = &p->q[(p->head + k) % RT_QUEUE_MAX];

			rt_icmp_unreachable(c, q->in_port, q->frame, q->len);
		}
		pv->unresolved += p->count;
		rt_pending_free(p);
	}
	if (now - pv->last_sweep_ms >= RT_SWEEP_MS) {
		pv->last_sweep_ms = now;
		rt_neigh_sweep(c);
	}
}

/* ---- state and flush -------------------------------------------------------- */

struct rt_state_walk {
	struct cube *c;
	struct cube_state *st;
};

/*
 * Static entries are emitted under the key they are configured with (an
 * address, or a /32 or /128 prefix, which the decoded entry remembers): the
 * broker merges what a cube reports into its configuration by key.
 */
static int rt_emit_static(const struct router_arp_table *e, void *arg)
{
	const struct rt_state_walk *w = arg;
	const struct rt_priv *pv = cube_priv(w->c);
	const struct rt_sneigh *s;
	struct rt_addr a;
	struct router_arp_table_state o = { .address = e->address };

	if (rt_addr_from_ip(&e->address, &a) < 0 || !(s = rt_neigh_static_at(pv, &a)))
		return 0;
	memcpy(o.mac, s->mac, 6);
	o.interface = rt_pname(pv, s->port);
	return router_arp_table_emit(w->st, &o);
}

int rt_neigh_state(struct cube *c, struct cube_state *st)
{
	const struct rt_priv *pv = cube_priv(c);
	struct rt_state_walk w = { c, st };
	int fd = cube_map_fd(c, "rt_neigh"), r;
	struct rt_addr key, next;
	uint64_t now = rt_now_ns();
	void *prev = NULL;

	r = router_arp_table_foreach(cube_config(c), rt_emit_static, &w);
	while (r == 0 && bpf_map_get_next_key(fd, prev, &next) == 0) {
		struct router_arp_table_state e = { 0 };
		struct rt_neigh n;
		uint64_t age;

		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(fd, &key, &n) < 0 || (n.flags & RT_NEIGH_STATIC))
			continue;
		age = now > n.seen_ns ? now - n.seen_ns : 0;
		if (pv->aging_ns && age > pv->aging_ns)
			continue; /* aged: the fast path no longer uses it */
		rt_ip_from_addr(&key, rt_is_v4(&key) ? 32 : 128, &e.address);
		memcpy(e.mac, n.mac, 6);
		e.interface = rt_pname(pv, n.port);
		e.age = age / NS_PER_S;
		r = router_arp_table_emit(st, &e);
	}
	return r;
}

unsigned rt_neigh_flush(struct cube *c, const struct rt_addr *only)
{
	int fd = cube_map_fd(c, "rt_neigh");
	struct rt_addr key, next;
	unsigned flushed = 0;
	void *prev = NULL;

	while (bpf_map_get_next_key(fd, prev, &next) == 0) {
		struct rt_neigh n;

		key = next;
		if (bpf_map_lookup_elem(fd, &key, &n) == 0 && !(n.flags & RT_NEIGH_STATIC) &&
		    (!only || rt_addr_eq(&key, only)) && bpf_map_delete_elem(fd, &key) == 0) {
			flushed++;
			prev = NULL; /* restart: deleting invalidates the walk */
			continue;
		}
		prev = &key;
	}
	return flushed;
}
