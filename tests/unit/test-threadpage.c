/* Unit tests for lib/threadpage: the thread as HTML without JavaScript
 * (what it shows, escaping, the reply form, the notices, paging links,
 * framed and fragment forms, languages) and the form's return address. */
#include "tap.h"

#include "threadpage.h"
#include "text.h"

#include <stdlib.h>
#include <string.h>

static json_t *answer(void)
{
	json_error_t e;
	json_t *j =
	    json_loads("{\"thread\":\"/p\",\"count\":3,\"comments\":["
		       "{\"id\":1,\"parent\":null,\"author\":\"Danny "
		       "<b>&\",\"url\":\"https://d.example/?a=1&b=2\","
		       "\"created\":\"2011-01-12T09:30:00Z\",\"html\":\"<p>Hoi "
		       "<em>jij</em></p>\",\"avatar\":\"x\","
		       "\"likes\":3,\"replies\":["
		       "{\"id\":2,\"parent\":1,\"author\":\"Sjef\",\"url\":\"javascript:alert(1)\","
		       "\"created\":\"2011-01-12T10:00:00Z\",\"html\":\"<p>Dank</"
		       "p>\",\"avatar\":\"y\",\"likes\":0,"
		       "\"author_badge\":true,\"replies\":[]}]},"
		       "{\"id\":4,\"parent\":null,\"deleted\":true,\"replies\":["
		       "{\"id\":5,\"parent\":4,\"author\":\"Ann\",\"url\":null,\"created\":\"2011-"
		       "02-01T00:00:00Z\","
		       "\"html\":\"<p>Nog</p>\",\"avatar\":\"z\",\"likes\":0,\"replies\":[]}]},"
		       "{\"id\":7,\"parent\":6,\"author\":\"Wees\",\"url\":null,\"created\":\"2011-"
		       "03-01T00:00:00Z\","
		       "\"html\":\"<p>Later</p>\",\"avatar\":\"w\",\"likes\":1,\"replies\":[]}]}",
		       0, &e);

	if (!j)
		diag("fixture JSON: %s", e.text);
	return j;
}

static char *render(struct threadpage *p)
{
	char *out = NULL;

	if (threadpage_html(p, &out) != 0)
		diag("threadpage_html failed");
	return out;
}

static bool has(const char *hay, const char *needle)
{
	return hay && strstr(hay, needle);
}

static int count(const char *hay, const char *needle)
{
	int n = 0;

	for (const char *p = hay; p && (p = strstr(p, needle)); p++)
		n++;
	return n;
}

