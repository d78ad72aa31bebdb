/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Baggage attached to socket buffers: a table from sk_buff address to a
 * reference to the baggage of the bytes in that buffer.  For UNIX-domain
 * sockets (unix.c) every buffer holds bytes of one send call only, so a
 * tag per buffer is byte-accurate.  All calls work in atomic context.
 */
#ifndef TP_SKBTAG_H
#define TP_SKBTAG_H

struct sk_buff;
struct tp_bag;

int tp_skbtag_init(void);
void tp_skbtag_exit(void);

/*
 * Makes @bag (the caller keeps its reference; NULL: none) the baggage of
 * @skb, replacing whatever tag a freed buffer at the same address left.
 */
void tp_skbtag_set(const struct sk_buff *skb, struct tp_bag *bag);
/* Adds @bag to @skb's baggage (merge). */
void tp_skbtag_merge(const struct sk_buff *skb, struct tp_bag *bag);
/* A new reference to @skb's baggage, or NULL. */
struct tp_bag *tp_skbtag_get(const struct sk_buff *skb);
/* @skb is being freed. */
void tp_skbtag_drop(const struct sk_buff *skb);

/* Tagged buffers alive, for STATUS, the leak check and the fast paths. */
long tp_skbtag_count(void);

#endif /* TP_SKBTAG_H */
