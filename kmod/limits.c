// SPDX-License-Identifier: GPL-2.0
/*
 * The limits on baggage, module parameters writable at runtime:
 *
 *  max_bytes:  the largest serialized baggage one task may hold;
 *  mem_cap:    the bytes all baggage blobs together may hold;
 *  max_ranges: byte ranges of distinct baggage one pipe may hold
 *              (kmod/stream.c merges ranges beyond it).
 *
 * A baggage that would break a limit is trimmed with the overflow marker
 * rather than refused: losing the tail of a baggage, visibly, is better
 * than failing the write that carried it.
 */

#include <linux/kernel.h>
#include <linux/minmax.h>

#include "atom.h"
#include "limits.h"
#include "param.h"
#include "stats.h"

TP_PARAM(max_bytes, 8192, TP_LIMIT_MAX_BYTES_MIN, TP_LIMIT_MAX_BYTES_MAX, NULL,
	 0644, "Max serialized baggage bytes per task (64..65531, default 8192)");
TP_PARAM(mem_cap, SZ_64M, TP_LIMIT_MEM_CAP_MIN, TP_LIMIT_MEM_CAP_MAX, NULL,
	 0644, "Max bytes held by all baggage (1 MiB..1 TiB, default 64 MiB)");
TP_PARAM(max_ranges, 128, TP_LIMIT_MAX_RANGES_MIN, TP_LIMIT_MAX_RANGES_MAX,
	 NULL, 0644,
	 "Max byte ranges of distinct baggage per pipe (2..4096, default 128)");

u32 tp_limit_max_ranges(void)
{
	return tp_param_read(&tp_param_max_ranges);
}

u32 tp_limit_max_bytes(void)
{
	return tp_param_read(&tp_param_max_bytes);
}

u64 tp_limit_mem_cap(void)
{
	return tp_param_read(&tp_param_mem_cap);
}

/*
 * The size @bag may keep: max_bytes, or less when the blobs held by
 * everything else leave less than that under mem_cap.  Never below one
 * byte, so that a baggage squeezed by the global cap still carries the
 * overflow marker and readers learn that something was dropped.  Never
 * below @floor either (up to max_bytes): the global cap may stop baggage
 * from growing, but must not let one user's load destroy what a task
 * already holds.
 */
static size_t tp_limit_room(const struct tp_bag *bag, size_t floor)
{
	long held = tp_counter_read(&tp_atom_live_bytes);
	u64 others = max(held - (long)tp_bag_size(bag), 0L);
	u64 cap = tp_limit_mem_cap();
	u64 room = cap > others ? cap - others : 0;

	room = max_t(u64, room, floor);
	return max_t(u64, min_t(u64, room, tp_limit_max_bytes()), 1);
}

/*
 * Replaces *@bag (whose reference the caller owns) by its longest prefix
 * that fits the limits, plus the overflow marker.  On error *@bag is
 * untouched and still owned by the caller.
 */
static int tp_limit_fit(struct tp_bag **bag, size_t floor, gfp_t gfp)
{
	size_t room = tp_limit_room(*bag, floor);
	struct tp_bag *trimmed;

	if (tp_bag_size(*bag) <= room)
		return 0;

	if (tp_bag_trim(*bag, room, gfp, &trimmed)) {
		atomic_long_inc(&tp_stats.alloc_fails);
		return -ENOMEM;
	}
	atomic_long_inc(&tp_stats.trims);
	tp_bag_put(*bag);
	*bag = trimmed;
	return 0;
}

int tp_limit_apply(struct tp_bag **bag, size_t floor, gfp_t gfp)
{
	return tp_limit_fit(bag, floor, gfp);
}

int tp_limit_check(const struct tp_bag *bag, size_t floor)
{
	size_t size = tp_bag_size(bag);

	if (size > tp_limit_max_bytes())
		return -E2BIG;
	return size > tp_limit_room(bag, floor) ? -ENOSPC : 0;
}

/* A merge keeps at least as much as the larger of its inputs held. */
int tp_limit_merge_floor(struct tp_bag **acc, struct tp_bag *bag,
			 size_t floor, gfp_t gfp)
{
	struct tp_bag *merged;

	if (tp_bag_merge(*acc, bag, gfp, &merged)) {
		atomic_long_inc(&tp_stats.alloc_fails);
		return -ENOMEM;
	}
	if (tp_limit_fit(&merged, floor, gfp)) {
		tp_bag_put(merged);
		return -ENOMEM;
	}
	tp_bag_put(*acc);
	*acc = merged;
	return 0;
}

int tp_limit_merge(struct tp_bag **acc, struct tp_bag *bag, gfp_t gfp)
{
	/*
	 * Most merges: the merge is one of the inputs, which only max_bytes
	 * (lowered since it was made) could trim, as the global cap never
	 * trims below the larger input.
	 */
	if ((!bag || bag == *acc) && tp_bag_size(*acc) <= tp_limit_max_bytes())
		return 0;
	if (!*acc && tp_bag_size(bag) <= tp_limit_max_bytes()) {
		*acc = tp_bag_get(bag);
		return 0;
	}
	return tp_limit_merge_floor(acc, bag,
				    max(tp_bag_size(*acc), tp_bag_size(bag)), gfp);
}
