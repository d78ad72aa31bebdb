// SPDX-License-Identifier: MIT
/*
 * Baggage through pipes and FIFOs (Documentation/transit.rst): a reader
 * is credited with the baggage of exactly the bytes it read, by its read
 * policy; writers with different baggage, writers without, partial and
 * spanning reads, O_NONBLOCK, readv/writev, inherited ends, splice, tee
 * and vmsplice, the range cap, and many writers and readers at once.
 *
 * A test that means to check exact attribution lets the pipe's first
 * write with baggage start before any reader does: a read already in
 * progress when a pipe first gets baggage makes it over-approximate
 * until the pipe is next quiet (tested on its own, below).
 */
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <time.h>
#include <sys/stat.h>
#include <sys/sendfile.h>
#include <sys/uio.h>

#include "kselftest_harness.h"
#include "transit.h"

FIXTURE(pipe) {
	int fd[2];
	struct tp_reports *r;
	char text[TP_REPORT_LEN];
};

FIXTURE_SETUP(pipe)
{
	ASSERT_EQ(0, tp_set_bag(NULL));
	ASSERT_EQ(0, tp_set_policy(0, TPCTL_READ_MERGE));
	ASSERT_EQ(0, pipe(self->fd));
	self->r = tp_reports_new();
	ASSERT_NE(NULL, self->r);
}

FIXTURE_TEARDOWN(pipe)
{
	close(self->fd[0]);
	close(self->fd[1]);
	tp_reports_free(self->r);
}

/* My own baggage as text, in self->text. */
#define MINE() ({ ASSERT_EQ(0, tp_self_text(self->text, sizeof(self->text))); self->text; })

TEST_F(pipe, reader_without_baggage_gets_the_writers)
{
	ASSERT_EQ(0, tp_writer(self->fd[1], "tenant=alice", 100, 'a', true));
	ASSERT_EQ(0, tp_read_full(self->fd[0], self->text, 100));
	EXPECT_STREQ("tenant=alice", MINE());
}

TEST_F(pipe, merge_policy_keeps_the_readers_own)
{
	ASSERT_EQ(0, tp_set_bag("own"));
	ASSERT_EQ(0, tp_writer(self->fd[1], "alice", 10, 'a', true));
	ASSERT_EQ(0, tp_read_full(self->fd[0], self->text, 10));
	EXPECT_STREQ("alice,own", MINE());
}

TEST_F(pipe, replace_policy_takes_the_datas)
{
	ASSERT_EQ(0, tp_set_bag("own"));
	ASSERT_EQ(0, tp_set_policy(0, TPCTL_READ_REPLACE));
	ASSERT_EQ(0, tp_writer(self->fd[1], "alice", 10, 'a', true));
	ASSERT_EQ(0, tp_writer(self->fd[1], NULL, 10, 'n', true));
	ASSERT_EQ(0, tp_writer(self->fd[1], "bob", 10, 'b', true));
	ASSERT_EQ(0, tp_writer(self->fd[1], "carol", 10, 'c', true));

	ASSERT_EQ(0, tp_read_full(self->fd[0], self->text, 10));
	EXPECT_STREQ("alice", MINE());
	/* Bytes without baggage: the reader's baggage becomes empty. */
	ASSERT_EQ(0, tp_read_full(self->fd[0], self->text, 10));
	EXPECT_STREQ("", MINE());
	/* One read of bob's and carol's bytes: the merge of both. */
	ASSERT_EQ(20, read(self->fd[0], self->text, 20));
	EXPECT_STREQ("bob,carol", MINE());
}

TEST_F(pipe, ignore_policy_changes_nothing)
{
	ASSERT_EQ(0, tp_set_bag("own"));
	ASSERT_EQ(0, tp_set_policy(0, TPCTL_READ_IGNORE));
	ASSERT_EQ(0, tp_writer(self->fd[1], "alice", 10, 'a', true));
	ASSERT_EQ(0, tp_read_full(self->fd[0], self->text, 10));
	EXPECT_STREQ("own", MINE());
	EXPECT_EQ(TPCTL_READ_IGNORE, tp_get_policy(0));
}

TEST_F(pipe, writer_without_baggage_adds_none)
{
	ASSERT_EQ(0, tp_writer(self->fd[1], "alice", 100, 'a', true));
	ASSERT_EQ(0, tp_writer(self->fd[1], NULL, 100, 'n', true));
	ASSERT_EQ(0, tp_reader(self->fd[0], NULL, 100, 0, self->r, 0, true));
	ASSERT_EQ(0, tp_reader(self->fd[0], NULL, 100, 0, self->r, 1, true));
	EXPECT_STREQ("alice", self->r->text[0]);
	EXPECT_STREQ("", self->r->text[1]);
}

