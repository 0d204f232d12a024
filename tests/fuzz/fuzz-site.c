/* fuzz-site: which site a request is for (lib/site.c, site_pick) from the
 * untrusted parts of a request: the "site" field or ?site=, Origin, Referer
 * and Host.  The input holds the four, separated by '\n' (missing parts are
 * absent headers), and is tried against a configuration with sections
 * (strict) and one without.  A pick must be a configured site consistent
 * with the origin shown, a refusal one of the documented 4xx errors. */
#include "fuzz.h"

#include "site.h"

#include <strings.h>

static const char strict_conf[] = "site_origins = https://old.example\n"
				  "[site blog]\norigins = https://blog.example, http://[::1]:8080\n"
				  "[site notes]\norigins = https://notes.example:8443\n";
static const char plain_conf[] = "site_origins = https://blog.example\n";

static struct site_set *strict, *plain;

static struct site_set *set_of(const char *text)
{
	struct config *c = NULL;
	struct site_set *s = NULL;
	char err[CONFIG_ERR_MAX];

	fuzz_assert(config_new(&c) == 0);
	fuzz_assert(config_load_text(c, text, strlen(text), "fuzz.conf", err) == 0);
	fuzz_assert(config_check(c, err) == 0);
	fuzz_assert(site_set_new(&s, c, err) == 0);
	config_free(c);
	return s;
}

/* The next '\n'-separated part of *p, or NULL past the end. */
static char *part(char **p)
{
	char *s = *p, *nl;

	if (!s)
		return NULL;
	nl = strchr(s, '\n');
	if (nl) {
		*nl = '\0';
		*p = nl + 1;
	} else {
		*p = NULL;
	}
	return s;
}

static void check(const struct site_set *s, const struct site_hint *h)
{
	struct comment_error err = {0};
	const struct site *site = NULL;
	int r = site_pick(s, h, &site, &err);

	if (r == 0) {
		fuzz_assert(site && site_set_find(s, site->id) == site);
		if (h->named)
			fuzz_assert(strcmp(h->named, site->id) == 0);
		/* In strict mode a shown Origin must be the site's. */
		if (site_set_strict(s) && h->origin && *h->origin && strcmp(h->origin, "null") != 0)
			fuzz_assert(site_set_by_origin(s, h->origin, strlen(h->origin)) == site);
		return;
	}
	fuzz_assert(r == COMMENT_INVALID);
	fuzz_assert(err.status == 400 || err.status == 403 || err.status == 404);
	fuzz_assert(err.code && err.message[0]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct site_hint h;
	char *text, *p;

	if (size > FUZZ_MAX_INPUT)
		return 0;
	if (!strict) {
		strict = set_of(strict_conf);
		plain = set_of(plain_conf);
	}
	text = fuzz_strndup(data, size);
	p = text;
	h.named = part(&p);
	h.origin = part(&p);
	h.referer = part(&p);
	h.host = part(&p);
	if (h.named && !*h.named)
		h.named = NULL;
	check(strict, &h);
	check(plain, &h);
	fuzz_assert(site_set_by_url(strict, h.referer) == NULL ||
		    strncasecmp(h.referer, "http", 4) == 0);
	free(text);
	return 0;
}
