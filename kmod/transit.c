// SPDX-License-Identifier: GPL-2.0
/*
 * The transit layer's init and exit, in dependency order, its fast-path
 * test and its STATUS attributes.  The probes go first on exit, so that
 * nothing looks at the state they feed while it is freed.
 */

#include <linux/tracingplane.h>
#include <net/netlink.h>

#include "credit.h"
#include "inflight.h"
#include "limits.h"
#include "pipe.h"
#include "pipe_probe.h"
#include "pipe_splice.h"
#include "skbtag.h"
#include "stats.h"
#include "stream.h"
#include "task.h"
#include "transit.h"
#include "unix.h"

bool tp_transit_active(void)
{
	return tp_task_count() || tp_pipe_count() || tp_skbtag_count();
}

static const struct tp_transit_part {
	int (*init)(void);
	void (*exit)(void);
} tp_transit_parts[] = {
	{ tp_stream_cache_init, tp_stream_cache_exit },
	{ tp_inflight_init, tp_inflight_exit },
	{ tp_credit_init, tp_credit_exit },
	{ tp_pipe_init, tp_pipe_exit },
	{ tp_skbtag_init, tp_skbtag_exit },
	{ tp_pipe_probe_init, tp_pipe_probe_exit },
	{ tp_splice_init, tp_splice_exit },
	{ tp_unix_init, tp_unix_exit },
};

static void tp_transit_unwind(int count)
{
	while (count--)
		tp_transit_parts[count].exit();
}

int tp_transit_init(void)
{
	int i, err;

	for (i = 0; i < ARRAY_SIZE(tp_transit_parts); i++) {
		err = tp_transit_parts[i].init();
		if (err) {
			tp_transit_unwind(i);
			return err;
		}
	}
	return 0;
}

void tp_transit_exit(void)
{
	tp_transit_unwind(ARRAY_SIZE(tp_transit_parts));
}

static int tp_transit_put(struct sk_buff *msg, int type, long count)
{
	/* Live counts can dip below zero for an instant under races. */
	return nla_put_u64_64bit(msg, type, max(count, 0L), TRACINGPLANE_A_PAD);
}

int tp_transit_nl_status(struct sk_buff *msg)
{
	long misses = tp_pipe_probe_misses() + tp_splice_probe_misses() +
		      tp_unix_probe_misses();

	if (nla_put_u32(msg, TRACINGPLANE_A_STATUS_MAX_RANGES,
			tp_limit_max_ranges()) ||
	    tp_transit_put(msg, TRACINGPLANE_A_STATUS_LIVE_PIPES,
			   tp_pipe_count()) ||
	    tp_transit_put(msg, TRACINGPLANE_A_STATUS_LIVE_RANGES,
			   tp_stream_live_ranges()) ||
	    tp_transit_put(msg, TRACINGPLANE_A_STATUS_LIVE_SKB_TAGS,
			   tp_skbtag_count()) ||
	    tp_transit_put(msg, TRACINGPLANE_A_STATUS_RANGE_MERGES,
			   atomic_long_read(&tp_stats.range_merges)) ||
	    tp_transit_put(msg, TRACINGPLANE_A_STATUS_OVERAPPROX,
			   atomic_long_read(&tp_stats.overapprox)) ||
	    tp_transit_put(msg, TRACINGPLANE_A_STATUS_PROBE_MISSES, misses))
		return -EMSGSIZE;
	return 0;
}
