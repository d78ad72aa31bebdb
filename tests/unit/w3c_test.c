// SPDX-License-Identifier: MIT
/*
 * Unit tests of the W3C interop (libtpctl/w3c.c, libtpctl/traceparent.c):
 * the specification's examples, the mapping both ways, the limits, every
 * error message, and allocation failure.
 *
 * The binary interposes malloc/calloc/realloc (glibc's own entry points
 * stay reachable as __libc_*) to fail the n-th allocation on demand; until
 * a test arms it, every allocation succeeds.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "kselftest_harness.h"
#include "testutil.h"
#include "tpctl.h"

void *__libc_malloc(size_t size);
void *__libc_calloc(size_t n, size_t size);
void *__libc_realloc(void *ptr, size_t size);

static long allocs_left = -1;	/* allocations before one fails; < 0: never */

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

/* ---- helpers -------------------------------------------------------------------- */

/* Parses @text, which must be valid. */
static struct tpctl_bag *parse(const char *text)
{
	struct tpctl_bag *bag = NULL;
	char err[256];

	if (tpctl_bag_from_w3c(text, &bag, err, sizeof(err))) {
		fprintf(stderr, "parse(\"%s\"): %s\n", text, err);
		abort();
	}
	return bag;
}

/* Formats @bag, which must be representable; the caller frees the text. */
static char *format(const struct tpctl_bag *bag)
{
	char *text = NULL;
	int err = tpctl_bag_to_w3c(bag, &text);

	if (err) {
		fprintf(stderr, "format: %s\n", strerror(-err));
		abort();
	}
	return text;
}

/* The FIRST string at @key as a C string ("" if absent or of another kind). */
static const char *first_string(const struct tpctl_bag *bag, const char *key)
{
	static char buf[8192];
	const struct tpctl_entry *e = tpctl_bag_lookup(bag, key);

	if (!e || e->kind != TPCTL_FIRST || e->values[0].type != TPCTL_STRING)
		return "";
	memcpy(buf, e->values[0].bytes.ptr, e->values[0].bytes.len);
	buf[e->values[0].bytes.len] = '\0';
	return buf;
}

static bool value_is(const struct tpctl_value *v, const char *s)
{
	return v->type == TPCTL_STRING && v->bytes.len == strlen(s) &&
	       !memcmp(v->bytes.ptr, s, v->bytes.len);
}

/* A text of @n members "kI=v" (I from 0), with @sep between them. */
static char *members_text(int n, const char *sep)
{
	char *text = calloc(1, (size_t)n * (16 + strlen(sep)) + 1);
	int i;

	for (i = 0; i < n; i++)
		sprintf(text + strlen(text), "%sk%d=v", i ? sep : "", i);
	return text;
}

/* "a=xxx...,b=xxx..." of exactly @len bytes (at least 8). */
static char *text_of_length(size_t len)
{
	char *text = malloc(len + 1);
	size_t half = len / 2;

	memset(text, 'x', len);
	memcpy(text, "a=", 2);
	memcpy(text + half, ",b=", 3);
	text[len] = '\0';
	return text;
}

/* ---- parsing: the specification's examples ----------------------------------- */

TEST(spec_example_with_properties)
{
	struct tpctl_bag *bag = parse("key1=value1;property1;property2, key2 = value2, "
				      "key3=value3; propertyKey=propertyValue");

	ASSERT_EQ(3u, tpctl_bag_nkeys(bag));
	ASSERT_STREQ("value1", first_string(bag, "key1"));
	ASSERT_STREQ("property1;property2", tpctl_bag_lookup(bag, "key1")->w3c_properties);
	ASSERT_STREQ("value2", first_string(bag, "key2"));
	ASSERT_EQ(NULL, tpctl_bag_lookup(bag, "key2")->w3c_properties);
	ASSERT_STREQ("value3", first_string(bag, "key3"));
	ASSERT_STREQ("propertyKey=propertyValue", tpctl_bag_lookup(bag, "key3")->w3c_properties);
	tpctl_bag_free(bag);
}

TEST(spec_example_percent_encoded)
{
	struct tpctl_bag *bag = parse("userId=alice,serverNode=DF%2028,isProduction=false");

	ASSERT_EQ(3u, tpctl_bag_nkeys(bag));
	ASSERT_STREQ("alice", first_string(bag, "userId"));
	ASSERT_STREQ("DF 28", first_string(bag, "serverNode"));
	ASSERT_STREQ("false", first_string(bag, "isProduction"));
	tpctl_bag_free(bag);
}

TEST(spec_example_spaces)
{
	struct tpctl_bag *bag = parse("userId =   alice, serverNode = DF%2028, isProduction = false");

	ASSERT_STREQ("alice", first_string(bag, "userId"));
	ASSERT_STREQ("DF 28", first_string(bag, "serverNode"));
	ASSERT_STREQ("false", first_string(bag, "isProduction"));
	tpctl_bag_free(bag);
}

