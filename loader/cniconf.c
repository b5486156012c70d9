// SPDX-License-Identifier: Apache-2.0
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>
#include "cniconf.h"

/* A configuration is small; anything this big is not one. */
#define CONF_MAX (1 << 20)

static bool has_suffix(const char *name, const char *suffix)
{
	size_t n = strlen(name), k = strlen(suffix);

	return n > k && !strcmp(name + n - k, suffix);
}

/* libcni's rule: these extensions, hidden files left out. */
static int conf_file(const struct dirent *d)
{
	return d->d_name[0] != '.' && (has_suffix(d->d_name, ".conf") ||
				       has_suffix(d->d_name, ".conflist") ||
				       has_suffix(d->d_name, ".json"));
}

static int source_file(const struct dirent *d)
{
	return conf_file(d) && strcmp(d->d_name, SX_CNI_CHAIN_FILE);
}

int sx_cni_conf_first(const char *dir, bool skip_chain, char *path, size_t len)
{
	struct dirent **names = NULL;
	int n, i, r = 0;

	n = scandir(dir, &names, skip_chain ? source_file : conf_file, alphasort);
	if (n < 0)
		return -errno;
	if (n == 0)
		r = -ENOENT;
	else if ((size_t)snprintf(path, len, "%s/%s", dir, names[0]->d_name) >= len)
		r = -ENAMETOOLONG;
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return r;
}

cJSON *sx_cni_conf_load(const char *path)
{
	char *text = NULL;
	cJSON *j = NULL;
	long len;
	FILE *f = fopen(path, "re");

	if (!f)
		return NULL;
	if (!fseek(f, 0, SEEK_END) && (len = ftell(f)) > 0 && len < CONF_MAX && !fseek(f, 0, SEEK_SET) &&
	    (text = calloc(1, (size_t)len + 1)) && fread(text, 1, (size_t)len, f) == (size_t)len)
		j = cJSON_Parse(text);
	free(text);
	fclose(f);
	return j;
}

bool sx_cni_plugin_is_sockvx(const cJSON *plugin)
{
	const cJSON *t = cJSON_GetObjectItem(plugin, "type");

	return cJSON_IsString(t) && !strcmp(t->valuestring, "sockvx");
}

const cJSON *sx_cni_conf_sockvx(const cJSON *conf)
{
	const cJSON *p, *plugins = cJSON_GetObjectItem(conf, "plugins");

	if (!cJSON_IsArray(plugins))
		return sx_cni_plugin_is_sockvx(conf) ? conf : NULL;
	cJSON_ArrayForEach(p, plugins)
	if (sx_cni_plugin_is_sockvx(p))
		return p;
	return NULL;
}
