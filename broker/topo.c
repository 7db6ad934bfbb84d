/* SPDX-License-Identifier: Apache-2.0 */
/*
 * topo.c - ports and peers. A link between two cubes exists when both ends
 * name each other; a netdev peer gets the ingress stub. topo_sync() computes
 * the desired kernel state of every port from the in-memory topology and
 * applies the difference: it is used after every change, at start-up (to
 * restore or adopt) and when a cube publishes a new program.
 */
#include <errno.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/ethtool.h>
#include <linux/sockios.h>
#include <stdio.h>
#include <string.h>
#include <linux/if_link.h>

#include "broker.h"

struct bk_cube *topo_cube(struct broker *b, const char *name)
{
	for (int i = 1; i < CB_MAX_CUBES; i++)
		if (b->cubes_tab[i].used && !strcmp(b->cubes_tab[i].name, name))
			return &b->cubes_tab[i];
	return NULL;
}

struct bk_port *topo_port(struct bk_cube *c, const char *name)
{
	for (int i = 0; i < CB_MAX_PORTS; i++)
		if (c->ports[i].used && !strcmp(c->ports[i].name, name))
			return &c->ports[i];
	return NULL;
}

int topo_port_up(struct bk_cube *c, int port)
{
	return c->ports[port].used && c->ports[port].applied.link.kind != CB_LINK_NONE;
}

int topo_ports_from_config(struct bk_cube *c, char *err, size_t errlen)
{
	struct lyd_node *p;
	int seen[CB_MAX_PORTS] = { 0 };
	size_t n = 0;

	LY_LIST_FOR(c->config ? lyd_child(c->config) : NULL, p)
	n += p->schema->nodetype == LYS_LIST && !strcmp(p->schema->name, "ports");
	if (n > CB_MAX_PORTS) {
		snprintf(err, errlen, "%s: at most %d ports", c->name, CB_MAX_PORTS);
		return -ENOSPC;
	}
	LY_LIST_FOR(c->config ? lyd_child(c->config) : NULL, p)
	{
		const char *name, *peer = "";
		struct lyd_node *v = NULL;
		struct bk_port *bp;

		if (p->schema->nodetype != LYS_LIST || strcmp(p->schema->name, "ports"))
			continue;
		name = lyd_get_value(lyd_child(p)); /* the key */
		if (lyd_find_path(p, "peer", 0, &v) == LY_SUCCESS)
			peer = lyd_get_value(v);
		bp = topo_port(c, name);
		if (!bp) {
			for (int k = 0; k < CB_MAX_PORTS && !bp; k++)
				if (!c->ports[k].used && !c->ports[k].applied.link.kind &&
				    !c->ports[k].applied.attached_ifindex && !seen[k])
					bp = &c->ports[k];
			if (!bp) {
				snprintf(err, errlen, "%s: no free port index", c->name);
				return -ENOSPC;
			}
			memset(bp->uuid, 0, sizeof(bp->uuid));
			bk_uuid(bp->uuid, sizeof(bp->uuid));
			bp->used = 1;
			snprintf(bp->name, sizeof(bp->name), "%s", name);
		}
		snprintf(bp->peer, sizeof(bp->peer), "%s", peer);
		seen[bp - c->ports] = 1;
	}
	for (int k = 0; k < CB_MAX_PORTS; k++)
		if (c->ports[k].used && !seen[k]) {
			c->ports[k].used = 0; /* applied state stays until topo_sync tears it down */
			c->ports[k].peer[0] = 0;
		}
	return 0;
}

/* Splits "cube:port"; returns 0 if peer has that form. */
static int topo_split(const char *peer, char *cube, size_t csize, const char **port)
{
	const char *colon = strchr(peer, ':');

	if (!colon || colon == peer || !colon[1] || (size_t)(colon - peer) >= csize)
		return -EINVAL;
	memcpy(cube, peer, colon - peer);
	cube[colon - peer] = 0;
	*port = colon + 1;
	return 0;
}

/* The transparent cubes attached at (cube, port) -- cube "" for a netdev
 * no cube uses -- in chain order. */
