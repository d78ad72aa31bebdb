/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * The tracingplane TCP option: an RFC 6994 shared experimental option
 * (kind 253 or 254, then a 16-bit ExID) in two forms.
 *
 *  capability  kind, 4, ExID                        "I speak baggage"
 *  fragment    kind, len, ExID, back, total, off, data...
 *
 * back, total and off are canonical LEB128 varints (the atom layer's):
 * the segment carrying the option starts @back bytes after the first byte
 * of the baggage version it describes; the version's serialized baggage
 * is @total bytes long and @data is its bytes [@off, @off + len).
 *
 * This file only encodes and decodes; it builds in userspace too, so the
 * unit tests and the fuzzer run the very parser the kernel runs.
 * Documented byte by byte in Documentation/wire-format.rst.
 */
#ifndef TP_TCP_OPT_H
#define TP_TCP_OPT_H

#include "atom.h"

#define TP_OPT_SPACE		40	/* TCP option space, MAX_TCP_OPTION_SPACE */
#define TP_OPT_HDR_LEN		4	/* kind, length, 16-bit ExID */
#define TP_OPT_CAP_LEN		TP_OPT_HDR_LEN
#define TP_OPT_DATA_MIN		(TP_OPT_HDR_LEN + 3)	/* three 1-byte varints */

#define TP_OPT_EOL		0
#define TP_OPT_NOP		1
#define TP_OPT_MD5		19
#define TP_OPT_AO		29

/* Which option is ours: the kind and ExID module parameters. */
#define TP_OPT_KIND_DEFAULT	253
#define TP_OPT_EXID_DEFAULT	0x7470		/* "tp" */

struct tp_opt_id {
	u8 kind;
	u32 exid;	/* 16 bits */
};

struct tp_opt_frag {
	u32 back;		/* segment sequence number - version start */
	u32 total;		/* serialized baggage bytes of the version */
	u32 off;		/* where @data goes in them */
	u32 len;		/* bytes in @data */
	const u8 *data;
};

enum tp_opt_found {
	TP_OPT_NONE,		/* no option of ours */
	TP_OPT_FOUND_CAP,	/* a capability option */
	TP_OPT_FOUND_FRAG,	/* a fragment, in tp_opt_scan.frag */
	TP_OPT_FOUND_BAD,	/* ours but malformed, or more than one of ours */
};

/* What one walk over a segment's option bytes found. */
struct tp_opt_scan {
	enum tp_opt_found found;
	bool eol;		/* an end-of-list option ends the list early */
	bool auth;		/* TCP-MD5 or TCP-AO: the segment is signed */
	struct tp_opt_frag frag;
};

/*
 * Walks the @len option bytes after a TCP header's fixed 20 bytes exactly
 * as TCP does (stopping at EOL, at a length below 2 or one running past
 * the end) and reports our option.  Never reads outside [@opts, @opts+@len).
 */
enum tp_opt_found tp_opt_scan(const u8 *opts, size_t len, struct tp_opt_id id,
			      struct tp_opt_scan *scan);

/* Writes the capability option (TP_OPT_CAP_LEN bytes). */
size_t tp_opt_put_cap(u8 *out, struct tp_opt_id id);

/* Bytes the fragment option takes, unpadded. */
size_t tp_opt_frag_len(const struct tp_opt_frag *frag);

/* Writes the fragment option; returns tp_opt_frag_len(@frag). */
size_t tp_opt_put_frag(u8 *out, struct tp_opt_id id,
		       const struct tp_opt_frag *frag);

/*
 * The fragment size a sender uses for a baggage of @total bytes when
 * @room option bytes are free on a segment: the most data that fits
 * whatever the fragment's back and off.  0 when nothing fits.
 */
u32 tp_opt_frag_size(u32 room, u32 total);

#endif /* TP_TCP_OPT_H */