static void test_page(json_t *a)
{
	struct threadpage p = {.lang = LANG_NL,
			       .thread = "/p",
			       .answer = a,
			       .api = "",
			       .stamp = "123.abc",
			       .honeypot = "website2",
			       .likes = true};
	char *h = render(&p);

	ok(has(h, "<!doctype html>\n<html lang=\"nl\">") && has(h, "</html>\n"), "a whole page");
	ok(has(h, "<title>Reacties op /p</title>"), "its title");
	ok(has(h, "<h1 class=\"cd-count\" id=\"cd-count\">3 reacties</h1>"), "the count");
	ok(has(h, "href=\"../../page.css\"") && has(h, "href=\"../../embed.css\""),
	   "styled by page.css and embed.css");
	ok(!has(h, "<script") && !has(h, "style="), "no script, no inline style");
	ok(has(h, "<a href=\"https://d.example/?a=1&amp;b=2\" rel=\"nofollow ugc noopener\">Danny "
		  "&lt;b&gt;&amp;</a>"),
	   "the author's name and website, escaped");
	ok(has(h, "<span class=\"cd-a\" id=\"cd-a-2\">Sjef</span>"),
	   "a javascript: website is not a link");
	ok(has(h, "<span class=\"cd-badge cd-own\">Auteur</span>"), "the site author's badge");
	ok(has(h, "<time datetime=\"2011-01-12T09:30:00Z\">12 jan. 2011 09:30 UTC</time>"),
	   "the time in Dutch");
	ok(has(h, "<div class=\"cd-body\"><p>Hoi <em>jij</em></p></div>"), "the rendered text");
	ok(has(h,
	       "<ol class=\"cd-list cd-replies\">\n<li class=\"cd-item\"><article class=\"cd-c\" "
	       "id=\"comment-2\""),
	   "replies nest under their parent");
	ok(has(h, "<span class=\"cd-likes\">Leuk: 3</span>") && count(h, "cd-likes") == 2,
	   "like counts above zero");
	ok(has(h, "<p class=\"cd-gone\" id=\"cd-a-4\">Deze reactie is verwijderd.</p>"),
	   "a tombstone");
	ok(has(h, "<p class=\"cd-parent\"><a href=\"#comment-6\">in reactie op #6</a></p>"),
	   "a reply whose parent is on an earlier page says so");
	ok(has(h, "href=\"?thread=/p&amp;format=html&amp;lang=nl&amp;reply=1#cd-form\" "
		  "aria-label=\"Reageer op Danny &lt;b&gt;&amp;\">Reageer</a>"),
	   "a reply link for each comment");
	ok(has(h, "<form class=\"cd-form\" id=\"cd-form\" method=\"post\" action=\"comments\""),
	   "the form posts to the API");
	ok(has(h, "<h2 class=\"cd-formtitle\" id=\"cd-form-title\">Schrijf een reactie</h2>") &&
	       has(h, "name=\"parent\" value=\"\""),
	   "a new comment by default");
	ok(has(h, "name=\"stamp\" value=\"123.abc\"") && has(h, "name=\"format\" value=\"html\"") &&
	       has(h, "name=\"lang\" value=\"nl\""),
	   "stamp, format and lang ride along");
	{
		const char *text = strstr(h, "id=\"cd-text\""),
			   *name = strstr(h, "id=\"cd-author\"");
		const char *mail = strstr(h, "id=\"cd-email\""), *site = strstr(h, "id=\"cd-url\"");
		ok(text && name && mail && site && text < name && name < mail && mail < site,
		   "the text first, then name, e-mail and website");
	}
	ok(has(h, "<div class=\"cd-hp\" hidden aria-hidden=\"true\">") &&
	       has(h, "name=\"website2\" tabindex=\"-1\""),
	   "the honeypot, hidden");
	ok(has(h, "aria-describedby=\"cd-email-note\"><small id=\"cd-email-note\">Wordt niet "
		  "gepubliceerd.</small>"),
	   "the e-mail note");
	ok(has(h, "<a href=\"../../privacy?lang=nl\">Bekijk hoe je reactie-gegevens worden "
		  "verwerkt.</a>"),
	   "the processing notice links to /privacy");
	ok(has(h, "<a class=\"cd-feed\" href=\"feed?thread=/p&amp;lang=nl\""), "the feed link");
	ok(!has(h, "cd-more") && !has(h, "cd-notice\" role"), "no next page, no notice");
	ok(h && text_utf8_valid(h, strlen(h), NULL), "valid UTF-8");
	free(h);

	p.reply_to = 2;
	p.held = true;
	p.next = "cursor=abc&x";
	p.privacy = "https://blog.example.nl/privacy";
	p.back = "https://blog.example.nl/p?x=\"y\"";
	p.likes = false;
	h = render(&p);
	ok(has(h,
	       "<p class=\"cd-status cd-held-notice\" id=\"cd-notice\" role=\"status\">Je reactie "
	       "wacht op goedkeuring."),
	   "the held notice");
	ok(!has(h, "Kijk in je mail"), "no mail notice unless asked");
	ok(has(h, ">Reactie op Sjef</h2>") && has(h, "name=\"parent\" value=\"2\"") &&
	       has(h, ">Annuleer</a>"),
	   "the form answers the comment, with a way out");
	ok(has(h, "<a class=\"cd-more\" "
		  "href=\"?thread=/p&amp;format=html&amp;lang=nl&amp;cursor=abc&amp;x\">Meer "
		  "reacties</a>"),
	   "the next page");
	ok(has(h, "<a href=\"https://blog.example.nl/privacy\">"),
	   "privacy_url instead of /privacy");
	ok(has(h,
	       "<a href=\"https://blog.example.nl/p?x=&quot;y&quot;\">Terug naar het artikel</a>"),
	   "back to the article, escaped");
	ok(!has(h, "cd-likes"), "likes off: no counts");
	free(h);

	p.reply_to = 99;
	h = render(&p);
	ok(has(h, ">Schrijf een reactie</h2>") && has(h, "name=\"parent\" value=\"\""),
	   "replying to a comment not on the page: a new comment");
	free(h);
}

/* After a post that asked for reply notifications: "check your e-mail",
 * beside the held notice or alone. */
static void test_mail_notice(json_t *a)
{
	struct threadpage p = {.lang = LANG_NL,
			       .thread = "/p",
			       .answer = a,
			       .api = "",
			       .honeypot = "website2",
			       .held = true,
			       .mail = true};
	char *h = render(&p);

	ok(has(h, "<p class=\"cd-status cd-held-notice\" id=\"cd-notice\" role=\"status\">Je "
		  "reactie wacht op goedkeuring. Ze verschijnt hier zodra een moderator haar "
		  "goedkeurt. Kijk in je mail om de berichten te bevestigen.</p>"),
	   "held and notifications asked: both notices in one status line");
	free(h);
	p.held = false;
	h = render(&p);
	ok(has(h, "<p class=\"cd-status\" id=\"cd-notice\" role=\"status\">Kijk in je mail om "
		  "de berichten te bevestigen.</p>"),
	   "published and notifications asked: the mail notice alone");
	free(h);
	p.lang = LANG_DE;
	h = render(&p);
	ok(has(h, ">Sieh in deine E-Mail, um die Benachrichtigungen zu bestätigen.</p>"),
	   "in German too");
	free(h);
}

