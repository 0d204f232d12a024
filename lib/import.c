#include "import.h"

#include "export.h"
#include "log.h"
#include "search.h"
#include "net.h"
#include "text.h"

#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- the staging tables (TEMP: this connection only, gone when it closes) */

static const char sql_stage_create[] =
    "CREATE TEMP TABLE IF NOT EXISTS import_stage ("
    " seq INTEGER PRIMARY KEY, original TEXT NOT NULL UNIQUE, parent TEXT, parent_seq INTEGER,"
    " thread_url TEXT, thread_ref TEXT, created INTEGER NOT NULL, status TEXT NOT NULL,"
    " author TEXT, website TEXT, text TEXT NOT NULL, sealed BLOB, user_agent TEXT,"
    " avatar TEXT, email_hash BLOB, kind TEXT, at TEXT NOT NULL, cut INTEGER NOT NULL,"
    " skip TEXT, note TEXT, site TEXT NOT NULL);"
    "CREATE INDEX IF NOT EXISTS temp.import_stage_parent ON import_stage(parent_seq);"
    "CREATE TEMP TABLE IF NOT EXISTS import_threads (ref TEXT PRIMARY KEY, url TEXT);"
    "CREATE TEMP TABLE IF NOT EXISTS import_order (pos INTEGER PRIMARY KEY, seq INTEGER);"
    "CREATE INDEX IF NOT EXISTS temp.import_order_seq ON import_order(seq);"
    "CREATE TEMP TABLE IF NOT EXISTS import_counts (site TEXT, path TEXT, n INTEGER,"
    " PRIMARY KEY (site, path));"
    "DELETE FROM temp.import_stage; DELETE FROM temp.import_threads;"
    " DELETE FROM temp.import_order; DELETE FROM temp.import_counts;";
static const char sql_stage_drop[] =
    "DROP TABLE IF EXISTS temp.import_stage; DROP TABLE IF EXISTS temp.import_threads;"
    " DROP TABLE IF EXISTS temp.import_order; DROP TABLE IF EXISTS temp.import_counts;";
static const char sql_stage_insert[] =
    "INSERT OR IGNORE INTO temp.import_stage(original, parent, thread_url, thread_ref, created,"
    " status, author, website, text, sealed, user_agent, avatar, email_hash, kind, at, cut, site)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)";
static const char sql_thread_insert[] =
    "INSERT OR REPLACE INTO temp.import_threads(ref, url) VALUES (?1, ?2)";

enum skip_reason {
	SKIP_ALREADY,
	SKIP_DUPLICATE,
	SKIP_PINGBACK,
	SKIP_TRACKBACK,
	SKIP_OTHER_TYPE,
	SKIP_UNKNOWN_THREAD,
	SKIP_INVALID_THREAD,
	SKIP_DELETED_BARE,
	SKIP_TOO_LONG,
	SKIP_N,
};

static const char *const skip_names[SKIP_N] = {
    "already_imported", "duplicate_id",	  "pingback",	    "trackback",
    "other_type",	"unknown_thread", "invalid_thread", "deleted_without_replies",
    "text_too_long",
};

struct run {
	struct store_conn *c;
	const struct submit_site *sites; /* every configured site */
	size_t n_sites;
	const struct submit_site *fixed;    /* o->site: every comment goes there */
	const struct submit_site *fallback; /* the site of comments that name none, or NULL */
	const struct keys *keys;
	struct classifier *classifier;
	const struct import_options *o;
	struct import_error *err;
	int64_t run_id;
	char source[IMPORT_SOURCE_MAX + 1];
	bool key_matches; /* commentd export: its e-mail hashes are ours */
	unsigned char seal[crypto_secretbox_KEYBYTES]; /* for staged addresses */
	uint64_t nonce;
	uint64_t records, staged, imported, rows;
	uint64_t status[COMMENT_DISCARDED];
	json_t *skipped, *top_level, *orphans, *dropped;
	uint64_t learned_spam, learned_ham;
	struct import_input *in; /* while reading a stream */
	struct timespec phase_start;
	double last_progress;
};

static double seconds_since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - t0->tv_sec) + (double)(t.tv_nsec - t0->tv_nsec) / 1e9;
}

static void phase(struct run *rn)
{
	clock_gettime(CLOCK_MONOTONIC, &rn->phase_start);
	rn->last_progress = -1;
}

/* Reports progress at most ten times a second (and always at the end). */
static void progress(struct run *rn, const char *name, uint64_t done, uint64_t total, bool last)
{
	struct import_progress p = {name, done, total, seconds_since(&rn->phase_start)};

	if (!rn->o->progress || (!last && p.elapsed - rn->last_progress < 0.1))
		return;
	rn->last_progress = p.elapsed;
	rn->o->progress(rn->o->progress_ctx, &p);
}

/* Adds n to counter name of a report object. */
static int count_n(json_t *obj, const char *name, json_int_t n)
{
	json_t *v = json_object_get(obj, name);

	if (v)
		return json_integer_set(v, json_integer_value(v) + n);
	return json_object_set_new(obj, name, json_integer(n));
}

/* Adds one to counter name of a report object. */
static int count(json_t *obj, const char *name)
{
	return count_n(obj, name, 1);
}

/* ---- phase 1: reading into the stage --------------------------------------- */

static void bind_text(struct store_stmt *st, int i, const char *s)
{
	if (s && *s)
		store_bind_text_copy(st, i, s);
}

/* The e-mail address and client address, sealed with the run's key:
 * nonce (8 bytes of the counter, zero padded) + secretbox("email\0ip"). */
