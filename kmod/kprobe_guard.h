/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Every kprobe and kretprobe of the module goes through this guard, which
 * turns away a late int3 trap on a probe that rides ftrace (kprobe_guard.c).
 */
#ifndef TP_KPROBE_GUARD_H
#define TP_KPROBE_GUARD_H

#include <linux/kprobes.h>

/*
 * The first call of every kprobe pre_handler: true when this hit is a
 * late trap, which the handler must then return 1 for, untouched.
 */
bool tp_kprobe_late(struct kprobe *p, struct pt_regs *regs);

/* register_kretprobes() for kretprobes registered disabled, guarded. */
int tp_register_kretprobes(struct kretprobe **rps, int num);

/* Late traps whose call was not seen, for the probe misses of STATUS. */
long tp_kprobe_late_count(void);

#endif
