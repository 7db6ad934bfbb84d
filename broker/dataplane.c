/* SPDX-License-Identifier: Apache-2.0 */
/*
 * dataplane.c - what the broker owns in the kernel: the pinned global maps
 * (slot arrays, link table, counters, metadata, configuration), the
 * per-cube next-hop array and flood devmap, the ingress stubs on netdevs
 * and the injector veth pair used by packet-out and TC flooding.
 *
 * Every object is pinned under the bpffs root: the broker can die and the
 * data plane keeps forwarding.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <net/if.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/if_link.h>
#include <linux/magic.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "broker.h"
#include "cubebus.skel.h"

#define DP_TC_HANDLE 0xcb
#define DP_TC_PRIO   1

extern char **environ;

/* Runs a command (argv) and waits; 0 if it exited 0. */
static int dp_run(char *const argv[])
{
	posix_spawn_file_actions_t fa;
	pid_t pid;
	int st, r;

	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	r = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (r)
		return -r;
	if (waitpid(pid, &st, 0) < 0)
		return -errno;
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -EIO;
}

static void dp_sysctl(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);

	if (fd >= 0) {
		if (write(fd, val, strlen(val)) < 0)
			bk_log(7, "sysctl %s: %s", path, strerror(errno));
		close(fd);
	}
}

static int dp_mount_bpffs(const char *root, char *err, size_t errlen)
{
	struct statfs sfs;

	if (statfs("/sys/fs/bpf", &sfs) == 0 && sfs.f_type == BPF_FS_MAGIC)
		return 0;
	if (strncmp(root, "/sys/fs/bpf/", 12))
		return 0; /* a root elsewhere: the operator mounted it */
	mkdir("/sys/fs/bpf", 0700);
	if (mount("bpf", "/sys/fs/bpf", "bpf", 0, "mode=0700") < 0) {
		snprintf(err, errlen, "no bpffs at /sys/fs/bpf and cannot mount one: %s", strerror(errno));
		return -errno;
	}
	bk_log(5, "mounted bpffs at /sys/fs/bpf");
	return 0;
}

static int dp_mkdirs(const char *path)
{
	char tmp[600];

	snprintf(tmp, sizeof(tmp), "%s", path);
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = 0;
		if (mkdir(tmp, 0700) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(tmp, 0700) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

static int dp_rm_cb(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	if (remove(path) < 0 && errno != ENOENT)
		bk_log(4, "cannot remove %s: %s", path, strerror(errno));
	return 0;
}

static void dp_rmtree(const char *path)
{
	nftw(path, dp_rm_cb, 16, FTW_DEPTH | FTW_PHYS);
}

/*
 * Opens the framework object with its maps pinned under the root (created
 * on first use, reused after), only `prog` autoloaded, and the stub's
 * read-only data. Returns the opened and loaded skeleton or NULL.
 */
static struct cubebus *dp_framework(struct broker *b, const char *prog, __u32 slot, __u32 in_port, char *err,
				    size_t errlen)
{
	struct cubebus *skel = cubebus__open();
	struct bpf_program *p;
	struct bpf_map *m;
	char path[600];
	int r;

	if (!skel) {
		snprintf(err, errlen, "cannot open the framework programs: %s", strerror(errno));
		return NULL;
	}
	skel->rodata->cb_slot = slot;
	skel->rodata->cb_in_port = in_port;
	bpf_object__for_each_program (p, skel->obj)
		bpf_program__set_autoload(p, !strcmp(bpf_program__name(p), prog));
	bpf_object__for_each_map (m, skel->obj) {
		if (bpf_map__is_internal(m))
			continue;
		snprintf(path, sizeof(path), "%s/%s", b->bpffs, bpf_map__name(m));
		bpf_map__set_pin_path(m, path);
	}
	r = cubebus__load(skel);
	if (r < 0) {
		snprintf(err, errlen, "cannot load %s: %s", prog, strerror(-r));
		cubebus__destroy(skel);
		return NULL;
	}
	return skel;
}

static int dp_prog_fd(struct cubebus *skel, const char *name)
{
	struct bpf_program *p = bpf_object__find_program_by_name(skel->obj, name);

	return p ? bpf_program__fd(p) : -ENOENT;
}

static int dp_tc_attach(int ifindex, int prog_fd, char *err, size_t errlen, const char *what)
{
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = BPF_TC_INGRESS);
	DECLARE_LIBBPF_OPTS(bpf_tc_opts, opts, .handle = DP_TC_HANDLE, .priority = DP_TC_PRIO, .prog_fd = prog_fd,
			    .flags = BPF_TC_F_REPLACE);
	int r;

	bk_libbpf_quiet(1); /* an existing clsact is fine, and libbpf says so loudly */
	r = bpf_tc_hook_create(&hook);
	bk_libbpf_quiet(0);
	if (r < 0 && r != -EEXIST) {
		snprintf(err, errlen, "cannot add clsact to %s: %s", what, strerror(-r));
		return r;
	}
	r = bpf_tc_attach(&hook, &opts);
	if (r < 0)
		snprintf(err, errlen, "cannot attach to TC ingress of %s: %s", what, strerror(-r));
	return r;
}

static void dp_tc_detach(int ifindex)
{
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = BPF_TC_INGRESS);
	DECLARE_LIBBPF_OPTS(bpf_tc_opts, opts, .handle = DP_TC_HANDLE, .priority = DP_TC_PRIO);

	bpf_tc_detach(&hook, &opts);
}

