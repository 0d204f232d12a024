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

/* schema/pg/NNNN-*.sql, PostgreSQL's migrations (lib/store_pg.c). */
extern const struct embedded_file schema_pg_files[];
extern const size_t schema_pg_files_count;

/* web/ (daemon/meson.build; served by daemon/routes_static.c): the widget
 * (embed.js, embed.css), the moderation page (admin/) and the demo (demo/). */
extern const struct embedded_file web_widget_files[];
extern const size_t web_widget_files_count;
extern const struct embedded_file web_admin_files[];
extern const size_t web_admin_files_count;
extern const struct embedded_file web_demo_files[];
extern const size_t web_demo_files_count;

/* data/starter-model.txt, the starter spam model (lib/starter.h). */
extern const struct embedded_file starter_model_files[];
extern const size_t starter_model_files_count;

#endif
