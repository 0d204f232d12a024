#include "curlload.h"

#include "log.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdbool.h>

static struct curl_api api;
static bool loaded;
static pthread_once_t once = PTHREAD_ONCE_INIT;

/* Resolves name into *slot; false when missing. */
static bool sym(void *lib, const char *name, void *slot)
{
	void *p = dlsym(lib, name);

	if (!p)
		return false;
	/* POSIX: a function pointer and a data pointer have the same form. */
	*(void **)slot = p;
	return true;
}

static void load(void)
{
	static const char *const names[] = {"libcurl.so.4", "libcurl-gnutls.so.4"};
	CURLcode (*global_init)(long flags) = NULL;
	void *lib = NULL;

	for (size_t i = 0; !lib && i < sizeof(names) / sizeof(names[0]); i++)
		lib = dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
	if (!lib) {
		log_err("notify: cannot load libcurl (%s): no mail or webhook can be sent",
			dlerror());
		return;
	}
	if (!sym(lib, "curl_global_init", &global_init) ||
	    !sym(lib, "curl_easy_init", &api.easy_init) ||
	    !sym(lib, "curl_easy_setopt", &api.easy_setopt) ||
	    !sym(lib, "curl_easy_perform", &api.easy_perform) ||
	    !sym(lib, "curl_easy_getinfo", &api.easy_getinfo) ||
	    !sym(lib, "curl_easy_cleanup", &api.easy_cleanup) ||
	    !sym(lib, "curl_easy_strerror", &api.easy_strerror) ||
	    !sym(lib, "curl_slist_append", &api.slist_append) ||
	    !sym(lib, "curl_slist_free_all", &api.slist_free_all)) {
		log_err("notify: the libcurl found lacks a function it should have");
		return;
	}
	if (global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		log_err("notify: libcurl failed to initialise");
		return;
	}
	loaded = true;
}

const struct curl_api *curlload(void)
{
	pthread_once(&once, load);
	return loaded ? &api : NULL;
}
