// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <string.h>
#include <bpf/libbpf.h>
#include "log.h"
#include "tc.h"

int sx_tc_attach(int ifindex, enum bpf_tc_attach_point point, int prog_fd)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = point);
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = SX_TC_HANDLE, .priority = SX_TC_PRIORITY,
		    .prog_fd = prog_fd, .flags = BPF_TC_F_REPLACE);
	int r;

	/* One clsact qdisc serves both directions; an existing one is reused. */
	r = bpf_tc_hook_create(&hook);
	if (r && r != -EEXIST) {
		pr_warn("sockvxctl: cannot create the clsact qdisc on interface %d: %s\n", ifindex,
			strerror(-r));
		return r;
	}
	r = bpf_tc_attach(&hook, &opts);
	if (r)
		pr_warn("sockvxctl: cannot attach the tc program to interface %d: %s\n", ifindex,
			strerror(-r));
	return r;
}

int sx_tc_detach(int ifindex, enum bpf_tc_attach_point point)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = point);
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = SX_TC_HANDLE, .priority = SX_TC_PRIORITY);
	int r = bpf_tc_detach(&hook, &opts);

	/* The filter, the qdisc or the interface itself may be gone already. */
	return r == -ENOENT || r == -EINVAL || r == -ENODEV ? 0 : r;
}

__u32 sx_tc_prog_id(int ifindex, enum bpf_tc_attach_point point)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = point);
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = SX_TC_HANDLE, .priority = SX_TC_PRIORITY);

	return bpf_tc_query(&hook, &opts) ? 0 : opts.prog_id;
}
