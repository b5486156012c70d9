// SPDX-License-Identifier: Apache-2.0
/*
 * Unit tests for sx_mountinfo_find_cgroup2 (loader/sysenv.h): finding the
 * cgroup v2 root mount in /proc/self/mountinfo text, fed through fmemopen.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "sysenv.h"
#include "unit_helpers.h"

/* Lines from a real systemd hybrid-hierarchy host. */
#define V1_LINES                                                                           \
	"22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw\n"                          \
	"25 22 0:23 / /sys/fs/cgroup ro,nosuid,nodev,noexec shared:9 - tmpfs tmpfs "      \
	"ro,mode=755\n"                                                                    \
	"36 25 0:31 / /sys/fs/cgroup/systemd rw,nosuid,nodev,noexec,relatime shared:11 - " \
	"cgroup cgroup rw,xattr,name=systemd\n"                                            \
	"39 25 0:34 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid,nodev,noexec,relatime "         \
	"shared:15 - cgroup cgroup rw,cpu,cpuacct\n"                                       \
	"40 25 0:35 / /sys/fs/cgroup/memory rw,nosuid,nodev,noexec,relatime shared:16 - "  \
	"cgroup cgroup rw,memory\n"

#define UNIFIED_LINE                                                                       \
	"35 25 0:30 / /sys/fs/cgroup/unified rw,nosuid,nodev,noexec,relatime shared:10 - " \
	"cgroup2 cgroup2 rw\n"

/* Runs the parser over text with an output buffer of buflen bytes. */
static int find_in(const char *text, char *buf, size_t buflen)
{
	FILE *f = fmemopen((void *)text, strlen(text), "r");
	int r;

	assert_non_null(f);
	r = sx_mountinfo_find_cgroup2(f, buf, buflen);
	fclose(f);
	return r;
}

struct found_case {
	const char *name;
	const char *text;
	const char *want; /* the mount point expected in buf */
};

/* Each case must succeed and yield exactly the expected mount point. */
static void check_found(const struct found_case *cases, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		char buf[256];
		int r;

		memset(buf, 'x', sizeof(buf));
		r = find_in(cases[i].text, buf, sizeof(buf));
		if (r != 0)
			fail_msg("case \"%s\": returned %d, expected 0", cases[i].name, r);
		if (strcmp(buf, cases[i].want))
			fail_msg("case \"%s\": found \"%s\", expected \"%s\"", cases[i].name, buf,
				 cases[i].want);
	}
}

static void test_hybrid_layout_finds_unified_among_v1_mounts(void **state)
{
	static const struct found_case cases[] = {
		{ "unified after the v1 mounts", V1_LINES UNIFIED_LINE, "/sys/fs/cgroup/unified" },
		{ "unified between v1 mounts",
		  V1_LINES UNIFIED_LINE
		  "41 25 0:36 / /sys/fs/cgroup/pids rw,nosuid,nodev,noexec,relatime "
		  "shared:17 - cgroup cgroup rw,pids\n",
		  "/sys/fs/cgroup/unified" },
		{ "unified first", UNIFIED_LINE V1_LINES, "/sys/fs/cgroup/unified" },
	};

	check_found(cases, ARRAY_LEN(cases));
}

static void test_pure_v2_layout_finds_sys_fs_cgroup(void **state)
{
	static const struct found_case cases[] = {
		{ "pure v2",
		  "22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw\n"
		  "26 22 0:22 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - "
		  "cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot\n",
		  "/sys/fs/cgroup" },
		{ "last line without a newline",
		  "22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw\n"
		  "26 22 0:22 / /sys/fs/cgroup rw shared:4 - cgroup2 cgroup2 rw",
		  "/sys/fs/cgroup" },
		{ "first of two root mounts wins",
		  "26 22 0:22 / /sys/fs/cgroup rw shared:4 - cgroup2 cgroup2 rw\n"
		  "80 22 0:22 / /mnt/cg2 rw shared:4 - cgroup2 cgroup2 rw\n",
		  "/sys/fs/cgroup" },
	};

	check_found(cases, ARRAY_LEN(cases));
}

/* A container or kubelet bind-mounts a sub-cgroup: not the hierarchy's root. */
static void test_bind_mount_of_sub_cgroup_is_skipped_for_real_root(void **state)
{
	static const struct found_case cases[] = {
		{ "sub-cgroup bind mount first",
		  "22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw\n"
		  "50 22 0:22 /kubepods /var/lib/kubelet/cg rw,relatime shared:30 - "
		  "cgroup2 cgroup2 rw\n"
		  "26 22 0:22 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - "
		  "cgroup2 cgroup2 rw\n",
		  "/sys/fs/cgroup" },
		{ "nested sub-cgroup bind mount first",
		  "51 22 0:22 /kubepods/burstable/pod1 /cg rw - cgroup2 cgroup2 rw\n"
		  UNIFIED_LINE,
		  "/sys/fs/cgroup/unified" },
	};

	check_found(cases, ARRAY_LEN(cases));
}

