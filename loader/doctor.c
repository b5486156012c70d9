// SPDX-License-Identifier: Apache-2.0
/*
 * sockvxctl doctor: checks what a node needs, in the order an operator would
 * fix it (kernel, filesystems, pins, attachments, overlay, CNI), and says for
 * each problem what to run. Read-only: it never changes the node.
 */
#include <errno.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <cjson/cJSON.h>
#include "cniconf.h"
#include "doctor.h"
#include "migrate.h"
#include "netconf.h"
#include "netdev.h"
#include "pins.h"
#include "sockvx_abi.h"
#include "sysenv.h"
#include "tc.h"

/* Room for the names of older pins in one finding. */
#define STALE_LEN 512

/* bpf_redirect_peer, the newest helper the TC dataplane needs, came in 5.10. */
#define MIN_MAJOR 5
#define MIN_MINOR 10

enum verdict { OK, WARN, FAIL };
static const char *const verdict_text[] = { "ok", "warn", "FAIL" };

struct report {
	cJSON *checks;
	int failed, warned, json;
};

/* One finding: what was checked, what was found, and how to fix it (fix may be NULL). */
static void __attribute__((format(printf, 5, 6)))
finding(struct report *rp, enum verdict v, const char *check, const char *fix, const char *fmt, ...)
{
	cJSON *c = cJSON_CreateObject();
	char detail[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	cJSON_AddStringToObject(c, "check", check);
	cJSON_AddStringToObject(c, "status", verdict_text[v]);
	cJSON_AddStringToObject(c, "detail", detail);
	if (v != OK && fix)
		cJSON_AddStringToObject(c, "fix", fix);
	cJSON_AddItemToArray(rp->checks, c);
	rp->failed += v == FAIL;
	rp->warned += v == WARN;
	if (rp->json)
		return;
	printf("%-5s %-12s %s\n", verdict_text[v], check, detail);
	if (v != OK && fix)
		printf("      %-12s fix: %s\n", "", fix);
}

static void check_kernel(struct report *rp)
{
	struct utsname u;
	int major = 0, minor = 0;

	if (uname(&u) || sscanf(u.release, "%d.%d", &major, &minor) != 2) {
		finding(rp, WARN, "kernel", NULL, "cannot read the kernel version");
		return;
	}
	if (major < MIN_MAJOR || (major == MIN_MAJOR && minor < MIN_MINOR))
		finding(rp, FAIL, "kernel", "upgrade the node's kernel",
			"%s is older than %d.%d, which sockvx needs (bpf_redirect_peer)", u.release,
			MIN_MAJOR, MIN_MINOR);
	else
		finding(rp, OK, "kernel", NULL, "%s (%d.%d or later needed)", u.release, MIN_MAJOR,
			MIN_MINOR);
	if (access(SX_BTF_PATH, R_OK))
		finding(rp, FAIL, "btf", "use a kernel built with CONFIG_DEBUG_INFO_BTF=y",
			"%s is missing: the programs cannot be relocated for this kernel", SX_BTF_PATH);
	else
		finding(rp, OK, "btf", NULL, "%s", SX_BTF_PATH);
}

static void check_features(struct report *rp)
{
	static const struct {
		const char *what, *config;
		int is_map, type;
	} need[] = {
		{ "sockops programs", "CONFIG_CGROUP_BPF", 0, BPF_PROG_TYPE_SOCK_OPS },
		{ "cgroup sockopt programs", "CONFIG_CGROUP_BPF", 0, BPF_PROG_TYPE_CGROUP_SOCKOPT },
		{ "sk_msg programs", "CONFIG_BPF_STREAM_PARSER", 0, BPF_PROG_TYPE_SK_MSG },
		{ "tc programs", "CONFIG_NET_CLS_BPF and CONFIG_NET_SCH_INGRESS", 0,
		  BPF_PROG_TYPE_SCHED_CLS },
		{ "SOCKHASH maps", "CONFIG_BPF_STREAM_PARSER", 1, BPF_MAP_TYPE_SOCKHASH },
		{ "socket storage maps", "CONFIG_BPF_SYSCALL", 1, BPF_MAP_TYPE_SK_STORAGE },
		{ "LPM trie maps", "CONFIG_BPF_SYSCALL", 1, BPF_MAP_TYPE_LPM_TRIE },
	};
	char missing[256] = "", fix[256] = "";
	size_t i;
	int have;

	for (i = 0; i < sizeof(need) / sizeof(need[0]); i++) {
		have = need[i].is_map ?
			       libbpf_probe_bpf_map_type((enum bpf_map_type)need[i].type, NULL) == 1 :
			       libbpf_probe_bpf_prog_type((enum bpf_prog_type)need[i].type, NULL) == 1;
		if (have)
			continue;
		snprintf(missing + strlen(missing), sizeof(missing) - strlen(missing), "%s%s",
			 missing[0] ? ", " : "", need[i].what);
		snprintf(fix, sizeof(fix), "use a kernel with %s", need[i].config);
	}
	if (missing[0])
		finding(rp, FAIL, "features", fix, "the kernel lacks %s", missing);
	else
		finding(rp, OK, "features", NULL,
			"sockops, sk_msg, tc, SOCKHASH, socket storage, LPM trie");
}

static void check_mounts(struct report *rp, const char *pin_dir)
{
	char cg[4096];
	FILE *mi;
	int r;

	r = sx_path_is_bpffs(access(pin_dir, F_OK) ? SX_BPFFS_ROOT : pin_dir);
	if (r == 1)
		finding(rp, OK, "bpffs", NULL, "%s is on bpffs",
			access(pin_dir, F_OK) ? SX_BPFFS_ROOT : pin_dir);
	else
		finding(rp, FAIL, "bpffs",
			"mount -t bpf bpf " SX_BPFFS_ROOT " (sockvx.service and sockvxctl load do this)",
			"%s is not a bpffs mount: pins would not survive the loader's exit",
			SX_BPFFS_ROOT);
	mi = fopen("/proc/self/mountinfo", "re");
	r = mi ? sx_mountinfo_find_cgroup2(mi, cg, sizeof(cg)) : -errno;
	if (mi)
		fclose(mi);
	if (r)
		finding(rp, FAIL, "cgroup2", "mount -t cgroup2 none /sys/fs/cgroup/unified",
			"no cgroup v2 hierarchy is mounted: sockops has nowhere to attach");
	else
		finding(rp, OK, "cgroup2", NULL, "mounted on %s", cg);
}

static void add_stale(const char *old, const char *cur, void *arg)
{
	char *s = arg;
	size_t len = strlen(s);

	snprintf(s + len, STALE_LEN - len, "%s%s (now %s)", len ? ", " : "", old, cur);
}

/* Every map and program load pins; a missing one means a broken or partial load. */
static int check_pins(struct report *rp, const char *pin_dir)
{
	static const char *const progs[] = {
		SX_PIN_PROG_SOCKOPS,  SX_PIN_PROG_SK_MSG,	SX_PIN_PROG_SETSOCKOPT,
		SX_PIN_PROG_FROM_POD, SX_PIN_PROG_FROM_OVERLAY, SX_PIN_PROG_TO_OVERLAY,
		SX_PIN_LINK_SOCKOPS,  SX_PIN_LINK_SETSOCKOPT,
	};
	char missing[512] = "", stale[STALE_LEN];
	size_t i, n = 0;

	if (access(pin_dir, F_OK)) {
		finding(rp, FAIL, "pins", "sockvxctl load (or: systemctl start sockvx)",
			"sockvx is not loaded: %s does not exist", pin_dir);
		return -ENOENT;
	}
	for (i = 0; i < sx_map_count + sizeof(progs) / sizeof(progs[0]); i++) {
		const char *name = i < sx_map_count ? sx_map_names[i] : progs[i - sx_map_count];

		if (sx_pin_exists(pin_dir, name))
			continue;
		n++;
		snprintf(missing + strlen(missing), sizeof(missing) - strlen(missing), "%s%s",
			 missing[0] ? ", " : "", name);
	}
	stale[0] = '\0';
	if (sx_migrate_stale(pin_dir, add_stale, stale))
		finding(rp, WARN, "map-schema", "sockvxctl load (this build's; it migrates their entries)",
			"pins of an older map version: %s", stale);
	if (n)
		finding(rp, FAIL, "pins", "sockvxctl load (it recreates what is missing)",
			"%zu missing from %s: %s", n, pin_dir, missing);
	else
		finding(rp, OK, "pins", NULL, "%zu maps, programs and links in %s",
			sx_map_count + sizeof(progs) / sizeof(progs[0]), pin_dir);
	return n ? -ENOENT : 0;
}

/* 1 when a pinned cgroup link is attached to a cgroup that still exists. */
static int link_attached(const char *pin_dir, const char *pin)
{
	struct bpf_link_info li = {};
	__u32 len = sizeof(li);
	int fd = sx_pin_open(pin_dir, pin, 1), ok;

	if (fd < 0)
		return 0;
	ok = !bpf_obj_get_info_by_fd(fd, &li, &len) && li.type == BPF_LINK_TYPE_CGROUP &&
	     li.cgroup.cgroup_id;
	close(fd);
	return ok;
}

static void check_attachments(struct report *rp, const char *pin_dir)
{
	__u32 ids[4], cnt = 4, flags = 0, zero = 0;
	struct sx_config cfg = {};
	char bad[128] = "";
	int fd, msg = 0;

	if (!link_attached(pin_dir, SX_PIN_LINK_SOCKOPS))
		snprintf(bad + strlen(bad), sizeof(bad) - strlen(bad), "sockops ");
	if (!link_attached(pin_dir, SX_PIN_LINK_SETSOCKOPT))
		snprintf(bad + strlen(bad), sizeof(bad) - strlen(bad), "setsockopt ");
	fd = sx_pin_open(pin_dir, SX_MAP_SOCKHASH, 1);
	if (fd >= 0) {
		msg = !bpf_prog_query(fd, BPF_SK_MSG_VERDICT, 0, &flags, ids, &cnt) && cnt > 0;
		close(fd);
	}
	if (!msg)
		snprintf(bad + strlen(bad), sizeof(bad) - strlen(bad), "sk_msg ");
	if (bad[0])
		finding(rp, FAIL, "attachments",
			"sockvxctl load (it reattaches; a removed cgroup needs --cgroup)",
			"not attached: %s", bad);
	else
		finding(rp, OK, "attachments", NULL,
			"sockops and setsockopt on the cgroup (bpf_link), sk_msg on " SX_MAP_SOCKHASH);

	fd = sx_pin_open(pin_dir, SX_MAP_CONFIG, 1);
	if (fd >= 0 && !bpf_map_lookup_elem(fd, &zero, &cfg)) {
		if (cfg.draining)
			finding(rp, WARN, "acceleration", "sockvxctl unload (to finish) or sockvxctl load (to resume)",
				"draining: an unload stopped halfway");
		else if (cfg.accel_disabled)
			finding(rp, WARN, "acceleration", "sockvxctl accel on",
				"off: same-node TCP between pods is not accelerated");
		else
			finding(rp, OK, "acceleration", NULL, "on");
	}
	if (fd >= 0)
		close(fd);
}

static int link_is_up(const char *name)
{
	struct ifreq ifr = {};
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), up;

	if (s < 0)
		return 0;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	up = !ioctl(s, SIOCGIFFLAGS, &ifr) && (ifr.ifr_flags & IFF_UP);
	close(s);
	return up;
}

