// SPDX-License-Identifier: MIT
/*
 * The generic netlink family, operation by operation: GET, SET, MERGE and
 * CLEAR on the caller, on another process by PID and on a thread by TID;
 * STATUS and its counters; trimming at max_bytes; and every malformed
 * request, which must fail with the documented errno and extack message
 * and change nothing (Documentation/netlink.rst).
 */
#include <linux/sched.h>
#include <pthread.h>
#include <sys/syscall.h>

#include "kselftest_harness.h"
#include "proc.h"
#include "tpctl.h"

static pid_t gettid_(void)
{
	return (pid_t)syscall(SYS_gettid);
}

FIXTURE(nl) {
	struct tpnl nl;
	char text[8192];
};

FIXTURE_SETUP(nl)
{
	ASSERT_EQ(0, tpnl_open(&self->nl));
	ASSERT_EQ(0, tpnl_clear(&self->nl, TPNL_SELF, 0));
}

FIXTURE_TEARDOWN(nl)
{
	tpnl_close(&self->nl);
}

#define GET_SELF() ({							\
	ASSERT_EQ(0, tpnl_get_text(&self->nl, TPNL_SELF, 0,		\
				   self->text, sizeof(self->text)));	\
	self->text;							\
})

/* An empty baggage is a reply without the BAGGAGE attribute. */
TEST_F(nl, get_empty)
{
	struct tpnl_reply r;
	struct nlmsghdr *nlh = tpnl_msg(&self->nl, TRACINGPLANE_CMD_GET);

	ASSERT_EQ(0, tpnl_xfer(&self->nl, nlh, &r));
	EXPECT_TRUE(r.got_reply);
	EXPECT_FALSE(r.has_bag);
	tpnl_reply_free(&r);
}

/* SET stores exactly the bytes given; GET returns them byte for byte. */
TEST_F(nl, set_get_roundtrip)
{
	static const char *const bags[] = {
		"a",
		"a,b,c",
		"<>,a,z",
		"a,ab,abc,b",
		"\\x00,\\x00\\x00,\\x01,\\x7f\\xff,\\xff",
		"k=v,tenant=alice,trace=0123456789abcdef",
	};
	uint8_t big[1024], *got;
	size_t len, glen;
	char atom[301];

	for (size_t i = 0; i < sizeof(bags) / sizeof(bags[0]); i++) {
		ASSERT_EQ(0, tpnl_set_text(&self->nl, TPNL_SELF, 0, bags[i]));
		EXPECT_STREQ(bags[i], GET_SELF());
	}
	/* a 300-byte atom: two-byte length varint */
	memset(atom, 'q', 300);
	atom[300] = '\0';
	len = tp_atoms(big, atom);
	ASSERT_EQ(302U, len);
	ASSERT_EQ(0, tpnl_set(&self->nl, TPNL_SELF, 0, big, len));
	ASSERT_EQ(0, tpnl_get(&self->nl, TPNL_SELF, 0, &got, &glen, NULL));
	ASSERT_EQ(len, glen);
	EXPECT_EQ(0, memcmp(big, got, len));
	free(got);
}

TEST_F(nl, set_replaces)
{
	ASSERT_EQ(0, tpnl_set_text(&self->nl, TPNL_SELF, 0, "a,b"));
	ASSERT_EQ(0, tpnl_set_text(&self->nl, TPNL_SELF, 0, "c"));
	EXPECT_STREQ("c", GET_SELF());
}

/* An empty BAGGAGE attribute is the empty baggage: SET clears. */
TEST_F(nl, set_empty_clears)
{
	ASSERT_EQ(0, tpnl_set_text(&self->nl, TPNL_SELF, 0, "a"));
	ASSERT_EQ(0, tpnl_set(&self->nl, TPNL_SELF, 0, NULL, 0));
	EXPECT_STREQ("", GET_SELF());
}

TEST_F(nl, clear)
{
	ASSERT_EQ(0, tpnl_set_text(&self->nl, TPNL_SELF, 0, "a,b"));
	ASSERT_EQ(0, tpnl_clear(&self->nl, TPNL_SELF, 0));
	EXPECT_STREQ("", GET_SELF());
	/* clearing an empty baggage succeeds */
	ASSERT_EQ(0, tpnl_clear(&self->nl, TPNL_SELF, 0));
	EXPECT_STREQ("", GET_SELF());
}

/* Naming oneself by PID (main thread) or TID is the same as not naming. */
TEST_F(nl, self_by_pid_and_tid)
{
	char t[256];

	ASSERT_EQ(0, tpnl_set_text(&self->nl, TPNL_PID, getpid(), "me"));
	ASSERT_EQ(0, tpnl_get_text(&self->nl, TPNL_TID, gettid_(), t, sizeof(t)));
	EXPECT_STREQ("me", t);
	ASSERT_EQ(0, tpnl_merge_text(&self->nl, TPNL_TID, gettid_(), "too"));
	ASSERT_EQ(0, tpnl_get_text(&self->nl, TPNL_PID, getpid(), t, sizeof(t)));
	EXPECT_STREQ("me,too", t);
	ASSERT_EQ(0, tpnl_clear(&self->nl, TPNL_PID, getpid()));
	EXPECT_STREQ("", GET_SELF());
}

/* ---- MERGE is the sorted union ---------------------------------------------- */

FIXTURE(merge) {
	struct tpnl nl;
};

FIXTURE_VARIANT(merge) {
	const char *cur, *add, *expect;
};

FIXTURE_SETUP(merge)
{
	ASSERT_EQ(0, tpnl_open(&self->nl));
	ASSERT_EQ(0, tpnl_set_text(&self->nl, TPNL_SELF, 0, variant->cur));
}

FIXTURE_TEARDOWN(merge)
{
	tpnl_close(&self->nl);
}

#define MERGE_CASE(name, c, a, e) \
	FIXTURE_VARIANT_ADD(merge, name) { .cur = c, .add = a, .expect = e }

MERGE_CASE(into_empty, "", "x,y", "x,y");
MERGE_CASE(empty_into, "x,y", "", "x,y");
MERGE_CASE(disjoint, "a,c", "b,d", "a,b,c,d");
MERGE_CASE(overlap, "a,c,e", "b,c,d,e,f", "a,b,c,d,e,f");
MERGE_CASE(idempotent, "a,b", "a,b", "a,b");
MERGE_CASE(subset, "a,b,c", "b", "a,b,c");
MERGE_CASE(prefix_sorts_first, "ab", "a,abc", "a,ab,abc");
MERGE_CASE(overflow_marker_first, "m", "<>,z", "<>,m,z");
MERGE_CASE(marker_once, "<>,a", "<>,b", "<>,a,b");
MERGE_CASE(binary, "\\x00\\xff", "\\x00,\\xff", "\\x00,\\x00\\xff,\\xff");

TEST_F(merge, union)
{
	char t[1024];

	ASSERT_EQ(0, tpnl_merge_text(&self->nl, TPNL_SELF, 0, variant->add));
	ASSERT_EQ(0, tpnl_get_text(&self->nl, TPNL_SELF, 0, t, sizeof(t)));
	EXPECT_STREQ(variant->expect, t);
	ASSERT_EQ(0, tpnl_clear(&self->nl, TPNL_SELF, 0));
}

/* ---- other tasks by PID and TID ---------------------------------------------- */

/*
 * A task that answers on request: 'r' reports its baggage, as a
 * length-prefixed string; 'q' (or EOF) makes it exit.
 */
struct peer {
	int cmd[2], ans[2];
	pid_t pid, tid;
	pthread_t thr;
};

static void peer_loop(struct peer *p)
{
	char c, text[4096];

	while (read(p->cmd[0], &c, 1) == 1 && c == 'r') {
		uint32_t n;

		tp_self_text(text, sizeof(text));
		n = strlen(text);
		if (tp_write_all(p->ans[1], &n, sizeof(n)) ||
		    tp_write_all(p->ans[1], text, n))
			break;
	}
}

static void *peer_thread(void *arg)
{
	struct peer *p = arg;

	p->tid = gettid_();
	if (tp_write_all(p->ans[1], &p->tid, sizeof(p->tid)))
		return NULL;
	peer_loop(p);
	return NULL;
}

static int peer_start(struct peer *p, bool thread)
{
	if (pipe(p->cmd) || pipe(p->ans))
		return -1;
	if (thread) {
		if (pthread_create(&p->thr, NULL, peer_thread, p))
			return -1;
		p->pid = 0;
		return tp_read_full(p->ans[0], &p->tid, sizeof(p->tid));
	}
	p->pid = fork();
	if (p->pid < 0)
		return -1;
	if (p->pid == 0) {
		peer_loop(p);
		_exit(0);
	}
	p->tid = p->pid;
	return 0;
}

