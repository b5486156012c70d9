/* SPDX-License-Identifier: Apache-2.0 */
/* Parsing of operator input: addresses, ports, on/off words. Pure functions. */
#ifndef SOCKVX_PARSE_H
#define SOCKVX_PARSE_H

#include <stddef.h>
#include "sockvx_abi.h"

/* Parses an IPv4 or IPv6 address (no prefix) into an endpoint key. 0 or -EINVAL. */
int sx_parse_endpoint(const char *text, struct sx_endpoint_key *key);
/* Formats an endpoint key as text. Returns buf. */
const char *sx_format_endpoint(const struct sx_endpoint_key *key, char *buf, size_t len);
/* Parses a TCP port 1..65535. 0 or -EINVAL. */
int sx_parse_port(const char *text, __u16 *port);
/* Parses "on"/"off" (also 1/0, true/false, enable/disable). 0 or -EINVAL. */
int sx_parse_onoff(const char *text, int *on);
/* Parses a MAC address aa:bb:cc:dd:ee:ff. 0 or -EINVAL. */
int sx_parse_mac(const char *text, __u8 mac[6]);

#endif
