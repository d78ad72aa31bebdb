// SPDX-License-Identifier: MIT
/*
 * Fault injection: the module's allocations fail at random while a task
 * SETs, MERGEs and CLEARs its own baggage and another task's, and forks.
 * Every request must either succeed or fail with ENOMEM; a failed request
 * leaves the baggage it targeted as it was; a child whose inheritance
 * failed has no baggage rather than a wrong one; tasks nobody wrote to keep
 * theirs; every failure is counted in STATUS alloc_fails; and once the
 * tasks are gone every live counter is back to zero (after the run,
 * tools/vm/run has kmemleak look for anything left behind).
 *
 * The failures come from fail_tracingplane, the module's own fault_attr
 * (kmod/fault.c), for its kmalloc()s, and from failslab restricted to the
 * module's slab caches (tp_*, which tools/vm/run marks for it on the debug
 * kernel's command line: slub_debug=A,tp_*) for the rest, both limited to
 * this test's tasks (task-filter, /proc/self/make-it-fail).
 * Kernels without fault injection, such as the distribution's, skip it:
 * run it with  tools/vm/run --kernel debug -- env SELFTESTS=faults selftests/run
 */
#include <dirent.h>
#include <stdatomic.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "kselftest_harness.h"
#include "transit.h"

#define FAIL_TP		"/sys/kernel/debug/fail_tracingplane"
#define FAILSLAB	"/sys/kernel/debug/failslab"
#define SLABS		"/sys/kernel/slab"
/* Failing a quarter of the allocations makes ~60 forks lose one surely. */
#define PERCENT		"25"
#define ROUNDS		400
#define ATOMS		24	/* requests draw their atoms from a00..a23 */
#define BIG_ATOMS	160	/* 160 atoms of 60 bytes: above max_bytes */
#define BYSTANDERS	3
#define MAX_KNOBS	16

/*
 * What the children tell the test goes through shared memory: a pipe would
 * carry baggage from the writer to the reader.
 */
struct shared {
	atomic_int ready;		/* children that have set their baggage */
	char text[8192];		/* a forked child's baggage */
};

/* A knob written by the test and its value before, to put back. */
struct knob {
	char path[320];
	char old[64];
};

FIXTURE(faults) {
	bool unavailable;
	struct knob knobs[MAX_KNOBS];
	int nknobs;
	pid_t kids[BYSTANDERS + 1];	/* the bystanders, then the victim */
	struct shared *sh;
	struct tpnl t;
};

static int read_file(const char *path, char *buf, size_t cap)
{
	int fd = open(path, O_RDONLY);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, cap - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}

static int write_file(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, val, strlen(val));
	close(fd);
	return n < 0 ? -errno : 0;
}

/* Sets a knob, remembering its value first; returns 0 or -errno. */
static int knob_set(FIXTURE_DATA(faults) *self, const char *path, const char *val)
{
	struct knob *k = &self->knobs[self->nknobs];
	int err;

	if (self->nknobs == MAX_KNOBS)
		return -ENOSPC;
	snprintf(k->path, sizeof(k->path), "%s", path);
	err = read_file(path, k->old, sizeof(k->old));
	if (err)
		return err;
	self->nknobs++;
	return write_file(path, val);
}

/* "a00,a03,..." for the atoms whose bits are set in @mask. */
static void mask_text(uint32_t mask, char *out, size_t cap)
{
	size_t o = 0;

	out[0] = '\0';
	for (int i = 0; i < ATOMS; i++)
		if (mask & (1u << i))
			o += snprintf(out + o, cap - o, "%sa%02d", o ? "," : "", i);
}

static int write_mask(struct tpnl *t, uint8_t cmd, enum tpnl_who who, pid_t id,
		      uint32_t mask)
{
	char text[256];
	uint8_t buf[512];

	mask_text(mask, text, sizeof(text));
	return tpnl_write(t, cmd, who, id, buf, tp_atoms(buf, text), NULL);
}

/* One request; 1 if it failed with ENOMEM, 0 if it succeeded. */
#define REQUEST(expr) ({						\
	int err_ = (expr);						\
									\
	if (err_ && err_ != -ENOMEM)					\
		ASSERT_EQ(0, err_) TH_LOG("%s: %s", #expr, strerror(-err_)); \
	err_ == -ENOMEM;						\
})

