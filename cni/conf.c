// SPDX-License-Identifier: Apache-2.0
#include <ctype.h>
#include <limits.h>
#include <string.h>
#include "conf.h"
#include "log.h"
#include "sysenv.h"
#include "version.h"

/* The fields sockvx reads or that the spec defines; anything else is logged and ignored. */
static const char *const known_fields[] = {
	"cniVersion", "name",	 "type",	"pinDir",	 "dataDir",
	"logFile",    "logLevel", "mtu",	"ipam",		 "dns",
	"prevResult", "args",	 "runtimeConfig", "capabilities", "cni.dev/valid-attachments",
	"cni.dev/attachments", "ipMasq", "networkScaling", NULL,
};

static int bad_field(struct sx_cni_error *err, const char *field, const char *why)
{
	return sx_cni_fail(err, SX_CNI_E_CONFIG, "invalid network configuration",
			   "field \"%s\": %s", field, why);
}

/* Optional string field: NULL when absent, -1 (error recorded) when not a string. */
static int get_string(json_t *root, const char *field, const char **out, struct sx_cni_error *err)
{
	json_t *v = json_object_get(root, field);

	*out = NULL;
	if (!v)
		return 0;
	if (!json_is_string(v))
		return bad_field(err, field, "must be a string");
	*out = json_string_value(v);
	return 0;
}

/* Optional object field. */
static int get_object(json_t *root, const char *field, json_t **out, struct sx_cni_error *err)
{
	json_t *v = json_object_get(root, field);

	*out = NULL;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_object(v))
		return bad_field(err, field, "must be an object");
	*out = v;
	return 0;
}

/* An absolute path without "..": pins, records and logs must not wander. */
static int check_path(const char *field, const char *path, struct sx_cni_error *err)
{
	if (!path)
		return 0;
	if (path[0] != '/')
		return bad_field(err, field, "must be an absolute path");
	if (strlen(path) >= PATH_MAX / 4)
		return bad_field(err, field, "is too long");
	if (strstr(path, "/../") || (strlen(path) >= 3 && !strcmp(path + strlen(path) - 3, "/..")))
		return bad_field(err, field, "must not contain \"..\"");
	return 0;
}

/* The spec's network name: [A-Za-z0-9][A-Za-z0-9_.-]*; it also names a directory. */
static int check_name(const char *name, struct sx_cni_error *err)
{
	size_t i;

	if (!name)
		return bad_field(err, "name", "is required");
	if (!isalnum((unsigned char)name[0]) || strlen(name) > 128)
		return bad_field(err, "name",
				 "must start with a letter or digit and have at most 128 characters");
	for (i = 1; name[i]; i++)
		if (!isalnum((unsigned char)name[i]) && !strchr("_.-", name[i]))
			return bad_field(err, "name",
					 "may contain only letters, digits, '_', '.' and '-'");
	return 0;
}

static int parse_version(struct sx_cni_conf *c, enum sx_cni_verb verb, struct sx_cni_error *err)
{
	json_t *v = json_object_get(c->root, "cniVersion");
	const char *text = SX_CNI_VERSION_LATEST;

	if (!v) {
		if (verb != SX_CNI_VERSION)
			return bad_field(err, "cniVersion", "is required");
	} else if (!json_is_string(v)) {
		return bad_field(err, "cniVersion", "must be a string");
	} else {
		text = json_string_value(v);
	}
	if (strlen(text) < sizeof(c->cni_version))
		snprintf(c->cni_version, sizeof(c->cni_version), "%s", text);
	/* VERSION answers whatever was asked: it is how a runtime finds out. */
	if (verb != SX_CNI_VERSION && !sx_cni_version_supported(c->cni_version))
		return sx_cni_fail(err, SX_CNI_E_VERSION, "incompatible CNI version",
				   "the configuration has cniVersion \"%.32s\"; sockvx supports 0.3.0, 0.3.1, 0.4.0, 1.0.0 and 1.1.0",
				   text);
	c->version = sx_cni_version_parse(c->cni_version);
	/* What each verb needs, as the spec's versions introduced them. */
	if (verb == SX_CNI_CHECK && c->version < SX_CNI_V(0, 4, 0))
		return sx_cni_fail(err, SX_CNI_E_VERSION, "incompatible CNI version",
				   "CHECK needs cniVersion 0.4.0 or later, the configuration has %s",
				   c->cni_version);
	if ((verb == SX_CNI_STATUS || verb == SX_CNI_GC) && c->version < SX_CNI_V(1, 1, 0))
		return sx_cni_fail(err, SX_CNI_E_VERSION, "incompatible CNI version",
				   "%s needs cniVersion 1.1.0 or later, the configuration has %s",
				   verb == SX_CNI_GC ? "GC" : "STATUS", c->cni_version);
	return 0;
}