static int topo_collect(struct broker *b, const char *cube, const char *port, struct bk_cube **out, int max)
{
	int n = 0;

	for (int id = 1; id < CB_MAX_CUBES; id++) {
		struct bk_cube *t = &b->cubes_tab[id];
		int k;

		if (!t->used || !t->transparent || t->deleting || !t->att_port[0] || strcmp(t->att_cube, cube) ||
		    strcmp(t->att_port, port) || n >= max)
			continue;
		/* insertion by position (a few entries) */
		for (k = n; k > 0 && out[k - 1]->att_pos > t->att_pos; k--)
			out[k] = out[k - 1];
		out[k] = t;
		n++;
	}
	return n;
}

int topo_chain(struct broker *b, struct bk_cube *x, int p, struct bk_cube **out, int max)
{
	if (!x || p < 0 || p >= CB_MAX_PORTS || !x->ports[p].used || x->deleting)
		return 0;
	return topo_collect(b, x->name, x->ports[p].name, out, max);
}

int topo_netdev_chain(struct broker *b, const char *netdev, struct bk_cube **out, int max)
{
	return topo_collect(b, "", netdev, out, max);
}

void topo_attach_prune(struct broker *b)
{
	for (int id = 1; id < CB_MAX_CUBES; id++) {
		struct bk_cube *t = &b->cubes_tab[id], *x;
		struct bk_port *p;

		if (!t->used || !t->att_cube[0])
			continue;
		x = topo_cube(b, t->att_cube);
		p = x && !x->deleting ? topo_port(x, t->att_port) : NULL;
		if (!p || !p->used)
			t->att_cube[0] = t->att_port[0] = 0;
	}
}

/* A link to (to, port), if its program is there. */
static void topo_cube_link(struct broker *b, struct bk_cube *to, int port, struct bk_applied *want)
{
	uint32_t prog = dp_slot_prog_id(b, to);

	if (!prog)
		return;
	want->link.kind = CB_LINK_CUBE;
	want->link.peer_cube = to->id;
	want->link.peer_port = port;
	want->next_prog_id = prog;
}

/*
 * What packets leaving x's port p toward its peer reach: the peer cube's
 * outer end (its port, or the outermost transparent cube on it) or the
 * netdev. holder is who carries that link: x itself, or the outermost
 * transparent cube on x:p, which then also carries the netdev's stub.
 */
static void topo_peer_side(struct broker *b, struct bk_cube *x, int i, struct bk_cube *holder, struct bk_applied *want)
{
	struct bk_port *p = &x->ports[i];
	char cname[BK_NAME_MAX];
	const char *pname;

	if (!p->used || !p->peer[0])
		return;
	if (topo_split(p->peer, cname, sizeof(cname), &pname) == 0) {
		struct bk_cube *pc = topo_cube(b, cname), *chain[TOPO_CHAIN_MAX];
		struct bk_port *pp = pc ? topo_port(pc, pname) : NULL;
		char back[2 * BK_NAME_MAX + 2];
		int n;

		if (!pp || pc->deleting || pc->xdp != x->xdp)
			return;
		snprintf(back, sizeof(back), "%s:%s", x->name, p->name);
		if (strcmp(pp->peer, back))
			return;
		n = topo_chain(b, pc, pp - pc->ports, chain, TOPO_CHAIN_MAX);
		if (n)
			topo_cube_link(b, chain[0], 1, want);
		else
			topo_cube_link(b, pc, pp - pc->ports, want);
		return;
	}
	{
		int ifindex = if_nametoindex(p->peer);

		if (!ifindex)
			return;
		want->link.kind = CB_LINK_NETDEV;
		want->link.ifindex = ifindex;
		want->attached_ifindex = ifindex;
		if (x->xdp) {
			want->attached_xdp_flags = strcmp(x->type, "XDP_DRV") ? XDP_FLAGS_SKB_MODE : XDP_FLAGS_DRV_MODE;
			/* a transparent cube never floods: the devmap is x's */
			if (holder == x)
				want->flood_ifindex = ifindex;
		}
	}
}

/*
 * A transparent cube c on a netdev no cube uses: its port 0 (inner) links
 * to the next one inward, or for the innermost passes to the kernel (the
 * stack) and carries the TC egress stub; its port 1 (outer) links to the
 * next one outward, or for the outermost passes to the kernel (out of the
 * device at egress) and carries the ingress stub. XDP has no egress hook:
 * there the chain sees ingress only.
 */
