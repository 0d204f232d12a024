/* import_json: Remark42 backups, Waline exports and commentd's own export.
 *
 * JSON Lines (Remark42, commentd) are read a line at a time with a cap, and
 * each line is parsed by jansson.  Waline's export is one JSON document;
 * it is walked without loading it: a byte source hands jansson exactly one
 * value at a time (it tracks strings and nesting only to know where a value
 * ends, the parsing is jansson's), so memory holds one comment, never the
 * file.  Other tables of the export (users, counters) are parsed element by
 * element and dropped.
 */
#include "importfmt.h"

#include "buf.h"
#include "config.h"
#include "text.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LINE_MAX_BYTES	(4 * 1024 * 1024) /* a comment line: text and its source */
#define VALUE_MAX_BYTES (4 * 1024 * 1024)
#define KEY_MAX_BYTES	4096
#define NEST_MAX	32

/* ---- a buffered byte source with line counting ---------------------------- */

struct src {
	struct import_input *in;
	struct import_error *err;
	unsigned char buf[64 * 1024];
	size_t len, off;
	bool eof, failed;
	unsigned long line; /* of the next byte, from 1 */
};

static void src_init(struct src *s, struct import_input *in, struct import_error *err)
{
	memset(s, 0, sizeof(*s));
	s->in = in;
	s->err = err;
	s->line = 1;
}

/* The next byte without taking it; -1 at the end or on failure. */
static int src_peek(struct src *s)
{
	long n;

	if (s->off < s->len)
		return s->buf[s->off];
	if (s->eof || s->failed)
		return -1;
	n = s->in->read(s->in, s->buf, sizeof(s->buf), s->err);
	if (n < 0) {
		s->failed = true;
		return -1;
	}
	s->len = (size_t)n;
	s->off = 0;
	if (n == 0) {
		s->eof = true;
		return -1;
	}
	return s->buf[0];
}

static int src_get(struct src *s)
{
	int c = src_peek(s);

	if (c >= 0) {
		s->off++;
		if (c == '\n')
			s->line++;
	}
	return c;
}

/* ---- JSON Lines ------------------------------------------------------------- */

/* The next line (without its newline) into line.  1 with a line, 0 at the
 * end, IMPORT_BAD (too long, or a read failure), negative. */
static int next_line(struct src *s, struct buf *line)
{
	int c, r;

	line->len = 0;
	if (line->data)
		line->data[0] = '\0';
	if (src_peek(s) < 0)
		return s->failed ? IMPORT_BAD : 0;
	while ((c = src_get(s)) >= 0 && c != '\n') {
		char ch = (char)c;
		r = buf_append(line, &ch, 1);
		if (r == BUF_TOO_BIG)
			return import_fail(s->err, "line %lu is longer than %d bytes", s->line,
					   LINE_MAX_BYTES);
		if (r < 0)
			return r;
	}
	if (s->failed)
		return IMPORT_BAD;
	/* Both writers end every line with a newline: a last line without
	 * one was cut off. */
	if (c < 0 && line->len)
		return import_fail(
		    s->err, "line %lu: the file ends within a line (is it truncated?)", s->line);
	if (line->len && line->data[line->len - 1] == '\r')
		line->data[--line->len] = '\0';
	return 1;
}

static bool blank(const char *s)
{
	for (; *s; s++)
		if (!strchr(" \t\r", *s))
			return false;
	return true;
}

/* An object from a line, or IMPORT_BAD naming line n. */
static int parse_line(const struct buf *line, unsigned long n, json_t **out,
		      struct import_error *err)
{
	json_error_t je;

	*out = json_loadb(line->data, line->len, JSON_REJECT_DUPLICATES, &je);
	if (!*out)
		return import_fail(err, "line %lu, column %d: %s", n, je.column, je.text);
	if (!json_is_object(*out)) {
		json_decref(*out);
		*out = NULL;
		return import_fail(err, "line %lu: not a JSON object", n);
	}
	return 0;
}

