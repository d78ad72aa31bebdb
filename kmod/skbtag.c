// SPDX-License-Identifier: GPL-2.0
/*
 * The sk_buff -> baggage table (skbtag.h).  A module cannot add a field
 * to sk_buff, its control buffer belongs to the protocol and its
 * extensions are a closed list, so tags live in a hash table keyed by the
 * buffer's address.  A tag's baggage is never changed in place: a merge
 * replaces the entry's reference under the entry's lock.
 */

#include <linux/rhashtable.h>
#include <linux/slab.h>
#include <linux/spinlock.h>

#include "atom.h"
#include "limits.h"
#include "skbtag.h"
#include "stats.h"

struct tp_skbtag {
	struct rhash_head node;
	const struct sk_buff *skb;
	spinlock_t lock;		/* bag */
	struct tp_bag *bag;		/* never NULL */
	struct rcu_head rcu;
};

static const struct rhashtable_params tp_skbtag_params = {
	.head_offset = offsetof(struct tp_skbtag, node),
	.key_offset = offsetof(struct tp_skbtag, skb),
	.key_len = sizeof(struct sk_buff *),
	.automatic_shrinking = true,
};

static struct rhashtable tp_skbtags;
static struct kmem_cache *tp_skbtag_cache;
/* Tags in the table: lets untagged traffic skip the lookup. */
static atomic_long_t tp_skbtag_n = ATOMIC_LONG_INIT(0);

long tp_skbtag_count(void)
{
	return atomic_long_read(&tp_skbtag_n);
}

static void tp_skbtag_free_rcu(struct rcu_head *rcu)
{
	struct tp_skbtag *tag = container_of(rcu, struct tp_skbtag, rcu);

	tp_bag_put(tag->bag);
	kmem_cache_free(tp_skbtag_cache, tag);
}

/* Under rcu_read_lock(). */
static struct tp_skbtag *tp_skbtag_find(const struct sk_buff *skb)
{
	if (!atomic_long_read(&tp_skbtag_n))
		return NULL;
	return rhashtable_lookup(&tp_skbtags, &skb, tp_skbtag_params);
}

void tp_skbtag_drop(const struct sk_buff *skb)
{
	struct tp_skbtag *tag;

	rcu_read_lock();
	tag = tp_skbtag_find(skb);
	if (tag && !rhashtable_remove_fast(&tp_skbtags, &tag->node,
					   tp_skbtag_params)) {
		atomic_long_dec(&tp_skbtag_n);
		call_rcu(&tag->rcu, tp_skbtag_free_rcu);
	}
	rcu_read_unlock();
}

/* Returns 0, or -EEXIST when @skb got a tag meanwhile. */
static int tp_skbtag_insert(const struct sk_buff *skb, struct tp_bag *bag)
{
	struct tp_skbtag *tag;
	int err;

	tag = kmem_cache_alloc(tp_skbtag_cache, GFP_ATOMIC | __GFP_NOWARN);
	if (!tag) {
		atomic_long_inc(&tp_stats.alloc_fails);
		return 0;
	}
	tag->skb = skb;
	spin_lock_init(&tag->lock);
	tag->bag = tp_bag_get(bag);
	atomic_long_inc(&tp_skbtag_n);
	err = rhashtable_lookup_insert_fast(&tp_skbtags, &tag->node,
					    tp_skbtag_params);
	if (!err)
		return 0;
	atomic_long_dec(&tp_skbtag_n);
	tp_bag_put(tag->bag);
	kmem_cache_free(tp_skbtag_cache, tag);
	if (err == -EEXIST)
		return err;
	atomic_long_inc(&tp_stats.alloc_fails);
	return 0;
}

void tp_skbtag_set(const struct sk_buff *skb, struct tp_bag *bag)
{
	tp_skbtag_drop(skb);
	if (bag)
		tp_skbtag_insert(skb, bag);
}

void tp_skbtag_merge(const struct sk_buff *skb, struct tp_bag *bag)
{
	struct tp_skbtag *tag;

	if (!bag)
		return;
	do {
		rcu_read_lock();
		tag = tp_skbtag_find(skb);
		if (tag) {
			spin_lock(&tag->lock);
			tp_limit_merge(&tag->bag, bag, GFP_ATOMIC);
			spin_unlock(&tag->lock);
		}
		rcu_read_unlock();
	} while (!tag && tp_skbtag_insert(skb, bag) == -EEXIST);
}

struct tp_bag *tp_skbtag_get(const struct sk_buff *skb)
{
	struct tp_skbtag *tag;
	struct tp_bag *bag = NULL;

	rcu_read_lock();
	tag = tp_skbtag_find(skb);
	if (tag) {
		spin_lock(&tag->lock);
		bag = tp_bag_get(tag->bag);
		spin_unlock(&tag->lock);
	}
	rcu_read_unlock();
	return bag;
}

int tp_skbtag_init(void)
{
	int err;

	tp_skbtag_cache = KMEM_CACHE(tp_skbtag, 0);
	if (!tp_skbtag_cache)
		return -ENOMEM;
	err = rhashtable_init(&tp_skbtags, &tp_skbtag_params);
	if (err)
		kmem_cache_destroy(tp_skbtag_cache);
	return err;
}

static void tp_skbtag_destroy(void *ptr, void *arg)
{
	struct tp_skbtag *tag = ptr;

	atomic_long_dec(&tp_skbtag_n);
	tp_bag_put(tag->bag);
	kmem_cache_free(tp_skbtag_cache, tag);
}

/* The probes are gone: nothing looks tags up any more. */
void tp_skbtag_exit(void)
{
	rhashtable_free_and_destroy(&tp_skbtags, tp_skbtag_destroy, NULL);
	rcu_barrier();
	kmem_cache_destroy(tp_skbtag_cache);
}
