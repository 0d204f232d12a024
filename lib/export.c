#include "export.h"

#include "config.h"
#include "log.h"
#include "timefmt.h"

#include <errno.h>
#include <jansson.h>
#include <sodium.h>
#include <string.h>

int export_format_parse(const char *name, enum export_format *out)
{
	if (name && strcmp(name, "jsonl") == 0)
		*out = EXPORT_JSONL;
	else if (name && strcmp(name, "wxr") == 0)
		*out = EXPORT_WXR;
	else
		return 1;
	return 0;
}

void export_key_fingerprint(const struct keys *k, char out[17])
{
	static const char label[] = "commentd export key fingerprint";
	unsigned char h[KEYS_HASH_BYTES];

	keys_hash(k, KEYS_EMAIL, label, sizeof(label) - 1, h);
	sodium_bin2hex(out, 17, h, 8);
}

/* ?1: one site's comments, or NULL for every site's. */
static const char sql_all[] =
    "SELECT c.id, t.path, c.parent_id, c.created, c.modified, c.status, c.author, c.url,"
    " c.text, c.html, c.avatar, c.email_hash, t.id, t.created, t.site"
    " FROM comments c JOIN threads t ON t.id = c.thread_id"
    " WHERE CAST(?1 AS TEXT) IS NULL OR t.site = ?1 ORDER BY c.id";
static const char sql_by_thread[] =
    "SELECT c.id, t.path, c.parent_id, c.created, c.modified, c.status, c.author, c.url,"
    " c.text, c.html, c.avatar, c.email_hash, t.id, t.created, t.site"
    " FROM comments c JOIN threads t ON t.id = c.thread_id"
    " WHERE CAST(?1 AS TEXT) IS NULL OR t.site = ?1 ORDER BY t.site, t.path, c.id";
/* The sites that hold comments (?1: only that one), at most two. */
static const char sql_sites[] =
    "SELECT DISTINCT t.site FROM threads t WHERE (CAST(?1 AS TEXT) IS NULL OR t.site = ?1)"
    " AND EXISTS (SELECT 1 FROM comments c WHERE c.thread_id = t.id) LIMIT 2";

enum {
	COL_ID,
	COL_PATH,
	COL_PARENT,
	COL_CREATED,
	COL_MODIFIED,
	COL_STATUS,
	COL_AUTHOR,
	COL_URL,
	COL_TEXT,
	COL_HTML,
	COL_AVATAR,
	COL_HASH,
	COL_THREAD_ID,
	COL_THREAD_CREATED,
	COL_SITE
};

static const char *col(struct store_stmt *st, int i)
{
	const char *s = store_col_text(st, i);

	return s ? s : "";
}

static json_t *time_or_null(struct store_stmt *st, int i)
{
	char t[TIMEFMT_RFC3339];

	if (store_col_type(st, i) == STORE_NULL)
		return json_null();
	return json_string(timefmt_rfc3339(store_col_int64(st, i), t));
}

/* ---- jsonl ---------------------------------------------------------------- */

static int write_json(FILE *out, json_t *o)
{
	int r;

	if (!o)
		return -ENOMEM;
	r = json_dumpf(o, out, JSON_COMPACT) == 0 && fputc('\n', out) != EOF ? 0 : -EIO;
	json_decref(o);
	return r;
}

/* origin: the exported site's (NULL when none is known). */
static int jsonl_header(FILE *out, const struct export_options *o, const char *origin)
{
	char now[TIMEFMT_RFC3339], fp[17];

	if (o->keys)
		export_key_fingerprint(o->keys, fp);
	return write_json(out, json_pack("{s:i, s:o, s:o, s:s, s:o}", "commentd_export", 1,
					 "source", origin ? json_string(origin) : json_null(),
					 "site", o->site ? json_string(o->site) : json_null(),
					 "exported", timefmt_rfc3339(o->now, now), "key",
					 o->keys ? json_string(fp) : json_null()));
}