static void dp_inj_names(struct broker *b)
{
	unsigned h = 2166136261u;

	for (const char *p = b->bpffs; *p; p++)
		h = (h ^ (unsigned char)*p) * 16777619u;
	snprintf(b->inj_name[0], sizeof(b->inj_name[0]), "cbi%08xa", h);
	snprintf(b->inj_name[1], sizeof(b->inj_name[1]), "cbi%08xb", h);
}

static int dp_injector(struct broker *b, char *err, size_t errlen)
{
	char path[256];
	struct cubebus *skel = NULL;
	int a, bi, r;

	dp_inj_names(b);
	if (!if_nametoindex(b->inj_name[0])) {
		char *argv[] = { "ip",	 "link", "add",	 b->inj_name[0], "type",
				 "veth", "peer", "name", b->inj_name[1], NULL };

		r = dp_run(argv);
		if (r < 0) {
			snprintf(err, errlen, "cannot create the injector veth %s (iproute2 'ip' needed): %s",
				 b->inj_name[0], strerror(-r));
			return r;
		}
	}
	for (int i = 0; i < 2; i++) {
		char *argv[] = { "ip", "link", "set", b->inj_name[i], "up", NULL };

		snprintf(path, sizeof(path), "/proc/sys/net/ipv6/conf/%s/disable_ipv6", b->inj_name[i]);
		dp_sysctl(path, "1");
		dp_run(argv);
	}
	a = if_nametoindex(b->inj_name[0]);
	bi = if_nametoindex(b->inj_name[1]);
	if (!a || !bi) {
		snprintf(err, errlen, "injector veth %s vanished", b->inj_name[0]);
		return -ENODEV;
	}
	skel = dp_framework(b, "cb_inject_tc", 0, 0, err, errlen);
	if (!skel)
		return -EINVAL;
	r = dp_tc_attach(bi, dp_prog_fd(skel, "cb_inject_tc"), err, errlen, b->inj_name[1]);
	cubebus__destroy(skel);
	if (r < 0)
		return r;
	skel = dp_framework(b, "cb_inject_xdp", 0, 0, err, errlen);
	if (!skel)
		return -EINVAL;
	r = bpf_xdp_attach(bi, dp_prog_fd(skel, "cb_inject_xdp"), XDP_FLAGS_SKB_MODE, NULL);
	cubebus__destroy(skel);
	if (r < 0) {
		snprintf(err, errlen, "cannot attach the XDP injector to %s: %s", b->inj_name[1], strerror(-r));
		return r;
	}
	b->inj_ifindex = a;
	return 0;
}

