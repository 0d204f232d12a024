#include "keys.h"

#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
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
			int hi = hexval(raw[2 * i]), lo = hexval(raw[2 * i + 1]);
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
