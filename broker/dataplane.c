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
#include <arpa/inet.h>
#include <sys/socket.h>
#include <linux/if_ether.h>
#include <linux/if_link.h>
#include <linux/magic.h>
#include <linux/netlink.h>
#include <linux/pkt_cls.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "broker.h"
#include "cubebus.skel.h"
#include "cubebus/portstats.h"

#define DP_TC_HANDLE 0xcb
#define DP_TC_PRIO   1
#define DP_TC_MAX    64 /* filters on one ingress hook we look at */
/* programs of another instance's stubs: the names in cubebus.bpf.c */
#define DP_STUB_TC  "cb_ingress_tc"
#define DP_STUB_XDP "cb_ingress_xdp"
#define DP_TAKEOVER "takeover"

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
	char pin[BK_NAME_MAX];

	cb_pin_name(pin, sizeof(pin), c->name);
	snprintf(buf, size, "%s/cubes/%s", b->bpffs, pin);
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

static void dp_stats_zero(struct broker *b, __u32 key)
{
	int ncpu = libbpf_num_possible_cpus();
	struct cb_port_stats *zero = calloc(ncpu > 0 ? ncpu : 1, sizeof(*zero));

	if (zero)
		bpf_map_update_elem(b->stats_fd, &key, zero, BPF_ANY);
	free(zero);
}

static void dp_cube_zero(struct broker *b, struct bk_cube *c)
{
	struct cb_link none = { 0 };

	for (int p = 0; p < CB_MAX_PORTS; p++) {
		__u32 key = CB_LINK_KEY(c->id, p);

		bpf_map_update_elem(b->links_fd, &key, &none, BPF_ANY);
		dp_stats_zero(b, key);
	}
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
	char dir[600], path[700];

	dp_cube_dir(b, c, dir, sizeof(dir));
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return bpf_obj_get(path);
}

/* Whether program id uses map id (our instance's slot array). */
static int dp_prog_uses_map(__u32 prog_id, __u32 map_id)
{
	struct bpf_prog_info info = { 0 };
	__u32 ids[16], len = sizeof(info);
	int fd = bpf_prog_get_fd_by_id(prog_id), r = 0;

	if (fd < 0 || !map_id) {
		if (fd >= 0)
			close(fd);
		return 0;
	}
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

	return fd >= 0 && bpf_obj_get_info_by_fd(fd, &info, &len) == 0 ? info.id : 0;
}

/* The name the kernel has for program id ("" if it is gone). */
static void dp_prog_name(__u32 id, char *buf, size_t size)
{
	struct bpf_prog_info info = { 0 };
	__u32 len = sizeof(info);
	int fd = bpf_prog_get_fd_by_id(id);

	buf[0] = 0;
	if (fd < 0)
		return;
	if (bpf_obj_get_info_by_fd(fd, &info, &len) == 0)
		snprintf(buf, size, "%s", info.name);
	close(fd);
}

/* ---- what else runs on a netdev -------------------------------------------- */

struct dp_filter {
	__u32 prio, handle;
	__u16 proto;   /* host order */
	__u32 prog_id; /* 0: not a BPF filter */
	__u32 bpf_flags;
	char kind[16];
	char name[BPF_OBJ_NAME_LEN];
};

static void dp_filter_parse(struct nlmsghdr *nh, struct dp_filter *f)
{
	struct tcmsg *t = NLMSG_DATA(nh);
	int len = nh->nlmsg_len - NLMSG_LENGTH(sizeof(*t));

	memset(f, 0, sizeof(*f));
	f->handle = t->tcm_handle;
	f->prio = TC_H_MAJ(t->tcm_info) >> 16;
	f->proto = ntohs(TC_H_MIN(t->tcm_info));
	for (struct rtattr *a = (void *)((char *)t + NLMSG_ALIGN(sizeof(*t))); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
		if (a->rta_type == TCA_KIND) {
			snprintf(f->kind, sizeof(f->kind), "%.*s", (int)RTA_PAYLOAD(a), (char *)RTA_DATA(a));
		} else if (a->rta_type == TCA_OPTIONS) {
			int olen = RTA_PAYLOAD(a);

			for (struct rtattr *o = RTA_DATA(a); RTA_OK(o, olen); o = RTA_NEXT(o, olen)) {
				if (o->rta_type == TCA_BPF_ID && RTA_PAYLOAD(o) >= 4)
					memcpy(&f->prog_id, RTA_DATA(o), 4);
				else if (o->rta_type == TCA_BPF_FLAGS && RTA_PAYLOAD(o) >= 4)
					memcpy(&f->bpf_flags, RTA_DATA(o), 4);
			}
		}
	}
	if (f->prog_id)
		dp_prog_name(f->prog_id, f->name, sizeof(f->name));
}

