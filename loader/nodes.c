// SPDX-License-Identifier: Apache-2.0
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <cjson/cJSON.h>
#include "dataplane.h"
#include "endpoint_map.h"
#include "log.h"
#include "netdev.h"
#include "nodelist.h"
#include "nodes.h"
#include "json_out.h"
#include "parse.h"
#include "pins.h"
#include "sysenv.h"

/* Largest NodeList read: about 20 KiB a node for 5000 nodes, with room to spare. */
#define SX_NODELIST_MAX (256u << 20)

/* What every change to the table needs at hand. */
struct node_table {
	const char *pin_dir;
	int tunnel_fd;
	struct sx_netconf nc;
	int routes; /* the overlay lives in this namespace: keep routes in step */
};

static void table_close(struct node_table *t)
{
	if (t->tunnel_fd >= 0)
		close(t->tunnel_fd);
	t->tunnel_fd = -1;
}

static int table_open(struct node_table *t, const char *pin_dir, int change)
{
	int r;

	t->pin_dir = pin_dir;
	t->tunnel_fd = -1;
	r = sx_require_root();
	if (r)
		return r;
	t->tunnel_fd = sx_pin_open(pin_dir, SX_MAP_TUNNEL, 0);
	if (t->tunnel_fd < 0)
		return t->tunnel_fd;
	r = sx_netconf_read(pin_dir, &t->nc);
	/* Routes are interfaces' business: changes must run where the device is. */
	if (!r && change && t->nc.vxlan_ifindex)
		r = sx_dataplane_same_netns(pin_dir);
	t->routes = change && t->nc.vxlan_ifindex;
	if (r)
		table_close(t);
	return r;
}

/* The node's own pod-network address of the CIDR's family: its routes' source. */
static struct sx_ip route_source(const struct sx_netconf *nc, const struct sx_cidr_key *c)
{
	struct sx_ip src = { 0 };

	if (!sx_cidr_is_ipv4(c))
		return nc->router_ip6;
	src.addr[0] = nc->router_ip4;
	return src;
}

/*
 * The addresses no remote node's CIDR may hold: this node's own pod-network
 * addresses and its wired pods'. A remote CIDR over them would be an IPAM overlap:
 * the pods it names across the overlay would be unreachable behind ours.
 */
struct local_addrs {
	struct sx_endpoint_key *a;
	size_t n, cap;
};

static int local_addrs_add(struct local_addrs *l, const struct sx_endpoint_key *a)
{
	struct sx_endpoint_key *grown;

	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 64;
		grown = realloc(l->a, l->cap * sizeof(*grown));
		if (!grown)
			return -ENOMEM;
		l->a = grown;
	}
	l->a[l->n++] = *a;
	return 0;
}

/*
 * Wired pods only: their addresses come from this node's pod CIDR and its
 * VXLAN path. A socket-only endpoint (chained after another CNI) has an
 * address the other plugin's IPAM chose, which may well lie in a CIDR that
 * Kubernetes gave another node, and the overlay never carries it.
 */
static int add_local_pod(const struct sx_endpoint_key *key, const struct sx_endpoint *ep, void *arg)
{
	return (ep->flags & SX_EP_F_LOCAL) && ep->ifindex ? local_addrs_add(arg, key) : 0;
}

static int local_addrs_read(const struct node_table *t, struct local_addrs *l)
{
	struct sx_endpoint_key r4, r6;
	int fd, r = 0;

	sx_netconf_routers(&t->nc, &r4, &r6);
	if (r4.family)
		r = local_addrs_add(l, &r4);
	if (!r && r6.family)
		r = local_addrs_add(l, &r6);
	fd = r ? r : sx_pin_open(t->pin_dir, SX_MAP_ENDPOINTS, 1);
	if (fd >= 0) {
		r = sx_endpoint_map_walk(fd, add_local_pod, l);
		close(fd);
	} else if (fd != -ENOENT) {
		r = fd;
	}
	if (r)
		pr_warn("sockvxctl: node: cannot read this node's endpoints: %s\n", strerror(-r));
	return r;
}

