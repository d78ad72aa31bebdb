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
 *  sock_alloc_send_pskb() (kretprobe): af_unix allocates every buffer it
 *	sends there, in the sending task, before a receiver can see it; a
 *	UNIX socket's buffer is tagged with the sender's baggage, or
 *	untagged (a freed buffer at the same address may have left a tag).
 *  unix_wfree() (kprobe): the destructor af_unix gives its buffers; the
 *	tag goes with the buffer.
 *  unix_stream_read_actor() (kprobe): called for every buffer a stream
 *	read copies from (MSG_PEEK too): the reader is credited with its tag.
 *  __skb_try_recv_datagram() (kretprobe): hands a datagram or seqpacket
 *	read its message; the reader is credited with the message's tag.
 *  unix_stream_sendpage() (kprobe): splice and sendfile into a stream
 *	socket may append to the buffer at the tail of the receiver's queue
 *	instead of allocating one, so the sender's baggage is merged into
 *	that buffer's tag first (over-approximating its earlier bytes).
 *
 * Not covered: splice out of a UNIX socket (unix_stream_splice_actor),
 * whose bytes enter a pipe without baggage, and buffers handed to BPF
 * sockmap (their destructor is changed to sock_wfree(): the tag stays
 * until a buffer at the same address is sent, or the module goes).
 */

#include <linux/kprobes.h>
#include <linux/net.h>
#include <linux/skbuff.h>
#include <net/af_unix.h>
#include <net/sock.h>

#include "atom.h"
#include "credit.h"
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

/* sock_alloc_send_pskb(sk, header_len, data_len, noblock, errcode, order) */
static int tp_unix_alloc_entry(struct kretprobe_instance *ri,
			       struct pt_regs *regs)
{
	struct sock *sk = (struct sock *)regs_get_kernel_argument(regs, 0);
	struct tp_bag *bag;

	if (!tp_unix_sock(sk))
		return 1;
	/* A stale tag at the new buffer's address can only exist with tags. */
	if (tp_skbtag_count())
		return 0;
	/*
	 * Nothing to tag and nothing to untag: skip the return probe.  The
	 * baggage is looked up again at the return, for a reference cannot
	 * be held across a call that may outlive the module (it may sleep).
	 */
	bag = tp_task_bag(current);
	tp_bag_put(bag);
	return bag ? 0 : 1;
}

static int tp_unix_alloc_ret(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	struct sk_buff *skb = (struct sk_buff *)regs_return_value(regs);
	struct tp_bag *bag;

	if (!skb)
		return 0;
	bag = tp_task_bag(current);
	tp_skbtag_set(skb, bag);
	tp_bag_put(bag);
	return 0;
}

/* unix_wfree(skb) */
static int tp_unix_free_pre(struct kprobe *kp, struct pt_regs *regs)
{
	if (tp_skbtag_count())
		tp_skbtag_drop((struct sk_buff *)regs_get_kernel_argument(regs, 0));
	return 0;
}

/* unix_stream_read_actor(skb, skip, chunk, state) */
static int tp_unix_stream_read_pre(struct kprobe *kp, struct pt_regs *regs)
{
	struct sk_buff *skb = (struct sk_buff *)regs_get_kernel_argument(regs, 0);

	tp_credit_reader(tp_skbtag_get(skb));
	return 0;
}

/* __skb_try_recv_datagram(sk, queue, flags, off, err, last) */
static int tp_unix_dgram_entry(struct kretprobe_instance *ri,
			       struct pt_regs *regs)
{
	struct sock *sk = (struct sock *)regs_get_kernel_argument(regs, 0);

	return tp_unix_sock(sk) ? 0 : 1;
}

static int tp_unix_dgram_ret(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	struct sk_buff *skb = (struct sk_buff *)regs_return_value(regs);

	if (skb)
		tp_credit_reader(tp_skbtag_get(skb));
	return 0;
}

