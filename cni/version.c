// SPDX-License-Identifier: Apache-2.0
#include <stdio.h>
#include <string.h>
#include "version.h"

/* 0.1.0 and 0.2.0 results lack per-address interfaces; nothing sends them today. */
const char *const sx_cni_versions[] = { "0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0", NULL };

int sx_cni_version_parse(const char *text)
{
	unsigned int ma, mi, pa;
	int end = 0;

	/* sscanf alone would take spaces and signs. */
	if (!text || text[strspn(text, "0123456789.")] || sscanf(text, "%3u.%3u.%3u%n", &ma, &mi, &pa, &end) != 3 || text[end] ||
	    ma > 99 || mi > 99 || pa > 99)
		return -1;
	return (int)SX_CNI_V(ma, mi, pa);
}

bool sx_cni_version_supported(const char *text)
{
	const char *const *v;

	for (v = sx_cni_versions; text && *v; v++)
		if (!strcmp(*v, text))
			return true;
	return false;
}
