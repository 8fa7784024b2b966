/* Already-encrypted input: only the real thing passes through.
 *
 * The real messages below are "The canary sings at noon.\n" encrypted to
 * the test key alice (tests/data/keys, encryption subkey
 * BFE5E121A4AD372D) by three implementations:
 *   gpg --armor -e -r alice@example.org              (GnuPG 2.2.40)
 *   rnp -e -r alice@example.org --armor              (rnp 0.16.3)
 *   sq encrypt --recipient-cert alice.pub.asc        (sq 0.27.0)
 * plus gpg to alice and bob (bob's subkey B04C69179746CC3D) and gpg
 * --symmetric (a password, no public key). The fakes are built from them
 * here: the test has its own radix-64 encoder, and takes the CRC-24 from
 * keyblock_crc24(), whose check value test_keyblock verifies. */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "armor.h"
#include "buf.h"
#include "harness.h"
#include "intake.h"
#include "keyblock.h"
#include "pgpmsg.h"
#include "sealed.h"

static struct message m;
static char why[256];

#define BEGIN "-----BEGIN PGP MESSAGE-----\n"
#define END "-----END PGP MESSAGE-----\n"

#define GPG_ARMOR                                                              \
	BEGIN "\n"                                                             \
	      "hF4Dv+XhIaStNy0SAQdABet8Wzghc6uTbuDdsWk/d0xgKhjNhsJdS/floZ9j7Gcw\n" \
	      "z11v7yUTixcXS9XdF0M7I0iP8kyaVDsetJQfFqJHK1dhRkIfWvty21qZLtX/aCd0\n" \
	      "0lYB1Qgia6P2JMh1Jy+Lciel1hePZwPzsTXbWr6Pwez61IjuQLw+QGpem3JI5dev\n" \
	      "p3C1Rkxr6gIPKuQq18isrDV4MKAsaPgcJBmzU2GtwXt4xnjxalIlyg==\n"         \
	      "=ASFt\n" END
#define GPG_CRC "=ASFt\n"

#define RNP_ARMOR                                                              \
	BEGIN "\n"                                                             \
	      "wV4Dv+XhIaStNy0SAQdAlC/8uvAdtxsIKnkK3P/1gpOhusQsqavpHigzZ5tLjzMwQnUmj9Gu1KiO\n" \
	      "VIYocPcKtvTwC58tQZtRzMG83Fy5NZ+T+lNMBX+mJGkka4KIQ+wm0lEBcgffe4NLDGaniEIKEZn7\n" \
	      "w0DsGkkuiwPCfJjwu5lZm5EKvJGJc8OdyAlDzfizZZe9oBKIsPKCMni2NZoPqwANKcQBV4xrPnlH\n" \
	      "LoyT/F+AXj4=\n"                                                     \
	      "=Kz/L\n" END

#define SQ_ARMOR                                                               \
	BEGIN "\n"                                                             \
	      "wV4Dv+XhIaStNy0SAQdA5tsfsUI+YiKdE6xwPrJ3/AI2yIC1JBz5w5RRCXLDwR8w\n" \
	      "t6eb/jl8juT1w80kAZAhSYWFPRFXj8CXSd9Lerl4aefIE4geqju3VoQG8cRuetmu\n" \
	      "0lMBZZlTqXpVeEpG8nE5+ZX2nqf5FTlOAj6tgVV7GvnxXdRL8CmAUT2lkrZ8CJ5L\n" \
	      "Ml2HZNjIXjGAPuvJaI7xnzffCGgfGmlDHVGqeYrggwH15j1Dog==\n"             \
	      "=EDBg\n" END

#define GPG2_ARMOR                                                             \
	BEGIN "\n"                                                             \
	      "hF4Dv+XhIaStNy0SAQdAVVKJOKRoOdUL0u+Vn4lXHKlyx6z1SHwPU5/pMCK0TxEw\n" \
	      "aACiab1hjFy4jW8MjWfN9QKTgSB4Ujx1coyGcfhSAVNZWcGGbisXs/Zqg4fEhhsq\n" \
	      "hQEMA7BMaReXRsw9AQgAthrZhsYxgjLtf91BqdAbdQ/ftGicZekxGuYDfMC53dqm\n" \
	      "ODeX/MQlX0GvbJusYuNoFI7OKJvyb+Xa2w9kbVULIt2/FqRIJGoEOY0pLA/4T9Tr\n" \
	      "D9m3il2nIiHolbmAMvICGoZ7GLRM+of2VbLYu65FO6lwWQWK4FAuGoovC/aINmJD\n" \
	      "GZceouqhegV9VryqK6D1uHW99cR6gxO25xjvQ0HoRQAEYcX8ZUuiMhqPN6Nh3ls7\n" \
	      "d76cZKpK2wIibfKfrK18HylCFS2sDsl5BWncnyKeYCDDoC26WL+RIPqr1QicdV25\n" \
	      "cpxLNU5xIbY5boFXwd/E1G5q2I7wzzeMLVTwiGS++dJWAXTmLq0VODgySX9dWcAp\n" \
	      "FRm7YsqZhOakUOF5hX0An0/SKRPi8djb22XNVFi/6vbvlKUjMRTbCBxdMREvnBu2\n" \
	      "bVOLI7pDtNy0ZuY5MSP+pO9kwKWRBWQ=\n"                                 \
	      "=fh9m\n" END

#define GPG_SYM_ARMOR                                                          \
	BEGIN "\n"                                                             \
	      "jA0ECQMC+pkGdi+XAvP/0lABeldaa6d3hEmAlzVRBUUHlqwnYXhh7z/o8hZ2u3Z+\n" \
	      "ptBA3l3xuA6vjjhoVf8BmAkuEWNo+LaR1JCezpDeRcCvwOAFqWe0cONUNevoNctl\n" \
	      "zQ==\n"                                                             \
	      "=TSj0\n" END

#define CANARY "My bank PIN is 1234; the merger closes on Friday at noon."

static struct sealed_info si;

static int
sealed(const char *in)
{
	int fd = th_fd_with(in, strlen(in));
	int r;

	message_free(&m);
	message_init(&m);
	assert_int_equal(intake_read(fd, 1, "/tmp", &m, why, sizeof(why)), PS_OK);
	close(fd);
	r = sealed_examine(&m, &si);
	assert_int_equal(r, message_is_sealed(&m));
	return r;
}

/* Not sealed, and for the reason given (a fake must be caught by the
 * rule it breaks, not by an accident of its making). */
static void
refused(int r, const char *reason)
{
	assert_false(r);
	if (strstr(si.why, reason) == NULL)
		fail_msg("refused because \"%s\", not \"%s\"", si.why, reason);
}

