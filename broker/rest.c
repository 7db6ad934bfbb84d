/* SPDX-License-Identifier: Apache-2.0 */
/*
 * rest.c - the REST gateway (see rest.h): HTTP in, bus requests out.
 *
 * libmicrohttpd runs one thread per connection; those threads share only
 * struct rest and never touch struct broker. bus_call() numbers requests
 * with a static counter and the broker answers one request at a time
 * anyway, so calls are made one at a time under call_lock.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <microhttpd.h>

#include "broker.h"
#include "rest.h"

#define REST_PREFIX	     "/polycube/v1"
#define REST_CALL_TIMEOUT_MS 30000 /* as cubectl's: creating a cube may wait 10 s for it */
#define REST_MAX_CONNECTIONS 64
#define REST_IDLE_TIMEOUT_S  60
#define REST_JSON	     "application/json"
#define REST_PROMETHEUS	     "text/plain; version=0.0.4; charset=utf-8"

struct rest {
	struct MHD_Daemon *mhd;
	char endpoint[600];
	char url[160];
	pthread_mutex_t call_lock;  /* one bus call at a time */
	pthread_mutex_t state_lock; /* stopping, calling, services */
	int stopping;
	int calling;
	struct json_object *services; /* the broker's /services, fixed for its life */
	pthread_t starter;	      /* the thread in rest_start: it keeps start_error */
	char start_error[256];
};

/* One HTTP request while its body arrives (libmicrohttpd's con_cls). */
struct rest_req {
	char *body;
	size_t len;
	int too_large;
};

/* ---- tables ------------------------------------------------------------- */

enum rest_method_bit {
	RM_GET = 1 << 0, /* and HEAD */
	RM_POST = 1 << 1,
	RM_PATCH = 1 << 2,
	RM_PUT = 1 << 3,
	RM_DELETE = 1 << 4,
	RM_OPTIONS = 1 << 5,
};
#define RM_ALL (RM_GET | RM_POST | RM_PATCH | RM_PUT | RM_DELETE | RM_OPTIONS)

static const struct rest_method {
	const char *name;
	unsigned bit;
	int verb;
} rest_methods[] = {
	{ "GET", RM_GET, CUBEBUS__VERB__READ },		{ "HEAD", RM_GET, CUBEBUS__VERB__READ },
	{ "POST", RM_POST, CUBEBUS__VERB__CREATE },	{ "PATCH", RM_PATCH, CUBEBUS__VERB__UPDATE },
	{ "PUT", RM_PUT, CUBEBUS__VERB__REPLACE },	{ "DELETE", RM_DELETE, CUBEBUS__VERB__DELETE },
	{ "OPTIONS", RM_OPTIONS, CUBEBUS__VERB__HELP },
};

/*
 * The broker's aliases (first path word): the methods that mean something
 * there, so that the others get 405 and an Allow header rather than the
 * broker's "does not take" (400). A POST on them makes a link: 201.
 */
static const struct rest_alias {
	const char *word;
	unsigned methods;
	int creates;
} rest_aliases[] = {
	{ "cubes", RM_GET, 0 },
	{ "netdevs", RM_GET, 0 },
	{ "services", RM_GET, 0 },
	{ "version", RM_GET, 0 },
	{ "topology", RM_GET, 0 },
	{ "connect", RM_POST | RM_DELETE, 1 },
	{ "attach", RM_POST | RM_DELETE, 1 },
};

/* A request's errno -> HTTP status; anything else is 500. */
static const struct rest_status {
	int err;
	unsigned code;
} rest_statuses[] = {
	{ ENOENT, MHD_HTTP_NOT_FOUND },
	{ EEXIST, MHD_HTTP_CONFLICT },
	{ EBUSY, MHD_HTTP_CONFLICT },
	{ EINVAL, MHD_HTTP_BAD_REQUEST },
	{ ERANGE, MHD_HTTP_BAD_REQUEST },
	{ EBADMSG, MHD_HTTP_BAD_REQUEST },
	{ E2BIG, MHD_HTTP_BAD_REQUEST }, /* a path of too many parts */
	{ EACCES, MHD_HTTP_FORBIDDEN },
	{ EPERM, MHD_HTTP_FORBIDDEN },
	{ EMSGSIZE, MHD_HTTP_CONTENT_TOO_LARGE },
	{ ENOSPC, MHD_HTTP_INSUFFICIENT_STORAGE }, /* out of cube slots or ports */
	{ EAGAIN, MHD_HTTP_SERVICE_UNAVAILABLE },  /* the cube is (re)starting */
	{ ETIMEDOUT, MHD_HTTP_GATEWAY_TIMEOUT },   /* a cube did not answer */
};

