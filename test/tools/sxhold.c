// SPDX-License-Identifier: Apache-2.0
/*
 * sxhold: opens many TCP connections and holds them idle, to fill sockvx's
 * SOCKHASH, then proves that connections made on top still carry data.
 *
 *   sxhold server ADDR PORT...
 *       Accepts on every port and echoes whatever arrives, until killed.
 *   sxhold client ADDR PORT... --conns N [--probe M] [--probe-bytes B]
 *       Opens N connections spread over the ports, CONNECT_BATCH at a time,
 *       then M probe connections that each send B bytes of a known pattern
 *       and read them back. Prints one JSON line, then holds every
 *       connection until its standard input closes (or it is killed).
 *
 * A probe connection counts as good only when all B bytes come back intact.
 * Both sides raise RLIMIT_NOFILE as far as they may; where the hard limit is
 * low (no CAP_SYS_RESOURCE), run several clients and servers side by side.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_PORTS     16
#define CONNECT_BATCH 256 /* connections in flight while filling */
#define IO_TIMEOUT_MS 10000
#define ECHO_BUF      (64 * 1024)

struct target {
	int family;
	struct sockaddr_storage addr[MAX_PORTS];
	socklen_t len;
	int n_ports;
};

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void die(const char *what)
{
	fprintf(stderr, "sxhold: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void raise_nofile(void)
{
	struct rlimit rl = { 0, 0 };
	FILE *f = fopen("/proc/sys/fs/nr_open", "re");
	unsigned long max = 1 << 20;

	if (f) {
		if (fscanf(f, "%lu", &max) != 1)
			max = 1 << 20;
		fclose(f);
	}
	rl.rlim_cur = rl.rlim_max = max;
	if (setrlimit(RLIMIT_NOFILE, &rl) && !getrlimit(RLIMIT_NOFILE, &rl)) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

static void parse_target(struct target *t, const char *addr, char **ports, int n)
{
	struct in6_addr a6;
	struct in_addr a4;
	int i;

	if (n < 1 || n > MAX_PORTS) {
		fprintf(stderr, "sxhold: give 1 to %d ports\n", MAX_PORTS);
		exit(2);
	}
	t->family = inet_pton(AF_INET, addr, &a4) == 1 ? AF_INET :
		    inet_pton(AF_INET6, addr, &a6) == 1 ? AF_INET6 : 0;
	if (!t->family) {
		fprintf(stderr, "sxhold: '%s' is not an IP address\n", addr);
		exit(2);
	}
	for (i = 0; i < n; i++) {
		char *end;
		long port = strtol(ports[i], &end, 10);

		if (*end || port < 1 || port > 65535) {
			fprintf(stderr, "sxhold: '%s' is not a port\n", ports[i]);
			exit(2);
		}
		memset(&t->addr[i], 0, sizeof(t->addr[i]));
		if (t->family == AF_INET) {
			struct sockaddr_in *s = (struct sockaddr_in *)&t->addr[i];

			s->sin_family = AF_INET;
			s->sin_port = htons((uint16_t)port);
			s->sin_addr = a4;
			t->len = sizeof(*s);
		} else {
			struct sockaddr_in6 *s = (struct sockaddr_in6 *)&t->addr[i];

			s->sin6_family = AF_INET6;
			s->sin6_port = htons((uint16_t)port);
			s->sin6_addr = a6;
			t->len = sizeof(*s);
		}
	}
	t->n_ports = n;
}

/* ---- server: accept and echo on every port ---------------------------------- */

static __attribute__((noreturn)) void server(const struct target *t)
{
	struct epoll_event ev, events[256];
	static char buf[ECHO_BUF];
	int ep = epoll_create1(EPOLL_CLOEXEC), i, one = 1;

	if (ep < 0)
		die("epoll_create1");
	for (i = 0; i < t->n_ports; i++) {
		int fd = socket(t->family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

		if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
		    bind(fd, (const struct sockaddr *)&t->addr[i], t->len) || listen(fd, 4096))
			die("listen");
		ev = (struct epoll_event){ .events = EPOLLIN, .data.u64 = (uint64_t)fd << 1 | 1 };
		if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev))
			die("epoll_ctl");
	}
	for (;;) {
		int n = epoll_wait(ep, events, 256, -1);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			die("epoll_wait");
		for (i = 0; i < n; i++) {
			int fd = (int)(events[i].data.u64 >> 1);

			if (events[i].data.u64 & 1) {
				int c;

				while ((c = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
					ev = (struct epoll_event){ .events = EPOLLIN,
								   .data.u64 = (uint64_t)c << 1 };
					if (epoll_ctl(ep, EPOLL_CTL_ADD, c, &ev))
						close(c);
				}
				continue;
			}
			for (;;) {
				ssize_t r = read(fd, buf, sizeof(buf)), w = 0;

				if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR)) {
					close(fd);
					break;
				}
				if (r < 0)
					break;
				/* Probes are small and the peer reads: a blocking-style write loop. */
				while (w < r) {
					ssize_t k = write(fd, buf + w, (size_t)(r - w));

					if (k < 0 && errno == EAGAIN) {
						struct pollfd p = { fd, POLLOUT, 0 };

						poll(&p, 1, IO_TIMEOUT_MS);
						continue;
					}
					if (k <= 0)
						break;
					w += k;
				}
			}
		}
	}
}

/* ---- client ---------------------------------------------------------------------- */

