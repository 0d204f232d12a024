#include "buf.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void buf_init(struct buf *b, size_t max)
{
	b->data = NULL;
	b->len = 0;
	b->alloc = 0;
	b->max = max;
}

int buf_append(struct buf *b, const void *data, size_t n)
{
	size_t want, alloc;
	char *p;

	if (n > b->max - b->len)
		return BUF_TOO_BIG;
	if (n >= SIZE_MAX - b->len) /* len + n + 1 would wrap (max near SIZE_MAX) */
		return -ENOMEM;
	want = b->len + n + 1;
	if (want > b->alloc) {
		alloc = b->alloc ? b->alloc : 256;
		while (alloc < want)
			alloc = alloc > SIZE_MAX / 2 ? want : alloc * 2;
		if (alloc - 1 > b->max) /* alloc > max + 1, without wrapping */
			alloc = b->max + 1;
		p = realloc(b->data, alloc);
		if (!p)
			return -ENOMEM;
		b->data = p;
		b->alloc = alloc;
	}
	if (n)
		memcpy(b->data + b->len, data, n);
	b->len += n;
	b->data[b->len] = '\0';
	return 0;
}

int buf_puts(struct buf *b, const char *s)
{
	return buf_append(b, s, strlen(s));
}

int buf_printf(struct buf *b, const char *fmt, ...)
{
	char small[256];
	va_list ap;
	int n, r;
	char *big;

	va_start(ap, fmt);
	n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0)
		return -EINVAL;
	if ((size_t)n < sizeof(small))
		return buf_append(b, small, (size_t)n);
	big = malloc((size_t)n + 1);
	if (!big)
		return -ENOMEM;
	va_start(ap, fmt);
	vsnprintf(big, (size_t)n + 1, fmt, ap);
	va_end(ap);
	r = buf_append(b, big, (size_t)n);
	free(big);
	return r;
}

char *buf_steal(struct buf *b)
{
	char *p = b->data;

	if (!p)
		p = calloc(1, 1);
	b->data = NULL;
	b->len = 0;
	b->alloc = 0;
	return p;
}

void buf_free(struct buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = 0;
	b->alloc = 0;
}
