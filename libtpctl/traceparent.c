// SPDX-License-Identifier: MIT
/*
 * The W3C Trace Context `traceparent` header (Documentation/w3c.rst):
 *
 *	version "-" trace-id "-" parent-id "-" trace-flags
 *	2 hex     32 hex       16 hex        2 hex	(lowercase only)
 *
 * Version 00 is exactly 55 characters.  A later version may append fields
 * after a '-', which are ignored, so that a parser written today keeps
 * working with tomorrow's headers (Trace Context, "versioning").
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "tpctl.h"

#define TP_VERSION_OFF	0
#define TP_TRACE_OFF	3
#define TP_PARENT_OFF	36
#define TP_FLAGS_OFF	53
#define TP_VERSION_INVALID	0xff

/* One field of the header: where it is and how it is called in errors. */
struct tp_field {
	const char *name;
	size_t off;
	size_t len;	/* in hex digits */
};

static const struct tp_field tp_version = { "version", TP_VERSION_OFF, 2 };
static const struct tp_field tp_trace_id = { "trace-id", TP_TRACE_OFF, 32 };
static const struct tp_field tp_parent_id = { "parent-id", TP_PARENT_OFF, 16 };
static const struct tp_field tp_flags = { "trace-flags", TP_FLAGS_OFF, 2 };

static int tp_fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

/* "'x'" for a visible character, its code otherwise. */
static const char *describe(char c, char buf[8])
{
	if (c > ' ' && c < 0x7f)
		snprintf(buf, 8, "'%c'", c);
	else
		snprintf(buf, 8, "0x%02x", (unsigned char)c);
	return buf;
}

/* Lowercase only: the specification forbids uppercase hex digits. */
static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/*
 * Decodes @f into @out (f->len / 2 bytes).  @text is known to be at least
 * 55 characters long, so every field lies within it.
 */
static int parse_hex_field(const char *text, const struct tp_field *f, uint8_t *out,
			   char *err, size_t errlen)
{
	size_t i;

	for (i = 0; i < f->len; i++) {
		char c = text[f->off + i], what[8];
		int v = hex_value(c);

		if (v < 0)
			return tp_fail(err, errlen,
				       "traceparent %s: offset %zu: %s is not a lowercase hex digit",
				       f->name, f->off + i, describe(c, what));
		if (i % 2 == 0)
			out[i / 2] = (uint8_t)(v << 4);
		else
			out[i / 2] |= (uint8_t)v;
	}
	return 0;
}

/* The '-' that ends the field before @next. */
static int check_dash(const char *text, const struct tp_field *next, char *err, size_t errlen)
{
	size_t off = next->off - 1;
	char what[8];

	if (text[off] == '-')
		return 0;
	return tp_fail(err, errlen, "traceparent %s: offset %zu: expected '-' before it, found %s",
		       next->name, off, describe(text[off], what));
}

static bool all_zero(const uint8_t *b, size_t n)
{
	while (n--)
		if (*b++)
			return false;
	return true;
}

/* Version 00 ends after the flags; a later version may go on after a '-'. */
static int check_length(const char *text, uint8_t version, char *err, size_t errlen)
{
	size_t len = strnlen(text, TPCTL_TRACEPARENT_LEN + 1);
	char what[8];

	if (len < TPCTL_TRACEPARENT_LEN)
		return tp_fail(err, errlen,
			       "traceparent: %zu characters, shorter than the %d of version 00",
			       len, TPCTL_TRACEPARENT_LEN);
	if (len == TPCTL_TRACEPARENT_LEN)
		return 0;
	if (version == 0)
		return tp_fail(err, errlen,
			       "traceparent version 00: offset %d: text after the trace-flags (version 00 is exactly %d characters)",
			       TPCTL_TRACEPARENT_LEN, TPCTL_TRACEPARENT_LEN);
	if (text[TPCTL_TRACEPARENT_LEN] != '-')
		return tp_fail(err, errlen,
			       "traceparent trace-flags: offset %d: expected '-' or the end after them, found %s",
			       TPCTL_TRACEPARENT_LEN, describe(text[TPCTL_TRACEPARENT_LEN], what));
	return 0;
}

/* Version first: it decides how long the header may be. */
static int parse_version(const char *text, struct tpctl_traceparent *tp, char *err,
			 size_t errlen)
{
	size_t len = strnlen(text, tp_version.len);

	if (len < tp_version.len)
		return tp_fail(err, errlen, "traceparent: %zu characters, shorter than the %d of version 00",
			       len, TPCTL_TRACEPARENT_LEN);
	if (parse_hex_field(text, &tp_version, &tp->version, err, errlen))
		return -EINVAL;
	if (tp->version == TP_VERSION_INVALID)
		return tp_fail(err, errlen, "traceparent version: ff is forbidden");
	return 0;
}

static int parse_ids(const char *text, struct tpctl_traceparent *tp, char *err, size_t errlen)
{
	if (check_dash(text, &tp_trace_id, err, errlen) ||
	    parse_hex_field(text, &tp_trace_id, tp->trace_id, err, errlen) ||
	    check_dash(text, &tp_parent_id, err, errlen) ||
	    parse_hex_field(text, &tp_parent_id, tp->parent_id, err, errlen) ||
	    check_dash(text, &tp_flags, err, errlen) ||
	    parse_hex_field(text, &tp_flags, &tp->flags, err, errlen))
		return -EINVAL;
	if (all_zero(tp->trace_id, sizeof(tp->trace_id)))
		return tp_fail(err, errlen, "traceparent trace-id: all zeros is invalid");
	if (all_zero(tp->parent_id, sizeof(tp->parent_id)))
		return tp_fail(err, errlen, "traceparent parent-id: all zeros is invalid");
	return 0;
}

int tpctl_traceparent_parse(const char *text, struct tpctl_traceparent *out,
			    char *err, size_t errlen)
{
	struct tpctl_traceparent tp;

	if (!text || !out)
		return tp_fail(err, errlen, "traceparent: no text or no result");
	if (parse_version(text, &tp, err, errlen) ||
	    check_length(text, tp.version, err, errlen) ||
	    parse_ids(text, &tp, err, errlen))
		return -EINVAL;
	*out = tp;
	return 0;
}

static char *put_hex(char *p, const uint8_t *b, size_t n)
{
	static const char digits[] = "0123456789abcdef";

	while (n--) {
		*p++ = digits[*b >> 4];
		*p++ = digits[*b++ & 0xf];
	}
	return p;
}

int tpctl_traceparent_format(const struct tpctl_traceparent *tp,
			     char out[TPCTL_TRACEPARENT_LEN + 1])
{
	char *p = out;

	/* Never write a header that no parser, this one included, accepts. */
	if (!tp || !out || tp->version == TP_VERSION_INVALID ||
	    all_zero(tp->trace_id, sizeof(tp->trace_id)) ||
	    all_zero(tp->parent_id, sizeof(tp->parent_id)))
		return -EINVAL;
	p = put_hex(p, &tp->version, 1);
	*p++ = '-';
	p = put_hex(p, tp->trace_id, sizeof(tp->trace_id));
	*p++ = '-';
	p = put_hex(p, tp->parent_id, sizeof(tp->parent_id));
	*p++ = '-';
	p = put_hex(p, &tp->flags, 1);
	*p = '\0';
	return 0;
}
