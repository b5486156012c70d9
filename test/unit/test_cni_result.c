// SPDX-License-Identifier: Apache-2.0
/*
 * Unit tests for cni/result.h: reading results of every supported version
 * (an IPAM plugin's answer, a prevResult) and writing them per cniVersion.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "parse.h"
#include "result.h"
#include "version.h"
#include "unit_helpers.h"

/* A result is about 17 KiB: the tests keep theirs out of cmocka's stack. */
static struct sx_cni_result res, again;

/* A test's JSON text, decoded; a typo in the test itself fails it. */
static json_t *test_json(const char *text)
{
	json_error_t jerr;
	json_t *obj = json_loads(text, JSON_DECODE_ANY, &jerr);

	if (!obj)
		fail_msg("bad test JSON: %s: %s", text, jerr.text);
	return obj;
}

static int parse_text(const char *text, struct sx_cni_result *r, char *why, size_t len)
{
	json_t *obj = test_json(text);
	int rc;

	why[0] = '\0';
	rc = sx_cni_result_parse(obj, r, why, len);
	/* The result holds its own reference to what it keeps. */
	json_decref(obj);
	return rc;
}

static struct sx_endpoint_key addr(const char *text)
{
	struct sx_endpoint_key k;

	if (sx_parse_endpoint(text, &k))
		fail_msg("bad test address %s", text);
	return k;
}

static void expect_addr(const char *what, const char *want, const struct sx_endpoint_key *got)
{
	struct sx_endpoint_key k = addr(want);
	char text[64];

	if (memcmp(&k, got, sizeof(k)))
		fail_msg("%s: expected %s, got %s", what, want,
			 sx_format_endpoint(got, text, sizeof(text)));
}

static const char *str_at(json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);

	return json_is_string(v) ? json_string_value(v) : NULL;
}

/* ---- parsing ------------------------------------------------------------- */

static const char result_031[] =
	"{\"cniVersion\":\"0.3.1\","
	"\"interfaces\":[{\"name\":\"cni0\",\"mac\":\"aa:bb:cc:dd:ee:ff\"},"
	"{\"name\":\"veth1234\",\"mac\":\"11:22:33:44:55:66\"},"
	"{\"name\":\"eth0\",\"mac\":\"0a:58:0a:f4:01:05\",\"sandbox\":\"/var/run/netns/cni-1\"}],"
	"\"ips\":[{\"version\":\"4\",\"interface\":2,\"address\":\"10.244.1.5/24\","
	"\"gateway\":\"10.244.1.1\"},"
	"{\"version\":\"6\",\"interface\":2,\"address\":\"fd00:244:1::5/64\"}],"
	"\"routes\":[{\"dst\":\"10.244.0.0/16\",\"gw\":\"10.244.1.1\"},{\"dst\":\"0.0.0.0/0\"}],"
	"\"dns\":{\"nameservers\":[\"10.96.0.10\"]}}";

static const char result_100[] =
	"{\"cniVersion\":\"1.0.0\","
	"\"interfaces\":[{\"name\":\"eth0\",\"sandbox\":\"/proc/42/ns/net\"}],"
	"\"ips\":[{\"interface\":0,\"address\":\"fd00::7/128\",\"gateway\":\"fd00::1\"},"
	"{\"address\":\"10.88.0.7/16\"}],"
	"\"routes\":[{\"dst\":\"::/0\",\"gw\":\"fd00::1\"}]}";

