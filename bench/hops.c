/* SPDX-License-Identifier: Apache-2.0 */
/*
 * hops - what one cubebus hop costs, in ns per packet, against hand-written
 * single programs doing the same work, on this machine, in one run.
 *
 * Every number is the median over --runs runs of bpf_prog_test_run_opts()
 * with --repeat repetitions of one 64-byte UDP frame, as the kernel times
 * its loop (whole ns per packet). Not the wall clock of the call: with
 * repeat > 1, XDP's test_run first puts the program in the XDP dispatcher
 * and waits for an RCU grace period (~20 ms here), which would add tens of
 * ns per packet at random; the wall-clock figures are in --json.
 *
 *   single vs cube-1:  bench/baseline.bpf.c single_{tc,xdp} (one learning
 *                      bridge lookup and redirect) against the framework's
 *                      ingress stub tail-calling into simplebridge with a
 *                      known destination on a netdev link.
 *   chain-N:           N dependent array lookups and a redirect in one
 *                      program, against the ingress stub and N
 *                      simpleforwarder cubes chained by cube links (the
 *                      last one on a netdev link).
 *   floor-N:           the machine's floor: N trivial programs joined by
 *                      constant-key tail calls (bench/floor.bpf.c) against
 *                      the last one alone; "added ns per hop" is the bare
 *                      cost of a patched tail call, under every hop.
 *   tcube-1:           one transparent cube in a path: the stub and a
 *                      simpleforwarder (baseline) against the stub, a
 *                      transparenthelloworld (PASS) and the forwarder.
 *   router:            bench/router_baseline.bpf.c router_{tc,xdp} (a
 *                      hand-written IPv4 router: checks and checksum, LPM
 *                      trie, neighbour, TTL, MACs, redirect) against the
 *                      ingress stub and a router cube, with the same 1000
 *                      routes plus the connected networks and the route
 *                      that matches, the next hop in the neighbour table
 *                      and the out-port on a netdev link. Both sides are
 *                      entered through a prologue that writes the frame's
 *                      header back (a router rewrites it, and test_run's
 *                      repeats reuse one buffer); the prologue is measured
 *                      on its own and subtracted (--json has the raw ones).
 *
 * A path of N cubes makes N tail calls (stub -> cube 1 -> ... -> cube N):
 * "added ns per hop" is (cubebus - baseline) / N. Netdev links name
 * ifindex 1 (lo): test_run only returns the redirect verdict, it sends
 * nothing, and every case checks that verdict before it is measured.
 *
 * Usage: hops [--repeat N] [--runs N] [--quick] [--json]
 */
#include <errno.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <time.h>
#include <sys/utsname.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "cbrig.h"
#include "../cube-services/simplebridge/simplebridge_shared.h"
#include "../cube-services/simpleforwarder/simpleforwarder_shared.h"
#include "../cube-services/router/router_shared.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define MAX_RUNS      101
#define MAX_CHAIN     16
#define LO_IFINDEX    1

static const __u8 MAC_A[6] = { 0x02, 0, 0, 0, 0, 0x0a }; /* source, on port 0 */
static const __u8 MAC_B[6] = { 0x02, 0, 0, 0, 0, 0x0b }; /* destination, on port 1 */
static const __u32 chain_lengths[] = { 1, 2, 3, 4, 8, 16 };

struct opts {
	__u32 repeat;
	__u32 runs;
	bool json;
	const char *only_case; /* --case: single, floor, chain, router or tcube */
	const char *only_hook; /* --hook: tc or xdp */
};

struct measure {
	double median;	/* ns per packet, as the kernel times it (whole ns) */
	double wmedian; /* ns per packet, wall clock of the whole call */
	double runs[MAX_RUNS];
	double wall[MAX_RUNS];
	int n;
};

struct result {
	const char *hook;
	char name[32];
	__u32 hops;
	struct measure base, cube;
	bool has_pro;	     /* both were entered through the restoring prologue */
	struct measure pro;  /* the prologue and a program that returns the verdict */
	struct measure null; /* that program alone: pro - null is subtracted from both */
};

/* Ids of the cubes; the hooks use separate ranges of the link table. */
#define SB_ID(h)    ((h) == CBRIG_TC ? 1u : 101u)
#define SF_ID(h, i) (((h) == CBRIG_TC ? 10u : 110u) + (i)) /* i = 0..MAX_CHAIN-1 */
#define RT_ID(h)    ((h) == CBRIG_TC ? 2u : 102u)
#define TH_ID(h)    ((h) == CBRIG_TC ? 3u : 103u)

struct bench {
	struct cbrig rig;
	struct opts o;
	__u8 pkt[64];
	__u32 len;
	struct result res[2 * (3 + 2 * ARRAY_SIZE(chain_lengths))];
	int nres;
};

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	double s[MAX_RUNS];

	memcpy(s, v, n * sizeof(*v));
	qsort(s, n, sizeof(*s), cmp_double);
	return n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

/* One timed run of prog; checks the verdict stays want. */
static int timed_run(struct bench *b, enum cbrig_hook hook, int prog_fd, __u32 repeat, __u32 want,
		     struct cbrig_run *run, char *err, size_t errlen)
{
	int r;

	*run = (struct cbrig_run){ .hook = hook, .in_port = 0, .pkt = b->pkt, .len = b->len, .repeat = repeat };
	r = cbrig_run(&b->rig, prog_fd, run);
	if (r < 0) {
		snprintf(err, errlen, "test_run failed: %s", strerror(-r));
		return r;
	}
	if (run->retval != want) {
		snprintf(err, errlen, "verdict %u, expected %u: the path is not the one to measure", run->retval, want);
		return -EPROTO;
	}
	return 0;
}

/*
 * Checks that every program of fds returns want for the packet, then
 * measures them in alternation, so that a change of machine load during the
 * runs weighs on all alike. Returns 0 or a negative errno (-EPROTO: verdict).
 */
static int measure_set(struct bench *b, enum cbrig_hook hook, const int *fds, struct measure **m, int n, __u32 want,
		       char *err, size_t errlen)
{
	struct cbrig_run run;
	int r;

	for (int s = 0; s < n; s++) {
		/* the verdict, then a warm-up */
		r = timed_run(b, hook, fds[s], 1, want, &run, err, errlen);
		if (r == 0)
			r = timed_run(b, hook, fds[s], b->o.repeat / 10 ? b->o.repeat / 10 : 1, want, &run, err,
				      errlen);
		if (r < 0)
			return r;
		m[s]->n = (int)b->o.runs;
	}
	for (int i = 0; i < (int)b->o.runs; i++) {
		for (int s = 0; s < n; s++) {
			r = timed_run(b, hook, fds[s], b->o.repeat, want, &run, err, errlen);
			if (r < 0)
				return r;
			m[s]->runs[i] = run.duration_ns;
			m[s]->wall[i] = run.wall_ns;
		}
	}
	for (int s = 0; s < n; s++) {
		m[s]->median = median(m[s]->runs, m[s]->n);
		m[s]->wmedian = median(m[s]->wall, m[s]->n);
	}
	return 0;
}