/* Reads straddling the boundary between two writes get both. */
TEST_F(pipe, partial_and_spanning_reads)
{
	ASSERT_EQ(0, tp_writer(self->fd[1], "alice", 100, 'a', true));
	ASSERT_EQ(0, tp_writer(self->fd[1], "bob", 100, 'b', true));
	ASSERT_EQ(0, tp_reader(self->fd[0], NULL, 50, 0, self->r, 0, true));
	ASSERT_EQ(0, tp_reader(self->fd[0], NULL, 100, 0, self->r, 1, true));
	ASSERT_EQ(0, tp_reader(self->fd[0], NULL, 49, 0, self->r, 2, true));
	ASSERT_EQ(0, tp_reader(self->fd[0], NULL, 1, 0, self->r, 3, true));
	EXPECT_STREQ("alice", self->r->text[0]);
	EXPECT_STREQ("alice,bob", self->r->text[1]);
	EXPECT_STREQ("bob", self->r->text[2]);
	EXPECT_STREQ("bob", self->r->text[3]);
}

TEST_F(pipe, nonblocking_ends)
{
	char buf[4096];
	ssize_t n;
	long total = 0;

	ASSERT_EQ(0, fcntl(self->fd[0], F_SETFL, O_NONBLOCK));
	ASSERT_EQ(0, fcntl(self->fd[1], F_SETFL, O_NONBLOCK));
	ASSERT_EQ(-1, read(self->fd[0], buf, sizeof(buf)));
	ASSERT_EQ(EAGAIN, errno);
	EXPECT_STREQ("", MINE());

	/* A write larger than the pipe returns short; EAGAIN leaves the rest. */
	ASSERT_EQ(0, tp_writer(self->fd[1], "alice", 100000, 'a', false) > 0 ? 0 : -1);
	ASSERT_EQ(0, tp_wait_readable(self->fd[0], 65536));
	ASSERT_EQ(0, tp_set_policy(0, TPCTL_READ_REPLACE));
	while ((n = read(self->fd[0], buf, sizeof(buf))) > 0)
		total += n;
	EXPECT_LE(65536, total);
	EXPECT_STREQ("alice", MINE());
	while (wait(NULL) > 0)
		;
}

TEST_F(pipe, readv_and_writev)
{
	char a[3000], b[2000], out1[1000], out2[2000], out3[2000];
	struct iovec wa[] = { { a, 1000 }, { a + 1000, 1500 }, { a + 2500, 500 } };
	struct iovec wb[] = { { b, 1 }, { b + 1, 1999 } };
	struct iovec r1[] = { { out1, 1000 }, { out2, 2000 } };
	struct iovec r2[] = { { out3, 1999 }, { out3 + 1999, 1 } };
	pid_t pid;

	memset(a, 'a', sizeof(a));
	memset(b, 'b', sizeof(b));
	pid = fork();
	if (pid == 0)
		_exit(tp_set_bag("alice") || writev(self->fd[1], wa, 3) != 3000);
	ASSERT_EQ(0, tp_wait(pid));
	pid = fork();
	if (pid == 0)
		_exit(tp_set_bag("bob") || writev(self->fd[1], wb, 2) != 2000);
	ASSERT_EQ(0, tp_wait(pid));

	ASSERT_EQ(0, tp_set_policy(0, TPCTL_READ_REPLACE));
	ASSERT_EQ(3000, readv(self->fd[0], r1, 2));
	EXPECT_STREQ("alice", MINE());
	ASSERT_EQ(2000, readv(self->fd[0], r2, 2));
	EXPECT_STREQ("bob", MINE());
}

/* The ends a parent hands its children work like any other. */
TEST_F(pipe, ends_inherited_across_fork)
{
	pid_t pid;

	ASSERT_EQ(0, tp_set_bag("parent"));
	pid = fork();
	if (pid == 0) {
		/* Inherits "parent" with the pipe, then changes its own. */
		_exit(tp_set_bag("child") || tp_write_all(self->fd[1], "x", 1));
	}
	ASSERT_EQ(0, tp_wait(pid));
	ASSERT_EQ(0, tp_read_full(self->fd[0], self->text, 1));
	EXPECT_STREQ("child,parent", MINE());
}

/*
 * Sleeps in read() (seen by /proc/PID/wchan), before the pipe has any
 * baggage: a reader started before a writer, as in every pipeline.
 */
static pid_t sleeping_reader(FIXTURE_DATA(pipe) *self, int slot)
{
	pid_t pid = tp_reader(self->fd[0], NULL, 10, 0, self->r, slot, false);
	uint64_t deadline = tp_deadline(60);
	char path[64], wchan[64] = "";

	snprintf(path, sizeof(path), "/proc/%d/wchan", pid);
	while (!tp_expired(deadline) && strcmp(wchan, "pipe_read")) {
		FILE *f = fopen(path, "r");

		if (f) {
			if (!fgets(wchan, sizeof(wchan), f))
				wchan[0] = '\0';
			fclose(f);
		}
		usleep(1000);
	}
	return pid;
}

