// SPDX-License-Identifier: Apache-2.0
/*
 * Unit tests for loader/nodelist.h: how a Kubernetes NodeList becomes tunnel
 * routes (what is used, skipped, refused) and what a sync changes in the trie.
 *
 * JSON documents are written with single quotes for readability; json() turns
 * them into JSON. Their values never contain an apostrophe.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <libgen.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "nodelist.h"
#include "parse.h"
#include "unit_helpers.h"

#define MAX_ROUTES 16

/* A copy of a single-quoted document with double quotes. Free it. */
static char *json(const char *sq)
{
	char *s = strdup(sq), *p;

	assert_non_null(s);
	for (p = s; *p; p++) {
		if (*p == '\'')
			*p = '"';
	}
	return s;
}

static __u32 ip4(const char *text)
{
	struct in_addr a;

	if (inet_pton(AF_INET, text, &a) != 1)
		fail_msg("bad address in the test: %s", text);
	return a.s_addr;
}

/* "cidr=ip", as the expectations below are written. */
static const char *route_text(const struct sx_cidr_key *cidr, __u32 node_ip4, char *buf, size_t len)
{
	char c[64], ip[INET_ADDRSTRLEN];

	sx_format_cidr(cidr, c, sizeof(c));
	inet_ntop(AF_INET, &node_ip4, ip, sizeof(ip));
	snprintf(buf, len, "%s=%s", c, ip);
	return buf;
}

struct result {
	int r;
	struct sx_node_route *routes;
	size_t n, skipped;
	char err[256];
};

/* Parses a single-quoted document. Free res->routes. */
static void parse_sq(const char *sq, const char *self_name, const char *self_ip, struct result *res)
{
	char *doc = json(sq);

	memset(res, 0, sizeof(*res));
	res->r = sx_nodelist_parse(doc, self_name, self_ip ? ip4(self_ip) : 0, &res->routes,
				   &res->n, &res->skipped, res->err, sizeof(res->err));
	free(doc);
}

struct want_route {
	const char *node;
	const char *route; /* "cidr=ip" */
};

/* The routes are exactly want[0..n), in order, with their node names. */
static void expect_routes(const char *name, const struct result *res, const struct want_route *want,
			  size_t n)
{
	char got[96];
	size_t i;

	if (res->r)
		fail_msg("case \"%s\": failed with %d: %s", name, res->r, res->err);
	expect_int(name, n, res->n);
	for (i = 0; i < n; i++) {
		route_text(&res->routes[i].cidr, res->routes[i].node_ip4, got, sizeof(got));
		if (strcmp(got, want[i].route))
			fail_msg("case \"%s\": route %zu is %s, expected %s", name, i, got,
				 want[i].route);
		if (strcmp(res->routes[i].node, want[i].node))
			fail_msg("case \"%s\": route %zu belongs to \"%s\", expected \"%s\"", name,
				 i, res->routes[i].node, want[i].node);
	}
}

/* ---- a realistic NodeList ---------------------------------------------- */

/*
 * What `kubectl get nodes -o json` prints for a small dual-stack cluster,
 * trimmed: kind List, fields the parser ignores, addresses in any order.
 */
static const char realistic[] =
    "{'apiVersion':'v1','kind':'List','metadata':{'resourceVersion':''},'items':["
    /* 0: the control plane, podCIDR and podCIDRs both set (as the API server keeps them) */
    "{'apiVersion':'v1','kind':'Node',"
    " 'metadata':{'name':'cp-1','uid':'6a1f0c3e-1d2b-4f5a-9c8d-7e6f5a4b3c2d',"
    "  'resourceVersion':'5530','creationTimestamp':'2024-11-20T09:11:07Z',"
    "  'labels':{'kubernetes.io/hostname':'cp-1','node-role.kubernetes.io/control-plane':''},"
    "  "
    "'annotations':{'kubeadm.alpha.kubernetes.io/cri-socket':'unix:///run/containerd/"
    "containerd.sock'}},"
    " 'spec':{'podCIDR':'10.244.0.0/24','podCIDRs':['10.244.0.0/24','fd00:10:244::/64'],"
    "  'providerID':'kind://docker/kind/cp-1',"
    "  'taints':[{'effect':'NoSchedule','key':'node-role.kubernetes.io/control-plane'}]},"
    " 'status':{'addresses':[{'address':'10.0.0.10','type':'InternalIP'},"
    "   {'address':'cp-1','type':'Hostname'}],"
    "  'capacity':{'cpu':'4','memory':'8029412Ki','pods':'110'},"
    "  'conditions':[{'type':'Ready','status':'True','reason':'KubeletReady'}],"
    "  'daemonEndpoints':{'kubeletEndpoint':{'Port':10250}},"
    "  'nodeInfo':{'kubeletVersion':'v1.31.2','osImage':'Debian GNU/Linux 12 (bookworm)'}}},"
    /* 1: hostname and external address first, an IPv6 InternalIP before the IPv4 one */
    "{'apiVersion':'v1','kind':'Node','metadata':{'name':'worker-1','resourceVersion':'5531'},"
    " 'spec':{'podCIDR':'10.244.1.0/24','podCIDRs':['10.244.1.0/24','fd00:10:244:1::/64']},"
    " 'status':{'addresses':[{'address':'worker-1','type':'Hostname'},"
    "   {'address':'203.0.113.7','type':'ExternalIP'},{'address':'fd00::11','type':'InternalIP'},"
    "   {'address':'10.0.0.11','type':'InternalIP'}],"
    "  'images':[{'names':['registry.k8s.io/pause:3.10'],'sizeBytes':320368}]}},"
    /* 2: an older single-stack node: podCIDR only; keys in another order */
    "{'status':{'addresses':[{'type':'ExternalIP','address':'198.51.100.12'},"
    "   {'type':'InternalIP','address':'10.0.0.12'}]},"
    " 'spec':{'unschedulable':true,'podCIDR':'10.244.2.0/24'},"
    " 'metadata':{'name':'worker-2'},'kind':'Node'},"
    /* 3: IPv6 first; two IPv4 InternalIPs: the first is the underlay */
    "{'kind':'Node','metadata':{'name':'worker-3'},"
    " 'spec':{'podCIDR':'fd00:10:244:3::/64','podCIDRs':['fd00:10:244:3::/64','10.244.3.0/24']},"
    " 'status':{'addresses':[{'address':'10.0.0.13','type':'InternalIP'},"
    "   {'address':'10.0.0.113','type':'InternalIP'},{'address':'worker-3','type':'Hostname'}]}}"
    "]}\n";

