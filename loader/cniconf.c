// SPDX-License-Identifier: Apache-2.0
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cniconf.h"
#include "log.h"

/* Runtimes (libcni's ConfFiles) consider these extensions only. */
static int is_conf_name(const char *name)
{
	static const char *const exts[] = { ".conf", ".conflist", ".json" };
	size_t n = strlen(name), i, e;

	if (name[0] == '.')
		return 0;
	for (i = 0; i < sizeof(exts) / sizeof(exts[0]); i++) {
		e = strlen(exts[i]);
		if (n > e && !strcmp(name + n - e, exts[i]))
			return 1;
	}
	return 0;
}

int sx_cniconf_first(const char *dir, const char *skip, char *name, size_t len)
{
	char best[NAME_MAX + 1] = "";
	struct dirent *de;
	DIR *d = opendir(dir);

	if (!d)
		return -errno;
	/* Byte order, as Go's sort.Strings orders libcni's file list. */
	while ((de = readdir(d))) {
		if (!is_conf_name(de->d_name) || (skip && !strcmp(de->d_name, skip)))
			continue;
		if (!best[0] || strcmp(de->d_name, best) < 0)
			snprintf(best, sizeof(best), "%s", de->d_name);
	}
	closedir(d);
	if (!best[0])
		return -ENOENT;
	if (snprintf(name, len, "%s", best) >= (int)len)
		return -ENAMETOOLONG;
	return 0;
}

/* Whole file as a string; configurations are small, 1 MiB is plenty. */
static char *read_text(const char *path, int *r)
{
	FILE *f = fopen(path, "re");
	char *buf;
	size_t n;

	if (!f) {
		*r = -errno;
		return NULL;
	}
	buf = malloc(1 << 20);
	if (!buf) {
		fclose(f);
		*r = -ENOMEM;
		return NULL;
	}
	n = fread(buf, 1, (1 << 20) - 1, f);
	*r = ferror(f) ? -EIO : !feof(f) ? -EFBIG : 0;
	fclose(f);
	if (*r) {
		free(buf);
		return NULL;
	}
	buf[n] = '\0';
	return buf;
}

static int plugins_valid(const cJSON *plugins)
{
	const cJSON *p;

	if (!cJSON_IsArray(plugins) || !cJSON_GetArraySize(plugins))
		return 0;
	cJSON_ArrayForEach(p, plugins)
	{
		if (!cJSON_IsObject(p) || !cJSON_IsString(cJSON_GetObjectItem(p, "type")))
			return 0;
	}
	return 1;
}

cJSON *sx_cniconf_read_list(const char *dir, const char *name)
{
	char path[PATH_MAX], *text;
	cJSON *conf, *list;
	int r;

	if (snprintf(path, sizeof(path), "%s/%s", dir, name) >= (int)sizeof(path)) {
		pr_warn("sockvxctl: %s/%s: path too long\n", dir, name);
		return NULL;
	}
	text = read_text(path, &r);
	if (!text) {
		pr_warn("sockvxctl: cannot read %s: %s\n", path, strerror(-r));
		return NULL;
	}
	conf = cJSON_Parse(text);
	free(text);
	if (!cJSON_IsObject(conf)) {
		pr_warn("sockvxctl: %s is not a JSON object\n", path);
		cJSON_Delete(conf);
		return NULL;
	}
	if (!cJSON_IsString(cJSON_GetObjectItem(conf, "name")) ||
	    !cJSON_IsString(cJSON_GetObjectItem(conf, "cniVersion"))) {
		pr_warn("sockvxctl: %s: \"name\" and \"cniVersion\" must be strings\n", path);
		cJSON_Delete(conf);
		return NULL;
	}
	if (cJSON_GetObjectItem(conf, "plugins")) {
		if (plugins_valid(cJSON_GetObjectItem(conf, "plugins")))
			return conf;
		pr_warn("sockvxctl: %s: \"plugins\" must be a non-empty list of objects with a \"type\"\n",
			path);
		cJSON_Delete(conf);
		return NULL;
	}
	if (!cJSON_IsString(cJSON_GetObjectItem(conf, "type"))) {
		pr_warn("sockvxctl: %s has neither \"plugins\" nor \"type\"\n", path);
		cJSON_Delete(conf);
		return NULL;
	}
	/* A single plugin's configuration is a list of one, as libcni reads it. */
	list = cJSON_CreateObject();
	cJSON_AddItemToObject(list, "cniVersion",
			      cJSON_Duplicate(cJSON_GetObjectItem(conf, "cniVersion"), 1));
	cJSON_AddItemToObject(list, "name", cJSON_Duplicate(cJSON_GetObjectItem(conf, "name"), 1));
	cJSON_AddItemToArray(cJSON_AddArrayToObject(list, "plugins"), conf);
	return list;
}
