/* store_begin_whole's contract, checked on either engine (test-store,
 * test-store-pg): the first failure dooms the transaction (the commit
 * rolls it all back); without one it commits; the transaction after it is
 * an ordinary one again, a refusal undoing that write alone.  On
 * PostgreSQL its writes run without the per-write savepoint, so a refused
 * write aborts the whole transaction on the server (the next statement
 * fails).  Include after tap.h. */
#ifndef COMMENTD_TEST_WHOLE_H
#define COMMENTD_TEST_WHOLE_H

#include "store.h"

#include <errno.h>

static inline void check_whole(struct store_conn *c)
{
	static const char sql_insert[] = "INSERT INTO whole_t(x) VALUES (?1)";
	static const char sql_count[] = "SELECT count(*) FROM whole_t";
	struct store_stmt *st;
	int64_t n = -1;

	is_int(store_exec(c, "CREATE TABLE whole_t(x TEXT UNIQUE)"), 0, "a table");
	/* Prepared before, as nothing can be in an aborted transaction. */
	is_int(store_one_int64(c, store_stmt(c, sql_count), &n), 1, "count");
	is_int(n, 0, "empty");
	is_int(store_begin_whole(c), 0, "an all-or-nothing transaction");
	st = store_stmt(c, sql_insert);
	store_bind_text(st, 1, "a");
	is_int(store_run(c, st, "whole insert"), 0, "a write");
	store_bind_text(st, 1, "a");
	is_int(store_step_write(c, st, "whole insert"), STORE_CONSTRAINT, "a refused write");
	store_reset(st);
	if (store_postgresql(c))
		ok(store_one_int64(c, store_stmt(c, sql_count), &n) < 0,
		   "no savepoint undid it alone: the server aborted the transaction");
	is_int(store_commit(c), -EIO, "the commit is refused");
	ok(!store_in_transaction(c), "and the transaction rolled back");
	is_int(store_one_int64(c, store_stmt(c, sql_count), &n), 1, "count");
	is_int(n, 0, "nothing of it is kept, not even the write before the refusal");
	is_int(store_begin_whole(c), 0, "another");
	store_bind_text(st, 1, "b");
	is_int(store_run(c, st, "whole insert"), 0, "a write");
	is_int(store_commit(c), 0, "no failure: it commits");
	is_int(store_begin(c), 0, "an ordinary transaction after it");
	store_bind_text(st, 1, "b");
	is_int(store_step_write(c, st, "insert"), STORE_CONSTRAINT, "a refused write");
	store_reset(st);
	store_bind_text(st, 1, "c");
	is_int(store_run(c, st, "insert"), 0, "goes on (the refusal undid itself alone)");
	is_int(store_commit(c), 0, "and commits");
	is_int(store_one_int64(c, store_stmt(c, sql_count), &n), 1, "count");
	is_int(n, 2, "b and c are kept");
	is_int(store_exec(c, "DROP TABLE whole_t"), 0, "dropped");
}

#endif
