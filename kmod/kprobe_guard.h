/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Every kprobe and kretprobe of the module goes through this guard, which
 * turns away a late int3 trap on a probe that rides ftrace (kprobe_guard.c).
 */
#ifndef TP_KPROBE_GUARD_H
#define TP_KPROBE_GUARD_H

#include <linux/kprobes.h>

/* A kprobe and the pre_handler the guard calls for it. */
struct tp_kprobe {
	struct kprobe kp;
	kprobe_pre_handler_t handler;
};

#define TP_KPROBE(sym, fn, fl) \
	{ .kp = { .symbol_name = (sym), .flags = (fl) }, .handler = (fn) }

/* The most probes one call of tp_register_kprobes() takes. */
#define TP_KPROBES_MAX	4

/* register_kprobes() with the guard in front of each handler. */
int tp_register_kprobes(struct tp_kprobe *probes, int num);
void tp_unregister_kprobes(struct tp_kprobe *probes, int num);
long tp_kprobes_missed(const struct tp_kprobe *probes, int num);

/* register_kretprobes() for kretprobes registered disabled, guarded. */
int tp_register_kretprobes(struct kretprobe **rps, int num);

/*
 * Settles a late trap on the ftrace call site @site (regs: the trap's,
 * its ip just past the int3); a call @armed hooks did not see is counted.
 */
void tp_late_trap_settle(unsigned long site, struct pt_regs *regs, bool armed);

/* Late traps whose call was not seen, for the probe misses of STATUS. */
long tp_kprobe_late_count(void);

#endif
