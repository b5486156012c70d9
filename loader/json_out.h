/* SPDX-License-Identifier: Apache-2.0 */
/* The --json output of sockvxctl's commands. */
#ifndef SOCKVX_JSON_OUT_H
#define SOCKVX_JSON_OUT_H

struct cJSON;

/*
 * Prints doc, indented, on stdout and deletes it (doc may be NULL, which a
 * failed allocation gives). 0, or -ENOMEM when nothing could be printed.
 */
int sx_json_emit(struct cJSON *doc);

#endif
