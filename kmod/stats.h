/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Event counters reported by TRACINGPLANE_CMD_STATUS.  Live-object counts
 * are kept by their owners (atom layer, task store); these count events.
 */
#ifndef TP_STATS_H
#define TP_STATS_H

#include <linux/atomic.h>

struct tp_stats {
	atomic_long_t trims;		/* baggages trimmed at a limit */
	atomic_long_t alloc_fails;	/* allocations that failed */
	atomic_long_t range_merges;	/* byte ranges merged at max_ranges */
	atomic_long_t overapprox;	/* transfers credited more than theirs */
};

extern struct tp_stats tp_stats;

#endif /* TP_STATS_H */