static int bind_sealed(struct run *rn, struct store_stmt *st, int i, const char *email,
		       const char *ip)
{
	size_t el = email ? strlen(email) : 0, il = ip ? strlen(ip) : 0, n = el + 1 + il;
	unsigned char nonce[crypto_secretbox_NONCEBYTES] = {0};
	unsigned char *plain, *box;

	if (!el && !il)
		return 0;
	if (el > IMPORT_FIELD_MAX || il > IMPORT_FIELD_MAX)
		return 0; /* not an address */
	plain = malloc(n);
	box = malloc(sizeof(nonce) + crypto_secretbox_MACBYTES + n);
	if (!plain || !box) {
		free(plain);
		free(box);
		return -ENOMEM;
	}
	memcpy(plain, email ? email : "", el);
	plain[el] = '\0';
	memcpy(plain + el + 1, ip ? ip : "", il);
	rn->nonce++;
	memcpy(nonce, &rn->nonce, sizeof(rn->nonce));
	memcpy(box, nonce, sizeof(nonce));
	crypto_secretbox_easy(box + sizeof(nonce), plain, n, nonce, rn->seal);
	sodium_memzero(plain, n);
	free(plain);
	store_bind_blob_copy(st, i, box, sizeof(nonce) + crypto_secretbox_MACBYTES + n);
	free(box);
	return 0;
}

/* The text as Markdown (converted from HTML), in *out (caller frees). */
static int markdown_of(const struct import_record *rec, char **out)
{
	const char *t = rec->text ? rec->text : "";

	if (rec->markup == IMPORT_MARKUP_HTML)
		return import_html_to_markdown(t, strlen(t), out);
	*out = strdup(t);
	return *out ? 0 : -ENOMEM;
}

/* A hex e-mail hash from commentd's export, kept when its key is ours. */
static void bind_email_hash(struct run *rn, struct store_stmt *st, int i, const char *hex)
{
	unsigned char hash[KEYS_HASH_BYTES];
	size_t len = 0;

	if (!hex || !*hex)
		return;
	if (rn->key_matches &&
	    sodium_hex2bin(hash, sizeof(hash), hex, strlen(hex), NULL, &len, NULL) == 0 &&
	    len == sizeof(hash))
		store_bind_blob_copy(st, i, hash, sizeof(hash));
	else
		count(rn->dropped, "email_hash_other_key");
}

/* The configured site called id, or NULL. */
static const struct submit_site *site_find(const struct run *rn, const char *id)
{
	for (size_t i = 0; id && i < rn->n_sites; i++)
		if (strcmp(rn->sites[i].id, id) == 0)
			return &rn->sites[i];
	return NULL;
}

/* The site a record goes to (see lib/import.h).  0 with *out, or
 * IMPORT_BAD: a site nobody configured, or none to choose. */
static int record_site(struct run *rn, const struct import_record *rec,
		       const struct submit_site **out)
{
	if (rn->fixed || !rec->site || !*rec->site)
		*out = rn->fixed ? rn->fixed : rn->fallback;
	else
		*out = site_find(rn, rec->site);
	if (*out)
		return 0;
	if (rec->site && *rec->site)
		return import_fail(rn->err,
				   "%s: the comment is of site %s, which is not configured here "
				   "(add it, or import every comment into one site with --site ID)",
				   rec->at, rec->site);
	return import_fail(rn->err,
			   "%s: the comment names no site, and there are several: say which "
			   "with --site ID",
			   rec->at);
}

static int stage_comment(void *ctx, const struct import_record *rec)
{
	struct run *rn = ctx;
	struct store_stmt *st = store_stmt(rn->c, sql_stage_insert);
	const struct submit_site *site;
	char *md = NULL;
	int r;

	rn->records++;
	if (!st)
		return -EIO;
	r = record_site(rn, rec, &site);
	if (r != 0)
		return r;
	r = markdown_of(rec, &md);
	if (r < 0)
		return r;
	bind_text(st, 1, rec->id);
	bind_text(st, 2, rec->parent);
	bind_text(st, 3, rec->thread_url);
	bind_text(st, 4, rec->thread_ref);
	store_bind_int64(st, 5, rec->created);
	store_bind_text(st, 6, comment_status_name(rec->status));
	bind_text(st, 7, rec->author);
	bind_text(st, 8, rec->website);
	store_bind_text_copy(st, 9, md);
	free(md);
	r = bind_sealed(rn, st, 10, rec->email, rec->ip);
	bind_text(st, 11, rec->user_agent);
	bind_text(st, 12, rec->avatar);
	bind_email_hash(rn, st, 13, rec->email_hash_hex);
	bind_text(st, 14, rec->kind);
	store_bind_text_copy(st, 15, rec->at);
	store_bind_int64(st, 16, rec->text_cut);
	store_bind_text(st, 17, site->id);
	if (r == 0)
		r = store_run(rn->c, st, "import stage");
	if (r == 0 && store_changes(rn->c) == 0)
		r = count(rn->skipped, skip_names[SKIP_DUPLICATE]) ? -ENOMEM : 0;
	else if (r == 0)
		rn->staged++;
	if (r == 0 && rn->records % 256 == 0)
		progress(rn, "reading", rn->in ? rn->in->position : rn->records,
			 rn->in ? rn->in->size : 0, false);
	return r > 0 ? -EIO : r;
}

static int stage_thread(void *ctx, const char *ref, const char *url)
{
	struct run *rn = ctx;
	struct store_stmt *st = store_stmt(rn->c, sql_thread_insert);
	int r;

	if (!st)
		return -EIO;
	store_bind_text_copy(st, 1, ref);
	bind_text(st, 2, url);
	r = store_run(rn->c, st, "import threads");
	return r > 0 ? -EIO : r;
}

static int stage_source(void *ctx, const char *name)
{
	struct run *rn = ctx;

	if (!rn->o->source && !rn->source[0])
		snprintf(rn->source, sizeof(rn->source), "%s:%s", import_format_name(rn->o->format),
			 name);
	return 0;
}

static int stage_key(void *ctx, const char *fingerprint)
{
	struct run *rn = ctx;
	char ours[17];

	export_key_fingerprint(rn->keys, ours);
	rn->key_matches = fingerprint && strcmp(fingerprint, ours) == 0;
	return 0;
}

