// SPDX-License-Identifier: Apache-2.0
/*
 * sockvxctl stats --prometheus: the counters and map fill in the Prometheus
 * text format, for node-exporter's textfile collector. That collector reads
 * every *.prom file in its directory whenever it is scraped, so a file is
 * written whole under another name and renamed into place: a scrape never
 * sees half a file.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "log.h"
#include "metrics.h"
#include "pins.h"
#include "report.h"
#include "sysenv.h"

static const char *const counter_names[SX_CNT_MAX] = SX_COUNTER_NAMES;

/* HELP text per counter; drops share one metric with a reason label. */
static const char *const counter_help[SX_CNT_MAX] = {
	[SX_CNT_SOCK_INSERTED] = "Sockets put into the sockhash (accelerated).",
	[SX_CNT_SOCK_INSERT_ERR] = "Failed sockhash inserts; those connections stay on TCP.",
	[SX_CNT_SOCK_SKIP_NOT_EP] = "Established sockets not between two endpoints of this node.",
	[SX_CNT_SOCK_SKIP_EXCLUDED] = "Sockets not accelerated because of an excluded port.",
	[SX_CNT_SOCK_SKIP_DISABLED] = "Sockets not accelerated because acceleration was off.",
	[SX_CNT_SOCK_SKIP_NO_PEER] = "Passive sockets not accelerated because their peer was not.",
	[SX_CNT_MSG_REDIRECTED] = "Messages redirected straight into the peer socket.",
	[SX_CNT_BYTES_REDIRECTED] = "Bytes redirected straight into the peer socket.",
	[SX_CNT_MSG_MISS] = "Messages that found no peer socket and went through TCP.",
	[SX_CNT_MSG_TCP] = "Messages of accelerated sockets that went through TCP.",
	[SX_CNT_BYTES_TCP] = "Bytes of accelerated sockets that went through TCP.",
	[SX_CNT_MSG_ERR] = "Redirect helper failures (the message went through TCP).",
	[SX_CNT_DIR_FALLBACK] = "Connection directions bound to TCP for the rest of their life.",
	[SX_CNT_DIR_API_TCP] = "Directions moved to TCP because the receiver set SO_RCVLOWAT or a ULP.",
	[SX_CNT_HANDSHAKE_WAIT] = "First messages that waited for the peer socket's handshake.",
	[SX_CNT_SOCK_EJECTED] = "Sockets returned to plain TCP at their half-close.",
	[SX_CNT_EJECT_DEFERRED] = "Half-closed sockets kept because their peer had redirected to them.",
	[SX_CNT_TC_LOCAL] = "Frames from a pod delivered into a pod of this node.",
	[SX_CNT_TC_ENCAP] = "Frames from a pod sent to another node through VXLAN.",
	[SX_CNT_TC_DECAP] = "Frames received from VXLAN and delivered into a pod.",
	[SX_CNT_TC_TO_HOST] = "Frames handed to the node's own stack.",
	[SX_CNT_TC_HOST_ENCAP] = "The node's own frames sent through VXLAN.",
	[SX_CNT_TC_ARP_REPLIED] = "ARP requests of pods answered by from_pod.",
};

#define DROP_PREFIX "drop_"

static int is_drop(int id)
{
	return !strncmp(counter_names[id], DROP_PREFIX, strlen(DROP_PREFIX));
}

/*
 * The map's name without "sx_" and the version suffix: dashboards and alerts
 * keep working when a schema change renames the pin (sx_endpoints_v1 -> _v2).
 */
static void map_label(const char *pin_name, char *buf, size_t len)
{
	const char *start = strncmp(pin_name, "sx_", 3) ? pin_name : pin_name + 3;
	const char *ver = strrchr(start, '_');
	size_t n = ver && ver[1] == 'v' ? (size_t)(ver - start) : strlen(start);

	snprintf(buf, len, "%.*s", (int)n, start);
}

