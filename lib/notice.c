#include "notice.h"

#include "render.h"
#include "text.h"
#include "timefmt.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Every sentence of every notice, per language.  Each "%s" in a sentence
 * takes the next argument named in the comment beside it (say()). */
struct words {
	const char *held_subject; /* author, thread */
	const char *held_intro;	  /* author, page */
	const char *approve, *spam, *del;
	const char *links_note;	    /* expiry date */
	const char *admin;	    /* the moderation page: */
	const char *digest_subject; /* n */
	const char *digest_intro;   /* n */
	const char *digest_item;    /* author, page */
	const char *reply_subject;  /* thread */
	const char *reply_intro;    /* author, page */
	const char *reply_read;	    /* link follows */
	const char *reply_why;
	const char *unsubscribe; /* link follows */
	const char *confirm_subject;
	const char *confirm_intro; /* page */
	const char *confirm_do;	   /* link follows */
	const char *confirm_not_you;
	const char *page_title[10];
	const char *page_text[10];
	const char *page_button[10];
	const char *by; /* "by" before the author's name on a page */
};

static const struct words en = {
    "Comment held for moderation: %s on %s",
    "%s wrote a comment on %s that waits for your decision:",
    "Approve:",
    "Mark as spam:",
    "Delete:",
    "Each link opens a page where you confirm; the links work once and expire on %s (UTC).",
    "All held comments:",
    "%s comments wait for moderation",
    "%s comments wait for your decision.",
    "%s on %s:",
    "New reply to your comment on %s",
    "%s replied to your comment on %s:",
    "Read it and answer:",
    "You get this e-mail because you asked to be told about replies to your comment.",
    "Stop these e-mails (one click):",
    "Please confirm: e-mail about replies to your comment",
    "Someone, hopefully you, asked to be told by e-mail about replies to a comment on %s.",
    "To confirm, open this link and press the button:",
    "If that was not you, ignore this e-mail: nothing more is sent, and the address is deleted "
    "within 7 days.",
    {"Confirm reply notifications", "Reply notifications confirmed", "Stop reply notifications",
     "Unsubscribed", "Approve this comment?", "Mark this comment as spam?", "Delete this comment?",
     "Done", "This link does not work", "Already done"},
    {"Press the button to get an e-mail when someone replies to your comment.",
     "You will get an e-mail when someone replies to your comment. Every such e-mail has a "
     "link to stop.",
     "Press the button to stop the e-mails about replies to your comment. Your address is "
     "then deleted.",
     "You will get no more e-mails about replies to this comment, and the address is deleted.",
     "The comment is published when you press the button.",
     "The comment goes to the spam folder and the filter learns from it when you press the "
     "button.",
     "The comment is deleted when you press the button.", "It is done.",
     "The link is incomplete, has expired, or there is nothing left to do.",
     "This link was used already, or the comment was dealt with in the meantime."},
    {"Confirm", NULL, "Unsubscribe", NULL, "Approve", "Mark as spam", "Delete", NULL, NULL, NULL},
    "by",
};

