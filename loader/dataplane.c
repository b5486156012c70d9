// SPDX-License-Identifier: Apache-2.0
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "dataplane.h"
#include "dataplane.skel.h"
#include "endpoint_map.h"
#include "log.h"
#include "netdev.h"
#include "nodes.h"
#include "parse.h"
#include "pins.h"
#include "pod_progs.h"
#include "tc.h"

int sx_parse_pod_cidrs(const char *text, struct sx_endpoint_key *router4,
		       struct sx_endpoint_key *router6)
{
	char buf[128], *part, *save = NULL;
	struct sx_endpoint_key *out;
	struct sx_cidr_key c;
	int v4;

	memset(router4, 0, sizeof(*router4));
	memset(router6, 0, sizeof(*router6));
	if (!text || snprintf(buf, sizeof(buf), "%s", text) >= (int)sizeof(buf))
		return -EINVAL;
	for (part = strtok_r(buf, ",", &save); part; part = strtok_r(NULL, ",", &save)) {
		if (sx_parse_cidr(part, &c))
			return -EINVAL;
		v4 = sx_cidr_is_ipv4(&c);
		out = v4 ? router4 : router6;
		/* One per family, and room for the node's address besides the network's. */
		if (out->family || c.prefixlen > 126)
			return -EINVAL;
		out->family = v4 ? SX_AF_INET : SX_AF_INET6;
		if (v4) {
			out->ip.addr[0] = htonl(ntohl(c.ip.addr[3]) + 1);
		} else {
			out->ip = c.ip;
			out->ip.addr[3] = htonl(ntohl(c.ip.addr[3]) + 1);
		}
	}
	return router4->family || router6->family ? 0 : -EINVAL;
}

/*
 * Calls fn for the host veth of every wired endpoint. A dual-stack pod has
 * two endpoints on one veth, so fn sees it twice: every fn is idempotent.
 * Returns the first error.
 */
struct ifindex_visit {
	int (*fn)(int ifindex, void *arg);
	void *arg;
};

static int visit_wired(const struct sx_endpoint_key *key, const struct sx_endpoint *ep, void *v)
{
	const struct ifindex_visit *iv = v;

	return ep->ifindex ? iv->fn((int)ep->ifindex, iv->arg) : 0;
}

static int for_each_wired_ifindex(const char *pin_dir, int (*fn)(int ifindex, void *arg),
				  void *arg)
{
	struct ifindex_visit iv = { .fn = fn, .arg = arg };
	int fd, r;

	fd = sx_pin_open(pin_dir, SX_MAP_ENDPOINTS, 1);
	if (fd == -ENOENT)
		return 0;
	if (fd < 0)
		return fd;
	r = sx_endpoint_map_walk(fd, visit_wired, &iv);
	close(fd);
	return r;
}

/* Wires one veth with the struct sx_pod_progs in arg. */
static int attach_pod_progs(int ifindex, void *arg)
{
	int r = sx_pod_progs_attach(ifindex, arg);

	/* The pod may be gone while its endpoint waits for the CNI DEL. */
	return r == -ENODEV ? 0 : r;
}

/* Detaches every veth it is given; the first error is kept in *arg, not returned, so the walk goes on. */
static int detach_pod_progs(int ifindex, void *arg)
{
	int *first_err = arg, r = sx_pod_progs_detach(ifindex);

	if (r && !*first_err)
		*first_err = r;
	return 0;
}

/*
 * Puts the node's pod-network addresses on the VXLAN device: those given to
 * this load (o, may be NULL), else those of the netconf. A device created or
 * recreated by a load without --pod-cidr needs them back: they are the
 * source of the routes to other nodes' pod CIDRs.
 */
static int add_router_addrs(int ifindex, const struct sx_overlay_opts *o,
			    const struct sx_netconf *nc)
{
	struct sx_endpoint_key r4, r6;
	int r = 0;

	sx_netconf_routers(nc, &r4, &r6);
	if (o && o->router4.family)
		r4 = o->router4;
	if (o && o->router6.family)
		r6 = o->router6;
	if (r4.family)
		r = sx_addr_add(ifindex, &r4);
	if (!r && r6.family)
		r = sx_addr_add(ifindex, &r6);
	return r;
}

