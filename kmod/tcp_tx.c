// SPDX-License-Identifier: GPL-2.0
/*
 * Send side: with which baggage each byte a socket sends was written.
 *
 * At every write to a negotiated socket (tcp_sendmsg_locked() and
 * do_tcp_sendpages(), which run with the socket locked before any byte of
 * the write is queued, let alone sent) the writer's baggage is compared
 * with the socket's newest version; if it differs, a new version starts at
 * tp->write_seq, the sequence number of the write's first byte.  The
 * version holds a reference to the writer's immutable blob: branching
 * copies nothing.
 *
 * A version of T serialized bytes travels in fragments of fsize bytes, and
 * fragment i rides on the segment that starts at sequence number
 * start + i (tcp_out.c cuts segments so that it exists), as long as that
 * byte still belongs to the version: a version shorter than its fragment
 * count loses the rest, and the receiver credits a trimmed baggage.  The
 * option of a segment is a function of its sequence number only, so a
 * retransmission carries what the original carried.
 *
 * A version is forgotten once the peer acknowledged all its anchors,
 * except the newest, which the next write compares against.
 */

#include <linux/slab.h>
#include <net/tcp.h>

#include "atom.h"
#include "fault.h"
#include "ftrace_hook.h"
#include "netns.h"
#include "stats.h"
#include "task.h"
#include "tcp.h"
#include "transit.h"

/*
 * Versions with anchors not yet acknowledged: when 0, no segment needs
 * an option and LOCAL_OUT looks no further.
 */
static atomic_t tp_tx_work = ATOMIC_INIT(0);
/*
 * Connections whose newest version holds baggage: their next write, even
 * one without, must be seen (it starts the empty version).  When 0, a
 * write without baggage changes nothing anywhere.
 */
static atomic_t tp_tx_carrying = ATOMIC_INIT(0);

bool tp_tx_busy(void)
{
	return atomic_read(&tp_tx_work) > 0;
}

static void tp_txv_settle(struct tp_txv *v)
{
	if (!v->settled) {
		v->settled = true;
		atomic_dec(&tp_tx_work);
	}
}

static struct tp_txv *tp_tx_newest(struct tp_conn *conn)
{
	if (list_empty(&conn->tx))
		return NULL;
	return list_last_entry(&conn->tx, struct tp_txv, node);
}

/*
 * Under the conn lock, after the newest version changed.  The version
 * holds a reference to its bag, so the address cannot be reused for
 * another blob while it is there.
 */
static void tp_tx_note_newest(struct tp_conn *conn)
{
	const struct tp_txv *v = tp_tx_newest(conn);
	const struct tp_bag *bag = v ? v->bag : NULL;

	if (bag == conn->tx_newest)
		return;
	WRITE_ONCE(conn->tx_newest, bag);
}

static void tp_txv_drop(struct tp_conn *conn, struct tp_txv *v)
{
	list_del(&v->node);
	conn->ntx--;
	tp_txv_settle(v);
	tp_bag_put(v->bag);
	kfree(v);
	tp_tx_note_newest(conn);
}

/* Under the conn lock. */
static bool tp_tx_carries(struct tp_conn *conn)
{
	const struct tp_txv *v = tp_tx_newest(conn);

	return v && v->bag;
}

/* Under the conn lock: @conn carried baggage (@was), and now? */
static void tp_tx_count_carrying(struct tp_conn *conn, bool was)
{
	bool now = tp_tx_carries(conn);

	if (now && !was)
		atomic_inc(&tp_tx_carrying);
	else if (was && !now)
		atomic_dec(&tp_tx_carrying);
}

void tp_tx_free(struct tp_conn *conn)
{
	bool was = tp_tx_carries(conn);
	struct tp_txv *v, *n;

	list_for_each_entry_safe(v, n, &conn->tx, node)
		tp_txv_drop(conn, v);
	tp_tx_count_carrying(conn, was);
}

