/* SPDX-License-Identifier: GPL-2.0 */
/* Baggage through UNIX-domain sockets (unix.c). */
#ifndef TP_UNIX_H
#define TP_UNIX_H

int tp_unix_init(void);
void tp_unix_exit(void);

#endif /* TP_UNIX_H */