/* The test's own radix-64 (RFC 4648) and armor (RFC 4880 section 6). */
static const char b64[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static void
put_b64(struct buf *o, const unsigned char *p, size_t n, size_t width)
{
	size_t col = 0;

	for (size_t i = 0; i < n; i += 3) {
		unsigned long v = (unsigned long)p[i] << 16;
		char q[4];

		if (i + 1 < n)
			v |= (unsigned long)p[i + 1] << 8;
		if (i + 2 < n)
			v |= p[i + 2];
		q[0] = b64[(v >> 18) & 63];
		q[1] = b64[(v >> 12) & 63];
		q[2] = i + 1 < n ? b64[(v >> 6) & 63] : '=';
		q[3] = i + 2 < n ? b64[v & 63] : '=';
		for (int k = 0; k < 4; k++) {
			assert_int_equal(buf_putc(o, q[k]), 0);
			if (width > 0 && ++col == width) {
				assert_int_equal(buf_putc(o, '\n'), 0);
				col = 0;
			}
		}
	}
	if (width > 0 && col != 0)
		assert_int_equal(buf_putc(o, '\n'), 0);
}

enum crc_mode { CRC_GOOD, CRC_NONE, CRC_WRONG };

static void
put_armor(struct buf *o, const unsigned char *p, size_t n, enum crc_mode crc)
{
	unsigned long c = keyblock_crc24(p, n);
	unsigned char cb[3];

	if (crc == CRC_WRONG)
		c ^= 0x000100;
	cb[0] = (unsigned char)(c >> 16);
	cb[1] = (unsigned char)(c >> 8);
	cb[2] = (unsigned char)c;
	assert_int_equal(buf_puts(o, BEGIN "\n"), 0);
	put_b64(o, p, n, 64);
	if (crc != CRC_NONE) {
		assert_int_equal(buf_putc(o, '='), 0);
		put_b64(o, cb, 3, 0);
		assert_int_equal(buf_putc(o, '\n'), 0);
	}
	assert_int_equal(buf_puts(o, END), 0);
}

/* The packets of an armor block (the test's vectors only). */
static size_t
dearmor(const char *a, unsigned char *out, size_t max)
{
	const char *p = strstr(a, "\n\n");
	unsigned long acc = 0;
	size_t n = 0;
	int bits = 0;

	assert_non_null(p);
	for (p += 2; *p != '\0' && *p != '='; p++) {
		const char *d = strchr(b64, *p);

		if (*p == '\n')
			continue;
		assert_non_null(d);
		acc = (acc << 6) | (unsigned long)(d - b64);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			assert_true(n < max);
			out[n++] = (unsigned char)(acc >> bits);
		}
	}
	return n;
}

/* A new-format packet (RFC 4880 section 4.2.2). */
static void
put_packet(struct buf *o, int tag, const void *body, size_t n)
{
	unsigned char h[6];
	size_t hl;

	h[0] = (unsigned char)(0xC0 | tag);
	if (n < 192) {
		h[1] = (unsigned char)n;
		hl = 2;
	} else if (n < 8384) {
		h[1] = (unsigned char)(((n - 192) >> 8) + 192);
		h[2] = (unsigned char)(n - 192);
		hl = 3;
	} else {
		h[1] = 255;
		h[2] = (unsigned char)(n >> 24);
		h[3] = (unsigned char)(n >> 16);
		h[4] = (unsigned char)(n >> 8);
		h[5] = (unsigned char)n;
		hl = 6;
	}
	assert_int_equal(buf_append(o, h, hl), 0);
	assert_int_equal(buf_append(o, body, n), 0);
}

/* Bytes that look like ciphertext (xorshift; deterministic). */
static void
noise(unsigned char *p, size_t n, unsigned long seed)
{
	unsigned long x = seed * 2654435761UL + 1;

	for (size_t i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		p[i] = (unsigned char)(x >> 11);
	}
}

static struct buf msg;

static const char *
inline_msg(const struct buf *armor)
{
	buf_free(&msg);
	buf_init(&msg, 32 << 20);
	assert_int_equal(buf_puts(&msg, "Subject: a\n\n"), 0);
	assert_int_equal(buf_append(&msg, armor->data, armor->len), 0);
	return buf_str(&msg);
}

/* the packets of p (n bytes) armored with a good CRC, inline */
static int
sealed_packets(const unsigned char *p, size_t n)
{
	struct buf a;
	int r;

	buf_init(&a, 32 << 20);
	put_armor(&a, p, n, CRC_GOOD);
	r = sealed(inline_msg(&a));
	buf_free(&a);
	return r;
}

#define PGPMIME_HDR                                                            \
	"Subject: a\nMIME-Version: 1.0\nContent-Type: multipart/encrypted;\n"  \
	" protocol=\"application/pgp-encrypted\"; boundary=\"b1\"\n\n"
#define P1 "--b1\nContent-Type: application/pgp-encrypted\n\nVersion: 1\n\n"
#define P2 "--b1\nContent-Type: application/octet-stream\n\n"
#define CLOSE "\n--b1--\n"

static void
real_inline(void **state)
{
	(void)state;
	assert_true(sealed("Subject: a\n\n\n" GPG_ARMOR "\n"));
	assert_true(sealed("Subject: a\n\n" RNP_ARMOR));
	assert_true(sealed("Subject: a\n\n" SQ_ARMOR));
	assert_true(sealed("Subject: a\n\n" GPG2_ARMOR));
	assert_true(sealed("Subject: a\n\n" GPG_SYM_ARMOR));
	assert_true(sealed("Subject: a\nContent-Type: text/plain; charset=us-ascii\n\n" GPG_ARMOR));
	/* CRLF; the armor headers old GnuPG and OpenPGP.js wrote are text in
	 * the clear: such a message is encrypted again, never passed */
	refused(sealed("Subject: a\r\n\r\n"
			   "-----BEGIN PGP MESSAGE-----\r\nVersion: GnuPG v2\r\n"
			   "Comment: https://openpgpjs.org\r\n\r\n"
			   "hF4Dv+XhIaStNy0SAQdABet8Wzghc6uTbuDdsWk/d0xgKhjNhsJdS/floZ9j7Gcw\r\n"
			   "z11v7yUTixcXS9XdF0M7I0iP8kyaVDsetJQfFqJHK1dhRkIfWvty21qZLtX/aCd0\r\n"
			   "0lYB1Qgia6P2JMh1Jy+Lciel1hePZwPzsTXbWr6Pwez61IjuQLw+QGpem3JI5dev\r\n"
			   "p3C1Rkxr6gIPKuQq18isrDV4MKAsaPgcJBmzU2GtwXt4xnjxalIlyg==\r\n"
			   "=ASFt\r\n-----END PGP MESSAGE-----\r\n"),
		"an armor header (its text would travel in the clear)");
	assert_true(sealed("Subject: a\r\n\r\n"
			   "-----BEGIN PGP MESSAGE-----\r\n\r\n"
			   "hF4Dv+XhIaStNy0SAQdABet8Wzghc6uTbuDdsWk/d0xgKhjNhsJdS/floZ9j7Gcw\r\n"
			   "z11v7yUTixcXS9XdF0M7I0iP8kyaVDsetJQfFqJHK1dhRkIfWvty21qZLtX/aCd0\r\n"
			   "0lYB1Qgia6P2JMh1Jy+Lciel1hePZwPzsTXbWr6Pwez61IjuQLw+QGpem3JI5dev\r\n"
			   "p3C1Rkxr6gIPKuQq18isrDV4MKAsaPgcJBmzU2GtwXt4xnjxalIlyg==\r\n"
			   "=ASFt\r\n-----END PGP MESSAGE-----\r\n"));
	/* no checksum line (RFC 9580 section 6.1 makes it optional) */
	{
		unsigned char p[1024];
		size_t n = dearmor(GPG_ARMOR, p, sizeof(p));
		struct buf a;

		buf_init(&a, 1 << 20);
		put_armor(&a, p, n, CRC_NONE);
		assert_true(sealed(inline_msg(&a)));
		buf_free(&a);
	}
}

