/* SPDX-License-Identifier: Apache-2.0 */
/* simplebridge: handlers of the learning bridge (typed configuration, aging, fdb reads, flush). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>

#include "cube.h"
#include "simplebridge_cfg.h"
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
	    (info.type != bpf_map__type(map) || info.max_entries != bpf_map__max_entries(map) ||
	     info.value_size != bpf_map__value_size(map) || info.map_flags != bpf_map__map_flags(map)))
		unlink(pin);
	close(fd);
}

static int sb_load(void *skel, int xdp)
{
	if (xdp) {
		struct simplebridge_xdp *s = skel;

		sb_unpin_stale(s->maps.sb_fdb);
		sb_unpin_stale(s->maps.sb_static);
		sb_unpin_stale(s->maps.sb_conf);
		return simplebridge_xdp__load(skel);
	}
	struct simplebridge_tc *s = skel;

	sb_unpin_stale(s->maps.sb_fdb);
	sb_unpin_stale(s->maps.sb_static);
	sb_unpin_stale(s->maps.sb_conf);
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
static void sb_static_sweep(struct cube *c);

static void sb_tick(struct cube *c)
{
	struct sb_conf conf = { 0 };
	__u32 zero = 0;
	__u64 now = sb_now_ns();

	sb_static_sweep(c);
	if (bpf_map_lookup_elem(SB_MAP_FD(c, sb_conf), &zero, &conf) < 0 || !conf.aging_ns || now <= conf.aging_ns)
		return;
	sb_stat_add(c, SB_STAT_AGED, sb_fdb_remove(c, sb_drop_aged, now - conf.aging_ns));
}

/* ---- configuration: the typed handlers of simplebridge_cfg.h ------------- */

static __u64 sb_key(const uint8_t mac[6])
{
	__u64 key = 0;

	memcpy(&key, mac, 6);
	return key;
}

/*
 * Writes the static entry of key on port, in place: an element that already
 * says the same (a restarted process gets its whole configuration again) is
 * not touched, so its MAC is never flooded nor learned on another port.
 */
static int sb_set_has_static(struct cube *c, __u32 on)
{
	struct sb_conf conf = { .aging_ns = 300ULL * 1000000000ULL };
	__u32 zero = 0;

	bpf_map_lookup_elem(SB_MAP_FD(c, sb_conf), &zero, &conf);
	if (conf.has_static == on)
		return 0;
	conf.has_static = on;
	return bpf_map_update_elem(SB_MAP_FD(c, sb_conf), &zero, &conf, BPF_ANY) < 0 ? -errno : 0;
}

static int sb_static_write(struct cube *c, __u64 key, int port)
{
	int fd = SB_MAP_FD(c, sb_static), r;
	struct sb_fdb_val v, cur;

	/* the fast path looks at the table before there is anything in it (and
	 * after an upgrade that made sb_conf anew, at the elements kept) */
	r = sb_set_has_static(c, 1);
	if (r < 0)
		return r;
	if (bpf_map_lookup_elem(fd, &key, &cur) == 0 && cur.port == (__u32)port)
		return 0;
	v = (struct sb_fdb_val){ .port = port, .is_static = 1, .seen_ns = sb_now_ns() };
	if (bpf_map_update_elem(fd, &key, &v, BPF_ANY) < 0)
		return -errno;
	/* a learned twin would be listed twice */
	if (bpf_map_delete_elem(SB_MAP_FD(c, sb_fdb), &key) == 0)
		sb_stat_add(c, SB_STAT_REMOVED, 1);
	return 0;
}

int simplebridge_fdb_entry_create(struct cube *c, const struct simplebridge_fdb_entry *new)
{
	__u64 key = sb_key(new->address);
	int idx = cube_port_index(c, new->port), r;
	char mac[32];

	sb_format_mac(key, mac, sizeof(mac));
	if (idx < 0) {
		cube_fail(c, "fdb entry %s: %s is not a port of %s (see 'cubectl %s ports show')", mac, new->port,
			  cube_name(c), cube_name(c));
		return -ENOENT;
	}
	r = sb_static_write(c, key, idx);
	if (r == -E2BIG) {
		/* the table is the capacity: the change is undone, the old set stays */
		cube_fail(c, "fdb entry %s: the static table of %s holds at most %d entries: remove some first", mac,
			  cube_name(c), SB_STATIC_MAX);
		return -ENOSPC;
	}
	if (r < 0)
		cube_fail(c, "cannot write static fdb entry %s: %s", mac, strerror(-r));
	return r;
}

