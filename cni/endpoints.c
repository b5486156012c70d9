// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include "netconf.h"
#include "endpoints.h"
#include "endpoint_map.h"
#include "parse.h"
#include "pins.h"
#include "pod_progs.h"
#include "tc.h"

int sx_cni_node_ready(const char *pin_dir, bool main_mode, char *why, size_t len)
{
	static const char *const needed[] = { SX_MAP_ENDPOINTS, SX_MAP_SOCKHASH,
					      SX_PIN_LINK_SOCKOPS, SX_PIN_PROG_FROM_POD };
	size_t i, n = main_mode ? 4 : 3;

	/* bpffs pins are root's: an unprivileged caller sees them as missing. */
	if (access(pin_dir, X_OK) && errno == EACCES) {
		snprintf(why, len, "%s: permission denied; the plugin runs as root, as runtimes run it",
			 pin_dir);
		return -EACCES;
	}
	for (i = 0; i < n; i++) {
		if (!sx_pin_exists(pin_dir, needed[i])) {
			snprintf(why, len, "%s/%s is missing; run: sockvxctl load --pin-dir %s",
				 pin_dir, needed[i], pin_dir);
			return -ENOENT;
		}
	}
	/* The veths a main-mode ADD creates must live where the tc programs were set up. */
	if (main_mode && sx_dataplane_same_netns_quiet(pin_dir)) {
		snprintf(why, len, "sockvx in %s was loaded in another network namespace", pin_dir);
		return -EXDEV;
	}
	return 0;
}

/*
 * The node's pins lock, shared (loader/pins.h), held only while a verb reads
 * or writes the pinned map and programs: a few milliseconds, so that a load
 * never waits long behind pod churn, yet never re-pins from_pod or removes
 * the pins half-way through a pod's wiring. Returns the lock's fd, or
 * -errno: -ENOENT when the pin directory's parent is missing (nothing is
 * loaded, and opening the pins fails next), which no caller treats as an
 * error; any other failure is one for ADD and CHECK (err set), while the
 * removals, which are best effort, go on without the lock (err NULL).
 */
static int hold_pins(const char *pin_dir, struct sx_cni_error *err)
{
	int fd = sx_pins_lock(pin_dir, false);

	if (fd < 0 && fd != -ENOENT && err)
		sx_cni_fail(err, SX_CNI_E_IO, "cannot lock the pin directory", "%s: %s", pin_dir,
			    strerror(-fd));
	return fd;
}

static void release_pins(int fd)
{
	if (fd >= 0)
		close(fd);
}

static int open_endpoints(const char *pin_dir, struct sx_cni_error *err)
{
	int fd = sx_pin_open(pin_dir, SX_MAP_ENDPOINTS, 1);

	/* Gone since the verb found sockvx loaded: an unload ran in between. */
	if (fd == -ENOENT)
		sx_cni_fail(err, SX_CNI_E_TRY_AGAIN, "sockvx is not loaded on this node",
			    "%s/%s is gone: sockvx was unloaded meanwhile", pin_dir, SX_MAP_ENDPOINTS);
	else if (fd < 0)
		sx_cni_fail(err, SX_CNI_E_DATAPLANE, "cannot open the endpoint map", "%s/%s: %s",
			    pin_dir, SX_MAP_ENDPOINTS, strerror(-fd));
	return fd;
}

/* The endpoint map, opened under the pins lock (*lock, for release_pins); -1 with err set. */
static int open_endpoints_locked(const char *pin_dir, int *lock, struct sx_cni_error *err)
{
	int fd;

	*lock = hold_pins(pin_dir, err);
	if (*lock < 0 && *lock != -ENOENT)
		return -1;
	fd = open_endpoints(pin_dir, err);
	if (fd < 0) {
		release_pins(*lock);
		return -1;
	}
	return fd;
}

