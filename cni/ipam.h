/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Delegated IPAM: runs the plugin named by ipam.type from CNI_PATH, as the
 * spec's delegation works, with the same configuration on stdin.
 */
#ifndef SOCKVX_CNI_IPAM_H
#define SOCKVX_CNI_IPAM_H

#include <jansson.h>
#include "conf.h"
#include "env.h"
#include "error.h"

/* Whose addresses: ADD and DEL of the current attachment, or GC's stale ones. */
struct sx_ipam_call {
	const char *command;	  /* "ADD", "DEL", "GC" or "STATUS" */
	const char *container_id;
	const char *ifname;
	const char *netns;	  /* may be NULL (DEL) */
};

/*
 * Runs the IPAM plugin. ADD returns its result in *result (the caller
 * decrefs); DEL passes NULL. A plugin that does not speak the configuration's
 * cniVersion is asked for its versions and called again with the newest one
 * both sides know. The plugin's error keeps its code when it is a well-known
 * one, else it becomes SX_CNI_E_IPAM. GC and STATUS are not sent to a
 * plugin that speaks only versions before 1.1.0, which have neither.
 */
int sx_ipam_exec(const struct sx_cni_env *env, const struct sx_cni_conf *conf,
		 const struct sx_ipam_call *call, json_t **result, struct sx_cni_error *err);

#endif
