/* SPDX-License-Identifier: Apache-2.0 */
/*
 * redirect - attaches the hand-written baseline of bench/throughput.sh
 * (bench/redirect.bpf.c: every frame to one netdev with bpf_redirect) to
 * --in, at XDP (generic or driver mode) or at TC ingress, and keeps it
 * there until SIGINT/SIGTERM; then detaches it. XDP goes through a BPF
 * link (gone with the process, however it ends); TC through a clsact
 * filter, removed at exit (and with the clsact qdisc if it made it).
 * Prints "ready" on stdout once attached.
 */
#include <getopt.h>
#include <stdbool.h>
#include <linux/if_link.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "benchnet.h"
#include "bench_redirect.skel.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: redirect --in IFNAME --out IFNAME [--mode xdpgeneric|xdpdrv|tc]\n"
		   "  Redirects every frame arriving on --in to --out until SIGINT/SIGTERM.\n"
		   "  Default --mode xdpgeneric.\n");
}

int main(int argc, char **argv)
{
	static const struct option lo[] = { { "in", required_argument, 0, 'i' },
					    { "out", required_argument, 0, 'o' },
					    { "mode", required_argument, 0, 'm' },
					    { "help", no_argument, 0, 'h' },
					    { 0 } };
	const char *in = NULL, *out = NULL, *mode = "xdpgeneric";
	int c, rc = 0;

	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (c) {
		case 'i': in = optarg; break;
		case 'o': out = optarg; break;
		case 'm': mode = optarg; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	bool tc = !strcmp(mode, "tc");
	if (!in || !out || (!tc && strcmp(mode, "xdpgeneric") && strcmp(mode, "xdpdrv"))) {
		usage(stderr);
		return 2;
	}
	int in_ifindex = bn_ifindex(in), out_ifindex = bn_ifindex(out);
	if (!in_ifindex || !out_ifindex)
		return 1;

	struct bench_redirect *skel = bench_redirect__open();
	if (!skel) {
		fprintf(stderr, "redirect: cannot open the BPF object: %s\n", strerror(errno));
		return 1;
	}
	skel->rodata->rd_ifindex = (__u32)out_ifindex;
	bpf_program__set_autoload(tc ? skel->progs.redirect_xdp : skel->progs.redirect_tc, false);
	if (bench_redirect__load(skel)) {
		fprintf(stderr, "redirect: cannot load the program: %s\n", strerror(errno));
		bench_redirect__destroy(skel);
		return 1;
	}
	bn_signals();

	int link = -1;
	bool made_hook = false;
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = in_ifindex, .attach_point = BPF_TC_INGRESS);
	LIBBPF_OPTS(bpf_tc_opts, topts, .handle = 0xbe, .priority = 1);

	if (tc) {
		int e = bpf_tc_hook_create(&hook);

		if (e && e != -EEXIST) {
			fprintf(stderr, "redirect: cannot create clsact on %s: %s\n", in, strerror(-e));
			rc = 1;
			goto out;
		}
		made_hook = !e;
		topts.prog_fd = bpf_program__fd(skel->progs.redirect_tc);
		e = bpf_tc_attach(&hook, &topts);
		if (e) {
			fprintf(stderr, "redirect: cannot attach at TC ingress of %s: %s\n", in, strerror(-e));
			rc = 1;
			goto out;
		}
	} else {
		LIBBPF_OPTS(bpf_link_create_opts, lopts,
			    .flags = strcmp(mode, "xdpdrv") ? XDP_FLAGS_SKB_MODE : XDP_FLAGS_DRV_MODE);
		link = bpf_link_create(bpf_program__fd(skel->progs.redirect_xdp), in_ifindex, BPF_XDP, &lopts);
		if (link < 0) {
			fprintf(stderr, "redirect: cannot attach XDP (%s) to %s: %s\n", mode, in, strerror(errno));
			rc = 1;
			goto out;
		}
	}
	printf("ready\n");
	fflush(stdout);
	while (!bn_stop)
		pause();
out:
	if (tc) {
		topts.prog_fd = topts.prog_id = topts.flags = 0;
		bpf_tc_detach(&hook, &topts);
		if (made_hook) {
			hook.attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS;
			bpf_tc_hook_destroy(&hook);
		}
	}
	if (link >= 0)
		close(link);
	bench_redirect__destroy(skel);
	return rc;
}
