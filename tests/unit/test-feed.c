/* Unit tests for lib/feed: what a feed holds (published comments, newest
 * first, at most FEED_ENTRIES), its links and ids with and without the
 * site's addresses, titles in each language, escaping. */
#include "tap.h"

#include "feed.h"
#include "fixture.h"
#include "comment.h"

#include <stdlib.h>
#include <string.h>

static struct fixture fx;

static const char *create_site = "default";

static int64_t create(const char *thread, const char *author, const char *url, const char *text,
		      enum comment_status status, int64_t when)
{
	char th[64], au[64], em[] = "a@example.org", tx[256], ur[64];
	struct comment_input in = {.site = create_site,
				   .thread = th,
				   .author = au,
				   .email = em,
				   .text = tx,
				   .url = url ? ur : NULL};
	struct comment_record rec = {.status = status, .score = -1, .created = when};
	struct comment_stored out;
	struct comment_error err = {0};
	int64_t id;

	snprintf(th, sizeof(th), "%s", thread);
	snprintf(au, sizeof(au), "%s", author);
	snprintf(tx, sizeof(tx), "%s", text);
	snprintf(ur, sizeof(ur), "%s", url ? url : "");
	if (comment_create(fx.conn, fx.cfg, fx.keys, &in, &rec, &out, &err) != 0) {
		diag("comment_create: %s", err.message);
		return 0;
	}
	id = out.id;
	comment_stored_clear(&out);
	return id;
}

static char *feed(const struct feed_site *s, const char *thread)
{
	char *out = NULL;
	int r = feed_atom(fx.conn, s, thread, &out);

	if (r != 0)
		diag("feed_atom: %d", r);
	return out;
}

static int count(const char *hay, const char *needle)
{
	int n = 0;

	for (const char *p = hay; p && (p = strstr(p, needle)); p++)
		n++;
	return n;
}

static void test_thread_feed(void)
{
	struct feed_site s = {"default", "https://c.example.nl", "https://blog.example.nl",
			      LANG_NL};
	int64_t a, b, held;
	char *f, want[256];

	a = create("/p", "Danny", "https://danny.example.nl", "Hoi *jij* & <b>", COMMENT_PUBLISHED,
		   1700000000);
	b = create("/p", "Sjef & <Co>", NULL, "Tweede", COMMENT_PUBLISHED, 1700000100);
	held = create("/p", "Held", NULL, "Wacht", COMMENT_PENDING, 1700000200);
	create("/q", "Elders", NULL, "Andere pagina", COMMENT_PUBLISHED, 1700000300);
	f = feed(&s, "/p");
	ok(f && strncmp(f,
			"<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<feed "
			"xmlns=\"http://www.w3.org/2005/Atom\" xml:lang=\"nl\">",
			95) == 0,
	   "an Atom document in Dutch");
	is_int(count(f, "<entry>"), 2, "two entries: the published comments of /p");
	ok(!strstr(f, "Wacht") && !strstr(f, "Andere pagina"), "no held comment, no other thread");
	snprintf(want, sizeof(want), "<id>https://blog.example.nl/p#comment-%lld</id>",
		 (long long)b);
	ok(strstr(f, want) && strstr(f, want) < strstr(f, "Danny"),
	   "newest first, ids on the blog");
	snprintf(want, sizeof(want),
		 "<link rel=\"alternate\" type=\"text/html\" "
		 "href=\"https://blog.example.nl/p#comment-%lld\"/>",
		 (long long)a);
	ok(strstr(f, want) != NULL, "an entry's link");
	ok(strstr(f, "<title>Reacties op blog.example.nl/p</title>") != NULL, "the feed's title");
	ok(strstr(f, "<title>Reactie van Sjef &amp; &lt;Co&gt;</title>") != NULL,
	   "an entry's title, escaped");
	ok(strstr(f, "<author><name>Danny</name><uri>https://danny.example.nl</uri></author>") !=
	       NULL,
	   "author name and website");
	ok(strstr(f, "<author><name>Sjef &amp; &lt;Co&gt;</name></author>") != NULL,
	   "no uri without a website");
	ok(strstr(f, "<content type=\"html\">&lt;p&gt;Hoi &lt;em&gt;jij&lt;/em&gt; &amp;amp; "
		     "&amp;lt;b&amp;gt;&lt;/p&gt;</content>") != NULL,
	   "the rendered HTML as escaped text");
	ok(strstr(f, "<published>2023-11-14T22:13:20Z</published>") != NULL, "published");
	ok(strstr(f, "<updated>2023-11-14T22:15:00Z</updated>\n<link rel=\"self\"") != NULL,
	   "the feed's updated is its newest entry's");
	ok(strstr(f, "<link rel=\"self\" type=\"application/atom+xml\" "
		     "href=\"https://c.example.nl/api/v1/feed?thread=/p\"/>") != NULL,
	   "the self link");
	ok(strstr(f, "<id>https://c.example.nl/api/v1/feed?thread=/p</id>") != NULL,
	   "the feed's id is its address");
	ok(f && strcmp(f + strlen(f) - 8, "</feed>\n") == 0, "closed");
	free(f);
	(void)held;

	s.lang = LANG_DE;
	f = feed(&s, NULL);
	is_int(count(f, "<entry>"), 3, "the site's feed: every thread");
	ok(strstr(f, "<title>Kommentare auf blog.example.nl</title>") != NULL, "a German title");
	ok(strstr(f, "<title>Kommentar von Elders zu /q</title>") != NULL,
	   "entries name the thread");
	ok(strstr(f, "<id>https://c.example.nl/api/v1/feed</id>") != NULL, "its id");
	free(f);

	/* An edit updates the entry. */
	{
		store_exec(fx.conn, "UPDATE comments SET modified = 1800000000");
		s.lang = LANG_EN;
		f = feed(&s, "/p");
		ok(strstr(f, "<updated>2027-01-15T08:00:00Z</updated>") != NULL,
		   "updated follows an edit");
		ok(strstr(f, "<title>Comment by Danny</title>") != NULL, "English");
		free(f);
	}
}

