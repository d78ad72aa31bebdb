/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Baggage across TCP connections: what the tcp_*.c files share.
 *
 *  tcp_param.c  module parameters: option kind and ExID, per-socket and
 *               global caps
 *  tcp_opt.c    the option's encoder and parser (tcp_opt.h)
 *  tcp_conn.c   per-connection state, keyed by socket, and its lifetime
 *  tcp_syn.c    capability negotiation in the three-way handshake
 *  tcp_tx.c     send side: baggage versions by sequence number
 *  tcp_seg.c    segment surgery: grow a TCP header, cut a segment
 *  tcp_out.c    the LOCAL_OUT hook: options onto outgoing segments
 *  tcp_rx.c     receive side: fragments reassembled by sequence number
 *  tcp_in.c     the LOCAL_IN hook and the new-child probe: options off
 *               incoming segments
 *  tcp_read.c   a reader is credited with the baggage of what it read
 *  tcp.c        init and exit, counters
 *
 * The design is in Documentation/design.rst, the bytes on the wire in
 * Documentation/wire-format.rst.
 */
#ifndef TP_TCP_H
#define TP_TCP_H

#include <linux/list.h>
#include <linux/netfilter.h>
#include <linux/rhashtable-types.h>
#include <linux/spinlock.h>

#include "task.h"
#include "tcp_opt.h"

struct sock;
struct tp_bag;

/* ---- tcp_param.c ---------------------------------------------------------- */

struct tp_opt_id tp_tcp_opt_id(void);
u32 tp_tcp_max_ranges(void);
u32 tp_tcp_sock_mem(void);
u64 tp_tcp_mem_cap(void);

/* ---- tcp.c: event counters of STATUS ------------------------------------------ */

struct tp_tcp_stats {
	atomic_long_t negotiated;	/* sockets whose peer speaks baggage */
	atomic_long_t opts_sent;	/* fragments sent */
	atomic_long_t opts_rcvd;	/* fragments accepted */
	atomic_long_t bytes_sent;	/* baggage bytes sent in fragments */
	atomic_long_t splits;		/* extra segments cut to carry fragments */
	atomic_long_t trims;		/* reads credited with an incomplete baggage */
	atomic_long_t malformed;	/* options of ours dropped as malformed */
	atomic_long_t overflows;	/* fragments or versions dropped at a cap */
};

extern struct tp_tcp_stats tp_tcp_stats;

int tp_tcp_init(void);
void tp_tcp_exit(void);
/* The TCP attributes of a STATUS reply, for a caller in @net. */
int tp_tcp_nl_status(struct sk_buff *msg, const struct net *net);

/* ---- tcp_conn.c ---------------------------------------------------------------- */

/* One version of the baggage a socket sends, from sequence number @start on. */
struct tp_txv {
	struct list_head node;
	u32 start;		/* first byte written with this baggage */
	u32 frags;		/* fragments, anchored at start .. start + frags - 1 */
	u32 fsize;		/* baggage bytes per fragment */
	bool settled;		/* every anchor acknowledged */
	struct tp_bag *bag;	/* NULL: the empty baggage */
};

/* One version of the baggage a socket receives. */
struct tp_rxv {
	struct list_head node;
	u32 start;		/* sequence number of its first byte */
	u32 total;		/* serialized size the sender announced */
	u32 kept;		/* bytes of it we have room for (<= total) */
	u32 have;		/* bytes of those received */
	u32 mem;		/* bytes charged for it */
	bool lossy;		/* something was dropped: readers get the marker */
	struct tp_bag *bag;	/* the baggage, once complete */
	u8 *buf;		/* until then: kept bytes, then a bitmap of them */
};

struct tp_conn {
	struct rhash_head node;
	const struct sock *sk;
	spinlock_t lock;
	bool dead;		/* the socket was destroyed */
	bool peer;		/* the peer speaks baggage: options may be sent */
	struct list_head tx;	/* struct tp_txv, by start */
	/* The newest version's bag, to compare without the lock. */
	const struct tp_bag *tx_newest;
	/* A writer that carried tx_newest (tcp_tx.c; under the socket's lock). */
	struct tp_task_seen tx_seen;
	u32 ntx;
	struct list_head rx;	/* struct tp_rxv, by start */
	u32 nrx;
	u32 rx_mem;		/* bytes held for rx versions */
	u32 credited;		/* readers were credited up to this sequence */
	/*
	 * The bag of the sole version, when it is complete and whole:
	 * readers compare it without the lock (tcp_read.c).
	 */
	const struct tp_bag *rx_sole;
	u32 rx_sole_start;	/* and that version's start */
	/* A reader that merges and held rx_sole (tcp_read.c; socket locked). */
	struct tp_task_seen rx_seen;
	struct rcu_head rcu;
};