/*
 * With baggage somewhere (the probes armed), a reader asleep in read()
 * before the pipe gets any is seen, and exact: it gets alice's only.
 */
TEST_F_TIMEOUT(pipe, reader_asleep_before_the_pipe_had_baggage, 120)
{
	int hold[2];
	pid_t keeper, early;

	ASSERT_EQ(0, pipe(hold));
	keeper = tp_keep_armed(hold);
	ASSERT_EQ(0, tp_wait_probe("pipe_read", 1));
	early = sleeping_reader(self, 0);
	ASSERT_EQ(0, tp_writer(self->fd[1], "alice", 10, 'a', true));
	ASSERT_EQ(0, tp_writer(self->fd[1], "bob", 10, 'b', true));
	ASSERT_EQ(0, tp_wait(early));
	ASSERT_EQ(0, tp_reader(self->fd[0], NULL, 10, 0, self->r, 1, true));
	EXPECT_STREQ("alice", self->r->text[0]);
	EXPECT_STREQ("bob", self->r->text[1]);
	close(hold[1]);
	close(hold[0]);
	EXPECT_EQ(0, tp_wait(keeper));
}

/*
 * With no baggage anywhere, the probes are disarmed: a module loaded for
 * nothing costs nothing.  The first baggage arms them before it exists.
 */
TEST_F_TIMEOUT(pipe, probes_armed_only_while_baggage_exists, 180)
{
	struct tpctl_transit_status ts;
	struct tp_status st;
	struct tpnl nl;

	ASSERT_EQ(0, tp_transit_wait_empty(&ts, 60));
	ASSERT_EQ(0, tpnl_open(&nl));
	ASSERT_EQ(0, tpnl_wait_quiescent(&nl, &st, 60));
	tpnl_close(&nl);
	/* Disarmed last, after every other one. */
	EXPECT_EQ(0, tp_wait_probe("pipe_write", 0));
	EXPECT_EQ(0, tp_probe_armed("pipe_read"));
	/* Never disarmed: a pipe may get its state as the others go. */
	EXPECT_EQ(1, tp_probe_armed("free_pipe_info"));
	EXPECT_EQ(0, tp_probe_armed("unix_stream_read_actor"));
	EXPECT_EQ(0, tp_probe_armed("tcp_sendmsg_locked"));

	ASSERT_EQ(0, tp_set_bag("x"));
	EXPECT_EQ(1, tp_probe_armed("pipe_read"));
	EXPECT_EQ(1, tp_probe_armed("pipe_write"));
	EXPECT_EQ(1, tp_probe_armed("free_pipe_info"));
	EXPECT_EQ(1, tp_probe_armed("unix_scm_to_skb"));
	EXPECT_EQ(1, tp_probe_armed("tcp_sendmsg_locked"));

	ASSERT_EQ(0, tp_set_bag(NULL));
	EXPECT_EQ(0, tp_wait_probe("pipe_write", 0));
	EXPECT_EQ(1, tp_probe_armed("free_pipe_info"));
}

/*
 * A reader already asleep in read() when the probes were armed (no
 * baggage existed anywhere) is unseen: it is given every baggage written
 * while it reads, and the pipe is fuzzy meanwhile; once its read is over
 * and the pipe quiet, attribution is exact again.
 */
TEST_F_TIMEOUT(pipe, reader_asleep_before_any_baggage, 180)
{
	struct tpctl_transit_status ts;
	struct tp_status st;
	struct tpnl nl;
	pid_t early;

	ASSERT_EQ(0, tp_transit_wait_empty(&ts, 60));
	ASSERT_EQ(0, tpnl_open(&nl));
	ASSERT_EQ(0, tpnl_wait_quiescent(&nl, &st, 60));
	tpnl_close(&nl);
	ASSERT_EQ(0, tp_wait_probe("pipe_write", 0));
	early = sleeping_reader(self, 0);
	ASSERT_EQ(0, tp_writer(self->fd[1], "alice", 10, 'a', true));
	ASSERT_EQ(0, tp_wait(early));
	EXPECT_STREQ("alice", self->r->text[0]);

	ASSERT_EQ(0, tp_writer(self->fd[1], "alice", 10, 'a', true));
	ASSERT_EQ(0, tp_writer(self->fd[1], "bob", 10, 'b', true));
	ASSERT_EQ(0, tp_reader(self->fd[0], NULL, 10, 0, self->r, 1, true));
	ASSERT_EQ(0, tp_reader(self->fd[0], NULL, 10, 0, self->r, 2, true));
	EXPECT_STREQ("alice", self->r->text[1]);
	EXPECT_STREQ("bob", self->r->text[2]);
}

