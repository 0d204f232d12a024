#include "subscribe.h"

#include <errno.h>
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char sql_known[] =
    "SELECT coalesce(max(CASE WHEN confirmed IS NOT NULL THEN 1 ELSE 0 END), 0),"
    " coalesce(max(CASE WHEN confirmed IS NULL AND created > ?2 THEN 1 ELSE 0 END), 0)"
    " FROM subscriptions WHERE email_hash = ?1 AND site = ?3";
static const char sql_insert[] =
    "INSERT INTO subscriptions(comment_id, email_hash, address, created, confirmed, site)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6)";

int subscribe_add(struct store_conn *c, const struct keys *k, const char *site, int64_t comment_id,
		  const char *email, int64_t now, int64_t *id, bool *ask)
{
	unsigned char hash[KEYS_HASH_BYTES], box[SUBSCRIBE_ADDRESS_MAX + KEYS_SEAL_OVERHEAD];
	size_t len = strlen(email);
	bool confirmed = false, asked = false;
	struct store_stmt *st;
	int r;

	if (len == 0 || len >= SUBSCRIBE_ADDRESS_MAX)
		return -EINVAL;
	keys_hash(k, KEYS_EMAIL, email, len, hash);
	st = store_stmt(c, sql_known);
	if (!st)
		return -EIO;
	store_bind_blob(st, 1, hash, sizeof(hash));
	store_bind_int64(st, 2, now - 86400);
	store_bind_text(st, 3, site);
	r = store_row(c, st);
	if (r == 1) {
		confirmed = store_col_int(st, 0) != 0;
		asked = store_col_int(st, 1) != 0;
	}
	store_reset(st);
	if (r < 0)
		return r;
	keys_seal(k, email, len, box);
	st = store_stmt(c, sql_insert);
	if (!st)
		return -EIO;
	store_bind_int64(st, 1, comment_id);
	store_bind_blob(st, 2, hash, sizeof(hash));
	store_bind_blob(st, 3, box, len + KEYS_SEAL_OVERHEAD);
	store_bind_int64(st, 4, now);
	if (confirmed)
		store_bind_int64(st, 5, now);
	store_bind_text(st, 6, site);
	r = store_run(c, st, "subscription insert");
	sodium_memzero(box, sizeof(box));
	if (r != 0)
		return r;
	*id = store_last_id(c);
	*ask = !confirmed && !asked;
	return 0;
}

static const char sql_confirm[] =
    "UPDATE subscriptions SET confirmed = ?2 WHERE confirmed IS NULL AND site = ?3"
    " AND email_hash = (SELECT email_hash FROM subscriptions WHERE id = ?1)";
static const char sql_exists[] = "SELECT count(*) FROM subscriptions WHERE id = ?1 AND site = ?2";

int subscribe_confirm(struct store_conn *c, const char *site, int64_t id, int64_t now)
{
	struct store_stmt *st = store_stmt(c, sql_exists);
	int64_t n = 0;
	int r;

	if (!st)
		return -EIO;
	store_bind_int64(st, 1, id);
	store_bind_text(st, 2, site);
	r = store_one_int64(c, st, &n);
	if (r < 0)
		return r;
	if (n == 0)
		return SUBSCRIBE_GONE;
	st = store_stmt(c, sql_confirm);
	if (!st)
		return -EIO;
	store_bind_int64(st, 1, id);
	store_bind_int64(st, 2, now);
	store_bind_text(st, 3, site);
	return store_run(c, st, "subscription confirm");
}

static const char sql_cancel[] = "DELETE FROM subscriptions WHERE id = ?1 AND site = ?2";

int subscribe_cancel(struct store_conn *c, const char *site, int64_t id)
{
	struct store_stmt *st = store_stmt(c, sql_cancel);
	int r;

	if (!st)
		return -EIO;
	store_bind_int64(st, 1, id);
	store_bind_text(st, 2, site);
	r = store_run(c, st, "unsubscribe");
	if (r != 0)
		return r;
	return store_changes(c) ? 0 : SUBSCRIBE_GONE;
}

static const char sql_erase[] =
    "DELETE FROM subscriptions WHERE email_hash = ?1"
    " AND (CAST(?2 AS TEXT) IS NULL OR site IN (SELECT value FROM json_each(?2)))";

int subscribe_erase(struct store_conn *c, const char *scope,
		    const unsigned char hash[KEYS_HASH_BYTES], unsigned *n)
{
	struct store_stmt *st = store_stmt(c, sql_erase);
	int r;

	if (!st)
		return -EIO;
	store_bind_blob(st, 1, hash, KEYS_HASH_BYTES);
	if (scope)
		store_bind_text(st, 2, scope);
	r = store_run(c, st, "subscription erase");
	if (r == 0 && n)
		*n = store_changes(c);
	return r;
}

