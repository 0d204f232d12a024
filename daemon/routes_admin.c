/* routes_admin: the moderation API (/api/v1/admin/...).  Every route here
 * requires an admin token; the handlers call lib/moderation and lib/admin. */
#include "server.h"

#include "admin.h"
#include "config.h"
#include "moderation.h"
#include "submit.h"
#include "text.h"
#include "wire.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* A valid token always signs in: the failure limit keys on the client
 * (address or IPv6 /64), which others can share - a NAT, a proxy, a
 * neighbour on the /64 - and their failures must not lock a moderator out.
 * Guessing is what the limit stops: past it, a wrong token is answered 429
 * without a 401, and the tokens' 256 random bits do the rest. */
static int admin_authenticate(struct request *req, struct reply *rep)
{
	const char *auth = request_header(req, "Authorization");
	uint64_t key = request_client_key(req);
	double now = monotonic_seconds();
	struct store_conn *c;
	unsigned wait;
	int r;

	if (!auth || strncasecmp(auth, "Bearer ", 7) != 0) {
		r = ADMIN_DENIED;
	} else {
		c = store_acquire(req->server->store);
		r = admin_token_verify(c, req->server->keys, auth + 7, req->actor, &req->scope);
		store_release(req->server->store, c);
	}
	if (r == 0)
		return 0;
	if (r < 0) {
		reply_error(rep, 500, "internal", "The server failed to check the token.");
		return 1;
	}
	wait = ratelimit_take(req->server->auth_failures, key, now);
	if (wait) {
		reply_error(rep, 429, "rate_limited",
			    "Too many failed sign-ins from your address; please wait.");
		rep->retry_after = wait;
		return 1;
	}
	reply_error(rep, 401, "unauthorized",
		    "This needs a valid admin token: Authorization: Bearer <token>.");
	return 1;
}

static json_t *body_object(struct request *req, struct reply *rep)
{
	json_t *root = request_json(req, rep);

	if (root && !json_is_object(root)) {
		json_decref(root);
		reply_error(rep, 400, "invalid_json", "The body must be a JSON object.");
		return NULL;
	}
	return root;
}

/* Rejects keys outside allowed (NULL-terminated). */
static int only_keys(json_t *obj, const char *const *allowed, struct reply *rep)
{
	const char *key;
	json_t *v;
	char msg[120];

	json_object_foreach(obj, key, v)
	{
		bool ok = false;
		for (size_t i = 0; allowed[i]; i++)
			ok = ok || strcmp(allowed[i], key) == 0;
		if (!ok) {
			snprintf(msg, sizeof(msg), "The field \"%.60s\" is not known.", key);
			reply_error(rep, 400, "unknown_field", msg);
			return 1;
		}
	}
	return 0;
}

/* The sites this request may touch: the token's, narrowed to ?site= when
 * given, which must be one of them (404 otherwise, as for an unknown
 * comment, so that a token learns nothing of other sites).  0 with *scope
 * (caller frees; NULL: every site), or 1 with the refusal in rep. */
static int request_scope(struct request *req, struct reply *rep, char **scope)
{
	const char *site = request_arg(req, "site");

	*scope = NULL;
	if (site && (!config_site_id_valid(site) || !admin_scope_has(req->scope, site))) {
		reply_error(rep, 404, "not_found", "There is no such site.");
		return 1;
	}
	if (site || req->scope) {
		*scope = site ? admin_scope_of(site) : strdup(req->scope);
		if (!*scope) {
			reply_internal(rep);
			return 1;
		}
	}
	return 0;
}

/* The one configured site a scope names, or NULL (several, or every). */
static const struct site *scope_site(struct request *req, const char *scope)
{
	char id[CONFIG_SITE_ID_MAX + 1];

	if (admin_scope_one(scope, id))
		return site_set_find(req->snap->sites, id);
	return !scope && site_set_count(req->snap->sites) == 1 ? site_set_at(req->snap->sites, 0)
							       : NULL;
}

/* An optional whole-number query argument: absent keeps *out.  0 or 1. */
static int query_number(struct request *req, const char *name, unsigned long long max,
			unsigned long long *out)
{
	const char *s = request_arg(req, name);

	return s ? text_parse_uint(s, max, out) : 0;
}

