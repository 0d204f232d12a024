/* export: every comment out of commentd (commentctl export).
 *
 * Two formats:
 *   jsonl  commentd's own: a header line {"commentd_export": 1, "source",
 *          "site", "exported", "key"}, then one comment a line, oldest
 *          first: {"id", "site", "thread", "parent", "created", "modified",
 *          "status", "author", "url", "text", "avatar"[, "email_hash"]}.
 *          It goes back in with `commentctl import --format jsonl`
 *          unchanged (the same thread answers, apart from ids), each
 *          comment into the site it names unless the import says which
 *          site (lib/import.h).  The e-mail address is not held, so it is
 *          not exported; with the key, the keyed e-mail hash is, with a
 *          fingerprint of the key ("key"), so that a database with the same
 *          key keeps it (privacy requests, "first comment" moderation) and
 *          one with another key drops it.
 *   wxr    WordPress eXtended RSS 1.2, as WordPress's exporter writes it:
 *          one item per thread (its link is the site's origin and the
 *          path), its comments as wp:comment with their HTML, date, status
 *          (1/0/spam/trash) and parent.  A WXR file is one blog: a database
 *          holding several sites' comments is exported one site at a time.
 * Sites: with a site, only that site's comments; without, every site's.
 * The header's source is the exported site's origin (the only site's, when
 * the database holds one), which the import remembers ids under.
 * Both are read in one read snapshot (store_begin_read, on either engine):
 * a consistent copy while the daemon keeps writing.
 */
#ifndef COMMENTD_EXPORT_H
#define COMMENTD_EXPORT_H

#include "keys.h"
#include "store.h"

#include <stdint.h>
#include <stdio.h>

enum export_format {
	EXPORT_JSONL,
	EXPORT_WXR,
};

/* "jsonl" or "wxr" (0), else 1. */
int export_format_parse(const char *name, enum export_format *out);

/* A site's address, for links and the source name. */
struct export_origin {
	const char *site;
	const char *origin; /* "https://blog.example", or NULL */
};

struct export_options {
	enum export_format format;
	const struct keys *keys; /* NULL: no e-mail hashes */
	const char *origin;	 /* "https://blog.example": overrides the sites' origins */
	const char *site;	 /* only this site's comments; NULL: every site's */
	const struct export_origin *origins; /* the configured sites' origins */
	size_t n_origins;
	int64_t now;
	/* Tests only (test-export's snapshot check): called inside the read
	 * snapshot, after the sites are read and before the rows are; non-zero
	 * fails the export. */
	int (*test_reading)(void *arg);
	void *test_arg;
};

enum {
	EXPORT_SEVERAL_SITES = 1, /* wxr without a site of a database holding several */
};

/* The fingerprint of a key (16 hex digits + NUL): a keyed hash of a fixed
 * label, which tells whether two databases share a key and nothing else. */
void export_key_fingerprint(const struct keys *k, char out[17]);

/* Writes every comment (of o->site, or of every site) to out.  *count:
 * comments written.  0; EXPORT_SEVERAL_SITES (nothing written); or
 * negative (a read failure, logged; or -EIO when out cannot be written). */
int export_write(struct store_conn *c, const struct export_options *o, FILE *out, uint64_t *count);

/* 1 if the database holds comments of site, 0 if not, or negative. */
int export_site_present(struct store_conn *c, const char *site);

#endif
