// SPDX-License-Identifier: GPL-2.0
/*
 * Crediting readers (see credit.h).
 *
 * Reads are seen by kprobe handlers, where nothing may sleep, but storing
 * a task's new baggage may.  So a read's baggage is kept in a pending
 * credit and applied by task_work on the task's way back to user space,
 * before the program can see the data.  A task has at most one pending
 * credit (a hash table keyed by task finds it): every further read of the
 * same system call merges into it, which is what makes "replace" mean
 * "the baggage of everything this call read" even when a call reads
 * several buffers.  Only the task itself ever touches its credit.
 *
 * A pending credit holds a reference to the module, so the module cannot
 * go while one waits (it waits for a return to user space, not long).
 */

#include <linux/module.h>
#include <linux/rhashtable.h>
#include <linux/sched.h>
#include <linux/task_work.h>
#include <linux/tracingplane.h>

#include "atom.h"
#include "credit.h"
#include "fault.h"
#include "limits.h"
#include "ptrkey.h"
#include "stats.h"
#include "task.h"

/*
 * Baggage a task is to be credited with, and the size of the largest
 * baggage read: under mem_cap the task's new baggage is never trimmed
 * below that, nor below what it held (Documentation/limits.rst).
 */
struct tp_news {
	struct tp_bag *bag;
	size_t floor;
};

struct tp_credit {
	struct rhash_head node;
	struct task_struct *task;
	struct callback_head work;
	struct tp_news news;		/* what the call read (merge: and more) */
	struct rcu_head rcu;
};

static const struct rhashtable_params tp_credit_params =
	TP_PTRKEY_PARAMS(struct tp_credit, node, task);

static struct rhashtable tp_credits;
/* Lets a task without a pending credit skip the lookup. */
static atomic_long_t tp_credit_count = ATOMIC_LONG_INIT(0);

/* *@new := @base merged with @news, under the limits, at least @floor. */
static int tp_credit_update(struct tp_bag *base, const struct tp_news *news,
			    size_t floor, struct tp_bag **new)
{
	struct tp_bag *bag = tp_bag_get(base);
	int err = tp_limit_merge_floor(&bag, news->bag, floor, GFP_KERNEL);

	if (err) {
		tp_bag_put(bag);
		return err;
	}
	*new = bag;
	return 0;
}

static int tp_credit_merge_update(struct tp_bag *old, void *arg,
				  struct tp_bag **new)
{
	const struct tp_news *news = arg;

	return tp_credit_update(old, news, max_t(size_t, tp_bag_size(old),
						 news->floor), new);
}

static int tp_credit_replace_update(struct tp_bag *old, void *arg,
				    struct tp_bag **new)
{
	const struct tp_news *news = arg;

	return tp_credit_update(NULL, news, news->floor, new);
}

/* task_work: back in the reader's own context, where sleeping is fine. */
static void tp_credit_run(struct callback_head *work)
{
	struct tp_credit *c = container_of(work, struct tp_credit, work);
	u8 policy = tp_task_read_policy(current);

	rhashtable_remove_fast(&tp_credits, &c->node, tp_credit_params);
	atomic_long_dec(&tp_credit_count);
	/* The policy may have changed since the read: the newest counts. */
	if (policy == TRACINGPLANE_READ_REPLACE)
		tp_task_update(current, tp_credit_replace_update, &c->news,
			       c->news.bag);
	else if (policy == TRACINGPLANE_READ_MERGE)
		tp_task_update(current, tp_credit_merge_update, &c->news,
			       c->news.bag);
	tp_bag_put(c->news.bag);
	kfree_rcu(c, rcu);
	module_put(THIS_MODULE);
}

static struct tp_credit *tp_credit_find(void)
{
	struct task_struct *task = current;

	if (!atomic_long_read(&tp_credit_count))
		return NULL;
	return rhashtable_lookup(&tp_credits, &task, tp_credit_params);
}

/*
 * Queues a credit of @bag (consumed) for the current task; @floor is the
 * size of the largest baggage read.
 */
static void tp_credit_start(struct tp_bag *bag, size_t floor)
{
	struct tp_credit *c = tp_kmalloc(sizeof(*c), GFP_ATOMIC | __GFP_NOWARN);

	if (!c) {
		atomic_long_inc(&tp_stats.alloc_fails);
		goto err_bag;
	}
	if (!try_module_get(THIS_MODULE))
		goto err_free;
	c->task = current;
	c->news.bag = bag;
	c->news.floor = floor;
	init_task_work(&c->work, tp_credit_run);
	atomic_long_inc(&tp_credit_count);
	if (rhashtable_lookup_insert_fast(&tp_credits, &c->node,
					  tp_credit_params)) {
		atomic_long_inc(&tp_stats.alloc_fails);
		goto err_count;
	}
	if (!task_work_add(current, &c->work, TWA_RESUME))
		return;
	/* Exiting: task_work no longer runs. */
	rhashtable_remove_fast(&tp_credits, &c->node, tp_credit_params);
	atomic_long_dec(&tp_credit_count);
	module_put(THIS_MODULE);
	tp_bag_put(bag);
	kfree_rcu(c, rcu);
	return;

err_count:
	atomic_long_dec(&tp_credit_count);
	module_put(THIS_MODULE);
err_free:
	kfree(c);
err_bag:
	tp_bag_put(bag);
}

