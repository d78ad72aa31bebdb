// SPDX-License-Identifier: GPL-2.0
/*
 * Per-pipe baggage state and the accounting of reads and writes.
 *
 * A module cannot add a field to pipe_inode_info, so a pipe's state lives
 * in a hash table keyed by the pipe's address, from the first write with
 * baggage until free_pipe_info().  A pipe is a byte stream: the state
 * counts, as stream offsets, the bytes written by writes that returned
 * (w_done) and read by reads that returned (r_done), and keeps the
 * baggage of bytes not yet read as ranges (stream.c).
 *
 * The probes see a call at its entry and at its return, never under the
 * pipe's mutex, so when two calls of a kind are in flight at once their
 * order is unknown.  Everything below follows from bounding where a
 * call's bytes can be:
 *
 *  - a write that began when w_done was S and returns having written n
 *    bytes wrote within [S, w_done + n + bytes asked by writes still in
 *    flight): exactly [S, S + n) when it was the only write in flight;
 *  - the same holds for reads and r_done;
 *  - a write with baggage is pending from entry to return, and a read
 *    reaching past the offset where it began gets its baggage, so a
 *    reader that consumes its bytes before it returns still gets it.
 *
 * When a bound is wider than the call (writes or reads overlapping in
 * time), the call is credited with every baggage within the bound: an
 * over-approximation, counted as OVERAPPROX, never a loss.
 *
 * A state is created by the first write with baggage.  Calls already
 * in flight then, calls the probes did not see, splices and packet mode
 * make its offsets unknown: the state is then *fuzzy*, and every reader
 * gets all the baggage the pipe holds, until pipe_sync.c finds a moment
 * when the counts can start afresh.
 */

#include <linux/fs.h>
#include <linux/lockdep.h>
#include <linux/minmax.h>
#include <linux/mutex.h>
#include <linux/pipe_fs_i.h>
#include <linux/refcount.h>
#include <linux/rhashtable.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/wait.h>

#include "atom.h"
#include "credit.h"
#include "fault.h"
#include "hint.h"
#include "inflight.h"
#include "limits.h"
#include "pipe.h"
#include "pipe_state.h"
#include "ptrkey.h"
#include "stats.h"
#include "stream.h"
#include "task.h"

static const struct rhashtable_params tp_pipe_params =
	TP_PTRKEY_PARAMS(struct tp_pipe, node, pipe);

static struct rhashtable tp_pipes;
/* States in the table: lets calls on pipes skip the lookup. */
static atomic_long_t tp_pipe_states = ATOMIC_LONG_INIT(0);

long tp_pipe_count(void)
{
	return atomic_long_read(&tp_pipe_states);
}

static void *tp_pipe_lookup(const void *pipe)
{
	return rhashtable_lookup_fast(&tp_pipes, &pipe, tp_pipe_params);
}

/* Every pipe call looks its pipe up, at entry and at return. */
static DEFINE_PER_CPU(struct tp_hints, tp_pipe_hints);
static atomic_long_t tp_pipe_gen = ATOMIC_LONG_INIT(1);

/*
 * The state of @pipe, or NULL.  Every caller is a probe's handler, with
 * preemption off, which is an RCU read section: enough for the hints,
 * and the state found outlives it, as a state is freed only with its
 * pipe and every caller is in a call on that pipe.
 */
static struct tp_pipe *tp_pipe_find(const struct pipe_inode_info *pipe)
{
	lockdep_assert_preemption_disabled();
	if (!atomic_long_read(&tp_pipe_states))
		return NULL;
	return tp_hints_find(&tp_pipe_hints, &tp_pipe_gen, pipe, tp_pipe_lookup);
}

int tp_pipe_whole(struct tp_pipe *st, struct tp_bag **out)
{
	struct tp_pipe_writer *w;
	struct tp_bag *bag;
	int err;

	err = tp_stream_collect(&st->ranges, 0, U64_MAX, GFP_ATOMIC, &bag);
	if (err)
		return err;
	err = tp_limit_merge(&bag, st->spliced, GFP_ATOMIC);
	hlist_for_each_entry(w, &st->writers, node) {
		if (!err)
			err = tp_limit_merge(&bag, w->bag, GFP_ATOMIC);
	}
	if (err) {
		tp_bag_put(bag);
		return err;
	}
	*out = bag;
	return 0;
}

static struct tp_pipe *tp_pipe_create(struct tp_pipe_op *self)
{
	struct pipe_inode_info *pipe = self->pipe;
	struct tp_pipe *st;
	int err;

	st = tp_kmalloc(sizeof(*st), GFP_ATOMIC | __GFP_NOWARN | __GFP_ZERO);
	if (!st) {
		atomic_long_inc(&tp_stats.alloc_fails);
		return NULL;
	}
	st->pipe = pipe;
	spin_lock_init(&st->lock);
	st->fuzzy = true;
	INIT_HLIST_HEAD(&st->writers);
	INIT_HLIST_HEAD(&st->readers);
	INIT_LIST_HEAD(&st->unseen);
	tp_stream_init(&st->ranges);

