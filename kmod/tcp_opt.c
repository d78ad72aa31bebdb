// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Encoder and decoder of the tracingplane TCP option (tcp_opt.h).  Builds
 * into the module and, for the unit tests and the fuzzer, into userspace.
 */
#include "tcp_opt.h"

static bool tp_opt_is_ours(const u8 *opt, size_t avail, struct tp_opt_id id)
{
	return avail >= TP_OPT_HDR_LEN && opt[0] == id.kind &&
	       ((u32)opt[2] << 8 | opt[3]) == id.exid;
}

/* Reads one varint of the fragment header, advancing *@pos. */
static bool tp_opt_varint(const u8 *opt, size_t len, size_t *pos, u32 *val)
{
	int n = tp_varint_get(opt + *pos, len - *pos, val);

	if (n <= 0)
		return false;
	*pos += (size_t)n;
	return true;
}

/*
 * A fragment must describe bytes of its version: inside @total, and not
 * empty unless the version is the empty baggage (one fragment, no data).
 */
static bool tp_opt_frag_sane(const struct tp_opt_frag *f)
{
	if (!f->total)
		return !f->off && !f->len;
	return f->len && (u64)f->off + f->len <= f->total;
}

static enum tp_opt_found tp_opt_decode(const u8 *opt, size_t len,
				       struct tp_opt_frag *f)
{
	size_t pos = TP_OPT_HDR_LEN;

	if (len == TP_OPT_CAP_LEN)
		return TP_OPT_FOUND_CAP;
	if (len < TP_OPT_DATA_MIN ||
	    !tp_opt_varint(opt, len, &pos, &f->back) ||
	    !tp_opt_varint(opt, len, &pos, &f->total) ||
	    !tp_opt_varint(opt, len, &pos, &f->off))
		return TP_OPT_FOUND_BAD;
	f->len = (u32)(len - pos);
	f->data = opt + pos;
	return tp_opt_frag_sane(f) ? TP_OPT_FOUND_FRAG : TP_OPT_FOUND_BAD;
}

/* Records one option of ours; a second one makes the segment's bad. */
static void tp_opt_found(struct tp_opt_scan *scan, const u8 *opt, size_t len)
{
	if (scan->found != TP_OPT_NONE)
		scan->found = TP_OPT_FOUND_BAD;
	else
		scan->found = tp_opt_decode(opt, len, &scan->frag);
}

enum tp_opt_found tp_opt_scan(const u8 *opts, size_t len, struct tp_opt_id id,
			      struct tp_opt_scan *scan)
{
	size_t pos = 0;

	memset(scan, 0, sizeof(*scan));
	while (pos < len) {
		const u8 *opt = opts + pos;
		size_t avail = len - pos;

		if (opt[0] == TP_OPT_EOL) {
			scan->eol = true;
			break;
		}
		if (opt[0] == TP_OPT_NOP) {
			pos++;
			continue;
		}
		/* TCP gives up on the rest of a list it cannot walk. */
		if (avail < 2 || opt[1] < 2 || opt[1] > avail) {
			if (tp_opt_is_ours(opt, avail, id))
				scan->found = TP_OPT_FOUND_BAD;
			break;
		}
		if (opt[0] == TP_OPT_MD5 || opt[0] == TP_OPT_AO)
			scan->auth = true;
		/*
		 * Too short for an ExID, an option of our kind names no
		 * experiment: perhaps one older than RFC 6994's.  Not ours.
		 */
		if (tp_opt_is_ours(opt, opt[1], id))
			tp_opt_found(scan, opt, opt[1]);
		pos += opt[1];
	}
	return scan->found;
}

static size_t tp_opt_put_hdr(u8 *out, struct tp_opt_id id, size_t len)
{
	out[0] = id.kind;
	out[1] = (u8)len;
	out[2] = (u8)(id.exid >> 8);
	out[3] = (u8)id.exid;
	return TP_OPT_HDR_LEN;
}

size_t tp_opt_put_cap(u8 *out, struct tp_opt_id id)
{
	return tp_opt_put_hdr(out, id, TP_OPT_CAP_LEN);
}

size_t tp_opt_frag_len(const struct tp_opt_frag *frag)
{
	return TP_OPT_HDR_LEN + tp_varint_len(frag->back) +
	       tp_varint_len(frag->total) + tp_varint_len(frag->off) + frag->len;
}

size_t tp_opt_put_frag(u8 *out, struct tp_opt_id id,
		       const struct tp_opt_frag *frag)
{
	size_t len = tp_opt_frag_len(frag);
	size_t pos = tp_opt_put_hdr(out, id, len);

	pos += tp_varint_put(out + pos, frag->back);
	pos += tp_varint_put(out + pos, frag->total);
	pos += tp_varint_put(out + pos, frag->off);
	if (frag->len)
		memcpy(out + pos, frag->data, frag->len);
	return len;
}

u32 tp_opt_frag_size(u32 room, u32 total)
{
	/* back < fragments <= total and off < total: each varint fits in total's */
	u32 hdr = TP_OPT_HDR_LEN + 3 * (u32)tp_varint_len(total);

	return room > hdr ? room - hdr : 0;
}
