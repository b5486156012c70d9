// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Test harness for the TC dataplane (test/bpf/test_tc_dataplane.c).
 *
 * BPF_PROG_RUN cannot attach VXLAN tunnel metadata to a packet, nor show the
 * metadata a program set, and it refuses an IPv4 or IPv6 frame shorter than
 * its IP header. These programs run the very decision functions of
 * dataplane.h (the real entry points are thin wrappers around them) and fill
 * those gaps through skb->cb, which BPF_PROG_RUN takes from ctx_in and hands
 * back in ctx_out. The maps are the pinned ones, shared with the dataplane
 * object through the test's pin directory.
 *
 * cb words, in (ctx_in) and out (ctx_out); "metadata" is the tunnel's:
 *   [0] VNI               in: metadata to give   out: metadata found
 *   [1] remote IPv4       in: metadata to give   out: metadata found (network byte order)
 *   [2] TTL               in: metadata to give   out: TTL | TUNNEL_* flags << 16
 *   [3] present           in: 1: give metadata   out: 1 if the skb has metadata
 *   [4] length / type     in: trim the frame to this many bytes (0: keep)
 *                         out: pkt_type at entry | pkt_type at exit << 8
 * sx_test_from_overlay takes no metadata: its [0] and [1] are the
 * struct sx_tunnel_meta that sx_from_overlay would read from the skb.
 */
#include "dataplane.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

enum {
	SX_CB_VNI = 0,
	SX_CB_REMOTE = 1,
	SX_CB_TTL = 2,
	SX_CB_PRESENT = 3,
	SX_CB_TRIM = 4,
	SX_CB_PKT_TYPE = 4,
};

/* Cuts the frame to cb[SX_CB_TRIM] bytes, if set: a truncated frame BPF_PROG_RUN would refuse. */
static __always_inline int sx_test_trim(struct __sk_buff *skb)
{
	__u32 len = skb->cb[SX_CB_TRIM];

	return len ? bpf_skb_change_tail(skb, len, 0) : 0;
}

/* Gives the skb the transmit metadata cb describes, if cb[SX_CB_PRESENT] is set. */
static __always_inline int sx_test_preset_tunnel(struct __sk_buff *skb)
{
	struct bpf_tunnel_key key = {};

	if (!skb->cb[SX_CB_PRESENT])
		return 0;
	key.tunnel_id = skb->cb[SX_CB_VNI];
	key.remote_ipv4 = bpf_ntohl(skb->cb[SX_CB_REMOTE]);
	key.tunnel_ttl = skb->cb[SX_CB_TTL];
	return bpf_skb_set_tunnel_key(skb, &key, sizeof(key), 0);
}

/*
 * Describes the skb's transmit metadata in cb (all zero when it has none).
 * bpf_skb_get_tunnel_key reads metadata as received: the outer source is
 * its remote_ipv4, the outer destination its local_ipv4. On metadata that
 * bpf_skb_set_tunnel_key wrote, the node it sends to is thus local_ipv4.
 */
static __always_inline void sx_test_report(struct __sk_buff *skb, __u32 entry_pkt_type)
{
	struct bpf_tunnel_key key = {};

	skb->cb[SX_CB_VNI] = 0;
	skb->cb[SX_CB_REMOTE] = 0;
	skb->cb[SX_CB_TTL] = 0;
	skb->cb[SX_CB_PRESENT] = 0;
	skb->cb[SX_CB_PKT_TYPE] = entry_pkt_type | skb->pkt_type << 8;
	if (bpf_skb_get_tunnel_key(skb, &key, sizeof(key), BPF_F_TUNINFO_FLAGS))
		return;
	skb->cb[SX_CB_VNI] = key.tunnel_id;
	skb->cb[SX_CB_REMOTE] = bpf_htonl(key.local_ipv4);
	skb->cb[SX_CB_TTL] = key.tunnel_ttl | (__u32)bpf_ntohs(key.tunnel_flags) << 16;
	skb->cb[SX_CB_PRESENT] = 1;
}

/*
 * sx_from_overlay's decisions with the metadata the VXLAN device would have
 * recorded: cb[0] is the VNI, cb[1] the outer source address.
 */
SEC("tc")
int sx_test_from_overlay(struct __sk_buff *skb)
{
	__u32 pkt_type = skb->pkt_type;
	struct sx_tunnel_meta m;
	int ret;

	m.vni = skb->cb[SX_CB_VNI];
	m.remote_ip4 = skb->cb[SX_CB_REMOTE];
	if (sx_test_trim(skb))
		return -1;
	ret = sx_overlay_ingress(skb, &m);
	sx_test_report(skb, pkt_type);
	return ret;
}

/* sx_from_pod's decisions, then what they left on the skb. */
SEC("tc")
int sx_test_from_pod(struct __sk_buff *skb)
{
	__u32 pkt_type = skb->pkt_type;
	int ret;

	if (sx_test_preset_tunnel(skb) || sx_test_trim(skb))
		return -1;
	ret = sx_pod_ingress(skb);
	sx_test_report(skb, pkt_type);
	return ret;
}

/* sx_to_overlay's decisions on a skb with the metadata cb describes, then what they left. */
SEC("tc")
int sx_test_to_overlay(struct __sk_buff *skb)
{
	__u32 pkt_type = skb->pkt_type;
	int ret;

	if (sx_test_preset_tunnel(skb) || sx_test_trim(skb))
		return -1;
	ret = sx_host_to_overlay(skb);
	sx_test_report(skb, pkt_type);
	return ret;
}