static const struct words nl = {
    "Reactie wacht op goedkeuring: %s op %s",
    "%s schreef een reactie op %s die op je beslissing wacht:",
    "Goedkeuren:",
    "Markeren als spam:",
    "Verwijderen:",
    "Elke link opent een pagina waar je bevestigt; de links werken één keer en verlopen op %s "
    "(UTC).",
    "Alle wachtende reacties:",
    "%s reacties wachten op goedkeuring",
    "%s reacties wachten op je beslissing.",
    "%s op %s:",
    "Nieuwe reactie op je reactie op %s",
    "%s reageerde op je reactie op %s:",
    "Lees en reageer:",
    "Je krijgt deze e-mail omdat je vroeg om bericht bij reacties op je reactie.",
    "Geen e-mails meer (één klik):",
    "Graag bevestigen: e-mail bij reacties op je reactie",
    "Iemand, hopelijk jij, vroeg om een e-mail bij reacties op een reactie op %s.",
    "Open deze link en druk op de knop om te bevestigen:",
    "Was jij dat niet? Negeer deze e-mail dan: er komt niets meer, en het adres wordt binnen 7 "
    "dagen gewist.",
    {"Bericht bij reacties bevestigen", "Bevestigd", "Geen bericht meer bij reacties", "Afgemeld",
     "Deze reactie goedkeuren?", "Deze reactie als spam markeren?", "Deze reactie verwijderen?",
     "Gedaan", "Deze link werkt niet", "Al gedaan"},
    {"Druk op de knop om een e-mail te krijgen als iemand op je reactie reageert.",
     "Je krijgt een e-mail als iemand op je reactie reageert. Elke e-mail heeft een link om "
     "te stoppen.",
     "Druk op de knop om geen e-mails meer te krijgen over reacties op je reactie. Je adres "
     "wordt dan gewist.",
     "Je krijgt geen e-mails meer over reacties op deze reactie, en het adres is gewist.",
     "De reactie wordt gepubliceerd als je op de knop drukt.",
     "De reactie gaat naar de spammap en het filter leert ervan als je op de knop drukt.",
     "De reactie wordt verwijderd als je op de knop drukt.", "Het is gedaan.",
     "De link is onvolledig of verlopen, of er is niets meer te doen.",
     "Deze link is al gebruikt, of de reactie is intussen al afgehandeld."},
    {"Bevestigen", NULL, "Afmelden", NULL, "Goedkeuren", "Markeren als spam", "Verwijderen", NULL,
     NULL, NULL},
    "door",
};

static const struct words de = {
    "Kommentar wartet auf Freigabe: %s zu %s",
    "%s hat zu %s einen Kommentar geschrieben, der auf deine Entscheidung wartet:",
    "Freigeben:",
    "Als Spam markieren:",
    "Löschen:",
    "Jeder Link öffnet eine Seite, auf der du bestätigst; die Links gelten einmal und laufen am "
    "%s (UTC) ab.",
    "Alle wartenden Kommentare:",
    "%s Kommentare warten auf Freigabe",
    "%s Kommentare warten auf deine Entscheidung.",
    "%s zu %s:",
    "Neue Antwort auf deinen Kommentar zu %s",
    "%s hat auf deinen Kommentar zu %s geantwortet:",
    "Lesen und antworten:",
    "Du bekommst diese E-Mail, weil du um Nachricht bei Antworten auf deinen Kommentar gebeten "
    "hast.",
    "Keine E-Mails mehr (ein Klick):",
    "Bitte bestätigen: E-Mail bei Antworten auf deinen Kommentar",
    "Jemand, hoffentlich du, möchte per E-Mail von Antworten auf einen Kommentar zu %s erfahren.",
    "Zum Bestätigen öffne diesen Link und drücke den Knopf:",
    "Warst du das nicht? Dann ignoriere diese E-Mail: Es kommt nichts mehr, und die Adresse wird "
    "innerhalb von 7 Tagen gelöscht.",
    {"Nachricht bei Antworten bestätigen", "Bestätigt", "Keine Nachricht mehr bei Antworten",
     "Abgemeldet", "Diesen Kommentar freigeben?", "Diesen Kommentar als Spam markieren?",
     "Diesen Kommentar löschen?", "Erledigt", "Dieser Link funktioniert nicht", "Schon erledigt"},
    {"Drücke den Knopf, um eine E-Mail zu bekommen, wenn jemand auf deinen Kommentar antwortet.",
     "Du bekommst eine E-Mail, wenn jemand auf deinen Kommentar antwortet. Jede hat einen Link "
     "zum Abmelden.",
     "Drücke den Knopf, um keine E-Mails mehr über Antworten auf deinen Kommentar zu bekommen. "
     "Deine Adresse wird dann gelöscht.",
     "Du bekommst keine E-Mails mehr über Antworten auf diesen Kommentar, und die Adresse ist "
     "gelöscht.",
     "Der Kommentar wird veröffentlicht, wenn du den Knopf drückst.",
     "Der Kommentar kommt in den Spam-Ordner und der Filter lernt daraus, wenn du den Knopf "
     "drückst.",
     "Der Kommentar wird gelöscht, wenn du den Knopf drückst.", "Es ist erledigt.",
     "Der Link ist unvollständig oder abgelaufen, oder es gibt nichts mehr zu tun.",
     "Dieser Link wurde schon benutzt, oder der Kommentar wurde inzwischen bearbeitet."},
    {"Bestätigen", NULL, "Abmelden", NULL, "Freigeben", "Als Spam markieren", "Löschen", NULL, NULL,
     NULL},
    "von",
};

