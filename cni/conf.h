/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The network configuration on stdin: decoded, checked field by field, with
 * sockvx's defaults filled in. Bad input never gets further than this file.
 */
#ifndef SOCKVX_CNI_CONF_H
#define SOCKVX_CNI_CONF_H

#include <stddef.h>
#include <jansson.h>
#include "env.h"
#include "error.h"

#define SX_CNI_DEFAULT_DATA_DIR "/var/lib/cni/sockvx"
/* The smallest MTUs IPv4 and IPv6 allow. */
#define SX_CNI_MTU_MIN 576
#define SX_CNI_MTU_MIN_IPV6 1280
#define SX_CNI_MTU_MAX 65535

struct sx_cni_conf {
	json_t *root;	       /* the decoded document; owns everything below */
	char cni_version[16];  /* as given; "" until read, and when too long to be a version */
	int version;	       /* SX_CNI_V() of cni_version */
	const char *name;      /* network name */
	const char *pin_dir;   /* "pinDir": sockvx's pins on this node */
	const char *data_dir;  /* "dataDir": sockvx's record of each attachment */
	const char *log_file;  /* "logFile": NULL logs to stderr */
	int log_level;	       /* "logLevel": SX_LOG_* */
	unsigned int mtu;      /* "mtu": 0 derives it from the node's overlay */
	json_t *ipam;	       /* main mode: the IPAM section; NULL when chained */
	const char *ipam_type;
	json_t *dns;	       /* "dns", passed into the result when IPAM gives none */
	json_t *prev_result;   /* the previous plugin's result (chained ADD; CHECK, DEL) */
	json_t *valid_attachments; /* GC: "cni.dev/valid-attachments" */
};

/* Main mode owns the pod's interface and IPAM; chained mode only registers endpoints. */
static inline int sx_cni_conf_is_main(const struct sx_cni_conf *c)
{
	return c->ipam != NULL;
}

/*
 * Parses the configuration for a verb. VERSION accepts an empty document.
 * Codes: 6 (not JSON), 1 (unsupported cniVersion), 7 (a bad field, named in
 * the message). On success the caller frees with sx_cni_conf_free.
 */
int sx_cni_conf_parse(const char *text, size_t len, enum sx_cni_verb verb, struct sx_cni_conf *conf,
		      struct sx_cni_error *err);
/*
 * Logs, at info, each top-level field sockvx does not know. Called once the
 * configuration's own logLevel and logFile apply.
 */
void sx_cni_conf_log_unknown(const struct sx_cni_conf *c);
void sx_cni_conf_free(struct sx_cni_conf *conf);

#endif
