#include "admin.h"

#include "config.h"
#include "log.h"
#include "text.h"
#include "timefmt.h"

#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static const char sql_token_insert[] =
    "INSERT INTO admin_tokens(name, hash, created) VALUES (?1, ?2, ?3)";
static const char sql_token_exists[] = "SELECT 1 FROM admin_tokens WHERE name = ?1";
static const char sql_token_site[] =
    "INSERT INTO admin_token_sites(token_id, site) VALUES (?1, ?2) ON CONFLICT DO NOTHING";
/* Column 2: the token's sites as a JSON array; 3: whether it has any. */
static const char sql_token_find[] =
    "SELECT name, hash, (SELECT json_group_array(site) FROM admin_token_sites s"
    " WHERE s.token_id = t.id), EXISTS (SELECT 1 FROM admin_token_sites s"
    " WHERE s.token_id = t.id) FROM admin_tokens t WHERE hash = ?1 AND revoked IS NULL";
static const char sql_token_used[] = "UPDATE admin_tokens SET last_used = ?2 WHERE name = ?1";
static const char sql_token_revoke[] =
    "UPDATE admin_tokens SET revoked = ?2 WHERE name = ?1 AND revoked IS NULL";
static const char sql_token_list[] =
    "SELECT name, created, revoked, last_used, display_name, (SELECT json_group_array(site)"
    " FROM admin_token_sites s WHERE s.token_id = t.id), EXISTS (SELECT 1 FROM"
    " admin_token_sites s WHERE s.token_id = t.id) FROM admin_tokens t ORDER BY id";
static const char sql_display_set[] =
    "UPDATE admin_tokens SET display_name = ?2 WHERE name = ?1 AND revoked IS NULL";
static const char sql_display_get[] =
    "SELECT display_name FROM admin_tokens WHERE name = ?1 AND revoked IS NULL"
    " AND display_name IS NOT NULL";
/* ?1: a site (NULL: every token); a token for every site counts for each. */
static const char sql_display_all[] =
    "SELECT display_name FROM admin_tokens t WHERE revoked IS NULL AND display_name IS NOT NULL"
    " AND (CAST(?1 AS TEXT) IS NULL OR NOT EXISTS (SELECT 1 FROM admin_token_sites s WHERE "
    "s.token_id = t.id)"
    " OR EXISTS (SELECT 1 FROM admin_token_sites s WHERE s.token_id = t.id AND s.site = ?1))"
    " ORDER BY id";
static const char sql_audit_insert[] =
    "INSERT INTO audit(at, actor, action, comment_id, detail, reversal, site)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)";
/* ?3: the scope; a row about no one site (NULL) only for every site. */
static const char sql_audit_list[] =
    "SELECT id, at, actor, action, comment_id, detail, reversal, site FROM audit"
    " WHERE (?1 = 0 OR id < ?1)"
    " AND (CAST(?3 AS TEXT) IS NULL OR site IN (SELECT value FROM json_each(?3)))"
    " ORDER BY id DESC LIMIT ?2";

static bool name_valid(const char *name)
{
	size_t n = strlen(name);

	/* Printable: valid UTF-8 without C0/C1 controls (the name goes into
	 * JSON and the audit log). */
	if (n == 0 || n > ADMIN_NAME_MAX || !text_utf8_valid(name, n, NULL) ||
	    text_has_controls(name, false))
		return false;
	for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
		if (*p <= 0x20 || *p == 0x7f)
			return false;
	}
	return true;
}

/* Writes the token's sites (inside the transaction). */
static int token_sites(struct store_conn *c, int64_t id, const char *const *sites, size_t n)
{
	struct store_stmt *st;
	int r = 0;

	for (size_t i = 0; i < n && r == 0; i++) {
		st = store_stmt(c, sql_token_site);
		if (!st)
			return -EIO;
		store_bind_int64(st, 1, id);
		store_bind_text(st, 2, sites[i]);
		r = store_run(c, st, "token site");
	}
	return r;
}

