/* Unit tests for lib/nodes and the store's job locks (store_job_try): two
 * stores on one database stand for two nodes.  On PostgreSQL
 * (tests/pgserver.py run --, test nodes-pg) the ETag key is shared, the
 * jobs run on one node at a time; on SQLite the ETag key is per start and
 * every job is granted.  Both: a node with another secret key is refused
 * and only a fingerprint of the key is stored; the schema is at the newest
 * embedded migration; a comment or a learned message on one node is seen by
 * the other at once. */
#include "tap.h"

#include "classify.h"
#include "comment.h"
#include "embed.h"
#include "fixture.h"
#include "nodes.h"

#include <errno.h>
#include <sodium.h>
#include <time.h>

static struct fixture fx;
static bool pg;

/* The second node: a store of its own on the fixture's database. */
static struct store *open_node(unsigned pool)
{
	struct store *s = NULL;

	if (store_new(&s, fx.db, pool) != 0)
		diag("cannot open the second node's store");
	return s;
}

static void test_schema(void)
{
	static const char pg_sql[] = "SELECT version FROM commentd_schema";
	static const char lite_sql[] = "PRAGMA user_version";
	/* The newest migration of the embedded list, never a number written
	 * here: the next schema change needs no edit of this test. */
	int64_t newest = pg ? (int64_t)schema_pg_files_count : (int64_t)schema_files_count;

	is_int(fixture_one_int(fx.conn, pg ? pg_sql : lite_sql), newest,
	       "the schema is at the newest embedded migration (%lld)", (long long)newest);
	is_int(fixture_one_int(fx.conn, "SELECT count(*) FROM node_keys"), 0,
	       "node_keys exists and is empty before a node starts");
}

static void test_etag_key(void)
{
	static const char sql_stored[] = "SELECT value FROM node_keys WHERE name = 'etag'";
	unsigned char a[NODES_ETAG_KEY_BYTES], a2[NODES_ETAG_KEY_BYTES], b[NODES_ETAG_KEY_BYTES];
	unsigned char zero[NODES_ETAG_KEY_BYTES] = {0};
	struct store *other = open_node(1);
	struct store_conn *c;
	struct store_stmt *st;

	if (!other)
		return;
	c = store_acquire(other);
	is_int(nodes_etag_key(fx.conn, a), 0, "node A: an ETag key");
	is_int(nodes_etag_key(c, b), 0, "node B: an ETag key");
	is_int(nodes_etag_key(fx.conn, a2), 0, "node A again (a restart)");
	ok(memcmp(a, zero, sizeof(a)) != 0, "the key is not zeros");
	if (pg) {
		ok(memcmp(a, b, sizeof(a)) == 0, "PostgreSQL: both nodes have the same ETag key");
		ok(memcmp(a, a2, sizeof(a)) == 0, "  and a restart keeps it (304 after a restart)");
		is_int(
		    fixture_one_int(fx.conn, "SELECT count(*) FROM node_keys WHERE name = 'etag'"),
		    1, "  one shared key in node_keys (the first node's)");
		st = store_stmt(c, sql_stored);
		ok(st && store_row(c, st) == 1 && store_col_bytes(st, 0) == sizeof(a) &&
		       memcmp(store_col_blob(st, 0), a, sizeof(a)) != 0,
		   "  the key in use is the stored one mixed with the release version, not it");
		if (st)
			store_reset(st);
	} else {
		ok(memcmp(a, b, sizeof(a)) != 0 && memcmp(a, a2, sizeof(a)) != 0,
		   "SQLite: a new random key per start (ETags new after a restart)");
		is_int(
		    fixture_one_int(fx.conn, "SELECT count(*) FROM node_keys WHERE name = 'etag'"),
		    0, "  nothing stored");
	}
	store_release(other, c);
	store_free(other);
}

