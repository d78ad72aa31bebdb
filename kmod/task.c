// SPDX-License-Identifier: GPL-2.0
/*
 * The per-task baggage store.
 *
 * A module cannot add a field to task_struct, so baggage lives in an
 * rhashtable of small entries keyed by the task_struct pointer.  A task
 * without baggage has no entry.  The sched_process_fork tracepoint gives
 * a child a reference to its parent's blob: it fires after copy_process()
 * and before wake_up_new_task(), so the child has not run yet, and it
 * covers fork, vfork, clone, clone3 and new threads (not io_uring
 * workers: create_io_thread() bypasses kernel_clone()).  exec keeps the
 * task_struct, hence the baggage.  The sched_process_free tracepoint drops
 * the entry when the task_struct is about to be freed.
 *
 * An entry holds one reference to the task's baggage and its read policy
 * (kmod/read.c); it exists while either is not the default (empty baggage,
 * TRACINGPLANE_READ_MERGE), so that a task with neither costs nothing.
 * The policy is inherited with the baggage.  Readers find entries
 * under RCU.  Writers serialize per task on a striped lock and replace the
 * baggage only if it is still the one they computed from.  Whoever takes an
 * entry out of the table (rhashtable_remove_fast() succeeds for exactly one
 * caller) frees it after a grace period, with the baggage it holds by then.
 */

#include <linux/hash.h>
#include <linux/rhashtable.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/tracepoint.h>
#include <linux/tracingplane.h>

#include "atom.h"
#include "hint.h"
#include "ptrkey.h"
#include "stats.h"
#include "task.h"
#include "tracepoints.h"
#include "transit.h"

struct tp_task_entry {
	struct rhash_head node;
	struct task_struct *task;
	struct tp_bag __rcu *bag;	/* NULL: empty */
	u8 policy;			/* enum tracingplane_read_policy */
	struct rcu_head rcu;
};

static const struct rhashtable_params tp_task_params =
	TP_PTRKEY_PARAMS(struct tp_task_entry, node, task);

#define TP_TASK_LOCK_BITS	6

static struct rhashtable tp_tasks;
static struct kmem_cache *tp_task_cache;
/* Entries in the table, or about to be: lets both probes skip the lookup. */
static atomic_long_t tp_task_entries = ATOMIC_LONG_INIT(0);
static spinlock_t tp_task_locks[1 << TP_TASK_LOCK_BITS];

static spinlock_t *tp_task_lock(const struct task_struct *task)
{
	return &tp_task_locks[hash_ptr(task, TP_TASK_LOCK_BITS)];
}

static struct tp_task_entry *tp_task_lookup(struct task_struct *task)
{
	return rhashtable_lookup(&tp_tasks, &task, tp_task_params);
}

static void *tp_task_lookup_key(const void *task)
{
	return tp_task_lookup((struct task_struct *)task);
}

/* A UNIX send and read look up their tasks once per message each. */
static DEFINE_PER_CPU(struct tp_hints, tp_task_hints);
static atomic_long_t tp_task_gen = ATOMIC_LONG_INIT(1);

/*
 * Apart from the hints' generation, which only entries coming and going
 * move, so that a change of baggage keeps every CPU's hints.  On a line
 * of its own: it is read on every TCP send and read and pipe call.
 */
atomic_long_t tp_task_ver ____cacheline_aligned_in_smp = ATOMIC_LONG_INIT(1);

/* After a change. */
static void tp_task_changed(void)
{
	tp_hints_changed(&tp_task_ver);
}

/* tp_task_lookup() for readers; under rcu_read_lock(). */
static struct tp_task_entry *tp_task_find(struct task_struct *task)
{
	return tp_hints_find(&tp_task_hints, &tp_task_gen, task,
			     tp_task_lookup_key);
}

static void tp_task_entry_free(struct tp_task_entry *entry)
{
	tp_bag_put(rcu_dereference_protected(entry->bag, true));
	kmem_cache_free(tp_task_cache, entry);
}