static int dp_open_pin(struct broker *b, const char *name)
{
	char path[600];

	snprintf(path, sizeof(path), "%s/%s", b->bpffs, name);
	return bpf_obj_get(path);
}

int dp_init(struct broker *b, char *err, size_t errlen)
{
	char path[600];
	struct cb_gconf g = { 0 };
	__u32 zero = 0;
	int r;

	r = dp_mount_bpffs(b->bpffs, err, errlen);
	if (r < 0)
		return r;
	snprintf(path, sizeof(path), "%s/cubes", b->bpffs);
	r = dp_mkdirs(path);
	if (r < 0) {
		snprintf(err, errlen, "cannot create %s: %s", path, strerror(-r));
		return r;
	}
	/* loading the injector creates (or reuses) every global pinned map */
	r = dp_injector(b, err, errlen);
	if (r < 0)
		return r;
	b->tc_slots_fd = dp_open_pin(b, CB_PIN_TC_SLOTS);
	b->xdp_slots_fd = dp_open_pin(b, CB_PIN_XDP_SLOTS);
	b->links_fd = dp_open_pin(b, CB_PIN_LINKS);
	b->stats_fd = dp_open_pin(b, CB_PIN_STATS);
	b->md_fd = dp_open_pin(b, CB_PIN_MD);
	b->conf_fd = dp_open_pin(b, CB_PIN_CONF);
	if (b->tc_slots_fd < 0 || b->xdp_slots_fd < 0 || b->links_fd < 0 || b->stats_fd < 0 || b->md_fd < 0 ||
	    b->conf_fd < 0) {
		snprintf(err, errlen, "cannot open the pinned maps under %s", b->bpffs);
		return -ENOENT;
	}
	g.inj_ifindex = b->inj_ifindex;
	if (bpf_map_update_elem(b->conf_fd, &zero, &g, BPF_ANY) < 0) {
		snprintf(err, errlen, "cannot write %s: %s", CB_PIN_CONF, strerror(errno));
		return -errno;
	}
	return 0;
}

void dp_fini(struct broker *b)
{
	int *fds[] = { &b->tc_slots_fd, &b->xdp_slots_fd, &b->links_fd, &b->stats_fd, &b->md_fd, &b->conf_fd };

	for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++) {
		if (*fds[i] >= 0)
			close(*fds[i]);
		*fds[i] = -1;
	}
}

static void dp_cube_dir(struct broker *b, struct bk_cube *c, char *buf, size_t size)
{
	snprintf(buf, size, "%s/cubes/%s", b->bpffs, c->name);
}

static int dp_create_pinned(const char *path, enum bpf_map_type type, __u32 value_size, __u32 max, char *err,
			    size_t errlen)
{
	int fd = bpf_map_create(type, NULL, sizeof(__u32), value_size, max, NULL);
	int r = 0;

	if (fd < 0) {
		snprintf(err, errlen, "cannot create %s: %s", path, strerror(errno));
		return -errno;
	}
	if (bpf_obj_pin(fd, path) < 0) {
		r = -errno;
		snprintf(err, errlen, "cannot pin %s: %s", path, strerror(errno));
	}
	close(fd);
	return r;
}

static void dp_cube_zero(struct broker *b, struct bk_cube *c)
{
	struct cb_link none = { 0 };
	int ncpu = libbpf_num_possible_cpus();
	struct cb_port_stats *zero = calloc(ncpu > 0 ? ncpu : 1, sizeof(*zero));

	for (int p = 0; p < CB_MAX_PORTS; p++) {
		__u32 key = CB_LINK_KEY(c->id, p);

		bpf_map_update_elem(b->links_fd, &key, &none, BPF_ANY);
		if (zero)
			bpf_map_update_elem(b->stats_fd, &key, zero, BPF_ANY);
	}
	free(zero);
}

