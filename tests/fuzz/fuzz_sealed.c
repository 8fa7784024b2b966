/* libFuzzer target: the already-encrypted ("sealed") input detector.
 * The low 3 bits of the first byte pick what the rest is:
 *   0  a whole submitted message, through intake and sealed_examine();
 *      a sealed verdict must have exactly one armor block in the body
 *      and a session key packet;
 *   1  OpenPGP packets, armored here (own radix-64, CRC-24 from
 *      armor.c, whose vector test_sealed checks) as an inline body;
 *   2  the same inside a PGP/MIME frame as Thunderbird writes it;
 *   3  the same armored without the checksum, in lines of 76;
 *   4-7  as 0-3 (0: inline), but the packets are built from a compact
 *      description (build() below), so that lengths, formats, partial
 *      parts and versions are one mutation away;
 * and for 1-7 the verdict must be the one of a reference walker written
 * here, all in memory, and of pgpmsg fed in pieces whose sizes come
 * from the input: the streaming code may not see more or less than the
 * grammar of pgpmsg.h says. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "armor.h"
#include "buf.h"
#include "fileio.h"
#include "intake.h"
#include "pgpmsg.h"
#include "pslimits.h"
#include "sealed.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct sealed_info si;
static struct pgpmsg_pkesk pk[PS_SEALED_ESK_MAX];

/* ---- the reference: the grammar of pgpmsg.h, on a whole buffer ---- */

/* A new-format length at p[*pos]: the length, *partial set; -1 if cut. */
static int
ref_newlen(const unsigned char *p, size_t n, size_t *pos, uint64_t *len, int *partial)
{
	*partial = 0;
	if (*pos >= n)
		return -1;
	if (p[*pos] < 192) {
		*len = p[(*pos)++];
	} else if (p[*pos] < 224) {
		if (*pos + 1 >= n)
			return -1;
		*len = ((uint64_t)(p[*pos] - 192) << 8) + p[*pos + 1] + 192;
		*pos += 2;
	} else if (p[*pos] == 255) {
		if (*pos + 4 >= n)
			return -1;
		*len = ((uint64_t)p[*pos + 1] << 24) | ((uint64_t)p[*pos + 2] << 16) |
		       ((uint64_t)p[*pos + 3] << 8) | p[*pos + 4];
		*pos += 5;
	} else {
		*len = (uint64_t)1 << (p[*pos] & 0x1F);
		*partial = 1;
		(*pos)++;
	}
	return 0;
}

static int
ref_esk(unsigned tag, const unsigned char *b, uint64_t len, size_t *npkesk)
{
	if (tag == 3)
		return len >= 4 && (b[0] == 4 || b[0] == 5 || b[0] == 6);
	if (len < 1)
		return 0;
	if (b[0] == 3) {
		if (len < 11)
			return 0;
	} else if (b[0] == 6) {
		if (len < 3 || len < (uint64_t)b[1] + 4)
			return 0;
		if (!(b[1] == 0 || (b[1] == 21 && b[2] == 4) || (b[1] == 33 && b[2] == 6)))
			return 0;
	} else
		return 0;
	(*npkesk)++;
	return 1;
}

static int
ref_walk(const unsigned char *p, size_t n, size_t *npkesk)
{
	size_t pos = 0, nesk = 0;

	*npkesk = 0;
	while (pos < n) {
		unsigned char h = p[pos++];
		unsigned tag;
		uint64_t len;
		int partial = 0;

		if (!(h & 0x80))
			return 0;
		if (h & 0x40) {
			tag = h & 0x3F;
			if (ref_newlen(p, n, &pos, &len, &partial) < 0)
				return 0;
		} else {
			unsigned lt = h & 3;

			tag = (h >> 2) & 0x0F;
			if (lt == 3 || pos + ((size_t)1 << lt) > n)
				return 0;
			len = 0;
			for (size_t k = 0; k < ((size_t)1 << lt); k++)
				len = (len << 8) | p[pos++];
		}
		if (tag == 1 || tag == 3) {
			if (partial || len > PS_SEALED_ESK_LEN_MAX || nesk >= PS_SEALED_ESK_MAX ||
			    len > n - pos || !ref_esk(tag, p + pos, len, npkesk))
				return 0;
			nesk++;
			pos += (size_t)len;
			continue;
		}
		if ((tag != 18 && tag != 20) || nesk == 0 || (partial && len < 512))
			return 0;
		{
			/* the body, parts joined: its length, first octets */
			unsigned char sample[257];
			size_t ns = 0;
			uint64_t total = 0, min;

			for (;;) {
				if (len > n - pos)
					return 0;
				for (size_t k = 0; k < len && ns < sizeof(sample); k++)
					sample[ns++] = p[pos + k];
				total += len;
				pos += (size_t)len;
				if (!partial)
					break;
				if (ref_newlen(p, n, &pos, &len, &partial) < 0)
					return 0;
			}
			if (pos != n || ns == 0)
				return 0;
			if (tag == 18 && sample[0] == 1)
				min = 33;
			else if (tag == 18 && sample[0] == 2)
				min = 52;
			else if (tag == 20 && sample[0] == 1)
				min = 33;
			else
				return 0;
			return total >= min && !pgpmsg_looks_like_text(sample + 1, ns - 1);
		}
	}
	return 0;
}

