/* SPDX-License-Identifier: MIT */
/*
 * Helpers of the TCP selftests (selftests/tcp.c, selftests/tcp_topo.sh):
 * the TCP counters of STATUS, the per-namespace switch, and connected
 * socket pairs over loopback.
 */
#ifndef TP_SELFTEST_TCP_H
#define TP_SELFTEST_TCP_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/ioctl.h>

#include "proc.h"

/* The TCP part of a STATUS reply. */
struct tp_tcp_status {
	int net_enabled;		/* -1: attribute absent */
	uint64_t negotiated, opts_sent, opts_rcvd, bytes_sent, splits;
	uint64_t trims, malformed, overflows, live_conns;
	uint64_t live_bags, live_bytes;
};

static inline int tp_tcp_status_attr(const struct nlattr *attr, void *data)
{
	struct tp_tcp_status *st = data;
	size_t len = mnl_attr_get_payload_len(attr);
	uint64_t v = 0;

	if (mnl_attr_get_type(attr) == TRACINGPLANE_A_NET_ENABLED && len == 1) {
		st->net_enabled = mnl_attr_get_u8(attr);
		return MNL_CB_OK;
	}
	if (len != 8)
		return MNL_CB_OK;
	memcpy(&v, mnl_attr_get_payload(attr), 8);
	switch (mnl_attr_get_type(attr)) {
#define TP_TCP_FIELD(ATTR, f) case ATTR: st->f = v; break
	TP_TCP_FIELD(TRACINGPLANE_A_STATUS_TCP_NEGOTIATED, negotiated);
	TP_TCP_FIELD(TRACINGPLANE_A_STATUS_TCP_OPTS_SENT, opts_sent);
	TP_TCP_FIELD(TRACINGPLANE_A_STATUS_TCP_OPTS_RCVD, opts_rcvd);
	TP_TCP_FIELD(TRACINGPLANE_A_STATUS_TCP_BYTES_SENT, bytes_sent);
	TP_TCP_FIELD(TRACINGPLANE_A_STATUS_TCP_SPLITS, splits);
	TP_TCP_FIELD(TRACINGPLANE_A_STATUS_TCP_TRIMS, trims);
	TP_TCP_FIELD(TRACINGPLANE_A_STATUS_TCP_MALFORMED, malformed);
	TP_TCP_FIELD(TRACINGPLANE_A_STATUS_TCP_OVERFLOWS, overflows);
	TP_TCP_FIELD(TRACINGPLANE_A_STATUS_TCP_LIVE_CONNS, live_conns);
	TP_TCP_FIELD(TRACINGPLANE_A_STATUS_LIVE_BAGS, live_bags);
	TP_TCP_FIELD(TRACINGPLANE_A_STATUS_LIVE_BYTES, live_bytes);
#undef TP_TCP_FIELD
	}
	return MNL_CB_OK;
}

static inline int tp_tcp_status_cb(const struct nlmsghdr *nlh, void *data)
{
	return mnl_attr_parse(nlh, sizeof(struct genlmsghdr), tp_tcp_status_attr, data);
}

