#include "moderation.h"

#include "admin.h"
#include "log.h"
#include "net.h"
#include "render.h"
#include "text.h"

#include <errno.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *const action_names[] = {"approve", "spam", "delete"};

int moderation_action_parse(const char *name, enum moderation_action *out)
{
	for (int i = 0; i < 3; i++) {
		if (name && strcmp(name, action_names[i]) == 0) {
			*out = (enum moderation_action)i;
			return 0;
		}
	}
	return 1;
}

/* Maps the result of a store call (0, STORE_FULL/STORE_READONLY, negative)
 * to this module's contract: refused writes become COMMENT_UNAVAILABLE. */
static int store_result(int r, struct comment_error *err)
{
	if (r > 0)
		return comment_fail(
		    err, 503, "unavailable",
		    "The change could not be saved (storage is full or read-only).");
	return r;
}

static const char sql_list[] =
    "SELECT c.id, t.path, c.parent_id, c.author, c.url, c.text, c.html, c.created, c.status,"
    " c.score, c.verdict, c.tokens, c.email_hash, c.ip"
    " FROM comments c JOIN threads t ON t.id = c.thread_id"
    " WHERE (?1 IS NULL OR c.status = ?1) AND (?2 IS NULL OR t.path = ?2)"
    " AND (?3 IS NULL OR c.text LIKE ?3 ESCAPE '\\' OR c.author LIKE ?3 ESCAPE '\\')"
    " AND (?4 = 0 OR c.id < ?4) ORDER BY c.id DESC LIMIT ?5";

static json_t *column_text_or_null(sqlite3_stmt *st, int col)
{
	if (sqlite3_column_type(st, col) == SQLITE_NULL)
		return json_null();
	return json_string((const char *)sqlite3_column_text(st, col));
}

/* The admin form of the current row of a statement shaped like sql_list. */
static json_t *admin_row(sqlite3_stmt *st)
{
	char created[21], hash_hex[13] = "", prefix[NET_IP_MAX + 4] = "";
	const unsigned char *hash = sqlite3_column_blob(st, 12);
	json_t *tokens = NULL;
	struct net_addr addr;

	comment_format_time(sqlite3_column_int64(st, 7), created);
	if (hash && sqlite3_column_bytes(st, 12) >= 6)
		sodium_bin2hex(hash_hex, sizeof(hash_hex), hash, 6);
	if (sqlite3_column_type(st, 13) != SQLITE_NULL &&
	    net_parse_ip((const char *)sqlite3_column_text(st, 13), &addr) == 0)
		net_format_prefix(&addr, prefix);
	if (sqlite3_column_type(st, 11) != SQLITE_NULL)
		tokens = json_loads((const char *)sqlite3_column_text(st, 11), 0, NULL);
	return json_pack(
	    "{s:I, s:s, s:o, s:s, s:o, s:s, s:s, s:s, s:s, s:o, s:o, s:o, s:o, s:o}", "id",
	    (json_int_t)sqlite3_column_int64(st, 0), "thread",
	    (const char *)sqlite3_column_text(st, 1), "parent",
	    sqlite3_column_type(st, 2) == SQLITE_NULL ? json_null()
						      : json_integer(sqlite3_column_int64(st, 2)),
	    "author", (const char *)sqlite3_column_text(st, 3), "url", column_text_or_null(st, 4),
	    "text", (const char *)sqlite3_column_text(st, 5), "html",
	    (const char *)sqlite3_column_text(st, 6), "created", created, "status",
	    (const char *)sqlite3_column_text(st, 8), "score",
	    sqlite3_column_type(st, 9) == SQLITE_NULL ? json_null()
						      : json_real(sqlite3_column_double(st, 9)),
	    "verdict", column_text_or_null(st, 10), "tokens", tokens ? tokens : json_array(),
	    "email_hash", hash_hex[0] ? json_string(hash_hex) : json_null(), "ip_prefix",
	    prefix[0] ? json_string(prefix) : json_null());
}

