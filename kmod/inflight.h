/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Calls in flight on an object (a pipe): each probed call that the
 * object's own state does not count (pipe.c) links a node, kept in its
 * kretprobe instance, into a per-CPU list at its entry and unlinks it at
 * its return, maybe from another CPU.
 *
 * It answers one question exactly: "which calls on this object started,
 * and have not yet returned, before I published my state for it?"  A
 * call that found no state links itself before it looks again, and
 * whoever publishes a state walks the lists after publishing (both with
 * a full barrier), so that a call is either seen in the lists or sees
 * the state.
 */
#ifndef TP_INFLIGHT_H
#define TP_INFLIGHT_H

#include <linux/list.h>

struct tp_inflight {
	struct list_head node;
	const void *obj;
	int cpu;		/* whose list holds it */
};

int tp_inflight_init(void);
void tp_inflight_exit(void);

/* Counts a call on @obj; a full barrier follows.  Atomic context. */
void tp_inflight_enter(struct tp_inflight *in, const void *obj);
void tp_inflight_leave(struct tp_inflight *in);
/*
 * Calls @fn on every call in flight on @obj, with the lock of the list
 * that holds it, so the call cannot return meanwhile; stops at the first
 * @fn returning false, and then returns false.  A full barrier first.
 */
bool tp_inflight_each(const void *obj,
		      bool (*fn)(struct tp_inflight *in, void *arg), void *arg);

#endif /* TP_INFLIGHT_H */
