/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libcube: see cube.h. One zloop per process: the bus socket, the
 * packet-in perf buffer, the trace ring of the fast path and a heartbeat
 * timer.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <net/if.h>
#include <linux/if_packet.h>
#include <linux/if_ether.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <libgen.h>
#include <syslog.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>

#include "bus.h"
#include "cube.h"

#define CUBE_HEARTBEAT_MS 500
/* Slow-path packets a second per CPU, unless CUBEBUS_SLOWPATH_PPS says. */
#define CUBE_SLOWPATH_PPS 20000

struct cube_port {
	char name[64];
	int index; /* -1: free */
};

struct cube {
	const struct cube_ops *ops;
	char name[64];
	unsigned id;
	unsigned generation;
	char type[16];
	int xdp;
	int debug;
	char run_dir[512];
	char bpffs[512];
	void *skel;
	struct bpf_object *obj;
	int prog_fd;
	int links_fd;
	struct perf_buffer *pb;
	struct ring_buffer *rb; /* cb_log: trace records of the fast path */
	/* our own descriptors of the pinned channel maps: the perf buffer and
	 * the ring outlive the skeleton a log level change replaces */
	int pktin_map_fd;
	int log_map_fd;
	int loglevel;	 /* enum cb_loglevel of the configuration */
	int fp_loglevel; /* the one the loaded program was built with */
	uint64_t log_records;
	zsock_t *bus;
	zloop_t *loop;
	int pkt_fd;
	int inj_ifindex;
	struct cube_port ports[CB_MAX_PORTS];
	void *priv;
	uint64_t pktin_lost;
	/* typed configuration (ops->model): the models and the applied tree */
	char yang_dir[512];
	struct ly_ctx *yang;
	struct lyd_node *cfg_tree;
	char *apply_err; /* the sentence of the change being applied */
	size_t apply_errlen;
	/* during an action: what it changed in cfg_tree (a libyang diff) */
	int in_action;
	struct lyd_node *effect;
	/* the service's own read-only data (cube_set_rodata), set at every load */
	struct {
		char name[64];
		__u32 val;
	} svc_rodata[CUBE_RODATA_MAX];
	int n_svc_rodata;
	uint64_t reloads; /* loads after the first: log level, cube_reload_fastpath */
};

static volatile sig_atomic_t cube_stop;

static const char *const cube_level_names[] = { "emerg",  "alert", "crit",  "error", "warn",
						"notice", "info",  "debug", "trace" };

/* The cube's log level (enum cb_loglevel) of a syslog level. */
static int cube_cb_level(int level)
{
	if (level >= CUBE_LOG_TRACE)
		return CB_LOG_TRACE;
	if (level == LOG_DEBUG)
		return CB_LOG_DEBUG;
	if (level >= LOG_NOTICE)
		return CB_LOG_INFO;
	if (level == LOG_WARNING)
		return CB_LOG_WARN;
	if (level == LOG_ERR)
		return CB_LOG_ERR;
	return CB_LOG_CRITICAL;
}

int cube_log_enabled(const struct cube *c, int level)
{
	int threshold = c ? c->loglevel : CB_LOG_INFO;

	/* -d (the broker's --debug) shows debug lines whatever the cube says */
	if (c && c->debug && threshold > CB_LOG_DEBUG)
		threshold = CB_LOG_DEBUG;
	return threshold != CB_LOG_OFF && cube_cb_level(level) >= threshold;
}

