/* Unit tests for lib/submit: the decision rule (every fact and their
 * precedence, with reasons), and the pipeline against a real store: the
 * poster's answers have one key set whatever the fate, discarded posts take
 * ids no comment gets, and an author's edit is decided exactly as a new
 * comment with that content. */
#include "fixture.h"
#include "tap.h"

#include "submit.h"
#include "cutoffs.h"

#include <string.h>
#include <time.h>

/* ---- the rule ------------------------------------------------------------ */

static enum comment_status rule(const struct submit_facts *f, const char **first_reason)
{
	static const char *const names[] = {
	    "honeypot",	  "allowlist",	"blocklist_word", "blocklist_domain", "blocklist_network",
	    "classifier", "cold_start", "links",	  "moderation_all",   "first_comment",
	    "edited",	  "imported",	"moderator",	  "too_fast",	      "impersonation"};
	struct submit_decision d = {.facts = *f};

	submit_rule(&d);
	*first_reason = d.n_reasons ? names[d.reasons[0].code] : "";
	return d.status;
}

static void test_modes(void)
{
	static const char *const mode_names[] = {"none", "first", "all"};
	static const char *const verdict_names[] = {"none", "ham", "unsure", "spam"};
	const char *why;
	int wrong = 0;

	for (int m = 0; m < 3; m++) {
		for (int v = 0; v < 4; v++) {
			for (int prev = 0; prev < 2; prev++) {
				struct submit_facts f = {
				    .moderation = (enum moderation_mode)m,
				    .classified = v > 0,
				    .verdict = (enum classify_verdict)(v > 0 ? v - 1 : 0),
				    .previously_approved = prev,
				    .max_links = 2};
				enum comment_status want;

				if (v == 3)
					want = COMMENT_SPAM;
				else if (v == 2)
					want = COMMENT_PENDING;
				else if (m == MODERATION_ALL)
					want = COMMENT_PENDING;
				else if (m == MODERATION_FIRST)
					want = prev ? COMMENT_PUBLISHED : COMMENT_PENDING;
				else
					want = COMMENT_PUBLISHED;
				if (!ok(rule(&f, &why) == want, "moderation %s, verdict %s, %s: %s",
					mode_names[m], verdict_names[v],
					prev ? "approved before" : "new author",
					comment_status_name(want)))
					wrong++;
			}
		}
	}
	if (wrong)
		diag("%d decisions wrong", wrong);
}

static void test_precedence(void)
{
	struct submit_facts f = {.moderation = MODERATION_NONE,
				 .classified = true,
				 .verdict = CLASSIFY_HAM,
				 .max_links = 2};
	const char *why;

	f.honeypot_filled = f.allowlisted = true;
	is_int(rule(&f, &why), COMMENT_DISCARDED, "a filled honeypot discards, even allowlisted");
	is_str(why, "honeypot", "  reason honeypot");
	f.honeypot_filled = false;
	f.moderation = MODERATION_ALL;
	f.verdict = CLASSIFY_SPAM;
	f.blocked = "word";
	is_int(rule(&f, &why), COMMENT_PUBLISHED, "the allowlist wins over mode, spam and lists");
	is_str(why, "allowlist", "  reason allowlist");
	f.allowlisted = false;
	f.moderation = MODERATION_NONE;
	f.verdict = CLASSIFY_HAM;
	is_int(rule(&f, &why), COMMENT_SPAM, "a blocklisted word files spam");
	is_str(why, "blocklist_word", "  reason blocklist_word");
	f.blocked = "domain";
	rule(&f, &why);
	is_str(why, "blocklist_domain", "  a blocklisted domain says so");
	f.blocked = "network";
	rule(&f, &why);
	is_str(why, "blocklist_network", "  a blocklisted network says so");
	f.blocked = NULL;
	f.links = 3;
	is_int(rule(&f, &why), COMMENT_PENDING, "more links than max_links: pending");
	is_str(why, "links", "  reason links");
	f.links = 2;
	is_int(rule(&f, &why), COMMENT_PUBLISHED, "exactly max_links: published");
	f.verdict = CLASSIFY_DISCARD;
	is_int(rule(&f, &why), COMMENT_DISCARDED, "a discard verdict discards");
	is_str(why, "classifier", "  reason classifier");
	f.verdict = CLASSIFY_UNSURE;
	f.links = 9;
	is_int(rule(&f, &why), COMMENT_PENDING, "unsure holds (before the link count)");
	is_str(why, "classifier", "  the classifier is named first");
	f.origin = SUBMIT_IMPORT;
	f.given = COMMENT_SPAM;
	is_int(rule(&f, &why), COMMENT_SPAM, "an import keeps its status");
	is_str(why, "imported", "  reason imported");
	f.origin = SUBMIT_MODERATOR;
	f.given = COMMENT_PUBLISHED;
	is_int(rule(&f, &why), COMMENT_PUBLISHED, "a moderator's reply is published as given");
}

static void test_cold_start(void)
{
	struct submit_facts f = {.moderation = MODERATION_NONE,
				 .classified = true,
				 .cold_start = true,
				 .verdict = CLASSIFY_SPAM,
				 .score = 0.999,
				 .max_links = 2};
	struct submit_decision d = {.facts = f};
	const char *why;

	is_int(rule(&f, &why), COMMENT_PENDING, "cold start: a spam score holds");
	submit_rule(&d);
	ok(d.n_reasons == 2 && d.reasons[1].code == SUBMIT_REASON_COLD_START,
	   "  reasons classifier and cold_start");
	f.verdict = CLASSIFY_DISCARD;
	is_int(rule(&f, &why), COMMENT_PENDING, "cold start: a discard score holds");
	f.verdict = CLASSIFY_UNSURE;
	is_int(rule(&f, &why), COMMENT_PUBLISHED, "cold start: doubt holds nothing (mode none)");
	f.moderation = MODERATION_ALL;
	is_int(rule(&f, &why), COMMENT_PENDING, "cold start, doubt, mode all: pending");
	is_str(why, "moderation_all", "  reason moderation_all");
}

static void test_reasons_json(void)
{
	struct submit_facts f = {.moderation = MODERATION_FIRST,
				 .links = 5,
				 .max_links = 2,
				 .origin = SUBMIT_AUTHOR_EDIT};
	struct submit_decision d = {.facts = f};
	json_t *j;
	char *s;

	submit_rule(&d);
	j = submit_reasons_json(&d);
	s = json_dumps(j, JSON_COMPACT);
	is_str(s,
	       "[{\"code\":\"links\",\"count\":5,\"limit\":2},{\"code\":\"first_comment\"},"
	       "{\"code\":\"edited\"}]",
	       "reasons as JSON: every hold that applies, then edited");
	free(s);
	json_decref(j);
}

/* The codes of d's reasons, joined by commas. */
static const char *codes(const struct submit_decision *d)
{
	static char out[200];
	json_t *j = submit_reasons_json(d), *r;
	size_t i, n = 0;

	out[0] = '\0';
	json_array_foreach(j, i, r)
	{
		n += (size_t)snprintf(out + n, sizeof(out) - n, "%s%s", i ? "," : "",
				      json_string_value(json_object_get(r, "code")));
		if (n >= sizeof(out))
			break;
	}
	json_decref(j);
	return out;
}