static void header(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void write_counters(FILE *f, const __u64 *v)
{
	int i;

	for (i = 0; i < SX_CNT_MAX; i++) {
		char name[96];

		if (is_drop(i))
			continue;
		snprintf(name, sizeof(name), "sockvx_%s_total", counter_names[i]);
		header(f, name, "counter", counter_help[i] ? counter_help[i] : "A sockvx counter.");
		fprintf(f, "%s %llu\n", name, (unsigned long long)v[i]);
	}
	header(f, "sockvx_drops_total", "counter",
	       "Packets dropped by the TC dataplane, by reason (docs/operations.md).");
	for (i = 0; i < SX_CNT_MAX; i++)
		if (is_drop(i))
			fprintf(f, "sockvx_drops_total{reason=\"%s\"} %llu\n",
				counter_names[i] + strlen(DROP_PREFIX), (unsigned long long)v[i]);
}

static void write_maps(FILE *f, const char *pin_dir)
{
	struct sx_map_usage u = { 0 };
	char label[64];
	size_t i;

	/* A metric's samples must follow its header together: one pass per metric. */
	header(f, "sockvx_map_entries", "gauge",
	       "Entries in a pinned map (hash and LPM maps; arrays are always full).");
	for (i = 0; i < sx_map_count; i++) {
		if (sx_map_usage(pin_dir, sx_map_names[i], &u) || u.entries < 0)
			continue;
		map_label(sx_map_names[i], label, sizeof(label));
		fprintf(f, "sockvx_map_entries{map=\"%s\"} %ld\n", label, u.entries);
	}
	header(f, "sockvx_map_capacity", "gauge", "Maximum entries of a pinned map.");
	for (i = 0; i < sx_map_count; i++) {
		if (sx_map_usage(pin_dir, sx_map_names[i], &u))
			continue;
		map_label(sx_map_names[i], label, sizeof(label));
		fprintf(f, "sockvx_map_capacity{map=\"%s\"} %u\n", label, u.capacity);
	}
}

/* Renders everything into a string: the file is written in one go afterwards. */
static int render(const char *pin_dir, char **text, size_t *len)
{
	__u64 v[SX_CNT_MAX] = { 0 };
	int up = !sx_read_counters(pin_dir, v);
	FILE *f = open_memstream(text, len);

	if (!f)
		return -errno;
	header(f, "sockvx_up", "gauge",
	       "1 when the dataplane's pinned maps could be read, 0 when sockvx is not loaded.");
	fprintf(f, "sockvx_up %d\n", up);
	if (up) {
		write_counters(f, v);
		write_maps(f, pin_dir);
	}
	if (fclose(f))
		return -errno;
	return up ? 0 : -ENOENT;
}

/* Writes text to path through a temporary file in the same directory and a rename. */
static int write_atomically(const char *path, const char *text, size_t len)
{
	char tmp[PATH_MAX];
	ssize_t w;
	size_t off = 0;
	int fd, r = 0;

	/* No ".prom" at the end, so the collector ignores it while it is incomplete. */
	if (snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	fd = mkstemp(tmp);
	if (fd < 0)
		return -errno;
	while (off < len && !r) {
		w = write(fd, text + off, len - off);
		if (w < 0 && errno != EINTR)
			r = -errno;
		else if (w > 0)
			off += (size_t)w;
	}
	/* The collector may run as another user. */
	if (!r && fchmod(fd, 0644))
		r = -errno;
	if (!r && fsync(fd))
		r = -errno;
	if (close(fd) && !r)
		r = -errno;
	if (!r && rename(tmp, path))
		r = -errno;
	if (r)
		unlink(tmp);
	return r;
}

int sx_stats_prometheus(const char *pin_dir, const char *path)
{
	char *text = NULL;
	size_t len = 0;
	int r, wr;

	r = sx_require_root();
	if (r)
		return r;
	r = render(pin_dir, &text, &len);
	if (r == -ENOENT)
		pr_warn("sockvxctl: sockvx is not loaded in %s; writing sockvx_up 0\n", pin_dir);
	else if (r)
		return r;
	if (!path || !strcmp(path, "-")) {
		wr = fwrite(text, 1, len, stdout) == len ? 0 : -EIO;
	} else {
		wr = write_atomically(path, text, len);
		if (wr)
			pr_warn("sockvxctl: cannot write %s: %s\n", path, strerror(-wr));
	}
	free(text);
	return wr ? wr : r;
}
