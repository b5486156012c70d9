/* SPDX-License-Identifier: Apache-2.0 */
/*
 * rtnetlink through libnl-route: the node's VXLAN device, its addresses, the
 * routes to remote pod CIDRs, and facts about interfaces. Everything acts on
 * the caller's network namespace. Functions return 0 or -errno.
 */
#ifndef SOCKVX_NETDEV_H
#define SOCKVX_NETDEV_H

#include <net/if.h>
#include "sockvx_abi.h"

/* The VXLAN device's name in every node's namespace. */
#define SX_VXLAN_DEV "sockvx_vxlan"
/* Routes sockvx installs carry this protocol number, so they are told from others'. */
#define SX_RTPROT 92

struct sx_link {
	int ifindex;
	char name[IF_NAMESIZE];
	__u8 mac[6];
	__u32 mtu;
};

struct sx_vxlan_spec {
	int underlay_ifindex;
	__u32 local_ip4; /* network byte order */
	__u16 port;
	__u32 mtu;
};

struct nl_sock;
struct nl_addr;
struct rtnl_link;

/* A connected rtnetlink socket in the caller's namespace; NULL with *r = -errno. */
struct nl_sock *sx_nl_open(int *r);
/* libnl reports NLE_* codes; callers work with errno values. */
int sx_nl_errno(int nlerr);
/* An address of either family as libnl's nl_addr with a prefix length; NULL if out of memory. */
struct nl_addr *sx_nl_addr(const struct sx_endpoint_key *k, int prefixlen);

/* Copies what sockvx needs of a libnl link (index, name, MTU, MAC). */
void sx_link_fill(struct rtnl_link *l, struct sx_link *out);

/* Resolves an interface by name (ifindex 0) or index. -ENODEV if absent. */
int sx_link_get(const char *name, int ifindex, struct sx_link *out);
/* The first IPv4 address on an interface (network order); -EADDRNOTAVAIL if none. */
int sx_link_ipv4(int ifindex, __u32 *ip4);
/*
 * Creates the collect-metadata VXLAN device, or reuses one that matches the
 * spec. A sockvx device with other settings is recreated; any other device
 * with the name is left alone and is an error (-EEXIST).
 */
int sx_vxlan_ensure(const struct sx_vxlan_spec *spec, struct sx_link *out);
/* Deletes the VXLAN device if it is sockvx's; absent is not an error. */
int sx_vxlan_delete(void);
/* Adds a host address (/32 or /128, no DAD, no prefix route) to an interface. */
int sx_addr_add(int ifindex, const struct sx_endpoint_key *addr);
/* Removes a host address (/32 or /128) from an interface; absent is not an error. */
int sx_addr_del(int ifindex, const struct sx_endpoint_key *addr);
/*
 * Adds (add != 0) or removes the route to a remote pod CIDR through the VXLAN
 * device, with the node's own pod-network address as source when nonzero.
 */
int sx_route_set(const struct sx_cidr_key *cidr, int vxlan_ifindex, const struct sx_ip *src,
		 int add);

#endif
