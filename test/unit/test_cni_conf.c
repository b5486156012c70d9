// SPDX-License-Identifier: Apache-2.0
/*
 * Unit tests for cni/conf.h and cni/version.h: the network configuration on
 * stdin, field by field and verb by verb, and the cniVersion strings.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "conf.h"
#include "log.h"
#include "sysenv.h"
#include "version.h"
#include "unit_helpers.h"

#define DELETE NULL /* a table's value: remove the key from the base configuration */

static const char *verb_name(enum sx_cni_verb verb)
{
	static const char *const names[] = { "ADD", "DEL", "CHECK", "VERSION", "STATUS", "GC" };

	return names[verb];
}

/* A valid configuration for each verb; the tables change one key of it. */
static const char *base_for(enum sx_cni_verb verb)
{
	switch (verb) {
	case SX_CNI_STATUS:
		return "{\"cniVersion\":\"1.1.0\",\"name\":\"net\",\"type\":\"sockvx\","
		       "\"ipam\":{\"type\":\"host-local\"}}";
	case SX_CNI_GC:
		return "{\"cniVersion\":\"1.1.0\",\"name\":\"net\",\"type\":\"sockvx\","
		       "\"ipam\":{\"type\":\"host-local\"},\"cni.dev/valid-attachments\":[]}";
	default:
		return "{\"cniVersion\":\"1.0.0\",\"name\":\"net\",\"type\":\"sockvx\","
		       "\"ipam\":{\"type\":\"host-local\"}}";
	}
}

/* Parses text as stdin, with a clean error. */
static int parse_text(const char *text, enum sx_cni_verb verb, struct sx_cni_conf *c,
		      struct sx_cni_error *e)
{
	memset(e, 0, sizeof(*e));
	return sx_cni_conf_parse(text, strlen(text), verb, c, e);
}

/* Parses the verb's base configuration with key set to the JSON value (or deleted). */
static int parse_with(enum sx_cni_verb verb, const char *key, const char *value,
		      struct sx_cni_conf *c, struct sx_cni_error *e)
{
	json_error_t jerr;
	json_t *base = json_loads(base_for(verb), 0, &jerr);
	char *text;
	int rc;

	assert_non_null(base);
	if (value) {
		json_t *v = json_loads(value, JSON_DECODE_ANY, &jerr);

		if (!v)
			fail_msg("bad test value for \"%s\": %s: %s", key, value, jerr.text);
		assert_int_equal(0, json_object_set_new(base, key, v));
	} else {
		json_object_del(base, key);
	}
	text = json_dumps(base, JSON_COMPACT);
	assert_non_null(text);
	json_decref(base);
	rc = parse_text(text, verb, c, e);
	free(text);
	return rc;
}

/* A JSON string of n copies of c, quoted, with prefix before the copies. */
static char *long_string(const char *prefix, char c, size_t n)
{
	size_t plen = strlen(prefix);
	char *s = malloc(plen + n + 3);

	assert_non_null(s);
	s[0] = '"';
	memcpy(s + 1, prefix, plen);
	memset(s + 1 + plen, c, n);
	s[1 + plen + n] = '"';
	s[2 + plen + n] = '\0';
	return s;
}

/* The failure a table case expects: the code, and the field the details must name. */
static void expect_failure(const char *what, int want_code, const char *field, int rc,
			   const struct sx_cni_conf *c, const struct sx_cni_error *e)
{
	char quoted[80];

	if (rc != want_code || e->code != want_code)
		fail_msg("case \"%s\": expected code %d, got %d (err.code %d: %s: %s)", what,
			 want_code, rc, e->code, e->msg, e->details);
	if (!e->msg[0])
		fail_msg("case \"%s\": empty error message", what);
	if (field) {
		snprintf(quoted, sizeof(quoted), "%s", field);
		if (!strstr(e->details, quoted))
			fail_msg("case \"%s\": details do not name %s: \"%s\"", what, field,
				 e->details);
		/* Code 7 follows one pattern: 'field "X": why'. */
		if (want_code == SX_CNI_E_CONFIG) {
			snprintf(quoted, sizeof(quoted), "field \"%s\": ", field);
			if (strncmp(e->details, quoted, strlen(quoted)))
				fail_msg("case \"%s\": details \"%s\" do not start with %s", what,
					 e->details, quoted);
		}
	}
	if (c->root)
		fail_msg("case \"%s\": a failed parse left the document allocated", what);
}

static void expect_success(const char *what, int rc, const struct sx_cni_error *e)
{
	if (rc || e->code)
		fail_msg("case \"%s\": expected success, got %d (%s: %s)", what, rc, e->msg,
			 e->details);
}

/* ---- one field at a time ------------------------------------------------- */

struct field_case {
	const char *key;
	const char *value; /* JSON text, or DELETE */
	int code;	   /* 0: accepted */
};

static void run_field_cases(enum sx_cni_verb verb, const struct field_case *cases, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		struct sx_cni_conf c;
		struct sx_cni_error e;
		char what[160];
		int rc;

		snprintf(what, sizeof(what), "%s %s=%.60s", verb_name(verb), cases[i].key,
			 cases[i].value ? cases[i].value : "(absent)");
		rc = parse_with(verb, cases[i].key, cases[i].value, &c, &e);
		if (cases[i].code) {
			expect_failure(what, cases[i].code, cases[i].key, rc, &c, &e);
		} else {
			expect_success(what, rc, &e);
			sx_cni_conf_free(&c);
		}
	}
}