TEST(ows_everywhere)
{
	struct tpctl_bag *bag = parse(" \t k \t = \t v \t ; \t p \t = \t 1 \t ; \t q \t , \t j=2\t ");

	ASSERT_EQ(2u, tpctl_bag_nkeys(bag));
	ASSERT_STREQ("v", first_string(bag, "k"));
	ASSERT_STREQ("p=1;q", tpctl_bag_lookup(bag, "k")->w3c_properties);
	ASSERT_STREQ("2", first_string(bag, "j"));
	tpctl_bag_free(bag);
}

TEST(properties_with_and_without_values)
{
	struct tpctl_bag *bag = parse("a=1;flag,b=2;x=%zz;y==;z,c=3;only=");

	/* Property values are opaque to W3C: kept as written, even "%zz". */
	ASSERT_STREQ("flag", tpctl_bag_lookup(bag, "a")->w3c_properties);
	ASSERT_STREQ("x=%zz;y==;z", tpctl_bag_lookup(bag, "b")->w3c_properties);
	ASSERT_STREQ("only=", tpctl_bag_lookup(bag, "c")->w3c_properties);
	tpctl_bag_free(bag);
}

TEST(values_may_be_empty_or_hold_equals)
{
	struct tpctl_bag *bag = parse("a=,b==x=,c=%41");

	ASSERT_STREQ("", first_string(bag, "a"));
	ASSERT_EQ(TPCTL_FIRST, (int)tpctl_bag_lookup(bag, "a")->kind);
	ASSERT_STREQ("=x=", first_string(bag, "b"));
	ASSERT_STREQ("A", first_string(bag, "c"));
	tpctl_bag_free(bag);
}

TEST(keys_are_tokens_and_not_decoded)
{
	struct tpctl_bag *bag = parse("!#$%&'*+-.^_`|~09azAZ=1,a%41=2");

	ASSERT_STREQ("1", first_string(bag, "!#$%&'*+-.^_`|~09azAZ"));
	ASSERT_STREQ("2", first_string(bag, "a%41"));
	tpctl_bag_free(bag);
}

TEST(empty_header_is_an_empty_bag)
{
	struct tpctl_bag *bag = parse("");

	ASSERT_EQ(0u, tpctl_bag_nkeys(bag));
	tpctl_bag_free(bag);
	bag = parse(" \t ");
	ASSERT_EQ(0u, tpctl_bag_nkeys(bag));
	tpctl_bag_free(bag);
}

TEST(repeated_key_is_a_set)
{
	struct tpctl_bag *bag = parse("k=b,other=1,k=a,k=b");
	const struct tpctl_entry *e = tpctl_bag_lookup(bag, "k");

	ASSERT_EQ(TPCTL_SET, (int)e->kind);
	ASSERT_EQ(2u, e->nvalues);
	ASSERT_TRUE(value_is(&e->values[0], "a"));
	ASSERT_TRUE(value_is(&e->values[1], "b"));
	ASSERT_STREQ("1", first_string(bag, "other"));
	tpctl_bag_free(bag);
}

TEST(repeated_key_with_same_properties)
{
	struct tpctl_bag *bag = parse("k=a;p=1, k=b ; p = 1");
	char *text = format(bag);

	ASSERT_EQ(TPCTL_SET, (int)tpctl_bag_lookup(bag, "k")->kind);
	ASSERT_STREQ("p=1", tpctl_bag_lookup(bag, "k")->w3c_properties);
	/* A set's properties go with each of its members. */
	ASSERT_STREQ("k=a;p=1,k=b;p=1", text);
	free(text);
	tpctl_bag_free(bag);
}

/* ---- parsing: limits ---------------------------------------------------------------- */

TEST(sixty_four_members_ok)
{
	char *text = members_text(TPCTL_W3C_MAX_MEMBERS, " , ");
	struct tpctl_bag *bag = parse(text);

	ASSERT_EQ((size_t)TPCTL_W3C_MAX_MEMBERS, tpctl_bag_nkeys(bag));
	tpctl_bag_free(bag);
	free(text);
}

TEST(sixty_five_members_rejected)
{
	char *text = members_text(TPCTL_W3C_MAX_MEMBERS + 1, ",");
	struct tpctl_bag *bag = NULL;
	char err[256], want[64];

	ASSERT_EQ(-E2BIG, tpctl_bag_from_w3c(text, &bag, err, sizeof(err)));
	snprintf(want, sizeof(want), "offset %zu (member 65): more than 64 list members",
		 (size_t)(strstr(text, "k64=") - text));
	ASSERT_STREQ(want, err);
	ASSERT_EQ(NULL, bag);
	free(text);
}

TEST(repeated_members_count_toward_the_limit)
{
	char text[65 * 4 + 1] = "";
	struct tpctl_bag *bag = NULL;
	char err[256];
	int i;

	for (i = 0; i <= TPCTL_W3C_MAX_MEMBERS; i++)
		strcat(text, i ? ",k=v" : "k=v");
	ASSERT_EQ(-E2BIG, tpctl_bag_from_w3c(text, &bag, err, sizeof(err)));
	ASSERT_STREQ("offset 256 (member 65): more than 64 list members", err);
}