static void test_parse_031_result_with_ip_versions(void **state)
{
	char why[256];

	assert_int_equal(0, parse_text(result_031, &res, why, sizeof(why)));
	assert_int_equal(3, res.n_ifaces);
	assert_string_equal("cni0", res.ifaces[0].name);
	assert_string_equal("aa:bb:cc:dd:ee:ff", res.ifaces[0].mac);
	assert_string_equal("", res.ifaces[0].sandbox);
	assert_string_equal("eth0", res.ifaces[2].name);
	assert_string_equal("/var/run/netns/cni-1", res.ifaces[2].sandbox);
	assert_int_equal(0, res.ifaces[2].mtu);
	assert_int_equal(2, res.n_ips);
	expect_addr("ips[0]", "10.244.1.5", &res.ips[0].addr);
	assert_int_equal(24, res.ips[0].prefixlen);
	assert_true(res.ips[0].has_gateway);
	expect_addr("ips[0].gateway", "10.244.1.1", &res.ips[0].gateway);
	assert_int_equal(2, res.ips[0].iface);
	expect_addr("ips[1]", "fd00:244:1::5", &res.ips[1].addr);
	assert_int_equal(SX_AF_INET6, res.ips[1].addr.family);
	assert_int_equal(64, res.ips[1].prefixlen);
	assert_false(res.ips[1].has_gateway);
	assert_int_equal(2, res.n_routes);
	expect_addr("routes[0]", "10.244.0.0", &res.routes[0].dst);
	assert_int_equal(16, res.routes[0].prefixlen);
	assert_true(res.routes[0].has_gw);
	expect_addr("routes[0].gw", "10.244.1.1", &res.routes[0].gw);
	expect_addr("routes[1]", "0.0.0.0", &res.routes[1].dst);
	assert_int_equal(0, res.routes[1].prefixlen);
	assert_false(res.routes[1].has_gw);
	assert_true(json_is_object(res.dns));
	assert_string_equal("10.96.0.10",
			    json_string_value(json_array_get(json_object_get(res.dns, "nameservers"), 0)));
	sx_cni_result_free(&res);
	assert_null(res.dns);
}

static void test_parse_100_result_without_ip_versions(void **state)
{
	char why[256];

	assert_int_equal(0, parse_text(result_100, &res, why, sizeof(why)));
	assert_int_equal(1, res.n_ifaces);
	assert_string_equal("", res.ifaces[0].mac);
	assert_int_equal(2, res.n_ips);
	expect_addr("ips[0]", "fd00::7", &res.ips[0].addr);
	assert_int_equal(128, res.ips[0].prefixlen);
	assert_int_equal(0, res.ips[0].iface);
	expect_addr("ips[0].gateway", "fd00::1", &res.ips[0].gateway);
	expect_addr("ips[1]", "10.88.0.7", &res.ips[1].addr);
	assert_int_equal(16, res.ips[1].prefixlen);
	/* No "interface": -1, an address of the container's (IPAM-style). */
	assert_int_equal(-1, res.ips[1].iface);
	assert_int_equal(1, res.n_routes);
	assert_int_equal(SX_AF_INET6, res.routes[0].dst.family);
	assert_int_equal(0, res.routes[0].prefixlen);
	assert_null(res.dns);
	sx_cni_result_free(&res);
}

static void test_parse_ipam_style_and_empty_results(void **state)
{
	static const struct {
		const char *text;
		int n_ips;
	} cases[] = {
		{ "{}", 0 },
		{ "{\"cniVersion\":\"1.1.0\"}", 0 },
		{ "{\"ips\":[],\"routes\":[],\"interfaces\":[]}", 0 },
		/* host-local's answer: addresses, no interfaces. */
		{ "{\"cniVersion\":\"0.4.0\",\"ips\":[{\"version\":\"4\",\"address\":\"10.244.1.9/24\","
		  "\"gateway\":\"10.244.1.1\"}],\"dns\":{}}",
		  1 },
		/* IPv4-mapped IPv6 addresses are stored as IPv4. */
		{ "{\"ips\":[{\"address\":\"::ffff:10.1.2.3/24\",\"gateway\":\"10.1.2.1\"}]}", 1 },
		/* Unknown keys are not the reader's business. */
		{ "{\"ips\":[{\"address\":\"10.1.2.3/24\",\"extra\":1}],\"future\":[]}", 1 },
	};
	size_t i;

	for (i = 0; i < ARRAY_LEN(cases); i++) {
		char why[256];

		if (parse_text(cases[i].text, &res, why, sizeof(why)))
			fail_msg("case %s: refused: %s", cases[i].text, why);
		expect_int(cases[i].text, cases[i].n_ips, res.n_ips);
		if (res.n_ips)
			expect_int(cases[i].text, SX_AF_INET, res.ips[0].addr.family);
		sx_cni_result_free(&res);
	}
}

