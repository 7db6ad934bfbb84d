/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cubes.c - the life of cube processes: spawn, hello, configuration, reads
 * and actions over the cubes endpoint, death, restart with back-off, and
 * adoption of processes that outlived a broker.
 *
 * Exchanges with a cube are request/response with a sequence number. A
 * ctl request that needs a cube's answer waits in cubes_wait(), which keeps
 * serving the cubes endpoint (hellos, heartbeats) while it waits.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "broker.h"

#define CUBES_HELLO_TIMEOUT_MS 10000
#define CUBES_SILENT_MS	       3000
#define CUBES_MAX_FAILURES     5
#define CUBES_STABLE_MS	       5000

extern char **environ;

static int cubes_pid_alive(pid_t pid);

const char *cubes_state_name(enum bk_cube_state s)
{
	static const char *const names[] = { [BK_CUBE_STOPPED] = "stopped",
					     [BK_CUBE_STARTING] = "starting",
					     [BK_CUBE_CONFIGURING] = "configuring",
					     [BK_CUBE_RUNNING] = "running",
					     [BK_CUBE_FAILED] = "failed" };

	return s <= BK_CUBE_FAILED ? names[s] : "?";
}

static void cubes_pidfile(struct broker *b, struct bk_cube *c, char *buf, size_t size)
{
	snprintf(buf, size, "%s/cubes/%s.pid", b->run_dir, c->name);
}

static void cubes_write_pidfile(struct broker *b, struct bk_cube *c)
{
	char path[700];
	FILE *f;

	cubes_pidfile(b, c, path, sizeof(path));
	f = fopen(path, "we");
	if (f) {
		fprintf(f, "%d\n", c->pid);
		fclose(f);
	}
}

int cubes_spawn(struct broker *b, struct bk_cube *c, char *err, size_t errlen)
{
	char bin[700], id[16], gen[16], level[16];
	posix_spawnattr_t attr;
	pid_t pid;
	int r;

	snprintf(bin, sizeof(bin), "%s/cube-%s", b->bin_dir, c->service);
	if (access(bin, X_OK) < 0) {
		snprintf(err, errlen, "service %s has no program %s", c->service, bin);
		return -ENOENT;
	}
	snprintf(id, sizeof(id), "%d", c->id);
	c->generation++;
	snprintf(gen, sizeof(gen), "%u", c->generation);
	/* the fast path is built for its log level: loaded once, not twice */
	snprintf(level, sizeof(level), "%s",
		 schema_cfg_get(c->config, "loglevel") ? schema_cfg_get(c->config, "loglevel") : "INFO");
	char *argv[] = { bin,	   "--name",	   c->name, "--id",	  id,	       "--type",
			 c->type,  "--generation", gen,	    "--run-dir",  b->run_dir,  "--bpffs",
			 b->bpffs, "--loglevel",   level,   "--yang-dir", b->yang_dir, b->debug ? "-d" : NULL,
			 NULL };

	posix_spawnattr_init(&attr);
	/* its own session: a terminal's Ctrl-C to the broker spares the cubes */
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGMASK);
	{
		sigset_t none;

		sigemptyset(&none);
		posix_spawnattr_setsigmask(&attr, &none);
	}
	r = posix_spawn(&pid, bin, NULL, &attr, argv, environ);
	posix_spawnattr_destroy(&attr);
	if (r) {
		snprintf(err, errlen, "cannot start %s: %s", bin, strerror(r));
		return -r;
	}
	c->pid = pid;
	c->child = 1;
	c->external = 0;
	c->state = BK_CUBE_STARTING;
	c->started_ms = c->last_seen_ms = bk_now_ms();
	c->exit_reason[0] = 0;
	c->restart_at_ms = 0;
	cubes_write_pidfile(b, c);
	bk_log(6, "started cube-%s for %s (pid %d, generation %u)", c->service, c->name, pid, c->generation);
	return 0;
}