/*
 * The filters on the TC ingress hook of ifindex (an RTM_GETTFILTER dump:
 * libbpf only queries one handle). Returns how many (at most max; 0 without
 * clsact) or -errno.
 */
static int dp_tc_filters(int ifindex, int egress, struct dp_filter *out, int max)
{
	struct {
		struct nlmsghdr nh;
		struct tcmsg t;
	} req = { 0 };
	static char buf[32768];
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE), n = 0, done = 0, r = 0;

	if (fd < 0)
		return -errno;
	req.nh.nlmsg_len = NLMSG_LENGTH(sizeof(req.t));
	req.nh.nlmsg_type = RTM_GETTFILTER;
	req.nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	req.nh.nlmsg_seq = 1;
	req.t.tcm_family = AF_UNSPEC;
	req.t.tcm_ifindex = ifindex;
	req.t.tcm_parent = TC_H_MAKE(TC_H_CLSACT, egress ? TC_H_MIN_EGRESS : TC_H_MIN_INGRESS);
	if (send(fd, &req, req.nh.nlmsg_len, 0) < 0) {
		r = -errno;
		done = 1;
	}
	while (!done) {
		int len = recv(fd, buf, sizeof(buf), 0);

		if (len < 0 && errno == EINTR)
			continue;
		if (len <= 0) {
			r = len < 0 ? -errno : -EIO;
			break;
		}
		for (struct nlmsghdr *nh = (void *)buf; NLMSG_OK(nh, (unsigned)len); nh = NLMSG_NEXT(nh, len)) {
			if (nh->nlmsg_type == NLMSG_DONE) {
				done = 1;
				break;
			}
			if (nh->nlmsg_type == NLMSG_ERROR) {
				struct nlmsgerr *e = NLMSG_DATA(nh);

				/* no clsact, no filters */
				r = e->error == -EINVAL || e->error == -ENOENT ? 0 : e->error;
				done = 1;
				break;
			}
			if (nh->nlmsg_type != RTM_NEWTFILTER || n >= max)
				continue;
			dp_filter_parse(nh, &out[n]);
			if (out[n].handle) /* the priority's own entry has none */
				n++;
		}
	}
	close(fd);
	return r < 0 ? r : n;
}

/* "veth1": the netdev's name for messages. */
static const char *dp_ifname(int ifindex, char *buf)
{
	if (!if_indextoname(ifindex, buf))
		snprintf(buf, IF_NAMESIZE, "ifindex %d", ifindex);
	return buf;
}

static const char *dp_xdp_mode(int flags)
{
	return flags & XDP_FLAGS_HW_MODE ? "offload" : flags & XDP_FLAGS_DRV_MODE ? "driver" : "generic";
}

/* How a program cubebus did not load is named in messages. */
static const char *dp_foreign_what(const char *name, const char *stub)
{
	return strcmp(name, stub) ? "not loaded by cubebus" : "the stub of another cubebus instance";
}

static void dp_takeover_dir(struct broker *b, char *buf, size_t size)
{
	snprintf(buf, size, "%s/" DP_TAKEOVER, b->bpffs);
}

/* Keeps program id under the takeover dir as leaf (replacing a stale one). */
static int dp_takeover_keep(struct broker *b, __u32 id, const char *leaf, char *err, size_t errlen)
{
	char path[700];
	int fd, r = 0;

	dp_takeover_dir(b, path, sizeof(path));
	dp_mkdirs(path);
	snprintf(path + strlen(path), sizeof(path) - strlen(path), "/%s", leaf);
	fd = bpf_prog_get_fd_by_id(id);
	if (fd < 0) {
		snprintf(err, errlen, "cannot open program %u to keep it: %s", id, strerror(errno));
		return -errno;
	}
	unlink(path);
	if (bpf_obj_pin(fd, path) < 0) {
		r = -errno;
		snprintf(err, errlen, "cannot keep program %u as %s: %s", id, path, strerror(errno));
	}
	close(fd);
	return r;
}

