/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_fastpath - packet tables for the services' fast paths, the hop from
 * cube to cube, the framework's ingress and injector programs, and the
 * shape of the hop in the compiled code.
 *
 * Every case runs a packet with bpf_prog_test_run_opts() through the real
 * objects of build/obj/bpf/ (TC and XDP builds), loaded and wired by
 * tests/bpf/cbrig.c the way the broker would, and checks the verdict, the
 * output bytes, every per-port counter of the cubes involved (what did not
 * move must not move), the fdb, the slow-path counters and, for the slow
 * path, the record the cube's process would receive.
 *
 * test_run does not transmit a redirected packet, but bpf_clone_redirect()
 * (TC flooding) does. The flooding cases therefore run in a private network
 * namespace with veths that capture the copies, created at start and gone
 * at exit; without it they are skipped.
 *
 * Output: one "ok - name" / "not ok - name: why" line per check.
 */
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <sys/socket.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "cbrig.h"
#include "../../cube-services/simplebridge/simplebridge_shared.h"
#include "../../cube-services/simpleforwarder/simpleforwarder_shared.h"
#include "../../cube-services/helloworld/helloworld_shared.h"
#include "../../cube-services/transparenthelloworld/transparenthelloworld_shared.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define NS_PER_S      1000000000ULL

static int failed;

static void report(bool ok, const char *name, const char *fmt, ...)
{
	va_list ap;

	if (ok) {
		printf("ok - %s\n", name);
	} else {
		failed++;
		printf("not ok - %s: ", name);
		va_start(ap, fmt);
		vprintf(fmt, ap);
		va_end(ap);
		printf("\n");
	}
	fflush(stdout);
}

static void skip(const char *name, const char *why)
{
	printf("ok - %s # SKIP %s\n", name, why);
	fflush(stdout);
}

static const char *hook_name(enum cbrig_hook h)
{
	return h == CBRIG_TC ? "tc" : "xdp";
}

static __u64 mono_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (__u64)t.tv_sec * NS_PER_S + (__u64)t.tv_nsec;
}

/* ---- the private network namespace for flooding ------------------------ */

#define NS_PORTS 3
struct netns {
	bool on;
	int orig_fd;
	int ifindex[NS_PORTS]; /* cbt<i>: where a cube port sends */
	int cap[NS_PORTS];     /* AF_PACKET on cbt<i>p: what came out of cbt<i> */
	int inj_ifindex;       /* cbinj: the injector end the flood clones to */
	int injp_ifindex;      /* cbinjp: where cb_inject_tc runs */
	bool tc_attached;
};

static int sysctl_write(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC), r = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, val, strlen(val)) < 0)
		r = -errno;
	close(fd);
	return r;
}

static int cap_open(int ifindex)
{
	struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL), .sll_ifindex = ifindex };
	int fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, htons(ETH_P_ALL));

	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sll, sizeof(sll)) < 0) {
		int r = -errno;

		close(fd);
		return r;
	}
	return fd;
}

static void netns_leave(struct netns *ns)
{
	for (int i = 0; i < NS_PORTS; i++)
		if (ns->cap[i] >= 0)
			close(ns->cap[i]);
	if (ns->on) {
		/* the namespace dies with its last reference anyway; be explicit */
		if (system("ip link del cbt0; ip link del cbt1; ip link del cbt2; "
			   "ip link del cbinj") != 0)
			fprintf(stderr, "# could not delete the test veths\n");
	}
	if (ns->orig_fd >= 0) {
		if (setns(ns->orig_fd, CLONE_NEWNET) < 0)
			fprintf(stderr, "# setns back: %s\n", strerror(errno));
		close(ns->orig_fd);
	}
	ns->on = false;
	ns->orig_fd = -1;
}

/* Returns 0, or a negative errno with why filled in. */
static int netns_enter(struct netns *ns, char *why, size_t n)
{
	memset(ns, 0, sizeof(*ns));
	ns->orig_fd = -1;
	for (int i = 0; i < NS_PORTS; i++)
		ns->cap[i] = -1;
	ns->orig_fd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (ns->orig_fd < 0) {
		snprintf(why, n, "no /proc/self/ns/net: %s", strerror(errno));
		return -errno;
	}
	if (unshare(CLONE_NEWNET) < 0) {
		int r = -errno;

		snprintf(why, n, "cannot create a network namespace: %s", strerror(errno));
		close(ns->orig_fd);
		ns->orig_fd = -1;
		return r;
	}
	ns->on = true;
	/* no IPv6 autoconfiguration chatter on the capture sockets */
	sysctl_write("/proc/sys/net/ipv6/conf/default/disable_ipv6", "1");
	sysctl_write("/proc/sys/net/ipv6/conf/all/disable_ipv6", "1");
	if (system("set -e; for v in cbt0 cbt1 cbt2 cbinj; do "
		   "ip link add $v type veth peer name ${v}p; "
		   "ip link set $v up; ip link set ${v}p up; done") != 0) {
		snprintf(why, n, "cannot create veths (ip link add ... type veth)");
		netns_leave(ns);
		return -ENODEV;
	}
	for (int i = 0; i < NS_PORTS; i++) {
		char name[IFNAMSIZ];

		snprintf(name, sizeof(name), "cbt%d", i);
		ns->ifindex[i] = (int)if_nametoindex(name);
		snprintf(name, sizeof(name), "cbt%dp", i);
		ns->cap[i] = cap_open((int)if_nametoindex(name));
		if (!ns->ifindex[i] || ns->cap[i] < 0) {
			snprintf(why, n, "cannot capture on %s", name);
			netns_leave(ns);
			return -ENODEV;
		}
	}
	ns->inj_ifindex = (int)if_nametoindex("cbinj");
	ns->injp_ifindex = (int)if_nametoindex("cbinjp");
	return 0;
}

static void cap_drain(struct netns *ns)
{
	char buf[2048];

	for (int i = 0; i < NS_PORTS; i++)
		while (recv(ns->cap[i], buf, sizeof(buf), 0) > 0)
			;
}

/* Counts the frames equal to pkt that reached the peer of cbt<i>. */
static int cap_count(struct netns *ns, int i, const void *pkt, __u32 len, int wait_ms)
{
	struct pollfd p = { .fd = ns->cap[i], .events = POLLIN };
	char buf[2048];
	int count = 0;
	ssize_t r;

	if (wait_ms && poll(&p, 1, wait_ms) <= 0)
		return 0;
	while ((r = recv(ns->cap[i], buf, sizeof(buf), 0)) > 0)
		if ((__u32)r == len && !memcmp(buf, pkt, len))
			count++;
	return count;
}

/* ---- cubes ------------------------------------------------------------- */

struct cube {
	struct bpf_object *obj;
	const char *svc;
	enum cbrig_hook hook;
	__u32 id;
	int entry_fd;
	int next_fd;	/* cb_next */
	int spstats_fd; /* cb_spstats */
	int pktin_fd;	/* cb_pktin */
	int svc_fd;	/* sb_fdb, sf_actions, hw_conf or thw_actions */
	int conf_fd;	/* sb_conf */
	int static_fd;	/* sb_static */
};

struct env {
	struct cbrig rig;
	struct netns ns;
	bool ns_on;
	char ns_why[160];
	char objdump[64];
};

static int cube_load(struct env *e, enum cbrig_hook hook, const char *svc, __u32 id, struct cube *c)
{
	static const char *svc_map[][2] = {
		{ "simplebridge", "sb_fdb" },
		{ "simpleforwarder", "sf_actions" },
		{ "helloworld", "hw_conf" },
		{ "transparenthelloworld", "thw_actions" },
	};
	struct cbrig_var var = { "cb_cube_id", id };
	char file[96], err[256];
	int r;

	memset(c, 0, sizeof(*c));
	c->svc = svc;
	c->hook = hook;
	c->id = id;
	snprintf(file, sizeof(file), "%s_%s.bpf.o", svc, hook_name(hook));
	r = cbrig_load(&e->rig, file, &var, 1, &c->obj, err, sizeof(err));
	if (r < 0) {
		printf("# %s\n", err);
		printf("# %s", cbrig_libbpf_log());
		return r;
	}
	c->entry_fd = cbrig_prog_fd(c->obj, "cube_entry");
	c->next_fd = cbrig_map_fd(c->obj, "cb_next");
	c->spstats_fd = cbrig_map_fd(c->obj, "cb_spstats");
	c->pktin_fd = cbrig_map_fd(c->obj, "cb_pktin");
	c->conf_fd = cbrig_map_fd(c->obj, "sb_conf");
	c->static_fd = cbrig_map_fd(c->obj, "sb_static");
	c->svc_fd = -1;
	for (size_t i = 0; i < ARRAY_SIZE(svc_map); i++)
		if (!strcmp(svc, svc_map[i][0]))
			c->svc_fd = cbrig_map_fd(c->obj, svc_map[i][1]);
	if (c->entry_fd < 0 || c->next_fd < 0 || c->spstats_fd < 0 || c->svc_fd < 0 ||
	    (!strcmp(svc, "simplebridge") && (c->static_fd < 0 || c->conf_fd < 0))) {
		printf("# %s: missing cube_entry or a map\n", file);
		bpf_object__close(c->obj);
		c->obj = NULL;
		return -ENOENT;
	}
	return 0;
}

static void cube_unload(struct cube *c)
{
	bpf_object__close(c->obj);
	c->obj = NULL;
}

/* Puts the program of to in from's cb_next[port]: the hop of a cube link. */
static int cube_wire(struct cube *from, __u32 port, const struct cube *to)
{
	return bpf_map_update_elem(from->next_fd, &port, &to->entry_fd, BPF_ANY) ? -errno : 0;
}

static int cube_unwire(struct cube *from, __u32 port)
{
	if (bpf_map_delete_elem(from->next_fd, &port) && errno != ENOENT)
		return -errno;
	return 0;
}

/* ---- counters ---------------------------------------------------------- */

#define SNAP_CUBES 4
struct snap {
	int n;
	__u32 id[SNAP_CUBES];
	struct cb_port_stats st[SNAP_CUBES][CB_MAX_PORTS];
};

/* A counter change a case expects; every other counter must stay. */
struct delta {
	__u32 cube, port;
	__u64 rx, tx, drops;
	bool tx_any; /* tx of this port is not checked */
};

static void snap_take(struct env *e, struct snap *s, const __u32 *ids, int n)
{
	s->n = n;
	for (int c = 0; c < n; c++) {
		s->id[c] = ids[c];
		for (__u32 p = 0; p < CB_MAX_PORTS; p++)
			cbrig_stats(&e->rig, ids[c], p, &s->st[c][p]);
	}
}

