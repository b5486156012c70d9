// SPDX-License-Identifier: Apache-2.0
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <linux/if_addr.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/link/veth.h>
#include <netlink/route/neighbour.h>
#include <netlink/route/route.h>
#include "log.h"
#include "netns.h"
#include "parse.h"
#include "podlink.h"

void sx_podlink_host_name(const char *container_id, const char *ifname, char out[IF_NAMESIZE])
{
	/* FNV-1a over "id/ifname": stable across calls, so DEL finds the veth without state. */
	__u64 h = 0xcbf29ce484222325ULL;
	const char *parts[] = { container_id, "/", ifname };
	size_t i;
	const char *p;

	for (i = 0; i < 3; i++)
		for (p = parts[i]; *p; p++)
			h = (h ^ (unsigned char)*p) * 0x100000001b3ULL;
	snprintf(out, IF_NAMESIZE, "sx%012llx", (unsigned long long)(h & 0xffffffffffffULL));
}

static const int families[] = { SX_AF_INET, SX_AF_INET6 };

static void gateway_of(int family, struct sx_endpoint_key *gw)
{
	sx_parse_endpoint(family == SX_AF_INET ? SX_POD_GW4 : SX_POD_GW6, gw);
}

static int link_get(struct nl_sock *sk, const char *name, struct sx_link *out,
		    struct rtnl_link **keep)
{
	struct rtnl_link *l = NULL;
	int r = rtnl_link_get_kernel(sk, 0, name, &l);

	if (r)
		return sx_nl_errno(r);
	sx_link_fill(l, out);
	if (keep)
		*keep = l;
	else
		rtnl_link_put(l);
	return 0;
}

static int veth_create(struct nl_sock *sk, const struct sx_podlink_spec *s)
{
	struct rtnl_link *l = rtnl_link_veth_alloc(), *peer;
	int r;

	if (!l)
		return -ENOMEM;
	peer = rtnl_link_veth_get_peer(l);
	rtnl_link_set_name(l, s->host_name);
	rtnl_link_set_mtu(l, s->mtu);
	rtnl_link_set_flags(l, IFF_UP);
	rtnl_link_set_name(peer, s->ifname);
	rtnl_link_set_mtu(peer, s->mtu);
	rtnl_link_set_ns_fd(peer, s->netns_fd);
	r = rtnl_link_add(sk, l, NLM_F_CREATE | NLM_F_EXCL);
	if (r)
		pr_info("sockvx: creating veth %s: %s\n", s->host_name, nl_geterror(r));
	rtnl_link_put(peer);
	rtnl_link_put(l);
	return r ? sx_nl_errno(r) : 0;
}

static int link_up(struct nl_sock *sk, const char *name)
{
	struct rtnl_link *l = NULL, *change = rtnl_link_alloc();
	int r = change ? rtnl_link_get_kernel(sk, 0, name, &l) : -NLE_NOMEM;

	if (!r) {
		rtnl_link_set_flags(change, IFF_UP);
		r = rtnl_link_change(sk, l, change, 0);
	}
	if (l)
		rtnl_link_put(l);
	if (change)
		rtnl_link_put(change);
	return r ? sx_nl_errno(r) : 0;
}

static int addr_add(struct nl_sock *sk, int ifindex, const struct sx_endpoint_key *k, int prefixlen)
{
	struct rtnl_addr *a = rtnl_addr_alloc();
	struct nl_addr *local = sx_nl_addr(k, prefixlen);
	int r = -ENOMEM;

	if (a && local) {
		rtnl_addr_set_ifindex(a, ifindex);
		rtnl_addr_set_local(a, local);
		/* The addresses are ours alone: no duplicate detection delay. */
		rtnl_addr_set_flags(a, IFA_F_NODAD | IFA_F_NOPREFIXROUTE);
		r = rtnl_addr_add(sk, a, 0);
		r = r ? sx_nl_errno(r) : 0;
	}
	if (local)
		nl_addr_put(local);
	if (a)
		rtnl_addr_put(a);
	return r;
}

