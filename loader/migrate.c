// SPDX-License-Identifier: Apache-2.0
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "log.h"
#include "migrate.h"
#include "pins.h"

/*
 * Splits "sx_endpoints_v2" into the length of "sx_endpoints_v" and 2.
 * Returns -1 for a name without a version suffix.
 */
static int split_version(const char *name, size_t *prefix_len)
{
	const char *v = strrchr(name, '_');
	char *end;
	long n;

	if (!v || v[1] != 'v' || v[2] < '0' || v[2] > '9')
		return -1;
	n = strtol(v + 2, &end, 10);
	if (*end || n < 0 || n > 9999)
		return -1;
	*prefix_len = (size_t)(v + 2 - name);
	return (int)n;
}

/*
 * Calls fn for every pin in pin_dir that is an older version of map name cur.
 * Returns how many there are, or -errno.
 */
static int for_each_older(const char *pin_dir, const char *cur,
			  int (*fn)(const char *old, const char *cur, void *arg), void *arg)
{
	size_t plen, olen;
	int ver = split_version(cur, &plen), n = 0, r = 0;
	struct dirent *de;
	DIR *d;

	if (ver < 0)
		return 0;
	d = opendir(pin_dir);
	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while (!r && (de = readdir(d))) {
		int over = split_version(de->d_name, &olen);

		if (over < 0 || over >= ver || olen != plen || strncmp(de->d_name, cur, plen))
			continue;
		n++;
		if (fn)
			r = fn(de->d_name, cur, arg);
	}
	closedir(d);
	return r ? r : n;
}

static int old_info(const char *pin_dir, const char *old, struct bpf_map_info *info)
{
	__u32 len = sizeof(*info);
	int fd = sx_pin_open(pin_dir, old, 1), r;

	if (fd < 0)
		return fd;
	memset(info, 0, sizeof(*info));
	r = bpf_obj_get_info_by_fd(fd, info, &len) ? -errno : 0;
	close(fd);
	return r;
}

struct check_ctx {
	const char *pin_dir;
	const struct bpf_map *map;
};

static int check_one(const char *old, const char *cur, void *arg)
{
	const struct check_ctx *c = arg;
	struct bpf_map_info info;
	int r = old_info(c->pin_dir, old, &info);

	if (r) {
		pr_warn("sockvxctl: cannot read %s/%s: %s\n", c->pin_dir, old, strerror(-r));
		return r;
	}
	if (info.type == BPF_MAP_TYPE_SOCKHASH) {
		pr_warn("sockvxctl: this build replaces %s with %s, and sockets cannot be moved between "
			"sockhashes: run 'sockvxctl unload' (it returns them to plain TCP), then load\n",
			old, cur);
		return -EPROTO;
	}
	/*
	 * A layout change needs a converter written for it; until one exists the
	 * data is not guessed at.
	 */
	if (info.type != (__u32)bpf_map__type(c->map) ||
	    info.key_size != bpf_map__key_size(c->map) ||
	    info.value_size != bpf_map__value_size(c->map)) {
		pr_warn("sockvxctl: %s (type %u, key %u, value %u bytes) cannot be migrated to %s "
			"(type %u, key %u, value %u bytes): this build has no converter; "
			"run 'sockvxctl unload', then load (pods must be wired again)\n",
			old, info.type, info.key_size, info.value_size, cur, bpf_map__type(c->map),
			bpf_map__key_size(c->map), bpf_map__value_size(c->map));
		return -EPROTO;
	}
	pr_info("%s will be migrated to %s\n", old, cur);
	return 0;
}

int sx_migrate_check(struct bpf_object *obj, const char *pin_dir)
{
	struct bpf_map *map;
	int r;

	bpf_object__for_each_map(map, obj) {
		struct check_ctx c = { pin_dir, map };

		r = for_each_older(pin_dir, bpf_map__name(map), check_one, &c);
		if (r < 0)
			return r;
	}
	return 0;
}

struct copy_ctx {
	const char *pin_dir;
	int new_fd;
	__u64 flags;
	long copied;
};

