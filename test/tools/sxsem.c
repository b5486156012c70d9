// SPDX-License-Identifier: Apache-2.0
/*
 * sxsem: socket-semantics transcripts.
 *
 * Socket acceleration must be invisible to applications. sxsem plays both
 * sides of a set of small TCP scenarios (EOF, RST, peek, urgent data, splice,
 * concurrent blocking I/O, ...) and prints, one line per event, what the
 * application saw. The transcripts are deterministic on plain TCP, so a test
 * runs every scenario once without and once with acceleration and compares
 * them byte for byte.
 *
 * Determinism rules followed by every scenario:
 *  - single calls print their return value (and small payloads); loops print
 *    only totals and a sha256, never per-call sizes, which legitimately vary;
 *  - a side looks at the socket only once the peer has certainly acted:
 *    either the stream itself tells it (exact byte counts, EOF), or it waits
 *    for a peer that acts immediately plus SYNC_MS of slack;
 *  - threads never print; results are printed after the join.
 *
 * Usage:
 *   sxsem server ADDR PORT SCENARIO   accept one connection, play the server
 *   sxsem client ADDR PORT SCENARIO   connect (retrying ECONNREFUSED for 5 s)
 *   sxsem list                        print the scenario names
 *
 * Exit status: 0 scenario played (whatever the socket calls returned),
 * 1 internal error (setup failed), 2 usage, 3 timeout ("TIMEOUT" is printed).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/sockios.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/evp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define KIB 1024u
#define MIB (1024u * 1024u)

/* Slack given to the peer to finish an action it starts right away. */
#define SYNC_MS 200
/* Whole-run limit: a hang must never block the test suite. */
#define DEFAULT_TIMEOUT_S 20
#define CONNECT_RETRY_MS 5000
/* Payloads up to this size are printed verbatim, bigger ones as a sha256. */
#define SHOW_DATA_MAX 64

/* ------------------------------------------------------------------------ */
/* Transcript output                                                        */

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
	va_list ap;

	/* One line at a time, even from the rcvlowat probe thread. */
	flockfile(stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	funlockfile(stdout);
}

static const char *errname(int err)
{
	static __thread char buf[24];
	const char *name = strerrorname_np(err);

	if (name)
		return name;
	snprintf(buf, sizeof(buf), "errno%d", err);
	return buf;
}

static void hex(const uint8_t *p, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", p[i]);
}

static void sha256_hex(const void *p, size_t n, char out[65])
{
	uint8_t md[32];
	unsigned int len = sizeof(md);

	EVP_Digest(p, n, md, &len, EVP_sha256(), NULL);
	hex(md, 32, out);
}

/* "'abc\x00'" for short payloads, "sha256 <hex>" for long ones. */
static void fmt_data(const uint8_t *p, size_t n, char *out, size_t outsz)
{
	size_t o = 0;

	if (n > SHOW_DATA_MAX) {
		char h[65];

		sha256_hex(p, n, h);
		snprintf(out, outsz, "sha256 %s", h);
		return;
	}
	out[o++] = '\'';
	for (size_t i = 0; i < n && o + 6 < outsz; i++) {
		if (p[i] >= 0x20 && p[i] < 0x7f && p[i] != '\'' && p[i] != '\\')
			out[o++] = (char)p[i];
		else
			o += (size_t)sprintf(out + o, "\\x%02x", p[i]);
	}
	out[o++] = '\'';
	out[o] = '\0';
}

/* "recv" or "recv(MSG_PEEK|MSG_DONTWAIT)". MSG_NOSIGNAL is always set on
 * sends (SIGPIPE is not what we compare), so it is not shown. */
static const char *call_name(const char *op, int flags)
{
	static const struct { int flag; const char *name; } names[] = {
		{ MSG_PEEK, "MSG_PEEK" },	  { MSG_DONTWAIT, "MSG_DONTWAIT" },
		{ MSG_WAITALL, "MSG_WAITALL" }, { MSG_OOB, "MSG_OOB" },
	};
	static char buf[96];
	size_t o = (size_t)snprintf(buf, sizeof(buf), "%s", op);
	const char *sep = "(";

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (!(flags & names[i].flag))
			continue;
		o += (size_t)snprintf(buf + o, sizeof(buf) - o, "%s%s", sep,
				      names[i].name);
		sep = "|";
	}
	if (*sep == '|')
		snprintf(buf + o, sizeof(buf) - o, ")");
	return buf;
}

static void fmt_events(unsigned int ev, bool is_epoll, char *out, size_t outsz)
{
	static const struct { unsigned int bit; const char *name; } polls[] = {
		{ POLLIN, "IN" },	  { POLLPRI, "PRI" },	  { POLLOUT, "OUT" },
		{ POLLRDHUP, "RDHUP" }, { POLLERR, "ERR" },	  { POLLHUP, "HUP" },
		{ POLLNVAL, "NVAL" },	  { POLLRDNORM, "RDNORM" }, { POLLRDBAND, "RDBAND" },
		{ POLLWRNORM, "WRNORM" }, { POLLWRBAND, "WRBAND" },
	};
	const char *prefix = is_epoll ? "EPOLL" : "POLL";
	size_t o = 0;

	for (size_t i = 0; i < sizeof(polls) / sizeof(polls[0]); i++) {
		if (!(ev & polls[i].bit))
			continue;
		o += (size_t)snprintf(out + o, outsz - o, "%s%s%s", o ? "|" : "",
				      prefix, polls[i].name);
		ev &= ~polls[i].bit;
	}
	if (ev || !o)
		snprintf(out + o, outsz - o, "%s0x%x", o ? "|" : "", ev);
}

static void on_alarm(int sig)
{
	static const char msg[] = "TIMEOUT\n";

	if (write(STDOUT_FILENO, msg, sizeof(msg) - 1) < 0) {
		/* nothing left to do */
	}
	_exit(3);
}