/* The per-port members of the broker's cube view that /metrics exports. */
static const struct rest_port_metric {
	const char *name;
	const char *member;
	const char *type;
	const char *help;
} rest_port_metrics[] = {
	{ "cubebus_port_up", "status", "gauge", "1 when the port's peer is up" },
	{ "cubebus_port_rx_packets_total", "rx-packets", "counter", "Packets received on the port" },
	{ "cubebus_port_tx_packets_total", "tx-packets", "counter", "Packets sent out of the port" },
	{ "cubebus_port_drops_total", "drops", "counter", "Packets dropped on the port" },
};

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static const struct rest_method *rest_method_find(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(rest_methods); i++)
		if (!strcmp(rest_methods[i].name, name))
			return &rest_methods[i];
	return NULL;
}

/* The alias the path's first word names, or NULL. */
static const struct rest_alias *rest_alias_find(const char *path)
{
	size_t n;

	path += strspn(path, "/");
	n = strcspn(path, "/");
	for (size_t i = 0; i < ARRAY_SIZE(rest_aliases); i++)
		if (strlen(rest_aliases[i].word) == n && !strncmp(rest_aliases[i].word, path, n))
			return &rest_aliases[i];
	return NULL;
}

/* "GET, HEAD, POST, OPTIONS" for an Allow header. */
static void rest_allow(unsigned methods, char *buf, size_t size)
{
	size_t n = 0;

	buf[0] = 0;
	for (size_t i = 0; i < ARRAY_SIZE(rest_methods) && n < size; i++)
		if ((methods | RM_OPTIONS) & rest_methods[i].bit)
			n += snprintf(buf + n, size - n, "%s%s", n ? ", " : "", rest_methods[i].name);
}

static unsigned rest_http_status(int status, int verb)
{
	/* a read of an action: that method does not apply there; otherwise a
	 * configuration the system cannot do (an XDP_DRV veth peer) */
	if (status == -EOPNOTSUPP)
		return verb == CUBEBUS__VERB__READ || verb == CUBEBUS__VERB__HELP ? MHD_HTTP_METHOD_NOT_ALLOWED
										  : MHD_HTTP_NOT_IMPLEMENTED;
	for (size_t i = 0; i < ARRAY_SIZE(rest_statuses); i++)
		if (rest_statuses[i].err == -status)
			return rest_statuses[i].code;
	return MHD_HTTP_INTERNAL_SERVER_ERROR;
}

/* ---- replies ------------------------------------------------------------ */

static enum MHD_Result rest_send(struct MHD_Connection *conn, unsigned code, const char *type, const char *body,
				 size_t len, const char *allow)
{
	struct MHD_Response *resp;
	enum MHD_Result r;

	resp = MHD_create_response_from_buffer(len, (void *)(body ? body : ""), MHD_RESPMEM_MUST_COPY);
	if (!resp)
		return MHD_NO;
	if (len && type)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	if (allow)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, allow);
	r = MHD_queue_response(conn, code, resp);
	MHD_destroy_response(resp);
	return r;
}

