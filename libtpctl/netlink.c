// SPDX-License-Identifier: MIT
/*
 * libtpctl's kernel interface: a libmnl client of the generic netlink
 * family "tracingplane" (include/uapi/linux/tracingplane.h,
 * Documentation/netlink.rst).
 *
 * Every request asks for an ack, so that each one ends with exactly one
 * NLMSG_ERROR (0 or an errno) carrying the kernel's extack message when it
 * failed; that message becomes the handle's error message.
 */

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <libmnl/libmnl.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <linux/tracingplane.h>

#include "tpctl.h"

/* The most one netlink attribute can carry: its length field is 16 bits. */
#define TPCTL_ATTR_MAX_PAYLOAD	(UINT16_MAX - NLA_HDRLEN)
/*
 * Requests and replies carry at most one full attribute plus a few small
 * ones and the headers; a GET reply of the largest baggage must fit in one
 * receive, or it would be truncated (libmnl's default of 8 KiB is too small).
 */
#define TPCTL_BUF_SIZE		(TPCTL_ATTR_MAX_PAYLOAD + 8192)

struct tpctl {
	struct mnl_socket *nl;
	uint32_t portid;
	uint32_t seq;
	uint16_t family;
	char *req;		/* the request being sent, kept to decode extack offsets */
	char *resp;
	char errmsg[512];
	bool exact;		/* SET and MERGE refuse rather than trim */
	/* tpctl_pin(): requests naming pin_who/pin_id carry its start time */
	enum tpctl_who pin_who;	/* TPCTL_SELF: no pin */
	pid_t pin_id;
	uint64_t pin_start;
};

/* One request and how to read the attributes of its reply. */
struct tpctl_txn {
	struct tpctl *h;
	const struct nlmsghdr *req;
	/* Called for every attribute of a reply; returns 0 or a negative errno. */
	int (*parse_attr)(struct tpctl *h, const struct nlattr *attr, void *arg);
	void *arg;
	int err;		/* first error seen: negative errno */
};

static int tpctl_fail(struct tpctl *h, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Records @err with a message and returns it, for `return tpctl_fail(...)`. */
static int tpctl_fail(struct tpctl *h, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(h->errmsg, sizeof(h->errmsg), fmt, ap);
	va_end(ap);
	return err;
}

static int tpctl_fail_errno(struct tpctl *h, int err)
{
	return tpctl_fail(h, err, "%s", strerror(-err));
}

const char *tpctl_errmsg(const struct tpctl *h)
{
	return h->errmsg;
}

static struct nlmsghdr *tpctl_msg_start(struct tpctl *h, uint16_t family,
					uint8_t cmd, uint8_t version)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(h->req);
	struct genlmsghdr *genl;

	nlh->nlmsg_type = family;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	nlh->nlmsg_seq = ++h->seq;
	genl = mnl_nlmsg_put_extra_header(nlh, sizeof(*genl));
	genl->cmd = cmd;
	genl->version = version;
	return nlh;
}

static const char *tpctl_attr_name(uint16_t type)
{
	switch (type) {
	case TRACINGPLANE_A_PID:
		return "pid";
	case TRACINGPLANE_A_TID:
		return "tid";
	case TRACINGPLANE_A_BAGGAGE:
		return "baggage";
	case TRACINGPLANE_A_READ_POLICY:
		return "read_policy";
	case TRACINGPLANE_A_START_TIME:
		return "start_time";
	default:
		return NULL;
	}
}

/*
 * The name of the request attribute at @offs (an NLMSGERR_ATTR_OFFS), or
 * NULL.  The module's own messages already start with that name; the
 * netlink core's ("Unknown attribute type") do not, so it is added.
 */
static const char *tpctl_blamed_attr(const struct nlmsghdr *req, uint32_t offs)
{
	const struct nlattr *attr;

	if (offs < mnl_nlmsg_size(sizeof(struct genlmsghdr)) ||
	    offs > req->nlmsg_len - sizeof(*attr))
		return NULL;
	attr = (const struct nlattr *)((const char *)req + offs);
	return tpctl_attr_name(mnl_attr_get_type(attr));
}

struct tpctl_extack {
	const char *msg;
	uint32_t offs;
	bool has_offs;
};