/* Calls fn for the object of every non-blank line to the end.  0, the
 * first non-zero result, IMPORT_BAD or negative. */
static int each_object(struct src *s, int (*fn)(void *ctx, json_t *o, unsigned long n), void *ctx)
{
	struct buf line;
	json_t *o;
	int r = 0;

	buf_init(&line, LINE_MAX_BYTES);
	while (r == 0) {
		unsigned long n = s->line;
		r = next_line(s, &line);
		if (r <= 0)
			break;
		r = 0;
		if (blank(line.data ? line.data : ""))
			continue;
		r = parse_line(&line, n, &o, s->err);
		if (r == 0)
			r = fn(ctx, o, n);
		json_decref(o);
	}
	buf_free(&line);
	return r;
}

/* A string member ("" when absent or null); 1 if present with another type. */
static int member_str(json_t *o, const char *name, const char **out)
{
	json_t *v = json_object_get(o, name);

	*out = "";
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_string(v))
		return 1;
	*out = json_string_value(v);
	return 0;
}

/* An id member, a string or a whole number, into out ("" when absent). */
static int member_id(json_t *o, const char *name, char *out, size_t outsz)
{
	json_t *v = json_object_get(o, name);

	out[0] = '\0';
	if (!v || json_is_null(v))
		return 0;
	if (json_is_integer(v)) {
		snprintf(out, outsz, "%lld", (long long)json_integer_value(v));
		return 0;
	}
	if (!json_is_string(v) || json_string_length(v) >= outsz)
		return 1;
	memcpy(out, json_string_value(v), json_string_length(v) + 1);
	return 0;
}

/* The text of a record: cut at IMPORT_TEXT_MAX (the driver refuses it). */
static void record_text(struct import_record *rec, const char *text)
{
	rec->text = text;
	rec->text_cut = strlen(text) > IMPORT_TEXT_MAX;
}

/* ---- Remark42 ------------------------------------------------------------- */

/* The meta line ({"version":1,"users":[...],"posts":[...]}, every user and
 * post of the site: megabytes on a big one) is checked by its start and
 * skipped, not parsed: only its version matters. */
static int remark42_meta(struct src *s)
{
	static const char want[] = "{\"version\":";
	char start[sizeof(want) + 8] = "";
	size_t n = 0;
	int c;

	while (n < sizeof(start) - 1 && (c = src_peek(s)) >= 0 && c != '\n') {
		if (!(n == 0 && (c == ' ' || c == '\t' || c == '\r')))
			start[n++] = (char)c;
		src_get(s);
	}
	start[n] = '\0';
	if (s->failed)
		return IMPORT_BAD;
	if (strncmp(start, want, sizeof(want) - 1) != 0)
		return import_fail(s->err,
				   "line 1: this is not a Remark42 backup (it starts with a meta "
				   "line {\"version\":1,...})");
	if (!((start[sizeof(want) - 1] == '0' || start[sizeof(want) - 1] == '1') &&
	      strchr(",}", start[sizeof(want)])))
		return import_fail(s->err, "line 1: unknown Remark42 backup version");
	while ((c = src_get(s)) >= 0 && c != '\n')
		;
	if (c < 0 && !s->failed)
		return import_fail(s->err, "line 1: the file ends within its first line (is it "
					   "truncated?)");
	return s->failed ? IMPORT_BAD : 0;
}

struct remark42 {
	const struct import_sink *sink;
	struct import_error *err;
	bool source_told;
};

