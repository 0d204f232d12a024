#include "moderation.h"

#include "admin.h"
#include "config.h"
#include "cutoffs.h"
#include "explain.h"
#include "log.h"
#include "net.h"
#include "outbox.h"
#include "render.h"
#include "search.h"
#include "subscribe.h"
#include "text.h"
#include "timefmt.h"

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

/* The columns of the admin form of a comment, read by admin_row(); every
 * query that lists comments for moderators selects exactly these. */
#define ADMIN_SELECT                                                                               \
	"SELECT c.id, t.path, c.parent_id, c.author, c.url, c.text, c.html, c.created, c.status,"  \
	" c.score, c.verdict, c.tokens, c.email_hash, c.ip_sealed, c.reasons, c.user_agent,"       \
	" c.referrer, c.email_domain_sealed, t.title, t.url, c.moderator, p.author,"               \
	" substr(p.text, 1, 161), p.status = 'deleted', t.site"
#define ADMIN_JOINS                                                                                \
	" JOIN threads t ON t.id = c.thread_id LEFT JOIN comments p ON p.id = c.parent_id"
#define ADMIN_COLUMNS ADMIN_SELECT " FROM comments c" ADMIN_JOINS

/* A reply's parent is shown as an excerpt of this many characters (one
 * more is read, to tell a cut text). */
#define EXCERPT_CHARS 160

/* The filters of a listing besides the status: ?2 thread, ?3 LIKE
 * pattern, ?4 before this id, ?5 limit, ?6 scope.  like is SQLite's LIKE
 * (ASCII case ignored, every other character compared as it is) or, with
 * the same meaning, PG_LIKE: PostgreSQL's LIKE minds case, and its ILIKE
 * on the database's collation folds non-ASCII letters too (É finds é);
 * under COLLATE "C" ILIKE folds ASCII only, as SQLite does, and the
 * pg_trgm indexes (schema/pg/0003) are built on that collation so that
 * the planner can use them.  Each statement is a pair (store_sql). */
#define PG_LIKE "COLLATE \"C\" ILIKE"
#define MATCH_FILTERS(like)                                                                        \
	" AND (CAST(?2 AS TEXT) IS NULL OR t.path = ?2)"                                           \
	" AND (CAST(?3 AS TEXT) IS NULL OR c.text " like " ?3 ESCAPE '\\' OR c.author " like       \
	" ?3 ESCAPE '\\')"                                                                         \
	" AND (CAST(?6 AS TEXT) IS NULL OR t.site IN (SELECT value FROM json_each(?6)))"
#define LIST_FILTERS(like)                                                                         \
	MATCH_FILTERS(like) " AND (?4 = 0 OR c.id < ?4) ORDER BY c.id DESC LIMIT ?5"

/* Every status (?1 unbound): the newest comments first, walking the
 * table backwards. */
#define LIST(like) ADMIN_COLUMNS " WHERE CAST(?1 AS TEXT) IS NULL" LIST_FILTERS(like)
static const struct store_sql sql_list = {LIST("LIKE"), LIST(PG_LIKE)};

/* One status (the moderation queue, the spam folder): walks the
 * comments_status index backwards, not the whole table (a queue of a
 * few dozen among a million comments took 100 ms and more). */
#define LIST_STATUS(like) ADMIN_COLUMNS " WHERE c.status = ?1" LIST_FILTERS(like)
static const struct store_sql sql_list_status = {LIST_STATUS("LIKE"), LIST_STATUS(PG_LIKE)};

/* A search of three characters or more (lib/search.h), first the tail:
 * the comments newer than the index (?8: the highest id indexed), by
 * LIKE, walking back from the newest. */
#define SEARCH_TAIL(like)                                                                          \
	ADMIN_COLUMNS                                                                              \
	" WHERE c.id > ?8 AND (CAST(?1 AS TEXT) IS NULL OR c.status = ?1)" LIST_FILTERS(like)
static const struct store_sql sql_search_tail = {SEARCH_TAIL("LIKE"), SEARCH_TAIL(PG_LIKE)};

/* Then the index's candidates, newest first (lib/search.h: search_each),
 * each read by its id (?9) and kept when the LIKE of MATCH_FILTERS holds,
 * until the limit. */
#define SEARCH_ROW(like)                                                                           \
	ADMIN_COLUMNS                                                                              \
	" WHERE c.id = ?9 AND (CAST(?1 AS TEXT) IS NULL OR c.status = ?1)" MATCH_FILTERS(like)
static const struct store_sql sql_search_row = {SEARCH_ROW("LIKE"), SEARCH_ROW(PG_LIKE)};

static json_t *column_text_or_null(struct store_stmt *st, int col)
{
	if (store_col_type(st, col) == STORE_NULL)
		return json_null();
	return json_string(store_col_text(st, col));
}

/* The excerpt of a reply's parent: {"id", "author", "text", "deleted"},
 * the text cut after EXCERPT_CHARS characters with an ellipsis. */
static json_t *parent_excerpt(struct store_stmt *st)
{
	const char *text = store_col_text(st, 22);
	char cut[4 * EXCERPT_CHARS + 4];
	size_t len = 0, chars = 0;

	if (store_col_type(st, 2) == STORE_NULL)
		return json_null();
	for (; text && text[len] && chars < EXCERPT_CHARS; chars++) {
		len++;
		while (((unsigned char)text[len] & 0xc0) == 0x80)
			len++;
	}
	memcpy(cut, text ? text : "", len);
	snprintf(cut + len, sizeof(cut) - len, "%s", text && text[len] ? "\xe2\x80\xa6" : "");
	return json_pack("{s:I, s:s, s:s, s:b}", "id", (json_int_t)store_col_int64(st, 2), "author",
			 store_col_text(st, 21) ? store_col_text(st, 21) : "", "text", cut,
			 "deleted", store_col_int(st, 23));
}

/* What the admin form adds to a comment for context: the article, the
 * parent's excerpt, the moderator who wrote it.  0 or -ENOMEM. */
static int admin_context(struct store_stmt *st, json_t *row)
{
	bool by_moderator = store_col_type(st, 20) != STORE_NULL;
	int e = 0;

	e |= json_object_set_new(row, "page_title", column_text_or_null(st, 18));
	e |= json_object_set_new(row, "page_url", column_text_or_null(st, 19));
	e |= json_object_set_new(row, "parent_excerpt", parent_excerpt(st));
	e |= json_object_set_new(row, "moderator", column_text_or_null(st, 20));
	e |= json_object_set_new(row, "author_badge", json_boolean(by_moderator));
	return e ? -ENOMEM : 0;
}

/* The stored JSON of a column (NULL or unreadable: an empty array). */
static json_t *column_json_array(struct store_stmt *st, int col)
{
	json_t *j = NULL;

	if (store_col_type(st, col) != STORE_NULL)
		j = json_loads(store_col_text(st, col), 0, NULL);
	if (!json_is_array(j)) {
		json_decref(j);
		j = json_array();
	}
	return j;
}

