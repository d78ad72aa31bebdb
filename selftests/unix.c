// SPDX-License-Identifier: MIT
/*
 * Baggage through UNIX-domain sockets (Documentation/transit.rst):
 * stream sockets byte by byte, socketpair() and between unrelated
 * processes; datagram and seqpacket sockets message by message; a
 * long-lived server under the merge and the replace read policy; many
 * senders at once; buffers freed with their socket.
 */
#include <fcntl.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "kselftest_harness.h"
#include "transit.h"

/* Receives exactly @len bytes (MSG_WAITALL: one system call). */
static int recv_all(int fd, size_t len, int flags)
{
	static char buf[1 << 20];

	while (len) {
		ssize_t n = recv(fd, buf, len < sizeof(buf) ? len : sizeof(buf),
				 flags | MSG_WAITALL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		len -= (size_t)n;
	}
	return 0;
}

/* A child with baggage @bag that sends @len bytes on @fd; returns its pid. */
static pid_t sender(int fd, const char *bag, size_t len, char fill)
{
	return tp_writer(fd, bag, len, fill, false);
}

FIXTURE(sock) {
	int sv[2];
	struct tp_reports *r;
	char text[TP_REPORT_LEN];
};

FIXTURE_VARIANT(sock) {
	int type;
};

FIXTURE_VARIANT_ADD(sock, stream) { .type = SOCK_STREAM };
FIXTURE_VARIANT_ADD(sock, dgram) { .type = SOCK_DGRAM };
FIXTURE_VARIANT_ADD(sock, seqpacket) { .type = SOCK_SEQPACKET };

FIXTURE_SETUP(sock)
{
	ASSERT_EQ(0, tp_set_bag(NULL));
	ASSERT_EQ(0, tp_set_policy(0, TPCTL_READ_MERGE));
	ASSERT_EQ(0, socketpair(AF_UNIX, variant->type, 0, self->sv));
	self->r = tp_reports_new();
	ASSERT_NE(NULL, self->r);
}

FIXTURE_TEARDOWN(sock)
{
	close(self->sv[0]);
	close(self->sv[1]);
	tp_reports_free(self->r);
}

#define MINE() ({ ASSERT_EQ(0, tp_self_text(self->text, sizeof(self->text))); self->text; })

TEST_F(sock, reader_without_baggage_gets_the_senders)
{
	ASSERT_EQ(0, tp_wait(sender(self->sv[1], "tenant=alice", 100, 'a')));
	ASSERT_EQ(100, recv(self->sv[0], self->text, 100, 0));
	EXPECT_STREQ("tenant=alice", MINE());
}

/* Messages (or a stream's sends) from different senders, read apart. */
TEST_F(sock, each_read_gets_only_its_senders)
{
	ASSERT_EQ(0, tp_wait(sender(self->sv[1], "alice", 100, 'a')));
	ASSERT_EQ(0, tp_wait(sender(self->sv[1], NULL, 100, 'n')));
	ASSERT_EQ(0, tp_wait(sender(self->sv[1], "bob", 100, 'b')));
	ASSERT_EQ(0, tp_set_bag("own"));
	ASSERT_EQ(0, tp_set_policy(0, TPCTL_READ_REPLACE));
	ASSERT_EQ(100, recv(self->sv[0], self->text, 100, 0));
	EXPECT_STREQ("alice", MINE());
	ASSERT_EQ(100, recv(self->sv[0], self->text, 100, 0));
	EXPECT_STREQ("", MINE());
	ASSERT_EQ(100, recv(self->sv[0], self->text, 100, 0));
	EXPECT_STREQ("bob", MINE());
}

/* MSG_PEEK reads the data, so it credits the reader too. */
TEST_F(sock, peek_credits)
{
	ASSERT_EQ(0, tp_wait(sender(self->sv[1], "alice", 10, 'a')));
	ASSERT_EQ(10, recv(self->sv[0], self->text, 10, MSG_PEEK));
	EXPECT_STREQ("alice", MINE());
}

/* Sent and never read: the buffers go with the socket, and their tags. */
TEST_F(sock, closing_frees_queued_buffers)
{
	struct tpctl_transit_status ts;

	ASSERT_EQ(0, tp_wait(sender(self->sv[1], "alice", 100, 'a')));
	ASSERT_EQ(0, tp_wait(sender(self->sv[1], "bob", 100, 'b')));
	ASSERT_EQ(0, tp_transit(&ts));
	EXPECT_LE(2U, ts.live_skb_tags);
	close(self->sv[0]);
	close(self->sv[1]);
	ASSERT_EQ(0, socketpair(AF_UNIX, variant->type, 0, self->sv));
	EXPECT_EQ(0, tp_transit_wait_empty(&ts, 60));
}

/* Blobs alive (LIVE_BAGS), or -1. */
static long live_bags(void)
{
	struct tpctl *h = tpctl_open();
	struct tpctl_status st;
	int err;

	if (!h)
		return -1;
	err = tpctl_status(h, &st);
	tpctl_close(h);
	return err ? -1 : (long)st.live_bags;
}

/* LIVE_BAGS once it holds still for half a second (at most @seconds). */
static long settled_bags(int seconds)
{
	uint64_t deadline = tp_deadline(seconds);
	long before = live_bags(), now;

	for (;;) {
		usleep(500000);
		now = live_bags();
		if (now == before || tp_expired(deadline))
			return now;
		before = now;
	}
}

/* Polls until LIVE_BAGS is @count; returns the last seen. */
static long wait_bags(long count, int seconds)
{
	uint64_t deadline = tp_deadline(seconds);
	long now;

	while ((now = live_bags()) != count && !tp_expired(deadline))
		usleep(10000);
	return now;
}

/*
 * Buffers share one tag per blob, which outlives them briefly (for the
 * next buffer): a blob that only a read buffer's tag held is freed soon
 * after, while the probes stay armed.
 */
TEST_F(sock, a_blob_only_read_buffers_held_goes)
{
	int hold[2];
	pid_t armed;
	long before;

	ASSERT_EQ(0, pipe(hold));
	armed = tp_keep_armed(hold);
	ASSERT_LT(0, armed);
	before = settled_bags(10);
	ASSERT_LE(0, before);
	/* The sender exits: only its buffer's tag holds its blob. */
	ASSERT_EQ(0, tp_wait(sender(self->sv[1], "gone-after-read", 100, 'g')));
	ASSERT_EQ(100, recv(self->sv[0], self->text, 100, 0));
	EXPECT_STREQ("gone-after-read", MINE());
	EXPECT_EQ(before + 1, wait_bags(before + 1, 30));
	ASSERT_EQ(0, tp_set_bag(NULL));
	EXPECT_EQ(before, wait_bags(before, 30));
	close(hold[1]);
	EXPECT_EQ(0, tp_wait(armed));
	close(hold[0]);
}

/* ---- stream sockets: byte accuracy ---------------------------------------------- */

FIXTURE(stream) {
	int sv[2];
	struct tp_reports *r;
	char text[TP_REPORT_LEN];
};

FIXTURE_VARIANT(stream) {
	size_t alice, bob;
};

FIXTURE_VARIANT_ADD(stream, one_byte_each) { .alice = 1, .bob = 1 };
FIXTURE_VARIANT_ADD(stream, small) { .alice = 100, .bob = 200 };
FIXTURE_VARIANT_ADD(stream, page_plus_one) { .alice = 4097, .bob = 4095 };
FIXTURE_VARIANT_ADD(stream, beyond_the_socket_buffer) { .alice = 500000, .bob = 300001 };

FIXTURE_SETUP(stream)
{
	ASSERT_EQ(0, tp_set_bag(NULL));
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM, 0, self->sv));
	self->r = tp_reports_new();
	ASSERT_NE(NULL, self->r);
}