static void list_comments(struct request *req, struct reply *rep)
{
	static const char *const statuses[] = {"pending", "spam", "published", "deleted", NULL};
	struct moderation_query q = {0};
	unsigned long long limit = 50, before = 0;
	struct comment_error err;
	struct store_conn *c;
	char *scope = NULL;
	bool ok = false;
	int r;

	q.status = request_arg(req, "status");
	q.thread = request_arg(req, "thread");
	q.q = request_arg(req, "q");
	if (q.status) {
		for (size_t i = 0; statuses[i]; i++)
			ok = ok || strcmp(statuses[i], q.status) == 0;
		if (!ok) {
			reply_error(rep, 400, "invalid_status",
				    "status must be pending, spam, published or deleted.");
			return;
		}
	}
	if (q.thread && comment_thread_check(q.thread, &err) != 0) {
		reply_error(rep, (unsigned)err.status, err.code, err.message);
		return;
	}
	if (q.q && strlen(q.q) > MODERATION_QUERY_MAX) {
		reply_error(rep, 400, "invalid_query", "The search text is too long.");
		return;
	}
	/* Text is UTF-8 on both engines (PostgreSQL would refuse the
	 * statement: a 500 where SQLite answered). */
	if (q.q && !text_utf8_valid(q.q, strlen(q.q), NULL)) {
		reply_error(rep, 400, "invalid_query", "The search text is not UTF-8.");
		return;
	}
	if (query_number(req, "limit", req->snap->cfg->page_max, &limit) != 0 || limit == 0) {
		reply_error(rep, 400, "invalid_limit", "limit must be a whole number from 1 up.");
		return;
	}
	if (query_number(req, "after", INT64_MAX, &before) != 0) {
		reply_error(rep, 400, "invalid_after", "after must be a comment id.");
		return;
	}
	q.limit = (unsigned)limit;
	q.before = (int64_t)before;
	if (request_scope(req, rep, &scope) != 0)
		return;
	q.scope = scope;
	c = store_acquire(req->server->store);
	r = moderation_list(c, req->server->keys, &q, &rep->json);
	store_release(req->server->store, c);
	free(scope);
	if (r < 0) {
		reply_internal(rep);
		return;
	}
	rep->status = 200;
}

static void act(struct request *req, struct reply *rep, enum moderation_action action)
{
	struct comment_error err = {0};
	struct store_conn *c;
	char *scope = NULL;
	int r;

	if (request_scope(req, rep, &scope) != 0)
		return;
	c = store_acquire(req->server->store);
	r = moderation_act(c, req->server->classifier, scope, req->actor, action, req->id, &err);
	store_release(req->server->store, c);
	free(scope);
	if (r) {
		reply_comment_error(rep, r, &err);
		return;
	}
	rep->status = 200;
	rep->json = json_pack("{s:I, s:s}", "id", (json_int_t)req->id, "done",
			      action == MODERATION_APPROVE ? "approved"
			      : action == MODERATION_SPAM  ? "marked spam"
							   : "deleted");
}

static void approve(struct request *req, struct reply *rep)
{
	act(req, rep, MODERATION_APPROVE);
}

static void mark_spam(struct request *req, struct reply *rep)
{
	act(req, rep, MODERATION_SPAM);
}

static void delete_comment(struct request *req, struct reply *rep)
{
	act(req, rep, MODERATION_DELETE);
}

/* A moderator's edit, validated by the rules of the comment's site (the
 * top-level ones when that site is no longer configured). */
static int edit_in_site(struct request *req, struct store_conn *c, const char *scope,
			const struct comment_change *ch, json_t **out, struct comment_error *err)
{
	char id[CONFIG_SITE_ID_MAX + 1];
	const struct site *site;
	int r = moderation_comment_site(c, scope, req->id, id);

	if (r < 0)
		return r;
	if (r == 0)
		return comment_fail(err, 404, "not_found", "Comment %lld does not exist.",
				    (long long)req->id);
	site = site_set_find(req->snap->sites, id);
	return moderation_edit(c, req->server->classifier, site ? site->cfg : req->snap->cfg,
			       req->server->keys, scope, req->actor, req->id, ch, out, err);
}

static void edit_comment(struct request *req, struct reply *rep)
{
	struct comment_change ch = {0};
	struct comment_error err = {0};
	struct store_conn *c;
	char *scope = NULL;
	int r;

	if (request_scope(req, rep, &scope) != 0)
		return;
	r = wire_change_json(req->body.data, req->body.len, &ch, &err);
	if (r == 0) {
		c = store_acquire(req->server->store);
		r = edit_in_site(req, c, scope, &ch, &rep->json, &err);
		store_release(req->server->store, c);
	}
	if (r == 0)
		rep->status = 200;
	else
		reply_comment_error(rep, r, &err);
	comment_change_clear(&ch);
	free(scope);
}