static void msleep(unsigned int ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* ------------------------------------------------------------------------ */
/* Deterministic data: xorshift64*, one fixed seed per stream.              */

static uint64_t prng_next(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*s = x;
	return x * 0x2545F4914F6CDD1DULL;
}

static uint32_t prng_range(uint64_t *s, uint32_t lo, uint32_t hi)
{
	return lo + (uint32_t)(prng_next(s) % (uint64_t)(hi - lo + 1));
}

static void prng_fill(uint64_t *s, uint8_t *buf, size_t n)
{
	uint64_t v = 0;

	for (size_t i = 0; i < n; i++) {
		if (i % 8 == 0)
			v = prng_next(s);
		buf[i] = (uint8_t)(v >> (8 * (i % 8)));
	}
}

static void *xmalloc(size_t n)
{
	void *p = malloc(n);

	if (!p) {
		fprintf(stderr, "sxsem: out of memory\n");
		exit(1);
	}
	return p;
}

/* ------------------------------------------------------------------------ */
/* Single socket calls, printed as the application sees them.               */

static ssize_t ev_recv(int fd, size_t len, int flags)
{
	static uint8_t buf[64 * KIB];
	char data[SHOW_DATA_MAX * 4 + 80];
	ssize_t r;

	if (len > sizeof(buf))
		len = sizeof(buf);
	do
		r = recv(fd, buf, len, flags);
	while (r < 0 && errno == EINTR);
	if (r > 0) {
		fmt_data(buf, (size_t)r, data, sizeof(data));
		say("%s %zu -> %zd %s", call_name("recv", flags), len, r, data);
	} else if (r == 0) {
		say("%s %zu -> 0 (EOF)", call_name("recv", flags), len);
	} else {
		say("%s %zu -> -1 %s", call_name("recv", flags), len, errname(errno));
	}
	return r;
}

static ssize_t ev_send(int fd, const void *buf, size_t len, int flags)
{
	ssize_t r;

	do
		r = send(fd, buf, len, flags | MSG_NOSIGNAL);
	while (r < 0 && errno == EINTR);
	if (r >= 0)
		say("%s %zu -> %zd", call_name("send", flags), len, r);
	else
		say("%s %zu -> -1 %s", call_name("send", flags), len, errname(errno));
	return r;
}

/* send() of a pattern buffer: "send 65536 -> 65536". */
static ssize_t ev_send_pattern(int fd, size_t len, uint64_t seed)
{
	uint8_t *buf = xmalloc(len);
	ssize_t r;

	prng_fill(&seed, buf, len);
	r = ev_send(fd, buf, len, 0);
	free(buf);
	return r;
}

static void ev_ioctl_int(int fd, unsigned long req, const char *name)
{
	int v = 0;

	if (ioctl(fd, req, &v) < 0)
		say("%s -> -1 %s", name, errname(errno));
	else
		say("%s -> %d", name, v);
}

static void ev_setsockopt_int(int fd, int level, int opt, const char *name, int v)
{
	if (setsockopt(fd, level, opt, &v, sizeof(v)) < 0)
		say("setsockopt(%s, %d) -> -1 %s", name, v, errname(errno));
	else
		say("setsockopt(%s, %d) -> 0", name, v);
}

/* poll() with a zero timeout: reports the state "now", after a sync. */
static void ev_poll(int fd, short events)
{
	struct pollfd p = { .fd = fd, .events = events };
	char req[128], got[128];
	int r = poll(&p, 1, 0);

	fmt_events((unsigned short)events, false, req, sizeof(req));
	if (r < 0) {
		say("poll(%s) -> -1 %s", req, errname(errno));
	} else if (r == 0) {
		say("poll(%s) -> 0", req);
	} else {
		fmt_events((unsigned short)p.revents, false, got, sizeof(got));
		say("poll(%s) -> %d %s", req, r, got);
	}
}

static void ev_epoll(int fd, unsigned int events)
{
	struct epoll_event ev = { .events = events }, out = { 0 };
	char req[128], got[128];
	int ep = epoll_create1(EPOLL_CLOEXEC), r;

	fmt_events(events, true, req, sizeof(req));
	if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
		say("epoll(%s) setup -> -1 %s", req, errname(errno));
		if (ep >= 0)
			close(ep);
		return;
	}
	r = epoll_wait(ep, &out, 1, 0);
	if (r < 0) {
		say("epoll_wait(%s) -> -1 %s", req, errname(errno));
	} else if (r == 0) {
		say("epoll_wait(%s) -> 0", req);
	} else {
		fmt_events(out.events, true, got, sizeof(got));
		say("epoll_wait(%s) -> %d %s", req, r, got);
	}
	close(ep);
}

static void ev_shutdown(int fd, int how)
{
	const char *name = how == SHUT_WR ? "SHUT_WR" : how == SHUT_RD ? "SHUT_RD" : "SHUT_RDWR";

	if (shutdown(fd, how) < 0)
		say("shutdown(%s) -> -1 %s", name, errname(errno));
	else
		say("shutdown(%s) -> 0", name);
}

static void ev_close(int fd)
{
	if (close(fd) < 0)
		say("close -> -1 %s", errname(errno));
	else
		say("close -> 0");
}

/* SO_LINGER {1, 0} then close(): the connection is aborted with a RST. */
static void ev_abort(int fd)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };

	if (setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)) < 0)
		say("setsockopt(SO_LINGER, {1, 0}) -> -1 %s", errname(errno));
	else
		say("setsockopt(SO_LINGER, {1, 0}) -> 0");
	ev_close(fd);
}

/* ------------------------------------------------------------------------ */
/* Flows: loops of socket calls, summarised as bytes + sha256 + how they     */
/* ended. A blocking socket never returns EAGAIN; if it does (the bug we    */
/* hunt) the loop carries on but the count is printed.                      */

struct flow {
	const char *op;		/* call name for the end line: "recv", "send", ... */
	EVP_MD_CTX *md;
	uint64_t bytes;
	unsigned long eagain;	/* EAGAIN on a blocking socket */
	bool ended;		/* loop stopped on 0 or -1 (not on a byte count) */
	ssize_t end_ret;
	int end_err;
};