static int remark42_comment(struct remark42 *rk, json_t *o, unsigned long n)
{
	struct import_record rec = {0};
	json_t *user = json_object_get(o, "user"), *loc = json_object_get(o, "locator");
	json_t *del = json_object_get(o, "delete");
	const char *time, *orig, *text, *site = "";
	char id[256], pid[256];
	int r = 0;

	snprintf(rec.at, sizeof(rec.at), "line %lu", n);
	if (!json_is_object(user) || !json_is_object(loc))
		return import_fail(rk->err, "line %lu: a comment without \"user\" or \"locator\"",
				   n);
	if (member_id(o, "id", id, sizeof(id)) || member_id(o, "pid", pid, sizeof(pid)) ||
	    member_str(o, "time", &time) || member_str(o, "text", &text) ||
	    member_str(o, "orig", &orig) || member_str(user, "name", &rec.author) ||
	    member_str(loc, "url", &rec.thread_url) || member_str(loc, "site", &site) ||
	    (del && !json_is_boolean(del)))
		return import_fail(rk->err, "line %lu: a field has the wrong type", n);
	if (!*id || !*rec.thread_url)
		return import_fail(rk->err, "line %lu: a comment without \"id\" or locator \"url\"",
				   n);
	if (import_parse_time(time, &rec.created) != 0)
		return import_fail(rk->err, "line %lu: comment %s has no valid \"time\"", n, id);
	rec.id = id;
	rec.parent = pid;
	/* orig is what the commenter typed (Markdown); text its HTML. */
	rec.markup = *orig ? IMPORT_MARKUP_MARKDOWN : IMPORT_MARKUP_HTML;
	record_text(&rec, *orig ? orig : text);
	rec.status = json_is_true(del) ? COMMENT_DELETED : COMMENT_PUBLISHED;
	/* user.ip is an HMAC of the address (Remark42 keeps no address). */
	if (!rk->source_told && *site && rk->sink->source) {
		rk->source_told = true;
		r = rk->sink->source(rk->sink->ctx, site);
	}
	return r ? r : rk->sink->comment(rk->sink->ctx, &rec);
}

static int remark42_line(void *ctx, json_t *o, unsigned long n)
{
	return remark42_comment(ctx, o, n);
}

int import_read_remark42(struct import_input *in, const struct import_sink *sink,
			 struct import_error *err)
{
	struct remark42 rk = {sink, err, false};
	struct src *s = malloc(sizeof(*s));
	int r;

	if (!s)
		return -ENOMEM;
	src_init(s, in, err);
	r = src_peek(s) < 0 ? (s->failed ? IMPORT_BAD : import_fail(err, "the file is empty"))
			    : remark42_meta(s);
	if (r == 0)
		r = each_object(s, remark42_line, &rk);
	free(s);
	return r;
}

/* ---- commentd's own export ---------------------------------------------- */

static int jsonl_header(json_t *o, const struct import_sink *sink, struct import_error *err)
{
	const char *source, *key;
	json_t *version = json_object_get(o, "commentd_export");
	int r = 0;

	if (!json_is_integer(version))
		return import_fail(err, "line 1: this is not a commentd export (its first line "
					"has \"commentd_export\")");
	if (json_integer_value(version) != 1)
		return import_fail(err, "line 1: unknown commentd export version %lld",
				   (long long)json_integer_value(version));
	if (member_str(o, "source", &source) || member_str(o, "key", &key))
		return import_fail(err, "line 1: a field has the wrong type");
	if (*source && sink->source)
		r = sink->source(sink->ctx, source);
	if (r == 0 && sink->key)
		r = sink->key(sink->ctx, *key ? key : NULL);
	return r;
}

static int jsonl_comment(json_t *o, unsigned long n, const struct import_sink *sink,
			 struct import_error *err)
{
	struct import_record rec = {0};
	const char *created, *status, *text;
	char id[64], parent[64];

