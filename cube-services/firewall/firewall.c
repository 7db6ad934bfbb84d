/* SPDX-License-Identifier: Apache-2.0 */
/*
 * firewall: the cube's own leaves (conntrack, accept-established), its
 * state (the chains' rules and counters, the session table), the copies of
 * LOG rules, and the specialisation of the fast path. The chains and their
 * actions are in chains.c; the tables in fwc.c.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "ct.h"
#include "firewall.h"
#include "firewall_cfg.h" /* the Makefile links the generated code of a service that includes it */
#include "firewall_tc.skel.h"
#include "firewall_xdp.skel.h"

/* A sender decides how many packets a LOG rule copies: one line a second. */
#define FW_LOG_INTERVAL_MS 1000

static uint64_t fw_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct fwc *fw_compiler(struct cube *c)
{
	struct fw_priv *p = cube_priv(c);
	struct fwc_maps m;
	char err[256];

	if (p->fwc)
		return p->fwc;
	m = (struct fwc_maps){
		.vecs = cube_map_fd(c, "fw_bits"),
		.ports = cube_map_fd(c, "fw_ports"),
		.small = cube_map_fd(c, "fw_small"),
		.pos = cube_map_fd(c, "fw_pos"),
		.lpm4 = { cube_map_fd(c, "fw_src4"), cube_map_fd(c, "fw_dst4") },
		.lpm6 = { cube_map_fd(c, "fw_src6"), cube_map_fd(c, "fw_dst6") },
		.counters = cube_map_fd(c, "fw_counters"),
		.chains = cube_map_fd(c, "fw_chains"),
	};
	p->fwc = fwc_new(&m, err, sizeof(err));
	if (!p->fwc)
		cube_fail(c, "%s", err);
	return p->fwc;
}

int fw_specialise(struct cube *c, const uint32_t want[FW_NCHAINS])
{
	struct fw_priv *p = cube_priv(c);
	/* the tracking: for conntrack ON, or for a rule that matches a state */
	bool track = p->conntrack || ((want[FW_INGRESS] | want[FW_EGRESS]) & FW_M_CT);
	int r;

	if (p->specialised && want[FW_INGRESS] == p->loaded[FW_INGRESS] && want[FW_EGRESS] == p->loaded[FW_EGRESS] &&
	    track == p->loaded_track)
		return 0; /* a map update only */
	cube_set_rodata_u32(c, "fw_matchers_ingress", want[FW_INGRESS]);
	cube_set_rodata_u32(c, "fw_matchers_egress", want[FW_EGRESS]);
	cube_set_rodata_u32(c, "fw_track", track);
	r = cube_reload_fastpath(c);
	if (r < 0) {
		/* the old program runs on: it still has what it had */
		cube_set_rodata_u32(c, "fw_matchers_ingress", p->loaded[FW_INGRESS]);
		cube_set_rodata_u32(c, "fw_matchers_egress", p->loaded[FW_EGRESS]);
		cube_set_rodata_u32(c, "fw_track", p->loaded_track);
		return r;
	}
	p->loaded[FW_INGRESS] = want[FW_INGRESS];
	p->loaded[FW_EGRESS] = want[FW_EGRESS];
	p->loaded_track = track;
	p->specialised = true;
	cube_log(c, LOG_INFO, "fast path specialised: matchers ingress 0x%x egress 0x%x, tracking %s", want[FW_INGRESS],
		 want[FW_EGRESS], track ? "on" : "off");
	return 0;
}

/* The program as the rules and the conntrack leaf want it now. */
static int fw_specialise_now(struct cube *c)
{
	struct fw_priv *p = cube_priv(c);
	struct fwc *f = p->fwc;

	if (!f)
		return 0;
	return fw_specialise(c,
			     (const uint32_t[FW_NCHAINS]){ fwc_matchers(f, FW_INGRESS), fwc_matchers(f, FW_EGRESS) });
}

int fw_chain_index(struct cube *c, enum firewall_chain_name name)
{
	switch (name) {
	case FIREWALL_CHAIN_NAME_INGRESS: return FW_INGRESS;
	case FIREWALL_CHAIN_NAME_EGRESS: return FW_EGRESS;
	case FIREWALL_CHAIN_NAME_INVALID: break;
	}
	cube_fail(c, "chain INVALID holds no rules: use INGRESS or EGRESS");
	return -EINVAL;
}

/* ---- the cube's own leaves ----------------------------------------------- */

