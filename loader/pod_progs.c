// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <unistd.h>
#include "pins.h"
#include "pod_progs.h"
#include "tc.h"

int sx_pod_progs_open(const char *pin_dir, struct sx_pod_progs *pp)
{
	pp->from_pod_fd = sx_pin_open(pin_dir, SX_PIN_PROG_FROM_POD, 0);
	if (pp->from_pod_fd < 0)
		return pp->from_pod_fd;
	pp->to_pod_fd = sx_pin_open(pin_dir, SX_PIN_PROG_TO_POD, 1);
	if (pp->to_pod_fd < 0 && pp->to_pod_fd != -ENOENT) {
		int r = pp->to_pod_fd;

		close(pp->from_pod_fd);
		return r;
	}
	return 0;
}

void sx_pod_progs_close(struct sx_pod_progs *pp)
{
	if (pp->from_pod_fd >= 0)
		close(pp->from_pod_fd);
	if (pp->to_pod_fd >= 0)
		close(pp->to_pod_fd);
	pp->from_pod_fd = pp->to_pod_fd = -1;
}

int sx_pod_progs_attach(int ifindex, const struct sx_pod_progs *pp)
{
	int rewire = sx_tc_prog_id(ifindex, BPF_TC_INGRESS) != 0;
	int r = sx_tc_attach(ifindex, BPF_TC_INGRESS, pp->from_pod_fd);

	if (r)
		return r;
	r = pp->to_pod_fd >= 0 ? sx_tc_attach(ifindex, BPF_TC_EGRESS, pp->to_pod_fd) :
				 sx_tc_detach(ifindex, BPF_TC_EGRESS);
	/* A veth wired before keeps from_pod: a reload's rollback puts its programs back. */
	if (r && !rewire)
		sx_pod_progs_detach(ifindex);
	return r;
}

int sx_pod_progs_detach(int ifindex)
{
	int r = sx_tc_detach(ifindex, BPF_TC_INGRESS);
	int e = sx_tc_detach(ifindex, BPF_TC_EGRESS);

	if (!r && !e)
		e = sx_tc_hook_release(ifindex);
	return r ? r : e;
}

int sx_dataplane_attach_pod(const char *pin_dir, int ifindex)
{
	struct sx_pod_progs pp;
	int r = sx_pod_progs_open(pin_dir, &pp);

	if (r)
		return r;
	r = sx_pod_progs_attach(ifindex, &pp);
	sx_pod_progs_close(&pp);
	return r;
}
