/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The CNI configuration directory as a container runtime reads it: the file
 * whose name sorts first among *.conf, *.conflist and *.json is the network.
 * Shared by doctor (which file is in use) and cni chain (which file to wrap).
 */
#ifndef SOCKVX_CNICONF_H
#define SOCKVX_CNICONF_H

#include <stddef.h>
#include <cjson/cJSON.h>

/* The name sockvx's chained configuration is written under: it sorts first. */
#define SX_CHAIN_CONF_NAME "00-sockvx.conflist"

/*
 * The name of the first configuration file in dir, skipping skip (may be
 * NULL). 0, -ENOENT when there is none, or another -errno.
 */
int sx_cniconf_first(const char *dir, const char *skip, char *name, size_t len);
/*
 * Reads a configuration file as a network configuration list: a single
 * plugin's .conf becomes a list of that one plugin. Returns the list (the
 * caller deletes it) or NULL with a message naming the file and the problem.
 */
cJSON *sx_cniconf_read_list(const char *dir, const char *name);

#endif
