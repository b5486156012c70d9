/* SPDX-License-Identifier: Apache-2.0 */
/* Helpers shared by the table-driven cmocka tests (include after cmocka.h). */
#ifndef SOCKVX_UNIT_HELPERS_H
#define SOCKVX_UNIT_HELPERS_H

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* Fails the test naming the table case, so a failure says which input broke. */
#define expect_int(name, want, got)                                            \
	do {                                                                   \
		long long want_ = (want), got_ = (got);                        \
		if (want_ != got_)                                             \
			fail_msg("case \"%s\": expected %lld, got %lld", (name), \
				 want_, got_);                                 \
	} while (0)

#endif