static void
real_pgp_mime(void **state)
{
	(void)state;
	/* mutt */
	assert_true(sealed(PGPMIME_HDR
			   "--b1\nContent-Type: application/pgp-encrypted\n"
			   "Content-Disposition: attachment\n\nVersion: 1\n\n"
			   "--b1\nContent-Type: application/octet-stream\n"
			   "Content-Disposition: inline; filename=\"msg.asc\"\n\n" GPG_ARMOR
			   "\n--b1--\n"));
	/* Thunderbird, and postseal's own copies (compose.c) */
	assert_true(sealed(PGPMIME_HDR
			   "This is an OpenPGP/MIME encrypted message (RFC 4880 and 3156)\n"
			   "--b1\nContent-Type: application/pgp-encrypted\n"
			   "Content-Description: PGP/MIME version identification\n\n"
			   "Version: 1\n\n"
			   "--b1\nContent-Type: application/octet-stream; name=\"encrypted.asc\"\n"
			   "Content-Description: OpenPGP encrypted message\n"
			   "Content-Disposition: inline; filename=\"encrypted.asc\"\n\n" RNP_ARMOR
			   "\n--b1--\n\n"));
	/* the older Enigmail preamble, folded fields, CRLF */
	assert_true(sealed("Subject: a\r\nContent-Type: multipart/encrypted;\r\n"
			   " protocol=\"application/pgp-encrypted\";\r\n boundary=\"=-x=\"\r\n\r\n"
			   "This is an OpenPGP/MIME encrypted message (RFC 2440 and 3156)\r\n"
			   "--=-x=\r\nContent-Type: application/pgp-encrypted\r\n"
			   "Content-Description:\r\n PGP/MIME Versions Identification\r\n\r\n"
			   "Version: 1\r\n\r\n"
			   "--=-x=\r\nContent-Type: application/octet-stream;\r\n name=\"encrypted.asc\"\r\n"
			   "Content-Transfer-Encoding: 7bit\r\n\r\n"
			   "-----BEGIN PGP MESSAGE-----\r\n\r\n"
			   "wV4Dv+XhIaStNy0SAQdA5tsfsUI+YiKdE6xwPrJ3/AI2yIC1JBz5w5RRCXLDwR8w\r\n"
			   "t6eb/jl8juT1w80kAZAhSYWFPRFXj8CXSd9Lerl4aefIE4geqju3VoQG8cRuetmu\r\n"
			   "0lMBZZlTqXpVeEpG8nE5+ZX2nqf5FTlOAj6tgVV7GvnxXdRL8CmAUT2lkrZ8CJ5L\r\n"
			   "Ml2HZNjIXjGAPuvJaI7xnzffCGgfGmlDHVGqeYrggwH15j1Dog==\r\n"
			   "=EDBg\r\n-----END PGP MESSAGE-----\r\n\r\n--=-x=--\r\n"));
	assert_true(sealed(PGPMIME_HDR P1 P2 SQ_ARMOR CLOSE));
	assert_true(sealed(PGPMIME_HDR P1 P2 GPG_SYM_ARMOR CLOSE "\n \n"));
}

/* Any line that starts with "=" was taken as the checksum, unread. */
static void
fake_crc(void **state)
{
	(void)state;
	/* garbage for a checksum line */
	refused(sealed("Subject: a\n\n" BEGIN "\n"
		       "hF4Dv+XhIaStNy0SAQdABet8Wzghc6uTbuDdsWk/d0xgKhjNhsJdS/floZ9j7Gcw\n"
		       "z11v7yUTixcXS9XdF0M7I0iP8kyaVDsetJQfFqJHK1dhRkIfWvty21qZLtX/aCd0\n"
		       "0lYB1Qgia6P2JMh1Jy+Lciel1hePZwPzsTXbWr6Pwez61IjuQLw+QGpem3JI5dev\n"
		       "p3C1Rkxr6gIPKuQq18isrDV4MKAsaPgcJBmzU2GtwXt4xnjxalIlyg==\n"
		       "= " CANARY "\n" END),
		"a line starting with \"=\" that is not the armor checksum");
	/* a wrong checksum */
	refused(sealed("Subject: a\n\n" BEGIN "\n"
		       "hF4Dv+XhIaStNy0SAQdABet8Wzghc6uTbuDdsWk/d0xgKhjNhsJdS/floZ9j7Gcw\n"
		       "z11v7yUTixcXS9XdF0M7I0iP8kyaVDsetJQfFqJHK1dhRkIfWvty21qZLtX/aCd0\n"
		       "0lYB1Qgia6P2JMh1Jy+Lciel1hePZwPzsTXbWr6Pwez61IjuQLw+QGpem3JI5dev\n"
		       "p3C1Rkxr6gIPKuQq18isrDV4MKAsaPgcJBmzU2GtwXt4xnjxalIlyg==\n"
		       "=ASFu\n" END),
		"the armor checksum does not match the data");
	/* "=" lines in the middle of the data */
	refused(sealed("Subject: a\n\n" BEGIN "\n"
		       "hF4Dv+XhIaStNy0SAQdABet8Wzghc6uTbuDdsWk/d0xgKhjNhsJdS/floZ9j7Gcw\n"
		       "=" CANARY "\n"
		       "z11v7yUTixcXS9XdF0M7I0iP8kyaVDsetJQfFqJHK1dhRkIfWvty21qZLtX/aCd0\n"
		       "0lYB1Qgia6P2JMh1Jy+Lciel1hePZwPzsTXbWr6Pwez61IjuQLw+QGpem3JI5dev\n"
		       "p3C1Rkxr6gIPKuQq18isrDV4MKAsaPgcJBmzU2GtwXt4xnjxalIlyg==\n"
		       GPG_CRC END),
		"a line starting with \"=\" that is not the armor checksum");
	/* a checksum of five characters, two checksum lines */
	refused(sealed("Subject: a\n\n" BEGIN "\n"
		       "hF4Dv+XhIaStNy0SAQdABet8Wzghc6uTbuDdsWk/d0xgKhjNhsJdS/floZ9j7Gcw\n"
		       "z11v7yUTixcXS9XdF0M7I0iP8kyaVDsetJQfFqJHK1dhRkIfWvty21qZLtX/aCd0\n"
		       "0lYB1Qgia6P2JMh1Jy+Lciel1hePZwPzsTXbWr6Pwez61IjuQLw+QGpem3JI5dev\n"
		       "p3C1Rkxr6gIPKuQq18isrDV4MKAsaPgcJBmzU2GtwXt4xnjxalIlyg==\n"
		       "=ASFtA\n" END),
		"a line starting with \"=\" that is not the armor checksum");
	refused(sealed("Subject: a\n\n" BEGIN "\n"
		       "hF4Dv+XhIaStNy0SAQdABet8Wzghc6uTbuDdsWk/d0xgKhjNhsJdS/floZ9j7Gcw\n"
		       "z11v7yUTixcXS9XdF0M7I0iP8kyaVDsetJQfFqJHK1dhRkIfWvty21qZLtX/aCd0\n"
		       "0lYB1Qgia6P2JMh1Jy+Lciel1hePZwPzsTXbWr6Pwez61IjuQLw+QGpem3JI5dev\n"
		       "p3C1Rkxr6gIPKuQq18isrDV4MKAsaPgcJBmzU2GtwXt4xnjxalIlyg==\n"
		       GPG_CRC GPG_CRC END),
		"text between the armor checksum and its END line");
	/* the right checksum over packets built by hand is not enough: see
	 * the packet tests; a wrong one over good packets is refused */
	{
		unsigned char p[1024];
		size_t n = dearmor(GPG_ARMOR, p, sizeof(p));
		struct buf a;

		buf_init(&a, 1 << 20);
		put_armor(&a, p, n, CRC_WRONG);
		refused(sealed(inline_msg(&a)),
		"the armor checksum does not match the data");
		buf_free(&a);
	}
}

/* Radix-64 of plaintext behind "hF4D", the start of a PKESK header. */
static void
fake_hf4d(void **state)
{
	unsigned char p[512];
	size_t n = 0;

	(void)state;
	/* words that happen to be radix-64, behind a PKESK-looking start */
	refused(sealed("Subject: a\n\n" BEGIN "\n"
		       "hF4DMybankPINis1234themergerclosesonFridayatnoonandthepriceis401\n"
		       "dollarsashareDontTellAnyoneAboutItPleaseThankYouVeryMuchIndeedOK\n" END),
		"session key packets without encrypted data");
	refused(sealed("Subject: a\n\n" BEGIN "\n" "hF4D\n" END),
		"a truncated packet");
	/* 0x84 0x5E 0x03: an old-format PKESK header of 94 octets and
	 * version 3, then plaintext, with a correct checksum */
	p[n++] = 0x84;
	p[n++] = 0x5E;
	p[n++] = 0x03;
	for (int k = 0; k < 4; k++) {
		memcpy(p + n, CANARY, sizeof(CANARY) - 1);
		n += sizeof(CANARY) - 1;
	}
	refused(sealed_packets(p, n),
		"octets that are not an OpenPGP packet");
}