/* The admin form of the current row of a statement shaped like sql_list:
 * the client's network prefix only, opened from the sealed address. */
static json_t *admin_row(struct store_stmt *st, const struct keys *k)
{
	char created[21], hash_hex[13] = "", prefix[NET_IP_MAX + 4] = "";
	const unsigned char *hash = store_col_blob(st, 12);
	json_t *tokens = column_json_array(st, 11), *reasons = column_json_array(st, 14), *row;
	char *ip = comment_unseal_column(st, 13, k);
	struct net_addr addr;

	timefmt_rfc3339(store_col_int64(st, 7), created);
	if (hash && store_col_bytes(st, 12) >= 6)
		sodium_bin2hex(hash_hex, sizeof(hash_hex), hash, 6);
	if (ip && net_parse_ip(ip, &addr) == 0)
		net_format_prefix(&addr, prefix);
	free(ip);
	/* Readable kinds; an e-mail domain or network is never shown. */
	if (explain_annotate(tokens) != 0) {
		json_decref(tokens);
		json_decref(reasons);
		return NULL;
	}
	row = json_pack(
	    "{s:I, s:s, s:o, s:s, s:o, s:s, s:s, s:s, s:s, s:o, s:o, s:o, s:o, s:o, s:o}", "id",
	    (json_int_t)store_col_int64(st, 0), "thread", store_col_text(st, 1), "parent",
	    store_col_type(st, 2) == STORE_NULL ? json_null()
						: json_integer(store_col_int64(st, 2)),
	    "author", store_col_text(st, 3), "url", column_text_or_null(st, 4), "text",
	    store_col_text(st, 5), "html", store_col_text(st, 6), "created", created, "status",
	    store_col_text(st, 8), "score",
	    store_col_type(st, 9) == STORE_NULL ? json_null() : json_real(store_col_double(st, 9)),
	    "verdict", column_text_or_null(st, 10), "tokens", tokens, "email_hash",
	    hash_hex[0] ? json_string(hash_hex) : json_null(), "ip_prefix",
	    prefix[0] ? json_string(prefix) : json_null(), "reasons", reasons);
	if (row && (admin_context(st, row) != 0 ||
		    json_object_set_new(row, "site", json_string(store_col_text(st, 24))) != 0)) {
		json_decref(row);
		return NULL;
	}
	return row;
}

/* The LIKE pattern of a plain substring q (its wildcards escaped). */
static void like_pattern(const char *q, char *like, size_t size)
{
	size_t o = 0;

	like[o++] = '%';
	for (const char *p = q; *p && o < size - 3; p++) {
		if (*p == '%' || *p == '_' || *p == '\\')
			like[o++] = '\\';
		like[o++] = *p;
	}
	like[o++] = '%';
	like[o] = '\0';
}

/* A listing under way: its query, LIKE pattern, rows and the last id. */
struct listing {
	const struct moderation_query *q;
	const struct keys *k;
	const char *like;
	unsigned limit;
	json_t *list;
	unsigned n;
	int64_t last;
	struct store_conn *conn; /* a search: the candidates' statement */
	struct store_stmt *row;
};

/* Binds the query's ?1..?6 (the limit: what is still missing) and runs st,
 * appending its rows.  0 or negative. */
static int listing_run(struct store_conn *c, struct listing *l, struct store_stmt *st)
{
	const struct moderation_query *q = l->q;
	int rc;

	if (q->status)
		store_bind_text(st, 1, q->status);
	if (q->thread)
		store_bind_text(st, 2, q->thread);
	if (l->like)
		store_bind_text(st, 3, l->like);
	store_bind_int64(st, 4, q->before);
	store_bind_int64(st, 5, l->limit - l->n);
	if (q->scope)
		store_bind_text(st, 6, q->scope);
	while ((rc = store_row(c, st)) == 1) {
		json_t *row = admin_row(st, l->k);
		if (!row || json_array_append_new(l->list, row) != 0) {
			store_reset(st);
			return -ENOMEM;
		}
		l->last = store_col_int64(st, 0);
		l->n++;
	}
	store_reset(st);
	return rc;
}

/* One candidate of the index (search_each): kept when it matches; 1
 * stops the walk at the limit. */
static int search_candidate(int64_t id, void *arg)
{
	struct listing *l = arg;
	struct store_stmt *st = l->row;
	int r;

	store_bind_int64(st, 9, id);
	r = listing_run(l->conn, l, st);
	if (r < 0)
		return r;
	return l->n >= l->limit;
}

/* A search through the index: the tail by LIKE, then the index's
 * candidates newest first until the limit.  On PostgreSQL the tail is the
 * whole table (lib/search keeps no index there: upto stays 0) and its
 * statement is prepared for this one search: planned with the pattern in
 * view, the planner takes the pg_trgm indexes for a rare string and walks
 * the newest ids for a common one, where a cached statement would come to
 * a generic plan, one for every pattern (bench/pg_search.py). */
static int search_listing(struct store_conn *c, struct listing *l, const char *match)
{
	struct store_stmt *own = store_postgresql(c) ? store_stmt_new(c, sql_search_tail.pg) : NULL;
	struct store_stmt *st = own ? own : store_stmt_pick(c, &sql_search_tail);
	int64_t upto = 0;
	int r = st ? search_indexed_upto(c, &upto) : -EIO;

	if (r == 0) {
		store_bind_int64(st, 8, upto);
		r = listing_run(c, l, st);
	}
	store_stmt_free(own);
	if (r != 0 || l->n >= l->limit)
		return r;
	l->conn = c;
	l->row = store_stmt_pick(c, &sql_search_row);
	if (!l->row)
		return -EIO;
	r = search_each(c, match, upto, l->q->before, search_candidate, l);
	return r < 0 ? r : 0;
}

int moderation_list(struct store_conn *c, const struct keys *k, const struct moderation_query *q,
		    json_t **out)
{
	char like[2 * MODERATION_QUERY_MAX + 3], match[SEARCH_EXPR_MAX];
	bool has_q = q->q && *q->q;
	bool search = has_q && strlen(q->q) <= MODERATION_QUERY_MAX &&
		      search_expression(q->q, match, sizeof(match)) == 0;
	struct listing l = {.q = q, .k = k, .limit = q->limit ? q->limit : 50};
	int r;

	if (has_q) {
		like_pattern(q->q, like, sizeof(like));
		l.like = like;
	}
	l.list = json_array();
	if (!l.list)
		return -ENOMEM;
	if (search) {
		r = search_listing(c, &l, match);
	} else {
		struct store_stmt *st =
		    store_stmt_pick(c, q->status ? &sql_list_status : &sql_list);
		r = st ? listing_run(c, &l, st) : -EIO;
	}
	if (r < 0) {
		json_decref(l.list);
		return r;
	}
	*out = json_pack("{s:o, s:o}", "comments", l.list, "next",
			 (q->limit && l.n == q->limit) ? json_integer(l.last) : json_null());
	return *out ? 0 : -ENOMEM;
}