/* Puts back one kept program (takeover/<leaf>) and forgets it. */
static void dp_takeover_restore(struct broker *b, const char *leaf)
{
	char path[700], name[BPF_OBJ_NAME_LEN] = "", ifname[IF_NAMESIZE];
	int ifindex, prio, handle, fd, r = -ENOENT;
	char mode[8];
	struct bpf_prog_info info = { 0 };
	__u32 len = sizeof(info);

	dp_takeover_dir(b, path, sizeof(path));
	snprintf(path + strlen(path), sizeof(path) - strlen(path), "/%s", leaf);
	fd = bpf_obj_get(path);
	if (fd >= 0 && bpf_obj_get_info_by_fd(fd, &info, &len) == 0)
		snprintf(name, sizeof(name), "%s", info.name);
	if (fd < 0) {
		r = -errno;
	} else if (sscanf(leaf, "xdp_%d_%7s", &ifindex, mode) == 2) {
		int flags = !strcmp(mode, "drv") ? XDP_FLAGS_DRV_MODE : XDP_FLAGS_SKB_MODE;

		r = bpf_xdp_attach(ifindex, fd, flags | XDP_FLAGS_UPDATE_IF_NOEXIST, NULL);
		if (r == 0)
			bk_log(5, "put back XDP program %u \"%s\" (%s mode) on %s, which a port had taken over",
			       info.id, name, dp_xdp_mode(flags), dp_ifname(ifindex, ifname));
	} else if (sscanf(leaf, "tc_%d_%d_%x", &ifindex, &prio, &handle) == 3) {
		DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = BPF_TC_INGRESS);
		DECLARE_LIBBPF_OPTS(bpf_tc_opts, opts, .handle = handle, .priority = prio, .prog_fd = fd);

		bk_libbpf_quiet(1);
		bpf_tc_hook_create(&hook);
		r = bpf_tc_attach(&hook, &opts);
		bk_libbpf_quiet(0);
		if (r == 0)
			bk_log(5,
			       "put back TC filter %u \"%s\" (priority %d, handle 0x%x) on %s, which a port had taken "
			       "over",
			       info.id, name, prio, handle, dp_ifname(ifindex, ifname));
	}
	if (r < 0)
		bk_log(4, "cannot put back the program kept as %s (its netdev may be gone): %s", path, strerror(-r));
	if (fd >= 0)
		close(fd);
	unlink(path);
}

/* Puts back what ports took over on ifindex (0: on every netdev). */
static void dp_takeover_restore_all(struct broker *b, int ifindex)
{
	char dir[600];
	struct dirent *de;
	DIR *d;

	dp_takeover_dir(b, dir, sizeof(dir));
	d = opendir(dir);
	while (d && (de = readdir(d))) {
		int idx;

		if (de->d_name[0] == '.' ||
		    (sscanf(de->d_name, "xdp_%d_", &idx) != 1 && sscanf(de->d_name, "tc_%d_", &idx) != 1))
			continue;
		if (!ifindex || idx == ifindex)
			dp_takeover_restore(b, de->d_name);
	}
	if (d)
		closedir(d);
}

/* ---- the ingress stubs ------------------------------------------------------- */

/*
 * XDP: one program per netdev (and generic and driver mode exclude each
 * other). Ours (it uses our slot array) is replaced in place; anything
 * else is refused, or with force kept under takeover/ and replaced. The
 * attach itself never replaces what it did not expect (UPDATE_IF_NOEXIST or
 * REPLACE with the expected program), so a program that appears meanwhile
 * is not lost either. prog_fd -1: only looks (0, or the refusal).
 */
