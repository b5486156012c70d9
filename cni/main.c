// SPDX-License-Identifier: Apache-2.0
/*
 * sockvx, the CNI plugin: runtimes (kubelet's CRI, containerd, podman) run it
 * once per verb with CNI_* variables and the network configuration on stdin.
 * stdout carries the result or the error JSON and nothing else; logs go to
 * stderr or to the configured logFile.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "conf.h"
#include "env.h"
#include "log.h"
#include "verbs.h"
#include "version.h"

/* More than any configuration with a prevResult; a bound against garbage on stdin. */
#define SX_CNI_STDIN_MAX (4 << 20)

static char *read_stdin(size_t *len, struct sx_cni_error *err)
{
	size_t cap = 8192, n = 0;
	char *buf = malloc(cap);
	ssize_t got;

	while (buf) {
		got = read(0, buf + n, cap - n - 1);
		if (got == 0)
			break;
		if (got < 0) {
			sx_cni_fail(err, SX_CNI_E_IO, "cannot read the network configuration", "stdin: %m");
			free(buf);
			return NULL;
		}
		n += (size_t)got;
		if (n + 1 == cap) {
			char *bigger = cap < SX_CNI_STDIN_MAX ? realloc(buf, cap * 2) : NULL;

			if (!bigger) {
				free(buf);
				sx_cni_fail(err, SX_CNI_E_DECODE, "the network configuration is too large",
					    "more than %d bytes on stdin", SX_CNI_STDIN_MAX);
				return NULL;
			}
			buf = bigger;
			cap *= 2;
		}
	}
	if (!buf) {
		sx_cni_fail(err, SX_CNI_E_IO, "out of memory", NULL);
		return NULL;
	}
	buf[n] = '\0';
	*len = n;
	return buf;
}

static void print_json(json_t *obj)
{
	char *text = json_dumps(obj, JSON_INDENT(2));

	if (text) {
		puts(text);
		free(text);
	}
	fflush(stdout);
}

/* The error JSON, in the configuration's version when sockvx speaks it. */
static void print_error(const struct sx_cni_run *run)
{
	const char *version = sx_cni_version_supported(run->conf.cni_version) ?
				      run->conf.cni_version :
				      SX_CNI_VERSION_LATEST;
	json_t *e = json_pack("{s:s, s:i, s:s}", "cniVersion", version, "code", run->err.code, "msg",
			      run->err.msg);

	if (*run->err.details)
		json_object_set_new(e, "details", json_string(run->err.details));
	print_json(e);
	json_decref(e);
}

/* logFile and logLevel from the configuration; stderr stays the fallback. */
static FILE *setup_log(const struct sx_cni_run *run, char *tag, size_t len)
{
	FILE *f = NULL;
	int fd;

	sx_log_level = run->conf.log_level;
	if (!run->conf.log_file)
		return NULL;
	fd = open(run->conf.log_file, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (fd >= 0)
		f = fdopen(fd, "a");
	if (!f) {
		pr_warn("sockvx: cannot open logFile %s: %m; logging to stderr\n", run->conf.log_file);
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	snprintf(tag, len, "%s %.12s/%s", run->env.command,
		 run->env.container_id ? run->env.container_id : "-",
		 run->env.ifname ? run->env.ifname : "-");
	sx_log_to(f, tag);
	return f;
}

static int dispatch(struct sx_cni_run *run)
{
	switch (run->env.verb) {
	case SX_CNI_ADD:
		return sx_cni_add(run);
	case SX_CNI_DEL:
		return sx_cni_del(run);
	case SX_CNI_CHECK:
		return sx_cni_check(run);
	case SX_CNI_STATUS:
		return sx_cni_status(run);
	case SX_CNI_GC:
		return sx_cni_gc(run);
	case SX_CNI_VERSION:
		return sx_cni_version(run);
	}
	return 0;
}

int main(void)
{
	struct sx_cni_run run = { 0 };
	char *text = NULL, tag[64];
	FILE *log = NULL;
	size_t len = 0;

	sx_log_setup_libbpf();
	if (!sx_cni_env_read(&run.env, &run.err) && (text = read_stdin(&len, &run.err)) &&
	    !sx_cni_conf_parse(text, len, run.env.verb, &run.conf, &run.err) &&
	    !sx_cni_env_require_path(&run.env, sx_cni_conf_is_main(&run.conf), &run.err)) {
		log = setup_log(&run, tag, sizeof(tag));
		sx_cni_conf_log_unknown(&run.conf);
		dispatch(&run);
	}
	if (run.err.code) {
		pr_warn("sockvx: %s failed: %s%s%s\n", run.env.command ? run.env.command : "command",
			run.err.msg, *run.err.details ? ": " : "", run.err.details);
		print_error(&run);
	} else if (run.out) {
		print_json(run.out);
	}
	json_decref(run.out);
	sx_cni_conf_free(&run.conf);
	free(text);
	if (log)
		fclose(log);
	return run.err.code ? 1 : 0;
}