TEST(max_bytes_ok)
{
	char *text = text_of_length(TPCTL_W3C_MAX_BYTES);
	struct tpctl_bag *bag = parse(text);

	ASSERT_EQ(2u, tpctl_bag_nkeys(bag));
	ASSERT_EQ((size_t)TPCTL_W3C_MAX_BYTES / 2 - 2, strlen(first_string(bag, "a")));
	tpctl_bag_free(bag);
	free(text);
}

TEST(max_bytes_plus_one_rejected)
{
	char *text = text_of_length(TPCTL_W3C_MAX_BYTES + 1);
	struct tpctl_bag *bag = NULL;
	char err[256];

	ASSERT_EQ(-E2BIG, tpctl_bag_from_w3c(text, &bag, err, sizeof(err)));
	ASSERT_STREQ("offset 8192: baggage longer than 8192 bytes", err);
	ASSERT_EQ(NULL, bag);
	free(text);
}

/* ---- parsing: malformed text, with the exact message ------------------------------- */

struct bad_case {
	const char *text;
	int err;
	const char *msg;
};

static const struct bad_case bad_cases[] = {
	/* keys */
	{ "ke@y=v", -EINVAL, "offset 2 (member 1): '@' is not allowed in a key (an RFC 7230 token)" },
	{ "a=1,k\xc3\xa9=v", -EINVAL,
	  "offset 5 (member 2): byte 0xc3 is not allowed in a key (an RFC 7230 token)" },
	{ "=1", -EINVAL, "offset 0 (member 1): expected a key, found '='" },
	{ "\"k\"=1", -EINVAL, "offset 0 (member 1): expected a key, found '\"'" },
	/* missing '=' */
	{ "k", -EINVAL, "offset 1 (member 1): expected '=' after the key, found the end of the text" },
	{ "a=1,k,b=2", -EINVAL, "offset 5 (member 2): expected '=' after the key, found ','" },
	{ "k v", -EINVAL, "offset 2 (member 1): expected '=' after the key, found 'v'" },
	{ "k;p=1", -EINVAL, "offset 1 (member 1): expected '=' after the key, found ';'" },
	/* empty members */
	{ ",a=1", -EINVAL, "offset 0 (member 1): empty list member before ','" },
	{ "a=1,,b=2", -EINVAL, "offset 4 (member 2): empty list member before ','" },
	{ "a=1, \t,b=2", -EINVAL, "offset 6 (member 2): empty list member before ','" },
	{ "a=1,", -EINVAL, "offset 4 (member 2): empty list member at the end (trailing ',')" },
	{ "a=1 , ", -EINVAL, "offset 6 (member 2): empty list member at the end (trailing ',')" },
	/* percent escapes */
	{ "a=%4g", -EINVAL, "offset 2 (member 1): '%' in value not followed by two hex digits" },
	{ "a=x%", -EINVAL, "offset 3 (member 1): '%' in value not followed by two hex digits" },
	{ "a=x%4", -EINVAL, "offset 3 (member 1): '%' in value not followed by two hex digits" },
	{ "a=x%4;p", -EINVAL, "offset 3 (member 1): '%' in value not followed by two hex digits" },
	{ "a=%00", -EINVAL, "offset 2 (member 1): %00 (NUL) is not allowed in a value" },
	{ "a=%C3%28", -EINVAL, "offset 2 (member 1): value is not valid UTF-8 once percent-decoded" },
	{ "a=ok%C3", -EINVAL, "offset 4 (member 1): value is not valid UTF-8 once percent-decoded" },
	{ "a=%41%ED%A0%80", -EINVAL,
	  "offset 5 (member 1): value is not valid UTF-8 once percent-decoded" },
	{ "a=%C0%80", -EINVAL, "offset 2 (member 1): value is not valid UTF-8 once percent-decoded" },
	{ "a=%F4%90%80%80", -EINVAL,
	  "offset 2 (member 1): value is not valid UTF-8 once percent-decoded" },
	{ "a=%FF", -EINVAL, "offset 2 (member 1): value is not valid UTF-8 once percent-decoded" },
	/* octets a value may not hold */
	{ "a=b\"c", -EINVAL, "offset 3 (member 1): '\"' is not allowed in a value (percent-encode it)" },
	{ "a=b\\c", -EINVAL, "offset 3 (member 1): '\\' is not allowed in a value (percent-encode it)" },
	{ "a=\xc3\xa9", -EINVAL,
	  "offset 2 (member 1): byte 0xc3 is not allowed in a value (percent-encode it)" },
	{ "a=1\n", -EINVAL,
	  "offset 3 (member 1): byte 0x0a is not allowed in a value (percent-encode it)" },
	{ "a=b c", -EINVAL, "offset 4 (member 1): expected ',', ';' or the end, found 'c'" },
	/* properties */
	{ "a=1;", -EINVAL,
	  "offset 4 (member 1): expected a property key, found the end of the text" },
	{ "a=1;;p", -EINVAL, "offset 4 (member 1): expected a property key, found ';'" },
	{ "a=1; ,b=2", -EINVAL, "offset 5 (member 1): expected a property key, found ','" },
	{ "a=1;=x", -EINVAL, "offset 4 (member 1): expected a property key, found '='" },
	{ "a=1;p@", -EINVAL,
	  "offset 5 (member 1): '@' is not allowed in a property key (an RFC 7230 token)" },
	{ "a=1;p q", -EINVAL, "offset 6 (member 1): expected ',', ';' or the end, found 'q'" },
	{ "a=1;p=x y", -EINVAL, "offset 8 (member 1): expected ',', ';' or the end, found 'y'" },
	{ "a=1;p=\\", -EINVAL,
	  "offset 6 (member 1): '\\' is not allowed in a property value (percent-encode it)" },
	/* a key has one set of properties */
	{ "a=1,b=2;p,b=3", -EINVAL,
	  "offset 10 (member 3): key repeats member 2 with other properties" },
	{ "b=2,b=3;p", -EINVAL, "offset 4 (member 2): key repeats member 1 with other properties" },
};

