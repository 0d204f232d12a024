/* import_xml: WordPress (WXR) and Disqus exports, streamed through expat.
 *
 * Both readers keep one record's fields (each in a capped buffer) and the
 * element depth; character data is collected only inside the fields they
 * read.  Namespaces are resolved by expat ("uri|local"), so a file that
 * binds another prefix to WordPress's namespace reads the same.  A DOCTYPE
 * that declares entities is refused (no entity expansion at all), and
 * expat's amplification limits stay on.
 */
#include "importfmt.h"

#include "buf.h"
#include "text.h"

#include <errno.h>
#include <expat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define XML_CHUNK (64 * 1024)

#define NS_WP	   "http://wordpress.org/export/"
#define NS_CONTENT "http://purl.org/rss/1.0/modules/content/"
#define NS_DISQUS  "http://disqus.com"
#define NS_DSQ	   "http://disqus.com/disqus-internals"

/* ---- shared machinery ------------------------------------------------------ */

struct field {
	struct buf b;
	bool seen;
};

struct xml {
	XML_Parser p;
	const struct import_sink *sink;
	struct import_error *err;
	int result; /* non-zero: stop (IMPORT_BAD with err, a sink's value, -ENOMEM) */
	int depth;
	struct field *target; /* collecting character data into it */
	int target_depth;
	bool text_cut;
	bool root_seen;
	void *state; /* the format's */
};

static void field_init(struct field *f, size_t max)
{
	buf_init(&f->b, max);
	f->seen = false;
}

static void field_reset(struct field *f)
{
	f->b.len = 0;
	if (f->b.data)
		f->b.data[0] = '\0';
	f->seen = false;
}

static const char *field_str(const struct field *f)
{
	return f->seen && f->b.data ? f->b.data : "";
}

static void stop(struct xml *x, int result)
{
	if (x->result == 0)
		x->result = result;
	XML_StopParser(x->p, XML_FALSE);
}

/* "line 12, column 5" of the current event. */
static void position(struct xml *x, char out[IMPORT_AT_MAX])
{
	snprintf(out, IMPORT_AT_MAX, "line %lu, column %lu",
		 (unsigned long)XML_GetCurrentLineNumber(x->p),
		 (unsigned long)XML_GetCurrentColumnNumber(x->p) + 1);
}

static int fail_here(struct xml *x, const char *what)
{
	char at[IMPORT_AT_MAX];

	position(x, at);
	stop(x, import_fail(x->err, "%s: %s", at, what));
	return x->result;
}

/* The local part of an expat name ("uri|local"), and whether its namespace
 * starts with ns (NULL: no namespace). */
static bool named(const char *name, const char *ns, const char *local)
{
	const char *bar = strchr(name, '|');

	if (!ns)
		return !bar && strcmp(name, local) == 0;
	return bar && strncmp(name, ns, strlen(ns)) == 0 && strcmp(bar + 1, local) == 0;
}

static void collect(struct xml *x, struct field *f)
{
	field_reset(f);
	f->seen = true;
	x->target = f;
	x->target_depth = x->depth;
}

static void on_text(void *ud, const XML_Char *s, int len)
{
	struct xml *x = ud;
	int r;

	if (!x->target || x->result)
		return;
	r = buf_append(&x->target->b, s, (size_t)len);
	if (r == BUF_TOO_BIG) {
		size_t room = x->target->b.max - x->target->b.len;
		if (x->target->b.max == IMPORT_TEXT_MAX) {
			/* A text too long for a comment: cut, and the driver
			 * refuses it with a reason. */
			buf_append(&x->target->b, s, room);
			x->text_cut = true;
		} else {
			fail_here(x, "a field is longer than 8192 bytes");
		}
	} else if (r < 0) {
		stop(x, -ENOMEM);
	}
}

static void on_entity_decl(void *ud, const XML_Char *name, int param, const XML_Char *value,
			   int len, const XML_Char *base, const XML_Char *sys, const XML_Char *pub,
			   const XML_Char *notation)
{
	fail_here(ud, "entity declarations are not accepted");
}

