// SPDX-License-Identifier: MIT
/*
 * Unit tests of the atom layer (kmod/atom.c): every primitive, its edge
 * cases and its error codes, on hand-written serialized baggages.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kselftest_harness.h"
#include "atom.h"
#include "testutil.h"

/* A string literal as (bytes, length), NULs included. */
#define RAW(s) ((const uint8_t *)(s)), (sizeof(s) - 1)

/* Every test must give back every blob it made. */
#define ASSERT_NO_LEAK() do {				\
	ASSERT_EQ(0, tu_live_bags());			\
	ASSERT_EQ(0, tu_live_bytes());			\
} while (0)

static struct tp_bag *bag_of(const uint8_t *buf, size_t len)
{
	return tu_deserialize_or_die(buf, len);
}

static bool bag_is(const struct tp_bag *bag, const uint8_t *buf, size_t len)
{
	return tp_bag_size(bag) == len && (!len || !memcmp(bag->data, buf, len));
}

static int refs(const struct tp_bag *bag)
{
	return bag->ref.refs;
}

/* A bag that is not NULL, to prove an output was left untouched. */
static struct tp_bag *const SENTINEL = (struct tp_bag *)&SENTINEL;

/* ---- varints --------------------------------------------------------------- */

struct varint_case {
	uint32_t val;
	size_t len;
	uint8_t bytes[TP_VARINT_MAX_BYTES];
};

static const struct varint_case boundaries[] = {
	{ 0, 1, { 0x00 } },
	{ 1, 1, { 0x01 } },
	{ 127, 1, { 0x7f } },
	{ 128, 2, { 0x80, 0x01 } },
	{ 300, 2, { 0xac, 0x02 } },
	{ 16383, 2, { 0xff, 0x7f } },
	{ 16384, 3, { 0x80, 0x80, 0x01 } },
	{ (1u << 21) - 1, 3, { 0xff, 0xff, 0x7f } },
	{ 1u << 21, 4, { 0x80, 0x80, 0x80, 0x01 } },
	{ TP_BAG_MAX_BYTES - 1, 4, { 0xff, 0xff, 0xff, 0x07 } },
};

TEST(varint_boundaries_encode_decode)
{
	size_t i;

	for (i = 0; i < sizeof(boundaries) / sizeof(boundaries[0]); i++) {
		const struct varint_case *c = &boundaries[i];
		uint8_t out[TP_VARINT_MAX_BYTES + 1];
		uint32_t val = 0xdeadbeef;

		memset(out, 0xaa, sizeof(out));
		ASSERT_EQ(c->len, tp_varint_len(c->val));
		ASSERT_EQ(c->len, tp_varint_put(out, c->val));
		ASSERT_EQ(0, memcmp(out, c->bytes, c->len));
		ASSERT_EQ(0xaa, out[c->len]);	/* no byte written past the end */
		ASSERT_EQ((int)c->len, tp_varint_get(c->bytes, c->len, &val));
		ASSERT_EQ(c->val, val);
		/* Trailing bytes are not consumed. */
		ASSERT_EQ((int)c->len, tp_varint_get(out, sizeof(out), &val));
		/* Every strict prefix is truncated. */
		ASSERT_EQ(TP_ATOM_ETRUNCATED, tp_varint_get(c->bytes, c->len - 1, &val));
		ASSERT_EQ(c->val, val);	/* untouched on error */
	}
}

TEST(varint_rejects_overlong_encodings)
{
	uint32_t val = 7;

	ASSERT_EQ(TP_ATOM_EVARINT, tp_varint_get(RAW("\x80\x00"), &val));
	ASSERT_EQ(TP_ATOM_EVARINT, tp_varint_get(RAW("\x81\x00"), &val));
	ASSERT_EQ(TP_ATOM_EVARINT, tp_varint_get(RAW("\xff\x80\x00"), &val));
	ASSERT_EQ(TP_ATOM_EVARINT, tp_varint_get(RAW("\x80\x80\x80\x00"), &val));
	ASSERT_EQ(7u, val);
}