static void test_parse_refuses_malformed_results(void **state)
{
	static const struct {
		const char *text, *why; /* why: what the reason must mention */
	} cases[] = {
		{ "[]", "object" },
		{ "\"result\"", "object" },
		{ "null", "object" },
		{ "{\"interfaces\":{}}", "interfaces" },
		{ "{\"interfaces\":[{}]}", "interfaces[0]" },
		{ "{\"interfaces\":[\"eth0\"]}", "interfaces[0]" },
		{ "{\"interfaces\":[{\"name\":1}]}", "interfaces[0]" },
		{ "{\"interfaces\":[{\"name\":\"eth0\"},{\"name\":\"eth1\",\"mac\":7}]}", "interfaces[1]" },
		{ "{\"interfaces\":[{\"name\":\"eth0\",\"sandbox\":false}]}", "interfaces[0]" },
		{ "{\"ips\":{}}", "ips" },
		{ "{\"ips\":[\"10.1.2.3/24\"]}", "ips[0]" },
		{ "{\"ips\":[{}]}", "ips[0]" },
		{ "{\"ips\":[{\"address\":5}]}", "ips[0]" },
		{ "{\"ips\":[{\"address\":\"10.1.2.3\"}]}", "ips[0]" },
		{ "{\"ips\":[{\"address\":\"10.1.2.3/\"}]}", "ips[0]" },
		{ "{\"ips\":[{\"address\":\"10.1.2.3/33\"}]}", "ips[0]" },
		{ "{\"ips\":[{\"address\":\"10.1.2.3/-1\"}]}", "ips[0]" },
		{ "{\"ips\":[{\"address\":\"10.1.2.3/24x\"}]}", "ips[0]" },
		{ "{\"ips\":[{\"address\":\"fd00::1/129\"}]}", "ips[0]" },
		{ "{\"ips\":[{\"address\":\"10.1.2/24\"}]}", "ips[0]" },
		{ "{\"ips\":[{\"version\":\"6\",\"address\":\"10.1.2.3/24\"}]}", "ips[0].version" },
		{ "{\"ips\":[{\"address\":\"10.1.2.3/24\"},{\"version\":\"4\",\"address\":\"fd00::1/64\"}]}",
		  "ips[1].version" },
		{ "{\"ips\":[{\"version\":4,\"address\":\"10.1.2.3/24\"}]}", "ips[0].version" },
		{ "{\"ips\":[{\"address\":\"/24\"}]}", "ips[0]" },
		{ "{\"ips\":[{\"address\":\"10.1.2.3/24\"},{\"address\":\"x\"}]}", "ips[1]" },
		/* Gateways of the other family. */
		{ "{\"ips\":[{\"address\":\"10.1.2.3/24\",\"gateway\":\"fd00::1\"}]}", "ips[0].gateway" },
		{ "{\"ips\":[{\"address\":\"fd00::3/64\",\"gateway\":\"10.1.2.1\"}]}", "ips[0].gateway" },
		{ "{\"ips\":[{\"address\":\"fd00::3/64\",\"gateway\":\"::ffff:10.1.2.1\"}]}",
		  "ips[0].gateway" },
		{ "{\"ips\":[{\"address\":\"10.1.2.3/24\",\"gateway\":\"10.1.2.1/24\"}]}",
		  "ips[0].gateway" },
		{ "{\"ips\":[{\"address\":\"10.1.2.3/24\",\"gateway\":\"\"}]}", "ips[0].gateway" },
		{ "{\"ips\":[{\"address\":\"10.1.2.3/24\",\"gateway\":null}]}", "ips[0].gateway" },
		{ "{\"ips\":[{\"address\":\"10.1.2.3/24\",\"gateway\":167838209}]}", "ips[0].gateway" },
		/* Interface indexes point into interfaces. */
		{ "{\"ips\":[{\"address\":\"10.1.2.3/24\",\"interface\":0}]}", "ips[0].interface" },
		{ "{\"interfaces\":[{\"name\":\"eth0\"}],"
		  "\"ips\":[{\"address\":\"10.1.2.3/24\",\"interface\":1}]}",
		  "ips[0].interface" },
		{ "{\"interfaces\":[{\"name\":\"eth0\"}],"
		  "\"ips\":[{\"address\":\"10.1.2.3/24\",\"interface\":-1}]}",
		  "ips[0].interface" },
		{ "{\"interfaces\":[{\"name\":\"eth0\"}],"
		  "\"ips\":[{\"address\":\"10.1.2.3/24\",\"interface\":\"0\"}]}",
		  "ips[0].interface" },
		{ "{\"interfaces\":[{\"name\":\"eth0\"}],"
		  "\"ips\":[{\"address\":\"10.1.2.3/24\",\"interface\":0.0}]}",
		  "ips[0].interface" },
		{ "{\"interfaces\":[{\"name\":\"eth0\"}],"
		  "\"ips\":[{\"address\":\"10.1.2.3/24\",\"interface\":null}]}",
		  "ips[0].interface" },
		{ "{\"interfaces\":[{\"name\":\"eth0\"}],"
		  "\"ips\":[{\"address\":\"10.1.2.3/24\",\"interface\":4294967296}]}",
		  "ips[0].interface" },
		{ "{\"routes\":{}}", "routes" },
		{ "{\"routes\":[{}]}", "routes[0]" },
		{ "{\"routes\":[\"0.0.0.0/0\"]}", "routes[0]" },
		{ "{\"routes\":[{\"dst\":\"0.0.0.0\"}]}", "routes[0]" },
		{ "{\"routes\":[{\"dst\":\"0.0.0.0/0\",\"gw\":\"fd00::1\"}]}", "routes[0].gw" },
		{ "{\"routes\":[{\"dst\":\"::/0\",\"gw\":\"10.0.0.1\"}]}", "routes[0].gw" },
		{ "{\"routes\":[{\"dst\":\"0.0.0.0/0\",\"gw\":1}]}", "routes[0].gw" },
		{ "{\"dns\":[]}", "dns" },
		{ "{\"dns\":\"10.96.0.10\"}", "dns" },
	};
	size_t i;

	for (i = 0; i < ARRAY_LEN(cases); i++) {
		char why[256];
		int rc = parse_text(cases[i].text, &res, why, sizeof(why));

		expect_int(cases[i].text, -EINVAL, rc);
		if (!strstr(why, cases[i].why))
			fail_msg("case %s: reason \"%s\" does not mention %s", cases[i].text, why,
				 cases[i].why);
		/* Nothing is kept from a refused result. */
		if (res.dns)
			fail_msg("case %s: a refused result holds dns", cases[i].text);
	}
}

