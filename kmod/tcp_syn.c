// SPDX-License-Identifier: GPL-2.0
/*
 * Capability negotiation in the three-way handshake.
 *
 * The client's SYN carries the capability option; a server that speaks
 * baggage answers it in its SYN-ACK.  Each end then knows all it needs:
 * the client, that the server answered; the server, that the client
 * offered and that it answered.  Only then does either end send
 * fragments.
 *
 * The server must remember that the SYN offered until its socket for
 * the connection exists: request sockets and SYN cookies have no room
 * for it.  The LOCAL_IN hook notes each offering SYN in a table, by
 * network namespace, addresses, ports and the client's initial sequence
 * number; the LOCAL_OUT hook answers a SYN-ACK (first or retransmitted)
 * whose SYN is there and marks it answered; the new-child probe
 * (tcp_in.c) takes the entry as TCP creates the server's socket, keyed
 * by the socket itself (whatever segment completed the handshake).  A
 * Fast Open child, or a socket in a simultaneous open, exists before its
 * SYN-ACK: it negotiates as the SYN-ACK answers.
 *
 * The table is a fixed array of buckets of a few entries; a SYN takes a
 * free entry of its bucket, or the oldest.  Taken entries free
 * themselves, and those of handshakes that never completed are the
 * oldest, so only a burst of more offering SYNs than a bucket holds, in
 * less than a handshake's time, makes one forgotten.  Then its SYN-ACK
 * goes without the option (an ordinary connection), or, if only the
 * child missed it, the server's socket negotiates later, at the first
 * fragment the client sends.  Either way no baggage is sent to a peer
 * that did not offer.
 *
 * Remembering the SYN costs an entry per connection; the alternative, the
 * client announcing itself on its first segments until the server shows
 * that its socket exists, cost about 5,000 instructions a connection
 * (Documentation/wire-format.rst, "Negotiation").
 */

#include <linux/build_bug.h>
#include <linux/ipv6.h>
#include <linux/jhash.h>
#include <linux/jiffies.h>
#include <linux/random.h>
#include <linux/spinlock.h>
#include <linux/tcp.h>
#include <net/inet_sock.h>
#include <net/ip.h>
#include <net/ipv6.h>
#include <net/netns/hash.h>

#include "tcp.h"

/* Buckets of the table, and entries per bucket: 4096 SYNs at once. */
#define TP_SYN_BUCKETS	1024
#define TP_SYN_WAYS	4

/* A connection, from the client's side: addresses and ports, ISN. */
struct tp_syn_key {
	struct in6_addr caddr, saddr;	/* IPv4 in the first word, the rest 0 */
	__be16 cport, sport;
	u32 isn;			/* the client's initial sequence number */
	u32 v6;				/* a word: the key has no padding */
};

struct tp_syn_entry {
	bool valid;
	bool answered;			/* a SYN-ACK carried the option */
	unsigned long when;		/* jiffies of the SYN */
	possible_net_t net;
	struct tp_syn_key key;
};

/* Raw: taken in probes, preemption off, even on PREEMPT_RT. */
struct tp_syn_bucket {
	raw_spinlock_t lock;
	struct tp_syn_entry entry[TP_SYN_WAYS];
};

static struct tp_syn_bucket tp_syn_table[TP_SYN_BUCKETS];
static u32 tp_syn_seed __read_mostly;

void tp_syn_init(void)
{
	unsigned int i;

	BUILD_BUG_ON(sizeof(struct tp_syn_key) % sizeof(u32));
	for (i = 0; i < TP_SYN_BUCKETS; i++)
		raw_spin_lock_init(&tp_syn_table[i].lock);
	tp_syn_seed = get_random_u32();
}

/* IPv4 addresses go in the first word of a key's address. */
static void tp_syn_addr4(struct in6_addr *a, __be32 addr)
{
	a->s6_addr32[0] = addr;
}

/*
 * The key of the connection of the handshake segment @skb; @from_client
 * tells its direction, and @isn is the client's ISN, which the segment's
 * kind tells.
 */
static void tp_syn_key_skb(const struct sk_buff *skb, const struct tcphdr *th,
			   bool v6, bool from_client, u32 isn,
			   struct tp_syn_key *k)
{
	struct in6_addr *src = from_client ? &k->caddr : &k->saddr;
	struct in6_addr *dst = from_client ? &k->saddr : &k->caddr;

	memset(k, 0, sizeof(*k));
	if (v6) {
		*src = ipv6_hdr(skb)->saddr;
		*dst = ipv6_hdr(skb)->daddr;
	} else {
		tp_syn_addr4(src, ip_hdr(skb)->saddr);
		tp_syn_addr4(dst, ip_hdr(skb)->daddr);
	}
	k->cport = from_client ? th->source : th->dest;
	k->sport = from_client ? th->dest : th->source;
	k->isn = isn;
	k->v6 = v6;
}

