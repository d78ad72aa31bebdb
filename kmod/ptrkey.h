/* SPDX-License-Identifier: GPL-2.0 */
/*
 * rhashtables keyed by a kernel object's address (tasks, pipes, TCP
 * sockets, pending credits).  By default an rhashtable hashes a key with
 * jhash and compares it with an out-of-line memcmp() of the length the
 * table was created with: for one word, both cost more than the rest of
 * a lookup.  An address is hashed by a multiplication and compared as a
 * word.  The keys are kernel addresses, which no one outside chooses, and
 * the table's random seed still goes into every hash.
 */
#ifndef TP_PTRKEY_H
#define TP_PTRKEY_H

#include <linux/hash.h>
#include <linux/rhashtable.h>

static inline u32 tp_ptrkey_hash(const void *key, u32 len, u32 seed)
{
	return hash_64(*(const unsigned long *)key ^ seed, 32);
}

static inline int tp_ptrkey_cmp(struct rhashtable_compare_arg *arg,
				const void *obj)
{
	const void *key = (const char *)obj + arg->ht->p.key_offset;

	return *(const unsigned long *)key != *(const unsigned long *)arg->key;
}

/* The parameters of a table of @type whose @key is an address. */
#define TP_PTRKEY_PARAMS(type, node_member, key_member) {		\
	.head_offset = offsetof(type, node_member),			\
	.key_offset = offsetof(type, key_member),			\
	.key_len = sizeof(unsigned long),				\
	.hashfn = tp_ptrkey_hash,					\
	.obj_cmpfn = tp_ptrkey_cmp,					\
	.automatic_shrinking = true,					\
}

#endif /* TP_PTRKEY_H */
