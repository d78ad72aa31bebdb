// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Atom layer: baggage as a sorted sequence of opaque atoms, held in
 * immutable refcounted blobs.  The same source builds into the kernel
 * module and into libtpctl; see atom.h for the API and
 * Documentation/atoms.rst for the byte format.
 */
#include "atom.h"

tp_counter_t tp_atom_live_bags;
tp_counter_t tp_atom_live_bytes;

#ifndef __KERNEL__
void *(*tp_atom_malloc)(size_t size) = malloc;
#endif

const char *tp_atom_strerror(int err)
{
	switch (err) {
	case TP_ATOM_OK:
		return "success";
	case TP_ATOM_ETRUNCATED:
		return "an atom runs past the end of the baggage";
	case TP_ATOM_EVARINT:
		return "malformed, overlong or non-canonical length varint";
	case TP_ATOM_EUNSORTED:
		return "atoms not strictly increasing";
	case TP_ATOM_ETOOBIG:
		return "baggage larger than the atom layer's ceiling";
	case TP_ATOM_ENOMEM:
		return "out of memory";
	default:
		return "unknown atom layer error";
	}
}

/* ---- varints ---------------------------------------------------------- */

size_t tp_varint_len(u32 val)
{
	size_t n = 1;

	while (val >= 0x80) {
		val >>= 7;
		n++;
	}
	return n;
}

size_t tp_varint_put(u8 *out, u32 val)
{
	size_t n = 0;

	while (val >= 0x80) {
		out[n++] = (u8)(val | 0x80);
		val >>= 7;
	}
	out[n++] = (u8)val;
	return n;
}

/*
 * Only one encoding per value is accepted, so that equal baggages are equal
 * byte strings and merge can compare and copy atoms without re-encoding.
 */
int tp_varint_get(const u8 *in, size_t avail, u32 *val)
{
	u32 v = 0;
	size_t i;

	for (i = 0; i < TP_VARINT_MAX_BYTES; i++) {
		if (i == avail)
			return TP_ATOM_ETRUNCATED;
		v |= (u32)(in[i] & 0x7f) << (7 * i);
		if (in[i] & 0x80)
			continue;
		/* A zero final group after the first is padding: overlong. */
		if (i > 0 && in[i] == 0)
			return TP_ATOM_EVARINT;
		/*
		 * No atom can be this long; it is a bad length field, not a
		 * baggage too big to hold, so callers can tell the two apart.
		 */
		if (v >= TP_BAG_MAX_BYTES)
			return TP_ATOM_EVARINT;
		*val = v;
		return (int)i + 1;
	}
	return TP_ATOM_EVARINT;
}

/* ---- atoms ---------------------------------------------------------------- */

/*
 * Atoms usually differ early: their first eight bytes, compared as one
 * big-endian word, settle most comparisons; memcmp takes the rest.
 */
#define TP_CMP_WORD_BYTES	8

static inline int tp_cmp(const u8 *a, u32 alen, const u8 *b, u32 blen)
{
	u32 n = alen < blen ? alen : blen;
	u32 i = 0;
	int c;

	if (n >= TP_CMP_WORD_BYTES) {
		u64 x = tp_load_be64(a), y = tp_load_be64(b);

		if (x != y)
			return x < y ? -1 : 1;
		i = TP_CMP_WORD_BYTES;
	} else {
		for (; i < n; i++) {
			if (a[i] != b[i])
				return a[i] < b[i] ? -1 : 1;
		}
	}
	if (n > i) {
		c = memcmp(a + i, b + i, n - i);
		if (c)
			return c;
	}
	return (alen > blen) - (alen < blen);
}

int tp_atom_cmp(const u8 *a, u32 alen, const u8 *b, u32 blen)
{
	return tp_cmp(a, alen, b, blen);
}

void tp_atom_iter_init(struct tp_atom_iter *it, const struct tp_bag *bag)
{
	it->pos = bag ? bag->data : NULL;
	it->end = bag ? bag->data + bag->len : NULL;
}