/* Option bytes a data segment of @sk has free besides timestamps. */
static u32 tp_tx_room(const struct sock *sk)
{
	return TP_OPT_SPACE -
	       (tcp_sk(sk)->tcp_header_len - sizeof(struct tcphdr));
}

/* A new version from @start on, holding @bag (consumed). */
static struct tp_txv *tp_txv_new(const struct sock *sk, u32 start,
				 struct tp_bag *bag)
{
	u32 total = tp_bag_size(bag);
	struct tp_txv *v = tp_kmalloc(sizeof(*v), GFP_ATOMIC);

	if (!v) {
		atomic_long_inc(&tp_stats.alloc_fails);
		tp_bag_put(bag);
		return NULL;
	}
	v->start = start;
	v->settled = false;
	v->bag = bag;
	/* The empty baggage is one fragment without data. */
	v->fsize = total ? tp_opt_frag_size(tp_tx_room(sk), total) : 0;
	v->frags = total ? DIV_ROUND_UP(total, max(v->fsize, 1u)) : 1;
	if (total && !v->fsize)
		v->frags = 0;
	return v;
}

/* Records that the bytes written from now on carry @bag (consumed). */
static void tp_tx_write(struct tp_conn *conn, struct sock *sk,
			struct tp_bag *bag)
{
	u32 seq = READ_ONCE(tcp_sk(sk)->write_seq);
	struct tp_txv *last = tp_tx_newest(conn), *v;

	/*
	 * A version no byte was written with never existed.  A settled one
	 * had bytes: its start is that of a write 2^32 bytes ago.
	 */
	if (last && !last->settled && last->start == seq) {
		tp_txv_drop(conn, last);
		last = tp_tx_newest(conn);
	}
	if (tp_bag_equal(last ? last->bag : NULL, bag)) {
		tp_bag_put(bag);
		return;
	}
	v = tp_txv_new(sk, seq, bag);
	if (!v)
		return;
	list_add_tail(&v->node, &conn->tx);
	conn->ntx++;
	tp_tx_note_newest(conn);
	atomic_inc(&tp_tx_work);
	if (conn->ntx > tp_tcp_max_ranges()) {
		/* Its unacknowledged fragments are lost: readers see a trim. */
		tp_txv_drop(conn, list_first_entry(&conn->tx, struct tp_txv,
						   node));
		atomic_long_inc(&tp_tcp_stats.overflows);
	}
}

/* The end of @v's anchors: its fragments, cut short by the next version. */
static u32 tp_txv_anchor_end(struct tp_conn *conn, const struct tp_txv *v)
{
	const struct tp_txv *next;

	if (list_is_last(&v->node, &conn->tx))
		return v->start + v->frags;
	next = list_next_entry(v, node);
	return v->start + min(v->frags, next->start - v->start);
}

/*
 * The newest version stays, settled, for the next write to compare
 * against; the others go.  A settled version is done whatever its
 * sequence numbers say: 2^31 bytes later they compare the wrong way.
 */
void tp_tx_prune(struct tp_conn *conn, u32 snd_una)
{
	struct tp_txv *v, *n;

	list_for_each_entry_safe(v, n, &conn->tx, node) {
		if (!v->settled && after(tp_txv_anchor_end(conn, v), snd_una))
			break;
		if (list_is_last(&v->node, &conn->tx))
			tp_txv_settle(v);
		else
			tp_txv_drop(conn, v);
	}
}

bool tp_tx_anchor(struct tp_conn *conn, u32 seq, struct tp_anchor *a)
{
	const struct tp_txv *v;

	list_for_each_entry(v, &conn->tx, node) {
		if (v->settled)
			continue;
		if (before(seq, v->start))
			break;
		if (before(seq, tp_txv_anchor_end(conn, v))) {
			a->v = v;
			a->index = seq - v->start;
			return true;
		}
	}
	return false;
}

