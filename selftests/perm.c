// SPDX-License-Identifier: MIT
/*
 * The permission matrix (Documentation/netlink.rst, "Permissions"): any task
 * reads and writes its own baggage; reading another task's needs the same
 * uids and gids and a dumpable target, or CAP_SYS_PTRACE; writing another
 * task's needs CAP_SYS_ADMIN; and a capability counts only when both the
 * sender and the socket's opener hold it.
 *
 * The test runs as root.  For each case it starts a target task with the
 * credentials of the case and a caller task that drops to nobody (65534)
 * or stays root, then has the caller GET, CLEAR, SET, MERGE and GET again,
 * and checks each answer and, as root, what the target's baggage became.
 */
#include <pthread.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <grp.h>

#include "kselftest_harness.h"
#include "proc.h"

#define NOBODY		65534
#define OTHER_GID	65533

#define MSG_READ "reading another task's baggage needs CAP_SYS_PTRACE, or the same uids and gids and a dumpable target"
#define MSG_WRITE "changing another task's baggage needs CAP_SYS_ADMIN"

enum creds {
	CR_ROOT,
	CR_NOBODY,		/* uids and gids 65534, dumpable */
	CR_NOBODY_NODUMP,	/* the same after prctl(PR_SET_DUMPABLE, 0) */
	CR_NOBODY_SUID_ROOT,	/* uid, euid 65534 but saved uid 0 */
	CR_NOBODY_OTHER_GID,	/* uids 65534, gids 65533 */
};

enum tgt {
	TG_SELF,		/* the caller itself */
	TG_THREAD,		/* another thread of the caller */
	TG_PROC,		/* another process, with target_creds */
};

enum sock {
	SK_OWN,			/* the caller opens its socket itself */
	SK_ROOT_OPENED,		/* opened as root before dropping to nobody */
	SK_NOBODY_OPENED,	/* opened by a nobody task, passed to a root caller */
	SK_NOBODY_SENDTO,	/* the same, but sent to with an explicit address */
};

static pid_t gettid_(void)
{
	return (pid_t)syscall(SYS_gettid);
}

static int drop_to(enum creds c)
{
	gid_t g = c == CR_NOBODY_OTHER_GID ? OTHER_GID : NOBODY;
	uid_t suid = c == CR_NOBODY_SUID_ROOT ? 0 : NOBODY;

	if (c == CR_ROOT)
		return 0;
	if (setgroups(0, NULL) || setresgid(g, g, g) || setresuid(NOBODY, NOBODY, suid))
		return -1;
	/* a uid change made us non-dumpable; choose explicitly */
	return prctl(PR_SET_DUMPABLE, c == CR_NOBODY_NODUMP ? 0 : 1, 0, 0, 0);
}

/* CapEff from /proc/self/status, or ~0 if unreadable. */
static unsigned long long cap_eff(void)
{
	unsigned long long v = ~0ULL;
	char line[256];
	FILE *f = fopen("/proc/self/status", "r");

	if (!f)
		return v;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "CapEff: %llx", &v) == 1)
			break;
	fclose(f);
	return v;
}

/* ---- the target process ------------------------------------------------------- */

struct target {
	pid_t pid;
	int hold[2];
};

/* Starts a process with credentials @c holding "target". */
static int target_start(struct target *t, enum creds c)
{
	int ready[2];
	char ok = 0;

	if (pipe(t->hold) || pipe(ready))
		return -1;
	t->pid = fork();
	if (t->pid < 0)
		return -1;
	if (t->pid == 0) {
		char x;

		close(t->hold[1]);
		close(ready[0]);
		ok = !drop_to(c) && !tp_self_op(TRACINGPLANE_CMD_SET, "target") &&
		     prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) == (c == CR_NOBODY_NODUMP ? 0 : 1);
		if (write(ready[1], &ok, 1) != 1)
			_exit(1);
		_exit(read(t->hold[0], &x, 1) == 0 ? 0 : 1);
	}
	close(t->hold[0]);
	close(ready[1]);
	if (read(ready[0], &ok, 1) != 1)
		ok = 0;
	close(ready[0]);
	return ok ? 0 : -1;
}

static void target_stop(struct target *t)
{
	if (t->pid <= 0)
		return;
	close(t->hold[1]);
	tp_wait(t->pid);
	t->pid = 0;
}

/* ---- the caller ------------------------------------------------------------------ */

enum { OP_GET, OP_CLEAR, OP_SET, OP_MERGE, OP_GET2, NOPS };

static const char *const op_name[NOPS] = { "get", "clear", "set", "merge", "get again" };

struct result {
	int setup;			/* 0, or the step that failed */
	unsigned long long cap_eff;
	pid_t target_tid;		/* for TG_SELF / TG_THREAD */
	struct {
		int err;
		char msg[256];
		char text[64];
	} op[NOPS];
};

