/* Unit tests for lib/explain: every token prefix has its kind, the e-mail
 * domain and network are never shown, the readable list keeps order and
 * rounds, and annotating stored tokens hides what must not be seen. */
#include "tap.h"

#include "explain.h"

#include <string.h>

static void kind_is(const char *token, const char *kind, const char *text)
{
	char shown_text[EXPLAIN_TEXT_MAX];
	bool shown;
	const char *k = explain_token(token, shown_text, &shown);

	is_str(k, kind, "%s is a %s", token, kind);
	if (text) {
		ok(shown, "  shown");
		is_str(shown_text, text, "  reads \"%s\"", text);
	} else {
		ok(!shown && shown_text[0] == '\0', "  never shown");
	}
}

static void test_kinds(void)
{
	char long_token[300], text[EXPLAIN_TEXT_MAX];
	bool shown;

	kind_is("volharding", "word", "volharding");
	kind_is("url:bit.ly", "link", "bit.ly");
	kind_is("urld:example.com", "link_domain", "example.com");
	kind_is("b1:cheap pills", "word_pair", "cheap pills");
	kind_is("b2:buy pills", "word_pair", "buy \xe2\x80\xa6 pills");
	kind_is("c4:fiet", "fragment", "fiet");
	kind_is("pre:commun", "word_start", "commun");
	kind_is("suf:nagement", "word_end", "nagement");
	kind_is("skip:x5", "long_word", "x5");
	kind_is("n:NNN.NN", "number_shape", "NNN.NN");
	kind_is("p:!!!", "punctuation", "!!!");
	kind_is("o:mixscript", "obfuscation", "mixscript");
	kind_is("m:links:3", "link_count", "3");
	kind_is("m:len:6", "length", "6");
	kind_is("m:caps:high", "capitals", "high");
	kind_is("m:author:promo", "name", "promo");
	kind_is("m:aurl:shop.example.com", "website", "shop.example.com");
	kind_is("m:aurld:example.com", "website_domain", "example.com");
	kind_is("m:ua:curl", "browser", "curl");
	kind_is("m:ref:offsite", "referrer", "offsite");
	kind_is("m:rt:<3", "render_time", "<3");
	kind_is("m:dup:2+", "duplicate", "2+");
	kind_is("m:email:example.nl", "email_domain", NULL);
	kind_is("m:email:", "email_domain", NULL);
	kind_is("m:ip:203.0.113.0/24", "network", NULL);
	kind_is("m:new:anything", "signal", NULL);
	is_str(explain_token(NULL, text, &shown), "signal", "no token: a signal");
	ok(!shown, "  not shown");
	memset(long_token, 'a', sizeof(long_token) - 1);
	long_token[sizeof(long_token) - 1] = '\0';
	explain_token(long_token, text, &shown);
	is_int((int)strlen(text), EXPLAIN_TEXT_MAX - 1, "a long token's text is cut");
	memcpy(long_token + EXPLAIN_TEXT_MAX - 2, "\xc3\xa9", 2);
	explain_token(long_token, text, &shown);
	is_int((int)strlen(text), EXPLAIN_TEXT_MAX - 2, "  at a character's boundary");
}

static void test_tokens(void)
{
	json_t *j =
	    explain_tokens("[{\"token\":\"url:bit.ly\",\"p\":0.98765,\"spam\":12,\"ham\":0},"
			   "{\"token\":\"m:email:example.nl\",\"p\":0.91,\"spam\":3,\"ham\":0},"
			   "{\"token\":\"volharding\",\"p\":0.0123,\"spam\":0,\"ham\":7},"
			   "7]");
	char *s = json_dumps(j, JSON_COMPACT | JSON_REAL_PRECISION(6));

	is_str(s,
	       "[{\"kind\":\"link\",\"text\":\"bit.ly\",\"p\":0.99,\"spam\":true},"
	       "{\"kind\":\"email_domain\",\"text\":null,\"p\":0.91,\"spam\":true},"
	       "{\"kind\":\"word\",\"text\":\"volharding\",\"p\":0.01,\"spam\":false}]",
	       "readable tokens, in order, two decimals, no e-mail domain");
	ok(!strstr(s, "example.nl"), "the e-mail domain is not in the answer");
	free(s);
	json_decref(j);
	j = explain_tokens(
	    "[{\"token\":\"url:bit.ly\",\"p\":0.9,\"spam\":0,\"ham\":0,\"model\":\"starter\"}]");
	s = json_dumps(j, JSON_COMPACT | JSON_REAL_PRECISION(6));
	is_str(s,
	       "[{\"kind\":\"link\",\"text\":\"bit.ly\",\"p\":0.9,\"spam\":true,\"model\":"
	       "\"starter\"}]",
	       "the model the evidence came from is kept");
	free(s);
	json_decref(j);
	j = explain_tokens(NULL);
	ok(json_is_array(j) && json_array_size(j) == 0, "no tokens: []");
	json_decref(j);
	j = explain_tokens("{not json");
	ok(json_is_array(j) && json_array_size(j) == 0, "malformed: []");
	json_decref(j);
}

static void test_annotate(void)
{
	json_t *t = json_loads("[{\"token\":\"m:ip:203.0.113.0/24\",\"p\":0.9},"
			       "{\"token\":\"m:email:example.nl\",\"p\":0.9},"
			       "{\"token\":\"url:bit.ly\",\"p\":0.9},{\"p\":0.5},3]",
			       0, NULL);
	char *s;

	is_int(explain_annotate(t), 0, "explain_annotate");
	s = json_dumps(t, JSON_COMPACT | JSON_SORT_KEYS | JSON_REAL_PRECISION(6));
	is_str(s,
	       "[{\"kind\":\"network\",\"p\":0.9,\"text\":null,\"token\":\"m:ip:\"},"
	       "{\"kind\":\"email_domain\",\"p\":0.9,\"text\":null,\"token\":\"m:email:\"},"
	       "{\"kind\":\"link\",\"p\":0.9,\"text\":\"bit.ly\",\"token\":\"url:bit.ly\"},"
	       "{\"p\":0.5},3]",
	       "kinds added; a network and an e-mail domain keep only their prefix");
	free(s);
	json_decref(t);
	is_int(explain_annotate(NULL), 0, "NULL is nothing to do");
}

int main(void)
{
	test_kinds();
	test_tokens();
	test_annotate();
	return done_testing();
}