/* dst/len through ifindex, via gw when given (scope link without one). */
static int route_add(struct nl_sock *sk, const struct sx_endpoint_key *dst, int len, int ifindex,
		     const struct sx_endpoint_key *gw)
{
	struct rtnl_route *rt = rtnl_route_alloc();
	struct rtnl_nexthop *nh = rtnl_route_nh_alloc();
	struct nl_addr *d = sx_nl_addr(dst, len), *g = gw ? sx_nl_addr(gw, gw->family == SX_AF_INET ? 32 : 128) : NULL;
	int r = -ENOMEM;

	if (!rt || !nh || !d || (gw && !g))
		goto out;
	rtnl_route_set_family(rt, dst->family == SX_AF_INET ? AF_INET : AF_INET6);
	rtnl_route_set_table(rt, RT_TABLE_MAIN);
	rtnl_route_set_protocol(rt, SX_RTPROT);
	rtnl_route_set_scope(rt, gw ? RT_SCOPE_UNIVERSE : RT_SCOPE_LINK);
	rtnl_route_set_type(rt, RTN_UNICAST);
	rtnl_route_set_dst(rt, d);
	rtnl_route_nh_set_ifindex(nh, ifindex);
	if (g)
		rtnl_route_nh_set_gateway(nh, g);
	rtnl_route_add_nexthop(rt, nh);
	nh = NULL; /* the route owns it */
	r = rtnl_route_add(sk, rt, NLM_F_CREATE | NLM_F_REPLACE);
	r = r ? sx_nl_errno(r) : 0;
out:
	if (nh)
		rtnl_route_nh_free(nh);
	if (d)
		nl_addr_put(d);
	if (g)
		nl_addr_put(g);
	if (rt)
		rtnl_route_put(rt);
	return r;
}

static int neigh_add(struct nl_sock *sk, int ifindex, const struct sx_endpoint_key *ip, const __u8 mac[6])
{
	struct rtnl_neigh *n = rtnl_neigh_alloc();
	struct nl_addr *dst = sx_nl_addr(ip, ip->family == SX_AF_INET ? 32 : 128);
	struct nl_addr *ll = nl_addr_build(AF_LLC, mac, 6);
	int r = -ENOMEM;

	if (n && dst && ll) {
		rtnl_neigh_set_ifindex(n, ifindex);
		rtnl_neigh_set_dst(n, dst);
		rtnl_neigh_set_lladdr(n, ll);
		rtnl_neigh_set_state(n, NUD_PERMANENT);
		r = rtnl_neigh_add(sk, n, NLM_F_CREATE | NLM_F_REPLACE);
		r = r ? sx_nl_errno(r) : 0;
	}
	if (ll)
		nl_addr_put(ll);
	if (dst)
		nl_addr_put(dst);
	if (n)
		rtnl_neigh_put(n);
	return r;
}

static int has_family(const struct sx_cni_result *ipam, int family)
{
	int i;

	for (i = 0; i < ipam->n_ips; i++)
		if (ipam->ips[i].addr.family == family)
			return 1;
	return 0;
}

/*
 * The routes the pod gets for one family: the IPAM plugin's, all through the
 * pod's gateway (the host end is the only neighbour), or a default route.
 */
static void plan_routes(const struct sx_cni_result *ipam, int family, struct sx_cni_result *res)
{
	struct sx_endpoint_key gw;
	int i, n = 0;

	gateway_of(family, &gw);
	for (i = 0; i < ipam->n_routes && res->n_routes < SX_CNI_MAX_ROUTES; i++) {
		if (ipam->routes[i].dst.family != family)
			continue;
		res->routes[res->n_routes] = ipam->routes[i];
		res->routes[res->n_routes].has_gw = true;
		res->routes[res->n_routes++].gw = gw;
		n++;
	}
	if (!n && res->n_routes < SX_CNI_MAX_ROUTES) {
		struct sx_cni_route *rt = &res->routes[res->n_routes++];

		memset(rt, 0, sizeof(*rt));
		rt->dst.family = (__u8)family;
		rt->prefixlen = 0;
		rt->has_gw = true;
		rt->gw = gw;
	}
}

