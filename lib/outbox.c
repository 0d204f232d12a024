#include "outbox.h"

#include "link.h"
#include "log.h"
#include "mail.h"
#include "moderation.h"
#include "notice.h"
#include "subscribe.h"
#include "timefmt.h"
#include "webhook.h"

#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BATCH_MAX 64 /* deliveries sent in one pass */
/* A link: public_url (CONFIG_PUBLIC_URL_MAX), the path and a token. */
#define OUTBOX_URL_MAX (CONFIG_PUBLIC_URL_MAX + 40 + LINK_TOKEN_MAX)
#define DIGEST_MAX     100 /* held comments in one digest */

static const char *const type_names[] = {"held", "published", "reply", "approved", "subscribe"};

const char *outbox_type_name(enum outbox_type t)
{
	return type_names[t];
}

static int type_parse(const char *name, enum outbox_type *out)
{
	for (size_t i = 0; i < sizeof(type_names) / sizeof(type_names[0]); i++) {
		if (name && strcmp(name, type_names[i]) == 0) {
			*out = (enum outbox_type)i;
			return 0;
		}
	}
	return 1;
}

void outbox_site_of(const struct config *cfg, const char *id, const char *site_url,
		    const char *smtp_password, struct outbox_site *out)
{
	*out = (struct outbox_site){
	    .id = id,
	    .public_url = cfg->public_url,
	    .site_url = site_url ? site_url : "",
	    .language = cfg->language,
	    .smtp_url = cfg->smtp_url,
	    .smtp_from = cfg->smtp_from,
	    .smtp_password = smtp_password,
	    .moderators = cfg->notify_moderators,
	    .digest_minutes = cfg->notify_digest_minutes,
	    .retention_days = cfg->notify_retention_days,
	    .retry_seconds = cfg->notify_retry_seconds,
	    .webhook_url = cfg->webhook_url,
	    .webhook_secret = cfg->webhook_secret,
	};
}

const struct outbox_site *outbox_site_find(const struct outbox_site *sites, size_t n,
					   const char *id)
{
	for (size_t i = 0; id && i < n; i++) {
		if (strcmp(sites[i].id, id) == 0)
			return &sites[i];
	}
	return NULL;
}

bool outbox_enabled(const struct config *cfg)
{
	return *cfg->smtp_url || *cfg->webhook_url;
}

static const char sql_add[] = "INSERT INTO outbox(type, comment_id, subscription_id, created, site)"
			      " VALUES (?1, ?2, ?3, ?4, ?5)";

int outbox_add(struct store_conn *c, enum outbox_type type, const char *site, int64_t comment_id,
	       int64_t subscription_id, int64_t now)
{
	struct store_stmt *st = store_stmt(c, sql_add);

	if (!st)
		return -EIO;
	store_bind_text(st, 1, type_names[type]);
	store_bind_int64(st, 2, comment_id);
	if (subscription_id)
		store_bind_int64(st, 3, subscription_id);
	store_bind_int64(st, 4, now);
	store_bind_text(st, 5, site);
	return store_run(c, st, "outbox insert");
}

int outbox_comment_created(struct store_conn *c, const struct config *cfg, const struct keys *k,
			   const struct outbox_comment *oc)
{
	int64_t sub = 0;
	bool ask = false;
	int r;

	if (!outbox_enabled(cfg) ||
	    (oc->status != COMMENT_PENDING && oc->status != COMMENT_PUBLISHED))
		return 0;
	r = outbox_add(c,
		       oc->status == COMMENT_PENDING ? OUTBOX_HELD
		       : oc->parent		     ? OUTBOX_REPLY
						     : OUTBOX_PUBLISHED,
		       oc->site, oc->id, 0, oc->now);
	if (r != 0 || !oc->notify_email || !*cfg->smtp_url)
		return r;
	r = subscribe_add(c, k, oc->site, oc->id, oc->notify_email, oc->now, &sub, &ask);
	if (r == 0 && ask)
		r = outbox_add(c, OUTBOX_SUBSCRIBE, oc->site, oc->id, sub, oc->now);
	return r;
}

int64_t outbox_backoff(unsigned attempts, unsigned base)
{
	int64_t d = base ? base : 1;

	for (unsigned i = 1; i < attempts && d < OUTBOX_MAX_DELAY; i++)
		d *= 2;
	return d < OUTBOX_MAX_DELAY ? d : OUTBOX_MAX_DELAY;
}

/* ---- expansion: events into deliveries ---- */

static const char sql_new_events[] =
    "SELECT o.id, o.type, o.comment_id, o.subscription_id, c.parent_id, c.email_hash, o.created,"
    " o.site FROM outbox o LEFT JOIN comments c ON c.id = o.comment_id"
    " WHERE o.expanded = 0 ORDER BY o.id LIMIT 100";
static const char sql_deliver_to[] =
    "INSERT INTO outbox_deliveries(event_id, recipient, next_at) VALUES (?1, ?2, ?3)"
    " ON CONFLICT DO NOTHING";
static const char sql_expanded[] = "UPDATE outbox SET expanded = 1 WHERE id = ?1";

