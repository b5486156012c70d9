// SPDX-License-Identifier: Apache-2.0
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <string.h>
#include <unistd.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/link/vxlan.h>
#include <netlink/route/route.h>
#include "log.h"
#include "netdev.h"
#include "parse.h"

int sx_nl_errno(int nlerr)
{
	switch (-nlerr) {
	case NLE_EXIST:
		return -EEXIST;
	case NLE_OBJ_NOTFOUND:
	case NLE_NODEV:
		return -ENODEV;
	case NLE_PERM:
		return -EPERM;
	case NLE_NOMEM:
		return -ENOMEM;
	case NLE_INVAL:
		return -EINVAL;
	case NLE_BUSY:
		return -EBUSY;
	case NLE_NOADDR:
		return -EADDRNOTAVAIL;
	}
	return -EIO;
}

struct nl_sock *sx_nl_open(int *r)
{
	struct nl_sock *sk = nl_socket_alloc();

	if (!sk) {
		*r = -ENOMEM;
		return NULL;
	}
	*r = nl_connect(sk, NETLINK_ROUTE);
	if (*r) {
		pr_warn("sockvxctl: rtnetlink: %s\n", nl_geterror(*r));
		*r = sx_nl_errno(*r);
		nl_socket_free(sk);
		return NULL;
	}
	return sk;
}

void sx_link_fill(struct rtnl_link *l, struct sx_link *out)
{
	struct nl_addr *a = rtnl_link_get_addr(l);

	memset(out, 0, sizeof(*out));
	out->ifindex = rtnl_link_get_ifindex(l);
	snprintf(out->name, sizeof(out->name), "%s", rtnl_link_get_name(l));
	out->mtu = rtnl_link_get_mtu(l);
	if (a && nl_addr_get_len(a) == 6)
		memcpy(out->mac, nl_addr_get_binary_addr(a), 6);
}

static int link_get(struct nl_sock *sk, const char *name, int ifindex, struct rtnl_link **l)
{
	int r = rtnl_link_get_kernel(sk, ifindex, name, l);

	return r ? sx_nl_errno(r) : 0;
}

int sx_link_get(const char *name, int ifindex, struct sx_link *out)
{
	struct rtnl_link *l = NULL;
	struct nl_sock *sk;
	int r;

	sk = sx_nl_open(&r);
	if (!sk)
		return r;
	r = link_get(sk, name, ifindex, &l);
	if (!r) {
		sx_link_fill(l, out);
		rtnl_link_put(l);
	}
	nl_socket_free(sk);
	return r;
}

int sx_link_ipv4(int ifindex, __u32 *ip4)
{
	struct nl_cache *cache = NULL;
	struct nl_object *o;
	struct nl_sock *sk;
	int r;

	sk = sx_nl_open(&r);
	if (!sk)
		return r;
	r = rtnl_addr_alloc_cache(sk, &cache);
	if (r) {
		r = sx_nl_errno(r);
		goto out;
	}
	r = -EADDRNOTAVAIL;
	for (o = nl_cache_get_first(cache); o; o = nl_cache_get_next(o)) {
		struct rtnl_addr *a = (struct rtnl_addr *)o;
		struct nl_addr *local = rtnl_addr_get_local(a);

		if (rtnl_addr_get_ifindex(a) != ifindex || rtnl_addr_get_family(a) != AF_INET ||
		    !local || nl_addr_get_len(local) != 4)
			continue;
		memcpy(ip4, nl_addr_get_binary_addr(local), 4);
		r = 0;
		break;
	}
	nl_cache_free(cache);
out:
	nl_socket_free(sk);
	return r;
}

/*
 * Loose reverse-path filtering on the device: a node answers a pod of this
 * node from its underlay address through its own route to the pod's CIDR,
 * so the answer comes in here while the route back to its source leaves
 * through the underlay; strict filtering (rp_filter=1, on by default on some
 * distributions) would drop it. The kernel applies the larger of "all" and
 * the device's value, so 2 here is loose whatever "all" says.
 */