/* Compares after - before with the expected deltas; 0 or why in buf. */
static int snap_check(const struct snap *b, const struct snap *a, const struct delta *d, int nd, __u32 len, char *why,
		      size_t n)
{
	for (int c = 0; c < b->n; c++) {
		for (__u32 p = 0; p < CB_MAX_PORTS; p++) {
			const struct cb_port_stats *x = &b->st[c][p], *y = &a->st[c][p];
			__u64 rx = 0, tx = 0, drops = 0;
			bool tx_any = false;

			for (int i = 0; i < nd; i++) {
				if (d[i].cube == b->id[c] && d[i].port == p) {
					rx += d[i].rx;
					tx += d[i].tx;
					drops += d[i].drops;
					tx_any |= d[i].tx_any;
				}
			}
			if (tx_any) {
				tx = y->tx_packets - x->tx_packets;
				if (y->tx_bytes - x->tx_bytes != tx * len)
					tx = ~0ULL;
			}
			if (y->rx_packets - x->rx_packets != rx || y->rx_bytes - x->rx_bytes != rx * len ||
			    y->tx_packets - x->tx_packets != tx || y->tx_bytes - x->tx_bytes != tx * len ||
			    y->drops - x->drops != drops) {
				snprintf(why, n,
					 "cube %u port %u: rx %+lld (%+lld B) tx %+lld (%+lld B) "
					 "drops %+lld, expected rx +%llu tx +%llu drops +%llu",
					 b->id[c], p, (long long)(y->rx_packets - x->rx_packets),
					 (long long)(y->rx_bytes - x->rx_bytes),
					 (long long)(y->tx_packets - x->tx_packets),
					 (long long)(y->tx_bytes - x->tx_bytes), (long long)(y->drops - x->drops),
					 (unsigned long long)rx, (unsigned long long)tx, (unsigned long long)drops);
				return -1;
			}
		}
	}
	return 0;
}

/* ---- the slow-path channel --------------------------------------------- */

struct pktin_cap {
	int n;
	__u32 size;
	__u8 buf[512];
};

static void pktin_sample(void *ctx, int cpu, void *data, __u32 size)
{
	struct pktin_cap *pc = ctx;

	pc->n++;
	pc->size = size < sizeof(pc->buf) ? size : sizeof(pc->buf);
	memcpy(pc->buf, data, pc->size);
}

/* Checks the one record of pc: header fields and the frame after it. */
static int pktin_check(const struct pktin_cap *pc, __u32 cube, __u32 in_port, __u32 reason, const void *pkt, __u32 len,
		       char *why, size_t n)
{
	const struct cb_pktin_hdr *h = (const void *)pc->buf;

	if (pc->n != 1) {
		snprintf(why, n, "%d slow-path records, expected 1", pc->n);
		return -1;
	}
	if (pc->size < sizeof(*h) + len) {
		snprintf(why, n, "slow-path record of %u bytes, expected >= %zu", pc->size, sizeof(*h) + len);
		return -1;
	}
	if (h->cube_id != cube || h->in_port != in_port || h->reason != reason || h->len != len) {
		snprintf(why, n, "record says cube %u port %u reason %u len %u, expected %u %u %u %u", h->cube_id,
			 h->in_port, h->reason, h->len, cube, in_port, reason, len);
		return -1;
	}
	if (memcmp(h + 1, pkt, len)) {
		snprintf(why, n, "record's frame differs from the packet");
		return -1;
	}
	return 0;
}

/* ---- packets ----------------------------------------------------------- */

