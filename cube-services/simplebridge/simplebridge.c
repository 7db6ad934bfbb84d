/* SPDX-License-Identifier: Apache-2.0 */
/* simplebridge: handlers of the learning bridge (aging, static entries, fdb reads, flush). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
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

/*
 * A pinned map of an older build (sb_fdb was a plain hash) or of another
 * capacity cannot be reused: unpin it, so that the load creates the new one.
 * The old program keeps its map until the slot swap; learned entries are
 * relearned, static ones come back with the configuration.
 */
static void sb_unpin_stale(struct bpf_map *map)
{
	const char *pin = bpf_map__pin_path(map);
	struct bpf_map_info info = { 0 };
	__u32 len = sizeof(info);
	int fd = pin ? bpf_obj_get(pin) : -1;

	if (fd < 0)
		return;
	if (bpf_obj_get_info_by_fd(fd, &info, &len) == 0 &&
	    (info.type != bpf_map__type(map) || info.max_entries != bpf_map__max_entries(map)))
		unlink(pin);
	close(fd);
}

static int sb_load(void *skel, int xdp)
{
	if (xdp) {
		struct simplebridge_xdp *s = skel;

		sb_unpin_stale(s->maps.sb_fdb);
		sb_unpin_stale(s->maps.sb_static);
		return simplebridge_xdp__load(skel);
	}
	struct simplebridge_tc *s = skel;

	sb_unpin_stale(s->maps.sb_fdb);
	sb_unpin_stale(s->maps.sb_static);
	return simplebridge_tc__load(skel);
}

static void sb_destroy(void *skel, int xdp)
{
	if (xdp)
		simplebridge_xdp__destroy(skel);
	else
		simplebridge_tc__destroy(skel);
}

#define SB_MAP_FD(c, m)                                                                  \
	(cube_is_xdp(c) ? bpf_map__fd(((struct simplebridge_xdp *)cube_skel(c))->maps.m) \
			: bpf_map__fd(((struct simplebridge_tc *)cube_skel(c))->maps.m))