/* What the peer itself sees as its baggage. */
static const char *peer_view(struct peer *p, char *buf, size_t cap)
{
	uint32_t n;

	if (write(p->cmd[1], "r", 1) != 1 || tp_read_full(p->ans[0], &n, sizeof(n)) ||
	    n >= cap || tp_read_full(p->ans[0], buf, n))
		return "<peer gone>";
	buf[n] = '\0';
	return buf;
}

static void peer_stop(struct peer *p)
{
	if (write(p->cmd[1], "q", 1) != 1)
		return;
	if (p->pid > 0)
		tp_wait(p->pid);
	else
		pthread_join(p->thr, NULL);
	close(p->cmd[0]);
	close(p->cmd[1]);
	close(p->ans[0]);
	close(p->ans[1]);
}

FIXTURE(target) {
	struct tpnl nl;
	struct peer peer;
};

FIXTURE_VARIANT(target) {
	bool thread;		/* a thread of this process, else a child */
	enum tpnl_who who;
};

FIXTURE_VARIANT_ADD(target, child_by_pid) { .thread = false, .who = TPNL_PID };
FIXTURE_VARIANT_ADD(target, child_by_tid) { .thread = false, .who = TPNL_TID };
FIXTURE_VARIANT_ADD(target, thread_by_tid) { .thread = true, .who = TPNL_TID };

FIXTURE_SETUP(target)
{
	ASSERT_EQ(0, tpnl_open(&self->nl));
	ASSERT_EQ(0, tpnl_set_text(&self->nl, TPNL_SELF, 0, "parent"));
	/* The peer's command pipes must not carry baggage either way. */
	ASSERT_EQ(0, tpnl_set_read_policy(&self->nl, TPNL_SELF, 0,
					  TRACINGPLANE_READ_IGNORE));
	ASSERT_EQ(0, peer_start(&self->peer, variant->thread));
}

FIXTURE_TEARDOWN(target)
{
	peer_stop(&self->peer);
	tpnl_close(&self->nl);
}

/* Every operation reaches the named task, and only it (run as root). */
TEST_F(target, get_set_merge_clear)
{
	pid_t id = self->peer.tid;
	char t[1024], v[1024];

	/* inherited */
	ASSERT_EQ(0, tpnl_get_text(&self->nl, variant->who, id, t, sizeof(t)));
	EXPECT_STREQ("parent", t);

	ASSERT_EQ(0, tpnl_set_text(&self->nl, variant->who, id, "p,s"));
	ASSERT_EQ(0, tpnl_get_text(&self->nl, variant->who, id, t, sizeof(t)));
	EXPECT_STREQ("p,s", t);
	EXPECT_STREQ("p,s", peer_view(&self->peer, v, sizeof(v)));

	ASSERT_EQ(0, tpnl_merge_text(&self->nl, variant->who, id, "q,s"));
	ASSERT_EQ(0, tpnl_get_text(&self->nl, variant->who, id, t, sizeof(t)));
	EXPECT_STREQ("p,q,s", t);
	EXPECT_STREQ("p,q,s", peer_view(&self->peer, v, sizeof(v)));

	/* the caller's own baggage never moved */
	ASSERT_EQ(0, tpnl_get_text(&self->nl, TPNL_SELF, 0, t, sizeof(t)));
	EXPECT_STREQ("parent", t);

	ASSERT_EQ(0, tpnl_clear(&self->nl, variant->who, id));
	ASSERT_EQ(0, tpnl_get_text(&self->nl, variant->who, id, t, sizeof(t)));
	EXPECT_STREQ("", t);
	EXPECT_STREQ("", peer_view(&self->peer, v, sizeof(v)));
	ASSERT_EQ(0, tpnl_get_text(&self->nl, TPNL_SELF, 0, t, sizeof(t)));
	EXPECT_STREQ("parent", t);
}

/* PID names the main thread: for a thread, the process's main thread. */
TEST_F(target, pid_means_main_thread)
{
	char t[1024];

	if (!variant->thread) {
		/* the child is its own main thread: PID and TID agree */
		ASSERT_EQ(0, tpnl_set_text(&self->nl, TPNL_PID, self->peer.pid, "kid"));
		ASSERT_EQ(0, tpnl_get_text(&self->nl, TPNL_TID, self->peer.pid, t, sizeof(t)));
		EXPECT_STREQ("kid", t);
		return;
	}
	ASSERT_EQ(0, tpnl_set_text(&self->nl, TPNL_TID, self->peer.tid, "thr"));
	ASSERT_EQ(0, tpnl_get_text(&self->nl, TPNL_PID, getpid(), t, sizeof(t)));
	EXPECT_STREQ("parent", t);
	ASSERT_EQ(0, tpnl_get_text(&self->nl, TPNL_TID, gettid_(), t, sizeof(t)));
	EXPECT_STREQ("parent", t);
	/* a thread id is no process id */
	EXPECT_EQ(-ESRCH, tpnl_get_text(&self->nl, TPNL_PID, self->peer.tid, t, sizeof(t)));
}

/* ---- START_TIME: the task named is the one that started then ------------- */

/* Field 22 of /proc/TID/stat: the start time in clock ticks. */
static long long stat_start_ticks(pid_t tid)
{
	char path[64], buf[1024], *p;
	long long ticks = -1;
	int fd, i;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/stat", tid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	/* after "(comm)", which may hold spaces, field 3 starts */
	p = strrchr(buf, ')');
	for (i = 3; p && i <= 22; i++)
		p = strchr(p + 1, ' ');
	if (p)
		ticks = atoll(p + 1);
	return ticks;
}

/* A request naming @who/@id that also names its START_TIME. */
static int write_started(struct tpnl *t, uint8_t cmd, enum tpnl_who who, pid_t id,
			 uint64_t start, const char *text, struct tpnl_reply *r)
{
	struct nlmsghdr *nlh = tpnl_msg(t, cmd);
	uint8_t bag[256];
	int err;

	tpnl_put_who(nlh, who, id);
	mnl_attr_put_u64(nlh, TRACINGPLANE_A_START_TIME, start);
	if (cmd == TRACINGPLANE_CMD_SET_READ_POLICY)
		mnl_attr_put_u8(nlh, TRACINGPLANE_A_READ_POLICY, TRACINGPLANE_READ_IGNORE);
	else if (cmd != TRACINGPLANE_CMD_CLEAR)
		tpnl_put_attr(nlh, TRACINGPLANE_A_BAGGAGE, bag, tp_atoms(bag, text));
	err = tpnl_xfer(t, nlh, r);
	tpnl_reply_free(r);
	return err;
}

#define MSG_STALE "start_time: not when the task with this number started: " \
	"the task named exited, and its number was reused"

/*
 * GET reports the task's start time, /proc's starttime in nanoseconds;
 * every write that names it with that time goes through, and with any
 * other fails with ESRCH and changes nothing.
 */
TEST_F(target, start_time_names_the_task)
{
	static const uint8_t writes[] = {
		TRACINGPLANE_CMD_SET, TRACINGPLANE_CMD_MERGE,
		TRACINGPLANE_CMD_SET_READ_POLICY, TRACINGPLANE_CMD_CLEAR,
	};
	pid_t id = self->peer.tid;
	long long ticks = stat_start_ticks(id);
	struct nlmsghdr *nlh = tpnl_msg(&self->nl, TRACINGPLANE_CMD_GET);
	struct tpnl_reply r;
	uint64_t start;
	char t[256];
	size_t i;

	tpnl_put_who(nlh, variant->who, id);
	ASSERT_EQ(0, tpnl_xfer(&self->nl, nlh, &r));
	tpnl_reply_free(&r);
	ASSERT_TRUE(r.has_start_time);
	start = r.start_time;
	ASSERT_LT(0, ticks);
	EXPECT_EQ((uint64_t)ticks, start / (1000000000ULL / (uint64_t)sysconf(_SC_CLK_TCK)));

	for (i = 0; i < sizeof(writes); i++) {
		ASSERT_EQ(-ESRCH, write_started(&self->nl, writes[i], variant->who, id,
						start + 1, "stale", &r)) TH_LOG("%d: %s", writes[i], r.msg);
		EXPECT_STREQ(MSG_STALE, r.msg);
		ASSERT_EQ(0, tpnl_get_text(&self->nl, variant->who, id, t, sizeof(t)));
		EXPECT_STREQ("parent", t) TH_LOG("command %d", writes[i]);
	}
	ASSERT_EQ(0, write_started(&self->nl, TRACINGPLANE_CMD_SET, variant->who, id,
				   start, "named", &r));
	ASSERT_EQ(0, tpnl_get_text(&self->nl, variant->who, id, t, sizeof(t)));
	EXPECT_STREQ("named", t);
	ASSERT_EQ(0, write_started(&self->nl, TRACINGPLANE_CMD_CLEAR, variant->who, id,
				   start, NULL, &r));
	ASSERT_EQ(0, tpnl_get_text(&self->nl, variant->who, id, t, sizeof(t)));
	EXPECT_STREQ("", t);
}

