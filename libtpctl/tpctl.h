/* SPDX-License-Identifier: MIT */
/*
 * libtpctl: read and write the tracing plane's baggage.
 *
 * Two halves:
 *  - the typed baggage protocol (struct tpctl_bag): keyed, typed values
 *    encoded into atoms so that the kernel's data-agnostic merge of atoms is
 *    the right typed merge (Documentation/baggage-format.rst);
 *  - the kernel interface (struct tpctl): get/set/merge/clear the baggage of
 *    the calling task or of another task, over the generic netlink family
 *    "tracingplane" (Documentation/netlink.rst).
 *
 * Unless documented otherwise, functions returning int return 0 on success
 * and a negative errno on failure.
 */
#ifndef TPCTL_H
#define TPCTL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Only what this header declares is exported from libtpctl.so. */
#pragma GCC visibility push(default)

/* ---- Typed baggage --------------------------------------------------- */

struct tpctl_bag;

/* How values of a key merge. */
enum tpctl_kind {
	TPCTL_FIRST = 1,	/* one scalar; merge keeps the smallest encoding */
	TPCTL_SET,		/* scalars; merge is union */
	TPCTL_COUNTER,		/* P-counter CRDT; reads as the sum */
	TPCTL_TAINT,		/* flag; merge is logical OR */
	TPCTL_BAG,		/* a nested bag */
};

/* Scalar types of FIRST and SET values. */
enum tpctl_type {
	TPCTL_STRING = 1,
	TPCTL_BYTES,
	TPCTL_INT,		/* int64_t */
	TPCTL_UINT,		/* uint64_t */
};

struct tpctl_value {
	enum tpctl_type type;
	union {
		struct {
			const void *ptr;	/* STRING is not NUL-terminated */
			size_t len;
		} bytes;
		int64_t i;
		uint64_t u;
	};
};

/* One key of a bag, as seen by tpctl_bag_lookup() and tpctl_bag_foreach(). */
struct tpctl_entry {
	const void *key;
	size_t key_len;
	enum tpctl_kind kind;
	const struct tpctl_value *values;	/* FIRST: 1; SET: sorted, distinct */
	size_t nvalues;
	uint64_t counter;			/* COUNTER: sum of components */
	const struct tpctl_bag *child;		/* BAG */
	const char *w3c_properties;		/* W3C member properties, or NULL */
};

struct tpctl_bag *tpctl_bag_new(void);
void tpctl_bag_free(struct tpctl_bag *bag);

/* Serialized atoms (the kernel's format) <-> typed bag. */
int tpctl_bag_decode(const void *buf, size_t len, struct tpctl_bag **out);
/* *buf is malloc'd; an empty bag encodes as len 0 (buf may be NULL). */
int tpctl_bag_encode(const struct tpctl_bag *bag, void **buf, size_t *len);
/* dst := merge(dst, src), exactly as the kernel would merge their atoms. */
int tpctl_bag_merge(struct tpctl_bag *dst, const struct tpctl_bag *src);

/* FIRST values: replace whatever @key held. Keys are NUL-terminated. */
int tpctl_bag_set_string(struct tpctl_bag *bag, const char *key, const char *val);
int tpctl_bag_set_bytes(struct tpctl_bag *bag, const char *key, const void *val, size_t len);
int tpctl_bag_set_int(struct tpctl_bag *bag, const char *key, int64_t val);
int tpctl_bag_set_uint(struct tpctl_bag *bag, const char *key, uint64_t val);
/* SET members: add to the set at @key (creating it). */
int tpctl_bag_add_string(struct tpctl_bag *bag, const char *key, const char *val);
int tpctl_bag_add_bytes(struct tpctl_bag *bag, const char *key, const void *val, size_t len);
int tpctl_bag_add_int(struct tpctl_bag *bag, const char *key, int64_t val);
int tpctl_bag_add_uint(struct tpctl_bag *bag, const char *key, uint64_t val);
/*
 * COUNTER: add @delta to this replica's component.  The replica is the
 * calling thread (boot id, tid and start time), so increments made by
 * concurrent tasks are never double-counted or lost when merged.
 */
int tpctl_bag_counter_add(struct tpctl_bag *bag, const char *key, uint64_t delta);
/* The same with an explicit replica id (1..64 bytes). */
int tpctl_bag_counter_add_replica(struct tpctl_bag *bag, const char *key,
				  const void *replica, size_t replica_len, uint64_t delta);
