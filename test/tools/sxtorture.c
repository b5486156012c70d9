// SPDX-License-Identifier: Apache-2.0
/*
 * sxtorture: proves that payload crossing TCP connections which sockvx may
 * redirect between local sockets (sockops/sk_msg) is never lost, reordered
 * or corrupted, and that applications never see spurious errors.
 *
 * The client runs N connections, C at a time. Each starts with a 40-byte
 * header from the client that fixes everything else: the direction(s) of
 * transfer and their sizes, the close pattern and which side leads it, and
 * each side's I/O style. The payload is an xorshift64 stream seeded by
 * (seed, connection id, sending side), so a receiver regenerates what it
 * should get and compares the SHA-256 of that with the SHA-256 of what it got.
 * Every failure is classified and counted; only the first failure of a
 * connection side counts, as later ones are its echoes.
 *
 * Two control connections use the same header: HELLO (the client waits
 * until the server listens) and DONE (after the last connection the server
 * waits for its connections to end, sends its counters back and exits).
 */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <openssl/evp.h>

#define HDR_MAGIC	 0x53585431u /* "SXT1" */
#define HDR_SIZE	 40
#define REPORT_MAGIC	 0x5358545245504f52ull /* "SXTREPOR" */
#define IO_BUF		 (256 * 1024)	       /* largest single send or recv */
#define SMALL_WRITE_MAX	 255 /* small-writes: 1..255 bytes per send, under Nagle */
#define HANG_SECS	 30		       /* no progress for this long is a hang */
#define DRAIN_SECS	 45 /* at DONE the server waits this long for its connections */
#define DONE_WAIT_SECS	 90 /* the client waits this long for the report */
#define HELLO_SECS	 10 /* the client waits this long for the server to listen */
#define SERVER_LIFETIME	 600
#define MAX_CONCURRENCY	 256
#define MAX_SERVER_CONNS 1024
#define MAX_PAYLOAD	 (1ull << 32)
#define DEFAULT_MAX_SIZE (8ull << 20)
#define ACK_BYTE	 0xa5
#define ERRNO_SLOTS	 256 /* slot 0 collects errnos without a name */
#define DEFAULT_LOG_LINES 100
#define THREAD_STACK	 (512 * 1024)

enum msg_type { MSG_HELLO, MSG_DATA, MSG_DONE, MSG_NR };
enum mode { MODE_UP, MODE_DOWN, MODE_BOTH, MODE_NR };
enum close_pattern { CLOSE_FIN, CLOSE_HALF, CLOSE_RECV_FIRST, CLOSE_ABORT, CLOSE_NR };
enum io_style { IO_BLOCK, IO_EPOLL, IO_RANDOM, IO_SMALL, IO_NR };
enum side { SIDE_CLIENT, SIDE_SERVER };

/* Tags that keep the PRNG streams of one connection independent. */
enum seed_tag { TAG_PLAN, TAG_PAYLOAD, TAG_CHUNKS = TAG_PAYLOAD + 2 };

/* MSG_NR: a server connection whose header has not arrived yet */
static const char *const type_names[MSG_NR + 1] = { "HELLO", "data", "DONE", "new" };
static const char *const mode_names[MODE_NR] = { "upload", "download", "both" };
static const char *const close_names[CLOSE_NR] = { "fin", "half-close", "receiver-first",
						   "abort" };
static const char *const io_names[IO_NR] = { "blocking", "epoll", "random-sizes", "small-writes" };
static const char *const side_names[2] = { "client", "server" };

enum counter {
	C_CONNS,
	C_BYTES,
	C_MISMATCH,
	C_SPURIOUS_EAGAIN,
	C_PREMATURE_EOF,
	C_UNEXPECTED,
	C_RESETS,
	C_HANGS,
	C_NR
};

static const char *const counter_names[C_NR] = {
	[C_CONNS] = "conns",
	[C_BYTES] = "bytes_verified",
	[C_MISMATCH] = "mismatches",
	[C_SPURIOUS_EAGAIN] = "spurious_eagain",
	[C_PREMATURE_EOF] = "premature_eof",
	[C_UNEXPECTED] = "unexpected_errors",
	[C_RESETS] = "resets",
	[C_HANGS] = "hangs",
};

#define ALL_IO	  ((1u << IO_NR) - 1)
#define ALL_CLOSE ((1u << CLOSE_NR) - 1)

/* spurious EAGAINs by (client, server) I/O style; slot 0: connections without a data header */
#define STYLE_SLOTS (1 + IO_NR * IO_NR)

#define FAILURE_COUNTERS                                                                           \
	(1u << C_MISMATCH | 1u << C_SPURIOUS_EAGAIN | 1u << C_PREMATURE_EOF | 1u << C_UNEXPECTED | \
	 1u << C_HANGS)

struct stats {
	uint64_t v[C_NR];
	uint64_t errnos[ERRNO_SLOTS]; /* unexpected errors by errno */
	uint64_t eagain_styles[STYLE_SLOTS];
};

#define REPORT_SIZE (8 * (1 + C_NR + ERRNO_SLOTS + STYLE_SLOTS))

struct hdr {
	uint8_t type, mode, close, leader;
	uint8_t io[2]; /* I/O style of each side */
	uint32_t id;
	uint64_t seed;
	uint64_t len[2]; /* payload bytes each side sends */
};

/* A byte stream cut from xorshift64 words: any chunking yields the same bytes. */
struct stream {
	uint64_t state;
	uint64_t word; /* rest of the current word, next byte lowest */
	unsigned int left;
};

struct verifier {
	struct stream expect;
	EVP_MD_CTX *want, *got; /* SHA-256 of the expected and of the received bytes */
	uint64_t len, done;
	int64_t first_bad;	/* offset of the first wrong byte, -1 if none (diagnostics) */
	unsigned char *scratch; /* expected bytes of the current chunk */
};

struct conn {
	int fd;
	int ep;		    /* epoll instance for the epoll style, else -1 */
	uint32_t ep_events; /* events registered with ep */
	enum side side;
	struct hdr h; /* type MSG_NR until known */
	atomic_bool failed;

	struct stream tx;
	uint64_t tx_len, tx_done, tx_rng;
	unsigned char *txbuf;
	size_t tx_off, tx_end; /* unsent part of the current chunk */
	bool tx_complete;

	struct verifier rx;
	uint64_t rx_rng;
	unsigned char *rxbuf;
	bool rx_complete;
};

struct endpoint {
	struct sockaddr_storage addr;
	socklen_t len;
};

struct client_cfg {
	struct endpoint ep;
	uint64_t conns, max_size, seed;
	unsigned int concurrency;
	unsigned int duration_limit; /* seconds, 0 for none */
	/* the I/O styles and close patterns to draw from, as masks of their indexes */
	unsigned int io_mask, close_mask;
	double start;
	atomic_uint_fast64_t next_id;
	atomic_bool limit_hit;
};