/* Runs the parser over the whole input. */
static int parse_all(struct xml *x, struct import_input *in, XML_StartElementHandler start,
		     XML_EndElementHandler end)
{
	char *chunk = malloc(XML_CHUNK);
	long n;

	if (!chunk)
		return -ENOMEM;
	x->p = XML_ParserCreateNS(NULL, '|');
	if (!x->p) {
		free(chunk);
		return -ENOMEM;
	}
	XML_SetUserData(x->p, x);
	XML_SetElementHandler(x->p, start, end);
	XML_SetCharacterDataHandler(x->p, on_text);
	XML_SetEntityDeclHandler(x->p, on_entity_decl);
	XML_SetParamEntityParsing(x->p, XML_PARAM_ENTITY_PARSING_NEVER);
	do {
		n = in->read(in, chunk, XML_CHUNK, x->err);
		if (n < 0) {
			x->result = IMPORT_BAD;
			break;
		}
		if (XML_Parse(x->p, chunk, (int)n, n == 0) == XML_STATUS_ERROR && x->result == 0) {
			enum XML_Error e = XML_GetErrorCode(x->p);
			import_fail(x->err, "line %lu, column %lu: %s%s",
				    (unsigned long)XML_GetCurrentLineNumber(x->p),
				    (unsigned long)XML_GetCurrentColumnNumber(x->p) + 1,
				    XML_ErrorString(e),
				    n == 0 ? " (the file ends too early: is it truncated?)" : "");
			x->result = IMPORT_BAD;
		}
	} while (n > 0 && x->result == 0);
	XML_ParserFree(x->p);
	free(chunk);
	return x->result;
}

static enum comment_status bool_status(const char *v, enum comment_status yes,
				       enum comment_status no)
{
	return strcmp(v, "true") == 0 || strcmp(v, "1") == 0 ? yes : no;
}

/* ---- WordPress ------------------------------------------------------------ */

enum wxr_field {
	WXR_ID,
	WXR_PARENT,
	WXR_AUTHOR,
	WXR_EMAIL,
	WXR_URL,
	WXR_IP,
	WXR_DATE,
	WXR_DATE_GMT,
	WXR_CONTENT,
	WXR_APPROVED,
	WXR_TYPE,
	WXR_AGENT,
	WXR_N,
};

/* wp:comment_<name> for each field. */
static const char *const wxr_names[WXR_N] = {
    "comment_id",	  "comment_parent",    "comment_author", "comment_author_email",
    "comment_author_url", "comment_author_IP", "comment_date",	 "comment_date_gmt",
    "comment_content",	  "comment_approved",  "comment_type",	 "comment_agent",
};

struct wxr {
	int item_depth, comment_depth; /* 0: outside */
	struct field link, post_id, base;
	struct field f[WXR_N];
	char at[IMPORT_AT_MAX];
	bool source_told;
};

static void wxr_start(void *ud, const XML_Char *name, const XML_Char **attrs)
{
	struct xml *x = ud;
	struct wxr *w = x->state;

	x->depth++;
	if (x->depth == 1) {
		x->root_seen = true;
		if (!named(name, NULL, "rss"))
			fail_here(x,
				  "this is not a WordPress export (WXR): the root element is not "
				  "<rss>");
		return;
	}
	if (named(name, NULL, "item") && !w->item_depth) {
		w->item_depth = x->depth;
		field_reset(&w->link);
		field_reset(&w->post_id);
	} else if (w->item_depth && !w->comment_depth && named(name, NS_WP, "comment")) {
		w->comment_depth = x->depth;
		for (int i = 0; i < WXR_N; i++)
			field_reset(&w->f[i]);
		x->text_cut = false;
		position(x, w->at);
	} else if (w->comment_depth && x->depth == w->comment_depth + 1) {
		for (int i = 0; i < WXR_N; i++)
			if (named(name, NS_WP, wxr_names[i]))
				collect(x, &w->f[i]);
	} else if (w->item_depth && !w->comment_depth && x->depth == w->item_depth + 1) {
		if (named(name, NULL, "link"))
			collect(x, &w->link);
		else if (named(name, NS_WP, "post_id"))
			collect(x, &w->post_id);
	} else if (!w->item_depth && x->depth == 3 && named(name, NS_WP, "base_blog_url")) {
		collect(x, &w->base);
	}
}

