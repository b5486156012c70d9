// SPDX-License-Identifier: Apache-2.0
/*
 * Unit tests for cni/env.h and cni/error.h: the CNI_* variables a runtime
 * invokes the plugin with, validated per verb, and how errors are recorded.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "env.h"
#include "error.h"
#include "unit_helpers.h"

static const char *const vars[] = { "CNI_COMMAND", "CNI_CONTAINERID", "CNI_NETNS",
				    "CNI_IFNAME",  "CNI_ARGS",	      "CNI_PATH" };

/* Every test starts from an environment without CNI_* variables. */
static int clear_env(void **state)
{
	size_t i;

	for (i = 0; i < ARRAY_LEN(vars); i++)
		unsetenv(vars[i]);
	return 0;
}

/* The variables of a table case, in vars' order; NULL leaves one unset. */
struct env_case {
	const char *what;
	const char *value[6];
	int code;
	const char *mention; /* what msg or details must name on failure */
};

static void set_env(const char *const value[6])
{
	size_t i;

	clear_env(NULL);
	for (i = 0; i < ARRAY_LEN(vars); i++)
		if (value[i])
			assert_int_equal(0, setenv(vars[i], value[i], 1));
}

static void run_env_cases(const struct env_case *cases, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		struct sx_cni_error e = { 0 };
		struct sx_cni_env env;
		int rc;

		set_env(cases[i].value);
		rc = sx_cni_env_read(&env, &e);
		if (rc != cases[i].code || e.code != cases[i].code)
			fail_msg("case \"%s\": expected %d, got %d (%s: %s)", cases[i].what,
				 cases[i].code, rc, e.msg, e.details);
		if (!cases[i].code)
			continue;
		if (!e.msg[0])
			fail_msg("case \"%s\": empty message", cases[i].what);
		if (cases[i].mention && !strstr(e.msg, cases[i].mention) &&
		    !strstr(e.details, cases[i].mention))
			fail_msg("case \"%s\": \"%s: %s\" does not name %s", cases[i].what, e.msg,
				 e.details, cases[i].mention);
	}
	clear_env(NULL);
}

#define GOOD_ID "0123456789abcdef"
#define GOOD_NS "/var/run/netns/cni-1"
#define GOOD_PATH "/opt/cni/bin"

static void test_command(void **state)
{
	static const struct env_case cases[] = {
		{ "unset", { NULL }, SX_CNI_E_ENV, "CNI_COMMAND" },
		{ "empty", { "" }, SX_CNI_E_ENV, "CNI_COMMAND" },
		{ "lower case", { "add" }, SX_CNI_E_ENV, "CNI_COMMAND" },
		{ "unknown", { "UPDATE" }, SX_CNI_E_ENV, "CNI_COMMAND" },
		{ "prefix", { "ADDX" }, SX_CNI_E_ENV, "CNI_COMMAND" },
		{ "space", { "ADD " }, SX_CNI_E_ENV, "CNI_COMMAND" },
		{ "VERSION alone", { "VERSION" }, 0, NULL },
		{ "STATUS alone", { "STATUS" }, 0, NULL },
		{ "GC with path", { "GC", NULL, NULL, NULL, NULL, GOOD_PATH }, 0, NULL },
	};

	run_env_cases(cases, ARRAY_LEN(cases));
}

static void test_each_verb_is_recognised(void **state)
{
	static const struct {
		const char *command;
		enum sx_cni_verb verb;
	} cases[] = {
		{ "ADD", SX_CNI_ADD },	     { "DEL", SX_CNI_DEL },	  { "CHECK", SX_CNI_CHECK },
		{ "VERSION", SX_CNI_VERSION }, { "STATUS", SX_CNI_STATUS }, { "GC", SX_CNI_GC },
	};
	size_t i;

	for (i = 0; i < ARRAY_LEN(cases); i++) {
		const char *value[6] = { cases[i].command, GOOD_ID, GOOD_NS, "eth0", NULL, GOOD_PATH };
		struct sx_cni_error e = { 0 };
		struct sx_cni_env env;

		set_env(value);
		expect_int(cases[i].command, 0, sx_cni_env_read(&env, &e));
		expect_int(cases[i].command, cases[i].verb, env.verb);
		assert_string_equal(cases[i].command, env.command);
	}
	clear_env(NULL);
}