enum { IO_FAILED = -1, IO_AGAIN = -2, IO_RESET = -3 };

static struct stats g_stats;
static pthread_mutex_t g_stats_lock = PTHREAD_MUTEX_INITIALIZER;
static const char *g_role = "client";
static atomic_uint g_log_lines;
static unsigned int g_log_limit = DEFAULT_LOG_LINES; /* 0: log every failure */

static struct {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	unsigned int active;  /* accepted connections whose thread still runs */
	atomic_bool finished; /* the DONE exchange is over */
} g_srv = { .lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER };

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* ---- PRNG ---------------------------------------------------------------- */

static uint64_t mix64(uint64_t z)
{
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static uint64_t derive_seed(uint64_t seed, uint32_t id, unsigned int tag)
{
	uint64_t s = mix64(mix64(seed + 0x9e3779b97f4a7c15ull) ^ ((uint64_t)id << 8 | tag));

	return s ? s : 1; /* xorshift64 stays at zero forever */
}

static uint64_t xorshift64(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return *s = x;
}

static uint64_t rng_below(uint64_t *s, uint64_t n)
{
	return xorshift64(s) % n;
}

/* One bit index of a nonzero mask; with all n low bits set, the same as rng_below(s, n). */
static unsigned int rng_pick(uint64_t *s, unsigned int mask)
{
	for (uint64_t i = rng_below(s, __builtin_popcount(mask)); i; i--)
		mask &= mask - 1;
	return __builtin_ctz(mask);
}

/*
 * A size in [1, max] whose octave is uniform, so that 10-byte and
 * 10-megabyte sizes are about as frequent (no libm on the link line).
 */
static uint64_t log_uniform(uint64_t *s, uint64_t max)
{
	unsigned int octaves = 64 - __builtin_clzll(max);
	uint64_t lo = 1ull << rng_below(s, octaves);
	uint64_t hi = lo * 2 - 1 < max ? lo * 2 - 1 : max;

	return lo + rng_below(s, hi - lo + 1);
}

static void stream_fill(struct stream *g, unsigned char *p, size_t n)
{
	for (; n && g->left; n--, g->left--, g->word >>= 8)
		*p++ = (unsigned char)g->word;
	for (; n >= 8; n -= 8, p += 8) {
		uint64_t w = htole64(xorshift64(&g->state));

		memcpy(p, &w, 8);
	}
	if (n) {
		g->word = xorshift64(&g->state);
		g->left = 8;
		for (; n; n--, g->left--, g->word >>= 8)
			*p++ = (unsigned char)g->word;
	}
}

/* ---- counters and log -------------------------------------------------- */

/* detail: the errno of an unexpected error, the style slot of a spurious EAGAIN */
static void stats_add(enum counter k, uint64_t n, int detail)
{
	bool named = detail > 0 && detail < ERRNO_SLOTS && strerrorname_np(detail);

	pthread_mutex_lock(&g_stats_lock);
	g_stats.v[k] += n;
	if (k == C_UNEXPECTED)
		g_stats.errnos[named ? detail : 0] += n;
	else if (k == C_SPURIOUS_EAGAIN)
		g_stats.eagain_styles[detail] += n;
	pthread_mutex_unlock(&g_stats_lock);
}

static struct stats stats_snapshot(void)
{
	struct stats s;

	pthread_mutex_lock(&g_stats_lock);
	s = g_stats;
	pthread_mutex_unlock(&g_stats_lock);
	return s;
}

static bool stats_failed(const struct stats *s)
{
	for (int k = 0; k < C_NR; k++)
		if ((FAILURE_COUNTERS & 1u << k) && s->v[k])
			return true;
	return false;
}

/*
 * Failures may come by the thousand when something is broken: log the first
 * ones (--log-lines). A harness that matches one side's failures with the
 * other's needs them all.
 */
static __attribute__((format(printf, 1, 2))) void log_msg(const char *fmt, ...)
{
	unsigned int n = atomic_fetch_add(&g_log_lines, 1);
	char msg[512];
	va_list ap;

	if (g_log_limit && n > g_log_limit)
		return;
	if (g_log_limit && n == g_log_limit) {
		fprintf(stderr, "sxtorture %s: further failures are counted, not logged\n", g_role);
		return;
	}
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fprintf(stderr, "sxtorture %s: %s\n", g_role, msg);
}

/* ---- header and report --------------------------------------------------- */

static void put_be32(unsigned char *p, uint32_t v)
{
	v = htobe32(v);
	memcpy(p, &v, 4);
}

static void put_be64(unsigned char *p, uint64_t v)
{
	v = htobe64(v);
	memcpy(p, &v, 8);
}

static uint32_t get_be32(const unsigned char *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return be32toh(v);
}

static uint64_t get_be64(const unsigned char *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return be64toh(v);
}

static void hdr_encode(const struct hdr *h, unsigned char *p)
{
	memset(p, 0, HDR_SIZE);
	put_be32(p, HDR_MAGIC);
	p[4] = h->type;
	p[5] = h->mode;
	p[6] = h->close;
	p[7] = h->leader;
	p[8] = h->io[SIDE_CLIENT];
	p[9] = h->io[SIDE_SERVER];
	put_be32(p + 12, h->id);
	put_be64(p + 16, h->seed);
	put_be64(p + 24, h->len[SIDE_CLIENT]);
	put_be64(p + 32, h->len[SIDE_SERVER]);
}

/* Returns false unless the bytes are a header this tool could have sent. */
static bool hdr_decode(const unsigned char *p, struct hdr *out)
{
	struct hdr h = {
		.type = p[4],
		.mode = p[5],
		.close = p[6],
		.leader = p[7],
		.io = { p[8], p[9] },
		.id = get_be32(p + 12),
		.seed = get_be64(p + 16),
		.len = { get_be64(p + 24), get_be64(p + 32) },
	};
	bool up = h.len[SIDE_CLIENT] > 0, down = h.len[SIDE_SERVER] > 0;

	if (get_be32(p) != HDR_MAGIC || h.type >= MSG_NR)
		return false;
	if (h.type == MSG_DATA &&
	    (h.mode >= MODE_NR || h.close >= CLOSE_NR || h.leader > SIDE_SERVER ||
	     h.io[0] >= IO_NR || h.io[1] >= IO_NR || h.len[0] > MAX_PAYLOAD ||
	     h.len[1] > MAX_PAYLOAD || up != (h.mode != MODE_DOWN) || down != (h.mode != MODE_UP)))
		return false;
	*out = h;
	return true;
}

static void report_encode(const struct stats *s, unsigned char *p)
{
	put_be64(p, REPORT_MAGIC);
	for (int k = 0; k < C_NR; k++)
		put_be64(p + 8 * (1 + k), s->v[k]);
	for (int e = 0; e < ERRNO_SLOTS; e++)
		put_be64(p + 8 * (1 + C_NR + e), s->errnos[e]);
	for (int i = 0; i < STYLE_SLOTS; i++)
		put_be64(p + 8 * (1 + C_NR + ERRNO_SLOTS + i), s->eagain_styles[i]);
}

static bool report_decode(const unsigned char *p, struct stats *s)
{
	if (get_be64(p) != REPORT_MAGIC)
		return false;
	for (int k = 0; k < C_NR; k++)
		s->v[k] = get_be64(p + 8 * (1 + k));
	for (int e = 0; e < ERRNO_SLOTS; e++)
		s->errnos[e] = get_be64(p + 8 * (1 + C_NR + e));
	for (int i = 0; i < STYLE_SLOTS; i++)
		s->eagain_styles[i] = get_be64(p + 8 * (1 + C_NR + ERRNO_SLOTS + i));
	return true;
}

/* ---- connection failures ----------------------------------------------- */

static void conn_describe(const struct conn *c, char *buf, size_t size)
{
	const struct hdr *h = &c->h;

	if (h->type != MSG_DATA) {
		snprintf(buf, size, "%s connection", type_names[h->type]);
		return;
	}
	snprintf(buf, size,
		 "conn %" PRIu32 " (%s %" PRIu64 "/%" PRIu64 " bytes up/down, close %s led by %s, "
		 "io %s/%s)",
		 h->id, mode_names[h->mode], h->len[SIDE_CLIENT], h->len[SIDE_SERVER],
		 close_names[h->close], side_names[h->leader], io_names[h->io[SIDE_CLIENT]],
		 io_names[h->io[SIDE_SERVER]]);
}

/* The eagain_styles slot of a connection. */
static int style_slot(const struct hdr *h)
{
	return h->type == MSG_DATA ? 1 + h->io[SIDE_CLIENT] * IO_NR + h->io[SIDE_SERVER] : 0;
}

/*
 * Counts the first failure of this connection side and wakes a sibling
 * thread blocked on the socket; what follows is an echo and is not counted.
 * Returns -1 so callers can `return conn_fail(...)`.
 */
static __attribute__((format(printf, 4, 5))) int conn_fail(struct conn *c, enum counter k, int err,
							   const char *fmt, ...)
{
	char what[256], msg[256];
	va_list ap;

	if (atomic_exchange(&c->failed, true))
		return -1;
	stats_add(k, 1, k == C_SPURIOUS_EAGAIN ? style_slot(&c->h) : err);
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	conn_describe(c, what, sizeof(what));
	log_msg("%s: %s", what, msg);
	shutdown(c->fd, SHUT_RDWR);
	return -1;
}

/* Classifies a failed socket call that blocked for secs. */
static int io_fail(struct conn *c, const char *op, int err, double secs)
{
	/* SO_RCVTIMEO/SO_SNDTIMEO (HANG_SECS) end a stalled call this way; allow timer slack */
	bool timed_out = secs >= HANG_SECS - 1;

	if ((err == EAGAIN || err == EINPROGRESS) && timed_out)
		return conn_fail(c, C_HANGS, 0, "%s: no progress for %.0f s", op, secs);
	if (err == EAGAIN)
		return conn_fail(c, C_SPURIOUS_EAGAIN, 0,
				 "%s: EAGAIN on a blocking socket after %.3f s", op, secs);
	return conn_fail(c, C_UNEXPECTED, err, "%s: %s", op, strerror(err));
}

/* ---- socket primitives --------------------------------------------------- */

/*
 * One recv: bytes (0 at EOF), IO_AGAIN (nonblocking), IO_RESET (if reset_ok)
 * or IO_FAILED. EINTR is retried: even without signal handlers, calls with a
 * socket timeout fail with it after SIGSTOP/SIGCONT.
 */
static ssize_t recv_once(struct conn *c, void *buf, size_t len, bool reset_ok)
{
	for (;;) {
		double t0 = now();
		ssize_t n = recv(c->fd, buf, len, 0);
		int err = errno;

		if (n >= 0)
			return n;
		if (err == EINTR)
			continue;
		if (err == EAGAIN && c->ep >= 0)
			return IO_AGAIN;
		if (err == ECONNRESET && reset_ok)
			return IO_RESET;
		return io_fail(c, "recv", err, now() - t0);
	}
}

/* One send: bytes, IO_AGAIN (nonblocking) or IO_FAILED. */
static ssize_t send_once(struct conn *c, const void *buf, size_t len)
{
	for (;;) {
		double t0 = now();
		ssize_t n = send(c->fd, buf, len, MSG_NOSIGNAL);
		int err = errno;

		if (n >= 0)
			return n;
		if (err == EINTR)
			continue;
		if (err == EAGAIN && c->ep >= 0)
			return IO_AGAIN;
		return io_fail(c, "send", err, now() - t0);
	}
}

/* Waits until the nonblocking socket reports one of events (or an error). */
static int wait_ready(struct conn *c, uint32_t events, double deadline, const char *op)
{
	struct epoll_event ev = { .events = events };

	if (events != c->ep_events) {
		if (epoll_ctl(c->ep, EPOLL_CTL_MOD, c->fd, &ev))
			return conn_fail(c, C_UNEXPECTED, errno, "epoll_ctl: %s", strerror(errno));
		c->ep_events = events;
	}
	for (;;) {
		double left = deadline - now();
		int n;

		/* also catches a socket reported ready again and again with nothing to do */
		if (left <= 0)
			return conn_fail(c, C_HANGS, 0, "%s: no progress for %d s", op, HANG_SECS);
		n = epoll_wait(c->ep, &ev, 1, (int)(left * 1000) + 1);
		if (n > 0)
			return 0;
		if (n < 0 && errno != EINTR)
			return conn_fail(c, C_UNEXPECTED, errno, "epoll_wait: %s", strerror(errno));
	}
}

/* recv that also waits on nonblocking sockets. */
static ssize_t sock_recv(struct conn *c, void *buf, size_t len, bool reset_ok)
{
	double deadline = now() + HANG_SECS;
	ssize_t n;

	while ((n = recv_once(c, buf, len, reset_ok)) == IO_AGAIN)
		if (wait_ready(c, EPOLLIN, deadline, "recv"))
			return IO_FAILED;
	return n;
}

static int send_all(struct conn *c, const void *buf, size_t len)
{
	const unsigned char *p = buf;
	double deadline = now() + HANG_SECS;

	while (len) {
		ssize_t n = send_once(c, p, len);

		if (n == IO_AGAIN) {
			if (wait_ready(c, EPOLLOUT, deadline, "send"))
				return -1;
			continue;
		}
		if (n < 0)
			return -1;
		p += n;
		len -= n;
		deadline = now() + HANG_SECS;
	}
	return 0;
}

static int recv_exact(struct conn *c, void *buf, size_t len, const char *what)
{
	unsigned char *p = buf;

	while (len) {
		ssize_t n = sock_recv(c, p, len, false);

		if (n < 0)
			return -1;
		if (n == 0)
			return conn_fail(c, C_PREMATURE_EOF, 0, "EOF inside the %s", what);
		p += n;
		len -= n;
	}
	return 0;
}

/* The peer has sent everything: the next read must be EOF (or, if reset_ok, a reset). */
static int expect_eof(struct conn *c, bool reset_ok)
{
	unsigned char b;
	ssize_t n = sock_recv(c, &b, 1, reset_ok);

	if (n == IO_RESET) {
		stats_add(C_RESETS, 1, 0);
		return 0;
	}
	if (n < 0)
		return -1;
	if (n > 0)
		return conn_fail(c, C_MISMATCH, 0, "data after the last expected byte");
	return 0;
}

static int set_timeouts(int fd, int secs)
{
	struct timeval tv = { .tv_sec = secs };

	return setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) ||
	       setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

/* ---- payload ----------------------------------------------------------- */

static int verifier_init(struct verifier *v, uint64_t seed, uint64_t len)
{
	v->expect = (struct stream){ .state = seed };
	v->len = len;
	v->first_bad = -1;
	v->want = EVP_MD_CTX_new();
	v->got = EVP_MD_CTX_new();
	v->scratch = malloc(IO_BUF);
	if (!v->want || !v->got || !v->scratch || !EVP_DigestInit_ex(v->want, EVP_sha256(), NULL) ||
	    !EVP_DigestInit_ex(v->got, EVP_sha256(), NULL))
		return -1;
	return 0;
}

static int verifier_feed(struct verifier *v, const unsigned char *p, size_t n)
{
	stream_fill(&v->expect, v->scratch, n);
	if (v->first_bad < 0 && memcmp(v->scratch, p, n)) {
		size_t i = 0;

		while (v->scratch[i] == p[i])
			i++;
		v->first_bad = (int64_t)(v->done + i);
	}
	v->done += n;
	return EVP_DigestUpdate(v->want, v->scratch, n) && EVP_DigestUpdate(v->got, p, n) ? 0 : -1;
}

static int rx_verify(struct conn *c)
{
	struct verifier *v = &c->rx;
	unsigned char want[EVP_MAX_MD_SIZE], got[EVP_MAX_MD_SIZE];
	unsigned int want_len, got_len;

	if (!EVP_DigestFinal_ex(v->want, want, &want_len) ||
	    !EVP_DigestFinal_ex(v->got, got, &got_len))
		return conn_fail(c, C_UNEXPECTED, 0, "SHA-256 failed");
	if (want_len != got_len || memcmp(want, got, want_len))
		return conn_fail(c, C_MISMATCH, 0,
				 "SHA-256 of the %" PRIu64 " bytes received differs from the "
				 "expected one; first wrong byte at offset %" PRId64,
				 v->done, v->first_bad);
	stats_add(C_BYTES, v->len, 0);
	return 0;
}

/*
 * Bytes for the next send (tx) or recv. small-writes sends what a chatty
 * protocol without its own buffering would, and reads in full buffers.
 */
static size_t chunk_size(const struct conn *c, uint64_t *rng, uint64_t left, bool tx)
{
	enum io_style io = c->h.io[c->side];
	uint64_t n = IO_BUF;

	if (io == IO_RANDOM)
		n = log_uniform(rng, IO_BUF);
	else if (io == IO_SMALL && tx)
		n = 1 + rng_below(rng, SMALL_WRITE_MAX);
	return n < left ? n : left;
}

static int tx_finish(struct conn *c)
{
	c->tx_complete = true;
	/* half-close: the FIN follows the last byte at once */
	if (c->h.close == CLOSE_HALF && shutdown(c->fd, SHUT_WR))
		return conn_fail(c, C_UNEXPECTED, errno, "shutdown: %s", strerror(errno));
	return 0;
}

/*
 * The pumps move payload until it is all done or, on a nonblocking socket,
 * until the socket would block. They return 1 if bytes moved, 0 if none,
 * -1 on failure.
 */
static int tx_pump(struct conn *c)
{
	int moved = 0;

	if (c->tx_complete)
		return 0;
	while (c->tx_done < c->tx_len) {
		ssize_t n;

		if (c->tx_off == c->tx_end) {
			c->tx_off = 0;
			c->tx_end = chunk_size(c, &c->tx_rng, c->tx_len - c->tx_done, true);
			stream_fill(&c->tx, c->txbuf, c->tx_end);
		}
		/* The analyzer loses track of txbuf, which the connection's teardown frees. */
		n = send_once(c, c->txbuf + c->tx_off, c->tx_end - c->tx_off); // NOLINT(clang-analyzer-unix.Malloc)
		if (n == IO_AGAIN)
			return moved;
		if (n < 0)
			return -1;
		c->tx_off += n;
		c->tx_done += n;
		moved = 1;
	}
	return tx_finish(c) ? -1 : moved;
}

static int rx_pump(struct conn *c)
{
	struct verifier *v = &c->rx;
	int moved = 0;

	if (c->rx_complete)
		return 0;
	while (v->done < v->len) {
		/* never read past the payload: what follows is checked by the close pattern */
		size_t want = chunk_size(c, &c->rx_rng, v->len - v->done, false);
		ssize_t n = recv_once(c, c->rxbuf, want, false);

		if (n == IO_AGAIN)
			return moved;
		if (n < 0)
			return -1;
		if (n == 0)
			return conn_fail(c, C_PREMATURE_EOF, 0,
					 "EOF after %" PRIu64 " of %" PRIu64 " bytes", v->done,
					 v->len);
		if (verifier_feed(v, c->rxbuf, n))
			return conn_fail(c, C_UNEXPECTED, 0, "SHA-256 failed");
		moved = 1;
	}
	c->rx_complete = true;
	return rx_verify(c) ? -1 : moved;
}

static void *tx_thread(void *arg)
{
	return tx_pump(arg) < 0 ? arg : NULL;
}

static int spawn(pthread_t *t, void *(*fn)(void *), void *arg, bool detached)
{
	pthread_attr_t attr;
	int err;

	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, THREAD_STACK);
	if (detached)
		pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	err = pthread_create(t, &attr, fn, arg);
	pthread_attr_destroy(&attr);
	return err;
}