/* ---- packets from a description: per packet an op octet (tag, header
 * format, a texty body), two length octets, a version octet and a seed
 * for the body ---- */

static void
put_newlen(struct buf *o, size_t n)
{
	unsigned char h[5];

	if (n < 192) {
		h[0] = (unsigned char)n;
		buf_append(o, h, 1);
	} else if (n < 8384) {
		h[0] = (unsigned char)(((n - 192) >> 8) + 192);
		h[1] = (unsigned char)(n - 192);
		buf_append(o, h, 2);
	} else {
		h[0] = 255;
		h[1] = (unsigned char)(n >> 24);
		h[2] = (unsigned char)(n >> 16);
		h[3] = (unsigned char)(n >> 8);
		h[4] = (unsigned char)n;
		buf_append(o, h, 5);
	}
}

static void
build(const uint8_t *d, size_t n, struct buf *o)
{
	static const unsigned tags[8] = {1, 3, 18, 20, 9, 11, 1, 18};
	size_t pos = 0, npackets = 0;

	while (pos + 5 <= n && !o->failed && npackets++ < 64) {
		unsigned op = d[pos], tag = tags[op & 7], form = (op >> 3) & 3;
		size_t len = ((size_t)d[pos + 1] | ((size_t)d[pos + 2] << 8)) & 0x0FFF;
		unsigned char body[0x1000];
		unsigned long x = d[pos + 4] * 2654435761UL + 1;

		body[0] = d[pos + 3];
		for (size_t i = 1; i < len; i++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			/* bit 7: a body of text, as plaintext would be */
			body[i] = (op & 0x80) ? (unsigned char)('a' + x % 26) : (unsigned char)(x >> 11);
		}
		pos += 5;
		if (form == 1 && tag < 16) { /* old format: 1, 2 or 4 length octets */
			unsigned lt = (op >> 5) & 3;
			unsigned char h[5];

			if (lt == 3 || (lt == 0 && len > 255))
				lt = 1;
			h[0] = (unsigned char)(0x80 | (tag << 2) | lt);
			for (size_t k = 0; k < ((size_t)1 << lt); k++)
				h[1 + k] = (unsigned char)(len >> (8 * (((size_t)1 << lt) - 1 - k)));
			buf_append(o, h, 1 + ((size_t)1 << lt));
			buf_append(o, body, len);
		} else if (form == 2 && len > 0) { /* partial parts of 2^k */
			unsigned k = 9 + (d[pos - 1] & 1);
			size_t at = 0;
			unsigned char h = (unsigned char)(0xC0 | tag);

			if (op & 0x40)
				k = 6 + (d[pos - 1] & 3); /* too short a first part, sometimes */
			buf_append(o, &h, 1);
			while (len - at > ((size_t)1 << k)) {
				h = (unsigned char)(0xE0 | k);
				buf_append(o, &h, 1);
				buf_append(o, body + at, (size_t)1 << k);
				at += (size_t)1 << k;
				k = (k > 0 && (op & 0x20)) ? k - 1 : k;
			}
			put_newlen(o, len - at);
			buf_append(o, body + at, len - at);
		} else if (form == 3) { /* a raw header octet from the input */
			unsigned char h = d[pos - 1];

			buf_append(o, &h, 1);
			buf_append(o, body, len);
		} else {
			unsigned char h = (unsigned char)(0xC0 | tag);

			buf_append(o, &h, 1);
			put_newlen(o, len);
			buf_append(o, body, len);
		}
	}
}

/* ---- armoring, as a client would ---- */

