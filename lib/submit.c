#include "submit.h"

#include "admin.h"
#include "cutoffs.h"
#include "explain.h"
#include "log.h"
#include "moderation.h"
#include "render.h"
#include "view.h"

#include <errno.h>
#include <sodium.h>
#include <stdio.h>
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
    [SUBMIT_REASON_TOO_FAST] = "too_fast",
    [SUBMIT_REASON_IMPERSONATION] = "impersonation",
    [SUBMIT_REASON_KEPT] = "kept",
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

/* Adds a reason with two numbers (links, too_fast). */
static void add_counted(struct submit_decision *d, enum submit_reason_code code, unsigned count,
			unsigned limit)
{
	struct submit_reason *r = add_reason(d, code);

	if (r) {
		r->count = count;
		r->limit = limit;
	}
}

/* The site's holds: a moderator's name, a post sent too fast, the link
 * limit and the mode.  Every one that applies is named.  True if any. */
static bool site_holds(struct submit_decision *d)
{
	const struct submit_facts *f = &d->facts;
	unsigned before = d->n_reasons;
	struct submit_reason *r;

	if (f->impersonated) {
		r = add_reason(d, SUBMIT_REASON_IMPERSONATION);
		if (r)
			r->name = f->impersonated;
	}
	if (f->min_seconds && f->render_seconds >= 0 && f->render_seconds < (long)f->min_seconds)
		add_counted(d, SUBMIT_REASON_TOO_FAST, (unsigned)f->render_seconds, f->min_seconds);
	if (f->links > f->max_links)
		add_counted(d, SUBMIT_REASON_LINKS, f->links, f->max_links);
	if (f->moderation == MODERATION_ALL)
		add_reason(d, SUBMIT_REASON_MODERATION_ALL);
	else if (f->moderation == MODERATION_FIRST && !f->previously_approved)
		add_reason(d, SUBMIT_REASON_FIRST_COMMENT);
	return d->n_reasons > before;
}

static enum comment_status rule(struct submit_decision *d)
{
	const struct submit_facts *f = &d->facts;
	enum comment_status s;
	bool held;

	if (f->origin == SUBMIT_IMPORT || f->origin == SUBMIT_MODERATOR) {
		add_reason(d, f->origin == SUBMIT_IMPORT ? SUBMIT_REASON_IMPORTED
							 : SUBMIT_REASON_MODERATOR);
		return f->given;
	}
	if (f->honeypot_filled) {
		add_reason(d, SUBMIT_REASON_HONEYPOT);
		return COMMENT_DISCARDED;
	}
	/* An e-mail address is not verified: whoever knows the author's may
	 * type it, so it does not lift the hold on the author's name. */
	if (f->allowlisted && !f->impersonated) {
		add_reason(d, SUBMIT_REASON_ALLOWLIST);
		return COMMENT_PUBLISHED;
	}
	if (f->blocked)
		return blocked(d);
	s = classifier_says(d);
	if (s == COMMENT_SPAM || s == COMMENT_DISCARDED)
		return s;
	held = site_holds(d);
	return held ? COMMENT_PENDING : s;
}

void submit_rule(struct submit_decision *d)
{
	d->n_reasons = 0;
	d->status = rule(d);
	if (d->facts.origin == SUBMIT_AUTHOR_EDIT)
		add_reason(d, SUBMIT_REASON_EDITED);
}

/* The parameters of one reason, added to item.  0 or -ENOMEM. */
static int reason_params(const struct submit_decision *d, const struct submit_reason *r,
			 json_t *item)
{
	int e = 0;

	switch (r->code) {
	case SUBMIT_REASON_CLASSIFIER:
		e |= json_object_set_new(item, "score", json_real(r->score));
		e |= json_object_set_new(item, "verdict",
					 json_string(classify_verdict_name(d->facts.verdict)));
		e |= json_object_set_new(item, "ham_cutoff", json_real(d->facts.ham_cutoff));
		e |= json_object_set_new(item, "spam_cutoff", json_real(d->facts.spam_cutoff));
		e |= json_object_set_new(
		    item, "cutoffs",
		    json_string(d->facts.cutoffs_learned ? "learned" : "configured"));
		e |= json_object_set_new(item, "tokens", explain_tokens(d->result.tokens_json));
		break;
	case SUBMIT_REASON_LINKS:
		e |= json_object_set_new(item, "count", json_integer(r->count));
		e |= json_object_set_new(item, "limit", json_integer(r->limit));
		break;
	case SUBMIT_REASON_TOO_FAST:
		e |= json_object_set_new(item, "seconds", json_integer(r->count));
		e |= json_object_set_new(item, "limit", json_integer(r->limit));
		break;
	case SUBMIT_REASON_IMPERSONATION:
		e |= json_object_set_new(item, "name", json_string(r->name ? r->name : ""));
		break;
	default:
		break;
	}
	return e ? -ENOMEM : 0;
}