static int cubes_send(struct broker *b, struct bk_cube *c, Cubebus__CubeMsg *m)
{
	zframe_t *f;

	m->version = BUS_VERSION;
	m->cube = c->name;
	m->generation = c->generation;
	f = bus_encode_cube(m);
	if (!f)
		return -EMSGSIZE;
	if (!c->ident[0] || zsock_send(b->cubes, "sf", c->ident, f) < 0) {
		zframe_destroy(&f);
		return -EHOSTUNREACH;
	}
	zframe_destroy(&f);
	return 0;
}

static char *cubes_config_body(struct bk_cube *c)
{
	struct json_object *o = json_object_new_object(), *ports = json_object_new_array();
	char *s;

	json_object_object_add(o, "config", schema_cfg_json(c->config, 0));
	for (int i = 0; i < CB_MAX_PORTS; i++) {
		struct json_object *p;

		if (!c->ports[i].used)
			continue;
		p = json_object_new_object();
		json_object_object_add(p, "name", json_object_new_string(c->ports[i].name));
		json_object_object_add(p, "index", json_object_new_int(i));
		json_object_object_add(p, "peer", json_object_new_string(c->ports[i].peer));
		json_object_array_add(ports, p);
	}
	json_object_object_add(o, "ports", ports);
	s = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	json_object_put(o);
	return s;
}

static int cubes_send_config(struct broker *b, struct bk_cube *c)
{
	Cubebus__CubeMsg m = CUBEBUS__CUBE_MSG__INIT;
	char *body = cubes_config_body(c);
	int r;

	if (!body)
		return -ENOMEM;
	m.kind = CUBEBUS__CUBE_MSG__KIND__CONFIG;
	m.seq = ++b->next_seq;
	m.body = body;
	c->wait_seq = m.seq;
	c->reply_ready = 0;
	r = cubes_send(b, c, &m);
	free(body);
	return r;
}

static void cubes_simple(struct broker *b, const char *identity, int kind)
{
	Cubebus__CubeMsg m = CUBEBUS__CUBE_MSG__INIT;
	zframe_t *f;

	m.version = BUS_VERSION;
	m.kind = kind;
	m.cube = (char *)identity;
	f = bus_encode_cube(&m);
	if (f && zsock_send(b->cubes, "sf", identity, f) < 0)
		bk_log(7, "cannot reach %s", identity);
	zframe_destroy(&f);
}

/*
 * Whether the cube's process was started by someone else's supervisor: it
 * came with only its name (WHOAMI). One a broker spawned (maybe an earlier
 * broker) has --id on its command line.
 */
static int cubes_external(struct bk_cube *c)
{
	return c->external;
}

static void cubes_died(struct broker *b, struct bk_cube *c, const char *why)
{
	uint64_t now = bk_now_ms();
	int was_running = c->state == BK_CUBE_RUNNING, external = !c->child && cubes_external(c);

	snprintf(c->exit_reason, sizeof(c->exit_reason), "%s", why);
	c->pid = 0;
	c->child = 0;
	c->ident[0] = 0;
	if (now - c->started_ms > CUBES_STABLE_MS)
		c->failures = 0;
	c->failures++;
	c->reply_ready = 1; /* wake a waiter */
	c->reply_status = -ECHILD;
	snprintf(c->reply_error, sizeof(c->reply_error), "cube-%s for %s %s", c->service, c->name, why);
	if (c->failures > CUBES_MAX_FAILURES) {
		c->state = BK_CUBE_FAILED;
		bk_log(3, "%s: %s; failed %u times in a row, left stopped", c->name, why, c->failures);
		bk_event(b, c->name, "failed", why);
		return;
	}
	c->state = BK_CUBE_STOPPED;
	/* back-off: 0, 100, 200, 400, 800 ms; a process someone else started
	 * is first left to its own supervisor for 3 s */
	c->restart_at_ms = now + (c->failures > 1 ? 100u << (c->failures - 2) : 0) + (external ? 3000 : 0);
	bk_log(was_running ? 4 : 6, "%s: %s; restarting", c->name, why);
	bk_event(b, c->name, "down", why);
}

