// SPDX-License-Identifier: GPL-2.0
/*
 * Socket buffer tags (skbtag.h).  A module cannot add a field to sk_buff,
 * but af_unix leaves the end of its control buffer unused, so a buffer
 * names its tag there: a slot of two words, the tag's address and a check
 * (the address XOR a secret drawn at load).  A slot passes the check only
 * if this load of the module wrote it, so zeroes, another protocol's bytes
 * and a former load's tags all read as "no tag".  A table keyed by the
 * buffer's address did the same with four hash operations per buffer, the
 * first cost of a UNIX ping-pong with baggage.
 *
 * A tag lives until its buffer is freed, or leaves af_unix
 * (tp_skbtag_drop()); tags are also linked on per-CPU lists, so that the
 * module's exit can free those of buffers still queued.  The lock of the
 * list that holds a tag guards the tag too: a message then takes one lock
 * when it is tagged and one when its tag goes.
 *
 * Tags come from a SLAB_TYPESAFE_BY_RCU cache and are freed at once: a
 * slot read under RCU (the hooks' preemption-off sections are enough)
 * always points to a tag, but perhaps to one given to another buffer, and
 * list, since (a clone carries its original's slot), so the owner is
 * checked again under the list's lock.  A tag's baggage is never changed
 * in place: a merge replaces its reference under that lock, and a reader
 * that only compares it reads it with no lock.
 */

#include <linux/percpu.h>
#include <linux/random.h>
#include <linux/rcupdate.h>
#include <linux/skbuff.h>
#include <linux/slab.h>
#include <linux/spinlock.h>

#include "atom.h"
#include "limits.h"
#include "skbtag.h"
#include "stats.h"

struct tp_skbtag_list {
	spinlock_t lock;	/* tags, count, and the tags' own fields */
	struct hlist_head tags;
	long count;
};

struct tp_skbtag {
	/*
	 * The list that holds it (NULL before its first use): written
	 * before @skb, under the new list's lock, when the tag is given to
	 * a buffer, so that a reader that sees the new owner sees it too.
	 */
	struct tp_skbtag_list *list;
	const struct sk_buff *skb;	/* NULL once dropped */
	struct tp_bag *bag;
	struct hlist_node node;		/* in *list */
};

struct tp_skbtag_slot {
	unsigned long check;		/* tp_skbtag_secret ^ tag */
	struct tp_skbtag *tag;
};

static DEFINE_PER_CPU(struct tp_skbtag_list, tp_skbtag_lists);
/*
 * The tag a CPU dropped last, for the next it attaches: a buffer's tag
 * lives as long as the buffer, and the slab's hardened fast paths cost
 * more than all the rest of a tag's life.
 */
static DEFINE_PER_CPU(struct tp_skbtag *, tp_skbtag_spare);
static struct kmem_cache *tp_skbtag_cache;
static unsigned long tp_skbtag_secret __read_mostly;

static struct tp_skbtag_slot *tp_skbtag_slot(struct sk_buff *skb)
{
	BUILD_BUG_ON(sizeof(struct tp_skbtag_slot) != TP_SKBTAG_CB_SIZE);
	return (void *)&skb->cb[sizeof(skb->cb) - TP_SKBTAG_CB_SIZE];
}

/* Written tag first, check last; read in the reverse order. */
static void tp_skbtag_publish(struct sk_buff *skb, struct tp_skbtag *tag)
{
	struct tp_skbtag_slot *slot = tp_skbtag_slot(skb);

	WRITE_ONCE(slot->tag, tag);
	/* Pairs with tp_skbtag_of(): a slot that passes names its tag. */
	smp_wmb();
	WRITE_ONCE(slot->check, tp_skbtag_secret ^ (unsigned long)tag);
}

static struct tp_skbtag *tp_skbtag_of(struct sk_buff *skb)
{
	struct tp_skbtag_slot *slot = tp_skbtag_slot(skb);
	unsigned long check = READ_ONCE(slot->check);
	struct tp_skbtag *tag;

