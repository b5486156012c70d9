// SPDX-License-Identifier: Apache-2.0
#include <stdarg.h>
#include <stdio.h>
#include "error.h"
#include "log.h"

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
	return code;
}
