#include "submit.h"

#include "log.h"
#include "render.h"
#include "view.h"

#include <errno.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

static const char *const reason_names[] = {
    [SUBMIT_REASON_HONEYPOT] = "honeypot",
    [SUBMIT_REASON_ALLOWLIST] = "allowlist",
    [SUBMIT_REASON_BLOCKLIST_WORD] = "blocklist_word",
    [SUBMIT_REASON_BLOCKLIST_DOMAIN] = "blocklist_domain",
    [SUBMIT_REASON_BLOCKLIST_NETWORK] = "blocklist_network",
    [SUBMIT_REASON_CLASSIFIER] = "classifier",
    [SUBMIT_REASON_COLD_START] = "cold_start",
    [SUBMIT_REASON_LINKS] = "links",
    [SUBMIT_REASON_MODERATION_ALL] = "moderation_all",
    [SUBMIT_REASON_FIRST_COMMENT] = "first_comment",
    [SUBMIT_REASON_EDITED] = "edited",
    [SUBMIT_REASON_IMPORTED] = "imported",
    [SUBMIT_REASON_MODERATOR] = "moderator",
};

void submit_decision_clear(struct submit_decision *d)
{
	if (!d)
		return;
	classify_result_clear(&d->result);
	memset(d, 0, sizeof(*d));
}

static struct submit_reason *add_reason(struct submit_decision *d, enum submit_reason_code code)
{
	struct submit_reason *r;

	if (d->n_reasons == SUBMIT_REASONS_MAX)
		return NULL;
	r = &d->reasons[d->n_reasons++];
	memset(r, 0, sizeof(*r));
	r->code = code;
	return r;
}

static void add_classifier_reason(struct submit_decision *d)
{
	struct submit_reason *r = add_reason(d, SUBMIT_REASON_CLASSIFIER);

	if (r)
		r->score = d->facts.score;
	if (d->facts.cold_start)
		add_reason(d, SUBMIT_REASON_COLD_START);
}

static enum comment_status blocked(struct submit_decision *d)
{
	const char *what = d->facts.blocked;

	add_reason(d, strcmp(what, "word") == 0	     ? SUBMIT_REASON_BLOCKLIST_WORD
		      : strcmp(what, "network") == 0 ? SUBMIT_REASON_BLOCKLIST_NETWORK
						     : SUBMIT_REASON_BLOCKLIST_DOMAIN);
	return COMMENT_SPAM;
}

/* The classifier's part of the rule; COMMENT_PUBLISHED means "no
 * objection" (the site's own rules come next). */
static enum comment_status classifier_says(struct submit_decision *d)
{
	const struct submit_facts *f = &d->facts;
	enum comment_status s = COMMENT_PUBLISHED;

	if (!f->classified)
		return s;
	/* Cold start (the site learned too little): the score never files spam
	 * or discards, it only holds what looks like spam.  Where the shipped
	 * starter model spoke, it decides with the usual cut-offs (its doubt
	 * holds); without it, an untrained model's doubt holds nothing: a new
	 * blog's comments appear as the site policy says. */
	if (f->cold_start)
		s = (f->verdict == CLASSIFY_SPAM || f->verdict == CLASSIFY_DISCARD ||
		     (f->starter && f->verdict == CLASSIFY_UNSURE))
			? COMMENT_PENDING
			: COMMENT_PUBLISHED;
	else if (f->verdict == CLASSIFY_DISCARD)
		s = COMMENT_DISCARDED;
	else if (f->verdict == CLASSIFY_SPAM)
		s = COMMENT_SPAM;
	else if (f->verdict == CLASSIFY_UNSURE)
		s = COMMENT_PENDING;
	if (s != COMMENT_PUBLISHED)
		add_classifier_reason(d);
	return s;
}

/* The site's moderation settings: the link limit and the mode. */
static enum comment_status site_says(struct submit_decision *d)
{
	const struct submit_facts *f = &d->facts;
	struct submit_reason *r;

