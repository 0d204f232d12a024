/* Unit tests for lib/site: resolving the configured sites (views, origins,
 * policies, cut-offs) and the rule that picks a request's site. */
#include "tap.h"

#include "site.h"

#include <stdlib.h>

static struct config *loaded(const char *text)
{
	struct config *c = NULL;
	char err[CONFIG_ERR_MAX] = "";

	config_new(&c);
	if (config_load_text(c, text, strlen(text), "t.conf", err) != 0 ||
	    config_check(c, err) != 0)
		diag("config: %s", err);
	return c;
}

static struct site_set *set_of(const char *text)
{
	struct config *c = loaded(text);
	struct site_set *s = NULL;
	char err[CONFIG_ERR_MAX];

	if (site_set_new(&s, c, err) != 0)
		diag("site_set_new: %s", err);
	config_free(c);
	return s;
}

/* The id site_pick chooses (Host: host_header, a global the tests set),
 * or the error code. */
static const char *host_header;

static const char *pick(const struct site_set *s, const char *named, const char *origin,
			const char *referer, int *status)
{
	struct site_hint h = {named, origin, referer, host_header};
	struct comment_error err = {0};
	const struct site *site = NULL;

	*status = 0;
	if (site_pick(s, &h, &site, &err) == 0)
		return site->id;
	*status = err.status;
	ok(err.message[0] != '\0', "a refusal says why (%s)", err.message);
	return err.code;
}

static void test_resolve(void)
{
	struct site_set *s =
	    set_of("moderation = first\n"
		   "ham_cutoff = 0.6\n"
		   "site_origins = https://old.example\n"
		   "[site blog]\n"
		   "origins = https://blog.example, https://www.blog.example:8443\n"
		   "moderation = all\n"
		   "spam_cutoff = 0.9\n"
		   "blocklist_words = casino\n"
		   "[site notes]\n"
		   "origins = https://notes.example\n");
	const struct site *b, *n, *d;
	struct policy_facts pf;

	if (!s) {
		ok(0, "the set resolves");
		return;
	}
	is_int(site_set_count(s), 3, "three sites");
	ok(site_set_strict(s), "sections make the set strict");
	d = site_set_at(s, 0);
	b = site_set_find(s, "blog");
	n = site_set_find(s, "notes");
	ok(d && b && n && !site_set_find(s, "none") && !site_set_at(s, 3), "found by id and index");
	if (!d || !b || !n)
		return;
	is_str(d->id, "default", "the default site");
	is_str(b->host, "blog.example", "a site's host is its first origin's");
	is_str(d->host, "old.example", "the default site's from site_origins");
	is_int(b->cfg->moderation, MODERATION_ALL, "blog's view has its moderation");
	is_int(n->cfg->moderation, MODERATION_FIRST, "notes inherits the top level's");
	ok(b->classify.spam_cutoff == 0.9 && b->classify.ham_cutoff == 0.6,
	   "blog's cut-offs: its own spam, the top level's ham");
	ok(n->classify.spam_cutoff == d->classify.spam_cutoff && n->classify.spam_cutoff != 0.9,
	   "notes keeps the top level's (default) spam cut-off");
	policy_check(b->policy, "play casino now", "x", NULL, NULL, NULL, NULL, &pf);
	ok(pf.blocklisted, "blog's blocklist applies to blog");
	policy_check(n->policy, "play casino now", "x", NULL, NULL, NULL, NULL, &pf);
	ok(!pf.blocklisted, "and not to notes");

	ok(site_set_by_origin(s, "https://blog.example", 20) == b, "by origin");
	ok(site_set_by_origin(s, "https://BLOG.example", 20) == b, "case-insensitively");
	ok(site_set_by_origin(s, "https://www.blog.example:8443", 29) == b, "its second origin");
	ok(site_set_by_origin(s, "https://www.blog.example", 24) == NULL, "the port matters");
	ok(site_set_by_origin(s, "https://evil.example", 20) == NULL, "an unknown origin");
	ok(site_set_by_url(s, "https://notes.example/2024/post/?x#c") == n, "by URL");
	ok(site_set_by_url(s, "https://notes.example") == n, "a bare origin as URL");
	ok(site_set_by_url(s, "https://notes.example.evil/") == NULL, "a longer host is not it");
	ok(site_set_by_url(s, "https://notes.example@evil/") == NULL, "nor userinfo tricks");
	ok(site_set_by_url(s, "ftp://notes.example/") == NULL, "only http(s)");
	ok(site_set_by_url(s, NULL) == NULL, "NULL is no site");
	site_set_free(s);
	ok(site_set_free(NULL) == NULL, "site_set_free(NULL)");
}

