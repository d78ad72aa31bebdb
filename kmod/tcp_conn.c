// SPDX-License-Identifier: GPL-2.0
/*
 * Per-connection state of baggage over TCP.
 *
 * A module cannot add a field to struct tcp_sock, so the state lives in an
 * rhashtable keyed by the socket pointer; a socket whose connection never
 * negotiated baggage has no entry.  An entry is created from the packet
 * path (softirq), so with GFP_ATOMIC, and dies with its socket: the
 * tcp_destroy_sock tracepoint fires from tcp_v4_destroy_sock(), which
 * every TCP socket (IPv6 ones included) passes exactly once, and a
 * tcp_disconnect(), which lets a socket connect again, drops it too.
 *
 * Readers find an entry under RCU and take its spinlock for everything
 * else; whoever takes an entry out of the table (rhashtable_remove_fast()
 * succeeds for one caller only) marks it dead under the lock, releases
 * what it holds and frees it after a grace period.
 */

#include <linux/kprobes.h>
#include <linux/rhashtable.h>
#include <linux/slab.h>
#include <linux/tracepoint.h>
#include <net/sock.h>
#include <net/tcp_states.h>

#include "hint.h"
#include "kprobe_guard.h"
#include "ptrkey.h"
#include "stats.h"
#include "tcp.h"
#include "tracepoints.h"

static const struct rhashtable_params tp_conn_params =
	TP_PTRKEY_PARAMS(struct tp_conn, node, sk);

static struct rhashtable tp_conns;
static struct kmem_cache *tp_conn_cache;
static atomic_long_t tp_conn_live = ATOMIC_LONG_INIT(0);
static struct tracepoint *tp_conn_destroy_tp;

long tp_conn_count(void)
{
	return atomic_long_read(&tp_conn_live);
}

static void *tp_conn_lookup(const void *sk)
{
	return rhashtable_lookup(&tp_conns, &sk, tp_conn_params);
}

/* A TCP send, each segment out and each read look the socket up. */
static DEFINE_PER_CPU(struct tp_hints, tp_conn_hints);
static atomic_long_t tp_conn_gen = ATOMIC_LONG_INIT(1);

struct tp_conn *tp_conn_find(const struct sock *sk)
{
	if (!atomic_long_read(&tp_conn_live))
		return NULL;
	return tp_hints_find(&tp_conn_hints, &tp_conn_gen, sk, tp_conn_lookup);
}

bool tp_conn_lock(struct tp_conn *conn)
{
	spin_lock_bh(&conn->lock);
	if (likely(!conn->dead))
		return true;
	spin_unlock_bh(&conn->lock);
	return false;
}

void tp_conn_unlock(struct tp_conn *conn)
{
	spin_unlock_bh(&conn->lock);
}

static void tp_conn_free_rcu(struct rcu_head *rcu)
{
	kmem_cache_free(tp_conn_cache, container_of(rcu, struct tp_conn, rcu));
}

/* Releases what @conn holds; the caller took it out of the table. */
static void tp_conn_release(struct tp_conn *conn)
{
	spin_lock_bh(&conn->lock);
	conn->dead = true;
	tp_tx_free(conn);
	tp_rx_free(conn);
	spin_unlock_bh(&conn->lock);
	atomic_long_dec(&tp_conn_live);
	call_rcu(&conn->rcu, tp_conn_free_rcu);
}

static void tp_conn_remove(struct tp_conn *conn)
{
	if (rhashtable_remove_fast(&tp_conns, &conn->node, tp_conn_params))
		return;
	/* Before the grace period: a reader that missed the change holds it. */
	tp_hints_changed(&tp_conn_gen);
	tp_conn_release(conn);
}

/* A socket that will never carry data again must not get new state. */
static bool tp_conn_sk_closed(const struct sock *sk)
{
	int state = READ_ONCE(sk->sk_state);

	return state == TCP_CLOSE || state == TCP_LISTEN ||
	       sock_flag(sk, SOCK_DEAD);
}

static struct tp_conn *tp_conn_new(struct sock *sk)
{
	struct tp_conn *conn = kmem_cache_zalloc(tp_conn_cache,
						 GFP_ATOMIC | __GFP_NOWARN);

	if (!conn) {
		atomic_long_inc(&tp_stats.alloc_fails);
		return NULL;
	}
	conn->sk = sk;
	spin_lock_init(&conn->lock);
	INIT_LIST_HEAD(&conn->tx);
	INIT_LIST_HEAD(&conn->rx);
	return conn;
}

struct tp_conn *tp_conn_open(struct sock *sk)
{
	struct tp_conn *conn, *old;

