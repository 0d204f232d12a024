#include "lang.h"

#include <string.h>
#include <strings.h>

static const char *const codes[] = {"en", "nl", "de"};

const char *lang_code(enum lang l)
{
	return codes[l];
}

/* The primary subtag of len bytes at s: two letters, then the end, '-' or
 * '_'. */
static int parse_tag(const char *s, size_t len, enum lang *out)
{
	if (len < 2 || (len > 2 && s[2] != '-' && s[2] != '_'))
		return 1;
	for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
		if (strncasecmp(s, codes[i], 2) == 0) {
			*out = (enum lang)i;
			return 0;
		}
	}
	return 1;
}

int lang_parse(const char *code, enum lang *out)
{
	return code ? parse_tag(code, strlen(code), out) : 1;
}

static size_t skip_space(const char *s, size_t i, size_t end)
{
	while (i < end && (s[i] == ' ' || s[i] == '\t'))
		i++;
	return i;
}

/* A q value ("0", "0.5", "1", "1.000") in thousandths, or -1 when it is
 * malformed. */
static int parse_q(const char *s, size_t len)
{
	int q, scale = 100;

	if (len == 0 || (s[0] != '0' && s[0] != '1'))
		return -1;
	q = (s[0] - '0') * 1000;
	if (len == 1)
		return q;
	if (s[1] != '.' || len > 5)
		return -1;
	for (size_t i = 2; i < len; i++, scale /= 10) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		q += (s[i] - '0') * scale;
	}
	return q > 1000 ? -1 : q;
}

/* The weight of one list member s[0..len) ("nl-NL;q=0.8"), and its
 * language in *l; -1 for a member that is not one of ours or is
 * malformed. */
static int member_weight(const char *s, size_t len, enum lang *l)
{
	const char *semi = memchr(s, ';', len);
	size_t tag_end = semi ? (size_t)(semi - s) : len, i;

	while (tag_end > 0 && (s[tag_end - 1] == ' ' || s[tag_end - 1] == '\t'))
		tag_end--;
	if (parse_tag(s, tag_end, l) != 0)
		return -1;
	if (!semi)
		return 1000;
	i = skip_space(s, (size_t)(semi - s) + 1, len);
	if (len - i < 2 || (s[i] != 'q' && s[i] != 'Q') || s[i + 1] != '=')
		return -1;
	i += 2;
	{
		size_t end = len;
		while (end > i && (s[end - 1] == ' ' || s[end - 1] == '\t'))
			end--;
		return parse_q(s + i, end - i);
	}
}

enum lang lang_pick(const char *query, const char *accept, enum lang fallback)
{
	enum lang best = fallback, l;
	int best_q = 0;
	size_t n, start = 0;

	if (lang_parse(query, &l) == 0)
		return l;
	if (!accept)
		return fallback;
	n = strnlen(accept, LANG_ACCEPT_MAX);
	while (start < n) {
		const char *comma = memchr(accept + start, ',', n - start);
		size_t end = comma ? (size_t)(comma - accept) : n;
		size_t s = skip_space(accept, start, end);
		int q = member_weight(accept + s, end - s, &l);

		if (q > best_q) {
			best_q = q;
			best = l;
		}
		start = end + 1;
	}
	return best;
}

enum lang lang_of_site(enum config_language l)
{
	switch (l) {
	case LANGUAGE_NL:
		return LANG_NL;
	case LANGUAGE_DE:
		return LANG_DE;
	case LANGUAGE_EN:
		break;
	}
	return LANG_EN;
}