static int dp_attach_xdp(struct broker *b, struct bk_cube *c, int port, int ifindex, int mode, int prog_fd, char *err,
			 size_t errlen)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, q);
	LIBBPF_OPTS(bpf_xdp_attach_opts, ao);
	__u32 xmap = dp_map_id(b->xdp_slots_fd);
	const char *pname = c->ports[port].name;
	char ifname[IF_NAMESIZE], name[BPF_OBJ_NAME_LEN], leaf[64];
	int r, expected = -1, took = 0;

	dp_ifname(ifindex, ifname);
	r = bpf_xdp_query(ifindex, 0, &q);
	if (r < 0) {
		snprintf(err, errlen, "%s ports %s: cannot see what runs on %s: %s", c->name, pname, ifname,
			 strerror(-r));
		return r;
	}
	{
		struct {
			__u32 id;
			int flags;
		} have[] = { { q.skb_prog_id, XDP_FLAGS_SKB_MODE },
			     { q.drv_prog_id, XDP_FLAGS_DRV_MODE },
			     { q.hw_prog_id, XDP_FLAGS_HW_MODE } };

		/* first only look: a refusal changes nothing */
		for (int i = 0; i < 3; i++) {
			if (!have[i].id || dp_prog_uses_map(have[i].id, xmap))
				continue;
			dp_prog_name(have[i].id, name, sizeof(name));
			if (!b->force) {
				snprintf(err, errlen,
					 "%s ports %s: %s already runs XDP program %u \"%s\" (%s mode), %s; use -force "
					 "(REST: ?force=true) to take it over: cubebus keeps it and puts it back "
					 "when the port is deleted or moves",
					 c->name, pname, ifname, have[i].id, name, dp_xdp_mode(have[i].flags),
					 dp_foreign_what(name, DP_STUB_XDP));
				return -EBUSY;
			}
			if (have[i].flags == XDP_FLAGS_HW_MODE) {
				snprintf(err, errlen,
					 "%s ports %s: %s runs XDP program %u \"%s\" offloaded to the NIC, which "
					 "cubebus cannot take over and put back; remove it first",
					 c->name, pname, ifname, have[i].id, name);
				return -EBUSY;
			}
		}
		if (prog_fd < 0)
			return 0; /* only looking */
		for (int i = 0; i < 3; i++) {
			int fd;

			if (!have[i].id)
				continue;
			fd = bpf_prog_get_fd_by_id(have[i].id);
			if (fd < 0)
				continue; /* gone meanwhile */
			if (!dp_prog_uses_map(have[i].id, xmap)) {
				snprintf(leaf, sizeof(leaf), "xdp_%d_%s", ifindex,
					 have[i].flags == XDP_FLAGS_DRV_MODE ? "drv" : "skb");
				r = dp_takeover_keep(b, have[i].id, leaf, err, errlen);
				if (r < 0) {
					close(fd);
					goto fail;
				}
				took = 1;
				dp_prog_name(have[i].id, name, sizeof(name));
				bk_log(5,
				       "%s ports %s: took over XDP program %u \"%s\" (%s mode) on %s; kept as "
				       "%s/%s/%s, "
				       "put back when the port is deleted or moves",
				       c->name, pname, have[i].id, name, dp_xdp_mode(have[i].flags), ifname, b->bpffs,
				       DP_TAKEOVER, leaf);
			}
			if (have[i].flags == mode && expected < 0) {
				expected = fd;
				continue;
			}
			/* the other mode: removed, only if it is still that program */
			ao.old_prog_fd = fd;
			bpf_xdp_detach(ifindex, have[i].flags | XDP_FLAGS_REPLACE, &ao);
			close(fd);
		}
	}
	ao.old_prog_fd = expected;
	r = bpf_xdp_attach(ifindex, prog_fd, mode | (expected >= 0 ? XDP_FLAGS_REPLACE : XDP_FLAGS_UPDATE_IF_NOEXIST),
			   &ao);
	if (r < 0)
		snprintf(err, errlen, "%s ports %s: cannot attach XDP (%s mode) to %s: %s%s", c->name, pname,
			 dp_xdp_mode(mode), ifname, strerror(-r),
			 r == -EEXIST || r == -EBUSY ? " (a program was attached meanwhile: try again)" : "");
fail:
	if (expected >= 0)
		close(expected);
	if (r < 0 && took)
		dp_takeover_restore_all(b, ifindex);
	return r;
}

/*
 * TC: filters run by priority and the stub takes every packet it sees, so
 * it never goes in front of a filter it did not load (that filter would
 * see nothing). The rule (docs/ARCHITECTURE.md):
 *  - ours already there: replaced in place;
 *  - a foreign filter at the stub's priority (1), or another instance's
 *    stub anywhere: refused; with force taken over (kept, its place
 *    given to the stub, put back later);
 *  - foreign filters at other priorities: the stub goes after the last of
 *    them (highest priority number + 1): they keep seeing every packet
 *    first and the cube gets what they let continue.
 */
