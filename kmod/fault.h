/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Fault injection for the module's own allocations, so that tests reach
 * every allocation-failure path.  On a kernel built with
 * CONFIG_FAULT_INJECTION_DEBUG_FS (the debug kernel of the test lanes),
 * /sys/kernel/debug/fail_tracingplane/ makes tp_kmalloc() fail, with the
 * knobs of Documentation/fault-injection/fault-injection.rst (probability,
 * interval, times, space, task-filter, verbose).  The module's slab caches
 * are covered by the kernel's own failslab.  Elsewhere, as on the
 * distribution kernel, tp_kmalloc() is kmalloc().
 */
#ifndef TP_FAULT_H
#define TP_FAULT_H

#include <linux/slab.h>

#ifdef CONFIG_FAULT_INJECTION_DEBUG_FS
void tp_fault_init(void);
void tp_fault_exit(void);
bool tp_fault_should_fail(size_t size);
#else
static inline void tp_fault_init(void)
{
}

static inline void tp_fault_exit(void)
{
}

static inline bool tp_fault_should_fail(size_t size)
{
	return false;
}
#endif

static inline void *tp_kmalloc(size_t size, gfp_t gfp)
{
	if (tp_fault_should_fail(size))
		return NULL;
	return kmalloc(size, gfp);
}

#endif /* TP_FAULT_H */
