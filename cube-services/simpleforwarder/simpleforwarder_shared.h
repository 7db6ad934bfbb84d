/* SPDX-License-Identifier: Apache-2.0 */
#ifndef SIMPLEFORWARDER_SHARED_H
#define SIMPLEFORWARDER_SHARED_H
#include <linux/types.h>

enum sf_action { SF_DROP = 0, SF_SLOWPATH = 1, SF_FORWARD = 2 };

/* Indexed by in-port; a port without an action drops. */
struct sf_entry {
	__u32 action;
	__u32 outport;
};
#endif