/* ?2: the scope (NULL: every site). */
static const char sql_get[] =
    "SELECT c.status, c.auto_status, c.features, c.text, c.author, c.url, c.ip,"
    " c.user_agent, c.referrer, t.path,"
    " EXISTS (SELECT 1 FROM comments r WHERE r.parent_id = c.id), t.site"
    " FROM comments c JOIN threads t ON t.id = c.thread_id WHERE c.id = ?1"
    " AND (CAST(?2 AS TEXT) IS NULL OR t.site IN (SELECT value FROM json_each(?2)))";
static const char sql_set_status[] = "UPDATE comments SET status = ?2, modified = ?3 WHERE id = ?1";
struct row {
	char status[16];
	char auto_status[16];
	char site[CONFIG_SITE_ID_MAX + 1];
	bool has_replies;
};

/* Teaches the classifier what the comment is, from the features it was
 * scored on (or, for comments stored without them, from its fields), for
 * the comment's site: its moderators decide what is spam for it. */
static int learn_comment(struct store_conn *c, struct classifier *cl, int64_t id,
			 enum classify_label label)
{
	struct store_stmt *st = store_stmt(c, sql_get);
	char key[32];
	int r;

	if (!st)
		return -EIO;
	snprintf(key, sizeof(key), "comment:%lld", (long long)id);
	store_bind_int64(st, 1, id);
	r = store_row(c, st);
	if (r <= 0) {
		store_reset(st);
		return r < 0 ? r : -EIO;
	}
	if (store_col_type(st, 2) == STORE_BLOB) {
		r = classifier_learn_features(cl, c, key, store_col_text(st, 11),
					      store_col_blob(st, 2), store_col_bytes(st, 2), label);
	} else {
		struct classify_input in = {
		    .text = store_col_text(st, 3),
		    .author = store_col_text(st, 4),
		    .url = store_col_text(st, 5),
		    .ip = store_col_text(st, 6),
		    .user_agent = store_col_text(st, 7),
		    .referrer = store_col_text(st, 8),
		    .thread = store_col_text(st, 9),
		    .render_seconds = -1,
		    .site = store_col_text(st, 11),
		};
		r = classifier_learn(cl, c, key, &in, label);
	}
	store_reset(st);
	return r == CLASSIFY_ALREADY ? 0 : r;
}

/* Comment id, when it is on a site in scope.  1, 0 (none), negative. */
static int get_row(struct store_conn *c, const char *scope, int64_t id, struct row *row)
{
	struct store_stmt *st = store_stmt(c, sql_get);
	int found;

	if (!st)
		return -EIO;
	store_bind_int64(st, 1, id);
	if (scope)
		store_bind_text(st, 2, scope);
	found = store_row(c, st);
	if (found == 1) {
		snprintf(row->status, sizeof(row->status), "%s", store_col_text(st, 0));
		snprintf(row->auto_status, sizeof(row->auto_status), "%s",
			 store_col_type(st, 1) == STORE_NULL ? "" : store_col_text(st, 1));
		row->has_replies = store_col_int(st, 10) != 0;
		snprintf(row->site, sizeof(row->site), "%s", store_col_text(st, 11));
	}
	store_reset(st);
	return found;
}

/* One action inside an open transaction. */
static int act_locked(struct store_conn *c, struct classifier *cl, const char *scope,
		      const char *actor, enum moderation_action action, int64_t id,
		      struct comment_error *err)
{
	struct row row;
	struct store_stmt *st;
	bool reversal = false;
	const char *status = NULL;
	char detail[64];
	int r;

	r = get_row(c, scope, id, &row);
	if (r < 0)
		return r;
	/* Another site's comment answers exactly like a missing one. */
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
		return comment_store_result(r, err);
	if (status) {
		st = store_stmt(c, sql_set_status);
		if (!st)
			return -EIO;
		store_bind_int64(st, 1, id);
		store_bind_text(st, 2, status);
		store_bind_int64(st, 3, (int64_t)time(NULL));
		r = store_run(c, st, "comment status");
		/* A held comment published: tell whoever waits for it. */
		if (r == 0 && action == MODERATION_APPROVE && strcmp(row.status, "published") != 0)
			r = outbox_add(c, OUTBOX_APPROVED, row.site, id, 0, (int64_t)time(NULL));
		if (r)
			return comment_store_result(r, err);
	}
	snprintf(detail, sizeof(detail), "%s -> %s", row.status,
		 status ? status : (row.has_replies ? "tombstone" : "removed"));
	return comment_store_result(
	    audit_write(c, row.site, actor, action_names[action], id, detail, reversal), err);
}

int moderation_act(struct store_conn *c, struct classifier *cl, const char *scope,
		   const char *actor, enum moderation_action action, int64_t id,
		   struct comment_error *err)
{
	return moderation_bulk(c, cl, scope, actor, action, &id, 1, err);
}

int moderation_bulk(struct store_conn *c, struct classifier *cl, const char *scope,
		    const char *actor, enum moderation_action action, const int64_t *ids, size_t n,
		    struct comment_error *err)
{
	int r;

	if (n > MODERATION_BULK_MAX)
		return comment_fail(err, 422, "too_many_ids", "Act on at most %d comments at once.",
				    MODERATION_BULK_MAX);
	/* All or nothing: any failure below rolls every action back. */
	r = store_begin_whole(c);
	if (r)
		return comment_store_result(r, err);
	for (size_t i = 0; i < n; i++) {
		r = act_locked(c, cl, scope, actor, action, ids[i], err);
		if (r)
			goto out;
	}
	r = comment_store_result(store_commit(c), err);
out:
	store_rollback(c);
	return r;
}

int moderation_comment_site(struct store_conn *c, const char *scope, int64_t id,
			    char site[CONFIG_SITE_ID_MAX + 1])
{
	struct row row;
	int r = get_row(c, scope, id, &row);

	if (r == 1)
		snprintf(site, CONFIG_SITE_ID_MAX + 1, "%s", row.site);
	return r;
}

static const char sql_get_admin[] = ADMIN_COLUMNS " WHERE c.id = ?1";
static const char sql_learned_label[] = "SELECT label FROM classifier_learned WHERE msg_key = ?1";
static const char sql_drop_features[] = "UPDATE comments SET features = NULL WHERE id = ?1";

/* After an edit: relearn under the label the classifier had, since the
 * features change with the text.  *relearned says whether it had one. */
