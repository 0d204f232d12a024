/* gen-confusables: writes the table of lib/confusables.h from ICU's spoof
 * checker (Unicode TR39 skeletons), at build time.
 *
 * usage: gen-confusables OUT.c
 *
 * For every letter or digit that NFKC case folding leaves as it is and that
 * has no canonical decomposition (the characters lib/names.c's folding can
 * leave), the skeleton of that one character, in NFC; characters whose
 * skeleton is themselves are left out.  A skeleton is defined character by
 * character (NFD, then each character's prototype, then NFD), so the table
 * gives the skeleton of any folded string. */
#include "../lib/confusables.h"

#include <stdio.h>
#include <string.h>
#include <unicode/uchar.h>
#include <unicode/uclean.h>
#include <unicode/unorm2.h>
#include <unicode/uspoof.h>
#include <unicode/ustring.h>
#include <unicode/utf16.h>

static int letter_or_digit(UChar32 c)
{
	int8_t t = u_charType(c);

	return (t >= U_UPPERCASE_LETTER && t <= U_OTHER_LETTER) ||
	       (t >= U_DECIMAL_DIGIT_NUMBER && t <= U_OTHER_NUMBER);
}

/* True if normaliser n leaves the UTF-16 text s (len units) as it is. */
static int stable(const UNormalizer2 *n, const UChar *s, int32_t len)
{
	UErrorCode st = U_ZERO_ERROR;
	UChar out[32];
	int32_t k = unorm2_normalize(n, s, len, out, 32, &st);

	return U_SUCCESS(st) && k == len && memcmp(s, out, (size_t)len * sizeof(UChar)) == 0;
}

/* The NFC skeleton of c in UTF-8 into to; 1 when it is c itself, -1 on
 * failure. */
static int skeleton_of(const USpoofChecker *sc, const UNormalizer2 *nfc, UChar32 c,
		       char to[CONFUSABLE_TO_MAX])
{
	UChar in[2], sk[64], composed[64];
	int32_t len = 0, k, n, out;
	UErrorCode st = U_ZERO_ERROR;
	UBool bad = 0;

	U16_APPEND(in, len, 2, c, bad);
	k = uspoof_getSkeleton(sc, 0, in, len, sk, 64, &st);
	n = U_SUCCESS(st) ? unorm2_normalize(nfc, sk, k, composed, 64, &st) : 0;
	if (U_FAILURE(st) || bad)
		return -1;
	if (n == len && memcmp(in, composed, (size_t)len * sizeof(UChar)) == 0)
		return 1;
	u_strToUTF8(to, CONFUSABLE_TO_MAX, &out, composed, n, &st);
	return U_SUCCESS(st) && out < CONFUSABLE_TO_MAX ? 0 : -1;
}

static void write_entry(FILE *f, UChar32 c, const char *to)
{
	fprintf(f, "\t{0x%04X, \"", (unsigned)c);
	for (const unsigned char *p = (const unsigned char *)to; *p; p++)
		fprintf(f, "\\x%02x", *p);
	fprintf(f, "\"},\n");
}

int main(int argc, char **argv)
{
	UErrorCode st = U_ZERO_ERROR;
	USpoofChecker *sc = uspoof_open(&st);
	const UNormalizer2 *nfc = unorm2_getNFCInstance(&st);
	const UNormalizer2 *nfd = unorm2_getNFDInstance(&st);
	const UNormalizer2 *cf = unorm2_getNFKCCasefoldInstance(&st);
	char to[CONFUSABLE_TO_MAX];
	size_t count = 0;
	FILE *f;

	if (argc != 2 || U_FAILURE(st) || !(f = fopen(argv[1], "w"))) {
		fprintf(stderr, "gen-confusables: usage: gen-confusables OUT.c (%s)\n",
			u_errorName(st));
		return 1;
	}
	fprintf(f,
		"/* Made by tools/gen-confusables.c from ICU %s: do not edit. */\n"
		"#include \"confusables.h\"\n\nconst struct confusable confusables[] = {\n",
		U_ICU_VERSION);
	for (UChar32 c = 0; c <= 0x10FFFF; c++) {
		UChar in[2];
		int32_t len = 0;
		UBool bad = 0;
		int r;

		if (!letter_or_digit(c))
			continue;
		U16_APPEND(in, len, 2, c, bad);
		if (bad || !stable(cf, in, len) || !stable(nfd, in, len))
			continue;
		r = skeleton_of(sc, nfc, c, to);
		if (r < 0) {
			fprintf(stderr, "gen-confusables: no skeleton for U+%04X\n", (unsigned)c);
			return 1;
		}
		if (r == 0) {
			write_entry(f, c, to);
			count++;
		}
	}
	fprintf(f, "};\n\nconst size_t confusables_count = %zu;\n", count);
	uspoof_close(sc);
	u_cleanup();
	return fclose(f) == 0 && count > 1000 ? 0 : 1;
}
