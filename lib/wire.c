#include "wire.h"

#include "form.h"
#include "text.h"

#include <errno.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

static const char *const comment_fields[] = {"thread",	 "parent", "author", "email",
					     "url",	 "text",   "stamp",  "page_title",
					     "page_url", "site",   "notify", NULL};

static bool in_list(const char *const *list, const char *key)
{
	for (size_t i = 0; list[i]; i++) {
		if (strcmp(list[i], key) == 0)
			return true;
	}
	return false;
}

/* What only a form post may carry: where to return, and commentd's own
 * page's settings (lib/threadpage). */
static const char *const form_fields[] = {"redirect", "format", "lang", "frame", NULL};

static bool known_field(const char *key, const char *honeypot_field, bool form)
{
	return in_list(comment_fields, key) || strcmp(key, honeypot_field) == 0 ||
	       (form && in_list(form_fields, key));
}

/* A filled honeypot: any non-blank value in the hidden field. */
static bool filled(const char *v)
{
	if (!v)
		return false;
	for (; *v; v++) {
		if (*v != ' ' && *v != '\t' && *v != '\r' && *v != '\n')
			return true;
	}
	return false;
}

void wire_comment_clear(struct wire_comment *w)
{
	free(w->in.thread);
	free(w->in.author);
	if (w->in.email)
		sodium_memzero(w->in.email, strlen(w->in.email));
	free(w->in.email);
	free(w->in.url);
	free(w->in.text);
	free(w->in.page_title);
	free(w->in.page_url);
	free(w->redirect);
	free(w->stamp);
	free(w->lang);
	free(w->site);
	memset(w, 0, sizeof(*w));
}

int wire_json(const char *body, size_t len, json_t **out, struct comment_error *err)
{
	json_error_t jerr;

	*out = json_loadb(body ? body : "", len, JSON_REJECT_DUPLICATES, &jerr);
	if (!*out)
		return comment_fail(err, 400, "invalid_json",
				    "The body is not valid JSON: %s (line %d, column %d).",
				    jerr.text, jerr.line, jerr.column);
	return 0;
}

/* Copies string member key of obj into *out (absent or null: left NULL). */
static int take_string(json_t *obj, const char *key, char **out, struct comment_error *err)
{
	json_t *v = json_object_get(obj, key);

	if (!v || json_is_null(v))
		return 0;
	if (!json_is_string(v))
		return comment_fail(err, 400, "invalid_type", "The field \"%s\" must be a string.",
				    key);
	if (strlen(json_string_value(v)) != json_string_length(v))
		return comment_fail(err, 400, "invalid_text", "Text fields must not contain NUL.");
	*out = strdup(json_string_value(v));
	return *out ? 0 : -ENOMEM;
}

/* Refuses any member of obj for which known() is false. */
static int only_known(json_t *obj, const char *honeypot_field, struct comment_error *err)
{
	const char *key;
	json_t *v;

	json_object_foreach(obj, key, v)
	{
		if (!known_field(key, honeypot_field, false))
			return comment_fail(err, 400, "unknown_field",
					    "The field \"%.60s\" is not known.", key);
	}
	return 0;
}

static int json_parent(json_t *obj, int64_t *parent, struct comment_error *err)
{
	json_t *v = json_object_get(obj, "parent");

	if (!v || json_is_null(v))
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < 1)
		return comment_fail(err, 400, "invalid_type",
				    "The field \"parent\" must be a comment id (a positive whole "
				    "number) or null.");
	*parent = json_integer_value(v);
	return 0;
}

/* "notify": true asks for reply notifications (false and null do not). */
static int json_notify(json_t *obj, bool *notify, struct comment_error *err)
{
	json_t *v = json_object_get(obj, "notify");

	if (!v || json_is_null(v))
		return 0;
	if (!json_is_boolean(v))
		return comment_fail(err, 400, "invalid_type",
				    "The field \"notify\" must be true or false.");
	*notify = json_is_true(v);
	return 0;
}

static int comment_from_object(json_t *root, const char *honeypot_field, struct wire_comment *out,
			       struct comment_error *err)
{
	json_t *hp;
	int r;