static void tp_task_entry_free_rcu(struct rcu_head *rcu)
{
	tp_task_entry_free(container_of(rcu, struct tp_task_entry, rcu));
}

static int tp_task_publish(struct tp_task_entry *entry)
{
	int err;

	atomic_long_inc(&tp_task_entries);
	err = rhashtable_lookup_insert_fast(&tp_tasks, &entry->node,
					    tp_task_params);
	if (err) {
		atomic_long_dec(&tp_task_entries);
		return err;
	}
	tp_hints_changed(&tp_task_gen);
	tp_task_changed();
	return 0;
}

/* Frees @entry if this call is the one that took it out of the table. */
static void tp_task_remove(struct tp_task_entry *entry)
{
	if (rhashtable_remove_fast(&tp_tasks, &entry->node, tp_task_params))
		return;
	/* Before the grace period: a reader that missed the change holds it. */
	tp_hints_changed(&tp_task_gen);
	tp_task_changed();
	atomic_long_dec(&tp_task_entries);
	call_rcu(&entry->rcu, tp_task_entry_free_rcu);
}

/*
 * What a look at a task found: the address of its blob (NULL: none), not
 * referenced, and its read policy.  Returned by value (two registers on
 * x86-64): tp_task_holds() and tp_task_blob_peek() then keep no local whose
 * address is taken, hence no stack canary.
 */
struct tp_task_look {
	struct tp_bag *bag;
	u8 policy;
};

/* @task, from the table. */
static struct tp_task_look tp_task_blob(struct task_struct *task)
{
	struct tp_task_look look = { NULL, TRACINGPLANE_READ_MERGE };
	struct tp_task_entry *entry;

	if (!atomic_long_read(&tp_task_entries))
		return look;
	rcu_read_lock();
	entry = tp_task_find(task);
	if (entry) {
		look.bag = rcu_access_pointer(entry->bag);
		look.policy = READ_ONCE(entry->policy);
	}
	rcu_read_unlock();
	return look;
}

/*
 * The current task's look is remembered by this CPU's hints (hint.h),
 * keyed by the task and valid while tp_task_version() stays: a ping-pong
 * between two tasks looks each up on every message it sends or reads,
 * and even the table's hints cost a read-side section and a walk.  A
 * hint is one word: the blob's address with the read policy in the low
 * bits, which a bag's alignment leaves free.
 */
static DEFINE_PER_CPU(struct tp_hints, tp_task_current_hints);

#define TP_TASK_POLICY_BITS	3UL

static void *tp_task_look_word(const void *task)
{
	struct tp_task_look look = tp_task_blob((struct task_struct *)task);

	BUILD_BUG_ON(__alignof__(struct tp_bag) <= TP_TASK_POLICY_BITS ||
		     TRACINGPLANE_READ_MAX > TP_TASK_POLICY_BITS);
	return (void *)((unsigned long)look.bag | look.policy);
}

/*
 * tp_task_blob(), or for the current task in task context (only there are
 * hints written, so an interrupt never finds one half written) a hint of
 * it.  A blob found by a hint is not freed while the caller runs with
 * preemption off or under rcu_read_lock(): a holder moves the version
 * before it lets go (tp_task_update()), and a grace period that began
 * before we read the version waits for us.
 */
static __always_inline struct tp_task_look tp_task_peek(struct task_struct *task)
{
	unsigned long word;

	if (task != current)
		return tp_task_blob(task);
	word = (unsigned long)tp_hints_find(&tp_task_current_hints, &tp_task_ver,
					     task, tp_task_look_word);
	return (struct tp_task_look){
		.bag = (struct tp_bag *)(word & ~TP_TASK_POLICY_BITS),
		.policy = word & TP_TASK_POLICY_BITS,
	};
}

