/* routes_static: the embeddable widget (/embed.js, /embed.css), the
 * moderation page (/admin/) and the demo article (/demo/), compiled into the
 * binary from web/ (daemon/meson.build).  Every answer carries its content
 * type, an ETag (a hash of the body; If-None-Match gives 304) and a
 * Cache-Control; the HTML pages also a strict Content-Security-Policy. */
#include "server.h"

#include "embed.h"
#include "lang.h"
#include "privacypage.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* No inline script or style anywhere; nothing from other origins. */
#define PAGE_CSP                                                                                   \
	"default-src 'self'; script-src 'self'; style-src 'self'; base-uri 'none'; "               \
	"form-action 'self'; frame-ancestors 'none'"

/* The widget is fetched with every article view: cache it briefly and then
 * revalidate.  The pages and their own files always revalidate. */
#define CACHE_WIDGET "public, max-age=600"
#define CACHE_PAGE   "no-cache"

#define TYPE_HTML "text/html; charset=utf-8"
#define TYPE_JS	  "text/javascript; charset=utf-8"
#define TYPE_CSS  "text/css; charset=utf-8"

struct asset {
	const char *url;
	const struct embedded_file *table;
	const char *name;
	const char *type;
	const char *cache;
	bool page; /* an HTML page: CSP, no framing */
};

static const struct asset assets[] = {
    {"/embed.js", web_widget_files, "embed.js", TYPE_JS, CACHE_WIDGET, false},
    {"/embed.css", web_widget_files, "embed.css", TYPE_CSS, CACHE_WIDGET, false},
    {"/page.css", web_widget_files, "page.css", TYPE_CSS, CACHE_WIDGET, false},
    {"/admin/", web_admin_files, "index.html", TYPE_HTML, CACHE_PAGE, true},
    {"/admin/admin.js", web_admin_files, "admin.js", TYPE_JS, CACHE_PAGE, false},
    {"/admin/admin.css", web_admin_files, "admin.css", TYPE_CSS, CACHE_PAGE, false},
    {"/demo/", web_demo_files, "index.html", TYPE_HTML, CACHE_PAGE, true},
    {"/demo/demo.css", web_demo_files, "demo.css", TYPE_CSS, CACHE_PAGE, false},
};

static const struct embedded_file *find_file(const struct asset *a)
{
	for (const struct embedded_file *f = a->table; f->name; f++) {
		if (strcmp(f->name, a->name) == 0)
			return f;
	}
	return NULL;
}

static void get_asset(struct request *req, struct reply *rep)
{
	const struct asset *a = NULL;
	const struct embedded_file *f;

	for (size_t i = 0; i < sizeof(assets) / sizeof(assets[0]); i++) {
		if (strcmp(assets[i].url, req->route->path) == 0)
			a = &assets[i];
	}
	f = a ? find_file(a) : NULL;
	if (!f) {
		reply_error(rep, 404, "not_found", "There is nothing at this address.");
		return;
	}
	rep->text = malloc(f->len + 1);
	if (rep->text)
		memcpy(rep->text, f->data, f->len + 1);
	if (!rep->text) {
		reply_error(rep, 500, "internal", "The server failed to handle this request.");
		return;
	}
	etag_of(rep->text, strlen(rep->text), rep->etag);
	rep->status = 200;
	rep->content_type = a->type;
	reply_header(rep, "Cache-Control", a->cache);
	if (a->page) {
		reply_header(rep, "Content-Security-Policy", PAGE_CSP);
		reply_header(rep, "X-Frame-Options", "DENY");
	}
}

/* commentd's generated pages: no script, styles from page.css only. */
#define GENERATED_CSP                                                                              \
	"default-src 'none'; style-src 'self'; base-uri 'none'; form-action 'none'; "              \
	"frame-ancestors 'none'"

/* GET /privacy[?lang=]: how comment data is processed, from the running
 * configuration (lib/privacypage). */
static void get_privacy(struct request *req, struct reply *rep)
{
	struct submit_site site;
	enum lang lang;
	int r;

	/* The site the page is for: ?site=, or the blog page that links here. */
	if (request_site(req, NULL, &site, rep) != 0)
		return;
	lang = lang_pick(request_arg(req, "lang"), request_header(req, "Accept-Language"),
			 lang_of_site(site.cfg->language));
	r = privacy_page(site.cfg, net_origins_first(site.origins), lang, &rep->text);
	if (r != 0) {
		reply_internal(rep);
		return;
	}
	etag_of(rep->text, strlen(rep->text), rep->etag);
	rep->status = 200;
	rep->content_type = TYPE_HTML;
	reply_header(rep, "Content-Security-Policy", GENERATED_CSP);
	reply_header(rep, "X-Frame-Options", "DENY");
	reply_header(rep, "Vary", "Accept-Language");
}

/* /admin and /demo: on to the folder, so the pages' relative links work. */
static void to_folder(struct request *req, struct reply *rep)
{
	rep->status = 301;
	rep->location = strcmp(req->route->path, "/admin") == 0 ? "admin/" : "demo/";
}

static const struct route static_routes[] = {
    {"/embed.js", "GET, HEAD, OPTIONS", get_asset, NULL, NULL, NULL, 0},
    {"/embed.css", "GET, HEAD, OPTIONS", get_asset, NULL, NULL, NULL, 0},
    {"/page.css", "GET, HEAD, OPTIONS", get_asset, NULL, NULL, NULL, 0},
    {"/privacy", "GET, HEAD, OPTIONS", get_privacy, NULL, NULL, NULL, 0},
    {"/admin/", "GET, HEAD, OPTIONS", get_asset, NULL, NULL, NULL, 0},
    {"/admin/admin.js", "GET, HEAD, OPTIONS", get_asset, NULL, NULL, NULL, 0},
    {"/admin/admin.css", "GET, HEAD, OPTIONS", get_asset, NULL, NULL, NULL, 0},
    {"/demo/", "GET, HEAD, OPTIONS", get_asset, NULL, NULL, NULL, 0},
    {"/demo/demo.css", "GET, HEAD, OPTIONS", get_asset, NULL, NULL, NULL, 0},
    {"/admin", "GET, HEAD, OPTIONS", to_folder, NULL, NULL, NULL, 0},
    {"/demo", "GET, HEAD, OPTIONS", to_folder, NULL, NULL, NULL, 0},
};

const struct route_table static_route_table = {
    static_routes, sizeof(static_routes) / sizeof(static_routes[0]), NULL};
