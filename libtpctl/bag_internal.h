/* SPDX-License-Identifier: MIT */
/*
 * Private to the typed baggage layer (bag.c, bag_codec.c, replica.c).
 * The encoding itself is specified in Documentation/baggage-format.rst.
 */
#ifndef TPCTL_BAG_INTERNAL_H
#define TPCTL_BAG_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tpctl.h"

#define BAG_FORMAT_V1		0x01	/* first byte of every typed atom */
#define BAG_KEY_MAX		255	/* bytes in a key */
#define BAG_VALUE_MAX		4096	/* bytes in a string, bytes or properties value */
#define BAG_DEPTH_MAX		8	/* key levels: top-level keys are depth 1 */
#define BAG_REPLICA_MAX		64	/* bytes in a counter replica id */

/* Kind bytes: the byte after a key.  Their order decides key conflicts. */
enum bag_kind_byte {
	BAG_K_FIRST = 0x01,
	BAG_K_SET = 0x02,
	BAG_K_COUNTER = 0x03,
	BAG_K_TAINT = 0x04,
	BAG_K_BAG = 0x05,
	BAG_K_PROPS = 0x06,	/* W3C properties of the key: not a kind of value */
};

/* Type bytes of a scalar (FIRST and SET bodies); equal to enum tpctl_type. */
enum bag_type_byte {
	BAG_T_STRING = 0x01,
	BAG_T_BYTES = 0x02,
	BAG_T_INT = 0x03,
	BAG_T_UINT = 0x04,
};

/* An owned byte string. */
struct bag_bytes {
	uint8_t *data;
	size_t len;
};

struct bag_component {
	uint8_t replica[BAG_REPLICA_MAX];
	uint8_t replica_len;
	uint64_t value;
};

/* One key of a bag level. */
struct bag_node {
	struct tpctl_entry entry;	/* what callers see; points into this node */
	uint8_t *key;
	size_t key_len;
	/* FIRST and SET: encoded scalars (type byte + payload), sorted. */
	struct bag_bytes *bodies;
	struct tpctl_value *values;
	size_t nvalues;
	/* COUNTER */
	struct bag_component *components;
	size_t ncomponents;
	/* BAG */
	struct tpctl_bag *child;
	char *props;
};

struct tpctl_bag {
	struct bag_node **nodes;	/* sorted by key (tp_atom_cmp order) */
	size_t nnodes;
	size_t cap;
	/*
	 * Elements (atom bytes after this level's prefix) that this level keeps
	 * without interpreting them: malformed, unknown kinds, or values of a
	 * kind that lost a key conflict.  Sorted.
	 */
	struct bag_bytes *opaque;
	size_t nopaque;
	/* Top level only: atoms not in format 1, the overflow marker first. */
	struct bag_bytes *foreign;
	size_t nforeign;
	unsigned int depth;		/* 1 for a top-level bag */
};

/* How normalization treats the members of an atom's group. */
enum bag_policy {
	BAG_KEEP_ALL,	/* SET, TAINT: every atom stands */
	BAG_KEEP_MIN,	/* FIRST, PROPS: the smallest atom of the group wins */
	BAG_KEEP_MAX,	/* COUNTER: the largest value of a replica wins */
};

/* What an element (the bytes after the format byte or a parent's prefix) is. */
struct bag_elem_info {
	bool well_formed;
	const uint8_t *key;
	size_t key_len;
	size_t kind_off;	/* offset of the kind byte */
	uint8_t kind;
	enum bag_policy policy;
	size_t group_len;	/* bytes shared by every atom of the group */
};

static inline uint64_t bag_be64_get(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

static inline void bag_be64_put(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

/* Returns false when @elem does not even start with a valid key. */
bool bag_elem_parse(const uint8_t *elem, size_t len, unsigned int depth,
		    struct bag_elem_info *info);

/* Nodes and levels (bag.c). */
struct tpctl_bag *bag_level_new(unsigned int depth);
struct bag_node *bag_node_new(const uint8_t *key, size_t key_len, enum tpctl_kind kind);
void bag_node_free(struct bag_node *node);
int bag_node_add_value(struct bag_node *node, const uint8_t *body, size_t len);
int bag_node_add_component(struct bag_node *node, const uint8_t *replica,
			   size_t replica_len, uint64_t value);
int bag_node_set_props(struct bag_node *node, const uint8_t *props, size_t len);
void bag_level_free(struct tpctl_bag *bag);
/* Inserts @node, whose key the level does not hold yet, in key order. */
int bag_level_insert(struct tpctl_bag *bag, struct bag_node *node);
int bag_bytes_append(struct bag_bytes **arr, size_t *n, const void *data, size_t len);
void bag_bytes_free(struct bag_bytes *arr, size_t n);

/* Maps an enum tp_atom_err to a negative errno. */
int bag_atom_errno(int err);

/* The replica id of the calling thread (replica.c). */
int bag_replica_id(uint8_t out[BAG_REPLICA_MAX], size_t *len);

#endif /* TPCTL_BAG_INTERNAL_H */