static int exchange_blocking(struct conn *c)
{
	pthread_t t;
	void *tx_failed;
	int err, rx;

	if (!c->tx_len || !c->rx.len)
		return tx_pump(c) < 0 || rx_pump(c) < 0 ? -1 : 0;
	/* both ways at once: a sender thread, so neither side stalls on full buffers */
	err = spawn(&t, tx_thread, c, false);
	if (err)
		return conn_fail(c, C_UNEXPECTED, err, "pthread_create: %s", strerror(err));
	rx = rx_pump(c);
	pthread_join(t, &tx_failed);
	return rx < 0 || tx_failed ? -1 : 0;
}

static int exchange_epoll(struct conn *c)
{
	double deadline = now() + HANG_SECS;

	for (;;) {
		int rx = rx_pump(c);
		int tx = rx < 0 ? -1 : tx_pump(c);
		uint32_t want = (c->rx_complete ? 0 : EPOLLIN) | (c->tx_complete ? 0 : EPOLLOUT);

		if (tx < 0)
			return -1;
		if (!want)
			return 0;
		if (rx || tx)
			deadline = now() + HANG_SECS;
		/* each pump ran until EAGAIN: waiting now cannot miss anything */
		if (wait_ready(c, want, deadline, "exchange"))
			return -1;
	}
}