static const __u8 MAC_A[6] = { 0x02, 0, 0, 0, 0, 0x0a };
static const __u8 MAC_B[6] = { 0x02, 0, 0, 0, 0, 0x0b };
static const __u8 MAC_C[6] = { 0x02, 0, 0, 0, 0, 0x0c };
static const __u8 MAC_BCAST[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
static const __u8 MAC_MCAST[6] = { 0x01, 0x00, 0x5e, 0x00, 0x00, 0x01 };

static __u64 mac_key(const __u8 *mac)
{
	__u64 k = 0;

	memcpy(&k, mac, 6);
	return k;
}

static __u32 verdict_drop(enum cbrig_hook h)
{
	return h == CBRIG_TC ? CBRIG_TC_SHOT : CBRIG_XDP_DROP;
}

static __u32 verdict_redirect(enum cbrig_hook h)
{
	return h == CBRIG_TC ? CBRIG_TC_REDIRECT : CBRIG_XDP_REDIRECT;
}

/* Runs pkt once into prog at in_port; 0 or why. */
static int run_once(struct env *e, int prog_fd, enum cbrig_hook hook, __u32 in_port, const void *pkt, __u32 len,
		    __u32 want_verdict, bool want_same_out, char *why, size_t n)
{
	__u8 out[256];
	struct cbrig_run run = {
		.hook = hook, .in_port = in_port, .pkt = pkt, .len = len, .out = out, .out_size = sizeof(out)
	};
	int r = cbrig_run(&e->rig, prog_fd, &run);

	if (r < 0) {
		snprintf(why, n, "test_run failed: %s", strerror(-r));
		return r;
	}
	if (run.retval != want_verdict) {
		snprintf(why, n, "verdict %u, expected %u", run.retval, want_verdict);
		return -1;
	}
	if (want_same_out && (run.out_len != len || memcmp(out, pkt, len))) {
		snprintf(why, n, "output packet (%u bytes) differs from the input (%u bytes)", run.out_len, len);
		return -1;
	}
	return 0;
}

/* ---- simplebridge ------------------------------------------------------ */

struct sb_fdb_init {
	const __u8 *mac;
	__u32 port;
	__u32 is_static;
	__u32 age_s; /* seen this many seconds ago */
};

enum sb_flood { SB_UNICAST = 0, SB_FLOOD = 1 };

struct sb_case {
	const char *name;
	struct sb_fdb_init fdb[2]; /* is_static: in sb_static, otherwise in sb_fdb */
	bool fill;		   /* sb_fdb filled to SB_FDB_MAX with other MACs first */
	__u32 aging_s;		   /* sb_conf.aging_ns, in seconds */
	const __u8 *dst, *src;
	__u32 in_port;
	__u32 len; /* the frame's first len bytes; 0: all 64 */
	enum sb_flood flood;
	int out_port; /* unicast: the port it leaves by; -1 dropped */
	/* fdb entry of src afterwards: port, or -1 absent; static; refreshed now */
	int src_port;
	__u32 src_static;
	bool src_learned_now;
};

/*
 * Bridge topology: ports 0..2 are netdevs (the veths when the namespace is
 * there), port 3 is a cube link to the forwarder's port SB_PEER_PORT (whose
 * action is drop), port 4 is unconnected.
 */
#define SB_PORT_CUBE 3
#define SB_PEER_PORT 6

static const struct sb_case sb_cases[] = {
	{ .name = "learn-source",
	  .fdb = { { MAC_B, 1, 0, 0 } },
	  .aging_s = 300,
	  .dst = MAC_B,
	  .src = MAC_A,
	  .in_port = 0,
	  .out_port = 1,
	  .src_port = 0,
	  .src_learned_now = true },
	{ .name = "known-unicast",
	  .fdb = { { MAC_B, 2, 0, 0 }, { MAC_A, 0, 0, 0 } },
	  .aging_s = 300,
	  .dst = MAC_B,
	  .src = MAC_A,
	  .in_port = 0,
	  .out_port = 2,
	  .src_port = 0 },
	{ .name = "known-unicast-to-cube-peer",
	  .fdb = { { MAC_B, SB_PORT_CUBE, 0, 0 } },
	  .aging_s = 300,
	  .dst = MAC_B,
	  .src = MAC_A,
	  .in_port = 1,
	  .out_port = SB_PORT_CUBE,
	  .src_port = 1,
	  .src_learned_now = true },
	{ .name = "dst-on-in-port-drops",
	  .fdb = { { MAC_B, 0, 0, 0 } },
	  .aging_s = 300,
	  .dst = MAC_B,
	  .src = MAC_A,
	  .in_port = 0,
	  .out_port = -1,
	  .src_port = 0,
	  .src_learned_now = true },
	{ .name = "moved-source-relearned",
	  .fdb = { { MAC_B, 1, 0, 0 }, { MAC_A, 2, 0, 0 } },
	  .aging_s = 300,
	  .dst = MAC_B,
	  .src = MAC_A,
	  .in_port = 0,
	  .out_port = 1,
	  .src_port = 0,
	  .src_learned_now = true },
	{ .name = "static-source-never-moved",
	  .fdb = { { MAC_B, 1, 0, 0 }, { MAC_A, 2, 1, 5 } },
	  .aging_s = 300,
	  .dst = MAC_B,
	  .src = MAC_A,
	  .in_port = 0,
	  .out_port = 1,
	  .src_port = 2,
	  .src_static = 1 },
	{ .name = "multicast-source-not-learned",
	  .fdb = { { MAC_B, 1, 0, 0 } },
	  .aging_s = 300,
	  .dst = MAC_B,
	  .src = MAC_MCAST,
	  .in_port = 0,
	  .out_port = 1,
	  .src_port = -1 },
	{ .name = "static-dst-never-ages",
	  .fdb = { { MAC_B, 1, 1, 5 } },
	  .aging_s = 1,
	  .dst = MAC_B,
	  .src = MAC_A,
	  .in_port = 0,
	  .out_port = 1,
	  .src_port = 0,
	  .src_learned_now = true },
	{ .name = "header-only-frame-forwards",
	  .fdb = { { MAC_B, 1, 0, 0 } },
	  .aging_s = 300,
	  .dst = MAC_B,
	  .src = MAC_A,
	  .in_port = 0,
	  .len = 14,
	  .out_port = 1,
	  .src_port = 0,
	  .src_learned_now = true },
	{ .name = "truncated-frame-drops",
	  .aging_s = 300,
	  .dst = MAC_B,
	  .src = MAC_A,
	  .in_port = 0,
	  .len = 10,
	  .out_port = -1,
	  .src_port = -1 },
	{ .name = "aged-dst-floods",
	  .fdb = { { MAC_B, 1, 0, 5 } },
	  .aging_s = 1,
	  .dst = MAC_B,
	  .src = MAC_A,
	  .in_port = 0,
	  .flood = SB_FLOOD,
	  .src_port = 0,
	  .src_learned_now = true },
	{ .name = "unknown-dst-floods",
	  .fdb = { { MAC_B, 1, 0, 0 } },
	  .aging_s = 300,
	  .dst = MAC_C,
	  .src = MAC_A,
	  .in_port = 1,
	  .flood = SB_FLOOD,
	  .src_port = 1,
	  .src_learned_now = true },
	{ .name = "static-dst-wins-over-learned",
	  .fdb = { { MAC_B, 2, 0, 0 }, { MAC_B, 1, 1, 0 } },
	  .aging_s = 300,
	  .dst = MAC_B,
	  .src = MAC_A,
	  .in_port = 0,
	  .out_port = 1,
	  .src_port = 0,
	  .src_learned_now = true },
	{ .name = "full-table-learns-new-source",
	  .fill = true,
	  .aging_s = 300,
	  .dst = MAC_C,
	  .src = MAC_A,
	  .in_port = 1,
	  .flood = SB_FLOOD,
	  .src_port = 1,
	  .src_learned_now = true },
	{ .name = "full-table-keeps-static-dst",
	  .fill = true,
	  .fdb = { { MAC_B, 2, 1, 0 } },
	  .aging_s = 300,
	  .dst = MAC_B,
	  .src = MAC_A,
	  .in_port = 0,
	  .out_port = 2,
	  .src_port = 0,
	  .src_learned_now = true },
	{ .name = "broadcast-floods",
	  .aging_s = 300,
	  .dst = MAC_BCAST,
	  .src = MAC_A,
	  .in_port = 2,
	  .flood = SB_FLOOD,
	  .src_port = 2,
	  .src_learned_now = true },
};

static int sb_empty(int fd)
{
	__u64 next;

	while (!bpf_map_get_next_key(fd, NULL, &next))
		if (bpf_map_delete_elem(fd, &next))
			return -errno;
	return 0;
}

/* MACs 06:00:xx:xx:xx:xx (locally administered, never a case's) */
static __u64 sb_fill_key(__u32 i)
{
	__u8 m[6] = { 0x06, 0, (__u8)(i >> 24), (__u8)(i >> 16), (__u8)(i >> 8), (__u8)i };

	return mac_key(m);
}

static int sb_setup_case(struct cube *sb, const struct sb_case *t)
{
	struct sb_conf conf = { .aging_ns = (__u64)t->aging_s * NS_PER_S };
	__u64 key, now = mono_ns();
	__u32 zero = 0;

	if (sb_empty(sb->svc_fd) < 0 || sb_empty(sb->static_fd) < 0)
		return -errno;
	for (__u32 i = 0; t->fill && i < SB_FDB_MAX; i++) {
		struct sb_fdb_val v = { .port = 2, .seen_ns = now };

		key = sb_fill_key(i);
		/* an LRU map evicts rather than refuse: it stays full */
		if (bpf_map_update_elem(sb->svc_fd, &key, &v, BPF_ANY))
			break;
	}
	for (size_t i = 0; i < ARRAY_SIZE(t->fdb) && t->fdb[i].mac; i++) {
		struct sb_fdb_val v = { .port = t->fdb[i].port, .is_static = t->fdb[i].is_static };

		/* as the process does: the flag before the first static element */
		conf.has_static |= t->fdb[i].is_static;
		__u64 age = (__u64)t->fdb[i].age_s * NS_PER_S;

		v.seen_ns = now > age ? now - age : 1;
		key = mac_key(t->fdb[i].mac);
		if (bpf_map_update_elem(v.is_static ? sb->static_fd : sb->svc_fd, &key, &v, BPF_ANY))
			return -errno;
	}
	if (bpf_map_update_elem(sb->conf_fd, &zero, &conf, BPF_ANY))
		return -errno;
	return 0;
}

static int sb_check_fdb(struct cube *sb, const struct sb_case *t, __u64 t0, __u64 t1, char *why, size_t n)
{
	__u64 key = mac_key(t->src);
	struct sb_fdb_val v;
	bool in_static = !bpf_map_lookup_elem(sb->static_fd, &key, &v);

	if (in_static && !bpf_map_lookup_elem(sb->svc_fd, &key, &v)) {
		snprintf(why, n, "static source MAC also learned in sb_fdb on port %u", v.port);
		return -1;
	}
	if (!in_static && bpf_map_lookup_elem(sb->svc_fd, &key, &v)) {
		if (t->src_port < 0)
			return 0;
		snprintf(why, n, "source MAC not in sb_fdb, expected on port %d", t->src_port);
		return -1;
	}
	if (in_static)
		bpf_map_lookup_elem(sb->static_fd, &key, &v);
	if (t->src_port < 0) {
		snprintf(why, n, "source MAC learned on port %u, expected not learned", v.port);
		return -1;
	}
	if (v.port != (__u32)t->src_port || v.is_static != t->src_static) {
		snprintf(why, n, "source MAC on port %u static %u, expected port %d static %u", v.port, v.is_static,
			 t->src_port, t->src_static);
		return -1;
	}
	if (t->src_learned_now && (v.seen_ns < t0 || v.seen_ns > t1)) {
		snprintf(why, n, "source MAC seen_ns %llu not refreshed by this packet", (unsigned long long)v.seen_ns);
		return -1;
	}
	if (t->fill) {
		/* still full: the new entry took an old one's place */
		__u64 k, cur;
		void *prev = NULL;
		__u32 cnt = 0;

		while (!bpf_map_get_next_key(sb->svc_fd, prev, &k)) {
			cnt++;
			cur = k;
			prev = &cur;
		}
		if (cnt > SB_FDB_MAX || cnt < SB_FDB_MAX / 2) {
			snprintf(why, n, "sb_fdb holds %u entries after the fill, expected at most %d and most of them",
				 cnt, SB_FDB_MAX);
			return -1;
		}
	}
	return 0;
}

/*
 * Waits until (cube, port) has counted want drops: the copy a TC flood sends
 * to a cube peer comes back through the injector in softirq, after
 * test_run returned; the drop is the last thing the peer counts.
 */
static void wait_drops(struct env *e, __u32 cube, __u32 port, __u64 want)
{
	struct cb_port_stats st;

	for (int i = 0; i < 100; i++) {
		if (!cbrig_stats(&e->rig, cube, port, &st) && st.drops >= want)
			return;
		usleep(5000);
	}
}

static void suite_simplebridge(struct env *e, enum cbrig_hook hook, struct cube *sb, struct cube *peer)
{
	struct sf_entry peer_act = { .action = SF_DROP };
	__u32 peer_in = SB_PEER_PORT, ids[2] = { sb->id, peer->id };
	struct perf_buffer *pb = NULL;
	struct pktin_cap pc;
	char name[128], why[256];

	for (__u32 p = 0; p < NS_PORTS; p++)
		cbrig_set_link(&e->rig, sb->id, p, CB_LINK_NETDEV, e->ns_on ? (__u32)e->ns.ifindex[p] : 1, 0, 0);
	/* both ends, as the broker writes a link: the tx of a cube link is
	 * its peer's rx (portstats.h) */
	cbrig_set_link(&e->rig, sb->id, SB_PORT_CUBE, CB_LINK_CUBE, 0, (__u16)peer->id, SB_PEER_PORT);
	cbrig_set_link(&e->rig, peer->id, SB_PEER_PORT, CB_LINK_CUBE, 0, (__u16)sb->id, SB_PORT_CUBE);
	cbrig_set_link(&e->rig, sb->id, 4, CB_LINK_NONE, 0, 0, 0);
	cube_wire(sb, SB_PORT_CUBE, peer);
	bpf_map_update_elem(peer->svc_fd, &peer_in, &peer_act, BPF_ANY);
	pb = perf_buffer__new(sb->pktin_fd, 8, pktin_sample, NULL, &pc, NULL);

	for (size_t i = 0; i < ARRAY_SIZE(sb_cases); i++) {
		const struct sb_case *t = &sb_cases[i];
		__u8 pkt[64];
		__u32 len = cbrig_udp_frame(pkt, t->dst, t->src);
		struct cbrig_run run = { .hook = hook, .in_port = t->in_port, .pkt = pkt, .len = len };
		struct delta d[8];
		struct snap before, after;
		__u64 t0, t1, fl;
		__u32 want, tx = 0;
		int nd = 0, r;
		__u8 out[256];

		snprintf(name, sizeof(name), "%s/simplebridge/%s", hook_name(hook), t->name);
		if (t->flood && hook == CBRIG_TC && !e->ns_on) {
			snprintf(why, sizeof(why), "TC flooding transmits clones: %s", e->ns_why);
			skip(name, why);
			continue;
		}
		if (t->len && t->len < ETH_HLEN) {
			/* test_run refuses a frame (after data_meta) shorter than
			 * ETH_HLEN, and so do the stack and the XDP/skb helpers that
			 * shrink frames: parse_probe checks the parser's bounds */
			skip(name, "the kernel never runs TC/XDP on a frame < 14 bytes; "
				   "see parsing/ checks");
			continue;
		}
		if (sb_setup_case(sb, t) < 0) {
			report(false, name, "cannot set up the fdb: %s", strerror(errno));
			continue;
		}
		if (t->len) {
			run.len = len = t->len;
			/* a header-only frame is no IPv4 frame (test_run checks that) */
			pkt[12] = 0x88;
			pkt[13] = 0xb5;
		}
		run.out = out;
		run.out_size = sizeof(out);
		/* expected counters and verdict */
		d[nd++] = (struct delta){ sb->id, t->in_port, 1, 0, 0 };
		if (t->flood) {
			/* every copy counts as sent, the XDP cube peer's too:
			 * the process re-injects it there */
			for (__u32 p = 0; p <= SB_PORT_CUBE; p++) {
				if (p == t->in_port)
					continue;
				if (p != SB_PORT_CUBE || hook == CBRIG_TC)
					tx |= 1u << p;
				d[nd++] = (struct delta){ sb->id, p, 0, 1, 0 };
			}
			if (hook == CBRIG_TC) /* the copy re-enters the peer cube, which drops */
				d[nd++] = (struct delta){ peer->id, SB_PEER_PORT, 1, 0, 1 };
			want = hook == CBRIG_TC ? CBRIG_TC_SHOT : CBRIG_XDP_REDIRECT;
		} else if (t->out_port < 0) {
			d[nd++] = (struct delta){ sb->id, t->in_port, 0, 0, 1 };
			want = verdict_drop(hook);
		} else if (t->out_port == SB_PORT_CUBE) {
			d[nd++] = (struct delta){ sb->id, SB_PORT_CUBE, 0, 1, 0 };
			d[nd++] = (struct delta){ peer->id, SB_PEER_PORT, 1, 0, 1 };
			want = verdict_drop(hook);
		} else {
			d[nd++] = (struct delta){ sb->id, (__u32)t->out_port, 0, 1, 0 };
			want = verdict_redirect(hook);
		}
		if (e->ns_on)
			cap_drain(&e->ns);
		cbrig_percpu_u64(&e->rig, sb->spstats_fd, CB_REASON_FLOOD, &fl);
		memset(&pc, 0, sizeof(pc));
		snap_take(e, &before, ids, 2);
		t0 = mono_ns();
		r = cbrig_run(&e->rig, sb->entry_fd, &run);
		t1 = mono_ns();
		if (r < 0) {
			report(false, name, "test_run failed: %s", strerror(-r));
			continue;
		}
		if (t->flood && hook == CBRIG_TC)
			wait_drops(e, peer->id, SB_PEER_PORT, before.st[1][SB_PEER_PORT].drops + 1);
		snap_take(e, &after, ids, 2);
		if (run.retval != want) {
			report(false, name, "verdict %u, expected %u", run.retval, want);
			continue;
		}
		if (want == verdict_redirect(hook) && !t->flood && (run.out_len != len || memcmp(out, pkt, len))) {
			report(false, name, "output packet differs from the input");
			continue;
		}
		if (snap_check(&before, &after, d, nd, len, why, sizeof(why)) < 0 ||
		    sb_check_fdb(sb, t, t0, t1, why, sizeof(why)) < 0) {
			report(false, name, "%s", why);
			continue;
		}
		if (e->ns_on && hook == CBRIG_TC) {
			/* copies exactly where flooded, and nothing from a redirect */
			bool bad = false;

			for (int p = 0; p < NS_PORTS && !bad; p++) {
				int want_n = (tx >> p) & 1, got;

				got = cap_count(&e->ns, p, pkt, len, want_n ? 500 : 20);
				if (got != want_n) {
					snprintf(why, sizeof(why), "%d copies out of port %d, expected %d", got, p,
						 want_n);
					bad = true;
				}
			}
			if (bad) {
				report(false, name, "%s", why);
				continue;
			}
		}
		if (t->flood && hook == CBRIG_XDP) {
			/* the cube peer's copy goes to the cube's process */
			__u64 fl2;

			cbrig_percpu_u64(&e->rig, sb->spstats_fd, CB_REASON_FLOOD, &fl2);
			if (pb)
				perf_buffer__poll(pb, 100);
			if (fl2 != fl + 1) {
				report(false, name, "flood slow-path counter %+lld, expected +1",
				       (long long)(fl2 - fl));
				continue;
			}
			if (pb &&
			    pktin_check(&pc, sb->id, t->in_port, CB_REASON_FLOOD, pkt, len, why, sizeof(why)) < 0) {
				report(false, name, "%s", why);
				continue;
			}
		}
		report(true, name, NULL);
	}
	perf_buffer__free(pb);
	cube_unwire(sb, SB_PORT_CUBE);
}

/* ---- simpleforwarder --------------------------------------------------- */

enum expect_kind { X_DROP, X_FORWARD, X_SLOWPATH, X_SILENT_DROP };

struct sf_case {
	const char *name;
	__u32 in_port;
	struct sf_entry act; /* set for in_port unless no_action */
	bool no_action;
	enum expect_kind x;
};

/* Ports 1 and 2 are netdevs, 4 has no peer. */
static const struct sf_case sf_cases[] = {
	{ "drop", 0, { SF_DROP, 0 }, false, X_DROP },
	{ "forward-0-to-1", 0, { SF_FORWARD, 1 }, false, X_FORWARD },
	{ "forward-1-to-2", 1, { SF_FORWARD, 2 }, false, X_FORWARD },
	{ "slowpath", 0, { SF_SLOWPATH, 0 }, false, X_SLOWPATH },
	{ "port-without-action-drops", 3, { 0, 0 }, true, X_DROP },
	{ "forward-to-unconnected-port-drops", 0, { SF_FORWARD, 4 }, false, X_DROP },
	{ "forward-to-port-out-of-range-drops", 0, { SF_FORWARD, CB_MAX_PORTS + 3 }, false, X_DROP },
	{ "in-port-out-of-range-drops", CB_MAX_PORTS + 8, { 0, 0 }, true, X_SILENT_DROP },
};

/*
 * Runs one packet into c at in_port and checks verdict, output, counters
 * and, for X_SLOWPATH, the slow-path counter and record. out_port is the
 * port of c a forward leaves by.
 */
static void check_simple(struct env *e, const char *name, struct cube *c, struct perf_buffer *pb, struct pktin_cap *pc,
			 __u32 in_port, enum expect_kind x, __u32 out_port)
{
	__u8 pkt[64];
	__u32 len = cbrig_udp_frame(pkt, MAC_B, MAC_A);
	struct snap before, after;
	struct delta d[2];
	__u64 sp0, sp1;
	char why[256];
	int nd = 0;
	__u32 want = x == X_FORWARD ? verdict_redirect(c->hook) : verdict_drop(c->hook);

	if (in_port < CB_MAX_PORTS)
		d[nd++] = (struct delta){ c->id, in_port, 1, 0, 0 };
	if (x == X_DROP)
		d[nd++] = (struct delta){ c->id, in_port, 0, 0, 1 };
	if (x == X_FORWARD)
		d[nd++] = (struct delta){ c->id, out_port, 0, 1, 0 };
	memset(pc, 0, sizeof(*pc));
	cbrig_percpu_u64(&e->rig, c->spstats_fd, CB_REASON_SERVICE, &sp0);
	snap_take(e, &before, &c->id, 1);
	if (run_once(e, c->entry_fd, c->hook, in_port, pkt, len, want, x == X_FORWARD, why, sizeof(why)) < 0) {
		report(false, name, "%s", why);
		return;
	}
	snap_take(e, &after, &c->id, 1);
	cbrig_percpu_u64(&e->rig, c->spstats_fd, CB_REASON_SERVICE, &sp1);
	if (snap_check(&before, &after, d, nd, len, why, sizeof(why)) < 0) {
		report(false, name, "%s", why);
		return;
	}
	if (sp1 - sp0 != (x == X_SLOWPATH)) {
		report(false, name, "slow-path counter (reason %d) %+lld, expected %+d", CB_REASON_SERVICE,
		       (long long)(sp1 - sp0), x == X_SLOWPATH);
		return;
	}
	if (pb)
		perf_buffer__poll(pb, x == X_SLOWPATH ? 100 : 0);
	if (x == X_SLOWPATH && pb &&
	    pktin_check(pc, c->id, in_port, CB_REASON_SERVICE, pkt, len, why, sizeof(why)) < 0) {
		report(false, name, "%s", why);
		return;
	}
	if (x != X_SLOWPATH && pc->n) {
		report(false, name, "%d unexpected slow-path records", pc->n);
		return;
	}
	report(true, name, NULL);
}

static void suite_simpleforwarder(struct env *e, enum cbrig_hook hook, struct cube *sf)
{
	struct pktin_cap pc;
	struct perf_buffer *pb = perf_buffer__new(sf->pktin_fd, 8, pktin_sample, NULL, &pc, NULL);
	char name[128];

	cbrig_set_link(&e->rig, sf->id, 1, CB_LINK_NETDEV, 1, 0, 0);
	cbrig_set_link(&e->rig, sf->id, 2, CB_LINK_NETDEV, 1, 0, 0);
	cbrig_set_link(&e->rig, sf->id, 4, CB_LINK_NONE, 0, 0, 0);
	for (size_t i = 0; i < ARRAY_SIZE(sf_cases); i++) {
		const struct sf_case *t = &sf_cases[i];
		struct sf_entry none = { 0 };

		snprintf(name, sizeof(name), "%s/simpleforwarder/%s", hook_name(hook), t->name);
		for (__u32 p = 0; p < CB_MAX_PORTS; p++)
			bpf_map_update_elem(sf->svc_fd, &p, &none, BPF_ANY);
		if (!t->no_action)
			bpf_map_update_elem(sf->svc_fd, &t->in_port, &t->act, BPF_ANY);
		check_simple(e, name, sf, pb, &pc, t->in_port, t->x, t->act.outport);
	}
	if (!pb) {
		snprintf(name, sizeof(name), "%s/simpleforwarder/slowpath-record", hook_name(hook));
		skip(name, "cannot open the perf buffer");
	}
	perf_buffer__free(pb);
}

/* ---- helloworld -------------------------------------------------------- */

struct hw_case {
	const char *name;
	struct hw_conf conf;
	__u32 in_port;
	enum expect_kind x;
	__u32 out_port;
};

/* Ports 0, 1 and 2 are netdevs. */
static const struct hw_case hw_cases[] = {
	{ "drop", { HW_DROP, { 0, 1 } }, 0, X_DROP, 0 },
	{ "forward-0-to-1", { HW_FORWARD, { 0, 1 } }, 0, X_FORWARD, 1 },
	{ "forward-1-to-0", { HW_FORWARD, { 0, 1 } }, 1, X_FORWARD, 0 },
	{ "forward-other-port-drops", { HW_FORWARD, { 0, 1 } }, 2, X_DROP, 0 },
	{ "forward-without-second-port-drops", { HW_FORWARD, { 0, HW_NO_PORT } }, 0, X_DROP, 0 },
	{ "slowpath", { HW_SLOWPATH, { 0, 1 } }, 1, X_SLOWPATH, 0 },
};

static void suite_helloworld(struct env *e, enum cbrig_hook hook, struct cube *hw)
{
	struct pktin_cap pc;
	struct perf_buffer *pb = perf_buffer__new(hw->pktin_fd, 8, pktin_sample, NULL, &pc, NULL);
	__u32 zero = 0;
	char name[128];

	for (__u32 p = 0; p < 3; p++)
		cbrig_set_link(&e->rig, hw->id, p, CB_LINK_NETDEV, 1, 0, 0);
	for (size_t i = 0; i < ARRAY_SIZE(hw_cases); i++) {
		const struct hw_case *t = &hw_cases[i];

		snprintf(name, sizeof(name), "%s/helloworld/%s", hook_name(hook), t->name);
		bpf_map_update_elem(hw->svc_fd, &zero, &t->conf, BPF_ANY);
		check_simple(e, name, hw, pb, &pc, t->in_port, t->x, t->out_port);
	}
	perf_buffer__free(pb);
}

/* ---- chains of cubes --------------------------------------------------- */

static void sf_set(struct cube *sf, __u32 in_port, __u32 action, __u32 outport)
{
	struct sf_entry v = { .action = action, .outport = outport };

	bpf_map_update_elem(sf->svc_fd, &in_port, &v, BPF_ANY);
}

/* Runs a packet into first at in_port; checks verdict, output and counters. */
static void check_chain(struct env *e, const char *name, struct cube *first, __u32 in_port, __u32 want, bool same_out,
			const __u32 *ids, int nids, const struct delta *d, int nd)
{
	__u8 pkt[64];
	__u32 len = cbrig_udp_frame(pkt, MAC_B, MAC_A);
	struct snap before, after;
	char why[256];

	snap_take(e, &before, ids, nids);
	if (run_once(e, first->entry_fd, first->hook, in_port, pkt, len, want, same_out, why, sizeof(why)) < 0) {
		report(false, name, "%s", why);
		return;
	}
	snap_take(e, &after, ids, nids);
	if (snap_check(&before, &after, d, nd, len, why, sizeof(why)) < 0) {
		report(false, name, "%s", why);
		return;
	}
	report(true, name, NULL);
}

/*
 * A (simpleforwarder), B (helloworld), C (simpleforwarder):
 *   2 cubes: A 0 -> 1 ==cube==> C 3 -> 5 (netdev)
 *   3 cubes: A 6 -> 2 ==cube==> B 0 -> 1 ==cube==> C 4 -> 5 (netdev)
 *   hole:    A 7 -> 8 ==cube==> C 3, but A's cb_next[8] is empty
 *   loop:    A 9 -> 9 ==cube==> A 9 ... until the kernel's tail-call limit
 */
static void suite_chain(struct env *e, enum cbrig_hook hook, struct cube *a, struct cube *b, struct cube *c)
{
	struct hw_conf hc = { HW_FORWARD, { 0, 1 } };
	__u32 zero = 0, ids[3] = { a->id, b->id, c->id };
	__u32 redirect = verdict_redirect(hook), drop = verdict_drop(hook);
	char name[128];

	sf_set(a, 0, SF_FORWARD, 1);
	sf_set(a, 6, SF_FORWARD, 2);
	sf_set(a, 7, SF_FORWARD, 8);
	sf_set(a, 9, SF_FORWARD, 9);
	bpf_map_update_elem(b->svc_fd, &zero, &hc, BPF_ANY);
	sf_set(c, 3, SF_FORWARD, 5);
	sf_set(c, 4, SF_FORWARD, 5);
	cbrig_set_link(&e->rig, a->id, 1, CB_LINK_CUBE, 0, (__u16)c->id, 3);
	cbrig_set_link(&e->rig, a->id, 2, CB_LINK_CUBE, 0, (__u16)b->id, 0);
	cbrig_set_link(&e->rig, a->id, 8, CB_LINK_CUBE, 0, (__u16)c->id, 3);
	cbrig_set_link(&e->rig, a->id, 9, CB_LINK_CUBE, 0, (__u16)a->id, 9);
	cbrig_set_link(&e->rig, b->id, 0, CB_LINK_CUBE, 0, (__u16)a->id, 2);
	cbrig_set_link(&e->rig, b->id, 1, CB_LINK_CUBE, 0, (__u16)c->id, 4);
	cbrig_set_link(&e->rig, c->id, 3, CB_LINK_CUBE, 0, (__u16)a->id, 1);
	cbrig_set_link(&e->rig, c->id, 4, CB_LINK_CUBE, 0, (__u16)b->id, 1);
	cbrig_set_link(&e->rig, c->id, 5, CB_LINK_NETDEV, 1, 0, 0);
	cube_wire(a, 1, c);
	cube_wire(a, 2, b);
	cube_unwire(a, 8);
	cube_wire(a, 9, a);
	cube_wire(b, 1, c);

	{
		const struct delta d[] = {
			{ a->id, 0, 1, 0, 0 },
			{ a->id, 1, 0, 1, 0 },
			{ c->id, 3, 1, 0, 0 },
			{ c->id, 5, 0, 1, 0 },
		};
		snprintf(name, sizeof(name), "%s/chain/2-cubes", hook_name(hook));
		check_chain(e, name, a, 0, redirect, true, ids, 3, d, ARRAY_SIZE(d));
	}
	{
		const struct delta d[] = {
			{ a->id, 6, 1, 0, 0 }, { a->id, 2, 0, 1, 0 }, { b->id, 0, 1, 0, 0 },
			{ b->id, 1, 0, 1, 0 }, { c->id, 4, 1, 0, 0 }, { c->id, 5, 0, 1, 0 },
		};
		snprintf(name, sizeof(name), "%s/chain/3-cubes", hook_name(hook));
		check_chain(e, name, a, 6, redirect, true, ids, 3, d, ARRAY_SIZE(d));
	}
	{
		/* a hop that fails sends nothing: no tx, one drop where it came in */
		const struct delta d[] = {
			{ a->id, 7, 1, 0, 1 },
			{ a->id, 8, 0, 0, 0 },
		};
		snprintf(name, sizeof(name), "%s/chain/empty-next-hop-drops", hook_name(hook));
		check_chain(e, name, a, 7, drop, false, ids, 3, d, ARRAY_SIZE(d));
	}
	{
		/* 1 entry + 33 tail calls, then the 34th fails and the cube drops
		 * (tx: 33 hops, +1 for the failed one while tx is counted early) */
		const struct delta d[] = { { a->id, 9, 34, 0, 1, true } };

		snprintf(name, sizeof(name), "%s/chain/loop-stops-at-tail-call-limit", hook_name(hook));
		check_chain(e, name, a, 9, drop, false, ids, 3, d, ARRAY_SIZE(d));
	}
	cube_unwire(a, 9); /* a prog array holding its own program */
}

/* ---- transparent cubes ------------------------------------------------- */

/*
 * Two transparenthelloworld cubes attached to port 1 of a forwarder A, T2
 * next to A, T1 next to A's peer, the forwarder C, wired as the broker
 * attaches them (port 0 inner, toward A; port 1 outer):
 *
 *   A 0 -> 1 ==> 0 T2 1 ==> 0 T1 1 ==> 3 C 3 -> 5 (netdev)      egress
 *   A 2 <- 1 <== 0 T2 1 <== 0 T1 1 <== 3 C 3 <- 4 (netdev)      ingress
 */
struct thw_hop {
	int cube; /* index in the suite's cubes: 0 A, 1 T1, 2 T2, 3 C */
	__u32 in_port, out_port;
};

#define THW_HOPS 4
static const struct thw_hop thw_egress_path[THW_HOPS] = { { 0, 0, 1 }, { 2, 0, 1 }, { 1, 0, 1 }, { 3, 3, 5 } };
static const struct thw_hop thw_ingress_path[THW_HOPS] = { { 3, 4, 3 }, { 1, 1, 0 }, { 2, 1, 0 }, { 0, 1, 2 } };

struct thw_case {
	const char *name;
	__u32 t1[THW_NDIRS], t2[THW_NDIRS]; /* enum thw_action by enum thw_dir */
	bool ingress;			    /* from C toward A, else from A out of port 1 */
};

#define THW_ALL(a)   \
	{            \
		a, a \
	}
#define THW_EG(a)                                          \
	{                                                  \
		[THW_EGRESS] = a, [THW_INGRESS] = THW_PASS \
	}
#define THW_IN(a)                                          \
	{                                                  \
		[THW_EGRESS] = THW_PASS, [THW_INGRESS] = a \
	}

static const struct thw_case thw_cases[] = {
	{ "egress-passes-t2-t1-to-c", THW_ALL(THW_PASS), THW_ALL(THW_PASS), false },
	{ "ingress-passes-t1-t2-to-a", THW_ALL(THW_PASS), THW_ALL(THW_PASS), true },
	{ "egress-drop-at-t1", THW_EG(THW_DROP), THW_ALL(THW_PASS), false },
	{ "egress-drop-at-t2-never-reaches-t1", THW_ALL(THW_PASS), THW_EG(THW_DROP), false },
	{ "ingress-drop-at-t1", THW_IN(THW_DROP), THW_ALL(THW_PASS), true },
	{ "egress-slowpath-at-t1", THW_EG(THW_SLOWPATH), THW_ALL(THW_PASS), false },
	{ "ingress-slowpath-at-t2", THW_ALL(THW_PASS), THW_IN(THW_SLOWPATH), true },
	{ "ingress-action-leaves-egress-alone", THW_IN(THW_DROP), THW_IN(THW_SLOWPATH), false },
	{ "egress-action-leaves-ingress-alone", THW_EG(THW_SLOWPATH), THW_EG(THW_DROP), true },
};

static int thw_set(struct cube *t, const __u32 act[THW_NDIRS])
{
	for (__u32 dir = 0; dir < THW_NDIRS; dir++)
		if (bpf_map_update_elem(t->svc_fd, &dir, &act[dir], BPF_ANY))
			return -errno;
	return 0;
}

/* Both ends of a cube link, and the hop each way, as the broker writes them. */
static void thw_link(struct env *e, struct cube *x, __u32 xp, struct cube *y, __u32 yp)
{
	cbrig_set_link(&e->rig, x->id, xp, CB_LINK_CUBE, 0, (__u16)y->id, (__u16)yp);
	cbrig_set_link(&e->rig, y->id, yp, CB_LINK_CUBE, 0, (__u16)x->id, (__u16)xp);
	cube_wire(x, xp, y);
	cube_wire(y, yp, x);
}

/*
 * Runs the case's frame along its path and checks the verdict, the output,
 * every port counter of the four cubes, the slow-path counters of T1 and
 * T2 and the one record the stopping cube's process gets (none otherwise).
 */
static void thw_check(struct env *e, const char *name, struct cube *cubes[4], struct perf_buffer *pb[2],
		      struct pktin_cap pc[2], const struct thw_case *t)
{
	const struct thw_hop *path = t->ingress ? thw_ingress_path : thw_egress_path;
	__u32 dir = t->ingress ? THW_INGRESS : THW_EGRESS, ids[4], want;
	__u8 pkt[64];
	__u32 len = cbrig_udp_frame(pkt, MAC_B, MAC_A);
	struct snap before, after;
	struct delta d[2 * THW_HOPS];
	int nd = 0, stop = -1; /* the hop whose cube keeps the frame */
	__u64 sp0[2], sp1[2];
	char why[256];

	for (int i = 0; i < 4; i++)
		ids[i] = cubes[i]->id;
	for (int h = 0; h < THW_HOPS; h++) {
		const struct thw_hop *hp = &path[h];
		__u32 act = hp->cube == 1 ? t->t1[dir] : hp->cube == 2 ? t->t2[dir] : THW_PASS;

		d[nd++] = (struct delta){ ids[hp->cube], hp->in_port, 1, 0, 0 };
		if (act != THW_PASS) {
			if (act == THW_DROP)
				d[nd++] = (struct delta){ ids[hp->cube], hp->in_port, 0, 0, 1 };
			stop = h;
			break;
		}
		/* a cube link's tx is its peer's rx (portstats.h): both move */
		d[nd++] = (struct delta){ ids[hp->cube], hp->out_port, 0, 1, 0 };
	}
	want = stop < 0 ? verdict_redirect(cubes[0]->hook) : verdict_drop(cubes[0]->hook);
	memset(pc, 0, 2 * sizeof(*pc));
	for (int i = 0; i < 2; i++)
		cbrig_percpu_u64(&e->rig, cubes[1 + i]->spstats_fd, CB_REASON_SERVICE, &sp0[i]);
	snap_take(e, &before, ids, 4);
	if (run_once(e, cubes[path[0].cube]->entry_fd, cubes[0]->hook, path[0].in_port, pkt, len, want, stop < 0, why,
		     sizeof(why)) < 0) {
		report(false, name, "%s", why);
		return;
	}
	snap_take(e, &after, ids, 4);
	if (snap_check(&before, &after, d, nd, len, why, sizeof(why)) < 0) {
		report(false, name, "%s", why);
		return;
	}
	for (int i = 0; i < 2; i++) {
		/* T1 is cube 1, T2 cube 2 */
		bool sp = stop >= 0 && path[stop].cube == 1 + i && (i ? t->t2[dir] : t->t1[dir]) == THW_SLOWPATH;

		cbrig_percpu_u64(&e->rig, cubes[1 + i]->spstats_fd, CB_REASON_SERVICE, &sp1[i]);
		if (sp1[i] - sp0[i] != sp) {
			report(false, name, "T%d slow-path counter %+lld, expected %+d", 1 + i,
			       (long long)(sp1[i] - sp0[i]), sp);
			return;
		}
		if (pb[i])
			perf_buffer__poll(pb[i], sp ? 100 : 0);
		if (sp && pb[i] &&
		    pktin_check(&pc[i], ids[1 + i], path[stop].in_port, CB_REASON_SERVICE, pkt, len, why, sizeof(why)) <
			    0) {
			report(false, name, "T%d: %s", 1 + i, why);
			return;
		}
		if (!sp && pc[i].n) {
			report(false, name, "%d unexpected slow-path records from T%d", pc[i].n, 1 + i);
			return;
		}
	}
	report(true, name, NULL);
}

static void suite_transparent(struct env *e, enum cbrig_hook hook, struct cube *a, struct cube *t1, struct cube *t2,
			      struct cube *c)
{
	struct cube *cubes[4] = { a, t1, t2, c };
	struct pktin_cap pc[2];
	struct perf_buffer *pb[2];
	char name[128];

	pb[0] = perf_buffer__new(t1->pktin_fd, 8, pktin_sample, NULL, &pc[0], NULL);
	pb[1] = perf_buffer__new(t2->pktin_fd, 8, pktin_sample, NULL, &pc[1], NULL);
	sf_set(a, 0, SF_FORWARD, 1);
	sf_set(a, 1, SF_FORWARD, 2);
	sf_set(c, 3, SF_FORWARD, 5);
	sf_set(c, 4, SF_FORWARD, 3);
	for (__u32 p = 0; p <= 2; p += 2)
		cbrig_set_link(&e->rig, a->id, p, CB_LINK_NETDEV, 1, 0, 0);
	cbrig_set_link(&e->rig, c->id, 4, CB_LINK_NETDEV, 1, 0, 0);
	cbrig_set_link(&e->rig, c->id, 5, CB_LINK_NETDEV, 1, 0, 0);
	/* a transparent cube's port 0 faces A, its port 1 A's old peer */
	thw_link(e, a, 1, t2, 0);
	thw_link(e, t2, 1, t1, 0);
	thw_link(e, t1, 1, c, 3);

	for (size_t i = 0; i < ARRAY_SIZE(thw_cases); i++) {
		const struct thw_case *t = &thw_cases[i];

		snprintf(name, sizeof(name), "%s/transparent/%s", hook_name(hook), t->name);
		if (thw_set(t1, t->t1) < 0 || thw_set(t2, t->t2) < 0) {
			report(false, name, "cannot write thw_actions: %s", strerror(errno));
			continue;
		}
		thw_check(e, name, cubes, pb, pc, t);
	}
	/* a transparent cube has ports 0 and 1 only */
	snprintf(name, sizeof(name), "%s/transparent/third-port-drops", hook_name(hook));
	thw_set(t1, (const __u32[THW_NDIRS])THW_ALL(THW_PASS));
	check_simple(e, name, t1, pb[0], &pc[0], 2, X_DROP, 0);
	perf_buffer__free(pb[0]);
	perf_buffer__free(pb[1]);
	for (__u32 p = 0; p < 2; p++) {
		cube_unwire(t1, p);
		cube_unwire(t2, p);
	}
	cube_unwire(a, 1);
	cube_unwire(c, 3);
}

/* ---- the framework's programs ------------------------------------------ */

static int stub_load(struct env *e, __u32 slot, __u32 in_port, struct bpf_object **obj)
{
	struct cbrig_var vars[] = { { "cb_slot", slot }, { "cb_in_port", in_port } };
	char err[256];
	int r = cbrig_load(&e->rig, "cubebus.bpf.o", vars, 2, obj, err, sizeof(err));

	if (r < 0) {
		printf("# %s\n# %s", err, cbrig_libbpf_log());
	}
	return r;
}

/*
 * The ingress stub of a netdev port: sets the in-port and tail-calls the
 * cube's slot. The forwarder sf forwards STUB_PORT -> 1 (a netdev).
 */
#define STUB_PORT 5

static void suite_framework(struct env *e, enum cbrig_hook hook, struct cube *sf, struct bpf_object *stub,
			    struct bpf_object *stub_empty)
{
	const char *ing = hook == CBRIG_TC ? "cb_ingress_tc" : "cb_ingress_xdp";
	int slots = hook == CBRIG_TC ? e->rig.tc_slots_fd : e->rig.xdp_slots_fd;
	__u32 redirect = verdict_redirect(hook), drop = verdict_drop(hook), slot = sf->id;
	__u8 pkt[64], env_pkt[64 + sizeof(struct cb_envelope)], out[256];
	__u32 len = cbrig_udp_frame(pkt, MAC_B, MAC_A);
	struct snap before, after;
	char name[128], why[256];

	sf_set(sf, STUB_PORT, SF_FORWARD, 1);
	sf_set(sf, 0, SF_DROP, 0);
	cbrig_set_link(&e->rig, sf->id, 1, CB_LINK_NETDEV, 1, 0, 0);
	bpf_map_update_elem(slots, &slot, &sf->entry_fd, BPF_ANY);

	{
		/* the in-port given to the stub (0) must be overwritten with its own */
		const struct delta d[] = { { sf->id, STUB_PORT, 1, 0, 0 }, { sf->id, 1, 0, 1, 0 } };

		snprintf(name, sizeof(name), "%s/framework/ingress-stub-reaches-cube", hook_name(hook));
		snap_take(e, &before, &sf->id, 1);
		if (run_once(e, cbrig_prog_fd(stub, ing), hook, 0, pkt, len, redirect, true, why, sizeof(why)) < 0) {
			report(false, name, "%s", why);
		} else {
			snap_take(e, &after, &sf->id, 1);
			if (snap_check(&before, &after, d, ARRAY_SIZE(d), len, why, sizeof(why)) < 0)
				report(false, name, "%s", why);
			else
				report(true, name, NULL);
		}
	}
	snprintf(name, sizeof(name), "%s/framework/ingress-stub-empty-slot-drops", hook_name(hook));
	if (run_once(e, cbrig_prog_fd(stub_empty, ing), hook, 0, pkt, len, drop, false, why, sizeof(why)) < 0)
		report(false, name, "%s", why);
	else
		report(true, name, NULL);

	if (hook == CBRIG_TC) {
		/* packet-out: the target rides in skb->mark */
		static const struct {
			const char *name;
			__u32 dir, port;
			bool magic;
			__u32 verdict;
			bool enters;
		} inj[] = {
			{ "inject-in-enters-cube", CB_DIR_IN, STUB_PORT, true, CBRIG_TC_REDIRECT, true },
			{ "inject-out-leaves-port", CB_DIR_OUT, 1, true, CBRIG_TC_REDIRECT, false },
			{ "inject-without-magic-drops", CB_DIR_IN, STUB_PORT, false, CBRIG_TC_SHOT, false },
		};
		int fd = cbrig_prog_fd(stub, "cb_inject_tc");

		for (size_t i = 0; i < ARRAY_SIZE(inj); i++) {
			struct cbrig_run run = {
				.hook = hook, .pkt = pkt, .len = len, .out = out, .out_size = sizeof(out)
			};
			struct delta d[2];
			int nd = 0, r;

			run.mark = CB_MARK(inj[i].dir, sf->id, inj[i].port);
			if (!inj[i].magic)
				run.mark &= ~CB_MARK_MAGIC_MASK;
			if (inj[i].enters) {
				d[nd++] = (struct delta){ sf->id, STUB_PORT, 1, 0, 0 };
				d[nd++] = (struct delta){ sf->id, 1, 0, 1, 0 };
			}
			snprintf(name, sizeof(name), "tc/framework/%s", inj[i].name);
			snap_take(e, &before, &sf->id, 1);
			r = cbrig_run(&e->rig, fd, &run);
			snap_take(e, &after, &sf->id, 1);
			if (r < 0)
				report(false, name, "test_run failed: %s", strerror(-r));
			else if (run.retval != inj[i].verdict)
				report(false, name, "verdict %u, expected %u", run.retval, inj[i].verdict);
			else if (snap_check(&before, &after, d, nd, len, why, sizeof(why)) < 0)
				report(false, name, "%s", why);
			else
				report(true, name, NULL);
		}
	} else {
		/* packet-out: the target rides in an envelope in front of the frame */
		struct cb_envelope *env = (struct cb_envelope *)env_pkt;
		struct cbrig_run run = {
			.hook = hook, .pkt = env_pkt, .len = sizeof(env_pkt), .out = out, .out_size = sizeof(out)
		};
		const struct delta d[] = { { sf->id, STUB_PORT, 1, 0, 0 }, { sf->id, 1, 0, 1, 0 } };
		int r;

		memset(env, 0, sizeof(*env));
		env->proto = htons(CB_ENV_PROTO);
		env->magic = htons(CB_ENV_MAGIC);
		env->dir = CB_DIR_IN;
		env->port = STUB_PORT;
		env->cube = (__u16)sf->id;
		memcpy(env + 1, pkt, len);
		snprintf(name, sizeof(name), "xdp/framework/inject-in-enters-cube");
		snap_take(e, &before, &sf->id, 1);
		r = cbrig_run(&e->rig, cbrig_prog_fd(stub, "cb_inject_xdp"), &run);
		snap_take(e, &after, &sf->id, 1);
		if (r < 0)
			report(false, name, "test_run failed: %s", strerror(-r));
		else if (run.retval != CBRIG_XDP_REDIRECT)
			report(false, name, "verdict %u, expected %u", run.retval, CBRIG_XDP_REDIRECT);
		else if (run.out_len != len || memcmp(out, pkt, len))
			report(false, name, "the envelope was not removed from the frame");
		else if (snap_check(&before, &after, d, ARRAY_SIZE(d), len, why, sizeof(why)) < 0)
			report(false, name, "%s", why);
		else
			report(true, name, NULL);

		snprintf(name, sizeof(name), "xdp/framework/inject-non-envelope-passes");
		if (run_once(e, cbrig_prog_fd(stub, "cb_inject_xdp"), hook, 0, pkt, len, CBRIG_XDP_PASS, true, why,
			     sizeof(why)) < 0)
			report(false, name, "%s", why);
		else
			report(true, name, NULL);
	}
	bpf_map_delete_elem(slots, &slot);
}

/* ---- the shape of the hop in the compiled code ------------------------- */

static int find_objdump(struct env *e)
{
	static const char *names[] = { "llvm-objdump",	  "llvm-objdump-14", "llvm-objdump-15",
				       "llvm-objdump-16", "llvm-objdump-17", "llvm-objdump-18" };

	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		char cmd[128];

		snprintf(cmd, sizeof(cmd), "command -v %s >/dev/null 2>&1", names[i]);
		if (system(cmd) == 0) {
			snprintf(e->objdump, sizeof(e->objdump), "%s", names[i]);
			return 0;
		}
	}
	return -ENOENT;
}