/* Inlined into the merge and trim loops, which are the hot paths. */
static inline bool tp_iter_next(struct tp_atom_iter *it, const u8 **atom,
				u32 *len)
{
	size_t avail = it->end - it->pos;
	u32 n;
	int used;

	if (!avail)
		return false;
	/* Most atoms are shorter than 128 bytes: a one-byte varint. */
	if (*it->pos < 0x80) {
		n = *it->pos;
		used = 1;
	} else {
		used = tp_varint_get(it->pos, avail, &n);
	}
	/* Blobs are validated when built; stop rather than overrun if not. */
	if (used < 0 || n > avail - used) {
		it->pos = it->end;
		return false;
	}
	*atom = it->pos + used;
	*len = n;
	it->pos += used + n;
	return true;
}

bool tp_atom_iter_next(struct tp_atom_iter *it, const u8 **atom, u32 *len)
{
	return tp_iter_next(it, atom, len);
}

int tp_bag_validate(const u8 *buf, size_t len, u32 *count)
{
	const u8 *prev = NULL;
	u32 prev_len = 0;
	u32 n = 0;
	size_t off = 0;

	if (len > TP_BAG_MAX_BYTES)
		return TP_ATOM_ETOOBIG;
	while (off < len) {
		u32 alen;
		int used = tp_varint_get(buf + off, len - off, &alen);

		if (used < 0)
			return used;
		off += used;
		if (alen > len - off)
			return TP_ATOM_ETRUNCATED;
		if (prev && tp_cmp(prev, prev_len, buf + off, alen) >= 0)
			return TP_ATOM_EUNSORTED;
		prev = buf + off;
		prev_len = alen;
		off += alen;
		n++;
	}
	if (count)
		*count = n;
	return TP_ATOM_OK;
}

/* ---- blobs ---------------------------------------------------------------- */

/* Every blob is born here, so the live counters see every allocation. */
static struct tp_bag *tp_bag_alloc(u32 len, u32 count, gfp_t gfp)
{
	size_t size = sizeof(struct tp_bag) + len;
	struct tp_bag *bag = tp_bag_kmalloc(size, gfp);

	if (!bag)
		return NULL;
	tp_refcount_set(&bag->ref, 1);
	bag->len = len;
	bag->count = count;
	tp_counter_add(&tp_atom_live_bags, 1);
	tp_counter_add(&tp_atom_live_bytes, (long)size);
	return bag;
}

void tp_bag_release(struct tp_bag *bag)
{
	tp_counter_add(&tp_atom_live_bags, -1);
	tp_counter_add(&tp_atom_live_bytes, -(long)(sizeof(*bag) + bag->len));
	tp_bag_kfree(bag);
}

/* The marker is the empty atom, whose varint is the single byte 0x00. */
bool tp_bag_overflowed(const struct tp_bag *bag)
{
	return bag && bag->len && bag->data[0] == 0;
}

/* Canonical encoding makes byte equality the same as atom equality. */
bool tp_bag_equal(const struct tp_bag *a, const struct tp_bag *b)
{
	u32 len = tp_bag_size(a);

	if (a == b)
		return true;
	if (len != tp_bag_size(b))
		return false;
	return !len || !memcmp(a->data, b->data, len);
}

size_t tp_bag_serialize(const struct tp_bag *bag, u8 *out, size_t cap)
{
	u32 len = tp_bag_size(bag);

	if (len && len <= cap)
		memcpy(out, bag->data, len);
	return len;
}

int tp_bag_deserialize(const u8 *buf, size_t len, gfp_t gfp,
		       struct tp_bag **out)
{
	struct tp_bag *bag;
	u32 count;
	int err = tp_bag_validate(buf, len, &count);

	if (err)
		return err;
	if (!len) {
		*out = NULL;
		return TP_ATOM_OK;
	}
	bag = tp_bag_alloc((u32)len, count, gfp);
	if (!bag)
		return TP_ATOM_ENOMEM;
	memcpy(bag->data, buf, len);
	*out = bag;
	return TP_ATOM_OK;
}

/* ---- merge ------------------------------------------------------------------ */

/* Appends the @n bytes at @from, or only counts them when !@out. */
static inline void tp_emit(u8 *out, u32 *len, const u8 *from, size_t n)
{
	if (out && n)
		memcpy(out + *len, from, n);
	*len += n;
}

/*
 * Walks @a and @b in step and emits their union.  Run twice: once with
 * @out NULL to size the result (and learn whether it is one of the inputs),
 * once to fill it.  Equal atoms have equal encodings, so each atom is
 * copied verbatim, varint included, from a side that holds it: x and y
 * point at the varint of each side's current atom.
 */
