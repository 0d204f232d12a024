#include "keys.h"

#include "log.h"
#include "text.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

_Static_assert(KEYS_SEAL_OVERHEAD == crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES,
	       "KEYS_SEAL_OVERHEAD is the nonce and the MAC");

static const char kdf_context[crypto_kdf_CONTEXTBYTES] = {'c', 'o', 'm', 'm', 'e', 'n', 't', 'd'};

struct keys {
	/* sodium_malloc'd, read-only after setup; index = enum keys_purpose */
	unsigned char (*sub)[crypto_kdf_KEYBYTES];
};

int keys_new_from_bytes(struct keys **out, const unsigned char master[KEYS_MASTER_BYTES])
{
	struct keys *k;

	if (sodium_init() < 0)
		return -EIO;
	k = calloc(1, sizeof(*k));
	if (!k)
		return -ENOMEM;
	k->sub = sodium_malloc(KEYS_PURPOSE_MAX * crypto_kdf_KEYBYTES);
	if (!k->sub) {
		free(k);
		return -ENOMEM;
	}
	for (int i = 0; i < KEYS_PURPOSE_MAX; i++)
		crypto_kdf_derive_from_key(k->sub[i], crypto_kdf_KEYBYTES, (uint64_t)i, kdf_context,
					   master);
	sodium_mprotect_readonly(k->sub);
	*out = k;
	return 0;
}

int keys_new(struct keys **out, const char *path)
{
	unsigned char raw[80], master[KEYS_MASTER_BYTES];
	ssize_t n;
	size_t len;
	int fd, r;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		log_err("keys: cannot open the key file %s: %s (create one with commentd --keygen)",
			path, strerror(errno));
		return KEYS_INVALID;
	}
	n = read(fd, raw, sizeof(raw));
	close(fd);
	if (n < 0) {
		log_err("keys: cannot read the key file %s: %s", path, strerror(errno));
		return KEYS_INVALID;
	}
	len = (size_t)n;
	if (len == KEYS_MASTER_BYTES) {
		memcpy(master, raw, KEYS_MASTER_BYTES);
	} else {
		if (len > 0 && raw[len - 1] == '\n')
			len--;
		if (len != 2 * KEYS_MASTER_BYTES) {
			sodium_memzero(raw, sizeof(raw));
			log_err("keys: the key file %s must hold 32 bytes (or 64 hex digits)",
				path);
			return KEYS_INVALID;
		}
		for (size_t i = 0; i < KEYS_MASTER_BYTES; i++) {
			int hi = text_hex_value(raw[2 * i]), lo = text_hex_value(raw[2 * i + 1]);
			if (hi < 0 || lo < 0) {
				sodium_memzero(raw, sizeof(raw));
				sodium_memzero(master, sizeof(master));
				log_err("keys: the key file %s is not valid hex", path);
				return KEYS_INVALID;
			}
			master[i] = (unsigned char)(hi << 4 | lo);
		}
	}
	sodium_memzero(raw, sizeof(raw));
	r = keys_new_from_bytes(out, master);
	sodium_memzero(master, sizeof(master));
	return r;
}

struct keys *keys_free(struct keys *k)
{
	if (!k)
		return NULL;
	sodium_free(k->sub); /* sodium_free wipes */
	free(k);
	return NULL;
}

int keys_generate(const char *path)
{
	unsigned char master[KEYS_MASTER_BYTES];
	int fd, r = 0;

	if (sodium_init() < 0)
		return -EIO;
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		r = -errno;
		log_err("keys: cannot create %s: %s", path, strerror(errno));
		return r;
	}
	randombytes_buf(master, sizeof(master));
	if (fchmod(fd, 0600) < 0 || write(fd, master, sizeof(master)) != sizeof(master) ||
	    fsync(fd) < 0) {
		r = -errno;
		log_err("keys: cannot write %s: %s", path, strerror(errno));
	}
	sodium_memzero(master, sizeof(master));
	if (close(fd) < 0 && r == 0)
		r = -errno;
	if (r < 0)
		unlink(path);
	return r;
}

void keys_hash(const struct keys *k, enum keys_purpose purpose, const void *data, size_t len,
	       unsigned char out[KEYS_HASH_BYTES])
{
	crypto_generichash(out, KEYS_HASH_BYTES, data, len, k->sub[purpose], crypto_kdf_KEYBYTES);
}