static int read_format(struct run *rn, struct import_input *in, const struct import_sink *sink)
{
	switch (rn->o->format) {
	case IMPORT_WXR:
		return import_read_wxr(in, sink, rn->err);
	case IMPORT_DISQUS:
		return import_read_disqus(in, sink, rn->err);
	case IMPORT_REMARK42:
		return import_read_remark42(in, sink, rn->err);
	case IMPORT_WALINE:
		return import_read_waline(in, sink, rn->err);
	case IMPORT_JSONL:
		return import_read_jsonl(in, sink, rn->err);
	case IMPORT_ISSO:
		break;
	}
	return import_fail(rn->err, "an Isso database is read from a file, not a stream");
}

/* Reads the whole file into the stage, in one TEMP-only transaction (no
 * write lock on the site's database). */
static int read_file(struct run *rn)
{
	struct import_sink sink = {stage_comment, stage_thread, stage_source, stage_key, rn};
	struct import_input in = {0};
	int r;

	r = store_exec(rn->c, sql_stage_create);
	if (r == 0)
		r = store_exec(rn->c, "BEGIN");
	if (r != 0)
		return r > 0 ? -EIO : r;
	phase(rn);
	if (rn->o->format == IMPORT_ISSO) {
		r = import_read_isso(rn->o->path, &sink, rn->err);
	} else {
		r = import_input_file(&in, rn->o->path, rn->err);
		rn->in = &in;
		if (r == 0)
			r = read_format(rn, &in, &sink);
		if (r == 0)
			progress(rn, "reading", in.position, in.size, true);
		rn->in = NULL;
		import_input_close(&in);
	}
	if (r == 0)
		r = search_flush(rn->c); /* lib/search.h: what the import changed */
	if (r == 0)
		r = store_exec(rn->c, "COMMIT");
	if (r != 0)
		store_exec(rn->c, "ROLLBACK");
	return r;
}

/* ---- between the phases: what to write, and in which order ---------------- */

static const char sql_resolve_threads[] =
    "UPDATE temp.import_stage SET thread_url = (SELECT url FROM temp.import_threads t"
    " WHERE t.ref = import_stage.thread_ref) WHERE thread_ref IS NOT NULL";
static const char sql_skip_no_thread[] =
    "UPDATE temp.import_stage SET skip = 'unknown_thread'"
    " WHERE skip IS NULL AND (thread_url IS NULL OR thread_url = '')";
static const char sql_skip_already[] =
    "UPDATE temp.import_stage SET skip = 'already_imported' WHERE skip IS NULL AND EXISTS"
    " (SELECT 1 FROM main.import_ids i WHERE i.source = ?1 AND i.site = import_stage.site"
    " AND i.original = import_stage.original)";
static const char sql_skip_kinds[] =
    "UPDATE temp.import_stage SET skip = CASE WHEN kind IN ('pingback', 'trackback') THEN kind"
    " ELSE 'other_type' END WHERE skip IS NULL AND kind IS NOT NULL"
    " AND NOT (?1 AND kind IN ('pingback', 'trackback'))";
static const char sql_link_parents[] =
    "UPDATE temp.import_stage SET parent_seq = (SELECT p.seq FROM temp.import_stage p"
    " WHERE p.original = import_stage.parent) WHERE parent IS NOT NULL";
/* A parent neither in the file nor imported before: top level, reported. */
static const char sql_orphans[] =
    "SELECT seq, original, parent, at FROM temp.import_stage WHERE parent IS NOT NULL"
    " AND parent_seq IS NULL AND skip IS NULL AND NOT EXISTS (SELECT 1 FROM main.import_ids i"
    " WHERE i.source = ?1 AND i.site = import_stage.site AND i.original = import_stage.parent"
    " AND i.comment_id IS NOT NULL)"
    " ORDER BY seq";
static const char sql_orphan_top[] =
    "UPDATE temp.import_stage SET parent = NULL, note = ?2 WHERE seq = ?1";
/* A deleted comment is kept only as the tombstone its replies hang on. */
static const char sql_skip_bare_deleted[] =
    "UPDATE temp.import_stage SET skip = 'deleted_without_replies' WHERE skip IS NULL"
    " AND status = 'deleted' AND NOT EXISTS (SELECT 1 FROM temp.import_stage r"
    " WHERE r.parent_seq = import_stage.seq AND r.skip IS NULL)";
static const char sql_order[] =
    "WITH RECURSIVE tree(seq, depth) AS ("
    " SELECT seq, 1 FROM temp.import_stage WHERE parent_seq IS NULL"
    " UNION ALL SELECT s.seq, tree.depth + 1 FROM temp.import_stage s JOIN tree"
    " ON s.parent_seq = tree.seq)"
    " INSERT INTO temp.import_order(seq) SELECT seq FROM tree ORDER BY depth, seq";
static const char sql_order_count[] = "SELECT count(*) FROM temp.import_order";
/* Rows in a loop of parents are not reached from a top-level comment; every
 * loop has an edge to the same or a later row: those edges are cut. */
static const char sql_loops[] =
    "SELECT seq, original, parent, at FROM temp.import_stage s WHERE parent_seq >= seq"
    " AND NOT EXISTS (SELECT 1 FROM temp.import_order o WHERE o.seq = s.seq) ORDER BY seq";
static const char sql_loop_cut[] =
    "UPDATE temp.import_stage SET parent = NULL, parent_seq = NULL, note = ?2 WHERE seq = ?1";
static const char sql_order_clear[] = "DELETE FROM temp.import_order";

