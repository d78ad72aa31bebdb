/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Baggage through pipes and FIFOs: per-pipe state and the accounting of
 * every read, write and splice, fed by the probes of pipe_probe.c and
 * pipe_splice.c.  The semantics, and exactly when they over-approximate,
 * are in Documentation/transit.rst.
 */
#ifndef TP_PIPE_H
#define TP_PIPE_H

#include <linux/list.h>
#include <linux/types.h>

#include "inflight.h"

struct pipe_inode_info;
struct task_struct;
struct tp_bag;
struct tp_pipe;
struct tp_pipe_writer;

/*
 * One call on a pipe, from its entry to its return: the data of a
 * kretprobe instance.  The caller sets @pipe and @len (and @packet for a
 * write) before *_begin().
 */
struct tp_pipe_op {
	struct pipe_inode_info *pipe;
	u64 len;			/* bytes asked for */
	bool packet;			/* a write in O_DIRECT (packet) mode */
	bool reader;			/* set by *_begin() */
	bool linked;			/* counted in flight (inflight.h) */
	struct task_struct *task;	/* set by *_begin() */
	struct tp_pipe *st;		/* the pipe's state, once it counts */
	struct tp_pipe_writer *w;	/* a write with baggage: its entry */
	struct hlist_node node;		/* a read: among the pipe's readers */
	u64 start;			/* stream offset where it began */
	struct tp_inflight inflight;
};

int tp_pipe_init(void);
void tp_pipe_exit(void);

void tp_pipe_write_begin(struct tp_pipe_op *op);
void tp_pipe_write_end(struct tp_pipe_op *op, long ret);
void tp_pipe_read_begin(struct tp_pipe_op *op);
/* Credits the reader (kmod/credit.c) with the baggage of what it read. */
void tp_pipe_read_end(struct tp_pipe_op *op, long ret);

/*
 * A splice, tee or vmsplice moving bytes into (@into) or out of @op->pipe.
 * Bytes moved so are not counted, so the pipe's offsets become unknown:
 * until it is next quiet, every reader gets all of its baggage.  @bag
 * (not consumed) is the baggage the bytes bring in.
 */
void tp_pipe_splice_begin(struct tp_pipe_op *op, bool into, struct tp_bag *bag);
void tp_pipe_splice_end(struct tp_pipe_op *op, bool into, struct tp_bag *bag);
/* Instead of *_end(), when @op->pipe may be gone: only stops counting. */
void tp_pipe_splice_abandon(struct tp_pipe_op *op);

/*
 * Into *@out the merge of all baggage in @pipe now, a new reference (NULL:
 * none); -ENOMEM, with *@out NULL, when it cannot be made.
 */
int tp_pipe_bag(struct pipe_inode_info *pipe, struct tp_bag **out);

/* The pipe is being freed. */
void tp_pipe_free(const struct pipe_inode_info *pipe);

/* Pipes with state, for STATUS, the leak check and the fast paths. */
long tp_pipe_count(void);

#endif /* TP_PIPE_H */
