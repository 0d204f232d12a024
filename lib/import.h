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
 *
 * Sites (docs/migrate.md, "Several blogs"): every comment goes to one of
 * the configured sites, and its thread is (site, path).  With a site
 * given (--site) every comment goes there, whatever the file says.
 * Without one, comments go to the default site: the site "default", or
 * the only configured site (with several sites and none called default,
 * a site must be given); only commentd's own export (jsonl) names a site
 * per comment, and its comments go to the site they name, which must be
 * configured (a line without one goes to the default site).  A site
 * nobody configured is refused before anything is written.  Source ids
 * are remembered per (source, site), so the same file imported into two
 * sites makes two copies that stay apart, and importing it into either
 * again adds nothing there.  Learning (learn) teaches each comment's own
 * site's layer of the classifier (lib/classify.h).
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
	const char *site;   /* every comment into this site (--site); NULL: the default
			       site, and a commentd export's comments to the site each names */
	const struct import_map *map;
	bool learn;	/* learn published comments as ham, spam as spam */
	bool pingbacks; /* keep WordPress pingbacks and trackbacks as comments */
	unsigned batch; /* comments per transaction; 0: IMPORT_BATCH */
	int64_t now;	/* Unix seconds: the address retention counts from it */
	void (*progress)(void *ctx, const struct import_progress *p); /* or NULL */
	void *progress_ctx;
};

/* Imports o->path into the store on c.  sites are the n_sites configured
 * sites (n_sites >= 1, ids distinct), each with its view of the settings,
 * rules and cut-offs; they share keys and one classifier (the pipeline
 * scores every comment; learn uses it).  On success *report is {"source",
 * "format", "site" (o->site, the default site, or null when the comments
 * went to the sites they name), "records", "imported", "status": {...},
 * "sites": {site: n}, "threads": {path: n} ("site:path" when the comments
 * went to more than one site), "skipped": {reason: n}, "top_level":
 * {reason: n}, "orphans": [{"id", "parent", "at", "reason"}], "dropped":
 * {...}, "learned": {"spam", "ham"}, "seconds"} (caller owns).  0;
 * IMPORT_BAD (the file, or the site: nothing written); IMPORT_WRITE_FAILED
 * (writing failed: nothing kept); negative. */
int import_run(struct store_conn *c, const struct submit_site *sites, size_t n_sites,
	       const struct import_options *o, json_t **report, struct import_error *err);

#endif