static void test_holds(void)
{
	struct submit_facts f = {.moderation = MODERATION_NONE,
				 .classified = true,
				 .verdict = CLASSIFY_HAM,
				 .max_links = 2,
				 .render_seconds = 1,
				 .min_seconds = 3};
	struct submit_decision d = {.facts = f};
	char *s;
	json_t *j;

	submit_rule(&d);
	is_int(d.status, COMMENT_PENDING, "sent 1 s after the render (min 3): held");
	is_str(codes(&d), "too_fast", "  reason too_fast");
	j = submit_reasons_json(&d);
	s = json_dumps(j, JSON_COMPACT);
	is_str(s, "[{\"code\":\"too_fast\",\"seconds\":1,\"limit\":3}]",
	       "  with the seconds and the limit");
	free(s);
	json_decref(j);
	d.facts.render_seconds = 3;
	submit_rule(&d);
	is_int(d.status, COMMENT_PUBLISHED, "3 s: not too fast");
	d.facts.render_seconds = -1;
	submit_rule(&d);
	is_int(d.status, COMMENT_PUBLISHED, "no valid stamp: the rule does not judge");
	d.facts.render_seconds = 0;
	d.facts.min_seconds = 0;
	submit_rule(&d);
	is_int(d.status, COMMENT_PUBLISHED, "min_submit_seconds 0: off");

	d.facts.impersonated = "Sjef";
	submit_rule(&d);
	is_int(d.status, COMMENT_PENDING, "a moderator's name: held");
	j = submit_reasons_json(&d);
	s = json_dumps(j, JSON_COMPACT);
	is_str(s, "[{\"code\":\"impersonation\",\"name\":\"Sjef\"}]",
	       "  reason impersonation, naming the display name");
	free(s);
	json_decref(j);
	d.facts.allowlisted = true;
	submit_rule(&d);
	is_int(d.status, COMMENT_PENDING,
	       "the allowlist does not lift it (e-mail is not verified)");
	is_str(codes(&d), "impersonation", "  no allowlist reason");
	d.facts.blocked = "word";
	submit_rule(&d);
	is_int(d.status, COMMENT_SPAM, "a blocklisted word is still spam");
	d.facts.blocked = NULL;
	d.facts.honeypot_filled = true;
	submit_rule(&d);
	is_int(d.status, COMMENT_DISCARDED, "a filled honeypot still discards");
	d.facts.honeypot_filled = false;
	d.facts.allowlisted = false;

	d.facts.render_seconds = 0;
	d.facts.min_seconds = 2;
	d.facts.links = 5;
	d.facts.moderation = MODERATION_ALL;
	submit_rule(&d);
	is_str(codes(&d), "impersonation,too_fast,links,moderation_all",
	       "every hold that applies is named, in order");
	d.facts.moderation = MODERATION_FIRST;
	d.facts.origin = SUBMIT_AUTHOR_EDIT;
	submit_rule(&d);
	is_str(codes(&d), "impersonation,too_fast,links,first_comment,edited",
	       "first_comment under moderation = first; edited last");
	d.facts = f;
	d.facts.render_seconds = 40;
	d.facts.verdict = CLASSIFY_UNSURE;
	d.facts.links = 3;
	submit_rule(&d);
	is_str(codes(&d), "classifier,links", "the classifier's doubt and the site's holds");
	d.facts.verdict = CLASSIFY_SPAM;
	submit_rule(&d);
	is_str(codes(&d), "classifier", "spam: the site's holds do not matter");
}

static void test_classifier_json(void)
{
	struct submit_decision d = {
	    .facts = {
		.classified = true, .verdict = CLASSIFY_SPAM, .score = 0.997, .max_links = 2}};
	json_t *j, *r;

	d.result.tokens_json =
	    strdup("[{\"token\":\"url:bit.ly\",\"p\":0.98,\"spam\":9,\"ham\":0},"
		   "{\"token\":\"m:email:example.nl\",\"p\":0.9,\"spam\":4,\"ham\":0}]");
	submit_rule(&d);
	j = submit_reasons_json(&d);
	r = json_array_get(j, 0);
	is_str(json_string_value(json_object_get(r, "code")), "classifier", "reason classifier");
	is_str(json_string_value(json_object_get(r, "verdict")), "spam", "  with its verdict");
	ok(json_real_value(json_object_get(r, "score")) > 0.99, "  and score");
	r = json_object_get(r, "tokens");
	is_int((int)json_array_size(r), 2, "  and the deciding tokens");
	is_str(json_string_value(json_object_get(json_array_get(r, 0), "kind")), "link",
	       "  readable: a link");
	is_str(json_string_value(json_object_get(json_array_get(r, 0), "text")), "bit.ly",
	       "  bit.ly");
	is_str(json_string_value(json_object_get(json_array_get(r, 1), "kind")), "email_domain",
	       "  an e-mail domain");
	ok(json_is_null(json_object_get(json_array_get(r, 1), "text")), "  without its value");
	json_decref(j);
	submit_decision_clear(&d);
}

/* ---- the pipeline -------------------------------------------------------- */

static struct fixture fx;
static struct classifier *cl;
static struct policy *pol;
static struct classify_settings cs;
static struct net_origins *origins;
static struct names *moderators;

static struct cutoffs_cache *cache; /* the learned cut-offs, as the daemon keeps them */

static struct submit_site site(void)
{
	return (struct submit_site){fx.cfg,  fx.keys,	 cl,	    pol,  &cs, "blog.example.nl",
				    origins, moderators, "default", cache};
}

static struct submit_request request(void)
{
	return (struct submit_request){.origin = SUBMIT_JSON,
				       .ip = "198.51.100.7",
				       .user_agent = "Mozilla/5.0 test",
				       .render_seconds = 40,
				       .now = time(NULL)};
}

/* Posts; returns the answer (caller frees) and the status decided. */
static json_t *post(const char *thread, const char *author, const char *url, const char *text,
		    bool honeypot, enum comment_status *status, struct comment_error *err)
{
	char t[64], a[64], e[] = "poster@example.org", u[128], x[512];
	struct comment_input in = {.thread = t,
				   .author = a,
				   .email = e,
				   .url = url ? u : NULL,
				   .text = x,
				   .site = "default"};
	struct submit_site s = site();
	struct submit_request rq = request();
	struct submit_decision d;
	json_t *out = NULL;
	int r;

	snprintf(t, sizeof(t), "%s", thread);
	snprintf(a, sizeof(a), "%s", author);
	snprintf(u, sizeof(u), "%s", url ? url : "");
	snprintf(x, sizeof(x), "%s", text);
	rq.honeypot_filled = honeypot;
	r = submit_comment(fx.conn, &s, &in, &rq, &d, &out, err);
	*status = d.status;
	submit_decision_clear(&d);
	if (r != 0)
		diag("submit_comment: %d %s", r, err->message);
	return out;
}