/* Does insn (objdump text after "NNN:\t") write register r3? */
static bool writes_r3(const char *insn)
{
	/* "r3 = ..", "r3 += ..", "w3 = ..", and helper calls clobber r1-r5 */
	return !strncmp(insn, "r3 ", 3) || !strncmp(insn, "w3 ", 3) || !strncmp(insn, "call ", 5);
}

/*
 * Every bpf_tail_call (call 12) in cube_entry must take its key from an
 * immediate loaded into r3 right before it (DESIGN §3.2): a key computed
 * at run time makes the kernel go through an indirect call. Also expects
 * one call site per port, keys 0..CB_MAX_PORTS-1.
 */
static void check_tailcall_keys(struct env *e, const char *file)
{
	char cmd[1024], line[512], name[128], why[256] = "";
	bool in_entry = false, seen[CB_MAX_PORTS] = { false };
	long key = -1; /* the immediate in r3, or -1 if r3 is not a known immediate */
	int calls = 0, bad = 0, distinct = 0;
	FILE *f;

	snprintf(name, sizeof(name), "disasm/%s/tail-call-keys-constant", file);
	snprintf(cmd, sizeof(cmd), "%s -d --no-show-raw-insn '%s/%s' 2>&1", e->objdump, e->rig.objdir, file);
	f = popen(cmd, "r");
	if (!f) {
		report(false, name, "cannot run %s", e->objdump);
		return;
	}
	while (fgets(line, sizeof(line), f)) {
		char *insn, *lt = strchr(line, '<');

		if (lt && strstr(line, ">:")) {
			/* "0000000000000000 <cube_entry>:" starts a function,
			 * "<LBB0_3>:" is a jump target: r3 may come from elsewhere */
			if (strncmp(lt, "<LBB", 4))
				in_entry = !strncmp(lt, "<cube_entry>:", 13);
			key = -1;
			continue;
		}
		insn = strchr(line, ':');
		if (!in_entry || !insn || insn[1] != '\t')
			continue;
		insn += 2;
		if (!strncmp(insn, "call 12", 7) && (insn[7] == '\n' || insn[7] == '\0')) {
			calls++;
			if (key < 0) {
				const char *at = line + strspn(line, " ");

				if (!bad++)
					snprintf(why, sizeof(why), "tail call with a computed key at insn %.*s",
						 (int)strcspn(at, ":"), at);
			} else if (key < CB_MAX_PORTS && !seen[key]) {
				seen[key] = true;
				distinct++;
			}
			key = -1;
			continue;
		}
		if (writes_r3(insn)) {
			char *end;
			long v = -1;

			if (!strncmp(insn, "r3 = ", 5) || !strncmp(insn, "w3 = ", 5)) {
				v = strtol(insn + 5, &end, 0);
				if (end == insn + 5 || (*end != '\n' && *end != '\0' && *end != ' '))
					v = -1;
			}
			key = v;
		}
		/* a jump target between the key load and the call could hide a
		 * second definition; bpf_tail_call_static() emits them together,
		 * and any other r3 write would have reset key above */
	}
	if (pclose(f) != 0 && !calls) {
		report(false, name, "%s failed on %s", e->objdump, file);
		return;
	}
	if (bad)
		report(false, name, "%d of %d tail calls: %s", bad, calls, why);
	else if (distinct != CB_MAX_PORTS)
		report(false, name, "%d tail calls with %d distinct constant keys, expected %d", calls, distinct,
		       CB_MAX_PORTS);
	else
		report(true, name, NULL);
}

