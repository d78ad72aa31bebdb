// SPDX-License-Identifier: MIT
/*
 * In-VM benchmark of baggage through pipes and UNIX sockets: what the
 * module adds to every read and write (Documentation/transit.rst).
 *
 *   pipe_pingpong/V   1-byte messages back and forth over two pipes,
 *                     µs per round trip (two writes, two reads)
 *   pipe_stream/V     64 KiB writes to a reader that drains, MB/s
 *   unix_pingpong/V   the ping-pong over a UNIX stream socketpair
 *
 * for V = nobag (module loaded, no baggage anywhere: the fast path,
 * measured once the probes are disarmed: vmb_use_variant_via_child()) and
 * 256B (both ends hold the same 256-byte baggage, so every transfer
 * carries it).  Without the module the same variants run bare: the
 * baseline.  Protocol: tools/bench.
 *
 * Both ends run on CPU 0: a ping-pong across two vCPUs under TCG costs
 * milliseconds of emulated idle wake-ups, which would drown everything.
 */
#include <signal.h>
#include <sys/socket.h>

#include "vm_bench.h"

#define CHUNK		65536

static int to_child, from_child;	/* ping-pong: our ends */
static pid_t partner;

/* The partner echoes every byte it reads from @in back on @out. */
static void echo_forever(int in, int out)
{
	char c;

	while (read(in, &c, 1) == 1)
		if (write(out, &c, 1) != 1)
			break;
	_exit(0);
}

static void start_partner(int child_in, int child_out, int close1, int close2)
{
	fflush(stdout);
	partner = fork();
	if (partner < 0)
		vmb_die("fork: %s", strerror(errno));
	if (partner == 0) {
		close(close1);
		close(close2);
		echo_forever(child_in, child_out);
	}
	close(child_in);
	if (child_out != child_in)
		close(child_out);
}

static void stop_partner(void)
{
	close(to_child);
	if (from_child != to_child)
		close(from_child);
	kill(partner, SIGKILL);
	waitpid(partner, NULL, 0);
}

static void start_pipes(void)
{
	int down[2], up[2];

	if (pipe(down) || pipe(up))
		vmb_die("pipe: %s", strerror(errno));
	to_child = down[1];
	from_child = up[0];
	start_partner(down[0], up[1], down[1], up[0]);
}

static void start_socketpair(void)
{
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv))
		vmb_die("socketpair: %s", strerror(errno));
	to_child = from_child = sv[0];
	start_partner(sv[1], sv[1], sv[0], sv[0]);
}

/* µs per round trip over a batch of @n. */
static double pingpong_batch(unsigned int n)
{
	uint64_t t0 = vmb_now_ns();
	char c = 'x';

	for (unsigned int i = 0; i < n; i++)
		if (write(to_child, &c, 1) != 1 || read(from_child, &c, 1) != 1)
			vmb_die("ping-pong: %s", strerror(errno));
	return (double)(vmb_now_ns() - t0) / n / 1000;
}

/* The stream's reader drains its pipe: 64 KiB reads. */
static void start_stream(void)
{
	static char buf[CHUNK];
	int p[2];

	if (pipe(p))
		vmb_die("pipe: %s", strerror(errno));
	fflush(stdout);
	partner = fork();
	if (partner < 0)
		vmb_die("fork: %s", strerror(errno));
	if (partner == 0) {
		close(p[1]);
		while (read(p[0], buf, sizeof(buf)) > 0)
			;
		_exit(0);
	}
	close(p[0]);
	to_child = from_child = p[1];
}

/* MB/s over a batch of @n 64 KiB writes. */
static double stream_batch(unsigned int n)
{
	static char buf[CHUNK];
	uint64_t t0 = vmb_now_ns();

	for (unsigned int i = 0; i < n; i++)
		if (write(to_child, buf, sizeof(buf)) != sizeof(buf))
			vmb_die("write: %s", strerror(errno));
	return (double)n * CHUNK / ((double)(vmb_now_ns() - t0) / 1000);
}

static const struct vmb_kind kinds[] = {
	{ "pipe_pingpong", "us", "lower", 5, start_pipes, pingpong_batch, stop_partner },
	{ "pipe_stream", "MB/s", "higher", 2, start_stream, stream_batch, stop_partner },
	{ "unix_pingpong", "us", "lower", 5, start_socketpair, pingpong_batch, stop_partner },
};

int main(void)
{
	vmb_pin_to_cpu0();
	vmb_run_kinds("pipe", kinds, sizeof(kinds) / sizeof(kinds[0]), CHUNK);
	return 0;
}
