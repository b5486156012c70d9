// SPDX-License-Identifier: Apache-2.0
/*
 * Unit tests for loader/parse.h: how operator input (addresses, ports,
 * on/off words, MAC addresses, CIDRs) is accepted or rejected.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "parse.h"
#include "unit_helpers.h"

/* ---- sx_parse_endpoint ------------------------------------------------- */

static void test_parse_endpoint_accepts_ipv4_in_network_order(void **state)
{
	static const struct {
		const char *text;
		uint8_t bytes[4]; /* the address as it appears on the wire */
	} cases[] = {
		{ "10.0.0.1", { 10, 0, 0, 1 } },
		{ "192.168.1.254", { 192, 168, 1, 254 } },
		{ "0.0.0.0", { 0, 0, 0, 0 } },
		{ "255.255.255.255", { 255, 255, 255, 255 } },
	};
	size_t i;

	for (i = 0; i < ARRAY_LEN(cases); i++) {
		struct sx_endpoint_key key;

		memset(&key, 0xff, sizeof(key));
		expect_int(cases[i].text, 0, sx_parse_endpoint(cases[i].text, &key));
		expect_int(cases[i].text, SX_AF_INET, key.family);
		if (memcmp(&key.ip.addr[0], cases[i].bytes, 4))
			fail_msg("case \"%s\": addr[0] is not the address in network order",
				 cases[i].text);
		/* IPv4 lives in addr[0]; the other words are zero. */
		expect_int(cases[i].text, 0, key.ip.addr[1]);
		expect_int(cases[i].text, 0, key.ip.addr[2]);
		expect_int(cases[i].text, 0, key.ip.addr[3]);
	}
}

static void test_parse_endpoint_accepts_ipv6(void **state)
{
	static const struct {
		const char *text;
		uint8_t bytes[16];
	} cases[] = {
		{ "fd00::1", { 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 } },
		{ "::1", { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 } },
		{ "2001:db8:1:2:3:4:5:6",
		  { 0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6 } },
		{ "FE80::ABCD", { 0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xab, 0xcd } },
	};
	size_t i;

	for (i = 0; i < ARRAY_LEN(cases); i++) {
		struct sx_endpoint_key key;

		memset(&key, 0xff, sizeof(key));
		expect_int(cases[i].text, 0, sx_parse_endpoint(cases[i].text, &key));
		expect_int(cases[i].text, SX_AF_INET6, key.family);
		if (memcmp(key.ip.addr, cases[i].bytes, 16))
			fail_msg("case \"%s\": address bytes differ", cases[i].text);
	}
}

static void test_parse_endpoint_stores_v4mapped_ipv6_as_ipv4(void **state)
{
	static const struct {
		const char *text;
		uint8_t bytes[4];
	} cases[] = {
		{ "::ffff:10.1.2.3", { 10, 1, 2, 3 } },
		{ "::FFFF:192.168.0.1", { 192, 168, 0, 1 } },
		{ "::ffff:a01:203", { 10, 1, 2, 3 } }, /* hex form of the same */
	};
	size_t i;

	for (i = 0; i < ARRAY_LEN(cases); i++) {
		struct sx_endpoint_key key;

		memset(&key, 0xff, sizeof(key));
		expect_int(cases[i].text, 0, sx_parse_endpoint(cases[i].text, &key));
		expect_int(cases[i].text, SX_AF_INET, key.family);
		if (memcmp(&key.ip.addr[0], cases[i].bytes, 4))
			fail_msg("case \"%s\": addr[0] is not the IPv4 address in network order",
				 cases[i].text);
		expect_int(cases[i].text, 0, key.ip.addr[1]);
		expect_int(cases[i].text, 0, key.ip.addr[2]);
		expect_int(cases[i].text, 0, key.ip.addr[3]);
	}
}

