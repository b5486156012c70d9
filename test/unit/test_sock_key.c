// SPDX-License-Identifier: Apache-2.0
/*
 * Unit tests for bpf/sockops/sock_key.h: the socket keys and acceleration
 * decisions the sockops and sk_msg programs compute. The BPF programs call
 * these very functions, and BPF_PROG_RUN cannot run those program types,
 * so this is where their logic is proven.
 */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "sock_key.h"
#include "unit_helpers.h"

/* ---- building raw tuples the way the kernel reports them --------------- */

/* An IPv4 address as the kernel reports it: network byte order. */
static __u32 ip4(const char *text)
{
	struct in_addr a;

	assert_int_equal(1, inet_pton(AF_INET, text, &a));
	return a.s_addr;
}

/* An IPv6 address as four network-order words, as in local_ip6[]. */
static void ip6(const char *text, __u32 out[4])
{
	struct in6_addr a;

	assert_int_equal(1, inet_pton(AF_INET6, text, &a));
	memcpy(out, &a, 16);
}

/*
 * remote_port as sockops and sk_msg report it: the network-order 16-bit
 * port in the upper half of the 32-bit word (on little endian the kernel
 * loads skc_dport and shifts it left by 16). Either way, the word read as
 * big endian is the port number, which is what sx_be32_to_cpu undoes.
 */
static __u32 kernel_remote_port(__u16 port)
{
	return htonl(port);
}

static struct sx_raw_tuple tuple4(const char *lip, __u16 lport, const char *rip, __u16 rport)
{
	struct sx_raw_tuple t;

	memset(&t, 0, sizeof(t));
	t.family = SX_AF_INET;
	t.local_ip4 = ip4(lip);
	t.remote_ip4 = ip4(rip);
	t.local_port = lport; /* host byte order */
	t.remote_port = kernel_remote_port(rport);
	return t;
}

/* family is the socket's family: SX_AF_INET6 even for mapped addresses. */
static struct sx_raw_tuple tuple6(const char *lip, __u16 lport, const char *rip, __u16 rport)
{
	struct sx_raw_tuple t;

	memset(&t, 0, sizeof(t));
	t.family = SX_AF_INET6;
	ip6(lip, t.local_ip6);
	ip6(rip, t.remote_ip6);
	t.local_port = lport;
	t.remote_port = kernel_remote_port(rport);
	return t;
}

static void assert_key_pad_zero(const char *name, const struct sx_sock_key *key)
{
	static const __u8 zero[3];

	if (memcmp(key->pad, zero, sizeof(zero)))
		fail_msg("case \"%s\": pad bytes are not zero", name);
}

/* A key from a raw tuple, with the key poisoned first so stale bytes show. */
static void key_from(const struct sx_raw_tuple *t, struct sx_sock_key *key)
{
	memset(key, 0xff, sizeof(*key));
	assert_int_equal(0, sx_sock_key_from_raw(t, key));
}

/* ---- sx_sock_key_from_raw ---------------------------------------------- */

static void test_key_from_ipv4_tuple(void **state)
{
	static const struct {
		const char *name;
		const char *lip, *rip;
		__u16 lport, rport;
	} cases[] = {
		{ "client to http", "10.0.0.1", "10.0.0.2", 43210, 80 },
		{ "lowest and highest port", "192.168.1.10", "172.16.0.3", 1, 65535 },
		{ "highest and lowest port", "10.244.1.5", "10.244.2.7", 65535, 1 },
		/* Distinct bytes in each port expose a byte swap. */
		{ "ports 0x1234 and 0x5678", "10.0.0.1", "10.0.0.2", 0x1234, 0x5678 },
	};
	size_t i;

	for (i = 0; i < ARRAY_LEN(cases); i++) {
		struct sx_raw_tuple t =
			tuple4(cases[i].lip, cases[i].lport, cases[i].rip, cases[i].rport);
		const char *name = cases[i].name;
		struct sx_sock_key key;

		key_from(&t, &key);
		expect_int(name, SX_AF_INET, key.family);
		expect_int(name, ip4(cases[i].lip), key.local_ip.addr[0]);
		expect_int(name, ip4(cases[i].rip), key.remote_ip.addr[0]);
		expect_int(name, 0, key.local_ip.addr[1] | key.local_ip.addr[2] | key.local_ip.addr[3]);
		expect_int(name, 0, key.remote_ip.addr[1] | key.remote_ip.addr[2] | key.remote_ip.addr[3]);
		/* Both ports end up in host byte order. */
		expect_int(name, cases[i].lport, key.local_port);
		expect_int(name, cases[i].rport, key.remote_port);
		assert_key_pad_zero(name, &key);
	}
}

