/* curlload: libcurl, loaded (dlopen) when the first notification is sent.
 *
 * libcurl pulls in some twenty libraries (TLS, SSH, LDAP, HTTP/2, IDN...):
 * linked at start they cost about 3 MiB of resident memory in every daemon,
 * also in one that never sends a mail.  So lib/mail.c and lib/webhook.c
 * reach libcurl through this table, filled on first use; the headers are
 * libcurl's own (libcurl4-openssl-dev), the library is libcurl.so.4 (or the
 * GnuTLS flavour's libcurl-gnutls.so.4).  Being loaded, not linked, it is
 * not found by dpkg-shlibdeps: debian/control names libcurl4 in Depends.
 */
#ifndef COMMENTD_CURLLOAD_H
#define COMMENTD_CURLLOAD_H

#include <curl/curl.h>

struct curl_api {
	CURL *(*easy_init)(void);
	CURLcode (*easy_setopt)(CURL *curl, CURLoption option, ...);
	CURLcode (*easy_perform)(CURL *curl);
	CURLcode (*easy_getinfo)(CURL *curl, CURLINFO info, ...);
	void (*easy_cleanup)(CURL *curl);
	const char *(*easy_strerror)(CURLcode code);
	struct curl_slist *(*slist_append)(struct curl_slist *list, const char *s);
	void (*slist_free_all)(struct curl_slist *list);
};

/* The loaded library with curl_global_init done (once, thread-safe), or
 * NULL when it cannot be loaded (logged once: sends then fail and are
 * retried). */
const struct curl_api *curlload(void);

#endif