int tp_conn_init(void);
void tp_conn_exit(void);
/* Under rcu_read_lock(): the state of @sk, or NULL. */
struct tp_conn *tp_conn_find(const struct sock *sk);
/* Under rcu_read_lock(): the state of @sk, created if need be. */
struct tp_conn *tp_conn_open(struct sock *sk);
/* Takes @conn's lock; false (and not locked) once its socket is gone. */
bool tp_conn_lock(struct tp_conn *conn);
void tp_conn_unlock(struct tp_conn *conn);
long tp_conn_count(void);

/* ---- tcp_syn.c ------------------------------------------------------------------- */

struct tcphdr;

void tp_syn_init(void);
/* LOCAL_IN: the SYN @skb, whose TCP header is @th, offered baggage. */
void tp_syn_note(const struct net *net, const struct sk_buff *skb,
		 const struct tcphdr *th, bool v6);
/*
 * LOCAL_OUT: does the SYN-ACK @skb reply to a SYN that offered?  If so,
 * records whether it carries the answer.
 */
bool tp_syn_answer(const struct net *net, const struct sk_buff *skb,
		   const struct tcphdr *th, bool v6, bool answered);
/*
 * TCP just created the server's socket @child (locked): did the
 * connection's SYN offer, and a SYN-ACK answer?  The SYN is forgotten.
 */
bool tp_syn_offered(struct sock *child);
/* Under rcu_read_lock(): records that @sk's peer speaks baggage. */
void tp_syn_negotiated(struct sock *sk);

/* ---- tcp_tx.c ---------------------------------------------------------------------- */

int tp_tx_init(void);
void tp_tx_exit(void);
void tp_tx_free(struct tp_conn *conn);
/* May any segment need an option: are there unsettled versions? */
bool tp_tx_busy(void);

/* The fragment anchored at a sequence number. */
struct tp_anchor {
	const struct tp_txv *v;
	u32 index;
};

/* Under the conn lock: forgets versions whose anchors are all acked. */
void tp_tx_prune(struct tp_conn *conn, u32 snd_una);
/* Under the conn lock: the fragment anchored at @seq, if any. */
bool tp_tx_anchor(struct tp_conn *conn, u32 seq, struct tp_anchor *a);
/* Under the conn lock: the first anchor in (@seq, @end), or @end. */
u32 tp_tx_next_anchor(struct tp_conn *conn, u32 seq, u32 end);
/* The option of fragment @a for a segment starting at its anchor. */
void tp_tx_frag(const struct tp_anchor *a, struct tp_opt_frag *frag);

/* ---- tcp_seg.c ---------------------------------------------------------------------- */

/* Where the headers of a TCP/IP packet are, relative to skb->data. */
struct tp_seg {
	unsigned int thoff;	/* TCP header */
	unsigned int thlen;	/* TCP header length, options included */
	unsigned int tcplen;	/* the length TCP's pseudo-header sum is of */
	bool v6;
};

/* Appends an option to the TCP header; updates @seg. */
int tp_seg_grow(struct sk_buff *skb, struct tp_seg *seg, const u8 *opt,
		unsigned int len);
/* Cuts @skb after @len payload bytes; returns the rest, or NULL. */
struct sk_buff *tp_seg_split(struct sk_buff *skb, const struct tp_seg *seg,
			     unsigned int len);
/* Lengths, checksums and GSO fields after surgery. */
void tp_seg_finish(struct sk_buff *skb, const struct tp_seg *seg);

/* ---- tcp_out.c, tcp_in.c: the netfilter hooks ------------------------------------ */

unsigned int tp_out_hook(void *priv, struct sk_buff *skb,
			 const struct nf_hook_state *state);
unsigned int tp_in_hook(void *priv, struct sk_buff *skb,
			const struct nf_hook_state *state);
int tp_in_init(void);
void tp_in_exit(void);

/* ---- tcp_rx.c ------------------------------------------------------------------------ */

void tp_rx_free(struct tp_conn *conn);
bool tp_rx_busy(void);
/* Under the conn lock: files a fragment that came on segment @seq. */
void tp_rx_attach(struct tp_conn *conn, const struct sock *sk, u32 seq,
		  const struct tp_opt_frag *frag);
/*
 * Under the conn lock: the baggage of the bytes [@from, @to) (a new
 * reference, NULL if empty); *@trimmed when some of it is missing.  The
 * reader's own baggage @mine takes the place of an equal copy of it, so
 * that the reader's next credits compare pointers, not bytes.
 */
struct tp_bag *tp_rx_take(struct tp_conn *conn, u32 from, u32 to,
			  struct tp_bag *mine,
			  bool *trimmed);

/* ---- tcp_read.c ---------------------------------------------------------------------- */

int tp_read_init(void);
void tp_read_exit(void);

#endif /* TP_TCP_H */
