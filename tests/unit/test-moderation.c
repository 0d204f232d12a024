/* Unit tests for lib/moderation against a real temporary SQLite file, real
 * keys and a real classifier: the moderation list (filters, literal search,
 * cursor), actions and their audit rows and learning, bulk all-or-nothing,
 * edits, statistics, privacy export/erase, and maintenance. */
#include "fixture.h"
#include "tap.h"

#include "admin.h"
#include "classify.h"
#include "comment.h"
#include "config.h"
#include "keys.h"
#include "moderation.h"
#include "policy.h"
#include "store.h"
#include "submit.h"

#include <dirent.h>
#include <errno.h>
#include <sodium.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static struct fixture fx;
static struct store *st;
static struct store_conn *conn;
static struct keys *keys;
static struct classifier *cl;
static struct config *cfg;
static struct policy *policy;

#define DAY 86400

/* ---- helpers ------------------------------------------------------------ */

/* The first column of the first row of sql (?1 bound to arg when the
 * statement has parameters): -1 no row, -2 bad SQL, -3 NULL. */
static int64_t q_int(const char *sql, int64_t arg)
{
	struct store_stmt *q = NULL;
	int64_t n = -1;

	if (!(q = store_stmt_new(conn, sql))) {
		diag("bad SQL %s: %s", sql, store_errmsg(conn));
		return -2;
	}
	if (store_bind_count(q) >= 1)
		store_bind_int64(q, 1, arg);
	if (store_row(conn, q) == 1)
		n = store_col_type(q, 0) == STORE_NULL ? -3 : store_col_int64(q, 0);
	store_stmt_free(q);
	return n;
}

/* The site mk_full's comments are for (test_scope switches it). */
static const char *mk_site = "default";

/* Creates a comment through the submission pipeline (lib/submit) as an
 * import with the given status: validated, scored by the classifier and
 * stored with the score's features, which are dropped again when features
 * is false (comments stored before features existed).  Returns its id, or
 * -1 (diagnosed). */
static int64_t mk_full(const char *thread, int64_t parent, const char *author, const char *email,
		       const char *url, const char *text, const char *ip,
		       enum comment_status status, bool features)
{
	char *t = strdup(thread), *a = strdup(author), *e = strdup(email),
	     *u = url ? strdup(url) : NULL, *x = strdup(text);
	struct comment_input in = {
	    .thread = t, .parent = parent, .author = a, .email = e, .url = u, .text = x};
	struct classify_settings cs;
	struct submit_site site = {cfg, keys, cl, policy, &cs, NULL, NULL, NULL, mk_site, NULL};
	struct submit_request rq = {.origin = SUBMIT_IMPORT,
				    .ip = ip,
				    .user_agent = "Mozilla/5.0 (X11; Linux x86_64) test",
				    .render_seconds = -1,
				    .now = time(NULL),
				    .status = status};
	struct comment_error err = {0};
	struct submit_decision d = {0};
	json_t *j = NULL;
	int64_t id = -1;

	classify_settings_default(&cs);
	if (submit_comment(conn, &site, &in, &rq, &d, &j, &err) != 0) {
		diag("submit_comment \"%s\": %s", text, err.message);
		goto out;
	}
	id = json_integer_value(json_object_get(j, "id"));
	if (!features &&
	    q_int("UPDATE comments SET features = NULL WHERE id = ?1 RETURNING id", id) != id)
		id = -1;
out:
	submit_decision_clear(&d);
	json_decref(j);
	free(t);
	free(a);
	free(e);
	free(u);
	free(x);
	return id;
}

static int64_t mk(const char *thread, int64_t parent, const char *author, const char *text,
		  enum comment_status status)
{
	char email[64];
	int n = 0;

	for (const char *p = author; *p && n < 40; p++)
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z'))
			email[n++] = (char)(*p | 0x20);
	snprintf(email + n, sizeof(email) - (size_t)n, "@example.org");
	return mk_full(thread, parent, author, email, NULL, text, "192.0.2.10", status, true);
}

/* The same as text (caller frees): NULL for no row or SQL NULL. */
static char *q_str(const char *sql, int64_t arg)
{
	struct store_stmt *q = NULL;
	char *s = NULL;

	if (!(q = store_stmt_new(conn, sql))) {
		diag("bad SQL %s: %s", sql, store_errmsg(conn));
		return NULL;
	}
	if (store_bind_count(q) >= 1)
		store_bind_int64(q, 1, arg);
	if (store_row(conn, q) == 1 && store_col_type(q, 0) != STORE_NULL)
		s = strdup(store_col_text(q, 0));
	store_stmt_free(q);
	return s;
}

static void exec(const char *sql, int64_t a, int64_t b)
{
	struct store_stmt *q = NULL;

	if (!(q = store_stmt_new(conn, sql))) {
		diag("bad SQL %s", sql);
		return;
	}
	if (store_bind_count(q) >= 1)
		store_bind_int64(q, 1, a);
	if (store_bind_count(q) >= 2)
		store_bind_int64(q, 2, b);
	if (store_row(conn, q) != 0)
		diag("exec %s: %s", sql, store_errmsg(conn));
	store_stmt_free(q);
}

/* The string column of a comment, "(null)" for NULL, "(none)" without row
 * (static buffer rotation, for is_str). */
static const char *col(const char *column, int64_t id)
{
	static char buf[4][256];
	static int k;
	char sql[1024];
	struct store_stmt *q = NULL;

	k = (k + 1) % 4;
	snprintf(sql, sizeof(sql), "SELECT %s FROM comments WHERE id = ?1", column);
	snprintf(buf[k], sizeof(buf[k]), "(bad sql)");
	if (!(q = store_stmt_new(conn, sql)))
		return buf[k];
	store_bind_int64(q, 1, id);
	if (store_row(conn, q) != 1)
		snprintf(buf[k], sizeof(buf[k]), "(none)");
	else if (store_col_type(q, 0) == STORE_NULL)
		snprintf(buf[k], sizeof(buf[k]), "(null)");
	else
		snprintf(buf[k], sizeof(buf[k]), "%s", store_col_text(q, 0));
	store_stmt_free(q);
	return buf[k];
}

/* A blob column as 'null' or 'set' in a text expression (SQLite's ||
 * concatenates a blob's bytes, PostgreSQL's a bytea's hex). */
#define BLOB_OR_NULL(col) "(CASE WHEN " col " IS NULL THEN 'null' ELSE 'set' END)"

/* The rows of sql as "a:b:c,..." into f, blobs as hex (the same on both
 * engines: no group_concat or hex() in SQL). */
static void rows_to(FILE *f, const char *sql, const char *seps)
{
	struct store_stmt *q = store_stmt_new(conn, sql);

	if (!q) {
		diag("bad SQL %s: %s", sql, store_errmsg(conn));
		fputs("(bad SQL)", f);
		return;
	}
	for (int row = 0; store_row(conn, q) == 1; row++) {
		fputs(row ? "," : "", f);
		for (int i = 0; i < store_col_count(q); i++) {
			if (i)
				fputc(seps[i - 1], f);
			if (store_col_type(q, i) == STORE_BLOB) {
				const unsigned char *b = store_col_blob(q, i);
				for (size_t k = 0; k < store_col_bytes(q, i); k++)
					fprintf(f, "%02X", b[k]);
			} else {
				fputs(store_col_type(q, i) == STORE_NULL ? ""
									 : store_col_text(q, i),
				      f);
			}
		}
	}
	store_stmt_free(q);
}

/* The classifier's tables: token counts (not last_seen), totals, ledger. */
static char *snapshot(void)
{
	char *s = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&s, &n);

	if (!f)
		return strdup("(none)");
	rows_to(f, "SELECT hash, spam, ham FROM classifier_tokens ORDER BY hash", "::");
	fputc('|', f);
	rows_to(f, "SELECT nspam, nham FROM classifier_state", ":");
	fputc('|', f);
	rows_to(f, "SELECT msg_key, label, tokens FROM classifier_learned ORDER BY msg_key", "=:");
	fclose(f);
	return s;
}

/* The ledger's tokens of comment id, as hex (NULL for none). */
static char *ledger_hex(int64_t id)
{
	char *s = NULL, key[40];
	size_t n = 0;
	FILE *f = open_memstream(&s, &n);
	struct store_stmt *q = store_stmt_new(conn, "SELECT tokens FROM classifier_learned "
						    "WHERE msg_key = ?1");

	snprintf(key, sizeof(key), "comment:%lld", (long long)id);
	if (f && q) {
		store_bind_text(q, 1, key);
		if (store_row(conn, q) == 1) {
			const unsigned char *b = store_col_blob(q, 0);
			for (size_t k = 0; k < store_col_bytes(q, 0); k++)
				fprintf(f, "%02X", b[k]);
		}
	}
	store_stmt_free(q);
	if (f)
		fclose(f);
	if (s && !*s) {
		free(s);
		s = NULL;
	}
	return s;
}

/* The newest audit row as "actor|action|comment|detail|reversal". */
static const char *last_audit(void)
{
	static char buf[300];
	char *s = q_str(
	    "SELECT actor || '|' || action || '|' || coalesce(CAST(comment_id AS TEXT), 'null') ||"
	    " '|' || coalesce(detail, 'null') || '|' || reversal FROM audit"
	    " ORDER BY id DESC LIMIT 1",
	    0);
	snprintf(buf, sizeof(buf), "%s", s ? s : "(none)");
	free(s);
	return buf;
}

static const char *audit_want(const char *action, int64_t id, const char *detail, int reversal)
{
	static char buf[300];

	snprintf(buf, sizeof(buf), "mod|%s|%lld|%s|%d", action, (long long)id, detail, reversal);
	return buf;
}

static int64_t n_audit(void)
{
	return q_int("SELECT count(*) FROM audit", 0);
}

static void counts(uint64_t *ns, uint64_t *nh)
{
	*ns = *nh = 999999;
	if (classifier_counts(cl, conn, ns, nh) != 0)
		diag("classifier_counts failed");
}

static int act(enum moderation_action a, int64_t id, struct comment_error *err)
{
	memset(err, 0, sizeof(*err));
	return moderation_act(conn, cl, NULL, "mod", a, id, err);
}

static bool is_404(int r, const struct comment_error *err)
{
	return r == COMMENT_INVALID && err->status == 404 && err->code &&
	       strcmp(err->code, "not_found") == 0;
}

/* The ids of a moderation_list answer as "1 2 3" (ids relative to base,
 * so expectations read "L6 L5"). */
static const char *ids_of(json_t *out, const int64_t *named, size_t n_named)
{
	static char buf[512];
	size_t i, len = 0;
	json_t *e;

	buf[0] = '\0';
	json_array_foreach(json_object_get(out, "comments"), i, e)
	{
		int64_t id = json_integer_value(json_object_get(e, "id"));
		char name[24];
		snprintf(name, sizeof(name), "#%lld", (long long)id);
		for (size_t k = 0; k < n_named; k++)
			if (named[k] == id)
				snprintf(name, sizeof(name), "L%zu", k + 1);
		len += (size_t)snprintf(buf + len, sizeof(buf) - len, "%s%s", i ? " " : "", name);
	}
	return buf;
}

static const char *list_ids(const char *status, const char *thread, const char *q, unsigned limit,
			    int64_t before, const int64_t *named, size_t n_named, int64_t *next)
{
	struct moderation_query mq = {
	    .status = status, .thread = thread, .q = q, .limit = limit, .before = before};
	json_t *out = NULL;
	const char *s;

	if (moderation_list(conn, keys, &mq, &out) != 0)
		return "(error)";
	s = ids_of(out, named, n_named);
	if (next) {
		json_t *nx = json_object_get(out, "next");
		*next = json_is_null(nx) ? 0 : json_is_integer(nx) ? json_integer_value(nx) : -1;
	}
	json_decref(out);
	return s;
}

static bool is_recent_time(const char *s)
{
	struct tm tm = {0};
	const char *end;
	time_t t, now = time(NULL);

	if (!s)
		return false;
	end = strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (!end || *end)
		return false;
	t = timegm(&tm);
	return t >= now - 30 && t <= now + 1;
}

/* ---- tests -------------------------------------------------------------- */

static void test_parse(void)
{
	enum moderation_action a = MODERATION_DELETE;

	ok(moderation_action_parse("approve", &a) == 0 && a == MODERATION_APPROVE, "parse approve");
	ok(moderation_action_parse("spam", &a) == 0 && a == MODERATION_SPAM, "parse spam");
	ok(moderation_action_parse("delete", &a) == 0 && a == MODERATION_DELETE, "parse delete");
	is_int(moderation_action_parse("Approve", &a), 1, "Approve (case) is refused");
	is_int(moderation_action_parse("publish", &a), 1, "publish is refused");
	is_int(moderation_action_parse("", &a), 1, "empty is refused");
	is_int(moderation_action_parse("approve ", &a), 1, "trailing space is refused");
	is_int(moderation_action_parse(NULL, &a), 1, "NULL is refused");
}