struct new_event {
	int64_t id, comment_id, subscription_id, parent, created;
	char site[CONFIG_SITE_ID_MAX + 1];
	enum outbox_type type;
	bool has_hash;
	unsigned char hash[KEYS_HASH_BYTES];
};

struct expansion {
	struct store_conn *c;
	int64_t event, now;
	unsigned *added;
};

static int deliver_to(struct expansion *x, const char *recipient)
{
	struct store_stmt *st = store_stmt(x->c, sql_deliver_to);
	int r;

	if (!st)
		return -EIO;
	store_bind_int64(st, 1, x->event);
	store_bind_text_copy(st, 2, recipient);
	store_bind_int64(st, 3, x->now);
	r = store_run(x->c, st, "outbox delivery");
	if (r == 0)
		*x->added += store_changes(x->c);
	return r;
}

static int deliver_to_subscription(void *u, int64_t id)
{
	char recipient[40];

	snprintf(recipient, sizeof(recipient), "subscription:%lld", (long long)id);
	return deliver_to(u, recipient);
}

/* The recipients of one event under its site's settings (none when its
 * site is no longer configured). */
static int expand_one(struct expansion *x, const struct outbox_site *site,
		      const struct new_event *e)
{
	bool mail = site && *site->smtp_url, hook = site && *site->webhook_url;
	int r = 0;

	if (hook && e->type != OUTBOX_SUBSCRIBE)
		r = deliver_to(x, "webhook");
	if (r == 0 && mail && e->type == OUTBOX_HELD && *site->moderators)
		r = deliver_to(x, "moderators");
	if (r == 0 && mail && e->type == OUTBOX_SUBSCRIBE && e->subscription_id)
		r = deliver_to_subscription(x, e->subscription_id);
	/* A published reply, new or approved: whoever follows its parent. */
	if (r == 0 && mail && (e->type == OUTBOX_REPLY || e->type == OUTBOX_APPROVED) && e->parent)
		r = subscribe_watchers(x->c, e->parent, e->created, e->has_hash ? e->hash : NULL,
				       deliver_to_subscription, x);
	return r;
}

static int load_new_events(struct store_conn *c, struct new_event *ev, size_t max, size_t *n)
{
	struct store_stmt *st = store_stmt(c, sql_new_events);
	int r;

	*n = 0;
	if (!st)
		return -EIO;
	while (*n < max && (r = store_row(c, st)) == 1) {
		struct new_event *e = &ev[*n];
		memset(e, 0, sizeof(*e));
		e->id = store_col_int64(st, 0);
		if (type_parse(store_col_text(st, 1), &e->type) != 0)
			continue;
		e->comment_id = store_col_int64(st, 2);
		e->subscription_id = store_col_int64(st, 3);
		e->parent = store_col_int64(st, 4);
		e->has_hash = store_col_bytes(st, 5) == KEYS_HASH_BYTES;
		if (e->has_hash)
			memcpy(e->hash, store_col_blob(st, 5), KEYS_HASH_BYTES);
		e->created = store_col_int64(st, 6);
		snprintf(e->site, sizeof(e->site), "%s", store_col_text(st, 7));
		(*n)++;
	}
	store_reset(st);
	return r < 0 ? r : 0;
}

/* The sites a pass works for. */
struct site_list {
	const struct outbox_site *at;
	size_t n;
};

/* Expands the new events inside the caller's transaction (or, with
 * own_txn, in one of its own, begun only when there are new events). */
static int expand(struct store_conn *c, const struct site_list *sites, int64_t now, unsigned *added,
		  bool own_txn)
{
	struct new_event ev[100];
	struct expansion x = {c, 0, now, added};
	struct store_stmt *st;
	size_t n = 0;
	int r;

	/* Only this worker expands: read first, and write only if needed. */
	r = load_new_events(c, ev, 100, &n);
	if (r != 0 || n == 0)
		return r;
	if (own_txn)
		r = store_begin(c);
	for (size_t i = 0; r == 0 && i < n; i++) {
		x.event = ev[i].id;
		r = expand_one(&x, outbox_site_find(sites->at, sites->n, ev[i].site), &ev[i]);
		st = r == 0 ? store_stmt(c, sql_expanded) : NULL;
		if (r == 0 && !st)
			r = -EIO;
		if (r == 0) {
			store_bind_int64(st, 1, ev[i].id);
			r = store_run(c, st, "outbox expanded");
		}
	}
	if (own_txn && r == 0)
		r = store_commit(c);
	if (own_txn)
		store_rollback(c);
	return r;
}

/* ---- composing ---- */

/* A delivery due now, as read from the table. */
struct due {
	int64_t event, comment_id, subscription_id, created;
	char site[CONFIG_SITE_ID_MAX + 1];
	enum outbox_type type;
	char recipient[40];
	unsigned attempts;
};

enum job_how {
	JOB_SKIP, /* nothing to send any more (recorded as skipped) */
	JOB_MAIL,
	JOB_WEBHOOK,
};

/* One send: a mail or a POST, and the deliveries it settles (a digest
 * settles many). */