int moderation_list(struct store_conn *c, const struct moderation_query *q, json_t **out)
{
	sqlite3_stmt *st = store_stmt(c, sql_list);
	char like[2 * MODERATION_QUERY_MAX + 3];
	json_t *list = json_array();
	int64_t last = 0;
	unsigned n = 0;
	int rc;

	if (!st || !list) {
		json_decref(list);
		return -EIO;
	}
	if (q->status)
		sqlite3_bind_text(st, 1, q->status, -1, SQLITE_STATIC);
	if (q->thread)
		sqlite3_bind_text(st, 2, q->thread, -1, SQLITE_STATIC);
	if (q->q && *q->q) {
		/* Escape LIKE's wildcards so the search is a plain substring. */
		size_t o = 0;
		like[o++] = '%';
		for (const char *p = q->q; *p && o < sizeof(like) - 3; p++) {
			if (*p == '%' || *p == '_' || *p == '\\')
				like[o++] = '\\';
			like[o++] = *p;
		}
		like[o++] = '%';
		like[o] = '\0';
		sqlite3_bind_text(st, 3, like, -1, SQLITE_STATIC);
	}
	sqlite3_bind_int64(st, 4, q->before);
	sqlite3_bind_int64(st, 5, q->limit ? q->limit : 50);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		json_t *row = admin_row(st);
		if (!row || json_array_append_new(list, row) != 0) {
			sqlite3_reset(st);
			json_decref(list);
			return -ENOMEM;
		}
		last = sqlite3_column_int64(st, 0);
		n++;
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		json_decref(list);
		return -EIO;
	}
	*out = json_pack("{s:o, s:o}", "comments", list, "next",
			 (q->limit && n == q->limit) ? json_integer(last) : json_null());
	return *out ? 0 : -ENOMEM;
}

static const char sql_get[] =
    "SELECT c.status, c.auto_status, c.features, c.text, c.author, c.url, c.ip,"
    " c.user_agent, c.referrer, t.path,"
    " EXISTS (SELECT 1 FROM comments r WHERE r.parent_id = c.id)"
    " FROM comments c JOIN threads t ON t.id = c.thread_id WHERE c.id = ?1";
static const char sql_set_status[] = "UPDATE comments SET status = ?2, modified = ?3 WHERE id = ?1";
struct row {
	char status[16];
	char auto_status[16];
	bool has_replies;
};

static int step_write(struct store_conn *c, sqlite3_stmt *st, const char *what)
{
	int r = store_write_error(c, sqlite3_step(st), what);

	sqlite3_reset(st);
	return r;
}

/* Teaches the classifier what the comment is, from the features it was
 * scored on (or, for comments stored without them, from its fields). */
static int learn_comment(struct store_conn *c, struct classifier *cl, int64_t id,
			 enum classify_label label)
{
	sqlite3_stmt *st = store_stmt(c, sql_get);
	char key[32];
	int r;

	if (!st)
		return -EIO;
	snprintf(key, sizeof(key), "comment:%lld", (long long)id);
	sqlite3_bind_int64(st, 1, id);
	if (sqlite3_step(st) != SQLITE_ROW) {
		sqlite3_reset(st);
		return -EIO;
	}
	if (sqlite3_column_type(st, 2) == SQLITE_BLOB) {
		r = classifier_learn_features(cl, c, key, sqlite3_column_blob(st, 2),
					      (size_t)sqlite3_column_bytes(st, 2), label);
	} else {
		struct classify_input in = {
		    .text = (const char *)sqlite3_column_text(st, 3),
		    .author = (const char *)sqlite3_column_text(st, 4),
		    .url = (const char *)sqlite3_column_text(st, 5),
		    .ip = (const char *)sqlite3_column_text(st, 6),
		    .user_agent = (const char *)sqlite3_column_text(st, 7),
		    .referrer = (const char *)sqlite3_column_text(st, 8),
		    .thread = (const char *)sqlite3_column_text(st, 9),
		    .render_seconds = -1,
		};
		r = classifier_learn(cl, c, key, &in, label);
	}
	sqlite3_reset(st);
	return r == CLASSIFY_ALREADY ? 0 : r;
}

static int get_row(struct store_conn *c, int64_t id, struct row *row)
{
	sqlite3_stmt *st = store_stmt(c, sql_get);
	int found = 0;

	if (!st)
		return -EIO;
	sqlite3_bind_int64(st, 1, id);
	if (sqlite3_step(st) == SQLITE_ROW) {
		snprintf(row->status, sizeof(row->status), "%s", sqlite3_column_text(st, 0));
		snprintf(row->auto_status, sizeof(row->auto_status), "%s",
			 sqlite3_column_type(st, 1) == SQLITE_NULL
			     ? ""
			     : (const char *)sqlite3_column_text(st, 1));
		row->has_replies = sqlite3_column_int(st, 10) != 0;
		found = 1;
	}
	sqlite3_reset(st);
	return found;
}

