/* SPDX-License-Identifier: Apache-2.0 */
/* simplebridge: handlers of the learning bridge (aging, static entries, fdb reads, flush). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <bpf/bpf.h>

#include "cube.h"
#include "simplebridge_shared.h"
#include "simplebridge_tc.skel.h"
#include "simplebridge_xdp.skel.h"

static struct bpf_object *sb_open(void **skel, int xdp)
{
	if (xdp) {
		struct simplebridge_xdp *s = simplebridge_xdp__open();

		*skel = s;
		return s ? s->obj : NULL;
	}
	struct simplebridge_tc *s = simplebridge_tc__open();

	*skel = s;
	return s ? s->obj : NULL;
}

static int sb_load(void *skel, int xdp)
{
	return xdp ? simplebridge_xdp__load(skel) : simplebridge_tc__load(skel);
}

static void sb_destroy(void *skel, int xdp)
{
	if (xdp)
		simplebridge_xdp__destroy(skel);
	else
		simplebridge_tc__destroy(skel);
}

static int sb_fdb_fd(struct cube *c)
{
	return cube_is_xdp(c) ? bpf_map__fd(((struct simplebridge_xdp *)cube_skel(c))->maps.sb_fdb)
			      : bpf_map__fd(((struct simplebridge_tc *)cube_skel(c))->maps.sb_fdb);
}

static int sb_conf_fd(struct cube *c)
{
	return cube_is_xdp(c) ? bpf_map__fd(((struct simplebridge_xdp *)cube_skel(c))->maps.sb_conf)
			      : bpf_map__fd(((struct simplebridge_tc *)cube_skel(c))->maps.sb_conf);
}

static int sb_parse_mac(const char *s, __u64 *key)
{
	unsigned char m[6];

	if (sscanf(s, "%hhx:%hhx:%hhx:%hhx:%hhx:%hhx", &m[0], &m[1], &m[2], &m[3], &m[4], &m[5]) != 6)
		return -EINVAL;
	*key = 0;
	memcpy(key, m, 6);
	return 0;
}

static void sb_format_mac(__u64 key, char *buf, size_t size)
{
	unsigned char m[6];

	memcpy(m, &key, 6);
	snprintf(buf, size, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
}

static __u64 sb_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/* Removes entries matching: static ones (is_static), or learned ones. */
static int sb_fdb_clear(struct cube *c, int statics)
{
	int fd = sb_fdb_fd(c), n = 0;
	__u64 key, next;
	struct sb_fdb_val v;
	void *prev = NULL;

	while (bpf_map_get_next_key(fd, prev, &next) == 0) {
		key = next;
		if (bpf_map_lookup_elem(fd, &key, &v) == 0 && !!v.is_static == !!statics) {
			bpf_map_delete_elem(fd, &key);
			n++;
			prev = NULL; /* restart: deleting invalidates the walk */
			continue;
		}
		prev = &key;
	}
	return n;
}

static int sb_apply(struct cube *c, struct json_object *cfg, char *err, size_t errlen)
{
	struct json_object *fdb = NULL, *entries = NULL;
	struct sb_conf conf = { .aging_ns = 300ULL * 1000000000ULL };
	__u32 zero = 0;

	if (cfg && json_object_object_get_ex(cfg, "fdb", &fdb))
		conf.aging_ns = (__u64)cube_json_int(fdb, "aging-time", 300) * 1000000000ULL;
	if (bpf_map_update_elem(sb_conf_fd(c), &zero, &conf, BPF_ANY) < 0) {
		snprintf(err, errlen, "cannot write the bridge configuration: %s", strerror(errno));
		return -errno;
	}
	/* static entries: replace the whole set */
	sb_fdb_clear(c, 1);
	if (fdb && json_object_object_get_ex(fdb, "entry", &entries)) {
		for (size_t i = 0; i < json_object_array_length(entries); i++) {
			struct json_object *e = json_object_array_get_idx(entries, i);
			const char *addr = cube_json_str(e, "address", ""), *port = cube_json_str(e, "port", "");
			struct sb_fdb_val v = { .is_static = 1, .seen_ns = sb_now_ns() };
			__u64 key;
			int idx = cube_port_index(c, port);

			if (sb_parse_mac(addr, &key) < 0) {
				snprintf(err, errlen, "fdb entry %s: not a MAC address", addr);
				return -EINVAL;
			}
			if (idx < 0) {
				snprintf(err, errlen, "fdb entry %s: %s is not a port of %s", addr, port, cube_name(c));
				return -ENOENT;
			}
			v.port = idx;
			if (bpf_map_update_elem(sb_fdb_fd(c), &key, &v, BPF_ANY) < 0) {
				snprintf(err, errlen, "fdb entry %s: %s", addr, strerror(errno));
				return -errno;
			}
		}
	}
	return 0;
}

static int sb_read(struct cube *c, struct json_object *out, char *err, size_t errlen)
{
	struct json_object *fdb = json_object_new_object(), *list = json_object_new_array();
	int fd = sb_fdb_fd(c), cfd = sb_conf_fd(c);
	struct sb_conf conf = { 0 };
	__u64 key, now = sb_now_ns();
	void *prev = NULL;
	__u32 zero = 0;

	bpf_map_lookup_elem(cfd, &zero, &conf);
	while (bpf_map_get_next_key(fd, prev, &key) == 0) {
		struct sb_fdb_val v;
		struct json_object *e;
		const char *pname;
		char mac[32];
		__u64 age;

		prev = &key;
		if (bpf_map_lookup_elem(fd, &key, &v) < 0)
			continue;
		age = now > v.seen_ns ? now - v.seen_ns : 0;
		if (!v.is_static && conf.aging_ns && age > conf.aging_ns)
			continue; /* aged: the fast path no longer uses it */
		pname = cube_port_name(c, v.port);
		sb_format_mac(key, mac, sizeof(mac));
		e = json_object_new_object();
		json_object_object_add(e, "address", json_object_new_string(mac));
		json_object_object_add(e, "port", json_object_new_string(pname ? pname : "?"));
		json_object_object_add(e, "age", json_object_new_int64(v.is_static ? 0 : age / 1000000000ULL));
		json_object_array_add(list, e);
	}
	json_object_object_add(fdb, "entry", list);
	json_object_object_add(out, "fdb", fdb);
	return 0;
}

static int sb_action(struct cube *c, const char *path, struct json_object *in, struct json_object **result, char *err,
		     size_t errlen)
{
	if (strcmp(path, "fdb/flush")) {
		snprintf(err, errlen, "simplebridge has no action %s", path);
		return -ENOENT;
	}
	sb_fdb_clear(c, 0);
	*result = json_object_new_object();
	json_object_object_add(*result, "flushed", json_object_new_boolean(1));
	return 0;
}

static const struct cube_ops simplebridge_ops = {
	.service = "simplebridge",
	.open = sb_open,
	.load = sb_load,
	.destroy = sb_destroy,
	.apply = sb_apply,
	.read = sb_read,
	.action = sb_action,
};

int main(int argc, char **argv)
{
	return cube_main(argc, argv, &simplebridge_ops);
}
