// SPDX-License-Identifier: MIT
/*
 * Unit tests of the typed baggage layer: every kind, every API function,
 * and the byte-exact encoding of Documentation/baggage-format.rst.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "atom.h"
#include "tpctl.h"

/* Serialized form (varint length + atom) of the given atoms, hex-free. */
struct raw {
	uint8_t buf[8192];
	size_t len;
};

static void raw_add(struct raw *r, const void *atom, size_t len)
{
	r->len += tp_varint_put(r->buf + r->len, (u32)len);
	memcpy(r->buf + r->len, atom, len);
	r->len += len;
}

/* Encodes @bag; the caller frees *buf. */
static size_t encode(struct tpctl_bag *bag, void **buf)
{
	size_t len = 0;

	*buf = NULL;
	if (tpctl_bag_encode(bag, buf, &len))
		abort();
	return len;
}

static bool same_encoding(struct tpctl_bag *a, struct tpctl_bag *b)
{
	void *x, *y;
	size_t xl = encode(a, &x), yl = encode(b, &y);
	bool same = xl == yl && (!xl || !memcmp(x, y, xl));

	free(x);
	free(y);
	return same;
}

static struct tpctl_bag *roundtrip(struct tpctl_bag *bag)
{
	struct tpctl_bag *out = NULL;
	void *buf;
	size_t len = encode(bag, &buf);

	if (tpctl_bag_decode(buf, len, &out))
		abort();
	free(buf);
	return out;
}

static bool encodes_as(struct tpctl_bag *bag, const struct raw *want)
{
	void *buf;
	size_t len = encode(bag, &buf);
	bool same = len == want->len && (!len || !memcmp(buf, want->buf, len));

	free(buf);
	return same;
}

TEST(empty_bag)
{
	struct tpctl_bag *bag = tpctl_bag_new(), *back = NULL;
	void *buf = (void *)1;
	size_t len = 1;

	ASSERT_NE(NULL, bag);
	ASSERT_EQ(0, tpctl_bag_encode(bag, &buf, &len));
	ASSERT_EQ(0u, len);
	ASSERT_EQ(0u, tpctl_bag_nkeys(bag));
	ASSERT_EQ(0, tpctl_bag_overflowed(bag));
	ASSERT_EQ(NULL, tpctl_bag_lookup(bag, "a"));
	ASSERT_EQ(0, tpctl_bag_decode(NULL, 0, &back));
	ASSERT_EQ(0u, tpctl_bag_nkeys(back));
	free(buf);
	tpctl_bag_free(back);
	tpctl_bag_free(bag);
	tpctl_bag_free(NULL);
}