/* ---- the SDK's parsers on short headers --------------------------------- */

/* Results of tests/bpf/parse_probe.bpf.c */
enum { PROBE_BAD_INPUT, PROBE_NO_ETH, PROBE_NO_IPV4, PROBE_IPV4, PROBE_BROKEN };

struct parse_case {
	const char *name;
	__u32 left; /* bytes of the frame left after the cursor */
	__u8 ihl;
	int want;
};

static const struct parse_case parse_cases[] = {
	{ "eth-cut-at-10-bytes", 10, 5, PROBE_NO_ETH },	     { "eth-cut-at-13-bytes", 13, 5, PROBE_NO_ETH },
	{ "eth-exactly-14-bytes", 14, 5, PROBE_NO_IPV4 },    { "ipv4-cut-at-19-bytes", 14 + 19, 5, PROBE_NO_IPV4 },
	{ "ipv4-exactly-20-bytes", 14 + 20, 5, PROBE_IPV4 }, { "ipv4-ihl-below-5", 14 + 20, 4, PROBE_NO_IPV4 },
	{ "ipv4-options-cut", 14 + 22, 6, PROBE_NO_IPV4 },   { "ipv4-options-whole", 14 + 24, 6, PROBE_IPV4 },
};

static void suite_parsing(struct env *e)
{
	struct bpf_object *obj = NULL;
	char err[256], name[128];
	int fd;

	if (cbrig_load(&e->rig, "parse_probe.bpf.o", NULL, 0, &obj, err, sizeof(err)) < 0) {
		report(false, "parsing/load", "%s", err);
		printf("# %s", cbrig_libbpf_log());
		return;
	}
	fd = cbrig_prog_fd(obj, "parse_probe");
	for (size_t i = 0; i < ARRAY_SIZE(parse_cases); i++) {
		const struct parse_case *t = &parse_cases[i];
		const __u32 off = 40; /* keeps the input above test_run's 14-byte minimum */
		__u8 in[128], frame[64];
		struct cbrig_run run = { .hook = CBRIG_XDP, .pkt = in, .len = off + t->left };
		int r;

		cbrig_udp_frame(frame, MAC_B, MAC_A);
		frame[ETH_HLEN] = (__u8)(0x40 | t->ihl);
		memset(in, 0, sizeof(in));
		in[0] = (__u8)off;
		memcpy(in + off, frame, t->left);
		snprintf(name, sizeof(name), "parsing/%s", t->name);
		r = cbrig_run(&e->rig, fd, &run);
		if (r < 0)
			report(false, name, "test_run failed: %s", strerror(-r));
		else if ((int)run.retval != t->want)
			report(false, name, "probe says %u, expected %d", run.retval, t->want);
		else
			report(true, name, NULL);
	}
	bpf_object__close(obj);
}

