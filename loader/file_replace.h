/* SPDX-License-Identifier: Apache-2.0 */
/* Replacing a file that other programs read at any time (CNI config, textfile metrics). */
#ifndef SOCKVX_FILE_REPLACE_H
#define SOCKVX_FILE_REPLACE_H

#include <stdio.h>

/*
 * Writes path through fill(f, arg) into a hidden temporary file next to it
 * (".NAME.PID", which neither CNI runtimes nor the textfile collector read),
 * then renames it over path: readers see the old file or the whole new one,
 * never a part. fill returns 0 or -errno. 0, or -errno; on failure path is
 * unchanged and the temporary file is gone.
 */
int sx_file_replace(const char *path, int (*fill)(FILE *f, void *arg), void *arg);

#endif
