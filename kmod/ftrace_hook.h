/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Entry hooks on one ftrace_ops (ftrace_hook.c): the cheapest way for a
 * module to run code at a kernel function's entry, for the hot paths
 * that need a function's arguments and not its return.
 */
#ifndef TP_FTRACE_HOOK_H
#define TP_FTRACE_HOOK_H

#include <linux/ptrace.h>
#include <linux/types.h>

struct tp_hook {
	const char *symbol;
	/*
	 * Runs at the entry of @symbol, preemption off; only the argument
	 * registers of @args are set: read them with
	 * regs_get_kernel_argument().
	 */
	void (*fn)(struct pt_regs *args);
	unsigned long site;	/* the call site ftrace patches */
	bool armed;		/* the handler runs only if set */
};

#define TP_HOOK(sym, handler)	{ .symbol = (sym), .fn = (handler) }

/* The most hooks the module places, all parts together. */
#define TP_HOOKS_MAX	8

int tp_hooks_init(void);
void tp_hooks_exit(void);

/*
 * Finds the functions of @hooks and makes the hooks known, disarmed,
 * until tp_hooks_exit().  Fails if one cannot be hooked.
 */
int tp_hooks_add(struct tp_hook *hooks, int num);
/*
 * Arms or disarms @hooks, an array of at most TP_HOOKS_MAX, at once
 * (process context: patches the kernel's text; x86 patches all the sites
 * of one call together, so hooks that must change in an order take one
 * call each).  A handler may still run, preemption off, until an RCU
 * grace period after it is disarmed.  A hook already in the state asked
 * for is left alone.  Returns 0 or ftrace's error: the hooks this call
 * was to arm are then all disarmed; those it was to disarm are marked
 * disarmed anyway (their sites may still call, to no effect).
 */
int tp_hooks_switch(struct tp_hook *hooks, int num, bool on);

#endif /* TP_FTRACE_HOOK_H */
