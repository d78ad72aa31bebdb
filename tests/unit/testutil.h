/* SPDX-License-Identifier: MIT */
/*
 * Shared helpers for the host-side tests:
 *  - a seeded PRNG whose seed is printed, so any failure can be replayed
 *    (TP_TEST_SEED=<n> overrides the fixed default);
 *  - random atoms and baggages, built either by merging single-atom bags or
 *    by sorting a buffer, so the two constructions check each other;
 *  - an allocator hook for the atom layer that fails on demand.
 */
#ifndef TP_TESTUTIL_H
#define TP_TESTUTIL_H

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "atom.h"

#define TU_DEFAULT_SEED	0x7470c0ffee5eedULL
#define TU_ATOM_MAX	64	/* longest random atom */
#define TU_ATOMS_MAX	64	/* most atoms in a random list */

/* ---- PRNG (splitmix64: tiny, fast, good enough for test data) ---------- */

struct tu_rng {
	uint64_t state;
};

static inline uint64_t tu_next(struct tu_rng *r)
{
	uint64_t z = (r->state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Uniform enough in [0, n) for test data; n must be > 0. */
static inline uint32_t tu_below(struct tu_rng *r, uint32_t n)
{
	return (uint32_t)(tu_next(r) % n);
}

/* Seeds @r from TP_TEST_SEED or the default, and prints the seed used. */
static inline uint64_t tu_rng_init(struct tu_rng *r, const char *who)
{
	const char *env = getenv("TP_TEST_SEED");
	uint64_t seed = env ? strtoull(env, NULL, 0) : TU_DEFAULT_SEED;

	r->state = seed;
	printf("# %s: seed 0x%" PRIx64 " (set TP_TEST_SEED to replay)\n", who, seed);
	/* Test bodies run in a child that leaves with _exit(): flush now. */
	fflush(stdout);
	return seed;
}

/* ---- random atoms ----------------------------------------------------------- */

struct tu_atom {
	size_t len;
	uint8_t b[TU_ATOM_MAX];
};

struct tu_atoms {
	size_t n;
	struct tu_atom a[TU_ATOMS_MAX];
};

/*
 * A four-letter alphabet including 0x00 and 0xff makes shared prefixes,
 * duplicates across bags and the empty atom (the overflow marker) common,
 * which is where ordering bugs live.
 */
static inline void tu_random_atom(struct tu_rng *r, struct tu_atom *atom,
				  size_t max_len)
{
	static const uint8_t alphabet[] = { 0x00, 0x61, 0x62, 0xff };
	size_t i;

	if (max_len > TU_ATOM_MAX)
		max_len = TU_ATOM_MAX;
	atom->len = tu_below(r, (uint32_t)max_len + 1);
	for (i = 0; i < atom->len; i++)
		atom->b[i] = alphabet[tu_below(r, sizeof(alphabet))];
}

/* Up to @max_atoms atoms (repeats allowed) of up to @max_len bytes. */
static inline void tu_random_atoms(struct tu_rng *r, struct tu_atoms *list,
				   size_t max_atoms, size_t max_len)
{
	size_t i;

	if (max_atoms > TU_ATOMS_MAX)
		max_atoms = TU_ATOMS_MAX;
	list->n = tu_below(r, (uint32_t)max_atoms + 1);
	for (i = 0; i < list->n; i++)
		tu_random_atom(r, &list->a[i], max_len);
}

/* ---- baggages ---------------------------------------------------------------- */

/* Test data must build; a failure here is a bug, not a test outcome. */
static inline struct tp_bag *tu_deserialize_or_die(const uint8_t *buf, size_t len)
{
	struct tp_bag *bag;
	int err = tp_bag_deserialize(buf, len, GFP_KERNEL, &bag);

	if (err) {
		fprintf(stderr, "testutil: deserialize: %s\n", tp_atom_strerror(err));
		abort();
	}
	return bag;
}

static inline struct tp_bag *tu_bag_single(const uint8_t *atom, size_t len)
{
	uint8_t buf[TP_VARINT_MAX_BYTES + TU_ATOM_MAX];
	size_t n = tp_varint_put(buf, (uint32_t)len);

	memcpy(buf + n, atom, len);
	return tu_deserialize_or_die(buf, n + len);
}

/* The union of @list's atoms, folded in with tp_bag_merge. */
static inline struct tp_bag *tu_bag_by_merge(const struct tu_atoms *list)
{
	struct tp_bag *bag = NULL;
	size_t i;

	for (i = 0; i < list->n; i++) {
		struct tp_bag *one = tu_bag_single(list->a[i].b, list->a[i].len);
		struct tp_bag *sum;

		if (tp_bag_merge(bag, one, GFP_KERNEL, &sum))
			abort();
		tp_bag_put(bag);
		tp_bag_put(one);
		bag = sum;
	}
	return bag;
}

/*
 * The atom order written from its definition (bytes unsigned, a prefix
 * first), independent of tp_atom_cmp(), so that the sort-built baggages
 * check the atom layer instead of repeating it.
 */
static inline int tu_atom_qsort_cmp(const void *x, const void *y)
{
	const struct tu_atom *a = x, *b = y;
	size_t i;

	for (i = 0; i < a->len && i < b->len; i++) {
		if (a->b[i] != b->b[i])
			return a->b[i] < b->b[i] ? -1 : 1;
	}
	return (a->len > b->len) - (a->len < b->len);
}

/*
 * Puts the @len bytes of @prefix in front of every atom of @list, so that
 * atoms share long prefixes and compare past their first words.
 */
static inline void tu_prefix_atoms(struct tu_atoms *list, const uint8_t *prefix,
				   size_t len)
{
	size_t i;

	for (i = 0; i < list->n; i++) {
		struct tu_atom *atom = &list->a[i];

		if (atom->len + len > TU_ATOM_MAX)
			abort();
		memmove(atom->b + len, atom->b, atom->len);
		memcpy(atom->b, prefix, len);
		atom->len += len;
	}
}

/*
 * Serializes the distinct atoms of @list, sorted, into @buf (room for
 * TU_ATOMS_MAX * (TP_VARINT_MAX_BYTES + TU_ATOM_MAX) bytes) and returns
 * the length.  Sorts @list in place.
 */
static inline size_t tu_serialize_sorted(struct tu_atoms *list, uint8_t *buf)
{
	size_t i, len = 0;

	qsort(list->a, list->n, sizeof(list->a[0]), tu_atom_qsort_cmp);
	for (i = 0; i < list->n; i++) {
		if (i && !tu_atom_qsort_cmp(&list->a[i - 1], &list->a[i]))
			continue;
		len += tp_varint_put(buf + len, (uint32_t)list->a[i].len);
		memcpy(buf + len, list->a[i].b, list->a[i].len);
		len += list->a[i].len;
	}
	return len;
}

#define TU_SERIALIZED_MAX (TU_ATOMS_MAX * (TP_VARINT_MAX_BYTES + TU_ATOM_MAX))

/* The same union as tu_bag_by_merge(), built from a sorted buffer. */
static inline struct tp_bag *tu_bag_by_sort(struct tu_atoms *list)
{
	uint8_t buf[TU_SERIALIZED_MAX];

	return tu_deserialize_or_die(buf, tu_serialize_sorted(list, buf));
}

/* A random baggage, built one way or the other at random. */
static inline struct tp_bag *tu_bag_random(struct tu_rng *r, size_t max_atoms,
					   size_t max_len)
{
	struct tu_atoms list;

	tu_random_atoms(r, &list, max_atoms, max_len);
	return tu_below(r, 2) ? tu_bag_by_merge(&list) : tu_bag_by_sort(&list);
}

/* ---- failing allocator for the atom layer ------------------------------------ */

static long tu_allocs_left = -1;	/* successes before failing; < 0: never */
static long tu_alloc_calls;		/* calls since the last tu_fail_after() */

static inline void *tu_failing_malloc(size_t size)
{
	tu_alloc_calls++;
	if (tu_allocs_left == 0)
		return NULL;
	if (tu_allocs_left > 0)
		tu_allocs_left--;
	return malloc(size);
}

/* Lets @n allocations of the atom layer succeed, then fails every one. */
static inline void tu_fail_after(long n)
{
	tu_allocs_left = n;
	tu_alloc_calls = 0;
	tp_atom_malloc = tu_failing_malloc;
}

static inline void tu_alloc_restore(void)
{
	tu_allocs_left = -1;
	tp_atom_malloc = malloc;
}

/* Live blobs and bytes of the atom layer, for leak assertions. */
static inline long tu_live_bags(void)
{
	return tp_counter_read(&tp_atom_live_bags);
}

static inline long tu_live_bytes(void)
{
	return tp_counter_read(&tp_atom_live_bytes);
}

#endif /* TP_TESTUTIL_H */
