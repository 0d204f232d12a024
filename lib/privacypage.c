#include "privacypage.h"

#include "markup.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/* One row of the "what is kept" table: the data, how it is kept, whether
 * it is public, for how long ({0}: a number of days or minutes). */
struct row {
	const char *data, *how, *public, *kept;
};

enum row_id {
	ROW_NAME,
	ROW_WEBSITE,
	ROW_TEXT,
	ROW_EMAIL,
	ROW_IP,
	ROW_REFERRER,
	ROW_TIME,
	ROW_FEATURES,
	ROW_TOKEN,
	ROW_LIKE,
	ROW_SUBSCRIPTION,
	ROWS,
};

struct strings {
	const char *title, *intro, *this_site;
	const char *h_kept, *th_data, *th_how, *th_public, *th_kept, *with_comment, *days;
	struct row rows[ROWS];
	const char *spam, *mod_none, *mod_first, *mod_all, *backups;
	const char *h_where, *nothing_leaves;
	/* With notifications (smtp_url, notify_moderators, webhook_url). */
	const char *mail_replies, *mail_moderators, *webhook, *nothing_else;
	const char *h_browser, *browser;
	const char *h_rights, *rights, *owner, *erase_delete, *erase_anonymise;
	const char *made, *languages;
};

static const struct strings nl = {
    "Hoe je reactie-gegevens worden verwerkt",
    "Reacties op {0} lopen via commentd, een reactiesysteem dat de eigenaar van de site op de "
    "eigen server draait. Deze pagina is gemaakt uit de instellingen van die server: wat hier "
    "staat, is wat hij doet.",
    "deze site",
    "Wat er wordt bewaard",
    "Gegeven",
    "Hoe",
    "Openbaar",
    "Hoe lang",
    "zolang de reactie bestaat",
    "{0} dagen",
    {
	[ROW_NAME] = {"Je naam", "zoals je hem schrijft", "ja", NULL},
	[ROW_WEBSITE] = {"Je website", "zoals je hem schrijft", "ja, als link (nofollow ugc)",
			 NULL},
	[ROW_TEXT] = {"Je reactie", "zoals je hem schrijft, en als HTML",
		      "ja, zodra ze gepubliceerd is", NULL},
	[ROW_EMAIL] = {"Je e-mailadres",
		       "<strong>nooit als adres</strong>: alleen een hash met een geheime sleutel "
		       "(BLAKE2b) om je latere reacties te herkennen, en een andere hash voor je "
		       "avatar",
		       "nee (de avatar is niet aan de bewaarde hash te koppelen)", NULL},
	[ROW_IP] = {"Je IP-adres en browser (user agent)",
		    "zoals je browser ze stuurt, tegen spam en misbruik",
		    "nee; moderators zien alleen het netwerk (zoals 203.0.113.0/24)", "{0} dagen"},
	[ROW_REFERRER] = {"De pagina waarop je reageerde", "zoals je browser hem stuurt", "nee",
			  NULL},
	[ROW_TIME] = {"Het tijdstip", "datum en tijd (UTC)", "ja", NULL},
	[ROW_FEATURES] =
	    {"Kenmerken voor het spamfilter",
	     "hashes met een geheime sleutel van de woorden en signalen in je reactie, "
	     "nooit de tekst zelf",
	     "nee", NULL},
	[ROW_TOKEN] = {"Een bewerkcode",
		       "een hash van de code waarmee je browser je reactie {0} minuten lang kan "
		       "bewerken of verwijderen",
		       "nee", NULL},
	[ROW_LIKE] =
	    {"Een &#8216;leuk&#8217;",
	     "een hash met een geheime sleutel van je netwerkadres en de reactie (nooit het "
	     "adres), zodat ieder één keer telt",
	     "alleen het aantal", NULL},
	[ROW_SUBSCRIPTION] =
	    {"Je e-mailadres, <strong>alleen als je om berichten over antwoorden vraagt</strong>",
	     "versleuteld (met een sleutel die buiten de database staat), naast dezelfde hash; "
	     "alleen geopend om je een mail te sturen",
	     "nee",
	     "tot je je afmeldt (met de link in elke mail), 7 dagen als je niet bevestigt, en "
	     "hooguit {0} dagen"},
    },
    "Reacties die het spamfilter of een moderator als spam aanmerkt, worden verborgen en na {0} "
    "dagen verwijderd. Overduidelijke spam wordt helemaal niet bewaard.",
    "Een reactie die het spamfilter goedkeurt, verschijnt meteen; twijfelgevallen wachten op een "
    "moderator.",
    "Je eerste reactie wacht op een moderator; daarna verschijnen je reacties meteen als het "
    "spamfilter ze goedkeurt.",
    "Elke reactie wacht op een moderator.",
    "De server maakt elke dag een reservekopie en bewaart de laatste {0}. Wat je laat "
    "verwijderen, staat nog in de kopieën van daarvoor tot die na {0} dagen zijn opgeruimd.",
    "Waar je gegevens heen gaan",
    "Nergens heen: alles blijft op deze server. Het spamfilter draait hier zelf; er gaat niets "
    "naar Akismet, Gravatar of advertentie- en analysediensten. E-mail- en IP-adressen komen "
    "niet in de logbestanden.",
    "E-mail: vraag je om berichten over antwoorden, dan gaan de bevestiging en die berichten "
    "via de mailserver van de site naar je adres.",
    "Moderators krijgen een mail over reacties die op goedkeuring wachten, met de naam en de "
    "tekst, nooit je e-mailadres.",
    "Elke nieuwe reactie gaat ook naar {0}, een dienst die de eigenaar van de site voor "
    "meldingen gebruikt: je naam en de eerste 300 tekens van je reactie, nooit je e-mail- of "
    "IP-adres.",
    "Verder gaat er niets weg: het spamfilter draait hier zelf; er gaat niets naar Akismet, "
    "Gravatar of advertentie- en analysediensten. E-mail- en IP-adressen komen niet in de "
    "logbestanden.",
    "Wat je browser bewaart",
    "Het reactieformulier gebruikt geen cookies. In de localStorage van je browser bewaart het "
    "alleen de bewerkcode en tekst van je eigen reacties zolang je ze kunt bewerken (en van een "
    "reactie die op goedkeuring wacht), welke reacties je leuk vond en hoe je ze sorteert; je "
    "naam, e-mailadres en website alleen als je &#8216;Onthoud mij op dit apparaat&#8217; "
    "aanvinkt.",
    "Je rechten",
    "Vraag {0} om een kopie van je reacties of om ze te wissen, en noem het e-mailadres waarmee "
    "je reageerde. Dat adres dient alleen om je reacties via de hash te vinden en wordt niet "
    "bewaard.",
    "de eigenaar van deze site",
    "Wissen verwijdert je reacties, met wat het spamfilter ervan leerde; een reactie waarop "
    "anderen reageerden, blijft als lege plaatshouder staan.",
    "Op deze site blijven gewiste reacties staan als &#8216;Anonymous&#8217;, zonder website, "
    "IP-adres of e-mailhash.",
    "Gemaakt door commentd {0}.",
    "Taal",
};

