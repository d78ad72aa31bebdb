/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Per network namespace switch: in a namespace switched off the module's
 * packet hooks are not even registered, so its traffic is untouched.
 */
#ifndef TP_NETNS_H
#define TP_NETNS_H

#include <linux/types.h>

struct genl_info;
struct net;
struct sk_buff;

int tp_netns_init(void);
void tp_netns_exit(void);
bool tp_net_enabled(const struct net *net);
/* Process context: it may sleep. */
int tp_net_set_enabled(struct net *net, bool on);
/* TRACINGPLANE_CMD_NET_SET. */
int tp_netns_nl_set(struct sk_buff *skb, struct genl_info *info);

#endif /* TP_NETNS_H */
