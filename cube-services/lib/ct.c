/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ct.c - the user-space side of connection tracking (ct.h): the session
 * table walk and the sweep of expired entries.
 */
#include "ct.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <stdlib.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

uint64_t cb_ct_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

const char *cb_ct_l4state_name(unsigned st)
{
	static const char *const names[CB_CT_S_MAX] = {
		[CB_CT_S_NONE] = "NONE",	   [CB_CT_S_SYN_SENT] = "SYN_SENT",
		[CB_CT_S_SYN_RECV] = "SYN_RECV",   [CB_CT_S_ESTABLISHED] = "ESTABLISHED",
		[CB_CT_S_FIN_WAIT] = "FIN_WAIT",   [CB_CT_S_CLOSE_WAIT] = "CLOSE_WAIT",
		[CB_CT_S_LAST_ACK] = "LAST_ACK",   [CB_CT_S_TIME_WAIT] = "TIME_WAIT",
		[CB_CT_S_CLOSE] = "CLOSE",	   [CB_CT_S_UDP_UNREPLIED] = "UNREPLIED",
		[CB_CT_S_UDP_REPLIED] = "REPLIED", [CB_CT_S_ICMP] = "ECHO",
		[CB_CT_S_GENERIC] = "GENERIC",
	};

	return st < CB_CT_S_MAX && names[st] ? names[st] : "UNKNOWN";
}

const char *cb_ct_entry_state_name(const struct cb_ct_entry *e)
{
	/* as Polycube's session table: UDP, ICMP and other protocols are NEW
	 * until answered, then ESTABLISHED; TCP shows its machine's state */
	switch (e->l4state) {
	case CB_CT_S_UDP_UNREPLIED:
	case CB_CT_S_UDP_REPLIED:
	case CB_CT_S_ICMP:
	case CB_CT_S_GENERIC: return cb_ct_replied(e) ? "ESTABLISHED" : "NEW";
	}
	return cb_ct_l4state_name(e->l4state);
}

static const char *l4proto_name(uint8_t p, char *buf, size_t len)
{
	switch (p) {
	case 6: return "TCP";
	case 17: return "UDP";
	case 1: return "ICMP";
	case 58: return "ICMPv6";
	}
	snprintf(buf, len, "%u", p);
	return buf;
}

static void addr_text(const struct cb_ct_key *k, const uint32_t *a, char *out, size_t len)
{
	if (!inet_ntop(k->family == 4 ? AF_INET : AF_INET6, a, out, len))
		snprintf(out, len, "?");
}

/*
 * Walks the map's keys with bpf_map_get_next_key, fetching each key's
 * successor before fn or the sweep may delete it (from a deleted key the
 * walk would start over).
 */
int cb_ct_foreach(int map_fd, uint64_t now, cb_ct_session_fn fn, void *arg)
{
	struct cb_ct_key key, next;
	struct cb_ct_entry e;
	char pbuf[8];
	int have, r;

	have = bpf_map_get_next_key(map_fd, NULL, &key) == 0;
	while (have) {
		struct cb_ct_session s;
		int orig_b;

		have = bpf_map_get_next_key(map_fd, &key, &next) == 0;
		if (bpf_map_lookup_elem(map_fd, &key, &e) == 0 && e.expires > now) {
			memset(&s, 0, sizeof(s));
			orig_b = !!(e.flags & CB_CT_F_ORIG_B);
			addr_text(&key, orig_b ? key.addr_b : key.addr_a, s.src, sizeof(s.src));
			addr_text(&key, orig_b ? key.addr_a : key.addr_b, s.dst, sizeof(s.dst));
			s.sport = ntohs(orig_b ? key.port_b : key.port_a);
			s.dport = ntohs(orig_b ? key.port_a : key.port_b);
			s.l4proto = l4proto_name(key.l4proto, pbuf, sizeof(pbuf));
			s.state = cb_ct_entry_state_name(&e);
			s.eta = (uint32_t)((e.expires - now + 999999999ull) / 1000000000ull);
			s.key = &key;
			s.entry = &e;
			r = fn(&s, arg);
			if (r)
				return r;
		}
		key = next;
	}
	return 0;
}

int cb_ct_read_stats(int stats_fd, struct cb_ct_stats *out)
{
	int np = libbpf_num_possible_cpus();
	struct cb_ct_stats *v;
	uint32_t k = 0;

	memset(out, 0, sizeof(*out));
	if (np <= 0)
		return np ? np : -EINVAL;
	v = calloc(np, sizeof(*v)); /* a per-CPU value: one per possible CPU */
	if (!v)
		return -ENOMEM;
	if (bpf_map_lookup_elem(stats_fd, &k, v) < 0) {
		int r = -errno;

		free(v);
		return r;
	}
	for (int i = 0; i < np; i++) {
		out->created += v[i].created;
		out->full += v[i].full;
		out->invalid += v[i].invalid;
		out->related += v[i].related;
	}
	free(v);
	return 0;
}

int cb_ct_sweep(int map_fd, int stats_fd, uint64_t now, struct cb_ct_counts *c)
{
	struct cb_ct_key key, next;
	struct cb_ct_entry e;
	int have;

	memset(c, 0, sizeof(*c));
	have = bpf_map_get_next_key(map_fd, NULL, &key) == 0;
	while (have) {
		have = bpf_map_get_next_key(map_fd, &key, &next) == 0;
		if (bpf_map_lookup_elem(map_fd, &key, &e) == 0) {
			if (e.expires <= now && bpf_map_delete_elem(map_fd, &key) == 0)
				c->expired++;
			else
				c->entries++;
		}
		key = next;
	}
	if (stats_fd >= 0) {
		struct cb_ct_stats st;
		int r = cb_ct_read_stats(stats_fd, &st);

		if (r < 0)
			return r;
		c->full = st.full;
		c->created = st.created;
	}
	return 0;
}

int cb_ct_set_timeouts(int timeouts_fd, const struct cb_ct_timeouts *t)
{
	uint32_t k = 0;

	return bpf_map_update_elem(timeouts_fd, &k, t, BPF_ANY) < 0 ? -errno : 0;
}
