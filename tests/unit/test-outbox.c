/* Unit tests for lib/outbox with a recording transport: events written with
 * comments, expansion into one delivery per recipient, sending once,
 * retries on the backoff schedule, giving up after a day, refusals,
 * skipping what was dealt with, digests, subscriptions (double opt-in, the
 * address only at send time), listing without addresses, and retention;
 * then two sites, each event delivered under its own site's settings only
 * (moderators, webhook, public_url, language, digest), and none for a site
 * no longer configured. */
#include "fixture.h"
#include "tap.h"

#include "comment.h"
#include "link.h"
#include "moderation.h"
#include "outbox.h"
#include "subscribe.h"

#include <stdlib.h>
#include <string.h>

static struct fixture fx;

/* The recording transport. */
struct sent {
	char kind;			   /* 'm' mail, 'w' webhook */
	char site[CONFIG_SITE_ID_MAX + 1]; /* the site it was sent for */
	char url[128];			   /* webhook: where it went */
	char rcpt[256];			   /* mail: the recipients joined by ',' */
	char *data;			   /* message or body */
};
static struct sent sent[64];
static int n_sent;
static int answer; /* what the transport returns: 0, 2 or 3 */

static int rec_mail(void *u, const struct outbox_site *site, const char *const *rcpt, size_t n,
		    const char *message, size_t len, char err[OUTBOX_ERR_MAX])
{
	struct sent *s = &sent[n_sent++ % 64];

	(void)u;
	(void)len;
	s->kind = 'm';
	snprintf(s->site, sizeof(s->site), "%s", site->id);
	s->rcpt[0] = '\0';
	for (size_t i = 0; i < n; i++)
		snprintf(s->rcpt + strlen(s->rcpt), sizeof(s->rcpt) - strlen(s->rcpt), "%s%s",
			 i ? "," : "", rcpt[i]);
	free(s->data);
	s->data = strdup(message);
	if (answer)
		snprintf(err, OUTBOX_ERR_MAX, "421 try later");
	return answer;
}

static int rec_hook(void *u, const struct outbox_site *site, const char *type, int64_t id,
		    int64_t now, const char *body, char err[OUTBOX_ERR_MAX])
{
	struct sent *s = &sent[n_sent++ % 64];

	(void)u, (void)type, (void)id, (void)now;
	s->kind = 'w';
	snprintf(s->site, sizeof(s->site), "%s", site->id);
	snprintf(s->url, sizeof(s->url), "%s", site->webhook_url);
	s->rcpt[0] = '\0';
	free(s->data);
	s->data = strdup(body);
	if (answer)
		snprintf(err, OUTBOX_ERR_MAX, "HTTP 503");
	return answer;
}

static const struct outbox_transport rec = {rec_mail, rec_hook, NULL};

/* The configured sites: "default" (fx.cfg), and "notes" (notes_cfg, its
 * view) once test_sites adds it. */
static struct outbox_site sites[2];
static size_t n_sites = 1;
static struct config *notes_cfg;

static void refresh(void)
{
	outbox_site_of(fx.cfg, "default", "https://blog.example.org", "", &sites[0]);
	if (notes_cfg)
		outbox_site_of(notes_cfg, "notes", "https://notes.example.org", "", &sites[1]);
}

static void set_in(struct config *cfg, const char *name, const char *value)
{
	char err[CONFIG_ERR_MAX];

	if (config_set(cfg, name, value, err) != 0)
		diag("config_set %s: %s", name, err);
	refresh();
}

static void set(const char *name, const char *value)
{
	set_in(fx.cfg, name, value);
}

static int64_t post_on(const char *site, int64_t parent, const char *email,
		       enum comment_status status, bool notify, bool silent, int64_t now)
{
	char thread[] = "/post", author[] = "Ann", text[] = "A comment worth telling about";
	char *e = strdup(email);
	struct comment_input in = {.thread = thread,
				   .parent = parent,
				   .author = author,
				   .email = e,
				   .text = text,
				   .site = site};
	struct comment_record r = {
	    .status = status, .score = -1, .created = now, .silent = silent, .notify = notify};
	struct comment_stored out;
	struct comment_error err;
	int64_t id = -1;