/* The host end: a route and a static neighbour entry per pod address, and fe80::1 for IPv6. */
static int configure_host(struct nl_sock *sk, const struct sx_link *host, const struct sx_link *pod,
			  const struct sx_cni_result *res, const char **step)
{
	struct sx_endpoint_key gw6;
	int i, r;

	if (has_family(res, SX_AF_INET6)) {
		*step = "the host end's fe80::1";
		gateway_of(SX_AF_INET6, &gw6);
		r = addr_add(sk, host->ifindex, &gw6, 64);
		if (r && r != -EEXIST)
			return r;
	}
	for (i = 0; i < res->n_ips; i++) {
		const struct sx_endpoint_key *ip = &res->ips[i].addr;

		*step = "a host route to the pod";
		r = route_add(sk, ip, ip->family == SX_AF_INET ? 32 : 128, host->ifindex, NULL);
		if (!r) {
			*step = "a host neighbour entry for the pod";
			r = neigh_add(sk, host->ifindex, ip, pod->mac);
		}
		if (r)
			return r;
	}
	return 0;
}

/* The pod end, inside the pod's namespace: addresses, gateways, routes. */
static int configure_pod(const struct sx_podlink_spec *s, const struct sx_link *host,
			 struct sx_link *pod, const struct sx_cni_result *res, const char **step)
{
	struct nl_sock *sk;
	int home, r, i, f;

	*step = "entering the pod's network namespace";
	r = sx_netns_enter(s->netns_fd, &home);
	if (r)
		return r;
	*step = "rtnetlink in the pod";
	sk = sx_nl_open(&r);
	if (!sk)
		goto out;
	*step = "the pod's interface";
	/* Up from inside: the kernel refuses IFF_UP for a peer created in another namespace. */
	r = link_up(sk, s->ifname);
	if (!r)
		r = link_get(sk, s->ifname, pod, NULL);
	for (i = 0; !r && i < res->n_ips; i++) {
		*step = "a pod address";
		r = addr_add(sk, pod->ifindex, &res->ips[i].addr, res->ips[i].prefixlen);
	}
	for (f = 0; !r && f < 2; f++) {
		int fam = families[f];
		struct sx_endpoint_key gw;

		if (!has_family(res, fam))
			continue;
		gateway_of(fam, &gw);
		*step = "the pod's gateway neighbour entry";
		r = neigh_add(sk, pod->ifindex, &gw, host->mac);
		/* IPv4 needs an on-link route to its link-local gateway; IPv6's is on-link by nature. */
		if (!r && fam == SX_AF_INET) {
			*step = "the pod's route to its gateway";
			r = route_add(sk, &gw, 32, pod->ifindex, NULL);
		}
	}
	for (i = 0; !r && i < res->n_routes; i++) {
		*step = "a pod route";
		r = route_add(sk, &res->routes[i].dst, res->routes[i].prefixlen, pod->ifindex,
			      &res->routes[i].gw);
	}
	nl_socket_free(sk);
out:
	sx_netns_leave(home);
	return r;
}

/* What the pod gets: IPAM's addresses as host routes (/32, /128) behind the link-local gateway. */
static void plan_result(const struct sx_cni_result *ipam, struct sx_cni_result *res)
{
	int i, f;

	memset(res, 0, sizeof(*res));
	for (i = 0; i < ipam->n_ips; i++) {
		struct sx_cni_ip *ip = &res->ips[res->n_ips++];

		ip->addr = ipam->ips[i].addr;
		ip->prefixlen = ip->addr.family == SX_AF_INET ? 32 : 128;
		ip->has_gateway = true;
		gateway_of(ip->addr.family, &ip->gateway);
		ip->iface = 1; /* the pod end, after the host end */
	}
	for (f = 0; f < 2; f++)
		if (has_family(ipam, families[f]))
			plan_routes(ipam, families[f], res);
	res->dns = ipam->dns ? json_incref(ipam->dns) : NULL;
}