static void test_parse_endpoint_rejects_malformed(void **state)
{
	static const char *const cases[] = {
		"",             /* empty */
		"10.0.0.1/24",  /* prefix */
		"10.0.0.256",   /* octet out of range */
		"1.2.3",        /* shorthand inet_aton would accept */
		" 10.0.0.1",    /* leading space */
		"10.0.0.1 ",    /* trailing space */
		"10.0.0.1:80",  /* with a port */
		"fe80::1%eth0", /* zone index */
		"fd00::/64",    /* IPv6 prefix */
		"fd00:::1",     /* too many colons */
		"hello",
	};
	size_t i;

	for (i = 0; i < ARRAY_LEN(cases); i++) {
		struct sx_endpoint_key key;

		expect_int(cases[i], -EINVAL, sx_parse_endpoint(cases[i], &key));
	}
}

static void test_parse_endpoint_rejects_null(void **state)
{
	struct sx_endpoint_key key;

	assert_int_equal(-EINVAL, sx_parse_endpoint(NULL, &key));
}

/* The key is hashed as raw bytes by the BPF map: garbage in pad would miss. */
static void test_parse_endpoint_zeroes_key_padding(void **state)
{
	static const char *const cases[] = { "10.0.0.1", "fd00::1", "::ffff:10.0.0.1" };
	static const uint8_t zero[3];
	size_t i;

	for (i = 0; i < ARRAY_LEN(cases); i++) {
		struct sx_endpoint_key key;

		memset(&key, 0xff, sizeof(key));
		expect_int(cases[i], 0, sx_parse_endpoint(cases[i], &key));
		if (memcmp(key.pad, zero, sizeof(key.pad)))
			fail_msg("case \"%s\": pad bytes are not zero", cases[i]);
	}
}

/* ---- sx_format_endpoint ------------------------------------------------ */

static void test_format_endpoint_round_trips_parse(void **state)
{
	static const struct {
		const char *text;
		const char *formatted; /* the canonical form */
	} cases[] = {
		{ "10.0.0.1", "10.0.0.1" },
		{ "255.255.255.255", "255.255.255.255" },
		{ "fd00::1", "fd00::1" },
		{ "2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1" },
		{ "FD00:0:0:0:0:0:0:A", "fd00::a" },
		{ "::ffff:10.1.2.3", "10.1.2.3" }, /* stored, hence shown, as IPv4 */
	};
	size_t i;

	for (i = 0; i < ARRAY_LEN(cases); i++) {
		struct sx_endpoint_key key, again;
		char buf[INET6_ADDRSTRLEN];

		expect_int(cases[i].text, 0, sx_parse_endpoint(cases[i].text, &key));
		if (sx_format_endpoint(&key, buf, sizeof(buf)) != buf)
			fail_msg("case \"%s\": did not return buf", cases[i].text);
		if (strcmp(buf, cases[i].formatted))
			fail_msg("case \"%s\": formatted as \"%s\", expected \"%s\"",
				 cases[i].text, buf, cases[i].formatted);
		/* Parsing the output gives back the very same key. */
		expect_int(cases[i].text, 0, sx_parse_endpoint(buf, &again));
		if (memcmp(&key, &again, sizeof(key)))
			fail_msg("case \"%s\": key changed over a round trip", cases[i].text);
	}
}

static void test_format_endpoint_too_small_buffer_gives_placeholder(void **state)
{
	struct sx_endpoint_key key;
	char buf[4];

	assert_int_equal(0, sx_parse_endpoint("10.0.0.1", &key));
	assert_string_equal("?", sx_format_endpoint(&key, buf, sizeof(buf)));
}

/* ---- sx_parse_port ----------------------------------------------------- */

static void test_parse_port_accepts_1_to_65535(void **state)
{
	static const struct {
		const char *text;
		__u16 port;
	} cases[] = {
		{ "1", 1 },
		{ "80", 80 },
		{ "8080", 8080 },
		{ "65535", 65535 },
	};
	size_t i;

	for (i = 0; i < ARRAY_LEN(cases); i++) {
		__u16 port = 0;

		expect_int(cases[i].text, 0, sx_parse_port(cases[i].text, &port));
		expect_int(cases[i].text, cases[i].port, port);
	}
}