FIXTURE_TEARDOWN(stream)
{
	close(self->sv[0]);
	close(self->sv[1]);
	tp_reports_free(self->r);
}

/*
 * Alice sends, then bob, on one connection: a reader taking exactly
 * alice's bytes reports alice only, one taking bob's reports bob only.
 */
TEST_F(stream, each_reader_gets_only_its_sender)
{
	pid_t alice, bob, first;

	first = tp_reader(self->sv[0], NULL, variant->alice, 0, self->r, 0, false);
	ASSERT_LT(0, first);
	alice = sender(self->sv[1], "tenant=alice", variant->alice, 'a');
	ASSERT_EQ(0, tp_wait(alice));
	bob = sender(self->sv[1], "tenant=bob", variant->bob, 'b');
	ASSERT_EQ(0, tp_wait(first));
	ASSERT_EQ(0, tp_reader(self->sv[0], NULL, variant->bob, 0, self->r, 1, true));
	ASSERT_EQ(0, tp_wait(bob));
	EXPECT_STREQ("tenant=alice", self->r->text[0]);
	EXPECT_STREQ("tenant=bob", self->r->text[1]);
}

/*
 * One recv() of alice's and bob's bytes, under the replace policy: the
 * reader's baggage becomes the merge of both (everything that call read,
 * from several buffers).
 */
