/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Limits on baggage: the max_bytes, mem_cap and max_ranges module
 * parameters, and the one place that enforces the first two.  Documented in Documentation/limits.rst.
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

/*
 * max_ranges bounds: byte ranges of different baggage one pipe may hold
 * for a lagging reader.  Two is the least that still tells one writer's
 * bytes from the next; at 4096 a pipe's list pins at most about 200 KiB
 * of range entries (baggage blobs are shared and counted by mem_cap).
 */
#define TP_LIMIT_MAX_RANGES_MIN	2u
#define TP_LIMIT_MAX_RANGES_MAX	4096u

u32 tp_limit_max_bytes(void);
u32 tp_limit_max_ranges(void);
u64 tp_limit_mem_cap(void);

/*
 * Trims *@bag (the caller's reference) to the limits, never below @floor
 * bytes (up to max_bytes): what a merge keeps of its larger input.  On
 * error (-ENOMEM, counted) *@bag is untouched.
 */
int tp_limit_apply(struct tp_bag **bag, size_t floor, gfp_t gfp);
/*
 * 0 if @bag fits the limits with the room of tp_limit_apply(); -E2BIG
 * over max_bytes, -ENOSPC over mem_cap.
 */
int tp_limit_check(const struct tp_bag *bag, size_t floor);
/*
 * *@acc := merge(*@acc, @bag), trimmed to the limits; *@acc stays the
 * caller's reference.  On error (-ENOMEM, counted) *@acc is untouched.
 */
int tp_limit_merge(struct tp_bag **acc, struct tp_bag *bag, gfp_t gfp);
/* The same, never trimmed below @floor bytes instead of the larger input. */
int tp_limit_merge_floor(struct tp_bag **acc, struct tp_bag *bag,
			 size_t floor, gfp_t gfp);

#endif /* TP_LIMITS_H */
