/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What every libFuzzer harness here shares: the entry point and CHECK, which
 * aborts with the broken invariant named, so libFuzzer keeps the input.
 */
#ifndef SOCKVX_FUZZ_H
#define SOCKVX_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                      \
	do {                                                                             \
		if (!(cond)) {                                                           \
			fprintf(stderr, "%s:%d: invariant broken: %s\n", __FILE__, __LINE__, \
				#cond);                                                  \
			abort();                                                         \
		}                                                                        \
	} while (0)

/*
 * The input after its first (selector) byte, NUL-terminated as the programs
 * hand their parsers stdin or a file; NULL when memory runs out. Free it.
 */
static inline char *fuzz_text(const uint8_t *data, size_t size)
{
	char *text = malloc(size);

	if (text) {
		memcpy(text, data + 1, size - 1);
		text[size - 1] = '\0';
	}
	return text;
}

#endif
