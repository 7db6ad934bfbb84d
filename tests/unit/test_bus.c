/* SPDX-License-Identifier: Apache-2.0 */
/* Selftest of the bus codec and the ctl round trip (proto/bus.c). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bus.h"

static int failures;

#define CHECK(name, cond)                                                          \
	do {                                                                       \
		if (cond)                                                          \
			printf("ok - %s\n", name);                                 \
		else {                                                             \
			printf("not ok - %s (%s:%d)\n", name, __FILE__, __LINE__); \
			failures++;                                                \
		}                                                                  \
	} while (0)

static void test_roundtrip(void)
{
	Cubebus__Request req = CUBEBUS__REQUEST__INIT, *out = NULL;
	Cubebus__CubeMsg cm = CUBEBUS__CUBE_MSG__INIT, *cout = NULL;
	zframe_t *f;

	req.version = BUS_VERSION;
	req.id = 42;
	req.verb = CUBEBUS__VERB__UPDATE;
	req.path = "/br1/ports/p1";
	req.body = "{\"peer\":\"veth1\"}";
	f = bus_encode_request(&req);
	CHECK("request encodes", f != NULL);
	CHECK("request decodes", bus_decode_request(f, &out) == 0 && out);
	CHECK("request fields survive", out && out->id == 42 && out->verb == CUBEBUS__VERB__UPDATE &&
						!strcmp(out->path, "/br1/ports/p1") && !strcmp(out->body, req.body));
	if (out)
		cubebus__request__free_unpacked(out, NULL);
	zframe_destroy(&f);

	cm.version = BUS_VERSION;
	cm.kind = CUBEBUS__CUBE_MSG__KIND__HELLO;
	cm.cube = "br1";
	cm.service = "simplebridge";
	cm.generation = 7;
	cm.pid = 1234;
	cm.prog_id = 99;
	f = bus_encode_cube(&cm);
	CHECK("cube message round trip",
	      f && bus_decode_cube(f, &cout) == 0 && cout->kind == CUBEBUS__CUBE_MSG__KIND__HELLO &&
		      cout->generation == 7 && cout->pid == 1234 && cout->prog_id == 99 && !strcmp(cout->cube, "br1"));
	if (cout)
		cubebus__cube_msg__free_unpacked(cout, NULL);
	zframe_destroy(&f);
}

static void test_bad_input(void)
{
	Cubebus__Request req = CUBEBUS__REQUEST__INIT, *out = NULL;
	Cubebus__Reply *rep = NULL;
	unsigned char junk[64];
	zframe_t *f;
	size_t len;

	for (size_t i = 0; i < sizeof(junk); i++)
		junk[i] = (unsigned char)(i * 37 + 11);
	junk[0] = 0xff; /* an invalid tag */
	f = zframe_new(junk, sizeof(junk));
	CHECK("junk bytes are rejected", bus_decode_request(f, &out) == -EBADMSG && !out);
	zframe_destroy(&f);

	f = zframe_new(NULL, BUS_MAX_MSG + 1);
	memset(zframe_data(f), 0, BUS_MAX_MSG + 1);
	CHECK("oversized frame is rejected", bus_decode_request(f, &out) == -EMSGSIZE && !out);
	zframe_destroy(&f);

	req.version = 9900; /* another major version */
	req.path = "/x";
	f = bus_encode_request(&req);
	CHECK("other major version is rejected", bus_decode_request(f, &out) == -EPROTO && !out);
	zframe_destroy(&f);

	req.version = 0; /* a message without a version: not ours */
	f = bus_encode_request(&req);
	CHECK("missing version is rejected", bus_decode_request(f, &out) == -EPROTO);
	zframe_destroy(&f);

	/* an unknown field (number 99, length-delimited) is ignored */
	req.version = BUS_VERSION;
	req.id = 5;
	len = cubebus__request__get_packed_size(&req);
	f = zframe_new(NULL, len + 6);
	cubebus__request__pack(&req, zframe_data(f));
	{
		unsigned char *p = zframe_data(f) + len;

		p[0] = ((99 << 3 | 2) & 0x7f) | 0x80; /* tag 99, wire type 2, as a varint */
		p[1] = (99 << 3 | 2) >> 7;
		p[2] = 3;
		p[3] = 'a';
		p[4] = 'b';
		p[5] = 'c';
	}
	CHECK("unknown fields are ignored", bus_decode_request(f, &out) == 0 && out && out->id == 5);
	if (out)
		cubebus__request__free_unpacked(out, NULL);
	zframe_destroy(&f);

	f = zframe_new("", 0);
	CHECK("empty frame decodes to an unversioned message and is rejected", bus_decode_reply(f, &rep) == -EPROTO);
	zframe_destroy(&f);
}