/* The first of this node's addresses that c holds, or NULL. */
static const struct sx_endpoint_key *local_addr_in(const struct local_addrs *l,
						   const struct sx_cidr_key *c)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (sx_cidr_holds(c, &l->a[i]))
			return &l->a[i];
	return NULL;
}

static int table_put(struct node_table *t, const struct sx_cidr_key *c, __u32 node_ip4)
{
	struct sx_tunnel v = { .node_ip4 = node_ip4 };
	struct sx_ip src;
	char text[64];
	int r;

	if (bpf_map_update_elem(t->tunnel_fd, c, &v, BPF_ANY)) {
		r = -errno;
		pr_warn("sockvxctl: node: cannot add %s: %s%s\n",
			sx_format_cidr(c, text, sizeof(text)), strerror(-r),
			r == -ENOSPC || r == -E2BIG ? " (the node table is full)" : "");
		return r;
	}
	src = route_source(&t->nc, c);
	return t->routes ? sx_route_set(c, (int)t->nc.vxlan_ifindex, &src, 1) : 0;
}

static int table_del(struct node_table *t, const struct sx_cidr_key *c)
{
	if (bpf_map_delete_elem(t->tunnel_fd, c) && errno != ENOENT)
		return -errno;
	return t->routes ? sx_route_set(c, (int)t->nc.vxlan_ifindex, NULL, 0) : 0;
}

/* Every entry of the trie, as routes (node names unknown). */
static int table_read(struct node_table *t, struct sx_node_route **out, size_t *n)
{
	struct sx_cidr_key key, next, *prev = NULL;
	struct sx_node_route *v = NULL, *grown;
	struct sx_tunnel tun;
	size_t cap = 0;

	*n = 0;
	while (!bpf_map_get_next_key(t->tunnel_fd, prev, &next)) {
		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(t->tunnel_fd, &key, &tun))
			continue;
		if (*n == cap) {
			cap = cap ? cap * 2 : 64;
			grown = realloc(v, cap * sizeof(*v));
			if (!grown) {
				free(v);
				return -ENOMEM;
			}
			v = grown;
		}
		memset(&v[*n], 0, sizeof(v[*n]));
		v[*n].cidr = key;
		v[*n].node_ip4 = tun.node_ip4;
		(*n)++;
	}
	*out = v;
	return 0;
}

static int cmp_u32(const void *a, const void *b)
{
	__u32 x = *(const __u32 *)a, y = *(const __u32 *)b;

	return x < y ? -1 : x > y;
}

/*
 * Rebuilds the set of known nodes from the trie: added nodes first, stale
 * ones removed last, so a node present before and after is never missing.
 */
static int nodes_recount(struct node_table *t)
{
	struct sx_node_route *routes = NULL;
	__u32 *ips = NULL, key, next, *prev = NULL, count;
	size_t n = 0, i, j;
	int fd, r;

	fd = sx_pin_open(t->pin_dir, SX_MAP_NODES, 0);
	if (fd < 0)
		return fd;
	r = table_read(t, &routes, &n);
	if (r)
		goto out;
	ips = calloc(n ? n : 1, sizeof(*ips));
	if (!ips) {
		r = -ENOMEM;
		goto out;
	}
	for (i = 0; i < n; i++)
		ips[i] = routes[i].node_ip4;
	qsort(ips, n, sizeof(*ips), cmp_u32);
	for (i = 0; i < n && !r; i = j) {
		for (j = i; j < n && ips[j] == ips[i]; j++)
			;
		count = (__u32)(j - i);
		if (bpf_map_update_elem(fd, &ips[i], &count, BPF_ANY))
			r = -errno;
	}
	while (!r && !bpf_map_get_next_key(fd, prev, &next)) {
		key = next;
		if (!bsearch(&key, ips, n, sizeof(*ips), cmp_u32)) {
			bpf_map_delete_elem(fd, &key);
			continue; /* the deleted key cannot lead the walk */
		}
		prev = &key;
	}
out:
	free(ips);
	free(routes);
	close(fd);
	return r;
}

static int parse_node_ip(const char *text, __u32 *ip4)
{
	struct in6_addr a6;

	if (inet_pton(AF_INET, text, ip4) == 1)
		return 0;
	if (inet_pton(AF_INET6, text, &a6) == 1)
		pr_warn("sockvxctl: node: %s: the underlay must be IPv4 (pods may be dual-stack)\n",
			text);
	else
		pr_warn("sockvxctl: node: '%s' is not an IPv4 address\n", text);
	return -EINVAL;
}

