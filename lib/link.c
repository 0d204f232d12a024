#include "link.h"

#include "admin.h"
#include "comment.h"
#include "moderation.h"
#include "subscribe.h"
#include "text.h"

#include <errno.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

/* kind, action, id (8 bytes, big-endian), expires (8 bytes), the site id's
 * length (1 byte) and its bytes, then the MAC over all of it. */
#define FIXED_BYTES	19
#define MAC_BYTES	32
#define TOKEN_BYTES_MAX (FIXED_BYTES + CONFIG_SITE_ID_MAX + MAC_BYTES)

static void put64(unsigned char *p, int64_t v)
{
	for (int i = 7; i >= 0; i--) {
		p[i] = (unsigned char)((uint64_t)v & 0xff);
		v = (int64_t)((uint64_t)v >> 8);
	}
}

static int64_t get64(const unsigned char *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return (int64_t)v;
}

void link_token(const struct keys *k, const struct link *l, char out[LINK_TOKEN_MAX])
{
	unsigned char raw[TOKEN_BYTES_MAX];
	size_t n = strnlen(l->site, CONFIG_SITE_ID_MAX);

	raw[0] = (unsigned char)l->kind;
	raw[1] = (unsigned char)l->action;
	put64(raw + 2, l->id);
	put64(raw + 10, l->expires);
	raw[18] = (unsigned char)n;
	memcpy(raw + FIXED_BYTES, l->site, n);
	keys_mac(k, KEYS_LINK, raw, FIXED_BYTES + n, raw + FIXED_BYTES + n);
	sodium_bin2base64(out, LINK_TOKEN_MAX, raw, FIXED_BYTES + n + MAC_BYTES,
			  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

int link_parse(const struct keys *k, const char *token, int64_t now, struct link *out)
{
	unsigned char raw[TOKEN_BYTES_MAX];
	size_t len = 0, n;

	memset(out, 0, sizeof(*out));
	if (!token || strnlen(token, LINK_TOKEN_MAX) >= LINK_TOKEN_MAX)
		return LINK_INVALID;
	if (text_base64url_decode(token, raw, sizeof(raw), &len) != 0 ||
	    len < FIXED_BYTES + MAC_BYTES)
		return LINK_INVALID;
	n = raw[18];
	if (len != FIXED_BYTES + n + MAC_BYTES ||
	    keys_mac_verify(k, KEYS_LINK, raw, FIXED_BYTES + n, raw + FIXED_BYTES + n) != 0)
		return LINK_INVALID;
	if (raw[0] < LINK_CONFIRM || raw[0] > LINK_MODERATE)
		return LINK_INVALID;
	out->kind = (enum link_kind)raw[0];
	out->action = raw[1];
	out->id = get64(raw + 2);
	out->expires = get64(raw + 10);
	memcpy(out->site, raw + FIXED_BYTES, n);
	out->site[n] = '\0';
	if (out->id <= 0 || !config_site_id_valid(out->site))
		return LINK_INVALID;
	if (out->expires && now > out->expires)
		return LINK_EXPIRED;
	return 0;
}

static const char sql_use[] =
    "INSERT INTO link_uses(hash, expires) VALUES (?1, ?2) ON CONFLICT(hash) DO NOTHING";
static const char sql_prune[] = "DELETE FROM link_uses WHERE expires < ?1";

int link_use(struct store_conn *c, const struct keys *k, const char *token, int64_t expires)
{
	unsigned char hash[KEYS_HASH_BYTES];
	struct store_stmt *st = store_stmt(c, sql_use);
	int r;

	if (!st)
		return -EIO;
	keys_hash(k, KEYS_LINK, token, strlen(token), hash);
	store_bind_blob_copy(st, 1, hash, sizeof(hash));
	store_bind_int64(st, 2, expires);
	r = store_run(c, st, "link use");
	if (r != 0)
		return r > 0 ? -EIO : r;
	return store_changes(c) == 1 ? 1 : 0;
}

int link_prune(struct store_conn *c, int64_t now)
{
	struct store_stmt *st = store_stmt(c, sql_prune);

	if (!st)
		return -EIO;
	store_bind_int64(st, 1, now);
	return store_run(c, st, "link prune");
}

static const char sql_used[] = "SELECT count(*) FROM link_uses WHERE hash = ?1";
static const char sql_held[] =
    "SELECT count(*) FROM comments c JOIN threads t ON t.id = c.thread_id"
    " WHERE c.id = ?1 AND c.status = 'pending' AND t.site = ?2";
static const char sql_subscription[] =
    "SELECT count(*) FROM subscriptions WHERE id = ?1 AND site = ?2";

/* count(*) of a query on the id and the site (?1, ?2), or on a blob of 32
 * bytes (?1). */
static int count_of(struct store_conn *c, const char *sql, int64_t id, const char *site,
		    const unsigned char *blob, int64_t *n)
{
	struct store_stmt *st = store_stmt(c, sql);
	int r;

	*n = 0;
	if (!st)
		return -EIO;
	if (blob) {
		store_bind_blob_copy(st, 1, blob, KEYS_HASH_BYTES);
	} else {
		store_bind_int64(st, 1, id);
		store_bind_text(st, 2, site);
	}
	r = store_one_int64(c, st, n);
	return r < 0 ? r : 0;
}

int link_check(struct store_conn *c, const struct keys *k, const char *token, enum link_kind kind,
	       int64_t now, struct link *out)
{
	unsigned char hash[KEYS_HASH_BYTES];
	int64_t n = 0;
	int r;

	r = link_parse(k, token, now, out);
	if (r == 0 && out->kind != kind)
		r = LINK_INVALID;
	if (r != 0)
		return r;
	if (kind != LINK_MODERATE) {
		r = count_of(c, sql_subscription, out->id, out->site, NULL, &n);
		return r < 0 ? r : n ? 0 : kind == LINK_UNSUBSCRIBE ? LINK_USED : LINK_INVALID;
	}
	keys_hash(k, KEYS_LINK, token, strlen(token), hash);
	r = count_of(c, sql_used, 0, NULL, hash, &n);
	if (r == 0 && n == 0)
		r = count_of(c, sql_held, out->id, out->site, NULL, &n);
	else if (r == 0)
		n = 0;
	return r < 0 ? r : n ? 0 : LINK_USED;
}

/* A store result as a link result. */
static int link_store(int r)
{
	return r == STORE_FULL || r == STORE_READONLY ? LINK_UNAVAILABLE : r;
}

static int moderate(struct store_conn *c, struct classifier *cl, const struct keys *k,
		    const char *token, const struct link *l)
{
	struct comment_error err;
	char *scope;
	int r;

	r = link_store(store_begin(c));
	if (r == 0)
		r = link_use(c, k, token, l->expires);
	if (r == 1)
		r = link_store(store_commit(c));
	else if (r == 0)
		r = LINK_USED;
	store_rollback(c);
	if (r != 0)
		return r;
	/* Within the link's site only: a comment of another site is "not found". */
	scope = admin_scope_of(l->site);
	if (!scope)
		return -ENOMEM;
	r = moderation_act(c, cl, scope, "mail-link", (enum moderation_action)l->action, l->id,
			   &err);
	free(scope);
	if (r == COMMENT_INVALID)
		return LINK_USED; /* gone meanwhile */
	return r == COMMENT_UNAVAILABLE ? LINK_UNAVAILABLE : r;
}

int link_act(struct store_conn *c, struct classifier *cl, const struct keys *k, const char *token,
	     enum link_kind kind, int64_t now)
{
	struct link l;
	int r;

	r = link_check(c, k, token, kind, now, &l);
	if (r != 0)
		return r;
	if (kind == LINK_MODERATE)
		return moderate(c, cl, k, token, &l);
	r = store_begin(c);
	if (r == 0)
		r = kind == LINK_CONFIRM ? subscribe_confirm(c, l.site, l.id, now)
					 : subscribe_cancel(c, l.site, l.id);
	if (r == 0)
		r = store_commit(c);
	store_rollback(c);
	if (r == SUBSCRIBE_GONE)
		return LINK_USED;
	return link_store(r);
}
