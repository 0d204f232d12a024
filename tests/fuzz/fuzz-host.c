/* fuzz-host: lib/host.c, which sees hosts as browsers do.  The input is
 * tried as a host (host_normalise), a URL (host_of_url), a Referer
 * (host_referrer) and a text (host_each_in_text); every host that comes out
 * must be lower-case ASCII without forbidden characters, normalise to
 * itself, and lie within itself. */
#include "fuzz.h"

#include "host.h"

static void check_host(const char *h)
{
	char again[HOST_MAX];
	size_t n = strlen(h);

	fuzz_assert(n > 0 && n < HOST_MAX);
	fuzz_assert(h[n - 1] != '.');
	for (const char *p = h; *p; p++) {
		fuzz_assert((unsigned char)*p > 0x20 && (unsigned char)*p < 0x7f);
		fuzz_assert(!(*p >= 'A' && *p <= 'Z'));
		fuzz_assert(!strchr(" #/?@\\<>^|%", *p) || (h[0] == '[' && *p == ':'));
	}
	fuzz_assert(host_normalise(h, n, again) == 0 && strcmp(again, h) == 0);
	fuzz_assert(host_within(h, h));
}

static bool on_host(const char *host, void *u)
{
	(void)u;
	check_host(host);
	fuzz_assert(strchr(host, '.') != NULL);
	return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char out[HOST_MAX], ref[HOST_REFERRER_MAX];
	char *s;

	if (size > FUZZ_MAX_INPUT)
		return 0;
	s = fuzz_strndup(data, size);
	if (host_normalise(s, strlen(s), out) == 0)
		check_host(out);
	if (host_of_url(s, strlen(s), out) == 0)
		check_host(out);
	host_referrer(s, ref);
	fuzz_assert(strcmp(ref, "(invalid)") == 0 || strncmp(ref, "http", 4) == 0);
	host_each_in_text((const char *)data, size, on_host, NULL);
	free(s);
	return 0;
}
