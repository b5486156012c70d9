/* SPDX-License-Identifier: Apache-2.0 */
/* Parsing of operator input: addresses, ports, on/off words. Pure functions. */
#ifndef SOCKVX_PARSE_H
#define SOCKVX_PARSE_H

#include <stddef.h>
#include "sockvx_abi.h"

/* Parses an IPv4 or IPv6 address (no prefix) into an endpoint key. 0 or -EINVAL. */
int sx_parse_endpoint(const char *text, struct sx_endpoint_key *key);
/*
 * Parses an interface address with its prefix length, "10.244.1.5/24" or
 * "fd00::5/64" (host bits are the point here, unlike sx_parse_cidr). 0 or -EINVAL.
 */
int sx_parse_ip_prefix(const char *text, struct sx_endpoint_key *key, int *prefixlen);
/* Formats an endpoint key as text. Returns buf. */
const char *sx_format_endpoint(const struct sx_endpoint_key *key, char *buf, size_t len);
/* Parses a TCP port 1..65535. 0 or -EINVAL. */
int sx_parse_port(const char *text, __u16 *port);
/* Parses "on"/"off" (also 1/0, true/false, enable/disable). 0 or -EINVAL. */
int sx_parse_onoff(const char *text, int *on);
/* Parses a MAC address aa:bb:cc:dd:ee:ff. 0 or -EINVAL. */
int sx_parse_mac(const char *text, __u8 mac[6]);
/*
 * Parses "10.244.1.0/24" or "fd00:244:1::/64" into the tunnel trie's key. The
 * prefix length is required; host bits must be zero (a typo such as
 * 10.244.1.5/24 is refused rather than silently widened). IPv6 text that
 * reaches into the IPv4-mapped range (::ffff:0:0/96, where the trie keeps
 * IPv4 CIDRs) is refused: write IPv4 CIDRs as IPv4. 0 or -EINVAL.
 */
int sx_parse_cidr(const char *text, struct sx_cidr_key *key);
/* 1 if the trie key holds an IPv4 CIDR (stored IPv4-mapped, sockvx_abi.h). */
int sx_cidr_is_ipv4(const struct sx_cidr_key *key);
/* 1 if the CIDR holds the address (an IPv4 address falls in IPv4 CIDRs only). */
int sx_cidr_holds(const struct sx_cidr_key *key, const struct sx_endpoint_key *addr);
/* Formats a key as "10.244.1.0/24" or "fd00:244:1::/64" ("?" if buf is too small). Returns buf. */
const char *sx_format_cidr(const struct sx_cidr_key *key, char *buf, size_t len);

#endif
