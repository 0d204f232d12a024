/* Unit tests for lib/tokenize: multilingual words, CJK bigrams, URLs,
 * obfuscation, numbers, caps, helpers. */
#include "tap.h"

#include "tokenize.h"

#include <stdlib.h>

static struct tokenizer *tk;

static bool has(const char *token)
{
	const struct token_list *l = tokenizer_tokens(tk);

	for (unsigned i = 0; i < l->n; i++)
		if (strcmp(l->tok[i], token) == 0)
			return true;
	return false;
}

/* kind of the first token equal to token, or -1 */
static int kind_of(const char *token)
{
	const struct token_list *l = tokenizer_tokens(tk);

	for (unsigned i = 0; i < l->n; i++)
		if (strcmp(l->tok[i], token) == 0)
			return l->kind[i];
	return -1;
}

static bool has_prefix(const char *prefix)
{
	const struct token_list *l = tokenizer_tokens(tk);

	for (unsigned i = 0; i < l->n; i++)
		if (strncmp(l->tok[i], prefix, strlen(prefix)) == 0)
			return true;
	return false;
}

static void dump(void)
{
	const struct token_list *l = tokenizer_tokens(tk);

	printf("# tokens:");
	for (unsigned i = 0; i < l->n && i < 60; i++)
		printf(" [%s]", l->tok[i]);
	printf("\n");
}

static void run(const char *text)
{
	tokenizer_reset(tk);
	if (tokenizer_text(tk, text, strlen(text)) != 0)
		diag("tokenizer_text failed on %s", text);
}

#define HAS(tok, ...)                                                                              \
	do {                                                                                       \
		if (!ok(has(tok), __VA_ARGS__))                                                    \
			dump();                                                                    \
	} while (0)
#define HASNT(tok, ...)                                                                            \
	do {                                                                                       \
		if (!ok(!has(tok), __VA_ARGS__))                                                   \
			dump();                                                                    \
	} while (0)