static void test_list(void)
{
	int64_t L[6], next = -5;
	const size_t N = 6;

	L[0] = mk_full("/list/a", 0, "Ann", "Ann@Example.org", "https://ann.example/",
		       "Hello world, nice post", "192.0.2.77", COMMENT_PUBLISHED, true);
	L[1] = mk_full("/list/a", 0, "Bob", "bob@example.org", NULL, "Get 50% off today",
		       "2001:db8:1:2::5", COMMENT_PENDING, true);
	L[2] = mk_full("/list/a", 0, "Carol", "carol@example.org", NULL, "snake_case is nice", NULL,
		       COMMENT_SPAM, true);
	L[3] = mk_full("/list/b", 0, "Dan", "dan@example.org", NULL, "I am 100 percent sure",
		       "198.51.100.3", COMMENT_PUBLISHED, true);
	L[4] = mk_full("/list/b", 0, "Bob_Smith", "bs@example.org", NULL, "under score",
		       "198.51.100.4", COMMENT_PENDING, true);
	L[5] = mk_full("/list/b", 0, "Eve", "eve@example.org", NULL, "C:\\temp\\x path",
		       "198.51.100.5", COMMENT_PUBLISHED, true);
	ok(L[0] > 0 && L[1] > L[0] && L[2] > L[1] && L[3] > L[2] && L[4] > L[3] && L[5] > L[4],
	   "six comments to list");

	is_str(list_ids(NULL, NULL, NULL, 50, 0, L, N, &next), "L6 L5 L4 L3 L2 L1",
	       "all, newest first");
	is_int(next, 0, "next is null when the page is not full");
	is_str(list_ids("pending", NULL, NULL, 50, 0, L, N, NULL), "L5 L2", "status pending");
	is_str(list_ids("published", NULL, NULL, 50, 0, L, N, NULL), "L6 L4 L1",
	       "status published");
	is_str(list_ids("spam", NULL, NULL, 50, 0, L, N, NULL), "L3", "status spam");
	is_str(list_ids("deleted", NULL, NULL, 50, 0, L, N, NULL), "", "status deleted: none");
	is_str(list_ids("bogus", NULL, NULL, 50, 0, L, N, NULL), "", "an unknown status: none");
	is_str(list_ids(NULL, "/list/b", NULL, 50, 0, L, N, NULL), "L6 L5 L4", "thread /list/b");
	is_str(list_ids("pending", "/list/b", NULL, 50, 0, L, N, NULL), "L5", "thread and status");
	is_str(list_ids(NULL, "/list", NULL, 50, 0, L, N, NULL), "",
	       "a thread prefix is not a thread");
	is_str(list_ids(NULL, NULL, "world", 50, 0, L, N, NULL), "L1", "q in the text");
	is_str(list_ids(NULL, NULL, "Bob", 50, 0, L, N, NULL), "L5 L2", "q in the author");
	/* ASCII case is ignored on both engines (SQLite's LIKE; ILIKE on
	 * PostgreSQL), through the search (3+ characters) and without. */
	is_str(list_ids(NULL, NULL, "HELLO", 50, 0, L, N, NULL), "L1", "q ignores case");
	is_str(list_ids(NULL, NULL, "bob", 50, 0, L, N, NULL), "L5 L2", "  also in the author");
	is_str(list_ids(NULL, NULL, "wO", 50, 0, L, N, NULL), "L1", "  and under 3 characters");
	is_str(list_ids(NULL, NULL, "", 50, 0, L, N, NULL), "L6 L5 L4 L3 L2 L1",
	       "an empty q: everything");
	is_str(list_ids(NULL, NULL, "%", 50, 0, L, N, NULL), "L2", "q \"%%\" is a literal %%");
	is_str(list_ids(NULL, NULL, "0%", 50, 0, L, N, NULL), "L2",
	       "q \"0%%\" does not match \"100 percent\"");
	is_str(list_ids(NULL, NULL, "_", 50, 0, L, N, NULL), "L5 L3",
	       "q \"_\" is a literal underscore (text or author)");
	is_str(list_ids(NULL, NULL, "e_c", 50, 0, L, N, NULL), "L3", "q \"e_c\"");
	is_str(list_ids(NULL, NULL, "%_%", 50, 0, L, N, NULL), "", "q \"%%_%%\": no such text");
	is_str(list_ids(NULL, NULL, "\\", 50, 0, L, N, NULL), "L6", "q \"\\\" is a backslash");
	is_str(list_ids(NULL, NULL, "\\t", 50, 0, L, N, NULL), "L6", "q \"\\t\" literally");
	is_str(list_ids("pending", "/list/a", "50%", 50, 0, L, N, NULL), "L2",
	       "status, thread and q together");

	/* Pagination with the before cursor. */
	{
		char got[128] = "";
		int64_t before = 0;
		int pages = 0;
		for (;;) {
			const char *page = list_ids(NULL, NULL, NULL, 2, before, L, N, &next);
			snprintf(got + strlen(got), sizeof(got) - strlen(got), "[%s]", page);
			pages++;
			if (next <= 0 || pages > 10)
				break;
			before = next;
		}
		is_str(got, "[L6 L5][L4 L3][L2 L1][]", "limit 2: pages follow next to the end");
		is_int(next, 0, "the last page's next is null");
	}
	is_str(list_ids(NULL, NULL, NULL, 4, 0, L, N, &next), "L6 L5 L4 L3", "limit 4");
	is_int(next, L[2], "next is the last id shown");
	is_str(list_ids(NULL, NULL, NULL, 4, next, L, N, &next), "L2 L1", "then the rest");
	is_int(next, 0, "and next null");
	is_str(list_ids("published", NULL, NULL, 1, L[3], L, N, &next), "L1",
	       "before with a status filter");
	is_int(next, L[0], "a full page has a next");

	/* What a moderator sees of a row. */
	{
		struct moderation_query mq = {.thread = "/list/a", .limit = 10};
		json_t *out = NULL, *row = NULL, *e;
		size_t i;
		char hex[13];
		unsigned char h[KEYS_HASH_BYTES];

		is_int(moderation_list(conn, keys, &mq, &out), 0, "moderation_list");
		json_array_foreach(json_object_get(out, "comments"), i, e)
		{
			if (json_integer_value(json_object_get(e, "id")) == L[0])
				row = e;
		}
		ok(row != NULL, "L1 is listed");
		is_int(json_object_size(row), 21, "twenty-one members");
		is_str(json_string_value(json_object_get(row, "site")), "default", "its site");
		ok(json_is_null(json_object_get(row, "page_title")) &&
		       json_is_null(json_object_get(row, "page_url")) &&
		       json_is_null(json_object_get(row, "moderator")) &&
		       json_is_false(json_object_get(row, "author_badge")) &&
		       json_object_get(row, "parent_excerpt"),
		   "  with the context members (none here)");
		is_str(json_string_value(json_object_get(
			   json_array_get(json_object_get(row, "reasons"), 0), "code")),
		       "imported", "reasons: the pipeline's, as stored");
		is_str(json_string_value(json_object_get(row, "thread")), "/list/a", "thread");
		ok(json_is_null(json_object_get(row, "parent")), "parent null");
		is_str(json_string_value(json_object_get(row, "author")), "Ann", "author");
		is_str(json_string_value(json_object_get(row, "url")), "https://ann.example/",
		       "url");
		is_str(json_string_value(json_object_get(row, "text")), "Hello world, nice post",
		       "text");
		is_str(json_string_value(json_object_get(row, "html")),
		       "<p>Hello world, nice post</p>", "html");
		ok(is_recent_time(json_string_value(json_object_get(row, "created"))),
		   "created is now");
		is_str(json_string_value(json_object_get(row, "status")), "published", "status");
		{
			struct store_stmt *q = NULL;
			double score = -1;
			q = store_stmt_new(conn, "SELECT score FROM comments WHERE id = ?1");
			store_bind_int64(q, 1, L[0]);
			if (store_row(conn, q) == 1)
				score = store_col_double(q, 0);
			store_stmt_free(q);
			ok(json_is_real(json_object_get(row, "score")) &&
			       json_real_value(json_object_get(row, "score")) == score,
			   "score is the stored score (%g)", score);
		}
		ok(json_is_string(json_object_get(row, "verdict")), "verdict is a string (%s)",
		   json_string_value(json_object_get(row, "verdict")));
		ok(json_is_array(json_object_get(row, "tokens")), "tokens is an array");
		keys_hash(keys, KEYS_EMAIL, "ann@example.org", 15, h);
		sodium_bin2hex(hex, sizeof(hex), h, 6);
		is_str(json_string_value(json_object_get(row, "email_hash")), hex,
		       "email_hash: 12 hex digits of the keyed hash of the normalised address");
		is_int(strlen(json_string_value(json_object_get(row, "email_hash"))), 12,
		       "(12 digits)");
		is_str(json_string_value(json_object_get(row, "ip_prefix")), "192.0.2.0/24",
		       "ip_prefix of an IPv4 address: its /24");
		char *dump = json_dumps(row, 0);
		ok(dump && !strstr(dump, "192.0.2.77") && !strstr(dump, "ann@example.org") &&
		       !strstr(dump, "Ann@Example.org"),
		   "no full IP address or e-mail address in the row");
		free(dump);

		row = NULL;
		json_array_foreach(json_object_get(out, "comments"), i, e)
		{
			if (json_integer_value(json_object_get(e, "id")) == L[1])
				is_str(json_string_value(json_object_get(e, "ip_prefix")),
				       "2001:db8:1::/48", "ip_prefix of an IPv6 address: its /48");
			if (json_integer_value(json_object_get(e, "id")) == L[2]) {
				ok(json_is_null(json_object_get(e, "ip_prefix")),
				   "no IP: ip_prefix null");
				ok(json_is_null(json_object_get(e, "url")), "no URL: url null");
			}
		}
		json_decref(out);
	}
	{
		/* A row without a score, verdict or tokens. */
		exec("UPDATE comments SET score = NULL, verdict = NULL, tokens = NULL,"
		     " email_hash = NULL WHERE id = ?1",
		     L[3], 0);
		struct moderation_query mq = {
		    .thread = "/list/b", .status = "published", .limit = 1, .before = L[4]};
		json_t *out = NULL;
		moderation_list(conn, keys, &mq, &out);
		json_t *row = json_array_get(json_object_get(out, "comments"), 0);
		ok(json_integer_value(json_object_get(row, "id")) == L[3] &&
		       json_is_null(json_object_get(row, "score")) &&
		       json_is_null(json_object_get(row, "verdict")) &&
		       json_is_array(json_object_get(row, "tokens")) &&
		       json_array_size(json_object_get(row, "tokens")) == 0 &&
		       json_is_null(json_object_get(row, "email_hash")),
		   "missing score/verdict/hash are null, missing tokens []");
		json_decref(out);
	}
}