/* The examples of Documentation/baggage-format.rst, byte for byte. */
TEST(documented_examples)
{
	static const uint8_t tenant[] = { 0x01, 0x06, 't', 'e', 'n', 'a', 'n', 't',
					  0x01, 0x01, 'a', 'l', 'i', 'c', 'e' };
	static const uint8_t port80[] = { 0x01, 0x04, 'p', 'o', 'r', 't', 0x02, 0x04,
					  0, 0, 0, 0, 0, 0, 0, 80 };
	static const uint8_t port443[] = { 0x01, 0x04, 'p', 'o', 'r', 't', 0x02, 0x04,
					   0, 0, 0, 0, 0, 0, 0x01, 0xbb };
	static const uint8_t reqs[] = { 0x01, 0x04, 'r', 'e', 'q', 's', 0x03, 0x02, 'r', '1',
					0, 0, 0, 0, 0, 0, 0, 3 };
	static const uint8_t pii[] = { 0x01, 0x03, 'p', 'i', 'i', 0x04 };
	static const uint8_t nested[] = { 0x01, 0x02, 'x', 't', 0x05, 0x02, 'i', 'd',
					  0x01, 0x03, 0x80, 0, 0, 0, 0, 0, 0, 0x2a };
	static const uint8_t props[] = { 0x01, 0x06, 't', 'e', 'n', 'a', 'n', 't',
					 0x06, 'p', '=', '1' };
	struct tpctl_bag *bag = tpctl_bag_new();
	struct raw want = { 0 };

	ASSERT_EQ(0, tpctl_bag_set_string(bag, "tenant", "alice"));
	ASSERT_EQ(0, tpctl_bag_set_w3c_properties(bag, "tenant", "p=1"));
	ASSERT_EQ(0, tpctl_bag_add_uint(bag, "port", 443));
	ASSERT_EQ(0, tpctl_bag_add_uint(bag, "port", 80));
	ASSERT_EQ(0, tpctl_bag_counter_add_replica(bag, "reqs", "r1", 2, 3));
	ASSERT_EQ(0, tpctl_bag_taint(bag, "pii"));
	ASSERT_EQ(0, tpctl_bag_set_int(tpctl_bag_child(bag, "xt"), "id", 42));
	/* Sorted atom order: key length first, then key, kind, value. */
	raw_add(&want, nested, sizeof(nested));
	raw_add(&want, pii, sizeof(pii));
	raw_add(&want, port80, sizeof(port80));
	raw_add(&want, port443, sizeof(port443));
	raw_add(&want, reqs, sizeof(reqs));
	raw_add(&want, tenant, sizeof(tenant));
	raw_add(&want, props, sizeof(props));
	ASSERT_TRUE(encodes_as(bag, &want));
	tpctl_bag_free(bag);
}

TEST(first_string_and_bytes)
{
	struct tpctl_bag *bag = tpctl_bag_new(), *back;
	const struct tpctl_entry *e;

	ASSERT_EQ(0, tpctl_bag_set_string(bag, "s", "hello"));
	ASSERT_EQ(0, tpctl_bag_set_string(bag, "empty", ""));
	ASSERT_EQ(0, tpctl_bag_set_bytes(bag, "b", "\0\1\2", 3));
	ASSERT_EQ(0, tpctl_bag_set_bytes(bag, "nob", NULL, 0));
	back = roundtrip(bag);
	e = tpctl_bag_lookup(back, "s");
	ASSERT_NE(NULL, e);
	ASSERT_EQ(TPCTL_FIRST, (int)e->kind);
	ASSERT_EQ(1u, e->nvalues);
	ASSERT_EQ(TPCTL_STRING, (int)e->values[0].type);
	ASSERT_EQ(5u, e->values[0].bytes.len);
	ASSERT_EQ(0, memcmp(e->values[0].bytes.ptr, "hello", 5));
	ASSERT_EQ(1u, e->key_len);
	e = tpctl_bag_lookup(back, "empty");
	ASSERT_EQ(0u, e->values[0].bytes.len);
	ASSERT_EQ(TPCTL_STRING, (int)e->values[0].type);
	e = tpctl_bag_lookup(back, "b");
	ASSERT_EQ(TPCTL_BYTES, (int)e->values[0].type);
	ASSERT_EQ(3u, e->values[0].bytes.len);
	ASSERT_EQ(0, memcmp(e->values[0].bytes.ptr, "\0\1\2", 3));
	e = tpctl_bag_lookup(back, "nob");
	ASSERT_EQ(TPCTL_BYTES, (int)e->values[0].type);
	ASSERT_EQ(0u, e->values[0].bytes.len);
	ASSERT_EQ(4u, tpctl_bag_nkeys(back));
	ASSERT_TRUE(same_encoding(bag, back));
	tpctl_bag_free(back);
	tpctl_bag_free(bag);
}

