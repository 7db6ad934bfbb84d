/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ddosmitigator: the blacklists go into four LPM tries (source and
 * destination, IPv4 and IPv6; an address is its full-length prefix). Each
 * entry has a slot in its list's per-CPU counter array (drop-pkts); the
 * trie's value is the slot. The handlers queue the new entries of a change
 * and ddos_commit() writes them with one bpf_map_update_batch() per trie,
 * so that a list given whole (a cube created with a million entries, or
 * one change adding them) loads in seconds.
 *
 * Per slot the process keeps the entry's key (slot -> entry, for the state
 * read and for telling an exact entry from a covering prefix: a trie
 * lookup answers the longest match). A restarted process finds its tries
 * pinned and full: it reads them back once, adopts each entry the
 * configuration replays, and removes the ones it does not.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <arpa/inet.h>
#include <bpf/bpf.h>

#include "cube.h"
#include "ddosmitigator_cfg.h"
#include "ddosmitigator_shared.h"
#include "ddosmitigator_tc.skel.h"
#include "ddosmitigator_xdp.skel.h"

/* What a slot holds. */
enum dm_slot_state {
	DM_SLOT_FREE = 0,
	DM_SLOT_QUEUED, /* created in the change being applied, not in the trie yet */
	DM_SLOT_CFG,	/* in the trie and in the configuration */
	DM_SLOT_OLD,	/* in the trie from before a restart, not replayed yet */
};

struct dm_slotkey {
	uint8_t family; /* AF_INET, AF_INET6 */
	uint8_t len;
	uint8_t with_len; /* the configured text gave the length */
	uint8_t addr[16];
};

/* Counters read from the kernel per call of bpf_map_lookup_batch. */
#define DM_READ_CHUNK 65536

struct dm_list {
	const char *name; /* as the model names it */
	const char *map4, *map6, *cnt;
	uint8_t *state;		/* enum dm_slot_state, by slot */
	struct dm_slotkey *key; /* by slot */
	uint32_t *free;		/* freed slots, a stack */
	uint32_t nfree;
	uint32_t next;	 /* slots below it have been used */
	uint32_t *queue; /* slots of the entries to write, in order */
	uint32_t nqueue;
	uint32_t count; /* entries in the tries and in the configuration */
};

struct dm_priv {
	struct dm_list list[DM_NLISTS];
	bool ready;	  /* the lists' memory is there and the tries were read back */
	bool replayed;	  /* the first configuration was committed */
	bool specialised; /* loaded[] says what the running program looks up */
	uint32_t loaded[DM_NLISTS];
	uint64_t last_pkts, last_ms, pps;
	uint64_t first_ns; /* the first handler call of the change being applied */
	int ncpus;
};

static uint64_t dm_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static uint64_t dm_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static const char *dm_fmt(const struct dm_slotkey *k, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];
	int full = k->family == AF_INET ? 32 : 128;

	inet_ntop(k->family, k->addr, a, sizeof(a));
	if (k->with_len || k->len != full)
		snprintf(buf, len, "%s/%u", a, k->len);
	else
		snprintf(buf, len, "%s", a);
	return buf;
}

/* The entry's key with its host bits cleared (10.1.2.3/8 is 10.0.0.0/8). */
static void dm_key_of(const struct cb_ip *ip, struct dm_slotkey *k)
{
	int n = ip->family == AF_INET ? 4 : 16;

	memset(k, 0, sizeof(*k));
	k->family = ip->family;
	k->len = ip->len;
	k->with_len = ip->with_len;
	memcpy(k->addr, ip->bytes, n);
	for (int i = 0; i < n; i++) {
		int bits = (int)ip->len - 8 * i;

		if (bits <= 0)
			k->addr[i] = 0;
		else if (bits < 8)
			k->addr[i] &= (uint8_t)(0xff << (8 - bits));
	}
}

static bool dm_key_eq(const struct dm_slotkey *a, const struct dm_slotkey *b)
{
	return a->family == b->family && a->len == b->len && !memcmp(a->addr, b->addr, sizeof(a->addr));
}

