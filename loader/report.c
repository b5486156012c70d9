// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <arpa/inet.h>
#include <cjson/cJSON.h>
#include "dataplane.h"
#include "log.h"
#include "netdev.h"
#include "pins.h"
#include "report.h"
#include "json_out.h"
#include "sysenv.h"
#include "tc.h"

static const char *const counter_names[SX_CNT_MAX] = SX_COUNTER_NAMES;

int sx_read_counters(const char *pin_dir, __u64 *out)
{
	int ncpu = libbpf_num_possible_cpus();
	__u64 *percpu;
	__u32 id;
	int fd, c, r = 0;

	if (ncpu < 1)
		return -EINVAL;
	fd = sx_pin_open(pin_dir, SX_MAP_STATS, 0);
	if (fd < 0)
		return fd;
	percpu = calloc((size_t)ncpu, sizeof(*percpu));
	if (!percpu) {
		close(fd);
		return -ENOMEM;
	}
	for (id = 0; id < SX_CNT_MAX && !r; id++) {
		out[id] = 0;
		if (bpf_map_lookup_elem(fd, &id, percpu)) {
			r = -errno;
			break;
		}
		for (c = 0; c < ncpu; c++)
			out[id] += percpu[c];
	}
	free(percpu);
	close(fd);
	return r;
}

int sx_stats(const char *pin_dir, int json)
{
	__u64 v[SX_CNT_MAX] = { 0 };
	int i, r;

	r = sx_require_root();
	if (!r)
		r = sx_read_counters(pin_dir, v);
	if (r)
		return r;
	if (json) {
		cJSON *o = cJSON_CreateObject();

		for (i = 0; i < SX_CNT_MAX; i++)
			cJSON_AddNumberToObject(o, counter_names[i], (double)v[i]);
		return sx_json_emit(o);
	}
	for (i = 0; i < SX_CNT_MAX; i++)
		printf("%-32s %llu\n", counter_names[i], (unsigned long long)v[i]);
	return 0;
}

/*
 * Entries in a map, walked by key (fine for the sizes sockvx uses). A walk
 * with get_next_key restarts from the first key when the key it stands
 * on is deleted meanwhile, so under churn it can see keys twice. It stops at the
 * map's capacity: a count never claims more entries than the map can hold, and
 * a map that keeps changing cannot keep the walk going.
 */
static long count_entries(int fd, const struct bpf_map_info *info)
{
	char key[128], next[128];
	__u32 key_size = info->key_size;
	void *prev = NULL;
	long n = 0;

	if (key_size > sizeof(key))
		return -EINVAL;
	while (n < (long)info->max_entries && !bpf_map_get_next_key(fd, prev, next)) {
		memcpy(key, next, key_size);
		prev = key;
		n++;
	}
	return n;
}

/* Arrays are always full and sk_storage has no keys to walk: no entry count. */
static bool countable(__u32 type)
{
	return type != BPF_MAP_TYPE_SK_STORAGE && type != BPF_MAP_TYPE_ARRAY &&
	       type != BPF_MAP_TYPE_PERCPU_ARRAY;
}

int sx_map_fill(const char *pin_dir, const char *name, long *entries, __u32 *capacity)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);
	int fd = sx_pin_open(pin_dir, name, 1), r = 0;

	if (fd < 0)
		return fd;
	if (bpf_obj_get_info_by_fd(fd, &info, &len)) {
		r = -errno;
	} else {
		*capacity = info.max_entries;
		*entries = countable(info.type) ? count_entries(fd, &info) : -1;
	}
	close(fd);
	return r;
}

static cJSON *map_report(const char *pin_dir, const char *name)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);
	cJSON *o = cJSON_CreateObject();
	int fd = sx_pin_open(pin_dir, name, 1);

	cJSON_AddStringToObject(o, "name", name);
	cJSON_AddBoolToObject(o, "pinned", fd >= 0);
	if (fd < 0)
		return o;
	if (!bpf_obj_get_info_by_fd(fd, &info, &len)) {
		cJSON_AddNumberToObject(o, "id", info.id);
		cJSON_AddNumberToObject(o, "capacity", info.max_entries);
		if (countable(info.type))
			cJSON_AddNumberToObject(o, "entries",
						(double)count_entries(fd, &info));
	}
	close(fd);
	return o;
}