static int relearn(struct store_conn *c, struct classifier *cl, int64_t id, bool *relearned)
{
	struct store_stmt *st = store_stmt(c, sql_learned_label);
	enum classify_label label = CLASSIFY_LABEL_HAM;
	char key[32];
	int r;

	*relearned = false;
	if (!st)
		return -EIO;
	snprintf(key, sizeof(key), "comment:%lld", (long long)id);
	store_bind_text(st, 1, key);
	r = store_row(c, st);
	if (r == 1 && strcmp(store_col_text(st, 0), "spam") == 0)
		label = CLASSIFY_LABEL_SPAM;
	store_reset(st);
	if (r <= 0)
		return r;
	*relearned = true;
	r = classifier_forget(cl, c, key);
	if (r < 0)
		return r;
	/* The stored features describe the old text. */
	st = store_stmt(c, sql_drop_features);
	if (!st)
		return -EIO;
	store_bind_int64(st, 1, id);
	r = store_run(c, st, "features reset");
	return r ? r : learn_comment(c, cl, id, label);
}

/* The admin form of comment id into *out.  0 or negative. */
static int admin_get(struct store_conn *c, const struct keys *k, int64_t id, json_t **out)
{
	struct store_stmt *st = store_stmt(c, sql_get_admin);
	int r;

	if (!st)
		return -EIO;
	store_bind_int64(st, 1, id);
	r = store_row(c, st);
	if (r == 1)
		*out = admin_row(st, k);
	store_reset(st);
	if (r == 0)
		return -EIO;
	return r < 0 ? r : (*out ? 0 : -ENOMEM);
}

/* The edit inside the caller's transaction. */
static int edit_locked(struct store_conn *c, struct classifier *cl, const struct config *cfg,
		       const char *scope, const char *actor, int64_t id,
		       const struct comment_change *ch, struct comment_error *err)
{
	struct comment_input in = {0};
	struct comment_row row = {0};
	bool relearned = false;
	char *html = NULL;
	int r;

	r = comment_load(c, NULL, id, &row);
	if (r == 0 ||
	    (r == 1 && (row.status == COMMENT_DELETED || !admin_scope_has(scope, row.site))))
		r = comment_fail(err, 404, "not_found", "Comment %lld does not exist.",
				 (long long)id);
	else if (r == 1)
		r = comment_merge_change(cfg, &row, ch, &in, &html, err);
	if (r == 0)
		r = comment_store_result(
		    comment_update(c, id, &in, html, NULL, (int64_t)time(NULL)), err);
	if (r == 0)
		r = comment_store_result(relearn(c, cl, id, &relearned), err);
	if (r == 0)
		r = comment_store_result(audit_write(c, row.site, actor, "edit", id,
						     relearned ? "relearned" : NULL, false),
					 err);
	free(in.thread);
	free(in.author);
	free(in.url);
	free(in.text);
	free(html);
	comment_row_clear(&row);
	return r;
}

int moderation_edit(struct store_conn *c, struct classifier *cl, const struct config *cfg,
		    const struct keys *k, const char *scope, const char *actor, int64_t id,
		    const struct comment_change *ch, json_t **out, struct comment_error *err)
{
	int r;

	r = comment_store_result(store_begin(c), err);
	if (r)
		return r;
	r = edit_locked(c, cl, cfg, scope, actor, id, ch, err);
	if (r == 0)
		r = admin_get(c, k, id, out);
	if (r == 0) {
		r = comment_store_result(store_commit(c), err);
		if (r) {
			json_decref(*out);
			*out = NULL;
		}
	}
	store_rollback(c);
	return r;
}

/* ?1: the start of the 30 days; ?2: the scope.  The status counts and
 * the totals in one statement (one round trip on PostgreSQL:
 * docs/performance.md, "The admin queue's and stats' statements"), rows of
 * two shapes: a status and its count (status_counts is kept by triggers on
 * comments, schema 0015: a few rows instead of every comment), and one row
 * without a status holding the totals. */
static const char sql_counts_totals[] =
    "SELECT status, sum(n), 0, 0, 0 FROM status_counts"
    " WHERE CAST(?2 AS TEXT) IS NULL OR site IN (SELECT value FROM json_each(?2)) GROUP BY status"
    " UNION ALL SELECT NULL,"
    " (SELECT coalesce(sum(count), 0) FROM discarded"
    "  WHERE CAST(?2 AS TEXT) IS NULL OR site IN (SELECT value FROM json_each(?2))),"
    " (SELECT count(*) FROM classifier_tokens),"
    " (SELECT count(*) FROM audit WHERE at >= ?1 AND action IN ('approve', 'spam')"
    "  AND (CAST(?2 AS TEXT) IS NULL OR site IN (SELECT value FROM json_each(?2)))),"
    " (SELECT coalesce(sum(reversal), 0) FROM audit"
    "  WHERE at >= ?1 AND action IN ('approve', 'spam')"
    "  AND (CAST(?2 AS TEXT) IS NULL OR site IN (SELECT value FROM json_each(?2))))";

struct totals {
	json_int_t discarded, tokens, decisions, reversals;
};

/* One row of sql_counts_totals: a status's count into counts, or the
 * totals into *t (*seen set).  0 or -ENOMEM. */
static int count_or_totals(struct store_stmt *st, json_t *counts, struct totals *t, bool *seen)
{
	if (store_col_type(st, 0) != STORE_NULL)
		return json_object_set_new(counts, store_col_text(st, 0),
					   json_integer(store_col_int64(st, 1)))
			   ? -ENOMEM
			   : 0;
	t->discarded = store_col_int64(st, 1);
	t->tokens = store_col_int64(st, 2);
	t->decisions = store_col_int64(st, 3);
	t->reversals = store_col_int64(st, 4);
	*seen = true;
	return 0;
}

/* The status counts of scope into counts and its totals since since into
 * *t.  0 or negative. */
static int counts_totals(struct store_conn *c, const char *scope, int64_t since, json_t *counts,
			 struct totals *t)
{
	struct store_stmt *st = store_stmt(c, sql_counts_totals);
	bool seen = false;
	int r;

	if (!st)
		return -EIO;
	store_bind_int64(st, 1, since);
	if (scope)
		store_bind_text(st, 2, scope);
	while ((r = store_row(c, st)) == 1 && (r = count_or_totals(st, counts, t, &seen)) == 0)
		;
	store_reset(st);
	return r < 0 ? r : seen ? 0 : -EIO;
}

/* Which model decides now: the starter alone (nothing learned yet), the
 * starter with the site's learning layered on top, or the site's alone. */
static const char *stats_model(const struct classify_starter_info *st, uint64_t nspam,
			       uint64_t nham)
{
	if (!st->on)
		return "site";
	return nspam + nham == 0 ? "starter" : "starter+site";
}

/* The cut-offs that decide for site (NULL: a scope of several sites, each
 * with its own: the configured ones are reported) and whether they were
 * learned (lib/cutoffs.h), as members of cls.  0 or negative. */