static const struct words *words_of(enum config_language lang)
{
	return lang == LANGUAGE_NL ? &nl : lang == LANGUAGE_DE ? &de : &en;
}

static const char html_lang[3][3] = {"en", "nl", "de"};

/* Appends sentence with each "%s" replaced by the next of a and b (a
 * sentence is data, never a printf format). */
static int say(struct buf *out, const char *sentence, const char *a, const char *b)
{
	const char *args[2] = {a, b}, *p = sentence, *hit;
	int r = 0;

	for (unsigned i = 0; r == 0 && (hit = strstr(p, "%s")); i++) {
		r = buf_append(out, p, (size_t)(hit - p));
		if (r == 0)
			r = buf_puts(out, i < 2 && args[i] ? args[i] : "");
		p = hit + 2;
	}
	return r ? r : buf_puts(out, p);
}

/* The page where a comment stands, or its thread's path. */
static const char *where(const struct notice_comment *cm)
{
	return cm->page && *cm->page ? cm->page : cm->thread;
}

int notice_excerpt(const char *text, struct buf *out)
{
	size_t chars = 0, i = 0;
	bool cut = false;
	int r = buf_puts(out, "> ");

	for (; r == 0 && text[i]; i++) {
		unsigned char ch = (unsigned char)text[i];
		if ((ch & 0xc0) != 0x80 && chars++ == NOTICE_EXCERPT_MAX) {
			cut = true;
			break;
		}
		if (ch == '\r')
			continue;
		r = ch == '\n' ? buf_puts(out, "\n> ") : buf_append(out, &text[i], 1);
	}
	if (r == 0)
		r = buf_puts(out, cut ? "…\n" : "\n");
	return r;
}

static int actions(const struct words *w, const struct notice_actions *act, struct buf *body)
{
	return buf_printf(body, "\n%s %s\n%s %s\n%s %s\n", w->approve, act->approve, w->spam,
			  act->spam, w->del, act->del);
}

static int links_note(const struct words *w, int64_t expires, struct buf *body)
{
	char when[TIMEFMT_RFC3339];

	timefmt_rfc3339(expires, when);
	when[10] = ' '; /* "2026-12-07 10:00:00Z" reads better */
	when[19] = '\0';
	return buf_puts(body, "\n") || say(body, w->links_note, when, NULL) || buf_puts(body, "\n")
		   ? -ENOMEM
		   : 0;
}

int notice_held(enum config_language lang, const struct notice_comment *cm,
		const struct notice_actions *act, const char *admin, struct buf *subject,
		struct buf *body)
{
	const struct words *w = words_of(lang);

	if (say(subject, w->held_subject, cm->author, cm->thread) ||
	    say(body, w->held_intro, cm->author, where(cm)) || buf_puts(body, "\n\n") ||
	    notice_excerpt(cm->text, body) || actions(w, act, body) ||
	    links_note(w, act->expires, body) || buf_printf(body, "\n%s %s\n", w->admin, admin))
		return -ENOMEM;
	return 0;
}

int notice_digest_start(enum config_language lang, unsigned n, struct buf *subject,
			struct buf *body)
{
	const struct words *w = words_of(lang);
	char num[16];

	snprintf(num, sizeof(num), "%u", n);
	if (say(subject, w->digest_subject, num, NULL) || say(body, w->digest_intro, num, NULL) ||
	    buf_puts(body, "\n"))
		return -ENOMEM;
	return 0;
}

int notice_digest_item(enum config_language lang, const struct notice_comment *cm,
		       const struct notice_actions *act, struct buf *body)
{
	const struct words *w = words_of(lang);

	if (buf_puts(body, "\n---\n\n") || say(body, w->digest_item, cm->author, where(cm)) ||
	    buf_puts(body, "\n\n") || notice_excerpt(cm->text, body) || actions(w, act, body))
		return -ENOMEM;
	return 0;
}

int notice_digest_end(enum config_language lang, const char *admin, struct buf *body)
{
	const struct words *w = words_of(lang);

	if (buf_printf(body, "\n---\n\n%s %s\n", w->admin, admin))
		return -ENOMEM;
	return 0;
}

