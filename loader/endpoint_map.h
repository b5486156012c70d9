/* SPDX-License-Identifier: Apache-2.0 */
/* Walking the pinned endpoint map (sx_endpoints_v1) from user space. */
#ifndef SOCKVX_ENDPOINT_MAP_H
#define SOCKVX_ENDPOINT_MAP_H

#include "sockvx_abi.h"

/* Called once per entry; a non-zero return stops the walk and is returned. */
typedef int (*sx_endpoint_visit_fn)(const struct sx_endpoint_key *key, const struct sx_endpoint *ep,
				    void *arg);

/*
 * Visits every entry of the endpoint map behind fd. visit may delete the
 * entry it is given (the walk has already found the next key). Entries that
 * other writers add or remove meanwhile may or may not be visited, as with
 * any BPF hash map walk. Returns 0 or the first non-zero return of visit.
 */
int sx_endpoint_map_walk(int fd, sx_endpoint_visit_fn visit, void *arg);

#endif /* SOCKVX_ENDPOINT_MAP_H */
