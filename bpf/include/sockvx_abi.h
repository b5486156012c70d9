/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The ABI shared by the BPF programs and user space: map names, keys,
 * values and counter ids. Every layout here is part of a pinned map's
 * schema; changing one requires a new map version suffix (_v2 ...), so an
 * old pin is never reused with an incompatible layout.
 */
#ifndef SOCKVX_ABI_H
#define SOCKVX_ABI_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#define SX_AF_INET  2
#define SX_AF_INET6 10

/* Pinned map names (at most 15 characters: the kernel's BPF_OBJ_NAME_LEN). */
#define SX_MAP_ENDPOINTS  "sx_endpoints_v1"
#define SX_MAP_SOCKHASH   "sx_sockhash_v1"
#define SX_MAP_DIRSTATE   "sx_dirstate_v1"
#define SX_MAP_CONFIG     "sx_config_v1"
#define SX_MAP_EXCL_PORTS "sx_exclport_v1"
#define SX_MAP_STATS      "sx_stats_v1"
#define SX_MAP_ACTIVE     "sx_active_v1"
#define SX_MAP_TUNNEL     "sx_tunnel_v1"
#define SX_MAP_NODES      "sx_nodes_v1"
#define SX_MAP_NETCONF    "sx_netconf_v1"
#define SX_MAP_HOST_FLOWS "sx_hostflow_v1"

/*
 * An IP address of either family. IPv4 lives in addr[0] with the other
 * words zero, so one key layout serves both families and hashes cleanly.
 * Addresses are in network byte order.
 */
struct sx_ip {
	__u32 addr[4];
};

/* Key of sx_endpoints_v1: one pod address. */
struct sx_endpoint_key {
	__u8 family; /* SX_AF_INET or SX_AF_INET6 */
	__u8 pad[3];
	struct sx_ip ip;
};

/* An endpoint is a pod interface attached to this node. */
#define SX_EP_F_LOCAL (1U << 0) /* a pod of this node (always set for now) */

/*
 * ifindex 0: the pod is known to socket acceleration only (chained mode, or
 * wired by another plugin); the TC dataplane leaves its packets to the host.
 * An all-zero pod_mac means "any": the source MAC is not checked and
 * delivered frames keep their destination MAC.
 */
struct sx_endpoint {
	__u32 ifindex;     /* host-side veth with from_pod attached; 0 if none */
	__u8 pod_mac[6];   /* the pod interface's MAC */
	__u8 host_mac[6];  /* the host-side veth's MAC */
	__u32 flags;       /* SX_EP_F_* */
};

/*
 * Key of sx_tunnel_v1, an LPM trie of remote pod CIDRs. Both families share
 * the trie: an IPv4 CIDR is stored IPv4-mapped (::ffff:a.b.c.d/(96 + len)),
 * so a lookup needs no family switch. Address in network byte order.
 */
struct sx_cidr_key {
	__u32 prefixlen;
	struct sx_ip ip;
};

/* Value of sx_tunnel_v1: the node that owns the CIDR. */
struct sx_tunnel {
	__u32 node_ip4; /* the node's underlay IPv4 address, network byte order */
	__u32 flags;    /* reserved, 0 */
};

/*
 * sx_nodes_v1: underlay IPv4 address (network byte order) -> number of pod
 * CIDRs it owns in sx_tunnel_v1. VXLAN from any other address is dropped.
 */

/* sx_netconf_v1 has one element: how this node is wired. Written by load. */
struct sx_netconf {
	__u32 vxlan_ifindex;  /* the collect-metadata VXLAN device; 0: no overlay */
	__u32 vni;            /* the VXLAN network identifier of the cluster */
	__u32 router_ip4;     /* the node's own address in its pod CIDR (net order), or 0 */
	__u32 underlay_ip4;   /* the node's underlay address (net order) */
	struct sx_ip router_ip6; /* the node's own IPv6 pod-network address, or zero */
	__u64 netns_ino;      /* the network namespace load ran in: ifindexes are its own */
	__u16 vxlan_port;     /* UDP port, host byte order */
	__u16 pad;
	__u32 flags;          /* reserved, 0 */
};

/*
 * Key of sx_sockhash_v1: one TCP socket, seen from its own side. The peer
 * socket of the same connection has the reversed key (sx_sock_key_reverse),
 * which is what the sk_msg program redirects to. Ports are in host byte
 * order; addresses in network byte order.
 */
struct sx_sock_key {
	struct sx_ip local_ip;
	struct sx_ip remote_ip;
	__u16 local_port;
	__u16 remote_port;
	__u8 family;
	__u8 pad[3];
};