static void flow_init(struct flow *f, const char *op)
{
	memset(f, 0, sizeof(*f));
	f->op = op;
	f->md = EVP_MD_CTX_new();
	if (!f->md || !EVP_DigestInit_ex(f->md, EVP_sha256(), NULL)) {
		fprintf(stderr, "sxsem: EVP sha256 init failed\n");
		exit(1);
	}
}

static void flow_add(struct flow *f, const void *p, size_t n)
{
	EVP_DigestUpdate(f->md, p, n);
	f->bytes += n;
}

static void flow_end(struct flow *f, ssize_t ret, int err)
{
	f->ended = true;
	f->end_ret = ret;
	f->end_err = err;
}

/* Classify a failed call inside a loop: true means "retry". */
static bool flow_retry(struct flow *f, int err)
{
	if (err == EINTR)
		return true;
	if (err == EAGAIN) {
		f->eagain++;
		return true;
	}
	return false;
}

/* "LABEL bytes N sha256 H" [+ the EAGAIN count] [+ how the loop ended]. */
static void flow_report(struct flow *f, const char *label)
{
	uint8_t md[32];
	unsigned int len = sizeof(md);
	char h[65];

	EVP_DigestFinal_ex(f->md, md, &len);
	EVP_MD_CTX_free(f->md);
	f->md = NULL;
	hex(md, 32, h);
	say("%s bytes %" PRIu64 " sha256 %s", label, f->bytes, h);
	if (f->eagain)
		say("%s -> -1 EAGAIN on a blocking socket (x%lu)", f->op, f->eagain);
	if (!f->ended)
		return;
	if (f->end_ret == 0)
		say("%s -> 0 (EOF)", f->op);
	else
		say("%s -> -1 %s", f->op, errname(f->end_err));
}

/* Blocking recv() loop until @want bytes (0: until EOF or error). */
static void rx_loop(int fd, struct flow *f, size_t bufsz, uint64_t want)
{
	uint8_t *buf = xmalloc(bufsz);

	while (!want || f->bytes < want) {
		size_t n = bufsz;
		ssize_t r;

		if (want && want - f->bytes < n)
			n = (size_t)(want - f->bytes);
		r = recv(fd, buf, n, 0);
		if (r > 0) {
			flow_add(f, buf, (size_t)r);
		} else if (r == 0 || !flow_retry(f, errno)) {
			flow_end(f, r, r ? errno : 0);
			break;
		}
	}
	free(buf);
}

/* Blocking send() loop until all of @buf is sent or an error. */
static bool tx_all(int fd, struct flow *f, const uint8_t *buf, size_t len)
{
	size_t off = 0;

	while (off < len) {
		ssize_t r = send(fd, buf + off, len - off, MSG_NOSIGNAL);

		if (r > 0) {
			flow_add(f, buf + off, (size_t)r);
			off += (size_t)r;
		} else if (r == 0 || !flow_retry(f, errno)) {
			flow_end(f, r, r ? errno : 0);
			return false;
		}
	}
	return true;
}

/* Blocking send() loop of @total pattern bytes in random-sized chunks. */
static void tx_pattern(int fd, struct flow *f, uint64_t seed, uint64_t total,
		       uint32_t max_chunk)
{
	uint64_t sizes = seed ^ 0x5157A11C0FFEEULL;
	uint8_t *buf = xmalloc(max_chunk);

	while (f->bytes < total) {
		uint32_t n = prng_range(&sizes, 1, max_chunk);

		if (n > total - f->bytes)
			n = (uint32_t)(total - f->bytes);
		prng_fill(&seed, buf, n);
		if (!tx_all(fd, f, buf, n))
			break;
	}
	free(buf);
}

/* Plain recv loop to EOF with a label: most closing sequences end here. */
static void rx_to_eof(int fd, const char *label, size_t bufsz)
{
	struct flow f;

	flow_init(&f, "recv");
	rx_loop(fd, &f, bufsz, 0);
	flow_report(&f, label);
}

static bool set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) {
		perror("sxsem: fcntl(O_NONBLOCK)");
		return false;
	}
	return true;
}

/* ------------------------------------------------------------------------ */
/* Scenarios. Each side gets the connected socket and must close it.        */
/* Return 0, or 1 on an internal (non-socket-semantics) error.              */

/* The echo message stream: 1000 messages of 1..4096 random bytes. */
#define ECHO_MSGS 1000
#define ECHO_SEED 0xEC40000000000001ULL

struct echo_stream {
	uint8_t *buf;
	size_t total;
	size_t end[ECHO_MSGS];	/* end offset of each message */
};

static void echo_stream_make(struct echo_stream *s)
{
	uint64_t seed = ECHO_SEED;
	size_t len[ECHO_MSGS];

	s->total = 0;
	for (int i = 0; i < ECHO_MSGS; i++) {
		len[i] = prng_range(&seed, 1, 4096);
		s->total += len[i];
		s->end[i] = s->total;
	}
	s->buf = xmalloc(s->total);
	prng_fill(&seed, s->buf, s->total);
}

/* echo_blocking: one message out, the same bytes back, 1000 times. */
static int echo_blocking_client(int fd)
{
	struct echo_stream s;
	struct flow tx, rx;
	size_t start = 0;

	echo_stream_make(&s);
	flow_init(&tx, "send");
	flow_init(&rx, "recv");
	for (int i = 0; i < ECHO_MSGS && !rx.ended; i++) {
		if (!tx_all(fd, &tx, s.buf + start, s.end[i] - start))
			break;
		rx_loop(fd, &rx, 4096, s.end[i]);
		start = s.end[i];
	}
	flow_report(&tx, "tx");
	flow_report(&rx, "rx");
	ev_close(fd);
	free(s.buf);
	return 0;
}

