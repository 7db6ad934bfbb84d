/* SPDX-License-Identifier: Apache-2.0 */
/*
 * firewall: what the process's files share (firewall.c: the cube, its
 * state and the slow path; chains.c: the chains and their actions).
 */
#ifndef FIREWALL_H
#define FIREWALL_H

#include "cube.h"
#include "firewall_cfg.h"
#include "firewall_shared.h"
#include "fwc.h"

struct fw_priv {
	struct fwc *fwc;	     /* NULL until the first change that needs it */
	uint32_t loaded[FW_NCHAINS]; /* matchers of the loaded program */
	bool specialised;	     /* loaded[] holds what the program was built with */
	bool shrink_due;	     /* the loaded program has more than the rules use */
	bool conntrack;		     /* the cube's conntrack leaf (absent: ON) */
	bool loaded_track;	     /* the loaded program tracks connections */
	unsigned ticks;
	uint64_t logged, log_last_ms, log_unlogged;
	/* the configured id of each rule, by rank (fwc's order): ascending */
	uint32_t ids[FW_NCHAINS][FW_RULES_MAX];
};

/* The compiler of the cube, made on first use (it takes the maps over);
 * NULL after cube_fail(). */
struct fwc *fw_compiler(struct cube *c);
/*
 * Makes the loaded program hold the matchers the chains need (want: the
 * matchers of each chain after the change, or before it, whichever is
 * more): loads and swaps a new one when they differ. 0 or a negative errno
 * after cube_fail().
 */
int fw_specialise(struct cube *c, const uint32_t want[FW_NCHAINS]);
/* The chain of a chain name, or -EINVAL after cube_fail() for INVALID. */
int fw_chain_index(struct cube *c, enum firewall_chain_name name);
/* The configured id of the rule of rank rank. */
uint32_t fw_rule_id(struct cube *c, int chain, uint32_t rank);
#endif