int dp_cube_prepare(struct broker *b, struct bk_cube *c, int fresh, char *err, size_t errlen)
{
	char dir[600], path[700];
	struct stat st;
	int r;

	dp_cube_dir(b, c, dir, sizeof(dir));
	if (fresh) {
		dp_rmtree(dir); /* leftovers of an older cube of this name */
		dp_cube_zero(b, c);
	}
	r = dp_mkdirs(dir);
	if (r < 0) {
		snprintf(err, errlen, "cannot create %s: %s", dir, strerror(-r));
		return r;
	}
	snprintf(path, sizeof(path), "%s/%s", dir, CB_PIN_NEXT);
	if (stat(path, &st) < 0) {
		r = dp_create_pinned(path, BPF_MAP_TYPE_PROG_ARRAY, sizeof(__u32), CB_MAX_PORTS, err, errlen);
		if (r < 0)
			return r;
	}
	/* cb_flood is created by the cube's first load: the kernel marks devmaps
	 * read-only for programs, which libbpf's reuse check would refuse */
	return r;
}

void dp_cube_remove(struct broker *b, struct bk_cube *c)
{
	char dir[600];
	__u32 key = c->id;

	bpf_map_delete_elem(c->xdp ? b->xdp_slots_fd : b->tc_slots_fd, &key);
	dp_cube_zero(b, c);
	dp_cube_dir(b, c, dir, sizeof(dir));
	dp_rmtree(dir);
}

uint32_t dp_slot_prog_id(struct broker *b, struct bk_cube *c)
{
	__u32 key = c->id, id = 0;

	if (bpf_map_lookup_elem(c->xdp ? b->xdp_slots_fd : b->tc_slots_fd, &key, &id) < 0)
		return 0;
	return id;
}

static int dp_cube_map(struct broker *b, struct bk_cube *c, const char *name)
{
	char path[700];

	snprintf(path, sizeof(path), "%s/cubes/%s/%s", b->bpffs, c->name, name);
	return bpf_obj_get(path);
}

static int dp_attach_stub(struct broker *b, struct bk_cube *c, int port, int ifindex, int xdp_flags, char *err,
			  size_t errlen)
{
	char what[IF_NAMESIZE + 1] = "";
	struct cubebus *skel;
	int r;

	if_indextoname(ifindex, what);
	skel = dp_framework(b, c->xdp ? "cb_ingress_xdp" : "cb_ingress_tc", c->id, port, err, errlen);
	if (!skel)
		return -EINVAL;
	if (c->xdp) {
		r = bpf_xdp_attach(ifindex, dp_prog_fd(skel, "cb_ingress_xdp"), xdp_flags, NULL);
		if (r < 0)
			snprintf(err, errlen, "cannot attach XDP (%s mode) to %s: %s",
				 xdp_flags & XDP_FLAGS_DRV_MODE ? "driver" : "generic", what, strerror(-r));
	} else {
		r = dp_tc_attach(ifindex, dp_prog_fd(skel, "cb_ingress_tc"), err, errlen, what);
	}
	cubebus__destroy(skel); /* the attachment holds the program */
	return r;
}

static void dp_detach_stub(int ifindex, int xdp_flags)
{
	if (xdp_flags)
		bpf_xdp_detach(ifindex, xdp_flags, NULL);
	else
		dp_tc_detach(ifindex);
}

