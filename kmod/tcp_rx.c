// SPDX-License-Identifier: GPL-2.0
/*
 * Receive side: the baggage of each byte a socket receives.
 *
 * A fragment names its version by the sequence number of the version's
 * first byte (its segment's, minus back), says how long the version's
 * serialized baggage is and where its bytes go.  Versions are kept in
 * sequence order; a version covers the bytes from its start to the next
 * version's start, and bytes before the first one carry no baggage.
 *
 * Reassembly: a buffer of the announced size and a bitmap of the bytes
 * received, so fragments may come in any order and any number of times
 * (retransmissions).  A fragment that contradicts bytes already received,
 * or the announced size, is counted as malformed and dropped.  When every
 * byte is there the atom layer validates the buffer and it becomes an
 * immutable blob; a version that does not validate gives its readers the
 * overflow marker alone.
 *
 * A reader that consumed some bytes (tcp_read.c) takes the baggage of
 * every version they overlap: its blob when complete, otherwise the atoms
 * of the longest prefix received plus the overflow marker, exactly what
 * trim would have left.  Versions entirely consumed are freed.
 *
 * Bounds, all module parameters: tcp_max_ranges versions per socket,
 * tcp_sock_mem bytes per socket, tcp_mem_cap bytes for all sockets.  What
 * does not fit is dropped visibly: a version that cannot be recorded makes
 * the one before it lossy (its readers get the marker too), and baggage
 * bytes that cannot be kept leave their version incomplete.
 */

#include <linux/bitmap.h>
#include <linux/slab.h>
#include <net/tcp.h>

#include "atom.h"
#include "fault.h"
#include "limits.h"
#include "stats.h"
#include "tcp.h"

static atomic_long_t tp_rx_mem = ATOMIC_LONG_INIT(0);
static atomic_t tp_rx_versions = ATOMIC_INIT(0);

bool tp_rx_busy(void)
{
	return atomic_read(&tp_rx_versions) > 0;
}

static void tp_rx_charge(struct tp_conn *conn, struct tp_rxv *v, long bytes)
{
	v->mem += bytes;
	conn->rx_mem += bytes;
	atomic_long_add(bytes, &tp_rx_mem);
}

static size_t tp_rxv_buf_size(u32 kept)
{
	return ALIGN(kept, sizeof(long)) + BITS_TO_LONGS(kept) * sizeof(long);
}

static unsigned long *tp_rxv_map(const struct tp_rxv *v)
{
	return (unsigned long *)(v->buf + ALIGN(v->kept, sizeof(long)));
}

static bool tp_rxv_complete(const struct tp_rxv *v)
{
	return v->kept == v->total && v->have == v->total;
}

static void tp_rxv_free_buf(struct tp_conn *conn, struct tp_rxv *v)
{
	if (!v->buf)
		return;
	tp_rx_charge(conn, v, -(long)tp_rxv_buf_size(v->kept));
	kfree(v->buf);
	v->buf = NULL;
}

static void tp_rxv_drop(struct tp_conn *conn, struct tp_rxv *v)
{
	list_del(&v->node);
	conn->nrx--;
	atomic_dec(&tp_rx_versions);
	tp_rx_charge(conn, v, -(long)v->mem);
	kfree(v->buf);
	tp_bag_put(v->bag);
	kfree(v);
}

/*
 * Under the conn lock, after the versions changed.  The version holds a
 * reference to its bag, so the address cannot be reused for another
 * blob while it is there.
 */
static void tp_rx_note_sole(struct tp_conn *conn)
{
	const struct tp_rxv *v;
	const struct tp_bag *sole = NULL;

	if (conn->nrx == 1) {
		v = list_first_entry(&conn->rx, struct tp_rxv, node);
		if (tp_rxv_complete(v) && !v->lossy)
			sole = v->bag;
		WRITE_ONCE(conn->rx_sole_start, v->start);
	}
	WRITE_ONCE(conn->rx_sole, sole);
}