	if (comment_create(fx.conn, strcmp(site, "notes") == 0 ? notes_cfg : fx.cfg, fx.keys, &in,
			   &r, &out, &err) == 0)
		id = out.id;
	else
		diag("comment_create: %s", err.message);
	comment_stored_clear(&out);
	free(e);
	return id;
}

static int64_t post(int64_t parent, const char *email, enum comment_status status, bool notify,
		    bool silent, int64_t now)
{
	return post_on("default", parent, email, status, notify, silent, now);
}

static int64_t q(const char *sql)
{
	struct store_stmt *st = NULL;
	int64_t v = -1;

	st = store_stmt_new(fx.conn, sql);
	if (st && store_row(fx.conn, st) == 1)
		v = store_col_int64(st, 0);
	store_stmt_free(st);
	return v;
}

/* One pass at now with the fixture's connection lent back to the store. */
static struct outbox_report run(int64_t now)
{
	struct outbox_report rep = {0};

	store_release(fx.store, fx.conn);
	if (outbox_run(fx.store, fx.keys, sites, n_sites, &rec, now, &rep) != 0)
		diag("outbox_run failed");
	fx.conn = store_acquire(fx.store);
	return rep;
}

static void test_backoff(void)
{
	is_int(outbox_backoff(1, 60), 60, "first retry after the base delay");
	is_int(outbox_backoff(2, 60), 120, "then doubling");
	is_int(outbox_backoff(5, 60), 960, "1, 2, 4, 8, 16 minutes");
	is_int(outbox_backoff(30, 60), OUTBOX_MAX_DELAY, "at most six hours apart");
	is_int(outbox_backoff(1000, 3600), OUTBOX_MAX_DELAY, "without overflow");
}

static void test_held(int64_t now)
{
	struct outbox_report rep;
	int64_t id;

	n_sent = 0;
	id = post(0, "ann@example.org", COMMENT_PENDING, false, false, now);
	is_int(q("SELECT count(*) FROM outbox WHERE type = 'held'"), 1,
	       "a held comment writes one event with it");
	rep = run(now);
	is_int(rep.expanded, 2, "expanded to the moderators and the webhook");
	is_int(rep.delivered, 2, "both sent");
	{
		struct sent *m = sent[0].kind == 'm' ? &sent[0] : &sent[1];
		struct sent *w = sent[0].kind == 'w' ? &sent[0] : &sent[1];
		ok(n_sent == 2 && m->kind == 'm' && w->kind == 'w', "a mail and a POST");
		is_str(m->rcpt, "mod1@example.org,mod2@example.org", "to every moderator");
		ok(strstr(m->data, "/api/v1/notify/moderate?t=3D") != NULL, "with action links");
		ok(strstr(w->data, "\"type\":\"held\"") &&
		       strstr(w->data, "\"status\":\"pending\""),
		   "the webhook's JSON says held and pending");
	}
	rep = run(now + 5);
	is_int(n_sent, 2, "a second pass sends nothing again (once per recipient)");
	(void)id;
}

