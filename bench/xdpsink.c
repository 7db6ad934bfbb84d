/* SPDX-License-Identifier: Apache-2.0 */
/*
 * xdpsink - the receiving end of bench/throughput.sh: attaches an XDP
 * program (bench/xdpsink.bpf.c) to --dev that counts the benchmark's UDP
 * packets in a per-CPU map and drops them (anything else goes to the
 * stack), and reports the rate over a measurement window together with
 * the CPU time the whole machine was busy during that window.
 *
 * The program is attached through a BPF link: it goes away when xdpsink
 * exits, however it exits. Native mode by default: on a veth the frames
 * then arrive through the veth's NAPI (the peer's ndo_start_xmit queues
 * them to it), and the program runs in the driver.
 *
 * Sequence: attach, print "ready" (stdout), wait up to --wait seconds for
 * the first packet, let --warmup seconds pass, then count for --duration
 * seconds and print one line:
 *   packets=N bytes=B seconds=S pps=R busy_ns=T ns_per_packet=C cpus=N busy=F0,F1,...
 * busy_ns is the CPU time of all CPUs (user, nice, system, irq, softirq; not
 * idle, iowait, steal) in the window from /proc/stat, ns_per_packet is
 * busy_ns / packets, busy= is each CPU's busy fraction.
 * With --duration 0 it counts until SIGINT/SIGTERM. Exit status 3 when no
 * packet came within --wait.
 */
#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <linux/if_link.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "benchnet.h"
#include "bench_xdpsink.skel.h"

struct sink_count {
	uint64_t packets;
	uint64_t bytes;
};

static void usage(FILE *f)
{
	fprintf(f, "usage: xdpsink --dev IFNAME [--mode native|generic] [--port N]\n"
		   "               [--duration S] [--warmup S] [--wait S]\n"
		   "  Counts and drops IPv4 UDP packets (to --port only, if given) arriving on IFNAME.\n"
		   "  Default: --mode native --duration 3 --warmup 0.5 --wait 5.\n"
		   "  Prints packets=N bytes=B seconds=S pps=R busy_ns=T ns_per_packet=C cpus=N busy=F,...\n");
}

static int read_counts(int fd, int ncpus, struct sink_count *out)
{
	struct sink_count vals[BN_MAX_CPUS];
	uint32_t key = 0;

	memset(out, 0, sizeof(*out));
	if (ncpus > BN_MAX_CPUS || bpf_map_lookup_elem(fd, &key, vals))
		return -1;
	for (int i = 0; i < ncpus; i++) {
		out->packets += vals[i].packets;
		out->bytes += vals[i].bytes;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "dev", required_argument, 0, 'd' },	 { "mode", required_argument, 0, 'm' },
		{ "port", required_argument, 0, 'p' },	 { "duration", required_argument, 0, 't' },
		{ "warmup", required_argument, 0, 'w' }, { "wait", required_argument, 0, 'W' },
		{ "help", no_argument, 0, 'h' },	 { 0 }
	};
	const char *dev = NULL, *mode = "native";
	double duration = 3, warmup = 0.5, wait_s = 5;
	long port = 0;
	int c;

	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (c) {
		case 'd': dev = optarg; break;
		case 'm': mode = optarg; break;
		case 'p': port = atol(optarg); break;
		case 't': duration = atof(optarg); break;
		case 'w': warmup = atof(optarg); break;
		case 'W': wait_s = atof(optarg); break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (!dev || port < 0 || port > 65535 || duration < 0 || warmup < 0 ||
	    (strcmp(mode, "native") && strcmp(mode, "generic"))) {
		usage(stderr);
		return 2;
	}
	int ifindex = bn_ifindex(dev);
	if (!ifindex)
		return 1;

	struct bench_xdpsink *skel = bench_xdpsink__open();
	int ncpus = libbpf_num_possible_cpus();

	if (!skel) {
		fprintf(stderr, "xdpsink: cannot open the BPF object: %s\n", strerror(errno));
		return 1;
	}
	skel->rodata->sink_port = (uint16_t)port;
	if (bench_xdpsink__load(skel)) {
		fprintf(stderr, "xdpsink: cannot load the XDP program: %s\n", strerror(errno));
		bench_xdpsink__destroy(skel);
		return 1;
	}
	LIBBPF_OPTS(bpf_link_create_opts, lopts,
		    .flags = strcmp(mode, "native") ? XDP_FLAGS_SKB_MODE : XDP_FLAGS_DRV_MODE);
	int link = bpf_link_create(bpf_program__fd(skel->progs.xdpsink), ifindex, BPF_XDP, &lopts);
	if (link < 0) {
		fprintf(stderr, "xdpsink: cannot attach XDP (%s mode) to %s: %s\n", mode, dev, strerror(errno));
		bench_xdpsink__destroy(skel);
		return 1;
	}
	bn_signals();
	int map_fd = bpf_map__fd(skel->maps.sink_counts);
	struct sink_count a, b;
	unsigned long long busy0[BN_MAX_CPUS + 1] = { 0 }, busy1[BN_MAX_CPUS + 1] = { 0 };
	int rc = 0;

	printf("ready\n");
	fflush(stdout);
	/* the first packet */
	double deadline = bn_now() + wait_s;
	do {
		if (read_counts(map_fd, ncpus, &a) == 0 && a.packets)
			break;
		bn_sleep(0.01);
	} while (!bn_stop && bn_now() < deadline);
	if (!a.packets) {
		fprintf(stderr, "xdpsink: no packet on %s within %.1f s\n", dev, wait_s);
		printf("packets=0 bytes=0 seconds=0 pps=0 busy_ns=0 ns_per_packet=0 cpus=0 busy=\n");
		rc = 3;
		goto out;
	}
	bn_sleep(warmup);
	read_counts(map_fd, ncpus, &a);
	int ncpu_stat = bn_cpu_busy(busy0);
	double t0 = bn_now();
	bn_sleep(duration > 0 ? duration : 1e9);
	read_counts(map_fd, ncpus, &b);
	bn_cpu_busy(busy1);
	double secs = bn_now() - t0;
	uint64_t pk = b.packets - a.packets;
	double tick_ns = 1e9 / (double)sysconf(_SC_CLK_TCK);
	double busy_ns = (double)(busy1[0] - busy0[0]) * tick_ns;

	printf("packets=%llu bytes=%llu seconds=%.3f pps=%.0f busy_ns=%.0f ns_per_packet=%.1f cpus=%d busy=",
	       (unsigned long long)pk, (unsigned long long)(b.bytes - a.bytes), secs, secs > 0 ? pk / secs : 0.0,
	       busy_ns, pk ? busy_ns / pk : 0.0, ncpu_stat);
	for (int i = 0; i < ncpu_stat; i++)
		printf("%s%.2f", i ? "," : "", secs > 0 ? (busy1[i + 1] - busy0[i + 1]) * tick_ns / 1e9 / secs : 0.0);
	printf("\n");
out:
	close(link);
	bench_xdpsink__destroy(skel);
	return rc;
}
