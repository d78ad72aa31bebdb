// SPDX-License-Identifier: MIT
/*
 * libFuzzer target over the code shared by the kernel and userspace: the
 * atom layer (kmod/atom.c), the TCP option codec (kmod/tcp_opt.c: the
 * parser every segment from the wire meets) and libtpctl's parsers (typed
 * baggage codec, W3C baggage and traceparent).  Every input is fed to all
 * of them; a violated law aborts, which libFuzzer reports as a crash.
 *
 * Input layout for the atom part:
 *   byte 0      trim limit, scaled to the parts' size
 *   byte 1      where to cut the rest into parts a and b
 *   bytes 2..   a, then b
 * Each part is used twice: as serialized bytes (exercising validation) and
 * split on ',' into atoms merged one by one (always a valid baggage, so
 * merge and trim see deep inputs even when the bytes are garbage).
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "atom.h"
#include "tcp_opt.h"
#include "tpctl.h"

#define CHECK(cond) do {						\
	if (!(cond)) {							\
		fprintf(stderr, "%s:%d: law violated: %s\n",		\
			__FILE__, __LINE__, #cond);			\
		abort();						\
	}								\
} while (0)

struct part {
	const uint8_t *buf;
	size_t len;
};

/* ---- atom layer -------------------------------------------------------------- */

static bool well_formed(const struct tp_bag *bag)
{
	u32 count;

	if (!bag)
		return true;
	return bag->len && !tp_bag_validate(bag->data, bag->len, &count) &&
	       count == bag->count;
}

static struct tp_bag *merge(struct tp_bag *a, struct tp_bag *b)
{
	struct tp_bag *out;
	int err = tp_bag_merge(a, b, GFP_KERNEL, &out);

	CHECK(!err);
	CHECK(well_formed(out));
	return out;
}

/* deserialize agrees with validate, and serialize gives the bytes back. */
static struct tp_bag *from_bytes(struct part p)
{
	struct tp_bag *bag = NULL;
	u32 count = 0;
	int valid = tp_bag_validate(p.buf, p.len, &count);
	int err = tp_bag_deserialize(p.buf, p.len, GFP_KERNEL, &bag);
	uint8_t *out;

	CHECK(err == valid);
	CHECK(err <= 0 && err >= TP_ATOM_ETOOBIG);
	if (err)
		return NULL;
	CHECK(well_formed(bag) && tp_bag_count(bag) == count);
	out = malloc(p.len + 1);
	CHECK(out);
	CHECK(tp_bag_serialize(bag, out, p.len) == p.len);
	CHECK(!p.len || !memcmp(out, p.buf, p.len));
	free(out);
	return bag;
}

/* The union of the ','-separated atoms of @p, built by merging singles. */
static struct tp_bag *from_atoms(struct part p)
{
	struct tp_bag *bag = NULL;
	size_t start = 0, i;

	for (i = 0; i <= p.len; i++) {
		uint8_t one[TP_VARINT_MAX_BYTES + 256];
		struct tp_bag *single, *sum;
		size_t alen = i - start, n;

		if (i < p.len && p.buf[i] != ',')
			continue;
		if (alen > 256)
			alen = 256;
		n = tp_varint_put(one, (u32)alen);
		memcpy(one + n, p.buf + start, alen);
		CHECK(!tp_bag_deserialize(one, n + alen, GFP_KERNEL, &single));
		sum = merge(bag, single);
		tp_bag_put(bag);
		tp_bag_put(single);
		bag = sum;
		start = i + 1;
	}
	return bag;
}

static void check_merge_laws(struct tp_bag *a, struct tp_bag *b)
{
	struct tp_bag *ab = merge(a, b), *ba = merge(b, a);
	struct tp_bag *ab_a = merge(ab, a), *aa = merge(a, a);

	CHECK(tp_bag_equal(ab, ba));
	CHECK(ab_a == ab);		/* absorbed: shared, not rebuilt */
	CHECK(aa == a);
	CHECK(tp_bag_size(ab) >= tp_bag_size(a) && tp_bag_size(ab) >= tp_bag_size(b));
	tp_bag_put(ab);
	tp_bag_put(ba);
	tp_bag_put(ab_a);
	tp_bag_put(aa);
}