/* A PKESK that names alice's subkey, v3 (RFC 4880 5.1). */
static size_t
pkesk_v3(unsigned char *p, unsigned long seed)
{
	static const unsigned char id[8] = {0xBF, 0xE5, 0xE1, 0x21, 0xA4, 0xAD, 0x37, 0x2D};

	p[0] = 3;
	memcpy(p + 1, id, 8);
	p[9] = 18; /* ECDH */
	noise(p + 10, 84, seed);
	return 94;
}

/* An SEIPD packet body (version 1) of n octets. */
static void
seipd(unsigned char *p, size_t n, unsigned long seed)
{
	p[0] = 1;
	noise(p + 1, n - 1, seed);
}

static void
fake_packets(void **state)
{
	unsigned char real[1024], esk[128], body[4096];
	size_t nreal = dearmor(GPG_ARMOR, real, sizeof(real));
	struct buf b;

	(void)state;
	buf_init(&b, 1 << 20);
	/* the real message as built here passes: the tests below differ
	 * from it in one thing each */
	assert_true(sealed_packets(real, nreal));
	buf_reset(&b);
	put_packet(&b, 1, esk, pkesk_v3(esk, 1));
	seipd(body, 200, 2);
	put_packet(&b, 18, body, 200);
	assert_true(sealed_packets((unsigned char *)b.data, b.len));

	/* trailing packets: a literal data packet after the real message */
	buf_reset(&b);
	assert_int_equal(buf_append(&b, real, nreal), 0);
	put_packet(&b, 11, "b\0\0\0\0\0" CANARY, 6 + sizeof(CANARY) - 1);
	refused(sealed_packets((unsigned char *)b.data, b.len),
		"octets after the encrypted data packet");
	/* a second encrypted data packet */
	buf_reset(&b);
	assert_int_equal(buf_append(&b, real, nreal), 0);
	seipd(body, 100, 3);
	put_packet(&b, 18, body, 100);
	refused(sealed_packets((unsigned char *)b.data, b.len),
		"octets after the encrypted data packet");
	/* trailing octets that are no packet */
	buf_reset(&b);
	assert_int_equal(buf_append(&b, real, nreal), 0);
	assert_int_equal(buf_puts(&b, CANARY), 0);
	refused(sealed_packets((unsigned char *)b.data, b.len),
		"octets after the encrypted data packet");

	/* a literal data packet right after a PKESK */
	buf_reset(&b);
	put_packet(&b, 1, esk, pkesk_v3(esk, 1));
	put_packet(&b, 11, "b\0\0\0\0\0" CANARY, 6 + sizeof(CANARY) - 1);
	refused(sealed_packets((unsigned char *)b.data, b.len),
		"packet type 11, which is not part of an encrypted message");
	/* compressed data after a PKESK */
	buf_reset(&b);
	put_packet(&b, 1, esk, pkesk_v3(esk, 1));
	noise(body, 100, 4);
	body[0] = 1; /* ZIP */
	put_packet(&b, 8, body, 100);
	refused(sealed_packets((unsigned char *)b.data, b.len),
		"packet type 8, which is not part of an encrypted message");
	/* no session key packet at all, and no data packet at all */
	buf_reset(&b);
	seipd(body, 200, 5);
	put_packet(&b, 18, body, 200);
	refused(sealed_packets((unsigned char *)b.data, b.len),
		"encrypted data without a session key packet");
	buf_reset(&b);
	put_packet(&b, 1, esk, pkesk_v3(esk, 1));
	refused(sealed_packets((unsigned char *)b.data, b.len),
		"session key packets without encrypted data");
	/* the plaintext inside an "encrypted" data packet */
	buf_reset(&b);
	put_packet(&b, 1, esk, pkesk_v3(esk, 1));
	body[0] = 1;
	for (int k = 0; k < 4; k++)
		memcpy(body + 1 + k * (sizeof(CANARY) - 1), CANARY, sizeof(CANARY) - 1);
	put_packet(&b, 18, body, 1 + 4 * (sizeof(CANARY) - 1));
	refused(sealed_packets((unsigned char *)b.data, b.len),
		"the encrypted data looks like text");
	/* the real message cut short */
	refused(sealed_packets(real, nreal - 1),
		"a truncated packet");
	buf_free(&b);
}

static void
fake_preamble(void **state)
{
	(void)state;
	refused(sealed(PGPMIME_HDR CANARY "\n" P1 P2 GPG_ARMOR CLOSE),
		"text in the preamble other than the standard one");
	refused(sealed(PGPMIME_HDR
		       "This is an OpenPGP/MIME encrypted message (RFC 4880 and 3156)\n"
		       "\nP.S. " CANARY "\n" P1 P2 GPG_ARMOR CLOSE),
		"text in the preamble other than the standard one");
	refused(sealed(PGPMIME_HDR "This is an OpenPGP/MIME encrypted message: "
		       "1234\n" P1 P2 GPG_ARMOR CLOSE),
		"text in the preamble other than the standard one");
}

static void
fake_part_headers(void **state)
{
	(void)state;
	/* free text in a description, a field of our own, a parameter */
	refused(sealed(PGPMIME_HDR
		       "--b1\nContent-Type: application/pgp-encrypted\n"
		       "Content-Description: " CANARY "\n\nVersion: 1\n\n" P2 GPG_ARMOR CLOSE),
		"a part header field with a value other than RFC 3156's");
	refused(sealed(PGPMIME_HDR P1
		       "--b1\nContent-Type: application/octet-stream\n"
		       "X-Note: " CANARY "\n\n" GPG_ARMOR CLOSE),
		"a part header field that RFC 3156 does not use");
	refused(sealed(PGPMIME_HDR P1
		       "--b1\nContent-Type: application/octet-stream;\n"
		       " name=\"My bank PIN is 1234.asc\"\n\n" GPG_ARMOR CLOSE),
		"a part header field with a value other than RFC 3156's");
	refused(sealed(PGPMIME_HDR P1
		       "--b1\nContent-Type: application/octet-stream\n"
		       "Content-Disposition: attachment; filename=\"PIN-1234.asc\"\n\n"
		       GPG_ARMOR CLOSE),
		"a part header field with a value other than RFC 3156's");
	/* a continuation line carries the text */
	refused(sealed(PGPMIME_HDR P1
		       "--b1\nContent-Type: application/octet-stream\n"
		       "Content-Description: OpenPGP encrypted message\n"
		       " " CANARY "\n\n" GPG_ARMOR CLOSE),
		"a part header field with a value other than RFC 3156's");
	/* an encoding the receiver would undo */
	refused(sealed(PGPMIME_HDR P1
		       "--b1\nContent-Type: application/octet-stream\n"
		       "Content-Transfer-Encoding: quoted-printable\n\n" GPG_ARMOR CLOSE),
		"a part header field with a value other than RFC 3156's");
	/* the wrong type for either part */
	refused(sealed(PGPMIME_HDR "--b1\nContent-Type: text/plain\n\nVersion: 1\n\n" P2
		       GPG_ARMOR CLOSE),
		"a part header field with a value other than RFC 3156's");
	refused(sealed(PGPMIME_HDR P1 "--b1\nContent-Type: text/plain\n\n" GPG_ARMOR
		       CLOSE),
		"a part header field with a value other than RFC 3156's");
	/* no Content-Type, a field twice */
	refused(sealed(PGPMIME_HDR P1 "--b1\n\n" GPG_ARMOR CLOSE),
		"a part without Content-Type");
	refused(sealed(PGPMIME_HDR P1
		       "--b1\nContent-Type: application/octet-stream\n"
		       "Content-Type: application/octet-stream\n\n" GPG_ARMOR CLOSE),
		"a part header field twice");
	/* and in the armor headers */
	refused(sealed("Subject: a\n\n" BEGIN "Secret: " CANARY "\n\n"
		       "hF4Dv+XhIaStNy0SAQdABet8Wzghc6uTbuDdsWk/d0xgKhjNhsJdS/floZ9j7Gcw\n"
		       "z11v7yUTixcXS9XdF0M7I0iP8kyaVDsetJQfFqJHK1dhRkIfWvty21qZLtX/aCd0\n"
		       "0lYB1Qgia6P2JMh1Jy+Lciel1hePZwPzsTXbWr6Pwez61IjuQLw+QGpem3JI5dev\n"
		       "p3C1Rkxr6gIPKuQq18isrDV4MKAsaPgcJBmzU2GtwXt4xnjxalIlyg==\n"
		       GPG_CRC END),
		"an armor header (its text would travel in the clear)");
}

