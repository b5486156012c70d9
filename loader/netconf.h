/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A node's netconf (sx_netconf_v1): how and in which network namespace its
 * dataplane was loaded. Both sockvxctl and the CNI plugin use it.
 */
#ifndef SOCKVX_LOADER_NETCONF_H
#define SOCKVX_LOADER_NETCONF_H
#include "sockvx_abi.h"
/* The inode of this process's network namespace, 0 if unknown. */
__u64 sx_current_netns(void);
/*
 * The node's own pod-network addresses in the netconf, as endpoint keys;
 * family 0 for a family the node has none of.
 */
void sx_netconf_routers(const struct sx_netconf *nc, struct sx_endpoint_key *r4,
			struct sx_endpoint_key *r6);
/* Reads the node's netconf (zeroed when absent). 0 or -errno. */
int sx_netconf_read(const char *pin_dir, struct sx_netconf *nc);
/* Writes the node's netconf. 0 or -errno. */
int sx_netconf_write(const char *pin_dir, const struct sx_netconf *nc);
/* Does this process run in the namespace nc records (or does nc record none)? */
int sx_netconf_is_here(const struct sx_netconf *nc);
/* 0 if this process runs in the namespace the dataplane was loaded in, else -EXDEV (message printed). */
int sx_dataplane_same_netns(const char *pin_dir);
/* The same without a message. */
int sx_dataplane_same_netns_quiet(const char *pin_dir);
#endif