static int echo_blocking_server(int fd)
{
	static uint8_t buf[64 * KIB];
	struct flow f, tx;

	flow_init(&f, "recv");
	flow_init(&tx, "send");
	for (;;) {
		ssize_t r = recv(fd, buf, sizeof(buf), 0);

		if (r > 0) {
			flow_add(&f, buf, (size_t)r);
			if (!tx_all(fd, &tx, buf, (size_t)r))
				break;
		} else if (r == 0 || !flow_retry(&f, errno)) {
			flow_end(&f, r, r ? errno : 0);
			break;
		}
	}
	flow_report(&f, "echo");
	if (tx.ended || tx.eagain)
		flow_report(&tx, "echo-send");
	else
		EVP_MD_CTX_free(tx.md);
	ev_close(fd);
	return 0;
}

/* echo_nonblocking_epoll: the same stream, O_NONBLOCK + level-triggered
 * epoll on both sides. EAGAIN is normal here and not counted. */
static int echo_epoll_client(int fd)
{
	static uint8_t buf[64 * KIB];
	struct epoll_event ev = { .events = EPOLLIN | EPOLLOUT };
	struct echo_stream s;
	struct flow tx, rx;
	size_t sent = 0;
	int msg = 0, ep;

	if (!set_nonblock(fd) || (ep = epoll_create1(EPOLL_CLOEXEC)) < 0 ||
	    epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
		perror("sxsem: epoll setup");
		return 1;
	}
	echo_stream_make(&s);
	flow_init(&tx, "send");
	flow_init(&rx, "recv");
	while (rx.bytes < s.total && !tx.ended && !rx.ended) {
		ssize_t r;

		if (epoll_wait(ep, &ev, 1, -1) < 0) {
			if (errno == EINTR)
				continue;
			perror("sxsem: epoll_wait");
			return 1;
		}
		if ((ev.events & (EPOLLOUT | EPOLLERR)) && sent < s.total) {
			/* One message per send(), like a message-based app. */
			r = send(fd, s.buf + sent, s.end[msg] - sent, MSG_NOSIGNAL);
			if (r > 0) {
				flow_add(&tx, s.buf + sent, (size_t)r);
				sent += (size_t)r;
				if (sent == s.end[msg])
					msg++;
				if (sent == s.total) {
					ev.events = EPOLLIN;
					epoll_ctl(ep, EPOLL_CTL_MOD, fd, &ev);
				}
			} else if (r < 0 && errno != EAGAIN && errno != EINTR) {
				flow_end(&tx, -1, errno);
			}
		}
		if (ev.events & (EPOLLIN | EPOLLERR | EPOLLHUP)) {
			r = recv(fd, buf, sizeof(buf), 0);
			if (r > 0)
				flow_add(&rx, buf, (size_t)r);
			else if (r == 0 || (errno != EAGAIN && errno != EINTR))
				flow_end(&rx, r, r ? errno : 0);
		}
	}
	flow_report(&tx, "tx");
	flow_report(&rx, "rx");
	close(ep);
	ev_close(fd);
	free(s.buf);
	return 0;
}

static int echo_epoll_server(int fd)
{
	static uint8_t buf[64 * KIB];
	struct epoll_event ev = { .events = EPOLLIN };
	size_t len = 0, off = 0;	/* pending echo: buf[off..len) */
	struct flow f;
	int ep;

	if (!set_nonblock(fd) || (ep = epoll_create1(EPOLL_CLOEXEC)) < 0 ||
	    epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
		perror("sxsem: epoll setup");
		return 1;
	}
	flow_init(&f, "recv");
	while (!f.ended) {
		ssize_t r;

		if (epoll_wait(ep, &ev, 1, -1) < 0) {
			if (errno == EINTR)
				continue;
			perror("sxsem: epoll_wait");
			return 1;
		}
		if (off < len) {
			/* Flush the echo before reading more (back-pressure). */
			r = send(fd, buf + off, len - off, MSG_NOSIGNAL);
			if (r > 0)
				off += (size_t)r;
			else if (r < 0 && errno != EAGAIN && errno != EINTR)
				flow_end(&f, -1, errno);
			if (off == len) {
				ev.events = EPOLLIN;
				epoll_ctl(ep, EPOLL_CTL_MOD, fd, &ev);
			}
			continue;
		}
		r = recv(fd, buf, sizeof(buf), 0);
		if (r > 0) {
			flow_add(&f, buf, (size_t)r);
			len = (size_t)r;
			off = 0;
			ev.events = EPOLLOUT;
			epoll_ctl(ep, EPOLL_CTL_MOD, fd, &ev);
		} else if (r == 0 || (errno != EAGAIN && errno != EINTR)) {
			flow_end(&f, r, r ? errno : 0);
		}
	}
	flow_report(&f, "echo");
	close(ep);
	ev_close(fd);
	return 0;
}

/* blocking_recv_after_peer_close: the client sits in a blocking recv() before
 * any data arrives; the server sends 3 x 100 KiB and closes right away. */
static int recv_after_close_client(int fd)
{
	rx_to_eof(fd, "rx", 16 * KIB);
	ev_close(fd);
	return 0;
}

static int recv_after_close_server(int fd)
{
	msleep(SYNC_MS);	/* the client is blocked in recv() by now */
	for (uint64_t i = 0; i < 3; i++)
		ev_send_pattern(fd, 100 * KIB, 0xB10C0000 + i);
	ev_close(fd);
	return 0;
}

/* fin_from_client / fin_from_server: one side sends 64 KiB and closes; the
 * other reads to EOF, then writes into the dead connection. On TCP the first
 * send succeeds (the peer answers with a RST), the next one fails. */
static int fin_closer(int fd)
{
	ev_send_pattern(fd, 64 * KIB, 0xF1F1F1F1);
	ev_close(fd);
	return 0;
}

static int fin_reader(int fd)
{
	rx_to_eof(fd, "rx", 16 * KIB);
	msleep(SYNC_MS);
	ev_send(fd, "late1", 5, 0);
	msleep(SYNC_MS);	/* let the peer's RST arrive */
	ev_send(fd, "late2", 5, 0);
	ev_recv(fd, 64, 0);
	ev_close(fd);
	return 0;
}