static void test_parse_port_rejects_out_of_range_and_junk(void **state)
{
	static const char *const cases[] = {
		"0",     "65536", "-1", "", "80x", "0x50", " 80", "+80", "80 ",
		"99999999999999999999999", /* overflows long */
	};
	size_t i;

	for (i = 0; i < ARRAY_LEN(cases); i++) {
		__u16 port = 0;

		expect_int(cases[i], -EINVAL, sx_parse_port(cases[i], &port));
	}
	expect_int("NULL", -EINVAL, sx_parse_port(NULL, &(__u16){ 0 }));
}

/* ---- sx_parse_onoff ---------------------------------------------------- */

static void test_parse_onoff_accepts_words_case_insensitively(void **state)
{
	static const struct {
		const char *text;
		int on;
	} cases[] = {
		{ "on", 1 },      { "ON", 1 },       { "On", 1 },      { "1", 1 },
		{ "true", 1 },    { "TRUE", 1 },     { "enable", 1 },  { "Enable", 1 },
		{ "off", 0 },     { "OFF", 0 },      { "oFf", 0 },     { "0", 0 },
		{ "false", 0 },   { "False", 0 },    { "disable", 0 }, { "DISABLE", 0 },
	};
	size_t i;

	for (i = 0; i < ARRAY_LEN(cases); i++) {
		int on = -1;

		expect_int(cases[i].text, 0, sx_parse_onoff(cases[i].text, &on));
		expect_int(cases[i].text, cases[i].on, on);
	}
}

static void test_parse_onoff_rejects_other_words(void **state)
{
	static const char *const cases[] = { "", "yes", "no", "onn", "of", " on", "on ", "2" };
	size_t i;

	for (i = 0; i < ARRAY_LEN(cases); i++) {
		int on = -1;

		expect_int(cases[i], -EINVAL, sx_parse_onoff(cases[i], &on));
		expect_int(cases[i], -1, on); /* left untouched */
	}
	expect_int("NULL", -EINVAL, sx_parse_onoff(NULL, &(int){ 0 }));
}

/* ---- sx_parse_mac ------------------------------------------------------ */

static void test_parse_mac_accepts_lower_and_upper_hex(void **state)
{
	static const struct {
		const char *text;
		__u8 mac[6];
	} cases[] = {
		{ "02:42:ac:11:00:02", { 0x02, 0x42, 0xac, 0x11, 0x00, 0x02 } },
		{ "AA:BB:CC:DD:EE:FF", { 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff } },
		{ "aA:0f:F0:9e:E9:01", { 0xaa, 0x0f, 0xf0, 0x9e, 0xe9, 0x01 } },
		{ "00:00:00:00:00:00", { 0 } },
	};
	size_t i;

	for (i = 0; i < ARRAY_LEN(cases); i++) {
		__u8 mac[6];

		memset(mac, 0x55, sizeof(mac));
		expect_int(cases[i].text, 0, sx_parse_mac(cases[i].text, mac));
		if (memcmp(mac, cases[i].mac, 6))
			fail_msg("case \"%s\": wrong bytes", cases[i].text);
	}
}

static void test_parse_mac_rejects_malformed(void **state)
{
	static const char *const cases[] = {
		"",                     /* wrong lengths */
		"02:42:ac:11:00",
		"02:42:ac:11:00:0",
		"02:42:ac:11:00:02:03",
		"02:42:ac:11:00:002",
		"02-42-ac-11-00-02",    /* missing colons */
		"0242ac110002",
		"0242:ac:11:00:020",
		"02:42:ac:11:00:gg",    /* non-hex */
		"zz:42:ac:11:00:02",
		"02:42: c:11:00:02",
		"02:42:ac:11:00:02x",   /* trailing characters */
		"02:42:ac:11:00:02 ",
		"02:42:ac:11:00:02\n",
		"2:42:ac:11:00:02x",    /* 17 long: a short byte makes room for junk */
	};
	size_t i;

	for (i = 0; i < ARRAY_LEN(cases); i++) {
		__u8 mac[6];

		expect_int(cases[i], -EINVAL, sx_parse_mac(cases[i], mac));
	}
	expect_int("NULL", -EINVAL, sx_parse_mac(NULL, (__u8[6]){ 0 }));
}

