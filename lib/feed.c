#include "feed.h"

#include "markup.h"
#include "timefmt.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct feed_strings {
	const char *thread_title; /* {0}: host and path */
	const char *site_title;	  /* {0}: host */
	const char *entry_title;  /* {0}: author */
	const char *site_entry;	  /* {0}: author, {1}: path */
	const char *anonymous;
};

static const struct feed_strings strings[] = {
    [LANG_EN] = {"Comments on {0}", "Comments on {0}", "Comment by {0}", "Comment by {0} on {1}",
		 "Anonymous"},
    [LANG_NL] = {"Reacties op {0}", "Reacties op {0}", "Reactie van {0}", "Reactie van {0} op {1}",
		 "Anoniem"},
    [LANG_DE] = {"Kommentare zu {0}", "Kommentare auf {0}", "Kommentar von {0}",
		 "Kommentar von {0} zu {1}", "Anonym"},
};

static const char sql_thread_entries[] =
    "SELECT c.id, t.path, c.author, c.url, c.created,"
    " CASE WHEN c.modified > c.created THEN c.modified ELSE c.created END, c.html FROM comments c "
    "JOIN threads t ON t.id = c.thread_id"
    " WHERE t.path = ?1 AND t.site = ?3 AND c.status = 'published' ORDER BY c.id DESC LIMIT ?2";
static const char sql_site_entries[] =
    "SELECT c.id, t.path, c.author, c.url, c.created,"
    " CASE WHEN c.modified > c.created THEN c.modified ELSE c.created END, c.html FROM comments c "
    "JOIN threads t ON t.id = c.thread_id"
    " WHERE t.site = ?3 AND c.status = 'published' ORDER BY c.id DESC LIMIT ?2";

struct entry {
	int64_t id;
	const char *path, *author, *url;
	int64_t created, updated;
	const char *html;
};

static bool set(const char *s)
{
	return s && *s;
}

/* The host of an origin ("https://blog.example.nl" -> "blog.example.nl"). */
static const char *host_of(const char *origin)
{
	const char *h = set(origin) ? strstr(origin, "://") : NULL;

	return h ? h + 3 : "";
}

static void time_element(struct markup *m, const char *name, int64_t t)
{
	char when[TIMEFMT_RFC3339];

	markup_raw(m, "<");
	markup_raw(m, name);
	markup_raw(m, ">");
	markup_raw(m, timefmt_rfc3339(t, when));
	markup_raw(m, "</");
	markup_raw(m, name);
	markup_raw(m, ">\n");
}

/* The comment's address on the blog, or a URN when no origin is known. */
static void entry_address(struct markup *m, const struct feed_site *site, const struct entry *e)
{
	if (set(site->site_url)) {
		markup_text(m, site->site_url);
		markup_text(m, e->path);
		markup_raw(m, "#comment-");
	} else {
		markup_raw(m, "urn:commentd:comment:");
	}
	markup_int(m, e->id);
}

static void write_entry(struct markup *m, const struct feed_site *site, bool whole_site,
			const struct entry *e)
{
	const struct feed_strings *s = &strings[site->lang];
	const char *author = set(e->author) ? e->author : s->anonymous;
	const char *args[] = {author, e->path};

	markup_raw(m, "<entry>\n<id>");
	entry_address(m, site, e);
	markup_raw(m, "</id>\n<title>");
	markup_template(m, whole_site ? s->site_entry : s->entry_title, args, 2);
	markup_raw(m, "</title>\n");
	time_element(m, "published", e->created);
	time_element(m, "updated", e->updated);
	markup_raw(m, "<author><name>");
	markup_text(m, author);
	markup_raw(m, "</name>");
	if (set(e->url)) {
		markup_raw(m, "<uri>");
		markup_text(m, e->url);
		markup_raw(m, "</uri>");
	}
	markup_raw(m, "</author>\n");
	if (set(site->site_url)) {
		markup_raw(m, "<link rel=\"alternate\" type=\"text/html\" href=\"");
		entry_address(m, site, e);
		markup_raw(m, "\"/>\n");
	}
	markup_raw(m, "<content type=\"html\">");
	markup_text(m, e->html);
	markup_raw(m, "</content>\n</entry>\n");
}

