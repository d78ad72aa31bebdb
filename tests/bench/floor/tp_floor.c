// SPDX-License-Identifier: GPL-2.0
/*
 * tp_floor: the hooks tracingplane.ko uses, with handlers that do nothing,
 * so that make bench-floor can measure what the hooking alone costs
 * (Documentation/benchmarks.md, "Floors").  The part of an overhead that
 * the module's own work could ever remove is what lies above its floor.
 *
 *   mech=kretprobe   kretprobes on pipe_read() and pipe_write(), the shape
 *                    of pipe_probe.c's (entry and return handler, data)
 *   mech=kprobe      plain kprobes on the same two functions (entry only)
 *   mech=ftrace      an ftrace_ops on the same two functions: the cheapest
 *                    way a module can see a kernel function called
 *   mech=wrap        an ftrace_ops that sends the two functions' calls to
 *                    wrappers here (IPMODIFY, as livepatch): the cheapest
 *                    way a module can see a call's return
 *   mech=unix        unix.c's hooks on a UNIX stream send and read: a
 *                    kretprobe on sock_alloc_send_pskb(), kprobes on
 *                    unix_wfree() and unix_stream_read_actor()
 *   mech=netfilter   LOCAL_IN and LOCAL_OUT hooks, IPv4 and IPv6, in every
 *                    network namespace, priorities as netns.c's
 *
 * Never loaded outside a VM (tools/bench refuses to run elsewhere).
 */

#include <linux/ftrace.h>
#include <linux/kprobes.h>
#include <linux/module.h>
#include <linux/netfilter.h>
#include <linux/netfilter_ipv4.h>
#include <linux/netfilter_ipv6.h>
#include <linux/string.h>
#include <net/net_namespace.h>

static char *mech = "";
module_param(mech, charp, 0444);
MODULE_PARM_DESC(mech, "the hooks to place: kretprobe, kprobe, ftrace, wrap, unix or netfilter");

static const char *const floor_syms[] = { "pipe_read", "pipe_write" };
#define FLOOR_NSYMS ARRAY_SIZE(floor_syms)

/* ---- kretprobe and kprobe ---------------------------------------------- */

/* As much instance data as pipe_probe.c's struct tp_pipe_op. */
#define FLOOR_RP_DATA	96

static int floor_rp_entry(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	return 0;
}

static int floor_rp_ret(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	return 0;
}

static int floor_kp_pre(struct kprobe *kp, struct pt_regs *regs)
{
	return 0;
}

static struct kretprobe floor_rps[FLOOR_NSYMS];
static struct kretprobe *floor_rp_list[FLOOR_NSYMS];
static struct kprobe floor_kps[FLOOR_NSYMS];
static struct kprobe *floor_kp_list[FLOOR_NSYMS];

static int floor_kretprobe_init(void)
{
	unsigned int i;

	for (i = 0; i < FLOOR_NSYMS; i++) {
		floor_rps[i].kp.symbol_name = floor_syms[i];
		floor_rps[i].entry_handler = floor_rp_entry;
		floor_rps[i].handler = floor_rp_ret;
		floor_rps[i].data_size = FLOOR_RP_DATA;
		floor_rps[i].maxactive = 2048;
		floor_rp_list[i] = &floor_rps[i];
	}
	return register_kretprobes(floor_rp_list, FLOOR_NSYMS);
}

static int floor_kprobe_init(void)
{
	unsigned int i;

	for (i = 0; i < FLOOR_NSYMS; i++) {
		floor_kps[i].symbol_name = floor_syms[i];
		floor_kps[i].pre_handler = floor_kp_pre;
		floor_kp_list[i] = &floor_kps[i];
	}
	return register_kprobes(floor_kp_list, FLOOR_NSYMS);
}

/* ---- unix ------------------------------------------------------------------- */

/*
 * unix.c's hooks on a stream send and read: the kretprobe on the buffer
 * allocation (armed entry and return, as with baggage), the kprobes on
 * the buffer destructor and the read actor.
 */
static struct kretprobe floor_unix_rp = {
	.kp.symbol_name = "sock_alloc_send_pskb",
	.entry_handler = floor_rp_entry,
	.handler = floor_rp_ret,
	.maxactive = 1024,
};