static const char sql_load[] =
    "SELECT comment_id, confirmed IS NOT NULL, email_hash, address, site FROM subscriptions"
    " WHERE id = ?1";

int subscribe_load(struct store_conn *c, const struct keys *k, int64_t id, struct subscription *out)
{
	struct store_stmt *st = store_stmt(c, sql_load);
	const unsigned char *box;
	size_t len;
	int r;

	memset(out, 0, sizeof(*out));
	if (!st)
		return -EIO;
	store_bind_int64(st, 1, id);
	r = store_row(c, st);
	if (r == 1) {
		out->id = id;
		out->comment_id = store_col_int64(st, 0);
		out->confirmed = store_col_int(st, 1) != 0;
		snprintf(out->site, sizeof(out->site), "%s", store_col_text(st, 4));
		if (store_col_bytes(st, 2) == KEYS_HASH_BYTES)
			memcpy(out->email_hash, store_col_blob(st, 2), KEYS_HASH_BYTES);
		box = store_col_blob(st, 3);
		len = store_col_bytes(st, 3);
		if (!box || len <= KEYS_SEAL_OVERHEAD ||
		    len - KEYS_SEAL_OVERHEAD >= SUBSCRIBE_ADDRESS_MAX ||
		    keys_unseal(k, box, len, (unsigned char *)out->address) != 0)
			r = 0;
		else
			out->address[len - KEYS_SEAL_OVERHEAD] = '\0';
	}
	store_reset(st);
	if (r != 1)
		subscribe_clear(out);
	return r;
}

void subscribe_clear(struct subscription *s)
{
	sodium_memzero(s, sizeof(*s));
}

static const char sql_watchers[] =
    "SELECT id, email_hash FROM subscriptions WHERE comment_id = ?1 AND confirmed <= ?2"
    " ORDER BY id";

int subscribe_watchers(struct store_conn *c, int64_t comment_id, int64_t since,
		       const unsigned char *exclude, int (*fn)(void *u, int64_t id), void *u)
{
	struct store_stmt *st = store_stmt(c, sql_watchers);
	int64_t ids[64];
	size_t n = 0;
	int r = 0;

	if (!st)
		return -EIO;
	store_bind_int64(st, 1, comment_id);
	store_bind_int64(st, 2, since);
	/* Collected first: fn may use the connection. */
	while (n < sizeof(ids) / sizeof(ids[0]) && (r = store_row(c, st)) == 1) {
		const void *h = store_col_blob(st, 1);
		if (exclude && h && store_col_bytes(st, 1) == KEYS_HASH_BYTES &&
		    sodium_memcmp(h, exclude, KEYS_HASH_BYTES) == 0)
			continue;
		ids[n++] = store_col_int64(st, 0);
	}
	store_reset(st);
	if (r < 0)
		return r;
	for (size_t i = 0; i < n; i++) {
		r = fn(u, ids[i]);
		if (r)
			return r;
	}
	return 0;
}

/* ?1: now; ?3: {"site": days, ...}; ?4: the days of a site not in ?3. */
static const char sql_expire[] =
    "DELETE FROM subscriptions WHERE created < ?1 - 86400 * coalesce(CAST("
    "  (SELECT value FROM json_each(?3) WHERE key = subscriptions.site) AS BIGINT), ?4)"
    " OR (confirmed IS NULL AND created < ?2)"
    " OR NOT EXISTS (SELECT 1 FROM comments c WHERE c.id = subscriptions.comment_id"
    "  AND c.status IN ('pending', 'published'))";

/* The sites' retention days as a JSON object, for sql_expire. */
static char *retention_json(const struct subscribe_retention *sites, size_t n_sites)
{
	json_t *o = json_object();
	char *text = NULL;

	for (size_t i = 0; o && i < n_sites; i++) {
		if (json_object_set_new(o, sites[i].site, json_integer(sites[i].days)) != 0)
			goto out;
	}
	if (o)
		text = json_dumps(o, JSON_COMPACT);
out:
	json_decref(o);
	return text;
}

int subscribe_maintain(struct store_conn *c, const struct subscribe_retention *sites,
		       size_t n_sites, unsigned default_days, int64_t now, unsigned *n)
{
	struct store_stmt *st = store_stmt(c, sql_expire);
	char *days = retention_json(sites, n_sites);
	int r;

	*n = 0;
	if (!st || !days) {
		free(days);
		return st ? -ENOMEM : -EIO;
	}
	store_bind_int64(st, 1, now);
	store_bind_int64(st, 2, now - (int64_t)SUBSCRIBE_CONFIRM_DAYS * 86400);
	store_bind_text(st, 3, days);
	store_bind_int64(st, 4, default_days);
	r = store_run(c, st, "subscription retention");
	if (r == 0)
		*n = store_changes(c);
	free(days);
	return r;
}
