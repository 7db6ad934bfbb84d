/* SPDX-License-Identifier: Apache-2.0 */
/*
 * slowpath_send - a paced sender of 64-byte UDP frames for bench/slowpath.sh.
 *
 * pktgen sends its frames in bursts some 25 ms apart (each of its calls
 * waits for an RCU grace period): fine for a fast path, but a slow path
 * behind a perf buffer would measure how big the buffer is, not how fast
 * the process empties it. This one writes prebuilt frames with an AF_PACKET
 * socket on an absolute schedule of --pps, --batch frames per sendmmsg()
 * call (default: 50 us worth, 1 to 32: small bursts, a few percent of a
 * perf buffer, and fewer system calls at high rates). It sleeps (timer
 * slack 1 us) when it is more than 30 us early, spins when closer, and when
 * it is late sends at once to catch up, but never more than 10 ms or 256
 * frames worth (a third of a cube's perf buffer of 16 pages): beyond that
 * the schedule restarts from now, so that a descheduled sender does not
 * turn into a burst. What it really sent is what it prints:
 * sent=N seconds=S pps=R skipped=K errors=E (skipped: frames the schedule
 * gave up; errors: frames the socket refused).
 *
 * Frames: --size counts the 4-byte FCS, as pktgen does (64: 60 bytes on the
 * wire: 14 Ethernet + 20 IPv4 + 8 UDP + 18 payload); the IPv4 id and the UDP
 * source port change per frame over --flows, with checksums to match.
 * --ttl sets the IPv4 TTL (default 64): with 1, a router that should
 * forward them answers each with an ICMP time exceeded from its slow path.
 */
#include <arpa/inet.h>
#include <getopt.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/ip.h>
#include <linux/udp.h>
#include "benchnet.h"

#define MAX_FLOWS 1024
#define MAX_BATCH 64

static void usage(FILE *f)
{
	fprintf(f, "usage: slowpath_send --dev IFNAME --dst-mac MAC --src IP --dst IP --pps N\n"
		   "                     [--duration S] [--size BYTES] [--flows N] [--dport N] [--batch N]\n"
		   "                     [--cpu N] [--ttl N]\n"
		   "  Sends IPv4 UDP frames out of IFNAME at N frames a second, paced in batches.\n"
		   "  Default: --duration 5 --size 64 (with FCS) --flows 64 --dport 9, --batch 50 us worth,\n"
		   "  --ttl 64.\n"
		   "  Prints sent=N seconds=S pps=R skipped=K errors=E.\n");
}

