// SPDX-License-Identifier: MIT
/*
 * W3C `baggage` header value <-> typed bag (Documentation/w3c.rst).
 *
 *	baggage-string = list-member *( OWS "," OWS list-member )
 *	list-member    = key OWS "=" OWS value *( OWS ";" OWS property )
 *	property       = key OWS "=" OWS value / key OWS
 *
 * Parsing runs in two passes: the whole text is parsed into members, and
 * the bag is built only once every member is known to be well formed, so a
 * malformed header never yields a partial bag and *out stays untouched.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tpctl.h"

/* ---- character classes ------------------------------------------------------ */

/* RFC 7230 tchar: what a token, hence a key, is made of. */
static bool is_tchar(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || (c && strchr("!#$%&'*+-.^_`|~", c));
}

/* Visible ASCII except DQUOTE, comma, semicolon and backslash. */
static bool is_baggage_octet(unsigned char c)
{
	return c == 0x21 || (c >= 0x23 && c <= 0x2b) || (c >= 0x2d && c <= 0x3a) ||
	       (c >= 0x3c && c <= 0x5b) || (c >= 0x5d && c <= 0x7e);
}

static bool is_ows(char c)
{
	return c == ' ' || c == '\t';
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* ---- UTF-8 --------------------------------------------------------------------- */

/* Length of the valid UTF-8 sequence (RFC 3629) at @s, 0 if there is none. */
static size_t utf8_seq_len(const unsigned char *s, size_t avail)
{
	uint32_t cp, min;
	size_t n, i;

	if (s[0] < 0x80)
		return 1;
	if ((s[0] & 0xe0) == 0xc0) {
		n = 2, cp = s[0] & 0x1f, min = 0x80;
	} else if ((s[0] & 0xf0) == 0xe0) {
		n = 3, cp = s[0] & 0x0f, min = 0x800;
	} else if ((s[0] & 0xf8) == 0xf0) {
		n = 4, cp = s[0] & 0x07, min = 0x10000;
	} else {
		return 0;
	}
	if (n > avail)
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	/* Overlong forms, surrogates and code points past Unicode are invalid. */
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

/* Offset of the first byte of @s that does not start valid UTF-8, or @len. */
static size_t utf8_invalid_at(const void *s, size_t len)
{
	const unsigned char *p = s;
	size_t i = 0, n;

	while (i < len && (n = utf8_seq_len(p + i, len - i)))
		i += n;
	return i;
}

/* ---- growable string --------------------------------------------------------- */

struct strbuf {
	char *s;	/* NUL-terminated once anything was appended */
	size_t len;
	size_t cap;
};

static int sb_append(struct strbuf *sb, const void *data, size_t n)
{
	if (sb->len + n + 1 > sb->cap) {
		size_t cap = sb->cap ? sb->cap : 64;
		char *s;

		while (cap < sb->len + n + 1)
			cap *= 2;
		s = realloc(sb->s, cap);
		if (!s)
			return -ENOMEM;
		sb->s = s;
		sb->cap = cap;
	}
	memcpy(sb->s + sb->len, data, n);
	sb->len += n;
	sb->s[sb->len] = '\0';
	return 0;
}

static int sb_append_str(struct strbuf *sb, const char *s)
{
	return sb_append(sb, s, strlen(s));
}

/* ---- parsing: cursor and errors ------------------------------------------------- */

struct cursor {
	const char *text;
	size_t pos;
	unsigned int member;	/* 1-based, for messages; 0: the whole text */
	char *err;
	size_t errlen;
};

/* Writes "offset N (member M): <reason>" into the caller's buffer. */
static int fail_at(struct cursor *c, int errnum, size_t pos, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (!c->err || !c->errlen)
		return errnum;
	if (c->member)
		n = snprintf(c->err, c->errlen, "offset %zu (member %u): ", pos, c->member);
	else
		n = snprintf(c->err, c->errlen, "offset %zu: ", pos);
	if (n >= 0 && (size_t)n < c->errlen) {
		va_start(ap, fmt);
		vsnprintf(c->err + n, c->errlen - n, fmt, ap);
		va_end(ap);
	}
	return errnum;
}

/* "'x'" for a visible character, a name or the code otherwise. */
static const char *describe(char c, char buf[16])
{
	if (c == '\0')
		return "the end of the text";
	if (c == ' ')
		return "a space";
	if (c == '\t')
		return "a tab";
	if (c > ' ' && c < 0x7f)
		snprintf(buf, 16, "'%c'", c);
	else
		snprintf(buf, 16, "byte 0x%02x", (unsigned char)c);
	return buf;
}

static char peek(const struct cursor *c)
{
	return c->text[c->pos];
}

static void skip_ows(struct cursor *c)
{
	while (is_ows(peek(c)))
		c->pos++;
}

/* ---- parsing: grammar ------------------------------------------------------------ */

/* A token; @what ("key", "property key") names it in messages. */
static int parse_key(struct cursor *c, const char *what, size_t *start, size_t *len)
{
	char buf[16];

	*start = c->pos;
	while (is_tchar(peek(c)))
		c->pos++;
	*len = c->pos - *start;
	if (!*len)
		return fail_at(c, -EINVAL, c->pos, "expected a %s, found %s", what,
			       describe(peek(c), buf));
	if (peek(c) && !is_ows(peek(c)) && !strchr("=,;", peek(c)))
		return fail_at(c, -EINVAL, c->pos, "%s is not allowed in a %s (an RFC 7230 token)",
			       describe(peek(c), buf), what);
	return 0;
}

/* A run of baggage-octets, which must end where the value may end. */
static int parse_value(struct cursor *c, const char *what, size_t *start, size_t *len)
{
	char buf[16];

	*start = c->pos;
	while (is_baggage_octet(peek(c)))
		c->pos++;
	*len = c->pos - *start;
	if (peek(c) && !is_ows(peek(c)) && !strchr(",;", peek(c)))
		return fail_at(c, -EINVAL, c->pos, "%s is not allowed in a %s (percent-encode it)",
			       describe(peek(c), buf), what);
	return 0;
}

static int expect_equals(struct cursor *c, const char *what)
{
	char buf[16];

	skip_ows(c);
	if (peek(c) != '=')
		return fail_at(c, -EINVAL, c->pos, "expected '=' after the %s, found %s", what,
			       describe(peek(c), buf));
	c->pos++;
	skip_ows(c);
	return 0;
}

/* Where the decoded byte @index of the value at @start came from. */
static size_t source_offset(const struct cursor *c, size_t start, size_t index)
{
	size_t pos = start;

	while (index--)
		pos += c->text[pos] == '%' ? 3 : 1;
	return pos;
}

/* Percent-decodes @len bytes at @start into a malloc'd string. */
static int percent_decode(struct cursor *c, size_t start, size_t len, char **out, size_t *outlen)
{
	const char *src = c->text + start;
	char *dst = malloc(len + 1);
	size_t i, n = 0;

	if (!dst)
		return fail_at(c, -ENOMEM, start, "out of memory");
	for (i = 0; i < len; i++) {
		int hi = -1, lo = -1;

		if (src[i] != '%') {
			dst[n++] = src[i];
			continue;
		}
		if (i + 2 < len) {
			hi = hex_digit(src[i + 1]);
			lo = hex_digit(src[i + 2]);
		}
		if (hi < 0 || lo < 0) {
			free(dst);
			return fail_at(c, -EINVAL, start + i,
				       "'%%' in value not followed by two hex digits");
		}
		dst[n++] = (char)(hi << 4 | lo);
		i += 2;
	}
	dst[n] = '\0';
	*out = dst;
	*outlen = n;
	return 0;
}

/*
 * Member values are strings: text in UTF-8, as the specification says, and
 * without NUL, which a C string cannot carry.
 */
static int check_decoded(struct cursor *c, size_t start, const char *value, size_t len)
{
	const char *nul = memchr(value, '\0', len);
	size_t bad = utf8_invalid_at(value, len);

	if (nul && (size_t)(nul - value) < bad)
		return fail_at(c, -EINVAL, source_offset(c, start, nul - value),
			       "%%00 (NUL) is not allowed in a value");
	if (bad < len)
		return fail_at(c, -EINVAL, source_offset(c, start, bad),
			       "value is not valid UTF-8 once percent-decoded");
	return 0;
}

struct member {
	size_t off;	/* of the key, for messages */
	char *key;
	char *value;	/* percent-decoded */
	char *props;	/* normalized ("p1;p2=v"), NULL if none */
};

static void member_free(struct member *m)
{
	free(m->key);
	free(m->value);
	free(m->props);
}

/* One property, appended to @props as "key" or "key=value" (kept encoded). */
static int parse_property(struct cursor *c, struct strbuf *props)
{
	size_t kstart, klen, vstart, vlen;
	int err = parse_key(c, "property key", &kstart, &klen);

	if (err)
		return err;
	if (props->len && sb_append(props, ";", 1))
		return fail_at(c, -ENOMEM, kstart, "out of memory");
	if (sb_append(props, c->text + kstart, klen))
		return fail_at(c, -ENOMEM, kstart, "out of memory");
	skip_ows(c);
	if (peek(c) != '=')
		return 0;
	err = expect_equals(c, "property key");
	if (!err)
		err = parse_value(c, "property value", &vstart, &vlen);
	if (!err && (sb_append(props, "=", 1) || sb_append(props, c->text + vstart, vlen)))
		err = fail_at(c, -ENOMEM, vstart, "out of memory");
	skip_ows(c);
	return err;
}

/* The properties after a member's value, up to the ',' or the end. */
static int parse_properties(struct cursor *c, struct member *m)
{
	struct strbuf props = { 0 };
	char buf[16];
	int err = 0;

	skip_ows(c);
	while (!err && peek(c) == ';') {
		c->pos++;
		skip_ows(c);
		err = parse_property(c, &props);
	}
	if (!err && peek(c) && peek(c) != ',')
		err = fail_at(c, -EINVAL, c->pos, "expected ',', ';' or the end, found %s",
			      describe(peek(c), buf));
	if (err) {
		free(props.s);
		return err;
	}
	m->props = props.s;
	return 0;
}

static int parse_key_and_value(struct cursor *c, struct member *m)
{
	size_t kstart, klen, vstart, vlen, len = 0;
	int err;

	err = parse_key(c, "key", &kstart, &klen);
	if (err)
		return err;
	m->key = strndup(c->text + kstart, klen);
	if (!m->key)
		return fail_at(c, -ENOMEM, kstart, "out of memory");
	err = expect_equals(c, "key");
	if (!err)
		err = parse_value(c, "value", &vstart, &vlen);
	if (!err)
		err = percent_decode(c, vstart, vlen, &m->value, &len);
	if (!err)
		err = check_decoded(c, vstart, m->value, len);
	return err;
}

/* One list-member; leaves the cursor on the ',' after it or at the end. */
static int parse_member(struct cursor *c, struct member *m)
{
	int err;

	memset(m, 0, sizeof(*m));
	m->off = c->pos;
	if (peek(c) == ',')
		return fail_at(c, -EINVAL, c->pos, "empty list member before ','");
	if (!peek(c))
		return fail_at(c, -EINVAL, c->pos, "empty list member at the end (trailing ',')");
	err = parse_key_and_value(c, m);
	if (!err)
		err = parse_properties(c, m);
	if (err)
		member_free(m);
	return err;
}

/* Every member of the text; an empty text (or only OWS) has none. */
static int parse_members(struct cursor *c, struct member *m, size_t *n)
{
	int err;

	*n = 0;
	skip_ows(c);
	if (!peek(c))
		return 0;
	for (;;) {
		c->member = *n + 1;
		if (*n == TPCTL_W3C_MAX_MEMBERS)
			return fail_at(c, -E2BIG, c->pos, "more than %d list members",
				       TPCTL_W3C_MAX_MEMBERS);
		err = parse_member(c, &m[*n]);
		if (err)
			return err;
		(*n)++;
		if (!peek(c))
			return 0;
		c->pos++;	/* the ',' */
		skip_ows(c);
	}
}

/* ---- parsing: building the bag ------------------------------------------------- */

/* Why the bag refused a member, for a text the grammar accepted. */
static int explain_bag_error(struct cursor *c, const struct member *m, int err, const char *what)
{
	switch (err) {
	case 0:
		return 0;
	case -ENOMEM:
		return fail_at(c, err, m->off, "out of memory");
	case -E2BIG:
		return fail_at(c, err, m->off, "%s longer than a baggage value may be", what);
	case -EINVAL:
		/* The key is a non-empty token: only its length can be wrong. */
		return fail_at(c, -E2BIG, m->off, "key longer than a baggage key may be");
	default:
		return fail_at(c, err, m->off, "cannot store the member: %s", strerror(-err));
	}
}

static size_t first_with_key(const struct member *m, size_t i)
{
	size_t j;

	for (j = 0; j < i; j++)
		if (!strcmp(m[j].key, m[i].key))
			return j;
	return i;
}

static bool key_repeats(const struct member *m, size_t n, size_t i)
{
	size_t j;

	for (j = i + 1; j < n; j++)
		if (!strcmp(m[j].key, m[i].key))
			return true;
	return false;
}

static bool same_props(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
}

/*
 * A key seen once is a FIRST string; a repeated key a SET of strings.  A
 * key has one set of properties, so its repetitions must agree on them.
 */
static int add_member(struct cursor *c, struct tpctl_bag *bag, const struct member *m,
		      size_t n, size_t i)
{
	size_t first = first_with_key(m, i);
	int err;

	c->member = i + 1;
	if (first != i) {
		if (!same_props(m[first].props, m[i].props))
			return fail_at(c, -EINVAL, m[i].off,
				       "key repeats member %zu with other properties", first + 1);
		return explain_bag_error(c, &m[i], tpctl_bag_add_string(bag, m[i].key, m[i].value),
					 "value");
	}
	if (key_repeats(m, n, i))
		err = tpctl_bag_add_string(bag, m[i].key, m[i].value);
	else
		err = tpctl_bag_set_string(bag, m[i].key, m[i].value);
	err = explain_bag_error(c, &m[i], err, "value");
	if (!err && m[i].props)
		err = explain_bag_error(c, &m[i],
					tpctl_bag_set_w3c_properties(bag, m[i].key, m[i].props),
					"properties");
	return err;
}

static int build_bag(struct cursor *c, const struct member *m, size_t n, struct tpctl_bag **out)
{
	struct tpctl_bag *bag = tpctl_bag_new();
	size_t i;
	int err = 0;

	if (!bag)
		return fail_at(c, -ENOMEM, 0, "out of memory");
	for (i = 0; i < n && !err; i++)
		err = add_member(c, bag, m, n, i);
	if (err) {
		tpctl_bag_free(bag);
		return err;
	}
	*out = bag;
	return 0;
}

int tpctl_bag_from_w3c(const char *text, struct tpctl_bag **out, char *err, size_t errlen)
{
	struct cursor c = { .text = text, .err = err, .errlen = errlen };
	struct member m[TPCTL_W3C_MAX_MEMBERS];
	size_t n = 0, i;
	int rc;

	if (!text || !out) {
		if (err && errlen)
			snprintf(err, errlen, "no text or no result");
		return -EINVAL;
	}
	if (strnlen(text, TPCTL_W3C_MAX_BYTES + 1) > TPCTL_W3C_MAX_BYTES)
		return fail_at(&c, -E2BIG, TPCTL_W3C_MAX_BYTES, "baggage longer than %d bytes",
			       TPCTL_W3C_MAX_BYTES);
	rc = parse_members(&c, m, &n);
	if (!rc)
		rc = build_bag(&c, m, n, out);
	for (i = 0; i < n; i++)
		member_free(&m[i]);
	return rc;
}

/* ---- formatting ---------------------------------------------------------------------- */

static bool is_token(const void *key, size_t len)
{
	const unsigned char *k = key;
	size_t i;

	for (i = 0; i < len; i++)
		if (!is_tchar(k[i]))
			return false;
	return len > 0;
}

/* Properties as the parser stores them: "p1;p2=v", no OWS, no empty property. */
static bool props_valid(const char *p)
{
	if (!p)
		return true;
	for (;;) {
		if (!is_tchar(*p))
			return false;
		while (is_tchar(*p))
			p++;
		if (*p == '=')
			while (is_baggage_octet(*++p))
				;
		if (!*p)
			return true;
		if (*p != ';')
			return false;
		p++;
	}
}

/* A string the parser would give back: UTF-8 without NUL. */
static bool text_representable(const void *s, size_t len)
{
	return !memchr(s, '\0', len) && utf8_invalid_at(s, len) == len;
}

/* '%' and every octet that is not a baggage-octet become "%XX". */
static int percent_encode(struct strbuf *sb, const void *data, size_t len)
{
	static const char digits[] = "0123456789ABCDEF";
	const unsigned char *p = data;
	size_t i, run = 0;
	int err = 0;

	for (i = 0; i < len && !err; i++) {
		char esc[3] = { '%', digits[p[i] >> 4], digits[p[i] & 0xf] };

		if (is_baggage_octet(p[i]) && p[i] != '%') {
			run++;
			continue;
		}
		err = sb_append(sb, p + i - run, run);
		if (!err)
			err = sb_append(sb, esc, sizeof(esc));
		run = 0;
	}
	return err ? err : sb_append(sb, p + len - run, run);
}

struct formatter {
	struct strbuf sb;
	size_t members;
};

/* Appends "key=value[;props]", or fails past the W3C limits. */
static int format_member(struct formatter *f, const struct tpctl_entry *e, const void *value,
			 size_t len)
{
	int err = 0;

	if (++f->members > TPCTL_W3C_MAX_MEMBERS)
		return -E2BIG;
	if (f->members > 1)
		err = sb_append(&f->sb, ",", 1);
	if (!err)
		err = sb_append(&f->sb, e->key, e->key_len);
	if (!err)
		err = sb_append(&f->sb, "=", 1);
	if (!err)
		err = percent_encode(&f->sb, value, len);
	if (!err && e->w3c_properties)
		err = sb_append(&f->sb, ";", 1);
	if (!err && e->w3c_properties)
		err = sb_append_str(&f->sb, e->w3c_properties);
	if (!err && f->sb.len > TPCTL_W3C_MAX_BYTES)
		err = -E2BIG;
	return err;
}

static int format_value(struct formatter *f, const struct tpctl_entry *e,
			const struct tpctl_value *v)
{
	char num[24];

	switch (v->type) {
	case TPCTL_STRING:
	case TPCTL_BYTES:
		if (!text_representable(v->bytes.ptr, v->bytes.len))
			return -EINVAL;
		return format_member(f, e, v->bytes.ptr, v->bytes.len);
	case TPCTL_INT:
		snprintf(num, sizeof(num), "%" PRId64, v->i);
		return format_member(f, e, num, strlen(num));
	case TPCTL_UINT:
		snprintf(num, sizeof(num), "%" PRIu64, v->u);
		return format_member(f, e, num, strlen(num));
	}
	return -EINVAL;
}

static int format_entry(const struct tpctl_entry *e, void *arg)
{
	struct formatter *f = arg;
	char num[24];
	size_t i;
	int err = 0;

	if (e->kind == TPCTL_BAG)
		return 0;	/* W3C baggage is flat */
	if (!is_token(e->key, e->key_len) || !props_valid(e->w3c_properties))
		return -EINVAL;
	switch (e->kind) {
	case TPCTL_FIRST:
	case TPCTL_SET:
		for (i = 0; i < e->nvalues && !err; i++)
			err = format_value(f, e, &e->values[i]);
		return err;
	case TPCTL_COUNTER:
		snprintf(num, sizeof(num), "%" PRIu64, e->counter);
		return format_member(f, e, num, strlen(num));
	case TPCTL_TAINT:
		return format_member(f, e, "true", 4);
	default:
		return -EINVAL;
	}
}

int tpctl_bag_to_w3c(const struct tpctl_bag *bag, char **text)
{
	struct formatter f = { .members = 0 };
	int err;

	if (!bag || !text)
		return -EINVAL;
	err = tpctl_bag_foreach(bag, format_entry, &f);
	if (!err && !f.sb.s)
		err = sb_append(&f.sb, "", 0);	/* an empty bag is an empty header */
	if (err) {
		free(f.sb.s);
		return err;
	}
	*text = f.sb.s;
	return 0;
}
