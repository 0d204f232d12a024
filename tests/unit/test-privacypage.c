/* Unit tests for lib/privacypage: the page follows the configuration (each
 * retention value, likes, the edit window, backups, moderation, erasure,
 * the contact, notifications), in each language, with nothing left
 * unfilled. */
#include "tap.h"

#include "privacypage.h"
#include "text.h"

#include <stdlib.h>
#include <string.h>

static struct config *cfg;

static char *page(enum lang l, const char *site)
{
	char *out = NULL;

	if (privacy_page(cfg, site, l, &out) != 0)
		diag("privacy_page failed");
	return out;
}

static void set(const char *name, const char *value)
{
	char err[CONFIG_ERR_MAX];

	if (config_set(cfg, name, value, err) != 0 || config_check(cfg, err) != 0)
		diag("%s = %s: %s", name, value, err);
}

static bool has(const char *hay, const char *needle)
{
	return hay && strstr(hay, needle);
}

static void test_languages(void)
{
	static const struct {
		enum lang l;
		const char *lang_attr, *title, *ip_days;
	} want[] = {
	    {LANG_NL, "<html lang=\"nl\">", "Hoe je reactie-gegevens worden verwerkt", "30 dagen"},
	    {LANG_EN, "<html lang=\"en\">", "How your comment data is processed", "30 days"},
	    {LANG_DE, "<html lang=\"de\">", "Wie deine Kommentardaten verarbeitet werden",
	     "30 Tage"},
	};

	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		char *p = page(want[i].l, "https://blog.example.nl");
		ok(has(p, want[i].lang_attr) && has(p, want[i].title), "%s: the language and title",
		   want[i].lang_attr);
		ok(has(p, want[i].ip_days), "  the addresses' retention (%s)", want[i].ip_days);
		ok(has(p, "blog.example.nl"), "  names the site");
		ok(has(p, "15 ") && has(p, "BLAKE2b"), "  spam retention and the e-mail hash");
		ok(!has(p, "{0}") && !has(p, "{1}"), "  nothing left unfilled");
		ok(p && text_utf8_valid(p, strlen(p), NULL), "  valid UTF-8");
		ok(has(p, "<link rel=\"stylesheet\" href=\"page.css\">") && !has(p, "<script") &&
		       !has(p, "style="),
		   "  only page.css, no script, no inline style");
		free(p);
	}
}

static void test_settings(void)
{
	char *p;

	set("ip_retention_days", "7");
	set("spam_retention_days", "3");
	set("edit_window", "300");
	p = page(LANG_EN, NULL);
	ok(has(p, "<td>7 days</td>"), "ip_retention_days = 7 shows");
	ok(has(p, "deleted after 3 days"), "spam_retention_days = 3 shows");
	ok(has(p, "for 5 minutes"), "edit_window = 300 shows as 5 minutes");
	ok(has(p, "Comments on this site"), "without an origin: this site");
	ok(has(p, "A like") && has(p, "the owner of this site"), "likes on; no contact: the owner");
	ok(!has(p, "backup"), "no backups: not mentioned");
	ok(has(p, "appears at once"), "moderation none");
	ok(has(p, "empty placeholder"), "erase = delete");
	free(p);

	set("likes", "off");
	set("edit_window", "0");
	set("backup_dir", "/var/lib/commentd/backups");
	set("backup_keep", "14");
	set("moderation", "all");
	set("erase", "anonymise");
	set("privacy_contact", "privacy@example.nl");
	p = page(LANG_EN, NULL);
	ok(!has(p, "A like"), "likes off: no like row");
	ok(!has(p, "An edit code"), "edit_window 0: no edit code row");
	ok(has(p, "keeps the last 14") && has(p, "after 14 days"), "backups: backup_keep shows");
	ok(has(p, "Every comment waits for a moderator."), "moderation all");
	ok(has(p, "stay as &#8216;Anonymous&#8217;"), "erase = anonymise");
	ok(has(p, "Ask <a href=\"mailto:privacy@example.nl\">privacy@example.nl</a> for a copy"),
	   "an address as contact: a mailto link");
	free(p);

	set("moderation", "first");
	set("privacy_contact", "https://blog.example.nl/contact?a=1&b=2");
	p = page(LANG_NL, NULL);
	ok(has(p, "Je eerste reactie wacht op een moderator"), "moderation first");
	ok(has(p, "Vraag <a href=\"https://blog.example.nl/contact?a=1&amp;b=2\">"),
	   "a web address as contact, escaped");
	free(p);
}

/* With mail and a webhook the page no longer says that nothing leaves the
 * server: it names what goes where. */
static void test_notifications(void)
{
	static const char *const nowhere[] = {"Nergens heen", "Nowhere:", "Nirgendwohin"};
	static const enum lang langs[] = {LANG_NL, LANG_EN, LANG_DE};
	char *p;

	set("public_url", "https://comments.example.nl");
	set("smtp_from", "Blog <comments@example.nl>");
	set("smtp_url", "smtp://127.0.0.1:25");
	set("notify_retention_days", "90");
	p = page(LANG_EN, NULL);
	ok(has(p, "only if you ask to be told of replies") && has(p, "at most 90 days"),
	   "smtp_url: the subscription row with notify_retention_days");
	ok(has(p, "through the site's mail server") && !has(p, "Moderators are mailed"),
	   "  mail to readers who ask; no moderators without notify_moderators");
	ok(!has(p, "Nowhere:") && has(p, "Nothing else leaves this server"),
	   "  no longer 'nowhere'");
	free(p);

	set("notify_moderators", "sjef@example.nl");
	set("webhook_secret", "0123456789abcdef0123");
	set("webhook_url", "https://hook:s3cret@chat.example.org/hooks/T0K3N?x=1");
	for (size_t i = 0; i < sizeof(langs) / sizeof(langs[0]); i++) {
		p = page(langs[i], NULL);
		ok(!has(p, nowhere[i]) && has(p, "chat.example.org") && !has(p, "T0K3N") &&
		       !has(p, "s3cret") && !has(p, "sjef@example.nl"),
		   "%s: the webhook by its host only, no moderator's address", nowhere[i]);
		ok(!has(p, "{0}") && p && text_utf8_valid(p, strlen(p), NULL), "  filled, UTF-8");
		free(p);
	}
	p = page(LANG_EN, NULL);
	ok(has(p, "Moderators are mailed about comments awaiting moderation"),
	   "notify_moderators: moderators' mails");
	free(p);
	set("webhook_url", "");
	set("notify_moderators", "");
	set("smtp_url", "");
	p = page(LANG_EN, NULL);
	ok(has(p, "Nowhere: everything stays on this server.") &&
	       !has(p, "only if you ask to be told of replies"),
	   "without them: nowhere again, no subscription row");
	free(p);
}

int main(void)
{
	if (config_new(&cfg) != 0)
		return 1;
	test_languages();
	test_settings();
	test_notifications();
	config_free(cfg);
	return done_testing();
}