/* Every route of the realistic list, in document order, and the item each comes from. */
static const struct {
	size_t item;
	struct want_route want;
} realistic_routes[] = {
    {0, {"cp-1", "10.244.0.0/24=10.0.0.10"}},	       /* podCIDRs[0] */
    {0, {"cp-1", "fd00:10:244::/64=10.0.0.10"}},       /* podCIDRs[1] */
    {1, {"worker-1", "10.244.1.0/24=10.0.0.11"}},      /* the IPv4 InternalIP */
    {1, {"worker-1", "fd00:10:244:1::/64=10.0.0.11"}}, /* IPv6 pods, IPv4 underlay */
    {2, {"worker-2", "10.244.2.0/24=10.0.0.12"}},      /* podCIDR alone */
    {3, {"worker-3", "fd00:10:244:3::/64=10.0.0.13"}}, /* podCIDRs' order */
    {3, {"worker-3", "10.244.3.0/24=10.0.0.13"}},      /* the first InternalIP */
};

static void test_nodelist_realistic_skips_this_node(void **state)
{
	static const struct {
		const char *name;
		const char *self_name;
		const char *self_ip;
		unsigned int self_items; /* bit i: items[i] is this node */
	} cases[] = {
	    {"by name", "cp-1", NULL, 1u << 0},
	    {"by address", NULL, "10.0.0.10", 1u << 0},
	    {"by name, empty address", "worker-2", "0.0.0.0", 1u << 2},
	    {"by a second InternalIP", NULL, "10.0.0.113", 1u << 3},
	    {"not by an ExternalIP", "", "203.0.113.7", 0},
	    {"not by a Hostname address", "", NULL, 0},
	    {"by name or address: both", "worker-1", "10.0.0.12", 1u << 1 | 1u << 2},
	    {"unknown name", "worker-9", "10.0.0.99", 0},
	    {"names match exactly", "worker", "10.0.0.1", 0},
	};
	size_t i, k;

	for (i = 0; i < ARRAY_LEN(cases); i++) {
		struct want_route want[ARRAY_LEN(realistic_routes)];
		struct result res;
		size_t n = 0;

		for (k = 0; k < ARRAY_LEN(realistic_routes); k++) {
			if (!(cases[i].self_items & 1u << realistic_routes[k].item))
				want[n++] = realistic_routes[k].want;
		}
		parse_sq(realistic, cases[i].self_name, cases[i].self_ip, &res);
		expect_routes(cases[i].name, &res, want, n);
		expect_int(cases[i].name, 0, res.skipped);
		if (strcmp(res.err, ""))
			fail_msg("case \"%s\": err is \"%s\" on success", cases[i].name, res.err);
		free(res.routes);
	}
}

/* The sample that end-to-end tests feed to `sockvxctl node sync`, as kubectl prints it. */
static void test_nodelist_sample_file(void **state)
{
	static const struct want_route want[] = {
	    {"node-1", "10.244.1.0/24=10.99.0.1"},
	    {"node-1", "fd00:244:1::/64=10.99.0.1"},
	    {"node-3", "10.244.3.0/24=10.99.0.3"},
	    {"node-3", "fd00:244:3::/64=10.99.0.3"},
	};
	char src[4096], path[4200], *doc;
	struct result res;
	size_t len;
	FILE *f;

	/* The file sits next to this source: test/unit/../data/. */
	snprintf(src, sizeof(src), "%s", __FILE__);
	snprintf(path, sizeof(path), "%s/../data/nodelist-3nodes.json", dirname(src));
	f = fopen(path, "r");
	if (!f)
		fail_msg("cannot open %s (run from the repository root)", path);
	doc = calloc(1, 1 << 20);
	assert_non_null(doc);
	len = fread(doc, 1, (1 << 20) - 1, f);
	fclose(f);
	assert_true(len > 0);
	assert_non_null(strstr(doc, "\"kind\": \"List\""));

	memset(&res, 0, sizeof(res));
	res.r = sx_nodelist_parse(doc, "node-2", 0, &res.routes, &res.n, &res.skipped, res.err,
				  sizeof(res.err));
	expect_routes("node-2 by name", &res, want, ARRAY_LEN(want));
	free(res.routes);
	res.r = sx_nodelist_parse(doc, NULL, ip4("10.99.0.2"), &res.routes, &res.n, &res.skipped,
				  res.err, sizeof(res.err));
	expect_routes("node-2 by address", &res, want, ARRAY_LEN(want));
	expect_int("skipped", 0, res.skipped);
	free(res.routes);
	free(doc);
}

