/* SPDX-License-Identifier: Apache-2.0 */
/*
 * synflood: the TCP and IP counters of a network namespace, from the
 * kernel's own files (/proc/net/snmp: Ip, Tcp; /proc/net/netstat: TcpExt),
 * read once a second and when the cube is read. Another namespace (netns)
 * is read by entering it with this thread alone (setns affects the calling
 * thread; /proc/thread-self/net is that thread's namespace) and leaving it
 * at once, so nothing else of the process runs there.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "cube.h"
#include "synflood_cfg.h"
#include "synflood_shared.h"
#include "synflood_tc.skel.h"
#include "synflood_xdp.skel.h"

/* The counters read: "<group> <name>" as the files spell them. */
enum sf_counter {
	SF_IP_IN_RECEIVES,
	SF_IP_IN_DELIVERS,
	SF_IP_OUT_REQUESTS,
	SF_TCP_ATTEMPT_FAILS,
	SF_TCP_OUT_RSTS,
	SF_TCPEXT_LISTEN_DROPS,
	SF_TCPEXT_SYNCOOKIES_SENT,
	SF_NCOUNTERS,
};

static const struct {
	const char *group, *name;
} sf_names[SF_NCOUNTERS] = {
	[SF_IP_IN_RECEIVES] = { "Ip", "InReceives" },
	[SF_IP_IN_DELIVERS] = { "Ip", "InDelivers" },
	[SF_IP_OUT_REQUESTS] = { "Ip", "OutRequests" },
	[SF_TCP_ATTEMPT_FAILS] = { "Tcp", "AttemptFails" },
	[SF_TCP_OUT_RSTS] = { "Tcp", "OutRsts" },
	[SF_TCPEXT_LISTEN_DROPS] = { "TcpExt", "ListenDrops" },
	[SF_TCPEXT_SYNCOOKIES_SENT] = { "TcpExt", "SyncookiesSent" },
};

struct sf_priv {
	bool open;     /* self_ns and target_ns are set */
	int self_ns;   /* the namespace the process runs in */
	int target_ns; /* the one watched; -1: self */
	char netns[256];
	uint64_t v[SF_NCOUNTERS];
	uint64_t lastupdate; /* ms since the epoch; 0: never read */
	char err[256];	     /* why the last read failed, "" when it did not */
	char logged[256];    /* the last error logged by the tick: once, not each second */
};

static uint64_t sf_epoch_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * Parses one of the files: pairs of lines "Group: Name1 Name2 ..." and
 * "Group: v1 v2 ...". Fills the counters it names; 0 or -errno.
 */
static int sf_parse(const char *path, uint64_t v[SF_NCOUNTERS])
{
	char names[8192], vals[8192];
	FILE *f = fopen(path, "re");

	if (!f)
		return -errno;
	while (fgets(names, sizeof(names), f) && fgets(vals, sizeof(vals), f)) {
		char *sn, *sv, *n, *x, *g = names, *colon = strchr(names, ':');

		if (!colon || strncmp(names, vals, colon - names + 1))
			continue; /* not a pair of the same group */
		*colon = '\0';
		n = strtok_r(colon + 1, " \n", &sn);
		x = strtok_r(strchr(vals, ':') + 1, " \n", &sv);
		for (; n && x; n = strtok_r(NULL, " \n", &sn), x = strtok_r(NULL, " \n", &sv))
			for (int i = 0; i < SF_NCOUNTERS; i++)
				if (!strcmp(sf_names[i].group, g) && !strcmp(sf_names[i].name, n))
					v[i] = strtoull(x, NULL, 10);
	}
	fclose(f);
	return 0;
}

/* Reads the counters of the namespace watched; 0 or -errno (p->err says). */
static int sf_refresh(struct cube *c)
{
	struct sf_priv *p = cube_priv(c);
	uint64_t v[SF_NCOUNTERS] = { 0 };
	int r = 0, r2 = 0;

	if (p->target_ns >= 0 && setns(p->target_ns, CLONE_NEWNET) < 0) {
		r = -errno;
		snprintf(p->err, sizeof(p->err), "cannot enter the network namespace %s: %s", p->netns, strerror(-r));
		return r;
	}
	r = sf_parse("/proc/thread-self/net/snmp", v);
	if (r == 0)
		r = sf_parse("/proc/thread-self/net/netstat", v);
	if (p->target_ns >= 0 && setns(p->self_ns, CLONE_NEWNET) < 0) {
		/* the thread would run in the watched namespace: it cannot go on */
		r2 = -errno;
		cube_log(c, LOG_CRIT, "cannot leave the network namespace %s: %s", p->netns, strerror(-r2));
		abort();
	}
	if (r < 0) {
		snprintf(p->err, sizeof(p->err), "cannot read the TCP counters of %s: %s",
			 p->netns[0] ? p->netns : "the host", strerror(-r));
		return r;
	}
	memcpy(p->v, v, sizeof(v));
	p->lastupdate = sf_epoch_ms();
	p->err[0] = '\0';
	return 0;
}

