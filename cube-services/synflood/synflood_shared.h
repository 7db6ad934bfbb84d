/* SPDX-License-Identifier: Apache-2.0 */
#ifndef SYNFLOOD_SHARED_H
#define SYNFLOOD_SHARED_H
/* The fast path has no map of its own: it passes every packet. */
#endif