static void test_page_links(void)
{
	static const char yt[] = "www.youtube.com", video[] = "/watch?v=KQ6zr6kCPj8";
	/* text, page host and path, the blanked copy (NULL: not checked), result */
	static const struct {
		const char *text, *host, *path, *blanked;
		int want;
		const char *name;
	} cases[] = {
	    {"2:19 best part http://www.youtube.com/watch?v=KQ6zr6kCPj8&t=2m19s", yt, video,
	     "2:19 best part                                                   ",
	     TOKENIZE_LINKS_PAGE, "the page's own address, a parameter more: the page, blanked"},
	    {"LMFAO: https://youtu.be/KQ6zr6kCPj8 yes", yt, video,
	     "LMFAO:                              yes", TOKENIZE_LINKS_PAGE,
	     "a short link carrying the page's identifier: the page"},
	    {"see https://m.youtube.com/watch?v=KQ6zr6kCPj8.", yt, video,
	     "see                                          .", TOKENIZE_LINKS_PAGE,
	     "m. host and a full stop after the link"},
	    {"my video http://www.youtube.com/watch?v=abcdefghijk", yt, video,
	     "my video http://www.youtube.com/watch?v=abcdefghijk", TOKENIZE_LINKS_ELSEWHERE,
	     "another video on the same site: elsewhere, kept"},
	    {"https://youtu.be/KQ6zr6kCPj8 and www.spam.example/x", yt, video,
	     "                             and www.spam.example/x", TOKENIZE_LINKS_PAGE,
	     "only the page's own link is blanked"},
	    {"no links here", yt, video, "no links here", TOKENIZE_LINKS_NONE, "no link: none"},
	    {"http://www.youtube.com/watch?t=5&x=KQ6zr6kCPj", yt, video, NULL,
	     TOKENIZE_LINKS_ELSEWHERE, "same path without the page's parameter: elsewhere"},
	    {"read https://Blog.Example/2024/05/post#c3", "blog.example", "/2024/05/post/", NULL,
	     TOKENIZE_LINKS_PAGE, "a blog post: trailing slash, case of the host, fragment"},
	    {"read https://blog.example/2024/05/other/", "blog.example", "/2024/05/post/", NULL,
	     TOKENIZE_LINKS_ELSEWHERE, "another post of the blog: elsewhere"},
	    {"read https://other.example/2024/05/post/", "blog.example:8080", "/2024/05/post/",
	     NULL, TOKENIZE_LINKS_ELSEWHERE, "the same path on another host: elsewhere (short id)"},
	    {"https://spam.example/?ref=a-long-post-slug", "blog.example", "/a-long-post-slug",
	     NULL, TOKENIZE_LINKS_PAGE, "a query value equal to the page's identifier (8+ bytes)"},
	    {"see http://blog.example/p/", "x.example", "https://blog.example/p", NULL,
	     TOKENIZE_LINKS_PAGE, "a whole address as the page (Akismet's permalink)"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char copy[512];
		size_t n = strlen(cases[i].text);

		memcpy(copy, cases[i].text, n + 1);
		is_int(tokenize_page_links(cases[i].text, n, cases[i].host, cases[i].path,
					   cases[i].blanked ? copy : NULL),
		       cases[i].want, "%s", cases[i].name);
		if (cases[i].blanked)
			is_str(copy, cases[i].blanked, "blanked copy of \"%s\"", cases[i].text);
	}
}

int main(void)
{
	char out[256];

	if (tokenizer_new(&tk) != 0) {
		ok(0, "tokenizer_new");
		return done_testing();
	}

	/* Dutch, with a compound, an elision and a link */
	run("Gratis geld verdienen? Klik hier: www.Voorbeeld.nl/actie — het "
	    "fietsenstallingsbeleid van zo'n gemeente");
	HAS("gratis", "Dutch: words are case-folded");
	HAS("verdienen", "Dutch: plain word");
	HAS("fietsenstallingsbeleid", "Dutch compound kept whole");
	HAS("pre:fietse", "Dutch compound: head part");
	HAS("suf:beleid", "Dutch compound: tail part");
	HAS("zo'n", "Dutch elision zo'n is one word");
	HAS("url:www.voorbeeld.nl", "www. link gives its host");
	HAS("urld:voorbeeld.nl", "and its registrable domain");
	HAS("m:links:1", "one link counted");

	/* word pairs and character 4-grams */
	HAS("b1:gratis geld", "adjacent word pair");
	HAS("b2:gratis verdienen", "word pair at distance 2");
	HASNT("b3:gratis klik", "no pairs beyond distance 2");
	is_int(kind_of("b1:geld verdienen"), TOKEN_PAIR, "pairs are TOKEN_PAIR");
	HAS("c4:fiet", "4-gram at the start of a compound");
	HAS("c4:leid", "4-gram at the end of a compound");
	HAS("c4:stal", "4-gram inside a compound (Dutch: stalling)");
	is_int(kind_of("c4:fiet"), TOKEN_GRAM, "grams are TOKEN_GRAM");
	is_int(kind_of("gratis"), TOKEN_PLAIN, "words are TOKEN_PLAIN");
	HAS("c4:grat", "4-grams of a 6-letter word");
	HASNT("c4:geld", "no 4-grams of words under 5 code points");
	run("subscribe to my channel");
	HAS("b1:my channel", "channel-promo pair");
	HAS("b2:to channel", "channel-promo pair at distance 2");
	HAS("c4:subs", "obfuscation-tolerant piece of subscribe");
	run("sub5cribe");
	HASNT("c4:subs", "digits inside a word are kept, not folded into letters");

	/* German */
	run("Die Donaudampfschifffahrtsgesellschaftskapitän-Mütze auf der Straße");
	HAS("donaudampfschifffahrtsgesellschaftskapitän", "42-letter German compound kept whole");
	HAS("pre:donaud", "German compound: head part");
	HAS("suf:apitän", "German compound: tail part (last 6 code points)");
	HAS("mütze", "umlaut word kept");
	HAS("strasse", "ß case-folds to ss");

	/* over-long token summarised, not dropped silently */
	run("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa end");
	HAS("skip:a6", "a 63-letter run becomes skip:<first><len/10>");
	HAS("end", "the rest is still tokenized");

	/* Greek */
	run("Καλημέρα ΚΌΣΜΕ, τι κάνεις;");
	HAS("καλημέρα", "Greek word");
	HAS("κόσμε", "Greek capitals case-folded with accents kept");
	HAS("m:caps:mid", "capitals ratio measured before folding");

	run("Straße straße");
	HAS("c4:stra", "4-grams after case folding");
	HAS("b1:strasse strasse", "pairs of folded words");

	/* Japanese: CJK runs become overlapping bigrams */
	run("日本語のテキストです");
	HAS("日本", "Japanese bigram 1");
	HAS("本語", "Japanese bigram 2");
	HAS("テキ", "katakana bigram");
	HAS("です", "hiragana bigram at the end");
	HASNT("日本語のテキストです", "no whole-run token");
	HASNT("c4:日本語の", "CJK runs give bigrams, not 4-grams");
	run("猫");
	HAS("猫", "a single CJK character is a token");

	/* emoji and symbols */
	run("great song 🔥🔥🔥🔥 love it ❤");
	HAS("🔥", "emoji token");
	HAS("p:🔥🔥🔥", "repeated emoji run capped at three");
	HAS("song", "words next to emoji");

	/* URLs */
	run("visit HTTPS://user:pw@Shop.Example.co.uk:8080/path?x=1. or cheap-pills.com today, "
	    "e.g. now http://192.168.10.1/x");
	HAS("url:shop.example.co.uk", "scheme URL host (userinfo and port stripped)");
	HAS("urld:example.co.uk", "registrable domain under a multi-label public suffix");
	HAS("url:cheap-pills.com", "bare host name in text");
	HAS("urld:cheap-pills.com", "bare host registrable domain");
	HASNT("url:e.g", "e.g. is not a host");
	HAS("url:192.168.10.1", "IP host");
	HAS("url:ip", "IP host flagged");
	HAS("m:links:3", "three links counted");

	/* obfuscation */
	run("ＦＲＥＥ ＭＯＮＥＹ");
	HAS("free", "full-width letters fold to ASCII");
	HAS("money", "full-width letters fold to ASCII (2)");
	HAS("o:fullwidth", "full-width use flagged");
	run("fr\xe2\x80\x8b"
	    "ee v\xe2\x80\x8c"
	    "iagra");
	HAS("free", "zero-width space inside a word removed");
	HAS("viagra", "zero-width non-joiner inside a word removed");
	HAS("o:zerowidth", "zero-width inside a word flagged");
	run("nice song\xef\xbb\xbf");
	HASNT("o:zerowidth", "a trailing BOM is not flagged");
	run("buy now!!!!!! $$$ cheap??");
	HAS("p:!!!", "exclamation run capped at three");
	HAS("p:$$$", "dollar run");
	HAS("$", "currency symbol token");
	HAS("p:??", "question mark pair");
	run("p\xd0\xb0ypal login");
	HAS("o:mixscript", "Cyrillic a inside a Latin word flagged");

	/* numbers */
	run("Call 08712460324 now to claim £1,000.50 prize gr8");
	HAS("08712460324", "phone number kept");
	HAS("n:NNNNNNNNNNN", "phone number shape");
	HAS("1,000.50", "price kept whole");
	HAS("n:N,NNN.NN", "price shape");
	HAS("£", "pound sign");
	HAS("gr8", "word with a digit kept");
	HAS("n:grN", "and its shape");

	/* meta */
	run("THIS IS ALL CAPS TEXT");
	HAS("m:caps:all", "all-caps text");
	HAS("m:links:0", "no links");
	HAS("m:len:4", "length bucket log2(21) = 4");

	/* robustness */
	run("abc\xff\xfe"
	    "def \xc3");
	HAS("abc", "invalid UTF-8 is replaced, text still tokenized");
	HAS("def", "after the invalid bytes");
	{
		size_t n = 200000;
		char *big = malloc(n + 1);

		for (size_t i = 0; i < n; i++)
			big[i] = (i % 7 == 6) ? ' ' : (char)('a' + (i * 7919 % 26));
		big[n] = '\0';
		run(big);
		ok(tokenizer_tokens(tk)->n <= TOKENIZE_MAX_TOKENS, "token count is capped (%u)",
		   tokenizer_tokens(tk)->n);
		HAS("m:links:0", "a text over the token cap still gets its meta tokens");
		HAS("m:len:12", "including the length");
		free(big);
	}
	tokenizer_reset(tk);
	tokenizer_add_folded(tk, "m:author:", "JAN Jansen");
	tokenizer_add_folded(tk, "m:x:", "");
	HAS("m:author:jan jansen", "folded meta value");
	HAS("m:x:none", "empty meta value");

	/* helpers */
	is_int(tokenize_email_domain("Jan.Jansen@Mail.Example.NL", out, sizeof(out)), 0,
	       "e-mail domain found");
	is_str(out, "mail.example.nl", "e-mail domain lower-cased, local part dropped");
	is_int(tokenize_email_domain("no-at-sign", out, sizeof(out)), 1, "no domain");
	is_int(tokenize_ip_prefix("192.168.1.77", out, sizeof(out)), 0, "IPv4");
	is_str(out, "192.168.1", "IPv4 /24");
	is_int(tokenize_ip_prefix("2001:db8:1234:5678::1", out, sizeof(out)), 0, "IPv6");
	is_str(out, "2001:0db8:1234", "IPv6 /48");
	is_int(tokenize_ip_prefix("::ffff:10.1.2.3", out, sizeof(out)), 0, "mapped IPv4");
	is_str(out, "10.1.2", "mapped IPv4 /24");
	is_int(tokenize_ip_prefix("not an ip", out, sizeof(out)), 1, "junk IP refused");
	is_int(tokenize_registrable_domain("a.b.example.co.uk", out, sizeof(out)), 0, "regdom");
	is_str(out, "example.co.uk", "registrable domain of a deep host");
	is_int(tokenize_registrable_domain("co.uk", out, sizeof(out)), 1,
	       "a public suffix has no registrable domain");
	is_int(tokenize_url_host("https://[2001:db8::1]:443/x", 27, out, sizeof(out)), 0,
	       "bracketed IPv6 host");
	is_str(out, "2001:db8::1", "IPv6 literal host");
	is_str(tokenize_ua_class("Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 "
				 "Firefox/120.0"),
	       "firefox", "Firefox UA");
	is_str(tokenize_ua_class("curl/8.1.2"), "cli", "curl UA");
	is_str(tokenize_ua_class("python-requests/2.31"), "script", "script UA");
	is_str(tokenize_ua_class("Googlebot/2.1"), "bot", "bot UA");
	is_str(tokenize_ua_class(""), "none", "missing UA");

	test_page_links();

	run("just some plain words, nothing linked. end.");
	ok(!has_prefix("url:") && has("m:links:0"), "plain text has no link tokens");
	tk = tokenizer_free(tk);
	ok(tk == NULL && tokenizer_free(NULL) == NULL, "tokenizer_free is NULL-safe");
	return done_testing();
}
