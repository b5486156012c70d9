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

struct sx_endpoint {
	__u32 ifindex;     /* host-side veth; 0 until the TC dataplane wires it */
	__u8 pod_mac[6];   /* the pod interface's MAC */
	__u8 host_mac[6];  /* the host-side veth's MAC */
	__u32 flags;       /* SX_EP_F_* */
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
	__u64 last_redirect_ns; /* when a redirect was last decided (unload's grace period) */
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

#endif /* SOCKVX_ABI_H */