static struct kprobe floor_unix_kps[] = {
	{ .symbol_name = "unix_wfree", .pre_handler = floor_kp_pre },
	{ .symbol_name = "unix_stream_read_actor", .pre_handler = floor_kp_pre },
};

static struct kprobe *floor_unix_kp_list[] = {
	&floor_unix_kps[0], &floor_unix_kps[1],
};

static int floor_unix_init(void)
{
	int err = register_kprobes(floor_unix_kp_list,
				   ARRAY_SIZE(floor_unix_kp_list));

	if (err)
		return err;
	err = register_kretprobe(&floor_unix_rp);
	if (err)
		unregister_kprobes(floor_unix_kp_list,
				   ARRAY_SIZE(floor_unix_kp_list));
	return err;
}

static void floor_unix_exit(void)
{
	unregister_kretprobe(&floor_unix_rp);
	unregister_kprobes(floor_unix_kp_list, ARRAY_SIZE(floor_unix_kp_list));
}

/* ---- ftrace ----------------------------------------------------------------- */

/* The two functions, as the ftrace_ops below are filtered on them. */
typedef ssize_t (*floor_iter_fn)(struct kiocb *iocb, struct iov_iter *iter);
static floor_iter_fn floor_orig[FLOOR_NSYMS];

static unsigned long floor_lookup(const char *sym)
{
	struct kprobe kp = { .symbol_name = sym };
	unsigned long addr;

	if (register_kprobe(&kp))
		return 0;
	addr = (unsigned long)kp.addr;
	unregister_kprobe(&kp);
	return addr;
}

/* Registers @ops on the two functions. */
static int floor_ftrace_start(struct ftrace_ops *ops)
{
	unsigned int i;
	int err;

	for (i = 0; i < FLOOR_NSYMS; i++) {
		floor_orig[i] = (floor_iter_fn)floor_lookup(floor_syms[i]);
		err = -ENOENT;
		if (!floor_orig[i])
			goto err_filter;
		err = ftrace_set_filter_ip(ops, (unsigned long)floor_orig[i], 0, 0);
		if (err)
			goto err_filter;
	}
	err = register_ftrace_function(ops);
	if (!err)
		return 0;
err_filter:
	ftrace_free_filter(ops);
	return err;
}

static void notrace floor_ftrace_func(unsigned long ip, unsigned long parent_ip,
				      struct ftrace_ops *ops,
				      struct ftrace_regs *fregs)
{
}

static struct ftrace_ops floor_ftrace_ops = {
	.func = floor_ftrace_func,
};

/* ---- wrap ------------------------------------------------------------------ */

/*
 * An ftrace_ops that sends each call to a wrapper of the module, which
 * calls the function itself and sees its return: entry and return in one
 * C function.  A call asleep in a wrapper returns into this module's
 * text, so each holds a module reference (rmmod then fails with EBUSY):
 * the reason tracingplane.ko cannot hook pipes this way.
 */

static ssize_t floor_wrap_read(struct kiocb *iocb, struct iov_iter *to)
{
	ssize_t ret = floor_orig[0](iocb, to);

	module_put(THIS_MODULE);
	return ret;
}

static ssize_t floor_wrap_write(struct kiocb *iocb, struct iov_iter *from)
{
	ssize_t ret = floor_orig[1](iocb, from);

	module_put(THIS_MODULE);
	return ret;
}

static void notrace floor_wrap_func(unsigned long ip, unsigned long parent_ip,
				    struct ftrace_ops *ops,
				    struct ftrace_regs *fregs)
{
	struct pt_regs *regs = ftrace_get_regs(fregs);
	unsigned long wrapper;

	/* The wrapper's own call of the function goes through. */
	if (within_module(parent_ip, THIS_MODULE))
		return;
	if (ip == (unsigned long)floor_orig[0])
		wrapper = (unsigned long)floor_wrap_read;
	else if (ip == (unsigned long)floor_orig[1])
		wrapper = (unsigned long)floor_wrap_write;
	else
		return;
	if (try_module_get(THIS_MODULE))
		regs->ip = wrapper;
}

static struct ftrace_ops floor_wrap_ops = {
	.func = floor_wrap_func,
	.flags = FTRACE_OPS_FL_SAVE_REGS | FTRACE_OPS_FL_IPMODIFY,
};