static int fw_conf_write(struct cube *c, const struct firewall_cube *cfg)
{
	struct fw_priv *p = cube_priv(c);
	struct fw_conf conf = {
		.conntrack = !cfg || !cfg->has_conntrack || cfg->conntrack == FIREWALL_CUBE_CONNTRACK_ON,
		.accept_established = !cfg || !cfg->has_accept_established ||
				      cfg->accept_established == FIREWALL_CUBE_ACCEPT_ESTABLISHED_ON,
	};
	__u32 zero = 0;

	if (bpf_map_update_elem(cube_map_fd(c, "fw_conf"), &zero, &conf, BPF_ANY) < 0) {
		int r = -errno;

		cube_fail(c, "cannot write the firewall's settings: %s", strerror(-r));
		return r;
	}
	if (p->conntrack != (bool)conf.conntrack) {
		/* the program gains or loses the tracking (specialise-and-swap) */
		p->conntrack = conf.conntrack;
		if (p->specialised)
			return fw_specialise_now(c);
		p->shrink_due = true;
	}
	return 0;
}

int firewall_cube_create(struct cube *c, const struct firewall_cube *new)
{
	if (!fw_compiler(c))
		return -EIO;
	return fw_conf_write(c, new);
}

int firewall_cube_update(struct cube *c, const struct firewall_cube *old, const struct firewall_cube *new)
{
	return fw_conf_write(c, new);
}

int firewall_cube_delete(struct cube *c, const struct firewall_cube *old)
{
	return fw_conf_write(c, NULL);
}

/* ---- state ----------------------------------------------------------------- */

static void fw_counter(struct cube *c, int chain, uint32_t slot, uint64_t *pkts, uint64_t *bytes)
{
	int n = libbpf_num_possible_cpus();
	struct fw_counter v[n > 0 ? n : 1];
	uint32_t key = chain * FW_CNT_KEYS + slot;

	*pkts = *bytes = 0;
	if (n <= 0 || bpf_map_lookup_elem(cube_map_fd(c, "fw_counters"), &key, v) < 0)
		return;
	for (int i = 0; i < n; i++) {
		*pkts += v[i].pkts;
		*bytes += v[i].bytes;
	}
}

static int fw_state_chain(struct cube *c, struct cube_state *st, struct fwc *f, int chain)
{
	enum firewall_chain_name cn = chain == FW_INGRESS ? FIREWALL_CHAIN_NAME_INGRESS : FIREWALL_CHAIN_NAME_EGRESS;
	const struct lyd_node *tree = cube_config(c);
	uint32_t n = fwc_count(f, chain);
	int def = FW_ACCEPT, r = 0;
	uint64_t pk, by;

	/* the default action, as configured (absent: ACCEPT) */
	if (tree) {
		struct ly_set *set = NULL;
		char xp[128];

		snprintf(xp, sizeof(xp), "chain[name='%s']/default", chain == FW_INGRESS ? "INGRESS" : "EGRESS");
		if (lyd_find_xpath(tree, xp, &set) == LY_SUCCESS && set->count) {
			const char *v = lyd_get_value(set->dnodes[0]);

			def = !strcmp(v, "DROP") ? FW_DROP : !strcmp(v, "LOG") ? FW_LOG : FW_ACCEPT;
		}
		ly_set_free(set, NULL);
	}
	for (uint32_t id = 0; id < n && r == 0; id++) {
		const struct fwc_rule *x = fwc_get(f, chain, id);

		fw_counter(c, chain, fwc_slot(f, chain, id), &pk, &by);
		r = firewall_chain_stats_emit(st, &(struct firewall_chain_stats_state){
							  .chain_name = cn,
							  .id = fw_rule_id(c, chain, id),
							  .pkts = pk,
							  .bytes = by,
							  .src = x->src_family ? x->src_txt : NULL,
							  .dst = x->dst_family ? x->dst_txt : NULL,
							  .l4proto = x->proto >= 0 ? x->proto_txt : NULL,
							  .sport = x->sport,
							  .no_sport = x->sport < 0,
							  .dport = x->dport,
							  .no_dport = x->dport < 0,
							  .tcpflags = x->has_flags ? x->flags_txt : NULL,
							  .conntrack = x->ct,
							  .no_conntrack = x->ct < 0,
							  .action = x->action,
							  .description = x->description[0] ? x->description : NULL,
						  });
	}
	if (r < 0)
		return r;
	/* the default action's entry: the id after the last rule, as Polycube */
	fw_counter(c, chain, FW_RULES_MAX, &pk, &by);
	return firewall_chain_stats_emit(st, &(struct firewall_chain_stats_state){
						     .chain_name = cn,
						     .id = n ? fw_rule_id(c, chain, n - 1) + 1 : 0,
						     .pkts = pk,
						     .bytes = by,
						     .no_sport = true,
						     .no_dport = true,
						     .no_conntrack = true,
						     .action = def,
						     .description = "Default Policy",
					     });
}

static int fw_session(const struct cb_ct_session *s, void *arg)
{
	return firewall_session_table_emit(arg, &(struct firewall_session_table_state){
							.src = s->src,
							.dst = s->dst,
							.l4proto = s->l4proto,
							.sport = s->sport,
							.dport = s->dport,
							.state = s->state,
							.eta = s->eta,
						});
}