static void
fake_epilogue(void **state)
{
	(void)state;
	refused(sealed(PGPMIME_HDR P1 P2 GPG_ARMOR CLOSE "\n" CANARY "\n"),
		"text after the closing delimiter");
	refused(sealed(PGPMIME_HDR P1 P2 GPG_ARMOR CLOSE "--b1--\n"),
		"text after the closing delimiter");
}

/* What the old checks already refused. */
static void
fake_other(void **state)
{
	(void)state;
	/* plaintext before, after, or inside the armor */
	refused(sealed("Subject: a\n\nsecret plans\n" GPG_ARMOR),
		"text before the armored block");
	refused(sealed("Subject: a\n\n" GPG_ARMOR "P.S. secret\n"),
		"text after the armored block");
	refused(sealed("Subject: a\n\n" BEGIN CANARY "\n" END),
		"an armor header (its text would travel in the clear)");
	refused(sealed("Subject: a\n\n" BEGIN "\n" CANARY "\n" END),
		"a character that is not radix-64 in the armor");
	/* two messages */
	refused(sealed("Subject: a\n\n" GPG_ARMOR GPG_ARMOR),
		"text after the armored block");
	/* a signed message is not encrypted */
	refused(sealed("Subject: a\n\n-----BEGIN PGP SIGNED MESSAGE-----\n"),
		"text before the armored block");
	/* inline armor inside an HTML part is not inline PGP */
	refused(sealed("Content-Type: text/html\n\n" GPG_ARMOR),
		"a Content-Type other than text/plain or multipart/encrypted");
	refused(sealed("Subject: a\n\n"),
		"no body");
	/* an encoding the receiver would undo */
	refused(sealed("Subject: a\nContent-Transfer-Encoding: quoted-printable\n\n" GPG_ARMOR),
		"a Content-Transfer-Encoding other than 7bit or 8bit");
	/* the header says PGP/MIME, the second part is plaintext */
	refused(sealed(PGPMIME_HDR P1 "--b1\nContent-Type: application/octet-stream\n\n"
		       CANARY CLOSE),
		"text before the armored block");
	/* a third part */
	refused(sealed(PGPMIME_HDR P1 P2 GPG_ARMOR
		       "--b1\nContent-Type: text/plain\n\nclear\n--b1--\n"),
		"a third part");
	/* plaintext in the version part */
	refused(sealed(PGPMIME_HDR
		       "--b1\nContent-Type: application/pgp-encrypted\n\nsecret\n\n" P2
		       GPG_ARMOR CLOSE),
		"the first part is not \"Version: 1\"");
	/* unterminated */
	refused(sealed(PGPMIME_HDR P1 P2 GPG_ARMOR),
		"no closing delimiter after two parts");
	/* S/MIME-ish protocol: not ours */
	refused(sealed("Content-Type: multipart/encrypted; protocol=\"application/x\";"
		       " boundary=b1\n\n--b1\n\nVersion: 1\n--b1\n\n" GPG_ARMOR "--b1--\n"),
		"multipart/encrypted, but not with OpenPGP");
}

/* Whether the message claims to be encrypted: only then does a refusal
 * earn the -v and syslog line "looks encrypted, but ...". An ordinary
 * message must not get it. */
static void
claims(void **state)
{
	(void)state;
	refused(sealed("Subject: a\n\nhello\n"), "text before the armored block");
	assert_false(si.claimed);
	refused(sealed("Subject: a\n\nsecret plans\n" GPG_ARMOR), "text before the armored block");
	assert_false(si.claimed);
	refused(sealed("Subject: a\n\n" GPG_ARMOR "P.S. secret\n"), "text after the armored block");
	assert_true(si.claimed);
	refused(sealed("Subject: a\n\n" BEGIN CANARY "\n" END),
		"an armor header (its text would travel in the clear)");
	assert_true(si.claimed);
	refused(sealed(PGPMIME_HDR P1 P2 GPG_ARMOR CLOSE "--b1--\n"),
		"text after the closing delimiter");
	assert_true(si.claimed);
}

/* The key IDs of the PKESKs, for the policy. */
static void
key_ids(void **state)
{
	(void)state;
	assert_true(sealed("Subject: a\n\n" GPG2_ARMOR));
	assert_int_equal(si.kind, SEALED_INLINE);
	assert_int_equal(si.npkesk, 2);
	assert_int_equal(si.nskesk, 0);
	assert_true(sealed_names_key(&si, "BFE5E121A4AD372D", NULL));
	assert_true(sealed_names_key(&si, "b04c69179746cc3d", "0123"));
	assert_false(sealed_names_key(&si, "FF69090DCF50A0D9", NULL)); /* dave */
	assert_false(sealed_names_key(&si, "BFE5E121A4AD37", NULL));
	assert_false(sealed_names_key(&si, NULL, NULL));
	assert_true(sealed(PGPMIME_HDR P1 P2 RNP_ARMOR CLOSE));
	assert_int_equal(si.kind, SEALED_PGP_MIME);
	assert_int_equal(si.npkesk, 1);
	assert_true(sealed_names_key(&si, "BFE5E121A4AD372D", NULL));
	/* a password only: no key is named */
	assert_true(sealed("Subject: a\n\n" GPG_SYM_ARMOR));
	assert_int_equal(si.npkesk, 0);
	assert_int_equal(si.nskesk, 1);
	assert_false(sealed_names_key(&si, "BFE5E121A4AD372D", NULL));
}

/* The key postseal would encrypt to, as GPGME lists it: the primary key
 * (sign only) and two subkeys, one of them expired. */
