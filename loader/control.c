// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <cjson/cJSON.h>
#include "control.h"
#include "dataplane.h"
#include "drain.h"
#include "endpoint_map.h"
#include "json_out.h"
#include "log.h"
#include "netdev.h"
#include "parse.h"
#include "pins.h"
#include "pod_progs.h"
#include "sockvx_abi.h"
#include "sysenv.h"
#include "tc.h"

static int open_map(const char *pin_dir, const char *name)
{
	int r = sx_require_root();

	return r ? r : sx_pin_open(pin_dir, name, 0);
}

/*
 * Endpoints are parsed and validated all together before the first write,
 * so a bad address in a list changes nothing.
 */
static int parse_endpoints(int argc, char **argv, struct sx_endpoint_key *keys)
{
	int i;

	if (argc < 1) {
		pr_warn("sockvxctl: endpoint: expected at least one IP address\n");
		return -EINVAL;
	}
	for (i = 0; i < argc; i++) {
		if (sx_parse_endpoint(argv[i], &keys[i])) {
			pr_warn("sockvxctl: endpoint: '%s' is not an IPv4 or IPv6 address\n",
				argv[i]);
			return -EINVAL;
		}
	}
	return 0;
}

/*
 * The TC half of an endpoint: its host veth (ifindex, MAC) and the pod's MAC.
 * Runs in the namespace of the load, where the veth is.
 */
static int endpoint_wiring(const char *pin_dir, const char *dev, const char *mac,
			   struct sx_endpoint *ep)
{
	struct sx_link link;
	int r;

	r = sx_dataplane_same_netns(pin_dir);
	if (r)
		return r;
	r = sx_link_get(dev, 0, &link);
	if (r) {
		pr_warn("sockvxctl: endpoint: --dev %s: %s\n", dev,
			r == -ENODEV ? "no such interface in this network namespace" : strerror(-r));
		return r;
	}
	ep->ifindex = (__u32)link.ifindex;
	memcpy(ep->host_mac, link.mac, sizeof(ep->host_mac));
	/* Without --mac the source MAC is not checked (sockvx_abi.h). */
	if (mac)
		sx_parse_mac(mac, ep->pod_mac);
	return 0;
}

int sx_endpoint_add(const char *pin_dir, int argc, char **argv, const char *dev, const char *mac)
{
	struct sx_endpoint_key keys[argc > 0 ? argc : 1];
	struct sx_endpoint ep = { .flags = SX_EP_F_LOCAL };
	struct sx_map_undo undo;
	int fd, r;

	r = parse_endpoints(argc, argv, keys);
	if (r)
		return r;
	fd = open_map(pin_dir, SX_MAP_ENDPOINTS);
	if (fd < 0)
		return fd;
	if (dev && (r = endpoint_wiring(pin_dir, dev, mac, &ep)))
		goto out;
	/* Wiring replaces what an address had (a re-added pod); socket-only keeps it. */
	r = sx_map_add_all(fd, keys, sizeof(keys[0]), &ep, sizeof(ep), argc, argv, "endpoint",
			   dev ? BPF_ANY : BPF_NOEXIST, &undo);
	if (r)
		goto out;
	/* Entries first: from_pod drops a source it does not know. */
	if (dev && (r = sx_dataplane_attach_pod(pin_dir, (int)ep.ifindex)))
		sx_map_undo(&undo);
	else
		sx_map_undo_forget(&undo);
out:
	close(fd);
	return r;
}