static void fill_ifaces(const struct sx_podlink_spec *s, const struct sx_link *host,
			const struct sx_link *pod, struct sx_cni_result *res)
{
	const struct sx_link *links[2] = { host, pod };
	int i;

	res->n_ifaces = 2;
	for (i = 0; i < 2; i++) {
		struct sx_cni_iface *f = &res->ifaces[i];
		const __u8 *m = links[i]->mac;

		snprintf(f->name, sizeof(f->name), "%s", links[i]->name);
		snprintf(f->mac, sizeof(f->mac), "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2],
			 m[3], m[4], m[5]);
		f->mtu = links[i]->mtu;
	}
	snprintf(res->ifaces[1].sandbox, sizeof(res->ifaces[1].sandbox), "%s", s->netns);
}

int sx_podlink_create(const struct sx_podlink_spec *s, const struct sx_cni_result *ipam,
		      struct sx_link *host, struct sx_link *pod, struct sx_cni_result *res,
		      struct sx_cni_error *err)
{
	const char *step = "rtnetlink";
	struct nl_sock *sk;
	int r;

	plan_result(ipam, res);
	sk = sx_nl_open(&r);
	if (!sk)
		return sx_cni_fail(err, SX_CNI_E_LINK, "cannot configure the pod's interface",
				   "rtnetlink: %s", strerror(-r));
	if (!link_get(sk, s->host_name, host, NULL)) {
		nl_socket_free(sk);
		return sx_cni_fail(err, SX_CNI_E_EXISTS, "the pod's host interface already exists",
				   "%s is there: this container and interface are attached already "
				   "(a second ADD needs a DEL first)", s->host_name);
	}
	r = veth_create(sk, s);
	if (r) {
		nl_socket_free(sk);
		if (r == -EEXIST)
			return sx_cni_fail(err, SX_CNI_E_EXISTS, "the interface already exists in the pod",
					   "%s exists in %s", s->ifname, s->netns);
		return sx_cni_fail(err, SX_CNI_E_LINK, "cannot create the pod's veth pair",
				   "%s/%s: %s", s->host_name, s->ifname, strerror(-r));
	}
	step = "the host end";
	r = link_get(sk, s->host_name, host, NULL);
	if (!r)
		r = configure_pod(s, host, pod, res, &step);
	if (!r)
		r = configure_host(sk, host, pod, res, &step);
	if (r) {
		sx_cni_fail(err, SX_CNI_E_LINK, "cannot configure the pod's interface", "%s: %s", step,
			    strerror(-r));
		sx_podlink_delete(s->host_name);
	} else {
		fill_ifaces(s, host, pod, res);
	}
	nl_socket_free(sk);
	return r ? err->code : 0;
}

int sx_podlink_delete(const char *host_name)
{
	struct rtnl_link *l = NULL;
	struct sx_link link;
	struct nl_sock *sk;
	const char *type;
	int r;

	sk = sx_nl_open(&r);
	if (!sk)
		return r;
	r = link_get(sk, host_name, &link, &l);
	if (r == -ENODEV) {
		r = 0;
	} else if (!r) {
		type = rtnl_link_get_type(l);
		/* Only a veth: a name clash with anything else is not ours to delete. */
		if (type && !strcmp(type, "veth")) {
			r = rtnl_link_delete(sk, l);
			r = r == -NLE_NODEV || r == -NLE_OBJ_NOTFOUND ? 0 : (r ? sx_nl_errno(r) : 0);
		} else {
			pr_warn("sockvx: %s is not a veth; left alone\n", host_name);
		}
		rtnl_link_put(l);
	}
	nl_socket_free(sk);
	return r;
}