static void
gpgme_keys(void **state)
{
	struct _gpgme_subkey primary, sub, old;
	struct _gpgme_key key;

	(void)state;
	memset(&primary, 0, sizeof(primary));
	memset(&sub, 0, sizeof(sub));
	memset(&old, 0, sizeof(old));
	memset(&key, 0, sizeof(key));
	primary.keyid = (char *)"0F586679F67AF079";
	primary.fpr = (char *)"2FE01D10B4A6AEA5F5BC478A0F586679F67AF079";
	primary.can_sign = 1;
	primary.next = &old;
	old.keyid = (char *)"B04C69179746CC3D";
	old.can_encrypt = 1;
	old.expired = 1;
	old.next = &sub;
	sub.keyid = (char *)"BFE5E121A4AD372D";
	sub.can_encrypt = 1;
	key.subkeys = &primary;
	assert_true(sealed("Subject: a\n\n" GPG2_ARMOR));
	assert_true(sealed_names_gpgme_key(&si, &key));
	/* the encryption subkey revoked: the expired one does not count */
	sub.revoked = 1;
	assert_false(sealed_names_gpgme_key(&si, &key));
	/* a primary key that can encrypt counts */
	sub.revoked = 0;
	sub.keyid = (char *)"FF69090DCF50A0D9";
	assert_false(sealed_names_gpgme_key(&si, &key));
	primary.keyid = (char *)"BFE5E121A4AD372D";
	assert_false(sealed_names_gpgme_key(&si, &key));
	primary.can_encrypt = 1;
	assert_true(sealed_names_gpgme_key(&si, &key));
	assert_false(sealed_names_gpgme_key(&si, NULL));
	/* a password names no key */
	assert_true(sealed("Subject: a\n\n" GPG_SYM_ARMOR));
	assert_false(sealed_names_gpgme_key(&si, &key));
}

/* RFC 9580 packets: v6 PKESK, SEIPD v2; GnuPG's AEAD packet; anonymous
 * recipients. */
static void
packets_v6(void **state)
{
	unsigned char esk[128], body[600];
	struct buf b;

	(void)state;
	buf_init(&b, 1 << 20);
	/* v6 PKESK naming a v6 key: the key ID is the fingerprint's start */
	esk[0] = 6;
	esk[1] = 33;
	esk[2] = 6;
	for (int i = 0; i < 32; i++)
		esk[3 + i] = (unsigned char)(0xA0 + i);
	esk[35] = 25; /* X25519 */
	noise(esk + 36, 48, 7);
	put_packet(&b, 1, esk, 84);
	/* v6 PKESK naming a v4 key: the key ID is the fingerprint's end */
	esk[1] = 21;
	esk[2] = 4;
	for (int i = 0; i < 20; i++)
		esk[3 + i] = (unsigned char)(0x10 + i);
	esk[23] = 18;
	noise(esk + 24, 48, 8);
	put_packet(&b, 1, esk, 72);
	/* v6 PKESK to an anonymous recipient */
	esk[1] = 0;
	esk[2] = 25;
	noise(esk + 3, 40, 9);
	put_packet(&b, 1, esk, 43);
	/* v3 PKESK with key ID 0 (gpg --throw-keyids) */
	pkesk_v3(esk, 10);
	memset(esk + 1, 0, 8);
	put_packet(&b, 1, esk, 94);
	/* SEIPD v2: version, cipher, AEAD mode, chunk size, salt, data */
	body[0] = 2;
	body[1] = 9;
	body[2] = 2;
	body[3] = 10;
	noise(body + 4, 96, 11);
	put_packet(&b, 18, body, 100);
	assert_true(sealed_packets((unsigned char *)b.data, b.len));
	assert_int_equal(si.npkesk, 4);
	assert_int_equal(si.pkesk[0].fprlen, 32);
	assert_int_equal(si.pkesk[1].fprlen, 20);
	assert_true(si.pkesk[2].anonymous);
	assert_true(si.pkesk[3].anonymous);
	assert_true(sealed_names_key(&si, "A0A1A2A3A4A5A6A7", NULL));
	assert_true(sealed_names_key(&si, "A0A1A2A3A4A5A6A7",
				     "A0A1A2A3A4A5A6A7A8A9AAABACADAEAFB0B1B2B3B4B5B6B7B8B9BABBBCBDBEBF"));
	/* the fingerprint decides when both are known */
	assert_false(sealed_names_key(&si, "A0A1A2A3A4A5A6A7",
				      "A0A1A2A3A4A5A6A7A8A9AAABACADAEAFB0B1B2B3B4B5B6B7B8B9BABBBCBDBE00"));
	assert_true(sealed_names_key(&si, "1C1D1E1F20212223", NULL));
	assert_true(sealed_names_key(&si, "1C1D1E1F20212223",
				     "101112131415161718191A1B1C1D1E1F20212223"));
	assert_false(sealed_names_key(&si, "0000000000000000", NULL));

	/* GnuPG's AEAD packet (tag 20) */
	buf_reset(&b);
	put_packet(&b, 1, esk, pkesk_v3(esk, 12));
	body[0] = 1;
	noise(body + 1, 99, 13);
	put_packet(&b, 20, body, 100);
	assert_true(sealed_packets((unsigned char *)b.data, b.len));
	/* tag 9, no integrity protection: refused (and so encrypted again) */
	buf_reset(&b);
	put_packet(&b, 1, esk, pkesk_v3(esk, 12));
	noise(body, 100, 14);
	put_packet(&b, 9, body, 100);
	refused(sealed_packets((unsigned char *)b.data, b.len), "packet type 9");
	/* unknown versions */
	buf_reset(&b);
	put_packet(&b, 1, esk, pkesk_v3(esk, 12));
	body[0] = 3;
	put_packet(&b, 18, body, 100);
	refused(sealed_packets((unsigned char *)b.data, b.len), "unknown version");
	buf_reset(&b);
	esk[0] = 5;
	put_packet(&b, 1, esk, 94);
	seipd(body, 100, 15);
	put_packet(&b, 18, body, 100);
	refused(sealed_packets((unsigned char *)b.data, b.len), "unknown version");
	/* too short to hold a session key, or an encrypted message */
	buf_reset(&b);
	put_packet(&b, 1, esk, pkesk_v3(esk, 12) - 84);
	seipd(body, 100, 15);
	put_packet(&b, 18, body, 100);
	refused(sealed_packets((unsigned char *)b.data, b.len), "too short");
	buf_reset(&b);
	put_packet(&b, 1, esk, pkesk_v3(esk, 12));
	seipd(body, 32, 16);
	put_packet(&b, 18, body, 32);
	refused(sealed_packets((unsigned char *)b.data, b.len), "too short");
	buf_free(&b);
}