/* The same for a baseline and a cubebus program. */
static int measure_pair(struct bench *b, enum cbrig_hook hook, int base_fd, int cube_fd, __u32 want,
			struct measure *base, struct measure *cube, char *err, size_t errlen)
{
	int fds[2] = { base_fd, cube_fd };
	struct measure *m[2] = { base, cube };

	return measure_set(b, hook, fds, m, 2, want, err, errlen);
}

static const char *hook_name(enum cbrig_hook h)
{
	return h == CBRIG_TC ? "tc" : "xdp";
}

static __u32 redirect_verdict(enum cbrig_hook h)
{
	return h == CBRIG_TC ? CBRIG_TC_REDIRECT : CBRIG_XDP_REDIRECT;
}

static int load(struct bench *b, const char *file, const struct cbrig_var *vars, int n, struct bpf_object **obj)
{
	char err[256];
	int r = cbrig_load(&b->rig, file, vars, n, obj, err, sizeof(err));

	if (r < 0)
		fprintf(stderr, "hops: %s\n%s", err, cbrig_libbpf_log());
	return r;
}

static int fdb_put(int fd, const __u8 *mac, const void *val)
{
	__u64 k = 0;

	memcpy(&k, mac, 6);
	return bpf_map_update_elem(fd, &k, val, BPF_ANY) ? -errno : 0;
}

/* single vs cube-1 */
static int bench_single(struct bench *b, enum cbrig_hook hook)
{
	struct cbrig_var sb_var = { "cb_cube_id", SB_ID(hook) };
	struct cbrig_var stub_vars[] = { { "cb_slot", SB_ID(hook) }, { "cb_in_port", 0 } };
	struct bpf_object *base = NULL, *sb = NULL, *stub = NULL;
	struct result *res = &b->res[b->nres];
	int slots = hook == CBRIG_TC ? b->rig.tc_slots_fd : b->rig.xdp_slots_fd;
	__u32 slot = SB_ID(hook), zero = 0;
	char err[256];
	int r, fd;

	memset(res, 0, sizeof(*res));
	res->hook = hook_name(hook);
	snprintf(res->name, sizeof(res->name), "single / cube-1");
	res->hops = 1;
	r = load(b, "bench_baseline.bpf.o", NULL, 0, &base);
	if (r < 0)
		goto out;
	r = load(b, hook == CBRIG_TC ? "simplebridge_tc.bpf.o" : "simplebridge_xdp.bpf.o", &sb_var, 1, &sb);
	if (r < 0)
		goto out;
	r = load(b, "cubebus.bpf.o", stub_vars, 2, &stub);
	if (r < 0)
		goto out;

	/* the baseline's fdb: A learned on port 0, B on port 1 = lo */
	{
		struct {
			__u32 port, ifindex;
			__u64 seen_ns;
		} a = { 0, 0, 0 }, bb = { 1, LO_IFINDEX, 0 };

		fd = cbrig_map_fd(base, "bl_fdb");
		if ((r = fdb_put(fd, MAC_A, &a)) < 0 || (r = fdb_put(fd, MAC_B, &bb)) < 0)
			goto out;
	}
	/* the bridge cube: same fdb, port 1 linked to lo, no aging */
	{
		struct sb_fdb_val a = { .port = 0 }, bb = { .port = 1 };
		struct sb_conf conf = { 0 };

		fd = cbrig_map_fd(sb, "sb_fdb");
		if ((r = fdb_put(fd, MAC_A, &a)) < 0 || (r = fdb_put(fd, MAC_B, &bb)) < 0)
			goto out;
		if (bpf_map_update_elem(cbrig_map_fd(sb, "sb_conf"), &zero, &conf, BPF_ANY)) {
			r = -errno;
			goto out;
		}
		r = cbrig_set_link(&b->rig, SB_ID(hook), 0, CB_LINK_NETDEV, LO_IFINDEX, 0, 0);
		if (r == 0)
			r = cbrig_set_link(&b->rig, SB_ID(hook), 1, CB_LINK_NETDEV, LO_IFINDEX, 0, 0);
		if (r < 0)
			goto out;
		fd = cbrig_prog_fd(sb, "cube_entry");
		if (bpf_map_update_elem(slots, &slot, &fd, BPF_ANY)) {
			r = -errno;
			goto out;
		}
	}
	r = measure_pair(b, hook, cbrig_prog_fd(base, hook == CBRIG_TC ? "single_tc" : "single_xdp"),
			 cbrig_prog_fd(stub, hook == CBRIG_TC ? "cb_ingress_tc" : "cb_ingress_xdp"),
			 redirect_verdict(hook), &res->base, &res->cube, err, sizeof(err));
	if (r < 0)
		fprintf(stderr, "hops: %s %s: %s\n", res->hook, res->name, err);
	else
		b->nres++;
	bpf_map_delete_elem(slots, &slot);
out:
	if (r < 0 && r != -EPROTO)
		fprintf(stderr, "hops: %s single: %s\n", hook_name(hook), strerror(-r));
	bpf_object__close(stub);
	bpf_object__close(sb);
	bpf_object__close(base);
	return r;
}