int dp_port_apply(struct broker *b, struct bk_cube *c, int port, const struct bk_applied *want, char *err,
		  size_t errlen)
{
	struct bk_applied *cur = &c->ports[port].applied;
	__u32 key = CB_LINK_KEY(c->id, port), pkey = port;
	int r = 0, fd;

	/* 1. stop traffic that no longer belongs: detach first */
	if (cur->attached_ifindex &&
	    (cur->attached_ifindex != want->attached_ifindex || cur->attached_xdp_flags != want->attached_xdp_flags)) {
		dp_detach_stub(cur->attached_ifindex, cur->attached_xdp_flags);
		cur->attached_ifindex = 0;
		cur->attached_xdp_flags = 0;
	}
	/* 2. the link entry and the next hop */
	if (memcmp(&cur->link, &want->link, sizeof(want->link))) {
		if (bpf_map_update_elem(b->links_fd, &key, &want->link, BPF_ANY) < 0) {
			snprintf(err, errlen, "cannot write the link of %s port %d: %s", c->name, port,
				 strerror(errno));
			return -errno;
		}
		cur->link = want->link;
	}
	if (cur->next_prog_id != want->next_prog_id) {
		fd = dp_cube_map(b, c, CB_PIN_NEXT);
		if (fd >= 0) {
			if (want->next_prog_id) {
				int pfd = bpf_prog_get_fd_by_id(want->next_prog_id);

				if (pfd < 0 || bpf_map_update_elem(fd, &pkey, &pfd, BPF_ANY) < 0)
					r = -errno;
				if (pfd >= 0)
					close(pfd);
			} else {
				bpf_map_delete_elem(fd, &pkey);
			}
			close(fd);
		} else {
			r = -errno;
		}
		if (r < 0) {
			snprintf(err, errlen, "cannot wire %s port %d to its peer: %s", c->name, port, strerror(-r));
			return r;
		}
		cur->next_prog_id = want->next_prog_id;
	}
	if (c->xdp && cur->flood_ifindex != want->flood_ifindex) {
		fd = dp_cube_map(b, c, CB_PIN_FLOOD);
		if (fd >= 0) { /* absent until the cube's first load; synced again at its hello */
			__u32 v = want->flood_ifindex;

			if (v)
				bpf_map_update_elem(fd, &pkey, &v, BPF_ANY);
			else
				bpf_map_delete_elem(fd, &pkey);
			close(fd);
			cur->flood_ifindex = want->flood_ifindex;
		}
	}
	/* 3. start new traffic last */
	if (want->attached_ifindex && !cur->attached_ifindex) {
		r = dp_attach_stub(b, c, port, want->attached_ifindex, want->attached_xdp_flags, err, errlen);
		if (r < 0)
			return r;
		cur->attached_ifindex = want->attached_ifindex;
		cur->attached_xdp_flags = want->attached_xdp_flags;
	}
	return 0;
}

int dp_port_stats(struct broker *b, struct bk_cube *c, int port, struct cb_port_stats *out)
{
	int ncpu = libbpf_num_possible_cpus();
	struct cb_port_stats *v;
	__u32 key = CB_LINK_KEY(c->id, port);

	memset(out, 0, sizeof(*out));
	if (ncpu <= 0)
		return -EINVAL;
	v = calloc(ncpu, sizeof(*v));
	if (!v)
		return -ENOMEM;
	if (bpf_map_lookup_elem(b->stats_fd, &key, v) == 0) {
		for (int i = 0; i < ncpu; i++) {
			out->rx_packets += v[i].rx_packets;
			out->rx_bytes += v[i].rx_bytes;
			out->tx_packets += v[i].tx_packets;
			out->tx_bytes += v[i].tx_bytes;
			out->drops += v[i].drops;
		}
	}
	free(v);
	return 0;
}

/* Whether program id uses map id (our instance's slot array). */
static int dp_prog_uses_map(__u32 prog_id, __u32 map_id)
{
	struct bpf_prog_info info = { 0 };
	__u32 ids[16], len = sizeof(info);
	int fd = bpf_prog_get_fd_by_id(prog_id), r = 0;

	if (fd < 0)
		return 0;
	info.nr_map_ids = 16;
	info.map_ids = (__u64)(unsigned long)ids;
	if (bpf_obj_get_info_by_fd(fd, &info, &len) == 0)
		for (__u32 i = 0; i < info.nr_map_ids && i < 16; i++)
			r |= ids[i] == map_id;
	close(fd);
	return r;
}

static __u32 dp_map_id(int fd)
{
	struct bpf_map_info info = { 0 };
	__u32 len = sizeof(info);

	return bpf_obj_get_info_by_fd(fd, &info, &len) == 0 ? info.id : 0;
}

