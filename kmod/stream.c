// SPDX-License-Identifier: GPL-2.0
/*
 * The baggage of a byte stream as a list of ranges (see stream.h).
 *
 * A list rather than an array: writers append at the tail and readers
 * consume from the head, so both ends are O(1), and no operation ever
 * needs more than one small allocation, which matters in the atomic
 * context of the probes that call it.  Overlaps only come from writers
 * whose exact place in the stream is unknown; they are rare and collapse
 * into one range, so the search for them starts at the tail.
 */

#include <linux/slab.h>

#include "atom.h"
#include "limits.h"
#include "stats.h"
#include "stream.h"

struct tp_range {
	struct list_head node;
	u64 start, end;
	struct tp_bag *bag;	/* never NULL: bytes without baggage have no range */
};

static struct kmem_cache *tp_range_cache;
static atomic_long_t tp_range_count = ATOMIC_LONG_INIT(0);

int tp_stream_cache_init(void)
{
	tp_range_cache = KMEM_CACHE(tp_range, 0);
	return tp_range_cache ? 0 : -ENOMEM;
}

void tp_stream_cache_exit(void)
{
	kmem_cache_destroy(tp_range_cache);
}

long tp_stream_live_ranges(void)
{
	return atomic_long_read(&tp_range_count);
}

void tp_stream_init(struct tp_stream *s)
{
	INIT_LIST_HEAD(&s->ranges);
	s->count = 0;
	s->spare = NULL;
}

static struct tp_range *tp_range_new(struct tp_stream *s, u64 start, u64 end,
				     struct tp_bag *bag, gfp_t gfp)
{
	struct tp_range *r = s->spare;

	if (r)
		s->spare = NULL;
	else
		r = kmem_cache_alloc(tp_range_cache, gfp | __GFP_NOWARN);
	if (!r) {
		atomic_long_inc(&tp_stats.alloc_fails);
		return NULL;
	}
	atomic_long_inc(&tp_range_count);
	r->start = start;
	r->end = end;
	r->bag = tp_bag_get(bag);
	return r;
}

static void tp_range_del(struct tp_stream *s, struct tp_range *r)
{
	list_del(&r->node);
	s->count--;
	tp_bag_put(r->bag);
	atomic_long_dec(&tp_range_count);
	if (s->spare)
		kmem_cache_free(tp_range_cache, r);
	else
		s->spare = r;
}

void tp_stream_free(struct tp_stream *s)
{
	struct tp_range *r, *tmp;

	list_for_each_entry_safe(r, tmp, &s->ranges, node)
		tp_range_del(s, r);
	if (s->spare)
		kmem_cache_free(tp_range_cache, s->spare);
	s->spare = NULL;
}

/* The range that @r ends in merges the one after it, @next. */
static int tp_range_absorb(struct tp_stream *s, struct tp_range *r,
			   struct tp_range *next, gfp_t gfp)
{
	int err = tp_limit_merge(&r->bag, next->bag, gfp);

	if (err)
		return err;
	r->end = max(r->end, next->end);
	tp_range_del(s, next);
	return 0;
}

/*
 * Collapses @first and the ranges after it that start before @end into
 * @first, which then spans [min(start), max(end)) with the merge of all
 * their baggage and @bag's.
 */
static int tp_stream_collapse(struct tp_stream *s, struct tp_range *first,
			      u64 start, u64 end, struct tp_bag *bag, gfp_t gfp)
{
	struct tp_range *next;
	int err;

	err = tp_limit_merge(&first->bag, bag, gfp);
	if (err)
		return err;
	first->start = min(first->start, start);
	first->end = max(first->end, end);
	while (!list_is_last(&first->node, &s->ranges)) {
		next = list_next_entry(first, node);
		if (next->start >= first->end)
			break;
		err = tp_range_absorb(s, first, next, gfp);
		if (err)
			return err;
	}
	return 0;
}

/*
 * The range before which [@start, @end) goes: the last one that starts
 * at or before @start, or the list head.  Sets *@overlap to the first
 * range overlapping [@start, @end), if any.
 */
static struct list_head *tp_stream_find(struct tp_stream *s, u64 start,
					u64 end, struct tp_range **overlap)
{
	struct tp_range *r;

	*overlap = NULL;
	list_for_each_entry_reverse(r, &s->ranges, node) {
		if (r->end <= start)
			return &r->node;
		if (r->start < end)
			*overlap = r;
	}
	return &s->ranges;
}

/* Inserts [@start, @end) after @pos, or extends the range at @pos. */
static int tp_stream_insert(struct tp_stream *s, struct list_head *pos,
			    u64 start, u64 end, struct tp_bag *bag, gfp_t gfp)
{
	struct tp_range *prev = pos == &s->ranges ? NULL :
				list_entry(pos, struct tp_range, node);
	struct tp_range *r;

	if (prev && prev->end == start && tp_bag_equal(prev->bag, bag)) {
		prev->end = end;
		return 0;
	}
	r = tp_range_new(s, start, end, bag, gfp);
	if (!r)
		return -ENOMEM;
	list_add(&r->node, pos);
	s->count++;
	return 0;
}

/* Beyond max_ranges: the two newest ranges become one. */
static int tp_stream_cap(struct tp_stream *s, gfp_t gfp)
{
	struct tp_range *last, *prev;
	int err;

	while (s->count > tp_limit_max_ranges()) {
		last = list_last_entry(&s->ranges, struct tp_range, node);
		prev = list_prev_entry(last, node);
		err = tp_range_absorb(s, prev, last, gfp);
		if (err)
			return err;
		atomic_long_inc(&tp_stats.range_merges);
	}
	return 0;
}

int tp_stream_attach(struct tp_stream *s, u64 start, u64 end,
		     struct tp_bag *bag, gfp_t gfp)
{
	struct tp_range *overlap;
	struct list_head *pos;
	int err;

	if (!bag || start >= end)
		return 0;
	pos = tp_stream_find(s, start, end, &overlap);
	if (overlap)
		err = tp_stream_collapse(s, overlap, start, end, bag, gfp);
	else
		err = tp_stream_insert(s, pos, start, end, bag, gfp);
	if (err)
		return err;
	return tp_stream_cap(s, gfp);
}

int tp_stream_collect(const struct tp_stream *s, u64 start, u64 end,
		      gfp_t gfp, struct tp_bag **out)
{
	struct tp_bag *acc = NULL;
	struct tp_range *r;
	int err;

	list_for_each_entry(r, &s->ranges, node) {
		if (r->start >= end)
			break;
		if (r->end <= start)
			continue;
		err = tp_limit_merge(&acc, r->bag, gfp);
		if (err) {
			tp_bag_put(acc);
			return err;
		}
	}
	*out = acc;
	return 0;
}

void tp_stream_consume(struct tp_stream *s, u64 upto)
{
	struct tp_range *r, *tmp;

	list_for_each_entry_safe(r, tmp, &s->ranges, node) {
		if (r->start >= upto)
			return;
		if (r->end > upto) {
			r->start = upto;
			return;
		}
		tp_range_del(s, r);
	}
}