/* Nodes still joining: no pod CIDR allocated yet, or no IPv4 InternalIP reported yet. */
static void test_nodelist_skips_and_counts_nodes_not_ready(void **state)
{
	static const char doc[] =
	    "{'kind':'NodeList','items':["
	    "{'metadata':{'name':'no-spec'},"
	    " 'status':{'addresses':[{'type':'InternalIP','address':'10.0.0.1'}]}},"
	    "{'metadata':{'name':'empty-spec'},'spec':{},"
	    " 'status':{'addresses':[{'type':'InternalIP','address':'10.0.0.2'}]}},"
	    "{'metadata':{'name':'empty-cidrs'},'spec':{'podCIDRs':[],'podCIDR':null},"
	    " 'status':{'addresses':[{'type':'InternalIP','address':'10.0.0.3'}]}},"
	    "{'metadata':{'name':'ready'},'spec':{'podCIDRs':['10.244.4.0/24']},"
	    " 'status':{'addresses':[{'type':'InternalIP','address':'10.0.0.4'}]}},"
	    "{'metadata':{'name':'no-status'},'spec':{'podCIDRs':['10.244.5.0/24']}},"
	    "{'metadata':{'name':'null-addresses'},'spec':{'podCIDR':'10.244.6.0/24'},"
	    " 'status':{'addresses':null}},"
	    "{'metadata':{'name':'no-internal'},'spec':{'podCIDR':'10.244.7.0/24'},"
	    " 'status':{'addresses':[{'type':'Hostname','address':'no-internal'},"
	    "   {'type':'ExternalIP','address':'203.0.113.8'}]}},"
	    "{'metadata':{'name':'ipv6-only'},'spec':{'podCIDR':'fd00:244:8::/64'},"
	    " 'status':{'addresses':[{'type':'InternalIP','address':'fd00::8'}]}},"
	    /* This node, not ready either: skipped, not counted. */
	    "{'metadata':{'name':'me'},'spec':{},'status':{}}"
	    "]}";
	static const struct want_route want[] = {
	    {"ready", "10.244.4.0/24=10.0.0.4"},
	};
	struct result res;

	parse_sq(doc, "me", NULL, &res);
	expect_routes("not ready", &res, want, ARRAY_LEN(want));
	expect_int("skipped", 7, res.skipped);
	free(res.routes);
}

static void test_nodelist_empty_list_and_kinds(void **state)
{
	static const struct {
		const char *name;
		const char *doc;
		size_t n;
	} cases[] = {
	    {"kubectl, no nodes", "{'apiVersion':'v1','items':[],'kind':'List'}", 0},
	    {"NodeList", "{'kind':'NodeList','items':[]}", 0},
	    {"no kind", "{'items':[]}", 0},
	    {"items without kind",
	     "{'kind':'List','items':[{'metadata':{'name':'a'},'spec':{'podCIDR':'10.1.0.0/16'},"
	     "'status':{'addresses':[{'type':'InternalIP','address':'10.0.0.1'}]}}]}",
	     1},
	};
	size_t i;

	for (i = 0; i < ARRAY_LEN(cases); i++) {
		struct result res;

		parse_sq(cases[i].doc, NULL, NULL, &res);
		expect_int(cases[i].name, 0, res.r);
		expect_int(cases[i].name, cases[i].n, res.n);
		expect_int(cases[i].name, 0, res.skipped);
		if (!cases[i].n && res.routes)
			fail_msg("case \"%s\": routes not NULL for none", cases[i].name);
		free(res.routes);
	}
}

/* ---- malformed input ------------------------------------------------------ */

/* A well-formed node for the documents below. */
#define NODE(name, cidr, ip)                                                                       \
	"{'kind':'Node','metadata':{'name':'" name "'},'spec':{'podCIDRs':['" cidr "']},"          \
	"'status':{'addresses':[{'type':'InternalIP','address':'" ip "'}]}}"
#define GOOD NODE("good", "10.244.9.0/24", "10.0.0.9")