static void test_key_from_ipv6_tuple(void **state)
{
	static const struct {
		const char *lip, *rip;
		__u16 lport, rport;
	} cases[] = {
		{ "fd00::1", "fd00::2", 43210, 80 },
		{ "2001:db8::a:b:c:d", "fd00:10:244::7", 0x1234, 0x5678 },
		{ "::ffff:0:0:1", "fd00::2", 1, 65535 }, /* not v4-mapped: ffff in the wrong word */
	};
	size_t i;

	for (i = 0; i < ARRAY_LEN(cases); i++) {
		struct sx_raw_tuple t =
			tuple6(cases[i].lip, cases[i].lport, cases[i].rip, cases[i].rport);
		const char *name = cases[i].lip;
		struct sx_sock_key key;

		key_from(&t, &key);
		expect_int(name, SX_AF_INET6, key.family);
		if (memcmp(key.local_ip.addr, t.local_ip6, 16))
			fail_msg("case \"%s\": local address differs", name);
		if (memcmp(key.remote_ip.addr, t.remote_ip6, 16))
			fail_msg("case \"%s\": remote address differs", name);
		expect_int(name, cases[i].lport, key.local_port);
		expect_int(name, cases[i].rport, key.remote_port);
		assert_key_pad_zero(name, &key);
	}
}

/*
 * A dual-stack (AF_INET6) socket talking IPv4 sees ::ffff:a.b.c.d addresses;
 * its peer may be a plain AF_INET socket. Both must key the same way, or the
 * sk_msg program never finds the peer.
 */
static void test_key_from_v4mapped_tuple_equals_ipv4_key(void **state)
{
	static const struct {
		const char *lip4, *rip4, *lip6, *rip6;
		__u16 lport, rport;
	} cases[] = {
		{ "10.0.0.1", "10.0.0.2", "::ffff:10.0.0.1", "::ffff:10.0.0.2", 43210, 80 },
		{ "192.168.7.9", "10.244.0.1", "::ffff:192.168.7.9", "::ffff:10.244.0.1", 0x1234,
		  0x5678 },
	};
	size_t i;

	for (i = 0; i < ARRAY_LEN(cases); i++) {
		struct sx_raw_tuple t4 =
			tuple4(cases[i].lip4, cases[i].lport, cases[i].rip4, cases[i].rport);
		struct sx_raw_tuple t6 =
			tuple6(cases[i].lip6, cases[i].lport, cases[i].rip6, cases[i].rport);
		struct sx_sock_key k4, k6;

		key_from(&t4, &k4);
		key_from(&t6, &k6);
		expect_int(cases[i].lip6, SX_AF_INET, k6.family);
		if (memcmp(&k4, &k6, sizeof(k4)))
			fail_msg("case \"%s\": mapped key differs from the IPv4 key", cases[i].lip6);
	}
}

static void test_key_from_mapped_and_native_ipv6_mix_fails(void **state)
{
	static const struct {
		const char *lip, *rip;
	} cases[] = {
		{ "::ffff:10.0.0.1", "fd00::2" },
		{ "fd00::1", "::ffff:10.0.0.2" },
	};
	size_t i;

	for (i = 0; i < ARRAY_LEN(cases); i++) {
		struct sx_raw_tuple t = tuple6(cases[i].lip, 1000, cases[i].rip, 80);
		struct sx_sock_key key;

		expect_int(cases[i].lip, -1, sx_sock_key_from_raw(&t, &key));
	}
}