static int stats_cutoffs(struct store_conn *c, const struct classify_settings *cs, const char *site,
			 json_t *cls)
{
	struct cutoffs co = {cs->ham_cutoff, cs->spam_cutoff, false, 0, 0};
	struct cutoffs_rule rule;
	const char *how = cs->learn_cutoffs ? "configured" : "off";
	int r = 0, e = 0;

	if (site && cs->learn_cutoffs) {
		cutoffs_rule_default(&rule, cs->ham_cutoff, cs->spam_cutoff);
		r = cutoffs_for_site(c, site, &rule, &co);
		if (r < 0)
			return r;
		how = co.learned ? "learned" : "configured";
	}
	e |= json_object_set_new(cls, "ham_cutoff", json_real(co.ham_cutoff));
	e |= json_object_set_new(cls, "spam_cutoff", json_real(co.spam_cutoff));
	e |= json_object_set_new(cls, "configured_ham_cutoff", json_real(cs->ham_cutoff));
	e |= json_object_set_new(cls, "configured_spam_cutoff", json_real(cs->spam_cutoff));
	e |= json_object_set_new(cls, "cutoffs", json_string(how));
	e |= json_object_set_new(
	    cls, "cutoffs_decided",
	    json_pack("{s:i, s:i}", "spam", (int)co.nspam, "ham", (int)co.nham));
	return e ? -ENOMEM : 0;
}

int moderation_stats(struct store_conn *c, struct classifier *cl,
		     const struct classify_settings *cs, const char *scope,
		     const char *cutoffs_site, json_t **out)
{
	struct classify_starter_info starter;
	json_t *counts = json_pack("{s:i, s:i, s:i, s:i}", "published", 0, "pending", 0, "spam", 0,
				   "deleted", 0);
	char site[CONFIG_SITE_ID_MAX + 1];
	struct classify_learned l = {0};
	struct totals t = {0};
	int r;

	if (!counts)
		return -ENOMEM;
	r = counts_totals(c, scope, (int64_t)time(NULL) - 30 * 86400, counts, &t);
	/* One site: what it learned itself, and with the other sites' worth
	 * (what its cold start counts); else the shared model's. */
	if (r == 0)
		r = classifier_learned(cl, c, admin_scope_one(scope, site) ? site : NULL, &l);
	if (r < 0) {
		json_decref(counts);
		return r;
	}
	classifier_starter_info(cl, &starter);
	*out = json_pack(
	    "{s:o, s:I, s:{s:I, s:I, s:I, s:I, s:I, s:f, s:f, s:f, s:i, s:b, s:s, s:b, s:I}, s:I, "
	    "s:I}",
	    "comments", counts, "discarded", t.discarded, "classifier", "tokens", t.tokens,
	    "learned_spam", (json_int_t)l.learned_spam, "learned_ham", (json_int_t)l.learned_ham,
	    "own_spam", (json_int_t)l.own_spam, "own_ham", (json_int_t)l.own_ham, "ham_cutoff",
	    cs->ham_cutoff, "spam_cutoff", cs->spam_cutoff, "discard_cutoff", cs->discard_cutoff,
	    "min_learned", (int)cs->min_learned, "cold_start",
	    l.learned_spam < cs->min_learned || l.learned_ham < cs->min_learned, "model",
	    stats_model(&starter, l.learned_spam, l.learned_ham), "starter_model", starter.on,
	    "starter_tokens", (json_int_t)starter.tokens, "decisions_30d", t.decisions,
	    "reversals_30d", t.reversals);
	if (!*out)
		return -ENOMEM;
	r = stats_cutoffs(c, cs, cutoffs_site, json_object_get(*out, "classifier"));
	if (r < 0) {
		json_decref(*out);
		*out = NULL;
	}
	return r;
}

/* ?3: the scope.  The three tallies of the days ?1..?2 in one statement
 * (one round trip on PostgreSQL: docs/performance.md, "The admin queue's
 * and stats' statements on PostgreSQL"), each row: its kind (enum
 * tally_kind), the day, the status (decided only), the count, the
 * reversals (audit only). */
#define IN_SCOPE_SITE " AND (CAST(?3 AS TEXT) IS NULL OR site IN (SELECT value FROM json_each(?3)))"
static const char sql_daily[] =
    "SELECT 0, day, status, sum(count), 0 FROM decided_daily WHERE day BETWEEN ?1 AND "
    "?2" IN_SCOPE_SITE " GROUP BY day, status"
    " UNION ALL SELECT 1, day, NULL, sum(count), 0 FROM discarded WHERE day BETWEEN ?1 AND "
    "?2" IN_SCOPE_SITE " GROUP BY day"
    " UNION ALL SELECT 2, at / 86400, NULL, count(*), coalesce(sum(reversal), 0) FROM audit"
    " WHERE at >= ?1 * 86400 AND at < (?2 + 1) * 86400 AND action IN ('approve', "
    "'spam')" IN_SCOPE_SITE " GROUP BY at / 86400";

struct day_tally {
	int64_t published, held, spam, discarded, decisions, reversals;
};

/* What a row of sql_daily counts. */
enum tally_kind {
	TALLY_DECIDED,	 /* status, count */
	TALLY_DISCARDED, /* count */
	TALLY_AUDIT,	 /* decisions, reversals */
};

static void tally_row(struct store_stmt *st, struct day_tally *d)
{
	enum tally_kind kind = (enum tally_kind)store_col_int(st, 0);
	const char *status;

	if (kind == TALLY_DISCARDED) {
		d->discarded += store_col_int64(st, 3);
		return;
	}
	if (kind == TALLY_AUDIT) {
		d->decisions += store_col_int64(st, 3);
		d->reversals += store_col_int64(st, 4);
		return;
	}
	status = store_col_text(st, 2);
	if (strcmp(status, "published") == 0)
		d->published += store_col_int64(st, 3);
	else if (strcmp(status, "pending") == 0)
		d->held += store_col_int64(st, 3);
	else
		d->spam += store_col_int64(st, 3);
}

/* Adds the tallies over scope for days first..last to t.  0 or negative. */
static int tally(struct store_conn *c, const char *scope, int64_t first, int64_t last,
		 struct day_tally *t)
{
	struct store_stmt *st = store_stmt(c, sql_daily);
	int r;

	if (!st)
		return -EIO;
	store_bind_int64(st, 1, first);
	store_bind_int64(st, 2, last);
	if (scope)
		store_bind_text(st, 3, scope);
	while ((r = store_row(c, st)) == 1) {
		int64_t day = store_col_int64(st, 1);

		if (day >= first && day <= last)
			tally_row(st, &t[day - first]);
	}
	store_reset(st);
	return r;
}

static json_t *agreement(int64_t decisions, int64_t reversals)
{
	return decisions ? json_real(1.0 - (double)reversals / (double)decisions) : json_null();
}

static json_t *day_json(int64_t day, const struct day_tally *d)
{
	char date[TIMEFMT_RFC3339];

	timefmt_rfc3339(day * 86400, date);
	date[10] = '\0';
	return json_pack("{s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:o}", "date", date, "published",
			 (json_int_t)d->published, "held", (json_int_t)d->held, "spam",
			 (json_int_t)d->spam, "discarded", (json_int_t)d->discarded, "decisions",
			 (json_int_t)d->decisions, "reversals", (json_int_t)d->reversals,
			 "agreement", agreement(d->decisions, d->reversals));
}

