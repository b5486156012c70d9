/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sockvxctl cni chain / unchain: chained installation on a cluster that
 * already has a network. sockvx writes its own configuration, which sorts
 * first and so is the one the runtime uses: the cluster's plugin list with
 * sockvx appended. The cluster's own file is never edited.
 */
#ifndef SOCKVX_CHAIN_H
#define SOCKVX_CHAIN_H

/*
 * Writes conf_dir/00-sockvx.conflist from the first other configuration in
 * conf_dir. Running it again gives the same file (it is rewritten only when
 * the cluster's configuration changed). 0 or -errno (message printed).
 */
int sx_cni_chain(const char *conf_dir, const char *pin_dir);
/* Removes conf_dir/00-sockvx.conflist; absent is not an error. */
int sx_cni_unchain(const char *conf_dir);

#endif
