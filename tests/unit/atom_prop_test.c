// SPDX-License-Identifier: MIT
/*
 * Property tests of the atom layer over thousands of random baggages from
 * a fixed, printed seed (TP_TEST_SEED replays another): the merge laws,
 * agreement with an independent sort-based union, the serialize round trip
 * and the trim contract.
 */
#include <stdint.h>
#include <string.h>

#include "kselftest_harness.h"
#include "atom.h"
#include "testutil.h"

#define ROUNDS 3000

/* Half of TU_ATOMS_MAX, so that two lists concatenate into one. */
#define HALF (TU_ATOMS_MAX / 2)

static struct tp_bag *merge(struct tp_bag *a, struct tp_bag *b)
{
	struct tp_bag *out;

	if (tp_bag_merge(a, b, GFP_KERNEL, &out))
		abort();
	return out;
}

/* A blob is valid, its header agrees with its bytes, and empty is NULL. */
static bool well_formed(const struct tp_bag *bag)
{
	u32 count;

	if (!bag)
		return true;
	return bag->len && !tp_bag_validate(bag->data, bag->len, &count) &&
	       count == bag->count;
}

/* Are the non-marker atoms of @pre a prefix of those of @bag? */
static bool atoms_prefix(const struct tp_bag *pre, const struct tp_bag *bag)
{
	struct tp_atom_iter ip, ib;
	const u8 *pa, *ba;
	u32 pl, bl;

	tp_atom_iter_init(&ip, pre);
	tp_atom_iter_init(&ib, bag);
	if (tp_bag_overflowed(pre))
		tp_atom_iter_next(&ip, &pa, &pl);
	if (tp_bag_overflowed(bag))
		tp_atom_iter_next(&ib, &ba, &bl);
	while (tp_atom_iter_next(&ip, &pa, &pl)) {
		if (!tp_atom_iter_next(&ib, &ba, &bl) || tp_atom_cmp(pa, pl, ba, bl))
			return false;
	}
	return true;
}

/* Serialized size of the atom after the first @skip non-marker atoms. */
static size_t next_atom_bytes(const struct tp_bag *bag, u32 skip)
{
	struct tp_atom_iter it;
	const u8 *atom;
	u32 len;

	tp_atom_iter_init(&it, bag);
	if (tp_bag_overflowed(bag))
		tp_atom_iter_next(&it, &atom, &len);
	while (skip--)
		tp_atom_iter_next(&it, &atom, &len);
	if (!tp_atom_iter_next(&it, &atom, &len))
		abort();	/* trim dropped nothing, yet did not share */
	return tp_varint_len(len) + len;
}

TEST(merge_matches_sorted_union)
{
	/*
	 * Shared prefixes shorter than, as long as and longer than the word
	 * tp_atom_cmp() compares first; 0xff and 0x7f tell a signed compare.
	 */
	static const uint8_t prefix[] = "\xff\x7f" "ab\x00\xff" "ba" "\x7f\xff" "abc";
	static const size_t prefix_lens[] = { 0, 5, 7, 8, 9, 12 };
	struct tu_rng rng;
	int i;

	tu_rng_init(&rng, "merge_matches_sorted_union");
	for (i = 0; i < ROUNDS; i++) {
		size_t plen = prefix_lens[i % (sizeof(prefix_lens) / sizeof(prefix_lens[0]))];
		struct tu_atoms la, lb, both;
		struct tp_bag *a, *b, *ab, *expect;

		tu_random_atoms(&rng, &la, HALF, 6);
		tu_random_atoms(&rng, &lb, HALF, 6);
		tu_prefix_atoms(&la, prefix, plen);
		tu_prefix_atoms(&lb, prefix, plen);
		both = la;
		memcpy(both.a + la.n, lb.a, lb.n * sizeof(lb.a[0]));
		both.n = la.n + lb.n;
		/* Each construction checks the other. */
		a = tu_bag_by_merge(&la);
		b = tu_bag_by_sort(&lb);
		expect = tu_bag_by_sort(&both);
		ab = merge(a, b);
		ASSERT_TRUE(well_formed(ab));
		ASSERT_TRUE(tp_bag_equal(expect, ab));
		tp_bag_put(a);
		tp_bag_put(b);
		tp_bag_put(ab);
		tp_bag_put(expect);
	}
	ASSERT_EQ(0, tu_live_bags());
	ASSERT_EQ(0, tu_live_bytes());
}