json_t *submit_reasons_json(const struct submit_decision *d)
{
	json_t *list = json_array(), *item;

	for (unsigned i = 0; list && i < d->n_reasons; i++) {
		const struct submit_reason *r = &d->reasons[i];

		item = json_pack("{s:s}", "code", reason_names[r->code]);
		if (!item || reason_params(d, r, item) != 0) {
			json_decref(item);
			json_decref(list);
			return NULL;
		}
		if (json_array_append_new(list, item) != 0) {
			json_decref(list);
			return NULL;
		}
	}
	return list;
}

/* The verdict from the live cut-offs, not the classifier's copies: the
 * site's configured ones, narrowed to what its own decided comments
 * support when learn_cutoffs is on (lib/cutoffs.h), as of the classifier
 * generation the score was made at.  0 or negative. */
static int site_verdict(struct store_conn *c, const struct submit_site *site, double score,
			int64_t generation, struct submit_facts *f)
{
	struct classify_settings live = *site->classify;
	struct cutoffs_rule rule;
	struct cutoffs co = {live.ham_cutoff, live.spam_cutoff, false, 0, 0};
	int r = 0;

	if (live.learn_cutoffs) {
		cutoffs_rule_default(&rule, live.ham_cutoff, live.spam_cutoff);
		r = cutoffs_cached(site->cutoffs, c, site->id, generation, &rule, &co);
		if (r < 0)
			return r;
	}
	live.ham_cutoff = co.ham_cutoff;
	live.spam_cutoff = co.spam_cutoff;
	f->ham_cutoff = co.ham_cutoff;
	f->spam_cutoff = co.spam_cutoff;
	f->cutoffs_learned = co.learned;
	f->verdict = classify_verdict_for(&live, score, false, false);
	return 0;
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
	    .referrer = d->referrer,
	    .site_host = site->host && site->host[0] ? site->host : NULL,
	    .thread = content->thread,
	    .page_title = content->page_title,
	    .render_seconds = rq->render_seconds,
	    .honeypot_filled = rq->honeypot_filled,
	    .site = site->id,
	};
	struct classify_learned learned;
	int r;

	if (!site->classifier)
		return 0;
	/* The site's own learning over the other sites' (lib/classify.h). */
	r = classifier_score(site->classifier, c, &ci, &d->result);
	if (r == 0)
		r = classifier_learned(site->classifier, c, site->id, &learned);
	if (r < 0)
		return r;
	r = site_verdict(c, site, d->result.score, learned.generation, &d->facts);
	if (r < 0)
		return r;
	d->facts.classified = true;
	d->facts.score = d->result.score;
	d->facts.cold_start = learned.learned_spam < site->classify->min_learned ||
			      learned.learned_ham < site->classify->min_learned;
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
	/* Only the public posts under someone's name: Akismet checks decide
	 * only whether a comment is spam, which a name alone never makes it. */
	if (rq->origin == SUBMIT_JSON || rq->origin == SUBMIT_FORM ||
	    rq->origin == SUBMIT_AUTHOR_EDIT) {
		r = names_match(site->moderators, content->author, &f->impersonated);
		if (r < 0)
			return r;
	}
	if (f->moderation != MODERATION_FIRST || !email_hash || rq->origin == SUBMIT_AKISMET)
		return 0;
	r = comment_previously_approved(c, site->id, email_hash);
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
	    .render_seconds = rq->render_seconds,
	    .min_seconds = site->cfg->min_submit_seconds,
	};
	if (!email_hash && content->email) {
		keys_hash(site->keys, KEYS_EMAIL, content->email, strlen(content->email), hash);
		email_hash = hash;
	}
	/* Only where a visitor came from counts, never the page they read. */
	if (rq->referrer)
		host_referrer(rq->referrer, d->referrer);
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