/* Makes each row of st (seq, original, parent, at) top level with reason. */
static int make_top_level(struct run *rn, struct store_stmt *st, const char *fix_sql,
			  const char *reason)
{
	struct store_stmt *fix;
	int r;

	while ((r = store_row(rn->c, st)) == 1) {
		json_t *o =
		    json_pack("{s:s, s:s, s:s, s:s}", "id", store_col_text(st, 1), "parent",
			      store_col_text(st, 2), "at", store_col_text(st, 3), "reason", reason);
		if (!o || count(rn->top_level, reason) != 0 ||
		    (json_array_size(rn->orphans) < IMPORT_EXAMPLES &&
		     json_array_append(rn->orphans, o) != 0)) {
			json_decref(o);
			r = -ENOMEM;
			break;
		}
		json_decref(o);
		fix = store_stmt(rn->c, fix_sql);
		if (!fix) {
			r = -EIO;
			break;
		}
		store_bind_int64(fix, 1, store_col_int64(st, 0));
		store_bind_text(fix, 2, reason);
		r = store_run(rn->c, fix, "import parent");
		if (r)
			break;
	}
	store_reset(st);
	return r > 0 ? -EIO : r;
}

static int run_sql(struct run *rn, const char *sql, bool bind_source, int flag)
{
	struct store_stmt *st = store_stmt(rn->c, sql);
	int r;

	if (!st)
		return -EIO;
	if (bind_source)
		store_bind_text(st, 1, rn->source);
	else if (flag >= 0)
		store_bind_int64(st, 1, flag);
	r = store_run(rn->c, st, "import plan");
	return r > 0 ? -EIO : r;
}

/* Orders the stage: parents before replies (depth, then file order). */
static int order_rows(struct run *rn)
{
	struct store_stmt *st;
	int64_t n = 0;
	int r;

	r = run_sql(rn, sql_order, false, -1);
	st = r ? NULL : store_stmt(rn->c, sql_order_count);
	if (!r && (!st || store_one_int64(rn->c, st, &n) < 0))
		r = -EIO;
	if (r || (uint64_t)n == rn->staged)
		return r;
	st = store_stmt(rn->c, sql_loops);
	r = st ? make_top_level(rn, st, sql_loop_cut, "parent_loop") : -EIO;
	if (r == 0)
		r = run_sql(rn, sql_order_clear, false, -1);
	if (r == 0)
		r = run_sql(rn, sql_order, false, -1);
	st = r ? NULL : store_stmt(rn->c, sql_order_count);
	if (!r && (!st || store_one_int64(rn->c, st, &n) < 0 || (uint64_t)n != rn->staged))
		r = -EIO; /* cannot be: every row is now reached */
	return r;
}

static int plan(struct run *rn)
{
	struct store_stmt *st;
	int r;

	r = store_exec(rn->c, "BEGIN");
	if (r != 0)
		return r > 0 ? -EIO : r;
	r = run_sql(rn, sql_resolve_threads, false, -1);
	if (r == 0)
		r = run_sql(rn, sql_skip_no_thread, false, -1);
	if (r == 0)
		r = run_sql(rn, sql_skip_already, true, -1);
	if (r == 0)
		r = run_sql(rn, sql_skip_kinds, false, rn->o->pingbacks);
	if (r == 0)
		r = run_sql(rn, sql_link_parents, false, -1);
	if (r == 0) {
		st = store_stmt(rn->c, sql_orphans);
		if (st)
			store_bind_text(st, 1, rn->source);
		r = st ? make_top_level(rn, st, sql_orphan_top, "missing_parent") : -EIO;
	}
	/* Repeated: a chain of deleted comments goes link by link. */
	for (int i = 0; r == 0 && i < 64; i++) {
		r = run_sql(rn, sql_skip_bare_deleted, false, -1);
		if (r == 0 && store_changes(rn->c) == 0)
			break;
	}
	if (r == 0)
		r = order_rows(rn);
	if (r == 0)
		r = search_flush(rn->c); /* lib/search.h: what the import changed */
	if (r == 0)
		r = store_exec(rn->c, "COMMIT");
	if (r != 0)
		store_exec(rn->c, "ROLLBACK");
	return r > 0 ? -EIO : r;
}

/* ---- phase 2: writing through the pipeline ------------------------------- */

static const char sql_row[] =
    "SELECT s.seq, s.original, s.parent, s.thread_url, s.created, s.status, s.author,"
    " s.website, s.text, s.sealed, s.user_agent, s.avatar, s.email_hash, s.skip, s.cut, s.at,"
    " s.site FROM temp.import_order o JOIN temp.import_stage s ON s.seq = o.seq WHERE o.pos = ?1";
static const char sql_rows_total[] = "SELECT count(*) FROM temp.import_order";
static const char sql_parent_id[] =
    "SELECT comment_id FROM main.import_ids WHERE source = ?1 AND site = ?3 AND original = ?2"
    " AND comment_id IS NOT NULL";
static const char sql_remember[] =
    "INSERT INTO main.import_ids(source, site, original, comment_id, run, imported)"
    " VALUES (?1, ?6, ?2, ?3, ?4, ?5)";
static const char sql_count_thread[] =
    "INSERT INTO temp.import_counts(site, path, n) VALUES (?2, ?1, 1)"
    " ON CONFLICT(site, path) DO UPDATE SET n = import_counts.n + 1";

/* One staged comment, with writable copies of what the pipeline
 * normalises in place. */
struct row {
	int64_t seq, created, parent_id;
	char *original, *parent, *url, *author, *website, *text, *user_agent, *avatar;
	char *email, *ip; /* unsealed; wiped */
	unsigned char email_hash[KEYS_HASH_BYTES];
	bool has_email_hash, cut;
	enum comment_status status;
	char skip[32], at[IMPORT_AT_MAX];
	char thread[COMMENT_THREAD_MAX + 1];
	const struct submit_site *site; /* where it goes */
};

static char *dup_column(struct store_stmt *st, int col, bool *oom)
{
	const char *s = store_col_text(st, col);
	char *d;

	if (!s)
		return NULL;
	d = strdup(s);
	if (!d)
		*oom = true;
	return d;
}

