/* routes: the v1 API's public handlers.  Each parses the request (lib/wire),
 * calls lib/ and writes the answer; no SQL and no policy lives here. */
#include "server.h"

#include "admin.h"
#include "cache.h"
#include "comment.h"
#include "render.h"
#include "submit.h"
#include "wire.h"

#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Where a form post returns to: its redirect field when that is on one of
 * the site's origins, else the thread's page; plus #comment-<id>. */
static char *form_location(struct request *req, const char *site_id, const struct wire_comment *w,
			   json_int_t id)
{
	const struct site *site = site_set_find(req->snap->sites, site_id);
	const char *first = net_origins_first(site->origins);
	char *loc = NULL;
	int n;

	if (w->redirect && net_redirect_allowed(site->origins, w->redirect))
		n = asprintf(&loc, "%.*s#comment-%lld", (int)strcspn(w->redirect, "#"), w->redirect,
			     (long long)id);
	else
		n = asprintf(&loc, "%s%s#comment-%lld", first ? first : "", w->in.thread,
			     (long long)id);
	return n < 0 ? NULL : loc;
}

/* A browser that posted the plain HTML form (no JavaScript) and gets an
 * error sees a short page with the message and a way back, not JSON.  The
 * status stays the same; API clients (no text/html in Accept) get JSON. */
static void form_error_page(struct request *req, struct reply *rep)
{
	const char *accept = request_header(req, "Accept");
	const char *message;
	char *escaped;

	if (!req->is_form || rep->status < 400 || !rep->json || !accept ||
	    !strstr(accept, "text/html"))
		return;
	message = json_string_value(json_object_get(rep->json, "message"));
	escaped = render_escape(message ? message : "", message ? strlen(message) : 0);
	if (!escaped)
		return;
	if (asprintf(&rep->text,
		     "<!doctype html>\n<html><head><meta charset=\"utf-8\">"
		     "<meta name=\"viewport\" content=\"width=device-width\">"
		     "<title>Comment not posted</title></head><body>"
		     "<h1>Your comment was not posted</h1><p>%s</p>"
		     "<p>Go back to the page, correct it and send it again.</p>"
		     "</body></html>\n",
		     escaped) < 0)
		rep->text = NULL;
	free(escaped);
	if (rep->text) {
		json_decref(rep->json);
		rep->json = NULL;
		rep->content_type = "text/html; charset=utf-8";
		reply_header(rep, "Content-Security-Policy", "default-src 'none'");
	}
}

/* 201 with the poster's answer, or for a form post 303 back to the page. */
static void answer_created(struct request *req, struct reply *rep, const char *site,
			   const struct wire_comment *w, json_t *created)
{
	rep->json = created;
	rep->status = 201;
	if (!req->is_form)
		return;
	rep->owned_location =
	    form_location(req, site, w, json_integer_value(json_object_get(created, "id")));
	if (!rep->owned_location) {
		reply_internal(rep);
		return;
	}
	rep->location = rep->owned_location;
	rep->status = 303;
}

static void post_comment(struct request *req, struct reply *rep)
{
	struct comment_error err = {0};
	struct submit_decision d = {0};
	struct submit_request rq;
	struct submit_site site;
	struct wire_comment w;
	struct store_conn *c;
	struct names *moderators = NULL;
	json_t *created = NULL;
	unsigned wait;
	int r;

	wait =
	    ratelimit_take(req->server->post_limit, request_client_key(req), monotonic_seconds());
	if (wait) {
		reply_error(rep, 429, "rate_limited",
			    "Too many comments from your address; please wait a moment.");
		rep->retry_after = wait;
		form_error_page(req, rep);
		return;
	}
	r = req->is_form ? wire_comment_form(req->body.data, req->body.len,
					     req->snap->cfg->honeypot_field, &w, &err)
			 : wire_comment_json(req->body.data, req->body.len,
					     req->snap->cfg->honeypot_field, &w, &err);
	if (r == 0)
		r = request_site(req, w.site, &site, rep);
	if (r == 0) {
		request_submission(req, req->is_form ? SUBMIT_FORM : SUBMIT_JSON, &rq);
		rq.render_seconds = keys_stamp_age(req->server->keys, w.stamp, rq.now);
		rq.honeypot_filled = w.honeypot_filled;
		rq.notify = w.notify;
		c = store_acquire(req->server->store);
		/* Read for every post: a token made by commentctl counts at once. */
		r = admin_display_names(c, site.id, &moderators);
		site.moderators = moderators;
		if (r == 0)
			r = submit_comment(c, &site, &w.in, &rq, &d, &created, &err);
		store_release(req->server->store, c);
		names_free(moderators);
	}
	if (r == 0)
		answer_created(req, rep, site.id, &w, created);
	else if (!rep->json)
		reply_comment_error(rep, r, &err);
	form_error_page(req, rep);
	submit_decision_clear(&d);
	wire_comment_clear(&w);
}

