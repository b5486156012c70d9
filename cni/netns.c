// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <linux/nsfs.h>
#include "log.h"
#include "netns.h"

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