/* The reply-notification checkbox, when the server sends mail. */
static void test_notify(json_t *a)
{
	struct threadpage p = {
	    .lang = LANG_NL, .thread = "/p", .answer = a, .api = "", .honeypot = "website2"};
	char *h = render(&p);

	ok(h && !has(h, "name=\"notify\""), "no mail: no reply-notification checkbox");
	free(h);
	p.notify = true;
	h = render(&p);
	{
		const char *hp = strstr(h ? h : "", "id=\"cd-hp\""),
			   *box = strstr(h ? h : "", "<div class=\"cd-f cd-check\"><input "
						     "id=\"cd-notify\" name=\"notify\" "
						     "type=\"checkbox\" value=\"1\"><label "
						     "for=\"cd-notify\">Mail me als iemand hierop "
						     "antwoordt"),
			   *submit = strstr(h ? h : "", "type=\"submit\"");
		ok(hp && box && submit && hp < box && box < submit,
		   "the server sends mail: the checkbox, after the honeypot, before the button");
	}
	free(h);
}

static void test_forms(json_t *a)
{
	struct threadpage p = {.lang = LANG_DE,
			       .site = "notes",
			       .thread = "/a b?c",
			       .answer = a,
			       .api = "https://c.example/api/v1/",
			       .honeypot = "hp\"x",
			       .fragment = true,
			       .framed = true,
			       .focus = 1};
	char *h = render(&p);

	ok(h && strncmp(h, "<section class=\"cd-root cd-wrap\"", 32) == 0 && !has(h, "<html"),
	   "a fragment is only the section");
	ok(has(h, "<h2 class=\"cd-count\" id=\"cd-count\">3 Kommentare</h2>"),
	   "its heading is h2, in German");
	ok(has(h, "action=\"https://c.example/api/v1/comments\""), "its form posts to commentd");
	ok(has(h, "href=\"https://c.example/api/v1/comments?thread=/a%20b%3Fc&amp;format=html&amp;"
		  "lang=de&amp;frame=1&amp;site=notes&amp;comment=1&amp;reply=1#cd-form\""),
	   "its links lead to the page on commentd, the path encoded");
	ok(has(h, ">Alle Kommentare</a>"), "one conversation links to all comments");
	ok(has(h, "rel=\"nofollow ugc noopener\" target=\"_top\">"),
	   "framed: links out open on top");
	ok(has(h, "name=\"frame\" value=\"1\""), "framed: the form keeps the frame");
	ok(has(h, "<input type=\"hidden\" name=\"site\" value=\"notes\">"),
	   "the form names the site");
	ok(has(h, "name=\"hp&quot;x\""), "the honeypot's name is escaped");
	ok(has(h, "href=\"https://c.example/api/v1/../../privacy?lang=de&amp;site=notes\" "
		  "target=\"_top\""),
	   "the privacy link from the fragment");
	free(h);

	p.lang = LANG_EN;
	p.fragment = false;
	p.framed = false;
	p.focus = 0;
	p.api = "";
	h = render(&p);
	ok(has(h, "<body class=\"cd-page\">") && has(h, "<title>Comments on /a b?c</title>"),
	   "English");
	ok(has(h, "12 Jan 2011 09:30 UTC") && has(h, ">Post comment</button>"), "English strings");
	free(h);
}

static void test_location(void)
{
	char *l = threadpage_location("/a b", NULL, LANG_NL, false, 12, true, false, NULL);
	is_str(l, "comments?thread=/a%20b&format=html&lang=nl&comment=12#comment-12",
	       "published: the comment in its conversation");
	free(l);
	l = threadpage_location("/p", "notes", LANG_DE, true, 12, false, false,
				"https://blog.example.nl/p#x");
	is_str(l,
	       "comments?thread=/p&format=html&lang=de&frame=1&site=notes&back=https%3A//"
	       "blog.example.nl/p%23x&held=1#cd-notice",
	       "held: the notice, framed, with a way back");
	ok(l && !strpbrk(l, "\r\n \""), "safe for a Location header");
	free(l);
	l = threadpage_location("/p", NULL, LANG_EN, false, 12, true, true, NULL);
	is_str(l, "comments?thread=/p&format=html&lang=en&mail=1&comment=12#comment-12",
	       "published, notifications asked: the comment with the mail notice");
	free(l);
	l = threadpage_location("/p", NULL, LANG_EN, false, 12, false, true, NULL);
	is_str(l, "comments?thread=/p&format=html&lang=en&mail=1&held=1#cd-notice",
	       "held, notifications asked: both notices");
	free(l);
}

int main(void)
{
	json_t *a = answer();

	test_page(a);
	test_forms(a);
	test_notify(a);
	test_mail_notice(a);
	test_location();
	json_decref(a);
	return done_testing();
}
