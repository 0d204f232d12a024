/* Unit tests for lib/keys: key files, generation, keyed hashes, avatars,
 * tokens and MACs. */
#include "fixture.h"
#include "tap.h"

#include "keys.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <sodium.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static struct fixture fx;

static int write_file(const char *name, const void *data, size_t len, char *path, size_t pathlen)
{
	FILE *f;

	snprintf(path, pathlen, "%s/%s", fx.dir, name);
	f = fopen(path, "w");
	if (!f)
		return -1;
	if (len && fwrite(data, 1, len, f) != len) {
		fclose(f);
		return -1;
	}
	return fclose(f);
}

static bool is_lower_hex(const char *s, size_t n)
{
	if (strlen(s) != n)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	}
	return true;
}

static bool is_base64url(const char *s, size_t n)
{
	if (strlen(s) != n)
		return false;
	for (size_t i = 0; i < n; i++) {
		char ch = s[i];
		if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
		      (ch >= '0' && ch <= '9') || ch == '-' || ch == '_'))
			return false;
	}
	return true;
}

static struct keys *load(const char *name, const void *data, size_t len, int *r)
{
	char path[300];
	struct keys *k = NULL;

	write_file(name, data, len, path, sizeof(path));
	*r = keys_new(&k, path);
	return k;
}

/* Sealing: what is kept for a while is only ciphertext without the key. */
static void test_seal(struct keys *k, struct keys *k2)
{
	static const char *const values[] = {"203.0.113.7", "2001:db8::1", "example.org", "x", ""};
	unsigned char sealed[64 + KEYS_SEAL_OVERHEAD], again[64 + KEYS_SEAL_OVERHEAD];
	unsigned char plain[64];
	char p1[KEYS_PSEUDONYM_MAX], p2[KEYS_PSEUDONYM_MAX], p3[KEYS_PSEUDONYM_MAX];

	for (size_t i = 0; i < sizeof(values) / sizeof(*values); i++) {
		size_t n = strlen(values[i]);
		keys_seal(k, values[i], n, sealed);
		keys_seal(k, values[i], n, again);
		ok(memcmp(sealed, again, n + KEYS_SEAL_OVERHEAD) != 0,
		   "sealing \"%s\" twice gives two ciphertexts (random nonce)", values[i]);
		ok(n < 4 || !memmem(sealed, n + KEYS_SEAL_OVERHEAD, values[i], n),
		   "and the value is not in it");
		memset(plain, 0, sizeof(plain));
		is_int(keys_unseal(k, sealed, n + KEYS_SEAL_OVERHEAD, plain), 0, "it opens");
		ok(memcmp(plain, values[i], n) == 0, "to \"%s\"", values[i]);
		is_int(keys_unseal(k2, sealed, n + KEYS_SEAL_OVERHEAD, plain), KEYS_INVALID,
		       "not with another key");
		sealed[KEYS_SEAL_OVERHEAD / 2] ^= 1;
		is_int(keys_unseal(k, sealed, n + KEYS_SEAL_OVERHEAD, plain), KEYS_INVALID,
		       "nor when changed");
	}
	is_int(keys_unseal(k, sealed, KEYS_SEAL_OVERHEAD - 1, plain), KEYS_INVALID,
	       "too short to be sealed");
	keys_pseudonym(k, "example.org", 11, p1);
	keys_pseudonym(k, "example.org", 11, p2);
	keys_pseudonym(k, "example.net", 11, p3);
	ok(p1[0] == '#' && strlen(p1) == KEYS_PSEUDONYM_MAX - 1, "a pseudonym is # and 12 hex (%s)",
	   p1);
	is_str(p1, p2, "the same value, the same pseudonym");
	ok(strcmp(p1, p3) != 0, "another value, another one");
	keys_pseudonym(k2, "example.org", 11, p3);
	ok(strcmp(p1, p3) != 0, "another key, another one");
}

/* Known answers: the purpose subkeys are crypto_kdf subkeys of the master
 * (context "commentd", subkey id = the purpose), so that stored hashes stay
 * comparable across versions; the public avatar has a subkey of its own. */