static void topo_netdev_desired(struct broker *b, struct bk_cube *c, int i, struct bk_applied *want)
{
	struct bk_cube *chain[TOPO_CHAIN_MAX];
	int n = topo_netdev_chain(b, c->att_port, chain, TOPO_CHAIN_MAX), j = -1;
	int ifindex = if_nametoindex(c->att_port);

	for (int k = 0; k < n; k++)
		if (chain[k] == c)
			j = k;
	if (j < 0 || !ifindex)
		return;
	if (i == 0 && j < n - 1) {
		topo_cube_link(b, chain[j + 1], 1, want);
	} else if (i == 0) {
		want->link.kind = CB_LINK_PASS;
		if (!c->xdp)
			want->attached_egress_ifindex = ifindex;
	} else if (j > 0) {
		topo_cube_link(b, chain[j - 1], 0, want);
	} else {
		want->link.kind = CB_LINK_PASS;
		want->attached_ifindex = ifindex;
		if (c->xdp)
			want->attached_xdp_flags = strcmp(c->type, "XDP_DRV") ? XDP_FLAGS_SKB_MODE : XDP_FLAGS_DRV_MODE;
	}
}

/*
 * The wanted kernel state of (c, i). A port with transparent cubes on it
 * links to the innermost one; each of them links inward (port 0) to the
 * next one or to the port, outward (port 1) to the next one or to the
 * port's peer side (DESIGN §3.2, docs/ARCHITECTURE.md).
 */
static void topo_desired(struct broker *b, struct bk_cube *c, int i, struct bk_applied *want)
{
	struct bk_cube *chain[TOPO_CHAIN_MAX];
	int n;

	memset(want, 0, sizeof(*want));
	if (!c->used || c->deleting)
		return;
	if (c->transparent) {
		struct bk_cube *x;
		struct bk_port *xp;
		int j = -1;

		if (i > 1 || !c->att_port[0])
			return;
		if (!c->att_cube[0]) {
			topo_netdev_desired(b, c, i, want);
			return;
		}
		x = topo_cube(b, c->att_cube);
		xp = x ? topo_port(x, c->att_port) : NULL;
		if (!xp || !xp->used || x->xdp != c->xdp)
			return;
		n = topo_chain(b, x, xp - x->ports, chain, TOPO_CHAIN_MAX);
		for (int k = 0; k < n; k++)
			if (chain[k] == c)
				j = k;
		if (j < 0)
			return;
		if (i == 0)
			topo_cube_link(b, j == n - 1 ? x : chain[j + 1], j == n - 1 ? (int)(xp - x->ports) : 1, want);
		else if (j > 0)
			topo_cube_link(b, chain[j - 1], 0, want);
		else
			topo_peer_side(b, x, xp - x->ports, c, want);
		return;
	}
	if (!c->ports[i].used || !c->ports[i].peer[0])
		return;
	n = topo_chain(b, c, i, chain, TOPO_CHAIN_MAX);
	if (n)
		topo_cube_link(b, chain[n - 1], 0, want);
	else
		topo_peer_side(b, c, i, c, want);
}

/* Whether some other (cube, port) wants the stub on ifindex that (c, i) has
 * (egress: the TC egress stub). */
static int topo_stub_moves(struct broker *b, struct bk_cube *c, int i, const struct bk_applied *cur, int egress)
{
	struct bk_applied want;

	for (int id = 1; id < CB_MAX_CUBES; id++) {
		struct bk_cube *o = &b->cubes_tab[id];

		if (!o->used)
			continue;
		for (int k = 0; k < CB_MAX_PORTS; k++) {
			if (o == c && k == i)
				continue;
			topo_desired(b, o, k, &want);
			if (egress && want.attached_egress_ifindex == cur->attached_egress_ifindex)
				return 1;
			if (!egress && want.attached_ifindex == cur->attached_ifindex &&
			    want.attached_xdp_flags == cur->attached_xdp_flags)
				return 1;
		}
	}
	return 0;
}

