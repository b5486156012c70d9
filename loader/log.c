// SPDX-License-Identifier: Apache-2.0
#include <stdarg.h>
#include <stdio.h>
#include <bpf/libbpf.h>
#include "log.h"

int sx_log_level = SX_LOG_WARN;

void sx_log(enum sx_log_level level, const char *fmt, ...)
{
	va_list ap;

	if ((int)level > sx_log_level)
		return;
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
}

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	int mapped = level == LIBBPF_WARN ? SX_LOG_INFO : SX_LOG_DEBUG;

	if (mapped > sx_log_level)
		return 0;
	fputs("libbpf: ", stderr);
	return vfprintf(stderr, fmt, ap);
}

void sx_log_setup_libbpf(void)
{
	libbpf_set_print(libbpf_print);
}
