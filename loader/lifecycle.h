/* SPDX-License-Identifier: Apache-2.0 */
/* sockvxctl load / unload: the whole life of the node's BPF objects. */
#ifndef SOCKVX_LIFECYCLE_H
#define SOCKVX_LIFECYCLE_H

#include "dataplane.h"

struct sx_load_opts {
	const char *pin_dir;
	const char *cgroup; /* NULL: the cgroup v2 root from mountinfo */
	struct sx_overlay_opts overlay;
};

struct sx_unload_opts {
	const char *pin_dir;
	int timeout_ms; /* how long to wait for sockets with unread redirected data */
	int force;      /* drop such sockets after the timeout (their unread data is lost) */
};

int sx_load(const struct sx_load_opts *o);
int sx_unload(const struct sx_unload_opts *o);

#endif