	if (f->links > f->max_links) {
		r = add_reason(d, SUBMIT_REASON_LINKS);
		if (r) {
			r->count = f->links;
			r->limit = f->max_links;
		}
		return COMMENT_PENDING;
	}
	if (f->moderation == MODERATION_ALL) {
		add_reason(d, SUBMIT_REASON_MODERATION_ALL);
		return COMMENT_PENDING;
	}
	if (f->moderation == MODERATION_FIRST && !f->previously_approved) {
		add_reason(d, SUBMIT_REASON_FIRST_COMMENT);
		return COMMENT_PENDING;
	}
	return COMMENT_PUBLISHED;
}

static enum comment_status rule(struct submit_decision *d)
{
	const struct submit_facts *f = &d->facts;
	enum comment_status s;

	if (f->origin == SUBMIT_IMPORT || f->origin == SUBMIT_MODERATOR) {
		add_reason(d, f->origin == SUBMIT_IMPORT ? SUBMIT_REASON_IMPORTED
							 : SUBMIT_REASON_MODERATOR);
		return f->given;
	}
	if (f->honeypot_filled) {
		add_reason(d, SUBMIT_REASON_HONEYPOT);
		return COMMENT_DISCARDED;
	}
	if (f->allowlisted) {
		add_reason(d, SUBMIT_REASON_ALLOWLIST);
		return COMMENT_PUBLISHED;
	}
	if (f->blocked)
		return blocked(d);
	s = classifier_says(d);
	return s != COMMENT_PUBLISHED ? s : site_says(d);
}

void submit_rule(struct submit_decision *d)
{
	d->n_reasons = 0;
	d->status = rule(d);
	if (d->facts.origin == SUBMIT_AUTHOR_EDIT)
		add_reason(d, SUBMIT_REASON_EDITED);
}

json_t *submit_reasons_json(const struct submit_decision *d)
{
	json_t *list = json_array(), *item;

	for (unsigned i = 0; list && i < d->n_reasons; i++) {
		const struct submit_reason *r = &d->reasons[i];

		item = json_pack("{s:s}", "code", reason_names[r->code]);
		if (item && r->code == SUBMIT_REASON_CLASSIFIER)
			json_object_set_new(item, "score", json_real(r->score));
		if (item && r->code == SUBMIT_REASON_LINKS) {
			json_object_set_new(item, "count", json_integer(r->count));
			json_object_set_new(item, "limit", json_integer(r->limit));
		}
		if (!item || json_array_append_new(list, item) != 0) {
			json_decref(list);
			return NULL;
		}
	}
	return list;
}

/* Scores the content; fills the classifier's facts.  0 or negative. */
static int classify(struct store_conn *c, const struct submit_site *site,
		    const struct submit_content *content, const struct submit_request *rq,
		    struct submit_decision *d)
{
	struct classify_input ci = {
	    .text = content->text,
	    .author = content->author,
	    .email = content->email,
	    .url = content->url,
	    .ip = rq->ip,
	    .user_agent = rq->user_agent ? rq->user_agent : "",
	    .referrer = rq->referrer ? rq->referrer : "",
	    .site_host = site->host && site->host[0] ? site->host : NULL,
	    .thread = content->thread,
	    .render_seconds = rq->render_seconds,
	    .honeypot_filled = rq->honeypot_filled,
	};
	uint64_t nspam = 0, nham = 0;
	int r;

	if (!site->classifier)
		return 0;
	r = classifier_score(site->classifier, c, &ci, &d->result);
	if (r == 0)
		r = classifier_counts(site->classifier, c, &nspam, &nham);
	if (r < 0)
		return r;
	/* The verdict from the live cut-offs, not the classifier's copies. */
	d->facts.classified = true;
	d->facts.score = d->result.score;
	d->facts.verdict = classify_verdict_for(site->classify, d->result.score, false, false);
	d->facts.cold_start =
	    nspam < site->classify->min_learned || nham < site->classify->min_learned;
	d->facts.starter =
	    d->result.model == CLASSIFY_MODEL_STARTER || d->result.model == CLASSIFY_MODEL_BOTH;
	return 0;
}