TEST(malformed_text_messages)
{
	struct tpctl_bag *const untouched = (struct tpctl_bag *)&bad_cases;
	size_t i;

	for (i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		const struct bad_case *c = &bad_cases[i];
		struct tpctl_bag *bag = untouched;
		char err[256] = "";

		ASSERT_EQ(c->err, tpctl_bag_from_w3c(c->text, &bag, err, sizeof(err))) {
			TH_LOG("\"%s\": %s", c->text, err);
		}
		ASSERT_STREQ(c->msg, err);
		ASSERT_EQ(untouched, bag);
	}
}

/* Limits of the typed bag (Documentation/baggage-format.rst) surface as E2BIG. */
TEST(bag_limits)
{
	static char text[TPCTL_W3C_MAX_BYTES];
	struct tpctl_bag *bag = NULL;
	char err[256];

	memset(text, 'k', 256);
	strcpy(text + 256, "=v");
	ASSERT_EQ(-E2BIG, tpctl_bag_from_w3c(text, &bag, err, sizeof(err)));
	ASSERT_STREQ("offset 0 (member 1): key longer than a baggage key may be", err);

	strcpy(text, "a=1,k=");
	memset(text + 6, 'v', 4097);
	text[6 + 4097] = '\0';
	ASSERT_EQ(-E2BIG, tpctl_bag_from_w3c(text, &bag, err, sizeof(err)));
	ASSERT_STREQ("offset 4 (member 2): value longer than a baggage value may be", err);

	strcpy(text, "k=v;");
	memset(text + 4, 'p', 4097);
	text[4 + 4097] = '\0';
	ASSERT_EQ(-E2BIG, tpctl_bag_from_w3c(text, &bag, err, sizeof(err)));
	ASSERT_STREQ("offset 0 (member 1): properties longer than a baggage value may be", err);
	ASSERT_EQ(NULL, bag);
}

TEST(error_buffer_is_optional_and_truncated)
{
	struct tpctl_bag *bag = NULL;
	char err[12];

	ASSERT_EQ(-EINVAL, tpctl_bag_from_w3c("k", &bag, NULL, 0));
	memset(err, 'X', sizeof(err));
	ASSERT_EQ(-EINVAL, tpctl_bag_from_w3c("k", &bag, err, sizeof(err)));
	ASSERT_STREQ("offset 1 (m", err);
	ASSERT_EQ(-EINVAL, tpctl_bag_from_w3c(NULL, &bag, err, sizeof(err)));
	ASSERT_EQ(-EINVAL, tpctl_bag_from_w3c("k=v", NULL, err, sizeof(err)));
	ASSERT_EQ(NULL, bag);
}

/* ---- formatting ----------------------------------------------------------------------- */

TEST(format_every_kind)
{
	struct tpctl_bag *bag = tpctl_bag_new();
	char *text;

	ASSERT_EQ(0, tpctl_bag_set_string(bag, "s", "alice"));
	ASSERT_EQ(0, tpctl_bag_set_w3c_properties(bag, "s", "p;q=1"));
	ASSERT_EQ(0, tpctl_bag_set_bytes(bag, "b", "x y", 3));
	ASSERT_EQ(0, tpctl_bag_set_int(bag, "i", INT64_MIN));
	ASSERT_EQ(0, tpctl_bag_set_uint(bag, "u", UINT64_MAX));
	ASSERT_EQ(0, tpctl_bag_add_int(bag, "set", 2));
	ASSERT_EQ(0, tpctl_bag_add_int(bag, "set", -1));
	ASSERT_EQ(0, tpctl_bag_counter_add_replica(bag, "n", "r1", 2, 3));
	ASSERT_EQ(0, tpctl_bag_counter_add_replica(bag, "n", "r2", 2, 4));
	ASSERT_EQ(0, tpctl_bag_taint(bag, "t"));
	ASSERT_EQ(0, tpctl_bag_set_string(tpctl_bag_child(bag, "nested"), "x", "hidden"));
	text = format(bag);
	/* In key order; the nested bag is left out. */
	ASSERT_STREQ("b=x%20y,i=-9223372036854775808,n=7,s=alice;p;q=1,set=-1,set=2,t=true,"
		     "u=18446744073709551615", text);
	free(text);
	tpctl_bag_free(bag);
}