static enum MHD_Result rest_error(struct MHD_Connection *conn, unsigned code, const char *allow, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static enum MHD_Result rest_error(struct MHD_Connection *conn, unsigned code, const char *allow, const char *fmt, ...)
{
	struct json_object *o = json_object_new_object();
	char msg[BK_ERR_MAX + 128];
	const char *text;
	enum MHD_Result r;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	json_object_object_add(o, "error", json_object_new_string(msg));
	text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	r = rest_send(conn, code, REST_JSON, text, strlen(text), allow);
	json_object_put(o);
	return r;
}

/* ---- the bus ------------------------------------------------------------ */

/* bus_call() on the broker's ctl endpoint; -ESHUTDOWN once rest_stop began. */
static int rest_call(struct rest *self, int verb, const char *path, const char *body, unsigned flags, int *status,
		     char **err, char **out)
{
	int r = 0;

	*err = *out = NULL;
	pthread_mutex_lock(&self->call_lock);
	pthread_mutex_lock(&self->state_lock);
	if (self->stopping)
		r = -ESHUTDOWN;
	else
		self->calling = 1;
	pthread_mutex_unlock(&self->state_lock);
	if (r == 0) {
		r = bus_call_flags(self->endpoint, verb, path, body, flags, REST_CALL_TIMEOUT_MS, status, err, out);
		pthread_mutex_lock(&self->state_lock);
		self->calling = 0;
		pthread_mutex_unlock(&self->state_lock);
	}
	pthread_mutex_unlock(&self->call_lock);
	return r;
}

/* The answer to a request that got no reply from the broker. */
static enum MHD_Result rest_call_error(struct rest *self, struct MHD_Connection *conn, int r)
{
	switch (r) {
	case -ETIMEDOUT:
		return rest_error(conn, MHD_HTTP_GATEWAY_TIMEOUT, NULL, "no answer from cubebusd within %d s",
				  REST_CALL_TIMEOUT_MS / 1000);
	case -EMSGSIZE:
		return rest_error(conn, MHD_HTTP_CONTENT_TOO_LARGE, NULL,
				  "the request is larger than the bus carries (%d bytes)", BUS_MAX_MSG);
	case -ESHUTDOWN:
	case -EINTR: return rest_error(conn, MHD_HTTP_SERVICE_UNAVAILABLE, NULL, "cubebusd is stopping");
	default:
		return rest_error(conn, MHD_HTTP_SERVICE_UNAVAILABLE, NULL, "cannot reach cubebusd at %s: %s",
				  self->endpoint, strerror(-r));
	}
}

static const char *rest_member(struct json_object *o, const char *name)
{
	struct json_object *v;

	return json_object_object_get_ex(o, name, &v) ? json_object_get_string(v) : "";
}

/* The JSON array the broker answers to READ path, or NULL. */
static struct json_object *rest_read_array(struct rest *self, const char *path, int *r)
{
	struct json_object *a = NULL;
	char *err, *out;
	int status = 0;

	*r = rest_call(self, CUBEBUS__VERB__READ, path, NULL, 0, &status, &err, &out);
	if (*r == 0 && status < 0)
		*r = status;
	if (*r == 0) {
		a = json_tokener_parse(out);
		if (!json_object_is_type(a, json_type_array)) {
			json_object_put(a);
			a = NULL;
			*r = -EBADMSG;
		}
	}
	free(err);
	free(out);
	return a;
}

/* Whether word names a service (the broker loads its models once, at start). */
static int rest_is_service(struct rest *self, const char *word)
{
	struct json_object *list;
	int r, found = 0;

	pthread_mutex_lock(&self->state_lock);
	list = json_object_get(self->services);
	pthread_mutex_unlock(&self->state_lock);
	if (!list) {
		list = rest_read_array(self, "/services", &r);
		if (!list)
			return 0;
		pthread_mutex_lock(&self->state_lock);
		if (!self->services)
			self->services = json_object_get(list);
		pthread_mutex_unlock(&self->state_lock);
	}
	for (size_t i = 0; i < json_object_array_length(list) && !found; i++)
		found = !strcmp(rest_member(json_object_array_get_idx(list, i), "name"), word);
	json_object_put(list);
	return found;
}

/*
 * POST [/SERVICE]/CUBE/restart: the broker's own action, which no model
 * has (requests.c sees it the same way: "restart" right after the cube).
 */
static int rest_is_restart(struct rest *self, const char *path)
{
	char copy[256], *segs[4], *save = NULL;
	int n = 0;

	if (strlen(path) >= sizeof(copy))
		return 0;
	strcpy(copy, path);
	for (char *s = strtok_r(copy, "/", &save); s; s = strtok_r(NULL, "/", &save)) {
		if (n == 3)
			return 0;
		segs[n++] = s;
	}
	if (n < 2 || strcmp(segs[n - 1], "restart"))
		return 0;
	return (n == 3) == rest_is_service(self, segs[0]);
}

/*
 * Whether a POST that succeeded made something (201) rather than ran an
 * action (200/204): the model says what the path is (HELP).
 */
static int rest_created(struct rest *self, const struct rest_alias *alias, const char *path)
{
	struct json_object *help = NULL, *kind;
	char *err, *out;
	int status = -1, created = 0;

	if (alias)
		return alias->creates;
	if (rest_is_restart(self, path))
		return 0;
	if (rest_call(self, CUBEBUS__VERB__HELP, path, NULL, 0, &status, &err, &out) == 0 && status == 0)
		help = json_tokener_parse(out);
	if (help && json_object_object_get_ex(help, "kind", &kind))
		created = strcmp(json_object_get_string(kind), "action") != 0;
	json_object_put(help);
	free(err);
	free(out);
	return created;
}

/*
 * The request body as the JSON text cubectl would send, in *text (NULL
 * when there is none). Returns 0 or -EINVAL with why in err.
 */
static int rest_body(struct rest_req *req, char **text, char *err, size_t errlen)
{
	struct json_tokener *tok;
	struct json_object *o = NULL;
	enum json_tokener_error jerr;
	size_t end;
	int r = -EINVAL;

	*text = NULL;
	if (!req->len || strspn(req->body, " \t\r\n") == req->len)
		return 0;
	tok = json_tokener_new();
	if (!tok) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	/* the terminating NUL ends a top-level number ("30" for a leaf) */
	o = json_tokener_parse_ex(tok, req->body, (int)req->len + 1);
	jerr = json_tokener_get_error(tok);
	end = json_tokener_get_parse_end(tok);
	if (!o || jerr != json_tokener_success) {
		snprintf(err, errlen, "the body is not JSON: %s",
			 jerr == json_tokener_continue ? "unexpected end of input" : json_tokener_error_desc(jerr));
		goto out;
	}
	if (end < req->len && strspn(req->body + end, " \t\r\n") != req->len - end) {
		snprintf(err, errlen, "the body is not JSON: trailing data after the JSON");
		goto out;
	}
	*text = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	r = *text ? 0 : -ENOMEM;
	if (r < 0)
		snprintf(err, errlen, "out of memory");
out:
	json_object_put(o);
	json_tokener_free(tok);
	return r;
}

/* ---- /polycube/v1/... ----------------------------------------------------- */

static enum MHD_Result rest_forward(struct rest *self, struct MHD_Connection *conn, const char *path,
				    const char *method, struct rest_req *req)
{
	const struct rest_method *m = rest_method_find(method);
	const struct rest_alias *alias = rest_alias_find(path);
	char allow[128], why[256];
	char *body = NULL, *err = NULL, *out = NULL;
	const char *force;
	enum MHD_Result ret;
	unsigned code;
	int status = 0, r;

	rest_allow(alias ? alias->methods : RM_ALL, allow, sizeof(allow));
	if (!m)
		return rest_error(conn, MHD_HTTP_METHOD_NOT_ALLOWED, allow, "method %s is not one of %s", method,
				  allow);
	if (alias && m->bit == RM_OPTIONS)
		return rest_send(conn, MHD_HTTP_NO_CONTENT, NULL, NULL, 0, allow);
	if (alias && !(alias->methods & m->bit))
		return rest_error(conn, MHD_HTTP_METHOD_NOT_ALLOWED, allow, "/%s takes %s, not %s", alias->word, allow,
				  method);
	r = rest_body(req, &body, why, sizeof(why));
	if (r < 0)
		return rest_error(conn, r == -EINVAL ? MHD_HTTP_BAD_REQUEST : MHD_HTTP_INTERNAL_SERVER_ERROR, NULL,
				  "%s", why);
	force = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "force");
	r = rest_call(self, m->verb, path, body,
		      force && (!strcmp(force, "true") || !strcmp(force, "1")) ? BUS_CALL_FORCE : 0, &status, &err,
		      &out);
	if (r < 0) {
		ret = rest_call_error(self, conn, r);
		goto out;
	}
	if (status < 0) {
		code = rest_http_status(status, m->verb);
		if (code == MHD_HTTP_METHOD_NOT_ALLOWED)
			rest_allow(RM_POST, allow, sizeof(allow)); /* the read of an action */
		ret = rest_error(conn, code, code == MHD_HTTP_METHOD_NOT_ALLOWED ? allow : NULL, "%s",
				 err[0] ? err : strerror(-status));
		goto out;
	}
	if (m->verb == CUBEBUS__VERB__CREATE && rest_created(self, alias, path))
		code = MHD_HTTP_CREATED;
	else
		code = out[0] ? MHD_HTTP_OK : MHD_HTTP_NO_CONTENT;
	ret = rest_send(conn, code, REST_JSON, out, strlen(out), m->bit == RM_OPTIONS ? allow : NULL);
out:
	free(body);
	free(err);
	free(out);
	return ret;
}