static void test_act(void)
{
	struct comment_error err;
	uint64_t ns0, nh0, ns, nh;
	int64_t A[8];
	char *s1, *s2, *s3;

	A[0] =
	    mk("/act", 0, "Gardener", "Thoughtful notes about roses and compost", COMMENT_PENDING);
	A[1] = mk("/act", 0, "Pusher", "Cheap watches bargain discount deal", COMMENT_PUBLISHED);
	A[2] = mk("/act", 0, "Reader", "Lovely essay on medieval bridges", COMMENT_SPAM);
	A[3] = mk("/act", 0, "Seller", "Casino bonus offer click here", COMMENT_PENDING);
	A[4] = mk("/act", 0, "Spammer", "Loans loans loans fast money", COMMENT_SPAM);
	A[5] = mk("/act", 0, "Flipper", "A comment moderators disagree about", COMMENT_PENDING);
	A[6] = mk_full("/act", 0, "Plain", "plain@example.org", NULL,
		       "Stored without features, learned from fields", "192.0.2.20",
		       COMMENT_PENDING, false);
	ok(A[0] > 0 && A[6] > A[5], "comments to act on");

	/* Unknown ids. */
	is_int(act(MODERATION_APPROVE, 999999, &err), COMMENT_INVALID, "approve an unknown id");
	ok(is_404(COMMENT_INVALID, &err) && err.message[0], "is 404 not_found (%s)", err.message);
	ok(is_404(act(MODERATION_SPAM, 999999, &err), &err), "spam an unknown id: 404");
	ok(is_404(act(MODERATION_DELETE, 999999, &err), &err), "delete an unknown id: 404");
	ok(is_404(act(MODERATION_APPROVE, 0, &err), &err), "id 0: 404");
	ok(is_404(act(MODERATION_APPROVE, -1, &err), &err), "id -1: 404");
	ok(!store_in_transaction(conn), "no transaction left open");

	/* Approve: publish, learn ham exactly from the stored features. */
	counts(&ns0, &nh0);
	int64_t audits = n_audit();
	is_int(act(MODERATION_APPROVE, A[0], &err), 0, "approve a pending comment");
	is_str(col("status", A[0]), "published", "it is published");
	counts(&ns, &nh);
	ok(ns == ns0 && nh == nh0 + 1, "learned one ham (%llu/%llu -> %llu/%llu)",
	   (unsigned long long)ns0, (unsigned long long)nh0, (unsigned long long)ns,
	   (unsigned long long)nh);
	is_int(q_int("SELECT count(*) FROM classifier_learned WHERE msg_key = 'comment:' || ?1 AND"
		     " label = 'ham'",
		     A[0]),
	       1, "ledger key comment:<id> with label ham");
	is_int(q_int("SELECT l.tokens = c.features AND length(c.features) > 0 FROM comments c,"
		     " classifier_learned l WHERE c.id = ?1 AND l.msg_key = 'comment:' || c.id",
		     A[0]),
	       1, "the ledger holds exactly the stored features");
	is_int(n_audit(), audits + 1, "one audit row");
	is_str(last_audit(), audit_want("approve", A[0], "pending -> published", 0),
	       "audit: approve, pending -> published, no reversal");
	ok(atoll(col("modified", A[0])) >= (long long)time(NULL) - 5, "modified is set");

	s1 = snapshot();
	is_int(act(MODERATION_APPROVE, A[0], &err), 0, "approve it again");
	s2 = snapshot();
	is_str(s2, s1, "approving twice learns nothing more");
	is_str(last_audit(), audit_want("approve", A[0], "published -> published", 0),
	       "and is audited");
	free(s1);
	free(s2);

	/* Reversal flags. */
	counts(&ns0, &nh0);
	is_int(act(MODERATION_SPAM, A[1], &err), 0, "spam on a comment the filter published");
	is_str(col("status", A[1]), "spam", "it is spam");
	is_str(last_audit(), audit_want("spam", A[1], "published -> spam", 1), "audit: a reversal");
	counts(&ns, &nh);
	ok(ns == ns0 + 1 && nh == nh0, "learned one spam");
	is_int(q_int("SELECT count(*) FROM classifier_learned WHERE msg_key = 'comment:' || ?1 AND"
		     " label = 'spam'",
		     A[1]),
	       1, "ledger label spam");
	is_int(act(MODERATION_APPROVE, A[2], &err), 0,
	       "approve a comment the filter filed as spam");
	is_str(last_audit(), audit_want("approve", A[2], "spam -> published", 1),
	       "audit: a reversal");
	is_int(act(MODERATION_SPAM, A[3], &err), 0, "spam on a held comment");
	is_str(last_audit(), audit_want("spam", A[3], "pending -> spam", 0), "audit: no reversal");
	is_int(act(MODERATION_SPAM, A[4], &err), 0, "spam on the filter's spam");
	is_str(last_audit(), audit_want("spam", A[4], "spam -> spam", 0), "audit: no reversal");
	is_int(act(MODERATION_APPROVE, A[1], &err), 0, "approve A2 back (auto published)");
	is_str(last_audit(), audit_want("approve", A[1], "spam -> published", 0),
	       "the reversal flag follows the filter's decision, not the last one");

	/* approve -> spam -> approve. */
	counts(&ns0, &nh0);
	act(MODERATION_APPROVE, A[5], &err);
	s1 = snapshot();
	counts(&ns, &nh);
	ok(ns == ns0 && nh == nh0 + 1, "flip: approve learns ham");
	is_int(act(MODERATION_SPAM, A[5], &err), 0, "flip: then spam");
	s2 = snapshot();
	counts(&ns, &nh);
	ok(ns == ns0 + 1 && nh == nh0, "the ham is unlearned, spam learned (%llu/%llu)",
	   (unsigned long long)ns, (unsigned long long)nh);
	ok(strcmp(s1, s2) != 0, "token counts differ between ham and spam");
	is_int(act(MODERATION_APPROVE, A[5], &err), 0, "flip: approve again");
	s3 = snapshot();
	is_str(s3, s1, "classifier_tokens rows are as after the first approve");
	free(s1);
	free(s2);
	free(s3);

	/* A comment stored without features is learned from its fields. */
	counts(&ns0, &nh0);
	ok(strcmp(col("features", A[6]), "(null)") == 0, "A7 has no features");
	is_int(act(MODERATION_APPROVE, A[6], &err), 0, "approve it");
	counts(&ns, &nh);
	ok(nh == nh0 + 1, "learned ham from the fields");
	ok(q_int("SELECT length(tokens) FROM classifier_learned WHERE msg_key = 'comment:' || ?1",
		 A[6]) >= 8 * 4,
	   "with tokens in the ledger");

	/* Delete without replies: the row goes. */
	int64_t D = mk("/act", 0, "Deletee", "Soon gone without a trace", COMMENT_PENDING);
	s1 = snapshot();
	is_int(act(MODERATION_DELETE, D, &err), 0, "delete a comment without replies");
	is_str(col("id", D), "(none)", "the row is removed");
	is_str(last_audit(), audit_want("delete", D, "pending -> removed", 0), "audit: removed");
	s2 = snapshot();
	is_str(s2, s1, "delete teaches nothing");
	free(s1);
	free(s2);
	ok(is_404(act(MODERATION_DELETE, D, &err), &err), "delete it again: 404");
	ok(is_404(act(MODERATION_APPROVE, D, &err), &err), "approve it: 404");

	/* Delete with a reply: a tombstone. */
	int64_t P = mk_full("/act", 0, "Parent", "parent@example.org", "https://parent.example/",
			    "A parent with a reply", "192.0.2.30", COMMENT_PUBLISHED, true);
	int64_t R = mk("/act", P, "Child", "The reply", COMMENT_PUBLISHED);
	act(MODERATION_APPROVE, P, &err);
	audits = n_audit();
	is_int(q_int("SELECT ip_sealed IS NOT NULL AND email_domain_sealed IS NOT NULL"
		     " FROM comments WHERE id = ?1",
		     P),
	       1, "before: the address and the e-mail domain are kept sealed");
	is_int(act(MODERATION_DELETE, P, &err), 0, "delete a comment with a reply");
	is_str(col("status", P), "deleted", "it stays as a tombstone");
	is_str(
	    col("author || '|' || text || '|' || html || '|' || coalesce(url, 'null') || '|' ||"
		" " BLOB_OR_NULL(
		    "email_hash") " || '|' || coalesce(ip, 'null') || '|' ||"
				  " " BLOB_OR_NULL("ip_sealed") " || '|' || " BLOB_OR_NULL(
				      "email_domain_sealed") " ||"
							     " '|' || coalesce(user_agent, 'null') "
							     "|| '|' || " BLOB_OR_NULL(
								 "features") " || "
									     "'|' ||"
									     " " BLOB_OR_NULL(
										 "toke"
										 "ns") " || '|' "
										       "||"
										       " " BLOB_OR_NULL(
											   "edit_"
											   "hash") "",
		P),
	    "|||null|null|null|null|null|null|null|null|null",
	    "emptied: no author, text, html, url, hash, address (sealed or not), e-mail "
	    "domain, agent, features, tokens");
	is_int(q_int("SELECT parent_id FROM comments WHERE id = ?1", R), P,
	       "the reply stays under it");
	is_str(col("status", R), "published", "and published");
	is_str(last_audit(), audit_want("delete", P, "published -> tombstone", 0),
	       "audit: tombstone");
	ok(is_404(act(MODERATION_APPROVE, P, &err), &err), "approve a tombstone: 404");
	ok(is_404(act(MODERATION_SPAM, P, &err), &err), "spam a tombstone: 404");
	ok(is_404(act(MODERATION_DELETE, P, &err), &err), "delete a tombstone: 404");
	is_int(n_audit(), audits + 1, "refused actions are not audited");
	ok(!store_in_transaction(conn), "no transaction left open");
}

static void test_bulk(void)
{
	struct comment_error err;
	int64_t B[3], ids[MODERATION_BULK_MAX + 1];
	uint64_t ns0, nh0, ns, nh;
	int64_t audits;
	char *s1, *s2;
	int r;

	B[0] = mk("/bulk", 0, "One", "First of a batch of offers", COMMENT_PENDING);
	B[1] = mk("/bulk", 0, "Two", "Second of a batch of offers", COMMENT_PENDING);
	B[2] = mk("/bulk", 0, "Three", "Third of a batch of offers", COMMENT_PENDING);
	int64_t gone = mk("/bulk", 0, "Gone", "Deleted before the batch", COMMENT_PENDING);
	act(MODERATION_DELETE, gone, &err);

	audits = n_audit();
	s1 = snapshot();
	int64_t bad[] = {B[0], B[1], 999999, B[2]};
	memset(&err, 0, sizeof(err));
	r = moderation_bulk(conn, cl, NULL, "mod", MODERATION_SPAM, bad, 4, &err);
	ok(is_404(r, &err), "bulk with an unknown id: 404 (%d %d)", r, err.status);
	is_str(col("status", B[0]), "pending", "the first id is unchanged");
	is_str(col("status", B[1]), "pending", "the second id is unchanged");
	is_str(col("status", B[2]), "pending", "the id after the bad one is unchanged");
	is_int(n_audit(), audits, "no audit rows");
	s2 = snapshot();
	is_str(s2, s1, "nothing learned");
	free(s2);
	ok(!store_in_transaction(conn), "no transaction left open");

	int64_t bad2[] = {B[0], gone};
	memset(&err, 0, sizeof(err));
	ok(is_404(moderation_bulk(conn, cl, NULL, "mod", MODERATION_APPROVE, bad2, 2, &err), &err),
	   "bulk with a deleted id: 404");
	is_str(col("status", B[0]), "pending", "and the first is unchanged");

	for (size_t i = 0; i < MODERATION_BULK_MAX + 1; i++)
		ids[i] = B[i % 3];
	memset(&err, 0, sizeof(err));
	r = moderation_bulk(conn, cl, NULL, "mod", MODERATION_SPAM, ids, MODERATION_BULK_MAX + 1,
			    &err);
	ok(r == COMMENT_INVALID && err.status == 422 && err.code &&
	       strcmp(err.code, "too_many_ids") == 0,
	   "%d ids: 422 too_many_ids", MODERATION_BULK_MAX + 1);
	ids[MODERATION_BULK_MAX - 1] = 999999;
	memset(&err, 0, sizeof(err));
	r = moderation_bulk(conn, cl, NULL, "mod", MODERATION_SPAM, ids, MODERATION_BULK_MAX, &err);
	ok(is_404(r, &err), "%d ids are accepted (and the unknown last one is 404)",
	   MODERATION_BULK_MAX);
	is_int(n_audit(), audits, "still no audit rows");
	s2 = snapshot();
	is_str(s2, s1, "still nothing learned");
	free(s2);
	free(s1);

	is_int(moderation_bulk(conn, cl, NULL, "mod", MODERATION_SPAM, ids, 0, &err), 0,
	       "no ids: nothing to do");
	is_int(n_audit(), audits, "and nothing audited");

	counts(&ns0, &nh0);
	is_int(moderation_bulk(conn, cl, NULL, "mod", MODERATION_SPAM, B, 3, &err), 0, "bulk spam");
	ok(strcmp(col("status", B[0]), "spam") == 0 && strcmp(col("status", B[1]), "spam") == 0 &&
	       strcmp(col("status", B[2]), "spam") == 0,
	   "all three are spam");
	is_int(n_audit(), audits + 3, "three audit rows");
	counts(&ns, &nh);
	ok(ns == ns0 + 3 && nh == nh0, "three spam learned");
	is_int(q_int("SELECT count(*) FROM audit WHERE action = 'spam' AND actor = 'mod' AND"
		     " comment_id IN (SELECT id FROM comments WHERE thread_id ="
		     " (SELECT id FROM threads WHERE path = '/bulk'))",
		     0),
	       3, "one per comment");
}

static json_t *edit(int64_t id, const char *text, const char *author, int *r,
		    struct comment_error *err)
{
	struct comment_change ch = {.text = text ? strdup(text) : NULL,
				    .author = author ? strdup(author) : NULL};
	json_t *out = NULL;

	memset(err, 0, sizeof(*err));
	*r = moderation_edit(conn, cl, cfg, keys, NULL, "mod", id, &ch, &out, err);
	comment_change_clear(&ch);
	return out;
}

