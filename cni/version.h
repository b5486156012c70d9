/* SPDX-License-Identifier: Apache-2.0 */
/* CNI spec versions: which ones sockvx speaks, and what each allows. */
#ifndef SOCKVX_CNI_VERSION_H
#define SOCKVX_CNI_VERSION_H

#include <stdbool.h>

/* The newest version, used where the input names none. */
#define SX_CNI_VERSION_LATEST "1.1.0"

/* A version as a comparable number: major * 10000 + minor * 100 + patch. */
#define SX_CNI_V(ma, mi, pa) ((ma) * 10000 + (mi) * 100 + (pa))

/* Every version sockvx accepts, oldest first, NULL-terminated. */
extern const char *const sx_cni_versions[];

/* Parses "X.Y.Z" into SX_CNI_V(X, Y, Z); -1 if it is not such a version. */
int sx_cni_version_parse(const char *text);
/* Is this version one of sx_cni_versions? */
bool sx_cni_version_supported(const char *text);

#endif