/* ---- /metrics ------------------------------------------------------------- */

/* A label value: backslash, double quote and newline escaped. */
static void rest_label(FILE *f, const char *name, const char *value, int more)
{
	fprintf(f, "%s=\"", name);
	for (const char *p = value; *p; p++) {
		if (*p == '\\' || *p == '"')
			fputc('\\', f);
		if (*p == '\n')
			fputs("\\n", f);
		else
			fputc(*p, f);
	}
	fprintf(f, "\"%s", more ? "," : "");
}

static void rest_metric_cubes(FILE *f, struct json_object *cubes)
{
	size_t n = json_object_array_length(cubes);

	fputs("# HELP cubebus_cube_up 1 when the cube's process runs\n# TYPE cubebus_cube_up gauge\n", f);
	for (size_t i = 0; i < n; i++) {
		struct json_object *c = json_object_array_get_idx(cubes, i);

		fputs("cubebus_cube_up{", f);
		rest_label(f, "cube", rest_member(c, "name"), 1);
		rest_label(f, "service", rest_member(c, "service"), 1);
		rest_label(f, "type", rest_member(c, "type"), 0);
		fprintf(f, "} %d\n", !strcmp(rest_member(c, "status"), "running"));
	}
	fputs("# HELP cubebus_cube_restarts_total Restarts of the cube's process\n"
	      "# TYPE cubebus_cube_restarts_total counter\n",
	      f);
	for (size_t i = 0; i < n; i++) {
		struct json_object *c = json_object_array_get_idx(cubes, i);

		fputs("cubebus_cube_restarts_total{", f);
		rest_label(f, "cube", rest_member(c, "name"), 1);
		rest_label(f, "service", rest_member(c, "service"), 1);
		rest_label(f, "type", rest_member(c, "type"), 0);
		fprintf(f, "} %s\n", rest_member(c, "restarts")[0] ? rest_member(c, "restarts") : "0");
	}
}

