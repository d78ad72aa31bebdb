// SPDX-License-Identifier: GPL-2.0
/*
 * Socket buffer tags (skbtag.h).  A module cannot add a field to sk_buff,
 * but af_unix leaves the end of its control buffer unused, so a buffer
 * names its baggage there: a slot of two words, the address of a tag and
 * a check (the tag's and the buffer's addresses XOR a secret drawn at
 * load).  A slot passes the check only if this load of the module wrote
 * it for this very buffer, so zeroes, another protocol's bytes, a clone's
 * copy and a former load's tags all read as "no tag".
 *
 * A tag is shared by every buffer of one baggage: it holds one reference
 * to the blob and counts the buffers that name it.  Tagging a buffer with
 * a tag that exists and letting a tag go are then one atomic operation
 * on that count, with no lock, no allocation and no reference, and a CPU
 * finds the tag it used last without a lookup: a tag per buffer, on
 * per-CPU lists so that rmmod could find it, cost a UNIX ping-pong with
 * baggage a fifth of the module's work.  Tags are found by their blob in
 * a table, which is also how the module's exit finds the baggage of
 * buffers still queued (a module cannot walk the sockets' queues).
 *
 * A tag no buffer names stays for the next buffer of its baggage until
 * the collector, a delayed work queued when a count falls to zero (or
 * pending then already), retires it: marks it dead (a dead tag takes no
 * more buffers), takes it out of the table and frees it, with its
 * reference, after a grace period.  So a tag read under RCU, as every
 * caller does (skbtag.h), is not freed meanwhile, and neither is its
 * blob.
 */

#include <linux/hashtable.h>
#include <linux/percpu.h>
#include <linux/random.h>
#include <linux/rcupdate.h>
#include <linux/skbuff.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/workqueue.h>

#include "atom.h"
#include "limits.h"
#include "skbtag.h"
#include "stats.h"

#define TP_SKBTAG_BITS		6
/* The count of a retired tag. */
#define TP_SKBTAG_DEAD		(-1L)
/* At most this long after its count fell to zero, an unused tag goes. */
#define TP_SKBTAG_IDLE		(HZ / 4)

struct tp_skbtag {
	struct tp_bag *bag;		/* one reference, for the tag's life */
	atomic_long_t buffers;		/* naming it, or TP_SKBTAG_DEAD */
	struct hlist_node node;		/* in tp_skbtags */
	struct tp_skbtag *next_dead;	/* the collector's, once retired */
	struct rcu_head rcu;
};

struct tp_skbtag_slot {
	unsigned long check;		/* tp_skbtag_check() */
	struct tp_skbtag *tag;
};

static DEFINE_HASHTABLE(tp_skbtags, TP_SKBTAG_BITS);
static DEFINE_SPINLOCK(tp_skbtags_lock);	/* changes of tp_skbtags */
/* The tag this CPU attached last, live or retired (or NULL). */
static DEFINE_PER_CPU(struct tp_skbtag *, tp_skbtag_last);
static unsigned long tp_skbtag_secret __read_mostly;

static void tp_skbtag_collect(struct work_struct *work);
static DECLARE_DELAYED_WORK(tp_skbtag_collector, tp_skbtag_collect);

static struct tp_skbtag_slot *tp_skbtag_slot(struct sk_buff *skb)
{
	BUILD_BUG_ON(sizeof(struct tp_skbtag_slot) != TP_SKBTAG_CB_SIZE);
	return (void *)&skb->cb[sizeof(skb->cb) - TP_SKBTAG_CB_SIZE];
}

static unsigned long tp_skbtag_check(const struct sk_buff *skb,
				     const struct tp_skbtag *tag)
{
	return tp_skbtag_secret ^ (unsigned long)tag ^ (unsigned long)skb;
}

/* Every call: RCU keeps the tags and their blobs meanwhile. */
static void tp_skbtag_assert_rcu(void)
{
	RCU_LOCKDEP_WARN(!rcu_read_lock_any_held(),
			 "skbtag used outside an RCU read-side section");
}

/* Written tag first, check last; read in the reverse order. */
static void tp_skbtag_publish(struct sk_buff *skb, struct tp_skbtag *tag)
{
	struct tp_skbtag_slot *slot = tp_skbtag_slot(skb);

	WRITE_ONCE(slot->tag, tag);
	/* Pairs with tp_skbtag_of(): a slot that passes names its tag. */
	smp_wmb();
	WRITE_ONCE(slot->check, tp_skbtag_check(skb, tag));
}