/* Forks a child that waits to be killed; returns its pid. */
static pid_t idle_child(void)
{
	pid_t pid = fork();

	if (pid == 0) {
		pause();
		_exit(0);
	}
	return pid;
}

/*
 * A child that waits to be killed, with pid @pid (clone3()'s set_tid:
 * root, the initial pid namespace); -1 if that pid is taken.
 */
static pid_t idle_child_at(pid_t pid)
{
	struct clone_args args = {
		.exit_signal = SIGCHLD,
		.set_tid = (uintptr_t)&pid,
		.set_tid_size = 1,
	};
	long ret = syscall(SYS_clone3, &args, sizeof(args));

	if (ret == 0) {
		pause();
		_exit(0);
	}
	return (pid_t)ret;
}

/*
 * The race tpctl_pin() closes: a process read by pid exits, and a new one
 * gets its pid before the write.  The write must not land on the new one.
 */
TEST(pin_refuses_a_reused_pid)
{
	struct tpctl *h = tpctl_open();
	struct tpctl_bag *bag = tpctl_bag_new();
	struct tpnl nl;
	pid_t first, second;
	char t[256];

	ASSERT_NE(NULL, h);
	ASSERT_NE(NULL, bag);
	ASSERT_EQ(0, tpnl_open(&nl));
	ASSERT_EQ(0, tpctl_bag_set_string(bag, "k", "v"));
	first = idle_child();
	ASSERT_LT(0, first);
	ASSERT_EQ(0, tpctl_pin(h, TPCTL_PID, first));
	ASSERT_EQ(0, kill(first, SIGKILL));
	ASSERT_EQ(first, waitpid(first, NULL, 0));
	second = idle_child_at(first);
	ASSERT_EQ(first, second) TH_LOG("pid %d not reused: %s", first, strerror(errno));

	EXPECT_EQ(-ESRCH, tpctl_set(h, TPCTL_PID, first, bag));
	EXPECT_STREQ(MSG_STALE, tpctl_errmsg(h));
	EXPECT_EQ(-ESRCH, tpctl_merge(h, TPCTL_PID, first, bag));
	ASSERT_EQ(0, tpnl_get_text(&nl, TPNL_PID, second, t, sizeof(t)));
	EXPECT_STREQ("", t) TH_LOG("the write reached the pid's new process");
	/* pinned afresh, the new process is the one written */
	ASSERT_EQ(0, tpctl_pin(h, TPCTL_PID, second));
	EXPECT_EQ(0, tpctl_set(h, TPCTL_PID, second, bag));
	EXPECT_EQ(-EINVAL, tpctl_pin(h, TPCTL_SELF, 0));

	kill(second, SIGKILL);
	waitpid(second, NULL, 0);
	tpnl_close(&nl);
	tpctl_bag_free(bag);
	tpctl_close(h);
}

/* ---- STATUS -------------------------------------------------------------- */

TEST_F(nl, status_fields)
{
	struct tp_status st;
	struct tpnl_reply r;
	struct nlmsghdr *nlh = tpnl_msg(&self->nl, TRACINGPLANE_CMD_STATUS);

	ASSERT_EQ(0, tpnl_xfer(&self->nl, nlh, &r));
	tpnl_reply_free(&r);
	EXPECT_TRUE(r.got_reply);
	EXPECT_EQ(8, r.nstatus);
	EXPECT_TRUE(r.has_max_bytes);
	EXPECT_TRUE(r.has_mem_cap);
	ASSERT_EQ(0, tpnl_status(&self->nl, &st));
	EXPECT_NE(0U, strlen(st.version));
	EXPECT_EQ(tp_param("max_bytes"), (long long)st.max_bytes);
	EXPECT_EQ(tp_param("mem_cap"), (long long)st.mem_cap);
}

/*
 * Polls STATUS until the live counters are exactly these: blobs are freed
 * after an RCU grace period and exited tasks' entries when their
 * task_struct goes, both a little after the fact.
 */
static int wait_live(struct tpnl *nl, struct tp_status *st, uint64_t tasks,
		     uint64_t bags, uint64_t bytes)
{
	uint64_t deadline = tp_deadline(30);

	while (!tp_expired(deadline)) {
		if (tpnl_status(nl, st))
			return -1;
		if (st->live_tasks == tasks && st->live_bags == bags && st->live_bytes == bytes)
			return 0;
		usleep(10000);
	}
	return -1;
}

/*
 * The live counters follow the baggage: a blob is shared, not copied, by
 * fork, and everything returns to zero when the tasks let go.
 */
TEST_F_TIMEOUT(nl, status_live_counters, 120)
{
	enum { KIDS = 20 };
	struct tp_status st;
	uint64_t one_bag;
	pid_t kids[KIDS];
	int hold[2], ready[2];
	char c;

	ASSERT_EQ(0, tpnl_wait_quiescent(&self->nl, &st, 60))
		TH_LOG("still live: %llu tasks %llu bags %llu bytes",
		       (unsigned long long)st.live_tasks, (unsigned long long)st.live_bags,
		       (unsigned long long)st.live_bytes);

	/*
	 * live_bytes counts whole allocations, header included: measure the
	 * header with a 3-byte baggage, then expect exactly 3 bytes more.
	 */
	ASSERT_EQ(0, tpnl_set_text(&self->nl, TPNL_SELF, 0, "ab"));	/* 3 bytes */
	ASSERT_EQ(0, tpnl_status(&self->nl, &st));
	ASSERT_LT((uint64_t)3, st.live_bytes);
	one_bag = st.live_bytes;
	ASSERT_EQ(0, tpnl_set_text(&self->nl, TPNL_SELF, 0, "ab,cd"));	/* 6 bytes */
	EXPECT_EQ(0, wait_live(&self->nl, &st, 1, 1, one_bag + 3))
		TH_LOG("%llu tasks %llu bags %llu bytes", (unsigned long long)st.live_tasks,
		       (unsigned long long)st.live_bags, (unsigned long long)st.live_bytes);

	ASSERT_EQ(0, pipe(hold));
	ASSERT_EQ(0, pipe(ready));
	for (int i = 0; i < KIDS; i++) {
		kids[i] = fork();
		ASSERT_LE(0, kids[i]);
		if (kids[i] == 0) {
			close(hold[1]);
			/* the last child makes a baggage of its own */
			if (i == KIDS - 1 && tp_self_op(TRACINGPLANE_CMD_MERGE, "x"))
				_exit(1);
			if (write(ready[1], "r", 1) != 1)
				_exit(2);
			_exit(read(hold[0], &c, 1) == 0 ? 0 : 3);
		}
	}
	close(hold[0]);
	for (int i = 0; i < KIDS; i++)
		ASSERT_EQ(1, read(ready[0], &c, 1));
	/*
	 * One blob shared by 20 tasks, one of the last child's own ("ab,cd,x"):
	 * two headers, 6 + 8 bytes of atoms.
	 */
	EXPECT_EQ(0, wait_live(&self->nl, &st, KIDS + 1, 2, 2 * (one_bag - 3) + 6 + 8))
		TH_LOG("%llu tasks %llu bags %llu bytes", (unsigned long long)st.live_tasks,
		       (unsigned long long)st.live_bags, (unsigned long long)st.live_bytes);

	close(hold[1]);				/* the children exit */
	for (int i = 0; i < KIDS; i++)
		EXPECT_EQ(0, tp_wait(kids[i]));
	ASSERT_EQ(0, tpnl_clear(&self->nl, TPNL_SELF, 0));
	EXPECT_EQ(0, tpnl_wait_quiescent(&self->nl, &st, 60))
		TH_LOG("still live: %llu tasks %llu bags %llu bytes",
		       (unsigned long long)st.live_tasks, (unsigned long long)st.live_bags,
		       (unsigned long long)st.live_bytes);
}

/* ---- trimming at max_bytes ---------------------------------------------------- */

/*
 * Serialized baggage of exactly @size bytes (size >= 2): atoms "<tag>NNNN..."
 * of @atom bytes each, then one filler atom "<tag>~..." for the rest, so
 * that the atoms are sorted.  Returns the number of atoms.
 */
