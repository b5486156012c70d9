// SPDX-License-Identifier: Apache-2.0
#include <stdarg.h>
#include <stdio.h>
#include <time.h>
#include <bpf/libbpf.h>
#include "log.h"

int sx_log_level = SX_LOG_WARN;
static FILE *log_file;
static const char *log_tag;

void sx_log_to(FILE *f, const char *tag)
{
	log_file = f;
	log_tag = tag;
}

/* A log file is shared by many invocations: each line says when and which. */
static FILE *log_begin(void)
{
	char stamp[32];
	struct tm tm;
	time_t now;

	if (!log_file)
		return stderr;
	now = time(NULL);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&now, &tm));
	fprintf(log_file, "%s %s ", stamp, log_tag ? log_tag : "");
	return log_file;
}

void sx_log(enum sx_log_level level, const char *fmt, ...)
{
	FILE *f;
	va_list ap;

	if ((int)level > sx_log_level)
		return;
	f = log_begin();
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	fflush(f);
}

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	int mapped = level == LIBBPF_WARN ? SX_LOG_INFO : SX_LOG_DEBUG;
	FILE *f;

	if (mapped > sx_log_level)
		return 0;
	f = log_begin();
	fputs("libbpf: ", f);
	return vfprintf(f, fmt, ap);
}

void sx_log_setup_libbpf(void)
{
	libbpf_set_print(libbpf_print);
}