int moderation_series(struct store_conn *c, const char *scope, unsigned days, int64_t now,
		      json_t **out)
{
	struct day_tally t[MODERATION_DAYS_MAX] = {0};
	int64_t last = now / 86400, first, decisions = 0, reversals = 0;
	json_t *series;
	int r;

	if (days < 1 || days > MODERATION_DAYS_MAX)
		return -EINVAL;
	first = last - days + 1;
	r = tally(c, scope, first, last, t);
	if (r < 0)
		return r;
	series = json_array();
	for (unsigned i = 0; series && i < days; i++) {
		decisions += t[i].decisions;
		reversals += t[i].reversals;
		if (json_array_append_new(series, day_json(first + i, &t[i])) != 0) {
			json_decref(series);
			series = NULL;
		}
	}
	if (!series)
		return -ENOMEM;
	*out = json_pack("{s:i, s:o, s:o}", "days", (int)days, "series", series, "agreement",
			 agreement(decisions, reversals));
	return *out ? 0 : -ENOMEM;
}

static const char sql_by_email[] = ADMIN_COLUMNS
    " WHERE c.email_hash = ?1"
    " AND (CAST(?2 AS TEXT) IS NULL OR t.site IN (SELECT value FROM json_each(?2))) ORDER BY c.id";

static json_t *text_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

/* An exported comment: the admin form and what else is held about its
 * writer while it is kept: the client address, user agent, referrer (its
 * host) and, for the edit window, the e-mail domain. */
static json_t *export_row(struct store_stmt *st, const struct keys *k)
{
	json_t *row = admin_row(st, k);
	char *ip = comment_unseal_column(st, 13, k), *domain = comment_unseal_column(st, 17, k);

	if (row && (json_object_set_new(row, "ip", text_or_null(ip)) != 0 ||
		    json_object_set_new(row, "user_agent", column_text_or_null(st, 15)) != 0 ||
		    json_object_set_new(row, "referrer", column_text_or_null(st, 16)) != 0 ||
		    json_object_set_new(row, "email_domain", text_or_null(domain)) != 0)) {
		json_decref(row);
		row = NULL;
	}
	free(ip);
	free(domain);
	return row;
}

int moderation_export(struct store_conn *c, const struct keys *k, const char *scope,
		      const char *email, json_t **out)
{
	unsigned char hash[KEYS_HASH_BYTES];
	struct store_stmt *st;
	json_t *list;
	int r;

	if (comment_email_hash(k, email, hash) != 0)
		return COMMENT_INVALID;
	st = store_stmt(c, sql_by_email);
	list = json_array();
	if (!st || !list) {
		json_decref(list);
		return -EIO;
	}
	store_bind_blob(st, 1, hash, sizeof(hash));
	if (scope)
		store_bind_text(st, 2, scope);
	while ((r = store_row(c, st)) == 1) {
		if (json_array_append_new(list, export_row(st, k)) != 0) {
			r = -ENOMEM;
			break;
		}
	}
	store_reset(st);
	if (r < 0) {
		json_decref(list);
		return r;
	}
	*out = json_pack("{s:o}", "comments", list);
	return *out ? 0 : -ENOMEM;
}

static const char sql_ids_by_email[] =
    "SELECT c.id FROM comments c JOIN threads t ON t.id = c.thread_id WHERE c.email_hash = ?1"
    " AND (CAST(?2 AS TEXT) IS NULL OR t.site IN (SELECT value FROM json_each(?2))) ORDER BY c.id "
    "DESC";
/* One audit row per site of the scope (?4), or one about no site. */
static const char sql_audit_scope[] =
    "INSERT INTO audit(at, actor, action, reversal, site)"
    " SELECT ?1, ?2, ?3, 0, value FROM json_each(coalesce(?4, '[null]'))";
static const char sql_audit_forget[] =
    "UPDATE audit SET comment_id = NULL, detail = 'erased' WHERE comment_id = ?1";
static const char sql_anonymise[] =
    "UPDATE comments SET author = 'Anonymous', url = NULL, ip = NULL, ip_sealed = NULL,"
    " email_domain_sealed = NULL, user_agent = NULL, referrer = NULL, email_hash = NULL,"
    " features = NULL, tokens = NULL, edit_hash = NULL, avatar = '', modified = ?2"
    " WHERE id = ?1";

/* Writes the audit rows of a privacy request over scope. */
static int audit_scope(struct store_conn *c, const char *scope, const char *actor,
		       const char *action)
{
	struct store_stmt *st = store_stmt(c, sql_audit_scope);

	if (!st)
		return -EIO;
	store_bind_int64(st, 1, (int64_t)time(NULL));
	store_bind_text(st, 2, actor);
	store_bind_text(st, 3, action);
	if (scope)
		store_bind_text(st, 4, scope);
	return store_run(c, st, "privacy audit");
}

/* The ids of the comments with address hash in scope, newest first, into
 * *ids (malloc'ed) and *n.  0 or negative. */
static int ids_by_email(struct store_conn *c, const unsigned char *hash, const char *scope,
			int64_t **ids, size_t *n)
{
	struct store_stmt *st = store_stmt(c, sql_ids_by_email);
	size_t cap = 0;
	int r;

	if (!st)
		return -EIO;
	store_bind_blob(st, 1, hash, KEYS_HASH_BYTES);
	if (scope)
		store_bind_text(st, 2, scope);
	while ((r = store_row(c, st)) == 1) {
		if (*n == cap) {
			size_t ncap = cap ? cap * 2 : 16;
			int64_t *grown = realloc(*ids, ncap * sizeof(**ids));
			if (!grown) {
				r = -ENOMEM;
				break;
			}
			*ids = grown;
			cap = ncap;
		}
		(*ids)[(*n)++] = store_col_int64(st, 0);
	}
	store_reset(st);
	return r < 0 ? r : 0;
}

/* Erases or anonymises comment id inside the caller's transaction: its
 * learning forgotten, and on erasure its audit rows no longer naming it.
 * 0, STORE_* or negative. */
static int erase_one(struct store_conn *c, struct classifier *cl, int64_t id, bool anonymise)
{
	struct store_stmt *st;
	char key[32];
	int r;

	snprintf(key, sizeof(key), "comment:%lld", (long long)id);
	r = classifier_forget(cl, c, key);
	if (r < 0)
		return r;
	if (anonymise) {
		st = store_stmt(c, sql_anonymise);
		if (!st)
			return -EIO;
		store_bind_int64(st, 1, id);
		store_bind_int64(st, 2, (int64_t)time(NULL));
		return store_run(c, st, "anonymise");
	}
	r = comment_remove(c, id, (int64_t)time(NULL));
	if (r)
		return r;
	/* The audit log keeps that something was done, not to what. */
	st = store_stmt(c, sql_audit_forget);
	if (!st)
		return -EIO;
	store_bind_int64(st, 1, id);
	return store_run(c, st, "erase audit");
}

