// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <linux/pkt_sched.h>
#include <netlink/netlink.h>
#include <netlink/route/classifier.h>
#include <bpf/libbpf.h>
#include "log.h"
#include "netdev.h"
#include "pins.h"
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

int sx_tc_attach_pinned(int ifindex, enum bpf_tc_attach_point point, const char *pin_dir,
			const char *pin)
{
	int fd = sx_pin_open(pin_dir, pin, 1), r;

	if (fd < 0)
		return fd;
	r = sx_tc_attach(ifindex, point, fd);
	close(fd);
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

/* Filters of any tool on one clsact hook (parent), or -errno. */
static int hook_filter_count(struct nl_sock *sk, int ifindex, __u32 parent)
{
	struct nl_cache *cache;
	int r = rtnl_cls_alloc_cache(sk, ifindex, parent, &cache);

	if (r < 0)
		return sx_nl_errno(r);
	r = nl_cache_nitems(cache);
	nl_cache_free(cache);
	return r;
}

int sx_tc_hook_release(int ifindex)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex,
		    .attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS);
	int r, in, out = 0;
	struct nl_sock *sk = sx_nl_open(&r);

	if (!sk)
		return r;
	in = hook_filter_count(sk, ifindex, TC_H_MAKE(TC_H_CLSACT, TC_H_MIN_INGRESS));
	if (in >= 0)
		out = hook_filter_count(sk, ifindex, TC_H_MAKE(TC_H_CLSACT, TC_H_MIN_EGRESS));
	nl_socket_free(sk);
	if (in < 0 || out < 0)
		return in < 0 ? in : out;
	if (in || out)
		return 0; /* another tool's filters: the qdisc is theirs too */
	r = bpf_tc_hook_destroy(&hook);
	/* No qdisc, another kind of qdisc, or no interface: nothing of sockvx's is left. */
	return r == -ENOENT || r == -EINVAL || r == -ENODEV ? 0 : r;
}