static const struct strings en = {
    "How your comment data is processed",
    "Comments on {0} go through commentd, a comment system the site's owner runs on their own "
    "server. This page is written from that server's settings: what it says is what the server "
    "does.",
    "this site",
    "What is kept",
    "Data",
    "How",
    "Public",
    "For how long",
    "as long as the comment exists",
    "{0} days",
    {
	[ROW_NAME] = {"Your name", "as you write it", "yes", NULL},
	[ROW_WEBSITE] = {"Your website", "as you write it", "yes, as a link (nofollow ugc)", NULL},
	[ROW_TEXT] = {"Your comment", "as you write it, and as HTML", "yes, once it is published",
		      NULL},
	[ROW_EMAIL] = {"Your e-mail address",
		       "<strong>never as an address</strong>: only a hash with a secret key "
		       "(BLAKE2b) to recognise your later comments, and another hash for your "
		       "avatar",
		       "no (the avatar cannot be linked to the stored hash)", NULL},
	[ROW_IP] = {"Your IP address and browser (user agent)",
		    "as your browser sends them, against spam and abuse",
		    "no; moderators see only the network (such as 203.0.113.0/24)", "{0} days"},
	[ROW_REFERRER] = {"The page you commented on", "as your browser sends it", "no", NULL},
	[ROW_TIME] = {"The time", "date and time (UTC)", "yes", NULL},
	[ROW_FEATURES] =
	    {"Features for the spam filter",
	     "hashes with a secret key of the words and signals in your comment, never "
	     "the text itself",
	     "no", NULL},
	[ROW_TOKEN] = {"An edit code",
		       "a hash of the code with which your browser can edit or delete your comment "
		       "for {0} minutes",
		       "no", NULL},
	[ROW_LIKE] = {"A like",
		      "a hash with a secret key of your network address and the comment (never the "
		      "address), so that each reader counts once",
		      "only the count", NULL},
	[ROW_SUBSCRIPTION] =
	    {"Your e-mail address, <strong>only if you ask to be told of replies</strong>",
	     "encrypted (with a key kept outside the database), beside the same hash; opened only "
	     "to send you a mail",
	     "no",
	     "until you unsubscribe (with the link in every mail), 7 days if you do not confirm, "
	     "and at most {0} days"},
    },
    "Comments that the spam filter or a moderator marks as spam are hidden and deleted after {0} "
    "days. Blatant spam is not kept at all.",
    "A comment the spam filter accepts appears at once; doubtful ones wait for a moderator.",
    "Your first comment waits for a moderator; after that your comments appear at once when the "
    "spam filter accepts them.",
    "Every comment waits for a moderator.",
    "The server makes a backup every day and keeps the last {0}. What you have erased remains in "
    "the backups from before until they are rotated out after {0} days.",
    "Where your data goes",
    "Nowhere: everything stays on this server. The spam filter runs here; nothing is sent to "
    "Akismet, Gravatar, or advertising and analytics services. E-mail and IP addresses are not "
    "written to the logs.",
    "E-mail: if you ask to be told of replies, the confirmation and those notices go to your "
    "address through the site's mail server.",
    "Moderators are mailed about comments awaiting moderation, with the name and the text, "
    "never your e-mail address.",
    "Each new comment is also sent to {0}, a service the site's owner uses for notifications: "
    "your name and the first 300 characters of your comment, never your e-mail or IP address.",
    "Nothing else leaves this server: the spam filter runs here; nothing is sent to Akismet, "
    "Gravatar, or advertising and analytics services. E-mail and IP addresses are not written "
    "to the logs.",
    "What your browser keeps",
    "The comment form uses no cookies. In your browser's localStorage it keeps only the edit code "
    "and text of your own comments while you can edit them (and of a comment awaiting "
    "moderation), which comments you liked and how you sort them; your name, e-mail address and "
    "website only if you tick &#8216;Remember me on this device&#8217;.",
    "Your rights",
    "Ask {0} for a copy of your comments or for their erasure, and give the e-mail address you "
    "commented with. It serves only to find your comments by their hash and is not kept.",
    "the owner of this site",
    "Erasure deletes your comments and what the spam filter learned from them; a comment others "
    "replied to stays as an empty placeholder.",
    "On this site erased comments stay as &#8216;Anonymous&#8217;, without website, IP address "
    "or e-mail hash.",
    "Made by commentd {0}.",
    "Language",
};