static void test_known_answers(const struct keys *k, const unsigned char *master)
{
	static const char email[] = "someone@example.org";
	unsigned char sub[crypto_kdf_KEYBYTES], want[KEYS_HASH_BYTES], got[KEYS_HASH_BYTES];
	unsigned char seed[16];
	char want_hex[KEYS_AVATAR_HEX], avatar[KEYS_AVATAR_HEX];

	crypto_kdf_derive_from_key(sub, sizeof(sub), KEYS_EMAIL, "commentd", master);
	crypto_generichash(want, sizeof(want), (const unsigned char *)email, strlen(email), sub,
			   sizeof(sub));
	keys_hash(k, KEYS_EMAIL, email, strlen(email), got);
	ok(memcmp(got, want, sizeof(want)) == 0,
	   "the e-mail hash is BLAKE2b-256 keyed with KDF subkey %d of the master", KEYS_EMAIL);
	crypto_kdf_derive_from_key(sub, sizeof(sub), KEYS_AVATAR, "commentd", master);
	crypto_generichash(seed, sizeof(seed), (const unsigned char *)email, strlen(email), sub,
			   sizeof(sub));
	sodium_bin2hex(want_hex, sizeof(want_hex), seed, sizeof(seed));
	keys_avatar(k, email, avatar);
	is_str(avatar, want_hex, "the avatar is BLAKE2b-128 keyed with its own subkey (%d)",
	       KEYS_AVATAR);
	sodium_memzero(sub, sizeof(sub));
}

/* Render stamps: "<unix>.<MAC>"; only this key's MAC over that very time
 * gives an age. */
static void test_stamps(const struct keys *k, const struct keys *k2)
{
	const int64_t t = 1700000000;
	char stamp[KEYS_STAMP_MAX], other[KEYS_STAMP_MAX], forged[KEYS_STAMP_MAX];
	char *mac;

	keys_stamp(k, t, stamp);
	mac = strchr(stamp, '.');
	ok(mac && mac - stamp == 10 && strlen(mac + 1) == 43, "a stamp is <unix>.<MAC>: %s", stamp);
	if (!mac)
		return;
	is_int(keys_stamp_age(k, stamp, t + 42), 42, "a stamp's age in seconds");
	is_int(keys_stamp_age(k, stamp, t), 0, "age 0 in the same second");
	snprintf(forged, sizeof(forged), "%lld%s", (long long)(t - 600), mac);
	is_int(keys_stamp_age(k, forged, t + 1), -1,
	       "an earlier time under this stamp's MAC is refused (no claiming an old page)");
	snprintf(forged, sizeof(forged), "%s", stamp);
	forged[mac - stamp + 1] = mac[1] == 'A' ? 'B' : 'A';
	is_int(keys_stamp_age(k, forged, t + 1), -1, "a changed MAC is refused");
	keys_stamp(k2, t - 600, other);
	is_int(keys_stamp_age(k, other, t), -1, "another key's stamp is refused");
	is_int(keys_stamp_age(k2, other, t), 600, "(which its own key accepts)");
	is_int(keys_stamp_age(k, stamp, t - 1), -1, "a stamp from the future is refused");
	is_int(keys_stamp_age(k, "1700000000", t), -1, "a time without a MAC is refused");
	is_int(keys_stamp_age(k, "x1700000000.abc", t), -1, "a malformed stamp is refused");
	is_int(keys_stamp_age(k, NULL, t), -1, "no stamp: -1");
}

