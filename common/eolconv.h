/*++
 * NAME
 *	eolconv 3h
 * SUMMARY
 *	stream a file region with every line ending rewritten
 * DESCRIPTION
 *	An eolconv reads fd from offset 0 to len through a fixed buffer and
 *	hands out the bytes with CRLF and LF both replaced by the chosen
 *	line ending; a lone CR is kept. Input that is already in the target
 *	form passes unchanged, so nothing becomes CR CR LF. Memory is fixed
 *	(PS_IO_CHUNK), whatever the size of the file.
 *
 *	With canonical set (after eolconv_init), the output is a canonical
 *	text entity (RFC 2045 2.10): a lone CR becomes a space and a last
 *	line without a line ending gets one, as Postfix's sendmail and
 *	cleanup make the plaintext copy that an MTA passes on.
 *--*/
#ifndef PS_EOLCONV_H
#define PS_EOLCONV_H

#include <stddef.h>
#include <sys/types.h>

#include "pslimits.h"

struct eolconv {
	int fd;
	off_t off, end;
	char in[PS_IO_CHUNK];
	size_t ipos, ilen;
	int pending_cr;
	int crlf;      /* 1: CRLF, 0: LF */
	int canonical; /* lone CR to a space, the last line ended */
	int at_bol;    /* nothing yet, or the last byte out ended a line */
};

void eolconv_init(struct eolconv *c, int fd, off_t len, int crlf);

/* Up to outlen (>= 2) bytes; 0 at the end, -1 on a read error. */
ssize_t eolconv_read(struct eolconv *c, char *out, size_t outlen);

/* Copy the whole converted stream to out_fd. */
int eolconv_copy(struct eolconv *c, int out_fd);

#endif