struct job {
	enum creds caller;
	enum tgt tgt;
	enum sock sock;
	enum tpnl_who who;
	pid_t target_pid;
	int res_fd, go_fd;
};

/* Reports its tid on fds[1], then lives until fds[0] reads EOF. */
static void *idle_thread(void *arg)
{
	int *fds = arg;
	pid_t tid = gettid_();
	char x;

	if (tp_write_all(fds[1], &tid, sizeof(tid)))
		return NULL;
	while (read(fds[0], &x, 1) < 0 && errno == EINTR)
		;
	return NULL;
}

/* A nobody task opens a socket and sends it over @us. */
static int send_nobody_socket(int us)
{
	char cbuf[CMSG_SPACE(sizeof(int))] = { 0 };
	struct iovec iov = { .iov_base = "s", .iov_len = 1 };
	struct msghdr mh = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
	};
	struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
	struct tpnl t;

	if (drop_to(CR_NOBODY) || cap_eff() != 0 || tpnl_open(&t))
		return 1;
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	*(int *)CMSG_DATA(cm) = mnl_socket_get_fd(t.nl);
	return sendmsg(us, &mh, 0) == 1 ? 0 : 1;
}

static int recv_socket(int us)
{
	char cbuf[CMSG_SPACE(sizeof(int))] = { 0 };
	char c;
	struct iovec iov = { .iov_base = &c, .iov_len = 1 };
	struct msghdr mh = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
	};
	struct cmsghdr *cm;

	if (recvmsg(us, &mh, 0) != 1)
		return -1;
	cm = CMSG_FIRSTHDR(&mh);
	if (!cm || cm->cmsg_type != SCM_RIGHTS)
		return -1;
	return *(int *)CMSG_DATA(cm);
}

/* Opens the caller's socket as @j->sock says, in @t. */
static int caller_socket(const struct job *j, struct tpnl *t)
{
	int sv[2], fd;
	pid_t pid;

	if (j->sock != SK_NOBODY_OPENED && j->sock != SK_NOBODY_SENDTO)
		return tpnl_open(t);
	if (socketpair(AF_UNIX, SOCK_DGRAM, 0, sv))
		return -1;
	pid = fork();
	if (pid == 0)
		_exit(send_nobody_socket(sv[1]));
	fd = recv_socket(sv[0]);
	if (tp_wait(pid) || fd < 0)
		return -1;
	memset(t, 0, sizeof(*t));
	t->family = tpnl_family_cache;
	t->buf = malloc(TPNL_BUFSZ);
	t->nl = mnl_socket_fdopen(fd);
	t->send_nodest = j->sock == SK_NOBODY_OPENED;
	return t->nl && t->buf && t->family ? 0 : -1;
}

static int caller_main(const struct job *j)
{
	static struct result res;
	static const char *const bag[NOPS] = { NULL, NULL, "w", "x", NULL };
	static const uint8_t cmd[NOPS] = {
		TRACINGPLANE_CMD_GET, TRACINGPLANE_CMD_CLEAR, TRACINGPLANE_CMD_SET,
		TRACINGPLANE_CMD_MERGE, TRACINGPLANE_CMD_GET,
	};
	int idle[2] = { -1, -1 }, tidp[2], fds[2];
	pid_t id = j->target_pid;
	pthread_t thr;
	struct tpnl t;
	char x;

	memset(&res, 0, sizeof(res));
	if (j->sock == SK_ROOT_OPENED && tpnl_open(&t)) {
		res.setup = 1;
		goto out;
	}
	if (drop_to(j->caller)) {
		res.setup = 2;
		goto out;
	}
	res.cap_eff = cap_eff();
	if (j->sock != SK_ROOT_OPENED && caller_socket(j, &t)) {
		res.setup = 3;
		goto out;
	}
	if (j->tgt != TG_PROC) {
		/* own baggage: allowed to anyone */
		if (tpnl_set_text(&t, TPNL_SELF, 0, "target")) {
			res.setup = 4;
			goto out;
		}
		id = gettid_();
	}
	if (j->tgt == TG_THREAD) {
		/* idle[0]: the thread waits on it; tid[]: it reports its tid */
		if (pipe(idle) || pipe(tidp)) {
			res.setup = 5;
			goto out;
		}
		fds[0] = idle[0];
		fds[1] = tidp[1];
		if (pthread_create(&thr, NULL, idle_thread, fds) ||
		    tp_read_full(tidp[0], &id, sizeof(id))) {
			close(idle[1]);
			idle[1] = -1;
			res.setup = 6;
			goto out;
		}
	}
	res.target_tid = id;

	for (int i = 0; i < NOPS; i++) {
		struct nlmsghdr *nlh = tpnl_msg(&t, cmd[i]);
		struct tpnl_reply r;
		uint8_t buf[64];

		tpnl_put_who(nlh, j->tgt == TG_SELF && j->who == TPNL_SELF ? TPNL_SELF : j->who, id);
		if (bag[i])
			tpnl_put_attr(nlh, TRACINGPLANE_A_BAGGAGE, buf, tp_atoms(buf, bag[i]));
		res.op[i].err = tpnl_xfer(&t, nlh, &r);
		snprintf(res.op[i].msg, sizeof(res.op[i].msg), "%s", r.msg);
		if (r.has_bag || r.got_reply)
			tp_render(r.bag, r.bag_len, res.op[i].text, sizeof(res.op[i].text));
		tpnl_reply_free(&r);
	}
out:
	if (tp_write_all(j->res_fd, &res, sizeof(res)))
		return 1;
	/* stay alive (with the thread) until the parent has looked */
	while (read(j->go_fd, &x, 1) < 0 && errno == EINTR)
		;
	if (idle[1] >= 0) {
		close(idle[1]);
		pthread_join(thr, NULL);
	}
	return 0;
}