/*
 * sscanf's %2x alone would accept a sign, a "0x" prefix and leading
 * whitespace: each of these 17-character strings holds a non-hex character in
 * a byte position and must be rejected.
 */
static void test_parse_mac_rejects_sign_prefix_and_tab(void **state)
{
	static const char *const cases[] = {
		"+a:42:ac:11:00:02",
		"-1:42:ac:11:00:02",
		"0x:42:ac:11:00:02",
		"\ta:42:ac:11:00:02",
		"02:42:ac:11:00:+2",
		"02:42:ac:11:00:\n2",
	};
	size_t i;

	for (i = 0; i < ARRAY_LEN(cases); i++) {
		__u8 mac[6];

		expect_int(cases[i], -EINVAL, sx_parse_mac(cases[i], mac));
	}
}

/* ---- sx_parse_cidr ----------------------------------------------------- */

/* An IPv4 CIDR is stored IPv4-mapped, ::ffff:a.b.c.d/(96 + len): one trie for both families. */
static void test_parse_cidr_stores_ipv4_mapped(void **state)
{
	static const struct {
		const char *text;
		uint8_t bytes[4];
		__u32 prefixlen;
	} cases[] = {
		{ "10.244.1.0/24", { 10, 244, 1, 0 }, 120 },
		{ "192.168.0.0/16", { 192, 168, 0, 0 }, 112 },
		{ "10.0.0.1/32", { 10, 0, 0, 1 }, 128 },
		{ "0.0.0.0/0", { 0, 0, 0, 0 }, 96 },
		{ "128.0.0.0/1", { 128, 0, 0, 0 }, 97 },
	};
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	size_t i;

	for (i = 0; i < ARRAY_LEN(cases); i++) {
		struct sx_cidr_key key;

		memset(&key, 0x55, sizeof(key));
		expect_int(cases[i].text, 0, sx_parse_cidr(cases[i].text, &key));
		expect_int(cases[i].text, cases[i].prefixlen, key.prefixlen);
		if (memcmp(key.ip.addr, mapped, sizeof(mapped)))
			fail_msg("case \"%s\": not ::ffff:0:0/96", cases[i].text);
		if (memcmp(&key.ip.addr[3], cases[i].bytes, 4))
			fail_msg("case \"%s\": addr[3] is not the address in network order",
				 cases[i].text);
	}
}

static void test_parse_cidr_stores_ipv6_as_is(void **state)
{
	static const struct {
		const char *text;
		uint8_t bytes[16];
		__u32 prefixlen;
	} cases[] = {
		{ "fd00:244:1::/64", { 0xfd, 0, 0x02, 0x44, 0, 1 }, 64 },
		{ "FD00:244:1:0::/64", { 0xfd, 0, 0x02, 0x44, 0, 1 }, 64 },
		{ "2001:db8::/32", { 0x20, 0x01, 0x0d, 0xb8 }, 32 },
		{ "fd00::1/128", { 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 }, 128 },
		{ "8000::/1", { 0x80 }, 1 },
		/* Close to the IPv4-mapped range, yet outside it. */
		{ "::fffe:0:0/96", { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xfe }, 96 },
		{ "0:0:0:1::/64", { 0, 0, 0, 0, 0, 0, 0, 1 }, 64 },
	};
	size_t i;

	for (i = 0; i < ARRAY_LEN(cases); i++) {
		struct sx_cidr_key key;

		memset(&key, 0x55, sizeof(key));
		expect_int(cases[i].text, 0, sx_parse_cidr(cases[i].text, &key));
		expect_int(cases[i].text, cases[i].prefixlen, key.prefixlen);
		if (memcmp(key.ip.addr, cases[i].bytes, 16))
			fail_msg("case \"%s\": address bytes differ", cases[i].text);
	}
}