static void test_edit(void)
{
	struct comment_error err;
	uint64_t ns0, nh0, ns, nh;
	json_t *out;
	char *t0, *t1;
	int r;

	int64_t E1 =
	    mk("/edit", 0, "Editor", "Original words about sailing boats", COMMENT_PENDING);
	act(MODERATION_APPROVE, E1, &err);
	t0 = ledger_hex(E1);
	counts(&ns0, &nh0);

	out = edit(E1, "Edited *text* about mountain trains", NULL, &r, &err);
	is_int(r, 0, "edit the text of a learned comment");
	is_str(json_string_value(json_object_get(out, "text")),
	       "Edited *text* about mountain trains", "out: the new text");
	is_str(json_string_value(json_object_get(out, "html")),
	       "<p>Edited <em>text</em> about mountain trains</p>", "out: re-rendered html");
	is_str(json_string_value(json_object_get(out, "author")), "Editor",
	       "out: the author is kept");
	is_int(json_integer_value(json_object_get(out, "id")), E1, "out: the id");
	ok(json_object_get(out, "email_hash") && json_object_get(out, "ip_prefix"),
	   "out is the admin form");
	json_decref(out);
	is_str(col("html", E1), "<p>Edited <em>text</em> about mountain trains</p>",
	       "the stored html is re-rendered");
	t1 = ledger_hex(E1);
	ok(t0 && t1 && strcmp(t0, t1) != 0, "the ledger holds the new text's tokens");
	free(t0);
	free(t1);
	is_int(q_int("SELECT count(*) FROM classifier_learned WHERE msg_key = 'comment:' || ?1 AND"
		     " label = 'ham'",
		     E1),
	       1, "still learned as ham");
	counts(&ns, &nh);
	ok(ns == ns0 && nh == nh0, "counts unchanged by relearning");
	is_str(col("features", E1), "(null)", "the old features are dropped");
	is_str(last_audit(), audit_want("edit", E1, "relearned", 0), "audit: edit, relearned");

	out = edit(E1, NULL, "  New Name\xe2\x80\x8b ", &r, &err);
	is_int(r, 0, "edit only the author");
	is_str(json_string_value(json_object_get(out, "author")), "New Name",
	       "trimmed, invisible characters stripped");
	is_str(json_string_value(json_object_get(out, "text")),
	       "Edited *text* about mountain trains", "the text is kept");
	json_decref(out);
	is_str(col("author", E1), "New Name", "stored");

	/* A spam-learned comment stays spam. */
	int64_t E2 = mk("/edit", 0, "Promo", "Buy followers cheap today", COMMENT_PENDING);
	act(MODERATION_SPAM, E2, &err);
	counts(&ns0, &nh0);
	out = edit(E2, "Buy likes cheap today", NULL, &r, &err);
	is_int(r, 0, "edit a spam-learned comment");
	json_decref(out);
	is_int(q_int("SELECT count(*) FROM classifier_learned WHERE msg_key = 'comment:' || ?1 AND"
		     " label = 'spam'",
		     E2),
	       1, "relearned as spam");
	counts(&ns, &nh);
	ok(ns == ns0 && nh == nh0, "counts unchanged");
	is_str(col("status", E2), "spam", "status unchanged");

	/* An unlearned comment is not learned by an edit. */
	int64_t E3 = mk("/edit", 0, "Waiting", "Held for review", COMMENT_PENDING);
	char *s1 = snapshot();
	out = edit(E3, "Held for review, edited", NULL, &r, &err);
	is_int(r, 0, "edit an unlearned comment");
	json_decref(out);
	char *s2 = snapshot();
	is_str(s2, s1, "nothing learned");
	free(s1);
	free(s2);
	is_str(last_audit(), audit_want("edit", E3, "null", 0), "audit: edit, detail null");

	/* Validation. */
	{
		char long_text[2048], long_author[256];
		int64_t audits = n_audit();
		memset(long_text, 'x', cfg->max_text + 1);
		long_text[cfg->max_text + 1] = '\0';
		memset(long_author, 'y', cfg->max_author + 1);
		long_author[cfg->max_author + 1] = '\0';
		static const struct {
			const char *text, *author, *what;
		} bad[] = {
		    {"", NULL, "empty text"},
		    {"   \n\t ", NULL, "white space only"},
		    {"\xe2\x80\x8b\xe2\x80\x8b", NULL, "invisible characters only"},
		    {"bad \xff bytes", NULL, "invalid UTF-8 text"},
		    {"bell\x07", NULL, "a control character"},
		    {"csi \xc2\x9b", NULL, "a C1 control"},
		    {NULL, "", "empty author"},
		    {NULL, "   ", "white-space author"},
		    {NULL, "\xe2\x80\x8b", "invisible author"},
		    {NULL, "Two\nLines", "a newline in the author"},
		    {NULL, "Tab\tbed", "a tab in the author"},
		    {NULL, "bad\xff", "invalid UTF-8 author"},
		};
		for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
			out = edit(E3, bad[i].text, bad[i].author, &r, &err);
			ok(r == COMMENT_INVALID && (err.status == 422 || err.status == 400) &&
			       err.code && err.message[0] && out == NULL,
			   "edit: %s is refused (%d %d %s)", bad[i].what, r, err.status,
			   err.code ? err.code : "-");
			json_decref(out);
		}
		out = edit(E3, long_text, NULL, &r, &err);
		ok(r == COMMENT_INVALID && err.status == 422,
		   "edit: text of max_text+1 characters");
		json_decref(out);
		long_text[cfg->max_text] = '\0';
		out = edit(E3, long_text, NULL, &r, &err);
		is_int(r, 0, "edit: text of max_text characters is fine");
		json_decref(out);
		out = edit(E3, NULL, long_author, &r, &err);
		ok(r == COMMENT_INVALID && err.status == 422,
		   "edit: author of max_author+1 characters");
		json_decref(out);
		out = edit(E3, "Held for review, edited", NULL, &r, &err);
		json_decref(out);
		is_int(n_audit(), audits + 2, "refused edits are not audited");
		is_str(col("text || '|' || author", E3), "Held for review, edited|Waiting",
		       "refused edits changed nothing");
		ok(!store_in_transaction(conn), "no transaction left open");
	}

	/* Unknown and deleted comments. */
	out = edit(999999, "text", NULL, &r, &err);
	ok(is_404(r, &err) && out == NULL, "edit an unknown id: 404");
	int64_t E4 = mk("/edit", 0, "Parent", "Will be a tombstone", COMMENT_PUBLISHED);
	mk("/edit", E4, "Kid", "Keeps it alive", COMMENT_PUBLISHED);
	act(MODERATION_DELETE, E4, &err);
	out = edit(E4, "resurrected", NULL, &r, &err);
	ok(is_404(r, &err) && out == NULL, "edit a tombstone: 404");
	is_str(col("text", E4), "", "the tombstone stays empty");
}

static void test_stats(void)
{
	struct classify_settings cs;
	json_t *out = NULL, *c, *k;
	struct comment_error err;
	uint64_t ns, nh;
	int64_t now = (int64_t)time(NULL), ids[3] = {0};

	unsigned char h[KEYS_HASH_BYTES] = {1};

	is_int(comment_discard(conn, "default", now, h, NULL, 0, &ids[0], &err), 0,
	       "a discard is counted");
	is_int(comment_discard(conn, "default", now, h, NULL, 0, &ids[1], &err), 0, "a second one");
	is_int(comment_discard(conn, "default", now - 3 * DAY, h, "x", 1, &ids[2], &err), 0,
	       "one three days ago");
	is_int(q_int("SELECT count(*) FROM decoys WHERE id IN (?1)", ids[0]), 1,
	       "each leaves a decoy record");
	ok(ids[0] > 0 && ids[1] > ids[0] && ids[2] > ids[1], "each takes a new id");
	classify_settings_default(&cs);
	is_int(moderation_stats(conn, cl, &cs, NULL, NULL, &out), 0, "moderation_stats");
	c = json_object_get(out, "comments");
	k = json_object_get(out, "classifier");
	is_int(json_object_size(out), 5,
	       "five members: comments, discarded, classifier, decisions_30d, reversals_30d");
	is_int(json_object_size(c), 4, "four statuses");
	is_int(json_integer_value(json_object_get(c, "published")),
	       q_int("SELECT count(*) FROM comments WHERE status = 'published'", 0),
	       "published count");
	is_int(json_integer_value(json_object_get(c, "pending")),
	       q_int("SELECT count(*) FROM comments WHERE status = 'pending'", 0), "pending count");
	is_int(json_integer_value(json_object_get(c, "spam")),
	       q_int("SELECT count(*) FROM comments WHERE status = 'spam'", 0), "spam count");
	is_int(json_integer_value(json_object_get(c, "deleted")),
	       q_int("SELECT count(*) FROM comments WHERE status = 'deleted'", 0), "deleted count");
	ok(json_integer_value(json_object_get(c, "deleted")) > 0 &&
	       json_integer_value(json_object_get(c, "spam")) > 0,
	   "(the test data has each status)");
	is_int(json_integer_value(json_object_get(out, "discarded")), 3, "discarded: 3");
	counts(&ns, &nh);
	is_int(json_integer_value(json_object_get(k, "tokens")),
	       q_int("SELECT count(*) FROM classifier_tokens", 0), "classifier tokens");
	is_int(json_integer_value(json_object_get(k, "learned_spam")), ns, "learned_spam");
	is_int(json_integer_value(json_object_get(k, "learned_ham")), nh, "learned_ham");
	ok(json_real_value(json_object_get(k, "ham_cutoff")) == cs.ham_cutoff &&
	       json_real_value(json_object_get(k, "spam_cutoff")) == cs.spam_cutoff &&
	       json_real_value(json_object_get(k, "discard_cutoff")) == cs.discard_cutoff,
	   "the cut-offs");
	is_int(json_integer_value(json_object_get(k, "min_learned")), cs.min_learned,
	       "min_learned");
	ok(json_is_true(json_object_get(k, "cold_start")), "cold start (few learned)");
	int64_t decisions =
	    q_int("SELECT count(*) FROM audit WHERE action IN ('approve', 'spam')", 0);
	int64_t reversals = q_int("SELECT count(*) FROM audit WHERE reversal = 1", 0);
	is_int(json_integer_value(json_object_get(out, "decisions_30d")), decisions,
	       "decisions_30d (%lld)", (long long)decisions);
	is_int(json_integer_value(json_object_get(out, "reversals_30d")), reversals,
	       "reversals_30d (%lld)", (long long)reversals);
	ok(reversals >= 2, "(some reversals)");
	json_decref(out);

	/* Older than 30 days does not count; edits and deletes never do. */
	exec("UPDATE audit SET at = ?1 WHERE id = (SELECT max(id) FROM audit WHERE reversal = 1)",
	     now - 31 * DAY, 0);
	cs.min_learned = 1;
	moderation_stats(conn, cl, &cs, NULL, NULL, &out);
	is_int(json_integer_value(json_object_get(out, "decisions_30d")), decisions - 1,
	       "a decision 31 days old is not counted");
	is_int(json_integer_value(json_object_get(out, "reversals_30d")), reversals - 1,
	       "nor its reversal");
	k = json_object_get(out, "classifier");
	ok(json_is_false(json_object_get(k, "cold_start")), "min_learned 1: no cold start");
	is_int(json_integer_value(json_object_get(k, "min_learned")), 1, "min_learned 1");
	json_decref(out);
	exec("UPDATE audit SET at = ?1 WHERE at = ?2", now, now - 31 * DAY);
}

/* The entry of a series for the day offset days before now's. */
static json_t *series_day(json_t *out, unsigned back)
{
	json_t *series = json_object_get(out, "series");

	return json_array_get(series, json_array_size(series) - 1 - back);
}

static json_int_t day_n(json_t *out, unsigned back, const char *key)
{
	return json_integer_value(json_object_get(series_day(out, back), key));
}

static void test_series(void)
{
	int64_t now = (int64_t)time(NULL), id;
	json_t *before = NULL, *after = NULL;
	struct comment_error err;
	char date[32];
	time_t t = (time_t)now;
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(date, sizeof(date), "%Y-%m-%d", &tm);
	is_int(moderation_series(conn, NULL, 0, now, &before), -EINVAL, "0 days: -EINVAL");
	is_int(moderation_series(conn, NULL, MODERATION_DAYS_MAX + 1, now, &before), -EINVAL,
	       "%d days: -EINVAL", MODERATION_DAYS_MAX + 1);
	is_int(moderation_series(conn, NULL, 1, now, &before), 0, "one day");
	is_int((int)json_array_size(json_object_get(before, "series")), 1, "  one entry");
	is_str(json_string_value(json_object_get(series_day(before, 0), "date")), date,
	       "  today's date (UTC)");
	is_int(json_object_size(series_day(before, 0)), 8,
	       "  date, published, held, spam, discarded, decisions, reversals, agreement");
	json_decref(before);

	is_int(moderation_series(conn, NULL, 7, now, &before), 0, "seven days");
	is_int((int)json_array_size(json_object_get(before, "series")), 7, "  seven entries");
	is_int(json_integer_value(json_object_get(before, "days")), 7, "  days: 7");
	mk("/series", 0, "Sanne", "Een gewone reactie.", COMMENT_PUBLISHED);
	mk("/series", 0, "Sem", "Nog een gewone reactie.", COMMENT_PUBLISHED);
	id = mk("/series", 0, "Held", "Wacht op een moderator.", COMMENT_PENDING);
	mk("/series", 0, "Promo", "Koop nu goedkope dingen.", COMMENT_SPAM);
	int64_t spam_id = mk("/series", 0, "Promo2", "Koop nu nog meer dingen.", COMMENT_SPAM);
	{
		unsigned char h[KEYS_HASH_BYTES] = {0};
		int64_t x;
		is_int(comment_discard(conn, "default", now, h, NULL, 0, &x, &err), 0,
		       "a discard today");
		is_int(comment_discard(conn, "default", now - 2 * DAY, h, NULL, 0, &x, &err), 0,
		       "one two days ago");
	}
	is_int(moderation_act(conn, cl, NULL, "test", MODERATION_APPROVE, id, &err), 0,
	       "approve the held one");
	is_int(moderation_act(conn, cl, NULL, "test", MODERATION_APPROVE, spam_id, &err), 0,
	       "approve one filed as spam (a reversal)");
	is_int(moderation_series(conn, NULL, 7, now, &after), 0, "seven days again");
	is_int(day_n(after, 0, "published") - day_n(before, 0, "published"), 2,
	       "  +2 published today");
	is_int(day_n(after, 0, "held") - day_n(before, 0, "held"), 1, "  +1 held");
	is_int(day_n(after, 0, "spam") - day_n(before, 0, "spam"), 2, "  +2 spam");
	is_int(day_n(after, 0, "discarded") - day_n(before, 0, "discarded"), 1, "  +1 discarded");
	is_int(day_n(after, 2, "discarded") - day_n(before, 2, "discarded"), 1,
	       "  +1 discarded two days ago");
	is_int(day_n(after, 0, "decisions") - day_n(before, 0, "decisions"), 2, "  +2 decisions");
	is_int(day_n(after, 0, "reversals") - day_n(before, 0, "reversals"), 1, "  +1 reversal");
	{
		double dec = (double)day_n(after, 0, "decisions"),
		       rev = (double)day_n(after, 0, "reversals");
		double got = json_real_value(json_object_get(series_day(after, 0), "agreement"));
		ok(got > 1 - rev / dec - 1e-9 && got < 1 - rev / dec + 1e-9,
		   "  today's agreement is 1 - reversals / decisions (%.3f)", got);
	}
	ok(json_is_null(json_object_get(series_day(after, 3), "agreement")),
	   "  a day without decisions has no agreement");
	ok(json_is_real(json_object_get(after, "agreement")), "  the period's agreement");
	json_decref(before);
	json_decref(after);
	/* Spam retention and deletions leave the series as it was. */
	is_int(moderation_series(conn, NULL, 7, now, &before), 0, "before a deletion");
	exec("DELETE FROM comments WHERE id = ?1", spam_id - 1, 0);
	is_int(moderation_series(conn, NULL, 7, now, &after), 0, "after it");
	is_int(day_n(after, 0, "spam"), day_n(before, 0, "spam"), "  the day's spam count stays");
	json_decref(before);
	json_decref(after);
}