/* {"key":[item,item,...]} with n copies of item. */
static char *repeat(const char *key, const char *item, int n)
{
	size_t len = strlen(key) + 16 + (size_t)n * (strlen(item) + 1), used;
	char *s = malloc(len);
	int i;

	assert_non_null(s);
	used = (size_t)snprintf(s, len, "{\"%s\":[", key);
	for (i = 0; i < n; i++)
		used += (size_t)snprintf(s + used, len - used, "%s%s", i ? "," : "", item);
	snprintf(s + used, len - used, "]}");
	return s;
}

static void test_parse_limits(void **state)
{
	static const struct {
		const char *key, *item;
		int max;
	} cases[] = {
		{ "interfaces", "{\"name\":\"eth0\"}", SX_CNI_MAX_IFACES },
		{ "ips", "{\"address\":\"10.0.0.1/8\"}", SX_CNI_MAX_IPS },
		{ "routes", "{\"dst\":\"10.0.0.0/8\"}", SX_CNI_MAX_ROUTES },
	};
	size_t i;

	for (i = 0; i < ARRAY_LEN(cases); i++) {
		char *full = repeat(cases[i].key, cases[i].item, cases[i].max);
		char *over = repeat(cases[i].key, cases[i].item, cases[i].max + 1);
		char why[256];

		if (parse_text(full, &res, why, sizeof(why)))
			fail_msg("%s: %d refused: %s", cases[i].key, cases[i].max, why);
		sx_cni_result_free(&res);
		expect_int(cases[i].key, -EINVAL, parse_text(over, &res, why, sizeof(why)));
		if (!strstr(why, "more than"))
			fail_msg("%s: reason \"%s\"", cases[i].key, why);
		free(full);
		free(over);
	}
}