static enum comment_status wxr_status(const char *approved)
{
	if (strcmp(approved, "1") == 0 || strcmp(approved, "approve") == 0)
		return COMMENT_PUBLISHED;
	if (strcmp(approved, "spam") == 0)
		return COMMENT_SPAM;
	if (strcmp(approved, "trash") == 0 || strcmp(approved, "post-trashed") == 0)
		return COMMENT_DELETED;
	return COMMENT_PENDING; /* "0", and anything a plugin invented */
}

static void wxr_comment(struct xml *x, struct wxr *w)
{
	struct import_record rec = {0};
	char fallback[64];
	const char *date = field_str(&w->f[WXR_DATE_GMT]), *type = field_str(&w->f[WXR_TYPE]);
	int r;

	memcpy(rec.at, w->at, sizeof(rec.at));
	rec.id = field_str(&w->f[WXR_ID]);
	if (!*rec.id) {
		stop(x, import_fail(x->err, "%s: a comment without <wp:comment_id>", w->at));
		return;
	}
	/* WordPress writes 0000-00-00 00:00:00 when it had no GMT date. */
	if (!*date || strncmp(date, "0000", 4) == 0)
		date = field_str(&w->f[WXR_DATE]);
	if (import_parse_time(date, &rec.created) != 0) {
		stop(x, import_fail(x->err, "%s: comment %s has no valid date (\"%.40s\")", w->at,
				    rec.id, date));
		return;
	}
	rec.parent =
	    strcmp(field_str(&w->f[WXR_PARENT]), "0") == 0 ? NULL : field_str(&w->f[WXR_PARENT]);
	rec.thread_url = field_str(&w->link);
	if (!*rec.thread_url) {
		snprintf(fallback, sizeof(fallback), "/?p=%.40s", field_str(&w->post_id));
		rec.thread_url = fallback;
	}
	rec.author = field_str(&w->f[WXR_AUTHOR]);
	rec.email = field_str(&w->f[WXR_EMAIL]);
	rec.website = field_str(&w->f[WXR_URL]);
	rec.ip = field_str(&w->f[WXR_IP]);
	rec.user_agent = field_str(&w->f[WXR_AGENT]);
	rec.text = field_str(&w->f[WXR_CONTENT]);
	rec.text_cut = x->text_cut;
	rec.markup = IMPORT_MARKUP_HTML;
	rec.status = wxr_status(field_str(&w->f[WXR_APPROVED]));
	rec.kind = *type && strcmp(type, "comment") != 0 ? type : NULL;
	r = x->sink->comment(x->sink->ctx, &rec);
	if (r)
		stop(x, r);
}

/* The channel's wp:base_blog_url names the source (once). */
static void wxr_source(struct xml *x, struct wxr *w)
{
	int r;

	w->source_told = true;
	if (!x->sink->source || !*field_str(&w->base))
		return;
	r = x->sink->source(x->sink->ctx, field_str(&w->base));
	if (r)
		stop(x, r);
}

static void wxr_end(void *ud, const XML_Char *name)
{
	struct xml *x = ud;
	struct wxr *w = x->state;

	if (x->target && x->depth == x->target_depth) {
		if (x->target == &w->base && !w->source_told)
			wxr_source(x, w);
		x->target = NULL;
	}
	if (w->comment_depth == x->depth) {
		w->comment_depth = 0;
		wxr_comment(x, w);
	} else if (w->item_depth == x->depth) {
		w->item_depth = 0;
	}
	x->depth--;
}

int import_read_wxr(struct import_input *in, const struct import_sink *sink,
		    struct import_error *err)
{
	struct wxr w = {0};
	struct xml x = {.sink = sink, .err = err, .state = &w};
	int r;