/* One action inside an open transaction. */
static int act_locked(struct store_conn *c, struct classifier *cl, const char *actor,
		      enum moderation_action action, int64_t id, struct comment_error *err)
{
	struct row row;
	sqlite3_stmt *st;
	bool reversal = false;
	const char *status = NULL;
	char detail[64];
	int r;

	r = get_row(c, id, &row);
	if (r < 0)
		return r;
	if (r == 0 || strcmp(row.status, "deleted") == 0)
		return comment_fail(err, 404, "not_found", "Comment %lld does not exist.",
				    (long long)id);

	switch (action) {
	case MODERATION_APPROVE:
		status = "published";
		reversal = strcmp(row.auto_status, "spam") == 0;
		r = learn_comment(c, cl, id, CLASSIFY_LABEL_HAM);
		break;
	case MODERATION_SPAM:
		status = "spam";
		reversal = strcmp(row.auto_status, "published") == 0;
		r = learn_comment(c, cl, id, CLASSIFY_LABEL_SPAM);
		break;
	case MODERATION_DELETE:
		r = comment_remove(c, id, (int64_t)time(NULL));
		break;
	}
	if (r)
		return store_result(r, err);
	if (status) {
		st = store_stmt(c, sql_set_status);
		if (!st)
			return -EIO;
		sqlite3_bind_int64(st, 1, id);
		sqlite3_bind_text(st, 2, status, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 3, (sqlite3_int64)time(NULL));
		r = step_write(c, st, "comment status");
		if (r)
			return store_result(r, err);
	}
	snprintf(detail, sizeof(detail), "%s -> %s", row.status,
		 status ? status : (row.has_replies ? "tombstone" : "removed"));
	return store_result(audit_write(c, actor, action_names[action], id, detail, reversal), err);
}

int moderation_act(struct store_conn *c, struct classifier *cl, const char *actor,
		   enum moderation_action action, int64_t id, struct comment_error *err)
{
	return moderation_bulk(c, cl, actor, action, &id, 1, err);
}

int moderation_bulk(struct store_conn *c, struct classifier *cl, const char *actor,
		    enum moderation_action action, const int64_t *ids, size_t n,
		    struct comment_error *err)
{
	int r;

	if (n > MODERATION_BULK_MAX)
		return comment_fail(err, 422, "too_many_ids", "Act on at most %d comments at once.",
				    MODERATION_BULK_MAX);
	r = store_begin(c);
	if (r)
		return store_result(r, err);
	for (size_t i = 0; i < n; i++) {
		r = act_locked(c, cl, actor, action, ids[i], err);
		if (r)
			goto out;
	}
	r = store_result(store_commit(c), err);
out:
	store_rollback(c);
	return r;
}

static const char sql_edit[] =
    "UPDATE comments SET text = ?2, author = ?3, html = ?4, modified = ?5 WHERE id = ?1";
static const char sql_get_admin[] =
    "SELECT c.id, t.path, c.parent_id, c.author, c.url, c.text, c.html, c.created, c.status,"
    " c.score, c.verdict, c.tokens, c.email_hash, c.ip"
    " FROM comments c JOIN threads t ON t.id = c.thread_id WHERE c.id = ?1";
static const char sql_learned_label[] = "SELECT label FROM classifier_learned WHERE msg_key = ?1";

