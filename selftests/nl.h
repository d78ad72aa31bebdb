/* SPDX-License-Identifier: MIT */
/*
 * Raw generic netlink helpers for the tracingplane selftests.
 *
 * The tests talk to the module directly with libmnl rather than through
 * libtpctl, so that they can build any message, well-formed or not, and see
 * exactly what the kernel answered: the errno, the extack message
 * (NLMSGERR_ATTR_MSG), the offending attribute's offset and a missing
 * attribute's type.
 *
 * Baggage is shown as text so that assertions read naturally: atoms joined
 * by ',', the empty atom (the overflow marker) as "<>", and bytes that are
 * not printable, or are one of ",<>\", as \xNN.  The inverse, tp_atoms(),
 * builds serialized baggage from the same notation, in the order given
 * (so that tests can also build unsorted input).
 */
#ifndef TP_SELFTEST_NL_H
#define TP_SELFTEST_NL_H

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <libmnl/libmnl.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <linux/tracingplane.h>

/* Big enough for a GET reply of the largest baggage (65531 bytes). */
#define TPNL_BUFSZ	(128 * 1024)
/* Largest serialized baggage the tests build. */
#define TP_BAG_BUF	(70 * 1024)

enum tpnl_who { TPNL_SELF, TPNL_PID, TPNL_TID };

struct tpnl {
	struct mnl_socket *nl;
	uint16_t family;
	uint32_t seq;
	char *buf;
	/*
	 * Send with send(2), without a destination address.  The kernel then
	 * checks capabilities against the socket's opener as well as the
	 * sender (netlink_capable() skips the opener when the sender names
	 * a destination, as mnl_socket_sendto() always does).
	 */
	bool send_nodest;
};

/* What the kernel answered to one request. */
struct tpnl_reply {
	int err;			/* 0 or a negative errno */
	char msg[256];			/* extack message, "" if none */
	bool has_offs, has_miss;
	uint32_t offs;			/* NLMSGERR_ATTR_OFFS */
	uint32_t miss_type;		/* NLMSGERR_ATTR_MISS_TYPE */
	bool got_reply;			/* a message of the family came back */
	bool has_bag;			/* it carried TRACINGPLANE_A_BAGGAGE */
	size_t bag_len;
	uint8_t *bag;			/* malloc'd copy of the baggage */
	bool has_start_time;		/* TRACINGPLANE_A_START_TIME, 8 bytes */
	uint64_t start_time;
	/* STATUS */
	char version[64];
	bool has_max_bytes, has_mem_cap;
	uint32_t max_bytes;
	uint64_t mem_cap, live_bags, live_bytes, live_tasks, trims, alloc_fails;
	int nstatus;			/* STATUS attributes seen */
};

struct tp_status {
	char version[64];
	uint32_t max_bytes;
	uint64_t mem_cap, live_bags, live_bytes, live_tasks, trims, alloc_fails;
};

static inline void tpnl_reply_free(struct tpnl_reply *r)
{
	free(r->bag);
	r->bag = NULL;
}

/* Family id, resolved once per process tree (children inherit it). */
static uint16_t tpnl_family_cache;

static inline int tpnl_ctrl_attr_cb(const struct nlattr *attr, void *data)
{
	uint16_t *family = data;

	if (mnl_attr_get_type(attr) == CTRL_ATTR_FAMILY_ID &&
	    mnl_attr_get_payload_len(attr) >= 2)
		*family = mnl_attr_get_u16(attr);
	return MNL_CB_OK;
}

static inline int tpnl_ctrl_cb(const struct nlmsghdr *nlh, void *data)
{
	return mnl_attr_parse(nlh, sizeof(struct genlmsghdr), tpnl_ctrl_attr_cb, data);
}

