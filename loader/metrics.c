// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "metrics.h"
#include "file_replace.h"
#include "pins.h"
#include "report.h"
#include "sysenv.h"

static const char *const counter_names[SX_CNT_MAX] = SX_COUNTER_NAMES;

/* What each counter counts, for HELP; the drop reasons share one metric. */
static const char *const counter_help[SX_CNT_MAX] = {
	[SX_CNT_SOCK_INSERTED] = "Sockets put into the SOCKHASH (socket acceleration).",
	[SX_CNT_SOCK_INSERT_ERR] = "SOCKHASH inserts that failed (map full, ...); the connection stays on TCP.",
	[SX_CNT_SOCK_SKIP_NOT_EP] = "Established sockets not between two endpoints of this node.",
	[SX_CNT_SOCK_SKIP_EXCLUDED] = "Sockets not accelerated because their port is excluded.",
	[SX_CNT_SOCK_SKIP_DISABLED] = "Sockets seen while acceleration was off.",
	[SX_CNT_SOCK_SKIP_NO_PEER] = "Passive sockets whose peer is not accelerated.",
	[SX_CNT_MSG_REDIRECTED] = "Messages redirected to the peer socket.",
	[SX_CNT_BYTES_REDIRECTED] = "Bytes in redirected messages.",
	[SX_CNT_MSG_MISS] = "Messages whose peer socket was not in the SOCKHASH.",
	[SX_CNT_MSG_TCP] = "Messages sent through TCP on a direction bound to TCP.",
	[SX_CNT_BYTES_TCP] = "Bytes in messages sent through TCP on a direction bound to TCP.",
	[SX_CNT_MSG_ERR] = "Redirect helper failures (the message went through TCP).",
	[SX_CNT_DIR_FALLBACK] = "Directions bound to TCP for the connection's life.",
	[SX_CNT_DIR_API_TCP] = "Directions bound to TCP because the receiver set SO_RCVLOWAT or a ULP.",
	[SX_CNT_HANDSHAKE_WAIT] = "First messages that waited for the peer's handshake.",
	[SX_CNT_SOCK_EJECTED] = "Sockets returned to plain TCP at their half-close.",
	[SX_CNT_EJECT_DEFERRED] = "Half-closed sockets kept in the SOCKHASH as their peer had redirected to them.",
	[SX_CNT_TC_LOCAL] = "Packets from a pod redirected into a pod of this node.",
	[SX_CNT_TC_ENCAP] = "Packets from a pod sent to a remote node through VXLAN.",
	[SX_CNT_TC_DECAP] = "Packets from VXLAN delivered into a pod of this node.",
	[SX_CNT_TC_TO_HOST] = "Packets handed to the node's own stack.",
	[SX_CNT_TC_HOST_ENCAP] = "Packets from the node itself sent through VXLAN.",
	[SX_CNT_TC_ARP_REPLIED] = "ARP requests of pods answered with their veth's MAC.",
};

#define DROP_PREFIX "drop_"

static void counters_out(FILE *f, const __u64 *v)
{
	bool drops_head = false;
	int i;

	for (i = 0; i < SX_CNT_MAX; i++) {
		const char *name = counter_names[i];

		if (!strncmp(name, DROP_PREFIX, strlen(DROP_PREFIX))) {
			if (!drops_head) {
				fprintf(f, "# HELP sockvx_drops_total Packets dropped by the TC programs, by reason.\n"
					   "# TYPE sockvx_drops_total counter\n");
				drops_head = true;
			}
			fprintf(f, "sockvx_drops_total{reason=\"%s\"} %llu\n",
				name + strlen(DROP_PREFIX), (unsigned long long)v[i]);
			continue;
		}
		fprintf(f, "# HELP sockvx_%s_total %s\n# TYPE sockvx_%s_total counter\nsockvx_%s_total %llu\n",
			name, counter_help[i] ? counter_help[i] : name, name, name,
			(unsigned long long)v[i]);
	}
}

static int maps_out(FILE *f, const char *pin_dir)
{
	long *entries = calloc(sx_map_count, sizeof(*entries));
	__u32 *capacity = calloc(sx_map_count, sizeof(*capacity));
	size_t i;

	if (!entries || !capacity) {
		free(entries);
		free(capacity);
		return -ENOMEM;
	}
	for (i = 0; i < sx_map_count; i++)
		if (sx_map_fill(pin_dir, sx_map_names[i], &entries[i], &capacity[i]))
			capacity[i] = 0; /* not pinned: left out */
	fprintf(f, "# HELP sockvx_map_capacity Entries each pinned map can hold.\n"
		   "# TYPE sockvx_map_capacity gauge\n");
	for (i = 0; i < sx_map_count; i++)
		if (capacity[i])
			fprintf(f, "sockvx_map_capacity{map=\"%s\"} %u\n", sx_map_names[i], capacity[i]);
	fprintf(f, "# HELP sockvx_map_entries Entries in each pinned hash, trie and sockhash map.\n"
		   "# TYPE sockvx_map_entries gauge\n");
	for (i = 0; i < sx_map_count; i++)
		if (capacity[i] && entries[i] >= 0)
			fprintf(f, "sockvx_map_entries{map=\"%s\"} %ld\n", sx_map_names[i], entries[i]);
	free(entries);
	free(capacity);
	return 0;
}

struct metrics {
	const char *pin_dir;
	const __u64 *counters; /* NULL: sockvx is not up */
};

static int write_all(FILE *f, void *arg)
{
	const struct metrics *m = arg;
	const char *pin_dir = m->pin_dir;
	const __u64 *v = m->counters;

	fprintf(f, "# HELP sockvx_up Whether sockvx's counters could be read from the pin directory.\n"
		   "# TYPE sockvx_up gauge\nsockvx_up %d\n",
		v ? 1 : 0);
	if (v) {
		counters_out(f, v);
		if (maps_out(f, pin_dir))
			return -ENOMEM;
	}
	return ferror(f) ? -EIO : 0;
}

int sx_stats_prometheus(const char *pin_dir, const char *file)
{
	__u64 v[SX_CNT_MAX] = { 0 };
	struct metrics m = { .pin_dir = pin_dir };
	int r;

	r = sx_require_root();
	if (r)
		return r;
	/* A node without sockvx still gets a file: sockvx_up 0 is what alerts fire on. */
	if (!sx_read_counters(pin_dir, v))
		m.counters = v;
	if (!file || !strcmp(file, "-"))
		return write_all(stdout, &m);
	/* The textfile collector reads *.prom at any time: never a half-written file. */
	return sx_file_replace(file, write_all, &m);
}