TEST_F(pipe, fifo_between_unrelated_processes)
{
	char path[] = "/tmp/tp-fifo-XXXXXX";
	int rfd, wfd;
	pid_t reader;

	ASSERT_NE(NULL, mkdtemp(path));
	strcat(path, "/f");
	ASSERT_EQ(0, mkfifo(path, 0600));
	reader = fork();
	if (reader == 0) {
		/* Opens (and sleeps) before any baggage exists. */
		rfd = open(path, O_RDONLY);
		_exit(rfd < 0 || tp_read_chunks(rfd, 5, 5) ? 1 :
		      (tp_report(self->r, 0), 0));
	}
	wfd = fork();
	if (wfd == 0) {
		int fd;

		if (tp_set_bag("tenant=alice"))
			_exit(1);
		fd = open(path, O_WRONLY);
		_exit(fd < 0 || tp_write_all(fd, "hello", 5));
	}
	ASSERT_EQ(0, tp_wait(wfd));
	ASSERT_EQ(0, tp_wait(reader));
	EXPECT_STREQ("tenant=alice", self->r->text[0]);
	unlink(path);
	*strrchr(path, '/') = '\0';
	rmdir(path);
}

/* Writes with the same baggage, one after the other, make one range. */
TEST_F(pipe, equal_baggage_coalesces)
{
	struct tpctl_transit_status ts;
	pid_t pid;

	ASSERT_EQ(0, tp_transit_wait_empty(&ts, 60));
	pid = fork();
	if (pid == 0) {
		if (tp_set_bag("alice"))
			_exit(1);
		for (int i = 0; i < 100; i++)
			if (tp_write_all(self->fd[1], "0123456789", 10))
				_exit(1);
		_exit(0);
	}
	ASSERT_EQ(0, tp_wait(pid));
	ASSERT_EQ(0, tp_transit(&ts));
	EXPECT_EQ(1U, ts.live_pipes);
	EXPECT_EQ(1U, ts.live_ranges);
	ASSERT_EQ(0, tp_reader(self->fd[0], NULL, 1000, 0, self->r, 0, true));
	EXPECT_STREQ("alice", self->r->text[0]);
}

/*
 * At max_ranges the newest ranges merge: their bytes over-approximate,
 * nothing is dropped, the oldest stay exact.
 */
TEST_F(pipe, range_cap_merges_and_never_drops)
{
	struct tpctl_transit_status before, after;
	char bag[16];

	ASSERT_EQ(0, tp_transit_wait_empty(&before, 60));
	ASSERT_EQ(0, tp_param_write("max_ranges", "4"));
	for (int i = 0; i < 10; i++) {
		snprintf(bag, sizeof(bag), "w%d", i);
		ASSERT_EQ(0, tp_writer(self->fd[1], bag, 10, (char)('0' + i), true));
	}
	ASSERT_EQ(0, tp_transit(&after));
	EXPECT_EQ(4U, after.max_ranges);
	EXPECT_GE(4U, after.live_ranges);
	EXPECT_LE(before.range_merges + 6, after.range_merges);

	ASSERT_EQ(0, tp_reader(self->fd[0], NULL, 10, 0, self->r, 0, true));
	ASSERT_EQ(0, tp_reader(self->fd[0], NULL, 90, 0, self->r, 1, true));
	EXPECT_STREQ("w0", self->r->text[0]);
	EXPECT_STREQ("w1,w2,w3,w4,w5,w6,w7,w8,w9", self->r->text[1]);
	EXPECT_EQ(0, tp_param_write("max_ranges", "128"));
}

TEST_F(pipe, max_ranges_is_validated)
{
	static const char *const bad[] = { "0", "1", "4097", "-1", "abc", "\n", "4k" };

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		EXPECT_EQ(-EINVAL, tp_param_write("max_ranges", bad[i]));
	EXPECT_EQ(128, tp_param("max_ranges"));
	EXPECT_EQ(0, tp_param_write("max_ranges", "2"));
	EXPECT_EQ(0, tp_param_write("max_ranges", "4096"));
	EXPECT_EQ(0, tp_param_write("max_ranges", "128"));
}

TEST_F(pipe, closing_frees_everything)
{
	struct tpctl_transit_status ts;

	ASSERT_EQ(0, tp_writer(self->fd[1], "alice", 1000, 'a', true));
	ASSERT_EQ(0, tp_writer(self->fd[1], "bob", 1000, 'b', true));
	ASSERT_EQ(0, tp_transit(&ts));
	EXPECT_LE(1U, ts.live_pipes);
	EXPECT_LE(2U, ts.live_ranges);
	close(self->fd[0]);
	close(self->fd[1]);
	ASSERT_EQ(0, pipe(self->fd));
	EXPECT_EQ(0, tp_transit_wait_empty(&ts, 60));
}

/* ---- a file's bytes into a pipe: splice(2) and sendfile(2) ---------------- */

