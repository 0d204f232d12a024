#include "tokenize.h"

#include "log.h"

#include <arpa/inet.h>
#include <errno.h>
#include <libpsl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unicode/ubrk.h>
#include <unicode/utext.h>
#include <utf8proc.h>

#define ARENA_SIZE   ((size_t)TOKENIZE_MAX_TOKENS * (TOKENIZE_MAX_TOKEN_BYTES + 1))
#define PART_CPS     6	/* code points in "pre:"/"suf:" parts of long words */
#define PART_MIN_CPS 12 /* words at least this long also give parts */
#define MAX_URLS     64 /* URL spans remembered per text */
#define PAIR_DIST    2	/* word pairs: each word with the 1 and 2 words before it */
#define GRAM_CPS     4	/* character n-grams inside words: n */
#define GRAM_MIN_CPS 5	/* only words of at least this many code points */
#define META_RESERVE 32 /* list slots that text tokens leave for meta tokens */

struct span {
	size_t start, end;
};

struct tokenizer {
	UBreakIterator *words;
	struct token_list list;
	size_t arena_len;
	bool full;
	unsigned links;
	unsigned n_urls;
	struct span urls[MAX_URLS];
	char *clean; /* sanitised input, 3 * TOKENIZE_MAX_INPUT + 1 bytes */
	size_t *cjk; /* code point offsets of the current CJK run */
	size_t n_cjk;
	const char *prev[PAIR_DIST]; /* last words (arena strings), newest first */
	unsigned n_prev;
	unsigned limit; /* list size at which tokens are dropped */
	char arena[];
};

/* ---- public suffix list ---------------------------------------------- */

static pthread_once_t psl_once = PTHREAD_ONCE_INIT;
static const psl_ctx_t *psl_ctx;

static void psl_init(void)
{
	psl_ctx = psl_latest(NULL);
	if (!psl_ctx)
		psl_ctx = psl_builtin();
	if (!psl_ctx)
		log_warn("tokenize: no public suffix list; domain tokens use the last two labels");
}

static const psl_ctx_t *psl(void)
{
	pthread_once(&psl_once, psl_init);
	return psl_ctx;
}

/* ---- token list ------------------------------------------------------ */

/* Length of s cut to at most max bytes without splitting a UTF-8 sequence. */
static size_t utf8_cut(const char *s, size_t len, size_t max)
{
	if (len <= max)
		return len;
	len = max;
	while (len > 0 && ((unsigned char)s[len] & 0xC0) == 0x80)
		len--;
	return len;
}

/* Appends prefix + s[0..len) as one token.  Silently drops tokens once the
 * list is full (the cap is part of the contract). */
static void add_token_k(struct tokenizer *t, enum token_kind kind, const char *prefix,
			const char *s, size_t len)
{
	size_t plen = strlen(prefix), room = TOKENIZE_MAX_TOKEN_BYTES;
	char *dst;

	if (t->list.n >= t->limit) {
		t->full = true;
		return;
	}
	if (plen > room)
		plen = room;
	len = utf8_cut(s, len, room - plen);
	dst = t->arena + t->arena_len;
	memcpy(dst, prefix, plen);
	memcpy(dst + plen, s, len);
	dst[plen + len] = '\0';
	t->arena_len += plen + len + 1;
	t->list.kind[t->list.n] = (unsigned char)kind;
	t->list.tok[t->list.n++] = dst;
}

static void add_token(struct tokenizer *t, const char *prefix, const char *s, size_t len)
{
	add_token_k(t, TOKEN_PLAIN, prefix, s, len);
}

int tokenizer_new(struct tokenizer **out)
{
	struct tokenizer *t;
	UErrorCode status = U_ZERO_ERROR;
	int r;

	t = calloc(1, sizeof(*t) + ARENA_SIZE);
	if (!t)
		return -ENOMEM;
	t->limit = TOKENIZE_MAX_TOKENS;
	t->clean = malloc(3 * (size_t)TOKENIZE_MAX_INPUT + 1);
	t->cjk = malloc(sizeof(*t->cjk) * (TOKENIZE_MAX_INPUT + 1));
	if (!t->clean || !t->cjk) {
		r = -ENOMEM;
		goto out;
	}
	t->words = ubrk_open(UBRK_WORD, "", NULL, 0, &status);
	if (U_FAILURE(status)) {
		log_err("tokenize: cannot open ICU word break iterator: %s", u_errorName(status));
		r = -EIO;
		goto out;
	}
	(void)psl();
	*out = t;
	t = NULL;
	r = 0;
out:
	tokenizer_free(t);
	return r;
}

struct tokenizer *tokenizer_free(struct tokenizer *t)
{
	if (!t)
		return NULL;
	if (t->words)
		ubrk_close(t->words);
	free(t->clean);
	free(t->cjk);
	free(t);
	return NULL;
}