int sx_node_add(const char *pin_dir, const char *cidr_text, const char *ip_text)
{
	const struct sx_endpoint_key *mine;
	struct local_addrs local = { 0 };
	char addr[INET6_ADDRSTRLEN];
	struct node_table t;
	struct sx_cidr_key c;
	__u32 ip4;
	int r;

	if (sx_parse_cidr(cidr_text, &c)) {
		pr_warn("sockvxctl: node: '%s' is not a CIDR such as 10.244.2.0/24 (host bits must be zero)\n",
			cidr_text);
		return -EINVAL;
	}
	r = parse_node_ip(ip_text, &ip4);
	if (r)
		return r;
	r = table_open(&t, pin_dir, 1);
	if (r)
		return r;
	r = local_addrs_read(&t, &local);
	if (!r && (mine = local_addr_in(&local, &c))) {
		pr_warn("sockvxctl: node: %s holds %s, an address of this node's pod network (nothing was changed)\n",
			cidr_text, sx_format_endpoint(mine, addr, sizeof(addr)));
		r = -EINVAL;
	}
	if (!r)
		r = table_put(&t, &c, ip4);
	if (!r)
		r = nodes_recount(&t);
	free(local.a);
	table_close(&t);
	return r;
}

int sx_node_del(const char *pin_dir, int argc, char **argv)
{
	struct sx_cidr_key keys[argc > 0 ? argc : 1];
	struct node_table t;
	int i, r;

	if (argc < 1) {
		pr_warn("sockvxctl: node del: expected at least one pod CIDR\n");
		return -EINVAL;
	}
	for (i = 0; i < argc; i++) {
		if (sx_parse_cidr(argv[i], &keys[i])) {
			pr_warn("sockvxctl: node del: '%s' is not a CIDR\n", argv[i]);
			return -EINVAL;
		}
	}
	r = table_open(&t, pin_dir, 1);
	for (i = 0; !r && i < argc; i++) /* deleting an absent CIDR is not an error */
		r = table_del(&t, &keys[i]);
	if (!r)
		r = nodes_recount(&t);
	table_close(&t);
	return r;
}

int sx_node_list(const char *pin_dir, int json)
{
	struct sx_node_route *routes = NULL;
	cJSON *arr = NULL;
	struct node_table t;
	char cidr[64], ip[INET_ADDRSTRLEN];
	size_t n = 0, i;
	int r;

	r = table_open(&t, pin_dir, 0);
	if (r)
		return r;
	r = table_read(&t, &routes, &n);
	table_close(&t);
	if (r)
		return r;
	arr = json ? cJSON_CreateArray() : NULL;
	for (i = 0; i < n; i++) {
		sx_format_cidr(&routes[i].cidr, cidr, sizeof(cidr));
		inet_ntop(AF_INET, &routes[i].node_ip4, ip, sizeof(ip));
		if (json) {
			cJSON *o = cJSON_CreateObject();

			cJSON_AddStringToObject(o, "podCIDR", cidr);
			cJSON_AddStringToObject(o, "nodeIP", ip);
			cJSON_AddItemToArray(arr, o);
		} else {
			printf("%-44s %s\n", cidr, ip);
		}
	}
	free(routes);
	return json ? sx_json_emit(arr) : 0;
}

