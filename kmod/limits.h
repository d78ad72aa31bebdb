/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Limits on baggage: the max_bytes and mem_cap module parameters, and the
 * one place that enforces them.  Documented in Documentation/limits.rst.
 */
#ifndef TP_LIMITS_H
#define TP_LIMITS_H

#include <linux/sizes.h>
#include <linux/types.h>
#include <net/netlink.h>

struct tp_bag;

/* max_bytes bounds: the largest one netlink attribute can carry. */
#define TP_LIMIT_MAX_BYTES_MIN	64u
#define TP_LIMIT_MAX_BYTES_MAX	(U16_MAX - NLA_HDRLEN)

/* mem_cap bounds; 0 is rejected rather than meaning "unlimited". */
#define TP_LIMIT_MEM_CAP_MIN	SZ_1M
#define TP_LIMIT_MEM_CAP_MAX	SZ_1T

u32 tp_limit_max_bytes(void);
u64 tp_limit_mem_cap(void);

int tp_limit_apply(struct tp_bag **bag, gfp_t gfp);

#endif /* TP_LIMITS_H */
