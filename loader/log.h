/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Levelled logging, to stderr unless sx_log_to() names another stream; libbpf's
 * own messages go one level down.
 */
#ifndef SOCKVX_LOG_H
#define SOCKVX_LOG_H

enum sx_log_level { SX_LOG_WARN = 0, SX_LOG_INFO = 1, SX_LOG_DEBUG = 2 };

#include <stdio.h>

extern int sx_log_level;

/* Sends messages to f instead of stderr, each line stamped with the time and tag (may be NULL). */
void sx_log_to(FILE *f, const char *tag);

void sx_log(enum sx_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Route libbpf's messages through sx_log (warn -> info, info -> debug). */
void sx_log_setup_libbpf(void);

#define pr_warn(...) sx_log(SX_LOG_WARN, __VA_ARGS__)
#define pr_info(...) sx_log(SX_LOG_INFO, __VA_ARGS__)
#define pr_debug(...) sx_log(SX_LOG_DEBUG, __VA_ARGS__)

#endif
