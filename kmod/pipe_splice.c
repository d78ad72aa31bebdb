// SPDX-License-Identifier: GPL-2.0
/*
 * splice(2), sendfile(2), tee(2) and vmsplice(2) on pipes: kretprobes on
 * do_splice() (which io_uring's splice calls too) for what leaves a pipe,
 * on splice_file_to_pipe() for a file's bytes entering one (splice and
 * sendfile alike: sendfile reaches it without do_splice()), on do_tee()
 * and on the vmsplice system call.  These move bytes without pipe_read() or
 * pipe_write(), so they cannot be placed in a pipe's stream: each makes
 * the pipes it touches fuzzy (pipe.h), which never loses baggage.
 *
 *  - bytes moved into a pipe bring the baggage of the task that moves
 *    them and, from a pipe (splice, tee), all the baggage of that pipe,
 *    taken when the call begins and again when it returns;
 *  - vmsplice() out of a pipe into user memory is a read: the caller is
 *    credited with all the pipe's baggage;
 *  - bytes spliced out of a pipe into a file or socket take no baggage
 *    along (a file carries none; a socket's is documented as not covered).
 */

#include <linux/file.h>
#include <linux/fs.h>
#include <linux/kprobes.h>
#include <linux/sched.h>

#include "atom.h"
#include "credit.h"
#include "kprobe_guard.h"
#include "limits.h"
#include "pipe.h"
#include "pipe_probe.h"
#include "pipe_splice.h"
#include "task.h"
#include "transit.h"

struct tp_splice_op {
	struct tp_pipe_op from;		/* .pipe: bytes leave it (or NULL) */
	struct tp_pipe_op to;		/* .pipe: bytes enter it (or NULL) */
	struct pipe_inode_info *src;	/* whose baggage the bytes bring */
	bool to_user;			/* vmsplice() out of a pipe: a read */
	unsigned int fd;		/* vmsplice(): the pipe's, at entry */
};

/* What bytes entering a pipe bring: the caller's baggage, and @src's. */
static struct tp_bag *tp_splice_bag(struct pipe_inode_info *src)
{
	struct tp_bag *bag = tp_task_bag(current);
	struct tp_bag *theirs;

	if (!src)
		return bag;
	/* Without memory for @src's, the bytes go with the caller's only. */
	tp_pipe_bag(src, &theirs);
	tp_limit_merge(&bag, theirs, GFP_ATOMIC);
	tp_bag_put(theirs);
	return bag;
}

/* Returns the kretprobe verdict: 0 to see the return, 1 not to. */
static int tp_splice_begin(struct tp_splice_op *s)
{
	struct tp_bag *bag;

	if (!s->from.pipe && !s->to.pipe)
		return 1;
	if (s->from.pipe)
		tp_pipe_splice_begin(&s->from, false, NULL);
	if (s->to.pipe) {
		bag = tp_splice_bag(s->src);
		tp_pipe_splice_begin(&s->to, true, bag);
		tp_bag_put(bag);
	}
	return 0;
}

static int tp_splice_ret(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	struct tp_splice_op *s = (struct tp_splice_op *)ri->data;
	long ret = regs_return_value(regs);
	struct tp_bag *bag;

	if (s->to.pipe) {
		bag = tp_splice_bag(s->src);
		tp_pipe_splice_end(&s->to, true, bag);
		tp_bag_put(bag);
	}
	if (s->from.pipe) {
		/* Without memory for the pipe's baggage, no credit at all. */
		bool read = s->to_user && ret > 0 &&
			    !tp_pipe_bag(s->from.pipe, &bag);

		tp_pipe_splice_end(&s->from, false, NULL);
		if (read)
			tp_credit_reader(bag);
	}
	return 0;
}

/*
 * do_splice(in, off_in, out, off_out, len, flags): from a pipe to a pipe
 * or a file.  From a file into a pipe it calls splice_file_to_pipe(),
 * whose own probe sees that.
 */
static int tp_splice_entry(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	struct file *in = (struct file *)regs_get_kernel_argument(regs, 0);
	struct file *out = (struct file *)regs_get_kernel_argument(regs, 2);
	struct tp_splice_op *s = (struct tp_splice_op *)ri->data;

	s->from.pipe = tp_pipe_of(in);
	if (!s->from.pipe)
		return 1;
	s->src = s->from.pipe;
	s->to.pipe = tp_pipe_of(out);
	s->to_user = false;
	return tp_splice_begin(s);
}

/* splice_file_to_pipe(in, opipe, offset, len, flags) */
static int tp_file_to_pipe_entry(struct kretprobe_instance *ri,
				 struct pt_regs *regs)
{
	struct tp_splice_op *s = (struct tp_splice_op *)ri->data;