static u32 tp_merge_walk(const struct tp_bag *a, const struct tp_bag *b,
			 u8 *out, u32 *count)
{
	struct tp_atom_iter xi, yi;
	const u8 *x, *y, *xa, *ya;
	u32 xl, yl;
	u32 len = 0;
	u32 common = 0;

	tp_atom_iter_init(&xi, a);
	tp_atom_iter_init(&yi, b);
	x = xi.pos;
	y = yi.pos;
	if (!tp_iter_next(&xi, &xa, &xl) || !tp_iter_next(&yi, &ya, &yl))
		goto rest;
	for (;;) {
		int c = tp_cmp(xa, xl, ya, yl);

		if (c > 0)
			tp_emit(out, &len, y, yi.pos - y);
		if (c >= 0) {
			y = yi.pos;
			common += !c;
		}
		if (c <= 0) {
			tp_emit(out, &len, x, xi.pos - x);
			x = xi.pos;
			if (!tp_iter_next(&xi, &xa, &xl))
				break;
		}
		if (c >= 0 && !tp_iter_next(&yi, &ya, &yl))
			break;
	}
rest:
	/* One side is spent; the other's tail is sorted: copy it whole. */
	tp_emit(out, &len, x, xi.end - x);
	tp_emit(out, &len, y, yi.end - y);
	*count = tp_bag_count(a) + tp_bag_count(b) - common;
	return len;
}

int tp_bag_merge(struct tp_bag *a, struct tp_bag *b, gfp_t gfp,
		 struct tp_bag **out)
{
	struct tp_bag *bag;
	u32 len, count;

	/* Sharing an input is both cheaper and what keeps branches O(1). */
	if (!a || a == b) {
		*out = tp_bag_get(b);
		return TP_ATOM_OK;
	}
	/*
	 * Copies of one baggage (the same context back from a pipe or off
	 * the wire) are common and cheaper to compare whole than to walk.
	 */
	if (!b || (a->len == b->len && a->count == b->count &&
		   !memcmp(a->data, b->data, a->len))) {
		*out = tp_bag_get(a);
		return TP_ATOM_OK;
	}
	len = tp_merge_walk(a, b, NULL, &count);
	/* The union contains both inputs, so equal counts mean equal sets. */
	if (count == a->count || count == b->count) {
		*out = tp_bag_get(count == a->count ? a : b);
		return TP_ATOM_OK;
	}
	if (len > TP_BAG_MAX_BYTES)
		return TP_ATOM_ETOOBIG;
	bag = tp_bag_alloc(len, count, gfp);
	if (!bag)
		return TP_ATOM_ENOMEM;
	tp_merge_walk(a, b, bag->data, &count);
	*out = bag;
	return TP_ATOM_OK;
}

/* ---- trim ------------------------------------------------------------------- */

/*
 * Bytes of the longest prefix of @bag's atoms, the marker excluded, that
 * fits in @room; *count gets the number of those atoms.
 */
static u32 tp_trim_prefix(const struct tp_bag *bag, const u8 **first,
			  size_t room, u32 *count)
{
	struct tp_atom_iter it;
	const u8 *atom;
	u32 alen;
	u32 kept = 0;
	u32 n = 0;

	tp_atom_iter_init(&it, bag);
	if (tp_bag_overflowed(bag))
		it.pos++;
	*first = it.pos;
	while (tp_iter_next(&it, &atom, &alen)) {
		if ((size_t)(it.pos - *first) > room)
			break;
		kept = it.pos - *first;
		n++;
	}
	*count = n;
	return kept;
}

int tp_bag_trim(struct tp_bag *bag, size_t max_bytes, gfp_t gfp,
		struct tp_bag **out)
{
	struct tp_bag *trimmed;
	const u8 *first;
	u32 len, count;

	if (tp_bag_size(bag) <= max_bytes) {
		*out = tp_bag_get(bag);
		return TP_ATOM_OK;
	}
	if (!max_bytes) {
		*out = NULL;
		return TP_ATOM_OK;
	}
	/* One byte is reserved for the marker, which leads the result. */
	len = tp_trim_prefix(bag, &first, max_bytes - 1, &count);
	trimmed = tp_bag_alloc(len + 1, count + 1, gfp);
	if (!trimmed)
		return TP_ATOM_ENOMEM;
	trimmed->data[0] = 0;
	memcpy(trimmed->data + 1, first, len);
	*out = trimmed;
	return TP_ATOM_OK;
}