	if (!json_is_object(root))
		return comment_fail(err, 400, "invalid_json", "The body must be a JSON object.");
	r = only_known(root, honeypot_field, err);
	if (r == 0)
		r = json_parent(root, &out->in.parent, err);
	if (r == 0)
		r = json_notify(root, &out->notify, err);
	if (r == 0)
		r = take_string(root, "thread", &out->in.thread, err);
	if (r == 0)
		r = take_string(root, "author", &out->in.author, err);
	if (r == 0)
		r = take_string(root, "email", &out->in.email, err);
	if (r == 0)
		r = take_string(root, "url", &out->in.url, err);
	if (r == 0)
		r = take_string(root, "text", &out->in.text, err);
	if (r == 0)
		r = take_string(root, "stamp", &out->stamp, err);
	if (r == 0)
		r = take_string(root, "page_title", &out->in.page_title, err);
	if (r == 0)
		r = take_string(root, "page_url", &out->in.page_url, err);
	if (r == 0)
		r = take_string(root, "site", &out->site, err);
	if (r != 0)
		return r;
	hp = json_object_get(root, honeypot_field);
	out->honeypot_filled =
	    hp && !json_is_null(hp) && (!json_is_string(hp) || filled(json_string_value(hp)));
	return 0;
}

int wire_comment_json(const char *body, size_t len, const char *honeypot_field,
		      struct wire_comment *out, struct comment_error *err)
{
	json_t *root = NULL;
	int r;

	memset(out, 0, sizeof(*out));
	r = wire_json(body, len, &root, err);
	if (r == 0)
		r = comment_from_object(root, honeypot_field, out, err);
	json_decref(root);
	if (r != 0)
		wire_comment_clear(out);
	return r;
}

static int form_take(const struct form *f, const char *name, char **out)
{
	const char *v = form_get(f, name);

	if (!v)
		return 0;
	*out = strdup(v);
	return *out ? 0 : -ENOMEM;
}

static int form_parent(const struct form *f, int64_t *parent, struct comment_error *err)
{
	const char *v = form_get(f, "parent");
	unsigned long long p;

	if (!v || !*v)
		return 0;
	if (text_parse_uint(v, INT64_MAX, &p) != 0 || p < 1)
		return comment_fail(err, 400, "invalid_type",
				    "The field \"parent\" must be a comment id.");
	*parent = (int64_t)p;
	return 0;
}

static int comment_from_form(const struct form *f, const char *honeypot_field,
			     struct wire_comment *out, struct comment_error *err)
{
	static const char *const strings[] = {"thread",	  "author",   "email", "url",
					      "text",	  "redirect", "stamp", "page_title",
					      "page_url", "site",     "lang"};
	char **slots[] = {&out->in.thread,   &out->in.author, &out->in.email, &out->in.url,
			  &out->in.text,     &out->redirect,  &out->stamp,    &out->in.page_title,
			  &out->in.page_url, &out->site,      &out->lang};
	const char *format = form_get(f, "format"), *frame = form_get(f, "frame");
	const char *v;
	int r = 0;

	for (size_t i = 0; i < form_size(f); i++) {
		const char *name = form_name(f, i);
		if (known_field(name, honeypot_field, true) && form_count(f, name) > 1)
			return comment_fail(err, 400, "duplicate_field",
					    "The field \"%.60s\" appears more than once.", name);
	}
	r = form_parent(f, &out->in.parent, err);
	/* A checked checkbox sends its value ("1", "on" by default). */
	v = form_get(f, "notify");
	out->notify = v && *v && strcmp(v, "0") != 0 && strcmp(v, "false") != 0;
	for (size_t i = 0; r == 0 && i < sizeof(strings) / sizeof(strings[0]); i++)
		r = form_take(f, strings[i], slots[i]);
	out->honeypot_filled = filled(form_get(f, honeypot_field));
	out->page = format && (strcmp(format, "html") == 0 || strcmp(format, "fragment") == 0);
	out->framed = frame && strcmp(frame, "1") == 0;
	return r;
}

int wire_comment_form(const char *body, size_t len, const char *honeypot_field,
		      struct wire_comment *out, struct comment_error *err)
{
	struct form *f = NULL;
	int r;

