/*++
 * NAME
 *	keyring 3h
 * SUMMARY
 *	find recipients' keys in the user's GnuPG keyring (GPGME)
 * DESCRIPTION
 *	keyring_open() checks the GPGME and gpg engine versions once per
 *	process and gives a context on a keyring. keyring_lookup() lists, in one gpg run, the keys of all
 *	given addresses and picks for each the key that:
 *	  - is not expired, revoked, disabled or invalid, nor created in
 *	    the future;
 *	  - has a usable (not expired, revoked, disabled, invalid, nor
 *	    created in the future) encryption subkey;
 *	  - has a user ID, not revoked or invalid, whose address is the
 *	    recipient's mailbox: equal canonical forms (addr_canonical():
 *	    local part in any ASCII case and without unneeded quotes,
 *	    domain in A-labels), an extension included.
 *	gpg is asked for the canonical form, the address as written, and
 *	the canonical form with its domain in U-labels (gpg's "<addr>"
 *	search ignores ASCII case only).
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

#include <time.h>

/* How long a remembered lookup (keyring_stamp()) may stand at most. */
#define KEYRING_MEMO_MAX (24 * 3600)

/* A context on the keyring in dir, or the user's (dir NULL). GPGME runs
 * "gpg --version" once per process and again for every context with a
 * home directory of its own, so the first keyring opened becomes the
 * process default (GNUPGHOME, env_gnupghome_override()) and costs no
 * second run. */
enum ps_status keyring_open(const char *dir, gpgme_ctx_t *ctx, char *why,
			    size_t whylen);

/* The user's GnuPG home as gpg finds it: $GNUPGHOME, else ~/.gnupg. */
int keyring_user_home(char *out, size_t outlen);

/* until[i] (may be NULL): when the answer for addrs[i] can change by
 * time alone (a listed key or subkey expires or becomes valid), at most
 * KEYRING_MEMO_MAX from now. */
enum ps_status keyring_lookup(gpgme_ctx_t ctx, char *const *addrs, size_t n,
			      gpgme_key_t *out, time_t *until, char *why,
			      size_t whylen);

/* The identity (device, inode, size, mtime, ctime) of the files of the
 * GnuPG home dir that decide what gpg lists: the keyrings, the trust
 * database (the "disabled" flag), gpg.conf and common.conf. A lookup
 * remembered with a stamp stands while the stamp is the same. Returns 0,
 * 1 when a file changed within the last second (a change within the
 * file system's time granularity could leave the stamp alike: do not
 * remember under it), or -1. Called again after a listing, with the
 * same now as before it: a file changed in now's second, or the one
 * before, makes the answer "do not remember" (git's racy-clean rule,
 * with a second of slack for the file system's clock). */
int keyring_stamp(const char *dir, time_t now, char *out, size_t outlen);

/* The earliest time after now, and before limit, at which a (sub)key of
 * key expires or becomes valid; limit if none. */
time_t keyring_key_horizon(gpgme_key_t key, time_t now, time_t limit);

/* The creation time of key's newest usable encryption subkey if key is
 * acceptable for addr at now, else -1. A key or subkey created after now
 * is not usable (yet): gpg would refuse to encrypt to it. */
long keyring_key_usable(gpgme_key_t key, const char *addr, time_t now);

/* 1 when gpg said, during the last operation on ctx, that it could not
 * read part of the keyring (a damaged pubring.kbx lists only what can
 * be read, and GPGME reports success): why says so. */
int keyring_damaged(gpgme_ctx_t ctx, char *why, size_t whylen);

#endif