/* A strong ETag from the body's hash. */
static void etag_of(const char *body, size_t len, char etag[CACHE_ETAG_MAX])
{
	unsigned char h[16];
	char hex[33];

	crypto_generichash(h, sizeof(h), (const unsigned char *)body, len, NULL, 0);
	sodium_bin2hex(hex, sizeof(hex), h, sizeof(h));
	snprintf(etag, CACHE_ETAG_MAX, "\"%s\"", hex);
}

/* A page of the thread as a shared body. */
static int build_page(struct store_conn *c, const struct comment_page_query *pq,
		      struct cache_body **body)
{
	json_t *out = NULL;
	char *text;
	int r;

	r = comment_thread_page(c, pq, &out);
	if (r < 0)
		return r;
	text = json_dumps(out, JSON_COMPACT);
	json_decref(out);
	if (!text)
		return -ENOMEM;
	*body = cache_body_new(strlen(text));
	if (*body) {
		memcpy((*body)->data, text, (*body)->len);
		etag_of((*body)->data, (*body)->len, (*body)->etag);
	}
	free(text);
	return *body ? 0 : -ENOMEM;
}

/* The page's answer without the stamp, from the cache or built and kept
 * for the thread's current version: a shared body (the caller drops its
 * reference), so readers of one page share one copy.  0 or negative. */
static int thread_body(struct request *req, const char *site, const struct wire_thread_query *q,
		       struct cache_body **body)
{
	const struct config *cfg = req->snap->cfg;
	struct comment_page_query pq = {
	    .site = site,
	    .thread = q->thread,
	    .from = q->from,
	    .roots = q->limit ? q->limit : cfg->page_default,
	    .rows = cfg->page_rows,
	    .bytes = COMMENT_PAGE_BYTES,
	};
	char key[CONFIG_SITE_ID_MAX + COMMENT_THREAD_MAX + COMMENT_CURSOR_MAX + 48],
	    cursor[COMMENT_CURSOR_MAX];
	struct store_conn *c;
	int64_t version = 0;
	int r;

	r = comment_cursor_format(&pq.from, cursor);
	if (r < 0)
		return r;
	/* The site is part of the thread's identity, and so of the key. */
	snprintf(key, sizeof(key), "%s/%u/%u/%s/%s", site, pq.roots, pq.rows, cursor, q->thread);
	c = store_acquire(req->server->store);
	r = comment_thread_version(c, site, q->thread, &version);
	if (r == 0)
		r = cache_get(req->server->thread_cache, key, version, body);
	if (r == 1) {
		/* A miss: build the page and keep it for this version. */
		r = build_page(c, &pq, body);
		if (r == 0)
			*body = cache_put(req->server->thread_cache, key, version, *body);
	}
	store_release(req->server->store, c);
	return r;
}

static void get_comments(struct request *req, struct reply *rep)
{
	struct wire_thread_query q;
	struct comment_error err;
	struct submit_site site;
	char stamp[KEYS_STAMP_MAX];
	struct cache_body *body = NULL;
	int r;

	if (request_site(req, NULL, &site, rep) != 0)
		return;
	r = wire_thread_query(request_arg(req, "thread"), request_arg(req, "limit"),
			      request_arg(req, "after"), request_arg(req, "cursor"),
			      req->snap->cfg->page_max, &q, &err);
	if (r == 0)
		r = thread_body(req, site.id, &q, &body);
	if (r != 0) {
		reply_comment_error(rep, r, &err);
		return;
	}
	/* The stamp changes every second; it follows the shared body (which
	 * ends with '}') in the answer and is not part of the ETag, nor is
	 * "notify" (the widget's checkbox for reply notifications, when the
	 * server sends mail). */
	keys_stamp(req->server->keys, (int64_t)time(NULL), stamp);
	snprintf(rep->etag, sizeof(rep->etag), "%s", body->etag);
	rep->shared = body;
	if (asprintf(&rep->tail, ",\"stamp\":\"%s\"%s}", stamp,
		     *req->snap->cfg->smtp_url ? ",\"notify\":true" : "") < 0) {
		rep->tail = NULL;
		rep->etag[0] = '\0';
		reply_internal(rep);
		return;
	}
	rep->content_type = "application/json; charset=utf-8";
	rep->status = 200;
}