void tp_rx_free(struct tp_conn *conn)
{
	struct tp_rxv *v, *n;

	list_for_each_entry_safe(v, n, &conn->rx, node)
		tp_rxv_drop(conn, v);
	tp_rx_note_sole(conn);
}

/* What the per-socket and the global caps leave room for. */
static u64 tp_rx_room(const struct tp_conn *conn)
{
	u64 sock_cap = tp_tcp_sock_mem(), cap = tp_tcp_mem_cap();
	long all = atomic_long_read(&tp_rx_mem);

	return min(sock_cap > conn->rx_mem ? sock_cap - conn->rx_mem : 0,
		   cap > all ? cap - all : 0);
}

/*
 * How many of @total baggage bytes a new version keeps: no more than a
 * task may hold (max_bytes: its readers would trim the rest anyway), and
 * what the caps leave room for besides its record.
 */
static u32 tp_rx_fit(const struct tp_conn *conn, u32 total)
{
	u64 room = tp_rx_room(conn) - sizeof(struct tp_rxv);

	total = min(total, tp_limit_max_bytes());
	if (tp_rxv_buf_size(total) <= room)
		return total;
	/* A byte and a bit per kept byte, and a word of slack each side. */
	return room > 2 * sizeof(long) ?
	       (u32)((room - 2 * sizeof(long)) * 8 / 9) : 0;
}

static struct tp_rxv *tp_rxv_new(struct tp_conn *conn, u32 start, u32 total)
{
	/* Sizes the peer chooses: a failure is counted, not reported. */
	struct tp_rxv *v = tp_kmalloc(sizeof(*v),
				      GFP_ATOMIC | __GFP_NOWARN | __GFP_ZERO);
	size_t size;

	if (!v)
		goto nomem;
	v->start = start;
	v->total = total;
	v->kept = tp_rx_fit(conn, total);
	if (v->kept < total)
		atomic_long_inc(&tp_tcp_stats.overflows);
	size = tp_rxv_buf_size(v->kept);
	if (v->kept) {
		v->buf = tp_kmalloc(size, GFP_ATOMIC | __GFP_NOWARN);
		if (!v->buf) {
			kfree(v);
			goto nomem;
		}
		bitmap_zero(tp_rxv_map(v), v->kept);
	}
	tp_rx_charge(conn, v, sizeof(*v) + (v->buf ? size : 0));
	return v;

nomem:
	atomic_long_inc(&tp_stats.alloc_fails);
	return NULL;
}

/* The version starting at @start; NULL and where it would go if none. */
static struct tp_rxv *tp_rx_find(struct tp_conn *conn, u32 start,
				 struct list_head **pos)
{
	struct tp_rxv *v;

	list_for_each_entry(v, &conn->rx, node) {
		if (v->start == start)
			return v;
		if (after(v->start, start)) {
			*pos = &v->node;
			return NULL;
		}
	}
	*pos = &conn->rx;
	return NULL;
}

/* Past the per-socket cap, the version whose bytes these are loses. */
static void tp_rx_overflow(struct tp_conn *conn, struct list_head *pos)
{
	atomic_long_inc(&tp_tcp_stats.overflows);
	if (pos->prev != &conn->rx)
		list_entry(pos->prev, struct tp_rxv, node)->lossy = true;
}

/*
 * Keeps every version's start within 2^31 of the credit mark, where
 * sequence numbers compare right (past it they compare the other way).
 * The one version that may start before the mark (the one being read, or
 * the last) is moved up to TP_BAG_MAX_BYTES before it when further: no
 * fragment can name a start below that any more, as fragments ride on
 * bytes from the mark on and their back, a varint, is below
 * TP_BAG_MAX_BYTES.  Called on every filing and every locked read; the
 * lockless reads (tcp_read.c) stop short of 2^30 past the start.
 */
