/* SPDX-License-Identifier: MIT */
/*
 * Helpers shared by the in-VM benchmark programs, tests/bench/vm_*.c.
 *
 * Each program prints its results in the protocol that tools/bench reads
 * (described there and in Documentation/benchmarks.md):
 *
 *	BENCH <name> <value> <unit> <higher|lower>
 *	BUDGET <name> overhead <max-percent>
 *	BUDGET <name> max|min <limit>
 *	# a comment, shown in the log
 *
 * and runs the same variants, under the same names, whether or not the
 * module is loaded: without it a variant simply carries no baggage, which
 * is the baseline its loaded twin is compared with.
 *
 * Everything here is static inline so that a program may use any subset
 * without -Wunused-function.
 */
#ifndef VM_BENCH_H
#define VM_BENCH_H

#include <errno.h>
#include <sched.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mount.h>
#include <sys/wait.h>

#include "tpctl.h"

/* The baggage variants every program measures, by encoded size. */
struct vmb_variant {
	const char *name;
	size_t bytes;
};

static const struct vmb_variant vmb_variants[] = {
	{ "nobag", 0 },
	{ "256B", 256 },
	{ "8KiB", 8192 },
};

#define VMB_NVARIANTS	(sizeof(vmb_variants) / sizeof(vmb_variants[0]))

