// SPDX-License-Identifier: MIT
/*
 * Inheritance: a new task starts with its parent's baggage, whatever
 * created it (fork, vfork, clone, clone3, posix_spawn, threads), keeps it
 * across exec, and from then on the two evolve independently.
 */
#include <linux/sched.h>
#include <pthread.h>
#include <sched.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#include "kselftest_harness.h"
#include "proc.h"

extern char **environ;

enum spawn_method {
	M_FORK,
	M_FORK_EXEC,
	M_FORK_EXEC_TWICE,
	M_VFORK_EXEC,
	M_POSIX_SPAWN,
	M_CLONE,		/* raw clone(2), fork-like */
	M_CLONE_SHARE,		/* raw clone(2) sharing files, fs, sysvsem */
	M_CLONE_VM_VFORK,	/* clone(CLONE_VM | CLONE_VFORK) on its own stack */
	M_CLONE_NEWNS,		/* clone(2) into new pid, net, mount, uts, ipc ns */
	M_CLONE3,
	M_CLONE3_PIDFD,
	M_CLONE3_NEWNS,
	M_PTHREAD,
};

static int report_fn(void *arg)
{
	return tp_report_self((int)(long)arg);
}

static void *thread_fn(void *arg)
{
	char *text = arg;

	/* First thing: the thread must already have its baggage. */
	tp_self_text(text, 8192);
	return NULL;
}

static void report_args(char **argv, char *fdbuf, int fd, const char *times)
{
	snprintf(fdbuf, 16, "%d", fd);
	argv[0] = "/proc/self/exe";
	argv[1] = "--report";
	argv[2] = fdbuf;
	argv[3] = (char *)times;
	argv[4] = NULL;
}

static pid_t raw_clone3(uint64_t flags, int *pidfd)
{
	struct clone_args args = {
		.flags = flags,
		.pidfd = (uintptr_t)pidfd,
		.exit_signal = SIGCHLD,
	};

	return syscall(SYS_clone3, &args, sizeof(args));
}

/*
 * Starts a task by @m that writes its baggage as text to @wfd and exits
 * (or, for a thread, fills @text).  Returns the pid, 0 for a thread, or -1.
 */
static pid_t spawn_reporter(enum spawn_method m, int wfd, char *text, pthread_t *thr)
{
	char fdbuf[16], *argv[5];
	int pidfd = -1;
	pid_t pid = -1;
	void *stack;

	switch (m) {
	case M_FORK:
		pid = fork();
		if (pid == 0)
			_exit(tp_report_self(wfd));
		break;
	case M_FORK_EXEC:
	case M_FORK_EXEC_TWICE:
		report_args(argv, fdbuf, wfd, m == M_FORK_EXEC ? "0" : "2");
		pid = fork();
		if (pid == 0) {
			execv(argv[0], argv);
			_exit(4);
		}
		break;
	case M_VFORK_EXEC:
		report_args(argv, fdbuf, wfd, "0");
		pid = vfork();
		if (pid == 0) {
			execv(argv[0], argv);
			_exit(4);
		}
		break;
	case M_POSIX_SPAWN:
		report_args(argv, fdbuf, wfd, "0");
		if (posix_spawn(&pid, argv[0], NULL, NULL, argv, environ))
			pid = -1;
		break;
	case M_CLONE:
	case M_CLONE_SHARE:
	case M_CLONE_NEWNS: {
		unsigned long flags = SIGCHLD;

		if (m == M_CLONE_SHARE)
			flags |= CLONE_FILES | CLONE_FS | CLONE_SYSVSEM;
		if (m == M_CLONE_NEWNS)
			flags |= CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWNS |
				 CLONE_NEWUTS | CLONE_NEWIPC;
		pid = syscall(SYS_clone, flags, NULL, NULL, NULL, 0);
		if (pid == 0)
			_exit(tp_report_self(wfd));
		break;
	}
	case M_CLONE_VM_VFORK:
		stack = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE,
			     MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
		if (stack == MAP_FAILED)
			return -1;
		pid = clone(report_fn, (char *)stack + (1 << 20),
			    CLONE_VM | CLONE_VFORK | SIGCHLD, (void *)(long)wfd);
		munmap(stack, 1 << 20);
		break;
	case M_CLONE3:
	case M_CLONE3_PIDFD:
	case M_CLONE3_NEWNS: {
		uint64_t flags = 0;

		if (m == M_CLONE3_PIDFD)
			flags |= CLONE_PIDFD;
		if (m == M_CLONE3_NEWNS)
			flags |= CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWNS;
		pid = raw_clone3(flags, &pidfd);
		if (pid == 0)
			_exit(tp_report_self(wfd));
		if (pidfd >= 0)
			close(pidfd);
		if (m == M_CLONE3_PIDFD && pid > 0 && pidfd < 0)
			return -1;
		break;
	}
	case M_PTHREAD:
		return pthread_create(thr, NULL, thread_fn, text) ? -1 : 0;
	}
	return pid;
}