static int parse_log_level(struct sx_cni_conf *c, struct sx_cni_error *err)
{
	static const char *const levels[] = { "warn", "info", "debug" };
	const char *level;
	int i;

	if (get_string(c->root, "logLevel", &level, err))
		return err->code;
	c->log_level = SX_LOG_WARN;
	if (!level)
		return 0;
	for (i = 0; i < 3; i++)
		if (!strcmp(level, levels[i])) {
			c->log_level = i;
			return 0;
		}
	return bad_field(err, "logLevel", "must be \"warn\", \"info\" or \"debug\"");
}

static int parse_mtu(struct sx_cni_conf *c, struct sx_cni_error *err)
{
	json_t *v = json_object_get(c->root, "mtu");
	json_int_t mtu;

	if (!v)
		return 0;
	if (!json_is_integer(v))
		return bad_field(err, "mtu", "must be an integer");
	mtu = json_integer_value(v);
	if (mtu < SX_CNI_MTU_MIN || mtu > SX_CNI_MTU_MAX)
		return bad_field(err, "mtu", "must be between 576 and 65535");
	c->mtu = (unsigned int)mtu;
	return 0;
}

/* Does host-local style IPAM (ranges of {"subnet"}, or one "subnet") hand out IPv6? */
static bool ipam_has_ipv6_subnet(const json_t *ipam)
{
	const json_t *set, *range, *subnet = json_object_get(ipam, "subnet");
	size_t i, j;

	if (json_is_string(subnet) && strchr(json_string_value(subnet), ':'))
		return true;
	json_array_foreach(json_object_get(ipam, "ranges"), i, set)
		json_array_foreach(set, j, range) {
			subnet = json_object_get(range, "subnet");
			if (json_is_string(subnet) && strchr(json_string_value(subnet), ':'))
				return true;
		}
	return false;
}

static int parse_ipam(struct sx_cni_conf *c, struct sx_cni_error *err)
{
	json_t *type;

	if (get_object(c->root, "ipam", &c->ipam, err))
		return err->code;
	if (!c->ipam)
		return 0;
	type = json_object_get(c->ipam, "type");
	if (!json_is_string(type) || !*json_string_value(type))
		return bad_field(err, "ipam", "needs a \"type\" naming the IPAM plugin, such as host-local");
	c->ipam_type = json_string_value(type);
	/* It names an executable in CNI_PATH, never a path. */
	if (strchr(c->ipam_type, '/') || !strcmp(c->ipam_type, ".") || !strcmp(c->ipam_type, "..") ||
	    strlen(c->ipam_type) > 64)
		return bad_field(err, "ipam", "\"type\" must be a plugin name, not a path");
	return 0;
}

/* GC: [{"containerID": ..., "ifname": ...}, ...], every entry well formed. */
static int parse_valid_attachments(struct sx_cni_conf *c, enum sx_cni_verb verb,
				   struct sx_cni_error *err)
{
	const char *field = "cni.dev/valid-attachments";
	json_t *list = json_object_get(c->root, field), *a;
	size_t i;

	if (verb != SX_CNI_GC)
		return 0;
	/* Without the list, every attachment would look stale: refuse. */
	if (!list)
		return bad_field(err, field, "is required for GC");
	if (!json_is_array(list))
		return bad_field(err, field, "must be an array");
	json_array_foreach(list, i, a) {
		if (!json_is_object(a) || !json_is_string(json_object_get(a, "containerID")) ||
		    !json_is_string(json_object_get(a, "ifname")))
			return bad_field(err, field,
					 "each entry needs string fields containerID and ifname");
	}
	c->valid_attachments = list;
	return 0;
}

