/* import_map: the --map file of an import: old paths to new ones. */
#include "import.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct map_entry {
	char *from, *to; /* paths; a prefix entry's '*' is dropped */
	bool prefix;
};

struct import_map {
	struct map_entry *e;
	size_t n, cap;
};

static int entry_cmp(const void *a, const void *b)
{
	const struct map_entry *x = a, *y = b;

	if (x->prefix != y->prefix)
		return x->prefix ? 1 : -1; /* exact entries first */
	if (x->prefix)			   /* longest prefix first */
		return (int)strlen(y->from) - (int)strlen(x->from);
	return strcmp(x->from, y->from);
}

struct import_map *import_map_free(struct import_map *m)
{
	if (!m)
		return NULL;
	for (size_t i = 0; i < m->n; i++) {
		free(m->e[i].from);
		free(m->e[i].to);
	}
	free(m->e);
	free(m);
	return NULL;
}

/* A path from a URL or path, without a trailing '*' (*star says if it had
 * one).  NULL if there is none. */
static char *map_path(const char *word, bool *star)
{
	char path[COMMENT_THREAD_MAX + 1];
	size_t n;

	if (import_url_path(word, path, sizeof(path)) != 0)
		return NULL;
	n = strlen(path);
	*star = n > 0 && path[n - 1] == '*';
	if (*star)
		path[n - 1] = '\0';
	return strdup(path);
}

static int add_line(struct import_map *m, char *line, const char *file, unsigned long n,
		    struct import_error *err)
{
	char *from, *to, *extra, *save = NULL;
	bool star_from, star_to;
	struct map_entry e = {0};

	line[strcspn(line, "#\r\n")] = '\0';
	from = strtok_r(line, " \t", &save);
	if (!from)
		return 0;
	to = strtok_r(NULL, " \t", &save);
	extra = strtok_r(NULL, " \t", &save);
	if (!to || extra)
		return import_fail(err, "%s:%lu: a line is \"OLD NEW\"", file, n);
	if (m->n == IMPORT_MAP_MAX)
		return import_fail(err, "%s:%lu: more than %d lines", file, n, IMPORT_MAP_MAX);
	e.from = map_path(from, &star_from);
	e.to = map_path(to, &star_to);
	e.prefix = star_from;
	if (!e.from || !e.to || star_from != star_to) {
		free(e.from);
		free(e.to);
		return import_fail(err, "%s:%lu: %s", file, n,
				   star_from != star_to ? "both sides end in '*' or neither"
							: "not a URL or path");
	}
	if (m->n == m->cap) {
		size_t cap = m->cap ? m->cap * 2 : 64;
		struct map_entry *grown = realloc(m->e, cap * sizeof(*grown));
		if (!grown) {
			free(e.from);
			free(e.to);
			return -ENOMEM;
		}
		m->e = grown;
		m->cap = cap;
	}
	m->e[m->n++] = e;
	return 0;
}

int import_map_load(struct import_map **out, const char *path, struct import_error *err)
{
	struct import_map *m = calloc(1, sizeof(*m));
	char line[2 * COMMENT_THREAD_MAX + 64];
	unsigned long n = 0;
	FILE *f;
	int r = 0;

	err->message[0] = '\0';
	if (!m)
		return -ENOMEM;
	f = fopen(path, "re");
	if (!f) {
		free(m);
		return import_fail(err, "cannot open %s: %s", path, strerror(errno));
	}
	while (r == 0 && fgets(line, sizeof(line), f)) {
		n++;
		if (!strchr(line, '\n') && !feof(f))
			r = import_fail(err, "%s:%lu: the line is too long", path, n);
		else
			r = add_line(m, line, path, n, err);
	}
	fclose(f);
	if (r != 0) {
		import_map_free(m);
		return r;
	}
	qsort(m->e, m->n, sizeof(*m->e), entry_cmp);
	*out = m;
	return 0;
}

static int exact_cmp(const void *key, const void *elem)
{
	const struct map_entry *e = elem;

	return e->prefix ? -1 : strcmp(key, e->from);
}

int import_map_apply(const struct import_map *m, const char *path, char *out, size_t outsz)
{
	const struct map_entry *e = NULL;
	size_t exact = 0;
	int n;

	if (m) {
		while (exact < m->n && !m->e[exact].prefix)
			exact++;
		e = bsearch(path, m->e, exact, sizeof(*m->e), exact_cmp);
		for (size_t i = exact; !e && i < m->n; i++)
			if (strncmp(path, m->e[i].from, strlen(m->e[i].from)) == 0)
				e = &m->e[i];
	}
	if (!e)
		n = snprintf(out, outsz, "%s", path);
	else if (!e->prefix)
		n = snprintf(out, outsz, "%s", e->to);
	else
		n = snprintf(out, outsz, "%s%s", e->to, path + strlen(e->from));
	return n < 0 || (size_t)n >= outsz ? 1 : 0;
}
