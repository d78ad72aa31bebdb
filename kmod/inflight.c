// SPDX-License-Identifier: GPL-2.0
/*
 * Calls in flight, per CPU (see inflight.h).  Per CPU so that the common
 * path, a list insertion at entry and a removal at return, takes a lock
 * that is almost never contended; the rare question "who is in flight on
 * this pipe?" pays instead, walking every CPU's list.  The lists are
 * short: one node per call in flight, and the kretprobes bound those.
 * Exact, unlike a hash of counters, whose collisions would make an
 * unrelated sleeping reader look like one on this pipe.
 */

#include <linux/percpu.h>
#include <linux/smp.h>
#include <linux/spinlock.h>

#include "inflight.h"

struct tp_inflight_list {
	spinlock_t lock;
	struct list_head calls;
};

static struct tp_inflight_list __percpu *tp_inflight;

int tp_inflight_init(void)
{
	int cpu;

	tp_inflight = alloc_percpu(struct tp_inflight_list);
	if (!tp_inflight)
		return -ENOMEM;
	for_each_possible_cpu(cpu) {
		struct tp_inflight_list *l = per_cpu_ptr(tp_inflight, cpu);

		spin_lock_init(&l->lock);
		INIT_LIST_HEAD(&l->calls);
	}
	return 0;
}

/*
 * Calls still in flight when the probes went keep nodes in these lists,
 * in kretprobe instances that the kernel frees as the calls return: the
 * lists are dropped without being walked.
 */
void tp_inflight_exit(void)
{
	free_percpu(tp_inflight);
}

void tp_inflight_enter(struct tp_inflight *in, const void *obj)
{
	struct tp_inflight_list *l;

	in->obj = obj;
	in->cpu = raw_smp_processor_id();
	l = per_cpu_ptr(tp_inflight, in->cpu);
	spin_lock(&l->lock);
	list_add(&in->node, &l->calls);
	spin_unlock(&l->lock);
	/* Pairs with the barrier in tp_inflight_count(). */
	smp_mb();
}

void tp_inflight_leave(struct tp_inflight *in)
{
	struct tp_inflight_list *l = per_cpu_ptr(tp_inflight, in->cpu);

	spin_lock(&l->lock);
	list_del(&in->node);
	spin_unlock(&l->lock);
}

bool tp_inflight_each(const void *obj,
		      bool (*fn)(struct tp_inflight *in, void *arg), void *arg)
{
	struct tp_inflight *in;
	bool ok = true;
	int cpu;

	/* Pairs with the barrier in tp_inflight_enter(). */
	smp_mb();
	for_each_possible_cpu(cpu) {
		struct tp_inflight_list *l = per_cpu_ptr(tp_inflight, cpu);

		spin_lock(&l->lock);
		list_for_each_entry(in, &l->calls, node) {
			if (in->obj == obj && !fn(in, arg)) {
				ok = false;
				break;
			}
		}
		spin_unlock(&l->lock);
		if (!ok)
			return false;
	}
	return true;
}