void tokenizer_reset(struct tokenizer *t)
{
	t->list.n = 0;
	t->arena_len = 0;
	t->full = false;
	t->limit = TOKENIZE_MAX_TOKENS;
}

const struct token_list *tokenizer_tokens(const struct tokenizer *t)
{
	return &t->list;
}

int tokenizer_add(struct tokenizer *t, const char *prefix, const char *value)
{
	add_token(t, prefix, value, strlen(value));
	return 0;
}

int tokenizer_add_folded(struct tokenizer *t, const char *prefix, const char *value)
{
	utf8proc_uint8_t *folded = NULL;
	utf8proc_ssize_t n;
	size_t len = strnlen(value, TOKENIZE_MAX_TOKEN_BYTES * 4);

	if (len == 0) {
		add_token(t, prefix, "none", 4);
		return 0;
	}
	n = utf8proc_map((const utf8proc_uint8_t *)value, (utf8proc_ssize_t)len, &folded,
			 UTF8PROC_STABLE | UTF8PROC_COMPOSE | UTF8PROC_COMPAT | UTF8PROC_CASEFOLD |
			     UTF8PROC_IGNORE | UTF8PROC_STRIPCC | UTF8PROC_LUMP);
	if (n < 0) /* invalid UTF-8: one shared token, never raw bytes */
		add_token(t, prefix, "invalid", 7);
	else
		add_token(t, prefix, (const char *)folded, (size_t)n);
	free(folded);
	return 0;
}

/* ---- helpers on hosts, addresses, agents ------------------------------ */

