/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Lookups and actions of the TC dataplane: find an endpoint, the node that
 * owns an address, and deliver a frame into a pod, into the VXLAN device or
 * to the host. Each action bumps its counter.
 */
#ifndef SOCKVX_FORWARD_H
#define SOCKVX_FORWARD_H

#include <bpf/bpf_core_read.h>
#include "sockvx_maps.h"
#include "packet.h"

#define SX_TUNNEL_TTL 64

/*
 * struct bpf_tunnel_key's size on the running kernel, for the tunnel-key
 * helpers: they take their kernel's size or an older one, and vmlinux.h may
 * come from a newer kernel than the node's (local_ipv4 came in 5.19).
 */
#define SX_TUNNEL_KEY_SIZE bpf_core_type_size(struct bpf_tunnel_key)

static __always_inline struct sx_netconf *sx_netconf(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&sx_netconf_v1, &zero);
}

/* An endpoint the TC dataplane can deliver to (wired with a host veth), or NULL. */
static __always_inline struct sx_endpoint *sx_wired_endpoint(const struct sx_endpoint_key *k)
{
	struct sx_endpoint *ep = bpf_map_lookup_elem(&sx_endpoints_v1, k);

	return ep && ep->ifindex ? ep : NULL;
}

static __always_inline int sx_ip6_v4mapped(const struct sx_endpoint_key *k)
{
	return k->family == SX_AF_INET6 && !k->ip.addr[0] && !k->ip.addr[1] &&
	       k->ip.addr[2] == bpf_htonl(0xffff);
}

/* The remote node that owns addr (the longest matching pod CIDR), or NULL. */
static __always_inline struct sx_tunnel *sx_tunnel_for(const struct sx_endpoint_key *addr)
{
	struct sx_cidr_key key = { .prefixlen = 128 };

	if (addr->family == SX_AF_INET) {
		key.ip.addr[2] = bpf_htonl(0xffff); /* IPv4-mapped, as the trie stores it */
		key.ip.addr[3] = addr->ip.addr[0];
	} else {
		/* An IPv6 packet to ::ffff:a.b.c.d must not match an IPv4 CIDR. */
		if (sx_ip6_v4mapped(addr))
			return NULL;
		key.ip = addr->ip;
	}
	return bpf_map_lookup_elem(&sx_tunnel_v1, &key);
}

static __always_inline int sx_is_router_address(const struct sx_netconf *nc,
						const struct sx_endpoint_key *k)
{
	if (k->family == SX_AF_INET)
		return nc->router_ip4 && k->ip.addr[0] == nc->router_ip4;
	return (nc->router_ip6.addr[0] | nc->router_ip6.addr[1] | nc->router_ip6.addr[2] |
		nc->router_ip6.addr[3]) &&
	       k->ip.addr[0] == nc->router_ip6.addr[0] && k->ip.addr[1] == nc->router_ip6.addr[1] &&
	       k->ip.addr[2] == nc->router_ip6.addr[2] && k->ip.addr[3] == nc->router_ip6.addr[3];
}

/*
 * Could a frame from the node at node_ip4, with this inner source outside
 * that node's pod CIDRs, be its own traffic? Not with an address that is
 * another node's (a pod CIDR of it, t; its underlay address), this node's (a
 * pod, the pod-network address), or that no host sends (IPv4-mapped IPv6).
 */
static __always_inline int sx_node_may_send_as(const struct sx_netconf *nc,
					       const struct sx_tunnel *t, __u32 node_ip4,
					       const struct sx_endpoint_key *src)
{
	if (t || sx_ip6_v4mapped(src) || sx_is_router_address(nc, src) ||
	    bpf_map_lookup_elem(&sx_endpoints_v1, src))
		return 0;
	return src->family != SX_AF_INET || src->ip.addr[0] == node_ip4 ||
	       !bpf_map_lookup_elem(&sx_nodes_v1, &src->ip.addr[0]);
}

static __always_inline int sx_drop(__u32 counter)
{
	sx_count(counter, 1);
	return SX_TC_ACT_SHOT;
}

/*
 * Frames the dataplane lets go on (to the node's stack, or out of the VXLAN
 * device) get no verdict: a later filter of another tool on the hook still
 * sees them, and with none the stack takes them, as with TC_ACT_OK.
 */
static __always_inline int sx_to_host(void)
{
	sx_count(SX_CNT_TC_TO_HOST, 1);
	return SX_TC_ACT_UNSPEC;
}

/*
 * Host-routed flows. The host stack may translate what it routes into a pod
 * or into the overlay (a Service's DNAT by kube-proxy, a hostPort), and
 * conntrack undoes the translation on the replies only if they pass the host
 * too. So each TCP or UDP flow from a pod that the host routed (to_pod,
 * to_overlay) is recorded under its reply direction, and a frame the
 * dataplane would short-cut to a pod or a node goes to the host instead when
 * it matches. Flows the dataplane carries end to end are never recorded.
 */

/* The key of p's flow, in p's direction or (reply) in the opposite one. */
static __always_inline void sx_flow_key_of(const struct sx_pkt *p, bool reply,
					   struct sx_flow_key *k)
{
	k->src = reply ? p->dst : p->src;
	k->dst = reply ? p->src : p->dst;
	k->sport = reply ? p->dport : p->sport;
	k->dport = reply ? p->sport : p->dport;
	k->proto = p->l4proto;
}