FIXTURE(inherit) {
	struct tpnl nl;
};

FIXTURE_SETUP(inherit)
{
	ASSERT_EQ(0, tpnl_open(&self->nl));
	ASSERT_EQ(0, tpnl_clear(&self->nl, TPNL_SELF, 0));
}

FIXTURE_TEARDOWN(inherit)
{
	tpnl_close(&self->nl);
}

FIXTURE_VARIANT(inherit) {
	enum spawn_method method;
	const char *bag;	/* the parent's baggage */
};

#define SPAWN_VARIANT(name, m, b)				\
	FIXTURE_VARIANT_ADD(inherit, name) {			\
		.method = m, .bag = b,				\
	}

SPAWN_VARIANT(fork, M_FORK, "fork,k=v");
SPAWN_VARIANT(fork_exec, M_FORK_EXEC, "exec,k=v");
SPAWN_VARIANT(fork_exec_exec_exec, M_FORK_EXEC_TWICE, "exec3,k=v");
SPAWN_VARIANT(vfork_exec, M_VFORK_EXEC, "k=v,vfork");
SPAWN_VARIANT(posix_spawn, M_POSIX_SPAWN, "k=v,spawn");
SPAWN_VARIANT(clone, M_CLONE, "clone,k=v");
SPAWN_VARIANT(clone_files_fs, M_CLONE_SHARE, "clone_share,k=v");
SPAWN_VARIANT(clone_vm_vfork, M_CLONE_VM_VFORK, "clone_vm,k=v");
SPAWN_VARIANT(clone_new_namespaces, M_CLONE_NEWNS, "clone_ns,k=v");
SPAWN_VARIANT(clone3, M_CLONE3, "clone3,k=v");
SPAWN_VARIANT(clone3_pidfd, M_CLONE3_PIDFD, "clone3_pidfd,k=v");
SPAWN_VARIANT(clone3_new_namespaces, M_CLONE3_NEWNS, "clone3_ns,k=v");
SPAWN_VARIANT(pthread, M_PTHREAD, "k=v,thread");
/* Binary atoms, a 200-byte atom (two-byte varint) and the overflow marker. */
SPAWN_VARIANT(fork_binary, M_FORK,
	      "<>,\\x00\\x01\\xff,"
	      "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	      "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	      "xxxxxxxxxxxxxxxxxxxx");
/* No baggage: the child has none either. */
SPAWN_VARIANT(fork_empty, M_FORK, "");
SPAWN_VARIANT(pthread_empty, M_PTHREAD, "");
SPAWN_VARIANT(exec_empty, M_FORK_EXEC, "");

/* The child sees exactly the parent's baggage; the parent keeps it. */
TEST_F(inherit, child_starts_with_parent_baggage)
{
	static char got[8192], mine[8192];
	pthread_t thr;
	int p[2];
	pid_t pid;

	if (variant->bag[0]) {
		ASSERT_EQ(0, tpnl_set_text(&self->nl, TPNL_SELF, 0, variant->bag));
	}
	ASSERT_EQ(0, pipe(p));
	pid = spawn_reporter(variant->method, p[1], got, &thr);
	ASSERT_LE(0, pid);
	if (pid == 0) {
		ASSERT_EQ(0, pthread_join(thr, NULL));
	} else if (variant->method == M_CLONE_SHARE) {
		/* the child shares our fd table: close p[1] only after it is done */
		EXPECT_EQ(0, tp_wait(pid));
		close(p[1]);
		ASSERT_LE(0, tp_read_all(p[0], got, sizeof(got)));
	} else {
		close(p[1]);
		ASSERT_LE(0, tp_read_all(p[0], got, sizeof(got)));
		EXPECT_EQ(0, tp_wait(pid));
	}
	if (pid == 0)
		close(p[1]);
	close(p[0]);
	EXPECT_STREQ(variant->bag, got);

	ASSERT_EQ(0, tpnl_get_text(&self->nl, TPNL_SELF, 0, mine, sizeof(mine)));
	EXPECT_STREQ(variant->bag, mine);
}

