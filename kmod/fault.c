// SPDX-License-Identifier: GPL-2.0
/*
 * fail_tracingplane: a fault_attr of the module's own, built only on
 * kernels with CONFIG_FAULT_INJECTION_DEBUG_FS.  A private attribute, and
 * not failslab, because the module's kmalloc()s share the kmalloc caches
 * with the rest of the kernel: failslab could only fail them all.
 */

#include <linux/debugfs.h>
#include <linux/fault-inject.h>

#include "fault.h"

static DECLARE_FAULT_ATTR(tp_fault_attr);
static struct dentry *tp_fault_dir;

bool tp_fault_should_fail(size_t size)
{
	return should_fail(&tp_fault_attr, size);
}

/*
 * Without debugfs (debugfs=off) the knobs are missing and nothing ever
 * fails: no reason to refuse loading, so errors are not returned.
 */
void tp_fault_init(void)
{
	tp_fault_dir = fault_create_debugfs_attr("fail_tracingplane", NULL,
						 &tp_fault_attr);
}

void tp_fault_exit(void)
{
	debugfs_remove_recursive(tp_fault_dir);
	/* fault_create_debugfs_attr() took a reference for the attribute. */
	if (!IS_ERR(tp_fault_dir))
		dput(tp_fault_attr.dname);
}
