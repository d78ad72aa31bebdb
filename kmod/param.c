// SPDX-License-Identifier: GPL-2.0
/*
 * The operations of bounded module parameters (param.h).
 */

#include <linux/kernel.h>
#include <linux/mm.h>

#include "param.h"

static int tp_param_set(const char *str, const struct kernel_param *kp)
{
	struct tp_param *p = kp->arg;
	unsigned long val;

	if (kstrtoul(str, 0, &val) || val < p->min || val > p->max ||
	    (p->valid && !p->valid(val)))
		return -EINVAL;
	WRITE_ONCE(p->val, val);
	return 0;
}

static int tp_param_get(char *buf, const struct kernel_param *kp)
{
	const struct tp_param *p = kp->arg;

	return scnprintf(buf, PAGE_SIZE, "%lu\n", tp_param_read(p));
}

const struct kernel_param_ops tp_param_ops = {
	.set = tp_param_set,
	.get = tp_param_get,
};
