/* timefmt: the times commentd shows (RFC 3339 in UTC). */
#ifndef COMMENTD_TIMEFMT_H
#define COMMENTD_TIMEFMT_H

#include <stdint.h>

#define TIMEFMT_RFC3339 21 /* "2026-11-30T10:03:24Z" + NUL */

/* Formats Unix seconds t as RFC 3339 UTC into out.  Returns out. */
const char *timefmt_rfc3339(int64_t t, char out[TIMEFMT_RFC3339]);

#endif