static uint16_t ip_csum(const void *p, size_t len)
{
	const uint16_t *w = p;
	uint32_t s = 0;

	for (; len > 1; len -= 2)
		s += *w++;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "dev", required_argument, 0, 'd' },	{ "dst-mac", required_argument, 0, 'M' },
		{ "src", required_argument, 0, 's' },	{ "dst", required_argument, 0, 'D' },
		{ "pps", required_argument, 0, 'r' },	{ "duration", required_argument, 0, 't' },
		{ "size", required_argument, 0, 'z' },	{ "flows", required_argument, 0, 'f' },
		{ "dport", required_argument, 0, 'P' }, { "cpu", required_argument, 0, 'c' },
		{ "batch", required_argument, 0, 'b' }, { "ttl", required_argument, 0, 'T' },
		{ "help", no_argument, 0, 'h' },	{ 0 }
	};
	static unsigned char frames[MAX_FLOWS][ETH_FRAME_LEN];
	const char *dev = NULL;
	unsigned char dmac[6], smac[6];
	struct in_addr src = { 0 }, dst = { 0 };
	bool have_dmac = false, have_src = false, have_dst = false;
	long size = 64, flows = 64, dport = 9, cpu = -1, batch = 0, ttl = 64;
	double duration = 5, pps = 0;
	int ifindex, fd, c;

	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (c) {
		case 'd': dev = optarg; break;
		case 'M': have_dmac = bn_parse_mac(optarg, dmac) == 0; break;
		case 's': have_src = inet_pton(AF_INET, optarg, &src) == 1; break;
		case 'D': have_dst = inet_pton(AF_INET, optarg, &dst) == 1; break;
		case 'r': pps = atof(optarg); break;
		case 't': duration = atof(optarg); break;
		case 'z': size = atol(optarg); break;
		case 'f': flows = atol(optarg); break;
		case 'P': dport = atol(optarg); break;
		case 'c': cpu = atol(optarg); break;
		case 'b': batch = atol(optarg); break;
		case 'T': ttl = atol(optarg); break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (!dev || !have_dmac || !have_src || !have_dst || pps <= 0 || duration <= 0 || size < 46 ||
	    size - 4 > ETH_FRAME_LEN || flows < 1 || flows > MAX_FLOWS || dport < 1 || dport > 65535 || batch < 0 ||
	    batch > MAX_BATCH || ttl < 1 || ttl > 255) {
		usage(stderr);
		return 2;
	}
	if (!(ifindex = bn_ifindex(dev)))
		return 1;
	if (bn_dev_mac(dev, smac)) {
		fprintf(stderr, "slowpath_send: cannot read the MAC of %s\n", dev);
		return 1;
	}
	if (cpu >= 0) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(cpu, &set);
		if (sched_setaffinity(0, sizeof(set), &set)) {
			fprintf(stderr, "slowpath_send: cannot pin to CPU %ld: %s\n", cpu, strerror(errno));
			return 1;
		}
	}
	prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);

	size_t len = (size_t)size - 4;

	for (long f = 0; f < flows; f++) {
		unsigned char *fr = frames[f];
		struct ethhdr *eth = (void *)fr;
		struct iphdr *ip = (void *)(eth + 1);
		struct udphdr *udp = (void *)(ip + 1);

		memcpy(eth->h_dest, dmac, 6);
		memcpy(eth->h_source, smac, 6);
		eth->h_proto = htons(ETH_P_IP);
		ip->version = 4;
		ip->ihl = 5;
		ip->tot_len = htons((uint16_t)(len - sizeof(*eth)));
		ip->id = htons((uint16_t)f);
		ip->ttl = (uint8_t)ttl;
		ip->protocol = IPPROTO_UDP;
		ip->saddr = src.s_addr;
		ip->daddr = dst.s_addr;
		ip->check = ip_csum(ip, sizeof(*ip));
		udp->source = htons((uint16_t)(10000 + f));
		udp->dest = htons((uint16_t)dport);
		udp->len = htons((uint16_t)(len - sizeof(*eth) - sizeof(*ip)));
		for (size_t i = sizeof(*eth) + sizeof(*ip) + sizeof(*udp); i < len; i++)
			fr[i] = (unsigned char)i;
	}

	struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_ifindex = ifindex, .sll_halen = 6 };

	memcpy(sll.sll_addr, dmac, 6);
	/* protocol 0: this socket only sends */
	fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sll, sizeof(sll)) < 0) {
		fprintf(stderr, "slowpath_send: cannot open a packet socket on %s: %s\n", dev, strerror(errno));
		return 1;
	}
	bn_signals();

	if (!batch) {
		batch = (long)(pps * 50e-6);
		batch = batch < 1 ? 1 : batch > 32 ? 32 : batch;
	}

	struct mmsghdr msgs[MAX_BATCH];
	struct iovec iov[MAX_BATCH];
	const uint64_t period = (uint64_t)(1e9 / pps), spin = 30000;
	const uint64_t max_late = 256 * period < 10000000 ? 256 * period : 10000000;
	uint64_t t0 = now_ns(), end = t0 + (uint64_t)(duration * 1e9), base = t0, k = 0, k_base = 0;
	uint64_t sent = 0, skipped = 0, errors = 0, t;

	memset(msgs, 0, sizeof(msgs));
	/* frame k is due at base + (k - k_base) * period; a batch goes when its first is due */
	while (!bn_stop && (t = now_ns()) < end) {
		uint64_t due = base + (k - k_base) * period;
		int n, r;

		if (t < due) {
			if (due - t > spin) {
				struct timespec ts = { .tv_sec = 0, .tv_nsec = (long)(due - t - spin / 2) };

				nanosleep(&ts, NULL);
			}
			continue;
		}
		if (t - due > max_late) {
			/* too late: give up what is due and start again from now */
			uint64_t missed = (t - due) / period;

			skipped += missed;
			k += missed;
			base = t;
			k_base = k;
		}
		for (n = 0; n < batch; n++) {
			iov[n].iov_base = frames[(k + n) % (uint64_t)flows];
			iov[n].iov_len = len;
			msgs[n].msg_hdr.msg_iov = &iov[n];
			msgs[n].msg_hdr.msg_iovlen = 1;
		}
		r = sendmmsg(fd, msgs, (unsigned)n, 0);
		if (r < 0)
			r = 0;
		sent += (uint64_t)r;
		errors += (uint64_t)(n - r);
		k += (uint64_t)n;
	}
	double secs = (now_ns() - t0) / 1e9;

	printf("sent=%llu seconds=%.3f pps=%.0f skipped=%llu errors=%llu\n", (unsigned long long)sent, secs,
	       secs > 0 ? sent / secs : 0.0, (unsigned long long)skipped, (unsigned long long)errors);
	close(fd);
	return 0;
}
