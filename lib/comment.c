#include "comment.h"

#include "jsontext.h"
#include "log.h"
#include "outbox.h"
#include "render.h"
#include "text.h"
#include "thread.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *const status_names[] = {"published", "pending", "spam", "deleted", "discarded"};

const char *comment_status_name(enum comment_status s)
{
	return status_names[s];
}

int comment_status_parse(const char *name, enum comment_status *out)
{
	for (size_t i = 0; i < sizeof(status_names) / sizeof(status_names[0]); i++) {
		if (name && strcmp(name, status_names[i]) == 0) {
			*out = (enum comment_status)i;
			return 0;
		}
	}
	return 1;
}

int comment_fail(struct comment_error *err, int status, const char *code, const char *fmt, ...)
{
	va_list ap;

	err->status = status;
	err->code = code;
	va_start(ap, fmt);
	vsnprintf(err->message, sizeof(err->message), fmt, ap);
	va_end(ap);
	return status == 503 ? COMMENT_UNAVAILABLE : COMMENT_INVALID;
}

int comment_thread_check(const char *thread, struct comment_error *err)
{
	size_t len;

	if (!thread || !*thread)
		return comment_fail(err, 422, "missing_thread",
				    "The thread (the page's path) is missing.");
	len = strnlen(thread, COMMENT_THREAD_MAX + 1);
	if (len > COMMENT_THREAD_MAX)
		return comment_fail(err, 422, "invalid_thread",
				    "The thread path is longer than %d bytes.", COMMENT_THREAD_MAX);
	if (!text_utf8_valid(thread, len, NULL))
		return comment_fail(err, 400, "invalid_utf8",
				    "The thread path is not valid UTF-8.");
	if (thread[0] != '/' || thread[1] == '/')
		return comment_fail(err, 422, "invalid_thread",
				    "The thread must be a page path starting with a single \"/\".");
	for (const unsigned char *p = (const unsigned char *)thread; *p; p++) {
		if (*p <= 0x20 || *p == 0x7f || *p == '\\')
			return comment_fail(
			    err, 422, "invalid_thread",
			    "The thread path must not contain spaces, backslashes or "
			    "control characters.");
	}
	if (text_has_controls(thread, false))
		return comment_fail(err, 422, "invalid_thread",
				    "The thread path must not contain control characters.");
	for (const char *seg = thread; seg; seg = strchr(seg + 1, '/')) {
		size_t n = strcspn(seg + 1, "/?#");
		if ((n == 1 && seg[1] == '.') || (n == 2 && seg[1] == '.' && seg[2] == '.'))
			return comment_fail(
			    err, 422, "invalid_thread",
			    "The thread path must not contain \".\" or \"..\" segments.");
	}
	return 0;
}

/* A pragmatic address check: local@domain, no spaces or controls, a dotted
 * domain of letters, digits and hyphens (or IDN bytes). */
static bool email_valid(const char *e)
{
	const char *at = strchr(e, '@');
	size_t local, dlen;
	const char *d, *label;

	if (!at || strchr(at + 1, '@'))
		return false;
	local = (size_t)(at - e);
	d = at + 1;
	dlen = strlen(d);
	if (local == 0 || local > 64 || dlen < 3 || dlen > 253 || !strchr(d, '.'))
		return false;
	for (const unsigned char *p = (const unsigned char *)e; p < (const unsigned char *)at;
	     p++) {
		if (*p <= 0x20 || *p == 0x7f || strchr("(),:;<>[\\]\"", *p))
			return false;
	}
	label = d;
	for (const unsigned char *p = (const unsigned char *)d;; p++) {
		if (*p == '.' || *p == '\0') {
			size_t n = (size_t)((const char *)p - label);
			if (n == 0 || n > 63 || label[0] == '-' || p[-1] == '-')
				return false;
			if (*p == '\0')
				break;
			label = (const char *)p + 1;
			continue;
		}
		if (!(isalnum(*p) || *p == '-' || *p >= 0x80))
			return false;
	}
	return true;
}

bool comment_url_valid(const char *u, size_t max)
{
	const char *host;
	size_t len = strlen(u);

	if (len > max)
		return false;
	if (strncasecmp(u, "http://", 7) == 0)
		host = u + 7;
	else if (strncasecmp(u, "https://", 8) == 0)
		host = u + 8;
	else
		return false;
	if (!*host || *host == '/' || *host == '?' || *host == '#')
		return false;
	for (const unsigned char *p = (const unsigned char *)u; *p; p++) {
		if (*p <= 0x20 || *p == 0x7f || *p == '\\' || *p == '"' || *p == '<' || *p == '>')
			return false;
	}
	return true;
}

/* The page the comment was posted on: context for moderators, never a
 * reason to refuse a comment, except bytes that are not text. */
static int validate_page(const struct config *cfg, struct comment_input *in,
			 struct comment_error *err)
{
	if (in->page_title) {
		if (!text_utf8_valid(in->page_title, strlen(in->page_title), NULL))
			return comment_fail(err, 400, "invalid_utf8",
					    "The page title is not valid UTF-8.");
		text_one_line(in->page_title, COMMENT_TITLE_MAX);
	}
	if (in->page_url) {
		text_trim(in->page_url);
		if (*in->page_url && !comment_url_valid(in->page_url, cfg->max_url))
			in->page_url[0] = '\0';
	}
	return 0;
}

int comment_validate(const struct config *cfg, struct comment_input *in, struct comment_error *err)
{
	size_t chars;
	int r;

	r = comment_thread_check(in->thread, err);
	if (r)
		return r;
	if (in->parent < 0)
		return comment_fail(err, 422, "invalid_parent", "The parent must be a comment id.");

	if (!in->author)
		return comment_fail(err, 422, "missing_author", "Please give your name.");
	if (!text_utf8_valid(in->author, strlen(in->author), NULL))
		return comment_fail(err, 400, "invalid_utf8", "The name is not valid UTF-8.");
	text_strip_invisible(in->author);
	text_trim(in->author);
	if (!*in->author)
		return comment_fail(err, 422, "missing_author", "Please give your name.");
	if (text_has_controls(in->author, false))
		return comment_fail(err, 422, "invalid_author",
				    "The name must not contain line breaks or control characters.");
	text_utf8_valid(in->author, strlen(in->author), &chars);
	if (chars > cfg->max_author)
		return comment_fail(err, 422, "author_too_long",
				    "The name is longer than %u characters.", cfg->max_author);

	if (in->imported && (!in->email || !*in->email))
		goto email_done; /* imports: the source may not have it */
	if (!in->email)
		return comment_fail(err, 422, "missing_email", "Please give your e-mail address.");
	if (!text_utf8_valid(in->email, strlen(in->email), NULL))
		return comment_fail(err, 400, "invalid_utf8",
				    "The e-mail address is not valid UTF-8.");
	text_trim(in->email);
	text_ascii_lower(in->email);
	if (!*in->email)
		return comment_fail(err, 422, "missing_email", "Please give your e-mail address.");
	if (strlen(in->email) > COMMENT_EMAIL_MAX || !email_valid(in->email))
		return comment_fail(err, 422, "invalid_email",
				    "The e-mail address does not look like name@example.org.");

email_done:
	if (in->url) {
		if (!text_utf8_valid(in->url, strlen(in->url), NULL))
			return comment_fail(err, 400, "invalid_utf8",
					    "The website is not valid UTF-8.");
		text_trim(in->url);
		/* A blank URL stays "" (absent): the caller owns and frees the
		 * buffer, so the pointer must not be dropped. */
		if (*in->url && !comment_url_valid(in->url, cfg->max_url)) {
			return comment_fail(
			    err, 422, "invalid_url",
			    "The website must be an http:// or https:// address of at "
			    "most %u characters.",
			    cfg->max_url);
		}
	}

	r = comment_text_check(cfg, in->text, err);
	return r ? r : validate_page(cfg, in, err);
}