/* half_close: client sends 200 KiB and shuts down its write side; the server
 * reads to EOF and answers with 50 KiB over the still-open direction. */
static int half_close_client(int fd)
{
	ev_send_pattern(fd, 200 * KIB, 0x4A1FC105E);
	ev_shutdown(fd, SHUT_WR);
	rx_to_eof(fd, "rx", 16 * KIB);
	ev_close(fd);
	return 0;
}

static int half_close_server(int fd)
{
	rx_to_eof(fd, "rx", 16 * KIB);
	ev_send_pattern(fd, 50 * KIB, 0x4E71);
	ev_close(fd);
	return 0;
}

/*
 * reply_then_half_close: a request, its reply, then the client half-closes
 * and waits for EOF (netperf's TCP_CRR, lingering closes); the server takes
 * its time before it closes.
 */
static int reply_then_half_close_client(int fd)
{
	ev_send(fd, "request", 7, 0);
	ev_recv(fd, 64, 0);
	ev_shutdown(fd, SHUT_WR);
	rx_to_eof(fd, "rx", 64);
	ev_close(fd);
	return 0;
}

static int reply_then_half_close_server(int fd)
{
	ev_recv(fd, 64, 0);
	ev_send(fd, "reply", 5, 0);
	rx_to_eof(fd, "rx", 64);
	msleep(SYNC_MS);	/* work done after the client's FIN, before closing */
	ev_close(fd);
	return 0;
}

/* rst_on_close_with_unread: the server reads 10 of 20 bytes and aborts. */
static int rst_unread_client(int fd)
{
	ev_send(fd, "0123456789ABCDEFGHIJ", 20, 0);
	msleep(2 * SYNC_MS);	/* the server aborts SYNC_MS after reading */
	ev_recv(fd, 64, 0);
	ev_send(fd, "after", 5, 0);
	ev_recv(fd, 64, 0);
	ev_close(fd);
	return 0;
}

static int rst_unread_server(int fd)
{
	/* MSG_WAITALL: exactly 10 bytes however the 20 arrive. */
	ev_recv(fd, 10, MSG_WAITALL);
	msleep(SYNC_MS);	/* the other 10 bytes are queued, unread */
	ev_abort(fd);
	return 0;
}

/* rst_while_blocked: a blocking recv() is woken by a RST. */
static int rst_blocked_client(int fd)
{
	ev_recv(fd, 64, 0);
	ev_send(fd, "after", 5, 0);
	ev_recv(fd, 64, 0);
	ev_close(fd);
	return 0;
}

static int rst_blocked_server(int fd)
{
	msleep(300);	/* the client is blocked in recv() by now */
	ev_abort(fd);
	return 0;
}

/* Client side shared by the "server inspects what arrived" scenarios: the
 * client has sent, now it waits for the server to close. */
static int wait_eof_and_close(int fd)
{
	ev_recv(fd, 64, 0);
	ev_close(fd);
	return 0;
}

/* peek: MSG_PEEK must not consume, a normal recv then does. */
static int peek_client(int fd)
{
	ev_send(fd, "abcdefgh", 8, 0);
	return wait_eof_and_close(fd);
}

static int peek_server(int fd)
{
	msleep(SYNC_MS);
	ev_recv(fd, 4, MSG_PEEK);
	ev_recv(fd, 8, MSG_PEEK);
	ev_recv(fd, 8, 0);
	ev_recv(fd, 8, MSG_PEEK | MSG_DONTWAIT);
	ev_close(fd);
	return 0;
}

/* fionread: the readable byte count the kernel reports. */
static int fionread_client(int fd)
{
	ev_send_pattern(fd, 3000, 0xF10);
	msleep(SYNC_MS);
	ev_ioctl_int(fd, SIOCOUTQ, "SIOCOUTQ");	/* all acked (or redirected) */
	return wait_eof_and_close(fd);
}

static int fionread_server(int fd)
{
	msleep(SYNC_MS);
	ev_ioctl_int(fd, FIONREAD, "FIONREAD");
	ev_recv(fd, 4096, 0);
	ev_ioctl_int(fd, FIONREAD, "FIONREAD");
	ev_close(fd);
	return 0;
}

/* poll_rdhup: data plus a FIN, seen through poll and epoll. */
static int poll_rdhup_client(int fd)
{
	ev_send(fd, "0123456789", 10, 0);
	ev_shutdown(fd, SHUT_WR);
	return wait_eof_and_close(fd);
}

static int poll_rdhup_server(int fd)
{
	msleep(SYNC_MS);
	ev_poll(fd, POLLIN | POLLRDHUP);
	ev_epoll(fd, EPOLLIN | EPOLLRDHUP);
	ev_recv(fd, 64, 0);
	ev_recv(fd, 64, 0);
	ev_poll(fd, POLLIN | POLLRDHUP);
	ev_close(fd);
	return 0;
}

/* waitall / rcvlowat: the client sends 1000 bytes, pauses, sends 1000 more.
 * The first chunk is sent only once the server is blocked in recv(): see
 * rcvlowat_server for why that matters. Timeline (ms): 200 first chunk,
 * 400 server probes, 600 second chunk. */
static int two_chunks_client(int fd)
{
	msleep(SYNC_MS);
	ev_send_pattern(fd, 1000, 0x2C1);
	msleep(2 * SYNC_MS);
	ev_send_pattern(fd, 1000, 0x2C2);
	return wait_eof_and_close(fd);
}

static int waitall_server(int fd)
{
	ev_recv(fd, 2000, MSG_WAITALL);
	ev_close(fd);
	return 0;
}

/* Looks at the socket between the two chunks while main is in recv(). */
static void *rcvlowat_probe(void *arg)
{
	int fd = *(int *)arg;

	msleep(2 * SYNC_MS);
	ev_ioctl_int(fd, FIONREAD, "FIONREAD");	/* 1000 queued, not copied */
	ev_poll(fd, POLLIN);	/* below the low-water mark: not readable */
	return NULL;
}