static void test_add_reads_every_variable(void **state)
{
	const char *value[6] = { "ADD", GOOD_ID, GOOD_NS, "eth0", "K8S_POD_NAME=p;IgnoreUnknown=1",
				 GOOD_PATH };
	struct sx_cni_error e = { 0 };
	struct sx_cni_env env;

	set_env(value);
	assert_int_equal(0, sx_cni_env_read(&env, &e));
	assert_int_equal(SX_CNI_ADD, env.verb);
	assert_string_equal(GOOD_ID, env.container_id);
	assert_string_equal(GOOD_NS, env.netns);
	assert_string_equal("eth0", env.ifname);
	assert_string_equal("K8S_POD_NAME=p;IgnoreUnknown=1", env.args);
	assert_string_equal(GOOD_PATH, env.path);
	/* CNI_ARGS may be absent: "" then. */
	unsetenv("CNI_ARGS");
	assert_int_equal(0, sx_cni_env_read(&env, &e));
	assert_string_equal("", env.args);
	clear_env(NULL);
}

static void test_missing_variables(void **state)
{
	static const struct env_case cases[] = {
		{ "ADD no id", { "ADD", NULL, GOOD_NS, "eth0", NULL, GOOD_PATH }, SX_CNI_E_ENV,
		  "CNI_CONTAINERID" },
		{ "ADD empty id", { "ADD", "", GOOD_NS, "eth0", NULL, GOOD_PATH }, SX_CNI_E_ENV,
		  "CNI_CONTAINERID" },
		{ "ADD no netns", { "ADD", GOOD_ID, NULL, "eth0", NULL, GOOD_PATH }, SX_CNI_E_ENV,
		  "CNI_NETNS" },
		{ "ADD empty netns", { "ADD", GOOD_ID, "", "eth0", NULL, GOOD_PATH }, SX_CNI_E_ENV,
		  "CNI_NETNS" },
		{ "ADD no ifname", { "ADD", GOOD_ID, GOOD_NS, NULL, NULL, GOOD_PATH }, SX_CNI_E_ENV,
		  "CNI_IFNAME" },
		/* CNI_PATH is optional until the configuration tells the mode. */
		{ "ADD no path", { "ADD", GOOD_ID, GOOD_NS, "eth0", NULL, NULL }, 0, NULL },
		{ "CHECK no netns", { "CHECK", GOOD_ID, NULL, "eth0", NULL, GOOD_PATH },
		  SX_CNI_E_ENV, "CNI_NETNS" },
		{ "CHECK no id", { "CHECK", NULL, GOOD_NS, "eth0", NULL, GOOD_PATH }, SX_CNI_E_ENV,
		  "CNI_CONTAINERID" },
		{ "DEL no id", { "DEL", NULL, GOOD_NS, "eth0", NULL, GOOD_PATH }, SX_CNI_E_ENV,
		  "CNI_CONTAINERID" },
		{ "DEL no ifname", { "DEL", GOOD_ID, GOOD_NS, NULL, NULL, GOOD_PATH }, SX_CNI_E_ENV,
		  "CNI_IFNAME" },
		{ "DEL no path", { "DEL", GOOD_ID, GOOD_NS, "eth0", NULL, NULL }, 0, NULL },
		{ "GC no path", { "GC" }, 0, NULL },
		/* The runtime may leave the sandbox gone by DEL time. */
		{ "DEL no netns", { "DEL", GOOD_ID, NULL, "eth0", NULL, GOOD_PATH }, 0, NULL },
		{ "DEL empty netns", { "DEL", GOOD_ID, "", "eth0", NULL, GOOD_PATH }, 0, NULL },
		/* VERSION and STATUS need none of them; GC needs no sandbox. */
		{ "VERSION", { "VERSION", NULL, "relative", "a/b", NULL, NULL }, 0, NULL },
		{ "STATUS", { "STATUS", "-bad", "relative", "a/b", NULL, NULL }, 0, NULL },
		{ "GC", { "GC", "-bad", "relative", "a/b", NULL, GOOD_PATH }, 0, NULL },
	};

	run_env_cases(cases, ARRAY_LEN(cases));
}

static void test_missing_variables_are_all_named(void **state)
{
	const char *value[6] = { "ADD" };
	struct sx_cni_error e = { 0 };
	struct sx_cni_env env;

	set_env(value);
	assert_int_equal(SX_CNI_E_ENV, sx_cni_env_read(&env, &e));
	assert_non_null(strstr(e.details, "ADD"));
	assert_non_null(strstr(e.details, "CNI_CONTAINERID"));
	assert_non_null(strstr(e.details, "CNI_NETNS"));
	assert_non_null(strstr(e.details, "CNI_IFNAME"));
	clear_env(NULL);
}