int topo_sync(struct broker *b, char *err, size_t errlen)
{
	struct bk_applied want;
	int first = 0;
	char e[BK_ERR_MAX];

	/* phase 1: detach what moves, so a netdev that changes port is never
	 * detached after its new owner attached. A stub that moves to another
	 * (cube, port) on the same netdev is not detached: the new one
	 * replaces it in place (one atomic swap, no packet to the stack) */
	for (int id = 1; id < CB_MAX_CUBES; id++) {
		struct bk_cube *c = &b->cubes_tab[id];

		if (!c->used)
			continue;
		for (int i = 0; i < CB_MAX_PORTS; i++) {
			struct bk_applied *cur = &c->ports[i].applied;

			if (cur->attached_egress_ifindex) {
				topo_desired(b, c, i, &want);
				/* the innermost cube on a netdev changes: the egress
				 * stub is replaced in place, as the ingress one */
				if (want.attached_egress_ifindex != cur->attached_egress_ifindex &&
				    topo_stub_moves(b, c, i, cur, 1))
					cur->attached_egress_ifindex = 0;
			}
			if (!cur->attached_ifindex)
				continue;
			topo_desired(b, c, i, &want);
			if (want.attached_ifindex == cur->attached_ifindex &&
			    want.attached_xdp_flags == cur->attached_xdp_flags)
				continue;
			if (topo_stub_moves(b, c, i, cur, 0)) {
				cur->attached_ifindex = 0;
				cur->attached_xdp_flags = 0;
				continue;
			}
			want = *cur;
			want.attached_ifindex = 0;
			want.attached_xdp_flags = 0;
			want.attached_egress_ifindex = cur->attached_egress_ifindex;
			dp_port_apply(b, c, i, &want, e, sizeof(e));
		}
	}
	/*
	 * phase 2, in three passes so that nothing points at a cube before
	 * its own links are there, nor after they are gone: transparent cubes
	 * that are wired from nothing; then everything else but transparent
	 * cubes being unwired; then those.
	 */
	for (int pass = 0; pass < 3; pass++) {
		for (int id = 1; id < CB_MAX_CUBES; id++) {
			struct bk_cube *c = &b->cubes_tab[id];
			int fresh = 1, wired = 0, stage;

			if (!c->used)
				continue;
			if (c->transparent) {
				for (int i = 0; i < 2; i++) {
					topo_desired(b, c, i, &want);
					wired |= want.link.kind != CB_LINK_NONE;
					fresh &= c->ports[i].applied.link.kind == CB_LINK_NONE;
				}
				stage = !wired ? 2 : fresh ? 0 : 1;
			} else {
				stage = 1;
			}
			if (stage != pass)
				continue;
			for (int i = 0; i < CB_MAX_PORTS; i++) {
				int r;

				topo_desired(b, c, i, &want);
				r = dp_port_apply(b, c, i, &want, e, sizeof(e));
				if (r < 0 && !first) {
					first = r;
					snprintf(err, errlen, "%s", e);
				}
			}
		}
	}
	return first;
}

/* Whether netdev name is driven by veth (ETHTOOL_GDRVINFO). */
static int topo_is_veth(const char *name)
{
	struct ethtool_drvinfo info = { .cmd = ETHTOOL_GDRVINFO };
	struct ifreq ifr = { 0 };
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), r;

	if (fd < 0)
		return 0;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	ifr.ifr_data = (void *)&info;
	r = ioctl(fd, SIOCETHTOOL, &ifr);
	close(fd);
	return r == 0 && !strcmp(info.driver, "veth");
}

int topo_netdevs_changed(struct broker *b)
{
	for (int id = 1; id < CB_MAX_CUBES; id++) {
		struct bk_cube *c = &b->cubes_tab[id];

		for (int i = 0; c->used && !c->deleting && i < CB_MAX_PORTS; i++) {
			struct bk_port *p = &c->ports[i];
			int ifindex;

			if (!p->used || !p->peer[0] || strchr(p->peer, ':'))
				continue;
			ifindex = if_nametoindex(p->peer);
			/* gone, come back (a new ifindex), or appeared since */
			if ((int)p->applied.link.ifindex != ifindex || p->applied.attached_ifindex != ifindex)
				return 1;
		}
		/* a netdev with transparent cubes gone, or come back */
		for (int i = 0; c->used && !c->deleting && c->transparent && !c->att_cube[0] && c->att_port[0] && i < 2;
		     i++) {
			struct bk_applied want = { 0 }, *cur = &c->ports[i].applied;

			topo_desired(b, c, i, &want);
			if (want.attached_ifindex != cur->attached_ifindex ||
			    want.attached_egress_ifindex != cur->attached_egress_ifindex ||
			    want.link.kind != cur->link.kind)
				return 1;
		}
	}
	return 0;
}