static const char *format_mac(const __u8 *m, char *buf, size_t len)
{
	snprintf(buf, len, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
	return buf;
}

static int wired_to(const struct sx_endpoint_key *key, const struct sx_endpoint *ep, void *ifindex)
{
	return ep->ifindex == *(__u32 *)ifindex;
}

/* Is any endpoint still wired to ifindex? */
static int ifindex_in_use(int fd, __u32 ifindex)
{
	return sx_endpoint_map_walk(fd, wired_to, &ifindex);
}

int sx_endpoint_del(const char *pin_dir, int argc, char **argv)
{
	struct sx_endpoint_key keys[argc > 0 ? argc : 1];
	__u32 wired[argc > 0 ? argc : 1];
	struct sx_endpoint ep;
	int fd, i, r;

	r = parse_endpoints(argc, argv, keys);
	if (r)
		return r;
	fd = open_map(pin_dir, SX_MAP_ENDPOINTS);
	if (fd < 0)
		return fd;
	for (i = 0; i < argc; i++) {
		wired[i] = bpf_map_lookup_elem(fd, &keys[i], &ep) ? 0 : ep.ifindex;
		/* Deleting an absent endpoint is not an error. */
		if (bpf_map_delete_elem(fd, &keys[i]) && errno != ENOENT) {
			r = -errno;
			pr_warn("sockvxctl: endpoint del %s: %s\n", argv[i], strerror(-r));
		}
	}
	/* A veth none of the remaining endpoints uses loses from_pod and to_pod. */
	for (i = 0; i < argc; i++) {
		if (!wired[i] || ifindex_in_use(fd, wired[i]) ||
		    sx_dataplane_same_netns(pin_dir))
			continue;
		sx_pod_progs_detach((int)wired[i]);
	}
	close(fd);
	return r;
}

/* One endpoint of `endpoint list`: into the JSON array arr, or printed if NULL. */
static int list_endpoint(const struct sx_endpoint_key *key, const struct sx_endpoint *ep,
			 void *arr)
{
	char ip[64], mac[18];

	sx_format_endpoint(key, ip, sizeof(ip));
	if (arr) {
		cJSON *o = cJSON_CreateObject();

		cJSON_AddStringToObject(o, "ip", ip);
		cJSON_AddNumberToObject(o, "ifindex", ep->ifindex);
		cJSON_AddStringToObject(o, "podMAC", format_mac(ep->pod_mac, mac, sizeof(mac)));
		cJSON_AddStringToObject(o, "hostMAC", format_mac(ep->host_mac, mac, sizeof(mac)));
		cJSON_AddNumberToObject(o, "flags", ep->flags);
		cJSON_AddItemToArray(arr, o);
	} else if (ep->ifindex) {
		printf("%-40s ifindex %u pod %s\n", ip, ep->ifindex,
		       format_mac(ep->pod_mac, mac, sizeof(mac)));
	} else {
		printf("%s\n", ip);
	}
	return 0;
}

int sx_endpoint_list(const char *pin_dir, int json)
{
	cJSON *arr = json ? cJSON_CreateArray() : NULL;
	int fd;

	fd = open_map(pin_dir, SX_MAP_ENDPOINTS);
	if (fd < 0) {
		cJSON_Delete(arr);
		return fd;
	}
	sx_endpoint_map_walk(fd, list_endpoint, arr);
	close(fd);
	return json ? sx_json_emit(arr) : 0;
}

/* An unload that timed out leaves draining set; only load or unload clear it. */
static bool unload_unfinished(int config_fd)
{
	struct sx_config cfg = {};
	__u32 zero = 0;

	return !bpf_map_lookup_elem(config_fd, &zero, &cfg) && cfg.draining;
}

/*
 * accel off stops redirects at once, then returns the accelerated sockets to
 * plain TCP (drain.c), so that none keeps sending through TCP from inside the
 * sockhash, where the receive path differs (docs/semantics.md). A socket whose
 * application has not read its redirected bytes yet stays until a later
 * `accel off` or `unload`; it still moves its bytes through TCP.
 */
int sx_accel_set(const char *pin_dir, int on)
{
	struct sx_drain_tally tally = { 0 };
	struct sx_drain *drain;
	long left;
	int fd, r;

	fd = open_map(pin_dir, SX_MAP_CONFIG);
	if (fd < 0)
		return fd;
	if (on && unload_unfinished(fd)) {
		close(fd);
		pr_warn("sockvxctl: an unload did not finish, so acceleration stays stopped: "
			"run 'sockvxctl unload' again to finish it, or 'sockvxctl load' to resume\n");
		return -EBUSY;
	}
	r = sx_config_set(fd, SX_CONFIG_ACCEL_DISABLED, !on);
	close(fd);
	if (r) {
		pr_warn("sockvxctl: accel: %s\n", strerror(-r));
		return r;
	}
	if (on) {
		printf("acceleration on\n");
		return 0;
	}
	drain = sx_drain_open(pin_dir, 0, &r);
	if (!drain) {
		pr_warn("sockvxctl: acceleration is off, but accelerated sockets were not returned to plain TCP: %s\n",
			strerror(-r));
		return r;
	}
	left = sx_drain_run(drain, 2000, &tally);
	sx_drain_close(drain);
	if (left < 0) {
		pr_warn("sockvxctl: acceleration is off; draining failed: %s\n", strerror((int)-left));
		return (int)left;
	}
	printf("acceleration off (%llu socket(s) returned to plain TCP, %ld still draining)\n",
	       (unsigned long long)tally.removed, left);
	return 0;
}

int sx_exclude_port(const char *pin_dir, int add, int argc, char **argv)
{
	__u16 ports[argc > 0 ? argc : 1];
	__u8 one = 1;
	int fd, i, r = 0;

	if (argc < 1) {
		pr_warn("sockvxctl: exclude-port: expected at least one port\n");
		return -EINVAL;
	}
	for (i = 0; i < argc; i++) {
		if (sx_parse_port(argv[i], &ports[i])) {
			pr_warn("sockvxctl: exclude-port: '%s' is not a port (1-65535)\n", argv[i]);
			return -EINVAL;
		}
	}
	fd = open_map(pin_dir, SX_MAP_EXCL_PORTS);
	if (fd < 0)
		return fd;
	if (add)
		r = sx_map_add_all(fd, ports, sizeof(ports[0]), &one, sizeof(one), argc, argv,
				   "exclude-port", BPF_NOEXIST, NULL);
	for (i = 0; !add && i < argc && !r; i++) {
		if (bpf_map_delete_elem(fd, &ports[i]) && errno != ENOENT) {
			r = -errno;
			pr_warn("sockvxctl: exclude-port del %s: %s\n", argv[i], strerror(-r));
		}
	}
	close(fd);
	return r;
}

int sx_exclude_port_list(const char *pin_dir, int json)
{
	__u16 key, next, *prev = NULL;
	cJSON *arr = cJSON_CreateArray();
	int fd;

	fd = open_map(pin_dir, SX_MAP_EXCL_PORTS);
	if (fd < 0) {
		cJSON_Delete(arr);
		return fd;
	}
	while (!bpf_map_get_next_key(fd, prev, &next)) {
		key = next;
		prev = &key;
		if (json)
			cJSON_AddItemToArray(arr, cJSON_CreateNumber(key));
		else
			printf("%u\n", key);
	}
	close(fd);
	if (json)
		return sx_json_emit(arr);
	cJSON_Delete(arr);
	return 0;
}