/* chain-N: N simpleforwarder cubes vs N lookups in one program */
static int bench_chains(struct bench *b, enum cbrig_hook hook)
{
	struct cbrig_var stub_vars[] = { { "cb_slot", SF_ID(hook, 0) }, { "cb_in_port", 0 } };
	struct bpf_object *sf[MAX_CHAIN] = { NULL }, *stub = NULL;
	int slots = hook == CBRIG_TC ? b->rig.tc_slots_fd : b->rig.xdp_slots_fd;
	const char *file = hook == CBRIG_TC ? "simpleforwarder_tc.bpf.o" : "simpleforwarder_xdp.bpf.o";
	struct sf_entry fwd = { .action = SF_FORWARD, .outport = 1 };
	__u32 slot = SF_ID(hook, 0), zero = 0, one = 1;
	char err[256];
	int r = 0, fd;

	for (int i = 0; i < MAX_CHAIN && r == 0; i++) {
		struct cbrig_var var = { "cb_cube_id", SF_ID(hook, i) };

		r = load(b, file, &var, 1, &sf[i]);
		if (r == 0 && bpf_map_update_elem(cbrig_map_fd(sf[i], "sf_actions"), &zero, &fwd, BPF_ANY))
			r = -errno;
	}
	if (r == 0)
		r = load(b, "cubebus.bpf.o", stub_vars, 2, &stub);
	if (r < 0)
		goto out;
	/* cube i's port 1 -> cube i+1's port 0: the hop is cb_next[1] */
	for (int i = 0; i + 1 < MAX_CHAIN; i++) {
		fd = cbrig_prog_fd(sf[i + 1], "cube_entry");
		if (bpf_map_update_elem(cbrig_map_fd(sf[i], "cb_next"), &one, &fd, BPF_ANY)) {
			r = -errno;
			goto out;
		}
	}
	fd = cbrig_prog_fd(sf[0], "cube_entry");
	if (bpf_map_update_elem(slots, &slot, &fd, BPF_ANY)) {
		r = -errno;
		goto out;
	}

	for (size_t c = 0; c < ARRAY_SIZE(chain_lengths); c++) {
		__u32 n = chain_lengths[c];
		struct cbrig_var bvars[] = { { "bl_hops", n }, { "bl_ifindex", LO_IFINDEX } };
		struct result *res = &b->res[b->nres];
		struct bpf_object *base = NULL;

		memset(res, 0, sizeof(*res));
		res->hook = hook_name(hook);
		res->hops = n;
		snprintf(res->name, sizeof(res->name), "chain-%u", n);
		/* rewire: the chain ends at cube n-1, whose port 1 is lo */
		for (__u32 i = 0; i < MAX_CHAIN && r == 0; i++) {
			if (i + 1 < n)
				r = cbrig_set_link(&b->rig, SF_ID(hook, i), 1, CB_LINK_CUBE, 0,
						   (__u16)SF_ID(hook, i + 1), 0);
			else
				r = cbrig_set_link(&b->rig, SF_ID(hook, i), 1, CB_LINK_NETDEV, LO_IFINDEX, 0, 0);
		}
		if (r == 0)
			r = load(b, "bench_baseline.bpf.o", bvars, ARRAY_SIZE(bvars), &base);
		if (r < 0)
			goto out;
		for (__u32 p = 0; p < n && r == 0; p++) {
			struct {
				__u32 forward, outport;
			} a = { 1, p + 1 };

			if (bpf_map_update_elem(cbrig_map_fd(base, "bl_actions"), &p, &a, BPF_ANY))
				r = -errno;
		}
		if (r == 0)
			r = measure_pair(b, hook, cbrig_prog_fd(base, hook == CBRIG_TC ? "chain_tc" : "chain_xdp"),
					 cbrig_prog_fd(stub, hook == CBRIG_TC ? "cb_ingress_tc" : "cb_ingress_xdp"),
					 redirect_verdict(hook), &res->base, &res->cube, err, sizeof(err));
		bpf_object__close(base);
		if (r < 0) {
			fprintf(stderr, "hops: %s %s: %s\n", res->hook, res->name, err);
			goto out;
		}
		b->nres++;
	}
out:
	if (r < 0 && r != -EPROTO)
		fprintf(stderr, "hops: %s chains: %s\n", hook_name(hook), strerror(-r));
	bpf_map_delete_elem(slots, &slot);
	/* a prog array is emptied when its last user reference goes; close in order */
	bpf_object__close(stub);
	for (int i = 0; i < MAX_CHAIN; i++)
		bpf_object__close(sf[i]);
	return r;
}

/*
 * tcube-1: the cost of one transparent cube in a path. The same packet
 * through the netdev stub and one simpleforwarder cube out to a netdev
 * link ("baseline": the path without it), and through the stub, a
 * transparenthelloworld cube (PASS) and that simpleforwarder: the stub
 * enters the transparent cube on its outer port, it passes the packet out
 * of its inner port to the forwarder's port 0, as the broker wires a chain.
 */
static int bench_tcube(struct bench *b, enum cbrig_hook hook)
{
	struct cbrig_var sf_var = { "cb_cube_id", SF_ID(hook, 0) }, th_var = { "cb_cube_id", TH_ID(hook) };
	struct cbrig_var direct_vars[] = { { "cb_slot", SF_ID(hook, 0) }, { "cb_in_port", 0 } };
	struct cbrig_var via_vars[] = { { "cb_slot", TH_ID(hook) }, { "cb_in_port", 1 } };
	struct bpf_object *sf = NULL, *th = NULL, *direct = NULL, *via = NULL;
	int slots = hook == CBRIG_TC ? b->rig.tc_slots_fd : b->rig.xdp_slots_fd;
	struct sf_entry fwd = { .action = SF_FORWARD, .outport = 1 };
	struct result *res = &b->res[b->nres];
	__u32 sslot = SF_ID(hook, 0), tslot = TH_ID(hook), zero = 0;
	const char *stub = hook == CBRIG_TC ? "cb_ingress_tc" : "cb_ingress_xdp";
	char err[256];
	int r, fd;

	memset(res, 0, sizeof(*res));
	res->hook = hook_name(hook);
	res->hops = 1;
	snprintf(res->name, sizeof(res->name), "tcube-1");
	r = load(b, hook == CBRIG_TC ? "simpleforwarder_tc.bpf.o" : "simpleforwarder_xdp.bpf.o", &sf_var, 1, &sf);
	if (r == 0)
		r = load(b, hook == CBRIG_TC ? "transparenthelloworld_tc.bpf.o" : "transparenthelloworld_xdp.bpf.o",
			 &th_var, 1, &th);
	if (r == 0)
		r = load(b, "cubebus.bpf.o", direct_vars, 2, &direct);
	if (r == 0)
		r = load(b, "cubebus.bpf.o", via_vars, 2, &via);
	if (r < 0)
		goto out;
	if (bpf_map_update_elem(cbrig_map_fd(sf, "sf_actions"), &zero, &fwd, BPF_ANY)) {
		r = -errno;
		goto out;
	}
	/* the forwarder: 0 -> 1, port 1 is lo; the transparent cube: inner
	 * port 0 to the forwarder's port 0, its outer port to the netdev */
	r = cbrig_set_link(&b->rig, SF_ID(hook, 0), 1, CB_LINK_NETDEV, LO_IFINDEX, 0, 0);
	if (r == 0)
		r = cbrig_set_link(&b->rig, SF_ID(hook, 0), 0, CB_LINK_CUBE, 0, (__u16)TH_ID(hook), 0);
	if (r == 0)
		r = cbrig_set_link(&b->rig, TH_ID(hook), 0, CB_LINK_CUBE, 0, (__u16)SF_ID(hook, 0), 0);
	if (r == 0)
		r = cbrig_set_link(&b->rig, TH_ID(hook), 1, CB_LINK_NETDEV, LO_IFINDEX, 0, 0);
	if (r < 0)
		goto out;
	fd = cbrig_prog_fd(sf, "cube_entry");
	if (bpf_map_update_elem(cbrig_map_fd(th, "cb_next"), &zero, &fd, BPF_ANY) ||
	    bpf_map_update_elem(slots, &sslot, &fd, BPF_ANY)) {
		r = -errno;
		goto out;
	}
	fd = cbrig_prog_fd(th, "cube_entry");
	if (bpf_map_update_elem(slots, &tslot, &fd, BPF_ANY)) {
		r = -errno;
		goto out;
	}
	r = measure_pair(b, hook, cbrig_prog_fd(direct, stub), cbrig_prog_fd(via, stub), redirect_verdict(hook),
			 &res->base, &res->cube, err, sizeof(err));
	if (r < 0)
		fprintf(stderr, "hops: %s %s: %s\n", res->hook, res->name, err);
	else
		b->nres++;
out:
	if (r < 0 && r != -EPROTO)
		fprintf(stderr, "hops: %s tcube: %s\n", hook_name(hook), strerror(-r));
	bpf_map_delete_elem(slots, &sslot);
	bpf_map_delete_elem(slots, &tslot);
	bpf_object__close(via);
	bpf_object__close(direct);
	bpf_object__close(th);
	bpf_object__close(sf);
	return r;
}