static void test_bare(void)
{
	struct feed_site s = {"default", NULL, "", LANG_EN};
	char *f = feed(&s, "/p"), want[64];

	ok(f && !strstr(f, "<link"), "without addresses: no links");
	ok(strstr(f, "<id>urn:commentd:feed:/p</id>") != NULL, "a URN for the feed");
	snprintf(want, sizeof(want), "<id>urn:commentd:comment:");
	is_int(count(f, want), 2, "and for its entries");
	ok(strstr(f, "<title>Comments on /p</title>") != NULL, "the title names the path");
	free(f);
	f = feed(&s, "/weird?a=b&c=\"d\"");
	ok(strstr(f, "<id>urn:commentd:feed:/weird%3Fa%3Db%26c%3D%22d%22</id>") != NULL,
	   "an odd path is encoded in the id");
	ok(strstr(f, "<title>Comments on /weird?a=b&amp;c=&quot;d&quot;</title>") != NULL,
	   "and escaped in the title");
	is_int(count(f, "<entry>"), 0, "an unknown thread has no entries");
	ok(strstr(f, "<updated>1970-01-01T00:00:00Z</updated>") != NULL,
	   "and a fixed updated (the ETag stays)");
	free(f);
}

static void test_limit(void)
{
	struct feed_site s = {"default", NULL, "https://b.example", LANG_EN};
	char *f;

	for (int i = 0; i < FEED_ENTRIES + 5; i++)
		create("/many", "X", NULL, "Reactie", COMMENT_PUBLISHED, 1700000000 + i);
	f = feed(&s, "/many");
	is_int(count(f, "<entry>"), FEED_ENTRIES, "at most FEED_ENTRIES entries");
	free(f);
}

/* A feed holds its own site's comments only. */
static void test_sites(void)
{
	struct feed_site s = {"notes", NULL, "https://notes.example", LANG_EN};
	char *f;

	create_site = "notes";
	create("/p", "Noor", NULL, "Op notes", COMMENT_PUBLISHED, 1700000500);
	create_site = "default";
	f = feed(&s, "/p");
	is_int(count(f, "<entry>"), 1, "notes' /p: only its own comment");
	ok(strstr(f, "Op notes") && !strstr(f, "Danny"), "not default's comments of /p");
	free(f);
	f = feed(&s, NULL);
	is_int(count(f, "<entry>"), 1, "notes' site feed: only notes' comments");
	free(f);
}

int main(void)
{
	if (fixture_open(&fx, "feed") != 0)
		return 1;
	test_thread_feed();
	test_bare();
	test_limit();
	test_sites();
	fixture_close(&fx);
	return done_testing();
}
