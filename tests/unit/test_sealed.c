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

#include "buf.h"
#include "harness.h"
#include "intake.h"
#include "keyblock.h"
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
	buf_init(&msg, 1 << 22);
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

	buf_init(&a, 1 << 22);
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
	/* CRLF, and the armor headers old GnuPG and OpenPGP.js wrote */
	assert_true(sealed("Subject: a\r\n\r\n"
			   "-----BEGIN PGP MESSAGE-----\r\nVersion: GnuPG v2\r\n"
			   "Comment: https://openpgpjs.org\r\n\r\n"
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
	assert_false(sealed("Subject: a\n\n" BEGIN "\n"
			    "hF4Dv+XhIaStNy0SAQdABet8Wzghc6uTbuDdsWk/d0xgKhjNhsJdS/floZ9j7Gcw\n"
			    "z11v7yUTixcXS9XdF0M7I0iP8kyaVDsetJQfFqJHK1dhRkIfWvty21qZLtX/aCd0\n"
			    "0lYB1Qgia6P2JMh1Jy+Lciel1hePZwPzsTXbWr6Pwez61IjuQLw+QGpem3JI5dev\n"
			    "p3C1Rkxr6gIPKuQq18isrDV4MKAsaPgcJBmzU2GtwXt4xnjxalIlyg==\n"
			    "= " CANARY "\n" END));
	/* a wrong checksum */
	assert_false(sealed("Subject: a\n\n" BEGIN "\n"
			    "hF4Dv+XhIaStNy0SAQdABet8Wzghc6uTbuDdsWk/d0xgKhjNhsJdS/floZ9j7Gcw\n"
			    "z11v7yUTixcXS9XdF0M7I0iP8kyaVDsetJQfFqJHK1dhRkIfWvty21qZLtX/aCd0\n"
			    "0lYB1Qgia6P2JMh1Jy+Lciel1hePZwPzsTXbWr6Pwez61IjuQLw+QGpem3JI5dev\n"
			    "p3C1Rkxr6gIPKuQq18isrDV4MKAsaPgcJBmzU2GtwXt4xnjxalIlyg==\n"
			    "=ASFu\n" END));
	/* "=" lines in the middle of the data */
	assert_false(sealed("Subject: a\n\n" BEGIN "\n"
			    "hF4Dv+XhIaStNy0SAQdABet8Wzghc6uTbuDdsWk/d0xgKhjNhsJdS/floZ9j7Gcw\n"
			    "=" CANARY "\n"
			    "z11v7yUTixcXS9XdF0M7I0iP8kyaVDsetJQfFqJHK1dhRkIfWvty21qZLtX/aCd0\n"
			    "0lYB1Qgia6P2JMh1Jy+Lciel1hePZwPzsTXbWr6Pwez61IjuQLw+QGpem3JI5dev\n"
			    "p3C1Rkxr6gIPKuQq18isrDV4MKAsaPgcJBmzU2GtwXt4xnjxalIlyg==\n"
			    GPG_CRC END));
	/* a checksum of five characters, two checksum lines */
	assert_false(sealed("Subject: a\n\n" BEGIN "\n"
			    "hF4Dv+XhIaStNy0SAQdABet8Wzghc6uTbuDdsWk/d0xgKhjNhsJdS/floZ9j7Gcw\n"
			    "z11v7yUTixcXS9XdF0M7I0iP8kyaVDsetJQfFqJHK1dhRkIfWvty21qZLtX/aCd0\n"
			    "0lYB1Qgia6P2JMh1Jy+Lciel1hePZwPzsTXbWr6Pwez61IjuQLw+QGpem3JI5dev\n"
			    "p3C1Rkxr6gIPKuQq18isrDV4MKAsaPgcJBmzU2GtwXt4xnjxalIlyg==\n"
			    "=ASFtA\n" END));
	assert_false(sealed("Subject: a\n\n" BEGIN "\n"
			    "hF4Dv+XhIaStNy0SAQdABet8Wzghc6uTbuDdsWk/d0xgKhjNhsJdS/floZ9j7Gcw\n"
			    "z11v7yUTixcXS9XdF0M7I0iP8kyaVDsetJQfFqJHK1dhRkIfWvty21qZLtX/aCd0\n"
			    "0lYB1Qgia6P2JMh1Jy+Lciel1hePZwPzsTXbWr6Pwez61IjuQLw+QGpem3JI5dev\n"
			    "p3C1Rkxr6gIPKuQq18isrDV4MKAsaPgcJBmzU2GtwXt4xnjxalIlyg==\n"
			    GPG_CRC GPG_CRC END));
	/* the right checksum over packets built by hand is not enough: see
	 * the packet tests; a wrong one over good packets is refused */
	{
		unsigned char p[1024];
		size_t n = dearmor(GPG_ARMOR, p, sizeof(p));
		struct buf a;

		buf_init(&a, 1 << 20);
		put_armor(&a, p, n, CRC_WRONG);
		assert_false(sealed(inline_msg(&a)));
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
	assert_false(sealed("Subject: a\n\n" BEGIN "\n" "hF4DMybankPINis1234themergerclosesonFridayatnoonandthepriceis40\n"
			    "dollarsashareDontTellAnyoneAboutItPleaseThankYouVeryMuchIndeed\n" END));
	assert_false(sealed("Subject: a\n\n" BEGIN "\n" "hF4D\n" END));
	/* 0x84 0x5E 0x03: an old-format PKESK header of 94 octets and
	 * version 3, then plaintext, with a correct checksum */
	p[n++] = 0x84;
	p[n++] = 0x5E;
	p[n++] = 0x03;
	for (int k = 0; k < 4; k++) {
		memcpy(p + n, CANARY, sizeof(CANARY) - 1);
		n += sizeof(CANARY) - 1;
	}
	assert_false(sealed_packets(p, n));
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
	assert_false(sealed_packets((unsigned char *)b.data, b.len));
	/* a second encrypted data packet */
	buf_reset(&b);
	assert_int_equal(buf_append(&b, real, nreal), 0);
	seipd(body, 100, 3);
	put_packet(&b, 18, body, 100);
	assert_false(sealed_packets((unsigned char *)b.data, b.len));
	/* trailing octets that are no packet */
	buf_reset(&b);
	assert_int_equal(buf_append(&b, real, nreal), 0);
	assert_int_equal(buf_puts(&b, CANARY), 0);
	assert_false(sealed_packets((unsigned char *)b.data, b.len));

	/* a literal data packet right after a PKESK */
	buf_reset(&b);
	put_packet(&b, 1, esk, pkesk_v3(esk, 1));
	put_packet(&b, 11, "b\0\0\0\0\0" CANARY, 6 + sizeof(CANARY) - 1);
	assert_false(sealed_packets((unsigned char *)b.data, b.len));
	/* compressed data after a PKESK */
	buf_reset(&b);
	put_packet(&b, 1, esk, pkesk_v3(esk, 1));
	noise(body, 100, 4);
	body[0] = 1; /* ZIP */
	put_packet(&b, 8, body, 100);
	assert_false(sealed_packets((unsigned char *)b.data, b.len));
	/* no session key packet at all, and no data packet at all */
	buf_reset(&b);
	seipd(body, 200, 5);
	put_packet(&b, 18, body, 200);
	assert_false(sealed_packets((unsigned char *)b.data, b.len));
	buf_reset(&b);
	put_packet(&b, 1, esk, pkesk_v3(esk, 1));
	assert_false(sealed_packets((unsigned char *)b.data, b.len));
	/* the plaintext inside an "encrypted" data packet */
	buf_reset(&b);
	put_packet(&b, 1, esk, pkesk_v3(esk, 1));
	body[0] = 1;
	for (int k = 0; k < 4; k++)
		memcpy(body + 1 + k * (sizeof(CANARY) - 1), CANARY, sizeof(CANARY) - 1);
	put_packet(&b, 18, body, 1 + 4 * (sizeof(CANARY) - 1));
	assert_false(sealed_packets((unsigned char *)b.data, b.len));
	/* the real message cut short */
	assert_false(sealed_packets(real, nreal - 1));
	buf_free(&b);
}

static void
fake_preamble(void **state)
{
	(void)state;
	assert_false(sealed(PGPMIME_HDR CANARY "\n" P1 P2 GPG_ARMOR CLOSE));
	assert_false(sealed(PGPMIME_HDR
			    "This is an OpenPGP/MIME encrypted message (RFC 4880 and 3156)\n"
			    "\nP.S. " CANARY "\n" P1 P2 GPG_ARMOR CLOSE));
	assert_false(sealed(PGPMIME_HDR "This is an OpenPGP/MIME encrypted message: "
			    "1234\n" P1 P2 GPG_ARMOR CLOSE));
}

static void
fake_part_headers(void **state)
{
	(void)state;
	/* free text in a description, a field of our own, a parameter */
	assert_false(sealed(PGPMIME_HDR
			    "--b1\nContent-Type: application/pgp-encrypted\n"
			    "Content-Description: " CANARY "\n\nVersion: 1\n\n" P2 GPG_ARMOR CLOSE));
	assert_false(sealed(PGPMIME_HDR P1
			    "--b1\nContent-Type: application/octet-stream\n"
			    "X-Note: " CANARY "\n\n" GPG_ARMOR CLOSE));
	assert_false(sealed(PGPMIME_HDR P1
			    "--b1\nContent-Type: application/octet-stream;\n"
			    " name=\"My bank PIN is 1234.asc\"\n\n" GPG_ARMOR CLOSE));
	assert_false(sealed(PGPMIME_HDR P1
			    "--b1\nContent-Type: application/octet-stream\n"
			    "Content-Disposition: attachment; filename=\"PIN-1234.asc\"\n\n"
			    GPG_ARMOR CLOSE));
	/* a continuation line carries the text */
	assert_false(sealed(PGPMIME_HDR P1
			    "--b1\nContent-Type: application/octet-stream\n"
			    "Content-Description: OpenPGP encrypted message\n"
			    " " CANARY "\n\n" GPG_ARMOR CLOSE));
	/* an encoding the receiver would undo */
	assert_false(sealed(PGPMIME_HDR P1
			    "--b1\nContent-Type: application/octet-stream\n"
			    "Content-Transfer-Encoding: quoted-printable\n\n" GPG_ARMOR CLOSE));
	/* the wrong type for either part */
	assert_false(sealed(PGPMIME_HDR "--b1\nContent-Type: text/plain\n\nVersion: 1\n\n" P2
			    GPG_ARMOR CLOSE));
	assert_false(sealed(PGPMIME_HDR P1 "--b1\nContent-Type: text/plain\n\n" GPG_ARMOR
			    CLOSE));
	/* no Content-Type, a field twice */
	assert_false(sealed(PGPMIME_HDR P1 "--b1\n\n" GPG_ARMOR CLOSE));
	assert_false(sealed(PGPMIME_HDR P1
			    "--b1\nContent-Type: application/octet-stream\n"
			    "Content-Type: application/octet-stream\n\n" GPG_ARMOR CLOSE));
	/* and in the armor headers */
	assert_false(sealed("Subject: a\n\n" BEGIN "Secret: " CANARY "\n\n"
			    "hF4Dv+XhIaStNy0SAQdABet8Wzghc6uTbuDdsWk/d0xgKhjNhsJdS/floZ9j7Gcw\n"
			    "z11v7yUTixcXS9XdF0M7I0iP8kyaVDsetJQfFqJHK1dhRkIfWvty21qZLtX/aCd0\n"
			    "0lYB1Qgia6P2JMh1Jy+Lciel1hePZwPzsTXbWr6Pwez61IjuQLw+QGpem3JI5dev\n"
			    "p3C1Rkxr6gIPKuQq18isrDV4MKAsaPgcJBmzU2GtwXt4xnjxalIlyg==\n"
			    GPG_CRC END));
}

static void
fake_epilogue(void **state)
{
	(void)state;
	assert_false(sealed(PGPMIME_HDR P1 P2 GPG_ARMOR CLOSE "\n" CANARY "\n"));
	assert_false(sealed(PGPMIME_HDR P1 P2 GPG_ARMOR CLOSE "--b1--\n"));
}

/* What the old checks already refused. */
static void
fake_other(void **state)
{
	(void)state;
	/* plaintext before, after, or inside the armor */
	assert_false(sealed("Subject: a\n\nsecret plans\n" GPG_ARMOR));
	assert_false(sealed("Subject: a\n\n" GPG_ARMOR "P.S. secret\n"));
	assert_false(sealed("Subject: a\n\n" BEGIN CANARY "\n" END));
	assert_false(sealed("Subject: a\n\n" BEGIN "\n" CANARY "\n" END));
	/* two messages */
	assert_false(sealed("Subject: a\n\n" GPG_ARMOR GPG_ARMOR));
	/* a signed message is not encrypted */
	assert_false(sealed("Subject: a\n\n-----BEGIN PGP SIGNED MESSAGE-----\n"));
	/* inline armor inside an HTML part is not inline PGP */
	assert_false(sealed("Content-Type: text/html\n\n" GPG_ARMOR));
	assert_false(sealed("Subject: a\n\n"));
	/* an encoding the receiver would undo */
	assert_false(sealed("Subject: a\nContent-Transfer-Encoding: quoted-printable\n\n" GPG_ARMOR));
	/* the header says PGP/MIME, the second part is plaintext */
	assert_false(sealed(PGPMIME_HDR P1 "--b1\nContent-Type: application/octet-stream\n\n"
			    CANARY CLOSE));
	/* a third part */
	assert_false(sealed(PGPMIME_HDR P1 P2 GPG_ARMOR
			    "--b1\nContent-Type: text/plain\n\nclear\n--b1--\n"));
	/* plaintext in the version part */
	assert_false(sealed(PGPMIME_HDR
			    "--b1\nContent-Type: application/pgp-encrypted\n\nsecret\n\n" P2
			    GPG_ARMOR CLOSE));
	/* unterminated */
	assert_false(sealed(PGPMIME_HDR P1 P2 GPG_ARMOR));
	/* S/MIME-ish protocol: not ours */
	assert_false(sealed("Content-Type: multipart/encrypted; protocol=\"application/x\";"
			    " boundary=b1\n\n--b1\n\nVersion: 1\n--b1\n\n" GPG_ARMOR "--b1--\n"));
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
	};

	message_init(&m);
	buf_init(&msg, 1);
	return cmocka_run_group_tests_name("sealed", tests, NULL, NULL);
}