/* ---- close patterns ------------------------------------------------------ */

/*
 * A side closing without waiting for EOF can still catch bytes beyond the
 * payload that have already arrived.
 */
static int no_extra_data(struct conn *c)
{
	unsigned char b;
	ssize_t n = recv(c->fd, &b, 1, MSG_DONTWAIT);

	if (n > 0)
		return conn_fail(c, C_MISMATCH, 0, "data after the last expected byte");
	if (n < 0 && errno != EAGAIN)
		return conn_fail(c, C_UNEXPECTED, errno, "recv: %s", strerror(errno));
	return 0;
}

/*
 * ABORT: the follower, having read everything, sends an ack byte; the
 * leader reads it, so it knows nothing is in flight, and resets the
 * connection. The follower may then see EOF or ECONNRESET, nothing else.
 */
static int abort_lead(struct conn *c)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };
	unsigned char ack;

	if (recv_exact(c, &ack, 1, "ack"))
		return -1;
	if (ack != ACK_BYTE)
		return conn_fail(c, C_MISMATCH, 0, "ack byte 0x%02x instead of 0x%02x", ack,
				 ACK_BYTE);
	if (no_extra_data(c))
		return -1;
	if (setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)))
		return conn_fail(c, C_UNEXPECTED, errno, "SO_LINGER: %s", strerror(errno));
	return 0; /* the close that follows sends the RST */
}