static void row_clear(struct row *w)
{
	free(w->original);
	free(w->parent);
	free(w->url);
	free(w->author);
	free(w->website);
	free(w->text);
	free(w->user_agent);
	free(w->avatar);
	if (w->email)
		sodium_memzero(w->email, strlen(w->email));
	if (w->ip)
		sodium_memzero(w->ip, strlen(w->ip));
	free(w->email);
	free(w->ip);
	sodium_memzero(w, sizeof(*w));
}

/* Opens the sealed addresses of a row.  0, or -EIO if the box is not ours. */
static int unseal(struct run *rn, struct store_stmt *st, int col, struct row *w)
{
	const unsigned char *box = store_col_blob(st, col);
	size_t n = store_col_bytes(st, col), el;
	unsigned char *plain;

	if (!box)
		return 0;
	if (n < crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES + 1)
		return -EIO;
	n -= crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES;
	plain = malloc(n + 1);
	if (!plain)
		return -ENOMEM;
	if (crypto_secretbox_open_easy(plain, box + crypto_secretbox_NONCEBYTES,
				       n + crypto_secretbox_MACBYTES, box, rn->seal) != 0) {
		free(plain);
		return -EIO;
	}
	plain[n] = '\0';
	el = strlen((char *)plain);
	w->email = strdup((char *)plain);
	w->ip = el < n ? strdup((char *)plain + el + 1) : strdup("");
	sodium_memzero(plain, n);
	free(plain);
	return w->email && w->ip ? 0 : -ENOMEM;
}

static int load_row(struct run *rn, int64_t pos, struct row *w)
{
	struct store_stmt *st = store_stmt(rn->c, sql_row);
	bool oom = false;
	int r;

	memset(w, 0, sizeof(*w));
	if (!st)
		return -EIO;
	store_bind_int64(st, 1, pos);
	r = store_row(rn->c, st);
	if (r <= 0) {
		store_reset(st);
		return r < 0 ? r : -EIO;
	}
	w->seq = store_col_int64(st, 0);
	w->original = dup_column(st, 1, &oom);
	w->parent = dup_column(st, 2, &oom);
	w->url = dup_column(st, 3, &oom);
	w->created = store_col_int64(st, 4);
	if (comment_status_parse(store_col_text(st, 5), &w->status) != 0)
		w->status = COMMENT_PENDING;
	w->author = dup_column(st, 6, &oom);
	w->website = dup_column(st, 7, &oom);
	w->text = dup_column(st, 8, &oom);
	r = unseal(rn, st, 9, w);
	w->user_agent = dup_column(st, 10, &oom);
	w->avatar = dup_column(st, 11, &oom);
	w->has_email_hash = store_col_bytes(st, 12) == KEYS_HASH_BYTES;
	if (w->has_email_hash)
		memcpy(w->email_hash, store_col_blob(st, 12), KEYS_HASH_BYTES);
	snprintf(w->skip, sizeof(w->skip), "%s",
		 store_col_type(st, 13) == STORE_NULL ? "" : store_col_text(st, 13));
	w->cut = store_col_int(st, 14) != 0;
	snprintf(w->at, sizeof(w->at), "%s", store_col_text(st, 15));
	w->site = site_find(rn, store_col_text(st, 16));
	store_reset(st);
	if (r == 0 && !w->site)
		r = -EIO; /* staged with a configured site: cannot be */
	if (r == 0 && oom)
		r = -ENOMEM;
	return r;
}

/* The thread path: the URL's path under the map, checked.  0 or 1. */
static int thread_of(struct run *rn, struct row *w)
{
	char path[COMMENT_THREAD_MAX + 1];
	struct comment_error e;

	if (import_url_path(w->url, path, sizeof(path)) != 0 ||
	    import_map_apply(rn->o->map, path, w->thread, sizeof(w->thread)) != 0)
		return 1;
	return comment_thread_check(w->thread, &e) != 0 ? 1 : 0;
}

/* Replaces control characters (line breaks in a name) with spaces and cuts
 * to max characters at a character boundary. */
static void clean_line(char *s, unsigned max)
{
	unsigned chars = 0;

	for (unsigned char *p = (unsigned char *)s; *p; p++) {
		if (*p < 0x20 || *p == 0x7f)
			*p = ' ';
		if ((*p & 0xc0) != 0x80 && ++chars > max) {
			*p = '\0';
			break;
		}
	}
	text_trim(s);
}

/* Fits the source's fields to what the pipeline accepts, dropping what
 * cannot be kept (reported): a name is required ("Anonymous"), an address
 * or website that is not one goes, and so does a client address older than
 * ip_retention_days. */
static int normalise(struct run *rn, struct row *w)
{
	const struct config *cfg = w->site->cfg;
	unsigned char hash[KEYS_HASH_BYTES];
	struct net_addr addr;
	bool recent = w->created >= rn->o->now - (int64_t)cfg->ip_retention_days * 86400;

	if (w->author)
		clean_line(w->author, cfg->max_author);
	if (!w->author || !*w->author || !text_utf8_valid(w->author, strlen(w->author), NULL)) {
		free(w->author);
		w->author = strdup("Anonymous");
		if (!w->author)
			return -ENOMEM;
	}
	if (w->email && *w->email && comment_email_hash(rn->keys, w->email, hash) != 0) {
		count(rn->dropped, "invalid_email");
		w->email[0] = '\0';
	}
	sodium_memzero(hash, sizeof(hash));
	if (w->website)
		text_trim(w->website);
	if (w->website && *w->website && !comment_url_valid(w->website, cfg->max_url)) {
		count(rn->dropped, "invalid_website");
		w->website[0] = '\0';
	}
	if (w->ip && *w->ip && (!recent || net_parse_ip(w->ip, &addr) != 0)) {
		count(rn->dropped, recent ? "invalid_ip" : "ip_past_retention");
		w->ip[0] = '\0';
	}
	if (!recent && w->user_agent)
		w->user_agent[0] = '\0';
	return 0;
}

/* The parent's new id: 0 for a top-level comment, or when the parent was
 * not imported (skipped): then top level, reported. */
