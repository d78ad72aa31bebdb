// SPDX-License-Identifier: GPL-2.0
/*
 * Baggage through UNIX-domain sockets: stream (socketpair() included),
 * datagram and seqpacket.
 *
 * af_unix puts the bytes of one send call, and only those, into each
 * sk_buff it queues on the receiving socket: a stream send is cut into
 * several buffers, a datagram is one.  Tagging every buffer with its
 * sender's baggage (skbtag.c) is therefore byte-accurate, needs no stream
 * offsets, and stays exact however many tasks send or receive at once.
 *
 *  unix_scm_to_skb(): af_unix gives every buffer it queues its sender's
 *	credentials there, in the sending task, before a receiver can see
 *	it, and makes unix_wfree() its destructor; the new buffer is
 *	tagged with the sender's baggage, if any.
 *  unix_wfree(): the tag goes with the buffer.
 *  unix_stream_read_actor(): called for every buffer a stream read
 *	copies from (MSG_PEEK too): the reader is credited with its tag.
 *  __skb_try_recv_datagram() (kretprobe): hands a datagram or seqpacket
 *	read its message; the reader is credited with the message's tag,
 *	which goes unless the read only peeks.  BPF sockmap takes buffers
 *	off a socket's queue there too; a socket in a sockmap credits no
 *	one.
 *  skb_append_pagefrags(): splice and sendfile into a stream socket
 *	(unix_stream_sendpage()) may append to the buffer at the tail of the
 *	receiver's queue instead of queueing one, so the sender's baggage
 *	is merged into that buffer's tag (over-approximating its earlier
 *	bytes).
 *
 * All but the datagram read are entry hooks on ftrace (ftrace_hook.c),
 * which cost a tenth of a kprobe: a stream send and read are as cheap as
 * a pipe's, and the hooks are a large part of their cost.
 *
 * Not covered: splice out of a UNIX socket (unix_stream_splice_actor),
 * whose bytes enter a pipe without baggage, and buffers handed to BPF
 * sockmap, which take no baggage with them.
 */

#include <linux/kprobes.h>
#include <linux/net.h>
#include <linux/skbuff.h>
#include <linux/skmsg.h>
#include <net/af_unix.h>
#include <net/sock.h>

#include "atom.h"
#include "credit.h"
#include "ftrace_hook.h"
#include "kprobe_guard.h"
#include "skbtag.h"
#include "stats.h"
#include "task.h"
#include "transit.h"
#include "unix.h"

static bool tp_unix_sock(const struct sock *sk)
{
	return sk && sk->sk_family == AF_UNIX;
}

/*
 * af_unix leaves the end of the control buffer to us.  The distribution's
 * configuration decides the size of its own part, so this is checked
 * when the module is built against it.
 */
static_assert(sizeof(struct unix_skb_parms) + TP_SKBTAG_CB_SIZE <=
	      sizeof_field(struct sk_buff, cb));

/*
 * unix_scm_to_skb(scm, skb, send_fds): @skb is new, untagged.  Most sends
 * carry a blob that buffers carry already, which needs no reference.
 */
static void tp_unix_tag(struct pt_regs *args)
{
	struct sk_buff *skb = (struct sk_buff *)regs_get_kernel_argument(args, 1);
	const struct tp_bag *bag = tp_task_blob_peek(current);

	if (bag && !tp_skbtag_reuse(skb, bag))
		tp_skbtag_attach(skb, tp_task_bag(current));
}

/* unix_wfree(skb) */
static void tp_unix_free(struct pt_regs *args)
{
	tp_skbtag_drop((struct sk_buff *)regs_get_kernel_argument(args, 0));
}

/*
 * unix_stream_read_actor(skb, skip, chunk, state).  Most reads change
 * nothing (a reader that already holds the sender's baggage): that is
 * found with no lock and no reference.
 */
static void tp_unix_stream_read(struct pt_regs *args)
{
	struct sk_buff *skb = (struct sk_buff *)regs_get_kernel_argument(args, 0);

	if (!tp_credit_moot(tp_skbtag_peek(skb)))
		tp_credit_reader(tp_skbtag_get(skb));
}

/* What a datagram read's return needs of its entry. */
struct tp_unix_dgram_call {
	struct sock *sk;
	unsigned int flags;
};

/*
 * __skb_try_recv_datagram(sk, queue, flags, off, err, last).  A listener's
 * queue holds connection requests, not data: accept() is no read.
 */
static int tp_unix_dgram_entry(struct kretprobe_instance *ri,
			       struct pt_regs *regs)
{
	struct tp_unix_dgram_call *call = (void *)ri->data;
	struct sock *sk = (struct sock *)regs_get_kernel_argument(regs, 0);

	if (!tp_unix_sock(sk) || READ_ONCE(sk->sk_state) == TCP_LISTEN)
		return 1;
	call->sk = sk;
	call->flags = regs_get_kernel_argument(regs, 2);
	return 0;
}

