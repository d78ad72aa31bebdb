// SPDX-License-Identifier: MIT
/*
 * In-VM benchmark: the round trip of the module's GET of the caller's own
 * baggage, against the kernel's own generic netlink round trip of the same
 * shape, CTRL_CMD_GETFAMILY of "tracingplane" to "nlctrl" (what
 * tpctl_open() sends), in ns per request.
 *
 * Both are sent by the same raw libmnl code on one socket: a prebuilt
 * request with NLM_F_ACK, read until the ack, so the difference is the
 * kernel's work and the size of the reply.  GET is measured for each
 * baggage variant held by this process; the typed tpctl_get() of libtpctl
 * (the same request plus decoding into a struct tpctl_bag) is reported
 * too, for scale.  Batches of the three alternate, so the ratios compare
 * measurements taken moments apart.
 *
 * GET needs the module: without it this program reports nothing (the
 * family lookup would fail, after the kernel tried to autoload it), and
 * tools/bench compares the ratios within the loaded run.  Protocol:
 * tools/bench.
 */
#include <libmnl/libmnl.h>
#include <linux/genetlink.h>
#include <linux/tracingplane.h>

#include "vm_bench.h"

#define MIN_BLOCKS	6	/* times each variant is set up again, at least */
#define MAX_BLOCKS	24	/* ... and at most */
#define RUN_NS		10000000000ull	/* blocks start until then */
#define BATCHES		8	/* timed batches per measure, variant and block */
#define BATCH_NS	2000000	/* short, for the reason given in vm_fork.c */
#define BUF_SIZE	65536	/* a GET reply of 8 KiB and more fits in one read */

struct nl {
	struct mnl_socket *sock;
	uint32_t portid;
	char *buf;
};

/* A request prebuilt in its own buffer; only its sequence number changes. */
struct req {
	struct nlmsghdr *nlh;
	char buf[256] __attribute__((aligned(8)));
};

static void nl_open(struct nl *nl)
{
	nl->sock = mnl_socket_open(NETLINK_GENERIC);
	if (!nl->sock || mnl_socket_bind(nl->sock, 0, MNL_SOCKET_AUTOPID) < 0)
		vmb_die("netlink socket: %s", strerror(errno));
	nl->portid = mnl_socket_get_portid(nl->sock);
	nl->buf = malloc(BUF_SIZE);
	if (!nl->buf)
		vmb_die("out of memory");
}

static void req_init(struct req *r, uint16_t family, uint8_t cmd, uint8_t version)
{
	struct genlmsghdr *genl;

	r->nlh = mnl_nlmsg_put_header(r->buf);
	r->nlh->nlmsg_type = family;
	r->nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	genl = mnl_nlmsg_put_extra_header(r->nlh, sizeof(*genl));
	genl->cmd = cmd;
	genl->version = version;
}

/*
 * One request and every reply up to its ack, each reply passed to @cb
 * (none while timing); 0, or -errno from the kernel.
 */
static int roundtrip(struct nl *nl, struct req *r, mnl_cb_t cb, void *data)
{
	ssize_t n;
	int ret;

	r->nlh->nlmsg_seq++;
	if (mnl_socket_sendto(nl->sock, r->nlh, r->nlh->nlmsg_len) < 0)
		vmb_die("sendto: %s", strerror(errno));
	do {
		n = mnl_socket_recvfrom(nl->sock, nl->buf, BUF_SIZE);
		if (n < 0)
			vmb_die("recvfrom: %s", strerror(errno));
		ret = mnl_cb_run(nl->buf, n, r->nlh->nlmsg_seq, nl->portid, cb, data);
	} while (ret > MNL_CB_STOP);
	return ret < 0 ? -errno : 0;
}

static int family_attr(const struct nlattr *attr, void *data)
{
	if (mnl_attr_get_type(attr) == CTRL_ATTR_FAMILY_ID &&
	    mnl_attr_validate(attr, MNL_TYPE_U16) == 0)
		*(uint16_t *)data = mnl_attr_get_u16(attr);
	return MNL_CB_OK;
}

static int family_reply(const struct nlmsghdr *nlh, void *data)
{
	return mnl_attr_parse(nlh, sizeof(struct genlmsghdr), family_attr, data);
}

struct ctx {
	struct nl nl;
	struct req ctrl, get;
	struct tpctl *h;
	unsigned int batches;	/* timed so far per measure and variant */
};

static void op_ctrl(struct ctx *c)
{
	if (roundtrip(&c->nl, &c->ctrl, NULL, NULL))
		vmb_die("CTRL_CMD_GETFAMILY: %s", strerror(errno));
}

static void op_get(struct ctx *c)
{
	if (roundtrip(&c->nl, &c->get, NULL, NULL))
		vmb_die("GET: %s", strerror(errno));
}

static void op_tpctl_get(struct ctx *c)
{
	struct tpctl_bag *bag;

	if (tpctl_get(c->h, TPCTL_SELF, 0, &bag))
		vmb_die("tpctl_get: %s", tpctl_errmsg(c->h));
	tpctl_bag_free(bag);
}

