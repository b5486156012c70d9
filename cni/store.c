// SPDX-License-Identifier: Apache-2.0
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <jansson.h>
#include "parse.h"
#include "store.h"

/* ':' is in neither a container ID nor an interface name, so it separates them. */
#define RECORD_SEP ':'

static int network_dir(char *buf, size_t len, const char *data_dir, const char *network)
{
	int n = snprintf(buf, len, "%s/%s", data_dir, network);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

static int record_path(char *buf, size_t len, const char *data_dir, const char *network,
		       const char *container_id, const char *ifname)
{
	int n = snprintf(buf, len, "%s/%s/%s%c%s", data_dir, network, container_id, RECORD_SEP,
			 ifname);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

static int mkdir_p(const char *path)
{
	char buf[PATH_MAX];
	char *p;

	if ((size_t)snprintf(buf, sizeof(buf), "%s", path) >= sizeof(buf))
		return -ENAMETOOLONG;
	for (p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0700) && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	return mkdir(buf, 0700) && errno != EEXIST ? -errno : 0;
}

int sx_store_lock(const char *data_dir, const char *network, bool exclusive)
{
	char dir[PATH_MAX];
	int fd, r = network_dir(dir, sizeof(dir), data_dir, network);

	if (!r)
		r = mkdir_p(dir);
	if (r)
		return r;
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	while (flock(fd, exclusive ? LOCK_EX : LOCK_SH)) {
		if (errno == EINTR)
			continue;
		r = -errno;
		close(fd);
		return r;
	}
	return fd;
}

static json_t *record_json(const struct sx_attachment *a)
{
	json_t *o = json_object(), *ips = json_array();
	char ip[64];
	int i;

	for (i = 0; i < a->n_ips; i++)
		json_array_append_new(ips, json_string(sx_format_endpoint(&a->ips[i], ip, sizeof(ip))));
	json_object_set_new(o, "containerID", json_string(a->container_id));
	json_object_set_new(o, "ifname", json_string(a->ifname));
	json_object_set_new(o, "mode", json_string(a->main_mode ? "main" : "chained"));
	if (a->main_mode) {
		json_object_set_new(o, "hostInterface", json_string(a->host_name));
		json_object_set_new(o, "hostIfindex", json_integer(a->host_ifindex));
	}
	json_object_set_new(o, "ips", ips);
	return o;
}

/*
 * A record is written to ".<record>" first, then renamed into place. A
 * container ID never starts with '.', so the leading dot tells a half-written
 * record from any record, whatever its interface name ends with.
 */
static bool is_tmp(const char *name)
{
	return name[0] == '.';
}

static int tmp_path(char *buf, size_t len, const char *path)
{
	const char *slash = strrchr(path, '/');
	int dir = slash ? (int)(slash - path + 1) : 0;
	int n = snprintf(buf, len, "%.*s.%s", dir, path, path + dir);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

int sx_store_put(const char *data_dir, const char *network, const struct sx_attachment *a)
{
	char path[PATH_MAX], tmp[PATH_MAX + 1];
	json_t *o = record_json(a);
	int r = record_path(path, sizeof(path), data_dir, network, a->container_id, a->ifname);

	if (!r)
		r = tmp_path(tmp, sizeof(tmp), path);
	if (!r && json_dump_file(o, tmp, JSON_COMPACT))
		r = -EIO;
	if (!r && rename(tmp, path))
		r = -errno;
	if (r)
		unlink(tmp);
	json_decref(o);
	return r;
}

static int record_parse(json_t *o, struct sx_attachment *a)
{
	json_t *cid = json_object_get(o, "containerID"), *ifn = json_object_get(o, "ifname"),
	       *mode = json_object_get(o, "mode"), *ips = json_object_get(o, "ips"), *v;
	size_t i;

	memset(a, 0, sizeof(*a));
	if (!json_is_string(cid) || !json_is_string(ifn) || !json_is_string(mode) ||
	    !json_is_array(ips) || json_array_size(ips) > SX_STORE_MAX_IPS)
		return -EINVAL;
	snprintf(a->container_id, sizeof(a->container_id), "%s", json_string_value(cid));
	snprintf(a->ifname, sizeof(a->ifname), "%s", json_string_value(ifn));
	a->main_mode = !strcmp(json_string_value(mode), "main");
	if (a->main_mode) {
		v = json_object_get(o, "hostInterface");
		if (!json_is_string(v))
			return -EINVAL;
		snprintf(a->host_name, sizeof(a->host_name), "%s", json_string_value(v));
		a->host_ifindex = (__u32)json_integer_value(json_object_get(o, "hostIfindex"));
	}
	json_array_foreach(ips, i, v) {
		if (!json_is_string(v) || sx_parse_endpoint(json_string_value(v), &a->ips[a->n_ips]))
			return -EINVAL;
		a->n_ips++;
	}
	return 0;
}

static int read_record(const char *path, struct sx_attachment *a)
{
	json_t *o = json_load_file(path, 0, NULL);
	int r;

	if (!o)
		return access(path, F_OK) ? -ENOENT : -EINVAL;
	r = record_parse(o, a);
	json_decref(o);
	return r;
}

int sx_store_get(const char *data_dir, const char *network, const char *container_id,
		 const char *ifname, struct sx_attachment *a)
{
	char path[PATH_MAX];
	int r = record_path(path, sizeof(path), data_dir, network, container_id, ifname);

	r = r ? r : read_record(path, a);
	/* A name too long to be a file was never stored. */
	return r == -ENAMETOOLONG ? -ENOENT : r;
}

int sx_store_del(const char *data_dir, const char *network, const char *container_id,
		 const char *ifname)
{
	char path[PATH_MAX], tmp[PATH_MAX + 1];
	int r = record_path(path, sizeof(path), data_dir, network, container_id, ifname);

	if (!r)
		r = tmp_path(tmp, sizeof(tmp), path);
	if (r)
		return r == -ENAMETOOLONG ? 0 : r; /* never stored */
	/* Also what a put killed midway left; a name too long to be a file was never stored. */
	if (unlink(tmp) && errno != ENOENT && errno != ENAMETOOLONG)
		return -errno;
	return unlink(path) && errno != ENOENT && errno != ENAMETOOLONG ? -errno : 0;
}

int sx_store_foreach(const char *data_dir, const char *network,
		     int (*fn)(const struct sx_attachment *a, void *arg), void *arg)
{
	char dir[PATH_MAX], path[PATH_MAX];
	struct sx_attachment a;
	struct dirent *d;
	DIR *dp;
	int r = network_dir(dir, sizeof(dir), data_dir, network);

	if (r)
		return r;
	dp = opendir(dir);
	if (!dp)
		return errno == ENOENT ? 0 : -errno;
	while (!r && (d = readdir(dp))) {
		/* Records only: not ".", "..", nor a half-written one. */
		if (!strchr(d->d_name, RECORD_SEP) || is_tmp(d->d_name))
			continue;
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, d->d_name) >= sizeof(path) ||
		    read_record(path, &a))
			continue;
		r = fn(&a, arg);
	}
	closedir(dp);
	return r;
}

int sx_store_prune(const char *data_dir, const char *network)
{
	char dir[PATH_MAX];
	struct dirent *d;
	DIR *dp;
	int r = network_dir(dir, sizeof(dir), data_dir, network), fd;

	if (r)
		return r;
	dp = opendir(dir);
	if (!dp)
		return errno == ENOENT ? 0 : -errno;
	fd = dirfd(dp);
	while ((d = readdir(dp)))
		if (strchr(d->d_name, RECORD_SEP) && is_tmp(d->d_name) && unlinkat(fd, d->d_name, 0) &&
		    errno != ENOENT && !r)
			r = -errno;
	closedir(dp);
	return r;
}
