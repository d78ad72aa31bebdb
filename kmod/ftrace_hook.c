// SPDX-License-Identifier: GPL-2.0
/*
 * Entry hooks on one ftrace_ops.
 *
 * A kprobe on a function's entry rides ftrace as well, but every call
 * then also goes through the kprobe layer (the current kprobe, a full
 * register frame, the late-trap guard): an empty one costs +3 % of a
 * pipe ping-pong where an ftrace_ops costs +0.5 % (Documentation/
 * benchmarks.md, "Floors").  So the transit layer's hot hooks that need
 * no return are ftrace callbacks.
 *
 * One ftrace_ops serves every hook of the module and finds the hook by
 * the call site it is called from.  A module's ftrace_ops gets its own
 * trampoline, freed on unregistration after an RCU-tasks grace period
 * (a second or more under TCG): too slow for the transit layer, which
 * arms and disarms its hooks whenever baggage comes and goes.  So the
 * ops is registered once, and a hook is armed by adding its function to
 * the ops' filter and disarmed by taking it out.  An empty filter would
 * mean every function of the kernel: the filter always holds
 * tp_hook_anchor(), which nothing calls.
 *
 * The callback is called straight from the trampoline: with ftrace's
 * recursion flag, every call would go through ftrace_ops_assist_func()
 * first, a sixth of what the hooks cost a UNIX ping-pong
 * (Documentation/benchmarks.md).  It turns preemption off itself.  It
 * needs no guard against recursion: no handler calls, even indirectly, a
 * function the module hooks (they send, receive and free no socket
 * buffer), and a hook interrupted by another in an interrupt is a
 * different call on other objects, as with the flag.
 *
 * Late int3 traps (kprobe_guard.c) hit these call sites too.  With no
 * kprobe there, the kernel passes them to the die notifiers, where
 * tp_hook_die() settles them as the kprobe guard does.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/ftrace.h>
#include <linux/kdebug.h>
#include <linux/kprobes.h>
#include <linux/notifier.h>
#include <asm/text-patching.h>

#include "ftrace_hook.h"
#include "kprobe_guard.h"

/*
 * Written before a hook is first armed, read by the callback: the sites
 * apart, for the callback's search to read one word per hook.
 */
static unsigned long tp_hook_sites[TP_HOOKS_MAX];
static struct tp_hook *tp_hooks[TP_HOOKS_MAX];
static int tp_hook_count;

static notrace struct tp_hook *tp_hook_at(unsigned long site)
{
	/* Pairs with tp_hooks_add(): the entries are written before. */
	int i, n = smp_load_acquire(&tp_hook_count);

	for (i = 0; i < n; i++)
		if (tp_hook_sites[i] == site)
			return tp_hooks[i];
	return NULL;
}
NOKPROBE_SYMBOL(tp_hook_at);

/*
 * Preemption is turned off here, not before: a task preempted in the
 * trampoline may get here after its hook was disarmed, so a disarmed
 * hook does nothing, and whoever disarms waits for an RCU grace period
 * before freeing what the hook uses.  Only the argument registers of
 * @fregs are set (x86's ftrace_regs is a pt_regs; no FL_SAVE_REGS).
 */
static void notrace tp_hook_call(unsigned long ip, unsigned long parent_ip,
				 struct ftrace_ops *ops,
				 struct ftrace_regs *fregs)
{
	struct tp_hook *hook;

	preempt_disable_notrace();
	hook = tp_hook_at(ip);
	if (hook && READ_ONCE(hook->armed))
		hook->fn(&fregs->regs);
	preempt_enable_notrace();
}

static struct ftrace_ops tp_hook_ops = {
	.func = tp_hook_call,
};

/* Keeps the filter from being empty; never called. */
static noinline void tp_hook_anchor(void)
{
	barrier();
}

static int tp_hook_die(struct notifier_block *nb, unsigned long val,
		       void *data)
{
	struct die_args *args = data;
	unsigned long site;
	struct tp_hook *hook;

	if (val != DIE_INT3 || user_mode(args->regs))
		return NOTIFY_DONE;
	site = instruction_pointer(args->regs) - INT3_INSN_SIZE;
	hook = tp_hook_at(site);
	if (!hook)
		return NOTIFY_DONE;
	tp_late_trap_settle(site, args->regs, READ_ONCE(hook->armed));
	return NOTIFY_STOP;
}
NOKPROBE_SYMBOL(tp_hook_die);