/* Main mode runs the IPAM plugin and needs CNI_PATH, set or empty alike; chained mode does not. */
static void test_cni_path_is_required_only_to_run_ipam(void **state)
{
	const char *verbs[] = { "ADD", "DEL", "CHECK", "GC", "STATUS" };
	const char *value[6] = { NULL, GOOD_ID, GOOD_NS, "eth0", NULL, "" };
	struct sx_cni_env env;
	size_t i;

	for (i = 0; i < ARRAY_LEN(verbs); i++) {
		struct sx_cni_error e = { 0 };

		value[0] = verbs[i];
		set_env(value);
		assert_int_equal(0, sx_cni_env_read(&env, &e));
		assert_int_equal(0, sx_cni_env_require_path(&env, 0, &e));
		assert_int_equal(SX_CNI_E_ENV, sx_cni_env_require_path(&env, 1, &e));
		assert_non_null(strstr(e.details, "CNI_PATH"));
		assert_non_null(strstr(e.details, verbs[i]));
		clear_env(NULL);
	}
	value[0] = "VERSION";
	set_env(value);
	{
		struct sx_cni_error e = { 0 };

		assert_int_equal(0, sx_cni_env_read(&env, &e));
		assert_int_equal(0, sx_cni_env_require_path(&env, 1, &e));
	}
	clear_env(NULL);
}

static void test_del_without_netns_has_none(void **state)
{
	const char *value[6] = { "DEL", GOOD_ID, NULL, "eth0", NULL, GOOD_PATH };
	struct sx_cni_error e = { 0 };
	struct sx_cni_env env;

	set_env(value);
	assert_int_equal(0, sx_cni_env_read(&env, &e));
	assert_null(env.netns);
	clear_env(NULL);
}

static void test_netns_must_be_absolute(void **state)
{
	static const struct env_case cases[] = {
		{ "ADD relative", { "ADD", GOOD_ID, "var/run/netns/x", "eth0", NULL, GOOD_PATH },
		  SX_CNI_E_ENV, "CNI_NETNS" },
		{ "ADD dot", { "ADD", GOOD_ID, "./netns", "eth0", NULL, GOOD_PATH }, SX_CNI_E_ENV,
		  "CNI_NETNS" },
		{ "ADD name", { "ADD", GOOD_ID, "cni-1", "eth0", NULL, GOOD_PATH }, SX_CNI_E_ENV,
		  "CNI_NETNS" },
		{ "CHECK relative", { "CHECK", GOOD_ID, "proc/1/ns/net", "eth0", NULL, GOOD_PATH },
		  SX_CNI_E_ENV, "CNI_NETNS" },
		{ "DEL relative", { "DEL", GOOD_ID, "netns", "eth0", NULL, GOOD_PATH }, SX_CNI_E_ENV,
		  "CNI_NETNS" },
		{ "ADD /proc", { "ADD", GOOD_ID, "/proc/42/ns/net", "eth0", NULL, GOOD_PATH }, 0,
		  NULL },
		{ "DEL absolute", { "DEL", GOOD_ID, GOOD_NS, "eth0", NULL, GOOD_PATH }, 0, NULL },
	};

	run_env_cases(cases, ARRAY_LEN(cases));
}

static const struct {
	const char *id;
	int valid;
} container_ids[] = {
	{ "a", 1 },
	{ "0", 1 },
	{ GOOD_ID, 1 },
	{ "Pod.1_a-b", 1 },
	{ "a..", 1 },
	{ "a--_", 1 },
	{ "", 0 },
	{ "-a", 0 },
	{ "_a", 0 },
	{ ".a", 0 },
	{ "..", 0 },
	{ "a/b", 0 },
	{ "../etc", 0 },
	{ "a b", 0 },
	{ " a", 0 },
	{ "a\n", 0 },
	{ "a:b", 0 },
	{ "a*", 0 },
	{ "a\xc3\xa9", 0 },
	{ "\xc3\xa9", 0 },
};

