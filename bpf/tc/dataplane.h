/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The decisions of the TC dataplane, one function per attach point. They
 * take the tunnel metadata as a plain struct, so a test harness can feed
 * from_overlay's logic through BPF_PROG_RUN, which cannot attach VXLAN
 * metadata to a packet.
 */
#ifndef SOCKVX_DATAPLANE_H
#define SOCKVX_DATAPLANE_H

#include "forward.h"

/* What the VXLAN device's receive path recorded about the outer headers. */
struct sx_tunnel_meta {
	__u32 vni;
	__u32 remote_ip4; /* outer source address, network byte order */
};

/*
 * A frame a pod sent. Its source must be the pod itself (address and MAC of
 * the endpoint wired to this veth); then, by destination: a pod of this node,
 * a pod of another node, or the host for everything else. Replies of flows
 * the host routed go back through the host (forward.h).
 */
static __always_inline int sx_pod_ingress(struct __sk_buff *skb)
{
	struct sx_endpoint *src_ep, *dst_ep;
	struct sx_netconf *nc;
	struct sx_tunnel *t;
	struct sx_pkt p = {};

	if (sx_parse(skb, &p))
		return sx_drop(SX_CNT_DROP_MALFORMED);
	if (p.l3 == SX_L3_OTHER)
		return sx_drop(SX_CNT_DROP_PROTO);
	/* Neighbour discovery and DAD use link-scope sources; the host only answers them. */
	if (p.l3 == SX_L3_IPV6 && sx_ipv6_link_scope_source(&p.src))
		return sx_to_host();

	src_ep = bpf_map_lookup_elem(&sx_endpoints_v1, &p.src);
	if (!src_ep || src_ep->ifindex != skb->ifindex)
		return sx_drop(SX_CNT_DROP_SPOOF_IP);
	if (!sx_mac_is_zero(src_ep->pod_mac) &&
	    (!sx_mac_equal(src_ep->pod_mac, p.src_mac) ||
	     (p.l3 == SX_L3_ARP && !sx_mac_equal(src_ep->pod_mac, p.arp_sha))))
		return sx_drop(SX_CNT_DROP_SPOOF_MAC);
	if (p.l3 == SX_L3_ARP) {
		if (p.arp_op == SX_ARPOP_REQUEST && p.dst.ip.addr[0] != p.src.ip.addr[0])
			return sx_arp_respond(skb, src_ep);
		return sx_to_host();
	}

	dst_ep = sx_wired_endpoint(&p.dst);
	if (dst_ep)
		return sx_host_flow_reply(&p) ? sx_host_flow_to_host(skb) :
						sx_deliver_local(skb, dst_ep, SX_CNT_TC_LOCAL);
	nc = sx_netconf();
	if (nc && nc->vxlan_ifindex) {
		t = sx_tunnel_for(&p.dst);
		if (t)
			return sx_host_flow_reply(&p) ? sx_host_flow_to_host(skb) :
							sx_encap_to_node(skb, nc, t);
	}
	return sx_to_host();
}

/*
 * A frame the node's stack routes into a pod (tc egress of the host veth).
 * It only watches: a TCP or UDP flow from a pod is recorded, so that its
 * replies come back through the host (forward.h), and the frame goes on
 * with no verdict, so any later filter of another tool on this hook still
 * runs. Frames the dataplane redirects into a pod never pass here.
 */
static __always_inline int sx_host_to_pod(struct __sk_buff *skb)
{
	struct sx_pkt p = {};

	if (sx_parse(skb, &p) || !p.l4proto)
		return SX_TC_ACT_UNSPEC;
	if (sx_wired_endpoint(&p.src) || sx_tunnel_for(&p.src))
		sx_host_flow_record(&p);
	return SX_TC_ACT_UNSPEC;
}

/*
 * A frame the VXLAN device decapsulated. Only the cluster's VNI from a known
 * node gets in. A source inside that node's pod CIDRs is a pod of it: the
 * frame goes to a pod of this node, or to the host when addressed to the
 * node's own pod-network address (node-to-node traffic such as probes) or
 * when it replies to a host-routed flow. A pod address of any other node, or
 * of this one, is spoofed. Any other source is the sending node's own traffic
 * (its addresses answering a pod that connected to them, as an API server
 * does behind the kubernetes Service, or what it forwards): it takes this
 * node's stack, whose conntrack saw the pod's request and translates the
 * reply back.
 */
static __always_inline int sx_overlay_ingress(struct __sk_buff *skb,
					      const struct sx_tunnel_meta *m)
{
	struct sx_netconf *nc = sx_netconf();
	struct sx_endpoint *ep;
	struct sx_tunnel *t;
	struct sx_pkt p = {};

	if (!nc || m->vni != nc->vni)
		return sx_drop(SX_CNT_DROP_VNI);
	if (!bpf_map_lookup_elem(&sx_nodes_v1, &m->remote_ip4))
		return sx_drop(SX_CNT_DROP_UNKNOWN_NODE);
	if (sx_parse(skb, &p))
		return sx_drop(SX_CNT_DROP_MALFORMED);
	if (p.l3 != SX_L3_IPV4 && p.l3 != SX_L3_IPV6)
		return sx_drop(SX_CNT_DROP_PROTO);
	t = sx_tunnel_for(&p.src);
	if (!t || t->node_ip4 != m->remote_ip4) {
		if (!sx_node_may_send_as(nc, t, m->remote_ip4, &p.src))
			return sx_drop(SX_CNT_DROP_NODE_SPOOF);
		sx_set_pkt_host(skb);
		return sx_to_host();
	}

	ep = sx_wired_endpoint(&p.dst);
	if (ep)
		return sx_host_flow_reply(&p) ? sx_host_flow_to_host(skb) :
						sx_deliver_local(skb, ep, SX_CNT_TC_DECAP);
	if (sx_is_router_address(nc, &p.dst)) {
		sx_set_pkt_host(skb);
		return sx_to_host();
	}
	return sx_drop(SX_CNT_DROP_NO_ENDPOINT);
}

/*
 * A frame the node itself routes into the VXLAN device (its route to a remote
 * pod CIDR). Frames from_pod redirected already carry their tunnel metadata;
 * the others get the owning node's.
 */
static __always_inline int sx_host_to_overlay(struct __sk_buff *skb)
{
	struct bpf_tunnel_key key = {};
	struct sx_netconf *nc;
	struct sx_tunnel *t;
	struct sx_pkt p = {};

	if (!bpf_skb_get_tunnel_key(skb, &key, SX_TUNNEL_KEY_SIZE, 0))
		return SX_TC_ACT_UNSPEC;
	nc = sx_netconf();
	if (!nc)
		return sx_drop(SX_CNT_DROP_TUNNEL_ERR);
	if (sx_parse(skb, &p))
		return sx_drop(SX_CNT_DROP_MALFORMED);
	if (p.l3 != SX_L3_IPV4 && p.l3 != SX_L3_IPV6)
		return sx_drop(SX_CNT_DROP_PROTO);
	t = sx_tunnel_for(&p.dst);
	if (!t)
		return sx_drop(SX_CNT_DROP_NO_ROUTE);
	if (sx_set_tunnel(skb, nc, t->node_ip4))
		return sx_drop(SX_CNT_DROP_TUNNEL_ERR);
	/* A pod's flow the host routed here (e.g. to a Service's remote backend). */
	if (sx_wired_endpoint(&p.src))
		sx_host_flow_record(&p);
	sx_count(SX_CNT_TC_HOST_ENCAP, 1);
	return SX_TC_ACT_UNSPEC;
}

#endif /* SOCKVX_DATAPLANE_H */
