/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The pod's interface in main mode: a veth pair whose pod end is CNI_IFNAME in
 * the pod's namespace and whose host end carries the tc program. The pod sees
 * a routed point-to-point link: its addresses as /32 and /128, a link-local
 * gateway with a static neighbour entry for the host end's MAC, so no ARP or
 * neighbour discovery leaves the pod for the gateway. The host end has a
 * route and a static neighbour entry for each pod address.
 */
#ifndef SOCKVX_CNI_PODLINK_H
#define SOCKVX_CNI_PODLINK_H

#include "error.h"
#include "netdev.h"
#include "result.h"

/* The pod's gateways: link-local, the same in every pod, never a real host. */
#define SX_POD_GW4 "169.254.1.1"
#define SX_POD_GW6 "fe80::1"

struct sx_podlink_spec {
	const char *host_name; /* from sx_podlink_host_name */
	const char *ifname;    /* CNI_IFNAME */
	int netns_fd;	       /* the pod's namespace */
	const char *netns;     /* its path, for the result */
	unsigned int mtu;
};

/*
 * Creates and configures the pair for the addresses in ipam (and its routes,
 * through the pod's gateway; a family without routes gets a default route).
 * Fills res with what the pod got: interfaces (host end, pod end), addresses,
 * gateways and routes. On failure nothing is left behind. Codes: SX_CNI_E_EXISTS
 * (host end or CNI_IFNAME in the pod exists), SX_CNI_E_LINK.
 */
int sx_podlink_create(const struct sx_podlink_spec *spec, const struct sx_cni_result *ipam,
		      struct sx_link *host, struct sx_link *pod, struct sx_cni_result *res,
		      struct sx_cni_error *err);
/* Deletes the host end (the pod end goes with it). 0 also when it is gone; -errno. */
int sx_podlink_delete(const char *host_name);
/* The host end's name: "sx" and 12 hex digits of a hash of the container ID and ifname. */
void sx_podlink_host_name(const char *container_id, const char *ifname, char out[IF_NAMESIZE]);
/*
 * Compares the pod end with an expected result (CHECK): link up, MTU, MAC,
 * every address of it. 0, or SX_CNI_E_DRIFT with the
 * difference in err. Runs in the host namespace; enters the pod's.
 */
int sx_podlink_check(const struct sx_podlink_spec *spec, const struct sx_cni_result *expected,
		     struct sx_cni_error *err);

#endif
