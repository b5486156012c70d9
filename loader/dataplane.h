/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The TC dataplane's life on a node: its programs (loaded, pinned, replaced
 * in place on reload), the collect-metadata VXLAN device with the node's
 * pod-network addresses, and from_pod and to_pod on every wired pod veth.
 *
 * Interfaces belong to a network namespace while pins do not, so the
 * namespace of the first load is recorded (sx_netconf.netns_ino) and every
 * command that touches interfaces must run in it.
 */
#ifndef SOCKVX_LOADER_DATAPLANE_H
#define SOCKVX_LOADER_DATAPLANE_H

#include <stdbool.h>
#include "netconf.h"
#include "sockvx_abi.h"

struct sx_overlay_opts {
	const char *underlay;  /* NULL: keep the overlay of an earlier load, if any */
	__u32 vni;             /* used when vni_set */
	__u16 port;            /* used when port_set */
	bool vni_set, port_set;
	/* The node's own pod CIDRs (from --pod-cidr); family 0 when not given. */
	struct sx_endpoint_key router4, router6; /* their first host address */
};

/*
 * Loads and pins the tc programs, sets up or updates the overlay, and
 * (re)attaches from_pod and to_pod to every wired endpoint's veth. On failure, a VXLAN device
 * this call created is deleted again. 0 or -errno.
 */
int sx_dataplane_load(const char *pin_dir, const struct sx_overlay_opts *o);
/*
 * Detaches from_pod and to_pod from the wired endpoints and deletes the VXLAN device.
 * In another namespace than the load's, it refuses (-EXDEV) unless force,
 * which skips the interfaces (they go away with their namespace).
 */
int sx_dataplane_unload(const char *pin_dir, bool force);
/*
 * Parses --pod-cidr "CIDR[,CIDR6]" (at most one per family) into the node's
 * own pod-network addresses: the first host address of each CIDR, which the
 * VXLAN device carries. family stays 0 for a family not given. 0 or -EINVAL.
 */
int sx_parse_pod_cidrs(const char *text, struct sx_endpoint_key *router4,
		       struct sx_endpoint_key *router6);

#endif
