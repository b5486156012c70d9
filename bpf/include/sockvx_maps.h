/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Every map sockvx pins, defined once. Maps are pinned by name under the
 * loader's pin directory (libbpf's pin_root_path), so every BPF object that
 * includes this header shares the same instances, and a reload reuses them.
 */
#ifndef SOCKVX_MAPS_H
#define SOCKVX_MAPS_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "sockvx_abi.h"

/* Pod addresses of this node: written by the CNI plugin / sockvxctl. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, SX_MAX_ENDPOINTS);
	__type(key, struct sx_endpoint_key);
	__type(value, struct sx_endpoint);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} sx_endpoints_v1 SEC(".maps");

/* Accelerated sockets; the sk_msg program is attached to this map. */
struct {
	__uint(type, BPF_MAP_TYPE_SOCKHASH);
	__uint(max_entries, SX_MAX_SOCKETS);
	__type(key, struct sx_sock_key);
	__type(value, __u64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} sx_sockhash_v1 SEC(".maps");

/* Per-direction path state, keyed by the sending socket (see sockvx_abi.h). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, SX_MAX_DIRS);
	__type(key, struct sx_sock_key);
	__type(value, struct sx_dir_state);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} sx_dirstate_v1 SEC(".maps");

/*
 * Keys of active (client-side) sockets just inserted, so that the passive
 * side can tell whether its peer is accelerated: a sockhash lookup from
 * sockops would return a referenced socket sockops cannot release.
 */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, SX_MAX_ACTIVE);
	__type(key, struct sx_sock_key);
	__type(value, __u8);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} sx_active_v1 SEC(".maps");

/* Operator switches; one element. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct sx_config);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} sx_config_v1 SEC(".maps");

/* Ports (either end) whose connections are never accelerated. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, SX_MAX_EXCL_PORTS);
	__type(key, __u16);
	__type(value, __u8);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} sx_exclport_v1 SEC(".maps");

/* Remote pod CIDRs -> owning node (LPM; written by sockvxctl node ...). */
struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, SX_MAX_TUNNELS);
	__uint(map_flags, BPF_F_NO_PREALLOC); /* required for LPM tries */
	__type(key, struct sx_cidr_key);
	__type(value, struct sx_tunnel);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} sx_tunnel_v1 SEC(".maps");

/* Known nodes: underlay IPv4 -> number of CIDRs they own. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, SX_MAX_NODES);
	__type(key, __u32);
	__type(value, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} sx_nodes_v1 SEC(".maps");

/* This node's wiring (VXLAN device, VNI, own addresses); one element. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct sx_netconf);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} sx_netconf_v1 SEC(".maps");

/* Flows the host routed into a pod or the overlay, keyed as their replies travel. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, SX_MAX_HOST_FLOWS);
	__type(key, struct sx_flow_key);
	__type(value, __u8);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} sx_hostflow_v1 SEC(".maps");

/* Counters (enum sx_counter), per CPU. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, SX_STATS_SLOTS);
	__type(key, __u32);
	__type(value, __u64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} sx_stats_v1 SEC(".maps");

static __always_inline void sx_count(__u32 id, __u64 n)
{
	__u64 *v = bpf_map_lookup_elem(&sx_stats_v1, &id);

	if (v)
		*v += n; /* per-CPU slot: no other writer */
}

static __always_inline int sx_accel_enabled(void)
{
	__u32 zero = 0;
	struct sx_config *c = bpf_map_lookup_elem(&sx_config_v1, &zero);

	return c && !c->accel_disabled && !c->draining;
}

#endif /* SOCKVX_MAPS_H */
