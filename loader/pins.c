// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/file.h>
#include <stdio.h>
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
	SX_MAP_NETCONF,
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

int sx_pins_lock(const char *pin_dir)
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
	if (flock(fd, LOCK_EX)) {
		int r = -errno;

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

int sx_map_add_all(int fd, const void *keys, size_t key_size, const void *value, int n,
		   char **names, const char *what, __u64 update_flags)
{
	const char *k = keys;
	char added[n > 0 ? n : 1];
	int i, r;

	memset(added, 0, sizeof(added));
	for (i = 0; i < n; i++) {
		if (!bpf_map_update_elem(fd, k + (size_t)i * key_size, value, update_flags)) {
			added[i] = 1;
			continue;
		}
		if (errno == EEXIST)
			continue;
		r = -errno;
		pr_warn("sockvx: %s add %s: %s%s\n", what, names ? names[i] : "", strerror(-r),
			r == -E2BIG ? " (the map is full)" : "");
		while (--i >= 0) /* roll back what this call added */
			if (added[i])
				bpf_map_delete_elem(fd, k + (size_t)i * key_size);
		return r;
	}
	return 0;
}