static int tpctl_extack_attr(const struct nlattr *attr, void *data)
{
	struct tpctl_extack *ext = data;

	switch (mnl_attr_get_type(attr)) {
	case NLMSGERR_ATTR_MSG:
		if (mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) == 0)
			ext->msg = mnl_attr_get_str(attr);
		break;
	case NLMSGERR_ATTR_OFFS:
		if (mnl_attr_validate(attr, MNL_TYPE_U32) == 0) {
			ext->offs = mnl_attr_get_u32(attr);
			ext->has_offs = true;
		}
		break;
	}
	return MNL_CB_OK;
}

/* Makes the kernel's extack message, if any, the handle's error message. */
static void tpctl_take_extack(struct tpctl_txn *txn, const struct nlmsghdr *nlh,
			      const struct nlmsgerr *e)
{
	struct tpctl_extack ext = { 0 };
	unsigned int offset = sizeof(*e);
	const char *name;

	tpctl_fail_errno(txn->h, txn->err);
	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS))
		return;
	/* Without NLM_F_CAPPED the request's payload is echoed first. */
	if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
		offset += e->msg.nlmsg_len - sizeof(struct nlmsghdr);
	if (mnl_attr_parse(nlh, offset, tpctl_extack_attr, &ext) < 0 || !ext.msg)
		return;

	name = ext.has_offs ? tpctl_blamed_attr(txn->req, ext.offs) : NULL;
	if (name && strncmp(ext.msg, name, strlen(name)) != 0)
		tpctl_fail(txn->h, txn->err, "%s: %s", name, ext.msg);
	else
		tpctl_fail(txn->h, txn->err, "%s", ext.msg);
}

static int tpctl_on_error(const struct nlmsghdr *nlh, void *data)
{
	struct tpctl_txn *txn = data;
	const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);

	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(*e)) {
		txn->err = tpctl_fail(txn->h, -EBADMSG, "truncated netlink error message");
		return MNL_CB_ERROR;
	}
	if (e->error == 0)
		return MNL_CB_STOP;	/* the ack: the request succeeded */
	txn->err = e->error < 0 ? e->error : -e->error;
	tpctl_take_extack(txn, nlh, e);
	return MNL_CB_ERROR;
}

static int tpctl_on_reply_attr(const struct nlattr *attr, void *data)
{
	struct tpctl_txn *txn = data;
	int err = txn->parse_attr(txn->h, attr, txn->arg);

	if (err && !txn->err)
		txn->err = err;
	return MNL_CB_OK;
}

/*
 * A reply that cannot be read is an error, but the ack that follows it is
 * still consumed so that the next request does not see it.
 */
static int tpctl_on_reply(const struct nlmsghdr *nlh, void *data)
{
	struct tpctl_txn *txn = data;

	if (!txn->parse_attr)
		return MNL_CB_OK;
	if (mnl_attr_parse(nlh, sizeof(struct genlmsghdr), tpctl_on_reply_attr, txn) < 0 &&
	    !txn->err)
		txn->err = tpctl_fail(txn->h, -EBADMSG, "malformed reply from the kernel");
	return MNL_CB_OK;
}

/* Not const only because mnl_cb_run2() takes a non-const array. */
static mnl_cb_t tpctl_ctl_cbs[NLMSG_MIN_TYPE] = {
	[NLMSG_ERROR] = tpctl_on_error,
};

/* Sends the request in h->req and reads replies up to its ack. */
static int tpctl_transact(struct tpctl_txn *txn)
{
	struct tpctl *h = txn->h;
	const struct nlmsghdr *req = txn->req;
	ssize_t n;
	int ret;

	if (mnl_socket_sendto(h->nl, req, req->nlmsg_len) < 0)
		return tpctl_fail_errno(h, -errno);
	do {
		n = mnl_socket_recvfrom(h->nl, h->resp, TPCTL_BUF_SIZE);
		if (n < 0)
			return tpctl_fail_errno(h, -errno);
		ret = mnl_cb_run2(h->resp, n, req->nlmsg_seq, h->portid, tpctl_on_reply, txn,
				  tpctl_ctl_cbs, MNL_ARRAY_SIZE(tpctl_ctl_cbs));
	} while (ret == MNL_CB_OK);

	if (txn->err)
		return txn->err;
	if (ret == MNL_CB_ERROR)	/* libmnl's own checks (seq, portid, length) */
		return tpctl_fail_errno(h, -errno);
	return 0;
}