/* ---- chained mode: the container's addresses --------------------------- */

static int sandbox_addrs(const char *text, struct sx_endpoint_key *keys, int max, char *why,
			 size_t len)
{
	json_t *obj = test_json(text);
	int n;

	why[0] = '\0';
	n = sx_cni_result_sandbox_addrs(obj, keys, max, why, len);
	json_decref(obj);
	return n;
}

/* A prevResult beyond what sx_cni_result_parse keeps still yields its container addresses. */
static void test_sandbox_addrs_of_a_large_result(void **state)
{
	/* 5 interfaces (host ones first), 3 addresses, 20 routes. */
	static const char *text =
		"{\"cniVersion\":\"1.0.0\",\"interfaces\":[{\"name\":\"br0\"},{\"name\":\"veth1\"},"
		"{\"name\":\"veth2\"},{\"name\":\"veth3\"},{\"name\":\"eth0\",\"sandbox\":\"/run/netns/p\"}],"
		"\"ips\":[{\"address\":\"10.1.0.7/24\",\"interface\":4},"
		"{\"address\":\"10.9.0.1/24\",\"interface\":0},"
		"{\"address\":\"fd00::7/64\",\"interface\":4}],\"routes\":[%s]}";
	char *routes = repeat("r", "{\"dst\":\"10.0.0.0/8\"}", 20), *full;
	struct sx_endpoint_key keys[8];
	char why[256];

	/* repeat() wraps its items as {"r":[...]}: keep the list only. */
	routes[strlen(routes) - 2] = '\0';
	if (asprintf(&full, text, routes + strlen("{\"r\":[")) < 0)
		fail_msg("out of memory");
	expect_int("addresses", 2, sandbox_addrs(full, keys, 8, why, sizeof(why)));
	expect_addr("first", "10.1.0.7", &keys[0]);
	expect_addr("second", "fd00::7", &keys[1]);
	expect_int("full parse refuses it", -EINVAL, parse_text(full, &res, why, sizeof(why)));
	free(full);
	free(routes);
}

static void test_sandbox_addrs_edge_cases(void **state)
{
	struct sx_endpoint_key keys[2];
	char why[256];

	expect_int("no ips", 0, sandbox_addrs("{\"cniVersion\":\"1.0.0\"}", keys, 2, why, sizeof(why)));
	expect_int("IPAM style", 1,
		   sandbox_addrs("{\"ips\":[{\"address\":\"10.0.0.2/8\"}]}", keys, 2, why, sizeof(why)));
	expect_int("over max", -EINVAL,
		   sandbox_addrs("{\"ips\":[{\"address\":\"10.0.0.2/8\"},{\"address\":\"10.0.0.3/8\"},"
				 "{\"address\":\"10.0.0.4/8\"}]}", keys, 2, why, sizeof(why)));
	if (!strstr(why, "more than 2"))
		fail_msg("over max: reason \"%s\"", why);
	expect_int("bad index", -EINVAL,
		   sandbox_addrs("{\"interfaces\":[{\"name\":\"eth0\"}],"
				 "\"ips\":[{\"address\":\"10.0.0.2/8\",\"interface\":1}]}",
				 keys, 2, why, sizeof(why)));
	expect_int("bad address", -EINVAL,
		   sandbox_addrs("{\"ips\":[{\"address\":\"10.0.0.300/8\"}]}", keys, 2, why, sizeof(why)));
	expect_int("not an object", -EINVAL, sandbox_addrs("[]", keys, 2, why, sizeof(why)));
}

/* ---- building ------------------------------------------------------------ */

