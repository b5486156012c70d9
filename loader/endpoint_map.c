// SPDX-License-Identifier: Apache-2.0
#include <stdbool.h>
#include <bpf/bpf.h>
#include "endpoint_map.h"

int sx_endpoint_map_walk(int fd, sx_endpoint_visit_fn visit, void *arg)
{
	struct sx_endpoint_key cur, next;
	struct sx_endpoint ep;
	bool more = !bpf_map_get_next_key(fd, NULL, &cur);
	int r = 0;

	while (more && !r) {
		/*
		 * Find the successor before visiting: once visit deletes cur,
		 * get_next_key(cur) would start over from the first key.
		 */
		bool has_next = !bpf_map_get_next_key(fd, &cur, &next);

		if (!bpf_map_lookup_elem(fd, &cur, &ep)) /* else deleted meanwhile */
			r = visit(&cur, &ep, arg);
		cur = next;
		more = has_next;
	}
	return r;
}
