/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * The few primitives the atom layer needs, mapped onto the kernel or onto
 * libc.  atom.c includes only this header, so the very same source builds
 * into tracingplane.ko and into libtpctl (and its unit tests and fuzzer).
 */
#ifndef TP_ATOM_COMPAT_H
#define TP_ATOM_COMPAT_H

#ifdef __KERNEL__

#include <linux/types.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/refcount.h>
#include <linux/atomic.h>
#include <linux/rcupdate.h>
#include <asm/unaligned.h>

#include "fault.h"

typedef refcount_t tp_refcount_t;
typedef atomic_long_t tp_counter_t;

#define tp_refcount_set(r, v)		refcount_set(r, v)
#define tp_refcount_inc(r)		refcount_inc(r)
#define tp_refcount_dec_and_test(r)	refcount_dec_and_test(r)
#define tp_counter_add(c, v)		atomic_long_add(v, c)
#define tp_counter_read(c)		atomic_long_read(c)
#define tp_load_be64(p)			get_unaligned_be64(p)

/* Readers take references under RCU, so the memory must outlive them. */
typedef struct rcu_head tp_rcu_head_t;
#define tp_bag_kmalloc(size, gfp)	tp_kmalloc(size, (gfp) | __GFP_NOWARN)
#define tp_bag_kfree(bag)		kfree_rcu(bag, rcu)

#else /* userspace */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <endian.h>

typedef uint8_t u8;
typedef uint32_t u32;
typedef uint64_t u64;
typedef unsigned int gfp_t;
#ifndef GFP_KERNEL
#define GFP_KERNEL 0u
#define GFP_ATOMIC 0u
#endif

typedef struct { int refs; } tp_refcount_t;
typedef long tp_counter_t;

#define tp_refcount_set(r, v)	__atomic_store_n(&(r)->refs, (v), __ATOMIC_RELAXED)
#define tp_refcount_inc(r)	__atomic_add_fetch(&(r)->refs, 1, __ATOMIC_RELAXED)
#define tp_refcount_dec_and_test(r) \
	(__atomic_sub_fetch(&(r)->refs, 1, __ATOMIC_ACQ_REL) == 0)
#define tp_counter_add(c, v)	__atomic_add_fetch((c), (v), __ATOMIC_RELAXED)
#define tp_counter_read(c)	__atomic_load_n((c), __ATOMIC_RELAXED)

static inline u64 tp_load_be64(const u8 *p)
{
	u64 v;

	memcpy(&v, p, sizeof(v));
	return be64toh(v);
}

/* Userspace frees at once: no reader can hold a blob without a reference. */
typedef struct { char unused[0]; } tp_rcu_head_t;
#define tp_bag_kmalloc(size, gfp)	((void)(gfp), tp_atom_malloc(size))
#define tp_bag_kfree(bag)		free(bag)

/*
 * Allocation hook for userspace: malloc by default; tests point it at a
 * failing allocator to prove every allocation failure is handled.
 */
extern void *(*tp_atom_malloc)(size_t size);

#endif /* __KERNEL__ */
#endif /* TP_ATOM_COMPAT_H */