/* A main-mode result: the host veth, the pod's eth0, two families. */
static void fill_sample(struct sx_cni_result *r)
{
	memset(r, 0, sizeof(*r));
	r->n_ifaces = 2;
	snprintf(r->ifaces[0].name, sizeof(r->ifaces[0].name), "sxv0123456789ab");
	snprintf(r->ifaces[0].mac, sizeof(r->ifaces[0].mac), "02:00:00:00:00:01");
	r->ifaces[0].mtu = 1450;
	snprintf(r->ifaces[1].name, sizeof(r->ifaces[1].name), "eth0");
	snprintf(r->ifaces[1].mac, sizeof(r->ifaces[1].mac), "0a:58:0a:f4:01:05");
	snprintf(r->ifaces[1].sandbox, sizeof(r->ifaces[1].sandbox), "/var/run/netns/cni-1");
	r->ifaces[1].mtu = 1450;
	r->n_ips = 3;
	r->ips[0] = (struct sx_cni_ip){ .addr = addr("10.244.1.5"), .prefixlen = 24,
					.has_gateway = true, .gateway = addr("10.244.1.1"),
					.iface = 1 };
	r->ips[1] = (struct sx_cni_ip){ .addr = addr("fd00:244:1::5"), .prefixlen = 64,
					.iface = 1 };
	r->ips[2] = (struct sx_cni_ip){ .addr = addr("192.168.0.9"), .prefixlen = 32,
					.iface = -1 };
	r->n_routes = 2;
	r->routes[0] = (struct sx_cni_route){ .dst = addr("0.0.0.0"), .prefixlen = 0,
					      .has_gw = true, .gw = addr("10.244.1.1") };
	r->routes[1] = (struct sx_cni_route){ .dst = addr("fd00::"), .prefixlen = 8 };
}

static const struct {
	const char *version;
	bool ip_version; /* "version" on each address: before 1.0.0 */
	bool iface_mtu;	 /* "mtu" on each interface: 1.1.0 */
} versions[] = {
	{ "0.3.0", true, false }, { "0.3.1", true, false }, { "0.4.0", true, false },
	{ "1.0.0", false, false }, { "1.1.0", false, true },
};

static void test_build_per_version(void **state)
{
	size_t v;

	fill_sample(&res);
	for (v = 0; v < ARRAY_LEN(versions); v++) {
		const char *ver = versions[v].version;
		json_t *out = sx_cni_result_build(&res, sx_cni_version_parse(ver), ver);
		json_t *ifaces, *ips, *routes, *o;
		size_t i;

		assert_non_null(out);
		assert_string_equal(ver, str_at(out, "cniVersion"));
		ifaces = json_object_get(out, "interfaces");
		ips = json_object_get(out, "ips");
		routes = json_object_get(out, "routes");
		expect_int(ver, 2, json_array_size(ifaces));
		expect_int(ver, 3, json_array_size(ips));
		expect_int(ver, 2, json_array_size(routes));
		json_array_foreach(ifaces, i, o) {
			json_t *mtu = json_object_get(o, "mtu");

			if (versions[v].iface_mtu != (mtu != NULL))
				fail_msg("%s: interfaces[%zu] %s mtu", ver, i,
					 mtu ? "has an" : "lacks its");
			if (mtu)
				expect_int(ver, 1450, json_integer_value(mtu));
		}
		assert_string_equal("sxv0123456789ab", str_at(json_array_get(ifaces, 0), "name"));
		assert_null(json_object_get(json_array_get(ifaces, 0), "sandbox"));
		assert_string_equal("eth0", str_at(json_array_get(ifaces, 1), "name"));
		assert_string_equal("0a:58:0a:f4:01:05", str_at(json_array_get(ifaces, 1), "mac"));
		assert_string_equal("/var/run/netns/cni-1",
				    str_at(json_array_get(ifaces, 1), "sandbox"));
		json_array_foreach(ips, i, o) {
			const char *family = str_at(o, "version");

			if (versions[v].ip_version != (json_object_get(o, "version") != NULL))
				fail_msg("%s: ips[%zu] %s \"version\"", ver, i,
					 family ? "has a" : "lacks its");
			if (family)
				assert_string_equal(i == 1 ? "6" : "4", family);
		}
		assert_string_equal("10.244.1.5/24", str_at(json_array_get(ips, 0), "address"));
		assert_string_equal("10.244.1.1", str_at(json_array_get(ips, 0), "gateway"));
		expect_int(ver, 1, json_integer_value(json_object_get(json_array_get(ips, 0), "interface")));
		assert_string_equal("fd00:244:1::5/64", str_at(json_array_get(ips, 1), "address"));
		assert_null(json_object_get(json_array_get(ips, 1), "gateway"));
		assert_string_equal("192.168.0.9/32", str_at(json_array_get(ips, 2), "address"));
		assert_null(json_object_get(json_array_get(ips, 2), "interface"));
		assert_string_equal("0.0.0.0/0", str_at(json_array_get(routes, 0), "dst"));
		assert_string_equal("10.244.1.1", str_at(json_array_get(routes, 0), "gw"));
		assert_string_equal("fd00::/8", str_at(json_array_get(routes, 1), "dst"));
		assert_null(json_object_get(json_array_get(routes, 1), "gw"));
		/* No dns known: an empty object, which every version allows. */
		assert_true(json_is_object(json_object_get(out, "dns")));
		expect_int(ver, 0, json_object_size(json_object_get(out, "dns")));
		json_decref(out);
	}
}

