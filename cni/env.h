/* SPDX-License-Identifier: Apache-2.0 */
/* The CNI_* environment a runtime invokes the plugin with, validated per verb. */
#ifndef SOCKVX_CNI_ENV_H
#define SOCKVX_CNI_ENV_H

#include "error.h"

enum sx_cni_verb { SX_CNI_ADD, SX_CNI_DEL, SX_CNI_CHECK, SX_CNI_VERSION, SX_CNI_STATUS, SX_CNI_GC };

struct sx_cni_env {
	enum sx_cni_verb verb;
	const char *command;      /* CNI_COMMAND as given */
	const char *container_id; /* ADD, DEL, CHECK */
	const char *netns;        /* ADD, CHECK; DEL may have none ("" or unset) */
	const char *ifname;       /* ADD, DEL, CHECK */
	const char *args;         /* CNI_ARGS, passed on to IPAM; may be "" */
	const char *path;         /* CNI_PATH: where the IPAM plugin is looked up */
};

/*
 * Reads and validates the environment; code 4 names every missing or bad
 * variable. CNI_PATH is optional here, as in the spec: only a plugin that
 * runs another needs it (sx_cni_env_require_path).
 */
int sx_cni_env_read(struct sx_cni_env *env, struct sx_cni_error *err);
/*
 * Code 4 when the verb will run the IPAM plugin (runs_ipam: main mode) and
 * CNI_PATH is unset: checked once the configuration tells the mode, before
 * anything changes. A chained sockvx runs no plugin and needs no CNI_PATH.
 */
int sx_cni_env_require_path(const struct sx_cni_env *env, int runs_ipam, struct sx_cni_error *err);
/*
 * The longest container ID: the attachment record "<id>:<ifname>" and the
 * ".<id>:<ifname>" it is written as first must fit a file name, at most
 * NAME_MAX (255) bytes, with room to spare. Runtimes use 64.
 */
#define SX_CNI_CONTAINER_ID_MAX (255 - 1 - 15 - 4)
/* The spec's rule for container IDs, [A-Za-z0-9][A-Za-z0-9_.-]*, up to SX_CNI_CONTAINER_ID_MAX. */
int sx_cni_valid_container_id(const char *id);
/* A Linux interface name: 1..15 bytes, not "." or "..", no '/', ':' or whitespace. */
int sx_cni_valid_ifname(const char *name);

#endif