/* TAINT: set the flag (flags only ever become true under merge). */
int tpctl_bag_taint(struct tpctl_bag *bag, const char *key);
/*
 * W3C member properties (the text after the value's first ';', e.g.
 * "prop1;prop2=x") attached to @key, kept so W3C text round-trips.
 */
int tpctl_bag_set_w3c_properties(struct tpctl_bag *bag, const char *key, const char *props);
/* BAG: the nested bag at @key, created if absent; owned by @bag. */
struct tpctl_bag *tpctl_bag_child(struct tpctl_bag *bag, const char *key);
/* Removes @key (and everything under it); -ENOENT if absent. */
int tpctl_bag_remove(struct tpctl_bag *bag, const char *key);

/* NULL if @key is absent.  Valid until @bag is next modified. */
const struct tpctl_entry *tpctl_bag_lookup(const struct tpctl_bag *bag, const char *key);
/* Calls @fn for every key in sorted key order; stops at a non-zero return. */
int tpctl_bag_foreach(const struct tpctl_bag *bag,
		      int (*fn)(const struct tpctl_entry *entry, void *arg), void *arg);
/* Number of keys, and whether any atom was dropped by a trim somewhere. */
size_t tpctl_bag_nkeys(const struct tpctl_bag *bag);
int tpctl_bag_overflowed(const struct tpctl_bag *bag);

/* ---- W3C interop ------------------------------------------------------ */

#define TPCTL_W3C_MAX_MEMBERS	64
#define TPCTL_W3C_MAX_BYTES	8192

/*
 * Parses a W3C `baggage` header value.  Each member becomes a FIRST string
 * (a key repeated becomes a SET of strings); properties are kept.  On a
 * malformed header returns -EINVAL and writes a one-line reason naming the
 * offending position into @err; *out is untouched.
 */
int tpctl_bag_from_w3c(const char *text, struct tpctl_bag **out, char *err, size_t errlen);
/*
 * Formats the top-level FIRST and SET entries (numbers in decimal, other
 * values percent-encoded), COUNTERs as their sum and TAINTs as "true";
 * nested bags are not representable and are skipped.  -E2BIG beyond the
 * 64-member / 8192-byte limits.  *text is malloc'd.
 */
int tpctl_bag_to_w3c(const struct tpctl_bag *bag, char **text);

struct tpctl_traceparent {
	uint8_t version;
	uint8_t trace_id[16];
	uint8_t parent_id[8];
	uint8_t flags;
};

#define TPCTL_TRACEPARENT_LEN	55

int tpctl_traceparent_parse(const char *text, struct tpctl_traceparent *out,
			    char *err, size_t errlen);
/* Writes TPCTL_TRACEPARENT_LEN characters and a NUL into @out. */
int tpctl_traceparent_format(const struct tpctl_traceparent *tp,
			     char out[TPCTL_TRACEPARENT_LEN + 1]);

/* ---- Kernel interface ------------------------------------------------- */

struct tpctl;

/* Whose baggage: the caller, a process (its main thread) or one thread. */
enum tpctl_who {
	TPCTL_SELF = 0,
	TPCTL_PID,
	TPCTL_TID,
};

/* Returns NULL with errno set; ENOENT means the module is not loaded. */
struct tpctl *tpctl_open(void);
void tpctl_close(struct tpctl *h);
/* The last error on @h: the kernel's extack message, or strerror(). */
const char *tpctl_errmsg(const struct tpctl *h);

int tpctl_get(struct tpctl *h, enum tpctl_who who, pid_t id, struct tpctl_bag **out);
int tpctl_set(struct tpctl *h, enum tpctl_who who, pid_t id, const struct tpctl_bag *bag);
int tpctl_merge(struct tpctl *h, enum tpctl_who who, pid_t id, const struct tpctl_bag *bag);
int tpctl_clear(struct tpctl *h, enum tpctl_who who, pid_t id);

/*
 * What SET and MERGE do with a result larger than the module's limits:
 * by default (@exact 0) the kernel keeps its longest prefix that fits,
 * with the overflow marker; with @exact 1 they fail, -E2BIG over
 * max_bytes or -ENOSPC over what mem_cap leaves, and nothing changes.
 * For @h's later calls.  A module without it refuses them: -EINVAL.
 */