/*
 * The key of the connection of the server's socket @sk, which TCP just
 * created (locked): rcv_nxt is still the client's ISN + 1.  An IPv4
 * connection to an IPv6 listener has IPv4-mapped addresses, and came in
 * IPv4 packets.
 */
static void tp_syn_key_sock(const struct sock *sk, struct tp_syn_key *k)
{
	const struct inet_sock *inet = inet_sk(sk);

	memset(k, 0, sizeof(*k));
	if (sk->sk_family == AF_INET6 &&
	    !ipv6_addr_v4mapped(&sk->sk_v6_daddr)) {
		k->caddr = sk->sk_v6_daddr;
		k->saddr = sk->sk_v6_rcv_saddr;
		k->v6 = 1;
	} else {
		tp_syn_addr4(&k->caddr, inet->inet_daddr);
		tp_syn_addr4(&k->saddr, inet->inet_rcv_saddr);
	}
	k->cport = inet->inet_dport;
	k->sport = inet->inet_sport;
	k->isn = tcp_sk(sk)->rcv_nxt - 1;
}

/*
 * The client's ISN nearly tells connections apart alone: the addresses
 * are folded into one word and the ports into another, for a hash of
 * three words rather than of the key's eleven (a third of the cost).
 */
static struct tp_syn_bucket *tp_syn_bucket(const struct net *net,
					   const struct tp_syn_key *k)
{
	u32 addrs = 0, ports;
	int i;

	for (i = 0; i < 4; i++)
		addrs ^= (__force u32)k->caddr.s6_addr32[i] ^
			 ror32((__force u32)k->saddr.s6_addr32[i], 16);
	ports = (u32)(__force u16)k->cport << 16 | (__force u16)k->sport;
	return &tp_syn_table[jhash_3words(k->isn, ports, addrs,
					  tp_syn_seed ^ net_hash_mix(net)) %
			     TP_SYN_BUCKETS];
}

/* Under the bucket's lock: the entry of @k, or NULL. */
static struct tp_syn_entry *tp_syn_lookup(struct tp_syn_bucket *b,
					  const struct net *net,
					  const struct tp_syn_key *k)
{
	struct tp_syn_entry *e;

	for (e = b->entry; e < b->entry + TP_SYN_WAYS; e++)
		if (e->valid && net_eq(read_pnet(&e->net), net) &&
		    !memcmp(&e->key, k, sizeof(*k)))
			return e;
	return NULL;
}

/* Under the bucket's lock: a free entry, or else the oldest. */
static struct tp_syn_entry *tp_syn_victim(struct tp_syn_bucket *b)
{
	struct tp_syn_entry *e, *old = b->entry;

	for (e = b->entry; e < b->entry + TP_SYN_WAYS; e++) {
		if (!e->valid)
			return e;
		if (time_before(e->when, old->when))
			old = e;
	}
	return old;
}

void tp_syn_note(const struct net *net, const struct sk_buff *skb,
		 const struct tcphdr *th, bool v6)
{
	struct tp_syn_bucket *b;
	struct tp_syn_entry *e;
	struct tp_syn_key k;
	unsigned long flags;

	tp_syn_key_skb(skb, th, v6, true, ntohl(th->seq), &k);
	b = tp_syn_bucket(net, &k);
	raw_spin_lock_irqsave(&b->lock, flags);
	/* A retransmitted SYN keeps its entry, answered or not. */
	e = tp_syn_lookup(b, net, &k);
	if (!e) {
		e = tp_syn_victim(b);
		write_pnet(&e->net, (struct net *)net);
		e->key = k;
		e->answered = false;
		e->valid = true;
	}
	e->when = jiffies;
	raw_spin_unlock_irqrestore(&b->lock, flags);
}

bool tp_syn_answer(const struct net *net, const struct sk_buff *skb,
		   const struct tcphdr *th, bool v6, bool answered)
{
	struct tp_syn_bucket *b;
	struct tp_syn_entry *e;
	struct tp_syn_key k;
	unsigned long flags;

	tp_syn_key_skb(skb, th, v6, false, ntohl(th->ack_seq) - 1, &k);
	b = tp_syn_bucket(net, &k);
	raw_spin_lock_irqsave(&b->lock, flags);
	e = tp_syn_lookup(b, net, &k);
	if (e)
		e->answered = answered;
	raw_spin_unlock_irqrestore(&b->lock, flags);
	return e;
}

bool tp_syn_offered(struct sock *child)
{
	const struct net *net = sock_net(child);
	struct tp_syn_bucket *b;
	struct tp_syn_entry *e;
	struct tp_syn_key k;
	unsigned long flags;
	bool answered = false;

	tp_syn_key_sock(child, &k);
	b = tp_syn_bucket(net, &k);
	raw_spin_lock_irqsave(&b->lock, flags);
	e = tp_syn_lookup(b, net, &k);
	if (e) {
		answered = e->answered;
		e->valid = false;
	}
	raw_spin_unlock_irqrestore(&b->lock, flags);
	return answered;
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