/* The trie's key of k, in buf (struct dm_key4 or dm_key6); its fd. */
static int dm_trie_key(struct cube *c, const struct dm_list *l, const struct dm_slotkey *k, void *buf)
{
	if (k->family == AF_INET) {
		struct dm_key4 *k4 = buf;

		k4->prefixlen = k->len;
		memcpy(k4->addr, k->addr, 4);
		return cube_map_fd(c, l->map4);
	}
	struct dm_key6 *k6 = buf;

	k6->prefixlen = k->len;
	memcpy(k6->addr, k->addr, 16);
	return cube_map_fd(c, l->map6);
}

/* Reads back the entries a previous process left in a trie (a restart). */
static int dm_read_back(struct cube *c, struct dm_list *l, const char *map, int family)
{
	int fd = cube_map_fd(c, map);
	struct dm_key6 cur, nxt; /* large enough for both */
	void *prev = NULL;
	struct dm_entry e;

	while (bpf_map_get_next_key(fd, prev, &nxt) == 0) {
		cur = nxt;
		prev = &cur;
		if (bpf_map_lookup_elem(fd, &cur, &e) < 0 || e.slot >= DM_MAX_ENTRIES ||
		    l->state[e.slot] != DM_SLOT_FREE)
			continue; /* not ours: dm_purge_old() cannot name it either */
		l->state[e.slot] = DM_SLOT_OLD;
		l->key[e.slot].family = family;
		l->key[e.slot].len = cur.prefixlen;
		memcpy(l->key[e.slot].addr, cur.addr, family == AF_INET ? 4 : 16);
		if (e.slot >= l->next)
			l->next = e.slot + 1;
	}
	return 0;
}

static int dm_ready(struct cube *c)
{
	struct dm_priv *p = cube_priv(c);

	if (p->ready)
		return 0;
	p->ncpus = libbpf_num_possible_cpus();
	p->list[DM_SRC] =
		(struct dm_list){ .name = "blacklist-src", .map4 = "dm_src4", .map6 = "dm_src6", .cnt = "dm_src_cnt" };
	p->list[DM_DST] =
		(struct dm_list){ .name = "blacklist-dst", .map4 = "dm_dst4", .map6 = "dm_dst6", .cnt = "dm_dst_cnt" };
	for (int i = 0; i < DM_NLISTS; i++) {
		struct dm_list *l = &p->list[i];

		/* calloc of this size maps zero pages: memory as the slots are used */
		l->state = calloc(DM_MAX_ENTRIES, sizeof(*l->state));
		l->key = calloc(DM_MAX_ENTRIES, sizeof(*l->key));
		l->free = calloc(DM_MAX_ENTRIES, sizeof(*l->free));
		l->queue = calloc(DM_MAX_ENTRIES, sizeof(*l->queue));
		if (!l->state || !l->key || !l->free || !l->queue) {
			cube_fail(c, "ddosmitigator: out of memory for the blacklists");
			return -ENOMEM;
		}
		dm_read_back(c, l, l->map4, AF_INET);
		dm_read_back(c, l, l->map6, AF_INET6);
		for (uint32_t s = l->next; s-- > 0;)
			if (l->state[s] == DM_SLOT_FREE)
				l->free[l->nfree++] = s;
	}
	p->ready = true;
	return 0;
}

static uint32_t dm_slot_alloc(struct dm_list *l)
{
	if (l->nfree)
		return l->free[--l->nfree];
	return l->next < DM_MAX_ENTRIES ? l->next++ : UINT32_MAX;
}

/* Frees slot s; its counter starts from 0 for the next entry. */
static void dm_slot_free(struct cube *c, struct dm_priv *p, struct dm_list *l, uint32_t s)
{
	uint64_t zero[p->ncpus];

	memset(zero, 0, sizeof(zero));
	bpf_map_update_elem(cube_map_fd(c, l->cnt), &s, zero, BPF_ANY);
	l->state[s] = DM_SLOT_FREE;
	l->free[l->nfree++] = s;
}