/* The baggage of @who/@id, as text, must be @want. */
#define EXPECT_BAG(who, id, want) do {					\
	char got_[8192];						\
									\
	ASSERT_EQ(0, tpnl_get_text(&self->t, who, id, got_, sizeof(got_))); \
	ASSERT_STREQ(want, got_);					\
} while (0)

FIXTURE_SETUP(faults)
{
	struct stat st;

	if (stat(FAIL_TP, &st)) {
		self->unavailable = true;
		return;
	}
	ASSERT_EQ(0, tpnl_open(&self->t));
	self->sh = mmap(NULL, sizeof(*self->sh), PROT_READ | PROT_WRITE,
			MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->sh);
}

FIXTURE_TEARDOWN(faults)
{
	/* First of all: no more failures, for this task or any other. */
	write_file("/proc/self/make-it-fail", "0");
	while (self->nknobs--) {
		struct knob *k = &self->knobs[self->nknobs];

		if (write_file(k->path, k->old))
			TH_LOG("cannot restore %s to %s", k->path, k->old);
	}
	for (int i = 0; i <= BYSTANDERS; i++) {
		if (self->kids[i] > 0) {
			kill(self->kids[i], SIGKILL);
			tp_wait(self->kids[i]);
		}
	}
	if (self->sh && self->sh != MAP_FAILED)
		munmap(self->sh, sizeof(*self->sh));
	tpnl_close(&self->t);
}

/* A child that sets @text as its baggage, then waits to be killed. */
static pid_t start_kid(struct shared *sh, const char *text)
{
	int ready = atomic_load(&sh->ready);
	uint64_t deadline = tp_deadline(60);
	pid_t pid = fork();

	if (pid == 0) {
		if (tp_self_op(TRACINGPLANE_CMD_SET, text))
			_exit(1);
		atomic_fetch_add(&sh->ready, 1);
		for (;;)
			pause();
	}
	while (pid > 0 && atomic_load(&sh->ready) == ready) {
		if (tp_expired(deadline) || waitpid(pid, NULL, WNOHANG)) {
			kill(pid, SIGKILL);
			waitpid(pid, NULL, 0);
			return -1;
		}
		usleep(10000);
	}
	return pid;
}

/*
 * Counts the module's slab caches (tp_*), which must all be marked for
 * failslab; -1 if one is not.
 */
static int marked_caches(struct __test_metadata *_metadata)
{
	char path[sizeof(SLABS) + 256 + sizeof("/failslab")], val[8];
	struct dirent *d;
	int n = 0;
	DIR *dir = opendir(SLABS);

	if (!dir)
		return -1;
	while ((d = readdir(dir))) {
		if (strncmp(d->d_name, "tp_", 3))
			continue;
		snprintf(path, sizeof(path), SLABS "/%s/failslab", d->d_name);
		if (read_file(path, val, sizeof(val)) || strcmp(val, "1")) {
			TH_LOG("%s is not marked for failslab: boot with slub_debug=A,tp_*", path);
			n = -1;
			break;
		}
		n++;
	}
	closedir(dir);
	return n;
}

/* Forks a child that reports its baggage, as text, in sh->text. */
static int fork_report(struct shared *sh)
{
	pid_t pid = fork();

	if (pid == 0)
		_exit(tp_self_text(sh->text, sizeof(sh->text)) ? 1 : 0);
	return pid < 0 ? -1 : tp_wait(pid);
}

/*
 * A read whose baggage cannot be put together (the merge of its two
 * writers' fails) credits nothing: a reader with the replace policy
 * keeps its own, rather than being left with none.
 */
