/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The transit layer for pipes, FIFOs and UNIX-domain sockets: where
 * baggage moves with data between tasks.  Documentation/transit.rst.
 */
#ifndef TP_TRANSIT_H
#define TP_TRANSIT_H

#include <linux/types.h>

struct sk_buff;

int tp_transit_init(void);
void tp_transit_exit(void);

/*
 * Does any task, pipe or socket buffer hold baggage (or a task a read
 * policy other than the default)?  If not, no transfer can carry any,
 * and the probes return at once.
 */
bool tp_transit_active(void);

/* The transit attributes of a STATUS reply. */
int tp_transit_nl_status(struct sk_buff *msg);

#endif /* TP_TRANSIT_H */