/* floor-N: N trivial programs chained by constant-key tail calls */
static int bench_floor(struct bench *b, enum cbrig_hook hook)
{
	struct bpf_object *o[MAX_CHAIN + 1] = { NULL };
	const char *hop = hook == CBRIG_TC ? "floor_hop_tc" : "floor_hop_xdp";
	const char *end = hook == CBRIG_TC ? "floor_end_tc" : "floor_end_xdp";
	__u32 zero = 0;
	char err[256];
	int r = 0, fd;

	/* o[MAX_CHAIN] holds the end program */
	for (int i = 0; i <= MAX_CHAIN && r == 0; i++)
		r = load(b, hook == CBRIG_TC ? "bench_floor_tc.bpf.o" : "bench_floor_xdp.bpf.o", NULL, 0, &o[i]);
	for (size_t c = 0; c < ARRAY_SIZE(chain_lengths) && r == 0; c++) {
		__u32 n = chain_lengths[c];
		struct result *res = &b->res[b->nres];

		memset(res, 0, sizeof(*res));
		res->hook = hook_name(hook);
		res->hops = n;
		snprintf(res->name, sizeof(res->name), "floor-%u", n);
		/* hop 0 -> hop 1 -> ... -> hop n-1 -> end */
		for (__u32 i = 0; i < n && r == 0; i++) {
			fd = i + 1 < n ? cbrig_prog_fd(o[i + 1], hop) : cbrig_prog_fd(o[MAX_CHAIN], end);
			if (bpf_map_update_elem(cbrig_map_fd(o[i], "floor_next"), &zero, &fd, BPF_ANY))
				r = -errno;
		}
		if (r == 0)
			r = measure_pair(b, hook, cbrig_prog_fd(o[MAX_CHAIN], end), cbrig_prog_fd(o[0], hop),
					 redirect_verdict(hook), &res->base, &res->cube, err, sizeof(err));
		if (r < 0) {
			fprintf(stderr, "hops: %s %s: %s\n", res->hook, res->name, r == -EPROTO ? err : strerror(-r));
			break;
		}
		b->nres++;
	}
	for (int i = 0; i <= MAX_CHAIN; i++)
		bpf_object__close(o[i]);
	return r;
}

/* ---- router: a router cube against a hand-written IPv4 router ------------ */

/* routes besides the connected networks and the one that matches */
#ifndef RT_NROUTES
#define RT_NROUTES 1000
#endif
static const __u8 RT_MAC0[6] = { 0x02, 0, 0, 0, 0x01, 0 };   /* port 0: 10.0.0.254/24 */
static const __u8 RT_MAC1[6] = { 0x02, 0, 0, 0, 0x02, 0 };   /* port 1: 192.168.1.1/24 */
static const __u8 NH_MAC[6] = { 0x02, 0xaa, 0, 0, 0, 0x02 }; /* 192.168.1.2, the next hop */
#define RT_DST "10.20.30.40"				     /* matched by 10.20.30.0/24 via 192.168.1.2 */
#define RT_NH  "192.168.1.2"

/* The baseline's tables (bench/router_baseline.bpf.c). */
struct rb_port {
	__u8 mac[6];
	__u16 flags;
	__u32 ifindex;
};
struct rb_route {
	__u32 nexthop, port, flags, plen;
};
struct rb_neigh {
	__u8 mac[6];
	__u16 port;
	__u32 flags;
	__u64 seen_ns;
};

static __u32 ip4(const char *s)
{
	__u32 v = 0;

	inet_pton(AF_INET, s, &v);
	return v;
}

static __u32 mask4(__u32 plen) /* host order */
{
	return plen ? 0xffffffffu << (32 - plen) : 0;
}

static __u64 mono_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (__u64)t.tv_sec * 1000000000ULL + (__u64)t.tv_nsec;
}

/*
 * RT_NROUTES distinct prefixes, none containing the destination, always the
 * same (a fixed seed): a third in the destination's /16 (lengths 17-30), so
 * that the trie is deep on its path, a third elsewhere in 10/8 (16-28), a
 * third anywhere in 1.0.0.0-223.255.255.255 (8-24). Keys as the tries want
 * them: (plen, network in network order).
 */
static void rt_gen_routes(struct rt_lpm4 *out)
{
	__u32 dst = ntohl(ip4(RT_DST)), x = 2463534242u;
	int n = 0;

	while (n < RT_NROUTES) {
		__u32 a, plen, k = (__u32)n % 3;
		bool dup = false;

		x ^= x << 13, x ^= x >> 17, x ^= x << 5;
		if (k == 0) {
			plen = 17 + x % 14;
			a = (dst & 0xffff0000u) | (x >> 8 & 0xffff);
		} else if (k == 1) {
			plen = 16 + x % 13;
			a = 0x0a000000u | (x >> 4 & 0x00ffffff);
		} else {
			plen = 8 + x % 17;
			a = 0x01000000u + (x >> 3) % (0xe0000000u - 0x01000000u);
		}
		a &= mask4(plen);
		if ((dst & mask4(plen)) == a)
			continue; /* would contain the destination */
		for (int i = 0; i < n && !dup; i++)
			dup = out[i].plen == plen && out[i].addr == htonl(a);
		if (dup)
			continue;
		out[n].plen = plen;
		out[n].addr = htonl(a);
		n++;
	}
}