TEST_F(stream, replace_with_one_read_of_two_senders)
{
	/* Both must fit in the socket's buffer at once. */
	size_t alice = variant->alice < 40000 ? variant->alice : 40000;
	size_t bob = variant->bob < 40000 ? variant->bob : 40000;

	ASSERT_EQ(0, tp_wait(sender(self->sv[1], "alice", alice, 'a')));
	ASSERT_EQ(0, tp_wait(sender(self->sv[1], "bob", bob, 'b')));
	ASSERT_EQ(0, tp_set_bag("own"));
	ASSERT_EQ(0, tp_set_policy(0, TPCTL_READ_REPLACE));
	ASSERT_EQ(0, recv_all(self->sv[0], alice + bob, 0));
	EXPECT_STREQ("alice,bob", MINE());
}

/* ---- between unrelated processes ------------------------------------------------- */

struct server_job {
	int listener;
	int type;
	int requests;
	size_t len;
	int policy;
	struct tp_reports *r;
};

/*
 * A long-lived server: serves @requests requests of @len bytes, one per
 * connection (stream) or message (datagram), and reports its baggage
 * after each into slot i.
 */
static int serve(void *arg)
{
	struct server_job *j = arg;

	if (tp_set_policy(0, (enum tpctl_read_policy)j->policy))
		return 101;
	for (int i = 0; i < j->requests; i++) {
		int fd = j->type == SOCK_DGRAM ? j->listener :
			 accept(j->listener, NULL, NULL);

		if (fd < 0 || recv_all(fd, j->len, 0))
			return 102;
		tp_report(j->r, i);
		if (fd != j->listener)
			close(fd);
	}
	return 0;
}

/* A client with baggage @bag: connects (or sends to) @addr, sends @len. */
static int request(const struct sockaddr_un *addr, int type, const char *bag, size_t len)
{
	pid_t pid = fork();

	if (pid == 0) {
		static char buf[4096];
		int fd = socket(AF_UNIX, type, 0);

		memset(buf, 'q', sizeof(buf));
		if (tp_set_bag(bag) || fd < 0 ||
		    connect(fd, (const struct sockaddr *)addr, sizeof(*addr)) ||
		    send(fd, buf, len, 0) != (ssize_t)len)
			_exit(1);
		_exit(0);
	}
	return tp_wait(pid);
}

FIXTURE(server) {
	char dir[64];
	struct sockaddr_un addr;
	int listener;
	struct tp_reports *r;
};

FIXTURE_VARIANT(server) {
	int type;
	int policy;
	const char *want[3];
};

FIXTURE_VARIANT_ADD(server, stream_replace) {
	.type = SOCK_STREAM, .policy = TPCTL_READ_REPLACE,
	.want = { "alice", "bob", "carol" },
};
FIXTURE_VARIANT_ADD(server, stream_merge) {
	.type = SOCK_STREAM, .policy = TPCTL_READ_MERGE,
	.want = { "alice", "alice,bob", "alice,bob,carol" },
};
FIXTURE_VARIANT_ADD(server, dgram_replace) {
	.type = SOCK_DGRAM, .policy = TPCTL_READ_REPLACE,
	.want = { "alice", "bob", "carol" },
};
FIXTURE_VARIANT_ADD(server, dgram_merge) {
	.type = SOCK_DGRAM, .policy = TPCTL_READ_MERGE,
	.want = { "alice", "alice,bob", "alice,bob,carol" },
};
FIXTURE_VARIANT_ADD(server, seqpacket_replace) {
	.type = SOCK_SEQPACKET, .policy = TPCTL_READ_REPLACE,
	.want = { "alice", "bob", "carol" },
};

FIXTURE_SETUP(server)
{
	ASSERT_EQ(0, tp_set_bag(NULL));
	strcpy(self->dir, "/tmp/tp-unix-XXXXXX");
	ASSERT_NE(NULL, mkdtemp(self->dir));
	self->addr.sun_family = AF_UNIX;
	snprintf(self->addr.sun_path, sizeof(self->addr.sun_path), "%s/s", self->dir);
	self->listener = socket(AF_UNIX, variant->type, 0);
	ASSERT_LE(0, self->listener);
	ASSERT_EQ(0, bind(self->listener, (struct sockaddr *)&self->addr,
			  sizeof(self->addr)));
	if (variant->type != SOCK_DGRAM)
		ASSERT_EQ(0, listen(self->listener, 8));
	self->r = tp_reports_new();
	ASSERT_NE(NULL, self->r);
}