/* ---- copy-on-write: after the fork, each side changes alone -------------- */

FIXTURE(cow) {
	struct tpnl nl;
};

FIXTURE_SETUP(cow)
{
	ASSERT_EQ(0, tpnl_open(&self->nl));
	ASSERT_EQ(0, tpnl_set_text(&self->nl, TPNL_SELF, 0, "a,m"));
	/* The pipes that pace these tests must not carry baggage across. */
	ASSERT_EQ(0, tpnl_set_read_policy(&self->nl, TPNL_SELF, 0,
					  TRACINGPLANE_READ_IGNORE));
}

FIXTURE_TEARDOWN(cow)
{
	tpnl_close(&self->nl);
}

/* The child merges, sets and clears its baggage; the parent's never moves. */
TEST_F(cow, child_changes_do_not_reach_parent)
{
	static const char *const steps[][2] = {
		/* op, baggage */
		{ "merge", "b,z" },
		{ "set", "c" },
		{ "clear", NULL },
	};
	static const char *const child_sees[] = { "a,b,m,z", "c", "" };
	int to_child[2], to_parent[2];
	char text[4096];
	pid_t pid;

	ASSERT_EQ(0, pipe(to_child));
	ASSERT_EQ(0, pipe(to_parent));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		for (size_t i = 0; i < 3; i++) {
			uint8_t cmd = steps[i][0][0] == 'm' ? TRACINGPLANE_CMD_MERGE :
				      steps[i][0][0] == 's' ? TRACINGPLANE_CMD_SET :
							       TRACINGPLANE_CMD_CLEAR;
			char c;

			if (tp_self_op(cmd, steps[i][1]))
				_exit(10 + i);
			tp_self_text(text, sizeof(text));
			if (strcmp(text, child_sees[i]))
				_exit(20 + i);
			/* let the parent look, then wait for it */
			if (write(to_parent[1], "x", 1) != 1 || read(to_child[0], &c, 1) != 1)
				_exit(30);
		}
		_exit(0);
	}
	for (int i = 0; i < 3; i++) {
		char c;

		ASSERT_EQ(1, read(to_parent[0], &c, 1)) TH_LOG("child died at step %d", i);
		ASSERT_EQ(0, tpnl_get_text(&self->nl, TPNL_SELF, 0, text, sizeof(text)));
		EXPECT_STREQ("a,m", text) TH_LOG("after child step %d", i);
		ASSERT_EQ(1, write(to_child[1], "x", 1));
	}
	EXPECT_EQ(0, tp_wait(pid));
}

/* The parent changes after the fork; the child keeps what it inherited. */
TEST_F(cow, parent_changes_do_not_reach_child)
{
	int go[2], res[2];
	char text[4096], c;
	pid_t pid;

	ASSERT_EQ(0, pipe(go));
	ASSERT_EQ(0, pipe(res));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		close(go[1]);
		if (read(go[0], &c, 1) != 1)
			_exit(5);
		_exit(tp_report_self(res[1]));
	}
	close(go[0]);
	close(res[1]);
	ASSERT_EQ(0, tpnl_merge_text(&self->nl, TPNL_SELF, 0, "p"));
	ASSERT_EQ(0, tpnl_set_text(&self->nl, TPNL_SELF, 0, "q,r"));
	ASSERT_EQ(1, write(go[1], "x", 1));
	ASSERT_LE(0, tp_read_all(res[0], text, sizeof(text)));
	EXPECT_EQ(0, tp_wait(pid));
	EXPECT_STREQ("a,m", text);
	ASSERT_EQ(0, tpnl_clear(&self->nl, TPNL_SELF, 0));
}

struct thr_arg {
	int go[2];
	char text[2][4096];
};

static void *cow_thread(void *p)
{
	struct thr_arg *a = p;
	char c;

	/* inherited, then mine alone */
	tp_self_text(a->text[0], sizeof(a->text[0]));
	if (tp_self_op(TRACINGPLANE_CMD_SET, "t") || read(a->go[0], &c, 1) != 1)
		return NULL;
	tp_self_text(a->text[1], sizeof(a->text[1]));
	return NULL;
}