static inline int tpnl_resolve(struct tpnl *t)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(t->buf);
	struct genlmsghdr *g;
	uint16_t family = 0;
	unsigned int portid = mnl_socket_get_portid(t->nl);
	uint32_t seq = ++t->seq;
	int ret;

	nlh->nlmsg_type = GENL_ID_CTRL;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	nlh->nlmsg_seq = seq;
	g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	g->cmd = CTRL_CMD_GETFAMILY;
	g->version = 1;
	mnl_attr_put_strz(nlh, CTRL_ATTR_FAMILY_NAME, TRACINGPLANE_GENL_NAME);
	if (mnl_socket_sendto(t->nl, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	do {
		ret = mnl_socket_recvfrom(t->nl, t->buf, TPNL_BUFSZ);
		if (ret < 0)
			return -errno;
		ret = mnl_cb_run(t->buf, ret, seq, portid, tpnl_ctrl_cb, &family);
	} while (ret > 0);
	if (ret < 0)
		return -errno;
	if (!family)
		return -ENOENT;
	tpnl_family_cache = family;
	return 0;
}

static inline void tpnl_close(struct tpnl *t)
{
	if (t->nl)
		mnl_socket_close(t->nl);
	free(t->buf);
	memset(t, 0, sizeof(*t));
}

/* Opens a socket of its own (never share one across processes). */
static inline int tpnl_open(struct tpnl *t)
{
	int one = 1, err;

	memset(t, 0, sizeof(*t));
	t->seq = (uint32_t)time(NULL) ^ ((uint32_t)getpid() << 8);
	t->buf = malloc(TPNL_BUFSZ);
	t->nl = mnl_socket_open(NETLINK_GENERIC);
	if (!t->buf || !t->nl)
		goto err;
	if (mnl_socket_setsockopt(t->nl, NETLINK_EXT_ACK, &one, sizeof(one)) ||
	    mnl_socket_setsockopt(t->nl, NETLINK_CAP_ACK, &one, sizeof(one)) ||
	    mnl_socket_bind(t->nl, 0, MNL_SOCKET_AUTOPID))
		goto err;
	if (tpnl_family_cache) {
		t->family = tpnl_family_cache;
		return 0;
	}
	err = tpnl_resolve(t);
	if (err) {
		tpnl_close(t);
		return err;
	}
	t->family = tpnl_family_cache;
	return 0;
err:
	err = -errno;
	tpnl_close(t);
	return err ? err : -ENOMEM;
}

/* A request header for @cmd in t->buf; attributes go after it. */
static inline struct nlmsghdr *tpnl_msg(struct tpnl *t, uint8_t cmd)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(t->buf);
	struct genlmsghdr *g;

	nlh->nlmsg_type = t->family;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	nlh->nlmsg_seq = ++t->seq;
	g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	g->cmd = cmd;
	g->version = TRACINGPLANE_GENL_VERSION;
	return nlh;
}

/* Appends raw bytes (hand-made attributes or garbage) to a request. */
static inline void tpnl_put_raw(struct nlmsghdr *nlh, const void *data, size_t len)
{
	memcpy((char *)nlh + nlh->nlmsg_len, data, len);
	nlh->nlmsg_len += len;
}

/* Appends one attribute whose payload is exactly @len bytes. */
static inline void tpnl_put_attr(struct nlmsghdr *nlh, uint16_t type, const void *data, size_t len)
{
	mnl_attr_put(nlh, type, len, data);
}

static inline void tpnl_put_who(struct nlmsghdr *nlh, enum tpnl_who who, pid_t id)
{
	if (who == TPNL_PID)
		mnl_attr_put_u32(nlh, TRACINGPLANE_A_PID, (uint32_t)id);
	else if (who == TPNL_TID)
		mnl_attr_put_u32(nlh, TRACINGPLANE_A_TID, (uint32_t)id);
}

static inline int tpnl_ext_cb(const struct nlattr *attr, void *data)
{
	struct tpnl_reply *r = data;
	uint16_t type = mnl_attr_get_type(attr);
	size_t len = mnl_attr_get_payload_len(attr);

	if (type == NLMSGERR_ATTR_MSG && len > 0) {
		size_t n = len < sizeof(r->msg) ? len : sizeof(r->msg) - 1;

		memcpy(r->msg, mnl_attr_get_payload(attr), n);
		r->msg[n] = '\0';
	} else if (type == NLMSGERR_ATTR_OFFS && len == 4) {
		r->has_offs = true;
		r->offs = mnl_attr_get_u32(attr);
	} else if (type == NLMSGERR_ATTR_MISS_TYPE && len == 4) {
		r->has_miss = true;
		r->miss_type = mnl_attr_get_u32(attr);
	}
	return MNL_CB_OK;
}

