/* fuzz-main: replays fuzzer inputs without libFuzzer (systemd's
 * src/fuzz/fuzz-main.c pattern).
 *
 * Usage: fuzz-<target> [FILE|DIR]...
 * Runs LLVMFuzzerTestOneInput once per file given, and once per regular file
 * (not starting with '.') inside each directory given, in name order.  With
 * no arguments it reads one input from standard input.  A failing input
 * aborts inside the target; the file name is printed first so the log shows
 * which one.
 */
#include "fuzz.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int read_file(FILE *f, const char *name, uint8_t **out, size_t *len)
{
	uint8_t *data = NULL;
	size_t n = 0, cap = 0;

	for (;;) {
		size_t got;
		if (n == cap) {
			uint8_t *p;
			cap = cap ? cap * 2 : 4096;
			p = realloc(data, cap);
			if (!p) {
				free(data);
				fprintf(stderr, "%s: out of memory\n", name);
				return -ENOMEM;
			}
			data = p;
		}
		got = fread(data + n, 1, cap - n, f);
		n += got;
		if (got == 0)
			break;
	}
	if (ferror(f)) {
		free(data);
		fprintf(stderr, "%s: read error\n", name);
		return -EIO;
	}
	*out = data;
	*len = n;
	return 0;
}

static int run_file(const char *path)
{
	FILE *f = fopen(path, "re");
	uint8_t *data;
	size_t len;
	int r;

	if (!f) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		return -errno;
	}
	r = read_file(f, path, &data, &len);
	fclose(f);
	if (r)
		return r;
	printf("# %s (%zu bytes)\n", path, len);
	fflush(stdout);
	(void)LLVMFuzzerTestOneInput(data, len);
	free(data);
	return 0;
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Runs every regular file in dir; returns the count or negative. */
static long run_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char **names = NULL;
	size_t n = 0, cap = 0;
	long r = 0;

	if (!d) {
		fprintf(stderr, "%s: %s\n", dir, strerror(errno));
		return -errno;
	}
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		if (n == cap) {
			char **p;
			cap = cap ? cap * 2 : 64;
			p = realloc(names, cap * sizeof(*names));
			if (!p) {
				r = -ENOMEM;
				goto out;
			}
			names = p;
		}
		names[n] = strdup(de->d_name);
		if (!names[n]) {
			r = -ENOMEM;
			goto out;
		}
		n++;
	}
	if (n)
		qsort(names, n, sizeof(*names), name_cmp);
	for (size_t i = 0; i < n; i++) {
		struct stat st;
		char *path;

		if (asprintf(&path, "%s/%s", dir, names[i]) < 0) {
			r = -ENOMEM;
			goto out;
		}
		if (stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
			int k = run_file(path);
			if (k < 0) {
				free(path);
				r = k;
				goto out;
			}
			r++;
		}
		free(path);
	}
out:
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	closedir(d);
	return r;
}

int main(int argc, char **argv)
{
	long total = 0;

	if (argc < 2) {
		uint8_t *data;
		size_t len;
		if (read_file(stdin, "<stdin>", &data, &len) != 0)
			return EXIT_FAILURE;
		(void)LLVMFuzzerTestOneInput(data, len);
		free(data);
		return EXIT_SUCCESS;
	}
	for (int i = 1; i < argc; i++) {
		struct stat st;
		long r;

		if (stat(argv[i], &st) != 0) {
			fprintf(stderr, "%s: %s\n", argv[i], strerror(errno));
			return EXIT_FAILURE;
		}
		if (S_ISDIR(st.st_mode)) {
			r = run_dir(argv[i]);
		} else {
			r = run_file(argv[i]);
			if (r == 0)
				r = 1;
		}
		if (r < 0)
			return EXIT_FAILURE;
		total += r;
	}
	if (total == 0) {
		fprintf(stderr, "no inputs found\n");
		return EXIT_FAILURE;
	}
	printf("# %ld inputs ran\n", total);
	return EXIT_SUCCESS;
}
