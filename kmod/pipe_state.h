/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A pipe's baggage state, shared by pipe.c (the accounting of calls) and
 * pipe_sync.c (when the accounting can be trusted).  Not for other files:
 * they use pipe.h.
 */
#ifndef TP_PIPE_STATE_H
#define TP_PIPE_STATE_H

#include <linux/list.h>
#include <linux/rhashtable-types.h>
#include <linux/spinlock.h>
#include <linux/types.h>

#include "stream.h"
#include "task.h"

struct pipe_inode_info;
struct tp_bag;
struct tp_pipe_op;

/*
 * The calls in flight are hlists: a distribution kernel checks every
 * list_add() and list_del() out of line (CONFIG_DEBUG_LIST), and these
 * lists change on every call.
 */

/* A write with baggage, pending from its entry to its return. */
struct tp_pipe_writer {
	struct hlist_node node;
	u64 start;
	struct tp_bag *bag;
};

struct tp_pipe {
	struct rhash_head node;
	struct pipe_inode_info *pipe;
	spinlock_t lock;		/* everything below */
	bool fuzzy;			/* offsets unknown: readers get it all */
	u64 w_done, r_done;		/* bytes written / read by returned calls */
	u64 w_req, r_req;		/* bytes asked by calls in flight */
	struct hlist_head writers;	/* struct tp_pipe_writer */
	struct tp_pipe_writer *spare;	/* the last one freed, for the next */
	struct hlist_head readers;	/* struct tp_pipe_op, reads counted */
	struct list_head unseen;	/* pipe_sync.c: unseen sleeping readers */
	/*
	 * The last writer with its baggage, and the last reader with the
	 * blob it held and merged into (task.h), so that their next calls
	 * need not look the task up.  The state holds no reference.
	 */
	struct tp_task_seen w_seen, r_seen;
	struct tp_bag *spliced;		/* brought in by splices (fuzzy) */
	struct tp_stream ranges;
	struct rcu_head rcu;
};

/* Under st->lock: the merge of all the baggage @st holds, in *@out. */
int tp_pipe_whole(struct tp_pipe *st, struct tp_bag **out);

/*
 * Under st->lock: if every call in flight on the pipe but @self (NULL:
 * none) is a read sleeping for data, and the pipe is quiet, counts
 * offsets afresh from what it holds now; otherwise the state is fuzzy.
 */
void tp_pipe_resync(struct tp_pipe *st, struct tp_pipe_op *self);
void __tp_pipe_gift_unseen(struct tp_pipe *st, struct tp_bag *bag);
void __tp_pipe_seen_again(struct tp_pipe *st);

/* Under st->lock: readers we could not see get @bag too. */
static inline void tp_pipe_gift_unseen(struct tp_pipe *st, struct tp_bag *bag)
{
	if (unlikely(!list_empty(&st->unseen)))
		__tp_pipe_gift_unseen(st, bag);
}

/* Under st->lock: the current task makes a call we see. */
static inline void tp_pipe_seen_again(struct tp_pipe *st)
{
	if (unlikely(!list_empty(&st->unseen)))
		__tp_pipe_seen_again(st);
}
/* The state is being freed. */
void tp_pipe_unseen_free(struct tp_pipe *st);

#endif /* TP_PIPE_STATE_H */
