/* SPDX-License-Identifier: GPL-2.0 */
#ifndef TP_NETLINK_H
#define TP_NETLINK_H

int tp_netlink_init(void);
void tp_netlink_exit(void);

#endif /* TP_NETLINK_H */
