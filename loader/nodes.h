/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The node table: remote pod CIDRs -> the node that owns them, in the tunnel
 * trie (sx_tunnel_v1), the set of known nodes (sx_nodes_v1, derived from the
 * trie), and one route per CIDR through the VXLAN device for the node's own
 * traffic to remote pods.
 */
#ifndef SOCKVX_NODES_H
#define SOCKVX_NODES_H

#include "sockvx_abi.h"

int sx_node_add(const char *pin_dir, const char *cidr, const char *node_ip);
int sx_node_del(const char *pin_dir, int argc, char **argv);
int sx_node_list(const char *pin_dir, int json);
/*
 * Makes the table equal to a Kubernetes NodeList read from path ("-": stdin),
 * skipping this node (its underlay address, or node_name when not NULL).
 * Malformed input changes nothing.
 */
int sx_node_sync(const char *pin_dir, const char *path, const char *node_name);
/* Installs the route of every CIDR in the table (after the device was (re)created). */
int sx_node_routes_install(const char *pin_dir, const struct sx_netconf *nc);

#endif