/* ---- the matrix -------------------------------------------------------------------- */

FIXTURE(perm) {
	struct tpnl nl;
	struct target target;
};

FIXTURE_VARIANT(perm) {
	enum creds caller;
	enum tgt tgt;
	enum creds target;	/* for TG_PROC */
	enum tpnl_who who;
	enum sock sock;
	bool read_ok, write_ok;
};

FIXTURE_SETUP(perm)
{
	ASSERT_EQ(0U, getuid()) TH_LOG("the permission tests run as root");
	ASSERT_EQ(0, tpnl_open(&self->nl));
	ASSERT_EQ(0, tpnl_clear(&self->nl, TPNL_SELF, 0));
	self->target.pid = 0;
	if (variant->tgt == TG_PROC) {
		ASSERT_EQ(0, target_start(&self->target, variant->target));
	}
}

FIXTURE_TEARDOWN(perm)
{
	target_stop(&self->target);
	tpnl_close(&self->nl);
}

#define PERM(name, c, tg, tc, w, s, r_ok, w_ok)					\
	FIXTURE_VARIANT_ADD(perm, name) {					\
		.caller = c, .tgt = tg, .target = tc, .who = w, .sock = s,	\
		.read_ok = r_ok, .write_ok = w_ok,				\
	}

/*    name                          caller     target                          by        socket          read   write */
PERM(nobody_self,                   CR_NOBODY, TG_SELF,   CR_ROOT,             TPNL_SELF, SK_OWN,         true,  true);
PERM(nobody_self_by_tid,            CR_NOBODY, TG_SELF,   CR_ROOT,             TPNL_TID,  SK_OWN,         true,  true);
PERM(nobody_same_uid_dumpable,      CR_NOBODY, TG_PROC,   CR_NOBODY,           TPNL_PID,  SK_OWN,         true,  false);
PERM(nobody_same_uid_dumpable_tid,  CR_NOBODY, TG_PROC,   CR_NOBODY,           TPNL_TID,  SK_OWN,         true,  false);
PERM(nobody_same_uid_nondumpable,   CR_NOBODY, TG_PROC,   CR_NOBODY_NODUMP,    TPNL_PID,  SK_OWN,         false, false);
PERM(nobody_root_task,              CR_NOBODY, TG_PROC,   CR_ROOT,             TPNL_PID,  SK_OWN,         false, false);
PERM(nobody_saved_uid_root,         CR_NOBODY, TG_PROC,   CR_NOBODY_SUID_ROOT, TPNL_PID,  SK_OWN,         false, false);
PERM(nobody_other_gid,              CR_NOBODY, TG_PROC,   CR_NOBODY_OTHER_GID, TPNL_PID,  SK_OWN,         false, false);
PERM(nobody_own_thread,             CR_NOBODY, TG_THREAD, CR_ROOT,             TPNL_TID,  SK_OWN,         true,  false);
PERM(root_nobody_nondumpable,       CR_ROOT,   TG_PROC,   CR_NOBODY_NODUMP,    TPNL_PID,  SK_OWN,         true,  true);
PERM(root_other_gid,                CR_ROOT,   TG_PROC,   CR_NOBODY_OTHER_GID, TPNL_TID,  SK_OWN,         true,  true);
PERM(root_root_task,                CR_ROOT,   TG_PROC,   CR_ROOT,             TPNL_PID,  SK_OWN,         true,  true);
PERM(root_own_thread,               CR_ROOT,   TG_THREAD, CR_ROOT,             TPNL_TID,  SK_OWN,         true,  true);
/* a root-opened socket grants nothing to a nobody sender */
PERM(rootsock_nobody_writes,        CR_NOBODY, TG_PROC,   CR_NOBODY,           TPNL_PID,  SK_ROOT_OPENED, true,  false);
PERM(rootsock_nobody_nondumpable,   CR_NOBODY, TG_PROC,   CR_NOBODY_NODUMP,    TPNL_PID,  SK_ROOT_OPENED, false, false);
/*
 * nor does a root sender gain anything writing to a socket nobody opened
 * (the confused deputy: a privileged program whose output was redirected)
 */