static bool sites_valid(const char *const *sites, size_t n)
{
	if (n > ADMIN_SITES_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (!config_site_id_valid(sites[i]))
			return false;
	}
	return true;
}

int admin_token_create(struct store_conn *c, const struct keys *k, const char *name,
		       const char *const *sites, size_t n, char token[KEYS_TOKEN_CHARS])
{
	unsigned char hash[KEYS_HASH_BYTES];
	struct store_stmt *st;
	int r;

	if (!name_valid(name) || !sites_valid(sites, n))
		return ADMIN_INVALID;
	r = store_begin(c);
	if (r)
		return r < 0 ? r : -EIO;
	st = store_stmt(c, sql_token_exists);
	if (!st) {
		r = -EIO;
		goto out;
	}
	store_bind_text(st, 1, name);
	r = store_row(c, st);
	store_reset(st);
	if (r != 0) {
		r = r > 0 ? ADMIN_EXISTS : r;
		goto out;
	}
	keys_token_new(k, token, hash);
	st = store_stmt(c, sql_token_insert);
	if (!st) {
		r = -EIO;
		goto out;
	}
	store_bind_text(st, 1, name);
	store_bind_blob(st, 2, hash, sizeof(hash));
	store_bind_int64(st, 3, (int64_t)time(NULL));
	r = store_run(c, st, "token insert");
	if (r == 0)
		r = token_sites(c, store_last_id(c), sites, n);
	if (r == 0)
		r = store_commit(c);
	if (r > 0)
		r = -EIO;
out:
	store_rollback(c);
	if (r != 0)
		sodium_memzero(token, KEYS_TOKEN_CHARS);
	return r;
}

int admin_token_verify(struct store_conn *c, const struct keys *k, const char *token,
		       char name[ADMIN_NAME_MAX + 1], char **scope)
{
	unsigned char hash[KEYS_HASH_BYTES];
	struct store_stmt *st;
	size_t len = strnlen(token, KEYS_TOKEN_CHARS + 1);
	int r;

	*scope = NULL;
	/* Hash whatever was sent (bounded) so timing does not depend on it. */
	keys_hash(k, KEYS_TOKEN, token, len, hash);
	if (len != KEYS_TOKEN_CHARS - 1)
		return ADMIN_DENIED;
	st = store_stmt(c, sql_token_find);
	if (!st)
		return -EIO;
	store_bind_blob(st, 1, hash, sizeof(hash));
	r = store_match_blob(c, st, 1, hash, sizeof(hash));
	if (r == 1) {
		snprintf(name, ADMIN_NAME_MAX + 1, "%s", store_col_text(st, 0));
		if (store_col_int(st, 3)) {
			*scope = strdup(store_col_text(st, 2));
			r = *scope ? 1 : -ENOMEM;
		}
		store_reset(st);
	}
	r = r == 1 ? 0 : r == 0 ? ADMIN_DENIED : r;
	if (r == 0) {
		st = store_stmt(c, sql_token_used);
		if (st) {
			store_bind_text(st, 1, name);
			store_bind_int64(st, 2, (int64_t)time(NULL));
			/* best effort: last_used is informational */
			(void)store_run(c, st, "token last used");
		}
	}
	return r;
}

int admin_token_revoke(struct store_conn *c, const char *name)
{
	struct store_stmt *st = store_stmt(c, sql_token_revoke);
	int r;

	if (!st)
		return -EIO;
	store_bind_text(st, 1, name);
	store_bind_int64(st, 2, (int64_t)time(NULL));
	r = store_run(c, st, "token revoke");
	if (r)
		return r < 0 ? r : -EIO;
	return store_changes(c) == 1 ? 0 : ADMIN_NOT_FOUND;
}

/* A display name as stored: invisible characters removed, trimmed, then
 * 1..ADMIN_DISPLAY_MAX characters without controls.  0 or ADMIN_INVALID. */
