// SPDX-License-Identifier: Apache-2.0
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "parse.h"

int sx_parse_endpoint(const char *text, struct sx_endpoint_key *key)
{
	struct in6_addr a6;
	struct in_addr a4;

	if (!text || !*text)
		return -EINVAL;
	memset(key, 0, sizeof(*key));
	/* inet_pton rejects prefixes, ports, trailing junk and shorthand forms. */
	if (inet_pton(AF_INET, text, &a4) == 1) {
		key->family = SX_AF_INET;
		key->ip.addr[0] = a4.s_addr;
		return 0;
	}
	if (inet_pton(AF_INET6, text, &a6) == 1) {
		if (IN6_IS_ADDR_V4MAPPED(&a6)) {
			/* Stored as IPv4, the form the socket keys use. */
			key->family = SX_AF_INET;
			memcpy(&key->ip.addr[0], &a6.s6_addr[12], 4);
			return 0;
		}
		key->family = SX_AF_INET6;
		memcpy(key->ip.addr, &a6, sizeof(a6));
		return 0;
	}
	return -EINVAL;
}

int sx_parse_ip_prefix(const char *text, struct sx_endpoint_key *key, int *prefixlen)
{
	char ip[INET6_ADDRSTRLEN + 1];
	const char *slash = text ? strchr(text, '/') : NULL;
	size_t n = slash ? (size_t)(slash - text) : 0;
	char *end;
	long len;

	if (!slash || n == 0 || n >= sizeof(ip) || !isdigit((unsigned char)slash[1]))
		return -EINVAL;
	memcpy(ip, text, n);
	ip[n] = '\0';
	errno = 0;
	len = strtol(slash + 1, &end, 10);
	if (errno || *end || sx_parse_endpoint(ip, key))
		return -EINVAL;
	if (len < 0 || len > (key->family == SX_AF_INET ? 32 : 128))
		return -EINVAL;
	*prefixlen = (int)len;
	return 0;
}

const char *sx_format_endpoint(const struct sx_endpoint_key *key, char *buf, size_t len)
{
	int af = key->family == SX_AF_INET6 ? AF_INET6 : AF_INET;

	if (!inet_ntop(af, key->ip.addr, buf, (socklen_t)len))
		snprintf(buf, len, "?");
	return buf;
}

int sx_parse_port(const char *text, __u16 *port)
{
	char *end;
	long v;

	if (!text || *text < '0' || *text > '9')
		return -EINVAL;
	errno = 0;
	v = strtol(text, &end, 10);
	if (errno || *end || v < 1 || v > 65535)
		return -EINVAL;
	*port = (__u16)v;
	return 0;
}

int sx_parse_onoff(const char *text, int *on)
{
	static const char *const yes[] = { "on", "1", "true", "enable", "enabled" };
	static const char *const no[] = { "off", "0", "false", "disable", "disabled" };
	size_t i;

	if (!text)
		return -EINVAL;
	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (!strcasecmp(text, yes[i])) {
			*on = 1;
			return 0;
		}
		if (!strcasecmp(text, no[i])) {
			*on = 0;
			return 0;
		}
	}
	return -EINVAL;
}

int sx_parse_mac(const char *text, __u8 mac[6])
{
	int i;

	/* Exactly "xx:xx:xx:xx:xx:xx": sscanf alone would accept signs, 0x and spaces. */
	if (!text || strlen(text) != 17)
		return -EINVAL;
	for (i = 0; i < 17; i++) {
		if (i % 3 == 2 ? text[i] != ':' : !isxdigit((unsigned char)text[i]))
			return -EINVAL;
	}
	for (i = 0; i < 6; i++) {
		const char *byte = text + (size_t)i * 3;

		mac[i] = (__u8)strtoul((char[]){ byte[0], byte[1], '\0' }, NULL, 16);
	}
	return 0;
}

/* The mask of one 32-bit word (host order) that holds the given number of prefix bits. */
static __u32 word_mask(__u32 bits)
{
	return bits >= 32 ? 0xffffffffu : bits ? ~(0xffffffffu >> bits) : 0;
}

/* The prefix bits of word i of a key of prefixlen bits (0..32). */
static __u32 word_bits(__u32 prefixlen, __u32 i)
{
	return prefixlen > i * 32 ? prefixlen - i * 32 : 0;
}