static int parent_of(struct run *rn, struct row *w)
{
	struct store_stmt *st;
	json_t *o;
	int r;

	w->parent_id = 0;
	if (!w->parent || !*w->parent)
		return 0;
	st = store_stmt(rn->c, sql_parent_id);
	if (!st)
		return -EIO;
	store_bind_text(st, 1, rn->source);
	store_bind_text(st, 2, w->parent);
	store_bind_text(st, 3, w->site->id);
	r = store_one_int64(rn->c, st, &w->parent_id);
	if (r != 0)
		return r < 0 ? r : 0;
	o = json_pack("{s:s, s:s, s:s, s:s}", "id", w->original, "parent", w->parent, "at", w->at,
		      "reason", "parent_skipped");
	r = o && count(rn->top_level, "parent_skipped") == 0 ? 0 : -ENOMEM;
	if (r == 0 && json_array_size(rn->orphans) < IMPORT_EXAMPLES)
		r = json_array_append(rn->orphans, o) == 0 ? 0 : -ENOMEM;
	json_decref(o);
	return r;
}

/* Through the pipeline.  0 with *id, COMMENT_INVALID (skipped, counted),
 * or a failure. */
static int submit_row(struct run *rn, struct row *w, int64_t *id)
{
	char placeholder_author[] = "deleted", placeholder_text[] = "deleted";
	bool deleted = w->status == COMMENT_DELETED;
	struct comment_input in = {
	    .thread = w->thread,
	    .parent = w->parent_id,
	    .author = deleted ? placeholder_author : w->author,
	    .email = deleted ? NULL : w->email,
	    .url = deleted ? NULL : w->website,
	    .text = deleted ? placeholder_text : w->text,
	    .email_hash = w->has_email_hash && !deleted ? w->email_hash : NULL,
	    .avatar = w->avatar,
	};
	struct net_addr addr;
	bool has_ip = w->ip && *w->ip && net_parse_ip(w->ip, &addr) == 0;
	struct submit_request rq = {
	    .origin = SUBMIT_IMPORT,
	    .client = has_ip ? &addr : NULL,
	    .ip = has_ip ? w->ip : NULL,
	    .user_agent = w->user_agent && *w->user_agent ? w->user_agent : NULL,
	    .render_seconds = -1,
	    .now = w->created,
	    .status = w->status,
	};
	struct submit_decision d;
	struct comment_error e = {0};
	json_t *out = NULL;
	int r;

	r = submit_comment(rn->c, w->site, &in, &rq, &d, &out, &e);
	submit_decision_clear(&d);
	if (r == COMMENT_INVALID && in.parent && strcmp(e.code, "invalid_parent") == 0) {
		/* The source put the parent in another thread. */
		count(rn->top_level, "parent_elsewhere");
		in.parent = 0;
		r = submit_comment(rn->c, w->site, &in, &rq, &d, &out, &e);
		submit_decision_clear(&d);
	}
	if (r == 0)
		*id = json_integer_value(json_object_get(out, "id"));
	json_decref(out);
	if (r == COMMENT_INVALID)
		return count(rn->skipped, e.code) ? -ENOMEM : COMMENT_INVALID;
	if (r == COMMENT_UNAVAILABLE)
		import_fail(rn->err, "%s: the comment could not be written: %s", w->at, e.message);
	return r;
}

static int remember(struct run *rn, struct row *w, int64_t id)
{
	struct store_stmt *st = store_stmt(rn->c, sql_remember);
	int r;

	if (!st)
		return -EIO;
	store_bind_text(st, 1, rn->source);
	store_bind_text(st, 2, w->original);
	store_bind_int64(st, 3, id);
	store_bind_int64(st, 4, rn->run_id);
	store_bind_int64(st, 5, rn->o->now);
	store_bind_text(st, 6, w->site->id);
	r = store_run(rn->c, st, "import ids");
	st = r ? NULL : store_stmt(rn->c, sql_count_thread);
	if (r == 0 && !st)
		r = -EIO;
	if (r == 0) {
		store_bind_text(st, 1, w->thread);
		store_bind_text(st, 2, w->site->id);
		r = store_run(rn->c, st, "import counts");
	}
	if (r > 0)
		import_fail(rn->err, "%s: the comment could not be written (the disk is %s)", w->at,
			    r == STORE_FULL ? "full" : "read-only");
	return r;
}

/* Writes the row at pos of the order.  0 (written or skipped) or a failure. */
static int write_row(struct run *rn, int64_t pos)
{
	struct row w;
	int64_t id = 0;
	int r;

	r = load_row(rn, pos, &w);
	if (r == 0 && w.skip[0])
		r = count(rn->skipped, w.skip) ? -ENOMEM : 0;
	else if (r == 0 && w.cut)
		r = count(rn->skipped, skip_names[SKIP_TOO_LONG]) ? -ENOMEM : 0;
	else if (r == 0 && thread_of(rn, &w) != 0)
		r = count(rn->skipped, skip_names[SKIP_INVALID_THREAD]) ? -ENOMEM : 0;
	else if (r == 0 && (r = parent_of(rn, &w)) == 0 && (r = normalise(rn, &w)) == 0) {
		r = submit_row(rn, &w, &id);
		if (r == 0)
			r = remember(rn, &w, id);
		if (r == 0) {
			rn->imported++;
			rn->status[w.status]++;
		}
		if (r == COMMENT_INVALID)
			r = 0;
	}
	row_clear(&w);
	return r;
}

static const char sql_undo[] =
    "DELETE FROM main.comments WHERE id IN (SELECT comment_id FROM main.import_ids"
    " WHERE run = ?1)";
static const char sql_undo_ids[] = "DELETE FROM main.import_ids WHERE run = ?1";