static int display_clean(const char *display, char out[ADMIN_DISPLAY_BYTES])
{
	size_t n = strnlen(display, ADMIN_DISPLAY_BYTES), chars;

	if (n >= ADMIN_DISPLAY_BYTES || !text_utf8_valid(display, n, NULL))
		return ADMIN_INVALID;
	memcpy(out, display, n + 1);
	text_strip_invisible(out);
	text_trim(out);
	if (!*out || text_has_controls(out, false) || !text_utf8_valid(out, strlen(out), &chars) ||
	    chars > ADMIN_DISPLAY_MAX)
		return ADMIN_INVALID;
	return 0;
}

int admin_display_name_check(const char *display)
{
	char clean[ADMIN_DISPLAY_BYTES];

	return display_clean(display, clean);
}

int admin_token_set_display_name(struct store_conn *c, const char *name, const char *display)
{
	char clean[ADMIN_DISPLAY_BYTES];
	struct store_stmt *st;
	int r;

	if (display && display_clean(display, clean) != 0)
		return ADMIN_INVALID;
	st = store_stmt(c, sql_display_set);
	if (!st)
		return -EIO;
	store_bind_text(st, 1, name);
	if (display)
		store_bind_text(st, 2, clean);
	r = store_run(c, st, "token display name");
	if (r)
		return r < 0 ? r : -EIO;
	return store_changes(c) == 1 ? 0 : ADMIN_NOT_FOUND;
}

int admin_token_display_name(struct store_conn *c, const char *name, char out[ADMIN_DISPLAY_BYTES])
{
	struct store_stmt *st = store_stmt(c, sql_display_get);
	int r;

	out[0] = '\0';
	if (!st)
		return -EIO;
	store_bind_text(st, 1, name);
	r = store_row(c, st);
	if (r == 1)
		snprintf(out, ADMIN_DISPLAY_BYTES, "%s", store_col_text(st, 0));
	store_reset(st);
	return r;
}

int admin_display_names(struct store_conn *c, const char *site, struct names **out)
{
	struct store_stmt *st = store_stmt(c, sql_display_all);
	struct names *set = NULL;
	int r;

	if (!st)
		return -EIO;
	if (site)
		store_bind_text(st, 1, site);
	r = names_new(&set);
	while (r == 0 && (r = store_row(c, st)) == 1) {
		/* A name without letters or digits cannot be impersonated. */
		r = names_add(set, store_col_text(st, 0));
		r = r > 0 ? 0 : r;
	}
	store_reset(st);
	if (r < 0) {
		names_free(set);
		return r;
	}
	*out = set;
	return 0;
}

static json_t *time_or_null(struct store_stmt *st, int col)
{
	char buf[21];

	if (store_col_type(st, col) == STORE_NULL)
		return json_null();
	timefmt_rfc3339(store_col_int64(st, col), buf);
	return json_string(buf);
}

/* The sites column of a token row: an array, or null for every site. */
static json_t *token_sites_json(struct store_stmt *st, int col)
{
	if (!store_col_int(st, col + 1))
		return json_null();
	return json_loads(store_col_text(st, col), 0, NULL);
}

int admin_token_list(struct store_conn *c, json_t **out)
{
	struct store_stmt *st = store_stmt(c, sql_token_list);
	json_t *list = json_array();
	int r;

	if (!st || !list) {
		json_decref(list);
		return -EIO;
	}
	while ((r = store_row(c, st)) == 1) {
		json_t *display = store_col_type(st, 4) == STORE_NULL
				      ? json_null()
				      : json_string(store_col_text(st, 4));

		if (json_array_append_new(list, json_pack("{s:s, s:o, s:o, s:o, s:o, s:o}", "name",
							  store_col_text(st, 0), "display_name",
							  display, "sites", token_sites_json(st, 5),
							  "created", time_or_null(st, 1), "revoked",
							  time_or_null(st, 2), "last_used",
							  time_or_null(st, 3))) != 0) {
			r = -ENOMEM;
			break;
		}
	}
	store_reset(st);
	if (r < 0) {
		json_decref(list);
		return r;
	}
	*out = list;
	return 0;
}

