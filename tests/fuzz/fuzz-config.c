/* fuzz-config: configuration text through config_load_text and
 * config_check, then config_each over whatever was set and every site's
 * view. */
#include "fuzz.h"

#include "config.h"

static void each(const char *name, const char *value, void *u)
{
	size_t *n = u;

	fuzz_assert(name && *name && value);
	fuzz_assert(strlen(value) < CONFIG_MAX_VALUE);
	(*n)++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config *c = NULL;
	char err[CONFIG_ERR_MAX];
	size_t n = 0;
	int r;

	if (size > FUZZ_MAX_INPUT)
		return 0;
	if (config_new(&c) != 0)
		abort();
	err[0] = '\0';
	r = config_load_text(c, (const char *)data, size, "fuzz.conf", err);
	fuzz_assert(r == 0 || r == 1);
	if (r == 1)
		fuzz_assert(err[0] != '\0' && strlen(err) < CONFIG_ERR_MAX);
	err[0] = '\0';
	r = config_check(c, err);
	fuzz_assert(r == 0 || r == 1);
	if (r == 1)
		fuzz_assert(err[0] != '\0');
	config_each(c, each, &n);
	fuzz_assert(n > 0);
	fuzz_assert(config_site_count(c) >= 1 && config_site_count(c) <= CONFIG_SITES_MAX + 1);
	for (size_t i = 0; i < config_site_count(c); i++) {
		struct config *v = NULL;
		const char *id = config_site_id(c, i);

		fuzz_assert(config_site_id_valid(id));
		fuzz_assert(config_site_find(c, id) == (int)i);
		r = config_site_view(c, i, &v, err);
		fuzz_assert(r == 0 || r == 1);
		if (r == 0)
			fuzz_assert(v->n_sections == 0);
		config_site_each(c, i, each, &n);
		config_free(v);
	}
	fuzz_assert(config_moderation_name(c->moderation) != NULL);
	config_free(c);
	return 0;
}
