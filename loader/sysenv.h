/* SPDX-License-Identifier: Apache-2.0 */
/* What sockvxctl needs from the machine: privileges, BTF, bpffs, cgroup v2. */
#ifndef SOCKVX_SYSENV_H
#define SOCKVX_SYSENV_H

#include <stddef.h>
#include <stdio.h>

#define SX_DEFAULT_PIN_DIR "/sys/fs/bpf/sockvx"
#define SX_BPFFS_ROOT "/sys/fs/bpf"
#define SX_BTF_PATH "/sys/kernel/btf/vmlinux"

/* 0, or -EPERM with a message printed. */
int sx_require_root(void);
/* 0 if the kernel exposes BTF, else -ENOENT with a message printed. */
int sx_require_btf(void);
/*
 * Makes sure pin_dir can live on bpffs: mounts bpffs on /sys/fs/bpf when the
 * pin dir is below it and it is not mounted yet. 0 or -errno (message printed).
 */
int sx_ensure_bpffs(const char *pin_dir, int may_mount);
/* 1 if path is on a bpffs mount, 0 if not, -errno on error. */
int sx_path_is_bpffs(const char *path);
/*
 * Finds the cgroup v2 mount point in a mountinfo stream (the mount of the
 * hierarchy's root). 0, or -ENOENT when there is none.
 */
int sx_mountinfo_find_cgroup2(FILE *mountinfo, char *buf, size_t len);
/* The same, from /proc/self/mountinfo. Prints a message when absent. */
int sx_find_cgroup2_root(char *buf, size_t len);
/* 0 if path is a cgroup v2 directory, else -errno with a message printed. */
int sx_check_cgroup2(const char *path);

#endif