/* ---- main -------------------------------------------------------------- */

/* Cube ids: each hook has its own range, so the link table never mixes them. */
#define ID_BASE_TC  10
#define ID_BASE_XDP 40
enum { C_SB, C_SF, C_HW, C_CA, C_CB, C_CC, C_TA, C_T1, C_T2, C_TC, C_N };

/* ---- loglevel: trace records of the fast path ----------------------------- */

struct log_cap {
	int n[CB_LOG_OFF];
	struct cb_log_rec first[CB_LOG_OFF];
	int bad;
};

static int log_sample(void *ctx, void *data, size_t size)
{
	struct log_cap *lc = ctx;
	const struct cb_log_rec *r = data;

	if (size < sizeof(*r) || r->level >= CB_LOG_OFF) {
		lc->bad++;
		return 0;
	}
	if (!lc->n[r->level]++)
		lc->first[r->level] = *r;
	return 0;
}

static __u32 prog_xlated_len(int prog_fd)
{
	struct bpf_prog_info info = { 0 };
	__u32 len = sizeof(info);

	return bpf_obj_get_info_by_fd(prog_fd, &info, &len) == 0 ? info.xlated_prog_len : 0;
}

/*
 * helloworld (FORWARD 0 <-> 1) built with each log level: records appear
 * only at and above the level (TRACE "rx port", DEBUG "forward to port"),
 * the levels that turn them off leave no logging code in the program (the
 * verifier removed it: same size at OFF and INFO, smaller than DEBUG,
 * smaller than TRACE), and a ring nobody reads drops and counts.
 */
