/* SPDX-License-Identifier: Apache-2.0 */
/*
 * busjunk - sends malformed and oversized messages to a broker endpoint and
 * prints what came back, one line per message. A test tool: DESIGN §9 says
 * such a message gets an error reply or is dropped and counted, and never
 * crashes a process; the caller then checks that the broker still answers.
 *
 *   busjunk [--run-dir DIR] [--timeout MS] ctl|cubes [KIND...]
 *
 * KIND (default: all of them, in this order):
 *   random   256 bytes from a fixed-seed generator (the same every run)
 *   empty    a zero-length frame (decodes as version 0)
 *   big      a 2 MiB frame, twice the bus limit (BUS_MAX_MSG)
 *   version  a well-formed message of bus version 200 (BUS_VERSION is 1)
 *   frames   three frames where one is expected
 *   valid    a well-formed message: ctl "read version"; cubes a HELLO from
 *            a cube the broker does not know (it answers STOP)
 *
 * Each kind goes on its own DEALER connection (cubes: identity
 * "busjunk#PID.N", a cube the broker does not know), so a connection the
 * broker drops does not hide the next answer. Output:
 *   KIND: reply status S: ERROR        (ctl)
 *   KIND: reply kind K                  (cubes)
 *   KIND: no reply in MS ms
 *   KIND: undecodable reply (N bytes)
 * Exits 0 when every message was sent, 1 on a local error, 2 on usage.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bus.h"

#define JUNK_BIG    (2u << 20)
#define JUNK_RANDOM 256

enum junk_ep { JUNK_CTL, JUNK_CUBES };

static const char *const junk_kinds[] = { "random", "empty", "big", "version", "frames", "valid", NULL };

static const char *const cube_kind_names[] = { "NONE",	 "HELLO",   "HEARTBEAT", "CONFIG",    "RESULT", "READ",
					       "ACTION", "REHELLO", "STOP",	 "PUBLISHED", "EVENT" };

/* The same bytes every run: a failure found once can be found again. */
static void junk_fill(unsigned char *buf, size_t len)
{
	uint32_t x = 0xcb5eed01u;

	for (size_t i = 0; i < len; i++) {
		x = x * 1664525u + 1013904223u;
		buf[i] = x >> 24;
	}
}

/* A well-formed message of the endpoint, with the given bus version. */
static zframe_t *junk_message(enum junk_ep ep, uint32_t version)
{
	if (ep == JUNK_CTL) {
		Cubebus__Request req = CUBEBUS__REQUEST__INIT;

		req.version = version;
		req.id = 42;
		req.verb = CUBEBUS__VERB__READ;
		req.path = "version";
		req.body = "";
		return bus_encode_request(&req);
	}
	Cubebus__CubeMsg m = CUBEBUS__CUBE_MSG__INIT;

	m.version = version;
	m.kind = CUBEBUS__CUBE_MSG__KIND__HELLO;
	m.cube = "busjunk";
	m.service = "helloworld";
	m.generation = 1;
	m.pid = getpid();
	return bus_encode_cube(&m);
}

/* Builds the frames of one kind into msg. Returns 0 or -errno. */
static int junk_build(enum junk_ep ep, const char *kind, zmsg_t *msg)
{
	zframe_t *f = NULL;

	if (!strcmp(kind, "random")) {
		f = zframe_new(NULL, JUNK_RANDOM);
		if (f)
			junk_fill(zframe_data(f), JUNK_RANDOM);
	} else if (!strcmp(kind, "empty")) {
		f = zframe_new_empty();
	} else if (!strcmp(kind, "big")) {
		f = zframe_new(NULL, JUNK_BIG);
		if (f)
			junk_fill(zframe_data(f), JUNK_BIG);
	} else if (!strcmp(kind, "version")) {
		f = junk_message(ep, 200);
	} else if (!strcmp(kind, "frames")) {
		for (int i = 0; i < 3; i++) {
			f = junk_message(ep, BUS_VERSION);
			if (!f || zmsg_append(msg, &f) < 0)
				return -ENOMEM;
		}
		return 0;
	} else if (!strcmp(kind, "valid")) {
		f = junk_message(ep, BUS_VERSION);
	} else {
		return -EINVAL;
	}
	if (!f || zmsg_append(msg, &f) < 0)
		return -ENOMEM;
	return 0;
}