TEST(varint_rejects_too_many_bytes)
{
	uint32_t val = 7;

	ASSERT_EQ(TP_ATOM_EVARINT, tp_varint_get(RAW("\x80\x80\x80\x80\x00"), &val));
	ASSERT_EQ(TP_ATOM_EVARINT, tp_varint_get(RAW("\x80\x80\x80\x80"), &val));
	ASSERT_EQ(TP_ATOM_EVARINT, tp_varint_get(RAW("\xff\xff\xff\xff\x01"), &val));
	ASSERT_EQ(7u, val);
}

TEST(varint_rejects_values_at_or_above_the_ceiling)
{
	uint32_t val = 7;

	/* TP_BAG_MAX_BYTES itself, then the largest 4-byte value. */
	ASSERT_EQ(TP_ATOM_EVARINT, tp_varint_get(RAW("\x80\x80\x80\x08"), &val));
	ASSERT_EQ(TP_ATOM_EVARINT, tp_varint_get(RAW("\xff\xff\xff\x7f"), &val));
	ASSERT_EQ(7u, val);
}

TEST(varint_rejects_truncation)
{
	uint32_t val = 7;

	ASSERT_EQ(TP_ATOM_ETRUNCATED, tp_varint_get(NULL, 0, &val));
	ASSERT_EQ(TP_ATOM_ETRUNCATED, tp_varint_get(RAW("\x80"), &val));
	ASSERT_EQ(TP_ATOM_ETRUNCATED, tp_varint_get(RAW("\xff\xff\xff"), &val));
	ASSERT_EQ(7u, val);
}

TEST(errors_are_distinct)
{
	static const int codes[] = {
		TP_ATOM_OK, TP_ATOM_ETRUNCATED, TP_ATOM_EVARINT,
		TP_ATOM_EUNSORTED, TP_ATOM_ETOOBIG, TP_ATOM_ENOMEM, 42,
	};
	size_t i, j, n = sizeof(codes) / sizeof(codes[0]);

	for (i = 0; i < n; i++)
		for (j = i + 1; j < n; j++)
			ASSERT_STRNE(tp_atom_strerror(codes[i]),
				     tp_atom_strerror(codes[j]));
}

/* ---- ordering ---------------------------------------------------------------- */

static int cmp(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	int c = tp_atom_cmp(a, (uint32_t)alen, b, (uint32_t)blen);

	/* The order must be antisymmetric, whatever the magnitude returned. */
	if ((c > 0) != (tp_atom_cmp(b, (uint32_t)blen, a, (uint32_t)alen) < 0))
		abort();
	return c < 0 ? -1 : c > 0;
}

TEST(atom_order_is_bytewise_with_prefix_first)
{
	ASSERT_EQ(0, cmp(RAW(""), RAW("")));
	ASSERT_EQ(0, cmp(RAW("ab"), RAW("ab")));
	ASSERT_EQ(-1, cmp(RAW(""), RAW("\x00")));
	ASSERT_EQ(-1, cmp(RAW("a"), RAW("ab")));
	ASSERT_EQ(-1, cmp(RAW("ab"), RAW("b")));
	ASSERT_EQ(-1, cmp(RAW("\x00\xff"), RAW("\x01")));
	/* Bytes compare unsigned: 0xff sorts after 0x7f. */
	ASSERT_EQ(-1, cmp(RAW("\x7f"), RAW("\xff")));
	ASSERT_EQ(1, cmp(RAW("b"), RAW("abc")));
	/* Atoms of eight bytes or more compare their first eight as a word. */
	ASSERT_EQ(0, cmp(RAW("abcdefghij"), RAW("abcdefghij")));
	ASSERT_EQ(-1, cmp(RAW("abcdefgh"), RAW("abcdefgi")));
	ASSERT_EQ(-1, cmp(RAW("\x7f" "bcdefgh"), RAW("\xff" "bcdefgh")));
	ASSERT_EQ(1, cmp(RAW("abcdefgz"), RAW("abcdefghij")));
	ASSERT_EQ(-1, cmp(RAW("zbcdefga"), RAW("zbcdefhA")));
	ASSERT_EQ(-1, cmp(RAW("abcdefgh"), RAW("abcdefgh\x00")));
	ASSERT_EQ(-1, cmp(RAW("abcdefgh\x7f"), RAW("abcdefgh\xff")));
	ASSERT_EQ(1, cmp(RAW("abcdefghij\xff"), RAW("abcdefghij\x00\xff")));
}