int comment_text_check(const struct config *cfg, const char *text, struct comment_error *err)
{
	size_t chars;

	if (!text)
		return comment_fail(err, 422, "missing_text", "The comment is empty.");
	if (!text_utf8_valid(text, strlen(text), &chars))
		return comment_fail(err, 400, "invalid_utf8", "The comment is not valid UTF-8.");
	if (text_has_controls(text, true))
		return comment_fail(err, 422, "invalid_text",
				    "The comment contains control characters.");
	{
		/* Whitespace-only text counts as empty; the text itself is stored
		 * as written. */
		char *copy = strdup(text);
		bool empty;
		if (!copy)
			return -ENOMEM;
		text_strip_invisible(copy);
		empty = *text_trim(copy) == '\0';
		free(copy);
		if (empty)
			return comment_fail(err, 422, "missing_text", "The comment is empty.");
	}
	if (chars > cfg->max_text)
		return comment_fail(err, 422, "text_too_long",
				    "The comment is longer than %u characters.", cfg->max_text);
	return 0;
}

int comment_preview(const struct config *cfg, const char *text, char **html,
		    struct comment_error *err)
{
	int r = comment_text_check(cfg, text, err);

	if (r)
		return r;
	r = render_markdown(text, strlen(text), html);
	if (r > 0)
		return comment_fail(err, 422, "text_too_long",
				    "The comment is too long to display.");
	return r;
}

int comment_email_hash(const struct keys *k, const char *email, unsigned char out[KEYS_HASH_BYTES])
{
	char buf[COMMENT_EMAIL_MAX + 64];
	size_t n = strnlen(email, sizeof(buf));
	int r = COMMENT_INVALID;

	if (n >= sizeof(buf) || !text_utf8_valid(email, n, NULL))
		return COMMENT_INVALID;
	memcpy(buf, email, n + 1);
	text_ascii_lower(text_trim(buf));
	if (*buf && email_valid(buf)) {
		keys_hash(k, KEYS_EMAIL, buf, strlen(buf), out);
		r = 0;
	}
	sodium_memzero(buf, sizeof(buf));
	return r;
}

void comment_change_clear(struct comment_change *ch)
{
	if (!ch)
		return;
	free(ch->text);
	free(ch->author);
	free(ch->url);
	memset(ch, 0, sizeof(*ch));
}

void comment_stored_clear(struct comment_stored *s)
{
	free(s->html);
	sodium_memzero(s, sizeof(*s));
}

int comment_store_result(int r, struct comment_error *err)
{
	if (r <= 0)
		return r;
	if (r == STORE_FULL)
		return comment_fail(err, 503, "storage_full",
				    "The change could not be saved because the server's disk is "
				    "full. Please try again later.");
	if (r == STORE_UNAVAILABLE) /* PostgreSQL: no server (primary) answers */
		return comment_fail(err, 503, "unavailable",
				    "The database cannot be reached right now. Please try again "
				    "later.");
	return comment_fail(err, 503, "storage_readonly",
			    "The change could not be saved because storage is read-only. Please "
			    "try again later.");
}

void comment_seal(const struct keys *k, const char *value, struct comment_sealed *out)
{
	size_t len = value ? strnlen(value, COMMENT_SEALED_MAX) : 0;

	out->len = 0;
	if (len == 0 || len == COMMENT_SEALED_MAX)
		return;
	keys_seal(k, value, len, out->data);
	out->len = len + KEYS_SEAL_OVERHEAD;
}

char *comment_unseal(const struct keys *k, const void *sealed, size_t len)
{
	char *out;

	if (!k || !sealed || len <= KEYS_SEAL_OVERHEAD ||
	    len > COMMENT_SEALED_MAX + KEYS_SEAL_OVERHEAD)
		return NULL;
	out = malloc(len - KEYS_SEAL_OVERHEAD + 1);
	if (!out)
		return NULL;
	if (keys_unseal(k, sealed, len, (unsigned char *)out) != 0) {
		free(out);
		return NULL;
	}
	out[len - KEYS_SEAL_OVERHEAD] = '\0';
	if (strlen(out) != len - KEYS_SEAL_OVERHEAD) {
		free(out);
		return NULL;
	}
	return out;
}

static void bind_text_or_null(struct store_stmt *st, int i, const char *s)
{
	if (s && *s)
		store_bind_text(st, i, s);
	else
		store_bind_null(st, i);
}

static const char sql_thread_upsert[] =
    "INSERT INTO threads(site, path, created) VALUES (?3, ?1, ?2)"
    " ON CONFLICT(site, path) DO NOTHING";
static const char sql_thread_id[] = "SELECT id FROM threads WHERE site = ?2 AND path = ?1";
/* ?4: the comment may replace the title and URL the thread has (it is
 * published); else it only fills in what is missing.  Written only when
 * something changes. */
/* ?4 an integer flag compared (PostgreSQL has no integer conditions);
 * IS DISTINCT FROM, not SQLite's IS NOT, which PostgreSQL reads as a
 * boolean test. */
#define NEW_TITLE "(CASE WHEN ?4 <> 0 OR title IS NULL THEN coalesce(?2, title) ELSE title END)"
#define NEW_URL	  "(CASE WHEN ?4 <> 0 OR url IS NULL THEN coalesce(?3, url) ELSE url END)"
static const char sql_thread_context[] =
    "UPDATE threads SET title = " NEW_TITLE ", url = " NEW_URL " WHERE id = ?1"
    " AND (" NEW_TITLE " IS DISTINCT FROM title OR " NEW_URL " IS DISTINCT FROM url)";
static const char sql_parent[] =
    "SELECT thread_id, status, depth, parent_id, root_id FROM comments WHERE id = ?1";
/* A top-level comment is its own root.  SQLite: the insert takes the id
 * AUTOINCREMENT would (one past the larger of the counter and the largest
 * id) and sets root_id with it, since an UPDATE afterwards rewrote the
 * whole row and moved it in two indexes (comments_thread, comments_root)
 * on 60 % of the posts.  PostgreSQL: the identity column, then
 * sql_set_root. */
static const struct store_sql sql_insert = {
    "INSERT INTO comments(id, thread_id, parent_id, root_id, depth, created, status, author,"
    " url, text, html, email_hash, avatar, ip_sealed, user_agent, referrer, score, verdict,"
    " tokens, auto_status, features, edit_hash, reasons, email_domain_sealed, moderator)"
    " SELECT n.id, ?1, ?2, CASE WHEN ?2 IS NULL THEN n.id ELSE ?3 END, ?4, ?5, ?6, ?7, ?8, ?9,"
    " ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?6, ?19, ?20, ?21, ?22, ?23"
    " FROM (SELECT max(coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'comments'), 0),"
    " coalesce((SELECT max(id) FROM comments), 0)) + 1 AS id) n",
    "INSERT INTO comments(thread_id, parent_id, root_id, depth, created, status, author, url,"
    " text, html, email_hash, avatar, ip_sealed, user_agent, referrer, score, verdict, tokens,"
    " auto_status, features, edit_hash, reasons, email_domain_sealed, moderator)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18,"
    " ?6, ?19, ?20, ?21, ?22, ?23)"};
static const char sql_set_root[] = "UPDATE comments SET root_id = id WHERE id = ?1";

/* Where a new comment goes in its thread (place_reply). */
struct placement {
	int64_t parent;
	int64_t root;
	int depth;
};

/* The rows of one new comment, written inside a (group) transaction by
 * create_rows(); id and parent come back. */
struct create_job {
	const struct config *cfg;
	const struct keys *keys;
	const struct comment_input *in;
	const struct comment_record *rec;
	const char *html;
	const unsigned char *email_hash, *edit_hash;
	const char *avatar;
	struct comment_sealed ip, domain; /* the client address, the e-mail domain */
	struct comment_error *err;
	int64_t thread_id;
	struct placement place; /* parent in: requested; out: after the depth cap */
	int64_t id;		/* out */
	int result;		/* out: what write_rows returned (err filled if positive) */
};

/* Keeps the page's title and URL on the thread (comment_create). */
static int thread_context(struct store_conn *c, struct create_job *job)
{
	const char *title = job->in->page_title, *url = job->in->page_url;
	struct store_stmt *st;

	if ((!title || !*title) && (!url || !*url))
		return 0;
	if (job->rec->status == COMMENT_SPAM || job->rec->status == COMMENT_DELETED)
		return 0;
	st = store_stmt(c, sql_thread_context);
	if (!st)
		return -EIO;
	store_bind_int64(st, 1, job->thread_id);
	bind_text_or_null(st, 2, title);
	bind_text_or_null(st, 3, url);
	store_bind_int64(st, 4, job->rec->status == COMMENT_PUBLISHED);
	return comment_store_result(store_run(c, st, "thread context"), job->err);
}