	s->from.pipe = NULL;
	s->src = NULL;
	s->to.pipe = (struct pipe_inode_info *)regs_get_kernel_argument(regs, 1);
	s->to_user = false;
	return tp_splice_begin(s);
}

/* do_tee(in, out, len, flags): the source keeps its bytes. */
static int tp_tee_entry(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	struct file *in = (struct file *)regs_get_kernel_argument(regs, 0);
	struct file *out = (struct file *)regs_get_kernel_argument(regs, 1);
	struct tp_splice_op *s = (struct tp_splice_op *)ri->data;

	s->from.pipe = NULL;
	s->src = tp_pipe_of(in);
	s->to.pipe = tp_pipe_of(out);
	s->to_user = false;
	return tp_splice_begin(s);
}

/*
 * __x64_sys_vmsplice(regs), the system call itself: the function that does
 * the work is static inline in fs/splice.c.  Its direction follows the
 * file's mode, as vmsplice_type() decides it.
 *
 * The system call holds its file only between its entry and its return,
 * so another thread's close() could free the pipe under either handler:
 * each takes a reference of its own while it looks at the pipe, and the
 * return handler looks at the pipe only if the fd still leads to it.
 */
static int tp_vmsplice_entry(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	struct pt_regs *uregs = (struct pt_regs *)regs_get_kernel_argument(regs, 0);
	struct tp_splice_op *s = (struct tp_splice_op *)ri->data;
	struct pipe_inode_info *pipe;
	struct file *file;
	int verdict;

	s->fd = (unsigned int)uregs->di;
	file = fget(s->fd);
	if (!file)
		return 1;
	pipe = tp_pipe_of(file);
	s->src = NULL;
	s->to_user = !(file->f_mode & FMODE_WRITE);
	s->to.pipe = s->to_user ? NULL : pipe;
	s->from.pipe = s->to_user ? pipe : NULL;
	verdict = tp_splice_begin(s);
	fput(file);
	return verdict;
}

static int tp_vmsplice_ret(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	struct tp_splice_op *s = (struct tp_splice_op *)ri->data;
	struct tp_pipe_op *op = s->to_user ? &s->from : &s->to;
	struct file *file = fget(s->fd);

	/*
	 * Another pipe at the same address would be alive, and over-
	 * approximate at worst; without one, the call only stops counting.
	 */
	if (file && tp_pipe_of(file) == op->pipe)
		tp_splice_ret(ri, regs);
	else
		tp_pipe_splice_abandon(op);
	if (file)
		fput(file);
	return 0;
}

/* Instances: calls of each kind that may sleep at once. */
#define TP_SPLICE_RP(sym, entry, ret) {					\
	.kp.symbol_name = sym,						\
	.kp.flags = KPROBE_FLAG_DISABLED,				\
	.entry_handler = entry,						\
	.handler = ret,							\
	.data_size = sizeof(struct tp_splice_op),			\
	.maxactive = 256,						\
}

static struct kretprobe tp_splice_rp =
	TP_SPLICE_RP("do_splice", tp_splice_entry, tp_splice_ret);
static struct kretprobe tp_file_to_pipe_rp =
	TP_SPLICE_RP("splice_file_to_pipe", tp_file_to_pipe_entry, tp_splice_ret);
static struct kretprobe tp_tee_rp =
	TP_SPLICE_RP("do_tee", tp_tee_entry, tp_splice_ret);
static struct kretprobe tp_vmsplice_rp =
	TP_SPLICE_RP("__x64_sys_vmsplice", tp_vmsplice_entry, tp_vmsplice_ret);

static struct kretprobe *tp_splice_rps[] = {
	&tp_splice_rp,
	&tp_file_to_pipe_rp,
	&tp_tee_rp,
	&tp_vmsplice_rp,
};

static long tp_splice_probe_misses(void)
{
	long misses = 0;
	int i;

	for (i = 0; i < ARRAY_SIZE(tp_splice_rps); i++)
		misses += tp_splice_rps[i]->nmissed;
	return misses;
}

static void tp_splice_arm(bool on)
{
	int i;

	for (i = 0; i < ARRAY_SIZE(tp_splice_rps); i++)
		tp_transit_switch(&tp_splice_rps[i]->kp, on);
}

static struct tp_transit_probes tp_splice_probes = {
	.arm = tp_splice_arm,
	.misses = tp_splice_probe_misses,
};

int tp_splice_init(void)
{
	int err = tp_register_kretprobes(tp_splice_rps,
					 ARRAY_SIZE(tp_splice_rps));

	if (!err)
		tp_transit_attach(&tp_splice_probes);
	return err;
}

void tp_splice_exit(void)
{
	tp_transit_detach(&tp_splice_probes);
	unregister_kretprobes(tp_splice_rps, ARRAY_SIZE(tp_splice_rps));
}
