// SPDX-License-Identifier: MIT
/*
 * Allocation failure: every operation of the typed baggage layer is run
 * with the n-th allocation failing, for n = 0, 1, 2... until it succeeds.
 * Each failure must be reported as -ENOMEM and leave the bag unchanged.
 *
 * The test binary interposes malloc/calloc/realloc (glibc's own entry
 * points stay reachable as __libc_*), so libtpctl and the atom layer
 * (whose tp_atom_malloc defaults to malloc) are both covered.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "kselftest_harness.h"
#include "tpctl.h"

void *__libc_malloc(size_t size);
void *__libc_calloc(size_t n, size_t size);
void *__libc_realloc(void *ptr, size_t size);

/* Allocations left before one fails; negative: never fail. */
static long allocs_left = -1;

static bool injected_failure(void)
{
	if (allocs_left < 0)
		return false;
	if (allocs_left == 0)
		return true;
	allocs_left--;
	return false;
}

void *malloc(size_t size)
{
	return injected_failure() ? NULL : __libc_malloc(size);
}

void *calloc(size_t n, size_t size)
{
	return injected_failure() ? NULL : __libc_calloc(n, size);
}

void *realloc(void *ptr, size_t size)
{
	return injected_failure() ? NULL : __libc_realloc(ptr, size);
}

static struct tpctl_bag *sample(void)
{
	struct tpctl_bag *bag = tpctl_bag_new();

	tpctl_bag_set_string(bag, "tenant", "alice");
	tpctl_bag_set_w3c_properties(bag, "tenant", "p=1");
	tpctl_bag_add_int(bag, "set", 1);
	tpctl_bag_add_int(bag, "set", 2);
	tpctl_bag_counter_add_replica(bag, "n", "r1", 2, 4);
	tpctl_bag_taint(bag, "t");
	tpctl_bag_set_bytes(tpctl_bag_child(tpctl_bag_child(bag, "x"), "y"), "b", "\1\2", 2);
	return bag;
}

struct enc {
	void *buf;
	size_t len;
};

static struct enc encode(const struct tpctl_bag *bag)
{
	struct enc e = { NULL, 0 };

	if (tpctl_bag_encode(bag, &e.buf, &e.len))
		abort();
	return e;
}

static bool same(const struct tpctl_bag *bag, struct enc want)
{
	struct enc got = encode(bag);
	bool eq = got.len == want.len && (!got.len || !memcmp(got.buf, want.buf, got.len));

	free(got.buf);
	return eq;
}

/* The failure point for the operation under test; arm() applies it. */
static long failure_point;

static void arm(void)
{
	allocs_left = failure_point;
}

static int disarm(int ret)
{
	allocs_left = -1;
	return ret;
}

/* Runs @op on a fresh sample bag with its n-th allocation failing. */
typedef int (*op_fn)(struct tpctl_bag *bag);

static int run_failing(op_fn op, long n, struct tpctl_bag **bag, struct enc *before)
{
	*bag = sample();
	*before = encode(*bag);
	failure_point = n;
	return op(*bag);
}

static int op_encode(struct tpctl_bag *bag)
{
	void *buf = (void *)1;
	size_t len = 1;
	int ret;

	arm();
	ret = disarm(tpctl_bag_encode(bag, &buf, &len));
	if (ret)
		return buf == (void *)1 && len == 1 ? ret : -EFAULT;
	free(buf);
	return 0;
}

static int op_decode(struct tpctl_bag *bag)
{
	struct tpctl_bag *out = (struct tpctl_bag *)1;
	struct enc e = encode(bag);
	int ret;

	arm();
	ret = disarm(tpctl_bag_decode(e.buf, e.len, &out));
	if (ret && out != (struct tpctl_bag *)1)
		ret = -EFAULT;
	if (!ret && !same(out, e))
		ret = -EFAULT;
	if (!ret)
		tpctl_bag_free(out);
	free(e.buf);
	return ret;
}

static int op_merge(struct tpctl_bag *bag)
{
	struct tpctl_bag *other = tpctl_bag_new();
	int ret;

	tpctl_bag_set_string(other, "tenant", "aaa");
	tpctl_bag_counter_add_replica(other, "n", "r2", 2, 1);
	tpctl_bag_add_int(other, "set", 3);
	tpctl_bag_taint(tpctl_bag_child(tpctl_bag_child(other, "x"), "y"), "new");
	arm();
	ret = disarm(tpctl_bag_merge(bag, other));
	tpctl_bag_free(other);
	return ret;
}

static int op_set_string(struct tpctl_bag *bag)
{
	arm();
	return disarm(tpctl_bag_set_string(bag, "tenant", "bob"));
}

static int op_set_new_key(struct tpctl_bag *bag)
{
	arm();
	return disarm(tpctl_bag_set_uint(bag, "fresh", 7));
}

static int op_add(struct tpctl_bag *bag)
{
	arm();
	return disarm(tpctl_bag_add_int(bag, "set", 3));
}

static int op_counter(struct tpctl_bag *bag)
{
	arm();
	return disarm(tpctl_bag_counter_add_replica(bag, "n", "r9", 2, 1));
}

static int op_counter_self(struct tpctl_bag *bag)
{
	arm();
	return disarm(tpctl_bag_counter_add(bag, "mine", 1));
}

static int op_taint(struct tpctl_bag *bag)
{
	arm();
	return disarm(tpctl_bag_taint(bag, "t2"));
}

static int op_props(struct tpctl_bag *bag)
{
	arm();
	return disarm(tpctl_bag_set_w3c_properties(bag, "set", "q"));
}

static int op_child(struct tpctl_bag *bag)
{
	struct tpctl_bag *kid;

	arm();
	kid = tpctl_bag_child(bag, "kid");
	return disarm(kid ? 0 : -errno);
}

static int op_nested_set(struct tpctl_bag *bag)
{
	struct tpctl_bag *y = tpctl_bag_child(tpctl_bag_child(bag, "x"), "y");

	arm();
	return disarm(tpctl_bag_add_string(y, "s", "v"));
}

static const struct {
	const char *name;
	op_fn op;
} ops[] = {
	{ "encode", op_encode },
	{ "decode", op_decode },
	{ "merge", op_merge },
	{ "set_string", op_set_string },
	{ "set_new_key", op_set_new_key },
	{ "add", op_add },
	{ "counter_add_replica", op_counter },
	{ "counter_add", op_counter_self },
	{ "taint", op_taint },
	{ "props", op_props },
	{ "child", op_child },
	{ "nested_set", op_nested_set },
};

TEST(every_failure_is_enomem_and_harmless)
{
	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		long n;
		int ret = -ENOMEM;

		for (n = 0; ret == -ENOMEM; n++) {
			struct tpctl_bag *bag;
			struct enc before;

			ret = run_failing(ops[i].op, n, &bag, &before);
			if (ret == -ENOMEM)
				ASSERT_TRUE(same(bag, before)) TH_LOG("%s changed the bag", ops[i].name);
			free(before.buf);
			tpctl_bag_free(bag);
		}
		ASSERT_EQ(0, ret) TH_LOG("%s after %ld failures", ops[i].name, n);
		TH_LOG("%s: %ld allocations", ops[i].name, n - 1);
	}
}

TEST_HARNESS_MAIN