static void test_cni_version_field(void **state)
{
	static const struct field_case cases[] = {
		{ "cniVersion", DELETE, SX_CNI_E_CONFIG },
		{ "cniVersion", "1", SX_CNI_E_CONFIG },
		{ "cniVersion", "1.0", SX_CNI_E_CONFIG },
		{ "cniVersion", "null", SX_CNI_E_CONFIG },
		{ "cniVersion", "[\"1.0.0\"]", SX_CNI_E_CONFIG },
		{ "cniVersion", "\"\"", SX_CNI_E_VERSION },
		{ "cniVersion", "\"1.0\"", SX_CNI_E_VERSION },
		{ "cniVersion", "\"1\"", SX_CNI_E_VERSION },
		{ "cniVersion", "\"2.0.0\"", SX_CNI_E_VERSION },
		{ "cniVersion", "\"0.2.0\"", SX_CNI_E_VERSION },
		{ "cniVersion", "\"0.1.0\"", SX_CNI_E_VERSION },
		{ "cniVersion", "\"1.2.0\"", SX_CNI_E_VERSION },
		{ "cniVersion", "\" 1.0.0\"", SX_CNI_E_VERSION },
		{ "cniVersion", "\"1.0.0 \"", SX_CNI_E_VERSION },
		{ "cniVersion", "\"v1.0.0\"", SX_CNI_E_VERSION },
		{ "cniVersion", "\"01.0.0\"", SX_CNI_E_VERSION },
		{ "cniVersion", "\"1.0.0.0\"", SX_CNI_E_VERSION },
		{ "cniVersion", "\"1.0.0-rc1\"", SX_CNI_E_VERSION },
		/* Longer than the buffer that keeps it: still refused, not truncated into "1.0.0". */
		{ "cniVersion", "\"1.0.0xxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"", SX_CNI_E_VERSION },
		{ "cniVersion", "\"0.3.0\"", 0 },
		{ "cniVersion", "\"0.3.1\"", 0 },
		{ "cniVersion", "\"0.4.0\"", 0 },
		{ "cniVersion", "\"1.0.0\"", 0 },
		{ "cniVersion", "\"1.1.0\"", 0 },
	};

	run_field_cases(SX_CNI_ADD, cases, ARRAY_LEN(cases));
	run_field_cases(SX_CNI_DEL, cases, ARRAY_LEN(cases));
}

static void test_cni_version_is_kept_as_text_and_number(void **state)
{
	static const struct {
		const char *value;
		int number;
	} cases[] = {
		{ "\"0.3.0\"", SX_CNI_V(0, 3, 0) }, { "\"0.3.1\"", SX_CNI_V(0, 3, 1) },
		{ "\"0.4.0\"", SX_CNI_V(0, 4, 0) }, { "\"1.0.0\"", SX_CNI_V(1, 0, 0) },
		{ "\"1.1.0\"", SX_CNI_V(1, 1, 0) },
	};
	size_t i;

	for (i = 0; i < ARRAY_LEN(cases); i++) {
		struct sx_cni_conf c;
		struct sx_cni_error e;
		char want[16];

		expect_success(cases[i].value,
			       parse_with(SX_CNI_ADD, "cniVersion", cases[i].value, &c, &e), &e);
		snprintf(want, sizeof(want), "%.*s", (int)strlen(cases[i].value) - 2,
			 cases[i].value + 1);
		assert_string_equal(want, c.cni_version);
		expect_int(cases[i].value, cases[i].number, c.version);
		sx_cni_conf_free(&c);
	}
}

static void test_name_field(void **state)
{
	static const struct field_case cases[] = {
		{ "name", DELETE, SX_CNI_E_CONFIG },
		{ "name", "null", SX_CNI_E_CONFIG },
		{ "name", "7", SX_CNI_E_CONFIG },
		{ "name", "{}", SX_CNI_E_CONFIG },
		{ "name", "\"\"", SX_CNI_E_CONFIG },
		{ "name", "\"-net\"", SX_CNI_E_CONFIG },
		{ "name", "\"_net\"", SX_CNI_E_CONFIG },
		{ "name", "\".net\"", SX_CNI_E_CONFIG },
		{ "name", "\"net/work\"", SX_CNI_E_CONFIG },
		{ "name", "\"../net\"", SX_CNI_E_CONFIG },
		{ "name", "\"net work\"", SX_CNI_E_CONFIG },
		{ "name", "\"net:1\"", SX_CNI_E_CONFIG },
		{ "name", "\"net\\n\"", SX_CNI_E_CONFIG },
		{ "name", "\"n\\u00e9t\"", SX_CNI_E_CONFIG },
		{ "name", "\"a\"", 0 },
		{ "name", "\"0\"", 0 },
		{ "name", "\"k8s-pod_network.v2\"", 0 },
		{ "name", "\"Net-1\"", 0 },
		{ "name", "\"a..b\"", 0 },
	};

	run_field_cases(SX_CNI_ADD, cases, ARRAY_LEN(cases));
}

static void test_name_length_limit_is_128(void **state)
{
	char *ok = long_string("", 'n', 128), *too_long = long_string("", 'n', 129);
	const struct field_case cases[] = {
		{ "name", ok, 0 },
		{ "name", too_long, SX_CNI_E_CONFIG },
	};

	run_field_cases(SX_CNI_ADD, cases, ARRAY_LEN(cases));
	free(ok);
	free(too_long);
}

static void test_path_fields(void **state)
{
	static const char *const fields[] = { "pinDir", "dataDir", "logFile" };
	static const struct {
		const char *value;
		int code;
	} cases[] = {
		{ "\"relative/dir\"", SX_CNI_E_CONFIG },
		{ "\"sockvx\"", SX_CNI_E_CONFIG },
		{ "\"./x\"", SX_CNI_E_CONFIG },
		{ "\"\"", SX_CNI_E_CONFIG },
		{ "\"..\"", SX_CNI_E_CONFIG },
		{ "\"/..\"", SX_CNI_E_CONFIG },
		{ "\"/var/lib/..\"", SX_CNI_E_CONFIG },
		{ "\"/var/../etc\"", SX_CNI_E_CONFIG },
		{ "\"/var/lib/cni/../../../etc/passwd\"", SX_CNI_E_CONFIG },
		{ "\"//..\"", SX_CNI_E_CONFIG },
		{ "1", SX_CNI_E_CONFIG },
		{ "true", SX_CNI_E_CONFIG },
		{ "null", SX_CNI_E_CONFIG },
		{ "[\"/x\"]", SX_CNI_E_CONFIG },
		{ "\"/\"", 0 },
		{ "\"/var/lib/cni/sockvx\"", 0 },
		{ "\"/var/lib/x..y\"", 0 },
		{ "\"/var/..lib\"", 0 },
		{ "\"/var/lib..\"", 0 },
		{ "\"/var/.../x\"", 0 },
		{ "\"/var/./x\"", 0 },
	};
	size_t f, i;

	for (f = 0; f < ARRAY_LEN(fields); f++)
		for (i = 0; i < ARRAY_LEN(cases); i++) {
			const struct field_case one = { fields[f], cases[i].value, cases[i].code };

			run_field_cases(SX_CNI_ADD, &one, 1);
			run_field_cases(SX_CNI_DEL, &one, 1);
		}
}

static void test_path_length_limit(void **state)
{
	/* PATH_MAX / 4 = 1024 bytes: 1023 are accepted, 1024 are not. */
	char *ok = long_string("/", 'p', 1022), *too_long = long_string("/", 'p', 1023);
	const struct field_case cases[] = {
		{ "pinDir", ok, 0 },	     { "pinDir", too_long, SX_CNI_E_CONFIG },
		{ "dataDir", ok, 0 },	     { "dataDir", too_long, SX_CNI_E_CONFIG },
		{ "logFile", ok, 0 },	     { "logFile", too_long, SX_CNI_E_CONFIG },
	};

	run_field_cases(SX_CNI_ADD, cases, ARRAY_LEN(cases));
	free(ok);
	free(too_long);
}

static void test_path_defaults_and_values(void **state)
{
	struct sx_cni_conf c;
	struct sx_cni_error e;

	expect_success("defaults", parse_text(base_for(SX_CNI_ADD), SX_CNI_ADD, &c, &e), &e);
	assert_string_equal(SX_DEFAULT_PIN_DIR, c.pin_dir);
	assert_string_equal(SX_CNI_DEFAULT_DATA_DIR, c.data_dir);
	assert_null(c.log_file);
	assert_int_equal(SX_LOG_WARN, c.log_level);
	assert_int_equal(0, c.mtu);
	assert_null(c.dns);
	assert_null(c.prev_result);
	assert_null(c.valid_attachments);
	assert_string_equal("net", c.name);
	sx_cni_conf_free(&c);
	assert_null(c.root);

	expect_success("values",
		       parse_text("{\"cniVersion\":\"0.4.0\",\"name\":\"n1\",\"type\":\"sockvx\","
				  "\"pinDir\":\"/pins\",\"dataDir\":\"/data\",\"logFile\":\"/log/f\","
				  "\"logLevel\":\"debug\",\"mtu\":1450,"
				  "\"ipam\":{\"type\":\"static\",\"addresses\":[]},"
				  "\"dns\":{\"nameservers\":[\"10.96.0.10\"]}}",
				  SX_CNI_ADD, &c, &e),
		       &e);
	assert_string_equal("/pins", c.pin_dir);
	assert_string_equal("/data", c.data_dir);
	assert_string_equal("/log/f", c.log_file);
	assert_int_equal(SX_LOG_DEBUG, c.log_level);
	assert_int_equal(1450, c.mtu);
	assert_true(sx_cni_conf_is_main(&c));
	assert_string_equal("static", c.ipam_type);
	assert_true(json_is_array(json_object_get(c.ipam, "addresses")));
	assert_true(json_is_object(c.dns));
	assert_string_equal("0.4.0", c.cni_version);
	sx_cni_conf_free(&c);
}

static void test_log_level_field(void **state)
{
	static const struct {
		const char *value;
		int code, level;
	} cases[] = {
		{ NULL, 0, SX_LOG_WARN },
		{ "\"warn\"", 0, SX_LOG_WARN },
		{ "\"info\"", 0, SX_LOG_INFO },
		{ "\"debug\"", 0, SX_LOG_DEBUG },
		{ "\"WARN\"", SX_CNI_E_CONFIG, 0 },
		{ "\"Debug\"", SX_CNI_E_CONFIG, 0 },
		{ "\"error\"", SX_CNI_E_CONFIG, 0 },
		{ "\"verbose\"", SX_CNI_E_CONFIG, 0 },
		{ "\"\"", SX_CNI_E_CONFIG, 0 },
		{ "\"info \"", SX_CNI_E_CONFIG, 0 },
		{ "1", SX_CNI_E_CONFIG, 0 },
		{ "null", SX_CNI_E_CONFIG, 0 },
	};
	size_t i;

	for (i = 0; i < ARRAY_LEN(cases); i++) {
		const char *what = cases[i].value ? cases[i].value : "(absent)";
		struct sx_cni_conf c;
		struct sx_cni_error e;
		int rc = parse_with(SX_CNI_ADD, "logLevel", cases[i].value, &c, &e);

		if (cases[i].code) {
			expect_failure(what, cases[i].code, "logLevel", rc, &c, &e);
			continue;
		}
		expect_success(what, rc, &e);
		expect_int(what, cases[i].level, c.log_level);
		sx_cni_conf_free(&c);
	}
}

static void test_mtu_field(void **state)
{
	static const struct {
		const char *value;
		int code;
		unsigned int mtu;
	} cases[] = {
		{ NULL, 0, 0 },
		{ "576", 0, 576 },
		{ "1280", 0, 1280 },
		{ "1450", 0, 1450 },
		{ "9000", 0, 9000 },
		{ "65535", 0, 65535 },
		{ "575", SX_CNI_E_CONFIG, 0 },
		{ "65536", SX_CNI_E_CONFIG, 0 },
		{ "0", SX_CNI_E_CONFIG, 0 },
		{ "-1", SX_CNI_E_CONFIG, 0 },
		{ "-1500", SX_CNI_E_CONFIG, 0 },
		{ "4294968796", SX_CNI_E_CONFIG, 0 }, /* 2^32 + 1500 must not wrap to 1500 */
		{ "9223372036854775807", SX_CNI_E_CONFIG, 0 },
		{ "1500.0", SX_CNI_E_CONFIG, 0 },
		{ "1450.5", SX_CNI_E_CONFIG, 0 },
		{ "1e3", SX_CNI_E_CONFIG, 0 },
		{ "\"1500\"", SX_CNI_E_CONFIG, 0 },
		{ "true", SX_CNI_E_CONFIG, 0 },
		{ "null", SX_CNI_E_CONFIG, 0 },
		{ "[1500]", SX_CNI_E_CONFIG, 0 },
	};
	size_t i;

	for (i = 0; i < ARRAY_LEN(cases); i++) {
		const char *what = cases[i].value ? cases[i].value : "(absent)";
		struct sx_cni_conf c;
		struct sx_cni_error e;
		int rc = parse_with(SX_CNI_ADD, "mtu", cases[i].value, &c, &e);

		if (cases[i].code) {
			expect_failure(what, cases[i].code, "mtu", rc, &c, &e);
			continue;
		}
		expect_success(what, rc, &e);
		expect_int(what, cases[i].mtu, c.mtu);
		sx_cni_conf_free(&c);
	}
}

/* An mtu IPv6 cannot use is refused before IPAM runs when the IPAM section shows IPv6. */
static void test_mtu_against_ipam(void **state)
{
	static const struct {
		const char *what, *mtu, *ipam;
		int code;
	} cases[] = {
		{ "IPv6 range", "1000", "{\"type\":\"host-local\",\"ranges\":[[{\"subnet\":\"10.1.0.0/24\"}],[{\"subnet\":\"fd00::/64\"}]]}", SX_CNI_E_CONFIG },
		{ "IPv6 subnet", "1279", "{\"type\":\"host-local\",\"subnet\":\"fd00::/64\"}", SX_CNI_E_CONFIG },
		{ "IPv4 only", "1000", "{\"type\":\"host-local\",\"ranges\":[[{\"subnet\":\"10.1.0.0/24\"}]]}", 0 },
		{ "1280 with IPv6", "1280", "{\"type\":\"host-local\",\"subnet\":\"fd00::/64\"}", 0 },
		{ "no mtu", NULL, "{\"type\":\"host-local\",\"subnet\":\"fd00::/64\"}", 0 },
		{ "ranges not arrays", "1000", "{\"type\":\"host-local\",\"ranges\":{\"subnet\":\"fd00::/64\"}}", 0 },
	};
	char text[512];
	size_t i;

	for (i = 0; i < ARRAY_LEN(cases); i++) {
		struct sx_cni_conf c;
		struct sx_cni_error e;
		int rc;

		snprintf(text, sizeof(text),
			 "{\"cniVersion\":\"1.0.0\",\"name\":\"net\",\"type\":\"sockvx\",%s%s%s\"ipam\":%s}",
			 cases[i].mtu ? "\"mtu\":" : "", cases[i].mtu ? cases[i].mtu : "",
			 cases[i].mtu ? "," : "", cases[i].ipam);
		rc = parse_text(text, SX_CNI_ADD, &c, &e);
		if (cases[i].code) {
			expect_failure(cases[i].what, cases[i].code, "mtu", rc, &c, &e);
			continue;
		}
		expect_success(cases[i].what, rc, &e);
		sx_cni_conf_free(&c);
	}
}

static void test_ipam_field(void **state)
{
	char *long_type = long_string("", 't', 65);
	char ipam_long[100], ipam_max[100];
	char *max_type = long_string("", 't', 64);
	const struct field_case cases[] = {
		{ "ipam", "\"host-local\"", SX_CNI_E_CONFIG },
		{ "ipam", "[]", SX_CNI_E_CONFIG },
		{ "ipam", "[{\"type\":\"host-local\"}]", SX_CNI_E_CONFIG },
		{ "ipam", "1", SX_CNI_E_CONFIG },
		{ "ipam", "true", SX_CNI_E_CONFIG },
		{ "ipam", "{}", SX_CNI_E_CONFIG },
		{ "ipam", "{\"type\":\"\"}", SX_CNI_E_CONFIG },
		{ "ipam", "{\"type\":null}", SX_CNI_E_CONFIG },
		{ "ipam", "{\"type\":5}", SX_CNI_E_CONFIG },
		{ "ipam", "{\"type\":[\"host-local\"]}", SX_CNI_E_CONFIG },
		{ "ipam", "{\"type\":\"/opt/cni/bin/host-local\"}", SX_CNI_E_CONFIG },
		{ "ipam", "{\"type\":\"../host-local\"}", SX_CNI_E_CONFIG },
		{ "ipam", "{\"type\":\"bin/host-local\"}", SX_CNI_E_CONFIG },
		{ "ipam", "{\"type\":\"host-local/\"}", SX_CNI_E_CONFIG },
		{ "ipam", "{\"type\":\".\"}", SX_CNI_E_CONFIG },
		{ "ipam", "{\"type\":\"..\"}", SX_CNI_E_CONFIG },
		{ "ipam", ipam_long, SX_CNI_E_CONFIG },
		{ "ipam", ipam_max, 0 },
		{ "ipam", "{\"type\":\"host-local\"}", 0 },
		{ "ipam", "{\"type\":\"whereabouts\",\"range\":\"10.0.0.0/8\"}", 0 },
		{ "ipam", "{\"type\":\"...\"}", 0 },
	};

	snprintf(ipam_long, sizeof(ipam_long), "{\"type\":%s}", long_type);
	snprintf(ipam_max, sizeof(ipam_max), "{\"type\":%s}", max_type);
	run_field_cases(SX_CNI_ADD, cases, ARRAY_LEN(cases));
	run_field_cases(SX_CNI_DEL, cases, ARRAY_LEN(cases));
	free(long_type);
	free(max_type);
}

static void test_dns_and_prev_result_must_be_objects(void **state)
{
	static const struct field_case cases[] = {
		{ "dns", "\"10.96.0.10\"", SX_CNI_E_CONFIG },
		{ "dns", "[\"10.96.0.10\"]", SX_CNI_E_CONFIG },
		{ "dns", "1", SX_CNI_E_CONFIG },
		{ "dns", "true", SX_CNI_E_CONFIG },
		{ "dns", "{}", 0 },
		{ "dns", "null", 0 },
		{ "dns", "{\"nameservers\":[\"10.96.0.10\"],\"search\":[\"svc\"]}", 0 },
		{ "prevResult", "\"x\"", SX_CNI_E_CONFIG },
		{ "prevResult", "[]", SX_CNI_E_CONFIG },
		{ "prevResult", "0", SX_CNI_E_CONFIG },
		{ "prevResult", "false", SX_CNI_E_CONFIG },
		{ "prevResult", "{}", 0 },
		{ "prevResult", "null", 0 },
	};

	/* DEL and CHECK take either; ADD refuses ipam with prevResult (below). */
	run_field_cases(SX_CNI_DEL, cases, ARRAY_LEN(cases));
	run_field_cases(SX_CNI_CHECK, cases, ARRAY_LEN(cases));
}

static void test_dns_and_prev_result_are_kept(void **state)
{
	struct sx_cni_conf c;
	struct sx_cni_error e;

	expect_success("kept",
		       parse_text("{\"cniVersion\":\"1.0.0\",\"name\":\"n\","
				  "\"dns\":{\"domain\":\"example.com\"},"
				  "\"prevResult\":{\"ips\":[{\"address\":\"10.1.2.3/24\"}]}}",
				  SX_CNI_ADD, &c, &e),
		       &e);
	assert_false(sx_cni_conf_is_main(&c));
	assert_null(c.ipam);
	assert_null(c.ipam_type);
	assert_string_equal("example.com", json_string_value(json_object_get(c.dns, "domain")));
	assert_int_equal(1, json_array_size(json_object_get(c.prev_result, "ips")));
	sx_cni_conf_free(&c);
}

/* ---- verb rules ---------------------------------------------------------- */

static void test_add_needs_exactly_one_of_ipam_and_prev_result(void **state)
{
	static const struct {
		const char *what, *json;
		int code;
	} cases[] = {
		{ "ipam and prevResult",
		  "{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"ipam\":{\"type\":\"host-local\"},"
		  "\"prevResult\":{}}",
		  SX_CNI_E_CONFIG },
		{ "neither", "{\"cniVersion\":\"1.0.0\",\"name\":\"n\"}", SX_CNI_E_CONFIG },
		{ "neither (null ipam)", "{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"ipam\":null}",
		  SX_CNI_E_CONFIG },
		{ "neither (null prevResult)",
		  "{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"prevResult\":null}", SX_CNI_E_CONFIG },
		{ "ipam only", "{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"ipam\":{\"type\":\"x\"}}", 0 },
		{ "prevResult only", "{\"cniVersion\":\"0.3.1\",\"name\":\"n\",\"prevResult\":{}}", 0 },
		{ "ipam and null prevResult",
		  "{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"ipam\":{\"type\":\"x\"},"
		  "\"prevResult\":null}",
		  0 },
	};
	size_t i;

	for (i = 0; i < ARRAY_LEN(cases); i++) {
		struct sx_cni_conf c;
		struct sx_cni_error e;
		int rc = parse_text(cases[i].json, SX_CNI_ADD, &c, &e);

		if (cases[i].code) {
			expect_failure(cases[i].what, cases[i].code, "ipam", rc, &c, &e);
			continue;
		}
		expect_success(cases[i].what, rc, &e);
		sx_cni_conf_free(&c);
	}
}

static void test_other_verbs_take_neither_ipam_nor_prev_result(void **state)
{
	static const enum sx_cni_verb verbs[] = { SX_CNI_DEL, SX_CNI_CHECK, SX_CNI_STATUS };
	size_t i;

	for (i = 0; i < ARRAY_LEN(verbs); i++) {
		struct sx_cni_conf c;
		struct sx_cni_error e;

		expect_success(verb_name(verbs[i]),
			       parse_with(verbs[i], "ipam", DELETE, &c, &e), &e);
		sx_cni_conf_free(&c);
	}
}

static void test_verbs_need_recent_versions(void **state)
{
	static const struct {
		enum sx_cni_verb verb;
		const char *version;
		int code;
	} cases[] = {
		{ SX_CNI_CHECK, "\"0.3.0\"", SX_CNI_E_VERSION },
		{ SX_CNI_CHECK, "\"0.3.1\"", SX_CNI_E_VERSION },
		{ SX_CNI_CHECK, "\"0.4.0\"", 0 },
		{ SX_CNI_CHECK, "\"1.0.0\"", 0 },
		{ SX_CNI_CHECK, "\"1.1.0\"", 0 },
		{ SX_CNI_STATUS, "\"0.3.1\"", SX_CNI_E_VERSION },
		{ SX_CNI_STATUS, "\"0.4.0\"", SX_CNI_E_VERSION },
		{ SX_CNI_STATUS, "\"1.0.0\"", SX_CNI_E_VERSION },
		{ SX_CNI_STATUS, "\"1.1.0\"", 0 },
		{ SX_CNI_GC, "\"0.3.0\"", SX_CNI_E_VERSION },
		{ SX_CNI_GC, "\"0.4.0\"", SX_CNI_E_VERSION },
		{ SX_CNI_GC, "\"1.0.0\"", SX_CNI_E_VERSION },
		{ SX_CNI_GC, "\"1.1.0\"", 0 },
		{ SX_CNI_ADD, "\"0.3.0\"", 0 },
		{ SX_CNI_DEL, "\"0.3.0\"", 0 },
	};
	size_t i;

	for (i = 0; i < ARRAY_LEN(cases); i++) {
		const struct field_case one = { "cniVersion", cases[i].version, cases[i].code };

		run_field_cases(cases[i].verb, &one, 1);
	}
}

static void test_version_errors_name_the_verb(void **state)
{
	struct sx_cni_conf c;
	struct sx_cni_error e;

	parse_with(SX_CNI_CHECK, "cniVersion", "\"0.3.1\"", &c, &e);
	assert_non_null(strstr(e.details, "CHECK"));
	assert_non_null(strstr(e.details, "0.3.1"));
	parse_with(SX_CNI_GC, "cniVersion", "\"1.0.0\"", &c, &e);
	assert_non_null(strstr(e.details, "GC"));
	parse_with(SX_CNI_STATUS, "cniVersion", "\"1.0.0\"", &c, &e);
	assert_non_null(strstr(e.details, "STATUS"));
	/* The version of the configuration survives a refusal: the error JSON speaks it. */
	parse_with(SX_CNI_CHECK, "cniVersion", "\"0.3.1\"", &c, &e);
	assert_string_equal("0.3.1", c.cni_version);
}

static void test_gc_valid_attachments(void **state)
{
	static const struct field_case cases[] = {
		{ "cni.dev/valid-attachments", DELETE, SX_CNI_E_CONFIG },
		{ "cni.dev/valid-attachments", "null", SX_CNI_E_CONFIG },
		{ "cni.dev/valid-attachments", "{}", SX_CNI_E_CONFIG },
		{ "cni.dev/valid-attachments", "\"abc/eth0\"", SX_CNI_E_CONFIG },
		{ "cni.dev/valid-attachments", "[1]", SX_CNI_E_CONFIG },
		{ "cni.dev/valid-attachments", "[[\"abc\",\"eth0\"]]", SX_CNI_E_CONFIG },
		{ "cni.dev/valid-attachments", "[{}]", SX_CNI_E_CONFIG },
		{ "cni.dev/valid-attachments", "[{\"containerID\":\"abc\"}]", SX_CNI_E_CONFIG },
		{ "cni.dev/valid-attachments", "[{\"ifname\":\"eth0\"}]", SX_CNI_E_CONFIG },
		{ "cni.dev/valid-attachments", "[{\"containerID\":1,\"ifname\":\"eth0\"}]",
		  SX_CNI_E_CONFIG },
		{ "cni.dev/valid-attachments", "[{\"containerID\":\"abc\",\"ifname\":null}]",
		  SX_CNI_E_CONFIG },
		{ "cni.dev/valid-attachments",
		  "[{\"containerID\":\"abc\",\"ifname\":\"eth0\"},{\"containerID\":\"def\"}]",
		  SX_CNI_E_CONFIG },
		{ "cni.dev/valid-attachments", "[]", 0 },
		{ "cni.dev/valid-attachments", "[{\"containerID\":\"abc\",\"ifname\":\"eth0\"}]", 0 },
		{ "cni.dev/valid-attachments",
		  "[{\"containerID\":\"abc\",\"ifname\":\"eth0\",\"extra\":1},"
		  "{\"containerID\":\"def\",\"ifname\":\"net1\"}]",
		  0 },
	};

	run_field_cases(SX_CNI_GC, cases, ARRAY_LEN(cases));
}

static void test_gc_keeps_valid_attachments_other_verbs_ignore_them(void **state)
{
	struct sx_cni_conf c;
	struct sx_cni_error e;

	expect_success("GC",
		       parse_with(SX_CNI_GC, "cni.dev/valid-attachments",
				  "[{\"containerID\":\"a\",\"ifname\":\"eth0\"},"
				  "{\"containerID\":\"b\",\"ifname\":\"eth1\"}]",
				  &c, &e),
		       &e);
	assert_int_equal(2, json_array_size(c.valid_attachments));
	sx_cni_conf_free(&c);
	/* Without the list every attachment would look stale: the refusal says why. */
	assert_int_equal(SX_CNI_E_CONFIG,
			 parse_with(SX_CNI_GC, "cni.dev/valid-attachments", DELETE, &c, &e));
	assert_non_null(strstr(e.details, "required"));
	/* Not GC: the list is not read, so not checked either. */
	expect_success("DEL", parse_with(SX_CNI_DEL, "cni.dev/valid-attachments", "5", &c, &e),
		       &e);
	assert_null(c.valid_attachments);
	sx_cni_conf_free(&c);
}

static void test_version_verb(void **state)
{
	static const struct {
		const char *what, *text;
		int code;
		const char *version; /* cni_version on success */
	} cases[] = {
		{ "empty", "", 0, SX_CNI_VERSION_LATEST },
		{ "blank", " \t\r\n \n", 0, SX_CNI_VERSION_LATEST },
		{ "empty object", "{}", 0, SX_CNI_VERSION_LATEST },
		{ "supported", "{\"cniVersion\":\"0.4.0\"}", 0, "0.4.0" },
		/* A runtime asks with its own version; VERSION answers whatever it is. */
		{ "old", "{\"cniVersion\":\"0.2.0\"}", 0, "0.2.0" },
		{ "future", "{\"cniVersion\":\"9.9.9\"}", 0, "9.9.9" },
		/* VERSION reads nothing but cniVersion. */
		{ "bad name ignored", "{\"cniVersion\":\"1.0.0\",\"name\":\"-x\",\"mtu\":1}", 0,
		  "1.0.0" },
		{ "not a string", "{\"cniVersion\":1}", SX_CNI_E_CONFIG, NULL },
		{ "not JSON", "hello", SX_CNI_E_DECODE, NULL },
		{ "array", "[]", SX_CNI_E_DECODE, NULL },
		{ "blank then junk", "  x", SX_CNI_E_DECODE, NULL },
	};
	size_t i;

	for (i = 0; i < ARRAY_LEN(cases); i++) {
		struct sx_cni_conf c;
		struct sx_cni_error e;
		int rc = parse_text(cases[i].text, SX_CNI_VERSION, &c, &e);

		if (cases[i].code) {
			expect_failure(cases[i].what, cases[i].code,
				       cases[i].code == SX_CNI_E_CONFIG ? "cniVersion" : NULL, rc,
				       &c, &e);
			continue;
		}
		expect_success(cases[i].what, rc, &e);
		assert_string_equal(cases[i].version, c.cni_version);
		expect_int(cases[i].what, sx_cni_version_parse(cases[i].version), c.version);
		sx_cni_conf_free(&c);
	}
}

static void test_other_verbs_refuse_empty_stdin(void **state)
{
	static const enum sx_cni_verb verbs[] = { SX_CNI_ADD,	 SX_CNI_DEL, SX_CNI_CHECK,
						  SX_CNI_STATUS, SX_CNI_GC };
	size_t i;

	for (i = 0; i < ARRAY_LEN(verbs); i++) {
		struct sx_cni_conf c;
		struct sx_cni_error e;

		expect_failure(verb_name(verbs[i]), SX_CNI_E_DECODE, NULL,
			       parse_text("", verbs[i], &c, &e), &c, &e);
		expect_failure(verb_name(verbs[i]), SX_CNI_E_DECODE, NULL,
			       parse_text(" \n", verbs[i], &c, &e), &c, &e);
	}
}

/* ---- decoding ------------------------------------------------------------ */

static void test_decode_errors(void **state)
{
	static const struct {
		const char *what, *text;
	} cases[] = {
		{ "not JSON", "cniVersion: 1.0.0" },
		{ "truncated", "{\"cniVersion\":\"1.0.0\"" },
		{ "trailing comma", "{\"cniVersion\":\"1.0.0\",}" },
		{ "single quotes", "{'cniVersion':'1.0.0'}" },
		{ "trailing junk", "{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"ipam\":{\"type\":\"x\"}} x" },
		{ "two documents", "{} {}" },
		{ "top-level array",
		  "[{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"ipam\":{\"type\":\"x\"}}]" },
		{ "top-level string", "\"1.0.0\"" },
		{ "top-level number", "1" },
		{ "top-level null", "null" },
		{ "duplicate key",
		  "{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"pinDir\":\"/a\",\"pinDir\":\"/b\","
		  "\"ipam\":{\"type\":\"x\"}}" },
		{ "duplicate cniVersion",
		  "{\"cniVersion\":\"1.0.0\",\"cniVersion\":\"1.0.0\",\"name\":\"n\","
		  "\"ipam\":{\"type\":\"x\"}}" },
		{ "duplicate key nested",
		  "{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"ipam\":{\"type\":\"x\",\"type\":\"y\"}}" },
		{ "NUL escape", "{\"cniVersion\":\"1.0.0\",\"name\":\"n\\u0000x\",\"ipam\":{\"type\":\"x\"}}" },
		{ "invalid UTF-8", "{\"cniVersion\":\"1.0.0\",\"name\":\"n\xff\",\"ipam\":{\"type\":\"x\"}}" },
		{ "huge integer", "{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"mtu\":99999999999999999999,"
				  "\"ipam\":{\"type\":\"x\"}}" },
	};
	static const enum sx_cni_verb verbs[] = { SX_CNI_ADD, SX_CNI_DEL, SX_CNI_CHECK,
						  SX_CNI_VERSION };
	size_t i, v;

	for (v = 0; v < ARRAY_LEN(verbs); v++)
		for (i = 0; i < ARRAY_LEN(cases); i++) {
			struct sx_cni_conf c;
			struct sx_cni_error e;
			int rc = parse_text(cases[i].text, verbs[v], &c, &e);

			expect_failure(cases[i].what, SX_CNI_E_DECODE, NULL, rc, &c, &e);
		}
}

static void test_decode_error_says_where(void **state)
{
	struct sx_cni_conf c;
	struct sx_cni_error e;

	assert_int_equal(SX_CNI_E_DECODE, parse_text("{\n\"a\": tru }", SX_CNI_ADD, &c, &e));
	assert_non_null(strstr(e.details, "line 2"));
	assert_int_equal(SX_CNI_E_DECODE, parse_text("[1]", SX_CNI_ADD, &c, &e));
	assert_non_null(strstr(e.details, "object"));
}

static void test_parse_respects_len(void **state)
{
	/* Only the first len bytes are the document. */
	static const char text[] = "{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"ipam\":{\"type\":\"x\"}}garbage";
	struct sx_cni_conf c;
	struct sx_cni_error e = { 0 };

	expect_success("len", sx_cni_conf_parse(text, strlen(text) - 7, SX_CNI_ADD, &c, &e), &e);
	sx_cni_conf_free(&c);
	memset(&e, 0, sizeof(e));
	assert_int_equal(SX_CNI_E_DECODE,
			 sx_cni_conf_parse(text, strlen(text) - 8, SX_CNI_ADD, &c, &e));
}

static void test_unknown_fields_are_ignored(void **state)
{
	static const struct field_case cases[] = {
		{ "futureField", "{\"nested\":[1,2,3]}", 0 },
		{ "args", "{\"cni\":{\"ips\":[\"10.0.0.5\"]}}", 0 },
		{ "runtimeConfig", "{\"portMappings\":[]}", 0 },
		{ "capabilities", "{\"portMappings\":true}", 0 },
		{ "ipMasq", "true", 0 },
		{ "cni.dev/attachments", "[]", 0 },
		{ "", "null", 0 },
		{ "CNIVERSION", "5", 0 },
		{ "Name", "\"-\"", 0 },
		{ "type", "\"something-else\"", 0 },
	};

	run_field_cases(SX_CNI_ADD, cases, ARRAY_LEN(cases));
}

static void test_first_error_is_kept(void **state)
{
	struct sx_cni_conf c;
	struct sx_cni_error e;
	const char *text = "{\"cniVersion\":\"1.0.0\"}";

	/* An error recorded before the parse is the cause; the parse keeps it. */
	memset(&e, 0, sizeof(e));
	sx_cni_fail(&e, SX_CNI_E_IO, "earlier", "first");
	assert_int_equal(SX_CNI_E_IO, sx_cni_conf_parse(text, strlen(text), SX_CNI_ADD, &c, &e));
	assert_string_equal("earlier", e.msg);
	assert_string_equal("first", e.details);
	assert_null(c.root);
}

/* ---- sx_cni_version_parse and sx_cni_version_supported ------------------- */

static void test_version_parse_accepts_x_y_z(void **state)
{
	static const struct {
		const char *text;
		int want;
	} cases[] = {
		{ "0.3.0", SX_CNI_V(0, 3, 0) }, { "0.3.1", SX_CNI_V(0, 3, 1) },
		{ "0.4.0", SX_CNI_V(0, 4, 0) }, { "1.0.0", SX_CNI_V(1, 0, 0) },
		{ "1.1.0", SX_CNI_V(1, 1, 0) }, { "0.0.0", 0 },
		{ "99.99.99", SX_CNI_V(99, 99, 99) }, { "2.10.3", SX_CNI_V(2, 10, 3) },
	};
	size_t i;

	for (i = 0; i < ARRAY_LEN(cases); i++)
		expect_int(cases[i].text, cases[i].want, sx_cni_version_parse(cases[i].text));
	/* Comparisons follow the versions' order. */
	assert_true(sx_cni_version_parse("0.3.1") < sx_cni_version_parse("0.4.0"));
	assert_true(sx_cni_version_parse("0.4.0") < sx_cni_version_parse("1.0.0"));
	assert_true(sx_cni_version_parse("1.0.0") < sx_cni_version_parse("1.1.0"));
	assert_true(sx_cni_version_parse("1.9.0") < sx_cni_version_parse("1.10.0"));
}

static void test_version_parse_is_strict(void **state)
{
	static const char *const cases[] = {
		"",	    " 1.0.0",	"1.0.0 ",  "+1.0.0",  "-1.0.0", "1.-0.0", "1.+0.0",
		"1.0",	    "1",	"1.0.0.0", "1.0.0.",  ".1.0.0", "1..0",	  "1.0..0",
		"v1.0.0",   "1.0.0-rc", "1.0.0\n", "\t1.0.0", "1.0.x",	"a.b.c",  "1,0,0",
		"100.0.0",  "1.100.0",	"1.0.100", "1000.0.0", "0x1.0.0", "1 .0.0", "...",
	};
	size_t i;

	for (i = 0; i < ARRAY_LEN(cases); i++)
		expect_int(cases[i], -1, sx_cni_version_parse(cases[i]));
	expect_int("NULL", -1, sx_cni_version_parse(NULL));
}

static void test_version_supported_list(void **state)
{
	static const char *const yes[] = { "0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0" };
	static const char *const no[] = { "0.1.0", "0.2.0", "0.4.1", "1.0.1", "1.2.0",
					  "2.0.0", "1.0",   "",	     "01.0.0", " 1.0.0" };
	size_t i, n = 0;

	for (i = 0; i < ARRAY_LEN(yes); i++)
		expect_int(yes[i], 1, sx_cni_version_supported(yes[i]));
	for (i = 0; i < ARRAY_LEN(no); i++)
		expect_int(no[i], 0, sx_cni_version_supported(no[i]));
	expect_int("NULL", 0, sx_cni_version_supported(NULL));
	/* The list is oldest first and every entry parses. */
	for (i = 0; sx_cni_versions[i]; i++, n++) {
		expect_int(sx_cni_versions[i], 1, sx_cni_version_parse(sx_cni_versions[i]) > 0);
		if (i)
			expect_int(sx_cni_versions[i], 1,
				   sx_cni_version_parse(sx_cni_versions[i]) >
					   sx_cni_version_parse(sx_cni_versions[i - 1]));
	}
	assert_int_equal(ARRAY_LEN(yes), n);
	assert_string_equal(SX_CNI_VERSION_LATEST, sx_cni_versions[n - 1]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cni_version_field),
		cmocka_unit_test(test_cni_version_is_kept_as_text_and_number),
		cmocka_unit_test(test_name_field),
		cmocka_unit_test(test_name_length_limit_is_128),
		cmocka_unit_test(test_path_fields),
		cmocka_unit_test(test_path_length_limit),
		cmocka_unit_test(test_path_defaults_and_values),
		cmocka_unit_test(test_log_level_field),
		cmocka_unit_test(test_mtu_field),
		cmocka_unit_test(test_mtu_against_ipam),
		cmocka_unit_test(test_ipam_field),
		cmocka_unit_test(test_dns_and_prev_result_must_be_objects),
		cmocka_unit_test(test_dns_and_prev_result_are_kept),
		cmocka_unit_test(test_add_needs_exactly_one_of_ipam_and_prev_result),
		cmocka_unit_test(test_other_verbs_take_neither_ipam_nor_prev_result),
		cmocka_unit_test(test_verbs_need_recent_versions),
		cmocka_unit_test(test_version_errors_name_the_verb),
		cmocka_unit_test(test_gc_valid_attachments),
		cmocka_unit_test(test_gc_keeps_valid_attachments_other_verbs_ignore_them),
		cmocka_unit_test(test_version_verb),
		cmocka_unit_test(test_other_verbs_refuse_empty_stdin),
		cmocka_unit_test(test_decode_errors),
		cmocka_unit_test(test_decode_error_says_where),
		cmocka_unit_test(test_parse_respects_len),
		cmocka_unit_test(test_unknown_fields_are_ignored),
		cmocka_unit_test(test_first_error_is_kept),
		cmocka_unit_test(test_version_parse_accepts_x_y_z),
		cmocka_unit_test(test_version_parse_is_strict),
		cmocka_unit_test(test_version_supported_list),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