/* The deciding tokens as kept and shown to moderators: the values of
 * tokens that would name the commenter's e-mail domain or network ("m:email:"
 * and "m:ip:" meta tokens) become keyed pseudonyms ("m:email:#3fa9...", the
 * same for the same domain), so no column holds them in clear.  Caller
 * frees; NULL when there are none or on OOM. */
static char *stored_tokens(const struct keys *k, const char *tokens_json)
{
	static const char *const private_prefixes[] = {"m:email:", "m:ip:"};
	json_t *list, *item;
	char *out = NULL;
	size_t i;

	/* Most decisions name no private token among their clues: keep the
	 * classifier's text as it is rather than parse and print it again
	 * (6 % of a post's CPU at a million comments).  Any mention of a
	 * prefix, wherever it is, takes the long way. */
	if (tokens_json && !strstr(tokens_json, private_prefixes[0]) &&
	    !strstr(tokens_json, private_prefixes[1]))
		return strdup(tokens_json);
	list = tokens_json ? json_loads(tokens_json, 0, NULL) : NULL;

	json_array_foreach(list, i, item)
	{
		const char *tok = json_string_value(json_object_get(item, "token"));
		for (size_t j = 0; tok && j < 2; j++) {
			size_t n = strlen(private_prefixes[j]);
			char pseudonym[KEYS_PSEUDONYM_MAX], text[32];
			if (strncmp(tok, private_prefixes[j], n) != 0 ||
			    strcmp(tok + n, "none") == 0 || strcmp(tok + n, "invalid") == 0)
				continue;
			keys_pseudonym(k, tok + n, strlen(tok + n), pseudonym);
			snprintf(text, sizeof(text), "%s%s", private_prefixes[j], pseudonym);
			json_object_set_new(item, "token", json_string(text));
			break;
		}
	}
	if (json_is_array(list))
		out = json_dumps(list, JSON_COMPACT | JSON_REAL_PRECISION(4));
	json_decref(list);
	return out;
}

/* The row that stores a decision, with the request facts it keeps. */
static void record_of(const struct submit_decision *d, const struct submit_request *rq,
		      const char *reasons, const char *tokens, struct comment_record *rec)
{
	*rec = (struct comment_record){
	    .status = d->status,
	    .score = d->facts.classified ? d->facts.score : -1,
	    .verdict = d->facts.classified ? classify_verdict_name(d->facts.verdict) : NULL,
	    .tokens = tokens,
	    .reasons = reasons,
	    .features = d->result.features,
	    .features_len = d->result.features_len,
	    .ip = rq->ip,
	    .user_agent = rq->user_agent,
	    .referrer = rq->referrer ? d->referrer : NULL,
	    .created = rq->now,
	    .moderator = rq->origin == SUBMIT_MODERATOR ? rq->moderator : NULL,
	    .silent = rq->origin == SUBMIT_IMPORT,
	    .notify = rq->notify,
	};
}

static char *reasons_text(const struct submit_decision *d)
{
	json_t *j = submit_reasons_json(d);
	char *s = j ? json_dumps(j, JSON_COMPACT) : NULL;

	json_decref(j);
	return s;
}

/* A decoy's content {thread, parent, author, url, text, avatar}, sealed:
 * *out (caller frees) of *len bytes.  0 or -ENOMEM. */
static int seal_decoy(const struct keys *k, const struct comment_input *in, const char *avatar,
		      unsigned char **out, size_t *len)
{
	json_t *j = json_pack("{s:s, s:I, s:s, s:s, s:s, s:s}", "thread", in->thread, "parent",
			      (json_int_t)in->parent, "author", in->author, "url",
			      in->url ? in->url : "", "text", in->text, "avatar", avatar);
	char *plain = j ? json_dumps(j, JSON_COMPACT) : NULL;
	size_t n = plain ? strlen(plain) : 0;

	json_decref(j);
	*out = plain ? malloc(n + KEYS_SEAL_OVERHEAD) : NULL;
	if (*out) {
		keys_seal(k, plain, n, *out);
		*len = n + KEYS_SEAL_OVERHEAD;
	}
	if (plain)
		sodium_memzero(plain, n);
	free(plain);
	return *out ? 0 : -ENOMEM;
}