static void test_key_from_unsupported_family_fails(void **state)
{
	static const __u32 families[] = { 0, 1 /* AF_UNIX */, 3, 9, 11, 17 /* AF_PACKET */,
					  0xffffffff };
	size_t i;

	for (i = 0; i < ARRAY_LEN(families); i++) {
		struct sx_raw_tuple t = tuple4("10.0.0.1", 1000, "10.0.0.2", 80);
		struct sx_sock_key key;
		char name[32];

		t.family = families[i];
		snprintf(name, sizeof(name), "family %u", families[i]);
		expect_int(name, -1, sx_sock_key_from_raw(&t, &key));
	}
}

/* Keys are hashed as raw bytes: any stale pad or unused address word misses. */
static void test_key_from_zeroes_every_unused_byte(void **state)
{
	struct sx_raw_tuple tuples[3];
	size_t i;

	tuples[0] = tuple4("10.0.0.1", 1000, "10.0.0.2", 80);
	tuples[1] = tuple6("fd00::1", 1000, "fd00::2", 80);
	tuples[2] = tuple6("::ffff:10.0.0.1", 1000, "::ffff:10.0.0.2", 80);
	/* Junk in the fields of the other family must not leak into the key. */
	memset(tuples[0].local_ip6, 0xaa, 16);
	memset(tuples[0].remote_ip6, 0xaa, 16);
	tuples[1].local_ip4 = tuples[1].remote_ip4 = 0xaaaaaaaa;
	tuples[2].local_ip4 = tuples[2].remote_ip4 = 0xaaaaaaaa;

	for (i = 0; i < ARRAY_LEN(tuples); i++) {
		struct sx_sock_key poisoned, clean;

		memset(&clean, 0, sizeof(clean));
		assert_int_equal(0, sx_sock_key_from_raw(&tuples[i], &clean));
		memset(&poisoned, 0xff, sizeof(poisoned));
		assert_int_equal(0, sx_sock_key_from_raw(&tuples[i], &poisoned));
		if (memcmp(&clean, &poisoned, sizeof(clean)))
			fail_msg("tuple %zu: key depends on the buffer's prior contents", i);
		assert_key_pad_zero("poisoned", &poisoned);
	}
}

/* ---- sx_sock_key_reverse ----------------------------------------------- */

static void test_reverse_is_an_involution(void **state)
{
	struct sx_raw_tuple tuples[3];
	size_t i;

	tuples[0] = tuple4("10.0.0.1", 0x1234, "10.0.0.2", 0x5678);
	tuples[1] = tuple6("fd00::1", 0x1234, "fd00::2", 0x5678);
	tuples[2] = tuple6("::ffff:10.0.0.1", 0x1234, "::ffff:10.0.0.2", 0x5678);

	for (i = 0; i < ARRAY_LEN(tuples); i++) {
		struct sx_sock_key key, rev, back;

		key_from(&tuples[i], &key);
		memset(&rev, 0xff, sizeof(rev));
		memset(&back, 0xff, sizeof(back));
		sx_sock_key_reverse(&key, &rev);
		sx_sock_key_reverse(&rev, &back);
		if (!memcmp(&key, &rev, sizeof(key)))
			fail_msg("tuple %zu: reverse did not change the key", i);
		if (memcmp(&key, &back, sizeof(key)))
			fail_msg("tuple %zu: reverse(reverse(k)) != k", i);
		assert_key_pad_zero("reverse", &rev);
	}
}

/*
 * The sk_msg program redirects to reverse(own key); that must be the key
 * the peer socket was stored under, computed from the peer's own view.
 */
static void test_reverse_of_key_is_peer_sockets_key(void **state)
{
	static const struct {
		struct sx_raw_tuple (*make)(const char *, __u16, const char *, __u16);
		const char *a, *b;
	} cases[] = {
		{ tuple4, "10.0.0.1", "10.0.0.2" },
		{ tuple6, "fd00::1", "fd00::2" },
		{ tuple6, "::ffff:10.0.0.1", "::ffff:10.0.0.2" },
	};
	const __u16 a_port = 0x1234, b_port = 0x5678;
	size_t i;

	for (i = 0; i < ARRAY_LEN(cases); i++) {
		/* The client socket at A and the server socket at B. */
		struct sx_raw_tuple at_a = cases[i].make(cases[i].a, a_port, cases[i].b, b_port);
		struct sx_raw_tuple at_b = cases[i].make(cases[i].b, b_port, cases[i].a, a_port);
		struct sx_sock_key ka, kb, rev;

		key_from(&at_a, &ka);
		key_from(&at_b, &kb);
		memset(&rev, 0xff, sizeof(rev));
		sx_sock_key_reverse(&ka, &rev);
		if (memcmp(&rev, &kb, sizeof(kb)))
			fail_msg("case \"%s\": reverse(A->B) != key of B->A", cases[i].a);
	}
}