	/* Pairs with tp_skbtag_publish(). */
	smp_rmb();
	tag = READ_ONCE(slot->tag);
	if (!tag || check != (tp_skbtag_secret ^ (unsigned long)tag))
		return NULL;
	return tag;
}

/* Every call: RCU keeps the tags' slab pages and the bags meanwhile. */
static void tp_skbtag_assert_rcu(void)
{
	RCU_LOCKDEP_WARN(!rcu_read_lock_any_held(),
			 "skbtag used outside an RCU read-side section");
}

/* Under @list's lock: is @tag @skb's, on @list? */
static bool tp_skbtag_owned(const struct tp_skbtag *tag,
			    const struct tp_skbtag_list *list,
			    const struct sk_buff *skb)
{
	if (READ_ONCE(tag->skb) != skb)
		return false;
	/* Pairs with tp_skbtag_attach(): the new owner's list is new too. */
	smp_rmb();
	return READ_ONCE(tag->list) == list;
}

/*
 * The tag of @skb, its list locked, or NULL.  RCU keeps the slab page of
 * the tag the slot names until the lock is taken; from then on the tag
 * is @skb's for as long as the lock is held.
 */
static struct tp_skbtag *tp_skbtag_lock(struct sk_buff *skb,
					unsigned long *flags)
{
	struct tp_skbtag_list *list = NULL;
	struct tp_skbtag *tag;

	tp_skbtag_assert_rcu();
	tag = tp_skbtag_of(skb);
	if (tag)
		list = READ_ONCE(tag->list);
	if (list) {
		spin_lock_irqsave(&list->lock, *flags);
		if (!tp_skbtag_owned(tag, list, skb)) {
			spin_unlock_irqrestore(&list->lock, *flags);
			list = NULL;
		}
	}
	return list ? tag : NULL;
}

long tp_skbtag_count(void)
{
	long count = 0;
	int cpu;

	for_each_possible_cpu(cpu)
		count += READ_ONCE(per_cpu_ptr(&tp_skbtag_lists, cpu)->count);
	return count;
}

void tp_skbtag_attach(struct sk_buff *skb, struct tp_bag *bag)
{
	struct tp_skbtag_list *list = raw_cpu_ptr(&tp_skbtag_lists);
	struct tp_skbtag *tag;
	unsigned long flags;

	tag = this_cpu_xchg(tp_skbtag_spare, NULL);
	if (!tag)
		tag = kmem_cache_alloc(tp_skbtag_cache, GFP_ATOMIC | __GFP_NOWARN);
	if (!tag) {
		atomic_long_inc(&tp_stats.alloc_fails);
		tp_bag_put(bag);
		return;
	}
	spin_lock_irqsave(&list->lock, flags);
	WRITE_ONCE(tag->list, list);
	WRITE_ONCE(tag->bag, bag);
	/*
	 * The owner last, for tp_skbtag_owned() and tp_skbtag_peek(): a
	 * reader of a stale slot naming this tag's former self, who may
	 * hold the former list's lock, sees the new owner with this list
	 * and this bag.
	 */
	smp_wmb();
	WRITE_ONCE(tag->skb, skb);
	hlist_add_head(&tag->node, &list->tags);
	WRITE_ONCE(list->count, list->count + 1);
	spin_unlock_irqrestore(&list->lock, flags);
	tp_skbtag_publish(skb, tag);
}

struct tp_bag *tp_skbtag_take(struct sk_buff *skb)
{
	struct tp_skbtag_list *list;
	struct tp_skbtag *tag;
	struct tp_bag *bag;
	unsigned long flags;

	tag = tp_skbtag_lock(skb, &flags);
	if (!tag)
		return NULL;
	list = tag->list;
	WRITE_ONCE(tag->skb, NULL);
	/* Pairs with tp_skbtag_peek(): a bag read as gone has no owner. */
	smp_wmb();
	bag = tag->bag;
	WRITE_ONCE(tag->bag, NULL);
	hlist_del(&tag->node);
	WRITE_ONCE(list->count, list->count - 1);
	spin_unlock_irqrestore(&list->lock, flags);
	WRITE_ONCE(tp_skbtag_slot(skb)->check, 0);
	tag = this_cpu_xchg(tp_skbtag_spare, tag);
	if (tag)
		kmem_cache_free(tp_skbtag_cache, tag);
	return bag;
}