static cJSON *prog_report(const char *pin_dir, const char *pin)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);
	cJSON *o = cJSON_CreateObject();
	int fd = sx_pin_open(pin_dir, pin, 1);

	cJSON_AddBoolToObject(o, "pinned", fd >= 0);
	if (fd >= 0 && !bpf_obj_get_info_by_fd(fd, &info, &len)) {
		cJSON_AddStringToObject(o, "name", info.name);
		cJSON_AddNumberToObject(o, "id", info.id);
	}
	if (fd >= 0)
		close(fd);
	return o;
}

/*
 * A pinned cgroup link and where it is attached. A link whose cgroup was
 * removed stays pinned but reports cgroup id 0: it is not attached.
 */
static void link_report(cJSON *o, const char *pin_dir, const char *pin)
{
	struct bpf_link_info li = {};
	__u32 len = sizeof(li);
	int fd = sx_pin_open(pin_dir, pin, 1);
	int attached = 0;

	if (fd >= 0 && !bpf_obj_get_info_by_fd(fd, &li, &len) && li.cgroup.cgroup_id) {
		attached = 1;
		cJSON_AddNumberToObject(o, "link_id", li.id);
		cJSON_AddNumberToObject(o, "cgroup_id", (double)li.cgroup.cgroup_id);
	}
	cJSON_AddBoolToObject(o, "attached", attached);
	if (fd >= 0)
		close(fd);
}

static cJSON *features_report(void)
{
	cJSON *o = cJSON_CreateObject();
	struct utsname u;
	char cg[PATH_MAX];
	FILE *mi;

	if (!uname(&u))
		cJSON_AddStringToObject(o, "kernel", u.release);
	cJSON_AddBoolToObject(o, "btf", access(SX_BTF_PATH, R_OK) == 0);
	cJSON_AddBoolToObject(o, "bpffs", sx_path_is_bpffs(SX_BPFFS_ROOT) == 1);
	mi = fopen("/proc/self/mountinfo", "re");
	if (mi && !sx_mountinfo_find_cgroup2(mi, cg, sizeof(cg)))
		cJSON_AddStringToObject(o, "cgroup2", cg);
	else
		cJSON_AddNullToObject(o, "cgroup2");
	if (mi)
		fclose(mi);
	cJSON_AddBoolToObject(o, "sockops", libbpf_probe_bpf_prog_type(BPF_PROG_TYPE_SOCK_OPS, NULL) == 1);
	cJSON_AddBoolToObject(o, "sk_msg", libbpf_probe_bpf_prog_type(BPF_PROG_TYPE_SK_MSG, NULL) == 1);
	cJSON_AddBoolToObject(o, "sockhash", libbpf_probe_bpf_map_type(BPF_MAP_TYPE_SOCKHASH, NULL) == 1);
	cJSON_AddBoolToObject(o, "sk_storage", libbpf_probe_bpf_map_type(BPF_MAP_TYPE_SK_STORAGE, NULL) == 1);
	cJSON_AddBoolToObject(o, "lpm_trie", libbpf_probe_bpf_map_type(BPF_MAP_TYPE_LPM_TRIE, NULL) == 1);
	return o;
}