	field_init(&w.link, IMPORT_FIELD_MAX);
	field_init(&w.post_id, IMPORT_FIELD_MAX);
	field_init(&w.base, IMPORT_FIELD_MAX);
	for (int i = 0; i < WXR_N; i++)
		field_init(&w.f[i], i == WXR_CONTENT ? IMPORT_TEXT_MAX : IMPORT_FIELD_MAX);
	r = parse_all(&x, in, wxr_start, wxr_end);
	if (r == 0 && !x.root_seen)
		r = import_fail(err, "the file is empty");
	buf_free(&w.link.b);
	buf_free(&w.post_id.b);
	buf_free(&w.base.b);
	for (int i = 0; i < WXR_N; i++)
		buf_free(&w.f[i].b);
	return r;
}

/* ---- Disqus --------------------------------------------------------------- */

enum dsq_field {
	DSQ_MESSAGE,
	DSQ_CREATED,
	DSQ_DELETED,
	DSQ_SPAM,
	DSQ_APPROVED,
	DSQ_IP,
	DSQ_NAME,
	DSQ_EMAIL,
	DSQ_USERNAME,
	DSQ_LINK, /* of a thread */
	DSQ_FORUM,
	DSQ_N,
};

struct disqus {
	int item_depth; /* a <thread> or <post> directly below <disqus> */
	bool is_post;
	char id[IMPORT_FIELD_MAX / 16];
	char thread_ref[IMPORT_FIELD_MAX / 16];
	char parent[IMPORT_FIELD_MAX / 16];
	struct field f[DSQ_N];
	char at[IMPORT_AT_MAX];
	bool source_told;
};

/* The dsq:id attribute into out (empty when absent).  0, or 1 if too long. */
static int dsq_id(const XML_Char **attrs, char *out, size_t outsz)
{
	out[0] = '\0';
	for (int i = 0; attrs[i]; i += 2) {
		if (named(attrs[i], NS_DSQ, "id")) {
			if (strlen(attrs[i + 1]) >= outsz)
				return 1;
			memcpy(out, attrs[i + 1], strlen(attrs[i + 1]) + 1);
		}
	}
	return 0;
}

static void dsq_start_item(struct xml *x, struct disqus *d, const XML_Char *name,
			   const XML_Char **attrs)
{
	d->is_post = named(name, NS_DISQUS, "post");
	if (!d->is_post && !named(name, NS_DISQUS, "thread"))
		return;
	d->item_depth = x->depth;
	d->thread_ref[0] = d->parent[0] = '\0';
	for (int i = 0; i < DSQ_N; i++)
		field_reset(&d->f[i]);
	x->text_cut = false;
	position(x, d->at);
	if (dsq_id(attrs, d->id, sizeof(d->id)) != 0)
		fail_here(x, "a dsq:id is too long");
}

static const char *const dsq_names[DSQ_N] = {
    "message", "createdAt", "isDeleted", "isSpam", "isApproved", "ipAddress",
    "name",    "email",	    "username",	 "link",   "forum",
};

static void dsq_start(void *ud, const XML_Char *name, const XML_Char **attrs)
{
	struct xml *x = ud;
	struct disqus *d = x->state;
	int rel;

	x->depth++;
	if (x->depth == 1) {
		x->root_seen = true;
		if (!named(name, NS_DISQUS, "disqus"))
			fail_here(x,
				  "this is not a Disqus export: the root element is not <disqus> "
				  "in the namespace http://disqus.com");
		return;
	}
	if (x->depth == 2) {
		dsq_start_item(x, d, name, attrs);
		return;
	}
	rel = d->item_depth ? x->depth - d->item_depth : 0;
	if (rel == 1 && d->is_post && named(name, NS_DISQUS, "thread")) {
		if (dsq_id(attrs, d->thread_ref, sizeof(d->thread_ref)) != 0)
			fail_here(x, "a dsq:id is too long");
		return;
	}
	if (rel == 1 && d->is_post && named(name, NS_DISQUS, "parent")) {
		if (dsq_id(attrs, d->parent, sizeof(d->parent)) != 0)
			fail_here(x, "a dsq:id is too long");
		return;
	}
	for (int i = 0; rel >= 1 && i < DSQ_N; i++) {
		bool author_field = i == DSQ_NAME || i == DSQ_EMAIL || i == DSQ_USERNAME;
		if (named(name, NS_DISQUS, dsq_names[i]) && rel == (author_field ? 2 : 1))
			collect(x, &d->f[i]);
	}
}

