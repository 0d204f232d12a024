/* admin: moderator tokens and the audit log.
 *
 * A token is 32 random bytes in base64url, shown once at creation; the
 * database keeps only its keyed hash (keys KEYS_TOKEN), looked up by hash and
 * compared in constant time.  Revoked tokens stay listed but never verify.
 *
 * A token may be limited to some sites (lib/config.h, "Sites"); one created
 * without sites sees every site.  What a token may see is its scope: a JSON
 * array of site ids as text, e.g. ["blog","notes"], or NULL for every site.
 * The moderation and audit functions take a scope and bind it to static SQL
 * (json_each), so a token never reads or changes another site's rows.
 */
#ifndef COMMENTD_ADMIN_H
#define COMMENTD_ADMIN_H

#include "config.h"
#include "keys.h"
#include "names.h"
#include "store.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#define ADMIN_NAME_MAX	    64
#define ADMIN_DISPLAY_MAX   100				/* characters of a display name */
#define ADMIN_DISPLAY_BYTES (4 * ADMIN_DISPLAY_MAX + 1) /* with its NUL */
#define ADMIN_SITES_MAX	    64				/* sites one token may name */

enum {
	ADMIN_EXISTS = 1,    /* a token with that name exists */
	ADMIN_DENIED = 2,    /* unknown or revoked token */
	ADMIN_NOT_FOUND = 3, /* no such token name */
	ADMIN_INVALID = 4,   /* bad name */
};

/* Creates a token called name (1..64 printable characters) for the n site
 * ids in sites (n == 0: every site; at most ADMIN_SITES_MAX, each a valid
 * site id) and writes the token text to token (shown once).  0,
 * ADMIN_EXISTS, ADMIN_INVALID, or negative (logged). */
int admin_token_create(struct store_conn *c, const struct keys *k, const char *name,
		       const char *const *sites, size_t n, char token[KEYS_TOKEN_CHARS]);

/* Checks token; on success copies the token's name into name and sets
 * *scope to its scope (caller frees; NULL: every site).  0 or ADMIN_DENIED;
 * negative on failure. */
int admin_token_verify(struct store_conn *c, const struct keys *k, const char *token,
		       char name[ADMIN_NAME_MAX + 1], char **scope);

/* True if site is in scope (NULL: every site). */
bool admin_scope_has(const char *scope, const char *site);

/* The one site a scope names, copied into site; false for a scope of
 * several sites or every site. */
bool admin_scope_one(const char *scope, char site[CONFIG_SITE_ID_MAX + 1]);

/* The scope of the one site id (caller frees).  NULL on OOM. */
char *admin_scope_of(const char *site);

/* Revokes the token called name.  0, ADMIN_NOT_FOUND, negative. */
int admin_token_revoke(struct store_conn *c, const char *name);

/* 0 if display is a valid display name (below), else ADMIN_INVALID. */
int admin_display_name_check(const char *display);

/* Sets the display name a moderator's replies are published under
 * ("Sjef"): 1..ADMIN_DISPLAY_MAX characters of valid UTF-8 without control
 * characters, stored with invisible characters removed and white space
 * trimmed; display NULL removes it (the token can then not reply).  0,
 * ADMIN_NOT_FOUND (no token called name, or revoked), ADMIN_INVALID, or
 * negative. */
int admin_token_set_display_name(struct store_conn *c, const char *name, const char *display);

/* The display name of the token called name (not revoked) into out.  1 with
 * one, 0 when it has none (or no such token), negative on failure. */
int admin_token_display_name(struct store_conn *c, const char *name, char out[ADMIN_DISPLAY_BYTES]);

/* The display names of the tokens not revoked that moderate site (NULL:
 * every token), as a set for the impersonation rule (lib/submit.h): a
 * blog's readers are not held for another blog's moderators' names.  0
 * with *out (caller frees with names_free), or negative. */
int admin_display_names(struct store_conn *c, const char *site, struct names **out);

/* [{"name", "display_name", "sites" (an array, or null for every site),
 * "created", "revoked", "last_used"}] in creation order. */
int admin_token_list(struct store_conn *c, json_t **out);

/* Appends an audit row about site (NULL: no one site) inside the caller's
 * transaction.  detail may be NULL.  0 or negative / STORE_* from
 * store_run. */
int audit_write(struct store_conn *c, const char *site, const char *actor, const char *action,
		int64_t comment_id, const char *detail, bool reversal);

/* The audit log of the sites in scope, newest first: limit rows (1..1000)
 * with id < before (0: from the newest); rows about no one site only for
 * the scope of every site.  {"entries": [...]} in *out. */
int audit_list(struct store_conn *c, const char *scope, unsigned limit, int64_t before,
	       json_t **out);

#endif
