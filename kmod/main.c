// SPDX-License-Identifier: GPL-2.0
/*
 * tracingplane: carries baggage, generic causal metadata, with every
 * execution through the OS.  Module init and exit, and the leak check.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>

#include "atom.h"
#include "netlink.h"
#include "stats.h"
#include "task.h"
#include "version.h"

struct tp_stats tp_stats;

/*
 * Everything is released by now, so every live count must be zero.  The
 * distribution kernel has no kmemleak: this is the leak check, and tests
 * read its verdict from the kernel log.
 */
static void tp_check_leaks(void)
{
	long bags = tp_counter_read(&tp_atom_live_bags);
	long bytes = tp_counter_read(&tp_atom_live_bytes);
	long tasks = tp_task_count();

	if (bags || bytes || tasks)
		pr_err("leak at unload: %ld bags, %ld bytes, %ld tasks still live\n",
		       bags, bytes, tasks);
}

static int __init tp_init(void)
{
	int err;

	err = tp_task_init();
	if (err)
		return err;

	err = tp_netlink_init();
	if (err)
		goto err_task;

	pr_info("version " TP_VERSION " loaded\n");
	return 0;

err_task:
	tp_task_exit();
	return err;
}

static void __exit tp_exit(void)
{
	tp_netlink_exit();
	tp_task_exit();
	tp_check_leaks();
}

module_init(tp_init);
module_exit(tp_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Tracing plane: baggage carried with every execution");
MODULE_AUTHOR("tracingplane developers");
MODULE_VERSION(TP_VERSION);