int moderation_edit(struct store_conn *c, struct classifier *cl, const struct config *cfg,
		    const char *actor, int64_t id, const char *text, const char *author,
		    json_t **out, struct comment_error *err)
{
	char *new_text = NULL, *new_author = NULL, *html = NULL, key[32];
	const char *learned = NULL;
	char learned_buf[8];
	sqlite3_stmt *st;
	int r;

	r = store_begin(c);
	if (r)
		return store_result(r, err);
	st = store_stmt(c, sql_get_admin);
	if (!st) {
		r = -EIO;
		goto out;
	}
	sqlite3_bind_int64(st, 1, id);
	if (sqlite3_step(st) != SQLITE_ROW ||
	    strcmp((const char *)sqlite3_column_text(st, 8), "deleted") == 0) {
		sqlite3_reset(st);
		r = comment_fail(err, 404, "not_found", "Comment %lld does not exist.",
				 (long long)id);
		goto out;
	}
	new_text = strdup(text ? text : (const char *)sqlite3_column_text(st, 5));
	new_author = strdup(author ? author : (const char *)sqlite3_column_text(st, 3));
	sqlite3_reset(st);
	if (!new_text || !new_author) {
		r = -ENOMEM;
		goto out;
	}
	r = comment_check_edit(cfg, new_author, new_text, &html, err);
	if (r)
		goto out;
	st = store_stmt(c, sql_edit);
	if (!st) {
		r = -EIO;
		goto out;
	}
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_text(st, 2, new_text, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, new_author, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, html, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, (sqlite3_int64)time(NULL));
	r = store_result(step_write(c, st, "comment edit"), err);
	if (r)
		goto out;

	/* Relearn under the same label: the features change with the text. */
	snprintf(key, sizeof(key), "comment:%lld", (long long)id);
	st = store_stmt(c, sql_learned_label);
	if (!st) {
		r = -EIO;
		goto out;
	}
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW) {
		snprintf(learned_buf, sizeof(learned_buf), "%s", sqlite3_column_text(st, 0));
		learned = learned_buf;
	}
	sqlite3_reset(st);
	if (learned) {
		static const char sql_drop_features[] =
		    "UPDATE comments SET features = NULL WHERE id = ?1";
		r = classifier_forget(cl, c, key);
		if (r < 0)
			goto out;
		/* The stored features describe the old text. */
		st = store_stmt(c, sql_drop_features);
		if (!st) {
			r = -EIO;
			goto out;
		}
		sqlite3_bind_int64(st, 1, id);
		r = step_write(c, st, "features reset");
		if (r == 0)
			r = learn_comment(c, cl, id,
					  strcmp(learned, "spam") == 0 ? CLASSIFY_LABEL_SPAM
								       : CLASSIFY_LABEL_HAM);
		r = store_result(r, err);
		if (r)
			goto out;
	}
	r = store_result(audit_write(c, actor, "edit", id, learned ? "relearned" : NULL, false),
			 err);
	if (r)
		goto out;
	st = store_stmt(c, sql_get_admin);
	if (!st) {
		r = -EIO;
		goto out;
	}
	sqlite3_bind_int64(st, 1, id);
	if (sqlite3_step(st) == SQLITE_ROW)
		*out = admin_row(st);
	sqlite3_reset(st);
	r = store_result(store_commit(c), err);
	if (r) {
		json_decref(*out);
		*out = NULL;
	}
out:
	store_rollback(c);
	free(new_text);
	free(new_author);
	free(html);
	return r;
}

static const char sql_status_counts[] = "SELECT status, count(*) FROM comments GROUP BY status";
static const char sql_discarded[] = "SELECT coalesce(sum(count), 0) FROM discarded";
static const char sql_decisions[] = "SELECT count(*), coalesce(sum(reversal), 0) FROM audit"
				    " WHERE at >= ?1 AND action IN ('approve', 'spam')";
static const char sql_token_count[] = "SELECT count(*) FROM classifier_tokens";

int moderation_stats(struct store_conn *c, struct classifier *cl,
		     const struct classify_settings *cs, json_t **out)
{
	json_t *counts = json_pack("{s:i, s:i, s:i, s:i}", "published", 0, "pending", 0, "spam", 0,
				   "deleted", 0);
	sqlite3_stmt *st;
	json_int_t discarded = 0, decisions = 0, reversals = 0, tokens = 0;
	uint64_t nspam = 0, nham = 0;
	int r;

	if (!counts)
		return -ENOMEM;
	st = store_stmt(c, sql_status_counts);
	if (!st)
		goto fail;
	while (sqlite3_step(st) == SQLITE_ROW)
		json_object_set_new(counts, (const char *)sqlite3_column_text(st, 0),
				    json_integer(sqlite3_column_int64(st, 1)));
	sqlite3_reset(st);
	st = store_stmt(c, sql_discarded);
	if (!st)
		goto fail;
	if (sqlite3_step(st) == SQLITE_ROW)
		discarded = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	st = store_stmt(c, sql_decisions);
	if (!st)
		goto fail;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)time(NULL) - 30 * 86400);
	if (sqlite3_step(st) == SQLITE_ROW) {
		decisions = sqlite3_column_int64(st, 0);
		reversals = sqlite3_column_int64(st, 1);
	}
	sqlite3_reset(st);
	st = store_stmt(c, sql_token_count);
	if (!st)
		goto fail;
	if (sqlite3_step(st) == SQLITE_ROW)
		tokens = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	r = classifier_counts(cl, c, &nspam, &nham);
	if (r < 0)
		goto fail;
	*out = json_pack("{s:o, s:I, s:{s:I, s:I, s:I, s:f, s:f, s:f, s:i, s:b}, s:I, s:I}",
			 "comments", counts, "discarded", discarded, "classifier", "tokens", tokens,
			 "learned_spam", (json_int_t)nspam, "learned_ham", (json_int_t)nham,
			 "ham_cutoff", cs->ham_cutoff, "spam_cutoff", cs->spam_cutoff,
			 "discard_cutoff", cs->discard_cutoff, "min_learned", (int)cs->min_learned,
			 "cold_start", nspam < cs->min_learned || nham < cs->min_learned,
			 "decisions_30d", decisions, "reversals_30d", reversals);
	return *out ? 0 : -ENOMEM;