/*
 * unix_stream_sendpage(socket, page, offset, size, flags).  The receive
 * queue's lock is the one sendpage itself takes to find the tail buffer.
 */
static int tp_unix_sendpage_pre(struct kprobe *kp, struct pt_regs *regs)
{
	struct socket *sock = (struct socket *)regs_get_kernel_argument(regs, 0);
	struct sock *peer;
	struct sk_buff *tail;
	struct tp_bag *bag = tp_task_bag(current);

	if (!bag)
		return 0;
	peer = READ_ONCE(unix_peer(sock->sk));
	if (peer) {
		spin_lock(&peer->sk_receive_queue.lock);
		tail = skb_peek_tail(&peer->sk_receive_queue);
		if (tail) {
			tp_skbtag_merge(tail, bag);
			atomic_long_inc(&tp_stats.overapprox);
		}
		spin_unlock(&peer->sk_receive_queue.lock);
	}
	tp_bag_put(bag);
	return 0;
}

/* Sends may sleep for buffer space: room for that many at once. */
static struct kretprobe tp_unix_alloc_rp = {
	.kp.symbol_name = "sock_alloc_send_pskb",
	.kp.flags = KPROBE_FLAG_DISABLED,
	.entry_handler = tp_unix_alloc_entry,
	.handler = tp_unix_alloc_ret,
	.maxactive = 1024,
};

static struct kretprobe tp_unix_dgram_rp = {
	.kp.symbol_name = "__skb_try_recv_datagram",
	.kp.flags = KPROBE_FLAG_DISABLED,
	.entry_handler = tp_unix_dgram_entry,
	.handler = tp_unix_dgram_ret,
	.maxactive = 256,
};

static struct kretprobe *tp_unix_rps[] = {
	&tp_unix_alloc_rp,
	&tp_unix_dgram_rp,
};

/* The free probe first: no tag may outlive its buffer. */
static struct tp_kprobe tp_unix_kps[] = {
	TP_KPROBE("unix_wfree", tp_unix_free_pre, KPROBE_FLAG_DISABLED),
	TP_KPROBE("unix_stream_read_actor", tp_unix_stream_read_pre,
		  KPROBE_FLAG_DISABLED),
	TP_KPROBE("unix_stream_sendpage", tp_unix_sendpage_pre,
		  KPROBE_FLAG_DISABLED),
};

static long tp_unix_probe_misses(void)
{
	return tp_unix_alloc_rp.nmissed + tp_unix_dgram_rp.nmissed +
	       tp_kprobes_missed(tp_unix_kps, ARRAY_SIZE(tp_unix_kps));
}

/* The free probe armed first and disarmed last: no tag outlives its buffer. */
static void tp_unix_arm(bool on)
{
	int i;

	if (on)
		for (i = 0; i < ARRAY_SIZE(tp_unix_kps); i++)
			tp_transit_switch(&tp_unix_kps[i].kp, true);
	for (i = 0; i < ARRAY_SIZE(tp_unix_rps); i++)
		tp_transit_switch(&tp_unix_rps[i]->kp, on);
	if (!on)
		for (i = ARRAY_SIZE(tp_unix_kps) - 1; i >= 0; i--)
			tp_transit_switch(&tp_unix_kps[i].kp, false);
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
	int err = tp_register_kprobes(tp_unix_kps, ARRAY_SIZE(tp_unix_kps));

	if (err)
		return err;
	err = tp_register_kretprobes(tp_unix_rps, ARRAY_SIZE(tp_unix_rps));
	if (err) {
		tp_unregister_kprobes(tp_unix_kps, ARRAY_SIZE(tp_unix_kps));
		return err;
	}
	tp_transit_attach(&tp_unix_probes);
	return 0;
}

void tp_unix_exit(void)
{
	tp_transit_detach(&tp_unix_probes);
	unregister_kretprobes(tp_unix_rps, ARRAY_SIZE(tp_unix_rps));
	tp_unregister_kprobes(tp_unix_kps, ARRAY_SIZE(tp_unix_kps));
}
