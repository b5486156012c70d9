/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sockvx's record of each attachment, one small JSON file per container and
 * interface under dataDir/<network>/. DEL and GC read it to undo exactly what
 * ADD did, also when the pod's namespace is gone and no prevResult comes.
 */
#ifndef SOCKVX_CNI_STORE_H
#define SOCKVX_CNI_STORE_H

#include <limits.h>
#include <net/if.h>
#include <stdbool.h>
#include "sockvx_abi.h"

#define SX_STORE_MAX_IPS 8

struct sx_attachment {
	char container_id[256];
	char ifname[IF_NAMESIZE];
	bool main_mode;		     /* the veth and the IPAM lease are ours */
	char host_name[IF_NAMESIZE]; /* main mode: the host end */
	__u32 host_ifindex;	     /* main mode; endpoints wired to it are ours */
	int n_ips;
	struct sx_endpoint_key ips[SX_STORE_MAX_IPS];
};

/*
 * Locks a network's records: shared for ADD and DEL of one attachment (each
 * touches only its own file), exclusive for GC and for a chained DEL, which
 * read them all. CHECK only reads its own record, whole (a
 * record is replaced by rename), and takes no lock.
 * Creates the directory. Returns an fd to close, or -errno.
 */
int sx_store_lock(const char *data_dir, const char *network, bool exclusive);
/* Writes a record atomically (a new file renamed into place). 0 or -errno. */
int sx_store_put(const char *data_dir, const char *network, const struct sx_attachment *a);
/* Reads a record: 0, -ENOENT, or -EINVAL for a damaged one. */
int sx_store_get(const char *data_dir, const char *network, const char *container_id,
		 const char *ifname, struct sx_attachment *a);
/* Removes a record; absent is not an error. */
int sx_store_del(const char *data_dir, const char *network, const char *container_id,
		 const char *ifname);
/*
 * Removes half-written records, left by a process killed while writing one.
 * Only under the exclusive lock, when no writer can be at work. 0 or -errno.
 */
int sx_store_prune(const char *data_dir, const char *network);
/* Calls fn for every record of the network; stops at fn's first non-zero return. */
int sx_store_foreach(const char *data_dir, const char *network,
		     int (*fn)(const struct sx_attachment *a, void *arg), void *arg);

#endif
