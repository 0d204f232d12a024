/* confusables: the Unicode TR39 skeleton of single characters, as a table
 * made at build time from ICU's spoof checker (tools/gen-confusables.c),
 * so that the daemon does not load ICU's i18n library (about 1 MiB of
 * resident memory) for one lookup.  Used by lib/names.c only.
 *
 * Holds the letters and digits that Unicode case folding and NFKC leave as
 * they are and that have no decomposition (what lib/names.c's folding can
 * leave), whose skeleton differs from themselves; the skeleton in NFC.
 * Sorted by code point. */
#ifndef COMMENTD_CONFUSABLES_H
#define COMMENTD_CONFUSABLES_H

#include <stddef.h>
#include <stdint.h>

#define CONFUSABLE_TO_MAX 24 /* bytes of a skeleton with its NUL */

struct confusable {
	uint32_t cp;
	char to[CONFUSABLE_TO_MAX]; /* UTF-8 */
};

extern const struct confusable confusables[];
extern const size_t confusables_count;

#endif