static void cubes_reap(struct broker *b)
{
	int st;
	pid_t pid;

	while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
		char why[96];

		if (WIFSIGNALED(st))
			snprintf(why, sizeof(why), "was killed by signal %d", WTERMSIG(st));
		else
			snprintf(why, sizeof(why), "exited with status %d", WEXITSTATUS(st));
		for (int id = 1; id < CB_MAX_CUBES; id++) {
			struct bk_cube *c = &b->cubes_tab[id];

			if (c->used && c->pid == pid && c->child)
				cubes_died(b, c, why);
		}
	}
}

/* The count is the database's too, so that `cubectl cubes` shows it after a
 * broker restart. */
static void cubes_store_restarts(struct broker *b, struct bk_cube *c)
{
	if (store_cube_set_restarts(b->store, c->name, c->restarts) < 0)
		bk_log(4, "%s: database: cannot store its restart count: %s", c->name, store_errmsg(b->store));
}

void cubes_tick(struct broker *b)
{
	uint64_t now = bk_now_ms();
	char err[BK_ERR_MAX];

	cubes_reap(b);
	for (int id = 1; id < CB_MAX_CUBES; id++) {
		struct bk_cube *c = &b->cubes_tab[id];

		if (!c->used || c->deleting)
			continue;
		if (c->state == BK_CUBE_STOPPED && c->restart_at_ms && now >= c->restart_at_ms) {
			c->restarts++;
			cubes_store_restarts(b, c);
			if (cubes_spawn(b, c, err, sizeof(err)) < 0) {
				bk_log(3, "%s: %s", c->name, err);
				c->state = BK_CUBE_FAILED;
				bk_event(b, c->name, "failed", err);
			}
			continue;
		}
		/* adopted processes are not our children: no SIGCHLD, so look */
		if (c->pid && !c->child && !cubes_pid_alive(c->pid))
			cubes_died(b, c, "disappeared");
		else if ((c->state == BK_CUBE_STARTING || c->state == BK_CUBE_CONFIGURING) &&
			 now - c->started_ms > CUBES_HELLO_TIMEOUT_MS && c->pid) {
			bk_log(4, "%s: no hello from pid %d, killing it", c->name, c->pid);
			kill(c->pid, SIGKILL);
			if (!c->child)
				cubes_died(b, c, "never said hello");
		}
	}
}

/* Alive and not a zombie (an adopted process that died is nobody's child
 * to reap when the init of a container does not reap orphans). */
static int cubes_pid_alive(pid_t pid)
{
	char path[64], buf[256], *p;
	ssize_t n;
	int fd;

	if (pid <= 0 || kill(pid, 0) < 0)
		return 0;
	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = 0;
	p = strrchr(buf, ')'); /* "pid (comm) S ..." */
	return !(p && p[1] == ' ' && (p[2] == 'Z' || p[2] == 'X'));
}

static void cubes_on_hello(struct broker *b, struct bk_cube *c, const char *ident, Cubebus__CubeMsg *m)
{
	char err[BK_ERR_MAX];

	if (strcmp(m->service, c->service)) {
		bk_log(4, "%s: refusing a %s process (pid %u) for a %s cube", c->name, m->service, m->pid, c->service);
		cubes_simple(b, ident, CUBEBUS__CUBE_MSG__KIND__STOP);
		return;
	}
	if (c->pid != (pid_t)m->pid && cubes_pid_alive(c->pid)) {
		/* one process per cube: the one we have stays, the other goes */
		const char *why =
			m->generation < c->generation ? "a stale process of an older generation" : "a second process";

		bk_log(4, "%s: refusing %s (pid %u, generation %u); pid %d (generation %u) runs it", c->name, why,
		       m->pid, m->generation, c->pid, c->generation);
		bk_event(b, c->name, "refused", why);
		cubes_simple(b, ident, CUBEBUS__CUBE_MSG__KIND__STOP);
		return;
	}
	if (c->pid != (pid_t)m->pid) {
		/* a process we did not start (operator's supervisor, or a broker before us) */
		c->pid = m->pid;
		c->child = 0;
		cubes_write_pidfile(b, c);
		bk_log(6, "%s: adopted pid %u", c->name, m->pid);
	}
	snprintf(c->ident, sizeof(c->ident), "%s", ident);
	if (m->generation > c->generation)
		c->generation = m->generation;
	c->prog_id = m->prog_id;
	c->last_seen_ms = bk_now_ms();
	c->state = BK_CUBE_CONFIGURING;
	if (cubes_send_config(b, c) < 0)
		bk_log(4, "%s: cannot send its configuration", c->name);
	/* a new program is in the slot: rewire the peers' next hops to it */
	if (topo_sync(b, err, sizeof(err)) < 0)
		bk_log(4, "%s: %s", c->name, err);
}

