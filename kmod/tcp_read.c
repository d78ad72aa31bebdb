// SPDX-License-Identifier: GPL-2.0
/*
 * A reader is credited with the baggage of exactly the bytes it consumed.
 *
 * tcp_cleanup_rbuf() runs at the end of every read of a TCP socket
 * (recvmsg, read, splice through tcp_read_sock()) and before a read
 * sleeps, with the socket locked and tp->copied_seq just past the bytes
 * consumed.  Each socket remembers up to where its readers were credited;
 * the bytes from there to copied_seq were consumed by the task running
 * now, which takes their baggage (tcp_rx.c) by its read policy
 * (credit.c: merged into its own, or replacing it; the change lands
 * before the read returns to the program).  A MSG_PEEK read does not move
 * copied_seq and credits nothing; several threads reading one socket at
 * once are each credited with what the socket lock let them read.
 *
 * Bytes that carry no baggage matter too, to a task whose policy is
 * replace: reading them leaves it with none.
 */

#include <linux/kprobes.h>
#include <linux/tracingplane.h>
#include <net/tcp.h>

#include "credit.h"
#include "netns.h"
#include "task.h"
#include "tcp.h"

/* What a read of @conn consumed since the last credit. */
enum tp_read_seen {
	TP_READ_NOTHING,	/* no byte */
	TP_READ_BYTES,		/* bytes, whose baggage is known */
	TP_READ_UNTRACKED,	/* the socket keeps no versions */
};

static enum tp_read_seen tp_read_take(struct tp_conn *conn, struct sock *sk,
				      struct tp_bag **bag)
{
	u32 to = READ_ONCE(tcp_sk(sk)->copied_seq);
	bool trimmed;

	if (!conn->nrx)
		return TP_READ_UNTRACKED;
	if (!after(to, conn->credited))
		return TP_READ_NOTHING;
	*bag = tp_rx_take(conn, conn->credited, to, &trimmed);
	conn->credited = to;
	if (trimmed)
		atomic_long_inc(&tp_tcp_stats.trims);
	return TP_READ_BYTES;
}

static enum tp_read_seen tp_read_socket(struct sock *sk, struct tp_bag **bag)
{
	enum tp_read_seen seen = TP_READ_UNTRACKED;
	struct tp_conn *conn;

	rcu_read_lock();
	conn = tp_conn_find(sk);
	if (conn && tp_net_enabled(sock_net(sk)) && tp_conn_lock(conn)) {
		seen = tp_read_take(conn, sk, bag);
		tp_conn_unlock(conn);
	}
	rcu_read_unlock();
	return seen;
}

/* Entry of tcp_cleanup_rbuf(sk, copied): socket locked, process context. */
static int tp_read_pre(struct kprobe *kp, struct pt_regs *regs)
{
	struct sock *sk = (struct sock *)regs_get_kernel_argument(regs, 0);
	int copied = (int)regs_get_kernel_argument(regs, 1);
	struct tp_bag *bag = NULL;

	/* No version anywhere, no task with baggage or a policy: nothing. */
	if (!tp_rx_busy() && !tp_task_count())
		return 0;
	switch (tp_read_socket(sk, &bag)) {
	case TP_READ_BYTES:
		tp_credit_reader(bag);
		break;
	case TP_READ_UNTRACKED:
		if (copied > 0 && tp_net_enabled(sock_net(sk)) &&
		    tp_task_read_policy(current) == TRACINGPLANE_READ_REPLACE)
			tp_credit_reader(NULL);
		break;
	case TP_READ_NOTHING:
		break;
	}
	return 0;
}

static struct kprobe tp_read_kp = {
	.symbol_name = "tcp_cleanup_rbuf",
	.pre_handler = tp_read_pre,
};

int tp_read_init(void)
{
	return register_kprobe(&tp_read_kp);
}

void tp_read_exit(void)
{
	unregister_kprobe(&tp_read_kp);
}