TEST_F(faults, failed_read_credit_leaves_a_replace_reader_alone)
{
	struct tp_status before, after;
	char buf[20];
	int fd[2];

	if (self->unavailable)
		SKIP(return, "no " FAIL_TP ": the kernel has no fault injection (run on the debug kernel)");
	ASSERT_EQ(0, pipe(fd));
	ASSERT_EQ(0, tp_self_op(TRACINGPLANE_CMD_SET, "mine"));
	ASSERT_EQ(0, tpnl_set_read_policy(&self->t, TPNL_SELF, 0, TRACINGPLANE_READ_REPLACE));
	ASSERT_EQ(0, tp_writer(fd[1], "w1", 10, 'a', true));
	ASSERT_EQ(0, tp_writer(fd[1], "w2", 10, 'b', true));
	ASSERT_EQ(0, tpnl_status(&self->t, &before));

	/* The next allocation of the module in this task fails: the merge. */
	ASSERT_EQ(0, knob_set(self, FAIL_TP "/task-filter", "Y"));
	ASSERT_EQ(0, knob_set(self, FAIL_TP "/verbose", "0"));
	ASSERT_EQ(0, knob_set(self, FAIL_TP "/interval", "1"));
	ASSERT_EQ(0, knob_set(self, FAIL_TP "/times", "1"));
	ASSERT_EQ(0, knob_set(self, FAIL_TP "/probability", "100"));
	ASSERT_EQ(0, write_file("/proc/self/make-it-fail", "1"));
	ASSERT_EQ((ssize_t)sizeof(buf), read(fd[0], buf, sizeof(buf)));
	ASSERT_EQ(0, write_file("/proc/self/make-it-fail", "0"));

	ASSERT_EQ(0, tpnl_status(&self->t, &after));
	EXPECT_EQ(before.alloc_fails + 1, after.alloc_fails);
	EXPECT_BAG(TPNL_SELF, 0, "mine");
	close(fd[0]);
	close(fd[1]);
}