static int fw_state(struct cube *c, struct cube_state *st)
{
	struct fwc *f = fw_compiler(c);
	int r;

	if (!f)
		return -EIO;
	for (int ch = 0; ch < FW_NCHAINS; ch++) {
		r = fw_state_chain(c, st, f, ch);
		if (r < 0)
			return r;
	}
	r = cb_ct_foreach(cube_map_fd(c, "fw_ct"), cb_ct_now(), fw_session, st);
	if (r < 0)
		return r;
	{
		uint64_t ps[FW_PS_MAX] = { 0 }, live = 0;
		int ncpu = libbpf_num_possible_cpus(), fd = cube_map_fd(c, "fw_pstats");
		struct cb_ct_counts n;

		for (uint32_t k = 0; k < FW_PS_MAX && ncpu > 0; k++) {
			uint64_t v[ncpu];

			if (bpf_map_lookup_elem(fd, &k, v) == 0)
				for (int i = 0; i < ncpu; i++)
					ps[k] += v[i];
		}
		if (cb_ct_sweep(cube_map_fd(c, "fw_ct"), -1, cb_ct_now(), &n) == 0)
			live = n.entries;
		r = firewall_cube_emit(st, &(struct firewall_cube_state){
						   .packets_not_ip = ps[FW_PS_NONIP],
						   .packets_truncated = ps[FW_PS_SHORT],
						   .packets_bad_tcp = ps[FW_PS_BADTCP],
						   .packets_fragments = ps[FW_PS_FRAG],
						   .packets_ip_options = ps[FW_PS_IPOPT],
						   .packets_logged = ps[FW_PS_LOGGED],
						   .packets_established = ps[FW_PS_CT_ACCEPTED],
						   .sessions = live,
						   .sessions_max = FW_CT_MAX,
						   .sessions_refused = ps[FW_PS_CT_FULL],
					   });
	}
	return r < 0 ? r : 0;
}

/* ---- LOG ------------------------------------------------------------------- */

static void fw_pktin(struct cube *c, const struct cb_pktin_hdr *h, const void *frame, size_t len)
{
	struct fw_priv *p = cube_priv(c);
	const unsigned char *b = frame;
	char src[INET6_ADDRSTRLEN] = "?", dst[INET6_ADDRSTRLEN] = "?";
	uint64_t now = fw_now_ms();
	unsigned proto = 0;

	p->logged++;
	if (p->log_last_ms && now - p->log_last_ms < FW_LOG_INTERVAL_MS) {
		p->log_unlogged++;
		return;
	}
	if (len >= ETH_HLEN + 20 && b[12] == 0x08 && b[13] == 0x00) {
		inet_ntop(AF_INET, b + ETH_HLEN + 12, src, sizeof(src));
		inet_ntop(AF_INET, b + ETH_HLEN + 16, dst, sizeof(dst));
		proto = b[ETH_HLEN + 9];
	} else if (len >= ETH_HLEN + 40 && b[12] == 0x86 && b[13] == 0xdd) {
		inet_ntop(AF_INET6, b + ETH_HLEN + 8, src, sizeof(src));
		inet_ntop(AF_INET6, b + ETH_HLEN + 24, dst, sizeof(dst));
		proto = b[ETH_HLEN + 6];
	}
	cube_log(c, LOG_INFO,
		 "LOG chain %s rule slot %u: %zu bytes %s -> %s protocol %u (%" PRIu64 " more since the last line)",
		 h->words[0] == FW_EGRESS ? "EGRESS" : "INGRESS", (unsigned)h->words[1], len, src, dst, proto,
		 p->log_unlogged);
	p->log_last_ms = now;
	p->log_unlogged = 0;
}

/* The program exact again after rules given lazily (fw_fit). */
static void fw_tick(struct cube *c)
{
	struct fw_priv *p = cube_priv(c);

	/* expired sessions out, every second */
	if (++p->ticks % 5 == 0) {
		struct cb_ct_counts n;

		if (cb_ct_sweep(cube_map_fd(c, "fw_ct"), cube_map_fd(c, "fw_ct_stats"), cb_ct_now(), &n) == 0 &&
		    n.expired)
			cube_log(c, LOG_DEBUG, "sessions: %" PRIu64 " expired, %" PRIu64 " live", n.expired, n.entries);
	}
	if (!p->shrink_due || !p->fwc)
		return;
	p->shrink_due = false;
	fw_specialise_now(c);
}

static const struct cube_ops firewall_ops = {
	.service = "firewall",
	CUBE_PROGRAMS(firewall),
	.model = &firewall_model,
	.state = fw_state,
	.actions = &firewall_actions,
	.pktin = fw_pktin,
	.tick = fw_tick,
	.tick_ms = 200,
	.priv_size = sizeof(struct fw_priv),
};

int main(int argc, char **argv)
{
	return cube_main(argc, argv, &firewall_ops);
}
