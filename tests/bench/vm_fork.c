// SPDX-License-Identifier: MIT
/*
 * In-VM benchmark: the cost of fork + _exit + waitpid, in µs per fork,
 * for a parent holding no baggage, 256 B and 8 KiB.  The baggage is set on
 * this process itself, so every child inherits it: that is the work the
 * module adds to fork (taking a reference) and to the child's end
 * (dropping it).  Without the module the same variants run bare: the
 * baseline.  Protocol: tools/bench.
 *
 * This process never opens libtpctl itself (a helper child sets its
 * baggage), so that what is forked is the same in both runs.
 */

#include "vm_bench.h"

#define MIN_BLOCKS	6	/* times each variant is set up again, at least */
#define MAX_BLOCKS	48	/* ... and at most */
#define RUN_NS		15000000000ull	/* blocks start until then */
#define BATCHES		10	/* timed batches per variant and block */
/*
 * Short batches: a batch longer than a scheduler time slice is almost
 * always interrupted, which would bias even the median.
 */
#define BATCH_NS	4000000

static void fork_once(void)
{
	pid_t pid = fork();
	int status;

	if (pid < 0)
		vmb_die("fork: %s", strerror(errno));
	if (pid == 0)
		_exit(0);
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		vmb_die("waitpid: child %d did not exit normally", (int)pid);
}

/* Microseconds per fork over a batch of @n. */
static double batch_us(unsigned int n)
{
	uint64_t t0 = vmb_now_ns();
	unsigned int i;

	for (i = 0; i < n; i++)
		fork_once();
	return (double)(vmb_now_ns() - t0) / n / 1000;
}

/* Forks per batch so that a batch lasts about BATCH_NS. */
static unsigned int calibrate(void)
{
	double us;

	batch_us(8);	/* warm the page tables and the allocator */
	us = batch_us(16);
	return (unsigned int)(BATCH_NS / 1000 / us) + 2;
}

int main(void)
{
	static double us[VMB_NVARIANTS][MAX_BLOCKS * BATCHES];
	uint64_t start = vmb_now_ns();
	unsigned int n, b, k, i;
	char name[64];

	vmb_pin_to_cpu0();
	n = calibrate();
	/* Variants take turns, each block starting with another one, so drift
	 * in the host's load spreads evenly over them. */
	for (b = 0; vmb_another_block(b, MIN_BLOCKS, MAX_BLOCKS, start, RUN_NS); b++) {
		for (i = 0; i < VMB_NVARIANTS; i++) {
			unsigned int v = (b + i) % VMB_NVARIANTS;

			vmb_use_variant_via_child(&vmb_variants[v]);
			for (k = 0; k < BATCHES; k++)
				us[v][b * BATCHES + k] = batch_us(n);
		}
	}
	printf("# fork: %u forks per batch, %u batches per variant, module %s\n",
	       n, b * BATCHES, vmb_module_loaded() ? "loaded" : "not loaded");
	for (i = 0; i < VMB_NVARIANTS; i++) {
		snprintf(name, sizeof(name), "fork/%s", vmb_variants[i].name);
		vmb_result(name, vmb_median(us[i], b * BATCHES), "us", "lower");
	}
	vmb_budget("fork/nobag", "overhead", 1);
	vmb_budget("fork/8KiB", "overhead", 3);
	return 0;
}
