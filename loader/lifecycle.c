// SPDX-License-Identifier: Apache-2.0
/*
 * load: open -> load (maps pinned or reused by name) -> attach sk_msg to the
 * sockhash -> attach sockops and setsockopt to the cgroup through pinned
 * bpf_links (or update the existing links' programs in place) -> pin programs.
 * Then the TC dataplane (dataplane.c): tc programs, VXLAN device, pod veths.
 * unload: stop redirects -> drain the sockhash without losing unread bytes
 * -> detach sockops -> detach sk_msg -> detach tc, delete the VXLAN device
 * -> remove every pin.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "drain.h"
#include "lifecycle.h"
#include "log.h"
#include "migrate.h"
#include "pins.h"
#include "sockops.skel.h"
#include "sockvx_abi.h"
#include "sysenv.h"

static __u64 cgroup_id_of(const char *path)
{
	struct stat st;

	return stat(path, &st) ? 0 : (__u64)st.st_ino;
}

/*
 * Attaches a cgroup program through a pinned bpf_link. An existing link on the
 * same cgroup has its program swapped atomically (BPF_LINK_UPDATE), so a
 * reload never leaves a window without the program. Returns 0 or -errno.
 */
static int attach_cgroup(int prog_fd, enum bpf_attach_type type, const char *pin,
			 const char *pin_dir, const char *cgroup)
{
	struct bpf_link_info info;
	__u32 info_len = sizeof(info);
	int link_fd, cg_fd, r;

	link_fd = sx_pin_open(pin_dir, pin, 1);
	if (link_fd >= 0) {
		memset(&info, 0, sizeof(info));
		r = bpf_obj_get_info_by_fd(link_fd, &info, &info_len) ? -errno : 0;
		if (!r && info.type == BPF_LINK_TYPE_CGROUP &&
		    info.cgroup.cgroup_id == cgroup_id_of(cgroup)) {
			r = bpf_link_update(link_fd, prog_fd, NULL) ? -errno : 0;
			close(link_fd);
			if (r)
				pr_warn("sockvxctl: cannot update %s: %s\n", pin, strerror(-r));
			else
				pr_info("%s on %s updated in place\n", pin, cgroup);
			return r;
		}
		close(link_fd);
		/* A different cgroup: attach anew; the pin swap below detaches the old. */
	}
	cg_fd = open(cgroup, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (cg_fd < 0) {
		r = -errno;
		pr_warn("sockvxctl: cannot open cgroup %s: %s\n", cgroup, strerror(-r));
		return r;
	}
	link_fd = bpf_link_create(prog_fd, cg_fd, type, NULL);
	r = link_fd < 0 ? -errno : 0;
	close(cg_fd);
	if (r) {
		pr_warn("sockvxctl: cannot attach %s to %s: %s\n", pin, cgroup, strerror(-r));
		return r;
	}
	r = sx_pin_replace(link_fd, pin_dir, pin);
	close(link_fd); /* the pin holds the link; closing the fd keeps it attached */
	if (r)
		pr_warn("sockvxctl: cannot pin %s: %s\n", pin, strerror(-r));
	else
		pr_info("%s: attached to %s through a pinned bpf_link\n", pin, cgroup);
	return r;
}

static void unpin_name(const char *pin_dir, const char *name)
{
	char path[PATH_MAX];

	if (!sx_pin_path(path, sizeof(path), pin_dir, name) && unlink(path) && errno != ENOENT)
		pr_warn("sockvxctl: cannot remove %s: %s\n", path, strerror(errno));
}

/*
 * Removes every pin sockvx owns in the directory: its maps (sx_*), programs
 * (prog_*) and links (link_*), of this version and of older ones, then, with
 * and_dir, the directory itself.
 */
static void remove_all_pins(const char *pin_dir, bool and_dir)
{
	struct dirent *de;
	DIR *d;

	unpin_name(pin_dir, SX_PIN_LINK_SOCKOPS);
	unpin_name(pin_dir, SX_PIN_LINK_SETSOCKOPT);
	d = opendir(pin_dir);
	if (d) {
		while ((de = readdir(d))) {
			if (!strncmp(de->d_name, "sx_", 3) || !strncmp(de->d_name, "prog_", 5) ||
			    !strncmp(de->d_name, "link_", 5))
				unpin_name(pin_dir, de->d_name);
		}
		closedir(d);
	}
	if (and_dir && rmdir(pin_dir) && errno != ENOENT)
		pr_warn("sockvxctl: %s not removed: %s (it holds files sockvx did not create)\n",
			pin_dir, strerror(errno));
}

/* The programs of an earlier load, to put back if an upgrade fails halfway. */
struct sx_previous {
	int msg_fd, sockops_fd, setsockopt_fd;
};

static void previous_open(struct sx_previous *p, const char *pin_dir)
{
	p->msg_fd = sx_pin_open(pin_dir, SX_PIN_PROG_SK_MSG, 1);
	p->sockops_fd = sx_pin_open(pin_dir, SX_PIN_PROG_SOCKOPS, 1);
	p->setsockopt_fd = sx_pin_open(pin_dir, SX_PIN_PROG_SETSOCKOPT, 1);
}

static void relink(const char *pin_dir, const char *link_pin, const char *prog_pin, int prog_fd)
{
	int link_fd;

	if (prog_fd < 0)
		return;
	link_fd = sx_pin_open(pin_dir, link_pin, 1);
	if (link_fd >= 0) {
		bpf_link_update(link_fd, prog_fd, NULL);
		close(link_fd);
	}
	sx_pin_replace(prog_fd, pin_dir, prog_pin);
}

/* Puts the earlier load's programs back where this load replaced them. */
static void previous_restore(const struct sx_previous *p, const char *pin_dir, int map_fd)
{
	if (p->msg_fd >= 0 && map_fd >= 0) {
		bpf_prog_attach(p->msg_fd, map_fd, BPF_SK_MSG_VERDICT, 0);
		sx_pin_replace(p->msg_fd, pin_dir, SX_PIN_PROG_SK_MSG);
	}
	relink(pin_dir, SX_PIN_LINK_SOCKOPS, SX_PIN_PROG_SOCKOPS, p->sockops_fd);
	relink(pin_dir, SX_PIN_LINK_SETSOCKOPT, SX_PIN_PROG_SETSOCKOPT, p->setsockopt_fd);
}

static void previous_close(const struct sx_previous *p)
{
	if (p->msg_fd >= 0)
		close(p->msg_fd);
	if (p->sockops_fd >= 0)
		close(p->sockops_fd);
	if (p->setsockopt_fd >= 0)
		close(p->setsockopt_fd);
}

int sx_load(const struct sx_load_opts *o)
{
	struct sx_previous prev = { -1, -1, -1 };
	LIBBPF_OPTS(bpf_object_open_opts, open_opts, .pin_root_path = o->pin_dir);
	char cgroup[PATH_MAX];
	struct sockops_bpf *skel = NULL;
	bool fresh, first;
	int r, msg_fd, map_fd;
	long migrated = 0;

	r = sx_require_root();
	if (!r)
		r = sx_require_btf();
	if (r)
		return r;
	if (o->cgroup) {
		if (snprintf(cgroup, sizeof(cgroup), "%s", o->cgroup) >= (int)sizeof(cgroup))
			return -ENAMETOOLONG;
	} else if ((r = sx_find_cgroup2_root(cgroup, sizeof(cgroup)))) {
		return r;
	}
	r = sx_check_cgroup2(cgroup);
	if (!r)
		r = sx_ensure_bpffs(o->pin_dir, 1);
	if (r)
		return r;

	fresh = access(o->pin_dir, F_OK) != 0;
	if (fresh && mkdir(o->pin_dir, 0700)) {
		r = -errno;
		pr_warn("sockvxctl: cannot create %s: %s\n", o->pin_dir, strerror(-r));
		return r;
	}
	/* No earlier load to go back to if this one fails (the directory may exist, empty). */
	first = fresh || !sx_pin_exists(o->pin_dir, SX_PIN_LINK_SOCKOPS);
	if (!fresh)
		previous_open(&prev, o->pin_dir);

	skel = sockops_bpf__open_opts(&open_opts);
	if (!skel) {
		r = -errno;
		pr_warn("sockvxctl: cannot open the BPF object: %s\n", strerror(-r));
		goto fail;
	}
	/* Pins of an older map version: refused here, before anything changes, if they cannot move. */
	if (!fresh && (r = sx_migrate_check(skel->obj, o->pin_dir)))
		goto fail;
	r = sockops_bpf__load(skel);
	if (r) {
		pr_warn("sockvxctl: cannot load the BPF programs: %s%s\n", strerror(-r),
			fresh ? "" :
				" (if the pinned maps in the pin directory come from an incompatible build, run 'sockvxctl unload' first)");
		goto fail;
	}
	/* The new maps hold the old ones' entries before any new program runs. */
	if (!fresh && (migrated = sx_migrate_copy(skel->obj, o->pin_dir, BPF_ANY)) < 0) {
		r = (int)migrated;
		goto fail;
	}
	msg_fd = bpf_program__fd(skel->progs.sx_sk_msg);
	map_fd = bpf_map__fd(skel->maps.sx_sockhash_v1);
	/* Replaces the program of an earlier load; sockets already in the map keep theirs. */
	if (bpf_prog_attach(msg_fd, map_fd, BPF_SK_MSG_VERDICT, 0)) {
		r = -errno;
		pr_warn("sockvxctl: cannot attach sk_msg to the sockhash: %s\n", strerror(-r));
		goto fail;
	}
	r = attach_cgroup(bpf_program__fd(skel->progs.sx_setsockopt), BPF_CGROUP_SETSOCKOPT,
			  SX_PIN_LINK_SETSOCKOPT, o->pin_dir, cgroup);
	if (!r)
		r = attach_cgroup(bpf_program__fd(skel->progs.sx_sockops), BPF_CGROUP_SOCK_OPS,
				  SX_PIN_LINK_SOCKOPS, o->pin_dir, cgroup);
	if (r)
		goto fail;
	r = sx_pin_replace(bpf_program__fd(skel->progs.sx_sockops), o->pin_dir, SX_PIN_PROG_SOCKOPS);
	if (!r)
		r = sx_pin_replace(bpf_program__fd(skel->progs.sx_setsockopt), o->pin_dir,
				SX_PIN_PROG_SETSOCKOPT);
	if (!r)
		r = sx_pin_replace(msg_fd, o->pin_dir, SX_PIN_PROG_SK_MSG);
	if (r) {
		pr_warn("sockvxctl: cannot pin programs: %s\n", strerror(-r));
		goto fail;
	}
	/* The TC dataplane: its programs, the VXLAN device, pod veths (dataplane.c). */
	r = sx_dataplane_load(o->pin_dir, &o->overlay);
	if (r)
		goto fail;
	/* A load after an interrupted unload resumes acceleration. */
	r = sx_config_set(bpf_map__fd(skel->maps.sx_config_v1), SX_CONFIG_DRAINING, 0);
	if (r) {
		pr_warn("sockvxctl: cannot update the config map: %s\n", strerror(-r));
		goto fail;
	}
	/*
	 * The old programs ran until the switch above: what they wrote since the
	 * first copy is added now, without overwriting the new programs' entries.
	 * Then nothing uses the old pins.
	 */
	if (migrated) {
		migrated = sx_migrate_copy(skel->obj, o->pin_dir, BPF_NOEXIST);
		if (migrated < 0)
			pr_warn("sockvxctl: the second migration pass failed: %s; older pins kept\n",
				strerror((int)-migrated));
		else
			sx_migrate_finish(skel->obj, o->pin_dir);
	}
	sockops_bpf__destroy(skel);
	previous_close(&prev);
	printf("sockvx loaded: pins in %s, sockops on %s\n", o->pin_dir, cgroup);
	return 0;

fail:
	/* Nothing half attached is left behind: a first load is undone, an upgrade reverted. */
	if (skel && bpf_map__fd(skel->maps.sx_sockhash_v1) >= 0) {
		if (first)
			bpf_prog_detach2(bpf_program__fd(skel->progs.sx_sk_msg),
					 bpf_map__fd(skel->maps.sx_sockhash_v1), BPF_SK_MSG_VERDICT);
		else
			previous_restore(&prev, o->pin_dir, bpf_map__fd(skel->maps.sx_sockhash_v1));
	}
	sockops_bpf__destroy(skel);
	previous_close(&prev);
	if (first) {
		sx_dataplane_unload(o->pin_dir, true);
		remove_all_pins(o->pin_dir, fresh);
	}
	return r;
}

int sx_unload(const struct sx_unload_opts *o)
{
	struct sx_drain *drain = NULL;
	struct sx_drain_tally tally = { 0 };
	int config_fd, msg_fd, sockhash_fd, r;
	long left;

	r = sx_require_root();
	if (r)
		return r;
	if (access(o->pin_dir, F_OK)) {
		printf("sockvx is not loaded in %s: nothing to unload\n", o->pin_dir);
		return 0;
	}
	/* Interfaces are per namespace: refuse before changing anything (dataplane.h). */
	if (!o->force && (r = sx_dataplane_same_netns(o->pin_dir)))
		return r;
	if (sx_pin_exists(o->pin_dir, SX_MAP_SOCKHASH)) {
		drain = sx_drain_open(o->pin_dir, o->force, &r);
		if (!drain) {
			pr_warn("sockvxctl: cannot load the drain program: %s (nothing was changed)\n",
				strerror(-r));
			return r;
		}
	}
	/* 1. No new redirects: every direction now goes through TCP. */
	config_fd = sx_pin_open(o->pin_dir, SX_MAP_CONFIG, 1);
	if (config_fd >= 0) {
		r = sx_config_set(config_fd, SX_CONFIG_DRAINING, 1);
		close(config_fd);
		if (r) {
			pr_warn("sockvxctl: cannot stop redirects: %s\n", strerror(-r));
			goto out;
		}
	}
	/*
	 * 2. Every socket back to plain TCP, without losing a byte (drain.c).
	 * The cgroup programs stay attached meanwhile: while draining they insert
	 * no socket, and they still eject half-closed sockets and forget the
	 * direction state of connections that close, so an unload that times out
	 * leaves no stale state for the next load.
	 */
	if (drain) {
		left = sx_drain_run(drain, o->timeout_ms, &tally);
		if (left < 0) {
			r = (int)left;
			pr_warn("sockvxctl: cannot drain the sockhash: %s\n", strerror(-r));
			goto out;
		}
		if (left > 0) {
			pr_warn("sockvxctl: %llu accelerated socket(s) still hold data their application has not read, "
				"%llu may still have a redirect on its way, %llu could not be removed; "
				"acceleration is stopped: run 'sockvxctl unload' again (--force drops unread data)\n",
				(unsigned long long)tally.unread, (unsigned long long)tally.recent,
				(unsigned long long)tally.failed);
			r = -EBUSY;
			goto out;
		}
		pr_info("drain: %llu socket(s) returned to plain TCP\n",
			(unsigned long long)tally.removed);
	}
	/* 3. No new sockets: dropping the only reference to a link detaches it. */
	unpin_name(o->pin_dir, SX_PIN_LINK_SOCKOPS);
	unpin_name(o->pin_dir, SX_PIN_LINK_SETSOCKOPT);
	if (drain) {
		/* 4. Detach sk_msg so the map holds no program reference. */
		sockhash_fd = sx_pin_open(o->pin_dir, SX_MAP_SOCKHASH, 1);
		msg_fd = sx_pin_open(o->pin_dir, SX_PIN_PROG_SK_MSG, 1);
		if (msg_fd >= 0 && sockhash_fd >= 0)
			bpf_prog_detach2(msg_fd, sockhash_fd, BPF_SK_MSG_VERDICT);
		if (msg_fd >= 0)
			close(msg_fd);
		if (sockhash_fd >= 0)
			close(sockhash_fd);
	}
	/*
	 * 5. The TC dataplane: pod veths, then the VXLAN device with its routes.
	 * If that fails, the pins stay, so that unload run again finds what is
	 * left (--force removes them anyway).
	 */
	r = sx_dataplane_unload(o->pin_dir, o->force);
	if (r && !o->force) {
		pr_warn("sockvxctl: socket acceleration is unloaded, the TC dataplane is not: "
			"run 'sockvxctl unload' again (--force removes the pins whatever is left)\n");
		goto out;
	}
	/* 6. Remove every pin; the kernel frees each object with its last reference. */
	remove_all_pins(o->pin_dir, true);
	printf("sockvx unloaded from %s\n", o->pin_dir);
	r = 0;
out:
	sx_drain_close(drain);
	return r;
}