/*
 * The recv() must already be blocked when the first chunk arrives. TCP
 * wakes a sleeping reader only once rcv_nxt - copied_seq >= SO_RCVLOWAT,
 * and a recv() that started with 1000 bytes queued has already consumed
 * them: it would then sleep until 1500 *more* bytes arrive, i.e. forever
 * here. With the reader asleep from the start, nothing is copied until
 * 2000 bytes are queued and recv() returns 2000.
 */
static int rcvlowat_server(int fd)
{
	pthread_t probe;

	ev_setsockopt_int(fd, SOL_SOCKET, SO_RCVLOWAT, "SO_RCVLOWAT", 1500);
	if (pthread_create(&probe, NULL, rcvlowat_probe, &fd)) {
		fprintf(stderr, "sxsem: pthread_create failed\n");
		return 1;
	}
	ev_recv(fd, 4096, 0);
	pthread_join(probe, NULL);
	ev_close(fd);
	return 0;
}

/* splice_sendfile: zero-copy paths on both ends. */
static int sendfile_client(int fd)
{
	const size_t total = 1 * MIB;
	char path[] = "/tmp/sxsem.XXXXXX";
	uint64_t seed = 0x5E4DF11E;
	uint8_t *data = xmalloc(total);
	struct flow f;
	off_t off = 0;
	int tfd = mkstemp(path);

	if (tfd < 0) {
		perror("sxsem: mkstemp");
		free(data);
		return 1;
	}
	unlink(path);
	prng_fill(&seed, data, total);
	for (size_t w = 0; w < total;) {
		ssize_t r = write(tfd, data + w, total - w);

		if (r <= 0) {
			perror("sxsem: write tmpfile");
			return 1;
		}
		w += (size_t)r;
	}
	flow_init(&f, "sendfile");
	while ((size_t)off < total) {
		off_t before = off;
		ssize_t r = sendfile(fd, tfd, &off, total - (size_t)off);

		if (r > 0) {
			flow_add(&f, data + before, (size_t)r);
		} else if (r == 0 || !flow_retry(&f, errno)) {
			flow_end(&f, r, r ? errno : 0);
			break;
		}
	}
	flow_report(&f, "sendfile");
	close(tfd);
	free(data);
	ev_shutdown(fd, SHUT_WR);
	return wait_eof_and_close(fd);
}

static int splice_server(int fd)
{
	static uint8_t buf[64 * KIB];
	struct flow f;
	int p[2];

	if (pipe(p) < 0) {
		perror("sxsem: pipe");
		return 1;
	}
	flow_init(&f, "splice");
	for (;;) {
		ssize_t r = splice(fd, NULL, p[1], NULL, sizeof(buf), SPLICE_F_MOVE);

		if (r < 0 && flow_retry(&f, errno))
			continue;
		if (r <= 0) {
			flow_end(&f, r, r ? errno : 0);
			break;
		}
		/* Drain exactly what was spliced so the pipe never fills. */
		for (ssize_t left = r; left > 0;) {
			ssize_t n = read(p[0], buf, (size_t)left);

			if (n <= 0) {
				perror("sxsem: read pipe");
				return 1;
			}
			flow_add(&f, buf, (size_t)n);
			left -= n;
		}
	}
	flow_report(&f, "splice");
	close(p[0]);
	close(p[1]);
	ev_close(fd);
	return 0;
}

/* send_before_accept: data arrives while the connection is still in the
 * accept queue (the server accepts 300 ms late, see the table). */
static int early_send_client(int fd)
{
	ev_send_pattern(fd, 64 * KIB, 0xEA21);
	ev_recv(fd, 16, 0);
	ev_close(fd);
	return 0;
}

static int early_send_server(int fd)
{
	struct flow f;

	flow_init(&f, "recv");
	rx_loop(fd, &f, 16 * KIB, 64 * KIB);
	flow_report(&f, "rx");
	ev_send(fd, "K", 1, 0);
	ev_recv(fd, 64, 0);
	ev_close(fd);
	return 0;
}

/* fastopen: the first write travels in the SYN (TCP Fast Open, enabled
 * without cookies by the harness's net.ipv4.tcp_fastopen), before either
 * socket is established; the rest follows right behind it. */
static int fastopen_client(int fd)
{
	ev_send_pattern(fd, 1 * KIB, 0xFA57);
	ev_send_pattern(fd, 63 * KIB, 0xFA58);
	ev_recv(fd, 16, 0);
	ev_close(fd);
	return 0;
}

/* bidirectional_bulk: 8 MiB each way at once; per side, a sender thread and
 * a blocking receiver thread on the same socket. */
#define BULK_BYTES (8ull * MIB)

struct bulk_half {
	int fd;
	uint64_t seed;
	struct flow flow;
	int shut_err;	/* errno of shutdown(SHUT_WR), 0 on success */
};

static void *bulk_sender(void *arg)
{
	struct bulk_half *h = arg;

	tx_pattern(h->fd, &h->flow, h->seed, BULK_BYTES, 64 * KIB);
	h->shut_err = shutdown(h->fd, SHUT_WR) < 0 ? errno : 0;
	return NULL;
}

static void *bulk_receiver(void *arg)
{
	struct bulk_half *h = arg;

	rx_loop(h->fd, &h->flow, 64 * KIB, 0);
	return NULL;
}

static int bulk_side(int fd, uint64_t tx_seed)
{
	struct bulk_half tx = { .fd = fd, .seed = tx_seed }, rx = { .fd = fd };
	pthread_t ttx, trx;

	flow_init(&tx.flow, "send");
	flow_init(&rx.flow, "recv");
	if (pthread_create(&trx, NULL, bulk_receiver, &rx) ||
	    pthread_create(&ttx, NULL, bulk_sender, &tx)) {
		fprintf(stderr, "sxsem: pthread_create failed\n");
		return 1;
	}
	pthread_join(ttx, NULL);
	pthread_join(trx, NULL);
	flow_report(&tx.flow, "tx");
	if (tx.shut_err)
		say("shutdown(SHUT_WR) -> -1 %s", errname(tx.shut_err));
	else
		say("shutdown(SHUT_WR) -> 0");
	flow_report(&rx.flow, "rx");
	ev_close(fd);
	return 0;
}