/* ---- validation ---------------------------------------------------------------- */

static int validate(const uint8_t *buf, size_t len, uint32_t *count)
{
	*count = 0xdead;
	return tp_bag_validate(buf, len, count);
}

TEST(validate_accepts_well_formed)
{
	uint32_t count;

	ASSERT_EQ(0, validate(NULL, 0, &count));
	ASSERT_EQ(0u, count);
	ASSERT_EQ(0, validate(RAW("\x00"), &count));	/* the marker alone */
	ASSERT_EQ(1u, count);
	ASSERT_EQ(0, validate(RAW("\x00\x01\x00"), &count));	/* "" < "\0" */
	ASSERT_EQ(2u, count);
	ASSERT_EQ(0, validate(RAW("\x01" "a" "\x02" "ab" "\x01" "b"), &count));
	ASSERT_EQ(3u, count);
	ASSERT_EQ(0, tp_bag_validate(RAW("\x01" "a"), NULL));
}

TEST(validate_rejects_unsorted_and_duplicates)
{
	uint32_t count;

	ASSERT_EQ(TP_ATOM_EUNSORTED, validate(RAW("\x01" "b" "\x01" "a"), &count));
	ASSERT_EQ(TP_ATOM_EUNSORTED, validate(RAW("\x01" "a" "\x01" "a"), &count));
	ASSERT_EQ(TP_ATOM_EUNSORTED, validate(RAW("\x00\x00"), &count));
	ASSERT_EQ(TP_ATOM_EUNSORTED, validate(RAW("\x02" "ab" "\x01" "a"), &count));
	ASSERT_EQ(TP_ATOM_EUNSORTED, validate(RAW("\x01" "a" "\x00"), &count));
	ASSERT_EQ(0xdeadu, count);
}

TEST(validate_rejects_truncated_and_bad_varints)
{
	uint32_t count;

	ASSERT_EQ(TP_ATOM_ETRUNCATED, validate(RAW("\x03" "ab"), &count));
	ASSERT_EQ(TP_ATOM_ETRUNCATED, validate(RAW("\x01" "a" "\x80"), &count));
	ASSERT_EQ(TP_ATOM_ETRUNCATED, validate(RAW("\x01"), &count));
	ASSERT_EQ(TP_ATOM_EVARINT, validate(RAW("\x80\x00"), &count));
	ASSERT_EQ(TP_ATOM_EVARINT, validate(RAW("\x01" "a" "\x81\x00" "b"), &count));
	ASSERT_EQ(TP_ATOM_EVARINT, validate(RAW("\x80\x80\x80\x08"), &count));
	ASSERT_EQ(0xdeadu, count);
}

TEST(validate_size_ceiling)
{
	size_t len = TP_BAG_MAX_BYTES;
	uint8_t *buf = calloc(1, len + 1);
	uint32_t count;

	ASSERT_NE(NULL, buf);
	/* One atom filling the ceiling exactly: 4-byte varint + data. */
	tp_varint_put(buf, TP_BAG_MAX_BYTES - TP_VARINT_MAX_BYTES);
	ASSERT_EQ(0, validate(buf, len, &count));
	ASSERT_EQ(1u, count);
	ASSERT_EQ(TP_ATOM_ETOOBIG, validate(buf, len + 1, &count));
	free(buf);
}

/* ---- blobs ------------------------------------------------------------------------ */

