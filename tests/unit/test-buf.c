/* Unit tests for lib/buf: the cap, growth, printf, steal. */
#include "tap.h"

#include "buf.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

/* Under AddressSanitizer, let an impossible malloc return NULL (as libc
 * does) instead of aborting, so the -ENOMEM path can be tested. */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
	return "allocator_may_return_null=1";
}

int main(void)
{
	struct buf b;
	char big[1000];
	char *s;
	int r;

	/* An empty buffer. */
	buf_init(&b, 16);
	is_int(b.len, 0, "a new buffer is empty");
	ok(b.data == NULL, "and allocates nothing");
	is_int(buf_append(&b, "", 0), 0, "appending nothing works");
	ok(b.data && b.data[0] == '\0', "the contents are NUL-terminated even when empty");
	buf_free(&b);

	/* The cap. */
	buf_init(&b, 10);
	is_int(buf_puts(&b, "hello"), 0, "append under the cap");
	is_int(buf_puts(&b, "world"), 0, "append exactly up to the cap");
	is_int(b.len, 10, "len is the cap");
	is_str(b.data, "helloworld", "contents");
	is_int(buf_puts(&b, "!"), BUF_TOO_BIG, "one byte past the cap is BUF_TOO_BIG");
	is_int(b.len, 10, "len unchanged after refusal");
	is_str(b.data, "helloworld", "contents intact after refusal");
	is_int(buf_append(&b, "", 0), 0, "an empty append at the cap still works");
	is_int(buf_printf(&b, "%d", 7), BUF_TOO_BIG, "printf past the cap is BUF_TOO_BIG");
	is_str(b.data, "helloworld", "contents intact after refused printf");
	ok(b.alloc <= b.max + 1, "allocation never exceeds max + 1 (got %zu)", b.alloc);
	buf_free(&b);
	ok(b.data == NULL && b.len == 0, "buf_free resets");

	buf_init(&b, 10);
	is_int(buf_puts(&b, "0123456789A"), BUF_TOO_BIG, "a single oversized append is refused");
	is_int(b.len, 0, "nothing was appended");
	is_int(buf_puts(&b, "abc"), 0, "a later small append works");
	is_int(buf_puts(&b, "0123456789"), BUF_TOO_BIG, "an append that would cross the cap fails");
	is_str(b.data, "abc", "and keeps the earlier contents");
	buf_free(&b);

	/* A huge n must not overflow the cap arithmetic. */
	buf_init(&b, 100);
	buf_puts(&b, "x");
	is_int(buf_append(&b, "y", (size_t)-1), BUF_TOO_BIG, "SIZE_MAX append is refused");
	is_str(b.data, "x", "contents intact");
	buf_free(&b);

	/* Growth past the first allocation, with content preserved. */
	buf_init(&b, 1 << 20);
	memset(big, 'a', sizeof(big));
	r = 0;
	for (int i = 0; i < 100 && r == 0; i++)
		r = buf_append(&b, big, sizeof(big));
	is_int(r, 0, "100 appends of 1000 bytes grow the buffer");
	is_int(b.len, 100000, "len is 100000");
	ok(b.alloc > b.len, "alloc leaves room for the NUL");
	ok(b.data[b.len] == '\0', "NUL-terminated after growth");
	{
		size_t bad = 0;
		for (size_t i = 0; i < b.len; i++)
			bad += b.data[i] != 'a';
		is_int(bad, 0, "every byte preserved across reallocations");
	}
	buf_free(&b);

	/* Binary data with embedded NUL. */
	buf_init(&b, 64);
	is_int(buf_append(&b, "a\0b", 3), 0, "binary append");
	is_int(b.len, 3, "embedded NUL counted");
	ok(memcmp(b.data, "a\0b", 4) == 0, "bytes and terminator");
	buf_free(&b);

	/* printf, short and long (past the 256-byte stack buffer). */
	buf_init(&b, 4096);
	is_int(buf_printf(&b, "%s=%d;", "n", 42), 0, "printf");
	is_int(buf_printf(&b, "%05.1f|%x", 3.14159, 255u), 0, "printf with more formats");
	is_str(b.data, "n=42;003.1|ff", "printf output appended");
	memset(big, 'z', 299);
	big[299] = '\0';
	is_int(buf_printf(&b, "[%s]", big), 0, "long printf (301 bytes)");
	is_int(b.len, 13 + 301, "long printf length");
	ok(b.data[13] == '[' && b.data[14] == 'z' && b.data[13 + 300] == ']' &&
	       b.data[13 + 301] == '\0',
	   "long printf contents");
	buf_free(&b);

	buf_init(&b, 300);
	is_int(buf_printf(&b, "%s", big), 0, "long printf exactly fitting (299 <= 300)");
	is_int(buf_printf(&b, "%s", "xx"), BUF_TOO_BIG, "then over the cap");
	is_int(b.len, 299, "len intact");
	buf_free(&b);

	/* steal. */
	buf_init(&b, 100);
	buf_puts(&b, "stolen");
	s = buf_steal(&b);
	is_str(s, "stolen", "steal hands over the contents");
	ok(b.data == NULL && b.len == 0 && b.alloc == 0, "and resets the buffer");
	is_int(b.max, 100, "the cap survives steal");
	is_int(buf_puts(&b, "again"), 0, "the buffer is reusable after steal");
	is_str(b.data, "again", "new contents");
	ok(b.data != s, "new storage");
	free(s);
	buf_free(&b);

	buf_init(&b, 100);
	s = buf_steal(&b);
	ok(s != NULL, "steal of an empty buffer is not NULL");
	is_str(s, "", "but an empty string");
	free(s);

	/* An uncapped buffer (max SIZE_MAX): max + 1 and len + n + 1 must not
	 * wrap around. */
	buf_init(&b, SIZE_MAX);
	is_int(buf_puts(&b, "hello, uncapped world"), 0, "append to a SIZE_MAX-cap buffer");
	is_str(b.data, "hello, uncapped world", "contents");
	ok(b.alloc > b.len, "room for the NUL (alloc %zu)", b.alloc);
	is_int(buf_printf(&b, "%0300d", 1), 0, "printf that grows it");
	is_int(b.len, 21 + 300, "len after growth");
	ok(b.data[b.len] == '\0' && b.data[b.len - 1] == '1', "contents after growth");
	is_int(buf_append(&b, "x", SIZE_MAX), BUF_TOO_BIG,
	       "SIZE_MAX more bytes pass even that cap");
	is_int(buf_append(&b, "x", SIZE_MAX - 400), -ENOMEM,
	       "an impossible size: -ENOMEM (no doubling overflow)");
	is_int(b.len, 321, "contents intact after the refusals");
	buf_free(&b);
	buf_init(&b, SIZE_MAX);
	is_int(buf_append(&b, "x", SIZE_MAX), -ENOMEM,
	       "SIZE_MAX bytes into an empty uncapped buffer: -ENOMEM, no wrap");
	ok(b.data == NULL && b.len == 0, "nothing allocated");
	buf_free(&b);

	buf_init(&b, 0);
	is_int(buf_append(&b, "", 0), 0, "a zero-cap buffer accepts nothing but nothing");
	is_int(buf_puts(&b, "a"), BUF_TOO_BIG, "and refuses one byte");
	buf_free(&b);
	buf_free(&b); /* double free-after-reset is safe (ASan would say otherwise) */
	ok(b.data == NULL && b.len == 0, "buf_free twice leaves an empty buffer");
	is_int(buf_puts(&b, "a"), BUF_TOO_BIG, "which still keeps its cap of 0");

	return done_testing();
}