/* The TC dataplane: its programs, and the VXLAN device when there is one. */
static cJSON *overlay_report(const char *pin_dir)
{
	cJSON *o = cJSON_CreateObject();
	char text[INET6_ADDRSTRLEN];
	struct sx_netconf nc;
	struct sx_link vx;

	cJSON_AddItemToObject(o, "from_pod", prog_report(pin_dir, SX_PIN_PROG_FROM_POD));
	cJSON_AddItemToObject(o, "to_pod", prog_report(pin_dir, SX_PIN_PROG_TO_POD));
	if (sx_netconf_read(pin_dir, &nc) || !nc.vxlan_ifindex) {
		cJSON_AddNullToObject(o, "device");
		return o;
	}
	cJSON_AddStringToObject(o, "device", SX_VXLAN_DEV);
	cJSON_AddNumberToObject(o, "ifindex", nc.vxlan_ifindex);
	cJSON_AddNumberToObject(o, "vni", nc.vni);
	cJSON_AddNumberToObject(o, "port", nc.vxlan_port);
	cJSON_AddStringToObject(o, "underlay_ip", inet_ntop(AF_INET, &nc.underlay_ip4, text, sizeof(text)));
	if (nc.router_ip4)
		cJSON_AddStringToObject(o, "node_ip", inet_ntop(AF_INET, &nc.router_ip4, text, sizeof(text)));
	if (nc.router_ip6.addr[0] | nc.router_ip6.addr[1] | nc.router_ip6.addr[2] | nc.router_ip6.addr[3])
		cJSON_AddStringToObject(o, "node_ip6", inet_ntop(AF_INET6, &nc.router_ip6, text, sizeof(text)));
	cJSON_AddNumberToObject(o, "netns", (double)nc.netns_ino);
	/* Interfaces can be checked only from the namespace they live in. */
	if (sx_dataplane_same_netns_quiet(pin_dir)) {
		cJSON_AddNullToObject(o, "present");
		return o;
	}
	cJSON_AddBoolToObject(o, "present", !sx_link_get(NULL, (int)nc.vxlan_ifindex, &vx) &&
						    !strcmp(vx.name, SX_VXLAN_DEV));
	cJSON_AddBoolToObject(o, "from_overlay_attached",
			      sx_tc_prog_id((int)nc.vxlan_ifindex, BPF_TC_INGRESS) != 0);
	cJSON_AddBoolToObject(o, "to_overlay_attached",
			      sx_tc_prog_id((int)nc.vxlan_ifindex, BPF_TC_EGRESS) != 0);
	return o;
}

cJSON *sx_status_build(const char *pin_dir)
{
	cJSON *root = cJSON_CreateObject(), *maps, *att;
	struct sx_config cfg = {};
	__u32 zero = 0;
	size_t i;
	int fd;

	cJSON_AddStringToObject(root, "pin_dir", pin_dir);
	cJSON_AddItemToObject(root, "features", features_report());

	fd = sx_pin_open(pin_dir, SX_MAP_CONFIG, 1);
	if (fd >= 0 && !bpf_map_lookup_elem(fd, &zero, &cfg))
		cJSON_AddStringToObject(root, "acceleration",
					cfg.draining ? "draining" : cfg.accel_disabled ? "off" : "on");
	else
		cJSON_AddNullToObject(root, "acceleration");
	if (fd >= 0)
		close(fd);

	att = cJSON_AddObjectToObject(root, "sockops");
	cJSON_AddItemToObject(att, "program", prog_report(pin_dir, SX_PIN_PROG_SOCKOPS));
	link_report(att, pin_dir, SX_PIN_LINK_SOCKOPS);

	att = cJSON_AddObjectToObject(root, "setsockopt");
	cJSON_AddItemToObject(att, "program", prog_report(pin_dir, SX_PIN_PROG_SETSOCKOPT));
	link_report(att, pin_dir, SX_PIN_LINK_SETSOCKOPT);

	att = cJSON_AddObjectToObject(root, "sk_msg");
	cJSON_AddItemToObject(att, "program", prog_report(pin_dir, SX_PIN_PROG_SK_MSG));
	fd = sx_pin_open(pin_dir, SX_MAP_SOCKHASH, 1);
	if (fd >= 0) {
		__u32 ids[4], cnt = 4, flags = 0;

		if (!bpf_prog_query(fd, BPF_SK_MSG_VERDICT, 0, &flags, ids, &cnt))
			cJSON_AddBoolToObject(att, "attached", cnt > 0);
		close(fd);
	} else {
		cJSON_AddBoolToObject(att, "attached", 0);
	}

	cJSON_AddItemToObject(root, "overlay", overlay_report(pin_dir));

	/* Loaded: the maps are pinned and sockops is attached to a live cgroup. */
	cJSON_AddBoolToObject(root, "loaded",
			      sx_pin_exists(pin_dir, SX_MAP_SOCKHASH) &&
				      cJSON_IsTrue(cJSON_GetObjectItem(
					      cJSON_GetObjectItem(root, "sockops"), "attached")));

	maps = cJSON_AddArrayToObject(root, "maps");
	for (i = 0; i < sx_map_count; i++)
		cJSON_AddItemToArray(maps, map_report(pin_dir, sx_map_names[i]));
	return root;
}

static const char *yesno(const cJSON *o, const char *key)
{
	return cJSON_IsTrue(cJSON_GetObjectItem(o, key)) ? "yes" : "no";
}

