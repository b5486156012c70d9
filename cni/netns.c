// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/nsfs.h>
#include "log.h"
#include "netns.h"

/* Is fd the network namespace the plugin itself runs in (the host's)? */
static int is_own_netns(int fd)
{
	struct stat ns, own;

	return !fstat(fd, &ns) && !stat("/proc/thread-self/ns/net", &own) &&
	       ns.st_dev == own.st_dev && ns.st_ino == own.st_ino;
}

int sx_netns_open(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), type;

	if (fd < 0)
		return -errno;
	type = ioctl(fd, NS_GET_NSTYPE);
	if (type != CLONE_NEWNET) {
		close(fd);
		return -EINVAL;
	}
	/* The pod's interface, addresses and default route would land on the host. */
	if (is_own_netns(fd)) {
		close(fd);
		return -EEXIST;
	}
	return fd;
}

int sx_netns_enter(int ns_fd, int *home)
{
	*home = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (*home < 0)
		return -errno;
	if (setns(ns_fd, CLONE_NEWNET)) {
		int r = -errno;

		close(*home);
		*home = -1;
		return r;
	}
	return 0;
}

void sx_netns_leave(int home)
{
	/* Anything done after a failed return would act on the pod's namespace. */
	if (setns(home, CLONE_NEWNET)) {
		pr_warn("sockvx: cannot return to the host network namespace: %m\n");
		abort();
	}
	close(home);
}