	snprintf(rec.at, sizeof(rec.at), "line %lu", n);
	if (member_id(o, "id", id, sizeof(id)) || member_id(o, "parent", parent, sizeof(parent)) ||
	    member_str(o, "thread", &rec.thread_url) || member_str(o, "created", &created) ||
	    member_str(o, "status", &status) || member_str(o, "author", &rec.author) ||
	    member_str(o, "url", &rec.website) || member_str(o, "text", &text) ||
	    member_str(o, "avatar", &rec.avatar) ||
	    member_str(o, "email_hash", &rec.email_hash_hex) || member_str(o, "site", &rec.site))
		return import_fail(err, "line %lu: a field has the wrong type", n);
	if (!*id || !*rec.thread_url)
		return import_fail(err, "line %lu: a comment without \"id\" or \"thread\"", n);
	if (*rec.site && !config_site_id_valid(rec.site))
		return import_fail(err, "line %lu: \"site\" is not a site id", n);
	if (import_parse_time(created, &rec.created) != 0)
		return import_fail(err, "line %lu: comment %s has no valid \"created\"", n, id);
	if (comment_status_parse(status, &rec.status) != 0 || rec.status == COMMENT_DISCARDED)
		return import_fail(err, "line %lu: unknown status \"%.20s\"", n, status);
	rec.id = id;
	rec.parent = parent;
	rec.markup = IMPORT_MARKUP_MARKDOWN;
	record_text(&rec, text);
	return sink->comment(sink->ctx, &rec);
}

struct jsonl {
	const struct import_sink *sink;
	struct import_error *err;
	bool header; /* seen */
};

static int jsonl_line(void *ctx, json_t *o, unsigned long n)
{
	struct jsonl *j = ctx;

	if (j->header)
		return jsonl_comment(o, n, j->sink, j->err);
	j->header = true;
	return jsonl_header(o, j->sink, j->err);
}

int import_read_jsonl(struct import_input *in, const struct import_sink *sink,
		      struct import_error *err)
{
	struct jsonl j = {sink, err, false};
	struct src *s = malloc(sizeof(*s));
	int r;

	if (!s)
		return -ENOMEM;
	src_init(s, in, err);
	r = each_object(s, jsonl_line, &j);
	if (r == 0 && !j.header)
		r = import_fail(err, "the file is empty");
	free(s);
	return r;
}

/* ---- Waline ------------------------------------------------------------- */

/* Hands jansson one JSON value from the source and then the end: strings
 * and nesting are tracked only to find where the value stops. */
struct value {
	struct src *s;
	size_t count, cap;
	int depth;
	bool started, in_str, esc, done, bare, too_big;
};