u32 tp_tx_next_anchor(struct tp_conn *conn, u32 seq, u32 end)
{
	const struct tp_txv *v;
	u32 want = seq + 1, first, stop;

	list_for_each_entry(v, &conn->tx, node) {
		if (v->settled)
			continue;
		stop = tp_txv_anchor_end(conn, v);
		if (!before(want, stop))
			continue;
		first = after(v->start, want) ? v->start : want;
		return before(first, end) ? first : end;
	}
	return end;
}

void tp_tx_frag(const struct tp_anchor *a, struct tp_opt_frag *frag)
{
	const struct tp_txv *v = a->v;
	u32 total = tp_bag_size(v->bag);

	frag->back = a->index;
	frag->total = total;
	frag->off = a->index * v->fsize;
	frag->len = total ? min(v->fsize, total - frag->off) : 0;
	frag->data = total ? v->bag->data + frag->off : NULL;
}

/*
 * Does the writer carry the very blob of the newest version?  Then the
 * write changes nothing.  Writes to a socket are serialized by its lock,
 * which the caller holds, and so are the tx_seen fields: the writer that
 * found so is remembered, and while no task's baggage changes (@ver) its
 * next writes need not look it up.
 */
static bool tp_tx_unchanged(struct tp_conn *conn)
{
	return tp_task_seen_test(&conn->tx_seen, tp_task_version(),
				 READ_ONCE(conn->tx_newest), tp_task_carries);
}

/* Entry of tcp_sendmsg_locked() and do_tcp_sendpages(): socket locked. */
static void tp_tx_write_hook(struct pt_regs *args)
{
	struct sock *sk = (struct sock *)regs_get_kernel_argument(args, 0);
	struct tp_bag *bag;
	struct tp_conn *conn;

	/*
	 * A kernel thread pushing what a task wrote (kTLS's deferred
	 * records, a sockmap's backlog) or an io_uring worker has no
	 * baggage of its own: its bytes keep the newest version's.
	 */
	if (current->flags & (PF_KTHREAD | PF_IO_WORKER))
		return;
	/* No baggage here, none in any newest version: nothing changes. */
	if (!atomic_read(&tp_tx_carrying) && tp_task_carries(current, NULL))
		return;
	rcu_read_lock();
	conn = tp_conn_find(sk);
	if (!conn || !READ_ONCE(conn->peer) || !tp_net_enabled(sock_net(sk)) ||
	    tp_tx_unchanged(conn))
		goto out;
	bag = tp_task_bag(current);
	if (tp_conn_lock(conn)) {
		bool was = tp_tx_carries(conn);

		tp_tx_write(conn, sk, bag);
		tp_tx_count_carrying(conn, was);
		bag = NULL;
		tp_conn_unlock(conn);
	}
	tp_bag_put(bag);
out:
	rcu_read_unlock();
}

static struct tp_hook tp_tx_hooks[] = {
	TP_HOOK("tcp_sendmsg_locked", tp_tx_write_hook),
	TP_HOOK("do_tcp_sendpages", tp_tx_write_hook),
};

static void tp_tx_arm(bool on)
{
	tp_hooks_switch(tp_tx_hooks, ARRAY_SIZE(tp_tx_hooks), on);
}

/* A connection whose newest version holds baggage keeps them armed. */
static bool tp_tx_holding(void)
{
	return atomic_read(&tp_tx_carrying) > 0;
}

/*
 * Armed only while baggage may exist (transit.h): with none anywhere,
 * every write sends the empty baggage and needs no look.
 */
static struct tp_transit_probes tp_tx_probes = {
	.arm = tp_tx_arm,
	.busy = tp_tx_holding,
};

int tp_tx_init(void)
{
	int err = tp_hooks_add(tp_tx_hooks, ARRAY_SIZE(tp_tx_hooks));

	if (!err)
		tp_transit_attach(&tp_tx_probes);
	return err;
}

void tp_tx_exit(void)
{
	tp_transit_detach(&tp_tx_probes);
}