/* Lengths: old format, partial lengths for the data packet only, caps. */
static void
packet_lengths(void **state)
{
	unsigned char esk[128], hdr[8];
	unsigned char *body = malloc(20000);
	struct buf b;

	(void)state;
	assert_non_null(body);
	buf_init(&b, 1 << 22);
	/* data in parts of 512 and 1024 octets, then the last 100 */
	put_packet(&b, 1, esk, pkesk_v3(esk, 20));
	seipd(body, 512 + 1024 + 100, 21);
	hdr[0] = 0xC0 | 18;
	hdr[1] = 0xE0 | 9; /* 512 */
	assert_int_equal(buf_append(&b, hdr, 2), 0);
	assert_int_equal(buf_append(&b, body, 512), 0);
	hdr[0] = 0xE0 | 10; /* 1024 */
	assert_int_equal(buf_append(&b, hdr, 1), 0);
	assert_int_equal(buf_append(&b, body + 512, 1024), 0);
	hdr[0] = 100;
	assert_int_equal(buf_append(&b, hdr, 1), 0);
	assert_int_equal(buf_append(&b, body + 1536, 100), 0);
	assert_true(sealed_packets((unsigned char *)b.data, b.len));
	/* the last part announced, not there */
	refused(sealed_packets((unsigned char *)b.data, b.len - 1), "truncated");
	/* a first part under 512 octets */
	buf_reset(&b);
	put_packet(&b, 1, esk, pkesk_v3(esk, 20));
	hdr[0] = 0xC0 | 18;
	hdr[1] = 0xE0 | 8; /* 256 */
	assert_int_equal(buf_append(&b, hdr, 2), 0);
	assert_int_equal(buf_append(&b, body, 256), 0);
	hdr[0] = 100;
	assert_int_equal(buf_append(&b, hdr, 1), 0);
	assert_int_equal(buf_append(&b, body, 100), 0);
	refused(sealed_packets((unsigned char *)b.data, b.len), "under 512");
	/* a session key packet of partial length */
	buf_reset(&b);
	hdr[0] = 0xC0 | 1;
	hdr[1] = 0xE0 | 9;
	assert_int_equal(buf_append(&b, hdr, 2), 0);
	pkesk_v3(esk, 20);
	assert_int_equal(buf_append(&b, esk, 94), 0);
	refused(sealed_packets((unsigned char *)b.data, b.len), "partial length");
	/* old format, 1, 2 and 4 octet lengths; indeterminate refused */
	buf_reset(&b);
	hdr[0] = 0x84; /* tag 1, one octet */
	hdr[1] = 94;
	assert_int_equal(buf_append(&b, hdr, 2), 0);
	assert_int_equal(buf_append(&b, esk, 94), 0);
	hdr[0] = 0x85; /* tag 1, two octets */
	hdr[1] = 0;
	hdr[2] = 94;
	assert_int_equal(buf_append(&b, hdr, 3), 0);
	assert_int_equal(buf_append(&b, esk, 94), 0);
	hdr[0] = 0x86; /* tag 1, four octets */
	hdr[1] = hdr[2] = hdr[3] = 0;
	hdr[4] = 94;
	assert_int_equal(buf_append(&b, hdr, 5), 0);
	assert_int_equal(buf_append(&b, esk, 94), 0);
	seipd(body, 10000, 22); /* a two-octet new-format length */
	put_packet(&b, 18, body, 10000);
	assert_true(sealed_packets((unsigned char *)b.data, b.len));
	assert_int_equal(si.npkesk, 3);
	buf_reset(&b);
	put_packet(&b, 1, esk, 94);
	hdr[0] = 0x87; /* tag 1, indeterminate */
	assert_int_equal(buf_append(&b, hdr, 1), 0);
	assert_int_equal(buf_append(&b, esk, 94), 0);
	refused(sealed_packets((unsigned char *)b.data, b.len), "indeterminate");
	/* a session key packet longer than any */
	buf_reset(&b);
	noise(body, PS_SEALED_ESK_LEN_MAX + 1, 23);
	body[0] = 3;
	put_packet(&b, 1, body, PS_SEALED_ESK_LEN_MAX + 1);
	refused(sealed_packets((unsigned char *)b.data, b.len), "too long");
	/* more session key packets than any message of ours has */
	buf_reset(&b);
	for (int i = 0; i <= PS_SEALED_ESK_MAX; i++)
		put_packet(&b, 1, esk, pkesk_v3(esk, 24));
	seipd(body, 100, 25);
	put_packet(&b, 18, body, 100);
	refused(sealed_packets((unsigned char *)b.data, b.len), "too many");
	buf_free(&b);
	free(body);
}

/* A big message is read in pieces, never whole. */
static void
big(void **state)
{
	size_t n = 5 * 1024 * 1024;
	unsigned char *body = malloc(n), esk[128];
	struct buf b;

	(void)state;
	assert_non_null(body);
	buf_init(&b, 16 << 20);
	put_packet(&b, 1, esk, pkesk_v3(esk, 30));
	seipd(body, n, 31);
	put_packet(&b, 18, body, n);
	assert_true(sealed_packets((unsigned char *)b.data, b.len));
	/* one character changed in the middle: the checksum catches it */
	{
		struct buf a;
		char *mid;

		buf_init(&a, 16 << 20);
		put_armor(&a, (unsigned char *)b.data, b.len, CRC_GOOD);
		mid = a.data + a.len / 2;
		if (*mid == '\n')
			mid++;
		*mid = *mid == 'A' ? 'B' : 'A';
		refused(sealed(inline_msg(&a)), "checksum does not match");
		buf_free(&a);
	}
	buf_free(&b);
	free(body);
}

static void
text_or_noise(void **state)
{
	unsigned char p[256];
	static const char cyrillic[] = "\xd0\x9f\xd0\xb8\xd0\xbd \xd0\xba\xd0\xbe\xd0\xb4 "
				       "\xd0\xb1\xd0\xb0\xd0\xbd\xd0\xba\xd0\xb0 1234, "
				       "\xd1\x81\xd0\xb4\xd0\xb5\xd0\xbb\xd0\xba\xd0\xb0 "
				       "\xd0\xb2 \xd0\xbf\xd1\x8f\xd1\x82\xd0\xbd\xd0\xb8\xd1\x86\xd1\x83.";

	(void)state;
	assert_true(pgpmsg_looks_like_text((const unsigned char *)CANARY, sizeof(CANARY) - 1));
	assert_true(pgpmsg_looks_like_text((const unsigned char *)cyrillic, sizeof(cyrillic) - 1));
	for (unsigned long seed = 1; seed < 200; seed++) {
		noise(p, sizeof(p), seed);
		assert_false(pgpmsg_looks_like_text(p, sizeof(p)));
		assert_false(pgpmsg_looks_like_text(p, 32));
	}
	assert_false(pgpmsg_looks_like_text(p, 0));
}

static void
armor_rules(void **state)
{
	unsigned char real[1024];
	size_t n = dearmor(GPG_ARMOR, real, sizeof(real));
	struct buf a;

	(void)state;
	/* CRC-24/OPENPGP check value, as in test_keyblock */
	assert_int_equal(armor_crc24(ARMOR_CRC24_INIT, (const unsigned char *)"123456789", 9),
			 0x21CF02);
	assert_int_equal(armor_crc24(armor_crc24(ARMOR_CRC24_INIT, (const unsigned char *)"1234", 4),
				     (const unsigned char *)"56789", 5),
			 0x21CF02);
	/* lines of 76 (rnp) pass, longer ones do not */
	buf_init(&a, 1 << 20);
	assert_int_equal(buf_puts(&a, BEGIN "\n"), 0);
	put_b64(&a, real, n, 76);
	assert_int_equal(buf_puts(&a, END), 0);
	assert_true(sealed(inline_msg(&a)));
	buf_reset(&a);
	assert_int_equal(buf_puts(&a, BEGIN "\n"), 0);
	put_b64(&a, real, n, 80);
	assert_int_equal(buf_puts(&a, END), 0);
	refused(sealed(inline_msg(&a)), "longer than 76");
	buf_free(&a);
	/* padding that is not canonical, or in the middle */
	refused(sealed("Subject: a\n\n" BEGIN "\n"
		       "hF4Dv+XhIaStNy0SAQdABet8Wzghc6uTbuDdsWk/d0xgKhjNhsJdS/floZ9j7Gcw\n"
		       "z11v7yUTixcXS9XdF0M7I0iP8kyaVDsetJQfFqJHK1dhRkIfWvty21qZLtX/aCd0\n"
		       "0lYB1Qgia6P2JMh1Jy+Lciel1hePZwPzsTXbWr6Pwez61IjuQLw+QGpem3JI5dev\n"
		       "p3C1Rkxr6gIPKuQq18isrDV4MKAsaPgcJBmzU2GtwXt4xnjxalIlyh==\n" END),
		"padding");
	refused(sealed("Subject: a\n\n" BEGIN "\n"
		       "hF4Dv+XhIaStNy0SAQdABet8Wzghc6uTbuDdsWk/d0xgKhjNhsJdS/floZ9j7Gc=\n"
		       "z11v7yUTixcXS9XdF0M7I0iP8kyaVDsetJQfFqJHK1dhRkIfWvty21qZLtX/aCd0\n" END),
		"after the padding");
	/* a blank line inside, no blank line after the header line */
	refused(sealed("Subject: a\n\n" BEGIN "\n"
		       "hF4Dv+XhIaStNy0SAQdABet8Wzghc6uTbuDdsWk/d0xgKhjNhsJdS/floZ9j7Gcw\n\n"
		       "z11v7yUTixcXS9XdF0M7I0iP8kyaVDsetJQfFqJHK1dhRkIfWvty21qZLtX/aCd0\n"
		       "0lYB1Qgia6P2JMh1Jy+Lciel1hePZwPzsTXbWr6Pwez61IjuQLw+QGpem3JI5dev\n"
		       "p3C1Rkxr6gIPKuQq18isrDV4MKAsaPgcJBmzU2GtwXt4xnjxalIlyg==\n" END),
		"blank line inside");
	refused(sealed("Subject: a\n\n" BEGIN
		       "hF4Dv+XhIaStNy0SAQdABet8Wzghc6uTbuDdsWk/d0xgKhjNhsJdS/floZ9j7Gcw\n"
		       "z11v7yUTixcXS9XdF0M7I0iP8kyaVDsetJQfFqJHK1dhRkIfWvty21qZLtX/aCd0\n"
		       "0lYB1Qgia6P2JMh1Jy+Lciel1hePZwPzsTXbWr6Pwez61IjuQLw+QGpem3JI5dev\n"
		       "p3C1Rkxr6gIPKuQq18isrDV4MKAsaPgcJBmzU2GtwXt4xnjxalIlyg==\n" END),
		"armor header");
	/* too many armor headers */
	refused(sealed("Subject: a\n\n" BEGIN "Version: 1\nVersion: 2\nComment: 3\nComment: 4\n"
		       "Comment: 5\n\n"
		       "hF4Dv+XhIaStNy0SAQdABet8Wzghc6uTbuDdsWk/d0xgKhjNhsJdS/floZ9j7Gcw\n"
		       "z11v7yUTixcXS9XdF0M7I0iP8kyaVDsetJQfFqJHK1dhRkIfWvty21qZLtX/aCd0\n"
		       "0lYB1Qgia6P2JMh1Jy+Lciel1hePZwPzsTXbWr6Pwez61IjuQLw+QGpem3JI5dev\n"
		       "p3C1Rkxr6gIPKuQq18isrDV4MKAsaPgcJBmzU2GtwXt4xnjxalIlyg==\n" END),
		"armor header");
	/* no END line */
	refused(sealed("Subject: a\n\n" BEGIN "\n"
		       "hF4Dv+XhIaStNy0SAQdABet8Wzghc6uTbuDdsWk/d0xgKhjNhsJdS/floZ9j7Gcw\n"),
		"no END line");
}