static void key_list(json_t *o, char *out, size_t cap)
{
	const char *k;
	json_t *v;
	size_t n = 0;
	char names[32][24];
	int count = 0;

	json_object_foreach(o, k, v)
	{
		if (count < 32)
			snprintf(names[count++], sizeof(names[0]), "%s", k);
	}
	qsort(names, (size_t)count, sizeof(names[0]), (int (*)(const void *, const void *))strcmp);
	out[0] = '\0';
	for (int i = 0; i < count && n < cap; i++)
		n += (size_t)snprintf(out + n, cap - n, "%s%s", i ? "," : "", names[i]);
}

static void test_fates(void)
{
	struct comment_error err;
	enum comment_status st[4];
	json_t *ans[4];
	char keys[4][300];
	int64_t ids[4];

	ans[0] = post("/fates", "Ann", NULL, "Mooi stuk, dank je!", false, &st[0], &err);
	ans[1] = post("/fates", "Bob", NULL, "see https://a.nl https://b.nl https://c.nl", false,
		      &st[1], &err);
	ans[2] = post("/fates", "Cas", NULL, "buy cheapviagra now", false, &st[2], &err);
	ans[3] = post("/fates", "Dee", NULL, "hello", true, &st[3], &err);
	is_int(st[0], COMMENT_PUBLISHED, "an ordinary comment is published");
	is_int(st[1], COMMENT_PENDING, "too many links: held");
	is_int(st[2], COMMENT_SPAM, "a blocklisted word: spam");
	is_int(st[3], COMMENT_DISCARDED, "a filled honeypot: discarded");
	for (int i = 0; i < 4; i++) {
		ok(ans[i] != NULL, "answer %d", i);
		key_list(ans[i], keys[i], sizeof(keys[i]));
		ids[i] = json_integer_value(json_object_get(ans[i], "id"));
	}
	for (int i = 1; i < 4; i++)
		is_str(keys[i], keys[0], "answer %d has the published answer's keys", i);
	for (int i = 1; i < 4; i++)
		is_str(json_string_value(json_object_get(ans[i], "status")), "pending",
		       "answer %d says pending", i);
	ok(ids[0] < ids[1] && ids[1] < ids[2] && ids[2] < ids[3], "ids rise");
	is_str(json_string_value(json_object_get(ans[3], "html")), "<p>hello</p>",
	       "the decoy shows the rendered text like a held answer");
	is_str(json_string_value(json_object_get(ans[3], "avatar")),
	       json_string_value(json_object_get(ans[0], "avatar")),
	       "the decoy's avatar is the address's, as for stored comments");
	{
		enum comment_status s;
		json_t *next = post("/fates", "Eve", NULL, "after the discard", false, &s, &err);
		ok(json_integer_value(json_object_get(next, "id")) > ids[3],
		   "a discarded post's id is never handed to the next comment");
		json_decref(next);
	}
	for (int i = 0; i < 4; i++)
		json_decref(ans[i]);
}

/* An author's edit of comment id (token from its answer). */
static int edit_at(json_t *created, const char *text, const char *author, const char *url,
		   int64_t later, enum comment_status *status, json_t **out,
		   struct comment_error *err)
{
	struct comment_change ch = {text ? strdup(text) : NULL, author ? strdup(author) : NULL,
				    url ? strdup(url) : NULL, url != NULL};
	struct submit_site s = site();
	struct submit_request rq = request();
	struct submit_decision d;
	int r;

	rq.now += later;
	r = submit_author_edit(fx.conn, &s, json_integer_value(json_object_get(created, "id")),
			       json_string_value(json_object_get(created, "edit_token")), &ch, &rq,
			       &d, out, err);
	*status = d.status;
	submit_decision_clear(&d);
	comment_change_clear(&ch);
	return r;
}

static int edit(json_t *created, const char *text, const char *author, const char *url,
		enum comment_status *status, json_t **out, struct comment_error *err)
{
	return edit_at(created, text, author, url, 0, status, out, err);
}

static void edit_like_new(const char *what, const char *text, const char *author, const char *url)
{
	enum comment_status fresh, edited;
	struct comment_error err;
	json_t *a, *b, *out = NULL;

	a = post("/edits", author ? author : "Ann", url, text ? text : "Gewoon een reactie.", false,
		 &fresh, &err);
	json_decref(a);
	b = post("/edits", "Ann", NULL, "Gewoon een reactie.", false, &edited, &err);
	is_int(edited, COMMENT_PUBLISHED, "%s: the original is published", what);
	is_int(edit(b, text, author, url, &edited, &out, &err), 0, "%s: the edit is accepted",
	       what);
	is_int(edited, fresh, "%s: decided as a new comment would be (%s)", what,
	       comment_status_name(fresh));
	is_str(json_string_value(json_object_get(out, "status")),
	       fresh == COMMENT_PUBLISHED ? "published" : "pending", "%s: the answer says so",
	       what);
	json_decref(out);
	json_decref(b);
}

static void test_edits(void)
{
	struct comment_error err;
	enum comment_status s;
	json_t *a, *out = NULL;
	char e[CONFIG_ERR_MAX];

	edit_like_new("a blocklisted word", "nu cheapviagra kopen", NULL, NULL);
	edit_like_new("a blocklisted link", "kijk op https://www.spam.example/x", NULL, NULL);
	edit_like_new("a spammy name", NULL, "cheapviagra", NULL);
	edit_like_new("a blocklisted website", NULL, NULL, "https://spam.example/");
	edit_like_new("too many links", "https://a.nl https://b.nl https://c.nl", NULL, NULL);
	edit_like_new("a clean text", "Nog steeds een gewone reactie.", NULL, NULL);

	a = post("/edits", "Ann", NULL, "Voor de wijziging.", false, &s, &err);
	is_int(s, COMMENT_PUBLISHED, "published under moderation none");
	config_set(fx.cfg, "moderation", "all", e);
	is_int(edit(a, "Een aanpassing.", NULL, NULL, &s, &out, &err), 0,
	       "edited under moderation all");
	is_int(s, COMMENT_PENDING, "  it waits again");
	is_str(json_string_value(json_object_get(out, "status")), "pending", "  and says so");
	json_decref(out);
	json_decref(a);
	config_set(fx.cfg, "moderation", "none", e);

	a = post("/edits", "Ann", NULL, "origineel", false, &s, &err);
	{
		json_t *bad = json_deep_copy(a);
		json_object_set_new(bad, "edit_token",
				    json_string("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"));
		is_int(edit(bad, "x", NULL, NULL, &s, &out, &err), COMMENT_INVALID,
		       "a wrong token");
		is_int(err.status, 403, "  403");
		json_object_set_new(bad, "edit_token", json_string("short"));
		is_int(edit(bad, "x", NULL, NULL, &s, &out, &err), COMMENT_INVALID,
		       "a short token");
		is_int(err.status, 403, "  403");
		json_object_set_new(bad, "id", json_integer(999999));
		json_object_set(bad, "edit_token", json_object_get(a, "edit_token"));
		is_int(edit(bad, "x", NULL, NULL, &s, &out, &err), COMMENT_INVALID,
		       "no such comment");
		is_int(err.status, 404, "  404");
		json_decref(bad);
	}
	is_int(edit(a, "", NULL, NULL, &s, &out, &err), COMMENT_INVALID, "an empty text");
	is_int(err.status, 422, "  422");
	is_int(edit_at(a, "later", NULL, NULL, 901, &s, &out, &err), COMMENT_INVALID,
	       "the window has closed 901 s later");
	is_str(err.code, "edit_window_closed", "  edit_window_closed");
	is_int(edit_at(a, "in time", NULL, NULL, 899, &s, &out, &err), 0, "899 s later: open");
	json_decref(out);
	{
		struct submit_site st = site();
		json_t *gone = NULL;
		int64_t id = json_integer_value(json_object_get(a, "id"));
		const char *tok = json_string_value(json_object_get(a, "edit_token"));

		is_int(submit_author_delete(fx.conn, &st, id, tok, time(NULL), &gone, &err), 0,
		       "the author deletes");
		ok(json_is_true(json_object_get(gone, "deleted")), "  deleted: true");
		json_decref(gone);
		is_int(submit_author_delete(fx.conn, &st, id, tok, time(NULL), &gone, &err),
		       COMMENT_INVALID, "a second delete finds nothing");
		is_int(err.status, 404, "  404");
	}
	json_decref(a);
}