FIXTURE_TEARDOWN(server)
{
	close(self->listener);
	unlink(self->addr.sun_path);
	rmdir(self->dir);
	tp_reports_free(self->r);
}

/*
 * A server started without baggage serves alice, bob and carol, one
 * after the other: with replace it works for exactly the one it serves,
 * with merge it accumulates them.
 */
TEST_F(server, long_lived_reader)
{
	struct server_job j = {
		.listener = self->listener, .type = variant->type, .requests = 3,
		.len = 64, .policy = variant->policy, .r = self->r,
	};
	static const char *const clients[] = { "alice", "bob", "carol" };
	pid_t srv = tp_spawn(NULL, serve, &j);

	ASSERT_LT(0, srv);
	for (int i = 0; i < 3; i++) {
		uint64_t deadline = tp_deadline(60);

		ASSERT_EQ(0, request(&self->addr, variant->type, clients[i], 64));
		/* The next client only once this one was served. */
		while (!tp_expired(deadline) && !self->r->text[i][0])
			usleep(1000);
	}
	ASSERT_EQ(0, tp_wait(srv));
	for (int i = 0; i < 3; i++)
		EXPECT_STREQ(variant->want[i], self->r->text[i]);
}

/* ---- many senders at once ----------------------------------------------------- */

#define MSG_LEN		256
#define STOP		'S'	/* a message without baggage: the reader stops */

/* "w0,w3": the baggage of the senders whose bytes @msg holds (ids 0..9). */
static void expected_text(const char *msg, size_t len, char *out, size_t cap)
{
	bool seen[10] = { false };
	size_t o = 0;

	for (size_t i = 0; i < len; i++)
		if (msg[i] >= 0 && msg[i] < 10)
			seen[(int)msg[i]] = true;
	out[0] = '\0';
	for (int id = 0; id < 10; id++)
		if (seen[id])
			o += snprintf(out + o, cap - o, "%sw%d", o ? "," : "", id);
}

/*
 * Reads messages with the replace policy until EOF or a STOP message.
 * After each read the reader's baggage must be exactly that of the
 * senders whose bytes it got: one per buffer.  0, or 1 on a mismatch.
 */