/* The slot of the entry k in the trie (exact), or UINT32_MAX. */
static uint32_t dm_find(struct cube *c, struct dm_list *l, const struct dm_slotkey *k)
{
	struct dm_key6 tk;
	struct dm_entry e;
	int fd = dm_trie_key(c, l, k, &tk);

	if (bpf_map_lookup_elem(fd, &tk, &e) < 0 || e.slot >= DM_MAX_ENTRIES || !dm_key_eq(&l->key[e.slot], k))
		return UINT32_MAX;
	return e.slot;
}

static int dm_create(struct cube *c, enum dm_list_id which, const struct cb_ip *ip)
{
	struct dm_priv *p = cube_priv(c);
	struct dm_list *l = &p->list[which];
	struct dm_slotkey k;
	char buf[64];
	uint32_t s;
	int r;

	r = dm_ready(c);
	if (r < 0)
		return r;
	dm_key_of(ip, &k);
	s = dm_find(c, l, &k);
	if (s != UINT32_MAX && l->state[s] == DM_SLOT_OLD) {
		/* a restart: the entry is there, with its counter */
		l->state[s] = DM_SLOT_CFG;
		l->key[s].with_len = k.with_len;
		l->count++;
		return 0;
	}
	if (s != UINT32_MAX) {
		char old[64];

		cube_fail(c, "%s %s is the entry %s already in the list (an address is its full-length prefix)",
			  l->name, dm_fmt(&k, buf, sizeof(buf)), dm_fmt(&l->key[s], old, sizeof(old)));
		return -EEXIST;
	}
	s = dm_slot_alloc(l);
	if (s == UINT32_MAX) {
		cube_fail(c, "%s is full (%d entries): remove entries first", l->name, DM_MAX_ENTRIES);
		return -ENOSPC;
	}
	if (!p->first_ns)
		p->first_ns = dm_now_ns();
	l->key[s] = k;
	l->state[s] = DM_SLOT_QUEUED;
	l->queue[l->nqueue++] = s;
	return 0;
}

static int dm_delete(struct cube *c, enum dm_list_id which, const struct cb_ip *ip)
{
	struct dm_priv *p = cube_priv(c);
	struct dm_list *l = &p->list[which];
	struct dm_slotkey k;
	struct dm_key6 tk;
	uint32_t s;
	int r, fd;

	r = dm_ready(c);
	if (r < 0)
		return r;
	dm_key_of(ip, &k);
	/* the undo of a create of this change: the queue's end, most likely */
	for (uint32_t i = l->nqueue; i-- > 0;) {
		s = l->queue[i];
		if (dm_key_eq(&l->key[s], &k)) {
			memmove(&l->queue[i], &l->queue[i + 1], (l->nqueue - i - 1) * sizeof(*l->queue));
			l->nqueue--;
			dm_slot_free(c, p, l, s);
			return 0;
		}
	}
	s = dm_find(c, l, &k);
	if (s == UINT32_MAX)
		return 0; /* not there: nothing to undo */
	fd = dm_trie_key(c, l, &k, &tk);
	if (bpf_map_delete_elem(fd, &tk) < 0 && errno != ENOENT) {
		r = -errno;
		cube_fail(c, "cannot remove %s from %s: %s", dm_fmt(&k, (char[64]){ 0 }, 64), l->name, strerror(-r));
		return r;
	}
	dm_slot_free(c, p, l, s);
	l->count--;
	return 0;
}

/*
 * Writes n entries (keys, values) into trie fd in one call; on failure
 * removes those it wrote and returns -errno with *failed the index of the
 * entry the kernel refused.
 */
static int dm_batch(int fd, const void *keys, const struct dm_entry *vals, uint32_t n, size_t ksz, uint32_t *failed)
{
	/* no BPF_NOEXIST: the kernel's generic batch takes no flag but
	 * BPF_F_LOCK; dm_commit_list() refused duplicates before */
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	__u32 count = n;
	int r;

	if (!n)
		return 0;
	r = bpf_map_update_batch(fd, keys, vals, &count, &opts);
	if (r == 0)
		return 0;
	r = -errno;
	*failed = count;
	if (count) {
		__u32 done = count;

		LIBBPF_OPTS(bpf_map_batch_opts, dopts);
		bpf_map_delete_batch(fd, keys, &done, &dopts);
	}
	(void)ksz;
	return r;
}