static int64_t sql_int(const char *sql, int64_t id)
{
	struct store_stmt *q = store_stmt(fx.conn, sql);
	int64_t v = -1;

	store_bind_int64(q, 1, id);
	store_one_int64(fx.conn, q, &v);
	return v;
}

/* A text column of one row (static buffer; "(null)" for NULL). */
static const char *sql_text(const char *sql, const char *arg)
{
	static char out[2048];
	struct store_stmt *q = store_stmt(fx.conn, sql);

	snprintf(out, sizeof(out), "(none)");
	store_bind_text(q, 1, arg);
	if (store_row(fx.conn, q) == 1)
		snprintf(out, sizeof(out), "%s",
			 store_col_type(q, 0) == STORE_NULL ? "(null)" : store_col_text(q, 0));
	store_reset(q);
	return out;
}

/* Posts with the page's context; returns the status decided. */
static enum comment_status post_page(const char *thread, const char *author, const char *title,
				     const char *url, const char *text)
{
	char t[64], a[64], e[] = "page@example.org", x[256], pt[512], pu[512];
	struct comment_input in = {.thread = t,
				   .author = a,
				   .email = e,
				   .text = x,
				   .page_title = title ? pt : NULL,
				   .page_url = url ? pu : NULL,
				   .site = "default"};
	struct submit_site st = site();
	struct submit_request rq = request();
	struct comment_error err;
	struct submit_decision d;
	json_t *out = NULL;
	enum comment_status status;

	snprintf(t, sizeof(t), "%s", thread);
	snprintf(a, sizeof(a), "%s", author);
	snprintf(x, sizeof(x), "%s", text);
	snprintf(pt, sizeof(pt), "%s", title ? title : "");
	snprintf(pu, sizeof(pu), "%s", url ? url : "");
	if (submit_comment(fx.conn, &st, &in, &rq, &d, &out, &err) != 0)
		diag("submit_comment: %s", err.message);
	status = d.status;
	submit_decision_clear(&d);
	json_decref(out);
	return status;
}

static const char *thread_title(const char *path)
{
	return sql_text("SELECT title FROM threads WHERE path = ?1", path);
}

static const char *thread_url(const char *path)
{
	return sql_text("SELECT url FROM threads WHERE path = ?1", path);
}

static void test_context(void)
{
	char e[CONFIG_ERR_MAX];
	const char *page = "https://blog.example.nl/2011/01/social-media-realities";

	is_int(
	    post_page("/ctx", "Ann", "Social media\n realities \xe2\x80\x8b", page, "Mooi stuk."),
	    COMMENT_PUBLISHED, "a published post with its page");
	is_str(thread_title("/ctx"), "Social media realities",
	       "the thread has the title, one line");
	is_str(thread_url("/ctx"), page, "and the page's URL");
	post_page("/ctx", "Ann", "Social media realities (updated)", page, "Nog een.");
	is_str(thread_title("/ctx"), "Social media realities (updated)",
	       "a published post refreshes a changed title");
	post_page("/ctx", "Ann", NULL, NULL, "Zonder context.");
	is_str(thread_title("/ctx"), "Social media realities (updated)", "a post without keeps it");

	post_page("/ctx-off", "Ann", "T", "https://elsewhere.example/x", "Mooi.");
	is_str(thread_url("/ctx-off"), "(null)", "a page URL off the site's origins is dropped");
	is_str(thread_title("/ctx-off"), "T", "  the title is kept");
	post_page("/ctx-mail", "Ann", NULL, "https://blog.example.nl/x?mail=ann%40example.org",
		  "Mooi.");
	is_str(thread_url("/ctx-mail"), "(null)",
	       "a page URL with an address in its query is dropped");
	post_page("/ctx-js", "Ann", NULL, "javascript:alert(1)", "Mooi.");
	is_str(thread_url("/ctx-js"), "(null)", "not an http(s) URL: dropped");

	config_set(fx.cfg, "moderation", "all", e);
	is_int(post_page("/ctx-held", "Bea", "First title", page, "Wacht even."), COMMENT_PENDING,
	       "a held post");
	is_str(thread_title("/ctx-held"), "First title", "  fills in a thread without a title");
	post_page("/ctx-held", "Bea", "Renamed by a held post", page, "Wacht weer.");
	is_str(thread_title("/ctx-held"), "First title", "  but does not rename it");
	config_set(fx.cfg, "moderation", "none", e);
	is_int(post_page("/ctx-spam", "Cas", "Buy now", page, "cheapviagra"), COMMENT_SPAM,
	       "a post filed as spam");
	is_str(thread_title("/ctx-spam"), "(null)", "  sets no title");
	{
		char big[1200];
		memset(big, 'x', sizeof(big) - 1);
		big[sizeof(big) - 1] = '\0';
		big[0] = 'y';
		post_page("/ctx-long", "Dee", big, NULL, "Lang.");
		is_int((int)strlen(thread_title("/ctx-long")), COMMENT_TITLE_MAX,
		       "a title is cut at %d characters", COMMENT_TITLE_MAX);
	}
}

static void test_impersonation(void)
{
	enum comment_status st;
	struct comment_error err;
	json_t *a;

	names_new(&moderators);
	names_add(moderators, "Sjef Kerkhofs");
	a = post("/imp", "sjef  kerkhofs", NULL, "Ik ben de echte.", false, &st, &err);
	is_int(st, COMMENT_PENDING, "a post under a moderator's name is held");
	{
		int64_t id = json_integer_value(json_object_get(a, "id"));
		struct store_stmt *q =
		    store_stmt(fx.conn, "SELECT reasons FROM comments WHERE id = ?1");
		char stored[300] = "";

		store_bind_int64(q, 1, id);
		if (store_row(fx.conn, q) == 1)
			snprintf(stored, sizeof(stored), "%s", store_col_text(q, 0));
		store_reset(q);
		is_str(stored, "[{\"code\":\"impersonation\",\"name\":\"Sjef Kerkhofs\"}]",
		       "  stored with reason impersonation");
	}
	is_str(json_string_value(json_object_get(a, "status")), "pending",
	       "  the poster is told pending");
	json_decref(a);
	a = post("/imp",
		 "\xd0\x85j\xd0\xb5"
		 "f Kerkhofs",
		 NULL, "Echt waar.", false, &st, &err);
	is_int(st, COMMENT_PENDING, "with Cyrillic lookalikes too");
	json_decref(a);
	a = post("/imp", "Sjef", NULL, "Alleen mijn voornaam.", false, &st, &err);
	is_int(st, COMMENT_PUBLISHED, "another name is published");
	{
		struct comment_error e2;
		json_t *out = NULL;

		is_int(edit(a, NULL, "Sjef Kerkhofs", NULL, &st, &out, &e2), 0,
		       "the author renames the comment to the moderator's name");
		is_int(st, COMMENT_PENDING, "  the edit is held");
		json_decref(out);
	}
	json_decref(a);
	names_free(moderators);
	moderators = NULL;
}

