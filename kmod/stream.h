/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The baggage of a byte stream: a bounded list of [start, end) ranges of
 * u64 stream offsets, sorted and disjoint, each holding a reference to the
 * baggage of the bytes in it.  Bytes in no range carry no baggage.  A
 * writer attaches its baggage to the range it wrote; a reader collects the
 * merge of the ranges overlapping what it read, and the stream forgets
 * what every reader is past.  Documented in Documentation/transit.rst.
 *
 * Generic: pipes use it (kmod/pipe.c), any other byte stream can.  The
 * caller serializes all calls on one stream (its own spinlock); every call
 * works in atomic context with GFP_ATOMIC.
 */
#ifndef TP_STREAM_H
#define TP_STREAM_H

#include <linux/gfp.h>
#include <linux/list.h>
#include <linux/types.h>

struct tp_bag;
struct tp_range;

struct tp_stream {
	struct list_head ranges;	/* struct tp_range, by start */
	u32 count;
	/*
	 * The last range consumed, kept for the next attach: a stream whose
	 * reader keeps up (every write read before the next) then allocates
	 * nothing.  Not counted as live.
	 */
	struct tp_range *spare;
};

int tp_stream_cache_init(void);
void tp_stream_cache_exit(void);

void tp_stream_init(struct tp_stream *s);
/* Drops every range. */
void tp_stream_free(struct tp_stream *s);

/*
 * Gives the bytes [@start, @end) the baggage @bag (the caller keeps its
 * reference).  Where they overlap ranges already there, those ranges and
 * the new one become one range with the merge of their baggage (the
 * caller attaches overlapping ranges only when it cannot know better).
 * Adjacent ranges with equal baggage coalesce.  Beyond max_ranges, the
 * two newest ranges merge into one (counted as a range merge).  Returns 0
 * or -ENOMEM; on error the bytes may carry less baggage than asked, and
 * the list may exceed max_ranges by one, but it stays well-formed.
 */
int tp_stream_attach(struct tp_stream *s, u64 start, u64 end,
		     struct tp_bag *bag, gfp_t gfp);

/*
 * *@out := the merge of the baggage of every range overlapping
 * [@start, @end), a new reference (NULL: none).  Returns 0 or -ENOMEM.
 */
int tp_stream_collect(const struct tp_stream *s, u64 start, u64 end,
		      gfp_t gfp, struct tp_bag **out);

/* Forgets the bytes before @upto: no reader will ask for them again. */
void tp_stream_consume(struct tp_stream *s, u64 upto);

/* Ranges alive in all streams, for STATUS and the leak check. */
long tp_stream_live_ranges(void);

#endif /* TP_STREAM_H */