static inline uint64_t tpnl_u64(const struct nlattr *attr)
{
	uint64_t v;

	memcpy(&v, mnl_attr_get_payload(attr), sizeof(v));
	return v;
}

static inline int tpnl_attr_cb(const struct nlattr *attr, void *data)
{
	struct tpnl_reply *r = data;
	size_t len = mnl_attr_get_payload_len(attr);
	const void *p = mnl_attr_get_payload(attr);

	switch (mnl_attr_get_type(attr)) {
	case TRACINGPLANE_A_BAGGAGE:
		free(r->bag);
		r->bag = malloc(len ? len : 1);
		if (r->bag)
			memcpy(r->bag, p, len);
		r->bag_len = len;
		r->has_bag = true;
		break;
	case TRACINGPLANE_A_START_TIME:
		if (len == 8) {
			r->start_time = tpnl_u64(attr);
			r->has_start_time = true;
		}
		break;
	case TRACINGPLANE_A_STATUS_VERSION:
		snprintf(r->version, sizeof(r->version), "%.*s", (int)len, (const char *)p);
		r->nstatus++;
		break;
	case TRACINGPLANE_A_STATUS_MAX_BYTES:
		if (len == 4) {
			r->max_bytes = mnl_attr_get_u32(attr);
			r->has_max_bytes = true;
			r->nstatus++;
		}
		break;
#define TPNL_U64(ATTR, field)					\
	case ATTR:						\
		if (len == 8) {					\
			r->field = tpnl_u64(attr);		\
			r->nstatus++;				\
		}						\
		break
	TPNL_U64(TRACINGPLANE_A_STATUS_LIVE_BAGS, live_bags);
	TPNL_U64(TRACINGPLANE_A_STATUS_LIVE_BYTES, live_bytes);
	TPNL_U64(TRACINGPLANE_A_STATUS_LIVE_TASKS, live_tasks);
	TPNL_U64(TRACINGPLANE_A_STATUS_TRIMS, trims);
	TPNL_U64(TRACINGPLANE_A_STATUS_ALLOC_FAILS, alloc_fails);
#undef TPNL_U64
	case TRACINGPLANE_A_STATUS_MEM_CAP:
		if (len == 8) {
			r->mem_cap = tpnl_u64(attr);
			r->has_mem_cap = true;
			r->nstatus++;
		}
		break;
	}
	return MNL_CB_OK;
}

/*
 * Sends the request in t->buf and collects the answer into @r (which the
 * caller frees with tpnl_reply_free()).  Returns r->err, or a negative
 * errno of the socket itself (then r->err is -EIO).
 */
static inline int tpnl_xfer(struct tpnl *t, struct nlmsghdr *nlh, struct tpnl_reply *r)
{
	unsigned int portid = mnl_socket_get_portid(t->nl);
	uint32_t seq = nlh->nlmsg_seq;

	memset(r, 0, sizeof(*r));
	r->err = -EIO;
	if (t->send_nodest) {
		if (send(mnl_socket_get_fd(t->nl), nlh, nlh->nlmsg_len, 0) < 0)
			return -errno;
	} else if (mnl_socket_sendto(t->nl, nlh, nlh->nlmsg_len) < 0) {
		return -errno;
	}
	for (;;) {
		int n = mnl_socket_recvfrom(t->nl, t->buf, TPNL_BUFSZ);
		const struct nlmsghdr *h;

		if (n < 0)
			return -errno;
		for (h = (const struct nlmsghdr *)t->buf; mnl_nlmsg_ok(h, n);
		     h = mnl_nlmsg_next(h, &n)) {
			if (h->nlmsg_seq != seq || h->nlmsg_pid != portid)
				continue;
			if (h->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *e = mnl_nlmsg_get_payload(h);
				size_t off = sizeof(*e);

				r->err = e->error;
				if (h->nlmsg_flags & NLM_F_ACK_TLVS) {
					if (!(h->nlmsg_flags & NLM_F_CAPPED))
						off += e->msg.nlmsg_len - sizeof(struct nlmsghdr);
					mnl_attr_parse(h, off, tpnl_ext_cb, r);
				}
				return r->err;
			}
			if (h->nlmsg_type == t->family) {
				r->got_reply = true;
				mnl_attr_parse(h, sizeof(struct genlmsghdr), tpnl_attr_cb, r);
			}
		}
	}
}