TEST(first_numbers_extremes)
{
	struct tpctl_bag *bag = tpctl_bag_new(), *back;

	ASSERT_EQ(0, tpctl_bag_set_int(bag, "min", INT64_MIN));
	ASSERT_EQ(0, tpctl_bag_set_int(bag, "max", INT64_MAX));
	ASSERT_EQ(0, tpctl_bag_set_int(bag, "neg", -1));
	ASSERT_EQ(0, tpctl_bag_set_uint(bag, "umax", UINT64_MAX));
	ASSERT_EQ(0, tpctl_bag_set_uint(bag, "zero", 0));
	back = roundtrip(bag);
	ASSERT_EQ(INT64_MIN, tpctl_bag_lookup(back, "min")->values[0].i);
	ASSERT_EQ(INT64_MAX, tpctl_bag_lookup(back, "max")->values[0].i);
	ASSERT_EQ(-1, tpctl_bag_lookup(back, "neg")->values[0].i);
	ASSERT_EQ(TPCTL_INT, (int)tpctl_bag_lookup(back, "neg")->values[0].type);
	ASSERT_EQ(UINT64_MAX, tpctl_bag_lookup(back, "umax")->values[0].u);
	ASSERT_EQ(TPCTL_UINT, (int)tpctl_bag_lookup(back, "zero")->values[0].type);
	ASSERT_EQ(0u, tpctl_bag_lookup(back, "zero")->values[0].u);
	tpctl_bag_free(back);
	tpctl_bag_free(bag);
}

TEST(first_replaces_any_kind)
{
	struct tpctl_bag *bag = tpctl_bag_new();

	ASSERT_EQ(0, tpctl_bag_add_int(bag, "k", 1));
	ASSERT_EQ(0, tpctl_bag_set_int(bag, "k", 2));
	ASSERT_EQ(TPCTL_FIRST, (int)tpctl_bag_lookup(bag, "k")->kind);
	ASSERT_EQ(0, tpctl_bag_set_string(bag, "k", "x"));
	ASSERT_EQ(TPCTL_STRING, (int)tpctl_bag_lookup(bag, "k")->values[0].type);
	ASSERT_EQ(1u, tpctl_bag_nkeys(bag));
	tpctl_bag_free(bag);
}

/* Merging two different FIRST values keeps the smaller atom, whatever the order. */
TEST(first_conflict_both_orders)
{
	struct tpctl_bag *a = tpctl_bag_new(), *b = tpctl_bag_new(), *a2, *b2;
	const struct tpctl_entry *e;

	ASSERT_EQ(0, tpctl_bag_set_string(a, "tenant", "bob"));
	ASSERT_EQ(0, tpctl_bag_set_string(b, "tenant", "alice"));
	a2 = roundtrip(a);
	b2 = roundtrip(b);
	ASSERT_EQ(0, tpctl_bag_merge(a, b));
	ASSERT_EQ(0, tpctl_bag_merge(b2, a2));
	ASSERT_TRUE(same_encoding(a, b2));
	e = tpctl_bag_lookup(a, "tenant");
	ASSERT_EQ(1u, e->nvalues);
	ASSERT_EQ(0, memcmp(e->values[0].bytes.ptr, "alice", 5));
	/* Numbers order numerically across the sign. */
	ASSERT_EQ(0, tpctl_bag_set_int(a2, "n", 5));
	ASSERT_EQ(0, tpctl_bag_set_int(b, "n", -7));
	ASSERT_EQ(0, tpctl_bag_merge(a2, b));
	ASSERT_EQ(-7, tpctl_bag_lookup(a2, "n")->values[0].i);
	tpctl_bag_free(a);
	tpctl_bag_free(b);
	tpctl_bag_free(a2);
	tpctl_bag_free(b2);
}