/* Removes what this run wrote in earlier batches. */
static void undo(struct run *rn)
{
	const char *sql[] = {sql_undo, sql_undo_ids};
	size_t n = strlen(rn->err->message);
	int r = store_begin(rn->c);

	for (int i = 0; r == 0 && i < 2; i++) {
		struct store_stmt *st = store_stmt(rn->c, sql[i]);
		if (!st) {
			r = -EIO;
			break;
		}
		store_bind_int64(st, 1, rn->run_id);
		r = store_run(rn->c, st, "import undo");
	}
	if (r == 0)
		r = store_commit(rn->c);
	store_rollback(rn->c);
	if (r != 0 && n + 1 < sizeof(rn->err->message))
		snprintf(rn->err->message + n, sizeof(rn->err->message) - n,
			 "; what was written could not be removed: import the same file again "
			 "to complete it");
	else if (n + 1 < sizeof(rn->err->message))
		snprintf(rn->err->message + n, sizeof(rn->err->message) - n,
			 "; nothing of this import was kept");
}

static int write_all(struct run *rn)
{
	unsigned batch = rn->o->batch ? rn->o->batch : IMPORT_BATCH;
	struct store_stmt *st = store_stmt(rn->c, sql_rows_total);
	int64_t total = 0;
	int r;

	if (!st || store_one_int64(rn->c, st, &total) < 0)
		return -EIO;
	phase(rn);
	for (int64_t pos = 1; pos <= total; pos += batch) {
		r = store_begin(rn->c);
		for (int64_t p = pos; r == 0 && p < pos + batch && p <= total; p++)
			r = write_row(rn, p);
		if (r == 0)
			r = store_commit(rn->c);
		if (r != 0) {
			store_rollback(rn->c);
			if (!rn->err->message[0])
				import_fail(rn->err, "writing failed (%s)",
					    r == STORE_FULL ? "the disk is full"
					    : r > 0	    ? "the database is read-only"
							    : strerror(-r));
			undo(rn);
			return IMPORT_WRITE_FAILED;
		}
		rn->rows = (uint64_t)(pos + batch - 1 < total ? pos + batch - 1 : total);
		progress(rn, "writing", rn->rows, (uint64_t)total, rn->rows == (uint64_t)total);
	}
	return 0;
}

/* ---- phase 3: learning ------------------------------------------------------ */

/* In id order through the comments' primary key (a plan that sorted the
 * source's ids on every call made learning quadratic), with the site each
 * was imported into (?3: only that one's). */
static const char sql_learnable[] =
    "SELECT c.id, c.status, c.features, (SELECT i.site FROM main.import_ids i"
    " WHERE i.comment_id = c.id AND i.source = ?1) FROM main.comments c WHERE c.id > ?2"
    " AND c.status IN ('published', 'spam') AND c.features IS NOT NULL AND EXISTS"
    " (SELECT 1 FROM main.import_ids i WHERE i.comment_id = c.id AND i.source = ?1"
    " AND (CAST(?3 AS TEXT) IS NULL OR i.site = ?3)) ORDER BY c.id LIMIT 1";

/* Learns the next learnable comment after *last.  1 learned or already
 * learned, 0 none left, negative. */
static int learn_next(struct run *rn, int64_t *last)
{
	struct store_stmt *st = store_stmt(rn->c, sql_learnable);
	enum classify_label label;
	char key[32];
	int r;

	if (!st)
		return -EIO;
	store_bind_text(st, 1, rn->source);
	store_bind_int64(st, 2, *last);
	if (rn->fixed)
		store_bind_text(st, 3, rn->fixed->id);
	r = store_row(rn->c, st);
	if (r == 1) {
		*last = store_col_int64(st, 0);
		label = strcmp(store_col_text(st, 1), "spam") == 0 ? CLASSIFY_LABEL_SPAM
								   : CLASSIFY_LABEL_HAM;
		snprintf(key, sizeof(key), "comment:%lld", (long long)*last);
		/* Into the layer of the site it was imported into. */
		r = classifier_learn_features(rn->classifier, rn->c, key, store_col_text(st, 3),
					      store_col_blob(st, 2), store_col_bytes(st, 2), label);
		if (r == 0)
			*(label == CLASSIFY_LABEL_SPAM ? &rn->learned_spam : &rn->learned_ham) += 1;
		r = r == 0 || r == CLASSIFY_ALREADY ? 1 : r < 0 ? r : -EIO;
	}
	store_reset(st);
	return r;
}

/* Every imported published and spam comment of this source (of earlier
 * runs too: learning what is learned already is a no-op), in batches. */
static int learn_all(struct run *rn)
{
	unsigned batch = rn->o->batch ? rn->o->batch : IMPORT_BATCH;
	int64_t last = 0;
	uint64_t done = 0;
	int r = 1;

	phase(rn);
	while (r == 1) {
		r = store_begin(rn->c);
		for (unsigned i = 0; r == 0 && i < batch; i++) {
			r = learn_next(rn, &last);
			if (r == 1) {
				r = 0;
				done++;
			} else if (r == 0) {
				r = 2; /* none left */
			}
		}
		if (r == 0 || r == 2)
			r = store_commit(rn->c) == 0 ? (r == 2 ? 0 : 1) : -EIO;
		store_rollback(rn->c);
		progress(rn, "learning", done, rn->imported, r != 1);
	}
	if (r != 0)
		import_fail(rn->err, "learning failed; the comments are imported: run the same "
				     "import with --learn again to learn them");
	return r;
}

/* ---- the report and the run ------------------------------------------------- */

/* The threads written to, most comments first; the last column says
 * whether the run wrote into more than one site. */
static const char sql_counts[] =
    "SELECT site, path, n, (SELECT count(DISTINCT site) FROM temp.import_counts) > 1"
    " FROM temp.import_counts ORDER BY n DESC, site, path";

/* Fills threads ({path: n}, or {"site:path": n} when the run wrote into
 * several sites) and sites ({site: n}).  0 or negative. */
