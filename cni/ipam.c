// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "ipam.h"
#include "log.h"
#include "version.h"

extern char **environ;

/* The most a plugin may print; a result is a few hundred bytes. */
#define IPAM_OUTPUT_MAX (1 << 20)

static int find_plugin(const char *cni_path, const char *type, char *out, size_t len)
{
	const char *dir = cni_path;

	while (dir && *dir) {
		const char *end = strchr(dir, ':');
		size_t n = end ? (size_t)(end - dir) : strlen(dir);

		if (n && (size_t)snprintf(out, len, "%.*s/%s", (int)n, dir, type) < len &&
		    access(out, X_OK) == 0)
			return 0;
		dir = end ? end + 1 : NULL;
	}
	return -ENOENT;
}

/* The child's environment: ours, with the CNI_* variables of this call. */
static char **child_environ(const struct sx_ipam_call *call, const char *command, char *buf[4])
{
	size_t n = 0, i, k = 0;
	char **envp;

	while (environ[n])
		n++;
	envp = calloc(n + 5, sizeof(*envp));
	if (!envp)
		return NULL;
	for (i = 0; i < n; i++)
		if (strncmp(environ[i], "CNI_COMMAND=", 12) && strncmp(environ[i], "CNI_CONTAINERID=", 16) &&
		    strncmp(environ[i], "CNI_IFNAME=", 11) && strncmp(environ[i], "CNI_NETNS=", 10))
			envp[k++] = environ[i];
	if (asprintf(&buf[0], "CNI_COMMAND=%s", command) < 0)
		buf[0] = NULL;
	if (asprintf(&buf[1], "CNI_CONTAINERID=%s", call->container_id ? call->container_id : "") < 0)
		buf[1] = NULL;
	if (asprintf(&buf[2], "CNI_IFNAME=%s", call->ifname ? call->ifname : "") < 0)
		buf[2] = NULL;
	if (asprintf(&buf[3], "CNI_NETNS=%s", call->netns ? call->netns : "") < 0)
		buf[3] = NULL;
	for (i = 0; i < 4; i++) {
		if (!buf[i]) {
			free(envp);
			return NULL;
		}
		envp[k++] = buf[i];
	}
	return envp;
}

/*
 * Runs path with stdin_text on stdin and returns what it printed (NUL
 * terminated, caller frees) and its exit status. stdin comes from a memfd,
 * so a plugin that prints before it reads can never deadlock us.
 */
static int run_plugin(const char *path, char **envp, const char *stdin_text, char **out,
		      int *status)
{
	size_t len = strlen(stdin_text), size = 0, cap = 4096;
	int in = memfd_create("sockvx-ipam-stdin", MFD_CLOEXEC), pipefd[2], r = 0;
	char *buf = malloc(cap);
	pid_t pid;
	ssize_t n;

	if (in < 0 || !buf || pipe2(pipefd, O_CLOEXEC)) {
		r = -errno;
		goto out_in;
	}
	if (write(in, stdin_text, len) != (ssize_t)len || lseek(in, 0, SEEK_SET)) {
		r = -EIO;
		goto out_pipe;
	}
	pid = fork();
	if (pid < 0) {
		r = -errno;
		goto out_pipe;
	}
	if (pid == 0) {
		if (dup2(in, 0) < 0 || dup2(pipefd[1], 1) < 0)
			_exit(127);
		execve(path, (char *[]){ (char *)path, NULL }, envp);
		_exit(127);
	}
	close(pipefd[1]);
	pipefd[1] = -1;
	while ((n = read(pipefd[0], buf + size, cap - size - 1)) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			r = -errno;
			break;
		}
		size += (size_t)n;
		if (size + 1 == cap) {
			char *bigger = cap < IPAM_OUTPUT_MAX ? realloc(buf, cap * 2) : NULL;

			if (!bigger) {
				r = -EFBIG;
				break;
			}
			buf = bigger;
			cap *= 2;
		}
	}
	buf[size] = '\0';
	/* A plugin that printed too much would block on the full pipe forever. */
	if (r)
		kill(pid, SIGKILL);
	while (waitpid(pid, status, 0) < 0 && errno == EINTR)
		;
out_pipe:
	close(pipefd[0]);
	if (pipefd[1] >= 0)
		close(pipefd[1]);
out_in:
	if (in >= 0)
		close(in);
	if (r) {
		free(buf);
		buf = NULL;
	}
	*out = buf;
	return r;
}

/* The configuration for the plugin, with cniVersion replaced when version is given. */
static char *delegate_config(const struct sx_cni_conf *conf, const char *version)
{
	json_t *copy;
	char *text;

	if (!version)
		return json_dumps(conf->root, JSON_COMPACT);
	copy = json_copy(conf->root);
	if (!copy)
		return NULL;
	json_object_set_new(copy, "cniVersion", json_string(version));
	text = json_dumps(copy, JSON_COMPACT);
	json_decref(copy);
	return text;
}