TEST(set_union)
{
	struct tpctl_bag *a = tpctl_bag_new(), *b = tpctl_bag_new();
	const struct tpctl_entry *e;

	ASSERT_EQ(0, tpctl_bag_add_string(a, "s", "x"));
	ASSERT_EQ(0, tpctl_bag_add_string(a, "s", "z"));
	ASSERT_EQ(0, tpctl_bag_add_string(a, "s", "x"));
	ASSERT_EQ(0, tpctl_bag_add_string(b, "s", "y"));
	ASSERT_EQ(0, tpctl_bag_add_string(b, "s", ""));
	ASSERT_EQ(0, tpctl_bag_add_int(b, "s", -3));
	ASSERT_EQ(0, tpctl_bag_add_bytes(b, "s", "x", 1));
	ASSERT_EQ(0, tpctl_bag_add_uint(b, "s", 9));
	ASSERT_EQ(2u, tpctl_bag_lookup(a, "s")->nvalues);
	ASSERT_EQ(0, tpctl_bag_merge(a, b));
	e = tpctl_bag_lookup(a, "s");
	ASSERT_EQ(TPCTL_SET, (int)e->kind);
	ASSERT_EQ(7u, e->nvalues);
	/* Sorted by encoding: strings, then bytes, ints, uints. */
	ASSERT_EQ(0u, e->values[0].bytes.len);
	ASSERT_EQ(0, memcmp(e->values[1].bytes.ptr, "x", 1));
	ASSERT_EQ(0, memcmp(e->values[3].bytes.ptr, "z", 1));
	ASSERT_EQ(TPCTL_BYTES, (int)e->values[4].type);
	ASSERT_EQ(-3, e->values[5].i);
	ASSERT_EQ(9u, e->values[6].u);
	ASSERT_EQ(-EEXIST, tpctl_bag_counter_add_replica(a, "s", "r", 1, 1));
	tpctl_bag_free(a);
	tpctl_bag_free(b);
}

TEST(counter_replicas)
{
	struct tpctl_bag *a = tpctl_bag_new(), *b;

	ASSERT_EQ(0, tpctl_bag_counter_add_replica(a, "c", "r1", 2, 5));
	b = roundtrip(a);
	ASSERT_EQ(0, tpctl_bag_counter_add_replica(a, "c", "r1", 2, 2));
	ASSERT_EQ(0, tpctl_bag_counter_add_replica(b, "c", "r2", 2, 10));
	ASSERT_EQ(0, tpctl_bag_merge(a, b));
	/* r1 is max(7, 5), r2 is 10. */
	ASSERT_EQ(17u, tpctl_bag_lookup(a, "c")->counter);
	ASSERT_EQ(TPCTL_COUNTER, (int)tpctl_bag_lookup(a, "c")->kind);
	ASSERT_EQ(0, tpctl_bag_merge(a, b));
	ASSERT_EQ(17u, tpctl_bag_lookup(a, "c")->counter);
	ASSERT_EQ(-EOVERFLOW, tpctl_bag_counter_add_replica(a, "c", "r1", 2, UINT64_MAX));
	ASSERT_EQ(17u, tpctl_bag_lookup(a, "c")->counter);
	ASSERT_EQ(-EINVAL, tpctl_bag_counter_add_replica(a, "c", "r", 0, 1));
	ASSERT_EQ(-EINVAL, tpctl_bag_counter_add_replica(a, "c", NULL, 2, 1));
	ASSERT_EQ(-EINVAL, tpctl_bag_counter_add_replica(a, "c", a, 65, 1));
	ASSERT_EQ(0, tpctl_bag_counter_add_replica(a, "c", a, 64, UINT64_MAX));
	/* The read value saturates. */
	ASSERT_EQ(UINT64_MAX, tpctl_bag_lookup(a, "c")->counter);
	ASSERT_EQ(-EEXIST, tpctl_bag_add_string(a, "c", "x"));
	ASSERT_EQ(-EEXIST, tpctl_bag_taint(a, "c"));
	tpctl_bag_free(a);
	tpctl_bag_free(b);
}

struct thread_arg {
	struct tpctl_bag *bag;
	int increments;
};

static void *increment(void *p)
{
	struct thread_arg *arg = p;

	for (int i = 0; i < arg->increments; i++)
		if (tpctl_bag_counter_add(arg->bag, "n", 1))
			return p;
	return NULL;
}