static int build_bag(uint8_t *out, size_t size, char tag, size_t atom)
{
	uint8_t a[512];
	size_t pos = 0;
	int n = 0;

	while (size - pos >= atom + 1 + 64) {
		memset(a, '.', atom);
		a[0] = (uint8_t)tag;
		snprintf((char *)a + 1, 5, "%04d", n % 10000);
		a[5] = '.';
		tp_put_atom(out, &pos, a, atom);
		n++;
	}
	/* filler: varints + bytes == what is left (129 needs two atoms) */
	if (size - pos == 129) {
		memset(a, '}', 63);
		a[0] = (uint8_t)tag;
		tp_put_atom(out, &pos, a, 63);
		n++;
	}
	{
		size_t left = size - pos, len = left <= 128 ? left - 1 : left - 2;

		memset(a, '~', len);
		if (len)
			a[0] = (uint8_t)tag;
		tp_put_atom(out, &pos, a, len);
		n++;
	}
	return n;
}

FIXTURE(trim) {
	struct tpnl nl;
	uint32_t max;
	uint8_t *buf;
};

FIXTURE_SETUP(trim)
{
	struct tp_status st;

	ASSERT_EQ(0, tpnl_open(&self->nl));
	ASSERT_EQ(0, tpnl_clear(&self->nl, TPNL_SELF, 0));
	ASSERT_EQ(0, tpnl_status(&self->nl, &st));
	self->max = st.max_bytes;
	ASSERT_LE(1024U, self->max);
	self->buf = malloc(TP_BAG_BUF);
	ASSERT_NE(NULL, self->buf);
}

FIXTURE_TEARDOWN(trim)
{
	char v[16];

	snprintf(v, sizeof(v), "%u", self->max);
	tp_param_write("max_bytes", v);
	tpnl_clear(&self->nl, TPNL_SELF, 0);
	tpnl_close(&self->nl);
	free(self->buf);
}

/*
 * The module's trim counter.  It is global: a reader credited meanwhile
 * with baggage over the limit (selftests/run's tee, say) counts a trim
 * too, so a test's own trim shows as at least one more, and a test that
 * must not trim checks its baggage's bytes instead.
 */
static uint64_t trims(struct __test_metadata *_metadata, struct tpnl *nl)
{
	struct tp_status st = { .trims = ~0ULL };

	EXPECT_EQ(0, tpnl_status(nl, &st));
	return st.trims;
}

/*
 * @got must be the overflow marker followed by the longest prefix of
 * @want's atoms that fits in @max bytes.
 */
static void expect_trimmed(struct __test_metadata *_metadata, const uint8_t *want, size_t wlen,
			   const uint8_t *got, size_t glen, size_t max)
{
	size_t keep = 0, pos = 0;

	ASSERT_LE(glen, max);
	ASSERT_LE(1U, glen);
	EXPECT_EQ(0, got[0]) TH_LOG("the first atom is not the overflow marker");
	ASSERT_LE(0, tp_validate(got, glen));
	/* the longest prefix of want that fits after the 1-byte marker */
	while (pos < wlen) {
		uint32_t v = 0;
		size_t start = pos, shift = 0;
		uint8_t c;

		do {
			c = want[pos++];
			v |= (uint32_t)(c & 0x7f) << shift;
			shift += 7;
		} while (c & 0x80);
		if (1 + (pos - start) + v + keep > max)
			break;
		pos += v;
		keep = pos;
	}
	ASSERT_EQ(1 + keep, glen);
	EXPECT_EQ(0, memcmp(want, got + 1, keep));
}

/* A baggage of exactly max_bytes fits; one byte more is trimmed. */
TEST_F(trim, set_at_and_over_max_bytes)
{
	uint64_t before;
	uint8_t *got;
	size_t glen;

	build_bag(self->buf, self->max, 'a', 100);
	before = trims(_metadata, &self->nl);
	ASSERT_EQ(0, tpnl_set(&self->nl, TPNL_SELF, 0, self->buf, self->max));
	ASSERT_EQ(0, tpnl_get(&self->nl, TPNL_SELF, 0, &got, &glen, NULL));
	ASSERT_EQ(self->max, glen);
	EXPECT_EQ(0, memcmp(self->buf, got, glen));
	free(got);

	build_bag(self->buf, self->max + 1, 'a', 100);
	ASSERT_EQ(0, tpnl_set(&self->nl, TPNL_SELF, 0, self->buf, self->max + 1));
	ASSERT_EQ(0, tpnl_get(&self->nl, TPNL_SELF, 0, &got, &glen, NULL));
	expect_trimmed(_metadata, self->buf, self->max + 1, got, glen, self->max);
	free(got);
	EXPECT_LE(before + 1, trims(_metadata, &self->nl));
}

/* The largest attribute netlink can carry is accepted, and trimmed. */
TEST_F(trim, set_largest_attribute)
{
	const size_t size = 65535 - 4;
	uint64_t before = trims(_metadata, &self->nl);
	uint8_t *got;
	size_t glen;

	build_bag(self->buf, size, 'b', 127);
	ASSERT_LE(0, tp_validate(self->buf, size));
	ASSERT_EQ(0, tpnl_set(&self->nl, TPNL_SELF, 0, self->buf, size));
	ASSERT_EQ(0, tpnl_get(&self->nl, TPNL_SELF, 0, &got, &glen, NULL));
	expect_trimmed(_metadata, self->buf, size, got, glen, self->max);
	free(got);
	EXPECT_LE(before + 1, trims(_metadata, &self->nl));
}

/* A merge whose union is too big is trimmed like a SET of the union. */
TEST_F(trim, merge_over_max_bytes)
{
	size_t half = self->max / 2 + 50, plen;
	uint8_t *b2 = self->buf + 32768, *got, *u;
	uint64_t before;
	size_t glen, ulen;

	ASSERT_GE(16000U, self->max);
	build_bag(self->buf, half, 'a', 100);
	build_bag(b2, half, 'b', 100);
	ASSERT_EQ(0, tpnl_set(&self->nl, TPNL_SELF, 0, self->buf, half));
	before = trims(_metadata, &self->nl);
	ASSERT_EQ(0, tpnl_merge(&self->nl, TPNL_SELF, 0, b2, half));
	ASSERT_EQ(0, tpnl_get(&self->nl, TPNL_SELF, 0, &got, &glen, NULL));
	/* all 'a' atoms sort before all 'b' atoms: the union is a ++ b */
	u = malloc(2 * half);
	ASSERT_NE(NULL, u);
	memcpy(u, self->buf, half);
	memcpy(u + half, b2, half);
	ulen = 2 * half;
	plen = ulen;
	expect_trimmed(_metadata, u, plen, got, glen, self->max);
	free(u);
	free(got);
	EXPECT_LE(before + 1, trims(_metadata, &self->nl));
}

/*
 * max_bytes is writable at runtime: a lower limit applies to the next
 * change, and never rewrites a baggage already stored.
 */
TEST_F(trim, runtime_max_bytes)
{
	struct tp_status st;
	uint8_t *got;
	size_t glen, len;

	len = 300;
	build_bag(self->buf, len, 'c', 20);
	ASSERT_EQ(0, tpnl_set(&self->nl, TPNL_SELF, 0, self->buf, len));
	ASSERT_EQ(0, tp_param_write("max_bytes", "64"));
	ASSERT_EQ(0, tpnl_status(&self->nl, &st));
	EXPECT_EQ(64U, st.max_bytes);
	EXPECT_EQ(64, tp_param("max_bytes"));

	ASSERT_EQ(0, tpnl_get(&self->nl, TPNL_SELF, 0, &got, &glen, NULL));
	EXPECT_EQ(len, glen) TH_LOG("lowering max_bytes rewrote a stored baggage");
	free(got);

	/* the next change is trimmed to the new limit */
	ASSERT_EQ(0, tpnl_merge_text(&self->nl, TPNL_SELF, 0, "zz"));
	ASSERT_EQ(0, tpnl_get(&self->nl, TPNL_SELF, 0, &got, &glen, NULL));
	expect_trimmed(_metadata, self->buf, len, got, glen, 64);
	free(got);
}

/*
 * A read that credits a reader without baggage with data whose baggage
 * is over a max_bytes lowered since (the writer's, stored before) is a
 * merge like any other: the reader gets it trimmed to the new limit.
 */