/* Baggage is per task: threads of one process do not share changes. */
TEST_F(cow, threads_are_independent)
{
	struct thr_arg a = { 0 };
	char text[4096];
	pthread_t thr;

	ASSERT_EQ(0, pipe(a.go));
	ASSERT_EQ(0, pthread_create(&thr, NULL, cow_thread, &a));
	ASSERT_EQ(0, tpnl_merge_text(&self->nl, TPNL_SELF, 0, "main"));
	ASSERT_EQ(1, write(a.go[1], "x", 1));
	ASSERT_EQ(0, pthread_join(thr, NULL));
	EXPECT_STREQ("a,m", a.text[0]);
	EXPECT_STREQ("t", a.text[1]);
	ASSERT_EQ(0, tpnl_get_text(&self->nl, TPNL_SELF, 0, text, sizeof(text)));
	EXPECT_STREQ("a,m,main", text);
}

/* ---- scale: long chains and wide trees ----------------------------------- */

#define CHAIN_EVERY	100
#define TREE_DEPTH_MAX	4	/* 10 + 100 + 1000 + 10000 tasks */

/*
 * 1000 generations and a tree 4 levels deep by default; TP_CHAIN_LEN (100
 * to 1000, in hundreds) and TP_TREE_DEPTH (1 to 4) shrink them where forks
 * are slow: the debug kernel's lane (Documentation/testing.rst).
 */
static int chain_len = 1000;
static int tree_depth = TREE_DEPTH_MAX;

static int env_size(const char *name, int def, int min, int max)
{
	const char *v = getenv(name);
	int n;

	if (!v || !*v)
		return def;
	n = atoi(v);
	return n < min ? min : n > max ? max : n;
}

FIXTURE(scale) {
	struct tpnl nl;
};

FIXTURE_SETUP(scale)
{
	chain_len = env_size("TP_CHAIN_LEN", 1000, CHAIN_EVERY, 1000) / CHAIN_EVERY * CHAIN_EVERY;
	tree_depth = env_size("TP_TREE_DEPTH", TREE_DEPTH_MAX, 1, TREE_DEPTH_MAX);
	ASSERT_EQ(0, tpnl_open(&self->nl));
}

FIXTURE_TEARDOWN(scale)
{
	tpnl_close(&self->nl);
}

struct shared {
	atomic_long ok;
	atomic_long ran;
	atomic_int failed;
	char first_failure[1024];
};