/* Each thread and each forked child is its own replica: nothing is lost. */
TEST(counter_add_threads_and_fork)
{
	struct thread_arg args[4];
	pthread_t threads[4];
	struct tpctl_bag *sum = tpctl_bag_new(), *child;
	int fds[2], status;
	uint8_t buf[4096];
	ssize_t len;
	pid_t pid;

	ASSERT_EQ(0, tpctl_bag_counter_add(sum, "n", 1));
	for (int i = 0; i < 4; i++) {
		args[i].bag = roundtrip(sum);
		args[i].increments = 10 + i;
		ASSERT_EQ(0, pthread_create(&threads[i], NULL, increment, &args[i]));
	}
	for (int i = 0; i < 4; i++) {
		void *ret;

		ASSERT_EQ(0, pthread_join(threads[i], &ret));
		ASSERT_EQ(NULL, ret);
		ASSERT_EQ(0, tpctl_bag_merge(sum, args[i].bag));
		tpctl_bag_free(args[i].bag);
	}
	ASSERT_EQ((size_t)(1 + 10 + 11 + 12 + 13), tpctl_bag_lookup(sum, "n")->counter);

	ASSERT_EQ(0, pipe(fds));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		void *out;
		size_t n;

		bool sent;

		tpctl_bag_counter_add(sum, "n", 100);
		n = encode(sum, &out);
		sent = write(fds[1], out, n) == (ssize_t)n;
		free(out);
		tpctl_bag_free(sum);
		_exit(sent ? 0 : 1);
	}
	close(fds[1]);
	ASSERT_EQ(0, tpctl_bag_counter_add(sum, "n", 1000));
	len = read(fds[0], buf, sizeof(buf));
	ASSERT_LT(0, len);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_EQ(0, status);
	ASSERT_EQ(0, tpctl_bag_decode(buf, len, &child));
	ASSERT_EQ(0, tpctl_bag_merge(sum, child));
	ASSERT_EQ((size_t)(47 + 100 + 1000), tpctl_bag_lookup(sum, "n")->counter);
	close(fds[0]);
	tpctl_bag_free(child);
	tpctl_bag_free(sum);
}

TEST(taint_or)
{
	struct tpctl_bag *a = tpctl_bag_new(), *b = tpctl_bag_new();

	ASSERT_EQ(0, tpctl_bag_taint(a, "pii"));
	ASSERT_EQ(0, tpctl_bag_taint(a, "pii"));
	ASSERT_EQ(0, tpctl_bag_taint(b, "secret"));
	ASSERT_EQ(0, tpctl_bag_merge(a, b));
	ASSERT_EQ(TPCTL_TAINT, (int)tpctl_bag_lookup(a, "pii")->kind);
	ASSERT_EQ(TPCTL_TAINT, (int)tpctl_bag_lookup(a, "secret")->kind);
	ASSERT_EQ(0, tpctl_bag_merge(b, a));
	ASSERT_TRUE(same_encoding(a, b));
	tpctl_bag_free(a);
	tpctl_bag_free(b);
}

TEST(w3c_properties)
{
	struct tpctl_bag *bag = tpctl_bag_new(), *back;

	ASSERT_EQ(-ENOENT, tpctl_bag_set_w3c_properties(bag, "k", "p"));
	ASSERT_EQ(0, tpctl_bag_add_string(bag, "k", "v"));
	ASSERT_EQ(0, tpctl_bag_set_w3c_properties(bag, "k", "prop1;prop2=x"));
	back = roundtrip(bag);
	ASSERT_STREQ("prop1;prop2=x", tpctl_bag_lookup(back, "k")->w3c_properties);
	ASSERT_EQ(0, tpctl_bag_set_w3c_properties(back, "k", ""));
	ASSERT_EQ(NULL, tpctl_bag_lookup(back, "k")->w3c_properties);
	tpctl_bag_free(back);
	back = roundtrip(bag);
	ASSERT_EQ(0, tpctl_bag_set_w3c_properties(back, "k", "a"));
	ASSERT_EQ(0, tpctl_bag_merge(back, bag));
	/* Like a FIRST value, the smaller properties win. */
	ASSERT_STREQ("a", tpctl_bag_lookup(back, "k")->w3c_properties);
	tpctl_bag_free(back);
	tpctl_bag_free(bag);
}