int topo_check_peer(struct broker *b, struct bk_cube *c, const char *port, const char *peer, char *err, size_t errlen)
{
	char cname[BK_NAME_MAX];
	const char *pname;

	if (!peer[0])
		return 0;
	if (strchr(peer, ':')) {
		struct bk_cube *pc;

		if (topo_split(peer, cname, sizeof(cname), &pname) < 0) {
			snprintf(err, errlen, "%s ports %s: peer '%s' is not CUBE:PORT", c->name, port, peer);
			return -EINVAL;
		}
		pc = topo_cube(b, cname);
		if (!pc) {
			snprintf(err, errlen, "%s ports %s: peer %s: there is no cube %s", c->name, port, peer, cname);
			return -ENOENT;
		}
		if (pc == c && !strcmp(pname, port)) {
			snprintf(err, errlen, "%s ports %s: a port cannot be its own peer", c->name, port);
			return -EINVAL;
		}
		if (pc->xdp != c->xdp) {
			snprintf(err, errlen,
				 "cannot connect %s:%s (%s) to %s (%s): TC ports connect only to TC ports, XDP to XDP",
				 c->name, port, c->type, peer, pc->type);
			return -EINVAL;
		}
		return 0;
	}
	if (strlen(peer) >= IF_NAMESIZE || !if_nametoindex(peer)) {
		snprintf(err, errlen, "%s ports %s: peer %s: no such network device", c->name, port, peer);
		return -ENODEV;
	}
	if (!strcmp(c->type, "XDP_DRV") && topo_is_veth(peer)) {
		/* a native XDP redirect into a veth is dropped unless its far end
		 * runs XDP itself, which is not ours to set up in someone's namespace */
		snprintf(err, errlen,
			 "%s ports %s: %s is a veth: in XDP_DRV mode frames redirected to it are dropped unless "
			 "its peer runs an XDP program; use type TC, or XDP_SKB (generic XDP cannot redirect TSO/GSO "
			 "frames: turn them off on the hosts for TCP)",
			 c->name, port, peer);
		return -EOPNOTSUPP;
	}
	if (!strcmp(peer, b->inj_name[0]) || !strcmp(peer, b->inj_name[1])) {
		snprintf(err, errlen, "%s ports %s: %s is cubebus's own injector device", c->name, port, peer);
		return -EBUSY;
	}
	{
		struct bk_cube *chain[TOPO_CHAIN_MAX];
		int n = topo_netdev_chain(b, peer, chain, TOPO_CHAIN_MAX), len = 0;
		char names[TOPO_CHAIN_MAX * (BK_NAME_MAX + 2)] = "";

		for (int k = 0; k < n; k++)
			len += snprintf(names + len, sizeof(names) - len, "%s%s", k ? ", " : "", chain[k]->name);
		if (n) {
			snprintf(err, errlen, "%s ports %s: %s has transparent cubes attached (%s): detach them first",
				 c->name, port, peer, names);
			return -EBUSY;
		}
	}
	for (int id = 1; id < CB_MAX_CUBES; id++) {
		struct bk_cube *o = &b->cubes_tab[id];

		if (!o->used)
			continue;
		for (int i = 0; i < CB_MAX_PORTS; i++)
			if (o->ports[i].used && !strcmp(o->ports[i].peer, peer) &&
			    !(o == c && !strcmp(o->ports[i].name, port))) {
				snprintf(err, errlen, "%s ports %s: %s is already the peer of %s:%s", c->name, port,
					 peer, o->name, o->ports[i].name);
				return -EBUSY;
			}
	}
	return 0;
}