TEST_F(trim, runtime_max_bytes_pipe_read)
{
	int data[2], status;
	size_t len = 300;
	pid_t child;
	char c = 'x';

	build_bag(self->buf, len, 'd', 20);
	ASSERT_EQ(0, tpnl_set(&self->nl, TPNL_SELF, 0, self->buf, len));
	ASSERT_EQ(0, tp_param_write("max_bytes", "64"));
	ASSERT_EQ(0, pipe(data));
	child = fork();
	ASSERT_LE(0, child);
	if (!child) {
		struct tpnl nl;
		uint8_t *got;
		size_t glen;

		close(data[1]);
		if (tpnl_open(&nl) || tpnl_clear(&nl, TPNL_SELF, 0) ||
		    read(data[0], &c, 1) != 1 ||
		    tpnl_get(&nl, TPNL_SELF, 0, &got, &glen, NULL))
			_exit(2);
		/* the overflow marker and what fits of the writer's 300 bytes */
		_exit(glen >= 2 && glen <= 64 && !got[0] &&
		      !memcmp(got + 1, self->buf, glen - 1) ? 0 : 1);
	}
	close(data[0]);
	ASSERT_EQ(1, write(data[1], &c, 1));
	close(data[1]);
	ASSERT_EQ(child, waitpid(child, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status)) TH_LOG("the reader's baggage is not the writer's trimmed to 64 bytes");
}

/* A SET or MERGE of the calling task with NO_TRIM: exact or not at all. */
static int exact_write(struct tpnl *nl, uint8_t cmd, const void *bag, size_t len,
		       struct tpnl_reply *r)
{
	struct nlmsghdr *nlh = tpnl_msg(nl, cmd);
	int err;

	tpnl_put_attr(nlh, TRACINGPLANE_A_BAGGAGE, bag, len);
	mnl_attr_put(nlh, TRACINGPLANE_A_NO_TRIM, 0, NULL);
	err = tpnl_xfer(nl, nlh, r);
	tpnl_reply_free(r);
	return err;
}

/* The calling task's baggage is exactly @want's @len bytes. */
static void expect_bag(struct __test_metadata *_metadata, struct tpnl *nl,
		       const uint8_t *want, size_t len)
{
	uint8_t *got;
	size_t glen;

	ASSERT_EQ(0, tpnl_get(nl, TPNL_SELF, 0, &got, &glen, NULL));
	EXPECT_EQ(len, glen);
	if (glen == len)
		EXPECT_EQ(0, memcmp(want, got, len)) TH_LOG("the baggage changed");
	free(got);
}

/* With NO_TRIM a SET over max_bytes fails whole; one at max_bytes is kept. */
TEST_F(trim, exact_set_over_max_bytes_changes_nothing)
{
	uint8_t *b2 = self->buf + 32768;
	struct tpnl_reply r;

	build_bag(self->buf, 300, 'a', 20);
	ASSERT_EQ(0, tpnl_set(&self->nl, TPNL_SELF, 0, self->buf, 300));
	build_bag(b2, self->max + 1, 'b', 100);
	EXPECT_EQ(-E2BIG, exact_write(&self->nl, TRACINGPLANE_CMD_SET, b2, self->max + 1, &r));
	EXPECT_STREQ("baggage: the result would be larger than max_bytes; nothing changed", r.msg);
	expect_bag(_metadata, &self->nl, self->buf, 300);

	build_bag(b2, self->max, 'b', 100);
	EXPECT_EQ(0, exact_write(&self->nl, TRACINGPLANE_CMD_SET, b2, self->max, &r));
	expect_bag(_metadata, &self->nl, b2, self->max);
}

/* With NO_TRIM a MERGE whose union is over max_bytes fails whole. */
TEST_F(trim, exact_merge_over_max_bytes_changes_nothing)
{
	size_t half = self->max / 2 + 50;
	uint8_t *b2 = self->buf + 32768;
	struct tpnl_reply r;

	build_bag(self->buf, half, 'a', 100);
	build_bag(b2, half, 'b', 100);
	ASSERT_EQ(0, tpnl_set(&self->nl, TPNL_SELF, 0, self->buf, half));
	EXPECT_EQ(-E2BIG, exact_write(&self->nl, TRACINGPLANE_CMD_MERGE, b2, half, &r));
	EXPECT_STREQ("baggage: the result would be larger than max_bytes; nothing changed", r.msg);
	expect_bag(_metadata, &self->nl, self->buf, half);
}

/*
 * Children that hold distinct 8000-byte baggages, 140 of them: 1.1 MB,
 * over the 1 MiB mem_cap the tests then set, so that every result is
 * trimmed to the floor a write or a read keeps.  Their "ready" bytes
 * must not bring their baggage to the test, which reads them under the
 * ignore policy.  cap_release() lets them go and restores the cap.
 */
enum { HOLDERS = 140, HOLDER_SIZE = 8000 };

struct cap_holders {
	pid_t pids[HOLDERS];
	int go[2], ready[2];
};

/* A child holding @tag's 8000 bytes; returns when it holds them. */
static pid_t cap_holder(struct cap_holders *h, uint8_t *buf, int i)
{
	pid_t pid = fork();
	char c = 'r';

	if (pid)
		return pid;
	close(h->go[1]);
	build_bag(buf, HOLDER_SIZE, (char)('A' + i % 26), 40 + i / 26);
	{
		struct tpnl nl;

		if (tpnl_open(&nl) || tpnl_set(&nl, TPNL_SELF, 0, buf, HOLDER_SIZE))
			_exit(1);
	}
	if (write(h->ready[1], &c, 1) != 1)
		_exit(1);
	/* holds its baggage until the test closes the pipe */
	_exit(read(h->go[0], &c, 1) == 0 ? 0 : 1);
}

static void cap_fill(struct __test_metadata *_metadata, struct tpnl *nl,
		     struct cap_holders *h, uint8_t *buf)
{
	int i;
	char c;

	ASSERT_EQ(0, tpnl_set_read_policy(nl, TPNL_SELF, 0, TRACINGPLANE_READ_IGNORE));
	ASSERT_EQ(0, pipe(h->go));
	ASSERT_EQ(0, pipe(h->ready));
	for (i = 0; i < HOLDERS; i++) {
		h->pids[i] = cap_holder(h, buf, i);
		ASSERT_LE(0, h->pids[i]);
	}
	close(h->go[0]);
	for (i = 0; i < HOLDERS; i++)
		ASSERT_EQ(1, read(h->ready[0], &c, 1));
	ASSERT_EQ(0, tpnl_set_read_policy(nl, TPNL_SELF, 0, TRACINGPLANE_READ_MERGE));
	ASSERT_EQ(0, tp_param_write("mem_cap", "1048576"));
}

static void cap_release(struct __test_metadata *_metadata, struct cap_holders *h)
{
	int i, status;

	tp_param_write("mem_cap", "67108864");
	close(h->go[1]);
	for (i = 0; i < HOLDERS; i++) {
		ASSERT_EQ(h->pids[i], waitpid(h->pids[i], &status, 0));
		EXPECT_TRUE(WIFEXITED(status) && !WEXITSTATUS(status));
	}
	close(h->ready[0]);
	close(h->ready[1]);
}

/* The caller's baggage: its size, and whether it holds the overflow marker. */
static size_t own_size(struct __test_metadata *_metadata, struct tpnl *nl,
		       bool *overflowed)
{
	uint8_t *got;
	size_t len;

	EXPECT_EQ(0, tpnl_get(nl, TPNL_SELF, 0, &got, &len, NULL));
	*overflowed = len && got[0] == 0;
	free(got);
	return len;
}

/*
 * With NO_TRIM a SET that fits max_bytes but not what the baggage of
 * other tasks leaves under mem_cap fails with ENOSPC, whole.
 */
TEST_F(trim, exact_set_over_mem_cap_changes_nothing)
{
	uint8_t *b2 = self->buf + 32768;
	struct cap_holders h;
	struct tpnl_reply r;

	build_bag(self->buf, 300, 'a', 20);
	ASSERT_EQ(0, tpnl_set(&self->nl, TPNL_SELF, 0, self->buf, 300));
	cap_fill(_metadata, &self->nl, &h, b2);

	build_bag(b2, HOLDER_SIZE, 'z', 100);
	EXPECT_EQ(-ENOSPC, exact_write(&self->nl, TRACINGPLANE_CMD_SET, b2, HOLDER_SIZE, &r));
	EXPECT_STREQ("baggage: the result would be larger than mem_cap leaves; nothing changed",
		     r.msg);
	expect_bag(_metadata, &self->nl, self->buf, 300);
	cap_release(_metadata, &h);
}

