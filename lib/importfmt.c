#include "importfmt.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

static const char *const format_names[] = {
    [IMPORT_WXR] = "wxr",	    [IMPORT_DISQUS] = "disqus", [IMPORT_ISSO] = "isso",
    [IMPORT_REMARK42] = "remark42", [IMPORT_WALINE] = "waline", [IMPORT_JSONL] = "jsonl",
};

const char *import_format_name(enum import_format f)
{
	return format_names[f];
}

int import_format_parse(const char *name, enum import_format *out)
{
	for (size_t i = 0; i < sizeof(format_names) / sizeof(format_names[0]); i++) {
		if (name && strcmp(name, format_names[i]) == 0) {
			*out = (enum import_format)i;
			return 0;
		}
	}
	return 1;
}

int import_fail(struct import_error *err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err->message, sizeof(err->message), fmt, ap);
	va_end(ap);
	return IMPORT_BAD;
}

/* ---- input ---------------------------------------------------------------- */

static long file_read(struct import_input *in, void *buf, size_t n, struct import_error *err)
{
	gzFile gz = in->ctx;
	int errnum = 0;
	const char *msg;
	int got;

	if (n > 1 << 20)
		n = 1 << 20;
	got = gzread(gz, buf, (unsigned)n);
	msg = gzerror(gz, &errnum);
	if (got < 0 || (errnum != Z_OK && errnum != Z_STREAM_END)) {
		if (errnum == Z_BUF_ERROR)
			import_fail(err, "the compressed file is truncated (%s)", msg);
		else if (errnum == Z_ERRNO)
			import_fail(err, "cannot read the file: %s", strerror(errno));
		else
			import_fail(err, "the compressed file is damaged (%s)", msg);
		return -1;
	}
	in->consumed += (uint64_t)got;
	{
		z_off_t off = gzoffset(gz);
		if (off >= 0)
			in->position = (uint64_t)off;
	}
	return got;
}

static void file_close(struct import_input *in)
{
	if (in->ctx)
		gzclose(in->ctx);
	in->ctx = NULL;
}

int import_input_file(struct import_input *in, const char *path, struct import_error *err)
{
	struct stat st;
	int fd;

	memset(in, 0, sizeof(*in));
	fd = strcmp(path, "-") == 0 ? dup(STDIN_FILENO) : open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return import_fail(err, "cannot open %s: %s", path, strerror(errno));
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode))
		in->size = (uint64_t)st.st_size;
	in->ctx = gzdopen(fd, "rb");
	if (!in->ctx) {
		close(fd);
		return import_fail(err, "cannot read %s", path);
	}
	gzbuffer(in->ctx, 128 * 1024);
	in->read = file_read;
	in->close = file_close;
	return 0;
}

static long memory_read(struct import_input *in, void *buf, size_t n, struct import_error *err)
{
	size_t left = in->mem_len - in->mem_off;

	(void)err;
	if (n > left)
		n = left;
	if (n)
		memcpy(buf, in->mem + in->mem_off, n);
	in->mem_off += n;
	in->consumed += n;
	in->position = in->mem_off;
	return (long)n;
}

void import_input_memory(struct import_input *in, const void *data, size_t len)
{
	memset(in, 0, sizeof(*in));
	in->mem = data;
	in->mem_len = len;
	in->size = len;
	in->read = memory_read;
}

void import_input_close(struct import_input *in)
{
	if (in && in->close)
		in->close(in);
}

/* ---- dates and paths ------------------------------------------------------ */

static int digits(const char **p, int n, int *out)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if ((*p)[i] < '0' || (*p)[i] > '9')
			return 1;
		v = v * 10 + ((*p)[i] - '0');
	}
	*p += n;
	*out = v;
	return 0;
}

/* "Z", "+hh:mm", "-hhmm" or nothing (UTC); seconds east of UTC in *off. */
static int zone(const char *p, int *off)
{
	int h, m, sign;

	*off = 0;
	if (*p == '\0' || ((*p == 'Z' || *p == 'z') && p[1] == '\0'))
		return 0;
	if (strcmp(p, " UTC") == 0 || strcmp(p, " GMT") == 0)
		return 0;
	if (*p != '+' && *p != '-')
		return 1;
	sign = *p++ == '-' ? -1 : 1;
	if (digits(&p, 2, &h))
		return 1;
	if (*p == ':')
		p++;
	if (digits(&p, 2, &m) || *p || h > 23 || m > 59)
		return 1;
	*off = sign * (h * 3600 + m * 60);
	return 0;
}

int import_parse_time(const char *s, int64_t *out)
{
	struct tm tm = {0};
	const char *p = s;
	int y, mo, d, h, mi, sec, off;
	time_t t;

	if (!s || digits(&p, 4, &y) || *p++ != '-' || digits(&p, 2, &mo) || *p++ != '-' ||
	    digits(&p, 2, &d) || (*p != ' ' && *p != 'T' && *p != 't'))
		return 1;
	p++;
	if (digits(&p, 2, &h) || *p++ != ':' || digits(&p, 2, &mi))
		return 1;
	sec = 0;
	if (*p == ':' && (p++, digits(&p, 2, &sec)))
		return 1;
	if (*p == '.' || *p == ',') {
		p++;
		if (*p < '0' || *p > '9')
			return 1;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	if (zone(p, &off) || y < 1970 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 ||
	    mi > 59 || sec > 60)
		return 1;
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	t = timegm(&tm);
	if (t == (time_t)-1)
		return 1;
	*out = (int64_t)t - off;
	return 0;
}

int import_url_path(const char *url, char *out, size_t outsz)
{
	const char *p = url, *scheme_end;
	size_t n;

	if (!url || !*url || outsz < 2)
		return 1;
	while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
		p++;
	scheme_end = strstr(p, "://");
	if (scheme_end && (size_t)(scheme_end - p) <= 10 &&
	    strcspn(p, "/?#") > (size_t)(scheme_end - p)) {
		p = scheme_end + 3;
		p += strcspn(p, "/?#"); /* the host and port */
	} else if (p[0] == '/' && p[1] == '/') {
		p += 2; /* scheme-relative */
		p += strcspn(p, "/?#");
	}
	n = strcspn(p, "#");
	while (n && (p[n - 1] == ' ' || p[n - 1] == '\t' || p[n - 1] == '\n' || p[n - 1] == '\r'))
		n--;
	if (n == 0 || *p != '/') {
		/* "https://blog.example" or "?p=3": the site's root. */
		if (n && *p != '?')
			return 1;
		if (n + 2 > outsz)
			return 1;
		out[0] = '/';
		memcpy(out + 1, p, n);
		out[n + 1] = '\0';
		return 0;
	}
	/* A query names the page only on the site's root or a script
	 * ("/?p=41", "/index.php?p=41"); elsewhere it is tracking noise. */
	{
		size_t path = strcspn(p, "?");
		if (path < n &&
		    !(path == 1 || (path >= 4 && strncmp(p + path - 4, ".php", 4) == 0)))
			n = path;
	}
	if (n + 1 > outsz)
		return 1;
	memcpy(out, p, n);
	out[n] = '\0';
	return 0;
}
