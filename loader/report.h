/* SPDX-License-Identifier: Apache-2.0 */
/* sockvxctl status and stats: what is loaded, attached and counted. */
#ifndef SOCKVX_REPORT_H
#define SOCKVX_REPORT_H

#include "sockvx_abi.h"

int sx_status(const char *pin_dir, int json);
int sx_stats(const char *pin_dir, int json);
/* Sums the per-CPU counters into out[SX_CNT_MAX]. 0 or -errno. */
int sx_read_counters(const char *pin_dir, __u64 *out);

/* How full a pinned map is. entries is -1 where fill has no meaning (arrays). */
struct sx_map_usage {
	__u32 id, type, capacity;
	long entries;
};
/* 0, -ENOENT when the map is not pinned, or another -errno. */
int sx_map_usage(const char *pin_dir, const char *name, struct sx_map_usage *u);

#endif