static char *json_strdup(json_t *obj, const char *key, bool *ok)
{
	const char *v = json_string_value(json_object_get(obj, key));
	char *s = v ? strdup(v) : NULL;

	if (!s)
		*ok = false;
	return s;
}

/* A decoy's sealed content as a row (status discarded).  0, or 1 when it is
 * gone or unreadable. */
static int open_decoy(const struct keys *k, const struct comment_decoy *dc, struct comment_row *row)
{
	char *plain = comment_unseal(k, dc->sealed, dc->sealed_len);
	json_t *j = plain ? json_loads(plain, 0, NULL) : NULL;
	bool ok = json_is_object(j);

	memset(row, 0, sizeof(*row));
	if (ok) {
		row->id = dc->id;
		snprintf(row->site, sizeof(row->site), "%s", dc->site);
		row->thread = json_strdup(j, "thread", &ok);
		row->parent = json_integer_value(json_object_get(j, "parent"));
		row->author = json_strdup(j, "author", &ok);
		row->url = json_strdup(j, "url", &ok);
		row->text = json_strdup(j, "text", &ok);
		row->avatar = json_strdup(j, "avatar", &ok);
		row->status = COMMENT_DISCARDED;
		row->created = dc->created;
	}
	if (plain)
		sodium_memzero(plain, strlen(plain));
	free(plain);
	json_decref(j);
	if (!ok)
		comment_row_clear(row);
	return ok ? 0 : 1;
}

/* A discarded comment is counted, not stored; its poster gets what a held
 * comment's poster gets (a fresh id, the rendered text, the avatar, an
 * edit token that edits and deletes), so nothing tells the two apart. */
static int answer_discarded(struct store_conn *c, const struct submit_site *site,
			    struct comment_input *in, const struct submit_request *rq, json_t **out,
			    struct comment_error *err)
{
	unsigned char hash[KEYS_HASH_BYTES], *sealed = NULL;
	char avatar[KEYS_AVATAR_HEX], token[KEYS_TOKEN_CHARS];
	struct comment_view v = {0};
	size_t sealed_len = 0;
	char *html = NULL;
	int64_t id = 0;
	int r;

	r = comment_place(c, site->cfg, site->id, in->thread, &in->parent, err);
	if (r == 0) {
		r = render_markdown(in->text, strlen(in->text), &html);
		if (r > 0)
			r = comment_fail(err, 422, "text_too_long",
					 "The comment is too long to display.");
	}
	if (r == 0) {
		keys_avatar(site->keys, in->email, avatar);
		keys_token_new(site->keys, token, hash);
		r = seal_decoy(site->keys, in, avatar, &sealed, &sealed_len);
	}
	if (r == 0)
		r = comment_discard(c, site->id, rq->now, hash, sealed, sealed_len, &id, err);
	if (r == 0) {
		v = (struct comment_view){id,	   in->thread, in->parent, in->author,
					  in->url, rq->now,    html,	   avatar,
					  false,   false,      false,	   0};
		*out = view_poster(&v, token, rq->now + site->cfg->edit_window);
		r = *out ? 0 : -ENOMEM;
		log_info("comment: discarded (%s)",
			 rq->honeypot_filled ? "honeypot" : "classifier");
	}
	sodium_memzero(token, sizeof(token));
	free(sealed);
	free(html);
	return r;
}

static int store_comment(struct store_conn *c, const struct submit_site *site,
			 const struct comment_input *in, const struct submit_request *rq,
			 const struct submit_decision *d, json_t **out, struct comment_error *err)
{
	bool moderator = rq->origin == SUBMIT_MODERATOR;
	struct comment_stored stored;
	struct comment_record rec;
	struct comment_view v;
	char *reasons = reasons_text(d), *tokens = stored_tokens(site->keys, d->result.tokens_json);
	int r;

	if (!reasons) {
		free(tokens);
		return -ENOMEM;
	}
	record_of(d, rq, reasons, tokens, &rec);
	r = comment_create(c, site->cfg, site->keys, in, &rec, &stored, err);
	free(reasons);
	free(tokens);
	if (r != 0)
		return r;
	v = (struct comment_view){stored.id,   in->thread,    stored.parent,
				  in->author,  in->url,	      rq->now,
				  stored.html, stored.avatar, d->status == COMMENT_PUBLISHED,
				  false,       moderator,     0};
	/* A moderator edits a reply on the moderation page, not with a token. */
	*out =
	    view_poster(&v, moderator ? NULL : stored.edit_token, rq->now + site->cfg->edit_window);
	comment_stored_clear(&stored);
	return *out ? 0 : -ENOMEM;
}