/*
 * Under the merge policy, data whose baggage the task already holds
 * (@cur) changes nothing: the common case of a pipeline that shares one
 * baggage, decided without allocating.  Returns the reference to credit,
 * or NULL when there is nothing to do; consumes @cur and @bag.
 */
static struct tp_bag *tp_credit_news(struct tp_bag *cur, struct tp_bag *bag)
{
	struct tp_bag *merged;

	if (tp_bag_merge(cur, bag, GFP_ATOMIC, &merged)) {
		atomic_long_inc(&tp_stats.alloc_fails);
		merged = NULL;
	} else if (merged == cur) {
		tp_bag_put(merged);
		merged = NULL;
	}
	tp_bag_put(cur);
	tp_bag_put(bag);
	return merged;
}

bool tp_credit_moot(const struct tp_bag *bag)
{
	/*
	 * Kernel threads never return to user space to be credited; a
	 * reader that merges and holds this very blob gains nothing.
	 */
	return !in_task() || (current->flags & (PF_KTHREAD | PF_IO_WORKER)) ||
	       tp_task_holds(current, bag);
}

void tp_credit_reader(struct tp_bag *bag)
{
	struct tp_credit *c;
	struct tp_bag *cur;
	size_t floor;
	u8 policy;

	if (tp_credit_moot(bag)) {
		tp_bag_put(bag);
		return;
	}

	rcu_read_lock();
	c = tp_credit_find();
	if (c) {
		tp_limit_merge(&c->news.bag, bag, GFP_ATOMIC);
		c->news.floor = max_t(size_t, c->news.floor, tp_bag_size(bag));
	}
	rcu_read_unlock();
	if (c) {
		tp_bag_put(bag);
		return;
	}

	/* Data without baggage matters only to a reader that replaces. */
	if (!bag) {
		if (tp_task_read_policy(current) == TRACINGPLANE_READ_REPLACE)
			tp_credit_start(NULL, 0);
		return;
	}
	floor = tp_bag_size(bag);
	/* One lookup for the policy and the baggage a merge starts from. */
	cur = tp_task_get(current, &policy);
	if (policy == TRACINGPLANE_READ_MERGE) {
		bag = tp_credit_news(cur, bag);
		if (bag)
			tp_credit_start(bag, floor);
		return;
	}
	tp_bag_put(cur);
	if (policy == TRACINGPLANE_READ_IGNORE)
		tp_bag_put(bag);
	else
		tp_credit_start(bag, floor);
}

struct tp_gift {
	struct callback_head work;
	struct tp_news news;
};

static void tp_credit_gift_run(struct callback_head *work)
{
	struct tp_gift *g = container_of(work, struct tp_gift, work);

	if (tp_task_read_policy(current) != TRACINGPLANE_READ_IGNORE)
		tp_task_update(current, tp_credit_merge_update, &g->news,
			       g->news.bag);
	tp_bag_put(g->news.bag);
	kfree(g);
	module_put(THIS_MODULE);
}

/*
 * Not kept in the table of pending credits: that one is touched only by
 * its own task, and a gift comes from another.
 */
void tp_credit_gift(struct task_struct *task, struct tp_bag *bag)
{
	struct tp_gift *g;

	if (!bag || (task->flags & (PF_KTHREAD | PF_IO_WORKER)))
		return;
	g = tp_kmalloc(sizeof(*g), GFP_ATOMIC | __GFP_NOWARN);
	if (!g) {
		atomic_long_inc(&tp_stats.alloc_fails);
		return;
	}
	if (!try_module_get(THIS_MODULE)) {
		kfree(g);
		return;
	}
	g->news.bag = tp_bag_get(bag);
	g->news.floor = tp_bag_size(bag);
	init_task_work(&g->work, tp_credit_gift_run);
	if (!task_work_add(task, &g->work, TWA_RESUME))
		return;
	/* Exiting: it reads nothing more. */
	tp_bag_put(g->news.bag);
	kfree(g);
	module_put(THIS_MODULE);
}

int tp_credit_init(void)
{
	return rhashtable_init(&tp_credits, &tp_credit_params);
}

/* Every credit held a module reference: none is left. */
void tp_credit_exit(void)
{
	rhashtable_destroy(&tp_credits);
}
