// SPDX-License-Identifier: GPL-2.0
/*
 * Late int3 traps on ftrace-based kprobes.
 *
 * A kprobe on a function's first instruction rides ftrace: arming or
 * disarming it has ftrace rewrite the call site with text_poke_bp(),
 * which puts an int3 there for the time of the rewrite and handles the
 * CPUs that hit it.  Under QEMU's TCG a CPU can still take that int3
 * once the rewrite is over (seen in the test lanes, where the probes are
 * armed and disarmed all the time: transit.c).  The kernel then finds
 * the kprobe by its address and treats the hit as one of an int3-based
 * kprobe: it runs the pre_handler in int3 (NMI) context and single-steps
 * the probe's copy of the instruction, which an ftrace-based probe does
 * not have: a jump to address 0.
 *
 * The guard recognizes such a hit (NMI context on an ftrace-based probe:
 * the ftrace path runs in the context of the call) and does what the
 * call site now holds, as text_poke_bp()'s own int3 handler would have:
 * the call to ftrace (whose handler then sees the call as usual), or
 * nothing, past the nop; an int3 again means a new rewrite, which that
 * handler will see if the CPU goes back to it.  Not simply back to the
 * site: the emulator serves the same stale int3 again and again (a test
 * saw a million such traps on pipe_write() whose site held its call).  A
 * call an armed probe does not see is counted among the probe misses.
 *
 * The guard is the pre_handler of every probe the module registers
 * through it, and calls the probe's own handler after it: a kprobe's
 * (struct tp_kprobe), or a kretprobe's, which is the kernel's
 * (/sys/kernel/debug/kprobes/list, which tells kretprobes by it, then
 * lists them with "k" rather than "r").  The entry hooks of ftrace_hook.c
 * meet the same traps at their own call sites, where no kprobe is, and
 * settle them the same way (tp_late_trap_settle()).
 */

#include <linux/hardirq.h>
#include <asm/text-patching.h>
#include <asm/unaligned.h>

#include "kprobe_guard.h"

/* Late traps that skipped the call of an armed probe: calls not seen. */
static atomic_long_t tp_kprobe_late_unseen = ATOMIC_LONG_INIT(0);

/* The kernel's pre_handler of every kretprobe, set at registration. */
static kprobe_pre_handler_t tp_kretprobe_pre;

/* Does what the call site @site now holds, as described above. */
void tp_late_trap_settle(unsigned long site, struct pt_regs *regs, bool armed)
{
	u8 insn[CALL_INSN_SIZE];

	/* The last byte rewritten is the first: the rest is settled. */
	memcpy(insn, (void *)site, sizeof(insn));
	if (insn[0] == CALL_INSN_OPCODE) {
		int3_emulate_call(regs, site + CALL_INSN_SIZE +
				  get_unaligned((s32 *)(insn + 1)));
		return;
	}
	if (armed)
		atomic_long_inc(&tp_kprobe_late_unseen);
	if (insn[0] == INT3_INSN_OPCODE)
		instruction_pointer_set(regs, site);
	else
		instruction_pointer_set(regs, site + CALL_INSN_SIZE);
}
NOKPROBE_SYMBOL(tp_late_trap_settle);

/* True when this hit is a late trap: the handler must not run. */
static bool tp_kprobe_late(struct kprobe *p, struct pt_regs *regs)
{
	if (likely(!in_nmi() || !(p->flags & KPROBE_FLAG_FTRACE)))
		return false;
	tp_late_trap_settle((unsigned long)p->addr, regs, !kprobe_disabled(p));
	return true;
}
NOKPROBE_SYMBOL(tp_kprobe_late);

static int tp_kprobe_guard(struct kprobe *p, struct pt_regs *regs)
{
	if (tp_kprobe_late(p, regs))
		return 1;
	return container_of(p, struct tp_kprobe, kp)->handler(p, regs);
}
NOKPROBE_SYMBOL(tp_kprobe_guard);

static int tp_kretprobe_guard(struct kprobe *p, struct pt_regs *regs)
{
	if (tp_kprobe_late(p, regs))
		return 1;
	return tp_kretprobe_pre(p, regs);
}
NOKPROBE_SYMBOL(tp_kretprobe_guard);

int tp_register_kprobes(struct tp_kprobe *probes, int num)
{
	int i, err;

	if (num > TP_KPROBES_MAX)
		return -EINVAL;
	for (i = 0; i < num; i++) {
		probes[i].kp.pre_handler = tp_kprobe_guard;
		err = register_kprobe(&probes[i].kp);
		if (err) {
			tp_unregister_kprobes(probes, i);
			return err;
		}
	}
	return 0;
}

/* In one batch: the kernel then waits for one grace period, not @num. */
void tp_unregister_kprobes(struct tp_kprobe *probes, int num)
{
	struct kprobe *kps[TP_KPROBES_MAX];
	int i;

	/* tp_register_kprobes() took no more. */
	if (WARN_ON_ONCE(num > TP_KPROBES_MAX))
		num = TP_KPROBES_MAX;
	for (i = 0; i < num; i++)
		kps[i] = &probes[i].kp;
	if (num)
		unregister_kprobes(kps, num);
}

long tp_kprobes_missed(const struct tp_kprobe *probes, int num)
{
	long n = 0;
	int i;

	for (i = 0; i < num; i++)
		n += probes[i].kp.nmissed;
	return n;
}

/*
 * Disabled, a kretprobe has never been armed: nothing calls its
 * pre_handler while the guard takes its place.
 */
int tp_register_kretprobes(struct kretprobe **rps, int num)
{
	int i, err;

	for (i = 0; i < num; i++)
		if (!kprobe_disabled(&rps[i]->kp))
			return -EINVAL;
	err = register_kretprobes(rps, num);
	if (err)
		return err;
	for (i = 0; i < num; i++) {
		tp_kretprobe_pre = rps[i]->kp.pre_handler;
		rps[i]->kp.pre_handler = tp_kretprobe_guard;
	}
	return 0;
}

long tp_kprobe_late_count(void)
{
	return atomic_long_read(&tp_kprobe_late_unseen);
}