static void tp_rx_rebase(struct tp_conn *conn)
{
	u32 floor = conn->credited - TP_BAG_MAX_BYTES;
	struct tp_rxv *v;

	if (list_empty(&conn->rx))
		return;
	v = list_first_entry(&conn->rx, struct tp_rxv, node);
	if (after(floor, v->start))
		v->start = floor;
}

static struct tp_rxv *tp_rx_version(struct tp_conn *conn,
				    const struct sock *sk, u32 start, u32 total)
{
	struct list_head *pos;
	struct tp_rxv *v;

	tp_rx_rebase(conn);
	v = tp_rx_find(conn, start, &pos);

	if (v)
		return v;
	if (conn->nrx >= tp_tcp_max_ranges() ||
	    tp_rx_room(conn) < sizeof(struct tp_rxv)) {
		tp_rx_overflow(conn, pos);
		return NULL;
	}
	v = tp_rxv_new(conn, start, total);
	if (!v)
		return NULL;
	/* The first version: readers owe nothing for what they read so far. */
	if (!conn->nrx)
		WRITE_ONCE(conn->credited, READ_ONCE(tcp_sk(sk)->copied_seq));
	list_add_tail(&v->node, pos);
	conn->nrx++;
	atomic_inc(&tp_rx_versions);
	return v;
}

/* All bytes are in: the buffer becomes a blob, or garbage a lossy gap. */
static void tp_rxv_seal(struct tp_conn *conn, struct tp_rxv *v)
{
	int err = tp_bag_deserialize(v->buf, v->total, GFP_ATOMIC, &v->bag);

	if (err == TP_ATOM_ENOMEM) {
		atomic_long_inc(&tp_stats.alloc_fails);
		v->lossy = true;
	} else if (err) {
		atomic_long_inc(&tp_tcp_stats.malformed);
		v->lossy = true;
	} else {
		tp_rx_charge(conn, v, tp_bag_size(v->bag));
	}
	tp_rxv_free_buf(conn, v);
}

/* Does @f agree with what the version already holds? */
static bool tp_rxv_agrees(const struct tp_rxv *v, const struct tp_opt_frag *f,
			  u32 end)
{
	const unsigned long *map = tp_rxv_map(v);
	u32 i;

	for (i = f->off; i < end; i++)
		if (test_bit(i, map) && v->buf[i] != f->data[i - f->off])
			return false;
	return true;
}

static void tp_rxv_fill(struct tp_conn *conn, struct tp_rxv *v,
			const struct tp_opt_frag *f)
{
	u32 end = min(f->off + f->len, v->kept);
	unsigned long *map;
	u32 i;

	if (tp_rxv_complete(v) || !v->buf)
		return;
	if (!tp_rxv_agrees(v, f, end)) {
		atomic_long_inc(&tp_tcp_stats.malformed);
		return;
	}
	map = tp_rxv_map(v);
	for (i = f->off; i < end; i++) {
		if (__test_and_set_bit(i, map))
			continue;
		v->buf[i] = f->data[i - f->off];
		v->have++;
	}
	if (tp_rxv_complete(v))
		tp_rxv_seal(conn, v);
}

static void tp_rx_file(struct tp_conn *conn, const struct sock *sk, u32 seq,
		       const struct tp_opt_frag *frag)
{
	const struct tcp_sock *tp = tcp_sk(sk);
	u32 window = max(READ_ONCE(tp->rcv_wnd), 1U);
	struct tp_rxv *v;

	/* Already read: a retransmission, of nothing a reader still needs. */
	if (before(seq, READ_ONCE(tp->copied_seq)))
		return;
	/* TCP will not take it either: forged, or from another connection. */
	if (!before(seq, READ_ONCE(tp->rcv_nxt) + window)) {
		atomic_long_inc(&tp_tcp_stats.malformed);
		return;
	}
	v = tp_rx_version(conn, sk, seq - frag->back, frag->total);
	if (!v)
		return;
	if (v->total != frag->total) {
		atomic_long_inc(&tp_tcp_stats.malformed);
		return;
	}
	atomic_long_inc(&tp_tcp_stats.opts_rcvd);
	tp_rxv_fill(conn, v, frag);
}