static void bulk(struct request *req, struct reply *rep)
{
	static const char *const allowed[] = {"action", "ids", NULL};
	json_t *root = body_object(req, rep), *ids, *v;
	enum moderation_action action;
	struct comment_error err = {0};
	int64_t *list = NULL;
	struct store_conn *c;
	char *scope = NULL;
	size_t i;
	int r;

	if (!root || only_keys(root, allowed, rep))
		goto out;
	ids = json_object_get(root, "ids");
	if (moderation_action_parse(json_string_value(json_object_get(root, "action")), &action)) {
		reply_error(rep, 422, "invalid_action", "action must be approve, spam or delete.");
		goto out;
	}
	if (!json_is_array(ids) || json_array_size(ids) == 0) {
		reply_error(rep, 422, "invalid_ids",
			    "ids must be a non-empty array of comment ids.");
		goto out;
	}
	if (json_array_size(ids) > MODERATION_BULK_MAX) {
		reply_error(rep, 422, "too_many_ids", "Act on at most 500 comments at once.");
		goto out;
	}
	list = calloc(json_array_size(ids), sizeof(*list));
	if (!list) {
		reply_internal(rep);
		goto out;
	}
	json_array_foreach(ids, i, v)
	{
		if (!json_is_integer(v) || json_integer_value(v) < 1) {
			reply_error(rep, 422, "invalid_ids", "Each id must be a positive integer.");
			goto out;
		}
		list[i] = json_integer_value(v);
	}
	if (request_scope(req, rep, &scope) != 0)
		goto out;
	c = store_acquire(req->server->store);
	r = moderation_bulk(c, req->server->classifier, scope, req->actor, action, list,
			    json_array_size(ids), &err);
	store_release(req->server->store, c);
	if (r) {
		reply_comment_error(rep, r, &err);
		goto out;
	}
	rep->status = 200;
	rep->json = json_pack("{s:s, s:O}", "action",
			      json_string_value(json_object_get(root, "action")), "ids", ids);
out:
	free(scope);
	free(list);
	json_decref(root);
}

/* The figures of the request's scope, with the cut-offs of its one site
 * (or the top level's when it spans several), and the daily series of the
 * last ?days= days (default 30) merged into them. */
static void stats(struct request *req, struct reply *rep)
{
	unsigned long long days = 30;
	struct classify_settings cs;
	const struct site *site;
	json_t *series = NULL;
	struct store_conn *c;
	char *scope = NULL;
	int r;

	if (query_number(req, "days", MODERATION_DAYS_MAX, &days) != 0 || days == 0) {
		reply_error(rep, 400, "invalid_days", "days must be a whole number from 1 to 365.");
		return;
	}
	if (request_scope(req, rep, &scope) != 0)
		return;
	site = scope_site(req, scope);
	if (site)
		cs = site->classify;
	else
		site_classify_settings(req->snap->cfg, &cs);
	c = store_acquire(req->server->store);
	r = moderation_stats(c, req->server->classifier, &cs, scope, site ? site->id : NULL,
			     &rep->json);
	if (r == 0)
		r = moderation_series(c, scope, (unsigned)days, (int64_t)time(NULL), &series);
	store_release(req->server->store, c);
	if (r == 0 && json_object_update(rep->json, series) != 0)
		r = -1;
	json_decref(series);
	free(scope);
	if (r < 0) {
		reply_internal(rep);
		return;
	}
	rep->status = 200;
}

/* GET /api/v1/admin/me: who the token is, and the name its replies carry. */
static void me(struct request *req, struct reply *rep)
{
	char display[ADMIN_DISPLAY_BYTES];
	struct store_conn *c = store_acquire(req->server->store);
	int r = admin_token_display_name(c, req->actor, display);

	store_release(req->server->store, c);
	if (r < 0) {
		reply_internal(rep);
		return;
	}
	rep->json = json_pack("{s:s, s:o}", "name", req->actor, "display_name",
			      r == 1 ? json_string(display) : json_null());
	rep->status = rep->json ? 200 : 500;
}