/*
 * Unless peeked at, the buffer returned has left its queue for good: it
 * is the reader's now, or BPF sockmap's (unix_read_skb() and
 * unix_stream_read_skb(), which hand it over with sock_wfree() as its
 * destructor, so unix_wfree() will not drop its tag).  Its tag goes at
 * once.  Sockmap reads run in whatever task made the socket readable
 * (often a sender), so a socket in a sockmap credits no one, as for TCP.
 */
static int tp_unix_dgram_ret(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	struct tp_unix_dgram_call *call = (void *)ri->data;
	struct sk_buff *skb = (struct sk_buff *)regs_return_value(regs);
	struct tp_bag *bag;
	bool sockmap;

	if (!skb)
		return 0;
	if (call->flags & MSG_PEEK)
		bag = tp_skbtag_get(skb);
	else
		bag = tp_skbtag_take(skb);
	rcu_read_lock();
	sockmap = sk_psock(call->sk);
	rcu_read_unlock();
	if (sockmap)
		tp_bag_put(bag);
	else
		tp_credit_reader(bag);
	return 0;
}

static struct tp_hook tp_unix_hooks[];
#define TP_UNIX_FREE_HOOK	(&tp_unix_hooks[0])
#define TP_UNIX_WFREE		(TP_UNIX_FREE_HOOK->site)

/*
 * skb_append_pagefrags(skb, page, offset, size): unix_stream_sendpage()
 * appends to a buffer under the receiver's queue lock.  A buffer already
 * queued has unix_wfree() as its destructor, and the sender's baggage is
 * merged into its tag; a new one is tagged at unix_scm_to_skb().
 */
static void tp_unix_append(struct pt_regs *args)
{
	struct sk_buff *skb = (struct sk_buff *)regs_get_kernel_argument(args, 0);
	struct tp_bag *bag;

	if ((unsigned long)skb->destructor != TP_UNIX_WFREE)
		return;
	bag = tp_task_bag(current);
	if (bag) {
		tp_skbtag_merge(skb, bag);
		atomic_long_inc(&tp_stats.overapprox);
	}
	tp_bag_put(bag);
}

static struct kretprobe tp_unix_dgram_rp = {
	.kp.symbol_name = "__skb_try_recv_datagram",
	.kp.flags = KPROBE_FLAG_DISABLED,
	.entry_handler = tp_unix_dgram_entry,
	.handler = tp_unix_dgram_ret,
	.data_size = sizeof(struct tp_unix_dgram_call),
	.maxactive = 256,
};

/* The free hook first (TP_UNIX_WFREE): no tag may outlive its buffer. */
static struct tp_hook tp_unix_hooks[] = {
	TP_HOOK("unix_wfree", tp_unix_free),
	TP_HOOK("unix_scm_to_skb", tp_unix_tag),
	TP_HOOK("unix_stream_read_actor", tp_unix_stream_read),
	TP_HOOK("skb_append_pagefrags", tp_unix_append),
};

static long tp_unix_probe_misses(void)
{
	return tp_unix_dgram_rp.nmissed;
}

/*
 * The free hook armed first and disarmed last: no tagged buffer is
 * freed unseen.  A handler that began before its hook was disarmed may still
 * attach a tag (a send by a task whose baggage another task just
 * cleared): once every such handler is over, the free hook stays armed
 * while any tagged buffer is left, and the layer's second look re-arms
 * the rest.
 */
static void tp_unix_arm(bool on)
{
	/* Not in one batch: its sites would all go live at once. */
	struct tp_hook *others = &tp_unix_hooks[1];
	int nothers = ARRAY_SIZE(tp_unix_hooks) - 1;

	if (on) {
		if (!tp_hooks_switch(TP_UNIX_FREE_HOOK, 1, true))
			tp_hooks_switch(others, nothers, true);
		tp_transit_switch(&tp_unix_dgram_rp.kp, true);
		return;
	}
	tp_transit_switch(&tp_unix_dgram_rp.kp, false);
	tp_hooks_switch(others, nothers, false);
	synchronize_rcu();
	if (!tp_skbtag_count())
		tp_hooks_switch(TP_UNIX_FREE_HOOK, 1, false);
}

/* Socket buffers holding baggage keep the probes armed. */
static bool tp_unix_busy(void)
{
	return tp_skbtag_count() > 0;
}

static struct tp_transit_probes tp_unix_probes = {
	.arm = tp_unix_arm,
	.misses = tp_unix_probe_misses,
	.busy = tp_unix_busy,
};

int tp_unix_init(void)
{
	struct kretprobe *rp = &tp_unix_dgram_rp;
	int err = tp_hooks_add(tp_unix_hooks, ARRAY_SIZE(tp_unix_hooks));

	if (err)
		return err;
	err = tp_register_kretprobes(&rp, 1);
	if (err)
		return err;
	tp_transit_attach(&tp_unix_probes);
	return 0;
}

/* tp_skbtag_exit() frees the tags left: the free hook must be over. */
void tp_unix_exit(void)
{
	tp_transit_detach(&tp_unix_probes);
	tp_hooks_switch(TP_UNIX_FREE_HOOK, 1, false);
	synchronize_rcu();
	unregister_kretprobe(&tp_unix_dgram_rp);
}