struct tp_bag *tp_task_get(struct task_struct *task, u8 *policy)
{
	struct tp_task_entry *entry;
	struct tp_task_look look;
	struct tp_bag *bag;

	if (!atomic_long_read(&tp_task_entries)) {
		if (policy)
			*policy = TRACINGPLANE_READ_MERGE;
		return NULL;
	}
	preempt_disable();
	look = tp_task_peek(task);
	/* A writer may have just replaced and released this blob. */
	if (!look.bag || refcount_inc_not_zero(&look.bag->ref)) {
		preempt_enable();
		if (policy)
			*policy = look.policy;
		return look.bag;
	}
	preempt_enable();

	rcu_read_lock();
	entry = tp_task_find(task);
	while (entry) {
		/*
		 * Its memory outlives us (kfree_rcu), but its count may be
		 * zero, and then the entry already holds a newer one.
		 */
		bag = rcu_dereference(entry->bag);
		if (!bag || refcount_inc_not_zero(&bag->ref))
			break;
	}
	if (policy)
		*policy = entry ? READ_ONCE(entry->policy) : TRACINGPLANE_READ_MERGE;
	rcu_read_unlock();
	return entry ? bag : NULL;
}

struct tp_bag *tp_task_bag(struct task_struct *task)
{
	return tp_task_get(task, NULL);
}

bool tp_task_holds(struct task_struct *task, const struct tp_bag *bag)
{
	struct tp_task_look mine = tp_task_peek(task);

	return tp_task_credit_moot(mine.bag, mine.policy, bag);
}

const struct tp_bag *tp_task_blob_peek(struct task_struct *task)
{
	return tp_task_peek(task).bag;
}

u8 tp_task_read_policy(struct task_struct *task)
{
	struct tp_task_entry *entry;
	u8 policy = TRACINGPLANE_READ_MERGE;

	if (!atomic_long_read(&tp_task_entries))
		return policy;
	rcu_read_lock();
	entry = tp_task_find(task);
	if (entry)
		policy = READ_ONCE(entry->policy);
	rcu_read_unlock();
	return policy;
}

/*
 * Gives @task, which has no entry, its baggage @bag and read policy
 * @policy in the unused entry *@spare.
 */
static int tp_task_insert(struct task_struct *task, struct tp_bag *bag,
			  u8 policy, struct tp_task_entry **spare)
{
	struct tp_task_entry *entry = *spare;
	int err;

	if (!entry) {
		/* We computed from a baggage that is gone: start over. */
		tp_bag_put(bag);
		return -EAGAIN;
	}
	entry->task = task;
	entry->policy = policy;
	RCU_INIT_POINTER(entry->bag, bag);
	err = tp_task_publish(entry);
	if (err) {
		tp_bag_put(bag);
		/* -EEXIST: the fork probe just gave the task its baggage. */
		if (err == -EEXIST)
			return -EAGAIN;
		atomic_long_inc(&tp_stats.alloc_fails);
		return -ENOMEM;
	}
	*spare = NULL;

	/*
	 * An exiting task may be past its free probe already, and then
	 * nothing else would ever remove this entry.  Setting PF_EXITING and
	 * the free probe's lookup are separated by a grace period, a full
	 * barrier, which pairs with this one: either we see PF_EXITING or
	 * the free probe sees the entry.
	 */
	smp_mb();
	if (task->flags & PF_EXITING) {
		tp_task_remove(entry);
		return -ESRCH;
	}
	return 0;
}

/*
 * Stores @new (consumed, NULL for empty) as @task's baggage if that still
 * is @old.  *@spare is an unused entry, taken when the task has none.
 */
static int tp_task_commit(struct task_struct *task, struct tp_bag *old,
			  struct tp_bag *new, struct tp_task_entry **spare)
{
	spinlock_t *lock = tp_task_lock(task);
	struct tp_task_entry *entry;
	struct tp_bag *cur = NULL;
	int err = 0;