static int sb_parse_mac(const char *s, __u64 *key)
{
	unsigned char m[6];
	char tail;

	if (sscanf(s, "%hhx:%hhx:%hhx:%hhx:%hhx:%hhx%c", &m[0], &m[1], &m[2], &m[3], &m[4], &m[5], &tail) != 6)
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

/* ---- counters (sb_stats, per CPU) ---------------------------------------- */

static __u64 sb_stat(struct cube *c, __u32 key)
{
	int ncpu = libbpf_num_possible_cpus();
	__u64 *v, sum = 0;

	if (ncpu <= 0 || !(v = calloc(ncpu, sizeof(*v))))
		return 0;
	if (bpf_map_lookup_elem(SB_MAP_FD(c, sb_stats), &key, v) == 0)
		for (int i = 0; i < ncpu; i++)
			sum += v[i];
	free(v);
	return sum;
}

/* Adds n to a counter only this process writes (the fast path writes
 * SB_STAT_LEARNED alone), in the first CPU's slot. */
static void sb_stat_add(struct cube *c, __u32 key, __u64 n)
{
	int ncpu = libbpf_num_possible_cpus(), fd = SB_MAP_FD(c, sb_stats);
	__u64 *v;

	if (!n || ncpu <= 0 || !(v = calloc(ncpu, sizeof(*v))))
		return;
	if (bpf_map_lookup_elem(fd, &key, v) == 0) {
		v[0] += n;
		bpf_map_update_elem(fd, &key, v, BPF_ANY);
	}
	free(v);
}

/*
 * Removes the learned entries for which drop() says so; returns how many
 * it removed. The next key is taken before the current one goes, so the
 * walk never restarts; bounded, since entries learned meanwhile or an
 * eviction of the key in hand can send it back to the start.
 */
static int sb_fdb_remove(struct cube *c, int (*drop)(const struct sb_fdb_val *v, __u64 arg), __u64 arg)
{
	int fd = SB_MAP_FD(c, sb_fdb), n = 0, more;
	__u64 key, next;
	struct sb_fdb_val v;

	more = bpf_map_get_next_key(fd, NULL, &key) == 0;
	for (int i = 0; more && i < 2 * SB_FDB_MAX; i++) {
		more = bpf_map_get_next_key(fd, &key, &next) == 0;
		if (bpf_map_lookup_elem(fd, &key, &v) == 0 && drop(&v, arg) && bpf_map_delete_elem(fd, &key) == 0)
			n++;
		key = next;
	}
	return n;
}

static int sb_drop_all(const struct sb_fdb_val *v, __u64 arg)
{
	return 1;
}

/* arg: the oldest seen_ns kept */
static int sb_drop_aged(const struct sb_fdb_val *v, __u64 arg)
{
	return v->seen_ns < arg;
}

/* Aging: entries unused for aging-time leave the kernel map, not just the
 * reads, so the table never fills with hosts long gone. */
static void sb_tick(struct cube *c)
{
	struct sb_conf conf = { 0 };
	__u32 zero = 0;
	__u64 now = sb_now_ns();

	if (bpf_map_lookup_elem(SB_MAP_FD(c, sb_conf), &zero, &conf) < 0 || !conf.aging_ns || now <= conf.aging_ns)
		return;
	sb_stat_add(c, SB_STAT_AGED, sb_fdb_remove(c, sb_drop_aged, now - conf.aging_ns));
}

/* ---- static entries -------------------------------------------------------- */

struct sb_static {
	__u64 key;
	struct sb_fdb_val v;
};

/* Entry of key in set, or NULL. The sets are at most SB_STATIC_MAX long and
 * change rarely: a linear search is enough. */
static struct sb_static *sb_static_find(struct sb_static *set, size_t n, __u64 key)
{
	for (size_t i = 0; i < n; i++)
		if (set[i].key == key)
			return &set[i];
	return NULL;
}

/* The configured static entries, checked; nothing is written. */
static int sb_static_parse(struct cube *c, struct json_object *entries, struct sb_static *want, size_t *n, char *err,
			   size_t errlen)
{
	size_t len = entries ? json_object_array_length(entries) : 0;

	*n = 0;
	if (len > SB_STATIC_MAX) {
		snprintf(err, errlen,
			 "fdb has %zu static entries, the static table of %s holds at most %d: remove %zu of them", len,
			 cube_name(c), SB_STATIC_MAX, len - SB_STATIC_MAX);
		return -ENOSPC;
	}
	for (size_t i = 0; i < len; i++) {
		struct json_object *e = json_object_array_get_idx(entries, i);
		const char *addr = cube_json_str(e, "address", ""), *port = cube_json_str(e, "port", "");
		int idx = cube_port_index(c, port);
		__u64 key;

		if (sb_parse_mac(addr, &key) < 0) {
			snprintf(err, errlen, "fdb entry %s: not a MAC address (write it as 02:00:00:00:00:01)", addr);
			return -EINVAL;
		}
		if (idx < 0) {
			snprintf(err, errlen, "fdb entry %s: %s is not a port of %s (see 'cubectl %s ports show')",
				 addr, port, cube_name(c), cube_name(c));
			return -ENOENT;
		}
		if (sb_static_find(want, *n, key)) {
			snprintf(err, errlen,
				 "fdb entry %s: listed twice (the addresses differ only in letter case): keep one",
				 addr);
			return -EEXIST;
		}
		want[*n].key = key;
		want[*n].v = (struct sb_fdb_val){ .port = idx, .is_static = 1, .seen_ns = sb_now_ns() };
		(*n)++;
	}
	return 0;
}

/* What sb_static holds now. */
static void sb_static_snapshot(int fd, struct sb_static *set, size_t *n)
{
	__u64 key, cur;
	void *prev = NULL;

	*n = 0;
	while (*n < SB_STATIC_MAX && bpf_map_get_next_key(fd, prev, &key) == 0) {
		if (bpf_map_lookup_elem(fd, &key, &set[*n].v) == 0)
			set[(*n)++].key = key;
		cur = key;
		prev = &cur;
	}
}

/* Back to the set old: keys added since go, the others get their old value
 * (an update in place: the element is never absent). */
static void sb_static_restore(int fd, struct sb_static *old, size_t nold, struct sb_static *want, size_t nwant)
{
	for (size_t i = 0; i < nwant; i++)
		if (!sb_static_find(old, nold, want[i].key))
			bpf_map_delete_elem(fd, &want[i].key);
	for (size_t i = 0; i < nold; i++)
		bpf_map_update_elem(fd, &old[i].key, &old[i].v, BPF_ANY);
}

/*
 * Makes sb_static the set want: deletes only the removed entries, writes
 * only the new and changed ones, each in place, so an unchanged entry is
 * never absent (its MAC is never flooded, nor learned on another port).
 * On a failure the old set is restored.
 */
static int sb_static_reconcile(struct cube *c, struct sb_static *old, size_t nold, struct sb_static *want, size_t nwant,
			       char *err, size_t errlen)
{
	int fd = SB_MAP_FD(c, sb_static), r = 0, removed = 0;
	char mac[32];

	for (size_t i = 0; i < nold && !r; i++) {
		if (sb_static_find(want, nwant, old[i].key))
			continue;
		if (bpf_map_delete_elem(fd, &old[i].key) < 0 && errno != ENOENT) {
			r = -errno;
			sb_format_mac(old[i].key, mac, sizeof(mac));
			snprintf(err, errlen, "cannot remove static fdb entry %s: %s", mac, strerror(-r));
		}
	}
	for (size_t i = 0; i < nwant && !r; i++) {
		struct sb_static *o = sb_static_find(old, nold, want[i].key);

		if (o && o->v.port == want[i].v.port)
			continue; /* unchanged: not touched */
		if (bpf_map_update_elem(fd, &want[i].key, &want[i].v, BPF_ANY) < 0) {
			r = -errno;
			sb_format_mac(want[i].key, mac, sizeof(mac));
			snprintf(err, errlen,
				 "cannot write static fdb entry %s (%zu static entries asked, at most %d): %s", mac,
				 nwant, SB_STATIC_MAX, strerror(-r));
		}
	}
	if (r < 0) {
		sb_static_restore(fd, old, nold, want, nwant);
		return r;
	}
	/* a learned entry of a now static MAC would be listed twice */
	for (size_t i = 0; i < nwant; i++)
		if (bpf_map_delete_elem(SB_MAP_FD(c, sb_fdb), &want[i].key) == 0)
			removed++;
	sb_stat_add(c, SB_STAT_REMOVED, removed);
	return 0;
}

static int sb_apply(struct cube *c, struct json_object *cfg, char *err, size_t errlen)
{
	struct json_object *fdb = NULL, *entries = NULL;
	struct sb_conf conf = { .aging_ns = 300ULL * 1000000000ULL }, old_conf = { 0 };
	struct sb_static *want = calloc(SB_STATIC_MAX, sizeof(*want)), *old = calloc(SB_STATIC_MAX, sizeof(*old));
	size_t nwant = 0, nold = 0;
	__u32 zero = 0;
	int r;

	if (!want || !old) {
		snprintf(err, errlen, "out of memory");
		r = -ENOMEM;
		goto out;
	}
	if (cfg && json_object_object_get_ex(cfg, "fdb", &fdb)) {
		conf.aging_ns = (__u64)cube_json_int(fdb, "aging-time", 300) * 1000000000ULL;
		if (!json_object_object_get_ex(fdb, "entry", &entries) ||
		    !json_object_is_type(entries, json_type_array))
			entries = NULL;
	}
	r = sb_static_parse(c, entries, want, &nwant, err, errlen);
	if (r < 0)
		goto out;
	sb_static_snapshot(SB_MAP_FD(c, sb_static), old, &nold);
	bpf_map_lookup_elem(SB_MAP_FD(c, sb_conf), &zero, &old_conf);
	r = sb_static_reconcile(c, old, nold, want, nwant, err, errlen);
	if (r < 0)
		goto out;
	if (bpf_map_update_elem(SB_MAP_FD(c, sb_conf), &zero, &conf, BPF_ANY) < 0) {
		r = -errno;
		snprintf(err, errlen, "cannot write the bridge configuration: %s", strerror(errno));
		sb_static_restore(SB_MAP_FD(c, sb_static), old, nold, want, nwant);
		bpf_map_update_elem(SB_MAP_FD(c, sb_conf), &zero, &old_conf, BPF_ANY);
	}
out:
	free(want);
	free(old);
	return r;
}

static void sb_list_add(struct cube *c, struct json_object *list, __u64 key, const struct sb_fdb_val *v, __u64 age)
{
	struct json_object *e = json_object_new_object();
	const char *pname = cube_port_name(c, v->port);
	char mac[32];

	sb_format_mac(key, mac, sizeof(mac));
	json_object_object_add(e, "address", json_object_new_string(mac));
	json_object_object_add(e, "port", json_object_new_string(pname ? pname : "?"));
	json_object_object_add(e, "age", json_object_new_int64(age / 1000000000ULL));
	json_object_array_add(list, e);
}

static int sb_read(struct cube *c, struct json_object *out, char *err, size_t errlen)
{
	struct json_object *fdb = json_object_new_object(), *list = json_object_new_array();
	int fd = SB_MAP_FD(c, sb_fdb), sfd = SB_MAP_FD(c, sb_static);
	__u64 key, now = sb_now_ns(), learned, gone, entries = 0, statics = 0;
	struct sb_conf conf = { 0 };
	void *prev = NULL;
	__u32 zero = 0;

	bpf_map_lookup_elem(SB_MAP_FD(c, sb_conf), &zero, &conf);
	/* counters first: what is learned during the walk is then in entries
	 * and not yet in learned, which can only lower the eviction count */
	learned = sb_stat(c, SB_STAT_LEARNED);
	gone = sb_stat(c, SB_STAT_AGED) + sb_stat(c, SB_STAT_REMOVED);
	/* bounded: an entry evicted under the walk sends it back to the start */
	while (statics < SB_STATIC_MAX && bpf_map_get_next_key(sfd, prev, &key) == 0) {
		struct sb_fdb_val v;

		prev = &key;
		if (bpf_map_lookup_elem(sfd, &key, &v) < 0)
			continue;
		statics++;
		sb_list_add(c, list, key, &v, 0);
	}
	prev = NULL;
	while (entries < SB_FDB_MAX && bpf_map_get_next_key(fd, prev, &key) == 0) {
		struct sb_fdb_val v;
		__u64 age;

		prev = &key;
		if (bpf_map_lookup_elem(fd, &key, &v) < 0)
			continue;
		entries++;
		age = now > v.seen_ns ? now - v.seen_ns : 0;
		if (conf.aging_ns && age > conf.aging_ns)
			continue; /* aged: unused by the fast path, gone at the next tick */
		sb_list_add(c, list, key, &v, age);
	}
	json_object_object_add(fdb, "entry", list);
	json_object_object_add(fdb, "entries", json_object_new_int64(entries));
	json_object_object_add(fdb, "max-entries", json_object_new_int64(SB_FDB_MAX));
	json_object_object_add(fdb, "static-entries", json_object_new_int64(statics));
	json_object_object_add(fdb, "max-static-entries", json_object_new_int64(SB_STATIC_MAX));
	json_object_object_add(fdb, "learned", json_object_new_int64(learned));
	json_object_object_add(fdb, "aged", json_object_new_int64(sb_stat(c, SB_STAT_AGED)));
	json_object_object_add(fdb, "evicted",
			       json_object_new_int64(learned > gone + entries ? learned - gone - entries : 0));
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
	/* learned entries only: static ones are configuration */
	sb_stat_add(c, SB_STAT_REMOVED, sb_fdb_remove(c, sb_drop_all, 0));
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
	.tick = sb_tick,
	.tick_ms = 1000,
};

int main(int argc, char **argv)
{
	return cube_main(argc, argv, &simplebridge_ops);
}
