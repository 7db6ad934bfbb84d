/* SPDX-License-Identifier: Apache-2.0 */
#ifndef TRANSPARENTHELLOWORLD_SHARED_H
#define TRANSPARENTHELLOWORLD_SHARED_H
#include <linux/types.h>

/* PASS is 0: a cube whose process has not written its actions yet is
 * transparent, as the model's default is. */
enum thw_action { THW_PASS = 0, THW_DROP = 1, THW_SLOWPATH = 2 };

/* Keys of thw_actions: the packet's direction, which is its in-port (port
 * 0 faces the cube it is attached to, port 1 the way out). */
enum thw_dir { THW_EGRESS = 0, THW_INGRESS = 1, THW_NDIRS = 2 };
#endif
