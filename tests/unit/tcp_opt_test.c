// SPDX-License-Identifier: MIT
/*
 * Unit tests of the TCP option codec (kmod/tcp_opt.c), the very parser the
 * module runs on every incoming segment: round trips, every documented
 * way to be malformed (Documentation/wire-format.rst), option lists TCP
 * itself would stop walking, and random option bytes, which must never
 * be read outside the buffer (each is copied to the end of a heap block,
 * so an overrun is a crash under ASan and garbage without).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kselftest_harness.h"
#include "tcp_opt.c"
#include "testutil.h"

static const struct tp_opt_id ID = {
	.kind = TP_OPT_KIND_DEFAULT, .exid = TP_OPT_EXID_DEFAULT,
};

/* Scans @len option bytes placed at the very end of a heap block. */
static int scan_at_end(const uint8_t *opts, size_t len, struct tp_opt_scan *scan)
{
	uint8_t *copy = malloc(len ? len : 1);
	int found;

	memcpy(copy, opts, len);
	found = tp_opt_scan(copy, len, ID, scan);
	free(copy);
	return found;
}

#define SCAN(scan, ...) ({						\
	static const uint8_t bytes_[] = { __VA_ARGS__ };		\
	scan_at_end(bytes_, sizeof(bytes_), (scan));			\
})

TEST(capability_round_trip)
{
	struct tp_opt_scan scan;
	uint8_t buf[8];

	ASSERT_EQ((size_t)TP_OPT_CAP_LEN, tp_opt_put_cap(buf, ID));
	EXPECT_EQ(0, memcmp(buf, "\xfd\x04\x74\x70", 4));
	EXPECT_EQ(TP_OPT_FOUND_CAP, scan_at_end(buf, 4, &scan));
}

/* The example of Documentation/wire-format.rst, byte for byte. */
TEST(fragment_documented_example)
{
	static const uint8_t want[] = { 0xfd, 0x0c, 0x74, 0x70, 0x00, 0x05, 0x00,
					0x01, 0x61, 0x02, 0x62, 0x63 };
	const uint8_t bag[] = { 0x01, 0x61, 0x02, 0x62, 0x63 };
	struct tp_opt_frag f = { .back = 0, .total = 5, .off = 0, .len = 5, .data = bag };
	struct tp_opt_scan scan;
	uint8_t buf[TP_OPT_SPACE];

	ASSERT_EQ(sizeof(want), tp_opt_frag_len(&f));
	ASSERT_EQ(sizeof(want), tp_opt_put_frag(buf, ID, &f));
	EXPECT_EQ(0, memcmp(buf, want, sizeof(want)));
	ASSERT_EQ(TP_OPT_FOUND_FRAG, scan_at_end(buf, sizeof(want), &scan));
	EXPECT_EQ(0U, scan.frag.back);
	EXPECT_EQ(5U, scan.frag.total);
	EXPECT_EQ(0U, scan.frag.off);
	EXPECT_EQ(5U, scan.frag.len);
}

/* Round trips of fragments with varints of every width, after TCP's options. */
TEST(fragment_round_trips)
{
	static const uint32_t vals[] = { 0, 1, 127, 128, 16383, 16384, (1u << 21) - 1,
					 1u << 21, (1u << 24) - 2 };
	uint8_t data[TP_OPT_SPACE], buf[TP_OPT_SPACE + 12];
	struct tp_opt_scan scan;

	memset(data, 'd', sizeof(data));
	for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
		uint32_t total = vals[i] + 1;
		struct tp_opt_frag f = {
			.back = vals[i], .total = total, .off = vals[i], .len = 1, .data = data,
		};
		/* timestamps first, as Linux sends them: NOP NOP TS */
		size_t n = 12;

		memcpy(buf, "\x01\x01\x08\x0a" "abcdefgh", 12);
		n += tp_opt_put_frag(buf + n, ID, &f);
		ASSERT_EQ(TP_OPT_FOUND_FRAG, (int)tp_opt_scan(buf, n, ID, &scan));
		EXPECT_EQ(vals[i], scan.frag.back);
		EXPECT_EQ(total, scan.frag.total);
		EXPECT_EQ(vals[i], scan.frag.off);
		EXPECT_EQ(1U, scan.frag.len);
		EXPECT_EQ('d', scan.frag.data[0]);
	}
}

/* The empty baggage is one fragment of 7 bytes, without data. */
TEST(empty_baggage_fragment)
{
	struct tp_opt_frag f = { 0 };
	struct tp_opt_scan scan;
	uint8_t buf[8];

	ASSERT_EQ(7U, tp_opt_put_frag(buf, ID, &f));
	ASSERT_EQ(TP_OPT_FOUND_FRAG, scan_at_end(buf, 7, &scan));
	EXPECT_EQ(0U, scan.frag.total);
	EXPECT_EQ(0U, scan.frag.len);
}