/* A dual-stack client and a plain IPv4 server find each other. */
static void test_reverse_matches_across_mapped_and_ipv4_peers(void **state)
{
	struct sx_raw_tuple client = tuple6("::ffff:10.0.0.1", 40000, "::ffff:10.0.0.2", 80);
	struct sx_raw_tuple server = tuple4("10.0.0.2", 80, "10.0.0.1", 40000);
	struct sx_sock_key kc, ks, rev;

	key_from(&client, &kc);
	key_from(&server, &ks);
	sx_sock_key_reverse(&kc, &rev);
	assert_memory_equal(&rev, &ks, sizeof(ks));
	sx_sock_key_reverse(&ks, &rev);
	assert_memory_equal(&rev, &kc, sizeof(kc));
}

/* ---- sx_endpoint_key_set ----------------------------------------------- */

static void test_endpoint_key_set_copies_ip_and_zeroes_pad(void **state)
{
	static const struct {
		__u8 family;
		const char *text;
	} cases[] = {
		{ SX_AF_INET, "10.244.1.5" },
		{ SX_AF_INET6, "fd00::7" },
	};
	size_t i;

	for (i = 0; i < ARRAY_LEN(cases); i++) {
		struct sx_endpoint_key ek, want;
		struct sx_ip ip;

		memset(&ip, 0, sizeof(ip));
		if (cases[i].family == SX_AF_INET)
			ip.addr[0] = ip4(cases[i].text);
		else
			ip6(cases[i].text, ip.addr);
		memset(&want, 0, sizeof(want));
		want.family = cases[i].family;
		want.ip = ip;

		memset(&ek, 0xff, sizeof(ek));
		sx_endpoint_key_set(&ek, cases[i].family, &ip);
		if (memcmp(&ek, &want, sizeof(want)))
			fail_msg("case \"%s\": endpoint key bytes differ", cases[i].text);
	}
}

/* The endpoint key built from a socket key's address is the one the loader stores. */
static void test_endpoint_key_from_sock_key_matches_mapped_and_native(void **state)
{
	struct sx_raw_tuple t4 = tuple4("10.0.0.1", 1000, "10.0.0.2", 80);
	struct sx_raw_tuple t6 = tuple6("::ffff:10.0.0.1", 1000, "::ffff:10.0.0.2", 80);
	struct sx_sock_key k4, k6;
	struct sx_endpoint_key e4, e6;

	key_from(&t4, &k4);
	key_from(&t6, &k6);
	memset(&e4, 0xff, sizeof(e4));
	memset(&e6, 0x00, sizeof(e6));
	sx_endpoint_key_set(&e4, k4.family, &k4.local_ip);
	sx_endpoint_key_set(&e6, k6.family, &k6.local_ip);
	assert_memory_equal(&e4, &e6, sizeof(e4));
}

/* ---- sx_ip_is_loopback ------------------------------------------------- */

static void test_ip_is_loopback(void **state)
{
	static const struct {
		__u8 family;
		const char *text;
		int loopback;
	} cases[] = {
		{ SX_AF_INET, "127.0.0.1", 1 },
		{ SX_AF_INET, "127.255.255.254", 1 },
		{ SX_AF_INET, "127.0.0.0", 1 },
		{ SX_AF_INET, "128.0.0.1", 0 },
		{ SX_AF_INET, "126.255.255.255", 0 },
		{ SX_AF_INET, "10.0.0.127", 0 }, /* 127 in the last octet */
		{ SX_AF_INET, "1.0.0.127", 0 },
		{ SX_AF_INET6, "::1", 1 },
		{ SX_AF_INET6, "::2", 0 },
		{ SX_AF_INET6, "::", 0 },
		{ SX_AF_INET6, "1::1", 0 },
		{ SX_AF_INET6, "0:0:0:1::1", 0 }, /* nonzero second word */
		{ SX_AF_INET6, "::1:0:0:1", 0 },  /* nonzero third word */
		{ SX_AF_INET6, "fd00::1", 0 },
	};
	size_t i;

	for (i = 0; i < ARRAY_LEN(cases); i++) {
		struct sx_ip ip;

		memset(&ip, 0, sizeof(ip));
		if (cases[i].family == SX_AF_INET)
			ip.addr[0] = ip4(cases[i].text);
		else
			ip6(cases[i].text, ip.addr);
		expect_int(cases[i].text, cases[i].loopback,
			   sx_ip_is_loopback(cases[i].family, &ip));
	}
}

