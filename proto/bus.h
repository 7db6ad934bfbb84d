/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bus - the codec and endpoints of the cubebus bus (ZeroMQ + protobuf-c).
 *
 * Every message is one ZeroMQ frame holding one protobuf message. Frames
 * larger than BUS_MAX_MSG are refused by the socket (ZMQ_MAXMSGSIZE) and
 * by the decoder. Decoders never trust their input: a frame that does not
 * decode, or that carries a major version we do not speak, is rejected
 * with -EBADMSG / -EPROTO and the caller answers or counts it.
 */
#ifndef CUBEBUS_BUS_H
#define CUBEBUS_BUS_H

#include <czmq.h>
#include "cubebus.pb-c.h"

#define BUS_VERSION 1
/* a whole configuration travels in one message: 16 384 static fdb entries
 * are about 1 MiB of JSON, a ddosmitigator blacklist of a million entries
 * about 21 MiB (and its read, with the counters, about 40 MiB) */
#define BUS_MAX_MSG (64 << 20)

/* Default paths (DESIGN §11) and their environment variables. */
#define BUS_DEFAULT_RUN_DIR   "/run/cubebus"
#define BUS_DEFAULT_STATE_DIR "/var/lib/cubebus"
#define BUS_DEFAULT_BPFFS     "/sys/fs/bpf/cubebus"

/* Returns the value of env (if set and non-empty) or def. Never NULL. */
const char *bus_env(const char *env, const char *def);
/* Writes "ipc://<run_dir>/<name>.sock" into buf. */
void bus_ipc_endpoint(char *buf, size_t size, const char *run_dir, const char *name);

/*
 * Encode msg into a new zframe. Returns NULL on allocation failure or when the
 * encoding exceeds BUS_MAX_MSG. The caller owns the frame.
 */
zframe_t *bus_encode_request(const Cubebus__Request *msg);
zframe_t *bus_encode_reply(const Cubebus__Reply *msg);
zframe_t *bus_encode_cube(const Cubebus__CubeMsg *msg);
zframe_t *bus_encode_event(const Cubebus__Event *msg);

/*
 * Decode a frame. Returns 0 and sets *out (free with the matching
 * cubebus__*__free_unpacked(out, NULL)), -EBADMSG if the bytes are not a
 * message, -EMSGSIZE if too large, -EPROTO if the version is not ours.
 */
int bus_decode_request(const zframe_t *frame, Cubebus__Request **out);
int bus_decode_reply(const zframe_t *frame, Cubebus__Reply **out);
int bus_decode_cube(const zframe_t *frame, Cubebus__CubeMsg **out);
int bus_decode_event(const zframe_t *frame, Cubebus__Event **out);

/* Maps verb names ("create", "read", ...) to the enum and back. */
int bus_verb_from_name(const char *name);
const char *bus_verb_name(int verb);

/*
 * One request/reply round trip on the ctl endpoint (a DEALER connection).
 * Returns 0 when a reply arrived: *status is its status, *error and *body
 * are newly allocated strings (may be empty, never NULL) the caller frees.
 * Fails at once, without waiting for the timeout, when nobody can answer:
 * -ENOENT (no ipc socket), -ECONNREFUSED (a socket or port nobody listens
 * on: the broker is not running), -EACCES / -EPERM (the caller may not open
 * the socket). Returns -ETIMEDOUT when no reply arrived in timeout_ms,
 * -ENOMEM otherwise.
 */
int bus_call(const char *endpoint, int verb, const char *path, const char *body, int timeout_ms, int *status,
	     char **error, char **reply_body);
/* bus_call() with the request's flags: BUS_CALL_FORCE sets Request.force. */
#define BUS_CALL_FORCE 1u
int bus_call_flags(const char *endpoint, int verb, const char *path, const char *body, unsigned flags, int timeout_ms,
		   int *status, char **error, char **reply_body);

#endif
