/* routes_notify: the pages behind the links in notification mails.
 *
 *   /api/v1/notify/confirm?t=      confirm reply notifications
 *   /api/v1/notify/unsubscribe?t=  end them (also RFC 8058 one-click POST)
 *   /api/v1/notify/moderate?t=     approve, mark as spam or delete a held comment
 *
 * A GET only shows a page with a button; its POST acts (lib/link.h), since
 * mail scanners open links.  The token comes in the query string or as the
 * form field "t".  The token names its site (lib/link.h), whatever host the
 * request came to: the pages speak that site's language, and the link acts
 * only on that site's subscriptions and comments.
 */
#include "server.h"

#include "comment.h"
#include "form.h"
#include "link.h"
#include "notice.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

/* No script, no style, no framing (http.c already sends Referrer-Policy:
 * no-referrer, so the token in the address stays here). */
#define LINK_PAGE_CSP                                                                              \
	"default-src 'none'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

static void page(struct reply *rep, enum config_language lang, unsigned status, enum notice_page p,
		 const char *token, const struct notice_comment *cm)
{
	if (notice_page_html(lang, p, token, cm, &rep->text) != 0) {
		rep->text = NULL;
		reply_internal(rep);
		return;
	}
	rep->status = status;
	rep->content_type = "text/html; charset=utf-8";
	reply_header(rep, "Content-Security-Policy", LINK_PAGE_CSP);
	reply_header(rep, "Cache-Control", "no-store");
	reply_header(rep, "X-Frame-Options", "DENY");
}

/* The token: ?t= or the form's t.  Copied into out ("" when none).  A
 * one-click unsubscribe (RFC 8058) posts "List-Unsubscribe=One-Click" as a
 * form or as multipart/form-data to the link itself: the query has it. */
static void token_of(struct request *req, char out[LINK_TOKEN_MAX])
{
	const char *t = request_arg(req, "t");
	struct form *f = NULL;

	out[0] = '\0';
	if (!t && req->is_form && req->body.len &&
	    form_parse(&f, req->body.data, req->body.len) == 0)
		t = form_get(f, "t");
	if (t && strlen(t) < LINK_TOKEN_MAX)
		memcpy(out, t, strlen(t) + 1);
	form_free(f);
}

/* The language of the site the token names (expired or not), or the top
 * level's for a token that names no configured site. */
static enum config_language language_of(struct request *req, const char *token)
{
	const struct site *site = NULL;
	struct link l;

	/* At time 0 nothing has expired yet. */
	if (link_parse(req->server->keys, token, 0, &l) == 0)
		site = site_set_find(req->snap->sites, l.site);
	return site ? site->cfg->language : req->snap->cfg->language;
}

static enum link_kind kind_of(struct request *req)
{
	const char *p = req->route->path;

	return strstr(p, "/confirm")	   ? LINK_CONFIRM
	       : strstr(p, "/unsubscribe") ? LINK_UNSUBSCRIBE
					   : LINK_MODERATE;
}

static enum notice_page ask_page(enum link_kind kind, int action)
{
	static const enum notice_page moderate[] = {NOTICE_PAGE_APPROVE, NOTICE_PAGE_SPAM,
						    NOTICE_PAGE_DELETE};

	if (kind == LINK_CONFIRM)
		return NOTICE_PAGE_CONFIRM;
	if (kind == LINK_UNSUBSCRIBE)
		return NOTICE_PAGE_UNSUBSCRIBE;
	return moderate[action >= 0 && action < 3 ? action : 0];
}

/* The page for a refused link. */
static void refused(struct reply *rep, enum config_language lang, int r)
{
	if (r < 0)
		reply_internal(rep);
	else if (r == LINK_UNAVAILABLE)
		reply_error(rep, 503, "storage_unavailable", "Please try again later.");
	else if (r == LINK_USED)
		page(rep, lang, 200, NOTICE_PAGE_USED, NULL, NULL);
	else
		page(rep, lang, 400, NOTICE_PAGE_INVALID, NULL, NULL);
}

/* GET: what the link would do, and its button. */
static void link_get(struct request *req, struct reply *rep)
{
	enum link_kind kind = kind_of(req);
	char token[LINK_TOKEN_MAX];
	struct comment_row row = {0};
	struct notice_comment cm;
	struct store_conn *c;
	enum config_language lang;
	struct link l;
	int r;

	token_of(req, token);
	lang = language_of(req, token);
	c = store_acquire(req->server->store);
	r = link_check(c, req->server->keys, token, kind, (int64_t)time(NULL), &l);
	if (r == 0 && kind == LINK_MODERATE)
		r = comment_load(c, NULL, l.id, &row) == 1 ? 0 : LINK_USED;
	store_release(req->server->store, c);
	if (r != 0) {
		refused(rep, lang, r);
		return;
	}
	cm = (struct notice_comment){row.id, row.author, row.text, row.thread, ""};
	page(rep, lang, 200, ask_page(kind, l.action), token, kind == LINK_MODERATE ? &cm : NULL);
	comment_row_clear(&row);
}

/* POST: act.  An RFC 8058 one-click unsubscribe posts here too. */
static void link_post(struct request *req, struct reply *rep)
{
	static const enum notice_page done[] = {
	    [LINK_CONFIRM] = NOTICE_PAGE_CONFIRMED,
	    [LINK_UNSUBSCRIBE] = NOTICE_PAGE_UNSUBSCRIBED,
	    [LINK_MODERATE] = NOTICE_PAGE_ACTED,
	};
	enum link_kind kind = kind_of(req);
	char token[LINK_TOKEN_MAX];
	enum config_language lang;
	struct store_conn *c;
	int r;

	token_of(req, token);
	lang = language_of(req, token);
	c = store_acquire(req->server->store);
	r = link_act(c, req->server->classifier, req->server->keys, token, kind,
		     (int64_t)time(NULL));
	store_release(req->server->store, c);
	if (r != 0)
		refused(rep, lang, r);
	else
		page(rep, lang, 200, done[kind], NULL, NULL);
}

static const struct route notify_routes[] = {
    {"/api/v1/notify/confirm", "GET, HEAD, POST, OPTIONS", link_get, link_post, NULL, NULL,
     BODY_FORM | BODY_OPTIONAL},
    {"/api/v1/notify/unsubscribe", "GET, HEAD, POST, OPTIONS", link_get, link_post, NULL, NULL,
     BODY_FORM | BODY_OPTIONAL | BODY_ANY},
    {"/api/v1/notify/moderate", "GET, HEAD, POST, OPTIONS", link_get, link_post, NULL, NULL,
     BODY_FORM | BODY_OPTIONAL},
};

const struct route_table notify_route_table = {
    notify_routes, sizeof(notify_routes) / sizeof(notify_routes[0]), NULL};