/* ---- sx_insert_decide -------------------------------------------------- */

/* The expected verdict, written as the rule's precedence. */
static enum sx_insert_verdict expected_verdict(const struct sx_insert_facts *f)
{
	if (!f->accel_enabled)
		return SX_SKIP_DISABLED; /* disabled wins over everything */
	if (f->loopback || !f->local_is_endpoint || !f->remote_is_endpoint)
		return SX_SKIP_NOT_ENDPOINT;
	if (f->port_excluded)
		return SX_SKIP_EXCLUDED;
	return SX_INSERT;
}

/* Every one of the 32 combinations of the five facts. */
static void test_insert_decide_every_combination(void **state)
{
	unsigned int bits;
	int inserts = 0;

	for (bits = 0; bits < 32; bits++) {
		struct sx_insert_facts f = {
			.accel_enabled = !!(bits & 1),
			.local_is_endpoint = !!(bits & 2),
			.remote_is_endpoint = !!(bits & 4),
			.port_excluded = !!(bits & 8),
			.loopback = !!(bits & 16),
		};
		char name[96];

		snprintf(name, sizeof(name),
			 "enabled=%d local_ep=%d remote_ep=%d excluded=%d loopback=%d",
			 f.accel_enabled, f.local_is_endpoint, f.remote_is_endpoint,
			 f.port_excluded, f.loopback);
		expect_int(name, expected_verdict(&f), sx_insert_decide(&f));
		inserts += sx_insert_decide(&f) == SX_INSERT;
	}
	/* Exactly one combination accelerates a socket. */
	assert_int_equal(1, inserts);
}

/* The same rule, spelled out for the cases that matter most. */
static void test_insert_decide_named_cases(void **state)
{
	static const struct {
		const char *name;
		struct sx_insert_facts f;
		enum sx_insert_verdict want;
	} cases[] = {
		{ "pod to pod", { 1, 1, 1, 0, 0 }, SX_INSERT },
		{ "disabled beats everything", { 0, 1, 1, 1, 1 }, SX_SKIP_DISABLED },
		{ "disabled, pod to pod", { 0, 1, 1, 0, 0 }, SX_SKIP_DISABLED },
		{ "loopback between endpoints", { 1, 1, 1, 0, 1 }, SX_SKIP_NOT_ENDPOINT },
		{ "local not an endpoint", { 1, 0, 1, 0, 0 }, SX_SKIP_NOT_ENDPOINT },
		{ "remote not an endpoint", { 1, 1, 0, 0, 0 }, SX_SKIP_NOT_ENDPOINT },
		{ "not endpoint beats excluded", { 1, 0, 1, 1, 0 }, SX_SKIP_NOT_ENDPOINT },
		{ "excluded port", { 1, 1, 1, 1, 0 }, SX_SKIP_EXCLUDED },
	};
	size_t i;

	for (i = 0; i < ARRAY_LEN(cases); i++)
		expect_int(cases[i].name, cases[i].want, sx_insert_decide(&cases[i].f));
}

/* ---- sx_msg_may_redirect / sx_msg_record ------------------------------- */

/*
 * One message through the sk_msg program's decision, as sockops.bpf.c
 * makes it: redirect only if allowed and the peer socket is found, then
 * record the path. Returns sx_msg_record's result (1 = bound to TCP now).
 */
static int send_msg(__u32 *tx_path, int accel_enabled, int peer_found, int *redirected)
{
	*redirected = sx_msg_may_redirect(*tx_path, accel_enabled) && peer_found;
	return sx_msg_record(tx_path, *redirected);
}

