/*++
 * NAME
 *	store 3h
 * SUMMARY
 *	postseal's own keyring for discovered keys
 * DESCRIPTION
 *	Keys found in WKD, DANE or on keyservers never go into the user's
 *	keyring. store_path() names postseal's: $XDG_CACHE_HOME/postseal/gnupg
 *	(or ~/.cache/postseal/gnupg). store_open() creates it (0700) with a
 *	gpg.conf that imports self-signatures only and cleans keys, so that
 *	third-party signatures from a flooded key (CVE-2019-13050) never
 *	land, and returns a GPGME context on it.
 *
 *	store_import() imports a reply for one address, keeping only user IDs
 *	whose mail address is exactly that address (GnuPG's import filter
 *	keep-uid=mbox), then judges the result with keyring_lookup(): LK_FOUND
 *	with the chosen key, or LK_BAD when nothing usable came in.
 *--*/
#ifndef PS_STORE_H
#define PS_STORE_H

#include <stddef.h>

#include <gpgme.h>

#include "lookup.h"
#include "status.h"

int store_path(char *out, size_t outlen);

enum ps_status store_open(const char *dir, gpgme_ctx_t *ctx, char *why,
			  size_t whylen);

enum lk_result store_import(gpgme_ctx_t ctx, const char *addr,
			    const struct buf *data, gpgme_key_t *key, char *why,
			    size_t whylen);

#endif
