// SPDX-License-Identifier: Apache-2.0
/*
 * sxhold: opens many idle TCP connections and holds them.
 *
 * bench/bench.sh measures what a new connection and a transaction cost when
 * the SOCKHASH already holds tens of thousands of accelerated sockets. The
 * server end runs in one pod, the client end in another; both stay until they
 * are killed, so the sockets stay in the map for the whole measurement.
 *
 * Usage:
 *   sxhold serve PORT NPORTS COUNT
 *       listens on PORT..PORT+NPORTS-1 (every address), accepts COUNT
 *       connections, prints "accepted COUNT" and holds them
 *   sxhold connect ADDR PORT NPORTS COUNT
 *       opens COUNT connections to ADDR, round robin over the ports, and
 *       prints "held COUNT" once all are established, then holds them
 *
 * The client connects one at a time: a blocking connect() returns when the
 * handshake is done, so the sockops program's table of active sockets waiting
 * for their passive peer (an LRU of SX_MAX_ACTIVE entries) never holds more
 * than one of ours and none is evicted. Several server ports multiply the
 * four-tuples one client address can open; the caller widens
 * net.ipv4.ip_local_port_range in the client's namespace.
 * Both ends raise RLIMIT_NOFILE to COUNT plus a margin; above the hard limit
 * that needs CAP_SYS_RESOURCE, so callers without it run several processes.
 *
 * Exit status: 0 never (killed while holding), 1 set-up or a connection
 * failed (the count reached is printed), 2 usage.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_PORTS   64
#define MAX_COUNT   1000000ul
#define FD_MARGIN   64
#define BACKLOG     4096

static int raise_nofile(unsigned long count)
{
	struct rlimit rl = { .rlim_cur = count + FD_MARGIN, .rlim_max = count + FD_MARGIN };
	struct rlimit cur;

	if (getrlimit(RLIMIT_NOFILE, &cur) == 0 && cur.rlim_max > rl.rlim_max)
		rl.rlim_max = cur.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl)) {
		fprintf(stderr, "sxhold: cannot raise RLIMIT_NOFILE to %lu: %s\n",
			(unsigned long)rl.rlim_cur, strerror(errno));
		return -errno;
	}
	return 0;
}

/* Holds every descriptor until the process is killed. */
static void hold(void)
{
	fflush(stdout);
	for (;;)
		pause();
}

static int listen_on(unsigned int port)
{
	struct sockaddr_in6 sa = { .sin6_family = AF_INET6, .sin6_port = htons(port),
				   .sin6_addr = IN6ADDR_ANY_INIT };
	int one = 1, fd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

	if (fd < 0)
		return -errno;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(fd, (struct sockaddr *)&sa, sizeof(sa)) || listen(fd, BACKLOG)) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

static int serve(unsigned int port, unsigned int nports, unsigned long count)
{
	struct pollfd pfd[MAX_PORTS];
	unsigned long accepted = 0;
	unsigned int i;

	if (raise_nofile(count))
		return 1;
	for (i = 0; i < nports; i++) {
		pfd[i].fd = listen_on(port + i);
		pfd[i].events = POLLIN;
		if (pfd[i].fd < 0) {
			fprintf(stderr, "sxhold: listen on port %u: %s\n", port + i, strerror(-pfd[i].fd));
			return 1;
		}
	}
	while (accepted < count) {
		if (poll(pfd, nports, -1) < 0 && errno != EINTR) {
			perror("sxhold: poll");
			return 1;
		}
		for (i = 0; i < nports && accepted < count; i++) {
			if (!(pfd[i].revents & POLLIN))
				continue;
			/* Drain the accept queue: the client does not wait for us.
			 * The accepted descriptors are held, never used. */
			while (accepted < count && accept4(pfd[i].fd, NULL, NULL, SOCK_CLOEXEC) >= 0)
				accepted++;
			if (accepted < count && errno != EAGAIN && errno != EINTR) {
				fprintf(stderr, "sxhold: accept after %lu: %s\n", accepted, strerror(errno));
				return 1;
			}
		}
	}
	printf("accepted %lu\n", accepted);
	hold();
	return 0;
}

static int connect_all(const char *addr, unsigned int port, unsigned int nports, unsigned long count)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	unsigned long n;

	if (inet_pton(AF_INET, addr, &sa.sin_addr) != 1) {
		fprintf(stderr, "sxhold: not an IPv4 address: %s\n", addr);
		return 2;
	}
	if (raise_nofile(count))
		return 1;
	for (n = 0; n < count; n++) {
		int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

		sa.sin_port = htons(port + n % nports);
		if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
			fprintf(stderr, "sxhold: connection %lu of %lu: %s\n", n + 1, count, strerror(errno));
			return 1;
		}
	}
	printf("held %lu\n", n);
	hold();
	return 0;
}

static int parse_uint(const char *s, unsigned long max, unsigned long *out)
{
	char *end;

	errno = 0;
	*out = strtoul(s, &end, 10);
	return errno || end == s || *end || *out == 0 || *out > max ? -EINVAL : 0;
}

static int usage(void)
{
	fprintf(stderr, "usage: sxhold serve PORT NPORTS COUNT\n"
			"       sxhold connect ADDR PORT NPORTS COUNT\n");
	return 2;
}

int main(int argc, char **argv)
{
	unsigned long port, nports, count;
	int a = 2;

	if (argc < 2)
		return usage();
	if (!strcmp(argv[1], "connect"))
		a = 3;
	else if (strcmp(argv[1], "serve"))
		return usage();
	if (argc != a + 3 || parse_uint(argv[a], 65535, &port) || parse_uint(argv[a + 1], MAX_PORTS, &nports) ||
	    parse_uint(argv[a + 2], MAX_COUNT, &count) || port + nports - 1 > 65535)
		return usage();
	if (a == 3)
		return connect_all(argv[2], (unsigned int)port, (unsigned int)nports, count);
	return serve((unsigned int)port, (unsigned int)nports, count);
}