/* One kind of request, timed in batches of @n. */
struct measure {
	const char *name;
	void (*op)(struct ctx *c);
	unsigned int n;
	double ns[VMB_NVARIANTS][MAX_BLOCKS * BATCHES];
};

enum { M_CTRL, M_GET, M_TPCTL_GET };

static struct measure measures[] = {
	[M_CTRL] = { .name = "ctrl-getfamily", .op = op_ctrl },
	[M_GET] = { .name = "get", .op = op_get },
	[M_TPCTL_GET] = { .name = "tpctl_get", .op = op_tpctl_get },
};

#define NMEASURES	(sizeof(measures) / sizeof(measures[0]))

static double batch_ns(struct ctx *c, struct measure *m)
{
	uint64_t t0 = vmb_now_ns();
	unsigned int i;

	for (i = 0; i < m->n; i++)
		m->op(c);
	return (double)(vmb_now_ns() - t0) / m->n;
}

/* Requests per batch so that a batch lasts about BATCH_NS. */
static void calibrate(struct ctx *c, struct measure *m)
{
	m->n = 16;
	batch_ns(c, m);	/* warm up */
	m->n = (unsigned int)(BATCH_NS / batch_ns(c, m)) + 2;
}

static void setup(struct ctx *c)
{
	uint16_t id = 0;

	nl_open(&c->nl);
	req_init(&c->ctrl, GENL_ID_CTRL, CTRL_CMD_GETFAMILY, 1);
	mnl_attr_put_strz(c->ctrl.nlh, CTRL_ATTR_FAMILY_NAME, TRACINGPLANE_GENL_NAME);
	if (roundtrip(&c->nl, &c->ctrl, family_reply, &id) || !id)
		vmb_die("cannot resolve the %s family", TRACINGPLANE_GENL_NAME);
	req_init(&c->get, id, TRACINGPLANE_CMD_GET, TRACINGPLANE_GENL_VERSION);
}

/*
 * Variants take turns, each block starting with another one; within a
 * variant, the batches of the measures alternate.
 */
static void run(struct ctx *c)
{
	uint64_t start = vmb_now_ns();
	unsigned int b, i, k, j;

	for (b = 0; vmb_another_block(b, MIN_BLOCKS, MAX_BLOCKS, start, RUN_NS); b++) {
		for (i = 0; i < VMB_NVARIANTS; i++) {
			unsigned int v = (b + i) % VMB_NVARIANTS;

			vmb_use_variant(c->h, 0, &vmb_variants[v]);
			for (k = 0; k < BATCHES; k++)
				for (j = 0; j < NMEASURES; j++)
					measures[j].ns[v][b * BATCHES + k] =
						batch_ns(c, &measures[j]);
		}
	}
	c->batches = b * BATCHES;
}

/* Median of @m's batches while variant @v was held; sorts them. */
static double median_of(const struct ctx *c, struct measure *m, unsigned int v)
{
	return vmb_median(m->ns[v], c->batches);
}

/* CTRL_CMD_GETFAMILY over every batch; per variant, for the ratios. */
static void report_ctrl(const struct ctx *c, double ctrl[VMB_NVARIANTS])
{
	static double all[VMB_NVARIANTS * MAX_BLOCKS * BATCHES];
	struct measure *m = &measures[M_CTRL];
	unsigned int v;

	for (v = 0; v < VMB_NVARIANTS; v++) {
		memcpy(all + v * c->batches, m->ns[v], c->batches * sizeof(m->ns[v][0]));
		ctrl[v] = median_of(c, m, v);
	}
	vmb_result("getself/ctrl-getfamily", vmb_median(all, VMB_NVARIANTS * c->batches),
		   "ns", "lower");
}

static void report(const struct ctx *c)
{
	double ctrl[VMB_NVARIANTS], med;
	unsigned int v;
	char name[64];

	report_ctrl(c, ctrl);
	for (v = 0; v < VMB_NVARIANTS; v++) {
		med = median_of(c, &measures[M_GET], v);
		snprintf(name, sizeof(name), "getself/get-%s", vmb_variants[v].name);
		vmb_result(name, med, "ns", "lower");
		/* The budget compares like with like: two raw requests. */
		strcat(name, "/ctrl");
		vmb_result(name, med / ctrl[v], "x", "lower");
		vmb_budget(name, "max", 1.5);
	}
	for (v = 0; v < VMB_NVARIANTS; v++) {
		snprintf(name, sizeof(name), "getself/tpctl_get-%s", vmb_variants[v].name);
		vmb_result(name, median_of(c, &measures[M_TPCTL_GET], v), "ns", "lower");
	}
}

int main(void)
{
	struct ctx c = { .h = vmb_open() };
	unsigned int j;

	if (!c.h) {
		printf("# getself: module not loaded: GET has nothing to measure\n");
		return 0;
	}
	setup(&c);
	for (j = 0; j < NMEASURES; j++)
		calibrate(&c, &measures[j]);
	run(&c);
	printf("# getself: %u/%u/%u requests per batch, %u batches per measure and variant\n",
	       measures[M_CTRL].n, measures[M_GET].n, measures[M_TPCTL_GET].n, c.batches);
	report(&c);
	vmb_use_variant(c.h, 0, &vmb_variants[0]);
	tpctl_close(c.h);
	return 0;
}