/* views: service name -> the array of its cubes as READ /<service> gives them */
static void rest_metric_ports(FILE *f, struct json_object *views)
{
	for (size_t m = 0; m < ARRAY_SIZE(rest_port_metrics); m++) {
		const struct rest_port_metric *pm = &rest_port_metrics[m];

		fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", pm->name, pm->help, pm->name, pm->type);
		json_object_object_foreach(views, service, cubes)
		{
			for (size_t i = 0; i < json_object_array_length(cubes); i++) {
				struct json_object *c = json_object_array_get_idx(cubes, i), *ports, *v;

				(void)service;
				if (!json_object_object_get_ex(c, "ports", &ports) ||
				    !json_object_is_type(ports, json_type_array))
					continue;
				for (size_t p = 0; p < json_object_array_length(ports); p++) {
					struct json_object *port = json_object_array_get_idx(ports, p);

					if (!json_object_object_get_ex(port, pm->member, &v))
						continue;
					fprintf(f, "%s{", pm->name);
					rest_label(f, "cube", rest_member(c, "name"), 1);
					rest_label(f, "port", rest_member(port, "name"), 0);
					if (json_object_is_type(v, json_type_string))
						fprintf(f, "} %d\n", !strcmp(json_object_get_string(v), "UP"));
					else
						fprintf(f, "} %lld\n", (long long)json_object_get_int64(v));
				}
			}
		}
	}
}