void cube_log(const struct cube *c, int level, const char *fmt, ...)
{
	va_list ap;

	if (level < 0)
		level = 0;
	if (level > CUBE_LOG_TRACE)
		level = CUBE_LOG_TRACE;
	if (!cube_log_enabled(c, level))
		return;
	fprintf(stderr, "cube-%s[%s] %s: ", c && c->ops ? c->ops->service : "?", c ? c->name : "?",
		cube_level_names[level]);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void *cube_priv(struct cube *c)
{
	return c->priv;
}
void *cube_skel(struct cube *c)
{
	return c->skel;
}
void cube_fail(struct cube *c, const char *fmt, ...)
{
	va_list ap;

	if (!c->apply_err || !c->apply_errlen || c->apply_err[0])
		return; /* the first failure is the one to tell */
	va_start(ap, fmt);
	vsnprintf(c->apply_err, c->apply_errlen, fmt, ap);
	va_end(ap);
}

const struct lyd_node *cube_config(const struct cube *c)
{
	return c->cfg_tree;
}

int cube_map_fd(const struct cube *c, const char *name)
{
	struct bpf_map *map = c->obj ? bpf_object__find_map_by_name(c->obj, name) : NULL;

	return map ? bpf_map__fd(map) : -ENOENT;
}

int cube_is_xdp(const struct cube *c)
{
	return c->xdp;
}
const char *cube_name(const struct cube *c)
{
	return c->name;
}
unsigned cube_id(const struct cube *c)
{
	return c->id;
}

int cube_port_index(const struct cube *c, const char *name)
{
	for (int i = 0; i < CB_MAX_PORTS; i++)
		if (c->ports[i].index >= 0 && !strcmp(c->ports[i].name, name))
			return c->ports[i].index;
	return -ENOENT;
}

const char *cube_port_name(const struct cube *c, int index)
{
	if (index < 0 || index >= CB_MAX_PORTS || c->ports[index].index < 0)
		return NULL;
	return c->ports[index].name;
}

void cube_port_foreach(const struct cube *c, void (*cb)(struct cube *c, const char *name, int index, void *arg),
		       void *arg)
{
	for (int i = 0; i < CB_MAX_PORTS; i++)
		if (c->ports[i].index >= 0)
			cb((struct cube *)c, c->ports[i].name, i, arg);
}

const char *cube_json_str(struct json_object *o, const char *key, const char *def)
{
	struct json_object *v;

	if (!o || !json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
		return def;
	return json_object_get_string(v);
}

int64_t cube_json_int(struct json_object *o, const char *key, int64_t def)
{
	struct json_object *v;

	if (!o || !json_object_object_get_ex(o, key, &v))
		return def;
	return json_object_get_int64(v);
}

/* ---- packet-out ---------------------------------------------------------- */

static int cube_pkt_open(struct cube *c)
{
	struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_protocol = 0 };
	struct cb_gconf g;
	__u32 zero = 0;
	char path[600];
	int fd, r;

	snprintf(path, sizeof(path), "%s/%s", c->bpffs, CB_PIN_CONF);
	fd = bpf_obj_get(path);
	if (fd < 0)
		return -errno;
	r = bpf_map_lookup_elem(fd, &zero, &g);
	close(fd);
	if (r < 0)
		return -errno;
	if (!g.inj_ifindex)
		return -ENODEV;
	c->inj_ifindex = g.inj_ifindex;
	/* protocol 0: this socket only sends */
	fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	sll.sll_ifindex = g.inj_ifindex;
	if (bind(fd, (struct sockaddr *)&sll, sizeof(sll)) < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	c->pkt_fd = fd;
	return 0;
}

int cube_packet_out(struct cube *c, int dir, int port, const void *frame, size_t len)
{
	unsigned char buf[sizeof(struct cb_envelope) + 9216];
	struct iovec iov;
	struct msghdr msg = { 0 };
	union {
		char b[CMSG_SPACE(sizeof(uint32_t))];
		struct cmsghdr align;
	} ctl;
	ssize_t n;

	if (c->pkt_fd < 0)
		return -ENOTCONN;
	if (port < 0 || port >= CB_MAX_PORTS || len < ETH_HLEN || len > 9216)
		return -EINVAL;
	if (c->xdp) {
		/* XDP cannot read skb->mark: the target rides in an envelope */
		struct cb_envelope env = { .proto = htons(CB_ENV_PROTO),
					   .magic = htons(CB_ENV_MAGIC),
					   .dir = dir,
					   .port = port,
					   .cube = c->id };

		memcpy(buf, &env, sizeof(env));
		memcpy(buf + sizeof(env), frame, len);
		iov.iov_base = buf;
		iov.iov_len = len + sizeof(env);
	} else {
		struct cmsghdr *cm;

		iov.iov_base = (void *)frame;
		iov.iov_len = len;
		msg.msg_control = ctl.b;
		msg.msg_controllen = sizeof(ctl.b);
		cm = CMSG_FIRSTHDR(&msg);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SO_MARK;
		cm->cmsg_len = CMSG_LEN(sizeof(uint32_t));
		*(uint32_t *)CMSG_DATA(cm) = CB_MARK(dir, c->id, port);
	}
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	n = sendmsg(c->pkt_fd, &msg, MSG_DONTWAIT);
	return n < 0 ? -errno : 0;
}

/* ---- packet-in ----------------------------------------------------------- */

static void cube_flood_peers(struct cube *c, const struct cb_pktin_hdr *h, const void *frame, size_t len)
{
	for (int p = 0; p < CB_MAX_PORTS; p++) {
		__u32 key = CB_LINK_KEY(c->id, p);
		struct cb_link l;

		if (p == h->in_port || c->ports[p].index < 0)
			continue;
		if (bpf_map_lookup_elem(c->links_fd, &key, &l) < 0 || l.kind != CB_LINK_CUBE)
			continue;
		cube_packet_out(c, CB_DIR_OUT, p, frame, len);
	}
}

static void cube_on_sample(void *ctx, int cpu, void *data, __u32 size)
{
	struct cube *c = ctx;
	const struct cb_pktin_hdr *h = data;
	size_t len;

	if (size < sizeof(*h))
		return;
	len = size - sizeof(*h);
	if (len > h->len)
		len = h->len;
	if (h->reason == CB_REASON_FLOOD)
		cube_flood_peers(c, h, h + 1, len);
	else if (c->ops->pktin)
		c->ops->pktin(c, h, h + 1, len);
}

static void cube_on_lost(void *ctx, int cpu, __u64 cnt)
{
	struct cube *c = ctx;

	c->pktin_lost += cnt;
}

static int cube_on_perf(zloop_t *loop, zmq_pollitem_t *item, void *arg)
{
	struct cube *c = arg;

	perf_buffer__consume(c->pb);
	return 0;
}

/* ---- trace records of the fast path --------------------------------------- */

static const char *const cube_cb_level_names[] = { "TRACE", "DEBUG", "INFO", "WARN", "ERR", "CRITICAL", "OFF" };

static int cube_parse_level(const char *s)
{
	for (int i = 0; s && i <= CB_LOG_OFF; i++)
		if (!strcmp(s, cube_cb_level_names[i]))
			return i;
	return -EINVAL;
}

static int cube_on_record(void *ctx, void *data, size_t size)
{
	static const int syslog_of[] = { CUBE_LOG_TRACE, LOG_DEBUG, LOG_INFO, LOG_WARNING, LOG_ERR, LOG_CRIT };
	struct cube *c = ctx;
	const struct cb_log_rec *r = data;
	const char *port;
	char args[96] = "";
	size_t n = 0;

	if (size < sizeof(*r) || r->level >= CB_LOG_OFF)
		return 0;
	/* records of the program before a level change still in the ring */
	if (r->level < c->loglevel)
		return 0;
	c->log_records++;
	for (int i = 0; i < r->nargs && i < CB_LOG_ARGS; i++)
		n += snprintf(args + n, sizeof(args) - n, " %llu", (unsigned long long)r->args[i]);
	port = cube_port_name(c, r->in_port);
	cube_log(c, syslog_of[r->level], "fast path (in-port %s, t=%llu.%09llu): %.*s%s", port ? port : "?",
		 (unsigned long long)(r->ts_ns / 1000000000ULL), (unsigned long long)(r->ts_ns % 1000000000ULL),
		 CB_LOG_MSG_LEN, r->msg, args);
	return 0;
}

static int cube_on_ring(zloop_t *loop, zmq_pollitem_t *item, void *arg)
{
	struct cube *c = arg;

	/* bounded: the ring holds at most CB_LOG_RING_SIZE bytes */
	ring_buffer__consume(c->rb);
	return 0;
}

/* ---- loading ------------------------------------------------------------- */

/* Sets a const volatile u32 of .rodata by name, through the object's BTF. */
static int cube_set_rodata(struct bpf_object *obj, const char *var, __u32 val)
{
	struct btf *btf = bpf_object__btf(obj);
	struct bpf_map *map;
	const struct btf_type *sec;
	const struct btf_var_secinfo *vs;
	size_t size;
	void *data;
	int id;

	bpf_object__for_each_map (map, obj) {
		const char *n = bpf_map__name(map);
		size_t len = strlen(n);

		/* "<obj>.rodata", not ".rodata.str1.1" (string constants) */
		if (bpf_map__is_internal(map) && len >= 7 && !strcmp(n + len - 7, ".rodata"))
			break;
	}
	if (!map || !btf)
		return -ENOENT;
	id = btf__find_by_name_kind(btf, ".rodata", BTF_KIND_DATASEC);
	if (id < 0)
		return -ENOENT;
	sec = btf__type_by_id(btf, id);
	vs = btf_var_secinfos(sec);
	data = (void *)bpf_map__initial_value(map, &size);
	for (int i = 0; i < btf_vlen(sec); i++, vs++) {
		const struct btf_type *t = btf__type_by_id(btf, vs->type);

		if (strcmp(btf__name_by_offset(btf, t->name_off), var))
			continue;
		if (!data || vs->offset + sizeof(val) > size)
			return -EINVAL;
		memcpy((char *)data + vs->offset, &val, sizeof(val));
		return 0;
	}
	return -ENOENT;
}

/*
 * The kernel adds BPF_F_RDONLY_PROG to every devmap it creates (cb_flood),
 * and refuses that flag at creation. libbpf reuses a pinned map only if its
 * flags are the object's: a restarted process must take the pinned map's.
 */
static void cube_devmap_flags(struct bpf_map *map, const char *pin)
{
	struct bpf_map_info info = { 0 };
	__u32 len = sizeof(info);
	int fd = bpf_obj_get(pin);

	if (fd < 0)
		return; /* not pinned yet: created as the object says */
	if (bpf_obj_get_info_by_fd(fd, &info, &len) == 0 && info.type == bpf_map__type(map))
		bpf_map__set_map_flags(map, info.map_flags);
	close(fd);
}

/*
 * A map an older build pinned for the cube with another shape (type, key or
 * value size, capacity) cannot be reused: libbpf would refuse the load. It
 * is unpinned, so that the load makes the new one; the running program keeps
 * the old until the slot swap, and what it held comes back with the
 * configuration or is learned again. (simplebridge has its own copy of
 * this.) Maps whose capacity libbpf sets at load (0 in the object: perf
 * event arrays) are left to libbpf.
 */
static void cube_unpin_stale(struct bpf_map *map, const char *pin)
{
	struct bpf_map_info info = { 0 };
	__u32 len = sizeof(info);
	int fd = bpf_obj_get(pin);

	if (fd < 0)
		return;
	if (bpf_obj_get_info_by_fd(fd, &info, &len) == 0 && bpf_map__max_entries(map) &&
	    (info.type != bpf_map__type(map) || info.key_size != bpf_map__key_size(map) ||
	     info.value_size != bpf_map__value_size(map) || info.max_entries != bpf_map__max_entries(map)))
		unlink(pin);
	close(fd);
}

/*
 * Opens and loads the service's program for this cube with the read-only
 * data (id, slow-path rate, log level), on the cube's pinned maps: a second
 * load (a log level change) shares every map of the first.
 */
/*
 * The service's object for the cube's hook: the ELF its skeleton embeds
 * (CUBE_PROGRAMS) opened by libcube, or the service's own open.
 */
static struct bpf_object *cube_obj_open(struct cube *c, void **skel)
{
	const void *(*elf)(size_t *) = c->xdp ? c->ops->elf_xdp : c->ops->elf_tc;
	LIBBPF_OPTS(bpf_object_open_opts, opts, .object_name = c->ops->service);
	struct bpf_object *obj;
	const void *bytes;
	size_t size;

	if (!elf)
		return c->ops->open(skel, c->xdp);
	*skel = NULL;
	bytes = elf(&size);
	obj = bpf_object__open_mem(bytes, size, &opts);
	return libbpf_get_error(obj) ? NULL : obj;
}

static int cube_obj_load(struct cube *c, void *skel, struct bpf_object *obj)
{
	if ((c->xdp ? c->ops->elf_xdp : c->ops->elf_tc))
		return bpf_object__load(obj);
	return c->ops->load(skel, c->xdp);
}

static void cube_obj_close(struct cube *c, void *skel, struct bpf_object *obj)
{
	if ((c->xdp ? c->ops->elf_xdp : c->ops->elf_tc))
		bpf_object__close(obj);
	else if (skel)
		c->ops->destroy(skel, c->xdp);
}

static int cube_load_prog(struct cube *c, int level, void **skel, struct bpf_object **objp, int *prog_fd, char *err,
			  size_t errlen)
{
	struct bpf_program *prog;
	struct bpf_object *obj;
	struct bpf_map *map;
	char path[600], pin[64];
	int r;

	*skel = NULL;
	obj = *objp = cube_obj_open(c, skel);
	if (!obj) {
		snprintf(err, errlen, "cannot open the %s program: %s", c->xdp ? "XDP" : "TC", strerror(errno));
		return -EINVAL;
	}
	r = cube_set_rodata(obj, "cb_cube_id", c->id);
	if (r < 0) {
		snprintf(err, errlen, "program has no cb_cube_id: %s", strerror(-r));
		return r;
	}
	{
		const char *rate = getenv("CUBEBUS_SLOWPATH_PPS");

		cube_set_rodata(obj, "cb_sp_rate", rate ? strtoul(rate, NULL, 10) : CUBE_SLOWPATH_PPS);
	}
	cube_set_rodata(obj, "cb_loglevel", level);
	for (int i = 0; i < c->n_svc_rodata; i++) {
		r = cube_set_rodata(obj, c->svc_rodata[i].name, c->svc_rodata[i].val);
		if (r < 0) {
			snprintf(err, errlen, "program has no read-only %s: %s", c->svc_rodata[i].name, strerror(-r));
			return r;
		}
	}
	cb_pin_name(pin, sizeof(pin), c->name);
	snprintf(path, sizeof(path), "%s/cubes/%s", c->bpffs, pin);
	if (mkdir(path, 0700) < 0 && errno != EEXIST) {
		r = -errno;
		snprintf(err, errlen, "cannot create %s: %s", path, strerror(errno));
		return r;
	}
	bpf_object__for_each_map (map, obj) {
		const char *name = bpf_map__name(map);

		if (bpf_map__is_internal(map))
			continue;
		if (!strncmp(name, "cb_g_", 5)) {
			snprintf(path, sizeof(path), "%s/%s", c->bpffs, name);
		} else {
			snprintf(path, sizeof(path), "%s/cubes/%s/%s", c->bpffs, pin, name);
			cube_unpin_stale(map, path);
		}
		r = bpf_map__set_pin_path(map, path);
		if (r < 0) {
			snprintf(err, errlen, "cannot pin map %s: %s", name, strerror(-r));
			return r;
		}
		if (bpf_map__type(map) == BPF_MAP_TYPE_DEVMAP || bpf_map__type(map) == BPF_MAP_TYPE_DEVMAP_HASH)
			cube_devmap_flags(map, path);
	}
	r = cube_obj_load(c, *skel, obj);
	if (r < 0) {
		snprintf(err, errlen, "cannot load the %s program (verifier or map mismatch): %s",
			 c->xdp ? "XDP" : "TC", strerror(-r));
		return r;
	}
	prog = bpf_object__find_program_by_name(obj, "cube_entry");
	*prog_fd = prog ? bpf_program__fd(prog) : -1;
	if (*prog_fd < 0) {
		snprintf(err, errlen, "no cube_entry program");
		return -ENOENT;
	}
	return 0;
}

/* One map update swaps the new program in for the old: no packet sees
 * neither. */
static int cube_publish(struct cube *c, int prog_fd, char *err, size_t errlen)
{
	char path[600];
	int r, slots;

	snprintf(path, sizeof(path), "%s/%s", c->bpffs, c->xdp ? CB_PIN_XDP_SLOTS : CB_PIN_TC_SLOTS);
	slots = bpf_obj_get(path);
	if (slots < 0) {
		r = -errno;
		snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
		return r;
	}
	r = bpf_map_update_elem(slots, &c->id, &prog_fd, BPF_ANY);
	if (r < 0)
		r = -errno;
	close(slots);
	if (r < 0)
		snprintf(err, errlen, "cannot publish into slot %u: %s", c->id, strerror(-r));
	return r;
}

static int cube_dup_map_fd(struct bpf_object *obj, const char *name)
{
	struct bpf_map *map = bpf_object__find_map_by_name(obj, name);

	return map ? fcntl(bpf_map__fd(map), F_DUPFD_CLOEXEC, 3) : -ENOENT;
}

static int cube_load(struct cube *c, char *err, size_t errlen)
{
	struct bpf_map *map;
	int r;

	r = cube_load_prog(c, c->loglevel, &c->skel, &c->obj, &c->prog_fd, err, errlen);
	if (r < 0)
		return r;
	c->fp_loglevel = c->loglevel;
	map = bpf_object__find_map_by_name(c->obj, "cb_g_links");
	c->links_fd = map ? bpf_map__fd(map) : -1;
	c->pktin_map_fd = cube_dup_map_fd(c->obj, "cb_pktin");
	if (c->pktin_map_fd >= 0) {
		c->pb = perf_buffer__new(c->pktin_map_fd, 16, cube_on_sample, cube_on_lost, c, NULL);
		if (!c->pb) {
			r = -errno;
			snprintf(err, errlen, "cannot open the packet-in channel: %s", strerror(errno));
			return r;
		}
	}
	c->log_map_fd = cube_dup_map_fd(c->obj, "cb_log");
	if (c->log_map_fd >= 0) {
		c->rb = ring_buffer__new(c->log_map_fd, cube_on_record, c, NULL);
		if (!c->rb) {
			r = -errno;
			snprintf(err, errlen, "cannot open the trace ring: %s", strerror(errno));
			return r;
		}
	}
	r = cube_publish(c, c->prog_fd, err, errlen);
	if (r < 0)
		return r;
	r = cube_pkt_open(c);
	if (r < 0)
		cube_log(c, LOG_WARNING, "packet-out unavailable: %s", strerror(-r));
	return 0;
}

/*
 * A new log level: the program is specialised by it (read-only data), so a
 * new one is loaded on the same pinned maps and swapped into the slot; the
 * old one goes when the broker has rewired the peers' next hops to the new
 * (it holds them until then). The perf buffer and the ring stay: their maps
 * are the same.
 */
static int cube_reload(struct cube *c, int level, char *err, size_t errlen)
{
	struct bpf_object *obj = NULL;
	struct bpf_map *map;
	void *skel = NULL;
	int prog_fd = -1, r;

	r = cube_load_prog(c, level, &skel, &obj, &prog_fd, err, errlen);
	if (r == 0)
		r = cube_publish(c, prog_fd, err, errlen);
	if (r < 0) {
		if (obj)
			cube_obj_close(c, skel, obj);
		return r;
	}
	cube_obj_close(c, c->skel, c->obj);
	c->skel = skel;
	c->obj = obj;
	c->prog_fd = prog_fd;
	c->fp_loglevel = level;
	map = bpf_object__find_map_by_name(c->obj, "cb_g_links");
	c->links_fd = map ? bpf_map__fd(map) : -1;
	return 0;
}

int cube_set_rodata_u32(struct cube *c, const char *name, uint32_t val)
{
	int i;

	if (strlen(name) >= sizeof(c->svc_rodata[0].name))
		return -ENAMETOOLONG;
	for (i = 0; i < c->n_svc_rodata && strcmp(c->svc_rodata[i].name, name); i++)
		;
	if (i == c->n_svc_rodata) {
		if (i == CUBE_RODATA_MAX)
			return -ENOSPC;
		snprintf(c->svc_rodata[i].name, sizeof(c->svc_rodata[i].name), "%s", name);
		c->n_svc_rodata++;
	}
	c->svc_rodata[i].val = val;
	return 0;
}

int cube_reload_fastpath(struct cube *c)
{
	char err[256];
	int r;

	if (!c->obj)
		return 0; /* not loaded yet: the first load takes the values */
	r = cube_reload(c, c->fp_loglevel, err, sizeof(err));
	if (r < 0)
		cube_fail(c, "%s", err);
	else
		c->reloads++;
	return r;
}

uint64_t cube_reloads(const struct cube *c)
{
	return c->reloads;
}

/* ---- bus ------------------------------------------------------------------ */

static int cube_send(struct cube *c, Cubebus__CubeMsg *m)
{
	zframe_t *f;

	m->version = BUS_VERSION;
	m->cube = c->name;
	m->generation = c->generation;
	f = bus_encode_cube(m);
	if (!f)
		return -EMSGSIZE;
	return zframe_send(&f, c->bus, ZFRAME_DONTWAIT) < 0 ? -EIO : 0;
}

static int cube_hello(struct cube *c)
{
	Cubebus__CubeMsg m = CUBEBUS__CUBE_MSG__INIT;
	struct bpf_prog_info info = { 0 };
	__u32 len = sizeof(info);

	m.kind = CUBEBUS__CUBE_MSG__KIND__HELLO;
	m.service = (char *)c->ops->service;
	m.pid = getpid();
	if (bpf_obj_get_info_by_fd(c->prog_fd, &info, &len) == 0)
		m.prog_id = info.id;
	return cube_send(c, &m);
}

static void cube_reply_diff(struct cube *c, uint64_t seq, int status, const char *error, const char *body,
			    const char *diff)
{
	Cubebus__CubeMsg m = CUBEBUS__CUBE_MSG__INIT;

	m.kind = CUBEBUS__CUBE_MSG__KIND__RESULT;
	m.seq = seq;
	m.status = status;
	m.error = (char *)(error ? error : "");
	m.body = (char *)(body ? body : "");
	m.diff = (char *)(diff ? diff : "");
	cube_send(c, &m);
}

static void cube_reply(struct cube *c, uint64_t seq, int status, const char *error, const char *body)
{
	cube_reply_diff(c, seq, status, error, body, NULL);
}

/* body: {"config": {...}, "ports": [{"name": "p1", "index": 0}, ...]} */
/*
 * The cube's configuration (its entry of the service's list, RFC 7951 JSON
 * without the module prefix) as a validated libyang tree with its defaults.
 * The models are loaded on first use.
 */
static int cube_cfg_tree(struct cube *c, struct json_object *config, struct lyd_node **out, char *err, size_t errlen)
{
	const char *mod = c->ops->model->module;
	struct json_object *doc = json_object_new_object(), *list = json_object_new_array();
	int r = 0;

	*out = NULL;
	if (!c->yang) {
		if (ly_ctx_new(c->yang_dir, 0, &c->yang) != LY_SUCCESS ||
		    !ly_ctx_load_module(c->yang, mod, NULL, NULL)) {
			snprintf(err, errlen, "cannot load the model %s from %s: %s", mod, c->yang_dir,
				 c->yang ? ly_errmsg(c->yang) : "no libyang context");
			ly_ctx_destroy(c->yang);
			c->yang = NULL;
			r = -ENOENT;
			goto out;
		}
	}
	json_object_array_add(list, config ? json_object_get(config) : json_object_new_object());
	{
		char key[160];

		snprintf(key, sizeof(key), "%s:%s", mod, mod);
		json_object_object_add(doc, key, list);
		list = NULL;
	}
	if (lyd_parse_data_mem(c->yang, json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PLAIN), LYD_JSON,
			       LYD_PARSE_STRICT, LYD_VALIDATE_PRESENT, out) != LY_SUCCESS) {
		snprintf(err, errlen, "the configuration does not fit the model %s: %s", mod, ly_errmsg(c->yang));
		lyd_free_all(*out);
		*out = NULL;
		r = -EINVAL;
	}
out:
	json_object_put(list);
	json_object_put(doc);
	return r;
}

/* Applies a configuration through the generated typed handlers. */
static int cube_apply_typed(struct cube *c, struct json_object *config, char *err, size_t errlen)
{
	struct lyd_node *tree = NULL;
	int r;

	r = cube_cfg_tree(c, config, &tree, err, errlen);
	if (r < 0)
		return r;
	c->apply_err = err;
	c->apply_errlen = errlen;
	r = cubecfg_apply(c->ops->model, c, c->cfg_tree, tree, err, errlen);
	if (r == 0 && c->ops->commit && (r = c->ops->commit(c)) < 0) {
		char uerr[256];

		/* back to the applied configuration, and what the undo queued */
		if (!err[0])
			snprintf(err, errlen, "the change could not be written: %s", strerror(-r));
		if (cubecfg_apply(c->ops->model, c, tree, c->cfg_tree, uerr, sizeof(uerr)) < 0 || c->ops->commit(c) < 0)
			cube_log(c, LOG_ERR, "undoing a failed change failed too: %s", uerr);
	}
	c->apply_err = NULL;
	if (r < 0) {
		lyd_free_all(tree);
		return r;
	}
	lyd_free_all(c->cfg_tree);
	c->cfg_tree = tree;
	return 0;
}

/*
 * A change (CHANGE, body {"diff": libyang diff}) of the applied
 * configuration, through the same typed handlers, in time proportional to
 * the diff. -ESTALE before any configuration: the broker then sends it whole.
 */
static int cube_on_change(struct cube *c, const char *body, char *err, size_t errlen)
{
	struct json_object *root = NULL, *d;
	struct lyd_node *diff = NULL;
	const struct lyd_node *lv;
	int r, level;

	if (!c->ops->model || !c->cfg_tree || !c->yang) {
		snprintf(err, errlen, "no configuration yet");
		return -ESTALE;
	}
	root = json_tokener_parse(body);
	if (!root || !json_object_object_get_ex(root, "diff", &d) || !json_object_is_type(d, json_type_object)) {
		snprintf(err, errlen, "a change is {\"diff\": {...}}");
		r = -EINVAL;
		goto out;
	}
	if (lyd_parse_data_mem(c->yang, json_object_to_json_string_ext(d, JSON_C_TO_STRING_PLAIN), LYD_JSON,
			       LYD_PARSE_ONLY | LYD_PARSE_STRICT, 0, &diff) != LY_SUCCESS) {
		snprintf(err, errlen, "the change does not fit the model %s: %s", c->ops->model->module,
			 ly_errmsg(c->yang));
		r = -EINVAL;
		goto out;
	}
	c->apply_err = err;
	c->apply_errlen = errlen;
	r = cubecfg_apply_diff(c->ops->model, c, &c->cfg_tree, diff, err, errlen);
	if (r == 0 && c->ops->commit && (r = c->ops->commit(c)) < 0) {
		struct lyd_node *rev = NULL;
		char uerr[256] = "";

		/* the diff is in the tree already: apply its reverse, through the handlers */
		if (!err[0])
			snprintf(err, errlen, "the change could not be written: %s", strerror(-r));
		if (lyd_diff_reverse_all(diff, &rev) != LY_SUCCESS ||
		    cubecfg_apply_diff(c->ops->model, c, &c->cfg_tree, rev, uerr, sizeof(uerr)) < 0 ||
		    c->ops->commit(c) < 0)
			cube_log(c, LOG_ERR, "undoing a failed change failed too: %s", uerr);
		lyd_free_all(rev);
	}
	c->apply_err = NULL;
	if (r < 0)
		goto out;
	/* loglevel is the cube's own (libcube's) */
	lv = cubecfg_child(c->cfg_tree, c->ops->model->module, "loglevel");
	level = cube_parse_level(lv ? lyd_get_value(lv) : "INFO");
	if (level >= 0 && level != c->loglevel) {
		c->loglevel = level;
		if (level != c->fp_loglevel) {
			r = cube_reload(c, level, err, errlen);
			if (r < 0)
				goto out;
			cube_log(c, LOG_DEBUG, "fast path reloaded with loglevel %s", cube_cb_level_names[level]);
		}
	}
	cube_log(c, LOG_DEBUG, "change applied");
out:
	lyd_free_all(diff);
	json_object_put(root);
	return r;
}

static int cube_on_config(struct cube *c, const char *body, char *err, size_t errlen)
{
	struct json_object *root = json_tokener_parse(body), *ports, *config;
	struct cube_port old_ports[CB_MAX_PORTS];
	int r = 0;

	if (!root || !json_object_is_type(root, json_type_object)) {
		snprintf(err, errlen, "configuration is not a JSON object");
		r = -EINVAL;
		goto out;
	}
	memcpy(old_ports, c->ports, sizeof(old_ports));
	if (json_object_object_get_ex(root, "ports", &ports) && json_object_is_type(ports, json_type_array)) {
		for (int i = 0; i < CB_MAX_PORTS; i++)
			c->ports[i].index = -1;
		for (size_t i = 0; i < json_object_array_length(ports); i++) {
			struct json_object *p = json_object_array_get_idx(ports, i);
			int64_t idx = cube_json_int(p, "index", -1);
			const char *name = cube_json_str(p, "name", NULL);

			if (idx < 0 || idx >= CB_MAX_PORTS || !name || strlen(name) >= sizeof(c->ports[0].name))
				continue;
			snprintf(c->ports[idx].name, sizeof(c->ports[idx].name), "%s", name);
			c->ports[idx].index = idx;
		}
	}
	if (!json_object_object_get_ex(root, "config", &config))
		config = NULL;
	{
		const char *name = cube_json_str(config, "loglevel", "INFO");
		int level = cube_parse_level(name);

		if (level < 0) {
			snprintf(err, errlen, "unknown loglevel %s (TRACE, DEBUG, INFO, WARN, ERR, CRITICAL or OFF)",
				 name);
			r = level;
			goto out;
		}
		c->loglevel = level;
		if (level != c->fp_loglevel) {
			r = cube_reload(c, level, err, errlen);
			if (r < 0)
				goto out;
			cube_log(c, LOG_DEBUG, "fast path reloaded with loglevel %s", name);
		}
	}
	if (c->ops->ports_changed && memcmp(old_ports, c->ports, sizeof(old_ports))) {
		r = c->ops->ports_changed(c, err, errlen);
		if (r < 0)
			goto out;
	}
	r = c->ops->model ? cube_apply_typed(c, config, err, errlen) : c->ops->apply(c, config, err, errlen);
	if (r == 0)
		cube_log(c, LOG_DEBUG, "configuration applied (loglevel %s)", cube_cb_level_names[c->loglevel]);
out:
	json_object_put(root);
	return r;
}

static uint64_t cube_percpu_sum(int fd, __u32 key)
{
	int ncpu = libbpf_num_possible_cpus();
	uint64_t sum = 0, *v;

	if (fd < 0 || ncpu <= 0 || !(v = calloc(ncpu, sizeof(*v))))
		return 0;
	if (bpf_map_lookup_elem(fd, &key, v) == 0)
		for (int i = 0; i < ncpu; i++)
			sum += v[i];
	free(v);
	return sum;
}

/* "slowpath": what went to the process, per reason, and what the rate limit
 * or the channel refused (beyond the reference trees: a framework counter). */
static void cube_read_slowpath(struct cube *c, struct json_object *out)
{
	static const char *const names[CB_MAX_REASONS] = { "lost", "flood" };
	struct bpf_map *sent = bpf_object__find_map_by_name(c->obj, "cb_spstats");
	struct bpf_map *lim = bpf_object__find_map_by_name(c->obj, "cb_splimited");
	struct json_object *list = json_object_new_array();

	for (__u32 r = 0; r < CB_MAX_REASONS; r++) {
		uint64_t n = sent ? cube_percpu_sum(bpf_map__fd(sent), r) : 0;
		uint64_t l = lim ? cube_percpu_sum(bpf_map__fd(lim), r) : 0;
		struct json_object *e;
		char name[32];

		if (!n && !l)
			continue;
		if (names[r])
			snprintf(name, sizeof(name), "%s", names[r]);
		else
			snprintf(name, sizeof(name), "service-%u", r);
		e = json_object_new_object();
		json_object_object_add(e, "reason", json_object_new_string(name));
		/* reason 0 counts what the channel refused: the kernel's own LOST
		 * records (pktin_lost) are the same packets, not added again */
		json_object_object_add(e, "packets", json_object_new_int64(n));
		json_object_object_add(e, "rate-limited", json_object_new_int64(l));
		json_object_array_add(list, e);
	}
	json_object_object_add(out, "slowpath", list);
}

static uint64_t cube_log_dropped(struct cube *c)
{
	struct bpf_map *m = bpf_object__find_map_by_name(c->obj, "cb_logdrops");

	return m ? cube_percpu_sum(bpf_map__fd(m), 0) : 0;
}

/*
 * The models (for the typed actions and state), loaded on first use from
 * the same directory as the configuration's.
 */
static struct ly_ctx *cube_models(struct cube *c, const char *module, char *err, size_t errlen)
{
	if (!c->yang && ly_ctx_new(c->yang_dir, 0, &c->yang) != LY_SUCCESS) {
		snprintf(err, errlen, "cannot load the model %s from %s: no libyang context", module, c->yang_dir);
		c->yang = NULL;
		return NULL;
	}
	if (!ly_ctx_get_module_implemented(c->yang, module) && !ly_ctx_load_module(c->yang, module, NULL, NULL)) {
		snprintf(err, errlen, "cannot load the model %s from %s: %s", module, c->yang_dir, ly_errmsg(c->yang));
		/* the configuration's loading makes it anew (no tree uses it yet) */
		if (!c->cfg_tree) {
			ly_ctx_destroy(c->yang);
			c->yang = NULL;
		}
		return NULL;
	}
	return c->yang;
}

/* The service's state through its emitters (ops->state), into out. */
static int cube_read_typed(struct cube *c, struct json_object *out, char *err, size_t errlen)
{
	const struct cubecfg_model *m = c->ops->model;
	struct ly_ctx *ctx = NULL;
	struct cube_state *st = NULL;
	int r;

	if (!m) {
		snprintf(err, errlen, "service %s emits state without its model (.model in its cube_ops)",
			 c->ops->service);
		return -EINVAL;
	}
	ctx = cube_models(c, m->module, err, errlen);
	st = ctx ? cubeop_state_new(ctx, m, c->name, err, errlen) : NULL;
	if (!st)
		return ctx ? -ENOMEM : -ENOENT;
	c->apply_err = err;
	c->apply_errlen = errlen;
	r = c->ops->state(c, st);
	c->apply_err = NULL;
	if (r == 0)
		r = cubeop_state_json(st, out);
	else if (!err[0])
		snprintf(err, errlen, "cannot read the state of %s: %s", c->name, strerror(-r));
	cubeop_state_destroy(&st);
	return r;
}

static int cube_on_read(struct cube *c, char **body, char *err, size_t errlen)
{
	struct json_object *out = json_object_new_object();
	int r = 0;

	cube_log(c, LOG_DEBUG, "operational state read");
	if (c->ops->state)
		r = cube_read_typed(c, out, err, errlen);
	if (r == 0) {
		cube_read_slowpath(c, out);
		json_object_object_add(out, "cubebus:slowpath-lost", json_object_new_int64(c->pktin_lost));
		/* beyond the reference trees: the fast path's trace records
		 * printed, and those the full ring refused */
		json_object_object_add(out, "log-records", json_object_new_int64(c->log_records));
		json_object_object_add(out, "log-dropped", json_object_new_int64(cube_log_dropped(c)));
		*body = strdup(json_object_to_json_string_ext(out, JSON_C_TO_STRING_PLAIN));
	}
	json_object_put(out);
	return r;
}

/* ---- what an action changes in the configuration (cube_cfg_put / _remove) ---- */

static int cube_cfg_fail(struct cube *c, int r, const char *fmt, const char *path, const char *why)
{
	if (c->apply_err)
		snprintf(c->apply_err, c->apply_errlen, fmt, path, why ? why : "");
	return r;
}

/* The top of a node duplicated with its parents. */
static struct lyd_node *cube_cfg_top(struct lyd_node *n)
{
	while (n && lyd_parent(n))
		n = lyd_parent(n);
	return n;
}

/* A copy of node (recursive) or of node's ancestors only (its parent), with the cube's entry on top. */
static struct lyd_node *cube_cfg_snap(const struct lyd_node *node, int with_node)
{
	struct lyd_node *dup = NULL;
	const struct lyd_node *at = with_node ? node : lyd_parent(node);

	if (!at)
		return NULL;
	if (lyd_dup_single(at, NULL, (with_node ? LYD_DUP_RECURSIVE : 0) | LYD_DUP_WITH_PARENTS, &dup) != LY_SUCCESS)
		return NULL;
	return cube_cfg_top(dup);
}

/* old and new (copies with the cube's entry on top) into c->effect. */
static int cube_cfg_record(struct cube *c, struct lyd_node *old, struct lyd_node *new)
{
	struct lyd_node *d = NULL;
	int r = -ENOMEM;

	if (old && new &&lyd_diff_tree(old, new, 0, &d) == LY_SUCCESS) {
		r = 0;
		if (d && lyd_diff_merge_all(&c->effect, d, 0) != LY_SUCCESS)
			r = -ENOMEM;
	}
	lyd_free_all(d);
	lyd_free_all(old);
	lyd_free_all(new);
	return r;
}

static int cube_cfg_ready(struct cube *c, const char *path)
{
	if (!c->in_action)
		return cube_cfg_fail(c, -EINVAL, "%s: the configuration changes by an action only%s", path, NULL);
	if (!c->cfg_tree)
		return cube_cfg_fail(c, -EAGAIN, "%s: the cube has no configuration yet%s", path, NULL);
	return 0;
}

int cube_cfg_remove(struct cube *c, const char *path)
{
	struct lyd_node *node = NULL, *old, *new;
	int r = cube_cfg_ready(c, path);

	if (r < 0)
		return r;
	if (lyd_find_path(c->cfg_tree, path, 0, &node) != LY_SUCCESS || !lyd_parent(node))
		return cube_cfg_fail(c, -ENOENT, "%s: not in the configuration%s", path, NULL);
	old = cube_cfg_snap(node, 1);
	new = cube_cfg_snap(node, 0);
	r = cube_cfg_record(c, old, new);
	if (r < 0)
		return cube_cfg_fail(c, r, "%s: cannot record the change%s", path, NULL);
	lyd_free_tree(node);
	return 0;
}

/* Writes the node at path below at with the leaves of o; 0 or -EINVAL. */
static int cube_cfg_build(struct lyd_node *at, const char *path, struct json_object *o, struct lyd_node **out)
{
	struct lyd_node *node = NULL;

	*out = NULL;
	if (lyd_new_path(at, NULL, path, NULL, 0, NULL) != LY_SUCCESS ||
	    lyd_find_path(at, path, 0, &node) != LY_SUCCESS)
		return -EINVAL;
	json_object_object_foreach(o, k, v)
	{
		const struct lysc_node *sk = lys_find_child(node->schema, NULL, k, 0, 0, 0);

		if (sk && lysc_is_key(sk))
			continue; /* a key: the path has it */
		if (lyd_new_path(node, NULL, k, json_object_get_string(v), LYD_NEW_PATH_UPDATE, NULL) != LY_SUCCESS)
			return -EINVAL;
	}
	*out = node;
	return 0;
}

int cube_cfg_put(struct cube *c, const char *path, const char *leaves)
{
	struct lyd_node *node = NULL, *created = NULL, *scratch = NULL, *old;
	struct json_object *o;
	int r = cube_cfg_ready(c, path);

	if (r < 0)
		return r;
	o = leaves ? json_tokener_parse(leaves) : json_object_new_object();
	if (!o || !json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		return cube_cfg_fail(c, -EINVAL, "%s: the leaves are not a JSON object%s", path, NULL);
	}
	/* first on a copy of the cube's entry alone: a path or a value libyang
	 * refuses leaves the tree as it is */
	if (lyd_dup_single(c->cfg_tree, NULL, 0, &scratch) != LY_SUCCESS) {
		json_object_put(o);
		return cube_cfg_fail(c, -ENOMEM, "%s: out of memory%s", path, NULL);
	}
	r = cube_cfg_build(scratch, path, o, &node);
	if (r < 0)
		cube_cfg_fail(c, r, "%s: %s", path, ly_errmsg(LYD_CTX(c->cfg_tree)));
	lyd_free_all(scratch);
	if (r < 0) {
		json_object_put(o);
		return r;
	}
	/* the tree before: the entry, or the nodes above where it will be */
	if (lyd_find_path(c->cfg_tree, path, 0, &node) == LY_SUCCESS) {
		old = cube_cfg_snap(node, 1);
		lyd_free_tree(node);
	} else if (lyd_new_path(c->cfg_tree, NULL, path, NULL, 0, &created) == LY_SUCCESS && created) {
		old = cube_cfg_snap(created, 0); /* created: the first node the path lacked */
		lyd_free_tree(created);
	} else {
		json_object_put(o);
		return cube_cfg_fail(c, -EINVAL, "%s: %s", path, ly_errmsg(LYD_CTX(c->cfg_tree)));
	}
	r = cube_cfg_build(c->cfg_tree, path, o, &node);
	json_object_put(o);
	if (r == 0)
		r = cube_cfg_record(c, old, cube_cfg_snap(node, 1));
	else
		lyd_free_all(old);
	if (r < 0)
		cube_cfg_fail(c, r, "%s: cannot record the change%s", path, NULL);
	return r;
}

/* An action through the generated table (ops->actions): typed handlers. */
static int cube_action_typed(struct cube *c, const char *path, const char *body, char **result, char **diff, char *err,
			     size_t errlen)
{
	struct ly_ctx *ctx = cube_models(c, c->ops->actions->module, err, errlen);
	int r;

	*diff = NULL;
	if (!ctx)
		return -ENOENT;
	c->apply_err = err;
	c->apply_errlen = errlen;
	c->in_action = 1;
	c->effect = NULL;
	r = cubeop_action_run(c->ops->actions, c, ctx, c->name, c->cfg_tree, path, body, result, err, errlen);
	c->in_action = 0;
	c->apply_err = NULL;
	if (c->effect && r < 0) {
		/* the tree as it was */
		struct lyd_node *rev = NULL;

		if (lyd_diff_reverse_all(c->effect, &rev) != LY_SUCCESS ||
		    lyd_diff_apply_all(&c->cfg_tree, rev) != LY_SUCCESS)
			cube_log(c, LOG_ERR, "action %s failed and its change of the configuration cannot be undone",
				 path);
		lyd_free_all(rev);
	} else if (c->effect &&
		   lyd_print_mem(diff, c->effect, LYD_JSON, LYD_PRINT_WITHSIBLINGS | LYD_PRINT_SHRINK) != LY_SUCCESS) {
		*diff = NULL;
		cube_log(c, LOG_ERR, "action %s: cannot print its change of the configuration", path);
	}
	lyd_free_all(c->effect);
	c->effect = NULL;
	cube_log(c, r < 0 ? LOG_INFO : LOG_DEBUG, "action %s: %s", path, r < 0 ? err : "done");
	return r;
}

static int cube_on_action(struct cube *c, const char *path, const char *body, char **result, char **diff, char *err,
			  size_t errlen)
{
	*diff = NULL;
	if (c->ops->actions)
		return cube_action_typed(c, path, body, result, diff, err, errlen);
	snprintf(err, errlen, "service %s has no action %s", c->ops->service, path);
	return -ENOENT;
}

static int cube_on_bus(zloop_t *loop, zsock_t *sock, void *arg)
{
	struct cube *c = arg;
	zframe_t *f = zframe_recv(sock);
	Cubebus__CubeMsg *m = NULL;
	char err[512] = "";
	char *body = NULL;
	int r;

	if (!f)
		return 0;
	r = bus_decode_cube(f, &m);
	zframe_destroy(&f);
	if (r < 0) {
		cube_log(c, LOG_WARNING, "dropped a malformed message from the broker: %s", strerror(-r));
		return 0;
	}
	switch (m->kind) {
	case CUBEBUS__CUBE_MSG__KIND__CONFIG:
		r = cube_on_config(c, m->body, err, sizeof(err));
		cube_reply(c, m->seq, r, err, NULL);
		break;
	case CUBEBUS__CUBE_MSG__KIND__CHANGE:
		r = cube_on_change(c, m->body, err, sizeof(err));
		cube_reply(c, m->seq, r, err, NULL);
		break;
	case CUBEBUS__CUBE_MSG__KIND__READ:
		r = cube_on_read(c, &body, err, sizeof(err));
		cube_reply(c, m->seq, r, err, body);
		break;
	case CUBEBUS__CUBE_MSG__KIND__ACTION: {
		char *diff = NULL;

		r = cube_on_action(c, m->path, m->body, &body, &diff, err, sizeof(err));
		cube_reply_diff(c, m->seq, r, err, body, diff);
		free(diff);
		break;
	}
	case CUBEBUS__CUBE_MSG__KIND__REHELLO: cube_hello(c); break;
	case CUBEBUS__CUBE_MSG__KIND__STOP: cube_stop = 1; break;
	default:
		/* a request this process does not know (a newer broker): said,
		 * so the broker falls back instead of waiting */
		if (m->seq)
			cube_reply(c, m->seq, -EOPNOTSUPP, "this cube process does not know the message", NULL);
		break;
	}
	free(body);
	cubebus__cube_msg__free_unpacked(m, NULL);
	return cube_stop ? -1 : 0;
}

static int cube_on_timer(zloop_t *loop, int timer_id, void *arg)
{
	struct cube *c = arg;
	Cubebus__CubeMsg m = CUBEBUS__CUBE_MSG__INIT;

	if (cube_stop)
		return -1;
	m.kind = CUBEBUS__CUBE_MSG__KIND__HEARTBEAT;
	m.pid = getpid();
	cube_send(c, &m);
	return 0;
}

static int cube_on_tick(zloop_t *loop, int timer_id, void *arg)
{
	struct cube *c = arg;

	if (cube_stop)
		return -1;
	c->ops->tick(c);
	return 0;
}

/*
 * Started with only --name (by an operator's supervisor): asks the broker
 * which cube this is. Waits for a broker as long as it takes, since a
 * supervisor may start cubes before it.
 */
static int cube_whoami(struct cube *c)
{
	zpoller_t *poller = zpoller_new(c->bus, NULL);
	int r = -ETIMEDOUT, asked = 0;

	while (!cube_stop) {
		Cubebus__CubeMsg m = CUBEBUS__CUBE_MSG__INIT, *in = NULL;
		zframe_t *f;
		struct json_object *o;

		if (asked++ % 20 == 0) { /* every 2 s */
			m.kind = CUBEBUS__CUBE_MSG__KIND__WHOAMI;
			m.service = (char *)c->ops->service;
			m.pid = getpid();
			cube_send(c, &m);
		}
		if (!zpoller_wait(poller, 100)) {
			if (zpoller_terminated(poller))
				break;
			continue;
		}
		f = zframe_recv(c->bus);
		if (!f || bus_decode_cube(f, &in) < 0) {
			zframe_destroy(&f);
			continue;
		}
		zframe_destroy(&f);
		if (in->kind == CUBEBUS__CUBE_MSG__KIND__STOP) {
			cube_log(c, LOG_ERR, "the broker refused this process: %s", in->error[0] ? in->error : "stop");
			cubebus__cube_msg__free_unpacked(in, NULL);
			r = -EPERM;
			break;
		}
		if (in->kind != CUBEBUS__CUBE_MSG__KIND__WHOAMI || !(o = json_tokener_parse(in->body))) {
			cubebus__cube_msg__free_unpacked(in, NULL);
			continue;
		}
		c->id = cube_json_int(o, "id", 0);
		c->generation = cube_json_int(o, "generation", 0);
		snprintf(c->type, sizeof(c->type), "%s", cube_json_str(o, "type", "TC"));
		if (cube_parse_level(cube_json_str(o, "loglevel", "INFO")) >= 0)
			c->loglevel = cube_parse_level(cube_json_str(o, "loglevel", "INFO"));
		json_object_put(o);
		cubebus__cube_msg__free_unpacked(in, NULL);
		if (c->id == 0 || c->id >= CB_MAX_CUBES) {
			cube_log(c, LOG_ERR, "the broker gave an invalid id");
			r = -EINVAL;
			break;
		}
		r = 0;
		break;
	}
	zpoller_destroy(&poller);
	return r;
}

static void cube_on_signal(int sig)
{
	cube_stop = 1;
}

static int cube_libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_DEBUG && !getenv("CUBEBUS_BPF_DEBUG"))
		return 0;
	fprintf(stderr, "libbpf: ");
	return vfprintf(stderr, fmt, ap);
}