struct job {
	enum job_how how;
	const struct outbox_site *site; /* its event's site; NULL: not configured */
	struct due *rows;
	size_t n_rows;
	char *message; /* mail, or the webhook's JSON body */
	size_t len;
	char *rcpt[OUTBOX_MODERATORS_MAX];
	size_t n_rcpt;
	int result; /* 0, 2 retry, 3 refused */
	char err[OUTBOX_ERR_MAX];
};

static void job_clear(struct job *j)
{
	if (j->message) {
		sodium_memzero(j->message, j->len);
		free(j->message);
	}
	for (size_t i = 0; i < j->n_rcpt; i++) {
		sodium_memzero(j->rcpt[i], strlen(j->rcpt[i]));
		free(j->rcpt[i]);
	}
	free(j->rows);
	memset(j, 0, sizeof(*j));
}

/* A comment as notices show it. */
struct loaded {
	char *author, *text, *thread;
	enum comment_status status;
	int64_t parent;
	char page[COMMENT_THREAD_MAX + 300];
};

static const char sql_comment[] =
    "SELECT c.author, c.text, t.path, c.status, c.parent_id FROM comments c"
    " JOIN threads t ON t.id = c.thread_id WHERE c.id = ?1";

static void loaded_clear(struct loaded *l)
{
	free(l->author);
	free(l->text);
	free(l->thread);
	memset(l, 0, sizeof(*l));
}

/* 1 found, 0 gone, negative. */
static int load_comment(struct store_conn *c, const struct outbox_site *site, int64_t id,
			struct loaded *out)
{
	struct store_stmt *st = store_stmt(c, sql_comment);
	int r;

	memset(out, 0, sizeof(*out));
	if (!st)
		return -EIO;
	store_bind_int64(st, 1, id);
	r = store_row(c, st);
	if (r == 1) {
		out->author = strdup(store_col_text(st, 0));
		out->text = strdup(store_col_text(st, 1));
		out->thread = strdup(store_col_text(st, 2));
		if (comment_status_parse(store_col_text(st, 3), &out->status))
			out->status = COMMENT_DELETED;
		out->parent = store_col_int64(st, 4);
		if (!out->author || !out->text || !out->thread)
			r = -ENOMEM;
	}
	store_reset(st);
	if (r == 1)
		snprintf(out->page, sizeof(out->page), "%s%s", site->site_url, out->thread);
	else
		loaded_clear(out);
	return r;
}

static struct notice_comment notice_of(int64_t id, const struct loaded *l)
{
	return (struct notice_comment){id, l->author, l->text, l->thread, l->page};
}

/* "<public_url>/api/v1/notify/<what>?t=<token>" for link l, made for site
 * (the token names it: the link acts there only). */
static void link_url(const struct keys *k, const struct outbox_site *site, const char *what,
		     const struct link *l, char *out, size_t size)
{
	char token[LINK_TOKEN_MAX];
	struct link in_site = *l;

	snprintf(in_site.site, sizeof(in_site.site), "%s", site->id);
	link_token(k, &in_site, token);
	snprintf(out, size, "%s/api/v1/notify/%s?t=%s", site->public_url, what, token);
}

/* The host of public_url, for Message-IDs. */
static void id_host(const struct outbox_site *site, char out[256])
{
	const char *h = strstr(site->public_url, "://");

	h = h ? h + 3 : site->public_url;
	snprintf(out, 256, "%.*s", (int)strcspn(h, ":/"), h);
	if (!*out)
		snprintf(out, 256, "localhost");
}

static int build_mail(struct job *j, const struct outbox_site *site, const char *to,
		      const char *message_id, struct buf *subject, struct buf *body,
		      const char *unsubscribe, int64_t now)
{
	struct mail_message m = {site->smtp_from, to,	     subject->data, message_id, now,
				 unsubscribe,	  body->data};
	int r = mail_build(&m, &j->message, &j->len);

	if (r == MAIL_INVALID) {
		log_warn("outbox: a message could not be built (bad header value)");
		j->how = JOB_SKIP;
		return 0;
	}
	j->how = JOB_MAIL;
	return r;
}

/* Splits the moderators' list into j->rcpt. */
static int moderators_of(const struct outbox_site *site, struct job *j)
{
	for (const char *p = site->moderators; *p && j->n_rcpt < OUTBOX_MODERATORS_MAX;) {
		size_t n;
		p += strspn(p, " ,");
		n = strcspn(p, " ,");
		if (n == 0)
			break;
		j->rcpt[j->n_rcpt] = strndup(p, n);
		if (!j->rcpt[j->n_rcpt])
			return -ENOMEM;
		j->n_rcpt++;
		p += n;
	}
	return 0;
}

/* The three action links of a held comment. */
struct action_links {
	char url[3][OUTBOX_URL_MAX];
	struct notice_actions act;
};