TEST_F_TIMEOUT(faults, stress, 1200)
{
	char text[8192], want[256], atom[64];
	static uint8_t big[TP_BAG_BUF];
	uint64_t enomem = 0, lost = 0, forks = 0, ok = 0;
	struct tp_status before, after;
	uint32_t mine = 0, victim = 0;
	size_t big_len = 0;
	pid_t vpid;

	if (self->unavailable)
		SKIP(return, "no " FAIL_TP ": the kernel has no fault injection (run on the debug kernel)");

	/* Tasks nobody writes to, and one the test writes to by PID. */
	for (int i = 0; i < BYSTANDERS; i++) {
		snprintf(text, sizeof(text), "by%d,bystander", i);
		self->kids[i] = start_kid(self->sh, text);
		ASSERT_LT(0, self->kids[i]);
	}
	self->kids[BYSTANDERS] = vpid = start_kid(self->sh, "");
	ASSERT_LT(0, vpid);
	for (int i = 0; i < BIG_ATOMS; i++) {
		snprintf(atom, sizeof(atom), "big%03d-%052d", i, 0);
		tp_put_atom(big, &big_len, atom, strlen(atom));
	}
	ASSERT_EQ(0, tpnl_status(&self->t, &before));

	ASSERT_EQ(0, knob_set(self, FAIL_TP "/task-filter", "Y"));
	ASSERT_EQ(0, knob_set(self, FAIL_TP "/verbose", "0"));
	ASSERT_EQ(0, knob_set(self, FAIL_TP "/interval", "1"));
	ASSERT_EQ(0, knob_set(self, FAIL_TP "/times", "-1"));
	ASSERT_EQ(0, knob_set(self, FAIL_TP "/probability", PERCENT));
	/* failslab: only marked caches, GFP_KERNEL allocations included. */
	ASSERT_EQ(0, knob_set(self, FAILSLAB "/cache-filter", "Y"));
	ASSERT_EQ(0, knob_set(self, FAILSLAB "/ignore-gfp-wait", "N"));
	ASSERT_EQ(0, knob_set(self, FAILSLAB "/task-filter", "Y"));
	ASSERT_EQ(0, knob_set(self, FAILSLAB "/verbose", "0"));
	ASSERT_EQ(0, knob_set(self, FAILSLAB "/interval", "1"));
	ASSERT_EQ(0, knob_set(self, FAILSLAB "/times", "-1"));
	ASSERT_LT(0, marked_caches(_metadata));
	ASSERT_EQ(0, knob_set(self, FAILSLAB "/probability", PERCENT));
	ASSERT_EQ(0, write_file("/proc/self/make-it-fail", "1"));

	srand(1);
	for (int round = 0; round < ROUNDS; round++) {
		uint32_t mask = (uint32_t)rand() & ((1u << ATOMS) - 1);
		int failed;

		switch (rand() % 8) {
		case 0:
			failed = REQUEST(write_mask(&self->t, TRACINGPLANE_CMD_SET,
						    TPNL_SELF, 0, mask));
			mine = failed ? mine : mask;
			break;
		case 1:
			failed = REQUEST(write_mask(&self->t, TRACINGPLANE_CMD_MERGE,
						    TPNL_SELF, 0, mask));
			mine |= failed ? 0 : mask;
			break;
		case 2:
			/* Never allocates; the next SET needs a new entry. */
			failed = REQUEST(tpnl_clear(&self->t, TPNL_SELF, 0));
			ASSERT_EQ(0, failed);
			mine = 0;
			break;
		case 3:
			failed = REQUEST(write_mask(&self->t, TRACINGPLANE_CMD_SET,
						    TPNL_PID, vpid, mask));
			victim = failed ? victim : mask;
			break;
		case 4:
			failed = REQUEST(write_mask(&self->t, TRACINGPLANE_CMD_MERGE,
						    TPNL_PID, vpid, mask));
			victim |= failed ? 0 : mask;
			break;
		case 5:
			/* Trimmed at max_bytes: one more allocation. */
			failed = REQUEST(tpnl_set(&self->t, TPNL_SELF, 0, big, big_len));
			if (!failed) {
				ASSERT_EQ(0, tpnl_get_text(&self->t, TPNL_SELF, 0,
							   text, sizeof(text)));
				ASSERT_EQ(0, strncmp(text, "<>,big000-", 10)) TH_LOG("%s", text);
				ASSERT_EQ(0, tpnl_clear(&self->t, TPNL_SELF, 0));
				mine = 0;
			}
			break;
		default:
			mask_text(mine, want, sizeof(want));
			ASSERT_EQ(0, fork_report(self->sh));
			forks++;
			if (strcmp(self->sh->text, want)) {
				/* Inheritance failed: nothing, never garbage. */
				ASSERT_STREQ("", self->sh->text) TH_LOG("parent has %s", want);
				lost++;
			}
			failed = 0;
			break;
		}
		enomem += failed;
		ok += !failed;
		mask_text(mine, want, sizeof(want));
		EXPECT_BAG(TPNL_SELF, 0, want);
		mask_text(victim, want, sizeof(want));
		EXPECT_BAG(TPNL_PID, vpid, want);
	}
	ASSERT_EQ(0, write_file("/proc/self/make-it-fail", "0"));
	/*
	 * Without baggage before printing anything: the output goes down a
	 * pipe to selftests/run's tee, which would be credited with it and
	 * hold it past the quiescence check below.
	 */
	ASSERT_EQ(0, tpnl_clear(&self->t, TPNL_SELF, 0));
	TH_LOG("%d rounds: %llu ENOMEM, %llu succeeded; %llu forks, %llu inherited nothing",
	       ROUNDS, (unsigned long long)enomem, (unsigned long long)ok,
	       (unsigned long long)forks, (unsigned long long)lost);
	/* The failures reached both the kmalloc()s and the slab caches. */
	ASSERT_LT((uint64_t)0, enomem);
	ASSERT_LT((uint64_t)0, lost);

	for (int i = 0; i < BYSTANDERS; i++) {
		snprintf(want, sizeof(want), "by%d,bystander", i);
		EXPECT_BAG(TPNL_PID, self->kids[i], want);
	}
	ASSERT_EQ(0, tpnl_status(&self->t, &after));
	ASSERT_LE(before.alloc_fails + enomem + lost, after.alloc_fails);

	/* Everything released once the tasks are gone. */
	for (int i = 0; i <= BYSTANDERS; i++) {
		kill(self->kids[i], SIGKILL);
		ASSERT_EQ(128 + SIGKILL, tp_wait(self->kids[i]));
		self->kids[i] = 0;
	}
	ASSERT_EQ(0, tpnl_wait_quiescent(&self->t, &after, 60))
		TH_LOG("live_bags=%llu live_bytes=%llu live_tasks=%llu",
		       (unsigned long long)after.live_bags,
		       (unsigned long long)after.live_bytes,
		       (unsigned long long)after.live_tasks);
}

TP_SELFTEST_MAIN
