// SPDX-License-Identifier: Apache-2.0
/*
 * libFuzzer harness for the CNI plugin's input: the network configuration
 * (sx_cni_conf_parse) for every verb and, when it carries one, the prevResult
 * (sx_cni_result_parse, then sx_cni_result_build for every version and a
 * parse of what was built). The first input byte picks the verb; the rest is
 * stdin. Every invariant below aborts when broken, and leaks are bugs.
 *
 * Build and run: make fuzz FUZZ_SECONDS=60 (test/fuzz/run.sh).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "conf.h"
#include "result.h"
#include "version.h"
#include "fuzz.h"

static const enum sx_cni_verb verbs[] = { SX_CNI_ADD,	  SX_CNI_DEL,	 SX_CNI_CHECK,
					  SX_CNI_VERSION, SX_CNI_STATUS, SX_CNI_GC };

static void check_failure(int rc, const struct sx_cni_conf *conf, const struct sx_cni_error *err)
{
	CHECK(rc == err->code);
	CHECK(err->code == SX_CNI_E_VERSION || err->code == SX_CNI_E_DECODE ||
	      err->code == SX_CNI_E_CONFIG);
	CHECK(err->msg[0] != '\0');
	CHECK(memchr(err->msg, '\0', sizeof(err->msg)) != NULL);
	CHECK(memchr(err->details, '\0', sizeof(err->details)) != NULL);
	/* A bad field is named: 'field "X": why'. */
	if (err->code == SX_CNI_E_CONFIG)
		CHECK(!strncmp(err->details, "field \"", 7));
	/* Nothing is left for the caller to free. */
	CHECK(conf->root == NULL);
}

static int valid_name(const char *s)
{
	size_t i;

	if (!s || !((s[0] >= '0' && s[0] <= '9') || (s[0] >= 'A' && s[0] <= 'Z') ||
		    (s[0] >= 'a' && s[0] <= 'z')))
		return 0;
	for (i = 1; s[i]; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= 'a' && s[i] <= 'z') || strchr("_.-", s[i])))
			return 0;
	return i <= 128;
}

static int safe_path(const char *p)
{
	size_t n = p ? strlen(p) : 0;

	return n && p[0] == '/' && !strstr(p, "/../") && !(n >= 3 && !strcmp(p + n - 3, "/.."));
}

static void check_success(enum sx_cni_verb verb, const struct sx_cni_conf *c)
{
	CHECK(memchr(c->cni_version, '\0', sizeof(c->cni_version)) != NULL);
	if (verb == SX_CNI_VERSION)
		return;
	CHECK(c->root && json_is_object(c->root));
	CHECK(sx_cni_version_supported(c->cni_version));
	CHECK(c->version == sx_cni_version_parse(c->cni_version));
	CHECK(c->version >= SX_CNI_V(0, 3, 0));
	if (verb == SX_CNI_CHECK)
		CHECK(c->version >= SX_CNI_V(0, 4, 0));
	if (verb == SX_CNI_STATUS || verb == SX_CNI_GC)
		CHECK(c->version >= SX_CNI_V(1, 1, 0));
	CHECK(valid_name(c->name));
	CHECK(safe_path(c->pin_dir));
	CHECK(safe_path(c->data_dir));
	CHECK(!c->log_file || safe_path(c->log_file));
	CHECK(c->log_level >= 0 && c->log_level <= 2);
	CHECK(c->mtu == 0 || (c->mtu >= SX_CNI_MTU_MIN && c->mtu <= SX_CNI_MTU_MAX));
	if (c->ipam) {
		CHECK(json_is_object(c->ipam));
		CHECK(c->ipam_type && c->ipam_type[0] && !strchr(c->ipam_type, '/'));
		CHECK(strcmp(c->ipam_type, ".") && strcmp(c->ipam_type, ".."));
	}
	CHECK(!c->dns || json_is_object(c->dns));
	CHECK(!c->prev_result || json_is_object(c->prev_result));
	if (verb == SX_CNI_ADD)
		CHECK(!c->ipam != !c->prev_result);
	if (verb == SX_CNI_GC)
		CHECK(json_is_array(c->valid_attachments));
	else
		CHECK(c->valid_attachments == NULL);
}