static void post_counts(struct request *req, struct reply *rep)
{
	struct comment_error err;
	struct submit_site site;
	json_t *paths = NULL;
	struct store_conn *c;
	int r;

	if (request_site(req, NULL, &site, rep) != 0)
		return;
	r = wire_counts(req->body.data, req->body.len, &paths, &err);
	if (r == 0) {
		c = store_acquire(req->server->store);
		r = comment_counts(c, site.id, paths, &rep->json);
		store_release(req->server->store, c);
	}
	if (r == 0)
		rep->status = 200;
	else
		reply_comment_error(rep, r, &err);
	json_decref(paths);
}

static void get_health(struct request *req, struct reply *rep)
{
	bool ok = store_healthy(req->server->store);

	rep->status = ok ? 200 : 503;
	rep->json = json_pack("{s:s, s:s, s:s, s:i}", "status", ok ? "ok" : "unavailable",
			      "version", COMMENTD_VERSION, "database", ok ? "ok" : "unavailable",
			      "schema", store_schema_version());
}

/* PATCH /api/v1/comments/{id}: the author's own edit, with the edit token
 * from the POST in X-Edit-Token, within the edit window. */
static void author_edit(struct request *req, struct reply *rep)
{
	struct comment_change ch = {0};
	struct comment_error err = {0};
	struct submit_decision d = {0};
	struct submit_request rq;
	struct submit_site site;
	struct names *moderators = NULL;
	struct store_conn *c;
	int r;

	r = wire_change_json(req->body.data, req->body.len, &ch, &err);
	if (r == 0)
		r = request_site(req, NULL, &site, rep);
	if (r == 0) {
		request_submission(req, SUBMIT_AUTHOR_EDIT, &rq);
		c = store_acquire(req->server->store);
		r = admin_display_names(c, site.id, &moderators);
		site.moderators = moderators;
		if (r == 0)
			r = submit_author_edit(c, &site, req->id,
					       request_header(req, "X-Edit-Token"), &ch, &rq, &d,
					       &rep->json, &err);
		store_release(req->server->store, c);
		names_free(moderators);
	}
	if (r == 0)
		rep->status = 200;
	else if (!rep->json)
		reply_comment_error(rep, r, &err);
	submit_decision_clear(&d);
	comment_change_clear(&ch);
}

/* DELETE /api/v1/comments/{id}: the author's own deletion. */
static void author_delete(struct request *req, struct reply *rep)
{
	struct comment_error err = {0};
	struct submit_site site;
	struct store_conn *c;
	int r;

	if (request_site(req, NULL, &site, rep) != 0)
		return;
	c = store_acquire(req->server->store);
	r = submit_author_delete(c, &site, req->id, request_header(req, "X-Edit-Token"),
				 (int64_t)time(NULL), &rep->json, &err);
	store_release(req->server->store, c);
	if (r == 0)
		rep->status = 200;
	else
		reply_comment_error(rep, r, &err);
}

static const struct route public_routes[] = {
    {"/api/v1/comments", "GET, HEAD, POST, OPTIONS", get_comments, post_comment, NULL, NULL,
     BODY_JSON | BODY_FORM},
    {"/api/v1/comments/{id}", "PATCH, DELETE, OPTIONS", NULL, NULL, author_edit, author_delete,
     BODY_JSON},
    {"/api/v1/counts", "POST, OPTIONS", NULL, post_counts, NULL, NULL, BODY_JSON},
    {"/api/v1/health", "GET, HEAD, OPTIONS", get_health, NULL, NULL, NULL, 0},
};

const struct route_table public_route_table = {
    public_routes, sizeof(public_routes) / sizeof(public_routes[0]), NULL};
