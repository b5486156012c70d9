// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The TC VXLAN dataplane: thin entry points, one per attach point. The
 * decisions live in dataplane.h, the actions in forward.h.
 */
#include "dataplane.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* tc ingress of each pod's host-side veth: every frame the pod sends. */
SEC("tc")
int sx_from_pod(struct __sk_buff *skb)
{
	return sx_pod_ingress(skb);
}

/* tc egress of each pod's host-side veth: frames the node's stack routes into the pod. */
SEC("tc")
int sx_to_pod(struct __sk_buff *skb)
{
	return sx_host_to_pod(skb);
}

/* tc ingress of the collect-metadata VXLAN device: decapsulated frames. */
SEC("tc")
int sx_from_overlay(struct __sk_buff *skb)
{
	struct bpf_tunnel_key key = {};
	struct sx_tunnel_meta m;

	if (bpf_skb_get_tunnel_key(skb, &key, SX_TUNNEL_KEY_SIZE, 0))
		return sx_drop(SX_CNT_DROP_TUNNEL_ERR);
	m.vni = key.tunnel_id;
	m.remote_ip4 = bpf_htonl(key.remote_ipv4);
	return sx_overlay_ingress(skb, &m);
}

/* tc egress of the VXLAN device: the node's own traffic to remote pods. */
SEC("tc")
int sx_to_overlay(struct __sk_buff *skb)
{
	return sx_host_to_overlay(skb);
}