static void check_trim(struct tp_bag *bag, size_t max)
{
	static const uint8_t marker_byte;
	struct tp_bag *t, *marker, *back, *marked;

	CHECK(!tp_bag_trim(bag, max, GFP_KERNEL, &t));
	CHECK(well_formed(t));
	CHECK(tp_bag_size(t) <= max);
	if (tp_bag_size(bag) <= max) {
		CHECK(t == bag);
	} else if (max) {
		CHECK(tp_bag_overflowed(t));
		/* trim(b) merged with b is b plus the marker. */
		CHECK(!tp_bag_deserialize(&marker_byte, 1, GFP_KERNEL, &marker));
		back = merge(t, bag);
		marked = merge(bag, marker);
		CHECK(tp_bag_equal(back, marked));
		tp_bag_put(back);
		tp_bag_put(marked);
		tp_bag_put(marker);
	} else {
		CHECK(!t);
	}
	tp_bag_put(t);
}

static void fuzz_atoms(const uint8_t *data, size_t size)
{
	struct part whole = { data, size }, a, b;
	struct tp_bag *x, *y;
	size_t rest, cut, max;

	tp_bag_put(from_bytes(whole));
	if (size < 2)
		return;
	rest = size - 2;
	cut = rest * data[1] / 255;
	a = (struct part){ data + 2, cut };
	b = (struct part){ data + 2 + cut, rest - cut };
	max = (rest + 8) * data[0] / 255;

	x = from_bytes(a);
	y = from_bytes(b);
	check_merge_laws(x, y);
	check_trim(x, max);
	tp_bag_put(x);
	tp_bag_put(y);

	x = from_atoms(a);
	y = from_atoms(b);
	check_merge_laws(x, y);
	check_trim(x, max);
	check_trim(y, max / 2);
	tp_bag_put(x);
	tp_bag_put(y);
}

/* ---- typed baggage codec ---------------------------------------------------------- */

/* decode -> encode -> decode -> encode: both encodings are identical. */
static struct tpctl_bag *decode_stable(const void *buf, size_t len,
				       void **enc, size_t *enc_len)
{
	struct tpctl_bag *bag, *again;
	void *enc2;
	size_t len2;

	if (tpctl_bag_decode(buf, len, &bag))
		return NULL;
	CHECK(!tpctl_bag_encode(bag, enc, enc_len));
	CHECK(!tpctl_bag_decode(*enc, *enc_len, &again));
	CHECK(!tpctl_bag_encode(again, &enc2, &len2));
	CHECK(len2 == *enc_len && (!len2 || !memcmp(enc2, *enc, len2)));
	/* What libtpctl hands the kernel must pass the kernel's validation. */
	CHECK(!tp_bag_validate(*enc, *enc_len, NULL));
	free(enc2);
	tpctl_bag_free(again);
	return bag;
}

static void fuzz_typed(const uint8_t *data, size_t size)
{
	size_t cut = size ? size * data[0] / 256 : 0;
	struct tpctl_bag *a, *b, *dec;
	struct tp_bag *ra, *rb, *sum;
	void *ea = NULL, *eb = NULL;
	size_t la, lb;

	tpctl_bag_free(decode_stable(data, size, &ea, &la));
	free(ea);
	ea = NULL;

	/* Two halves that both decode must also decode once merged. */
	a = decode_stable(data, cut, &ea, &la);
	b = decode_stable(data + cut, size - cut, &eb, &lb);
	if (a && b) {
		CHECK(!tp_bag_deserialize(ea, la, GFP_KERNEL, &ra));
		CHECK(!tp_bag_deserialize(eb, lb, GFP_KERNEL, &rb));
		sum = merge(ra, rb);
		CHECK(!tpctl_bag_decode(sum ? sum->data : NULL, tp_bag_size(sum), &dec));
		CHECK(!tpctl_bag_merge(a, b));
		tpctl_bag_free(dec);
		tp_bag_put(sum);
		tp_bag_put(ra);
		tp_bag_put(rb);
	}
	free(ea);
	free(eb);
	tpctl_bag_free(a);
	tpctl_bag_free(b);
}

/* ---- TCP option codec ---------------------------------------------------------- */

/* The module's defaults; the input is the option list. */
static const struct tp_opt_id fuzz_opt_id = {
	.kind = TP_OPT_KIND_DEFAULT, .exid = TP_OPT_EXID_DEFAULT,
};