/* The site of comment req->id, when it is in scope and configured.  0 with
 * *out, COMMENT_INVALID (404, like a comment that does not exist), or
 * negative. */
static int reply_site(struct request *req, struct store_conn *c, const char *scope,
		      struct submit_site *out, struct comment_error *err)
{
	char id[CONFIG_SITE_ID_MAX + 1];
	const struct site *site = NULL;
	int r = moderation_comment_site(c, scope, req->id, id);

	if (r < 0)
		return r;
	if (r == 1)
		site = site_set_find(req->snap->sites, id);
	if (!site)
		return comment_fail(err, 404, "not_found", "Comment %lld does not exist.",
				    (long long)req->id);
	request_site_of(req, site, out);
	return 0;
}

/* POST /api/v1/admin/comments/{id}/reply: the moderator answers as the
 * site's author, under the token's display name. */
static void reply(struct request *req, struct reply *rep)
{
	char display[ADMIN_DISPLAY_BYTES];
	struct comment_error err = {0};
	struct submit_decision d = {0};
	struct submit_reply rp = {.parent = req->id, .actor = req->actor};
	struct submit_site site;
	struct store_conn *c;
	char *scope = NULL, *text = NULL;
	int r;

	r = wire_reply_json(req->body.data, req->body.len, &text, &rp.approve, &err);
	if (r != 0) {
		reply_comment_error(rep, r, &err);
		return;
	}
	rp.text = text;
	rp.display_name = display;
	if (request_scope(req, rep, &scope) != 0) {
		free(text);
		return;
	}
	c = store_acquire(req->server->store);
	/* The reply is the parent's site's, under that site's rules. */
	r = reply_site(req, c, scope, &site, &err);
	if (r == 0) {
		r = admin_token_display_name(c, req->actor, display);
		if (r == 0)
			r = comment_fail(
			    &err, 422, "no_display_name",
			    "This token has no display name to reply under; set one "
			    "with commentctl token set --name NAME --display-name NAME.");
		else if (r == 1)
			r = submit_moderator_reply(c, &site, &rp, (int64_t)time(NULL), &d,
						   &rep->json, &err);
	}
	store_release(req->server->store, c);
	free(scope);
	if (r == 0)
		rep->status = 201;
	else
		reply_comment_error(rep, r, &err);
	submit_decision_clear(&d);
	free(text);
}

static void audit(struct request *req, struct reply *rep)
{
	unsigned long long limit = 100, before = 0;
	struct store_conn *c;
	char *scope = NULL;
	int r;

	if (query_number(req, "limit", 1000, &limit) != 0 || limit == 0 ||
	    query_number(req, "after", INT64_MAX, &before) != 0) {
		reply_error(rep, 400, "invalid_query", "limit is 1 to 1000; after is an audit id.");
		return;
	}
	if (request_scope(req, rep, &scope) != 0)
		return;
	c = store_acquire(req->server->store);
	r = audit_list(c, scope, (unsigned)limit, (int64_t)before, &rep->json);
	store_release(req->server->store, c);
	free(scope);
	if (r < 0) {
		reply_internal(rep);
		return;
	}
	rep->status = 200;
}

static const char *email_field(struct request *req, struct reply *rep, json_t **root)
{
	static const char *const allowed[] = {"email", NULL};
	json_t *email;

	*root = body_object(req, rep);
	if (!*root || only_keys(*root, allowed, rep))
		return NULL;
	email = json_object_get(*root, "email");
	if (!json_is_string(email) || json_string_length(email) == 0 ||
	    json_string_length(email) > COMMENT_EMAIL_MAX ||
	    strlen(json_string_value(email)) != json_string_length(email)) {
		reply_error(rep, 422, "invalid_email", "Send {\"email\": \"name@example.org\"}.");
		return NULL;
	}
	return json_string_value(email);
}

static void privacy_export(struct request *req, struct reply *rep)
{
	json_t *root = NULL;
	const char *email = email_field(req, rep, &root);
	struct store_conn *c;
	char *scope = NULL;
	int r;

	if (email && request_scope(req, rep, &scope) == 0) {
		c = store_acquire(req->server->store);
		r = moderation_export(c, req->server->keys, scope, email, &rep->json);
		store_release(req->server->store, c);
		if (r > 0)
			reply_error(rep, 422, "invalid_email", "That is not an e-mail address.");
		else if (r < 0)
			reply_internal(rep);
		else
			rep->status = 200;
	}
	free(scope);
	json_decref(root);
}