static void test_retry(int64_t now)
{
	struct outbox_report rep;

	n_sent = 0;
	answer = 2;
	post(0, "bea@example.org", COMMENT_PENDING, false, false, now);
	rep = run(now);
	is_int(rep.retried, 2, "a failure is retried later");
	is_int(q("SELECT count(*) FROM outbox_deliveries WHERE state = 'pending' AND attempts = 1"
		 " AND next_at = (SELECT max(created) FROM outbox) + 60"
		 " AND last_error IS NOT NULL"),
	       2, "after notify_retry_seconds, with the error kept");
	rep = run(now + 30);
	is_int(n_sent, 2, "not before it is due");
	rep = run(now + 60);
	is_int(rep.retried, 2, "then again");
	is_int(q("SELECT min(next_at) FROM outbox_deliveries WHERE state = 'pending'"),
	       now + 60 + 120, "the delay doubles");
	answer = 0;
	rep = run(now + 180);
	is_int(rep.delivered, 2, "delivered when the server is back");
	rep = run(now + 400);
	is_int(n_sent, 6, "and never again");
	answer = 2;
	post(0, "cid@example.org", COMMENT_PENDING, false, false, now);
	for (int64_t t = now; t <= now + OUTBOX_GIVE_UP + 3 * OUTBOX_MAX_DELAY; t += 3600)
		run(t);
	is_int(q("SELECT count(*) FROM outbox_deliveries d JOIN outbox o ON o.id = d.event_id"
		 " WHERE o.id = (SELECT max(id) FROM outbox) AND d.state = 'failed'"),
	       2, "after a day of failures: failed");
	answer = 3;
	post(0, "dan@example.org", COMMENT_PENDING, false, false, now);
	rep = run(now);
	is_int(rep.failed, 2, "a refusal (5xx) fails at once");
	answer = 0;
}

static void test_skip_and_silent(int64_t now)
{
	struct classifier *cl = NULL;
	struct comment_error err;
	struct outbox_report rep;
	int64_t id;

	n_sent = 0;
	classifier_new(&cl, NULL);
	id = post(0, "eve@example.org", COMMENT_PENDING, false, false, now);
	moderation_act(fx.conn, cl, NULL, "test", MODERATION_APPROVE, id, &err);
	rep = run(now);
	ok(rep.skipped == 1 && n_sent == 2,
	   "a comment approved before the mail left: no moderator mail (skipped), two webhooks");
	classifier_free(cl);
	n_sent = 0;
	post(0, "fay@example.org", COMMENT_PUBLISHED, false, true, now);
	rep = run(now);
	is_int(n_sent, 0, "imports (silent) notify nobody");
}

static void test_subscription(int64_t now)
{
	json_t *list = NULL;
	char *dump;
	int64_t parent, sub;
	const char *tok;
	struct link l;
	char token[LINK_TOKEN_MAX];

	set("webhook_url", "");
	n_sent = 0;
	parent = post(0, "reader@example.org", COMMENT_PUBLISHED, true, false, now);
	sub = q("SELECT max(id) FROM subscriptions");
	ok(sub > 0, "notify: true stores a subscription");
	run(now);
	ok(n_sent == 1 && strcmp(sent[0].rcpt, "reader@example.org") == 0,
	   "the confirmation goes to the address, opened at send time");
	ok(strstr(sent[0].data, "List-Unsubscribe-Post: List-Unsubscribe=One-Click") != NULL,
	   "with one-click unsubscribe");
	tok = strstr(sent[0].data, "notify/confirm?t=3D");
	ok(tok != NULL, "and a confirm link");
	is_int(q("SELECT count(*) FROM outbox_deliveries WHERE recipient LIKE '%@%'"), 0,
	       "the outbox names no address");
	post(parent, "zed@example.org", COMMENT_PUBLISHED, false, false, now + 1);
	run(now + 1);
	is_int(n_sent, 1, "no notification before the confirmation");
	subscribe_confirm(fx.conn, "default", sub, now + 2);
	post(parent, "zed@example.org", COMMENT_PUBLISHED, false, false, now + 3);
	post(parent, "reader@example.org", COMMENT_PUBLISHED, false, false, now + 3);
	run(now + 3);
	ok(n_sent == 2 && strcmp(sent[1].rcpt, "reader@example.org") == 0 &&
	       strstr(sent[1].data, "List-Unsubscribe:"),
	   "a reply after it is told, with List-Unsubscribe; one's own reply is not");
	link_token(fx.keys, &(struct link){.kind = LINK_UNSUBSCRIBE, .id = sub, .site = "default"},
		   token);
	ok(strstr(sent[1].data, token) != NULL && link_parse(fx.keys, token, now, &l) == 0,
	   "the unsubscribe link is the subscription's");
	outbox_list(fx.conn, NULL, true, 0, &list);
	dump = json_dumps(list, 0);
	ok(dump && strstr(dump, "subscription #") && !strstr(dump, "@example.org"),
	   "outbox_list names subscriptions, never addresses");
	free(dump);
	json_decref(list);
	{
		struct classifier *cl = NULL;
		json_t *out = NULL;
		classifier_new(&cl, NULL);
		post(0, "reader@example.org", COMMENT_PUBLISHED, true, false, now + 4);
		ok(q("SELECT count(*) FROM subscriptions") >= 2, "two subscriptions of the reader");
		moderation_erase(fx.conn, cl, fx.keys, NULL, "reader@example.org", true, "test",
				 &out);
		is_int(q("SELECT count(*) FROM subscriptions"), 0,
		       "a privacy erase (even anonymising) deletes the reader's subscriptions");
		json_decref(out);
		classifier_free(cl);
		run(now + 4);
	}
	set("webhook_url", "http://127.0.0.1:9/hook");
}

