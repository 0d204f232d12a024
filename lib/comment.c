#include "comment.h"

#include "log.h"
#include "render.h"
#include "text.h"
#include "thread.h"

#include <ctype.h>
#include <errno.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

static const char *const status_names[] = {"published", "pending", "spam", "deleted", "discarded"};

const char *comment_status_name(enum comment_status s)
{
	return status_names[s];
}

enum comment_status comment_decide(const struct comment_facts *facts)
{
	bool is = facts->verdict != NULL;

	if (facts->honeypot_filled)
		return COMMENT_DISCARDED;
	if (facts->allowlisted)
		return COMMENT_PUBLISHED;
	if (facts->blocklisted)
		return COMMENT_SPAM;
	/* Cold start (too little learned): the score alone never files spam or
	 * discards, it only holds what looks like spam (the classifier turned
	 * those verdicts into unsure), and an untrained model's doubt holds
	 * nothing: a new blog's comments appear as the site policy says. */
	if (facts->cold_start) {
		if (is && strcmp(facts->verdict, "ham") != 0 && facts->score >= facts->spam_cutoff)
			return COMMENT_PENDING;
	} else if (is && strcmp(facts->verdict, "discard") == 0) {
		return COMMENT_DISCARDED;
	} else if (is && strcmp(facts->verdict, "spam") == 0) {
		return COMMENT_SPAM;
	} else if (is && strcmp(facts->verdict, "unsure") == 0) {
		return COMMENT_PENDING;
	}
	if (facts->links > facts->max_links)
		return COMMENT_PENDING;
	switch (facts->moderation) {
	case MODERATION_ALL:
		return COMMENT_PENDING;
	case MODERATION_FIRST:
		return facts->previously_approved ? COMMENT_PUBLISHED : COMMENT_PENDING;
	case MODERATION_NONE:
		break;
	}
	return COMMENT_PUBLISHED;
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

static void lowercase(char *s)
{
	for (; *s; s++) {
		if (*s >= 'A' && *s <= 'Z')
			*s = (char)(*s + 32);
	}
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

static bool url_valid(const char *u, size_t max)
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

	if (!in->email)
		return comment_fail(err, 422, "missing_email", "Please give your e-mail address.");
	if (!text_utf8_valid(in->email, strlen(in->email), NULL))
		return comment_fail(err, 400, "invalid_utf8",
				    "The e-mail address is not valid UTF-8.");
	text_trim(in->email);
	lowercase(in->email);
	if (!*in->email)
		return comment_fail(err, 422, "missing_email", "Please give your e-mail address.");
	if (strlen(in->email) > COMMENT_EMAIL_MAX || !email_valid(in->email))
		return comment_fail(err, 422, "invalid_email",
				    "The e-mail address does not look like name@example.org.");

	if (in->url) {
		if (!text_utf8_valid(in->url, strlen(in->url), NULL))
			return comment_fail(err, 400, "invalid_utf8",
					    "The website is not valid UTF-8.");
		text_trim(in->url);
		/* A blank URL stays "" (absent): the caller owns and frees the
		 * buffer, so the pointer must not be dropped. */
		if (*in->url && !url_valid(in->url, cfg->max_url)) {
			return comment_fail(
			    err, 422, "invalid_url",
			    "The website must be an http:// or https:// address of at "
			    "most %u characters.",
			    cfg->max_url);
		}
	}

	if (!in->text)
		return comment_fail(err, 422, "missing_text", "The comment is empty.");
	if (!text_utf8_valid(in->text, strlen(in->text), &chars))
		return comment_fail(err, 400, "invalid_utf8", "The comment is not valid UTF-8.");
	if (text_has_controls(in->text, true))
		return comment_fail(err, 422, "invalid_text",
				    "The comment contains control characters.");
	{
		/* Whitespace-only text counts as empty; the text itself is stored
		 * as written. */
		char *copy = strdup(in->text);
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

void comment_format_time(int64_t t, char out[21])
{
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	strftime(out, 21, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static const char sql_thread_upsert[] =
    "INSERT INTO threads(path, created) VALUES (?1, ?2) ON CONFLICT(path) DO NOTHING";
static const char sql_thread_id[] = "SELECT id FROM threads WHERE path = ?1";
static const char sql_parent[] =
    "SELECT thread_id, status, depth, parent_id, root_id FROM comments WHERE id = ?1";
static const char sql_insert[] =
    "INSERT INTO comments(thread_id, parent_id, root_id, depth, created, status, author, url,"
    " text, html, email_hash, avatar, ip, user_agent, referrer, score, verdict, tokens,"
    " auto_status, features, edit_hash)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18,"
    " ?6, ?19, ?20)";
static const char sql_set_root[] = "UPDATE comments SET root_id = id WHERE id = ?1";

static int step_done(struct store_conn *c, sqlite3_stmt *st, const char *what)
{
	int rc = sqlite3_step(st);
	int r = store_write_error(c, rc, what);

	sqlite3_reset(st);
	return r;
}

static void bind_text_or_null(sqlite3_stmt *st, int i, const char *s)
{
	if (s && *s)
		sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, i);
}

/* Maps the result of a store call to this module's contract: 0 and negative
 * pass through, a refused write (STORE_FULL, STORE_READONLY) becomes
 * COMMENT_UNAVAILABLE with err filled. */
static int refused(struct comment_error *err, int r)
{
	if (r <= 0)
		return r;
	if (r == STORE_FULL)
		return comment_fail(
		    err, 503, "storage_full",
		    "The comment could not be saved because the server's disk is full. "
		    "Please try again later.");
	return comment_fail(
	    err, 503, "storage_readonly",
	    "The comment could not be saved because storage is read-only. Please try "
	    "again later.");
}

/* The rows of one new comment, written inside a (group) transaction by
 * create_rows(); id and parent come back. */
struct create_job {
	const struct config *cfg;
	const struct comment_input *in;
	const struct comment_verdict *v;
	const char *html;
	const unsigned char *email_hash, *edit_hash;
	const char *avatar;
	int64_t now;
	struct comment_error *err;
	int64_t parent; /* in: requested; out: after the depth cap */
	int64_t id;	/* out */
	int result;	/* out: what write_rows returned (err filled if positive) */
};

static int write_rows(struct store_conn *c, struct create_job *job);

static int create_rows(struct store_conn *c, void *arg)
{
	struct create_job *job = arg;

	job->result = write_rows(c, job);
	return job->result;
}

static int write_rows(struct store_conn *c, struct create_job *job)
{
	const struct comment_input *in = job->in;
	const struct comment_verdict *v = job->v;
	struct comment_error *err = job->err;
	int64_t thread_id = 0, parent = job->parent, root = 0;
	int depth = 1, r, rc;
	sqlite3_stmt *st;

	st = store_stmt(c, sql_thread_upsert);
	if (!st)
		return -EIO;
	sqlite3_bind_text(st, 1, in->thread, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, job->now);
	r = refused(err, step_done(c, st, "thread insert"));
	if (r)
		return r;
	st = store_stmt(c, sql_thread_id);
	if (!st)
		return -EIO;
	sqlite3_bind_text(st, 1, in->thread, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		thread_id = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	if (thread_id == 0) {
		log_err("comment: thread row missing after insert");
		return -EIO;
	}

	if (parent) {
		int64_t p_thread = 0, p_parent = 0, p_root = 0;
		int p_depth = 0;
		bool published = false;

		st = store_stmt(c, sql_parent);
		if (!st)
			return -EIO;
		sqlite3_bind_int64(st, 1, parent);
		if (sqlite3_step(st) == SQLITE_ROW) {
			p_thread = sqlite3_column_int64(st, 0);
			published =
			    strcmp((const char *)sqlite3_column_text(st, 1), "published") == 0;
			p_depth = sqlite3_column_int(st, 2);
			p_parent = sqlite3_column_int64(st, 3);
			p_root = sqlite3_column_int64(st, 4);
		}
		sqlite3_reset(st);
		if (p_thread != thread_id || !published)
			return comment_fail(
			    err, 422, "invalid_parent",
			    "The comment you reply to does not exist in this thread or is "
			    "not published.");
		/* Too deep: climb to the deepest ancestor that may still have
		 * replies (depth max_depth - 1). */
		while (p_depth >= (int)job->cfg->max_depth && p_parent) {
			parent = p_parent;
			sqlite3_bind_int64(st, 1, parent);
			if (sqlite3_step(st) != SQLITE_ROW) {
				sqlite3_reset(st);
				return -EIO;
			}
			p_depth = sqlite3_column_int(st, 2);
			p_parent = sqlite3_column_int64(st, 3);
			sqlite3_reset(st);
		}
		if (p_depth >= (int)job->cfg->max_depth) {
			/* max_depth 1: replies become top-level comments. */
			parent = 0;
		} else {
			depth = p_depth + 1;
			root = p_root;
		}
	}

	st = store_stmt(c, sql_insert);
	if (!st)
		return -EIO;
	sqlite3_bind_int64(st, 1, thread_id);
	if (parent)
		sqlite3_bind_int64(st, 2, parent);
	sqlite3_bind_int64(st, 3, root);
	sqlite3_bind_int(st, 4, depth);
	sqlite3_bind_int64(st, 5, job->now);
	sqlite3_bind_text(st, 6, comment_status_name(v->status), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 7, in->author, -1, SQLITE_STATIC);
	bind_text_or_null(st, 8, in->url);
	sqlite3_bind_text(st, 9, in->text, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 10, job->html, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 11, job->email_hash, KEYS_HASH_BYTES, SQLITE_STATIC);
	sqlite3_bind_text(st, 12, job->avatar, -1, SQLITE_STATIC);
	bind_text_or_null(st, 13, in->ip);
	bind_text_or_null(st, 14, in->user_agent);
	bind_text_or_null(st, 15, in->referrer);
	if (v->score >= 0)
		sqlite3_bind_double(st, 16, v->score);
	bind_text_or_null(st, 17, v->verdict);
	bind_text_or_null(st, 18, v->tokens);
	if (v->features)
		sqlite3_bind_blob(st, 19, v->features, (int)v->features_len, SQLITE_STATIC);
	sqlite3_bind_blob(st, 20, job->edit_hash, KEYS_HASH_BYTES, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	r = refused(err, store_write_error(c, rc, "comment insert"));
	if (r)
		return r;
	job->id = sqlite3_last_insert_rowid(store_db(c));
	job->parent = parent;
	if (!parent) {
		st = store_stmt(c, sql_set_root);
		if (!st)
			return -EIO;
		sqlite3_bind_int64(st, 1, job->id);
		r = refused(err, step_done(c, st, "comment root"));
	}
	return r;
}

int comment_create(struct store_conn *c, const struct config *cfg, const struct keys *k,
		   const struct comment_input *in, const struct comment_verdict *v, json_t **out,
		   struct comment_error *err)
{
	unsigned char email_hash[KEYS_HASH_BYTES], edit_hash[KEYS_HASH_BYTES];
	char avatar[KEYS_AVATAR_HEX], created[21], edit_token[KEYS_TOKEN_CHARS], until[21];
	int64_t now = (int64_t)time(NULL), id, parent;
	struct create_job job;
	char *html = NULL;
	json_t *j;
	int r;

	r = render_markdown(in->text, strlen(in->text), &html);
	if (r > 0) {
		r = comment_fail(err, 422, "text_too_long", "The comment is too long to display.");
		goto out;
	}
	if (r < 0)
		goto out;
	keys_hash(k, KEYS_EMAIL, in->email, strlen(in->email), email_hash);
	keys_avatar(k, in->email, avatar);
	keys_token_new(k, edit_token, edit_hash);

	/* Posts arriving together share one transaction and one fsync; the
	 * answer goes out only after the commit that holds this comment. */
	job = (struct create_job){
	    .cfg = cfg,
	    .in = in,
	    .v = v,
	    .html = html,
	    .email_hash = email_hash,
	    .edit_hash = edit_hash,
	    .avatar = avatar,
	    .now = now,
	    .err = err,
	    .parent = in->parent,
	};
	r = store_group_write(c, create_rows, &job);
	if (r != 0 && r != job.result)
		r = refused(err, r); /* the batch's BEGIN or COMMIT failed */
	if (r)
		goto out;
	id = job.id;
	parent = job.parent;

	comment_format_time(now, created);
	comment_format_time(now + cfg->edit_window, until);
	j = json_pack("{s:I, s:s, s:o, s:s, s:o, s:s, s:s, s:s, s:s, s:s, s:s}", "id",
		      (json_int_t)id, "thread", in->thread, "parent",
		      parent ? json_integer(parent) : json_null(), "author", in->author, "url",
		      (in->url && *in->url) ? json_string(in->url) : json_null(), "created",
		      created, "html", html, "avatar", avatar, "status",
		      v->status == COMMENT_PUBLISHED ? "published" : "pending", "edit_token",
		      edit_token, "edit_until", until);
	sodium_memzero(edit_token, sizeof(edit_token));
	if (!j) {
		r = -ENOMEM;
		goto out;
	}
	*out = j;
	r = 0;
out:
	free(html);
	return r;
}

/* Deleted comments come along as tombstones; the tree drops those that no
 * published reply hangs below. */
static const char sql_thread_rows[] =
    "SELECT c.id, c.parent_id, c.author, c.url, c.created, c.html, c.avatar,"
    " c.status = 'deleted'"
    " FROM comments c WHERE c.thread_id = ?1 AND c.status IN ('published', 'deleted')"
    " AND c.root_id IN"
    " (SELECT id FROM comments WHERE thread_id = ?1 AND parent_id IS NULL"
    "  AND status IN ('published', 'deleted') AND id > ?2 ORDER BY id LIMIT ?3)"
    " ORDER BY c.id";
static const char sql_thread_count[] =
    "SELECT count(*) FROM comments WHERE thread_id = ?1 AND status = 'published'";

int comment_thread(struct store_conn *c, const char *thread, unsigned limit, int64_t after,
		   json_t **out)
{
	struct thread_tree *tree = NULL;
	sqlite3_stmt *st;
	int64_t thread_id = 0, count = 0;
	json_t *comments = NULL;
	int r, rc;

	r = thread_tree_new(&tree);
	if (r < 0)
		return r;
	st = store_stmt(c, sql_thread_id);
	if (!st) {
		r = -EIO;
		goto out;
	}
	sqlite3_bind_text(st, 1, thread, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		thread_id = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);

	if (thread_id) {
		st = store_stmt(c, sql_thread_count);
		if (!st) {
			r = -EIO;
			goto out;
		}
		sqlite3_bind_int64(st, 1, thread_id);
		if (sqlite3_step(st) == SQLITE_ROW)
			count = sqlite3_column_int64(st, 0);
		sqlite3_reset(st);

		st = store_stmt(c, sql_thread_rows);
		if (!st) {
			r = -EIO;
			goto out;
		}
		sqlite3_bind_int64(st, 1, thread_id);
		sqlite3_bind_int64(st, 2, after);
		sqlite3_bind_int64(st, 3, limit ? (sqlite3_int64)limit : -1);
		while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
			struct thread_row row = {
			    .id = sqlite3_column_int64(st, 0),
			    .parent = sqlite3_column_int64(st, 1),
			    .author = (const char *)sqlite3_column_text(st, 2),
			    .url = (const char *)sqlite3_column_text(st, 3),
			    .created = sqlite3_column_int64(st, 4),
			    .html = (const char *)sqlite3_column_text(st, 5),
			    .avatar = (const char *)sqlite3_column_text(st, 6),
			    .deleted = sqlite3_column_int(st, 7) != 0,
			};
			r = thread_tree_add(tree, &row);
			if (r < 0) {
				sqlite3_reset(st);
				goto out;
			}
		}
		sqlite3_reset(st);
		if (rc != SQLITE_DONE) {
			log_err("comment: reading thread failed: %s", sqlite3_errmsg(store_db(c)));
			r = -EIO;
			goto out;
		}
	}
	r = thread_tree_json(tree, &comments);
	if (r < 0)
		goto out;
	*out = json_pack("{s:s, s:I, s:o}", "thread", thread, "count", (json_int_t)count,
			 "comments", comments);
	r = *out ? 0 : -ENOMEM;
out:
	thread_tree_free(tree);
	return r;
}

static const char sql_count_path[] =
    "SELECT count(*) FROM comments c JOIN threads t ON t.id = c.thread_id"
    " WHERE t.path = ?1 AND c.status = 'published'";

int comment_counts(struct store_conn *c, const json_t *paths, json_t **out)
{
	json_t *result = json_object(), *v;
	sqlite3_stmt *st;
	size_t i;

	if (!result)
		return -ENOMEM;
	st = store_stmt(c, sql_count_path);
	if (!st) {
		json_decref(result);
		return -EIO;
	}
	json_array_foreach(paths, i, v)
	{
		const char *path = json_string_value(v);
		json_int_t n = 0;

		sqlite3_bind_text(st, 1, path, -1, SQLITE_STATIC);
		if (sqlite3_step(st) == SQLITE_ROW)
			n = sqlite3_column_int64(st, 0);
		sqlite3_reset(st);
		if (json_object_set_new(result, path, json_integer(n)) != 0) {
			json_decref(result);
			return -ENOMEM;
		}
	}
	*out = result;
	return 0;
}

static const char sql_previously_approved[] =
    "SELECT EXISTS (SELECT 1 FROM comments WHERE email_hash = ?1 AND status = 'published')";

int comment_previously_approved(struct store_conn *c,
				const unsigned char email_hash[KEYS_HASH_BYTES])
{
	sqlite3_stmt *st = store_stmt(c, sql_previously_approved);
	int r = -EIO;

	if (!st)
		return -EIO;
	sqlite3_bind_blob(st, 1, email_hash, KEYS_HASH_BYTES, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		r = sqlite3_column_int(st, 0) ? 1 : 0;
	sqlite3_reset(st);
	return r;
}

static const char sql_count_discard[] = "INSERT INTO discarded(day, count) VALUES (?1, 1)"
					" ON CONFLICT(day) DO UPDATE SET count = count + 1";

int comment_count_discard(struct store_conn *c, int64_t now)
{
	sqlite3_stmt *st = store_stmt(c, sql_count_discard);
	int r;

	if (!st)
		return -EIO;
	sqlite3_bind_int64(st, 1, now / 86400);
	r = store_write_error(c, sqlite3_step(st), "discard count");
	sqlite3_reset(st);
	return r < 0 ? r : 0;
}

static const char sql_author_get[] =
    "SELECT c.edit_hash, c.created, c.status, c.text, c.author, t.path, c.parent_id, c.url,"
    " c.avatar FROM comments c JOIN threads t ON t.id = c.thread_id WHERE c.id = ?1";
static const char sql_author_edit[] =
    "UPDATE comments SET text = ?2, author = ?3, html = ?4, modified = ?5,"
    " status = CASE WHEN ?6 THEN 'pending' ELSE status END WHERE id = ?1";

int comment_author_change(struct store_conn *c, const struct config *cfg, const struct keys *k,
			  int64_t id, const char *token, const char *text, const char *author,
			  bool remove, bool hold, int64_t now, json_t **out,
			  struct comment_error *err)
{
	unsigned char hash[KEYS_HASH_BYTES];
	char *html = NULL, created[21], status[16] = "";
	char *new_text = NULL, *new_author = NULL, *thread = NULL, *url = NULL, *avatar = NULL;
	int64_t parent = 0, created_at = 0;
	bool token_ok = false;
	sqlite3_stmt *st;
	int r;

	if (!token || strlen(token) != KEYS_TOKEN_CHARS - 1)
		return comment_fail(err, 403, "forbidden", "The edit token is missing or wrong.");
	keys_hash(k, KEYS_TOKEN, token, strlen(token), hash);
	r = store_begin(c);
	if (r)
		return refused(err, r);
	st = store_stmt(c, sql_author_get);
	if (!st) {
		r = -EIO;
		goto out;
	}
	sqlite3_bind_int64(st, 1, id);
	if (sqlite3_step(st) != SQLITE_ROW) {
		sqlite3_reset(st);
		r = comment_fail(err, 404, "not_found", "There is no such comment.");
		goto out;
	}
	if (sqlite3_column_bytes(st, 0) == KEYS_HASH_BYTES)
		token_ok = sodium_memcmp(sqlite3_column_blob(st, 0), hash, KEYS_HASH_BYTES) == 0;
	created_at = sqlite3_column_int64(st, 1);
	snprintf(status, sizeof(status), "%s", sqlite3_column_text(st, 2));
	new_text = strdup(text ? text : (const char *)sqlite3_column_text(st, 3));
	new_author = strdup(author ? author : (const char *)sqlite3_column_text(st, 4));
	thread = strdup((const char *)sqlite3_column_text(st, 5));
	parent = sqlite3_column_int64(st, 6);
	url = sqlite3_column_type(st, 7) == SQLITE_NULL
		  ? NULL
		  : strdup((const char *)sqlite3_column_text(st, 7));
	avatar = strdup((const char *)sqlite3_column_text(st, 8));
	sqlite3_reset(st);
	if (!new_text || !new_author || !thread || !avatar) {
		r = -ENOMEM;
		goto out;
	}
	if (!token_ok || strcmp(status, "deleted") == 0) {
		r = comment_fail(err, 403, "forbidden", "The edit token is missing or wrong.");
		goto out;
	}
	if (now > created_at + (int64_t)cfg->edit_window) {
		r = comment_fail(err, 403, "edit_window_closed",
				 "Comments can be changed only within %u minutes of posting.",
				 cfg->edit_window / 60);
		goto out;
	}
	if (remove) {
		r = comment_remove(c, id, now);
	} else {
		r = comment_check_edit(cfg, new_author, new_text, &html, err);
		if (r)
			goto out;
		st = store_stmt(c, sql_author_edit);
		if (!st) {
			r = -EIO;
			goto out;
		}
		sqlite3_bind_int64(st, 1, id);
		sqlite3_bind_text(st, 2, new_text, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, new_author, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 4, html, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 5, now);
		sqlite3_bind_int(st, 6, hold ? 1 : 0);
		r = step_done(c, st, "author edit");
		if (hold)
			snprintf(status, sizeof(status), "pending");
	}
	r = refused(err, r);
	if (r)
		goto out;
	r = refused(err, store_commit(c));
	if (r)
		goto out;
	if (!remove) {
		comment_format_time(created_at, created);
		*out = json_pack("{s:I, s:s, s:o, s:s, s:o, s:s, s:s, s:s, s:s}", "id",
				 (json_int_t)id, "thread", thread, "parent",
				 parent ? json_integer(parent) : json_null(), "author", new_author,
				 "url", url ? json_string(url) : json_null(), "created", created,
				 "html", html, "avatar", avatar, "status", status);
		if (!*out)
			r = -ENOMEM;
	}
out:
	store_rollback(c);
	free(html);
	free(new_text);
	free(new_author);
	free(thread);
	free(url);
	free(avatar);
	return r;
}

int comment_check_edit(const struct config *cfg, char *author, char *text, char **html,
		       struct comment_error *err)
{
	char thread[] = "/", email[] = "author@edit.invalid";
	struct comment_input in = {
	    .thread = thread,
	    .author = author,
	    .email = email, /* validated, then unused */
	    .text = text,
	};
	int r = comment_validate(cfg, &in, err);

	if (r)
		return r;
	r = render_markdown(text, strlen(text), html);
	if (r > 0)
		return comment_fail(err, 422, "text_too_long",
				    "The comment is too long to display.");
	return r;
}

static const char sql_thread_version[] = "SELECT version FROM threads WHERE path = ?1";

int comment_thread_version(struct store_conn *c, const char *thread, int64_t *version)
{
	sqlite3_stmt *st = store_stmt(c, sql_thread_version);
	int rc;

	if (!st)
		return -EIO;
	sqlite3_bind_text(st, 1, thread, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	*version = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
	sqlite3_reset(st);
	return (rc == SQLITE_ROW || rc == SQLITE_DONE) ? 0 : -EIO;
}

static const char sql_has_replies[] = "SELECT EXISTS (SELECT 1 FROM comments WHERE parent_id = ?1)";
static const char sql_delete_row[] = "DELETE FROM comments WHERE id = ?1";
static const char sql_tombstone[] =
    "UPDATE comments SET status = 'deleted', author = '', url = NULL, text = '', html = '',"
    " avatar = '', email_hash = NULL, ip = NULL, user_agent = NULL, referrer = NULL,"
    " features = NULL, tokens = NULL, edit_hash = NULL, modified = ?2 WHERE id = ?1";

int comment_remove(struct store_conn *c, int64_t id, int64_t now)
{
	sqlite3_stmt *st = store_stmt(c, sql_has_replies);
	bool replies;

	if (!st)
		return -EIO;
	sqlite3_bind_int64(st, 1, id);
	replies = sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int(st, 0) != 0;
	sqlite3_reset(st);
	st = store_stmt(c, replies ? sql_tombstone : sql_delete_row);
	if (!st)
		return -EIO;
	sqlite3_bind_int64(st, 1, id);
	if (replies)
		sqlite3_bind_int64(st, 2, now);
	return step_done(c, st, "comment remove");
}
