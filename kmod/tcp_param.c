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
#include <linux/sizes.h>
#include <linux/stringify.h>

#include "limits.h"
#include "param.h"
#include "tcp.h"

/* RFC 6994: kinds 253 and 254 are the shared experimental ones. */
#define TP_TCP_KIND_MIN		253
#define TP_TCP_KIND_MAX		254
/* Kind 254 with this ExID is the TCP Fast Open cookie, which TCP parses. */
#define TP_TCP_EXID_FASTOPEN	0xf989

static bool tcp_kind_valid(unsigned long kind);
static bool tcp_exid_valid(unsigned long exid);

TP_PARAM(tcp_kind, TP_OPT_KIND_DEFAULT, TP_TCP_KIND_MIN, TP_TCP_KIND_MAX,
	 tcp_kind_valid, 0444, "TCP option kind, 253 or 254 (RFC 6994), default "
	 __stringify(TP_OPT_KIND_DEFAULT));
TP_PARAM(tcp_exid, TP_OPT_EXID_DEFAULT, 1, U16_MAX, tcp_exid_valid, 0444,
	 "16-bit RFC 6994 ExID, 1..65535, default "
	 __stringify(TP_OPT_EXID_DEFAULT));
TP_PARAM(tcp_max_ranges, 64, 2, SZ_64K, NULL, 0644,
	 "Baggage versions one TCP socket keeps per direction (2..65536, default 64)");
TP_PARAM(tcp_sock_mem, SZ_256K, SZ_1K, SZ_64M, NULL, 0644,
	 "Bytes of received baggage one TCP socket holds (1 KiB..64 MiB, default 256 KiB)");
TP_PARAM(tcp_mem_cap, SZ_16M, TP_LIMIT_MEM_CAP_MIN, TP_LIMIT_MEM_CAP_MAX, NULL,
	 0644, "Bytes of received baggage all TCP sockets hold (1 MiB..1 TiB, default 16 MiB)");

/* Kind and ExID are set at load time only, one after the other. */
static bool tcp_kind_valid(unsigned long kind)
{
	return kind != 254 || tp_param_tcp_exid.val != TP_TCP_EXID_FASTOPEN;
}

static bool tcp_exid_valid(unsigned long exid)
{
	return tp_param_tcp_kind.val != 254 || exid != TP_TCP_EXID_FASTOPEN;
}

struct tp_opt_id tp_tcp_opt_id(void)
{
	return (struct tp_opt_id){
		.kind = tp_param_tcp_kind.val,
		.exid = tp_param_tcp_exid.val,
	};
}

u32 tp_tcp_max_ranges(void)
{
	return tp_param_read(&tp_param_tcp_max_ranges);
}

u32 tp_tcp_sock_mem(void)
{
	return tp_param_read(&tp_param_tcp_sock_mem);
}

u64 tp_tcp_mem_cap(void)
{
	return tp_param_read(&tp_param_tcp_mem_cap);
}