static const struct strings de = {
    "Wie deine Kommentardaten verarbeitet werden",
    "Kommentare auf {0} laufen über commentd, ein Kommentarsystem, das der Betreiber der Website "
    "auf seinem eigenen Server betreibt. Diese Seite entsteht aus den Einstellungen dieses "
    "Servers: Was hier steht, tut er.",
    "dieser Website",
    "Was gespeichert wird",
    "Daten",
    "Wie",
    "Öffentlich",
    "Wie lange",
    "solange der Kommentar besteht",
    "{0} Tage",
    {
	[ROW_NAME] = {"Dein Name", "wie du ihn schreibst", "ja", NULL},
	[ROW_WEBSITE] = {"Deine Website", "wie du sie schreibst", "ja, als Link (nofollow ugc)",
			 NULL},
	[ROW_TEXT] = {"Dein Kommentar", "wie du ihn schreibst, und als HTML",
		      "ja, sobald er veröffentlicht ist", NULL},
	[ROW_EMAIL] = {"Deine E-Mail-Adresse",
		       "<strong>nie als Adresse</strong>: nur ein Hash mit geheimem Schlüssel "
		       "(BLAKE2b), um deine späteren Kommentare zu erkennen, und ein anderer Hash "
		       "für deinen Avatar",
		       "nein (der Avatar lässt sich nicht mit dem gespeicherten Hash verbinden)",
		       NULL},
	[ROW_IP] = {"Deine IP-Adresse und dein Browser (User-Agent)",
		    "wie dein Browser sie sendet, gegen Spam und Missbrauch",
		    "nein; Moderatoren sehen nur das Netz (etwa 203.0.113.0/24)", "{0} Tage"},
	[ROW_REFERRER] = {"Die Seite, auf der du kommentiert hast", "wie dein Browser sie sendet",
			  "nein", NULL},
	[ROW_TIME] = {"Der Zeitpunkt", "Datum und Uhrzeit (UTC)", "ja", NULL},
	[ROW_FEATURES] = {"Merkmale für den Spamfilter",
			  "Hashes mit geheimem Schlüssel der Wörter und Signale deines Kommentars, "
			  "nie der Text selbst",
			  "nein", NULL},
	[ROW_TOKEN] = {"Ein Bearbeitungscode",
		       "ein Hash des Codes, mit dem dein Browser deinen Kommentar {0} Minuten lang "
		       "bearbeiten oder löschen kann",
		       "nein", NULL},
	[ROW_LIKE] =
	    {"Ein &#8222;Gefällt mir&#8220;",
	     "ein Hash mit geheimem Schlüssel deiner Netzadresse und des Kommentars (nie die "
	     "Adresse), damit jeder einmal zählt",
	     "nur die Anzahl", NULL},
	[ROW_SUBSCRIPTION] =
	    {"Deine E-Mail-Adresse, <strong>nur wenn du um Nachricht über Antworten "
	     "bittest</strong>",
	     "verschlüsselt (mit einem Schlüssel außerhalb der Datenbank), neben demselben Hash; "
	     "nur "
	     "geöffnet, um dir eine E-Mail zu senden",
	     "nein",
	     "bis du dich abmeldest (mit dem Link in jeder E-Mail), 7 Tage, wenn du nicht "
	     "bestätigst, und höchstens {0} Tage"},
    },
    "Kommentare, die der Spamfilter oder ein Moderator als Spam markiert, werden verborgen und "
    "nach {0} Tagen gelöscht. Eindeutiger Spam wird gar nicht gespeichert.",
    "Ein Kommentar, den der Spamfilter annimmt, erscheint sofort; Zweifelsfälle warten auf einen "
    "Moderator.",
    "Dein erster Kommentar wartet auf einen Moderator; danach erscheinen deine Kommentare sofort, "
    "wenn der Spamfilter sie annimmt.",
    "Jeder Kommentar wartet auf einen Moderator.",
    "Der Server legt täglich eine Sicherung an und behält die letzten {0}. Was du löschen lässt, "
    "bleibt in den Sicherungen davor, bis diese nach {0} Tagen entfernt sind.",
    "Wohin deine Daten gehen",
    "Nirgendwohin: Alles bleibt auf diesem Server. Der Spamfilter läuft hier; nichts geht an "
    "Akismet, Gravatar oder Werbe- und Analysedienste. E-Mail- und IP-Adressen stehen nicht in "
    "den Protokollen.",
    "E-Mail: Bittest du um Nachricht über Antworten, gehen die Bestätigung und diese "
    "Nachrichten über den Mailserver der Website an deine Adresse.",
    "Moderatoren erhalten eine E-Mail über Kommentare, die auf Freigabe warten, mit Name und "
    "Text, nie deiner E-Mail-Adresse.",
    "Jeder neue Kommentar geht auch an {0}, einen Dienst, den der Betreiber der Website für "
    "Benachrichtigungen nutzt: dein Name und die ersten 300 Zeichen deines Kommentars, nie "
    "deine E-Mail- oder IP-Adresse.",
    "Sonst verlässt nichts diesen Server: Der Spamfilter läuft hier; nichts geht an Akismet, "
    "Gravatar oder Werbe- und Analysedienste. E-Mail- und IP-Adressen stehen nicht in den "
    "Protokollen.",
    "Was dein Browser speichert",
    "Das Kommentarformular verwendet keine Cookies. Im localStorage deines Browsers speichert es "
    "nur den Bearbeitungscode und Text deiner eigenen Kommentare, solange du sie bearbeiten "
    "kannst (und eines Kommentars, der auf Freigabe wartet), welche Kommentare dir gefallen und "
    "wie du sie sortierst; deinen Namen, deine E-Mail-Adresse und Website nur, wenn du "
    "&#8222;Auf diesem Gerät merken&#8220; ankreuzt.",
    "Deine Rechte",
    "Bitte {0} um eine Kopie deiner Kommentare oder um ihre Löschung und nenne die "
    "E-Mail-Adresse, mit der du kommentiert hast. Sie dient nur dazu, deine Kommentare über den "
    "Hash zu finden, und wird nicht gespeichert.",
    "den Betreiber dieser Website",
    "Die Löschung entfernt deine Kommentare und was der Spamfilter aus ihnen gelernt hat; ein "
    "Kommentar, auf den andere geantwortet haben, bleibt als leerer Platzhalter stehen.",
    "Auf dieser Website bleiben gelöschte Kommentare als &#8222;Anonymous&#8220; stehen, ohne "
    "Website, IP-Adresse oder E-Mail-Hash.",
    "Erstellt von commentd {0}.",
    "Sprache",
};