/* A page address is kept when it is on one of the site's origins and its
 * query holds nothing that looks like an e-mail address (a newsletter's
 * link), which must not be stored. */
static bool page_url_allowed(const struct submit_site *site, const char *url)
{
	const char *query = strchr(url, '?');

	if (!site->origins || !net_redirect_allowed(site->origins, url))
		return false;
	return !query || (!strchr(query, '@') && !strcasestr(query, "%40"));
}

int submit_comment(struct store_conn *c, const struct submit_site *site, struct comment_input *in,
		   const struct submit_request *rq, struct submit_decision *d, json_t **out,
		   struct comment_error *err)
{
	struct submit_content content;
	int r;

	memset(d, 0, sizeof(*d));
	in->site = site->id;
	in->imported = rq->origin == SUBMIT_IMPORT;
	if (!in->imported) {
		in->email_hash = NULL;
		in->avatar = NULL;
	}
	r = comment_validate(site->cfg, in, err);
	if (r != 0)
		return r;
	if (in->page_url && *in->page_url && !page_url_allowed(site, in->page_url))
		in->page_url[0] = '\0';
	content = (struct submit_content){
	    in->thread, in->author, in->email && *in->email ? in->email : NULL,
	    in->url,	in->text,   in->page_title};
	r = submit_decide(c, site, &content, content.email ? NULL : in->email_hash, rq, d);
	if (r != 0)
		return r;
	if (d->status == COMMENT_DISCARDED)
		return answer_discarded(c, site, in, rq, out, err);
	return store_comment(c, site, in, rq, d, out, err);
}

/* The author's token against a stored hash, and the edit window. */
static int token_allows(const struct submit_site *site, const char *token, bool has_hash,
			const unsigned char stored[KEYS_HASH_BYTES], int64_t created, int64_t now,
			struct comment_error *err)
{
	unsigned char hash[KEYS_HASH_BYTES];

	keys_hash(site->keys, KEYS_TOKEN, token, strlen(token), hash);
	if (!has_hash || sodium_memcmp(stored, hash, sizeof(hash)) != 0)
		return comment_fail(err, 403, "forbidden", "The edit token is missing or wrong.");
	if (now > created + (int64_t)site->cfg->edit_window)
		return comment_fail(err, 403, "edit_window_closed",
				    "Comments can be changed only within %u minutes of posting.",
				    site->cfg->edit_window / 60);
	return 0;
}

/* A discarded comment's decoy for its author, as a row (status discarded):
 * the same token and window rules.  0, COMMENT_INVALID, negative. */
static int decoy_for_author(struct store_conn *c, const struct submit_site *site, int64_t id,
			    const char *token, int64_t now, struct comment_row *row,
			    struct comment_error *err)
{
	struct comment_decoy dc;
	int r = comment_decoy_load(c, id, &dc);

	if (r < 0)
		return r;
	/* Another site's decoy is no comment of this one's, as with stored
	 * comments: the answer must not tell a discarded post apart. */
	if (r == 1 && strcmp(dc.site, site->id) != 0) {
		comment_decoy_clear(&dc);
		r = 0;
	}
	if (r == 0)
		return comment_fail(err, 404, "not_found", "There is no such comment.");
	r = token_allows(site, token, dc.has_edit_hash, dc.edit_hash, dc.created, now, err);
	if (r == 0 && open_decoy(site->keys, &dc, row) != 0)
		r = comment_fail(err, 403, "edit_window_closed",
				 "Comments can be changed only within %u minutes of posting.",
				 site->cfg->edit_window / 60);
	comment_decoy_clear(&dc);
	return r;
}

/* Loads comment id - or a discarded comment's decoy - for its author: the
 * token must match and the edit window be open.  0 with *row filled
 * (caller clears; status COMMENT_DISCARDED for a decoy), or
 * COMMENT_INVALID. */