static void test_parse_cidr_rejects_malformed(void **state)
{
	static const char *const cases[] = {
		"",
		"10.244.1.0",           /* no prefix length */
		"10.244.1.0/",          /* empty prefix length */
		"/24",                  /* no address */
		"10.244.1.0//24",
		"10.244.1.0/24/24",
		"10.244.1.0/33",        /* longer than the family */
		"10.244.1.0/1000",
		"fd00::/129",
		"10.244.1.5/24",        /* host bits set: a typo, not a wider CIDR */
		"10.244.1.128/24",
		"0.0.0.1/0",
		"fd00:244:1::1/64",
		"fd00:244:1:0:8000::/64",
		"10.244.1.0/+24",       /* sign, spaces, other bases, leading zero */
		"10.244.1.0/-1",
		"10.244.1.0/ 24",
		"10.244.1.0/24 ",
		" 10.244.1.0/24",
		"10.244.1.0 /24",
		"10.244.1.0/0x18",
		"10.244.1.0/024",
		"10.244.1.0/00",
		"10.244.1.0/24x",
		"10.244.1.0/2x",
		"10.244.1.0/24\n",
		"10.244/16",            /* shorthand inet_aton would accept */
		"10.244.1.256/24",
		"fe80::%eth0/64",       /* zone index */
		"hello/24",
		"0000:0000:0000:0000:0000:0000:0000:0000:0/0", /* longer than any address */
		/* IPv4-mapped text: refused, IPv4 is written as IPv4. */
		"::ffff:10.244.1.0/120",
		"::ffff:0:0/96",
		"::ffff:a.b.c.d/128",
		/* IPv6 CIDRs holding the IPv4-mapped range would catch every IPv4 lookup. */
		"::/0",
		"::/1",
		"::/64",
		"::/80",
		"::8000:0:0/81",
	};
	size_t i;

	for (i = 0; i < ARRAY_LEN(cases); i++) {
		struct sx_cidr_key key, before;

		memset(&key, 0x55, sizeof(key));
		before = key;
		expect_int(cases[i], -EINVAL, sx_parse_cidr(cases[i], &key));
		if (memcmp(&key, &before, sizeof(key)))
			fail_msg("case \"%s\": key changed on failure", cases[i]);
	}
	expect_int("NULL", -EINVAL, sx_parse_cidr(NULL, &(struct sx_cidr_key){ 0 }));
}

/* ---- sx_format_cidr ---------------------------------------------------- */

/* A CIDR holds an address of its own family inside its prefix, and nothing else. */
static void test_cidr_holds_addresses_of_its_family(void **state)
{
	static const struct {
		const char *cidr, *addr;
		int held;
	} cases[] = {
		{ "10.244.1.0/24", "10.244.1.1", 1 },	{ "10.244.1.0/24", "10.244.1.255", 1 },
		{ "10.244.1.0/24", "10.244.2.1", 0 },	{ "10.244.0.0/16", "10.244.60.5", 1 },
		{ "10.244.60.5/32", "10.244.60.5", 1 }, { "0.0.0.0/0", "192.0.2.1", 1 },
		{ "0.0.0.0/0", "fd00::1", 0 },		{ "fd00:244:1::/64", "fd00:244:1::1", 1 },
		{ "fd00:244::/32", "fd00:244:60::5", 1 }, { "fd00:244::/48", "fd00:244:60::5", 0 },
		{ "fd00:244:1::/64", "fd00:244:2::1", 0 },
		{ "fd00::/8", "10.244.1.1", 0 },
	};
	struct sx_endpoint_key addr;
	struct sx_cidr_key cidr;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(0, sx_parse_cidr(cases[i].cidr, &cidr));
		assert_int_equal(0, sx_parse_endpoint(cases[i].addr, &addr));
		if (sx_cidr_holds(&cidr, &addr) != cases[i].held)
			fail_msg("%s holds %s: expected %d", cases[i].cidr, cases[i].addr, cases[i].held);
	}
}

