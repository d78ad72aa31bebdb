// SPDX-License-Identifier: GPL-2.0
/*
 * The probes that feed pipe.c: kretprobes on pipe_write() and pipe_read(),
 * the write_iter and read_iter of every pipe and FIFO (pipefifo_fops),
 * and a kprobe on free_pipe_info(), where a pipe's state goes with it.
 *
 * kretprobes, because the entry sees the calling task and the bytes
 * asked for (the iov_iter), and the return the bytes moved; and because
 * the return trampoline is the kernel's own, so the module can go while
 * readers sleep in pipe_read() (their calls then return unobserved).
 * Every call in flight holds a kretprobe instance: a call that finds
 * none free is not seen, and counted in PROBE_MISSES.
 *
 * The probes are armed only while baggage may exist (transit.c), and
 * then follow every call.
 */

#include <linux/fs.h>
#include <linux/kprobes.h>
#include <linux/pipe_fs_i.h>
#include <linux/uio.h>

#include "kprobe_guard.h"
#include "pipe.h"
#include "pipe_probe.h"
#include "transit.h"

/*
 * pipefifo_fops, which modules cannot name: learnt from the first pipe or
 * FIFO seen, by a pipe probe or by tp_pipe_of().  Every open pipe or FIFO
 * has them: fifo_open() gives them to the files of a FIFO inode.
 */
static const struct file_operations *tp_pipe_fops;

static void tp_pipe_learn(const struct file *file)
{
	if (unlikely(!READ_ONCE(tp_pipe_fops)))
		WRITE_ONCE(tp_pipe_fops, file->f_op);
}

struct pipe_inode_info *tp_pipe_of(const struct file *file)
{
	const struct file_operations *fops;

	if (S_ISFIFO(file_inode(file)->i_mode))
		tp_pipe_learn(file);
	fops = READ_ONCE(tp_pipe_fops);
	return fops && file->f_op == fops ? file->private_data : NULL;
}

/* pipe_write(struct kiocb *iocb, struct iov_iter *from) */
static int tp_pipe_write_entry(struct kretprobe_instance *ri,
			       struct pt_regs *regs)
{
	struct kiocb *iocb = (struct kiocb *)regs_get_kernel_argument(regs, 0);
	struct iov_iter *from = (struct iov_iter *)regs_get_kernel_argument(regs, 1);
	struct tp_pipe_op *op = (struct tp_pipe_op *)ri->data;

	tp_pipe_learn(iocb->ki_filp);
	op->pipe = iocb->ki_filp->private_data;
	op->len = iov_iter_count(from);
	op->packet = iocb->ki_filp->f_flags & O_DIRECT;
	tp_pipe_write_begin(op);
	return 0;
}

static int tp_pipe_write_ret(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	tp_pipe_write_end((struct tp_pipe_op *)ri->data, regs_return_value(regs));
	return 0;
}

/* pipe_read(struct kiocb *iocb, struct iov_iter *to) */
static int tp_pipe_read_entry(struct kretprobe_instance *ri,
			      struct pt_regs *regs)
{
	struct kiocb *iocb = (struct kiocb *)regs_get_kernel_argument(regs, 0);
	struct iov_iter *to = (struct iov_iter *)regs_get_kernel_argument(regs, 1);
	struct pipe_inode_info *pipe = iocb->ki_filp->private_data;
	struct tp_pipe_op *op = (struct tp_pipe_op *)ri->data;

	tp_pipe_learn(iocb->ki_filp);
	op->pipe = pipe;
	op->len = iov_iter_count(to);
	tp_pipe_read_begin(op);
	return 0;
}

static int tp_pipe_read_ret(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	tp_pipe_read_end((struct tp_pipe_op *)ri->data, regs_return_value(regs));
	return 0;
}

/* free_pipe_info(struct pipe_inode_info *pipe) */
static int tp_pipe_free_pre(struct kprobe *kp, struct pt_regs *regs)
{
	tp_pipe_free((struct pipe_inode_info *)regs_get_kernel_argument(regs, 0));
	return 0;
}

/* Readers may sleep for long: room for that many at once. */
static struct kretprobe tp_pipe_read_rp = {
	.kp.symbol_name = "pipe_read",
	.kp.flags = KPROBE_FLAG_DISABLED,
	.entry_handler = tp_pipe_read_entry,
	.handler = tp_pipe_read_ret,
	.data_size = sizeof(struct tp_pipe_op),
	.maxactive = 2048,
};

static struct kretprobe tp_pipe_write_rp = {
	.kp.symbol_name = "pipe_write",
	.kp.flags = KPROBE_FLAG_DISABLED,
	.entry_handler = tp_pipe_write_entry,
	.handler = tp_pipe_write_ret,
	.data_size = sizeof(struct tp_pipe_op),
	.maxactive = 1024,
};

static struct kretprobe *tp_pipe_rps[] = {
	&tp_pipe_read_rp,
	&tp_pipe_write_rp,
};

static struct tp_kprobe tp_pipe_free_kp[] = {
	TP_KPROBE("free_pipe_info", tp_pipe_free_pre, 0),
};

static long tp_pipe_probe_misses(void)
{
	return tp_pipe_read_rp.nmissed + tp_pipe_write_rp.nmissed +
	       tp_kprobes_missed(tp_pipe_free_kp, ARRAY_SIZE(tp_pipe_free_kp));
}

/*
 * The free probe is never disarmed: a handler that began before the
 * others were disarmed may still give a pipe its state, and that pipe
 * may go before they are armed again.  It costs one lookup per pipe.
 */
static void tp_pipe_probe_arm(bool on)
{
	tp_transit_switch(&tp_pipe_read_rp.kp, on);
	tp_transit_switch(&tp_pipe_write_rp.kp, on);
}

/* Pipes holding baggage keep the probes armed. */
static bool tp_pipe_probe_busy(void)
{
	return tp_pipe_count() > 0;
}

static struct tp_transit_probes tp_pipe_probes = {
	.arm = tp_pipe_probe_arm,
	.misses = tp_pipe_probe_misses,
	.busy = tp_pipe_probe_busy,
};

/* The read and write probes registered disarmed: the transit layer arms them. */
int tp_pipe_probe_init(void)
{
	int err = tp_register_kprobes(tp_pipe_free_kp,
				      ARRAY_SIZE(tp_pipe_free_kp));

	if (err)
		return err;
	err = tp_register_kretprobes(tp_pipe_rps, ARRAY_SIZE(tp_pipe_rps));
	if (err) {
		tp_unregister_kprobes(tp_pipe_free_kp,
				      ARRAY_SIZE(tp_pipe_free_kp));
		return err;
	}
	tp_transit_attach(&tp_pipe_probes);
	return 0;
}

void tp_pipe_probe_exit(void)
{
	tp_transit_detach(&tp_pipe_probes);
	unregister_kretprobes(tp_pipe_rps, ARRAY_SIZE(tp_pipe_rps));
	tp_unregister_kprobes(tp_pipe_free_kp, ARRAY_SIZE(tp_pipe_free_kp));
}
