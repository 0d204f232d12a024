#include "starter.h"

#include "embed.h"
#include "log.h"
#include "tokenize.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct record {
	uint32_t off; /* token text offset in the model text */
	uint16_t len; /* token bytes */
	uint16_t spam, ham;
};

struct starter {
	const char *text;
	uint32_t nspam, nham;
	size_t n;
	struct record *rec;
};

/* One line of text[pos..len): sets *line / *n (without '\n'); returns the
 * position after it. */
static size_t next_line(const char *text, size_t len, size_t pos, const char **line, size_t *n)
{
	const char *nl = memchr(text + pos, '\n', len - pos);
	size_t end = nl ? (size_t)(nl - text) : len;

	*line = text + pos;
	*n = end - pos;
	return nl ? end + 1 : len;
}

/* Parses a decimal number at *p (at most max) and skips one space after it.
 * 0, or 1 if there is none or it is too large. */
static int take_number(const char **p, const char *end, uint32_t max, uint32_t *out)
{
	uint64_t v = 0;
	const char *s = *p;

	if (s >= end || *s < '0' || *s > '9')
		return 1;
	while (s < end && *s >= '0' && *s <= '9') {
		v = v * 10 + (uint64_t)(*s - '0');
		if (v > max)
			return 1;
		s++;
	}
	if (s < end && *s != ' ')
		return 1;
	*p = s < end ? s + 1 : s;
	*out = (uint32_t)v;
	return 0;
}

static bool starts_with(const char *line, size_t n, const char *word)
{
	size_t w = strlen(word);

	return n >= w && memcmp(line, word, w) == 0;
}

/* The two header lines. */
static int parse_header(struct starter *s, const char *line, size_t n, unsigned lineno, char *err)
{
	const char *p = line, *end = line + n;
	uint32_t a, b;

	if (lineno == 0) {
		p += strlen("commentd-starter ");
		if (!starts_with(line, n, "commentd-starter ") || take_number(&p, end, 1000, &a) ||
		    take_number(&p, end, 1000000, &b) || p != end) {
			snprintf(err, STARTER_ERR_MAX,
				 "line %u: not \"commentd-starter FORMAT "
				 "TOKENIZER\"",
				 lineno + 1);
			return 1;
		}
		if (a != STARTER_FORMAT || b != TOKENIZE_VERSION) {
			snprintf(err, STARTER_ERR_MAX,
				 "line %u: format %u, tokenizer %u; this "
				 "build reads format %u, tokenizer %u (run tools/build-starter.py)",
				 lineno + 1, a, b, STARTER_FORMAT, TOKENIZE_VERSION);
			return 1;
		}
		return 0;
	}
	p += strlen("messages ");
	if (!starts_with(line, n, "messages ") || take_number(&p, end, UINT32_MAX, &a) ||
	    take_number(&p, end, UINT32_MAX, &b) || p != end || a == 0 || b == 0) {
		snprintf(err, STARTER_ERR_MAX, "line %u: not \"messages SPAM HAM\" (both > 0)",
			 lineno + 1);
		return 1;
	}
	s->nspam = a;
	s->nham = b;
	return 0;
}

static int parse_record(struct starter *s, const char *line, size_t n, unsigned lineno, char *err)
{
	const char *p = line, *end = line + n;
	uint32_t spam, ham;

	if (take_number(&p, end, STARTER_MAX_COUNT, &spam) ||
	    take_number(&p, end, STARTER_MAX_COUNT, &ham) || p >= end || spam > s->nspam ||
	    ham > s->nham || spam + ham == 0 || end - p > TOKENIZE_MAX_TOKEN_BYTES ||
	    memchr(p, '\r', (size_t)(end - p))) {
		snprintf(err, STARTER_ERR_MAX, "line %u: not \"SPAM HAM TOKEN\" within the totals",
			 lineno + 1);
		return 1;
	}
	s->rec[s->n++] = (struct record){(uint32_t)(p - s->text), (uint16_t)(end - p),
					 (uint16_t)spam, (uint16_t)ham};
	return 0;
}

int starter_parse(struct starter **out, const char *text, size_t len, char *err)
{
	struct starter *s;
	size_t pos = 0, lines = 0;
	unsigned lineno = 0, header = 0;
	int r = 1;

	err[0] = '\0';
	if (len > STARTER_MAX_BYTES) {
		snprintf(err, STARTER_ERR_MAX, "larger than %u bytes", STARTER_MAX_BYTES);
		return 1;
	}
	for (const char *p = text; (p = memchr(p, '\n', len - (size_t)(p - text))); p++)
		lines++;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->text = text;
	s->rec = malloc((lines + 1) * sizeof(*s->rec));
	if (!s->rec) {
		r = -ENOMEM;
		goto out;
	}
	while (pos < len) {
		const char *line;
		size_t n;

		pos = next_line(text, len, pos, &line, &n);
		if (n == 0 || line[0] == '#') {
			lineno++;
			continue;
		}
		if (header < 2) {
			if (parse_header(s, line, n, header, err) != 0)
				goto out;
			header++;
		} else if (s->n >= STARTER_MAX_TOKENS) {
			snprintf(err, STARTER_ERR_MAX, "more than %u tokens", STARTER_MAX_TOKENS);
			goto out;
		} else if (parse_record(s, line, n, lineno, err) != 0) {
			goto out;
		}
		lineno++;
	}
	if (header < 2) {
		snprintf(err, STARTER_ERR_MAX, "no \"commentd-starter\" and \"messages\" lines");
		goto out;
	}
	*out = s;
	s = NULL;
	r = 0;
out:
	starter_free(s);
	return r;
}

struct starter *starter_free(struct starter *s)
{
	if (s) {
		free(s->rec);
		free(s);
	}
	return NULL;
}

static pthread_once_t builtin_once = PTHREAD_ONCE_INIT;
static struct starter *builtin;

static void builtin_load(void)
{
	char err[STARTER_ERR_MAX];

	if (starter_model_files_count < 1) {
		log_err("starter: no starter model compiled in");
		return;
	}
	if (starter_parse(&builtin, (const char *)starter_model_files[0].data,
			  starter_model_files[0].len, err) != 0)
		log_err("starter: the compiled-in %s is unusable: %s", starter_model_files[0].name,
			err);
}

const struct starter *starter_builtin(void)
{
	pthread_once(&builtin_once, builtin_load);
	return builtin;
}

void starter_totals(const struct starter *s, uint32_t *nspam, uint32_t *nham)
{
	*nspam = s->nspam;
	*nham = s->nham;
}

size_t starter_size(const struct starter *s)
{
	return s->n;
}

void starter_token(const struct starter *s, size_t i, const char **tok, size_t *len, uint32_t *spam,
		   uint32_t *ham)
{
	*tok = s->text + s->rec[i].off;
	*len = s->rec[i].len;
	*spam = s->rec[i].spam;
	*ham = s->rec[i].ham;
}
