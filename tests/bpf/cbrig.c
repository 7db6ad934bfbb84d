/* SPDX-License-Identifier: Apache-2.0 */
/* cbrig.c - test rig for cubebus BPF objects; see cbrig.h. */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <libgen.h>
#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/udp.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include "cbrig.h"
#include "cubebus/portstats.h"

/* What libbpf said during the last cbrig_load, for a failing test to show. */
static char cbrig_log[8192];
static size_t cbrig_log_len;

static int cbrig_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	int n;

	if (getenv("CBRIG_VERBOSE"))
		return vfprintf(stderr, fmt, ap);
	if (level == LIBBPF_DEBUG || cbrig_log_len >= sizeof(cbrig_log) - 1)
		return 0;
	n = vsnprintf(cbrig_log + cbrig_log_len, sizeof(cbrig_log) - cbrig_log_len, fmt, ap);
	if (n > 0)
		cbrig_log_len += (size_t)n;
	if (cbrig_log_len > sizeof(cbrig_log) - 1)
		cbrig_log_len = sizeof(cbrig_log) - 1;
	return 0;
}

const char *cbrig_libbpf_log(void)
{
	return cbrig_log;
}

static int cbrig_objdir(struct cbrig *r, const char *rel)
{
	const char *env = getenv("CUBEBUS_BPF_OBJ_DIR");
	char exe[PATH_MAX], path[PATH_MAX + 64];
	ssize_t n;

	if (env && *env) {
		snprintf(r->objdir, sizeof(r->objdir), "%s", env);
		return 0;
	}
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n < 0)
		return -errno;
	exe[n] = '\0';
	snprintf(path, sizeof(path), "%s/%s", dirname(exe), rel);
	if (!realpath(path, exe))
		return -errno;
	snprintf(r->objdir, sizeof(r->objdir), "%s", exe);
	return 0;
}

int cbrig_init(struct cbrig *r, const char *objdir_rel)
{
	int ret;

	memset(r, 0, sizeof(*r));
	r->links_fd = r->stats_fd = r->conf_fd = r->md_fd = -1;
	r->tc_slots_fd = r->xdp_slots_fd = -1;
	libbpf_set_print(cbrig_print);
	ret = cbrig_objdir(r, objdir_rel);
	if (ret < 0)
		return ret;
	r->ncpus = libbpf_num_possible_cpus();
	if (r->ncpus < 0)
		return r->ncpus;
	/* Same shapes as bpf/include/cubebus/maps.bpf.h and bpf/cubebus.bpf.c. */
	r->links_fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "cb_g_links", sizeof(__u32), sizeof(struct cb_link),
				     CB_LINK_ENTRIES, NULL);
	r->stats_fd = bpf_map_create(BPF_MAP_TYPE_PERCPU_ARRAY, "cb_g_stats", sizeof(__u32),
				     sizeof(struct cb_port_stats), CB_LINK_ENTRIES, NULL);
	r->conf_fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "cb_g_conf", sizeof(__u32), sizeof(struct cb_gconf), 1, NULL);
	r->md_fd = bpf_map_create(BPF_MAP_TYPE_PERCPU_ARRAY, "cb_g_md", sizeof(__u32), sizeof(struct cb_md), 1, NULL);
	r->tc_slots_fd = bpf_map_create(BPF_MAP_TYPE_PROG_ARRAY, "cb_g_tc_slots", sizeof(__u32), sizeof(__u32),
					CB_MAX_CUBES, NULL);
	r->xdp_slots_fd = bpf_map_create(BPF_MAP_TYPE_PROG_ARRAY, "cb_g_xdp_slots", sizeof(__u32), sizeof(__u32),
					 CB_MAX_CUBES, NULL);
	if (r->links_fd < 0 || r->stats_fd < 0 || r->conf_fd < 0 || r->md_fd < 0 || r->tc_slots_fd < 0 ||
	    r->xdp_slots_fd < 0) {
		ret = -errno;
		cbrig_fini(r);
		return ret ? ret : -EINVAL;
	}
	return 0;
}

void cbrig_fini(struct cbrig *r)
{
	int *fds[] = { &r->links_fd, &r->stats_fd, &r->conf_fd, &r->md_fd, &r->tc_slots_fd, &r->xdp_slots_fd };

	for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++) {
		if (*fds[i] >= 0)
			close(*fds[i]);
		*fds[i] = -1;
	}
}

