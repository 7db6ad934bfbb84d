/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cbrig.h - a test rig for cubebus BPF objects, without a broker.
 *
 * The rig does in one process what the broker and the cube processes do
 * together: it creates the global maps (cb_g_*) once, loads service and
 * framework objects from build/obj/bpf/ with their read-only settings,
 * points every object's cb_g_* map at the rig's instance, fills the link
 * table and runs packets through bpf_prog_test_run_opts() with the in-port
 * in the metadata each hook reads. Nothing is pinned: the maps and programs
 * live as long as the rig's file descriptors.
 *
 * Used by tests/bpf/test_fastpath.c and bench/hops.c. Functions return 0 or
 * a negative errno; none prints (libbpf's own output is silenced unless
 * CBRIG_VERBOSE is set in the environment).
 */
#ifndef CBRIG_H
#define CBRIG_H

#include <stddef.h>
#include <linux/types.h>
#include <bpf/libbpf.h>
#include "cubebus/cubebus_shared.h"

enum cbrig_hook { CBRIG_TC = 0, CBRIG_XDP = 1 };

/* Verdicts as the programs return them (linux/pkt_cls.h, linux/bpf.h). */
#define CBRIG_TC_OK	   0
#define CBRIG_TC_SHOT	   2
#define CBRIG_TC_REDIRECT  7
#define CBRIG_XDP_ABORTED  0
#define CBRIG_XDP_DROP	   1
#define CBRIG_XDP_PASS	   2
#define CBRIG_XDP_REDIRECT 4

/* The global maps, as the broker would create and pin them. */
struct cbrig {
	int links_fd;
	int stats_fd;
	int conf_fd;
	int md_fd;
	int tc_slots_fd;
	int xdp_slots_fd;
	int ncpus;
	char objdir[512];
};

/* A value of a const volatile u32 to set in .rodata before load. */
struct cbrig_var {
	const char *name;
	__u32 val;
};

/*
 * Creates the global maps. objdir_rel is where the BPF objects are relative
 * to the directory of the running executable (e.g. "../../obj/bpf" for
 * build/tests/bpf/x); $CUBEBUS_BPF_OBJ_DIR overrides it.
 */
int cbrig_init(struct cbrig *r, const char *objdir_rel);
/* Closes the global maps; objects loaded with cbrig_load stay the caller's. */
void cbrig_fini(struct cbrig *r);

/*
 * Opens <objdir>/<file>, sets the nvars read-only variables, shares the
 * rig's cb_g_* maps and loads it. On success *out is the loaded object,
 * owned by the caller (bpf_object__close). On failure, a sentence saying
 * what failed is in err.
 */
int cbrig_load(struct cbrig *r, const char *file, const struct cbrig_var *vars, int nvars, struct bpf_object **out,
	       char *err, size_t errlen);

/* What libbpf printed (warnings and errors) during the last cbrig_load. */
const char *cbrig_libbpf_log(void);

/* fd of the program / map called name in obj, or a negative errno. */
int cbrig_prog_fd(struct bpf_object *obj, const char *name);
int cbrig_map_fd(struct bpf_object *obj, const char *name);

/* Writes the link of (cube, port). kind is enum cb_link_kind. */
int cbrig_set_link(struct cbrig *r, __u32 cube, __u32 port, __u32 kind, __u32 ifindex, __u16 peer_cube,
		   __u16 peer_port);
/* Sums the per-CPU counters of (cube, port) into *out. */
int cbrig_stats(struct cbrig *r, __u32 cube, __u32 port, struct cb_port_stats *out);
/* Sums a per-CPU u64 array entry (cb_spstats) into *out. */
int cbrig_percpu_u64(struct cbrig *r, int map_fd, __u32 key, __u64 *out);
/* Writes the global configuration (cb_g_conf[0]). */
int cbrig_set_gconf(struct cbrig *r, __u32 inj_ifindex);

/* One run of a packet through a program. */
struct cbrig_run {
	enum cbrig_hook hook;
	__u32 in_port; /* TC: skb->cb[0]; XDP: cb_g_md[0].in_port on every CPU */
	__u32 mark;    /* TC only: skb->mark */
	const void *pkt;
	__u32 len;
	void *out; /* may be NULL */
	__u32 out_size;
	__u32 repeat; /* 0 or 1: once */
	/* results */
	__u32 retval;
	__u32 out_len;
	__u32 duration_ns; /* the kernel's average, whole ns */
	double wall_ns;	   /* wall clock of the whole call divided by repeat */
};
int cbrig_run(struct cbrig *r, int prog_fd, struct cbrig_run *run);

/*
 * Builds a 64-byte Ethernet/IPv4/UDP frame (no FCS) from src to dst in buf
 * (at least 64 bytes); returns its length.
 */
__u32 cbrig_udp_frame(void *buf, const __u8 dst[6], const __u8 src[6]);

#endif