void sx_cni_conf_log_unknown(const struct sx_cni_conf *c)
{
	const char *key;
	json_t *v;
	int i;

	if (!c->root)
		return;
	json_object_foreach(c->root, key, v) {
		for (i = 0; known_fields[i]; i++)
			if (!strcmp(key, known_fields[i]))
				break;
		if (!known_fields[i])
			pr_info("sockvx: ignoring unknown configuration field \"%s\"\n", key);
	}
}

static int parse_fields(struct sx_cni_conf *c, enum sx_cni_verb verb, struct sx_cni_error *err)
{
	if (parse_version(c, verb, err))
		return err->code;
	/* VERSION reads nothing else. */
	if (verb == SX_CNI_VERSION)
		return 0;
	if (get_string(c->root, "name", &c->name, err) || check_name(c->name, err))
		return err->code;
	if (get_string(c->root, "pinDir", &c->pin_dir, err) || get_string(c->root, "dataDir", &c->data_dir, err) ||
	    get_string(c->root, "logFile", &c->log_file, err))
		return err->code;
	if (check_path("pinDir", c->pin_dir, err) || check_path("dataDir", c->data_dir, err) ||
	    check_path("logFile", c->log_file, err))
		return err->code;
	if (!c->pin_dir)
		c->pin_dir = SX_DEFAULT_PIN_DIR;
	if (!c->data_dir)
		c->data_dir = SX_CNI_DEFAULT_DATA_DIR;
	if (parse_log_level(c, err) || parse_mtu(c, err) || parse_ipam(c, err))
		return err->code;
	/* Known before IPAM runs, for IPAM plugins whose configuration says so. */
	if (c->ipam && c->mtu && c->mtu < SX_CNI_MTU_MIN_IPV6 && ipam_has_ipv6_subnet(c->ipam))
		return bad_field(err, "mtu", "IPv6 needs at least 1280, and ipam has an IPv6 subnet");
	if (get_object(c->root, "dns", &c->dns, err) || get_object(c->root, "prevResult", &c->prev_result, err))
		return err->code;
	if (parse_valid_attachments(c, verb, err))
		return err->code;
	if (verb == SX_CNI_ADD && c->ipam && c->prev_result)
		return bad_field(err, "ipam",
				 "a sockvx with an ipam section is a main plugin and comes first in the list; "
				 "to add acceleration after another plugin, leave ipam out");
	if (verb == SX_CNI_ADD && !c->ipam && !c->prev_result)
		return bad_field(err, "ipam",
				 "is required when sockvx is the main plugin (chained mode reads prevResult, "
				 "which is missing)");
	return 0;
}

static int blank(const char *text, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (!strchr(" \t\r\n", text[i]) || !text[i])
			return 0;
	return 1;
}

int sx_cni_conf_parse(const char *text, size_t len, enum sx_cni_verb verb, struct sx_cni_conf *conf,
		      struct sx_cni_error *err)
{
	json_error_t jerr;

	memset(conf, 0, sizeof(*conf));
	conf->log_level = SX_LOG_WARN;
	/* VERSION may come with nothing on stdin. */
	if (verb == SX_CNI_VERSION && blank(text, len)) {
		snprintf(conf->cni_version, sizeof(conf->cni_version), "%s", SX_CNI_VERSION_LATEST);
		conf->version = sx_cni_version_parse(conf->cni_version);
		return 0;
	}
	/* Duplicate keys are refused: which "pinDir" was meant is a guess. */
	conf->root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!conf->root)
		return sx_cni_fail(err, SX_CNI_E_DECODE, "cannot decode the network configuration",
				   "line %d, column %d: %s", jerr.line, jerr.column, jerr.text);
	if (!json_is_object(conf->root)) {
		sx_cni_fail(err, SX_CNI_E_DECODE, "cannot decode the network configuration",
			    "it must be a JSON object");
	} else if (!parse_fields(conf, verb, err)) {
		return 0;
	}
	sx_cni_conf_free(conf);
	return err->code;
}

void sx_cni_conf_free(struct sx_cni_conf *conf)
{
	if (conf->root)
		json_decref(conf->root);
	conf->root = NULL;
}