static const struct dm_slotkey *dm_sort_keys; /* for dm_cmp_slot: qsort has no argument */

static int dm_cmp_slot(const void *a, const void *b)
{
	const struct dm_slotkey *x = &dm_sort_keys[*(const uint32_t *)a], *y = &dm_sort_keys[*(const uint32_t *)b];

	if (x->family != y->family)
		return x->family - y->family;
	if (x->len != y->len)
		return x->len - y->len;
	return memcmp(x->addr, y->addr, sizeof(x->addr));
}

/*
 * Two queued entries that are one (10.0.0.1 and 10.0.0.1/32): sorted
 * copies of the queue side by side. 0, or -EEXIST after cube_fail().
 */
static int dm_queue_dups(struct cube *c, struct dm_list *l)
{
	uint32_t *sorted;
	int r = 0;

	if (l->nqueue < 2)
		return 0;
	sorted = malloc(l->nqueue * sizeof(*sorted));
	if (!sorted) {
		cube_fail(c, "ddosmitigator: out of memory writing %u entries of %s", l->nqueue, l->name);
		return -ENOMEM;
	}
	memcpy(sorted, l->queue, l->nqueue * sizeof(*sorted));
	dm_sort_keys = l->key;
	qsort(sorted, l->nqueue, sizeof(*sorted), dm_cmp_slot);
	for (uint32_t i = 1; i < l->nqueue; i++) {
		uint32_t a = sorted[i - 1], b = sorted[i];

		if (dm_key_eq(&l->key[a], &l->key[b])) {
			char x[64], y[64];

			/* the one given with its length is the later in words */
			if (l->key[a].with_len && !l->key[b].with_len) {
				uint32_t t = a;

				a = b;
				b = t;
			}
			cube_fail(c, "%s %s is the entry %s of the same change (an address is its full-length prefix)",
				  l->name, dm_fmt(&l->key[b], x, sizeof(x)), dm_fmt(&l->key[a], y, sizeof(y)));
			r = -EEXIST;
			break;
		}
	}
	free(sorted);
	return r;
}