static void test_nodelist_rejects_malformed_naming_the_place(void **state)
{
	static const struct {
		const char *name;
		const char *doc;
		const char *want; /* err starts with this */
	} cases[] = {
	    {"empty", "", "not JSON"},
	    {"truncated", "{'kind':'List','items':[" GOOD, "not JSON"},
	    {"bare words", "{kind: List}", "not JSON (syntax error at line 1, column "},
	    {"trailing garbage", "{'items':[]} {'items':[]}", "not JSON"},
	    {"second line", "{'items':\n  [}", "not JSON (syntax error at line 2"},
	    {"array", "[" GOOD "]", "expected a JSON object (a NodeList), got an array"},
	    {"string", "'List'", "expected a JSON object (a NodeList), got a string"},
	    {"null", "null", "expected a JSON object (a NodeList), got null"},
	    {"a single Node", GOOD, "kind: a single Node, not a list of nodes"},
	    {"another list", "{'kind':'PodList','items':[]}", "kind: 'PodList' is not a NodeList"},
	    {"kind number", "{'kind':1,'items':[]}", "kind: expected a string, got a number"},
	    {"items missing", "{'kind':'List'}", "items: missing"},
	    {"items null", "{'kind':'List','items':null}", "items: missing"},
	    {"items object", "{'kind':'List','items':{}}",
	     "items: expected an array, got an object"},
	    {"item string", "{'items':[" GOOD ",'node']}",
	     "items[1]: expected an object, got a string"},
	    {"item kind", "{'items':[" GOOD ",{'kind':'Pod','metadata':{'name':'p'}}]}",
	     "items[1].kind: 'Pod' is not a Node (node p)"},
	    {"item kind type", "{'items':[{'kind':true}]}",
	     "items[0].kind: expected a string, got a boolean"},
	    {"metadata", "{'items':[{'metadata':'x'}]}",
	     "items[0].metadata: expected an object, got a string"},
	    {"name", "{'items':[{'metadata':{'name':7}}]}",
	     "items[0].metadata.name: expected a string, got a number"},
	    {"spec", "{'items':[{'metadata':{'name':'a'},'spec':[]}]}",
	     "items[0].spec: expected an object, got an array (node a)"},
	    {"podCIDRs type", "{'items':[{'spec':{'podCIDRs':'10.244.1.0/24'}}]}",
	     "items[0].spec.podCIDRs: expected an array, got a string"},
	    {"podCIDRs element type", "{'items':[{'spec':{'podCIDRs':['10.244.1.0/24',24]}}]}",
	     "items[0].spec.podCIDRs[1]: expected a string, got a number"},
	    {"podCIDRs element null", "{'items':[{'spec':{'podCIDRs':[null]}}]}",
	     "items[0].spec.podCIDRs[0]: expected a string, got null"},
	    {"bad CIDR",
	     "{'items':[" NODE("node-1", "10.244.1.0/24", "10.0.0.1") "," NODE(
		 "node-2", "10.244.2.0/24", "10.0.0.2") ",{'metadata':{'name':'node-3'},"
							"'spec':{'podCIDRs':['10.0.0.1/33']}}]}",
	     "items[2].spec.podCIDRs[0]: '10.0.0.1/33' is not a CIDR"},
	    {"host bits", "{'items':[{'spec':{'podCIDR':'10.244.1.5/24'}}]}",
	     "items[0].spec.podCIDR: '10.244.1.5/24' is not a CIDR"},
	    {"no prefix length", "{'items':[{'spec':{'podCIDRs':['10.244.1.0']}}]}",
	     "items[0].spec.podCIDRs[0]: '10.244.1.0' is not a CIDR"},
	    {"podCIDR type", "{'items':[{'spec':{'podCIDR':['10.244.1.0/24']}}]}",
	     "items[0].spec.podCIDR: expected a string, got an array"},
	    {"podCIDR not podCIDRs[0]",
	     "{'items':[{'spec':{'podCIDR':'10.244.1.0/24','podCIDRs':['10.244.2.0/24']}}]}",
	     "items[0].spec.podCIDR: '10.244.1.0/24' differs from spec.podCIDRs[0]"},
	    {"podCIDR invalid beside podCIDRs",
	     "{'items':[{'spec':{'podCIDR':'x','podCIDRs':['10.244.2.0/24']}}]}",
	     "items[0].spec.podCIDR: 'x' is not a CIDR"},
	    {"status", "{'items':[{'status':1}]}",
	     "items[0].status: expected an object, got a number"},
	    {"addresses", "{'items':[{'status':{'addresses':{}}}]}",
	     "items[0].status.addresses: expected an array, got an object"},
	    {"address entry",
	     "{'items':[{'status':{'addresses':[{'type':'Hostname','address':'h'},'x']}}]}",
	     "items[0].status.addresses[1]: expected an object, got a string"},
	    {"address type missing",
	     "{'items':[{'status':{'addresses':[{'address':'10.0.0.1'}]}}]}",
	     "items[0].status.addresses[0].type: missing"},
	    {"address missing", "{'items':[{'status':{'addresses':[{'type':'InternalIP'}]}}]}",
	     "items[0].status.addresses[0].address: missing"},
	    {"address type",
	     "{'items':[{'status':{'addresses':[{'type':'InternalIP','address':167772161}]}}]}",
	     "items[0].status.addresses[0].address: expected a string, got a number"},
	    {"bad InternalIP",
	     "{'items':[{'metadata':{'name':'n'},'status':{'addresses':"
	     "[{'type':'Hostname','address':'n'},{'type':'InternalIP','address':'10.0.0.300'}]}}]}",
	     "items[0].status.addresses[1].address: '10.0.0.300' is not an IP address (node n)"},
	    {"bad InternalIP after a good one",
	     "{'items':[{'status':{'addresses':[{'type':'InternalIP','address':'10.0.0.1'},"
	     "{'type':'InternalIP','address':'10.0.0.1/24'}]}}]}",
	     "items[0].status.addresses[1].address: '10.0.0.1/24' is not an IP address"},
	    /* This node is skipped, not exempt: a broken document is refused whole. */
	    {"this node malformed", "{'items':[" NODE("me", "10.244.1.0/33", "10.0.0.1") "]}",
	     "items[0].spec.podCIDRs[0]: '10.244.1.0/33' is not a CIDR (node me)"},
	};
	size_t i;

	for (i = 0; i < ARRAY_LEN(cases); i++) {
		struct sx_node_route dummy;
		char *doc = json(cases[i].doc);
		struct sx_node_route *routes = &dummy;
		size_t n = 99, skipped = 99;
		char err[256] = "unset";
		int r;

		r = sx_nodelist_parse(doc, "me", 0, &routes, &n, &skipped, err, sizeof(err));
		expect_int(cases[i].name, -EINVAL, r);
		if (strncmp(err, cases[i].want, strlen(cases[i].want)))
			fail_msg("case \"%s\": message \"%s\", expected it to start with \"%s\"",
				 cases[i].name, err, cases[i].want);
		if (routes || n || skipped)
			fail_msg("case \"%s\": outputs not reset on failure", cases[i].name);
		/* Without a message buffer: the same verdict, no crash. */
		expect_int(cases[i].name, -EINVAL,
			   sx_nodelist_parse(doc, "me", 0, &routes, &n, &skipped, NULL, 0));
		free(doc);
	}
	expect_int("NULL", -EINVAL,
		   sx_nodelist_parse(NULL, NULL, 0, &(struct sx_node_route *){NULL}, &(size_t){0},
				     &(size_t){0}, NULL, 0));
}

