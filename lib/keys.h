/* keys: the master secret and everything derived from it.
 *
 * The 32-byte master key lives in a file outside the database (mode 0600,
 * or a systemd credential).  Purpose subkeys are derived with crypto_kdf
 * (context "commentd"); the master is wiped right after derivation.  The
 * subkeys sit in sodium_malloc memory, read-only.
 *
 * Keyed hashes (BLAKE2b) turn e-mail addresses, IP addresses and tokens into
 * pseudonyms that cannot be reversed or dictionary-attacked without the key.
 */
#ifndef COMMENTD_KEYS_H
#define COMMENTD_KEYS_H

#include <stddef.h>
#include <stdint.h>

#define KEYS_MASTER_BYTES 32
#define KEYS_HASH_BYTES	  32
#define KEYS_AVATAR_HEX	  33 /* 16 bytes as hex + NUL */
#define KEYS_TOKEN_BYTES  32 /* random part of an issued token */
#define KEYS_TOKEN_CHARS  44 /* base64url(32 bytes) + NUL */

struct keys;

enum keys_purpose {
	KEYS_EMAIL = 1,	 /* stored e-mail hash */
	KEYS_AVATAR = 2, /* public avatar seed (not joinable to the e-mail hash) */
	KEYS_IP = 3,	 /* IP pseudonyms for rate limits */
	KEYS_TOKEN = 4,	 /* admin tokens, edit tokens, site keys (stored hashed) */
	KEYS_STAMP = 5,	 /* MAC of the front-end's render timestamp */
	KEYS_SEAL = 6,	 /* encryption of what is kept for a while (client address) */
	KEYS_REDACT = 7, /* pseudonyms of values shown to moderators (e-mail domain) */
	KEYS_LINK = 8,	 /* MAC of the links in notification mails (lib/link.h) */
	KEYS_LIKE = 9,	 /* a like's voter: client and comment (lib/likes.h) */
	KEYS_NODE = 10,	 /* the key's fingerprint in the database (lib/nodes.h) */
	KEYS_PURPOSE_MAX = 11,
};

enum {
	KEYS_INVALID = 1, /* the key file is missing, unreadable or not 32 bytes */
};

/* Reads the master key from path: exactly 32 raw bytes, or 64 hex digits with
 * an optional trailing newline.  Returns 0, KEYS_INVALID (logged, with the
 * reason) or negative on internal failure. */
int keys_new(struct keys **out, const char *path);

/* Builds keys from a master key in memory (tests, fuzzers). */
int keys_new_from_bytes(struct keys **out, const unsigned char master[KEYS_MASTER_BYTES]);

/* Wipes and frees.  NULL-safe; returns NULL. */
struct keys *keys_free(struct keys *k);

/* Writes a new random key to path as 32 raw bytes with mode 0600; refuses to
 * overwrite an existing file.  0, or negative errno (logged). */
int keys_generate(const char *path);

/* out = BLAKE2b-256(data) keyed with the purpose's subkey. */
void keys_hash(const struct keys *k, enum keys_purpose purpose, const void *data, size_t len,
	       unsigned char out[KEYS_HASH_BYTES]);

/* The avatar seed for a normalised e-mail address: 32 lowercase hex chars. */
void keys_avatar(const struct keys *k, const char *email, char out[KEYS_AVATAR_HEX]);

/* A new random token as base64url (no padding) in out, and its keyed hash
 * (KEYS_TOKEN) in hash, for storage. */
void keys_token_new(const struct keys *k, char out[KEYS_TOKEN_CHARS],
		    unsigned char hash[KEYS_HASH_BYTES]);

/* MAC over data with the purpose's subkey (HMAC-SHA-512-256), for signed
 * render timestamps.  keys_mac_verify is constant-time: 0 if valid. */
void keys_mac(const struct keys *k, enum keys_purpose purpose, const void *data, size_t len,
	      unsigned char out[32]);
int keys_mac_verify(const struct keys *k, enum keys_purpose purpose, const void *data, size_t len,
		    const unsigned char mac[32]);

/* Sealing: what must be kept for a feature but never in clear (a client
 * address for ip_retention_days, an e-mail domain for the edit window) is
 * encrypted with XSalsa20-Poly1305 under the KEYS_SEAL subkey, so the
 * database, its WAL and its backups hold only ciphertext; the key stays
 * outside them. */
#define KEYS_SEAL_OVERHEAD 40 /* nonce (24) + MAC (16) bytes */

/* Encrypts len bytes of plain into out (len + KEYS_SEAL_OVERHEAD bytes)
 * with a random nonce. */
void keys_seal(const struct keys *k, const void *plain, size_t len, unsigned char *out);

/* Decrypts len bytes of sealed into out (len - KEYS_SEAL_OVERHEAD bytes).
 * 0, or KEYS_INVALID when sealed is too short or not sealed with this key. */
int keys_unseal(const struct keys *k, const unsigned char *sealed, size_t len, unsigned char *out);

/* A short keyed pseudonym of a value for moderators' eyes ("#" and 12 hex
 * digits, KEYS_REDACT): equal values get equal pseudonyms, and the value
 * cannot be recovered or guessed without the key. */
#define KEYS_PSEUDONYM_MAX 14
void keys_pseudonym(const struct keys *k, const char *value, size_t len,
		    char out[KEYS_PSEUDONYM_MAX]);

#define KEYS_STAMP_MAX 96 /* "<unix seconds>.<base64url MAC>" + NUL */

/* A signed render time for now ("<unix>.<mac>"), handed out with a thread
 * and echoed back with a post (one MAC per second and thread is computed;
 * later calls in the same second copy it). */
void keys_stamp(const struct keys *k, int64_t now, char out[KEYS_STAMP_MAX]);

/* Seconds from a stamp's time to now; -1 when stamp is NULL, malformed,
 * forged or from the future. */
long keys_stamp_age(const struct keys *k, const char *stamp, int64_t now);

#endif
