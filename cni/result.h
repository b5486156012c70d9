/* SPDX-License-Identifier: Apache-2.0 */
/*
 * CNI results: read one of any supported version (an IPAM plugin's answer or
 * a prevResult) and write one in the version the configuration asked for.
 */
#ifndef SOCKVX_CNI_RESULT_H
#define SOCKVX_CNI_RESULT_H

#include <limits.h>
#include <net/if.h>
#include <stdbool.h>
#include <jansson.h>
#include "sockvx_abi.h"

#define SX_CNI_MAX_IPS 8
#define SX_CNI_MAX_ROUTES 16
#define SX_CNI_MAX_IFACES 4

struct sx_cni_ip {
	struct sx_endpoint_key addr;
	int prefixlen;
	bool has_gateway;
	struct sx_endpoint_key gateway;
	int iface; /* index into interfaces, -1 when absent */
};

struct sx_cni_route {
	struct sx_endpoint_key dst;
	int prefixlen;
	bool has_gw;
	struct sx_endpoint_key gw;
};

struct sx_cni_iface {
	char name[IF_NAMESIZE];
	char mac[18];		/* "" when not meaningful */
	char sandbox[PATH_MAX]; /* "" for host interfaces */
	unsigned int mtu;	/* 0: not reported (1.1.0 results carry it) */
};

struct sx_cni_result {
	struct sx_cni_iface ifaces[SX_CNI_MAX_IFACES];
	int n_ifaces;
	struct sx_cni_ip ips[SX_CNI_MAX_IPS];
	int n_ips;
	struct sx_cni_route routes[SX_CNI_MAX_ROUTES];
	int n_routes;
	json_t *dns; /* a reference the result holds; NULL when absent */
};

/*
 * Reads a result object of any supported version. On a malformed one, returns
 * -EINVAL with the reason in why. The caller releases with sx_cni_result_free.
 */
int sx_cni_result_parse(json_t *obj, struct sx_cni_result *res, char *why, size_t why_len);
/*
 * The container's addresses in a result (prevResult in chained mode): those
 * of interfaces with a sandbox, or with no interface named. Reads only ips and
 * the interfaces they name, so a result with more interfaces, addresses or
 * routes than sx_cni_result_parse keeps is fine. Returns how many were
 * written to keys (at most max), or -EINVAL with the reason in why.
 */
int sx_cni_result_sandbox_addrs(json_t *obj, struct sx_endpoint_key *keys, int max, char *why,
				size_t why_len);
/* Builds the result JSON for cniVersion version (SX_CNI_V()), named version_text. */
json_t *sx_cni_result_build(const struct sx_cni_result *res, int version, const char *version_text);
void sx_cni_result_free(struct sx_cni_result *res);

#endif
