// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "parse.h"
#include "result.h"
#include "version.h"

static int invalid(char *why, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int invalid(char *why, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, len, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static int parse_ifaces(json_t *list, struct sx_cni_result *res, char *why, size_t len)
{
	json_t *it, *name, *mac, *sandbox;
	size_t i;

	if (!list)
		return 0;
	if (!json_is_array(list))
		return invalid(why, len, "\"interfaces\" must be an array");
	json_array_foreach(list, i, it) {
		struct sx_cni_iface *f;

		if (res->n_ifaces == SX_CNI_MAX_IFACES)
			return invalid(why, len, "more than %d interfaces", SX_CNI_MAX_IFACES);
		name = json_object_get(it, "name");
		mac = json_object_get(it, "mac");
		sandbox = json_object_get(it, "sandbox");
		if (!json_is_object(it) || !json_is_string(name) || (mac && !json_is_string(mac)) ||
		    (sandbox && !json_is_string(sandbox)))
			return invalid(why, len, "interfaces[%zu] needs a string name (mac and sandbox are strings)", i);
		/* Too long is refused, never cut: a cut can split a character or forge a MAC. */
		if (strlen(json_string_value(name)) >= sizeof(f->name) ||
		    (mac && strlen(json_string_value(mac)) >= sizeof(f->mac)) ||
		    (sandbox && strlen(json_string_value(sandbox)) >= sizeof(f->sandbox)))
			return invalid(why, len, "interfaces[%zu] has a name, mac or sandbox that is too long", i);
		f = &res->ifaces[res->n_ifaces++];
		snprintf(f->name, sizeof(f->name), "%s", json_string_value(name));
		snprintf(f->mac, sizeof(f->mac), "%s", mac ? json_string_value(mac) : "");
		snprintf(f->sandbox, sizeof(f->sandbox), "%s", sandbox ? json_string_value(sandbox) : "");
	}
	return 0;
}

static int parse_addr(json_t *v, struct sx_endpoint_key *key)
{
	return json_is_string(v) ? sx_parse_endpoint(json_string_value(v), key) : -EINVAL;
}

static int parse_ips(json_t *list, struct sx_cni_result *res, char *why, size_t len)
{
	json_t *it, *gw, *iface, *ver;
	size_t i;

	if (!list)
		return 0;
	if (!json_is_array(list))
		return invalid(why, len, "\"ips\" must be an array");
	json_array_foreach(list, i, it) {
		struct sx_cni_ip *ip;
		json_t *addr = json_object_get(it, "address");

		if (res->n_ips == SX_CNI_MAX_IPS)
			return invalid(why, len, "more than %d addresses", SX_CNI_MAX_IPS);
		ip = &res->ips[res->n_ips++];
		if (!json_is_object(it) || !json_is_string(addr) ||
		    sx_parse_ip_prefix(json_string_value(addr), &ip->addr, &ip->prefixlen))
			return invalid(why, len, "ips[%zu] needs an \"address\" such as 10.1.2.3/24", i);
		/* Results before 1.0.0 name the family; when one does, it must be the address's. */
		ver = json_object_get(it, "version");
		if (ver && !(json_is_string(ver) &&
			     !strcmp(json_string_value(ver), ip->addr.family == SX_AF_INET ? "4" : "6")))
			return invalid(why, len, "ips[%zu].version does not match its address", i);
		gw = json_object_get(it, "gateway");
		ip->has_gateway = gw != NULL;
		if (gw && (parse_addr(gw, &ip->gateway) || ip->gateway.family != ip->addr.family))
			return invalid(why, len, "ips[%zu].gateway is not an address of the same family", i);
		iface = json_object_get(it, "interface");
		ip->iface = -1;
		if (iface && (!json_is_integer(iface) || json_integer_value(iface) < 0 ||
			      json_integer_value(iface) >= res->n_ifaces))
			return invalid(why, len, "ips[%zu].interface is not an index into interfaces", i);
		if (iface)
			ip->iface = (int)json_integer_value(iface);
	}
	return 0;
}

static int parse_routes(json_t *list, struct sx_cni_result *res, char *why, size_t len)
{
	json_t *it, *dst, *gw;
	size_t i;

	if (!list)
		return 0;
	if (!json_is_array(list))
		return invalid(why, len, "\"routes\" must be an array");
	json_array_foreach(list, i, it) {
		struct sx_cni_route *rt;

		if (res->n_routes == SX_CNI_MAX_ROUTES)
			return invalid(why, len, "more than %d routes", SX_CNI_MAX_ROUTES);
		rt = &res->routes[res->n_routes++];
		dst = json_object_get(it, "dst");
		if (!json_is_object(it) || !json_is_string(dst) ||
		    sx_parse_ip_prefix(json_string_value(dst), &rt->dst, &rt->prefixlen))
			return invalid(why, len, "routes[%zu] needs a \"dst\" such as 0.0.0.0/0", i);
		gw = json_object_get(it, "gw");
		rt->has_gw = gw != NULL;
		if (gw && (parse_addr(gw, &rt->gw) || rt->gw.family != rt->dst.family))
			return invalid(why, len, "routes[%zu].gw is not an address of the same family", i);
	}
	return 0;
}

int sx_cni_result_parse(json_t *obj, struct sx_cni_result *res, char *why, size_t len)
{
	json_t *dns;
	int r;

	memset(res, 0, sizeof(*res));
	if (!json_is_object(obj))
		return invalid(why, len, "a result must be a JSON object");
	/* Interfaces first: ips refer to them by index. */
	r = parse_ifaces(json_object_get(obj, "interfaces"), res, why, len);
	if (!r)
		r = parse_ips(json_object_get(obj, "ips"), res, why, len);
	if (!r)
		r = parse_routes(json_object_get(obj, "routes"), res, why, len);
	if (r)
		return r;
	dns = json_object_get(obj, "dns");
	if (dns && !json_is_object(dns))
		return invalid(why, len, "\"dns\" must be an object");
	res->dns = dns ? json_incref(dns) : NULL;
	return 0;
}

void sx_cni_result_free(struct sx_cni_result *res)
{
	if (res->dns)
		json_decref(res->dns);
	res->dns = NULL;
}

static json_t *prefix_string(const struct sx_endpoint_key *k, int prefixlen)
{
	char ip[64], text[80];

	sx_format_endpoint(k, ip, sizeof(ip));
	snprintf(text, sizeof(text), "%s/%d", ip, prefixlen);
	return json_string(text);
}

static json_t *addr_string(const struct sx_endpoint_key *k)
{
	char ip[64];

	return json_string(sx_format_endpoint(k, ip, sizeof(ip)));
}

json_t *sx_cni_result_build(const struct sx_cni_result *res, int version, const char *version_text)
{
	json_t *out = json_object(), *ifaces = json_array(), *ips = json_array(),
	       *routes = json_array();
	int i;

	if (!out || !ifaces || !ips || !routes) {
		json_decref(out);
		json_decref(ifaces);
		json_decref(ips);
		json_decref(routes);
		return NULL;
	}
	json_object_set_new(out, "cniVersion", json_string(version_text));
	for (i = 0; i < res->n_ifaces; i++) {
		const struct sx_cni_iface *f = &res->ifaces[i];
		json_t *o = json_object();

		json_object_set_new(o, "name", json_string(f->name));
		if (*f->mac)
			json_object_set_new(o, "mac", json_string(f->mac));
		/* The interface MTU joined the result in 1.1.0. */
		if (f->mtu && version >= SX_CNI_V(1, 1, 0))
			json_object_set_new(o, "mtu", json_integer(f->mtu));
		if (*f->sandbox)
			json_object_set_new(o, "sandbox", json_string(f->sandbox));
		json_array_append_new(ifaces, o);
	}
	for (i = 0; i < res->n_ips; i++) {
		const struct sx_cni_ip *ip = &res->ips[i];
		json_t *o = json_object();

		/* Before 1.0.0 each address said its family. */
		if (version < SX_CNI_V(1, 0, 0))
			json_object_set_new(o, "version",
					    json_string(ip->addr.family == SX_AF_INET ? "4" : "6"));
		json_object_set_new(o, "address", prefix_string(&ip->addr, ip->prefixlen));
		if (ip->has_gateway)
			json_object_set_new(o, "gateway", addr_string(&ip->gateway));
		if (ip->iface >= 0)
			json_object_set_new(o, "interface", json_integer(ip->iface));
		json_array_append_new(ips, o);
	}
	for (i = 0; i < res->n_routes; i++) {
		const struct sx_cni_route *rt = &res->routes[i];
		json_t *o = json_object();

		json_object_set_new(o, "dst", prefix_string(&rt->dst, rt->prefixlen));
		if (rt->has_gw)
			json_object_set_new(o, "gw", addr_string(&rt->gw));
		json_array_append_new(routes, o);
	}
	json_object_set_new(out, "interfaces", ifaces);
	json_object_set_new(out, "ips", ips);
	json_object_set_new(out, "routes", routes);
	json_object_set_new(out, "dns", res->dns ? json_incref(res->dns) : json_object());
	return out;
}

/* Whether interfaces[index] of a result is in a sandbox (has a non-empty "sandbox"). */
static int iface_in_sandbox(json_t *ifaces, json_int_t index, int *in_sandbox)
{
	json_t *f, *sandbox;

	if (!json_is_array(ifaces) || index < 0 || (size_t)index >= json_array_size(ifaces))
		return -EINVAL;
	f = json_array_get(ifaces, (size_t)index);
	sandbox = json_is_object(f) ? json_object_get(f, "sandbox") : NULL;
	if (sandbox && !json_is_string(sandbox))
		return -EINVAL;
	*in_sandbox = sandbox && *json_string_value(sandbox);
	return 0;
}

int sx_cni_result_sandbox_addrs(json_t *obj, struct sx_endpoint_key *keys, int max, char *why,
				size_t len)
{
	json_t *ifaces, *ips, *it, *addr, *iface;
	struct sx_endpoint_key key;
	int n = 0, in_sandbox, prefixlen;
	size_t i;

	if (!json_is_object(obj))
		return invalid(why, len, "a result must be a JSON object");
	ifaces = json_object_get(obj, "interfaces");
	ips = json_object_get(obj, "ips");
	if (!ips)
		return 0;
	if (!json_is_array(ips))
		return invalid(why, len, "\"ips\" must be an array");
	json_array_foreach(ips, i, it) {
		addr = json_object_get(it, "address");
		if (!json_is_object(it) || !json_is_string(addr) ||
		    sx_parse_ip_prefix(json_string_value(addr), &key, &prefixlen))
			return invalid(why, len, "ips[%zu] needs an \"address\" such as 10.1.2.3/24", i);
		iface = json_object_get(it, "interface");
		/* Without an interface index the address is the container's (IPAM-style result). */
		in_sandbox = 1;
		if (iface && (!json_is_integer(iface) ||
			      iface_in_sandbox(ifaces, json_integer_value(iface), &in_sandbox)))
			return invalid(why, len, "ips[%zu].interface is not an index into interfaces", i);
		if (!in_sandbox)
			continue;
		if (n == max)
			return invalid(why, len, "more than %d container addresses", max);
		keys[n++] = key;
	}
	return n;
}