/*
 * A load with another --pod-cidr gave the device the node's new addresses,
 * and the routes to other nodes use them now: the old ones go.
 */
static void drop_old_router_addrs(int ifindex, const struct sx_netconf *was,
				  const struct sx_netconf *now)
{
	struct sx_endpoint_key o[2], n[2];
	int i;

	sx_netconf_routers(was, &o[0], &o[1]);
	sx_netconf_routers(now, &n[0], &n[1]);
	/* A failure is reported and left: the load itself has succeeded. */
	for (i = 0; i < 2; i++)
		if (o[i].family && memcmp(&o[i], &n[i], sizeof(o[i])))
			sx_addr_del(ifindex, &o[i]);
}

/*
 * An upgrade that fails part-way puts the earlier load's programs back where
 * it may have replaced them: they are still pinned, since the pins are
 * replaced only once every attachment succeeded. The netconf is written back
 * too. A VXLAN device this load created (there was none) is deleted by the
 * caller; one it replaced (replaced_ifindex: a new port or underlay) stays,
 * gets the earlier programs, the node's addresses and its routes, and the
 * netconf describes it, but the load must run again to finish.
 */
static void restore_previous(const char *pin_dir, const struct sx_netconf *old,
			     const struct sx_netconf *now, bool created, int replaced_ifindex)
{
	struct sx_netconf put = *old;
	struct sx_pod_progs pp;
	int r = 0, step, vx = (int)old->vxlan_ifindex;

	/* Every step is tried whatever failed before it; the first error is reported. */
	if (replaced_ifindex) {
		vx = replaced_ifindex;
		put.vxlan_ifindex = (__u32)replaced_ifindex;
		put.vxlan_port = now->vxlan_port;
		put.underlay_ip4 = now->underlay_ip4;
	}
	if (!created && vx) {
		step = sx_tc_attach_pinned(vx, BPF_TC_INGRESS, pin_dir, SX_PIN_PROG_FROM_OVERLAY);
		r = r ? r : step;
		step = sx_tc_attach_pinned(vx, BPF_TC_EGRESS, pin_dir, SX_PIN_PROG_TO_OVERLAY);
		r = r ? r : step;
	}
	if (replaced_ifindex) {
		step = add_router_addrs(vx, NULL, &put);
		r = r ? r : step;
	}
	step = sx_pod_progs_open(pin_dir, &pp);
	if (!step) {
		step = for_each_wired_ifindex(pin_dir, attach_pod_progs, &pp);
		sx_pod_progs_close(&pp);
	}
	r = r ? r : step;
	/* from_pod sends to the device the netconf names: it must name the live one. */
	step = sx_netconf_write(pin_dir, &put);
	r = r ? r : step;
	/* A replaced device lost the routes of the old one. */
	if (!step && replaced_ifindex) {
		step = sx_node_routes_install(pin_dir, &put);
		r = r ? r : step;
	}
	if (r)
		pr_warn("sockvxctl: the earlier tc programs could not all be put back (%s): "
			"load again to finish the upgrade\n", strerror(-r));
	else if (replaced_ifindex && now->vxlan_port == old->vxlan_port &&
		 now->underlay_ip4 == old->underlay_ip4)
		pr_warn("sockvxctl: the earlier tc programs are back, on %s recreated with its earlier settings\n",
			SX_VXLAN_DEV);
	else if (replaced_ifindex)
		pr_warn("sockvxctl: the earlier tc programs are back, on a VXLAN device recreated with the new settings: "
			"load again to finish the upgrade\n");
	else
		pr_warn("sockvxctl: the earlier tc programs are back in place\n");
}

/*
 * The overlay part of a load: the device, its addresses and programs, the
 * netconf. *created: there was no device before; *replaced_ifindex: the
 * earlier load's device was replaced by one with other settings (its ifindex).
 */
