// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/file.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include "log.h"
#include "pins.h"
#include "sockvx_abi.h"

const char *const sx_map_names[] = {
	SX_MAP_ENDPOINTS, SX_MAP_SOCKHASH,   SX_MAP_DIRSTATE,
	SX_MAP_CONFIG,    SX_MAP_EXCL_PORTS, SX_MAP_STATS,
	SX_MAP_ACTIVE,    SX_MAP_TUNNEL,     SX_MAP_NODES,
	SX_MAP_NETCONF,   SX_MAP_HOST_FLOWS,
};
const size_t sx_map_count = sizeof(sx_map_names) / sizeof(sx_map_names[0]);

int sx_pin_path(char *buf, size_t len, const char *pin_dir, const char *name)
{
	int n = snprintf(buf, len, "%s/%s", pin_dir, name);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

int sx_pin_open(const char *pin_dir, const char *name, int quiet)
{
	char path[4096];
	int fd;

	if (sx_pin_path(path, sizeof(path), pin_dir, name))
		return -ENAMETOOLONG;
	fd = bpf_obj_get(path);
	if (fd < 0) {
		fd = -errno;
		if (quiet)
			return fd;
		if (fd == -ENOENT)
			pr_warn("sockvxctl: sockvx is not loaded in %s (missing %s); run: sockvxctl load\n",
				pin_dir, name);
		else
			pr_warn("sockvxctl: cannot open %s: %s\n", path, strerror(-fd));
	}
	return fd;
}

int sx_pin_exists(const char *pin_dir, const char *name)
{
	char path[4096];

	if (sx_pin_path(path, sizeof(path), pin_dir, name))
		return 0;
	return access(path, F_OK) == 0;
}

int sx_pins_lock(const char *pin_dir, bool exclusive)
{
	char parent[PATH_MAX];
	char *slash;
	int fd;

	snprintf(parent, sizeof(parent), "%s", pin_dir);
	slash = strrchr(parent, '/');
	if (slash && slash != parent)
		*slash = '\0';
	else
		snprintf(parent, sizeof(parent), "/");
	fd = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	while (flock(fd, exclusive ? LOCK_EX : LOCK_SH)) {
		int r = -errno;

		if (r == -EINTR)
			continue;
		close(fd);
		return r;
	}
	return fd;
}

int sx_pin_replace(int fd, const char *pin_dir, const char *name)
{
	char path[PATH_MAX];

	if (sx_pin_path(path, sizeof(path), pin_dir, name))
		return -ENAMETOOLONG;
	/* Renaming a pin over another fails with EPERM on bpffs: unlink first. */
	if (unlink(path) && errno != ENOENT)
		return -errno;
	return bpf_obj_pin(fd, path) ? -errno : 0;
}

enum { SX_UNDO_NONE, SX_UNDO_ADDED, SX_UNDO_REPLACED };

void sx_map_undo_forget(struct sx_map_undo *u)
{
	free(u->how);
	free(u->prev);
	u->how = u->prev = NULL;
}

void sx_map_undo(struct sx_map_undo *u)
{
	/* Newest first: a key given twice ends with the value it had before either write. */
	for (int i = u->n - 1; u->how && i >= 0; i--) {
		const void *key = u->keys + (size_t)i * u->key_size;

		if (u->how[i] == SX_UNDO_ADDED)
			bpf_map_delete_elem(u->fd, key);
		else if (u->how[i] == SX_UNDO_REPLACED)
			bpf_map_update_elem(u->fd, key, u->prev + (size_t)i * u->value_size, BPF_ANY);
	}
	sx_map_undo_forget(u);
}

int sx_map_add_all(int fd, const void *keys, size_t key_size, const void *value,
		   size_t value_size, int n, char **names, const char *what, __u64 update_flags,
		   struct sx_map_undo *undo)
{
	struct sx_map_undo u = { .fd = fd, .keys = keys, .key_size = key_size,
				 .value_size = value_size, .n = n };
	int i, r;

	u.how = calloc(n > 0 ? (size_t)n : 1, 1);
	u.prev = calloc(n > 0 ? (size_t)n : 1, value_size);
	if (!u.how || !u.prev) {
		sx_map_undo_forget(&u);
		return -ENOMEM;
	}
	for (i = 0; i < n; i++) {
		const void *key = u.keys + (size_t)i * key_size;
		void *prev = u.prev + (size_t)i * value_size;
		int existed = update_flags != BPF_NOEXIST && !bpf_map_lookup_elem(fd, key, prev);

		if (!bpf_map_update_elem(fd, key, value, update_flags)) {
			u.how[i] = existed ? SX_UNDO_REPLACED : SX_UNDO_ADDED;
			continue;
		}
		if (errno == EEXIST)
			continue;
		r = -errno;
		pr_warn("sockvx: %s add %s: %s%s\n", what, names ? names[i] : "", strerror(-r),
			r == -E2BIG ? " (the map is full)" : "");
		sx_map_undo(&u);
		return r;
	}
	if (undo)
		*undo = u;
	else
		sx_map_undo_forget(&u);
	return 0;
}