static void test_digest(int64_t now)
{
	set("notify_digest_minutes", "10");
	n_sent = 0;
	post(0, "gus@example.org", COMMENT_PENDING, false, false, now);
	post(0, "hal@example.org", COMMENT_PENDING, false, false, now + 60);
	run(now + 60);
	ok(n_sent == 2 && sent[0].kind == 'w' && sent[1].kind == 'w',
	   "with a digest, only the webhooks go at once");
	run(now + 600);
	ok(n_sent == 3 && sent[2].kind == 'm' && strstr(sent[2].data, "2 comments wait"),
	   "one digest for both after notify_digest_minutes");
	run(now + 1200);
	is_int(n_sent, 3, "and not again");
	set("notify_digest_minutes", "0");
}

static void test_retention(int64_t now)
{
	unsigned n = 0;

	is_int(outbox_maintain(fx.conn, sites, n_sites, 20, now + 31 * 86400, &n), 0,
	       "retention runs");
	is_int(q("SELECT count(*) FROM outbox"), 0, "events settled 30 days ago are deleted");
	is_int(q("SELECT count(*) FROM subscriptions"), 0,
	       "subscriptions older than notify_retention_days are deleted");
}

/* A quoted-printable body decoded (soft breaks joined, =XX bytes), into out. */
static void qp_decode(const char *in, char *out, size_t size)
{
	size_t o = 0;

	for (const char *p = in; *p && o + 1 < size; p++) {
		unsigned v;
		if (p[0] == '=' && p[1] == '\r' && p[2] == '\n') {
			p += 2;
		} else if (p[0] == '=' && sscanf(p + 1, "%2x", &v) == 1) {
			out[o++] = (char)v;
			p += 2;
		} else {
			out[o++] = *p;
		}
	}
	out[o] = '\0';
}

/* The first sent item of kind for site, or NULL. */
static struct sent *sent_for(char kind, const char *site)
{
	for (int i = 0; i < n_sent && i < 64; i++) {
		if (sent[i].kind == kind && strcmp(sent[i].site, site) == 0)
			return &sent[i];
	}
	return NULL;
}

/* The site the first link to what in mail m names ("" when none parses). */
static void link_site_in(const struct sent *m, const char *what, char site[CONFIG_SITE_ID_MAX + 1])
{
	static char body[64 * 1024];
	char needle[64], token[LINK_TOKEN_MAX];
	struct link l;
	const char *p;

	site[0] = '\0';
	if (!m)
		return;
	qp_decode(m->data, body, sizeof(body));
	snprintf(needle, sizeof(needle), "/api/v1/notify/%s?t=", what);
	p = strstr(body, needle);
	if (!p)
		return;
	p += strlen(needle);
	snprintf(token, sizeof(token), "%.*s",
		 (int)strspn(p, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
				"abcdefghijklmnopqrstuvwxyz0123456789-_"),
		 p);
	if (link_parse(fx.keys, token, 0, &l) == 0)
		snprintf(site, CONFIG_SITE_ID_MAX + 1, "%s", l.site);
}

/* The configuration of two blogs: the top level is the default site's (as
 * main() set fx.cfg), [site notes] has its own notification settings. */