static void test_context(void)
{
	struct moderation_query mq = {.thread = "/context", .limit = 10};
	char parent_text[200];
	json_t *out = NULL, *reply = NULL, *top = NULL, *e, *x, *tok;
	int64_t pid, rid;
	size_t i;

	/* 170 characters, the last ones two bytes each. */
	memset(parent_text, 'a', 150);
	for (int k = 0; k < 20; k++)
		memcpy(parent_text + 150 + 2 * k, "\xc3\xa9", 2);
	parent_text[190] = '\0';
	pid = mk("/context", 0, "Danny", parent_text, COMMENT_PUBLISHED);
	rid = mk("/context", pid, "Sjef", "Dank je!", COMMENT_PUBLISHED);
	exec("UPDATE threads SET title = 'Social media realities',"
	     " url = 'https://blog.example.nl/2011/01/x' WHERE path = '/context' AND ?1 = ?1",
	     0, 0);
	exec("UPDATE comments SET tokens = '[{\"token\":\"m:email:example.org\",\"p\":0.9,"
	     "\"spam\":1,\"ham\":0},{\"token\":\"url:bit.ly\",\"p\":0.8,\"spam\":1,\"ham\":0}]'"
	     " WHERE id = ?1",
	     rid, 0);
	is_int(moderation_list(conn, keys, &mq, &out), 0, "list the thread");
	json_array_foreach(json_object_get(out, "comments"), i, e)
	{
		if (json_integer_value(json_object_get(e, "id")) == rid)
			reply = e;
		if (json_integer_value(json_object_get(e, "id")) == pid)
			top = e;
	}
	ok(reply && top, "both listed");
	is_str(json_string_value(json_object_get(reply, "page_title")), "Social media realities",
	       "the article's title");
	is_str(json_string_value(json_object_get(reply, "page_url")),
	       "https://blog.example.nl/2011/01/x", "and its address");
	x = json_object_get(reply, "parent_excerpt");
	is_int(json_integer_value(json_object_get(x, "id")), pid,
	       "a reply's parent excerpt: its id");
	is_str(json_string_value(json_object_get(x, "author")), "Danny", "  author");
	{
		const char *t = json_string_value(json_object_get(x, "text"));
		size_t chars = 0;
		for (const char *p = t; p && *p; p++)
			chars += ((unsigned char)*p & 0xc0) != 0x80;
		is_int((int)chars, 161, "  160 characters and an ellipsis");
		ok(t && strcmp(t + strlen(t) - 3, "\xe2\x80\xa6") == 0, "  ending in \u2026");
		ok(t && strncmp(t + 150, "\xc3\xa9", 2) == 0, "  cut between characters");
	}
	ok(json_is_false(json_object_get(x, "deleted")), "  not deleted");
	ok(json_is_null(json_object_get(top, "parent_excerpt")), "a top-level comment has none");
	tok = json_array_get(json_object_get(reply, "tokens"), 0);
	is_str(json_string_value(json_object_get(tok, "kind")), "email_domain",
	       "a stored e-mail domain token is shown as its kind");
	is_str(json_string_value(json_object_get(tok, "token")), "m:email:", "  without its value");
	ok(json_is_null(json_object_get(tok, "text")), "  and no text");
	tok = json_array_get(json_object_get(reply, "tokens"), 1);
	is_str(json_string_value(json_object_get(tok, "text")), "bit.ly", "a link keeps its text");
	{
		char *dump = json_dumps(out, JSON_COMPACT);
		ok(dump && !strstr(dump, "example.org"),
		   "the e-mail domain is nowhere in the list");
		free(dump);
	}
	json_decref(out);
}

/* Counts the values in every table that contain needle (len bytes). */
static int64_t scan_tables(const void *needle, size_t len, char *where, size_t where_len)
{
	return fixture_scan_tables(conn, needle, len, where, where_len);
}

static int64_t scan_str(const char *s, char *where, size_t where_len)
{
	return scan_tables(s, strlen(s), where, where_len);
}

static void test_privacy(void)
{
	struct comment_error err;
	json_t *out = NULL, *list;
	unsigned char erin_hash[KEYS_HASH_BYTES];
	char erin_hex[13], where[128];
	uint64_t ns0, nh0, ns, nh;
	int r;

	keys_hash(keys, KEYS_EMAIL, "erin@example.org", 16, erin_hash);
	sodium_bin2hex(erin_hex, sizeof(erin_hex), erin_hash, 6);

	int64_t X1 =
	    mk_full("/privacy", 0, "Erinna Quill", "Erin@Example.org", "https://erinna.example/",
		    "Notes from my secret garden", "203.0.113.50", COMMENT_PUBLISHED, true);
	int64_t F1 = mk_full("/privacy", X1, "Finn", "finn@example.org", NULL,
			     "A reply from someone else", "198.51.100.60", COMMENT_PUBLISHED, true);
	int64_t X2 = mk_full("/privacy", 0, "Erinna Quill", "erin@example.org", NULL,
			     "Second thought on tulips", "203.0.113.50", COMMENT_PENDING, true);
	int64_t X3 =
	    mk_full("/privacy", X1, "Erinna Quill", "ERIN@example.org", NULL,
		    "Answering myself about herbs", "203.0.113.50", COMMENT_PUBLISHED, true);
	int64_t G1 = mk_full("/privacy", 0, "Gil Marsh", "gil@example.org", "https://gil.example/",
			     "A lovely recipe for bread", "203.0.113.77", COMMENT_PUBLISHED, true);
	ok(X1 > 0 && F1 > 0 && X2 > 0 && X3 > 0 && G1 > 0, "comments for the privacy requests");
	act(MODERATION_APPROVE, X1, &err);
	act(MODERATION_SPAM, X2, &err);
	act(MODERATION_APPROVE, G1, &err);

	/* Export. */
	is_int(moderation_export(conn, keys, NULL, "  ERIN@example.ORG \n", &out), 0,
	       "export (address normalised as for new comments)");
	list = json_object_get(out, "comments");
	is_int(json_array_size(list), 3, "three comments");
	ok(json_integer_value(json_object_get(json_array_get(list, 0), "id")) == X1 &&
	       json_integer_value(json_object_get(json_array_get(list, 1), "id")) == X2 &&
	       json_integer_value(json_object_get(json_array_get(list, 2), "id")) == X3,
	   "oldest first, only Erin's");
	is_str(json_string_value(json_object_get(json_array_get(list, 0), "email_hash")), erin_hex,
	       "in the admin form (email_hash prefix)");
	is_str(json_string_value(json_object_get(json_array_get(list, 1), "text")),
	       "Second thought on tulips", "with the text");
	{
		char *dump = json_dumps(out, 0);
		ok(dump && !strstr(dump, "erin@example.org") && !strstr(dump, "ERIN@"),
		   "the export does not repeat the e-mail address");
		free(dump);
		dump = NULL;
	}
	{
		json_t *first = json_array_get(list, 0);
		is_str(json_string_value(json_object_get(first, "ip")), "203.0.113.50",
		       "the export gives the client address held (opened from its seal)");
		ok(json_is_string(json_object_get(first, "user_agent")), "and the user agent");
		ok(json_object_get(first, "referrer") != NULL,
		   "and the referrer (null: none sent)");
		is_str(json_string_value(json_object_get(first, "email_domain")), "example.org",
		       "and the e-mail domain kept for the edit window");
	}
	json_decref(out);
	out = NULL;
	is_int(moderation_export(conn, keys, NULL, "nobody@example.org", &out), 0,
	       "export for an unknown address");
	is_int(json_array_size(json_object_get(out, "comments")), 0, "is empty");
	json_decref(out);
	out = NULL;
	is_int(moderation_export(conn, keys, NULL, "not-an-address", &out), COMMENT_INVALID,
	       "export without @: COMMENT_INVALID");
	is_int(moderation_export(conn, keys, NULL, "   ", &out), COMMENT_INVALID,
	       "blank: COMMENT_INVALID");
	is_int(moderation_export(conn, keys, NULL, "a\xff@example.org", &out), COMMENT_INVALID,
	       "invalid UTF-8: COMMENT_INVALID");

	/* Before: the scan finds Erin everywhere it should. */
	{
		char av[KEYS_AVATAR_HEX];
		keys_avatar(keys, "erin@example.org", av);
		ok(scan_str(av, where, sizeof(where)) > 0, "(and her avatar seed)");
	}
	ok(scan_str("secret garden", where, sizeof(where)) > 0 &&
	       scan_str("Erinna", where, sizeof(where)) > 0 &&
	       scan_tables(erin_hash, sizeof(erin_hash), where, sizeof(where)) > 0,
	   "before erasure the table scan finds Erin's text, name and hash");
	is_int(scan_str("203.0.113.50", where, sizeof(where)) + scan_str("203.0.113.0", where, 128),
	       0, "but never her address or its prefix in clear (%s)", where);
	int64_t linked = q_int("SELECT count(*) FROM audit WHERE comment_id IN (SELECT id FROM"
			       " comments WHERE email_hash = (SELECT email_hash FROM comments"
			       " WHERE id = ?1))",
			       X1);
	ok(linked >= 2, "audit rows point at Erin's comments (%lld)", (long long)linked);
	int64_t erased_before = q_int("SELECT count(*) FROM audit WHERE detail = 'erased'", 0);

	/* Erase (delete). */
	counts(&ns0, &nh0);
	out = NULL;
	r = moderation_erase(conn, cl, keys, NULL, "Erin@Example.ORG", false, "mod", &out);
	is_int(r, 0, "erase Erin");
	is_int(json_integer_value(json_object_get(out, "erased")), 3, "{\"erased\": 3}");
	json_decref(out);
	is_str(col("status", X1), "deleted", "X1 (Finn replied) becomes a tombstone");
	is_str(col("author || text || html", X1), "", "an empty one");
	is_str(col("avatar", X1), "", "without the avatar seed");
	is_str(col("id", X2), "(none)", "X2 is removed");
	is_str(col("id", X3), "(none)", "X3 (a reply without replies) is removed");
	is_str(col("status || ':' || author", F1), "published:Finn", "Finn's reply is untouched");
	is_int(q_int("SELECT parent_id FROM comments WHERE id = ?1", F1), X1,
	       "and still hangs below the tombstone");
	is_int(
	    q_int("SELECT count(*) FROM classifier_learned WHERE msg_key = 'comment:' || ?1", X1),
	    0, "comment:X1 is forgotten");
	is_int(
	    q_int("SELECT count(*) FROM classifier_learned WHERE msg_key = 'comment:' || ?1", X2),
	    0, "comment:X2 is forgotten");
	counts(&ns, &nh);
	ok(ns == ns0 - 1 && nh == nh0 - 1, "the classifier unlearned one spam and one ham");
	is_int(q_int("SELECT count(*) FROM audit WHERE comment_id = ?1", X1) +
		   q_int("SELECT count(*) FROM audit WHERE comment_id = ?1", X2) +
		   q_int("SELECT count(*) FROM audit WHERE comment_id = ?1", X3),
	       0, "no audit row points at Erin's comments");
	is_int(
	    q_int("SELECT count(*) FROM audit WHERE detail = 'erased' AND comment_id IS NULL", 0),
	    erased_before + linked, "those rows are unlinked, detail 'erased'");
	is_str(last_audit(), "mod|privacy-erase|null|null|0", "audit: privacy-erase, no comment");

	/* Nothing of Erin is left in any table. */
	char erin_avatar[KEYS_AVATAR_HEX];
	keys_avatar(keys, "erin@example.org", erin_avatar);
	const char *const needles[] = {"secret garden", "tulips", "herbs",
				       "Erinna",	"Quill",  "erinna.example",
				       "203.0.113.50",	erin_hex, erin_avatar};
	for (size_t i = 0; i < sizeof(needles) / sizeof(*needles); i++)
		is_int(scan_str(needles[i], where, sizeof(where)), 0, "no \"%s\" in any table%s%s",
		       needles[i], where[0] ? ": " : "", where);
	is_int(scan_tables(erin_hash, sizeof(erin_hash), where, sizeof(where)), 0,
	       "no e-mail hash in any table%s%s", where[0] ? ": " : "", where);
	ok(scan_str("A reply from someone else", where, sizeof(where)) > 0,
	   "(Finn's text is still found)");
	out = NULL;
	moderation_export(conn, keys, NULL, "erin@example.org", &out);
	is_int(json_array_size(json_object_get(out, "comments")), 0, "export now finds nothing");
	json_decref(out);
	out = NULL;
	is_int(moderation_erase(conn, cl, keys, NULL, "erin@example.org", false, "mod", &out), 0,
	       "erase again");
	is_int(json_integer_value(json_object_get(out, "erased")), 0, "erases nothing");
	json_decref(out);
	out = NULL;
	is_int(moderation_erase(conn, cl, keys, NULL, "no-at-sign", false, "mod", &out),
	       COMMENT_INVALID, "erase without @: COMMENT_INVALID");
	ok(out == NULL, "and no answer");

	/* Erase (anonymise). */
	int64_t g_audits = q_int("SELECT count(*) FROM audit WHERE comment_id = ?1", G1);
	counts(&ns0, &nh0);
	out = NULL;
	is_int(moderation_erase(conn, cl, keys, NULL, "gil@example.org", true, "mod", &out), 0,
	       "anonymise Gil");
	is_int(json_integer_value(json_object_get(out, "erased")), 1, "{\"erased\": 1}");
	json_decref(out);
	is_str(col("author", G1), "Anonymous", "the author is Anonymous");
	is_str(col("coalesce(url, 'null') || coalesce(ip, 'null') || coalesce(user_agent, 'null')"
		   " || " BLOB_OR_NULL("email_hash") " || " BLOB_OR_NULL(
		       "features") " ||"
				   " " BLOB_OR_NULL("tokens") " || " BLOB_OR_NULL(
				       "edit_hash") " || '|' || avatar",
		   G1),
	       "nullnullnullnullnullnullnull|",
	       "no URL, IP, user agent, e-mail hash, features, tokens, edit hash or avatar");
	is_str(col("text || '|' || status", G1), "A lovely recipe for bread|published",
	       "the text and status are kept");
	is_int(
	    q_int("SELECT count(*) FROM classifier_learned WHERE msg_key = 'comment:' || ?1", G1),
	    0, "comment:G1 is forgotten");
	counts(&ns, &nh);
	ok(ns == ns0 && nh == nh0 - 1, "one ham unlearned");
	is_int(q_int("SELECT count(*) FROM audit WHERE comment_id = ?1", G1), g_audits,
	       "audit rows stay linked to the anonymised comment");
	is_str(last_audit(), "mod|privacy-anonymise|null|null|0", "audit: privacy-anonymise");
	is_int(scan_str("Gil Marsh", where, sizeof(where)) + scan_str("gil.example", where, 128) +
		   scan_str("203.0.113.77", where, 128),
	       0, "no name, URL or IP of Gil in any table");
	ok(!store_in_transaction(conn), "no transaction left open");
}