TEST(nested_eight_deep)
{
	struct tpctl_bag *bag = tpctl_bag_new(), *level = bag, *back;
	const struct tpctl_entry *e;
	char key[2] = "a";

	for (int depth = 1; depth < 8; depth++) {
		ASSERT_EQ(0, tpctl_bag_set_int(level, "v", depth));
		level = tpctl_bag_child(level, key);
		ASSERT_NE(NULL, level);
		key[0]++;
	}
	ASSERT_EQ(0, tpctl_bag_set_int(level, "v", 8));
	errno = 0;
	ASSERT_EQ(NULL, tpctl_bag_child(level, "deeper"));
	ASSERT_EQ(E2BIG, errno);
	back = roundtrip(bag);
	ASSERT_TRUE(same_encoding(bag, back));
	level = back;
	key[0] = 'a';
	for (int depth = 1; depth <= 8; depth++) {
		ASSERT_EQ(depth, tpctl_bag_lookup(level, "v")->values[0].i);
		if (depth == 8)
			break;
		e = tpctl_bag_lookup(level, key);
		ASSERT_EQ(TPCTL_BAG, (int)e->kind);
		level = (struct tpctl_bag *)e->child;
		key[0]++;
	}
	/* The same child comes back, and a key of another kind is not a bag. */
	ASSERT_EQ(tpctl_bag_child(bag, "a"), tpctl_bag_child(bag, "a"));
	errno = 0;
	ASSERT_EQ(NULL, tpctl_bag_child(bag, "v"));
	ASSERT_EQ(EEXIST, errno);
	ASSERT_EQ(-EINVAL, tpctl_bag_merge(tpctl_bag_child(bag, "a"), back));
	tpctl_bag_free(back);
	tpctl_bag_free(bag);
}

TEST(keys_valid_and_invalid)
{
	struct tpctl_bag *bag = tpctl_bag_new(), *back;
	char key[300];

	memset(key, 'k', sizeof(key));
	key[255] = '\0';
	ASSERT_EQ(0, tpctl_bag_set_string(bag, key, "max"));
	ASSERT_EQ(0, tpctl_bag_counter_add_replica(tpctl_bag_child(bag, "c"), key, "r", 1, 1));
	back = roundtrip(bag);
	ASSERT_EQ(255u, tpctl_bag_lookup(back, key)->key_len);
	ASSERT_TRUE(same_encoding(bag, back));
	key[255] = 'k';
	key[256] = '\0';
	ASSERT_EQ(-EINVAL, tpctl_bag_set_string(bag, key, "x"));
	ASSERT_EQ(-EINVAL, tpctl_bag_set_string(bag, "", "x"));
	ASSERT_EQ(-EINVAL, tpctl_bag_set_string(bag, NULL, "x"));
	ASSERT_EQ(-EINVAL, tpctl_bag_set_string(bag, "k", NULL));
	ASSERT_EQ(-EINVAL, tpctl_bag_set_bytes(bag, "k", NULL, 1));
	ASSERT_EQ(-EINVAL, tpctl_bag_set_int(NULL, "k", 1));
	ASSERT_EQ(-EINVAL, tpctl_bag_taint(bag, ""));
	ASSERT_EQ(-EINVAL, tpctl_bag_remove(bag, ""));
	ASSERT_EQ(NULL, tpctl_bag_lookup(bag, ""));
	ASSERT_EQ(NULL, tpctl_bag_lookup(bag, key));
	errno = 0;
	ASSERT_EQ(NULL, tpctl_bag_child(bag, ""));
	ASSERT_EQ(EINVAL, errno);
	ASSERT_EQ(2u, tpctl_bag_nkeys(bag));
	tpctl_bag_free(back);
	tpctl_bag_free(bag);
}