static void action_links(const struct keys *k, const struct outbox_site *site, int64_t id,
			 int64_t now, struct action_links *a)
{
	static const int actions[3] = {MODERATION_APPROVE, MODERATION_SPAM, MODERATION_DELETE};
	int64_t expires = now + (int64_t)OUTBOX_LINK_DAYS * 86400;

	for (int i = 0; i < 3; i++) {
		struct link l = {
		    .kind = LINK_MODERATE, .id = id, .action = actions[i], .expires = expires};
		link_url(k, site, "moderate", &l, a->url[i], sizeof(a->url[i]));
	}
	a->act = (struct notice_actions){a->url[0], a->url[1], a->url[2], expires};
}

/* The moderators' joined To: header. */
static int to_header(const struct job *j, struct buf *to)
{
	int r = 0;

	for (size_t i = 0; r == 0 && i < j->n_rcpt; i++)
		r = buf_printf(to, "%s%s", i ? ", " : "", j->rcpt[i]);
	return r;
}

static int compose_held(struct store_conn *c, const struct keys *k, const struct outbox_site *site,
			int64_t now, struct job *j)
{
	struct buf subject, body, to;
	struct action_links links;
	struct loaded cm;
	struct notice_comment nc;
	char admin[600], host[256], mid[400];
	int r;

	r = load_comment(c, site, j->rows[0].comment_id, &cm);
	if (r <= 0 || cm.status != COMMENT_PENDING) {
		loaded_clear(&cm);
		return r < 0 ? r : 0; /* dealt with already: JOB_SKIP */
	}
	buf_init(&subject, 4096);
	buf_init(&body, 64 * 1024);
	buf_init(&to, 8192);
	action_links(k, site, j->rows[0].comment_id, now, &links);
	snprintf(admin, sizeof(admin), "%s/admin/", site->public_url);
	id_host(site, host);
	snprintf(mid, sizeof(mid), "commentd.%lld.moderators@%s", (long long)j->rows[0].event,
		 host);
	nc = notice_of(j->rows[0].comment_id, &cm);
	r = moderators_of(site, j);
	if (r == 0)
		r = to_header(j, &to);
	if (r == 0)
		r = notice_held(site->language, &nc, &links.act, admin, &subject, &body);
	if (r == 0)
		r = build_mail(j, site, to.data, mid, &subject, &body, NULL, now);
	buf_free(&subject);
	buf_free(&body);
	buf_free(&to);
	loaded_clear(&cm);
	return r;
}

/* The digest's items: the held comments among j's rows.  *held counts them. */
static int digest_items(struct store_conn *c, const struct keys *k, const struct outbox_site *site,
			int64_t now, const struct job *j, struct buf *items, unsigned *held)
{
	int r = 0;

	*held = 0;
	for (size_t i = 0; r == 0 && i < j->n_rows; i++) {
		struct action_links links;
		struct notice_comment nc;
		struct loaded cm;
		r = load_comment(c, site, j->rows[i].comment_id, &cm);
		if (r == 1 && cm.status == COMMENT_PENDING) {
			action_links(k, site, j->rows[i].comment_id, now, &links);
			nc = notice_of(j->rows[i].comment_id, &cm);
			r = notice_digest_item(site->language, &nc, &links.act, items);
			(*held)++;
		}
		r = r < 0 ? r : 0;
		loaded_clear(&cm);
	}
	return r;
}

static int compose_digest(struct store_conn *c, const struct keys *k,
			  const struct outbox_site *site, int64_t now, struct job *j)
{
	struct buf subject, body, items, to;
	char admin[600], host[256], mid[400];
	unsigned held = 0;
	int r;

	buf_init(&subject, 4096);
	buf_init(&body, 1024 * 1024);
	buf_init(&items, 1024 * 1024);
	buf_init(&to, 8192);
	snprintf(admin, sizeof(admin), "%s/admin/", site->public_url);
	id_host(site, host);
	snprintf(mid, sizeof(mid), "commentd.digest.%lld.%lld@%s", (long long)j->rows[0].event,
		 (long long)j->rows[j->n_rows - 1].event, host);
	r = digest_items(c, k, site, now, j, &items, &held);
	/* None still held: nothing to send (JOB_SKIP). */
	if (r == 0 && held)
		r = notice_digest_start(site->language, held, &subject, &body);
	if (r == 0 && held)
		r = buf_puts(&body, items.data);
	if (r == 0 && held)
		r = notice_digest_end(site->language, admin, &body);
	if (r == 0 && held)
		r = moderators_of(site, j);
	if (r == 0 && held)
		r = to_header(j, &to);
	if (r == 0 && held)
		r = build_mail(j, site, to.data, mid, &subject, &body, NULL, now);
	buf_free(&subject);
	buf_free(&body);
	buf_free(&items);
	buf_free(&to);
	return r;
}