/*
 * At a full cap a MERGE stops the baggage growing but never shrinks what
 * the task holds: an exact MERGE of what it holds already succeeds and
 * changes nothing, and a trimming MERGE keeps all it held but the atom
 * the overflow marker displaces (build_bag()'s last, under 90 bytes),
 * not just the marker.
 */
TEST_F(trim, merge_at_full_mem_cap_keeps_what_the_task_holds)
{
	uint8_t *b2 = self->buf + 32768;
	static const uint8_t late[] = { 2, 'z', 'z' };
	struct cap_holders h;
	struct tpnl_reply r;
	bool overflowed;
	size_t size;

	build_bag(self->buf, 300, 'a', 20);
	ASSERT_EQ(0, tpnl_set(&self->nl, TPNL_SELF, 0, self->buf, 300));
	cap_fill(_metadata, &self->nl, &h, b2);

	EXPECT_EQ(0, exact_write(&self->nl, TRACINGPLANE_CMD_MERGE, self->buf, 300, &r));
	expect_bag(_metadata, &self->nl, self->buf, 300);
	EXPECT_EQ(-ENOSPC, exact_write(&self->nl, TRACINGPLANE_CMD_MERGE, late, sizeof(late), &r));
	expect_bag(_metadata, &self->nl, self->buf, 300);

	ASSERT_EQ(0, tpnl_merge(&self->nl, TPNL_SELF, 0, late, sizeof(late)));
	size = own_size(_metadata, &self->nl, &overflowed);
	EXPECT_TRUE(overflowed);
	EXPECT_LE((size_t)300 - 90, size) TH_LOG("a MERGE at a full cap shrank the baggage to %zu bytes", size);
	EXPECT_GE((size_t)300, size);
	cap_release(_metadata, &h);
}

/*
 * At a full cap a read's credit is trimmed to the larger of the reader's
 * baggage and the data's, with the marker, instead of their union.
 */
TEST_F(trim, read_at_full_mem_cap_is_trimmed_to_its_larger_input)
{
	uint8_t *b2 = self->buf + 32768;
	int data[2], go[2], status;
	struct cap_holders h;
	bool overflowed;
	size_t size;
	pid_t writer;
	char c = 'x';

	build_bag(self->buf, 300, 'a', 20);
	ASSERT_EQ(0, tpnl_set(&self->nl, TPNL_SELF, 0, self->buf, 300));
	ASSERT_EQ(0, pipe(data));
	ASSERT_EQ(0, pipe(go));
	writer = fork();
	ASSERT_LE(0, writer);
	if (!writer) {
		struct tpnl nl;

		build_bag(b2, HOLDER_SIZE, 'w', 100);
		if (tpnl_open(&nl) || tpnl_set(&nl, TPNL_SELF, 0, b2, HOLDER_SIZE) ||
		    read(go[0], &c, 1) != 1 || write(data[1], &c, 1) != 1)
			_exit(1);
		_exit(0);
	}
	cap_fill(_metadata, &self->nl, &h, b2);

	ASSERT_EQ(1, write(go[1], &c, 1));
	ASSERT_EQ(1, read(data[0], &c, 1));
	size = own_size(_metadata, &self->nl, &overflowed);
	EXPECT_TRUE(overflowed) TH_LOG("a read at a full cap grew the baggage to %zu bytes", size);
	EXPECT_GE((size_t)HOLDER_SIZE, size);
	EXPECT_LE((size_t)HOLDER_SIZE - 200, size);

	ASSERT_EQ(writer, waitpid(writer, &status, 0));
	EXPECT_TRUE(WIFEXITED(status) && !WEXITSTATUS(status));
	cap_release(_metadata, &h);
	close(data[0]);
	close(data[1]);
	close(go[0]);
	close(go[1]);
}

/* ---- malformed requests --------------------------------------------------------- */

enum target {
	T_NONE,		/* no PID/TID attribute */
	T_CHILD,	/* a live child holding "child" */
	T_ZERO,
	T_INT_MAX,
	T_BEYOND_INT,	/* 0x80000000 */
	T_DEAD,		/* a reaped child */
	T_ZOMBIE,	/* an exited, unreaped child */
	T_KTHREAD,	/* kthreadd, pid 2 */
	T_THREAD,	/* a thread of this process (not a process id) */
};

enum blame { B_NONE, B_TARGET, B_TID, B_BAG, B_EXTRA };

FIXTURE(bad) {
	struct tpnl nl;
	pid_t child, zombie;
	pid_t id;
	int hold[2];
	struct peer thr;
	bool have_thr;
};

FIXTURE_VARIANT(bad) {
	uint8_t cmd;
	enum target target;
	uint16_t target_attr;	/* TRACINGPLANE_A_PID or _TID */
	int target_len;		/* 0 means 4 */
	bool also_tid;		/* a TID after the target attribute */
	bool has_bag;
	const char *bag;
	size_t bag_len;
	uint16_t extra_type;	/* an extra attribute of zero bytes, */
	int extra_len;		/* 4 of them unless given (PAD: none) */
	size_t trailer;		/* garbage bytes after the attributes */
	uint16_t flags;		/* more nlmsg_flags */
	uint8_t reserved;
	int err;
	const char *msg;
	enum blame blame;
	bool miss_bag;		/* NLMSGERR_ATTR_MISS_TYPE is BAGGAGE */
};

static void *bad_thread(void *arg)
{
	return peer_thread(arg);
}

FIXTURE_SETUP(bad)
{
	int ready[2];
	char c;

	self->child = self->zombie = 0;
	self->have_thr = false;
	ASSERT_EQ(0, tpnl_open(&self->nl));
	ASSERT_EQ(0, tpnl_set_text(&self->nl, TPNL_SELF, 0, "keep"));
	/* The child's "ready" pipe must not carry its baggage to us. */
	ASSERT_EQ(0, tpnl_set_read_policy(&self->nl, TPNL_SELF, 0,
					  TRACINGPLANE_READ_IGNORE));

	ASSERT_EQ(0, pipe(self->hold));
	ASSERT_EQ(0, pipe(ready));
	self->child = fork();
	ASSERT_LE(0, self->child);
	if (self->child == 0) {
		close(self->hold[1]);
		if (tp_self_op(TRACINGPLANE_CMD_SET, "child") || write(ready[1], "r", 1) != 1)
			_exit(2);
		_exit(read(self->hold[0], &c, 1) == 0 ? 0 : 1);
	}
	close(self->hold[0]);
	close(ready[1]);
	ASSERT_EQ(1, read(ready[0], &c, 1));
	close(ready[0]);

	switch (variant->target) {
	case T_NONE:
	case T_ZERO:
		self->id = 0;
		break;
	case T_CHILD:
		self->id = self->child;
		break;
	case T_INT_MAX:
		self->id = 0x7fffffff;
		break;
	case T_BEYOND_INT:
		self->id = (pid_t)0x80000000u;
		break;
	case T_DEAD:
		self->id = fork();
		ASSERT_LE(0, self->id);
		if (self->id == 0)
			_exit(0);
		ASSERT_EQ(0, tp_wait(self->id));
		break;
	case T_ZOMBIE: {
		siginfo_t si;

		self->zombie = self->id = fork();
		ASSERT_LE(0, self->id);
		if (self->id == 0)
			_exit(0);
		/* exited, not reaped */
		ASSERT_EQ(0, waitid(P_PID, self->id, &si, WEXITED | WNOWAIT));
		break;
	}
	case T_KTHREAD: {
		char comm[32] = "";
		FILE *f = fopen("/proc/2/comm", "r");

		ASSERT_NE(NULL, f);
		ASSERT_NE(NULL, fgets(comm, sizeof(comm), f));
		fclose(f);
		ASSERT_STREQ("kthreadd\n", comm);
		self->id = 2;
		break;
	}
	case T_THREAD:
		ASSERT_EQ(0, pipe(self->thr.cmd));
		ASSERT_EQ(0, pipe(self->thr.ans));
		ASSERT_EQ(0, pthread_create(&self->thr.thr, NULL, bad_thread, &self->thr));
		ASSERT_EQ(0, tp_read_full(self->thr.ans[0], &self->thr.tid, sizeof(pid_t)));
		self->thr.pid = 0;
		self->have_thr = true;
		self->id = self->thr.tid;
		break;
	}
}

FIXTURE_TEARDOWN(bad)
{
	if (self->child > 0) {
		close(self->hold[1]);
		tp_wait(self->child);
	}
	if (self->zombie > 0)
		tp_wait(self->zombie);
	if (self->have_thr)
		peer_stop(&self->thr);
	tpnl_close(&self->nl);
}