	if (!sk_fullsock(sk) || sk->sk_protocol != IPPROTO_TCP ||
	    tp_conn_sk_closed(sk))
		return NULL;
	conn = tp_conn_find(sk);
	if (conn)
		return conn;

	conn = tp_conn_new(sk);
	if (!conn)
		return NULL;
	atomic_long_inc(&tp_conn_live);
	old = rhashtable_lookup_get_insert_fast(&tp_conns, &conn->node,
						tp_conn_params);
	if (old) {
		atomic_long_dec(&tp_conn_live);
		kmem_cache_free(tp_conn_cache, conn);
		return IS_ERR(old) ? NULL : old;
	}
	tp_hints_changed(&tp_conn_gen);
	/*
	 * The socket may have been destroyed while we built this: the
	 * destroy probe's barrier pairs with this one, so either it finds
	 * the entry or we see the socket closed.
	 */
	smp_mb();
	if (tp_conn_sk_closed(sk)) {
		tp_conn_remove(conn);
		return NULL;
	}
	return conn;
}

static void tp_conn_close(const struct sock *sk)
{
	struct tp_conn *conn;

	/* Pairs with the barrier in tp_conn_open(). */
	smp_mb();
	rcu_read_lock();
	conn = tp_conn_find(sk);
	if (conn)
		tp_conn_remove(conn);
	rcu_read_unlock();
}

/* tcp_destroy_sock: the socket is about to be freed. */
static void tp_conn_destroy_probe(void *data, struct sock *sk)
{
	tp_conn_close(sk);
}

/*
 * tcp_disconnect(sk, flags): the socket may connect again, to anyone.  Its
 * state goes at entry, and again at return: a segment handled meanwhile
 * on another CPU may have made state anew while the socket was still
 * connected, and none can once it is closed (tp_conn_open()).  The caller
 * holds the socket lock, so nothing connects it again before the return.
 */
static int tp_conn_disconnect_entry(struct kretprobe_instance *ri,
				    struct pt_regs *regs)
{
	struct sock *sk = (struct sock *)regs_get_kernel_argument(regs, 0);

	tp_conn_close(sk);
	*(struct sock **)ri->data = sk;
	return 0;
}

static int tp_conn_disconnect_ret(struct kretprobe_instance *ri,
				  struct pt_regs *regs)
{
	tp_conn_close(*(struct sock **)ri->data);
	return 0;
}

static struct kretprobe tp_conn_disconnect_rp = {
	.kp.symbol_name = "tcp_disconnect",
	.kp.flags = KPROBE_FLAG_DISABLED,
	.entry_handler = tp_conn_disconnect_entry,
	.handler = tp_conn_disconnect_ret,
	.data_size = sizeof(struct sock *),
	.maxactive = 256,
};

static int tp_conn_register(void)
{
	struct kretprobe *rp = &tp_conn_disconnect_rp;
	int err;

	tp_conn_destroy_tp = tp_tracepoint_find("tcp_destroy_sock");
	if (!tp_conn_destroy_tp)
		return -ENOENT;
	err = tracepoint_probe_register(tp_conn_destroy_tp,
					tp_conn_destroy_probe, NULL);
	if (err)
		return err;
	err = tp_register_kretprobes(&rp, 1);
	if (err)
		goto err_tracepoint;
	err = enable_kretprobe(rp);
	if (err)
		goto err_kretprobe;
	return 0;

err_kretprobe:
	unregister_kretprobe(rp);
err_tracepoint:
	tracepoint_probe_unregister(tp_conn_destroy_tp, tp_conn_destroy_probe,
				    NULL);
	tracepoint_synchronize_unregister();
	return err;
}

static void tp_conn_destroy(void *ptr, void *arg)
{
	tp_conn_release(ptr);
}

int tp_conn_init(void)
{
	int err;

	tp_conn_cache = KMEM_CACHE(tp_conn, 0);
	if (!tp_conn_cache)
		return -ENOMEM;
	err = rhashtable_init(&tp_conns, &tp_conn_params);
	if (err)
		goto err_cache;
	err = tp_conn_register();
	if (err)
		goto err_table;
	return 0;

err_table:
	rhashtable_destroy(&tp_conns);
err_cache:
	kmem_cache_destroy(tp_conn_cache);
	return err;
}

/* Every hook and probe that could use an entry is gone by now. */
void tp_conn_exit(void)
{
	unregister_kretprobe(&tp_conn_disconnect_rp);
	tracepoint_probe_unregister(tp_conn_destroy_tp, tp_conn_destroy_probe,
				    NULL);
	tracepoint_synchronize_unregister();
	rhashtable_free_and_destroy(&tp_conns, tp_conn_destroy, NULL);
	rcu_barrier();
	kmem_cache_destroy(tp_conn_cache);
}
