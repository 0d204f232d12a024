#include "threadpage.h"

#include "markup.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct strings {
	const char *zero, *one, *other; /* {0}: the count */
	const char *title;		/* {0}: the path */
	const char *write, *reply_to, *cancel, *reply, *reply_label;
	const char *name, *email, *email_note, *website, *text, *text_note, *hp, *submit;
	const char *held, *deleted, *more, *all, *back, *in_reply_to, *likes, *feed;
	const char *notice, *notice_link, *author_badge, *notify;
	const char *check_mail; /* after a post that asked for reply notifications */
	const char *months[12];
};

static const struct strings nl = {
    "Nog geen reacties",
    "1 reactie",
    "{0} reacties",
    "Reacties op {0}",
    "Schrijf een reactie",
    "Reactie op {0}",
    "Annuleer",
    "Reageer",
    "Reageer op {0}",
    "Naam",
    "E-mail",
    "Wordt niet gepubliceerd.",
    "Website (niet verplicht)",
    "Reactie",
    "Je kunt *cursief*, **vet**, `code`, lijsten, citaten (&gt;) en links gebruiken.",
    "Laat dit veld leeg",
    "Plaats reactie",
    "Je reactie wacht op goedkeuring. Ze verschijnt hier zodra een moderator haar goedkeurt.",
    "Deze reactie is verwijderd.",
    "Meer reacties",
    "Alle reacties",
    "Terug naar het artikel",
    "in reactie op",
    "Leuk: {0}",
    "Reacties als feed",
    "Deze site filtert spam met commentd, op de eigen server.",
    "Bekijk hoe je reactie-gegevens worden verwerkt.",
    "Auteur",
    "Mail me als iemand hierop antwoordt (eerst bevestigen per mail)",
    "Kijk in je mail om de berichten te bevestigen.",
    {"jan.", "feb.", "mrt.", "apr.", "mei", "jun.", "jul.", "aug.", "sep.", "okt.", "nov.", "dec."},
};

static const struct strings en = {
    "No comments yet",
    "1 comment",
    "{0} comments",
    "Comments on {0}",
    "Write a comment",
    "Replying to {0}",
    "Cancel",
    "Reply",
    "Reply to {0}",
    "Name",
    "E-mail",
    "Will not be published.",
    "Website (optional)",
    "Comment",
    "You can use *italics*, **bold**, `code`, lists, quotes (&gt;) and links.",
    "Leave this field empty",
    "Post comment",
    "Your comment is awaiting moderation. It appears here once a moderator approves it.",
    "This comment was deleted.",
    "More comments",
    "All comments",
    "Back to the article",
    "in reply to",
    "Likes: {0}",
    "Comments as a feed",
    "This site filters spam with commentd, on its own server.",
    "Learn how your comment data is processed.",
    "Author",
    "E-mail me replies to this (confirm by e-mail first)",
    "Check your e-mail to confirm the notifications.",
    {"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"},
};

static const struct strings de = {
    "Noch keine Kommentare",
    "1 Kommentar",
    "{0} Kommentare",
    "Kommentare zu {0}",
    "Schreibe einen Kommentar",
    "Antwort an {0}",
    "Abbrechen",
    "Antworten",
    "Antworten an {0}",
    "Name",
    "E-Mail",
    "Wird nicht veröffentlicht.",
    "Website (freiwillig)",
    "Kommentar",
    "Du kannst *kursiv*, **fett**, `Code`, Listen, Zitate (&gt;) und Links verwenden.",
    "Dieses Feld leer lassen",
    "Kommentar senden",
    "Dein Kommentar wartet auf Freigabe. Er erscheint hier, sobald ein Moderator ihn freigibt.",
    "Dieser Kommentar wurde gelöscht.",
    "Weitere Kommentare",
    "Alle Kommentare",
    "Zurück zum Artikel",
    "als Antwort auf",
    "Gefällt: {0}",
    "Kommentare als Feed",
    "Diese Website filtert Spam mit commentd auf dem eigenen Server.",
    "Erfahre, wie deine Kommentardaten verarbeitet werden.",
    "Autor",
    "Antworten hierauf per E-Mail (erst per E-Mail bestätigen)",
    "Sieh in deine E-Mail, um die Benachrichtigungen zu bestätigen.",
    {"Jan.", "Feb.", "März", "Apr.", "Mai", "Juni", "Juli", "Aug.", "Sept.", "Okt.", "Nov.",
     "Dez."},
};