static const struct strings *const tables[] = {[LANG_EN] = &en, [LANG_NL] = &nl, [LANG_DE] = &de};

static void number_template(struct markup *m, const char *tmpl, unsigned n)
{
	char num[16];
	const char *args[] = {num};

	snprintf(num, sizeof(num), "%u", n);
	markup_template(m, tmpl, args, 1);
}

static void cell(struct markup *m, const char *tag, const char *markup)
{
	markup_raw(m, "<");
	markup_raw(m, tag);
	markup_raw(m, ">");
	markup_raw(m, markup);
	markup_raw(m, "</");
	markup_raw(m, tag);
	markup_raw(m, ">");
}

static void kept_table(struct markup *m, const struct strings *s, const struct config *cfg)
{
	unsigned minutes = (cfg->edit_window + 59) / 60;

	markup_raw(m, "<h2>");
	markup_raw(m, s->h_kept);
	markup_raw(m, "</h2>\n<table>\n<thead><tr>");
	cell(m, "th", s->th_data);
	cell(m, "th", s->th_how);
	cell(m, "th", s->th_public);
	cell(m, "th", s->th_kept);
	markup_raw(m, "</tr></thead>\n<tbody>\n");
	for (int i = 0; i < ROWS; i++) {
		const struct row *r = &s->rows[i];

		if ((i == ROW_TOKEN && !cfg->edit_window) || (i == ROW_LIKE && !cfg->likes) ||
		    (i == ROW_SUBSCRIPTION && !*cfg->smtp_url))
			continue;
		markup_raw(m, "<tr><th scope=\"row\">");
		markup_raw(m, r->data);
		markup_raw(m, "</th><td>");
		number_template(m, r->how, minutes);
		markup_raw(m, "</td>");
		cell(m, "td", r->public);
		markup_raw(m, "<td>");
		if (r->kept)
			number_template(m, r->kept,
					i == ROW_SUBSCRIPTION ? cfg->notify_retention_days
							      : cfg->ip_retention_days);
		else
			markup_raw(m, s->with_comment);
		markup_raw(m, "</td></tr>\n");
	}
	markup_raw(m, "</tbody>\n</table>\n");
}

