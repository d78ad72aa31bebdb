// SPDX-License-Identifier: MIT
/*
 * Host-side benchmark of the atom layer: ns per merge, serialize,
 * deserialize and trim for baggages of 1, 16 and 64 atoms at 64 B, 1 KiB
 * and 8 KiB.  Each figure is the median of several timed batches, printed
 * next to a memcpy of the same number of bytes measured in the same run,
 * so that results from a noisy machine can still be compared.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "atom.h"

#define RUNS		15	/* batches per figure; the median is kept */
/*
 * Short batches: on a shared machine a batch longer than a scheduler time
 * slice is almost always preempted, which would bias even the median.
 */
#define BATCH_NS	100000

static const unsigned int atom_counts[] = { 1, 16, 64 };
static const unsigned int sizes[] = { 64, 1024, 8192 };

/* Keeps the compiler from dropping work whose result is unused. */
static void clobber(void *p)
{
	__asm__ volatile("" : : "g"(p) : "memory");
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

struct op {
	void (*fn)(struct op *op);
	struct tp_bag *a, *b;
	uint8_t *buf;
	size_t len;
};

/* Calls per batch so that one batch lasts about BATCH_NS. */
static unsigned int calibrate(struct op *op)
{
	uint64_t t0, spent;
	unsigned int i;

	op->fn(op);	/* warm caches and the allocator */
	t0 = now_ns();
	for (i = 0; i < 16; i++)
		op->fn(op);
	spent = (now_ns() - t0) / 16 + 1;
	return BATCH_NS / spent + 1;
}

/* Median over RUNS batches, in ns per call. */
static double measure(struct op *op)
{
	unsigned int iters = calibrate(op);
	double runs[RUNS];
	unsigned int r, i;

	for (r = 0; r < RUNS; r++) {
		uint64_t t0 = now_ns();

		for (i = 0; i < iters; i++)
			op->fn(op);
		runs[r] = (double)(now_ns() - t0) / iters;
	}
	qsort(runs, RUNS, sizeof(runs[0]), cmp_double);
	return runs[RUNS / 2];
}

static void op_merge(struct op *op)
{
	struct tp_bag *out;

	if (tp_bag_merge(op->a, op->b, GFP_KERNEL, &out))
		abort();
	clobber(out);
	tp_bag_put(out);
}

static void op_serialize(struct op *op)
{
	tp_bag_serialize(op->a, op->buf, op->len);
	clobber(op->buf);
}

static void op_deserialize(struct op *op)
{
	struct tp_bag *out;

	if (tp_bag_deserialize(op->buf, op->len, GFP_KERNEL, &out))
		abort();
	clobber(out);
	tp_bag_put(out);
}

static void op_trim(struct op *op)
{
	struct tp_bag *out;

	if (tp_bag_trim(op->a, op->len / 2, GFP_KERNEL, &out))
		abort();
	clobber(out);
	tp_bag_put(out);
}

static void op_memcpy(struct op *op)
{
	memcpy(op->buf + op->len, op->buf, op->len);
	clobber(op->buf);
}

/*
 * @n distinct atoms totalling @size serialized bytes.  Atom i carries the
 * key 2 * i + @side in its first bytes, so bags of side 0 and side 1
 * interleave completely: merge must compare every atom.
 */
static struct tp_bag *make_bag(unsigned int n, unsigned int size, unsigned int side)
{
	unsigned int each = size / n;
	unsigned int len = each - 1 < 128 ? each - 1 : each - 2;
	uint8_t *buf = calloc(1, size);
	struct tp_bag *bag;
	size_t off = 0;
	unsigned int i, k;

	for (i = 0; i < n; i++) {
		uint32_t key = 2 * i + side;

		off += tp_varint_put(buf + off, len);
		memset(buf + off, 'x', len);
		for (k = 0; k < len && k < 4; k++)
			buf[off + k] = (uint8_t)(key >> (8 * ((len < 4 ? len : 4) - 1 - k)));
		off += len;
	}
	if (tp_bag_deserialize(buf, off, GFP_KERNEL, &bag)) {
		fprintf(stderr, "bench: cannot build %u atoms in %u bytes\n", n, size);
		exit(1);
	}
	free(buf);
	return bag;
}

static void row(unsigned int n, unsigned int size)
{
	struct op op = { 0 };
	double base, t[4];
	void (*fns[4])(struct op *op) = {
		op_merge, op_serialize, op_deserialize, op_trim,
	};
	int i;

	/* Two bytes per atom at least: a varint and one distinct byte. */
	if (size / n < 2) {
		printf("| %u | %u | n/a | n/a | n/a | n/a | n/a |\n", n, size);
		return;
	}
	op.a = make_bag(n, size, 0);
	op.b = make_bag(n, size, 1);
	op.len = tp_bag_size(op.a);
	op.buf = malloc(2 * op.len);
	tp_bag_serialize(op.a, op.buf, op.len);

	op.fn = op_memcpy;
	base = measure(&op);
	for (i = 0; i < 4; i++) {
		op.fn = fns[i];
		t[i] = measure(&op);
	}
	printf("| %u | %zu | %.0f (%.1fx) | %.0f (%.1fx) | %.0f (%.1fx) | %.0f (%.1fx) | %.1f |\n",
	       n, op.len, t[0], t[0] / base, t[1], t[1] / base,
	       t[2], t[2] / base, t[3], t[3] / base, base);
	free(op.buf);
	tp_bag_put(op.a);
	tp_bag_put(op.b);
}

int main(void)
{
	size_t i, j;

	printf("Atom layer, ns per operation (median of %d batches); in brackets\n"
	       "the ratio to a memcpy of the baggage's size, measured in the same run.\n"
	       "merge: two different, fully interleaved baggages of that shape;\n"
	       "trim: to half the size.\n\n", RUNS);
	printf("| atoms | bytes | merge | serialize | deserialize | trim | memcpy |\n");
	printf("|---:|---:|---:|---:|---:|---:|---:|\n");
	for (i = 0; i < sizeof(atom_counts) / sizeof(atom_counts[0]); i++)
		for (j = 0; j < sizeof(sizes) / sizeof(sizes[0]); j++)
			row(atom_counts[i], sizes[j]);
	if (tp_counter_read(&tp_atom_live_bags)) {
		fprintf(stderr, "bench: leaked %ld blobs\n",
			(long)tp_counter_read(&tp_atom_live_bags));
		return 1;
	}
	return 0;
}