void tp_skbtag_drop(struct sk_buff *skb)
{
	tp_bag_put(tp_skbtag_take(skb));
}

void tp_skbtag_merge(struct sk_buff *skb, struct tp_bag *bag)
{
	struct tp_skbtag *tag;
	unsigned long flags;

	if (!bag)
		return;
	tag = tp_skbtag_lock(skb, &flags);
	if (!tag) {
		tp_skbtag_attach(skb, tp_bag_get(bag));
		return;
	}
	tp_limit_merge(&tag->bag, bag, GFP_ATOMIC);
	spin_unlock_irqrestore(&tag->list->lock, flags);
}

struct tp_bag *tp_skbtag_get(struct sk_buff *skb)
{
	struct tp_skbtag *tag;
	struct tp_bag *bag;
	unsigned long flags;

	tag = tp_skbtag_lock(skb, &flags);
	if (!tag)
		return NULL;
	bag = tp_bag_get(tag->bag);
	spin_unlock_irqrestore(&tag->list->lock, flags);
	return bag;
}

const struct tp_bag *tp_skbtag_peek(struct sk_buff *skb)
{
	struct tp_skbtag *tag;
	const struct tp_bag *bag;

	tp_skbtag_assert_rcu();
	tag = tp_skbtag_of(skb);
	if (!tag || READ_ONCE(tag->skb) != skb)
		return NULL;
	/* That owner's bag (pairs with tp_skbtag_attach()) ... */
	smp_rmb();
	bag = READ_ONCE(tag->bag);
	/* ... if it still owns the tag (pairs with tp_skbtag_take()). */
	smp_rmb();
	return READ_ONCE(tag->skb) == skb ? bag : NULL;
}

/*
 * A stale slot may name a tag at any time: its list and owner are valid
 * from the start (once per slab object; a freed tag keeps them).
 */
static void tp_skbtag_ctor(void *ptr)
{
	struct tp_skbtag *tag = ptr;

	tag->list = NULL;
	tag->skb = NULL;
}

int tp_skbtag_init(void)
{
	int cpu;

	for_each_possible_cpu(cpu) {
		struct tp_skbtag_list *list = per_cpu_ptr(&tp_skbtag_lists, cpu);

		spin_lock_init(&list->lock);
		INIT_HLIST_HEAD(&list->tags);
		list->count = 0;
	}
	/* Zero would let an untagged buffer's slot pass the check. */
	do {
		tp_skbtag_secret = get_random_long();
	} while (!tp_skbtag_secret);
	tp_skbtag_cache = kmem_cache_create("tp_skbtag", sizeof(struct tp_skbtag),
					    0, SLAB_TYPESAFE_BY_RCU,
					    tp_skbtag_ctor);
	return tp_skbtag_cache ? 0 : -ENOMEM;
}

/*
 * The probes are gone: nothing reads or writes a slot any more, and the
 * slots of buffers still queued fail the next load's check.
 */
void tp_skbtag_exit(void)
{
	struct hlist_node *next;
	struct tp_skbtag *tag;
	int cpu;

	for_each_possible_cpu(cpu) {
		struct tp_skbtag_list *list = per_cpu_ptr(&tp_skbtag_lists, cpu);

		tag = per_cpu(tp_skbtag_spare, cpu);
		if (tag)
			kmem_cache_free(tp_skbtag_cache, tag);
		hlist_for_each_entry_safe(tag, next, &list->tags, node) {
			hlist_del(&tag->node);
			list->count--;
			tp_bag_put(tag->bag);
			kmem_cache_free(tp_skbtag_cache, tag);
		}
	}
	kmem_cache_destroy(tp_skbtag_cache);
}
