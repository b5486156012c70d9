// SPDX-License-Identifier: Apache-2.0
#include <ctype.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "env.h"

static const struct {
	const char *name;
	enum sx_cni_verb verb;
} verbs[] = {
	{ "ADD", SX_CNI_ADD },	       { "DEL", SX_CNI_DEL },	  { "CHECK", SX_CNI_CHECK },
	{ "VERSION", SX_CNI_VERSION }, { "STATUS", SX_CNI_STATUS }, { "GC", SX_CNI_GC },
};

/* The spec's characters, [A-Za-z0-9][A-Za-z0-9_.-]*: the length, or 0 if the ID breaks the rule. */
static size_t container_id_length(const char *id)
{
	size_t i;

	if (!id || !isalnum((unsigned char)id[0]))
		return 0;
	for (i = 1; id[i]; i++)
		if (!isalnum((unsigned char)id[i]) && !strchr("_.-", id[i]))
			return 0;
	return i;
}

int sx_cni_valid_container_id(const char *id)
{
	size_t len = container_id_length(id);

	return len && len <= SX_CNI_CONTAINER_ID_MAX;
}

int sx_cni_valid_ifname(const char *name)
{
	size_t i, len = name ? strlen(name) : 0;

	if (len == 0 || len >= IF_NAMESIZE || !strcmp(name, ".") || !strcmp(name, ".."))
		return 0;
	for (i = 0; i < len; i++)
		if (name[i] == '/' || name[i] == ':' || isspace((unsigned char)name[i]))
			return 0;
	return 1;
}

static void append(char *buf, size_t len, const char *word)
{
	size_t used = strlen(buf);

	snprintf(buf + used, len - used, "%s", word);
}

static const char *getenv_nonempty(const char *name)
{
	const char *v = getenv(name);

	return v && *v ? v : NULL;
}

int sx_cni_env_read(struct sx_cni_env *env, struct sx_cni_error *err)
{
	char missing[128] = "";
	size_t i;
	int needs_sandbox;

	memset(env, 0, sizeof(*env));
	env->command = getenv_nonempty("CNI_COMMAND");
	if (!env->command)
		return sx_cni_fail(err, SX_CNI_E_ENV, "required environment variable missing",
				   "CNI_COMMAND is not set");
	for (i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		if (!strcmp(env->command, verbs[i].name))
			break;
	if (i == sizeof(verbs) / sizeof(verbs[0]))
		return sx_cni_fail(err, SX_CNI_E_ENV, "unknown CNI_COMMAND",
				   "CNI_COMMAND=%.64s; expected ADD, DEL, CHECK, VERSION, STATUS or GC",
				   env->command);
	env->verb = verbs[i].verb;
	env->container_id = getenv_nonempty("CNI_CONTAINERID");
	env->netns = getenv_nonempty("CNI_NETNS");
	env->ifname = getenv_nonempty("CNI_IFNAME");
	env->args = getenv("CNI_ARGS") ? getenv("CNI_ARGS") : "";
	env->path = getenv_nonempty("CNI_PATH");

	needs_sandbox = env->verb == SX_CNI_ADD || env->verb == SX_CNI_DEL ||
			env->verb == SX_CNI_CHECK;
	if (!needs_sandbox)
		return 0;
	if (!env->container_id)
		append(missing, sizeof(missing), " CNI_CONTAINERID");
	if (!env->netns && env->verb != SX_CNI_DEL)
		append(missing, sizeof(missing), " CNI_NETNS");
	if (!env->ifname)
		append(missing, sizeof(missing), " CNI_IFNAME");
	if (*missing)
		return sx_cni_fail(err, SX_CNI_E_ENV, "required environment variables missing",
				   "%s needs:%s", env->command, missing);
	/*
	 * No ADD accepts a longer ID, so a DEL of one has nothing of sockvx's
	 * to remove and succeeds, as a DEL of an unknown container does.
	 */
	if (!sx_cni_valid_container_id(env->container_id) &&
	    !(env->verb == SX_CNI_DEL && container_id_length(env->container_id)))
		return sx_cni_fail(err, SX_CNI_E_ENV, "invalid CNI_CONTAINERID",
				   "'%.80s': it must match [A-Za-z0-9][A-Za-z0-9_.-]* and have at most %d characters",
				   env->container_id, SX_CNI_CONTAINER_ID_MAX);
	if (!sx_cni_valid_ifname(env->ifname))
		return sx_cni_fail(err, SX_CNI_E_ENV, "invalid CNI_IFNAME",
				   "'%.80s': an interface name has 1 to %d characters, none of '/', ':' or spaces",
				   env->ifname, IF_NAMESIZE - 1);
	if (env->netns && env->netns[0] != '/')
		return sx_cni_fail(err, SX_CNI_E_ENV, "invalid CNI_NETNS",
				   "'%.200s' is not an absolute path", env->netns);
	return 0;
}

int sx_cni_env_require_path(const struct sx_cni_env *env, int runs_ipam, struct sx_cni_error *err)
{
	if (!runs_ipam || env->verb == SX_CNI_VERSION || env->path)
		return 0;
	return sx_cni_fail(err, SX_CNI_E_ENV, "required environment variables missing",
			   "%s needs: CNI_PATH (where the IPAM plugin is looked up)", env->command);
}
