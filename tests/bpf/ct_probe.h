/* SPDX-License-Identifier: Apache-2.0 */
/* ct_probe.h - the maps of tests/bpf/ct_probe.bpf.c, for it and test_ct.c. */
#ifndef CT_PROBE_H
#define CT_PROBE_H

struct probe_in {
	__u64 now; /* ns: the test's clock */
	__u32 commit;
	__u32 pad;
};

struct probe_out {
	struct cb_ct_pkt pkt;
	struct cb_ct_ref ref;
	__s32 parse;
	__s32 state;
	__s32 commit; /* cb_ct_commit's result; 1 when not called */
	__u32 runs;
};

#endif