bool admin_scope_has(const char *scope, const char *site)
{
	json_t *list, *v;
	bool found = false;
	size_t i;

	if (!scope)
		return true;
	list = json_loads(scope, 0, NULL);
	json_array_foreach(list, i, v)
	{
		if (json_is_string(v) && strcmp(json_string_value(v), site) == 0)
			found = true;
	}
	json_decref(list);
	return found;
}

bool admin_scope_one(const char *scope, char site[CONFIG_SITE_ID_MAX + 1])
{
	json_t *list = scope ? json_loads(scope, 0, NULL) : NULL;
	const char *id =
	    json_array_size(list) == 1 ? json_string_value(json_array_get(list, 0)) : NULL;
	bool one = id && strlen(id) <= CONFIG_SITE_ID_MAX;

	if (one)
		snprintf(site, CONFIG_SITE_ID_MAX + 1, "%s", id);
	json_decref(list);
	return one;
}

char *admin_scope_of(const char *site)
{
	json_t *list = json_pack("[s]", site);
	char *s = list ? json_dumps(list, JSON_COMPACT) : NULL;

	json_decref(list);
	return s;
}

int audit_write(struct store_conn *c, const char *site, const char *actor, const char *action,
		int64_t comment_id, const char *detail, bool reversal)
{
	struct store_stmt *st = store_stmt(c, sql_audit_insert);

	if (!st)
		return -EIO;
	store_bind_int64(st, 1, (int64_t)time(NULL));
	store_bind_text(st, 2, actor);
	store_bind_text(st, 3, action);
	if (comment_id)
		store_bind_int64(st, 4, comment_id);
	if (detail)
		store_bind_text(st, 5, detail);
	store_bind_int64(st, 6, reversal ? 1 : 0);
	if (site)
		store_bind_text(st, 7, site);
	return store_run(c, st, "audit insert");
}

/* The audit entry on st's current row. */
static json_t *audit_entry(struct store_stmt *st)
{
	char at[TIMEFMT_RFC3339];

	timefmt_rfc3339(store_col_int64(st, 1), at);
	return json_pack(
	    "{s:I, s:s, s:s, s:s, s:o, s:o, s:b, s:o}", "id", (json_int_t)store_col_int64(st, 0),
	    "at", at, "actor", store_col_text(st, 2), "action", store_col_text(st, 3), "comment",
	    store_col_type(st, 4) == STORE_NULL ? json_null()
						: json_integer(store_col_int64(st, 4)),
	    "detail",
	    store_col_type(st, 5) == STORE_NULL ? json_null() : json_string(store_col_text(st, 5)),
	    "reversal", store_col_int(st, 6), "site",
	    store_col_type(st, 7) == STORE_NULL ? json_null() : json_string(store_col_text(st, 7)));
}

int audit_list(struct store_conn *c, const char *scope, unsigned limit, int64_t before,
	       json_t **out)
{
	struct store_stmt *st = store_stmt(c, sql_audit_list);
	json_t *list = json_array();
	int r;

	if (!st || !list) {
		json_decref(list);
		return -EIO;
	}
	store_bind_int64(st, 1, before);
	store_bind_int64(st, 2, limit ? limit : 100);
	if (scope)
		store_bind_text(st, 3, scope);
	while ((r = store_row(c, st)) == 1) {
		if (json_array_append_new(list, audit_entry(st)) != 0) {
			r = -ENOMEM;
			break;
		}
	}
	store_reset(st);
	if (r < 0) {
		json_decref(list);
		return r;
	}
	*out = json_pack("{s:o}", "entries", list);
	return *out ? 0 : -ENOMEM;
}
