/* routes: the v1 API's public handlers.  Each parses the request (lib/wire),
 * calls lib/ and writes the answer; no SQL and no policy lives here. */
#include "server.h"

#include "admin.h"
#include "cache.h"
#include "comment.h"
#include "feed.h"
#include "lang.h"
#include "likes.h"
#include "render.h"
#include "submit.h"
#include "threadpage.h"
#include "wire.h"

#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Where a form post returns to.  From commentd's own page (format=html):
 * back there, to the new comment in its conversation or to the "awaiting
 * moderation" notice.  From a blog's form: a published comment at
 * #comment-<id> of its redirect field when that is on one of the site's
 * origins, else of the thread's page; a held one, or one that asked for
 * reply notifications, to commentd's page with the notice (the blog's page
 * cannot show it: awaiting moderation, check your e-mail), with a way
 * back. */
static char *form_location(struct request *req, const char *site_id, const struct wire_comment *w,
			   json_int_t id, bool published)
{
	const struct site *site = site_set_find(req->snap->sites, site_id);
	const char *first = net_origins_first(site->origins);
	bool allowed = w->redirect && net_redirect_allowed(site->origins, w->redirect);
	enum lang lang = lang_pick(w->lang, request_header(req, "Accept-Language"),
				   lang_of_site(site->cfg->language));
	/* What the post asked, not what came of it: a discarded post that
	 * asked for notifications gets no mail, and must read as a held one. */
	bool mail = w->notify && w->in.email && *w->in.email && *site->cfg->smtp_url;
	char *loc = NULL;
	int n;

	if (w->page)
		return threadpage_location(w->in.thread, site_id, lang, w->framed, id, published,
					   mail, NULL);
	if (!published || mail)
		return threadpage_location(w->in.thread, site_id, lang, false, id, published, mail,
					   allowed ? w->redirect : NULL);
	if (allowed)
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
	const char *status = json_string_value(json_object_get(created, "status"));

	rep->json = created;
	rep->status = 201;
	if (!req->is_form)
		return;
	rep->owned_location =
	    form_location(req, site, w, json_integer_value(json_object_get(created, "id")),
			  status && strcmp(status, "published") == 0);
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

/* A page of the thread as a shared body. */
static int build_page(struct store_conn *c, const struct comment_page_query *pq,
		      struct cache_body **body)
{
	struct buf text;
	int r;

	buf_init(&text, COMMENT_PAGE_TEXT_MAX);
	r = comment_thread_page_text(c, pq, &text);
	if (r == 0) {
		*body = cache_body_new(text.len);
		if (*body)
			memcpy((*body)->data, text.data, text.len);
		else
			r = -ENOMEM;
	}
	buf_free(&text);
	return r;
}

/* The page a thread query asks for: its site, thread and start, at most
 * limit (or page_default) top-level comments within the daemon's caps. */
static struct comment_page_query page_query(const struct request *req, const char *site,
					    const struct wire_thread_query *q)
{
	const struct config *cfg = req->snap->cfg;

	return (struct comment_page_query){
	    .site = site,
	    .thread = q->thread,
	    .from = q->from,
	    .roots = q->limit ? q->limit : cfg->page_default,
	    .rows = cfg->page_rows,
	    .bytes = COMMENT_PAGE_BYTES,
	};
}

/* The thread answer cache's key: "site/roots/rows/cursor/thread". */
#define THREAD_KEY_MAX (CONFIG_SITE_ID_MAX + COMMENT_THREAD_MAX + COMMENT_CURSOR_MAX + 48)

/* A strong ETag "<hex>" becomes "<hex><tag>": the answer with the site's
 * settings (tag: a few hex digits of their hash) after it. */
static void etag_tagged(char etag[ETAG_MAX], const char *tag)
{
	size_t n = strlen(etag);

	if (n < 2 || n + strlen(tag) >= ETAG_MAX)
		return;
	snprintf(etag + n - 1, ETAG_MAX - (n - 1), "%s\"", tag);
}

/* A thread answer's ETag: a hash of the ETag key (shared by the nodes of a
 * PostgreSQL database, lib/nodes.h), the page's cache
 * key and the thread's version.  Equal (key, version) means an equal body
 * (the answer cache rests on the same rule), so a revalidation (a CDN's,
 * nginx's, a browser's If-None-Match) is answered from the version alone,
 * one indexed read, without building the page. */
static void thread_etag(const struct server *s, const char *key, int64_t version,
			char etag[ETAG_MAX])
{
	unsigned char buf[THREAD_KEY_MAX + 8];
	size_t n = strnlen(key, THREAD_KEY_MAX);

	memcpy(buf, key, n);
	for (unsigned i = 0; i < 8; i++)
		buf[n + i] = (unsigned char)((uint64_t)version >> (8 * i));
	etag_keyed(s->etag_key, sizeof(s->etag_key), buf, n + 8, etag);
}

/* The page's answer without the stamp: its ETag (thread_etag, with the
 * site settings' tag), and unless the request's If-None-Match names that
 * ETag (*body NULL then), the body from the cache or built and kept for the
 * thread's current version: a shared body (the caller drops its
 * reference), so readers of one page share one copy.  0 or negative. */
static int thread_body(struct request *req, const char *site, const struct wire_thread_query *q,
		       const char *tag, char etag[ETAG_MAX], struct cache_body **body)
{
	struct comment_page_query pq = page_query(req, site, q);
	char key[THREAD_KEY_MAX], cursor[COMMENT_CURSOR_MAX];
	struct store_conn *c;
	int64_t version = 0;
	int r;

	*body = NULL;
	r = comment_cursor_format(&pq.from, cursor);
	if (r < 0)
		return r;
	/* The site is part of the thread's identity, and so of the key. */
	snprintf(key, sizeof(key), "%s/%u/%u/%s/%s", site, pq.roots, pq.rows, cursor, q->thread);
	c = store_acquire(req->server->store);
	r = comment_thread_version(c, site, q->thread, &version);
	if (r == 0) {
		thread_etag(req->server, key, version, etag);
		etag_tagged(etag, tag);
		if (request_etag_matches(req, etag))
			goto done; /* 304: nothing to build */
		r = cache_get(req->server->thread_cache, key, version, body);
	}
	if (r == 1) {
		/* A miss: build the page and keep it for this version. */
		r = build_page(c, &pq, body);
		if (r == 0)
			*body = cache_put(req->server->thread_cache, key, version, *body);
	}
done:
	store_release(req->server->store, c);
	return r;
}

/* What the widget needs to know of the site's settings, as JSON members
 * after the thread's answer: "likes_enabled", "privacy_url" (the site's
 * own page, or null for commentd's /privacy; config_check lets no quote,
 * backslash or control character into it) and, when the server sends mail,
 * "notify": true (the widget's checkbox for reply notifications); and a tag
 * of 4 hex digits of them for the ETag (a reload may change them). */
static void reader_settings(const struct config *cfg, char *json, size_t size, char tag[5])
{
	unsigned char h[2];

	snprintf(json, size, "\"likes_enabled\":%s,\"privacy_url\":%s%s%s%s",
		 cfg->likes ? "true" : "false", *cfg->privacy_url ? "\"" : "",
		 *cfg->privacy_url ? cfg->privacy_url : "null", *cfg->privacy_url ? "\"" : "",
		 *cfg->smtp_url ? ",\"notify\":true" : "");
	crypto_generichash(h, sizeof(h), (const unsigned char *)json, strlen(json), NULL, 0);
	sodium_bin2hex(tag, 5, h, sizeof(h));
}

/* The Content-Security-Policy of the thread's HTML page: nothing but its
 * styles and form, framed only by the site's own origins. */
static void page_csp(const struct submit_site *site, struct reply *rep)
{
	const char *origins = site->cfg->site_origins;
	char csp[1024];
	int n;

	n = snprintf(csp, sizeof(csp),
		     "default-src 'none'; style-src 'self'; form-action 'self'; base-uri 'none'; "
		     "frame-ancestors 'self' %s",
		     origins);
	if (n < 0 || (size_t)n >= sizeof(csp))
		n = snprintf(csp, sizeof(csp),
			     "default-src 'none'; style-src 'self'; form-action 'self'; "
			     "base-uri 'none'; frame-ancestors 'self'");
	for (char *p = csp; *p; p++) {
		if (*p == ',')
			*p = ' ';
	}
	reply_header(rep, "Content-Security-Policy", csp);
}

/* The comments a page shows: a page of the site's thread, with the next
 * page's arguments in next (or ""), or the conversation of comment
 * pq->focus.  0 or negative. */
static int page_answer(struct request *req, const char *site, const struct wire_thread_query *q,
		       const struct wire_page_query *pq, json_t **answer, char *next, size_t size)
{
	struct comment_page_query page = page_query(req, site, q);
	const char *cursor;
	struct store_conn *c;
	int r = 0;

	next[0] = '\0';
	c = store_acquire(req->server->store);
	if (pq->focus) {
		/* One conversation: a page of one top-level comment from there. */
		r = comment_conversation_start(c, site, q->thread, pq->focus, q->from.sort,
					       &page.from);
		page.roots = 1;
		r = r < 0 ? r : 0;
	}
	if (r == 0)
		r = comment_thread_page(c, &page, answer);
	store_release(req->server->store, c);
	cursor = r == 0 ? json_string_value(json_object_get(*answer, "cursor")) : NULL;
	if (cursor && !pq->focus)
		snprintf(next, size, "cursor=%s", cursor);
	return r;
}

/* GET /api/v1/comments?thread=&format=html|fragment: the thread as HTML
 * for readers without JavaScript (lib/threadpage). */
static void get_comments_page(struct request *req, struct reply *rep,
			      const struct submit_site *site, const struct wire_thread_query *q,
			      const struct wire_page_query *pq)
{
	const struct config *cfg = req->snap->cfg;
	const char *back = request_arg(req, "back");
	char stamp[KEYS_STAMP_MAX], next[COMMENT_CURSOR_MAX + 16], *api = NULL;
	struct threadpage page;
	json_t *answer = NULL;
	int r;

	r = page_answer(req, site->id, q, pq, &answer, next, sizeof(next));
	if (r == 0 && pq->fragment && asprintf(&api, "%s/api/v1/", site->cfg->public_url) < 0) {
		api = NULL;
		r = -ENOMEM;
	}
	keys_stamp(req->server->keys, (int64_t)time(NULL), stamp);
	page = (struct threadpage){
	    .lang = lang_pick(request_arg(req, "lang"), request_header(req, "Accept-Language"),
			      lang_of_site(site->cfg->language)),
	    .site = site->id,
	    .thread = q->thread,
	    .answer = answer,
	    .api = api ? api : "",
	    .stamp = stamp,
	    .honeypot = cfg->honeypot_field,
	    .next = next[0] ? next : NULL,
	    .privacy = site->cfg->privacy_url,
	    .back = back && net_redirect_allowed(site->origins, back) ? back : NULL,
	    .reply_to = pq->reply,
	    .focus = pq->focus,
	    .held = pq->held,
	    .mail = pq->mail,
	    .likes = site->cfg->likes,
	    .notify = *site->cfg->smtp_url != 0,
	    .framed = pq->framed,
	    .fragment = pq->fragment,
	};
	if (r == 0)
		r = threadpage_html(&page, &rep->text);
	json_decref(answer);
	free(api);
	if (r != 0) {
		reply_internal(rep);
		return;
	}
	rep->status = 200;
	rep->content_type = "text/html; charset=utf-8";
	page_csp(site, rep);
	reply_header(rep, "Vary", "Accept-Language");
}

static void get_comments(struct request *req, struct reply *rep)
{
	struct wire_page_query pq;
	struct wire_thread_query q;
	struct comment_error err;
	struct submit_site site;
	char stamp[KEYS_STAMP_MAX], settings[CONFIG_MAX_VALUE + 64], tag[5];
	struct cache_body *body = NULL;
	int r;

	if (request_site(req, NULL, &site, rep) != 0)
		return;
	r = wire_thread_query(request_arg(req, "thread"), request_arg(req, "limit"),
			      request_arg(req, "after"), request_arg(req, "cursor"),
			      request_arg(req, "sort"), req->snap->cfg->page_max, &q, &err);
	if (r == 0)
		r = wire_page_query(request_arg(req, "format"), request_arg(req, "frame"),
				    request_arg(req, "reply"), request_arg(req, "comment"),
				    request_arg(req, "held"), request_arg(req, "mail"), &pq, &err);
	if (r == 0 && pq.html) {
		get_comments_page(req, rep, &site, &q, &pq);
		return;
	}
	/* The settings count in the ETag (by their tag), the stamp does not. */
	reader_settings(site.cfg, settings, sizeof(settings), tag);
	if (r == 0)
		r = thread_body(req, site.id, &q, tag, rep->etag, &body);
	if (r != 0) {
		rep->etag[0] = '\0';
		reply_comment_error(rep, r, &err);
		return;
	}
	rep->status = 200;
	if (!body)
		return; /* If-None-Match named the ETag: 304 (http.c) */
	/* The stamp changes every second and the site's settings with a
	 * reload; they follow the shared body (which ends with '}') in the
	 * answer. */
	keys_stamp(req->server->keys, (int64_t)time(NULL), stamp);
	rep->shared = body;
	if (asprintf(&rep->tail, ",%s,\"stamp\":\"%s\"}", settings, stamp) < 0) {
		rep->tail = NULL;
		rep->etag[0] = '\0';
		reply_internal(rep);
		return;
	}
	rep->content_type = "application/json; charset=utf-8";
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

/* POST /api/v1/preview {"text"}: the text as a comment with it would be
 * shown, through the renderer that stores comments. */
static void post_preview(struct request *req, struct reply *rep)
{
	struct comment_error err;
	struct submit_site site;
	char *text = NULL, *html = NULL;
	int r;

	if (request_site(req, NULL, &site, rep) != 0)
		return;
	r = wire_preview_json(req->body.data, req->body.len, &text, &err);
	if (r == 0)
		r = comment_preview(site.cfg, text, &html, &err);
	if (r == 0) {
		rep->json = json_pack("{s:s}", "html", html);
		rep->status = rep->json ? 200 : 500;
		if (!rep->json)
			reply_internal(rep);
	} else {
		reply_comment_error(rep, r, &err);
	}
	free(html);
	free(text);
}

/* POST /api/v1/comments/{id}/like: toggles the client's like. */
static void post_like(struct request *req, struct reply *rep)
{
	unsigned char voter[KEYS_HASH_BYTES];
	struct comment_error err = {0};
	struct likes_result res;
	struct submit_site site;
	struct store_conn *c;
	unsigned wait;
	int r;

	if (request_site(req, NULL, &site, rep) != 0)
		return;
	wait =
	    ratelimit_take(req->server->like_limit, request_client_key(req), monotonic_seconds());
	if (wait) {
		reply_error(rep, 429, "rate_limited",
			    "Too many likes from your address; please wait a moment.");
		rep->retry_after = wait;
		return;
	}
	likes_voter(req->server->keys, &req->client, req->id, voter);
	c = store_acquire(req->server->store);
	r = likes_toggle(c, site.cfg, site.id, req->id, voter, (int64_t)time(NULL), &res, &err);
	store_release(req->server->store, c);
	if (r == 0) {
		rep->json = likes_json(&res);
		rep->status = 200;
		if (!rep->json)
			reply_internal(rep);
	} else {
		reply_comment_error(rep, r, &err);
	}
}

/* GET /api/v1/feed[?thread=PATH][&lang=]: the Atom feed of a thread or of
 * the site. */
static void get_feed(struct request *req, struct reply *rep)
{
	const char *thread = request_arg(req, "thread");
	struct comment_error err;
	struct submit_site picked;
	struct feed_site site;
	struct store_conn *c;
	int r;

	if (request_site(req, NULL, &picked, rep) != 0)
		return;
	site = (struct feed_site){
	    .id = picked.id,
	    .public_url = picked.cfg->public_url,
	    .site_url = net_origins_first(picked.origins),
	    .lang = lang_pick(request_arg(req, "lang"), request_header(req, "Accept-Language"),
			      lang_of_site(picked.cfg->language)),
	};
	r = wire_feed_query(thread, &err);
	if (r == 0) {
		c = store_acquire(req->server->store);
		r = feed_atom(c, &site, thread, &rep->text);
		store_release(req->server->store, c);
	}
	if (r != 0) {
		reply_comment_error(rep, r, &err);
		return;
	}
	etag_of(rep->text, strlen(rep->text), rep->etag);
	rep->content_type = "application/atom+xml; charset=utf-8";
	rep->status = 200;
	reply_header(rep, "Vary", "Accept-Language");
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
    {"/api/v1/comments/{id}/like", "POST, OPTIONS", NULL, post_like, NULL, NULL,
     BODY_JSON | BODY_OPTIONAL},
    {"/api/v1/counts", "POST, OPTIONS", NULL, post_counts, NULL, NULL, BODY_JSON | BODY_READS},
    {"/api/v1/preview", "POST, OPTIONS", NULL, post_preview, NULL, NULL, BODY_JSON | BODY_READS},
    {"/api/v1/feed", "GET, HEAD, OPTIONS", get_feed, NULL, NULL, NULL, 0},
    {"/api/v1/health", "GET, HEAD, OPTIONS", get_health, NULL, NULL, NULL, 0},
};

const struct route_table public_route_table = {
    public_routes, sizeof(public_routes) / sizeof(public_routes[0]), NULL};