/* The thread's row id, created if needed.  0 or a store result. */
static int thread_row(struct store_conn *c, struct create_job *job)
{
	struct store_stmt *st = store_stmt(c, sql_thread_upsert);
	int r;

	if (!st)
		return -EIO;
	store_bind_text(st, 1, job->in->thread);
	store_bind_int64(st, 2, job->rec->created);
	store_bind_text(st, 3, job->in->site);
	r = comment_store_result(store_run(c, st, "thread insert"), job->err);
	if (r)
		return r;
	st = store_stmt(c, sql_thread_id);
	if (!st)
		return -EIO;
	store_bind_text(st, 1, job->in->thread);
	store_bind_text(st, 2, job->in->site);
	r = store_one_int64(c, st, &job->thread_id);
	if (r == 0) {
		log_err("comment: thread row missing after insert");
		return -EIO;
	}
	return r < 0 ? r : thread_context(c, job);
}

struct parent_row {
	int64_t thread_id, parent, root;
	int depth;
	bool published;
};

static int parent_load(struct store_conn *c, struct store_stmt *st, int64_t id,
		       struct parent_row *p)
{
	int r;

	store_bind_int64(st, 1, id);
	r = store_row(c, st);
	if (r == 1) {
		p->thread_id = store_col_int64(st, 0);
		p->published = strcmp(store_col_text(st, 1), "published") == 0;
		p->depth = store_col_int(st, 2);
		p->parent = store_col_int64(st, 3);
		p->root = store_col_int64(st, 4);
	}
	store_reset(st);
	return r;
}

/* Where a reply goes: the parent must be a published comment of thread
 * thread_id; a reply deeper than max_depth attaches to the deepest ancestor
 * that may still have replies.  pl->parent in: the requested parent; out:
 * the parent after the cap (0: top level).  0, COMMENT_INVALID, negative. */

static int place_reply(struct store_conn *c, const struct config *cfg, int64_t thread_id,
		       bool any_status, struct placement *pl, struct comment_error *err)
{
	struct store_stmt *st = store_stmt(c, sql_parent);
	struct parent_row p = {0};
	int r;

	pl->depth = 1;
	pl->root = 0;
	if (!pl->parent)
		return 0;
	if (!st)
		return -EIO;
	r = parent_load(c, st, pl->parent, &p);
	if (r < 0)
		return r;
	if (r == 0 || p.thread_id != thread_id || !(p.published || any_status))
		return comment_fail(err, 422, "invalid_parent",
				    "The comment you reply to does not exist in this thread or is "
				    "not published.");
	while (p.depth >= (int)cfg->max_depth && p.parent) {
		pl->parent = p.parent;
		r = parent_load(c, st, pl->parent, &p);
		if (r <= 0)
			return r < 0 ? r : -EIO;
	}
	if (p.depth >= (int)cfg->max_depth) {
		pl->parent = 0; /* max_depth 1: replies become top-level comments */
		return 0;
	}
	pl->depth = p.depth + 1;
	pl->root = p.root;
	return 0;
}

int comment_place(struct store_conn *c, const struct config *cfg, const char *site,
		  const char *thread, int64_t *parent, struct comment_error *err)
{
	struct placement pl = {.parent = *parent};
	struct store_stmt *st;
	int64_t thread_id = 0;
	int r;

	if (!pl.parent)
		return 0;
	st = store_stmt(c, sql_thread_id);
	if (!st)
		return -EIO;
	store_bind_text(st, 1, thread);
	store_bind_text(st, 2, site);
	r = store_one_int64(c, st, &thread_id);
	if (r < 0)
		return r;
	r = place_reply(c, cfg, thread_id, false, &pl, err);
	if (r == 0)
		*parent = pl.parent;
	return r;
}

static void bind_insert(struct store_stmt *st, const struct create_job *job)
{
	const struct comment_input *in = job->in;
	const struct comment_record *rec = job->rec;

	store_bind_int64(st, 1, job->thread_id);
	if (job->place.parent)
		store_bind_int64(st, 2, job->place.parent);
	store_bind_int64(st, 3, job->place.root);
	store_bind_int64(st, 4, job->place.depth);
	store_bind_int64(st, 5, rec->created);
	store_bind_text(st, 6, comment_status_name(rec->status));
	if (rec->status == COMMENT_DELETED) {
		/* A tombstone, as comment_remove leaves one (imports). */
		store_bind_text_len(st, 7, "", 0);
		store_bind_text_len(st, 9, "", 0);
		store_bind_text_len(st, 10, "", 0);
		store_bind_text_len(st, 12, "", 0);
		return;
	}
	store_bind_text(st, 7, in->author);
	bind_text_or_null(st, 8, in->url);
	store_bind_text(st, 9, in->text);
	store_bind_text(st, 10, job->html);
	if (job->email_hash)
		store_bind_blob(st, 11, job->email_hash, KEYS_HASH_BYTES);
	store_bind_text(st, 12, job->avatar);
	if (job->ip.len)
		store_bind_blob(st, 13, job->ip.data, job->ip.len);
	bind_text_or_null(st, 14, rec->user_agent);
	bind_text_or_null(st, 15, rec->referrer);
	if (rec->score >= 0)
		store_bind_double(st, 16, rec->score);
	bind_text_or_null(st, 17, rec->verdict);
	bind_text_or_null(st, 18, rec->tokens);
	if (rec->features)
		store_bind_blob(st, 19, rec->features, rec->features_len);
	if (job->edit_hash)
		store_bind_blob(st, 20, job->edit_hash, KEYS_HASH_BYTES);
	bind_text_or_null(st, 21, rec->reasons);
	if (job->domain.len)
		store_bind_blob(st, 22, job->domain.data, job->domain.len);
	bind_text_or_null(st, 23, rec->moderator);
}

/* The comment's notification event (and subscription), in its savepoint. */
static int notify_rows(struct store_conn *c, const struct create_job *job)
{
	struct outbox_comment oc = {job->in->site,
				    job->id,
				    job->place.parent,
				    job->rec->status,
				    job->rec->notify ? job->in->email : NULL,
				    job->rec->created};

	return comment_store_result(outbox_comment_created(c, job->cfg, job->keys, &oc), job->err);
}

static int write_rows(struct store_conn *c, struct create_job *job)
{
	struct store_stmt *st;
	int r;

	r = thread_row(c, job);
	if (r == 0)
		r = place_reply(c, job->cfg, job->thread_id, job->in->imported, &job->place,
				job->err);
	if (r)
		return r;
	st = store_stmt_pick(c, &sql_insert);
	if (!st)
		return -EIO;
	bind_insert(st, job);
	r = comment_store_result(store_run(c, st, "comment insert"), job->err);
	if (r)
		return r;
	job->id = store_last_id(c);
	if (!job->place.parent && store_postgresql(c)) {
		st = store_stmt(c, sql_set_root);
		if (!st)
			return -EIO;
		store_bind_int64(st, 1, job->id);
		r = comment_store_result(store_run(c, st, "comment root"), job->err);
		if (r)
			return r;
	}
	return job->rec->silent ? 0 : notify_rows(c, job);
}

static int create_rows(struct store_conn *c, void *arg)
{
	struct create_job *job = arg;

	job->result = write_rows(c, job);
	return job->result;
}

/* The e-mail hash (NULL when neither the address nor its hash is known)
 * and the avatar seed: from the address, else as an import gives them, else
 * from the name, so that commenters without an address still differ. */
static void identity(const struct keys *k, const struct comment_input *in,
		     unsigned char email_hash[KEYS_HASH_BYTES], const unsigned char **hashed,
		     char avatar[KEYS_AVATAR_HEX])
{
	if (in->email && *in->email) {
		keys_hash(k, KEYS_EMAIL, in->email, strlen(in->email), email_hash);
		keys_avatar(k, in->email, avatar);
		*hashed = email_hash;
		return;
	}
	*hashed = in->email_hash;
	if (in->avatar && strlen(in->avatar) == KEYS_AVATAR_HEX - 1)
		memcpy(avatar, in->avatar, KEYS_AVATAR_HEX);
	else
		keys_avatar(k, in->author, avatar);
}

