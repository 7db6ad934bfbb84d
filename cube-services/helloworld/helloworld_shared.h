/* SPDX-License-Identifier: Apache-2.0 */
#ifndef HELLOWORLD_SHARED_H
#define HELLOWORLD_SHARED_H
#include <linux/types.h>

enum hw_action { HW_DROP = 0, HW_SLOWPATH = 1, HW_FORWARD = 2 };

#define HW_NO_PORT 0xffffffffu

/* FORWARD sends a frame from one of the two ports out of the other. */
struct hw_conf {
	__u32 action;
	__u32 port[2];
};
#endif
