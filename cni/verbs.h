/* SPDX-License-Identifier: Apache-2.0 */
/* The CNI verbs, each on a parsed environment and configuration. */
#ifndef SOCKVX_CNI_VERBS_H
#define SOCKVX_CNI_VERBS_H

#include <jansson.h>
#include "conf.h"
#include "env.h"
#include "error.h"

struct sx_cni_run {
	struct sx_cni_env env;
	struct sx_cni_conf conf;
	struct sx_cni_error err;
	json_t *out; /* what goes to stdout on success (ADD, VERSION); NULL for none */
};

/* Each returns 0 or the error code it recorded in run->err. */
int sx_cni_add(struct sx_cni_run *run);
int sx_cni_del(struct sx_cni_run *run);
int sx_cni_check(struct sx_cni_run *run);
int sx_cni_status(struct sx_cni_run *run);
int sx_cni_gc(struct sx_cni_run *run);
int sx_cni_version(struct sx_cni_run *run);

#endif