	memset(out, 0, sizeof(*out));
	r = form_parse(&f, body ? body : "", len);
	if (r == FORM_INVALID)
		return comment_fail(err, 400, "invalid_form", "The form data is malformed.");
	if (r < 0)
		return r;
	r = comment_from_form(f, honeypot_field, out, err);
	form_free(f);
	if (r != 0)
		wire_comment_clear(out);
	return r;
}

/* Parses len bytes as a JSON object whose keys are all in allowed (else a
 * 400 unknown_field saying unknown).  0 with *root (caller frees),
 * COMMENT_INVALID with err, or negative. */
static int object_of(const char *body, size_t len, const char *const *allowed, const char *unknown,
		     json_t **root, struct comment_error *err)
{
	const char *key;
	json_t *v;
	int r = wire_json(body, len, root, err);

	if (r != 0)
		return r;
	if (!json_is_object(*root))
		r = comment_fail(err, 400, "invalid_json", "The body must be a JSON object.");
	json_object_foreach(*root, key, v)
	{
		if (r == 0 && !in_list(allowed, key))
			r = comment_fail(err, 400, "unknown_field", "%s", unknown);
	}
	if (r != 0) {
		json_decref(*root);
		*root = NULL;
	}
	return r;
}

/* The website in a PATCH: a string ("" removes it) or null (removes it). */
static int change_url(json_t *root, struct comment_change *out, struct comment_error *err)
{
	json_t *v = json_object_get(root, "url");

	if (!v)
		return 0;
	out->url_set = true;
	if (json_is_null(v))
		return 0;
	return take_string(root, "url", &out->url, err);
}

int wire_change_json(const char *body, size_t len, struct comment_change *out,
		     struct comment_error *err)
{
	static const char *const allowed[] = {"text", "author", "url", NULL};
	json_t *root = NULL;
	int r;

	memset(out, 0, sizeof(*out));
	r = object_of(body, len, allowed, "Only text, author and url can be changed.", &root, err);
	if (r != 0)
		return r;
	r = take_string(root, "text", &out->text, err);
	if (r == 0)
		r = take_string(root, "author", &out->author, err);
	if (r == 0)
		r = change_url(root, out, err);
	if (r == 0 && !out->text && !out->author && !out->url_set)
		r = comment_fail(err, 422, "nothing_to_change", "Send text, author or url.");
	json_decref(root);
	if (r != 0)
		comment_change_clear(out);
	return r;
}

int wire_preview_json(const char *body, size_t len, char **text, struct comment_error *err)
{
	static const char *const allowed[] = {"text", NULL};
	json_t *root = NULL;
	int r;

	*text = NULL;
	r = object_of(body, len, allowed, "Send only the text to preview.", &root, err);
	if (r == 0)
		r = take_string(root, "text", text, err);
	json_decref(root);
	return r;
}

/* Prefixes the failed thread check's message with the path's position. */
static int thread_failed(size_t i, struct comment_error *err)
{
	char why[sizeof(err->message)];

	memcpy(why, err->message, sizeof(why));
	return comment_fail(err, 422, "invalid_thread", "Thread %zu: %.150s", i + 1, why);
}

int wire_counts(const char *body, size_t len, json_t **paths, struct comment_error *err)
{
	json_t *root = NULL, *v;
	size_t i;
	int r;

	r = wire_json(body, len, &root, err);
	if (r != 0)
		return r;
	if (!json_is_array(root))
		r = comment_fail(err, 400, "invalid_json",
				 "The body must be a JSON array of thread paths.");
	else if (json_array_size(root) > WIRE_COUNTS_MAX)
		r = comment_fail(err, 422, "too_many_threads",
				 "Ask for at most %d threads at once.", WIRE_COUNTS_MAX);
	json_array_foreach(root, i, v)
	{
		if (r != 0)
			break;
		if (!json_is_string(v))
			r = comment_fail(err, 400, "invalid_type", "Each thread must be a string.");
		else if (strlen(json_string_value(v)) != json_string_length(v))
			r = comment_fail(err, 400, "invalid_text",
					 "Thread paths must not contain NUL.");
		else if (comment_thread_check(json_string_value(v), err) != 0)
			r = thread_failed(i, err);
	}
	if (r != 0) {
		json_decref(root);
		return r;
	}
	*paths = root;
	return 0;
}