static void dsq_post(struct xml *x, struct disqus *d)
{
	struct import_record rec = {0};
	const char *approved = field_str(&d->f[DSQ_APPROVED]);
	int r;

	memcpy(rec.at, d->at, sizeof(rec.at));
	rec.id = d->id;
	if (!*rec.id) {
		stop(x, import_fail(x->err, "%s: a post without a dsq:id", d->at));
		return;
	}
	if (import_parse_time(field_str(&d->f[DSQ_CREATED]), &rec.created) != 0) {
		stop(x, import_fail(x->err, "%s: post %s has no valid <createdAt>", d->at, rec.id));
		return;
	}
	if (!*d->thread_ref) {
		stop(x, import_fail(x->err, "%s: post %s names no thread", d->at, rec.id));
		return;
	}
	rec.thread_ref = d->thread_ref;
	rec.parent = d->parent;
	rec.author = *field_str(&d->f[DSQ_NAME]) ? field_str(&d->f[DSQ_NAME])
						 : field_str(&d->f[DSQ_USERNAME]);
	rec.email = field_str(&d->f[DSQ_EMAIL]);
	rec.ip = field_str(&d->f[DSQ_IP]);
	rec.text = field_str(&d->f[DSQ_MESSAGE]);
	rec.text_cut = x->text_cut;
	rec.markup = IMPORT_MARKUP_HTML;
	rec.status = bool_status(field_str(&d->f[DSQ_SPAM]), COMMENT_SPAM, COMMENT_PUBLISHED);
	if (rec.status == COMMENT_PUBLISHED && strcmp(approved, "false") == 0)
		rec.status = COMMENT_PENDING;
	rec.status = bool_status(field_str(&d->f[DSQ_DELETED]), COMMENT_DELETED, rec.status);
	r = x->sink->comment(x->sink->ctx, &rec);
	if (r)
		stop(x, r);
}

static void dsq_thread(struct xml *x, struct disqus *d)
{
	int r = 0;

	if (!*d->id) {
		stop(x, import_fail(x->err, "%s: a thread without a dsq:id", d->at));
		return;
	}
	if (!d->source_told && *field_str(&d->f[DSQ_FORUM]) && x->sink->source) {
		d->source_told = true;
		r = x->sink->source(x->sink->ctx, field_str(&d->f[DSQ_FORUM]));
	}
	if (r == 0 && x->sink->thread)
		r = x->sink->thread(x->sink->ctx, d->id, field_str(&d->f[DSQ_LINK]));
	if (r)
		stop(x, r);
}

static void dsq_end(void *ud, const XML_Char *name)
{
	struct xml *x = ud;
	struct disqus *d = x->state;

	if (x->target && x->depth == x->target_depth)
		x->target = NULL;
	if (d->item_depth == x->depth) {
		d->item_depth = 0;
		if (d->is_post)
			dsq_post(x, d);
		else
			dsq_thread(x, d);
	}
	x->depth--;
}

int import_read_disqus(struct import_input *in, const struct import_sink *sink,
		       struct import_error *err)
{
	struct disqus d = {0};
	struct xml x = {.sink = sink, .err = err, .state = &d};
	int r;

	for (int i = 0; i < DSQ_N; i++)
		field_init(&d.f[i], i == DSQ_MESSAGE ? IMPORT_TEXT_MAX : IMPORT_FIELD_MAX);
	r = parse_all(&x, in, dsq_start, dsq_end);
	if (r == 0 && !x.root_seen)
		r = import_fail(err, "the file is empty");
	for (int i = 0; i < DSQ_N; i++)
		buf_free(&d.f[i].b);
	return r;
}
