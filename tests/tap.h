/* tap.h: a minimal TAP producer for unit tests (h2o/git style).
 *
 * ok(cond, fmt, ...) prints "ok N - ..." or "not ok N - ..."; is_int and
 * is_str add the values on failure; done_testing() prints the plan and
 * returns the exit status (non-zero if any test failed or none ran).
 * Names and diagnostics are printed escaped: control bytes as \xNN (so a
 * name holding a newline or an escape sequence stays one TAP line) and '#'
 * in a name as "\#" (so it never reads as a SKIP or TODO directive).
 */
#ifndef COMMENTD_TAP_H
#define COMMENTD_TAP_H

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int tap_count;
static int tap_failed;

/* Prints text with control bytes as \xNN and, if hash, '#' as "\#". */
static inline void tap_print_escaped(const char *text, int hash)
{
	for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
		if (*p < 0x20 || *p == 0x7f)
			printf("\\x%02x", *p);
		else if (hash && *p == '#')
			printf("\\#");
		else
			putchar(*p);
	}
}

__attribute__((format(printf, 2, 3))) static inline int ok(int cond, const char *fmt, ...)
{
	char name[2048];
	va_list ap;

	tap_count++;
	if (!cond)
		tap_failed++;
	va_start(ap, fmt);
	vsnprintf(name, sizeof(name), fmt, ap);
	va_end(ap);
	printf("%sok %d - ", cond ? "" : "not ", tap_count);
	tap_print_escaped(name, 1);
	printf("\n");
	fflush(stdout);
	return cond;
}

__attribute__((format(printf, 1, 2))) static inline void diag(const char *fmt, ...)
{
	char text[4096];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	printf("# ");
	tap_print_escaped(text, 0);
	printf("\n");
	fflush(stdout);
}

#define is_int(got, want, ...)                                                                     \
	do {                                                                                       \
		long long tap_g_ = (long long)(got), tap_w_ = (long long)(want);                   \
		if (!ok(tap_g_ == tap_w_, __VA_ARGS__))                                            \
			diag("  got %lld, want %lld (%s:%d)", tap_g_, tap_w_, __FILE__, __LINE__); \
	} while (0)

#define is_str(got, want, ...)                                                                     \
	do {                                                                                       \
		const char *tap_g_ = (got), *tap_w_ = (want);                                      \
		int tap_c_ = (tap_g_ && tap_w_) ? strcmp(tap_g_, tap_w_) == 0 : tap_g_ == tap_w_;  \
		if (!ok(tap_c_, __VA_ARGS__))                                                      \
			diag("  got \"%s\", want \"%s\" (%s:%d)", tap_g_ ? tap_g_ : "(null)",      \
			     tap_w_ ? tap_w_ : "(null)", __FILE__, __LINE__);                      \
	} while (0)

static inline int done_testing(void)
{
	printf("1..%d\n", tap_count);
	if (tap_count == 0) {
		printf("# no tests ran\n");
		return 1;
	}
	if (tap_failed)
		printf("# %d of %d failed\n", tap_failed, tap_count);
	return tap_failed ? 1 : 0;
}

#endif