static int file_fd = -1, pipe_wfd = -1;

static int splice_100(void *arg)
{
	loff_t off = 0;

	return splice(file_fd, &off, pipe_wfd, NULL, 100, 0) != 100;
}

/* sendfile() into a pipe never goes through do_splice(). */
static int sendfile_100(void *arg)
{
	off_t off = 0;

	return sendfile(pipe_wfd, file_fd, &off, 100) != 100;
}

/*
 * 100 bytes of a file enter a pipe between two writes, by a task whose
 * baggage is "sf": each reader is credited with the baggage of exactly
 * what it read, before, during and after.
 */
static void file_into_pipe(struct __test_metadata *_metadata, int fd[2],
			   struct tp_reports *r, int (*move)(void *))
{
	char path[] = "/tmp/tp-splice-XXXXXX";
	char buf[100];

	file_fd = mkstemp(path);
	ASSERT_LE(0, file_fd);
	memset(buf, 'f', sizeof(buf));
	ASSERT_EQ(0, tp_write_all(file_fd, buf, sizeof(buf)));
	pipe_wfd = fd[1];
	ASSERT_EQ(0, tp_writer(fd[1], "w1", 10, 'a', true));
	ASSERT_EQ(0, tp_reader(fd[0], NULL, 10, 0, r, 0, true));
	ASSERT_EQ(0, tp_wait(tp_spawn("sf", move, NULL)));
	ASSERT_EQ(0, tp_writer(fd[1], "w2", 10, 'b', true));
	ASSERT_EQ(0, tp_reader(fd[0], NULL, 100, 0, r, 1, true));
	ASSERT_EQ(0, tp_reader(fd[0], NULL, 10, 0, r, 2, true));
	EXPECT_STREQ("w1", r->text[0]);
	EXPECT_STREQ("sf", r->text[1]);
	EXPECT_STREQ("w2", r->text[2]);
	close(file_fd);
	unlink(path);
}

TEST_F(pipe, splice_into_a_pipe_is_byte_accurate)
{
	file_into_pipe(_metadata, self->fd, self->r, splice_100);
}

TEST_F(pipe, sendfile_into_a_pipe_is_byte_accurate)
{
	file_into_pipe(_metadata, self->fd, self->r, sendfile_100);
}

TEST_F(pipe, vmsplice_into_a_pipe_keeps_baggage)
{
	static char page[4096] __attribute__((aligned(4096))) = "vmsplice";
	struct iovec iov = { page, sizeof(page) };
	pid_t pid = fork();

	if (pid == 0)
		_exit(tp_set_bag("vms") ||
		      vmsplice(self->fd[1], &iov, 1, 0) != sizeof(page));
	ASSERT_EQ(0, tp_wait(pid));
	ASSERT_EQ(0, tp_reader(self->fd[0], NULL, sizeof(page), 0, self->r, 0, true));
	EXPECT_STREQ("vms", self->r->text[0]);
}

/* vmsplice(2) out of a pipe into memory is a read. */
TEST_F(pipe, vmsplice_out_of_a_pipe_is_a_read)
{
	char buf[100];
	struct iovec iov = { buf, sizeof(buf) };

	ASSERT_EQ(0, tp_writer(self->fd[1], "alice", sizeof(buf), 'a', true));
	ASSERT_EQ((ssize_t)sizeof(buf), vmsplice(self->fd[0], &iov, 1, 0));
	EXPECT_STREQ("alice", MINE());
}

/* One thread's vmsplice() loop, on whatever pipe the fd leads to now. */
struct vmsplice_race {
	volatile int fd;
	volatile bool stop;
	long calls;
};

static void *vmsplice_loop(void *arg)
{
	static char page[4096] __attribute__((aligned(4096)));
	struct vmsplice_race *race = arg;
	struct iovec iov = { page, sizeof(page) };

	while (!race->stop) {
		vmsplice(race->fd, &iov, 1, SPLICE_F_NONBLOCK);
		race->calls++;
	}
	return NULL;
}

/*
 * vmsplice() with baggage into pipes that another thread closes under it:
 * the module finds the pipe by the call's fd, which the system call holds
 * only while it runs.  Every pipe's state goes with its pipe (and the
 * debug kernel's KASAN sees any use of a freed one).  Up to 20 s.
 */