static bool json_space(int c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static size_t value_feed(void *buffer, size_t buflen, void *data)
{
	struct value *v = data;
	unsigned char *out = buffer;
	size_t n = 0;
	int c;

	while (n < buflen && !v->done && (c = src_peek(v->s)) >= 0) {
		if (!v->started && json_space(c)) {
			src_get(v->s);
			continue;
		}
		if (!v->started) {
			v->started = true;
			v->bare = c != '{' && c != '[' && c != '"';
		}
		if (v->bare && (json_space(c) || c == ',' || c == ']' || c == '}' || c == ':')) {
			v->done = true;
			break;
		}
		src_get(v->s);
		out[n++] = (unsigned char)c;
		if (++v->count > v->cap) {
			v->too_big = true;
			return (size_t)-1;
		}
		if (v->in_str) {
			if (v->esc)
				v->esc = false;
			else if (c == '\\')
				v->esc = true;
			else if (c == '"') {
				v->in_str = false;
				v->done = v->depth == 0;
			}
		} else if (c == '"') {
			v->in_str = true;
		} else if (c == '{' || c == '[') {
			v->depth++;
		} else if (c == '}' || c == ']') {
			v->done = --v->depth <= 0;
		}
	}
	if (v->s->failed)
		return (size_t)-1;
	return n;
}

struct waline {
	struct src s;
	const struct import_sink *sink;
	struct import_error *err;
	unsigned long record;
	bool found, is_waline;
};

/* The next value, at most cap bytes.  0 with *out, IMPORT_BAD, negative. */
static int read_value(struct waline *w, size_t cap, json_t **out)
{
	struct value v = {.s = &w->s, .cap = cap};
	json_error_t je;

	*out = json_load_callback(value_feed, &v, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &je);
	if (*out)
		return 0;
	if (w->s.failed)
		return IMPORT_BAD;
	if (v.too_big)
		return import_fail(w->err, "line %lu: a value is longer than %zu bytes", w->s.line,
				   cap);
	return import_fail(w->err, "line %lu: %s%s", w->s.line, je.text,
			   w->s.eof ? " (the file ends too early: is it truncated?)" : "");
}

/* The next non-blank byte, not taken; -1 at the end. */
static int next_nonspace(struct waline *w)
{
	int c;

	while (json_space(c = src_peek(&w->s)))
		src_get(&w->s);
	return c;
}

/* Takes the next non-blank byte if it is one of want; returns it, or -1. */
static int expect(struct waline *w, const char *want)
{
	int c;

	while (json_space(c = src_peek(&w->s)))
		src_get(&w->s);
	if (c < 0 && !w->s.failed) {
		import_fail(w->err, "line %lu: the file ends too early (is it truncated?)",
			    w->s.line);
		return -1;
	}
	if (c < 0 || !strchr(want, c)) {
		if (!w->s.failed)
			import_fail(w->err, "line %lu: expected %s%s", w->s.line,
				    strlen(want) > 1 ? "one of " : "", want);
		return -1;
	}
	src_get(&w->s);
	return c;
}

static enum comment_status waline_status(const char *s)
{
	if (strcmp(s, "approved") == 0)
		return COMMENT_PUBLISHED;
	if (strcmp(s, "spam") == 0)
		return COMMENT_SPAM;
	return COMMENT_PENDING; /* "waiting" */
}

static int waline_comment(struct waline *w, json_t *o)
{
	struct import_record rec = {0};
	const char *inserted, *status, *text;
	char id[256], pid[256];

	snprintf(rec.at, sizeof(rec.at), "record %lu (line %lu)", w->record, w->s.line);
	if (!json_is_object(o))
		return import_fail(w->err, "%s: a comment is not an object", rec.at);
	if (member_id(o, "objectId", id, sizeof(id)) || member_id(o, "pid", pid, sizeof(pid)) ||
	    member_str(o, "insertedAt", &inserted) || member_str(o, "status", &status) ||
	    member_str(o, "nick", &rec.author) || member_str(o, "mail", &rec.email) ||
	    member_str(o, "link", &rec.website) || member_str(o, "ip", &rec.ip) ||
	    member_str(o, "ua", &rec.user_agent) || member_str(o, "url", &rec.thread_url) ||
	    member_str(o, "comment", &text))
		return import_fail(w->err, "%s: a field has the wrong type", rec.at);
	if (!*inserted && member_str(o, "createdAt", &inserted) != 0)
		return import_fail(w->err, "%s: a field has the wrong type", rec.at);
	if (!*id || !*rec.thread_url)
		return import_fail(w->err, "%s: a comment without \"objectId\" or \"url\"", rec.at);
	if (import_parse_time(inserted, &rec.created) != 0)
		return import_fail(w->err, "%s: comment %s has no valid \"insertedAt\"", rec.at,
				   id);
	rec.id = id;
	rec.parent = pid;
	rec.markup = IMPORT_MARKUP_MARKDOWN;
	record_text(&rec, text);
	rec.status = waline_status(status);
	return w->sink->comment(w->sink->ctx, &rec);
}

static int skip_value(struct waline *w, int depth);

/* The elements of an array (its '[' taken); each = 1: comments. */
static int walk_array(struct waline *w, bool comments, int depth)
{
	json_t *v;
	int c, r;

	while (json_space(c = src_peek(&w->s)))
		src_get(&w->s);
	if (c == ']') {
		src_get(&w->s);
		return 0;
	}
	for (;;) {
		if (comments) {
			w->record++;
			r = read_value(w, VALUE_MAX_BYTES, &v);
			if (r == 0)
				r = waline_comment(w, v);
			json_decref(v);
		} else {
			r = skip_value(w, depth + 1);
		}
		if (r)
			return r;
		c = expect(w, ",]");
		if (c < 0)
			return IMPORT_BAD;
		if (c == ']')
			return 0;
	}
}

static int walk_object(struct waline *w, const char *parent, int depth);

/* Skips a value: containers element by element, so a big table is never
 * held whole; scalars through jansson. */
static int skip_value(struct waline *w, int depth)
{
	json_t *v;
	int c, r;

	if (depth > NEST_MAX)
		return import_fail(w->err, "line %lu: nested too deeply", w->s.line);
	while (json_space(c = src_peek(&w->s)))
		src_get(&w->s);
	if (c == '{') {
		src_get(&w->s);
		return walk_object(w, "", depth + 1);
	}
	if (c == '[') {
		src_get(&w->s);
		return walk_array(w, false, depth + 1);
	}
	r = read_value(w, VALUE_MAX_BYTES, &v);
	json_decref(v);
	return r;
}

/* An object's members (its '{' taken).  data.Comment is the comments. */
static int walk_object(struct waline *w, const char *parent, int depth)
{
	json_t *key, *v;
	const char *k;
	int c, r;

	while (json_space(c = src_peek(&w->s)))
		src_get(&w->s);
	if (c == '}') {
		src_get(&w->s);
		return 0;
	}
	for (;;) {
		r = read_value(w, KEY_MAX_BYTES, &key);
		if (r)
			return r;
		if (!json_is_string(key)) {
			json_decref(key);
			return import_fail(w->err, "line %lu: an object key is not a string",
					   w->s.line);
		}
		k = json_string_value(key);
		r = expect(w, ":") < 0 ? IMPORT_BAD : 0;
		if (r == 0 && strcmp(k, "Comment") == 0 && strcmp(parent, "data") == 0 &&
		    depth <= 3) {
			w->found = true;
			r = expect(w, "[") < 0 ? IMPORT_BAD : walk_array(w, true, depth);
		} else if (r == 0 && strcmp(k, "type") == 0 && depth <= 2) {
			r = read_value(w, KEY_MAX_BYTES, &v);
			if (r == 0 && json_is_string(v) &&
			    strcmp(json_string_value(v), "waline") == 0)
				w->is_waline = true;
			json_decref(v);
		} else if (r == 0 && depth < 3 && next_nonspace(w) == '{') {
			/* An object is walked (the export may sit inside an
			 * API answer's "data"), anything else skipped. */
			src_get(&w->s);
			r = walk_object(w, k, depth + 1);
		} else if (r == 0) {
			r = skip_value(w, depth);
		}
		json_decref(key);
		if (r)
			return r;
		c = expect(w, ",}");
		if (c < 0)
			return IMPORT_BAD;
		if (c == '}')
			return 0;
	}
}

int import_read_waline(struct import_input *in, const struct import_sink *sink,
		       struct import_error *err)
{
	struct waline *w = calloc(1, sizeof(*w));
	int r;

	if (!w)
		return -ENOMEM;
	src_init(&w->s, in, err);
	w->sink = sink;
	w->err = err;
	if (src_peek(&w->s) < 0)
		r = w->s.failed ? IMPORT_BAD : import_fail(err, "the file is empty");
	else
		r = expect(w, "{") < 0 ? IMPORT_BAD : walk_object(w, "", 1);
	if (r == 0 && next_nonspace(w) >= 0)
		r = import_fail(err, "line %lu: more after the end of the export", w->s.line);
	else if (r == 0 && w->s.failed)
		r = IMPORT_BAD;
	if (r == 0 && (!w->found || !w->is_waline))
		r = import_fail(err,
				"this is not a Waline export (it has \"type\": \"waline\" and a "
				"\"data\" object with a \"Comment\" list)");
	free(w);
	return r;
}