/* Per-CPU maps exchange one 8-byte aligned value per possible CPU. */
static size_t value_buf_size(const struct bpf_map_info *info)
{
	int ncpu;

	if (info->type != BPF_MAP_TYPE_PERCPU_ARRAY && info->type != BPF_MAP_TYPE_PERCPU_HASH &&
	    info->type != BPF_MAP_TYPE_LRU_PERCPU_HASH)
		return info->value_size;
	ncpu = libbpf_num_possible_cpus();
	return ncpu > 0 ? (size_t)ncpu * ((info->value_size + 7) & ~7U) : 0;
}

static int copy_one(const char *old, const char *cur, void *arg)
{
	struct copy_ctx *c = arg;
	struct bpf_map_info info;
	void *key = NULL, *next = NULL, *val = NULL, *prev = NULL;
	size_t vsize;
	int fd, r;

	r = old_info(c->pin_dir, old, &info);
	fd = r ? r : sx_pin_open(c->pin_dir, old, 1);
	if (fd < 0) {
		pr_warn("sockvxctl: cannot open %s/%s: %s\n", c->pin_dir, old, strerror(-fd));
		return fd;
	}
	vsize = value_buf_size(&info);
	key = calloc(1, info.key_size);
	next = calloc(1, info.key_size);
	val = vsize ? calloc(1, vsize) : NULL;
	r = key && next && val ? 0 : -ENOMEM;
	while (!r && !bpf_map_get_next_key(fd, prev, next)) {
		memcpy(key, next, info.key_size);
		prev = key;
		if (bpf_map_lookup_elem(fd, key, val))
			continue; /* deleted meanwhile */
		if (!bpf_map_update_elem(c->new_fd, key, val, c->flags))
			c->copied++;
		else if (errno != EEXIST)
			r = -errno;
	}
	if (r)
		pr_warn("sockvxctl: migrating %s to %s: %s%s\n", old, cur, strerror(-r),
			r == -E2BIG ? " (the new map is smaller than the old one's contents)" : "");
	else
		pr_info("%s: entries carried into %s\n", old, cur);
	free(key);
	free(next);
	free(val);
	close(fd);
	return r;
}

long sx_migrate_copy(struct bpf_object *obj, const char *pin_dir, __u64 update_flags)
{
	struct copy_ctx c = { .pin_dir = pin_dir, .flags = update_flags };
	struct bpf_map *map;
	int r;

	bpf_object__for_each_map(map, obj) {
		c.new_fd = bpf_map__fd(map);
		if (c.new_fd < 0)
			continue;
		r = for_each_older(pin_dir, bpf_map__name(map), copy_one, &c);
		if (r < 0)
			return r;
	}
	return c.copied;
}

static int unpin_old(const char *old, const char *cur, void *arg)
{
	char path[PATH_MAX];

	if (!sx_pin_path(path, sizeof(path), arg, old) && unlink(path) && errno != ENOENT)
		pr_warn("sockvxctl: cannot remove %s: %s\n", path, strerror(errno));
	else
		printf("migrated %s to %s\n", old, cur);
	return 0;
}

void sx_migrate_finish(struct bpf_object *obj, const char *pin_dir)
{
	struct bpf_map *map;

	bpf_object__for_each_map(map, obj) {
		for_each_older(pin_dir, bpf_map__name(map), unpin_old, (void *)pin_dir);
	}
}

struct stale_ctx {
	void (*fn)(const char *old, const char *cur, void *arg);
	void *arg;
};

static int stale_one(const char *old, const char *cur, void *arg)
{
	const struct stale_ctx *s = arg;

	s->fn(old, cur, s->arg);
	return 0;
}

int sx_migrate_stale(const char *pin_dir, void (*fn)(const char *old, const char *cur, void *arg),
		     void *arg)
{
	struct stale_ctx s = { fn, arg };
	size_t i;
	int n = 0, r;

	for (i = 0; i < sx_map_count; i++) {
		r = for_each_older(pin_dir, sx_map_names[i], fn ? stale_one : NULL, &s);
		if (r > 0)
			n += r;
	}
	return n;
}