/* ---- well-formed requests ------------------------------------------------ */

/* GET into @out (malloc'd, NULL when empty) / @len.  Returns 0 or -errno. */
static inline int tpnl_get(struct tpnl *t, enum tpnl_who who, pid_t id,
			   uint8_t **out, size_t *len, struct tpnl_reply *rep)
{
	struct nlmsghdr *nlh = tpnl_msg(t, TRACINGPLANE_CMD_GET);
	struct tpnl_reply r, *rp = rep ? rep : &r;
	int err;

	tpnl_put_who(nlh, who, id);
	err = tpnl_xfer(t, nlh, rp);
	if (!err) {
		*out = rp->bag;
		*len = rp->bag_len;
		rp->bag = NULL;
	}
	tpnl_reply_free(rp);
	return err;
}

static inline int tpnl_write(struct tpnl *t, uint8_t cmd, enum tpnl_who who, pid_t id,
			     const void *bag, size_t len, struct tpnl_reply *rep)
{
	struct nlmsghdr *nlh = tpnl_msg(t, cmd);
	struct tpnl_reply r, *rp = rep ? rep : &r;
	int err;

	tpnl_put_who(nlh, who, id);
	if (cmd != TRACINGPLANE_CMD_CLEAR)
		tpnl_put_attr(nlh, TRACINGPLANE_A_BAGGAGE, bag, len);
	err = tpnl_xfer(t, nlh, rp);
	tpnl_reply_free(rp);
	return err;
}

static inline int tpnl_set(struct tpnl *t, enum tpnl_who who, pid_t id, const void *bag, size_t len)
{
	return tpnl_write(t, TRACINGPLANE_CMD_SET, who, id, bag, len, NULL);
}

static inline int tpnl_merge(struct tpnl *t, enum tpnl_who who, pid_t id, const void *bag, size_t len)
{
	return tpnl_write(t, TRACINGPLANE_CMD_MERGE, who, id, bag, len, NULL);
}

static inline int tpnl_clear(struct tpnl *t, enum tpnl_who who, pid_t id)
{
	return tpnl_write(t, TRACINGPLANE_CMD_CLEAR, who, id, NULL, 0, NULL);
}

static inline int tpnl_status(struct tpnl *t, struct tp_status *st)
{
	struct nlmsghdr *nlh = tpnl_msg(t, TRACINGPLANE_CMD_STATUS);
	struct tpnl_reply r;
	int err = tpnl_xfer(t, nlh, &r);

	tpnl_reply_free(&r);
	if (err)
		return err;
	if (r.nstatus != 8)
		return -EPROTO;
	memcpy(st->version, r.version, sizeof(st->version));
	st->max_bytes = r.max_bytes;
	st->mem_cap = r.mem_cap;
	st->live_bags = r.live_bags;
	st->live_bytes = r.live_bytes;
	st->live_tasks = r.live_tasks;
	st->trims = r.trims;
	st->alloc_fails = r.alloc_fails;
	return 0;
}

/* ---- baggage <-> text ------------------------------------------------------ */

/*
 * Checks that @buf is canonical serialized baggage (every varint minimal,
 * every length in bounds, atoms strictly increasing); independent of the
 * module's and libtpctl's own code.  Returns the atom count or -1.
 */
