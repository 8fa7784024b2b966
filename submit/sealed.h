/*++
 * NAME
 *	sealed 3h
 * SUMMARY
 *	is the submitted message already encrypted, and to whom?
 * DESCRIPTION
 *	A message that is already encrypted passes through as it is; one
 *	that is not must never be mistaken for it, or it would leave in
 *	plaintext. sealed_examine() accepts exactly two forms:
 *
 *	Inline: no Content-Type or text/plain, and a body that is exactly
 *	one armored OpenPGP message (armor.h) with blank lines around it.
 *
 *	PGP/MIME (RFC 3156): Content-Type multipart/encrypted with
 *	protocol="application/pgp-encrypted" and a valid boundary (1 to 70
 *	characters of RFC 2046's bchars), whose body is
 *	  - a preamble that is empty, or at most PS_SEALED_PREAMBLE_LINES
 *	    lines of the fixed vocabulary below ("This is an OpenPGP/MIME
 *	    encrypted message (RFC 4880 and 3156)" and its variants);
 *	  - exactly two parts, each with only these part header fields, each
 *	    at most once: Content-Type (required: application/pgp-encrypted
 *	    without parameters for the first part, application/octet-stream
 *	    for the second, whose only parameter may be name=),
 *	    Content-Description, Content-Disposition (inline or attachment,
 *	    its only parameter filename=) and Content-Transfer-Encoding
 *	    (7bit); the texts of Content-Description, name= and filename=
 *	    are of the vocabulary too;
 *	  - the first part's body "Version: 1" with blank lines around it;
 *	  - the second part's body one armored OpenPGP message, blank lines
 *	    around it;
 *	  - nothing but white space after the closing delimiter.
 *	A line that begins with the delimiter but is not one is refused, so
 *	that no reader can split the body differently.
 *	In both forms a Content-Transfer-Encoding, if any, is 7bit or 8bit
 *	(nothing a reader would decode into something else), and the message
 *	header has at most one Content-Type and one Content-Transfer-Encoding.
 *
 *	The vocabulary: a, an, and, asc, data, digitally, encrypted,
 *	encryption, format, gpg, identification, in, information, is,
 *	message, mime, msg, multi, multipart, of, openpgp, part, pgp, rfc,
 *	the, this, version, versions, and the numbers 1847, 2015, 2440,
 *	3156, 4880, 9580; any case, separated by anything but letters and
 *	digits, printable ASCII only, at most 200 characters. Texts made of
 *	these words carry no message.
 *
 *	The armored message must be exactly one encrypted OpenPGP message
 *	(pgpmsg.h): session key packets and one encrypted data packet,
 *	nothing else. The key IDs its PKESK packets name are returned, for
 *	the policy (submit.c) to check that each recipient who must get
 *	encrypted mail is among them.
 *
 *	The body is read from its spool file with pread(), a line at a
 *	time; memory is fixed (a read buffer of PS_IO_CHUNK, lines of at
 *	most PS_SEALED_LINE_MAX), whatever the size of the message.
 *	sealed_examine() returns 1 when the message is sealed, else 0 with
 *	the reason in si->why; it does not log.
 *--*/
#ifndef PS_SEALED_H
#define PS_SEALED_H

#include <gpgme.h>

#include "intake.h"
#include "pgpmsg.h"
#include "pslimits.h"

enum sealed_kind { SEALED_NO, SEALED_INLINE, SEALED_PGP_MIME };

struct sealed_info {
	enum sealed_kind kind;
	int claimed;	     /* it said it was encrypted (multipart/encrypted, or an
				armor header line): worth a word when refused */
	size_t npkesk;	     /* PKESK packets, anonymous ones included */
	size_t nskesk;	     /* SKESK packets (a password) */
	struct pgpmsg_pkesk pkesk[PS_SEALED_ESK_MAX];
	char why[PS_WHY_MAX]; /* when it is not sealed */
};

/* 1 and si filled when m is already encrypted, 0 with si->why if not.
 * si is large (allocate it). */
int sealed_examine(const struct message *m, struct sealed_info *si);

/* sealed_examine() without the details. */
int message_is_sealed(const struct message *m);

/* Whether a PKESK of the sealed message names the (sub)key with this key
 * ID (16 hex digits, any case) and, for a v6 PKESK, when fpr is not
 * NULL, this fingerprint (hex). Anonymous recipients name no key. */
int sealed_names_key(const struct sealed_info *si, const char *keyid, const char *fpr);

/* Whether a PKESK names the key postseal would encrypt to: the primary
 * key or a subkey of key, either able to encrypt now (not revoked,
 * expired, disabled or invalid). Reads the key, runs nothing. */
int sealed_names_gpgme_key(const struct sealed_info *si, gpgme_key_t key);

#endif
