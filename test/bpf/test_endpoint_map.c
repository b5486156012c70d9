// SPDX-License-Identifier: Apache-2.0
/*
 * sx_endpoint_map_walk (loader/endpoint_map.c) on a real BPF hash map of the
 * endpoint map's layout: every entry is visited exactly once, also when the
 * visitor deletes the entry it is given (DEL of a pod and `endpoint del`
 * do), and a non-zero return stops the walk.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <cmocka.h>

#include "sockvx_abi.h"
#include "endpoint_map.h"
#include "unit_helpers.h"

#define ENTRIES 1000

struct walk_log {
	int fd;
	unsigned int seen[ENTRIES]; /* visits per entry, by the index in its address */
	unsigned int visits;
	unsigned int stop_after; /* return 7 at this visit; 0: never */
	int delete_odd;		 /* delete entries with an odd index as they come */
};

static struct sx_endpoint_key key_of(unsigned int i)
{
	struct sx_endpoint_key k;

	memset(&k, 0, sizeof(k));
	k.family = SX_AF_INET;
	k.ip.addr[0] = htobe32(0x0af40000 | i); /* 10.244.x.y */
	return k;
}

static int fill(unsigned int n)
{
	int fd = bpf_map_create(BPF_MAP_TYPE_HASH, "sxtest_walk", sizeof(struct sx_endpoint_key),
				sizeof(struct sx_endpoint), ENTRIES, NULL);
	unsigned int i;

	assert_true(fd >= 0);
	for (i = 0; i < n; i++) {
		struct sx_endpoint_key k = key_of(i);
		struct sx_endpoint ep = { .ifindex = 100 + i, .flags = SX_EP_F_LOCAL };

		assert_int_equal(bpf_map_update_elem(fd, &k, &ep, BPF_NOEXIST), 0);
	}
	return fd;
}

static int record(const struct sx_endpoint_key *key, const struct sx_endpoint *ep, void *arg)
{
	struct walk_log *log = arg;
	unsigned int i = be32toh(key->ip.addr[0]) & 0xffff;

	assert_true(i < ENTRIES);
	expect_int("value belongs to its key", 100 + i, ep->ifindex);
	log->seen[i]++;
	log->visits++;
	if (log->delete_odd && (i & 1))
		assert_int_equal(bpf_map_delete_elem(log->fd, key), 0);
	return log->stop_after && log->visits == log->stop_after ? 7 : 0;
}

static unsigned int remaining(int fd)
{
	struct sx_endpoint_key k, next, *prev = NULL;
	unsigned int n = 0;

	while (!bpf_map_get_next_key(fd, prev, &next)) {
		k = next;
		prev = &k;
		n++;
	}
	return n;
}

static void test_empty_map(void **state)
{
	struct walk_log log = { .fd = fill(0) };

	assert_int_equal(sx_endpoint_map_walk(log.fd, record, &log), 0);
	assert_int_equal(log.visits, 0);
	close(log.fd);
}

static void test_every_entry_once(void **state)
{
	struct walk_log log = { .fd = fill(ENTRIES) };
	unsigned int i;

	assert_int_equal(sx_endpoint_map_walk(log.fd, record, &log), 0);
	for (i = 0; i < ENTRIES; i++)
		expect_int("visits of one entry", 1, log.seen[i]);
	assert_int_equal(remaining(log.fd), ENTRIES);
	close(log.fd);
}

/* Deleting the visited key must neither restart the walk nor skip entries. */
static void test_visitor_deletes(void **state)
{
	struct walk_log log = { .fd = fill(ENTRIES), .delete_odd = 1 };
	unsigned int i;

	assert_int_equal(sx_endpoint_map_walk(log.fd, record, &log), 0);
	for (i = 0; i < ENTRIES; i++)
		expect_int("visits of one entry", 1, log.seen[i]);
	assert_int_equal(remaining(log.fd), ENTRIES / 2);
	close(log.fd);
}

static void test_stop(void **state)
{
	struct walk_log log = { .fd = fill(ENTRIES), .stop_after = 10 };

	assert_int_equal(sx_endpoint_map_walk(log.fd, record, &log), 7);
	assert_int_equal(log.visits, 10);
	close(log.fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_empty_map),
	    cmocka_unit_test(test_every_entry_once),
	    cmocka_unit_test(test_visitor_deletes),
	    cmocka_unit_test(test_stop),
	};
	const char *tap = getenv("CMOCKA_MESSAGE_OUTPUT");
	size_t i;

	/* Skips are printed here, as cmocka 1.1 would report them as failures in TAP. */
	if (geteuid() != 0) {
		if (!tap || strcasecmp(tap, "TAP")) {
			printf("[  SKIPPED ] endpoint_map: BPF maps need root\n");
			return 0;
		}
		printf("1..%zu\n", ARRAY_LEN(tests));
		for (i = 0; i < ARRAY_LEN(tests); i++)
			printf("ok %zu - %s # SKIP BPF maps need root\n", i + 1, tests[i].name);
		return 0;
	}
	return cmocka_run_group_tests_name("endpoint_map", tests, NULL, NULL);
}