static void test_verbs(void)
{
	CHECK("verb names map both ways", bus_verb_from_name("create") == CUBEBUS__VERB__CREATE &&
						  !strcmp(bus_verb_name(CUBEBUS__VERB__DELETE), "delete") &&
						  bus_verb_from_name("nope") == -EINVAL &&
						  !strcmp(bus_verb_name(99), "unknown"));
}

/* A one-shot ctl server: answers the first request with its path. */
static void server_actor(zsock_t *pipe, void *arg)
{
	zsock_t *router = zsock_new_router((const char *)arg);
	zframe_t *id, *f;
	Cubebus__Request *req = NULL;

	zsock_signal(pipe, 0);
	id = zframe_recv(router);
	f = zframe_recv(router);
	if (id && f && bus_decode_request(f, &req) == 0) {
		Cubebus__Reply rep = CUBEBUS__REPLY__INIT;
		zframe_t *out;

		rep.version = BUS_VERSION;
		rep.id = req->id;
		rep.status = -ENOENT;
		rep.error = "no such thing";
		rep.body = req->path;
		out = bus_encode_reply(&rep);
		zframe_send(&id, router, ZFRAME_MORE);
		zframe_send(&out, router, 0);
		cubebus__request__free_unpacked(req, NULL);
	}
	zframe_destroy(&id);
	zframe_destroy(&f);
	zsock_wait(pipe);
	zsock_destroy(&router);
}

static void test_call(void)
{
	char dir[] = "/tmp/cbtest-bus-XXXXXX", endpoint[256], *err = NULL, *body = NULL;
	zactor_t *server;
	int status = 0, r;

	CHECK("bus_call to a missing socket says -ENOENT",
	      bus_call("ipc:///nonexistent/ctl.sock", CUBEBUS__VERB__READ, "/cubes", NULL, 100, &status, &err, &body) ==
		      -ENOENT);
	if (!mkdtemp(dir)) {
		printf("not ok - mkdtemp\n");
		failures++;
		return;
	}
	bus_ipc_endpoint(endpoint, sizeof(endpoint), dir, "ctl");
	server = zactor_new(server_actor, endpoint);
	r = bus_call(endpoint, CUBEBUS__VERB__READ, "/hello", "", 2000, &status, &err, &body);
	CHECK("bus_call round trip",
	      r == 0 && status == -ENOENT && err && !strcmp(err, "no such thing") && body && !strcmp(body, "/hello"));
	zsock_signal(server, 0);
	zactor_destroy(&server);
	free(err);
	free(body);
	err = body = NULL;
	/* the socket file exists but nobody answers: time out */
	{
		zsock_t *mute = zsock_new_router(endpoint);

		r = bus_call(endpoint, CUBEBUS__VERB__READ, "/x", NULL, 200, &status, &err, &body);
		CHECK("bus_call times out when nobody answers", r == -ETIMEDOUT);
		zsock_destroy(&mute);
	}
	snprintf(endpoint, sizeof(endpoint), "%s/ctl.sock", dir);
	unlink(endpoint);
	rmdir(dir);
}

int main(void)
{
	zsys_handler_set(NULL);
	test_roundtrip();
	test_bad_input();
	test_verbs();
	test_call();
	return failures ? 1 : 0;
}