static void test_valid_container_id(void **state)
{
	char longest[SX_CNI_CONTAINER_ID_MAX + 2];
	size_t i;

	for (i = 0; i < ARRAY_LEN(container_ids); i++)
		expect_int(container_ids[i].id, container_ids[i].valid,
			   sx_cni_valid_container_id(container_ids[i].id));
	expect_int("NULL", 0, sx_cni_valid_container_id(NULL));
	/* The longest ID accepted; its record's names, with ':eth0123456789a', fit NAME_MAX. */
	memset(longest, 'a', SX_CNI_CONTAINER_ID_MAX);
	longest[SX_CNI_CONTAINER_ID_MAX] = '\0';
	expect_int("235 characters", 1, sx_cni_valid_container_id(longest));
	longest[SX_CNI_CONTAINER_ID_MAX] = 'a';
	longest[SX_CNI_CONTAINER_ID_MAX + 1] = '\0';
	expect_int("236 characters", 0, sx_cni_valid_container_id(longest));
}

static void test_container_id_in_env(void **state)
{
	size_t i;

	for (i = 0; i < ARRAY_LEN(container_ids); i++) {
		const struct env_case one = {
			container_ids[i].id,
			{ "ADD", container_ids[i].id, GOOD_NS, "eth0", NULL, GOOD_PATH },
			/* "" is unset: missing rather than invalid, code 4 all the same. */
			container_ids[i].valid ? 0 : SX_CNI_E_ENV,
			"CNI_CONTAINERID",
		};

		run_env_cases(&one, 1);
	}
}

/* No ADD takes an ID over the limit, so a DEL of one succeeds: there is nothing to delete. */
static void test_long_container_id_only_for_del(void **state)
{
	char id[SX_CNI_CONTAINER_ID_MAX + 2];
	const char *bad = "a/b";

	memset(id, 'a', sizeof(id) - 1);
	id[sizeof(id) - 1] = '\0';
	{
		const struct env_case cases[] = {
			{ "ADD long", { "ADD", id, GOOD_NS, "eth0", NULL, GOOD_PATH }, SX_CNI_E_ENV,
			  "CNI_CONTAINERID" },
			{ "CHECK long", { "CHECK", id, GOOD_NS, "eth0", NULL, GOOD_PATH }, SX_CNI_E_ENV,
			  "CNI_CONTAINERID" },
			{ "DEL long", { "DEL", id, GOOD_NS, "eth0", NULL, GOOD_PATH }, 0, NULL },
			{ "DEL bad characters", { "DEL", bad, GOOD_NS, "eth0", NULL, GOOD_PATH },
			  SX_CNI_E_ENV, "CNI_CONTAINERID" },
		};

		run_env_cases(cases, ARRAY_LEN(cases));
	}
}

static const struct {
	const char *name;
	int valid;
} ifnames[] = {
	{ "eth0", 1 },
	{ "e", 1 },
	{ "net1", 1 },
	{ "eth0.100", 1 },
	{ "...", 1 },
	{ "a-b_c@d", 1 },
	{ "123456789012345", 1 }, /* 15: IF_NAMESIZE - 1 */
	{ "1234567890123456", 0 },
	{ "", 0 },
	{ ".", 0 },
	{ "..", 0 },
	{ "eth/0", 0 },
	{ "/", 0 },
	{ "eth:0", 0 },
	{ "eth 0", 0 },
	{ " eth0", 0 },
	{ "eth0\t", 0 },
	{ "eth0\n", 0 },
	{ "eth\v0", 0 },
	{ "eth\f0", 0 },
	{ "eth\r0", 0 },
};

static void test_valid_ifname(void **state)
{
	size_t i;

	for (i = 0; i < ARRAY_LEN(ifnames); i++)
		expect_int(ifnames[i].name, ifnames[i].valid, sx_cni_valid_ifname(ifnames[i].name));
	expect_int("NULL", 0, sx_cni_valid_ifname(NULL));
}

static void test_ifname_in_env(void **state)
{
	size_t i;

	for (i = 0; i < ARRAY_LEN(ifnames); i++) {
		const struct env_case add = {
			ifnames[i].name,
			{ "ADD", GOOD_ID, GOOD_NS, ifnames[i].name, NULL, GOOD_PATH },
			ifnames[i].valid ? 0 : SX_CNI_E_ENV,
			"CNI_IFNAME",
		};
		const struct env_case del = {
			ifnames[i].name,
			{ "DEL", GOOD_ID, NULL, ifnames[i].name, NULL, GOOD_PATH },
			ifnames[i].valid ? 0 : SX_CNI_E_ENV,
			"CNI_IFNAME",
		};

		run_env_cases(&add, 1);
		run_env_cases(&del, 1);
	}
}