static int tpctl_family_attr(struct tpctl *h, const struct nlattr *attr, void *arg)
{
	uint16_t *family = arg;

	if (mnl_attr_get_type(attr) != CTRL_ATTR_FAMILY_ID)
		return 0;
	if (mnl_attr_validate(attr, MNL_TYPE_U16) < 0)
		return tpctl_fail(h, -EBADMSG, "malformed family id from the kernel");
	*family = mnl_attr_get_u16(attr);
	return 0;
}

/* The family's id; -ENOENT when the module is not loaded. */
static int tpctl_resolve_family(struct tpctl *h)
{
	struct nlmsghdr *nlh = tpctl_msg_start(h, GENL_ID_CTRL, CTRL_CMD_GETFAMILY, 1);
	struct tpctl_txn txn = {
		.h = h, .req = nlh, .parse_attr = tpctl_family_attr, .arg = &h->family,
	};
	int err;

	mnl_attr_put_strz(nlh, CTRL_ATTR_FAMILY_NAME, TRACINGPLANE_GENL_NAME);
	err = tpctl_transact(&txn);
	if (err)
		return err;
	if (!h->family)
		return tpctl_fail(h, -EBADMSG, "the kernel's family reply has no id");
	return 0;
}

static int tpctl_socket_setup(struct tpctl *h)
{
	int one = 1;

	h->nl = mnl_socket_open(NETLINK_GENERIC);
	if (!h->nl)
		return -errno;
	/* Extack messages in errors, without an echo of the request. */
	if (mnl_socket_setsockopt(h->nl, NETLINK_EXT_ACK, &one, sizeof(one)) < 0 ||
	    mnl_socket_setsockopt(h->nl, NETLINK_CAP_ACK, &one, sizeof(one)) < 0 ||
	    mnl_socket_bind(h->nl, 0, MNL_SOCKET_AUTOPID) < 0)
		return -errno;
	h->portid = mnl_socket_get_portid(h->nl);
	return 0;
}

struct tpctl *tpctl_open(void)
{
	struct tpctl *h = calloc(1, sizeof(*h));
	int err;

	if (!h)
		return NULL;
	h->req = malloc(TPCTL_BUF_SIZE);
	h->resp = malloc(TPCTL_BUF_SIZE);
	err = h->req && h->resp ? 0 : -ENOMEM;
	if (!err)
		err = tpctl_socket_setup(h);
	if (!err)
		err = tpctl_resolve_family(h);
	if (err) {
		tpctl_close(h);
		errno = -err;
		return NULL;
	}
	snprintf(h->errmsg, sizeof(h->errmsg), "%s", "no error");
	return h;
}

void tpctl_close(struct tpctl *h)
{
	if (!h)
		return;
	if (h->nl)
		mnl_socket_close(h->nl);
	free(h->req);
	free(h->resp);
	free(h);
}

/* Starts a request of the family for @cmd aimed at @who/@id. */
static int tpctl_request(struct tpctl *h, uint8_t cmd, enum tpctl_who who, pid_t id,
			 struct nlmsghdr **out)
{
	uint16_t type;

	switch (who) {
	case TPCTL_SELF:
		if (id)
			return tpctl_fail(h, -EINVAL,
					  "self: %ld is not an id of the caller: give 0",
					  (long)id);
		*out = tpctl_msg_start(h, h->family, cmd, TRACINGPLANE_GENL_VERSION);
		return 0;
	case TPCTL_PID:
		type = TRACINGPLANE_A_PID;
		break;
	case TPCTL_TID:
		type = TRACINGPLANE_A_TID;
		break;
	default:
		return tpctl_fail(h, -EINVAL, "unknown kind of target %d", (int)who);
	}
	if (id <= 0)
		return tpctl_fail(h, -EINVAL, "%s: %ld is not a valid id: ids are positive",
				  tpctl_attr_name(type), (long)id);
	*out = tpctl_msg_start(h, h->family, cmd, TRACINGPLANE_GENL_VERSION);
	mnl_attr_put_u32(*out, type, (uint32_t)id);
	if (who == h->pin_who && id == h->pin_id)
		mnl_attr_put_u64(*out, TRACINGPLANE_A_START_TIME, h->pin_start);
	return 0;
}