static char ascii_lower(char c)
{
	return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

static bool is_host_byte(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '.' || c >= 0x80;
}

static bool is_ip_literal(const char *host)
{
	unsigned char addr[16];

	return inet_pton(AF_INET, host, addr) == 1 || inet_pton(AF_INET6, host, addr) == 1;
}

/* Validates and lower-cases host[0..len) into out. */
static int copy_host(const char *host, size_t len, char *out, size_t outsz)
{
	bool dot = false;

	while (len > 0 && host[len - 1] == '.')
		len--;
	if (len == 0 || len > 253 || len >= outsz || host[0] == '.' || host[0] == '-')
		return 1;
	for (size_t i = 0; i < len; i++) {
		if (!is_host_byte((unsigned char)host[i]))
			return 1;
		if (host[i] == '.') {
			if (i + 1 < len && host[i + 1] == '.')
				return 1;
			dot = true;
		}
		out[i] = ascii_lower(host[i]);
	}
	out[len] = '\0';
	for (size_t i = 0; i < len;) { /* non-ASCII (IDN) hosts must be valid UTF-8 */
		utf8proc_int32_t c;
		utf8proc_ssize_t n = utf8proc_iterate((const utf8proc_uint8_t *)out + i,
						      (utf8proc_ssize_t)(len - i), &c);

		if (n <= 0)
			return 1;
		i += (size_t)n;
	}
	return dot ? 0 : 1;
}

int tokenize_url_host(const char *url, size_t len, char *out, size_t outsz)
{
	size_t i = 0, start, end, at;

	/* skip "scheme://" */
	for (size_t j = 0; j < len && j < 16; j++) {
		char c = url[j];

		if (c == ':' && j > 0 && j + 2 < len && url[j + 1] == '/' && url[j + 2] == '/') {
			i = j + 3;
			break;
		}
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (j > 0 && ((c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.'))))
			break;
	}
	start = i;
	end = start;
	while (end < len && url[end] != '/' && url[end] != '?' && url[end] != '#' &&
	       url[end] != ' ' && url[end] != '\t' && url[end] != '\n' && url[end] != '\\')
		end++;
	/* userinfo */
	at = end;
	while (at > start && url[at - 1] != '@')
		at--;
	if (at > start)
		start = at;
	if (start < end && url[start] == '[') { /* IPv6 literal */
		size_t close = start + 1;

		while (close < end && url[close] != ']')
			close++;
		if (close >= end || close - start - 1 >= outsz || close - start - 1 > 45)
			return 1;
		memcpy(out, url + start + 1, close - start - 1);
		out[close - start - 1] = '\0';
		for (char *p = out; *p; p++)
			*p = ascii_lower(*p);
		return is_ip_literal(out) ? 0 : 1;
	}
	/* port */
	for (size_t j = start; j < end; j++) {
		if (url[j] == ':') {
			end = j;
			break;
		}
	}
	return copy_host(url + start, end - start, out, outsz);
}

int tokenize_registrable_domain(const char *host, char *out, size_t outsz)
{
	const psl_ctx_t *ctx = psl();
	const char *last, *reg;
	size_t len;

	if (!host[0] || is_ip_literal(host))
		return 1;
	last = strrchr(host, '.');
	last = last ? last + 1 : host;
	if (!*last)
		return 1;
	if (ctx) {
		if (!psl_is_public_suffix2(ctx, last, PSL_TYPE_ANY | PSL_TYPE_NO_STAR_RULE))
			return 1;
		reg = psl_registrable_domain(ctx, host);
	} else { /* fallback: the last two labels */
		reg = host + strlen(host);
		for (int dots = 0; reg > host; reg--) {
			if (reg[-1] == '.' && ++dots == 2)
				break;
		}
	}
	if (!reg || !*reg)
		return 1;
	len = strlen(reg);
	if (len >= outsz)
		return 1;
	memcpy(out, reg, len + 1);
	return 0;
}

int tokenize_email_domain(const char *address, char *out, size_t outsz)
{
	const char *at = strrchr(address, '@');
	size_t len;

	if (!at || at == address)
		return 1;
	at++;
	len = strnlen(at, 256);
	while (len > 0 && (at[len - 1] == ' ' || at[len - 1] == '>'))
		len--;
	return copy_host(at, len, out, outsz);
}

int tokenize_ip_prefix(const char *ip, char *out, size_t outsz)
{
	unsigned char a[16];

	if (inet_pton(AF_INET, ip, a) == 1) {
		snprintf(out, outsz, "%u.%u.%u", a[0], a[1], a[2]);
		return 0;
	}
	if (inet_pton(AF_INET6, ip, a) == 1) {
		static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

		if (memcmp(a, mapped, 12) == 0)
			snprintf(out, outsz, "%u.%u.%u", a[12], a[13], a[14]);
		else
			snprintf(out, outsz, "%02x%02x:%02x%02x:%02x%02x", a[0], a[1], a[2], a[3],
				 a[4], a[5]);
		return 0;
	}
	return 1;
}

static bool contains_any(const char *hay, const char *const *needles)
{
	for (; *needles; needles++)
		if (strstr(hay, *needles))
			return true;
	return false;
}

const char *tokenize_ua_class(const char *user_agent)
{
	static const char *const bot[] = {"bot", "crawl", "spider", "slurp", NULL};
	static const char *const cli[] = {"curl/", "wget/", "httpie", "fetch/", NULL};
	static const char *const script[] = {"python",	 "java/",   "go-http",	"okhttp", "libwww",
					     "php",	 "ruby",    "node",	"axios",  "scrapy",
					     "headless", "phantom", "selenium", NULL};
	static const char *const mobile[] = {"mobile", "android", "iphone", "ipad", NULL};
	char lower[512];
	size_t i;

	if (!user_agent || !user_agent[0])
		return "none";
	for (i = 0; user_agent[i] && i < sizeof(lower) - 1; i++)
		lower[i] = ascii_lower(user_agent[i]);
	lower[i] = '\0';
	if (contains_any(lower, bot))
		return "bot";
	if (contains_any(lower, cli))
		return "cli";
	if (contains_any(lower, script))
		return "script";
	if (contains_any(lower, mobile))
		return "mobile";
	if (strstr(lower, "edg/"))
		return "edge";
	if (strstr(lower, "firefox/"))
		return "firefox";
	if (strstr(lower, "chrome/") || strstr(lower, "chromium/"))
		return "chrome";
	if (strstr(lower, "safari/"))
		return "safari";
	return "other";
}

/* ---- text ------------------------------------------------------------ */

struct text_stats {
	unsigned cps, letters, upper; /* letters and capitals after a letter or digit */
	bool fullwidth, zerowidth, mixscript, non_ascii;
};

static bool is_zero_width(utf8proc_int32_t c)
{
	return (c >= 0x200B && c <= 0x200F) || (c >= 0x2060 && c <= 0x2064) || c == 0xFEFF ||
	       c == 0x00AD || c == 0x180E || c == 0x034F;
}

static bool is_cjk(utf8proc_int32_t c)
{
	return (c >= 0x3040 && c <= 0x30FF) || (c >= 0x31F0 && c <= 0x31FF) ||
	       (c >= 0x3400 && c <= 0x4DBF) || (c >= 0x4E00 && c <= 0x9FFF) ||
	       (c >= 0xF900 && c <= 0xFAFF) || (c >= 0x20000 && c <= 0x2FA1F);
}

/* Copies text into t->clean as valid UTF-8 (U+FFFD for bad bytes), counting
 * what must be seen before normalisation.  Returns the clean length. */
static size_t sanitise(struct tokenizer *t, const char *text, size_t len, struct text_stats *st)
{
	const utf8proc_uint8_t *p = (const utf8proc_uint8_t *)text;
	size_t i = 0, o = 0;
	bool prev_alnum = false, zw_after_alnum = false;

	if (len > TOKENIZE_MAX_INPUT)
		len = TOKENIZE_MAX_INPUT;
	while (i < len) {
		utf8proc_int32_t c;
		utf8proc_ssize_t n = utf8proc_iterate(p + i, (utf8proc_ssize_t)(len - i), &c);

		if (n <= 0 || c == 0) {
			c = 0xFFFD;
			n = 1;
			if (p[i] == 0)
				c = ' ';
		}
		st->cps++;
		if (c >= 0x80)
			st->non_ascii = true;
		if (c >= 0xFF01 && c <= 0xFF5E)
			st->fullwidth = true;
		/* a zero-width character inside a word hides it from filters; one at
		 * the end of a text (a stray BOM) does not */
		if (is_zero_width(c)) {
			zw_after_alnum = zw_after_alnum || prev_alnum;
			o += (size_t)utf8proc_encode_char(c, (utf8proc_uint8_t *)t->clean + o);
			i += (size_t)n;
			continue;
		}
		utf8proc_category_t cat = utf8proc_category(c);
		bool alnum = (cat >= UTF8PROC_CATEGORY_LU && cat <= UTF8PROC_CATEGORY_LO) ||
			     cat == UTF8PROC_CATEGORY_ND;

		if (zw_after_alnum && alnum)
			st->zerowidth = true;
		zw_after_alnum = false;
		/* capitals are counted inside words only: a capital that starts a
		 * word (a sentence, a name) is ordinary writing, "FREE" is not */
		switch (prev_alnum ? cat : UTF8PROC_CATEGORY_CN) {
		case UTF8PROC_CATEGORY_LU:
		case UTF8PROC_CATEGORY_LT:
			st->upper++;
			st->letters++;
			break;
		case UTF8PROC_CATEGORY_LL:
		case UTF8PROC_CATEGORY_LM:
		case UTF8PROC_CATEGORY_LO:
			st->letters++;
			break;
		default:
			break;
		}
		prev_alnum = alnum;
		o += (size_t)utf8proc_encode_char(c, (utf8proc_uint8_t *)t->clean + o);
		i += (size_t)n;
	}
	t->clean[o] = '\0';
	return o;
}

static bool in_url(const struct tokenizer *t, size_t pos)
{
	for (unsigned i = 0; i < t->n_urls; i++)
		if (pos >= t->urls[i].start && pos < t->urls[i].end)
			return true;
	return false;
}

static void add_host_tokens(struct tokenizer *t, const char *host)
{
	char reg[256];

	add_token(t, "url:", host, strlen(host));
	if (tokenize_registrable_domain(host, reg, sizeof(reg)) == 0)
		add_token(t, "urld:", reg, strlen(reg));
	else if (is_ip_literal(host))
		add_token(t, "url:", "ip", 2);
}

static bool is_ascii_host_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.';
}

static bool is_url_stop(unsigned char c)
{
	return c <= ' ' || c == '"' || c == '\'' || c == '<' || c == '>' || c == '(' || c == ')' ||
	       c == '[' || c == ']' || c == '{' || c == '}' || c == '|';
}

/* The next scheme:// or www. link of s at or after *i: its bytes
 * [*i, *end).  false when there is none. */
static bool next_link(const char *s, size_t len, size_t *i, size_t *end)
{
	static const char *const starts[] = {"http://", "https://", "www.", NULL};

	for (; *i < len; (*i)++) {
		size_t skip = 0, k = *i;

		if (s[k] != 'h' && s[k] != 'w' && s[k] != 'H' && s[k] != 'W')
			continue;
		if (k > 0 && (unsigned char)s[k - 1] > ' ' && s[k - 1] != '(' && s[k - 1] != '"' &&
		    s[k - 1] != '\'' && s[k - 1] != '<' && s[k - 1] != '>' && s[k - 1] != '/')
			continue;
		for (const char *const *st = starts; *st; st++) {
			size_t n = strlen(*st);

			if (len - k >= n && strncasecmp(s + k, *st, n) == 0) {
				skip = n;
				break;
			}
		}
		if (!skip)
			continue;
		*end = k + skip;
		while (*end < len && !is_url_stop((unsigned char)s[*end]))
			(*end)++;
		/* trailing sentence punctuation is not part of a link */
		while (*end > k + skip && strchr(".,;:!?", s[*end - 1]))
			(*end)--;
		return true;
	}
	return false;
}

/* Finds scheme:// and www. links in the folded text s. */
static void scan_urls(struct tokenizer *t, const char *s, size_t len)
{
	size_t at = 0, to;

	t->n_urls = 0;
	for (; next_link(s, len, &at, &to); at = to + 1) {
		char host[256];

		if (tokenize_url_host(s + at, to - at, host, sizeof(host)) == 0) {
			add_host_tokens(t, host);
			t->links++;
		}
		if (t->n_urls < MAX_URLS)
			t->urls[t->n_urls++] = (struct span){at, to};
	}
	/* bare host names ("cheap-pills.com"), if their last label is a real
	 * public suffix */
	for (size_t i = 0; i < len; i++) {
		size_t end = i;
		bool dot = false;
		char host[256], reg[256];

		if (!is_ascii_host_char(s[i]) || (i > 0 && is_ascii_host_char(s[i - 1])))
			continue;
		while (end < len && is_ascii_host_char(s[end])) {
			dot = dot || s[end] == '.';
			end++;
		}
		size_t stop = end;

		while (stop > i && (s[stop - 1] == '.' || s[stop - 1] == '-'))
			stop--;
		if (dot && !in_url(t, i) && copy_host(s + i, stop - i, host, sizeof(host)) == 0 &&
		    tokenize_registrable_domain(host, reg, sizeof(reg)) == 0) {
			add_token(t, "url:", host, strlen(host));
			add_token(t, "urld:", reg, strlen(reg));
			t->links++;
			if (t->n_urls < MAX_URLS)
				t->urls[t->n_urls++] = (struct span){i, stop};
		}
		i = end;
	}
}

static bool is_punct_or_symbol(utf8proc_category_t cat)
{
	return cat >= UTF8PROC_CATEGORY_PC && cat <= UTF8PROC_CATEGORY_SO &&
	       cat != UTF8PROC_CATEGORY_SK;
}

/* Symbols (emoji, currency) and runs of one punctuation character. */
static void scan_symbols(struct tokenizer *t, const char *s, size_t len)
{
	const utf8proc_uint8_t *p = (const utf8proc_uint8_t *)s;
	utf8proc_int32_t prev = -1;
	size_t prev_off = 0, prev_len = 0;
	unsigned run = 0;

	for (size_t i = 0; i <= len;) {
		utf8proc_int32_t c = -2;
		utf8proc_ssize_t n = 1;
		utf8proc_category_t cat = UTF8PROC_CATEGORY_CN;

		if (i < len) {
			n = utf8proc_iterate(p + i, (utf8proc_ssize_t)(len - i), &c);
			if (n <= 0) {
				n = 1;
				c = -2;
			} else {
				cat = utf8proc_category(c);
			}
		}
		if (c == prev && is_punct_or_symbol(cat)) {
			run++;
		} else {
			if (prev >= 0 && run >= 2) {
				char rep[3 * 8];
				size_t k = 0;

				for (unsigned j = 0; j < run && j < 3; j++) {
					memcpy(rep + k, s + prev_off, prev_len);
					k += prev_len;
				}
				add_token(t, "p:", rep, k);
			}
			run = 0;
			prev = -1;
			if (c >= 0 && is_punct_or_symbol(cat)) {
				prev = c;
				prev_off = i;
				prev_len = (size_t)n;
				run = 1;
				if (cat == UTF8PROC_CATEGORY_SO || cat == UTF8PROC_CATEGORY_SC)
					add_token(t, "", s + i, (size_t)n);
			}
		}
		i += (size_t)n;
	}
}

static void flush_cjk(struct tokenizer *t, const char *s, size_t run_end)
{
	size_t n = t->n_cjk;

	if (n == 1)
		add_token(t, "", s + t->cjk[0], run_end - t->cjk[0]);
	for (size_t i = 0; i + 1 < n; i++) {
		size_t end = i + 2 < n ? t->cjk[i + 2] : run_end;

		add_token(t, "", s + t->cjk[i], end - t->cjk[i]);
	}
	t->n_cjk = 0;
}

/* Word pairs (orthogonal sparse bigrams): the new word w with each of the
 * PAIR_DIST words before it, "b1:<prev> <w>" for the adjacent word, "b2:" for
 * the one before that. */
static void add_pairs(struct tokenizer *t, const char *w)
{
	static const char *const pre[] = {"b1:", "b2:", "b3:", "b4:"};
	char buf[TOKENIZE_MAX_TOKEN_BYTES];
	size_t b = strlen(w);

	_Static_assert(PAIR_DIST <= 4, "pair prefixes");
	for (unsigned d = 0; d < t->n_prev; d++) {
		size_t a = strlen(t->prev[d]);

		if (a + 1 + b > sizeof(buf))
			continue;
		memcpy(buf, t->prev[d], a);
		buf[a] = ' ';
		memcpy(buf + a + 1, w, b);
		add_token_k(t, TOKEN_PAIR, pre[d], buf, a + 1 + b);
	}
	memmove(t->prev + 1, t->prev, sizeof(t->prev[0]) * (PAIR_DIST - 1));
	t->prev[0] = w;
	if (t->n_prev < PAIR_DIST)
		t->n_prev++;
}

/* Character GRAM_CPS-grams of the word s[start..end) of cps code points
 * ("c4:fiet", "c4:iets", ...): misspelt, inflected and glued-together words
 * still share evidence. */
static void add_grams(struct tokenizer *t, const char *s, size_t start, size_t end)
{
	const utf8proc_uint8_t *p = (const utf8proc_uint8_t *)s;
	size_t off[TOKENIZE_MAX_WORD + 1];
	unsigned n = 0;

	for (size_t i = start; i < end && n < TOKENIZE_MAX_WORD;) {
		utf8proc_int32_t c;
		utf8proc_ssize_t k = utf8proc_iterate(p + i, (utf8proc_ssize_t)(end - i), &c);

		if (k <= 0)
			break;
		off[n++] = i;
		i += (size_t)k;
	}
	off[n] = end;
	for (unsigned i = 0; i + GRAM_CPS <= n; i++)
		add_token_k(t, TOKEN_GRAM, "c4:", s + off[i], off[i + GRAM_CPS] - off[i]);
}

/* digits -> 'N' copy of s, for numbers and words with digits */
static void add_shape(struct tokenizer *t, const char *s, size_t len)
{
	char shape[TOKENIZE_MAX_TOKEN_BYTES];
	size_t k = 0;

	for (size_t i = 0; i < len && k < sizeof(shape); i++)
		shape[k++] = (s[i] >= '0' && s[i] <= '9') ? 'N' : s[i];
	add_token(t, "n:", shape, utf8_cut(shape, k, sizeof(shape) - 1));
}

static void add_word(struct tokenizer *t, const char *s, size_t start, size_t end, bool number,
		     struct text_stats *st)
{
	const utf8proc_uint8_t *p = (const utf8proc_uint8_t *)s;
	size_t offs[PART_CPS + 1], tail[PART_CPS];
	unsigned cps = 0, ntail = 0;
	bool digit = false, latin = false, other = false;

	for (size_t i = start; i < end;) {
		utf8proc_int32_t c;
		utf8proc_ssize_t n = utf8proc_iterate(p + i, (utf8proc_ssize_t)(end - i), &c);

		if (n <= 0)
			break;
		if (cps <= PART_CPS)
			offs[cps] = i;
		tail[ntail++ % PART_CPS] = i;
		cps++;
		if (c >= '0' && c <= '9')
			digit = true;
		else if ((c >= 'a' && c <= 'z') || (c >= 0xC0 && c < 0x250))
			latin = true;
		else if (c >= 0x370 && c < 0x530)
			other = true;
		i += (size_t)n;
	}
	if (latin && other)
		st->mixscript = true;
	if (cps < 2)
		return;
	if (cps > TOKENIZE_MAX_WORD) {
		char sum[16];
		size_t first = offs[1] - start;

		memcpy(sum, s + start, first);
		snprintf(sum + first, sizeof(sum) - first, "%u", cps / 10);
		add_token(t, "skip:", sum, strlen(sum));
		return;
	}
	unsigned before = t->list.n;

	add_token(t, "", s + start, end - start);
	if (t->list.n > before)
		add_pairs(t, t->list.tok[before]);
	if (digit)
		add_shape(t, s + start, end - start);
	if (number)
		return;
	if (cps >= GRAM_MIN_CPS)
		add_grams(t, s, start, end);
	if (cps >= PART_MIN_CPS) {
		add_token(t, "pre:", s + start, offs[PART_CPS] - start);
		add_token(t, "suf:", s + tail[ntail % PART_CPS], end - tail[ntail % PART_CPS]);
	}
}

static unsigned log2_bucket(unsigned v)
{
	unsigned b = 0;

	while (v > 1 && b < 12) {
		v >>= 1;
		b++;
	}
	return b;
}

static void add_meta(struct tokenizer *t, const struct text_stats *st)
{
	char v[32];

	snprintf(v, sizeof(v), "%u", t->links > 3 ? 3 : t->links);
	add_token(t, "m:links:", v, strlen(v));
	snprintf(v, sizeof(v), "%u", log2_bucket(st->cps));
	add_token(t, "m:len:", v, strlen(v));
	if (st->letters >= 5) {
		double r = (double)st->upper / st->letters;
		const char *b = r == 0	  ? "0"
				: r < 0.1 ? "lo"
				: r < 0.3 ? "mid"
				: r < 0.7 ? "hi"
					  : "all";

		add_token(t, "m:caps:", b, strlen(b));
	}
	if (st->fullwidth)
		add_token(t, "o:", "fullwidth", 9);
	if (st->zerowidth)
		add_token(t, "o:", "zerowidth", 9);
	if (st->mixscript)
		add_token(t, "o:", "mixscript", 9);
}

/* What utf8proc_map with the flags below does to pure ASCII (it is about a
 * third of the cost of tokenizing a short comment): line breaks, tabs, form
 * and vertical feeds become spaces (CR LF one space), other control
 * characters go, A-Z fold.  Checked against utf8proc on every ASCII byte
 * triple. */
static utf8proc_ssize_t fold_ascii(const char *in, size_t len, utf8proc_uint8_t **out)
{
	utf8proc_uint8_t *o = malloc(len + 1);
	size_t k = 0;

	if (!o)
		return UTF8PROC_ERROR_NOMEM;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)in[i];

		if (c == '\r' && i + 1 < len && in[i + 1] == '\n')
			continue; /* the LF that follows gives the space */
		if (c == '\r' || c == '\n' || c == '\t' || c == '\f' || c == '\v')
			o[k++] = ' ';
		else if (c < 0x20 || c == 0x7F)
			continue;
		else
			o[k++] = (c >= 'A' && c <= 'Z') ? (utf8proc_uint8_t)(c - 'A' + 'a') : c;
	}
	o[k] = '\0';
	*out = o;
	return (utf8proc_ssize_t)k;
}

int tokenizer_text(struct tokenizer *t, const char *text, size_t len)
{
	struct text_stats st = {0};
	utf8proc_uint8_t *s = NULL;
	utf8proc_ssize_t n;
	UText ut = UTEXT_INITIALIZER;
	UErrorCode status = U_ZERO_ERROR;
	size_t clean_len, slen;
	int32_t prev, cur;
	int r;

	clean_len = sanitise(t, text, len, &st);
	if (st.non_ascii)
		n = utf8proc_map(
		    (const utf8proc_uint8_t *)t->clean, (utf8proc_ssize_t)clean_len, &s,
		    UTF8PROC_STABLE | UTF8PROC_COMPOSE | UTF8PROC_COMPAT | UTF8PROC_CASEFOLD |
			UTF8PROC_IGNORE | UTF8PROC_STRIPCC | UTF8PROC_LUMP);
	else
		n = fold_ascii(t->clean, clean_len, &s);
	if (n < 0) {
		log_err("tokenize: utf8proc: %s", utf8proc_errmsg(n));
		r = -EIO;
		goto out;
	}
	slen = (size_t)n;
	t->links = 0;
	t->n_cjk = 0;
	t->n_prev = 0;
	/* text tokens leave room for the meta tokens added after them */
	t->limit = t->list.n + META_RESERVE < TOKENIZE_MAX_TOKENS
		       ? TOKENIZE_MAX_TOKENS - META_RESERVE
		       : t->list.n;
	scan_urls(t, (const char *)s, slen);
	scan_symbols(t, (const char *)s, slen);

	utext_openUTF8(&ut, (const char *)s, (int64_t)slen, &status);
	ubrk_setUText(t->words, &ut, &status);
	if (U_FAILURE(status)) {
		log_err("tokenize: ICU: %s", u_errorName(status));
		r = -EIO;
		goto out;
	}
	prev = ubrk_first(t->words);
	size_t cjk_end = 0;
	while ((cur = ubrk_next(t->words)) != UBRK_DONE) {
		int32_t rule = ubrk_getRuleStatus(t->words);
		size_t a = (size_t)prev, b = (size_t)cur;

		prev = cur;
		if (rule >= UBRK_WORD_KANA && rule < UBRK_WORD_IDEO_LIMIT) {
			for (size_t i = a; i < b;) {
				utf8proc_int32_t c;
				utf8proc_ssize_t k =
				    utf8proc_iterate(s + i, (utf8proc_ssize_t)(b - i), &c);

				if (k <= 0)
					break;
				if (is_cjk(c))
					t->cjk[t->n_cjk++] = i;
				i += (size_t)k;
			}
			cjk_end = b;
			continue;
		}
		if (t->n_cjk)
			flush_cjk(t, (const char *)s, cjk_end);
		if (rule >= UBRK_WORD_NUMBER && rule < UBRK_WORD_NUMBER_LIMIT)
			add_word(t, (const char *)s, a, b, true, &st);
		else if (rule >= UBRK_WORD_LETTER && rule < UBRK_WORD_LETTER_LIMIT)
			add_word(t, (const char *)s, a, b, false, &st);
	}
	if (t->n_cjk)
		flush_cjk(t, (const char *)s, cjk_end);
	t->limit = TOKENIZE_MAX_TOKENS;
	add_meta(t, &st);
	r = 0;
out:
	t->limit = TOKENIZE_MAX_TOKENS;
	utext_close(&ut);
	free(s);
	return r;
}

/* ---- links to the commented page ---------------------------------------- */

/* A URL's parts: host without "www." or "m.", path (no query or fragment)
 * and query (no fragment), as spans of the URL's own bytes. */
struct url_parts {
	char host[256];
	const char *path, *query;
	size_t path_len, query_len;
};

static const char *short_host(const char *h)
{
	if (strncmp(h, "www.", 4) == 0)
		return h + 4;
	if (strncmp(h, "m.", 2) == 0)
		return h + 2;
	return h;
}

/* Splits rest ("/a/b?x=1#f") into parts' path and query. */
static void split_path(const char *rest, size_t len, struct url_parts *u)
{
	size_t q = 0, f = 0;

	while (f < len && rest[f] != '#')
		f++;
	while (q < f && rest[q] != '?')
		q++;
	u->path = rest;
	u->path_len = q;
	u->query = q < f ? rest + q + 1 : rest + f;
	u->query_len = q < f ? f - q - 1 : 0;
	while (u->path_len > 0 && u->path[u->path_len - 1] == '/')
		u->path_len--;
}

static int url_parts(const char *url, size_t len, struct url_parts *u)
{
	size_t i = 0;
	const char *sep;

	if (tokenize_url_host(url, len, u->host, sizeof(u->host)) != 0)
		return 1;
	sep = memmem(url, len < 16 ? len : 16, "://", 3);
	if (sep)
		i = (size_t)(sep - url) + 3;
	while (i < len && url[i] != '/' && url[i] != '?' && url[i] != '#')
		i++;
	split_path(url + i, len - i, u);
	return 0;
}

/* Calls each(value, value_len, arg) for every "k=v" parameter of a query
 * with its whole text; stops at the first true.  true if one said so. */
static bool any_param(const char *q, size_t len, bool value_only,
		      bool (*each)(const char *, size_t, const void *), const void *arg)
{
	for (size_t i = 0; i < len;) {
		size_t end = i, eq;

		while (end < len && q[end] != '&' && q[end] != ';')
			end++;
		eq = i;
		while (eq < end && q[eq] != '=')
			eq++;
		if (value_only ? eq < end && each(q + eq + 1, end - eq - 1, arg)
			       : each(q + i, end - i, arg))
			return true;
		i = end + 1;
	}
	return false;
}

struct span_ref {
	const char *s;
	size_t n;
};

static bool same_span(const char *s, size_t n, const void *arg)
{
	const struct span_ref *r = arg;

	return n == r->n && memcmp(s, r->s, n) == 0;
}

static bool param_missing(const char *s, size_t n, const void *arg)
{
	const struct url_parts *link = arg;
	struct span_ref r = {s, n};

	return n > 0 && !any_param(link->query, link->query_len, false, same_span, &r);
}

/* Keeps the longest span seen in *arg (a struct span_ref). */
static bool longer_id(const char *s, size_t n, const void *arg)
{
	struct span_ref *best = (struct span_ref *)arg;

	if (n > best->n)
		*best = (struct span_ref){s, n};
	return false;
}

static struct span_ref last_segment(const struct url_parts *u)
{
	size_t i = u->path_len;

	while (i > 0 && u->path[i - 1] != '/')
		i--;
	return (struct span_ref){u->path + i, u->path_len - i};
}

static bool points_at(const struct url_parts *page, const struct span_ref *id,
		      const struct url_parts *link)
{
	struct span_ref seg;

	if (strcmp(short_host(page->host), short_host(link->host)) == 0 &&
	    page->path_len == link->path_len &&
	    memcmp(page->path, link->path, page->path_len) == 0 &&
	    !any_param(page->query, page->query_len, false, param_missing, link))
		return true;
	if (id->n < TOKENIZE_PAGE_ID_MIN)
		return false;
	seg = last_segment(link);
	return same_span(seg.s, seg.n, id) ||
	       any_param(link->query, link->query_len, true, same_span, id);
}

int tokenize_page_links(const char *text, size_t len, const char *host, const char *path,
			char *blanked)
{
	struct url_parts page, link;
	struct span_ref id;
	size_t i = 0, end;
	int r = TOKENIZE_LINKS_NONE;

	if (len > TOKENIZE_MAX_INPUT)
		len = TOKENIZE_MAX_INPUT;
	if (path[0] != '/') { /* a whole address (an Akismet permalink) */
		if (url_parts(path, strnlen(path, 2048), &page) != 0)
			return TOKENIZE_LINKS_NONE;
	} else if (tokenize_url_host(host, strnlen(host, 256), page.host, sizeof(page.host)) != 0) {
		return TOKENIZE_LINKS_NONE;
	} else {
		split_path(path, strnlen(path, 2048), &page);
	}
	id = last_segment(&page);
	any_param(page.query, page.query_len, true, longer_id, &id);
	for (; next_link(text, len, &i, &end); i = end + 1) {
		if (url_parts(text + i, end - i, &link) != 0)
			continue;
		if (!points_at(&page, &id, &link)) {
			if (r == TOKENIZE_LINKS_NONE)
				r = TOKENIZE_LINKS_ELSEWHERE;
			continue;
		}
		r = TOKENIZE_LINKS_PAGE;
		if (!blanked)
			return r;
		memset(blanked + i, ' ', end - i);
	}
	return r;
}