/* The same CIDR twice would make the trie's owner depend on the order of updates. */
static void test_nodelist_rejects_duplicate_cidrs(void **state)
{
	static const struct {
		const char *name;
		const char *doc;
		const char *self_name;
		const char *want; /* the exact message */
	} cases[] = {
	    {"two nodes",
	     "{'items':[" NODE("node-a", "10.244.1.0/24",
			       "10.0.0.1") ",{'metadata':{'name':'node-b'},"
					   "'spec':{'podCIDRs':['10.244.2.0/24','10.244.1.0/24']},"
					   "'status':{'addresses':[{'type':'InternalIP','address':'"
					   "10.0.0.2'}]}}]}",
	     NULL,
	     "items[1].spec.podCIDRs[1]: 10.244.1.0/24 is already claimed by "
	     "items[0].spec.podCIDRs[0] of node node-a (node node-b)"},
	    {"IPv6 written differently",
	     "{'items':[" NODE("node-a", "fd00:1::/64",
			       "10.0.0.1") "," NODE("node-b", "FD00:1:0:0::/64", "10.0.0.2") "]}",
	     NULL,
	     "items[1].spec.podCIDRs[0]: fd00:1::/64 is already claimed by "
	     "items[0].spec.podCIDRs[0] of node node-a (node node-b)"},
	    {"podCIDR against podCIDRs",
	     "{'items':[{'metadata':{'name':'node-a'},'spec':{'podCIDR':'10.244.1.0/24'}},"
	     "{'spec':{'podCIDRs':['10.244.1.0/24']}}]}",
	     NULL,
	     "items[1].spec.podCIDRs[0]: 10.244.1.0/24 is already claimed by "
	     "items[0].spec.podCIDR of node node-a"},
	    {"one node, twice",
	     "{'items':[{'metadata':{'name':'node-a'},"
	     "'spec':{'podCIDRs':['10.244.1.0/24','10.244.1.0/24']}}]}",
	     NULL,
	     "items[0].spec.podCIDRs[1]: 10.244.1.0/24 is listed twice "
	     "(also items[0].spec.podCIDRs[0]) (node node-a)"},
	    {"this node's CIDR",
	     "{'items':[" NODE("me", "10.244.1.0/24",
			       "10.0.0.1") "," NODE("node-b", "10.244.1.0/24", "10.0.0.2") "]}",
	     "me",
	     "items[1].spec.podCIDRs[0]: 10.244.1.0/24 is already claimed by "
	     "items[0].spec.podCIDRs[0] of node me (node node-b)"},
	    {"a node not ready yet",
	     "{'items':[{'metadata':{'name':'joining'},'spec':{'podCIDR':'10.244.1.0/24'}},"
	     "" NODE("node-b", "10.244.1.0/24", "10.0.0.2") "]}",
	     NULL,
	     "items[1].spec.podCIDRs[0]: 10.244.1.0/24 is already claimed by "
	     "items[0].spec.podCIDR of node joining (node node-b)"},
	    {"the first conflict in the document is named",
	     "{'items':[" NODE("n0", "10.244.9.0/24", "10.0.0.1") "," NODE(
		 "n1", "10.244.1.0/24",
		 "10.0.0.2") "," NODE("n2", "10.244.1.0/24",
				      "10.0.0.3") "," NODE("n3", "10.244.9.0/24", "10.0.0.4") "]}",
	     NULL,
	     "items[2].spec.podCIDRs[0]: 10.244.1.0/24 is already claimed by "
	     "items[1].spec.podCIDRs[0] of node n1 (node n2)"},
	};
	size_t i;

	for (i = 0; i < ARRAY_LEN(cases); i++) {
		struct result res;

		parse_sq(cases[i].doc, cases[i].self_name, NULL, &res);
		expect_int(cases[i].name, -EINVAL, res.r);
		if (strcmp(res.err, cases[i].want))
			fail_msg("case \"%s\": message \"%s\", expected \"%s\"", cases[i].name,
				 res.err, cases[i].want);
		assert_null(res.routes);
	}
}

