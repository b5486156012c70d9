// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>
#include "cnichain.h"
#include "file_replace.h"
#include "log.h"
#include "sysenv.h"

/*
 * The conflist that chains sockvx after source's plugins: a .conflist keeps
 * its name, cniVersion and plugins; a single .conf becomes the first plugin.
 */
static cJSON *chained(const cJSON *src, const char *pin_dir, const char *from)
{
	const cJSON *plugins = cJSON_GetObjectItem(src, "plugins"), *p;
	const cJSON *name = cJSON_GetObjectItem(src, "name"), *ver = cJSON_GetObjectItem(src, "cniVersion");
	cJSON *out, *list, *sx;

	if (!cJSON_IsString(name) || !cJSON_IsString(ver) || (plugins && !cJSON_IsArray(plugins))) {
		pr_warn("sockvxctl: %s: a CNI configuration needs string \"name\" and \"cniVersion\" "
			"and, in a conflist, a \"plugins\" array\n", from);
		return NULL;
	}
	out = cJSON_CreateObject();
	cJSON_AddStringToObject(out, "cniVersion", ver->valuestring);
	cJSON_AddStringToObject(out, "name", name->valuestring);
	list = cJSON_AddArrayToObject(out, "plugins");
	if (plugins) {
		cJSON_ArrayForEach(p, plugins)
		if (!sx_cni_plugin_is_sockvx(p)) /* already chained: once is enough */
			cJSON_AddItemToArray(list, cJSON_Duplicate(p, 1));
	} else {
		cJSON *single = cJSON_Duplicate(src, 1);

		cJSON_DeleteItemFromObject(single, "cniVersion");
		cJSON_DeleteItemFromObject(single, "name");
		cJSON_AddItemToArray(list, single);
	}
	sx = cJSON_CreateObject();
	cJSON_AddStringToObject(sx, "type", "sockvx");
	if (strcmp(pin_dir, SX_DEFAULT_PIN_DIR))
		cJSON_AddStringToObject(sx, "pinDir", pin_dir);
	cJSON_AddItemToArray(list, sx);
	return out;
}

static int write_text(FILE *f, void *text)
{
	/* Runtimes read the directory at any time: sx_file_replace keeps the file whole. */
	return fputs(text, f) < 0 || fputc('\n', f) < 0 ? -EIO : 0;
}

int sx_cni_chain(const struct sx_cni_chain_opts *o)
{
	char path[PATH_MAX], dest[PATH_MAX], *out_text = NULL;
	cJSON *src = NULL, *out = NULL;
	int r;

	if ((size_t)snprintf(dest, sizeof(dest), "%s/%s", o->conf_dir, SX_CNI_CHAIN_FILE) >= sizeof(dest))
		return -ENAMETOOLONG;
	/* The cluster's network is the file runtimes would use without ours. */
	r = sx_cni_conf_first(o->conf_dir, true, path, sizeof(path));
	if (r == -ENOENT) {
		pr_warn("sockvxctl: no CNI configuration in %s to chain sockvx after; for a new cluster, "
			"install sockvx as the main plugin (docs/operations.md)\n", o->conf_dir);
		return r;
	}
	if (r) {
		pr_warn("sockvxctl: cannot read %s: %s\n", o->conf_dir, strerror(-r));
		return r;
	}
	r = -EINVAL;
	src = sx_cni_conf_load(path);
	if (!src)
		pr_warn("sockvxctl: %s is not JSON; nothing written\n", path);
	else if ((out = chained(src, o->pin_dir, path)) && (out_text = cJSON_Print(out)))
		r = sx_file_replace(dest, write_text, out_text);
	if (out_text && r)
		pr_warn("sockvxctl: cannot write %s: %s\n", dest, strerror(-r));
	else if (!r)
		printf("%s: %s's plugins, then sockvx\n", dest, path);
	cJSON_free(out_text);
	cJSON_Delete(out);
	cJSON_Delete(src);
	return r;
}