/* Whether a port of a known cube names netdev ifindex as its peer. */
static int dp_netdev_wanted(struct broker *b, int ifindex)
{
	for (int id = 1; id < CB_MAX_CUBES; id++) {
		struct bk_cube *c = &b->cubes_tab[id];

		for (int p = 0; c->used && p < CB_MAX_PORTS; p++)
			if (c->ports[p].applied.attached_ifindex == ifindex)
				return 1;
	}
	return 0;
}

int dp_reconcile(struct broker *b)
{
	__u32 tc_map = dp_map_id(b->tc_slots_fd), xdp_map = dp_map_id(b->xdp_slots_fd);
	struct if_nameindex *ifs = if_nameindex(), *i;
	char path[700];
	DIR *d;
	struct dirent *de;
	int removed = 0;

	/* pins of cubes the database does not know */
	snprintf(path, sizeof(path), "%s/cubes", b->bpffs);
	d = opendir(path);
	while (d && (de = readdir(d))) {
		if (de->d_name[0] == '.' || topo_cube(b, de->d_name))
			continue;
		snprintf(path, sizeof(path), "%s/cubes/%s", b->bpffs, de->d_name);
		dp_rmtree(path);
		bk_log(5, "reconcile: removed the pins of unknown cube %s", de->d_name);
		removed++;
	}
	if (d)
		closedir(d);
	/* programs in slots no cube owns */
	for (__u32 id = 1; id < CB_MAX_CUBES; id++) {
		struct bk_cube *c = &b->cubes_tab[id];
		__u32 prog;

		if (!(c->used && !c->xdp) && bpf_map_lookup_elem(b->tc_slots_fd, &id, &prog) == 0) {
			bpf_map_delete_elem(b->tc_slots_fd, &id);
			removed++;
		}
		if (!(c->used && c->xdp) && bpf_map_lookup_elem(b->xdp_slots_fd, &id, &prog) == 0) {
			bpf_map_delete_elem(b->xdp_slots_fd, &id);
			removed++;
		}
	}
	/* our stubs on netdevs no port names (ours: they use our slot arrays) */
	for (i = ifs; i && i->if_index; i++) {
		DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = i->if_index, .attach_point = BPF_TC_INGRESS);
		DECLARE_LIBBPF_OPTS(bpf_tc_opts, opts, .handle = DP_TC_HANDLE, .priority = DP_TC_PRIO);
		__u32 prog = 0;

		if ((int)i->if_index == b->inj_ifindex || !strcmp(i->if_name, b->inj_name[1]) ||
		    dp_netdev_wanted(b, i->if_index))
			continue;
		if (bpf_tc_query(&hook, &opts) == 0 && dp_prog_uses_map(opts.prog_id, tc_map)) {
			dp_tc_detach(i->if_index);
			bk_log(5, "reconcile: detached a stale TC stub from %s", i->if_name);
			removed++;
		}
		if (bpf_xdp_query_id(i->if_index, XDP_FLAGS_SKB_MODE, &prog) == 0 && prog &&
		    dp_prog_uses_map(prog, xdp_map)) {
			bpf_xdp_detach(i->if_index, XDP_FLAGS_SKB_MODE, NULL);
			bk_log(5, "reconcile: detached a stale XDP stub from %s", i->if_name);
			removed++;
		}
		prog = 0;
		if (bpf_xdp_query_id(i->if_index, XDP_FLAGS_DRV_MODE, &prog) == 0 && prog &&
		    dp_prog_uses_map(prog, xdp_map)) {
			bpf_xdp_detach(i->if_index, XDP_FLAGS_DRV_MODE, NULL);
			removed++;
		}
	}
	if (ifs)
		if_freenameindex(ifs);
	return removed;
}

void dp_purge(struct broker *b)
{
	dp_inj_names(b);
	if (if_nametoindex(b->inj_name[0])) {
		char *argv[] = { "ip", "link", "del", b->inj_name[0], NULL };

		dp_run(argv);
	}
	dp_rmtree(b->bpffs);
}
