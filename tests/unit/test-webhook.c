/* Unit tests for lib/webhook: the signature (a vector computed with
 * Python's hmac module) and the refusal of an unreachable receiver. */
#include "tap.h"

#include "webhook.h"

#include <string.h>

int main(void)
{
	char sig[WEBHOOK_SIGNATURE_MAX], again[WEBHOOK_SIGNATURE_MAX], err[WEBHOOK_ERR_MAX];
	const char *body = "{\"id\":1}";

	webhook_sign("webhook-secret-0123456789", 1700000000, body, strlen(body), sig);
	is_str(sig, "sha256=2288913da2f8884e8cd9a95665b92ffbccfdbe3771b404436cd5ebaea96554b8",
	       "HMAC-SHA256 over \"<timestamp>.<body>\" with the secret");
	webhook_sign("webhook-secret-0123456789", 1700000001, body, strlen(body), again);
	ok(strcmp(sig, again) != 0, "another timestamp, another signature");
	webhook_sign("webhook-secret-012345678X", 1700000000, body, strlen(body), again);
	ok(strcmp(sig, again) != 0, "another secret, another signature");
	webhook_sign("webhook-secret-0123456789", 1700000000, "{\"id\":2}", 8, again);
	ok(strcmp(sig, again) != 0, "another body, another signature");
	is_int(webhook_post("http://127.0.0.1:1/hook", "webhook-secret-0123456789", "held", 1,
			    1700000000, body, NULL, err),
	       WEBHOOK_RETRY, "an unreachable receiver: try again later");
	ok(err[0] != '\0', "with a reason (%s)", err);
	is_int(webhook_post("ftp://127.0.0.1:1/", "webhook-secret-0123456789", "held", 1,
			    1700000000, body, NULL, err),
	       WEBHOOK_RETRY, "only http and https are spoken");
	{
		atomic_bool stop = true;
		is_int(webhook_post("http://192.0.2.1/hook", "webhook-secret-0123456789", "held", 1,
				    1700000000, body, &stop, err),
		       WEBHOOK_RETRY, "a cancelled POST stops at once (a retry later)");
	}
	return done_testing();
}