/* The tables an erasure rewrote (comments: anonymised or removed rows;
 * their audit rows; their learning in the classifier's ledger; reply
 * subscriptions) owe a compaction, noted in its transaction (store.h:
 * nothing to note on SQLite). */
static int erase_owe_compaction(struct store_conn *c, bool comments, bool subscriptions)
{
	static const char *const tables[] = {"comments", "audit", "classifier_learned"};
	int r = 0;

	for (size_t i = 0; comments && r == 0 && i < sizeof(tables) / sizeof(*tables); i++)
		r = store_compact_owe(c, tables[i]);
	if (r == 0 && subscriptions)
		r = store_compact_owe(c, "subscriptions");
	return r;
}

int moderation_erase(struct store_conn *c, struct classifier *cl, const struct keys *k,
		     const char *scope, const char *email, bool anonymise, const char *actor,
		     json_t **out)
{
	unsigned char hash[KEYS_HASH_BYTES];
	int64_t *ids = NULL;
	size_t n = 0;
	unsigned merged = 0, subscriptions = 0;
	int r;

	if (comment_email_hash(k, email, hash) != 0)
		return COMMENT_INVALID;
	/* All or nothing (any failure below rolls it all back): on PostgreSQL
	 * its hundreds of writes a comment (the classifier's tokens) go
	 * without a savepoint each. */
	r = store_begin_whole(c);
	if (r)
		return r > 0 ? COMMENT_UNAVAILABLE : r;
	r = ids_by_email(c, hash, scope, &ids, &n);
	if (r < 0)
		goto out;
	/* Newest first, so a commenter's replies to their own comments go
	 * before the comments they answer. */
	for (size_t i = 0; i < n && r == 0; i++)
		r = erase_one(c, cl, ids[i], anonymise);
	if (r)
		goto out;
	/* Reply subscriptions with this address on the scope's sites go too,
	 * whatever the mode. */
	r = subscribe_erase(c, scope, hash, &subscriptions);
	if (r)
		goto out;
	r = audit_scope(c, scope, actor, anonymise ? "privacy-anonymise" : "privacy-erase");
	if (r == 0 && (n || subscriptions))
		r = erase_owe_compaction(c, n != 0, subscriptions != 0);
	if (r)
		goto out;
	r = store_commit(c);
	/* The erased texts left the search index's answers; their trigrams
	 * leave its segments when their blocks are merged (lib/search.h), one
	 * block a transaction, before the erasure reports success. */
	if (r == 0)
		r = search_purge(c, &merged, NULL);
	if (r == 0) {
		/* secure_delete zeroed the erased rows in the pages; the WAL still
		 * holds the pages as they were: copy it back and truncate it.
		 * PostgreSQL: a plain VACUUM of the tables owed a compaction
		 * lets their space be reused and blocks no one; the bytes leave
		 * the files at the compaction (store.h).  The erasure stands
		 * whether or not this VACUUM ran (the debt is kept). */
		store_checkpoint_truncate(c);
		if (store_compact(c, false, NULL) != 0)
			log_warn("privacy erase: VACUUM of the erased tables failed; the "
				 "compaction is still owed");
		*out = json_pack("{s:I}", "erased", (json_int_t)n);
	}
out:
	store_rollback(c);
	sodium_memzero(hash, sizeof(hash));
	free(ids);
	return r > 0 ? COMMENT_UNAVAILABLE : r;
}

/* Retention.  Each statement takes the age it applies to (?1: created
 * before), now (?2) and the scope (?3, lib/admin.h: NULL for every site);
 * the edit window's statements also take the sites' own windows (?4, a
 * JSON object of site id to seconds, over ?1 for the sites it names).
 * Expired spam that others replied to is emptied to a tombstone, so the
 * replies stay visible and nothing of the spam stays readable. */
#define IN_SCOPE_THREAD                                                                            \
	" AND (CAST(?3 AS TEXT) IS NULL OR thread_id IN (SELECT id FROM threads"                   \
	" WHERE site IN (SELECT value FROM json_each(?3))))"
/* (IN_SCOPE_SITE as for the daily series: ?3.) */
/* Expired spam on its own partial index (schema 0017: only spam).  The
 * index is named on SQLite only (INDEXED BY): PostgreSQL has no hints and
 * its planner picks the partial index for the same WHERE. */
#define OLD_SPAM_TOMBSTONE(hint)                                                                   \
	"UPDATE comments" hint " SET status = 'deleted', author = '', url = NULL, text = '',"      \
	" html = '', avatar = '', email_hash = NULL, ip = NULL, ip_sealed = NULL,"                 \
	" email_domain_sealed = NULL, user_agent = NULL, referrer = NULL, features = NULL,"        \
	" tokens = NULL, reasons = NULL, edit_hash = NULL, score = NULL, verdict = NULL,"          \
	" modified = ?2 WHERE status = 'spam' AND created < ?1"                                    \
	" AND EXISTS (SELECT 1 FROM comments r WHERE r.parent_id = comments.id)" IN_SCOPE_THREAD
static const struct store_sql sql_old_spam_tombstone = {
    OLD_SPAM_TOMBSTONE(" INDEXED BY comments_spam_created"), OLD_SPAM_TOMBSTONE("")};
#define OLD_SPAM(hint)                                                                             \
	"DELETE FROM comments" hint " WHERE status = 'spam' AND created < ?1"                      \
	" AND NOT EXISTS (SELECT 1 FROM comments r WHERE r.parent_id = "                           \
	"comments.id)" IN_SCOPE_THREAD
static const struct store_sql sql_old_spam = {OLD_SPAM(" INDEXED BY comments_spam_created"),
					      OLD_SPAM("")};
/* On the partial indexes of schema 0012 (comments that still hold such
 * data), not on an index of every comment (the whole table read). */
#define OLD_IPS(hint)                                                                              \
	"UPDATE comments" hint " SET ip = NULL, ip_sealed = NULL, user_agent = NULL,"              \
	" referrer = NULL WHERE created < ?1 AND (ip IS NOT NULL OR ip_sealed IS NOT NULL"         \
	" OR user_agent IS NOT NULL OR referrer IS NOT NULL)" IN_SCOPE_THREAD
static const struct store_sql sql_old_ips = {OLD_IPS(" INDEXED BY comments_client_data"),
					     OLD_IPS("")};
#define OLD_DOMAINS(hint)                                                                          \
	"UPDATE comments" hint " SET email_domain_sealed = NULL"                                   \
	" WHERE email_domain_sealed IS NOT NULL"                                                   \
	" AND created < coalesce(?2 - CAST((SELECT w.value FROM threads t, json_each(?4) w"        \
	" WHERE t.id = comments.thread_id AND w.key = t.site) AS BIGINT), ?1)" IN_SCOPE_THREAD
