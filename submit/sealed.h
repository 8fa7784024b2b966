/*++
 * NAME
 *	sealed 3h
 * SUMMARY
 *	is the submitted message already encrypted?
 * DESCRIPTION
 *	A message that is already encrypted passes through untouched; one
 *	that is not must never be mistaken for it, or it would leave in
 *	plaintext. message_is_sealed() therefore accepts only:
 *	  - PGP/MIME (RFC 3156): Content-Type multipart/encrypted with
 *	    protocol application/pgp-encrypted, exactly two parts, the first
 *	    "Version: 1", the second one armored OpenPGP message, nothing but
 *	    white space after the closing delimiter;
 *	  - inline PGP: a body that is exactly one armored OpenPGP message,
 *	    blank lines around it allowed.
 *	An armored message qualifies when its armor headers are RFC 4880
 *	ones (Version, Comment, MessageID, Hash, Charset), its data lines are
 *	radix-64 only, it carries at least a minimal amount of data, and its
 *	first packet is a public-key or symmetric-key encrypted session key
 *	(tags 1 or 3): a text that merely looks like armor does not.
 *	Reads the spool with pread(); memory is fixed.
 *--*/
#ifndef PS_SEALED_H
#define PS_SEALED_H

#include "intake.h"

int message_is_sealed(const struct message *m);

/* The parts, for tests and the fuzzer. */
int sealed_inline(const struct message *m);
int sealed_pgp_mime(const struct message *m, const char *boundary);

#endif