static int compose_subscriber(struct store_conn *c, const struct keys *k,
			      const struct outbox_site *site, int64_t now, struct job *j)
{
	const struct due *d = &j->rows[0];
	struct subscription sub;
	struct buf subject, body;
	struct loaded cm = {0};
	struct notice_comment nc;
	char confirm[OUTBOX_URL_MAX], unsub[OUTBOX_URL_MAX], host[256], mid[400];
	long long id = strtoll(d->recipient + strlen("subscription:"), NULL, 10);
	int r;

	r = subscribe_load(c, k, id, &sub);
	if (r <= 0)
		return r;
	if (d->type == OUTBOX_SUBSCRIBE ? sub.confirmed : !sub.confirmed)
		goto out; /* confirmed meanwhile, or never: nothing to send */
	if (strcmp(sub.site, site->id) != 0)
		goto out; /* never another site's reader */
	r = load_comment(c, site, d->type == OUTBOX_SUBSCRIBE ? sub.comment_id : d->comment_id,
			 &cm);
	if (r <= 0 || (d->type != OUTBOX_SUBSCRIBE && cm.status != COMMENT_PUBLISHED))
		goto out;
	link_url(k, site, "unsubscribe", &(struct link){.kind = LINK_UNSUBSCRIBE, .id = id}, unsub,
		 sizeof(unsub));
	link_url(k, site, "confirm",
		 &(struct link){.kind = LINK_CONFIRM,
				.id = id,
				.expires = now + (int64_t)SUBSCRIBE_CONFIRM_DAYS * 86400},
		 confirm, sizeof(confirm));
	id_host(site, host);
	snprintf(mid, sizeof(mid), "commentd.%lld.s%lld@%s", (long long)d->event, id, host);
	buf_init(&subject, 4096);
	buf_init(&body, 64 * 1024);
	nc = notice_of(d->comment_id, &cm);
	r = d->type == OUTBOX_SUBSCRIBE
		? notice_confirm(site->language, cm.page, confirm, unsub, &subject, &body)
		: notice_reply(site->language, &nc, unsub, &subject, &body);
	if (r == 0)
		r = build_mail(j, site, sub.address, mid, &subject, &body, unsub, now);
	if (r == 0 && j->how == JOB_MAIL) {
		j->rcpt[0] = strdup(sub.address);
		j->n_rcpt = 1;
		r = j->rcpt[0] ? 0 : -ENOMEM;
	}
	buf_free(&subject);
	buf_free(&body);
out:
	loaded_clear(&cm);
	subscribe_clear(&sub);
	return r < 0 ? r : 0;
}

/* The first NOTICE_EXCERPT_MAX characters of text (whole characters). */
static char *excerpt_plain(const char *text)
{
	size_t chars = 0, i = 0;

	for (; text[i]; i++) {
		if (((unsigned char)text[i] & 0xc0) != 0x80 && chars++ == NOTICE_EXCERPT_MAX)
			break;
	}
	return strndup(text, i);
}

/* The webhook's JSON body of an event (docs/notifications.md). */
static json_t *event_json(const struct due *d, const struct outbox_site *site,
			  const struct loaded *cm, bool found)
{
	char created[TIMEFMT_RFC3339], url[COMMENT_THREAD_MAX + 400], admin[600], line[900];
	char *excerpt = found ? excerpt_plain(cm->text) : NULL;
	json_t *j;

	timefmt_rfc3339(d->created, created);
	snprintf(url, sizeof(url), "%s#comment-%lld", found ? cm->page : "",
		 (long long)d->comment_id);
	snprintf(admin, sizeof(admin), "%s/admin/", site->public_url);
	snprintf(line, sizeof(line), "%s: %s on %s", type_names[d->type],
		 found ? cm->author : "(deleted)", found ? cm->thread : "?");
	j = json_pack("{s:I, s:s, s:s, s:s, s:s, s:{s:I, s:s?, s:o, s:s, s:s?, s:s?, s:s?}, "
		      "s:{s:s?, s:s}}",
		      "id", (json_int_t)d->event, "site", site->id, "type", type_names[d->type],
		      "created", created, "text", line, "comment", "id", (json_int_t)d->comment_id,
		      "thread", found ? cm->thread : NULL, "parent",
		      found && cm->parent ? json_integer(cm->parent) : json_null(), "status",
		      comment_status_name(found ? cm->status : COMMENT_DELETED), "author",
		      found ? cm->author : NULL, "excerpt", excerpt, "url",
		      found && *site->site_url ? url : NULL, "links", "page",
		      found && *site->site_url ? url : NULL, "admin", admin);
	free(excerpt);
	return j;
}

static int compose_webhook(struct store_conn *c, const struct outbox_site *site, struct job *j)
{
	struct loaded cm;
	json_t *body;
	int r;

	r = load_comment(c, site, j->rows[0].comment_id, &cm);
	if (r < 0)
		return r;
	body = event_json(&j->rows[0], site, &cm, r == 1);
	loaded_clear(&cm);
	if (!body)
		return -ENOMEM;
	j->message = json_dumps(body, JSON_COMPACT);
	json_decref(body);
	if (!j->message)
		return -ENOMEM;
	j->len = strlen(j->message);
	j->how = JOB_WEBHOOK;
	return 0;
}

/* Decides what job j (its rows and site filled) sends, under its site's
 * current settings. */