static int tpctl_simple(struct tpctl *h, uint8_t cmd, enum tpctl_who who, pid_t id,
			const void *bag, size_t len)
{
	struct tpctl_txn txn = { .h = h };
	struct nlmsghdr *nlh;
	int err;

	if (!bag && len)
		return tpctl_fail(h, -EINVAL, "baggage: no buffer for its %zu bytes", len);
	if (len > TPCTL_ATTR_MAX_PAYLOAD)
		return tpctl_fail(h, -EMSGSIZE,
				  "baggage: %zu bytes, more than the %d one netlink attribute holds",
				  len, TPCTL_ATTR_MAX_PAYLOAD);
	err = tpctl_request(h, cmd, who, id, &nlh);
	if (err)
		return err;
	if (bag)
		mnl_attr_put(nlh, TRACINGPLANE_A_BAGGAGE, len, bag);
	if (bag && h->exact)
		mnl_attr_put(nlh, TRACINGPLANE_A_NO_TRIM, 0, NULL);
	txn.req = nlh;
	return tpctl_transact(&txn);
}

struct tpctl_blob {
	void *buf;
	size_t len;
};

static int tpctl_baggage_attr(struct tpctl *h, const struct nlattr *attr, void *arg)
{
	struct tpctl_blob *blob = arg;
	size_t len = mnl_attr_get_payload_len(attr);

	if (mnl_attr_get_type(attr) != TRACINGPLANE_A_BAGGAGE)
		return 0;
	free(blob->buf);
	blob->buf = malloc(len ? len : 1);
	if (!blob->buf)
		return tpctl_fail_errno(h, -ENOMEM);
	memcpy(blob->buf, mnl_attr_get_payload(attr), len);
	blob->len = len;
	return 0;
}

/* An empty baggage reads as *buf == NULL and *len == 0. */
int tpctl_get_raw(struct tpctl *h, enum tpctl_who who, pid_t id, void **buf, size_t *len)
{
	struct tpctl_blob blob = { 0 };
	struct tpctl_txn txn = {
		.h = h, .parse_attr = tpctl_baggage_attr, .arg = &blob,
	};
	struct nlmsghdr *nlh;
	int err;

	if (!buf || !len)
		return tpctl_fail(h, -EINVAL, "get: no place for the baggage");
	err = tpctl_request(h, TRACINGPLANE_CMD_GET, who, id, &nlh);
	if (err)
		return err;
	txn.req = nlh;
	err = tpctl_transact(&txn);
	if (err) {
		free(blob.buf);
		return err;
	}
	*buf = blob.buf;
	*len = blob.len;
	return 0;
}

int tpctl_set_raw(struct tpctl *h, enum tpctl_who who, pid_t id, const void *buf, size_t len)
{
	/* An empty attribute is the empty baggage; it still must be present. */
	return tpctl_simple(h, TRACINGPLANE_CMD_SET, who, id, buf || len ? buf : "", len);
}

int tpctl_merge_raw(struct tpctl *h, enum tpctl_who who, pid_t id, const void *buf, size_t len)
{
	return tpctl_simple(h, TRACINGPLANE_CMD_MERGE, who, id, buf || len ? buf : "", len);
}

int tpctl_set_exact(struct tpctl *h, int exact)
{
	if (exact != 0 && exact != 1)
		return tpctl_fail(h, -EINVAL, "exact: %d is neither 0 nor 1", exact);
	h->exact = exact;
	return 0;
}

int tpctl_clear(struct tpctl *h, enum tpctl_who who, pid_t id)
{
	return tpctl_simple(h, TRACINGPLANE_CMD_CLEAR, who, id, NULL, 0);
}

int tpctl_get(struct tpctl *h, enum tpctl_who who, pid_t id, struct tpctl_bag **out)
{
	void *buf;
	size_t len;
	int err;

	if (!out)
		return tpctl_fail(h, -EINVAL, "get: no place for the baggage");
	err = tpctl_get_raw(h, who, id, &buf, &len);
	if (err)
		return err;
	err = tpctl_bag_decode(buf, len, out);
	free(buf);
	if (err)
		return tpctl_fail(h, err, "the kernel's baggage does not decode: %s",
				  strerror(-err));
	return 0;
}

