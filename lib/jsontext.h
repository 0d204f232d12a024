/* jsontext: JSON text written straight into a struct buf, byte for byte as
 * jansson 2.14's json_dumps(..., JSON_COMPACT) writes the same values.
 *
 * For answers built often (the thread page) without a jansson tree that is
 * thrown away after its dump.  Strings must be valid UTF-8 as jansson's
 * json_string requires (no overlong forms, no surrogates, nothing past
 * U+10FFFF): anything else is refused, never written.  Escaped: '"', '\\',
 * \b \f \n \r \t and the other bytes below 0x20 as \u00XX (upper-case hex);
 * '/' and non-ASCII characters go through as they are.
 */
#ifndef COMMENTD_JSONTEXT_H
#define COMMENTD_JSONTEXT_H

#include "buf.h"

#include <stddef.h>
#include <stdint.h>

enum {
	/* BUF_TOO_BIG (1): past the buffer's cap */
	JSONTEXT_NOT_UTF8 = 2, /* a string jansson would refuse */
};

/* Appends s[0..len) as a JSON string (quoted, escaped).  0, BUF_TOO_BIG,
 * JSONTEXT_NOT_UTF8 or -ENOMEM; on failure b is left as it was. */
int jsontext_string(struct buf *b, const char *s, size_t len);

/* Appends v in decimal.  0, BUF_TOO_BIG or -ENOMEM. */
int jsontext_int(struct buf *b, int64_t v);

/* Maps this module's and lib/buf's positive results to a negative errno
 * for callers whose contract is "0 or negative": BUF_TOO_BIG -E2BIG,
 * JSONTEXT_NOT_UTF8 -EILSEQ; 0 and negative values pass through. */
int jsontext_errno(int r);

#endif
