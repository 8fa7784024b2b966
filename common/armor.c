#include "config.h"

#include <string.h>

#include "armor.h"
#include "buf.h"

#define CRC24_POLY 0x1864CFBUL

enum { AR_BEFORE, AR_HEADERS, AR_DATA, AR_CHECKSUM, AR_DONE, AR_FAILED };

/* A table, so that a body of many megabytes costs one lookup per octet. */
static unsigned long crc24_table[256];
static int crc24_ready;

static void
crc24_init_table(void)
{
	for (unsigned i = 0; i < 256; i++) {
		unsigned long crc = (unsigned long)i << 16;

		for (int k = 0; k < 8; k++) {
			crc <<= 1;
			if (crc & 0x1000000UL)
				crc ^= CRC24_POLY;
		}
		crc24_table[i] = crc & 0xFFFFFFUL;
	}
	crc24_ready = 1;
}

unsigned long
armor_crc24(unsigned long crc, const unsigned char *p, size_t n)
{
	if (!crc24_ready)
		crc24_init_table();
	crc &= 0xFFFFFFUL;
	for (size_t i = 0; i < n; i++)
		crc = ((crc << 8) ^ crc24_table[((crc >> 16) ^ p[i]) & 0xFF]) & 0xFFFFFFUL;
	return crc;
}

void
armor_init(struct armor *a, const char *label, armor_sink sink, void *ctx)
{
	memset(a, 0, sizeof(*a));
	a->label = label;
	a->sink = sink;
	a->ctx = ctx;
	a->state = AR_BEFORE;
	a->crc = ARMOR_CRC24_INIT;
	a->why = "no armored block";
}

int
armor_begun(const struct armor *a)
{
	return a->begun;
}

static int
refuse(struct armor *a, const char *why)
{
	a->state = AR_FAILED;
	a->why = why;
	return -1;
}

/* "-----<word> <label>-----" */
static int
armor_frame(const struct armor *a, const char *p, size_t len, const char *word)
{
	size_t wl = strlen(word), ll = strlen(a->label);

	return len == 5 + wl + 1 + ll + 5 && memcmp(p, "-----", 5) == 0 &&
	       memcmp(p + 5, word, wl) == 0 && p[5 + wl] == ' ' &&
	       memcmp(p + 6 + wl, a->label, ll) == 0 && memcmp(p + 6 + wl + ll, "-----", 5) == 0;
}

/* An armor header (Version:, Comment:, Charset:) is text that travels in
 * the clear next to the ciphertext: a careless script, or someone who
 * wants a message to pass as encrypted, can put anything there. None is
 * accepted; a message that carries one is not taken as encrypted, and so
 * is encrypted again (harmless). Current GnuPG, rnp and sq write none. */
static int
armor_header(const char *p, size_t len)
{
	(void)p;
	(void)len;
	return 0;
}

