/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sockvxctl stats --prometheus: the counters and map fill in the Prometheus
 * text format, for node-exporter's textfile collector.
 */
#ifndef SOCKVX_METRICS_H
#define SOCKVX_METRICS_H

/*
 * Writes the metrics to file, atomically (a temporary file in the same
 * directory renamed over it, as the textfile collector requires), or to
 * stdout when file is NULL or "-". 0 or -errno.
 */
int sx_stats_prometheus(const char *pin_dir, const char *file);

#endif
