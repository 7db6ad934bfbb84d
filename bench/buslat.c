/* SPDX-License-Identifier: Apache-2.0 */
/*
 * buslat - request latency over the bus: N round trips of one request on
 * the ctl endpoint from one connection, median and p99 in microseconds.
 *   buslat [--n N] PATH [VERB [BODY]]   e.g. buslat --n 1000 /version read
 * A BODY of @FILE is read from FILE (a list of 10 000 entries does not fit
 * in an argument). With --paths FILE, each line of FILE is a PATH: one
 * request to each, in order (N is the number of lines), e.g. N distinct
 * entries to add; the first request also pays for the process's ZeroMQ
 * context and is left out of the figures.
 *   buslat --paths FILE VERB [BODY]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bus.h"

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

static char *read_file(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf = NULL;
	size_t len = 0;

	if (!f)
		return NULL;
	if (getdelim(&buf, &len, '\0', f) < 0) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	return buf;
}

int main(int argc, char **argv)
{
	int n = 1000, i = 1, verb;
	const char *path, *body = NULL, *run = bus_env("CUBEBUS_RUN_DIR", BUS_DEFAULT_RUN_DIR);
	char endpoint[600];
	double *t;

	char **paths = NULL;

	if (argc > 2 && !strcmp(argv[1], "--n")) {
		n = atoi(argv[2]);
		i = 3;
	} else if (argc > 2 && !strcmp(argv[1], "--paths")) {
		char *text = read_file(argv[2]), *line, *save = NULL;

		if (!text) {
			fprintf(stderr, "buslat: cannot read %s\n", argv[2]);
			return 2;
		}
		n = 0;
		paths = calloc(strlen(text) / 2 + 2, sizeof(*paths));
		for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
			paths[n++] = line;
		i = 2; /* argv[i] is taken as the path below and replaced per request */
	}
	if (i >= argc || n <= 0) {
		fprintf(stderr, "usage: buslat [--n N] PATH [VERB [BODY]]\n");
		return 2;
	}
	path = argv[i];
	verb = i + 1 < argc ? bus_verb_from_name(argv[i + 1]) : CUBEBUS__VERB__READ;
	if (i + 2 < argc)
		body = argv[i + 2][0] == '@' ? read_file(argv[i + 2] + 1) : argv[i + 2];
	if (!body && i + 2 < argc) {
		fprintf(stderr, "buslat: cannot read %s\n", argv[i + 2] + 1);
		return 2;
	}
	if (verb < 0) {
		fprintf(stderr, "buslat: unknown verb %s\n", argv[i + 1]);
		return 2;
	}
	bus_ipc_endpoint(endpoint, sizeof(endpoint), run, "ctl");
	t = calloc(n, sizeof(*t));
	zsys_handler_set(NULL);
	for (int k = 0; k < n; k++) {
		int status = 0, r;
		char *err = NULL, *rbody = NULL;
		double t0 = now_us();

		/* one connection per request, like cubectl */
		r = bus_call(endpoint, verb, paths ? paths[k] : path, body, 5000, &status, &err, &rbody);
		t[k] = now_us() - t0;
		if (r < 0 || status < 0) {
			fprintf(stderr, "buslat: %s: %s\n", paths ? paths[k] : path, r < 0 ? strerror(-r) : err);
			return 1;
		}
		free(err);
		free(rbody);
	}
	{
		/* with --paths the first paid for the ZeroMQ context */
		double *f = paths && n > 1 ? t + 1 : t;
		int m = paths && n > 1 ? n - 1 : n;

		qsort(f, m, sizeof(*f), cmp);
		printf("%.0f %.0f\n", f[m / 2], f[(int)(m * 0.99)]);
	}
	free(t);
	return 0;
}