fail:
	json_decref(counts);
	return -EIO;
}

/* Normalises an address the way comment_validate does, then hashes it. */
static int email_hash(const struct keys *k, const char *email, unsigned char out[KEYS_HASH_BYTES])
{
	char buf[COMMENT_EMAIL_MAX + 64];
	size_t n = strnlen(email, sizeof(buf));

	if (n >= sizeof(buf) || !text_utf8_valid(email, n, NULL))
		return 1;
	memcpy(buf, email, n + 1);
	text_trim(buf);
	for (char *p = buf; *p; p++) {
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p + 32);
	}
	if (!*buf || !strchr(buf, '@')) {
		sodium_memzero(buf, sizeof(buf));
		return 1;
	}
	keys_hash(k, KEYS_EMAIL, buf, strlen(buf), out);
	sodium_memzero(buf, sizeof(buf));
	return 0;
}

static const char sql_by_email[] =
    "SELECT c.id, t.path, c.parent_id, c.author, c.url, c.text, c.html, c.created, c.status,"
    " c.score, c.verdict, c.tokens, c.email_hash, c.ip"
    " FROM comments c JOIN threads t ON t.id = c.thread_id WHERE c.email_hash = ?1"
    " ORDER BY c.id";

int moderation_export(struct store_conn *c, const struct keys *k, const char *email, json_t **out)
{
	unsigned char hash[KEYS_HASH_BYTES];
	sqlite3_stmt *st;
	json_t *list;

	if (email_hash(k, email, hash) != 0)
		return COMMENT_INVALID;
	st = store_stmt(c, sql_by_email);
	list = json_array();
	if (!st || !list) {
		json_decref(list);
		return -EIO;
	}
	sqlite3_bind_blob(st, 1, hash, sizeof(hash), SQLITE_STATIC);
	while (sqlite3_step(st) == SQLITE_ROW)
		json_array_append_new(list, admin_row(st));
	sqlite3_reset(st);
	*out = json_pack("{s:o}", "comments", list);
	return *out ? 0 : -ENOMEM;
}

static const char sql_ids_by_email[] =
    "SELECT id FROM comments WHERE email_hash = ?1 ORDER BY id DESC";
static const char sql_audit_forget[] =
    "UPDATE audit SET comment_id = NULL, detail = 'erased' WHERE comment_id = ?1";
static const char sql_anonymise[] =
    "UPDATE comments SET author = 'Anonymous', url = NULL, ip = NULL, user_agent = NULL,"
    " referrer = NULL, email_hash = NULL, features = NULL, tokens = NULL, edit_hash = NULL,"
    " avatar = '', modified = ?2 WHERE id = ?1";