TEST(format_empty_bag)
{
	struct tpctl_bag *bag = tpctl_bag_new();
	char *text = format(bag);

	ASSERT_STREQ("", text);
	free(text);
	ASSERT_EQ(0, tpctl_bag_set_string(tpctl_bag_child(bag, "only"), "nested", "x"));
	text = format(bag);
	ASSERT_STREQ("", text);
	free(text);
	tpctl_bag_free(bag);
}

TEST(percent_encoding_round_trip)
{
	/* The delimiters, '%', OWS, DQUOTE, backslash, controls and UTF-8. */
	static const char value[] =
		"100% a,b;c=d \"q\" \\ \t\x7f caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80";
	struct tpctl_bag *bag = tpctl_bag_new(), *back;
	char *text;

	ASSERT_EQ(0, tpctl_bag_set_string(bag, "k", value));
	text = format(bag);
	ASSERT_STREQ("k=100%25%20a%2Cb%3Bc=d%20%22q%22%20%5C%20%09%7F%20caf%C3%A9%20%E2%82%AC"
		     "%20%F0%9F%98%80", text);
	back = parse(text);
	ASSERT_STREQ(value, first_string(back, "k"));
	free(text);
	tpctl_bag_free(back);
	tpctl_bag_free(bag);
}

TEST(every_byte_value_round_trips)
{
	char value[512], *text;
	struct tpctl_bag *bag = tpctl_bag_new(), *back;
	size_t n = 0;
	unsigned int c;

	/* Every ASCII byte but NUL, then every UTF-8 sequence length. */
	for (c = 1; c < 0x80; c++)
		value[n++] = (char)c;
	strcpy(value + n, "\xc2\x80\xdf\xbf\xe0\xa0\x80\xef\xbf\xbf\xf0\x90\x80\x80\xf4\x8f\xbf\xbf");
	ASSERT_EQ(0, tpctl_bag_set_string(bag, "k", value));
	text = format(bag);
	back = parse(text);
	ASSERT_STREQ(value, first_string(back, "k"));
	free(text);
	tpctl_bag_free(back);
	tpctl_bag_free(bag);
}

TEST(format_rejects_what_w3c_cannot_carry)
{
	static const struct {
		const char *key;
		const void *val;
		size_t len;
		const char *props;
	} cases[] = {
		{ "not a token", "v", 1, NULL },	/* keys are tokens */
		{ "k=v", "v", 1, NULL },
		{ "caf\xc3\xa9", "v", 1, NULL },
		{ "k", "\xff", 1, NULL },		/* not UTF-8 */
		{ "k", "\xc3", 1, NULL },		/* truncated UTF-8 */
		{ "k", "a\0b", 3, NULL },		/* NUL */
		{ "k", "v", 1, "p q" },			/* properties off the grammar */
		{ "k", "v", 1, "p;;q" },
		{ "k", "v", 1, ";p" },
		{ "k", "v", 1, "p;" },
		{ "k", "v", 1, "p=a,b" },
		{ "k", "v", 1, "=v" },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct tpctl_bag *bag = tpctl_bag_new();
		char *text = (char *)cases;

		ASSERT_EQ(0, tpctl_bag_set_bytes(bag, cases[i].key, cases[i].val, cases[i].len));
		if (cases[i].props) {
			ASSERT_EQ(0, tpctl_bag_set_w3c_properties(bag, cases[i].key, cases[i].props));
		}
		ASSERT_EQ(-EINVAL, tpctl_bag_to_w3c(bag, &text)) {
			TH_LOG("case %zu", i);
		}
		ASSERT_EQ((char *)cases, text);
		tpctl_bag_free(bag);
	}
}

TEST(format_member_limit)
{
	struct tpctl_bag *bag = tpctl_bag_new();
	char *text = NULL;
	int i;

	for (i = 0; i < TPCTL_W3C_MAX_MEMBERS - 1; i++)
		ASSERT_EQ(0, tpctl_bag_add_int(bag, "set", i));
	ASSERT_EQ(0, tpctl_bag_taint(bag, "t"));
	text = format(bag);
	free(text);
	text = NULL;
	/* The 65th member, whatever its kind, is one too many. */
	ASSERT_EQ(0, tpctl_bag_counter_add_replica(bag, "n", "r", 1, 1));
	ASSERT_EQ(-E2BIG, tpctl_bag_to_w3c(bag, &text));
	ASSERT_EQ(NULL, text);
	tpctl_bag_free(bag);
}

TEST(format_byte_limit)
{
	char *text = text_of_length(TPCTL_W3C_MAX_BYTES), *out = NULL;
	struct tpctl_bag *bag = parse(text);

	out = format(bag);
	ASSERT_STREQ(text, out);
	free(out);
	out = NULL;
	/* A space costs three bytes once encoded. */
	ASSERT_EQ(0, tpctl_bag_set_string(bag, "c", " "));
	ASSERT_EQ(-E2BIG, tpctl_bag_to_w3c(bag, &out));
	ASSERT_EQ(NULL, out);
	tpctl_bag_free(bag);
	free(text);
}