/* Writes the queued entries of a list: one batch per trie. */
static int dm_commit_list(struct cube *c, struct dm_priv *p, struct dm_list *l)
{
	struct dm_key4 *k4 = NULL;
	struct dm_key6 *k6 = NULL;
	struct dm_entry *v4 = NULL, *v6 = NULL;
	uint32_t *s4 = NULL, *s6 = NULL, n4 = 0, n6 = 0, failed = 0, bad = UINT32_MAX;
	int r = 0;

	if (!l->nqueue)
		return 0;
	r = dm_queue_dups(c, l);
	if (r < 0)
		goto undo;
	k4 = malloc(l->nqueue * sizeof(*k4));
	k6 = malloc(l->nqueue * sizeof(*k6));
	v4 = malloc(l->nqueue * sizeof(*v4));
	v6 = malloc(l->nqueue * sizeof(*v6));
	s4 = malloc(l->nqueue * sizeof(*s4));
	s6 = malloc(l->nqueue * sizeof(*s6));
	if (!k4 || !k6 || !v4 || !v6 || !s4 || !s6) {
		cube_fail(c, "ddosmitigator: out of memory writing %u entries of %s", l->nqueue, l->name);
		r = -ENOMEM;
		goto undo;
	}
	for (uint32_t i = 0; i < l->nqueue; i++) {
		uint32_t s = l->queue[i];
		const struct dm_slotkey *k = &l->key[s];

		if (k->family == AF_INET) {
			k4[n4].prefixlen = k->len;
			memcpy(k4[n4].addr, k->addr, 4);
			v4[n4].slot = s;
			s4[n4++] = s;
		} else {
			k6[n6].prefixlen = k->len;
			memcpy(k6[n6].addr, k->addr, 16);
			v6[n6].slot = s;
			s6[n6++] = s;
		}
	}
	r = dm_batch(cube_map_fd(c, l->map4), k4, v4, n4, sizeof(*k4), &failed);
	if (r < 0) {
		bad = failed < n4 ? s4[failed] : UINT32_MAX;
		goto undo;
	}
	r = dm_batch(cube_map_fd(c, l->map6), k6, v6, n6, sizeof(*k6), &failed);
	if (r < 0) {
		__u32 done = n4;

		LIBBPF_OPTS(bpf_map_batch_opts, dopts);
		bad = failed < n6 ? s6[failed] : UINT32_MAX;
		if (n4)
			bpf_map_delete_batch(cube_map_fd(c, l->map4), k4, &done, &dopts);
		goto undo;
	}
	for (uint32_t i = 0; i < l->nqueue; i++)
		l->state[l->queue[i]] = DM_SLOT_CFG;
	l->count += l->nqueue;
	l->nqueue = 0;
	goto out;
undo:
	if (r == -EEXIST && bad != UINT32_MAX) {
		char a[64], b[64] = "";

		/* the other is an earlier entry of the same change */
		for (uint32_t i = 0; i < l->nqueue && l->queue[i] != bad; i++)
			if (dm_key_eq(&l->key[l->queue[i]], &l->key[bad]))
				dm_fmt(&l->key[l->queue[i]], b, sizeof(b));
		cube_fail(c, "%s %s is the entry %s of the same change (an address is its full-length prefix)", l->name,
			  dm_fmt(&l->key[bad], a, sizeof(a)), b[0] ? b : "?");
	} else if (r != -ENOMEM && r != -EEXIST) {
		cube_fail(c, "cannot write %u entries into %s: %s", l->nqueue, l->name, strerror(-r));
	}
	for (uint32_t i = l->nqueue; i-- > 0;)
		dm_slot_free(c, p, l, l->queue[i]);
	l->nqueue = 0;
out:
	free(k4);
	free(k6);
	free(v4);
	free(v6);
	free(s4);
	free(s6);
	return r;
}

/* After the first configuration of a restarted process: what it did not
 * replay was removed while no process ran. */
static void dm_purge_old(struct cube *c, struct dm_priv *p, struct dm_list *l)
{
	for (uint32_t s = 0; s < l->next; s++) {
		struct dm_key6 tk;
		int fd;

		if (l->state[s] != DM_SLOT_OLD)
			continue;
		fd = dm_trie_key(c, l, &l->key[s], &tk);
		bpf_map_delete_elem(fd, &tk);
		dm_slot_free(c, p, l, s);
	}
}

/*
 * The fast path looks up only the lists that have entries (DESIGN 3.5):
 * when that changes, libcube loads it again with dm_use_src / dm_use_dst
 * on the same maps and swaps it into the cube's slot in one map update.
 * New entries are in the tries before a lookup of them is loaded; a list
 * emptied has nothing left to find before its lookup goes.
 */
static int dm_specialise(struct cube *c, struct dm_priv *p)
{
	uint32_t want[DM_NLISTS] = { p->list[DM_SRC].count > 0, p->list[DM_DST].count > 0 };
	int r;

	if (p->specialised && want[DM_SRC] == p->loaded[DM_SRC] && want[DM_DST] == p->loaded[DM_DST])
		return 0;
	cube_set_rodata_u32(c, "dm_use_src", want[DM_SRC]);
	cube_set_rodata_u32(c, "dm_use_dst", want[DM_DST]);
	r = cube_reload_fastpath(c);
	if (r < 0) {
		/* the old program runs on */
		cube_set_rodata_u32(c, "dm_use_src", p->loaded[DM_SRC]);
		cube_set_rodata_u32(c, "dm_use_dst", p->loaded[DM_DST]);
		return r;
	}
	p->loaded[DM_SRC] = want[DM_SRC];
	p->loaded[DM_DST] = want[DM_DST];
	p->specialised = true;
	cube_log(c, LOG_INFO, "fast path: source lookup %s, destination lookup %s", want[DM_SRC] ? "on" : "off",
		 want[DM_DST] ? "on" : "off");
	return 0;
}

