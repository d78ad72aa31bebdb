/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Crediting a reader: what reading data does to the reading task's
 * baggage, by its read policy (enum tracingplane_read_policy, kept per
 * task in kmod/task.c).  Shared by every transport that delivers data to
 * a task.  Documented in Documentation/transit.rst.
 */
#ifndef TP_CREDIT_H
#define TP_CREDIT_H

struct task_struct;
struct tp_bag;

int tp_credit_init(void);
void tp_credit_exit(void);

/*
 * The current task just read data whose baggage is @bag (consumed; NULL:
 * the data carries none).  Callable from any context of the reading task,
 * kprobe handlers included: the change is applied before the task returns
 * to user space.  All credits of one system call act as one: with the
 * replace policy the task's baggage becomes the merge of the baggage of
 * everything that call read; with merge the task also keeps its own;
 * with ignore nothing changes.
 * Kernel threads, which never return to user space, are not credited.
 */
void tp_credit_reader(struct tp_bag *bag);
/*
 * Would tp_credit_reader(@bag) change nothing?  True for a kernel thread,
 * and for a reader that merges and holds that very blob (or @bag is
 * NULL).  Compares pointers only: the caller need hold no reference, and
 * reads @bag under RCU (rcu_read_lock() or preemption off).
 */
bool tp_credit_moot(const struct tp_bag *bag);

/*
 * Merges @bag (the caller keeps its reference) into @task's baggage when
 * @task next returns to user space: for a reader the probes could not
 * see, which may read data with that baggage (pipe_sync.c).  Atomic
 * context.  A task under the ignore policy gets nothing.
 */
void tp_credit_gift(struct task_struct *task, struct tp_bag *bag);

#endif /* TP_CREDIT_H */
