// SPDX-License-Identifier: Apache-2.0
#include <stdarg.h>
#include <stdio.h>
#include "error.h"
#include "log.h"

/* Bytes in the UTF-8 sequence at s (1 to 4), or 0 if it is not valid, as RFC 3629 has it. */
static int utf8_sequence(const unsigned char *s)
{
	unsigned char lo = 0x80, hi = 0xbf;
	int n, i;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4;
	else
		return 0;
	/* No overlong forms, no surrogates, nothing beyond U+10FFFF. */
	if (s[0] == 0xe0)
		lo = 0xa0;
	else if (s[0] == 0xed)
		hi = 0x9f;
	else if (s[0] == 0xf0)
		lo = 0x90;
	else if (s[0] == 0xf4)
		hi = 0x8f;
	if (s[1] < lo || s[1] > hi)
		return 0;
	for (i = 2; i < n; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return n;
}

/*
 * Replaces each byte that is not part of valid UTF-8 with '?': JSON strings
 * are UTF-8, and the details quote what came in (a path, a plugin's output)
 * or were cut mid-character.
 */
static void utf8_sanitize(char *text)
{
	unsigned char *s = (unsigned char *)text;

	while (*s) {
		int n = utf8_sequence(s);

		if (n) {
			s += n;
		} else {
			*s = '?';
			s++;
		}
	}
}

int sx_cni_fail(struct sx_cni_error *e, int code, const char *msg, const char *details_fmt, ...)
{
	char details[sizeof(e->details)] = "";
	va_list ap;

	if (details_fmt) {
		va_start(ap, details_fmt);
		vsnprintf(details, sizeof(details), details_fmt, ap);
		va_end(ap);
	}
	if (e->code) {
		pr_info("sockvx: also: %s%s%s\n", msg, *details ? ": " : "", details);
		return e->code;
	}
	e->code = code;
	snprintf(e->msg, sizeof(e->msg), "%s", msg);
	snprintf(e->details, sizeof(e->details), "%s", details);
	utf8_sanitize(e->details);
	return code;
}