static void check_overlay(struct report *rp, const char *pin_dir)
{
	static const char fix[] = "sockvxctl load --underlay IFACE --pod-cidr CIDR";
	struct sx_netconf nc;
	struct sx_link vx;

	if (sx_netconf_read(pin_dir, &nc))
		return;
	if (!nc.vxlan_ifindex) {
		finding(rp, OK, "vxlan", NULL,
			"no overlay configured (chained mode, or a single node): socket acceleration only");
		return;
	}
	if (!sx_netconf_is_here(&nc)) {
		finding(rp, WARN, "vxlan", "run sockvxctl doctor in the namespace of the load",
			"loaded in another network namespace (inode %llu); interfaces not checked",
			(unsigned long long)nc.netns_ino);
		return;
	}
	if (sx_link_get(NULL, (int)nc.vxlan_ifindex, &vx) || strcmp(vx.name, SX_VXLAN_DEV)) {
		finding(rp, FAIL, "vxlan", fix, "%s (ifindex %u) is gone: other nodes are unreachable",
			SX_VXLAN_DEV, nc.vxlan_ifindex);
		return;
	}
	if (!link_is_up(SX_VXLAN_DEV))
		finding(rp, FAIL, "vxlan", "ip link set " SX_VXLAN_DEV " up", "%s is down",
			SX_VXLAN_DEV);
	else if (!sx_tc_prog_id(vx.ifindex, BPF_TC_INGRESS) ||
		 !sx_tc_prog_id(vx.ifindex, BPF_TC_EGRESS))
		finding(rp, FAIL, "vxlan", fix, "%s lacks its tc programs (from_overlay, to_overlay)",
			SX_VXLAN_DEV);
	else
		finding(rp, OK, "vxlan", NULL, "%s up, VNI %u, UDP port %u, tc attached",
			SX_VXLAN_DEV, nc.vni, nc.vxlan_port);
}