/* The site's lists and, under moderation = first, the commenter's history. */
static int site_facts(struct store_conn *c, const struct submit_site *site,
		      const struct submit_content *content, const unsigned char *email_hash,
		      const struct submit_request *rq, struct submit_facts *f)
{
	struct policy_facts pf;
	int r;

	policy_check(site->policy, content->text, content->author, content->url, content->email,
		     email_hash, rq->client, &pf);
	f->blocked = pf.blocklisted ? pf.block_reason : NULL;
	f->allowlisted = pf.allowlisted;
	f->links = pf.links;
	if (f->moderation != MODERATION_FIRST || !email_hash || rq->origin == SUBMIT_AKISMET)
		return 0;
	r = comment_previously_approved(c, email_hash);
	if (r < 0)
		return r;
	f->previously_approved = r == 1;
	return 0;
}

int submit_decide(struct store_conn *c, const struct submit_site *site,
		  const struct submit_content *content, const unsigned char *email_hash,
		  const struct submit_request *rq, struct submit_decision *d)
{
	unsigned char hash[KEYS_HASH_BYTES];
	int r;

	memset(d, 0, sizeof(*d));
	d->facts = (struct submit_facts){
	    .origin = rq->origin,
	    .moderation = site->cfg->moderation,
	    .score = -1,
	    .honeypot_filled = rq->honeypot_filled,
	    .max_links = site->cfg->max_links,
	    .given = rq->status,
	};
	if (content->email) {
		keys_hash(site->keys, KEYS_EMAIL, content->email, strlen(content->email), hash);
		email_hash = hash;
	}
	r = classify(c, site, content, rq, d);
	if (r == 0)
		r = site_facts(c, site, content, email_hash, rq, &d->facts);
	sodium_memzero(hash, sizeof(hash));
	if (r < 0) {
		submit_decision_clear(d);
		return r;
	}
	submit_rule(d);
	return 0;
}

/* The row that stores a decision, with the request facts it keeps. */
static void record_of(const struct submit_decision *d, const struct submit_request *rq,
		      const char *reasons, struct comment_record *rec)
{
	*rec = (struct comment_record){
	    .status = d->status,
	    .score = d->facts.classified ? d->facts.score : -1,
	    .verdict = d->facts.classified ? classify_verdict_name(d->facts.verdict) : NULL,
	    .tokens = d->result.tokens_json,
	    .reasons = reasons,
	    .features = d->result.features,
	    .features_len = d->result.features_len,
	    .ip = rq->ip,
	    .user_agent = rq->user_agent,
	    .referrer = rq->referrer,
	    .created = rq->now,
	};
}

static char *reasons_text(const struct submit_decision *d)
{
	json_t *j = submit_reasons_json(d);
	char *s = j ? json_dumps(j, JSON_COMPACT) : NULL;

	json_decref(j);
	return s;
}

/* A discarded comment is counted, not stored; its poster gets what a held
 * comment's poster gets (a fresh id, the rendered text, the avatar, an
 * edit token), so nothing tells the two apart. */
static int answer_discarded(struct store_conn *c, const struct submit_site *site,
			    struct comment_input *in, const struct submit_request *rq, json_t **out,
			    struct comment_error *err)
{
	unsigned char hash[KEYS_HASH_BYTES];
	char avatar[KEYS_AVATAR_HEX], token[KEYS_TOKEN_CHARS];
	struct comment_view v = {0};
	char *html = NULL;
	int64_t id = 0;
	int r;