int comment_create(struct store_conn *c, const struct config *cfg, const struct keys *k,
		   const struct comment_input *in, const struct comment_record *rec,
		   struct comment_stored *out, struct comment_error *err)
{
	unsigned char email_hash[KEYS_HASH_BYTES], edit_hash[KEYS_HASH_BYTES];
	const unsigned char *hashed = NULL;
	struct create_job job;
	int r;

	memset(out, 0, sizeof(*out));
	r = render_markdown(in->text, strlen(in->text), &out->html);
	if (r > 0)
		return comment_fail(err, 422, "text_too_long",
				    "The comment is too long to display.");
	if (r < 0)
		return r;
	identity(k, in, email_hash, &hashed, out->avatar);
	keys_token_new(k, out->edit_token, edit_hash);
	/* Posts arriving together share one transaction and one fsync; the
	 * answer goes out only after the commit that holds this comment. */
	job = (struct create_job){
	    .cfg = cfg,
	    .keys = k,
	    .in = in,
	    .rec = rec,
	    .html = out->html,
	    .email_hash = hashed,
	    .edit_hash = in->imported ? NULL : edit_hash, /* nobody holds the token */
	    .avatar = out->avatar,
	    .err = err,
	    .place = {.parent = in->parent},
	};
	{
		/* Kept only sealed: the client address for ip_retention_days,
		 * the e-mail domain for the edit window (edits are decided
		 * again). */
		const char *at = in->email && *in->email ? strrchr(in->email, '@') : NULL;
		comment_seal(k, rec->ip, &job.ip);
		comment_seal(k, at ? at + 1 : NULL, &job.domain);
	}
	r = store_group_write(c, create_rows, &job);
	if (r != 0 && r != job.result)
		r = comment_store_result(r, err); /* the batch's BEGIN or COMMIT failed */
	if (r != 0) {
		comment_stored_clear(out);
		return r;
	}
	out->id = job.id;
	out->parent = job.place.parent;
	return 0;
}

static const char sql_count_discard[] =
    "INSERT INTO discarded(site, day, count) VALUES (?2, ?1, 1)"
    " ON CONFLICT(site, day) DO UPDATE SET count = discarded.count + 1";
/* The comments' id counter: taking a value here means no comment gets it.
 * SQLite: AUTOINCREMENT's row in sqlite_sequence (made when missing);
 * PostgreSQL: the identity column's sequence (always there). */
static const struct store_sql sql_take_id = {
    "INSERT INTO sqlite_sequence(name, seq) SELECT 'comments', 0"
    " WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'comments')",
    "SELECT 1"};
static const struct store_sql sql_bump_id = {
    "UPDATE sqlite_sequence SET seq = seq + 1 WHERE name = 'comments' RETURNING seq",
    "SELECT nextval(pg_get_serial_sequence('comments', 'id'))"};

static const char sql_decoy_insert[] =
    "INSERT INTO decoys(id, edit_hash, created, sealed, site) VALUES (?1, ?2, ?3, ?4, ?5)";

struct discard_job {
	const char *site;
	int64_t now;
	const unsigned char *edit_hash;
	const void *sealed;
	size_t sealed_len;
	int64_t id;
};

static int discard_rows(struct store_conn *c, void *arg)
{
	struct discard_job *job = arg;
	struct store_stmt *st = store_stmt(c, sql_count_discard);
	int r;

	if (!st)
		return -EIO;
	store_bind_int64(st, 1, job->now / 86400);
	store_bind_text(st, 2, job->site);
	r = store_run(c, st, "discard count");
	if (r)
		return r;
	st = store_stmt_pick(c, &sql_take_id);
	if (!st)
		return -EIO;
	r = store_run(c, st, "discard id");
	if (r)
		return r;
	st = store_stmt_pick(c, &sql_bump_id);
	if (!st)
		return -EIO;
	r = store_one_int64(c, st, &job->id);
	if (r != 1)
		return r < 0 ? r : -EIO;
	st = store_stmt(c, sql_decoy_insert);
	if (!st)
		return -EIO;
	store_bind_int64(st, 1, job->id);
	store_bind_blob(st, 2, job->edit_hash, KEYS_HASH_BYTES);
	store_bind_int64(st, 3, job->now);
	if (job->sealed_len)
		store_bind_blob(st, 4, job->sealed, job->sealed_len);
	store_bind_text(st, 5, job->site);
	return store_run(c, st, "decoy insert");
}

int comment_discard(struct store_conn *c, const char *site, int64_t now,
		    const unsigned char edit_hash[KEYS_HASH_BYTES], const void *sealed,
		    size_t sealed_len, int64_t *id, struct comment_error *err)
{
	struct discard_job job = {site, now, edit_hash, sealed, sealed_len, 0};
	int r = store_group_write(c, discard_rows, &job);

	if (r == 0)
		*id = job.id;
	return comment_store_result(r, err);
}

static bool column_hash(struct store_stmt *st, int col, unsigned char out[KEYS_HASH_BYTES]);

static const char sql_decoy_load[] =
    "SELECT edit_hash, created, sealed, site FROM decoys WHERE id = ?1";
static const char sql_decoy_update[] = "UPDATE decoys SET sealed = ?2 WHERE id = ?1";
static const char sql_decoy_delete[] = "DELETE FROM decoys WHERE id = ?1";

int comment_decoy_load(struct store_conn *c, int64_t id, struct comment_decoy *out)
{
	struct store_stmt *st = store_stmt(c, sql_decoy_load);
	int r;

	if (!st)
		return -EIO;
	memset(out, 0, sizeof(*out));
	store_bind_int64(st, 1, id);
	r = store_row(c, st);
	if (r == 1) {
		out->id = id;
		out->has_edit_hash = column_hash(st, 0, out->edit_hash);
		out->created = store_col_int64(st, 1);
		if (store_col_type(st, 2) == STORE_BLOB) {
			out->sealed_len = store_col_bytes(st, 2);
			out->sealed = malloc(out->sealed_len);
			if (!out->sealed)
				r = -ENOMEM;
			else
				memcpy(out->sealed, store_col_blob(st, 2), out->sealed_len);
		}
		snprintf(out->site, sizeof(out->site), "%s", store_col_text(st, 3));
	}
	store_reset(st);
	if (r < 0)
		comment_decoy_clear(out);
	return r;
}

void comment_decoy_clear(struct comment_decoy *d)
{
	free(d->sealed);
	sodium_memzero(d, sizeof(*d));
}

int comment_decoy_update(struct store_conn *c, int64_t id, const void *sealed, size_t len)
{
	struct store_stmt *st = store_stmt(c, sealed ? sql_decoy_update : sql_decoy_delete);

	if (!st)
		return -EIO;
	store_bind_int64(st, 1, id);
	if (sealed)
		store_bind_blob(st, 2, sealed, len);
	return store_run(c, st, sealed ? "decoy edit" : "decoy delete");
}

/* ---- paged threads ---------------------------------------------------- */