void tp_rx_attach(struct tp_conn *conn, const struct sock *sk, u32 seq,
		  const struct tp_opt_frag *frag)
{
	tp_rx_file(conn, sk, seq, frag);
	tp_rx_note_sole(conn);
}

/* The atoms of the longest received prefix of an incomplete version. */
static struct tp_bag *tp_rxv_prefix(const struct tp_rxv *v)
{
	u32 have = v->buf ? find_first_zero_bit(tp_rxv_map(v), v->kept) : 0;
	struct tp_bag *bag = NULL;
	u32 pos = 0, len;
	int n;

	while (pos < have) {
		n = tp_varint_get(v->buf + pos, have - pos, &len);
		if (n <= 0 || len > have - pos - n)
			break;
		pos += n + len;
	}
	if (tp_bag_deserialize(v->buf, pos, GFP_ATOMIC, &bag) == TP_ATOM_ENOMEM)
		atomic_long_inc(&tp_stats.alloc_fails);
	return bag;
}

/* Merges @part (consumed) into *@acc; on failure *@acc stays as it was. */
static void tp_rx_merge(struct tp_bag **acc, struct tp_bag *part)
{
	struct tp_bag *merged;

	/* The first part read, and most often the only one. */
	if (!*acc) {
		*acc = part;
		return;
	}
	if (tp_bag_merge(*acc, part, GFP_ATOMIC, &merged)) {
		atomic_long_inc(&tp_stats.alloc_fails);
	} else {
		tp_bag_put(*acc);
		*acc = merged;
	}
	tp_bag_put(part);
}

/*
 * The baggage holding only the overflow marker, made when needed: a blob
 * kept for the module's life would keep the live counters off zero.
 */
static struct tp_bag *tp_rx_marker(void)
{
	static const u8 marker[] = { 0 };
	struct tp_bag *bag = NULL;

	if (tp_bag_deserialize(marker, sizeof(marker), GFP_ATOMIC, &bag))
		atomic_long_inc(&tp_stats.alloc_fails);
	return bag;
}

/*
 * What a reader of @v's bytes gets.  The same context back off the wire
 * is a different blob with the same bytes as the reader's own, @mine,
 * which then takes its place: blobs are immutable, and equal ones are
 * the same baggage.
 */
static void tp_rxv_take(struct tp_rxv *v, struct tp_bag *mine,
			struct tp_bag **acc, bool *trimmed)
{
	if (tp_rxv_complete(v) && !v->lossy) {
		if (mine && v->bag != mine && tp_bag_equal(v->bag, mine)) {
			tp_bag_put(v->bag);
			v->bag = tp_bag_get(mine);
		}
		tp_rx_merge(acc, tp_bag_get(v->bag));
		return;
	}
	*trimmed = true;
	tp_rx_merge(acc, tp_rxv_complete(v) ? tp_bag_get(v->bag) :
					      tp_rxv_prefix(v));
	tp_rx_merge(acc, tp_rx_marker());
}

struct tp_bag *tp_rx_take(struct tp_conn *conn, u32 from, u32 to,
			  struct tp_bag *mine, bool *trimmed)
{
	struct tp_rxv *v, *n;
	struct tp_bag *acc = NULL;
	bool last;

	*trimmed = false;
	tp_rx_rebase(conn);
	list_for_each_entry_safe(v, n, &conn->rx, node) {
		if (!before(v->start, to))
			break;
		last = list_is_last(&v->node, &conn->rx);
		if (last || after(n->start, from))
			tp_rxv_take(v, mine, &acc, trimmed);
		/* Entirely read: no byte of it is left for anyone. */
		if (!last && !after(n->start, to))
			tp_rxv_drop(conn, v);
	}
	tp_rx_note_sole(conn);
	return acc;
}
