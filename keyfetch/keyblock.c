#include "config.h"

#include <stdio.h>
#include <string.h>

#include <nettle/sha1.h>

#include "keyblock.h"

#define CRC24_INIT 0xB704CEUL
#define CRC24_POLY 0x1864CFBUL

unsigned long
keyblock_crc24(const unsigned char *p, size_t n)
{
	unsigned long crc = CRC24_INIT;

	while (n-- > 0) {
		crc ^= (unsigned long)(*p++) << 16;
		for (int i = 0; i < 8; i++) {
			crc <<= 1;
			if (crc & 0x1000000UL)
				crc ^= CRC24_POLY;
		}
	}
	return crc & 0xFFFFFFUL;
}

/* Decode base64 text p[0..n) (white space ignored, '=' ends it) onto
 * out. -1 on a bad character. */
static int
b64_decode(const unsigned char *p, size_t n, struct buf *out)
{
	unsigned long acc = 0;
	int bits = 0;

	for (size_t i = 0; i < n; i++) {
		int v;

		if (p[i] == ' ' || p[i] == '\t' || p[i] == '\r' || p[i] == '\n')
			continue;
		if (p[i] == '=')
			break;
		if ((v = b64_digit(p[i])) < 0)
			return -1;
		acc = (acc << 6) | (unsigned long)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (buf_putc(out, (int)((acc >> bits) & 0xFF)) < 0)
				return -1;
		}
	}
	return 0;
}

static const unsigned char *
find(const unsigned char *p, const unsigned char *end, const char *s)
{
	size_t sl = strlen(s);

	for (; p + sl <= end; p++)
		if (memcmp(p, s, sl) == 0)
			return p;
	return NULL;
}

static const unsigned char *
next_line(const unsigned char *p, const unsigned char *end)
{
	const unsigned char *nl = memchr(p, '\n', (size_t)(end - p));

	return nl ? nl + 1 : end;
}

static int
line_blank(const unsigned char *p, const unsigned char *e)
{
	for (; p < e; p++)
		if (*p != ' ' && *p != '\t' && *p != '\r' && *p != '\n')
			return 0;
	return 1;
}

/* One or more armored public key blocks onto out. */
static int
dearmor(const unsigned char *in, size_t len, struct buf *out, char *why,
	size_t whylen)
{
	static const char begin[] = "-----BEGIN PGP PUBLIC KEY BLOCK-----";
	static const char end_tag[] = "-----END PGP PUBLIC KEY BLOCK-----";
	const unsigned char *p = in, *end = in + len;
	int blocks = 0;

	while ((p = find(p, end, begin)) != NULL) {
		const unsigned char *body, *stop, *crcline = NULL, *l;
		size_t start = out->len;

		p = next_line(p, end);
		/* armor headers (Version:, Comment:) up to an empty line */
		for (l = p; l < end; l = next_line(l, end)) {
			const unsigned char *le = next_line(l, end);

			if (line_blank(l, le)) {
				p = le;
				break;
			}
			if (memchr(l, ':', (size_t)(le - l)) == NULL) {
				/* no header lines at all: the body starts here */
				p = l;
				break;
			}
		}
		if ((stop = find(p, end, end_tag)) == NULL) {
			snprintf(why, whylen, "armor without its END line");
			return -1;
		}
		body = p;
		/* the optional "=XXXX" checksum line just before END */
		for (l = body; l < stop; l = next_line(l, stop))
			if (*l == '=')
				crcline = l;
		if (b64_decode(body, (size_t)((crcline ? crcline : stop) - body), out) < 0) {
			snprintf(why, whylen, "bad base64 in the armor");
			return -1;
		}
		if (crcline != NULL) {
			struct buf crc;
			const unsigned char *ce = next_line(crcline, stop);
			unsigned long want;

			buf_init(&crc, 8);
			if (b64_decode(crcline + 1, (size_t)(ce - crcline - 1), &crc) < 0 ||
			    crc.len != 3) {
				buf_free(&crc);
				snprintf(why, whylen, "bad armor checksum line");
				return -1;
			}
			want = ((unsigned long)(unsigned char)crc.data[0] << 16) |
			       ((unsigned long)(unsigned char)crc.data[1] << 8) |
			       (unsigned long)(unsigned char)crc.data[2];
			buf_free(&crc);
			if (keyblock_crc24((const unsigned char *)out->data + start,
					   out->len - start) != want) {
				snprintf(why, whylen, "armor checksum mismatch");
				return -1;
			}
		}
		blocks++;
		p = stop + sizeof(end_tag) - 1;
	}
	if (blocks == 0) {
		snprintf(why, whylen, "not an OpenPGP public key block");
		return -1;
	}
	return 0;
}