/* A process started by someone else with only the cube's name. */
static void cubes_on_whoami(struct broker *b, struct bk_cube *c, const char *ident, Cubebus__CubeMsg *m)
{
	Cubebus__CubeMsg r = CUBEBUS__CUBE_MSG__INIT;
	char body[256];
	zframe_t *f;

	r.version = BUS_VERSION;
	r.cube = c->name;
	if (strcmp(m->service, c->service) || (c->pid != (pid_t)m->pid && cubes_pid_alive(c->pid))) {
		snprintf(body, sizeof(body), "%s",
			 strcmp(m->service, c->service) ? "cube of another service" : "another process runs this cube");
		r.kind = CUBEBUS__CUBE_MSG__KIND__STOP;
		r.error = body;
		bk_log(4, "%s: refusing pid %u: %s", c->name, m->pid, body);
	} else {
		/* a new generation: an older process that comes back is stale */
		c->generation++;
		c->external = 1;

		snprintf(body, sizeof(body),
			 "{\"id\":%d,\"type\":\"%s\",\"service\":\"%s\",\"generation\":%u,\"loglevel\":\"%s\"}", c->id,
			 c->type, c->service, c->generation,
			 schema_cfg_get(c->config, "loglevel") ? schema_cfg_get(c->config, "loglevel") : "INFO");
		r.kind = CUBEBUS__CUBE_MSG__KIND__WHOAMI;
		r.body = body;
		r.generation = c->generation;
	}
	f = bus_encode_cube(&r);
	if (f && zsock_send(b->cubes, "sf", ident, f) < 0)
		bk_log(7, "cannot reach %s", ident);
	zframe_destroy(&f);
}

static void cubes_on_result(struct broker *b, struct bk_cube *c, Cubebus__CubeMsg *m)
{
	if (m->seq != c->wait_seq)
		return; /* late answer to something we gave up on */
	c->reply_ready = 1;
	c->reply_status = m->status;
	snprintf(c->reply_error, sizeof(c->reply_error), "%s", m->error);
	free(c->reply_body);
	c->reply_body = strdup(m->body);
	free(c->reply_diff);
	c->reply_diff = m->diff && m->diff[0] ? strdup(m->diff) : NULL;
	if (c->state == BK_CUBE_CONFIGURING) {
		if (m->status == 0) {
			c->state = BK_CUBE_RUNNING;
			bk_log(6, "%s: running (pid %d)", c->name, c->pid);
			bk_event(b, c->name, "up", NULL);
		} else {
			bk_log(3, "%s: its configuration failed: %s", c->name, m->error);
			/* keep it: the data plane runs; a later change may fix it */
			c->state = BK_CUBE_RUNNING;
		}
	}
}

