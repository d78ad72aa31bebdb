/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Module parameters that take a number within bounds (limits.c,
 * tcp_param.c).  A write of anything else, through sysfs or at insmod,
 * fails with -EINVAL and leaves the value as it was.
 */
#ifndef TP_PARAM_H
#define TP_PARAM_H

#include <linux/compiler.h>
#include <linux/moduleparam.h>

struct tp_param {
	unsigned long val;
	unsigned long min, max;
	/* Optional: a further check of a value within bounds. */
	bool (*valid)(unsigned long val);
};

extern const struct kernel_param_ops tp_param_ops;

/*
 * The parameter @name, its value in tp_param_@name: @def, then whatever
 * within [@lo, @hi] that @check (NULL: none) accepts is written to it.
 */
#define TP_PARAM(name, def, lo, hi, check, perm, desc)			\
	static struct tp_param tp_param_##name = {			\
		.val = (def), .min = (lo), .max = (hi), .valid = (check), \
	};								\
	module_param_cb(name, &tp_param_ops, &tp_param_##name, perm);	\
	MODULE_PARM_DESC(name, desc)

/* A runtime-writable value may change under its readers: read it once. */
static inline unsigned long tp_param_read(const struct tp_param *p)
{
	return READ_ONCE(p->val);
}

#endif /* TP_PARAM_H */
