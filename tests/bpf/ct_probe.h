/* SPDX-License-Identifier: Apache-2.0 */
/* ct_probe.h - the maps of tests/bpf/ct_probe.bpf.c, for it and test_ct.c. */
#ifndef CT_PROBE_H
#define CT_PROBE_H

struct probe_in {
	__u64 now;    /* ns: the test's clock */
	__u32 commit; /* PROBE_* */
	__u32 pad;
};

#define PROBE_LOOKUP	     0 /* lookup only */
#define PROBE_COMMIT	     1 /* lookup, and commit unless INVALID */
#define PROBE_STASH	     2 /* lookup, and keep the packet and ref for later */
#define PROBE_COMMIT_STASHED 3 /* commit what PROBE_STASH kept (the frame is ignored) */

struct probe_stash {
	struct cb_ct_pkt pkt;
	struct cb_ct_ref ref;
};

struct probe_out {
	struct cb_ct_pkt pkt;
	struct cb_ct_ref ref;
	__s32 parse;
	__s32 state;
	__s32 commit; /* cb_ct_commit's result; 1 when not called */
	__u32 runs;
};

/* probe_live: the last packet found INVALID, and its entry as it was */
struct probe_bad {
	struct cb_ct_pkt pkt;
	struct cb_ct_entry entry;
	__u32 n;
	__u32 had_entry;
};

#endif
