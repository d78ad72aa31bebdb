// SPDX-License-Identifier: GPL-2.0
/*
 * Per network namespace switch of baggage over TCP.
 *
 * Every namespace starts switched on, those that exist at load time
 * included.  On means the TCP hooks are registered in it; off means they
 * are not, so its packets cross no code of ours, SYNs do not offer
 * baggage and options that arrive are left alone (TCP ignores them).
 * Sockets that negotiated before stop sending and crediting baggage, and
 * keep their state until they close.
 */

#include <linux/capability.h>
#include <linux/mutex.h>
#include <linux/netfilter_ipv4.h>
#include <linux/netfilter_ipv6.h>
#include <linux/tracingplane.h>
#include <net/genetlink.h>
#include <net/net_namespace.h>
#include <net/netns/generic.h>

#include "netns.h"
#include "tcp.h"

struct tp_net {
	struct mutex lock;	/* serializes switching */
	bool enabled;
};

static unsigned int tp_net_id;

/*
 * Options go on outgoing segments before any other hook sees them, so
 * that the segments a hook cuts traverse every hook (tcp_out.c); they come
 * off incoming segments after every hook, so that what a firewall drops
 * is never looked at.
 */
static const struct nf_hook_ops tp_net_hooks[] = {
	{
		.hook = tp_out_hook,
		.pf = NFPROTO_IPV4,
		.hooknum = NF_INET_LOCAL_OUT,
		.priority = NF_IP_PRI_FIRST,
	},
	{
		.hook = tp_out_hook,
		.pf = NFPROTO_IPV6,
		.hooknum = NF_INET_LOCAL_OUT,
		.priority = NF_IP6_PRI_FIRST,
	},
	{
		.hook = tp_in_hook,
		.pf = NFPROTO_IPV4,
		.hooknum = NF_INET_LOCAL_IN,
		.priority = NF_IP_PRI_LAST,
	},
	{
		.hook = tp_in_hook,
		.pf = NFPROTO_IPV6,
		.hooknum = NF_INET_LOCAL_IN,
		.priority = NF_IP6_PRI_LAST,
	},
};

bool tp_net_enabled(const struct net *net)
{
	const struct tp_net *tn = net_generic(net, tp_net_id);

	return READ_ONCE(tn->enabled);
}

int tp_net_set_enabled(struct net *net, bool on)
{
	struct tp_net *tn = net_generic(net, tp_net_id);
	int err = 0;

	mutex_lock(&tn->lock);
	if (on && !tn->enabled)
		err = nf_register_net_hooks(net, tp_net_hooks,
					    ARRAY_SIZE(tp_net_hooks));
	else if (!on && tn->enabled)
		nf_unregister_net_hooks(net, tp_net_hooks,
					ARRAY_SIZE(tp_net_hooks));
	if (!err)
		WRITE_ONCE(tn->enabled, on);
	mutex_unlock(&tn->lock);
	return err;
}

/*
 * Switching a namespace changes what every socket in it sends, so it takes
 * what changing its network configuration takes: CAP_NET_ADMIN over it.
 */
int tp_netns_nl_set(struct sk_buff *skb, struct genl_info *info)
{
	struct nlattr *attr = info->attrs[TRACINGPLANE_A_NET_ENABLED];
	struct net *net = genl_info_net(info);
	int err;

	if (GENL_REQ_ATTR_CHECK(info, TRACINGPLANE_A_NET_ENABLED)) {
		NL_SET_ERR_MSG(info->extack, "net_enabled: attribute is required");
		return -EINVAL;
	}
	if (!netlink_ns_capable(skb, net->user_ns, CAP_NET_ADMIN)) {
		NL_SET_ERR_MSG_ATTR(info->extack, attr,
				    "net_enabled: switching a network namespace needs CAP_NET_ADMIN in it");
		return -EPERM;
	}
	err = tp_net_set_enabled(net, nla_get_u8(attr));
	if (err)
		NL_SET_ERR_MSG_ATTR(info->extack, attr,
				    "net_enabled: cannot place the namespace's netfilter hooks");
	return err;
}

static int __net_init tp_net_init(struct net *net)
{
	struct tp_net *tn = net_generic(net, tp_net_id);

	mutex_init(&tn->lock);
	return tp_net_set_enabled(net, true);
}

static void __net_exit tp_net_exit(struct net *net)
{
	tp_net_set_enabled(net, false);
}

static struct pernet_operations tp_net_ops = {
	.init = tp_net_init,
	.exit = tp_net_exit,
	.id = &tp_net_id,
	.size = sizeof(struct tp_net),
};

int tp_netns_init(void)
{
	return register_pernet_subsys(&tp_net_ops);
}

void tp_netns_exit(void)
{
	unregister_pernet_subsys(&tp_net_ops);
}