static int check_messages(int fd)
{
	char msg[MSG_LEN], text[TP_REPORT_LEN], want[TP_REPORT_LEN];

	if (tp_set_policy(0, TPCTL_READ_REPLACE))
		return 2;
	for (;;) {
		ssize_t n = recv(fd, msg, sizeof(msg), MSG_WAITALL);

		if (n == 0 || (n > 0 && msg[0] == STOP))
			return 0;
		if (n < 0 || tp_self_text(text, sizeof(text)))
			return 3;
		expected_text(msg, (size_t)n, want, sizeof(want));
		if (strcmp(text, want)) {
			fprintf(stderr, "read bytes of %s, credited with %s\n", want, text);
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
		if (send(fd, msg, sizeof(msg), 0) != sizeof(msg))
			return 1;
	return 0;
}

FIXTURE(many) {
	int sv[2];
};

FIXTURE_VARIANT(many) {
	int type;
};

FIXTURE_VARIANT_ADD(many, stream) { .type = SOCK_STREAM };
FIXTURE_VARIANT_ADD(many, dgram) { .type = SOCK_DGRAM };
FIXTURE_VARIANT_ADD(many, seqpacket) { .type = SOCK_SEQPACKET };

FIXTURE_SETUP(many)
{
	ASSERT_EQ(0, tp_set_bag(NULL));
	ASSERT_EQ(0, socketpair(AF_UNIX, variant->type, 0, self->sv));
}

FIXTURE_TEARDOWN(many)
{
	close(self->sv[0]);
	close(self->sv[1]);
}

/* 8 senders and 4 readers on one socket: every read credited exactly. */
TEST_F(many, senders_and_readers_at_once)
{
	struct tpctl_transit_status ts;
	char stop[MSG_LEN];
	pid_t pids[12];

	for (int i = 0; i < 4; i++) {
		pids[i] = fork();
		if (pids[i] == 0) {
			close(self->sv[1]);
			_exit(check_messages(self->sv[0]));
		}
	}
	for (int i = 0; i < 8; i++) {
		pids[4 + i] = fork();
		if (pids[4 + i] == 0)
			_exit(send_messages(self->sv[1], i, 50));
	}
	for (int i = 4; i < 12; i++)
		EXPECT_EQ(0, tp_wait(pids[i]));
	/* Streams end with EOF; messages need one STOP per reader. */
	memset(stop, STOP, sizeof(stop));
	for (int i = 0; i < 4 && variant->type != SOCK_STREAM; i++)
		ASSERT_EQ(MSG_LEN, send(self->sv[1], stop, sizeof(stop), 0));
	close(self->sv[1]);
	for (int i = 0; i < 4; i++)
		EXPECT_EQ(0, tp_wait(pids[i]));
	close(self->sv[0]);
	ASSERT_EQ(0, socketpair(AF_UNIX, variant->type, 0, self->sv));
	EXPECT_EQ(0, tp_transit_wait_empty(&ts, 60));
}

/* ---- documented limitations ---------------------------------------------------------- */

/* Bytes spliced from a pipe into a socket leave their baggage behind. */
TEST(splice_from_a_pipe_into_a_socket_carries_none)
{
	struct tp_reports *r = tp_reports_new();
	int p[2], sv[2];
	pid_t pid;

	ASSERT_NE(NULL, r);
	ASSERT_EQ(0, tp_set_bag(NULL));
	ASSERT_EQ(0, pipe(p));
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	ASSERT_EQ(0, tp_writer(p[1], "alice", 100, 'a', true));
	pid = fork();
	if (pid == 0)
		_exit(splice(p[0], NULL, sv[1], NULL, 100, 0) != 100);
	ASSERT_EQ(0, tp_wait(pid));
	ASSERT_EQ(0, tp_reader(sv[0], NULL, 100, 0, r, 0, true));
	EXPECT_STREQ("", r->text[0]);
	tp_reports_free(r);
}

/*
 * sendfile into a stream socket (case 6 of Documentation/transit.rst):
 * the first call queues a new buffer, tagged as any send; a second one
 * by the same sender appends to that buffer, whose tag takes the second
 * baggage too, so even a read of the first bytes only gets both.
 */
TEST(sendfile_appending_to_a_buffer_merges_into_its_baggage)
{
	struct tp_reports *r = tp_reports_new();
	char path[] = "/tmp/tp-sendfile.XXXXXX", data[100];
	int fd, sv[2];
	pid_t pid;

	ASSERT_NE(NULL, r);
	ASSERT_EQ(0, tp_set_bag(NULL));
	fd = mkstemp(path);
	ASSERT_LE(0, fd);
	unlink(path);
	memset(data, 'f', sizeof(data));
	ASSERT_EQ(100, pwrite(fd, data, sizeof(data), 0));
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	pid = fork();
	if (pid == 0) {
		off_t off = 0;

		_exit(tp_set_bag("alice") || sendfile(sv[1], fd, &off, 50) != 50 ||
		      tp_set_bag("bob") || sendfile(sv[1], fd, &off, 50) != 50);
	}
	ASSERT_EQ(0, tp_wait(pid));
	ASSERT_EQ(0, tp_reader(sv[0], NULL, 50, 0, r, 0, true));
	EXPECT_STREQ("alice,bob", r->text[0]);
	close(fd);
	close(sv[0]);
	close(sv[1]);
	tp_reports_free(r);
}

/*
 * accept() takes a connection request off the listener's queue, through
 * the same function as a datagram read; it is no read, and a server
 * under the replace policy keeps its baggage across it.
 */
TEST(accept_is_no_read)
{
	struct tp_reports *r = tp_reports_new();
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	int listener, fd;
	pid_t pid;

	ASSERT_NE(NULL, r);
	ASSERT_EQ(0, tp_set_bag(NULL));
	snprintf(addr.sun_path, sizeof(addr.sun_path), "/tmp/tp-accept.%d", getpid());
	unlink(addr.sun_path);
	listener = socket(AF_UNIX, SOCK_STREAM, 0);
	ASSERT_LE(0, listener);
	ASSERT_EQ(0, bind(listener, (const struct sockaddr *)&addr, sizeof(addr)));
	ASSERT_EQ(0, listen(listener, 1));
	pid = fork();
	if (pid == 0) {
		if (tp_set_bag("carol") || tp_set_policy(0, TPCTL_READ_REPLACE))
			_exit(1);
		fd = accept(listener, NULL, NULL);
		tp_report(r, 0);
		_exit(fd < 0);
	}
	ASSERT_EQ(0, request(&addr, SOCK_STREAM, "dave", 0));
	ASSERT_EQ(0, tp_wait(pid));
	ASSERT_EQ(0, r->err[0]);
	EXPECT_STREQ("carol", r->text[0]);
	close(listener);
	unlink(addr.sun_path);
	tp_reports_free(r);
}

TP_SELFTEST_MAIN