typedef int (*tpctl_raw_write_fn)(struct tpctl *h, enum tpctl_who who, pid_t id,
				  const void *buf, size_t len);

static int tpctl_write_bag(struct tpctl *h, enum tpctl_who who, pid_t id,
			   const struct tpctl_bag *bag, tpctl_raw_write_fn write_raw)
{
	void *buf;
	size_t len;
	int err;

	err = tpctl_bag_encode(bag, &buf, &len);
	if (err)
		return tpctl_fail(h, err, "cannot encode the baggage: %s", strerror(-err));
	err = write_raw(h, who, id, buf, len);
	free(buf);
	return err;
}

int tpctl_set(struct tpctl *h, enum tpctl_who who, pid_t id, const struct tpctl_bag *bag)
{
	return tpctl_write_bag(h, who, id, bag, tpctl_set_raw);
}

int tpctl_merge(struct tpctl *h, enum tpctl_who who, pid_t id, const struct tpctl_bag *bag)
{
	return tpctl_write_bag(h, who, id, bag, tpctl_merge_raw);
}

/*
 * A number in a STATUS reply and the member of the caller's struct it
 * fills: a MNL_TYPE_U8 fills an int, a MNL_TYPE_U32 a uint32_t and a
 * MNL_TYPE_U64 a uint64_t.
 */
struct tpctl_field {
	uint16_t attr;
	enum mnl_attr_data_type type;
	size_t off;
};

#define TPCTL_FIELD(attr, type, st, member) \
	{ TRACINGPLANE_A_##attr, MNL_TYPE_##type, offsetof(st, member) }

/* The fields of one of the STATUS structs, and the struct to fill. */
struct tpctl_fields {
	const struct tpctl_field *field;
	size_t num;
	void *out;
};

static int tpctl_field_put(struct tpctl *h, const struct nlattr *attr,
			   const struct tpctl_field *f, char *out)
{
	if (mnl_attr_validate(attr, f->type) < 0)
		return tpctl_fail(h, -EBADMSG, "malformed status attribute %u from the kernel",
				  f->attr);
	if (f->type == MNL_TYPE_U8)
		*(int *)(out + f->off) = mnl_attr_get_u8(attr);
	else if (f->type == MNL_TYPE_U32)
		*(uint32_t *)(out + f->off) = mnl_attr_get_u32(attr);
	else
		*(uint64_t *)(out + f->off) = mnl_attr_get_u64(attr);
	return 0;
}

/* Attributes this library does not know are skipped: newer modules add some. */
static int tpctl_fields_attr(struct tpctl *h, const struct nlattr *attr, void *arg)
{
	const struct tpctl_fields *fields = arg;

	for (size_t i = 0; i < fields->num; i++) {
		if (fields->field[i].attr == mnl_attr_get_type(attr))
			return tpctl_field_put(h, attr, &fields->field[i], fields->out);
	}
	return 0;
}

/*
 * One STATUS request: @fresh (@size bytes, the caller's defaults) is filled
 * from the reply's attributes by @parse_attr, then copied to @out; @out is
 * left alone on error.
 */
static int tpctl_status_fill(struct tpctl *h,
			     int (*parse_attr)(struct tpctl *h, const struct nlattr *attr,
					       void *arg),
			     const struct tpctl_field *field, size_t num,
			     void *fresh, void *out, size_t size)
{
	struct tpctl_fields fields = { field, num, fresh };
	struct tpctl_txn txn = { .h = h, .parse_attr = parse_attr, .arg = &fields };
	int err;

	if (!out)
		return tpctl_fail(h, -EINVAL, "status: no place for the reply");
	txn.req = tpctl_msg_start(h, h->family, TRACINGPLANE_CMD_STATUS,
				  TRACINGPLANE_GENL_VERSION);
	err = tpctl_transact(&txn);
	if (!err)
		memcpy(out, fresh, size);
	return err;
}

static const struct tpctl_field tpctl_status_fields[] = {
	TPCTL_FIELD(STATUS_MAX_BYTES, U32, struct tpctl_status, max_bytes),
	TPCTL_FIELD(STATUS_MEM_CAP, U64, struct tpctl_status, mem_cap),
	TPCTL_FIELD(STATUS_LIVE_BAGS, U64, struct tpctl_status, live_bags),
	TPCTL_FIELD(STATUS_LIVE_BYTES, U64, struct tpctl_status, live_bytes),
	TPCTL_FIELD(STATUS_LIVE_TASKS, U64, struct tpctl_status, live_tasks),
	TPCTL_FIELD(STATUS_TRIMS, U64, struct tpctl_status, trims),
	TPCTL_FIELD(STATUS_ALLOC_FAILS, U64, struct tpctl_status, alloc_fails),
};

/* The module's version, a string, besides the numbers. */
static int tpctl_status_attr(struct tpctl *h, const struct nlattr *attr, void *arg)
{
	const struct tpctl_fields *fields = arg;
	struct tpctl_status *st = fields->out;

	if (mnl_attr_get_type(attr) != TRACINGPLANE_A_STATUS_VERSION)
		return tpctl_fields_attr(h, attr, arg);
	if (mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) < 0 ||
	    strlen(mnl_attr_get_str(attr)) >= sizeof(st->version))
		return tpctl_fail(h, -EBADMSG, "malformed module version from the kernel");
	strcpy(st->version, mnl_attr_get_str(attr));
	return 0;
}

