// SPDX-License-Identifier: MIT
/*
 * Property tests of the typed baggage layer over thousands of random bags:
 * the typed merge is a semilattice (commutative, associative, idempotent),
 * it is exactly the kernel's atom union, decoding is the inverse of
 * encoding, and P-counters count every increment exactly once whatever the
 * history of branches and merges.  The seed is fixed and printed; set
 * BAG_SEED to replay another one.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kselftest_harness.h"
#include "atom.h"
#include "tpctl.h"

#define ROUNDS		3000

static uint64_t rng;

static void seed_rng(void)
{
	const char *env = getenv("BAG_SEED");

	rng = env ? strtoull(env, NULL, 0) : 0x7a61c0ffeeULL;
	fprintf(stderr, "# seed %#llx (BAG_SEED)\n", (unsigned long long)rng);
	rng |= 1;
}

/* xorshift64*: small, fast and reproducible. */
static uint64_t rnd(void)
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * 0x2545f4914f6cdd1dULL;
}

static size_t pick(size_t n)
{
	return (size_t)(rnd() % n);
}

static const char *const keys[] = { "a", "b", "c", "tenant", "x.y" };
static const char *const strings[] = { "", "x", "y", "alice", "bob" };
static const int64_t ints[] = { INT64_MIN, -1, 0, 5, INT64_MAX };

static int64_t random_int(void)
{
	return pick(2) ? ints[pick(5)] : (int64_t)rnd();
}

static void fill_random(struct tpctl_bag *bag, int depth);

/* One random operation; results are ignored where a kind conflict is legal. */
static void random_op(struct tpctl_bag *bag, int depth)
{
	const char *key = keys[pick(5)];
	char replica[2] = { (char)('1' + pick(3)), 0 };
	struct tpctl_bag *child;

	switch (pick(10)) {
	case 0:
		tpctl_bag_set_string(bag, key, strings[pick(5)]);
		break;
	case 1:
		tpctl_bag_set_bytes(bag, key, strings[pick(5)], pick(2));
		break;
	case 2:
		tpctl_bag_set_int(bag, key, random_int());
		break;
	case 3:
		tpctl_bag_set_uint(bag, key, pick(2) ? UINT64_MAX : rnd() % 4);
		break;
	case 4:
		tpctl_bag_add_string(bag, key, strings[pick(5)]);
		break;
	case 5:
		tpctl_bag_add_int(bag, key, random_int());
		break;
	case 6:
		tpctl_bag_counter_add_replica(bag, key, replica, 1, 1 + pick(5));
		break;
	case 7:
		tpctl_bag_taint(bag, key);
		break;
	case 8:
		tpctl_bag_set_w3c_properties(bag, key, strings[1 + pick(4)]);
		break;
	default:
		child = depth < 3 ? tpctl_bag_child(bag, key) : NULL;
		if (child)
			fill_random(child, depth + 1);
		break;
	}
}

static void fill_random(struct tpctl_bag *bag, int depth)
{
	size_t n = 1 + pick(6);

	for (size_t i = 0; i < n; i++)
		random_op(bag, depth);
	/* An empty child has no atoms, so it would not survive encoding. */
	if (!tpctl_bag_nkeys(bag))
		tpctl_bag_taint(bag, "t");
}

/* Serialized atoms of a random set of well-formed and unknown atoms. */
static void random_raw_atoms(uint8_t *buf, size_t *len)
{
	uint8_t atoms[8][12];
	size_t n = pick(5);

	for (size_t i = 0; i < n; i++) {
		atoms[i][0] = pick(8) ? 0x01 : (uint8_t)pick(4);
		atoms[i][1] = 1;
		atoms[i][2] = (uint8_t)keys[pick(3)][0];
		atoms[i][3] = (uint8_t)(1 + pick(7));
		for (int j = 4; j < 12; j++)
			atoms[i][j] = (uint8_t)pick(5);
	}
	*len = 0;
	/* Insertion sort by atom order, dropping duplicates. */
	for (size_t i = 0; i < n; i++) {
		size_t alen = 4 + pick(9), pos = 0;
		uint8_t *atom = atoms[i];
		struct tp_atom_iter it = { buf, buf + *len };
		const uint8_t *a;
		u32 l;
		int cmp = 1;

		while (tp_atom_iter_next(&it, &a, &l) && (cmp = tp_atom_cmp(a, l, atom, alen)) < 0)
			pos = it.pos - buf;
		if (cmp == 0)
			continue;
		memmove(buf + pos + 1 + alen, buf + pos, *len - pos);
		buf[pos] = (uint8_t)alen;
		memcpy(buf + pos + 1, atom, alen);
		*len += 1 + alen;
	}
}