/* ---- netfilter --------------------------------------------------------------- */

static unsigned int floor_nf_hook(void *priv, struct sk_buff *skb,
				  const struct nf_hook_state *state)
{
	return NF_ACCEPT;
}

static const struct nf_hook_ops floor_nf_ops[] = {
	{ .hook = floor_nf_hook, .pf = NFPROTO_IPV4,
	  .hooknum = NF_INET_LOCAL_OUT, .priority = NF_IP_PRI_FIRST },
	{ .hook = floor_nf_hook, .pf = NFPROTO_IPV6,
	  .hooknum = NF_INET_LOCAL_OUT, .priority = NF_IP6_PRI_FIRST },
	{ .hook = floor_nf_hook, .pf = NFPROTO_IPV4,
	  .hooknum = NF_INET_LOCAL_IN, .priority = NF_IP_PRI_LAST },
	{ .hook = floor_nf_hook, .pf = NFPROTO_IPV6,
	  .hooknum = NF_INET_LOCAL_IN, .priority = NF_IP6_PRI_LAST },
};

static int __net_init floor_net_init(struct net *net)
{
	return nf_register_net_hooks(net, floor_nf_ops, ARRAY_SIZE(floor_nf_ops));
}

static void __net_exit floor_net_exit(struct net *net)
{
	nf_unregister_net_hooks(net, floor_nf_ops, ARRAY_SIZE(floor_nf_ops));
}

static struct pernet_operations floor_net_ops = {
	.init = floor_net_init,
	.exit = floor_net_exit,
};

/* ---- module ------------------------------------------------------------------ */

enum floor_mech {
	FLOOR_KRETPROBE, FLOOR_KPROBE, FLOOR_FTRACE, FLOOR_WRAP, FLOOR_UNIX,
	FLOOR_NETFILTER
};

static const char *const floor_mechs[] = {
	[FLOOR_KRETPROBE] = "kretprobe",
	[FLOOR_KPROBE] = "kprobe",
	[FLOOR_FTRACE] = "ftrace",
	[FLOOR_WRAP] = "wrap",
	[FLOOR_UNIX] = "unix",
	[FLOOR_NETFILTER] = "netfilter",
};

static int floor_mech;

static int __init floor_init(void)
{
	floor_mech = match_string(floor_mechs, ARRAY_SIZE(floor_mechs), mech);
	switch (floor_mech) {
	case FLOOR_KRETPROBE:
		return floor_kretprobe_init();
	case FLOOR_KPROBE:
		return floor_kprobe_init();
	case FLOOR_FTRACE:
		return floor_ftrace_start(&floor_ftrace_ops);
	case FLOOR_WRAP:
		return floor_ftrace_start(&floor_wrap_ops);
	case FLOOR_UNIX:
		return floor_unix_init();
	case FLOOR_NETFILTER:
		return register_pernet_subsys(&floor_net_ops);
	}
	pr_err("tp_floor: mech=%s: want kretprobe, kprobe, ftrace, wrap, unix or netfilter\n",
	       mech);
	return -EINVAL;
}

static void __exit floor_exit(void)
{
	switch (floor_mech) {
	case FLOOR_KRETPROBE:
		unregister_kretprobes(floor_rp_list, FLOOR_NSYMS);
		break;
	case FLOOR_KPROBE:
		unregister_kprobes(floor_kp_list, FLOOR_NSYMS);
		break;
	case FLOOR_FTRACE:
		unregister_ftrace_function(&floor_ftrace_ops);
		ftrace_free_filter(&floor_ftrace_ops);
		break;
	case FLOOR_WRAP:
		unregister_ftrace_function(&floor_wrap_ops);
		ftrace_free_filter(&floor_wrap_ops);
		/* A wrapper past its module_put() is not yet out of our text. */
		synchronize_rcu_tasks();
		break;
	case FLOOR_UNIX:
		floor_unix_exit();
		break;
	case FLOOR_NETFILTER:
		unregister_pernet_subsys(&floor_net_ops);
		break;
	}
}

module_init(floor_init);
module_exit(floor_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("tracingplane benchmark: the cost of empty hooks");