int tpctl_set_exact(struct tpctl *h, int exact);

/*
 * Pins the task that @who/@id (TPCTL_PID or TPCTL_TID) names now: @h's
 * later calls naming @who/@id act on that very task, or fail with -ESRCH
 * once it has exited, even if its number went to another task since (a
 * read-modify-write of another process's baggage needs this).  One pin
 * per handle; pinning again replaces it, and a pin that fails leaves
 * none.  -EOPNOTSUPP from a module that does not report start times.
 */
int tpctl_pin(struct tpctl *h, enum tpctl_who who, pid_t id);

/* The same on serialized atoms, for meta-applications with their own encoding. */
int tpctl_get_raw(struct tpctl *h, enum tpctl_who who, pid_t id, void **buf, size_t *len);
int tpctl_set_raw(struct tpctl *h, enum tpctl_who who, pid_t id, const void *buf, size_t len);
int tpctl_merge_raw(struct tpctl *h, enum tpctl_who who, pid_t id, const void *buf, size_t len);

struct tpctl_status {
	char version[32];
	uint32_t max_bytes;
	uint64_t mem_cap;
	uint64_t live_bags;
	uint64_t live_bytes;
	uint64_t live_tasks;
	uint64_t trims;
	uint64_t alloc_fails;
};

int tpctl_status(struct tpctl *h, struct tpctl_status *st);

/* ---- Transit: pipes, FIFOs, UNIX sockets (Documentation/transit.rst) ---- */

/* What reading from a pipe, FIFO or socket does to the reader's baggage. */
enum tpctl_read_policy {
	TPCTL_READ_MERGE = 0,	/* own := merge(own, the data's); the default */
	TPCTL_READ_REPLACE = 1,	/* own := the data's, all that one call read */
	TPCTL_READ_IGNORE = 2,	/* own stays: reads change nothing */
};

/*
 * A task's read policy, inherited by its children and kept across exec.
 * Setting another task's needs CAP_SYS_ADMIN, as for its baggage.
 */
int tpctl_set_read_policy(struct tpctl *h, enum tpctl_who who, pid_t id,
			  enum tpctl_read_policy policy);
int tpctl_get_read_policy(struct tpctl *h, enum tpctl_who who, pid_t id,
			  enum tpctl_read_policy *out);

struct tpctl_transit_status {
	uint32_t max_ranges;		/* max_ranges parameter */
	uint64_t live_pipes;		/* pipes holding baggage state */
	uint64_t live_ranges;		/* byte ranges holding baggage */
	uint64_t live_skb_tags;		/* queued UNIX socket buffers with baggage */
	uint64_t range_merges;		/* ranges merged at max_ranges */
	uint64_t overapprox;		/* transfers credited more than their own */
	uint64_t probe_misses;		/* pipe or socket calls not seen */
};

int tpctl_transit_status(struct tpctl *h, struct tpctl_transit_status *st);

/* ---- TCP: baggage on the wire (Documentation/wire-format.rst) ------------- */

struct tpctl_tcp_status {
	int net_enabled;		/* the caller's network namespace: 1 on, 0 off;
					 * -1: the module carries no baggage over TCP */
	uint64_t negotiated;		/* sockets whose peer speaks baggage */
	uint64_t opts_sent;		/* fragment options sent */
	uint64_t opts_rcvd;		/* fragment options accepted */
	uint64_t bytes_sent;		/* baggage bytes sent in them */
	uint64_t splits;		/* extra segments cut to carry them */
	uint64_t trims;			/* reads credited a trimmed baggage */
	uint64_t malformed;		/* options dropped as malformed */
	uint64_t overflows;		/* dropped at a per-socket or global cap */
	uint64_t live_conns;		/* sockets holding baggage state now */
};

int tpctl_tcp_status(struct tpctl *h, struct tpctl_tcp_status *st);

/*
 * Switches baggage over TCP on (1) or off (0) in the caller's network
 * namespace; needs CAP_NET_ADMIN in it.
 */
int tpctl_net_set(struct tpctl *h, int on);

#pragma GCC visibility pop

#ifdef __cplusplus
}
#endif

#endif /* TPCTL_H */
