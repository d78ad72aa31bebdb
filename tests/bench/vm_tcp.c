// SPDX-License-Identifier: MIT
/*
 * In-VM benchmark of baggage over TCP (Documentation/wire-format.rst):
 * what the module adds to connections over loopback.
 *
 *   tcp_rr/V       1-byte request, 1-byte response on one connection,
 *                  µs per round trip
 *   tcp_bulk/V     64 KiB writes to a reader that drains, MB/s
 *   tcp_bulk_veth/V  the same to a reader in another network namespace,
 *                  across a veth pair (a real device path: netif_rx, the
 *                  backlog, GRO off), MB/s
 *   tcp_connect/V  connect, a 1-byte request and response, close:
 *                  µs per connection (the handshake negotiates, the
 *                  first request starts a baggage version)
 *
 * for V = nobag (module loaded, no task has baggage: the fast path) and
 * 256B (both ends hold the same 256-byte baggage, so every connection
 * negotiates and carries it, once).  Without the module the same variants
 * run bare: the baseline.  Protocol: tools/bench.
 *
 * Both ends run on CPU 0: a ping-pong across two vCPUs under TCG costs
 * milliseconds of emulated idle wake-ups, which would drown everything.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <sys/socket.h>

#include "vm_bench.h"

#define CHUNK		65536
#define NETNS		"tpbench"	/* the veth reader's namespace */
#define VETH_HERE	"10.77.0.1"
#define VETH_THERE	"10.77.0.2"

static struct sockaddr_in server_addr;
static int conn = -1;		/* rr and bulk: our end of the connection */
static pid_t partner;
static bool across_veth;	/* the next listener is in NETNS */

static int tcp_socket(void)
{
	int one = 1, fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0 || setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)))
		vmb_die("socket: %s", strerror(errno));
	return fd;
}

/* Builds NETNS and a veth pair into it, from scratch. */
static void veth_setup(void)
{
	if (system("ip netns del " NETNS " 2>/dev/null; ip netns add " NETNS " &&"
		   " ip link add tpb0 type veth peer name tpb1 netns " NETNS " &&"
		   " ip addr add " VETH_HERE "/24 dev tpb0 && ip link set tpb0 up &&"
		   " ip -n " NETNS " addr add " VETH_THERE "/24 dev tpb1 &&"
		   " ip -n " NETNS " link set tpb1 up"))
		vmb_die("cannot build the veth pair (ip netns, ip link)");
}

static void veth_teardown(void)
{
	if (system("ip netns del " NETNS))
		vmb_die("cannot delete the namespace " NETNS);
}

/* A socket of NETNS: a socket stays in the namespace it was made in. */
static int tcp_socket_across_veth(void)
{
	int here = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	int there = open("/run/netns/" NETNS, O_RDONLY | O_CLOEXEC);
	int fd;

	if (here < 0 || there < 0 || setns(there, CLONE_NEWNET))
		vmb_die("cannot enter " NETNS ": %s", strerror(errno));
	fd = tcp_socket();
	if (setns(here, CLONE_NEWNET))
		vmb_die("cannot come back from " NETNS ": %s", strerror(errno));
	close(here);
	close(there);
	return fd;
}

/*
 * A listener on 127.0.0.1 (across_veth: on VETH_THERE in NETNS), any
 * port, into server_addr.
 */
static int tcp_listen(void)
{
	socklen_t len = sizeof(server_addr);
	int fd = across_veth ? tcp_socket_across_veth() : tcp_socket();

	memset(&server_addr, 0, sizeof(server_addr));
	server_addr.sin_family = AF_INET;
	server_addr.sin_addr.s_addr = across_veth ? inet_addr(VETH_THERE) :
						    htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&server_addr, sizeof(server_addr)) ||
	    listen(fd, 128) || getsockname(fd, (struct sockaddr *)&server_addr, &len))
		vmb_die("listen: %s", strerror(errno));
	return fd;
}

static int tcp_connect(void)
{
	int fd = tcp_socket();

	if (connect(fd, (struct sockaddr *)&server_addr, sizeof(server_addr)))
		vmb_die("connect: %s", strerror(errno));
	return fd;
}