	r = comment_place(c, site->cfg, in->thread, &in->parent, err);
	if (r == 0) {
		r = render_markdown(in->text, strlen(in->text), &html);
		if (r > 0)
			r = comment_fail(err, 422, "text_too_long",
					 "The comment is too long to display.");
	}
	if (r == 0)
		r = comment_discard(c, rq->now, &id, err);
	if (r == 0) {
		keys_avatar(site->keys, in->email, avatar);
		keys_token_new(site->keys, token, hash);
		v = (struct comment_view){id,	   in->thread, in->parent, in->author,
					  in->url, rq->now,    html,	   avatar,
					  false,   false,      0};
		*out = view_poster(&v, token, rq->now + site->cfg->edit_window);
		r = *out ? 0 : -ENOMEM;
		sodium_memzero(token, sizeof(token));
		log_info("comment: discarded (%s)",
			 rq->honeypot_filled ? "honeypot" : "classifier");
	}
	free(html);
	return r;
}

static int store_comment(struct store_conn *c, const struct submit_site *site,
			 const struct comment_input *in, const struct submit_request *rq,
			 const struct submit_decision *d, json_t **out, struct comment_error *err)
{
	struct comment_stored stored;
	struct comment_record rec;
	struct comment_view v;
	char *reasons = reasons_text(d);
	int r;

	if (!reasons)
		return -ENOMEM;
	record_of(d, rq, reasons, &rec);
	r = comment_create(c, site->cfg, site->keys, in, &rec, &stored, err);
	free(reasons);
	if (r != 0)
		return r;
	v = (struct comment_view){stored.id,
				  in->thread,
				  stored.parent,
				  in->author,
				  in->url,
				  rq->now,
				  stored.html,
				  stored.avatar,
				  d->status == COMMENT_PUBLISHED,
				  false,
				  0};
	*out = view_poster(&v, stored.edit_token, rq->now + site->cfg->edit_window);
	comment_stored_clear(&stored);
	return *out ? 0 : -ENOMEM;
}

int submit_comment(struct store_conn *c, const struct submit_site *site, struct comment_input *in,
		   const struct submit_request *rq, struct submit_decision *d, json_t **out,
		   struct comment_error *err)
{
	struct submit_content content;
	int r;

	memset(d, 0, sizeof(*d));
	r = comment_validate(site->cfg, in, err);
	if (r != 0)
		return r;
	content = (struct submit_content){in->thread, in->author, in->email, in->url, in->text};
	r = submit_decide(c, site, &content, NULL, rq, d);
	if (r != 0)
		return r;
	if (d->status == COMMENT_DISCARDED)
		return answer_discarded(c, site, in, rq, out, err);
	return store_comment(c, site, in, rq, d, out, err);
}

/* Loads comment id for its author: the token must match and the edit
 * window be open.  0 with *row filled (caller clears), or COMMENT_INVALID. */
static int load_for_author(struct store_conn *c, const struct submit_site *site, int64_t id,
			   const char *token, int64_t now, struct comment_row *row,
			   struct comment_error *err)
{
	unsigned char hash[KEYS_HASH_BYTES];
	bool token_ok;
	int r;

	if (!token || strlen(token) != KEYS_TOKEN_CHARS - 1)
		return comment_fail(err, 403, "forbidden", "The edit token is missing or wrong.");
	r = comment_load(c, id, row);
	if (r < 0)
		return r;
	if (r == 0)
		return comment_fail(err, 404, "not_found", "There is no such comment.");
	r = 0;
	keys_hash(site->keys, KEYS_TOKEN, token, strlen(token), hash);
	token_ok = row->has_edit_hash && sodium_memcmp(row->edit_hash, hash, sizeof(hash)) == 0;
	if (!token_ok || row->status == COMMENT_DELETED)
		r = comment_fail(err, 403, "forbidden", "The edit token is missing or wrong.");
	else if (now > row->created + (int64_t)site->cfg->edit_window)
		r = comment_fail(err, 403, "edit_window_closed",
				 "Comments can be changed only within %u minutes of posting.",
				 site->cfg->edit_window / 60);
	if (r != 0)
		comment_row_clear(row);
	return r;
}