static int thread_counts(struct run *rn, json_t *threads, json_t *sites)
{
	struct store_stmt *st = store_stmt(rn->c, sql_counts);
	char key[CONFIG_SITE_ID_MAX + COMMENT_THREAD_MAX + 2];
	int r;

	if (!st || !threads || !sites)
		return st ? -ENOMEM : -EIO;
	while ((r = store_row(rn->c, st)) == 1) {
		const char *site = store_col_text(st, 0);
		json_int_t n = store_col_int64(st, 2);

		snprintf(key, sizeof(key), "%s%s%s", store_col_int(st, 3) ? site : "",
			 store_col_int(st, 3) ? ":" : "", store_col_text(st, 1));
		if (json_object_set_new(threads, key, json_integer(n)) != 0 ||
		    count_n(sites, site, n) != 0) {
			r = -ENOMEM;
			break;
		}
	}
	store_reset(st);
	return r;
}

static json_t *report_of(struct run *rn, double seconds)
{
	json_t *status = json_object(), *threads = json_object(), *sites = json_object();
	const struct submit_site *site = rn->fixed			 ? rn->fixed
					 : rn->o->format == IMPORT_JSONL ? NULL
									 : rn->fallback;

	for (int s = COMMENT_PUBLISHED; status && s < COMMENT_DISCARDED; s++)
		json_object_set_new(status, comment_status_name((enum comment_status)s),
				    json_integer((json_int_t)rn->status[s]));
	if (thread_counts(rn, threads, sites) != 0) {
		json_decref(status);
		json_decref(threads);
		json_decref(sites);
		return NULL;
	}
	return json_pack(
	    "{s:s, s:s, s:o, s:I, s:I, s:o, s:o, s:o, s:O, s:O, s:O, s:O, s:{s:I, s:I}, s:f}",
	    "source", rn->source, "format", import_format_name(rn->o->format), "site",
	    site ? json_string(site->id) : json_null(), "records", (json_int_t)rn->records,
	    "imported", (json_int_t)rn->imported, "status", status, "sites", sites, "threads",
	    threads, "skipped", rn->skipped, "top_level", rn->top_level, "orphans", rn->orphans,
	    "dropped", rn->dropped, "learned", "spam", (json_int_t)rn->learned_spam, "ham",
	    (json_int_t)rn->learned_ham, "seconds", seconds);
}

/* "a, b, c" of the configured sites, as many as fit in out. */
static void site_list(const struct run *rn, char *out, size_t outsz)
{
	size_t len = 0;

	out[0] = '\0';
	for (size_t i = 0; i < rn->n_sites && len + 1 < outsz; i++) {
		int n = snprintf(out + len, outsz - len, "%s%s", i ? ", " : "", rn->sites[i].id);
		len += n < 0 ? 0 : (size_t)n;
	}
	if (len >= outsz && outsz > 4)
		memcpy(out + outsz - 4, "...", 4);
}

/* Which site the comments go to (lib/import.h): o->site, which must be
 * configured, or the default site; with several sites and none called
 * default only a commentd export, whose comments name their sites, may
 * come without one.  0, or IMPORT_BAD. */
static int choose_site(struct run *rn)
{
	char sites[160];

	site_list(rn, sites, sizeof(sites));
	if (rn->o->site) {
		rn->fixed = site_find(rn, rn->o->site);
		rn->fallback = rn->fixed;
		if (!rn->fixed)
			return import_fail(rn->err, "there is no site %.64s here (the sites: %s)",
					   rn->o->site, sites);
		return 0;
	}
	rn->fallback = site_find(rn, CONFIG_DEFAULT_SITE);
	if (!rn->fallback && rn->n_sites == 1)
		rn->fallback = &rn->sites[0];
	if (rn->fallback || rn->o->format == IMPORT_JSONL)
		return 0;
	return import_fail(rn->err,
			   "there are several sites (%s) and none is called default: say which "
			   "one the comments go to with --site ID",
			   sites);
}

static int run_phases(struct run *rn)
{
	int r = choose_site(rn);

	if (r == 0)
		r = read_file(rn);
	if (r == 0 && !rn->source[0])
		snprintf(rn->source, sizeof(rn->source), "%s", import_format_name(rn->o->format));
	if (r == 0)
		r = plan(rn);
	if (r == 0)
		r = write_all(rn);
	if (r == 0 && rn->o->learn)
		r = learn_all(rn);
	if (r < 0 && !rn->err->message[0])
		import_fail(rn->err, "the import failed (%s)", strerror(-r));
	return r;
}

int import_run(struct store_conn *c, const struct submit_site *sites, size_t n_sites,
	       const struct import_options *o, json_t **report, struct import_error *err)
{
	struct run *rn = calloc(1, sizeof(*rn));
	struct timespec t0;
	int r;

	err->message[0] = '\0';
	if (!rn)
		return -ENOMEM;
	if (!n_sites) {
		free(rn);
		return -EINVAL;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	*rn = (struct run){.c = c,
			   .sites = sites,
			   .n_sites = n_sites,
			   .keys = sites[0].keys,
			   .classifier = sites[0].classifier,
			   .o = o,
			   .err = err};
	if (o->source)
		snprintf(rn->source, sizeof(rn->source), "%s", o->source);
	randombytes_buf(rn->seal, sizeof(rn->seal));
	randombytes_buf(&rn->run_id, sizeof(rn->run_id));
	rn->run_id &= INT64_MAX;
	rn->skipped = json_object();
	rn->top_level = json_object();
	rn->orphans = json_array();
	rn->dropped = json_object();
	r = rn->skipped && rn->top_level && rn->orphans && rn->dropped ? run_phases(rn) : -ENOMEM;
	if (r == 0) {
		*report = report_of(rn, seconds_since(&t0));
		r = *report ? 0 : -ENOMEM;
	}
	store_exec(c, sql_stage_drop);
	json_decref(rn->skipped);
	json_decref(rn->top_level);
	json_decref(rn->orphans);
	json_decref(rn->dropped);
	sodium_memzero(rn, sizeof(*rn));
	free(rn);
	return r;
}