static int dp_attach_tc(struct broker *b, struct bk_cube *c, int port, int ifindex, int egress, int prog_fd, char *err,
			size_t errlen)
{
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex,
			    .attach_point = egress ? BPF_TC_EGRESS : BPF_TC_INGRESS);
	const char *dir = egress ? "egress" : "ingress";
	DECLARE_LIBBPF_OPTS(bpf_tc_opts, opts, .handle = DP_TC_HANDLE, .priority = DP_TC_PRIO, .prog_fd = prog_fd);
	struct dp_filter f[DP_TC_MAX], *conflict = NULL, *last = NULL, *ours = NULL;
	__u32 tmap = dp_map_id(b->tc_slots_fd);
	const char *pname = c->ports[port].name;
	char ifname[IF_NAMESIZE], leaf[64];
	int n, r, took = 0;

	dp_ifname(ifindex, ifname);
	n = dp_tc_filters(ifindex, egress, f, DP_TC_MAX);
	if (n < 0) {
		snprintf(err, errlen, "%s ports %s: cannot list the TC filters of %s: %s", c->name, pname, ifname,
			 strerror(-n));
		return n;
	}
	for (int i = 0; i < n; i++) {
		if (f[i].prog_id && dp_prog_uses_map(f[i].prog_id, tmap)) {
			if (!ours)
				ours = &f[i];
			continue;
		}
		if (f[i].prio == DP_TC_PRIO || !strcmp(f[i].name, DP_STUB_TC)) {
			if (!conflict)
				conflict = &f[i];
		} else if (!last || f[i].prio > last->prio) {
			last = &f[i];
		}
	}
	if (ours) {
		opts.priority = ours->prio;
		opts.handle = ours->handle;
		opts.flags = BPF_TC_F_REPLACE;
	} else if (conflict) {
		const char *what =
			conflict->prog_id ? dp_foreign_what(conflict->name, DP_STUB_TC) : "not loaded by cubebus";

		if (!b->force) {
			snprintf(err, errlen,
				 "%s ports %s: %s already has TC %s filter %s %u \"%s\" at priority %u "
				 "handle 0x%x, %s; use -force (REST: ?force=true) to take over its place: cubebus "
				 "keeps it and puts it back when the port is deleted or moves",
				 c->name, pname, ifname, dir, conflict->kind, conflict->prog_id, conflict->name,
				 conflict->prio, conflict->handle, what);
			return -EBUSY;
		}
		if (egress) {
			/* take-over keeps and restores ingress filters only */
			snprintf(err, errlen,
				 "%s ports %s: %s already has TC egress filter %s %u \"%s\" at priority %u handle "
				 "0x%x, %s; cubebus does not take over egress filters: move it to another priority",
				 c->name, pname, ifname, conflict->kind, conflict->prog_id, conflict->name,
				 conflict->prio, conflict->handle, what);
			return -EBUSY;
		}
		if (!conflict->prog_id || !(conflict->bpf_flags & TCA_BPF_FLAG_ACT_DIRECT) ||
		    conflict->proto != ETH_P_ALL) {
			snprintf(err, errlen,
				 "%s ports %s: %s has TC ingress filter %s at priority %u handle 0x%x, %s, which "
				 "cubebus cannot take over and put back (only a direct-action BPF filter for all "
				 "protocols); move it to another priority",
				 c->name, pname, ifname, conflict->kind, conflict->prio, conflict->handle, what);
			return -EBUSY;
		}
		if (prog_fd < 0)
			return 0;
		snprintf(leaf, sizeof(leaf), "tc_%d_%u_%x", ifindex, conflict->prio, conflict->handle);
		r = dp_takeover_keep(b, conflict->prog_id, leaf, err, errlen);
		if (r < 0)
			return r;
		took = 1;
		opts.priority = conflict->prio;
		opts.handle = conflict->handle;
		opts.flags = BPF_TC_F_REPLACE;
		bk_log(5,
		       "%s ports %s: took over TC filter %u \"%s\" (priority %u, handle 0x%x) on %s; kept as %s/%s/%s, "
		       "put back when the port is deleted or moves",
		       c->name, pname, conflict->prog_id, conflict->name, conflict->prio, conflict->handle, ifname,
		       b->bpffs, DP_TAKEOVER, leaf);
	} else if (last) {
		if (last->prio >= 0xffff) {
			snprintf(err, errlen,
				 "%s ports %s: %s has TC %s filter %s at priority %u, the last one: no priority is "
				 "left after it for the cube's stub; move it",
				 c->name, pname, ifname, dir, last->kind, last->prio);
			return -EBUSY;
		}
		if (prog_fd < 0)
			return 0;
		opts.priority = last->prio + 1;
		bk_log(5,
		       "%s ports %s: %s has TC %s filter %s %u \"%s\" at priority %u, not loaded by cubebus: the "
		       "cube's stub goes after it at priority %u; that filter sees every packet first and the "
		       "cube gets those it lets continue",
		       c->name, pname, ifname, dir, last->kind, last->prog_id, last->name, last->prio, opts.priority);
	}
	if (prog_fd < 0)
		return 0;
	bk_libbpf_quiet(1); /* an existing clsact is fine, and libbpf says so loudly */
	r = bpf_tc_hook_create(&hook);
	bk_libbpf_quiet(0);
	if (r < 0 && r != -EEXIST) {
		snprintf(err, errlen, "%s ports %s: cannot add clsact to %s: %s", c->name, pname, ifname, strerror(-r));
		goto out;
	}
	/* without REPLACE the kernel refuses a filter that took the place meanwhile */
	r = bpf_tc_attach(&hook, &opts);
	if (r < 0)
		snprintf(err, errlen, "%s ports %s: cannot attach to TC %s of %s at priority %u: %s", c->name, pname,
			 dir, ifname, opts.priority, strerror(-r));
out:
	if (r < 0 && took)
		dp_takeover_restore_all(b, ifindex);
	return r < 0 ? r : 0;
}

