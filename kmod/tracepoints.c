// SPDX-License-Identifier: GPL-2.0
/* Finding the kernel's tracepoints by name (tracepoints.h). */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/string.h>
#include <linux/tracepoint.h>

#include "tracepoints.h"

struct tp_tracepoint_query {
	const char *name;
	struct tracepoint *found;
};

static void tp_tracepoint_match(struct tracepoint *tp, void *priv)
{
	struct tp_tracepoint_query *q = priv;

	if (!strcmp(tp->name, q->name))
		q->found = tp;
}

struct tracepoint *tp_tracepoint_find(const char *name)
{
	struct tp_tracepoint_query q = { .name = name };

	for_each_kernel_tracepoint(tp_tracepoint_match, &q);
	if (!q.found)
		pr_err("tracepoint %s not found\n", name);
	return q.found;
}