/* Where needle occurs in the file at path: 1, 0 not, -1 unreadable. */
static int file_has(const char *path, const char *needle)
{
	FILE *f = fopen(path, "rb");
	char *data = NULL;
	size_t cap = 0, len = 0, got;
	int found = -1;

	if (!f)
		return -1;
	do {
		if (len == cap) {
			char *grown = realloc(data, cap = cap ? cap * 2 : 1 << 16);
			if (!grown)
				break;
			data = grown;
		}
		got = fread(data + len, 1, cap - len, f);
		len += got;
	} while (got > 0);
	if (feof(f))
		found = memmem(data, len, needle, strlen(needle)) != NULL;
	fclose(f);
	free(data);
	return found;
}

/* The server's files of this database (PostgreSQL; the test's server,
 * tests/pgserver.py, runs where the test can read its directory) holding
 * needle, after a CHECKPOINT has written every changed page out: how many
 * (the first in where), or -1 when they cannot be read.  With rel, only
 * that relation's main file. */
static int server_files_with(const char *needle, const char *rel, char *where, size_t where_len)
{
	char *data = q_str("SELECT setting FROM pg_settings WHERE name = 'data_directory'", 0);
	char *dbdir = q_str("SELECT 'base/' || oid FROM pg_database WHERE datname = "
			    "current_database()",
			    0);
	char path[1024];
	struct dirent *e;
	DIR *d = NULL;
	int n = -1;

	where[0] = '\0';
	if (!data || !dbdir || store_exec(conn, "CHECKPOINT") != 0)
		goto out;
	if (rel) {
		char sql[128], *file;
		snprintf(sql, sizeof(sql), "SELECT pg_relation_filepath('%s')", rel);
		file = q_str(sql, 0);
		snprintf(path, sizeof(path), "%s/%s", data, file ? file : "?");
		free(file);
		n = file_has(path, needle);
		if (n > 0)
			snprintf(where, where_len, "%s", rel);
		goto out;
	}
	snprintf(path, sizeof(path), "%s/%s", data, dbdir);
	if (!(d = opendir(path)))
		goto out;
	n = 0;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s/%s", data, dbdir, e->d_name);
		if (file_has(path, needle) == 1 && n++ == 0)
			snprintf(where, where_len, "%s", e->d_name);
	}
	closedir(d);
out:
	free(data);
	free(dbdir);
	return n;
}

/* The tables owed a compaction, "a,b" ("" none; SQLite has no list). */
static const char *owed_tables(void)
{
	static char buf[128];
	char *list = q_str("SELECT string_agg(tbl, ',' ORDER BY tbl) FROM compact_pending", 0);

	snprintf(buf, sizeof(buf), "%s", list ? list : "");
	free(list);
	return buf;
}

/* What an erasure leaves in the files.  SQLite: nothing to compact (the
 * erased rows are zeroed at once: test-comment, test-search).  PostgreSQL:
 * the erasure owes its tables a compaction; the row is gone at once, the
 * bytes may stay in the table's files until store_compact(full) has
 * rewritten them, and are gone from every file of the database after it. */
static void test_compaction(void)
{
	static const char secret[] = "zqvault Ottoline's compactable secret";
	char where[256];
	unsigned n = 99;
	int64_t id;
	json_t *out = NULL;

	if (!store_postgresql(conn)) {
		is_int(store_compact_owed(conn), 0, "SQLite: no compaction owed after erasures");
		is_int(store_compact(conn, true, &n), 0, "  compacting does nothing");
		is_int(n, 0, "  and rewrites no table");
		return;
	}
	/* test_privacy's erasure and anonymisation owe. */
	is_str(owed_tables(), "audit,classifier_learned,comments",
	       "the erasures owe their tables a compaction");
	is_int(store_compact_owed(conn), 3, "  three tables");
	is_int(store_compact(conn, true, &n), 0, "compaction (VACUUM FULL)");
	is_int(n, 3, "  rewrote the three");
	is_str(owed_tables(), "", "  and paid what was owed");

	id = mk_full("/vault", 0, "Ottoline", "otto@example.org", NULL, secret, "203.0.113.9",
		     COMMENT_PUBLISHED, true);
	ok(id > 0, "a comment to erase");
	is_int(server_files_with(secret, "comments", where, sizeof(where)), 1,
	       "its text is in the comments table's file (the check sees it: %s)", where);
	is_int(moderation_erase(conn, cl, keys, NULL, "otto@example.org", false, "mod", &out), 0,
	       "erase it");
	json_decref(out);
	is_int(q_int("SELECT count(*) FROM comments WHERE text LIKE '%zqvault%'", 0), 0,
	       "the row is gone at once");
	is_str(owed_tables(), "audit,classifier_learned,comments", "its tables owe a compaction");
	/* Until the compaction the bytes may or may not be in the files
	 * (nothing promised; said for the log). */
	diag("after the erasure's plain VACUUM, before the compaction, the text is in %d "
	     "file(s) of the database",
	     server_files_with(secret, NULL, where, sizeof(where)));
	is_int(store_compact(conn, true, &n), 0, "compaction");
	is_int(n, 3, "  rewrote the three tables");
	is_int(server_files_with(secret, NULL, where, sizeof(where)), 0,
	       "the erased text is in no file of the database%s%s", where[0] ? ": " : "", where);
	is_int(server_files_with("Ottoline", NULL, where, sizeof(where)), 0,
	       "  nor is the author's name%s%s", where[0] ? ": " : "", where);
	is_str(owed_tables(), "", "nothing owed");
	/* A plain VACUUM (the erasure's own) pays nothing. */
	is_int(q_int("INSERT INTO compact_pending (tbl, since) VALUES ('audit', 0) RETURNING debts",
		     0),
	       1, "a debt");
	is_int(store_compact(conn, false, &n), 0, "a plain VACUUM");
	is_str(owed_tables(), "audit", "  keeps the debt");
	is_int(store_compact(conn, true, &n), 0, "a compaction");
	is_str(owed_tables(), "", "  pays it");
	ok(!store_in_transaction(conn), "no transaction left open");
}

/* A trigger that makes the statement doing event (DELETE or UPDATE) on the
 * comments fail where cond holds (of OLD and NEW): a write refused in the
 * middle of a transaction, as a full disk or a broken server would. */
static void fail_trigger(const char *event, const char *cond)
{
	char sql[800];

	if (!store_postgresql(conn))
		snprintf(sql, sizeof(sql),
			 "CREATE TRIGGER fail_mid BEFORE %s ON comments WHEN %s"
			 " BEGIN SELECT RAISE(FAIL, 'disk on fire'); END",
			 event, cond);
	else
		snprintf(sql, sizeof(sql),
			 "CREATE FUNCTION fail_mid() RETURNS trigger LANGUAGE plpgsql AS $$"
			 " BEGIN IF %s THEN RAISE EXCEPTION 'disk on fire'; END IF;"
			 " IF TG_OP = 'DELETE' THEN RETURN OLD; END IF; RETURN NEW; END $$;"
			 " CREATE TRIGGER fail_mid BEFORE %s ON comments FOR EACH ROW"
			 " EXECUTE FUNCTION fail_mid()",
			 cond, event);
	ok(store_exec(conn, sql) == 0, "a trigger that fails a %s of the comments", event);
}

static void fail_trigger_drop(void)
{
	ok(store_exec(conn, !store_postgresql(conn) ? "DROP TRIGGER fail_mid"
						    : "DROP TRIGGER fail_mid ON comments;"
						      " DROP FUNCTION fail_mid()") == 0,
	   "the trigger dropped");
}

/* Everything an erasure or a bulk action writes (comments, audit, the
 * classifier's tables, subscriptions and, on PostgreSQL, the compaction
 * owed), as one text (caller frees). */
static char *written(void)
{
	char *s = NULL, *k;
	size_t n = 0;
	FILE *f = open_memstream(&s, &n);

	if (!f)
		return strdup("(none)");
	rows_to(f,
		"SELECT id, status, author, text, email_hash FROM comments"
		" ORDER BY id",
		"::::");
	fputc('|', f);
	rows_to(f,
		"SELECT id, action, coalesce(CAST(comment_id AS TEXT), '-'), coalesce(detail, '-')"
		" FROM audit ORDER BY id",
		":::");
	fputc('|', f);
	rows_to(f, "SELECT id FROM subscriptions ORDER BY id", "");
	fputc('|', f);
	fputs(store_postgresql(conn) ? owed_tables() : "", f);
	fputc('|', f);
	k = snapshot();
	fputs(k, f);
	free(k);
	fclose(f);
	return s;
}

/* Erasure and bulk moderation are all-or-nothing (store_begin_whole): a
 * write that fails in the middle, after others of the same request were
 * done, leaves nothing of the request, on either engine. */
static void test_midway_failure(void)
{
	struct comment_error err = {0};
	json_t *out = NULL;
	int64_t H[3], B[3];
	char cond[160], *before, *after;

	H[0] = mk("/midway", 0, "Hana", "Hana writes about her orchard", COMMENT_PENDING);
	H[1] = mk("/midway", 0, "Hana", "Hana on pruning the apple trees", COMMENT_PENDING);
	H[2] = mk("/midway", 0, "Hana", "Hana and the late frost", COMMENT_PENDING);
	is_int(act(MODERATION_APPROVE, H[0], &err), 0, "Hana's first approved (learned, audited)");
	is_int(act(MODERATION_SPAM, H[1], &err), 0, "her second marked spam");
	is_int(act(MODERATION_APPROVE, H[2], &err), 0, "her third approved");

	/* Newest first: H[2] and H[1] are erased before H[0]'s removal fails. */
	snprintf(cond, sizeof(cond), "OLD.id = %lld", (long long)H[0]);
	fail_trigger("DELETE", cond);
	before = written();
	ok(moderation_erase(conn, cl, keys, NULL, "hana@example.org", false, "mod", &out) < 0,
	   "an erasure whose last removal fails fails");
	ok(out == NULL, "with no answer");
	after = written();
	is_str(after, before,
	       "and leaves nothing of it: comments, audit, learning, subscriptions, debts");
	free(after);
	ok(!store_in_transaction(conn), "no transaction left open");
	is_str(col("status", H[2]), "published", "(Hana's newest is still there)");
	fail_trigger_drop();
	is_int(moderation_erase(conn, cl, keys, NULL, "hana@example.org", false, "mod", &out), 0,
	       "without the trigger the erasure succeeds");
	is_int(json_integer_value(json_object_get(out, "erased")), 3, "all three");
	json_decref(out);
	free(before);

	B[0] = mk("/midway", 0, "Ivo", "Ivo sells cheap watches", COMMENT_PENDING);
	B[1] = mk("/midway", 0, "Jan", "Jan sells cheap watches too", COMMENT_PENDING);
	B[2] = mk("/midway", 0, "Kai", "Kai sells the cheapest watches", COMMENT_PENDING);
	snprintf(cond, sizeof(cond), "OLD.id = %lld AND NEW.status = 'spam'", (long long)B[2]);
	fail_trigger("UPDATE", cond);
	before = written();
	memset(&err, 0, sizeof(err));
	ok(moderation_bulk(conn, cl, NULL, "mod", MODERATION_SPAM, B, 3, &err) < 0,
	   "a bulk action whose last write fails fails");
	after = written();
	is_str(after, before, "and leaves nothing of it (the first two not spam, nothing learned)");
	free(after);
	free(before);
	ok(!store_in_transaction(conn), "no transaction left open");
	fail_trigger_drop();
	is_int(moderation_bulk(conn, cl, NULL, "mod", MODERATION_SPAM, B, 3, &err), 0,
	       "without the trigger the bulk action succeeds");
	is_str(col("status", B[2]), "spam", "(the last is spam)");
}

