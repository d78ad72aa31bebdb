// SPDX-License-Identifier: GPL-2.0
/*
 * The LOCAL_IN hook and the new-child probe: options off incoming
 * segments.
 *
 * Every TCP segment delivered to this host passes the hook.  One without
 * options or with timestamps alone, most of them, is told in place from
 * its first option word; the others have their options walked, and only
 * a segment that carries our option costs more.  That one is checksummed
 * first (a segment TCP will drop is not looked at), then:
 *
 *  - malformed (tcp_opt.c), or a fragment on a SYN or without payload:
 *    counted and ignored;
 *  - the capability option on a SYN: noted, so that the SYN-ACK answers
 *    and the server's socket negotiates when TCP creates it (tcp_syn.c);
 *  - on a SYN-ACK: the client's socket negotiated;
 *  - on any other segment: the socket's peer speaks baggage, and a
 *    fragment is filed by sequence number (tcp_rx.c).
 *
 * The option stays in the segment: TCP skips options it does not know.
 * The hook runs before TCP processes the segment, so a fragment is filed
 * before its bytes can be read.  The segment that completes a handshake
 * reaches the hook while the server's socket for the connection does not
 * exist yet; a kprobe on tcp_child_process(), which runs as TCP creates
 * it, handles that segment instead.
 */

#include <linux/kprobes.h>
#include <linux/netfilter.h>
#include <net/inet6_hashtables.h>
#include <net/inet_hashtables.h>
#include <net/ip.h>
#include <net/ipv6.h>
#include <net/tcp.h>
#include <asm/unaligned.h>

#include "kprobe_guard.h"
#include "netns.h"
#include "tcp.h"

/* A copy of an incoming segment's TCP header and options. */
struct tp_in_seg {
	struct tcphdr th;
	u8 opts[TP_OPT_SPACE];
	unsigned int thoff;	/* from skb->data */
	unsigned int payload;
	bool v6;
};

static bool tp_in_find_tcp(struct sk_buff *skb, u8 pf, unsigned int *thoff)
{
	const struct iphdr *iph;

	if (pf == NFPROTO_IPV6) {
		*thoff = 0;
		return ipv6_find_hdr(skb, thoff, IPPROTO_TCP, NULL, NULL) ==
		       IPPROTO_TCP;
	}
	iph = ip_hdr(skb);
	if (iph->protocol != IPPROTO_TCP || ip_is_fragment(iph))
		return false;
	*thoff = skb_network_offset(skb) + ip_hdrlen(skb);
	return true;
}

/* NOP, NOP, timestamps: the option list of most segments. */
#define TP_IN_TS_ONLY	htonl(TCPOPT_NOP << 24 | TCPOPT_NOP << 16 | \
			      TCPOPT_TIMESTAMP << 8 | TCPOLEN_TIMESTAMP)

/*
 * Most segments carry no option or timestamps alone, nothing of ours:
 * told from the linear header in place, before anything is copied (the
 * hook sees every segment this host receives).
 */
static bool tp_in_plain(const struct sk_buff *skb, unsigned int thoff)
{
	const struct tcphdr *th = (const struct tcphdr *)(skb->data + thoff);

	if (skb_headlen(skb) < thoff + sizeof(*th))
		return false;
	if (th->doff == sizeof(*th) / 4)
		return true;
	return th->doff == (sizeof(*th) + TCPOLEN_TSTAMP_ALIGNED) / 4 &&
	       skb_headlen(skb) >= thoff + th->doff * 4 &&
	       get_unaligned((const __be32 *)(th + 1)) == TP_IN_TS_ONLY;
}

/* Copies the TCP header and options out of @skb, however it is laid out. */
static const u8 *tp_in_parse(struct sk_buff *skb, u8 pf, struct tp_in_seg *s)
{
	const struct tcphdr *th;
	unsigned int len;

	th = skb_header_pointer(skb, s->thoff, sizeof(s->th), &s->th);
	if (!th || th->doff * 4 < sizeof(*th))
		return NULL;
	s->th = *th;
	len = th->doff * 4;
	if (skb->len < s->thoff + len)
		return NULL;
	s->payload = skb->len - s->thoff - len;
	s->v6 = pf == NFPROTO_IPV6;
	return skb_header_pointer(skb, s->thoff + sizeof(*th),
				  len - sizeof(*th), s->opts);
}

