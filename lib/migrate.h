/* migrate: a whole database copied from one engine to the other
 * (`commentctl migrate-db`): SQLite to PostgreSQL, PostgreSQL to SQLite, or
 * between two databases of one engine.
 *
 * Every table of the schema is named in lib/migrate.c's list, as data
 * (copied and verified) or as derived (the admin search's index and its
 * bookkeeping, which the destination rebuilds); a table of either database
 * that the list does not name fails the copy (MIGRATE_UNKNOWN_TABLE), so a
 * table added by a later schema is never left behind unnoticed.
 *
 * The source is read in one snapshot, its data never changed and its
 * schema never migrated; both
 * databases must be at the schema version this binary knows for their
 * engine.  The destination (created and migrated when new) must hold no
 * data.  It is written in one transaction with its triggers off (the
 * copied counters, versions and tallies are the source's), its id
 * sequences set to the source's high-water marks, and verified before the
 * commit: per data table the row count and a checksum (BLAKE2b-256 of each
 * row's canonical encoding, added up over the rows, so row order does not
 * matter) read back from both sides.  Any failure rolls the destination
 * back; a SQLite destination file this call created is removed.
 */
#ifndef COMMENTD_MIGRATE_H
#define COMMENTD_MIGRATE_H

#include <stdint.h>

struct store_conn;

/* Expected failures (positive); negative results are internal failures. */
enum {
	MIGRATE_NO_SOURCE = 1,	   /* the source file does not exist */
	MIGRATE_UNREACHABLE = 2,   /* a server cannot be reached, or a URI is refused */
	MIGRATE_VERSION = 3,	   /* a schema version is not this binary's */
	MIGRATE_NOT_EMPTY = 4,	   /* the destination holds data */
	MIGRATE_UNKNOWN_TABLE = 5, /* a table the list does not name */
	MIGRATE_MISMATCH = 6,	   /* verification failed: counts or checksums differ */
	MIGRATE_SAME = 7,	   /* source and destination are one database */
	MIGRATE_SCHEMA = 8,	   /* a table or column of one side missing on the other */
	MIGRATE_UNREADABLE = 9,	   /* the source could not be opened or read */
};

/* Called as each table is copied: rows done of total (total from a count
 * in the same snapshot). */
typedef void (*migrate_progress_fn)(void *arg, const char *table, int64_t done, int64_t total);

struct migrate_opts {
	migrate_progress_fn progress; /* NULL: none */
	void *arg;
	/* Tests only: runs on the destination's connection after the copy,
	 * before the verification (a destination that differs). */
	int (*after_copy)(struct store_conn *dst, void *arg);
};

/* What a run did, or where it failed. */
struct migrate_report {
	unsigned tables;       /* data tables copied and verified */
	int64_t rows;	       /* rows copied in all */
	char table[64];	       /* the table a failure concerns ("" if none) */
	char detail[256];      /* what failed, for the operator */
	unsigned char sum[32]; /* the checksum of the last verified table */
};

/* Copies the database from (a SQLite path or a PostgreSQL URI) into to.
 * 0 when everything is copied, verified and committed; a MIGRATE_* with
 * report->detail (and ->table) saying why; negative on an internal
 * failure (logged), also with report->detail.  opts may be NULL. */
int migrate_db(const char *from, const char *to, const struct migrate_opts *opts,
	       struct migrate_report *report);

/* The tables migrate_db copies (data) and those it leaves to be rebuilt
 * (derived), for the tests and the docs: the i-th name, NULL past the end;
 * *derived set for a derived one. */
const char *migrate_table(unsigned i, int *derived);

#endif
