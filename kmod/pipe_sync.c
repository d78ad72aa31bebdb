// SPDX-License-Identifier: GPL-2.0
/*
 * When a pipe's offsets can be trusted (pipe_state.h).
 *
 * A pipe's state counts the bytes of the calls it has seen.  A call it
 * has not seen, or whose place in the stream it cannot know, makes the
 * counts meaningless; the state is then *fuzzy* (pipe.c).  It becomes
 * exact again at a moment when it can see every call on the pipe and
 * knows where each will start:
 *
 *  - every call in flight on the pipe (counted by the state, or else
 *    linked in inflight.h) is a read asleep in pipe_read() waiting for
 *    data: it has read nothing in this call, and will start at the
 *    pipe's current read position, offset 0 of a fresh count, so it is
 *    *adopted* there;
 *  - no task sleeps on the pipe in a call the probes did not see (one
 *    that began before they were armed, transit.c): its wait entry
 *    names a task that no read in flight belongs to (a write in flight,
 *    seen or not, makes the state inexact anyway);
 *  - the pipe's mutex is free (a trylock): nobody, seen or not, is inside.
 *
 * A reader asleep unseen will read bytes that no count sees: it is
 * remembered, and every writer with baggage gives it its baggage
 * (credit.c), an over-approximation, until its unseen call is over.  A
 * task_work queued on it tells: it runs when the task next returns to
 * user space, which it can only do once that call returned.  That is
 * how the reader of a pipeline, asleep before any baggage existed, still
 * gets it; the pipe is fuzzy meanwhile.
 */

#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/pipe_fs_i.h>
#include <linux/refcount.h>
#include <linux/sched.h>
#include <linux/sched/task.h>
#include <linux/slab.h>
#include <linux/task_work.h>
#include <linux/wait.h>

#include "atom.h"
#include "credit.h"
#include "fault.h"
#include "inflight.h"
#include "limits.h"
#include "pipe.h"
#include "pipe_state.h"
#include "stats.h"
#include "stream.h"

/* Calls in flight one scan remembers; beyond, the state stays fuzzy. */
#define TP_PIPE_SEEN_MAX	64

/* A reader asleep in a call the probes did not see. */
struct tp_pipe_unseen {
	struct list_head node;		/* in st->unseen, under st->lock */
	struct task_struct *task;	/* a reference */
	struct callback_head work;	/* runs once that call is over */
	refcount_t ref;			/* the list's and the work's */
	bool over;
};

struct tp_pipe_scan {
	struct tp_pipe *st;
	struct tp_pipe_op *self;
	bool exact;		/* every call in flight was adopted */
	unsigned int nseen;
	struct task_struct *seen[TP_PIPE_SEEN_MAX];
};

/*
 * When nothing holds @pipe's mutex, stores the bytes the pipe holds in
 * *@bytes and returns true.  A trylock, for probes must not sleep.
 */
static bool tp_pipe_quiet(struct pipe_inode_info *pipe, u64 *bytes)
{
	unsigned int i, mask;

	if (!mutex_trylock(&pipe->mutex))
		return false;
	*bytes = 0;
	mask = pipe->ring_size - 1;
	for (i = pipe->tail; i != pipe->head; i++)
		*bytes += pipe->bufs[i & mask].len;
	mutex_unlock(&pipe->mutex);
	return true;
}

/*
 * A task asleep in a call's wait_event() on @wq: its entry names it and
 * wakes it with autoremove_wake_function().  poll and epoll entries wake
 * with other functions and name no task: they are not calls.
 */
static bool tp_pipe_on(struct wait_queue_head *wq, struct task_struct *task)
{
	struct wait_queue_entry *e;
	unsigned long flags;
	bool found = false;

	spin_lock_irqsave(&wq->lock, flags);
	list_for_each_entry(e, &wq->head, entry) {
		if (e->func == autoremove_wake_function && e->private == task) {
			found = true;
			break;
		}
	}
	spin_unlock_irqrestore(&wq->lock, flags);
	return found;
}

/* Counts the sleeping read @op from offset 0 of a fresh count. */
static void tp_pipe_adopt(struct tp_pipe *st, struct tp_pipe_op *op)
{
	op->start = 0;
	if (op->st == st)
		return;
	op->st = st;
	hlist_add_head(&op->node, &st->readers);
	st->r_req += op->len;
}

/* One call on the pipe: adopted if it is a read asleep; false: stop. */
static bool tp_pipe_scan_op(struct tp_pipe_scan *s, struct tp_pipe_op *op)
{
	if (op == s->self)
		return true;
	if (s->nseen == TP_PIPE_SEEN_MAX) {
		s->exact = false;
		return false;
	}
	s->seen[s->nseen++] = op->task;
	if (op->reader && tp_pipe_on(&s->st->pipe->rd_wait, op->task))
		tp_pipe_adopt(s->st, op);
	else
		s->exact = false;
	return true;
}

/*
 * For each call in flight on the pipe, its list locked: it cannot return.
 * One the state counts too was seen by tp_pipe_scan_counted().
 */
static bool tp_pipe_scan_call(struct tp_inflight *in, void *arg)
{
	struct tp_pipe_op *op = container_of(in, struct tp_pipe_op, inflight);
	struct tp_pipe_scan *s = arg;

	return op->st == s->st || tp_pipe_scan_op(s, op);
}

/*
 * The calls the state counts itself (pipe.c links only the others in
 * flight): reads in its list, and writes, of which it knows the bytes
 * asked.  Under st->lock, which they need to return.
 */