int cubes_on_message(zloop_t *loop, zsock_t *sock, void *arg)
{
	struct broker *b = arg;
	char *identity = NULL, name[BK_NAME_MAX];
	zframe_t *f = NULL;
	Cubebus__CubeMsg *m = NULL;
	struct bk_cube *c;

	if (zsock_recv(sock, "sf", &identity, &f) < 0 || !identity || !f) {
		b->bad_messages++;
		goto out;
	}
	if (bus_decode_cube(f, &m) < 0) {
		static uint64_t last_ms, quiet;

		/* a peer can send junk at any rate: log at most once a second */
		b->bad_messages++;
		if (bk_now_ms() - last_ms >= 1000) {
			bk_log(4,
			       "dropped a malformed message from %.64s (%llu dropped since the last report, %llu in "
			       "all)",
			       identity, (unsigned long long)quiet + 1, (unsigned long long)b->bad_messages);
			last_ms = bk_now_ms();
			quiet = 0;
		} else {
			quiet++;
		}
		goto out;
	}
	/* identity is "name#pid" */
	snprintf(name, sizeof(name), "%.*s", (int)strcspn(identity, "#"), identity);
	c = topo_cube(b, name);
	if (!c || c->deleting) {
		if (m->kind == CUBEBUS__CUBE_MSG__KIND__HELLO || m->kind == CUBEBUS__CUBE_MSG__KIND__HEARTBEAT)
			cubes_simple(b, identity, CUBEBUS__CUBE_MSG__KIND__STOP);
		goto out;
	}
	if (m->kind == CUBEBUS__CUBE_MSG__KIND__HELLO) {
		cubes_on_hello(b, c, identity, m);
		goto out;
	}
	if (m->kind == CUBEBUS__CUBE_MSG__KIND__WHOAMI) {
		cubes_on_whoami(b, c, identity, m);
		goto out;
	}
	if (strcmp(identity, c->ident)) {
		/* not the process we talk to: a cube that outlived a broker says hello
		 * again; a duplicate is told to stop */
		if (m->kind == CUBEBUS__CUBE_MSG__KIND__HEARTBEAT)
			cubes_simple(b, identity,
				     (c->pid == (pid_t)m->pid || !cubes_pid_alive(c->pid))
					     ? CUBEBUS__CUBE_MSG__KIND__REHELLO
					     : CUBEBUS__CUBE_MSG__KIND__STOP);
		goto out;
	}
	switch (m->kind) {
	case CUBEBUS__CUBE_MSG__KIND__HEARTBEAT:
		c->last_seen_ms = bk_now_ms();
		if (c->state == BK_CUBE_STOPPED || c->state == BK_CUBE_FAILED || c->state == BK_CUBE_STARTING)
			cubes_simple(b, identity, CUBEBUS__CUBE_MSG__KIND__REHELLO);
		break;
	case CUBEBUS__CUBE_MSG__KIND__RESULT: cubes_on_result(b, c, m); break;
	case CUBEBUS__CUBE_MSG__KIND__EVENT: bk_event(b, c->name, m->topic, m->body); break;
	default: b->bad_messages++; break;
	}
out:
	if (m)
		cubebus__cube_msg__free_unpacked(m, NULL);
	zframe_destroy(&f);
	free(identity);
	return 0;
}

/* Serves the cubes endpoint until done(c) or timeout. */
static int cubes_wait(struct broker *b, struct bk_cube *c, int (*done)(struct bk_cube *c), int timeout_ms)
{
	zpoller_t *p = zpoller_new(b->cubes, NULL);
	uint64_t end = bk_now_ms() + timeout_ms;
	int r = -ETIMEDOUT;

	while (bk_now_ms() < end) {
		if (done(c)) {
			r = 0;
			break;
		}
		if (zpoller_wait(p, 20))
			cubes_on_message(NULL, b->cubes, b);
		else if (zpoller_terminated(p)) {
			r = -EINTR;
			break;
		}
		cubes_reap(b);
	}
	if (r == -ETIMEDOUT && done(c))
		r = 0;
	zpoller_destroy(&p);
	return r;
}

static int cubes_done_running(struct bk_cube *c)
{
	return c->state == BK_CUBE_RUNNING || c->state == BK_CUBE_FAILED || c->state == BK_CUBE_STOPPED;
}

