// SPDX-License-Identifier: Apache-2.0
/*
 * sxunixbench: the Unix-domain reference of bench/bench.sh.
 *
 * A connected AF_UNIX stream pair is the practical ceiling for two processes
 * on one machine talking through sockets: no protocol, no addressing, a copy
 * from the sender into the receiver's queue. Debian's netperf is built without
 * its Unix-domain tests and sockperf 3.7 has none, so this tool plays netperf's
 * TCP_RR and TCP_STREAM patterns over a socketpair, one end per thread (the
 * scheduler may put them on two CPUs, as it does two pods), and prints one
 * line in the order of netperf's
 *   -o THROUGHPUT,THROUGHPUT_UNITS,P50_LATENCY,P99_LATENCY,LOCAL_SD
 * with netperf's units:
 *   rr:     Trans/s, µs per transaction, CPU µs per transaction
 *   stream: 10^6bits/s, µs per write() call, CPU µs per KB (1024 bytes)
 * CPU is this process's (user + system, both ends), which is what netperf's
 * machine-wide figure measures when both ends run on one machine.
 *
 * Usage:
 *   sxunixbench rr SIZE SECONDS       SIZE bytes each way per transaction
 *   sxunixbench stream SIZE SECONDS   SIZE-byte writes in one direction
 *
 * Exit status: 0 measured, 1 a socket call failed, 2 usage.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* Latency histogram: 100 ns buckets up to 100 ms; slower calls go in the
 * last bucket. 4 MB, and no allocation on the measured path. */
#define HIST_NS_PER_BUCKET 100u
#define HIST_BUCKETS       1000000u
/* The receiver of a stream reads in 128 KiB, as netperf's default receive
 * size follows the socket buffer. */
#define STREAM_RECV_SIZE (128u * 1024u)
#define MAX_SIZE         (16u * 1024u * 1024u)

enum pattern { PATTERN_RR, PATTERN_STREAM };

struct bench {
	enum pattern pattern;
	size_t size;
	int fd[2];        /* fd[0]: the measured (client) end; fd[1]: the peer */
	uint64_t end_ns;  /* when the client stops */
	uint64_t ops;     /* transactions (rr) or write() calls (stream) */
	uint64_t bytes;   /* bytes the client sent */
	uint32_t *hist;
	int peer_err;
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t cpu_us(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (uint64_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000u +
	       (uint64_t)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
}

static void hist_add(uint32_t *hist, uint64_t ns)
{
	uint64_t b = ns / HIST_NS_PER_BUCKET;

	hist[b < HIST_BUCKETS ? b : HIST_BUCKETS - 1]++;
}

/* The latency in µs under which a fraction q of the calls completed. */
static double hist_quantile(const uint32_t *hist, uint64_t total, double q)
{
	uint64_t want = (uint64_t)((double)total * q), seen = 0;
	uint32_t b;

	for (b = 0; b < HIST_BUCKETS; b++) {
		seen += hist[b];
		if (seen > want)
			break;
	}
	if (b == HIST_BUCKETS)
		b--;
	return (double)(b + 1) * HIST_NS_PER_BUCKET / 1000.0;
}

/* Full-length transfers: a stream socket may move fewer bytes per call. */
static int write_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = write(fd, buf, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Returns 1 when len bytes were read, 0 at end of stream, -errno on error. */
static int read_all(int fd, char *buf, size_t len)
{
	while (len) {
		ssize_t n = read(fd, buf, len);

		if (n == 0)
			return 0;
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 1;
}

/* The peer: answers each request of an rr test, or drains a stream. */
static void *peer_main(void *arg)
{
	struct bench *b = arg;
	size_t len = b->pattern == PATTERN_RR ? b->size : STREAM_RECV_SIZE;
	char *buf = malloc(len);
	int err = 0;

	if (!buf) {
		b->peer_err = -ENOMEM;
		return NULL;
	}
	for (;;) {
		if (b->pattern == PATTERN_RR) {
			err = read_all(b->fd[1], buf, len);
			if (err <= 0)
				break;
			err = write_all(b->fd[1], buf, len);
		} else {
			ssize_t n = read(b->fd[1], buf, len);

			if (n == 0)
				break;
			err = n < 0 && errno != EINTR ? -errno : 0;
		}
		if (err < 0)
			break;
	}
	b->peer_err = err < 0 ? err : 0;
	free(buf);
	return NULL;
}

/* The measured end: one transaction or one write() per timed call. */
static int client_run(struct bench *b)
{
	char *buf = calloc(1, b->size);
	uint64_t t0, t1;
	int err = 0;

	if (!buf)
		return -ENOMEM;
	for (t0 = now_ns(); t0 < b->end_ns; t0 = t1) {
		err = write_all(b->fd[0], buf, b->size);
		if (!err && b->pattern == PATTERN_RR) {
			err = read_all(b->fd[0], buf, b->size);
			err = err == 0 ? -EPIPE : err < 0 ? err : 0;
		}
		if (err)
			break;
		t1 = now_ns();
		hist_add(b->hist, t1 - t0);
		b->ops++;
		b->bytes += b->size;
	}
	free(buf);
	return err;
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
	fprintf(stderr, "usage: sxunixbench rr|stream SIZE SECONDS\n");
	return 2;
}

int main(int argc, char **argv)
{
	struct bench b = { .fd = { -1, -1 } };
	unsigned long size, secs;
	uint64_t start, cpu0, elapsed_ns, cpu;
	pthread_t peer;
	int err;

	if (argc != 4 || parse_uint(argv[2], MAX_SIZE, &size) || parse_uint(argv[3], 3600, &secs))
		return usage();
	if (!strcmp(argv[1], "rr"))
		b.pattern = PATTERN_RR;
	else if (!strcmp(argv[1], "stream"))
		b.pattern = PATTERN_STREAM;
	else
		return usage();
	b.size = size;
	b.hist = calloc(HIST_BUCKETS, sizeof(*b.hist));
	if (!b.hist || socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, b.fd)) {
		perror("sxunixbench: set-up");
		return 1;
	}
	err = pthread_create(&peer, NULL, peer_main, &b);
	if (err) {
		fprintf(stderr, "sxunixbench: pthread_create: %s\n", strerror(err));
		return 1;
	}
	cpu0 = cpu_us();
	start = now_ns();
	b.end_ns = start + (uint64_t)secs * 1000000000u;
	err = client_run(&b);
	elapsed_ns = now_ns() - start;
	/* The peer sees the end of the stream and returns. */
	shutdown(b.fd[0], SHUT_WR);
	pthread_join(peer, NULL);
	cpu = cpu_us() - cpu0;
	if (err || b.peer_err || !b.ops) {
		fprintf(stderr, "sxunixbench: %s\n", strerror(-(err ? err : b.peer_err ? b.peer_err : -EIO)));
		return 1;
	}
	if (b.pattern == PATTERN_RR)
		printf("%.2f,Trans/s,%.0f,%.0f,%.3f\n", (double)b.ops * 1e9 / (double)elapsed_ns,
		       hist_quantile(b.hist, b.ops, 0.50), hist_quantile(b.hist, b.ops, 0.99),
		       (double)cpu / (double)b.ops);
	else
		printf("%.2f,10^6bits/s,%.0f,%.0f,%.3f\n", (double)b.bytes * 8e3 / (double)elapsed_ns,
		       hist_quantile(b.hist, b.ops, 0.50), hist_quantile(b.hist, b.ops, 0.99),
		       (double)cpu / ((double)b.bytes / 1024.0));
	close(b.fd[0]);
	close(b.fd[1]);
	free(b.hist);
	return 0;
}
