// SPDX-License-Identifier: Apache-2.0
/*
 * libFuzzer harness for `sockvxctl node sync`'s input: sx_nodelist_parse on
 * a Kubernetes NodeList, then sx_node_diff between what it parsed and the
 * empty table, itself, and a shuffled copy. The first input byte picks how
 * this node is named (by name, by address, both or neither); the rest is the
 * document. Every invariant below aborts when broken, and leaks are bugs.
 *
 * Build and run: make fuzz FUZZ_SECONDS=60 (test/fuzz/run.sh nodelist).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "nodelist.h"
#include "fuzz.h"

/* The names the seeds use for this node: node-1 at 192.168.1.1. */
#define SELF_NAME "node-1"
#define SELF_IP "192.168.1.1"

static int printable(const char *s, size_t cap)
{
	size_t i;

	for (i = 0; i < cap && s[i]; i++)
		if (s[i] < 0x20 || s[i] > 0x7e)
			return 0;
	return i < cap;
}

static void check_failure(int rc, const struct sx_node_route *routes, size_t n, size_t skipped,
			  const char *err, size_t errlen)
{
	CHECK(rc == -EINVAL || rc == -ENOMEM);
	CHECK(routes == NULL && n == 0 && skipped == 0);
	/* An operator reads this: it says something, in plain ASCII. */
	CHECK(err[0] != '\0');
	CHECK(printable(err, errlen));
}

static int same_cidr(const struct sx_cidr_key *a, const struct sx_cidr_key *b)
{
	return a->prefixlen == b->prefixlen && !memcmp(&a->ip, &b->ip, sizeof(a->ip));
}

static void check_routes(const struct sx_node_route *routes, size_t n, __u32 self_ip4)
{
	size_t i, j;

	CHECK((routes == NULL) == (n == 0));
	for (i = 0; i < n; i++) {
		CHECK(routes[i].cidr.prefixlen <= 128);
		/* No route leads nowhere, or back to this node. */
		CHECK(routes[i].node_ip4 != 0);
		CHECK(!self_ip4 || routes[i].node_ip4 != self_ip4);
		CHECK(printable(routes[i].node, sizeof(routes[i].node)));
		/* A CIDR claimed twice is refused, never resolved silently. */
		for (j = 0; j < i; j++)
			CHECK(!same_cidr(&routes[i].cidr, &routes[j].cidr));
	}
}

static void check_diffs(const struct sx_node_route *routes, size_t n)
{
	struct sx_node_route *shuffled = NULL;
	struct sx_node_diff d;
	size_t i;

	if (sx_node_diff(NULL, 0, routes, n, &d))
		return;
	CHECK(d.n_upsert == n && d.n_del == 0 && d.unchanged == 0);
	sx_node_diff_free(&d);

	if (sx_node_diff(routes, n, NULL, 0, &d))
		return;
	CHECK(d.n_upsert == 0 && d.n_del == n && d.unchanged == 0);
	sx_node_diff_free(&d);

	/* Order never matters: a reversed copy is the same table. */
	if (n) {
		shuffled = malloc(n * sizeof(*shuffled));
		if (!shuffled)
			return;
		for (i = 0; i < n; i++)
			shuffled[i] = routes[n - 1 - i];
	}
	if (!sx_node_diff(routes, n, shuffled, n, &d)) {
		CHECK(d.n_upsert == 0 && d.n_del == 0 && d.unchanged == n);
		CHECK(d.upsert == NULL && d.del == NULL);
		sx_node_diff_free(&d);
	}
	free(shuffled);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sx_node_route *routes = (struct sx_node_route *)&routes; /* must be reset */
	size_t n = 1, skipped = 1;
	const char *self_name;
	__u32 self_ip4 = 0;
	char err[256];
	char *text;
	int rc;

	if (size < 1)
		return 0;
	self_name = data[0] & 1 ? SELF_NAME : NULL;
	if (data[0] & 2)
		inet_pton(AF_INET, SELF_IP, &self_ip4);
	text = fuzz_text(data, size);
	if (!text)
		return 0;
	memset(err, 'x', sizeof(err));
	rc = sx_nodelist_parse(text, self_name, self_ip4, &routes, &n, &skipped, err, sizeof(err));
	if (rc) {
		check_failure(rc, routes, n, skipped, err, sizeof(err));
	} else {
		CHECK(err[0] == '\0');
		check_routes(routes, n, self_ip4);
		check_diffs(routes, n);
		free(routes);
	}
	free(text);
	return 0;
}
