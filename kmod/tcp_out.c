// SPDX-License-Identifier: GPL-2.0
/*
 * The LOCAL_OUT hook: options onto the segments this host sends.
 *
 * TCP's option writer (tcp_options_write() and tcp_established_options())
 * is static and inlined in 6.1, and its only extension point runs BPF
 * sock_ops programs; so the option is added after TCP built a segment, at
 * the first netfilter hook the segment meets:
 *
 *  - the SYN of a TCP socket gets the capability option, and a SYN-ACK
 *    gets it when it answers a SYN that had it (tcp_syn.c);
 *  - a segment of a negotiated socket is cut so that every anchor
 *    (tcp_tx.c) starts a piece, and each anchored piece carries its
 *    fragment.
 *
 * MSS: instead of lowering a socket's MSS for its whole life, the way IP
 * options and CIPSO do through icsk_ext_hdr_len, a piece that carries an
 * option carries that many fewer payload bytes.  TCP's budget for one
 * segment (tp->tcp_header_len header bytes and tp->mss_cache payload
 * bytes, which already account for the path MTU, the peer's MSS and IP
 * options) is never exceeded, so no piece is larger than the path or the
 * peer allow, and every segment without an option keeps the full MSS.
 * An anchored piece is one segment, never a GSO packet, so that no NIC
 * copies its option onto other segments.
 *
 * Cut pieces are sent with ip_local_out()/ip6_local_out() and the segment
 * TCP gave us is stolen.  Our hook runs first, so the pieces traverse
 * every hook as ordinary packets, ours included, which lets them pass: a
 * per-CPU flag marks our own sends.  They are sent with bottom halves
 * disabled, so that on loopback and veth the receiver takes them all in
 * one batch.
 */

#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/percpu.h>
#include <net/ip.h>
#include <net/ipv6.h>
#include <net/tcp.h>

#include "tcp.h"

static DEFINE_PER_CPU(bool, tp_out_busy);

/* One piece of a segment: its payload and the option it carries. */
struct tp_out_piece {
	u32 len;
	u32 fraglen;		/* baggage bytes in it */
	unsigned int optlen;
	u8 opt[TP_OPT_SPACE];
};

static struct tcphdr *tp_out_th(struct sk_buff *skb, const struct tp_seg *seg)
{
	return (struct tcphdr *)(skb->data + seg->thoff);
}

static bool tp_out_tcp_sock(const struct sock *sk)
{
	return sk && sk_fullsock(sk) && sk->sk_protocol == IPPROTO_TCP &&
	       sk->sk_type == SOCK_STREAM;
}

/*
 * Longest packet whose IP header can state its length.  An IPv6 payload
 * length leaves out the fixed header, so a full segment on loopback
 * (65,536 bytes) fits; longer ones are BIG TCP jumbograms, left alone.
 */
static unsigned int tp_out_max_len(u8 pf)
{
	return pf == NFPROTO_IPV4 ? IP_MAX_MTU :
				    IPV6_MAXPLEN + sizeof(struct ipv6hdr);
}

/*
 * Finds the TCP header of a segment TCP built; false if none.  TCP leaves
 * every checksum to the device or to the stack (CHECKSUM_PARTIAL), whose
 * pseudo-header sum tp_seg_finish() adjusts: a segment with its checksum
 * computed (a raw socket's) is not TCP's.
 */
static bool tp_out_parse(struct sk_buff *skb, u8 pf, struct tp_seg *seg)
{
	const struct tcphdr *th;
	unsigned int thoff = 0;

	if (skb_network_offset(skb) || skb->len > tp_out_max_len(pf) ||
	    skb->ip_summed != CHECKSUM_PARTIAL)
		return false;
	if (pf == NFPROTO_IPV4) {
		if (ip_hdr(skb)->protocol != IPPROTO_TCP ||
		    ip_is_fragment(ip_hdr(skb)))
			return false;
		thoff = ip_hdrlen(skb);
	} else if (ipv6_hdr(skb)->nexthdr == IPPROTO_TCP) {
		thoff = sizeof(struct ipv6hdr);
	} else if (ipv6_find_hdr(skb, &thoff, IPPROTO_TCP, NULL, NULL) !=
		   IPPROTO_TCP) {
		return false;
	}
	if (skb_headlen(skb) < thoff + sizeof(*th))
		return false;
	th = (const struct tcphdr *)(skb->data + thoff);
	seg->thoff = thoff;
	seg->thlen = th->doff * 4;
	seg->tcplen = skb->len - thoff;
	seg->v6 = pf == NFPROTO_IPV6;
	return seg->thlen >= sizeof(*th) &&
	       skb_headlen(skb) >= thoff + seg->thlen;
}