static int bulk_client(int fd)
{
	return bulk_side(fd, 0xB1D1C11E47);
}

static int bulk_server(int fd)
{
	return bulk_side(fd, 0xB1D15E7E7);
}

/* many_small_then_close: 10000 tiny writes, then close(); the receiver must
 * get every byte before the EOF. */
static int many_small_client(int fd)
{
	uint64_t seed = 0x5A11;
	uint8_t buf[64];
	struct flow f;

	flow_init(&f, "send");
	for (int i = 0; i < 10000; i++) {
		uint32_t n = prng_range(&seed, 1, sizeof(buf));

		prng_fill(&seed, buf, n);
		if (!tx_all(fd, &f, buf, n))
			break;
	}
	flow_report(&f, "tx");
	ev_close(fd);
	return 0;
}

static int many_small_server(int fd)
{
	rx_to_eof(fd, "rx", 1 * KIB);
	ev_close(fd);
	return 0;
}

/* urgent_oob: "ab", urgent "X", "cd"; SO_OOBINLINE off. TCP stops a read at
 * the urgent mark and hands the urgent byte out only with MSG_OOB. */
static int oob_client(int fd)
{
	/* No Nagle: three segments, whatever the ACK timing. */
	ev_setsockopt_int(fd, IPPROTO_TCP, TCP_NODELAY, "TCP_NODELAY", 1);
	ev_send(fd, "ab", 2, 0);
	ev_send(fd, "X", 1, MSG_OOB);
	ev_send(fd, "cd", 2, 0);
	return wait_eof_and_close(fd);
}

static int oob_server(int fd)
{
	msleep(SYNC_MS);
	ev_ioctl_int(fd, SIOCATMARK, "SIOCATMARK");
	ev_poll(fd, POLLIN | POLLPRI);
	ev_recv(fd, 16, 0);
	ev_ioctl_int(fd, SIOCATMARK, "SIOCATMARK");
	ev_recv(fd, 1, MSG_OOB);
	ev_recv(fd, 16, 0);
	ev_recv(fd, 16, MSG_DONTWAIT);
	ev_close(fd);
	return 0;
}

/* reused_ports: a second connection between the same addresses and ports.
 * The first ends with the server's FIN, then the client's; the server keeps
 * its closed socket open. The client connects again from the same port (the
 * server's TIME_WAIT is recycled) and its bytes must reach the new
 * connection, not the old socket, which only reports EOF. */
static int listen_fd = -1;               /* server: kept for a second accept */
static const struct addrinfo *server_ai; /* client: where to connect again */

static int reconnect_from(int old_fd)
{
	struct sockaddr_storage local;
	socklen_t len = sizeof(local);
	int one = 1, fd;

	if (getsockname(old_fd, (struct sockaddr *)&local, &len) < 0) {
		perror("sxsem: getsockname");
		return -1;
	}
	fd = socket(server_ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0) {
		perror("sxsem: socket");
		if (fd >= 0)
			close(fd);
		return -1;
	}
	ev_close(old_fd);
	msleep(SYNC_MS); /* the server's last ACK: the old socket is gone */
	if (bind(fd, (struct sockaddr *)&local, len) < 0 ||
	    connect(fd, server_ai->ai_addr, server_ai->ai_addrlen) < 0) {
		say("reconnect from the same port -> -1 %s", errname(errno));
		close(fd);
		return -1;
	}
	say("reconnected from the same port");
	return fd;
}

static int reused_ports_client(int fd)
{
	int again;

	ev_send(fd, "C1-request", 10, 0);
	ev_recv(fd, 64, 0);
	ev_recv(fd, 64, 0);
	again = reconnect_from(fd);
	if (again < 0)
		return 0;
	ev_send(again, "C2-request", 10, 0);
	ev_recv(again, 64, 0);
	ev_recv(again, 64, 0);
	ev_close(again);
	return 0;
}

static int reused_ports_server(int fd)
{
	int again;

	ev_recv(fd, 64, 0);
	ev_send(fd, "C1-reply", 8, 0);
	ev_shutdown(fd, SHUT_WR);
	ev_recv(fd, 64, 0); /* EOF: the first connection is over, fd stays open */
	do
		again = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
	while (again < 0 && errno == EINTR);
	if (again < 0) {
		perror("sxsem: accept");
		return 1;
	}
	say("accepted again");
	ev_recv(again, 64, 0);
	msleep(SYNC_MS); /* anything misdelivered to the old socket is there by now */
	ev_recv(fd, 64, MSG_DONTWAIT);
	ev_send(again, "C2-reply", 8, 0);
	ev_close(again);
	ev_close(fd);
	return 0;
}

/* ------------------------------------------------------------------------ */

typedef int (*side_fn)(int fd);

struct scenario {
	const char *name;
	side_fn client;
	side_fn server;
	unsigned int accept_delay_ms;	/* server: listen, wait, then accept */
	int fastopen;			/* TCP Fast Open: data in the SYN */
	int accepts_twice;		/* server: keep listening for a second connection */
};