static void test_maintain(void)
{
	struct comment_error err;
	struct maintenance_report rep;
	int64_t now = (int64_t)time(NULL);
	const unsigned spam_days = 15, ip_days = 30, prune_days = 60;
	const struct moderation_retention rt = {spam_days, ip_days, prune_days, 900, NULL, 0};

	/* Spam retention. */
	int64_t s_old = mk("/maint", 0, "OldSpam", "Ancient spam offer", COMMENT_SPAM);
	int64_t s_new = mk("/maint", 0, "NewSpam", "Recent spam offer", COMMENT_SPAM);
	int64_t s_rep =
	    mk("/maint", 0, "Answered", "Published then marked spam", COMMENT_PUBLISHED);
	int64_t s_rep_r = mk("/maint", s_rep, "Answerer", "A reply to it", COMMENT_PUBLISHED);
	act(MODERATION_SPAM, s_rep, &err);
	int64_t p_old = mk("/maint", 0, "OldPending", "Old but pending", COMMENT_PENDING);
	/* Spam approved later leaves the spam-only index (schema 0017). */
	int64_t s_freed = mk("/maint", 0, "Freed", "Spam then approved", COMMENT_SPAM);
	act(MODERATION_APPROVE, s_freed, &err);
	exec("UPDATE comments SET created = ?2 WHERE id = ?1", s_old, now - 20 * DAY);
	exec("UPDATE comments SET created = ?2 WHERE id = ?1", s_freed, now - 20 * DAY);
	exec("UPDATE comments SET created = ?2 WHERE id = ?1", s_new, now - 10 * DAY);
	exec("UPDATE comments SET created = ?2 WHERE id = ?1", s_rep, now - 20 * DAY);
	exec("UPDATE comments SET created = ?2 WHERE id = ?1", p_old, now - 20 * DAY);

	/* IP retention. */
	int64_t m1 = mk("/maint", 0, "Old1", "Old comment one", COMMENT_PUBLISHED);
	int64_t m2 = mk("/maint", 0, "Old2", "Old comment two", COMMENT_PUBLISHED);
	int64_t m3 = mk("/maint", 0, "Old3", "Old comment already cleared", COMMENT_PUBLISHED);
	int64_t m4 = mk("/maint", 0, "Young", "Comment from last week", COMMENT_PUBLISHED);
	exec("UPDATE comments SET created = ?2 WHERE id = ?1", m1, now - 40 * DAY);
	exec("UPDATE comments SET created = ?2, ip_sealed = NULL WHERE id = ?1", m2,
	     now - 31 * DAY);
	exec("UPDATE comments SET created = ?2, ip_sealed = NULL, user_agent = NULL WHERE id = ?1",
	     m3, now - 90 * DAY);
	exec("UPDATE comments SET created = ?2 WHERE id = ?1", m4, now - 7 * DAY);

	/* A chain of tombstones T1 <- T2 <- T3 <- T4, then T4 removed. */
	int64_t T[4];
	T[0] = mk("/maint", 0, "Chain", "Chain link one", COMMENT_PUBLISHED);
	for (int i = 1; i < 4; i++)
		T[i] = mk("/maint", T[i - 1], "Chain", "Chain link", COMMENT_PUBLISHED);
	for (int i = 0; i < 4; i++)
		act(MODERATION_DELETE, T[i], &err);
	ok(strcmp(col("status", T[0]), "deleted") == 0 &&
	       strcmp(col("status", T[2]), "deleted") == 0 &&
	       strcmp(col("id", T[3]), "(none)") == 0,
	   "three tombstones in a chain, the last link removed");
	int64_t K = mk("/maint", 0, "Kept", "Tombstone with a live reply", COMMENT_PUBLISHED);
	int64_t KR = mk("/maint", K, "Live", "Still here", COMMENT_PUBLISHED);
	act(MODERATION_DELETE, K, &err);

	/* Tokens: backdate some; those seen once and old go. */
	exec("UPDATE classifier_tokens SET last_seen = ?1 WHERE hash % 3 = 0", now - 100 * DAY, 0);
	exec("UPDATE classifier_tokens SET last_seen = ?1 WHERE hash % 3 = 1", now - 59 * DAY, 0);
	int64_t cutoff = now - (int64_t)prune_days * DAY;
	int64_t want_pruned =
	    q_int("SELECT count(*) FROM classifier_tokens WHERE spam + ham <= 1 AND last_seen < ?1",
		  cutoff);
	int64_t old_multi =
	    q_int("SELECT count(*) FROM classifier_tokens WHERE spam + ham >= 2 AND last_seen < ?1",
		  cutoff);
	int64_t tokens_before = q_int("SELECT count(*) FROM classifier_tokens", 0);
	ok(want_pruned > 0 && old_multi > 0, "old tokens seen once (%lld) and more (%lld)",
	   (long long)want_pruned, (long long)old_multi);
	char *gen0 = q_str("SELECT generation FROM classifier_state", 0);
	int64_t ip_want = q_int("SELECT count(*) FROM comments WHERE created < ?1 AND"
				" (ip_sealed IS NOT NULL OR user_agent IS NOT NULL)",
				now - (int64_t)ip_days * DAY);
	is_int(ip_want, 2, "two old comments with an IP or user agent");
	is_int(q_int("SELECT count(*) FROM comments WHERE ip IS NOT NULL", 0), 0,
	       "no address is stored in clear");

	memset(&rep, 0x5a, sizeof(rep));
	is_int(moderation_maintain(conn, cl, NULL, &rt, now, &rep), 0, "moderation_maintain");
	is_int(rep.spam_deleted, 1, "report: one old spam deleted");
	is_str(col("id", s_old), "(none)", "the old spam is gone");
	ok(strcmp(col("status", s_new), "spam") == 0, "recent spam is kept");
	is_int(rep.spam_emptied, 1, "report: one old spam with a reply emptied");
	is_str(col("status || '|' || author || '|' || text || '|' || html", s_rep), "deleted|||",
	       "old spam with a reply is emptied to a tombstone");
	is_str(
	    col("CASE WHEN coalesce(email_hash, ip_sealed, edit_hash) IS NULL THEN"
		" coalesce(user_agent, tokens, CASE WHEN features IS NULL THEN NULL ELSE 'set' END)"
		" ELSE 'set' END",
		s_rep),
	    "(null)", "with no e-mail hash, address, user agent, tokens or features");
	is_str(col("status", s_rep_r), "published", "and the reply stays published");
	is_str(col("status", p_old), "pending", "old pending comments are kept");
	is_str(col("status", s_freed), "published", "old spam approved since is kept");

	is_int(rep.ips_cleared, 2, "report: two IPs cleared");
	is_str(col(BLOB_OR_NULL("ip_sealed") " || coalesce(user_agent, 'null')", m1), "nullnull",
	       "an old comment loses IP and user agent");
	is_str(col(BLOB_OR_NULL("ip_sealed") " || coalesce(user_agent, 'null')", m2), "nullnull",
	       "one with only a user agent loses that");
	{
		struct comment_row row;
		is_int(comment_load(conn, keys, m4, &row), 1, "load a recent comment");
		is_str(row.ip, "192.0.2.10", "a recent comment keeps its IP (sealed)");
		comment_row_clear(&row);
	}
	is_str(col("text", m1), "Old comment one", "the comment itself stays");
	if (!store_postgresql(conn))
		ok(rep.wal_truncated, "the WAL is truncated after retention");
	else
		ok(!rep.wal_truncated, "PostgreSQL: no WAL truncation reported (the server's WAL)");

	is_int(rep.tombstones_purged, 3, "report: three tombstones purged");
	ok(strcmp(col("id", T[0]), "(none)") == 0 && strcmp(col("id", T[1]), "(none)") == 0 &&
	       strcmp(col("id", T[2]), "(none)") == 0,
	   "the whole chain is gone");
	is_str(col("status", K), "deleted", "a tombstone with a live reply stays");
	is_str(col("status", KR), "published", "with its reply");

	is_int(rep.tokens_pruned, want_pruned, "report: tokens pruned (%lld)",
	       (long long)want_pruned);
	is_int(q_int("SELECT count(*) FROM classifier_tokens WHERE spam + ham <= 1 AND"
		     " last_seen < ?1",
		     cutoff),
	       0, "no old single-message token left");
	is_int(q_int("SELECT count(*) FROM classifier_tokens WHERE spam + ham >= 2 AND"
		     " last_seen < ?1",
		     cutoff),
	       old_multi, "old tokens seen more than once stay");
	is_int(q_int("SELECT count(*) FROM classifier_tokens", 0), tokens_before - want_pruned,
	       "nothing else was pruned");
	char *gen1 = q_str("SELECT generation FROM classifier_state", 0);
	ok(gen0 && gen1 && strcmp(gen0, gen1) != 0, "pruning bumps the classifier generation");
	free(gen0);
	free(gen1);
	ok(!store_in_transaction(conn), "no transaction left open");

	memset(&rep, 0x5a, sizeof(rep));
	is_int(moderation_maintain(conn, cl, NULL, &rt, now, &rep), 0, "maintain again");
	ok(rep.spam_deleted == 0 && rep.spam_emptied == 0 && rep.ips_cleared == 0 &&
	       rep.tombstones_purged == 0 && rep.tokens_pruned == 0,
	   "finds nothing to do (%u %u %u %u %u)", rep.spam_deleted, rep.spam_emptied,
	   rep.ips_cleared, rep.tombstones_purged, rep.tokens_pruned);

	/* Retention of 0 days: everything older than now. */
	exec("UPDATE comments SET created = ?1 WHERE id = ?2", now - 1, s_new);
	memset(&rep, 0, sizeof(rep));
	{
		const struct moderation_retention zero = {0, 10000, 10000, 900, NULL, 0};
		moderation_maintain(conn, cl, NULL, &zero, now, &rep);
	}
	is_str(col("id", s_new), "(none)", "spam_days 0: spam older than now goes");
}

/* Each site keeps e-mail domains and decoys' content for its own edit
 * window: a site with a longer one must not lose them early (its authors'
 * edits are decided with the domain, and a decoy must stay editable as
 * long as a held comment would), one with a shorter one not keep them
 * longer. */
static void test_scope_windows(void)
{
	static const struct moderation_window windows[] = {{"notes", 7200}};
	const struct moderation_retention rt = {15, 30, 60, 900, windows, 1};
	unsigned char h[KEYS_HASH_BYTES] = {9};
	struct maintenance_report rep;
	struct comment_error err;
	int64_t now = time(NULL), b, n, d, bd = 0, nd = 0, dd = 0;

	mk_site = "blog";
	b = mk("/windows", 0, "Wren", "Blog, an hour ago", COMMENT_PUBLISHED);
	comment_discard(conn, "blog", now - 3600, h, "x", 1, &bd, &err);
	mk_site = "notes";
	n = mk("/windows", 0, "Nell", "Notes, an hour ago", COMMENT_PUBLISHED);
	comment_discard(conn, "notes", now - 3600, h, "x", 1, &nd, &err);
	mk_site = "default";
	d = mk("/windows", 0, "Dora", "Default, ten minutes ago", COMMENT_PUBLISHED);
	comment_discard(conn, "default", now - 600, h, "x", 1, &dd, &err);
	exec("UPDATE comments SET created = ?2 WHERE id = ?1", b, now - 3600);
	exec("UPDATE comments SET created = ?2 WHERE id = ?1", n, now - 3600);
	exec("UPDATE comments SET created = ?2 WHERE id = ?1", d, now - 600);
	ok(q_int(
	       "SELECT count(*) FROM comments WHERE id IN (?1) AND email_domain_sealed IS NOT NULL",
	       b) == 1,
	   "a comment keeps its e-mail domain sealed");

	is_int(moderation_maintain(conn, cl, NULL, &rt, now, &rep), 0, "maintain every site");
	is_str(col("coalesce(email_domain_sealed, 'gone')", b), "gone",
	       "blog (900 s window) clears an hour-old e-mail domain");
	is_int(q_int("SELECT count(*) FROM decoys WHERE id = ?1 AND sealed IS NULL", bd), 1,
	       "and an hour-old decoy's content");
	ok(strcmp(col("coalesce(email_domain_sealed, 'gone')", n), "gone") != 0,
	   "notes (7200 s window) keeps it");
	is_int(q_int("SELECT count(*) FROM decoys WHERE id = ?1 AND sealed IS NOT NULL", nd), 1,
	       "and its decoy's content");
	ok(strcmp(col("coalesce(email_domain_sealed, 'gone')", d), "gone") != 0,
	   "the default site keeps a ten-minute-old one");
	is_int(q_int("SELECT count(*) FROM decoys WHERE id = ?1 AND sealed IS NOT NULL", dd), 1,
	       "and its decoy's content");

	is_int(moderation_maintain(conn, cl, NULL, &rt, now + 7200, &rep), 0,
	       "maintain two hours later");
	is_str(col("coalesce(email_domain_sealed, 'gone')", n), "gone",
	       "notes' window has closed: its domain goes");
	is_int(q_int("SELECT count(*) FROM decoys WHERE id = ?1 AND sealed IS NULL", nd), 1,
	       "and its decoy's content");
}

