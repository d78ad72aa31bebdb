// SPDX-License-Identifier: GPL-2.0
/*
 * Capability negotiation in the three-way handshake.
 *
 * The client's SYN carries the capability option; a server that speaks
 * baggage answers it in its SYN-ACK; only then does either end send
 * fragments.  The server must remember, between the SYN it receives and
 * the SYN-ACK it sends, that the SYN asked.  The SYN-ACK is built from a
 * request socket that has no room for that, but it is sent synchronously
 * while the SYN is processed, on the same CPU: the LOCAL_IN hook notes the
 * SYN in a per-CPU slot and the LOCAL_OUT hook matches the SYN-ACK against
 * it (addresses, ports, and the SYN's sequence number as acknowledged).
 * A SYN-ACK sent later (a retransmission by timer, or a SYN that waited in
 * a busy listener's backlog) finds no match and goes out without the
 * option: the client then sees an ordinary connection, and so does the
 * server, because its child only negotiates when the client's handshake
 * ACK carries the option (tcp_in.c), which the client sends only after a
 * SYN-ACK answered.
 */

#include <linux/percpu.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <net/ip.h>
#include <net/ipv6.h>

#include "tcp.h"

struct tp_syn_slot {
	bool valid;
	bool v6;
	possible_net_t net;
	struct in6_addr saddr, daddr;	/* IPv4 in the first word */
	__be16 sport, dport;
	u32 isn;
};

static DEFINE_PER_CPU(struct tp_syn_slot, tp_syn_slots);

/* The addresses of @skb; IPv4 ones go in the first word, the rest is 0. */
static void tp_syn_addrs(const struct sk_buff *skb, bool v6,
			 struct in6_addr *saddr, struct in6_addr *daddr)
{
	memset(saddr, 0, sizeof(*saddr));
	memset(daddr, 0, sizeof(*daddr));
	if (v6) {
		*saddr = ipv6_hdr(skb)->saddr;
		*daddr = ipv6_hdr(skb)->daddr;
	} else {
		saddr->s6_addr32[0] = ip_hdr(skb)->saddr;
		daddr->s6_addr32[0] = ip_hdr(skb)->daddr;
	}
}

void tp_syn_note(const struct net *net, const struct sk_buff *skb,
		 const struct tcphdr *th, bool v6)
{
	struct tp_syn_slot *slot = get_cpu_ptr(&tp_syn_slots);

	slot->v6 = v6;
	write_pnet(&slot->net, (struct net *)net);
	tp_syn_addrs(skb, v6, &slot->saddr, &slot->daddr);
	slot->sport = th->source;
	slot->dport = th->dest;
	slot->isn = ntohl(th->seq);
	slot->valid = true;
	put_cpu_ptr(&tp_syn_slots);
}

/* The SYN-ACK goes the other way: its source is the SYN's destination. */
static bool tp_syn_match(const struct tp_syn_slot *slot, const struct net *net,
			 const struct sk_buff *skb, const struct tcphdr *th,
			 bool v6)
{
	struct in6_addr saddr, daddr;

	if (!slot->valid || slot->v6 != v6 || th->source != slot->dport ||
	    th->dest != slot->sport || ntohl(th->ack_seq) != slot->isn + 1 ||
	    !net_eq(read_pnet(&slot->net), net))
		return false;
	tp_syn_addrs(skb, v6, &saddr, &daddr);
	return ipv6_addr_equal(&saddr, &slot->daddr) &&
	       ipv6_addr_equal(&daddr, &slot->saddr);
}

bool tp_syn_asked(const struct net *net, const struct sk_buff *skb,
		  const struct tcphdr *th, bool v6)
{
	struct tp_syn_slot *slot = get_cpu_ptr(&tp_syn_slots);
	bool asked = tp_syn_match(slot, net, skb, th, v6);

	if (asked)
		slot->valid = false;
	put_cpu_ptr(&tp_syn_slots);
	return asked;
}

/*
 * A client learns from the SYN-ACK that the server speaks baggage, but the
 * server learns it from the client only when the segment that completes
 * the handshake carries our option: so the client announces itself on
 * everything it sends until the server has shown (by acknowledging
 * data, or sending some) that its end of the connection exists.
 */
void tp_syn_negotiated(struct sock *sk, const struct tcphdr *th)
{
	struct tp_conn *conn = tp_conn_open(sk);

	if (!conn || !tp_conn_lock(conn))
		return;
	if (!conn->peer) {
		conn->peer = true;
		atomic_long_inc(&tp_tcp_stats.negotiated);
		if (th->syn)
			tp_tx_announce(conn, ntohl(th->ack_seq),
				       ntohl(th->seq) + 1);
	}
	tp_conn_unlock(conn);
}