static inline long tp_validate(const uint8_t *buf, size_t len)
{
	const uint8_t *prev = NULL;
	size_t pos = 0, prevlen = 0;
	long n = 0;

	while (pos < len) {
		uint64_t v = 0;
		unsigned int shift = 0;
		size_t start = pos;
		uint8_t c;

		do {
			if (pos >= len || shift > 28)
				return -1;
			c = buf[pos++];
			v |= (uint64_t)(c & 0x7f) << shift;
			shift += 7;
		} while (c & 0x80);
		if (pos - start > 1 && c == 0)		/* non-canonical */
			return -1;
		if (v > len - pos)
			return -1;
		if (prev) {
			size_t m = prevlen < v ? prevlen : v;
			int cmp = memcmp(prev, buf + pos, m);

			if (cmp > 0 || (cmp == 0 && prevlen >= v))
				return -1;
		}
		prev = buf + pos;
		prevlen = v;
		pos += v;
		n++;
	}
	return n;
}

/* Renders serialized baggage as text (see the top of this file). */
static inline void tp_render(const uint8_t *buf, size_t len, char *out, size_t cap)
{
	size_t pos = 0, o = 0;
	bool first = true;

#define TP_PUT(...) do {						\
		int w_ = snprintf(out + o, o < cap ? cap - o : 0, __VA_ARGS__); \
		if (w_ > 0)						\
			o += (size_t)w_;				\
	} while (0)
	if (cap)
		out[0] = '\0';
	if (tp_validate(buf, len) < 0) {
		TP_PUT("<invalid:%zu bytes>", len);
		return;
	}
	while (pos < len) {
		uint32_t v = 0;
		unsigned int shift = 0;
		uint8_t c;

		do {
			c = buf[pos++];
			v |= (uint32_t)(c & 0x7f) << shift;
			shift += 7;
		} while (c & 0x80);
		if (!first)
			TP_PUT(",");
		first = false;
		if (!v)
			TP_PUT("<>");
		for (uint32_t i = 0; i < v; i++) {
			uint8_t b = buf[pos + i];

			if (b < 0x21 || b > 0x7e || strchr(",<>\\", b))
				TP_PUT("\\x%02x", b);
			else
				TP_PUT("%c", b);
		}
		pos += v;
	}
#undef TP_PUT
	if (cap && o >= cap)
		out[cap - 1] = '\0';
}

static inline size_t tp_varint(uint8_t *out, uint32_t v)
{
	size_t n = 0;

	do {
		uint8_t c = v & 0x7f;

		v >>= 7;
		out[n++] = c | (v ? 0x80 : 0);
	} while (v);
	return n;
}

/* Appends one atom of @len bytes to @out at *@pos. */
static inline void tp_put_atom(uint8_t *out, size_t *pos, const void *atom, size_t len)
{
	*pos += tp_varint(out + *pos, (uint32_t)len);
	memcpy(out + *pos, atom, len);
	*pos += len;
}

/*
 * Serializes the text notation, atoms kept in the order given: "a,b" is
 * two atoms, "<>" the empty atom, "\xNN" a byte, "" no atom at all.
 */
static inline size_t tp_atoms(uint8_t *out, const char *text)
{
	size_t pos = 0;
	const char *p = text;

	while (*p) {
		uint8_t atom[512];
		size_t n = 0;

		while (*p && *p != ',') {
			if (!strncmp(p, "<>", 2)) {
				p += 2;
			} else if (p[0] == '\\' && p[1] == 'x') {
				char hex[3] = { p[2], p[3], 0 };

				atom[n++] = (uint8_t)strtoul(hex, NULL, 16);
				p += 4;
			} else {
				atom[n++] = (uint8_t)*p++;
			}
		}
		tp_put_atom(out, &pos, atom, n);
		if (*p == ',')
			p++;
	}
	return pos;
}

/* Reads a task's baggage as text; returns 0 or -errno (then @out is ""). */
static inline int tpnl_get_text(struct tpnl *t, enum tpnl_who who, pid_t id, char *out, size_t cap)
{
	uint8_t *bag = NULL;
	size_t len = 0;
	int err = tpnl_get(t, who, id, &bag, &len, NULL);

	if (err) {
		snprintf(out, cap, "<error %d>", err);
	} else {
		tp_render(bag, len, out, cap);
		if (bag && !len)
			snprintf(out, cap, "<present but empty>");
	}
	free(bag);
	return err;
}

/*
 * Sets a task's read policy (TRACINGPLANE_READ_*): what reading a pipe,
 * FIFO or socket does to its baggage.  Suites whose control pipes link
 * tasks with different baggage use TRACINGPLANE_READ_IGNORE, so that
 * their own plumbing does not change what they compare.
 */