static int jsonl_row(FILE *out, const struct export_options *o, struct store_stmt *st)
{
	char hash[2 * KEYS_HASH_BYTES + 1];
	json_t *row = json_pack(
	    "{s:I, s:s, s:s, s:o, s:o, s:o, s:s, s:s, s:o, s:s, s:s}", "id",
	    (json_int_t)store_col_int64(st, COL_ID), "site", col(st, COL_SITE), "thread",
	    col(st, COL_PATH), "parent",
	    store_col_type(st, COL_PARENT) == STORE_NULL
		? json_null()
		: json_integer(store_col_int64(st, COL_PARENT)),
	    "created", time_or_null(st, COL_CREATED), "modified", time_or_null(st, COL_MODIFIED),
	    "status", col(st, COL_STATUS), "author", col(st, COL_AUTHOR), "url",
	    store_col_type(st, COL_URL) == STORE_NULL ? json_null() : json_string(col(st, COL_URL)),
	    "text", col(st, COL_TEXT), "avatar", col(st, COL_AVATAR));

	if (row && o->keys && store_col_bytes(st, COL_HASH) == KEYS_HASH_BYTES) {
		sodium_bin2hex(hash, sizeof(hash), store_col_blob(st, COL_HASH), KEYS_HASH_BYTES);
		json_object_set_new(row, "email_hash", json_string(hash));
	}
	return write_json(out, row);
}

/* ---- wxr ------------------------------------------------------------------ */

/* Text with &, < and > escaped (the values are validated UTF-8 without
 * control characters). */
static void xml_text(FILE *out, const char *s)
{
	for (; *s; s++) {
		if (*s == '&')
			fputs("&amp;", out);
		else if (*s == '<')
			fputs("&lt;", out);
		else if (*s == '>')
			fputs("&gt;", out);
		else
			fputc(*s, out);
	}
}

/* A CDATA section; "]]>" inside is split across two sections. */
static void xml_cdata(FILE *out, const char *s)
{
	const char *end;

	fputs("<![CDATA[", out);
	while ((end = strstr(s, "]]>"))) {
		fwrite(s, 1, (size_t)(end - s) + 2, out);
		fputs("]]><![CDATA[", out);
		s = end + 2;
	}
	fputs(s, out);
	fputs("]]>", out);
}

/* "2019-03-14 09:12:45" */
static void wp_date(int64_t t, char out[24])
{
	char rfc[TIMEFMT_RFC3339];

	timefmt_rfc3339(t, rfc);
	snprintf(out, 24, "%.10s %.8s", rfc, rfc + 11);
}

