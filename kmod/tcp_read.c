// SPDX-License-Identifier: GPL-2.0
/*
 * A reader is credited with the baggage of exactly the bytes it consumed.
 *
 * The tcp_rcv_space_adjust tracepoint fires in every read of a TCP socket
 * (recvmsg and read after each buffer copied, splice through
 * tcp_read_sock(), tcp_read_done(), zerocopy receive), with the socket
 * locked and tp->copied_seq just past the bytes consumed.  A tracepoint,
 * not a kprobe on tcp_cleanup_rbuf(): it costs a function call where a
 * kprobe costs a trip through ftrace's register-saving trampoline, and it
 * fires on every read whether or not anything carries baggage.
 *
 * It also fires where no task reads: in softirq or a kernel thread
 * (strparser, kTLS receiving ahead), and for sockets in a BPF sockmap,
 * whose verdict programs consume bytes from whichever task released the
 * socket lock.  Those are left alone, their bytes credited to the next
 * task that reads the socket.  MPTCP subflows never fire it (MPTCP
 * adjusts its own receive space): they are not covered.
 *
 * Each socket remembers up to where its readers were credited;
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

#include <linux/skmsg.h>
#include <linux/sizes.h>
#include <linux/tracepoint.h>
#include <linux/tracingplane.h>
#include <net/tcp.h>
#include <trace/events/tcp.h>

#include "credit.h"
#include "netns.h"
#include "task.h"
#include "tcp.h"
#include "tracepoints.h"

/* What a read of @conn consumed since the last credit. */
enum tp_read_seen {
	TP_READ_NOTHING,	/* no byte */
	TP_READ_BYTES,		/* bytes, whose baggage is known */
	TP_READ_UNTRACKED,	/* the socket keeps no versions */
};

static enum tp_read_seen tp_read_take(struct tp_conn *conn, struct sock *sk,
				      struct tp_bag *mine, struct tp_bag **bag)
{
	u32 to = READ_ONCE(tcp_sk(sk)->copied_seq);
	bool trimmed, moved;

	/*
	 * Kept up to date without versions too, so that a read that
	 * consumed nothing (a splice that found no data) is not taken for
	 * one that read bytes without baggage.
	 */
	if (!conn->nrx) {
		moved = to != conn->credited;
		conn->credited = to;
		return moved ? TP_READ_UNTRACKED : TP_READ_NOTHING;
	}
	if (!after(to, conn->credited))
		return TP_READ_NOTHING;
	*bag = tp_rx_take(conn, conn->credited, to, mine, &trimmed);
	conn->credited = to;
	if (trimmed)
		atomic_long_inc(&tp_tcp_stats.trims);
	return TP_READ_BYTES;
}

/* The task reading. */
struct tp_reader {
	bool looked;		/* then mine and policy are set: */
	struct tp_bag *mine;	/* its baggage, a reference */
	u8 policy;
};

static void tp_reader_look(struct tp_reader *r)
{
	if (!r->looked) {
		r->mine = tp_task_get(current, &r->policy);
		r->looked = true;
	}
}

/*
 * A reader that merges and reads bytes of a sole version holding its very
 * blob changes nothing, and only moves the credit mark.  Without the conn
 * lock: the readers of a socket, who alone write the rx_seen fields, are
 * serialized by the socket's lock; the mark is written by readers and by
 * the filing of a first version, which cannot happen while rx_sole is
 * set; and a version filed for the bytes read would show in rx_sole
 * (tcp_rx.c files it before TCP queues them).  The reader that found so
 * is remembered: while no task's baggage changes and the sole version
 * stays, its next reads of the socket need not look it up.
 */
static bool tp_read_unchanged(struct tp_conn *conn, struct sock *sk)
{
	const struct tp_bag *sole = READ_ONCE(conn->rx_sole);
	u32 to = READ_ONCE(tcp_sk(sk)->copied_seq);

	/*
	 * Not before the version's start, and not a gigabyte past it either:
	 * a locked read then rebases it (tcp_rx.c), before sequence numbers
	 * wrap.  The start may be a newer version's, read apart from @sole:
	 * the margin is wide enough for that.
	 */
	if (!sole || to - READ_ONCE(conn->rx_sole_start) >= SZ_1G)
		return false;
	/* The version is an argument: read before the task is looked up. */
	if (!tp_task_seen_test(&conn->rx_seen, tp_task_version(), sole,
			       tp_task_holds))
		return false;
	WRITE_ONCE(conn->credited, to);
	return true;
}

static enum tp_read_seen tp_read_socket(struct sock *sk, struct tp_reader *r,
					struct tp_bag **bag)
{
	enum tp_read_seen seen = TP_READ_UNTRACKED;
	struct tp_conn *conn;

	rcu_read_lock();
	/*
	 * In a sockmap (the psock hangs from the RCU-protected
	 * sk_user_data), reads come from the psock's queue: not covered.
	 */
	if (sk_psock(sk)) {
		rcu_read_unlock();
		return TP_READ_NOTHING;
	}
	conn = tp_conn_find(sk);
	if (conn && tp_net_enabled(sock_net(sk))) {
		if (tp_read_unchanged(conn, sk)) {
			seen = TP_READ_NOTHING;
		} else if (tp_conn_lock(conn)) {
			tp_reader_look(r);
			seen = tp_read_take(conn, sk, r->mine, bag);
			tp_conn_unlock(conn);
		}
	}
	rcu_read_unlock();
	return seen;
}

static struct tracepoint *tp_read_tp;

/* tcp_rcv_space_adjust(sk): the socket is locked. */
static void tp_read_probe(void *data, struct sock *sk)
{
	struct tp_reader r = { .looked = false };
	struct tp_bag *bag = NULL;

	/* No version anywhere, no task with baggage or a policy: nothing. */
	if (!tp_rx_busy() && !tp_task_count())
		return;
	if (!in_task() || (current->flags & (PF_KTHREAD | PF_IO_WORKER)))
		return;
	switch (tp_read_socket(sk, &r, &bag)) {
	case TP_READ_BYTES:
		/* Known here: tp_credit_reader() need not look it up. */
		if (tp_task_credit_moot(r.mine, r.policy, bag))
			tp_bag_put(bag);
		else
			tp_credit_reader(bag);
		break;
	case TP_READ_UNTRACKED:
		tp_reader_look(&r);
		if (tp_net_enabled(sock_net(sk)) &&
		    r.policy == TRACINGPLANE_READ_REPLACE)
			tp_credit_reader(NULL);
		break;
	case TP_READ_NOTHING:
		break;
	}
	tp_bag_put(r.mine);
}

int tp_read_init(void)
{
	check_trace_callback_type_tcp_rcv_space_adjust(tp_read_probe);
	tp_read_tp = tp_tracepoint_find("tcp_rcv_space_adjust");
	if (!tp_read_tp)
		return -ENOENT;
	return tracepoint_probe_register(tp_read_tp, tp_read_probe, NULL);
}

void tp_read_exit(void)
{
	tracepoint_probe_unregister(tp_read_tp, tp_read_probe, NULL);
	/* No probe is still running, on any CPU, past this point. */
	tracepoint_synchronize_unregister();
}