int comment_cursor_format(const struct comment_cursor *cur, char out[COMMENT_CURSOR_MAX])
{
	char plain[80];
	int n = snprintf(plain, sizeof(plain), "1:%c:%lld:%lld:%lld", cur->sort,
			 (long long)cur->key, (long long)cur->root, (long long)cur->row);

	if (n < 0 || (size_t)n >= sizeof(plain))
		return -EINVAL;
	sodium_bin2base64(out, COMMENT_CURSOR_MAX, (const unsigned char *)plain, (size_t)n,
			  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	return 0;
}

/* A non-negative decimal field of at most 19 digits ending at ':' or the
 * end; advances *p past it.  0 or 1. */
static int cursor_field(const char **p, int64_t *out)
{
	const char *s = *p;
	int64_t v = 0;
	size_t digits = 0;

	while (s[digits] >= '0' && s[digits] <= '9') {
		if (digits == 19 || v > (INT64_MAX - (s[digits] - '0')) / 10)
			return 1;
		v = v * 10 + (s[digits] - '0');
		digits++;
	}
	if (digits == 0 || (s[digits] != ':' && s[digits] != '\0'))
		return 1;
	*out = v;
	*p = s + digits + (s[digits] == ':');
	return 0;
}

int comment_cursor_parse(const char *text, struct comment_cursor *out)
{
	unsigned char plain[81];
	const char *p;
	size_t n;

	if (!text || strnlen(text, COMMENT_CURSOR_MAX) >= COMMENT_CURSOR_MAX ||
	    text_base64url_decode(text, plain, sizeof(plain) - 1, &n) != 0)
		return 1;
	plain[n] = '\0';
	p = (const char *)plain;
	if (strlen(p) != n || strncmp(p, "1:", 2) != 0 || !strchr("ont", p[2]) || !p[2] ||
	    p[3] != ':')
		return 1;
	memset(out, 0, sizeof(*out));
	out->sort = p[2];
	p += 4;
	if (cursor_field(&p, &out->key) || cursor_field(&p, &out->root) ||
	    cursor_field(&p, &out->row) || *p != '\0' || p[-1] == ':')
		return 1;
	return 0;
}

/* Hidden comments (held, spam) come along only when something hangs below
 * them: they show as tombstones so that a published reply is never hidden
 * with its parent; the tree drops tombstones left without published
 * replies.  A root's rows are read within the thread (?3): a cursor is
 * untrusted and may name another thread's - another site's - comment. */
#define SHOWN                                                                                      \
	"(status IN ('published', 'deleted') OR EXISTS"                                            \
	" (SELECT 1 FROM comments r WHERE r.parent_id = c.id))"
/* The next top-level comment in each order: its id and sort key.  Each is
 * one range on an index (comments_top, comments_top_likes), so a page costs
 * the same at the end of a long thread as at its start.  INDEXED BY: once
 * ANALYZE has run (PRAGMA optimize at every close), comments_parent looks
 * selective (4 rows a value on average) and SQLite walked its NULL entries,
 * every top-level comment of every thread, to find this thread's: 470 ms a
 * page at a million comments, 0.3 ms on comments_top.  PostgreSQL has no
 * such hints: its text of each query goes without (its plans: to be
 * measured, docs/postgresql-port.md). */
#define NEXT_ROOT(hint)                                                                            \
	"SELECT c.id, c.likes FROM comments c" hint                                                \
	" WHERE c.thread_id = ?1 AND c.parent_id IS NULL"
/* ?4: how many (a page's top-level comments are read in batches). */
#define NEXT_OLDEST(hint) NEXT_ROOT(hint) " AND c.id > ?2 AND " SHOWN " ORDER BY c.id LIMIT ?4"
#define NEXT_NEWEST(hint) NEXT_ROOT(hint) " AND c.id < ?2 AND " SHOWN " ORDER BY c.id DESC LIMIT ?4"
#define NEXT_SAME_LIKES(hint)                                                                      \
	NEXT_ROOT(hint) " AND c.likes = ?3 AND c.id > ?2 AND " SHOWN " ORDER BY c.id LIMIT ?4"
#define NEXT_FEWER_LIKES(hint)                                                                     \
	NEXT_ROOT(hint) " AND c.likes < ?3 AND " SHOWN " ORDER BY c.likes DESC, c.id LIMIT ?4"
static const struct store_sql sql_next_oldest = {NEXT_OLDEST(" INDEXED BY comments_top"),
						 NEXT_OLDEST("")};
static const struct store_sql sql_next_newest = {NEXT_NEWEST(" INDEXED BY comments_top"),
						 NEXT_NEWEST("")};
static const struct store_sql sql_next_same_likes = {
    NEXT_SAME_LIKES(" INDEXED BY comments_top_likes"), NEXT_SAME_LIKES("")};
static const struct store_sql sql_next_fewer_likes = {
    NEXT_FEWER_LIKES(" INDEXED BY comments_top_likes"), NEXT_FEWER_LIKES("")};
/* A page's row, as page_take reads it. */
#define ROW_COLUMNS                                                                                \
	"SELECT c.id, c.parent_id, c.author, c.url, c.created, c.html, c.avatar,"                  \
	" c.status = 'published', c.moderator IS NOT NULL, c.likes, c.root_id"
static const char sql_root_rows[] = ROW_COLUMNS
    " FROM comments c"
    " WHERE c.root_id = ?1 AND c.id > ?2 AND c.thread_id = ?3 AND " SHOWN " ORDER BY c.id";
/* PostgreSQL: the rows of several top-level comments (?1: a JSON array of
 * their ids) in one statement, one round trip (docs/performance.md): in
 * the array's order (WITH ORDINALITY: its json_each, schema/pg, gives an
 * array's elements no index), each one's rows oldest first, at most ?3
 * rows.  Each one's rows come from a LATERAL subquery with its own LIMIT,
 * a range of comments_root that stops at ?3 rows, so a top-level comment
 * with thousands of replies costs no more than a page (a plain join read
 * them all and sorted them).  The thread (?2) is checked outside the
 * subquery: inside, the generic plan of the prepared statement took
 * comments_thread for the pair and sorted every reply (20 ms instead of
 * 1 ms for 2,000 replies).  SQLite reads each top-level comment's rows
 * with sql_root_rows instead (fill_page). */
static const char sql_roots_rows[] =
    ROW_COLUMNS " FROM json_array_elements_text(CAST(?1 AS json)) WITH ORDINALITY AS p(value, key)"
		" CROSS JOIN LATERAL (SELECT c.* FROM comments c"
		" WHERE c.root_id = CAST(p.value AS BIGINT) AND " SHOWN " ORDER BY c.id LIMIT ?3) c"
		" WHERE c.thread_id = ?2 ORDER BY p.key, c.id LIMIT ?3";
static const char sql_root_hidden[] =
    "SELECT c.id FROM comments c WHERE c.root_id = ?1 AND c.id > ?2 AND c.id <= ?3"
    " AND c.thread_id = ?4 AND c.status <> 'published'";
/* A page's thread: its id and its published comments (threads.published,
 * kept by the version's triggers: schema 0019), in one read. */
static const char sql_thread_head[] =
    "SELECT id, published FROM threads WHERE site = ?2 AND path = ?1";

/* A page under construction. */
struct page {
	struct thread_tree *tree;
	int64_t thread_id;
	unsigned rows_left;
	size_t bytes_left;
	unsigned rows; /* on the page */
};

/* When a page ends inside a top-level comment's replies, its tombstones on
 * this page stay even without replies here: the published replies below
 * them may come on the next page, and must find their parent. */
static int keep_open_tombstones(struct store_conn *c, struct page *pg, int64_t root, int64_t after,
				int64_t last)
{
	struct store_stmt *st = store_stmt(c, sql_root_hidden);
	int r;

	if (!st)
		return -EIO;
	store_bind_int64(st, 1, root);
	store_bind_int64(st, 2, after);
	store_bind_int64(st, 3, last);
	store_bind_int64(st, 4, pg->thread_id);
	while ((r = store_row(c, st)) == 1) {
		r = thread_tree_keep(pg->tree, store_col_int64(st, 0));
		if (r < 0)
			break;
	}
	store_reset(st);
	return r < 0 ? r : 0;
}

/* Adds the current row of st (ROW_COLUMNS) to the page if its budget has
 * room: 1 taken (*id gets its id), 0 the page is full, negative. */
static int page_take(struct page *pg, struct store_stmt *st, int64_t *id)
{
	bool published = store_col_int(st, 7) != 0;
	struct comment_view v = {
	    .id = store_col_int64(st, 0),
	    .parent = store_col_int64(st, 1),
	    .author = published ? store_col_text(st, 2) : NULL,
	    .url = published ? store_col_text(st, 3) : NULL,
	    .created = store_col_int64(st, 4),
	    .html = published ? store_col_text(st, 5) : NULL,
	    .avatar = published ? store_col_text(st, 6) : NULL,
	    .published = true,
	    .deleted = !published,
	    .author_badge = published && store_col_int(st, 8) != 0,
	    .likes = published ? store_col_int64(st, 9) : 0,
	};
	size_t bytes = 160 + (v.html ? store_col_bytes(st, 5) : 0) +
		       (v.author ? store_col_bytes(st, 2) : 0) +
		       (v.url ? store_col_bytes(st, 3) : 0);
	int r;

	/* A page always takes its first row, however large. */
	if (pg->rows > 0 && (pg->rows_left == 0 || bytes > pg->bytes_left))
		return 0;
	r = thread_tree_add(pg->tree, &v);
	if (r < 0)
		return r;
	pg->rows++;
	pg->rows_left -= pg->rows_left ? 1 : 0;
	pg->bytes_left -= bytes < pg->bytes_left ? bytes : pg->bytes_left;
	*id = v.id;
	return 1;
}

/* Adds the rows of top-level comment root after row id `after` to the page
 * until its budget ends.  *last gets the last row added; *complete whether
 * the root's rows all fit.  0 or negative. */
static int add_root_rows(struct store_conn *c, struct page *pg, int64_t root, int64_t after,
			 int64_t *last, bool *complete)
{
	struct store_stmt *st = store_stmt(c, sql_root_rows);
	int r;

	if (!st)
		return -EIO;
	*complete = true;
	*last = after;
	store_bind_int64(st, 1, root);
	store_bind_int64(st, 2, after);
	store_bind_int64(st, 3, pg->thread_id);
	while ((r = store_row(c, st)) == 1) {
		r = page_take(pg, st, last);
		if (r <= 0) {
			*complete = r < 0; /* 0: the page is full */
			break;
		}
	}
	store_reset(st);
	if (r >= 0 && !*complete)
		r = keep_open_tombstones(c, pg, root, after, *last);
	return r < 0 ? r : 0;
}

int comment_sort_parse(const char *name, char *out)
{
	static const struct {
		const char *name;
		char sort;
	} sorts[] = {{"oldest", COMMENT_SORT_OLDEST},
		     {"newest", COMMENT_SORT_NEWEST},
		     {"top", COMMENT_SORT_TOP}};

	for (size_t i = 0; name && i < sizeof(sorts) / sizeof(sorts[0]); i++) {
		if (strcmp(name, sorts[i].name) == 0) {
			*out = sorts[i].sort;
			return 0;
		}
	}
	return 1;
}

/* A page's top-level comments are read PAGE_BATCH at a time (their ids as
 * a JSON array for sql_roots_rows: at most PAGE_BATCH * 21 bytes). */
#define PAGE_BATCH 64

/* The next top-level comments of a page, in its order. */
struct roots {
	unsigned n;
	int64_t id[PAGE_BATCH + 1];
	int64_t key[PAGE_BATCH + 1]; /* each one's sort key (cursor.key) */
};

/* Appends the rows of one of the next-root queries to b until it holds
 * want.  0 or negative. */
static int root_query(struct store_conn *c, const struct store_sql *sql, int64_t thread_id,
		      int64_t after, int64_t likes, unsigned want, struct roots *b)
{
	struct store_stmt *st = store_stmt_pick(c, sql);
	int r = 0;

	if (!st)
		return -EIO;
	store_bind_int64(st, 1, thread_id);
	store_bind_int64(st, 2, after);
	store_bind_int64(st, 3, likes);
	store_bind_int64(st, 4, (int64_t)(want - b->n));
	while (b->n < want && (r = store_row(c, st)) == 1) {
		b->id[b->n] = store_col_int64(st, 0);
		b->key[b->n] = store_col_int64(st, 1);
		b->n++;
	}
	store_reset(st);
	return r < 0 ? r : 0;
}

/* The next top-level comments shown after pos (pos->root 0: from the
 * first) in pos's order: at most want (<= PAGE_BATCH + 1) into b.  0 or
 * negative. */
static int next_roots(struct store_conn *c, int64_t thread_id, const struct comment_cursor *pos,
		      unsigned want, struct roots *b)
{
	int r;

	b->n = 0;
	switch (pos->sort) {
	case COMMENT_SORT_NEWEST:
		r = root_query(c, &sql_next_newest, thread_id, pos->root ? pos->root : INT64_MAX, 0,
			       want, b);
		break;
	case COMMENT_SORT_TOP:
		/* The rest with the same count, then the smaller counts. */
		r = pos->root ? root_query(c, &sql_next_same_likes, thread_id, pos->root, pos->key,
					   want, b)
			      : 0;
		if (r == 0 && b->n < want)
			r = root_query(c, &sql_next_fewer_likes, thread_id, 0,
				       pos->root ? pos->key : INT64_MAX, want, b);
		break;
	default:
		r = root_query(c, &sql_next_oldest, thread_id, pos->root, 0, want, b);
	}
	for (unsigned i = 0; pos->sort != COMMENT_SORT_TOP && i < b->n; i++)
		b->key[i] = 0;
	return r;
}

/* Adds the rows of b's first n top-level comments to the page, in order,
 * until its budget ends (PostgreSQL: sql_roots_rows, one statement that
 * reads at most one row more than the page has room for; that row, if any,
 * does not fit).  *done gets how many of them are complete on the page;
 * when fewer than n, *last the last row added of the next one (0: none),
 * whose tombstones on the page are kept.  0 or negative. */
static int add_roots_rows(struct store_conn *c, struct page *pg, const struct roots *b, unsigned n,
			  unsigned *done, int64_t *last)
{
	struct store_stmt *st = store_stmt(c, sql_roots_rows);
	char ids[PAGE_BATCH * 21 + 3] = "[";
	size_t len = 1;
	unsigned i = 0;
	bool full = false;
	int r;

	if (!st)
		return -EIO;
	for (unsigned k = 0; k < n; k++)
		len += (size_t)snprintf(ids + len, sizeof(ids) - len, "%s%" PRId64, k ? "," : "",
					b->id[k]);
	snprintf(ids + len, sizeof(ids) - len, "]");
	*last = 0;
	store_bind_text(st, 1, ids);
	store_bind_int64(st, 2, pg->thread_id);
	store_bind_int64(st, 3, (int64_t)pg->rows_left + 1);
	while ((r = store_row(c, st)) == 1) {
		int64_t root = store_col_int64(st, 10);

		for (; i + 1 < n && b->id[i] != root; i++)
			*last = 0; /* b->id[i] complete */
		r = page_take(pg, st, last);
		if (r <= 0) {
			full = r == 0;
			break;
		}
	}
	store_reset(st);
	*done = full ? i : n;
	if (r >= 0 && full && *last)
		r = keep_open_tombstones(c, pg, b->id[i], 0, *last);
	return r < 0 ? r : 0;
}

/* add_roots_rows' work with one statement for each top-level comment. */
static int add_roots_each(struct store_conn *c, struct page *pg, const struct roots *b, unsigned n,
			  unsigned *done, int64_t *last)
{
	bool complete = true;
	unsigned i;
	int r;

	for (i = 0; i < n && complete; i++) {
		r = add_root_rows(c, pg, b->id[i], 0, last, &complete);
		if (r < 0)
			return r;
	}
	*done = complete ? n : i - 1;
	return 0;
}

/* Fills the page from q->from; *more gets the cursor of the next page when
 * there is one.  0 or negative. */
static int fill_page(struct store_conn *c, int64_t thread_id, const struct comment_page_query *q,
		     struct page *pg, struct comment_cursor *more, bool *has_more)
{
	struct comment_cursor pos = q->from;
	unsigned roots_left = q->roots ? q->roots : 1, n, done;
	struct roots b;
	bool complete;
	int64_t last;
	int r;

	*has_more = false;
	if (pos.row != COMMENT_ROW_DONE) {
		/* Inside a top-level comment's replies. */
		r = add_root_rows(c, pg, pos.root, pos.row, &last, &complete);
		if (r < 0)
			return r;
		roots_left--;
		pos.row = complete ? COMMENT_ROW_DONE : last;
		if (!complete)
			goto more;
	}
	for (;;) {
		/* One top-level comment more than the page takes: is there a next page? */
		n = roots_left < PAGE_BATCH ? roots_left : PAGE_BATCH;
		r = next_roots(c, thread_id, &pos, n + 1, &b);
		if (r < 0 || b.n == 0)
			return r;
		if (n == 0)
			goto more;
		n = b.n < n ? b.n : n;
		/* PostgreSQL: one statement (a round trip) for the batch's rows.
		 * SQLite: one each, in process, each stopping where the page
		 * ends; SQLite's plan of one statement for the batch read and
		 * sorted every row of its top-level comments (3 times the CPU
		 * for the 5,000-comment thread: docs/performance.md). */
		r = store_postgresql(c) ? add_roots_rows(c, pg, &b, n, &done, &last)
					: add_roots_each(c, pg, &b, n, &done, &last);
		if (r < 0)
			return r;
		if (done < n) {
			/* The page ends inside b.id[done]'s rows. */
			pos = (struct comment_cursor){pos.sort, b.key[done], b.id[done], last};
			goto more;
		}
		pos =
		    (struct comment_cursor){pos.sort, b.key[n - 1], b.id[n - 1], COMMENT_ROW_DONE};
		roots_left -= n;
		if (b.n <= n)
			return 0; /* no top-level comment after these */
		if (roots_left == 0)
			goto more;
	}
more:
	*more = pos;
	*has_more = true;
	return 0;
}

/* What a page says besides its comments. */
struct page_head {
	int64_t count;
	bool has_more;
	char cursor[COMMENT_CURSOR_MAX]; /* when has_more */
};

/* Reads the page q asks for into a new tree (*tree, the caller frees it
 * also on failure) and *head.  0 or negative. */
static int page_read(struct store_conn *c, const struct comment_page_query *q,
		     struct thread_tree **tree, struct page_head *head)
{
	struct page pg = {.rows_left = q->rows ? q->rows : 1, .bytes_left = q->bytes};
	struct comment_cursor next = {0};
	int64_t thread_id = 0;
	struct store_stmt *st;
	int r;

	*head = (struct page_head){0};
	*tree = NULL;
	r = thread_tree_new(&pg.tree);
	if (r < 0)
		return r;
	*tree = pg.tree;
	st = store_stmt(c, sql_thread_head);
	if (!st)
		return -EIO;
	store_bind_text(st, 1, q->thread);
	store_bind_text(st, 2, q->site);
	r = store_row(c, st);
	if (r == 1) {
		thread_id = store_col_int64(st, 0);
		head->count = store_col_int64(st, 1);
		r = 0;
	}
	store_reset(st);
	pg.thread_id = thread_id;
	if (r == 0 && thread_id)
		r = fill_page(c, thread_id, q, &pg, &next, &head->has_more);
	if (r == 0 && head->has_more)
		r = comment_cursor_format(&next, head->cursor);
	return r < 0 ? r : 0;
}

int comment_thread_page(struct store_conn *c, const struct comment_page_query *q, json_t **out)
{
	struct thread_tree *tree = NULL;
	struct page_head head;
	json_t *comments = NULL;
	int r;

	r = page_read(c, q, &tree, &head);
	if (r == 0)
		r = thread_tree_json(tree, &comments);
	if (r == 0) {
		*out = json_pack("{s:s, s:I, s:o, s:o}", "thread", q->thread, "count",
				 (json_int_t)head.count, "comments", comments, "cursor",
				 head.has_more ? json_string(head.cursor) : json_null());
		r = *out ? 0 : -ENOMEM;
	}
	thread_tree_free(tree);
	return r;
}

int comment_thread_page_text(struct store_conn *c, const struct comment_page_query *q,
			     struct buf *out)
{
	struct thread_tree *tree = NULL;
	struct page_head head;
	int r;

	r = page_read(c, q, &tree, &head);
	if (r == 0)
		r = buf_puts(out, "{\"thread\":");
	if (r == 0)
		r = jsontext_string(out, q->thread, strlen(q->thread));
	if (r == 0)
		r = buf_puts(out, ",\"count\":");
	if (r == 0)
		r = jsontext_int(out, head.count);
	if (r == 0)
		r = buf_puts(out, ",\"comments\":");
	if (r == 0)
		r = thread_tree_text(tree, out);
	if (r == 0)
		r = buf_puts(out, ",\"cursor\":");
	if (r == 0)
		r = head.has_more ? jsontext_string(out, head.cursor, strlen(head.cursor))
				  : buf_puts(out, "null");
	if (r == 0)
		r = buf_append(out, "}", 1);
	thread_tree_free(tree);
	return jsontext_errno(r);
}

/* The top-level comment of comment ?2 in site ?3's thread ?1, when ?2 is
 * shown. */
static const char sql_root_of[] =
    "SELECT c.root_id, (SELECT likes FROM comments WHERE id = c.root_id)"
    " FROM comments c JOIN threads t ON t.id = c.thread_id"
    " WHERE c.id = ?2 AND t.path = ?1 AND t.site = ?3 AND " SHOWN;

int comment_conversation_start(struct store_conn *c, const char *site, const char *thread,
			       int64_t id, char sort, struct comment_cursor *from)
{
	struct store_stmt *st = store_stmt(c, sql_root_of);
	int64_t root = 0;
	int r;

	if (!st)
		return -EIO;
	store_bind_text(st, 1, thread);
	store_bind_int64(st, 2, id);
	store_bind_text(st, 3, site);
	r = store_row(c, st);
	if (r == 1) {
		root = store_col_int64(st, 0);
		*from = (struct comment_cursor){
		    .sort = sort,
		    .key = sort == COMMENT_SORT_TOP ? store_col_int64(st, 1) : 0,
		    .root = root,
		    .row = 0,
		};
	}
	store_reset(st);
	return r;
}

static const char sql_thread_version[] =
    "SELECT version FROM threads WHERE site = ?2 AND path = ?1";

int comment_thread_version(struct store_conn *c, const char *site, const char *thread,
			   int64_t *version)
{
	struct store_stmt *st = store_stmt(c, sql_thread_version);
	int r;

	if (!st)
		return -EIO;
	*version = -1;
	store_bind_text(st, 1, thread);
	store_bind_text(st, 2, site);
	r = store_one_int64(c, st, version);
	return r < 0 ? r : 0;
}

int comment_row_counts(struct store_conn *c, struct store_stmt *st, json_t *obj)
{
	int r;

	while ((r = store_row(c, st)) == 1) {
		if (json_object_set_new(obj, store_col_text(st, 0),
					json_integer(store_col_int64(st, 1))) != 0) {
			r = -ENOMEM;
			break;
		}
	}
	store_reset(st);
	return r;
}

/* The published comments of each of site ?2's threads whose path is in
 * the JSON array ?1, in one statement (one round trip on PostgreSQL), one
 * row of threads each (threads.published, kept by triggers: schema 0019);
 * paths without a thread or without a published comment have no row. */
/* PostgreSQL's text names json_array_elements_text itself: through the
 * schema's json_each shim (arrays and objects, estimated at 200 rows) its
 * generic plan hashed a sequential scan of every thread; this way it is a
 * nested loop on threads' unique (site, path) index, as SQLite's. */
static const struct store_sql sql_count_paths = {
    "SELECT path, published FROM threads"
    " WHERE site = ?2 AND path IN (SELECT value FROM json_each(?1)) AND published > 0",
    "SELECT path, published FROM threads WHERE site = ?2"
    " AND path IN (SELECT json_array_elements_text(CAST(?1 AS json))) AND published > 0",
};

int comment_counts(struct store_conn *c, const char *site, const json_t *paths, json_t **out)
{
	json_t *result = json_object(), *v;
	struct store_stmt *st = store_stmt_pick(c, &sql_count_paths);
	char *list = json_dumps(paths, JSON_COMPACT);
	size_t i;
	int r = result && list ? 0 : -ENOMEM;

	if (r == 0 && !st)
		r = -EIO;
	json_array_foreach(paths, i, v)
	{
		if (r == 0 &&
		    json_object_set_new(result, json_string_value(v), json_integer(0)) != 0)
			r = -ENOMEM;
	}
	if (r == 0) {
		store_bind_text(st, 1, list);
		store_bind_text(st, 2, site);
		r = comment_row_counts(c, st, result);
	}
	free(list);
	if (r < 0) {
		json_decref(result);
		return r;
	}
	*out = result;
	return 0;
}

static const char sql_previously_approved[] =
    "SELECT EXISTS (SELECT 1 FROM comments c JOIN threads t ON t.id = c.thread_id"
    " WHERE c.email_hash = ?1 AND c.status = 'published' AND t.site = ?2)";

int comment_previously_approved(struct store_conn *c, const char *site,
				const unsigned char email_hash[KEYS_HASH_BYTES])
{
	struct store_stmt *st = store_stmt(c, sql_previously_approved);
	int64_t found = 0;
	int r;

	if (!st)
		return -EIO;
	store_bind_blob(st, 1, email_hash, KEYS_HASH_BYTES);
	store_bind_text(st, 2, site);
	r = store_one_int64(c, st, &found);
	if (r < 0)
		return r;
	return found ? 1 : 0;
}

static const char sql_load[] =
    "SELECT c.id, t.path, c.parent_id, c.author, c.url, c.text, c.avatar, c.ip_sealed,"
    " c.user_agent, c.referrer, c.status, c.created, c.email_hash, c.edit_hash,"
    " c.email_domain_sealed, t.site, c.likes"
    " FROM comments c JOIN threads t ON t.id = c.thread_id WHERE c.id = ?1";

static char *column_strdup(struct store_stmt *st, int col, bool *oom)
{
	char *s;

	if (store_col_type(st, col) == STORE_NULL)
		return NULL;
	s = strdup(store_col_text(st, col));
	if (!s)
		*oom = true;
	return s;
}

static bool column_hash(struct store_stmt *st, int col, unsigned char out[KEYS_HASH_BYTES])
{
	if (store_col_bytes(st, col) != KEYS_HASH_BYTES)
		return false;
	memcpy(out, store_col_blob(st, col), KEYS_HASH_BYTES);
	return true;
}

char *comment_unseal_column(struct store_stmt *st, int col, const struct keys *k)
{
	if (store_col_type(st, col) != STORE_BLOB)
		return NULL;
	return comment_unseal(k, store_col_blob(st, col), store_col_bytes(st, col));
}

static int row_from(struct store_stmt *st, const struct keys *k, struct comment_row *row)
{
	bool oom = false;

	memset(row, 0, sizeof(*row));
	row->id = store_col_int64(st, 0);
	row->thread = column_strdup(st, 1, &oom);
	row->parent = store_col_int64(st, 2);
	row->author = column_strdup(st, 3, &oom);
	row->url = column_strdup(st, 4, &oom);
	row->text = column_strdup(st, 5, &oom);
	row->avatar = column_strdup(st, 6, &oom);
	row->ip = comment_unseal_column(st, 7, k);
	row->email_domain = comment_unseal_column(st, 14, k);
	row->user_agent = column_strdup(st, 8, &oom);
	row->referrer = column_strdup(st, 9, &oom);
	if (comment_status_parse(store_col_text(st, 10), &row->status) != 0)
		row->status = COMMENT_DELETED;
	row->created = store_col_int64(st, 11);
	row->has_email_hash = column_hash(st, 12, row->email_hash);
	row->has_edit_hash = column_hash(st, 13, row->edit_hash);
	snprintf(row->site, sizeof(row->site), "%s", store_col_text(st, 15));
	row->likes = store_col_int64(st, 16);
	if (oom) {
		comment_row_clear(row);
		return -ENOMEM;
	}
	return 1;
}

int comment_load(struct store_conn *c, const struct keys *k, int64_t id, struct comment_row *out)
{
	struct store_stmt *st = store_stmt(c, sql_load);
	int r;

	if (!st)
		return -EIO;
	store_bind_int64(st, 1, id);
	r = store_row(c, st);
	if (r == 1)
		r = row_from(st, k, out);
	store_reset(st);
	return r;
}

void comment_row_clear(struct comment_row *row)
{
	free(row->thread);
	free(row->author);
	free(row->url);
	free(row->text);
	free(row->avatar);
	free(row->ip);
	free(row->email_domain);
	free(row->user_agent);
	free(row->referrer);
	sodium_memzero(row, sizeof(*row));
}

/* A writable copy of ch's field, or else of the row's. */
static char *pick(const char *changed, const char *kept, bool *oom)
{
	const char *v = changed ? changed : kept;
	char *s = strdup(v ? v : "");

	if (!s)
		*oom = true;
	return s;
}

int comment_merge_change(const struct config *cfg, const struct comment_row *row,
			 const struct comment_change *ch, struct comment_input *in, char **html,
			 struct comment_error *err)
{
	/* Validated like a new comment; the stored e-mail hash stands for the
	 * address, which is not kept. */
	char email[] = "author@edit.invalid";
	bool oom = false;
	int r;

	memset(in, 0, sizeof(*in));
	in->site = row->site;
	in->thread = pick(NULL, row->thread, &oom);
	in->parent = row->parent;
	in->author = pick(ch->author, row->author, &oom);
	in->url = pick(ch->url_set ? (ch->url ? ch->url : "") : NULL, row->url, &oom);
	in->text = pick(ch->text, row->text, &oom);
	if (oom)
		return -ENOMEM;
	in->email = email;
	r = comment_validate(cfg, in, err);
	in->email = NULL;
	if (r)
		return r;
	r = render_markdown(in->text, strlen(in->text), html);
	if (r > 0)
		return comment_fail(err, 422, "text_too_long",
				    "The comment is too long to display.");
	return r;
}

static const char sql_update_content[] =
    "UPDATE comments SET author = ?2, url = ?3, text = ?4, html = ?5, modified = ?6"
    " WHERE id = ?1";
static const char sql_update_decided[] =
    "UPDATE comments SET author = ?2, url = ?3, text = ?4, html = ?5, modified = ?6,"
    " status = ?7, auto_status = ?7, score = ?8, verdict = ?9, tokens = ?10, reasons = ?11,"
    " features = ?12 WHERE id = ?1";

int comment_update(struct store_conn *c, int64_t id, const struct comment_input *in,
		   const char *html, const struct comment_record *rec, int64_t now)
{
	struct store_stmt *st = store_stmt(c, rec ? sql_update_decided : sql_update_content);

	if (!st)
		return -EIO;
	store_bind_int64(st, 1, id);
	store_bind_text(st, 2, in->author);
	bind_text_or_null(st, 3, in->url);
	store_bind_text(st, 4, in->text);
	store_bind_text(st, 5, html);
	store_bind_int64(st, 6, now);
	if (rec) {
		store_bind_text(st, 7, comment_status_name(rec->status));
		if (rec->score >= 0)
			store_bind_double(st, 8, rec->score);
		bind_text_or_null(st, 9, rec->verdict);
		bind_text_or_null(st, 10, rec->tokens);
		bind_text_or_null(st, 11, rec->reasons);
		if (rec->features)
			store_bind_blob(st, 12, rec->features, rec->features_len);
	}
	return store_run(c, st, "comment edit");
}

static const char sql_has_replies[] = "SELECT EXISTS (SELECT 1 FROM comments WHERE parent_id = ?1)";
static const char sql_delete_row[] = "DELETE FROM comments WHERE id = ?1";
static const char sql_tombstone[] =
    "UPDATE comments SET status = 'deleted', author = '', url = NULL, text = '', html = '',"
    " avatar = '', email_hash = NULL, ip = NULL, ip_sealed = NULL, email_domain_sealed = NULL,"
    " user_agent = NULL, referrer = NULL, features = NULL, tokens = NULL, reasons = NULL,"
    " edit_hash = NULL, score = NULL, verdict = NULL, modified = ?2 WHERE id = ?1";

int comment_remove(struct store_conn *c, int64_t id, int64_t now)
{
	struct store_stmt *st = store_stmt(c, sql_has_replies);
	int64_t replies = 0;
	int r;

	if (!st)
		return -EIO;
	store_bind_int64(st, 1, id);
	r = store_one_int64(c, st, &replies);
	if (r < 0)
		return r;
	st = store_stmt(c, replies ? sql_tombstone : sql_delete_row);
	if (!st)
		return -EIO;
	store_bind_int64(st, 1, id);
	if (replies)
		store_bind_int64(st, 2, now);
	return store_run(c, st, "comment remove");
}