static void check_same_result(const struct sx_cni_result *a, const struct sx_cni_result *b)
{
	int i;

	CHECK(a->n_ifaces == b->n_ifaces);
	for (i = 0; i < a->n_ifaces; i++) {
		CHECK(!strcmp(a->ifaces[i].name, b->ifaces[i].name));
		CHECK(!strcmp(a->ifaces[i].mac, b->ifaces[i].mac));
		CHECK(!strcmp(a->ifaces[i].sandbox, b->ifaces[i].sandbox));
	}
	CHECK(a->n_ips == b->n_ips);
	for (i = 0; i < a->n_ips; i++) {
		const struct sx_cni_ip *x = &a->ips[i], *y = &b->ips[i];

		CHECK(!memcmp(&x->addr, &y->addr, sizeof(x->addr)));
		CHECK(x->prefixlen == y->prefixlen);
		CHECK(x->has_gateway == y->has_gateway);
		if (x->has_gateway)
			CHECK(!memcmp(&x->gateway, &y->gateway, sizeof(x->gateway)));
		CHECK(x->iface == y->iface);
	}
	CHECK(a->n_routes == b->n_routes);
	for (i = 0; i < a->n_routes; i++) {
		const struct sx_cni_route *x = &a->routes[i], *y = &b->routes[i];

		CHECK(!memcmp(&x->dst, &y->dst, sizeof(x->dst)));
		CHECK(x->prefixlen == y->prefixlen);
		CHECK(x->has_gw == y->has_gw);
		if (x->has_gw)
			CHECK(!memcmp(&x->gw, &y->gw, sizeof(x->gw)));
	}
	/* dns passes through; an absent one is written as {}. */
	CHECK(b->dns && json_is_object(b->dns));
	if (a->dns)
		CHECK(json_equal(a->dns, b->dns));
	else
		CHECK(json_object_size(b->dns) == 0);
}

/* Builds res in every version; what is built must parse back to the same result. */
static void round_trip(const struct sx_cni_result *res)
{
	static struct sx_cni_result again;
	const char *const *v;
	char why[256];

	for (v = sx_cni_versions; *v; v++) {
		int version = sx_cni_version_parse(*v);
		json_t *out = sx_cni_result_build(res, version, *v), *ip;
		size_t i;

		CHECK(out != NULL);
		CHECK(json_is_string(json_object_get(out, "cniVersion")));
		CHECK(!strcmp(json_string_value(json_object_get(out, "cniVersion")), *v));
		json_array_foreach(json_object_get(out, "ips"), i, ip)
			CHECK(!json_object_get(ip, "version") == (version >= SX_CNI_V(1, 0, 0)));
		json_array_foreach(json_object_get(out, "interfaces"), i, ip)
			if (version < SX_CNI_V(1, 1, 0))
				CHECK(!json_object_get(ip, "mtu"));
		why[0] = '\0';
		if (sx_cni_result_parse(out, &again, why, sizeof(why))) {
			fprintf(stderr, "built %s result does not parse: %s\n", *v, why);
			json_dumpf(out, stderr, JSON_INDENT(2));
			fputc('\n', stderr);
			abort();
		}
		check_same_result(res, &again);
		sx_cni_result_free(&again);
		json_decref(out);
	}
}

static void fuzz_prev_result(json_t *prev)
{
	/* static: a result is about 17 KiB. */
	static struct sx_cni_result res;
	char why[256];

	why[0] = '\0';
	if (sx_cni_result_parse(prev, &res, why, sizeof(why))) {
		CHECK(why[0] != '\0');
		CHECK(res.dns == NULL);
		return;
	}
	CHECK(res.n_ifaces >= 0 && res.n_ifaces <= SX_CNI_MAX_IFACES);
	CHECK(res.n_ips >= 0 && res.n_ips <= SX_CNI_MAX_IPS);
	CHECK(res.n_routes >= 0 && res.n_routes <= SX_CNI_MAX_ROUTES);
	round_trip(&res);
	sx_cni_result_free(&res);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sx_cni_error err = { 0 };
	struct sx_cni_conf conf;
	enum sx_cni_verb verb;
	char *text;
	int rc;

	if (size < 1)
		return 0;
	verb = verbs[data[0] % (sizeof(verbs) / sizeof(verbs[0]))];
	text = fuzz_text(data, size);
	if (!text)
		return 0;
	size--;
	rc = sx_cni_conf_parse(text, size, verb, &conf, &err);
	if (rc) {
		check_failure(rc, &conf, &err);
	} else {
		CHECK(err.code == 0);
		check_success(verb, &conf);
		if (conf.prev_result)
			fuzz_prev_result(conf.prev_result);
		sx_cni_conf_free(&conf);
		CHECK(conf.root == NULL);
	}
	free(text);
	return 0;
}
