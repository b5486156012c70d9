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
	int force;
	struct sx_sock_key *keys; /* the keys of one pass */
	size_t nkeys, cap;
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
	d->force = force;
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
		if (m != d->skel->maps.sx_sockhash_v1 && m != d->skel->maps.sx_dirstate_v1)
			bpf_map__set_autocreate(m, false);
	*err = drain_bpf__load(d->skel);
	if (*err) {
		sx_drain_close(d);
		return NULL;
	}
	return d;
}

/*
 * The keys in the sockhash now. A pass works on this snapshot: deleting the
 * key a walk stands on would restart the walk from the first bucket.
 */
static int snapshot_keys(struct sx_drain *d)
{
	struct sx_sock_key *prev = NULL, *grown;

	d->nkeys = 0;
	for (;;) {
		if (d->nkeys == d->cap) {
			size_t cap = d->cap ? d->cap * 2 : 1024;

			grown = realloc(d->keys, cap * sizeof(*d->keys));
			if (!grown)
				return -ENOMEM;
			d->keys = grown;
			d->cap = cap;
		}
		prev = d->nkeys ? &d->keys[d->nkeys - 1] : NULL;
		if (bpf_map_get_next_key(d->sockhash_fd, prev, &d->keys[d->nkeys]))
			return errno == ENOENT ? 0 : -errno;
		d->nkeys++;
	}
}

/* One pass over the sockhash. Returns the sockets left in the map, or -errno. */
static long drain_pass(struct sx_drain *d, struct sx_drain_tally *t)
{
	struct sx_drain_request req = { .force = d->force ? 1 : 0 };
	LIBBPF_OPTS(bpf_test_run_opts, run, .data_in = &req, .data_size_in = sizeof(req),
		    .repeat = 1);
	int prog_fd = bpf_program__fd(d->skel->progs.sx_drain_one);
	int r = snapshot_keys(d);

	if (r)
		return r;
	t->unread = t->recent = t->failed = 0;
	for (size_t i = 0; i < d->nkeys; i++) {
		req.key = d->keys[i];
		if (bpf_prog_test_run_opts(prog_fd, &run))
			return -errno;
		switch (run.retval) {
		case SX_DRAIN_REMOVED:
			t->removed++;
			break;
		case SX_DRAIN_UNREAD:
			t->unread++;
			break;
		case SX_DRAIN_RECENT:
			t->recent++;
			break;
		case SX_DRAIN_GONE:
			break;
		default:
			t->failed++;
		}
	}
	return (long)(t->unread + t->recent + t->failed);
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
	free(d->keys);
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
