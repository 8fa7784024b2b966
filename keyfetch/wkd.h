/*++
 * NAME
 *	wkd 3h
 * SUMMARY
 *	Web Key Directory names (draft-koch-openpgp-webkey-service)
 * DESCRIPTION
 *	wkd_hash() is the z-base-32 form of SHA-1 over the ASCII-lowercased
 *	local part: the file name under .../hu/. wkd_url_advanced() and
 *	wkd_url_direct() build the two lookup URLs:
 *	  https://openpgpkey.DOMAIN/.well-known/openpgpkey/DOMAIN/hu/HASH?l=LOCAL
 *	  https://DOMAIN/.well-known/openpgpkey/hu/HASH?l=LOCAL
 *	and wkd_url_policy() the policy file of either method.
 *	DOMAIN is lowercased; LOCAL is the local part as given, percent-escaped
 *	(RFC 3986 unreserved characters stay as they are).
 *
 *	Pure functions: no I/O. They return -1 when the address has no '@'
 *	or the result does not fit.
 *--*/
#ifndef PS_WKD_H
#define PS_WKD_H

#include <stddef.h>

/* z-base-32 (as used by WKD) of n bytes; out needs (n*8+4)/5+1 bytes. */
int zbase32_encode(const unsigned char *in, size_t n, char *out, size_t outlen);

/* The 32-character hash of a local part (lp[0..lplen)). */
int wkd_hash(const char *lp, size_t lplen, char out[33]);

int wkd_url_advanced(const char *addr, char *out, size_t outlen);
int wkd_url_direct(const char *addr, char *out, size_t outlen);

/* The domain's policy file (advanced or direct): a domain that serves
 * WKD must serve it, so its absence (404) proves the domain has none. */
int wkd_url_policy(const char *addr, int advanced, char *out, size_t outlen);

#endif
