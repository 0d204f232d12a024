/* store_int: what the parts of lib/store share (store.c: the pool, writers,
 * group commit and statement cache; store_sqlite.c: the statement layer on
 * SQLite).  Not for other modules. */
#ifndef COMMENTD_STORE_INT_H
#define COMMENTD_STORE_INT_H

#include "store.h"

#include <sqlite3.h>

/* A prepared statement.  Cached ones live in their connection's slots
 * (store_stmt); store_stmt_new allocates one. */
struct store_stmt {
	sqlite3_stmt *lite;
};

#endif