static void test_msg_may_redirect_table(void **state)
{
	static const struct {
		const char *name;
		__u32 tx_path;
		int accel_enabled;
		int want;
	} cases[] = {
		{ "undecided, enabled", SX_TX_UNDECIDED, 1, 1 },
		{ "redirect, enabled", SX_TX_REDIRECT, 1, 1 },
		{ "tcp, enabled", SX_TX_TCP, 1, 0 },
		{ "undecided, disabled", SX_TX_UNDECIDED, 0, 0 },
		{ "redirect, disabled", SX_TX_REDIRECT, 0, 0 },
		{ "tcp, disabled", SX_TX_TCP, 0, 0 },
	};
	size_t i;

	for (i = 0; i < ARRAY_LEN(cases); i++)
		expect_int(cases[i].name, cases[i].want,
			   !!sx_msg_may_redirect(cases[i].tx_path, cases[i].accel_enabled));
}

static void test_msg_record_transitions(void **state)
{
	static const struct {
		const char *name;
		__u32 from;
		int redirected;
		__u32 to;
		int bound_now; /* sx_msg_record's return value */
	} cases[] = {
		{ "undecided + redirected -> redirect", SX_TX_UNDECIDED, 1, SX_TX_REDIRECT, 0 },
		{ "undecided + miss -> tcp, binds", SX_TX_UNDECIDED, 0, SX_TX_TCP, 1 },
		{ "redirect + redirected stays", SX_TX_REDIRECT, 1, SX_TX_REDIRECT, 0 },
		{ "redirect + miss -> tcp, binds", SX_TX_REDIRECT, 0, SX_TX_TCP, 1 },
		{ "tcp + tcp stays, no rebind", SX_TX_TCP, 0, SX_TX_TCP, 0 },
	};
	size_t i;

	for (i = 0; i < ARRAY_LEN(cases); i++) {
		__u32 path = cases[i].from;

		expect_int(cases[i].name, cases[i].bound_now,
			   sx_msg_record(&path, cases[i].redirected));
		expect_int(cases[i].name, cases[i].to, path);
	}
}

/*
 * Whole message sequences on one direction. Each step gives whether the
 * peer socket is in the map and whether acceleration is on, and the
 * expected outcome.
 */
struct msg_step {
	int accel_enabled;
	int peer_found;
	int want_redirected;
	int want_bound_now;
	__u32 want_path;
};

static void run_sequence(const char *name, const struct msg_step *steps, size_t n)
{
	__u32 path = SX_TX_UNDECIDED;
	size_t i;

	for (i = 0; i < n; i++) {
		int redirected, bound;
		char step[128];

		snprintf(step, sizeof(step), "%s, message %zu", name, i + 1);
		bound = send_msg(&path, steps[i].accel_enabled, steps[i].peer_found, &redirected);
		expect_int(step, steps[i].want_redirected, redirected);
		expect_int(step, steps[i].want_bound_now, bound);
		expect_int(step, steps[i].want_path, path);
	}
}

static void test_msg_first_message_redirected_stays_redirect(void **state)
{
	static const struct msg_step steps[] = {
		{ 1, 1, 1, 0, SX_TX_REDIRECT },
		{ 1, 1, 1, 0, SX_TX_REDIRECT },
		{ 1, 1, 1, 0, SX_TX_REDIRECT },
	};

	run_sequence("redirect from the start", steps, ARRAY_LEN(steps));
}

/* A miss binds the direction to TCP once; the peer appearing later changes nothing. */
static void test_msg_tcp_bound_direction_never_redirects_again(void **state)
{
	static const struct msg_step steps[] = {
		{ 1, 0, 0, 1, SX_TX_TCP }, /* miss: bound, reported once */
		{ 1, 0, 0, 0, SX_TX_TCP }, /* still a miss: not reported again */
		{ 1, 1, 0, 0, SX_TX_TCP }, /* peer now present: still TCP */
		{ 1, 1, 0, 0, SX_TX_TCP },
	};

	run_sequence("miss first", steps, ARRAY_LEN(steps));
}