/*
 * One call of the drain program (bpf/sockops/drain.bpf.c), passed as the
 * packet of a BPF_PROG_RUN; its return value is an enum sx_drain_verdict.
 */
struct sx_drain_request {
	struct sx_sock_key key;
	__u32 force; /* remove the socket whatever it holds (unload --force) */
};

enum sx_drain_verdict {
	SX_DRAIN_REMOVED = 0, /* returned to plain TCP */
	SX_DRAIN_GONE = 1,    /* no longer in the sockhash (its connection closed) */
	SX_DRAIN_UNREAD = 2,  /* holds redirected bytes its application has not read */
	SX_DRAIN_RECENT = 3,  /* a redirect toward it may still be on its way */
	SX_DRAIN_FAILED = 4,  /* the delete failed */
};

/* sx_config_v1 has one element: the operator's switches. Zero is the default. */
struct sx_config {
	__u32 accel_disabled; /* operator: no new socket is accelerated, redirects stop */
	__u32 draining;       /* unload in progress: the same effect, cleared by load */
};

/*
 * State of one direction of an accelerated connection, in sx_dirstate_v1,
 * keyed by the sending socket's key. It enforces the invariant that keeps
 * redirection invisible to applications: each direction carries its bytes
 * on one path. A direction starts on the redirect path only if its first
 * message reaches the peer socket; once a byte went through TCP it never
 * switches back, because the receiver reads redirected bytes before its TCP
 * queue and would see them out of order. Moving from redirect to TCP is
 * always safe for the same reason.
 *
 * The map is shared (not socket-local storage) because the receiver changes
 * it too: it moves the direction that feeds it to TCP when it half-closes or
 * uses an API only TCP implements, and may then leave the sockhash.
 */
enum sx_tx_path {
	SX_TX_UNDECIDED = 0,
	SX_TX_REDIRECT = 1,
	SX_TX_TCP = 2,
};

struct sx_dir_state {
	__u32 path;     /* enum sx_tx_path; changed with atomic operations */
	__u32 attempts; /* redirects that succeeded or may be under way (sockops.bpf.c) */
	__u64 last_redirect_ns; /* when a redirect was last attempted (unload's grace period) */
};

/*
 * A flow the node's own stack routed into a pod or into the overlay, keyed
 * as its replies travel (source = the side the host sent to). Such a flow
 * may be translated by the host (a Service's DNAT, a hostPort): its replies
 * must pass the host's conntrack too, so the TC dataplane hands them to the
 * host instead of short-cutting them. Only TCP and UDP are tracked.
 */
struct sx_flow_key {
	struct sx_endpoint_key src;
	struct sx_endpoint_key dst;
	__u16 sport; /* network byte order */
	__u16 dport;
	__u8 proto;  /* IPPROTO_TCP or IPPROTO_UDP */
	__u8 pad[3];
};