/* The host routed p, from a pod, toward a pod: its replies must come back through the host. */
static __always_inline void sx_host_flow_record(const struct sx_pkt *p)
{
	struct sx_flow_key k = {};
	__u8 one = 1;

	if (!p->l4proto)
		return;
	sx_flow_key_of(p, true, &k);
	/* A lookup first: the flow's every packet passes here, the update is the first one's. */
	if (!bpf_map_lookup_elem(&sx_hostflow_v1, &k))
		bpf_map_update_elem(&sx_hostflow_v1, &k, &one, BPF_ANY);
}

/*
 * Is p a reply of a host-routed flow? A TCP SYN opens a flow the dataplane
 * carries itself: a record left on its ports by an earlier, host-routed
 * connection is over, and would send this one's replies to a host that
 * never saw its SYN.
 */
static __always_inline int sx_host_flow_reply(const struct sx_pkt *p)
{
	struct sx_flow_key k = {};

	if (!p->l4proto)
		return 0;
	if (p->l4proto == SX_IPPROTO_TCP &&
	    (p->tcp_flags & (SX_TCP_FLAG_SYN | SX_TCP_FLAG_ACK)) == SX_TCP_FLAG_SYN) {
		sx_flow_key_of(p, true, &k);
		bpf_map_delete_elem(&sx_hostflow_v1, &k);
		return 0;
	}
	sx_flow_key_of(p, false, &k);
	return bpf_map_lookup_elem(&sx_hostflow_v1, &k) != NULL;
}

/*
 * Marks the frame as addressed to this host: a redirected or decapsulated
 * frame keeps the type its first device gave it, and IP drops "otherhost".
 */
static __always_inline void sx_set_pkt_host(struct __sk_buff *skb)
{
	if (skb->pkt_type != SX_PACKET_HOST)
		bpf_skb_change_type(skb, SX_PACKET_HOST);
}

/* A reply of a host-routed flow: to the host, whose conntrack translates it back. */
static __always_inline int sx_host_flow_to_host(struct __sk_buff *skb)
{
	sx_set_pkt_host(skb);
	sx_count(SX_CNT_TC_HOST_FLOW, 1);
	return SX_TC_ACT_UNSPEC;
}

/*
 * Into the pod behind ep: its own MACs on the frame, then straight into the
 * pod's namespace (bpf_redirect_peer skips the host veth's backlog). The
 * packet type becomes "host" because a redirected frame keeps the one its
 * first device gave it, and the pod's IP layer drops "otherhost".
 */
static __always_inline int sx_deliver_local(struct __sk_buff *skb, const struct sx_endpoint *ep,
					    __u32 counter)
{
	if (sx_set_macs(skb, ep->pod_mac, ep->host_mac))
		return sx_drop(SX_CNT_DROP_MALFORMED);
	sx_set_pkt_host(skb);
	sx_count(counter, 1);
	return bpf_redirect_peer(ep->ifindex, 0);
}

/*
 * Answers a pod's ARP request for any address other than its own with its
 * host veth's MAC, straight back out of the veth: the host is the pod's next
 * hop for everything, and the request never reaches another pod or the
 * host's ARP code. Pods normally have a static entry for their gateway; this
 * covers a flushed neighbour table (a MAC change flushes even permanent
 * entries) and tools that ARP on their own.
 */
static __always_inline int sx_arp_respond(struct __sk_buff *skb, const struct sx_endpoint *pod)
{
	if (sx_arp_make_reply(skb, pod->host_mac))
		return sx_drop(SX_CNT_DROP_MALFORMED);
	sx_count(SX_CNT_TC_ARP_REPLIED, 1);
	return bpf_redirect(skb->ifindex, 0);
}

/*
 * Attaches the tunnel metadata for the node at node_ip4 (network order).
 * The kernel's VXLAN device builds the outer headers, segments and
 * checksums. The outer UDP checksum is zero, as RFC 7348 recommends for IPv4
 * and as the kernel's VXLAN device does by default.
 */
static __always_inline int sx_set_tunnel(struct __sk_buff *skb, const struct sx_netconf *nc,
					 __u32 node_ip4)
{
	struct bpf_tunnel_key key = {
		.tunnel_id = nc->vni,
		.remote_ipv4 = bpf_ntohl(node_ip4),
		.tunnel_ttl = SX_TUNNEL_TTL,
	};

	/*
	 * The outer source is the address the other nodes know this node by;
	 * left to routing, a multi-homed node could send from another one,
	 * which its peers drop (drop_unknown_node). Before 5.19, routing's.
	 */
	if (bpf_core_field_exists(key.local_ipv4))
		key.local_ipv4 = bpf_ntohl(nc->underlay_ip4);
	return bpf_skb_set_tunnel_key(skb, &key, SX_TUNNEL_KEY_SIZE, BPF_F_ZERO_CSUM_TX);
}

/* From a pod to a pod of another node: tunnel metadata, then the VXLAN device. */
static __always_inline int sx_encap_to_node(struct __sk_buff *skb, const struct sx_netconf *nc,
					    const struct sx_tunnel *t)
{
	if (sx_set_tunnel(skb, nc, t->node_ip4))
		return sx_drop(SX_CNT_DROP_TUNNEL_ERR);
	sx_count(SX_CNT_TC_ENCAP, 1);
	return bpf_redirect(nc->vxlan_ifindex, 0);
}

#endif /* SOCKVX_FORWARD_H */