static const char two_sites[] = "smtp_url = smtp://127.0.0.1:9\n"
				"smtp_from = Blog <comments@example.org>\n"
				"public_url = https://comments.example.org\n"
				"notify_moderators = mod1@example.org, mod2@example.org\n"
				"webhook_url = http://127.0.0.1:9/hook\n"
				"webhook_secret = 0123456789abcdef0123\n"
				"site_origins = https://blog.example.org\n"
				"\n"
				"[site notes]\n"
				"origins = https://notes.example.org\n"
				"public_url = https://notes-comments.example.org\n"
				"language = nl\n"
				"smtp_from = Notes <notes@example.org>\n"
				"notify_moderators = notes-mod@example.org\n"
				"webhook_url = http://127.0.0.1:9/notes-hook\n"
				"webhook_secret = notes-secret-0123456789\n"
				"notify_retention_days = 5\n";

/* Held comments on both sites: each to its own moderators and webhook, its
 * links on its own public_url and naming its own site. */
static void test_sites_held(int64_t now)
{
	struct sent *m, *w;
	char site[CONFIG_SITE_ID_MAX + 1];

	n_sent = 0;
	post_on("default", 0, "ivy@example.org", COMMENT_PENDING, false, false, now);
	post_on("notes", 0, "jon@example.org", COMMENT_PENDING, false, false, now);
	run(now);
	is_int(n_sent, 4, "two held comments on two sites: two mails and two webhooks");
	m = sent_for('m', "default");
	ok(m && strcmp(m->rcpt, "mod1@example.org,mod2@example.org") == 0,
	   "the default site's held comment mails its moderators only");
	ok(m && strstr(m->data, "https://comments.example.org/api/v1/notify/moderate") &&
	       strstr(m->data, "From: Blog <comments@example.org>"),
	   "with links on its public_url, from its sender");
	link_site_in(m, "moderate", site);
	is_str(site, "default", "its links act on the default site");
	m = sent_for('m', "notes");
	ok(m && strcmp(m->rcpt, "notes-mod@example.org") == 0,
	   "the notes site's held comment mails its moderators only");
	ok(m && strstr(m->data, "https://notes-comments.example.org/api/v1/notify/moderate") &&
	       !strstr(m->data, "https://comments.example.org") &&
	       strstr(m->data, "From: Notes <notes@example.org>"),
	   "with links on its own public_url, from its own sender");
	ok(m && strstr(m->data, "schreef een reactie op"), "in its language (nl)");
	link_site_in(m, "moderate", site);
	is_str(site, "notes", "its links act on the notes site");
	w = sent_for('w', "default");
	ok(w && strcmp(w->url, "http://127.0.0.1:9/hook") == 0 &&
	       strstr(w->data, "\"site\":\"default\""),
	   "the default site's webhook gets its event, naming the site");
	w = sent_for('w', "notes");
	ok(w && strcmp(w->url, "http://127.0.0.1:9/notes-hook") == 0 &&
	       strstr(w->data, "\"site\":\"notes\""),
	   "the notes site's webhook gets its own");
}

/* A reader subscribes on both sites: each site asks (consent is per blog),
 * on its own public_url and in its own language. */
static void test_sites_subscribe(int64_t now)
{
	struct sent *m;
	char site[CONFIG_SITE_ID_MAX + 1];

	n_sent = 0;
	post_on("notes", 0, "kim@example.org", COMMENT_PUBLISHED, true, false, now);
	post_on("default", 0, "kim@example.org", COMMENT_PUBLISHED, true, false, now);
	run(now);
	m = sent_for('m', "notes");
	ok(m && strcmp(m->rcpt, "kim@example.org") == 0 &&
	       strstr(m->data, "https://notes-comments.example.org/api/v1/notify/confirm") &&
	       strstr(m->data, "Iemand, hopelijk jij"),
	   "the notes site asks in Dutch, with its own links");
	link_site_in(m, "confirm", site);
	is_str(site, "notes", "its confirm link is the notes site's");
	m = sent_for('m', "default");
	ok(m && strcmp(m->rcpt, "kim@example.org") == 0 &&
	       strstr(m->data, "https://comments.example.org/api/v1/notify/confirm") &&
	       strstr(m->data, "Someone, hopefully you"),
	   "the default site asks too, in English, with its links");
	link_site_in(m, "unsubscribe", site);
	is_str(site, "default", "its unsubscribe link is the default site's");
}

