/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sockvxctl cni-chain: chained installation on a node that already has a
 * cluster network. It writes sockvx's own conflist, which sorts first, so
 * runtimes use it: the cluster's plugin list, unchanged, then sockvx. The
 * cluster's file is never edited; running it again (after a reboot, or after
 * the cluster's file changed) rewrites the same result.
 */
#ifndef SOCKVX_CNICHAIN_H
#define SOCKVX_CNICHAIN_H

#include "cniconf.h"

struct sx_cni_chain_opts {
	const char *conf_dir; /* /etc/cni/net.d */
	const char *pin_dir;  /* written into the sockvx entry when not the default */
};

/* 0, or -errno with a message printed. */
int sx_cni_chain(const struct sx_cni_chain_opts *o);

#endif