static int vxlan_loose_rp_filter(void)
{
	static const char path[] = "/proc/sys/net/ipv4/conf/" SX_VXLAN_DEV "/rp_filter";
	int fd = open(path, O_WRONLY | O_CLOEXEC), r = 0;

	if (fd < 0 || write(fd, "2", 1) != 1)
		r = -errno;
	if (fd >= 0)
		close(fd);
	if (r)
		pr_warn("sockvxctl: cannot set %s: %s\n", path, strerror(-r));
	return r;
}

/* The spec an existing sockvx device was created with. */
static void vxlan_spec_of(struct rtnl_link *l, struct sx_vxlan_spec *s)
{
	struct nl_addr *local = NULL;
	uint32_t port = 0, dev = 0;

	memset(s, 0, sizeof(*s));
	rtnl_link_vxlan_get_port(l, &port);
	rtnl_link_vxlan_get_link(l, &dev);
	rtnl_link_vxlan_get_local(l, &local);
	if (local && nl_addr_get_len(local) == 4)
		memcpy(&s->local_ip4, nl_addr_get_binary_addr(local), 4);
	if (local)
		nl_addr_put(local);
	s->port = (__u16)port;
	s->underlay_ifindex = (int)dev;
	s->mtu = rtnl_link_get_mtu(l);
}

/* Does an existing link look like the device sockvx creates with this spec? */
static int vxlan_matches(struct rtnl_link *l, const struct sx_vxlan_spec *s)
{
	struct sx_vxlan_spec have;

	if (!rtnl_link_is_vxlan(l) || rtnl_link_vxlan_get_collect_metadata(l) != 1)
		return -1; /* not ours */
	vxlan_spec_of(l, &have);
	return have.port == s->port && have.underlay_ifindex == s->underlay_ifindex &&
	       have.local_ip4 == s->local_ip4;
}

static int vxlan_create(struct nl_sock *sk, const struct sx_vxlan_spec *s)
{
	struct rtnl_link *l = rtnl_link_vxlan_alloc();
	struct nl_addr *local;
	int r;

	if (!l)
		return -ENOMEM;
	local = nl_addr_build(AF_INET, &s->local_ip4, 4);
	if (!local) {
		rtnl_link_put(l);
		return -ENOMEM;
	}
	rtnl_link_set_name(l, SX_VXLAN_DEV);
	/* External (collect-metadata): the tc programs set VNI and remote per packet. */
	rtnl_link_vxlan_set_collect_metadata(l, 1);
	rtnl_link_vxlan_set_port(l, s->port);
	rtnl_link_vxlan_set_link(l, (uint32_t)s->underlay_ifindex);
	rtnl_link_vxlan_set_local(l, local);
	rtnl_link_vxlan_set_learning(l, 0);
	rtnl_link_set_mtu(l, s->mtu);
	/* NOARP: routed traffic needs no neighbour resolution; the programs handle MACs. */
	rtnl_link_set_flags(l, IFF_UP | IFF_NOARP);
	r = rtnl_link_add(sk, l, NLM_F_CREATE | NLM_F_EXCL);
	if (r)
		pr_warn("sockvxctl: cannot create %s: %s\n", SX_VXLAN_DEV, nl_geterror(r));
	nl_addr_put(local);
	rtnl_link_put(l);
	return r ? sx_nl_errno(r) : 0;
}

/* Brings an existing device to the spec's MTU and flags. */
static int vxlan_refresh(struct nl_sock *sk, struct rtnl_link *old, const struct sx_vxlan_spec *s)
{
	struct rtnl_link *change = rtnl_link_alloc();
	int r;

	if (!change)
		return -ENOMEM;
	rtnl_link_set_mtu(change, s->mtu);
	rtnl_link_set_flags(change, IFF_UP | IFF_NOARP);
	r = rtnl_link_change(sk, old, change, 0);
	rtnl_link_put(change);
	if (r)
		pr_warn("sockvxctl: cannot update %s: %s\n", SX_VXLAN_DEV, nl_geterror(r));
	return r ? sx_nl_errno(r) : 0;
}