/* Opens n connections, CONNECT_BATCH at a time; returns how many are established. */
static long fill(const struct target *t, long n, int *fds, long *failed)
{
	long opened = 0, done = 0, ok = 0;
	struct pollfd p[CONNECT_BATCH];
	long ids[CONNECT_BATCH];
	int inflight = 0, i;

	while (done < n) {
		while (inflight < CONNECT_BATCH && opened < n) {
			int fd = socket(t->family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

			if (fd < 0) {
				fprintf(stderr, "sxhold: socket: %s after %ld\n", strerror(errno), opened);
				return ok;
			}
			if (connect(fd, (const struct sockaddr *)&t->addr[opened % t->n_ports], t->len) &&
			    errno != EINPROGRESS) {
				close(fd);
				fds[opened++] = -1;
				(*failed)++;
				done++;
				continue;
			}
			p[inflight] = (struct pollfd){ fd, POLLOUT, 0 };
			ids[inflight++] = opened;
			fds[opened++] = fd;
		}
		if (!inflight)
			continue;
		if (poll(p, (nfds_t)inflight, IO_TIMEOUT_MS) <= 0) {
			fprintf(stderr, "sxhold: connections stalled after %ld\n", done);
			return ok;
		}
		for (i = 0; i < inflight; i++) {
			int err = 0;
			socklen_t len = sizeof(err);

			if (!p[i].revents)
				continue;
			getsockopt(p[i].fd, SOL_SOCKET, SO_ERROR, &err, &len);
			if (err) {
				close(p[i].fd);
				fds[ids[i]] = -1;
				(*failed)++;
			} else {
				ok++;
			}
			done++;
			p[i] = p[--inflight];
			ids[i] = ids[inflight];
			i--;
		}
	}
	return ok;
}

static int wait_io(int fd, short events)
{
	struct pollfd p = { fd, events, 0 };

	return poll(&p, 1, IO_TIMEOUT_MS) == 1 ? 0 : -1;
}

/* One probe: connect, send bytes of a pattern, read them back; true when intact. */
static bool probe(const struct target *t, int port, long id, long bytes, int *held)
{
	int fd = socket(t->family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	unsigned char *out = malloc((size_t)bytes), *in = malloc((size_t)bytes);
	long sent = 0, got = 0, i;
	bool good = false;

	*held = -1;
	if (fd < 0 || !out || !in ||
	    connect(fd, (const struct sockaddr *)&t->addr[port % t->n_ports], t->len))
		goto out;
	fcntl(fd, F_SETFL, O_NONBLOCK);
	for (i = 0; i < bytes; i++)
		out[i] = (unsigned char)(i * 131 + id * 7 + (i >> 8));
	while (got < bytes) {
		ssize_t k;

		if (sent < bytes) {
			k = write(fd, out + sent, (size_t)(bytes - sent));
			if (k > 0)
				sent += k;
			else if (k < 0 && errno != EAGAIN)
				goto out;
		}
		k = read(fd, in + got, (size_t)(bytes - got));
		if (k > 0)
			got += k;
		else if (k == 0 || errno != EAGAIN)
			goto out;
		else if (wait_io(fd, sent < bytes ? POLLIN | POLLOUT : POLLIN))
			goto out;
	}
	good = !memcmp(out, in, (size_t)bytes);
	*held = fd; /* held open with the others: probes stay in the count */
	fd = -1;
out:
	if (fd >= 0)
		close(fd);
	free(out);
	free(in);
	return good;
}

static int client(const struct target *t, long conns, long probes, long probe_bytes)
{
	int *fds = calloc((size_t)(conns + probes) + 1, sizeof(int));
	long failed = 0, good = 0, i;
	double t0 = now(), t1;
	long held;
	char c;

	if (!fds)
		die("calloc");
	held = fill(t, conns, fds, &failed);
	t1 = now();
	for (i = 0; i < probes; i++)
		good += probe(t, (int)i, i, probe_bytes, &fds[conns + i]);
	printf("{\"conns\":%ld,\"established\":%ld,\"failed\":%ld,\"fill_seconds\":%.3f,"
	       "\"probes\":%ld,\"probes_intact\":%ld,\"probe_bytes\":%ld}\n",
	       conns, held, failed, t1 - t0, probes, good, probe_bytes);
	fflush(stdout);
	/* Hold until told: the caller reads the maps meanwhile. */
	while (read(0, &c, 1) > 0)
		;
	free(fds); /* the connections close with the process */
	return held == conns && good == probes ? 0 : 1;
}

static void usage(void)
{
	fprintf(stderr, "usage: sxhold server ADDR PORT...\n"
			"       sxhold client ADDR PORT... --conns N [--probe M] [--probe-bytes B]\n");
	exit(2);
}

static long parse_count(const char *name, const char *s, long max)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (*end || v < 0 || v > max) {
		fprintf(stderr, "sxhold: %s takes 0 to %ld\n", name, max);
		exit(2);
	}
	return v;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = { { "conns", required_argument, NULL, 'n' },
					      { "probe", required_argument, NULL, 'p' },
					      { "probe-bytes", required_argument, NULL, 'b' },
					      { NULL, 0, NULL, 0 } };
	long conns = 0, probes = 0, probe_bytes = 65536;
	struct target t;
	int o;

	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (o == 'n')
			conns = parse_count("--conns", optarg, 1000000);
		else if (o == 'p')
			probes = parse_count("--probe", optarg, 100000);
		else if (o == 'b')
			probe_bytes = parse_count("--probe-bytes", optarg, 1 << 24);
		else
			usage();
	}
	if (argc - optind < 3)
		usage();
	parse_target(&t, argv[optind + 1], argv + optind + 2, argc - optind - 2);
	signal(SIGPIPE, SIG_IGN);
	raise_nofile();
	if (!strcmp(argv[optind], "server"))
		server(&t);
	if (!strcmp(argv[optind], "client") && probe_bytes > 0)
		return client(&t, conns, probes, probe_bytes);
	usage();
	return 2;
}
