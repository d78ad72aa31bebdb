// SPDX-License-Identifier: GPL-2.0
/*
 * The sk_buff -> baggage table (skbtag.h).  A module cannot add a field
 * to sk_buff, its control buffer belongs to the protocol and its
 * extensions are a closed list, so tags live in a hash table keyed by the
 * buffer's address.  A tag's baggage is never changed in place: a merge
 * replaces the entry's reference under the entry's lock.  A sent buffer
 * is tagged by inserting at once: a stale tag left at its address (see
 * unix.c) is rare, so it is looked for only when the insertion finds it.
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
	spinlock_t lock;		/* skb, bag */
	const struct sk_buff *skb;	/* NULL once out of the table */
	struct tp_bag *bag;
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

/*
 * The tag of @skb, locked, or NULL; under rcu_read_lock().  Tags are
 * freed at once, not after a grace period (SLAB_TYPESAFE_BY_RCU: a
 * call_rcu() per buffer cost 7 % of a UNIX ping-pong), so the tag a
 * lookup finds may have been freed and given to another buffer since:
 * its key is checked again under its lock.
 */
static struct tp_skbtag *tp_skbtag_lock(const struct sk_buff *skb)
{
	struct tp_skbtag *tag;

	if (!atomic_long_read(&tp_skbtag_n))
		return NULL;
	tag = rhashtable_lookup(&tp_skbtags, &skb, tp_skbtag_params);
	if (!tag)
		return NULL;
	spin_lock(&tag->lock);
	if (tag->skb == skb)
		return tag;
	spin_unlock(&tag->lock);
	return NULL;
}

void tp_skbtag_drop(const struct sk_buff *skb)
{
	struct tp_skbtag *tag;
	struct tp_bag *bag = NULL;

	rcu_read_lock();
	tag = tp_skbtag_lock(skb);
	if (tag) {
		if (!rhashtable_remove_fast(&tp_skbtags, &tag->node,
					    tp_skbtag_params)) {
			tag->skb = NULL;
			swap(bag, tag->bag);
		}
		spin_unlock(&tag->lock);
	}
	rcu_read_unlock();
	if (bag) {
		atomic_long_dec(&tp_skbtag_n);
		tp_bag_put(bag);
		kmem_cache_free(tp_skbtag_cache, tag);
	}
}

/*
 * Returns 0, -EEXIST when @skb has a tag already, or -ENOMEM (counted)
 * when the tag could not be added.
 */
static int tp_skbtag_insert(const struct sk_buff *skb, struct tp_bag *bag)
{
	struct tp_skbtag *tag;
	int err;

	tag = kmem_cache_alloc(tp_skbtag_cache, GFP_ATOMIC | __GFP_NOWARN);
	if (!tag) {
		atomic_long_inc(&tp_stats.alloc_fails);
		return -ENOMEM;
	}
	/* A lookup of the tag's former self may hold the lock. */
	spin_lock(&tag->lock);
	tag->skb = skb;
	tag->bag = tp_bag_get(bag);
	spin_unlock(&tag->lock);
	atomic_long_inc(&tp_skbtag_n);
	err = rhashtable_lookup_insert_fast(&tp_skbtags, &tag->node,
					    tp_skbtag_params);
	if (!err)
		return 0;
	atomic_long_dec(&tp_skbtag_n);
	spin_lock(&tag->lock);
	tag->skb = NULL;
	swap(bag, tag->bag);
	spin_unlock(&tag->lock);
	tp_bag_put(bag);
	kmem_cache_free(tp_skbtag_cache, tag);
	if (err == -EEXIST)
		return err;
	atomic_long_inc(&tp_stats.alloc_fails);
	return -ENOMEM;
}

/* @skb's tag takes @bag (@replace) or merges it; false: it has none. */
static bool tp_skbtag_update(const struct sk_buff *skb, struct tp_bag *bag,
			     bool replace)
{
	struct tp_skbtag *tag;
	struct tp_bag *old = NULL;

	rcu_read_lock();
	tag = tp_skbtag_lock(skb);
	if (tag) {
		if (replace) {
			old = tag->bag;
			tag->bag = tp_bag_get(bag);
		} else {
			tp_limit_merge(&tag->bag, bag, GFP_ATOMIC);
		}
		spin_unlock(&tag->lock);
	}
	rcu_read_unlock();
	tp_bag_put(old);
	return tag != NULL;
}

void tp_skbtag_set(const struct sk_buff *skb, struct tp_bag *bag)
{
	int err = -ENOENT;

	while (bag) {
		err = tp_skbtag_insert(skb, bag);
		if (err != -EEXIST || tp_skbtag_update(skb, bag, true))
			break;
	}
	/* No baggage, or none attached: no stale tag may stay either. */
	if (err && err != -EEXIST)
		tp_skbtag_drop(skb);
}

void tp_skbtag_merge(const struct sk_buff *skb, struct tp_bag *bag)
{
	if (!bag)
		return;
	while (!tp_skbtag_update(skb, bag, false)) {
		if (tp_skbtag_insert(skb, bag) != -EEXIST)
			break;
	}
}

struct tp_bag *tp_skbtag_get(const struct sk_buff *skb)
{
	struct tp_skbtag *tag;
	struct tp_bag *bag = NULL;

	rcu_read_lock();
	tag = tp_skbtag_lock(skb);
	if (tag) {
		bag = tp_bag_get(tag->bag);
		spin_unlock(&tag->lock);
	}
	rcu_read_unlock();
	return bag;
}

/* A tag's lock outlives its uses: initialized once per slab object. */
static void tp_skbtag_ctor(void *ptr)
{
	struct tp_skbtag *tag = ptr;

	spin_lock_init(&tag->lock);
}

int tp_skbtag_init(void)
{
	int err;

	tp_skbtag_cache = kmem_cache_create("tp_skbtag", sizeof(struct tp_skbtag),
					    0, SLAB_TYPESAFE_BY_RCU,
					    tp_skbtag_ctor);
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
	kmem_cache_destroy(tp_skbtag_cache);
}
