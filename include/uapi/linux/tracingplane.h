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
 * At most one of the two may be given.
 */
enum tracingplane_cmd {
	TRACINGPLANE_CMD_UNSPEC,
	TRACINGPLANE_CMD_GET,		/* reply carries A_BAGGAGE (absent: empty) */
	TRACINGPLANE_CMD_SET,		/* replace with A_BAGGAGE (required) */
	TRACINGPLANE_CMD_MERGE,		/* merge A_BAGGAGE (required) into it */
	TRACINGPLANE_CMD_CLEAR,		/* drop it */
	TRACINGPLANE_CMD_STATUS,	/* reply carries the A_STATUS_* attributes */

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

	__TRACINGPLANE_A_MAX,
	TRACINGPLANE_A_MAX = __TRACINGPLANE_A_MAX - 1
};

#endif /* _UAPI_LINUX_TRACINGPLANE_H */