/* Counters in sx_stats_v1 (per-CPU array); user space sums the CPUs. */
enum sx_counter {
	SX_CNT_SOCK_INSERTED = 0,   /* sockets put into the sockhash */
	SX_CNT_SOCK_INSERT_ERR,     /* sockhash insert failures (map full, ...) */
	SX_CNT_SOCK_SKIP_NOT_EP,    /* established sockets not between two endpoints */
	SX_CNT_SOCK_SKIP_EXCLUDED,  /* sockets on an excluded port */
	SX_CNT_SOCK_SKIP_DISABLED,  /* sockets seen while acceleration was off */
	SX_CNT_SOCK_SKIP_NO_PEER,   /* passive sockets whose peer is not accelerated */
	SX_CNT_MSG_REDIRECTED,      /* messages redirected to the peer socket */
	SX_CNT_BYTES_REDIRECTED,    /* bytes in those messages */
	SX_CNT_MSG_MISS,            /* messages whose peer socket was not in the map */
	SX_CNT_MSG_TCP,             /* messages sent through TCP on a TCP-bound direction */
	SX_CNT_BYTES_TCP,           /* bytes in those messages */
	SX_CNT_MSG_ERR,             /* redirect helper failures (then sent through TCP) */
	SX_CNT_DIR_FALLBACK,        /* directions bound to TCP for the connection's life */
	SX_CNT_DIR_API_TCP,         /* ... because the receiver set SO_RCVLOWAT or a ULP */
	SX_CNT_HANDSHAKE_WAIT,      /* first messages that waited for the peer's handshake */
	SX_CNT_SOCK_EJECTED,        /* sockets returned to plain TCP at their half-close */
	SX_CNT_EJECT_DEFERRED,      /* ... that stayed: their peer had redirected to them */
	/* TC dataplane: what happened to each packet. */
	SX_CNT_TC_LOCAL,            /* from a pod, redirected into a pod of this node */
	SX_CNT_TC_ENCAP,            /* from a pod, sent to a remote node through VXLAN */
	SX_CNT_TC_DECAP,            /* from VXLAN, delivered into a pod of this node */
	SX_CNT_TC_TO_HOST,          /* handed to the node's own stack */
	SX_CNT_TC_HOST_ENCAP,       /* from the node itself, sent through VXLAN */
	SX_CNT_TC_ARP_REPLIED,      /* ARP requests of pods answered with their veth's MAC */
	/* TC dataplane drops, one counter per reason. */
	SX_CNT_DROP_SPOOF_IP,       /* from a pod: source address is not that pod's */
	SX_CNT_DROP_SPOOF_MAC,      /* from a pod: source MAC is not that pod's */
	SX_CNT_DROP_MALFORMED,      /* truncated or invalid headers */
	SX_CNT_DROP_PROTO,          /* neither IPv4, IPv6 nor ARP (from a pod); not IP (VXLAN) */
	SX_CNT_DROP_VNI,            /* from VXLAN: not the cluster's VNI */
	SX_CNT_DROP_UNKNOWN_NODE,   /* from VXLAN: outer source is not a known node */
	SX_CNT_DROP_NODE_SPOOF,     /* from VXLAN: inner source outside the sender's pod CIDRs */
	SX_CNT_DROP_NO_ENDPOINT,    /* from VXLAN: destination is not on this node */
	SX_CNT_DROP_NO_ROUTE,       /* from the node into VXLAN: no node owns the destination */
	SX_CNT_DROP_TUNNEL_ERR,     /* the tunnel metadata could not be set or read */
	SX_CNT_TC_HOST_FLOW,        /* replies of host-routed flows handed to the host */
	SX_CNT_MAX,
};

/* Names for the counters, in enum order; used by sockvxctl stats. */
#define SX_COUNTER_NAMES                                                      \
	{                                                                     \
		"sockets_inserted", "socket_insert_errors",                   \
		"sockets_skipped_not_endpoint", "sockets_skipped_excluded_port", \
		"sockets_skipped_disabled", "sockets_skipped_no_peer",        \
		"messages_redirected", "bytes_redirected", "messages_missed", \
		"messages_tcp", "bytes_tcp", "redirect_errors",               \
		"directions_bound_to_tcp", "directions_tcp_for_api",          \
		"handshake_waits", "sockets_ejected", "ejects_skipped",      \
		"tc_local_delivered", "tc_encapsulated", "tc_decapsulated",   \
		"tc_to_host", "tc_host_encapsulated", "tc_arp_replied",       \
		"drop_spoofed_ip", "drop_spoofed_mac", "drop_malformed",      \
		"drop_unsupported_protocol", "drop_unknown_vni",              \
		"drop_unknown_node", "drop_node_spoofed_source",              \
		"drop_unknown_destination", "drop_no_tunnel_route",           \
		"drop_tunnel_error", "tc_host_flow_replies",                  \
	}

/* Map sizes. Named defaults so capacity is a visible, documented choice. */
/* Counter slots: room to add counters without changing the stats map's schema. */
#define SX_STATS_SLOTS    64
#define SX_MAX_ENDPOINTS  16384  /* pod addresses per node, both families */
#define SX_MAX_SOCKETS    131072 /* accelerated sockets (two per connection) */
#define SX_MAX_EXCL_PORTS 1024
/* Directions: two per accelerated connection. */
#define SX_MAX_DIRS       SX_MAX_SOCKETS
/* Active sockets whose passive peer has not been established yet. Entries are
 * consumed within one round trip; LRU eviction bounds the ones that never are. */
#define SX_MAX_ACTIVE     8192
/* Remote pod CIDRs: a few per node (IPv4 and IPv6); room for 5000-node clusters. */
#define SX_MAX_TUNNELS    16384
#define SX_MAX_NODES      8192
/* Host-routed flows (Service and hostPort connections of this node's pods):
 * LRU, so an idle flow left by a closed connection makes room for new ones. */
#define SX_MAX_HOST_FLOWS 65536

/* VXLAN defaults: the IANA port; VNI 1 as Flannel uses. IPv4 underlay overhead. */
#define SX_DEFAULT_VXLAN_PORT 4789
#define SX_DEFAULT_VNI        1
#define SX_VXLAN_OVERHEAD     50

#endif /* SOCKVX_ABI_H */
