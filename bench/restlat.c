/* SPDX-License-Identifier: Apache-2.0 */
/*
 * restlat - request latency through the REST gateway: N GETs of one path
 * on one keep-alive HTTP/1.1 connection, median and p99 in microseconds.
 *   restlat [--n N] [--addr HOST:PORT] [PATH]
 *   e.g. restlat --n 1000 --addr 127.0.0.1:9000 /polycube/v1/version
 * A minimal client (Content-Length bodies only, as the gateway sends), so
 * that the number is the gateway's and the broker's, not a library's.
 */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define RL_BUF (1 << 20)

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int rl_connect(const char *addr)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *ai = NULL;
	char host[256], *port;
	int fd, one = 1, r;

	if (addr[0] == '[') {
		snprintf(host, sizeof(host), "%s", addr + 1);
		port = strstr(host, "]:");
		if (!port)
			return -EINVAL;
		*port = 0;
		port += 2;
	} else {
		snprintf(host, sizeof(host), "%s", addr);
		port = strrchr(host, ':');
		if (!port)
			return -EINVAL;
		*port++ = 0;
	}
	r = getaddrinfo(host, port, &hints, &ai);
	if (r)
		return -EHOSTUNREACH;
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
		r = -errno;
		if (fd >= 0)
			close(fd);
		freeaddrinfo(ai);
		return r;
	}
	freeaddrinfo(ai);
	/* one small request per round trip: no Nagle delay */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return fd;
}

static int rl_send_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EPIPE;
		buf += n;
		len -= n;
	}
	return 0;
}

/* The value of header name in the head (ends at "\r\n\r\n"), or NULL. */
static const char *rl_header(const char *head, const char *name)
{
	size_t n = strlen(name);

	for (const char *p = strstr(head, "\r\n"); p && p[2] != '\r'; p = strstr(p + 2, "\r\n"))
		if (!strncasecmp(p + 2, name, n) && p[2 + n] == ':')
			return p + 3 + n + strspn(p + 3 + n, " \t");
	return NULL;
}

/*
 * Reads one response into buf (which keeps what follows it for the next
 * one: *have bytes). Returns its status code, or -errno.
 */
static int rl_response(int fd, char *buf, size_t *have)
{
	char *end = NULL;
	const char *v;
	size_t need;
	int status;

	for (;;) {
		buf[*have] = 0;
		end = strstr(buf, "\r\n\r\n");
		if (end)
			break;
		if (*have >= RL_BUF - 1)
			return -EMSGSIZE;
		ssize_t n = recv(fd, buf + *have, RL_BUF - 1 - *have, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -ECONNRESET;
		*have += n;
	}
	if (sscanf(buf, "HTTP/1.%*d %d", &status) != 1)
		return -EBADMSG;
	if ((v = rl_header(buf, "Transfer-Encoding")) && strncasecmp(v, "identity", 8))
		return -EPROTONOSUPPORT; /* chunked: not what the gateway sends */
	if ((v = rl_header(buf, "Connection")) && !strncasecmp(v, "close", 5))
		return -ECONNRESET; /* the point is one connection for all */
	v = rl_header(buf, "Content-Length");
	need = (size_t)(end + 4 - buf) + (v ? strtoul(v, NULL, 10) : 0);
	if (need >= RL_BUF)
		return -EMSGSIZE;
	while (*have < need) {
		ssize_t n = recv(fd, buf + *have, RL_BUF - 1 - *have, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -ECONNRESET;
		*have += n;
	}
	memmove(buf, buf + need, *have - need);
	*have -= need;
	return status;
}

int main(int argc, char **argv)
{
	const char *addr = "127.0.0.1:9000", *path = "/polycube/v1/version";
	char req[2048], *buf;
	size_t have = 0;
	int n = 1000, fd, len;
	double *t;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--n") && i + 1 < argc)
			n = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--addr") && i + 1 < argc)
			addr = argv[++i];
		else if (argv[i][0] == '/')
			path = argv[i];
		else
			n = 0;
	}
	if (n <= 0) {
		fprintf(stderr, "usage: restlat [--n N] [--addr HOST:PORT] [PATH]\n");
		return 2;
	}
	fd = rl_connect(addr);
	if (fd < 0) {
		fprintf(stderr, "restlat: %s: %s\n", addr, strerror(-fd));
		return 1;
	}
	len = snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: %s\r\nAccept: application/json\r\n\r\n", path, addr);
	t = calloc(n, sizeof(*t));
	buf = malloc(RL_BUF);
	if (!t || !buf || len >= (int)sizeof(req)) {
		fprintf(stderr, "restlat: out of memory or path too long\n");
		return 1;
	}
	for (int k = 0; k < n; k++) {
		double t0 = now_us();
		int r = rl_send_all(fd, req, len);

		if (r == 0)
			r = rl_response(fd, buf, &have);
		t[k] = now_us() - t0;
		if (r < 0) {
			fprintf(stderr, "restlat: GET %s: %s\n", path, strerror(-r));
			return 1;
		}
		if (r >= 300) {
			fprintf(stderr, "restlat: GET %s: HTTP status %d\n", path, r);
			return 1;
		}
	}
	qsort(t, n, sizeof(*t), cmp);
	printf("%.0f %.0f\n", t[n / 2], t[(int)(n * 0.99)]);
	close(fd);
	free(buf);
	free(t);
	return 0;
}