/*
 * Prometheus text from /cubes and, per service, READ /<service>: the cube
 * views of a service listing carry the ports' counters (the broker reads
 * them from the kernel) without a round trip to each cube process, so a
 * scrape costs one request per service and a stuck cube cannot stall it.
 */
static enum MHD_Result rest_metrics(struct rest *self, struct MHD_Connection *conn)
{
	struct json_object *cubes, *views = NULL;
	char *text = NULL, path[BK_NAME_MAX + 2];
	size_t len = 0;
	enum MHD_Result ret;
	FILE *f;
	int r;

	cubes = rest_read_array(self, "/cubes", &r);
	if (!cubes) {
		if (r == -EBADMSG || r == 0)
			return rest_error(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, NULL, "/cubes: not a JSON array");
		return rest_call_error(self, conn, r);
	}
	views = json_object_new_object();
	for (size_t i = 0; i < json_object_array_length(cubes); i++) {
		const char *service = rest_member(json_object_array_get_idx(cubes, i), "service");
		struct json_object *list;

		if (!service[0] || json_object_object_get_ex(views, service, NULL))
			continue;
		snprintf(path, sizeof(path), "/%s", service);
		list = rest_read_array(self, path, &r);
		if (!list) {
			bk_log(7, "rest: metrics: %s: %s", path, strerror(-r));
			list = json_object_new_array();
		}
		json_object_object_add(views, service, list);
	}
	f = open_memstream(&text, &len);
	if (!f) {
		ret = rest_error(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, NULL, "out of memory");
		goto out;
	}
	rest_metric_cubes(f, cubes);
	rest_metric_ports(f, views);
	if (fclose(f) != 0) {
		ret = rest_error(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, NULL, "out of memory");
		goto out;
	}
	ret = rest_send(conn, MHD_HTTP_OK, REST_PROMETHEUS, text, len, NULL);
out:
	free(text);
	json_object_put(views);
	json_object_put(cubes);
	return ret;
}

/* ---- libmicrohttpd callbacks ---------------------------------------------- */

static enum MHD_Result rest_serve(struct rest *self, struct MHD_Connection *conn, const char *url, const char *method,
				  struct rest_req *req)
{
	size_t plen = strlen(REST_PREFIX);
	char allow[64];

	if (!strcmp(url, "/metrics")) {
		if (strcmp(method, "GET") && strcmp(method, "HEAD")) {
			rest_allow(RM_GET, allow, sizeof(allow));
			return rest_error(conn, MHD_HTTP_METHOD_NOT_ALLOWED, allow, "/metrics takes GET");
		}
		return rest_metrics(self, conn);
	}
	if (strncmp(url, REST_PREFIX, plen) || (url[plen] && url[plen] != '/'))
		return rest_error(conn, MHD_HTTP_NOT_FOUND, NULL,
				  "no resource %s: requests go to " REST_PREFIX "/PATH (or /metrics)", url);
	return rest_forward(self, conn, url[plen] ? url + plen : "/", method, req);
}

static void rest_append(struct rest_req *req, const char *data, size_t n)
{
	char *nbody;

	if (req->too_large)
		return;
	if (req->len + n > REST_MAX_BODY) {
		/* read and dropped: the answer comes once the body has arrived */
		req->too_large = 1;
		free(req->body);
		req->body = NULL;
		req->len = 0;
		return;
	}
	nbody = realloc(req->body, req->len + n + 1);
	if (!nbody) {
		req->too_large = 1;
		return;
	}
	memcpy(nbody + req->len, data, n);
	req->len += n;
	nbody[req->len] = 0;
	req->body = nbody;
}

