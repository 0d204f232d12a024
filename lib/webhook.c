#include "webhook.h"

#include "curlload.h"

#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

void webhook_sign(const char *secret, int64_t timestamp, const char *body, size_t len,
		  char out[WEBHOOK_SIGNATURE_MAX])
{
	crypto_auth_hmacsha256_state st;
	unsigned char mac[crypto_auth_hmacsha256_BYTES];
	char ts[24];
	int n = snprintf(ts, sizeof(ts), "%lld.", (long long)timestamp);

	crypto_auth_hmacsha256_init(&st, (const unsigned char *)secret, strlen(secret));
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)ts, (unsigned long long)n);
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)body, len);
	crypto_auth_hmacsha256_final(&st, mac);
	memcpy(out, "sha256=", 7);
	sodium_bin2hex(out + 7, WEBHOOK_SIGNATURE_MAX - 7, mac, sizeof(mac));
	sodium_memzero(&st, sizeof(st));
}

/* The receiver's answer is not read. */
static size_t discard(char *p, size_t size, size_t nmemb, void *u)
{
	(void)p;
	(void)u;
	return size * nmemb;
}

int webhook_cancelled(void *u, long long dltotal, long long dlnow, long long ultotal,
		      long long ulnow)
{
	(void)dltotal, (void)dlnow, (void)ultotal, (void)ulnow;
	return u && atomic_load((const atomic_bool *)u) ? 1 : 0;
}

/* The transfer stops when *cancel becomes true (daemon shutdown). */
static int progress(void *u, curl_off_t a, curl_off_t b, curl_off_t c, curl_off_t d)
{
	return webhook_cancelled(u, (long long)a, (long long)b, (long long)c, (long long)d);
}

static struct curl_slist *headers(const struct curl_api *curl_api, const char *type,
				  int64_t event_id, int64_t now, const char *signature)
{
	char line[4][160];
	struct curl_slist *list = NULL, *grown;

	snprintf(line[0], sizeof(line[0]), "X-Commentd-Event: %s", type);
	snprintf(line[1], sizeof(line[1]), "X-Commentd-Delivery: %lld", (long long)event_id);
	snprintf(line[2], sizeof(line[2]), "X-Commentd-Timestamp: %lld", (long long)now);
	snprintf(line[3], sizeof(line[3]), "X-Commentd-Signature: %s", signature);
	list = curl_api->slist_append(NULL, "Content-Type: application/json");
	for (int i = 0; list && i < 4; i++) {
		grown = curl_api->slist_append(list, line[i]);
		if (!grown) {
			curl_api->slist_free_all(list);
			return NULL;
		}
		list = grown;
	}
	return list;
}

int webhook_post(const char *url, const char *secret, const char *type, int64_t event_id,
		 int64_t now, const char *body, const atomic_bool *cancel,
		 char err[WEBHOOK_ERR_MAX])
{
	const struct curl_api *curl_api = curlload();
	char signature[WEBHOOK_SIGNATURE_MAX];
	struct curl_slist *list;
	long code = 0;
	CURLcode rc;
	CURL *curl;

	err[0] = '\0';
	webhook_sign(secret, now, body, strlen(body), signature);
	if (!curl_api) {
		snprintf(err, WEBHOOK_ERR_MAX, "libcurl is not available");
		return WEBHOOK_RETRY;
	}
	list = headers(curl_api, type, event_id, now, signature);
	curl = curl_api->easy_init();
	if (!list || !curl) {
		curl_api->slist_free_all(list);
		curl_api->easy_cleanup(curl);
		return -ENOMEM;
	}
	curl_api->easy_setopt(curl, CURLOPT_URL, url);
	curl_api->easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	curl_api->easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_api->easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, 15L);
	curl_api->easy_setopt(curl, CURLOPT_TIMEOUT, 30L);
	curl_api->easy_setopt(curl, CURLOPT_USERAGENT, "commentd/" COMMENTD_VERSION);
	curl_api->easy_setopt(curl, CURLOPT_HTTPHEADER, list);
	curl_api->easy_setopt(curl, CURLOPT_POSTFIELDS, body);
	curl_api->easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(body));
	curl_api->easy_setopt(curl, CURLOPT_WRITEFUNCTION, discard);
	if (cancel) {
		curl_api->easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
		curl_api->easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, progress);
		curl_api->easy_setopt(curl, CURLOPT_XFERINFODATA, (void *)cancel);
	}
	rc = curl_api->easy_perform(curl);
	curl_api->easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &code);
	curl_api->slist_free_all(list);
	curl_api->easy_cleanup(curl);
	if (rc != CURLE_OK) {
		snprintf(err, WEBHOOK_ERR_MAX, "%s", curl_api->easy_strerror(rc));
		return WEBHOOK_RETRY;
	}
	if (code >= 200 && code < 300)
		return 0;
	snprintf(err, WEBHOOK_ERR_MAX, "HTTP %ld", code);
	return code == 408 || code == 429 || code >= 500 ? WEBHOOK_RETRY : WEBHOOK_REFUSED;
}