static void paragraph(struct markup *m, const char *tmpl, unsigned n)
{
	markup_raw(m, "<p>");
	number_template(m, tmpl, n);
	markup_raw(m, "</p>\n");
}

static void section(struct markup *m, const char *heading, const char *text)
{
	markup_raw(m, "<h2>");
	markup_raw(m, heading);
	markup_raw(m, "</h2>\n<p>");
	markup_raw(m, text);
	markup_raw(m, "</p>\n");
}

/* Where the data goes: nowhere, or, with notifications, the mails and the
 * webhook (named by its host) and nothing else. */
static void where(struct markup *m, const struct strings *s, const struct config *cfg)
{
	const char *host = strstr(cfg->webhook_url, "://");
	char name[256];
	const char *args[] = {name};

	if (!*cfg->smtp_url && !*cfg->webhook_url) {
		section(m, s->h_where, s->nothing_leaves);
		return;
	}
	markup_raw(m, "<h2>");
	markup_raw(m, s->h_where);
	markup_raw(m, "</h2>\n");
	if (*cfg->smtp_url) {
		markup_raw(m, "<p>");
		markup_raw(m, s->mail_replies);
		if (*cfg->notify_moderators) {
			markup_raw(m, " ");
			markup_raw(m, s->mail_moderators);
		}
		markup_raw(m, "</p>\n");
	}
	if (host) {
		/* The host only: a path or user name may hold a receiver's
		 * secret. */
		size_t n;
		const char *at;

		host += 3;
		n = strcspn(host, "/?#");
		at = memchr(host, '@', n);
		while (at) {
			n -= (size_t)(at + 1 - host);
			host = at + 1;
			at = memchr(host, '@', n);
		}
		snprintf(name, sizeof(name), "%.*s", (int)n, host);
		markup_raw(m, "<p>");
		markup_template(m, s->webhook, args, 1);
		markup_raw(m, "</p>\n");
	}
	markup_raw(m, "<p>");
	markup_raw(m, s->nothing_else);
	markup_raw(m, "</p>\n");
}