void keys_avatar(const struct keys *k, const char *email, char out[KEYS_AVATAR_HEX])
{
	unsigned char h[16];

	crypto_generichash(h, sizeof(h), (const unsigned char *)email, strlen(email),
			   k->sub[KEYS_AVATAR], crypto_kdf_KEYBYTES);
	sodium_bin2hex(out, KEYS_AVATAR_HEX, h, sizeof(h));
}

void keys_token_new(const struct keys *k, char out[KEYS_TOKEN_CHARS],
		    unsigned char hash[KEYS_HASH_BYTES])
{
	unsigned char raw[KEYS_TOKEN_BYTES];

	randombytes_buf(raw, sizeof(raw));
	sodium_bin2base64(out, KEYS_TOKEN_CHARS, raw, sizeof(raw),
			  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	sodium_memzero(raw, sizeof(raw));
	keys_hash(k, KEYS_TOKEN, out, strlen(out), hash);
}

void keys_mac(const struct keys *k, enum keys_purpose purpose, const void *data, size_t len,
	      unsigned char out[32])
{
	crypto_auth(out, data, len, k->sub[purpose]);
}

int keys_mac_verify(const struct keys *k, enum keys_purpose purpose, const void *data, size_t len,
		    const unsigned char mac[32])
{
	return crypto_auth_verify(mac, data, len, k->sub[purpose]) == 0 ? 0 : 1;
}

void keys_seal(const struct keys *k, const void *plain, size_t len, unsigned char *out)
{
	randombytes_buf(out, crypto_secretbox_NONCEBYTES);
	crypto_secretbox_easy(out + crypto_secretbox_NONCEBYTES, plain, len, out,
			      k->sub[KEYS_SEAL]);
}

int keys_unseal(const struct keys *k, const unsigned char *sealed, size_t len, unsigned char *out)
{
	if (len < KEYS_SEAL_OVERHEAD)
		return KEYS_INVALID;
	if (crypto_secretbox_open_easy(out, sealed + crypto_secretbox_NONCEBYTES,
				       len - crypto_secretbox_NONCEBYTES, sealed,
				       k->sub[KEYS_SEAL]) != 0)
		return KEYS_INVALID;
	return 0;
}

void keys_pseudonym(const struct keys *k, const char *value, size_t len,
		    char out[KEYS_PSEUDONYM_MAX])
{
	unsigned char h[6];

	crypto_generichash(h, sizeof(h), (const unsigned char *)value, len, k->sub[KEYS_REDACT],
			   crypto_kdf_KEYBYTES);
	out[0] = '#';
	sodium_bin2hex(out + 1, KEYS_PSEUDONYM_MAX - 1, h, sizeof(h));
}

void keys_stamp(const struct keys *k, int64_t now, char out[KEYS_STAMP_MAX])
{
	/* One MAC per second and thread is plenty. */
	static _Thread_local int64_t cached_second = -1;
	static _Thread_local const struct keys *cached_keys;
	static _Thread_local char cached[KEYS_STAMP_MAX];
	char b64[sodium_base64_ENCODED_LEN(32, sodium_base64_VARIANT_URLSAFE_NO_PADDING)];
	unsigned char mac[32];
	int n;

	if (now != cached_second || k != cached_keys) {
		n = snprintf(cached, sizeof(cached), "%lld", (long long)now);
		keys_mac(k, KEYS_STAMP, cached, (size_t)n, mac);
		sodium_bin2base64(b64, sizeof(b64), mac, sizeof(mac),
				  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
		snprintf(cached + n, sizeof(cached) - (size_t)n, ".%s", b64);
		cached_second = now;
		cached_keys = k;
	}
	memcpy(out, cached, KEYS_STAMP_MAX);
}

long keys_stamp_age(const struct keys *k, const char *stamp, int64_t now)
{
	unsigned char mac[32];
	const char *dot;
	long long t = 0;
	size_t maclen;

	if (!stamp || strnlen(stamp, KEYS_STAMP_MAX) >= KEYS_STAMP_MAX)
		return -1;
	dot = strchr(stamp, '.');
	if (!dot || dot == stamp || dot - stamp > 18)
		return -1;
	for (const char *p = stamp; p < dot; p++) {
		if (*p < '0' || *p > '9')
			return -1;
		t = t * 10 + (*p - '0');
	}
	if (t <= 0 || t > now)
		return -1;
	if (text_base64url_decode(dot + 1, mac, sizeof(mac), &maclen) != 0 || maclen != sizeof(mac))
		return -1;
	if (keys_mac_verify(k, KEYS_STAMP, stamp, (size_t)(dot - stamp), mac) != 0)
		return -1;
	return (long)(now - t);
}