static int compose(struct store_conn *c, const struct keys *k, int64_t now, struct job *j)
{
	const struct outbox_site *site = j->site;
	const char *to = j->rows[0].recipient;

	j->how = JOB_SKIP;
	if (!site)
		return 0;
	if (strcmp(to, "webhook") == 0)
		return *site->webhook_url ? compose_webhook(c, site, j) : 0;
	if (!*site->smtp_url)
		return 0;
	if (strcmp(to, "moderators") == 0) {
		if (!*site->moderators)
			return 0;
		return j->n_rows > 1 || site->digest_minutes ? compose_digest(c, k, site, now, j)
							     : compose_held(c, k, site, now, j);
	}
	return compose_subscriber(c, k, site, now, j);
}

/* ---- one pass ---- */

#define DUE_COLUMNS                                                                                \
	"SELECT d.event_id, d.recipient, d.attempts, o.type, o.comment_id,"                        \
	" coalesce(o.subscription_id, 0), o.created, o.site"                                       \
	" FROM outbox_deliveries d JOIN outbox o ON o.id = d.event_id"

/* ?2: the sites whose moderators get a digest (a JSON array). */
static const char sql_due[] =
    DUE_COLUMNS " WHERE d.state = 'pending' AND d.next_at <= ?1 AND NOT (d.recipient = 'moderators'"
		" AND o.site IN (SELECT value FROM json_each(?2))) ORDER BY d.event_id LIMIT ?3";
/* ?2: the site of the digest. */
static const char sql_digest_due[] =
    DUE_COLUMNS " WHERE d.state = 'pending' AND d.next_at <= ?1 AND d.recipient = 'moderators'"
		" AND o.site = ?2 ORDER BY d.event_id LIMIT ?3";
static const char sql_digest_oldest[] =
    "SELECT min(o.created) FROM outbox_deliveries d JOIN outbox o ON o.id = d.event_id"
    " WHERE d.state = 'pending' AND d.recipient = 'moderators' AND o.site = ?1";

/* The deliveries sql selects: ?1 now, ?2 param2 (text), ?3 max. */
static int read_due(struct store_conn *c, const char *sql, int64_t now, const char *param2,
		    size_t max, struct due *out, size_t *n)
{
	struct store_stmt *st = store_stmt(c, sql);
	int r = 0;

	*n = 0;
	if (!st)
		return -EIO;
	store_bind_int64(st, 1, now);
	store_bind_text(st, 2, param2);
	store_bind_int64(st, 3, (int64_t)max);
	while (*n < max && (r = store_row(c, st)) == 1) {
		struct due *d = &out[*n];
		d->event = store_col_int64(st, 0);
		snprintf(d->recipient, sizeof(d->recipient), "%s", store_col_text(st, 1));
		d->attempts = (unsigned)store_col_int(st, 2);
		if (type_parse(store_col_text(st, 3), &d->type) != 0)
			continue;
		d->comment_id = store_col_int64(st, 4);
		d->subscription_id = store_col_int64(st, 5);
		d->created = store_col_int64(st, 6);
		snprintf(d->site, sizeof(d->site), "%s", store_col_text(st, 7));
		(*n)++;
	}
	store_reset(st);
	return r < 0 ? r : 0;
}

/* site's digest, when its oldest held comment has waited digest_minutes. */
static int digest_job(struct store_conn *c, const struct outbox_site *site, int64_t now,
		      struct job *j)
{
	struct store_stmt *st = store_stmt(c, sql_digest_oldest);
	int64_t oldest = 0;
	size_t n = 0;
	int r;

	if (!st)
		return -EIO;
	store_bind_text(st, 1, site->id);
	r = store_row(c, st);
	if (r == 1 && store_col_type(st, 0) != STORE_NULL)
		oldest = store_col_int64(st, 0);
	store_reset(st);
	if (r < 0 || oldest == 0 || oldest > now - (int64_t)site->digest_minutes * 60)
		return r < 0 ? r : 0;
	j->rows = calloc(DIGEST_MAX, sizeof(*j->rows));
	if (!j->rows)
		return -ENOMEM;
	j->site = site;
	r = read_due(c, sql_digest_due, now, site->id, DIGEST_MAX, j->rows, &n);
	j->n_rows = n;
	return r;
}

/* The ids of the sites with a digest, as a JSON array (for sql_due). */
static char *digest_sites(const struct site_list *sites)
{
	json_t *list = json_array();
	char *text = NULL;

	for (size_t i = 0; list && i < sites->n; i++) {
		if (sites->at[i].digest_minutes &&
		    json_array_append_new(list, json_string(sites->at[i].id)) != 0)
			goto out;
	}
	if (list)
		text = json_dumps(list, JSON_COMPACT);
out:
	json_decref(list);
	return text;
}

/* Reads what is due and composes the jobs (jobs has room for BATCH_MAX
 * and one digest per site).  *n jobs in jobs. */