#define BAG(s) .has_bag = true, .bag = s, .bag_len = sizeof(s) - 1
#define TPID .target_attr = TRACINGPLANE_A_PID
#define TTID .target_attr = TRACINGPLANE_A_TID
#define MSG_REQUIRED "baggage: attribute is required"
#define MSG_TRUNCATED "baggage: an atom runs past the end"
#define MSG_VARINT "baggage: malformed, overlong or non-canonical length varint"
#define MSG_UNSORTED "baggage: atoms not strictly increasing"
#define MSG_NOPID "pid: no such task in the caller's pid namespace"
#define MSG_NOTID "tid: no such task in the caller's pid namespace"
#define MSG_UNKNOWN "Unknown attribute type"
#define MSG_LEN "invalid attribute length"
#define CMD_GET .cmd = TRACINGPLANE_CMD_GET
#define CMD_SET .cmd = TRACINGPLANE_CMD_SET
#define CMD_MERGE .cmd = TRACINGPLANE_CMD_MERGE
#define CMD_CLEAR .cmd = TRACINGPLANE_CMD_CLEAR
#define CMD_STATUS .cmd = TRACINGPLANE_CMD_STATUS
#define EINV(m, b) .err = -EINVAL, .msg = m, .blame = b

/* The required BAGGAGE attribute */
FIXTURE_VARIANT_ADD(bad, set_without_baggage) { CMD_SET, EINV(MSG_REQUIRED, B_NONE), .miss_bag = true };
FIXTURE_VARIANT_ADD(bad, merge_without_baggage) { CMD_MERGE, EINV(MSG_REQUIRED, B_NONE), .miss_bag = true };
FIXTURE_VARIANT_ADD(bad, set_child_without_baggage) {
	CMD_SET, .target = T_CHILD, TPID, EINV(MSG_REQUIRED, B_NONE), .miss_bag = true };

/* Malformed serialized baggage, on SET and on MERGE */
FIXTURE_VARIANT_ADD(bad, set_truncated_atom) { CMD_SET, BAG("\x05" "ab"), EINV(MSG_TRUNCATED, B_BAG) };
FIXTURE_VARIANT_ADD(bad, merge_truncated_second_atom) {
	CMD_MERGE, BAG("\x01" "a" "\x03" "b"), EINV(MSG_TRUNCATED, B_BAG) };
FIXTURE_VARIANT_ADD(bad, set_lone_length) { CMD_SET, BAG("\x01" "a" "\x7f"), EINV(MSG_TRUNCATED, B_BAG) };
FIXTURE_VARIANT_ADD(bad, set_noncanonical_varint) {
	CMD_SET, BAG("\x81\x00" "a"), EINV(MSG_VARINT, B_BAG) };
FIXTURE_VARIANT_ADD(bad, merge_noncanonical_varint) {
	CMD_MERGE, BAG("\x80\x00"), EINV(MSG_VARINT, B_BAG) };
FIXTURE_VARIANT_ADD(bad, set_overlong_varint) {
	CMD_SET, BAG("\x80\x80\x80\x80\x80\x01"), EINV(MSG_VARINT, B_BAG) };
/* A varint whose last byte says "more follows" runs past the end. */
FIXTURE_VARIANT_ADD(bad, set_unterminated_varint) {
	CMD_SET, BAG("\x01" "a" "\x80"), EINV(MSG_TRUNCATED, B_BAG) };
FIXTURE_VARIANT_ADD(bad, set_unsorted) { CMD_SET, BAG("\x01" "b" "\x01" "a"), EINV(MSG_UNSORTED, B_BAG) };
FIXTURE_VARIANT_ADD(bad, merge_unsorted) { CMD_MERGE, BAG("\x01" "b" "\x01" "a"), EINV(MSG_UNSORTED, B_BAG) };
FIXTURE_VARIANT_ADD(bad, set_duplicate_atom) {
	CMD_SET, BAG("\x01" "a" "\x01" "a"), EINV(MSG_UNSORTED, B_BAG) };
FIXTURE_VARIANT_ADD(bad, merge_duplicate_atom) {
	CMD_MERGE, BAG("\x02" "ab" "\x02" "ab"), EINV(MSG_UNSORTED, B_BAG) };
FIXTURE_VARIANT_ADD(bad, set_longer_before_prefix) {
	CMD_SET, BAG("\x02" "ab" "\x01" "a"), EINV(MSG_UNSORTED, B_BAG) };
FIXTURE_VARIANT_ADD(bad, set_two_overflow_markers) { CMD_SET, BAG("\x00\x00"), EINV(MSG_UNSORTED, B_BAG) };
FIXTURE_VARIANT_ADD(bad, set_marker_not_first) { CMD_SET, BAG("\x01" "a" "\x00"), EINV(MSG_UNSORTED, B_BAG) };
FIXTURE_VARIANT_ADD(bad, set_child_malformed) {
	CMD_SET, .target = T_CHILD, TPID, BAG("\x01" "z" "\x01" "a"), EINV(MSG_UNSORTED, B_BAG) };

/* Attribute types and lengths (strict policies) */
FIXTURE_VARIANT_ADD(bad, get_pid_2_bytes) {
	CMD_GET, .target = T_CHILD, TPID, .target_len = 2, EINV(MSG_LEN, B_TARGET) };
FIXTURE_VARIANT_ADD(bad, set_pid_8_bytes) {
	CMD_SET, .target = T_CHILD, TPID, .target_len = 8, BAG("\x01" "x"), EINV(MSG_LEN, B_TARGET) };
FIXTURE_VARIANT_ADD(bad, clear_tid_3_bytes) {
	CMD_CLEAR, .target = T_CHILD, TTID, .target_len = 3, EINV(MSG_LEN, B_TARGET) };
FIXTURE_VARIANT_ADD(bad, get_unknown_attr) {
	CMD_GET, .extra_type = TRACINGPLANE_A_MAX + 5, EINV(MSG_UNKNOWN, B_EXTRA) };
FIXTURE_VARIANT_ADD(bad, set_unknown_attr) {
	CMD_SET, BAG("\x01" "x"), .extra_type = TRACINGPLANE_A_MAX + 5, EINV(MSG_UNKNOWN, B_EXTRA) };
FIXTURE_VARIANT_ADD(bad, get_attr_type_0) { CMD_GET, .extra_type = 0, EINV(MSG_UNKNOWN, B_EXTRA) };
FIXTURE_VARIANT_ADD(bad, get_with_baggage) { CMD_GET, BAG("\x01" "x"), EINV(MSG_UNKNOWN, B_BAG) };
FIXTURE_VARIANT_ADD(bad, clear_with_baggage) { CMD_CLEAR, BAG("\x01" "x"), EINV(MSG_UNKNOWN, B_BAG) };
FIXTURE_VARIANT_ADD(bad, set_with_status_attr) {
	CMD_SET, BAG("\x01" "x"), .extra_type = TRACINGPLANE_A_STATUS_TRIMS, EINV(MSG_UNKNOWN, B_EXTRA) };
FIXTURE_VARIANT_ADD(bad, get_with_no_trim) {
	CMD_GET, .extra_type = TRACINGPLANE_A_NO_TRIM, EINV(MSG_UNKNOWN, B_EXTRA) };
FIXTURE_VARIANT_ADD(bad, set_with_pad) {
	CMD_SET, BAG("\x01" "x"), .extra_type = TRACINGPLANE_A_PAD,
	EINV("Unsupported attribute", B_EXTRA) };
/* START_TIME: 8 bytes, with a target, the target's */
FIXTURE_VARIANT_ADD(bad, clear_start_time_4_bytes) {
	CMD_CLEAR, .target = T_CHILD, TPID, .extra_type = TRACINGPLANE_A_START_TIME,
	EINV(MSG_LEN, B_EXTRA) };
FIXTURE_VARIANT_ADD(bad, set_start_time_without_target) {
	CMD_SET, BAG("\x01" "x"), .extra_type = TRACINGPLANE_A_START_TIME, .extra_len = 8,
	EINV("start_time: only with pid or tid", B_EXTRA) };
FIXTURE_VARIANT_ADD(bad, get_stale_start_time) {
	CMD_GET, .target = T_CHILD, TPID, .extra_type = TRACINGPLANE_A_START_TIME,
	.extra_len = 8, .err = -ESRCH, .msg = MSG_STALE, .blame = B_EXTRA };
FIXTURE_VARIANT_ADD(bad, set_stale_start_time) {
	CMD_SET, .target = T_CHILD, TTID, BAG("\x01" "x"),
	.extra_type = TRACINGPLANE_A_START_TIME, .extra_len = 8,
	.err = -ESRCH, .msg = MSG_STALE, .blame = B_EXTRA };
