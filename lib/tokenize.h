/* tokenize: turns untrusted, multilingual comment text into classifier tokens.
 *
 * Pipeline for text: invalid UTF-8 is replaced by U+FFFD, the input is capped
 * at TOKENIZE_MAX_INPUT bytes, then utf8proc applies NFKC, Unicode case
 * folding and strips default-ignorable (zero-width) and control characters.
 * Words come from ICU's UAX #29 word break iterator:
 *   - letter words of at least 2 code points are kept whole (compounds too,
 *     up to TOKENIZE_MAX_WORD code points); words of 12+ code points also
 *     give "pre:" and "suf:" tokens (first/last 6 code points), so a
 *     compound shares evidence with its parts; longer words become
 *     "skip:<first char><length/10>";
 *   - numbers are kept, plus an abstracted shape "n:NNN.NN" (digits -> N);
 *   - Han/Hiragana/Katakana runs become overlapping character bigrams;
 *   - URLs (scheme:// or www.) and bare host names with a real public suffix
 *     give "url:<host>" and "urld:<registrable domain>" (libpsl);
 *   - emoji and currency symbols are tokens of their own; runs of the same
 *     punctuation give "p:" + up to 3 copies ("p:!!!").
 *   - word pairs (orthogonal sparse bigrams): every word or number with the
 *     word before it ("b1:my channel") and the one before that
 *     ("b2:to channel"), kind TOKEN_PAIR;
 *   - character 4-grams of letter words of 5+ code points ("c4:fiet",
 *     "c4:iets", ...), kind TOKEN_GRAM, so inflections, misspellings and
 *     glued-together compounds still share evidence.
 * Text meta tokens: "m:links:", "m:len:" (log2 code points), "m:caps:"
 * (share of capitals among the letters inside words, before folding: a
 * capital that starts a word is not counted) and obfuscation flags "o:fullwidth",
 * "o:zerowidth", "o:mixscript" (Latin mixed with Cyrillic/Greek in a word).
 *
 * Hard limits: TOKENIZE_MAX_INPUT bytes of text, TOKENIZE_MAX_TOKENS tokens,
 * TOKENIZE_MAX_TOKEN_BYTES bytes per token (longer ones are cut at a UTF-8
 * boundary).  Text tokens leave the last 32 slots of the list for meta
 * tokens, so a long text cannot crowd them out.  Tokens may repeat; callers
 * deduplicate.  Pure-ASCII text skips utf8proc (same result, less work).
 *
 * Thread safety: a struct tokenizer is used by one thread at a time; the
 * helper functions without a tokenizer argument are thread-safe.
 */
#ifndef COMMENTD_TOKENIZE_H
#define COMMENTD_TOKENIZE_H

#include <stdbool.h>
#include <stddef.h>

/* Changes whenever a text gives different tokens: the shipped starter model
 * (lib/starter.h) is made for one version and must be rebuilt
 * (tools/build-starter.py) when it changes. */
#define TOKENIZE_VERSION 2

#define TOKENIZE_MAX_INPUT	 (32 * 1024)
#define TOKENIZE_MAX_TOKENS	 1024
#define TOKENIZE_MAX_TOKEN_BYTES 128
#define TOKENIZE_MAX_WORD	 48

struct tokenizer;

/* A list of NUL-terminated tokens owned by its tokenizer; valid until the
 * next tokenizer_reset() or tokenizer_free(). */
enum token_kind {
	TOKEN_PLAIN, /* words, numbers, URLs, symbols, meta */
	TOKEN_PAIR,  /* word pairs */
	TOKEN_GRAM,  /* character n-grams inside words */
};

struct token_list {
	unsigned n;
	const char *tok[TOKENIZE_MAX_TOKENS];
	unsigned char kind[TOKENIZE_MAX_TOKENS]; /* enum token_kind */
};

/* Creates a tokenizer (opens an ICU word break iterator).
 * 0 or negative on failure (logged). */
int tokenizer_new(struct tokenizer **out);

/* NULL-safe; returns NULL. */
struct tokenizer *tokenizer_free(struct tokenizer *t);

/* Empties the tokenizer's token list (tokenizer_tokens()). */
void tokenizer_reset(struct tokenizer *t);

/* The tokens produced since the last reset. */
const struct token_list *tokenizer_tokens(const struct tokenizer *t);

/* Appends the tokens of len bytes of text (need not be NUL-terminated nor
 * valid UTF-8) and the text meta tokens.  0, or negative on internal failure
 * (logged).  Input over the caps is truncated, not refused. */
int tokenizer_text(struct tokenizer *t, const char *text, size_t len);

/* Appends prefix + value as one token, value NFKC-case-folded and cut to the
 * token cap; an empty value gives prefix + "none".  0 or negative. */
int tokenizer_add_folded(struct tokenizer *t, const char *prefix, const char *value);

/* Appends prefix + value verbatim (cut to the token cap).  0 or negative. */
int tokenizer_add(struct tokenizer *t, const char *prefix, const char *value);

/* Host of a URL (scheme optional; "www.x.nl/y", "https://u@X.NL:80/"),
 * ASCII-lower-cased, into out.  0, or 1 if there is no plausible host. */
int tokenize_url_host(const char *url, size_t len, char *out, size_t outsz);

/* Registrable domain of a lower-case host ("a.b.example.co.uk" ->
 * "example.co.uk") per the Public Suffix List.  0, or 1 if host is itself a
 * public suffix, an IP address or has no known suffix. */
int tokenize_registrable_domain(const char *host, char *out, size_t outsz);

/* The domain of an e-mail address, lower-cased; the address itself is never
 * copied.  0, or 1 if address has no plausible domain. */
int tokenize_email_domain(const char *address, char *out, size_t outsz);

/* The network prefix of a textual IP address: "a.b.c" (/24) for IPv4,
 * the first three groups (/48) for IPv6.  0, or 1 if not an address. */
int tokenize_ip_prefix(const char *ip, char *out, size_t outsz);

/* Whether the links of text (scheme:// and www., as the tokens find them)
 * point at the commented page, the one at host (the site's; a port is
 * allowed) and path (the thread: "/2024/05/post/", "/watch?v=ID"; a whole
 * address, as Akismet's permalink, gives its own host).  A link
 * points at the page when it has the page's host (a leading "www." or "m."
 * aside), its path (a trailing "/" aside) and every parameter of its query
 * (more are allowed: "&t=2m19s"), or when its last path segment or one of
 * its query values is the page's identifier: the longest of the page's last
 * path segment and query values, if it has TOKENIZE_PAGE_ID_MIN bytes or
 * more (a short link: youtu.be/ID).  With blanked (a copy of the len bytes
 * of text) the bytes of every link that points at the page become spaces
 * there.  Returns TOKENIZE_LINKS_NONE (no link), _PAGE (at least one points
 * at the page) or _ELSEWHERE (links, none at the page). */
enum { TOKENIZE_LINKS_NONE, TOKENIZE_LINKS_PAGE, TOKENIZE_LINKS_ELSEWHERE };
#define TOKENIZE_PAGE_ID_MIN 8
int tokenize_page_links(const char *text, size_t len, const char *host, const char *path,
			char *blanked);

/* A coarse class of a User-Agent header: "none", "bot", "cli", "script",
 * "edge", "chrome", "firefox", "safari", "mobile" or "other". */
const char *tokenize_ua_class(const char *user_agent);

#endif
