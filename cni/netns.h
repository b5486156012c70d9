/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The pod's network namespace (CNI_NETNS). The plugin is single-threaded, so
 * it enters the namespace with setns() around the work done inside and
 * returns to the host's namespace afterwards.
 */
#ifndef SOCKVX_CNI_NETNS_H
#define SOCKVX_CNI_NETNS_H

/*
 * Opens path and checks it is a network namespace other than the plugin's
 * own: fd, -ENOENT, -EINVAL (not one), -EEXIST (the plugin's own), -errno.
 */
int sx_netns_open(const char *path);
/* Enters the namespace ns_fd; *home gets an fd of the namespace to come back to. 0 or -errno. */
int sx_netns_enter(int ns_fd, int *home);
/* Returns to home (from sx_netns_enter) and closes it. Failing here is fatal: aborts. */
void sx_netns_leave(int home);

#endif
