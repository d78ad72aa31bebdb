/* SPDX-License-Identifier: GPL-2.0 */
#ifndef TP_TRACEPOINTS_H
#define TP_TRACEPOINTS_H

struct tracepoint;

/*
 * The kernel's tracepoint @name, or NULL (logged): tracepoints are not
 * exported by name to modules, only through for_each_kernel_tracepoint().
 */
struct tracepoint *tp_tracepoint_find(const char *name);

#endif
