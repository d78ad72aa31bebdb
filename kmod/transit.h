/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The transit layer for pipes, FIFOs and UNIX-domain sockets: where
 * baggage moves with data between tasks.  Documentation/transit.rst.
 */
#ifndef TP_TRANSIT_H
#define TP_TRANSIT_H

#include <linux/list.h>
#include <linux/types.h>

struct sk_buff;

int tp_transit_init(void);
void tp_transit_exit(void);

/*
 * The probes are armed only while baggage may exist: a module loaded
 * with no baggage anywhere costs nothing on any pipe or socket.  Anyone
 * about to give a task baggage (or a read policy) holds the transit
 * layer with @arm true, which arms the probes first and keeps them armed
 * until the release; anyone who may do so holds it with @arm false (the
 * probes then stay as they are).  Process context: it may sleep.
 */
void tp_transit_hold(bool arm);
void tp_transit_release(void);
/* Are the probes armed (under a hold: stable)? */
bool tp_transit_armed(void);

/*
 * Probes that matter only while baggage may exist (pipes, UNIX sockets,
 * TCP sends), armed and disarmed with the layer: armed in the order
 * their sets were attached, disarmed in the reverse order.  A set whose
 * part holds baggage of its own (a pipe's bytes, a socket buffer's tag,
 * a TCP connection's newest version) says so through @busy, which keeps
 * the layer armed.
 */
struct tp_transit_probes {
	struct list_head node;
	void (*arm)(bool on);
	long (*misses)(void);	/* calls the probes did not see, or NULL */
	bool (*busy)(void);
};

/* Attach (armed at once if the layer is) and detach (disarmed). */
void tp_transit_attach(struct tp_transit_probes *probes);
void tp_transit_detach(struct tp_transit_probes *probes);

/* Arms or disarms one probe, from a set's arm(). */
struct kprobe;
void tp_transit_switch(struct kprobe *kp, bool on);

/* The transit attributes of a STATUS reply. */
int tp_transit_nl_status(struct sk_buff *msg);

#endif /* TP_TRANSIT_H */