TEST(merge_is_commutative_associative_idempotent)
{
	struct tu_rng rng;
	int i;

	tu_rng_init(&rng, "merge_is_commutative_associative_idempotent");
	for (i = 0; i < ROUNDS; i++) {
		struct tp_bag *a = tu_bag_random(&rng, 12, 5);
		struct tp_bag *b = tu_bag_random(&rng, 12, 5);
		struct tp_bag *c = tu_bag_random(&rng, 12, 5);
		struct tp_bag *ab = merge(a, b), *ba = merge(b, a);
		struct tp_bag *ab_c = merge(ab, c), *bc = merge(b, c);
		struct tp_bag *a_bc = merge(a, bc);
		struct tp_bag *aa = merge(a, a), *ab_b = merge(ab, b);

		ASSERT_TRUE(tp_bag_equal(ab, ba));
		ASSERT_TRUE(tp_bag_equal(ab_c, a_bc));
		ASSERT_EQ(a, aa);
		ASSERT_EQ(ab, ab_b);	/* absorbing: shared, not copied */
		ASSERT_TRUE(well_formed(ab_c));
		ASSERT_EQ(tp_bag_overflowed(a) || tp_bag_overflowed(b),
			  tp_bag_overflowed(ab));
		tp_bag_put(a);
		tp_bag_put(b);
		tp_bag_put(c);
		tp_bag_put(ab);
		tp_bag_put(ba);
		tp_bag_put(ab_c);
		tp_bag_put(bc);
		tp_bag_put(a_bc);
		tp_bag_put(aa);
		tp_bag_put(ab_b);
	}
	ASSERT_EQ(0, tu_live_bags());
	ASSERT_EQ(0, tu_live_bytes());
}

TEST(serialize_deserialize_round_trip)
{
	uint8_t buf[TU_SERIALIZED_MAX];
	struct tu_rng rng;
	int i;

	tu_rng_init(&rng, "serialize_deserialize_round_trip");
	for (i = 0; i < ROUNDS; i++) {
		struct tp_bag *bag = tu_bag_random(&rng, TU_ATOMS_MAX, TU_ATOM_MAX);
		struct tp_bag *back;
		size_t len = tp_bag_serialize(bag, buf, sizeof(buf));

		ASSERT_EQ(tp_bag_size(bag), len);
		ASSERT_EQ(0, tp_bag_deserialize(buf, len, GFP_KERNEL, &back));
		ASSERT_TRUE(tp_bag_equal(bag, back));
		ASSERT_EQ(tp_bag_count(bag), tp_bag_count(back));
		ASSERT_TRUE(well_formed(back));
		tp_bag_put(bag);
		tp_bag_put(back);
	}
	ASSERT_EQ(0, tu_live_bags());
	ASSERT_EQ(0, tu_live_bytes());
}

TEST(trim_bound_prefix_and_marker)
{
	static const uint8_t marker_buf[] = { 0x00 };
	struct tp_bag *marker = tu_deserialize_or_die(marker_buf, 1);
	struct tu_rng rng;
	int i;

	tu_rng_init(&rng, "trim_bound_prefix_and_marker");
	for (i = 0; i < ROUNDS; i++) {
		struct tp_bag *bag = tu_bag_random(&rng, 24, 8);
		size_t max = tu_below(&rng, tp_bag_size(bag) + 3);
		struct tp_bag *t, *back, *marked;

		ASSERT_EQ(0, tp_bag_trim(bag, max, GFP_KERNEL, &t));
		ASSERT_TRUE(well_formed(t));
		ASSERT_GE(max, tp_bag_size(t));
		ASSERT_TRUE(atoms_prefix(t, bag));
		if (tp_bag_size(bag) <= max) {
			ASSERT_EQ(bag, t);
		} else if (max) {
			ASSERT_TRUE(tp_bag_overflowed(t));
			/* Longest prefix: the next atom would not have fit. */
			ASSERT_LT(max, tp_bag_size(t) +
				  next_atom_bytes(bag, tp_bag_count(t) - 1));
			back = merge(t, bag);
			marked = merge(bag, marker);
			ASSERT_TRUE(tp_bag_equal(marked, back));
			tp_bag_put(back);
			tp_bag_put(marked);
		} else {
			ASSERT_NULL(t);
		}
		tp_bag_put(t);
		tp_bag_put(bag);
	}
	tp_bag_put(marker);
	ASSERT_EQ(0, tu_live_bags());
	ASSERT_EQ(0, tu_live_bytes());
}

TEST_HARNESS_MAIN