/* Sends the request in t->buf and runs @cb on the answer. */
static inline int tp_tcp_xfer(struct tpnl *t, struct nlmsghdr *nlh, mnl_cb_t cb, void *data)
{
	unsigned int portid = mnl_socket_get_portid(t->nl);
	uint32_t seq = nlh->nlmsg_seq;
	int n;

	if (mnl_socket_sendto(t->nl, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	do {
		n = mnl_socket_recvfrom(t->nl, t->buf, TPNL_BUFSZ);
		if (n < 0)
			return -errno;
		n = mnl_cb_run(t->buf, n, seq, portid, cb, data);
	} while (n > 0);
	return n < 0 ? -errno : 0;
}

static inline int tp_tcp_status(struct tp_tcp_status *st)
{
	struct tpnl t;
	int err = tpnl_open(&t);

	memset(st, 0, sizeof(*st));
	st->net_enabled = -1;
	if (err)
		return err;
	err = tp_tcp_xfer(&t, tpnl_msg(&t, TRACINGPLANE_CMD_STATUS), tp_tcp_status_cb, st);
	tpnl_close(&t);
	return err;
}

/* Switches baggage over TCP in the caller's network namespace. */
static inline int tp_tcp_net_set(int on)
{
	struct nlmsghdr *nlh;
	struct tpnl t;
	int err = tpnl_open(&t);

	if (err)
		return err;
	nlh = tpnl_msg(&t, TRACINGPLANE_CMD_NET_SET);
	mnl_attr_put_u8(nlh, TRACINGPLANE_A_NET_ENABLED, (uint8_t)on);
	err = tp_tcp_xfer(&t, nlh, NULL, NULL);
	tpnl_close(&t);
	return err;
}

static inline void tp_tcp_status_print(FILE *f, const struct tp_tcp_status *st)
{
	fprintf(f, "net_enabled=%d negotiated=%llu opts_sent=%llu opts_rcvd=%llu "
		"bytes_sent=%llu splits=%llu trims=%llu malformed=%llu overflows=%llu "
		"live_conns=%llu live_bags=%llu live_bytes=%llu\n",
		st->net_enabled, (unsigned long long)st->negotiated,
		(unsigned long long)st->opts_sent, (unsigned long long)st->opts_rcvd,
		(unsigned long long)st->bytes_sent, (unsigned long long)st->splits,
		(unsigned long long)st->trims, (unsigned long long)st->malformed,
		(unsigned long long)st->overflows, (unsigned long long)st->live_conns,
		(unsigned long long)st->live_bags, (unsigned long long)st->live_bytes);
}

/* ---- sockets ------------------------------------------------------------- */

/* A listening socket on the loopback address of @family, any port. */
static inline int tp_tcp_listen(int family, struct sockaddr_storage *addr, socklen_t *alen)
{
	int one = 1, fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);

	memset(addr, 0, sizeof(*addr));
	if (family == AF_INET6) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)addr;

		a->sin6_family = AF_INET6;
		a->sin6_addr = in6addr_loopback;
		*alen = sizeof(*a);
	} else {
		struct sockaddr_in *a = (struct sockaddr_in *)addr;

		a->sin_family = AF_INET;
		a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		*alen = sizeof(*a);
	}
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(fd, (struct sockaddr *)addr, *alen) || listen(fd, 16) ||
	    getsockname(fd, (struct sockaddr *)addr, alen)) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

/* A connected pair over loopback: *@cli and *@srv; returns 0 or -1. */
static inline int tp_tcp_pair(int family, int *cli, int *srv)
{
	struct sockaddr_storage addr;
	socklen_t alen;
	int lfd = tp_tcp_listen(family, &addr, &alen);

	*cli = *srv = -1;
	if (lfd < 0)
		return -1;
	*cli = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (*cli >= 0 && !connect(*cli, (struct sockaddr *)&addr, alen))
		*srv = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	close(lfd);
	if (*srv < 0) {
		if (*cli >= 0)
			close(*cli);
		*cli = -1;
		return -1;
	}
	return 0;
}

/* Bytes waiting to be read on @fd. */
static inline int tp_tcp_inq(int fd)
{
	int n = 0;

	return ioctl(fd, FIONREAD, &n) ? -1 : n;
}

/*
 * Waits until @fd holds at least @len unread bytes, so that one read takes
 * them all at once: the test then knows exactly which bytes it consumed.
 * Polls; no time limit (the harness has one).
 */
static inline int tp_tcp_wait_inq(int fd, int len)
{
	int n;

	while ((n = tp_tcp_inq(fd)) >= 0 && n < len)
		usleep(1000);
	return n < 0 ? -1 : 0;
}

#endif /* TP_SELFTEST_TCP_H */
