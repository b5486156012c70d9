// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cjson/cJSON.h>
#include "cniconf.h"
#include "doctor.h"
#include "json_out.h"
#include "migrate.h"
#include "pins.h"
#include "report.h"
#include "sysenv.h"

/* The oldest kernel with every helper sockvx calls: bpf_loop, with which the sockops program waits
 * for a handshake in flight, came in 5.17 (after sk_storage in sockops and bpf_link on cgroups). */
#define MIN_KERNEL_MAJOR 5
#define MIN_KERNEL_MINOR 17
/* Above this share of a map's capacity, a warning. */
#define MAP_FULL_PERCENT 90
/* Room for the names of older-version pins in one finding. */
#define OLDER_LEN 512

enum level { OK, WARN, FAIL };
static const char *const level_names[] = { "ok", "warn", "FAIL" };

struct report {
	cJSON *findings;
	int failed;
	int json;
};

static __attribute__((format(printf, 5, 6))) void finding(struct report *r, enum level lvl,
							   const char *check, const char *fix,
							   const char *fmt, ...)
{
	cJSON *f = cJSON_CreateObject();
	char what[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	cJSON_AddStringToObject(f, "check", check);
	cJSON_AddStringToObject(f, "level", lvl == OK ? "ok" : lvl == WARN ? "warn" : "fail");
	cJSON_AddStringToObject(f, "what", what);
	if (lvl != OK && fix)
		cJSON_AddStringToObject(f, "fix", fix);
	cJSON_AddItemToArray(r->findings, f);
	r->failed += lvl == FAIL;
	if (!r->json) {
		printf("%-4s  %-13s %s\n", level_names[lvl], check, what);
		if (lvl != OK && fix)
			printf("      %-13s fix: %s\n", "", fix);
	}
}

static bool is_true(const cJSON *o, const char *key)
{
	return cJSON_IsTrue(cJSON_GetObjectItem(o, key));
}

static void check_kernel(struct report *r, const cJSON *f)
{
	static const char *const needed[] = { "sockops", "sk_msg", "sockhash", "sk_storage", "lpm_trie" };
	const char *rel = cJSON_GetStringValue(cJSON_GetObjectItem(f, "kernel"));
	char missing[128] = "";
	int major = 0, minor = 0;
	size_t i;

	for (i = 0; i < sizeof(needed) / sizeof(needed[0]); i++)
		if (!is_true(f, needed[i]))
			snprintf(missing + strlen(missing), sizeof(missing) - strlen(missing), " %s",
				 needed[i]);
	if (rel)
		sscanf(rel, "%d.%d", &major, &minor);
	if (major < MIN_KERNEL_MAJOR || (major == MIN_KERNEL_MAJOR && minor < MIN_KERNEL_MINOR) ||
	    *missing)
		finding(r, FAIL, "kernel", "run Linux 5.17 or later built with BPF sockops, sk_msg, SOCKHASH, sk_storage and LPM tries",
			"%s%s%s", rel ? rel : "unknown", *missing ? ", missing:" : "", missing);
	else
		finding(r, OK, "kernel", NULL, "%s with sockops, sk_msg, SOCKHASH, sk_storage, LPM tries", rel);
	if (is_true(f, "btf"))
		finding(r, OK, "btf", NULL, "%s", SX_BTF_PATH);
	else
		finding(r, FAIL, "btf", "boot a kernel built with CONFIG_DEBUG_INFO_BTF=y", "%s is missing",
			SX_BTF_PATH);
	if (is_true(f, "bpffs"))
		finding(r, OK, "bpffs", NULL, "mounted on %s", SX_BPFFS_ROOT);
	else
		finding(r, FAIL, "bpffs", "mount -t bpf bpf " SX_BPFFS_ROOT " (sockvxctl load does it)",
			"%s is not a bpffs mount", SX_BPFFS_ROOT);
	if (cJSON_IsString(cJSON_GetObjectItem(f, "cgroup2")))
		finding(r, OK, "cgroup2", NULL, "mounted on %s",
			cJSON_GetStringValue(cJSON_GetObjectItem(f, "cgroup2")));
	else
		finding(r, FAIL, "cgroup2", "mount -t cgroup2 none /sys/fs/cgroup (or boot with systemd.unified_cgroup_hierarchy=1)",
			"no cgroup v2 hierarchy is mounted");
}

static void check_pins(struct report *r, const cJSON *st, const char *pin_dir, const char *fix_load)
{
	char missing[512] = "";
	const cJSON *m;
	int n = 0;

	cJSON_ArrayForEach(m, cJSON_GetObjectItem(st, "maps"))
	{
		if (is_true(m, "pinned"))
			continue;
		n++;
		snprintf(missing + strlen(missing), sizeof(missing) - strlen(missing), " %s",
			 cJSON_GetStringValue(cJSON_GetObjectItem(m, "name")));
	}
	if (n)
		finding(r, FAIL, "pins", fix_load, "%d map(s) not pinned in %s:%s", n, pin_dir, missing);
	else
		finding(r, OK, "pins", NULL, "every map pinned in %s", pin_dir);
}

static void add_older(const char *old, const char *cur, void *arg)
{
	char *list = arg;
	size_t len = strlen(list);

	snprintf(list + len, OLDER_LEN - len, "%s%s (now %s)", len ? ", " : "", old, cur);
}

/* Pins of an older map version: a load of this build migrates their entries. */
static void check_map_versions(struct report *r, const char *pin_dir, const char *fix_load)
{
	char older[OLDER_LEN] = "";

	if (sx_migrate_stale(pin_dir, add_older, older))
		finding(r, WARN, "map versions", fix_load,
			"pins of an older map version, which this build's load migrates: %s", older);
}

static void check_attachments(struct report *r, const cJSON *st, const char *fix_load)
{
	static const char *const hooks[] = { "sockops", "setsockopt", "sk_msg" };
	const cJSON *acc = cJSON_GetObjectItem(st, "acceleration");
	size_t i;

	for (i = 0; i < sizeof(hooks) / sizeof(hooks[0]); i++) {
		const cJSON *h = cJSON_GetObjectItem(st, hooks[i]);

		if (is_true(h, "attached"))
			finding(r, OK, hooks[i], NULL, "attached");
		else
			finding(r, FAIL, hooks[i], fix_load,
				"not attached%s", is_true(cJSON_GetObjectItem(h, "program"), "pinned") ?
							  " (pinned, but its cgroup or map is gone)" : "");
	}
	if (cJSON_IsString(acc) && !strcmp(acc->valuestring, "on"))
		finding(r, OK, "acceleration", NULL, "on");
	else if (cJSON_IsString(acc))
		finding(r, WARN, "acceleration", "sockvxctl accel on", "%s: same-node TCP is not accelerated",
			acc->valuestring);
}

static void check_overlay(struct report *r, const cJSON *st, const char *fix_load)
{
	const cJSON *o = cJSON_GetObjectItem(st, "overlay");
	const cJSON *dev = cJSON_GetObjectItem(o, "device");

	if (!cJSON_IsString(dev)) {
		finding(r, WARN, "overlay", "sockvxctl load --underlay IFACE --pod-cidr CIDR",
			"no VXLAN device: this node reaches no other node's pods");
		return;
	}
	if (cJSON_IsNull(cJSON_GetObjectItem(o, "present")))
		finding(r, WARN, "overlay", "run doctor in the network namespace sockvx was loaded in",
			"%s lives in another network namespace", dev->valuestring);
	else if (!is_true(o, "present"))
		finding(r, FAIL, "overlay", fix_load, "%s is missing", dev->valuestring);
	else if (!is_true(o, "from_overlay_attached") || !is_true(o, "to_overlay_attached"))
		finding(r, FAIL, "overlay", fix_load, "%s has no tc programs", dev->valuestring);
	else
		finding(r, OK, "overlay", NULL, "%s, VNI %.0f, UDP port %.0f", dev->valuestring,
			cJSON_GetNumberValue(cJSON_GetObjectItem(o, "vni")),
			cJSON_GetNumberValue(cJSON_GetObjectItem(o, "port")));
}

static void check_map_fill(struct report *r, const cJSON *st)
{
	const cJSON *m;
	int full = 0;

	cJSON_ArrayForEach(m, cJSON_GetObjectItem(st, "maps"))
	{
		const cJSON *e = cJSON_GetObjectItem(m, "entries"), *c = cJSON_GetObjectItem(m, "capacity");

		if (!cJSON_IsNumber(e) || !cJSON_IsNumber(c) || c->valuedouble <= 0 ||
		    e->valuedouble * 100 < c->valuedouble * MAP_FULL_PERCENT)
			continue;
		full++;
		finding(r, WARN, "map fill", "see docs/reliability.md: past capacity, new pods or connections fall back",
			"%s holds %.0f of %.0f entries", cJSON_GetStringValue(cJSON_GetObjectItem(m, "name")),
			e->valuedouble, c->valuedouble);
	}
	if (!full)
		finding(r, OK, "map fill", NULL, "every map below %d%%", MAP_FULL_PERCENT);
}

static void check_cni(struct report *r, const struct sx_doctor_opts *o)
{
	char path[PATH_MAX];
	const cJSON *plugin, *pin;
	cJSON *conf;

	snprintf(path, sizeof(path), "%s/sockvx", o->cni_bin_dir);
	if (access(path, X_OK))
		finding(r, FAIL, "cni binary", "make install (or copy .output/sockvx there)",
			"%s is missing or not executable", path);
	else
		finding(r, OK, "cni binary", NULL, "%s", path);

	if (sx_cni_conf_first(o->cni_conf_dir, false, path, sizeof(path))) {
		finding(r, FAIL, "cni config", "install a configuration: docs/operations.md",
			"no CNI configuration in %s", o->cni_conf_dir);
		return;
	}
	conf = sx_cni_conf_load(path);
	plugin = conf ? sx_cni_conf_sockvx(conf) : NULL;
	if (!conf) {
		finding(r, FAIL, "cni config", "fix the file's JSON", "%s, the file runtimes use, does not parse",
			path);
	} else if (!plugin) {
		finding(r, FAIL, "cni config", "sockvxctl cni-chain (chained mode), or a sockvx conflist that sorts first: docs/operations.md",
			"%s, the file runtimes use, has no sockvx plugin", path);
	} else {
		pin = cJSON_GetObjectItem(plugin, "pinDir");
		if (strcmp(cJSON_IsString(pin) ? pin->valuestring : SX_DEFAULT_PIN_DIR, o->pin_dir))
			finding(r, FAIL, "cni config", "make pinDir and --pin-dir the same",
				"%s uses pinDir %s, this check %s", path,
				cJSON_IsString(pin) ? pin->valuestring : SX_DEFAULT_PIN_DIR, o->pin_dir);
		else
			finding(r, OK, "cni config", NULL, "%s (%s mode)", path,
				cJSON_GetObjectItem(plugin, "ipam") ? "main" : "chained");
	}
	cJSON_Delete(conf);
}

int sx_doctor(const struct sx_doctor_opts *o)
{
	struct report r = { cJSON_CreateArray(), 0, o->json };
	char fix_load[PATH_MAX + 64];
	cJSON *st;
	int rc;

	rc = sx_require_root();
	if (rc)
		return rc;
	snprintf(fix_load, sizeof(fix_load), "sockvxctl load --pin-dir %s (with the node's flags; sockvx.service runs it)",
		 o->pin_dir);
	st = sx_status_build(o->pin_dir);
	check_kernel(&r, cJSON_GetObjectItem(st, "features"));
	check_pins(&r, st, o->pin_dir, fix_load);
	check_map_versions(&r, o->pin_dir, fix_load);
	check_attachments(&r, st, fix_load);
	check_overlay(&r, st, fix_load);
	check_map_fill(&r, st);
	check_cni(&r, o);
	if (o->json) {
		cJSON *out = cJSON_CreateObject();

		cJSON_AddBoolToObject(out, "healthy", !r.failed);
		cJSON_AddItemToObject(out, "findings", r.findings);
		rc = sx_json_emit(out);
		if (rc) {
			/* Nothing printed: no exit status may pass for a verdict. */
			cJSON_Delete(st);
			return rc;
		}
	} else {
		printf("%s\n", r.failed ? "sockvx is NOT healthy on this node" : "sockvx is healthy on this node");
		cJSON_Delete(r.findings);
	}
	cJSON_Delete(st);
	return r.failed ? 1 : 0;
}