/* Forks the partner, which runs @serve on the listener and never returns. */
static void start_partner(void (*serve)(int lfd))
{
	int lfd = tcp_listen();

	fflush(stdout);
	partner = fork();
	if (partner < 0)
		vmb_die("fork: %s", strerror(errno));
	if (partner == 0)
		serve(lfd);
	close(lfd);
}

static void stop_partner(void)
{
	if (conn >= 0)
		close(conn);
	conn = -1;
	kill(partner, SIGKILL);
	waitpid(partner, NULL, 0);
}

/* Echoes every byte of one connection back. */
static void serve_echo(int lfd)
{
	int fd = accept(lfd, NULL, NULL);
	char c;

	while (fd >= 0 && read(fd, &c, 1) == 1)
		if (write(fd, &c, 1) != 1)
			break;
	_exit(0);
}

static void start_rr(void)
{
	start_partner(serve_echo);
	conn = tcp_connect();
}

/* µs per round trip over a batch of @n. */
static double rr_batch(unsigned int n)
{
	uint64_t t0 = vmb_now_ns();
	char c = 'x';

	for (unsigned int i = 0; i < n; i++)
		if (write(conn, &c, 1) != 1 || read(conn, &c, 1) != 1)
			vmb_die("round trip: %s", strerror(errno));
	return (double)(vmb_now_ns() - t0) / n / 1000;
}

static void serve_drain(int lfd)
{
	static char buf[CHUNK];
	int fd = accept(lfd, NULL, NULL);

	while (fd >= 0 && read(fd, buf, sizeof(buf)) > 0)
		;
	_exit(0);
}

static void start_bulk(void)
{
	across_veth = false;
	start_partner(serve_drain);
	conn = tcp_connect();
}

static void start_bulk_veth(void)
{
	across_veth = true;
	start_partner(serve_drain);
	conn = tcp_connect();
}

/* MB/s over a batch of @n 64 KiB writes. */
static double bulk_batch(unsigned int n)
{
	static char buf[CHUNK];
	uint64_t t0 = vmb_now_ns();

	for (unsigned int i = 0; i < n; i++)
		if (write(conn, buf, sizeof(buf)) != sizeof(buf))
			vmb_die("write: %s", strerror(errno));
	return (double)n * CHUNK / ((double)(vmb_now_ns() - t0) / 1000);
}

/*
 * Answers a 1-byte request on every connection and closes first, so that
 * TIME_WAIT stays on the server's side and the client's ports never run
 * out.
 */
static void serve_connections(int lfd)
{
	char c;

	for (;;) {
		int fd = accept(lfd, NULL, NULL);

		if (fd < 0)
			_exit(1);
		if (read(fd, &c, 1) == 1 && write(fd, &c, 1) == 1)
			close(fd);
		else
			_exit(1);
	}
}

static void start_connect(void)
{
	start_partner(serve_connections);
}

/* µs per connection over a batch of @n. */
static double connect_batch(unsigned int n)
{
	uint64_t t0 = vmb_now_ns();
	char c = 'c';

	for (unsigned int i = 0; i < n; i++) {
		int fd = tcp_connect();

		if (write(fd, &c, 1) != 1 || read(fd, &c, 1) != 1 || read(fd, &c, 1) != 0)
			vmb_die("connection: %s", strerror(errno));
		close(fd);
	}
	return (double)(vmb_now_ns() - t0) / n / 1000;
}

static const struct vmb_kind kinds[] = {
	{ "tcp_rr", "us", "lower", 5, start_rr, rr_batch, stop_partner },
	{ "tcp_bulk", "MB/s", "higher", 3, start_bulk, bulk_batch, stop_partner },
	{ "tcp_bulk_veth", "MB/s", "higher", 3, start_bulk_veth, bulk_batch, stop_partner },
	{ "tcp_connect", "us", "lower", 5, start_connect, connect_batch, stop_partner },
};

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	vmb_pin_to_cpu0();
	veth_setup();
	vmb_run_kinds("tcp", kinds, sizeof(kinds) / sizeof(kinds[0]), CHUNK);
	veth_teardown();
	return 0;
}