int tpctl_status(struct tpctl *h, struct tpctl_status *st)
{
	struct tpctl_status fresh = { 0 };

	return tpctl_status_fill(h, tpctl_status_attr, tpctl_status_fields,
				 MNL_ARRAY_SIZE(tpctl_status_fields), &fresh, st, sizeof(*st));
}

/* ---- read policy and transit counters ------------------------------------- */

int tpctl_set_read_policy(struct tpctl *h, enum tpctl_who who, pid_t id,
			  enum tpctl_read_policy policy)
{
	struct tpctl_txn txn = { .h = h };
	struct nlmsghdr *nlh;
	int err;

	/* Not cast to the attribute's u8 unchecked: 256 would be MERGE. */
	if ((unsigned int)policy > TPCTL_READ_IGNORE)
		return tpctl_fail(h, -EINVAL, "read_policy: %d is not merge, replace or ignore",
				  (int)policy);
	err = tpctl_request(h, TRACINGPLANE_CMD_SET_READ_POLICY, who, id, &nlh);
	if (err)
		return err;
	mnl_attr_put_u8(nlh, TRACINGPLANE_A_READ_POLICY, (uint8_t)policy);
	txn.req = nlh;
	return tpctl_transact(&txn);
}

/* What a GET reply says of its task besides the baggage. */
struct tpctl_task_info {
	int read_policy;
	uint64_t start_time;
};

static const struct tpctl_field tpctl_task_fields[] = {
	TPCTL_FIELD(READ_POLICY, U8, struct tpctl_task_info, read_policy),
	TPCTL_FIELD(START_TIME, U64, struct tpctl_task_info, start_time),
};

/* One GET: fills what @ti's reply carries, leaves the rest as it was. */
static int tpctl_task_info(struct tpctl *h, enum tpctl_who who, pid_t id,
			   struct tpctl_task_info *ti)
{
	struct tpctl_fields fields = {
		tpctl_task_fields, MNL_ARRAY_SIZE(tpctl_task_fields), ti,
	};
	struct tpctl_txn txn = { .h = h, .parse_attr = tpctl_fields_attr, .arg = &fields };
	struct nlmsghdr *nlh;
	int err;

	err = tpctl_request(h, TRACINGPLANE_CMD_GET, who, id, &nlh);
	if (err)
		return err;
	txn.req = nlh;
	return tpctl_transact(&txn);
}

/* A module without read policies merges: that is what it reports then. */
int tpctl_get_read_policy(struct tpctl *h, enum tpctl_who who, pid_t id,
			  enum tpctl_read_policy *out)
{
	struct tpctl_task_info ti = { .read_policy = TPCTL_READ_MERGE };
	int err;

	if (!out)
		return tpctl_fail(h, -EINVAL, "read_policy: no place for it");
	err = tpctl_task_info(h, who, id, &ti);
	if (!err)
		*out = (enum tpctl_read_policy)ti.read_policy;
	return err;
}