/* The plugin entry of type sockvx in a list, or NULL. */
static const cJSON *sockvx_plugin(const cJSON *list, int *index)
{
	const cJSON *p;
	int i = 0;

	cJSON_ArrayForEach(p, cJSON_GetObjectItem(list, "plugins"))
	{
		if (!strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(p, "type")), "sockvx")) {
			*index = i;
			return p;
		}
		i++;
	}
	return NULL;
}

static void check_cni(struct report *rp, const struct sx_doctor_opts *o)
{
	char name[256], path[4096];
	const cJSON *p;
	const char *pin;
	cJSON *list;
	int idx = 0, r;

	snprintf(path, sizeof(path), "%s/sockvx", o->cni_bin_dir);
	if (access(path, X_OK))
		finding(rp, FAIL, "cni-binary", "make install (or copy .output/sockvx there, mode 0755)",
			"%s is missing or not executable", path);
	else
		finding(rp, OK, "cni-binary", NULL, "%s", path);

	r = sx_cniconf_first(o->cni_conf_dir, NULL, name, sizeof(name));
	if (r) {
		finding(rp, FAIL, "cni-conf",
			"main mode: install a sockvx conflist (docs/operations.md); chained: sockvxctl cni chain",
			"no CNI configuration in %s: %s", o->cni_conf_dir,
			r == -ENOENT ? "no *.conf, *.conflist or *.json file" : strerror(-r));
		return;
	}
	list = sx_cniconf_read_list(o->cni_conf_dir, name);
	if (!list) {
		finding(rp, FAIL, "cni-conf", "fix or remove the file (the runtime uses the first one)",
			"%s/%s, the configuration in use, cannot be read", o->cni_conf_dir, name);
		return;
	}
	p = sockvx_plugin(list, &idx);
	if (!p) {
		finding(rp, FAIL, "cni-conf", "sockvxctl cni chain (writes " SX_CHAIN_CONF_NAME ")",
			"%s/%s, the configuration in use, does not call sockvx", o->cni_conf_dir, name);
	} else {
		pin = cJSON_GetStringValue(cJSON_GetObjectItem(p, "pinDir"));
		if (strcmp(pin ? pin : SX_DEFAULT_PIN_DIR, o->pin_dir))
			finding(rp, WARN, "cni-conf", "make the conflist's \"pinDir\" and --pin-dir agree",
				"%s/%s uses pin dir %s, not %s", o->cni_conf_dir, name,
				pin ? pin : SX_DEFAULT_PIN_DIR, o->pin_dir);
		else
			finding(rp, OK, "cni-conf", NULL, "%s/%s: sockvx %s", o->cni_conf_dir, name,
				idx ? "chained after the cluster's plugin" : "as the main plugin");
	}
	cJSON_Delete(list);
}