static int abort_follow(struct conn *c)
{
	unsigned char ack = ACK_BYTE;

	return send_all(c, &ack, 1) || expect_eof(c, true) ? -1 : 0;
}

/*
 * Runs after the exchange; the caller's close follows. A side closing first
 * has read all it expects and the peer sends nothing more, so its close is
 * a FIN, never an RST (except in ABORT, on purpose).
 */
static int epilogue(struct conn *c)
{
	bool leader = c->h.leader == c->side;

	switch (c->h.close) {
	case CLOSE_FIN:
		/*
		 * The sender closes right after its last write; a pure receiver
		 * checks the FIN. Both ways at once, each side closes when done.
		 */
		return c->tx_len ? no_extra_data(c) : expect_eof(c, false);
	case CLOSE_HALF:
		/* our FIN went out with the last byte (tx_finish) */
		return expect_eof(c, false);
	case CLOSE_RECV_FIRST:
		return leader ? no_extra_data(c) : expect_eof(c, false);
	default:
		return leader ? abort_lead(c) : abort_follow(c);
	}
}

/* ---- connections ------------------------------------------------------- */

static void conn_init(struct conn *c, enum side side, int fd)
{
	memset(c, 0, sizeof(*c));
	c->fd = fd;
	c->ep = -1;
	c->side = side;
	c->h.type = MSG_NR;
	atomic_init(&c->failed, false);
}

static void conn_destroy(struct conn *c)
{
	if (c->ep >= 0)
		close(c->ep);
	if (c->fd >= 0)
		close(c->fd);
	free(c->txbuf);
	free(c->rxbuf);
	free(c->rx.scratch);
	EVP_MD_CTX_free(c->rx.want);
	EVP_MD_CTX_free(c->rx.got);
}

static int make_nonblocking(struct conn *c)
{
	struct epoll_event ev = { .events = 0 };
	int flags = fcntl(c->fd, F_GETFL);

	if (flags < 0 || fcntl(c->fd, F_SETFL, flags | O_NONBLOCK))
		return conn_fail(c, C_UNEXPECTED, errno, "fcntl: %s", strerror(errno));
	c->ep = epoll_create1(EPOLL_CLOEXEC);
	if (c->ep < 0 || epoll_ctl(c->ep, EPOLL_CTL_ADD, c->fd, &ev))
		return conn_fail(c, C_UNEXPECTED, errno, "epoll: %s", strerror(errno));
	return 0;
}

/* Sets c up for the data connection its header describes. */
static int conn_prepare(struct conn *c)
{
	const struct hdr *h = &c->h;
	enum side peer = c->side == SIDE_CLIENT ? SIDE_SERVER : SIDE_CLIENT;

	c->tx.state = derive_seed(h->seed, h->id, TAG_PAYLOAD + c->side);
	c->tx_len = h->len[c->side];
	c->tx_rng = derive_seed(h->seed, h->id, TAG_CHUNKS + 2 * c->side);
	c->rx_rng = derive_seed(h->seed, h->id, TAG_CHUNKS + 2 * c->side + 1);
	c->txbuf = malloc(IO_BUF);
	c->rxbuf = malloc(IO_BUF);
	if (!c->txbuf || !c->rxbuf ||
	    verifier_init(&c->rx, derive_seed(h->seed, h->id, TAG_PAYLOAD + peer), h->len[peer]))
		return conn_fail(c, C_UNEXPECTED, ENOMEM, "cannot set up buffers or SHA-256");
	return h->io[c->side] == IO_EPOLL ? make_nonblocking(c) : 0;
}

static void run_data(struct conn *c)
{
	if (conn_prepare(c))
		return;
	if ((c->ep >= 0 ? exchange_epoll(c) : exchange_blocking(c)) == 0)
		epilogue(c);
}

/* ---- server ------------------------------------------------------------ */