static void tp_out_scan(struct sk_buff *skb, const struct tp_seg *seg,
			struct tp_opt_scan *scan)
{
	tp_opt_scan(skb->data + seg->thoff + sizeof(struct tcphdr),
		    seg->thlen - sizeof(struct tcphdr), tp_tcp_opt_id(), scan);
}

static void tp_out_syn(struct sk_buff *skb, struct tp_seg *seg,
		       const struct nf_hook_state *state)
{
	const struct tcphdr *th = tp_out_th(skb, seg);
	struct sock *sk = state->sk;
	bool synack = th->ack;
	struct tp_opt_scan scan;
	u8 opt[TP_OPT_CAP_LEN];

	if (!synack && (!tp_out_tcp_sock(sk) ||
			skb->len > seg->thoff + seg->thlen))
		return;		/* a raw socket's, or Fast Open data */
	tp_out_scan(skb, seg, &scan);
	/* Signed segments are not ours to touch. */
	if (scan.found != TP_OPT_NONE || scan.auth || scan.eol)
		return;
	/* A SYN-ACK answers only a SYN that offered. */
	if (synack && !tp_syn_answer(state->net, skb, th, seg->v6, true))
		return;
	tp_opt_put_cap(opt, tp_tcp_opt_id());
	if (tp_seg_grow(skb, seg, opt, sizeof(opt))) {
		if (synack)	/* it goes without the answer after all */
			tp_syn_answer(state->net, skb, tp_out_th(skb, seg),
				      seg->v6, false);
		return;
	}
	tp_seg_finish(skb, seg);
	/*
	 * A Fast Open child, or either end of a simultaneous open, sends its
	 * SYN-ACK from a socket that exists already, and TCP creates no
	 * other: it negotiates now.
	 */
	if (synack && tp_out_tcp_sock(sk) &&
	    READ_ONCE(sk->sk_state) == TCP_SYN_RECV)
		tp_syn_negotiated(sk);
}

/* Payload a piece may carry once its header grew by @grow bytes. */
static u32 tp_out_fit(const struct sock *sk, const struct sk_buff *skb,
		      const struct tp_seg *seg, unsigned int grow)
{
	const struct tcp_sock *tp = tcp_sk(sk);
	int fit = READ_ONCE(tp->mss_cache) + tp->tcp_header_len -
		  (int)(seg->thlen + grow);

	if (skb_is_gso(skb))
		fit = min_t(int, fit, skb_shinfo(skb)->gso_size);
	return max(fit, 0);
}

/* The fragment anchored at @seq, cut to @room option bytes if need be. */
static void tp_out_frag(struct tp_conn *conn, u32 seq, unsigned int room,
			struct tp_out_piece *p)
{
	struct tp_opt_frag frag;
	struct tp_anchor a;
	size_t hdr;

	if (!tp_tx_anchor(conn, seq, &a))
		return;
	tp_tx_frag(&a, &frag);
	hdr = tp_opt_frag_len(&frag) - frag.len;
	/* SACK blocks may leave less room than the fragment size assumed. */
	if (hdr + !!frag.total > room)
		return;
	frag.len = min_t(u32, frag.len, room - hdr);
	p->optlen = tp_opt_put_frag(p->opt, tp_tcp_opt_id(), &frag);
	p->fraglen = frag.len;
}

/*
 * Plans the piece of @skb that starts at @seq: up to the next anchor, and
 * no longer than its fragment leaves room for.
 */
static void tp_out_plan(struct tp_conn *conn, struct sock *sk,
			const struct sk_buff *skb, const struct tp_seg *seg,
			u32 seq, u32 end, bool frags, struct tp_out_piece *p)
{
	unsigned int room = TP_OPT_SPACE - (seg->thlen - sizeof(struct tcphdr));
	u32 fit;

	p->len = frags ? tp_tx_next_anchor(conn, seq, end) - seq : end - seq;
	p->optlen = 0;
	p->fraglen = 0;
	if (frags)
		tp_out_frag(conn, seq, room, p);
	if (!p->optlen)
		return;
	fit = tp_out_fit(sk, skb, seg, ALIGN(p->optlen, 4));
	if (fit)
		p->len = min(p->len, fit);
	else
		p->optlen = 0;
}

/* Adds the planned option to a piece; counts the fragments that went. */
static bool tp_out_decorate(struct sk_buff *skb, struct tp_seg *seg,
			    const struct tp_out_piece *p)
{
	if (!p->optlen || tp_seg_grow(skb, seg, p->opt, p->optlen))
		return false;
	atomic_long_inc(&tp_tcp_stats.opts_sent);
	atomic_long_add(p->fraglen, &tp_tcp_stats.bytes_sent);
	return true;
}