/* The MIME frame, beyond the fakes. */
static void
mime_rules(void **state)
{
	(void)state;
	/* a line that begins like the delimiter but is not one */
	refused(sealed(PGPMIME_HDR P1 P2 GPG_ARMOR "--b1x\n" CLOSE), "begins like the boundary");
	/* a boundary the armor's own lines begin with */
	refused(sealed("Subject: a\nContent-Type: multipart/encrypted;\n"
		       " protocol=\"application/pgp-encrypted\"; boundary=\"---BEGIN\"\n\n"
		       "-----BEGIN\nContent-Type: application/pgp-encrypted\n\nVersion: 1\n\n"
		       "-----BEGIN\nContent-Type: application/octet-stream\n\n" GPG_ARMOR
		       "\n-----BEGIN--\n"),
		"begins like the boundary");
	/* boundaries RFC 2046 does not allow */
	refused(sealed("Subject: a\nContent-Type: multipart/encrypted;\n"
		       " protocol=\"application/pgp-encrypted\"; boundary=\"b<1>\"\n\n"
		       "--b<1>\nContent-Type: application/pgp-encrypted\n\nVersion: 1\n\n"
		       "--b<1>\nContent-Type: application/octet-stream\n\n" GPG_ARMOR "\n--b<1>--\n"),
		"valid boundary");
	/* two Content-Type fields in the message header */
	refused(sealed("Subject: a\nContent-Type: text/plain\n" PGPMIME_HDR P1 P2 GPG_ARMOR CLOSE),
		"more than one Content-Type");
	/* "Version: 1" twice, or not at all */
	refused(sealed(PGPMIME_HDR
		       "--b1\nContent-Type: application/pgp-encrypted\n\nVersion: 1\nVersion: 1\n\n" P2
		       GPG_ARMOR CLOSE),
		"Version: 1");
	refused(sealed(PGPMIME_HDR "--b1\nContent-Type: application/pgp-encrypted\n\n\n" P2
		       GPG_ARMOR CLOSE),
		"Version: 1");
	/* a parameter the first part does not take; a second parameter */
	refused(sealed(PGPMIME_HDR
		       "--b1\nContent-Type: application/pgp-encrypted; name=\"msg.asc\"\n\n"
		       "Version: 1\n\n" P2 GPG_ARMOR CLOSE),
		"value other than");
	refused(sealed(PGPMIME_HDR P1
		       "--b1\nContent-Type: application/octet-stream; name=\"msg.asc\"; "
		       "name=\"msg.asc\"\n\n" GPG_ARMOR CLOSE),
		"value other than");
	/* a comment, an RFC 2231 parameter */
	refused(sealed(PGPMIME_HDR P1
		       "--b1\nContent-Type: application/octet-stream (secret)\n\n" GPG_ARMOR CLOSE),
		"value other than");
	refused(sealed(PGPMIME_HDR P1
		       "--b1\nContent-Type: application/octet-stream; name*=us-ascii''x.asc\n\n"
		       GPG_ARMOR CLOSE),
		"value other than");
	/* two armored messages, one in each part */
	refused(sealed(PGPMIME_HDR "--b1\nContent-Type: application/pgp-encrypted\n\n" GPG_ARMOR
		       "\n" P2 GPG_ARMOR CLOSE),
		"Version: 1");
	/* the armor must be the whole second part */
	refused(sealed(PGPMIME_HDR P1 P2 GPG_ARMOR "Version: 1\n" CLOSE), "after the armored");
	/* accepted: case, white space and parameters as clients write them */
	assert_true(sealed(PGPMIME_HDR
			   "--b1 \nCONTENT-TYPE: Application/PGP-Encrypted\n\nVersion: 1\n\n"
			   "--b1\ncontent-type: application/octet-stream;name=encrypted.asc\n"
			   "Content-Disposition: attachment;\n\tfilename=\"OpenPGP_encrypted.asc\"\n"
			   "Content-Transfer-Encoding: 7Bit\n\n" GPG_ARMOR "\n--b1--  \n"));
}

static int
teardown(void **state)
{
	(void)state;
	message_free(&m);
	message_init(&m);
	buf_free(&msg);
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(real_inline, teardown),
		cmocka_unit_test_teardown(real_pgp_mime, teardown),
		cmocka_unit_test_teardown(fake_crc, teardown),
		cmocka_unit_test_teardown(fake_hf4d, teardown),
		cmocka_unit_test_teardown(fake_packets, teardown),
		cmocka_unit_test_teardown(fake_preamble, teardown),
		cmocka_unit_test_teardown(fake_part_headers, teardown),
		cmocka_unit_test_teardown(fake_epilogue, teardown),
		cmocka_unit_test_teardown(fake_other, teardown),
		cmocka_unit_test_teardown(claims, teardown),
		cmocka_unit_test_teardown(key_ids, teardown),
		cmocka_unit_test_teardown(gpgme_keys, teardown),
		cmocka_unit_test_teardown(packets_v6, teardown),
		cmocka_unit_test_teardown(packet_lengths, teardown),
		cmocka_unit_test_teardown(big, teardown),
		cmocka_unit_test_teardown(text_or_noise, teardown),
		cmocka_unit_test_teardown(armor_rules, teardown),
		cmocka_unit_test_teardown(mime_rules, teardown),
	};

	message_init(&m);
	buf_init(&msg, 1);
	return cmocka_run_group_tests_name("sealed", tests, NULL, NULL);
}
