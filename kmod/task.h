/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Per-task baggage and read policy: inherited on fork, kept across exec,
 * released when the task is freed.  A task with neither (empty baggage,
 * the default policy) has no entry and costs nothing.
 */
#ifndef TP_TASK_H
#define TP_TASK_H

#include <asm/current.h>
#include <linux/atomic.h>
#include <linux/gfp.h>
#include <linux/tracingplane.h>

struct task_struct;
struct tp_bag;

int tp_task_init(void);
void tp_task_exit(void);

/* A new reference to @task's baggage, or NULL (empty). */
struct tp_bag *tp_task_bag(struct task_struct *task);
/*
 * The same and, when @policy is not NULL, @task's read policy: one
 * lookup for both, so that they are of one moment (credit.c, GET).
 */
struct tp_bag *tp_task_get(struct task_struct *task, u8 *policy);

/*
 * Computes @task's new baggage from its current one, @old, and stores it
 * unless the baggage changed meanwhile, in which case @update runs again
 * on the newer baggage.  @update returns a new reference in *@new (NULL:
 * empty) or an errno, which tp_task_update returns with nothing changed.
 * @arm: the update will likely give the task baggage, so the probes are
 * armed before it first runs, not after a first try that must be undone
 * (and may have counted a trim).  Process context only: it may sleep.
 */
int tp_task_update(struct task_struct *task,
		   int (*update)(struct tp_bag *old, void *arg,
				 struct tp_bag **new),
		   void *arg, bool arm);

/*
 * Would crediting a reader that holds @mine, with read policy @policy,
 * with @bag change nothing?  True when it merges and holds that very blob
 * (or @bag is empty).  Compares pointers only.
 */
static inline bool tp_task_credit_moot(const struct tp_bag *mine, u8 policy,
				       const struct tp_bag *bag)
{
	return policy == TRACINGPLANE_READ_MERGE && (!bag || bag == mine);
}

/* The same for @task: the readers' fastest path (credit.c). */
bool tp_task_holds(struct task_struct *task, const struct tp_bag *bag);
/*
 * The address of @task's blob (NULL: empty), with no reference: it is not
 * freed while the caller's RCU read-side section (preemption off is one)
 * lasts.  The UNIX writers' hot path (unix.c), which mostly needs none.
 */
const struct tp_bag *tp_task_blob_peek(struct task_struct *task);
/*
 * Is @bag (NULL: none) the very blob @task carries?  Compares pointers
 * only and takes no reference: the writers' fastest path (tcp_tx.c).
 */
static inline bool tp_task_carries(struct task_struct *task,
				   const struct tp_bag *bag)
{
	return tp_task_blob_peek(task) == bag;
}

/*
 * A count that moves after any task's baggage or read policy changed: a
 * caller that read it before it looked at a task knows what it saw
 * still holds while the count is the same.
 */
extern atomic_long_t tp_task_ver;

static inline unsigned long tp_task_version(void)
{
	return atomic_long_read_acquire(&tp_task_ver);
}

/*
 * What a lookup found of a task, kept by the object it was using (a pipe,
 * a socket; under the object's lock) so that the task's next call on it
 * needs no lookup: that @task carried, or merged into and held, @bag when
 * tp_task_version() was @ver.  True while the version stays, as the task
 * then still holds @bag, which is not freed meanwhile.
 */
struct tp_task_seen {
	const struct task_struct *task;
	unsigned long ver;
	const struct tp_bag *bag;
};

/* Was @bag seen for the current task, the version then @ver (read first)? */
static inline bool tp_task_seen_is(const struct tp_task_seen *seen,
				   unsigned long ver, const struct tp_bag *bag)
{
	return seen->task == current && seen->ver == ver && seen->bag == bag;
}

static inline void tp_task_seen_set(struct tp_task_seen *seen,
				    unsigned long ver, const struct tp_bag *bag)
{
	seen->task = current;
	seen->ver = ver;
	seen->bag = bag;
}

/*
 * Is @test(current, @bag) true?  Asked only when @seen does not say so
 * already, and a yes is remembered in @seen: @test is tp_task_holds() or
 * tp_task_carries(), true while the version stays once true.  @ver is
 * tp_task_version() read before this call; the caller serializes the
 * users of @seen.  Always inlined, so that @test is a direct call.
 */
static __always_inline bool tp_task_seen_test(struct tp_task_seen *seen,
				     unsigned long ver, const struct tp_bag *bag,
				     bool (*test)(struct task_struct *task,
						  const struct tp_bag *bag))
{
	if (tp_task_seen_is(seen, ver, bag))
		return true;
	if (!test(current, bag))
		return false;
	tp_task_seen_set(seen, ver, bag);
	return true;
}

/* @task's read policy: an enum tracingplane_read_policy. */
u8 tp_task_read_policy(struct task_struct *task);
/* Process context; -ESRCH when @task is exiting. */
int tp_task_set_read_policy(struct task_struct *task, u8 policy);

/* Tasks holding baggage or a read policy other than the default. */
long tp_task_count(void);

#endif /* TP_TASK_H */