static int reply(int64_t parent, const char *text, bool approve, json_t **out,
		 struct comment_error *err)
{
	struct submit_reply rp = {parent, text, "sjef", "Sjef", approve};
	struct submit_site st = site();
	struct submit_decision d;
	int r;

	*out = NULL;
	r = submit_moderator_reply(fx.conn, &st, &rp, time(NULL), &d, out, err);
	submit_decision_clear(&d);
	return r;
}

static void test_reply(void)
{
	char e[CONFIG_ERR_MAX];
	struct comment_error err;
	enum comment_status st;
	json_t *a, *r = NULL, *tree = NULL;
	int64_t pid, rid, daily;

	a = post("/reply", "Danny", NULL, "Leuk artikel!", false, &st, &err);
	pid = json_integer_value(json_object_get(a, "id"));
	json_decref(a);
	daily = sql_int("SELECT coalesce(sum(count), 0) FROM decided_daily WHERE ?1 = ?1", 0);
	is_int(reply(pid, "Dank je, Danny!", false, &r, &err), 0, "a moderator replies");
	rid = json_integer_value(json_object_get(r, "id"));
	ok(json_is_true(json_object_get(r, "author_badge")), "  the answer has the author badge");
	is_str(json_string_value(json_object_get(r, "author")), "Sjef", "  under the display name");
	is_str(json_string_value(json_object_get(r, "status")), "published", "  published");
	is_int(json_integer_value(json_object_get(r, "parent")), pid, "  under the comment");
	ok(!json_object_get(r, "edit_token"), "  no edit token");
	json_decref(r);
	{
		struct store_stmt *q = store_stmt(
		    fx.conn, "SELECT moderator, reasons, status FROM comments WHERE id = ?1");
		char m[64] = "", rs[200] = "", s2[20] = "";

		store_bind_int64(q, 1, rid);
		if (store_row(fx.conn, q) == 1) {
			snprintf(m, sizeof(m), "%s", store_col_text(q, 0));
			snprintf(rs, sizeof(rs), "%s", store_col_text(q, 1));
			snprintf(s2, sizeof(s2), "%s", store_col_text(q, 2));
		}
		store_reset(q);
		is_str(m, "sjef", "  stored with the token's name");
		is_str(rs, "[{\"code\":\"moderator\"}]", "  reason moderator");
		is_str(s2, "published", "  status published");
	}
	is_int(
	    sql_int("SELECT count(*) FROM audit WHERE action = 'reply' AND comment_id = ?1", rid),
	    1, "  audited as a reply");
	is_int(sql_int("SELECT coalesce(sum(count), 0) FROM decided_daily WHERE ?1 = ?1", 0), daily,
	       "  not counted as a filter decision");
	{
		struct comment_page_query pq = {.site = "default",
						.thread = "/reply",
						.from = {0, 0, 0, COMMENT_ROW_DONE},
						.roots = 50,
						.rows = 300,
						.bytes = COMMENT_PAGE_BYTES};
		is_int(comment_thread_page(fx.conn, &pq, &tree), 0, "the thread");
	}
	{
		json_t *top = json_array_get(json_object_get(tree, "comments"), 0);
		json_t *rep = json_array_get(json_object_get(top, "replies"), 0);
		ok(json_is_false(json_object_get(top, "author_badge")),
		   "  the reader's comment: no badge");
		ok(json_is_true(json_object_get(rep, "author_badge")), "  the reply: the badge");
	}
	json_decref(tree);

	is_int(reply(999999, "Hallo?", false, &r, &err), COMMENT_INVALID, "no such comment");
	is_int(err.status, 404, "  404");
	config_set(fx.cfg, "moderation", "all", e);
	a = post("/reply", "Martin", NULL, "Goede punten.", false, &st, &err);
	config_set(fx.cfg, "moderation", "none", e);
	pid = json_integer_value(json_object_get(a, "id"));
	json_decref(a);
	is_int(st, COMMENT_PENDING, "a held comment");
	is_int(reply(pid, "Dank!", false, &r, &err), COMMENT_INVALID, "a reply to it alone");
	is_int(err.status, 409, "  409");
	is_str(err.code, "parent_not_published", "  parent_not_published");
	is_int(reply(pid, "   ", true, &r, &err), COMMENT_INVALID, "approve and an empty reply");
	is_int(err.status, 422, "  422");
	is_int(sql_int("SELECT status = 'pending' FROM comments WHERE id = ?1", pid), 1,
	       "  the parent is not approved by a refused reply");
	is_int(reply(pid, "Dank, Martin.", true, &r, &err), 0, "approve and reply");
	is_int(sql_int("SELECT status = 'published' FROM comments WHERE id = ?1", pid), 1,
	       "  the parent is published");
	is_int(
	    sql_int("SELECT count(*) FROM audit WHERE action = 'approve' AND comment_id = ?1", pid),
	    1, "  its approval audited");
	ok(json_is_true(json_object_get(r, "author_badge")), "  the reply has the badge");
	json_decref(r);
}

/* A held or spam-filed comment's edit never lifts its status: the answer
 * would tell its author what the filter thought. */
static void test_kept(void)
{
	struct comment_error err;
	enum comment_status s;
	json_t *a, *out = NULL;

	a = post("/kept", "Bob", NULL, "see https://a.nl https://b.nl https://c.nl", false, &s,
		 &err);
	is_int(s, COMMENT_PENDING, "held for its links");
	is_int(edit(a, "Geen links meer.", NULL, NULL, &s, &out, &err), 0, "edited to no links");
	is_int(s, COMMENT_PENDING, "  still held");
	is_str(json_string_value(json_object_get(out, "status")), "pending", "  and says pending");
	json_decref(out);
	json_decref(a);
	a = post("/kept", "Cas", NULL, "buy cheapviagra now", false, &s, &err);
	is_int(s, COMMENT_SPAM, "spam for a word");
	is_int(edit(a, "Een nette reactie.", NULL, NULL, &s, &out, &err), 0, "edited clean");
	is_int(s, COMMENT_SPAM, "  still spam");
	is_str(json_string_value(json_object_get(out, "status")), "pending", "  and says pending");
	json_decref(out);
	json_decref(a);
	{
		struct store_stmt *q = store_stmt(fx.conn, "SELECT reasons FROM comments WHERE id ="
							   " (SELECT max(id) FROM comments)");
		ok(store_row(fx.conn, q) == 1 && strstr(store_col_text(q, 0), "\"kept\""),
		   "  with the reason kept");
		store_reset(q);
	}
}

