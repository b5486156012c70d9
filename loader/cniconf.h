/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Reading the node's CNI configuration as container runtimes do: the first
 * .conf, .conflist or .json file by name in the configuration directory.
 * Used by doctor (is sockvx in it?) and cni-chain (what to wrap).
 */
#ifndef SOCKVX_CNICONF_H
#define SOCKVX_CNICONF_H

#include <stdbool.h>
#include <stddef.h>

struct cJSON;

#define SX_CNI_CONF_DIR "/etc/cni/net.d"
/* The file cni-chain writes: "00-" sorts before the usual "10-..." names. */
#define SX_CNI_CHAIN_FILE "00-sockvx.conflist"

/*
 * The path of the configuration runtimes use in dir, leaving out
 * SX_CNI_CHAIN_FILE when skip_chain. 0, -ENOENT when there is none, -errno.
 */
int sx_cni_conf_first(const char *dir, bool skip_chain, char *path, size_t len);
/* A configuration file's JSON (cJSON_Delete it), or NULL when unreadable or not JSON. */
struct cJSON *sx_cni_conf_load(const char *path);
/* Is this plugin entry sockvx? */
bool sx_cni_plugin_is_sockvx(const struct cJSON *plugin);
/* The sockvx entry of a configuration (a conflist's plugins, or a single .conf), or NULL. */
const struct cJSON *sx_cni_conf_sockvx(const struct cJSON *conf);

#endif
