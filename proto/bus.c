/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
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

/*
 * ZeroMQ connects in the background and retries for ever: a DEALER aimed at a
 * socket nobody listens on (a broker that was killed leaves its socket file),
 * or at one the caller may not open, just waits for the reply timeout. One
 * plain connect() first tells those cases apart at once. It is a probe only:
 * the request itself goes over ZeroMQ.
 */
static int bus_probe_ipc(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd, r = 0;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return 0; /* cannot probe: let ZeroMQ try */
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		r = -errno;
	close(fd);
	/* a full backlog is a busy broker, not a missing one */
	return r == -EAGAIN ? 0 : r;
}

static int bus_probe_tcp(const char *hostport, int timeout_ms)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res = NULL, *ai;
	char host[256];
	const char *colon = strrchr(hostport, ':');
	int r = -ECONNREFUSED;

	if (!colon || (size_t)(colon - hostport) >= sizeof(host))
		return 0;
	memcpy(host, hostport, colon - hostport);
	host[colon - hostport] = '\0';
	/* [v6]:port */
	if (host[0] == '[' && host[strlen(host) - 1] == ']') {
		memmove(host, host + 1, strlen(host));
		host[strlen(host) - 1] = '\0';
	}
	if (getaddrinfo(host, colon + 1, &hints, &res))
		return 0; /* ZeroMQ says what is wrong with it */
	for (ai = res; ai; ai = ai->ai_next) {
		struct pollfd pfd = { .events = POLLOUT };
		socklen_t len = sizeof(int);
		int fd, e = 0;

		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, ai->ai_protocol);
		if (fd < 0)
			continue;
		pfd.fd = fd;
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0 && errno != EINPROGRESS)
			e = errno;
		else if (poll(&pfd, 1, timeout_ms) != 1)
			e = ETIMEDOUT;
		else if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &len) < 0)
			e = errno;
		close(fd);
		r = -e;
		if (!e)
			break;
	}
	freeaddrinfo(res);
	return r;
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
			return -errno;
		r = bus_probe_ipc(endpoint + 6);
		if (r < 0)
			return r;
	} else if (!strncmp(endpoint, "tcp://", 6)) {
		r = bus_probe_tcp(endpoint + 6, timeout_ms < 3000 ? timeout_ms : 3000);
		if (r < 0)
			return r;
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