TEST(deserialize_copies_and_accounts)
{
	uint8_t buf[] = "\x01" "a" "\x01" "b";
	struct tp_bag *bag = SENTINEL;

	ASSERT_EQ(0, tp_bag_deserialize(buf, 4, GFP_KERNEL, &bag));
	buf[1] = 'z';	/* the blob owns a copy */
	ASSERT_TRUE(bag_is(bag, RAW("\x01" "a" "\x01" "b")));
	ASSERT_EQ(2u, tp_bag_count(bag));
	ASSERT_EQ(1, refs(bag));
	ASSERT_EQ(1, tu_live_bags());
	ASSERT_EQ((long)(sizeof(*bag) + 4), tu_live_bytes());
	tp_bag_put(bag);
	ASSERT_NO_LEAK();
}

TEST(deserialize_empty_is_null)
{
	struct tp_bag *bag = SENTINEL;

	ASSERT_EQ(0, tp_bag_deserialize(NULL, 0, GFP_KERNEL, &bag));
	ASSERT_NULL(bag);
	ASSERT_EQ(0u, tp_bag_size(NULL));
	ASSERT_EQ(0u, tp_bag_count(NULL));
	ASSERT_NO_LEAK();
}

TEST(deserialize_error_leaves_output)
{
	struct tp_bag *bag = SENTINEL;

	ASSERT_EQ(TP_ATOM_EUNSORTED, tp_bag_deserialize(RAW("\x01" "b" "\x01" "a"),
							GFP_KERNEL, &bag));
	ASSERT_EQ(TP_ATOM_ETRUNCATED, tp_bag_deserialize(RAW("\x05" "a"), GFP_KERNEL, &bag));
	ASSERT_EQ(TP_ATOM_EVARINT, tp_bag_deserialize(RAW("\x80\x00"), GFP_KERNEL, &bag));
	ASSERT_EQ(SENTINEL, bag);
	ASSERT_NO_LEAK();
}

TEST(get_put_refcount)
{
	struct tp_bag *bag = bag_of(RAW("\x01" "a"));

	ASSERT_NULL(tp_bag_get(NULL));
	tp_bag_put(NULL);
	ASSERT_EQ(bag, tp_bag_get(bag));
	ASSERT_EQ(2, refs(bag));
	tp_bag_put(bag);
	ASSERT_EQ(1, refs(bag));
	ASSERT_EQ(1, tu_live_bags());
	tp_bag_put(bag);
	ASSERT_NO_LEAK();
}

TEST(serialize_copies_out_only_when_it_fits)
{
	struct tp_bag *bag = bag_of(RAW("\x01" "a" "\x02" "bc"));
	uint8_t out[8];

	memset(out, 0xaa, sizeof(out));
	ASSERT_EQ(5u, tp_bag_serialize(bag, out, 4));
	ASSERT_EQ(0xaa, out[0]);
	ASSERT_EQ(5u, tp_bag_serialize(bag, out, 5));
	ASSERT_EQ(0, memcmp(out, "\x01" "a" "\x02" "bc", 5));
	ASSERT_EQ(0xaa, out[5]);
	ASSERT_EQ(0u, tp_bag_serialize(NULL, NULL, 0));
	tp_bag_put(bag);
	ASSERT_NO_LEAK();
}

TEST(equal_compares_content)
{
	struct tp_bag *a = bag_of(RAW("\x01" "a"));
	struct tp_bag *a2 = bag_of(RAW("\x01" "a"));
	struct tp_bag *b = bag_of(RAW("\x01" "b"));
	struct tp_bag *ab = bag_of(RAW("\x01" "a" "\x01" "b"));

	ASSERT_TRUE(tp_bag_equal(NULL, NULL));
	ASSERT_FALSE(tp_bag_equal(NULL, a));
	ASSERT_FALSE(tp_bag_equal(a, NULL));
	ASSERT_TRUE(tp_bag_equal(a, a));
	ASSERT_TRUE(tp_bag_equal(a, a2));
	ASSERT_FALSE(tp_bag_equal(a, b));
	ASSERT_FALSE(tp_bag_equal(a, ab));
	tp_bag_put(a);
	tp_bag_put(a2);
	tp_bag_put(b);
	tp_bag_put(ab);
	ASSERT_NO_LEAK();
}