/* (the same-ids rule is no capability: it still lets root read root) */
PERM(nobodysock_root_root_task,     CR_ROOT,   TG_PROC,   CR_ROOT,             TPNL_PID,  SK_NOBODY_OPENED, true,  false);
PERM(nobodysock_root_nondumpable,   CR_ROOT,   TG_PROC,   CR_NOBODY_NODUMP,    TPNL_PID,  SK_NOBODY_OPENED, false, false);
/* ...unless it names the destination, which shows intent: sender's rights */
PERM(nobodysock_sendto_root_task,   CR_ROOT,   TG_PROC,   CR_ROOT,             TPNL_PID,  SK_NOBODY_SENDTO, true, true);
PERM(nobodysock_sendto_nondumpable, CR_ROOT,   TG_PROC,   CR_NOBODY_NODUMP,    TPNL_PID,  SK_NOBODY_SENDTO, true, true);
PERM(nobodysock_root_self,          CR_ROOT,   TG_SELF,   CR_ROOT,             TPNL_SELF, SK_NOBODY_OPENED, true,  true);

TEST_F(perm, matrix)
{
	const char *prefix = variant->who == TPNL_TID ? "tid: " : "pid: ";
	static struct result res;
	char read_msg[256], write_msg[256], t[256];
	struct job j = {
		.caller = variant->caller, .tgt = variant->tgt, .sock = variant->sock,
		.who = variant->who, .target_pid = self->target.pid,
	};
	int res_p[2], go_p[2];
	pid_t caller;

	snprintf(read_msg, sizeof(read_msg), "%s%s", prefix, MSG_READ);
	snprintf(write_msg, sizeof(write_msg), "%s%s", prefix, MSG_WRITE);
	ASSERT_EQ(0, pipe(res_p));
	ASSERT_EQ(0, pipe(go_p));
	j.res_fd = res_p[1];
	j.go_fd = go_p[0];
	caller = fork();
	ASSERT_LE(0, caller);
	if (caller == 0) {
		close(go_p[1]);
		close(res_p[0]);
		_exit(caller_main(&j));
	}
	close(go_p[0]);
	ASSERT_EQ(0, tp_read_full(res_p[0], &res, sizeof(res)));
	ASSERT_EQ(0, res.setup) TH_LOG("caller setup failed at step %d", res.setup);
	if (variant->caller != CR_ROOT) {
		EXPECT_EQ(0ULL, res.cap_eff) TH_LOG("the unprivileged caller kept capabilities");
	}

	/* GET */
	if (variant->read_ok) {
		EXPECT_EQ(0, res.op[OP_GET].err) TH_LOG("%s", res.op[OP_GET].msg);
		EXPECT_STREQ("target", res.op[OP_GET].text);
	} else {
		EXPECT_EQ(-EPERM, res.op[OP_GET].err);
		EXPECT_STREQ(read_msg, res.op[OP_GET].msg);
	}
	/* CLEAR, SET "w", MERGE "x" */
	for (int i = OP_CLEAR; i <= OP_MERGE; i++) {
		if (variant->write_ok) {
			EXPECT_EQ(0, res.op[i].err) TH_LOG("%s: %s", op_name[i], res.op[i].msg);
		} else {
			EXPECT_EQ(-EPERM, res.op[i].err) TH_LOG("%s", op_name[i]);
			EXPECT_STREQ(write_msg, res.op[i].msg) TH_LOG("%s", op_name[i]);
		}
	}
	/* GET again: the caller sees what the writes did, if it may look */
	if (variant->read_ok) {
		EXPECT_STREQ(variant->write_ok ? "w,x" : "target", res.op[OP_GET2].text);
	}

	/* root sees what really happened to the target */
	if (variant->tgt == TG_PROC) {
		ASSERT_EQ(0, tpnl_get_text(&self->nl, TPNL_PID, self->target.pid, t, sizeof(t)));
	} else {
		ASSERT_EQ(0, tpnl_get_text(&self->nl, TPNL_TID, res.target_tid, t, sizeof(t)));
	}
	EXPECT_STREQ(variant->write_ok ? "w,x" : "target", t);

	close(go_p[1]);
	EXPECT_EQ(0, tp_wait(caller));
	close(res_p[0]);
	close(res_p[1]);
}

TP_SELFTEST_MAIN