static int load_for_author(struct store_conn *c, const struct submit_site *site, int64_t id,
			   const char *token, int64_t now, struct comment_row *row,
			   struct comment_error *err)
{
	int r;

	if (!token || strlen(token) != KEYS_TOKEN_CHARS - 1)
		return comment_fail(err, 403, "forbidden", "The edit token is missing or wrong.");
	r = comment_load(c, site->keys, id, row);
	if (r < 0)
		return r;
	/* Another site's comment is no comment of this one's. */
	if (r == 1 && strcmp(row->site, site->id) != 0) {
		comment_row_clear(row);
		return comment_fail(err, 404, "not_found", "There is no such comment.");
	}
	if (r == 0)
		return decoy_for_author(c, site, id, token, now, row, err);
	if (row->status == COMMENT_DELETED)
		r = comment_fail(err, 403, "forbidden", "The edit token is missing or wrong.");
	else
		r = token_allows(site, token, row->has_edit_hash, row->edit_hash, row->created, now,
				 err);
	if (r != 0)
		comment_row_clear(row);
	return r;
}

/* A decoy's edit: the merged content, sealed again; never decided, never
 * published. */
static int edit_decoy(struct store_conn *c, const struct submit_site *site,
		      const struct comment_row *row, const struct comment_input *in)
{
	unsigned char *sealed = NULL;
	size_t len = 0;
	int r = seal_decoy(site->keys, in, row->avatar, &sealed, &len);

	if (r == 0)
		r = comment_decoy_update(c, row->id, sealed, len);
	free(sealed);
	return r;
}

static void input_clear(struct comment_input *in)
{
	free(in->thread);
	free(in->author);
	free(in->url);
	free(in->text);
	free(in->page_title);
	free(in->page_url);
	memset(in, 0, sizeof(*in));
}

/* How far a status is from being published. */
static int strictness(enum comment_status s)
{
	return s == COMMENT_PUBLISHED ? 0 : s == COMMENT_PENDING ? 1 : 2;
}

/* Decides an edited comment again and writes it (inside the caller's
 * transaction).  An edit cannot be discarded: what is stored stays, as
 * spam. */
static int decide_edit(struct store_conn *c, const struct submit_site *site,
		       const struct comment_row *row, const struct comment_input *in,
		       const char *html, const struct submit_request *rq, struct submit_decision *d)
{
	struct submit_content content = {in->thread, in->author, NULL,
					 in->url,    in->text,	 in->page_title};
	struct submit_request erq = *rq;
	struct comment_record rec;
	char email[COMMENT_SEALED_MAX + 8];
	char *reasons, *tokens;
	int r;

	/* The address is gone, its domain kept (sealed) for the edit window:
	 * the domain's blocklist and the classifier's e-mail token weigh the
	 * edit as they weighed the comment. */
	if (row->email_domain) {
		snprintf(email, sizeof(email), "edit@%s", row->email_domain);
		content.email = email;
	}
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
	/* An edit never lifts a hold or a spam verdict: were it to publish a
	 * held comment, or hold a discarded one's decoy but publish a spam
	 * one, the author would read the verdict from the answer. */
	if (strictness(row->status) > strictness(d->status)) {
		d->status = row->status;
		add_reason(d, SUBMIT_REASON_KEPT);
	}
	reasons = reasons_text(d);
	tokens = stored_tokens(site->keys, d->result.tokens_json);
	if (reasons) {
		record_of(d, &erq, reasons, tokens, &rec);
		r = comment_update(c, row->id, in, html, &rec, rq->now);
	} else {
		r = -ENOMEM;
	}
	free(reasons);
	free(tokens);
	return r;
}

static json_t *edited_answer(const struct comment_row *row, const struct comment_input *in,
			     const char *html, enum comment_status status)
{
	struct comment_view v = {row->id,    row->thread, row->parent,
				 in->author, in->url,	  row->created,
				 html,	     row->avatar, status == COMMENT_PUBLISHED,
				 false,	     false,	  row->likes};

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
	if (r == 0 && row.status == COMMENT_DISCARDED)
		r = comment_store_result(edit_decoy(c, site, &row, &in), err);
	else if (r == 0)
		r = comment_store_result(decide_edit(c, site, &row, &in, html, rq, d), err);
	if (r == 0)
		r = comment_store_result(store_commit(c), err);
	if (r == 0) {
		*out = edited_answer(&row, &in, html,
				     row.status == COMMENT_DISCARDED ? COMMENT_PENDING : d->status);
		r = *out ? 0 : -ENOMEM;
	}
	store_rollback(c);
	input_clear(&in);
	free(html);
	comment_row_clear(&row);
	return r;
}