static int overlay_setup(const char *pin_dir, const struct sx_overlay_opts *o,
			 struct dataplane_bpf *skel, struct sx_netconf *nc, bool *created,
			 int *replaced_ifindex)
{
	struct sx_vxlan_spec spec = { 0 };
	struct sx_link underlay, vx;
	int r;

	*created = false;
	*replaced_ifindex = 0;
	if (o->underlay) {
		r = sx_link_get(o->underlay, 0, &underlay);
		if (r) {
			pr_warn("sockvxctl: underlay interface %s: %s\n", o->underlay,
				r == -ENODEV ? "no such interface in this network namespace" :
					       strerror(-r));
			return r;
		}
		r = sx_link_ipv4(underlay.ifindex, &spec.local_ip4);
		if (r) {
			pr_warn("sockvxctl: underlay interface %s has no IPv4 address\n",
				o->underlay);
			return r;
		}
		if (underlay.mtu <= SX_VXLAN_OVERHEAD + 576) {
			pr_warn("sockvxctl: underlay MTU %u leaves no room for VXLAN\n", underlay.mtu);
			return -EINVAL;
		}
		spec.underlay_ifindex = underlay.ifindex;
		spec.port = o->port_set ? o->port : nc->vxlan_port ? nc->vxlan_port :
								      SX_DEFAULT_VXLAN_PORT;
		spec.mtu = underlay.mtu - SX_VXLAN_OVERHEAD;
		*created = sx_link_get(SX_VXLAN_DEV, 0, &vx) == -ENODEV;
		r = sx_vxlan_ensure(&spec, &vx);
		/* Recreated: with the new settings, or with the old ones when the new failed. */
		if (!*created && nc->vxlan_ifindex && (__u32)vx.ifindex != nc->vxlan_ifindex)
			*replaced_ifindex = vx.ifindex;
		if (r)
			return r;
		nc->underlay_ip4 = spec.local_ip4;
		nc->vxlan_port = spec.port;
	} else {
		/* A reload keeps the overlay of the first load; the device must still be there. */
		r = sx_link_get(NULL, (int)nc->vxlan_ifindex, &vx);
		if (r || strcmp(vx.name, SX_VXLAN_DEV)) {
			pr_warn("sockvxctl: the VXLAN device of the earlier load is gone; "
				"load again with --underlay\n");
			return -ENODEV;
		}
	}
	r = add_router_addrs(vx.ifindex, o, nc);
	if (r)
		return r;
	r = sx_tc_attach(vx.ifindex, BPF_TC_INGRESS, bpf_program__fd(skel->progs.sx_from_overlay));
	if (!r)
		r = sx_tc_attach(vx.ifindex, BPF_TC_EGRESS,
				 bpf_program__fd(skel->progs.sx_to_overlay));
	if (r)
		return r;
	nc->vxlan_ifindex = (__u32)vx.ifindex;
	nc->vni = o->vni_set ? o->vni : nc->vni ? nc->vni : SX_DEFAULT_VNI;
	if (o->router4.family)
		nc->router_ip4 = o->router4.ip.addr[0];
	if (o->router6.family)
		nc->router_ip6 = o->router6.ip;
	return 0;
}