static const struct strings *const tables[] = {[LANG_EN] = &en, [LANG_NL] = &nl, [LANG_DE] = &de};

struct ctx {
	const struct threadpage *p;
	const struct strings *s;
	struct markup m;
	const char *reply_author; /* the author the form answers, when found */
};

static const char *str_member(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

static int64_t int_member(const json_t *o, const char *key)
{
	return (int64_t)json_integer_value(json_object_get(o, key));
}

static void number(struct markup *m, const char *tmpl, long long n)
{
	char num[24];
	const char *args[] = {num};

	snprintf(num, sizeof(num), "%lld", n);
	markup_template(m, tmpl, args, 1);
}

/* An address of the API: api + what (what is trusted markup). */
static void api_link(struct ctx *x, const char *what)
{
	markup_text(&x->m, x->p->api);
	markup_raw(&x->m, what);
}

/* "&amp;site=<id>" when the page names its site. */
static void site_arg(struct ctx *x)
{
	if (!x->p->site)
		return;
	markup_raw(&x->m, "&amp;site=");
	markup_query_value(&x->m, x->p->site);
}

/* A link to this page with other arguments: the thread, lang and frame
 * carry over (attribute text; the caller adds "&amp;..." arguments).  A
 * fragment's links lead to the page on commentd. */
static void page_link(struct ctx *x)
{
	const struct threadpage *p = x->p;

	if (p->fragment)
		api_link(x, "comments");
	markup_raw(&x->m, "?thread=");
	markup_query_value(&x->m, p->thread);
	markup_raw(&x->m, "&amp;format=html&amp;lang=");
	markup_raw(&x->m, lang_code(p->lang));
	if (p->framed)
		markup_raw(&x->m, "&amp;frame=1");
	site_arg(x);
}

/* "12 jan. 2011 09:30 UTC" */
static void date_text(struct ctx *x, const char *iso)
{
	struct tm tm = {0};
	char when[64];

	if (!iso || !strptime(iso, "%Y-%m-%dT%H:%M:%SZ", &tm) || tm.tm_mon < 0 || tm.tm_mon > 11) {
		markup_text(&x->m, iso);
		return;
	}
	snprintf(when, sizeof(when), "%d %s %d %02d:%02d UTC", tm.tm_mday, x->s->months[tm.tm_mon],
		 tm.tm_year + 1900, tm.tm_hour, tm.tm_min);
	markup_text(&x->m, when);
}

static void comment_header(struct ctx *x, const json_t *c, int64_t id)
{
	const char *author = str_member(c, "author"), *url = str_member(c, "url");
	const char *created = str_member(c, "created");
	struct markup *m = &x->m;

	markup_raw(m, "<header class=\"cd-h\"><span class=\"cd-a\" id=\"cd-a-");
	markup_int(m, id);
	markup_raw(m, "\">");
	if (url && (strncmp(url, "https://", 8) == 0 || strncmp(url, "http://", 7) == 0)) {
		markup_raw(m, "<a href=\"");
		markup_text(m, url);
		markup_raw(m, x->p->framed ? "\" rel=\"nofollow ugc noopener\" target=\"_top\">"
					   : "\" rel=\"nofollow ugc noopener\">");
		markup_text(m, author);
		markup_raw(m, "</a>");
	} else {
		markup_text(m, author);
	}
	markup_raw(m, "</span>");
	if (json_is_true(json_object_get(c, "author_badge"))) {
		markup_raw(m, " <span class=\"cd-badge cd-own\">");
		markup_raw(m, x->s->author_badge);
		markup_raw(m, "</span>");
	}
	markup_raw(m, " <a class=\"cd-t\" href=\"#comment-");
	markup_int(m, id);
	markup_raw(m, "\"><time datetime=\"");
	markup_text(m, created);
	markup_raw(m, "\">");
	date_text(x, created);
	markup_raw(m, "</time></a></header>\n");
}

static void comment_actions(struct ctx *x, const json_t *c, int64_t id)
{
	const char *author = str_member(c, "author");
	const char *args[] = {author ? author : ""};
	struct markup *m = &x->m;
	int64_t likes = int_member(c, "likes");

	markup_raw(m, "<div class=\"cd-acts\"><a class=\"cd-link\" href=\"");
	page_link(x);
	if (x->p->focus) {
		markup_raw(m, "&amp;comment=");
		markup_int(m, x->p->focus);
	}
	markup_raw(m, "&amp;reply=");
	markup_int(m, id);
	markup_raw(m, "#cd-form\" aria-label=\"");
	markup_template(m, x->s->reply_label, args, 1);
	markup_raw(m, "\">");
	markup_raw(m, x->s->reply);
	markup_raw(m, "</a>");
	if (x->p->likes && likes > 0) {
		markup_raw(m, " <span class=\"cd-likes\">");
		number(m, x->s->likes, likes);
		markup_raw(m, "</span>");
	}
	markup_raw(m, "</div>\n");
}

static void comment_tree(struct ctx *x, const json_t *list, bool top);

static void comment_item(struct ctx *x, const json_t *c, bool top)
{
	int64_t id = int_member(c, "id"), parent = int_member(c, "parent");
	struct markup *m = &x->m;

	if (id == x->p->reply_to)
		x->reply_author = str_member(c, "author");
	markup_raw(m, "<li class=\"cd-item\"><article class=\"cd-c\" id=\"comment-");
	markup_int(m, id);
	markup_raw(m, "\" aria-labelledby=\"cd-a-");
	markup_int(m, id);
	markup_raw(m, "\">\n");
	if (json_is_true(json_object_get(c, "deleted"))) {
		markup_raw(m, "<p class=\"cd-gone\" id=\"cd-a-");
		markup_int(m, id);
		markup_raw(m, "\">");
		markup_raw(m, x->s->deleted);
		markup_raw(m, "</p>\n");
	} else {
		comment_header(x, c, id);
		if (top && parent) {
			/* A reply whose parent is on an earlier page. */
			markup_raw(m, "<p class=\"cd-parent\"><a href=\"#comment-");
			markup_int(m, parent);
			markup_raw(m, "\">");
			markup_raw(m, x->s->in_reply_to);
			markup_raw(m, " #");
			markup_int(m, parent);
			markup_raw(m, "</a></p>\n");
		}
		/* html was rendered by lib/render from the safe Markdown subset. */
		markup_raw(m, "<div class=\"cd-body\">");
		markup_raw(m, str_member(c, "html"));
		markup_raw(m, "</div>\n");
		comment_actions(x, c, id);
	}
	markup_raw(m, "</article>\n");
	comment_tree(x, json_object_get(c, "replies"), false);
	markup_raw(m, "</li>\n");
}

/* The comments of list, nested (depth is bounded by max_depth). */
static void comment_tree(struct ctx *x, const json_t *list, bool top)
{
	size_t i;
	json_t *c;

	if (!top && json_array_size(list) == 0)
		return;
	markup_raw(&x->m, top ? "<ol class=\"cd-list\" aria-labelledby=\"cd-count\">\n"
			      : "<ol class=\"cd-list cd-replies\">\n");
	json_array_foreach(list, i, c) comment_item(x, c, top);
	markup_raw(&x->m, "</ol>\n");
}

static void field(struct ctx *x, const char *id, const char *label, const char *input,
		  const char *note)
{
	struct markup *m = &x->m;

	markup_raw(m, "<div class=\"cd-f\"><label for=\"");
	markup_raw(m, id);
	markup_raw(m, "\">");
	markup_raw(m, label);
	markup_raw(m, "</label>");
	markup_raw(m, input);
	if (note) {
		markup_raw(m, "<small id=\"");
		markup_raw(m, id);
		markup_raw(m, "-note\">");
		markup_raw(m, note);
		markup_raw(m, "</small>");
	}
	markup_raw(m, "</div>\n");
}

static void hidden(struct markup *m, const char *name, const char *value)
{
	markup_raw(m, "<input type=\"hidden\" name=\"");
	markup_raw(m, name);
	markup_raw(m, "\" value=\"");
	markup_text(m, value);
	markup_raw(m, "\">\n");
}

static void form_heading(struct ctx *x)
{
	const char *args[] = {x->reply_author};
	struct markup *m = &x->m;

	markup_raw(m, "<h2 class=\"cd-formtitle\" id=\"cd-form-title\">");
	if (x->reply_author) {
		markup_template(m, x->s->reply_to, args, 1);
		markup_raw(m, "</h2>\n<p class=\"cd-replying\"><a class=\"cd-link\" href=\"");
		page_link(x);
		markup_raw(m, "#cd-form\">");
		markup_raw(m, x->s->cancel);
		markup_raw(m, "</a></p>\n");
	} else {
		markup_raw(m, x->s->write);
		markup_raw(m, "</h2>\n");
	}
}

static void notice(struct ctx *x)
{
	struct markup *m = &x->m;

	markup_raw(m, "<p class=\"cd-notice\">");
	markup_raw(m, x->s->notice);
	markup_raw(m, " <a href=\"");
	if (x->p->privacy && *x->p->privacy) {
		markup_text(m, x->p->privacy);
	} else {
		api_link(x, "../../privacy?lang=");
		markup_raw(m, lang_code(x->p->lang));
		site_arg(x);
	}
	markup_raw(m, x->p->framed ? "\" target=\"_top\">" : "\">");
	markup_raw(m, x->s->notice_link);
	markup_raw(m, "</a></p>\n");
}

static void reply_form(struct ctx *x)
{
	const struct threadpage *p = x->p;
	struct markup *m = &x->m;
	char parent[24] = "";

	if (x->reply_author)
		snprintf(parent, sizeof(parent), "%lld", (long long)p->reply_to);
	markup_raw(m, "<form class=\"cd-form\" id=\"cd-form\" method=\"post\" action=\"");
	api_link(x, "comments");
	markup_raw(m, "\" aria-labelledby=\"cd-form-title\">\n");
	form_heading(x);
	hidden(m, "thread", p->thread);
	hidden(m, "parent", parent);
	hidden(m, "stamp", p->stamp ? p->stamp : "");
	hidden(m, "format", "html");
	hidden(m, "lang", lang_code(p->lang));
	if (p->site)
		hidden(m, "site", p->site);
	if (p->framed)
		hidden(m, "frame", "1");
	field(x, "cd-text", x->s->text,
	      "<textarea id=\"cd-text\" name=\"text\" required rows=\"5\" "
	      "aria-describedby=\"cd-text-note\"></textarea>",
	      x->s->text_note);
	field(x, "cd-author", x->s->name,
	      "<input id=\"cd-author\" name=\"author\" required autocomplete=\"name\" "
	      "maxlength=\"100\">",
	      NULL);
	field(
	    x, "cd-email", x->s->email,
	    "<input id=\"cd-email\" name=\"email\" type=\"email\" required autocomplete=\"email\" "
	    "maxlength=\"254\" aria-describedby=\"cd-email-note\">",
	    x->s->email_note);
	field(x, "cd-url", x->s->website,
	      "<input id=\"cd-url\" name=\"url\" type=\"url\" autocomplete=\"url\">", NULL);
	markup_raw(m, "<div class=\"cd-hp\" hidden aria-hidden=\"true\"><label for=\"cd-hp\">");
	markup_raw(m, x->s->hp);
	markup_raw(m, "</label><input id=\"cd-hp\" name=\"");
	markup_text(m, p->honeypot);
	markup_raw(m, "\" tabindex=\"-1\" autocomplete=\"off\"></div>\n");
	if (p->notify) {
		markup_raw(m,
			   "<div class=\"cd-f cd-check\"><input id=\"cd-notify\" name=\"notify\" "
			   "type=\"checkbox\" value=\"1\"><label for=\"cd-notify\">");
		markup_raw(m, x->s->notify);
		markup_raw(m, "</label></div>\n");
	}
	markup_raw(m, "<div class=\"cd-submit\"><button class=\"cd-btn\" type=\"submit\">");
	markup_raw(m, x->s->submit);
	markup_raw(m, "</button></div>\n");
	notice(x);
	markup_raw(m, "</form>\n");
}

static void count_heading(struct ctx *x)
{
	long long n = (long long)int_member(x->p->answer, "count");
	const char *tag = x->p->fragment ? "h2" : "h1";
	struct markup *m = &x->m;

	markup_raw(m, "<");
	markup_raw(m, tag);
	markup_raw(m, " class=\"cd-count\" id=\"cd-count\">");
	number(m, n == 0 ? x->s->zero : n == 1 ? x->s->one : x->s->other, n);
	markup_raw(m, "</");
	markup_raw(m, tag);
	markup_raw(m, ">\n");
}

/* The links below the list: the next page, all comments (from one
 * conversation), the feed, back to the article. */
static void list_links(struct ctx *x)
{
	const struct threadpage *p = x->p;
	struct markup *m = &x->m;

	markup_raw(m, "<p class=\"cd-nav\">");
	if (p->next || p->focus) {
		markup_raw(m, "<a class=\"cd-more\" href=\"");
		page_link(x);
		if (p->next) {
			markup_raw(m, "&amp;");
			markup_text(m, p->next);
		}
		markup_raw(m, "\">");
		markup_raw(m, p->next ? x->s->more : x->s->all);
		markup_raw(m, "</a> ");
	}
	markup_raw(m, "<a class=\"cd-feed\" href=\"");
	api_link(x, "feed?thread=");
	markup_query_value(m, p->thread);
	markup_raw(m, "&amp;lang=");
	markup_raw(m, lang_code(p->lang));
	site_arg(x);
	markup_raw(m, p->framed ? "\" type=\"application/atom+xml\" target=\"_top\">"
				: "\" type=\"application/atom+xml\">");
	markup_raw(m, x->s->feed);
	markup_raw(m, "</a>");
	if (p->back) {
		markup_raw(m, " <a href=\"");
		markup_text(m, p->back);
		markup_raw(m, p->framed ? "\" target=\"_top\">" : "\">");
		markup_raw(m, x->s->back);
		markup_raw(m, "</a>");
	}
	markup_raw(m, "</p>\n");
}

static void section(struct ctx *x)
{
	struct markup *m = &x->m;

	markup_raw(m, "<section class=\"cd-root cd-wrap\" aria-labelledby=\"cd-count\">\n");
	if (x->p->held || x->p->mail) {
		markup_raw(m, x->p->held ? "<p class=\"cd-status cd-held-notice\""
					 : "<p class=\"cd-status\"");
		markup_raw(m, " id=\"cd-notice\" role=\"status\">");
		markup_raw(m, x->p->held ? x->s->held : "");
		markup_raw(m, x->p->held && x->p->mail ? " " : "");
		markup_raw(m, x->p->mail ? x->s->check_mail : "");
		markup_raw(m, "</p>\n");
	}
	count_heading(x);
	comment_tree(x, json_object_get(x->p->answer, "comments"), true);
	list_links(x);
	reply_form(x);
	markup_raw(m, "</section>\n");
}

static void document_head(struct ctx *x)
{
	const char *args[] = {x->p->thread};
	struct markup *m = &x->m;

	markup_raw(m, "<!doctype html>\n<html lang=\"");
	markup_raw(m, lang_code(x->p->lang));
	markup_raw(m, "\">\n<head>\n<meta charset=\"utf-8\">\n"
		      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
		      "<title>");
	markup_template(m, x->s->title, args, 1);
	markup_raw(m, "</title>\n<link rel=\"stylesheet\" href=\"");
	api_link(x, "../../page.css");
	markup_raw(m, "\">\n<link rel=\"stylesheet\" href=\"");
	api_link(x, "../../embed.css");
	markup_raw(m, "\">\n<link rel=\"alternate\" type=\"application/atom+xml\" href=\"");
	api_link(x, "feed?thread=");
	markup_query_value(m, x->p->thread);
	site_arg(x);
	markup_raw(m, "\">\n</head>\n<body class=\"cd-page");
	markup_raw(m, x->p->framed ? " cd-framed\">\n<main>\n" : "\">\n<main>\n");
}

int threadpage_html(const struct threadpage *p, char **out)
{
	struct ctx x = {.p = p, .s = tables[p->lang]};
	int err;

	markup_init(&x.m, THREADPAGE_MAX);
	if (!p->fragment)
		document_head(&x);
	section(&x);
	if (!p->fragment)
		markup_raw(&x.m, "</main>\n</body>\n</html>\n");
	*out = markup_finish(&x.m, &err);
	return *out ? 0 : err < 0 ? err : -E2BIG;
}

char *threadpage_location(const char *thread, const char *site, enum lang lang, bool framed,
			  int64_t id, bool published, bool mail, const char *back)
{
	struct markup m;
	char *loc;
	int err;

	markup_init(&m, 16384);
	markup_raw(&m, "comments?thread=");
	markup_query_value(&m, thread);
	markup_raw(&m, "&format=html&lang=");
	markup_raw(&m, lang_code(lang));
	if (framed)
		markup_raw(&m, "&frame=1");
	if (site) {
		markup_raw(&m, "&site=");
		markup_query_value(&m, site);
	}
	if (back) {
		markup_raw(&m, "&back=");
		markup_query_value(&m, back);
	}
	if (mail)
		markup_raw(&m, "&mail=1");
	if (published) {
		markup_raw(&m, "&comment=");
		markup_int(&m, id);
		markup_raw(&m, "#comment-");
		markup_int(&m, id);
	} else {
		markup_raw(&m, "&held=1#cd-notice");
	}
	loc = markup_finish(&m, &err);
	return loc;
}
