/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Attaching the TC dataplane's programs with libbpf's tc API: a clsact
 * qdisc (reused when present) and one direct-action filter at sockvx's own
 * handle and priority, replaced atomically on reload. Filters of other
 * tools on the same hook are left alone.
 */
#ifndef SOCKVX_TC_H
#define SOCKVX_TC_H

#include <bpf/libbpf.h>

/* sockvx's filter on each hook: priority 1 runs it before lower-priority filters. */
#define SX_TC_HANDLE 0x5c
#define SX_TC_PRIORITY 1

/* Attaches or replaces prog_fd on the hook. 0 or -errno. */
int sx_tc_attach(int ifindex, enum bpf_tc_attach_point point, int prog_fd);
/* Attaches the program pinned as pin_dir/pin. 0 or -errno (-ENOENT: not pinned). */
int sx_tc_attach_pinned(int ifindex, enum bpf_tc_attach_point point, const char *pin_dir,
			const char *pin);
/* Removes sockvx's filter; absent is not an error. 0 or -errno. */
int sx_tc_detach(int ifindex, enum bpf_tc_attach_point point);
/*
 * Deletes the interface's clsact qdisc when neither hook holds a filter of
 * any tool, so an interface sockvx gave one is left as it found it. 0 or -errno.
 */
int sx_tc_hook_release(int ifindex);
/* The id of the program in sockvx's filter, 0 if none. */
__u32 sx_tc_prog_id(int ifindex, enum bpf_tc_attach_point point);

#endif
