// SPDX-License-Identifier: GPL-2.0
/*
 * The transit layer's init and exit, in dependency order, the arming of
 * its probes and its STATUS attributes.  The probes go first on exit, so
 * that nothing looks at the state they feed while it is freed.
 *
 * Arming: even a probe whose handler returns at once costs a trap per
 * pipe call, several percent of a pipe round trip.  So the probes are
 * registered disarmed and armed only while baggage may exist.  Whoever
 * is about to give a task baggage holds tp_transit_rwsem for reading,
 * having armed the probes first (tp_transit_hold()); a worker disarms
 * them, holding it for writing, once nothing has held baggage for a
 * while.  Calls that began while disarmed are unseen: pipe_sync.c.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/kprobes.h>
#include <linux/rwsem.h>
#include <linux/tracingplane.h>
#include <linux/workqueue.h>
#include <net/netlink.h>

#include "credit.h"
#include "ftrace_hook.h"
#include "inflight.h"
#include "kprobe_guard.h"
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

/* How long the probes stay armed once no baggage is left. */
#define TP_TRANSIT_IDLE		HZ

static DECLARE_RWSEM(tp_transit_rwsem);
static bool tp_transit_on;	/* written under the rwsem held for writing */
/* struct tp_transit_probes, written under the rwsem held for writing */
static LIST_HEAD(tp_transit_sets);
static void tp_transit_idle(struct work_struct *work);
static DECLARE_DELAYED_WORK(tp_transit_idle_work, tp_transit_idle);

/*
 * Does any task hold baggage (or a read policy other than the default),
 * or any part baggage of its own?  If not, no transfer can carry any.
 * Under the rwsem, which keeps the list stable.
 */
static bool tp_transit_active(void)
{
	struct tp_transit_probes *p;

	if (tp_task_count())
		return true;
	list_for_each_entry(p, &tp_transit_sets, node)
		if (p->busy && p->busy())
			return true;
	return false;
}

bool tp_transit_armed(void)
{
	return READ_ONCE(tp_transit_on);
}

void tp_transit_switch(struct kprobe *kp, bool on)
{
	int err = on ? enable_kprobe(kp) : disable_kprobe(kp);

	if (err)
		pr_warn_ratelimited("cannot %s the probe on %s: %d\n",
				    on ? "arm" : "disarm", kp->symbol_name, err);
}

/* Under the rwsem held for writing. */
static void tp_transit_set(bool on)
{
	struct tp_transit_probes *p;

	if (on)
		list_for_each_entry(p, &tp_transit_sets, node)
			p->arm(true);
	else
		list_for_each_entry_reverse(p, &tp_transit_sets, node)
			p->arm(false);
	WRITE_ONCE(tp_transit_on, on);
}

void tp_transit_attach(struct tp_transit_probes *probes)
{
	down_write(&tp_transit_rwsem);
	list_add_tail(&probes->node, &tp_transit_sets);
	if (tp_transit_on)
		probes->arm(true);
	up_write(&tp_transit_rwsem);
}

/* Returns once no handler of the set runs any more (they run under RCU). */
void tp_transit_detach(struct tp_transit_probes *probes)
{
	down_write(&tp_transit_rwsem);
	list_del(&probes->node);
	if (tp_transit_on)
		probes->arm(false);
	up_write(&tp_transit_rwsem);
	synchronize_rcu();
}

void tp_transit_hold(bool arm)
{
	down_read(&tp_transit_rwsem);
	if (!arm || tp_transit_armed())
		return;
	up_read(&tp_transit_rwsem);
	down_write(&tp_transit_rwsem);
	if (!tp_transit_on) {
		tp_transit_set(true);
		schedule_delayed_work(&tp_transit_idle_work, TP_TRANSIT_IDLE);
	}
	downgrade_write(&tp_transit_rwsem);
}

void tp_transit_release(void)
{
	up_read(&tp_transit_rwsem);
}

/*
 * Nobody holds the layer for writing meanwhile, so no task gets baggage
 * between the test and the disarming.  A handler already running may
 * still leave baggage of a part's own behind, though (a write by a task
 * whose baggage another task just cleared): once every such handler is
 * over (they run with preemption off; an ftrace hook's does nothing unless
 * it sees its hook armed), a second look re-arms if so.
 */
static void tp_transit_idle(struct work_struct *work)
{
	down_write(&tp_transit_rwsem);
	if (tp_transit_on && !tp_transit_active()) {
		tp_transit_set(false);
		synchronize_rcu();
		if (tp_transit_active())
			tp_transit_set(true);
	}
	if (tp_transit_on)
		schedule_delayed_work(&tp_transit_idle_work, TP_TRANSIT_IDLE);
	up_write(&tp_transit_rwsem);
}

static const struct tp_transit_part {
	int (*init)(void);
	void (*exit)(void);
} tp_transit_parts[] = {
	{ tp_hooks_init, tp_hooks_exit },
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
	cancel_delayed_work_sync(&tp_transit_idle_work);
	tp_transit_unwind(ARRAY_SIZE(tp_transit_parts));
}

static int tp_transit_put(struct sk_buff *msg, int type, long count)
{
	/* Live counts can dip below zero for an instant under races. */
	return nla_put_u64_64bit(msg, type, max(count, 0L), TRACINGPLANE_A_PAD);
}

int tp_transit_nl_status(struct sk_buff *msg)
{
	long misses = tp_kprobe_late_count();
	struct tp_transit_probes *p;

	down_read(&tp_transit_rwsem);
	list_for_each_entry(p, &tp_transit_sets, node)
		if (p->misses)
			misses += p->misses();
	up_read(&tp_transit_rwsem);

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
