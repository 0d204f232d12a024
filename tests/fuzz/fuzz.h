/* fuzz: shared helpers for the libFuzzer targets in tests/fuzz/.
 *
 * Each fuzz-<target>.c defines LLVMFuzzerTestOneInput.  Built with
 * -Dfuzzing=true it links against libFuzzer; otherwise fuzz-main.c replays
 * the files of tests/fuzz/corpus/<target>/ through it as a normal test.
 */
#ifndef COMMENTD_FUZZ_H
#define COMMENTD_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Inputs above this are ignored: the daemon caps bodies and headers well
 * below it, and small inputs keep the fuzzer fast. */
#define FUZZ_MAX_INPUT (64 * 1024)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Stops the run: libFuzzer records the input as a crash, fuzz-main fails. */
#define fuzz_assert(cond)                                                                          \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "%s:%d: fuzz assertion failed: %s\n", __FILE__, __LINE__,  \
				#cond);                                                            \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

/* A malloc'ed NUL-terminated copy of data[0..size) (an embedded NUL makes
 * the C string shorter, as it would be for a C API).  Aborts on OOM. */
static inline char *fuzz_strndup(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (!s)
		abort();
	if (size)
		memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

#endif
