/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Returning accelerated sockets to plain TCP without losing a byte: used by
 * unload (every socket) and by `accel off`.
 */
#ifndef SOCKVX_DRAIN_H
#define SOCKVX_DRAIN_H

#include <linux/types.h>

struct sx_drain;

struct sx_drain_tally {
	__u64 removed; /* sockets returned to plain TCP, over all passes */
	__u64 unread;  /* last pass: sockets holding redirected bytes not read yet */
	__u64 recent;  /* last pass: sockets a redirect may still be on its way to */
	__u64 failed;  /* last pass: deletes that failed */
};

/*
 * Loads the drain program against the pinned maps. With force, sockets leave
 * whatever they hold. NULL on failure, with -errno in *err.
 */
struct sx_drain *sx_drain_open(const char *pin_dir, int force, int *err);
/*
 * Runs drain passes until the sockhash is empty or timeout_ms passes.
 * Redirects must already be stopped. Returns the sockets left, or -errno.
 */
long sx_drain_run(struct sx_drain *d, int timeout_ms, struct sx_drain_tally *t);
void sx_drain_close(struct sx_drain *d);

/* The two switches of sx_config_v1, each set without touching the other. */
enum sx_config_field { SX_CONFIG_ACCEL_DISABLED, SX_CONFIG_DRAINING };
int sx_config_set(int config_fd, enum sx_config_field field, __u32 value);

#endif
