/* admin: moderator tokens and the audit log.
 *
 * A token is 32 random bytes in base64url, shown once at creation; the
 * database keeps only its keyed hash (keys KEYS_TOKEN), looked up by hash and
 * compared in constant time.  Revoked tokens stay listed but never verify.
 */
#ifndef COMMENTD_ADMIN_H
#define COMMENTD_ADMIN_H

#include "keys.h"
#include "store.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#define ADMIN_NAME_MAX 64

enum {
	ADMIN_EXISTS = 1,    /* a token with that name exists */
	ADMIN_DENIED = 2,    /* unknown or revoked token */
	ADMIN_NOT_FOUND = 3, /* no such token name */
	ADMIN_INVALID = 4,   /* bad name */
};

/* Creates a token called name (1..64 printable characters) and writes the
 * token text to token (shown once).  0, ADMIN_EXISTS, ADMIN_INVALID, or
 * negative (logged). */
int admin_token_create(struct store_conn *c, const struct keys *k, const char *name,
		       char token[KEYS_TOKEN_CHARS]);

/* Checks token; on success copies the token's name into name.  0 or
 * ADMIN_DENIED; negative on failure. */
int admin_token_verify(struct store_conn *c, const struct keys *k, const char *token,
		       char name[ADMIN_NAME_MAX + 1]);

/* Revokes the token called name.  0, ADMIN_NOT_FOUND, negative. */
int admin_token_revoke(struct store_conn *c, const char *name);

/* [{"name", "created", "revoked", "last_used"}] in creation order. */
int admin_token_list(struct store_conn *c, json_t **out);

/* Appends an audit row inside the caller's transaction.  detail may be
 * NULL.  0 or negative / STORE_* from store_write_error. */
int audit_write(struct store_conn *c, const char *actor, const char *action, int64_t comment_id,
		const char *detail, bool reversal);

/* The audit log, newest first: limit rows (1..1000) with id < before
 * (0: from the newest).  {"entries": [...]} in *out. */
int audit_list(struct store_conn *c, unsigned limit, int64_t before, json_t **out);

#endif