/* A discarded post's decoy answers its author's edits and deletion as a
 * held comment's would. */
static void test_decoys(void)
{
	struct comment_error err;
	enum comment_status s;
	json_t *held, *decoy, *out_h = NULL, *out_d = NULL, *out = NULL;
	char kh[300], kd[300];

	held = post("/decoy", "Dee", "https://dee.example/",
		    "see https://a.nl https://b.nl https://c.nl", false, &s, &err);
	decoy = post("/decoy", "Dee", "https://dee.example/", "hello there", true, &s, &err);
	is_int(s, COMMENT_DISCARDED, "discarded");
	is_int(edit(held, "An *edited* text", NULL, NULL, &s, &out_h, &err), 0, "a held edit");
	is_int(edit(decoy, "An *edited* text", NULL, NULL, &s, &out_d, &err), 0,
	       "the decoy's edit is accepted");
	key_list(out_h, kh, sizeof(kh));
	key_list(out_d, kd, sizeof(kd));
	is_str(kd, kh, "  with the held edit's keys");
	is_str(json_string_value(json_object_get(out_d, "status")), "pending", "  pending");
	is_str(json_string_value(json_object_get(out_d, "html")), "<p>An <em>edited</em> text</p>",
	       "  the edited text");
	is_str(json_string_value(json_object_get(out_d, "author")), "Dee", "  the author kept");
	is_str(json_string_value(json_object_get(out_d, "url")), "https://dee.example/",
	       "  the website kept");
	is_int(json_integer_value(json_object_get(out_d, "id")),
	       json_integer_value(json_object_get(decoy, "id")), "  the same id");
	is_int(edit(decoy, NULL, "Dee Two", NULL, &s, &out, &err), 0, "a second edit");
	is_str(json_string_value(json_object_get(out, "html")), "<p>An <em>edited</em> text</p>",
	       "  keeps the first edit's text");
	is_str(json_string_value(json_object_get(out, "author")), "Dee Two", "  with the new name");
	json_decref(out);
	is_int(edit(decoy, "   ", NULL, NULL, &s, &out, &err), COMMENT_INVALID, "an empty text");
	is_int(err.status, 422, "  422 as for any comment");
	is_int(edit_at(decoy, "late", NULL, NULL, 901, &s, &out, &err), COMMENT_INVALID,
	       "901 s later");
	is_str(err.code, "edit_window_closed", "  edit_window_closed");
	{
		json_t *bad = json_deep_copy(decoy);
		json_object_set_new(bad, "edit_token",
				    json_string("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"));
		is_int(edit(bad, "x", NULL, NULL, &s, &out, &err), COMMENT_INVALID,
		       "a wrong token");
		is_str(err.code, "forbidden", "  forbidden");
		json_decref(bad);
	}
	{
		struct submit_site st = site();
		json_t *gone = NULL;
		int64_t id = json_integer_value(json_object_get(decoy, "id"));
		const char *tok = json_string_value(json_object_get(decoy, "edit_token"));
		struct store_stmt *q;
		int64_t n = -1;

		is_int(submit_author_delete(fx.conn, &st, id, tok, time(NULL), &gone, &err), 0,
		       "the decoy's author deletes it");
		ok(json_is_true(json_object_get(gone, "deleted")) &&
		       json_integer_value(json_object_get(gone, "id")) == id,
		   "  {id, deleted: true}");
		json_decref(gone);
		is_int(submit_author_delete(fx.conn, &st, id, tok, time(NULL), &gone, &err),
		       COMMENT_INVALID, "again");
		is_int(err.status, 404, "  404, as for a held comment");
		q = store_stmt(fx.conn, "SELECT count(*) FROM comments WHERE text LIKE '%edited%'"
					" AND author LIKE 'Dee%' AND url = 'https://dee.example/'");
		store_one_int64(fx.conn, q, &n);
		is_int(n, 1, "only the held comment was stored, never the decoy");
	}
	json_decref(out_h);
	json_decref(out_d);
	json_decref(held);
	json_decref(decoy);
}

/* What a stored comment keeps of the request. */
static void test_kept_facts(void)
{
	char t[] = "/facts", a[] = "Fay", e[] = "fay@private.example", x[] = "Een reactie.";
	struct comment_input in = {.thread = t, .author = a, .email = e, .text = x};
	struct submit_site s = site();
	struct submit_request rq = request();
	struct submit_decision d;
	struct comment_error err;
	struct comment_row row;
	json_t *out = NULL;
	struct store_stmt *q;

	rq.referrer = "https://User:pw@Blog.Example.NL:8443/2011/01/post?session=s3cr3t#c";
	is_int(submit_comment(fx.conn, &s, &in, &rq, &d, &out, &err), 0, "posted");
	is_str(d.referrer, "https://blog.example.nl/", "the Referer is weighed as its host");
	submit_decision_clear(&d);
	q = store_stmt(fx.conn, "SELECT referrer, ip FROM comments WHERE id = ?1");
	store_bind_int64(q, 1, json_integer_value(json_object_get(out, "id")));
	ok(store_row(fx.conn, q) == 1 &&
	       strcmp(store_col_text(q, 0), "https://blog.example.nl/") == 0 &&
	       store_col_type(q, 1) == STORE_NULL,
	   "and kept so; the address is not kept in clear");
	store_reset(q);
	is_int(comment_load(fx.conn, fx.keys, json_integer_value(json_object_get(out, "id")), &row),
	       1, "loaded with the key");
	ok(row.ip && strcmp(row.ip, "198.51.100.7") == 0 && row.email_domain &&
	       strcmp(row.email_domain, "private.example") == 0,
	   "the sealed address and e-mail domain open");
	comment_row_clear(&row);
	json_decref(out);

	/* The e-mail domain weighs in an edit as in the post: a domain
	 * blocklisted since the post sends the edit to spam. */
	{
		char e2[] = "someone@later.example", t2[] = "/facts", a2[] = "Gus", x2[] = "first";
		struct comment_input in2 = {.thread = t2, .author = a2, .email = e2, .text = x2};
		struct policy *strict = NULL, *saved = pol;
		enum comment_status st;
		json_t *edited = NULL;
		char ce[CONFIG_ERR_MAX];

		rq = request();
		submit_comment(fx.conn, &s, &in2, &rq, &d, &out, &err);
		is_int(d.status, COMMENT_PUBLISHED, "posted from later.example: published");
		submit_decision_clear(&d);
		config_set(fx.cfg, "blocklist_domains", "spam.example later.example", ce);
		if (policy_new(&strict, fx.cfg) != 0)
			exit(1);
		pol = strict;
		is_int(edit(out, "A perfectly innocent text.", NULL, NULL, &st, &edited, &err), 0,
		       "edited after later.example was blocklisted");
		is_int(st, COMMENT_SPAM, "  decided with the sealed e-mail domain: spam");
		pol = saved;
		policy_free(strict);
		config_set(fx.cfg, "blocklist_domains", "spam.example", ce);
		json_decref(edited);
		json_decref(out);
	}
}