/* The parent of a moderator's reply: it must exist, and be published
 * unless rp->approve (then *held says it must be approved).  Fills *thread
 * (caller frees).  0, COMMENT_INVALID, negative. */
static int reply_parent(struct store_conn *c, const struct submit_site *site,
			const struct submit_reply *rp, char **thread, bool *held,
			struct comment_error *err)
{
	struct comment_row row = {0};
	int r = comment_load(c, site->keys, rp->parent, &row);

	if (r < 0)
		return r;
	/* Another site's comment is answered from that site, not this one. */
	if (r == 1 && strcmp(row.site, site->id) != 0)
		r = 0;
	*held = r == 1 && row.status != COMMENT_PUBLISHED;
	if (r == 0 || row.status == COMMENT_DELETED)
		r = comment_fail(err, 404, "not_found", "Comment %lld does not exist.",
				 (long long)rp->parent);
	else if (*held && !rp->approve)
		r = comment_fail(err, 409, "parent_not_published",
				 "Comment %lld is not published; approve it with the reply "
				 "(\"approve\": true).",
				 (long long)rp->parent);
	else
		r = 0;
	if (r == 0) {
		*thread = row.thread;
		row.thread = NULL;
	}
	comment_row_clear(&row);
	return r;
}

/* The address a moderator's replies are stored with: only its keyed hash
 * is kept (the avatar's seed); nobody reads it. */
static void moderator_email(const char *actor, char out[64])
{
	unsigned char h[8];
	char hex[17];

	crypto_generichash(h, sizeof(h), (const unsigned char *)actor, strlen(actor), NULL, 0);
	sodium_bin2hex(hex, sizeof(hex), h, sizeof(h));
	snprintf(out, 64, "moderator-%s@moderators.invalid", hex);
}

/* The reply's audit row.  The reply is stored already and names its
 * moderator itself, so a failure here is logged, not undone. */
static void audit_reply(struct store_conn *c, const char *site, const char *actor,
			const json_t *reply)
{
	int64_t id = json_integer_value(json_object_get(reply, "id"));
	int r = store_begin(c);

	if (r == 0)
		r = audit_write(c, site, actor, "reply", id, NULL, false);
	if (r == 0)
		r = store_commit(c);
	store_rollback(c);
	if (r != 0)
		log_err("submit: reply %lld stored, its audit row not (%d)", (long long)id, r);
}

int submit_moderator_reply(struct store_conn *c, const struct submit_site *site,
			   const struct submit_reply *rp, int64_t now, struct submit_decision *d,
			   json_t **out, struct comment_error *err)
{
	const struct submit_request rq = {.origin = SUBMIT_MODERATOR,
					  .render_seconds = -1,
					  .now = now,
					  .status = COMMENT_PUBLISHED,
					  .moderator = rp->actor};
	struct comment_input in = {0};
	char email[64];
	bool held = false;
	int r;

	memset(d, 0, sizeof(*d));
	r = reply_parent(c, site, rp, &in.thread, &held, err);
	if (r == 0) {
		moderator_email(rp->actor, email);
		in.parent = rp->parent;
		in.author = strdup(rp->display_name);
		in.text = strdup(rp->text ? rp->text : "");
		in.email = email;
		/* Checked before the parent is approved: a bad reply changes
		 * nothing. */
		r = in.author && in.text ? comment_validate(site->cfg, &in, err) : -ENOMEM;
	}
	if (r == 0 && held)
		r = moderation_act(c, site->classifier, NULL, rp->actor, MODERATION_APPROVE,
				   rp->parent, err);
	if (r == 0)
		r = submit_comment(c, site, &in, &rq, d, out, err);
	if (r == 0)
		audit_reply(c, site->id, rp->actor, *out);
	in.email = NULL;
	input_clear(&in);
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
		r = comment_store_result(row.status == COMMENT_DISCARDED
					     ? comment_decoy_update(c, id, NULL, 0)
					     : comment_remove(c, id, now),
					 err);
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