static void privacy_erase(struct request *req, struct reply *rep)
{
	json_t *root = NULL;
	const char *email = email_field(req, rep, &root);
	struct store_conn *c;
	char *scope = NULL;
	int r;

	if (email && request_scope(req, rep, &scope) == 0) {
		c = store_acquire(req->server->store);
		r = moderation_erase(c, req->server->classifier, req->server->keys, scope, email,
				     req->snap->cfg->erase == ERASE_ANONYMISE, req->actor,
				     &rep->json);
		store_release(req->server->store, c);
		if (r == COMMENT_INVALID)
			reply_error(rep, 422, "invalid_email", "That is not an e-mail address.");
		else if (r == COMMENT_UNAVAILABLE)
			reply_error(rep, 503, "unavailable", "Storage refuses writes; try later.");
		else if (r < 0)
			reply_internal(rep);
		else
			rep->status = 200;
	}
	free(scope);
	json_decref(root);
}

/* The token's sites that this daemon serves, for the admin page's
 * switcher: {"sites": [{"id", "origins": [...]}], "all_sites": bool}. */
static void sites(struct request *req, struct reply *rep)
{
	json_t *list = json_array(), *origins, *item;

	for (size_t i = 0; list && i < site_set_count(req->snap->sites); i++) {
		const struct site *site = site_set_at(req->snap->sites, i);
		const char *p = site->cfg->site_origins;

		if (!admin_scope_has(req->scope, site->id))
			continue;
		origins = json_array();
		while (origins && *p) {
			size_t n;
			while (*p == ' ' || *p == ',' || *p == '\t')
				p++;
			n = strcspn(p, " ,\t");
			if (n)
				json_array_append_new(origins, json_stringn(p, n));
			p += n;
		}
		item = json_pack("{s:s, s:o*}", "id", site->id, "origins", origins);
		if (!item || json_array_append_new(list, item) != 0) {
			json_decref(list);
			list = NULL;
		}
	}
	rep->json =
	    list ? json_pack("{s:o, s:b}", "sites", list, "all_sites", req->scope == NULL) : NULL;
	if (!rep->json) {
		reply_internal(rep);
		return;
	}
	rep->status = 200;
}

static const struct route admin_routes[] = {
    {"/api/v1/admin/comments", "GET, HEAD, OPTIONS", list_comments, NULL, NULL, NULL, 0},
    {"/api/v1/admin/comments/bulk", "POST, OPTIONS", NULL, bulk, NULL, NULL, BODY_JSON},
    {"/api/v1/admin/comments/{id}", "PATCH, OPTIONS", NULL, NULL, edit_comment, NULL, BODY_JSON},
    {"/api/v1/admin/comments/{id}/approve", "POST, OPTIONS", NULL, approve, NULL, NULL,
     BODY_JSON | BODY_OPTIONAL},
    {"/api/v1/admin/comments/{id}/spam", "POST, OPTIONS", NULL, mark_spam, NULL, NULL,
     BODY_JSON | BODY_OPTIONAL},
    {"/api/v1/admin/comments/{id}/delete", "POST, OPTIONS", NULL, delete_comment, NULL, NULL,
     BODY_JSON | BODY_OPTIONAL},
    {"/api/v1/admin/comments/{id}/reply", "POST, OPTIONS", NULL, reply, NULL, NULL, BODY_JSON},
    {"/api/v1/admin/stats", "GET, HEAD, OPTIONS", stats, NULL, NULL, NULL, 0},
    {"/api/v1/admin/me", "GET, HEAD, OPTIONS", me, NULL, NULL, NULL, 0},
    {"/api/v1/admin/audit", "GET, HEAD, OPTIONS", audit, NULL, NULL, NULL, 0},
    {"/api/v1/admin/sites", "GET, HEAD, OPTIONS", sites, NULL, NULL, NULL, 0},
    {"/api/v1/admin/privacy/export", "POST, OPTIONS", NULL, privacy_export, NULL, NULL, BODY_JSON},
    {"/api/v1/admin/privacy/erase", "POST, OPTIONS", NULL, privacy_erase, NULL, NULL, BODY_JSON},
};
const struct route_table admin_route_table = {
    admin_routes, sizeof(admin_routes) / sizeof(admin_routes[0]), admin_authenticate};