static const char wxr_head[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\" ?>\n"
    "<!-- Comments exported from commentd in WordPress eXtended RSS (WXR) 1.2. -->\n"
    "<rss version=\"2.0\"\n"
    "\txmlns:excerpt=\"http://wordpress.org/export/1.2/excerpt/\"\n"
    "\txmlns:content=\"http://purl.org/rss/1.0/modules/content/\"\n"
    "\txmlns:wfw=\"http://wellformedweb.org/CommentAPI/\"\n"
    "\txmlns:dc=\"http://purl.org/dc/elements/1.1/\"\n"
    "\txmlns:wp=\"http://wordpress.org/export/1.2/\"\n"
    ">\n\n<channel>\n";

static void wxr_channel(FILE *out, const struct export_options *o, const char *origin)
{
	char date[TIMEFMT_RFC3339];

	fputs(wxr_head, out);
	fputs("\t<title>", out);
	xml_text(out, origin);
	fputs("</title>\n\t<link>", out);
	xml_text(out, origin);
	fprintf(out, "</link>\n\t<description></description>\n\t<pubDate>%s</pubDate>\n",
		timefmt_rfc3339(o->now, date));
	fputs("\t<language></language>\n\t<wp:wxr_version>1.2</wp:wxr_version>\n"
	      "\t<wp:base_site_url>",
	      out);
	xml_text(out, origin);
	fputs("</wp:base_site_url>\n\t<wp:base_blog_url>", out);
	xml_text(out, origin);
	fprintf(out, "</wp:base_blog_url>\n\t<generator>commentd %s</generator>\n",
		COMMENTD_VERSION);
}

static void wxr_item_open(FILE *out, const char *origin, struct store_stmt *st)
{
	char date[24];

	wp_date(store_col_int64(st, COL_THREAD_CREATED), date);
	fputs("\n\t<item>\n\t\t<title>", out);
	xml_text(out, col(st, COL_PATH));
	fputs("</title>\n\t\t<link>", out);
	xml_text(out, origin);
	xml_text(out, col(st, COL_PATH));
	fputs("</link>\n\t\t<dc:creator><![CDATA[]]></dc:creator>\n"
	      "\t\t<guid isPermaLink=\"false\">",
	      out);
	xml_text(out, origin);
	xml_text(out, col(st, COL_PATH));
	fprintf(out,
		"</guid>\n\t\t<description></description>\n"
		"\t\t<content:encoded><![CDATA[]]></content:encoded>\n"
		"\t\t<excerpt:encoded><![CDATA[]]></excerpt:encoded>\n"
		"\t\t<wp:post_id>%lld</wp:post_id>\n\t\t<wp:post_date>%s</wp:post_date>\n"
		"\t\t<wp:post_date_gmt>%s</wp:post_date_gmt>\n"
		"\t\t<wp:comment_status>open</wp:comment_status>\n"
		"\t\t<wp:ping_status>closed</wp:ping_status>\n"
		"\t\t<wp:status>publish</wp:status>\n\t\t<wp:post_parent>0</wp:post_parent>\n"
		"\t\t<wp:menu_order>0</wp:menu_order>\n\t\t<wp:post_type>post</wp:post_type>\n"
		"\t\t<wp:post_password></wp:post_password>\n\t\t<wp:is_sticky>0</wp:is_sticky>\n",
		(long long)store_col_int64(st, COL_THREAD_ID), date, date);
}

static const char *wp_approved(const char *status)
{
	if (strcmp(status, "published") == 0)
		return "1";
	if (strcmp(status, "spam") == 0)
		return "spam";
	if (strcmp(status, "deleted") == 0)
		return "trash";
	return "0";
}

static void wxr_comment(FILE *out, struct store_stmt *st)
{
	char date[24];

	wp_date(store_col_int64(st, COL_CREATED), date);
	fprintf(out, "\t\t<wp:comment>\n\t\t\t<wp:comment_id>%lld</wp:comment_id>\n",
		(long long)store_col_int64(st, COL_ID));
	fputs("\t\t\t<wp:comment_author>", out);
	xml_cdata(out, col(st, COL_AUTHOR));
	fputs("</wp:comment_author>\n\t\t\t<wp:comment_author_email></wp:comment_author_email>\n"
	      "\t\t\t<wp:comment_author_url>",
	      out);
	xml_text(out, col(st, COL_URL));
	fprintf(out,
		"</wp:comment_author_url>\n\t\t\t<wp:comment_author_IP></wp:comment_author_IP>\n"
		"\t\t\t<wp:comment_date>%s</wp:comment_date>\n"
		"\t\t\t<wp:comment_date_gmt>%s</wp:comment_date_gmt>\n"
		"\t\t\t<wp:comment_content>",
		date, date);
	xml_cdata(out, col(st, COL_HTML));
	fprintf(out,
		"</wp:comment_content>\n\t\t\t<wp:comment_approved>%s</wp:comment_approved>\n"
		"\t\t\t<wp:comment_type>comment</wp:comment_type>\n"
		"\t\t\t<wp:comment_parent>%lld</wp:comment_parent>\n"
		"\t\t\t<wp:comment_user_id>0</wp:comment_user_id>\n\t\t</wp:comment>\n",
		wp_approved(col(st, COL_STATUS)), (long long)store_col_int64(st, COL_PARENT));
}

/* ---- both ------------------------------------------------------------------ */

/* The origin of site: o->origin, else the configured one, else NULL. */
static const char *origin_of(const struct export_options *o, const char *site)
{
	if (o->origin && *o->origin)
		return o->origin;
	for (size_t i = 0; site && i < o->n_origins; i++)
		if (strcmp(o->origins[i].site, site) == 0)
			return o->origins[i].origin && *o->origins[i].origin ? o->origins[i].origin
									     : NULL;
	return NULL;
}

/* The one site whose comments go out (o->site, or the only site that
 * holds comments) into one[], or "" when there are several.  0 or
 * negative. */
static int exported_site(struct store_conn *c, const struct export_options *o,
			 char one[CONFIG_SITE_ID_MAX + 1])
{
	struct store_stmt *st = store_stmt(c, sql_sites);
	int n = 0, r;

	one[0] = '\0';
	if (!st)
		return -EIO;
	if (o->site)
		store_bind_text(st, 1, o->site);
	while ((r = store_row(c, st)) == 1)
		if (n++ == 0)
			snprintf(one, CONFIG_SITE_ID_MAX + 1, "%s", store_col_text(st, 0));
	store_reset(st);
	if (r < 0)
		return r;
	if (o->site)
		snprintf(one, CONFIG_SITE_ID_MAX + 1, "%s", o->site);
	else if (n > 1)
		one[0] = '\0';
	return 0;
}

static int export_rows(struct store_conn *c, const struct export_options *o, const char *site,
		       FILE *out, uint64_t *count)
{
	const char *origin = origin_of(o, *site ? site : NULL);
	struct store_stmt *st = store_stmt(c, o->format == EXPORT_WXR ? sql_by_thread : sql_all);
	int64_t thread = -1;
	int r;

	if (!st)
		return -EIO;
	store_stream(st); /* every comment: one row at a time on PostgreSQL too */
	if (o->site)
		store_bind_text(st, 1, o->site);
	if (o->format == EXPORT_WXR && !origin)
		origin = "http://localhost";
	r = o->format == EXPORT_WXR ? (wxr_channel(out, o, origin), 0)
				    : jsonl_header(out, o, origin);
	while (r == 0 && (r = store_row(c, st)) == 1) {
		r = 0;
		if (o->format == EXPORT_JSONL) {
			r = jsonl_row(out, o, st);
		} else {
			if (store_col_int64(st, COL_THREAD_ID) != thread) {
				if (thread >= 0)
					fputs("\t</item>\n", out);
				thread = store_col_int64(st, COL_THREAD_ID);
				wxr_item_open(out, origin, st);
			}
			wxr_comment(out, st);
		}
		(*count)++;
	}
	store_reset(st);
	if (r == 0 && o->format == EXPORT_WXR)
		fputs(thread >= 0 ? "\t</item>\n</channel>\n</rss>\n" : "</channel>\n</rss>\n",
		      out);
	return r;
}

int export_write(struct store_conn *c, const struct export_options *o, FILE *out, uint64_t *count)
{
	int r;

	char site[CONFIG_SITE_ID_MAX + 1];

	*count = 0;
	/* One snapshot while the daemon writes: the site read first and the
	 * rows agree (on PostgreSQL too, whose READ COMMITTED would take a
	 * snapshot per statement). */
	r = store_begin_read(c);
	if (r != 0)
		return r;
	r = exported_site(c, o, site);
	if (r == 0 && o->test_reading && o->test_reading(o->test_arg) != 0)
		r = -EIO;
	if (r == 0 && o->format == EXPORT_WXR && !site[0])
		r = EXPORT_SEVERAL_SITES;
	if (r == 0)
		r = export_rows(c, o, site, out, count);
	store_end_read(c);
	if (r == 0 && (fflush(out) != 0 || ferror(out)))
		r = -EIO;
	return r;
}

int export_site_present(struct store_conn *c, const char *site)
{
	struct store_stmt *st = store_stmt(c, sql_sites);
	int r;

	if (!st)
		return -EIO;
	store_bind_text(st, 1, site);
	r = store_row(c, st);
	store_reset(st);
	return r;
}
