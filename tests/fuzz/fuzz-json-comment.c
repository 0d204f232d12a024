/* fuzz-json-comment: a JSON comment body along the daemon's path
 * (daemon/routes.c submission_from_json, then post_comment): jansson
 * json_loadb with JSON_REJECT_DUPLICATES, unknown-field and type checks,
 * writable copies of the string fields, comment_validate against the
 * default configuration, and rendering of an accepted text. */
#include "fuzz.h"

#include "comment.h"
#include "config.h"
#include "render.h"
#include "text.h"

#include <jansson.h>
#include <stdbool.h>
#include <strings.h>

static struct config *cfg;

/* routes.c: comment_fields / known_field (JSON: no "redirect"). */
static const char *const comment_fields[] = {"thread", "parent", "author", "email",
					     "url",    "text",	 NULL};

static bool known_field(const char *key)
{
	for (size_t i = 0; comment_fields[i]; i++) {
		if (strcmp(comment_fields[i], key) == 0)
			return true;
	}
	return false;
}

/* routes.c take_string: 0, or 1 to refuse the body. */
static int take_string(json_t *v, char **out)
{
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_string(v))
		return 1;
	if (strlen(json_string_value(v)) != json_string_length(v))
		return 1;
	*out = strdup(json_string_value(v));
	if (!*out)
		abort();
	return 0;
}

/* routes.c submission_clear. */
static void input_clear(struct comment_input *in)
{
	free(in->thread);
	free(in->author);
	free(in->email);
	free(in->url);
	free(in->text);
}

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
	/* comment_create renders the accepted text. */
	r = render_markdown(in->text, strlen(in->text), &html);
	fuzz_assert(r == 0 || r == RENDER_TOO_BIG);
	free(html);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct comment_input in = {0};
	struct comment_error err = {0};
	json_error_t jerr;
	json_t *root, *v;
	const char *key;
	int r;

	if (size > FUZZ_MAX_INPUT)
		return 0;
	if (!cfg) {
		json_object_seed(1); /* reproducible object order */
		if (config_new(&cfg) != 0)
			abort();
	}
	root = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, &jerr);
	if (!root)
		return 0;
	if (!json_is_object(root))
		goto out;
	json_object_foreach(root, key, v)
	{
		if (!known_field(key))
			goto out;
	}
	v = json_object_get(root, "parent");
	if (v && !json_is_null(v)) {
		if (!json_is_integer(v) || json_integer_value(v) < 1)
			goto out;
		in.parent = json_integer_value(v);
	}
	if (take_string(json_object_get(root, "thread"), &in.thread) ||
	    take_string(json_object_get(root, "author"), &in.author) ||
	    take_string(json_object_get(root, "email"), &in.email) ||
	    take_string(json_object_get(root, "url"), &in.url) ||
	    take_string(json_object_get(root, "text"), &in.text))
		goto out;
	in.ip = "203.0.113.7";
	in.user_agent = "Mozilla/5.0 (X11; Linux x86_64) fuzz";
	in.referrer = "https://blog.example.nl/posts/hallo";
	r = comment_validate(cfg, &in, &err);
	fuzz_assert(r == 0 || r == COMMENT_INVALID);
	if (r == 0) {
		check_accepted(&in);
	} else {
		fuzz_assert(err.status == 400 || err.status == 422);
		fuzz_assert(err.code && *err.code && err.message[0]);
	}
out:
	input_clear(&in);
	json_decref(root);
	return 0;
}
