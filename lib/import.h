/* import: other systems' comments into commentd (commentctl import).
 *
 * An import runs in three phases on one store connection:
 *
 *  1. Reading: the format's reader (lib/importfmt.h) streams the file into
 *     a staging table on the connection's TEMP database (a file SQLite
 *     removes when the connection closes; e-mail and client addresses are
 *     sealed there with a key that exists only in this process's memory).
 *     The comments' HTML becomes Markdown here.  Nothing is written to the
 *     site's database, so a malformed, truncated or mis-encoded file fails
 *     with its position and leaves the database exactly as it was.
 *  2. Writing: the staged comments are ordered so that parents come before
 *     replies, and each goes through the submission pipeline
 *     (submit_comment, origin SUBMIT_IMPORT: the source's status and date
 *     are kept), in transactions of `batch` comments so that the daemon
 *     keeps serving between them; each written comment's source id is
 *     remembered in import_ids (schema 0010), which makes a second import of
 *     the same file add nothing.  If writing fails (disk full, read-only),
 *     the comments this run wrote are removed again.
 *  3. Learning (learn): the imported published and spam comments are
 *     learned by the classifier from the features the pipeline stored.
 *
 * The thread of a comment is the path of its post's URL (the origin is
 * stripped; a path map renames moved posts).  A reply whose parent is not
 * in the file (nor imported before) becomes a top-level comment and is
 * reported; so is one whose parent was skipped.
 */
#ifndef COMMENTD_IMPORT_H
#define COMMENTD_IMPORT_H

#include "importfmt.h"
#include "store.h"
#include "submit.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#define IMPORT_SOURCE_MAX 300
#define IMPORT_MAP_MAX	  100000 /* lines of a path map */
#define IMPORT_BATCH	  500	 /* comments per transaction by default */
#define IMPORT_EXAMPLES	  20	 /* orphans listed in the report */

enum {
	IMPORT_WRITE_FAILED = 2, /* phase 2 failed (err says why); what it wrote was removed */
};

/* Old paths to new ones (--map). */
struct import_map;

/* Reads a map: one "OLD NEW" pair a line (URLs or paths; '#' starts a
 * comment); an OLD ending in '*' maps every path that starts with it, the
 * rest appended to NEW (which then ends in '*' too).  0, or IMPORT_BAD with
 * "path:line: reason" in err. */
int import_map_load(struct import_map **out, const char *path, struct import_error *err);

/* NULL-safe; returns NULL. */
struct import_map *import_map_free(struct import_map *m);

/* The path under the map (out: outsz bytes).  0, or 1 if it does not fit. */
int import_map_apply(const struct import_map *m, const char *path, char *out, size_t outsz);

struct import_progress {
	const char *phase;    /* "reading", "writing", "learning" */
	uint64_t done, total; /* bytes (reading) or comments; total 0: unknown */
	double elapsed;	      /* seconds since the phase began */
};

struct import_options {
	enum import_format format;
	const char *path;   /* the file ("-": standard input, not for isso) */
	const char *source; /* the id map's name for the source; NULL: the format and the
			       file's own name for its site, e.g. "wxr:https://blog.example" */
	const char *site;   /* reserved for many sites (issue #18): must be NULL */
	const struct import_map *map;
	bool learn;	/* learn published comments as ham, spam as spam */
	bool pingbacks; /* keep WordPress pingbacks and trackbacks as comments */
	unsigned batch; /* comments per transaction; 0: IMPORT_BATCH */
	int64_t now;	/* Unix seconds: the address retention counts from it */
	void (*progress)(void *ctx, const struct import_progress *p); /* or NULL */
	void *progress_ctx;
};

/* Imports o->path into the store on c.  site->classifier must be set (the
 * pipeline scores every comment; learn uses it).  On success *report is
 * {"source", "format", "records", "imported", "status": {...}, "threads":
 * {path: n}, "skipped": {reason: n}, "top_level": {reason: n}, "orphans":
 * [{"id", "parent", "at", "reason"}], "dropped": {...}, "learned": {"spam",
 * "ham"}, "seconds"} (caller owns).  0; IMPORT_BAD (the file: nothing
 * written); IMPORT_WRITE_FAILED (writing failed: nothing kept); negative. */
int import_run(struct store_conn *c, const struct submit_site *site, const struct import_options *o,
	       json_t **report, struct import_error *err);

#endif