/* Asks the plugin for its versions; returns the newest one we share below ours, or NULL. */
static const char *negotiate(const char *path, const struct sx_ipam_call *call,
			     const struct sx_cni_conf *conf)
{
	char *envbuf[4] = { 0 }, *out = NULL;
	const char *best = NULL;
	char **envp = child_environ(call, "VERSION", envbuf);
	json_t *info = NULL, *list, *v;
	int status = 0, i;
	size_t k;

	if (!envp || run_plugin(path, envp, "{\"cniVersion\":\"" SX_CNI_VERSION_LATEST "\"}", &out, &status) ||
	    !WIFEXITED(status) || WEXITSTATUS(status))
		goto out;
	info = json_loads(out, 0, NULL);
	list = json_object_get(info, "supportedVersions");
	for (i = 0; sx_cni_versions[i]; i++) {
		if (sx_cni_version_parse(sx_cni_versions[i]) > conf->version)
			break;
		json_array_foreach(list, k, v)
			if (json_is_string(v) && !strcmp(json_string_value(v), sx_cni_versions[i]))
				best = sx_cni_versions[i];
	}
out:
	json_decref(info);
	free(out);
	for (i = 0; i < 4; i++)
		free(envbuf[i]);
	free(envp);
	return best;
}

/*
 * The version an older IPAM plugin was last negotiated down to, kept in
 * dataDir/.ipam-versions/<type> (no network name starts with a dot) with the identity of the plugin's binary, so
 * later calls skip the refused attempt and the VERSION call (two executions
 * of the plugin). A replaced binary no longer matches and is asked again.
 */
static int memo_paths(const struct sx_cni_conf *conf, char *dir, size_t dlen, char *file,
		      size_t flen)
{
	if ((size_t)snprintf(dir, dlen, "%s/.ipam-versions", conf->data_dir) >= dlen ||
	    (size_t)snprintf(file, flen, "%s/%s", dir, conf->ipam_type) >= flen)
		return -ENAMETOOLONG;
	return 0;
}

