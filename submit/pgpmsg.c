#include "config.h"

#include <stdio.h>
#include <string.h>

#include "pgpmsg.h"

enum { PM_HEADER, PM_BODY, PM_DONE, PM_FAILED };

#define TAG_PKESK 1
#define TAG_SKESK 3
#define TAG_SED 9
#define TAG_SEIPD 18
#define TAG_AEAD 20

/* The shortest possible data packet bodies: SEIPD v1 is the version, a
 * prefix of a block and 2 octets (10 at least), the MDC packet (22);
 * SEIPD v2 four octets, a 32-octet salt and the final tag (16); the AEAD
 * packet four octets, a nonce (12 at least) and the final tag. */
#define SEIPD1_MIN 33
#define SEIPD2_MIN 52
#define AEAD_MIN 33

/* RFC 9580 section 4.2.1.4 */
#define PARTIAL_FIRST_MIN 512

void
pgpmsg_init(struct pgpmsg *w, struct pgpmsg_pkesk *pkesk, size_t pkesk_max)
{
	memset(w, 0, sizeof(*w));
	w->state = PM_HEADER;
	w->hdrlen = 1;
	w->pkesk = pkesk;
	w->pkesk_max = pkesk_max;
	w->why = "no OpenPGP data";
}

static int
refuse(struct pgpmsg *w, const char *why)
{
	w->state = PM_FAILED;
	w->why = why;
	return -1;
}

int
pgpmsg_looks_like_text(const unsigned char *p, size_t n)
{
	size_t texty = 0, i = 0;

	while (i < n) {
		unsigned char c = p[i];
		size_t more = 0, k = 1;

		if ((c >= 0x20 && c < 0x7F) || c == '\t' || c == '\n' || c == '\r') {
			texty++;
			i++;
			continue;
		}
		/* a well-formed UTF-8 sequence (its lead octet not overlong) */
		if (c >= 0xC2 && c <= 0xDF)
			more = 1;
		else if (c >= 0xE0 && c <= 0xEF)
			more = 2;
		else if (c >= 0xF0 && c <= 0xF4)
			more = 3;
		while (k <= more && i + k < n && (p[i + k] & 0xC0) == 0x80)
			k++;
		if (more > 0 && k == more + 1) {
			texty += k;
			i += k;
		} else
			i++;
	}
	return n > 0 && texty * 8 > n * 7;
}

/* The key ID and fingerprint a PKESK names. */
static int
pkesk_parse(struct pgpmsg *w)
{
	const unsigned char *b = w->esk;
	struct pgpmsg_pkesk *k;

	if (w->npkesk >= w->pkesk_max)
		return refuse(w, "too many session key packets");
	k = &w->pkesk[w->npkesk];
	memset(k, 0, sizeof(*k));
	if (w->esklen < 1)
		return refuse(w, "an empty session key packet");
	k->version = b[0];
	if (b[0] == 3) {
		/* version, key ID, algorithm, then the encrypted key */
		static const unsigned char zero[8];

		if (w->esklen < 11)
			return refuse(w, "a public-key session key packet too short to be one");
		memcpy(k->keyid, b + 1, 8);
		k->anonymous = memcmp(k->keyid, zero, 8) == 0;
	} else if (b[0] == 6) {
		/* version, length, key version and fingerprint, algorithm,
		 * then the encrypted key (RFC 9580 section 5.1.2) */
		size_t n;

		if (w->esklen < 3)
			return refuse(w, "a public-key session key packet too short to be one");
		n = b[1];
		if (w->esklen < 2 + n + 2)
			return refuse(w, "a public-key session key packet too short to be one");
		if (n == 0)
			k->anonymous = 1;
		else if (n == 21 && b[2] == 4) {
			memcpy(k->fpr, b + 3, 20);
			k->fprlen = 20;
			memcpy(k->keyid, b + 3 + 12, 8);
		} else if (n == 33 && b[2] == 6) {
			memcpy(k->fpr, b + 3, 32);
			k->fprlen = 32;
			memcpy(k->keyid, b + 3, 8);
		} else
			return refuse(w, "a public-key session key packet naming an unknown kind of "
					 "key");
	} else
		return refuse(w, "a public-key session key packet of an unknown version");
	w->npkesk++;
	return 0;
}

static int
skesk_parse(struct pgpmsg *w)
{
	if (w->esklen < 4 || (w->esk[0] != 4 && w->esk[0] != 5 && w->esk[0] != 6))
		return refuse(w, "a symmetric-key session key packet of an unknown version");
	w->nskesk++;
	return 0;
}

static int
data_done(struct pgpmsg *w)
{
	unsigned v = w->nsample > 0 ? w->sample[0] : 0;
	uint64_t min;

	if (w->tag == TAG_SEIPD && v == 1)
		min = SEIPD1_MIN;
	else if (w->tag == TAG_SEIPD && v == 2)
		min = SEIPD2_MIN;
	else if (w->tag == TAG_AEAD && v == 1)
		min = AEAD_MIN;
	else
		return refuse(w, "an encrypted data packet of an unknown version");
	if (w->datalen < min)
		return refuse(w, "an encrypted data packet too short to be one");
	if (pgpmsg_looks_like_text(w->sample + 1, w->nsample - 1))
		return refuse(w, "the encrypted data looks like text");
	w->state = PM_DONE;
	return 0;
}

/* A packet (or the last part of the data packet) has been read. */
static int
packet_done(struct pgpmsg *w)
{
	int r;

	if (w->tag == TAG_PKESK)
		r = pkesk_parse(w);
	else if (w->tag == TAG_SKESK)
		r = skesk_parse(w);
	else
		return data_done(w);
	w->state = PM_HEADER;
	w->hdrlen = 1;
	w->nhdr = 0;
	return r;
}

