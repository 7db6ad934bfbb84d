/* SPDX-License-Identifier: Apache-2.0 */
/*
 * benchnet.h - small helpers shared by bench/pktgen.c, bench/xdpsink.c and
 * bench/redirect.c: clocks, sleeping, signals, netdev and MAC lookups,
 * CPU busy time from /proc/stat.
 */
#ifndef CUBEBUS_BENCHNET_H
#define CUBEBUS_BENCHNET_H

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <net/if.h>

#define BN_MAX_CPUS 256

static volatile sig_atomic_t bn_stop;

static void bn_on_signal(int sig)
{
	(void)sig;
	bn_stop = 1;
}

/* SIGINT, SIGTERM, SIGHUP set bn_stop; no SA_RESTART, so a blocking call
 * (test_run, nanosleep) returns EINTR. */
static inline void bn_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = bn_on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
}

static inline double bn_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Sleeps S seconds unless a signal stops the program. */
static inline void bn_sleep(double s)
{
	double end = bn_now() + s, left;

	while (!bn_stop && (left = end - bn_now()) > 0) {
		struct timespec ts = { .tv_sec = (time_t)left, .tv_nsec = (long)((left - (time_t)left) * 1e9) };

		nanosleep(&ts, NULL);
	}
}

static inline int bn_ifindex(const char *dev)
{
	unsigned int i = if_nametoindex(dev);

	if (!i)
		fprintf(stderr, "%s: no netdev %s in this namespace: %s\n", program_invocation_short_name, dev,
			strerror(errno));
	return (int)i;
}

static inline int bn_parse_mac(const char *s, unsigned char mac[6])
{
	unsigned int b[6];
	char extra;

	if (sscanf(s, "%x:%x:%x:%x:%x:%x%c", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5], &extra) != 6)
		return -1;
	for (int i = 0; i < 6; i++) {
		if (b[i] > 255)
			return -1;
		mac[i] = (unsigned char)b[i];
	}
	return 0;
}

/* The MAC address of DEV, from sysfs of the current namespace. */
static inline int bn_dev_mac(const char *dev, unsigned char mac[6])
{
	char path[128], buf[64];
	FILE *f;
	int r = -1;

	snprintf(path, sizeof(path), "/sys/class/net/%s/address", dev);
	f = fopen(path, "r");
	if (!f)
		return -1;
	if (fgets(buf, sizeof(buf), f)) {
		buf[strcspn(buf, "\n")] = 0;
		r = bn_parse_mac(buf, mac);
	}
	fclose(f);
	return r;
}

/* Busy time (user, nice, system, irq, softirq; not idle, iowait, steal)
 * of every CPU, in clock ticks, from /proc/stat. busy[0] is the sum,
 * busy[1 + n] CPU n. Returns the number of CPUs found, or -1. */
static inline int bn_cpu_busy(unsigned long long busy[BN_MAX_CPUS + 1])
{
	char line[512];
	FILE *f = fopen("/proc/stat", "r");
	int n = 0;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		unsigned long long v[8] = { 0 };
		int cpu;

		if (strncmp(line, "cpu", 3))
			break;
		if (line[3] == ' ') {
			cpu = -1;
			sscanf(line + 3, "%llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3], &v[4],
			       &v[5], &v[6], &v[7]);
		} else if (sscanf(line + 3, "%d %llu %llu %llu %llu %llu %llu %llu %llu", &cpu, &v[0], &v[1], &v[2],
				  &v[3], &v[4], &v[5], &v[6], &v[7]) != 9 ||
			   cpu < 0 || cpu >= BN_MAX_CPUS) {
			continue;
		}
		/* user nice system idle iowait irq softirq steal */
		busy[cpu + 1] = v[0] + v[1] + v[2] + v[5] + v[6];
		if (cpu >= 0 && cpu + 1 > n)
			n = cpu + 1;
	}
	fclose(f);
	return n;
}

#endif
