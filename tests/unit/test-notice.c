/* Unit tests for lib/notice: excerpts, the mails' words in three
 * languages, and the link pages (escaped, a POST form, no script). */
#include "tap.h"

#include "notice.h"

#include <stdlib.h>
#include <string.h>

int main(void)
{
	struct notice_comment cm = {7, "<b>Eve</b> & co", "Line one\nLine <two>", "/post",
				    "https://blog.example.org/post"};
	struct notice_actions act = {"https://c/a", "https://c/s", "https://c/d", 1800000000};
	struct buf s, b;
	char text[700], *html = NULL;
	size_t chars = 0;

	buf_init(&b, 8192);
	notice_excerpt("first\nsecond", &b);
	is_str(b.data, "> first\n> second\n", "an excerpt quotes each line");
	buf_free(&b);
	for (int i = 0; i < 350; i++)
		text[i] = 'a';
	memcpy(text + 299, "\xc3\xa9\xc3\xa9", 4); /* a cut inside two-byte characters */
	text[350] = '\0';
	buf_init(&b, 8192);
	notice_excerpt(text, &b);
	for (const char *p = b.data + 2; *p; p++)
		chars += ((unsigned char)*p & 0xc0) != 0x80;
	ok(strstr(b.data, "…\n") != NULL, "a long text is cut with an ellipsis");
	is_int(chars, 300 + 2, "after 300 characters (whole ones), then \"…\" and a newline");
	buf_free(&b);

	buf_init(&s, 4096);
	buf_init(&b, 65536);
	is_int(notice_held(LANGUAGE_EN, &cm, &act, "https://c/admin/", &s, &b), 0, "held mail");
	is_str(s.data, "Comment held for moderation: <b>Eve</b> & co on /post",
	       "its subject (plain text: no escaping in mail)");
	ok(strstr(b.data, "Approve: https://c/a\nMark as spam: https://c/s\nDelete: https://c/d") &&
	       strstr(b.data, "2027-01-15 08:00:00") && strstr(b.data, "> Line one\n> Line <two>"),
	   "its body: actions, expiry, excerpt");
	buf_free(&s);
	buf_free(&b);
	buf_init(&s, 4096);
	buf_init(&b, 65536);
	notice_reply(LANGUAGE_NL, &cm, "https://c/u", &s, &b);
	is_str(s.data, "Nieuwe reactie op je reactie op /post", "Dutch reply subject");
	ok(strstr(b.data, "https://blog.example.org/post#comment-7") &&
	       strstr(b.data, "Geen e-mails meer (één klik): https://c/u"),
	   "Dutch body with the reply's link and the unsubscribe link");
	buf_free(&s);
	buf_free(&b);
	buf_init(&s, 4096);
	buf_init(&b, 65536);
	notice_confirm(LANGUAGE_DE, "https://blog.example.org/post", "https://c/c", "https://c/u",
		       &s, &b);
	is_str(s.data, "Bitte bestätigen: E-Mail bei Antworten auf deinen Kommentar",
	       "German confirmation subject");
	ok(strstr(b.data, "https://c/c") && strstr(b.data, "https://c/u"), "both links");
	buf_free(&s);
	buf_free(&b);
	buf_init(&s, 4096);
	buf_init(&b, 65536);
	notice_digest_start(LANGUAGE_EN, 3, &s, &b);
	notice_digest_item(LANGUAGE_EN, &cm, &act, &b);
	notice_digest_end(LANGUAGE_EN, "https://c/admin/", &b);
	is_str(s.data, "3 comments wait for moderation", "digest subject");
	ok(strstr(b.data, "Approve: https://c/a") && strstr(b.data, "https://c/admin/"),
	   "digest body");
	buf_free(&s);
	buf_free(&b);

	is_int(notice_page_html(LANGUAGE_NL, NOTICE_PAGE_APPROVE, "tok\"en", &cm, &html), 0,
	       "a page");
	ok(strstr(html, "<html lang=\"nl\">") && strstr(html, "<form method=\"post\">") &&
	       strstr(html, "value=\"tok&quot;en\"") && strstr(html, ">Goedkeuren</button>"),
	   "in the site's language, with an escaped token and a POST button");
	ok(strstr(html, "&lt;b&gt;Eve&lt;/b&gt; &amp; co") && strstr(html, "Line &lt;two&gt;") &&
	       !strstr(html, "<b>") && !strstr(html, "<script"),
	   "the comment is escaped, and there is no script");
	free(html);
	notice_page_html(LANGUAGE_EN, NOTICE_PAGE_INVALID, "x", NULL, &html);
	ok(!strstr(html, "<form"), "a refusal page has no button");
	free(html);
	return done_testing();
}