static void input_clear(struct comment_input *in)
{
	free(in->thread);
	free(in->author);
	free(in->url);
	free(in->text);
	memset(in, 0, sizeof(*in));
}

/* Decides an edited comment again and writes it (inside the caller's
 * transaction).  An edit cannot be discarded: what is stored stays, as
 * spam. */
static int decide_edit(struct store_conn *c, const struct submit_site *site,
		       const struct comment_row *row, const struct comment_input *in,
		       const char *html, const struct submit_request *rq, struct submit_decision *d)
{
	struct submit_content content = {in->thread, in->author, NULL, in->url, in->text};
	struct submit_request erq = *rq;
	struct comment_record rec;
	char *reasons;
	int r;

	erq.origin = SUBMIT_AUTHOR_EDIT;
	if (!erq.ip)
		erq.ip = row->ip;
	if (!erq.user_agent)
		erq.user_agent = row->user_agent;
	r = submit_decide(c, site, &content, row->has_email_hash ? row->email_hash : NULL, &erq, d);
	if (r != 0)
		return r;
	if (d->status == COMMENT_DISCARDED)
		d->status = COMMENT_SPAM;
	reasons = reasons_text(d);
	if (!reasons)
		return -ENOMEM;
	record_of(d, &erq, reasons, &rec);
	r = comment_update(c, row->id, in, html, &rec, rq->now);
	free(reasons);
	return r;
}

static json_t *edited_answer(const struct comment_row *row, const struct comment_input *in,
			     const char *html, enum comment_status status)
{
	struct comment_view v = {row->id,    row->thread, row->parent,
				 in->author, in->url,	  row->created,
				 html,	     row->avatar, status == COMMENT_PUBLISHED,
				 false,	     row->likes};

	return view_poster(&v, NULL, 0);
}

int submit_author_edit(struct store_conn *c, const struct submit_site *site, int64_t id,
		       const char *token, const struct comment_change *ch,
		       const struct submit_request *rq, struct submit_decision *d, json_t **out,
		       struct comment_error *err)
{
	struct comment_input in = {0};
	struct comment_row row = {0};
	char *html = NULL;
	int r;

	memset(d, 0, sizeof(*d));
	r = comment_store_result(store_begin(c), err);
	if (r != 0)
		return r;
	r = load_for_author(c, site, id, token, rq->now, &row, err);
	if (r == 0)
		r = comment_merge_change(site->cfg, &row, ch, &in, &html, err);
	if (r == 0)
		r = comment_store_result(decide_edit(c, site, &row, &in, html, rq, d), err);
	if (r == 0)
		r = comment_store_result(store_commit(c), err);
	if (r == 0) {
		*out = edited_answer(&row, &in, html, d->status);
		r = *out ? 0 : -ENOMEM;
	}
	store_rollback(c);
	input_clear(&in);
	free(html);
	comment_row_clear(&row);
	return r;
}

int submit_author_delete(struct store_conn *c, const struct submit_site *site, int64_t id,
			 const char *token, int64_t now, json_t **out, struct comment_error *err)
{
	struct comment_row row = {0};
	int r;

	r = comment_store_result(store_begin(c), err);
	if (r != 0)
		return r;
	r = load_for_author(c, site, id, token, now, &row, err);
	if (r == 0)
		r = comment_store_result(comment_remove(c, id, now), err);
	if (r == 0)
		r = comment_store_result(store_commit(c), err);
	if (r == 0) {
		*out = json_pack("{s:I, s:b}", "id", (json_int_t)id, "deleted", 1);
		r = *out ? 0 : -ENOMEM;
	}
	store_rollback(c);
	comment_row_clear(&row);
	return r;
}
