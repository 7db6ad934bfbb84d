/* SPDX-License-Identifier: Apache-2.0 */
/*
 * probe - measures what a network loses while something is done to it.
 *
 *   probe recv [--udp-port P] [--tcp-port P] [--timeout S]
 *   probe send --dst IP [--udp-port P] [--tcp-port P] [--rate PPS] [--duration S]
 *
 * The sender stamps UDP datagrams with a sequence number at a fixed rate and
 * keeps one TCP connection on which it sends a request every 0.5 s and waits
 * for its echo. At the end it tells the receiver, over that connection, how
 * many datagrams it sent. The receiver counts datagrams lost, duplicated and
 * reordered, and whether the TCP connection ever broke or stalled (an echo
 * later than 1 s), and prints one JSON line:
 *   {"sent":N,"received":N,"lost":N,"duplicates":N,"reordered":N,
 *    "max_gap":N,"tcp_exchanges":N,"tcp_broken":false,"tcp_max_rtt_ms":N}
 * Exit status: 0 if nothing was lost and TCP held, 1 otherwise, 2 on error.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define PROBE_MAGIC   0x70726f62u
#define PROBE_MAX_SEQ (1u << 26) /* 64 Mi datagrams: the seen-bitmap bound */

struct probe_dgram {
	uint32_t magic;
	uint32_t seq;
	uint64_t sent_ns;
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static int opt_int(int argc, char **argv, const char *name, int def)
{
	for (int i = 2; i + 1 < argc; i++)
		if (!strcmp(argv[i], name))
			return atoi(argv[i + 1]);
	return def;
}

static const char *opt_str(int argc, char **argv, const char *name, const char *def)
{
	for (int i = 2; i + 1 < argc; i++)
		if (!strcmp(argv[i], name))
			return argv[i + 1];
	return def;
}

static int probe_recv(int argc, char **argv)
{
	int uport = opt_int(argc, argv, "--udp-port", 9900), tport = opt_int(argc, argv, "--tcp-port", 9901);
	int timeout = opt_int(argc, argv, "--timeout", 120), one = 1;
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_ANY) };
	uint8_t *seen = calloc(PROBE_MAX_SEQ / 8, 1);
	uint64_t received = 0, dups = 0, reordered = 0, exchanges = 0, sent = 0;
	uint32_t highest = 0, max_gap = 0;
	int have_any = 0, done = 0, broken = 0, us, ls, cs = -1;
	uint64_t deadline = now_ns() + (uint64_t)timeout * 1000000000ULL, last_req_ns = 0, max_rtt = 0;
	char line[256];
	size_t llen = 0;

	us = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	ls = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (!seen || us < 0 || ls < 0)
		return 2;
	setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	{
		int rcvbuf = 8 << 20;

		setsockopt(us, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	}
	a.sin_port = htons(uport);
	if (bind(us, (struct sockaddr *)&a, sizeof(a)) < 0) {
		perror("probe: bind udp");
		return 2;
	}
	a.sin_port = htons(tport);
	if (bind(ls, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(ls, 1) < 0) {
		perror("probe: bind tcp");
		return 2;
	}
	printf("ready\n");
	fflush(stdout);
	while (!done && now_ns() < deadline) {
		struct pollfd p[3] = { { .fd = us, .events = POLLIN },
				       { .fd = ls, .events = POLLIN },
				       { .fd = cs, .events = POLLIN } };
		int n = poll(p, cs >= 0 ? 3 : 2, 100);

		if (n < 0 && errno != EINTR)
			return 2;
		if (p[0].revents & POLLIN) {
			struct probe_dgram d;

			while (recv(us, &d, sizeof(d), MSG_DONTWAIT) == sizeof(d)) {
				if (d.magic != PROBE_MAGIC || d.seq >= PROBE_MAX_SEQ)
					continue;
				if (seen[d.seq / 8] & (1 << (d.seq % 8))) {
					dups++;
					continue;
				}
				seen[d.seq / 8] |= 1 << (d.seq % 8);
				received++;
				if (have_any && d.seq < highest)
					reordered++;
				if (have_any && d.seq > highest + 1 && d.seq - highest - 1 > max_gap)
					max_gap = d.seq - highest - 1;
				if (!have_any || d.seq > highest)
					highest = d.seq;
				have_any = 1;
			}
		}
		if (cs < 0 && (p[1].revents & POLLIN)) {
			cs = accept4(ls, NULL, NULL, SOCK_CLOEXEC);
			last_req_ns = now_ns();
		}
		if (cs >= 0 && (p[2].revents & (POLLIN | POLLHUP | POLLERR))) {
			ssize_t r = recv(cs, line + llen, sizeof(line) - 1 - llen, 0);

			if (r <= 0) {
				broken = 1; /* the sender closes only after "done" */
				close(cs);
				cs = -1;
				continue;
			}
			llen += r;
			line[llen] = 0;
			char *nl;

			while ((nl = strchr(line, '\n'))) {
				*nl = 0;
				if (!strncmp(line, "req ", 4)) {
					uint64_t t = now_ns();

					if (t - last_req_ns > max_rtt)
						max_rtt = t - last_req_ns;
					last_req_ns = t;
					char echo[64];
					int n = snprintf(echo, sizeof(echo), "%.50s\n", line);

					exchanges++;
					if (send(cs, echo, n, MSG_NOSIGNAL) < 0)
						broken = 1;
				} else if (!strncmp(line, "done ", 5)) {
					sent = strtoull(line + 5, NULL, 10);
					done = 1;
				}
				memmove(line, nl + 1, llen - (nl + 1 - line) + 1);
				llen = strlen(line);
			}
		}
	}
	if (!done) {
		broken = 1;
		sent = have_any ? highest + 1 : 0;
	}
	/* datagrams still in the socket after "done": drain for 200 ms */
	for (uint64_t end = now_ns() + 200000000ULL; now_ns() < end;) {
		struct probe_dgram d;
		struct pollfd p = { .fd = us, .events = POLLIN };

		if (poll(&p, 1, 20) <= 0)
			continue;
		while (recv(us, &d, sizeof(d), MSG_DONTWAIT) == sizeof(d))
			if (d.magic == PROBE_MAGIC && d.seq < PROBE_MAX_SEQ &&
			    !(seen[d.seq / 8] & (1 << (d.seq % 8)))) {
				seen[d.seq / 8] |= 1 << (d.seq % 8);
				received++;
				reordered++;
			}
	}
	/* the TCP wait between requests is 0.5 s: more than 1 s is a stall */
	printf("{\"sent\":%llu,\"received\":%llu,\"lost\":%llu,\"duplicates\":%llu,\"reordered\":%llu,"
	       "\"max_gap\":%u,\"tcp_exchanges\":%llu,\"tcp_broken\":%s,\"tcp_max_gap_ms\":%llu}\n",
	       (unsigned long long)sent, (unsigned long long)received,
	       (unsigned long long)(sent > received ? sent - received : 0), (unsigned long long)dups,
	       (unsigned long long)reordered, max_gap, (unsigned long long)exchanges, broken ? "true" : "false",
	       (unsigned long long)(max_rtt / 1000000));
	fflush(stdout);
	free(seen);
	return (sent == received && !broken && max_rtt < 1500000000ULL) ? 0 : 1;
}

static int probe_send(int argc, char **argv)
{
	const char *dst = opt_str(argc, argv, "--dst", NULL);
	int uport = opt_int(argc, argv, "--udp-port", 9900), tport = opt_int(argc, argv, "--tcp-port", 9901);
	int rate = opt_int(argc, argv, "--rate", 20000), duration = opt_int(argc, argv, "--duration", 5);
	struct sockaddr_in a = { .sin_family = AF_INET };
	uint64_t start, next, period, next_req, end;
	uint32_t seq = 0;
	int us, ts, one = 1;
	char buf[128];

	if (!dst || inet_pton(AF_INET, dst, &a.sin_addr) != 1 || rate <= 0 || duration <= 0) {
		fprintf(stderr, "probe send: --dst IPv4 needed; --rate and --duration > 0\n");
		return 2;
	}
	us = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	ts = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	setsockopt(ts, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	a.sin_port = htons(tport);
	for (int i = 0; connect(ts, (struct sockaddr *)&a, sizeof(a)) < 0; i++) {
		if (i == 50) {
			perror("probe send: tcp connect");
			return 2;
		}
		close(ts);
		ts = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		usleep(100000);
	}
	a.sin_port = htons(uport);
	if (connect(us, (struct sockaddr *)&a, sizeof(a)) < 0) {
		perror("probe send: udp");
		return 2;
	}
	period = 1000000000ULL / rate;
	start = next = now_ns();
	next_req = start;
	end = start + (uint64_t)duration * 1000000000ULL;
	fcntl(ts, F_SETFL, O_NONBLOCK);
	while (next < end) {
		struct probe_dgram d = { .magic = PROBE_MAGIC, .seq = seq };
		uint64_t t = now_ns();

		if (t < next) {
			if (next - t > 50000) {
				struct timespec ts2 = { 0, (long)(next - t - 20000) };

				nanosleep(&ts2, NULL);
			}
			continue;
		}
		d.sent_ns = t;
		/* a full socket buffer is our side, not the network: retry */
		while (send(us, &d, sizeof(d), 0) < 0 && (errno == ENOBUFS || errno == EAGAIN))
			;
		seq++;
		next += period;
		if (t >= next_req) {
			int n = snprintf(buf, sizeof(buf), "req %u\n", seq);

			if (send(ts, buf, n, MSG_NOSIGNAL) < 0 && errno != EAGAIN)
				fprintf(stderr, "probe send: tcp: %s\n", strerror(errno));
			next_req += 500000000ULL;
			while (recv(ts, buf, sizeof(buf), MSG_DONTWAIT) > 0)
				; /* echoes */
		}
	}
	usleep(100000); /* let the last datagrams land before the tally */
	fcntl(ts, F_SETFL, 0);
	{
		int n = snprintf(buf, sizeof(buf), "done %u\n", seq);

		if (send(ts, buf, n, MSG_NOSIGNAL) < 0)
			fprintf(stderr, "probe send: tcp done: %s\n", strerror(errno));
	}
	usleep(300000);
	close(ts);
	close(us);
	fprintf(stderr, "probe send: %u datagrams in %d s\n", seq, duration);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "recv"))
		return probe_recv(argc, argv);
	if (argc >= 2 && !strcmp(argv[1], "send"))
		return probe_send(argc, argv);
	fprintf(stderr, "usage: probe recv [--udp-port P] [--tcp-port P] [--timeout S]\n"
			"       probe send --dst IP [--udp-port P] [--tcp-port P] [--rate PPS] [--duration S]\n");
	return 2;
}