/* DONE: wait for the other connections to end, then send the counters. */
static void serve_done(struct conn *c)
{
	unsigned char report[REPORT_SIZE];
	struct timespec until;
	struct stats s;
	unsigned int stuck;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += DRAIN_SECS;
	pthread_mutex_lock(&g_srv.lock);
	while (g_srv.active > 1 &&
	       pthread_cond_timedwait(&g_srv.cond, &g_srv.lock, &until) != ETIMEDOUT)
		;
	stuck = g_srv.active - 1;
	pthread_mutex_unlock(&g_srv.lock);
	if (stuck) {
		/* every step has a 30 s limit: these made no progress for longer */
		stats_add(C_HANGS, stuck, 0);
		log_msg("%u connections still open %d s after the client finished", stuck,
			DRAIN_SECS);
	}
	s = stats_snapshot();
	report_encode(&s, report);
	if (!send_all(c, report, sizeof(report))) {
		if (shutdown(c->fd, SHUT_WR))
			conn_fail(c, C_UNEXPECTED, errno, "shutdown: %s", strerror(errno));
		else
			expect_eof(c, false); /* the client has the report */
	}
	atomic_store(&g_srv.finished, true);
}

static void *server_thread(void *arg)
{
	unsigned char raw[HDR_SIZE];
	struct conn c;

	conn_init(&c, SIDE_SERVER, (int)(intptr_t)arg);
	if (set_timeouts(c.fd, HANG_SECS))
		conn_fail(&c, C_UNEXPECTED, errno, "socket timeouts: %s", strerror(errno));
	else if (!recv_exact(&c, raw, sizeof(raw), "header")) {
		if (!hdr_decode(raw, &c.h))
			conn_fail(&c, C_MISMATCH, 0, "malformed header");
		else if (c.h.type == MSG_DATA) {
			stats_add(C_CONNS, 1, 0);
			run_data(&c);
		} else if (c.h.type == MSG_DONE) {
			serve_done(&c);
		}
		/* HELLO: closing is the answer */
	}
	conn_destroy(&c);
	pthread_mutex_lock(&g_srv.lock);
	g_srv.active--;
	pthread_cond_broadcast(&g_srv.cond);
	pthread_mutex_unlock(&g_srv.lock);
	return NULL;
}

/* Accepts one connection into its own thread, if a thread slot is free. */
static void accept_one(int lfd)
{
	struct pollfd p = { .fd = lfd, .events = POLLIN };
	pthread_t t;
	int fd, err;

	pthread_mutex_lock(&g_srv.lock);
	while (g_srv.active >= MAX_SERVER_CONNS)
		pthread_cond_wait(&g_srv.cond, &g_srv.lock);
	pthread_mutex_unlock(&g_srv.lock);
	if (poll(&p, 1, 200) <= 0)
		return;
	fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	if (fd < 0) {
		if (errno != EAGAIN && errno != EINTR) {
			stats_add(C_UNEXPECTED, 1, errno);
			log_msg("accept: %s", strerror(errno));
		}
		return;
	}
	pthread_mutex_lock(&g_srv.lock);
	g_srv.active++;
	pthread_mutex_unlock(&g_srv.lock);
	err = spawn(&t, server_thread, (void *)(intptr_t)fd, true);
	if (err) {
		stats_add(C_UNEXPECTED, 1, err);
		log_msg("pthread_create: %s", strerror(err));
		close(fd);
		pthread_mutex_lock(&g_srv.lock);
		g_srv.active--;
		pthread_mutex_unlock(&g_srv.lock);
	}
}

static int listen_on(const struct endpoint *ep)
{
	int one = 1;
	int fd = socket(ep->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(fd, (const struct sockaddr *)&ep->addr, ep->len) || listen(fd, SOMAXCONN)) {
		fprintf(stderr, "sxtorture server: cannot listen: %s\n", strerror(errno));
		return -1;
	}
	return fd;
}

/* ---- output ------------------------------------------------------------ */

static const char *errno_name(int e)
{
	return e ? strerrorname_np(e) : "other";
}

/* Prints the names whose bit is set in mask, separated by sep. */
static void put_names(FILE *f, const char *const *names, unsigned int mask, const char *sep)
{
	for (unsigned int i = 0, n = 0; mask >> i; i++)
		if (mask & 1u << i)
			fprintf(f, "%s%s", n++ ? sep : "", names[i]);
}

/* Spurious EAGAINs by "client style/server style" of their connection. */
static void json_by_style(FILE *f, const struct stats *s)
{
	fputs(",\"by_style\":{", f);
	for (int i = 0, n = 0; i < STYLE_SLOTS; i++) {
		if (!s->eagain_styles[i])
			continue;
		if (i)
			fprintf(f, "%s\"%s/%s\"", n++ ? "," : "", io_names[(i - 1) / IO_NR],
				io_names[(i - 1) % IO_NR]);
		else
			fprintf(f, "%s\"other\"", n++ ? "," : "");
		fprintf(f, ":%" PRIu64, s->eagain_styles[i]);
	}
	fputc('}', f);
}

static void json_counters(FILE *f, const struct stats *s)
{
	for (int k = 0; k < C_NR; k++) {
		fprintf(f, "%s\"%s\":%" PRIu64, k ? "," : "", counter_names[k], s->v[k]);
		if (k == C_SPURIOUS_EAGAIN)
			json_by_style(f, s);
		if (k != C_UNEXPECTED)
			continue;
		fputs(",\"errors\":{", f);
		for (int e = 0, n = 0; e < ERRNO_SLOTS; e++)
			if (s->errnos[e])
				fprintf(f, "%s\"%s\":%" PRIu64, n++ ? "," : "", errno_name(e),
					s->errnos[e]);
		fputc('}', f);
	}
}

static void text_counters(FILE *f, const struct stats *s)
{
	for (int k = 0; k < C_NR; k++)
		fprintf(f, " %s=%" PRIu64, counter_names[k], s->v[k]);
	for (int e = 0; e < ERRNO_SLOTS; e++)
		if (s->errnos[e])
			fprintf(f, " %s=%" PRIu64, errno_name(e), s->errnos[e]);
}

static void print_server(const struct stats *s, bool ok, double secs, bool json)
{
	FILE *f = json ? stderr : stdout;

	fprintf(f, "sxtorture server: %s", ok ? "PASS" : "FAIL");
	text_counters(f, s);
	fprintf(f, " seconds=%.3f\n", secs);
	if (json) {
		fputc('{', stdout);
		json_counters(stdout, s);
		printf(",\"seconds\":%.3f}\n", secs);
	}
}