static int ddos_commit(struct cube *c)
{
	struct dm_priv *p = cube_priv(c);
	uint32_t n = p->list[DM_SRC].nqueue + p->list[DM_DST].nqueue;
	uint64_t t0 = dm_now_ns(), first = p->first_ns;
	int r, r2;

	p->first_ns = 0;
	r = dm_ready(c);
	if (r < 0)
		return r;
	if (n >= 1000)
		cube_log(c, LOG_INFO, "%u new entries: %llu ms in the handlers", n,
			 (unsigned long long)((t0 - first) / 1000000));
	r = dm_commit_list(c, p, &p->list[DM_SRC]);
	if (r < 0) {
		/* nothing of this change is written: drop the other list's queue too */
		struct dm_list *l = &p->list[DM_DST];

		for (uint32_t i = l->nqueue; i-- > 0;)
			dm_slot_free(c, p, l, l->queue[i]);
		l->nqueue = 0;
		return r;
	}
	r2 = dm_commit_list(c, p, &p->list[DM_DST]);
	if (r2 < 0) {
		/* take back what this change wrote into blacklist-src: the undo
		 * that follows removes it by its delete handlers */
		return r2;
	}
	if (n >= 1000)
		cube_log(c, LOG_INFO, "%u new entries written in %llu ms (one batch per trie)", n,
			 (unsigned long long)((dm_now_ns() - t0) / 1000000));
	if (!p->replayed) {
		dm_purge_old(c, p, &p->list[DM_SRC]);
		dm_purge_old(c, p, &p->list[DM_DST]);
		p->replayed = true;
	}
	/* a failure here undoes the change: the entries would not be looked up */
	return dm_specialise(c, p);
}

/* ---- the typed handlers of the model (ddosmitigator_cfg.h) ---------------- */

int ddosmitigator_blacklist_src_create(struct cube *c, const struct ddosmitigator_blacklist_src *new)
{
	return dm_create(c, DM_SRC, &new->ip);
}

int ddosmitigator_blacklist_src_update(struct cube *c, const struct ddosmitigator_blacklist_src *old,
				       const struct ddosmitigator_blacklist_src *new)
{
	return 0; /* the key is the entry: nothing else to change */
}

int ddosmitigator_blacklist_src_delete(struct cube *c, const struct ddosmitigator_blacklist_src *old)
{
	return dm_delete(c, DM_SRC, &old->ip);
}

int ddosmitigator_blacklist_dst_create(struct cube *c, const struct ddosmitigator_blacklist_dst *new)
{
	return dm_create(c, DM_DST, &new->ip);
}

int ddosmitigator_blacklist_dst_update(struct cube *c, const struct ddosmitigator_blacklist_dst *old,
				       const struct ddosmitigator_blacklist_dst *new)
{
	return 0;
}

int ddosmitigator_blacklist_dst_delete(struct cube *c, const struct ddosmitigator_blacklist_dst *old)
{
	return dm_delete(c, DM_DST, &old->ip);
}

/* ---- state ----------------------------------------------------------------- */

static uint64_t dm_stat(struct cube *c, struct dm_priv *p, __u32 key)
{
	uint64_t v[p->ncpus > 0 ? p->ncpus : 1], sum = 0;

	if (p->ncpus <= 0 || bpf_map_lookup_elem(cube_map_fd(c, "dm_stats"), &key, v) < 0)
		return 0;
	for (int i = 0; i < p->ncpus; i++)
		sum += v[i];
	return sum;
}

