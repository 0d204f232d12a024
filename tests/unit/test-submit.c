/* Unit tests for lib/submit: the decision rule (every fact and their
 * precedence, with reasons), and the pipeline against a real store: the
 * poster's answers have one key set whatever the fate, discarded posts take
 * ids no comment gets, and an author's edit is decided exactly as a new
 * comment with that content. */
#include "fixture.h"
#include "tap.h"

#include "submit.h"

#include <string.h>
#include <time.h>

/* ---- the rule ------------------------------------------------------------ */

static enum comment_status rule(const struct submit_facts *f, const char **first_reason)
{
	static const char *const names[] = {
	    "honeypot",	  "allowlist",	"blocklist_word", "blocklist_domain", "blocklist_network",
	    "classifier", "cold_start", "links",	  "moderation_all",   "first_comment",
	    "edited",	  "imported",	"moderator"};
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
	is_str(s, "[{\"code\":\"links\",\"count\":5,\"limit\":2},{\"code\":\"edited\"}]",
	       "reasons as JSON");
	free(s);
	json_decref(j);
}

/* ---- the pipeline -------------------------------------------------------- */

static struct fixture fx;
static struct classifier *cl;
static struct policy *pol;
static struct classify_settings cs;

static struct submit_site site(void)
{
	return (struct submit_site){fx.cfg, fx.keys, cl, pol, &cs, "blog.example.nl", "default"};
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
	struct comment_input in = {t, 0, a, e, url ? u : NULL, x, "default"};
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

static void test_decide_only(void)
{
	struct submit_content c = {"/p", "Akismet", "a@example.org", NULL,
				   "cheapviagra for everyone"};
	struct submit_request rq = request();
	struct submit_site s = site();
	struct submit_decision d;
	int64_t before = -1, after = -1;
	sqlite3_stmt *q;

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

int main(void)
{
	char e[CONFIG_ERR_MAX];

	test_modes();
	test_precedence();
	test_cold_start();
	test_reasons_json();

	if (fixture_open(&fx, "submit") != 0 || classifier_new(&cl, NULL) != 0)
		return 1;
	config_set(fx.cfg, "moderation", "none", e);
	config_set(fx.cfg, "blocklist_words", "cheapviagra", e);
	config_set(fx.cfg, "blocklist_domains", "spam.example", e);
	if (policy_new(&pol, fx.cfg) != 0)
		return 1;
	classify_settings_default(&cs);
	test_fates();
	test_edits();
	test_decide_only();
	policy_free(pol);
	classifier_free(cl);
	fixture_close(&fx);
	return done_testing();
}