/* Removes our TC stubs from one hook of ifindex; returns how many. */
static int dp_tc_detach_dir(struct broker *b, int ifindex, int egress)
{
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex,
			    .attach_point = egress ? BPF_TC_EGRESS : BPF_TC_INGRESS);
	struct dp_filter f[DP_TC_MAX];
	__u32 tmap = dp_map_id(b->tc_slots_fd);
	int n = dp_tc_filters(ifindex, egress, f, DP_TC_MAX), k = 0;

	for (int i = 0; i < n; i++) {
		DECLARE_LIBBPF_OPTS(bpf_tc_opts, opts, .handle = f[i].handle, .priority = f[i].prio);

		if (f[i].prog_id && dp_prog_uses_map(f[i].prog_id, tmap) && bpf_tc_detach(&hook, &opts) == 0)
			k++;
	}
	return k;
}

/* Removes our TC stubs from both hooks of ifindex; returns how many. */
static int dp_tc_detach_ours(struct broker *b, int ifindex)
{
	return dp_tc_detach_dir(b, ifindex, 0) + dp_tc_detach_dir(b, ifindex, 1);
}

/* Removes our XDP stubs from ifindex (each only if it is still ours). */
static int dp_xdp_detach_ours(struct broker *b, int ifindex)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, q);
	__u32 xmap = dp_map_id(b->xdp_slots_fd);
	int k = 0;

	if (bpf_xdp_query(ifindex, 0, &q) < 0)
		return 0;
	{
		__u32 ids[] = { q.skb_prog_id, q.drv_prog_id };
		int modes[] = { XDP_FLAGS_SKB_MODE, XDP_FLAGS_DRV_MODE };

		for (int i = 0; i < 2; i++) {
			LIBBPF_OPTS(bpf_xdp_attach_opts, ao);
			int fd;

			if (!ids[i] || !dp_prog_uses_map(ids[i], xmap))
				continue;
			fd = bpf_prog_get_fd_by_id(ids[i]);
			if (fd < 0)
				continue;
			ao.old_prog_fd = fd;
			if (bpf_xdp_detach(ifindex, modes[i] | XDP_FLAGS_REPLACE, &ao) == 0)
				k++;
			close(fd);
		}
	}
	return k;
}

static int dp_attach_stub(struct broker *b, struct bk_cube *c, int port, int ifindex, int xdp_flags, char *err,
			  size_t errlen)
{
	struct cubebus *skel;
	int r;

	/* look first: a port refused at every netdev check loads nothing */
	r = c->xdp ? dp_attach_xdp(b, c, port, ifindex, xdp_flags, -1, err, errlen)
		   : dp_attach_tc(b, c, port, ifindex, 0, -1, err, errlen);
	if (r < 0)
		return r;
	skel = dp_framework(b, c->xdp ? "cb_ingress_xdp" : "cb_ingress_tc", c->id, port, err, errlen);
	if (!skel)
		return -EINVAL;
	if (c->xdp)
		r = dp_attach_xdp(b, c, port, ifindex, xdp_flags, dp_prog_fd(skel, "cb_ingress_xdp"), err, errlen);
	else
		r = dp_attach_tc(b, c, port, ifindex, 0, dp_prog_fd(skel, "cb_ingress_tc"), err, errlen);
	cubebus__destroy(skel); /* the attachment holds the program */
	return r;
}

/* The same stub at TC egress (a transparent cube's inner port on a netdev):
 * skb->cb is the qdisc's at egress too, so the cube reads its in-port. */
static int dp_attach_egress_stub(struct broker *b, struct bk_cube *c, int port, int ifindex, char *err, size_t errlen)
{
	struct cubebus *skel;
	int r = dp_attach_tc(b, c, port, ifindex, 1, -1, err, errlen);

	if (r < 0)
		return r;
	skel = dp_framework(b, "cb_ingress_tc", c->id, port, err, errlen);
	if (!skel)
		return -EINVAL;
	r = dp_attach_tc(b, c, port, ifindex, 1, dp_prog_fd(skel, "cb_ingress_tc"), err, errlen);
	cubebus__destroy(skel);
	return r;
}

/* Removes our stub, never another's, and puts back what the port took over. */
static void dp_detach_stub(struct broker *b, int ifindex, int xdp_flags)
{
	if (xdp_flags)
		dp_xdp_detach_ours(b, ifindex);
	else
		dp_tc_detach_dir(b, ifindex, 0);
	dp_takeover_restore_all(b, ifindex);
}

void dp_release_netdev(struct broker *b, int ifindex)
{
	int tc = b->tc_slots_fd, xdp = b->xdp_slots_fd;

	if (tc < 0)
		b->tc_slots_fd = dp_open_pin(b, CB_PIN_TC_SLOTS);
	if (xdp < 0)
		b->xdp_slots_fd = dp_open_pin(b, CB_PIN_XDP_SLOTS);
	dp_xdp_detach_ours(b, ifindex);
	dp_tc_detach_ours(b, ifindex);
	dp_takeover_restore_all(b, ifindex);
	if (tc < 0 && b->tc_slots_fd >= 0)
		close(b->tc_slots_fd);
	if (xdp < 0 && b->xdp_slots_fd >= 0)
		close(b->xdp_slots_fd);
	b->tc_slots_fd = tc;
	b->xdp_slots_fd = xdp;
}

