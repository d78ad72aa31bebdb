// SPDX-License-Identifier: GPL-2.0
/*
 * Segment surgery on locally generated TCP packets at LOCAL_OUT, where
 * skb->data is the IP header and the IP and TCP headers are linear.
 *
 * A segment leaving TCP is usually a clone of the one in its retransmit
 * queue: the header area is ours to write (TCP releases it with
 * __skb_header_release(), which is what lets tcp_transmit_skb() build a
 * header in every clone), but the payload and the shared info (page
 * fragments, GSO fields) are shared with the queue.  So growing the header
 * happens in place, in the headroom, while cutting a segment first gives
 * each piece a private head and fragment array (skb_unclone(),
 * pskb_trim()); page data is never copied.
 *
 * Checksums are left to the device, as TCP leaves them: every piece goes
 * out CHECKSUM_PARTIAL with the pseudo-header sum of its new length, and
 * the stack falls back to software where the device cannot offload.  The
 * sum TCP wrote is adjusted for the new length, not computed again from
 * the IP header: with a routing header or a source route, that names the
 * first hop, while the pseudo-header names the final destination.
 *
 * A piece cut off a segment is a clone, which has no socket: it is given
 * the segment's, so that what keys on a packet's socket (owner and cgroup
 * matches of netfilter, fq's flows, the socket's memory) sees it as TCP's.
 */

#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/skbuff.h>
#include <net/ip.h>
#include <net/ip6_checksum.h>
#include <net/tcp.h>

#include "tcp.h"

#define TP_SEG_TCP_HDR_MAX	60	/* doff is 4 bits of 32-bit words */

static struct tcphdr *tp_seg_th(struct sk_buff *skb, const struct tp_seg *seg)
{
	return (struct tcphdr *)(skb->data + seg->thoff);
}

static void tp_seg_reset_headers(struct sk_buff *skb, const struct tp_seg *seg)
{
	skb_reset_network_header(skb);
	skb_set_transport_header(skb, seg->thoff);
}

/*
 * Appends @opt (@len bytes) to the TCP options, padded with NOPs to a
 * 32-bit boundary, by moving the IP and TCP headers into the headroom.
 */
int tp_seg_grow(struct sk_buff *skb, struct tp_seg *seg, const u8 *opt,
		unsigned int len)
{
	unsigned int grow = ALIGN(len, 4);
	unsigned int hdrlen = seg->thoff + seg->thlen;
	u8 *end;

	if (seg->thlen + grow > TP_SEG_TCP_HDR_MAX)
		return -EMSGSIZE;
	if (skb_cow_head(skb, grow))
		return -ENOMEM;
	__skb_push(skb, grow);
	memmove(skb->data, skb->data + grow, hdrlen);
	tp_seg_reset_headers(skb, seg);
	end = skb->data + hdrlen;
	memcpy(end, opt, len);
	memset(end + len, TP_OPT_NOP, grow - len);
	tp_seg_th(skb, seg)->doff += grow / 4;
	seg->thlen += grow;
	return 0;
}

/* Drops the first @len payload bytes, those right after the headers. */
static int tp_seg_eat(struct sk_buff *skb, const struct tp_seg *seg,
		      unsigned int len)
{
	unsigned int hdrlen = seg->thoff + seg->thlen;
	struct skb_shared_info *shinfo;
	unsigned int lin, eat, size;
	int i, k;

	if (skb_unclone(skb, GFP_ATOMIC))
		return -ENOMEM;
	lin = min(len, skb_headlen(skb) - hdrlen);
	if (lin) {
		memmove(skb->data + lin, skb->data, hdrlen);
		__skb_pull(skb, lin);
		tp_seg_reset_headers(skb, seg);
	}
	eat = len - lin;
	shinfo = skb_shinfo(skb);
	for (i = 0, k = 0; i < shinfo->nr_frags; i++) {
		size = skb_frag_size(&shinfo->frags[i]);
		if (size <= eat) {
			skb_frag_unref(skb, i);
			eat -= size;
			continue;
		}
		shinfo->frags[k] = shinfo->frags[i];
		if (eat) {
			skb_frag_off_add(&shinfo->frags[k], eat);
			skb_frag_size_sub(&shinfo->frags[k], eat);
			eat = 0;
		}
		k++;
	}
	shinfo->nr_frags = k;
	skb->data_len -= len - lin;
	skb->len -= len - lin;
	return 0;
}

/*
 * Cuts @skb after @len payload bytes and returns the rest as a new
 * segment (NULL, with @skb unchanged, when that cannot be done).  Only the
 * rest keeps FIN and PSH, only the first piece CWR, as GSO would do.
 */
struct sk_buff *tp_seg_split(struct sk_buff *skb, const struct tp_seg *seg,
			     unsigned int len)
{
	struct sk_buff *tail;
	struct tcphdr *th;

	/* Zerocopy pages are not ours to re-slice; TCP never builds lists. */
	if (skb_has_frag_list(skb) || skb_zcopy(skb))
		return NULL;
	tail = skb_clone(skb, GFP_ATOMIC);
	if (!tail)
		return NULL;
	if (skb->sk && sk_fullsock(skb->sk))
		skb_set_owner_w(tail, skb->sk);
	if (tp_seg_eat(tail, seg, len) ||
	    pskb_trim(skb, seg->thoff + seg->thlen + len)) {
		kfree_skb(tail);
		return NULL;
	}
	th = tp_seg_th(tail, seg);
	th->seq = htonl(ntohl(th->seq) + len);
	th->cwr = 0;
	th = tp_seg_th(skb, seg);
	th->fin = 0;
	th->psh = 0;
	return tail;
}

/* GSO fields of a piece: a single segment is no GSO packet at all. */
static void tp_seg_gso(struct sk_buff *skb, unsigned int payload)
{
	struct skb_shared_info *shinfo = skb_shinfo(skb);

	if (!skb_is_gso(skb))
		return;
	if (payload > shinfo->gso_size) {
		shinfo->gso_segs = DIV_ROUND_UP(payload, shinfo->gso_size);
		return;
	}
	shinfo->gso_size = 0;
	shinfo->gso_segs = 1;
	shinfo->gso_type = 0;
}

/*
 * Makes the lengths and checksums of @skb match its size after surgery.
 * The GSO fields are only touched on a segment that was cut, whose
 * shared info is private by then.
 */
void tp_seg_finish(struct sk_buff *skb, const struct tp_seg *seg)
{
	unsigned int tcplen = skb->len - seg->thoff;
	struct tcphdr *th = tp_seg_th(skb, seg);

	if (seg->v6) {
		ipv6_hdr(skb)->payload_len = htons(skb->len - sizeof(struct ipv6hdr));
	} else {
		ip_hdr(skb)->tot_len = htons(skb->len);
		ip_send_check(ip_hdr(skb));
	}
	/* Both families' pseudo-headers sum the length as a 32-bit word. */
	inet_proto_csum_replace4(&th->check, skb, htonl(seg->tcplen),
				 htonl(tcplen), true);
	skb->csum_start = skb_transport_header(skb) - skb->head;
	skb->csum_offset = offsetof(struct tcphdr, check);
	tp_seg_gso(skb, tcplen - seg->thlen);
}