/* Points the cube at namespace name ("" the host's); 0 or -errno. */
static int sf_watch(struct cube *c, const char *name)
{
	struct sf_priv *p = cube_priv(c);
	char path[300];
	int fd = -1, r;

	if (!p->open) {
		p->self_ns = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
		if (p->self_ns < 0) {
			r = -errno;
			cube_fail(c, "synflood: cannot open its own network namespace: %s", strerror(-r));
			return r;
		}
		p->target_ns = -1;
		p->open = true;
	}
	if (name && name[0]) {
		snprintf(path, sizeof(path), "/run/netns/%s", name);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			r = -errno;
			cube_fail(c, "netns %s: no such network namespace (%s: %s); see ip netns list", name, path,
				  strerror(-r));
			return r;
		}
	}
	if (p->target_ns >= 0)
		close(p->target_ns);
	p->target_ns = fd;
	snprintf(p->netns, sizeof(p->netns), "%s", name ? name : "");
	r = sf_refresh(c);
	if (r < 0)
		cube_log(c, LOG_WARNING, "%s", p->err);
	return 0;
}

/* ---- the typed handlers of the model (synflood_cfg.h) ---------------------- */

int synflood_cube_create(struct cube *c, const struct synflood_cube *new)
{
	return sf_watch(c, new->netns);
}

int synflood_cube_update(struct cube *c, const struct synflood_cube *old, const struct synflood_cube *new)
{
	return sf_watch(c, new->netns);
}

int synflood_cube_delete(struct cube *c, const struct synflood_cube *old)
{
	return sf_watch(c, "");
}

/* ---- state ----------------------------------------------------------------- */

/* a / b with three decimals, "0" when b is 0 */
static void sf_ratio(char *buf, size_t len, uint64_t a, uint64_t b)
{
	if (!b)
		snprintf(buf, len, "0");
	else
		snprintf(buf, len, "%.3f", (double)a / (double)b);
}

static int sf_state(struct cube *c, struct cube_state *st)
{
	struct sf_priv *p = cube_priv(c);
	char fails[24], rsts[24], deliver[32], response[32];

	if (!p->open || sf_refresh(c) < 0) {
		cube_fail(c, "%s", p->open ? p->err : "synflood: not configured yet");
		return -EIO;
	}
	snprintf(fails, sizeof(fails), "%" PRIu64, p->v[SF_TCP_ATTEMPT_FAILS]);
	snprintf(rsts, sizeof(rsts), "%" PRIu64, p->v[SF_TCP_OUT_RSTS]);
	sf_ratio(deliver, sizeof(deliver), p->v[SF_IP_IN_DELIVERS], p->v[SF_IP_IN_RECEIVES]);
	sf_ratio(response, sizeof(response), p->v[SF_IP_OUT_REQUESTS], p->v[SF_IP_IN_RECEIVES]);
	return synflood_stats_emit(st, &(struct synflood_stats_state){
					       .tcpattemptfails = fails,
					       .tcpoutrsts = rsts,
					       .deliverratio = deliver,
					       .responseratio = response,
					       .lastupdate = p->lastupdate,
					       .listendrops = p->v[SF_TCPEXT_LISTEN_DROPS],
					       .syncookiessent = p->v[SF_TCPEXT_SYNCOOKIES_SENT],
				       });
}

/* Once a second, so that lastupdate is never older than that. */
static void sf_tick(struct cube *c)
{
	struct sf_priv *p = cube_priv(c);

	if (!p->open)
		return; /* no configuration yet */
	if (sf_refresh(c) < 0 && strcmp(p->err, p->logged)) {
		cube_log(c, LOG_WARNING, "%s", p->err);
		snprintf(p->logged, sizeof(p->logged), "%s", p->err);
	}
}

static const struct cube_ops synflood_ops = {
	.service = "synflood",
	CUBE_PROGRAMS(synflood),
	.model = &synflood_model,
	.state = sf_state,
	.tick = sf_tick,
	.tick_ms = 1000,
	.priv_size = sizeof(struct sf_priv),
};

int main(int argc, char **argv)
{
	return cube_main(argc, argv, &synflood_ops);
}
