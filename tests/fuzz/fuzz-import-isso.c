/* fuzz-import-isso: import_read_isso_db (lib/import_isso.c) on an arbitrary
 * database image, opened read-only in memory (sqlite3_deserialize) with the
 * settings import_read_isso uses: the database's rows are untrusted. */
#include "fuzz-import.h"

#include <sqlite3.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct import_error err = {{0}};
	unsigned char *image;
	sqlite3 *db = NULL;

	if (size > FUZZ_MAX_INPUT || size == 0)
		return 0;
	if (sqlite3_open_v2(":memory:", &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK)
		abort();
	image = sqlite3_malloc64(size);
	if (!image)
		abort();
	memcpy(image, data, size);
	sqlite3_db_config(db, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL);
	sqlite3_db_config(db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, NULL);
	if (sqlite3_deserialize(db, "main", image, (sqlite3_int64)size, (sqlite3_int64)size,
				SQLITE_DESERIALIZE_READONLY | SQLITE_DESERIALIZE_FREEONCLOSE) ==
	    SQLITE_OK)
		fuzz_check_result(import_read_isso_db(db, &fuzz_sink, &err), &err);
	sqlite3_close(db);
	return 0;
}
