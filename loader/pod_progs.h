/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The TC dataplane's programs on a pod's host veth: from_pod on ingress (what
 * the pod sends) and to_pod on egress (what the node's stack routes into the
 * pod). Every path that wires or unwires a pod goes through here: load,
 * reload and its rollback, CNI ADD, `endpoint add --dev`, `endpoint del` and
 * unload.
 */
#ifndef SOCKVX_LOADER_POD_PROGS_H
#define SOCKVX_LOADER_POD_PROGS_H

/* Program fds; to_pod_fd is -1 for a load older than to_pod, which pinned none. */
struct sx_pod_progs {
	int from_pod_fd;
	int to_pod_fd;
};

/* Opens the pinned programs. 0 or -errno (nothing to close then). */
int sx_pod_progs_open(const char *pin_dir, struct sx_pod_progs *pp);
void sx_pod_progs_close(struct sx_pod_progs *pp);
/*
 * Attaches both programs to a veth, replacing earlier ones; without to_pod,
 * egress is cleared. All or nothing on a veth that had none: if egress
 * fails, from_pod comes off again. 0 or -errno.
 */
int sx_pod_progs_attach(int ifindex, const struct sx_pod_progs *pp);
/*
 * Detaches both and deletes the veth's clsact qdisc if no filter is left on
 * it, as it was before sockvx. Absent is not an error. The first error, or 0.
 */
int sx_pod_progs_detach(int ifindex);
/* sx_pod_progs_open, _attach and _close for one veth. */
int sx_dataplane_attach_pod(const char *pin_dir, int ifindex);

#endif