static struct tp_skbtag *tp_skbtag_of(struct sk_buff *skb)
{
	struct tp_skbtag_slot *slot = tp_skbtag_slot(skb);
	unsigned long check = READ_ONCE(slot->check);
	struct tp_skbtag *tag;

	tp_skbtag_assert_rcu();
	if (!check)
		return NULL;
	/* Pairs with tp_skbtag_publish(). */
	smp_rmb();
	tag = READ_ONCE(slot->tag);
	return check == tp_skbtag_check(skb, tag) ? tag : NULL;
}

/* Counts one more buffer naming @tag, unless it is retired. */
static __always_inline bool tp_skbtag_hold(struct tp_skbtag *tag)
{
	return atomic_long_add_unless(&tag->buffers, 1, TP_SKBTAG_DEAD);
}

/*
 * A collection pending sees the count: the count's fall and the work's
 * start (which clears its pending bit) are both full barriers.
 */
static void tp_skbtag_unhold(struct tp_skbtag *tag)
{
	if (atomic_long_dec_and_test(&tag->buffers) &&
	    !delayed_work_pending(&tp_skbtag_collector))
		queue_delayed_work(system_wq, &tp_skbtag_collector,
				   TP_SKBTAG_IDLE);
}

/* The live tag of @bag, held for one more buffer, or NULL. */
static struct tp_skbtag *tp_skbtag_find(const struct tp_bag *bag)
{
	struct tp_skbtag *tag;

	hash_for_each_possible_rcu(tp_skbtags, tag, node, (unsigned long)bag)
		if (tag->bag == bag && tp_skbtag_hold(tag))
			return tag;
	return NULL;
}

/*
 * The tag of @bag, held for one more buffer, made if there is none; it
 * takes over the caller's reference.  NULL: out of memory.  The callers
 * looked for one already, or rarely need this (merge).
 */
static struct tp_skbtag *tp_skbtag_for(struct tp_bag *bag)
{
	struct tp_skbtag *made = kmalloc(sizeof(*made), GFP_ATOMIC | __GFP_NOWARN);
	struct tp_skbtag *tag;

	spin_lock(&tp_skbtags_lock);
	/* Another CPU may have made one meanwhile. */
	tag = tp_skbtag_find(bag);
	if (!tag && made) {
		made->bag = bag;
		atomic_long_set(&made->buffers, 1);
		hash_add_rcu(tp_skbtags, &made->node, (unsigned long)bag);
		spin_unlock(&tp_skbtags_lock);
		return made;
	}
	spin_unlock(&tp_skbtags_lock);
	kfree(made);
	if (!tag)
		atomic_long_inc(&tp_stats.alloc_fails);
	tp_bag_put(bag);
	return tag;
}

bool tp_skbtag_reuse(struct sk_buff *skb, const struct tp_bag *bag)
{
	struct tp_skbtag *tag = this_cpu_read(tp_skbtag_last);

	tp_skbtag_assert_rcu();
	if (!tag || tag->bag != bag || !tp_skbtag_hold(tag)) {
		tag = tp_skbtag_find(bag);
		if (!tag)
			return false;
		this_cpu_write(tp_skbtag_last, tag);
	}
	tp_skbtag_publish(skb, tag);
	return true;
}

void tp_skbtag_attach(struct sk_buff *skb, struct tp_bag *bag)
{
	struct tp_skbtag *tag;

	if (!bag)
		return;
	tag = tp_skbtag_for(bag);
	if (!tag)
		return;
	this_cpu_write(tp_skbtag_last, tag);
	tp_skbtag_publish(skb, tag);
}

/*
 * Clears @skb's slot and returns the tag it named: once per publish.  A
 * slot that is not this load's, for this buffer, is left alone.
 */
static struct tp_skbtag *tp_skbtag_clear(struct sk_buff *skb)
{
	struct tp_skbtag *tag = tp_skbtag_of(skb);

	/* A full barrier: the slot is clear before the count moves. */
	if (!tag || cmpxchg(&tp_skbtag_slot(skb)->check,
			    tp_skbtag_check(skb, tag), 0) !=
		    tp_skbtag_check(skb, tag))
		return NULL;
	return tag;
}

struct tp_bag *tp_skbtag_take(struct sk_buff *skb)
{
	struct tp_skbtag *tag = tp_skbtag_clear(skb);
	struct tp_bag *bag;

	if (!tag)
		return NULL;
	bag = tp_bag_get(tag->bag);
	tp_skbtag_unhold(tag);
	return bag;
}