TEST(overflowed_means_empty_first_atom)
{
	struct tp_bag *marker = bag_of(RAW("\x00" "\x01" "a"));
	/* An atom holding the byte 0x00 is not the marker. */
	struct tp_bag *zero = bag_of(RAW("\x01\x00"));

	ASSERT_FALSE(tp_bag_overflowed(NULL));
	ASSERT_TRUE(tp_bag_overflowed(marker));
	ASSERT_FALSE(tp_bag_overflowed(zero));
	tp_bag_put(marker);
	tp_bag_put(zero);
	ASSERT_NO_LEAK();
}

TEST(iterator_walks_every_atom)
{
	struct tp_bag *bag = bag_of(RAW("\x00" "\x01" "a" "\x03" "bcd"));
	struct tp_atom_iter it;
	const uint8_t *atom;
	uint32_t len;

	tp_atom_iter_init(&it, bag);
	ASSERT_TRUE(tp_atom_iter_next(&it, &atom, &len));
	ASSERT_EQ(0u, len);
	ASSERT_TRUE(tp_atom_iter_next(&it, &atom, &len));
	ASSERT_EQ(1u, len);
	ASSERT_EQ('a', atom[0]);
	ASSERT_TRUE(tp_atom_iter_next(&it, &atom, &len));
	ASSERT_EQ(3u, len);
	ASSERT_EQ(0, memcmp(atom, "bcd", 3));
	ASSERT_FALSE(tp_atom_iter_next(&it, &atom, &len));
	tp_atom_iter_init(&it, NULL);
	ASSERT_FALSE(tp_atom_iter_next(&it, &atom, &len));
	tp_bag_put(bag);
	ASSERT_NO_LEAK();
}

/* ---- merge ----------------------------------------------------------------------------- */

TEST(merge_of_empties)
{
	struct tp_bag *a = bag_of(RAW("\x01" "a"));
	struct tp_bag *out = SENTINEL;

	ASSERT_EQ(0, tp_bag_merge(NULL, NULL, GFP_KERNEL, &out));
	ASSERT_NULL(out);
	ASSERT_EQ(0, tp_bag_merge(NULL, a, GFP_KERNEL, &out));
	ASSERT_EQ(a, out);
	tp_bag_put(out);
	ASSERT_EQ(0, tp_bag_merge(a, NULL, GFP_KERNEL, &out));
	ASSERT_EQ(a, out);
	ASSERT_EQ(2, refs(a));
	ASSERT_EQ(1, tu_live_bags());
	tp_bag_put(out);
	tp_bag_put(a);
	ASSERT_NO_LEAK();
}

TEST(merge_with_self_or_subset_shares_the_input)
{
	struct tp_bag *big = bag_of(RAW("\x00" "\x01" "a" "\x01" "b" "\x01" "c"));
	struct tp_bag *sub = bag_of(RAW("\x01" "a" "\x01" "c"));
	struct tp_bag *out;

	ASSERT_EQ(0, tp_bag_merge(big, big, GFP_KERNEL, &out));
	ASSERT_EQ(big, out);
	tp_bag_put(out);
	ASSERT_EQ(0, tp_bag_merge(sub, big, GFP_KERNEL, &out));
	ASSERT_EQ(big, out);
	tp_bag_put(out);
	ASSERT_EQ(0, tp_bag_merge(big, sub, GFP_KERNEL, &out));
	ASSERT_EQ(big, out);
	ASSERT_EQ(2, tu_live_bags());	/* nothing was allocated */
	tp_bag_put(out);
	tp_bag_put(big);
	tp_bag_put(sub);
	ASSERT_NO_LEAK();
}