	rcu_read_lock();
	spin_lock(lock);
	entry = tp_task_lookup(task);
	if (entry)
		cur = rcu_dereference_protected(entry->bag,
						lockdep_is_held(lock));
	if (cur != old) {
		tp_bag_put(new);
		err = -EAGAIN;
	} else if (new == cur) {
		tp_bag_put(new);	/* the very blob it holds: no change */
	} else if (entry && (new || entry->policy != TRACINGPLANE_READ_MERGE)) {
		rcu_assign_pointer(entry->bag, new);
		tp_task_changed();
		tp_bag_put(cur);
	} else if (entry) {
		tp_task_remove(entry);
	} else if (new) {
		err = tp_task_insert(task, new, TRACINGPLANE_READ_MERGE, spare);
	}
	spin_unlock(lock);
	rcu_read_unlock();
	return err;
}

/*
 * Under a hold of the transit layer: baggage can only appear while its
 * probes are armed, so that every write of it into a pipe or a socket is
 * seen.  The hold arms them only when the update does produce baggage.
 */
int tp_task_update(struct task_struct *task,
		   int (*update)(struct tp_bag *old, void *arg,
				 struct tp_bag **new),
		   void *arg, bool arm)
{
	struct tp_task_entry *spare = NULL;
	struct tp_bag *old, *new;
	int err;

	do {
		tp_transit_hold(arm);
		old = tp_task_bag(task);
		err = update(old, arg, &new);
		if (!err && new && !tp_transit_armed()) {
			tp_bag_put(new);
			arm = true;
			err = -EAGAIN;
		} else if (!err && new && !old && !spare) {
			spare = kmem_cache_alloc(tp_task_cache, GFP_KERNEL);
			if (!spare) {
				atomic_long_inc(&tp_stats.alloc_fails);
				tp_bag_put(new);
				err = -ENOMEM;
			}
		}
		if (!err)
			err = tp_task_commit(task, old, new, &spare);
		tp_bag_put(old);
		tp_transit_release();
	} while (err == -EAGAIN);

	if (spare)
		kmem_cache_free(tp_task_cache, spare);
	return err;
}

/* Stores @policy for @task; *@spare is an unused entry, taken if need be. */
static int tp_task_commit_policy(struct task_struct *task, u8 policy,
				 struct tp_task_entry **spare)
{
	spinlock_t *lock = tp_task_lock(task);
	struct tp_task_entry *entry;
	int err = 0;

	rcu_read_lock();
	spin_lock(lock);
	entry = tp_task_lookup(task);
	if (entry && (policy != TRACINGPLANE_READ_MERGE ||
		      rcu_access_pointer(entry->bag))) {
		if (entry->policy != policy) {
			WRITE_ONCE(entry->policy, policy);
			tp_task_changed();
		}
	} else if (entry)
		tp_task_remove(entry);
	else if (policy != TRACINGPLANE_READ_MERGE)
		err = tp_task_insert(task, NULL, policy, spare);
	spin_unlock(lock);
	rcu_read_unlock();
	return err;
}

int tp_task_set_read_policy(struct task_struct *task, u8 policy)
{
	struct tp_task_entry *spare = NULL;
	int err;

	if (policy != TRACINGPLANE_READ_MERGE) {
		spare = kmem_cache_alloc(tp_task_cache, GFP_KERNEL);
		if (!spare) {
			atomic_long_inc(&tp_stats.alloc_fails);
			return -ENOMEM;
		}
	}
	/* A policy other than merge must see every read: arm the probes. */
	tp_transit_hold(policy != TRACINGPLANE_READ_MERGE);
	do {
		err = tp_task_commit_policy(task, policy, &spare);
	} while (err == -EAGAIN);
	tp_transit_release();

	if (spare)
		kmem_cache_free(tp_task_cache, spare);
	return err;
}

long tp_task_count(void)
{
	return atomic_long_read(&tp_task_entries);
}