/* Is the address (exact prefix) on ifindex? */
static int addr_present(struct nl_cache *addrs, int ifindex, const struct sx_cni_ip *ip)
{
	struct nl_object *o;

	for (o = nl_cache_get_first(addrs); o; o = nl_cache_get_next(o)) {
		struct rtnl_addr *a = (struct rtnl_addr *)o;
		struct nl_addr *local = rtnl_addr_get_local(a);
		size_t len = ip->addr.family == SX_AF_INET ? 4 : 16;

		if (rtnl_addr_get_ifindex(a) == ifindex && local && nl_addr_get_len(local) == len &&
		    !memcmp(nl_addr_get_binary_addr(local), ip->addr.ip.addr, len) &&
		    rtnl_addr_get_prefixlen(a) == ip->prefixlen)
			return 1;
	}
	return 0;
}

static int check_inside(const struct sx_podlink_spec *s, const struct sx_cni_result *want,
			char *why, size_t len)
{
	struct nl_cache *addrs = NULL;
	struct rtnl_link *l = NULL;
	struct sx_link pod = { 0 };
	struct nl_sock *sk;
	int r, i;
	char ip[64];

	sk = sx_nl_open(&r);
	if (!sk)
		return snprintf(why, len, "rtnetlink in the pod: %s", strerror(-r));
	if (link_get(sk, s->ifname, &pod, &l)) {
		snprintf(why, len, "%s is missing in %s", s->ifname, s->netns);
		goto out;
	}
	if (!(rtnl_link_get_flags(l) & IFF_UP))
		snprintf(why, len, "%s is down", s->ifname);
	else if (s->mtu && pod.mtu != s->mtu)
		snprintf(why, len, "%s has MTU %u, expected %u", s->ifname, pod.mtu, s->mtu);
	if (*why)
		goto out;
	r = rtnl_addr_alloc_cache(sk, &addrs);
	if (r) {
		snprintf(why, len, "cannot list the pod's addresses: %s", nl_geterror(r));
		goto out;
	}
	for (i = 0; i < want->n_ips; i++) {
		if (want->ips[i].iface >= 0 && want->ips[i].iface < want->n_ifaces &&
		    strcmp(want->ifaces[want->ips[i].iface].name, s->ifname))
			continue; /* an address of another interface */
		if (!addr_present(addrs, pod.ifindex, &want->ips[i])) {
			snprintf(why, len, "%s lacks %s/%d", s->ifname,
				 sx_format_endpoint(&want->ips[i].addr, ip, sizeof(ip)),
				 want->ips[i].prefixlen);
			break;
		}
	}
	for (i = 0; !*why && i < want->n_ifaces; i++)
		if (!strcmp(want->ifaces[i].name, s->ifname) && *want->ifaces[i].mac) {
			__u8 mac[6];

			if (!sx_parse_mac(want->ifaces[i].mac, mac) && memcmp(mac, pod.mac, 6))
				snprintf(why, len, "%s has another MAC than %s", s->ifname,
					 want->ifaces[i].mac);
		}
out:
	if (addrs)
		nl_cache_free(addrs);
	if (l)
		rtnl_link_put(l);
	nl_socket_free(sk);
	return (int)strlen(why);
}

int sx_podlink_check(const struct sx_podlink_spec *s, const struct sx_cni_result *want,
		     struct sx_cni_error *err)
{
	char why[512] = "";
	int home, r;

	r = sx_netns_enter(s->netns_fd, &home);
	if (r)
		return sx_cni_fail(err, SX_CNI_E_DRIFT, "cannot check the pod's interface",
				   "entering %s: %s", s->netns, strerror(-r));
	check_inside(s, want, why, sizeof(why));
	sx_netns_leave(home);
	if (*why)
		return sx_cni_fail(err, SX_CNI_E_DRIFT, "the pod's networking differs from its ADD result",
				   "%s", why);
	return 0;
}
