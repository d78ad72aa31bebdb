/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Per-CPU hints for the module's tables keyed by a kernel object's
 * address (tasks, pipes, TCP sockets).  A module cannot add a field to
 * task_struct or sock, so finding an object's state is a hash lookup,
 * which costs about as much as all the rest of the work a hook does on a
 * UNIX message or a TCP segment.  Each CPU remembers its last few
 * lookups; they stay true until an entry is added to or removed from the
 * table, which the table's owner announces with tp_hints_changed() (a
 * change inside an entry keeps them: they name entries, not contents).
 *
 * Only task context uses a CPU's hints (with preemption off), so an
 * interrupt never finds them half written; other contexts look up the
 * table.  The entries must be freed after an RCU grace period that
 * starts after tp_hints_changed(), and tp_hints_find() called under
 * rcu_read_lock(): a hint read before a removal was announced then names
 * memory that outlives the reader.  (A caller that keeps the entry of
 * its key alive otherwise, as a call on a pipe keeps the pipe's, needs
 * no read section: the hints of other keys are never followed.)
 */
#ifndef TP_HINT_H
#define TP_HINT_H

#include <linux/atomic.h>
#include <linux/percpu.h>
#include <linux/preempt.h>

#define TP_HINTS	4

struct tp_hint {
	const void *key;
	void *entry;		/* NULL: none */
	unsigned long gen;
};

struct tp_hints {
	struct tp_hint hint[TP_HINTS];
	unsigned int next;		/* the one to replace */
};

/* After an entry is linked or unlinked: every hint is stale. */
static inline void tp_hints_changed(atomic_long_t *gen)
{
	/* Whoever reads the new count (acquire) sees the change. */
	smp_mb__before_atomic();
	atomic_long_inc(gen);
}

/* @lookup(@key) of the table whose changes @gen counts, or a hint of it. */
static __always_inline void *tp_hints_find(struct tp_hints __percpu *cpu_hints,
					   atomic_long_t *gen, const void *key,
					   void *(*lookup)(const void *key))
{
	struct tp_hints *hints;
	struct tp_hint *hint;
	unsigned long now;
	void *entry;

	if (!in_task())
		return lookup(key);
	/* Seeing a change's count means seeing the change. */
	now = atomic_long_read_acquire(gen);
	hints = get_cpu_ptr(cpu_hints);
	for (hint = hints->hint; hint < hints->hint + TP_HINTS; hint++) {
		if (hint->key == key && hint->gen == now) {
			entry = hint->entry;
			goto out;
		}
	}
	entry = lookup(key);
	hint = &hints->hint[hints->next++ % TP_HINTS];
	hint->key = key;
	hint->entry = entry;
	hint->gen = now;
out:
	put_cpu_ptr(cpu_hints);
	return entry;
}

#endif /* TP_HINT_H */
