/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Map schema upgrades on load. Every pinned map's name ends in its schema
 * version (sx_endpoints_v1). A build that changes a map's definition, its
 * size included, bumps the version (sx_endpoints_v2), so libbpf never reuses
 * an incompatible pin: it creates the new map, and the entries of the older
 * version's pin are carried over here, then that pin is removed.
 */
#ifndef SOCKVX_MIGRATE_H
#define SOCKVX_MIGRATE_H

#include <linux/types.h>

struct bpf_object;

/*
 * Before loading obj: refuses (-EPROTO, with a message) when an older pin in
 * pin_dir cannot be carried into obj's map of the same name: another map
 * type or another key or value size, or a sockhash (sockets cannot be moved
 * from user space). 0 when every older pin can be migrated, or there is none.
 */
int sx_migrate_check(struct bpf_object *obj, const char *pin_dir);
/*
 * After loading obj: copies every entry of older pins into obj's maps.
 * update_flags BPF_ANY for the first pass; BPF_NOEXIST for a second pass
 * after the programs were switched, which adds what the old programs wrote
 * meanwhile without undoing what the new ones wrote. Returns the number of
 * entries copied, or -errno (message printed).
 */
long sx_migrate_copy(struct bpf_object *obj, const char *pin_dir, __u64 update_flags);
/* Removes the older pins obj's maps replace. */
void sx_migrate_finish(struct bpf_object *obj, const char *pin_dir);
/*
 * Calls fn for every pin in pin_dir that is an older version of a map this
 * build knows (sx_map_names). Returns how many there are. For doctor.
 */
int sx_migrate_stale(const char *pin_dir, void (*fn)(const char *old, const char *cur, void *arg),
		     void *arg);

#endif