TEST(merge_of_equal_copies_shares_the_first)
{
	struct tp_bag *a = bag_of(RAW("\x01" "a" "\x01" "c"));
	struct tp_bag *copy = bag_of(RAW("\x01" "a" "\x01" "c"));
	struct tp_bag *same_size = bag_of(RAW("\x01" "b" "\x01" "c"));
	struct tp_bag *out;

	ASSERT_EQ(0, tp_bag_merge(a, copy, GFP_KERNEL, &out));
	ASSERT_EQ(a, out);
	ASSERT_EQ(3, tu_live_bags());	/* nothing was allocated */
	tp_bag_put(out);
	ASSERT_EQ(0, tp_bag_merge(copy, a, GFP_KERNEL, &out));
	ASSERT_EQ(copy, out);
	tp_bag_put(out);
	/* Same length and count, different atoms: a real union. */
	ASSERT_EQ(0, tp_bag_merge(a, same_size, GFP_KERNEL, &out));
	ASSERT_TRUE(bag_is(out, RAW("\x01" "a" "\x01" "b" "\x01" "c")));
	tp_bag_put(out);
	tp_bag_put(a);
	tp_bag_put(copy);
	tp_bag_put(same_size);
	ASSERT_NO_LEAK();
}

TEST(merge_interleaves_in_order)
{
	struct tp_bag *a = bag_of(RAW("\x01" "a" "\x02" "ab" "\x01" "c" "\x01" "e"));
	struct tp_bag *b = bag_of(RAW("\x00" "\x02" "ab" "\x03" "abc" "\x01" "d"));
	struct tp_bag *out;

	ASSERT_EQ(0, tp_bag_merge(a, b, GFP_KERNEL, &out));
	ASSERT_TRUE(bag_is(out, RAW("\x00" "\x01" "a" "\x02" "ab" "\x03" "abc"
				    "\x01" "c" "\x01" "d" "\x01" "e")));
	ASSERT_EQ(7u, tp_bag_count(out));
	ASSERT_EQ(1, refs(out));
	ASSERT_TRUE(tp_bag_overflowed(out));
	ASSERT_EQ((long)(3 * sizeof(*out) + 9 + 10 + 16), tu_live_bytes());
	tp_bag_put(out);
	tp_bag_put(a);
	tp_bag_put(b);
	ASSERT_NO_LEAK();
}

TEST(merge_keeps_multibyte_lengths_verbatim)
{
	uint8_t buf[2 + 200];
	struct tp_bag *long_atom, *a, *out;

	/* A 200-byte atom of 'b': its length needs two varint bytes. */
	buf[0] = 0xc8;
	buf[1] = 0x01;
	memset(buf + 2, 'b', 200);
	long_atom = bag_of(buf, sizeof(buf));
	a = bag_of(RAW("\x01" "a" "\x01" "c"));
	ASSERT_EQ(0, tp_bag_merge(long_atom, a, GFP_KERNEL, &out));
	ASSERT_EQ(3u, tp_bag_count(out));
	ASSERT_EQ(sizeof(buf) + 4, tp_bag_size(out));
	ASSERT_EQ(0, memcmp(out->data + 2, buf, sizeof(buf)));
	ASSERT_EQ(0, tp_bag_validate(out->data, out->len, NULL));
	tp_bag_put(out);
	tp_bag_put(a);
	tp_bag_put(long_atom);
	ASSERT_NO_LEAK();
}

/* One atom of @len bytes filled with @fill, serialized into a new bag. */
static struct tp_bag *big_bag(uint32_t len, uint8_t fill)
{
	uint8_t *buf = malloc(TP_VARINT_MAX_BYTES + len);
	size_t n = tp_varint_put(buf, len);
	struct tp_bag *bag;

	memset(buf + n, fill, len);
	bag = bag_of(buf, n + len);
	free(buf);
	return bag;
}

TEST(merge_beyond_the_ceiling_is_refused)
{
	struct tp_bag *a = big_bag(TP_BAG_MAX_BYTES / 2, 'a');
	struct tp_bag *b = big_bag(TP_BAG_MAX_BYTES / 2, 'b');
	struct tp_bag *out = SENTINEL;

	ASSERT_EQ(TP_ATOM_ETOOBIG, tp_bag_merge(a, b, GFP_KERNEL, &out));
	ASSERT_EQ(SENTINEL, out);
	ASSERT_EQ(2, tu_live_bags());
	tp_bag_put(a);
	tp_bag_put(b);
	ASSERT_NO_LEAK();
}

