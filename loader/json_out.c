// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <stdio.h>
#include <cjson/cJSON.h>
#include "json_out.h"

int sx_json_emit(struct cJSON *doc)
{
	char *s = doc ? cJSON_Print(doc) : NULL;

	cJSON_Delete(doc);
	if (!s) {
		fprintf(stderr, "sockvxctl: out of memory printing JSON\n");
		return -ENOMEM;
	}
	puts(s);
	cJSON_free(s);
	return 0;
}
