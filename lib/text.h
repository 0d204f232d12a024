/* text: UTF-8 checks and small normalisations shared by validators.
 * Everything here reads untrusted bytes with explicit lengths. */
#ifndef COMMENTD_TEXT_H
#define COMMENTD_TEXT_H

#include <stdbool.h>
#include <stddef.h>

/* True if s[0..len) is valid UTF-8 without NUL.  *chars (may be NULL)
 * receives the number of code points. */
bool text_utf8_valid(const char *s, size_t len, size_t *chars);

/* True if s holds a C0 or C1 control character other than TAB, LF and CR
 * (allow_newlines) or other than none (!allow_newlines). */
bool text_has_controls(const char *s, bool allow_newlines);

/* Removes, in place, the invisible formatting characters that let a name
 * impersonate another or reorder text: zero-width spaces and joiners,
 * bidirectional embeddings, overrides and isolates, word joiners and BOM. */
void text_strip_invisible(char *s);

/* Trims ASCII and Unicode white space at both ends, in place.  Returns s. */
char *text_trim(char *s);

/* Makes s, in place, one line of at most max_chars characters (a page
 * title): invisible characters removed, line breaks, tabs and other control
 * characters turned into spaces, runs of white space into one space, bytes
 * that are not UTF-8 dropped, cut after max_chars characters and trimmed.
 * Returns s. */
char *text_one_line(char *s, size_t max_chars);

/* Lower-cases ASCII letters in place (other bytes unchanged).  Returns s. */
char *text_ascii_lower(char *s);

/* The value of a hexadecimal digit, or -1. */
int text_hex_value(int c);

/* Parses s, a whole decimal number from 0 to max (digits only: no sign,
 * space or suffix).  0 with *out set, or 1 if s is not such a number. */
int text_parse_uint(const char *s, unsigned long long max, unsigned long long *out);

/* Decodes s, unpadded URL-safe base64 (RFC 4648 section 5), into at most
 * max bytes of out, with *len the count.  Only its one canonical spelling
 * is accepted: libsodium's decoder alone reads every byte above 0x7f as
 * '_', so two texts would name the same bytes (a single-use link used
 * twice).  0, or 1 if s is not such a text or does not fit. */
int text_base64url_decode(const char *s, unsigned char *out, size_t max, size_t *len);

#endif