TEST(value_limits)
{
	struct tpctl_bag *bag = tpctl_bag_new(), *back;
	char *big = malloc(4098);

	memset(big, 'v', 4097);
	big[4097] = '\0';
	ASSERT_EQ(-E2BIG, tpctl_bag_set_string(bag, "k", big));
	ASSERT_EQ(-E2BIG, tpctl_bag_add_bytes(bag, "k", big, 4097));
	ASSERT_EQ(-E2BIG, tpctl_bag_set_w3c_properties(bag, "k", big));
	big[4096] = '\0';
	ASSERT_EQ(0, tpctl_bag_set_string(bag, "k", big));
	ASSERT_EQ(0, tpctl_bag_set_w3c_properties(bag, "k", big));
	back = roundtrip(bag);
	ASSERT_EQ(4096u, tpctl_bag_lookup(back, "k")->values[0].bytes.len);
	ASSERT_TRUE(same_encoding(bag, back));
	free(big);
	tpctl_bag_free(back);
	tpctl_bag_free(bag);
}

TEST(remove_key)
{
	struct tpctl_bag *bag = tpctl_bag_new();

	ASSERT_EQ(0, tpctl_bag_set_string(tpctl_bag_child(bag, "sub"), "k", "v"));
	ASSERT_EQ(0, tpctl_bag_taint(bag, "t"));
	ASSERT_EQ(-ENOENT, tpctl_bag_remove(bag, "none"));
	ASSERT_EQ(0, tpctl_bag_remove(bag, "sub"));
	ASSERT_EQ(NULL, tpctl_bag_lookup(bag, "sub"));
	ASSERT_EQ(0, tpctl_bag_remove(bag, "t"));
	ASSERT_EQ(0u, tpctl_bag_nkeys(bag));
	ASSERT_EQ(-ENOENT, tpctl_bag_remove(bag, "t"));
	tpctl_bag_free(bag);
}

static int collect(const struct tpctl_entry *e, void *arg)
{
	char *out = arg;

	strncat(out, e->key, e->key_len);
	strcat(out, ",");
	return strlen(out) > 8 ? 7 : 0;
}

TEST(foreach_sorted_and_stops)
{
	struct tpctl_bag *bag = tpctl_bag_new();
	char seen[64] = "";

	ASSERT_EQ(0, tpctl_bag_taint(bag, "bb"));
	ASSERT_EQ(0, tpctl_bag_taint(bag, "b"));
	ASSERT_EQ(0, tpctl_bag_taint(bag, "a"));
	ASSERT_EQ(0, tpctl_bag_foreach(bag, collect, seen));
	ASSERT_STREQ("a,b,bb,", seen);
	ASSERT_EQ(0, tpctl_bag_taint(bag, "c"));
	ASSERT_EQ(0, tpctl_bag_taint(bag, "d"));
	seen[0] = '\0';
	ASSERT_EQ(7, tpctl_bag_foreach(bag, collect, seen));
	ASSERT_STREQ("a,b,bb,c,", seen);
	tpctl_bag_free(bag);
}

TEST(overflow_marker)
{
	static const uint8_t taint[] = { 0x01, 0x01, 't', 0x04 };
	struct tpctl_bag *bag, *other = tpctl_bag_new();
	struct raw raw = { 0 };

	raw_add(&raw, "", 0);
	raw_add(&raw, taint, sizeof(taint));
	ASSERT_EQ(0, tpctl_bag_decode(raw.buf, raw.len, &bag));
	ASSERT_EQ(1, tpctl_bag_overflowed(bag));
	ASSERT_EQ(1u, tpctl_bag_nkeys(bag));
	ASSERT_TRUE(encodes_as(bag, &raw));
	ASSERT_EQ(0, tpctl_bag_overflowed(other));
	ASSERT_EQ(0, tpctl_bag_merge(other, bag));
	ASSERT_EQ(1, tpctl_bag_overflowed(other));
	tpctl_bag_free(bag);
	tpctl_bag_free(other);
}