int sx_doctor(const struct sx_doctor_opts *o)
{
	struct report rp = { .checks = cJSON_CreateArray(), .json = o->json };
	int r = sx_require_root();

	if (r) {
		cJSON_Delete(rp.checks);
		return r;
	}
	check_kernel(&rp);
	check_features(&rp);
	check_mounts(&rp, o->pin_dir);
	/* Without a pin dir, attachments and overlay have nothing to report. */
	if (!check_pins(&rp, o->pin_dir) || !access(o->pin_dir, F_OK)) {
		check_attachments(&rp, o->pin_dir);
		check_overlay(&rp, o->pin_dir);
	}
	check_cni(&rp, o);
	if (o->json) {
		cJSON *root = cJSON_CreateObject();
		char *s;

		cJSON_AddBoolToObject(root, "ok", !rp.failed);
		cJSON_AddNumberToObject(root, "failed", rp.failed);
		cJSON_AddNumberToObject(root, "warnings", rp.warned);
		cJSON_AddItemToObject(root, "checks", rp.checks);
		s = cJSON_Print(root);
		puts(s);
		cJSON_free(s);
		cJSON_Delete(root);
	} else {
		printf("%d failed, %d warning(s)\n", rp.failed, rp.warned);
		cJSON_Delete(rp.checks);
	}
	return rp.failed ? -EINVAL : 0;
}