/* Overlapping but different CIDRs are the trie's business (longest prefix wins). */
static void test_nodelist_accepts_overlapping_cidrs(void **state)
{
	static const char doc[] = "{'items':[" NODE("wide", "10.244.0.0/16", "10.0.0.1") "," NODE(
	    "narrow", "10.244.1.0/24", "10.0.0.2") "]}";
	static const struct want_route want[] = {
	    {"wide", "10.244.0.0/16=10.0.0.1"},
	    {"narrow", "10.244.1.0/24=10.0.0.2"},
	};
	struct result res;

	parse_sq(doc, NULL, NULL, &res);
	expect_routes("overlap", &res, want, ARRAY_LEN(want));
	free(res.routes);
}

/* Names are copied bounded, and made safe to print. */
static void test_nodelist_bounds_and_sanitizes_names(void **state)
{
	char long_name[201], doc[1024], want[64];
	struct sx_node_route *routes = NULL;
	size_t n, skipped;
	char err[256];
	int r;

	memset(long_name, 'a', sizeof(long_name) - 1);
	long_name[sizeof(long_name) - 1] = '\0';
	snprintf(
	    doc, sizeof(doc),
	    "{\"items\":[{\"metadata\":{\"name\":\"%s\"},"
	    "\"spec\":{\"podCIDR\":\"10.244.1.0/24\"},"
	    "\"status\":{\"addresses\":[{\"type\":\"InternalIP\",\"address\":\"10.0.0.1\"}]}},"
	    "{\"metadata\":{\"name\":\"evil\\u001b[2J\\n\"},"
	    "\"spec\":{\"podCIDR\":\"10.244.2.0/24\"},"
	    "\"status\":{\"addresses\":[{\"type\":\"InternalIP\",\"address\":\"10.0.0.2\"}]}}]}",
	    long_name);
	r = sx_nodelist_parse(doc, long_name, 0, &routes, &n, &skipped, err, sizeof(err));
	assert_int_equal(0, r);
	/* The full name matched this node, though the copy is truncated. */
	assert_int_equal(1, n);
	assert_string_equal("evil?[2J?", routes[0].node);
	free(routes);

	r = sx_nodelist_parse(doc, NULL, 0, &routes, &n, &skipped, err, sizeof(err));
	assert_int_equal(0, r);
	assert_int_equal(2, n);
	memset(want, 'a', 60);
	memcpy(want + 60, "...", 4);
	assert_string_equal(want, routes[0].node);
	free(routes);

	/* Hostile text is not echoed raw in messages either. */
	r = sx_nodelist_parse("{\"items\":[{\"metadata\":{\"name\":\"x\\u001b]0;\"},"
			      "\"spec\":{\"podCIDR\":\"\\u001b[31m\"}}]}",
			      NULL, 0, &routes, &n, &skipped, err, sizeof(err));
	assert_int_equal(-EINVAL, r);
	assert_string_equal("items[0].spec.podCIDR: '?[31m' is not a CIDR (node x?]0;)", err);
}

