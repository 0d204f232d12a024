/* export: every comment out of commentd (commentctl export).
 *
 * Two formats:
 *   jsonl  commentd's own: a header line {"commentd_export": 1, "source",
 *          "exported", "key"}, then one comment a line, oldest first:
 *          {"id", "thread", "parent", "created", "modified", "status",
 *          "author", "url", "text", "avatar"[, "email_hash"]}.  It goes
 *          back in with `commentctl import --format jsonl` unchanged (the
 *          same thread answers, apart from ids).  The e-mail address is not
 *          held, so it is not exported; with the key, the keyed e-mail hash
 *          is, with a fingerprint of the key ("key"), so that a database
 *          with the same key keeps it (privacy requests, "first comment"
 *          moderation) and one with another key drops it.
 *   wxr    WordPress eXtended RSS 1.2, as WordPress's exporter writes it:
 *          one item per thread (its link is the origin and path), its
 *          comments as wp:comment with their HTML, date, status
 *          (1/0/spam/trash) and parent.
 * Both are read in one read transaction: a consistent copy while the
 * daemon keeps writing.
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

struct export_options {
	enum export_format format;
	const struct keys *keys; /* NULL: no e-mail hashes */
	const char *origin;	 /* "https://blog.example": the site's links (wxr, source) */
	const char *site;	 /* reserved for many sites (issue #18): NULL */
	int64_t now;
};

/* The fingerprint of a key (16 hex digits + NUL): a keyed hash of a fixed
 * label, which tells whether two databases share a key and nothing else. */
void export_key_fingerprint(const struct keys *k, char out[17]);

/* Writes every comment to out.  *count: comments written.  0, or negative
 * (a read failure, logged; or -EIO when out cannot be written). */
int export_write(struct store_conn *c, const struct export_options *o, FILE *out, uint64_t *count);

#endif
