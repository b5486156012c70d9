/* SPDX-License-Identifier: Apache-2.0 */
/* sockvxctl stats --prometheus: counters and map fill as Prometheus text. */
#ifndef SOCKVX_METRICS_H
#define SOCKVX_METRICS_H

/*
 * Writes the metrics to path (atomically: a temporary file renamed into
 * place), or to stdout when path is NULL or "-". When sockvx is not loaded it
 * still writes "sockvx_up 0" and returns -ENOENT. 0 or -errno.
 */
int sx_stats_prometheus(const char *pin_dir, const char *path);

#endif