static struct shared *shared_map(void)
{
	void *p = mmap(NULL, sizeof(struct shared), PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

static void shared_fail(struct shared *sh, const char *fmt, ...)
{
	va_list ap;

	if (atomic_fetch_add(&sh->failed, 1))
		return;
	va_start(ap, fmt);
	vsnprintf(sh->first_failure, sizeof(sh->first_failure), fmt, ap);
	va_end(ap);
}

/*
 * 1000 generations, each the child of the one before; every 100th adds an
 * atom, and the last checks that it has the original baggage plus all ten.
 */
TEST_F_TIMEOUT(scale, chain_of_1000_generations, 600)
{
	char expect[4096], text[4096];
	struct shared *sh;
	pid_t pid;
	int gen;

	sh = shared_map();
	ASSERT_NE(NULL, sh);
	ASSERT_EQ(0, tpnl_set_text(&self->nl, TPNL_SELF, 0, "chain,root"));
	strcpy(expect, "chain");
	for (gen = CHAIN_EVERY; gen <= chain_len; gen += CHAIN_EVERY)
		snprintf(expect + strlen(expect), sizeof(expect) - strlen(expect), ",gen%04d", gen);
	strcat(expect, ",root");

	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		for (gen = 1;; gen++) {
			int rc;

			atomic_fetch_add(&sh->ran, 1);
			if (gen % CHAIN_EVERY == 0) {
				char atom[16];

				snprintf(atom, sizeof(atom), "gen%04d", gen);
				if (tp_self_op(TRACINGPLANE_CMD_MERGE, atom)) {
					shared_fail(sh, "gen %d: merge failed", gen);
					_exit(1);
				}
			}
			if (gen == chain_len) {
				tp_self_text(text, sizeof(text));
				if (strcmp(text, expect)) {
					shared_fail(sh, "last generation has \"%s\"", text);
					_exit(1);
				}
				atomic_fetch_add(&sh->ok, 1);
				_exit(0);
			}
			pid = fork();
			if (pid < 0) {
				shared_fail(sh, "gen %d: fork: %s", gen, strerror(errno));
				_exit(1);
			}
			if (pid == 0)
				continue;	/* the next generation */
			rc = tp_wait(pid);
			_exit(rc);
		}
	}
	EXPECT_EQ(0, tp_wait(pid));
	EXPECT_EQ(0, sh->failed) TH_LOG("%s", sh->first_failure);
	EXPECT_EQ(chain_len, sh->ran);
	EXPECT_EQ(1, sh->ok);
	ASSERT_EQ(0, tpnl_get_text(&self->nl, TPNL_SELF, 0, text, sizeof(text)));
	EXPECT_STREQ("chain,root", text);
}

#define TREE_FANOUT	10

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * One node of the tree at @level whose path from the root is @path[0..level).
 * Internal nodes add an atom naming their path; every node checks that it
 * has the root's atoms plus exactly its ancestors' (and its own).
 */
static int tree_node(struct shared *sh, int level, int *path)
{
	char atoms[TREE_DEPTH_MAX + 2][32], *sorted[TREE_DEPTH_MAX + 2];
	char expect[512] = "", text[512];
	pid_t kids[TREE_FANOUT];
	int n = 0, nkids = 0, rc = 0;

	atomic_fetch_add(&sh->ran, 1);
	strcpy(atoms[n++], "tree");
	for (int l = 1; l <= level && l < tree_depth; l++) {
		char *a = atoms[n++];

		strcpy(a, "n");
		for (int i = 0; i < l; i++)
			sprintf(a + strlen(a), "%s%d", i ? "." : "", path[i]);
	}
	for (int i = 0; i < n; i++)
		sorted[i] = atoms[i];
	qsort(sorted, n, sizeof(sorted[0]), cmp_str);
	for (int i = 0; i < n; i++)
		sprintf(expect + strlen(expect), "%s%s", i ? "," : "", sorted[i]);

	if (level < tree_depth &&
	    tp_self_op(TRACINGPLANE_CMD_MERGE, atoms[n - 1])) {
		shared_fail(sh, "node %s: merge failed", atoms[n - 1]);
		return 1;
	}
	tp_self_text(text, sizeof(text));
	if (strcmp(text, expect)) {
		shared_fail(sh, "level %d node: expected \"%s\", has \"%s\"", level, expect, text);
		return 1;
	}
	atomic_fetch_add(&sh->ok, 1);
	if (level == tree_depth)
		return 0;

	/*
	 * Level-1 subtrees run one after the other; below that siblings run
	 * at once.  At most about 1 + 10 + 100 + 1000 tasks live together.
	 */
	for (int i = 0; i < TREE_FANOUT; i++) {
		pid_t pid = fork();

		if (pid < 0) {
			shared_fail(sh, "fork at level %d: %s", level, strerror(errno));
			rc = 1;
			break;
		}
		if (pid == 0) {
			path[level] = i;
			_exit(tree_node(sh, level + 1, path));
		}
		if (level == 0) {
			if (tp_wait(pid))
				rc = 1;
		} else {
			kids[nkids++] = pid;
		}
	}
	for (int i = 0; i < nkids; i++)
		if (tp_wait(kids[i]))
			rc = 1;
	return rc;
}

TEST_F_TIMEOUT(scale, tree_of_10000_processes, 900)
{
	int path[TREE_DEPTH_MAX + 1] = { 0 };
	long total = 0, width = 1;
	struct shared *sh;
	char text[512];

	for (int l = 1; l <= tree_depth; l++) {
		width *= TREE_FANOUT;
		total += width;
	}
	sh = shared_map();
	ASSERT_NE(NULL, sh);
	ASSERT_EQ(0, tpnl_set_text(&self->nl, TPNL_SELF, 0, "tree"));

	/* the test task itself is the root, level 0 */
	EXPECT_EQ(0, tree_node(sh, 0, path));
	EXPECT_EQ(0, sh->failed) TH_LOG("%s", sh->first_failure);
	EXPECT_EQ(total + 1, sh->ran);
	EXPECT_EQ(total + 1, sh->ok);
	ASSERT_EQ(0, tpnl_get_text(&self->nl, TPNL_SELF, 0, text, sizeof(text)));
	EXPECT_STREQ("tree", text);
}

TP_SELFTEST_MAIN
