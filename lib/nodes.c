/* nodes: what the daemons sharing one database agree on (nodes.h). */
#include "nodes.h"

#include "log.h"

#include <errno.h>
#include <sodium.h>
#include <string.h>
#include <time.h>

/* Both engines accept these (SQLite >= 3.24's upsert). */
static const char sql_key_put[] = "INSERT INTO node_keys (name, value, created) VALUES (?1, ?2, ?3)"
				  " ON CONFLICT (name) DO NOTHING";
static const char sql_key_get[] = "SELECT value FROM node_keys WHERE name = ?1";

/* Reads the value stored under name into out (len bytes).  1 found, 0
 * none, negative on failure or a malformed value (logged). */
static int read_value(struct store_conn *c, const char *name, unsigned char *out, size_t len)
{
	struct store_stmt *st = store_stmt(c, sql_key_get);
	int r;

	if (!st)
		return -EIO;
	store_bind_text(st, 1, name);
	r = store_row(c, st);
	if (r == 1 && store_col_bytes(st, 0) == len) {
		memcpy(out, store_col_blob(st, 0), len);
	} else if (r == 1) {
		log_err("nodes: the database's %s is malformed", name);
		r = -EIO;
	}
	store_reset(st);
	return r;
}

/* The value stored under name in out (len bytes): the one there, or want,
 * stored now when there is none (the first node's wins: ON CONFLICT DO
 * NOTHING, then read back).  Read first, so that a start writes nothing
 * once the value exists.  0, or negative (logged). */
static int shared_value(struct store_conn *c, const char *name, const unsigned char *want,
			unsigned char *out, size_t len)
{
	struct store_stmt *st;
	int r = read_value(c, name, out, len);

	if (r != 0)
		return r < 0 ? r : 0;
	st = store_stmt(c, sql_key_put);
	if (!st)
		return -EIO;
	store_bind_text(st, 1, name);
	store_bind_blob(st, 2, want, len);
	store_bind_int64(st, 3, (int64_t)time(NULL));
	r = store_run(c, st, "node key");
	if (r != 0)
		return r < 0 ? r : -EIO;
	r = read_value(c, name, out, len);
	if (r == 0)
		log_err("nodes: the database's %s is missing after it was stored", name);
	return r == 1 ? 0 : r < 0 ? r : -EIO;
}

int nodes_etag_key(struct store_conn *c, unsigned char out[NODES_ETAG_KEY_BYTES])
{
	static const char release[] = "commentd etag " COMMENTD_VERSION;
	unsigned char fresh[NODES_ETAG_KEY_BYTES], key[NODES_ETAG_KEY_BYTES];
	int r = 0;

	randombytes_buf(fresh, sizeof(fresh));
	memcpy(key, fresh, sizeof(key));
	/* SQLite: one process per file, a key per start (nothing shared). */
	if (store_postgresql(c))
		r = shared_value(c, "etag", fresh, key, sizeof(key));
	if (r == 0)
		crypto_generichash(out, NODES_ETAG_KEY_BYTES, (const unsigned char *)release,
				   sizeof(release) - 1, key, sizeof(key));
	sodium_memzero(key, sizeof(key));
	sodium_memzero(fresh, sizeof(fresh));
	return r;
}

int nodes_key_check_silent(struct store_conn *c, const struct keys *k)
{
	static const char label[] = "commentd key check";
	unsigned char mine[KEYS_HASH_BYTES], theirs[KEYS_HASH_BYTES];
	int r;

	keys_hash(k, KEYS_NODE, label, sizeof(label) - 1, mine);
	r = shared_value(c, "key_check", mine, theirs, sizeof(theirs));
	if (r != 0)
		return r;
	if (sodium_memcmp(mine, theirs, sizeof(mine)) != 0)
		return NODES_KEY_MISMATCH;
	return 0;
}

int nodes_key_check(struct store_conn *c, const struct keys *k)
{
	int r = nodes_key_check_silent(c, k);

	if (r == NODES_KEY_MISMATCH)
		log_err("nodes: this secret key is not the one the database was first used with: "
			"its e-mail hashes, tokens, site keys and sealed values would not match; "
			"start every node with the same key file (copy it from the first node)");
	return r;
}