int notice_reply(enum config_language lang, const struct notice_comment *cm,
		 const char *unsubscribe, struct buf *subject, struct buf *body)
{
	const struct words *w = words_of(lang);

	if (say(subject, w->reply_subject, cm->thread, NULL) ||
	    say(body, w->reply_intro, cm->author, where(cm)) || buf_puts(body, "\n\n") ||
	    notice_excerpt(cm->text, body) ||
	    buf_printf(body, "\n%s %s#comment-%lld\n\n-- \n%s\n%s %s\n", w->reply_read, where(cm),
		       (long long)cm->id, w->reply_why, w->unsubscribe, unsubscribe))
		return -ENOMEM;
	return 0;
}

int notice_confirm(enum config_language lang, const char *page, const char *confirm,
		   const char *unsubscribe, struct buf *subject, struct buf *body)
{
	const struct words *w = words_of(lang);

	if (buf_puts(subject, w->confirm_subject) || say(body, w->confirm_intro, page, NULL) ||
	    buf_printf(body, "\n\n%s\n%s\n\n%s\n\n-- \n%s %s\n", w->confirm_do, confirm,
		       w->confirm_not_you, w->unsubscribe, unsubscribe))
		return -ENOMEM;
	return 0;
}

/* Appends s HTML-escaped. */
static int escaped(struct buf *b, const char *s)
{
	char *e = render_escape(s, strlen(s));
	int r;

	if (!e)
		return -ENOMEM;
	r = buf_puts(b, e);
	free(e);
	return r;
}

static int page_comment(struct buf *b, const struct words *w, const struct notice_comment *cm)
{
	struct buf ex;
	int r;

	buf_init(&ex, 4096);
	r = notice_excerpt(cm->text, &ex);
	if (r == 0)
		r = buf_puts(b, "<figure><blockquote><p>");
	/* The excerpt without its "> " marks: those are for mail. */
	for (char *line = ex.data; r == 0 && line && *line;) {
		char *eol = strchr(line, '\n');
		if (eol)
			*eol = '\0';
		r = escaped(b, line[0] == '>' ? line + (line[1] == ' ' ? 2 : 1) : line);
		if (r == 0 && eol && eol[1])
			r = buf_puts(b, "<br>");
		line = eol ? eol + 1 : NULL;
	}
	if (r == 0)
		r = buf_printf(b, "</p></blockquote><figcaption>%s ", w->by);
	if (r == 0)
		r = escaped(b, cm->author);
	if (r == 0)
		r = buf_puts(b, ", ");
	if (r == 0)
		r = escaped(b, where(cm));
	if (r == 0)
		r = buf_puts(b, "</figcaption></figure>\n");
	buf_free(&ex);
	return r;
}

int notice_page_html(enum config_language lang, enum notice_page page, const char *token,
		     const struct notice_comment *cm, char **out)
{
	const struct words *w = words_of(lang);
	struct buf b;
	int r;

	buf_init(&b, 64 * 1024);
	r = buf_printf(&b,
		       "<!doctype html>\n<html lang=\"%s\"><head><meta charset=\"utf-8\">"
		       "<meta name=\"viewport\" content=\"width=device-width\">"
		       "<meta name=\"robots\" content=\"noindex\">"
		       "<title>%s</title></head>\n<body><main>\n<h1>%s</h1>\n<p>%s</p>\n",
		       html_lang[lang], w->page_title[page], w->page_title[page],
		       w->page_text[page]);
	if (r == 0 && cm)
		r = page_comment(&b, w, cm);
	if (r == 0 && token && w->page_button[page]) {
		r = buf_puts(&b,
			     "<form method=\"post\"><input type=\"hidden\" name=\"t\" value=\"");
		if (r == 0)
			r = escaped(&b, token);
		if (r == 0)
			r = buf_printf(&b, "\"><button type=\"submit\">%s</button></form>\n",
				       w->page_button[page]);
	}
	if (r == 0)
		r = buf_puts(&b, "</main></body></html>\n");
	if (r != 0) {
		buf_free(&b);
		return -ENOMEM;
	}
	*out = buf_steal(&b);
	return *out ? 0 : -ENOMEM;
}