int sx_vxlan_ensure(const struct sx_vxlan_spec *spec, struct sx_link *out)
{
	struct rtnl_link *l = NULL;
	struct sx_vxlan_spec was;
	bool restored = false;
	struct nl_sock *sk;
	int r, rp, match;

	sk = sx_nl_open(&r);
	if (!sk)
		return r;
	r = link_get(sk, SX_VXLAN_DEV, 0, &l);
	if (!r) {
		match = vxlan_matches(l, spec);
		if (match < 0) {
			pr_warn("sockvxctl: a device named %s exists and is not a collect-metadata VXLAN device; "
				"remove or rename it\n",
				SX_VXLAN_DEV);
			r = -EEXIST;
		} else if (match) {
			r = vxlan_refresh(sk, l, spec);
		} else {
			/* Another port or underlay: the kernel cannot change those in place. */
			pr_info("%s: settings changed, recreating it\n", SX_VXLAN_DEV);
			vxlan_spec_of(l, &was);
			r = rtnl_link_delete(sk, l);
			if (r) {
				r = sx_nl_errno(r);
			} else if ((r = vxlan_create(sk, spec)) && !vxlan_create(sk, &was)) {
				/* The node keeps an overlay: the new settings failed, the old ones are back. */
				pr_warn("sockvxctl: %s is back with its earlier settings\n",
					SX_VXLAN_DEV);
				restored = true;
			}
		}
		rtnl_link_put(l);
		l = NULL;
	} else if (r == -ENODEV) {
		r = vxlan_create(sk, spec);
	}
	/* out describes the device there is now, also when the old one came back. */
	if ((!r || restored) && !link_get(sk, SX_VXLAN_DEV, 0, &l)) {
		sx_link_fill(l, out);
		rtnl_link_put(l);
		rp = vxlan_loose_rp_filter();
		r = r ? r : rp;
	} else if (!r) {
		r = -ENODEV;
	}
	nl_socket_free(sk);
	return r;
}

int sx_vxlan_delete(void)
{
	struct rtnl_link *l = NULL;
	struct nl_sock *sk;
	int r;

	sk = sx_nl_open(&r);
	if (!sk)
		return r;
	r = link_get(sk, SX_VXLAN_DEV, 0, &l);
	if (r == -ENODEV) {
		r = 0;
	} else if (!r) {
		if (rtnl_link_is_vxlan(l) && rtnl_link_vxlan_get_collect_metadata(l) == 1) {
			r = rtnl_link_delete(sk, l);
			r = r ? sx_nl_errno(r) : 0;
		} else {
			pr_warn("sockvxctl: %s is not sockvx's VXLAN device; left alone\n",
				SX_VXLAN_DEV);
		}
		rtnl_link_put(l);
	}
	nl_socket_free(sk);
	return r;
}

struct nl_addr *sx_nl_addr(const struct sx_endpoint_key *k, int prefixlen)
{
	struct nl_addr *a;

	if (k->family == SX_AF_INET)
		a = nl_addr_build(AF_INET, &k->ip.addr[0], 4);
	else
		a = nl_addr_build(AF_INET6, k->ip.addr, 16);
	if (a)
		nl_addr_set_prefixlen(a, prefixlen);
	return a;
}

