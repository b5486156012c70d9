// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "drain.h"
#include "drain.skel.h"
#include "pins.h"
#include "sockvx_abi.h"

struct sx_drain {
	struct drain_bpf *skel;
	int sockhash_fd;
};

static void sleep_ms(int ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/*
 * The drain needs only the sockhash and the direction states; other pins may
 * be of another schema, so they are not touched.
 */
struct sx_drain *sx_drain_open(const char *pin_dir, int force, int *err)
{
	LIBBPF_OPTS(bpf_object_open_opts, open_opts, .pin_root_path = pin_dir);
	struct sx_drain *d = calloc(1, sizeof(*d));
	struct bpf_map *m;

	if (!d) {
		*err = -ENOMEM;
		return NULL;
	}
	d->sockhash_fd = sx_pin_open(pin_dir, SX_MAP_SOCKHASH, 1);
	if (d->sockhash_fd < 0) {
		*err = d->sockhash_fd;
		free(d);
		return NULL;
	}
	d->skel = drain_bpf__open_opts(&open_opts);
	if (!d->skel) {
		*err = -errno;
		sx_drain_close(d);
		return NULL;
	}
	bpf_object__for_each_map(m, d->skel->obj)
		if (m != d->skel->maps.sx_sockhash_v1 && m != d->skel->maps.sx_dirstate_v1 &&
		    m != d->skel->maps.bss)
			bpf_map__set_autocreate(m, false);
	*err = drain_bpf__load(d->skel);
	if (*err) {
		sx_drain_close(d);
		return NULL;
	}
	d->skel->bss->force = force ? 1 : 0;
	return d;
}

/* One pass of the iterator. Returns the sockets left in the map, or -errno. */
static long drain_pass(struct sx_drain *d, struct sx_drain_tally *t)
{
	DECLARE_LIBBPF_OPTS(bpf_iter_attach_opts, opts);
	union bpf_iter_link_info linfo = { .map.map_fd = (__u32)d->sockhash_fd };
	struct drain_bpf__bss *bss = d->skel->bss;
	struct bpf_link *link;
	char buf[64];
	int iter_fd;
	long r;

	opts.link_info = &linfo;
	opts.link_info_len = sizeof(linfo);
	bss->removed = bss->unread = bss->recent = bss->failed = 0;
	link = bpf_program__attach_iter(d->skel->progs.sx_drain, &opts);
	if (!link)
		return -errno;
	iter_fd = bpf_iter_create(bpf_link__fd(link));
	if (iter_fd < 0) {
		r = -errno;
	} else {
		while ((r = read(iter_fd, buf, sizeof(buf))) > 0)
			;
		r = r < 0 ? -errno : 0;
		close(iter_fd);
	}
	bpf_link__destroy(link);
	t->removed += bss->removed;
	t->unread = bss->unread;
	t->recent = bss->recent;
	t->failed = bss->failed;
	return r ? r : (long)(t->unread + t->recent + t->failed);
}

long sx_drain_run(struct sx_drain *d, int timeout_ms, struct sx_drain_tally *t)
{
	int waited = 0;
	long left;

	for (;;) {
		left = drain_pass(d, t);
		if (left <= 0 || waited >= timeout_ms)
			return left;
		sleep_ms(10);
		waited += 10;
	}
}

void sx_drain_close(struct sx_drain *d)
{
	if (!d)
		return;
	drain_bpf__destroy(d->skel);
	if (d->sockhash_fd >= 0)
		close(d->sockhash_fd);
	free(d);
}

int sx_config_set(int config_fd, enum sx_config_field field, __u32 value)
{
	struct sx_config cfg = {};
	__u32 zero = 0;

	if (bpf_map_lookup_elem(config_fd, &zero, &cfg))
		return -errno;
	if (field == SX_CONFIG_DRAINING)
		cfg.draining = value;
	else
		cfg.accel_disabled = value;
	if (bpf_map_update_elem(config_fd, &zero, &cfg, BPF_ANY))
		return -errno;
	return 0;
}
