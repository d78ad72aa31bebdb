// SPDX-License-Identifier: GPL-2.0
/*
 * tracingplane: carries baggage, generic causal metadata, with every
 * execution through the OS.  Module init and exit, and the leak check.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/rcupdate.h>

#include "atom.h"
#include "fault.h"
#include "netlink.h"
#include "pipe.h"
#include "stats.h"
#include "stream.h"
#include "task.h"
#include "tcp.h"
#include "transit.h"
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
	long pipes = tp_pipe_count();
	long ranges = tp_stream_live_ranges();
	long conns = tp_conn_count();

	if (bags || bytes || tasks || pipes || ranges || conns)
		pr_err("leak at unload: %ld bags, %ld bytes, %ld tasks, %ld pipes, %ld ranges, %ld tcp sockets still live\n",
		       bags, bytes, tasks, pipes, ranges, conns);
}

static int __init tp_init(void)
{
	int err;

	err = tp_task_init();
	if (err)
		return err;

	err = tp_transit_init();
	if (err)
		goto err_task;

	err = tp_tcp_init();
	if (err)
		goto err_transit;

	err = tp_netlink_init();
	if (err)
		goto err_tcp;

	/* Cannot fail; until it runs, nothing is made to fail either. */
	tp_fault_init();
	pr_info("version " TP_VERSION " loaded\n");
	return 0;

err_tcp:
	tp_tcp_exit();
err_transit:
	tp_transit_exit();
err_task:
	tp_task_exit();
	return err;
}

static void __exit tp_exit(void)
{
	tp_netlink_exit();
	tp_tcp_exit();
	tp_transit_exit();
	tp_task_exit();
	/* Last: a request still in flight above may consult the knobs. */
	tp_fault_exit();
	tp_check_leaks();
	/*
	 * A task_work of ours (credit.c, pipe_sync.c) drops its reference on
	 * the module as its last act, then still returns through our text:
	 * wait until every task has left it, by a voluntary switch or a
	 * return to user space.
	 */
	synchronize_rcu_tasks();
}

module_init(tp_init);
module_exit(tp_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Tracing plane: baggage carried with every execution");
MODULE_AUTHOR("tracingplane developers");
MODULE_VERSION(TP_VERSION);