/*
 * Does an IPv6 key share its first min(prefixlen, 96) bits with ::ffff:0:0?
 * Then it lies inside the IPv4-mapped range (prefixlen >= 96) or contains it
 * (shorter): either way it would catch the trie's IPv4 lookups.
 */
static int cidr_overlaps_v4mapped(const struct sx_cidr_key *key)
{
	__u32 bits = key->prefixlen < 96 ? key->prefixlen : 96, i, mask, mapped;

	for (i = 0; i < 3; i++) {
		mask = word_mask(word_bits(bits, i));
		mapped = i == 2 ? 0xffff : 0; /* ::ffff:0:0, host order */
		if ((ntohl(key->ip.addr[i]) & mask) != (mapped & mask))
			return 0;
	}
	return 1;
}

int sx_cidr_holds(const struct sx_cidr_key *key, const struct sx_endpoint_key *addr)
{
	struct sx_ip ip = addr->ip;
	__u32 i, mask;

	/* The trie's form: IPv4 as IPv4-mapped IPv6. */
	if (addr->family == SX_AF_INET) {
		memset(&ip, 0, sizeof(ip));
		ip.addr[2] = htonl(0xffff);
		ip.addr[3] = addr->ip.addr[0];
	}
	for (i = 0; i < 4; i++) {
		mask = word_mask(word_bits(key->prefixlen, i));
		if ((ntohl(ip.addr[i]) & mask) != (ntohl(key->ip.addr[i]) & mask))
			return 0;
	}
	return 1;
}

int sx_parse_cidr(const char *text, struct sx_cidr_key *key)
{
	struct sx_cidr_key k;
	char addr[INET6_ADDRSTRLEN];
	const char *slash, *p;
	struct in6_addr a6;
	struct in_addr a4;
	__u32 len = 0, i;

	if (!text)
		return -EINVAL;
	memset(&k, 0, sizeof(k));
	slash = strchr(text, '/');
	if (!slash || slash == text || (size_t)(slash - text) >= sizeof(addr))
		return -EINVAL;
	memcpy(addr, text, (size_t)(slash - text));
	addr[slash - text] = '\0';
	/* Decimal digits only: strtoul would take a sign, spaces or 0x. No leading zero. */
	p = slash + 1;
	if (!*p || strlen(p) > 3 || (p[0] == '0' && p[1]))
		return -EINVAL;
	for (; *p; p++) {
		if (*p < '0' || *p > '9')
			return -EINVAL;
		len = len * 10 + (__u32)(*p - '0');
	}
	/* inet_pton refuses spaces, shorthand IPv4 and zone indexes. */
	if (inet_pton(AF_INET, addr, &a4) == 1) {
		if (len > 32)
			return -EINVAL;
		k.prefixlen = 96 + len;
		k.ip.addr[2] = htonl(0xffff);
		k.ip.addr[3] = a4.s_addr;
	} else if (inet_pton(AF_INET6, addr, &a6) == 1) {
		if (len > 128)
			return -EINVAL;
		k.prefixlen = len;
		memcpy(k.ip.addr, &a6, sizeof(a6));
		if (cidr_overlaps_v4mapped(&k))
			return -EINVAL;
	} else {
		return -EINVAL;
	}
	for (i = 0; i < 4; i++) {
		if (ntohl(k.ip.addr[i]) & ~word_mask(word_bits(k.prefixlen, i)))
			return -EINVAL; /* host bits set */
	}
	*key = k;
	return 0;
}

int sx_cidr_is_ipv4(const struct sx_cidr_key *key)
{
	return key->prefixlen >= 96 && key->prefixlen <= 128 && !key->ip.addr[0] &&
	       !key->ip.addr[1] && key->ip.addr[2] == htonl(0xffff);
}

const char *sx_format_cidr(const struct sx_cidr_key *key, char *buf, size_t len)
{
	int v4 = sx_cidr_is_ipv4(key);
	char addr[INET6_ADDRSTRLEN];
	int w = -1;

	if (v4 ? inet_ntop(AF_INET, &key->ip.addr[3], addr, sizeof(addr))
	       : inet_ntop(AF_INET6, key->ip.addr, addr, sizeof(addr)))
		w = snprintf(buf, len, "%s/%u", addr, key->prefixlen - (v4 ? 96 : 0));
	if (w < 0 || (size_t)w >= len)
		snprintf(buf, len, "?");
	return buf;
}