/* One data line: decode it, add it to the checksum, hand it on. */
static int
armor_data(struct armor *a, const char *p, size_t len)
{
	unsigned char out[ARMOR_LINE_MAX / 4 * 3 + 3];
	size_t n = 0, i = 0;

	if (a->padded)
		return refuse(a, "armor data after the padding");
	if (len > ARMOR_LINE_MAX)
		return refuse(a, "an armor line longer than 76 characters");
	for (; i < len && p[i] != '='; i++) {
		int v = b64_digit((unsigned char)p[i]);

		if (v < 0)
			return refuse(a, "a character that is not radix-64 in the armor");
		a->quad[a->nquad++] = (unsigned char)v;
		if (a->nquad == 4) {
			out[n++] = (unsigned char)((a->quad[0] << 2) | (a->quad[1] >> 4));
			out[n++] = (unsigned char)((a->quad[1] << 4) | (a->quad[2] >> 2));
			out[n++] = (unsigned char)((a->quad[2] << 6) | a->quad[3]);
			a->nquad = 0;
		}
	}
	if (i < len) {
		/* "=" padding: it ends the group, the line and the data */
		size_t pad = len - i;

		for (size_t k = i; k < len; k++)
			if (p[k] != '=')
				return refuse(a, "armor data after the padding");
		if (!((a->nquad == 2 && pad == 2) || (a->nquad == 3 && pad == 1)))
			return refuse(a, "bad radix-64 padding in the armor");
		/* canonical: the bits the padding leaves unused are zero */
		if ((a->nquad == 2 && (a->quad[1] & 0x0F) != 0) ||
		    (a->nquad == 3 && (a->quad[2] & 0x03) != 0))
			return refuse(a, "bad radix-64 padding in the armor");
		out[n++] = (unsigned char)((a->quad[0] << 2) | (a->quad[1] >> 4));
		if (a->nquad == 3)
			out[n++] = (unsigned char)((a->quad[1] << 4) | (a->quad[2] >> 2));
		a->nquad = 0;
		a->padded = 1;
	}
	a->ndata++;
	a->crc = armor_crc24(a->crc, out, n);
	if (n > 0 && a->sink(a->ctx, out, n) < 0) {
		a->sink_failed = 1;
		return refuse(a, "the armored data is not what was expected");
	}
	return 0;
}

/* "=XXXX": the CRC-24 of the data, most significant octet first. */
static int
armor_checksum(struct armor *a, const char *p, size_t len)
{
	unsigned long want = 0;

	if (a->ndata == 0 || len != 5)
		return refuse(a, "a line starting with \"=\" that is not the armor checksum");
	for (size_t i = 1; i < 5; i++) {
		int v = b64_digit((unsigned char)p[i]);

		if (v < 0)
			return refuse(a, "a line starting with \"=\" that is not the armor checksum");
		want = (want << 6) | (unsigned long)v;
	}
	if (want != (a->crc & 0xFFFFFFUL))
		return refuse(a, "the armor checksum does not match the data");
	a->state = AR_CHECKSUM;
	return 0;
}

int
armor_line(struct armor *a, const char *line, size_t len)
{
	while (len > 0 && (line[len - 1] == ' ' || line[len - 1] == '\t' || line[len - 1] == '\r'))
		len--;
	switch (a->state) {
	case AR_BEFORE:
		if (len == 0)
			return 0;
		if (!armor_frame(a, line, len, "BEGIN"))
			return refuse(a, "text before the armored block");
		a->begun = 1;
		a->state = AR_HEADERS;
		return 0;
	case AR_HEADERS:
		if (len == 0) {
			a->state = AR_DATA;
			return 0;
		}
		if (++a->nheaders > PS_ARMOR_HEADERS_MAX || !armor_header(line, len))
			return refuse(a, "an armor header (its text would travel in the clear)");
		return 0;
	case AR_DATA:
		if (len == 0)
			return refuse(a, "a blank line inside the armor");
		if (armor_frame(a, line, len, "END")) {
			if (a->ndata == 0)
				return refuse(a, "an armored block without data");
			if (a->nquad != 0)
				return refuse(a, "armor data that is not a multiple of 4 characters");
			a->state = AR_DONE;
			return 0;
		}
		if (line[0] == '=') {
			if (a->nquad != 0)
				return refuse(a, "armor data that is not a multiple of 4 characters");
			return armor_checksum(a, line, len);
		}
		return armor_data(a, line, len);
	case AR_CHECKSUM:
		if (!armor_frame(a, line, len, "END"))
			return refuse(a, "text between the armor checksum and its END line");
		a->state = AR_DONE;
		return 0;
	case AR_DONE:
		if (len == 0)
			return 0;
		return refuse(a, "text after the armored block");
	}
	return -1;
}

int
armor_end(struct armor *a)
{
	if (a->state == AR_DONE)
		return 0;
	if (a->state == AR_FAILED)
		return -1;
	return refuse(a, a->state == AR_BEFORE ? "no armored block" : "the armored block has no END line");
}