static int cbrig_global_fd(struct cbrig *r, const char *name)
{
	static const struct {
		const char *name;
		size_t off;
	} globals[] = {
		{ "cb_g_links", offsetof(struct cbrig, links_fd) },
		{ "cb_g_stats", offsetof(struct cbrig, stats_fd) },
		{ "cb_g_conf", offsetof(struct cbrig, conf_fd) },
		{ "cb_g_md", offsetof(struct cbrig, md_fd) },
		{ "cb_g_tc_slots", offsetof(struct cbrig, tc_slots_fd) },
		{ "cb_g_xdp_slots", offsetof(struct cbrig, xdp_slots_fd) },
	};

	for (size_t i = 0; i < sizeof(globals) / sizeof(globals[0]); i++)
		if (!strcmp(name, globals[i].name))
			return *(int *)((char *)r + globals[i].off);
	return -ENOENT;
}

/*
 * Sets a const volatile u32 of .rodata through the object's BTF. The map is
 * the internal one whose name ends in ".rodata" exactly: an object with
 * string constants also has ".rodata.str1.1", which must not be taken for it.
 */
static int cbrig_set_rodata(struct bpf_object *obj, const char *var, __u32 val)
{
	struct btf *btf = bpf_object__btf(obj);
	const struct btf_var_secinfo *vs;
	const struct btf_type *sec;
	struct bpf_map *map, *ro = NULL;
	const void *init;
	size_t size;
	void *data;
	int id, ret = -ENOENT;

	bpf_object__for_each_map (map, obj) {
		const char *n = bpf_map__name(map);
		size_t l = strlen(n);

		if (bpf_map__is_internal(map) && l >= 7 && !strcmp(n + l - 7, ".rodata"))
			ro = map;
	}
	if (!ro || !btf)
		return -ENOENT;
	id = btf__find_by_name_kind(btf, ".rodata", BTF_KIND_DATASEC);
	if (id < 0)
		return -ENOENT;
	sec = btf__type_by_id(btf, id);
	init = bpf_map__initial_value(ro, &size);
	if (!init)
		return -EINVAL;
	data = malloc(size);
	if (!data)
		return -ENOMEM;
	memcpy(data, init, size);
	vs = btf_var_secinfos(sec);
	for (int i = 0; i < btf_vlen(sec); i++, vs++) {
		const struct btf_type *t = btf__type_by_id(btf, vs->type);

		if (strcmp(btf__name_by_offset(btf, t->name_off), var))
			continue;
		if (vs->size != sizeof(val) || vs->offset + sizeof(val) > size) {
			ret = -EINVAL;
			break;
		}
		memcpy((char *)data + vs->offset, &val, sizeof(val));
		ret = bpf_map__set_initial_value(ro, data, size);
		break;
	}
	free(data);
	return ret;
}

int cbrig_load(struct cbrig *r, const char *file, const struct cbrig_var *vars, int nvars, struct bpf_object **out,
	       char *err, size_t errlen)
{
	char path[sizeof(r->objdir) + 128];
	struct bpf_object *obj;
	struct bpf_map *map;
	int ret;

	*out = NULL;
	cbrig_log_len = 0;
	cbrig_log[0] = '\0';
	snprintf(path, sizeof(path), "%s/%s", r->objdir, file);
	obj = bpf_object__open_file(path, NULL);
	if (!obj) {
		ret = -errno;
		snprintf(err, errlen, "cannot open %s: %s", path, strerror(-ret));
		return ret;
	}
	for (int i = 0; i < nvars; i++) {
		ret = cbrig_set_rodata(obj, vars[i].name, vars[i].val);
		if (ret < 0) {
			snprintf(err, errlen, "%s has no settable %s: %s", file, vars[i].name, strerror(-ret));
			goto close_obj;
		}
	}
	bpf_object__for_each_map (map, obj) {
		const char *name = bpf_map__name(map);
		int fd;

		if (bpf_map__is_internal(map) || strncmp(name, "cb_g_", 5))
			continue;
		fd = cbrig_global_fd(r, name);
		if (fd < 0) {
			ret = fd;
			snprintf(err, errlen, "%s: unknown global map %s", file, name);
			goto close_obj;
		}
		ret = bpf_map__reuse_fd(map, fd);
		if (ret < 0) {
			snprintf(err, errlen, "%s: cannot share %s: %s", file, name, strerror(-ret));
			goto close_obj;
		}
	}
	ret = bpf_object__load(obj);
	if (ret < 0) {
		snprintf(err, errlen, "cannot load %s: %s", file, strerror(-ret));
		goto close_obj;
	}
	*out = obj;
	return 0;
close_obj:
	bpf_object__close(obj);
	return ret;
}

int cbrig_prog_fd(struct bpf_object *obj, const char *name)
{
	struct bpf_program *p = bpf_object__find_program_by_name(obj, name);

	return p ? bpf_program__fd(p) : -ENOENT;
}

int cbrig_map_fd(struct bpf_object *obj, const char *name)
{
	struct bpf_map *m = bpf_object__find_map_by_name(obj, name);

	return m ? bpf_map__fd(m) : -ENOENT;
}