static void test_format_cidr_round_trips_parse(void **state)
{
	static const struct {
		const char *text;
		const char *formatted; /* the canonical form */
	} cases[] = {
		{ "10.244.1.0/24", "10.244.1.0/24" },
		{ "0.0.0.0/0", "0.0.0.0/0" },
		{ "10.0.0.1/32", "10.0.0.1/32" },
		{ "fd00:244:1::/64", "fd00:244:1::/64" },
		{ "FD00:244:1:0:0::/64", "fd00:244:1::/64" },
		{ "2001:db8::/32", "2001:db8::/32" },
		{ "fd00::1/128", "fd00::1/128" },
		{ "8000::/1", "8000::/1" },
	};
	size_t i;

	for (i = 0; i < ARRAY_LEN(cases); i++) {
		struct sx_cidr_key key, again;
		char buf[64];

		expect_int(cases[i].text, 0, sx_parse_cidr(cases[i].text, &key));
		if (sx_format_cidr(&key, buf, sizeof(buf)) != buf)
			fail_msg("case \"%s\": did not return buf", cases[i].text);
		if (strcmp(buf, cases[i].formatted))
			fail_msg("case \"%s\": formatted as \"%s\", expected \"%s\"",
				 cases[i].text, buf, cases[i].formatted);
		expect_int(cases[i].text, 0, sx_parse_cidr(buf, &again));
		if (memcmp(&key, &again, sizeof(key)))
			fail_msg("case \"%s\": key changed over a round trip", cases[i].text);
	}
}

static void test_format_cidr_too_small_buffer_gives_placeholder(void **state)
{
	struct sx_cidr_key key;
	char buf[14]; /* "10.244.1.0/24" and its NUL */

	assert_int_equal(0, sx_parse_cidr("10.244.1.0/24", &key));
	assert_string_equal("10.244.1.0/24", sx_format_cidr(&key, buf, sizeof(buf)));
	assert_string_equal("?", sx_format_cidr(&key, buf, sizeof(buf) - 1));
	assert_string_equal("?", sx_format_cidr(&key, buf, 4));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_endpoint_accepts_ipv4_in_network_order),
		cmocka_unit_test(test_parse_endpoint_accepts_ipv6),
		cmocka_unit_test(test_parse_endpoint_stores_v4mapped_ipv6_as_ipv4),
		cmocka_unit_test(test_parse_endpoint_rejects_malformed),
		cmocka_unit_test(test_parse_endpoint_rejects_null),
		cmocka_unit_test(test_parse_endpoint_zeroes_key_padding),
		cmocka_unit_test(test_format_endpoint_round_trips_parse),
		cmocka_unit_test(test_format_endpoint_too_small_buffer_gives_placeholder),
		cmocka_unit_test(test_parse_port_accepts_1_to_65535),
		cmocka_unit_test(test_parse_port_rejects_out_of_range_and_junk),
		cmocka_unit_test(test_parse_onoff_accepts_words_case_insensitively),
		cmocka_unit_test(test_parse_onoff_rejects_other_words),
		cmocka_unit_test(test_parse_mac_accepts_lower_and_upper_hex),
		cmocka_unit_test(test_parse_mac_rejects_malformed),
		cmocka_unit_test(test_parse_mac_rejects_sign_prefix_and_tab),
		cmocka_unit_test(test_parse_cidr_stores_ipv4_mapped),
		cmocka_unit_test(test_parse_cidr_stores_ipv6_as_is),
		cmocka_unit_test(test_parse_cidr_rejects_malformed),
		cmocka_unit_test(test_cidr_holds_addresses_of_its_family),
		cmocka_unit_test(test_format_cidr_round_trips_parse),
		cmocka_unit_test(test_format_cidr_too_small_buffer_gives_placeholder),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