/* cb_next[port] of c as want says. */
static int dp_next_apply(struct broker *b, struct bk_cube *c, int port, const struct bk_applied *want, char *err,
			 size_t errlen)
{
	struct bk_applied *cur = &c->ports[port].applied;
	__u32 pkey = port;
	int r = 0, fd;

	if (cur->next_prog_id == want->next_prog_id)
		return 0;
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
	return 0;
}

static int dp_port_apply_(struct broker *b, struct bk_cube *c, int port, const struct bk_applied *want,
			  struct cubebus **bridgep, char *err, size_t errlen)
{
	struct bk_applied *cur = &c->ports[port].applied;
	__u32 key = CB_LINK_KEY(c->id, port), pkey = port;
	struct cubebus *bridge = NULL;
	int r = 0, fd;

	/* 1. stop traffic that no longer belongs: detach first */
	if (cur->attached_ifindex &&
	    (cur->attached_ifindex != want->attached_ifindex || cur->attached_xdp_flags != want->attached_xdp_flags)) {
		dp_detach_stub(b, cur->attached_ifindex, cur->attached_xdp_flags);
		cur->attached_ifindex = 0;
		cur->attached_xdp_flags = 0;
	}
	if (cur->attached_egress_ifindex && cur->attached_egress_ifindex != want->attached_egress_ifindex) {
		dp_tc_detach_dir(b, cur->attached_egress_ifindex, 1);
		cur->attached_egress_ifindex = 0;
	}
	/*
	 * 2. the link entry and the next hop. They are two map writes, and
	 * the cube reads both per packet: the in-port for the next cube from
	 * the link, the program from cb_next. When a cube link gets another
	 * target (a transparent cube spliced in or out, a new peer) a packet
	 * between the two writes would reach one cube with the in-port meant
	 * for the other. So first a bridge goes into cb_next: the framework's
	 * stub, which sets the new in-port itself and jumps to the new cube;
	 * then the link; then the new cube itself. Every packet lands right.
	 */
	if (want->link.kind == CB_LINK_CUBE && want->next_prog_id &&
	    (cur->link.kind != CB_LINK_CUBE || cur->link.peer_cube != want->link.peer_cube ||
	     cur->link.peer_port != want->link.peer_port)) {
		char e[BK_ERR_MAX];

		bridge = *bridgep = dp_framework(b, c->xdp ? "cb_ingress_xdp" : "cb_ingress_tc", want->link.peer_cube,
						 want->link.peer_port, e, sizeof(e));
		fd = bridge ? dp_cube_map(b, c, CB_PIN_NEXT) : -1;
		if (fd >= 0) {
			int pfd = dp_prog_fd(bridge, c->xdp ? "cb_ingress_xdp" : "cb_ingress_tc");

			if (pfd >= 0 && bpf_map_update_elem(fd, &pkey, &pfd, BPF_ANY) == 0)
				cur->next_prog_id = 0; /* the cube's own program goes in below */
			close(fd);
		} else if (!bridge) {
			bk_log(4, "%s port %d: no bridge for the rewire (%s): a packet may be lost", c->name, port, e);
		}
	}
	/* without a bridge, a link that did not use cb_next (none, a netdev,
	 * a pass) gets its next hop first: the link must never say "cube"
	 * while cb_next[port] is empty (that packet would drop) */
	if (!bridge && cur->link.kind != CB_LINK_CUBE) {
		r = dp_next_apply(b, c, port, want, err, errlen);
		if (r < 0)
			return r;
	}
	if (memcmp(&cur->link, &want->link, sizeof(want->link))) {
		if (bpf_map_update_elem(b->links_fd, &key, &want->link, BPF_ANY) < 0) {
			snprintf(err, errlen, "cannot write the link of %s port %d: %s", c->name, port,
				 strerror(errno));
			return -errno;
		}
		cur->link = want->link;
	}
	r = dp_next_apply(b, c, port, want, err, errlen);
	if (r < 0)
		return r;
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
		if (r < 0) {
			struct cb_link none = { 0 };

			/* no ingress, no port: it stays DOWN, not half up */
			if (bpf_map_update_elem(b->links_fd, &key, &none, BPF_ANY) == 0)
				cur->link = none;
			return r;
		}
		cur->attached_ifindex = want->attached_ifindex;
		cur->attached_xdp_flags = want->attached_xdp_flags;
	}
	if (want->attached_egress_ifindex && !cur->attached_egress_ifindex) {
		r = dp_attach_egress_stub(b, c, port, want->attached_egress_ifindex, err, errlen);
		if (r < 0)
			return r;
		cur->attached_egress_ifindex = want->attached_egress_ifindex;
	}
	return 0;
}