TEST(format_invalid_arguments)
{
	struct tpctl_bag *bag = tpctl_bag_new();
	char *text = NULL;

	ASSERT_EQ(-EINVAL, tpctl_bag_to_w3c(NULL, &text));
	ASSERT_EQ(-EINVAL, tpctl_bag_to_w3c(bag, NULL));
	ASSERT_EQ(NULL, text);
	tpctl_bag_free(bag);
}

/* ---- round trips ------------------------------------------------------------------------- */

TEST(parse_format_is_a_fixed_point)
{
	static const char *const texts[] = {
		"key1=value1;property1;property2, key2 = value2, key3=value3; propertyKey=propertyValue",
		"userId=alice,serverNode=DF%2028,isProduction=false",
		"k=b;p,k=a;p,k=c;p,j=%e2%82%ac",
		"k=a,k=a",
		"a=%41%2c",
		"",
	};
	size_t i;

	for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		struct tpctl_bag *bag, *again;
		char *once, *twice;

		bag = parse(texts[i]);
		once = format(bag);
		again = parse(once);
		twice = format(again);
		ASSERT_STREQ(once, twice) {
			TH_LOG("from \"%s\"", texts[i]);
		}
		free(once);
		free(twice);
		tpctl_bag_free(again);
		tpctl_bag_free(bag);
	}
}

/* A random key: 1..8 tchars. */
static void random_key(struct tu_rng *r, char *key)
{
	static const char tchars[] = "!#$%&'*+-.^_`|~0123456789azAZ";
	size_t i, n = 1 + tu_below(r, 8);

	for (i = 0; i < n; i++)
		key[i] = tchars[tu_below(r, sizeof(tchars) - 1)];
	key[n] = '\0';
}

/* A random UTF-8 string heavy in characters that need encoding. */
static void random_value(struct tu_rng *r, char *val)
{
	static const char *const pieces[] = {
		"a", "Z", "0", "%", ",", ";", "=", " ", "\t", "\"", "\\", "\x01", "\x7f",
		"\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80", "%25", "-",
	};
	size_t i, n = tu_below(r, 12);

	val[0] = '\0';
	for (i = 0; i < n; i++)
		strcat(val, pieces[tu_below(r, sizeof(pieces) / sizeof(pieces[0]))]);
}

static void random_props(struct tu_rng *r, char *props)
{
	static const char *const pieces[] = { "p", "q=1", "x=%zz", "flag", "k=a=b" };
	size_t i, n = tu_below(r, 3);

	props[0] = '\0';
	for (i = 0; i < n; i++) {
		if (i)
			strcat(props, ";");
		strcat(props, pieces[tu_below(r, sizeof(pieces) / sizeof(pieces[0]))]);
	}
}

static bool same_props(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
}

/*
 * @e has the same values and properties in the bag @arg.  A set of one
 * member formats as one member, which reads back as a FIRST string.
 */
static int same_entry(const struct tpctl_entry *e, void *arg)
{
	const struct tpctl_bag *other = arg;
	char key[16];
	const struct tpctl_entry *o;
	size_t i;

	memcpy(key, e->key, e->key_len);
	key[e->key_len] = '\0';
	o = tpctl_bag_lookup(other, key);
	if (!o || o->nvalues != e->nvalues || !same_props(o->w3c_properties, e->w3c_properties))
		return -1;
	if (o->kind != e->kind && e->nvalues != 1)
		return -1;
	for (i = 0; i < e->nvalues; i++)
		if (o->values[i].bytes.len != e->values[i].bytes.len ||
		    memcmp(o->values[i].bytes.ptr, e->values[i].bytes.ptr, e->values[i].bytes.len))
			return -1;
	return 0;
}

TEST(random_bags_round_trip)
{
	struct tu_rng r;
	int round;

	tu_rng_init(&r, "random_bags_round_trip");
	for (round = 0; round < 2000; round++) {
		struct tpctl_bag *bag = tpctl_bag_new(), *back;
		size_t i, nkeys = tu_below(&r, 6);
		char key[16], val[64], props[32], *text;

		for (i = 0; i < nkeys; i++) {
			size_t j, nvals = 1 + tu_below(&r, 3);

			random_key(&r, key);
			if (tpctl_bag_lookup(bag, key))
				continue;
			for (j = 0; j < nvals; j++) {
				random_value(&r, val);
				int err = nvals == 1 ? tpctl_bag_set_string(bag, key, val) :
						       tpctl_bag_add_string(bag, key, val);

				ASSERT_EQ(0, err);
			}
			random_props(&r, props);
			ASSERT_EQ(0, tpctl_bag_set_w3c_properties(bag, key, props));
		}
		text = format(bag);
		back = parse(text);
		ASSERT_EQ(tpctl_bag_nkeys(bag), tpctl_bag_nkeys(back)) {
			TH_LOG("round %d: \"%s\"", round, text);
		}
		ASSERT_EQ(0, tpctl_bag_foreach(bag, same_entry, back)) {
			TH_LOG("round %d: \"%s\"", round, text);
		}
		free(text);
		text = format(back);
		ASSERT_EQ(0, tpctl_bag_foreach(back, same_entry, bag));
		free(text);
		tpctl_bag_free(back);
		tpctl_bag_free(bag);
	}
}

/* ---- allocation failure --------------------------------------------------------------- */