int tpctl_pin(struct tpctl *h, enum tpctl_who who, pid_t id)
{
	struct tpctl_task_info ti = { 0 };
	int err;

	if (who == TPCTL_SELF)
		return tpctl_fail(h, -EINVAL, "pin: the caller needs no pin: give a pid or a tid");
	h->pin_who = TPCTL_SELF;
	err = tpctl_task_info(h, who, id, &ti);
	if (err)
		return err;
	if (!ti.start_time)
		return tpctl_fail(h, -EOPNOTSUPP,
				  "pin: the module does not report start times");
	h->pin_who = who;
	h->pin_id = id;
	h->pin_start = ti.start_time;
	return 0;
}

static const struct tpctl_field tpctl_tcp_fields[] = {
	TPCTL_FIELD(NET_ENABLED, U8, struct tpctl_tcp_status, net_enabled),
	TPCTL_FIELD(STATUS_TCP_NEGOTIATED, U64, struct tpctl_tcp_status, negotiated),
	TPCTL_FIELD(STATUS_TCP_OPTS_SENT, U64, struct tpctl_tcp_status, opts_sent),
	TPCTL_FIELD(STATUS_TCP_OPTS_RCVD, U64, struct tpctl_tcp_status, opts_rcvd),
	TPCTL_FIELD(STATUS_TCP_BYTES_SENT, U64, struct tpctl_tcp_status, bytes_sent),
	TPCTL_FIELD(STATUS_TCP_SPLITS, U64, struct tpctl_tcp_status, splits),
	TPCTL_FIELD(STATUS_TCP_TRIMS, U64, struct tpctl_tcp_status, trims),
	TPCTL_FIELD(STATUS_TCP_MALFORMED, U64, struct tpctl_tcp_status, malformed),
	TPCTL_FIELD(STATUS_TCP_OVERFLOWS, U64, struct tpctl_tcp_status, overflows),
	TPCTL_FIELD(STATUS_TCP_LIVE_CONNS, U64, struct tpctl_tcp_status, live_conns),
};

int tpctl_tcp_status(struct tpctl *h, struct tpctl_tcp_status *st)
{
	struct tpctl_tcp_status fresh = { .net_enabled = -1 };

	return tpctl_status_fill(h, tpctl_fields_attr, tpctl_tcp_fields,
				 MNL_ARRAY_SIZE(tpctl_tcp_fields), &fresh, st, sizeof(*st));
}

int tpctl_net_set(struct tpctl *h, int on)
{
	struct tpctl_txn txn = { .h = h };
	struct nlmsghdr *nlh;

	if (on != 0 && on != 1)
		return tpctl_fail(h, -EINVAL, "net_enabled: %d is neither 0 (off) nor 1 (on)", on);
	nlh = tpctl_msg_start(h, h->family, TRACINGPLANE_CMD_NET_SET,
			      TRACINGPLANE_GENL_VERSION);
	mnl_attr_put_u8(nlh, TRACINGPLANE_A_NET_ENABLED, (uint8_t)on);
	txn.req = nlh;
	return tpctl_transact(&txn);
}

static const struct tpctl_field tpctl_transit_fields[] = {
	TPCTL_FIELD(STATUS_MAX_RANGES, U32, struct tpctl_transit_status, max_ranges),
	TPCTL_FIELD(STATUS_LIVE_PIPES, U64, struct tpctl_transit_status, live_pipes),
	TPCTL_FIELD(STATUS_LIVE_RANGES, U64, struct tpctl_transit_status, live_ranges),
	TPCTL_FIELD(STATUS_LIVE_SKB_TAGS, U64, struct tpctl_transit_status, live_skb_tags),
	TPCTL_FIELD(STATUS_RANGE_MERGES, U64, struct tpctl_transit_status, range_merges),
	TPCTL_FIELD(STATUS_OVERAPPROX, U64, struct tpctl_transit_status, overapprox),
	TPCTL_FIELD(STATUS_PROBE_MISSES, U64, struct tpctl_transit_status, probe_misses),
};

int tpctl_transit_status(struct tpctl *h, struct tpctl_transit_status *st)
{
	struct tpctl_transit_status fresh = { 0 };

	return tpctl_status_fill(h, tpctl_fields_attr, tpctl_transit_fields,
				 MNL_ARRAY_SIZE(tpctl_transit_fields), &fresh, st, sizeof(*st));
}