static void ip4_csum(__u8 *ip)
{
	__u32 s = 0;

	ip[10] = ip[11] = 0;
	for (int i = 0; i < 20; i += 2)
		s += (__u32)ip[i] << 8 | ip[i + 1];
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	s = ~s & 0xffff;
	ip[10] = (__u8)(s >> 8);
	ip[11] = (__u8)s;
}

static int upd(int fd, const void *k, const void *v)
{
	return bpf_map_update_elem(fd, k, v, BPF_ANY) ? -errno : 0;
}

/* The router cube's tables, as router.c writes them for this set-up. */
static int rt_fill_cube(struct bpf_object *obj, const struct rt_lpm4 *routes)
{
	int ports = cbrig_map_fd(obj, "rt_ports"), local = cbrig_map_fd(obj, "rt_local");
	int rt4 = cbrig_map_fd(obj, "rt_rt4"), neigh = cbrig_map_fd(obj, "rt_neigh");
	int conf = cbrig_map_fd(obj, "rt_conf");
	struct rt_port p0 = { .flags = RT_PORT_ON, .ip4 = ip4("10.0.0.254") };
	struct rt_port p1 = { .flags = RT_PORT_ON, .ip4 = ip4("192.168.1.1") };
	struct rt_local l0 = { .port = 0, .plen = 24 }, l1 = { .port = 1, .plen = 24 };
	struct rt_conf c = { .aging_ns = 300ULL * 1000000000ULL, .interval_ns = 1000000, .burst_ns = 100000000 };
	struct rt_route via = { .port = 1, .plen = 24 }, conn0 = { .port = 0, .flags = RT_ROUTE_CONNECTED, .plen = 24 };
	struct rt_route conn1 = { .port = 1, .flags = RT_ROUTE_CONNECTED, .plen = 24 };
	struct rt_neigh n = { .port = 1, .flags = 0, .seen_ns = mono_ns() }; /* learned, fresh */
	struct rt_lpm4 k;
	struct rt_addr a;
	__u32 zero = 0, one = 1;
	int r;

	if (ports < 0 || local < 0 || rt4 < 0 || neigh < 0 || conf < 0)
		return -ENOENT;
	memcpy(p0.mac, RT_MAC0, 6);
	memcpy(p1.mac, RT_MAC1, 6);
	memcpy(n.mac, NH_MAC, 6);
#define V4MAPPED(addr, s) (memset(&(addr), 0, sizeof(addr)), (addr).w[2] = htonl(0xffff), (addr).w[3] = ip4(s))
	V4MAPPED(via.nexthop, RT_NH);
	if ((r = upd(ports, &zero, &p0)) || (r = upd(ports, &one, &p1)) || (r = upd(conf, &zero, &c)))
		return r;
	V4MAPPED(a, "10.0.0.254");
	if ((r = upd(local, &a, &l0)))
		return r;
	V4MAPPED(a, "192.168.1.1");
	if ((r = upd(local, &a, &l1)))
		return r;
	V4MAPPED(a, RT_NH);
	if ((r = upd(neigh, &a, &n)))
		return r;
#undef V4MAPPED
	for (int i = 0; i < RT_NROUTES; i++) {
		struct rt_route v = { .port = 1, .plen = routes[i].plen };

		v.nexthop.w[2] = htonl(0xffff);
		v.nexthop.w[3] = ip4(RT_NH);
		if ((r = upd(rt4, &routes[i], &v)))
			return r;
	}
	k = (struct rt_lpm4){ 24, ip4("10.0.0.0") };
	if ((r = upd(rt4, &k, &conn0)))
		return r;
	k = (struct rt_lpm4){ 24, ip4("192.168.1.0") };
	if ((r = upd(rt4, &k, &conn1)))
		return r;
	k = (struct rt_lpm4){ 24, ip4("10.20.30.0") };
	return upd(rt4, &k, &via);
}

/* The same tables in the baseline's plain IPv4 form. */
static int rt_fill_base(struct bpf_object *obj, const struct rt_lpm4 *routes)
{
	int ports = cbrig_map_fd(obj, "rb_ports"), local = cbrig_map_fd(obj, "rb_local");
	int rt4 = cbrig_map_fd(obj, "rb_rt4"), neigh = cbrig_map_fd(obj, "rb_neigh");
	struct rb_port p0 = { .flags = 1, .ifindex = LO_IFINDEX }, p1 = { .flags = 1, .ifindex = LO_IFINDEX };
	struct rb_route via = { .nexthop = ip4(RT_NH), .port = 1, .plen = 24 };
	struct rb_route conn0 = { .port = 0, .flags = 1, .plen = 24 }, conn1 = { .port = 1, .flags = 1, .plen = 24 };
	struct rb_neigh n = { .port = 1, .flags = 0, .seen_ns = mono_ns() };
	__u32 zero = 0, one = 1, a;
	struct rt_lpm4 k;
	int r;

	if (ports < 0 || local < 0 || rt4 < 0 || neigh < 0)
		return -ENOENT;
	memcpy(p0.mac, RT_MAC0, 6);
	memcpy(p1.mac, RT_MAC1, 6);
	memcpy(n.mac, NH_MAC, 6);
	if ((r = upd(ports, &zero, &p0)) || (r = upd(ports, &one, &p1)))
		return r;
	a = ip4("10.0.0.254");
	if ((r = upd(local, &a, &zero)))
		return r;
	a = ip4("192.168.1.1");
	if ((r = upd(local, &a, &one)))
		return r;
	a = ip4(RT_NH);
	if ((r = upd(neigh, &a, &n)))
		return r;
	for (int i = 0; i < RT_NROUTES; i++) {
		struct rb_route v = { .nexthop = ip4(RT_NH), .port = 1, .plen = routes[i].plen };

		if ((r = upd(rt4, &routes[i], &v)))
			return r;
	}
	k = (struct rt_lpm4){ 24, ip4("10.0.0.0") };
	if ((r = upd(rt4, &k, &conn0)))
		return r;
	k = (struct rt_lpm4){ 24, ip4("192.168.1.0") };
	if ((r = upd(rt4, &k, &conn1)))
		return r;
	k = (struct rt_lpm4){ 24, ip4("10.20.30.0") };
	return upd(rt4, &k, &via);
}

