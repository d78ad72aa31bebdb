// SPDX-License-Identifier: MIT
/*
 * Allocation failure in the atom layer.  Each operation that builds a blob
 * (deserialize, merge, trim) is run with tp_atom_malloc failing: it must
 * report TP_ATOM_ENOMEM, leave its output and the live counters untouched
 * and leak nothing.  The paths documented as not allocating (sharing an
 * input, the empty baggage) must not even try.
 */
#include <stdint.h>
#include <string.h>

#include "kselftest_harness.h"
#include "atom.h"
#include "testutil.h"

#define RAW(s) ((const uint8_t *)(s)), (sizeof(s) - 1)

static struct tp_bag *const SENTINEL = (struct tp_bag *)&SENTINEL;

struct snapshot {
	long bags;
	long bytes;
};

static struct snapshot snap(void)
{
	return (struct snapshot){ tu_live_bags(), tu_live_bytes() };
}

static bool same(struct snapshot a, struct snapshot b)
{
	return a.bags == b.bags && a.bytes == b.bytes;
}

TEST(deserialize_fails_cleanly)
{
	struct tp_bag *out = SENTINEL;
	struct snapshot before = snap();

	tu_fail_after(0);
	ASSERT_EQ(TP_ATOM_ENOMEM, tp_bag_deserialize(RAW("\x01" "a"), GFP_KERNEL, &out));
	ASSERT_EQ(1, tu_alloc_calls);
	/* Validation runs first: bad input is reported as such, not as ENOMEM. */
	ASSERT_EQ(TP_ATOM_EUNSORTED, tp_bag_deserialize(RAW("\x01" "b" "\x01" "a"),
							GFP_KERNEL, &out));
	ASSERT_EQ(1, tu_alloc_calls);
	tu_alloc_restore();
	ASSERT_EQ(SENTINEL, out);
	ASSERT_TRUE(same(before, snap()));
}

TEST(merge_fails_cleanly)
{
	struct tp_bag *a = tu_bag_single(RAW("a"));
	struct tp_bag *b = tu_bag_single(RAW("b"));
	struct tp_bag *out = SENTINEL;
	struct snapshot before = snap();

	tu_fail_after(0);
	ASSERT_EQ(TP_ATOM_ENOMEM, tp_bag_merge(a, b, GFP_KERNEL, &out));
	ASSERT_EQ(1, tu_alloc_calls);
	tu_alloc_restore();
	ASSERT_EQ(SENTINEL, out);
	ASSERT_TRUE(same(before, snap()));
	ASSERT_EQ(1, a->ref.refs);
	ASSERT_EQ(1, b->ref.refs);
	tp_bag_put(a);
	tp_bag_put(b);
	ASSERT_EQ(0, tu_live_bags());
	ASSERT_EQ(0, tu_live_bytes());
}

TEST(trim_fails_cleanly)
{
	struct tp_bag *a = tu_deserialize_or_die(RAW("\x01" "a" "\x01" "b"));
	struct tp_bag *out = SENTINEL;
	struct snapshot before = snap();

	tu_fail_after(0);
	ASSERT_EQ(TP_ATOM_ENOMEM, tp_bag_trim(a, 3, GFP_KERNEL, &out));
	ASSERT_EQ(1, tu_alloc_calls);
	tu_alloc_restore();
	ASSERT_EQ(SENTINEL, out);
	ASSERT_TRUE(same(before, snap()));
	ASSERT_EQ(1, a->ref.refs);
	tp_bag_put(a);
	ASSERT_EQ(0, tu_live_bags());
	ASSERT_EQ(0, tu_live_bytes());
}

TEST(sharing_paths_never_allocate)
{
	struct tp_bag *ab = tu_deserialize_or_die(RAW("\x01" "a" "\x01" "b"));
	struct tp_bag *a = tu_bag_single(RAW("a"));
	struct tp_bag *out;

	tu_fail_after(0);
	ASSERT_EQ(0, tp_bag_deserialize(NULL, 0, GFP_KERNEL, &out));
	ASSERT_NULL(out);
	ASSERT_EQ(0, tp_bag_merge(NULL, a, GFP_KERNEL, &out));
	tp_bag_put(out);
	ASSERT_EQ(0, tp_bag_merge(a, a, GFP_KERNEL, &out));
	tp_bag_put(out);
	ASSERT_EQ(0, tp_bag_merge(a, ab, GFP_KERNEL, &out));
	ASSERT_EQ(ab, out);
	tp_bag_put(out);
	ASSERT_EQ(0, tp_bag_trim(ab, 4, GFP_KERNEL, &out));
	ASSERT_EQ(ab, out);
	tp_bag_put(out);
	ASSERT_EQ(0, tp_bag_trim(ab, 0, GFP_KERNEL, &out));
	ASSERT_NULL(out);
	ASSERT_EQ(0, tu_alloc_calls);
	tu_alloc_restore();
	tp_bag_put(a);
	tp_bag_put(ab);
	ASSERT_EQ(0, tu_live_bags());
	ASSERT_EQ(0, tu_live_bytes());
}

/*
 * On random inputs, with every allocation failing: an operation either
 * fails with ENOMEM after trying exactly once and changes nothing, or
 * succeeds without trying by sharing one of its inputs.
 */
TEST(random_operations_under_failing_allocator)
{
	struct tu_rng rng;
	int i;

	tu_rng_init(&rng, "random_operations_under_failing_allocator");
	for (i = 0; i < 2000; i++) {
		struct tp_bag *a = tu_bag_random(&rng, 8, 4);
		struct tp_bag *b = tu_bag_random(&rng, 8, 4);
		size_t max = tu_below(&rng, tp_bag_size(a) + 2);
		struct snapshot before = snap();
		struct tp_bag *out = SENTINEL;
		int err;

		tu_fail_after(0);
		err = tp_bag_merge(a, b, GFP_KERNEL, &out);
		tu_alloc_restore();
		if (err) {
			ASSERT_EQ(TP_ATOM_ENOMEM, err);
			ASSERT_EQ(1, tu_alloc_calls);
			ASSERT_EQ(SENTINEL, out);
		} else {
			ASSERT_EQ(0, tu_alloc_calls);
			ASSERT_TRUE(out == a || out == b);
			tp_bag_put(out);
		}
		ASSERT_TRUE(same(before, snap()));

		out = SENTINEL;
		tu_fail_after(0);
		err = tp_bag_trim(a, max, GFP_KERNEL, &out);
		tu_alloc_restore();
		if (err) {
			ASSERT_EQ(TP_ATOM_ENOMEM, err);
			ASSERT_EQ(SENTINEL, out);
		} else {
			ASSERT_EQ(0, tu_alloc_calls);
			ASSERT_TRUE(out == a || out == NULL);
			tp_bag_put(out);
		}
		ASSERT_TRUE(same(before, snap()));
		tp_bag_put(a);
		tp_bag_put(b);
	}
	ASSERT_EQ(0, tu_live_bags());
	ASSERT_EQ(0, tu_live_bytes());
}

TEST_HARNESS_MAIN
