#include "view.h"

#include "jsontext.h"
#include "timefmt.h"

#include <string.h>

static json_t *string_or_null(const char *s)
{
	return s && *s ? json_string(s) : json_null();
}

static json_t *parent_of(const struct comment_view *v)
{
	return v->parent ? json_integer(v->parent) : json_null();
}

json_t *view_public(const struct comment_view *v)
{
	char created[TIMEFMT_RFC3339];
	json_t *j;

	if (v->deleted)
		return json_pack("{s:I, s:o, s:b}", "id", (json_int_t)v->id, "parent", parent_of(v),
				 "deleted", 1);
	timefmt_rfc3339(v->created, created);
	j = json_pack("{s:I, s:o, s:s, s:o, s:s, s:s, s:s, s:b, s:I}", "id", (json_int_t)v->id,
		      "parent", parent_of(v), "author", v->author ? v->author : "", "url",
		      string_or_null(v->url), "created", created, "html", v->html ? v->html : "",
		      "avatar", v->avatar ? v->avatar : "", "author_badge", v->author_badge,
		      "likes", (json_int_t)v->likes);
	if (j && v->thread && json_object_set_new(j, "thread", json_string(v->thread)) != 0) {
		json_decref(j);
		return NULL;
	}
	return j;
}

/* Appends key (its quoted name and ':', after a ',') and s ("" for NULL)
 * as a JSON string. */
static int member_string(struct buf *out, const char *key, const char *s)
{
	int r = buf_puts(out, key);

	return r ? r : jsontext_string(out, s ? s : "", s ? strlen(s) : 0);
}

/* Appends key and v as an integer, or null for 0 when zero_null. */
static int member_int(struct buf *out, const char *key, int64_t v, bool zero_null)
{
	int r = buf_puts(out, key);

	if (r == 0)
		r = zero_null && v == 0 ? buf_puts(out, "null") : jsontext_int(out, v);
	return r;
}

int view_public_members(struct buf *out, const struct comment_view *v)
{
	char created[TIMEFMT_RFC3339];
	int r = member_int(out, "\"id\":", v->id, false);

	if (r == 0)
		r = member_int(out, ",\"parent\":", v->parent, true);
	if (v->deleted)
		return r ? r : buf_puts(out, ",\"deleted\":true");
	if (r == 0)
		r = member_string(out, ",\"author\":", v->author);
	if (r == 0)
		r = v->url && *v->url ? member_string(out, ",\"url\":", v->url)
				      : buf_puts(out, ",\"url\":null");
	if (r == 0)
		r = member_string(out, ",\"created\":", timefmt_rfc3339(v->created, created));
	if (r == 0)
		r = member_string(out, ",\"html\":", v->html);
	if (r == 0)
		r = member_string(out, ",\"avatar\":", v->avatar);
	if (r == 0)
		r = buf_puts(out, v->author_badge ? ",\"author_badge\":true"
						  : ",\"author_badge\":false");
	if (r == 0)
		r = member_int(out, ",\"likes\":", v->likes, false);
	if (r == 0 && v->thread)
		r = member_string(out, ",\"thread\":", v->thread);
	return r;
}

json_t *view_poster(const struct comment_view *v, const char *edit_token, int64_t edit_until)
{
	char until[TIMEFMT_RFC3339];
	json_t *j = view_public(v);
	int r;

	if (!j)
		return NULL;
	r = json_object_set_new(j, "status", json_string(v->published ? "published" : "pending"));
	if (r == 0 && edit_token) {
		r = json_object_set_new(j, "edit_token", json_string(edit_token));
		if (r == 0)
			r = json_object_set_new(j, "edit_until",
						json_string(timefmt_rfc3339(edit_until, until)));
	}
	if (r != 0) {
		json_decref(j);
		return NULL;
	}
	return j;
}