int cubes_wait_running(struct broker *b, struct bk_cube *c, int timeout_ms, char *err, size_t errlen)
{
	int r = cubes_wait(b, c, cubes_done_running, timeout_ms);

	if (r == 0 && c->state == BK_CUBE_RUNNING) {
		if (c->reply_ready && c->reply_status) {
			snprintf(err, errlen, "%s", c->reply_error);
			return c->reply_status;
		}
		return 0;
	}
	if (c->state == BK_CUBE_STOPPED || c->state == BK_CUBE_FAILED)
		snprintf(err, errlen, "cube-%s for %s %s", c->service, c->name,
			 c->exit_reason[0] ? c->exit_reason : "stopped");
	else
		snprintf(err, errlen, "cube-%s for %s did not say hello within %d ms", c->service, c->name, timeout_ms);
	return r < 0 ? r : -ECHILD;
}

static int cubes_done_reply(struct bk_cube *c)
{
	return c->reply_ready;
}

static int cubes_exchange(struct broker *b, struct bk_cube *c, Cubebus__CubeMsg *m, char **body, char *err,
			  size_t errlen)
{
	int r;

	if (c->state != BK_CUBE_RUNNING && c->state != BK_CUBE_CONFIGURING) {
		snprintf(err, errlen, "cube %s is %s", c->name, cubes_state_name(c->state));
		return -EAGAIN;
	}
	m->seq = ++b->next_seq;
	c->wait_seq = m->seq;
	c->reply_ready = 0;
	r = cubes_send(b, c, m);
	if (r == -EMSGSIZE) {
		snprintf(err, errlen, "%s: the message is larger than the bus carries (%d bytes)", c->name,
			 BUS_MAX_MSG);
		return r;
	}
	if (r < 0) {
		snprintf(err, errlen, "cube %s is not connected", c->name);
		return r;
	}
	r = cubes_wait(b, c, cubes_done_reply, 5000);
	if (r < 0) {
		snprintf(err, errlen, "cube %s did not answer within 5 s", c->name);
		return r;
	}
	if (c->reply_status) {
		snprintf(err, errlen, "%s: %s", c->name, c->reply_error);
		return c->reply_status;
	}
	if (body) {
		*body = c->reply_body;
		c->reply_body = NULL;
	}
	return 0;
}

int cubes_configure(struct broker *b, struct bk_cube *c, char *err, size_t errlen)
{
	Cubebus__CubeMsg m = CUBEBUS__CUBE_MSG__INIT;
	char *body = cubes_config_body(c);
	int r;

	if (!body)
		return -ENOMEM;
	if (c->state != BK_CUBE_RUNNING) {
		/* it gets the whole configuration when it says hello */
		free(body);
		return 0;
	}
	m.kind = CUBEBUS__CUBE_MSG__KIND__CONFIG;
	m.body = body;
	r = cubes_exchange(b, c, &m, NULL, err, errlen);
	free(body);
	return r;
}

int cubes_change(struct broker *b, struct bk_cube *c, const char *diff, char *err, size_t errlen)
{
	Cubebus__CubeMsg m = CUBEBUS__CUBE_MSG__INIT;
	struct json_object *o;
	int r;

	if (c->state != BK_CUBE_RUNNING)
		return 0; /* it gets the whole configuration when it says hello */
	o = json_object_new_object();
	json_object_object_add(o, "diff", json_tokener_parse(diff));
	m.kind = CUBEBUS__CUBE_MSG__KIND__CHANGE;
	m.body = (char *)json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	r = cubes_exchange(b, c, &m, NULL, err, errlen);
	json_object_put(o);
	/* a process that has no configuration to change, or does not know the
	 * message (an older binary): the whole configuration */
	if (r == -ESTALE || r == -EPROTO || r == -EOPNOTSUPP)
		r = cubes_configure(b, c, err, errlen);
	return r;
}

