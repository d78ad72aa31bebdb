// SPDX-License-Identifier: GPL-2.0
/*
 * The two limits on baggage, both module parameters writable at runtime:
 *
 *  max_bytes: the largest serialized baggage one task may hold;
 *  mem_cap:   the bytes all baggage blobs together may hold.
 *
 * A baggage that would break a limit is trimmed with the overflow marker
 * rather than refused: losing the tail of a baggage, visibly, is better
 * than failing the write that carried it.
 */

#include <linux/kernel.h>
#include <linux/minmax.h>
#include <linux/moduleparam.h>

#include "atom.h"
#include "limits.h"
#include "stats.h"

static unsigned int max_bytes = 8192;
static unsigned long mem_cap = SZ_64M;

/* Any value that is not a number in range is invalid: -EINVAL. */
static int max_bytes_set(const char *val, const struct kernel_param *kp)
{
	if (param_set_uint_minmax(val, kp, TP_LIMIT_MAX_BYTES_MIN,
				  TP_LIMIT_MAX_BYTES_MAX))
		return -EINVAL;
	return 0;
}

static const struct kernel_param_ops max_bytes_ops = {
	.set = max_bytes_set,
	.get = param_get_uint,
};

module_param_cb(max_bytes, &max_bytes_ops, &max_bytes, 0644);
MODULE_PARM_DESC(max_bytes,
		 "Max serialized baggage bytes per task (64..65531, default 8192)");

static int mem_cap_set(const char *val, const struct kernel_param *kp)
{
	unsigned long cap;

	if (kstrtoul(val, 0, &cap) ||
	    cap < TP_LIMIT_MEM_CAP_MIN || cap > TP_LIMIT_MEM_CAP_MAX)
		return -EINVAL;
	WRITE_ONCE(*(unsigned long *)kp->arg, cap);
	return 0;
}

static const struct kernel_param_ops mem_cap_ops = {
	.set = mem_cap_set,
	.get = param_get_ulong,
};

module_param_cb(mem_cap, &mem_cap_ops, &mem_cap, 0644);
MODULE_PARM_DESC(mem_cap,
		 "Max bytes held by all baggage (1 MiB..1 TiB, default 64 MiB)");

u32 tp_limit_max_bytes(void)
{
	return READ_ONCE(max_bytes);
}

u64 tp_limit_mem_cap(void)
{
	return READ_ONCE(mem_cap);
}

/*
 * The size @bag may keep: max_bytes, or less when the blobs held by
 * everything else leave less than that under mem_cap.  Never below one
 * byte, so that a baggage squeezed by the global cap still carries the
 * overflow marker and readers learn that something was dropped.
 */
static size_t tp_limit_room(const struct tp_bag *bag)
{
	long held = tp_counter_read(&tp_atom_live_bytes);
	u64 others = max(held - (long)tp_bag_size(bag), 0L);
	u64 cap = tp_limit_mem_cap();
	u64 room = cap > others ? cap - others : 0;

	return max_t(u64, min_t(u64, room, tp_limit_max_bytes()), 1);
}

/*
 * Replaces *@bag (whose reference the caller owns) by its longest prefix
 * that fits the limits, plus the overflow marker.  On error *@bag is
 * untouched and still owned by the caller.
 */
int tp_limit_apply(struct tp_bag **bag, gfp_t gfp)
{
	size_t room = tp_limit_room(*bag);
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
