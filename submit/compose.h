/*++
 * NAME
 *	compose 3h
 * SUMMARY
 *	write the copies that are handed to the MTA
 * DESCRIPTION
 *	compose_plain() writes the message as submitted, minus Bcc and
 *	Resent-Bcc, with LF line endings (the local sendmail convention).
 *
 *	compose_encrypted() writes an RFC 3156 multipart/encrypted message.
 *	The encrypted part is a MIME entity carrying the original body and,
 *	as RFC 9788 header protection, the original header fields; its
 *	Content-Type has hp="cipher" and the legacy protected-headers="v1"
 *	(which Thunderbird shows). HP-Outer fields record every non-structural
 *	field of the outer header. Outside, the routing fields stay as they
 *	were, Subject becomes "[...]" (when protect_subject), Keywords and
 *	Comments are left out (RFC 9788 hcp_baseline). The inner entity is
 *	canonical (CRLF). Encryption streams through GPGME data callbacks;
 *	nothing is held whole in memory but the header.
 *
 *	Both return PS_TEMPFAIL on local trouble; compose_encrypted() also
 *	fails when GPGME reports any invalid recipient.
 *--*/
#ifndef PS_COMPOSE_H
#define PS_COMPOSE_H

#include <gpgme.h>

#include "buf.h"
#include "intake.h"
#include "status.h"

/* Whether the header marks the message as PGP/MIME already. */
int compose_is_pgp_mime(const struct header *h);

/* The inner (protected) header of an encrypted copy, CRLF, ending with
 * the empty line. */
int compose_inner_header(const struct header *h, int protect_subject,
			 struct buf *out);

/* The outer header and the MIME preamble up to the armored data, LF. */
int compose_outer_header(const struct header *h, int protect_subject,
			 const char *boundary, struct buf *out);

enum ps_status compose_plain(const struct message *m, int out_fd, char *why,
			     size_t whylen);

/* fprs: the keys' fingerprints, NULL-terminated, each in ctx's keyring
 * and already judged usable (keyring_key_usable()): gpg is not asked to
 * list them again, only to encrypt. */
enum ps_status compose_encrypted(const struct message *m, gpgme_ctx_t ctx,
				 const char *const *fprs, int protect_subject,
				 int out_fd, char *why, size_t whylen);

#endif
