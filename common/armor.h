/*++
 * NAME
 *	armor 3h
 * SUMMARY
 *	one ASCII-armored OpenPGP block, fed line by line, decoded as it goes
 * DESCRIPTION
 *	armor_line() takes the lines of a text one at a time, without their
 *	line ending (white space at the end of a line is ignored, as RFC
 *	9580 section 6.2 says), and accepts exactly:
 *	  - blank lines, then the armor header line "-----BEGIN <label>-----";
 *	  - no armor header (Version:, Comment:, Charset: are text in the
 *	    clear next to the ciphertext), then one blank line;
 *	  - one or more data lines of 1 to ARMOR_LINE_MAX radix-64
 *	    characters, "=" padding only at the end of the last one, the
 *	    total a multiple of 4, the unused bits of the padding zero;
 *	  - optionally the checksum line: "=" and 4 radix-64 characters, the
 *	    CRC-24 (RFC 4880 section 6.1) of the decoded data, which must
 *	    match; it is optional because RFC 9580 section 6.1 makes it so
 *	    (it only catches transport damage; what the data is, is for the
 *	    caller to judge);
 *	  - the armor tail line "-----END <label>-----", then blank lines.
 *	Anything else (text around the block, a second block, a blank line
 *	inside it, any other line starting with "=") is refused.
 *
 *	The decoded octets go to the caller's sink a data line at a time, as
 *	they are decoded: memory is fixed, whatever the size of the block.
 *	armor_end() says whether exactly one complete block was seen.
 *
 *	Errors: -1, and a->why says why (a static string); when the sink
 *	refused, a->sink_failed is set and the sink keeps its own reason.
 *	Pure: no I/O, no allocation, no logging.
 *--*/
#ifndef PS_ARMOR_H
#define PS_ARMOR_H

#include <stddef.h>

#include "pslimits.h"

/* The longest data line RFC 4880 and 9580 allow. */
#define ARMOR_LINE_MAX 76

#define ARMOR_CRC24_INIT 0xB704CEUL

typedef int (*armor_sink)(void *ctx, const unsigned char *p, size_t n);

struct armor {
	const char *label; /* "PGP MESSAGE" */
	armor_sink sink;
	void *ctx;
	int state;
	int begun;		/* the armor header line was seen */
	unsigned nheaders;
	unsigned long crc;	/* of the data decoded so far */
	unsigned char quad[4];	/* radix-64 values of an unfinished group */
	int nquad;
	int padded;		/* the data ended with "=" padding */
	size_t ndata;		/* data lines */
	int sink_failed;
	const char *why;
};

void armor_init(struct armor *a, const char *label, armor_sink sink, void *ctx);

/* 0, or -1 when the text is no longer one armored block (a->why). */
int armor_line(struct armor *a, const char *line, size_t len);

/* 0 when exactly one complete block was seen, else -1 (a->why). */
int armor_end(struct armor *a);

/* Whether armor_line() has seen the armor header line. */
int armor_begun(const struct armor *a);

/* CRC-24 of RFC 4880 section 6.1, continued over p[0..n): start with
 * ARMOR_CRC24_INIT, the result is the low 24 bits. */
unsigned long armor_crc24(unsigned long crc, const unsigned char *p, size_t n);

#endif