/* Atoms the decoder does not understand come back out byte for byte. */
TEST(unknown_atoms_survive)
{
	static const uint8_t version2[] = { 0x02, 'f', 'u', 't', 'u', 'r', 'e' };
	static const uint8_t kind9[] = { 0x01, 0x01, 'k', 0x09, 'x' };
	static const uint8_t type7[] = { 0x01, 0x01, 'k', 0x01, 0x07, 'x' };
	static const uint8_t short_int[] = { 0x01, 0x01, 'n', 0x01, 0x03, 0, 0 };
	static const uint8_t zero_key[] = { 0x01, 0x00, 0x01, 0x01 };
	static const uint8_t no_kind[] = { 0x01, 0x01, 'z' };
	static const uint8_t bad_taint[] = { 0x01, 0x01, 't', 0x04, 0x00 };
	static const uint8_t set_vs_first[] = { 0x01, 0x01, 'f', 0x02, 0x01, 'y' };
	static const uint8_t first[] = { 0x01, 0x01, 'f', 0x01, 0x01, 'x' };
	static const uint8_t bad_child[] = { 0x01, 0x01, 'c', 0x05, 0x01, 'q', 0x04, 0x09 };
	const uint8_t *atoms[] = { version2, kind9, type7, short_int, zero_key, no_kind,
				   bad_taint, set_vs_first, first, bad_child };
	const size_t lens[] = { sizeof(version2), sizeof(kind9), sizeof(type7),
				sizeof(short_int), sizeof(zero_key), sizeof(no_kind),
				sizeof(bad_taint), sizeof(set_vs_first), sizeof(first),
				sizeof(bad_child) };
	struct tpctl_bag *bag, *other = tpctl_bag_new();
	struct tp_bag *sorted = NULL;
	struct raw raw = { 0 };

	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		struct raw one = { 0 };
		struct tp_bag *single, *sum;

		raw_add(&one, atoms[i], lens[i]);
		ASSERT_EQ(0, tp_bag_deserialize(one.buf, one.len, GFP_KERNEL, &single));
		ASSERT_EQ(0, tp_bag_merge(sorted, single, GFP_KERNEL, &sum));
		tp_bag_put(sorted);
		tp_bag_put(single);
		sorted = sum;
	}
	raw.len = tp_bag_serialize(sorted, raw.buf, sizeof(raw.buf));
	tp_bag_put(sorted);
	ASSERT_EQ(0, tpctl_bag_decode(raw.buf, raw.len, &bag));
	/* Only "f" is understood; its SET atom lost the kind conflict. */
	ASSERT_EQ(1u, tpctl_bag_nkeys(bag));
	ASSERT_EQ(TPCTL_FIRST, (int)tpctl_bag_lookup(bag, "f")->kind);
	ASSERT_TRUE(encodes_as(bag, &raw));
	ASSERT_EQ(0, tpctl_bag_set_string(other, "o", "v"));
	ASSERT_EQ(0, tpctl_bag_merge(other, bag));
	ASSERT_EQ(0, tpctl_bag_remove(other, "o"));
	ASSERT_TRUE(encodes_as(other, &raw));
	/* Adding to a key with only unknown atoms replaces them. */
	ASSERT_EQ(0, tpctl_bag_taint(other, "k"));
	ASSERT_EQ(TPCTL_TAINT, (int)tpctl_bag_lookup(other, "k")->kind);
	tpctl_bag_free(bag);
	tpctl_bag_free(other);
}

TEST(decode_rejects_garbage)
{
	static const uint8_t truncated[] = { 0x05, 0x01, 0x01 };
	static const uint8_t unsorted[] = { 0x01, 'b', 0x01, 'a' };
	struct tpctl_bag *bag = (struct tpctl_bag *)1;

	ASSERT_EQ(-EINVAL, tpctl_bag_decode(truncated, sizeof(truncated), &bag));
	ASSERT_EQ(-EINVAL, tpctl_bag_decode(unsorted, sizeof(unsorted), &bag));
	ASSERT_EQ(-EINVAL, tpctl_bag_decode(NULL, 3, &bag));
	ASSERT_EQ((struct tpctl_bag *)1, bag);
	ASSERT_EQ(-EINVAL, tpctl_bag_decode(truncated, 0, NULL));
}

TEST_HARNESS_MAIN
