// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "chain.h"
#include "cniconf.h"
#include "log.h"
#include "sysenv.h"

/* The chained list: the cluster's plugins, any sockvx entry of theirs dropped, sockvx last. */
static cJSON *chained(const cJSON *list, const char *pin_dir)
{
	cJSON *out = cJSON_Duplicate(list, 1), *plugins, *p, *next, *sx;

	plugins = cJSON_GetObjectItem(out, "plugins");
	for (p = plugins->child; p; p = next) {
		next = p->next;
		if (!strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(p, "type")), "sockvx"))
			cJSON_Delete(cJSON_DetachItemViaPointer(plugins, p));
	}
	sx = cJSON_CreateObject();
	cJSON_AddStringToObject(sx, "type", "sockvx");
	if (strcmp(pin_dir, SX_DEFAULT_PIN_DIR))
		cJSON_AddStringToObject(sx, "pinDir", pin_dir);
	cJSON_AddItemToArray(plugins, sx);
	return out;
}

/* 1 when path holds exactly text. */
static int same_content(const char *path, const char *text)
{
	size_t len = strlen(text), n;
	char *buf;
	FILE *f = fopen(path, "re");
	int same;

	if (!f)
		return 0;
	buf = malloc(len + 1);
	n = buf ? fread(buf, 1, len + 1, f) : 0;
	same = buf && n == len && !memcmp(buf, text, len);
	free(buf);
	fclose(f);
	return same;
}

/* A runtime watching the directory must never read half a file: write aside, rename. */
static int write_file(const char *dir, const char *name, const char *text)
{
	char path[PATH_MAX], tmp[PATH_MAX];
	FILE *f;
	int r = 0;

	if (snprintf(path, sizeof(path), "%s/%s", dir, name) >= (int)sizeof(path) ||
	    snprintf(tmp, sizeof(tmp), "%s/.%s.tmp", dir, name) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	if (same_content(path, text))
		return 1;
	f = fopen(tmp, "we");
	if (!f)
		return -errno;
	if (fputs(text, f) < 0 || fflush(f) || fsync(fileno(f)) || fchmod(fileno(f), 0644))
		r = -errno;
	if (fclose(f) && !r)
		r = -errno;
	if (!r && rename(tmp, path))
		r = -errno;
	if (r)
		unlink(tmp);
	return r;
}

int sx_cni_chain(const char *conf_dir, const char *pin_dir)
{
	char first[NAME_MAX + 1], *text;
	const cJSON *p0;
	cJSON *list, *out;
	int r;

	r = sx_cniconf_first(conf_dir, SX_CHAIN_CONF_NAME, first, sizeof(first));
	if (r) {
		pr_warn("sockvxctl: no CNI configuration to chain after in %s: %s\n", conf_dir,
			r == -ENOENT ? "install the cluster's network plugin first" : strerror(-r));
		return r;
	}
	/* Ours must be the file the runtime picks. */
	if (strcmp(first, SX_CHAIN_CONF_NAME) < 0) {
		pr_warn("sockvxctl: %s/%s sorts before %s, so the runtime would keep using it; "
			"rename it to sort after, then run this again\n",
			conf_dir, first, SX_CHAIN_CONF_NAME);
		return -EEXIST;
	}
	list = sx_cniconf_read_list(conf_dir, first);
	if (!list)
		return -EINVAL;
	p0 = cJSON_GetArrayItem(cJSON_GetObjectItem(list, "plugins"), 0);
	if (!strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(p0, "type")), "sockvx")) {
		pr_warn("sockvxctl: %s/%s already uses sockvx as its main plugin: nothing to chain\n",
			conf_dir, first);
		cJSON_Delete(list);
		return -EEXIST;
	}
	out = chained(list, pin_dir);
	cJSON_Delete(list);
	text = cJSON_Print(out);
	cJSON_Delete(out);
	if (!text)
		return -ENOMEM;
	/* cJSON_Print ends without a newline; files end with one. */
	{
		size_t n = strlen(text);
		char *nl = realloc(text, n + 2);

		if (!nl) {
			cJSON_free(text);
			return -ENOMEM;
		}
		text = nl;
		memcpy(text + n, "\n", 2);
	}
	r = write_file(conf_dir, SX_CHAIN_CONF_NAME, text);
	free(text);
	if (r < 0) {
		pr_warn("sockvxctl: cannot write %s/%s: %s\n", conf_dir, SX_CHAIN_CONF_NAME,
			strerror(-r));
		return r;
	}
	printf("%s/%s %s: %s/%s with sockvx chained\n", conf_dir, SX_CHAIN_CONF_NAME,
	       r ? "unchanged" : "written", conf_dir, first);
	return 0;
}

int sx_cni_unchain(const char *conf_dir)
{
	char path[PATH_MAX];

	if (snprintf(path, sizeof(path), "%s/%s", conf_dir, SX_CHAIN_CONF_NAME) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	if (unlink(path)) {
		int r = -errno;

		if (r == -ENOENT) {
			printf("%s: not present\n", path);
			return 0;
		}
		pr_warn("sockvxctl: cannot remove %s: %s\n", path, strerror(-r));
		return r;
	}
	printf("%s removed: the runtime uses the cluster's own configuration again\n", path);
	return 0;
}
