/*++
 * NAME
 *	keyring 3h
 * SUMMARY
 *	find recipients' keys in the user's GnuPG keyring (GPGME)
 * DESCRIPTION
 *	keyring_init() checks the GPGME and gpg engine versions once per
 *	process. keyring_lookup() lists, in one gpg run, the keys of all
 *	given addresses and picks for each the key that:
 *	  - is not expired, revoked, disabled or invalid;
 *	  - has a usable (not expired, revoked, disabled, invalid)
 *	    encryption subkey;
 *	  - has a user ID, not revoked or invalid, whose address is exactly
 *	    the recipient's: local part as given, domain in any case.
 *	When several keys qualify, the one whose newest usable encryption
 *	subkey is newest wins, never "the first one listed".
 *
 *	out[i] receives a reference (gpgme_key_unref() it) or NULL when the
 *	keyring holds no usable key for addrs[i]. GPGME runs gpg: this module
 *	forks and execs through GPGME only.
 *--*/
#ifndef PS_KEYRING_H
#define PS_KEYRING_H

#include <stddef.h>

#include <gpgme.h>

#include "status.h"

enum ps_status keyring_init(char *why, size_t whylen);

enum ps_status keyring_context(gpgme_ctx_t *ctx, char *why, size_t whylen);

enum ps_status keyring_lookup(gpgme_ctx_t ctx, char *const *addrs, size_t n,
			      gpgme_key_t *out, char *why, size_t whylen);

/* The creation time of key's newest usable encryption subkey if key is
 * acceptable for addr, else -1. */
long keyring_key_usable(gpgme_key_t key, const char *addr);

#endif