	atomic_long_inc(&tp_pipe_states);
	err = rhashtable_lookup_insert_fast(&tp_pipes, &st->node, tp_pipe_params);
	if (err) {
		atomic_long_dec(&tp_pipe_states);
		kfree(st);
		/* Not through the hints: ours may predate the winner's. */
		if (err == -EEXIST)
			return tp_pipe_lookup(pipe);
		atomic_long_inc(&tp_stats.alloc_fails);
		return NULL;
	}
	tp_hints_changed(&tp_pipe_gen);
	/*
	 * Published: a call that starts from now on sees the state, and
	 * waits on its lock before touching the pipe; one that started
	 * before is found by tp_pipe_resync().
	 */
	spin_lock(&st->lock);
	tp_pipe_resync(st, self);
	spin_unlock(&st->lock);
	return st;
}

static void tp_pipe_destroy(struct tp_pipe *st)
{
	struct tp_pipe_writer *w;
	struct hlist_node *tmp;

	hlist_for_each_entry_safe(w, tmp, &st->writers, node) {
		tp_bag_put(w->bag);
		kfree(w);
	}
	kfree(st->spare);
	tp_stream_free(&st->ranges);
	tp_bag_put(st->spliced);
	tp_pipe_unseen_free(st);
	kfree(st);
}

static void tp_pipe_destroy_rcu(struct rcu_head *rcu)
{
	tp_pipe_destroy(container_of(rcu, struct tp_pipe, rcu));
}

void tp_pipe_free(const struct pipe_inode_info *pipe)
{
	struct tp_pipe *st = tp_pipe_find(pipe);

	if (!st || rhashtable_remove_fast(&tp_pipes, &st->node, tp_pipe_params))
		return;
	/* Before the grace period: a reader that missed the change holds it. */
	tp_hints_changed(&tp_pipe_gen);
	atomic_long_dec(&tp_pipe_states);
	call_rcu(&st->rcu, tp_pipe_destroy_rcu);
}

/* A call begins: nothing known of it yet. */
static void tp_pipe_enter(struct tp_pipe_op *op, bool reader)
{
	op->reader = reader;
	op->task = current;
	op->w = NULL;
	op->st = NULL;
	op->linked = false;
}

/* Counts @op in flight (inflight.h): the caller looks for a state after. */
static void tp_pipe_link(struct tp_pipe_op *op)
{
	op->linked = true;
	tp_inflight_enter(&op->inflight, op->pipe);
}

/*
 * The state of a read's or a write's pipe.  A call that finds one is
 * counted by it (its read or write lists, under its lock) and needs no
 * other count; one that finds none is counted in flight before it looks
 * again, so that whoever publishes a state meanwhile sees it.
 */
static struct tp_pipe *tp_pipe_find_or_link(struct tp_pipe_op *op)
{
	struct tp_pipe *st = tp_pipe_find(op->pipe);

	if (st)
		return st;
	tp_pipe_link(op);
	return tp_pipe_find(op->pipe);
}

/* The call is over: a fuzzy state may now be quiet. */
static void tp_pipe_leave(struct tp_pipe_op *op, struct tp_pipe *st)
{
	if (op->linked)
		tp_inflight_leave(&op->inflight);
	if (!st || !READ_ONCE(st->fuzzy))
		return;
	spin_lock(&st->lock);
	if (st->fuzzy)
		tp_pipe_resync(st, NULL);
	spin_unlock(&st->lock);
}

/* Under st->lock: forgets what no reader, in flight or to come, will read. */
static void tp_pipe_forget(struct tp_pipe *st)
{
	struct tp_pipe_op *op;
	u64 floor = st->r_done;

	if (st->fuzzy)
		return;
	hlist_for_each_entry(op, &st->readers, node)
		floor = min(floor, op->start);
	tp_stream_consume(&st->ranges, floor);
}

/*
 * Under st->lock.  The last writer freed is kept for the next write with
 * baggage: a pipe written by one task at a time then allocates nothing.
 */
static struct tp_pipe_writer *tp_pipe_writer_new(struct tp_pipe *st,
						 struct tp_bag *bag)
{
	struct tp_pipe_writer *w = st->spare;

	if (w)
		st->spare = NULL;
	else
		w = tp_kmalloc(sizeof(*w), GFP_ATOMIC | __GFP_NOWARN);
	if (!w) {
		atomic_long_inc(&tp_stats.alloc_fails);
		tp_bag_put(bag);
		return NULL;
	}
	w->bag = bag;
	return w;
}