/* Adds (add) or removes a host address (/32 or /128) of an interface. */
static int addr_set(int ifindex, const struct sx_endpoint_key *addr, bool add)
{
	struct rtnl_addr *a = rtnl_addr_alloc();
	struct nl_addr *local;
	struct nl_sock *sk;
	int r;

	if (!a)
		return -ENOMEM;
	local = sx_nl_addr(addr, addr->family == SX_AF_INET ? 32 : 128);
	sk = local ? sx_nl_open(&r) : NULL;
	if (!sk) {
		r = local ? r : -ENOMEM;
		goto out;
	}
	rtnl_addr_set_ifindex(a, ifindex);
	rtnl_addr_set_local(a, local);
	if (add) {
		rtnl_addr_set_flags(a, IFA_F_NODAD | IFA_F_NOPREFIXROUTE);
		r = rtnl_addr_add(sk, a, NLM_F_REPLACE);
		if (r == -NLE_EXIST)
			r = 0;
	} else {
		r = rtnl_addr_delete(sk, a, 0);
		/* Gone already (or never there) is what was asked for. */
		if (r == -NLE_NOADDR || r == -NLE_OBJ_NOTFOUND)
			r = 0;
	}
	if (r)
		pr_warn("sockvxctl: cannot %s an address of interface %d: %s\n",
			add ? "add" : "remove", ifindex, nl_geterror(r));
	r = r ? sx_nl_errno(r) : 0;
	nl_socket_free(sk);
out:
	if (local)
		nl_addr_put(local);
	rtnl_addr_put(a);
	return r;
}

int sx_addr_add(int ifindex, const struct sx_endpoint_key *addr)
{
	return addr_set(ifindex, addr, true);
}

int sx_addr_del(int ifindex, const struct sx_endpoint_key *addr)
{
	return addr_set(ifindex, addr, false);
}

int sx_route_set(const struct sx_cidr_key *cidr, int vxlan_ifindex, const struct sx_ip *src,
		 int add)
{
	struct sx_endpoint_key dst = { 0 }, pref = { 0 };
	struct nl_addr *dst_addr = NULL, *src_addr = NULL;
	struct rtnl_route *route = rtnl_route_alloc();
	struct rtnl_nexthop *nh = rtnl_route_nh_alloc();
	struct nl_sock *sk = NULL;
	int r = -ENOMEM, v4;

	if (!route || !nh)
		goto out;
	/* The trie stores IPv4 mapped into IPv6 (sockvx_abi.h). */
	v4 = sx_cidr_is_ipv4(cidr);
	dst.family = v4 ? SX_AF_INET : SX_AF_INET6;
	if (v4)
		dst.ip.addr[0] = cidr->ip.addr[3];
	else
		dst.ip = cidr->ip;
	dst_addr = sx_nl_addr(&dst, (int)cidr->prefixlen - (v4 ? 96 : 0));
	if (!dst_addr)
		goto out;
	if (src && (v4 ? src->addr[0] : (src->addr[0] | src->addr[1] | src->addr[2] | src->addr[3]))) {
		pref.family = dst.family;
		pref.ip = *src;
		src_addr = sx_nl_addr(&pref, v4 ? 32 : 128);
	}
	rtnl_route_set_family(route, v4 ? AF_INET : AF_INET6);
	rtnl_route_set_table(route, RT_TABLE_MAIN);
	rtnl_route_set_protocol(route, SX_RTPROT);
	rtnl_route_set_scope(route, RT_SCOPE_LINK);
	rtnl_route_set_type(route, RTN_UNICAST);
	rtnl_route_set_dst(route, dst_addr);
	if (src_addr)
		rtnl_route_set_pref_src(route, src_addr);
	rtnl_route_nh_set_ifindex(nh, vxlan_ifindex);
	rtnl_route_add_nexthop(route, nh);
	nh = NULL; /* the route owns it now */
	sk = sx_nl_open(&r);
	if (!sk)
		goto out;
	if (add) {
		r = rtnl_route_add(sk, route, NLM_F_CREATE | NLM_F_REPLACE);
	} else {
		r = rtnl_route_delete(sk, route, 0);
		if (r == -NLE_OBJ_NOTFOUND || r == -NLE_NOADDR)
			r = 0; /* already gone */
	}
	if (r)
		pr_warn("sockvxctl: cannot %s the route to a pod CIDR: %s\n", add ? "add" : "remove",
			nl_geterror(r));
	r = r ? sx_nl_errno(r) : 0;
out:
	if (nh)
		rtnl_route_nh_free(nh);
	if (dst_addr)
		nl_addr_put(dst_addr);
	if (src_addr)
		nl_addr_put(src_addr);
	if (route)
		rtnl_route_put(route);
	if (sk)
		nl_socket_free(sk);
	return r;
}
