/* Unit tests for lib/link: tokens (round trip with the site, forgery,
 * expiry, another key, a bad site id), single use, and what a link does
 * (confirm, unsubscribe, moderate), only within its own site. */
#include "fixture.h"
#include "tap.h"

#include "classify.h"
#include "comment.h"
#include "link.h"
#include "moderation.h"
#include "subscribe.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

static struct fixture fx;

static void test_tokens(void)
{
	struct link l = {.kind = LINK_MODERATE,
			 .id = 4242,
			 .action = MODERATION_SPAM,
			 .expires = 2000000000,
			 .site = "default"},
		    got;
	struct keys *other = NULL;
	char t[LINK_TOKEN_MAX], bad[LINK_TOKEN_MAX];

	link_token(fx.keys, &l, t);
	is_int(strlen(t), 78, "a token of the site \"default\" is 78 base64url characters");
	is_int(link_parse(fx.keys, t, 1900000000, &got), 0, "it parses");
	ok(got.kind == l.kind && got.id == l.id && got.action == l.action &&
	       got.expires == l.expires && strcmp(got.site, "default") == 0,
	   "into what was signed, its site too");
	is_int(link_parse(fx.keys, t, 2000000001, &got), LINK_EXPIRED, "not after it expires");
	memcpy(bad, t, sizeof(t));
	bad[5] = bad[5] == 'A' ? 'B' : 'A';
	is_int(link_parse(fx.keys, bad, 1900000000, &got), LINK_INVALID, "a changed byte: invalid");
	bad[5] = t[5];
	bad[30] = bad[30] == 'A' ? 'B' : 'A';
	is_int(link_parse(fx.keys, bad, 1900000000, &got), LINK_INVALID, "a changed site: invalid");
	bad[30] = t[30];
	bad[60] = bad[60] == 'A' ? 'B' : 'A';
	is_int(link_parse(fx.keys, bad, 1900000000, &got), LINK_INVALID, "a changed MAC: invalid");
	bad[60] = t[60];
	bad[77] = '\0';
	is_int(link_parse(fx.keys, bad, 1900000000, &got), LINK_INVALID, "a cut token: invalid");
	{
		char longest[LINK_TOKEN_MAX];
		memset(l.site, 's', CONFIG_SITE_ID_MAX);
		l.site[CONFIG_SITE_ID_MAX] = '\0';
		link_token(fx.keys, &l, longest);
		is_int(link_parse(fx.keys, longest, 1900000000, &got), 0,
		       "a site id of %d characters fits (%zu characters)", CONFIG_SITE_ID_MAX,
		       strlen(longest));
		snprintf(l.site, sizeof(l.site), "Not A Site");
		link_token(fx.keys, &l, longest);
		is_int(link_parse(fx.keys, longest, 1900000000, &got), LINK_INVALID,
		       "a signed token whose site is no site id: invalid");
		l.site[0] = '\0';
		link_token(fx.keys, &l, longest);
		is_int(link_parse(fx.keys, longest, 1900000000, &got), LINK_INVALID,
		       "nor one without a site");
	}
	fixture_keys(&other, 0x11);
	is_int(link_parse(other, t, 1900000000, &got), LINK_INVALID, "another site key: invalid");
	keys_free(other);
	is_int(link_parse(fx.keys, "", 0, &got), LINK_INVALID, "empty: invalid");
	is_int(link_parse(fx.keys, NULL, 0, &got), LINK_INVALID, "none: invalid");
	is_int(link_parse(fx.keys, "!!!!", 0, &got), LINK_INVALID, "not base64: invalid");
	l = (struct link){.kind = LINK_UNSUBSCRIBE, .id = 9, .site = "default"};
	link_token(fx.keys, &l, t);
	is_int(link_parse(fx.keys, t, INT64_MAX / 2, &got), 0, "expires 0: never expires");
	is_int(link_use(fx.conn, fx.keys, t, 100), 1, "first use");
	is_int(link_use(fx.conn, fx.keys, t, 100), 0, "second use: refused");
	link_prune(fx.conn, 200);
	is_int(link_use(fx.conn, fx.keys, t, 100), 1, "pruned after it expired");
}

/* A pending comment on site, stored as the pipeline would. */
static int64_t held_comment(const char *site, const char *text)
{
	char thread[] = "/t", author[] = "Ann", email[] = "ann@example.org", *x = strdup(text);
	struct comment_input in = {
	    .thread = thread, .author = author, .email = email, .text = x, .site = site};
	struct comment_record rec = {.status = COMMENT_PENDING, .score = -1, .created = time(NULL)};
	struct comment_stored out;
	struct comment_error err;
	int64_t id = -1;

	if (comment_create(fx.conn, fx.cfg, fx.keys, &in, &rec, &out, &err) == 0)
		id = out.id;
	comment_stored_clear(&out);
	free(x);
	return id;
}

/* The token of a link of kind on id in site. */
static void token(enum link_kind kind, int64_t id, int action, int64_t expires, const char *site,
		  char out[LINK_TOKEN_MAX])
{
	struct link l = {.kind = kind, .id = id, .action = action, .expires = expires};

	snprintf(l.site, sizeof(l.site), "%s", site);
	link_token(fx.keys, &l, out);
}

static enum comment_status status_of(int64_t id)
{
	struct comment_row row;
	enum comment_status st = COMMENT_DELETED;

	if (comment_load(fx.conn, NULL, id, &row) == 1) {
		st = row.status;
		comment_row_clear(&row);
	}
	return st;
}