/* `kubectl get nodes -o json` of a 5000-node dual-stack cluster, then a sync's diff. */
static void test_nodelist_5000_nodes(void **state)
{
	enum { NODES = 5000 };
	struct sx_node_route *want = NULL, *cur;
	struct sx_node_diff d;
	size_t n, skipped, len, i, n_cur = 0, moved = 0;
	char *doc, err[256];
	FILE *f;

	f = open_memstream(&doc, &len);
	assert_non_null(f);
	fputs("{\"apiVersion\":\"v1\",\"kind\":\"List\",\"items\":[", f);
	for (i = 0; i < NODES; i++)
		fprintf(f,
			"%s{\"kind\":\"Node\",\"metadata\":{\"name\":\"node-%zu\"},"
			"\"spec\":{\"podCIDR\":\"10.%zu.%zu.0/24\",\"podCIDRs\":"
			"[\"10.%zu.%zu.0/24\",\"fd00:%zx::/64\"]},\"status\":{\"addresses\":"
			"[{\"type\":\"InternalIP\",\"address\":\"172.16.%zu.%zu\"}]}}",
			i ? "," : "", i, 100 + i / 256, i % 256, 100 + i / 256, i % 256, i, i / 256,
			i % 256);
	fputs("]}", f);
	fclose(f);

	assert_int_equal(
	    0, sx_nodelist_parse(doc, "node-0", 0, &want, &n, &skipped, err, sizeof(err)));
	free(doc);
	assert_int_equal(2 * (NODES - 1), n);
	assert_int_equal(0, skipped);

	/* The trie: every other route, in reverse order; a tenth moved; 100 stale ones. */
	cur = calloc(n + 100, sizeof(*cur));
	assert_non_null(cur);
	for (i = 0; i < n; i += 2) {
		cur[n_cur] = want[n - 1 - i];
		cur[n_cur].node[0] = '\0';
		if (i % 20 == 0) {
			cur[n_cur].node_ip4 ^= htonl(1);
			moved++;
		}
		n_cur++;
	}
	for (i = 0; i < 100; i++) {
		char text[32];

		snprintf(text, sizeof(text), "10.250.%zu.0/24", i);
		assert_int_equal(0, sx_parse_cidr(text, &cur[n_cur].cidr));
		cur[n_cur++].node_ip4 = htonl(0x0a000001);
	}
	assert_int_equal(0, sx_node_diff(cur, n_cur, want, n, &d));
	assert_int_equal(n - (n_cur - 100) + moved, d.n_upsert);
	assert_int_equal(100, d.n_del);
	assert_int_equal(n_cur - 100 - moved, d.unchanged);
	/* Sorted output: strictly increasing, so each CIDR appears once. */
	for (i = 1; i < d.n_upsert; i++) {
		int c = memcmp(&d.upsert[i - 1].cidr.ip, &d.upsert[i].cidr.ip, 16);

		assert_true(c < 0 ||
			    (!c && d.upsert[i - 1].cidr.prefixlen < d.upsert[i].cidr.prefixlen));
	}
	sx_node_diff_free(&d);
	free(cur);
	free(want);
}

/* ---- sx_node_diff ------------------------------------------------------ */

/* Routes from "cidr=ip" strings (NULL-terminated); want's carry a node name. */
static size_t routes_of(const char *const *spec, struct sx_node_route *out, const char *node)
{
	size_t n;

	for (n = 0; spec[n]; n++) {
		char cidr[64];
		const char *eq = strchr(spec[n], '=');

		assert_non_null(eq);
		snprintf(cidr, sizeof(cidr), "%.*s", (int)(eq - spec[n]), spec[n]);
		memset(&out[n], 0, sizeof(out[n]));
		if (sx_parse_cidr(cidr, &out[n].cidr))
			fail_msg("bad CIDR in the test: %s", cidr);
		out[n].node_ip4 = ip4(eq + 1);
		snprintf(out[n].node, sizeof(out[n].node), "%s", node);
	}
	return n;
}

static size_t count(const char *const *v)
{
	size_t n = 0;

	while (v[n])
		n++;
	return n;
}