/* ---- trim --------------------------------------------------------------------------------- */

/* "a" (2 bytes), "bbbbbb" (7 bytes), "c" (2 bytes): 11 bytes in all. */
#define ABC "\x01" "a" "\x06" "bbbbbb" "\x01" "c"

static struct tp_bag *trim(struct tp_bag *bag, size_t max)
{
	struct tp_bag *out = SENTINEL;

	if (tp_bag_trim(bag, max, GFP_KERNEL, &out))
		abort();
	return out;
}

TEST(trim_that_fits_shares_the_input)
{
	struct tp_bag *bag = bag_of(RAW(ABC));
	struct tp_bag *out;

	out = trim(bag, 11);
	ASSERT_EQ(bag, out);
	tp_bag_put(out);
	out = trim(bag, SIZE_MAX);
	ASSERT_EQ(bag, out);
	tp_bag_put(out);
	ASSERT_NULL(trim(NULL, 0));
	ASSERT_NULL(trim(NULL, 5));
	ASSERT_EQ(1, tu_live_bags());
	tp_bag_put(bag);
	ASSERT_NO_LEAK();
}

TEST(trim_keeps_a_prefix_and_adds_the_marker)
{
	struct tp_bag *bag = bag_of(RAW(ABC));
	struct tp_bag *out;

	/* 10 bytes: room 9 for "a" + "bbbbbb"; "c" is dropped. */
	out = trim(bag, 10);
	ASSERT_TRUE(bag_is(out, RAW("\x00" "\x01" "a" "\x06" "bbbbbb")));
	ASSERT_EQ(3u, tp_bag_count(out));
	tp_bag_put(out);
	/* 8 bytes: "bbbbbb" does not fit, and "c" is not taken past it. */
	out = trim(bag, 8);
	ASSERT_TRUE(bag_is(out, RAW("\x00" "\x01" "a")));
	ASSERT_EQ(2u, tp_bag_count(out));
	tp_bag_put(out);
	out = trim(bag, 3);
	ASSERT_TRUE(bag_is(out, RAW("\x00" "\x01" "a")));
	tp_bag_put(out);
	out = trim(bag, 2);
	ASSERT_TRUE(bag_is(out, RAW("\x00")));
	ASSERT_TRUE(tp_bag_overflowed(out));
	tp_bag_put(out);
	out = trim(bag, 1);
	ASSERT_TRUE(bag_is(out, RAW("\x00")));
	ASSERT_EQ(1u, tp_bag_count(out));
	tp_bag_put(out);
	ASSERT_NULL(trim(bag, 0));
	tp_bag_put(bag);
	ASSERT_NO_LEAK();
}

TEST(trim_of_an_overflowed_bag_keeps_one_marker)
{
	struct tp_bag *bag = bag_of(RAW("\x00" ABC));
	struct tp_bag *out;

	out = trim(bag, 11);
	ASSERT_TRUE(bag_is(out, RAW("\x00" "\x01" "a" "\x06" "bbbbbb")));
	tp_bag_put(out);
	out = trim(bag, 1);
	ASSERT_TRUE(bag_is(out, RAW("\x00")));
	tp_bag_put(out);
	tp_bag_put(bag);
	ASSERT_NO_LEAK();
}

TEST(trim_error_leaves_output)
{
	struct tp_bag *bag = bag_of(RAW(ABC));
	struct tp_bag *out = SENTINEL;

	tu_fail_after(0);
	ASSERT_EQ(TP_ATOM_ENOMEM, tp_bag_trim(bag, 5, GFP_KERNEL, &out));
	tu_alloc_restore();
	ASSERT_EQ(SENTINEL, out);
	tp_bag_put(bag);
	ASSERT_NO_LEAK();
}

TEST_HARNESS_MAIN
