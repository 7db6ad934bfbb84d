/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cubebusd - the broker: one per host (or per --run-dir). Owns the topology
 * database, the pinned shared maps, netdev attachments and the life of the
 * cube processes. One zloop: the ctl endpoint, the cubes endpoint and a
 * 100 ms timer for supervision.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <linux/if_link.h>
#include <net/if.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "broker.h"
#include "rest.h"

static int bk_debug;
static volatile sig_atomic_t bk_stop;

uint64_t bk_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void bk_log(int level, const char *fmt, ...)
{
	static const char *const names[] = { "emerg", "alert", "crit", "error", "warn", "notice", "info", "debug" };
	va_list ap;

	if (level >= 7 && !bk_debug)
		return;
	fprintf(stderr, "cubebusd %s: ", names[level & 7]);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void bk_uuid(char *buf, size_t size)
{
	int fd = open("/proc/sys/kernel/random/uuid", O_RDONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? read(fd, buf, size - 1) : -1;

	if (fd >= 0)
		close(fd);
	if (n < 36) {
		snprintf(buf, size, "00000000-0000-4000-8000-%012llx", (unsigned long long)bk_now_ms());
		return;
	}
	buf[36] = 0;
}

static struct broker *bk_self;

void bk_event(struct broker *b, const char *cube, const char *kind, const char *body)
{
	Cubebus__Event ev = CUBEBUS__EVENT__INIT;
	char topic[256];
	struct timespec ts;
	zframe_t *f;

	if (!b->events)
		return;
	snprintf(topic, sizeof(topic), "event.%s.%s", cube, kind);
	clock_gettime(CLOCK_REALTIME, &ts);
	ev.version = BUS_VERSION;
	ev.topic = topic;
	ev.cube = (char *)cube;
	ev.kind = (char *)kind;
	ev.body = (char *)(body ? body : "");
	ev.time_ns = (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
	f = bus_encode_event(&ev);
	if (!f)
		return;
	/* XPUB drops for slow subscribers at the high-water mark: never blocks */
	zsock_send(b->events, "sf", topic, f);
	zframe_destroy(&f);
}

static int bk_mkdir_p(const char *path, mode_t mode)
{
	char tmp[600];

	snprintf(tmp, sizeof(tmp), "%s", path);
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = 0;
		if (mkdir(tmp, 0755) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(tmp, mode) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

/* Finds the cube binaries and YANG models: next to us (build tree) or in the prefix. */
static void bk_find_paths(struct broker *b)
{
	char exe[512], tmp[600];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	struct stat st;

	if (n <= 0) {
		snprintf(b->bin_dir, sizeof(b->bin_dir), "/usr/local/bin");
	} else {
		exe[n] = 0;
		snprintf(b->bin_dir, sizeof(b->bin_dir), "%s", dirname(exe));
	}
	if (b->yang_dir[0])
		return;
	snprintf(tmp, sizeof(tmp), "%s/../share/cubebus/yang", b->bin_dir);
	if (stat(tmp, &st) == 0)
		snprintf(b->yang_dir, sizeof(b->yang_dir), "%s", tmp);
	else
		snprintf(b->yang_dir, sizeof(b->yang_dir), "/usr/local/share/cubebus/yang");
}

static int bk_lock(struct broker *b)
{
	char path[600];
	char pid[32];
	int fd;

	snprintf(path, sizeof(path), "%s/cubebusd.lock", b->run_dir);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		bk_log(3, "cannot open %s: %s", path, strerror(errno));
		return -errno;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		ssize_t n = read(fd, pid, sizeof(pid) - 1);

		pid[n > 0 ? n : 0] = 0;
		pid[strcspn(pid, "\n")] = 0;
		bk_log(3, "another cubebusd (pid %s) is running on %s; refusing to start", pid[0] ? pid : "?",
		       b->run_dir);
		close(fd);
		return -EBUSY;
	}
	if (ftruncate(fd, 0) == 0) {
		int len = snprintf(pid, sizeof(pid), "%d\n", getpid());

		if (pwrite(fd, pid, len, 0) != len)
			bk_log(4, "cannot write the lock file");
	}
	b->lock_fd = fd;
	return 0;
}

struct bk_journal {
	struct broker *b;
	struct bk_cube *c;
	int n, bad;
};

static int bk_apply_change(const char *diff, void *arg)
{
	struct bk_journal *j = arg;
	char err[BK_ERR_MAX];

	if (j->bad)
		return 0;
	if (schema_apply_diff(j->b, &j->c->config, diff, err, sizeof(err)) < 0) {
		bk_log(3, "database: %s: change %d of its journal does not apply (%s); it starts with the %d before",
		       j->c->name, j->n + 1, err, j->n);
		j->bad = 1;
		return 0;
	}
	j->n++;
	return 0;
}

/*
 * A cube's configuration is its stored config with its journal applied in
 * order; then canonical (what is looked up by key text is stored in
 * canonical form), and written whole, which clears the journal.
 */
static void bk_load_journal(struct broker *b, struct bk_cube *c)
{
	struct bk_journal j = { .b = b, .c = c };
	char err[BK_ERR_MAX];

	if (store_change_list(b->store, c->name, bk_apply_change, &j) < 0)
		bk_log(3, "database: cannot read the journal of %s: %s", c->name, store_errmsg(b->store));
	if (j.n && schema_validate(b, c->service, &c->config, err, sizeof(err)) < 0)
		bk_log(3, "database: %s: its configuration with its journal is not valid (%s)", c->name, err);
	if (j.n) {
		struct store_cube sc = { 0 };

		if (store_cube_get(b->store, c->name, &sc) == 0) {
			free(sc.config);
			sc.config = schema_cfg_text(c->config);
			if (!sc.config || store_cube_update(b->store, &sc) < 0)
				bk_log(4, "database: cannot write the configuration of %s whole: %s", c->name,
				       store_errmsg(b->store));
			store_cube_clear(&sc);
		}
	}
}

static int bk_load_cube(const struct store_cube *sc, void *arg)
{
	struct broker *b = arg;
	struct bk_cube *c;

	if (sc->id <= 0 || sc->id >= CB_MAX_CUBES)
		return 0;
	c = &b->cubes_tab[sc->id];
	memset(c, 0, sizeof(*c));
	c->used = 1;
	c->id = sc->id;
	snprintf(c->name, sizeof(c->name), "%s", sc->name);
	snprintf(c->service, sizeof(c->service), "%s", sc->service);
	snprintf(c->type, sizeof(c->type), "%s", sc->type);
	snprintf(c->uuid, sizeof(c->uuid), "%s", sc->uuid);
	c->xdp = strcmp(c->type, "TC") != 0;
	c->generation = sc->generation;
	c->restarts = sc->restarts;
	if (b->yang && schema_has_service(b, c->service)) {
		char err[BK_ERR_MAX];

		if (schema_cfg_load(b, c->service, sc->config, &c->config, err, sizeof(err)) < 0) {
			bk_log(3, "database: the configuration of %s does not load (%s); starting it empty", sc->name,
			       err);
			if (schema_cfg_new(b, c->service, sc->name, NULL, &c->config, err, sizeof(err)) < 0)
				bk_log(3, "%s: %s", sc->name, err);
		}
		bk_load_journal(b, c);
		c->transparent = schema_is_transparent(b, c->service);
	} else {
		c->config_text = strdup(sc->config ? sc->config : "{}");
	}
	if (c->transparent) { /* its two ports, as messages name them */
		snprintf(c->ports[0].name, sizeof(c->ports[0].name), "inner");
		snprintf(c->ports[1].name, sizeof(c->ports[1].name), "outer");
	}
	return 0;
}

static int bk_load_attach(const struct store_attach *a, void *arg)
{
	struct bk_cube *t = topo_cube(arg, a->tcube);

	if (!t)
		return 0;
	snprintf(t->att_cube, sizeof(t->att_cube), "%s", a->cube);
	snprintf(t->att_port, sizeof(t->att_port), "%s", a->port);
	t->att_pos = a->pos;
	return 0;
}

static int bk_load_port(const struct store_port *sp, void *arg)
{
	struct broker *b = arg;
	struct bk_cube *c = topo_cube(b, sp->cube);
	struct bk_port *p;

	if (!c || sp->index < 0 || sp->index >= CB_MAX_PORTS)
		return 0;
	p = &c->ports[sp->index];
	p->used = 1;
	snprintf(p->name, sizeof(p->name), "%s", sp->name);
	snprintf(p->uuid, sizeof(p->uuid), "%s", sp->uuid);
	snprintf(p->peer, sizeof(p->peer), "%s", sp->peer);
	return 0;
}

static int bk_restore(struct broker *b)
{
	char err[BK_ERR_MAX];
	int n = 0, r;

	r = store_cube_list(b->store, bk_load_cube, b);
	if (r == 0)
		r = store_port_list(b->store, NULL, bk_load_port, b);
	if (r == 0)
		r = store_attach_list(b->store, bk_load_attach, b);
	if (r < 0) {
		bk_log(3, "database: cannot read the topology: %s", store_errmsg(b->store));
		return r;
	}
	for (int id = 1; id < CB_MAX_CUBES; id++) {
		struct bk_cube *c = &b->cubes_tab[id];

		if (!c->used)
			continue;
		n++;
		if (!schema_has_service(b, c->service))
			bk_log(3, "%s: service %s is not installed; its cube stays stopped", c->name, c->service);
		/* the config is the truth: ports named there and not in the ports table get an index */
		if (topo_ports_from_config(c, err, sizeof(err)) < 0)
			bk_log(3, "%s: %s", c->name, err);
		if (dp_cube_prepare(b, c, 0, err, sizeof(err)) < 0)
			bk_log(3, "%s: %s", c->name, err);
	}
	if (n)
		bk_log(6, "restoring %d cube%s from the database", n, n > 1 ? "s" : "");
	cubes_restore(b);
	if (topo_sync(b, err, sizeof(err)) < 0)
		bk_log(4, "restore: %s", err);
	bk_libbpf_quiet(1);
	n = dp_reconcile(b);
	bk_libbpf_quiet(0);
	if (n)
		bk_log(5, "reconcile: removed %d stale kernel object%s", n, n > 1 ? "s" : "");
	return 0;
}

static int bk_on_timer(zloop_t *loop, int timer_id, void *arg)
{
	struct broker *b = arg;
	static unsigned ticks;
	char err[BK_ERR_MAX];

	cubes_tick(b);
	/* netdevs come and go under us: a port follows its peer's name */
	if (++ticks % 5 == 0 && topo_netdevs_changed(b)) {
		bk_libbpf_quiet(1);
		static char said[BK_ERR_MAX]; /* a port that stays refused is said once */

		if (topo_sync(b, err, sizeof(err)) < 0 && strcmp(err, said)) {
			bk_log(4, "netdev change: %s", err);
			snprintf(said, sizeof(said), "%s", err);
		}
		bk_libbpf_quiet(0);
	}
	return bk_stop ? -1 : 0;
}

static void bk_on_signal(int sig)
{
	bk_stop = 1;
}

static zsock_t *bk_bind(struct broker *b, int type, const char *name)
{
	char endpoint[600], path[600];
	zsock_t *s = zsock_new(type);

	if (!s)
		return NULL;
	snprintf(path, sizeof(path), "%s/%s.sock", b->run_dir, name);
	unlink(path); /* a stale socket of a dead broker: we hold the lock */
	bus_ipc_endpoint(endpoint, sizeof(endpoint), b->run_dir, name);
	zsock_set_linger(s, 0);
	zsock_set_maxmsgsize(s, BUS_MAX_MSG);
	if (type == ZMQ_ROUTER && !strcmp(name, "cubes"))
		zsock_set_router_mandatory(s, 1);
	if (type == ZMQ_XPUB)
		zsock_set_sndhwm(s, 1000);
	if (zsock_bind(s, "%s", endpoint) < 0) {
		bk_log(3, "cannot bind %s: %s", endpoint, zmq_strerror(zmq_errno()));
		zsock_destroy(&s);
		return NULL;
	}
	chmod(path, 0660);
	return s;
}

static int bk_quiet_libbpf; /* --cleanup, reconcile: probing what is not there is not news */

void bk_libbpf_quiet(int on)
{
	bk_quiet_libbpf = on;
}

static int bk_libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if ((level == LIBBPF_DEBUG || bk_quiet_libbpf) && !getenv("CUBEBUS_BPF_DEBUG"))
		return 0;
	fprintf(stderr, "cubebusd libbpf: ");
	return vfprintf(stderr, fmt, ap);
}

/* --cleanup: stop this instance's cubes and remove what it put in the kernel. */
static int bk_cleanup_port(const struct store_port *sp, void *arg)
{
	int ifindex;

	if (!sp->peer[0] || strchr(sp->peer, ':') || !(ifindex = if_nametoindex(sp->peer)))
		return 0;
	dp_release_netdev(arg, ifindex); /* ours only: a foreign program stays */
	return 0;
}

static int bk_cleanup(struct broker *b)
{
	char path[700];
	char *err = NULL;
	struct stat st;

	snprintf(path, sizeof(path), "%s/cubebus.db", b->state_dir);
	if (stat(path, &st) == 0 && store_open(path, &b->store, &err) == 0) {
		store_cube_list(b->store, bk_load_cube, b);
		store_port_list(b->store, NULL, bk_cleanup_port, b);
		for (int id = 1; id < CB_MAX_CUBES; id++) {
			struct bk_cube *c = &b->cubes_tab[id];
			FILE *f;
			int pid = 0;

			if (!c->used)
				continue;
			snprintf(path, sizeof(path), "%s/cubes/%s.pid", b->run_dir, c->name);
			f = fopen(path, "re");
			if (f) {
				if (fscanf(f, "%d", &pid) == 1 && pid > 0)
					kill(pid, SIGKILL);
				fclose(f);
				unlink(path);
			}
			schema_cfg_free(c->config);
			free(c->config_text);
		}
		store_close(&b->store);
	}
	free(err);
	dp_purge(b);
	return 0;
}

static void bk_usage(const char *prog)
{
	printf("usage: %s [options]\n"
	       "  --run-dir DIR    sockets, lock, pid files   (CUBEBUS_RUN_DIR, default %s)\n"
	       "  --state-dir DIR  the database                (CUBEBUS_STATE_DIR, default %s)\n"
	       "  --bpffs DIR      pinned BPF objects          (CUBEBUS_BPFFS, default %s)\n"
	       "  --yang-dir DIR   service models (default: next to the binary, or the prefix)\n"
	       "  --rest ADDR:PORT the REST gateway's address, or off (default %s)\n"
	       "  --daemon         fork to the background, write <run-dir>/cubebusd.pid\n"
	       "  --cleanup        stop this instance's cubes and remove its kernel objects, then exit\n"
	       "  --describe       print the reference of every service's data tree (Markdown), then exit\n"
	       "  -d, --debug      debug log\n",
	       prog, BUS_DEFAULT_RUN_DIR, BUS_DEFAULT_STATE_DIR, BUS_DEFAULT_BPFFS, REST_DEFAULT_LISTEN);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "run-dir", required_argument, NULL, 'r' },
		{ "state-dir", required_argument, NULL, 's' },
		{ "bpffs", required_argument, NULL, 'b' },
		{ "yang-dir", required_argument, NULL, 'y' },
		{ "daemon", no_argument, NULL, 'D' },
		{ "cleanup", no_argument, NULL, 'C' },
		{ "debug", no_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ "describe", no_argument, NULL, 'M' },
		{ "rest", required_argument, NULL, 'R' },
		{ 0 },
	};
	static struct broker broker;
	struct broker *b = &broker;
	char path[700], err[BK_ERR_MAX], rest_addr[256] = REST_DEFAULT_LISTEN;
	struct rest *rest = NULL;
	char *serr = NULL;
	int opt, daemonize = 0, cleanup = 0, describe = 0, status = 1, r;

	b->lock_fd = -1;
	b->tc_slots_fd = b->xdp_slots_fd = b->links_fd = b->stats_fd = b->md_fd = b->conf_fd = -1;
	snprintf(b->run_dir, sizeof(b->run_dir), "%s", bus_env("CUBEBUS_RUN_DIR", BUS_DEFAULT_RUN_DIR));
	snprintf(b->state_dir, sizeof(b->state_dir), "%s", bus_env("CUBEBUS_STATE_DIR", BUS_DEFAULT_STATE_DIR));
	snprintf(b->bpffs, sizeof(b->bpffs), "%s", bus_env("CUBEBUS_BPFFS", BUS_DEFAULT_BPFFS));
	while ((opt = getopt_long(argc, argv, "dh", opts, NULL)) != -1) {
		switch (opt) {
		case 'r': snprintf(b->run_dir, sizeof(b->run_dir), "%s", optarg); break;
		case 's': snprintf(b->state_dir, sizeof(b->state_dir), "%s", optarg); break;
		case 'b': snprintf(b->bpffs, sizeof(b->bpffs), "%s", optarg); break;
		case 'y': snprintf(b->yang_dir, sizeof(b->yang_dir), "%s", optarg); break;
		case 'D': daemonize = 1; break;
		case 'C': cleanup = 1; break;
		case 'M': describe = 1; break;
		case 'd': bk_debug = b->debug = 1; break;
		case 'R':
			if (strcmp(optarg, "off") && rest_check_listen(optarg, err, sizeof(err)) < 0) {
				fprintf(stderr, "%s: %s\n", argv[0], err);
				return 2;
			}
			snprintf(rest_addr, sizeof(rest_addr), "%s", optarg);
			break;
		case 'h': bk_usage(argv[0]); return 0;
		default: bk_usage(argv[0]); return 2;
		}
	}
	bk_self = b;
	bk_find_paths(b);
	libbpf_set_print(bk_libbpf_print);
	zsys_handler_set(NULL);
	signal(SIGPIPE, SIG_IGN);
	if (cleanup) {
		bk_quiet_libbpf = 1;
		return bk_cleanup(b);
	}
	if (describe) {
		if (schema_init(b, err, sizeof(err)) < 0) {
			bk_log(3, "%s", err);
			return 1;
		}
		schema_describe(b, stdout);
		schema_fini(b);
		return 0;
	}

	if (bk_mkdir_p(b->run_dir, 0750) < 0 || bk_mkdir_p(b->state_dir, 0700) < 0) {
		bk_log(3, "cannot create %s or %s: %s", b->run_dir, b->state_dir, strerror(errno));
		return 1;
	}
	snprintf(path, sizeof(path), "%s/cubes", b->run_dir);
	bk_mkdir_p(path, 0750);
	if (bk_lock(b) < 0)
		return 1;
	if (daemonize) {
		pid_t pid = fork();

		if (pid < 0)
			return 1;
		if (pid > 0)
			return 0;
		setsid();
		/* let whoever started us see end-of-file: a daemon keeps no pipe open */
		{
			int nul = open("/dev/null", O_RDWR | O_CLOEXEC);

			if (nul >= 0) {
				dup2(nul, 0);
				dup2(nul, 1);
				close(nul);
			}
		}
		/* the lock is an flock: it follows the open file, held by the child too */
		snprintf(path, sizeof(path), "%s/cubebusd.pid", b->run_dir);
		FILE *f = fopen(path, "we");

		if (f) {
			fprintf(f, "%d\n", getpid());
			fclose(f);
		}
		if (ftruncate(b->lock_fd, 0) == 0)
			dprintf(b->lock_fd, "%d\n", getpid());
	}
	snprintf(path, sizeof(path), "%s/cubebus.db", b->state_dir);
	r = store_open(path, &b->store, &serr);
	if (r < 0) {
		bk_log(3, "database %s: %s", path, serr ? serr : strerror(-r));
		free(serr);
		goto out;
	}
	if (store_check(b->store) < 0) {
		bk_log(3, "database %s fails its integrity check; refusing to start", path);
		goto out;
	}
	if (schema_init(b, err, sizeof(err)) < 0) {
		bk_log(3, "%s", err);
		goto out;
	}
	if (dp_init(b, err, sizeof(err)) < 0) {
		bk_log(3, "%s", err);
		goto out;
	}
	b->ctl = bk_bind(b, ZMQ_ROUTER, "ctl");
	b->cubes = bk_bind(b, ZMQ_ROUTER, "cubes");
	b->events = bk_bind(b, ZMQ_XPUB, "events");
	if (!b->ctl || !b->cubes || !b->events)
		goto out;
	signal(SIGTERM, bk_on_signal);
	signal(SIGINT, bk_on_signal);
	bk_restore(b);
	b->loop = zloop_new();
	zloop_reader(b->loop, b->ctl, requests_on_ctl, b);
	zloop_reader(b->loop, b->cubes, cubes_on_message, b);
	zloop_timer(b->loop, 100, 0, bk_on_timer, b);
	/* REST forwards to the ctl socket, bound above; never fatal: the CLI works without it */
	bus_ipc_endpoint(path, sizeof(path), b->run_dir, "ctl");
	if (strcmp(rest_addr, "off") && rest_start(&rest, rest_addr, path, err, sizeof(err)) < 0)
		bk_log(4, "%s; running without REST", err);
	else if (rest)
		bk_log(6, "REST on %s", rest_url(rest));
	bk_log(6, "ready: ctl ipc://%s/ctl.sock, bpffs %s, models %s", b->run_dir, b->bpffs, b->yang_dir);
	while (!bk_stop) {
		zloop_start(b->loop);
		if (zsys_interrupted)
			break;
	}
	/* Cubes and the data plane keep running: a new broker adopts them. */
	bk_log(6, "stopping; cubes keep running");
	status = 0;
out:
	rest_stop(&rest);
	zloop_destroy(&b->loop);
	zsock_destroy(&b->ctl);
	zsock_destroy(&b->cubes);
	zsock_destroy(&b->events);
	for (int id = 1; id < CB_MAX_CUBES; id++)
		schema_cfg_free(b->cubes_tab[id].config), free(b->cubes_tab[id].config_text),
			free(b->cubes_tab[id].reply_body), free(b->cubes_tab[id].reply_diff);
	dp_fini(b);
	schema_fini(b);
	store_close(&b->store);
	if (b->lock_fd >= 0)
		close(b->lock_fd);
	return status;
}
