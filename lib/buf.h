/* buf: a growable byte buffer with a hard maximum (curl's dynbuf idea).
 *
 * Every buffer that holds untrusted bytes is a struct buf with a cap; an
 * append past the cap fails with BUF_TOO_BIG and leaves the contents intact.
 * The contents are always NUL-terminated (the NUL is not counted in len).
 */
#ifndef COMMENTD_BUF_H
#define COMMENTD_BUF_H

#include <stddef.h>

enum {
	BUF_TOO_BIG = 1,
};

struct buf {
	char *data;
	size_t len;
	size_t alloc;
	size_t max;
};

/* Initialises an empty buffer that will hold at most max bytes. */
void buf_init(struct buf *b, size_t max);

/* Appends n bytes.  0 ok, BUF_TOO_BIG past the cap, -ENOMEM. */
int buf_append(struct buf *b, const void *data, size_t n);

/* Appends a NUL-terminated string. */
int buf_puts(struct buf *b, const char *s);

/* printf-style append; same errors as buf_append. */
int buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Hands the contents to the caller (free() it) and resets the buffer.
 * Returns an empty string rather than NULL for an empty buffer, NULL on OOM. */
char *buf_steal(struct buf *b);

/* Frees the contents; the buffer may be reused after buf_init. */
void buf_free(struct buf *b);

#endif