int sx_cni_endpoints_add(const char *pin_dir, const struct sx_endpoint_key *keys, int n,
			 const struct sx_endpoint *ep, struct sx_cni_error *err)
{
	int lock, fd = open_endpoints_locked(pin_dir, &lock, err), r;
	struct sx_map_undo undo;

	if (fd < 0)
		return err->code;
	/* An entry left by a pod that had the address before is stale: replace it. */
	r = sx_map_add_all(fd, keys, sizeof(keys[0]), ep, sizeof(*ep), n, NULL, "endpoint",
			   BPF_ANY, &undo);
	if (r) {
		sx_cni_fail(err, SX_CNI_E_DATAPLANE, "cannot register the pod's addresses",
			    "%s%s", strerror(-r), r == -E2BIG ? " (the endpoint map is full)" : "");
	} else if (ep->ifindex && (r = sx_dataplane_attach_pod(pin_dir, (int)ep->ifindex))) {
		sx_cni_fail(err, SX_CNI_E_DATAPLANE, "cannot attach the tc program to the pod's veth",
			    "ifindex %u: %s", ep->ifindex, strerror(-r));
		sx_map_undo(&undo);
	} else {
		sx_map_undo_forget(&undo);
	}
	close(fd);
	release_pins(lock);
	return r ? err->code : 0;
}

void sx_cni_endpoints_del(const char *pin_dir, const struct sx_endpoint_key *keys, int n,
			  __u32 ifindex)
{
	int lock = hold_pins(pin_dir, NULL), fd = sx_pin_open(pin_dir, SX_MAP_ENDPOINTS, 1), i;
	struct sx_endpoint cur;

	for (i = 0; fd >= 0 && i < n; i++)
		if (!bpf_map_lookup_elem(fd, &keys[i], &cur) && cur.ifindex == ifindex)
			bpf_map_delete_elem(fd, &keys[i]);
	if (fd >= 0)
		close(fd);
	release_pins(lock);
}

struct wired_del {
	int fd;
	__u32 ifindex;
};

static int del_if_wired(const struct sx_endpoint_key *key, const struct sx_endpoint *ep, void *arg)
{
	const struct wired_del *w = arg;

	if (ep->ifindex == w->ifindex)
		bpf_map_delete_elem(w->fd, key);
	return 0;
}

void sx_cni_endpoints_del_wired(const char *pin_dir, __u32 ifindex)
{
	int lock = hold_pins(pin_dir, NULL);
	struct wired_del w = { .fd = sx_pin_open(pin_dir, SX_MAP_ENDPOINTS, 1), .ifindex = ifindex };

	if (w.fd >= 0 && ifindex)
		sx_endpoint_map_walk(w.fd, del_if_wired, &w);
	if (w.fd >= 0)
		close(w.fd);
	release_pins(lock);
}

/* The id of the pinned from_pod program, 0 if unknown. */
static __u32 pinned_prog_id(const char *pin_dir)
{
	struct bpf_prog_info info;
	__u32 len = sizeof(info);
	int fd = sx_pin_open(pin_dir, SX_PIN_PROG_FROM_POD, 1);

	memset(&info, 0, sizeof(info));
	if (fd < 0)
		return 0;
	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		info.id = 0;
	close(fd);
	return info.id;
}

int sx_cni_endpoints_check(const char *pin_dir, const struct sx_endpoint_key *keys, int n,
			   const struct sx_endpoint *ep, struct sx_cni_error *err)
{
	int lock, fd = open_endpoints_locked(pin_dir, &lock, err), i;
	struct sx_endpoint cur;
	char ip[64];
	__u32 want, have;

	if (fd < 0)
		return err->code;
	for (i = 0; i < n; i++) {
		sx_format_endpoint(&keys[i], ip, sizeof(ip));
		if (bpf_map_lookup_elem(fd, &keys[i], &cur))
			sx_cni_fail(err, SX_CNI_E_DRIFT, "the pod's networking differs from its ADD result",
				    "%s is not in the endpoint map", ip);
		else if (cur.ifindex != ep->ifindex ||
			 (ep->ifindex && memcmp(cur.pod_mac, ep->pod_mac, sizeof(cur.pod_mac))))
			sx_cni_fail(err, SX_CNI_E_DRIFT, "the pod's networking differs from its ADD result",
				    "the endpoint entry of %s belongs to another interface", ip);
		if (err->code)
			break;
	}
	close(fd);
	if (!err->code && ep->ifindex) {
		/* Under the lock: a reload replaces the pinned program and the veths' together. */
		want = pinned_prog_id(pin_dir);
		have = sx_tc_prog_id((int)ep->ifindex, BPF_TC_INGRESS);
		if (!want || have != want)
			sx_cni_fail(err, SX_CNI_E_DRIFT, "the pod's networking differs from its ADD result",
				    "the host veth (ifindex %u) runs tc program id %u, not from_pod (id %u)",
				    ep->ifindex, have, want);
	}
	release_pins(lock);
	return err->code;
}
