// SPDX-License-Identifier: GPL-2.0
/*
 * Module parameters of baggage over TCP (Documentation/limits.rst).
 *
 * The option's kind and ExID can only be chosen at load time: changing
 * them under live connections would make both ends disagree on what they
 * already negotiated.  The caps can change at any time; a lower cap
 * applies to what arrives next and never drops what is already held.
 */

#include <linux/kernel.h>
#include <linux/moduleparam.h>
#include <linux/sizes.h>

#include "limits.h"
#include "tcp.h"

/* RFC 6994: kinds 253 and 254 are the shared experimental ones. */
#define TP_TCP_KIND_MIN		253
#define TP_TCP_KIND_MAX		254
/* Kind 254 with this ExID is the TCP Fast Open cookie, which TCP parses. */
#define TP_TCP_EXID_FASTOPEN	0xf989

static unsigned int tcp_kind = 253;
static unsigned int tcp_exid = 0x7470;	/* "tp" */
static unsigned int tcp_max_ranges = 64;
static unsigned int tcp_sock_mem = SZ_256K;
static unsigned long tcp_mem_cap = SZ_16M;

static int tcp_kind_set(const char *val, const struct kernel_param *kp)
{
	unsigned int kind;

	if (kstrtouint(val, 0, &kind) ||
	    kind < TP_TCP_KIND_MIN || kind > TP_TCP_KIND_MAX ||
	    (kind == 254 && tcp_exid == TP_TCP_EXID_FASTOPEN))
		return -EINVAL;
	tcp_kind = kind;
	return 0;
}

static const struct kernel_param_ops tcp_kind_ops = {
	.set = tcp_kind_set,
	.get = param_get_uint,
};

module_param_cb(tcp_kind, &tcp_kind_ops, &tcp_kind, 0444);
MODULE_PARM_DESC(tcp_kind, "TCP option kind, 253 or 254 (RFC 6994), default 253");

static int tcp_exid_set(const char *val, const struct kernel_param *kp)
{
	unsigned int exid;

	if (kstrtouint(val, 0, &exid) || !exid || exid > U16_MAX ||
	    (tcp_kind == 254 && exid == TP_TCP_EXID_FASTOPEN))
		return -EINVAL;
	tcp_exid = exid;
	return 0;
}

static const struct kernel_param_ops tcp_exid_ops = {
	.set = tcp_exid_set,
	.get = param_get_uint,
};

module_param_cb(tcp_exid, &tcp_exid_ops, &tcp_exid, 0444);
MODULE_PARM_DESC(tcp_exid, "16-bit RFC 6994 ExID, 1..65535, default 0x7470");

static int tcp_max_ranges_set(const char *val, const struct kernel_param *kp)
{
	return param_set_uint_minmax(val, kp, 2, SZ_64K) ? -EINVAL : 0;
}

static const struct kernel_param_ops tcp_max_ranges_ops = {
	.set = tcp_max_ranges_set,
	.get = param_get_uint,
};

module_param_cb(tcp_max_ranges, &tcp_max_ranges_ops, &tcp_max_ranges, 0644);
MODULE_PARM_DESC(tcp_max_ranges,
		 "Baggage versions one TCP socket keeps per direction (2..65536, default 64)");

static int tcp_sock_mem_set(const char *val, const struct kernel_param *kp)
{
	return param_set_uint_minmax(val, kp, SZ_1K, SZ_64M) ? -EINVAL : 0;
}

static const struct kernel_param_ops tcp_sock_mem_ops = {
	.set = tcp_sock_mem_set,
	.get = param_get_uint,
};

module_param_cb(tcp_sock_mem, &tcp_sock_mem_ops, &tcp_sock_mem, 0644);
MODULE_PARM_DESC(tcp_sock_mem,
		 "Bytes of received baggage one TCP socket holds (1 KiB..64 MiB, default 256 KiB)");

static int tcp_mem_cap_set(const char *val, const struct kernel_param *kp)
{
	unsigned long cap;

	if (kstrtoul(val, 0, &cap) ||
	    cap < TP_LIMIT_MEM_CAP_MIN || cap > TP_LIMIT_MEM_CAP_MAX)
		return -EINVAL;
	WRITE_ONCE(*(unsigned long *)kp->arg, cap);
	return 0;
}

static const struct kernel_param_ops tcp_mem_cap_ops = {
	.set = tcp_mem_cap_set,
	.get = param_get_ulong,
};

module_param_cb(tcp_mem_cap, &tcp_mem_cap_ops, &tcp_mem_cap, 0644);
MODULE_PARM_DESC(tcp_mem_cap,
		 "Bytes of received baggage all TCP sockets hold (1 MiB..1 TiB, default 16 MiB)");

struct tp_opt_id tp_tcp_opt_id(void)
{
	return (struct tp_opt_id){ .kind = tcp_kind, .exid = tcp_exid };
}

u32 tp_tcp_max_ranges(void)
{
	return READ_ONCE(tcp_max_ranges);
}

u32 tp_tcp_sock_mem(void)
{
	return READ_ONCE(tcp_sock_mem);
}

u64 tp_tcp_mem_cap(void)
{
	return READ_ONCE(tcp_mem_cap);
}