static struct notifier_block tp_hook_die_nb = {
	.notifier_call = tp_hook_die,
};

/*
 * The call site of @sym: kallsyms_lookup_name() is not exported, but a
 * kprobe registered on a symbol learns its address, and whether it is a
 * site ftrace patches.
 */
static int tp_hook_find(const char *sym, unsigned long *site)
{
	struct kprobe kp = { .symbol_name = sym, .flags = KPROBE_FLAG_DISABLED };
	int err = register_kprobe(&kp);

	if (err)
		return err;
	*site = (unsigned long)kp.addr;
	err = kp.flags & KPROBE_FLAG_FTRACE ? 0 : -EOPNOTSUPP;
	unregister_kprobe(&kp);
	return err;
}

int tp_hooks_add(struct tp_hook *hooks, int num)
{
	int i, err;

	if (tp_hook_count + num > TP_HOOKS_MAX)
		return -ENOSPC;
	for (i = 0; i < num; i++) {
		err = tp_hook_find(hooks[i].symbol, &hooks[i].site);
		if (err) {
			pr_err("cannot hook %s: %d\n",
			       hooks[i].symbol, err);
			return err;
		}
	}
	for (i = 0; i < num; i++) {
		tp_hook_sites[tp_hook_count + i] = hooks[i].site;
		tp_hooks[tp_hook_count + i] = &hooks[i];
	}
	/* The die notifier may look at the table at any time. */
	smp_store_release(&tp_hook_count, tp_hook_count + num);
	return 0;
}

/*
 * One filter update for all of @hooks: each update walks every function
 * ftrace knows (tens of thousands) a few times, millions of instructions,
 * whether it changes one site or several.
 */
int tp_hooks_switch(struct tp_hook *hooks, int num, bool on)
{
	unsigned long sites[TP_HOOKS_MAX];
	struct tp_hook *changed[TP_HOOKS_MAX];
	int i, n = 0, err;

	if (WARN_ON_ONCE(num > TP_HOOKS_MAX))
		return -EINVAL;
	for (i = 0; i < num; i++) {
		if (hooks[i].armed == on)
			continue;
		/* Marked armed before its site calls, disarmed before it stops. */
		WRITE_ONCE(hooks[i].armed, on);
		changed[n] = &hooks[i];
		sites[n++] = hooks[i].site;
	}
	if (!n)
		return 0;
	/* All or nothing: ftrace edits a copy of the filter. */
	err = ftrace_set_filter_ips(&tp_hook_ops, sites, n, !on, 0);
	if (err) {
		pr_warn_ratelimited("cannot %s %d hooks (%s first): %d\n",
				    on ? "arm" : "disarm", n, changed[0]->symbol,
				    err);
		if (on) {
			for (i = 0; i < n; i++)
				WRITE_ONCE(changed[i]->armed, false);
		}
	}
	return err;
}

int tp_hooks_init(void)
{
	int err = ftrace_set_filter_ip(&tp_hook_ops,
				       (unsigned long)tp_hook_anchor, 0, 0);

	if (err)
		return err;
	err = register_die_notifier(&tp_hook_die_nb);
	if (err)
		goto free_filter;
	err = register_ftrace_function(&tp_hook_ops);
	if (err)
		goto unregister_die;
	return 0;

unregister_die:
	unregister_die_notifier(&tp_hook_die_nb);
free_filter:
	ftrace_free_filter(&tp_hook_ops);
	return err;
}

/*
 * Every hook is disarmed: their parts have gone.  Once the notifier is
 * gone, a late trap at a former hook site (kprobe_guard.c) would find
 * neither a kprobe nor it: the VM harness runs QEMU so that none comes
 * (Documentation/testing.rst, "The VM harness").
 */
void tp_hooks_exit(void)
{
	unregister_ftrace_function(&tp_hook_ops);
	unregister_die_notifier(&tp_hook_die_nb);
	ftrace_free_filter(&tp_hook_ops);
	tp_hook_count = 0;
}