/* Totals first, then each side's own view; server is NULL without a report. */
static void print_client(const struct client_cfg *cfg, const struct stats *total,
			 const struct stats *cli, const struct stats *srv, double secs, bool json)
{
	bool limited = atomic_load(&cfg->limit_hit);
	FILE *f = json ? stderr : stdout;

	fprintf(f, "sxtorture client: %s", stats_failed(total) ? "FAIL" : "PASS");
	text_counters(f, total);
	fprintf(f, " seconds=%.3f seed=%" PRIu64, secs, cfg->seed);
	/* a seed replays a run only with the same choices */
	if (cfg->io_mask != ALL_IO) {
		fputs(" io=", f);
		put_names(f, io_names, cfg->io_mask, ",");
	}
	if (cfg->close_mask != ALL_CLOSE) {
		fputs(" close=", f);
		put_names(f, close_names, cfg->close_mask, ",");
	}
	fprintf(f, "%s%s\n", srv ? "" : " (no server report)",
		limited ? " (duration limit hit)" : "");
	if (!json)
		return;
	fputc('{', stdout);
	json_counters(stdout, total);
	printf(",\"seconds\":%.3f,\"seed\":%" PRIu64 ",\"max_size\":%" PRIu64
	       ",\"concurrency\":%u,\"duration_limit_hit\":%s,\"io\":\"",
	       secs, cfg->seed, cfg->max_size, cfg->concurrency, limited ? "true" : "false");
	put_names(stdout, io_names, cfg->io_mask, ",");
	fputs("\",\"close\":\"", stdout);
	put_names(stdout, close_names, cfg->close_mask, ",");
	fputs("\",\"client\":{", stdout);
	json_counters(stdout, cli);
	fputs("},\"server\":", stdout);
	if (srv) {
		fputc('{', stdout);
		json_counters(stdout, srv);
		fputc('}', stdout);
	} else {
		fputs("null", stdout);
	}
	puts("}");
}

static int server_main(const struct endpoint *ep, bool json)
{
	double start = now();
	int lfd = listen_on(ep);
	struct stats s;
	bool ok;

	g_role = "server";
	if (lfd < 0)
		return 2;
	while (!atomic_load(&g_srv.finished)) {
		if (now() - start > SERVER_LIFETIME) {
			unsigned int active;

			pthread_mutex_lock(&g_srv.lock);
			active = g_srv.active;
			pthread_mutex_unlock(&g_srv.lock);
			stats_add(C_HANGS, active, 0);
			log_msg("no DONE from the client within %d s; giving up", SERVER_LIFETIME);
			break;
		}
		accept_one(lfd);
	}
	close(lfd);
	s = stats_snapshot();
	ok = atomic_load(&g_srv.finished) && !stats_failed(&s);
	print_server(&s, ok, now() - start, json);
	return ok ? 0 : 1;
}

/* ---- client ------------------------------------------------------------ */

/*
 * Everything about connection id follows from (seed, id) and the allowed
 * close patterns and I/O styles: a run can be replayed. Restricting them
 * changes no other choice.
 */
static void plan_conn(const struct client_cfg *cfg, uint32_t id, struct hdr *h)
{
	uint64_t r = derive_seed(cfg->seed, id, TAG_PLAN);

	*h = (struct hdr){ .type = MSG_DATA, .id = id, .seed = cfg->seed };
	h->mode = rng_below(&r, MODE_NR);
	h->close = rng_pick(&r, cfg->close_mask);
	h->leader = rng_below(&r, 2);
	h->io[SIDE_CLIENT] = rng_pick(&r, cfg->io_mask);
	h->io[SIDE_SERVER] = rng_pick(&r, cfg->io_mask);
	if (h->mode != MODE_DOWN)
		h->len[SIDE_CLIENT] = log_uniform(&r, cfg->max_size);
	if (h->mode != MODE_UP)
		h->len[SIDE_SERVER] = log_uniform(&r, cfg->max_size);
	/* with one direction, "the receiver closes first" names the leader */
	if (h->close == CLOSE_RECV_FIRST && h->mode != MODE_BOTH)
		h->leader = h->mode == MODE_UP ? SIDE_SERVER : SIDE_CLIENT;
}

/* Connects and sends the header, both blocking with the hang timeouts set. */
static int conn_open(struct conn *c, const struct endpoint *ep, int timeout)
{
	unsigned char raw[HDR_SIZE];
	double t0;

	c->fd = socket(ep->addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->fd < 0 || set_timeouts(c->fd, timeout))
		return conn_fail(c, C_UNEXPECTED, errno, "socket: %s", strerror(errno));
	t0 = now();
	if (connect(c->fd, (const struct sockaddr *)&ep->addr, ep->len))
		return io_fail(c, "connect", errno, now() - t0);
	hdr_encode(&c->h, raw);
	return send_all(c, raw, sizeof(raw));
}

static void client_conn(const struct client_cfg *cfg, uint32_t id)
{
	struct conn c;

	conn_init(&c, SIDE_CLIENT, -1);
	plan_conn(cfg, id, &c.h);
	stats_add(C_CONNS, 1, 0);
	if (!conn_open(&c, &cfg->ep, HANG_SECS))
		run_data(&c);
	conn_destroy(&c);
}

static void *client_worker(void *arg)
{
	struct client_cfg *cfg = arg;

	for (;;) {
		uint64_t id;

		if (cfg->duration_limit && now() - cfg->start >= cfg->duration_limit) {
			atomic_store(&cfg->limit_hit, true);
			return NULL;
		}
		id = atomic_fetch_add(&cfg->next_id, 1);
		if (id >= cfg->conns)
			return NULL;
		client_conn(cfg, (uint32_t)id);
	}
}

