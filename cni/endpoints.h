/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The node's side of a pod: its addresses in the pinned endpoint map, which
 * both dataplanes read, and from_pod on its host veth (main mode).
 */
#ifndef SOCKVX_CNI_ENDPOINTS_H
#define SOCKVX_CNI_ENDPOINTS_H

#include <stdbool.h>
#include <stddef.h>
#include "error.h"
#include "sockvx_abi.h"

/*
 * Is sockvx loaded in pin_dir, with what the mode needs (main mode: the tc
 * programs, loaded in this network namespace)? 0, or -ENOENT/-EXDEV with the
 * reason in why; -EACCES when the caller may not see the pins at all.
 */
int sx_cni_node_ready(const char *pin_dir, bool main_mode, char *why, size_t len);
/*
 * Registers the addresses with one value, replacing stale entries; all or
 * none. Main mode (ep->ifindex set) then attaches from_pod to the host veth;
 * the entries go first, as from_pod drops a source it does not know.
 */
int sx_cni_endpoints_add(const char *pin_dir, const struct sx_endpoint_key *keys, int n,
			 const struct sx_endpoint *ep, struct sx_cni_error *err);
/*
 * Removes those of the addresses whose entry is still this attachment's
 * (wired to ifindex; 0 for socket-only): an address reused by another pod
 * since is left alone. A missing map (sockvx unloaded) is not an error.
 */
void sx_cni_endpoints_del(const char *pin_dir, const struct sx_endpoint_key *keys, int n,
			  __u32 ifindex);
/* Removes every entry wired to ifindex (DEL with no record and no prevResult). */
void sx_cni_endpoints_del_wired(const char *pin_dir, __u32 ifindex);
/*
 * CHECK: every address has the expected entry and, in main mode, from_pod
 * is what the host veth runs. 0 or SX_CNI_E_DRIFT.
 */
int sx_cni_endpoints_check(const char *pin_dir, const struct sx_endpoint_key *keys, int n,
			   const struct sx_endpoint *ep, struct sx_cni_error *err);

#endif