static enum MHD_Result rest_on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
				       const char *version, const char *upload_data, size_t *upload_data_size,
				       void **con_cls)
{
	struct rest *self = cls;
	struct rest_req *req = *con_cls;
	enum MHD_Result ret;
	const char *cl;

	if (!req) {
		/* the headers: refuse a body announced too large before it comes */
		req = calloc(1, sizeof(*req));
		if (!req)
			return MHD_NO;
		*con_cls = req;
		cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
		if (cl && strtoull(cl, NULL, 10) > REST_MAX_BODY) {
			req->too_large = 1;
			goto too_large;
		}
		return MHD_YES;
	}
	if (*upload_data_size) {
		rest_append(req, upload_data, *upload_data_size);
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (req->too_large)
		goto too_large;
	ret = rest_serve(self, conn, url, method, req);
	bk_log(7, "rest: %s %s", method, url);
	return ret;
too_large:
	return rest_error(conn, MHD_HTTP_CONTENT_TOO_LARGE, NULL, "the request body is larger than %d bytes",
			  REST_MAX_BODY);
}

static void rest_on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
			      enum MHD_RequestTerminationCode toe)
{
	struct rest_req *req = *con_cls;

	if (req)
		free(req->body);
	free(req);
	*con_cls = NULL;
}

/*
 * The path goes to the broker as it came: the broker decodes each
 * segment's %XX itself, so a '/' inside a key (a route's 10.0.3.0%2F24)
 * must reach it still escaped, as cubectl sends it.
 */
static size_t rest_unescape(void *cls, struct MHD_Connection *conn, char *s)
{
	return strlen(s);
}

/* libmicrohttpd's messages: what a client can trigger is debug. */
static void rest_mhd_log(void *cls, const char *fmt, va_list ap)
{
	struct rest *self = cls;
	char msg[256];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	msg[strcspn(msg, "\n")] = 0;
	if (pthread_equal(pthread_self(), self->starter))
		snprintf(self->start_error, sizeof(self->start_error), "%s", msg);
	bk_log(7, "rest: libmicrohttpd: %s", msg);
}

/* ---- start, stop ---------------------------------------------------------- */

/* Splits "ADDR:PORT" / "[ADDR6]:PORT" into host and port. */
static int rest_split(const char *addr, char *host, size_t hostlen, char *port, size_t portlen, char *err,
		      size_t errlen)
{
	const char *colon, *h = addr;
	size_t hl;
	char *end;
	long p;

	if (addr[0] == '[') {
		const char *close = strchr(addr, ']');

		if (!close || close[1] != ':')
			goto bad;
		h = addr + 1;
		hl = close - h;
		colon = close + 1;
	} else {
		colon = strrchr(addr, ':');
		if (!colon)
			goto bad;
		hl = colon - addr;
		if (memchr(addr, ':', hl))
			goto bad; /* an IPv6 address needs its brackets */
	}
	errno = 0;
	p = strtol(colon + 1, &end, 10);
	if (!hl || hl >= hostlen || errno || end == colon + 1 || *end || p <= 0 || p > 65535)
		goto bad;
	snprintf(host, hostlen, "%.*s", (int)hl, h);
	snprintf(port, portlen, "%ld", p);
	return 0;
bad:
	snprintf(err, errlen, "bad REST address '%s': give ADDR:PORT (127.0.0.1:9000, [::1]:9000) or off", addr);
	return -EINVAL;
}

int rest_check_listen(const char *addr, char *err, size_t errlen)
{
	char host[256], port[8];

	return rest_split(addr, host, sizeof(host), port, sizeof(port), err, errlen);
}

static int rest_is_loopback(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET)
		return (ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr) >> 24) == 127;
	if (sa->sa_family == AF_INET6) {
		const struct in6_addr *a = &((const struct sockaddr_in6 *)sa)->sin6_addr;

		return IN6_IS_ADDR_LOOPBACK(a) || (IN6_IS_ADDR_V4MAPPED(a) && a->s6_addr[12] == 127);
	}
	return 0;
}

