// SPDX-License-Identifier: GPL-2.0
/*
 * Baggage across TCP connections: start and stop, in an order where
 * nothing runs before what it uses exists (tcp.h lists the parts).  The
 * per-socket state comes first and goes last; the per-namespace state
 * (and the packet hooks) before the probes, which look it up.
 */

#include <linux/tracingplane.h>
#include <net/netlink.h>

#include "netns.h"
#include "tcp.h"

struct tp_tcp_stats tp_tcp_stats;

static int tp_tcp_put(struct sk_buff *msg, int type, long count)
{
	/* Live counts can dip below zero for an instant under races. */
	return nla_put_u64_64bit(msg, type, max(count, 0L), TRACINGPLANE_A_PAD);
}

int tp_tcp_nl_status(struct sk_buff *msg, const struct net *net)
{
	const struct tp_tcp_stats *s = &tp_tcp_stats;

	return nla_put_u8(msg, TRACINGPLANE_A_NET_ENABLED,
			  tp_net_enabled(net)) ||
	       tp_tcp_put(msg, TRACINGPLANE_A_STATUS_TCP_NEGOTIATED,
			  atomic_long_read(&s->negotiated)) ||
	       tp_tcp_put(msg, TRACINGPLANE_A_STATUS_TCP_OPTS_SENT,
			  atomic_long_read(&s->opts_sent)) ||
	       tp_tcp_put(msg, TRACINGPLANE_A_STATUS_TCP_OPTS_RCVD,
			  atomic_long_read(&s->opts_rcvd)) ||
	       tp_tcp_put(msg, TRACINGPLANE_A_STATUS_TCP_BYTES_SENT,
			  atomic_long_read(&s->bytes_sent)) ||
	       tp_tcp_put(msg, TRACINGPLANE_A_STATUS_TCP_SPLITS,
			  atomic_long_read(&s->splits)) ||
	       tp_tcp_put(msg, TRACINGPLANE_A_STATUS_TCP_TRIMS,
			  atomic_long_read(&s->trims)) ||
	       tp_tcp_put(msg, TRACINGPLANE_A_STATUS_TCP_MALFORMED,
			  atomic_long_read(&s->malformed)) ||
	       tp_tcp_put(msg, TRACINGPLANE_A_STATUS_TCP_OVERFLOWS,
			  atomic_long_read(&s->overflows)) ||
	       tp_tcp_put(msg, TRACINGPLANE_A_STATUS_TCP_LIVE_CONNS,
			  tp_conn_count());
}

int tp_tcp_init(void)
{
	int err;

	tp_syn_init();
	err = tp_conn_init();
	if (err)
		return err;
	err = tp_netns_init();
	if (err)
		goto err_conn;
	err = tp_tx_init();
	if (err)
		goto err_netns;
	err = tp_in_init();
	if (err)
		goto err_tx;
	err = tp_read_init();
	if (err)
		goto err_in;
	return 0;

err_in:
	tp_in_exit();
err_tx:
	tp_tx_exit();
err_netns:
	tp_netns_exit();
err_conn:
	tp_conn_exit();
	return err;
}

void tp_tcp_exit(void)
{
	tp_read_exit();
	tp_in_exit();
	tp_tx_exit();
	tp_netns_exit();
	tp_conn_exit();
}