static int prepare(struct store_conn *c, const struct keys *k, const struct site_list *sites,
		   int64_t now, struct job *jobs, size_t *n)
{
	struct due due[BATCH_MAX];
	char *digests = digest_sites(sites);
	size_t n_due = 0;
	int r;

	*n = 0;
	if (!digests)
		return -ENOMEM;
	r = read_due(c, sql_due, now, digests, BATCH_MAX, due, &n_due);
	free(digests);
	for (size_t i = 0; r == 0 && i < n_due; i++) {
		struct job *j = &jobs[(*n)++];
		j->rows = malloc(sizeof(*j->rows));
		if (!j->rows)
			return -ENOMEM;
		j->rows[0] = due[i];
		j->n_rows = 1;
		j->site = outbox_site_find(sites->at, sites->n, due[i].site);
		r = compose(c, k, now, j);
	}
	for (size_t i = 0; r == 0 && i < sites->n; i++) {
		struct job *j = &jobs[*n];
		if (!sites->at[i].digest_minutes)
			continue;
		r = digest_job(c, &sites->at[i], now, j);
		if (j->n_rows) {
			(*n)++;
			if (r == 0)
				r = compose(c, k, now, j);
		} else {
			free(j->rows); /* nothing due yet: the slot is free again */
			memset(j, 0, sizeof(*j));
		}
	}
	return r;
}

static void send_job(const struct outbox_transport *t, int64_t now, struct job *j)
{
	j->result = 0;
	if (j->how == JOB_MAIL)
		j->result = t->mail(t->u, j->site, (const char *const *)j->rcpt, j->n_rcpt,
				    j->message, j->len, j->err);
	else if (j->how == JOB_WEBHOOK)
		j->result = t->webhook(t->u, j->site, type_names[j->rows[0].type], j->rows[0].event,
				       now, j->message, j->err);
	if (j->result < 0) {
		snprintf(j->err, sizeof(j->err), "internal error %d", j->result);
		j->result = 2;
	}
}

static const char sql_record[] =
    "UPDATE outbox_deliveries SET state = ?3, attempts = attempts + ?4, next_at = ?5,"
    " done_at = ?6, last_error = ?7 WHERE event_id = ?1 AND recipient = ?2 AND state = 'pending'";

static int record_row(struct store_conn *c, const struct due *d, const struct job *j, int64_t now,
		      struct outbox_report *rep)
{
	struct store_stmt *st = store_stmt(c, sql_record);
	const char *state = "delivered";
	int64_t next = now;

	if (!st)
		return -EIO;
	if (j->how == JOB_SKIP) {
		state = "skipped";
		rep->skipped++;
	} else if (j->result == 0) {
		rep->delivered++;
	} else {
		/* A job that was sent has its site. */
		next = now + outbox_backoff(d->attempts + 1, j->site->retry_seconds);
		if (j->result == 2 && next <= d->created + OUTBOX_GIVE_UP) {
			state = "pending";
			rep->retried++;
		} else {
			state = "failed";
			rep->failed++;
		}
	}
	store_bind_int64(st, 1, d->event);
	store_bind_text(st, 2, d->recipient);
	store_bind_text(st, 3, state);
	store_bind_int64(st, 4, j->how != JOB_SKIP);
	store_bind_int64(st, 5, next);
	if (strcmp(state, "pending") != 0)
		store_bind_int64(st, 6, now);
	if (j->how != JOB_SKIP && j->result != 0)
		store_bind_text(st, 7, j->err);
	if (strcmp(state, "delivered") != 0)
		log_info("outbox: event %lld to %s: %s%s%s", (long long)d->event, d->recipient,
			 state, j->err[0] ? ": " : "", j->err);
	else
		log_debug("outbox: event %lld to %s delivered", (long long)d->event, d->recipient);
	return store_run(c, st, "outbox record");
}

/* Records what the sends did and, in the same transaction (one commit per
 * pass: the worker's writes stay few beside the posts' group commits),
 * expands the events that came meanwhile. */
static int record(struct store_conn *c, struct job *jobs, size_t n, const struct site_list *sites,
		  int64_t now, struct outbox_report *rep)
{
	int r = store_begin(c);

	for (size_t i = 0; r == 0 && i < n; i++) {
		for (size_t k = 0; r == 0 && k < jobs[i].n_rows; k++)
			r = record_row(c, &jobs[i].rows[k], &jobs[i], now, rep);
	}
	if (r == 0)
		r = expand(c, sites, now, &rep->expanded, false);
	if (r == 0)
		r = store_commit(c);
	store_rollback(c);
	return r;
}

int outbox_run(struct store *s, const struct keys *k, const struct outbox_site *sites,
	       size_t n_sites, const struct outbox_transport *t, int64_t now,
	       struct outbox_report *rep)
{
	struct site_list list = {sites, n_sites};
	struct job *jobs = calloc(BATCH_MAX + n_sites, sizeof(*jobs));
	struct store_conn *c;
	size_t n = 0;
	int r;

	memset(rep, 0, sizeof(*rep));
	if (!jobs)
		return -ENOMEM;
	c = store_acquire(s);
	r = expand(c, &list, now, &rep->expanded, true);
	if (r == 0)
		r = prepare(c, k, &list, now, jobs, &n);
	store_release(s, c);
	/* No connection is held while a server is talked to. */
	for (size_t i = 0; r == 0 && i < n; i++)
		send_job(t, now, &jobs[i]);
	if (r == 0 && n) {
		c = store_acquire(s);
		r = record(c, jobs, n, &list, now, rep);
		store_release(s, c);
	}
	for (size_t i = 0; i < n; i++)
		job_clear(&jobs[i]);
	free(jobs);
	return r;
}