/* The full socket @skb is for, with a reference; NULL if none. */
static struct sock *tp_in_sock(struct net *net, struct sk_buff *skb,
			       const struct tp_in_seg *s)
{
	struct inet_hashinfo *hinfo = net->ipv4.tcp_death_row.hashinfo;
	struct sock *sk;

	if (s->v6) {
		const struct ipv6hdr *ip6h = ipv6_hdr(skb);

		sk = __inet6_lookup_established(net, hinfo, &ip6h->saddr,
						s->th.source, &ip6h->daddr,
						ntohs(s->th.dest),
						inet6_iif(skb), inet6_sdif(skb));
	} else {
		const struct iphdr *iph = ip_hdr(skb);

		sk = __inet_lookup_established(net, hinfo, iph->saddr,
					       s->th.source, iph->daddr,
					       ntohs(s->th.dest),
					       inet_iif(skb), inet_sdif(skb));
	}
	if (sk && !sk_fullsock(sk)) {
		sock_gen_put(sk);	/* a request or TIME_WAIT socket */
		sk = NULL;
	}
	return sk;
}

/*
 * Could the segment be the peer's, as TCP would judge: its sequence
 * number in the receive window, its acknowledgment of nothing unsent nor
 * older than a window (RFC 5961)?  Read without the socket's lock, so
 * approximately, but a sender off the path must still guess both.
 */
static bool tp_in_acceptable(const struct sock *sk, const struct tcphdr *th)
{
	const struct tcp_sock *tp = tcp_sk(sk);
	u32 window = max(READ_ONCE(tp->rcv_wnd), 1U);
	u32 rcv_nxt = READ_ONCE(tp->rcv_nxt);
	u32 seq = ntohl(th->seq), ack = ntohl(th->ack_seq);
	u32 snd_una = READ_ONCE(tp->snd_una);

	if (before(seq, rcv_nxt - window) || !before(seq, rcv_nxt + window))
		return false;
	return th->ack && !after(ack, READ_ONCE(tp->snd_nxt)) &&
	       !before(ack, snd_una - READ_ONCE(tp->max_window));
}

/*
 * Our option on a segment of an established socket.  Only a fragment
 * that TCP could take tells that the peer speaks baggage: else one
 * forged segment would make this end send its baggage to a peer that
 * never offered.  The capability option belongs on SYN and SYN-ACK.
 */
static void tp_in_established(struct sock *sk, const struct tcphdr *th,
			      const struct tp_opt_scan *scan)
{
	struct tp_conn *conn;

	if (scan->found != TP_OPT_FOUND_FRAG || !tp_in_acceptable(sk, th)) {
		atomic_long_inc(&tp_tcp_stats.malformed);
		return;
	}
	tp_syn_negotiated(sk);
	conn = tp_conn_find(sk);
	if (conn && tp_conn_lock(conn)) {
		tp_rx_attach(conn, sk, ntohl(th->seq), &scan->frag);
		tp_conn_unlock(conn);
	}
}

/*
 * A SYN-ACK that answered: the client's socket negotiated, if TCP will
 * take the SYN-ACK (tcp_rcv_synsent_state_process()'s check).  On loopback
 * it arrives before tcp_connect() set snd_nxt, hence write_seq.
 */
static void tp_in_synack(struct sock *sk, const struct tcphdr *th)
{
	const struct tcp_sock *tp = tcp_sk(sk);
	u32 ack = ntohl(th->ack_seq);

	if (sk->sk_state == TCP_SYN_SENT &&
	    after(ack, READ_ONCE(tp->snd_una)) &&
	    !after(ack, READ_ONCE(tp->write_seq)))
		tp_syn_negotiated(sk);
}

static bool tp_in_malformed(const struct tp_in_seg *s,
			    const struct tp_opt_scan *scan)
{
	if (scan->found == TP_OPT_FOUND_BAD)
		return true;
	/* A fragment rides on a byte of its version, never on a SYN. */
	return scan->found == TP_OPT_FOUND_FRAG && (s->th.syn || !s->payload);
}

