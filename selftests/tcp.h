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

/* ---- injection: segments a peer never sent ---------------------------------- */

/*
 * The next sequence number @fd sends and the next it expects, read in
 * repair mode (CAP_NET_ADMIN); 0 or -1.
 */
static inline int tp_tcp_seqs(int fd, uint32_t *snd, uint32_t *rcv)
{
	int on = 1, off = 0, q;
	socklen_t len = sizeof(*snd);

	if (setsockopt(fd, IPPROTO_TCP, TCP_REPAIR, &on, sizeof(on)))
		return -1;
	q = TCP_SEND_QUEUE;
	if (setsockopt(fd, IPPROTO_TCP, TCP_REPAIR_QUEUE, &q, sizeof(q)) ||
	    getsockopt(fd, IPPROTO_TCP, TCP_QUEUE_SEQ, snd, &len))
		return -1;
	q = TCP_RECV_QUEUE;
	if (setsockopt(fd, IPPROTO_TCP, TCP_REPAIR_QUEUE, &q, sizeof(q)) ||
	    getsockopt(fd, IPPROTO_TCP, TCP_QUEUE_SEQ, rcv, &len))
		return -1;
	return setsockopt(fd, IPPROTO_TCP, TCP_REPAIR, &off, sizeof(off));
}

static inline uint16_t tp_tcp_csum(const void *buf, size_t len, uint32_t sum)
{
	const uint8_t *p = buf;

	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/*
 * Sends, from @fd's address to its peer's, a segment with @seq and @ack,
 * the TCP options @opts (padded with NOPs) and @len bytes of payload,
 * through a raw socket: as if @fd had sent it.  Returns 0 or -1.
 */
static inline int tp_tcp_inject(int fd, uint32_t seq, uint32_t ack, const uint8_t *opts,
				size_t optlen, const void *payload, size_t len)
{
	struct sockaddr_storage src, dst;
	socklen_t alen = sizeof(src);
	uint8_t seg[60 + 1500] = { 0 };
	size_t hlen = 20 + (optlen + 3) / 4 * 4;
	int family, raw, off = 16;
	uint32_t sum = 0;

	if (getsockname(fd, (struct sockaddr *)&src, &alen) ||
	    getpeername(fd, (struct sockaddr *)&dst, &alen) || hlen > 60 || len > 1500)
		return -1;
	family = src.ss_family;
	memset(seg + 20, 1, hlen - 20);
	memcpy(seg + 20, opts, optlen);
	memcpy(seg + hlen, payload, len);
	if (family == AF_INET) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&src;
		struct sockaddr_in *d4 = (struct sockaddr_in *)&dst;

		memcpy(seg, &s4->sin_port, 2);
		memcpy(seg + 2, &d4->sin_port, 2);
		sum = tp_tcp_csum(&s4->sin_addr, 4, 0) ^ 0xffff;
		sum += tp_tcp_csum(&d4->sin_addr, 4, 0) ^ 0xffff;
		sum += IPPROTO_TCP + hlen + len;
		d4->sin_port = 0;
	} else {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&src;
		struct sockaddr_in6 *d6 = (struct sockaddr_in6 *)&dst;

		memcpy(seg, &s6->sin6_port, 2);
		memcpy(seg + 2, &d6->sin6_port, 2);
		d6->sin6_port = 0;
	}
	seq = htonl(seq);
	ack = htonl(ack);
	memcpy(seg + 4, &seq, 4);
	memcpy(seg + 8, &ack, 4);
	seg[12] = (uint8_t)(hlen / 4 << 4);
	seg[13] = 0x18;				/* ACK PSH */
	seg[14] = 0xff;
	seg[15] = 0xff;
	raw = socket(family, SOCK_RAW, IPPROTO_TCP);
	if (raw < 0)
		return -1;
	if (family == AF_INET) {
		uint16_t c = htons(tp_tcp_csum(seg, hlen + len, sum));

		memcpy(seg + 16, &c, 2);
	} else if (setsockopt(raw, IPPROTO_IPV6, IPV6_CHECKSUM, &off, sizeof(off))) {
		close(raw);
		return -1;
	}
	off = sendto(raw, seg, hlen + len, 0, (struct sockaddr *)&dst, alen) < 0;
	close(raw);
	return off ? -1 : 0;
}

#endif /* TP_SELFTEST_TCP_H */
