/*++
 * NAME
 *	keyblock 3h
 * SUMMARY
 *	check a key reply from the network before gpg sees it
 * DESCRIPTION
 *	keyblock_check() takes the body of a WKD, VKS or HKP reply or the
 *	RDATA of DANE OPENPGPKEY records and accepts it only if it is a
 *	sequence of OpenPGP transferable public keys (RFC 4880 section 11.1;
 *	RFC 9580 section 10.1), binary or ASCII-armored ("PUBLIC KEY BLOCK",
 *	the CRC-24 checked when present). Every packet header is walked:
 *	  - the first packet is a public key (tag 6);
 *	  - only public keys, public subkeys, user IDs, user attributes,
 *	    signatures and trust packets may follow: a secret key, a
 *	    message, a literal data packet or anything else is refused;
 *	  - lengths must stay inside the data, partial lengths (for data
 *	    packets only) are refused;
 *	  - at most KEYBLOCK_KEYS_MAX primary keys and KEYBLOCK_PACKETS_MAX
 *	    packets (a flooded key carries thousands of signatures: gpg's
 *	    import filter drops them, but the count is capped first).
 *	On success the binary form is left in out (dearmored) and the number
 *	of primary keys is returned; on failure -1 with a reason in why.
 *
 *	Pure: no I/O, no allocation beyond out (capped at the input size).
 *--*/
#ifndef PS_KEYBLOCK_H
#define PS_KEYBLOCK_H

#include <stddef.h>

#include "buf.h"

#define KEYBLOCK_KEYS_MAX 16
#define KEYBLOCK_PACKETS_MAX 8192

int keyblock_check(const unsigned char *in, size_t len, struct buf *out,
		   char *why, size_t whylen);

/* The fingerprints of the primary keys of a checked binary key block
 * (keyblock_check()'s out), upper-case hex, at most max; -1 when one of
 * them is not a version 4 key (the caller then lets gpg tell). */
int keyblock_fprs(const unsigned char *p, size_t n, char (*out)[41], size_t max);

/* CRC-24 of RFC 4880 section 6.1 (exposed for its test vector). */
unsigned long keyblock_crc24(const unsigned char *p, size_t n);

#endif
