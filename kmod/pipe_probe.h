/* SPDX-License-Identifier: GPL-2.0 */
/* The probes on pipe reads, writes and frees (pipe_probe.c). */
#ifndef TP_PIPE_PROBE_H
#define TP_PIPE_PROBE_H

struct file;
struct pipe_inode_info;

#include <linux/types.h>

int tp_pipe_probe_init(void);
void tp_pipe_probe_exit(void);

/* The pipe behind @file, or NULL if it is not a pipe or FIFO. */
struct pipe_inode_info *tp_pipe_of(const struct file *file);

#endif /* TP_PIPE_PROBE_H */
