#include "explain.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

struct prefix {
	const char *prefix;
	const char *kind;
	bool shown;
};

/* Every prefix the tokenizer and the classifier give (lib/tokenize.c,
 * lib/classify.c); a token without one of these is a word. */
static const struct prefix prefixes[] = {
    {"url:", "link", true},
    {"urld:", "link_domain", true},
    {"b1:", "word_pair", true},
    {"b2:", "word_pair", true},
    {"b3:", "word_pair", true},
    {"b4:", "word_pair", true},
    {"c4:", "fragment", true},
    {"pre:", "word_start", true},
    {"suf:", "word_end", true},
    {"skip:", "long_word", true},
    {"n:", "number_shape", true},
    {"p:", "punctuation", true},
    {"o:", "obfuscation", true},
    {"m:links:", "link_count", true},
    {"m:len:", "length", true},
    {"m:caps:", "capitals", true},
    {"m:author:", "name", true},
    {"m:aurl:", "website", true},
    {"m:aurld:", "website_domain", true},
    {"m:ua:", "browser", true},
    {"m:ref:", "referrer", true},
    {"m:rt:", "render_time", true},
    {"m:dup:", "duplicate", true},
    {"m:plink:", "page_link", true},
    {"m:title:", "page_title_words", true},
    /* Privacy: the e-mail domain and the client's network are never
	 shown, whatever the stored token holds. */
    {"m:email:", "email_domain", false},
    {"m:ip:", "network", false},
    {"m:", "signal", false},
};

static const struct prefix *prefix_of(const char *token)
{
	for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++) {
		if (strncmp(token, prefixes[i].prefix, strlen(prefixes[i].prefix)) == 0)
			return &prefixes[i];
	}
	return NULL;
}

/* Copies at most cap - 1 bytes of s, cut at a UTF-8 boundary. */
static void copy_cut(char *out, size_t cap, const char *s, size_t len)
{
	if (len >= cap) {
		len = cap - 1;
		while (len > 0 && ((unsigned char)s[len] & 0xc0) == 0x80)
			len--;
	}
	memcpy(out, s, len);
	out[len] = '\0';
}

const char *explain_token(const char *token, char text[EXPLAIN_TEXT_MAX], bool *shown)
{
	const struct prefix *p = token ? prefix_of(token) : NULL;
	const char *rest;
	const char *space;

	text[0] = '\0';
	*shown = false;
	if (!token)
		return "signal";
	if (!p) {
		copy_cut(text, EXPLAIN_TEXT_MAX, token, strlen(token));
		*shown = true;
		return "word";
	}
	if (!p->shown)
		return p->kind;
	*shown = true;
	rest = token + strlen(p->prefix);
	space = strchr(rest, ' ');
	if (p->prefix[0] == 'b' && p->prefix[1] != '1' && space) {
		/* A pair of words with others between them. */
		char pair[2 * EXPLAIN_TEXT_MAX];
		int n = snprintf(pair, sizeof(pair), "%.*s \xe2\x80\xa6%s", (int)(space - rest),
				 rest, space);

		copy_cut(text, EXPLAIN_TEXT_MAX, pair,
			 n < 0			    ? 0
			 : (size_t)n < sizeof(pair) ? (size_t)n
						    : sizeof(pair) - 1);
	} else {
		copy_cut(text, EXPLAIN_TEXT_MAX, rest, strlen(rest));
	}
	return p->kind;
}

static json_t *readable(json_t *item)
{
	const char *token = json_string_value(json_object_get(item, "token"));
	const char *model = json_string_value(json_object_get(item, "model"));
	double p = json_number_value(json_object_get(item, "p"));
	char text[EXPLAIN_TEXT_MAX];
	const char *kind;
	json_t *out;
	bool shown;

	kind = explain_token(token, text, &shown);
	out = json_pack("{s:s, s:o, s:f, s:b}", "kind", kind, "text",
			shown ? json_string(text) : json_null(), "p", round(p * 100) / 100, "spam",
			p >= 0.5);
	/* Whose counts the evidence came from: the site's, the shipped starter
	 * model's, or both. */
	if (out && model && json_object_set_new(out, "model", json_string(model)) != 0) {
		json_decref(out);
		return NULL;
	}
	return out;
}

json_t *explain_tokens(const char *tokens_json)
{
	json_t *in = tokens_json ? json_loads(tokens_json, 0, NULL) : NULL;
	json_t *out = json_array(), *item;
	size_t i;

	if (!out) {
		json_decref(in);
		return NULL;
	}
	json_array_foreach(in, i, item)
	{
		if (!json_is_object(item))
			continue;
		if (json_array_append_new(out, readable(item)) != 0) {
			json_decref(in);
			json_decref(out);
			return NULL;
		}
	}
	json_decref(in);
	return out;
}

int explain_annotate(json_t *tokens)
{
	char text[EXPLAIN_TEXT_MAX];
	const struct prefix *p;
	const char *token, *kind;
	json_t *item;
	bool shown;
	size_t i;
	int r = 0;

	json_array_foreach(tokens, i, item)
	{
		token = json_string_value(json_object_get(item, "token"));
		if (!json_is_object(item) || !token)
			continue;
		kind = explain_token(token, text, &shown);
		r |= json_object_set_new(item, "kind", json_string(kind));
		r |= json_object_set_new(item, "text", shown ? json_string(text) : json_null());
		p = prefix_of(token);
		/* The stored token of a kind never shown keeps only its prefix,
		 * or its keyed pseudonym ("m:email:#3fa9..."), which tells a
		 * moderator that the same domain weighed without naming it. */
		if (p && !p->shown && token[strlen(p->prefix)] != '#')
			r |= json_object_set_new(item, "token", json_string(p->prefix));
	}
	return r ? -ENOMEM : 0;
}