/* The header is complete: what comes, and how long. */
static int
header_done(struct pgpmsg *w)
{
	const unsigned char *h = w->hdr;
	size_t o = w->more ? 0 : 1; /* the length octets start here */
	int partial = 0;
	uint64_t len;

	if (!w->more && !(h[0] & 0x40)) {
		len = 0;
		for (size_t k = 1; k < w->hdrlen; k++)
			len = (len << 8) | h[k];
	} else if (h[o] < 192)
		len = h[o];
	else if (h[o] < 224)
		len = ((uint64_t)(h[o] - 192) << 8) + h[o + 1] + 192;
	else if (h[o] == 255)
		len = ((uint64_t)h[o + 1] << 24) | ((uint64_t)h[o + 2] << 16) |
		      ((uint64_t)h[o + 3] << 8) | h[o + 4];
	else {
		len = (uint64_t)1 << (h[o] & 0x1F);
		partial = 1;
	}
	w->left = len;
	w->partial = partial;
	w->nhdr = 0;
	if (w->more) {
		w->more = 0;
		w->state = PM_BODY;
		return w->left == 0 ? packet_done(w) : 0;
	}
	w->tag = (h[0] & 0x40) ? (h[0] & 0x3Fu) : ((h[0] >> 2) & 0x0Fu);
	switch (w->tag) {
	case TAG_PKESK:
	case TAG_SKESK:
		if (partial)
			return refuse(w, "a session key packet of partial length");
		if (len > PS_SEALED_ESK_LEN_MAX)
			return refuse(w, "a session key packet too long to be one");
		if (w->npkesk + w->nskesk >= PS_SEALED_ESK_MAX)
			return refuse(w, "too many session key packets");
		w->nesk = 0;
		w->esklen = len;
		break;
	case TAG_SEIPD:
	case TAG_AEAD:
		if (w->npkesk + w->nskesk == 0)
			return refuse(w, "encrypted data without a session key packet");
		if (partial && len < PARTIAL_FIRST_MIN)
			return refuse(w, "a first partial length under 512 octets");
		w->datalen = 0;
		w->nsample = 0;
		break;
	case TAG_SED:
		return refuse(w, "symmetrically encrypted data without integrity protection "
				 "(packet type 9)");
	default:
		snprintf(w->whybuf, sizeof(w->whybuf),
			 "packet type %u, which is not part of an encrypted message", w->tag);
		w->state = PM_FAILED;
		w->why = w->whybuf;
		return -1;
	}
	w->state = PM_BODY;
	return w->left == 0 ? packet_done(w) : 0;
}

/* How long the header being read is, once its first octets are known;
 * 0 when that is not known yet. */
static int
header_length(struct pgpmsg *w)
{
	const unsigned char *h = w->hdr;
	size_t o = w->more ? 0 : 1;

	if (!w->more && w->nhdr == 1) {
		if (!(h[0] & 0x80))
			return refuse(w, "octets that are not an OpenPGP packet");
		if (!(h[0] & 0x40)) {
			unsigned lt = h[0] & 0x03;

			if (lt == 3)
				return refuse(w, "a packet of indeterminate length");
			w->hdrlen = 1 + ((size_t)1 << lt);
			return 0;
		}
		w->hdrlen = 2;
		return 0;
	}
	if ((w->more || (h[0] & 0x40)) && w->nhdr == o + 1) {
		if (h[o] >= 192 && h[o] < 224)
			w->hdrlen = o + 2;
		else if (h[o] == 255)
			w->hdrlen = o + 5;
	}
	return 0;
}

int
pgpmsg_feed(struct pgpmsg *w, const unsigned char *p, size_t n)
{
	size_t pos = 0;

	while (pos < n) {
		switch (w->state) {
		case PM_HEADER:
			w->hdr[w->nhdr++] = p[pos++];
			if (header_length(w) < 0)
				return -1;
			if (w->nhdr == w->hdrlen && header_done(w) < 0)
				return -1;
			break;
		case PM_BODY: {
			size_t k = n - pos;

			if ((uint64_t)k > w->left)
				k = (size_t)w->left;
			if (w->tag == TAG_PKESK || w->tag == TAG_SKESK) {
				size_t c = k;

				if (c > sizeof(w->esk) - w->nesk)
					c = sizeof(w->esk) - w->nesk;
				memcpy(w->esk + w->nesk, p + pos, c);
				w->nesk += c;
			} else {
				size_t c = k;

				if (c > sizeof(w->sample) - w->nsample)
					c = sizeof(w->sample) - w->nsample;
				memcpy(w->sample + w->nsample, p + pos, c);
				w->nsample += c;
				w->datalen += k;
			}
			pos += k;
			w->left -= k;
			if (w->left > 0)
				break;
			if (w->partial) {
				/* the length of the next part */
				w->state = PM_HEADER;
				w->more = 1;
				w->nhdr = 0;
				w->hdrlen = 1;
				break;
			}
			if (packet_done(w) < 0)
				return -1;
			break;
		}
		case PM_DONE:
			return refuse(w, "octets after the encrypted data packet");
		default:
			return -1;
		}
	}
	return 0;
}

int
pgpmsg_end(struct pgpmsg *w)
{
	if (w->state == PM_DONE)
		return 0;
	if (w->state == PM_FAILED)
		return -1;
	if (w->state != PM_HEADER || w->nhdr > 0 || w->more)
		return refuse(w, "a truncated packet");
	return refuse(w, w->npkesk + w->nskesk > 0 ? "session key packets without encrypted data"
						   : "no OpenPGP data");
}