TEST_F_TIMEOUT(pipe, vmsplice_racing_close_leaves_nothing, 120)
{
	struct vmsplice_race race = { .fd = -1 };
	struct tpctl_transit_status ts;
	time_t end = time(NULL) + 20;
	pthread_t thr;
	int fd[2];

	signal(SIGPIPE, SIG_IGN);
	ASSERT_EQ(0, tp_set_bag("vms"));
	ASSERT_EQ(0, pthread_create(&thr, NULL, vmsplice_loop, &race));
	for (int i = 0; i < 20000 && time(NULL) < end; i++) {
		ASSERT_EQ(0, pipe2(fd, O_NONBLOCK));
		race.fd = fd[1];
		if (i % 2)
			close(fd[0]);
		sched_yield();
		close(fd[1]);
		if (!(i % 2))
			close(fd[0]);
	}
	race.stop = true;
	ASSERT_EQ(0, pthread_join(thr, NULL));
	EXPECT_LT(0, race.calls);
	ASSERT_EQ(0, tp_set_bag(NULL));
	EXPECT_EQ(0, tp_transit_wait_empty(&ts, 60));
}

/* tee(2) copies bytes, and their baggage, into another pipe. */
TEST_F(pipe, tee_copies_baggage)
{
	int other[2];
	pid_t pid;

	ASSERT_EQ(0, pipe(other));
	ASSERT_EQ(0, tp_writer(self->fd[1], "alice", 100, 'a', true));
	pid = fork();
	if (pid == 0)
		_exit(tee(self->fd[0], other[1], 100, 0) != 100);
	ASSERT_EQ(0, tp_wait(pid));
	ASSERT_EQ(0, tp_reader(other[0], NULL, 100, 0, self->r, 0, true));
	ASSERT_EQ(0, tp_reader(self->fd[0], NULL, 100, 0, self->r, 1, true));
	EXPECT_STREQ("alice", self->r->text[0]);
	EXPECT_STREQ("alice", self->r->text[1]);
	close(other[0]);
	close(other[1]);
}

/*
 * Documented limitation: bytes spliced out of a pipe into a file take no
 * baggage along (a file carries none).  The pipe's later bytes keep
 * theirs, exactly once the pipe is quiet.
 */
TEST_F(pipe, splice_out_to_a_file_then_exact_again)
{
	int null = open("/dev/null", O_WRONLY);
	pid_t pid;

	ASSERT_LE(0, null);
	ASSERT_EQ(0, tp_writer(self->fd[1], "alice", 100, 'a', true));
	pid = fork();
	if (pid == 0)
		_exit(splice(self->fd[0], NULL, null, NULL, 100, 0) != 100);
	ASSERT_EQ(0, tp_wait(pid));
	ASSERT_EQ(0, tp_writer(self->fd[1], "bob", 10, 'b', true));
	ASSERT_EQ(0, tp_reader(self->fd[0], NULL, 10, 0, self->r, 0, true));
	EXPECT_STREQ("bob", self->r->text[0]);
	close(null);
}

/* ---- byte accuracy: alice's bytes, then bob's, read apart ---------------------- */

FIXTURE(accuracy) {
	int fd[2];
	struct tp_reports *r;
};

FIXTURE_VARIANT(accuracy) {
	size_t alice, bob;	/* bytes each writes, in one write() */
	size_t chunk;		/* readers read this much at a time (0: all) */
};

FIXTURE_VARIANT_ADD(accuracy, one_byte_each) { .alice = 1, .bob = 1 };
FIXTURE_VARIANT_ADD(accuracy, small) { .alice = 100, .bob = 200 };
FIXTURE_VARIANT_ADD(accuracy, page_minus_one) { .alice = 4095, .bob = 2 };
FIXTURE_VARIANT_ADD(accuracy, one_page) { .alice = 4096, .bob = 4096 };
FIXTURE_VARIANT_ADD(accuracy, page_plus_one) { .alice = 4097, .bob = 4095 };
FIXTURE_VARIANT_ADD(accuracy, both_fit_the_pipe) { .alice = 60000, .bob = 5536 };
FIXTURE_VARIANT_ADD(accuracy, alice_fills_the_pipe) { .alice = 65536, .bob = 100 };
FIXTURE_VARIANT_ADD(accuracy, both_exceed_the_pipe) { .alice = 70000, .bob = 70001 };
FIXTURE_VARIANT_ADD(accuracy, large) { .alice = 300000, .bob = 1 };
FIXTURE_VARIANT_ADD(accuracy, odd_chunks) { .alice = 10000, .bob = 10000, .chunk = 333 };
FIXTURE_VARIANT_ADD(accuracy, page_chunks) { .alice = 70000, .bob = 9000, .chunk = 4096 };

FIXTURE_SETUP(accuracy)
{
	ASSERT_EQ(0, tp_set_bag(NULL));
	ASSERT_EQ(0, pipe(self->fd));
	self->r = tp_reports_new();
	ASSERT_NE(NULL, self->r);
}

FIXTURE_TEARDOWN(accuracy)
{
	close(self->fd[0]);
	close(self->fd[1]);
	tp_reports_free(self->r);
}

/*
 * Alice writes, then bob: one reader takes exactly alice's bytes while
 * bob may be writing already, another exactly bob's.  Each reports only
 * its writer's baggage, whatever the sizes and however the bytes fall
 * on pages and around the pipe's 64 KiB.
 */