static void test_node_diff_cases(void **state)
{
	static const struct {
		const char *name;
		const char *cur[MAX_ROUTES];
		const char *want[MAX_ROUTES];
		const char *upsert[MAX_ROUTES]; /* in sorted order */
		const char *del[MAX_ROUTES];	/* CIDRs, in sorted order */
		size_t unchanged;
	} cases[] = {
	    {"both empty", {NULL}, {NULL}, {NULL}, {NULL}, 0},
	    {"empty trie: everything added",
	     {NULL},
	     {"fd00:244:2::/64=10.0.0.2", "10.244.2.0/24=10.0.0.2", "10.244.1.0/24=10.0.0.1"},
	     {"10.244.1.0/24=10.0.0.1", "10.244.2.0/24=10.0.0.2", "fd00:244:2::/64=10.0.0.2"},
	     {NULL},
	     0},
	    {"empty list: everything removed",
	     {"fd00:244:2::/64=10.0.0.2", "10.244.2.0/24=10.0.0.2"},
	     {NULL},
	     {NULL},
	     {"10.244.2.0/24", "fd00:244:2::/64"},
	     0},
	    {"unchanged",
	     {"10.244.1.0/24=10.0.0.1"},
	     {"10.244.1.0/24=10.0.0.1"},
	     {NULL},
	     {NULL},
	     1},
	    {"node address changed",
	     {"10.244.1.0/24=10.0.0.1", "fd00:244:1::/64=10.0.0.1"},
	     {"fd00:244:1::/64=10.0.0.9", "10.244.1.0/24=10.0.0.9"},
	     {"10.244.1.0/24=10.0.0.9", "fd00:244:1::/64=10.0.0.9"},
	     {NULL},
	     0},
	    {"added, changed, removed and kept, in any order",
	     {"10.244.3.0/24=10.0.0.3", "10.244.1.0/24=10.0.0.1", "10.244.2.0/24=10.0.0.2"},
	     {"10.244.4.0/24=10.0.0.4", "10.244.3.0/24=10.0.0.3", "10.244.1.0/24=10.0.0.9"},
	     {"10.244.1.0/24=10.0.0.9", "10.244.4.0/24=10.0.0.4"},
	     {"10.244.2.0/24"},
	     1},
	    {"the prefix length is part of the key",
	     {"10.244.0.0/16=10.0.0.1"},
	     {"10.244.0.0/24=10.0.0.1"},
	     {"10.244.0.0/24=10.0.0.1"},
	     {"10.244.0.0/16"},
	     0},
	    {"a node gains IPv6",
	     {"10.244.1.0/24=10.0.0.1"},
	     {"10.244.1.0/24=10.0.0.1", "fd00:244:1::/64=10.0.0.1"},
	     {"fd00:244:1::/64=10.0.0.1"},
	     {NULL},
	     1},
	    {"a CIDR moves to another node, another one is freed",
	     {"10.244.1.0/24=10.0.0.1", "10.244.2.0/24=10.0.0.2"},
	     {"10.244.2.0/24=10.0.0.1"},
	     {"10.244.2.0/24=10.0.0.1"},
	     {"10.244.1.0/24"},
	     0},
	    {"repeated in want: the last one wins",
	     {"10.244.1.0/24=10.0.0.2"},
	     {"10.244.1.0/24=10.0.0.1", "10.244.1.0/24=10.0.0.2"},
	     {NULL},
	     {NULL},
	     1},
	    {"repeated in want, new",
	     {NULL},
	     {"10.244.1.0/24=10.0.0.2", "10.244.1.0/24=10.0.0.1"},
	     {"10.244.1.0/24=10.0.0.1"},
	     {NULL},
	     0},
	};
	size_t i, k;

	for (i = 0; i < ARRAY_LEN(cases); i++) {
		struct sx_node_route cur[MAX_ROUTES], want[MAX_ROUTES];
		size_t n_cur = routes_of(cases[i].cur, cur, "");
		size_t n_want = routes_of(cases[i].want, want, "from-list");
		struct sx_node_diff d;
		char got[96];

		memset(&d, 0x55, sizeof(d));
		expect_int(cases[i].name, 0, sx_node_diff(cur, n_cur, want, n_want, &d));
		expect_int(cases[i].name, count(cases[i].upsert), d.n_upsert);
		expect_int(cases[i].name, count(cases[i].del), d.n_del);
		expect_int(cases[i].name, cases[i].unchanged, d.unchanged);
		for (k = 0; k < d.n_upsert; k++) {
			route_text(&d.upsert[k].cidr, d.upsert[k].node_ip4, got, sizeof(got));
			if (!cases[i].upsert[k] || strcmp(got, cases[i].upsert[k]))
				fail_msg("case \"%s\": upsert %zu is %s, expected %s",
					 cases[i].name, k, got, cases[i].upsert[k]);
			if (strcmp(d.upsert[k].node, "from-list"))
				fail_msg("case \"%s\": upsert %zu lost its node name",
					 cases[i].name, k);
		}
		for (k = 0; k < d.n_del; k++) {
			sx_format_cidr(&d.del[k], got, sizeof(got));
			if (!cases[i].del[k] || strcmp(got, cases[i].del[k]))
				fail_msg("case \"%s\": del %zu is %s, expected %s", cases[i].name,
					 k, got, cases[i].del[k]);
		}
		if ((!d.n_upsert && d.upsert) || (!d.n_del && d.del))
			fail_msg("case \"%s\": empty lists are not NULL", cases[i].name);
		sx_node_diff_free(&d);
		if (d.upsert || d.del || d.n_upsert || d.n_del || d.unchanged)
			fail_msg("case \"%s\": free did not empty the diff", cases[i].name);
	}
	sx_node_diff_free(NULL);
}

/* The trie tells keys apart by their prefix bits only: a stray host bit is the same CIDR. */
static void test_node_diff_ignores_host_bits_of_trie_keys(void **state)
{
	struct sx_node_route cur, want;
	struct sx_node_diff d;

	memset(&cur, 0, sizeof(cur));
	memset(&want, 0, sizeof(want));
	assert_int_equal(0, sx_parse_cidr("10.244.1.0/24", &want.cidr));
	want.node_ip4 = ip4("10.0.0.1");
	cur = want;
	cur.cidr.ip.addr[3] = ip4("10.244.1.5");
	assert_int_equal(0, sx_node_diff(&cur, 1, &want, 1, &d));
	assert_int_equal(0, d.n_upsert);
	assert_int_equal(0, d.n_del);
	assert_int_equal(1, d.unchanged);
	sx_node_diff_free(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_nodelist_realistic_skips_this_node),
	    cmocka_unit_test(test_nodelist_sample_file),
	    cmocka_unit_test(test_nodelist_skips_and_counts_nodes_not_ready),
	    cmocka_unit_test(test_nodelist_empty_list_and_kinds),
	    cmocka_unit_test(test_nodelist_rejects_malformed_naming_the_place),
	    cmocka_unit_test(test_nodelist_rejects_duplicate_cidrs),
	    cmocka_unit_test(test_nodelist_accepts_overlapping_cidrs),
	    cmocka_unit_test(test_nodelist_bounds_and_sanitizes_names),
	    cmocka_unit_test(test_nodelist_5000_nodes),
	    cmocka_unit_test(test_node_diff_cases),
	    cmocka_unit_test(test_node_diff_ignores_host_bits_of_trie_keys),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