static void test_invalid_values_are_quoted_boundedly(void **state)
{
	char id[600];
	const char *value[6] = { "ADD", id, GOOD_NS, "eth0", NULL, GOOD_PATH };
	struct sx_cni_error e = { 0 };
	struct sx_cni_env env;

	memset(id, 'a', sizeof(id) - 1);
	id[sizeof(id) - 1] = '\0';
	id[1] = '/';
	set_env(value);
	assert_int_equal(SX_CNI_E_ENV, sx_cni_env_read(&env, &e));
	assert_non_null(strstr(e.msg, "CNI_CONTAINERID"));
	assert_true(strlen(e.details) < 200);
	clear_env(NULL);
}

/* ---- sx_cni_fail --------------------------------------------------------- */

static void test_fail_records_first_error_only(void **state)
{
	struct sx_cni_error e = { 0 };

	assert_int_equal(SX_CNI_E_CONFIG, sx_cni_fail(&e, SX_CNI_E_CONFIG, "bad", "field %s", "x"));
	assert_int_equal(SX_CNI_E_CONFIG, e.code);
	assert_string_equal("bad", e.msg);
	assert_string_equal("field x", e.details);
	/* A later error (a rollback's) returns the cause and changes nothing. */
	assert_int_equal(SX_CNI_E_CONFIG, sx_cni_fail(&e, SX_CNI_E_IO, "later", "other"));
	assert_int_equal(SX_CNI_E_CONFIG, e.code);
	assert_string_equal("bad", e.msg);
	assert_string_equal("field x", e.details);
}

static void test_fail_details_are_utf8(void **state)
{
	struct sx_cni_error e = { 0 };

	/* A stray byte, an overlong '/', a surrogate, and a character cut at the end. */
	sx_cni_fail(&e, SX_CNI_E_CONTAINER, "gone", "CNI_NETNS=%s", "/a\xff\xc0\xaf\xed\xa0\x80\xc3\xa9\xe2\x82");
	assert_string_equal("CNI_NETNS=/a??????\xc3\xa9??", e.details);
}

static void test_fail_without_details_and_truncation(void **state)
{
	struct sx_cni_error e = { 0 };
	char long_msg[600];

	memset(e.details, 'x', sizeof(e.details) - 1);
	assert_int_equal(SX_CNI_E_IO, sx_cni_fail(&e, SX_CNI_E_IO, "out of memory", NULL));
	assert_string_equal("", e.details);
	memset(&e, 0, sizeof(e));
	memset(long_msg, 'm', sizeof(long_msg) - 1);
	long_msg[sizeof(long_msg) - 1] = '\0';
	sx_cni_fail(&e, SX_CNI_E_IO, long_msg, "%s%s", long_msg, long_msg);
	assert_int_equal(sizeof(e.msg) - 1, strlen(e.msg));
	assert_int_equal(sizeof(e.details) - 1, strlen(e.details));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_command, clear_env),
		cmocka_unit_test_setup(test_each_verb_is_recognised, clear_env),
		cmocka_unit_test_setup(test_add_reads_every_variable, clear_env),
		cmocka_unit_test_setup(test_missing_variables, clear_env),
		cmocka_unit_test_setup(test_missing_variables_are_all_named, clear_env),
		cmocka_unit_test_setup(test_cni_path_is_required_only_to_run_ipam, clear_env),
		cmocka_unit_test_setup(test_del_without_netns_has_none, clear_env),
		cmocka_unit_test_setup(test_netns_must_be_absolute, clear_env),
		cmocka_unit_test(test_valid_container_id),
		cmocka_unit_test_setup(test_container_id_in_env, clear_env),
		cmocka_unit_test_setup(test_long_container_id_only_for_del, clear_env),
		cmocka_unit_test(test_valid_ifname),
		cmocka_unit_test_setup(test_ifname_in_env, clear_env),
		cmocka_unit_test_setup(test_invalid_values_are_quoted_boundedly, clear_env),
		cmocka_unit_test(test_fail_records_first_error_only),
		cmocka_unit_test(test_fail_details_are_utf8),
		cmocka_unit_test(test_fail_without_details_and_truncation),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