static void test_build_omits_unknown_mtu_and_mac(void **state)
{
	json_t *out, *eth0;

	fill_sample(&res);
	res.ifaces[1].mtu = 0;
	res.ifaces[1].mac[0] = '\0';
	out = sx_cni_result_build(&res, SX_CNI_V(1, 1, 0), "1.1.0");
	assert_non_null(out);
	eth0 = json_array_get(json_object_get(out, "interfaces"), 1);
	assert_null(json_object_get(eth0, "mtu"));
	assert_null(json_object_get(eth0, "mac"));
	assert_non_null(json_object_get(json_array_get(json_object_get(out, "interfaces"), 0), "mtu"));
	json_decref(out);
}

static void test_build_empty_result(void **state)
{
	json_t *out;

	memset(&res, 0, sizeof(res));
	out = sx_cni_result_build(&res, SX_CNI_V(0, 3, 1), "0.3.1");
	assert_non_null(out);
	assert_int_equal(0, json_array_size(json_object_get(out, "interfaces")));
	assert_int_equal(0, json_array_size(json_object_get(out, "ips")));
	assert_int_equal(0, json_array_size(json_object_get(out, "routes")));
	assert_true(json_is_array(json_object_get(out, "ips")));
	json_decref(out);
}

static void expect_same_result(const char *what, const struct sx_cni_result *a,
			       const struct sx_cni_result *b)
{
	int i;

	expect_int(what, a->n_ifaces, b->n_ifaces);
	for (i = 0; i < a->n_ifaces; i++) {
		if (strcmp(a->ifaces[i].name, b->ifaces[i].name) ||
		    strcmp(a->ifaces[i].mac, b->ifaces[i].mac) ||
		    strcmp(a->ifaces[i].sandbox, b->ifaces[i].sandbox))
			fail_msg("%s: interfaces[%d] differ", what, i);
	}
	expect_int(what, a->n_ips, b->n_ips);
	for (i = 0; i < a->n_ips; i++) {
		const struct sx_cni_ip *x = &a->ips[i], *y = &b->ips[i];

		if (memcmp(&x->addr, &y->addr, sizeof(x->addr)) || x->prefixlen != y->prefixlen)
			fail_msg("%s: ips[%d] address differs", what, i);
		if (x->has_gateway != y->has_gateway ||
		    (x->has_gateway && memcmp(&x->gateway, &y->gateway, sizeof(x->gateway))))
			fail_msg("%s: ips[%d] gateway differs", what, i);
		expect_int(what, x->iface, y->iface);
	}
	expect_int(what, a->n_routes, b->n_routes);
	for (i = 0; i < a->n_routes; i++) {
		const struct sx_cni_route *x = &a->routes[i], *y = &b->routes[i];

		if (memcmp(&x->dst, &y->dst, sizeof(x->dst)) || x->prefixlen != y->prefixlen)
			fail_msg("%s: routes[%d] dst differs", what, i);
		if (x->has_gw != y->has_gw || (x->has_gw && memcmp(&x->gw, &y->gw, sizeof(x->gw))))
			fail_msg("%s: routes[%d] gw differs", what, i);
	}
}