/* Each documented way to be malformed, as the scanner must see it. */
TEST(malformed)
{
	struct tp_opt_scan s;

	EXPECT_EQ(TP_OPT_FOUND_BAD, SCAN(&s, 253, 5, 0x74, 0x70, 0));
	EXPECT_EQ(TP_OPT_FOUND_BAD, SCAN(&s, 253, 6, 0x74, 0x70, 0, 0));
	/* off + len > total */
	EXPECT_EQ(TP_OPT_FOUND_BAD, SCAN(&s, 253, 9, 0x74, 0x70, 0, 2, 1, 'x', 'y'));
	/* data in the empty baggage; none in a non-empty one */
	EXPECT_EQ(TP_OPT_FOUND_BAD, SCAN(&s, 253, 8, 0x74, 0x70, 0, 0, 0, 'x'));
	EXPECT_EQ(TP_OPT_FOUND_BAD, SCAN(&s, 253, 7, 0x74, 0x70, 0, 5, 0));
	/* overlong varint, value 2^24, varint running past the option */
	EXPECT_EQ(TP_OPT_FOUND_BAD, SCAN(&s, 253, 9, 0x74, 0x70, 0x80, 0x00, 1, 0, 'x'));
	EXPECT_EQ(TP_OPT_FOUND_BAD,
		  SCAN(&s, 253, 11, 0x74, 0x70, 0, 0x80, 0x80, 0x80, 0x08, 0, 'x'));
	EXPECT_EQ(TP_OPT_FOUND_BAD, SCAN(&s, 253, 7, 0x74, 0x70, 0, 1, 0x80));
	/* two of ours */
	EXPECT_EQ(TP_OPT_FOUND_BAD, SCAN(&s, 253, 4, 0x74, 0x70, 253, 4, 0x74, 0x70));
	/* length past the end, and below 2, on our option */
	EXPECT_EQ(TP_OPT_FOUND_BAD, SCAN(&s, 253, 40, 0x74, 0x70, 0, 1, 0, 'x'));
	EXPECT_EQ(TP_OPT_FOUND_BAD, SCAN(&s, 253, 1, 0x74, 0x70));
}

/* Not ours: another ExID, another kind, or after where TCP stops. */
TEST(not_ours)
{
	struct tp_opt_scan s;

	EXPECT_EQ(TP_OPT_NONE, SCAN(&s, 253, 4, 0x74, 0x71));
	EXPECT_EQ(TP_OPT_NONE, SCAN(&s, 254, 4, 0x74, 0x70));
	EXPECT_EQ(TP_OPT_NONE, SCAN(&s, 0, 253, 4, 0x74, 0x70));
	EXPECT_TRUE(s.eol);
	/* a broken option before ours ends the list, as in TCP */
	EXPECT_EQ(TP_OPT_NONE, SCAN(&s, 8, 1, 253, 4, 0x74, 0x70));
	EXPECT_EQ(TP_OPT_NONE, SCAN(&s, 253));
	EXPECT_EQ(TP_OPT_NONE, SCAN(&s, 253, 4, 0x74));
	/* our kind too short for an ExID: no experiment's, not ours */
	EXPECT_EQ(TP_OPT_NONE, SCAN(&s, 253, 2));
	EXPECT_EQ(TP_OPT_NONE, SCAN(&s, 253, 3, 0x74, 1, 1));
	/* and it does not hide our option after it */
	EXPECT_EQ(TP_OPT_FOUND_CAP, SCAN(&s, 253, 2, 253, 4, 0x74, 0x70));
}

TEST(signed_segments_are_seen)
{
	struct tp_opt_scan s;

	EXPECT_EQ(TP_OPT_NONE, SCAN(&s, 19, 18, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0));
	EXPECT_TRUE(s.auth);
}

/* The fragment size of the documentation: room - 4 - 3 * varint_len(total). */
TEST(fragment_size)
{
	EXPECT_EQ(21U, tp_opt_frag_size(28, 58));
	EXPECT_EQ(21U, tp_opt_frag_size(28, 127));
	EXPECT_EQ(18U, tp_opt_frag_size(28, 128));
	EXPECT_EQ(18U, tp_opt_frag_size(28, 8192));
	EXPECT_EQ(30U, tp_opt_frag_size(40, 8192));
	EXPECT_EQ(0U, tp_opt_frag_size(7, 1));
	/* every fragment of that size fits, whatever its back and off */
	for (uint32_t total = 1; total < 70000; total += 97) {
		uint32_t d = tp_opt_frag_size(28, total);
		struct tp_opt_frag f = { .back = total - 1, .total = total,
					 .off = total - 1, .len = d };

		ASSERT_GE(28U, tp_opt_frag_len(&f));
	}
}

/* Random option bytes: any verdict, but never a read outside them. */
TEST(random_bytes)
{
	struct tu_rng rng;
	uint8_t buf[TP_OPT_SPACE];
	struct tp_opt_scan s;

	tu_rng_init(&rng, "tcp_opt random_bytes");
	for (int i = 0; i < 200000; i++) {
		size_t len = tu_below(&rng, (uint32_t)sizeof(buf) + 1);

		for (size_t j = 0; j < len; j++)
			buf[j] = (uint8_t)tu_below(&rng, 256);
		/* bias towards our option, or it is almost never hit */
		if (len >= 4 && tu_below(&rng, 2)) {
			buf[0] = 253;
			buf[2] = 0x74;
			buf[3] = 0x70;
		}
		if (scan_at_end(buf, len, &s) == TP_OPT_FOUND_FRAG) {
			ASSERT_TRUE(s.frag.total ? s.frag.len > 0 : s.frag.len == 0);
			ASSERT_LE((uint64_t)s.frag.off + s.frag.len, s.frag.total);
		}
	}
}

TEST_HARNESS_MAIN