static bool same_frag(const struct tp_opt_frag *a, const struct tp_opt_frag *b)
{
	return a->back == b->back && a->total == b->total && a->off == b->off &&
	       a->len == b->len && !memcmp(a->data, b->data, a->len);
}

/*
 * A fragment found lies inside the list and inside its version, and its
 * canonical encoding (one option: at most 255 bytes) reads back as itself.
 */
static void check_frag(const uint8_t *opts, size_t len,
		       const struct tp_opt_frag *frag)
{
	uint8_t out[UINT8_MAX];
	struct tp_opt_scan again;
	size_t n;

	CHECK(frag->data >= opts && frag->data + frag->len <= opts + len);
	CHECK(frag->total ? frag->len && (uint64_t)frag->off + frag->len <= frag->total
			  : !frag->off && !frag->len);
	n = tp_opt_frag_len(frag);
	CHECK(n <= len && n <= sizeof(out));
	CHECK(tp_opt_put_frag(out, fuzz_opt_id, frag) == n);
	CHECK(tp_opt_scan(out, n, fuzz_opt_id, &again) == TP_OPT_FOUND_FRAG);
	CHECK(same_frag(&again.frag, frag) && !again.eol && !again.auth);
}

/*
 * The sender's fragment size for @total bytes in @room fits a fragment
 * whatever its back and offset (both below @total, as a sender's are).
 */
static void check_frag_size(uint32_t room, uint32_t total)
{
	uint32_t size = tp_opt_frag_size(room, total);
	struct tp_opt_frag worst = {
		.back = total - 1, .total = total, .off = total - 1, .len = size,
	};

	if (size && total)
		CHECK(tp_opt_frag_len(&worst) <= room);
}

static void fuzz_tcp_opt(const uint8_t *data, size_t size)
{
	struct tp_opt_scan scan;
	enum tp_opt_found found;
	uint32_t total = 0;

	/* libFuzzer's buffer is exactly @size bytes: ASan sees an overrun. */
	found = tp_opt_scan(data, size, fuzz_opt_id, &scan);
	CHECK(found == scan.found);
	if (found == TP_OPT_FOUND_FRAG)
		check_frag(data, size, &scan.frag);
	memcpy(&total, data, size < sizeof(total) ? size : sizeof(total));
	check_frag_size(size % (TP_OPT_SPACE + 1), total);
}

/* ---- W3C text ---------------------------------------------------------------------- */

static void fuzz_w3c_baggage(const char *text)
{
	struct tpctl_bag *bag, *again;
	char err[256] = "";
	char *out, *out2;
	int rc;

	if (tpctl_bag_from_w3c(text, &bag, err, sizeof(err))) {
		CHECK(err[0]);
		return;
	}
	rc = tpctl_bag_to_w3c(bag, &out);
	CHECK(!rc || rc == -E2BIG);
	if (!rc) {
		CHECK(!tpctl_bag_from_w3c(out, &again, err, sizeof(err)));
		/* Formatting what was parsed from a formatting is a fixed point. */
		CHECK(!tpctl_bag_to_w3c(again, &out2));
		CHECK(!strcmp(out, out2));
		free(out2);
		tpctl_bag_free(again);
		free(out);
	}
	tpctl_bag_free(bag);
}

static void fuzz_traceparent(const char *text)
{
	struct tpctl_traceparent tp, back;
	char out[TPCTL_TRACEPARENT_LEN + 1];
	char err[256] = "";

	if (tpctl_traceparent_parse(text, &tp, err, sizeof(err))) {
		CHECK(err[0]);
		return;
	}
	CHECK(!tpctl_traceparent_format(&tp, out));
	CHECK(strlen(out) == TPCTL_TRACEPARENT_LEN);
	CHECK(!tpctl_traceparent_parse(out, &back, err, sizeof(err)));
	CHECK(!memcmp(&tp, &back, sizeof(tp)));
}

static void fuzz_text(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);

	CHECK(text);
	memcpy(text, data, size);
	text[size] = '\0';
	fuzz_w3c_baggage(text);
	fuzz_traceparent(text);
	free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_atoms(data, size);
	fuzz_typed(data, size);
	fuzz_tcp_opt(data, size);
	fuzz_text(data, size);
	/* Every blob made for this input has been given back. */
	CHECK(!tp_counter_read(&tp_atom_live_bags));
	CHECK(!tp_counter_read(&tp_atom_live_bytes));
	return 0;
}