int moderation_erase(struct store_conn *c, struct classifier *cl, const struct keys *k,
		     const char *email, bool anonymise, const char *actor, json_t **out)
{
	unsigned char hash[KEYS_HASH_BYTES];
	int64_t *ids = NULL;
	size_t n = 0, cap = 0;
	sqlite3_stmt *st;
	char key[32];
	int r;

	if (email_hash(k, email, hash) != 0)
		return COMMENT_INVALID;
	r = store_begin(c);
	if (r)
		return r > 0 ? COMMENT_UNAVAILABLE : r;
	st = store_stmt(c, sql_ids_by_email);
	if (!st) {
		r = -EIO;
		goto out;
	}
	sqlite3_bind_blob(st, 1, hash, sizeof(hash), SQLITE_STATIC);
	while (sqlite3_step(st) == SQLITE_ROW) {
		if (n == cap) {
			size_t ncap = cap ? cap * 2 : 16;
			int64_t *grown = realloc(ids, ncap * sizeof(*ids));
			if (!grown) {
				sqlite3_reset(st);
				r = -ENOMEM;
				goto out;
			}
			ids = grown;
			cap = ncap;
		}
		ids[n++] = sqlite3_column_int64(st, 0);
	}
	sqlite3_reset(st);
	/* Newest first, so a commenter's replies to their own comments go
	 * before the comments they answer. */
	for (size_t i = 0; i < n; i++) {
		snprintf(key, sizeof(key), "comment:%lld", (long long)ids[i]);
		r = classifier_forget(cl, c, key);
		if (r < 0)
			goto out;
		if (anonymise) {
			st = store_stmt(c, sql_anonymise);
			if (!st) {
				r = -EIO;
				goto out;
			}
			sqlite3_bind_int64(st, 1, ids[i]);
			sqlite3_bind_int64(st, 2, (sqlite3_int64)time(NULL));
			r = step_write(c, st, "anonymise");
		} else {
			r = comment_remove(c, ids[i], (int64_t)time(NULL));
		}
		if (r)
			goto out;
		if (!anonymise) {
			/* The audit log keeps that something was done, not to what. */
			st = store_stmt(c, sql_audit_forget);
			if (!st) {
				r = -EIO;
				goto out;
			}
			sqlite3_bind_int64(st, 1, ids[i]);
			r = step_write(c, st, "erase audit");
			if (r)
				goto out;
		}
	}
	r = audit_write(c, actor, anonymise ? "privacy-anonymise" : "privacy-erase", 0, NULL,
			false);
	if (r)
		goto out;
	r = store_commit(c);
	if (r == 0)
		*out = json_pack("{s:I}", "erased", (json_int_t)n);
out:
	store_rollback(c);
	sodium_memzero(hash, sizeof(hash));
	free(ids);
	return r > 0 ? COMMENT_UNAVAILABLE : r;
}

static const char sql_old_spam[] =
    "DELETE FROM comments WHERE status = 'spam' AND created < ?1"
    " AND NOT EXISTS (SELECT 1 FROM comments r WHERE r.parent_id = comments.id)";
static const char sql_old_ips[] =
    "UPDATE comments SET ip = NULL, user_agent = NULL WHERE created < ?1"
    " AND (ip IS NOT NULL OR user_agent IS NOT NULL)";
static const char sql_bare_tombstones[] =
    "DELETE FROM comments WHERE status = 'deleted'"
    " AND NOT EXISTS (SELECT 1 FROM comments r WHERE r.parent_id = comments.id)";

int moderation_maintain(struct store_conn *c, struct classifier *cl, unsigned spam_days,
			unsigned ip_days, unsigned prune_days, int64_t now,
			struct maintenance_report *rep)
{
	sqlite3_stmt *st;
	unsigned pruned = 0;
	int r;

	memset(rep, 0, sizeof(*rep));
	r = store_begin(c);
	if (r)
		return r;
	st = store_stmt(c, sql_old_spam);
	if (!st) {
		r = -EIO;
		goto out;
	}
	sqlite3_bind_int64(st, 1, now - (int64_t)spam_days * 86400);
	r = step_write(c, st, "spam retention");
	if (r)
		goto out;
	rep->spam_deleted = (unsigned)sqlite3_changes(store_db(c));
	st = store_stmt(c, sql_old_ips);
	if (!st) {
		r = -EIO;
		goto out;
	}
	sqlite3_bind_int64(st, 1, now - (int64_t)ip_days * 86400);
	r = step_write(c, st, "ip retention");
	if (r)
		goto out;
	rep->ips_cleared = (unsigned)sqlite3_changes(store_db(c));
	/* Tombstones whose last reply went (repeat: chains of tombstones). */
	for (int i = 0; i < 64; i++) {
		unsigned changed;
		st = store_stmt(c, sql_bare_tombstones);
		if (!st) {
			r = -EIO;
			goto out;
		}
		r = step_write(c, st, "tombstones");
		if (r)
			goto out;
		changed = (unsigned)sqlite3_changes(store_db(c));
		rep->tombstones_purged += changed;
		if (!changed)
			break;
	}
	r = classifier_prune(cl, c, now - (int64_t)prune_days * 86400, &pruned);
	if (r)
		goto out;
	rep->tokens_pruned = pruned;
	r = store_commit(c);
out:
	store_rollback(c);
	return r;
}