/* An event of a site no longer configured goes nowhere; digests are per
 * site; listing by scope; retention by each site's days. */
static void test_sites_rest(int64_t now)
{
	json_t *list = NULL;
	char *dump;
	unsigned n = 0;

	n_sent = 0;
	post_on("gone", 0, "lea@example.org", COMMENT_PENDING, false, false, now);
	run(now);
	is_int(n_sent, 0, "a site no longer configured: its event is delivered to nobody");
	is_int(q("SELECT count(*) FROM outbox_deliveries d JOIN outbox o ON o.id = d.event_id"
		 " WHERE o.site = 'gone'"),
	       0, "(no delivery was even planned)");
	set("notify_digest_minutes", "10");
	post_on("default", 0, "max@example.org", COMMENT_PENDING, false, false, now + 1);
	post_on("notes", 0, "ned@example.org", COMMENT_PENDING, false, false, now + 1);
	run(now + 1);
	ok(sent_for('m', "notes") && !sent_for('m', "default"),
	   "a digest on one site holds that site's moderator mail only");
	run(now + 700);
	ok(sent_for('m', "default") && strstr(sent_for('m', "default")->rcpt, "mod1@"),
	   "its digest goes to its own moderators when due");
	set("notify_digest_minutes", "0");
	outbox_list(fx.conn, "[\"notes\"]", true, 0, &list);
	dump = json_dumps(list, 0);
	ok(dump && strstr(dump, "\"site\": \"notes\"") && !strstr(dump, "\"default\""),
	   "outbox_list within a scope lists that site's deliveries only");
	free(dump);
	json_decref(list);
	is_int(q("SELECT count(*) FROM subscriptions WHERE site = 'notes'"), 1,
	       "the notes site has one subscription");
	outbox_maintain(fx.conn, sites, n_sites, 20, now + 6 * 86400, &n);
	is_int(q("SELECT count(*) FROM subscriptions WHERE site = 'notes'"), 0,
	       "after 6 days the notes site's is gone (notify_retention_days = 5 there)");
	is_int(q("SELECT count(*) FROM subscriptions WHERE site = 'default'"), 1,
	       "the default site's stays (20 there)");
}

static void test_sites(int64_t now)
{
	struct config *all = NULL;
	char err[CONFIG_ERR_MAX] = "";

	config_new(&all);
	if (config_load_text(all, two_sites, strlen(two_sites), "two.conf", err) != 0 ||
	    config_check(all, err) != 0 || config_site_view(all, 1, &notes_cfg, err) != 0)
		diag("two sites: %s", err);
	config_free(all);
	ok(notes_cfg != NULL, "the notes site's view");
	n_sites = 2;
	refresh();
	test_sites_held(now);
	test_sites_subscribe(now);
	test_sites_rest(now);
	n_sites = 1;
	notes_cfg = config_free(notes_cfg);
}

int main(void)
{
	int64_t now = 1800000000;

	if (fixture_open(&fx, "outbox") != 0)
		return 1;
	set("smtp_url", "smtp://127.0.0.1:9");
	set("smtp_from", "Blog <comments@example.org>");
	set("public_url", "https://comments.example.org");
	set("notify_moderators", "mod1@example.org, mod2@example.org");
	set("webhook_url", "http://127.0.0.1:9/hook");
	set("webhook_secret", "0123456789abcdef0123");
	set("notify_retention_days", "20");
	test_backoff();
	test_held(now);
	test_retry(now);
	test_skip_and_silent(now);
	test_subscription(now);
	test_digest(now);
	test_retention(now);
	test_sites(now + 40 * 86400);
	for (int i = 0; i < 64; i++)
		free(sent[i].data);
	fixture_close(&fx);
	return done_testing();
}
