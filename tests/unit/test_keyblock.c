/* Key data from the network: only public key packet sequences pass. The
 * armor checksum is CRC-24 of RFC 4880 section 6.1; its check value for
 * "123456789" (0x21CF02) is the CRC catalogue's CRC-24/OPENPGP, and the
 * armored sample's checksum was computed with an independent Python
 * implementation. */
#include "config.h"

#include <string.h>

#include "harness.h"
#include "keyblock.h"

static char why[512];
static struct buf out;

static int
check(const void *p, size_t n)
{
	why[0] = '\0';
	buf_free(&out);
	buf_init(&out, 1 << 20);
	return keyblock_check(p, n, &out, why, sizeof(why));
}

/* key "KEY1", user ID "bob", signature "SG" (new-format headers) */
static const unsigned char key1[] = {0xC6, 4, 'K', 'E', 'Y', '1', 0xCD, 3,
				     'b',  'o', 'b', 0xC2, 2,	'S', 'G'};

static void
crc24_vector(void **state)
{
	(void)state;
	assert_int_equal(keyblock_crc24((const unsigned char *)"123456789", 9), 0x21CF02);
}

static void
binary(void **state)
{
	unsigned char two[2 * sizeof(key1)];
	/* old format: tag 6 with a 2-byte length, tag 13 with a 1-byte one */
	static const unsigned char old[] = {0x99, 0, 2, 'K', '2', 0xB4, 1, 'x'};

	(void)state;
	assert_int_equal(check(key1, sizeof(key1)), 1);
	assert_int_equal(out.len, sizeof(key1));
	assert_memory_equal(out.data, key1, sizeof(key1));
	memcpy(two, key1, sizeof(key1));
	memcpy(two + sizeof(key1), key1, sizeof(key1));
	assert_int_equal(check(two, sizeof(two)), 2);
	assert_int_equal(check(old, sizeof(old)), 1);
	buf_free(&out);
}

static void
armored(void **state)
{
	static const char good[] = "-----BEGIN PGP PUBLIC KEY BLOCK-----\n"
				   "Comment: a test\n"
				   "\n"
				   "xgRLRVkxzQNib2LCAlNH\n"
				   "=kb4O\n"
				   "-----END PGP PUBLIC KEY BLOCK-----\n";
	static const char badcrc[] = "-----BEGIN PGP PUBLIC KEY BLOCK-----\n"
				     "\n"
				     "xgRLRVkxzQNib2LCAlNH\n"
				     "=kb4P\n"
				     "-----END PGP PUBLIC KEY BLOCK-----\n";
	static const char nocrc[] = "\r\n-----BEGIN PGP PUBLIC KEY BLOCK-----\r\n"
				    "\r\n"
				    "xgRLRVkx\r\nzQNib2LCAlNH\r\n"
				    "-----END PGP PUBLIC KEY BLOCK-----\r\n";
	static const char secret[] = "-----BEGIN PGP PRIVATE KEY BLOCK-----\n"
				     "\n"
				     "xgRLRVkxzQNib2LCAlNH\n"
				     "-----END PGP PRIVATE KEY BLOCK-----\n";
	static const char noend[] = "-----BEGIN PGP PUBLIC KEY BLOCK-----\n"
				    "\n"
				    "xgRLRVkxzQNib2LCAlNH\n";

	(void)state;
	assert_int_equal(check(good, strlen(good)), 1);
	assert_memory_equal(out.data, key1, sizeof(key1));
	assert_int_equal(check(badcrc, strlen(badcrc)), -1);
	assert_string_equal(why, "armor checksum mismatch");
	assert_int_equal(check(nocrc, strlen(nocrc)), 1);
	assert_int_equal(check(secret, strlen(secret)), -1);
	assert_int_equal(check(noend, strlen(noend)), -1);
	assert_int_equal(check("<html>404</html>", 16), -1);
	buf_free(&out);
}

