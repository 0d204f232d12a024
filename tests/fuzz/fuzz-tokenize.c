/* fuzz-tokenize: untrusted comment text through the classifier's tokenizer
 * (tokenizer_text) and the helpers that read request fields (URL host,
 * registrable domain, e-mail domain, IP prefix, User-Agent class, folded
 * field tokens, links to the page).  Every token must respect the documented
 * caps and be valid UTF-8. */
#include "fuzz.h"

#include "text.h"
#include "tokenize.h"

static struct tokenizer *tok; /* one for the whole run, as a worker has */

static void check_tokens(void)
{
	const struct token_list *l = tokenizer_tokens(tok);

	fuzz_assert(l->n <= TOKENIZE_MAX_TOKENS);
	for (unsigned i = 0; i < l->n; i++) {
		size_t n = strlen(l->tok[i]);
		fuzz_assert(n > 0 && n <= TOKENIZE_MAX_TOKEN_BYTES);
		fuzz_assert(text_utf8_valid(l->tok[i], n, NULL));
	}
}

/* Links of the text to a page: the input is also the page (path or whole
 * address); the blanked copy keeps its length and only gains spaces. */
static void page_links(const uint8_t *data, size_t size, const char *s)
{
	char *copy = malloc(size + 1);
	int k;

	if (!copy)
		abort();
	memcpy(copy, data, size);
	copy[size] = '\0';
	k = tokenize_page_links((const char *)data, size, "www.example.org", "/watch?v=KQ6zr6kCPj8",
				copy);
	fuzz_assert(k >= TOKENIZE_LINKS_NONE && k <= TOKENIZE_LINKS_ELSEWHERE);
	for (size_t i = 0; i < size; i++)
		fuzz_assert(copy[i] == (char)data[i] || copy[i] == ' ');
	k = tokenize_page_links((const char *)data, size, s, s, NULL);
	fuzz_assert(k >= TOKENIZE_LINKS_NONE && k <= TOKENIZE_LINKS_ELSEWHERE);
	free(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char out[256], dom[256];
	const char *ua;
	char *s;

	if (size > FUZZ_MAX_INPUT)
		return 0;
	if (!tok && tokenizer_new(&tok) != 0)
		abort();
	tokenizer_reset(tok);
	fuzz_assert(tokenizer_text(tok, (const char *)data, size) == 0);
	check_tokens();

	s = fuzz_strndup(data, size);
	tokenizer_reset(tok);
	fuzz_assert(tokenizer_add_folded(tok, "author:", s) == 0);
	fuzz_assert(tokenizer_add(tok, "x:", "y") == 0);
	if (text_utf8_valid(s, strlen(s), NULL))
		fuzz_assert(tokenizer_add(tok, "ref:", s) == 0);
	check_tokens();

	if (tokenize_url_host((const char *)data, size, out, sizeof(out)) == 0) {
		fuzz_assert(strlen(out) < sizeof(out));
		if (tokenize_registrable_domain(out, dom, sizeof(dom)) == 0)
			fuzz_assert(strlen(dom) <= strlen(out));
	}
	if (tokenize_email_domain(s, out, sizeof(out)) == 0)
		fuzz_assert(strlen(out) < sizeof(out) && !strchr(out, '@'));
	if (tokenize_ip_prefix(s, out, sizeof(out)) == 0)
		fuzz_assert(strlen(out) < sizeof(out));
	/* A small buffer: results are cut or refused, never overflow. */
	(void)tokenize_url_host((const char *)data, size, out, 8);
	(void)tokenize_email_domain(s, out, 8);
	(void)tokenize_ip_prefix(s, out, 8);
	ua = tokenize_ua_class(s);
	fuzz_assert(ua != NULL && *ua);
	page_links(data, size, s);
	free(s);
	return 0;
}