/* The models next to the program (the build tree, an install prefix). */
static void cube_find_yang_dir(char *buf, size_t size)
{
	char exe[512];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	struct stat st;

	if (n > 0) {
		exe[n] = '\0';
		snprintf(buf, size, "%s/../share/cubebus/yang", dirname(exe));
		if (stat(buf, &st) == 0)
			return;
	}
	snprintf(buf, size, "/usr/local/share/cubebus/yang");
}

static void cube_usage(const char *prog)
{
	fprintf(stderr,
		"usage: %s --name NAME [--id N --type TC|XDP_SKB|XDP_DRV --generation G]\n"
		"          [--run-dir DIR] [--bpffs DIR] [--yang-dir DIR] [--loglevel LEVEL] [-d]\n"
		"A cube process is started by cubebusd, or by an operator's supervisor with\n"
		"--name only: it then asks the broker for the rest.\n",
		prog);
}

int cube_main(int argc, char **argv, const struct cube_ops *ops)
{
	static const struct option opts[] = { { "name", required_argument, NULL, 'n' },
					      { "id", required_argument, NULL, 'i' },
					      { "type", required_argument, NULL, 't' },
					      { "generation", required_argument, NULL, 'g' },
					      { "run-dir", required_argument, NULL, 'r' },
					      { "bpffs", required_argument, NULL, 'b' },
					      { "debug", no_argument, NULL, 'd' },
					      { "loglevel", required_argument, NULL, 'l' },
					      { "help", no_argument, NULL, 'h' },
					      { "yang-dir", required_argument, NULL, 'y' },
					      { 0 } };
	struct cube c = { .ops = ops,
			  .prog_fd = -1,
			  .links_fd = -1,
			  .pkt_fd = -1,
			  .pktin_map_fd = -1,
			  .log_map_fd = -1,
			  .loglevel = CB_LOG_INFO };
	char endpoint[600], err[512];
	int opt, r, status = 1;

	snprintf(c.run_dir, sizeof(c.run_dir), "%s", bus_env("CUBEBUS_RUN_DIR", BUS_DEFAULT_RUN_DIR));
	snprintf(c.bpffs, sizeof(c.bpffs), "%s", bus_env("CUBEBUS_BPFFS", BUS_DEFAULT_BPFFS));
	snprintf(c.type, sizeof(c.type), "TC");
	while ((opt = getopt_long(argc, argv, "dh", opts, NULL)) != -1) {
		switch (opt) {
		case 'n': snprintf(c.name, sizeof(c.name), "%s", optarg); break;
		case 'i': c.id = strtoul(optarg, NULL, 10); break;
		case 't': snprintf(c.type, sizeof(c.type), "%s", optarg); break;
		case 'g': c.generation = strtoul(optarg, NULL, 10); break;
		case 'r': snprintf(c.run_dir, sizeof(c.run_dir), "%s", optarg); break;
		case 'b': snprintf(c.bpffs, sizeof(c.bpffs), "%s", optarg); break;
		case 'd': c.debug = 1; break;
		case 'y': snprintf(c.yang_dir, sizeof(c.yang_dir), "%s", optarg); break;
		case 'l':
			c.loglevel = cube_parse_level(optarg);
			if (c.loglevel < 0) {
				fprintf(stderr,
					"%s: unknown loglevel %s (TRACE, DEBUG, INFO, WARN, ERR, CRITICAL or OFF)\n",
					argv[0], optarg);
				return 2;
			}
			break;
		default: cube_usage(argv[0]); return opt == 'h' ? 0 : 2;
		}
	}
	if (!c.name[0] || c.id >= CB_MAX_CUBES) {
		cube_usage(argv[0]);
		return 2;
	}
	if (!c.yang_dir[0])
		cube_find_yang_dir(c.yang_dir, sizeof(c.yang_dir));
	zsys_handler_set(NULL);
	c.bus = zsock_new(ZMQ_DEALER);
	if (!c.bus)
		return 1;
	{
		/* name#pid: two processes claiming one cube stay distinguishable,
		 * so the broker can refuse the one it does not want */
		char ident[96];

		snprintf(ident, sizeof(ident), "%s#%d", c.name, getpid());
		zsock_set_identity(c.bus, ident);
	}
	zsock_set_linger(c.bus, 100);
	zsock_set_maxmsgsize(c.bus, BUS_MAX_MSG);
	bus_ipc_endpoint(endpoint, sizeof(endpoint), c.run_dir, "cubes");
	if (zsock_connect(c.bus, "%s", endpoint) < 0) {
		cube_log(&c, LOG_ERR, "cannot connect to %s", endpoint);
		goto out;
	}
	if (c.id == 0 && cube_whoami(&c) < 0)
		goto out;
	if (!strcmp(c.type, "TC"))
		c.xdp = 0;
	else if (!strcmp(c.type, "XDP_SKB") || !strcmp(c.type, "XDP_DRV"))
		c.xdp = 1;
	else {
		fprintf(stderr, "%s: unknown type %s (TC, XDP_SKB or XDP_DRV)\n", argv[0], c.type);
		return 2;
	}
	for (int i = 0; i < CB_MAX_PORTS; i++)
		c.ports[i].index = -1;
	if (ops->priv_size) {
		c.priv = calloc(1, ops->priv_size);
		if (!c.priv)
			goto out;
	}
	libbpf_set_print(cube_libbpf_print);
	signal(SIGTERM, cube_on_signal);
	signal(SIGINT, cube_on_signal);
	signal(SIGPIPE, SIG_IGN);

	r = cube_load(&c, err, sizeof(err));
	if (r < 0) {
		cube_log(&c, LOG_ERR, "%s", err);
		goto out;
	}
	cube_hello(&c);
	c.loop = zloop_new();
	zloop_reader(c.loop, c.bus, cube_on_bus, &c);
	if (c.pb) {
		zmq_pollitem_t item = { .fd = perf_buffer__epoll_fd(c.pb), .events = ZMQ_POLLIN };

		zloop_poller(c.loop, &item, cube_on_perf, &c);
	}
	if (c.rb) {
		zmq_pollitem_t item = { .fd = ring_buffer__epoll_fd(c.rb), .events = ZMQ_POLLIN };

		zloop_poller(c.loop, &item, cube_on_ring, &c);
	}
	zloop_timer(c.loop, CUBE_HEARTBEAT_MS, 0, cube_on_timer, &c);
	if (ops->tick)
		zloop_timer(c.loop, ops->tick_ms ? ops->tick_ms : 1000, 0, cube_on_tick, &c);
	cube_log(&c, LOG_INFO, "running (id %u, %s, pid %d)", c.id, c.type, getpid());
	while (!cube_stop) {
		if (zloop_start(c.loop) != 0 || zsys_interrupted)
			if (cube_stop || zsys_interrupted)
				break;
	}
	status = 0;
out:
	/* Programs stay in the slot and maps stay pinned: packets keep flowing
	 * until the next process of this cube swaps its programs in. */
	zloop_destroy(&c.loop);
	zsock_destroy(&c.bus);
	perf_buffer__free(c.pb);
	ring_buffer__free(c.rb);
	if (c.pktin_map_fd >= 0)
		close(c.pktin_map_fd);
	if (c.log_map_fd >= 0)
		close(c.log_map_fd);
	if (c.pkt_fd >= 0)
		close(c.pkt_fd);
	if (c.skel || c.obj)
		cube_obj_close(&c, c.skel, c.obj);
	lyd_free_all(c.cfg_tree);
	ly_ctx_destroy(c.yang);
	free(c.priv);
	return status;
}