int sx_dataplane_load(const char *pin_dir, const struct sx_overlay_opts *o)
{
	LIBBPF_OPTS(bpf_object_open_opts, open_opts, .pin_root_path = pin_dir);
	struct dataplane_bpf *skel;
	struct sx_netconf nc, before;
	bool created = false, upgrade;
	int replaced_ifindex = 0;
	struct sx_pod_progs pp;
	int r;

	r = sx_netconf_read(pin_dir, &nc);
	if (r)
		return r;
	before = nc;
	/* An earlier load's programs are pinned: this load replaces them. */
	upgrade = sx_pin_exists(pin_dir, SX_PIN_PROG_FROM_POD);
	if (!sx_netconf_is_here(&nc))
		return sx_dataplane_same_netns(pin_dir);
	skel = dataplane_bpf__open_opts(&open_opts);
	if (!skel) {
		r = -errno;
		pr_warn("sockvxctl: cannot open the tc programs: %s\n", strerror(-r));
		return r;
	}
	r = dataplane_bpf__load(skel);
	if (r) {
		pr_warn("sockvxctl: cannot load the tc programs: %s\n", strerror(-r));
		goto out;
	}
	nc.netns_ino = sx_current_netns();
	if (o->underlay || nc.vxlan_ifindex) {
		r = overlay_setup(pin_dir, o, skel, &nc, &created, &replaced_ifindex);
		if (r)
			goto out;
	}
	r = sx_netconf_write(pin_dir, &nc);
	if (r) {
		pr_warn("sockvxctl: cannot write the node's network configuration: %s\n",
			strerror(-r));
		goto out;
	}
	/* A recreated device lost its routes; routes of unchanged devices are replaced as they are. */
	if (nc.vxlan_ifindex && (r = sx_node_routes_install(pin_dir, &nc)))
		goto out;
	pp.from_pod_fd = bpf_program__fd(skel->progs.sx_from_pod);
	pp.to_pod_fd = bpf_program__fd(skel->progs.sx_to_pod);
	r = for_each_wired_ifindex(pin_dir, attach_pod_progs, &pp);
	if (!r)
		r = sx_pin_replace(pp.from_pod_fd, pin_dir, SX_PIN_PROG_FROM_POD);
	if (!r)
		r = sx_pin_replace(pp.to_pod_fd, pin_dir, SX_PIN_PROG_TO_POD);
	if (!r)
		r = sx_pin_replace(bpf_program__fd(skel->progs.sx_from_overlay), pin_dir,
				   SX_PIN_PROG_FROM_OVERLAY);
	if (!r)
		r = sx_pin_replace(bpf_program__fd(skel->progs.sx_to_overlay), pin_dir,
				   SX_PIN_PROG_TO_OVERLAY);
	if (r)
		pr_warn("sockvxctl: cannot attach or pin the tc programs: %s\n", strerror(-r));
	else if (nc.vxlan_ifindex)
		pr_info("overlay: %s, VNI %u, UDP port %u\n", SX_VXLAN_DEV, nc.vni, nc.vxlan_port);
	if (!r && nc.vxlan_ifindex)
		drop_old_router_addrs((int)nc.vxlan_ifindex, &before, &nc);
out:
	if (r && created)
		sx_vxlan_delete();
	if (r && upgrade)
		restore_previous(pin_dir, &before, &nc, created, replaced_ifindex);
	dataplane_bpf__destroy(skel);
	return r;
}

int sx_dataplane_unload(const char *pin_dir, bool force)
{
	struct sx_netconf nc;
	int r, detach_err = 0;

	r = sx_netconf_read(pin_dir, &nc);
	if (r)
		return r;
	if (!sx_netconf_is_here(&nc)) {
		if (!force)
			return sx_dataplane_same_netns(pin_dir);
		pr_warn("sockvxctl: loaded in another network namespace: its VXLAN device and tc filters stay there "
			"(deleting that namespace removes them)\n");
		return 0;
	}
	r = for_each_wired_ifindex(pin_dir, detach_pod_progs, &detach_err);
	if (!r)
		r = detach_err;
	if (r)
		pr_warn("sockvxctl: cannot detach from_pod and to_pod from every pod interface: %s\n",
			strerror(-r));
	/* Pods whose from_pod stays attached still reach other nodes, until a retry finishes. */
	if (r && !force)
		return r;
	if (nc.vxlan_ifindex) {
		/* Its routes, addresses and tc filters go with it. */
		int vr = sx_vxlan_delete();

		if (vr)
			pr_warn("sockvxctl: cannot delete %s: %s\n", SX_VXLAN_DEV, strerror(-vr));
		r = r ? r : vr;
	}
	return r;
}