/* Runs prog once on the frame and checks what leaves is the frame routed. */
static int rt_check_out(struct bench *b, enum cbrig_hook hook, int prog_fd, const char *who, char *err, size_t errlen)
{
	__u8 out[256], want[64];
	struct cbrig_run run = { .hook = hook, .pkt = b->pkt, .len = b->len, .out = out, .out_size = sizeof(out) };
	int r = cbrig_run(&b->rig, prog_fd, &run);

	if (r < 0) {
		snprintf(err, errlen, "%s: test_run failed: %s", who, strerror(-r));
		return r;
	}
	memcpy(want, b->pkt, b->len);
	memcpy(want, NH_MAC, 6);
	memcpy(want + 6, RT_MAC1, 6);
	want[ETH_HLEN + 8]--;
	ip4_csum(want + ETH_HLEN);
	if (run.retval != redirect_verdict(hook) || run.out_len != b->len || memcmp(out, want, b->len)) {
		snprintf(err, errlen,
			 "%s: verdict %u, %u bytes out: not the frame routed (TTL %u, expected %u; "
			 "dst MAC ..%02x, expected ..%02x)",
			 who, run.retval, run.out_len, out[ETH_HLEN + 8], want[ETH_HLEN + 8], out[5], want[5]);
		return -EPROTO;
	}
	return 0;
}

/* router: a 64-byte UDP frame routed by a cube vs by one hand-written program */
static int bench_router(struct bench *b, enum cbrig_hook hook)
{
	static struct rt_lpm4 routes[RT_NROUTES];
	static bool have_routes;
	struct cbrig_var rt_var = { "cb_cube_id", RT_ID(hook) };
	struct cbrig_var stub_vars[] = { { "cb_slot", RT_ID(hook) }, { "cb_in_port", 0 } };
	struct bpf_object *base = NULL, *pcube = NULL, *pnull = NULL, *rt = NULL, *stub = NULL;
	struct result *res = &b->res[b->nres];
	int slots = hook == CBRIG_TC ? b->rig.tc_slots_fd : b->rig.xdp_slots_fd;
	const char *next = hook == CBRIG_TC ? "rp_next_tc" : "rp_next_xdp";
	const char *pro = hook == CBRIG_TC ? "rp_tc" : "rp_xdp";
	__u32 slot = RT_ID(hook), zero = 0, w[5];
	__u8 saved[sizeof(b->pkt)];
	__u32 saved_len = b->len;
	char err[256] = "";
	int r, fd, fds[4];
	struct measure *m[4];

	memset(res, 0, sizeof(*res));
	res->hook = hook_name(hook);
	snprintf(res->name, sizeof(res->name), "router");
	res->hops = 1;
	res->has_pro = true;
	if (!have_routes) {
		rt_gen_routes(routes);
		have_routes = true;
	}
	/* the frame: 10.0.0.1 -> RT_DST, to port 0's MAC, TTL 64 */
	memcpy(saved, b->pkt, sizeof(saved));
	b->len = cbrig_udp_frame(b->pkt, RT_MAC0, MAC_A);
	{
		__u32 d = ip4(RT_DST);

		memcpy(b->pkt + ETH_HLEN + 16, &d, 4);
		ip4_csum(b->pkt + ETH_HLEN);
	}
	memcpy(&w[0], b->pkt, 4);
	memcpy(&w[1], b->pkt + 4, 4);
	memcpy(&w[2], b->pkt + 8, 4);
	w[3] = w[4] = 0;
	memcpy(&w[3], b->pkt + 22, 2);
	memcpy(&w[4], b->pkt + 24, 2);
	{
		struct cbrig_var pvars[] = { { "rp_w0", w[0] },	      { "rp_w1", w[1] },    { "rp_w2", w[2] },
					     { "rp_ttlproto", w[3] }, { "rp_check", w[4] }, { "rb_in_port", 0 } };

		r = load(b, "bench_router_baseline.bpf.o", pvars, ARRAY_SIZE(pvars), &base);
		if (r == 0)
			r = load(b, "bench_router_baseline.bpf.o", pvars, ARRAY_SIZE(pvars), &pcube);
		if (r == 0)
			r = load(b, "bench_router_baseline.bpf.o", pvars, ARRAY_SIZE(pvars), &pnull);
	}
	if (r == 0)
		r = load(b, hook == CBRIG_TC ? "router_tc.bpf.o" : "router_xdp.bpf.o", &rt_var, 1, &rt);
	if (r == 0)
		r = load(b, "cubebus.bpf.o", stub_vars, 2, &stub);
	if (r < 0)
		goto out;
	if ((r = rt_fill_base(base, routes)) < 0 || (r = rt_fill_cube(rt, routes)) < 0)
		goto out;
	/* the cube: both ports on netdev links (lo), its program in its slot */
	r = cbrig_set_link(&b->rig, RT_ID(hook), 0, CB_LINK_NETDEV, LO_IFINDEX, 0, 0);
	if (r == 0)
		r = cbrig_set_link(&b->rig, RT_ID(hook), 1, CB_LINK_NETDEV, LO_IFINDEX, 0, 0);
	if (r < 0)
		goto out;
	fd = cbrig_prog_fd(rt, "cube_entry");
	if (bpf_map_update_elem(slots, &slot, &fd, BPF_ANY)) {
		r = -errno;
		goto out;
	}
	/* each prologue's next program */
	{
		struct {
			struct bpf_object *p, *target;
			const char *prog;
		} wire[3] = {
			{ base, base, hook == CBRIG_TC ? "router_tc" : "router_xdp" },
			{ pcube, stub, hook == CBRIG_TC ? "cb_ingress_tc" : "cb_ingress_xdp" },
			{ pnull, pnull, hook == CBRIG_TC ? "null_tc" : "null_xdp" },
		};

		for (int i = 0; i < 3; i++) {
			fd = cbrig_prog_fd(wire[i].target, wire[i].prog);
			if (bpf_map_update_elem(cbrig_map_fd(wire[i].p, next), &zero, &fd, BPF_ANY)) {
				r = -errno;
				goto out;
			}
			fds[i] = cbrig_prog_fd(wire[i].p, pro);
		}
	}
	/* what leaves must be the frame routed, on both sides */
	if ((r = rt_check_out(b, hook, fds[0], "baseline", err, sizeof(err))) < 0 ||
	    (r = rt_check_out(b, hook, fds[1], "cubebus", err, sizeof(err))) < 0) {
		fprintf(stderr, "hops: %s router: %s\n", res->hook, err);
		goto out;
	}
	m[0] = &res->base;
	m[1] = &res->cube;
	m[2] = &res->pro;
	m[3] = &res->null;
	fds[3] = cbrig_prog_fd(pnull, hook == CBRIG_TC ? "null_tc" : "null_xdp");
	r = measure_set(b, hook, fds, m, 4, redirect_verdict(hook), err, sizeof(err));
	if (r < 0) {
		fprintf(stderr, "hops: %s %s: %s\n", res->hook, res->name, err);
	} else {
		struct cb_port_stats st;

		/* the packets went through the cube: its port 1 counted them */
		if (cbrig_stats(&b->rig, RT_ID(hook), 1, &st) == 0 && st.tx_packets == 0) {
			fprintf(stderr, "hops: %s router: the cube's port 1 counted no packet\n", res->hook);
			r = -EPROTO;
		} else {
			b->nres++;
		}
	}
out:
	if (r < 0 && r != -EPROTO)
		fprintf(stderr, "hops: %s router: %s\n", hook_name(hook), strerror(-r));
	bpf_map_delete_elem(slots, &slot);
	memcpy(b->pkt, saved, sizeof(saved));
	b->len = saved_len;
	bpf_object__close(pnull);
	bpf_object__close(pcube);
	bpf_object__close(base);
	bpf_object__close(stub);
	bpf_object__close(rt);
	return r;
}