static void test_decide_only(void)
{
	struct submit_content c = {
	    "/p", "Akismet", "a@example.org", NULL, "cheapviagra for everyone", NULL};
	struct submit_request rq = request();
	struct submit_site s = site();
	struct submit_decision d;
	int64_t before = -1, after = -1;
	struct store_stmt *q;

	rq.origin = SUBMIT_AKISMET;
	q = store_stmt(fx.conn, "SELECT count(*) FROM comments");
	store_one_int64(fx.conn, q, &before);
	is_int(submit_decide(fx.conn, &s, &c, NULL, &rq, &d), 0, "decide only");
	is_int(d.status, COMMENT_SPAM, "a blocklisted word is spam to a check too");
	submit_decision_clear(&d);
	q = store_stmt(fx.conn, "SELECT count(*) FROM comments");
	store_one_int64(fx.conn, q, &after);
	is_int(after, before, "nothing was stored");
}

/* Posts text from email to thread; the status and the reasons' codes. */
static enum comment_status post_from(const char *email, const char *thread, const char *text,
				     char reasons[200])
{
	char t[64], a[] = "Someone", e[64], x[512];
	struct comment_input in = {
	    .thread = t, .author = a, .email = e, .text = x, .site = "default"};
	struct submit_site s = site();
	struct submit_request rq = request();
	struct comment_error err;
	struct submit_decision d;
	enum comment_status status;
	json_t *out = NULL;

	snprintf(t, sizeof(t), "%s", thread);
	snprintf(e, sizeof(e), "%s", email);
	snprintf(x, sizeof(x), "%s", text);
	if (submit_comment(fx.conn, &s, &in, &rq, &d, &out, &err) != 0)
		diag("submit_comment: %s", err.message);
	status = d.status;
	snprintf(reasons, 200, "%s", codes(&d));
	submit_decision_clear(&d);
	json_decref(out);
	return status;
}

/* moderation = first: only an approved (published) comment of the same
 * address lets the next one through; a held or spam one does not. */
static void test_first_comment(void)
{
	char e[CONFIG_ERR_MAX], why[200];
	int64_t id;

	config_set(fx.cfg, "moderation", "first", e);
	is_int(post_from("Newcomer@Example.org", "/first", "Mijn eerste reactie.", why),
	       COMMENT_PENDING, "moderation first: a new address is held");
	is_str(why, "first_comment", "  reason first_comment");
	is_int(post_from("newcomer@example.org", "/first", "Nog een reactie.", why),
	       COMMENT_PENDING, "while its first comment waits, the next one is held too");
	is_int(post_from("newcomer@example.org", "/first", "cheapviagra", why), COMMENT_SPAM,
	       "one filed as spam");
	is_int(post_from("newcomer@example.org", "/first", "Derde reactie.", why), COMMENT_PENDING,
	       "a held and a spam comment do not count as approved");
	id = sql_int("SELECT min(id) FROM comments WHERE text = 'Mijn eerste reactie.'", 0);
	store_begin(fx.conn);
	store_exec(fx.conn, "UPDATE comments SET status = 'published'"
			    " WHERE text = 'Mijn eerste reactie.'");
	store_commit(fx.conn);
	ok(id > 0, "the first comment is approved (%lld)", (long long)id);
	is_int(post_from("NEWCOMER@example.org", "/first", "Vierde reactie.", why),
	       COMMENT_PUBLISHED, "then the address's next comment is published (any case)");
	config_set(fx.cfg, "moderation", "none", e);
}

/* An imported deleted comment (the tombstone its replies hang on) keeps
 * nothing of its author, even when the source gave an address, a client
 * address and a user agent with it. */
static void test_import_tombstone(void)
{
	char t[] = "/tomb", a[] = "Kees", e[] = "kees@example.net", x[] = "Weggegooid.";
	struct comment_input in = {
	    .thread = t, .author = a, .email = e, .text = x, .site = "default"};
	struct submit_site s = site();
	struct submit_request rq = request();
	struct comment_error err = {0};
	struct submit_decision d;
	struct net_addr addr;
	json_t *out = NULL;
	int64_t id;

	net_parse_ip("198.51.100.7", &addr);
	rq.origin = SUBMIT_IMPORT;
	rq.status = COMMENT_DELETED;
	rq.client = &addr;
	is_int(submit_comment(fx.conn, &s, &in, &rq, &d, &out, &err), 0,
	       "an imported deleted comment with an address (%s)", err.message);
	submit_decision_clear(&d);
	id = json_integer_value(json_object_get(out, "id"));
	json_decref(out);
	is_int(sql_int("SELECT count(*) FROM comments WHERE id = ?1 AND status = 'deleted'"
		       " AND author = '' AND text = '' AND html = '' AND url IS NULL",
		       id),
	       1, "  is a bare tombstone");
	is_int(sql_int("SELECT count(*) FROM comments WHERE id = ?1 AND email_hash IS NULL"
		       " AND ip IS NULL AND ip_sealed IS NULL AND email_domain_sealed IS NULL"
		       " AND user_agent IS NULL AND referrer IS NULL",
		       id),
	       1, "  with no e-mail hash, address (sealed or not), e-mail domain or user agent");
}

/* With notifications on, a new comment adds an outbox event; an imported
 * one notifies nobody (no event, no subscription). */
static void test_import_silent(void)
{
	char e[CONFIG_ERR_MAX], t[] = "/quiet", a[] = "Ina", m[] = "ina@example.net";
	char x[] = "Oud maar goed.";
	struct comment_input in = {
	    .thread = t, .author = a, .email = m, .text = x, .site = "default"};
	struct submit_site s = site();
	struct submit_request rq = request();
	struct comment_error err = {0};
	struct submit_decision d;
	json_t *out = NULL;
	int64_t before;
	char why[200];

	config_set(fx.cfg, "webhook_url", "http://127.0.0.1:9/hook", e);
	before = sql_int("SELECT count(*) FROM outbox WHERE CAST(?1 AS BIGINT) IS NOT NULL", 0);
	is_int(post_from("loud@example.net", "/quiet", "Een nieuwe reactie.", why),
	       COMMENT_PUBLISHED, "with a webhook set, a new comment is published");
	is_int(sql_int("SELECT count(*) FROM outbox WHERE CAST(?1 AS BIGINT) IS NOT NULL", 0),
	       before + 1, "  and adds an outbox event");
	rq.origin = SUBMIT_IMPORT;
	rq.status = COMMENT_PUBLISHED;
	is_int(submit_comment(fx.conn, &s, &in, &rq, &d, &out, &err), 0,
	       "an imported published comment (%s)", err.message);
	submit_decision_clear(&d);
	json_decref(out);
	is_int(sql_int("SELECT count(*) FROM outbox WHERE CAST(?1 AS BIGINT) IS NOT NULL", 0),
	       before + 1, "  adds none: an import notifies nobody");
	config_set(fx.cfg, "webhook_url", "", e);
}