int sx_status(const char *pin_dir, int json)
{
	cJSON *st, *f, *m;
	int r = sx_require_root();

	if (r)
		return r;
	st = sx_status_build(pin_dir);
	if (json)
		return sx_json_emit(st);
	f = cJSON_GetObjectItem(st, "features");
	printf("kernel        %s (btf %s, bpffs %s, sockops %s, sk_msg %s, sockhash %s, sk_storage %s)\n",
	       cJSON_GetStringValue(cJSON_GetObjectItem(f, "kernel")), yesno(f, "btf"),
	       yesno(f, "bpffs"), yesno(f, "sockops"), yesno(f, "sk_msg"), yesno(f, "sockhash"),
	       yesno(f, "sk_storage"));
	printf("cgroup2       %s\n", cJSON_IsString(cJSON_GetObjectItem(f, "cgroup2")) ?
					 cJSON_GetStringValue(cJSON_GetObjectItem(f, "cgroup2")) :
					 "not mounted");
	printf("pin dir       %s (%s)\n", pin_dir,
	       cJSON_IsTrue(cJSON_GetObjectItem(st, "loaded")) ? "loaded" : "not loaded");
	m = cJSON_GetObjectItem(st, "acceleration");
	printf("acceleration  %s\n", cJSON_IsString(m) ? cJSON_GetStringValue(m) : "-");
	m = cJSON_GetObjectItem(st, "sockops");
	printf("sockops       %s", cJSON_IsTrue(cJSON_GetObjectItem(m, "attached")) ? "attached" : "not attached");
	if (cJSON_GetObjectItem(m, "link_id"))
		printf(" (bpf_link %d, cgroup id %.0f)",
		       cJSON_GetObjectItem(m, "link_id")->valueint,
		       cJSON_GetObjectItem(m, "cgroup_id")->valuedouble);
	printf("\n");
	m = cJSON_GetObjectItem(st, "setsockopt");
	printf("setsockopt    %s\n", cJSON_IsTrue(cJSON_GetObjectItem(m, "attached")) ? "attached" :
									    "not attached");
	m = cJSON_GetObjectItem(st, "sk_msg");
	printf("sk_msg        %s\n", cJSON_IsTrue(cJSON_GetObjectItem(m, "attached")) ?
					 "attached to " SX_MAP_SOCKHASH : "not attached");
	m = cJSON_GetObjectItem(st, "overlay");
	if (cJSON_IsString(cJSON_GetObjectItem(m, "device")))
		printf("overlay       %s (VNI %.0f, UDP port %.0f, underlay %s, node address %s; tc %s)\n",
		       cJSON_GetStringValue(cJSON_GetObjectItem(m, "device")),
		       cJSON_GetNumberValue(cJSON_GetObjectItem(m, "vni")),
		       cJSON_GetNumberValue(cJSON_GetObjectItem(m, "port")),
		       cJSON_GetStringValue(cJSON_GetObjectItem(m, "underlay_ip")),
		       cJSON_IsString(cJSON_GetObjectItem(m, "node_ip")) ?
			       cJSON_GetStringValue(cJSON_GetObjectItem(m, "node_ip")) : "none",
		       cJSON_IsNull(cJSON_GetObjectItem(m, "present")) ? "in another network namespace" :
		       !cJSON_IsTrue(cJSON_GetObjectItem(m, "present")) ? "DEVICE MISSING" :
		       cJSON_IsTrue(cJSON_GetObjectItem(m, "from_overlay_attached")) &&
				       cJSON_IsTrue(cJSON_GetObjectItem(m, "to_overlay_attached")) ?
			       "attached" : "NOT ATTACHED");
	else
		printf("overlay       none (load with --underlay to reach other nodes)\n");
	cJSON_ArrayForEach(m, cJSON_GetObjectItem(st, "maps"))
	{
		cJSON *e = cJSON_GetObjectItem(m, "entries"), *c = cJSON_GetObjectItem(m, "capacity");

		printf("map %-18s", cJSON_GetStringValue(cJSON_GetObjectItem(m, "name")));
		if (!cJSON_IsTrue(cJSON_GetObjectItem(m, "pinned")))
			printf("not pinned\n");
		else if (e)
			printf("%.0f/%.0f entries\n", e->valuedouble, c ? c->valuedouble : 0);
		else
			printf("pinned\n");
	}
	cJSON_Delete(st);
	return 0;
}