static void cpu_model(char *buf, size_t n)
{
	FILE *f = fopen("/proc/cpuinfo", "r");
	char line[256];

	snprintf(buf, n, "unknown CPU");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		char *v = strchr(line, ':');

		if (strncmp(line, "model name", 10) || !v)
			continue;
		v += 1 + strspn(v + 1, " \t");
		v[strcspn(v, "\n")] = '\0';
		snprintf(buf, n, "%s", v);
		break;
	}
	fclose(f);
}

static void read_line(const char *path, char *buf, size_t n)
{
	FILE *f = fopen(path, "r");

	snprintf(buf, n, "?");
	if (!f)
		return;
	if (fgets(buf, (int)n, f))
		buf[strcspn(buf, "\n")] = '\0';
	fclose(f);
}

struct machine {
	char kernel[128];
	char cpu[128];
	long ncpu;
	int pinned;
	char jit[16];
	char spectre_v2[160];
};

static void machine_info(struct machine *m, int pinned)
{
	struct utsname u;

	if (uname(&u) == 0)
		snprintf(m->kernel, sizeof(m->kernel), "%s %s", u.sysname, u.release);
	cpu_model(m->cpu, sizeof(m->cpu));
	m->ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	m->pinned = pinned;
	read_line("/proc/sys/net/core/bpf_jit_enable", m->jit, sizeof(m->jit));
	read_line("/sys/devices/system/cpu/vulnerabilities/spectre_v2", m->spectre_v2, sizeof(m->spectre_v2));
}

/* What the prologue adds (restoring the header, one tail call). */
static double pro_ns(const struct result *r)
{
	return r->has_pro ? r->pro.median - r->null.median : 0;
}

/* ns per packet as shown: net of the prologue for the rows that have one */
static double base_ns(const struct result *r)
{
	return r->base.median - pro_ns(r);
}

static double cube_ns(const struct result *r)
{
	return r->cube.median - pro_ns(r);
}

static double added_per_hop(const struct result *r)
{
	return (cube_ns(r) - base_ns(r)) / r->hops;
}

/* Slope of cubebus / baseline ns between chain-1 and chain-16 of a hook. */
static bool chain_slope(const struct bench *b, const char *hook, double *cube, double *base)
{
	const struct result *lo = NULL, *hi = NULL;

	for (int i = 0; i < b->nres; i++) {
		if (strcmp(b->res[i].hook, hook) || strncmp(b->res[i].name, "chain-", 6))
			continue;
		if (!lo || b->res[i].hops < lo->hops)
			lo = &b->res[i];
		if (!hi || b->res[i].hops > hi->hops)
			hi = &b->res[i];
	}
	if (!lo || !hi || lo == hi)
		return false;
	*cube = (hi->cube.median - lo->cube.median) / (hi->hops - lo->hops);
	*base = (hi->base.median - lo->base.median) / (hi->hops - lo->hops);
	return true;
}

static void print_markdown(const struct bench *b, const struct machine *m)
{
	printf("Machine: %s, %s, %ld CPUs (pinned to CPU %d), bpf_jit_enable=%s, spectre_v2: %s\n\n", m->kernel, m->cpu,
	       m->ncpu, m->pinned, m->jit, m->spectre_v2);
	printf("64-byte UDP frame, bpf_prog_test_run_opts, ns per packet as the kernel times it, "
	       "median of %u runs x %u packets.\n\n",
	       b->o.runs, b->o.repeat);
	printf("| hook | case | baseline ns | cubebus ns | ratio baseline/cubebus | added ns per hop |\n");
	printf("|------|------|------------:|-----------:|-----------------------:|-----------------:|\n");
	for (int i = 0; i < b->nres; i++) {
		const struct result *r = &b->res[i];

		printf("| %s | %s | %.0f | %.0f | %.2f | %.2f |\n", r->hook, r->name, base_ns(r), cube_ns(r),
		       base_ns(r) / cube_ns(r), added_per_hop(r));
	}
	printf("\n");
	for (int i = 0; i < b->nres; i++) {
		const struct result *r = &b->res[i];

		if (r->has_pro)
			printf("%s %s: %d routes in the LPM trie; both sides entered through a prologue that "
			       "restores the frame's header: %.0f ns, subtracted (raw %.0f / %.0f ns)\n",
			       r->hook, r->name, RT_NROUTES + 3, pro_ns(r), r->base.median, r->cube.median);
	}
	for (int h = 0; h < 2; h++) {
		const char *hook = hook_name((enum cbrig_hook)h);
		double cube, base;

		if (chain_slope(b, hook, &cube, &base))
			printf("%s: one more cube in a chain costs %.2f ns (one more lookup in the "
			       "single program: %.2f ns; difference %.2f ns)\n",
			       hook, cube, base, cube - base);
	}
}

static void print_runs(const double *v, int n)
{
	printf("[");
	for (int i = 0; i < n; i++)
		printf("%s%.3f", i ? ", " : "", v[i]);
	printf("]");
}

