/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bus.h"

const char *bus_env(const char *env, const char *def)
{
	const char *v = getenv(env);

	return (v && *v) ? v : def;
}

void bus_ipc_endpoint(char *buf, size_t size, const char *run_dir, const char *name)
{
	snprintf(buf, size, "ipc://%s/%s.sock", run_dir, name);
}

#define BUS_CODEC(kind, type, fn)                                               \
	zframe_t *bus_encode_##kind(const type *msg)                            \
	{                                                                       \
		size_t len = fn##__get_packed_size(msg);                        \
		zframe_t *f;                                                    \
		if (len > BUS_MAX_MSG)                                          \
			return NULL;                                            \
		f = zframe_new(NULL, len);                                      \
		if (!f)                                                         \
			return NULL;                                            \
		fn##__pack(msg, zframe_data(f));                                \
		return f;                                                       \
	}                                                                       \
	int bus_decode_##kind(const zframe_t *frame, type **out)                \
	{                                                                       \
		type *m;                                                        \
		size_t len = zframe_size((zframe_t *)frame);                    \
		*out = NULL;                                                    \
		if (len > BUS_MAX_MSG)                                          \
			return -EMSGSIZE;                                       \
		m = fn##__unpack(NULL, len, zframe_data((zframe_t *)frame));    \
		if (!m)                                                         \
			return -EBADMSG;                                        \
		if (m->version / 100 != BUS_VERSION / 100 || m->version == 0) { \
			fn##__free_unpacked(m, NULL);                           \
			return -EPROTO;                                         \
		}                                                               \
		*out = m;                                                       \
		return 0;                                                       \
	}

BUS_CODEC(request, Cubebus__Request, cubebus__request)
BUS_CODEC(reply, Cubebus__Reply, cubebus__reply)
BUS_CODEC(cube, Cubebus__CubeMsg, cubebus__cube_msg)
BUS_CODEC(event, Cubebus__Event, cubebus__event)

static const char *const verb_names[] = {
	[CUBEBUS__VERB__VERB_NONE] = "none", [CUBEBUS__VERB__CREATE] = "create",   [CUBEBUS__VERB__READ] = "read",
	[CUBEBUS__VERB__UPDATE] = "update",  [CUBEBUS__VERB__REPLACE] = "replace", [CUBEBUS__VERB__DELETE] = "delete",
	[CUBEBUS__VERB__ACTION] = "action",  [CUBEBUS__VERB__HELP] = "help",
};

int bus_verb_from_name(const char *name)
{
	for (size_t i = 1; i < sizeof(verb_names) / sizeof(verb_names[0]); i++)
		if (!strcmp(verb_names[i], name))
			return (int)i;
	return -EINVAL;
}

const char *bus_verb_name(int verb)
{
	if (verb < 0 || verb >= (int)(sizeof(verb_names) / sizeof(verb_names[0])))
		return "unknown";
	return verb_names[verb];
}

int bus_call(const char *endpoint, int verb, const char *path, const char *body, int timeout_ms, int *status,
	     char **error, char **reply_body)
{
	return bus_call_flags(endpoint, verb, path, body, 0, timeout_ms, status, error, reply_body);
}

int bus_call_flags(const char *endpoint, int verb, const char *path, const char *body, unsigned flags, int timeout_ms,
		   int *status, char **error, char **reply_body)
{
	Cubebus__Request req = CUBEBUS__REQUEST__INIT;
	Cubebus__Reply *rep = NULL;
	zsock_t *sock = NULL;
	zframe_t *f = NULL;
	zpoller_t *poller = NULL;
	static uint64_t next_id;
	int r;

	if (!strncmp(endpoint, "ipc://", 6)) {
		struct stat st;

		if (stat(endpoint + 6, &st) < 0)
			return -ENOENT;
	}
	sock = zsock_new(ZMQ_DEALER);
	if (!sock)
		return -ENOMEM;
	zsock_set_linger(sock, 0);
	zsock_set_maxmsgsize(sock, BUS_MAX_MSG);
	if (zsock_connect(sock, "%s", endpoint) < 0) {
		r = -ECONNREFUSED;
		goto out;
	}
	req.version = BUS_VERSION;
	req.id = ++next_id ^ ((uint64_t)getpid() << 32);
	req.verb = verb;
	req.path = (char *)(path ? path : "");
	req.body = (char *)(body ? body : "");
	req.force = !!(flags & BUS_CALL_FORCE);
	f = bus_encode_request(&req);
	if (!f) {
		r = -EMSGSIZE;
		goto out;
	}
	if (zframe_send(&f, sock, 0) < 0) {
		r = -EIO;
		goto out;
	}
	poller = zpoller_new(sock, NULL);
	for (;;) {
		if (!zpoller_wait(poller, timeout_ms)) {
			r = zpoller_terminated(poller) ? -EINTR : -ETIMEDOUT;
			goto out;
		}
		f = zframe_recv(sock);
		if (!f)
			continue;
		r = bus_decode_reply(f, &rep);
		zframe_destroy(&f);
		if (r < 0)
			goto out;
		if (rep->id == req.id)
			break;
		cubebus__reply__free_unpacked(rep, NULL);
		rep = NULL;
	}
	*status = rep->status;
	*error = strdup(rep->error ? rep->error : "");
	*reply_body = strdup(rep->body ? rep->body : "");
	r = (*error && *reply_body) ? 0 : -ENOMEM;
out:
	if (rep)
		cubebus__reply__free_unpacked(rep, NULL);
	zframe_destroy(&f);
	zpoller_destroy(&poller);
	zsock_destroy(&sock);
	return r;
}