static void test_key_check(void)
{
	unsigned char master[KEYS_MASTER_BYTES];
	struct keys *wrong = NULL;
	struct store *other = open_node(1);
	struct store_conn *c;
	char where[128];

	if (!other)
		return;
	c = store_acquire(other);
	is_int(nodes_key_check(fx.conn, fx.keys), 0, "the first node's key is taken");
	is_int(nodes_key_check(c, fx.keys), 0, "a second node with the same key starts");
	is_int(nodes_key_check(fx.conn, fx.keys), 0, "  and the first again (a restart)");
	is_int(fixture_keys(&wrong, 0x33), 0, "another key");
	is_int(nodes_key_check(c, wrong), NODES_KEY_MISMATCH, "a node with another key is refused");
	is_int(nodes_key_check(fx.conn, wrong), NODES_KEY_MISMATCH, "  on either node");
	is_int(nodes_key_check(c, fx.keys), 0, "  and the refusal changed nothing stored");
	is_int(fixture_one_int(fx.conn, "SELECT count(*) FROM node_keys WHERE name = 'key_check'"),
	       1, "one fingerprint in node_keys");
	/* fixture_keys' master for 0x5a, as fixture.h makes it */
	for (int i = 0; i < KEYS_MASTER_BYTES; i++)
		master[i] = (unsigned char)(0x5a ^ (i * 7));
	is_int(fixture_scan_tables(fx.conn, master, 8, where, sizeof(where)), 0,
	       "no table holds the key (its first 8 bytes) %s", where);
	keys_free(wrong);
	store_release(other, c);
	store_free(other);
}

/* store_job_try until granted, for at most 30 s: the result. */
static int job_when_free(struct store *s, enum store_job job)
{
	const struct timespec pause = {0, 100000000};
	int r = 0;

	for (int i = 0; i < 300 && (r = store_job_try(s, job)) == 0; i++)
		nanosleep(&pause, NULL);
	return r;
}

/* Jobs: on PostgreSQL one node at a time (and each job on its own), held
 * until given back or the node's store closes; on SQLite always granted. */
static void test_jobs(void)
{
	struct store *a = open_node(3), *b = open_node(3);

	if (!a || !b) {
		store_free(a);
		store_free(b);
		return;
	}
	is_int(store_job_try(a, STORE_JOB_MAINTENANCE), 1, "node A may run the maintenance");
	is_int(store_job_try(a, STORE_JOB_MAINTENANCE), 1, "  and may still when it asks again");
	is_int(store_job_try(a, 0), -EINVAL, "a job that does not exist is an error");
	if (!pg) {
		is_int(store_job_try(b, STORE_JOB_MAINTENANCE), 1,
		       "SQLite: every process may (one process per file)");
		is_int(store_job_try(b, STORE_JOB_OUTBOX), 1, "  the outbox too");
		store_job_done(a, STORE_JOB_MAINTENANCE);
		store_job_done(b, STORE_JOB_MAINTENANCE);
		store_free(a);
		store_free(b);
		return;
	}
	is_int(store_job_try(b, STORE_JOB_MAINTENANCE), 0,
	       "PostgreSQL: node B may not while A holds it");
	is_int(store_job_try(b, STORE_JOB_OUTBOX), 1,
	       "  but may take the outbox, a lock of its own");
	is_int(store_job_try(a, STORE_JOB_OUTBOX), 0, "  which A then may not");
	is_int(fixture_one_int(fx.conn, "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'"
					" AND granted AND objid IN (257, 258)"),
	       2, "two advisory locks held, one per job");
	store_job_done(a, STORE_JOB_MAINTENANCE);
	is_int(store_job_try(b, STORE_JOB_MAINTENANCE), 1,
	       "A gave it back once (asked three times, held once): B takes it");
	is_int(store_job_try(a, STORE_JOB_MAINTENANCE), 0, "  and A now may not");
	store_job_done(a, STORE_JOB_OUTBOX); /* not A's: nothing happens */
	is_int(store_job_try(a, STORE_JOB_OUTBOX), 0,
	       "giving back a lock not held changes nothing");
	b = store_free(b);
	/* The server ends B's sessions (and their locks) after B closed
	 * them: a wait for another process, not a timing check. */
	is_int(job_when_free(a, STORE_JOB_MAINTENANCE), 1,
	       "B's store closed (a node stopped or died): A takes the maintenance");
	/* Each lock is a session of its own, ended apart: waited for too. */
	is_int(job_when_free(a, STORE_JOB_OUTBOX), 1, "  and the outbox");
	store_free(a);
}