static struct tpctl_bag *random_bag(void)
{
	struct tpctl_bag *bag = tpctl_bag_new(), *raw = NULL;
	uint8_t buf[256];
	size_t len;

	if (!bag)
		abort();
	if (pick(3))
		fill_random(bag, 1);
	if (!pick(4)) {
		random_raw_atoms(buf, &len);
		if (tpctl_bag_decode(buf, len, &raw) || tpctl_bag_merge(bag, raw))
			abort();
		tpctl_bag_free(raw);
	}
	return bag;
}

struct enc {
	void *buf;
	size_t len;
};

static struct enc encode(const struct tpctl_bag *bag)
{
	struct enc e;

	if (tpctl_bag_encode(bag, &e.buf, &e.len))
		abort();
	return e;
}

static bool same(const struct tpctl_bag *a, const struct tpctl_bag *b)
{
	struct enc x = encode(a), y = encode(b);
	bool eq = x.len == y.len && (!x.len || !memcmp(x.buf, y.buf, x.len));

	free(x.buf);
	free(y.buf);
	return eq;
}

static struct tpctl_bag *copy(const struct tpctl_bag *bag)
{
	struct enc e = encode(bag);
	struct tpctl_bag *out;

	if (tpctl_bag_decode(e.buf, e.len, &out))
		abort();
	free(e.buf);
	return out;
}

static struct tpctl_bag *merged(const struct tpctl_bag *a, const struct tpctl_bag *b)
{
	struct tpctl_bag *out = copy(a);

	if (tpctl_bag_merge(out, b))
		abort();
	return out;
}

TEST(encode_decode_roundtrip)
{
	seed_rng();
	for (int i = 0; i < ROUNDS; i++) {
		struct tpctl_bag *a = random_bag(), *back = copy(a);

		ASSERT_TRUE(same(a, back));
		ASSERT_EQ(tpctl_bag_nkeys(a), tpctl_bag_nkeys(back));
		ASSERT_EQ(tpctl_bag_overflowed(a), tpctl_bag_overflowed(back));
		tpctl_bag_free(a);
		tpctl_bag_free(back);
	}
}

TEST(merge_is_a_semilattice)
{
	seed_rng();
	for (int i = 0; i < ROUNDS; i++) {
		struct tpctl_bag *a = random_bag(), *b = random_bag(), *c = random_bag();
		struct tpctl_bag *ab = merged(a, b), *ba = merged(b, a), *aa = merged(a, a);
		struct tpctl_bag *ab_c = merged(ab, c), *bc = merged(b, c), *a_bc = merged(a, bc);

		ASSERT_TRUE(same(ab, ba));
		ASSERT_TRUE(same(ab_c, a_bc));
		ASSERT_TRUE(same(aa, a));
		tpctl_bag_free(a);
		tpctl_bag_free(b);
		tpctl_bag_free(c);
		tpctl_bag_free(ab);
		tpctl_bag_free(ba);
		tpctl_bag_free(aa);
		tpctl_bag_free(ab_c);
		tpctl_bag_free(bc);
		tpctl_bag_free(a_bc);
	}
}

static struct tp_bag *blob(const struct tpctl_bag *bag)
{
	struct enc e = encode(bag);
	struct tp_bag *out = NULL;

	if (tp_bag_deserialize(e.buf, e.len, GFP_KERNEL, &out))
		abort();
	free(e.buf);
	return out;
}