/* A token's scope: nothing of another site is seen or changed, and what is
 * not in scope answers like what does not exist. */
static void test_scope(void)
{
	static const char blog[] = "[\"blog\"]", notes[] = "[\"notes\"]";
	struct comment_error err = {0};
	struct maintenance_report rep;
	struct classify_settings cs;
	struct comment_change ch = {0};
	struct moderation_query mq = {.limit = 200, .scope = blog};
	char site[CONFIG_SITE_ID_MAX + 1];
	json_t *out = NULL, *e;
	int64_t b1, b2, n1, n2, ns, ids[2], audit_before, did = 0;
	size_t i;
	bool only_blog = true, saw_b1 = false;
	char *status;

	mk_site = "blog";
	b1 = mk("/same", 0, "Bea", "Blog pending one", COMMENT_PENDING);
	b2 = mk_full("/same", 0, "Sam", "sam@example.org", NULL, "Sam on blog", "192.0.2.20",
		     COMMENT_PUBLISHED, true);
	mk_site = "notes";
	n1 = mk("/same", 0, "Nia", "Notes pending one", COMMENT_PENDING);
	n2 = mk_full("/same", 0, "Sam", "sam@example.org", NULL, "Sam on notes", "192.0.2.20",
		     COMMENT_PUBLISHED, true);
	ns = mk("/same", 0, "Spammer", "Old notes spam", COMMENT_SPAM);
	mk_site = "default";
	ok(b1 > 0 && b2 > 0 && n1 > 0 && n2 > 0 && ns > 0, "comments on two sites");

	is_int(moderation_list(conn, keys, &mq, &out), 0, "list blog's comments");
	json_array_foreach(json_object_get(out, "comments"), i, e)
	{
		only_blog =
		    only_blog && strcmp(json_string_value(json_object_get(e, "site")), "blog") == 0;
		saw_b1 = saw_b1 || json_integer_value(json_object_get(e, "id")) == b1;
	}
	ok(only_blog && saw_b1, "only blog's comments, with b1");
	json_decref(out);

	audit_before = q_int("SELECT coalesce(max(id), 0) FROM audit", 0);
	ok(is_404(moderation_act(conn, cl, blog, "mod", MODERATION_APPROVE, n1, &err), &err),
	   "approving notes' comment with blog's scope is 404");
	ok(is_404(moderation_act(conn, cl, blog, "mod", MODERATION_SPAM, n1, &err), &err),
	   "so is marking it spam");
	ok(is_404(moderation_act(conn, cl, blog, "mod", MODERATION_DELETE, n1, &err), &err),
	   "and deleting it");
	status = q_str("SELECT status FROM comments WHERE id = ?1", n1);
	is_str(status, "pending", "notes' comment is untouched");
	free(status);
	ids[0] = b1;
	ids[1] = n1;
	ok(is_404(moderation_bulk(conn, cl, blog, "mod", MODERATION_APPROVE, ids, 2, &err), &err),
	   "a bulk action with another site's id is 404");
	status = q_str("SELECT status FROM comments WHERE id = ?1", b1);
	is_str(status, "pending", "and changes nothing, not even blog's own");
	free(status);
	ch.text = strdup("Edited across sites");
	ok(is_404(moderation_edit(conn, cl, cfg, keys, blog, "mod", n1, &ch, &out, &err), &err),
	   "editing notes' comment with blog's scope is 404");
	comment_change_clear(&ch);
	is_int(q_int("SELECT count(*) FROM audit WHERE id > ?1", audit_before), 0,
	       "nothing refused reached the audit log");
	is_int(moderation_comment_site(conn, blog, n1, site), 0, "notes' comment is not in scope");
	is_int(moderation_comment_site(conn, NULL, n1, site), 1, "every site's scope finds it");
	is_str(site, "notes", "on notes");

	is_int(moderation_act(conn, cl, blog, "mod", MODERATION_APPROVE, b1, &err), 0,
	       "blog's scope approves blog's comment");
	status = q_str("SELECT site FROM audit ORDER BY id DESC LIMIT 1", 0);
	is_str(status, "blog", "the audit row names the site");
	free(status);

	/* Figures per site. */
	{
		unsigned char h[KEYS_HASH_BYTES] = {7};
		comment_discard(conn, "notes", time(NULL), h, NULL, 0, &did, &err);
	}
	classify_settings_default(&cs);
	moderation_stats(conn, cl, &cs, blog, "blog", &out);
	is_int(json_integer_value(json_object_get(json_object_get(out, "comments"), "published")),
	       2, "blog's stats count blog's two published");
	is_int(json_integer_value(json_object_get(out, "discarded")), 0,
	       "and none of notes' discards");
	is_int(json_integer_value(json_object_get(out, "decisions_30d")), 1,
	       "and blog's one decision");
	is_str(json_string_value(json_object_get(json_object_get(out, "classifier"), "cutoffs")),
	       "configured", "blog decided too few to learn its cut-offs");
	ok(json_real_value(json_object_get(json_object_get(out, "classifier"), "ham_cutoff")) ==
	       cs.ham_cutoff,
	   "so the configured ham cut-off is in force");
	json_decref(out);
	cs.learn_cutoffs = false;
	moderation_stats(conn, cl, &cs, blog, "blog", &out);
	is_str(json_string_value(json_object_get(json_object_get(out, "classifier"), "cutoffs")),
	       "off", "learn_cutoffs = off in the stats");
	json_decref(out);
	cs.learn_cutoffs = true;
	moderation_stats(conn, cl, &cs, notes, "notes", &out);
	is_int(json_integer_value(json_object_get(json_object_get(out, "comments"), "pending")), 1,
	       "notes' stats: its one pending");
	is_int(json_integer_value(json_object_get(out, "discarded")), 1, "and its discard");
	is_int(json_integer_value(json_object_get(out, "decisions_30d")), 0, "and no decision");
	json_decref(out);

	/* Privacy requests stay in scope, and say everything held there. */
	is_int(moderation_export(conn, keys, blog, "sam@example.org", &out), 0, "export on blog");
	e = json_object_get(out, "comments");
	ok(json_array_size(e) == 1 &&
	       json_integer_value(json_object_get(json_array_get(e, 0), "id")) == b2,
	   "only Sam's blog comment");
	e = json_array_get(e, 0);
	is_str(json_string_value(json_object_get(e, "site")), "blog", "named as blog's");
	is_str(json_string_value(json_object_get(e, "ip")), "192.0.2.20",
	       "with its client address, unsealed");
	is_str(json_string_value(json_object_get(e, "email_domain")), "example.org",
	       "and its e-mail domain");
	json_decref(out);
	is_int(q_int("SELECT count(*) FROM comments WHERE ip IS NOT NULL", 0), 0,
	       "no site keeps a client address in clear");
	audit_before = q_int("SELECT coalesce(max(id), 0) FROM audit", 0);
	is_int(moderation_erase(conn, cl, keys, blog, "sam@example.org", false, "mod", &out), 0,
	       "erase on blog");
	is_int(json_integer_value(json_object_get(out, "erased")), 1, "erases one");
	json_decref(out);
	is_int(q_int("SELECT count(*) FROM comments WHERE id = ?1", n2), 1,
	       "Sam's notes comment stays");
	is_int(q_int("SELECT count(*) FROM comments WHERE id = ?1", b2), 0, "the blog one is gone");
	is_int(q_int("SELECT count(*) FROM audit WHERE id > ?1 AND site = 'blog'", audit_before), 1,
	       "one audit row, for blog");
	is_int(q_int("SELECT count(*) FROM audit WHERE id > ?1 AND site IS DISTINCT FROM 'blog'",
		     audit_before),
	       0, "and none for another site");
	audit_before = q_int("SELECT coalesce(max(id), 0) FROM audit", 0);
	moderation_erase(conn, cl, keys, "[\"blog\",\"notes\"]", "nobody@example.org", false, "mod",
			 &out);
	json_decref(out);
	is_int(q_int("SELECT count(*) FROM audit WHERE id > ?1", audit_before), 2,
	       "a request over two sites writes one audit row each");

	/* Retention in scope. */
	exec("UPDATE comments SET created = ?2 WHERE id = ?1", ns, time(NULL) - 400 * DAY);
	mk_site = "blog";
	int64_t bs = mk("/same", 0, "Spammer", "Old blog spam", COMMENT_SPAM);
	mk_site = "default";
	exec("UPDATE comments SET created = ?2 WHERE id = ?1", bs, time(NULL) - 400 * DAY);
	{
		unsigned char h[KEYS_HASH_BYTES] = {8};
		int64_t now = time(NULL), bd = 0, nd = 0;
		const struct moderation_retention rt = {15, 30, 60, 900, NULL, 0};
		comment_discard(conn, "blog", now - 400 * DAY, h, "x", 1, &bd, &err);
		comment_discard(conn, "notes", now - 400 * DAY, h, "x", 1, &nd, &err);
		is_int(moderation_maintain(conn, cl, notes, &rt, now, &rep), 0, "maintain notes");
		ok(rep.spam_deleted >= 1 &&
		       q_int("SELECT count(*) FROM comments WHERE id = ?1", ns) == 0,
		   "notes' old spam is deleted");
		is_int(q_int("SELECT count(*) FROM comments WHERE id = ?1", bs), 1,
		       "blog's old spam is not");
		is_int(rep.tokens_pruned, 0, "the shared classifier is not pruned for one site");
		is_int(rep.decoys_purged, 1, "notes' old decoy is forgotten");
		is_int(q_int("SELECT count(*) FROM decoys WHERE id = ?1", bd), 1,
		       "blog's old decoy is not");
	}
	test_scope_windows();
}

/* status_counts (schema 0015) against a count of the comments themselves,
 * both ways; rows at 0 are the same as absent ones. */
static int64_t status_count_mismatches(void)
{
	return q_int(
	    "WITH direct AS (SELECT t.site, c.status, count(*) AS n FROM comments c"
	    " JOIN threads t ON t.id = c.thread_id GROUP BY 1, 2),"
	    " kept AS (SELECT site, status, n FROM status_counts WHERE n > 0)"
	    " SELECT (SELECT count(*) FROM (SELECT * FROM kept EXCEPT SELECT * FROM direct) AS a)"
	    " + (SELECT count(*) FROM (SELECT * FROM direct EXCEPT SELECT * FROM kept) AS b)",
	    0);
}

/* threads.published (schema 0019) against a count of each thread's
 * published comments. */
static int64_t published_mismatches(void)
{
	return q_int("SELECT count(*) FROM threads t WHERE t.published <>"
		     " (SELECT count(*) FROM comments c WHERE c.thread_id = t.id"
		     " AND c.status = 'published')",
		     0);
}

/* Run last: every test before it inserted, moderated, edited, erased and
 * purged comments on several sites through lib/. */
static void test_status_counts(void)
{
	int64_t moved = mk("/counted", 0, "Mover", "A comment that moves", COMMENT_PENDING);

	/* Spam of its own: test_maintain's zero-day retention deletes the
	 * spam created before its start, all of it when the run crossed a
	 * second (a slow run: valgrind, a loaded machine). */
	mk("/counted", 0, "Spammer", "Spam that stays", COMMENT_SPAM);

	is_int(status_count_mismatches(), 0,
	       "status_counts matches the comments after every test's inserts, actions, "
	       "erasures and purges");
	is_int(published_mismatches(), 0,
	       "every thread's published count matches its comments after them too");
	ok(q_int("SELECT count(*) FROM threads WHERE published > 0", 0) >= 3,
	   "(several threads with published comments)");
	ok(q_int("SELECT count(DISTINCT site) FROM status_counts WHERE n > 0", 0) >= 3 &&
	       q_int("SELECT count(DISTINCT status) FROM status_counts WHERE n > 0", 0) == 4,
	   "(several sites, every status)");
	mk_site = "notes";
	mk("/counted-elsewhere", 0, "Other", "On another site", COMMENT_PUBLISHED);
	mk_site = "default";
	exec("UPDATE comments SET thread_id = (SELECT thread_id FROM comments WHERE id ="
	     " (SELECT max(id) FROM comments)), status = 'spam' WHERE id = ?1",
	     moved, 0);
	is_int(status_count_mismatches(), 0,
	       "a comment moved to another site's thread, re-statused");
	is_int(published_mismatches(), 0, "published counts: moved, re-statused");
	exec("DELETE FROM comments WHERE id = ?1", moved, 0);
	is_int(status_count_mismatches(), 0, "a comment deleted outright");
	is_int(published_mismatches(), 0, "published counts: deleted outright");
}

int main(void)
{
	char e[CONFIG_ERR_MAX];

	if (fixture_open(&fx, "moderation") != 0 || classifier_new(&cl, NULL) != 0)
		return 1;
	st = fx.store;
	conn = fx.conn;
	keys = fx.keys;
	cfg = fx.cfg;
	config_set(cfg, "max_text", "200", e);
	config_set(cfg, "max_author", "20", e);
	if (policy_new(&policy, cfg) != 0)
		return 1;

	test_parse();
	test_list();
	test_act();
	test_bulk();
	test_edit();
	test_stats();
	test_series();
	test_context();
	test_privacy();
	test_compaction();
	test_midway_failure();
	test_maintain();
	test_scope();
	test_status_counts();

	policy_free(policy);
	classifier_free(cl);
	fixture_close(&fx);
	return done_testing();
}
