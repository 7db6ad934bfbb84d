/* SPDX-License-Identifier: Apache-2.0 */
/*
 * pktgen - a UDP packet generator in the kernel: an XDP program
 * (bench/pktgen.bpf.c) driven by bpf_prog_test_run_opts() in live-frames
 * mode (BPF_F_TEST_XDP_LIVE_FRAMES). The kernel runs the program on
 * `repeat` copies of one template frame, in batches of --batch frames;
 * the program writes the whole header of every packet (Ethernet, IPv4,
 * UDP: the path may have rewritten the recycled page, see pktgen.bpf.c),
 * with the IPv4 id and the UDP source port changing from packet to packet
 * and the IPv4 checksum to match, and returns XDP_TX, which in this
 * mode transmits the frame out of the device given as the context's
 * ingress_ifindex: --dev, in the namespace pktgen runs in.
 *
 * On a veth, the frames go through the veth's ndo_xdp_xmit to its peer,
 * which takes them only when it runs NAPI: the peer needs an XDP program
 * or GRO turned on (`ethtool -K PEER gro on`); otherwise they are dropped
 * (counted in the sender's `ethtool -S` as xdp_xmit_errors).
 *
 * Without --pps it sends as fast as the CPU allows, in one test_run call
 * stopped by a timer after --duration (a call costs an RCU grace period to
 * put the program into the XDP dispatcher: one call keeps that out of the
 * measurement). With --pps it keeps the average rate with one call per
 * burst, each burst what is due since the last one (at least one batch, at
 * most 100 ms worth): as every call costs that grace period (20-30 ms
 * here), the traffic comes in bursts at full speed some 25 ms apart.
 *
 * --size is the Ethernet frame size including the 4-byte FCS, as usual in
 * packet generators: --size 64 sends 60-byte frames (14 Ethernet + 20 IPv4
 * + 8 UDP + 18 payload) on the veth.
 *
 * Output (stdout, one line): sent=N seconds=S pps=R cpu=F. N counts the
 * frames the program handed to XDP_TX (a full ring on the way drops some:
 * count at the receiver); F is the CPU time of pktgen's thread over S
 * (everything the kernel does in its context included): under 1 when other
 * tasks shared its CPU.
 */
#include <arpa/inet.h>
#include <getopt.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/udp.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "benchnet.h"
#include "bench_pktgen.skel.h"

#define MAX_FRAME 1514

static void usage(FILE *f)
{
	fprintf(f, "usage: pktgen (--dev IFNAME | --ifindex N) --dst-mac MAC --src IP --dst IP\n"
		   "              [--src-mac MAC] [--size BYTES] [--duration S] [--pps N] [--batch N]\n"
		   "              [--flows N] [--sport N] [--dport N] [--cpu N]\n"
		   "  Sends IPv4 UDP frames out of IFNAME (in this network namespace) with an XDP\n"
		   "  program run in live-frames mode. --size counts the 4-byte FCS (64: 60-byte\n"
		   "  frames; at least 52). --duration 0: until SIGINT/SIGTERM. Default: --size 64 --duration 5\n"
		   "  --batch 64 --flows 64 --sport 10000 --dport 9, no rate limit, src MAC of IFNAME.\n"
		   "  Prints sent=N seconds=S pps=R cpu=F (F: CPU time of the sending thread / S).\n");
}

/* one's complement sum of LEN bytes (even), folded to 16 bits */
static uint32_t csum_sum(const void *p, size_t len)
{
	const uint16_t *w = p;
	uint32_t s = 0;

	for (; len > 1; len -= 2)
		s += *w++;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return s;
}

static void on_alarm(int sig)
{
	(void)sig; /* only interrupts test_run */
}

/* CPU time of this thread, in seconds: with everything the kernel did in
 * its context (the test_run loop, and the softirqs that run the path when
 * it enables bottom halves) */