static const struct scenario scenarios[] = {
	{ "echo_blocking", echo_blocking_client, echo_blocking_server, 0, 0, 0 },
	{ "echo_nonblocking_epoll", echo_epoll_client, echo_epoll_server, 0, 0, 0 },
	{ "blocking_recv_after_peer_close", recv_after_close_client,
	  recv_after_close_server, 0, 0, 0 },
	{ "fin_from_client", fin_closer, fin_reader, 0, 0, 0 },
	{ "fin_from_server", fin_reader, fin_closer, 0, 0, 0 },
	{ "half_close", half_close_client, half_close_server, 0, 0, 0 },
	{ "reply_then_half_close", reply_then_half_close_client, reply_then_half_close_server, 0, 0,
	  0 },
	{ "rst_on_close_with_unread", rst_unread_client, rst_unread_server, 0, 0, 0 },
	{ "rst_while_blocked", rst_blocked_client, rst_blocked_server, 0, 0, 0 },
	{ "peek", peek_client, peek_server, 0, 0, 0 },
	{ "fionread", fionread_client, fionread_server, 0, 0, 0 },
	{ "poll_rdhup", poll_rdhup_client, poll_rdhup_server, 0, 0, 0 },
	{ "waitall", two_chunks_client, waitall_server, 0, 0, 0 },
	{ "rcvlowat", two_chunks_client, rcvlowat_server, 0, 0, 0 },
	{ "splice_sendfile", sendfile_client, splice_server, 0, 0, 0 },
	{ "send_before_accept", early_send_client, early_send_server, 300, 0, 0 },
	{ "fastopen", fastopen_client, early_send_server, 300, 1, 0 },
	{ "bidirectional_bulk", bulk_client, bulk_server, 0, 0, 0 },
	{ "many_small_then_close", many_small_client, many_small_server, 0, 0, 0 },
	{ "urgent_oob", oob_client, oob_server, 0, 0, 0 },
	{ "reused_ports", reused_ports_client, reused_ports_server, 0, 0, 1 },
};

static const struct scenario *find_scenario(const char *name)
{
	for (size_t i = 0; i < sizeof(scenarios) / sizeof(scenarios[0]); i++)
		if (!strcmp(scenarios[i].name, name))
			return &scenarios[i];
	return NULL;
}

/* Numeric IPv4 or IPv6 (with an optional %scope) address and port. */
static struct addrinfo *resolve(const char *addr, const char *port)
{
	struct addrinfo hints = {
		.ai_family = AF_UNSPEC,
		.ai_socktype = SOCK_STREAM,
		.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV,
	};
	struct addrinfo *ai;
	int rc = getaddrinfo(addr, port, &hints, &ai);

	if (rc) {
		fprintf(stderr, "sxsem: bad address %s port %s: %s\n", addr, port,
			gai_strerror(rc));
		return NULL;
	}
	return ai;
}

static int run_server(struct addrinfo *ai, const struct scenario *sc)
{
	int one = 1, lfd, fd;

	lfd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (lfd < 0 || setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    (sc->fastopen &&
	     setsockopt(lfd, IPPROTO_TCP, TCP_FASTOPEN, &(int){ 16 }, sizeof(int)) < 0) ||
	    bind(lfd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(lfd, 1) < 0) {
		perror("sxsem: listen");
		return 1;
	}
	if (sc->accept_delay_ms)
		msleep(sc->accept_delay_ms);
	do
		fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	while (fd < 0 && errno == EINTR);
	if (fd < 0) {
		perror("sxsem: accept");
		return 1;
	}
	if (sc->accepts_twice)
		listen_fd = lfd;
	else
		close(lfd);
	say("scenario %s server", sc->name);
	say("accepted");
	return sc->server(fd);
}

static int run_client(struct addrinfo *ai, const struct scenario *sc)
{
	server_ai = ai;
	/* The server may be started a moment after us: retry refusals. */
	for (unsigned int waited = 0;; waited += 50) {
		int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);

		if (fd < 0) {
			perror("sxsem: socket");
			return 1;
		}
		/* With it, connect() returns at once and the first write goes in the SYN. */
		if (sc->fastopen &&
		    setsockopt(fd, IPPROTO_TCP, TCP_FASTOPEN_CONNECT, &(int){ 1 }, sizeof(int)) < 0) {
			perror("sxsem: TCP_FASTOPEN_CONNECT");
			return 1;
		}
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) {
			say("scenario %s client", sc->name);
			say("connected");
			return sc->client(fd);
		}
		if (errno != ECONNREFUSED || waited >= CONNECT_RETRY_MS) {
			perror("sxsem: connect");
			return 1;
		}
		close(fd);
		msleep(50);
	}
}

static void usage(FILE *f)
{
	fprintf(f, "usage: sxsem server ADDR PORT SCENARIO\n"
		   "       sxsem client ADDR PORT SCENARIO\n"
		   "       sxsem list\n"
		   "Prints a deterministic transcript of what the application sees.\n"
		   "SXSEM_TIMEOUT=seconds overrides the %d s limit (exit 3 on timeout).\n",
		DEFAULT_TIMEOUT_S);
}

int main(int argc, char **argv)
{
	const struct scenario *sc;
	struct addrinfo *ai;
	const char *env;
	unsigned int timeout = DEFAULT_TIMEOUT_S;
	int rc;

	if (argc == 2 && !strcmp(argv[1], "list")) {
		for (size_t i = 0; i < sizeof(scenarios) / sizeof(scenarios[0]); i++)
			puts(scenarios[i].name);
		return 0;
	}
	if (argc == 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		usage(stdout);
		return 0;
	}
	if (argc != 5 || (strcmp(argv[1], "server") && strcmp(argv[1], "client"))) {
		usage(stderr);
		return 2;
	}
	sc = find_scenario(argv[4]);
	if (!sc) {
		fprintf(stderr, "sxsem: unknown scenario '%s' (see: sxsem list)\n", argv[4]);
		return 2;
	}
	ai = resolve(argv[2], argv[3]);
	if (!ai)
		return 2;

	/* Line-buffered: the lines before a TIMEOUT are not lost. */
	setvbuf(stdout, NULL, _IOLBF, 0);
	/* Errors must show up as EPIPE, not kill us (sendfile has no
	 * MSG_NOSIGNAL). */
	signal(SIGPIPE, SIG_IGN);
	signal(SIGALRM, on_alarm);
	env = getenv("SXSEM_TIMEOUT");
	if (env && atoi(env) > 0)
		timeout = (unsigned int)atoi(env);
	alarm(timeout);

	rc = argv[1][0] == 's' ? run_server(ai, sc) : run_client(ai, sc);
	freeaddrinfo(ai);
	fflush(stdout);
	return rc;
}
