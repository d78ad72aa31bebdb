/* SPDX-License-Identifier: GPL-2.0 */
/* splice, tee and vmsplice on pipes (pipe_splice.c). */
#ifndef TP_PIPE_SPLICE_H
#define TP_PIPE_SPLICE_H

int tp_splice_init(void);
void tp_splice_exit(void);

#endif /* TP_PIPE_SPLICE_H */