static double thread_cpu(void)
{
	struct rusage ru;

	if (getrusage(RUSAGE_THREAD, &ru))
		return 0;
	return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static uint64_t sent_total(int map_fd, int ncpus)
{
	uint64_t vals[BN_MAX_CPUS] = { 0 }, sum = 0;
	uint32_t key = 0;

	if (ncpus > BN_MAX_CPUS || bpf_map_lookup_elem(map_fd, &key, vals))
		return 0;
	for (int i = 0; i < ncpus; i++)
		sum += vals[i];
	return sum;
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "dev", required_argument, 0, 'd' },	  { "ifindex", required_argument, 0, 'i' },
		{ "dst-mac", required_argument, 0, 'M' }, { "src-mac", required_argument, 0, 'm' },
		{ "src", required_argument, 0, 's' },	  { "dst", required_argument, 0, 'D' },
		{ "size", required_argument, 0, 'z' },	  { "duration", required_argument, 0, 't' },
		{ "pps", required_argument, 0, 'r' },	  { "batch", required_argument, 0, 'b' },
		{ "flows", required_argument, 0, 'f' },	  { "sport", required_argument, 0, 'S' },
		{ "dport", required_argument, 0, 'P' },	  { "cpu", required_argument, 0, 'c' },
		{ "help", no_argument, 0, 'h' },	  { 0 }
	};
	const char *dev = NULL;
	unsigned char dmac[6], smac[6];
	bool have_dmac = false, have_smac = false;
	struct in_addr src = { 0 }, dst = { 0 };
	bool have_src = false, have_dst = false;
	long size = 64, flows = 64, sport = 10000, dport = 9, batch = 64, cpu = -1;
	double duration = 5, pps = 0;
	int ifindex = 0, c;

	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (c) {
		case 'd': dev = optarg; break;
		case 'i': ifindex = atoi(optarg); break;
		case 'M':
			if (bn_parse_mac(optarg, dmac)) {
				fprintf(stderr, "pktgen: bad MAC %s\n", optarg);
				return 2;
			}
			have_dmac = true;
			break;
		case 'm':
			if (bn_parse_mac(optarg, smac)) {
				fprintf(stderr, "pktgen: bad MAC %s\n", optarg);
				return 2;
			}
			have_smac = true;
			break;
		case 's': have_src = inet_pton(AF_INET, optarg, &src) == 1; break;
		case 'D': have_dst = inet_pton(AF_INET, optarg, &dst) == 1; break;
		case 'z': size = atol(optarg); break;
		case 't': duration = atof(optarg); break;
		case 'r': pps = atof(optarg); break;
		case 'b': batch = atol(optarg); break;
		case 'f': flows = atol(optarg); break;
		case 'S': sport = atol(optarg); break;
		case 'P': dport = atol(optarg); break;
		case 'c': cpu = atol(optarg); break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if ((!dev && !ifindex) || !have_dmac || !have_src || !have_dst) {
		usage(stderr);
		return 2;
	}
	if (size - 4 < (long)sizeof(((struct bench_pktgen *)0)->rodata->pg_hdr) || size - 4 > MAX_FRAME || flows < 1 ||
	    flows > 65536 || sport < 1 || sport + flows - 1 > 65535 || dport < 1 || dport > 65535 || batch < 1 ||
	    batch > 256 || duration < 0 || pps < 0) {
		fprintf(stderr, "pktgen: --size 52..1518, --flows 1..65536 (sport + flows <= 65536), "
				"--batch 1..256, --duration >= 0, --pps >= 0\n");
		return 2;
	}
	if (dev && !ifindex && !(ifindex = bn_ifindex(dev)))
		return 1;
	if (!dev) {
		static char name[IF_NAMESIZE];

		dev = if_indextoname(ifindex, name);
		if (!dev) {
			fprintf(stderr, "pktgen: no netdev with ifindex %d here\n", ifindex);
			return 1;
		}
	}
	if (!have_smac && bn_dev_mac(dev, smac)) {
		fprintf(stderr, "pktgen: cannot read the MAC of %s; give --src-mac\n", dev);
		return 1;
	}
	if (cpu >= 0) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(cpu, &set);
		if (sched_setaffinity(0, sizeof(set), &set)) {
			fprintf(stderr, "pktgen: cannot pin to CPU %ld: %s\n", cpu, strerror(errno));
			return 1;
		}
	}

	/* the template frame */
	unsigned char frame[MAX_FRAME] = { 0 };
	size_t len = (size_t)size - 4;
	struct ethhdr *eth = (void *)frame;
	struct iphdr *ip = (void *)(eth + 1);
	struct udphdr *udp = (void *)(ip + 1);

	memcpy(eth->h_dest, dmac, 6);
	memcpy(eth->h_source, smac, 6);
	eth->h_proto = htons(ETH_P_IP);
	ip->version = 4;
	ip->ihl = 5;
	ip->tot_len = htons((uint16_t)(len - sizeof(*eth)));
	ip->ttl = 64;
	ip->protocol = IPPROTO_UDP;
	ip->saddr = src.s_addr;
	ip->daddr = dst.s_addr;
	ip->id = 0;
	ip->check = 0; /* the program adds the id to the sum and writes the checksum */
	udp->source = htons((uint16_t)sport);
	udp->dest = htons((uint16_t)dport);
	udp->len = htons((uint16_t)(len - sizeof(*eth) - sizeof(*ip)));
	udp->check = 0;
	for (size_t i = sizeof(*eth) + sizeof(*ip) + sizeof(*udp); i < len; i++)
		frame[i] = (unsigned char)i;

	struct bench_pktgen *skel = bench_pktgen__open();
	int ncpus = libbpf_num_possible_cpus();

	if (!skel) {
		fprintf(stderr, "pktgen: cannot open the BPF object: %s\n", strerror(errno));
		return 1;
	}
	memcpy((void *)skel->rodata->pg_hdr, frame, sizeof(skel->rodata->pg_hdr));
	skel->rodata->pg_csum = csum_sum(ip, sizeof(*ip));
	skel->rodata->pg_sport_base = (uint16_t)sport;
	skel->rodata->pg_flows = (uint32_t)flows;
	if (bench_pktgen__load(skel)) {
		fprintf(stderr, "pktgen: cannot load the XDP program: %s\n", strerror(errno));
		bench_pktgen__destroy(skel);
		return 1;
	}

	struct xdp_md ctx_in = { .data = 0, .data_end = (uint32_t)len, .ingress_ifindex = (uint32_t)ifindex };
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame, .data_size_in = (uint32_t)len, .ctx_in = &ctx_in,
		    .ctx_size_in = sizeof(ctx_in), .flags = BPF_F_TEST_XDP_LIVE_FRAMES, .batch_size = (uint32_t)batch);
	int prog_fd = bpf_program__fd(skel->progs.pktgen_xdp);
	int map_fd = bpf_map__fd(skel->maps.pg_count);
	struct sigaction sa = { .sa_handler = on_alarm };

	bn_signals();
	sigemptyset(&sa.sa_mask);
	sigaction(SIGALRM, &sa, NULL);
	fprintf(stderr,
		"pktgen: %s (ifindex %d), %02x:%02x:%02x:%02x:%02x:%02x -> %02x:%02x:%02x:%02x:%02x:%02x, "
		"%s -> ",
		dev, ifindex, smac[0], smac[1], smac[2], smac[3], smac[4], smac[5], dmac[0], dmac[1], dmac[2], dmac[3],
		dmac[4], dmac[5], inet_ntoa(src));
	fprintf(stderr, "%s, %zu-byte frames + FCS, %ld flows, batch %ld, %s\n", inet_ntoa(dst), len, flows, batch,
		pps > 0 ? "rate-limited" : "no rate limit");

	double t0 = bn_now(), end = duration > 0 ? t0 + duration : 1e300;
	double cpu0 = thread_cpu();
	int err = 0;

	if (pps <= 0) {
		/* one call, interrupted by the timer (or a signal) */
		if (duration > 0) {
			struct itimerval it = { .it_value = { .tv_sec = (time_t)duration,
							      .tv_usec = (suseconds_t)((duration - (time_t)duration) *
										       1e6) } };
			setitimer(ITIMER_REAL, &it, NULL);
		}
		while (!bn_stop && bn_now() < end) {
			opts.repeat = 0xffffffffu;
			if (bpf_prog_test_run_opts(prog_fd, &opts) && errno != EINTR) {
				err = errno;
				break;
			}
		}
	} else {
		uint64_t burst_max = (uint64_t)(pps / 10) > (uint64_t)batch ? (uint64_t)(pps / 10) : (uint64_t)batch;
		uint64_t done = 0;

		while (!bn_stop) {
			double now = bn_now();
			uint64_t target;

			if (now >= end)
				break;
			target = (uint64_t)((now - t0) * pps);
			if (target < done + (uint64_t)batch) {
				bn_sleep((double)(done + batch - target) / pps);
				continue;
			}
			opts.repeat = (uint32_t)(target - done < burst_max ? target - done : burst_max);
			if (bpf_prog_test_run_opts(prog_fd, &opts) && errno != EINTR) {
				err = errno;
				break;
			}
			done = sent_total(map_fd, ncpus);
		}
	}
	double secs = bn_now() - t0, cpu_s = thread_cpu() - cpu0;
	uint64_t sent = sent_total(map_fd, ncpus);

	if (err)
		fprintf(stderr, "pktgen: test_run failed: %s%s\n", strerror(err),
			err == EINVAL ? " (live frames need kernel >= 5.18; ctx or size refused?)" : "");
	printf("sent=%llu seconds=%.3f pps=%.0f cpu=%.3f\n", (unsigned long long)sent, secs,
	       secs > 0 ? sent / secs : 0.0, secs > 0 ? cpu_s / secs : 0.0);
	bench_pktgen__destroy(skel);
	return err ? 1 : 0;
}