int main(void)
{
	unsigned char master[KEYS_MASTER_BYTES], other[KEYS_MASTER_BYTES];
	unsigned char h1[KEYS_HASH_BYTES], h2[KEYS_HASH_BYTES], h3[KEYS_HASH_BYTES];
	char hex[2 * KEYS_MASTER_BYTES + 2], path[300];
	struct keys *k = NULL, *k2 = NULL, *kfile = NULL;
	struct stat stt;
	int r;

	if (fixture_tmpdir(&fx, "keys") != 0 || sodium_init() < 0)
		return 1;
	for (int i = 0; i < KEYS_MASTER_BYTES; i++) {
		master[i] = (unsigned char)(i * 7 + 1);
		other[i] = (unsigned char)(i * 7 + 2);
	}
	is_int(keys_new_from_bytes(&k, master), 0, "keys from bytes");
	is_int(keys_new_from_bytes(&k2, other), 0, "keys from other bytes");
	test_seal(k, k2);

	/* Key files. */
	kfile = load("raw.key", master, sizeof(master), &r);
	is_int(r, 0, "a raw 32-byte key file loads");
	ok(kfile != NULL, "and gives keys");
	if (kfile) {
		keys_hash(k, KEYS_EMAIL, "a", 1, h1);
		keys_hash(kfile, KEYS_EMAIL, "a", 1, h2);
		ok(memcmp(h1, h2, sizeof(h1)) == 0, "a raw file gives the same keys as the bytes");
		kfile = keys_free(kfile);
	}

	sodium_bin2hex(hex, sizeof(hex), master, sizeof(master));
	{
		/* Uppercase hex with trailing newline. */
		char up[sizeof(hex) + 1];
		for (size_t i = 0; i < 64; i++)
			up[i] = (char)((hex[i] >= 'a' && hex[i] <= 'f') ? hex[i] - 32 : hex[i]);
		up[64] = '\n';
		kfile = load("hexnl.key", up, 65, &r);
		is_int(r, 0, "a 64-hex-digit key file with a newline loads (uppercase)");
		if (kfile) {
			keys_hash(kfile, KEYS_EMAIL, "a", 1, h2);
			ok(memcmp(h1, h2, sizeof(h1)) == 0, "hex and raw give the same keys");
			kfile = keys_free(kfile);
		} else {
			ok(0, "hex and raw give the same keys");
		}
	}
	kfile = load("hex.key", hex, 64, &r);
	is_int(r, 0, "64 hex digits without a newline load");
	if (kfile) {
		keys_hash(kfile, KEYS_EMAIL, "a", 1, h2);
		ok(memcmp(h1, h2, sizeof(h1)) == 0, "lowercase hex gives the same keys");
		kfile = keys_free(kfile);
	} else {
		ok(0, "lowercase hex gives the same keys");
	}

	/* Invalid key files. */
	{
		unsigned char junk[200];
		char bad[80];
		memset(junk, 'a', sizeof(junk));
		kfile = load("empty.key", "", 0, &r);
		is_int(r, KEYS_INVALID, "an empty file is KEYS_INVALID");
		ok(kfile == NULL, "no keys");
		kfile = load("short.key", master, 31, &r);
		is_int(r, KEYS_INVALID, "31 bytes are KEYS_INVALID");
		kfile = load("long.key", junk, 33, &r);
		is_int(r, KEYS_INVALID, "33 bytes are KEYS_INVALID");
		kfile = load("long2.key", junk, 200, &r);
		is_int(r, KEYS_INVALID, "200 bytes are KEYS_INVALID");
		kfile = load("hex63.key", hex, 63, &r);
		is_int(r, KEYS_INVALID, "63 hex digits are KEYS_INVALID");
		memcpy(bad, hex, 64);
		bad[64] = '\n';
		bad[65] = '\n';
		kfile = load("hex2nl.key", bad, 66, &r);
		is_int(r, KEYS_INVALID, "64 hex digits and two newlines are KEYS_INVALID");
		memcpy(bad, hex, 64);
		bad[64] = 'a';
		bad[65] = '\n';
		kfile = load("hex65.key", bad, 66, &r);
		is_int(r, KEYS_INVALID, "65 hex digits are KEYS_INVALID");
		memcpy(bad, hex, 64);
		bad[17] = 'g';
		kfile = load("badhex.key", bad, 64, &r);
		is_int(r, KEYS_INVALID, "a non-hex digit is KEYS_INVALID");
		memcpy(bad, hex, 64);
		bad[63] = ' ';
		kfile = load("badhex2.key", bad, 64, &r);
		is_int(r, KEYS_INVALID, "a space in the hex is KEYS_INVALID");
		memcpy(bad, hex, 64);
		bad[0] = '\0';
		kfile = load("badhex3.key", bad, 64, &r);
		is_int(r, KEYS_INVALID, "a NUL in the hex is KEYS_INVALID");
		ok(kfile == NULL, "no keys");
		snprintf(path, sizeof(path), "%s/missing.key", fx.dir);
		is_int(keys_new(&kfile, path), KEYS_INVALID, "a missing file is KEYS_INVALID");
		is_int(keys_new(&kfile, fx.dir), KEYS_INVALID, "a directory is KEYS_INVALID");
	}

	/* keys_generate. */
	snprintf(path, sizeof(path), "%s/new.key", fx.dir);
	is_int(keys_generate(path), 0, "keys_generate creates a key file");
	ok(stat(path, &stt) == 0, "the file exists");
	is_int(stt.st_mode & 07777, 0600, "with mode 0600");
	is_int(stt.st_size, KEYS_MASTER_BYTES, "holding 32 bytes");
	{
		mode_t old = umask(0);
		char path2[300];
		snprintf(path2, sizeof(path2), "%s/new-umask0.key", fx.dir);
		is_int(keys_generate(path2), 0, "keys_generate under umask 0");
		stat(path2, &stt);
		is_int(stt.st_mode & 07777, 0600, "still mode 0600");
		umask(old);
	}
	{
		unsigned char before[KEYS_MASTER_BYTES], after[KEYS_MASTER_BYTES];
		FILE *f = fopen(path, "r");
		size_t n = f ? fread(before, 1, sizeof(before), f) : 0;
		if (f)
			fclose(f);
		r = keys_generate(path);
		is_int(r, -EEXIST, "keys_generate refuses to overwrite (-EEXIST)");
		f = fopen(path, "r");
		n += f ? fread(after, 1, sizeof(after), f) : 0;
		if (f)
			fclose(f);
		ok(n == 64 && memcmp(before, after, sizeof(before)) == 0,
		   "the existing key is untouched");
		ok(stat(path, &stt) == 0, "and still exists after the refusal");
	}
	kfile = NULL;
	is_int(keys_new(&kfile, path), 0, "a generated key loads");
	{
		char path2[300];
		struct keys *kfile2 = NULL;
		snprintf(path2, sizeof(path2), "%s/new-umask0.key", fx.dir);
		keys_new(&kfile2, path2);
		ok(kfile && kfile2, "two generated keys load");
		if (kfile && kfile2) {
			keys_hash(kfile, KEYS_EMAIL, "x", 1, h1);
			keys_hash(kfile2, KEYS_EMAIL, "x", 1, h2);
			ok(memcmp(h1, h2, sizeof(h1)) != 0, "two generated keys differ");
		}
		keys_free(kfile2);
		kfile = keys_free(kfile);
	}
	snprintf(path, sizeof(path), "%s/no/such/fx.dir/x.key", fx.dir);
	ok(keys_generate(path) < 0, "keys_generate into a missing directory fails");

	/* Hashes. */
	static const char email[] = "someone@example.org";
	keys_hash(k, KEYS_EMAIL, email, strlen(email), h1);
	keys_hash(k, KEYS_EMAIL, email, strlen(email), h2);
	ok(memcmp(h1, h2, sizeof(h1)) == 0, "keys_hash is deterministic");
	{
		int distinct = 1;
		unsigned char all[KEYS_PURPOSE_MAX][KEYS_HASH_BYTES];
		for (int p = 1; p < KEYS_PURPOSE_MAX; p++)
			keys_hash(k, (enum keys_purpose)p, email, strlen(email), all[p]);
		for (int p = 1; p < KEYS_PURPOSE_MAX; p++)
			for (int q = p + 1; q < KEYS_PURPOSE_MAX; q++)
				if (memcmp(all[p], all[q], KEYS_HASH_BYTES) == 0)
					distinct = 0;
		ok(distinct, "every purpose gives a different hash of the same data");
	}
	keys_hash(k2, KEYS_EMAIL, email, strlen(email), h3);
	ok(memcmp(h1, h3, sizeof(h1)) != 0, "a different key gives a different hash");
	keys_hash(k, KEYS_EMAIL, "someone@example.orh", strlen(email), h3);
	ok(memcmp(h1, h3, sizeof(h1)) != 0, "different data gives a different hash");
	crypto_generichash(h3, sizeof(h3), (const unsigned char *)email, strlen(email), NULL, 0);
	ok(memcmp(h1, h3, sizeof(h1)) != 0, "the hash is keyed (differs from unkeyed BLAKE2b)");
	keys_hash(k, KEYS_EMAIL, "", 0, h3);
	ok(!sodium_is_zero(h3, sizeof(h3)), "hashing empty data works");

	/* Avatars. */
	{
		char a1[KEYS_AVATAR_HEX], a2[KEYS_AVATAR_HEX], a3[KEYS_AVATAR_HEX];
		char ehex[2 * KEYS_HASH_BYTES + 1];
		memset(a1, 'X', sizeof(a1));
		keys_avatar(k, email, a1);
		keys_avatar(k, email, a2);
		ok(a1[KEYS_AVATAR_HEX - 1] == '\0', "the avatar is NUL-terminated");
		ok(is_lower_hex(a1, 32), "the avatar is 32 lowercase hex characters: %s", a1);
		is_str(a1, a2, "the avatar is deterministic");
		sodium_bin2hex(ehex, sizeof(ehex), h1, sizeof(h1));
		ok(strncmp(ehex, a1, 32) != 0, "the avatar is not (a prefix of) the e-mail hash");
		keys_hash(k, KEYS_AVATAR, email, strlen(email), h3);
		sodium_bin2hex(ehex, sizeof(ehex), h3, sizeof(h3));
		ok(strncmp(ehex, a1, 32) != 0, "nor a prefix of the 32-byte avatar-purpose hash");
		keys_avatar(k2, email, a3);
		ok(strcmp(a1, a3) != 0, "a different key gives a different avatar");
		keys_avatar(k, "other@example.org", a3);
		ok(strcmp(a1, a3) != 0, "a different address gives a different avatar");
	}

	/* Tokens. */
	{
		char t1[KEYS_TOKEN_CHARS], t2[KEYS_TOKEN_CHARS];
		unsigned char th1[KEYS_HASH_BYTES], th2[KEYS_HASH_BYTES], want[KEYS_HASH_BYTES];
		unsigned char raw[64];
		size_t rawlen = 0;

		keys_token_new(k, t1, th1);
		keys_token_new(k, t2, th2);
		ok(is_base64url(t1, KEYS_TOKEN_CHARS - 1), "a token is 43 base64url characters: %s",
		   t1);
		ok(is_base64url(t2, KEYS_TOKEN_CHARS - 1), "so is the second");
		ok(strcmp(t1, t2) != 0, "two tokens differ");
		keys_hash(k, KEYS_TOKEN, t1, strlen(t1), want);
		ok(memcmp(th1, want, sizeof(want)) == 0,
		   "the token's hash is keys_hash(KEYS_TOKEN)");
		keys_hash(k, KEYS_EMAIL, t1, strlen(t1), want);
		ok(memcmp(th1, want, sizeof(want)) != 0, "and not another purpose's hash");
		ok(memcmp(th1, th2, sizeof(th1)) != 0, "the hashes differ");
		ok(sodium_base642bin(raw, sizeof(raw), t1, strlen(t1), NULL, &rawlen, NULL,
				     sodium_base64_VARIANT_URLSAFE_NO_PADDING) == 0 &&
		       rawlen == KEYS_TOKEN_BYTES,
		   "a token decodes to %d random bytes", KEYS_TOKEN_BYTES);
	}

	/* MACs. */
	{
		static const char msg[] = "1700000000:/blog/post";
		unsigned char mac[32], mac2[32];
		keys_mac(k, KEYS_STAMP, msg, strlen(msg), mac);
		keys_mac(k, KEYS_STAMP, msg, strlen(msg), mac2);
		ok(memcmp(mac, mac2, 32) == 0, "keys_mac is deterministic");
		is_int(keys_mac_verify(k, KEYS_STAMP, msg, strlen(msg), mac), 0, "a MAC verifies");
		int flips = 0;
		for (int bit = 0; bit < 256; bit++) {
			memcpy(mac2, mac, 32);
			mac2[bit / 8] ^= (unsigned char)(1u << (bit % 8));
			flips += keys_mac_verify(k, KEYS_STAMP, msg, strlen(msg), mac2) != 0;
		}
		is_int(flips, 256, "every single flipped MAC bit is rejected");
		char msg2[sizeof(msg)];
		memcpy(msg2, msg, sizeof(msg));
		msg2[0] ^= 1;
		ok(keys_mac_verify(k, KEYS_STAMP, msg2, strlen(msg2), mac) != 0,
		   "a flipped data bit is rejected");
		ok(keys_mac_verify(k, KEYS_STAMP, msg, strlen(msg) - 1, mac) != 0,
		   "truncated data is rejected");
		ok(keys_mac_verify(k, KEYS_TOKEN, msg, strlen(msg), mac) != 0,
		   "another purpose's key rejects the MAC");
		ok(keys_mac_verify(k2, KEYS_STAMP, msg, strlen(msg), mac) != 0,
		   "another master key rejects the MAC");
		keys_hash(k, KEYS_STAMP, msg, strlen(msg), h3);
		ok(memcmp(h3, mac, 32) != 0, "the MAC is not the keyed hash");
	}

	test_known_answers(k, master);
	test_stamps(k, k2);

	keys_free(k);
	keys_free(k2);
	ok(keys_free(NULL) == NULL, "keys_free(NULL)");

	fixture_close(&fx);
	return done_testing();
}