/*
 * Runs in kernel_clone() with preemption disabled, before the child first
 * runs.  Branching is taking a reference: no bytes are copied.  The read
 * policy is inherited too.
 */
static void tp_task_fork_probe(void *data, struct task_struct *parent,
			       struct task_struct *child)
{
	struct tp_task_entry *entry;
	struct tp_bag *bag;
	u8 policy;
	int err;

	bag = tp_task_get(parent, &policy);
	if (!bag && policy == TRACINGPLANE_READ_MERGE)
		return;

	entry = kmem_cache_alloc(tp_task_cache, GFP_ATOMIC | __GFP_NOWARN);
	if (!entry)
		goto fail;
	entry->task = child;
	entry->policy = policy;
	RCU_INIT_POINTER(entry->bag, bag);
	err = tp_task_publish(entry);
	if (!err)
		return;
	kmem_cache_free(tp_task_cache, entry);
	/* -EEXIST: a writer gave the child a baggage already; it is newer. */
	if (err == -EEXIST) {
		tp_bag_put(bag);
		return;
	}
fail:
	atomic_long_inc(&tp_stats.alloc_fails);
	tp_bag_put(bag);
}

/* Runs from delayed_put_task_struct(), an RCU callback. */
static void tp_task_free_probe(void *data, struct task_struct *task)
{
	struct tp_task_entry *entry;

	if (!atomic_long_read(&tp_task_entries))
		return;

	rcu_read_lock();
	entry = tp_task_lookup(task);
	if (entry)
		tp_task_remove(entry);
	rcu_read_unlock();
}

static struct tp_task_probe {
	const char *name;
	void *func;
	struct tracepoint *tp;
} tp_task_probes[] = {
	{ .name = "sched_process_fork", .func = tp_task_fork_probe },
	{ .name = "sched_process_free", .func = tp_task_free_probe },
};

static void tp_task_unregister_probes(int count)
{
	while (count--)
		tracepoint_probe_unregister(tp_task_probes[count].tp,
					    tp_task_probes[count].func, NULL);
	/* No probe is still running, on any CPU, past this point. */
	tracepoint_synchronize_unregister();
}

static int tp_task_register_probes(void)
{
	struct tp_task_probe *probe;
	int i, err;

	for (i = 0; i < ARRAY_SIZE(tp_task_probes); i++) {
		probe = &tp_task_probes[i];
		probe->tp = tp_tracepoint_find(probe->name);
		err = -ENOENT;
		if (!probe->tp)
			goto err_unregister;
		err = tracepoint_probe_register(probe->tp, probe->func, NULL);
		if (err)
			goto err_unregister;
	}
	return 0;

err_unregister:
	tp_task_unregister_probes(i);
	return err;
}

static void tp_task_entry_destroy(void *ptr, void *arg)
{
	atomic_long_dec(&tp_task_entries);
	tp_task_entry_free(ptr);
}

int tp_task_init(void)
{
	int i, err;

	for (i = 0; i < ARRAY_SIZE(tp_task_locks); i++)
		spin_lock_init(&tp_task_locks[i]);

	tp_task_cache = KMEM_CACHE(tp_task_entry, 0);
	if (!tp_task_cache)
		return -ENOMEM;

	err = rhashtable_init(&tp_tasks, &tp_task_params);
	if (err)
		goto err_cache;

	err = tp_task_register_probes();
	if (err)
		goto err_table;
	return 0;

err_table:
	rhashtable_destroy(&tp_tasks);
err_cache:
	kmem_cache_destroy(tp_task_cache);
	return err;
}

/* Callers that read or write baggage must be gone already. */
void tp_task_exit(void)
{
	tp_task_unregister_probes(ARRAY_SIZE(tp_task_probes));
	rhashtable_free_and_destroy(&tp_tasks, tp_task_entry_destroy, NULL);
	/* Entries removed earlier are freed by RCU callbacks: let them run. */
	rcu_barrier();
	kmem_cache_destroy(tp_task_cache);
}