/* parse(build(r)) == r, in every version. */
static void round_trip(const char *what, const struct sx_cni_result *r)
{
	size_t v;

	for (v = 0; v < ARRAY_LEN(versions); v++) {
		const char *ver = versions[v].version;
		json_t *out = sx_cni_result_build(r, sx_cni_version_parse(ver), ver);
		char why[256] = "", name[80];

		assert_non_null(out);
		snprintf(name, sizeof(name), "%s as %s", what, ver);
		if (sx_cni_result_parse(out, &again, why, sizeof(why)))
			fail_msg("%s: the built result does not parse: %s", name, why);
		expect_same_result(name, r, &again);
		if (r->dns && !json_equal(r->dns, again.dns))
			fail_msg("%s: dns differs", name);
		sx_cni_result_free(&again);
		json_decref(out);
	}
}

static void test_round_trip_built_result(void **state)
{
	fill_sample(&res);
	round_trip("sample", &res);
	/* Host prefixes, default routes, a v4-only and a v6-only result. */
	res.ips[0].prefixlen = 32;
	res.ips[1].prefixlen = 128;
	res.routes[1].prefixlen = 0;
	round_trip("host prefixes", &res);
	res.n_ips = 1;
	res.n_routes = 1;
	round_trip("v4 only", &res);
}

static void test_round_trip_parsed_results(void **state)
{
	static const char *const texts[] = { result_031, result_100 };
	size_t i;

	for (i = 0; i < ARRAY_LEN(texts); i++) {
		char why[256];

		assert_int_equal(0, parse_text(texts[i], &res, why, sizeof(why)));
		round_trip(i ? "1.0.0 result" : "0.3.1 result", &res);
		sx_cni_result_free(&res);
	}
}

static void test_dns_is_passed_through(void **state)
{
	static const char text[] =
		"{\"ips\":[{\"address\":\"10.1.2.3/24\"}],"
		"\"dns\":{\"nameservers\":[\"10.96.0.10\",\"fd00::a\"],\"domain\":\"cluster.local\","
		"\"search\":[\"default.svc.cluster.local\",\"svc.cluster.local\"],"
		"\"options\":[\"ndots:5\"]}}";
	json_t *want = json_loads(text, 0, NULL), *out;
	char why[256];

	assert_non_null(want);
	assert_int_equal(0, parse_text(text, &res, why, sizeof(why)));
	/* parse_text dropped its document: the result's reference keeps dns alive. */
	assert_true(json_equal(json_object_get(want, "dns"), res.dns));
	out = sx_cni_result_build(&res, SX_CNI_V(1, 0, 0), "1.0.0");
	assert_non_null(out);
	assert_true(json_equal(json_object_get(want, "dns"), json_object_get(out, "dns")));
	sx_cni_result_free(&res);
	/* The built result holds its own reference. */
	assert_true(json_equal(json_object_get(want, "dns"), json_object_get(out, "dns")));
	json_decref(out);
	json_decref(want);
}

static void test_free_is_idempotent(void **state)
{
	char why[256];

	assert_int_equal(0, parse_text("{\"dns\":{}}", &res, why, sizeof(why)));
	assert_non_null(res.dns);
	sx_cni_result_free(&res);
	assert_null(res.dns);
	sx_cni_result_free(&res);
	memset(&res, 0, sizeof(res));
	sx_cni_result_free(&res);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_031_result_with_ip_versions),
		cmocka_unit_test(test_parse_100_result_without_ip_versions),
		cmocka_unit_test(test_parse_ipam_style_and_empty_results),
		cmocka_unit_test(test_parse_refuses_malformed_results),
		cmocka_unit_test(test_parse_limits),
		cmocka_unit_test(test_sandbox_addrs_of_a_large_result),
		cmocka_unit_test(test_sandbox_addrs_edge_cases),
		cmocka_unit_test(test_build_per_version),
		cmocka_unit_test(test_build_omits_unknown_mtu_and_mac),
		cmocka_unit_test(test_build_empty_result),
		cmocka_unit_test(test_round_trip_built_result),
		cmocka_unit_test(test_round_trip_parsed_results),
		cmocka_unit_test(test_dns_is_passed_through),
		cmocka_unit_test(test_free_is_idempotent),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