TEST(parse_out_of_memory)
{
	const char *text = "a=1;p=2, b=x%20y, b=z, c=%E2%82%AC;q";
	struct tpctl_bag *const untouched = (struct tpctl_bag *)&text;
	long n;
	int rc;

	for (n = 0;; n++) {
		struct tpctl_bag *bag = untouched;
		char err[256] = "";

		allocs_left = n;
		rc = tpctl_bag_from_w3c(text, &bag, err, sizeof(err));
		allocs_left = -1;
		if (!rc) {
			ASSERT_EQ(3u, tpctl_bag_nkeys(bag));
			tpctl_bag_free(bag);
			break;
		}
		ASSERT_EQ(-ENOMEM, rc) {
			TH_LOG("failing allocation %ld: %s", n, err);
		}
		ASSERT_NE(NULL, strstr(err, "out of memory")) {
			TH_LOG("failing allocation %ld: %s", n, err);
		}
		ASSERT_EQ(untouched, bag);
	}
	ASSERT_LT(3, n);
}

TEST(format_out_of_memory)
{
	struct tpctl_bag *bag = parse("a=1;p=2, b=x%20y, b=z, c=%E2%82%AC;q");
	long n;
	int rc;

	for (n = 0;; n++) {
		char *text = (char *)&n;

		allocs_left = n;
		rc = tpctl_bag_to_w3c(bag, &text);
		allocs_left = -1;
		if (!rc) {
			ASSERT_STREQ("a=1;p=2,b=x%20y,b=z,c=%E2%82%AC;q", text);
			free(text);
			break;
		}
		ASSERT_EQ(-ENOMEM, rc);
		ASSERT_EQ((char *)&n, text);
	}
	tpctl_bag_free(bag);
}

/* ---- traceparent ------------------------------------------------------------------------ */

#define TRACE_ID	"4bf92f3577b34da6a3ce929d0e0e4736"
#define PARENT_ID	"00f067aa0ba902b7"
#define TEXT_AFTER_00	\
	"traceparent version 00: offset 55: text after the trace-flags (version 00 is exactly 55 characters)"

TEST(traceparent_spec_example)
{
	static const uint8_t trace_id[16] = {
		0x4b, 0xf9, 0x2f, 0x35, 0x77, 0xb3, 0x4d, 0xa6,
		0xa3, 0xce, 0x92, 0x9d, 0x0e, 0x0e, 0x47, 0x36,
	};
	static const uint8_t parent_id[8] = { 0x00, 0xf0, 0x67, 0xaa, 0x0b, 0xa9, 0x02, 0xb7 };
	const char *text = "00-" TRACE_ID "-" PARENT_ID "-01";
	struct tpctl_traceparent tp;
	char out[TPCTL_TRACEPARENT_LEN + 1], err[256];

	ASSERT_EQ(0, tpctl_traceparent_parse(text, &tp, err, sizeof(err)));
	ASSERT_EQ(0, tp.version);
	ASSERT_EQ(0, memcmp(trace_id, tp.trace_id, sizeof(trace_id)));
	ASSERT_EQ(0, memcmp(parent_id, tp.parent_id, sizeof(parent_id)));
	ASSERT_EQ(1, tp.flags);
	ASSERT_EQ(0, tpctl_traceparent_format(&tp, out));
	ASSERT_STREQ(text, out);
}

static const struct {
	const char *text;
	uint8_t version;
	uint8_t flags;
} good_traceparents[] = {
	{ "00-" TRACE_ID "-" PARENT_ID "-00", 0x00, 0x00 },
	{ "00-" TRACE_ID "-" PARENT_ID "-ff", 0x00, 0xff },
	/* A future version may go on after a '-'. */
	{ "01-" TRACE_ID "-" PARENT_ID "-01", 0x01, 0x01 },
	{ "cc-" TRACE_ID "-" PARENT_ID "-09-what-the-future-holds", 0xcc, 0x09 },
	{ "fe-" TRACE_ID "-" PARENT_ID "-01-", 0xfe, 0x01 },
};

TEST(traceparent_valid)
{
	size_t i;

	for (i = 0; i < sizeof(good_traceparents) / sizeof(good_traceparents[0]); i++) {
		struct tpctl_traceparent tp, back;
		char out[TPCTL_TRACEPARENT_LEN + 1], err[256] = "";

		ASSERT_EQ(0, tpctl_traceparent_parse(good_traceparents[i].text, &tp, err,
						     sizeof(err))) {
			TH_LOG("\"%s\": %s", good_traceparents[i].text, err);
		}
		ASSERT_EQ(good_traceparents[i].version, tp.version);
		ASSERT_EQ(good_traceparents[i].flags, tp.flags);
		ASSERT_EQ(0, tpctl_traceparent_format(&tp, out));
		ASSERT_EQ(0, strncmp(good_traceparents[i].text, out, TPCTL_TRACEPARENT_LEN));
		ASSERT_EQ((size_t)TPCTL_TRACEPARENT_LEN, strlen(out));
		ASSERT_EQ(0, tpctl_traceparent_parse(out, &back, err, sizeof(err)));
		ASSERT_EQ(0, memcmp(&tp, &back, sizeof(tp)));
	}
}