static void test_actions(struct classifier *cl)
{
	int64_t now = time(NULL), id = held_comment("default", "Please approve me"), sub = 0;
	char t[LINK_TOKEN_MAX], spam[LINK_TOKEN_MAX], conf[LINK_TOKEN_MAX], un[LINK_TOKEN_MAX];
	struct link got;
	bool ask;

	token(LINK_MODERATE, id, MODERATION_APPROVE, now + 60, "default", t);
	token(LINK_MODERATE, id, MODERATION_SPAM, now + 60, "default", spam);
	is_int(link_check(fx.conn, fx.keys, t, LINK_CONFIRM, now, &got), LINK_INVALID,
	       "a moderator's token is not a confirmation");
	is_int(link_check(fx.conn, fx.keys, t, LINK_MODERATE, now, &got), 0, "a GET checks it");
	is_int(link_act(fx.conn, cl, fx.keys, t, LINK_MODERATE, now), 0, "the POST approves");
	is_int(link_act(fx.conn, cl, fx.keys, t, LINK_MODERATE, now), LINK_USED, "once");
	is_int(link_act(fx.conn, cl, fx.keys, spam, LINK_MODERATE, now), LINK_USED,
	       "the other links of a comment dealt with do nothing");
	is_int(status_of(id), COMMENT_PUBLISHED, "the comment is published");
	store_begin(fx.conn);
	subscribe_add(fx.conn, fx.keys, "default", id, "reader@example.org", now, &sub, &ask);
	store_commit(fx.conn);
	token(LINK_CONFIRM, sub, 0, now + 60, "default", conf);
	token(LINK_UNSUBSCRIBE, sub, 0, 0, "default", un);
	is_int(link_act(fx.conn, cl, fx.keys, conf, LINK_UNSUBSCRIBE, now), LINK_INVALID,
	       "a confirmation token does not unsubscribe");
	is_int(link_act(fx.conn, cl, fx.keys, conf, LINK_CONFIRM, now), 0, "confirm");
	is_int(link_act(fx.conn, cl, fx.keys, un, LINK_UNSUBSCRIBE, now), 0, "unsubscribe");
	is_int(link_act(fx.conn, cl, fx.keys, un, LINK_UNSUBSCRIBE, now), LINK_USED,
	       "unsubscribing again: nothing to do");
	is_int(link_check(fx.conn, fx.keys, conf, LINK_CONFIRM, now, &got), LINK_INVALID,
	       "a confirmation of a deleted subscription is invalid");
}

/* A link acts only within the site it names. */
static void test_other_site(struct classifier *cl)
{
	int64_t now = time(NULL), id = held_comment("blog", "Held on the blog"), sub = 0;
	char t[LINK_TOKEN_MAX], conf[LINK_TOKEN_MAX], un[LINK_TOKEN_MAX];
	struct subscription s;
	struct link got;
	bool ask;

	token(LINK_MODERATE, id, MODERATION_SPAM, now + 60, "notes", t);
	is_int(link_check(fx.conn, fx.keys, t, LINK_MODERATE, now, &got), LINK_USED,
	       "a link of site notes finds no held comment of its own there (GET)");
	is_int(link_act(fx.conn, cl, fx.keys, t, LINK_MODERATE, now), LINK_USED,
	       "and its POST does nothing");
	is_int(status_of(id), COMMENT_PENDING, "the blog's comment is still held");
	token(LINK_MODERATE, id, MODERATION_SPAM, now + 60, "blog", t);
	is_int(link_act(fx.conn, cl, fx.keys, t, LINK_MODERATE, now), 0,
	       "the blog's own link acts");
	is_int(status_of(id), COMMENT_SPAM, "as a moderation of the blog");
	store_begin(fx.conn);
	subscribe_add(fx.conn, fx.keys, "blog", id, "reader@example.org", now, &sub, &ask);
	store_commit(fx.conn);
	token(LINK_CONFIRM, sub, 0, now + 60, "notes", conf);
	token(LINK_UNSUBSCRIBE, sub, 0, 0, "notes", un);
	is_int(link_act(fx.conn, cl, fx.keys, conf, LINK_CONFIRM, now), LINK_INVALID,
	       "another site's link does not confirm the blog's subscription");
	is_int(link_act(fx.conn, cl, fx.keys, un, LINK_UNSUBSCRIBE, now), LINK_USED, "nor end it");
	is_int(subscribe_load(fx.conn, fx.keys, sub, &s), 1, "which is still there");
	ok(!s.confirmed, "unconfirmed");
	subscribe_clear(&s);
}

/* A single-use link is remembered by its text: no other spelling of a
 * token may parse.  libsodium's decoder reads every byte above 0x7f as
 * '_' (the fuzzer found it), so the tokens tried include some with '_'. */
static void test_one_spelling(void)
{
	struct link l = {.kind = LINK_MODERATE, .action = 1, .site = "default"}, got;
	char t[LINK_TOKEN_MAX], bad[LINK_TOKEN_MAX];
	int accepted = 0, underscores = 0;

	for (l.id = 1; l.id <= 20; l.id++) {
		link_token(fx.keys, &l, t);
		underscores += strchr(t, '_') != NULL;
		for (size_t i = 0; t[i]; i++) {
			for (int c = 1; c < 256; c++) {
				if (c == (unsigned char)t[i])
					continue;
				memcpy(bad, t, sizeof(bad));
				bad[i] = (char)c;
				accepted += link_parse(fx.keys, bad, 1900000000, &got) == 0;
			}
		}
	}
	ok(underscores > 0, "some of the 20 tokens hold '_' (%d)", underscores);
	is_int(accepted, 0, "no token with one character replaced by any other byte parses");
}

int main(void)
{
	struct classifier *cl = NULL;

	if (fixture_open(&fx, "link") != 0)
		return 1;
	test_tokens();
	test_one_spelling();
	classifier_new(&cl, NULL);
	test_actions(cl);
	test_other_site(cl);
	classifier_free(cl);
	fixture_close(&fx);
	return done_testing();
}