/* The contact for export and erasure: privacy_contact as a mailto or web
 * link, or the site's owner. */
static void rights(struct markup *m, const struct strings *s, const struct config *cfg)
{
	const char *contact = cfg->privacy_contact;
	bool web = strncmp(contact, "https://", 8) == 0 || strncmp(contact, "http://", 7) == 0;
	const char *hole;

	markup_raw(m, "<h2>");
	markup_raw(m, s->h_rights);
	markup_raw(m, "</h2>\n<p>");
	/* The text around {0}, with the contact as a link in it. */
	hole = strstr(s->rights, "{0}");
	markup_raw_len(m, s->rights, (size_t)(hole - s->rights));
	if (*contact) {
		markup_raw(m, "<a href=\"");
		if (!web)
			markup_raw(m, "mailto:");
		markup_text(m, contact);
		markup_raw(m, "\">");
		markup_text(m, contact);
		markup_raw(m, "</a>");
	} else {
		markup_raw(m, s->owner);
	}
	markup_raw(m, hole + 3);
	markup_raw(m, "</p>\n<p>");
	markup_raw(m, cfg->erase == ERASE_ANONYMISE ? s->erase_anonymise : s->erase_delete);
	markup_raw(m, "</p>\n");
}

static void head(struct markup *m, const struct strings *s, enum lang lang)
{
	markup_raw(m, "<!doctype html>\n<html lang=\"");
	markup_raw(m, lang_code(lang));
	markup_raw(m, "\">\n<head>\n<meta charset=\"utf-8\">\n"
		      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
		      "<title>");
	markup_raw(m, s->title);
	markup_raw(m, "</title>\n<link rel=\"stylesheet\" href=\"page.css\">\n</head>\n"
		      "<body class=\"cd-page\">\n<main>\n<nav class=\"cd-langs\" aria-label=\"");
	markup_raw(m, s->languages);
	markup_raw(m, "\">"
		      "<a href=\"?lang=nl\" hreflang=\"nl\" lang=\"nl\">Nederlands</a> "
		      "<a href=\"?lang=en\" hreflang=\"en\" lang=\"en\">English</a> "
		      "<a href=\"?lang=de\" hreflang=\"de\" lang=\"de\">Deutsch</a></nav>\n<h1>");
	markup_raw(m, s->title);
	markup_raw(m, "</h1>\n");
}

static const char *moderation_text(const struct strings *s, enum moderation_mode mode)
{
	return mode == MODERATION_ALL	  ? s->mod_all
	       : mode == MODERATION_FIRST ? s->mod_first
					  : s->mod_none;
}

int privacy_page(const struct config *cfg, const char *site_url, enum lang lang, char **out)
{
	const struct strings *s = tables[lang];
	const char *host = site_url && strstr(site_url, "://") ? strstr(site_url, "://") + 3 : NULL;
	const char *args[] = {host ? host : s->this_site, COMMENTD_VERSION};
	struct markup m;
	int err;

	markup_init(&m, PRIVACYPAGE_MAX);
	head(&m, s, lang);
	markup_raw(&m, "<p>");
	markup_template(&m, s->intro, args, 1);
	markup_raw(&m, "</p>\n");
	kept_table(&m, s, cfg);
	paragraph(&m, moderation_text(s, cfg->moderation), 0);
	paragraph(&m, s->spam, cfg->spam_retention_days);
	if (*cfg->backup_dir)
		paragraph(&m, s->backups, cfg->backup_keep);
	where(&m, s, cfg);
	section(&m, s->h_browser, s->browser);
	rights(&m, s, cfg);
	markup_raw(&m, "<footer><p>");
	markup_template(&m, s->made, args + 1, 1);
	markup_raw(&m, "</p></footer>\n</main>\n</body>\n</html>\n");
	*out = markup_finish(&m, &err);
	return *out ? 0 : err < 0 ? err : -E2BIG;
}