int wire_thread_query(const char *thread, const char *limit, const char *after, const char *cursor,
		      const char *sort, unsigned page_max, struct wire_thread_query *out,
		      struct comment_error *err)
{
	unsigned long long n;
	char order = COMMENT_SORT_OLDEST;

	memset(out, 0, sizeof(*out));
	out->from = (struct comment_cursor){COMMENT_SORT_OLDEST, 0, 0, COMMENT_ROW_DONE};
	if (sort && comment_sort_parse(sort, &order) != 0)
		return comment_fail(err, 400, "invalid_sort",
				    "sort must be oldest, newest or top.");
	out->from.sort = order;
	if (!thread)
		return comment_fail(err, 400, "missing_thread",
				    "Add ?thread=<page path> to say which thread to read.");
	if (comment_thread_check(thread, err) != 0)
		return COMMENT_INVALID;
	out->thread = thread;
	if (limit) {
		if (text_parse_uint(limit, page_max, &n) != 0)
			return comment_fail(err, 400, "invalid_limit",
					    "limit must be a whole number from 0 to %u.", page_max);
		out->limit = (unsigned)n;
	}
	if (after && cursor)
		return comment_fail(err, 400, "invalid_cursor", "Give cursor or after, not both.");
	if (after) {
		if (text_parse_uint(after, INT64_MAX, &n) != 0)
			return comment_fail(err, 400, "invalid_after",
					    "after must be a comment id.");
		if (order != COMMENT_SORT_OLDEST)
			return comment_fail(err, 400, "invalid_after",
					    "after pages only the oldest-first order; use cursor.");
		out->from.root = (int64_t)n;
	}
	if (cursor && comment_cursor_parse(cursor, &out->from) != 0)
		return comment_fail(err, 400, "invalid_cursor",
				    "cursor must be the value from a previous answer.");
	if (cursor && sort && out->from.sort != order)
		return comment_fail(err, 400, "invalid_cursor",
				    "This cursor belongs to another sort order.");
	return 0;
}

int wire_feed_query(const char *thread, struct comment_error *err)
{
	return thread ? comment_thread_check(thread, err) : 0;
}

static int page_id(const char *v, const char *name, int64_t *out, struct comment_error *err)
{
	unsigned long long n;

	if (!v)
		return 0;
	if (text_parse_uint(v, INT64_MAX, &n) != 0 || n < 1)
		return comment_fail(err, 400, "invalid_id", "%s must be a comment id.", name);
	*out = (int64_t)n;
	return 0;
}

int wire_page_query(const char *format, const char *frame, const char *reply, const char *comment,
		    const char *held, const char *mail, struct wire_page_query *out,
		    struct comment_error *err)
{
	int r;

	memset(out, 0, sizeof(*out));
	if (format && strcmp(format, "json") != 0) {
		out->fragment = strcmp(format, "fragment") == 0;
		out->html = out->fragment || strcmp(format, "html") == 0;
		if (!out->html)
			return comment_fail(err, 400, "invalid_format",
					    "format must be json, html or fragment.");
	}
	out->framed = frame && strcmp(frame, "1") == 0;
	out->held = held && strcmp(held, "1") == 0;
	out->mail = mail && strcmp(mail, "1") == 0;
	r = page_id(reply, "reply", &out->reply, err);
	if (r == 0)
		r = page_id(comment, "comment", &out->focus, err);
	return r;
}

int wire_reply_json(const char *body, size_t len, char **text, bool *approve,
		    struct comment_error *err)
{
	static const char *const allowed[] = {"text", "approve", NULL};
	json_t *root = NULL, *v;
	int r;

	*text = NULL;
	*approve = false;
	r = object_of(body, len, allowed, "A reply has only \"text\" and \"approve\".", &root, err);
	if (r != 0)
		return r;
	v = json_object_get(root, "approve");
	if (v && !json_is_boolean(v))
		r = comment_fail(err, 400, "invalid_type", "\"approve\" must be true or false.");
	*approve = json_is_true(v);
	if (r == 0)
		r = take_string(root, "text", text, err);
	if (r == 0 && !*text)
		r = comment_fail(err, 422, "missing_text", "The reply is empty.");
	json_decref(root);
	return r;
}
