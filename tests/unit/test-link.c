/* Unit tests for lib/link: tokens (round trip, forgery, expiry, another
 * key), single use, and what a link does (confirm, unsubscribe, moderate). */
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
	struct link l = {LINK_MODERATE, 4242, MODERATION_SPAM, 2000000000}, got;
	struct keys *other = NULL;
	char t[LINK_TOKEN_MAX], bad[LINK_TOKEN_MAX];

	link_token(fx.keys, &l, t);
	is_int(strlen(t), 67, "a token is 67 base64url characters");
	is_int(link_parse(fx.keys, t, 1900000000, &got), 0, "it parses");
	ok(got.kind == l.kind && got.id == l.id && got.action == l.action &&
	       got.expires == l.expires,
	   "into what was signed");
	is_int(link_parse(fx.keys, t, 2000000001, &got), LINK_EXPIRED, "not after it expires");
	memcpy(bad, t, sizeof(t));
	bad[5] = bad[5] == 'A' ? 'B' : 'A';
	is_int(link_parse(fx.keys, bad, 1900000000, &got), LINK_INVALID, "a changed byte: invalid");
	bad[5] = t[5];
	bad[60] = bad[60] == 'A' ? 'B' : 'A';
	is_int(link_parse(fx.keys, bad, 1900000000, &got), LINK_INVALID, "a changed MAC: invalid");
	fixture_keys(&other, 0x11);
	is_int(link_parse(other, t, 1900000000, &got), LINK_INVALID, "another site key: invalid");
	keys_free(other);
	is_int(link_parse(fx.keys, "", 0, &got), LINK_INVALID, "empty: invalid");
	is_int(link_parse(fx.keys, NULL, 0, &got), LINK_INVALID, "none: invalid");
	is_int(link_parse(fx.keys, "!!!!", 0, &got), LINK_INVALID, "not base64: invalid");
	l = (struct link){LINK_UNSUBSCRIBE, 9, 0, 0};
	link_token(fx.keys, &l, t);
	is_int(link_parse(fx.keys, t, INT64_MAX / 2, &got), 0, "expires 0: never expires");
	is_int(link_use(fx.conn, fx.keys, t, 100), 1, "first use");
	is_int(link_use(fx.conn, fx.keys, t, 100), 0, "second use: refused");
	link_prune(fx.conn, 200);
	is_int(link_use(fx.conn, fx.keys, t, 100), 1, "pruned after it expired");
}

/* A pending comment, stored as the pipeline would. */
static int64_t held_comment(const char *text)
{
	char thread[] = "/t", author[] = "Ann", email[] = "ann@example.org", *x = strdup(text);
	struct comment_input in = {
	    .thread = thread, .author = author, .email = email, .text = x, .site = "default"};
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

static void test_actions(void)
{
	struct classifier *cl = NULL;
	int64_t now = time(NULL), id = held_comment("Please approve me"), sub = 0;
	char t[LINK_TOKEN_MAX], spam[LINK_TOKEN_MAX], conf[LINK_TOKEN_MAX], un[LINK_TOKEN_MAX];
	struct link got;
	bool ask;

	classifier_new(&cl, NULL);
	link_token(fx.keys, &(struct link){LINK_MODERATE, id, MODERATION_APPROVE, now + 60}, t);
	link_token(fx.keys, &(struct link){LINK_MODERATE, id, MODERATION_SPAM, now + 60}, spam);
	is_int(link_check(fx.conn, fx.keys, t, LINK_CONFIRM, now, &got), LINK_INVALID,
	       "a moderator's token is not a confirmation");
	is_int(link_check(fx.conn, fx.keys, t, LINK_MODERATE, now, &got), 0, "a GET checks it");
	is_int(link_act(fx.conn, cl, fx.keys, t, LINK_MODERATE, now), 0, "the POST approves");
	is_int(link_act(fx.conn, cl, fx.keys, t, LINK_MODERATE, now), LINK_USED, "once");
	is_int(link_act(fx.conn, cl, fx.keys, spam, LINK_MODERATE, now), LINK_USED,
	       "the other links of a comment dealt with do nothing");
	{
		struct comment_row row;
		comment_load(fx.conn, NULL, id, &row);
		is_int(row.status, COMMENT_PUBLISHED, "the comment is published");
		comment_row_clear(&row);
	}
	store_begin(fx.conn);
	subscribe_add(fx.conn, fx.keys, id, "reader@example.org", now, &sub, &ask);
	store_commit(fx.conn);
	link_token(fx.keys, &(struct link){LINK_CONFIRM, sub, 0, now + 60}, conf);
	link_token(fx.keys, &(struct link){LINK_UNSUBSCRIBE, sub, 0, 0}, un);
	is_int(link_act(fx.conn, cl, fx.keys, conf, LINK_UNSUBSCRIBE, now), LINK_INVALID,
	       "a confirmation token does not unsubscribe");
	is_int(link_act(fx.conn, cl, fx.keys, conf, LINK_CONFIRM, now), 0, "confirm");
	is_int(link_act(fx.conn, cl, fx.keys, un, LINK_UNSUBSCRIBE, now), 0, "unsubscribe");
	is_int(link_act(fx.conn, cl, fx.keys, un, LINK_UNSUBSCRIBE, now), LINK_USED,
	       "unsubscribing again: nothing to do");
	is_int(link_check(fx.conn, fx.keys, conf, LINK_CONFIRM, now, &got), LINK_INVALID,
	       "a confirmation of a deleted subscription is invalid");
	classifier_free(cl);
}

int main(void)
{
	if (fixture_open(&fx, "link") != 0)
		return 1;
	test_tokens();
	test_actions();
	fixture_close(&fx);
	return done_testing();
}