/* Walk the packets of p[0..n). Number of primary keys, or -1. */
static int
walk(const unsigned char *p, size_t n, char *why, size_t whylen)
{
	size_t pos = 0, packets = 0;
	int keys = 0;

	if (n == 0) {
		snprintf(why, whylen, "empty key data");
		return -1;
	}
	while (pos < n) {
		unsigned char h = p[pos];
		unsigned tag;
		size_t blen, hlen;

		if (!(h & 0x80)) {
			snprintf(why, whylen, "not an OpenPGP packet at offset %zu", pos);
			return -1;
		}
		if (h & 0x40) { /* new format */
			tag = h & 0x3F;
			if (pos + 1 >= n)
				goto truncated;
			if (p[pos + 1] < 192) {
				blen = p[pos + 1];
				hlen = 2;
			} else if (p[pos + 1] < 224) {
				if (pos + 2 >= n)
					goto truncated;
				blen = ((size_t)(p[pos + 1] - 192) << 8) + p[pos + 2] + 192;
				hlen = 3;
			} else if (p[pos + 1] == 255) {
				if (pos + 5 >= n)
					goto truncated;
				blen = ((size_t)p[pos + 2] << 24) | ((size_t)p[pos + 3] << 16) |
				       ((size_t)p[pos + 4] << 8) | p[pos + 5];
				hlen = 6;
			} else {
				snprintf(why, whylen, "partial body length in a key packet");
				return -1;
			}
		} else { /* old format */
			unsigned lt = h & 0x03;

			tag = (h >> 2) & 0x0F;
			if (lt == 3) {
				snprintf(why, whylen, "indeterminate length in a key packet");
				return -1;
			}
			hlen = 1 + ((size_t)1 << lt);
			if (pos + hlen > n)
				goto truncated;
			blen = 0;
			for (size_t k = 1; k < hlen; k++)
				blen = (blen << 8) | p[pos + k];
		}
		if (blen > n - pos - hlen || pos + hlen > n)
			goto truncated;
		switch (tag) {
		case 6: /* public key */
			if (++keys > KEYBLOCK_KEYS_MAX) {
				snprintf(why, whylen, "more than %d keys in one reply",
					 KEYBLOCK_KEYS_MAX);
				return -1;
			}
			break;
		case 2:	 /* signature */
		case 12: /* trust */
		case 13: /* user ID */
		case 14: /* public subkey */
		case 17: /* user attribute */
			if (keys == 0) {
				snprintf(why, whylen, "key data does not start with a public key");
				return -1;
			}
			break;
		case 5:
		case 7:
			snprintf(why, whylen, "secret key material in a public key reply");
			return -1;
		default:
			snprintf(why, whylen, "packet type %u is not part of a public key", tag);
			return -1;
		}
		if (++packets > KEYBLOCK_PACKETS_MAX) {
			snprintf(why, whylen, "more than %d packets in one reply",
				 KEYBLOCK_PACKETS_MAX);
			return -1;
		}
		pos += hlen + blen;
	}
	return keys;
truncated:
	snprintf(why, whylen, "truncated packet at offset %zu", pos);
	return -1;
}

int
keyblock_check(const unsigned char *in, size_t len, struct buf *out, char *why,
	       size_t whylen)
{
	size_t i = 0;

	buf_reset(out);
	out->failed = 0;
	while (i < len && (in[i] == ' ' || in[i] == '\t' || in[i] == '\r' || in[i] == '\n'))
		i++;
	if (i < len && in[i] == '-') {
		if (dearmor(in, len, out, why, whylen) < 0)
			return -1;
	} else if (buf_append(out, in, len) < 0) {
		snprintf(why, whylen, "key data larger than the limit");
		return -1;
	}
	if (out->failed) {
		snprintf(why, whylen, "key data larger than the limit");
		return -1;
	}
	return walk((const unsigned char *)out->data, out->len, why, whylen);
}

int
keyblock_fprs(const unsigned char *p, size_t n, char (*out)[41], size_t max)
{
	size_t pos = 0, nk = 0;

	while (pos < n) {
		unsigned char h = p[pos];
		unsigned tag;
		size_t blen, hlen;

		if (!(h & 0x80))
			return -1;
		if (h & 0x40) {
			tag = h & 0x3F;
			if (pos + 1 >= n)
				return -1;
			if (p[pos + 1] < 192) {
				blen = p[pos + 1];
				hlen = 2;
			} else if (p[pos + 1] < 224) {
				if (pos + 2 >= n)
					return -1;
				blen = ((size_t)(p[pos + 1] - 192) << 8) + p[pos + 2] + 192;
				hlen = 3;
			} else if (p[pos + 1] == 255) {
				if (pos + 5 >= n)
					return -1;
				blen = ((size_t)p[pos + 2] << 24) | ((size_t)p[pos + 3] << 16) |
				       ((size_t)p[pos + 4] << 8) | p[pos + 5];
				hlen = 6;
			} else
				return -1;
		} else {
			unsigned lt = h & 0x03;

			tag = (h >> 2) & 0x0F;
			if (lt == 3)
				return -1;
			hlen = 1 + ((size_t)1 << lt);
			if (pos + hlen > n)
				return -1;
			blen = 0;
			for (size_t k = 1; k < hlen; k++)
				blen = (blen << 8) | p[pos + k];
		}
		if (pos + hlen > n || blen > n - pos - hlen)
			return -1;
		if (tag == 6) {
			const unsigned char *body = p + pos + hlen;
			unsigned char hdr[3], dig[SHA1_DIGEST_SIZE];
			struct sha1_ctx c;

			/* version 4 only (RFC 4880 12.2): SHA-1 over 0x99, the
			 * two-octet length and the packet body */
			if (blen < 1 || body[0] != 4 || blen > 0xFFFF || nk >= max)
				return -1;
			hdr[0] = 0x99;
			hdr[1] = (unsigned char)(blen >> 8);
			hdr[2] = (unsigned char)blen;
			sha1_init(&c);
			sha1_update(&c, 3, hdr);
			sha1_update(&c, blen, body);
			sha1_digest(&c, sizeof(dig), dig);
			for (size_t k = 0; k < sizeof(dig); k++)
				snprintf(out[nk] + 2 * k, 3, "%02X", dig[k]);
			nk++;
		}
		pos += hlen + blen;
	}
	return (int)nk;
}
