/* fuzz-query: the query strings of GET /api/v1/comments and
 * /api/v1/counts.  The string is split into fields as form_parse does
 * (libmicrohttpd decodes the same escapes), then thread, limit and after
 * are checked as daemon/routes.c does: comment_thread_check, and whole
 * numbers without sign, space or overflow.  The whole input is also tried
 * as a thread path itself. */
#include "fuzz.h"

#include "comment.h"
#include "form.h"

#include <errno.h>
#include <stdint.h>

#define PAGE_MAX 200 /* the default page_max */

/* routes.c parse_uint_arg. */
static int parse_uint_arg(const char *s, unsigned long long max, unsigned long long *out)
{
	char *end;

	if (!s)
		return 0;
	if (*s < '0' || *s > '9')
		return 1;
	errno = 0;
	*out = strtoull(s, &end, 10);
	if (errno || *end || *out > max)
		return 1;
	return 0;
}

static void check_thread(const char *thread)
{
	struct comment_error err = {0};
	int r = comment_thread_check(thread, &err);

	fuzz_assert(r == 0 || r == COMMENT_INVALID);
	if (r) {
		fuzz_assert(err.status == 400 || err.status == 422);
		fuzz_assert(err.code && err.message[0]);
		return;
	}
	/* What the check promises. */
	fuzz_assert(thread[0] == '/' && thread[1] != '/');
	fuzz_assert(strlen(thread) <= COMMENT_THREAD_MAX);
	for (const unsigned char *p = (const unsigned char *)thread; *p; p++)
		fuzz_assert(*p > 0x20 && *p != 0x7f && *p != '\\');
	fuzz_assert(strstr(thread, "/../") == NULL && strstr(thread, "/./") == NULL);
	{
		size_t n = strlen(thread);
		fuzz_assert(!(n >= 3 && strcmp(thread + n - 3, "/..") == 0));
		fuzz_assert(!(n >= 2 && strcmp(thread + n - 2, "/.") == 0));
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned long long limit = 0, after = 0;
	struct form *f = NULL;
	const char *q;
	char *s;
	int r;

	if (size > FUZZ_MAX_INPUT)
		return 0;
	s = fuzz_strndup(data, size);
	check_thread(s);
	/* A full URL's query part, or the whole input. */
	q = strchr(s, '?');
	q = q ? q + 1 : s;
	r = form_parse(&f, q, strlen(q));
	fuzz_assert(r == 0 || r == FORM_INVALID);
	if (r == 0) {
		const char *thread = form_get(f, "thread");
		if (thread)
			check_thread(thread);
		if (parse_uint_arg(form_get(f, "limit"), PAGE_MAX, &limit) == 0)
			fuzz_assert(limit <= PAGE_MAX);
		if (parse_uint_arg(form_get(f, "after"), INT64_MAX, &after) == 0)
			fuzz_assert(after <= INT64_MAX);
		form_free(f);
	}
	free(s);
	return 0;
}
