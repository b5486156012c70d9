// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include "log.h"
#include "netconf.h"
#include "pins.h"

__u64 sx_current_netns(void)
{
	struct stat st;

	return stat("/proc/self/ns/net", &st) ? 0 : (__u64)st.st_ino;
}

void sx_netconf_routers(const struct sx_netconf *nc, struct sx_endpoint_key *r4,
			struct sx_endpoint_key *r6)
{
	const struct sx_ip *ip6 = &nc->router_ip6;

	memset(r4, 0, sizeof(*r4));
	memset(r6, 0, sizeof(*r6));
	if (nc->router_ip4) {
		r4->family = SX_AF_INET;
		r4->ip.addr[0] = nc->router_ip4;
	}
	if (ip6->addr[0] | ip6->addr[1] | ip6->addr[2] | ip6->addr[3]) {
		r6->family = SX_AF_INET6;
		r6->ip = *ip6;
	}
}

int sx_netconf_read(const char *pin_dir, struct sx_netconf *nc)
{
	__u32 zero = 0;
	int fd, r;

	memset(nc, 0, sizeof(*nc));
	fd = sx_pin_open(pin_dir, SX_MAP_NETCONF, 1);
	if (fd == -ENOENT)
		return 0;
	if (fd < 0)
		return fd;
	r = bpf_map_lookup_elem(fd, &zero, nc) ? -errno : 0;
	close(fd);
	return r;
}

int sx_netconf_write(const char *pin_dir, const struct sx_netconf *nc)
{
	__u32 zero = 0;
	int fd, r;

	fd = sx_pin_open(pin_dir, SX_MAP_NETCONF, 0);
	if (fd < 0)
		return fd;
	r = bpf_map_update_elem(fd, &zero, nc, BPF_ANY) ? -errno : 0;
	close(fd);
	return r;
}

int sx_netconf_is_here(const struct sx_netconf *nc)
{
	return !nc->netns_ino || nc->netns_ino == sx_current_netns();
}

int sx_dataplane_same_netns_quiet(const char *pin_dir)
{
	struct sx_netconf nc;
	int r = sx_netconf_read(pin_dir, &nc);

	return r ? r : sx_netconf_is_here(&nc) ? 0 : -EXDEV;
}

int sx_dataplane_same_netns(const char *pin_dir)
{
	struct sx_netconf nc;
	int r = sx_netconf_read(pin_dir, &nc);

	if (r)
		return r;
	if (sx_netconf_is_here(&nc))
		return 0;
	pr_warn("sockvxctl: sockvx in %s was loaded in another network namespace (net:[%llu]); "
		"run this command there (nsenter --net=...)\n",
		pin_dir, (unsigned long long)nc.netns_ino);
	return -EXDEV;
}

