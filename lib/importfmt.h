/* importfmt: the readers of other systems' comment exports.
 *
 * Each reader streams one format and hands every comment it finds to a sink
 * as a struct import_record, in file order, without judging it: the driver
 * (lib/import.h) stages, orders, converts and submits.  A reader fails on
 * anything that is not its format (malformed, truncated, not UTF-8, a field
 * of the wrong type) with a message that says where: "line 12, column 5"
 * for XML, "line 12" for JSON Lines, "record 12" for the others.
 *
 *   wxr       WordPress eXtended RSS (Tools > Export), expat, streaming
 *   disqus    Disqus XML export (thread and post elements), expat, streaming
 *   isso      an Isso SQLite database, read-only, row by row
 *   remark42  a Remark42 backup: JSON Lines (a meta line, then one comment
 *             a line), each line read with a cap and parsed by jansson
 *   waline    Waline's export (one JSON document): the Comment array is
 *             walked element by element, each parsed by jansson with a cap
 *   jsonl     commentd's own export (lib/export.h)
 *
 * Input comes through struct import_input: a file (gzip-compressed or not,
 * zlib decides) or memory (fuzzers, tests).  No reader holds more than one
 * record and a bounded read-ahead in memory.
 */
#ifndef COMMENTD_IMPORTFMT_H
#define COMMENTD_IMPORTFMT_H

#include "comment.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define IMPORT_TEXT_MAX	 (512 * 1024) /* bytes of a comment's text (RENDER_MAX_INPUT) */
#define IMPORT_FIELD_MAX 8192	      /* bytes of any other field */
#define IMPORT_AT_MAX	 48
#define IMPORT_ERR_MAX	 300

enum import_format {
	IMPORT_WXR,
	IMPORT_DISQUS,
	IMPORT_ISSO,
	IMPORT_REMARK42,
	IMPORT_WALINE,
	IMPORT_JSONL,
};

/* "wxr", ... and back (0, or 1 for an unknown name). */
const char *import_format_name(enum import_format f);
int import_format_parse(const char *name, enum import_format *out);

enum import_markup {
	IMPORT_MARKUP_HTML,	/* WordPress, Disqus, Remark42 without orig: converted */
	IMPORT_MARKUP_MARKDOWN, /* Isso, Waline, Remark42 orig, commentd: kept */
};

/* One comment as its source has it.  Strings are borrowed for the length of
 * the sink call; any may be NULL (absent). */
struct import_record {
	const char *id;		/* the source's id: non-empty */
	const char *parent;	/* the parent's id; NULL or "": top level */
	const char *thread_url; /* the post's URL or path */
	const char *thread_ref; /* or a reference to a thread given by sink->thread */
	const char *author;
	const char *email;
	const char *website;
	const char *ip;
	const char *user_agent;
	const char *text;
	bool text_cut; /* the text was longer than IMPORT_TEXT_MAX (cut there) */
	enum import_markup markup;
	int64_t created; /* Unix seconds, UTC */
	enum comment_status status;
	const char *kind; /* NULL: a comment; else "pingback", "trackback", ... */
	/* commentd's own export: the avatar seed and, when the export says
	 * which key made it, the e-mail hash as hex. */
	const char *avatar;
	const char *email_hash_hex;
	const char *site; /* commentd's own export: the site it was on (a site id); NULL: none */
	char at[IMPORT_AT_MAX]; /* where the record starts: "line 12, column 5" */
};

/* Where records go.  Each callback returns 0 to go on, or non-zero to stop
 * the reader, which then returns that value. */
struct import_sink {
	int (*comment)(void *ctx, const struct import_record *rec);
	/* Disqus: a thread element (ref is its dsq:id).  May be NULL. */
	int (*thread)(void *ctx, const char *ref, const char *url);
	/* The file's own name for its site (WXR base_blog_url, Disqus forum,
	 * Remark42 site, commentd export source), once.  May be NULL. */
	int (*source)(void *ctx, const char *name);
	/* commentd's export header: the fingerprint of the key its e-mail
	 * hashes were made with (NULL: none).  May be NULL. */
	int (*key)(void *ctx, const char *fingerprint);
	void *ctx;
};

struct import_error {
	char message[IMPORT_ERR_MAX];
};

/* Fills err (printf-style) and returns IMPORT_BAD. */
int import_fail(struct import_error *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

enum {
	IMPORT_BAD = 1, /* the input is not what the format says (err filled) */
};

/* A byte source.  read returns bytes read (0 at the end) or -1 on failure
 * (with a sentence in err).  consumed counts bytes handed out. */
struct import_input {
	long (*read)(struct import_input *in, void *buf, size_t n, struct import_error *err);
	void (*close)(struct import_input *in);
	void *ctx;
	const unsigned char *mem;
	size_t mem_len, mem_off;
	uint64_t consumed; /* bytes handed out */
	uint64_t position; /* bytes of the file read so far (compressed ones for gzip) */
	uint64_t size;	   /* the file's size when known (progress), else 0 */
};

/* Opens path ("-": standard input), gzip-compressed or not.  0, or
 * IMPORT_BAD with err. */
int import_input_file(struct import_input *in, const char *path, struct import_error *err);

/* Reads len bytes at data (not copied). */
void import_input_memory(struct import_input *in, const void *data, size_t len);

/* Closes a file input.  NULL-safe on a zeroed input. */
void import_input_close(struct import_input *in);

/* The readers.  0 when the whole input was read, IMPORT_BAD with err, a
 * sink's non-zero value, or negative (out of memory). */
int import_read_wxr(struct import_input *in, const struct import_sink *sink,
		    struct import_error *err);
int import_read_disqus(struct import_input *in, const struct import_sink *sink,
		       struct import_error *err);
int import_read_remark42(struct import_input *in, const struct import_sink *sink,
			 struct import_error *err);
int import_read_waline(struct import_input *in, const struct import_sink *sink,
		       struct import_error *err);
int import_read_jsonl(struct import_input *in, const struct import_sink *sink,
		      struct import_error *err);

struct sqlite3;

/* Isso: reads the comments of an open Isso database (its threads and
 * comments tables).  Same results.  An Isso database is a SQLite file, so
 * lib/import_isso.c reads it with SQLite itself (not through lib/store,
 * which is commentd's own database). */
int import_read_isso_db(struct sqlite3 *db, const struct import_sink *sink,
			struct import_error *err);

/* Opens path as an Isso database, read-only, and reads it. */
int import_read_isso(const char *path, const struct import_sink *sink, struct import_error *err);

/* Parses a date: "YYYY-MM-DD HH:MM:SS" or RFC 3339 ("T", optional
 * fraction, "Z", "+hh:mm" or nothing: UTC).  0 with *out, or 1. */
int import_parse_time(const char *s, int64_t *out);

/* The thread path of a post's URL: the path and query of an absolute URL
 * (the origin is stripped, the fragment dropped), or a path as it is.
 * Writes at most outsz bytes.  0, or 1 if there is no path to take. */
int import_url_path(const char *url, char *out, size_t outsz);

/* Converts a comment's HTML (WordPress, Disqus, Remark42) to the Markdown
 * subset lib/render.c knows: paragraphs and line breaks (a blank line is a
 * paragraph, a newline a line break, as WordPress shows them), emphasis,
 * strong, code, preformatted blocks, quotes and http(s)/mailto links; other
 * elements keep only their text, scripts and styles go; text is escaped so
 * that it shows as written.  *out is caller-owned.  0, or negative. */
int import_html_to_markdown(const char *html, size_t len, char **out);

#endif