/* Learns n messages like text (numbered) under label. */
static void learn_like(const char *text, enum classify_label label, int n)
{
	char t[256], key[64];

	store_begin(fx.conn);
	for (int i = 0; i < n; i++) {
		struct classify_input in = {.text = t, .author = "x", .render_seconds = -1};
		snprintf(t, sizeof(t), "%s %d", text, i);
		snprintf(key, sizeof(key), "cold:%d:%d", label, i);
		classifier_learn(cl, fx.conn, key, &in, label);
	}
	store_commit(fx.conn);
}

/* Cold start through the pipeline: until the site has learned min_learned
 * spam and ham, a spam score holds the comment and never files it as spam;
 * after, the same score files it.  (Learns: run last.) */
static void test_cold_start_pipeline(void)
{
	static const char spam[] = "Cheap casino bonus pills, click the winning offer";
	enum comment_status st;
	char why[200];

	learn_like(spam, CLASSIFY_LABEL_SPAM, 12);
	learn_like("Dank voor het mooie artikel over de tuin", CLASSIFY_LABEL_HAM, 12);
	cs.min_learned = 50;
	is_int(post_from("cold@example.org", "/cold", spam, why), COMMENT_PENDING,
	       "cold start (12 of 50 learned): a spam score holds");
	is_str(why, "classifier,cold_start", "  reasons classifier and cold_start");
	cs.min_learned = 12;
	st = post_from("cold@example.org", "/cold", spam, why);
	ok(st == COMMENT_SPAM || st == COMMENT_DISCARDED,
	   "with min_learned reached, the same score files spam or discards (%s)",
	   comment_status_name(st));
	is_str(why, "classifier", "  reason classifier");
	classify_settings_default(&cs);
}

/* learn_cutoffs: a site whose decided comments (their scores when they
 * arrived) are well separated decides with a wider published and filed
 * band; off, or another site, the configured cut-offs. */
static void test_learned_cutoffs(void)
{
	struct submit_content c = {"/p", "Tube", "t@example.org", NULL, "great video, thanks",
				   NULL};
	struct submit_request rq = request();
	struct submit_site s = site();
	struct classify_settings live;
	struct submit_decision d;
	double score;
	int bad = store_exec(fx.conn, "INSERT INTO threads (site, path, created) "
				      "VALUES ('tube', '/v', 0)");
	struct store_stmt *learn;
	char sql[400];

	for (int i = 0; i < 2 * CUTOFFS_MIN_EACH && !bad; i++) {
		snprintf(sql, sizeof(sql),
			 "INSERT INTO comments (thread_id, depth, created, status, author, text, "
			 "html, avatar, score) SELECT id, 1, 0, 'pending', 'a', 't', 't', 'x', %g "
			 "FROM threads WHERE site = 'tube'",
			 i % 2 ? 0.999 : 0.1);
		bad |= store_exec(fx.conn, sql);
		/* the newest comment, an empty token list bound (x'' is a bit
		 * string in PostgreSQL) */
		learn =
		    store_stmt(fx.conn, "INSERT INTO classifier_learned (msg_key, label, tokens, "
					"learned, site) SELECT 'comment:' || max(id), ?1, ?2, 1, "
					"'tube' FROM comments");
		if (!learn) {
			bad = 1;
			break;
		}
		store_bind_text(learn, 1, i % 2 ? "spam" : "ham");
		store_bind_blob(learn, 2, "", 0);
		bad |= store_run(fx.conn, learn, "learned");
	}
	ok(!bad, "tube's decided comments stored");
	rq.origin = SUBMIT_AKISMET;
	s.id = "tube";
	is_int(submit_decide(fx.conn, &s, &c, NULL, &rq, &d), 0, "tube: decide");
	ok(d.facts.classified && d.facts.cutoffs_learned, "tube: learned cut-offs");
	ok(d.facts.ham_cutoff == 0.80 && d.facts.spam_cutoff == 0.95,
	   "tube: ham 0.80, spam 0.95 (got %g / %g)", d.facts.ham_cutoff, d.facts.spam_cutoff);
	live = cs;
	live.ham_cutoff = 0.80;
	live.spam_cutoff = 0.95;
	is_int(d.facts.verdict, classify_verdict_for(&live, d.facts.score, false, false),
	       "tube: the verdict under the learned cut-offs");
	submit_decision_clear(&d);
	s.id = "default";
	submit_decide(fx.conn, &s, &c, NULL, &rq, &d);
	ok(!d.facts.cutoffs_learned && d.facts.ham_cutoff == cs.ham_cutoff,
	   "another site: its configured cut-offs");
	submit_decision_clear(&d);
	live = cs;
	live.learn_cutoffs = false;
	s.classify = &live;
	s.id = "tube";
	submit_decide(fx.conn, &s, &c, NULL, &rq, &d);
	ok(!d.facts.cutoffs_learned && d.facts.ham_cutoff == cs.ham_cutoff &&
	       d.facts.spam_cutoff == cs.spam_cutoff,
	   "learn_cutoffs = off: the configured cut-offs");
	score = d.facts.score;
	submit_decision_clear(&d);

	/* Configured cut-offs just around the comment's score hold it; the
	 * learned ones (tube's sample widens both bands) decide it. */
	if (score < 0.79) {
		live.ham_cutoff = score > 0.004 ? score - 0.004 : 0;
		live.spam_cutoff = 0.99;
	} else {
		live.ham_cutoff = 0.65;
		live.spam_cutoff = score + 0.004 < 1 ? score + 0.004 : 1;
	}
	submit_decide(fx.conn, &s, &c, NULL, &rq, &d);
	is_int(d.facts.verdict, CLASSIFY_UNSURE, "configured around the score: held");
	submit_decision_clear(&d);
	live.learn_cutoffs = true;
	submit_decide(fx.conn, &s, &c, NULL, &rq, &d);
	ok(d.facts.cutoffs_learned, "learned around the score");
	is_int(d.facts.verdict, score < 0.79 ? CLASSIFY_HAM : CLASSIFY_SPAM,
	       "the learned cut-offs decide it (score %g)", score);
	submit_decision_clear(&d);
}

int main(void)
{
	char e[CONFIG_ERR_MAX];

	test_modes();
	test_precedence();
	test_cold_start();
	test_reasons_json();
	test_holds();
	test_classifier_json();

	if (fixture_open(&fx, "submit") != 0 || classifier_new(&cl, NULL) != 0 ||
	    cutoffs_cache_new(&cache) != 0)
		return 1;
	config_set(fx.cfg, "moderation", "none", e);
	config_set(fx.cfg, "blocklist_words", "cheapviagra", e);
	config_set(fx.cfg, "blocklist_domains", "spam.example", e);
	if (policy_new(&pol, fx.cfg) != 0)
		return 1;
	classify_settings_default(&cs);
	if (net_origins_new(&origins, "https://blog.example.nl") != 0)
		return 1;
	test_fates();
	test_edits();
	test_kept();
	test_decoys();
	test_kept_facts();
	test_decide_only();
	test_context();
	test_impersonation();
	test_reply();
	test_first_comment();
	test_import_tombstone();
	test_import_silent();
	test_cold_start_pipeline();
	test_learned_cutoffs();
	net_origins_free(origins);
	policy_free(pol);
	classifier_free(cl);
	cutoffs_cache_free(cache);
	fixture_close(&fx);
	return done_testing();
}