/* Reads all of path ("-": stdin) into a NUL-terminated buffer. */
static char *read_all(const char *path, int *r)
{
	FILE *f = strcmp(path, "-") ? fopen(path, "r") : stdin;
	size_t len = 0, cap = 0, got;
	char *buf = NULL, *grown;

	*r = 0;
	if (!f) {
		*r = -errno;
		pr_warn("sockvxctl: node sync: cannot open %s: %s\n", path, strerror(-*r));
		return NULL;
	}
	do {
		if (len + 1 >= cap) {
			cap = cap ? cap * 2 : 1u << 16;
			grown = cap <= SX_NODELIST_MAX ? realloc(buf, cap) : NULL;
			if (!grown) {
				*r = cap > SX_NODELIST_MAX ? -EFBIG : -ENOMEM;
				pr_warn("sockvxctl: node sync: %s: %s\n", path,
					*r == -EFBIG ? "larger than 256 MiB" : "out of memory");
				break;
			}
			buf = grown;
		}
		got = fread(buf + len, 1, cap - len - 1, f);
		len += got;
	} while (got);
	if (!*r && ferror(f)) {
		*r = -EIO;
		pr_warn("sockvxctl: node sync: cannot read %s\n", path);
	}
	if (f != stdin)
		fclose(f);
	if (*r) {
		free(buf);
		return NULL;
	}
	buf[len] = '\0';
	return buf;
}

int sx_node_sync(const char *pin_dir, const char *path, const char *node_name)
{
	struct sx_node_route *want = NULL, *cur = NULL;
	struct sx_node_diff d = { 0 };
	const struct sx_endpoint_key *mine;
	struct local_addrs local = { 0 };
	char addr[INET6_ADDRSTRLEN], cidr[64];
	struct node_table t;
	size_t n_want = 0, n_cur = 0, skipped = 0, conflicts = 0, kept, i;
	char err[256] = "", *json;
	int r;

	r = table_open(&t, pin_dir, 1);
	if (r)
		return r;
	json = read_all(path, &r);
	if (!json)
		goto out;
	r = sx_nodelist_parse(json, node_name, t.nc.underlay_ip4, &want, &n_want, &skipped, err,
			      sizeof(err));
	free(json);
	if (r) {
		pr_warn("sockvxctl: node sync: %s: %s (nothing was changed)\n",
			strcmp(path, "-") ? path : "stdin", err);
		goto out;
	}
	/*
	 * A CIDR over this node's own addresses is left out, with a warning, and
	 * the rest applied: one misconfigured node must not freeze the table for
	 * every other.
	 */
	r = local_addrs_read(&t, &local);
	for (i = 0, kept = 0; !r && i < n_want; i++) {
		if ((mine = local_addr_in(&local, &want[i].cidr))) {
			pr_warn("sockvxctl: node sync: node %s claims %s, which holds %s of this node's pod network: left out\n",
				want[i].node, sx_format_cidr(&want[i].cidr, cidr, sizeof(cidr)),
				sx_format_endpoint(mine, addr, sizeof(addr)));
			conflicts++;
			continue;
		}
		want[kept++] = want[i];
	}
	if (r)
		goto out;
	n_want = kept;
	r = table_read(&t, &cur, &n_cur);
	if (!r)
		r = sx_node_diff(cur, n_cur, want, n_want, &d);
	/* Additions and changes first, removals last: a moved CIDR is never unroutable. */
	for (i = 0; !r && i < d.n_upsert; i++)
		r = table_put(&t, &d.upsert[i].cidr, d.upsert[i].node_ip4);
	for (i = 0; !r && i < d.n_del; i++)
		r = table_del(&t, &d.del[i]);
	if (!r)
		r = nodes_recount(&t);
	if (!r)
		printf("node sync: %zu added or changed, %zu removed, %zu unchanged, %zu node(s) not ready, %zu CIDR(s) left out\n",
		       d.n_upsert, d.n_del, d.unchanged, skipped, conflicts);
out:
	sx_node_diff_free(&d);
	free(local.a);
	free(want);
	free(cur);
	table_close(&t);
	return r;
}

int sx_node_routes_install(const char *pin_dir, const struct sx_netconf *nc)
{
	struct sx_node_route *routes = NULL;
	struct node_table t = { .pin_dir = pin_dir };
	size_t n = 0, i;
	int r;

	t.tunnel_fd = sx_pin_open(pin_dir, SX_MAP_TUNNEL, 0);
	if (t.tunnel_fd < 0)
		return t.tunnel_fd;
	r = table_read(&t, &routes, &n);
	for (i = 0; !r && i < n; i++) {
		struct sx_ip src = route_source(nc, &routes[i].cidr);

		r = sx_route_set(&routes[i].cidr, (int)nc->vxlan_ifindex, &src, 1);
	}
	free(routes);
	table_close(&t);
	return r;
}