/* What the kernel computes from two encodings decodes to the typed merge. */
TEST(typed_merge_is_atom_union)
{
	seed_rng();
	for (int i = 0; i < ROUNDS; i++) {
		struct tpctl_bag *a = random_bag(), *b = random_bag(), *ab = merged(a, b), *dec;
		struct tp_bag *x = blob(a), *y = blob(b), *u = NULL;

		ASSERT_EQ(0, tp_bag_merge(x, y, GFP_KERNEL, &u));
		ASSERT_EQ(0, tpctl_bag_decode(u ? u->data : NULL, tp_bag_size(u), &dec));
		ASSERT_TRUE(same(dec, ab));
		tp_bag_put(x);
		tp_bag_put(y);
		tp_bag_put(u);
		tpctl_bag_free(dec);
		tpctl_bag_free(ab);
		tpctl_bag_free(a);
		tpctl_bag_free(b);
	}
}

/* Random byte strings: rejected or decoded, never a crash (ASan/valgrind find leaks). */
TEST(decode_random_bytes)
{
	uint8_t buf[64];

	seed_rng();
	for (int i = 0; i < ROUNDS * 10; i++) {
		size_t len = pick(sizeof(buf));
		struct tpctl_bag *bag = NULL, *again;
		int err;

		for (size_t j = 0; j < len; j++)
			buf[j] = (uint8_t)(pick(4) ? pick(8) : rnd());
		err = tpctl_bag_decode(buf, len, &bag);
		ASSERT_TRUE(err == 0 || err == -EINVAL);
		if (err)
			continue;
		again = copy(bag);
		ASSERT_TRUE(same(bag, again));
		tpctl_bag_free(again);
		tpctl_bag_free(bag);
	}
}

#define BRANCHES	12
#define EVENTS		256

/* A task: its bag, its own replica id and the increments it has seen. */
struct branch {
	struct tpctl_bag *bag;
	char replica[8];
	uint8_t seen[EVENTS / 8];
};

static uint64_t events_seen(const struct branch *b)
{
	uint64_t n = 0;

	for (size_t i = 0; i < sizeof(b->seen); i++)
		n += (uint64_t)__builtin_popcount(b->seen[i]);
	return n;
}

static uint64_t counter_of(const struct tpctl_bag *bag)
{
	const struct tpctl_entry *e = tpctl_bag_lookup(bag, "n");

	return e ? e->counter : 0;
}

/*
 * Random histories of increments, forks (a new task, a new replica) and
 * merges (a task reads what another wrote): every task's counter must
 * equal the number of increments that causally precede it.
 */
TEST(counter_counts_exactly)
{
	seed_rng();
	for (int h = 0; h < ROUNDS / 10; h++) {
		struct branch br[BRANCHES] = { 0 };
		size_t n = 1, events = 0, replicas = 0;

		br[0].bag = tpctl_bag_new();
		snprintf(br[0].replica, sizeof(br[0].replica), "t%zu", replicas++);
		while (events < EVENTS) {
			struct branch *b = &br[pick(n)], *o = &br[pick(n)];

			switch (pick(3)) {
			case 0:
				ASSERT_EQ(0, tpctl_bag_counter_add_replica(b->bag, "n", b->replica,
									   strlen(b->replica), 1));
				b->seen[events / 8] |= (uint8_t)(1u << (events % 8));
				events++;
				break;
			case 1:
				if (n == BRANCHES)
					break;
				br[n] = *b;
				br[n].bag = copy(b->bag);
				snprintf(br[n].replica, sizeof(br[n].replica), "t%zu", replicas++);
				n++;
				break;
			default:
				ASSERT_EQ(0, tpctl_bag_merge(b->bag, o->bag));
				for (size_t i = 0; i < sizeof(b->seen); i++)
					b->seen[i] |= o->seen[i];
				break;
			}
			ASSERT_EQ(events_seen(b), counter_of(b->bag));
		}
		for (size_t i = 0; i < n; i++) {
			ASSERT_EQ(events_seen(&br[i]), counter_of(br[i].bag));
			tpctl_bag_free(br[i].bag);
		}
	}
}

TEST_HARNESS_MAIN
