/* SPDX-License-Identifier: ((GPL-2.0 WITH Linux-syscall-note) OR MIT) */
/*
 * tracingplane: the generic netlink contract between tracingplane.ko and
 * userspace (libtpctl).  Described in Documentation/netlink/specs/
 * tracingplane.yaml and Documentation/netlink.rst.
 */
#ifndef _UAPI_LINUX_TRACINGPLANE_H
#define _UAPI_LINUX_TRACINGPLANE_H

#define TRACINGPLANE_GENL_NAME		"tracingplane"
#define TRACINGPLANE_GENL_VERSION	1

/*
 * Every command acts on the calling task unless TRACINGPLANE_A_PID (a
 * thread-group id: the process's main thread) or TRACINGPLANE_A_TID (one
 * thread) names another task, resolved in the caller's pid namespace.
 * At most one of the two may be given, and with it TRACINGPLANE_A_START_TIME,
 * which a GET reply carries: the request then fails with ESRCH unless the
 * task now known by that number is the one that started then (a number
 * read earlier may have gone to another task since).
 */
enum tracingplane_cmd {
	TRACINGPLANE_CMD_UNSPEC,
	TRACINGPLANE_CMD_GET,		/* reply carries A_BAGGAGE (absent: empty) */
	TRACINGPLANE_CMD_SET,		/* replace with A_BAGGAGE (required) */
	TRACINGPLANE_CMD_MERGE,		/* merge A_BAGGAGE (required) into it */
	TRACINGPLANE_CMD_CLEAR,		/* drop it */
	TRACINGPLANE_CMD_STATUS,	/* reply carries the A_STATUS_* attributes */
	/* switch baggage over TCP on or off in the caller's network namespace */
	TRACINGPLANE_CMD_NET_SET,	/* A_NET_ENABLED (required) */
	/* set what reading a pipe or socket does to the task's baggage */
	TRACINGPLANE_CMD_SET_READ_POLICY,	/* A_READ_POLICY (required) */

	__TRACINGPLANE_CMD_MAX,
	TRACINGPLANE_CMD_MAX = __TRACINGPLANE_CMD_MAX - 1
};

enum tracingplane_attr {
	TRACINGPLANE_A_UNSPEC,
	TRACINGPLANE_A_PAD,
	TRACINGPLANE_A_PID,		/* u32 */
	TRACINGPLANE_A_TID,		/* u32 */
	/* binary: serialized atoms, see Documentation/baggage-format.rst */
	TRACINGPLANE_A_BAGGAGE,
	TRACINGPLANE_A_STATUS_VERSION,		/* string: module version */
	TRACINGPLANE_A_STATUS_MAX_BYTES,	/* u32: max_bytes parameter */
	TRACINGPLANE_A_STATUS_MEM_CAP,		/* u64: mem_cap parameter */
	TRACINGPLANE_A_STATUS_LIVE_BAGS,	/* u64: baggage blobs alive */
	TRACINGPLANE_A_STATUS_LIVE_BYTES,	/* u64: bytes held by those blobs */
	TRACINGPLANE_A_STATUS_LIVE_TASKS,	/* u64: tasks holding baggage */
	TRACINGPLANE_A_STATUS_TRIMS,		/* u64: baggages trimmed at a limit */
	TRACINGPLANE_A_STATUS_ALLOC_FAILS,	/* u64: allocations that failed */
	/* u8: baggage over TCP is on (1) or off (0) in the caller's netns */
	TRACINGPLANE_A_NET_ENABLED,
	/* baggage over TCP, all namespaces, since load (u64 each) */
	TRACINGPLANE_A_STATUS_TCP_NEGOTIATED,	/* sockets whose peer speaks baggage */
	TRACINGPLANE_A_STATUS_TCP_OPTS_SENT,	/* fragment options sent */
	TRACINGPLANE_A_STATUS_TCP_OPTS_RCVD,	/* fragment options accepted */
	TRACINGPLANE_A_STATUS_TCP_BYTES_SENT,	/* baggage bytes sent in them */
	TRACINGPLANE_A_STATUS_TCP_SPLITS,	/* extra segments cut to carry them */
	TRACINGPLANE_A_STATUS_TCP_TRIMS,	/* reads credited a trimmed baggage */
	TRACINGPLANE_A_STATUS_TCP_MALFORMED,	/* options of ours dropped as malformed */
	TRACINGPLANE_A_STATUS_TCP_OVERFLOWS,	/* dropped at a per-socket or global cap */
	TRACINGPLANE_A_STATUS_TCP_LIVE_CONNS,	/* sockets holding baggage state now */
	/* u8: enum tracingplane_read_policy; GET replies, SET_READ_POLICY */
	TRACINGPLANE_A_READ_POLICY,
	/* pipes and UNIX sockets, Documentation/transit.rst */
	TRACINGPLANE_A_STATUS_MAX_RANGES,	/* u32: max_ranges parameter */
	TRACINGPLANE_A_STATUS_LIVE_PIPES,	/* u64: pipes holding baggage state */
	TRACINGPLANE_A_STATUS_LIVE_RANGES,	/* u64: byte ranges holding baggage */
	TRACINGPLANE_A_STATUS_LIVE_SKB_TAGS,	/* u64: queued UNIX buffers with baggage */
	TRACINGPLANE_A_STATUS_RANGE_MERGES,	/* u64: ranges merged at max_ranges */
	TRACINGPLANE_A_STATUS_OVERAPPROX,	/* u64: transfers credited more than theirs */
	TRACINGPLANE_A_STATUS_PROBE_MISSES,	/* u64: pipe/socket calls not seen */
	/*
	 * flag, SET and MERGE: a result over max_bytes fails with E2BIG, one
	 * over what mem_cap leaves with ENOSPC, and nothing changes (without
	 * it such a result is trimmed, with the overflow marker)
	 */
	TRACINGPLANE_A_NO_TRIM,
	/*
	 * u64: when the task started, in nanoseconds of the boottime clock
	 * of the initial time namespace (there, /proc/PID/stat's starttime
	 * in clock ticks); GET replies, and every request that names a task
	 * by PID or TID
	 */
	TRACINGPLANE_A_START_TIME,

	__TRACINGPLANE_A_MAX,
	TRACINGPLANE_A_MAX = __TRACINGPLANE_A_MAX - 1
};

/*
 * What reading from a pipe or a socket does to the reader's baggage
 * (Documentation/transit.rst).  Inherited on fork, kept across exec.
 */
enum tracingplane_read_policy {
	TRACINGPLANE_READ_MERGE,	/* own := merge(own, the data's); default */
	TRACINGPLANE_READ_REPLACE,	/* own := the data's (of one system call) */
	TRACINGPLANE_READ_IGNORE,	/* own stays: reads change nothing */

	__TRACINGPLANE_READ_MAX,
	TRACINGPLANE_READ_MAX = __TRACINGPLANE_READ_MAX - 1
};

#endif /* _UAPI_LINUX_TRACINGPLANE_H */