/* Under st->lock. */
static void tp_pipe_writer_free(struct tp_pipe *st, struct tp_pipe_writer *w)
{
	hlist_del(&w->node);
	tp_bag_put(w->bag);
	if (st->spare)
		kfree(w);
	else
		st->spare = w;
}

/*
 * Under st->lock: a new reference to the writer's baggage.  The writer is
 * remembered with it while no task's baggage changes (@ver, read before
 * any lookup), so that its next writes need not look the task up.  While
 * @ver holds, the task held the blob remembered when this call began
 * (every change of a task's baggage moves the version before it drops
 * the old blob), so it is not freed before the call ends (the probes run
 * with preemption off, an RCU read section), though it may have been
 * released since.
 */
static struct tp_bag *tp_pipe_writer_bag(struct tp_pipe *st,
					 unsigned long ver)
{
	/* Stored from a reference of ours: one may be taken again. */
	struct tp_bag *bag = (struct tp_bag *)st->w_seen.bag;

	if (tp_task_seen_is(&st->w_seen, ver, bag) &&
	    (!bag || refcount_inc_not_zero(&bag->ref)))
		return bag;
	bag = tp_task_bag(current);
	tp_task_seen_set(&st->w_seen, ver, bag);
	return bag;
}

void tp_pipe_write_begin(struct tp_pipe_op *op)
{
	unsigned long ver = tp_task_version();
	struct tp_bag *bag;
	struct tp_pipe *st;

	tp_pipe_enter(op, false);
	st = tp_pipe_find_or_link(op);
	/* Only a write with baggage makes a state. */
	if (!st && !tp_task_carries(current, NULL))
		st = tp_pipe_create(op);
	if (!st)
		return;

	spin_lock(&st->lock);
	bag = tp_pipe_writer_bag(st, ver);
	if (bag)
		op->w = tp_pipe_writer_new(st, bag);
	op->st = st;
	/* A read may discard the rest of a packet: bytes no one counts. */
	if (op->packet)
		st->fuzzy = true;
	op->start = st->w_done;
	st->w_req += op->len;
	if (op->w) {
		op->w->start = op->start;
		hlist_add_head(&op->w->node, &st->writers);
	}
	tp_pipe_seen_again(st);
	if (op->w)
		tp_pipe_gift_unseen(st, op->w->bag);
	spin_unlock(&st->lock);
}

/* Under st->lock: @op wrote @ret bytes. */
static void tp_pipe_wrote(struct tp_pipe *st, struct tp_pipe_op *op, long ret)
{
	u64 end = st->w_done + ret + st->w_req;

	if (op->w) {
		tp_stream_attach(&st->ranges, op->start, end, op->w->bag,
				 GFP_ATOMIC);
		if (end - op->start > ret)
			atomic_long_inc(&tp_stats.overapprox);
	}
	st->w_done += ret;
}

void tp_pipe_write_end(struct tp_pipe_op *op, long ret)
{
	struct tp_pipe *st = op->st;

	/* A write without a state at entry wrote no baggage. */
	if (st) {
		spin_lock(&st->lock);
		st->w_req -= op->len;
		if (ret > 0)
			tp_pipe_wrote(st, op, ret);
		if (op->w)
			tp_pipe_writer_free(st, op->w);
		tp_pipe_forget(st);
		spin_unlock(&st->lock);
	}
	tp_pipe_leave(op, st ?: tp_pipe_find(op->pipe));
}

void tp_pipe_read_begin(struct tp_pipe_op *op)
{
	struct tp_pipe *st;

	tp_pipe_enter(op, true);
	st = tp_pipe_find_or_link(op);
	if (!st)
		return;
	spin_lock(&st->lock);
	op->st = st;
	op->start = st->r_done;
	st->r_req += op->len;
	hlist_add_head(&op->node, &st->readers);
	tp_pipe_seen_again(st);
	spin_unlock(&st->lock);
}

/*
 * Under st->lock: into *@out the baggage of the @ret bytes @op read,
 * which lie in [op->start, end): the ranges there, and the writes in
 * flight that began before end.  -ENOMEM leaves *@out alone.
 */
static int tp_pipe_read_bag(struct tp_pipe *st, struct tp_pipe_op *op,
			    long ret, struct tp_bag **out)
{
	u64 end = st->r_done + ret + st->r_req;
	struct tp_pipe_writer *w;
	struct tp_bag *bag = NULL;
	int writers = 0;

	if (st->fuzzy)
		return tp_pipe_whole(st, out);
	/* Nothing past what was (or is being) written can have been read. */
	end = max(min(end, st->w_done + st->w_req), op->start + ret);
	if (tp_stream_collect(&st->ranges, op->start, end, GFP_ATOMIC, &bag))
		return -ENOMEM;
	hlist_for_each_entry(w, &st->writers, node) {
		if (w->start >= end)
			continue;
		writers++;
		if (tp_limit_merge(&bag, w->bag, GFP_ATOMIC)) {
			tp_bag_put(bag);
			return -ENOMEM;
		}
	}
	if (end - op->start > ret || writers > 1)
		atomic_long_inc(&tp_stats.overapprox);
	*out = bag;
	return 0;
}