static inline int tpnl_set_read_policy(struct tpnl *t, enum tpnl_who who, pid_t id,
				       uint8_t policy)
{
	struct nlmsghdr *nlh = tpnl_msg(t, TRACINGPLANE_CMD_SET_READ_POLICY);
	struct tpnl_reply r;
	int err;

	tpnl_put_who(nlh, who, id);
	mnl_attr_put_u8(nlh, TRACINGPLANE_A_READ_POLICY, policy);
	err = tpnl_xfer(t, nlh, &r);
	tpnl_reply_free(&r);
	return err;
}

/* Sets a task's baggage from the text notation. */
static inline int tpnl_set_text(struct tpnl *t, enum tpnl_who who, pid_t id, const char *text)
{
	uint8_t buf[4096];

	return tpnl_set(t, who, id, buf, tp_atoms(buf, text));
}

static inline int tpnl_merge_text(struct tpnl *t, enum tpnl_who who, pid_t id, const char *text)
{
	uint8_t buf[4096];

	return tpnl_merge(t, who, id, buf, tp_atoms(buf, text));
}

/*
 * One-shot helpers for children: open a socket, do one thing, close it.
 * They return 0 or -errno.
 */
static inline int tp_self_text(char *out, size_t cap)
{
	struct tpnl t;
	int err = tpnl_open(&t);

	if (err) {
		snprintf(out, cap, "<open error %d>", err);
		return err;
	}
	err = tpnl_get_text(&t, TPNL_SELF, 0, out, cap);
	tpnl_close(&t);
	return err;
}

static inline int tp_self_op(uint8_t cmd, const char *text)
{
	uint8_t buf[4096];
	struct tpnl t;
	int err = tpnl_open(&t);

	if (err)
		return err;
	err = tpnl_write(&t, cmd, TPNL_SELF, 0, buf, text ? tp_atoms(buf, text) : 0, NULL);
	tpnl_close(&t);
	return err;
}

/*
 * Every wait in the selftests is a deadline on the monotonic clock, not a
 * count of turns: under TCG on a loaded host one turn of a polling loop can
 * take far longer than its sleep.
 */
static inline uint64_t tp_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/* The monotonic time @seconds from now. */
static inline uint64_t tp_deadline(int seconds)
{
	return tp_now_ns() + seconds * 1000000000ULL;
}

static inline bool tp_expired(uint64_t deadline)
{
	return tp_now_ns() >= deadline;
}

/*
 * Waits until no task holds baggage and no blob is alive (the free probe
 * and RCU callbacks run after a task is reaped).  Polls for at most
 * @seconds; returns 0 when quiescent, else -ETIMEDOUT with *st the last
 * status seen.
 */
static inline int tpnl_wait_quiescent(struct tpnl *t, struct tp_status *st, int seconds)
{
	uint64_t deadline = tp_deadline(seconds);

	for (;;) {
		int err = tpnl_status(t, st);

		if (err)
			return err;
		if (!st->live_tasks && !st->live_bags && !st->live_bytes)
			return 0;
		if (tp_expired(deadline))
			return -ETIMEDOUT;
		usleep(10000);
	}
}

/* Reads a module parameter from sysfs; -1 if unreadable. */
static inline long long tp_param(const char *name)
{
	char path[128];
	long long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/sys/module/tracingplane/parameters/%s", name);
	f = fopen(path, "r");
	if (!f)
		return -1;
	if (fscanf(f, "%lld", &v) != 1)
		v = -1;
	fclose(f);
	return v;
}

/* Writes a module parameter; returns 0 or -errno. */
static inline int tp_param_write(const char *name, const char *val)
{
	char path[128];
	ssize_t n;
	int fd, err = 0;

	snprintf(path, sizeof(path), "/sys/module/tracingplane/parameters/%s", name);
	fd = open(path, O_WRONLY);
	if (fd < 0)
		return -errno;
	n = write(fd, val, strlen(val));
	if (n < 0)
		err = -errno;
	close(fd);
	return err;
}

#endif /* TP_SELFTEST_NL_H */