static void print_json(const struct bench *b, const struct machine *m)
{
	printf("{\n  \"machine\": {\"kernel\": \"%s\", \"cpu\": \"%s\", \"ncpu\": %ld, "
	       "\"pinned_cpu\": %d, \"bpf_jit_enable\": \"%s\", \"spectre_v2\": \"%s\"},\n",
	       m->kernel, m->cpu, m->ncpu, m->pinned, m->jit, m->spectre_v2);
	printf("  \"packet_bytes\": %u, \"repeat\": %u, \"runs\": %u,\n", b->len, b->o.repeat, b->o.runs);
	printf("  \"results\": [\n");
	for (int i = 0; i < b->nres; i++) {
		const struct result *r = &b->res[i];

		printf("    {\"hook\": \"%s\", \"case\": \"%s\", \"hops\": %u, "
		       "\"baseline_ns\": %.3f, \"cubebus_ns\": %.3f, \"ratio\": %.4f, "
		       "\"added_ns_per_hop\": %.3f, \"baseline_wall_ns\": %.3f, "
		       "\"cubebus_wall_ns\": %.3f, ",
		       r->hook, r->name, r->hops, base_ns(r), cube_ns(r), base_ns(r) / cube_ns(r), added_per_hop(r),
		       r->base.wmedian, r->cube.wmedian);
		if (r->has_pro) {
			/* baseline_ns and cubebus_ns are net of prologue_ns; the runs are raw */
			printf("\"prologue_ns\": %.3f, \"verdict_only_ns\": %.3f, "
			       "\"prologue_verdict_ns\": %.3f, \"verdict_only_runs\": ",
			       pro_ns(r), r->null.median, r->pro.median);
			print_runs(r->null.runs, r->null.n);
			printf(", \"prologue_verdict_runs\": ");
			print_runs(r->pro.runs, r->pro.n);
			printf(", ");
		}
		printf("\"baseline_runs\": ");
		print_runs(r->base.runs, r->base.n);
		printf(", \"cubebus_runs\": ");
		print_runs(r->cube.runs, r->cube.n);
		printf(", \"baseline_wall_runs\": ");
		print_runs(r->base.wall, r->base.n);
		printf(", \"cubebus_wall_runs\": ");
		print_runs(r->cube.wall, r->cube.n);
		printf("}%s\n", i + 1 < b->nres ? "," : "");
	}
	printf("  ],\n  \"chain_slope\": {");
	for (int h = 0; h < 2; h++) {
		const char *hook = hook_name((enum cbrig_hook)h);
		double cube = 0, base = 0;

		chain_slope(b, hook, &cube, &base);
		printf("%s\"%s\": {\"cubebus_ns\": %.3f, \"baseline_ns\": %.3f}", h ? ", " : "", hook, cube, base);
	}
	printf("}\n}\n");
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: hops [--repeat N] [--runs N] [--quick] [--json] [--case C] [--hook H]\n"
		"  --repeat N  packets per run (default 1000000)\n"
		"  --runs N    runs per case, the median is reported (default 5, max %d)\n"
		"  --quick     --repeat 100000 --runs 3\n"
		"  --json      machine-readable output\n"
		"  --case C    only the cases of C: single, floor, chain, router or tcube (to profile one)\n"
		"  --hook H    only hook H: tc or xdp\n",
		MAX_RUNS);
}

static int parse_args(int argc, char **argv, struct opts *o)
{
	o->repeat = 1000000;
	o->runs = 5;
	o->json = false;
	for (int i = 1; i < argc; i++) {
		char *end;

		if (!strcmp(argv[i], "--quick")) {
			o->repeat = 100000;
			o->runs = 3;
		} else if (!strcmp(argv[i], "--json")) {
			o->json = true;
		} else if (!strcmp(argv[i], "--case") && i + 1 < argc) {
			o->only_case = argv[++i];
			if (strcmp(o->only_case, "single") && strcmp(o->only_case, "floor") &&
			    strcmp(o->only_case, "chain") && strcmp(o->only_case, "router") &&
			    strcmp(o->only_case, "tcube")) {
				fprintf(stderr, "hops: --case is single, floor, chain, router or tcube, not %s\n",
					o->only_case);
				return -EINVAL;
			}
		} else if (!strcmp(argv[i], "--hook") && i + 1 < argc) {
			o->only_hook = argv[++i];
			if (strcmp(o->only_hook, "tc") && strcmp(o->only_hook, "xdp")) {
				fprintf(stderr, "hops: --hook is tc or xdp, not %s\n", o->only_hook);
				return -EINVAL;
			}
		} else if ((!strcmp(argv[i], "--repeat") || !strcmp(argv[i], "--runs")) && i + 1 < argc) {
			unsigned long v = strtoul(argv[i + 1], &end, 10);

			if (*end || !v || v > 1000000000UL || (!strcmp(argv[i], "--runs") && v > MAX_RUNS)) {
				fprintf(stderr, "hops: bad value for %s: %s\n", argv[i], argv[i + 1]);
				return -EINVAL;
			}
			if (!strcmp(argv[i], "--repeat"))
				o->repeat = (__u32)v;
			else
				o->runs = (__u32)v;
			i++;
		} else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			usage(stdout);
			exit(0);
		} else {
			usage(stderr);
			return -EINVAL;
		}
	}
	return 0;
}

/* --case and --hook: only what is asked, to profile one case */
static bool wanted(const struct bench *b, const char *name)
{
	return !b->o.only_case || !strcmp(b->o.only_case, name);
}

int main(int argc, char **argv)
{
	static struct bench b;
	struct machine m = { 0 };
	cpu_set_t set;
	int r, cpu, failed = 0;

	if (parse_args(argc, argv, &b.o) < 0)
		return 2;
	/* test_run runs on the calling CPU: keep it on one */
	cpu = sched_getcpu();
	if (cpu >= 0) {
		CPU_ZERO(&set);
		CPU_SET(cpu, &set);
		sched_setaffinity(0, sizeof(set), &set);
	}
	machine_info(&m, cpu);
	r = cbrig_init(&b.rig, "../obj/bpf");
	if (r < 0) {
		fprintf(stderr, "hops: cannot create the BPF maps: %s (run as root)\n", strerror(-r));
		return 1;
	}
	b.len = cbrig_udp_frame(b.pkt, MAC_B, MAC_A);
	for (int h = 0; h < 2; h++) {
		if (b.o.only_hook && strcmp(b.o.only_hook, hook_name((enum cbrig_hook)h)))
			continue;
		if (wanted(&b, "single") && bench_single(&b, (enum cbrig_hook)h) < 0)
			failed++;
		if (wanted(&b, "floor") && bench_floor(&b, (enum cbrig_hook)h) < 0)
			failed++;
		if (wanted(&b, "chain") && bench_chains(&b, (enum cbrig_hook)h) < 0)
			failed++;
		if (wanted(&b, "router") && bench_router(&b, (enum cbrig_hook)h) < 0)
			failed++;
		if (wanted(&b, "tcube") && bench_tcube(&b, (enum cbrig_hook)h) < 0)
			failed++;
	}
	if (b.o.json)
		print_json(&b, &m);
	else
		print_markdown(&b, &m);
	cbrig_fini(&b.rig);
	return failed ? 1 : 0;
}