TEST_F(accuracy, each_reader_gets_only_its_writer)
{
	pid_t alice, bob, first;

	alice = tp_writer(self->fd[1], "tenant=alice", variant->alice, 'a', false);
	ASSERT_LT(0, alice);
	/* The pipe has baggage before any reader starts. */
	ASSERT_EQ(0, tp_wait_readable(self->fd[0], 1));
	first = tp_reader(self->fd[0], NULL, variant->alice, variant->chunk,
			  self->r, 0, false);
	ASSERT_LT(0, first);
	ASSERT_EQ(0, tp_wait(alice));
	bob = tp_writer(self->fd[1], "tenant=bob", variant->bob, 'b', false);
	ASSERT_LT(0, bob);
	ASSERT_EQ(0, tp_wait(first));
	ASSERT_EQ(0, tp_reader(self->fd[0], NULL, variant->bob, variant->chunk,
			       self->r, 1, true));
	ASSERT_EQ(0, tp_wait(bob));
	EXPECT_STREQ("tenant=alice", self->r->text[0]);
	EXPECT_STREQ("tenant=bob", self->r->text[1]);
}

/* ---- concurrency: never lost ---------------------------------------------------- */

#define MSG_LEN		256	/* <= PIPE_BUF: every write is one message */

/*
 * Reads messages until EOF with the replace policy; after each, the
 * reader's baggage must hold the baggage of the message's writer (it may
 * hold more: concurrent writers over-approximate).  Exit status: 0, or 1
 * when one was lost.
 */
static int check_messages(int fd)
{
	char msg[MSG_LEN], text[TP_REPORT_LEN], atom[16];

	if (tp_set_policy(0, TPCTL_READ_REPLACE))
		return 2;
	for (;;) {
		ssize_t n = read(fd, msg, sizeof(msg));

		if (n == 0)
			return 0;
		if (n != sizeof(msg) || tp_self_text(text, sizeof(text)))
			return 3;
		snprintf(atom, sizeof(atom), "w%d", msg[0]);
		if (!tp_has_atom(text, atom)) {
			fprintf(stderr, "read a message of %s, credited with %s\n",
				atom, text);
			return 1;
		}
	}
}

static int send_messages(int fd, int id, int count)
{
	char msg[MSG_LEN], atom[16];

	snprintf(atom, sizeof(atom), "w%d", id);
	if (tp_set_bag(atom))
		return 2;
	memset(msg, id, sizeof(msg));
	for (int i = 0; i < count; i++)
		if (write(fd, msg, sizeof(msg)) != sizeof(msg))
			return 1;
	return 0;
}

/*
 * @pipes pipes, each shared by @writers writers with baggage of their own
 * and @readers readers, each writer sending @count messages.  Returns the
 * number of processes that failed.
 */
static int run_shared_pipes(int pipes, int writers, int readers, int count)
{
	int fds[64][2], failed = 0, id = 0;
	pid_t pids[1024];
	int n = 0;

	for (int p = 0; p < pipes; p++)
		if (pipe(fds[p]))
			return -1;
	for (int p = 0; p < pipes; p++) {
		for (int i = 0; i < readers; i++) {
			pids[n] = fork();
			if (pids[n] == 0) {
				/* EOF once every writer is done. */
				for (int q = 0; q < pipes; q++)
					close(fds[q][1]);
				_exit(check_messages(fds[p][0]));
			}
			n++;
		}
		for (int i = 0; i < writers; i++, id++) {
			pids[n] = fork();
			if (pids[n] == 0)
				_exit(send_messages(fds[p][1], id % 100, count));
			n++;
		}
	}
	for (int p = 0; p < pipes; p++) {
		close(fds[p][0]);
		close(fds[p][1]);
	}
	for (int i = 0; i < n; i++)
		failed += tp_wait(pids[i]) != 0;
	return failed;
}

/* 10 processes; minutes on the debug kernel, where a fork takes 0.5 s. */
TEST_F_TIMEOUT(pipe, concurrent_writers_and_readers_never_lose_baggage, 300)
{
	struct tpctl_transit_status ts;

	ASSERT_EQ(0, tp_set_bag(NULL));
	EXPECT_EQ(0, run_shared_pipes(1, 4, 2, 100));
	EXPECT_EQ(0, tp_transit_wait_empty(&ts, 60));
}

/*
 * 64 writers and 64 readers on 4 pipes; then every count back to zero.  Its
 * own waits take up to 240 s, and its 128 processes take minutes on the
 * debug kernel: the harness's default of 30 s is too short.
 */
