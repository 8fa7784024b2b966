/*++
 * NAME
 *	pgpmsg 3h
 * SUMMARY
 *	is a stream of OpenPGP packets exactly one encrypted message?
 * DESCRIPTION
 *	pgpmsg_feed() takes the binary packets in pieces of any size (as the
 *	armor decoder hands them over) and walks every packet header, old
 *	and new format (RFC 9580 section 4.2), as keyblock.c walks keys. It
 *	accepts only the grammar
 *	    ESK... DATA
 *	where
 *	  - ESK is a public-key encrypted session key packet (tag 1,
 *	    version 3 or 6) or a symmetric-key one (tag 3, version 4, 5 or
 *	    6), of definite length, at most PS_SEALED_ESK_LEN_MAX octets,
 *	    one or more, at most PS_SEALED_ESK_MAX;
 *	  - DATA is one symmetrically encrypted integrity protected data
 *	    packet (tag 18, version 1 or 2) or one AEAD encrypted data
 *	    packet (tag 20, version 1, GnuPG's OCB mode), of definite or
 *	    partial length (the first part at least 512 octets, RFC 9580
 *	    section 4.2.1.4), not shorter than any such packet can be, and
 *	    ending exactly where the stream ends.
 *	Refused: the symmetrically encrypted data packet without integrity
 *	protection (tag 9: insecure, and no one writes it any more), marker
 *	and padding packets, and every other packet (literal, compressed,
 *	signature, keys...); input refused here is not "already encrypted",
 *	so postseal encrypts it again, which is harmless.
 *
 *	Also refused: encrypted data whose first octets (up to 256) look
 *	like text, more than 7/8 of them printable ASCII or in well-formed
 *	UTF-8 sequences. Ciphertext cannot be told from random octets, of
 *	which about 44% qualify: a real message is refused with a chance of
 *	about 2e-7 for the smallest possible one (32 octets to judge) and
 *	below 1e-12 from 64 octets on (it is then merely encrypted again),
 *	while plaintext given a hand-made packet header does not pass.
 *
 *	For each PKESK the recipient's identity is kept: a v3 PKESK names a
 *	key ID, a v6 PKESK a key version and fingerprint (the key ID is
 *	derived: the low 64 bits of a v4 fingerprint, the high 64 bits of a
 *	v6 one). An all-zero key ID or an empty v6 recipient is anonymous
 *	("hidden recipient", gpg --throw-keyids).
 *
 *	Memory is fixed (struct pgpmsg and the caller's array); no I/O, no
 *	allocation. Errors: -1 with a static reason in w->why.
 *--*/
#ifndef PS_PGPMSG_H
#define PS_PGPMSG_H

#include <stddef.h>
#include <stdint.h>

#include "pslimits.h"

struct pgpmsg_pkesk {
	unsigned char version;	 /* 3 or 6 */
	unsigned char keyid[8];
	unsigned char fpr[32];	 /* v6 PKESK: the fingerprint */
	unsigned char fprlen;	 /* 0 (v3), 20 (a v4 key) or 32 (a v6 key) */
	unsigned char anonymous; /* no recipient named */
};

struct pgpmsg {
	int state;
	unsigned char hdr[6]; /* the packet or length header being read */
	size_t nhdr, hdrlen;
	int more;	      /* reading the length of a further part */
	unsigned tag;
	uint64_t left;	      /* octets left in the current packet or part */
	int partial;	      /* the current part is not the last */
	unsigned char esk[64]; /* the start of a session key packet */
	size_t nesk;
	uint64_t esklen;
	size_t npkesk, nskesk;
	struct pgpmsg_pkesk *pkesk; /* the caller's, pkesk_max entries */
	size_t pkesk_max;
	uint64_t datalen;	       /* octets of the data packet so far */
	unsigned char sample[257];     /* its first octets */
	size_t nsample;
	const char *why;
	char whybuf[96];
};

void pgpmsg_init(struct pgpmsg *w, struct pgpmsg_pkesk *pkesk, size_t pkesk_max);

/* 0, or -1 once the stream cannot be one encrypted message (w->why). */
int pgpmsg_feed(struct pgpmsg *w, const unsigned char *p, size_t n);

/* 0 when the stream was exactly one complete encrypted message. */
int pgpmsg_end(struct pgpmsg *w);

/* Whether p[0..n) looks like text (exposed for the tests). */
int pgpmsg_looks_like_text(const unsigned char *p, size_t n);

#endif