/* One HELLO exchange: the server reads the header and closes. Returns an errno. */
static int say_hello(const struct endpoint *ep)
{
	struct hdr h = { .type = MSG_HELLO };
	unsigned char raw[HDR_SIZE], b;
	int fd, err = 0;
	ssize_t n;

	hdr_encode(&h, raw);
	fd = socket(ep->addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return errno;
	if (set_timeouts(fd, HELLO_SECS) ||
	    connect(fd, (const struct sockaddr *)&ep->addr, ep->len))
		err = errno;
	else if ((n = send(fd, raw, sizeof(raw), MSG_NOSIGNAL)) != sizeof(raw))
		err = n < 0 ? errno : EPROTO;
	else if ((n = recv(fd, &b, 1, 0)) != 0)
		err = n < 0 ? errno : EPROTO;
	close(fd);
	return err;
}

/* Waits for the server to listen, so that starting both at once is not a failure. */
static int await_server(const struct endpoint *ep)
{
	double until = now() + HELLO_SECS;

	for (;;) {
		int err = say_hello(ep);

		if (!err)
			return 0;
		if (err != ECONNREFUSED || now() > until) {
			fprintf(stderr, "sxtorture client: server unreachable: %s\n",
				strerror(err));
			return -1;
		}
		usleep(100 * 1000);
	}
}

/* The DONE exchange; a failure counts as a client error. */
static int fetch_report(const struct client_cfg *cfg, struct stats *srv)
{
	unsigned char rep[REPORT_SIZE];
	struct conn c;
	int r;

	conn_init(&c, SIDE_CLIENT, -1);
	c.h = (struct hdr){ .type = MSG_DONE, .seed = cfg->seed };
	r = conn_open(&c, &cfg->ep, DONE_WAIT_SECS) ||
	    recv_exact(&c, rep, sizeof(rep), "server report") || expect_eof(&c, false);
	if (!r && !report_decode(rep, srv))
		r = conn_fail(&c, C_UNEXPECTED, EPROTO, "malformed server report");
	conn_destroy(&c);
	return r ? -1 : 0;
}

static int client_main(struct client_cfg *cfg, bool json)
{
	pthread_t workers[MAX_CONCURRENCY];
	struct stats cli, srv = { 0 }, total;
	bool have_srv;
	double secs;

	if (await_server(&cfg->ep))
		return 2;
	cfg->start = now();
	for (unsigned int i = 0; i < cfg->concurrency; i++) {
		int err = spawn(&workers[i], client_worker, cfg, false);

		if (err) {
			fprintf(stderr, "sxtorture client: pthread_create: %s\n", strerror(err));
			exit(2);
		}
	}
	for (unsigned int i = 0; i < cfg->concurrency; i++)
		pthread_join(workers[i], NULL);
	secs = now() - cfg->start;

	have_srv = !fetch_report(cfg, &srv);
	cli = stats_snapshot();
	total = cli;
	if (have_srv) {
		for (int k = 0; k < C_NR; k++)
			total.v[k] += k == C_CONNS ? 0 : srv.v[k];
		for (int e = 0; e < ERRNO_SLOTS; e++)
			total.errnos[e] += srv.errnos[e];
		for (int i = 0; i < STYLE_SLOTS; i++)
			total.eagain_styles[i] += srv.eagain_styles[i];
	}
	print_client(cfg, &total, &cli, have_srv ? &srv : NULL, secs, json);
	return stats_failed(&total) ? 1 : 0;
}

/* ---- command line -------------------------------------------------------- */

static void __attribute__((noreturn)) usage(void)
{
	fputs("usage: sxtorture server ADDR PORT [--json] [--log-lines N]\n"
	      "       sxtorture client ADDR PORT --conns N --concurrency C [--max-size BYTES]\n"
	      "                        [--seed S] [--duration-limit SEC] [--io LIST]\n"
	      "                        [--close LIST] [--json] [--log-lines N]\n"
	      "LIST: comma-separated names to draw from, default all\n"
	      "--log-lines: failures logged before counting only (default 100, 0: all)\n"
	      "  --io:    ",
	      stderr);
	put_names(stderr, io_names, ALL_IO, ", ");
	fputs("\n  --close: ", stderr);
	put_names(stderr, close_names, ALL_CLOSE, ", ");
	fputc('\n', stderr);
	exit(2);
}

static uint64_t parse_num(const char *opt, const char *s, uint64_t min, uint64_t max)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (*s == '-' || !*s || *end || errno || v < min || v > max) {
		fprintf(stderr,
			"sxtorture: %s: '%s' is not a number in [%" PRIu64 ", %" PRIu64 "]\n", opt,
			s, min, max);
		exit(2);
	}
	return v;
}

/* A comma-separated list of names as a mask of their indexes. */
static unsigned int parse_names(const char *opt, const char *s, const char *const *names,
				unsigned int nr)
{
	unsigned int mask = 0;

	for (;;) {
		size_t len = strcspn(s, ",");
		unsigned int i = 0;

		while (i < nr && (strlen(names[i]) != len || strncmp(s, names[i], len)))
			i++;
		if (i == nr) {
			fprintf(stderr, "sxtorture: %s: '%.*s' is not one of: ", opt, (int)len, s);
			put_names(stderr, names, (1u << nr) - 1, ", ");
			fputc('\n', stderr);
			exit(2);
		}
		mask |= 1u << i;
		if (!s[len])
			return mask;
		s += len + 1;
	}
}

static int resolve(const char *host, const char *port, struct endpoint *ep)
{
	struct addrinfo hints = {
		.ai_socktype = SOCK_STREAM,
		.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV,
	};
	struct addrinfo *ai;
	int r = getaddrinfo(host, port, &hints, &ai);

	if (r) {
		fprintf(stderr, "sxtorture: %s port %s: %s\n", host, port, gai_strerror(r));
		return -1;
	}
	memcpy(&ep->addr, ai->ai_addr, ai->ai_addrlen);
	ep->len = ai->ai_addrlen;
	freeaddrinfo(ai);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "conns", required_argument, NULL, 'n' },
		{ "concurrency", required_argument, NULL, 'c' },
		{ "max-size", required_argument, NULL, 'm' },
		{ "seed", required_argument, NULL, 's' },
		{ "duration-limit", required_argument, NULL, 'd' },
		{ "io", required_argument, NULL, 'i' },
		{ "close", required_argument, NULL, 'x' },
		{ "json", no_argument, NULL, 'j' },
		{ "log-lines", required_argument, NULL, 'l' },
		{ 0 },
	};
	static struct client_cfg cfg = {
		.max_size = DEFAULT_MAX_SIZE,
		.io_mask = ALL_IO,
		.close_mask = ALL_CLOSE,
	};
	bool json = false, client_opts = false;
	struct timespec ts;
	int o;

	clock_gettime(CLOCK_REALTIME, &ts);
	cfg.seed = mix64((uint64_t)ts.tv_sec << 32 ^ (uint64_t)ts.tv_nsec ^ (uint64_t)getpid());
	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		client_opts |= o != 'j' && o != 'l';
		switch (o) {
		case 'n':
			cfg.conns = parse_num("--conns", optarg, 1, UINT32_MAX);
			break;
		case 'c':
			cfg.concurrency = parse_num("--concurrency", optarg, 1, MAX_CONCURRENCY);
			break;
		case 'm':
			cfg.max_size = parse_num("--max-size", optarg, 1, MAX_PAYLOAD);
			break;
		case 's':
			cfg.seed = parse_num("--seed", optarg, 0, UINT64_MAX);
			break;
		case 'd':
			cfg.duration_limit = parse_num("--duration-limit", optarg, 1, 1u << 30);
			break;
		case 'i':
			cfg.io_mask = parse_names("--io", optarg, io_names, IO_NR);
			break;
		case 'x':
			cfg.close_mask = parse_names("--close", optarg, close_names, CLOSE_NR);
			break;
		case 'j':
			json = true;
			break;
		case 'l':
			g_log_limit = parse_num("--log-lines", optarg, 0, UINT32_MAX);
			break;
		default:
			usage();
		}
	}
	if (argc - optind != 3 || resolve(argv[optind + 1], argv[optind + 2], &cfg.ep))
		usage();
	/* a peer that vanishes must be an error we count, not a signal that kills us */
	signal(SIGPIPE, SIG_IGN);
	if (!strcmp(argv[optind], "server") && !client_opts)
		return server_main(&cfg.ep, json);
	if (!strcmp(argv[optind], "client") && cfg.conns && cfg.concurrency)
		return client_main(&cfg, json);
	usage();
}