/* A comment written through node A moves the thread version node B reads
 * (the thread cache's check), at once. */
static void test_thread_version(void)
{
	char thread[] = "/nodes", author[] = "Ann", email[] = "ann@example.org", text[] = "Hallo";
	struct comment_input in = {
	    .site = "default", .thread = thread, .author = author, .email = email, .text = text};
	struct comment_record rec = {
	    .status = COMMENT_PUBLISHED, .score = -1, .created = 1700000000};
	struct comment_stored out;
	struct comment_error err = {0};
	struct store *other = open_node(1);
	struct store_conn *c;
	int64_t before = 0, after = 0;

	if (!other)
		return;
	c = store_acquire(other);
	is_int(comment_create(fx.conn, fx.cfg, fx.keys, &in, &rec, &out, &err), 0,
	       "node A stores a comment");
	comment_stored_clear(&out);
	comment_thread_version(c, "default", thread, &before);
	is_int(comment_create(fx.conn, fx.cfg, fx.keys, &in, &rec, &out, &err), 0, "and another");
	comment_stored_clear(&out);
	comment_thread_version(c, "default", thread, &after);
	ok(after > before && before > 0,
	   "node B reads the new thread version at once (%lld > %lld)", (long long)after,
	   (long long)before);
	store_release(other, c);
	store_free(other);
}

static double score_of(struct classifier *c, struct store_conn *conn, const char *text)
{
	struct classify_input in = {.text = text, .render_seconds = -1};
	double s = -1;

	if (classifier_score_only(c, conn, &in, &s) != 0)
		return -1;
	return s;
}

/* Learning on node A changes node B's very next score. */
static void test_learning(void)
{
	static const char spam[] = "cheap pills casino bonus click free";
	struct classifier *ca = NULL, *cb = NULL;
	struct store *other = open_node(1);
	struct store_conn *c;
	double s1, s2;

	if (!other)
		return;
	c = store_acquire(other);
	is_int(classifier_new(&ca, NULL), 0, "node A's classifier");
	is_int(classifier_new(&cb, NULL), 0, "node B's classifier");
	s1 = score_of(cb, c, spam);
	ok(s1 >= 0, "node B scores (%g)", s1);
	is_int(store_begin(fx.conn), 0, "node A learns");
	for (unsigned i = 0; i < 30; i++) {
		struct classify_input in = {.text = spam, .render_seconds = -1};
		char key[32];

		snprintf(key, sizeof(key), "nodes:%u", i);
		classifier_learn(ca, fx.conn, key, &in, CLASSIFY_LABEL_SPAM);
	}
	is_int(store_commit(fx.conn), 0, "  30 spam, committed");
	s2 = score_of(cb, c, spam);
	ok(s2 > s1, "node B's very next score has changed (%g > %g)", s2, s1);
	classifier_free(ca);
	classifier_free(cb);
	store_release(other, c);
	store_free(other);
}

int main(void)
{
	if (sodium_init() < 0 || fixture_open(&fx, "nodes") != 0)
		return 1;
	pg = store_postgresql(fx.conn);
	diag("engine: %s", pg ? "PostgreSQL" : "SQLite");
	test_schema();
	test_etag_key();
	test_key_check();
	test_jobs();
	test_thread_version();
	test_learning();
	fixture_close(&fx);
	return done_testing();
}