FIXTURE_VARIANT_ADD(bad, status_with_start_time) {
	CMD_STATUS, .extra_type = TRACINGPLANE_A_START_TIME, .extra_len = 8,
	EINV(MSG_UNKNOWN, B_EXTRA) };
FIXTURE_VARIANT_ADD(bad, status_with_pid) {
	CMD_STATUS, .target = T_CHILD, TPID, EINV(MSG_UNKNOWN, B_TARGET) };
FIXTURE_VARIANT_ADD(bad, status_with_pad) {
	CMD_STATUS, .extra_type = TRACINGPLANE_A_PAD,
	EINV("Attribute failed policy validation", B_EXTRA) };
FIXTURE_VARIANT_ADD(bad, set_trailing_garbage) {
	CMD_SET, BAG("\x01" "x"), .trailer = 3, EINV("bytes leftover after parsing attributes", B_NONE) };

/* Header checks of the genetlink core */
FIXTURE_VARIANT_ADD(bad, set_replace_flag) {
	CMD_SET, BAG("\x01" "x"), .flags = NLM_F_REPLACE,
	EINV("ambiguous or reserved bits set in nlmsg_flags", B_NONE) };
FIXTURE_VARIANT_ADD(bad, set_reserved_field) {
	CMD_SET, BAG("\x01" "x"), .reserved = 1, EINV("genlmsghdr.reserved field is not 0", B_NONE) };
FIXTURE_VARIANT_ADD(bad, unknown_command) { .cmd = 42, .err = -EOPNOTSUPP, .msg = "" };
FIXTURE_VARIANT_ADD(bad, command_0) { .cmd = TRACINGPLANE_CMD_UNSPEC, .err = -EOPNOTSUPP, .msg = "" };
FIXTURE_VARIANT_ADD(bad, get_dump) { CMD_GET, .flags = NLM_F_DUMP, .err = -EOPNOTSUPP, .msg = "" };

/* The target task */
FIXTURE_VARIANT_ADD(bad, get_pid_and_tid) {
	CMD_GET, .target = T_CHILD, TPID, .also_tid = true,
	EINV("tid: not allowed together with pid", B_TID) };
FIXTURE_VARIANT_ADD(bad, set_pid_and_tid) {
	CMD_SET, .target = T_CHILD, TPID, .also_tid = true, BAG("\x01" "x"),
	EINV("tid: not allowed together with pid", B_TID) };
FIXTURE_VARIANT_ADD(bad, get_pid_0) {
	CMD_GET, .target = T_ZERO, TPID, .err = -ESRCH, .msg = MSG_NOPID, .blame = B_TARGET };
FIXTURE_VARIANT_ADD(bad, set_tid_0) {
	CMD_SET, .target = T_ZERO, TTID, BAG("\x01" "x"), .err = -ESRCH, .msg = MSG_NOTID,
	.blame = B_TARGET };
FIXTURE_VARIANT_ADD(bad, get_pid_int_max) {
	CMD_GET, .target = T_INT_MAX, TPID, .err = -ESRCH, .msg = MSG_NOPID, .blame = B_TARGET };
FIXTURE_VARIANT_ADD(bad, merge_pid_beyond_int) {
	CMD_MERGE, .target = T_BEYOND_INT, TPID, BAG("\x01" "x"), .err = -ESRCH,
	.msg = MSG_NOPID, .blame = B_TARGET };
FIXTURE_VARIANT_ADD(bad, get_dead_pid) {
	CMD_GET, .target = T_DEAD, TPID, .err = -ESRCH, .msg = MSG_NOPID, .blame = B_TARGET };
FIXTURE_VARIANT_ADD(bad, set_dead_tid) {
	CMD_SET, .target = T_DEAD, TTID, BAG("\x01" "x"), .err = -ESRCH, .msg = MSG_NOTID,
	.blame = B_TARGET };
FIXTURE_VARIANT_ADD(bad, get_zombie_pid) {
	CMD_GET, .target = T_ZOMBIE, TPID, .err = -ESRCH, .msg = "pid: task is exiting",
	.blame = B_TARGET };
FIXTURE_VARIANT_ADD(bad, set_zombie_pid) {
	CMD_SET, .target = T_ZOMBIE, TPID, BAG("\x01" "x"), .err = -ESRCH,
	.msg = "pid: task is exiting", .blame = B_TARGET };
FIXTURE_VARIANT_ADD(bad, merge_zombie_tid) {
	CMD_MERGE, .target = T_ZOMBIE, TTID, BAG("\x01" "x"), .err = -ESRCH,
	.msg = "tid: task is exiting", .blame = B_TARGET };
FIXTURE_VARIANT_ADD(bad, get_kernel_thread) {
	CMD_GET, .target = T_KTHREAD, TPID, EINV("pid: kernel threads carry no baggage", B_TARGET) };
FIXTURE_VARIANT_ADD(bad, set_kernel_thread) {
	CMD_SET, .target = T_KTHREAD, TPID, BAG("\x01" "x"),
	EINV("pid: kernel threads carry no baggage", B_TARGET) };
FIXTURE_VARIANT_ADD(bad, get_thread_as_pid) {
	CMD_GET, .target = T_THREAD, TPID, .err = -ESRCH, .msg = MSG_NOPID, .blame = B_TARGET };

/*
 * The request fails with the documented errno and extack message, blames
 * the right attribute, and changes no baggage.
 */
TEST_F(bad, rejected_and_nothing_changes)
{
	uint32_t off_target = 0, off_tid = 0, off_bag = 0, off_extra = 0, want_off = 0;
	struct nlmsghdr *nlh = tpnl_msg(&self->nl, variant->cmd);
	struct genlmsghdr *g = mnl_nlmsg_get_payload(nlh);
	struct tpnl_reply r;
	char t[256];

	nlh->nlmsg_flags |= variant->flags;
	g->reserved = variant->reserved;
	if (variant->target_attr) {
		uint32_t id[2] = { (uint32_t)self->id, 0 };
		int len = variant->target_len ? variant->target_len : 4;

		off_target = nlh->nlmsg_len;
		tpnl_put_attr(nlh, variant->target_attr, id, len);
	}
	if (variant->also_tid) {
		off_tid = nlh->nlmsg_len;
		mnl_attr_put_u32(nlh, TRACINGPLANE_A_TID, (uint32_t)self->id);
	}
	if (variant->has_bag) {
		off_bag = nlh->nlmsg_len;
		tpnl_put_attr(nlh, TRACINGPLANE_A_BAGGAGE, variant->bag, variant->bag_len);
	}
	if (variant->extra_type || variant->blame == B_EXTRA) {
		uint64_t zero = 0;
		int len = variant->extra_len ? variant->extra_len : 4;

		off_extra = nlh->nlmsg_len;
		tpnl_put_attr(nlh, variant->extra_type, &zero,
			      variant->extra_type == TRACINGPLANE_A_PAD ? 0 : len);
	}
	if (variant->trailer)
		tpnl_put_raw(nlh, "\x01\x02\x03\x04", variant->trailer);

	EXPECT_EQ(variant->err, tpnl_xfer(&self->nl, nlh, &r))
		TH_LOG("message: \"%s\"", r.msg);
	tpnl_reply_free(&r);
	EXPECT_FALSE(r.got_reply);
	EXPECT_STREQ(variant->msg, r.msg);

	switch (variant->blame) {
	case B_NONE:
		break;
	case B_TARGET:
		want_off = off_target;
		break;
	case B_TID:
		want_off = off_tid;
		break;
	case B_BAG:
		want_off = off_bag;
		break;
	case B_EXTRA:
		want_off = off_extra;
		break;
	}
	if (variant->blame != B_NONE) {
		EXPECT_TRUE(r.has_offs);
		EXPECT_EQ(want_off, r.offs);
	}
	if (variant->miss_bag) {
		EXPECT_TRUE(r.has_miss);
		EXPECT_EQ((uint32_t)TRACINGPLANE_A_BAGGAGE, r.miss_type);
	}

	/* nothing changed: neither the caller nor the child */
	ASSERT_EQ(0, tpnl_get_text(&self->nl, TPNL_SELF, 0, t, sizeof(t)));
	EXPECT_STREQ("keep", t);
	ASSERT_EQ(0, tpnl_get_text(&self->nl, TPNL_PID, self->child, t, sizeof(t)));
	EXPECT_STREQ("child", t);
	if (variant->target == T_THREAD) {
		ASSERT_EQ(0, tpnl_get_text(&self->nl, TPNL_TID, self->id, t, sizeof(t)));
		EXPECT_STREQ("keep", t);
	}
}

TP_SELFTEST_MAIN
