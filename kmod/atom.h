/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * Atom layer: the data-agnostic core of the tracing plane.
 *
 * A baggage is a strictly increasing (lexicographic, a prefix sorts first)
 * sequence of atoms, which are arbitrary byte strings.  Its serialized form
 * is every atom prefixed by its length as a canonical unsigned LEB128
 * varint, concatenated.  In memory a baggage *is* its serialized form, held
 * in an immutable, refcounted blob:
 *
 *  - the empty baggage is the NULL pointer (it costs no memory);
 *  - branch is a reference (tp_bag_get), never a byte copy;
 *  - every operation that changes a baggage builds a new blob.
 *
 * The zero-length atom is the overflow marker: it sorts before every other
 * atom, so it survives any merge and tells readers that trim dropped atoms.
 *
 * Documented byte by byte in Documentation/atoms.rst.
 */
#ifndef TP_ATOM_H
#define TP_ATOM_H

#include "atom_compat.h"

/* Hard ceiling on a serialized baggage, so every size fits in a u32. */
#define TP_BAG_MAX_BYTES	(1u << 24)
/* A canonical varint for a length below TP_BAG_MAX_BYTES takes <= 4 bytes. */
#define TP_VARINT_MAX_BYTES	4

struct tp_bag {
	tp_refcount_t ref;
	u32 len;		/* bytes in data[] */
	u32 count;		/* atoms in data[] */
	tp_rcu_head_t rcu;	/* kernel: deferred free; userspace: empty */
	u8 data[];		/* serialized atoms, strictly increasing */
};

/* Errors from the atom layer; each has a distinct meaning for the caller. */
enum tp_atom_err {
	TP_ATOM_OK = 0,
	TP_ATOM_ETRUNCATED = -1,	/* an atom's length runs past the end */
	TP_ATOM_EVARINT = -2,		/* malformed, overlong or non-canonical varint */
	TP_ATOM_EUNSORTED = -3,		/* atoms not strictly increasing (or repeated) */
	TP_ATOM_ETOOBIG = -4,		/* larger than TP_BAG_MAX_BYTES */
	TP_ATOM_ENOMEM = -5,		/* allocation failed; nothing changed */
};

/* Live-object accounting, read by the module's status and leak check. */
extern tp_counter_t tp_atom_live_bags;
extern tp_counter_t tp_atom_live_bytes;

const char *tp_atom_strerror(int err);

/* Varints: canonical unsigned LEB128 of values < TP_BAG_MAX_BYTES. */
size_t tp_varint_len(u32 val);
size_t tp_varint_put(u8 *out, u32 val);
/* Returns bytes consumed (> 0) or a negative enum tp_atom_err. */
int tp_varint_get(const u8 *in, size_t avail, u32 *val);

/* Total order on atoms: memcmp on the common prefix, then shorter first. */
int tp_atom_cmp(const u8 *a, u32 alen, const u8 *b, u32 blen);

/* Walks the atoms of a *validated* serialized buffer. */
struct tp_atom_iter {
	const u8 *pos;
	const u8 *end;
};

void tp_atom_iter_init(struct tp_atom_iter *it, const struct tp_bag *bag);
/* Returns true and the next atom, or false at the end. */
bool tp_atom_iter_next(struct tp_atom_iter *it, const u8 **atom, u32 *len);

/* Frees a blob whose last reference went: for tp_bag_put() only. */
void tp_bag_release(struct tp_bag *bag);

/*
 * Branch and release.  Both accept NULL, the empty baggage.  Inline: every
 * call the module watches takes and drops references.
 */
static inline struct tp_bag *tp_bag_get(struct tp_bag *bag)
{
	if (bag)
		tp_refcount_inc(&bag->ref);
	return bag;
}

static inline void tp_bag_put(struct tp_bag *bag)
{
	if (bag && tp_refcount_dec_and_test(&bag->ref))
		tp_bag_release(bag);
}

static inline u32 tp_bag_size(const struct tp_bag *bag)
{
	return bag ? bag->len : 0;
}

static inline u32 tp_bag_count(const struct tp_bag *bag)
{
	return bag ? bag->count : 0;
}

/* True when the baggage holds the overflow marker. */
bool tp_bag_overflowed(const struct tp_bag *bag);
bool tp_bag_equal(const struct tp_bag *a, const struct tp_bag *b);

/*
 * Checks that @buf is a well-formed serialized baggage: every varint
 * canonical, every length in bounds, atoms strictly increasing.  On success
 * stores the number of atoms in *count (may be NULL) and returns 0.
 */
int tp_bag_validate(const u8 *buf, size_t len, u32 *count);

/*
 * Writes @bag's serialized form into @out when it fits in @cap bytes and
 * returns its size either way (0 for the empty baggage).
 */
size_t tp_bag_serialize(const struct tp_bag *bag, u8 *out, size_t cap);

/*
 * Validates and copies @buf into a new blob.  An empty buffer yields
 * *out = NULL, the empty baggage.  On error *out is untouched.
 */
int tp_bag_deserialize(const u8 *buf, size_t len, gfp_t gfp, struct tp_bag **out);

/*
 * Lexicographic union of @a and @b into *out (a new reference).  When the
 * union equals one of the inputs, *out is another reference to that input
 * and nothing is allocated.  On error *out is untouched.
 */
int tp_bag_merge(struct tp_bag *a, struct tp_bag *b, gfp_t gfp, struct tp_bag **out);

/*
 * The longest prefix of @bag's atoms that, with the overflow marker added,
 * serializes into at most @max_bytes; a baggage that already fits is
 * returned as another reference.  With @max_bytes == 0 the result is empty.
 * On error *out is untouched.
 */
int tp_bag_trim(struct tp_bag *bag, size_t max_bytes, gfp_t gfp, struct tp_bag **out);

#endif /* TP_ATOM_H */
