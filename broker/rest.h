/* SPDX-License-Identifier: Apache-2.0 */
/*
 * rest - the REST gateway of cubebusd (DESIGN §6).
 *
 * An HTTP server (libmicrohttpd, one thread per connection) inside the
 * broker process that owns none of the broker's state: each HTTP request
 * becomes the bus request cubectl would send, made with bus_call() on the
 * broker's own ctl endpoint, and the reply is mapped back to HTTP. So the
 * broker keeps handling one request at a time on its one loop, whoever
 * sent it.
 *
 *   /polycube/v1/PATH...   POST create/action, GET read, PATCH update,
 *                          PUT replace, DELETE delete, OPTIONS help;
 *                          PATH is the bus path, percent-escapes kept
 *   /metrics               Prometheus text: cubes and their ports' counters
 *
 * Replies are the broker's JSON (200, 201 for a POST that created, 204
 * when there is nothing to say) or {"error": "<the broker's message>"}
 * with a status from the request's errno.
 */
#ifndef CUBEBUS_REST_H
#define CUBEBUS_REST_H

#include <stddef.h>

#define REST_DEFAULT_LISTEN "127.0.0.1:9000"
#define REST_MAX_BODY	    (1 << 20) /* larger request bodies get 413 */

struct rest;

/*
 * Checks a listen address: "ADDR:PORT" with ADDR an IPv4 address or a
 * name, or "[IPV6]:PORT". Returns 0, or -EINVAL with a sentence in err.
 */
int rest_check_listen(const char *addr, char *err, size_t errlen);

/*
 * Listens on addr (see rest_check_listen) and serves requests by
 * forwarding them to ctl_endpoint. Returns 0 and sets *out (the caller
 * owns it: rest_stop), or -errno with a sentence in err (nothing runs:
 * e.g. -EADDRINUSE when another instance has the port).
 */
int rest_start(struct rest **out, const char *addr, const char *ctl_endpoint, char *err, size_t errlen);

/* "http://127.0.0.1:9000": where it listens. */
const char *rest_url(const struct rest *self);

/*
 * Stops listening, ends the requests in flight and frees the gateway;
 * NULL-safe, clears *self. Call it while the ctl socket still exists and
 * before the process's last use of the bus: if a request is waiting for
 * the broker (whose loop has stopped), the ZeroMQ context is shut down to
 * wake it.
 */
void rest_stop(struct rest **self);

#endif