static void
put_b64(struct buf *o, const unsigned char *p, size_t n, size_t width)
{
	static const char b64[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	char line[80];
	size_t col = 0;

	/* a line at a time: the armoring is not what is being fuzzed */
	for (size_t i = 0; i < n; i += 3) {
		unsigned long v = (unsigned long)p[i] << 16;

		if (i + 1 < n)
			v |= (unsigned long)p[i + 1] << 8;
		if (i + 2 < n)
			v |= p[i + 2];
		line[col++] = b64[(v >> 18) & 63];
		line[col++] = b64[(v >> 12) & 63];
		line[col++] = i + 1 < n ? b64[(v >> 6) & 63] : '=';
		line[col++] = i + 2 < n ? b64[v & 63] : '=';
		if (width > 0 && col == width) {
			line[col++] = '\n';
			buf_append(o, line, col);
			col = 0;
		}
	}
	if (width > 0 && col != 0)
		line[col++] = '\n';
	buf_append(o, line, col);
}

static void
put_armor(struct buf *o, const unsigned char *p, size_t n, int crc, size_t width)
{
	unsigned long c = armor_crc24(ARMOR_CRC24_INIT, p, n); /* test_sealed checks it */
	unsigned char cb[3] = {(unsigned char)(c >> 16), (unsigned char)(c >> 8), (unsigned char)c};

	buf_puts(o, "-----BEGIN PGP MESSAGE-----\n\n");
	put_b64(o, p, n, width);
	if (crc) {
		buf_putc(o, '=');
		put_b64(o, cb, 3, 0);
		buf_putc(o, '\n');
	}
	buf_puts(o, "-----END PGP MESSAGE-----\n");
}

static int
examine(const char *msg, size_t len)
{
	struct message m;
	char why[512];
	int fd = memfd_create("fuzz", 0), r = 0;

	if (fd < 0 || write_all(fd, msg, len) < 0 || lseek(fd, 0, SEEK_SET) != 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	message_init(&m);
	if (intake_read(fd, 1, "/tmp", &m, why, sizeof(why)) == PS_OK) {
		r = sealed_examine(&m, &si);
		if (r != message_is_sealed(&m))
			abort();
		if (r && (si.kind == SEALED_NO || si.npkesk + si.nskesk == 0 ||
			  si.npkesk > PS_SEALED_ESK_MAX))
			abort();
		if (!r && si.why[0] == '\0')
			abort(); /* refused without a reason */
		if (r) {
			/* one armor block in the body, as the verdict says */
			char *body = malloc((size_t)m.body_len + 1);
			size_t nb = 0, ne = 0, bl = (size_t)m.body_len;

			if (body == NULL || pread(m.body_fd, body, bl, 0) != (ssize_t)bl)
				abort();
			for (size_t q = 0; q < bl; q++) {
				if (q > 0 && body[q - 1] != '\n')
					continue;
				if (bl - q >= 27 && memcmp(body + q, "-----BEGIN PGP MESSAGE-----", 27) == 0)
					nb++;
				if (bl - q >= 25 && memcmp(body + q, "-----END PGP MESSAGE-----", 25) == 0)
					ne++;
			}
			free(body);
			if (nb != 1 || ne != 1)
				abort();
		}
	} else
		r = -1;
	message_free(&m);
	close(fd);
	return r;
}

/* pgpmsg fed in pieces whose sizes come from seed */
static int
walk_in_pieces(const unsigned char *p, size_t n, const unsigned char *seed, size_t nseed,
	       size_t *npkesk)
{
	struct pgpmsg w;
	size_t pos = 0, k = 0;
	int ok = 1;

	pgpmsg_init(&w, pk, PS_SEALED_ESK_MAX);
	while (pos < n && ok) {
		size_t step = nseed > 0 ? (size_t)seed[k++ % nseed] + 1 : n;

		if (step > n - pos)
			step = n - pos;
		ok = pgpmsg_feed(&w, p + pos, step) == 0;
		pos += step;
	}
	ok = ok && pgpmsg_end(&w) == 0;
	*npkesk = w.npkesk;
	return ok;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf msg, built;
	size_t nref = 0, npieces = 0;
	int mode, wrap, want, got;

	if (size == 0)
		return 0;
	mode = data[0] & 7;
	if (mode == 0) {
		examine((const char *)data + 1, size - 1);
		return 0;
	}
	wrap = (mode & 3) == 0 ? 1 : mode & 3;
	buf_init(&built, 64 * 1024);
	if (mode & 4) {
		build(data + 1, size - 1, &built);
		if (built.failed)
			return 0;
	} else
		buf_append(&built, data + 1, size - 1);
	want = ref_walk((const unsigned char *)built.data, built.len, &nref);
	/* the input's own last 16 octets cut the stream into pieces */
	if (walk_in_pieces((const unsigned char *)built.data, built.len,
			   data + (size > 16 ? size - 16 : 0), size > 16 ? 16 : size,
			   &npieces) != want ||
	    (want && npieces != nref))
		abort();
	buf_init(&msg, 4 * built.len + (1 << 16));
	if (wrap == 2)
		buf_puts(&msg, "Subject: f\nMIME-Version: 1.0\nContent-Type: multipart/encrypted;\n"
			       " protocol=\"application/pgp-encrypted\"; boundary=\"b1\"\n\n"
			       "This is an OpenPGP/MIME encrypted message (RFC 4880 and 3156)\n"
			       "--b1\nContent-Type: application/pgp-encrypted\n"
			       "Content-Description: PGP/MIME version identification\n\n"
			       "Version: 1\n\n--b1\n"
			       "Content-Type: application/octet-stream; name=\"encrypted.asc\"\n"
			       "Content-Description: OpenPGP encrypted message\n"
			       "Content-Disposition: inline; filename=\"encrypted.asc\"\n\n");
	else
		buf_puts(&msg, "Subject: f\n\n");
	put_armor(&msg, (const unsigned char *)built.data, built.len, wrap != 3, wrap == 3 ? 76 : 64);
	if (wrap == 2)
		buf_puts(&msg, "\n--b1--\n");
	if (!msg.failed) {
		got = examine(msg.data, msg.len);
		if (got >= 0 && got != want)
			abort();
		if (got == 1 && si.npkesk != nref)
			abort();
	}
	buf_free(&msg);
	buf_free(&built);
	return 0;
}