static void junk_print_reply(enum junk_ep ep, const char *kind, zframe_t *f)
{
	if (ep == JUNK_CTL) {
		Cubebus__Reply *rep = NULL;

		if (bus_decode_reply(f, &rep) < 0) {
			printf("%s: undecodable reply (%zu bytes)\n", kind, zframe_size(f));
			return;
		}
		printf("%s: reply status %d: %s\n", kind, rep->status, rep->error ? rep->error : "");
		cubebus__reply__free_unpacked(rep, NULL);
		return;
	}
	Cubebus__CubeMsg *m = NULL;

	if (bus_decode_cube(f, &m) < 0) {
		printf("%s: undecodable reply (%zu bytes)\n", kind, zframe_size(f));
		return;
	}
	printf("%s: reply kind %s\n", kind,
	       m->kind < sizeof(cube_kind_names) / sizeof(cube_kind_names[0]) ? cube_kind_names[m->kind] : "?");
	cubebus__cube_msg__free_unpacked(m, NULL);
}

/* Sends one kind on a new connection and prints the answer. Returns 0 or -errno. */
static int junk_send(const char *endpoint, enum junk_ep ep, const char *kind, int timeout_ms)
{
	zsock_t *sock = zsock_new(ZMQ_DEALER);
	zpoller_t *poller = NULL;
	zmsg_t *msg = zmsg_new();
	zframe_t *f = NULL;
	int r;

	if (!sock || !msg) {
		r = -ENOMEM;
		goto out;
	}
	zsock_set_linger(sock, timeout_ms);
	if (ep == JUNK_CUBES) {
		/* "name#pid" like a cube, unique per connection: a ROUTER hands an
		 * identity over to a new connection, and a reply could still go to
		 * the old one being closed */
		static unsigned n;
		char ident[64];

		snprintf(ident, sizeof(ident), "busjunk#%d.%u", (int)getpid(), ++n);
		zsock_set_identity(sock, ident);
	}
	if (zsock_connect(sock, "%s", endpoint) < 0) {
		fprintf(stderr, "busjunk: cannot connect to %s: %s\n", endpoint, zmq_strerror(zmq_errno()));
		r = -ECONNREFUSED;
		goto out;
	}
	r = junk_build(ep, kind, msg);
	if (r < 0) {
		fprintf(stderr, "busjunk: %s: %s\n", kind, r == -EINVAL ? "unknown kind" : strerror(-r));
		goto out;
	}
	if (zmsg_send(&msg, sock) < 0) {
		fprintf(stderr, "busjunk: %s: cannot send: %s\n", kind, zmq_strerror(zmq_errno()));
		r = -EIO;
		goto out;
	}
	poller = zpoller_new(sock, NULL);
	if (!poller) {
		r = -ENOMEM;
		goto out;
	}
	if (!zpoller_wait(poller, timeout_ms)) {
		printf("%s: no reply in %d ms\n", kind, timeout_ms);
		r = 0;
		goto out;
	}
	f = zframe_recv(sock);
	if (f)
		junk_print_reply(ep, kind, f);
	else
		printf("%s: no reply in %d ms\n", kind, timeout_ms);
	r = 0;
out:
	zframe_destroy(&f);
	zmsg_destroy(&msg);
	zpoller_destroy(&poller);
	zsock_destroy(&sock);
	return r;
}

static void junk_usage(FILE *out)
{
	fprintf(out,
		"usage: busjunk [--run-dir DIR] [--timeout MS] ctl|cubes [random|empty|big|version|frames|valid...]\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = { { "run-dir", required_argument, NULL, 'r' },
					      { "timeout", required_argument, NULL, 't' },
					      { "help", no_argument, NULL, 'h' },
					      { 0 } };
	const char *run_dir = bus_env("CUBEBUS_RUN_DIR", BUS_DEFAULT_RUN_DIR);
	char endpoint[600];
	enum junk_ep ep;
	int timeout_ms = 1000, opt, failed = 0;

	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case 'r': run_dir = optarg; break;
		case 't': timeout_ms = atoi(optarg); break;
		case 'h': junk_usage(stdout); return 0;
		default: junk_usage(stderr); return 2;
		}
	}
	if (optind >= argc || timeout_ms <= 0) {
		junk_usage(stderr);
		return 2;
	}
	if (!strcmp(argv[optind], "ctl")) {
		ep = JUNK_CTL;
	} else if (!strcmp(argv[optind], "cubes")) {
		ep = JUNK_CUBES;
	} else {
		junk_usage(stderr);
		return 2;
	}
	bus_ipc_endpoint(endpoint, sizeof(endpoint), run_dir, argv[optind]);
	zsys_init();
	zsys_set_logstream(NULL);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (optind + 1 == argc) {
		for (int i = 0; junk_kinds[i]; i++)
			failed |= junk_send(endpoint, ep, junk_kinds[i], timeout_ms) < 0;
	} else {
		for (int i = optind + 1; i < argc; i++)
			failed |= junk_send(endpoint, ep, argv[i], timeout_ms) < 0;
	}
	return failed ? 1 : 0;
}
