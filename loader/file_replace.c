// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "file_replace.h"

int sx_file_replace(const char *path, int (*fill)(FILE *f, void *arg), void *arg)
{
	const char *base = strrchr(path, '/');
	int dir_len = base ? (int)(base - path + 1) : 0;
	char tmp[PATH_MAX];
	FILE *f;
	int len, r;

	base = base ? base + 1 : path;
	len = snprintf(tmp, sizeof(tmp), "%.*s.%s.%d", dir_len, path, base, getpid());
	if ((size_t)len >= sizeof(tmp))
		return -ENAMETOOLONG;
	f = fopen(tmp, "we");
	if (!f)
		return -errno;
	r = fill(f, arg);
	if (!r && ferror(f))
		r = -EIO;
	if (fclose(f) && !r)
		r = -errno;
	if (!r && rename(tmp, path))
		r = -errno;
	if (r)
		unlink(tmp);
	return r;
}