int dp_port_apply(struct broker *b, struct bk_cube *c, int port, const struct bk_applied *want, char *err,
		  size_t errlen)
{
	struct cubebus *bridge = NULL;
	int r = dp_port_apply_(b, c, port, want, &bridge, err, errlen);

	/* the bridge program lives as long as cb_next holds it */
	if (bridge)
		cubebus__destroy(bridge);
	return r;
}

int dp_port_stats(struct broker *b, struct bk_cube *c, int port, struct cb_port_stats *out)
{
	return cb_port_stats_read(b->links_fd, b->stats_fd, libbpf_num_possible_cpus(), c->id, port, out);
}

/* Which of our stubs on netdev ifindex a known cube holds: 1 ingress,
 * 2 egress (both bits can be set). */
static int dp_netdev_wanted(struct broker *b, int ifindex)
{
	int w = 0;

	for (int id = 1; id < CB_MAX_CUBES; id++) {
		struct bk_cube *c = &b->cubes_tab[id];

		for (int p = 0; c->used && p < CB_MAX_PORTS; p++) {
			if (c->ports[p].applied.attached_ifindex == ifindex)
				w |= 1;
			if (c->ports[p].applied.attached_egress_ifindex == ifindex)
				w |= 2;
		}
	}
	return w;
}

/* Whether a known cube has pin directory name dname. */
static int dp_cube_pinned(struct broker *b, const char *dname)
{
	char pin[BK_NAME_MAX];

	for (int id = 1; id < CB_MAX_CUBES; id++) {
		if (!b->cubes_tab[id].used)
			continue;
		cb_pin_name(pin, sizeof(pin), b->cubes_tab[id].name);
		if (!strcmp(pin, dname))
			return 1;
	}
	return 0;
}

int dp_reconcile(struct broker *b)
{
	struct if_nameindex *ifs = if_nameindex(), *i;
	char path[700];
	DIR *d;
	struct dirent *de;
	int removed = 0, k;

	/* pins of cubes the database does not know */
	snprintf(path, sizeof(path), "%s/cubes", b->bpffs);
	d = opendir(path);
	while (d && (de = readdir(d))) {
		if (de->d_name[0] == '.' || dp_cube_pinned(b, de->d_name))
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
	/* our stubs on netdevs no port names (ours: they use our slot arrays);
	 * what else runs there is not ours to touch */
	for (i = ifs; i && i->if_index; i++) {
		int w;

		if ((int)i->if_index == b->inj_ifindex || !strcmp(i->if_name, b->inj_name[1]))
			continue;
		w = dp_netdev_wanted(b, i->if_index);
		if (!(w & 2)) {
			k = dp_tc_detach_dir(b, i->if_index, 1);
			if (k)
				bk_log(5, "reconcile: detached a stale TC egress stub from %s", i->if_name);
			removed += k;
		}
		if (w)
			continue;
		k = dp_tc_detach_dir(b, i->if_index, 0);
		if (k)
			bk_log(5, "reconcile: detached a stale TC stub from %s", i->if_name);
		removed += k;
		k = dp_xdp_detach_ours(b, i->if_index);
		if (k)
			bk_log(5, "reconcile: detached a stale XDP stub from %s", i->if_name);
		removed += k;
	}
	if (ifs)
		if_freenameindex(ifs);
	/* programs taken over by ports that no longer hold their netdev */
	snprintf(path, sizeof(path), "%s/" DP_TAKEOVER, b->bpffs);
	d = opendir(path);
	while (d && (de = readdir(d))) {
		int idx;

		if (de->d_name[0] == '.' ||
		    (sscanf(de->d_name, "xdp_%d_", &idx) != 1 && sscanf(de->d_name, "tc_%d_", &idx) != 1) ||
		    (dp_netdev_wanted(b, idx) & 1))
			continue;
		dp_takeover_restore(b, de->d_name);
		removed++;
	}
	if (d)
		closedir(d);
	return removed;
}

void dp_purge(struct broker *b)
{
	dp_inj_names(b);
	if (if_nametoindex(b->inj_name[0])) {
		char *argv[] = { "ip", "link", "del", b->inj_name[0], NULL };

		dp_run(argv);
	}
	/* our stubs off every netdev, and what ports took over goes back
	 * before its pins go */
	{
		struct if_nameindex *ifs = if_nameindex();

		for (struct if_nameindex *i = ifs; i && i->if_index; i++)
			dp_release_netdev(b, i->if_index);
		if (ifs)
			if_freenameindex(ifs);
	}
	dp_takeover_restore_all(b, 0);
	dp_rmtree(b->bpffs);
}