/* The feed's own address: public_url's feed URL for thread. */
static void self_address(struct markup *m, const struct feed_site *site, const char *thread)
{
	markup_text(m, site->public_url);
	markup_raw(m, "/api/v1/feed");
	if (thread) {
		markup_raw(m, "?thread=");
		markup_query_value(m, thread);
	}
}

static void feed_id(struct markup *m, const struct feed_site *site, const char *thread)
{
	markup_raw(m, "<id>");
	if (set(site->public_url)) {
		self_address(m, site, thread);
	} else if (set(site->site_url)) {
		markup_text(m, site->site_url);
		markup_text(m, thread ? thread : "/");
	} else {
		markup_raw(m, "urn:commentd:feed");
		if (thread) {
			markup_raw(m, ":");
			markup_query_value(m, thread);
		}
	}
	markup_raw(m, "</id>\n");
}

static void feed_head(struct markup *m, const struct feed_site *site, const char *thread,
		      int64_t updated)
{
	const struct feed_strings *s = &strings[site->lang];
	char where[2048];
	const char *args[] = {where};

	snprintf(where, sizeof(where), "%s%s", host_of(site->site_url), thread ? thread : "");
	markup_raw(m, "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
		      "<feed xmlns=\"http://www.w3.org/2005/Atom\" xml:lang=\"");
	markup_raw(m, lang_code(site->lang));
	markup_raw(m, "\">\n");
	feed_id(m, site, thread);
	markup_raw(m, "<title>");
	markup_template(m, thread ? s->thread_title : s->site_title, args, where[0] ? 1 : 0);
	markup_raw(m, "</title>\n");
	time_element(m, "updated", updated);
	if (set(site->public_url)) {
		markup_raw(m, "<link rel=\"self\" type=\"application/atom+xml\" href=\"");
		self_address(m, site, thread);
		markup_raw(m, "\"/>\n");
	}
	if (set(site->site_url)) {
		markup_raw(m, "<link rel=\"alternate\" type=\"text/html\" href=\"");
		markup_text(m, site->site_url);
		markup_text(m, thread ? thread : "/");
		markup_raw(m, "\"/>\n");
	}
	markup_raw(m, "<generator version=\"" COMMENTD_VERSION "\">commentd</generator>\n");
}

static void entry_of(struct store_stmt *st, struct entry *e)
{
	e->id = store_col_int64(st, 0);
	e->path = store_col_text(st, 1);
	e->author = store_col_text(st, 2);
	e->url = store_col_text(st, 3);
	e->created = store_col_int64(st, 4);
	e->updated = store_col_int64(st, 5);
	e->html = store_col_text(st, 6);
}

/* The newest "updated" among the feed's rows (they are read twice: the
 * feed's own <updated> comes before its entries). */
static int latest_update(struct store_conn *c, struct store_stmt *st, int64_t *latest)
{
	int r;

	*latest = 0;
	while ((r = store_row(c, st)) == 1) {
		if (store_col_int64(st, 5) > *latest)
			*latest = store_col_int64(st, 5);
	}
	store_reset(st);
	return r;
}

int feed_atom(struct store_conn *c, const struct feed_site *site, const char *thread, char **out)
{
	struct store_stmt *st = store_stmt(c, thread ? sql_thread_entries : sql_site_entries);
	struct markup m;
	struct entry e;
	int64_t latest;
	char *page;
	int r, werr;

	if (!st)
		return -EIO;
	if (thread)
		store_bind_text(st, 1, thread);
	store_bind_int64(st, 2, FEED_ENTRIES);
	store_bind_text(st, 3, site->id);
	r = latest_update(c, st, &latest);
	if (r < 0)
		return r;
	markup_init(&m, FEED_MAX);
	feed_head(&m, site, thread, latest);
	/* Entries stop at half the cap, so that one more always fits. */
	while (m.b.len < FEED_MAX / 2 && (r = store_row(c, st)) == 1) {
		entry_of(st, &e);
		write_entry(&m, site, thread == NULL, &e);
	}
	store_reset(st);
	markup_raw(&m, "</feed>\n");
	page = markup_finish(&m, &werr);
	if (r < 0 || !page) {
		free(page);
		return r < 0 ? r : werr < 0 ? werr : -E2BIG;
	}
	*out = page;
	return 0;
}