static void test_pick_strict(void)
{
	struct site_set *s = set_of("[site blog]\norigins = https://blog.example\n"
				    "[site notes]\norigins = https://notes.example\n");
	int st;

	if (!s) {
		ok(0, "the set resolves");
		return;
	}
	is_str(pick(s, NULL, "https://blog.example", NULL, &st), "blog", "Origin picks blog");
	is_str(pick(s, NULL, "https://notes.example", NULL, &st), "notes", "Origin picks notes");
	is_str(pick(s, NULL, NULL, "https://notes.example/a/b?c", &st), "notes",
	       "without Origin, the Referer's origin");
	is_str(pick(s, NULL, "null", "https://blog.example/x", &st), "blog",
	       "an opaque Origin (null) falls back to the Referer");
	is_str(pick(s, NULL, "https://blog.example", "https://notes.example/", &st), "blog",
	       "Origin wins over Referer");
	is_str(pick(s, "notes", NULL, NULL, &st), "notes", "a named site without headers");
	is_str(pick(s, "notes", "https://notes.example", NULL, &st), "notes",
	       "a named site with its own origin");
	is_str(pick(s, "blog", NULL, "https://blog.example/p", &st), "blog",
	       "a named site with its own referer");

	is_str(pick(s, NULL, "https://evil.example", NULL, &st), "unknown_origin",
	       "an unknown Origin is refused");
	is_int(st, 403, "with 403");
	is_str(pick(s, NULL, NULL, "https://evil.example/page", &st), "unknown_origin",
	       "an unknown Referer too");
	is_str(pick(s, "notes", "https://blog.example", NULL, &st), "site_mismatch",
	       "naming another site than the Origin's is refused");
	is_int(st, 403, "with 403");
	is_str(pick(s, "notes", "https://evil.example", NULL, &st), "site_mismatch",
	       "as is naming a site from an unknown origin");
	is_str(pick(s, "nope", "https://blog.example", NULL, &st), "unknown_site",
	       "an unknown site name");
	is_int(st, 404, "is 404");
	is_str(pick(s, "Bad Name\xff", NULL, NULL, &st), "unknown_site",
	       "a malformed name is just unknown");
	is_str(pick(s, NULL, NULL, NULL, &st), "missing_site", "nothing says which of two sites");
	is_int(st, 400, "is 400");
	is_str(pick(s, NULL, "", "not a url", &st), "missing_site",
	       "an empty Origin and a bad Referer say nothing");

	/* Same-origin requests: the Host, when nothing else tells. */
	host_header = "notes.example";
	is_str(pick(s, NULL, NULL, NULL, &st), "notes", "without Origin or Referer, the Host");
	is_str(pick(s, NULL, "https://blog.example", NULL, &st), "blog",
	       "an Origin wins over the Host");
	is_str(pick(s, "notes", NULL, NULL, &st), "notes", "naming the Host's site is fine");
	is_str(pick(s, "blog", NULL, NULL, &st), "site_mismatch",
	       "naming another site than the Host's is a mismatch");
	host_header = "127.0.0.1:8080";
	is_str(pick(s, "blog", NULL, NULL, &st), "blog",
	       "a Host that is no site's (the daemon's own name) does not stop a named site");
	is_str(pick(s, NULL, NULL, NULL, &st), "missing_site",
	       "a Host that is no site's tells nothing (a proxy's own name)");
	host_header = NULL;
	site_set_free(s);

	s = set_of("[site only]\norigins = https://only.example\n");
	is_str(pick(s, NULL, NULL, NULL, &st), "only", "one site: a request without headers");
	is_str(pick(s, NULL, "https://evil.example", NULL, &st), "unknown_origin",
	       "but a foreign origin is still refused");
	site_set_free(s);
}

static void test_pick_plain(void)
{
	struct site_set *s = set_of("site_origins = https://blog.example\n");
	int st;

	if (!s) {
		ok(0, "the set resolves");
		return;
	}
	ok(!site_set_strict(s), "no sections: not strict");
	is_int(site_set_count(s), 1, "one site");
	is_str(pick(s, NULL, NULL, NULL, &st), "default", "every request is the default site's");
	is_str(pick(s, NULL, "https://evil.example", NULL, &st), "default",
	       "whatever its origin, as before sites");
	is_str(pick(s, "default", "https://evil.example", NULL, &st), "default",
	       "naming it is fine");
	is_str(pick(s, "blog", NULL, NULL, &st), "unknown_site", "naming another site is not");
	site_set_free(s);
}

int main(void)
{
	test_resolve();
	test_pick_strict();
	test_pick_plain();
	return done_testing();
}