static int plugin_identity(const char *path, char *buf, size_t len)
{
	struct stat st;

	if (stat(path, &st))
		return -errno;
	snprintf(buf, len, "%lu:%lu:%lld.%09ld:%lld", (unsigned long)st.st_dev,
		 (unsigned long)st.st_ino, (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec,
		 (long long)st.st_size);
	return 0;
}

/* The remembered version for this binary, one of sx_cni_versions, or NULL. */
static const char *memo_get(const struct sx_cni_conf *conf, const char *path)
{
	char dir[PATH_MAX], file[PATH_MAX], id[128], line[256], want[160];
	const char *found = NULL;
	FILE *f;
	int i;

	if (memo_paths(conf, dir, sizeof(dir), file, sizeof(file)) ||
	    plugin_identity(path, id, sizeof(id)))
		return NULL;
	f = fopen(file, "re");
	if (!f)
		return NULL;
	snprintf(want, sizeof(want), "%s ", id);
	if (fgets(line, sizeof(line), f) && !strncmp(line, want, strlen(want))) {
		line[strcspn(line, "\n")] = '\0';
		for (i = 0; sx_cni_versions[i]; i++)
			if (!strcmp(line + strlen(want), sx_cni_versions[i]))
				found = sx_cni_versions[i];
	}
	fclose(f);
	/* Only ever a step down from what the configuration asks for. */
	return found && sx_cni_version_parse(found) < conf->version ? found : NULL;
}

/* Best effort: a memo that cannot be written costs the next call two executions. */
static void memo_put(const struct sx_cni_conf *conf, const char *path, const char *version)
{
	char dir[PATH_MAX], file[PATH_MAX], tmp[PATH_MAX + 16], id[128];
	FILE *f;

	if (memo_paths(conf, dir, sizeof(dir), file, sizeof(file)) ||
	    plugin_identity(path, id, sizeof(id)) ||
	    (size_t)snprintf(tmp, sizeof(tmp), "%s.%d", file, getpid()) >= sizeof(tmp))
		return;
	if (mkdir(dir, 0700) && errno != EEXIST)
		return;
	f = fopen(tmp, "we");
	if (!f)
		return;
	fprintf(f, "%s %s\n", id, version);
	if (fclose(f) || rename(tmp, file))
		unlink(tmp);
}

/* Turns a plugin's failure into our error, keeping its words. */
static int plugin_failed(const char *type, const char *command, const char *out, int status,
			 struct sx_cni_error *err)
{
	json_t *e = out ? json_loads(out, 0, NULL) : NULL;
	json_t *code = json_object_get(e, "code"), *msg = json_object_get(e, "msg"),
	       *details = json_object_get(e, "details");
	char what[128];
	int c = json_is_integer(code) ? (int)json_integer_value(code) : 0;

	snprintf(what, sizeof(what), "IPAM plugin %s failed (%s)", type, command);
	if (json_is_string(msg))
		sx_cni_fail(err, c > 0 && c < 100 ? c : SX_CNI_E_IPAM, what, "%s%s%s",
			    json_string_value(msg), json_is_string(details) ? ": " : "",
			    json_is_string(details) ? json_string_value(details) : "");
	else
		sx_cni_fail(err, SX_CNI_E_IPAM, what, "exit status %d, output: %.300s",
			    WIFEXITED(status) ? WEXITSTATUS(status) : -1, out ? out : "");
	json_decref(e);
	return err->code;
}

/*
 * GC and STATUS came with 1.1.0: a plugin that speaks an older version at most
 * has neither, and skipping the call (said at info) is the right answer, not
 * an error.
 */
static bool is_v110_command(const struct sx_ipam_call *call)
{
	return !strcmp(call->command, "GC") || !strcmp(call->command, "STATUS");
}

static bool predates_command(const char *type, const struct sx_ipam_call *call,
			     const char *version)
{
	if (!version || sx_cni_version_parse(version) >= SX_CNI_V(1, 1, 0) ||
	    !is_v110_command(call))
		return false;
	pr_info("sockvx: %s speaks cniVersion %s at most, which has no %s; not delegated\n", type,
		version, call->command);
	return true;
}

int sx_ipam_exec(const struct sx_cni_env *env, const struct sx_cni_conf *conf,
		 const struct sx_ipam_call *call, json_t **result, struct sx_cni_error *err)
{
	const char *type = conf->ipam_type, *version = NULL;
	char path[PATH_MAX], *envbuf[4] = { 0 }, *out = NULL, *text = NULL;
	char **envp = NULL;
	int status = 0, r, attempt;

	if (result)
		*result = NULL;
	if (find_plugin(env->path, type, path, sizeof(path)))
		return sx_cni_fail(err, SX_CNI_E_IPAM, "IPAM plugin not found",
				   "no executable \"%s\" in CNI_PATH=%s", type, env->path);
	envp = child_environ(call, call->command, envbuf);
	if (!envp)
		return sx_cni_fail(err, SX_CNI_E_IO, "out of memory", NULL);
	version = memo_get(conf, path);
	/*
	 * An older plugin answers GC or STATUS with any error (host-local
	 * before 1.1 wants a container ID): with nothing remembered yet, as on
	 * a fresh node before its first ADD, its versions are asked first.
	 */
	if (!version && is_v110_command(call)) {
		const char *spoken = negotiate(path, call, conf);

		if (spoken && sx_cni_version_parse(spoken) < conf->version) {
			version = spoken;
			memo_put(conf, path, version);
		}
	}
	if (predates_command(type, call, version))
		goto out;
	/*
	 * At most twice: as configured (or as remembered), then in a version
	 * the plugin says it speaks.
	 */
	for (attempt = 0; attempt < 2; attempt++) {
		free(text);
		free(out);
		out = NULL;
		text = delegate_config(conf, version);
		r = text ? run_plugin(path, envp, text, &out, &status) : -ENOMEM;
		if (r) {
			sx_cni_fail(err, SX_CNI_E_IPAM, "cannot run the IPAM plugin", "%s: %s", path,
				    strerror(-r));
			goto out;
		}
		if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
			break;
		/* Only an incompatible version is worth a second try. */
		if (attempt == 0 && strstr(out, "\"code\"")) {
			json_t *e = json_loads(out, 0, NULL);
			int c = (int)json_integer_value(json_object_get(e, "code"));

			json_decref(e);
			if (c == SX_CNI_E_VERSION && (version = negotiate(path, call, conf))) {
				pr_info("sockvx: %s speaks cniVersion %s at most; delegating with it\n",
					type, version);
				memo_put(conf, path, version);
				if (predates_command(type, call, version))
					goto out;
				continue;
			}
		}
		plugin_failed(type, call->command, out, status, err);
		goto out;
	}
	if (result) {
		json_error_t jerr;

		*result = json_loads(out, 0, &jerr);
		if (!*result)
			sx_cni_fail(err, SX_CNI_E_IPAM, "the IPAM plugin's result is not JSON",
				    "%s: %s", type, jerr.text);
	}
out:
	for (attempt = 0; attempt < 4; attempt++)
		free(envbuf[attempt]);
	free(envp);
	free(text);
	free(out);
	return err->code;
}
