/* fuzz-json-comment: a POST /api/v1/comments body along the daemon's path:
 * lib/wire's wire_comment_json (the JSON and its fields) and, for the same
 * bytes, wire_comment_form (the no-JS form), then comment_validate against
 * the default configuration, rendering of an accepted text and the key of
 * its author's name (the impersonation rule, lib/names.h), as lib/submit
 * does.  The same bytes also go to wire_reply_json (a moderator's reply)
 * and, as a preview body, to wire_preview_json and comment_preview. */
#include "fuzz.h"

#include "comment.h"
#include "config.h"
#include "names.h"
#include "render.h"
#include "text.h"
#include "wire.h"

#include <jansson.h>
#include <stdbool.h>
#include <strings.h>

static struct config *cfg;

static void check_accepted(const struct comment_input *in)
{
	struct comment_error err = {0};
	char *html = NULL;
	size_t chars;
	int r;

	fuzz_assert(comment_thread_check(in->thread, &err) == 0);
	fuzz_assert(in->author && *in->author);
	fuzz_assert(text_utf8_valid(in->author, strlen(in->author), &chars));
	fuzz_assert(chars <= cfg->max_author);
	fuzz_assert(!text_has_controls(in->author, false));
	fuzz_assert(in->email && strchr(in->email, '@'));
	fuzz_assert(strlen(in->email) <= COMMENT_EMAIL_MAX);
	/* A blank URL is kept as "" (absent), never dropped: the caller frees it. */
	if (in->url && *in->url)
		fuzz_assert(strncasecmp(in->url, "http", 4) == 0);
	fuzz_assert(in->text && text_utf8_valid(in->text, strlen(in->text), &chars));
	fuzz_assert(chars <= cfg->max_text);
	/* The page's context: one clean line, and an http(s) address or none. */
	if (in->page_title) {
		fuzz_assert(text_utf8_valid(in->page_title, strlen(in->page_title), &chars));
		fuzz_assert(chars <= COMMENT_TITLE_MAX);
		fuzz_assert(!text_has_controls(in->page_title, false));
		fuzz_assert(!strchr(in->page_title, '\n') && !strchr(in->page_title, '\t'));
	}
	if (in->page_url && *in->page_url)
		fuzz_assert(strncasecmp(in->page_url, "http", 4) == 0);
	{
		char key[NAMES_KEY_MAX];
		r = names_key(in->author, key);
		fuzz_assert(r == 0 || r == 1);
		fuzz_assert(r != 0 || (*key && text_utf8_valid(key, strlen(key), NULL)));
	}
	/* comment_create renders the accepted text. */
	r = render_markdown(in->text, strlen(in->text), &html);
	fuzz_assert(r == 0 || r == RENDER_TOO_BIG);
	free(html);
}

static void check_refused(int r, const struct comment_error *err)
{
	fuzz_assert(r == COMMENT_INVALID);
	fuzz_assert(err->status == 400 || err->status == 422);
	fuzz_assert(err->code && *err->code && err->message[0]);
}

/* A parsed submission, then validated as lib/submit does. */
static void check_parsed(struct wire_comment *w)
{
	struct comment_error err = {0};
	int r = comment_validate(cfg, &w->in, &err);

	if (r == 0)
		check_accepted(&w->in);
	else
		check_refused(r, &err);
}

/* The same bytes as a POST /api/v1/preview body, through the daemon's
 * path: wire_preview_json, then comment_preview. */
static void check_preview(const uint8_t *data, size_t size)
{
	struct comment_error err = {0};
	char *text = NULL, *html = NULL;
	size_t chars;
	int r = wire_preview_json((const char *)data, size, &text, &err);

	if (r != 0) {
		fuzz_assert(text == NULL);
		check_refused(r, &err);
		return;
	}
	r = comment_preview(cfg, text, &html, &err);
	if (r == 0) {
		fuzz_assert(text && text_utf8_valid(text, strlen(text), &chars));
		fuzz_assert(chars <= cfg->max_text);
		fuzz_assert(html && text_utf8_valid(html, strlen(html), NULL));
		fuzz_assert(strstr(html, "<script") == NULL);
	} else {
		fuzz_assert(html == NULL);
		check_refused(r, &err);
	}
	free(html);
	free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct comment_error err = {0};
	struct wire_comment w;
	int r;

	if (size > FUZZ_MAX_INPUT)
		return 0;
	if (!cfg) {
		json_object_seed(1); /* reproducible object order */
		if (config_new(&cfg) != 0)
			abort();
	}
	r = wire_comment_json((const char *)data, size, cfg->honeypot_field, &w, &err);
	if (r == 0)
		check_parsed(&w);
	else
		check_refused(r, &err);
	wire_comment_clear(&w);
	r = wire_comment_form((const char *)data, size, cfg->honeypot_field, &w, &err);
	if (r == 0)
		check_parsed(&w);
	else
		check_refused(r, &err);
	wire_comment_clear(&w);
	{
		char *text = NULL;
		bool approve = true;
		r = wire_reply_json((const char *)data, size, &text, &approve, &err);
		if (r == 0)
			fuzz_assert(text != NULL);
		else
			check_refused(r, &err);
		free(text);
	}
	check_preview(data, size);
	return 0;
}