static void
refused(void **state)
{
	/* a secret key, a literal data packet, a uid first, truncation, a
	 * partial length, an old-format indeterminate length */
	static const unsigned char seckey[] = {0xC5, 1, 'S'};
	static const unsigned char literal[] = {0xC6, 1, 'K', 0xCB, 1, 'L'};
	static const unsigned char uidfirst[] = {0xCD, 1, 'u', 0xC6, 1, 'K'};
	static const unsigned char trunc[] = {0xC6, 9, 'K'};
	static const unsigned char partial[] = {0xC6, 0xE1, 'K', 'K'};
	static const unsigned char indet[] = {0x9B, 'K'};
	static const unsigned char five_octet[] = {0xC6, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 'K'};

	(void)state;
	assert_int_equal(check(seckey, sizeof(seckey)), -1);
	assert_non_null(strstr(why, "secret key"));
	assert_int_equal(check(literal, sizeof(literal)), -1);
	assert_non_null(strstr(why, "packet type 11"));
	assert_int_equal(check(uidfirst, sizeof(uidfirst)), -1);
	assert_int_equal(check(trunc, sizeof(trunc)), -1);
	assert_non_null(strstr(why, "truncated"));
	assert_int_equal(check(partial, sizeof(partial)), -1);
	assert_int_equal(check(indet, sizeof(indet)), -1);
	assert_int_equal(check(five_octet, sizeof(five_octet)), -1);
	assert_int_equal(check("", 0), -1);
	buf_free(&out);
}

static void
caps(void **state)
{
	unsigned char many[(KEYBLOCK_KEYS_MAX + 1) * 3];
	static unsigned char sigs[(KEYBLOCK_PACKETS_MAX + 1) * 2 + 3];

	(void)state;
	for (int i = 0; i <= KEYBLOCK_KEYS_MAX; i++) {
		many[3 * i] = 0xC6;
		many[3 * i + 1] = 1;
		many[3 * i + 2] = 'K';
	}
	assert_int_equal(check(many, sizeof(many) - 3), KEYBLOCK_KEYS_MAX);
	assert_int_equal(check(many, sizeof(many)), -1);
	assert_non_null(strstr(why, "keys in one reply"));
	/* a flooded key: one key, then more signatures than the cap */
	sigs[0] = 0xC6;
	sigs[1] = 1;
	sigs[2] = 'K';
	for (int i = 0; i <= KEYBLOCK_PACKETS_MAX; i++) {
		sigs[3 + 2 * i] = 0xC2;
		sigs[3 + 2 * i + 1] = 0;
	}
	assert_int_equal(check(sigs, sizeof(sigs)), -1);
	assert_non_null(strstr(why, "packets in one reply"));
	buf_free(&out);
}

/* v4 fingerprints: SHA-1 over 0x99, length, body (RFC 4880 12.2);
 * expected values computed with Python's hashlib */
static void
fingerprints(void **state)
{
	static const unsigned char two[] = {0xC6, 5,    4,   't', 'e', 's', 't', 0xCD, 1, 'u',
					    0x99, 0,    3,   4,   'K', '2'};
	static const unsigned char v3[] = {0xC6, 2, 3, 'x'};
	char f[4][41];

	(void)state;
	assert_int_equal(keyblock_fprs(two, sizeof(two), f, 4), 2);
	assert_string_equal(f[0], "80BB21FD246F86A607435F17635CA745E4377F45");
	assert_string_equal(f[1], "FD5FEB6550E3CFE8B2B60F4090C161B196D01413");
	assert_int_equal(keyblock_fprs(two, sizeof(two), f, 1), -1); /* more than max */
	assert_int_equal(keyblock_fprs(v3, sizeof(v3), f, 4), -1);   /* not v4 */
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(crc24_vector), cmocka_unit_test(binary),
		cmocka_unit_test(armored),	cmocka_unit_test(refused),
		cmocka_unit_test(caps),		cmocka_unit_test(fingerprints),
	};

	return cmocka_run_group_tests_name("keyblock", tests, NULL, NULL);
}