/* mountinfo writes space, tab, newline and backslash as \ooo octal escapes. */
static void test_escaped_mount_point_is_unescaped(void **state)
{
	static const struct found_case cases[] = {
		{ "space as \\040",
		  "22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw\n"
		  "60 22 0:40 / /mnt/my\\040cgroup rw,relatime shared:40 - cgroup2 none rw\n",
		  "/mnt/my cgroup" },
		{ "tab as \\011 and backslash as \\134",
		  "60 22 0:40 / /mnt/a\\011b\\134c rw,relatime - cgroup2 none rw\n",
		  "/mnt/a\tb\\c" },
	};

	check_found(cases, ARRAY_LEN(cases));
}

/* Any number of optional fields may sit between the options and " - ". */
static void test_optional_fields_before_separator_are_skipped(void **state)
{
	static const struct found_case cases[] = {
		{ "none", "70 25 0:30 / /cg rw - cgroup2 cgroup2 rw\n", "/cg" },
		{ "one", "70 25 0:30 / /cg rw shared:10 - cgroup2 cgroup2 rw\n", "/cg" },
		{ "several",
		  V1_LINES
		  "70 25 0:30 / /sys/fs/cgroup/unified rw,nosuid shared:10 master:3 "
		  "propagate_from:2 unbindable - cgroup2 cgroup2 rw\n",
		  "/sys/fs/cgroup/unified" },
		{ "shared and master",
		  "70 25 0:30 / /cg rw shared:10 master:1 shared:11 master:2 - cgroup2 cgroup2 rw\n",
		  "/cg" },
	};

	check_found(cases, ARRAY_LEN(cases));
}

static void test_no_cgroup2_root_mount_is_enoent(void **state)
{
	static const struct {
		const char *name;
		const char *text;
	} cases[] = {
		{ "empty input", "" },
		{ "cgroup v1 only", V1_LINES },
		{ "only a bind mount of a sub-cgroup",
		  "50 22 0:22 /kubepods /var/lib/kubelet/cg rw shared:30 - cgroup2 cgroup2 rw\n" },
		{ "cgroup2 as the source, not the fs type",
		  "36 25 0:31 / /sys/fs/cgroup/x rw shared:11 - cgroup cgroup2 rw\n" },
		{ "fs type only starts with cgroup2",
		  "36 25 0:31 / /sys/fs/cgroup/x rw shared:11 - cgroup2x cgroup2 rw\n" },
		{ "line without separator", "35 25 0:30 / /sys/fs/cgroup/unified rw cgroup2\n" },
		{ "line with too few fields", "35 25 / - cgroup2 cgroup2 rw\n" },
	};
	size_t i;

	for (i = 0; i < ARRAY_LEN(cases); i++) {
		char buf[256];
		int r = find_in(cases[i].text, buf, sizeof(buf));

		if (r != -ENOENT)
			fail_msg("case \"%s\": returned %d, expected -ENOENT", cases[i].name, r);
	}
}

static void test_mount_point_longer_than_buffer_is_enametoolong(void **state)
{
	static const char text[] = V1_LINES UNIFIED_LINE;
	static const char want[] = "/sys/fs/cgroup/unified"; /* 22 characters */
	static const struct {
		size_t buflen;
		int want_r;
	} cases[] = {
		{ 1, -ENAMETOOLONG },
		{ 8, -ENAMETOOLONG },
		{ sizeof(want) - 1, -ENAMETOOLONG }, /* no room for the NUL */
		{ sizeof(want), 0 },                 /* exactly enough */
	};
	size_t i;

	for (i = 0; i < ARRAY_LEN(cases); i++) {
		char buf[64];
		int r;

		memset(buf, 'x', sizeof(buf));
		r = find_in(text, buf, cases[i].buflen);
		if (r != cases[i].want_r)
			fail_msg("buflen %zu: returned %d, expected %d", cases[i].buflen, r,
				 cases[i].want_r);
		/* Nothing is written past the buffer the caller gave. */
		if (buf[cases[i].buflen] != 'x')
			fail_msg("buflen %zu: wrote past the buffer", cases[i].buflen);
		if (r == 0)
			assert_string_equal(want, buf);
	}
}

/* The length limit applies to the unescaped path, which is what is copied. */
static void test_length_limit_applies_after_unescaping(void **state)
{
	/* "/a\040b" is 7 characters escaped, "/a b" is 4 unescaped. */
	static const char text[] = "60 22 0:40 / /a\\040b rw - cgroup2 none rw\n";
	char buf[5];

	assert_int_equal(0, find_in(text, buf, sizeof(buf)));
	assert_string_equal("/a b", buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hybrid_layout_finds_unified_among_v1_mounts),
		cmocka_unit_test(test_pure_v2_layout_finds_sys_fs_cgroup),
		cmocka_unit_test(test_bind_mount_of_sub_cgroup_is_skipped_for_real_root),
		cmocka_unit_test(test_escaped_mount_point_is_unescaped),
		cmocka_unit_test(test_optional_fields_before_separator_are_skipped),
		cmocka_unit_test(test_no_cgroup2_root_mount_is_enoent),
		cmocka_unit_test(test_mount_point_longer_than_buffer_is_enametoolong),
		cmocka_unit_test(test_length_limit_applies_after_unescaping),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