/*
 * Under st->lock: @op, counted by @st, read @ret bytes, whose baggage
 * goes into *@bag.  The counts move even when that fails.
 */
static int tp_pipe_read_done(struct tp_pipe *st, struct tp_pipe_op *op,
			     long ret, struct tp_bag **bag)
{
	int err = 0;

	hlist_del(&op->node);
	st->r_req -= op->len;
	if (ret > 0) {
		err = tp_pipe_read_bag(st, op, ret, bag);
		st->r_done += ret;
		tp_pipe_forget(st);
	}
	return err;
}

/*
 * Under st->lock: would crediting the reader with @bag change nothing
 * (tp_task_holds())?  A reader found so is remembered with @bag while no
 * task's baggage changes (@ver, read before any lookup), so that its next
 * reads of the same baggage need not look it up.  Under the lock because
 * readers of one pipe may return at once.
 */
static bool tp_pipe_reader_holds(struct tp_pipe *st, const struct tp_bag *bag,
				 unsigned long ver)
{
	return tp_task_seen_test(&st->r_seen, ver, bag, tp_task_holds);
}

void tp_pipe_read_end(struct tp_pipe_op *op, long ret)
{
	unsigned long ver = tp_task_version();
	struct tp_pipe *st = READ_ONCE(op->st) ?: tp_pipe_find(op->pipe);
	struct tp_bag *bag = NULL;
	bool moot = false;
	int err = 0;

	if (st) {
		spin_lock(&st->lock);
		/* Counted at entry, or adopted since: under st->lock. */
		if (op->st)
			err = tp_pipe_read_done(st, op, ret, &bag);
		else if (ret > 0)
			/* Began before the state, unadopted: it is fuzzy. */
			err = tp_pipe_whole(st, &bag);
		moot = ret > 0 && !err && tp_pipe_reader_holds(st, bag, ver);
		spin_unlock(&st->lock);
	}
	tp_pipe_leave(op, st);
	if (moot)
		tp_bag_put(bag);
	/* No memory for the read's baggage: its credit goes without. */
	else if (ret > 0 && !err)
		tp_credit_reader(bag);
}

static void tp_pipe_splice_mark(struct tp_pipe *st, bool into,
				struct tp_bag *bag)
{
	if (!st)
		return;
	spin_lock(&st->lock);
	st->fuzzy = true;
	if (into) {
		tp_limit_merge(&st->spliced, bag, GFP_ATOMIC);
		tp_pipe_gift_unseen(st, bag);
	}
	spin_unlock(&st->lock);
}

/* Splices are never counted in a pipe's offsets: op->st stays NULL. */
void tp_pipe_splice_begin(struct tp_pipe_op *op, bool into, struct tp_bag *bag)
{
	struct tp_pipe *st;

	/* Never counted by the state: always in flight. */
	tp_pipe_enter(op, false);
	tp_pipe_link(op);
	st = tp_pipe_find(op->pipe);
	if (!st && into && bag)
		st = tp_pipe_create(op);
	tp_pipe_splice_mark(st, into, bag);
}

void tp_pipe_splice_end(struct tp_pipe_op *op, bool into, struct tp_bag *bag)
{
	struct tp_pipe *st = tp_pipe_find(op->pipe);

	if (!st && into && bag)
		st = tp_pipe_create(op);
	tp_pipe_splice_mark(st, into, bag);
	tp_pipe_leave(op, st);
}

void tp_pipe_splice_abandon(struct tp_pipe_op *op)
{
	tp_pipe_leave(op, NULL);
}

int tp_pipe_bag(struct pipe_inode_info *pipe, struct tp_bag **out)
{
	struct tp_pipe *st = tp_pipe_find(pipe);
	int err = 0;

	*out = NULL;
	if (st) {
		spin_lock(&st->lock);
		err = tp_pipe_whole(st, out);
		spin_unlock(&st->lock);
	}
	return err;
}

int tp_pipe_init(void)
{
	return rhashtable_init(&tp_pipes, &tp_pipe_params);
}

static void tp_pipe_destroy_entry(void *ptr, void *arg)
{
	atomic_long_dec(&tp_pipe_states);
	tp_pipe_destroy(ptr);
}

/* The probes are gone: no call will look at a state again. */
void tp_pipe_exit(void)
{
	rhashtable_free_and_destroy(&tp_pipes, tp_pipe_destroy_entry, NULL);
	/* States freed earlier wait in RCU callbacks. */
	rcu_barrier();
}