static void suite_loglevel(struct env *e, enum cbrig_hook hook)
{
	static const struct {
		__u32 level;
		const char *name;
		int want_trace, want_debug; /* records per packet */
	} lv[] = {
		{ CB_LOG_OFF, "OFF", 0, 0 },
		{ CB_LOG_INFO, "INFO", 0, 0 },
		{ CB_LOG_DEBUG, "DEBUG", 0, 1 },
		{ CB_LOG_TRACE, "TRACE", 1, 1 },
	};
	const __u32 id = hook == CBRIG_TC ? 70 : 71, npkt = 5, burst = 3000;
	struct hw_conf conf = { HW_FORWARD, { 0, 1 } };
	__u32 xlen[ARRAY_SIZE(lv)] = { 0 }, zero = 0;
	__u8 pkt[64];
	__u32 len = cbrig_udp_frame(pkt, MAC_B, MAC_A);
	char name[128], err[256], why[256];

	for (__u32 p = 0; p < 2; p++)
		cbrig_set_link(&e->rig, id, p, CB_LINK_NETDEV, 1, 0, 0);
	for (size_t i = 0; i < ARRAY_SIZE(lv); i++) {
		struct cbrig_var vars[] = { { "cb_cube_id", id }, { "cb_loglevel", lv[i].level } };
		struct bpf_object *obj = NULL;
		struct ring_buffer *rb = NULL;
		struct log_cap lc;
		char file[96];
		__u64 drops = 0;
		int entry, ok = 1;

		memset(&lc, 0, sizeof(lc));
		snprintf(file, sizeof(file), "helloworld_%s.bpf.o", hook_name(hook));
		snprintf(name, sizeof(name), "%s/loglevel/%s/records", hook_name(hook), lv[i].name);
		if (cbrig_load(&e->rig, file, vars, ARRAY_SIZE(vars), &obj, err, sizeof(err)) < 0) {
			report(false, name, "cannot load %s: %s", file, err);
			continue;
		}
		entry = cbrig_prog_fd(obj, "cube_entry");
		xlen[i] = prog_xlated_len(entry);
		bpf_map_update_elem(cbrig_map_fd(obj, "hw_conf"), &zero, &conf, BPF_ANY);
		rb = ring_buffer__new(cbrig_map_fd(obj, "cb_log"), log_sample, &lc, NULL);
		for (__u32 k = 0; ok && k < npkt; k++)
			ok = run_once(e, entry, hook, 0, pkt, len, verdict_redirect(hook), false, why, sizeof(why)) ==
			     0;
		if (rb)
			ring_buffer__consume(rb);
		if (!rb)
			report(false, name, "cannot open the ring cb_log");
		else if (!ok)
			report(false, name, "%s", why);
		else if (lc.bad || lc.n[CB_LOG_TRACE] != lv[i].want_trace * (int)npkt ||
			 lc.n[CB_LOG_DEBUG] != lv[i].want_debug * (int)npkt || lc.n[CB_LOG_INFO] || lc.n[CB_LOG_WARN])
			report(false, name, "records trace %d debug %d info %d bad %d, expected trace %u debug %u",
			       lc.n[CB_LOG_TRACE], lc.n[CB_LOG_DEBUG], lc.n[CB_LOG_INFO], lc.bad,
			       lv[i].want_trace * npkt, lv[i].want_debug * npkt);
		else
			report(true, name, NULL);
		if (lv[i].want_trace) {
			const struct cb_log_rec *r = &lc.first[CB_LOG_TRACE];

			snprintf(name, sizeof(name), "%s/loglevel/%s/record-fields", hook_name(hook), lv[i].name);
			report(r->cube_id == id && r->in_port == 0 && !strcmp(r->msg, "rx port") && r->nargs == 2 &&
				       r->args[0] == 0 && r->args[1] == len && r->ts_ns,
			       name, "cube %u in-port %u msg '%.*s' nargs %u args %llu %llu", r->cube_id, r->in_port,
			       CB_LOG_MSG_LEN, r->msg, r->nargs, (unsigned long long)r->args[0],
			       (unsigned long long)r->args[1]);
			/* nobody reads the ring: what does not fit is dropped and counted */
			snprintf(name, sizeof(name), "%s/loglevel/%s/full-ring-drops-and-counts", hook_name(hook),
				 lv[i].name);
			memset(&lc, 0, sizeof(lc));
			{
				struct cbrig_run run = {
					.hook = hook, .in_port = 0, .pkt = pkt, .len = len, .repeat = burst
				};

				cbrig_run(&e->rig, entry, &run);
			}
			if (rb)
				ring_buffer__consume(rb);
			cbrig_percpu_u64(&e->rig, cbrig_map_fd(obj, "cb_logdrops"), 0, &drops);
			report(drops > 0 && lc.n[CB_LOG_TRACE] + lc.n[CB_LOG_DEBUG] + (int)drops == 2 * (int)burst &&
				       lc.n[CB_LOG_TRACE] * sizeof(struct cb_log_rec) < CB_LOG_RING_SIZE,
			       name, "%d records and %llu dropped of %u", lc.n[CB_LOG_TRACE] + lc.n[CB_LOG_DEBUG],
			       (unsigned long long)drops, 2 * burst);
		} else {
			snprintf(name, sizeof(name), "%s/loglevel/%s/no-drops", hook_name(hook), lv[i].name);
			cbrig_percpu_u64(&e->rig, cbrig_map_fd(obj, "cb_logdrops"), 0, &drops);
			report(drops == 0, name, "%llu dropped", (unsigned long long)drops);
		}
		ring_buffer__free(rb);
		bpf_object__close(obj);
	}
	printf("# %s helloworld xlated bytes: OFF %u INFO %u DEBUG %u TRACE %u\n", hook_name(hook), xlen[0], xlen[1],
	       xlen[2], xlen[3]);
	snprintf(name, sizeof(name), "%s/loglevel/pruned-below-the-level", hook_name(hook));
	report(xlen[0] && xlen[0] == xlen[1] && xlen[1] < xlen[2] && xlen[2] < xlen[3], name,
	       "xlated bytes OFF %u INFO %u DEBUG %u TRACE %u", xlen[0], xlen[1], xlen[2], xlen[3]);
	for (__u32 p = 0; p < 2; p++)
		cbrig_set_link(&e->rig, id, p, CB_LINK_NONE, 0, 0, 0);
}

