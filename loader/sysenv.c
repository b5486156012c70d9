// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <limits.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>
#include <linux/magic.h>
#include "log.h"
#include "sysenv.h"

int sx_require_root(void)
{
	if (geteuid() == 0)
		return 0;
	pr_warn("sockvxctl: permission denied: loading and managing BPF programs needs root (try sudo)\n");
	return -EPERM;
}

int sx_require_btf(void)
{
	if (access(SX_BTF_PATH, R_OK) == 0)
		return 0;
	pr_warn("sockvxctl: this kernel has no BTF (%s missing); sockvx needs CONFIG_DEBUG_INFO_BTF=y\n",
		SX_BTF_PATH);
	return -ENOENT;
}

int sx_path_is_bpffs(const char *path)
{
	struct statfs st;

	if (statfs(path, &st))
		return -errno;
	return st.f_type == BPF_FS_MAGIC;
}

/* The deepest existing ancestor of path (path itself if it exists). */
static void existing_ancestor(const char *path, char *buf, size_t len)
{
	char *slash;

	snprintf(buf, len, "%s", path);
	while (access(buf, F_OK) && (slash = strrchr(buf, '/'))) {
		if (slash == buf) {
			buf[1] = '\0';
			break;
		}
		*slash = '\0';
	}
}

int sx_ensure_bpffs(const char *pin_dir, int may_mount)
{
	size_t root_len = strlen(SX_BPFFS_ROOT);
	char anc[PATH_MAX];
	int r;

	existing_ancestor(pin_dir, anc, sizeof(anc));
	r = sx_path_is_bpffs(anc);
	if (r == 1)
		return 0;
	if (may_mount && !strncmp(pin_dir, SX_BPFFS_ROOT, root_len) &&
	    (pin_dir[root_len] == '/' || !pin_dir[root_len]) &&
	    sx_path_is_bpffs(SX_BPFFS_ROOT) == 0) {
		pr_info("mounting bpffs on %s\n", SX_BPFFS_ROOT);
		if (mount("bpf", SX_BPFFS_ROOT, "bpf", 0, "mode=0700")) {
			r = -errno;
			pr_warn("sockvxctl: cannot mount bpffs on %s: %s\n", SX_BPFFS_ROOT,
				strerror(-r));
			return r;
		}
		return 0;
	}
	pr_warn("sockvxctl: %s is not on a bpffs mount (mount one with: mount -t bpf bpf %s)\n",
		pin_dir, SX_BPFFS_ROOT);
	return -ENOTDIR;
}

/* mountinfo escapes space, tab, newline and backslash as \ooo. */
static void unescape_octal(char *s)
{
	char *out = s;

	while (*s) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '7' && s[2] >= '0' && s[2] <= '7' &&
		    s[3] >= '0' && s[3] <= '7') {
			*out++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
			s += 4;
		} else {
			*out++ = *s++;
		}
	}
	*out = '\0';
}

int sx_mountinfo_find_cgroup2(FILE *mountinfo, char *buf, size_t len)
{
	char line[4096];

	while (fgets(line, sizeof(line), mountinfo)) {
		char *fields[12] = { 0 }, *save = NULL, *tok, *sep;
		int n = 0;

		/* "ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTS [OPTIONAL...] - FSTYPE SRC SUPER" */
		sep = strstr(line, " - ");
		if (!sep)
			continue;
		*sep = '\0';
		for (tok = strtok_r(line, " ", &save); tok && n < 5;
		     tok = strtok_r(NULL, " ", &save))
			fields[n++] = tok;
		if (n < 5)
			continue;
		tok = strtok_r(sep + 3, " \n", &save);
		if (!tok || strcmp(tok, "cgroup2") != 0)
			continue;
		if (strcmp(fields[3], "/") != 0)
			continue; /* a bind mount of a sub-cgroup, not the root */
		unescape_octal(fields[4]);
		if (strlen(fields[4]) >= len)
			return -ENAMETOOLONG;
		memcpy(buf, fields[4], strlen(fields[4]) + 1);
		return 0;
	}
	return -ENOENT;
}

int sx_find_cgroup2_root(char *buf, size_t len)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	int r;

	if (!f) {
		r = -errno;
		pr_warn("sockvxctl: cannot read /proc/self/mountinfo: %s\n", strerror(-r));
		return r;
	}
	r = sx_mountinfo_find_cgroup2(f, buf, len);
	fclose(f);
	if (r)
		pr_warn("sockvxctl: no cgroup v2 hierarchy is mounted (mount one with: mount -t cgroup2 none /sys/fs/cgroup/unified), or pass --cgroup\n");
	return r;
}

int sx_check_cgroup2(const char *path)
{
	struct statfs st;
	int r;

	if (statfs(path, &st)) {
		r = -errno;
		pr_warn("sockvxctl: cgroup %s: %s\n", path, strerror(-r));
		return r;
	}
	if (st.f_type != CGROUP2_SUPER_MAGIC) {
		pr_warn("sockvxctl: %s is not a cgroup v2 directory\n", path);
		return -ENOTDIR;
	}
	return 0;
}
