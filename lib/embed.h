/* embed: files compiled into the binary by tools/embed.py (schema migrations,
 * web assets).  Each array ends with an entry whose name is NULL. */
#ifndef COMMENTD_EMBED_H
#define COMMENTD_EMBED_H

#include <stddef.h>

struct embedded_file {
	const char *name;
	const unsigned char *data; /* NUL-terminated, len excludes the NUL */
	size_t len;
};

/* schema/NNNN-*.sql in order; the migration number is the index + 1. */
extern const struct embedded_file schema_files[];
extern const size_t schema_files_count;

#endif