static void run_hook(struct env *e, enum cbrig_hook hook)
{
	static const char *svc[C_N] = { "simplebridge",
					"simpleforwarder",
					"helloworld",
					"simpleforwarder",
					"helloworld",
					"simpleforwarder",
					"simpleforwarder",
					"transparenthelloworld",
					"transparenthelloworld",
					"simpleforwarder" };
	__u32 base = hook == CBRIG_TC ? ID_BASE_TC : ID_BASE_XDP;
	struct bpf_object *stub = NULL, *stub_empty = NULL;
	struct cube c[C_N];
	char name[128];
	int loaded = 0;

	memset(c, 0, sizeof(c));
	for (int i = 0; i < C_N; i++) {
		snprintf(name, sizeof(name), "%s/load/%s-cube-%u", hook_name(hook), svc[i], base + i);
		if (cube_load(e, hook, svc[i], base + i, &c[i]) < 0) {
			report(false, name, "cannot load (see the lines above)");
			goto out;
		}
		loaded++;
	}
	snprintf(name, sizeof(name), "%s/load/framework", hook_name(hook));
	if (stub_load(e, c[C_SF].id, STUB_PORT, &stub) < 0 ||
	    stub_load(e, CB_MAX_CUBES - 1, STUB_PORT, &stub_empty) < 0) {
		report(false, name, "cannot load cubebus.bpf.o (see the lines above)");
		goto out;
	}
	report(true, name, NULL);
	report(true, hook == CBRIG_TC ? "tc/load/cubes" : "xdp/load/cubes", NULL);

	/* the flood copies for the bridge's cube peer come back through the injector */
	if (hook == CBRIG_TC && e->ns_on) {
		bpf_map_update_elem(e->rig.tc_slots_fd, &c[C_SF].id, &c[C_SF].entry_fd, BPF_ANY);
		if (!e->ns.tc_attached) {
			LIBBPF_OPTS(bpf_tc_hook, th, .ifindex = e->ns.injp_ifindex, .attach_point = BPF_TC_INGRESS);
			LIBBPF_OPTS(bpf_tc_opts, to, .prog_fd = cbrig_prog_fd(stub, "cb_inject_tc"));
			int r = bpf_tc_hook_create(&th);

			if ((r == 0 || r == -EEXIST) && bpf_tc_attach(&th, &to) == 0) {
				e->ns.tc_attached = true;
				cbrig_set_gconf(&e->rig, (__u32)e->ns.inj_ifindex);
			} else {
				e->ns_on = false;
				snprintf(e->ns_why, sizeof(e->ns_why), "cannot attach the injector to cbinjp");
			}
		}
	}
	suite_simplebridge(e, hook, &c[C_SB], &c[C_SF]);
	if (hook == CBRIG_TC && e->ns.tc_attached) {
		/* detach: the stub object that holds the injector goes away below */
		LIBBPF_OPTS(bpf_tc_hook, th, .ifindex = e->ns.injp_ifindex, .attach_point = BPF_TC_INGRESS);
		bpf_tc_hook_destroy(&th);
		e->ns.tc_attached = false;
		cbrig_set_gconf(&e->rig, 0);
	}
	bpf_map_delete_elem(e->rig.tc_slots_fd, &c[C_SF].id);
	suite_simpleforwarder(e, hook, &c[C_SF]);
	suite_helloworld(e, hook, &c[C_HW]);
	suite_chain(e, hook, &c[C_CA], &c[C_CB], &c[C_CC]);
	suite_transparent(e, hook, &c[C_TA], &c[C_T1], &c[C_T2], &c[C_TC]);
	suite_framework(e, hook, &c[C_SF], stub, stub_empty);
out:
	bpf_object__close(stub);
	bpf_object__close(stub_empty);
	for (int i = 0; i < loaded; i++)
		cube_unload(&c[i]);
}

int main(void)
{
	static const char *disasm[] = { "simplebridge_tc.bpf.o",
					"simplebridge_xdp.bpf.o",
					"simpleforwarder_tc.bpf.o",
					"simpleforwarder_xdp.bpf.o",
					"helloworld_tc.bpf.o",
					"helloworld_xdp.bpf.o",
					"transparenthelloworld_tc.bpf.o",
					"transparenthelloworld_xdp.bpf.o" };
	struct env e;
	int r;

	memset(&e, 0, sizeof(e));
	e.ns.orig_fd = -1;
	setvbuf(stdout, NULL, _IOLBF, 0);
	r = cbrig_init(&e.rig, "../../obj/bpf");
	if (r < 0) {
		report(false, "rig/init", "cannot create the global maps: %s (root? bpf?)", strerror(-r));
		return 1;
	}
	printf("# objects from %s\n", e.rig.objdir);

	if (find_objdump(&e) < 0) {
		skip("disasm/tail-call-keys-constant", "no llvm-objdump");
	} else {
		for (size_t i = 0; i < ARRAY_SIZE(disasm); i++)
			check_tailcall_keys(&e, disasm[i]);
	}

	suite_parsing(&e);

	if (netns_enter(&e.ns, e.ns_why, sizeof(e.ns_why)) == 0)
		e.ns_on = true;
	else
		printf("# no private namespace: %s\n", e.ns_why);

	run_hook(&e, CBRIG_TC);
	run_hook(&e, CBRIG_XDP);
	suite_loglevel(&e, CBRIG_TC);
	suite_loglevel(&e, CBRIG_XDP);

	netns_leave(&e.ns);
	cbrig_fini(&e.rig);
	printf("# %d failed\n", failed);
	return failed ? 1 : 0;
}