/*
 * Cuts @skb into pieces, each with its option, queued on @out; returns
 * false when @skb goes on whole (changed in place, or not at all).  When a
 * cut fails, the rest goes on uncut and without an option: the data
 * always goes, only baggage may be lost.
 */
static bool tp_out_cut(struct tp_conn *conn, struct sock *sk,
		       struct sk_buff *skb, const struct tp_seg *seg0,
		       struct sk_buff_head *out)
{
	const struct tcphdr *th = tp_out_th(skb, seg0);
	u32 seq = ntohl(th->seq);
	u32 end = seq + skb->len - seg0->thoff - seg0->thlen;
	bool frags = end != seq && !th->urg;
	struct sk_buff *tail;
	struct tp_out_piece p;
	struct tp_seg seg;
	bool changed;

	for (;;) {
		seg = *seg0;
		tp_out_plan(conn, sk, skb, &seg, seq, end, frags, &p);
		tail = NULL;
		if (p.len < end - seq) {
			tail = tp_seg_split(skb, &seg, p.len);
			if (tail)
				atomic_long_inc(&tp_tcp_stats.splits);
			else
				p.optlen = 0;
		}
		changed = tp_out_decorate(skb, &seg, &p);
		if (!tail && skb_queue_empty(out)) {
			if (changed)
				tp_seg_finish(skb, &seg);
			return false;
		}
		tp_seg_finish(skb, &seg);
		__skb_queue_tail(out, skb);
		if (!tail)
			return true;
		skb = tail;
		seq += p.len;
	}
}

static void tp_out_send(const struct nf_hook_state *state,
			struct sk_buff_head *out, bool v6)
{
	struct sk_buff *skb;

	local_bh_disable();
	__this_cpu_write(tp_out_busy, true);
	while ((skb = __skb_dequeue(out))) {
		if (v6)
			ip6_local_out(state->net, state->sk, skb);
		else
			ip_local_out(state->net, state->sk, skb);
	}
	__this_cpu_write(tp_out_busy, false);
	local_bh_enable();
}

/*
 * A segment that carries our option went through this hook already (a VRF
 * sends its packets through LOCAL_OUT twice); a signed one (TCP-MD5 added
 * to an established connection) would fail its signature if changed.
 */
static bool tp_out_hands_off(struct sk_buff *skb, const struct tp_seg *seg)
{
	struct tp_opt_scan scan;

	if (seg->thlen == sizeof(struct tcphdr))
		return false;
	tp_out_scan(skb, seg, &scan);
	return scan.found != TP_OPT_NONE || scan.auth;
}

static unsigned int tp_out_data(struct sk_buff *skb, const struct tp_seg *seg,
				const struct nf_hook_state *state)
{
	struct sock *sk = state->sk;
	struct sk_buff_head out;
	struct tp_conn *conn;
	bool cut;

	if (!tp_out_tcp_sock(sk))
		return NF_ACCEPT;
	conn = tp_conn_find(sk);
	if (!conn || !READ_ONCE(conn->peer) || tp_out_hands_off(skb, seg) ||
	    !tp_conn_lock(conn))
		return NF_ACCEPT;
	tp_tx_prune(conn, READ_ONCE(tcp_sk(sk)->snd_una));
	__skb_queue_head_init(&out);
	cut = tp_out_cut(conn, sk, skb, seg, &out);
	tp_conn_unlock(conn);
	if (!cut)
		return NF_ACCEPT;
	tp_out_send(state, &out, seg->v6);
	return NF_STOLEN;
}

/*
 * A segment of an established socket is never a SYN: when no version
 * waits for its anchors, there is nothing to add to it, and the hook
 * (which sees every packet this host sends) need not parse it.
 */
static bool tp_out_nothing_to_add(const struct sock *sk)
{
	return !tp_tx_busy() && sk && sk_fullsock(sk) &&
	       READ_ONCE(sk->sk_state) == TCP_ESTABLISHED;
}

unsigned int tp_out_hook(void *priv, struct sk_buff *skb,
			 const struct nf_hook_state *state)
{
	const struct tcphdr *th;
	struct tp_seg seg;

	if (tp_out_nothing_to_add(state->sk))
		return NF_ACCEPT;
	if (this_cpu_read(tp_out_busy) || !tp_out_parse(skb, state->pf, &seg))
		return NF_ACCEPT;
	th = tp_out_th(skb, &seg);
	if (th->rst)
		return NF_ACCEPT;
	if (th->syn) {
		tp_out_syn(skb, &seg, state);
		return NF_ACCEPT;
	}
	if (!tp_tx_busy())
		return NF_ACCEPT;
	return tp_out_data(skb, &seg, state);
}
