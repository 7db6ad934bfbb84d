/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cubebus_shared.h - constants and fixed-width structs shared by the data
 * plane (BPF) and user space (broker, libcube, tests).
 *
 * Only plain types live here: maps and helpers are in the BPF-only headers.
 * Every capacity is a named constant so that a test can shrink it.
 */
#ifndef CUBEBUS_SHARED_H
#define CUBEBUS_SHARED_H

#include <linux/types.h>

/* Slots per hook program array; slot 0 is never given to a cube. */
#define CB_MAX_CUBES 256
/* Ports per cube; the hop is a switch over this many constant keys. */
#define CB_MAX_PORTS 32
/* Slow-path reasons counted per cube. */
#define CB_MAX_REASONS 8

/* Index of (cube, port) in the link table and in the port counters. */
#define CB_LINK_KEY(cube, port) ((__u32)(cube)*CB_MAX_PORTS + (__u32)(port))
#define CB_LINK_ENTRIES		(CB_MAX_CUBES * CB_MAX_PORTS)

enum cb_link_kind {
	CB_LINK_NONE = 0,   /* port without a peer: packets sent to it drop */
	CB_LINK_NETDEV = 1, /* egress to a Linux netdev (ifindex) */
	CB_LINK_CUBE = 2,   /* tail call into peer_cube with in-port peer_port */
	CB_LINK_PASS = 3,   /* the packet goes on in the kernel where the stub took it:
			     * to the stack at ingress, out of the device at TC
			     * egress (transparent cubes on a netdev) */
};

struct cb_link {
	__u32 kind;
	__u32 ifindex;
	__u16 peer_cube;
	__u16 peer_port;
	__u32 flags;
};

struct cb_port_stats {
	__u64 rx_packets;
	__u64 rx_bytes;
	__u64 tx_packets;
	__u64 tx_bytes;
	__u64 drops;
};

/* Global configuration written by the broker (array of one entry). */
struct cb_gconf {
	__u32 inj_ifindex; /* the injector veth end user space writes to */
	__u32 pad;
};

/* Per-packet metadata. TC keeps it in skb->cb[], XDP in a per-CPU map. */
struct cb_md {
	__u16 in_port;
	__u16 cube_id;
	__u32 reason;
	__u32 words[2];
};

/* Slow-path reasons understood by the framework; services use >= 4. */
enum cb_reason {
	CB_REASON_NONE = 0,   /* counter slot 0: packets the channel lost */
	CB_REASON_FLOOD = 1,  /* copy for cube peers the kernel cannot reach */
	CB_REASON_SERVICE = 4 /* first reason free for services */
};

/* Header of a packet sent to the slow path; the frame follows it. */
struct cb_pktin_hdr {
	__u16 cube_id;
	__u16 in_port;
	__u32 reason;
	__u32 words[2];
	__u32 len; /* length of the frame on the wire */
	__u32 pad;
};

/*
 * Log levels of a cube (the YANG leaf loglevel, in its order). The fast
 * path's cb_loglevel is one of these, fixed at load: a record below it is
 * pruned by the verifier.
 */
enum cb_loglevel {
	CB_LOG_TRACE = 0,
	CB_LOG_DEBUG = 1,
	CB_LOG_INFO = 2,
	CB_LOG_WARN = 3,
	CB_LOG_ERR = 4,
	CB_LOG_CRITICAL = 5,
	CB_LOG_OFF = 6,
};

#define CB_LOG_MSG_LEN 24
#define CB_LOG_ARGS    3
/* Bytes of a cube's trace ring (a power of two, a multiple of the page):
 * about 900 records, what a burst may leave before records are dropped. */
#define CB_LOG_RING_SIZE (64 * 1024)

/* One trace record of the fast path (cube_log() in cube.bpf.h). */
struct cb_log_rec {
	__u64 ts_ns; /* bpf_ktime_get_ns() */
	__u16 cube_id;
	__u16 in_port;
	__u8 level;
	__u8 nargs;
	__u16 pad;
	char msg[CB_LOG_MSG_LEN]; /* NUL-terminated unless full */
	__u64 args[CB_LOG_ARGS];
};

/*
 * Packet-out target carried with the frame, never in a side table:
 * TC frames carry it in skb->mark, XDP frames in an envelope in front
 * of the frame.
 */
#define CB_MARK_MAGIC	   0xCB100000u
#define CB_MARK_MAGIC_MASK 0xFFF00000u
#define CB_DIR_IN	   0 /* enter the cube's fast path on this in-port */
#define CB_DIR_OUT	   1 /* leave the cube through this port */
#define CB_MARK(dir, cube, port) \
	(CB_MARK_MAGIC | ((__u32)(dir) << 16) | (((__u32)(cube)&0xff) << 8) | ((__u32)(port)&0xff))
#define CB_MARK_DIR(m)	(((m) >> 16) & 1)
#define CB_MARK_CUBE(m) (((m) >> 8) & 0xff)
#define CB_MARK_PORT(m) ((m)&0xff)

#define CB_ENV_PROTO 0x88B5 /* IEEE local experimental ethertype */
#define CB_ENV_MAGIC 0xCB01
struct cb_envelope {
	__u8 dst[6];
	__u8 src[6];
	__u16 proto; /* network order CB_ENV_PROTO */
	__u16 magic; /* network order CB_ENV_MAGIC */
	__u8 dir;
	__u8 port;
	__u16 cube; /* host order */
} __attribute__((packed));

/* Names of the pinned global objects under the bpffs root. */
#define CB_PIN_TC_SLOTS	 "cb_g_tc_slots"
#define CB_PIN_XDP_SLOTS "cb_g_xdp_slots"
#define CB_PIN_LINKS	 "cb_g_links"
#define CB_PIN_STATS	 "cb_g_stats"
#define CB_PIN_MD	 "cb_g_md"
#define CB_PIN_CONF	 "cb_g_conf"
/* Per-cube objects under <bpffs>/cubes/<name>/ */
#define CB_PIN_NEXT  "cb_next"
#define CB_PIN_FLOOD "cb_flood"
#define CB_PIN_LOG   "cb_log"

#ifndef __bpf__
/*
 * The name of a cube's pin directory. bpffs refuses '.' in a name, which
 * cube names may have (a letter, then letters, digits, '_', '.', '-'): each
 * '.' is spelt '~', a character no cube name has, so the mapping is one to
 * one and a name without dots is its own pin name. The broker, libcube and
 * reconciliation (which maps directories back to cubes) all use this.
 */
static inline void cb_pin_name(char *dst, unsigned long size, const char *name)
{
	unsigned long i = 0;

	for (; size && i < size - 1 && name[i]; i++)
		dst[i] = name[i] == '.' ? '~' : name[i];
	if (size)
		dst[i] = 0;
}
#endif

#endif /* CUBEBUS_SHARED_H */