static void tp_pipe_scan_counted(struct tp_pipe_scan *s)
{
	struct tp_pipe_op *op;

	if (s->st->w_req)
		s->exact = false;
	hlist_for_each_entry(op, &s->st->readers, node)
		if (!tp_pipe_scan_op(s, op))
			return;
}

static bool tp_pipe_was_seen(const struct tp_pipe_scan *s, const void *task)
{
	unsigned int i;

	for (i = 0; i < s->nseen; i++)
		if (s->seen[i] == task)
			return true;
	return false;
}

static void tp_pipe_unseen_put(struct tp_pipe_unseen *u)
{
	if (!refcount_dec_and_test(&u->ref))
		return;
	put_task_struct(u->task);
	kfree(u);
}

/* task_work: the task returns to user space, so its unseen call is over. */
static void tp_pipe_unseen_over(struct callback_head *work)
{
	struct tp_pipe_unseen *u = container_of(work, struct tp_pipe_unseen, work);

	WRITE_ONCE(u->over, true);
	tp_pipe_unseen_put(u);
	module_put(THIS_MODULE);
}

static void tp_pipe_remember(struct tp_pipe *st, struct task_struct *task)
{
	struct tp_pipe_unseen *u;

	list_for_each_entry(u, &st->unseen, node)
		if (u->task == task)
			return;
	u = tp_kmalloc(sizeof(*u), GFP_ATOMIC | __GFP_NOWARN);
	if (!u) {
		atomic_long_inc(&tp_stats.alloc_fails);
		return;
	}
	if (!try_module_get(THIS_MODULE)) {
		kfree(u);
		return;
	}
	u->task = get_task_struct(task);
	u->over = false;
	refcount_set(&u->ref, 2);
	init_task_work(&u->work, tp_pipe_unseen_over);
	if (task_work_add(task, &u->work, TWA_RESUME)) {
		/* Exiting: it will read nothing. */
		put_task_struct(task);
		kfree(u);
		module_put(THIS_MODULE);
		return;
	}
	list_add_tail(&u->node, &st->unseen);
}

/*
 * Tasks asleep on @wq in a call no probe saw; readers among them are
 * remembered.  Returns whether there was any.
 */
static bool tp_pipe_scan_unseen(struct tp_pipe_scan *s, struct wait_queue_head *wq,
				bool readers)
{
	struct task_struct *task[8];
	struct wait_queue_entry *e;
	unsigned int n = 0, i;
	unsigned long flags;

	spin_lock_irqsave(&wq->lock, flags);
	list_for_each_entry(e, &wq->head, entry) {
		if (e->func != autoremove_wake_function ||
		    tp_pipe_was_seen(s, e->private))
			continue;
		if (n == ARRAY_SIZE(task))
			break;
		task[n++] = get_task_struct(e->private);
	}
	spin_unlock_irqrestore(&wq->lock, flags);
	for (i = 0; i < n; i++) {
		if (readers)
			tp_pipe_remember(s->st, task[i]);
		put_task_struct(task[i]);
	}
	return n > 0;
}

static void tp_pipe_unseen_del(struct tp_pipe_unseen *u)
{
	list_del(&u->node);
	tp_pipe_unseen_put(u);
}

/* Readers whose unseen call is over read nothing more unseen. */
static void tp_pipe_prune_unseen(struct tp_pipe *st)
{
	struct tp_pipe_unseen *u, *tmp;

	list_for_each_entry_safe(u, tmp, &st->unseen, node)
		if (READ_ONCE(u->over))
			tp_pipe_unseen_del(u);
}

void __tp_pipe_seen_again(struct tp_pipe *st)
{
	struct tp_pipe_unseen *u, *tmp;

	list_for_each_entry_safe(u, tmp, &st->unseen, node)
		if (u->task == current)
			tp_pipe_unseen_del(u);
}

void __tp_pipe_gift_unseen(struct tp_pipe *st, struct tp_bag *bag)
{
	struct tp_pipe_unseen *u;

	list_for_each_entry(u, &st->unseen, node) {
		tp_credit_gift(u->task, bag);
		atomic_long_inc(&tp_stats.overapprox);
	}
}

void tp_pipe_unseen_free(struct tp_pipe *st)
{
	struct tp_pipe_unseen *u, *tmp;

	list_for_each_entry_safe(u, tmp, &st->unseen, node)
		tp_pipe_unseen_del(u);
}

/* Offsets from now on: the bytes held keep all the baggage. */
static void tp_pipe_restart(struct tp_pipe *st, u64 bytes)
{
	struct tp_bag *all;

	if (tp_pipe_whole(st, &all))
		return;
	tp_stream_free(&st->ranges);
	tp_bag_put(st->spliced);
	st->spliced = NULL;
	if (bytes && tp_stream_attach(&st->ranges, 0, bytes, all, GFP_ATOMIC)) {
		st->spliced = all;	/* stay fuzzy rather than lose it */
		return;
	}
	tp_bag_put(all);
	st->w_done = bytes;
	st->r_done = 0;
	st->fuzzy = false;
}

void tp_pipe_resync(struct tp_pipe *st, struct tp_pipe_op *self)
{
	struct tp_pipe_scan s = { .st = st, .self = self, .exact = true };
	struct pipe_inode_info *pipe = st->pipe;
	u64 bytes;

	tp_pipe_scan_counted(&s);
	tp_inflight_each(pipe, tp_pipe_scan_call, &s);
	tp_pipe_prune_unseen(st);
	if (tp_pipe_scan_unseen(&s, &pipe->rd_wait, true) |
	    tp_pipe_scan_unseen(&s, &pipe->wr_wait, false))
		s.exact = false;
	if (s.exact && list_empty(&st->unseen) && tp_pipe_quiet(pipe, &bytes))
		tp_pipe_restart(st, bytes);
}