int simplebridge_fdb_entry_update(struct cube *c, const struct simplebridge_fdb_entry *old,
				  const struct simplebridge_fdb_entry *new)
{
	return simplebridge_fdb_entry_create(c, new);
}

int simplebridge_fdb_entry_delete(struct cube *c, const struct simplebridge_fdb_entry *old)
{
	__u64 key = sb_key(old->address);

	if (bpf_map_delete_elem(SB_MAP_FD(c, sb_static), &key) < 0 && errno != ENOENT) {
		int r = -errno;
		char mac[32];

		sb_format_mac(key, mac, sizeof(mac));
		cube_fail(c, "cannot remove static fdb entry %s: %s", mac, strerror(-r));
		return r;
	}
	return 0;
}

static int sb_conf_write(struct cube *c, uint32_t aging_time)
{
	struct sb_conf conf = { 0 };
	__u32 zero = 0;

	bpf_map_lookup_elem(SB_MAP_FD(c, sb_conf), &zero, &conf); /* keeps has_static */
	conf.aging_ns = (__u64)aging_time * 1000000000ULL;
	if (bpf_map_update_elem(SB_MAP_FD(c, sb_conf), &zero, &conf, BPF_ANY) < 0) {
		int r = -errno;

		cube_fail(c, "cannot write the bridge configuration: %s", strerror(-r));
		return r;
	}
	return 0;
}

int simplebridge_fdb_create(struct cube *c, const struct simplebridge_fdb *new)
{
	return sb_conf_write(c, new->aging_time);
}

int simplebridge_fdb_update(struct cube *c, const struct simplebridge_fdb *old, const struct simplebridge_fdb *new)
{
	return sb_conf_write(c, new->aging_time);
}

int simplebridge_fdb_delete(struct cube *c, const struct simplebridge_fdb *old)
{
	return sb_conf_write(c, 300);
}

struct sb_walk {
	struct cube *c;
	char *err;
	size_t errlen;
	__u64 *keys; /* sb_static_sweep: the configured keys */
	size_t n;
};

/* An applied static entry follows its port's index; its port cannot go. */
static int sb_follow_port(const struct simplebridge_fdb_entry *e, void *arg)
{
	struct sb_walk *w = arg;
	int idx = cube_port_index(w->c, e->port), r;
	__u64 key = sb_key(e->address);
	char mac[32];

	sb_format_mac(key, mac, sizeof(mac));
	if (idx < 0) {
		snprintf(w->err, w->errlen,
			 "port %s has the static fdb entry %s: delete it first (cubectl %s fdb entry del %s)", e->port,
			 mac, cube_name(w->c), mac);
		return -EBUSY;
	}
	r = sb_static_write(w->c, key, idx);
	if (r < 0)
		snprintf(w->err, w->errlen, "cannot move static fdb entry %s to port %s: %s", mac, e->port,
			 strerror(-r));
	return r;
}

/* The ports moved (names, indexes): the static entries applied so far follow. */
static int sb_ports_changed(struct cube *c, char *err, size_t errlen)
{
	struct sb_walk w = { .c = c, .err = err, .errlen = errlen };

	return simplebridge_fdb_entry_foreach(cube_config(c), sb_follow_port, &w);
}

static int sb_collect_key(const struct simplebridge_fdb_entry *e, void *arg)
{
	struct sb_walk *w = arg;

	if (w->n < SB_STATIC_MAX)
		w->keys[w->n++] = sb_key(e->address);
	return 0;
}

static int sb_key_cmp(const void *a, const void *b)
{
	__u64 x = *(const __u64 *)a, y = *(const __u64 *)b;

	return x < y ? -1 : x > y;
}

/*
 * Static elements the configuration no longer has (left by a process that
 * stopped before a change reached it) go once, after the first
 * configuration this process applied: from then on the map is written by
 * this process only, entry by entry. (One process is one cube.)
 */
static int sb_swept;