/* ---- listing and retention ---- */

static const char sql_list[] =
    "SELECT d.event_id, o.type, o.comment_id, d.recipient, d.state, d.attempts, d.next_at,"
    " d.last_error, o.created, o.site FROM outbox_deliveries d JOIN outbox o ON o.id = d.event_id"
    " WHERE (?1 OR d.state IN ('pending', 'failed'))"
    " AND (CAST(?3 AS TEXT) IS NULL OR o.site IN (SELECT value FROM json_each(?3)))"
    " ORDER BY d.event_id, d.recipient LIMIT ?2";

static json_t *list_row(struct store_stmt *st)
{
	char next[TIMEFMT_RFC3339], created[TIMEFMT_RFC3339], who[48];
	const char *recipient = store_col_text(st, 3);
	const char *state = store_col_text(st, 4);

	if (strncmp(recipient, "subscription:", 13) == 0)
		snprintf(who, sizeof(who), "subscription #%s", recipient + 13);
	else
		snprintf(who, sizeof(who), "%s", recipient);
	timefmt_rfc3339(store_col_int64(st, 6), next);
	timefmt_rfc3339(store_col_int64(st, 8), created);
	return json_pack("{s:I, s:s, s:s, s:I, s:s, s:s, s:i, s:s?, s:s?, s:s}", "event",
			 (json_int_t)store_col_int64(st, 0), "site", store_col_text(st, 9), "type",
			 store_col_text(st, 1), "comment", (json_int_t)store_col_int64(st, 2),
			 "recipient", who, "state", state, "attempts", store_col_int(st, 5), "next",
			 strcmp(state, "pending") == 0 ? next : NULL, "error",
			 store_col_text(st, 7), "created", created);
}

int outbox_list(struct store_conn *c, const char *scope, bool all, unsigned limit, json_t **out)
{
	struct store_stmt *st = store_stmt(c, sql_list);
	json_t *list = json_array();
	int r;

	if (!st || !list) {
		json_decref(list);
		return st ? -ENOMEM : -EIO;
	}
	store_bind_int64(st, 1, all);
	store_bind_int64(st, 2, limit ? limit : 1000);
	if (scope)
		store_bind_text(st, 3, scope);
	while ((r = store_row(c, st)) == 1) {
		if (json_array_append_new(list, list_row(st)) != 0) {
			r = -ENOMEM;
			break;
		}
	}
	store_reset(st);
	if (r < 0) {
		json_decref(list);
		return r;
	}
	*out = list;
	return 0;
}

static const char sql_old_events[] =
    "DELETE FROM outbox WHERE expanded = 1 AND created < ?1 AND NOT EXISTS"
    " (SELECT 1 FROM outbox_deliveries d WHERE d.event_id = outbox.id AND d.state = 'pending')";

int outbox_maintain(struct store_conn *c, const struct outbox_site *sites, size_t n_sites,
		    unsigned default_days, int64_t now, unsigned *n)
{
	struct subscribe_retention *days = calloc(n_sites ? n_sites : 1, sizeof(*days));
	struct store_stmt *st;
	unsigned subs = 0;
	int r;

	*n = 0;
	if (!days)
		return -ENOMEM;
	for (size_t i = 0; i < n_sites; i++)
		days[i] = (struct subscribe_retention){sites[i].id, sites[i].retention_days};
	r = store_begin(c);
	if (r != 0) {
		free(days);
		return r;
	}
	st = store_stmt(c, sql_old_events);
	if (!st) {
		r = -EIO;
		goto out;
	}
	store_bind_int64(st, 1, now - 30 * 86400);
	r = store_run(c, st, "outbox retention");
	if (r == 0) {
		*n += store_changes(c);
		r = subscribe_maintain(c, days, n_sites, default_days, now, &subs);
	}
	*n += subs;
	if (r == 0)
		r = link_prune(c, now);
	if (r == 0)
		r = store_commit(c);
out:
	store_rollback(c);
	free(days);
	return r;
}

/* ---- the network ---- */

static int network_mail(void *u, const struct outbox_site *site, const char *const *rcpt, size_t n,
			const char *message, size_t len, char err[OUTBOX_ERR_MAX])
{
	struct mail_server server = {site->smtp_url, site->smtp_password, site->smtp_from, u};
	int r;

	r = mail_send(&server, rcpt, n, message, len, err);
	return r == MAIL_REFUSED ? 3 : r == 0 ? 0 : 2;
}

static int network_webhook(void *u, const struct outbox_site *site, const char *type,
			   int64_t event_id, int64_t now, const char *body,
			   char err[OUTBOX_ERR_MAX])
{
	int r;

	r = webhook_post(site->webhook_url, site->webhook_secret, type, event_id, now, body, u,
			 err);
	return r == WEBHOOK_REFUSED ? 3 : r == 0 ? 0 : 2;
}

const struct outbox_transport outbox_network = {network_mail, network_webhook, NULL};
