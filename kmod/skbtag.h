/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Baggage attached to socket buffers.  For UNIX-domain sockets (unix.c)
 * every buffer holds bytes of one send call only, so naming its sender's
 * baggage in each buffer is byte-accurate.  A buffer names it in the last
 * TP_SKBTAG_CB_SIZE bytes of its control buffer (skb->cb), which the
 * protocol must leave alone and which must be zero when the buffer is
 * first tagged (as __alloc_skb() leaves them).  Callers are in an RCU
 * read-side section of any kind (the hooks' and probes' handlers run with
 * preemption off, which is one): it keeps the tags and blobs a call looks
 * at from being freed meanwhile.  Calls on one buffer may race, a take
 * or drop clearing the slot once, except tp_skbtag_merge(), which the
 * protocol must serialize with every other call on the buffer (af_unix
 * appends under its receiver's queue lock and iolock).
 */
#ifndef TP_SKBTAG_H
#define TP_SKBTAG_H

#include <linux/types.h>

struct sk_buff;
struct tp_bag;

#define TP_SKBTAG_CB_SIZE	(2 * sizeof(unsigned long))

int tp_skbtag_init(void);
void tp_skbtag_exit(void);

/*
 * Tags @skb, which has no tag, with @bag if that very blob has a tag
 * (buffers carry it, or did a moment ago): then no reference is needed,
 * and @bag need only be alive for the caller's RCU section.  False: call
 * tp_skbtag_attach().
 */
bool tp_skbtag_reuse(struct sk_buff *skb, const struct tp_bag *bag);
/* Tags @skb, which has no tag, with @bag (takes over the reference). */
void tp_skbtag_attach(struct sk_buff *skb, struct tp_bag *bag);
/* Adds @bag to @skb's baggage (merge), tagging it if it has none. */
void tp_skbtag_merge(struct sk_buff *skb, struct tp_bag *bag);
/* A new reference to @skb's baggage, or NULL. */
struct tp_bag *tp_skbtag_get(struct sk_buff *skb);
/*
 * The address of @skb's baggage (NULL: none), to compare and never to
 * follow: no lock, no reference.  The caller's RCU read-side section
 * keeps a bag's memory from being another bag's while it compares.
 */
const struct tp_bag *tp_skbtag_peek(struct sk_buff *skb);
/* @skb is being freed, or leaves the protocol: its tag goes. */
void tp_skbtag_drop(struct sk_buff *skb);
/* tp_skbtag_drop() that returns a new reference to its baggage, or NULL. */
struct tp_bag *tp_skbtag_take(struct sk_buff *skb);

/* Tagged buffers alive, for STATUS and the probes' arming. */
long tp_skbtag_count(void);

#endif /* TP_SKBTAG_H */