int cbrig_set_link(struct cbrig *r, __u32 cube, __u32 port, __u32 kind, __u32 ifindex, __u16 peer_cube, __u16 peer_port)
{
	struct cb_link l = { .kind = kind, .ifindex = ifindex, .peer_cube = peer_cube, .peer_port = peer_port };
	__u32 key = CB_LINK_KEY(cube, port);

	if (cube >= CB_MAX_CUBES || port >= CB_MAX_PORTS)
		return -EINVAL;
	return bpf_map_update_elem(r->links_fd, &key, &l, BPF_ANY) ? -errno : 0;
}

int cbrig_stats(struct cbrig *r, __u32 cube, __u32 port, struct cb_port_stats *out)
{
	return cb_port_stats_read(r->links_fd, r->stats_fd, r->ncpus, cube, port, out);
}

int cbrig_percpu_u64(struct cbrig *r, int map_fd, __u32 key, __u64 *out)
{
	__u64 *v = calloc(r->ncpus, sizeof(*v));
	int ret = 0;

	*out = 0;
	if (!v)
		return -ENOMEM;
	if (bpf_map_lookup_elem(map_fd, &key, v))
		ret = -errno;
	else
		for (int i = 0; i < r->ncpus; i++)
			*out += v[i];
	free(v);
	return ret;
}

int cbrig_set_gconf(struct cbrig *r, __u32 inj_ifindex)
{
	struct cb_gconf g = { .inj_ifindex = inj_ifindex };
	__u32 zero = 0;

	return bpf_map_update_elem(r->conf_fd, &zero, &g, BPF_ANY) ? -errno : 0;
}

/* test_run may run the program on any CPU: the in-port goes to all. */
static int cbrig_set_xdp_md(struct cbrig *r, __u32 in_port)
{
	struct cb_md *v = calloc(r->ncpus, sizeof(*v));
	__u32 zero = 0;
	int ret = 0;

	if (!v)
		return -ENOMEM;
	for (int i = 0; i < r->ncpus; i++)
		v[i].in_port = (__u16)in_port;
	if (bpf_map_update_elem(r->md_fd, &zero, v, BPF_ANY))
		ret = -errno;
	free(v);
	return ret;
}

int cbrig_run(struct cbrig *r, int prog_fd, struct cbrig_run *run)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = run->pkt, .data_size_in = run->len, .data_out = run->out,
		    .data_size_out = run->out ? run->out_size : 0, .repeat = run->repeat ? run->repeat : 1);
	struct __sk_buff skb = { 0 };
	struct timespec t0, t1;
	int ret;

	if (run->hook == CBRIG_TC) {
		skb.cb[0] = run->in_port;
		skb.mark = run->mark;
		opts.ctx_in = &skb;
		opts.ctx_size_in = sizeof(skb);
	} else {
		ret = cbrig_set_xdp_md(r, run->in_port);
		if (ret < 0)
			return ret;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	ret = bpf_prog_test_run_opts(prog_fd, &opts);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (ret < 0)
		return -errno;
	run->retval = opts.retval;
	run->out_len = opts.data_size_out;
	run->duration_ns = opts.duration;
	run->wall_ns = ((t1.tv_sec - t0.tv_sec) * 1e9 + (t1.tv_nsec - t0.tv_nsec)) / opts.repeat;
	return 0;
}

__u32 cbrig_udp_frame(void *buf, const __u8 dst[6], const __u8 src[6])
{
	struct ethhdr *eth = buf;
	struct iphdr *ip = (struct iphdr *)(eth + 1);
	struct udphdr *udp = (struct udphdr *)(ip + 1);
	const __u32 len = 64;
	__u8 *payload = (__u8 *)(udp + 1);
	__u32 sum = 0;

	memset(buf, 0, len);
	memcpy(eth->h_dest, dst, ETH_ALEN);
	memcpy(eth->h_source, src, ETH_ALEN);
	eth->h_proto = htons(ETH_P_IP);
	ip->version = 4;
	ip->ihl = 5;
	ip->ttl = 64;
	ip->protocol = IPPROTO_UDP;
	ip->tot_len = htons(len - sizeof(*eth));
	ip->saddr = htonl(0x0a000001);
	ip->daddr = htonl(0x0a000002);
	for (int i = 0; i < 10; i++)
		sum += ((__u16 *)ip)[i];
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	ip->check = (__u16)~sum;
	udp->source = htons(40000);
	udp->dest = htons(9);
	udp->len = htons(len - sizeof(*eth) - sizeof(*ip));
	for (__u8 *p = payload; p < (__u8 *)buf + len; p++)
		*p = (__u8)(p - payload);
	return len;
}