/* A listening socket of our own: bind errors come with their errno. */
static int rest_listen_socket(const char *addr, int *fd_out, int *loopback, char *err, size_t errlen)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV | AI_PASSIVE }, *ai = NULL;
	char host[256], port[8];
	int fd = -1, one = 1, r;

	r = rest_split(addr, host, sizeof(host), port, sizeof(port), err, errlen);
	if (r < 0)
		return r;
	r = getaddrinfo(host, port, &hints, &ai);
	if (r != 0) {
		snprintf(err, errlen, "REST address %s: %s", addr, gai_strerror(r));
		return -EADDRNOTAVAIL;
	}
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		r = -errno;
		snprintf(err, errlen, "REST on %s: socket: %s", addr, strerror(-r));
		goto out;
	}
	/* a broker restarted at once finds its port in TIME_WAIT: take it */
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, 64) < 0) {
		r = -errno;
		snprintf(err, errlen, "cannot listen on %s for REST: %s", addr, strerror(-r));
		close(fd);
		goto out;
	}
	*loopback = rest_is_loopback(ai->ai_addr);
	*fd_out = fd;
	r = 0;
out:
	freeaddrinfo(ai);
	return r;
}

int rest_start(struct rest **out, const char *addr, const char *ctl_endpoint, char *err, size_t errlen)
{
	struct rest *self = NULL;
	sigset_t all, old;
	int fd = -1, loopback = 0, r;

	*out = NULL;
	r = rest_listen_socket(addr, &fd, &loopback, err, errlen);
	if (r < 0)
		return r;
	self = calloc(1, sizeof(*self));
	if (!self) {
		close(fd);
		snprintf(err, errlen, "REST: out of memory");
		return -ENOMEM;
	}
	snprintf(self->endpoint, sizeof(self->endpoint), "%s", ctl_endpoint);
	snprintf(self->url, sizeof(self->url), "http://%s", addr);
	pthread_mutex_init(&self->call_lock, NULL);
	pthread_mutex_init(&self->state_lock, NULL);
	self->starter = pthread_self();
	/* signals are the main loop's: the server's threads inherit this mask */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	self->mhd = MHD_start_daemon(
		MHD_USE_AUTO | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION | MHD_USE_ERROR_LOG, 0,
		NULL, NULL, rest_on_request, self, MHD_OPTION_EXTERNAL_LOGGER, rest_mhd_log, self,
		MHD_OPTION_LISTEN_SOCKET, fd, MHD_OPTION_CONNECTION_LIMIT, (unsigned)REST_MAX_CONNECTIONS,
		MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)REST_IDLE_TIMEOUT_S, MHD_OPTION_NOTIFY_COMPLETED,
		rest_on_completed, self, MHD_OPTION_UNESCAPE_CALLBACK, rest_unescape, self, MHD_OPTION_END);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (!self->mhd) {
		snprintf(err, errlen, "REST on %s: the HTTP server did not start: %s", addr,
			 self->start_error[0] ? self->start_error : "libmicrohttpd failed");
		close(fd);
		pthread_mutex_destroy(&self->call_lock);
		pthread_mutex_destroy(&self->state_lock);
		free(self);
		return -EIO;
	}
	if (!loopback)
		bk_log(4, "REST listens on %s, not loopback: whoever reaches it can change the network", addr);
	*out = self;
	return 0;
}

const char *rest_url(const struct rest *self)
{
	return self ? self->url : "";
}

void rest_stop(struct rest **pself)
{
	struct rest *self = pself ? *pself : NULL;
	int busy;

	if (!self)
		return;
	pthread_mutex_lock(&self->state_lock);
	self->stopping = 1;
	busy = self->calling;
	pthread_mutex_unlock(&self->state_lock);
	/* the broker's loop has stopped: a request waiting for its answer
	 * would wait its whole timeout; ending the context wakes it (-EINTR) */
	if (busy)
		zmq_ctx_shutdown(zsys_init());
	MHD_stop_daemon(self->mhd);
	json_object_put(self->services);
	pthread_mutex_destroy(&self->call_lock);
	pthread_mutex_destroy(&self->state_lock);
	free(self);
	*pself = NULL;
}