void tp_skbtag_drop(struct sk_buff *skb)
{
	struct tp_skbtag *tag = tp_skbtag_clear(skb);

	if (tag)
		tp_skbtag_unhold(tag);
}

/*
 * Replaces the slot without claiming it: af_unix appends to a buffer
 * under its receiver's queue lock and iolock, so no read, take or drop of
 * it runs meanwhile (skbtag.h), and a tag's blob never changes.
 */
void tp_skbtag_merge(struct sk_buff *skb, struct tp_bag *bag)
{
	struct tp_skbtag *old = tp_skbtag_of(skb), *tag;
	struct tp_bag *merged;

	if (!bag)
		return;
	merged = tp_bag_get(old ? old->bag : NULL);
	if (tp_limit_merge(&merged, bag, GFP_ATOMIC) || !merged ||
	    (old && merged == old->bag)) {
		tp_bag_put(merged);
		return;
	}
	tag = tp_skbtag_for(merged);
	if (!tag)
		return;
	tp_skbtag_publish(skb, tag);
	if (old)
		tp_skbtag_unhold(old);
}

struct tp_bag *tp_skbtag_get(struct sk_buff *skb)
{
	struct tp_skbtag *tag = tp_skbtag_of(skb);

	return tag ? tp_bag_get(tag->bag) : NULL;
}

const struct tp_bag *tp_skbtag_peek(struct sk_buff *skb)
{
	struct tp_skbtag *tag = tp_skbtag_of(skb);

	return tag ? tag->bag : NULL;
}

long tp_skbtag_count(void)
{
	struct tp_skbtag *tag;
	long count = 0;
	int bkt;

	rcu_read_lock();
	hash_for_each_rcu(tp_skbtags, bkt, tag, node)
		count += max(atomic_long_read(&tag->buffers), 0L);
	rcu_read_unlock();
	return count;
}

static void tp_skbtag_free(struct tp_skbtag *tag)
{
	tp_bag_put(tag->bag);
	kfree(tag);
}

static void tp_skbtag_free_rcu(struct rcu_head *rcu)
{
	tp_skbtag_free(container_of(rcu, struct tp_skbtag, rcu));
}

/*
 * No CPU's last tag is a retired one any more, before the grace period
 * that frees it.  A CPU makes a tag its last only while it holds it, so
 * a retired tag is found here by the collection that retired it.
 */
static void tp_skbtag_forget_retired(void)
{
	int cpu;

	for_each_possible_cpu(cpu) {
		struct tp_skbtag **last = per_cpu_ptr(&tp_skbtag_last, cpu);
		struct tp_skbtag *tag = READ_ONCE(*last);

		if (tag && atomic_long_read(&tag->buffers) == TP_SKBTAG_DEAD)
			cmpxchg(last, tag, NULL);
	}
}

/* Retires the tags no buffer names. */
static void tp_skbtag_collect(struct work_struct *work)
{
	struct tp_skbtag *tag, *retired = NULL;
	struct hlist_node *next;
	int bkt;

	spin_lock(&tp_skbtags_lock);
	hash_for_each_safe(tp_skbtags, bkt, next, tag, node) {
		if (atomic_long_cmpxchg(&tag->buffers, 0, TP_SKBTAG_DEAD))
			continue;
		hash_del_rcu(&tag->node);
		tag->next_dead = retired;
		retired = tag;
	}
	spin_unlock(&tp_skbtags_lock);
	if (!retired)
		return;
	tp_skbtag_forget_retired();
	while (retired) {
		tag = retired;
		retired = tag->next_dead;
		call_rcu(&tag->rcu, tp_skbtag_free_rcu);
	}
}

int tp_skbtag_init(void)
{
	/* Zero would let an untagged buffer's slot pass the check. */
	do {
		tp_skbtag_secret = get_random_long();
	} while (!tp_skbtag_secret);
	return 0;
}

/*
 * The hooks are gone: nothing reads or writes a slot any more, and the
 * slots of buffers still queued fail the next load's check.
 */
void tp_skbtag_exit(void)
{
	struct hlist_node *next;
	struct tp_skbtag *tag;
	int bkt;

	cancel_delayed_work_sync(&tp_skbtag_collector);
	/* The tags retired already are freed by module code. */
	rcu_barrier();
	hash_for_each_safe(tp_skbtags, bkt, next, tag, node) {
		hash_del(&tag->node);
		tp_skbtag_free(tag);
	}
}