static const struct {
	const char *text;
	const char *msg;
} bad_traceparents[] = {
	{ "", "traceparent: 0 characters, shorter than the 55 of version 00" },
	{ "0", "traceparent: 1 characters, shorter than the 55 of version 00" },
	{ "00-" TRACE_ID "-" PARENT_ID "-0",
	  "traceparent: 54 characters, shorter than the 55 of version 00" },
	{ "00-" TRACE_ID "-" PARENT_ID "-01-",
	  TEXT_AFTER_00 },
	{ "00-" TRACE_ID "-" PARENT_ID "-01 ",
	  TEXT_AFTER_00 },
	{ "ff-" TRACE_ID "-" PARENT_ID "-01", "traceparent version: ff is forbidden" },
	{ "0g-" TRACE_ID "-" PARENT_ID "-01",
	  "traceparent version: offset 1: 'g' is not a lowercase hex digit" },
	{ "0A-" TRACE_ID "-" PARENT_ID "-01",
	  "traceparent version: offset 1: 'A' is not a lowercase hex digit" },
	{ "00-4BF92f3577b34da6a3ce929d0e0e4736-" PARENT_ID "-01",
	  "traceparent trace-id: offset 4: 'B' is not a lowercase hex digit" },
	{ "00-" TRACE_ID "-" "00F067aa0ba902b7" "-01",
	  "traceparent parent-id: offset 38: 'F' is not a lowercase hex digit" },
	{ "00-" TRACE_ID "-" PARENT_ID "-0A",
	  "traceparent trace-flags: offset 54: 'A' is not a lowercase hex digit" },
	{ "00-" TRACE_ID "-" PARENT_ID "-0 ",
	  "traceparent trace-flags: offset 54: 0x20 is not a lowercase hex digit" },
	{ "00-00000000000000000000000000000000-" PARENT_ID "-01",
	  "traceparent trace-id: all zeros is invalid" },
	{ "00-" TRACE_ID "-0000000000000000-01", "traceparent parent-id: all zeros is invalid" },
	{ "00_" TRACE_ID "-" PARENT_ID "-01",
	  "traceparent trace-id: offset 2: expected '-' before it, found '_'" },
	{ "00-" TRACE_ID "_" PARENT_ID "-01",
	  "traceparent parent-id: offset 35: expected '-' before it, found '_'" },
	{ "00-" TRACE_ID "-" PARENT_ID ".01",
	  "traceparent trace-flags: offset 52: expected '-' before it, found '.'" },
	{ "01-" TRACE_ID "-" PARENT_ID "-01x",
	  "traceparent trace-flags: offset 55: expected '-' or the end after them, found 'x'" },
	{ "00-" TRACE_ID "-" PARENT_ID "1-01",
	  TEXT_AFTER_00 },
	{ "01-" TRACE_ID "-" PARENT_ID "1-01",
	  "traceparent trace-flags: offset 55: expected '-' or the end after them, found '1'" },
	{ "01-" TRACE_ID "-" PARENT_ID "1-1-",
	  "traceparent trace-flags: offset 52: expected '-' before it, found '1'" },
};

TEST(traceparent_invalid)
{
	size_t i;

	for (i = 0; i < sizeof(bad_traceparents) / sizeof(bad_traceparents[0]); i++) {
		struct tpctl_traceparent tp, before;
		char err[256] = "";

		memset(&tp, 0xa5, sizeof(tp));
		before = tp;
		ASSERT_EQ(-EINVAL, tpctl_traceparent_parse(bad_traceparents[i].text, &tp, err,
							   sizeof(err))) {
			TH_LOG("\"%s\"", bad_traceparents[i].text);
		}
		ASSERT_STREQ(bad_traceparents[i].msg, err);
		ASSERT_EQ(0, memcmp(&before, &tp, sizeof(tp)));
	}
}

TEST(traceparent_format_refuses_invalid)
{
	struct tpctl_traceparent tp;
	char out[TPCTL_TRACEPARENT_LEN + 1], err[256];

	ASSERT_EQ(0, tpctl_traceparent_parse(good_traceparents[0].text, &tp, err, sizeof(err)));
	tp.version = 0xff;
	ASSERT_EQ(-EINVAL, tpctl_traceparent_format(&tp, out));
	tp.version = 0;
	memset(tp.trace_id, 0, sizeof(tp.trace_id));
	ASSERT_EQ(-EINVAL, tpctl_traceparent_format(&tp, out));
	ASSERT_EQ(0, tpctl_traceparent_parse(good_traceparents[0].text, &tp, err, sizeof(err)));
	memset(tp.parent_id, 0, sizeof(tp.parent_id));
	ASSERT_EQ(-EINVAL, tpctl_traceparent_format(&tp, out));
	ASSERT_EQ(-EINVAL, tpctl_traceparent_format(NULL, out));
	ASSERT_EQ(-EINVAL, tpctl_traceparent_parse(NULL, &tp, err, sizeof(err)));
	ASSERT_EQ(-EINVAL, tpctl_traceparent_parse("00", NULL, NULL, 0));
}

TEST_HARNESS_MAIN