__attribute__((format(printf, 1, 2), noreturn))
static inline void vmb_die(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fputs("vmb: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static inline uint64_t vmb_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static inline int vmb_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/*
 * Whether to run another block of batches.  Runs are bounded in time
 * rather than in work, so that a busy host makes the medians rest on
 * fewer batches instead of making `make bench` outlast its timeout; but
 * every variant gets at least @min blocks.
 */
static inline int vmb_another_block(unsigned int done, unsigned int min, unsigned int max,
				    uint64_t start_ns, uint64_t run_ns)
{
	return done < min || (done < max && vmb_now_ns() - start_ns < run_ns);
}

/* Sorts @v in place. */
static inline double vmb_median(double *v, size_t n)
{
	qsort(v, n, sizeof(v[0]), vmb_cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Results are flushed at once so that a later crash cannot lose them. */
static inline void vmb_result(const char *name, double value, const char *unit,
			      const char *better)
{
	printf("BENCH %s %.6g %s %s\n", name, value, unit, better);
	fflush(stdout);
}

static inline void vmb_budget(const char *name, const char *kind, double limit)
{
	printf("BUDGET %s %s %g\n", name, kind, limit);
}

static inline int vmb_module_loaded(void)
{
	return access("/sys/module/tracingplane", F_OK) == 0;
}

/*
 * A handle on the module, or NULL when it is not loaded (the baseline
 * run).  The module is looked for first: asking the kernel for a family
 * it lacks makes it try to autoload a module, which takes a second under
 * TCG.  Any other failure is fatal: a benchmark that silently measured
 * the baseline twice would report a zero overhead.
 */
static inline struct tpctl *vmb_open(void)
{
	struct tpctl *h;

	if (!vmb_module_loaded())
		return NULL;
	h = tpctl_open();
	if (!h)
		vmb_die("tpctl_open: %s", strerror(errno));
	return h;
}

static inline size_t vmb_encoded_size(const struct tpctl_bag *bag)
{
	void *buf;
	size_t len;

	if (tpctl_bag_encode(bag, &buf, &len))
		vmb_die("cannot encode a baggage");
	free(buf);
	return len;
}

/* Sets @key to a string of @len 'x's. */
static inline void vmb_set_filler(struct tpctl_bag *bag, const char *key, size_t len)
{
	char *val = malloc(len + 1);

	if (!val)
		vmb_die("out of memory");
	memset(val, 'x', len);
	val[len] = '\0';
	if (tpctl_bag_set_string(bag, key, val))
		vmb_die("cannot set %s", key);
	free(val);
}

/*
 * A typed baggage of at most @bytes encoded bytes, as close to it as the
 * encoding allows (exact for the variants): keys holding 100-byte strings
 * (a realistic shape: many small atoms; one such key encodes to about 115
 * bytes) while another one surely fits, then the last key's value length
 * searched for.
 */
static inline struct tpctl_bag *vmb_bag_of_size(size_t bytes)
{
	struct tpctl_bag *bag = tpctl_bag_new();
	size_t lo = 0, hi = bytes;
	unsigned int i = 0;
	char key[16];

	if (!bag)
		vmb_die("out of memory");
	for (;;) {
		snprintf(key, sizeof(key), "bench.%03u", i++);
		vmb_set_filler(bag, key, 100);
		if (vmb_encoded_size(bag) + 120 > bytes)
			break;
	}
	/* The largest length of the last key's value that still fits. */
	while (lo < hi) {
		size_t mid = (lo + hi + 1) / 2;

		vmb_set_filler(bag, key, mid);
		if (vmb_encoded_size(bag) <= bytes)
			lo = mid;
		else
			hi = mid - 1;
	}
	vmb_set_filler(bag, key, lo);
	return bag;
}

/*
 * Waits until no task holds baggage: exited children keep theirs until
 * their task_struct is freed, after an RCU grace period, and while any
 * task holds some the module cannot take its no-baggage fast path.
 */
static inline void vmb_settle(struct tpctl *h)
{
	struct tpctl_status st;
	int i;

	for (i = 0; i < 500; i++) {
		if (tpctl_status(h, &st))
			vmb_die("status: %s", tpctl_errmsg(h));
		if (!st.live_tasks)
			return;
		usleep(10000);
	}
	printf("# warning: %llu tasks still hold baggage after 5 s\n",
	       (unsigned long long)st.live_tasks);
}

/*
 * Gives task @pid (0: the caller) the baggage of variant @v, none for
 * "nobag", and checks that the kernel holds exactly what was sent (no
 * trim).  A no-op without the module (@h NULL).
 */
static inline void vmb_use_variant(struct tpctl *h, pid_t pid, const struct vmb_variant *v)
{
	enum tpctl_who who = pid ? TPCTL_PID : TPCTL_SELF;
	struct tpctl_bag *bag;
	void *buf, *got;
	size_t len, got_len;

	if (!h)
		return;
	if (!v->bytes) {
		if (tpctl_clear(h, who, pid))
			vmb_die("clear: %s", tpctl_errmsg(h));
		vmb_settle(h);
		return;
	}
	bag = vmb_bag_of_size(v->bytes);
	if (tpctl_bag_encode(bag, &buf, &len))
		vmb_die("cannot encode a baggage");
	tpctl_bag_free(bag);
	if (tpctl_set_raw(h, who, pid, buf, len))
		vmb_die("set %s: %s", v->name, tpctl_errmsg(h));
	if (tpctl_get_raw(h, who, pid, &got, &got_len))
		vmb_die("get %s: %s", v->name, tpctl_errmsg(h));
	if (got_len != len || memcmp(got, buf, len))
		vmb_die("%s: the kernel holds %zu bytes, not the %zu sent", v->name, got_len, len);
	free(buf);
	free(got);
}

#define VMB_KPROBES_LIST	"/sys/kernel/debug/kprobes/list"

/*
 * Whether the module's transit probes are armed (the one on pipe_read()
 * stands for all: Documentation/transit.rst, "Cost").
 */
static inline int vmb_probes_armed(void)
{
	char line[512];
	int armed = 0;
	FILE *f;

	f = fopen(VMB_KPROBES_LIST, "r");
	if (!f) {
		mount("debugfs", "/sys/kernel/debug", "debugfs", 0, NULL);
		f = fopen(VMB_KPROBES_LIST, "r");
	}
	if (!f)
		vmb_die("%s: %s", VMB_KPROBES_LIST, strerror(errno));
	while (fgets(line, sizeof(line), f))
		if (strstr(line, " pipe_read+0x0") && !strstr(line, "[DISABLED]"))
			armed = 1;
	fclose(f);
	return armed;
}

/*
 * Waits, up to 10 s, for the module to disarm its probes, which it does a
 * second after the last baggage went.  Disarming patches the code of
 * every probed function (ftrace, with IPIs to every CPU): a measurement
 * that overlapped it would charge a variant without baggage with the
 * clean-up after the previous one.
 */
static inline void vmb_wait_disarmed(void)
{
	for (int i = 0; i < 1000; i++) {
		if (!vmb_probes_armed())
			return;
		usleep(10000);
	}
	vmb_die("the module's probes are still armed 10 s after the baggage went");
}

/*
 * The same for the caller, done by a short-lived child through --pid
 * style requests, so that the caller never opens libtpctl: its address
 * space is then the same with and without the module.  (With a handle of
 * its own, its larger heap made every fork copy more page tables in the
 * loaded run only: a 4 % "overhead" that was not the module's.)
 */
static inline void vmb_use_variant_via_child(const struct vmb_variant *v)
{
	pid_t parent = getpid(), pid;
	int status;

	fflush(stdout);	/* or the child would print it again */
	pid = fork();
	if (pid < 0)
		vmb_die("fork: %s", strerror(errno));
	if (pid == 0) {
		struct tpctl *h = vmb_open();

		/* The helper inherited the old baggage: drop it, or "nobag"
		 * would wait for the helper itself to go. */
		if (h && tpctl_clear(h, TPCTL_SELF, 0))
			vmb_die("clear: %s", tpctl_errmsg(h));
		vmb_use_variant(h, parent, v);
		tpctl_close(h);
		/* Here too, not in the caller: stdio would grow its heap. */
		if (h && !v->bytes)
			vmb_wait_disarmed();
		exit(0);
	}
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status))
		vmb_die("setting up variant %s failed", v->name);
}

/*
 * One CPU for every process of a benchmark: under TCG (one host thread
 * per vCPU, on a shared host) where the scheduler puts a child or a
 * partner is the largest source of noise, and a ping-pong across vCPUs
 * costs milliseconds of emulated idle wake-ups.
 */
static inline void vmb_pin_to_cpu0(void)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(0, &set);
	if (sched_setaffinity(0, sizeof(set), &set))
		vmb_die("sched_setaffinity: %s", strerror(errno));
}

/*
 * A measurement of the transit benchmarks (vm_pipe.c, vm_tcp.c): its
 * fixture and one timed batch of @n operations, which returns µs per
 * operation or, for a unit of MB/s, the rate.
 */
struct vmb_kind {
	const char *name;
	const char *unit;
	const char *better;
	double overhead;	/* the budget of the 256B variant, percent */
	void (*start)(void);
	double (*batch)(unsigned int n);
	void (*stop)(void);
};

/* The transit benchmarks' variants: the first two, nobag and 256B. */
#define VMB_TRANSIT_VARIANTS	2
#define VMB_BLOCKS		16	/* times each variant is set up again */
#define VMB_BATCHES		8	/* timed batches per variant and block */
/* A batch is shorter than a time slice, see vm_fork.c. */
#define VMB_BATCH_NS		4000000

/* Operations per batch so that a batch of @k lasts about VMB_BATCH_NS. */
static inline unsigned int vmb_calibrate(const struct vmb_kind *k, size_t chunk)
{
	double per;

	k->start();
	k->batch(4);	/* warm up */
	per = k->batch(16);
	k->stop();
	/* per is µs per op, or MB/s (bytes per µs) for @chunk-sized writes. */
	if (!strcmp(k->unit, "MB/s"))
		per = chunk / per;
	return (unsigned int)(VMB_BATCH_NS / 1000 / per) + 2;
}

/*
 * Runs the @num @kinds (MB/s ones in writes of @chunk) under each transit
 * variant, the variants taking turns block by block as in vm_fork.c so
 * that drift hits all alike, and prints each kind's medians and budgets:
 * 1 % without baggage, the kind's own with 256 B.
 */
static inline void vmb_run_kinds(const char *label, const struct vmb_kind *kinds,
				 unsigned int num, size_t chunk)
{
	const unsigned int runs = VMB_BLOCKS * VMB_BATCHES;
	double *v = calloc((size_t)num * VMB_TRANSIT_VARIANTS * runs, sizeof(*v));
	unsigned int *n = calloc(num, sizeof(*n));
	char name[64];

	if (!v || !n)
		vmb_die("out of memory");
	printf("# %s: operations per batch:", label);
	for (unsigned int k = 0; k < num; k++) {
		n[k] = vmb_calibrate(&kinds[k], chunk);
		printf(" %s %u", kinds[k].name, n[k]);
	}
	printf("; %u batches per variant, module %s\n", runs,
	       vmb_module_loaded() ? "loaded" : "not loaded");
	for (unsigned int b = 0; b < VMB_BLOCKS; b++) {
		for (unsigned int i = 0; i < VMB_TRANSIT_VARIANTS; i++) {
			unsigned int var = (b + i) % VMB_TRANSIT_VARIANTS;

			vmb_use_variant_via_child(&vmb_variants[var]);
			for (unsigned int k = 0; k < num; k++) {
				double *out = v + ((size_t)k * VMB_TRANSIT_VARIANTS + var) * runs;

				kinds[k].start();
				for (unsigned int t = 0; t < VMB_BATCHES; t++)
					out[b * VMB_BATCHES + t] = kinds[k].batch(n[k]);
				kinds[k].stop();
			}
		}
	}
	for (unsigned int k = 0; k < num; k++) {
		for (unsigned int i = 0; i < VMB_TRANSIT_VARIANTS; i++) {
			snprintf(name, sizeof(name), "%s/%s", kinds[k].name, vmb_variants[i].name);
			vmb_result(name, vmb_median(v + ((size_t)k * VMB_TRANSIT_VARIANTS + i) * runs,
						    runs),
				   kinds[k].unit, kinds[k].better);
		}
		snprintf(name, sizeof(name), "%s/%s", kinds[k].name, vmb_variants[0].name);
		vmb_budget(name, "overhead", 1);
		snprintf(name, sizeof(name), "%s/%s", kinds[k].name, vmb_variants[1].name);
		vmb_budget(name, "overhead", kinds[k].overhead);
	}
	free(n);
	free(v);
}

#endif /* VM_BENCH_H */
