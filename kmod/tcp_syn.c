// SPDX-License-Identifier: GPL-2.0
/*
 * Capability negotiation in the three-way handshake.
 *
 * The client's SYN carries the capability option; a server that speaks
 * baggage answers it in its SYN-ACK.  Each end then knows all it needs:
 * the client, that the server answered; the server, that the client
 * offered.  Only then does either end send fragments.
 *
 * The server must remember that the SYN offered until its socket for
 * the connection exists: request sockets and SYN cookies have no room
 * for it.  The LOCAL_IN hook writes each offering SYN into a table of
 * slots, hashed by addresses, ports and the client's initial sequence
 * number; the LOCAL_OUT hook answers a SYN-ACK (first or retransmitted)
 * whose SYN is there, and the new-child probe (tcp_in.c) takes the slot
 * when TCP creates the server's socket.  A slot is overwritten by the
 * next SYN that hashes to it: under a flood of SYNs, a connection may
 * find its SYN forgotten.  Then its SYN-ACK goes without the option (an
 * ordinary connection), or, if only the child missed it, the server's
 * socket negotiates later, at the first fragment the client sends.
 * Either way no baggage is sent to a peer that did not offer.
 *
 * Remembering the SYN costs a slot per connection; the alternative, the
 * client announcing itself on its first segments until the server shows
 * that its socket exists, cost about 5,000 instructions a connection
 * (Documentation/wire-format.rst, "Negotiation").
 */

#include <linux/cache.h>
#include <linux/ipv6.h>
#include <linux/jhash.h>
#include <linux/random.h>
#include <linux/spinlock.h>
#include <linux/tcp.h>
#include <net/ip.h>
#include <net/ipv6.h>
#include <net/netns/hash.h>

#include "tcp.h"

/* SYNs remembered at once: enough for a busy server's handshakes. */
#define TP_SYN_SLOTS	1024

/* A connection, from the client's side: addresses and ports, ISN. */
struct tp_syn_key {
	struct in6_addr caddr, saddr;	/* IPv4 in the first word, the rest 0 */
	__be16 cport, sport;
	u32 isn;			/* the client's initial sequence number */
	u32 v6;				/* a word: the key has no padding */
};

struct tp_syn_slot {
	spinlock_t lock;
	bool valid;
	possible_net_t net;
	struct tp_syn_key key;
};

static struct tp_syn_slot tp_syn_slots[TP_SYN_SLOTS];
static u32 tp_syn_seed __read_mostly;

void tp_syn_init(void)
{
	unsigned int i;

	for (i = 0; i < TP_SYN_SLOTS; i++)
		spin_lock_init(&tp_syn_slots[i].lock);
	tp_syn_seed = get_random_u32();
}

/*
 * The key of the connection @skb belongs to; @from_client tells its
 * direction.  @isn is the client's ISN, known from the segment's kind.
 */
static void tp_syn_key(const struct sk_buff *skb, const struct tcphdr *th,
		       bool v6, bool from_client, u32 isn, struct tp_syn_key *k)
{
	struct in6_addr *src = from_client ? &k->caddr : &k->saddr;
	struct in6_addr *dst = from_client ? &k->saddr : &k->caddr;

	memset(k, 0, sizeof(*k));
	if (v6) {
		*src = ipv6_hdr(skb)->saddr;
		*dst = ipv6_hdr(skb)->daddr;
	} else {
		src->s6_addr32[0] = ip_hdr(skb)->saddr;
		dst->s6_addr32[0] = ip_hdr(skb)->daddr;
	}
	k->cport = from_client ? th->source : th->dest;
	k->sport = from_client ? th->dest : th->source;
	k->isn = isn;
	k->v6 = v6;
}

static struct tp_syn_slot *tp_syn_slot(const struct net *net,
				       const struct tp_syn_key *k)
{
	u32 h = jhash(k, sizeof(*k), tp_syn_seed ^ net_hash_mix(net));

	return &tp_syn_slots[h % TP_SYN_SLOTS];
}

/* Whether @slot holds @k; if @take, it is forgotten. */
static bool tp_syn_find(const struct net *net, const struct tp_syn_key *k,
			bool take)
{
	struct tp_syn_slot *slot = tp_syn_slot(net, k);
	unsigned long flags;
	bool found;

	spin_lock_irqsave(&slot->lock, flags);
	found = slot->valid && net_eq(read_pnet(&slot->net), net) &&
		!memcmp(&slot->key, k, sizeof(*k));
	if (found && take)
		slot->valid = false;
	spin_unlock_irqrestore(&slot->lock, flags);
	return found;
}

void tp_syn_note(const struct net *net, const struct sk_buff *skb,
		 const struct tcphdr *th, bool v6)
{
	struct tp_syn_slot *slot;
	struct tp_syn_key k;
	unsigned long flags;

	tp_syn_key(skb, th, v6, true, ntohl(th->seq), &k);
	slot = tp_syn_slot(net, &k);
	spin_lock_irqsave(&slot->lock, flags);
	write_pnet(&slot->net, (struct net *)net);
	slot->key = k;
	slot->valid = true;
	spin_unlock_irqrestore(&slot->lock, flags);
}

bool tp_syn_asked(const struct net *net, const struct sk_buff *skb,
		  const struct tcphdr *th, bool v6)
{
	struct tp_syn_key k;

	tp_syn_key(skb, th, v6, false, ntohl(th->ack_seq) - 1, &k);
	return tp_syn_find(net, &k, false);
}

bool tp_syn_offered(const struct net *net, const struct sk_buff *skb,
		    const struct tcphdr *th, bool v6)
{
	struct tp_syn_key k;

	tp_syn_key(skb, th, v6, true, ntohl(th->seq) - 1, &k);
	return tp_syn_find(net, &k, true);
}

void tp_syn_negotiated(struct sock *sk)
{
	struct tp_conn *conn = tp_conn_open(sk);

	if (!conn || !tp_conn_lock(conn))
		return;
	if (!conn->peer) {
		conn->peer = true;
		atomic_long_inc(&tp_tcp_stats.negotiated);
	}
	tp_conn_unlock(conn);
}