static void tp_in_segment(struct net *net, struct sk_buff *skb,
			  const struct tp_in_seg *s,
			  const struct tp_opt_scan *scan)
{
	struct sock *sk;

	if (tp_in_malformed(s, scan)) {
		atomic_long_inc(&tp_tcp_stats.malformed);
		return;
	}
	if (s->th.syn && !s->th.ack) {
		tp_syn_note(net, skb, &s->th, s->v6);
		return;
	}
	sk = tp_in_sock(net, skb, s);
	if (!sk)
		return;
	if (s->th.syn)
		tp_in_synack(sk, &s->th);
	else
		tp_in_established(sk, &s->th, scan);
	sock_gen_put(sk);
}

/* A segment whose options may hold ours: the slow path, out of line. */
static noinline void tp_in_options(struct sk_buff *skb,
				   const struct nf_hook_state *state,
				   unsigned int thoff)
{
	struct tp_opt_scan scan;
	struct tp_in_seg s = { .thoff = thoff };
	const u8 *opts;

	opts = tp_in_parse(skb, state->pf, &s);
	if (!opts || tp_opt_scan(opts, s.th.doff * 4 - sizeof(s.th),
				 tp_tcp_opt_id(), &scan) == TP_OPT_NONE)
		return;
	/* TCP drops a segment with a bad checksum: so do we. */
	if (nf_checksum(skb, state->hook, s.thoff, IPPROTO_TCP, state->pf))
		return;
	tp_in_segment(state->net, skb, &s, &scan);
}

unsigned int tp_in_hook(void *priv, struct sk_buff *skb,
			const struct nf_hook_state *state)
{
	unsigned int thoff;

	if (tp_in_find_tcp(skb, state->pf, &thoff) && !tp_in_plain(skb, thoff))
		tp_in_options(skb, state, thoff);
	return NF_ACCEPT;
}

/*
 * The options of the segment that completed a handshake, if they hold
 * ours and LOCAL_IN did not count them as malformed.
 */
static bool tp_in_child_scan(const struct sk_buff *skb, const struct tcphdr *th,
			     struct tp_opt_scan *scan)
{
	unsigned int len = th->doff * 4;

	if (tp_opt_scan((const u8 *)(th + 1), len - sizeof(*th),
			tp_tcp_opt_id(), scan) == TP_OPT_NONE)
		return false;
	return scan->found != TP_OPT_FOUND_BAD &&
	       (scan->found != TP_OPT_FOUND_FRAG ||
		skb->len > skb_transport_offset(skb) + len);
}

/*
 * tcp_child_process(parent, child, skb): TCP just created @child from the
 * segment @skb that completed a handshake.  The segment passed TCP's
 * checks and its header is linear.  The child negotiates if the
 * connection's SYN offered (tcp_syn.c), or if this segment carries our
 * option.
 */
static int tp_in_child_pre(struct kprobe *kp, struct pt_regs *regs)
{
	struct sock *child = (struct sock *)regs_get_kernel_argument(regs, 1);
	struct sk_buff *skb = (struct sk_buff *)regs_get_kernel_argument(regs, 2);
	const struct tcphdr *th = tcp_hdr(skb);
	struct net *net = sock_net(child);
	struct tp_opt_scan scan;
	bool offered;

	if (!tp_net_enabled(net))
		return 0;
	offered = tp_syn_offered(child);
	rcu_read_lock();
	if (offered)
		tp_syn_negotiated(child);
	if (tp_in_child_scan(skb, th, &scan))
		tp_in_established(child, th, &scan);
	rcu_read_unlock();
	return 0;
}

static struct tp_kprobe tp_in_child_kp[] = {
	TP_KPROBE("tcp_child_process", tp_in_child_pre, 0),
};

int tp_in_init(void)
{
	return tp_register_kprobes(tp_in_child_kp, ARRAY_SIZE(tp_in_child_kp));
}

void tp_in_exit(void)
{
	tp_unregister_kprobes(tp_in_child_kp, ARRAY_SIZE(tp_in_child_kp));
}