/* Falling back from redirect to TCP is allowed, and reported. */
static void test_msg_redirect_direction_falls_back_to_tcp_on_miss(void **state)
{
	static const struct msg_step steps[] = {
		{ 1, 1, 1, 0, SX_TX_REDIRECT },
		{ 1, 0, 0, 1, SX_TX_TCP }, /* peer gone: bound to TCP */
		{ 1, 1, 0, 0, SX_TX_TCP }, /* and never back */
	};

	run_sequence("redirect then miss", steps, ARRAY_LEN(steps));
}

/* Disabling acceleration stops redirects even when the peer is there. */
static void test_msg_disabled_never_redirects(void **state)
{
	static const struct msg_step from_start[] = {
		{ 0, 1, 0, 1, SX_TX_TCP },
		{ 0, 1, 0, 0, SX_TX_TCP },
		{ 1, 1, 0, 0, SX_TX_TCP }, /* re-enabling does not undo the binding */
	};
	static const struct msg_step mid_stream[] = {
		{ 1, 1, 1, 0, SX_TX_REDIRECT },
		{ 0, 1, 0, 1, SX_TX_TCP },
		{ 1, 1, 0, 0, SX_TX_TCP },
	};

	run_sequence("disabled from the start", from_start, ARRAY_LEN(from_start));
	run_sequence("disabled mid-stream", mid_stream, ARRAY_LEN(mid_stream));
}

/*
 * The cgroup/setsockopt program sees the remote port as struct bpf_sock's bare
 * network-order dst_port; once encoded it must build the very key the sockops
 * and sk_msg hooks build for the same socket, or its direction updates would
 * land on the wrong entry.
 */
static void test_setsockopt_port_encoding_matches_the_hooks(void **state)
{
	static const __u16 ports[] = { 1, 80, 0x1234, 0x8000, 65535 };
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(ports) / sizeof(ports[0]); i++) {
		struct sx_raw_tuple hook = { .family = SX_AF_INET, .local_ip4 = htonl(0x0af40102),
					     .remote_ip4 = htonl(0x0af40103), .local_port = 4242,
					     .remote_port = htonl(ports[i]) };
		struct sx_raw_tuple sockopt = hook;
		struct sx_sock_key a, b;

		sockopt.remote_port = sx_remote_port_from_be16(htons(ports[i]));
		assert_int_equal(sockopt.remote_port, hook.remote_port);
		assert_int_equal(sx_sock_key_from_raw(&hook, &a), 0);
		assert_int_equal(sx_sock_key_from_raw(&sockopt, &b), 0);
		assert_int_equal(b.remote_port, ports[i]);
		assert_memory_equal(&a, &b, sizeof(a));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_key_from_ipv4_tuple),
		cmocka_unit_test(test_key_from_ipv6_tuple),
		cmocka_unit_test(test_key_from_v4mapped_tuple_equals_ipv4_key),
		cmocka_unit_test(test_key_from_mapped_and_native_ipv6_mix_fails),
		cmocka_unit_test(test_key_from_unsupported_family_fails),
		cmocka_unit_test(test_key_from_zeroes_every_unused_byte),
		cmocka_unit_test(test_reverse_is_an_involution),
		cmocka_unit_test(test_reverse_of_key_is_peer_sockets_key),
		cmocka_unit_test(test_reverse_matches_across_mapped_and_ipv4_peers),
		cmocka_unit_test(test_endpoint_key_set_copies_ip_and_zeroes_pad),
		cmocka_unit_test(test_endpoint_key_from_sock_key_matches_mapped_and_native),
		cmocka_unit_test(test_ip_is_loopback),
		cmocka_unit_test(test_insert_decide_every_combination),
		cmocka_unit_test(test_insert_decide_named_cases),
		cmocka_unit_test(test_msg_may_redirect_table),
		cmocka_unit_test(test_msg_record_transitions),
		cmocka_unit_test(test_msg_first_message_redirected_stays_redirect),
		cmocka_unit_test(test_msg_tcp_bound_direction_never_redirects_again),
		cmocka_unit_test(test_msg_redirect_direction_falls_back_to_tcp_on_miss),
		cmocka_unit_test(test_msg_disabled_never_redirects),
		cmocka_unit_test(test_setsockopt_port_encoding_matches_the_hooks),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
