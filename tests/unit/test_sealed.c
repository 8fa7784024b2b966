/* Already-encrypted input: only the real thing passes through. The armor
 * below starts with "hQEM": 0x85 0x01 0x0c, an old-format packet with tag
 * 1 (public-key encrypted session key), as gpg writes it. */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "intake.h"
#include "sealed.h"

static struct message m;
static char why[256];

#define DATA                                                                   \
	"hQEMA5/sF34+vjl6AQf+LzHr0AD3vHGzGIbQJb5i2X0oqjO6vQ7Gx0ZbK2s0s8Ak\n"  \
	"0sCQAeld5lofuiyRrc7rkQ5/G1O2nx5ySPUuv8realaYNE3E/W79Mslhd57wzBtC\n"  \
	"=AbCd\n"
#define ARMOR "-----BEGIN PGP MESSAGE-----\n\n" DATA "-----END PGP MESSAGE-----\n"

static int
sealed(const char *in)
{
	int fd = th_fd_with(in, strlen(in));
	int r;

	message_free(&m);
	message_init(&m);
	assert_int_equal(intake_read(fd, 1, "/tmp", &m, why, sizeof(why)), PS_OK);
	close(fd);
	r = message_is_sealed(&m);
	return r;
}

static void
inline_pgp(void **state)
{
	(void)state;
	assert_true(sealed("Subject: a\n\n\n" ARMOR "\n"));
	assert_true(sealed("Subject: a\nContent-Type: text/plain; charset=us-ascii\n\n"
			   "-----BEGIN PGP MESSAGE-----\r\nVersion: GnuPG v2\r\n"
			   "Comment: x\r\n\r\n" DATA "-----END PGP MESSAGE-----\r\n"));
	/* plaintext before, after, or inside the armor */
	assert_false(sealed("Subject: a\n\nsecret plans\n" ARMOR));
	assert_false(sealed("Subject: a\n\n" ARMOR "P.S. secret\n"));
	assert_false(sealed("Subject: a\n\n-----BEGIN PGP MESSAGE-----\n"
			    "My bank PIN is 1234, meet me at noon.\n"
			    "-----END PGP MESSAGE-----\n"));
	assert_false(sealed("Subject: a\n\n-----BEGIN PGP MESSAGE-----\n"
			    "The merger closes Friday at 40 dollars a share\n\n"
			    DATA "-----END PGP MESSAGE-----\n"));
	/* words that happen to be radix-64 are not an encrypted packet */
	assert_false(sealed("Subject: a\n\n-----BEGIN PGP MESSAGE-----\n\n"
			    "Password\nhunter2hunter2hunter2hunter2hunter2hunter2hunter2hunter2\n"
			    "-----END PGP MESSAGE-----\n"));
	/* too little data to be a message */
	assert_false(sealed("Subject: a\n\n-----BEGIN PGP MESSAGE-----\n\nhQEM\n"
			    "-----END PGP MESSAGE-----\n"));
	/* a signed message is not encrypted */
	assert_false(sealed("Subject: a\n\n-----BEGIN PGP SIGNED MESSAGE-----\n"));
	/* inline armor inside an HTML part is not inline PGP */
	assert_false(sealed("Content-Type: text/html\n\n" ARMOR));
	assert_false(sealed("Subject: a\n\n"));
}

#define PGPMIME_HDR                                                            \
	"Subject: a\nMIME-Version: 1.0\nContent-Type: multipart/encrypted;\n"  \
	" protocol=\"application/pgp-encrypted\"; boundary=\"b1\"\n\n"

static void
pgp_mime(void **state)
{
	(void)state;
	assert_true(sealed(PGPMIME_HDR
			   "This is an OpenPGP/MIME encrypted message\n"
			   "--b1\nContent-Type: application/pgp-encrypted\n\nVersion: 1\n\n"
			   "--b1\nContent-Type: application/octet-stream\n\n" ARMOR
			   "\n--b1--\n\n"));
	/* the header says PGP/MIME, the second part is plaintext */
	assert_false(sealed(PGPMIME_HDR
			    "--b1\nContent-Type: application/pgp-encrypted\n\nVersion: 1\n\n"
			    "--b1\nContent-Type: text/plain\n\nThe secret in clear.\n"
			    "--b1--\n"));
	/* a third part */
	assert_false(sealed(PGPMIME_HDR
			    "--b1\nContent-Type: application/pgp-encrypted\n\nVersion: 1\n\n"
			    "--b1\nContent-Type: application/octet-stream\n\n" ARMOR
			    "--b1\nContent-Type: text/plain\n\nclear\n--b1--\n"));
	/* text after the closing delimiter */
	assert_false(sealed(PGPMIME_HDR
			    "--b1\nContent-Type: application/pgp-encrypted\n\nVersion: 1\n\n"
			    "--b1\nContent-Type: application/octet-stream\n\n" ARMOR
			    "--b1--\nepilogue in clear\n"));
	/* plaintext in the version part */
	assert_false(sealed(PGPMIME_HDR
			    "--b1\nContent-Type: application/pgp-encrypted\n\nsecret\n\n"
			    "--b1\nContent-Type: application/octet-stream\n\n" ARMOR
			    "--b1--\n"));
	/* unterminated */
	assert_false(sealed(PGPMIME_HDR
			    "--b1\nContent-Type: application/pgp-encrypted\n\nVersion: 1\n\n"
			    "--b1\nContent-Type: application/octet-stream\n\n" ARMOR));
	/* S/MIME-ish protocol: not ours */
	assert_false(sealed("Content-Type: multipart/encrypted; protocol=\"application/x\";"
			    " boundary=b1\n\n--b1\n\nVersion: 1\n--b1\n\n" ARMOR "--b1--\n"));
}

static int
teardown(void **state)
{
	(void)state;
	message_free(&m);
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(inline_pgp, teardown),
		cmocka_unit_test_teardown(pgp_mime, teardown),
	};

	message_init(&m);
	return cmocka_run_group_tests_name("sealed", tests, NULL, NULL);
}