static void sb_static_sweep(struct cube *c)
{
	struct sb_walk w = { .c = c };
	int fd = SB_MAP_FD(c, sb_static), more;
	__u64 key, next;

	/* an empty table: the fast path may stop looking at it */
	if (bpf_map_get_next_key(fd, NULL, &key) < 0) {
		sb_set_has_static(c, 0);
		sb_swept = cube_config(c) != NULL;
		return;
	}
	if (sb_swept || !cube_config(c) || !(w.keys = calloc(SB_STATIC_MAX, sizeof(*w.keys))))
		return;
	sb_swept = 1;
	simplebridge_fdb_entry_foreach(cube_config(c), sb_collect_key, &w);
	qsort(w.keys, w.n, sizeof(*w.keys), sb_key_cmp);
	more = bpf_map_get_next_key(fd, NULL, &key) == 0;
	for (int i = 0; more && i < 2 * SB_STATIC_MAX; i++) {
		more = bpf_map_get_next_key(fd, &key, &next) == 0;
		if (!bsearch(&key, w.keys, w.n, sizeof(*w.keys), sb_key_cmp))
			bpf_map_delete_elem(fd, &key);
		key = next;
	}
	free(w.keys);
}

static int sb_emit_entry(struct cube *c, struct cube_state *st, __u64 key, const struct sb_fdb_val *v, __u64 age_ns)
{
	const char *pname = cube_port_name(c, v->port);
	struct simplebridge_fdb_entry_state e = { .port = pname ? pname : "?", .age = age_ns / 1000000000ULL };

	memcpy(e.address, &key, 6);
	return simplebridge_fdb_entry_emit(st, &e);
}

/* The fdb's state: every entry (static, then learned and not aged) and the counters. */
static int sb_state(struct cube *c, struct cube_state *st)
{
	int fd = SB_MAP_FD(c, sb_fdb), sfd = SB_MAP_FD(c, sb_static), r = 0;
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
	while (r == 0 && statics < SB_STATIC_MAX && bpf_map_get_next_key(sfd, prev, &key) == 0) {
		struct sb_fdb_val v;

		prev = &key;
		if (bpf_map_lookup_elem(sfd, &key, &v) < 0)
			continue;
		statics++;
		r = sb_emit_entry(c, st, key, &v, 0);
	}
	prev = NULL;
	while (r == 0 && entries < SB_FDB_MAX && bpf_map_get_next_key(fd, prev, &key) == 0) {
		struct sb_fdb_val v;
		__u64 age;

		prev = &key;
		if (bpf_map_lookup_elem(fd, &key, &v) < 0)
			continue;
		entries++;
		age = now > v.seen_ns ? now - v.seen_ns : 0;
		if (conf.aging_ns && age > conf.aging_ns)
			continue; /* aged: unused by the fast path, gone at the next tick */
		r = sb_emit_entry(c, st, key, &v, age);
	}
	if (r < 0)
		return r;
	return simplebridge_fdb_emit(st, &(struct simplebridge_fdb_state){
						 .entries = entries,
						 .max_entries = SB_FDB_MAX,
						 .static_entries = statics,
						 .max_static_entries = SB_STATIC_MAX,
						 .learned = learned,
						 .aged = sb_stat(c, SB_STAT_AGED),
						 .evicted = learned > gone + entries ? learned - gone - entries : 0,
					 });
}

/* fdb flush: the learned entries go; static ones are configuration. */
int simplebridge_fdb_flush_action(struct cube *c, const struct simplebridge_fdb_flush_in *in,
				  struct simplebridge_fdb_flush_out *out)
{
	sb_stat_add(c, SB_STAT_REMOVED, sb_fdb_remove(c, sb_drop_all, 0));
	out->flushed = true;
	return 0;
}

static const struct cube_ops simplebridge_ops = {
	.service = "simplebridge",
	.open = sb_open,
	.load = sb_load,
	.destroy = sb_destroy,
	.model = &simplebridge_model,
	.ports_changed = sb_ports_changed,
	.state = sb_state,
	.actions = &simplebridge_actions,
	.tick = sb_tick,
	.tick_ms = 1000,
};

int main(int argc, char **argv)
{
	return cube_main(argc, argv, &simplebridge_ops);
}
