/* SPDX-License-Identifier: MIT */
/*
 * Helpers of the transit selftests (pipe.c, unix.c): child processes that
 * write or read with a given baggage and read policy, and report what
 * they ended up with.
 *
 * Children report through shared memory, never through a pipe or a
 * socket: those carry baggage, and would change the very baggage of the
 * parent that the tests look at.
 */
#ifndef TP_SELFTEST_TRANSIT_H
#define TP_SELFTEST_TRANSIT_H

#include <stdarg.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include "proc.h"
#include "tpctl.h"

#define TP_REPORTS	128
#define TP_REPORT_LEN	1024

/* What each child saw: its baggage as text (nl.h's notation). */
struct tp_reports {
	char text[TP_REPORTS][TP_REPORT_LEN];
	int err[TP_REPORTS];
};

static inline struct tp_reports *tp_reports_new(void)
{
	void *p = mmap(NULL, sizeof(struct tp_reports), PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

static inline void tp_reports_free(struct tp_reports *r)
{
	if (r)
		munmap(r, sizeof(*r));
}

/* My baggage := @bag (nl.h's text; NULL or "": none). */
static inline int tp_set_bag(const char *bag)
{
	if (!bag || !*bag)
		return tp_self_op(TRACINGPLANE_CMD_CLEAR, NULL);
	return tp_self_op(TRACINGPLANE_CMD_SET, bag);
}

/* Sets the read policy of me (@pid 0) or of process @pid. */
static inline int tp_set_policy(pid_t pid, enum tpctl_read_policy policy)
{
	struct tpctl *h = tpctl_open();
	int err;

	if (!h)
		return -errno;
	err = tpctl_set_read_policy(h, pid ? TPCTL_PID : TPCTL_SELF, pid, policy);
	tpctl_close(h);
	return err;
}

/* The read policy of me (@pid 0) or of process @pid, or -errno. */
static inline int tp_get_policy(pid_t pid)
{
	enum tpctl_read_policy policy;
	struct tpctl *h = tpctl_open();
	int err;

	if (!h)
		return -errno;
	err = tpctl_get_read_policy(h, pid ? TPCTL_PID : TPCTL_SELF, pid, &policy);
	tpctl_close(h);
	return err ? err : (int)policy;
}

static inline int tp_transit(struct tpctl_transit_status *ts)
{
	struct tpctl *h = tpctl_open();
	int err;

	if (!h)
		return -errno;
	err = tpctl_transit_status(h, ts);
	tpctl_close(h);
	return err;
}

/*
 * Polls (at most @seconds) until no pipe state, range or buffer tag is
 * left: they are freed when the last file of a pipe or socket closes,
 * some of them after an RCU grace period.  0, or -ETIMEDOUT.
 */
static inline int tp_transit_wait_empty(struct tpctl_transit_status *ts, int seconds)
{
	uint64_t deadline = tp_deadline(seconds);

	for (;;) {
		int err = tp_transit(ts);

		if (err)
			return err;
		if (!ts->live_pipes && !ts->live_ranges && !ts->live_skb_tags)
			return 0;
		if (tp_expired(deadline))
			return -ETIMEDOUT;
		usleep(10000);
	}
}

/* Stores my baggage as text in report slot @slot. */
static inline void tp_report(struct tp_reports *r, int slot)
{
	r->err[slot] = tp_self_text(r->text[slot], TP_REPORT_LEN);
}

/* Reads exactly @len bytes in reads of at most @chunk; 0 or -1. */
static inline int tp_read_chunks(int fd, size_t len, size_t chunk)
{
	static char buf[1 << 20];

	while (len) {
		size_t want = len < chunk ? len : chunk;
		ssize_t n = read(fd, buf, want < sizeof(buf) ? want : sizeof(buf));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		len -= (size_t)n;
	}
	return 0;
}

/* Writes @len bytes of @fill in writes of at most @chunk; 0 or -1. */
static inline int tp_write_chunks(int fd, size_t len, size_t chunk, char fill)
{
	static char buf[1 << 20];

	memset(buf, fill, sizeof(buf));
	while (len) {
		size_t want = len < chunk ? len : chunk;

		if (tp_write_all(fd, buf, want < sizeof(buf) ? want : sizeof(buf)))
			return -1;
		len -= want < sizeof(buf) ? want : sizeof(buf);
	}
	return 0;
}

/* Runs @fn(@arg) in a child with baggage @bag; returns its pid or -1. */
static inline pid_t tp_spawn(const char *bag, int (*fn)(void *arg), void *arg)
{
	pid_t pid = fork();

	if (pid == 0)
		_exit(tp_set_bag(bag) ? 100 : fn(arg));
	return pid;
}

/* What a writer child does: @len bytes of @fill in writes of @chunk. */
struct tp_write_job {
	int fd;
	size_t len, chunk;
	char fill;
};

static inline int tp_write_job_run(void *arg)
{
	struct tp_write_job *j = arg;

	return tp_write_chunks(j->fd, j->len, j->chunk ? j->chunk : j->len, j->fill) ? 1 : 0;
}

/* A writer child with baggage @bag; waits for it when @wait. */
static inline int tp_writer(int fd, const char *bag, size_t len, char fill, bool wait)
{
	struct tp_write_job j = { .fd = fd, .len = len, .chunk = 0, .fill = fill };
	pid_t pid = tp_spawn(bag, tp_write_job_run, &j);

	if (pid < 0)
		return -1;
	return wait ? tp_wait(pid) : pid;
}

/* What a reader child does: read @len bytes in reads of @chunk, report. */
struct tp_read_job {
	int fd;
	size_t len, chunk;
	int policy;			/* TPCTL_READ_*, or -1: the default */
	struct tp_reports *r;
	int slot;
};

static inline int tp_read_job_run(void *arg)
{
	struct tp_read_job *j = arg;

	if (j->policy >= 0 && tp_set_policy(0, (enum tpctl_read_policy)j->policy))
		return 101;
	if (tp_read_chunks(j->fd, j->len, j->chunk ? j->chunk : j->len))
		return 102;
	tp_report(j->r, j->slot);
	return 0;
}

/*
 * A reader child with baggage @bag that reports into slot @slot; returns
 * its exit status when @wait, else its pid.
 */
static inline int tp_reader(int fd, const char *bag, size_t len, size_t chunk,
			    struct tp_reports *r, int slot, bool wait)
{
	struct tp_read_job j = {
		.fd = fd, .len = len, .chunk = chunk, .policy = -1, .r = r, .slot = slot,
	};
	pid_t pid = tp_spawn(bag, tp_read_job_run, &j);

	if (pid < 0)
		return -1;
	return wait ? tp_wait(pid) : pid;
}

/* Polls until @fd has at least @bytes to read (FIONREAD); 0 or -1. */
static inline int tp_wait_readable(int fd, int bytes)
{
	uint64_t deadline = tp_deadline(60);

	while (!tp_expired(deadline)) {
		int n = 0;

		if (ioctl(fd, FIONREAD, &n))
			return -1;
		if (n >= bytes)
			return 0;
		usleep(1000);
	}
	return -1;
}

/*
 * A child that holds baggage until the caller closes @hold[1]: the
 * transit probes stay armed meanwhile.  Returns once the child holds it
 * (or died: tp_wait() then says so), for until then probes still armed
 * by an earlier test may be disarmed at any moment (a second after the
 * last baggage went).
 */
static inline pid_t tp_keep_armed(int hold[2])
{
	int ready[2];
	pid_t pid;
	char c;

	if (pipe(ready))
		return -1;
	pid = fork();
	if (pid == 0) {
		close(hold[1]);
		close(ready[0]);
		if (tp_set_bag("armed"))
			_exit(1);
		/* EOF, no byte: the parent reads no baggage from it. */
		close(ready[1]);
		_exit(read(hold[0], &c, 1) < 0);
	}
	close(ready[1]);
	while (read(ready[0], &c, 1) < 0 && errno == EINTR)
		;
	close(ready[0]);
	return pid;
}

/* Does the comma-separated @text hold the atom @atom? */
static inline bool tp_has_atom(const char *text, const char *atom)
{
	size_t n = strlen(atom);

	for (const char *p = text; p && *p; p = strchr(p, ',') ? strchr(p, ',') + 1 : NULL)
		if (!strncmp(p, atom, n) && (p[n] == ',' || p[n] == '\0'))
			return true;
	return false;
}

#endif /* TP_SELFTEST_TRANSIT_H */
