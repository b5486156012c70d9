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
