/* SPDX-License-Identifier: MIT */
/*
 * Process helpers for the tracingplane selftests: children report what
 * they saw through a pipe, parents collect it and the exit status.
 *
 * Every test binary that includes this header ends with TP_SELFTEST_MAIN
 * instead of TEST_HARNESS_MAIN: the binary then doubles as a helper that
 * other tests exec (e.g. "--report FD": write my baggage to FD and exit).
 */
#ifndef TP_SELFTEST_PROC_H
#define TP_SELFTEST_PROC_H

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "nl.h"

/* Writes all of @len bytes; returns 0 or -1. */
static inline int tp_write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Reads until EOF (or @cap - 1 bytes) and NUL-terminates; returns length. */
static inline ssize_t tp_read_all(int fd, char *buf, size_t cap)
{
	size_t o = 0;

	while (o + 1 < cap) {
		ssize_t n = read(fd, buf + o, cap - 1 - o);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			break;
		o += (size_t)n;
	}
	buf[o] = '\0';
	return (ssize_t)o;
}

/* Reads exactly @len bytes; returns 0 or -1 (EOF or error). */
static inline int tp_read_full(int fd, void *buf, size_t len)
{
	char *p = buf;

	while (len) {
		ssize_t n = read(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Exit code of @pid, 128 + signal if killed, -1 if waitpid failed. */
static inline int tp_wait(pid_t pid)
{
	int status;

	while (waitpid(pid, &status, __WALL) < 0) {
		if (errno != EINTR)
			return -1;
	}
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	return 128 + WTERMSIG(status);
}

/* Is there a line in @path that starts with @prefix?  -1: no such file. */
static inline int tp_file_has_line(const char *path, const char *prefix)
{
	FILE *f = fopen(path, "r");
	char line[512];
	int found = 0;

	if (!f)
		return -1;
	while (!found && fgets(line, sizeof(line), f))
		found = !strncmp(line, prefix, strlen(prefix));
	fclose(f);
	return found;
}

#define TP_TRACING "/sys/kernel/debug/tracing/"

/*
 * The state of the module's probe or hook on @symbol: 1 armed, 0
 * disarmed, -1 not found.  A kprobe shows in /sys/kernel/debug/kprobes/
 * list, with [DISABLED] while disarmed; an ftrace hook (kmod/
 * ftrace_hook.c) shows in enabled_functions while armed only, so a
 * function ftrace can hook that is not there is taken as disarmed.
 */
static inline int tp_probe_armed(const char *symbol)
{
	FILE *f = fopen("/sys/kernel/debug/kprobes/list", "r");
	char line[256], want[128];
	int state = -1;

	if (!f)
		return -1;
	snprintf(want, sizeof(want), " %s+0x0 ", symbol);
	while (state < 0 && fgets(line, sizeof(line), f))
		if (strstr(line, want))
			state = !strstr(line, "[DISABLED]");
	fclose(f);
	if (state >= 0)
		return state;
	snprintf(want, sizeof(want), "%s ", symbol);
	if (tp_file_has_line(TP_TRACING "enabled_functions", want) == 1)
		return 1;
	snprintf(want, sizeof(want), "%s\n", symbol);
	return tp_file_has_line(TP_TRACING "available_filter_functions",
				want) == 1 ? 0 : -1;
}

/* Polls (at most 30 s) until the probe on @symbol is in @state. */
static inline int tp_wait_probe(const char *symbol, int state)
{
	uint64_t deadline = tp_deadline(30);

	while (!tp_expired(deadline)) {
		if (tp_probe_armed(symbol) == state)
			return 0;
		usleep(10000);
	}
	return -1;
}

/* The child's side of a report: its own baggage as text, to @fd. */
static inline int tp_report_self(int fd)
{
	char text[8192];
	int err = tp_self_text(text, sizeof(text));

	if (tp_write_all(fd, text, strlen(text)))
		return 2;
	return err ? 1 : 0;
}

/* --status: the STATUS reply as key=value words on one line. */
static inline int tp_helper_status(void)
{
	struct tp_status st;
	struct tpnl t;
	int err = tpnl_open(&t);

	if (!err)
		err = tpnl_status(&t, &st);
	if (err) {
		fprintf(stderr, "status: %s\n", strerror(-err));
		return 1;
	}
	printf("version=%s max_bytes=%u mem_cap=%llu live_bags=%llu live_bytes=%llu "
	       "live_tasks=%llu trims=%llu alloc_fails=%llu\n",
	       st.version, st.max_bytes, (unsigned long long)st.mem_cap,
	       (unsigned long long)st.live_bags, (unsigned long long)st.live_bytes,
	       (unsigned long long)st.live_tasks, (unsigned long long)st.trims,
	       (unsigned long long)st.alloc_fails);
	tpnl_close(&t);
	return 0;
}

/*
 * --hold N FILE: give myself baggage, start N children that inherit it
 * (every tenth adds an atom of its own, so blobs are both shared and
 * private), create FILE once all hold it, then sleep until killed.  The
 * children exit by themselves when I am gone (their pipe reads EOF).
 */
static inline int tp_helper_hold(int n, const char *file)
{
	int hold[2], ready[2];
	char c;

	if (pipe(hold) || pipe(ready) || tp_self_op(TRACINGPLANE_CMD_SET, "hold,load"))
		return 1;
	for (int i = 0; i < n; i++) {
		pid_t pid = fork();

		if (pid < 0)
			return 1;
		if (pid == 0) {
			char atom[16];

			close(hold[1]);
			snprintf(atom, sizeof(atom), "h%05d", i);
			if (i % 10 == 0 && tp_self_op(TRACINGPLANE_CMD_MERGE, atom))
				_exit(1);
			if (write(ready[1], "r", 1) != 1)
				_exit(1);
			while (read(hold[0], &c, 1) < 0 && errno == EINTR)
				;
			_exit(0);
		}
	}
	for (int i = 0; i < n; i++)
		if (read(ready[0], &c, 1) != 1)
			return 1;
	if (close(open(file, O_WRONLY | O_CREAT, 0644)))
		return 1;
	for (;;)
		pause();
}

/*
 * --churn: fork children that change their baggage and exit, forever
 * (until killed); errors are ignored, the module may come and go.
 */
static inline int tp_helper_churn(void)
{
	for (unsigned long i = 0;; i++) {
		pid_t pid = fork();

		if (pid == 0) {
			tp_self_op(TRACINGPLANE_CMD_MERGE, i & 1 ? "churn,odd" : "churn,even");
			_exit(0);
		}
		if (pid > 0)
			tp_wait(pid);
		tp_self_op(TRACINGPLANE_CMD_SET, i & 1 ? "c1" : "c2");
	}
}

/* --selfcheck: SET, GET and CLEAR my own baggage. */
static inline int tp_helper_selfcheck(void)
{
	char text[256] = "";
	int err;

	err = tp_self_op(TRACINGPLANE_CMD_SET, "again,alive");
	if (!err)
		err = tp_self_text(text, sizeof(text));
	if (!err && strcmp(text, "again,alive"))
		err = -EBADMSG;
	if (!err)
		err = tp_self_op(TRACINGPLANE_CMD_CLEAR, NULL);
	if (err)
		fprintf(stderr, "selfcheck: %s (read \"%s\")\n", strerror(-err), text);
	return err ? 1 : 0;
}

/*
 * --vmsplice-first: with a module that has seen no pipe at work yet (the
 * first thing after insmod), vmsplice a page with my baggage into a new
 * pipe; the child that reads it must get that baggage.
 */
static inline int tp_helper_vmsplice_first(void)
{
	static char page[4096] __attribute__((aligned(4096))) = "first";
	struct iovec iov = { page, sizeof(page) };
	char text[256] = "";
	int fd[2], status = -1;
	pid_t pid;

	if (tp_self_op(TRACINGPLANE_CMD_SET, "first") || pipe(fd) ||
	    vmsplice(fd[1], &iov, 1, 0) != sizeof(page))
		return 1;
	pid = fork();
	if (pid == 0) {
		_exit(tp_self_op(TRACINGPLANE_CMD_CLEAR, NULL) ||
		      tp_read_full(fd[0], page, sizeof(page)) ||
		      tp_self_text(text, sizeof(text)) || strcmp(text, "first"));
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		return 1;
	tp_self_op(TRACINGPLANE_CMD_CLEAR, NULL);
	return WIFEXITED(status) && !WEXITSTATUS(status) ? 0 : 1;
}

/*
 * Helper modes of every selftest binary, run before the harness:
 *   --report FD [N]   exec itself N more times, then write its baggage
 *                     as text to FD and exit 0 (1: GET failed);
 *   --status, --hold N FILE, --churn, --selfcheck, --vmsplice-first:
 *                     for selftests/run.
 */
static inline int tp_helper_main(int argc, char **argv)
{
	if (argc >= 3 && !strcmp(argv[1], "--report")) {
		int n = argc >= 4 ? atoi(argv[3]) : 0;

		if (n > 0) {
			char left[16];
			char *args[] = { argv[0], argv[1], argv[2], left, NULL };

			snprintf(left, sizeof(left), "%d", n - 1);
			execv("/proc/self/exe", args);
			return 3;
		}
		return tp_report_self(atoi(argv[2]));
	}
	if (argc == 2 && !strcmp(argv[1], "--status"))
		return tp_helper_status();
	if (argc == 4 && !strcmp(argv[1], "--hold"))
		return tp_helper_hold(atoi(argv[2]), argv[3]);
	if (argc == 2 && !strcmp(argv[1], "--churn"))
		return tp_helper_churn();
	if (argc == 2 && !strcmp(argv[1], "--selfcheck"))
		return tp_helper_selfcheck();
	if (argc == 2 && !strcmp(argv[1], "--vmsplice-first"))
		return tp_helper_vmsplice_first();
	return -1;
}

/* TEST_HARNESS_MAIN, with the helper modes in front (6.1 harness). */
#define TP_SELFTEST_MAIN						\
	static void __attribute__((constructor))			\
	__constructor_order_last(void)					\
	{								\
		if (!__constructor_order)				\
			__constructor_order = _CONSTRUCTOR_ORDER_BACKWARD; \
	}								\
	int main(int argc, char **argv)					\
	{								\
		int rc = tp_helper_main(argc, argv);			\
									\
		if (rc >= 0)						\
			return rc;					\
		return test_harness_run(argc, argv);			\
	}

#endif /* TP_SELFTEST_PROC_H */
