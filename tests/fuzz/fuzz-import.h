/* fuzz-import: what the import fuzz targets share: a sink that checks
 * every record a reader hands over and puts its text through the same
 * conversion and rendering as the importer does, and a runner for the
 * stream readers (lib/importfmt.h). */
#ifndef COMMENTD_FUZZ_IMPORT_H
#define COMMENTD_FUZZ_IMPORT_H

#include "fuzz.h"

#include "config.h"
#include "importfmt.h"
#include "render.h"
#include "text.h"

static size_t fuzz_records;

/* expat and jansson hand out UTF-8 only; the Isso reader checks it. */
static inline void fuzz_check_field(const char *s)
{
	if (s)
		fuzz_assert(text_utf8_valid(s, strlen(s), NULL));
}

static int fuzz_on_comment(void *ctx, const struct import_record *r)
{
	char *md = NULL, *html = NULL;
	const char *t = r->text ? r->text : "";
	int k;

	(void)ctx;
	fuzz_records++;
	fuzz_assert(r->id && *r->id);
	fuzz_assert(r->at[0]);
	fuzz_assert(r->created >= 0);
	fuzz_assert(r->status <= COMMENT_DELETED);
	fuzz_assert(r->thread_url || r->thread_ref);
	fuzz_check_field(r->author);
	fuzz_check_field(r->email);
	fuzz_check_field(r->website);
	fuzz_check_field(r->thread_url);
	fuzz_check_field(r->text);
	/* A site a record names is a well-formed id (the importer looks it
	 * up among the configured sites). */
	fuzz_assert(!r->site || !*r->site || config_site_id_valid(r->site));
	/* The importer's conversion, then the renderer, as lib/import does. */
	if (r->markup == IMPORT_MARKUP_HTML) {
		fuzz_assert(import_html_to_markdown(t, strlen(t), &md) == 0);
		t = md;
	}
	k = render_markdown(t, strlen(t), &html);
	fuzz_assert(k == 0 || k == RENDER_TOO_BIG);
	free(md);
	free(html);
	return 0;
}

static int fuzz_on_thread(void *ctx, const char *ref, const char *url)
{
	(void)ctx;
	fuzz_assert(ref && *ref && url);
	return 0;
}

static int fuzz_on_source(void *ctx, const char *name)
{
	(void)ctx;
	fuzz_assert(name && *name);
	return 0;
}

static int fuzz_on_key(void *ctx, const char *fp)
{
	(void)ctx;
	(void)fp;
	return 0;
}

static const struct import_sink fuzz_sink = {fuzz_on_comment, fuzz_on_thread, fuzz_on_source,
					     fuzz_on_key, NULL};

/* The reader's result is 0 or a refusal with a message. */
static inline void fuzz_check_result(int r, const struct import_error *err)
{
	fuzz_assert(r == 0 || r == IMPORT_BAD);
	if (r == IMPORT_BAD)
		fuzz_assert(err->message[0] != '\0');
}

static inline int fuzz_stream(int (*reader)(struct import_input *, const struct import_sink *,
					    struct import_error *),
			      const uint8_t *data, size_t size)
{
	struct import_error err = {{0}};
	struct import_input in;

	if (size > FUZZ_MAX_INPUT)
		return 0;
	import_input_memory(&in, data, size);
	fuzz_check_result(reader(&in, &fuzz_sink, &err), &err);
	return 0;
}

#endif