/* Emits the entries of a list with their counters, read a chunk at a time. */
static int dm_emit_list(struct cube *c, struct cube_state *st, struct dm_priv *p, enum dm_list_id which)
{
	struct dm_list *l = &p->list[which];
	int fd = cube_map_fd(c, l->cnt), r = 0;
	uint64_t *vals = NULL;
	__u32 *keys = NULL;

	if (!l->next)
		return 0;
	vals = malloc((size_t)DM_READ_CHUNK * p->ncpus * sizeof(*vals));
	keys = malloc(DM_READ_CHUNK * sizeof(*keys));
	if (!vals || !keys) {
		cube_fail(c, "ddosmitigator: out of memory reading the counters of %s", l->name);
		r = -ENOMEM;
		goto out;
	}
	for (uint32_t base = 0; base < l->next; base += DM_READ_CHUNK) {
		uint32_t n = l->next - base < DM_READ_CHUNK ? l->next - base : DM_READ_CHUNK;

		__u32 in = base - 1, out_b, count = n;
		LIBBPF_OPTS(bpf_map_batch_opts, opts);

		/* one call for the chunk: the batch goes on after key in */
		if (bpf_map_lookup_batch(fd, base ? &in : NULL, &out_b, keys, vals, &count, &opts) < 0 &&
		    errno != ENOENT) {
			r = -errno;
			cube_fail(c, "cannot read the counters of %s: %s", l->name, strerror(-r));
			goto out;
		}
		if (count < n)
			memset(&vals[(size_t)count * p->ncpus], 0, (size_t)(n - count) * p->ncpus * sizeof(*vals));
		for (uint32_t i = 0; i < n; i++) {
			uint32_t s = base + i;
			const struct dm_slotkey *k = &l->key[s];
			struct ddosmitigator_blacklist_src_state e = { 0 };

			if (l->state[s] != DM_SLOT_CFG)
				continue;
			e.ip.family = k->family;
			e.ip.len = k->len;
			e.ip.with_len = k->with_len;
			memcpy(e.ip.bytes, k->addr, sizeof(e.ip.bytes));
			for (int j = 0; j < p->ncpus; j++)
				e.drop_pkts += vals[(size_t)i * p->ncpus + j];
			if (which == DM_SRC)
				r = ddosmitigator_blacklist_src_emit(st, &e);
			else
				r = ddosmitigator_blacklist_dst_emit(
					st, &(struct ddosmitigator_blacklist_dst_state){ .ip = e.ip,
											 .drop_pkts = e.drop_pkts });
			if (r < 0)
				goto out;
		}
	}
out:
	free(vals);
	free(keys);
	return r;
}

static int ddos_state(struct cube *c, struct cube_state *st)
{
	struct dm_priv *p = cube_priv(c);
	int r;

	r = dm_ready(c);
	if (r < 0)
		return r;
	r = ddosmitigator_stats_emit(
		st, &(struct ddosmitigator_stats_state){ .pps = p->pps, .pkts = dm_stat(c, p, DM_STAT_DROPPED) });
	if (r == 0)
		r = dm_emit_list(c, st, p, DM_SRC);
	if (r == 0)
		r = dm_emit_list(c, st, p, DM_DST);
	return r;
}

/* Once a second: the drop rate over the last second (stats/pps). */
static void ddos_tick(struct cube *c)
{
	struct dm_priv *p = cube_priv(c);
	uint64_t now = dm_now_ms(), pkts;

	if (dm_ready(c) < 0)
		return;
	pkts = dm_stat(c, p, DM_STAT_DROPPED);
	if (p->last_ms && now > p->last_ms)
		p->pps = (pkts - p->last_pkts) * 1000 / (now - p->last_ms);
	p->last_pkts = pkts;
	p->last_ms = now;
}

static const struct cube_ops ddosmitigator_ops = {
	.service = "ddosmitigator",
	CUBE_PROGRAMS(ddosmitigator),
	.model = &ddosmitigator_model,
	.state = ddos_state,
	.commit = ddos_commit,
	.tick = ddos_tick,
	.tick_ms = 1000,
	.priv_size = sizeof(struct dm_priv),
};

int main(int argc, char **argv)
{
	return cube_main(argc, argv, &ddosmitigator_ops);
}
