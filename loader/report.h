/* SPDX-License-Identifier: Apache-2.0 */
/* sockvxctl status and stats: what is loaded, attached and counted. */
#ifndef SOCKVX_REPORT_H
#define SOCKVX_REPORT_H

#include "sockvx_abi.h"

struct cJSON;

int sx_status(const char *pin_dir, int json);
/* What sockvxctl status --json prints, to read or print (cJSON_Delete it). */
struct cJSON *sx_status_build(const char *pin_dir);
int sx_stats(const char *pin_dir, int json);
/*
 * A pinned map's capacity and entries (-1 for maps without countable keys:
 * arrays, sk_storage). 0 or -errno (-ENOENT: not pinned).
 */
int sx_map_fill(const char *pin_dir, const char *name, long *entries, __u32 *capacity);
/* Sums the per-CPU counters into out[SX_CNT_MAX]. 0 or -errno. */
int sx_read_counters(const char *pin_dir, __u64 *out);

#endif