TEST_F_TIMEOUT(pipe, stress_64_writers_64_readers, 900)
{
	struct tpctl_transit_status ts;
	struct tpnl nl;
	struct tp_status st;

	ASSERT_EQ(0, tp_set_bag(NULL));
	EXPECT_EQ(0, run_shared_pipes(4, 16, 16, 20));
	EXPECT_EQ(0, tp_transit_wait_empty(&ts, 120));
	ASSERT_EQ(0, tpnl_open(&nl));
	EXPECT_EQ(0, tpnl_wait_quiescent(&nl, &st, 120));
	tpnl_close(&nl);
}

/* ---- the read policy ----------------------------------------------------------- */

TEST(read_policy_defaults_to_merge)
{
	ASSERT_EQ(0, tp_set_bag(NULL));
	ASSERT_EQ(0, tp_set_policy(0, TPCTL_READ_MERGE));
	EXPECT_EQ(TPCTL_READ_MERGE, tp_get_policy(0));
	EXPECT_EQ(0, tp_set_policy(0, TPCTL_READ_REPLACE));
	EXPECT_EQ(TPCTL_READ_REPLACE, tp_get_policy(0));
	EXPECT_EQ(0, tp_set_policy(0, TPCTL_READ_MERGE));
	EXPECT_EQ(TPCTL_READ_MERGE, tp_get_policy(0));
}

/* Inherited on fork, kept across exec, like the baggage. */
TEST(read_policy_inherited_and_kept_across_exec)
{
	char comm[32] = "", path[64];
	pid_t pid;
	uint64_t deadline;
	FILE *f;

	ASSERT_EQ(0, tp_set_bag(NULL));
	ASSERT_EQ(0, tp_set_policy(0, TPCTL_READ_REPLACE));
	pid = fork();
	if (pid == 0)
		_exit(tp_get_policy(0) == TPCTL_READ_REPLACE ? 0 : 1);
	EXPECT_EQ(0, tp_wait(pid));

	pid = fork();
	if (pid == 0) {
		execlp("sleep", "sleep", "60", NULL);
		_exit(127);
	}
	snprintf(path, sizeof(path), "/proc/%d/comm", pid);
	deadline = tp_deadline(60);
	while (!tp_expired(deadline) && strcmp(comm, "sleep\n")) {
		f = fopen(path, "r");
		if (f) {
			if (!fgets(comm, sizeof(comm), f))
				comm[0] = '\0';
			fclose(f);
		}
		usleep(1000);
	}
	ASSERT_STREQ("sleep\n", comm);
	EXPECT_EQ(TPCTL_READ_REPLACE, tp_get_policy(pid));
	kill(pid, SIGKILL);
	tp_wait(pid);
}

/* Strict validation, with an extack message naming the attribute. */
TEST(read_policy_bad_requests)
{
	struct tpnl_reply rep;
	struct nlmsghdr *nlh;
	struct tpnl nl;
	uint32_t wide = 1;
	uint8_t three = TRACINGPLANE_READ_MAX + 1;

	ASSERT_EQ(0, tpnl_open(&nl));
	nlh = tpnl_msg(&nl, TRACINGPLANE_CMD_SET_READ_POLICY);
	tpnl_put_attr(nlh, TRACINGPLANE_A_READ_POLICY, &three, 1);
	EXPECT_EQ(-ERANGE, tpnl_xfer(&nl, nlh, &rep));
	EXPECT_STREQ("integer out of range", rep.msg);
	EXPECT_TRUE(rep.has_offs);
	tpnl_reply_free(&rep);

	nlh = tpnl_msg(&nl, TRACINGPLANE_CMD_SET_READ_POLICY);
	tpnl_put_attr(nlh, TRACINGPLANE_A_READ_POLICY, &wide, 4);
	EXPECT_EQ(-EINVAL, tpnl_xfer(&nl, nlh, &rep));
	EXPECT_STREQ("invalid attribute length", rep.msg);
	tpnl_reply_free(&rep);

	nlh = tpnl_msg(&nl, TRACINGPLANE_CMD_SET_READ_POLICY);
	EXPECT_EQ(-EINVAL, tpnl_xfer(&nl, nlh, &rep));
	EXPECT_STREQ("read_policy: attribute is required", rep.msg);
	EXPECT_TRUE(rep.has_miss);
	EXPECT_EQ((uint32_t)TRACINGPLANE_A_READ_POLICY, rep.miss_type);
	tpnl_reply_free(&rep);

	nlh = tpnl_msg(&nl, TRACINGPLANE_CMD_SET_READ_POLICY);
	tpnl_put_attr(nlh, TRACINGPLANE_A_BAGGAGE, "", 0);
	tpnl_put_attr(nlh, TRACINGPLANE_A_READ_POLICY, &three, 1);
	EXPECT_EQ(-EINVAL, tpnl_xfer(&nl, nlh, &rep));
	EXPECT_STREQ("Unsupported attribute", rep.msg);
	tpnl_reply_free(&rep);
	tpnl_close(&nl);
}

TP_SELFTEST_MAIN
