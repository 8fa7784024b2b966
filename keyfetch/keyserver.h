/*++
 * NAME
 *	keyserver 3h
 * SUMMARY
 *	keyserver lookup URLs: VKS (keys.openpgp.org) and HKP
 * DESCRIPTION
 *	keyserver_url() builds the by-address lookup URL on a configured
 *	keyserver base URL (https only: "https://HOST[:PORT][/PREFIX]"):
 *	  VKS  BASE/vks/v1/by-email/ADDRESS
 *	  HKP  BASE/pks/lookup?op=get&options=mr&search=ADDRESS
 *	ADDRESS is percent-escaped (RFC 3986 unreserved characters stay).
 *	Both sources are off unless the site configuration names a server.
 *	VKS publishes a user ID only after its owner confirmed the address;
 *	HKP (SKS and its successors) publishes whatever anyone uploads, so a
 *	key from HKP never satisfies a requirement on its own.
 *
 *	Pure functions; -1 when the base is not an https URL or the result
 *	does not fit.
 *--*/
#ifndef PS_KEYSERVER_H
#define PS_KEYSERVER_H

#include <stddef.h>

enum ks_kind { KS_VKS, KS_HKP };

int keyserver_url(const char *base, enum ks_kind kind, const char *addr,
		  char *out, size_t outlen);

/* The base URL is acceptable (https, a host, no query or fragment). */
int keyserver_base_ok(const char *base);

#endif