static const struct store_sql sql_old_domains = {OLD_DOMAINS(" INDEXED BY comments_domain_sealed"),
						 OLD_DOMAINS("")};
/* The same text on both engines. */
#define OLD_DECOY_CONTENT                                                                          \
	"UPDATE decoys SET sealed = NULL WHERE sealed IS NOT NULL"                                 \
	" AND created < coalesce(?2 - CAST((SELECT w.value FROM json_each(?4) w"                   \
	" WHERE w.key = decoys.site) AS BIGINT), ?1)" IN_SCOPE_SITE
static const struct store_sql sql_old_decoy_content = {OLD_DECOY_CONTENT, OLD_DECOY_CONTENT};
#define OLD_DECOYS "DELETE FROM decoys WHERE created < ?1" IN_SCOPE_SITE
static const struct store_sql sql_old_decoys = {OLD_DECOYS, OLD_DECOYS};
#define BARE_TOMBSTONES                                                                            \
	"DELETE FROM comments WHERE status = 'deleted'"                                            \
	" AND NOT EXISTS (SELECT 1 FROM comments r WHERE r.parent_id = "                           \
	"comments.id)" IN_SCOPE_THREAD
static const struct store_sql sql_bare_tombstones = {BARE_TOMBSTONES, BARE_TOMBSTONES};

/* What a retention pass binds to its statements. */
struct retention_pass {
	const char *scope;   /* ?3 */
	const char *windows; /* ?4 */
	int64_t now;	     /* ?2 */
};

/* Runs one retention statement for rows created before `before`; *changed
 * counts them (may be NULL). */
static int retire(struct store_conn *c, const struct store_sql *sql, const struct retention_pass *p,
		  int64_t before, const char *what, unsigned *changed)
{
	struct store_stmt *st = store_stmt_pick(c, sql);
	int n, r;

	if (!st)
		return -EIO;
	n = store_bind_count(st);
	store_bind_int64(st, 1, before);
	store_bind_int64(st, 2, p->now);
	if (p->scope)
		store_bind_text(st, 3, p->scope);
	if (n >= 4 && p->windows)
		store_bind_text(st, 4, p->windows);
	r = store_run(c, st, what);
	if (r == 0 && changed)
		*changed += store_changes(c);
	return r;
}

static int retention_steps(struct store_conn *c, const struct moderation_retention *rt,
			   const struct retention_pass *p, struct maintenance_report *rep)
{
	const int64_t spam = p->now - (int64_t)rt->spam_days * 86400,
		      ips = p->now - (int64_t)rt->ip_days * 86400,
		      edit = p->now - (int64_t)rt->edit_window;
	int r;

	r = retire(c, &sql_old_spam_tombstone, p, spam, "spam retention", &rep->spam_emptied);
	if (r == 0)
		r = retire(c, &sql_old_spam, p, spam, "spam retention", &rep->spam_deleted);
	if (r == 0)
		r = retire(c, &sql_old_ips, p, ips, "ip retention", &rep->ips_cleared);
	if (r == 0)
		r = retire(c, &sql_old_domains, p, edit, "e-mail domain retention", NULL);
	if (r == 0)
		r = retire(c, &sql_old_decoy_content, p, edit, "decoy retention", NULL);
	if (r == 0)
		r = retire(c, &sql_old_decoys, p, spam, "decoy retention", &rep->decoys_purged);
	/* Tombstones whose last reply went (repeat: chains of tombstones). */
	for (int i = 0; r == 0 && i < 64; i++) {
		unsigned changed = 0;
		r = retire(c, &sql_bare_tombstones, p, 0, "tombstones", &changed);
		rep->tombstones_purged += changed;
		if (!changed)
			break;
	}
	return r;
}

/* The sites' own edit windows as a JSON object (caller frees), or NULL
 * with *oom false when there are none. */
static char *windows_json(const struct moderation_retention *rt, bool *oom)
{
	json_t *o = rt->n_windows ? json_object() : NULL;
	char *text = NULL;

	*oom = rt->n_windows && !o;
	for (size_t i = 0; o && i < rt->n_windows; i++) {
		if (json_object_set_new(o, rt->windows[i].site,
					json_integer(rt->windows[i].edit_window)) != 0)
			*oom = true;
	}
	if (o && !*oom) {
		text = json_dumps(o, JSON_COMPACT);
		*oom = !text;
	}
	json_decref(o);
	return text;
}

int moderation_maintain(struct store_conn *c, struct classifier *cl, const char *scope,
			const struct moderation_retention *rt, int64_t now,
			struct maintenance_report *rep)
{
	struct retention_pass p = {.scope = scope, .now = now};
	char *windows;
	bool oom;
	int r;

	memset(rep, 0, sizeof(*rep));
	windows = windows_json(rt, &oom);
	if (oom)
		return -ENOMEM;
	p.windows = windows;
	r = store_begin(c);
	if (r) {
		free(windows);
		return r;
	}
	r = retention_steps(c, rt, &p, rep);
	/* The classifier's tokens are every site's: pruned only for all. */
	if (r == 0 && !scope)
		r = classifier_prune(cl, c, now - (int64_t)rt->prune_days * 86400,
				     &rep->tokens_pruned);
	if (r == 0)
		r = store_commit(c);
	/* What retention removed leaves the search index's segments (its
	 * blocks merged, one a transaction: lib/search.h). */
	if (r == 0)
		r = search_purge(c, &rep->search_merged, NULL);
	/* What retention removed was zeroed in the pages (secure_delete); the
	 * WAL still holds them as they were: copy it back and truncate it. */
	if (r == 0 && store_checkpoint_truncate(c) == 0)
		rep->wal_truncated = true;
	store_rollback(c);
	free(windows);
	return r;
}

int moderation_retention_of(const struct config *cfg, struct moderation_retention *rt,
			    struct moderation_window **windows)
{
	size_t n = config_site_count(cfg);
	char err[CONFIG_ERR_MAX];

	*rt = (struct moderation_retention){
	    .spam_days = cfg->spam_retention_days,
	    .ip_days = cfg->ip_retention_days,
	    .prune_days = cfg->token_prune_days,
	    .edit_window = cfg->edit_window,
	};
	*windows = calloc(n, sizeof(**windows));
	if (!*windows)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		struct config *view = NULL;
		int r = config_site_view(cfg, i, &view, err);

		/* A view config_check refused is not served: no window of its own. */
		if (r < 0) {
			free(*windows);
			*windows = NULL;
			return r;
		}
		if (r == 0 && view->edit_window != cfg->edit_window)
			(*windows)[rt->n_windows++] =
			    (struct moderation_window){config_site_id(cfg, i), view->edit_window};
		config_free(view);
	}
	rt->windows = *windows;
	return 0;
}