int cubes_read(struct broker *b, struct bk_cube *c, struct json_object **state, char *err, size_t errlen)
{
	Cubebus__CubeMsg m = CUBEBUS__CUBE_MSG__INIT;
	char *body = NULL;
	int r;

	m.kind = CUBEBUS__CUBE_MSG__KIND__READ;
	m.path = "";
	r = cubes_exchange(b, c, &m, &body, err, errlen);
	if (r == 0) {
		*state = body && *body ? json_tokener_parse(body) : json_object_new_object();
		if (!*state) {
			snprintf(err, errlen, "cube %s answered a read with invalid JSON", c->name);
			r = -EBADMSG;
		}
	}
	free(body);
	return r;
}

int cubes_action(struct broker *b, struct bk_cube *c, const char *path, const char *body, char **result, char **diff,
		 char *err, size_t errlen)
{
	Cubebus__CubeMsg m = CUBEBUS__CUBE_MSG__INIT;
	int r;

	m.kind = CUBEBUS__CUBE_MSG__KIND__ACTION;
	m.path = (char *)path;
	m.body = (char *)(body ? body : "");
	r = cubes_exchange(b, c, &m, result, err, errlen);
	*diff = NULL;
	if (r == 0) {
		*diff = c->reply_diff;
		c->reply_diff = NULL;
	}
	return r;
}

void cubes_stop(struct broker *b, struct bk_cube *c)
{
	char path[700];
	pid_t pid = c->pid;

	c->restart_at_ms = 0;
	if (pid > 0) {
		if (c->ident[0])
			cubes_simple(b, c->ident, CUBEBUS__CUBE_MSG__KIND__STOP);
		kill(pid, SIGTERM);
		for (int i = 0; i < 100; i++) {
			if (c->child ? waitpid(pid, NULL, WNOHANG) == pid : !cubes_pid_alive(pid))
				break;
			usleep(10000);
			if (i == 99) {
				kill(pid, SIGKILL);
				if (c->child)
					waitpid(pid, NULL, 0);
			}
		}
	}
	c->pid = 0;
	c->child = 0;
	c->ident[0] = 0;
	c->state = BK_CUBE_STOPPED;
	cubes_pidfile(b, c, path, sizeof(path));
	unlink(path);
}

/* The pid in the cube's pid file if it is still that cube's process. */
static pid_t cubes_live_pid(struct broker *b, struct bk_cube *c)
{
	char path[700], cmd[4096], want[128];
	pid_t pid = 0;
	ssize_t n;
	FILE *f;
	int fd;

	cubes_pidfile(b, c, path, sizeof(path));
	f = fopen(path, "re");
	if (!f)
		return 0;
	if (fscanf(f, "%d", &pid) != 1)
		pid = 0;
	fclose(f);
	if (pid <= 0 || kill(pid, 0) < 0)
		return 0;
	snprintf(path, sizeof(path), "/proc/%d/cmdline", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, cmd, sizeof(cmd) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	cmd[n] = 0;
	snprintf(want, sizeof(want), "cube-%s", c->service);
	if (!strstr(cmd, want))
		return 0;
	for (ssize_t i = 0; i + 1 < n; i++) /* argv is NUL separated */
		if (!strcmp(cmd + i, "--name") && i + 7 < n && !strcmp(cmd + i + 7, c->name))
			return pid;
	return 0;
}

void cubes_restore(struct broker *b)
{
	char err[BK_ERR_MAX];

	for (int id = 1; id < CB_MAX_CUBES; id++) {
		struct bk_cube *c = &b->cubes_tab[id];
		pid_t pid;

		if (!c->used)
			continue;
		pid = cubes_live_pid(b, c);
		if (pid) {
			/* it keeps forwarding; it will say hello when it hears us */
			c->pid = pid;
			c->child = 0;
			c->state = BK_CUBE_STARTING;
			c->started_ms = c->last_seen_ms = bk_now_ms();
			bk_log(6, "%s: adopting running process %d", c->name, pid);
			continue;
		}
		/* its process is gone: give an outside supervisor a second to
		 * bring its own back (it would be adopted), then start one */
		c->state = BK_CUBE_STOPPED;
		c->restart_at_ms = bk_now_ms() + 1000;
		(void)err;
	}
}
